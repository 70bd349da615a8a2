/* tests/support/tsslib_gen.h — realistic tss-lib (bnb-chain, GG18/GG20 ECDSA) save files
 * for the migration tests, made from a KNOWN private key so that a test knows the public
 * key and Ethereum address to expect. Follows tss-lib's conventions: a Shamir polynomial
 * of degree t - 1 (tss-lib's "threshold") with constant term the key; ShareIDs that are
 * arbitrary field elements (random 256-bit integers like tss-lib's party keys, sorted
 * ascending like its SortedPartyIDs; or given by the test), not 1..n; Xi = p(ShareID);
 * BigXj[j] = p(Ks[j])·G; ECDSAPub = key·G. The Paillier and range-proof fields are filled
 * with numbers of the sizes tss-lib writes (2048-bit N, Ñ, h1, h2, α, β; 1024-bit P, Q), so
 * a reader must parse past them. The JSON is what Go's encoding/json writes for
 * LocalPartySaveData: the same field order, bare decimal integers, json.Marshal (compact)
 * or json.MarshalIndent(v, "", "  ") (tss-lib's own test fixtures).
 * Tests tamper with a tsslib_gen_key's public fields before writing (a point off the
 * polynomial, a duplicate id, ...) and with the JSON text for syntax errors. Test-only:
 * the key struct holds every party's secret share in plain memory. */
#ifndef TSSLIB_GEN_H
#define TSSLIB_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "tss/rand.h"

#define TSSLIB_GEN_MAX 64  /* parties, as MPCD_TSSLIB_MAX_PARTIES */
#define TSSLIB_GEN_DEC 700 /* room for a 2048-bit number in decimal (617 digits) */

typedef struct {
    char n[TSSLIB_GEN_DEC], lambda_n[TSSLIB_GEN_DEC], phi_n[TSSLIB_GEN_DEC];
    char p[TSSLIB_GEN_DEC], q[TSSLIB_GEN_DEC]; /* Paillier primes' stand-ins, 1024-bit */
    char ntilde[TSSLIB_GEN_DEC], h1[TSSLIB_GEN_DEC], h2[TSSLIB_GEN_DEC];
    char alpha[TSSLIB_GEN_DEC], beta[TSSLIB_GEN_DEC];
    char pp[TSSLIB_GEN_DEC], qq[TSSLIB_GEN_DEC]; /* LocalPreParams P, Q (Ñ's factors) */
} tsslib_gen_pre;

typedef struct {
    unsigned t, n;                      /* t signers required: degree t - 1 */
    char ks[TSSLIB_GEN_MAX][160];       /* Ks[j] (= party j's ShareID), decimal */
    uint8_t xi[TSSLIB_GEN_MAX][32];     /* party j's Xi, big-endian (SECRET; tests only) */
    uint8_t bigx[TSSLIB_GEN_MAX][64];   /* BigXj[j]: x || y, big-endian */
    uint8_t pub[64];                    /* ECDSAPub: x || y */
    uint8_t pk[33];                     /* ECDSAPub, SEC1 compressed (what tests expect) */
    tsslib_gen_pre pre[TSSLIB_GEN_MAX]; /* party j's Paillier / Ñ parameters */
    const char *curve;                  /* "secp256k1"; NULL writes no "Curve" (old tss-lib) */
} tsslib_gen_key;

/* Makes a t-of-n key (2 <= t <= n <= TSSLIB_GEN_MAX) sharing the private key sk (32 bytes
 * big-endian, 0 < sk < q). ids: NULL for random 256-bit ShareIDs (sorted ascending), else
 * n decimal integers in the order wanted (each below 2^512, distinct and non-zero mod q —
 * not checked: tests pass bad ones on purpose). Randomness (coefficients, ids, filler)
 * from rng. Returns a calloc'd key (free with tsslib_gen_free), NULL on bad arguments. */
tsslib_gen_key *tsslib_gen_make(const uint8_t sk[32], unsigned t, unsigned n,
                                const char *const *ids, const tss_rng *rng);

/* tsslib_gen_make of a small private key (31 zero bytes, then skv; skv > 0) with the ids,
 * its randomness from a test_rng seeded with seed (the same key for the same arguments).
 * NULL on bad arguments. */
tsslib_gen_key *tsslib_gen_small(uint64_t seed, uint8_t skv, unsigned t, unsigned n,
                                 const char *const *ids);

/* Party j's Xi in decimal (what a message must never show). */
void tsslib_gen_xi_dec(char dec[100], const tsslib_gen_key *k, unsigned j);

/* Party j's save file as tss-lib writes it: compact (indent 0) or MarshalIndent with two
 * spaces. Returns a malloc'd NUL-terminated string (free with free), NULL on error. */
char *tsslib_gen_json(const tsslib_gen_key *k, unsigned j, int indent);

/* Writes party j's save file to path (mode 0600). 0 or -1. */
int tsslib_gen_write(const tsslib_gen_key *k, unsigned j, int indent, const char *path);

/* Sets the point at out[0..64) (x || y) to s·G for the 32-byte scalar s. 0 or -1. */
int tsslib_gen_point(uint8_t out[64], const uint8_t s[32]);

/* Returns a malloc'd copy of text with the first occurrence of from replaced by to, or
 * NULL if from does not occur (for tampering with the JSON in tests). */
char *tsslib_gen_replace(const char *text, const char *from, const char *to);

void tsslib_gen_free(tsslib_gen_key *k);

#endif
