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

#include "baseot.h"
#include "dkg.h"
#include "reshare.h"
#include "sign.h"

/* *out = a deep copy of st. TSS_ERR_ARG for NULL arguments, TSS_ERR_NOMEM (nothing
 * allocated, *out NULL) when memory runs out. */
tss_err tss_dkg_clone(tss_dkg **out, const tss_dkg *st, const tss_rng *rng);
tss_err tss_sign_clone(tss_sign **out, const tss_sign *st, const tss_rng *rng);
tss_err tss_reshare_clone(tss_reshare **out, const tss_reshare *st, const tss_rng *rng);

/* A deep copy of src (in secure memory), with copies of the OT setups it holds (also a key
 * share under construction, whose setups the base OTs are still filling); the states above
 * use it for their key share. NULL (nothing allocated) when memory runs out. Free it with
 * tss_keyshare_free. Defined in keyshare.c. */
tss_keyshare *tss_keyshare_clone(const tss_keyshare *src);

/* For the clone hooks above: deep copies of the pairwise OT setup's
 * in-flight states bot[0..count) (Alice's base-OT receivers) and bob_msg[0..count)
 * (Bob's parts, bob_len bytes each) into dst arrays that hold NULLs; entries that are NULL
 * in the source stay NULL. TSS_ERR_NOMEM when memory runs out: the copies made so far
 * stay in dst for the caller's usual free. Defined in pairsetup.c. */
tss_err tss_pairsetup_copy_pending(tss_baseot_receiver **dst_bot, uint8_t **dst_msg,
                                   tss_baseot_receiver *const *bot, uint8_t *const *bob_msg,
                                   size_t count, size_t bob_len);

#endif
