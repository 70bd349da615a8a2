/* api/frame.h — the party-link wire format (signer <-> hub), see api/PARTY_LINK.md.
 * A frame is one binary WebSocket message: a fixed 32-byte big-endian header followed by
 * exactly payload_len bytes of payload. The decoder is strict (every reserved bit zero,
 * every length exact) and never reads past the buffer it is given; it is fuzzed. Protocol
 * payloads are opaque bytes here: the hub routes them by (session, to) without decoding. */
#ifndef API_FRAME_H
#define API_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define API_FRAME_VERSION      1
#define API_FRAME_HEADER_BYTES 32
#define API_FRAME_MAX_PAYLOAD  (1u << 20) /* 1 MiB: far above any DKLs23 message */
#define API_SESSION_ID_BYTES   16
#define API_PARTY_HUB          0   /* index of the hub in from/to */
#define API_PARTY_MAX_INDEX    255 /* party indices are 1..n, n <= API_MAX_PARTIES */

typedef enum {
    API_FRAME_HELLO = 1,         /* signer -> hub, first frame: JSON {version, backend} */
    API_FRAME_SESSION_START = 2, /* hub -> signer: JSON session description */
    API_FRAME_PROTOCOL = 3,      /* signer -> hub -> signer: opaque, end-to-end sealed */
    API_FRAME_RESULT = 4,        /* signer -> hub: JSON result of a session */
    API_FRAME_ABORT = 5,         /* either way: JSON {reason, culprit} */
    API_FRAME_PING = 6,          /* either way: liveness; answered with PONG */
    API_FRAME_PONG = 7,          /* answer to PING, same payload */
    API_FRAME_ACTIVATE = 8,      /* hub -> signer: JSON {key_id, attestations}: all n are durable */
    API_FRAME_RETIRE = 9, /* hub -> signer: JSON {key_id, epoch}: delete that epoch's share */
    API_FRAME__MAX = API_FRAME_RETIRE
} api_frame_type;

typedef struct {
    uint8_t version;
    uint8_t type; /* api_frame_type */
    uint16_t flags;
    uint8_t session[API_SESSION_ID_BYTES];
    uint16_t from; /* party index 1..n, or API_PARTY_HUB */
    uint16_t to;   /* party index 1..n, or API_PARTY_HUB */
    uint32_t round;
    uint32_t payload_len;
    const uint8_t *payload; /* decode: points into the caller's buffer; encode: source */
} api_frame;

/* Parses buf[0..len) into f. f->payload points into buf (no copy, no allocation). Fails
 * with API_ERR_FRAME_LENGTH if the header's length disagrees with len or exceeds the limit,
 * API_ERR_FRAME_VERSION / _TYPE for an unknown version or type, API_ERR_FRAME for any other
 * rule of PARTY_LINK.md (reserved flags, session id or indices not allowed for the type). */
api_err api_frame_decode(api_frame *f, const uint8_t *buf, size_t len);

/* Checks f against the same rules as the decoder (version is set to API_FRAME_VERSION by
 * the encoder) and writes header + payload to out[0..cap). *out_len = bytes written.
 * API_ERR_FRAME_LENGTH if cap is too small. */
api_err api_frame_encode(uint8_t *out, size_t cap, size_t *out_len, const api_frame *f);

/* Bytes a frame with this payload length occupies. */
static inline size_t api_frame_size(size_t payload_len)
{
    return API_FRAME_HEADER_BYTES + payload_len;
}

/* Name of a frame type for logs ("protocol"); "unknown" otherwise. */
const char *api_frame_type_name(unsigned type);

#endif
