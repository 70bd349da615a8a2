/* tss/inbox.c — message intake shared by the DKG and signing state machines. */
#include "inbox.h"

#include <stdlib.h>
#include <string.h>

#include "secmem.h"
#include "transcript.h"

/* The parties that send in round r: the peers, unless the protocol named a subset (the
 * reshare's last round comes from the new committee only). */
static uint64_t round_senders(const tss_inbox *ib, int r)
{
    return ib->senders[r] != 0 ? ib->senders[r] & ib->peers : ib->peers;
}

/* Payloads of confidential rounds (secret shares) live in locked, non-dumpable memory. */
static int inbox_secret(const tss_inbox *ib, int r)
{
    return (ib->confidential >> r) & 1;
}

static uint8_t *inbox_alloc(const tss_inbox *ib, int r, size_t len)
{
    if (len == 0)
        len = 1;
    return inbox_secret(ib, r) ? tss_secmem_alloc(len) : malloc(len);
}

tss_err tss_inbox_accept(tss_inbox *ib, int current, const uint8_t *msg, size_t len)
{
    tss_msg_header h;
    tss_err err = tss_msg_parse_header(&h, msg, len);
    if (err != TSS_OK)
        return err;
    if (h.protocol != ib->protocol)
        return TSS_ERR_FORMAT;
    if (!tss_ct_eq(h.sid, ib->sid, 32))
        return TSS_ERR_SESSION;
    if (h.to != ib->me || h.from > TSS_MAX_PARTIES || !((ib->peers >> h.from) & 1))
        return TSS_ERR_PARTY;
    if (h.round < 1 || h.round > ib->rounds || h.round > TSS_INBOX_ROUNDS ||
        (h.round != current && h.round != current + 1))
        return TSS_ERR_ROUND;
    if (!((round_senders(ib, h.round) >> h.from) & 1))
        return TSS_ERR_PARTY; /* a peer that has nothing to send in this round */
    if (ib->payload[h.round][h.from] != NULL)
        return TSS_ERR_ROUND; /* duplicate or replay */
    if (((h.flags & TSS_MSG_CONFIDENTIAL) != 0) != ((ib->confidential >> h.round) & 1))
        return TSS_ERR_FORMAT;
    if (h.payload_len != ib->payload_len[h.round][h.from])
        return TSS_ERR_LENGTH;
    uint8_t *copy = inbox_alloc(ib, h.round, h.payload_len);
    if (copy == NULL)
        return TSS_ERR_NOMEM;
    memcpy(copy, msg + TSS_MSG_HEADER_BYTES, h.payload_len);
    ib->payload[h.round][h.from] = copy;
    ib->count[h.round]++;
    return TSS_OK;
}

int tss_inbox_complete(const tss_inbox *ib, int r)
{
    return r >= 1 && r <= ib->rounds && r <= TSS_INBOX_ROUNDS &&
           ib->count[r] == __builtin_popcountll(round_senders(ib, r));
}

tss_err tss_inbox_keep_own(tss_inbox *ib, int r, const uint8_t *payload, size_t len)
{
    ib->payload_len[r][ib->me] = len;
    uint8_t *copy = inbox_alloc(ib, r, len);
    if (copy == NULL)
        return TSS_ERR_NOMEM;
    memcpy(copy, payload, len);
    ib->payload[r][ib->me] = copy;
    return TSS_OK;
}

void tss_inbox_clear(tss_inbox *ib)
{
    for (int r = 1; r <= TSS_INBOX_ROUNDS; r++) {
        for (int j = 0; j <= TSS_MAX_PARTIES; j++) {
            if (ib->payload[r][j] == NULL)
                continue;
            if (inbox_secret(ib, r)) {
                tss_secmem_free(ib->payload[r][j]); /* wipes */
            } else {
                tss_memzero(ib->payload[r][j], ib->payload_len[r][j]);
                free(ib->payload[r][j]);
            }
            ib->payload[r][j] = NULL;
        }
        ib->count[r] = 0;
    }
}

tss_err tss_inbox_copy(tss_inbox *dst, const tss_inbox *src)
{
    *dst = *src;
    memset(dst->payload, 0, sizeof dst->payload); /* nothing shared with src */
    for (int r = 1; r <= TSS_INBOX_ROUNDS; r++) {
        for (int j = 0; j <= TSS_MAX_PARTIES; j++) {
            if (src->payload[r][j] == NULL)
                continue;
            uint8_t *copy = inbox_alloc(dst, r, src->payload_len[r][j]);
            if (copy == NULL) {
                tss_inbox_clear(dst);
                return TSS_ERR_NOMEM;
            }
            memcpy(copy, src->payload[r][j], src->payload_len[r][j]);
            dst->payload[r][j] = copy;
        }
    }
    return TSS_OK;
}
