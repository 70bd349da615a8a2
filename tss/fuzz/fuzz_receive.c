/* tss/fuzz/fuzz_receive.c — libFuzzer target for message intake of the DKG and signing
 * state machines (party 1 of 2-of-3, freshly started).
 * Input byte 0 selects: bit 0 DKG or signing; bit 1 deliver the rest raw, or wrapped in a
 * well-formed header for round 1 + bits 2-3 with exactly the expected payload length, so
 * the header and length checks pass. For signing with signers {1, 2} one peer message
 * completes a round, so a wrapped round-1 message reaches the VOLE parsing and checks
 * (Alice's OT-extension check on fuzzed data). For the DKG, which needs both peers,
 * this exercises intake only. Nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_rng.h"
#include "tss/dkg.h"
#include "tss/secmem.h"
#include "tss/sign.h"
#include "tss_dealer.h"
#include "tss_sim.h"

static tss_keyshare *shares[TSS_MAX_PARTIES + 1];
static tss_banlist *bans; /* party 1's; a ban it records is lifted after the run */
static const uint8_t SID[32] = {7};

static void init_shares(void)
{
    test_rng r;
    test_rng_init(&r, 2);
    if (dealer_split(shares, 2, 3, NULL, NULL, &r) != TSS_OK ||
        tss_banlist_new(&bans, sim_ban_persist, NULL) != TSS_OK)
        abort();
}

static int no_store(void *ctx, const uint8_t sid[32])
{
    (void)ctx, (void)sid;
    return 0;
}

/* Builds header(protocol, round, from 2 to 1) + payload of exactly plen bytes from data. */
static uint8_t *wrap(uint8_t protocol, uint8_t round, const uint8_t *data, size_t size, size_t plen,
                     size_t *len)
{
    tss_msgs m = {0};
    uint8_t *payload = calloc(1, plen ? plen : 1);
    if (payload == NULL)
        return NULL;
    memcpy(payload, data, size < plen ? size : plen);
    uint8_t flags = (protocol == TSS_PROTO_DKG && round == 3) ? TSS_MSG_CONFIDENTIAL : 0;
    tss_err err = tss_msgs_append(&m, protocol, round, flags, 2, 1, SID, payload, plen);
    free(payload);
    if (err != TSS_OK)
        return NULL;
    uint8_t *out = m.items[0].data;
    *len = m.items[0].len;
    m.items[0].data = NULL; /* ownership moves to the caller */
    m.items[0].len = 0;
    tss_msgs_free(&m);
    return out;
}

static void run_dkg(const uint8_t *msg, size_t len, test_rng *r)
{
    tss_dkg *st = NULL;
    tss_dkg_params p = {.t = 2, .n = 3, .index = 1, .bans = bans};
    memcpy(p.session_id, SID, 32);
    sim_identities(p.ids, 3);
    tss_msgs out = {0};
    if (tss_dkg_new(&st, &p, &r->rng) != TSS_OK || tss_dkg_start(st, &out) != TSS_OK)
        abort();
    tss_msgs_free(&out);
    (void)tss_dkg_receive(st, msg, len, &out);
    tss_msgs_free(&out);
    tss_dkg_free(st);
}

static void run_sign(const uint8_t *msg, size_t len, test_rng *r)
{
    tss_sign *st = NULL;
    tss_sign_params p = {
        .share = shares[1], .claim = no_store, .bans = bans, .signer_count = 2, .has_hash = 1};
    p.signers[0] = 1, p.signers[1] = 2;
    memcpy(p.session_id, SID, 32);
    tss_msgs out = {0};
    if (tss_sign_new(&st, &p, &r->rng) != TSS_OK || tss_sign_start(st, &out) != TSS_OK)
        abort();
    tss_msgs_free(&out);
    (void)tss_sign_receive(st, msg, len, &out);
    tss_msgs_free(&out);
    tss_sign_free(st);
    tss_identity peer;
    sim_identity(&peer, 2);
    tss_banlist_lift(bans, peer.fp); /* a failed OT check banned party 2 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (shares[1] == NULL)
        init_shares();
    if (size < 1)
        return 0;
    int sign = data[0] & 1, raw = (data[0] >> 1) & 1;
    uint8_t round = (uint8_t)(1 + ((data[0] >> 2) & 3));
    test_rng r;
    test_rng_init(&r, 3);
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    uint8_t *wrapped = NULL;
    if (!raw) {
        size_t plen = sign ? tss_sign_payload_len(round, shares[1]->kappa)
                           : tss_dkg_payload_len(round, 2, 3, TSS_OTE_KAPPA_DEFAULT, 2, 1);
        if (plen == 0)
            return 0;
        wrapped = wrap(sign ? TSS_PROTO_SIGN : TSS_PROTO_DKG, round, msg, len, plen, &len);
        if (wrapped == NULL)
            return 0;
        msg = wrapped;
    }
    if (sign)
        run_sign(msg, len, &r);
    else
        run_dkg(msg, len, &r);
    free(wrapped);
    return 0;
}
