/* tests/support/tss_dealer.h — TEST-ONLY trusted dealer: splits a given secret key into
 * t-of-n key shares with the same layout a DKG produces (Shamir shares, pairwise zero
 * seeds, correlated OT-extension setups). Lets signing tests use known keys (BIP32
 * vectors) and large n without running base OTs. Never use outside tests. */
#ifndef TSS_DEALER_H
#define TSS_DEALER_H

#include "test_rng.h"
#include "tss/keyshare.h"

/* shares[1..n] receive new key shares of sk (random sk when sk is NULL) with the given
 * chain code (random when NULL), epoch 0, κ = TSS_OTE_KAPPA_DEFAULT and the simulator's
 * identities (sim_identities).
 * Returns TSS_OK or the first error. */
tss_err dealer_split(tss_keyshare *shares[TSS_MAX_PARTIES + 1], uint8_t t, uint8_t n,
                     const tss_scalar *sk, const uint8_t chain[32], test_rng *rng);

/* The same with OT setups of the given κ (128, or 256 as in key shares v1/v2). */
tss_err dealer_split_kappa(tss_keyshare *shares[TSS_MAX_PARTIES + 1], uint8_t t, uint8_t n,
                           const tss_scalar *sk, const uint8_t chain[32], unsigned kappa,
                           test_rng *rng);

#endif
