/* tss/inbox.h — intake of protocol messages for the round-based state machines.
 * Checks every header field before any payload is looked at (protocol, version, flags,
 * session id, sender in the party set, addressed to us, round current or next and within
 * the protocol's rounds, not a
 * duplicate, exact payload length) and buffers accepted payloads per (round, sender)
 * until the state machine processes the round (payloads of confidential rounds in locked,
 * non-dumpable memory). Rejections leave the inbox unchanged. */
#ifndef TSS_INBOX_H
#define TSS_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define TSS_INBOX_ROUNDS 4

typedef struct {
    uint8_t protocol;
    uint8_t rounds; /* the protocol's last round (signing 3, DKG 4); later ones are rejected */
    uint16_t me;
    uint8_t sid[32];
    uint64_t peers;                         /* bit j set: j may send to us */
    uint64_t senders[TSS_INBOX_ROUNDS + 1]; /* per round: who sends in it; 0 = every peer */
    size_t payload_len[TSS_INBOX_ROUNDS + 1][TSS_MAX_PARTIES + 1]; /* per round, sender */
    uint8_t confidential; /* bit r set: round r is confidential */
    uint8_t *payload[TSS_INBOX_ROUNDS + 1][TSS_MAX_PARTIES + 1];
    int count[TSS_INBOX_ROUNDS + 1]; /* peers' payloads held per round */
} tss_inbox;

/* Validates msg against the inbox's rules while `current` is the round being collected
 * (messages for current + 1 are held early). On TSS_OK the payload is copied in. Errors:
 * TSS_ERR_LENGTH, _FORMAT, _SESSION, _PARTY, _ROUND, _NOMEM; the inbox is unchanged. */
tss_err tss_inbox_accept(tss_inbox *ib, int current, const uint8_t *msg, size_t len);

/* 1 when every peer's payload for round r is in. */
int tss_inbox_complete(const tss_inbox *ib, int r);

/* Stores our own payload for round r (so processing can treat all parties alike). */
tss_err tss_inbox_keep_own(tss_inbox *ib, int r, const uint8_t *payload, size_t len);

/* Zeroizes and frees every held payload. */
void tss_inbox_clear(tss_inbox *ib);

/* For tss_dkg_clone / tss_sign_clone (tss/testing.h): dst = a deep copy of src (payloads
 * of confidential rounds again in secure memory). On TSS_ERR_NOMEM dst holds no payload. */
tss_err tss_inbox_copy(tss_inbox *dst, const tss_inbox *src);

#endif
