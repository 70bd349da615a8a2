/* tss/testing.h — hooks for tests and fuzzing only. Never call these from a daemon.
 *
 * tss_dkg_clone / tss_sign_clone / tss_reshare_clone deep-copy a protocol state, so a test or a
 * fuzz target can record an honest transcript once and replay "the state just before round r" many
 * times. They are deliberately not part of the protocol API (dkg.h, sign.h): a copy of a
 * signing state that has claimed its sid can answer the same round twice, which is the
 * nonce and VOLE reuse that tss_sign_start's sid claim, the single-use presignature and
 * the ban rule exist to prevent. Two diverging copies of one party's signing state, both
 * talking to a malicious peer, can leak the key share. A copy of a DKG state likewise
 * answers one base-OT message twice. Test code may fork freely because its keys are
 * throwaway.
 *
 * The copy lives in secure memory like the original, owns deep copies of every buffer
 * the original owns (inbox payloads, OT and VOLE working states, the key share under
 * construction) and shares what the original borrows (the signing key share, the node's
 * ban list, the sid claim callback and its context): a ban that a copy records holds for
 * the original and every other state too. It draws randomness from rng, or from the
 * original's generator when rng is NULL. Free it with tss_dkg_free / tss_sign_free. */
#ifndef TSS_TESTING_H
#define TSS_TESTING_H

#include "dkg.h"
#include "reshare.h"
#include "sign.h"

/* *out = a deep copy of st. TSS_ERR_ARG for NULL arguments, TSS_ERR_NOMEM (nothing
 * allocated, *out NULL) when memory runs out. */
tss_err tss_dkg_clone(tss_dkg **out, const tss_dkg *st, const tss_rng *rng);
tss_err tss_sign_clone(tss_sign **out, const tss_sign *st, const tss_rng *rng);
tss_err tss_reshare_clone(tss_reshare **out, const tss_reshare *st, const tss_rng *rng);

#endif
