/* tss/transcript.h — every hash of the protocol goes through here.
 * A transcript is SHA-256 over a versioned domain tag followed by length-prefixed fields,
 * so no two different field sequences hash alike and no hash of one context can be
 * replayed in another. Hash-to-scalar is wide (two 32-byte blocks, reduced mod n) so the
 * result is unbiased. Commitments are H(tag, data, 32 random bytes). Comparisons of hash
 * values are constant time. No allocation: a transcript lives on the stack. */
#ifndef TSS_TRANSCRIPT_H
#define TSS_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_CTX: stack state, no allocation per hash */
#include <openssl/sha.h>

#include "point.h"
#include "rand.h"
#include "scalar.h"

/* All domain tags start with this; bump the version to separate incompatible formats. */
#define TSS_TAG_PREFIX "mpc-signer/v1/"

typedef struct {
    SHA256_CTX sha;
} tss_transcript;

/* Starts a transcript for the domain TSS_TAG_PREFIX + tag (tag is a short ASCII label
 * such as "dkg/commit"). */
void tss_transcript_init(tss_transcript *t, const char *tag);

/* Appends one field: 8-byte big-endian length, then the bytes. */
void tss_transcript_append(tss_transcript *t, const void *data, size_t len);
void tss_transcript_append_u32(tss_transcript *t, uint32_t v);
void tss_transcript_append_u64(tss_transcript *t, uint64_t v);
void tss_transcript_append_point(tss_transcript *t, const tss_point *p);
void tss_transcript_append_scalar(tss_transcript *t, const tss_scalar *s);

/* Finishes into 32 bytes and wipes the state. */
void tss_transcript_final(tss_transcript *t, uint8_t out[32]);

/* Finishes into 64 bytes: SHA-256(state || 0x00) || SHA-256(state || 0x01). */
void tss_transcript_final64(tss_transcript *t, uint8_t out[64]);

/* Finishes into a uniform scalar: final64 reduced mod n. */
void tss_transcript_final_scalar(tss_transcript *t, tss_scalar *out);

/* commitment = H("commit/" tag, data, nonce) with a fresh 32-byte nonce from rng. */
tss_err tss_commit(uint8_t commitment[32], uint8_t nonce[32], const char *tag,
                   const uint8_t *data, size_t len, const tss_rng *rng);

/* TSS_OK if commitment opens to (data, nonce), else TSS_ERR_COMMITMENT. Constant time in
 * the compared hash. */
tss_err tss_commit_verify(const uint8_t commitment[32], const uint8_t nonce[32],
                          const char *tag, const uint8_t *data, size_t len);

/* 1 if a[0..len) == b[0..len) else 0, in time independent of the contents. */
int tss_ct_eq(const void *a, const void *b, size_t len);

#endif
