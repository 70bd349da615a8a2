/* daemon/common/tsslib.c — see tsslib.h. Owns the number tokenizer, the reading of the
 * save file's fields and the checks between them (Xi against BigXj, the polynomial). The
 * threshold protocol that consumes the result is tss/reshare.h. */
#include <jansson.h>
#include <secp256k1.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tss/keccak.h"
#include "tss/secmem.h"
#include "tsslib.h"

static const char *const err_names[MPCD_TSSLIB_ERR__COUNT] = {
    [MPCD_TSSLIB_OK] = "ok",
    [MPCD_TSSLIB_ERR_ARG] = "invalid argument",
    [MPCD_TSSLIB_ERR_NOMEM] = "out of memory",
    [MPCD_TSSLIB_ERR_SIZE] = "save file too large",
    [MPCD_TSSLIB_ERR_JSON] = "not a JSON object",
    [MPCD_TSSLIB_ERR_NUMBER] = "malformed number",
    [MPCD_TSSLIB_ERR_FIELD] = "missing, unknown or mistyped field",
    [MPCD_TSSLIB_ERR_CURVE] = "not a secp256k1 key",
    [MPCD_TSSLIB_ERR_POINT] = "point not on the curve",
    [MPCD_TSSLIB_ERR_COUNT] = "party count mismatch",
    [MPCD_TSSLIB_ERR_SHARE_ID] = "zero or duplicate share id",
    [MPCD_TSSLIB_ERR_NOT_MEMBER] = "ShareID not in Ks",
    [MPCD_TSSLIB_ERR_XI] = "Xi out of range",
    [MPCD_TSSLIB_ERR_XI_MISMATCH] = "Xi does not match BigXj",
    [MPCD_TSSLIB_ERR_POLYNOMIAL] = "public shares not on one polynomial",
    [MPCD_TSSLIB_ERR_PUBKEY] = "ECDSAPub does not match the public shares",
    [MPCD_TSSLIB_ERR_THRESHOLD] = "threshold differs from the expected one",
    [MPCD_TSSLIB_ERR_SET] = "save files of different keys",
};

const char *mpcd_tsslib_strerror(mpcd_tsslib_err err)
{
    if ((unsigned)err >= MPCD_TSSLIB_ERR__COUNT)
        return "unknown error";
    return err_names[err];
}

static mpcd_tsslib_err fail(char *why, size_t cap, mpcd_tsslib_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static mpcd_tsslib_err fail(char *why, size_t cap, mpcd_tsslib_err err, const char *fmt, ...)
{
    va_list ap;
    if (why && cap) {
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* ---- the number tokenizer ---- */

typedef struct {
    size_t off, len; /* digits of one number token in the caller's data */
} num_span;

typedef struct {
    const uint8_t *data;
    size_t len;
    num_span *nums;
    size_t nnums;
    char *why;
    size_t cap;
} rd;

static int is_num_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Checks the number token data[at..at+len) and records it; on success appends the
 * placeholder "\u0000<k>" to out. */
static mpcd_tsslib_err take_number(rd *r, size_t at, size_t len, char *out, size_t *o)
{
    const uint8_t *t = r->data + at;
    if (t[0] == '-')
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_NUMBER,
                    "negative number at byte %zu: tss-lib writes none", at);
    for (size_t k = 0; k < len; k++)
        if (t[k] < '0' || t[k] > '9')
            return fail(r->why, r->cap, MPCD_TSSLIB_ERR_NUMBER,
                        "number with a fraction or exponent at byte %zu: tss-lib writes "
                        "integers only (was the file rewritten by a tool that uses floats?)",
                        at);
    if (t[0] == '0' && len > 1)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_NUMBER, "number with leading zeros at byte %zu",
                    at);
    if (len > MPCD_TSSLIB_DIGITS_MAX)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_NUMBER,
                    "number of %zu digits at byte %zu (at most %u)", len, at,
                    MPCD_TSSLIB_DIGITS_MAX);
    if (r->nnums == MPCD_TSSLIB_NUMBERS_MAX)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_SIZE, "more than %u numbers",
                    MPCD_TSSLIB_NUMBERS_MAX);
    r->nums[r->nnums].off = at;
    r->nums[r->nnums].len = len;
    *o += (size_t)sprintf(out + *o, "\"\\u0000%zu\"", r->nnums);
    r->nnums++;
    return MPCD_TSSLIB_OK;
}

/* Copies data into a malloc'd NUL-terminated buffer (*out) with every number token
 * replaced by a placeholder string; strings are copied as they are, except that one
 * holding the escape \u0000 is refused. Syntax is left to jansson: a truncated or
 * malformed document comes out malformed. */
static mpcd_tsslib_err tokenize(rd *r, char **out, size_t *out_len)
{
    /* a placeholder is at most 15 bytes and replaces at least one */
    size_t cap = r->len + 16u * MPCD_TSSLIB_NUMBERS_MAX + 1, o = 0;
    char *buf = malloc(cap);
    mpcd_tsslib_err err = MPCD_TSSLIB_OK;
    int in_string = 0;
    if (!buf)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_NOMEM, "out of memory");
    /* Branches here depend on character classes only, which are the same for every digit
     * of Xi, never on a digit's value. */
    for (size_t k = 0; k < r->len && err == MPCD_TSSLIB_OK;) {
        uint8_t c = r->data[k];
        if (in_string) {
            if (c == '\\' && k + 1 < r->len) {
                if (r->data[k + 1] == 'u' && k + 6 <= r->len &&
                    memcmp(r->data + k + 2, "0000", 4) == 0)
                    err = fail(r->why, r->cap, MPCD_TSSLIB_ERR_JSON,
                               "a string holds \\u0000 at byte %zu", k);
                buf[o++] = (char)c;
                buf[o++] = (char)r->data[k + 1];
                k += 2;
                continue;
            }
            if (c == '"')
                in_string = 0;
            buf[o++] = (char)c;
            k++;
        } else if (c == '"') {
            in_string = 1;
            buf[o++] = (char)c;
            k++;
        } else if ((c >= '0' && c <= '9') || c == '-') {
            size_t start = k;
            while (k < r->len && is_num_char(r->data[k]))
                k++;
            err = take_number(r, start, k - start, buf, &o);
        } else {
            buf[o++] = (char)c;
            k++;
        }
    }
    buf[o] = 0;
    if (err != MPCD_TSSLIB_OK) {
        free(buf);
        return err;
    }
    *out = buf;
    *out_len = o;
    return MPCD_TSSLIB_OK;
}

/* The span of a number placeholder, or NULL if v is not one. */
static const num_span *number_of(const rd *r, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), k = 0;
    if (!s || len < 2 || s[0] != 0 || len > 12)
        return NULL;
    for (size_t j = 1; j < len; j++) {
        if (s[j] < '0' || s[j] > '9')
            return NULL;
        k = k * 10 + (size_t)(s[j] - '0');
    }
    return k < r->nnums ? &r->nums[k] : NULL;
}

/* out[0..out_len) = the big-endian value of the number's digits. The loop runs over the
 * digits and bytes with no branch on their values (Xi goes through here); returns 0, or -1
 * when the value does not fit (out then holds it modulo 2^(8*out_len)). */
static int to_be(const rd *r, const num_span *n, uint8_t *out, size_t out_len)
{
    unsigned overflow = 0;
    memset(out, 0, out_len);
    for (size_t k = 0; k < n->len; k++) {
        unsigned carry = (unsigned)(r->data[n->off + k] - '0');
        for (size_t b = out_len; b-- > 0;) {
            unsigned v = out[b] * 10u + carry;
            out[b] = (uint8_t)v;
            carry = v >> 8;
        }
        overflow |= carry;
    }
    return overflow ? -1 : 0;
}

/* ---- fields ---- */

/* Ignored fields: null, numbers, or arrays / objects of those, depth <= 3. */
static int ignored_ok(const rd *r, const json_t *v, int depth)
{
    size_t k;
    const char *key;
    json_t *e;
    if (json_is_null(v) || number_of(r, v))
        return 1;
    if (depth >= 3)
        return 0;
    if (json_is_array(v)) {
        json_array_foreach(v, k, e)
        {
            if (!ignored_ok(r, e, depth + 1))
                return 0;
        }
        return 1;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, e)
        {
            if (!ignored_ok(r, e, depth + 1))
                return 0;
        }
        return 1;
    }
    return 0;
}

static const char *const ignored_fields[] = {"PaillierSK", "NTildei", "H1i", "H2i",
                                             "Alpha",      "Beta",    "P",   "Q",
                                             "NTildej",    "H1j",     "H2j", "PaillierPKs"};
static const char *const used_fields[] = {"Xi", "ShareID", "Ks", "BigXj", "ECDSAPub"};

static mpcd_tsslib_err check_fields(const rd *r, json_t *root)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int known = 0;
        for (size_t k = 0; k < sizeof used_fields / sizeof used_fields[0]; k++)
            known |= strcmp(key, used_fields[k]) == 0;
        for (size_t k = 0; k < sizeof ignored_fields / sizeof ignored_fields[0]; k++)
            if (strcmp(key, ignored_fields[k]) == 0) {
                known = 1;
                if (!ignored_ok(r, v, 0))
                    return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD,
                                "%s: expected numbers (Paillier / range-proof parameters)", key);
            }
        if (!known)
            return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD,
                        "unknown field '%.40s': not a tss-lib ECDSA LocalPartySaveData (an EdDSA "
                        "save file, or another library's?)",
                        key);
    }
    for (size_t k = 0; k < sizeof used_fields / sizeof used_fields[0]; k++)
        if (!json_object_get(root, used_fields[k]))
            return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD,
                        "field %s is missing: not a complete tss-lib ECDSA save file",
                        used_fields[k]);
    return MPCD_TSSLIB_OK;
}

/* An ECPoint {"Curve": "secp256k1", "Coords": [x, y]} ("Curve" optional) into *p. */
static mpcd_tsslib_err read_point(const rd *r, const json_t *v, tss_point *p, const char *what)
{
    const char *key;
    json_t *e, *coords = NULL;
    uint8_t u[65];
    if (!json_is_object(v))
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD,
                    "%s: expected an ECPoint {\"Curve\", \"Coords\"}", what);
    json_object_foreach((json_t *)v, key, e)
    {
        if (strcmp(key, "Coords") == 0)
            coords = e;
        else if (strcmp(key, "Curve") == 0) {
            if (!json_is_string(e) || number_of(r, e))
                return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD, "%s: Curve must be a string",
                            what);
            if (strcmp(json_string_value(e), "secp256k1") != 0)
                return fail(r->why, r->cap, MPCD_TSSLIB_ERR_CURVE,
                            "%s: curve '%.20s', not secp256k1: only tss-lib ECDSA keys on "
                            "secp256k1 can move here",
                            what, json_string_value(e));
        } else
            return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD, "%s: unknown field '%.40s'", what,
                        key);
    }
    if (!json_is_array(coords) || json_array_size(coords) != 2 ||
        !number_of(r, json_array_get(coords, 0)) || !number_of(r, json_array_get(coords, 1)))
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD,
                    "%s: Coords must be an array of two numbers", what);
    u[0] = 4;
    if (to_be(r, number_of(r, json_array_get(coords, 0)), u + 1, 32) != 0 ||
        to_be(r, number_of(r, json_array_get(coords, 1)), u + 33, 32) != 0 ||
        !secp256k1_ec_pubkey_parse(tss_secp_ctx(), &p->pk, u, sizeof u))
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_POINT,
                    "%s is not a point of secp256k1 (coordinates not on the curve)", what);
    return MPCD_TSSLIB_OK;
}

/* A share id (ShareID or Ks[j]): an integer below 2^512, reduced mod q. */
static mpcd_tsslib_err read_id(const rd *r, const json_t *v, tss_scalar *x, const char *what)
{
    const num_span *n = number_of(r, v);
    uint8_t be[64];
    if (!n)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD, "%s: expected a number", what);
    if (to_be(r, n, be, sizeof be) != 0)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_NUMBER,
                    "%s: over-long share id (at most 512 bits)", what);
    tss_scalar_reduce64(x, be);
    return MPCD_TSSLIB_OK;
}

/* Xi into s->xi; the digits pass through a stack buffer that is wiped. */
static mpcd_tsslib_err read_xi(const rd *r, const json_t *v, mpcd_tsslib_share *s)
{
    const num_span *n = number_of(r, v);
    uint8_t be[32];
    int bad;
    if (!n)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD, "Xi: expected a number");
    bad = to_be(r, n, be, sizeof be) != 0;
    bad |= tss_scalar_parse(&s->xi, be) != TSS_OK;
    bad |= tss_scalar_is_zero(&s->xi);
    tss_memzero(be, sizeof be);
    if (bad) {
        tss_scalar_clear(&s->xi);
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_XI,
                    "Xi is not in 1..q-1 (q the secp256k1 group order): the file is damaged");
    }
    return MPCD_TSSLIB_OK;
}

static mpcd_tsslib_err read_parties(const rd *r, json_t *root, mpcd_tsslib_share *s)
{
    json_t *ks = json_object_get(root, "Ks"), *bx = json_object_get(root, "BigXj");
    char what[32];
    tss_scalar id;
    mpcd_tsslib_err err;
    if (!json_is_array(ks) || !json_is_array(bx))
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_FIELD,
                    "Ks and BigXj must be arrays (of numbers, of ECPoints)");
    if (json_array_size(ks) != json_array_size(bx))
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_COUNT,
                    "Ks has %zu entries but BigXj %zu: one per party in both", json_array_size(ks),
                    json_array_size(bx));
    s->n = json_array_size(ks);
    if (s->n < 2 || s->n > MPCD_TSSLIB_MAX_PARTIES)
        return fail(r->why, r->cap, MPCD_TSSLIB_ERR_COUNT, "%zu parties (2..%u supported)", s->n,
                    MPCD_TSSLIB_MAX_PARTIES);
    for (size_t j = 0; j < s->n; j++) {
        snprintf(what, sizeof what, "Ks[%zu]", j);
        if ((err = read_id(r, json_array_get(ks, j), &s->x[j], what)) != MPCD_TSSLIB_OK)
            return err;
        if (tss_scalar_is_zero(&s->x[j]))
            return fail(r->why, r->cap, MPCD_TSSLIB_ERR_SHARE_ID,
                        "Ks[%zu] is 0 mod q: no share can sit at x = 0", j);
        for (size_t k = 0; k < j; k++)
            if (tss_scalar_eq(&s->x[k], &s->x[j]))
                return fail(r->why, r->cap, MPCD_TSSLIB_ERR_SHARE_ID,
                            "Ks[%zu] and Ks[%zu] are equal mod q: duplicate share id", k, j);
        snprintf(what, sizeof what, "BigXj[%zu]", j);
        if ((err = read_point(r, json_array_get(bx, j), &s->pub[j], what)) != MPCD_TSSLIB_OK)
            return err;
    }
    if ((err = read_id(r, json_object_get(root, "ShareID"), &id, "ShareID")) != MPCD_TSSLIB_OK)
        return err;
    for (s->i = 0; s->i < s->n && !tss_scalar_eq(&id, &s->x[s->i]); s->i++)
        ;
    if (s->i == s->n)
        return fail(r->why, r->cap,
                    tss_scalar_is_zero(&id) ? MPCD_TSSLIB_ERR_SHARE_ID : MPCD_TSSLIB_ERR_NOT_MEMBER,
                    "ShareID is not one of Ks: this file's own share id must be in the list");
    return MPCD_TSSLIB_OK;
}

mpcd_tsslib_err mpcd_tsslib_parse(const uint8_t *data, size_t len, mpcd_tsslib_share **out,
                                  char *why, size_t cap)
{
    rd r = {.data = data, .len = len, .why = why, .cap = cap};
    char *text = NULL;
    size_t text_len = 0;
    json_t *root = NULL;
    json_error_t jerr;
    mpcd_tsslib_share *s = NULL;
    mpcd_tsslib_err err;
    if (!out || (!data && len))
        return fail(why, cap, MPCD_TSSLIB_ERR_ARG, "no output or no data");
    *out = NULL;
    if (len > MPCD_TSSLIB_FILE_MAX)
        return fail(why, cap, MPCD_TSSLIB_ERR_SIZE, "%zu bytes (at most %u)", len,
                    MPCD_TSSLIB_FILE_MAX);
    r.nums = malloc(MPCD_TSSLIB_NUMBERS_MAX * sizeof *r.nums);
    if (!r.nums)
        return fail(why, cap, MPCD_TSSLIB_ERR_NOMEM, "out of memory");
    if ((err = tokenize(&r, &text, &text_len)) != MPCD_TSSLIB_OK)
        goto done;
    root = json_loadb(text, text_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root || !json_is_object(root)) {
        err = root ? fail(why, cap, MPCD_TSSLIB_ERR_JSON, "the file is not one JSON object")
                   : fail(why, cap, MPCD_TSSLIB_ERR_JSON, "invalid JSON at line %d: %s", jerr.line,
                          jerr.text);
        goto done;
    }
    s = tss_secmem_alloc(sizeof *s);
    if (!s) {
        err = fail(why, cap, MPCD_TSSLIB_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((err = check_fields(&r, root)) != MPCD_TSSLIB_OK ||
        (err = read_parties(&r, root, s)) != MPCD_TSSLIB_OK ||
        (err = read_point(&r, json_object_get(root, "ECDSAPub"), &s->pk, "ECDSAPub")) !=
            MPCD_TSSLIB_OK ||
        (err = read_xi(&r, json_object_get(root, "Xi"), s)) != MPCD_TSSLIB_OK)
        goto done;
    *out = s;
    s = NULL;
done:
    mpcd_tsslib_free(s);
    json_decref(root);
    if (text) {
        tss_memzero(text, text_len); /* placeholders only, but cheap */
        free(text);
    }
    free(r.nums);
    return err;
}

/* ---- the polynomial ---- */

/* Points (ax[k], ap[k]), k < total: does the polynomial of degree d through the first
 * d + 1 take the value ap[j] at ax[j] for every j in [d + 1, total)? With r == NULL each
 * j is checked on its own; else the conditions are folded with weights r[j - d - 1]
 * (sum_j r_j (sum_k L_k(ax[j]) ap[k] - ap[j]) = infinity). The ax must be distinct.
 * Public data only (variable time). Returns 1 if it holds, 0 if not. */
static int on_poly(const tss_scalar *ax, const tss_point *ap, size_t total, size_t d,
                   const tss_scalar *r)
{
    size_t m = d + 1;
    tss_scalar w[MPCD_TSSLIB_MAX_PARTIES + 1], c[MPCD_TSSLIB_MAX_PARTIES + 1];
    tss_scalar pre[MPCD_TSSLIB_MAX_PARTIES + 2], suf[MPCD_TSSLIB_MAX_PARTIES + 2], t, one;
    tss_point terms[2 * MPCD_TSSLIB_MAX_PARTIES + 2], sum;
    size_t nterms = 0;
    if (m >= total)
        return 1;
    if (!r) { /* each condition on its own: a fold of one with weight 1 */
        tss_scalar_set_u64(&one, 1);
        for (size_t j = m; j < total; j++) {
            tss_scalar xs[MPCD_TSSLIB_MAX_PARTIES + 1];
            tss_point ps[MPCD_TSSLIB_MAX_PARTIES + 1];
            memcpy(xs, ax, m * sizeof *xs);
            memcpy(ps, ap, m * sizeof *ps);
            xs[m] = ax[j];
            ps[m] = ap[j];
            if (!on_poly(xs, ps, m + 1, d, &one))
                return 0;
        }
        return 1;
    }
    /* barycentric weights w_k = 1 / prod_{l != k} (ax[k] - ax[l]), with one inversion for
     * all of them (Montgomery's trick: pre[k] = w'_0 ... w'_{k-1}, then walk back) */
    tss_scalar_set_u64(&pre[0], 1);
    for (size_t k = 0; k < m; k++) {
        tss_scalar_set_u64(&w[k], 1);
        for (size_t l = 0; l < m; l++)
            if (l != k) {
                tss_scalar_sub(&t, &ax[k], &ax[l]);
                tss_scalar_mul(&w[k], &w[k], &t);
            }
        tss_scalar_mul(&pre[k + 1], &pre[k], &w[k]);
        tss_scalar_set_u64(&c[k], 0);
    }
    tss_scalar_inverse(&t, &pre[m]); /* the x's are distinct: no factor is zero */
    for (size_t k = m; k-- > 0;) {
        tss_scalar inv_k;
        tss_scalar_mul(&inv_k, &t, &pre[k]);
        tss_scalar_mul(&t, &t, &w[k]);
        w[k] = inv_k;
    }
    /* c_k = sum_j r_j L_k(ax[j]), L_k(x) = w_k prod_{l != k} (x - ax[l]) */
    for (size_t j = m; j < total; j++) {
        tss_scalar_set_u64(&pre[0], 1);
        tss_scalar_set_u64(&suf[m], 1);
        for (size_t l = 0; l < m; l++) {
            tss_scalar_sub(&t, &ax[j], &ax[l]);
            tss_scalar_mul(&pre[l + 1], &pre[l], &t);
        }
        for (size_t l = m; l-- > 0;) {
            tss_scalar_sub(&t, &ax[j], &ax[l]);
            tss_scalar_mul(&suf[l], &suf[l + 1], &t);
        }
        for (size_t k = 0; k < m; k++) {
            tss_scalar_mul(&t, &pre[k], &suf[k + 1]);
            tss_scalar_mul(&t, &t, &w[k]);
            tss_scalar_mul(&t, &t, &r[j - m]);
            tss_scalar_add(&c[k], &c[k], &t);
        }
        tss_scalar_negate(&t, &r[j - m]);
        if (!tss_scalar_is_zero(&t) && tss_point_mul(&terms[nterms], &ap[j], &t) == TSS_OK)
            nterms++;
    }
    for (size_t k = 0; k < m; k++)
        if (!tss_scalar_is_zero(&c[k]) && tss_point_mul(&terms[nterms], &ap[k], &c[k]) == TSS_OK)
            nterms++;
    return nterms == 0 || tss_point_sum(&sum, terms, nterms) == TSS_ERR_INFINITY;
}

/* Fold weights for degree d over the points (ax, ap)[0..total): Keccak-256 of a tag and
 * every point, then of that hash, d and j, reduced mod q. */
static void fold_weights(tss_scalar *r, const tss_scalar *ax, const tss_point *ap, size_t total,
                         size_t d)
{
    static const char tag[] = "mpc-signer/tsslib-fold/v1";
    uint8_t all[sizeof tag + (MPCD_TSSLIB_MAX_PARTIES + 1) * (32 + 33)], h[32], buf[32 + 16];
    size_t o = sizeof tag;
    memcpy(all, tag, sizeof tag);
    for (size_t k = 0; k < total; k++) {
        tss_scalar_serialize(all + o, &ax[k]);
        tss_point_serialize(all + o + 32, &ap[k]);
        o += 65;
    }
    tss_keccak256(buf, all, o);
    for (size_t j = 0; j + d + 1 < total; j++) {
        for (int b = 0; b < 8; b++) {
            buf[32 + b] = (uint8_t)((uint64_t)d >> (8 * b));
            buf[40 + b] = (uint8_t)((uint64_t)j >> (8 * b));
        }
        tss_keccak256(h, buf, sizeof buf);
        tss_scalar_reduce32(&r[j], h);
    }
}

/* Smallest d in [lo, total - 1] such that the points lie on one polynomial of degree d
 * (always true for d = total - 1). */
static size_t least_degree(const tss_scalar *ax, const tss_point *ap, size_t total, size_t lo)
{
    tss_scalar r[MPCD_TSSLIB_MAX_PARTIES + 1];
    for (size_t d = lo; d + 1 < total; d++) {
        fold_weights(r, ax, ap, total, d);
        if (on_poly(ax, ap, total, d, r) && on_poly(ax, ap, total, d, NULL))
            return d;
    }
    return total - 1;
}

mpcd_tsslib_err mpcd_tsslib_check(mpcd_tsslib_share *s, unsigned expected_t, char *why, size_t cap)
{
    tss_scalar ax[MPCD_TSSLIB_MAX_PARTIES + 1];
    tss_point ap[MPCD_TSSLIB_MAX_PARTIES + 1], xg;
    size_t d;
    if (!s || s->n < 2 || s->n > MPCD_TSSLIB_MAX_PARTIES || s->i >= s->n)
        return fail(why, cap, MPCD_TSSLIB_ERR_ARG, "not a parsed share");
    s->threshold = 0;
    /* Xi·G = BigXj[i]: constant time in Xi; the product is public when it matches */
    if (tss_point_base_mul(&xg, &s->xi) != TSS_OK || !tss_point_eq(&xg, &s->pub[s->i]))
        return fail(why, cap, MPCD_TSSLIB_ERR_XI_MISMATCH,
                    "Xi·G is not BigXj[%zu], this party's public share: the secret share does "
                    "not belong to this key (a file mixed from two keys, or damaged)",
                    s->i);
    /* (0, ECDSAPub) first, then every (x_j, BigXj[j]) */
    tss_scalar_set_u64(&ax[0], 0);
    ap[0] = s->pk;
    memcpy(ax + 1, s->x, s->n * sizeof *ax);
    memcpy(ap + 1, s->pub, s->n * sizeof *ap);
    d = least_degree(ax, ap, s->n + 1, 0);
    if (d == 0)
        return fail(why, cap, MPCD_TSSLIB_ERR_POLYNOMIAL,
                    "every public share equals ECDSAPub (degree 0): each share would be the "
                    "private key itself, which tss-lib never makes");
    if (d == s->n) {
        /* nothing of degree < n fits: is it ECDSAPub, or a public share? */
        size_t d2 = least_degree(ax + 1, ap + 1, s->n, 1);
        if (d2 + 1 < s->n)
            return fail(why, cap, MPCD_TSSLIB_ERR_PUBKEY,
                        "the public shares BigXj agree on a polynomial of degree %zu whose "
                        "constant term is not ECDSAPub: ECDSAPub is not this key's",
                        d2);
        return fail(why, cap, MPCD_TSSLIB_ERR_POLYNOMIAL,
                    "the public shares BigXj and ECDSAPub do not lie on one polynomial of "
                    "degree below %zu: a public share is wrong (or ECDSAPub, with n-of-n)",
                    s->n);
    }
    if (expected_t && expected_t != d + 1)
        return fail(why, cap, MPCD_TSSLIB_ERR_THRESHOLD,
                    "the save file's key needs %zu signers (tss-lib threshold %zu), not %u", d + 1,
                    d, expected_t);
    s->threshold = (unsigned)(d + 1);
    return MPCD_TSSLIB_OK;
}

mpcd_tsslib_err mpcd_tsslib_load(const uint8_t *data, size_t len, unsigned expected_t,
                                 mpcd_tsslib_share **out, char *why, size_t cap)
{
    mpcd_tsslib_err err = mpcd_tsslib_parse(data, len, out, why, cap);
    if (err == MPCD_TSSLIB_OK && (err = mpcd_tsslib_check(*out, expected_t, why, cap)) != 0) {
        mpcd_tsslib_free(*out);
        *out = NULL;
    }
    return err;
}

mpcd_tsslib_err mpcd_tsslib_check_set(const mpcd_tsslib_share *const *shares, size_t count,
                                      char *why, size_t cap)
{
    if (!shares || count == 0)
        return fail(why, cap, MPCD_TSSLIB_ERR_ARG, "no save files");
    for (size_t k = 0; k < count; k++)
        if (!shares[k] || shares[k]->threshold == 0)
            return fail(why, cap, MPCD_TSSLIB_ERR_ARG, "file %zu is not checked", k + 1);
    const mpcd_tsslib_share *a = shares[0];
    for (size_t k = 1; k < count; k++) {
        const mpcd_tsslib_share *b = shares[k];
        if (b->n != a->n || b->threshold != a->threshold)
            return fail(why, cap, MPCD_TSSLIB_ERR_SET,
                        "file %zu is %u-of-%zu, file 1 %u-of-%zu: not the same key", k + 1,
                        b->threshold, b->n, a->threshold, a->n);
        if (!tss_point_eq(&a->pk, &b->pk))
            return fail(why, cap, MPCD_TSSLIB_ERR_SET,
                        "file %zu has another ECDSAPub than file 1: not the same key", k + 1);
        for (size_t j = 0; j < a->n; j++)
            if (!tss_scalar_eq(&a->x[j], &b->x[j]) || !tss_point_eq(&a->pub[j], &b->pub[j]))
                return fail(why, cap, MPCD_TSSLIB_ERR_SET,
                            "file %zu differs from file 1 in Ks[%zu] or BigXj[%zu]", k + 1, j, j);
        for (size_t l = 0; l < k; l++)
            if (shares[l]->i == b->i)
                return fail(why, cap, MPCD_TSSLIB_ERR_SET,
                            "files %zu and %zu are the same party's (position %zu)", l + 1, k + 1,
                            b->i);
    }
    return MPCD_TSSLIB_OK;
}

void mpcd_tsslib_free(mpcd_tsslib_share *s)
{
    tss_secmem_free(s); /* wipes xi with the rest */
}
