/* tests/common/test_tsslib_migrate.c — migration end to end at the tss level: generated
 * tss-lib save files (tests/support/tsslib_gen.h, from known private keys) are read and
 * checked one per old party (daemon/common/tsslib.h), and what each old party gets from
 * its own file — x, Xi, every x and public share, pk, the inferred threshold — is its
 * old-dealer input to a reshare (tss/reshare.h, run by tests/support/tss_sim) into new
 * DKLs23 shares, which then sign with every signer set under the same public key and so
 * the same Ethereum address. No daemon is involved (the sessions are not built yet). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/common/eth.h"
#include "daemon/common/tsslib.h"
#include "test_rng.h"
#include "tss/reshare.h"
#include "tss_sim.h"
#include "tsslib_gen.h"

#define ADDR_SK1 "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
#define ADDR_SK2 "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"

/* Reads every party's save file of k as that party would: its own file only. */
static void read_files(const tsslib_gen_key *k, mpcd_tsslib_share **s)
{
    char why[256];
    for (unsigned j = 0; j < k->n; j++) {
        char *text = tsslib_gen_json(k, j, (int)(j & 1));
        assert_non_null(text);
        mpcd_tsslib_err err =
            mpcd_tsslib_load((const uint8_t *)text, strlen(text), 0, &s[j], why, sizeof why);
        if (err != MPCD_TSSLIB_OK)
            fail_msg("party %u: %s", j, why);
        memset(text, 0, strlen(text));
        free(text);
    }
    assert_int_equal(
        mpcd_tsslib_check_set((const mpcd_tsslib_share *const *)s, k->n, why, sizeof why),
        MPCD_TSSLIB_OK);
}

/* Reshare input: old parties use[0..count) deal (a qualified set of the inferred
 * threshold), old party use[k] becoming new party new_index[k] (0: it leaves); the new
 * committee is t'-of-n' with identities ids. The public part comes from the first
 * dealer's file (check_set showed every file agrees), each secret from its own file. */
static void migration_input(sim_reshare *r, mpcd_tsslib_share *const *s, const unsigned *use,
                            uint8_t count, const uint8_t *new_index, const tss_identity *old_ids,
                            uint8_t t, uint8_t n, const tss_identity *ids, uint64_t seed)
{
    static test_rng rngs[TSS_MAX_PARTIES + 1];
    const mpcd_tsslib_share *any = s[use[0]];
    memset(r, 0, sizeof *r);
    tss_reshare_params *p = &r->params;
    memset(p->key_id, 0x17, 16); /* key_sid stays zero: the key had no DKG here */
    p->t_old = (uint8_t)any->threshold;
    p->n_old = (uint8_t)any->n;
    p->dealer_count = count;
    for (uint8_t k = 0; k < count; k++) {
        const mpcd_tsslib_share *d = s[use[k]];
        assert_int_equal(d->i, use[k]);
        p->dealers[k].x = d->x[d->i];
        p->dealers[k].pub = d->pub[d->i];
        p->dealers[k].id = old_ids[use[k]];
        p->dealers[k].new_index = new_index[k];
        r->secrets[k] = &d->xi;
    }
    p->pk = any->pk;
    memset(p->chain_code, 0x5c, 32); /* tss-lib ECDSA keys have none: the operator's choice */
    p->t = t;
    p->n = n;
    memcpy(p->ids, ids, n * sizeof ids[0]);
    p->epoch = 0;
    for (int i = 1; i <= TSS_MAX_PARTIES; i++) {
        test_rng_init(&rngs[i], seed * 1000 + (uint64_t)i);
        r->net.rng[i] = &rngs[i].rng;
    }
    memset(r->net.session_id, (int)seed, 32);
    assert_int_equal(tss_reshare_check_input(p->dealers, count, &p->pk), TSS_OK);
}

/* Signs with every t-subset of shares[1..n] and verifies each signature with libsecp256k1
 * under pk. Returns the number of sets. */
static int sign_every_set(tss_keyshare *const *shares, uint8_t t, uint8_t n, const tss_point *pk)
{
    int sets = 0;
    for (uint32_t mask = 0; mask < (1u << n); mask++) {
        if (__builtin_popcount(mask) != t)
            continue;
        sim_sign g;
        memset(&g, 0, sizeof g);
        g.shares = shares;
        for (int j = 0; j < n; j++)
            if (mask & (1u << j))
                g.signers[g.count++] = (uint16_t)(j + 1);
        memset(g.net.session_id, (int)(0x40 + mask), 32);
        for (int b = 0; b < 32; b++)
            g.hash[b] = (uint8_t)(b * 13 + mask);
        tss_err err = sim_sign_run(&g);
        if (err != TSS_OK)
            fail_msg("signers %x: %s", mask, tss_strerror(err));
        secp256k1_ecdsa_signature sig;
        uint8_t rs[64];
        memcpy(rs, g.sig[g.signers[0]].r, 32);
        memcpy(rs + 32, g.sig[g.signers[0]].s, 32);
        assert_true(secp256k1_ecdsa_signature_parse_compact(tss_secp_ctx(), &sig, rs));
        assert_true(secp256k1_ecdsa_verify(tss_secp_ctx(), &sig, g.hash, &pk->pk));
        sim_sign_free(&g);
        sets++;
    }
    return sets;
}

/* The new shares control the old key: same pk, same address, and they sign. */
static void check_migrated(const sim_reshare *r, const char *addr, int want_sets)
{
    uint8_t pk[33];
    char a[43];
    for (int i = 1; i <= r->params.n; i++) {
        assert_non_null(r->shares[i]);
        assert_true(tss_point_eq(&r->shares[i]->pk, &r->params.pk));
        assert_int_equal(r->shares[i]->t, r->params.t);
    }
    tss_point_serialize(pk, &r->shares[1]->pk);
    assert_int_equal(mpcd_eth_address(a, pk), 0);
    assert_string_equal(a, addr);
    assert_int_equal(sign_every_set(r->shares, r->params.t, r->params.n, &r->params.pk), want_sets);
}

static tsslib_gen_key *make(uint64_t seed, uint8_t skv, unsigned t, unsigned n)
{
    tsslib_gen_key *k = tsslib_gen_small(seed, skv, t, n, NULL);
    assert_non_null(k);
    return k;
}

/* A tss-lib 2-of-3 (private key 1) moves to a DKLs23 2-of-3 on the same three nodes: old
 * parties 0 and 2 deal and become new parties 1 and 2, old party 1 (not dealing: any
 * qualified set will do) becomes new party 3. */
static void test_2of3_same_nodes(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(31, 1, 2, 3);
    mpcd_tsslib_share *s[3] = {0};
    read_files(k, s);
    assert_int_equal(s[0]->threshold, 2);
    tss_identity old_ids[TSS_MAX_PARTIES], ids[TSS_MAX_PARTIES];
    sim_identities(old_ids, 3);
    ids[0] = old_ids[0], ids[1] = old_ids[2], ids[2] = old_ids[1];
    sim_reshare r;
    const unsigned use[] = {0, 2};
    const uint8_t idx[] = {1, 2};
    migration_input(&r, s, use, 2, idx, old_ids, 2, 3, ids, 3);
    tss_err err = sim_reshare_run(&r);
    if (err != TSS_OK)
        fail_msg("reshare: participant %d: %s", r.net.failed_party, tss_strerror(err));
    check_migrated(&r, ADDR_SK1, 3);
    sim_reshare_free(&r);
    for (int j = 0; j < 3; j++)
        mpcd_tsslib_free(s[j]);
    tsslib_gen_free(k);
}

/* A tss-lib 3-of-5 (private key 2) moves to a DKLs23 2-of-3 on three fresh nodes: old
 * parties 1, 3 and 4 deal and leave. */
static void test_3of5_to_new_nodes(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(32, 2, 3, 5);
    mpcd_tsslib_share *s[5] = {0};
    read_files(k, s);
    assert_int_equal(s[0]->threshold, 3);
    tss_identity old_ids[5], ids[TSS_MAX_PARTIES];
    for (uint16_t j = 0; j < 5; j++)
        sim_identity(&old_ids[j], (uint16_t)(200 + j));
    sim_identities(ids, 3);
    sim_reshare r;
    const unsigned use[] = {1, 3, 4};
    const uint8_t idx[] = {0, 0, 0};
    migration_input(&r, s, use, 3, idx, old_ids, 2, 3, ids, 4);
    tss_err err = sim_reshare_run(&r);
    if (err != TSS_OK)
        fail_msg("reshare: participant %d: %s", r.net.failed_party, tss_strerror(err));
    check_migrated(&r, ADDR_SK2, 3);
    sim_reshare_free(&r);
    for (int j = 0; j < 5; j++)
        mpcd_tsslib_free(s[j]);
    tsslib_gen_free(k);
}

/* Too few dealers for the inferred threshold: the reshare's own input check refuses a
 * 2-of-3's single dealer (its public share alone is not the key), so a migration that
 * ignored the threshold cannot go through. */
static void test_needs_threshold_dealers(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(33, 1, 2, 3);
    mpcd_tsslib_share *s[3] = {0};
    read_files(k, s);
    tss_reshare_dealer one = {.x = s[0]->x[0], .pub = s[0]->pub[0]};
    assert_int_equal(tss_reshare_check_input(&one, 1, &s[0]->pk), TSS_ERR_MISMATCH);
    for (int j = 0; j < 3; j++)
        mpcd_tsslib_free(s[j]);
    tsslib_gen_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2of3_same_nodes),
        cmocka_unit_test(test_3of5_to_new_nodes),
        cmocka_unit_test(test_needs_threshold_dealers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
