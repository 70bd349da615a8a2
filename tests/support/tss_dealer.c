/* tests/support/tss_dealer.c — test-only key splitting. */
#include "tss_dealer.h"

#include <string.h>

#include "tss_sim.h"

static void rand_scalar(tss_scalar *s, test_rng *rng)
{
    uint8_t wide[64];
    do {
        test_rng_bytes(rng, wide, sizeof wide);
        tss_scalar_reduce64(s, wide);
    } while (tss_scalar_is_zero(s));
}

tss_err dealer_split(tss_keyshare *shares[TSS_MAX_PARTIES + 1], uint8_t t, uint8_t n,
                     const tss_scalar *sk, const uint8_t chain[32], test_rng *rng)
{
    return dealer_split_kappa(shares, t, n, sk, chain, TSS_OTE_KAPPA_DEFAULT, rng);
}

tss_err dealer_split_kappa(tss_keyshare *shares[TSS_MAX_PARTIES + 1], uint8_t t, uint8_t n,
                           const tss_scalar *sk, const uint8_t chain[32], unsigned kappa,
                           test_rng *rng)
{
    tss_scalar coef[TSS_MAX_PARTIES];
    uint8_t dkg_sid[32], cc[32];
    tss_point pk, pub[TSS_MAX_PARTIES + 1];
    tss_err err;
    if (t < 2 || t > n || n > TSS_MAX_PARTIES || !tss_ote_kappa_valid(kappa))
        return TSS_ERR_PARAMS;
    for (int k = 0; k < t; k++)
        rand_scalar(&coef[k], rng);
    if (sk != NULL)
        coef[0] = *sk;
    test_rng_bytes(rng, dkg_sid, 32);
    if (chain != NULL)
        memcpy(cc, chain, 32);
    else
        test_rng_bytes(rng, cc, 32);
    if ((err = tss_point_base_mul(&pk, &coef[0])) != TSS_OK)
        return err;
    for (uint16_t i = 1; i <= n; i++) {
        tss_keyshare *ks = tss_keyshare_new();
        if (ks == NULL)
            return TSS_ERR_NOMEM;
        shares[i] = ks;
        ks->t = t, ks->n = n, ks->index = (uint8_t)i;
        ks->kappa = (uint16_t)kappa;
        memcpy(ks->dkg_sid, dkg_sid, 32);
        memcpy(ks->setup_sid, dkg_sid, 32); /* epoch 0 */
        sim_identities(ks->ids, n);
        memcpy(ks->chain_code, cc, 32);
        ks->pk = pk;
        /* p(i) by Horner */
        tss_scalar x, acc = coef[t - 1];
        tss_scalar_set_u64(&x, i);
        for (int k = t - 2; k >= 0; k--) {
            tss_scalar_mul(&acc, &acc, &x);
            tss_scalar_add(&acc, &acc, &coef[k]);
        }
        ks->secret_share = acc;
        if ((err = tss_point_base_mul(&pub[i], &acc)) != TSS_OK ||
            (err = tss_keyshare_alloc_peers(ks)) != TSS_OK)
            return err;
    }
    for (uint16_t i = 1; i <= n; i++)
        for (uint16_t j = 1; j <= n; j++)
            shares[i]->pub_shares[j - 1] = pub[j];
    for (uint16_t a = 1; a <= n; a++) {
        for (uint16_t b = 1; b <= n; b++) {
            if (a == b)
                continue;
            /* ordered pair (a -> b): a is extension sender with delta, b holds both seeds */
            tss_ote_sender_setup *as = shares[a]->peer[b - 1].ot_send;
            tss_ote_receiver_setup *br = shares[b]->peer[a - 1].ot_recv;
            test_rng_bytes(rng, as->delta, as->kappa / 8u); /* zero past κ (ote.h) */
            test_rng_bytes(rng, (uint8_t *)br->seed, (size_t)br->kappa * 64);
            for (int l = 0; l < as->kappa; l++) {
                int bit = (as->delta[l / 8] >> (l % 8)) & 1;
                memcpy(as->seed[l], br->seed[l][bit], 32);
            }
            if (a < b) {
                test_rng_bytes(rng, shares[a]->peer[b - 1].zero_seed, 32);
                memcpy(shares[b]->peer[a - 1].zero_seed, shares[a]->peer[b - 1].zero_seed, 32);
            }
        }
    }
    return TSS_OK;
}
