/* daemon/common/tsslib.h — reads one party's save file of the replaced system (bnb-chain
 * tss-lib, GG18/GG20 ECDSA: the JSON of ecdsa/keygen LocalPartySaveData) and checks it, so
 * that the share can become the old-committee input of a reshare (tss/reshare.h) and the
 * new DKLs23 shares keep the same public key and Ethereum address.
 *
 * The format, as tss-lib's encoding/json writes it (json.Marshal or MarshalIndent):
 *   one object with the embedded LocalPreParams flattened — PaillierSK {N, LambdaN, PhiN,
 *   P, Q}, NTildei, H1i, H2i, Alpha, Beta, P, Q — and LocalSecrets — Xi, ShareID — then
 *   Ks [n], NTildej [n], H1j [n], H2j [n], BigXj [n] of ECPoint, PaillierPKs [n] of {N},
 *   ECDSAPub (ECPoint). An ECPoint is {"Curve": "secp256k1", "Coords": [x, y]}; files
 *   written before tss-lib's curve registry (mid-2021) have no "Curve", which tss-lib reads
 *   as its default curve, secp256k1, and so do we. Every integer is a Go math/big value,
 *   which encoding/json writes as a bare decimal JSON number of any length.
 *
 * Big numbers without losing digits, and without the secret in jansson's heap: a small
 * tokenizer runs before json_loadb and replaces every number token by a placeholder
 * string "\u0000<k>", k indexing a table of (offset, length) spans of the caller's bytes;
 * jansson parses only the structure. A number must be a plain non-negative integer
 * without leading zeros: a sign, fraction or exponent is refused (tss-lib never writes
 * one, and a float would mean a lossy tool touched the file), and so is one longer than
 * MPCD_TSSLIB_DIGITS_MAX digits. A string in the file may not contain "\u0000" (so no
 * string can pass for a placeholder). Xi's digits thus exist only in the caller's buffer,
 * which the caller wipes, and in stack buffers here that are wiped before returning.
 *
 * Ignored: PaillierSK, NTildei, H1i, H2i, Alpha, Beta, P, Q, NTildej, H1j, H2j,
 * PaillierPKs (GG18/20's Paillier and range-proof parameters: DKLs23 needs none). They
 * may be absent or null (older tss-lib versions lack some), and when present must be
 * numbers, nulls, or arrays / objects of those, at most three levels deep, each number
 * within the digit bound. Any other field is refused (not a tss-lib ECDSA save file).
 *
 * Conventions (tss-lib's Shamir sharing, crypto/vss): party j's x-coordinate is
 * Ks[j] mod q (q the group order; tss-lib uses the parties' keys, arbitrary integers, not
 * 1..n); the shares lie on a polynomial of degree tss-lib "threshold" = t - 1, where t is
 * the number of signers required (this project's `threshold`); the degree is not in the
 * file, so it is inferred from the public shares. BigXj[j] = p(x_j)·G, ECDSAPub = p(0)·G,
 * Xi = p(ShareID) for this party. */
#ifndef MPCD_TSSLIB_H
#define MPCD_TSSLIB_H

#include <stddef.h>
#include <stdint.h>

#include "tss/point.h"
#include "tss/scalar.h"

#define MPCD_TSSLIB_MAX_PARTIES 64         /* n; tss-lib deployments use far fewer */
#define MPCD_TSSLIB_FILE_MAX    (2u << 20) /* bytes of one save file */
#define MPCD_TSSLIB_DIGITS_MAX  1240       /* any number: 4096 bits is 1234 digits */
#define MPCD_TSSLIB_NUMBERS_MAX 4096       /* number tokens in one file */

typedef enum {
    MPCD_TSSLIB_OK = 0,
    MPCD_TSSLIB_ERR_ARG,         /* a caller broke a documented precondition */
    MPCD_TSSLIB_ERR_NOMEM,       /* an allocation failed */
    MPCD_TSSLIB_ERR_SIZE,        /* the file or its number count is over the bound */
    MPCD_TSSLIB_ERR_JSON,        /* not one JSON object: truncated, syntax, duplicate key */
    MPCD_TSSLIB_ERR_NUMBER,      /* a number is negative, has a fraction or exponent,
                                    leading zeros, or too many digits */
    MPCD_TSSLIB_ERR_FIELD,       /* a field is missing, unknown or of the wrong type */
    MPCD_TSSLIB_ERR_CURVE,       /* an ECPoint names a curve other than secp256k1 */
    MPCD_TSSLIB_ERR_POINT,       /* a point is not on the curve (or a coordinate >= p) */
    MPCD_TSSLIB_ERR_COUNT,       /* len(Ks) != len(BigXj), or n outside 2..MAX_PARTIES */
    MPCD_TSSLIB_ERR_SHARE_ID,    /* a Ks entry is 0 mod q, or two are equal mod q */
    MPCD_TSSLIB_ERR_NOT_MEMBER,  /* ShareID is not in Ks */
    MPCD_TSSLIB_ERR_XI,          /* Xi is 0 or not below q */
    MPCD_TSSLIB_ERR_XI_MISMATCH, /* Xi·G != BigXj[i] */
    MPCD_TSSLIB_ERR_POLYNOMIAL,  /* the BigXj do not lie on one polynomial of degree < n
                                    with constant term ECDSAPub */
    MPCD_TSSLIB_ERR_PUBKEY,      /* the BigXj agree on a polynomial whose constant term is
                                    not ECDSAPub */
    MPCD_TSSLIB_ERR_THRESHOLD,   /* the inferred threshold is not the expected one */
    MPCD_TSSLIB_ERR_SET,         /* save files of one key disagree (check_set) */
    MPCD_TSSLIB_ERR__COUNT
} mpcd_tsslib_err;

/* A static description of err (never NULL, never secret). */
const char *mpcd_tsslib_strerror(mpcd_tsslib_err err);

/* One party's share of a tss-lib key, as parsed. Lives in secure memory (tss/secmem.h:
 * locked, not dumped, wiped when freed): allocated by mpcd_tsslib_parse, freed by
 * mpcd_tsslib_free. Everything but xi is public. */
typedef struct {
    size_t n;           /* parties, 2..MPCD_TSSLIB_MAX_PARTIES */
    size_t i;           /* this party's position in Ks and BigXj (0-based) */
    unsigned threshold; /* t = signers required = degree + 1; 0 until mpcd_tsslib_check */
    tss_scalar xi;      /* SECRET: Xi, this party's share p(x[i]) */
    tss_scalar x[MPCD_TSSLIB_MAX_PARTIES];  /* Ks[j] mod q: distinct, non-zero */
    tss_point pub[MPCD_TSSLIB_MAX_PARTIES]; /* BigXj[j]: on the curve, finite */
    tss_point pk;                           /* ECDSAPub */
} mpcd_tsslib_share;

/* Parses one save file data[0..len). data is only read; it holds Xi, so the caller wipes
 * it afterwards (tss_memzero, or keeps it in tss_secmem_alloc memory). Checks everything a
 * single field can show: the format above, the curve, every point on the curve, len(Ks) =
 * len(BigXj) = n in 2..MPCD_TSSLIB_MAX_PARTIES, the x's non-zero and distinct mod q, ShareID
 * in Ks (which gives i), 0 < Xi < q. Not the relations between fields: mpcd_tsslib_check.
 * MPCD_TSSLIB_OK with *out set (free with mpcd_tsslib_free; threshold still 0), else the
 * first problem's code, *out NULL and a message for people in why[0..cap) naming the field
 * and what to do (never Xi's value). Not constant time in the public fields; Xi is
 * converted and copied without branches on its digits' values. */
mpcd_tsslib_err mpcd_tsslib_parse(const uint8_t *data, size_t len, mpcd_tsslib_share **out,
                                  char *why, size_t cap);

/* Checks a parsed share: Xi·G = BigXj[i] (constant time in Xi); then infers the degree d,
 * the smallest for which (0, ECDSAPub) and every (x_j, BigXj[j]) lie on one polynomial of
 * degree d in the exponent (Lagrange interpolation with the x's); d = 0 is refused (every
 * share would be the key itself: not a tss-lib key) and d must be < n (with d = n the
 * points fit nothing: ERR_PUBKEY when the BigXj alone fit a degree < n - 1, so only
 * ECDSAPub is off, else ERR_POLYNOMIAL). Sets s->threshold = d + 1. When expected_t != 0
 * it must equal the inferred t (ERR_THRESHOLD).
 * How the degree is found: for each candidate d, the conditions "the polynomial through
 * the first d + 1 points takes the value BigXj[j] at x_j" for every other j are folded
 * into one multi-exponentiation with coefficients from Keccak-256 of every public value
 * and d (public and reproducible; no randomness needed). The fold only picks the
 * candidate: a degree it accepts is confirmed by checking every condition on its own, so
 * the verdict never rests on the hash. Cost: O(n^2) point multiplications and O(n^3)
 * scalar operations at worst, whatever the file. Measured (RelWithDebInfo, a shared
 * 2-core machine): 2 ms for a 3-of-5, 21 ms for 11-of-20, 69 ms for 32-of-32, 0.25-0.4 s
 * for 33-of-64 and 64-of-64, and 0.6-0.7 s for a refused 64-party file (the worst case:
 * every degree is tried, twice); parsing alone is under 2 ms.
 * MPCD_TSSLIB_OK, else the code and why[] as for parse; s->threshold stays 0. */
mpcd_tsslib_err mpcd_tsslib_check(mpcd_tsslib_share *s, unsigned expected_t, char *why, size_t cap);

/* parse, then check; on failure *out is NULL. */
mpcd_tsslib_err mpcd_tsslib_load(const uint8_t *data, size_t len, unsigned expected_t,
                                 mpcd_tsslib_share **out, char *why, size_t cap);

/* Checks that count >= 1 checked shares are save files of ONE key: the same n, threshold,
 * x's and public shares in the same order, the same ECDSAPub, and distinct positions.
 * MPCD_TSSLIB_OK or MPCD_TSSLIB_ERR_SET (ERR_ARG if one is unchecked) with why[]. */
mpcd_tsslib_err mpcd_tsslib_check_set(const mpcd_tsslib_share *const *shares, size_t count,
                                      char *why, size_t cap);

/* Wipes and frees a share. NULL is a no-op. */
void mpcd_tsslib_free(mpcd_tsslib_share *s);

#endif
