/* tss/msg.h — the envelope of every protocol message the state machines exchange.
 * A message is a 44-byte header followed by the payload:
 *   protocol u8 | version u8 | round u8 | flags u8 | from u16 | to u16 | session id [32] |
 *   payload length u32        (integers big-endian)
 * The state machines check every header field before they touch a payload. Outbound
 * messages are heap buffers owned by a tss_msgs list; free it with tss_msgs_free, which
 * zeroizes (confidential payloads carry secret shares). */
#ifndef TSS_MSG_H
#define TSS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TSS_MSG_HEADER_BYTES 44
#define TSS_MSG_VERSION      1
#define TSS_MAX_PARTIES      32

enum { TSS_PROTO_DKG = 1, TSS_PROTO_SIGN = 2, TSS_PROTO_RESHARE = 3 };

/* flags */
#define TSS_MSG_CONFIDENTIAL 0x01 /* payload holds secrets: the transport must encrypt it */

typedef struct {
    uint8_t protocol, version, round, flags;
    uint16_t from, to;
    uint8_t sid[32];
    uint32_t payload_len;
} tss_msg_header;

typedef struct {
    uint8_t *data; /* header + payload */
    size_t len;
    uint16_t to;      /* recipient party index */
    int confidential; /* copy of TSS_MSG_CONFIDENTIAL for the transport */
} tss_msg;

typedef struct {
    tss_msg *items;
    size_t count;
} tss_msgs;

/* Parses the header of buf[0..len). TSS_ERR_LENGTH unless len == header + payload_len;
 * TSS_ERR_FORMAT on an unknown version or flag bit. */
tss_err tss_msg_parse_header(tss_msg_header *h, const uint8_t *buf, size_t len);

/* Appends a message (header built from the arguments, payload copied) to out. */
tss_err tss_msgs_append(tss_msgs *out, uint8_t protocol, uint8_t round, uint8_t flags,
                        uint16_t from, uint16_t to, const uint8_t sid[32], const uint8_t *payload,
                        size_t payload_len);

/* Zeroizes and frees every message, leaves *m empty. An item whose data the caller took
 * over (set to NULL) is skipped. */
void tss_msgs_free(tss_msgs *m);

/* Zeroizes and frees the messages after the first `keep` (the state machines undo what an
 * aborting call appended); with keep == 0 the same as tss_msgs_free. */
void tss_msgs_truncate(tss_msgs *m, size_t keep);

#endif
