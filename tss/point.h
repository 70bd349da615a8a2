/* tss/point.h — secp256k1 group elements, a thin layer over libsecp256k1's public API.
 * A tss_point is always a valid, finite curve point: infinity cannot be represented, so
 * every operation that could produce it returns TSS_ERR_INFINITY instead.
 * Constant time: tss_point_base_mul (ecmult_gen) and tss_point_mul_secret (ecmult_const,
 * through the ECDH module) in their scalar. tss_point_mul is VARIABLE time (libsecp256k1's
 * tweak_mul uses the wNAF ecmult): use it only with public scalars (Feldman powers,
 * challenges, Lagrange coefficients). add, negate, sum, parse, eq take public points. */
#ifndef TSS_POINT_H
#define TSS_POINT_H

#include <secp256k1.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rand.h"
#include "scalar.h"

typedef struct {
    secp256k1_pubkey pk;
} tss_point;

#define TSS_POINT_BYTES 33

/* The library's shared read-only libsecp256k1 context (created on first use, thread-safe). */
const secp256k1_context *tss_secp_ctx(void);

/* r = s*G. TSS_ERR_INFINITY if s == 0. */
tss_err tss_point_base_mul(tss_point *r, const tss_scalar *s);

/* r = s*p for a PUBLIC scalar s (variable time). TSS_ERR_INFINITY if s == 0. r may alias p. */
tss_err tss_point_mul(tss_point *r, const tss_point *p, const tss_scalar *s);

/* r = s*p for a SECRET scalar s, constant time in s (ecmult_const). The product is
 * treated as public: it is re-encoded with variable-time code, so use it only where the
 * result is published or compared (the Gamma checks). TSS_ERR_INFINITY if s == 0. */
tss_err tss_point_mul_secret(tss_point *r, const tss_point *p, const tss_scalar *s);

/* r = a + b. TSS_ERR_INFINITY if b == -a. r may alias a or b. */
tss_err tss_point_add(tss_point *r, const tss_point *a, const tss_point *b);

/* Largest count tss_point_sum takes (it sums in one exact step). */
#define TSS_POINT_SUM_MAX 128

/* r = sum of pts[0..count), 1 <= count <= TSS_POINT_SUM_MAX (else TSS_ERR_ARG).
 * TSS_ERR_INFINITY if the sum is infinity. */
tss_err tss_point_sum(tss_point *r, const tss_point *pts, size_t count);

/* r = -a. r may alias a. */
void tss_point_negate(tss_point *r, const tss_point *a);

/* out = SEC1 compressed encoding (0x02/0x03 || x). */
void tss_point_serialize(uint8_t out[33], const tss_point *p);

/* Strict parse of exactly 33 bytes: prefix 0x02 or 0x03, x < p, x on the curve. Infinity
 * has no 33-byte encoding, so it is always rejected. TSS_ERR_POINT on any failure. */
tss_err tss_point_parse(tss_point *r, const uint8_t in[33]);

/* 1 if a == b else 0 (public data, not constant time). */
int tss_point_eq(const tss_point *a, const tss_point *b);

/* The signing Gamma check (DKLS23.md §5, round 3): *equal = 1 when chi*X == Gamma + d*G,
 * else 0, for SECRET chi and d and public X and Gamma. No secret point reaches
 * libsecp256k1's variable-time code: both sides are multiplied by a fresh random rho
 * drawn from rng, and only the blinded points rho*chi*X, rho*Gamma and rho*d*G are
 * parsed, added and compared (point.c has the argument). chi*rho == 0 or d*rho == 0
 * (probability 2^-256 each for honest values; the peer cannot force either) count as
 * "not equal", so that nothing branches on them. Constant time in chi, d and rho except
 * for the verdict itself, which is public by design (a failure aborts and bans).
 * Returns TSS_ERR_RAND (and *equal = 0) when rng fails, else TSS_OK. */
tss_err tss_point_mul_eq_check(int *equal, const tss_point *X, const tss_scalar *chi,
                               const tss_point *Gamma, const tss_scalar *d, const tss_rng *rng);

/* Both signing Gamma checks of one peer in one: *equal = 1 when chi*X[k] == Gamma[k] +
 * d[k]*G for k = 0 and 1 (same secret chi; secret d[k]; public X[k], Gamma[k]), else 0.
 * A fresh 128-bit e from rng folds them into the one check
 *     chi*(X[0] + e*X[1]) == (Gamma[0] + e*Gamma[1]) + (d[0] + e*d[1])*G
 * run through tss_point_mul_eq_check (so the comparison still sees only blinded
 * points). If either equation is false, the folded one holds for at most one e mod n:
 * with E_k = chi*X[k] - Gamma[k] - d[k]*G it reads E_0 + e*E_1 = 0, so it passes with
 * probability at most 2^-128 over e, which is drawn after the peer's message is fixed
 * and never output. e is public (it multiplies public points with libsecp256k1's
 * variable-time tweak_mul and is declassified through the test hook): knowing it after
 * the check gives nothing, since every check draws a new one. Should a folded point be
 * infinity (probability 2^-128 for honest values) the two checks run separately, so no
 * honest peer is ever failed by the folding. Saves one blinded check (two ECDH and one
 * base multiplication) for two variable-time multiplications. Errors as
 * tss_point_mul_eq_check. */
tss_err tss_point_mul_eq_check2(int *equal, const tss_point X[2], const tss_scalar *chi,
                                const tss_point Gamma[2], const tss_scalar d[2],
                                const tss_rng *rng);

/* Test hook for the valgrind constant-time checks (tests/tss/ct_*.c): fn is called on
 * each value tss_point_mul_eq_check deliberately makes public (the blinded points and the
 * verdict), so that ctgrind-style tests can mark them defined. NULL (the default) in
 * production. Set it before any thread uses the library. */
void tss_point_set_declassify(void (*fn)(const void *p, size_t len));

#endif
