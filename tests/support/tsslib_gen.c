/* tests/support/tsslib_gen.c — see tsslib_gen.h. The arithmetic is OpenSSL's BIGNUM, not
 * tss/scalar, so the reader under test (daemon/common/tsslib.c) is checked against an
 * independent implementation of the same conventions. */
#include <fcntl.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>

#include "tss/point.h"
#include "test_rng.h"
#include "tsslib_gen.h"

static const char order_hex[] = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";

int tsslib_gen_point(uint8_t out[64], const uint8_t s[32])
{
    secp256k1_pubkey p;
    uint8_t u[65];
    size_t len = sizeof u;
    if (!secp256k1_ec_pubkey_create(tss_secp_ctx(), &p, s) ||
        !secp256k1_ec_pubkey_serialize(tss_secp_ctx(), u, &len, &p, SECP256K1_EC_UNCOMPRESSED))
        return -1;
    memcpy(out, u + 1, 64);
    return 0;
}

/* A random integer of exactly `bits` bits (top bit set), odd if odd. */
static BIGNUM *rand_bn(const tss_rng *rng, int bits, int odd)
{
    uint8_t buf[512];
    size_t len = (size_t)(bits + 7) / 8;
    BIGNUM *b;
    if (len > sizeof buf || tss_rand_bytes(rng, buf, len) != TSS_OK)
        return NULL;
    b = BN_bin2bn(buf, (int)len, NULL);
    if (b && (!BN_rshift(b, b, (int)(8 * len) - bits) || !BN_set_bit(b, bits - 1) ||
              (odd && !BN_set_bit(b, 0)))) {
        BN_free(b);
        b = NULL;
    }
    return b;
}

static int set_dec(char out[TSSLIB_GEN_DEC], const BIGNUM *b)
{
    char *s = b ? BN_bn2dec(b) : NULL;
    int ok = s && strlen(s) < TSSLIB_GEN_DEC;
    if (ok)
        strcpy(out, s);
    OPENSSL_free(s);
    return ok ? 0 : -1;
}

/* Plausible Paillier and Ñ parameters: the sizes and relations tss-lib's have (N = PQ,
 * PhiN = (P-1)(Q-1), LambdaN = PhiN/2, Ñ = P'Q', h1, h2, α, β below Ñ); not primes. */
static int make_pre(tsslib_gen_pre *pre, const tss_rng *rng, BN_CTX *bc)
{
    BIGNUM *p = rand_bn(rng, 1024, 1), *q = rand_bn(rng, 1024, 1), *pp = rand_bn(rng, 1024, 1),
           *qq = rand_bn(rng, 1024, 1), *h1 = rand_bn(rng, 2047, 0), *h2 = rand_bn(rng, 2047, 0),
           *al = rand_bn(rng, 2047, 0), *be = rand_bn(rng, 2047, 0), *n = BN_new(), *phi = BN_new(),
           *lam = BN_new(), *nt = BN_new(), *p1 = BN_new(), *q1 = BN_new();
    int ok = p && q && pp && qq && h1 && h2 && al && be && n && phi && lam && nt && p1 && q1 &&
             BN_mul(n, p, q, bc) && BN_sub(p1, p, BN_value_one()) &&
             BN_sub(q1, q, BN_value_one()) && BN_mul(phi, p1, q1, bc) && BN_rshift1(lam, phi) &&
             BN_mul(nt, pp, qq, bc) && set_dec(pre->n, n) == 0 &&
             set_dec(pre->lambda_n, lam) == 0 && set_dec(pre->phi_n, phi) == 0 &&
             set_dec(pre->p, p) == 0 && set_dec(pre->q, q) == 0 && set_dec(pre->ntilde, nt) == 0 &&
             set_dec(pre->h1, h1) == 0 && set_dec(pre->h2, h2) == 0 &&
             set_dec(pre->alpha, al) == 0 && set_dec(pre->beta, be) == 0 &&
             set_dec(pre->pp, pp) == 0 && set_dec(pre->qq, qq) == 0;
    BIGNUM *all[] = {p, q, pp, qq, h1, h2, al, be, n, phi, lam, nt, p1, q1};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        BN_free(all[k]);
    return ok ? 0 : -1;
}

static int cmp_dec(const void *a, const void *b)
{
    const char *x = a, *y = b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Party ids: given, or random 256-bit integers sorted ascending. */
static int make_ids(tsslib_gen_key *k, const char *const *ids, const tss_rng *rng)
{
    for (unsigned j = 0; j < k->n; j++) {
        if (ids) {
            if (strlen(ids[j]) >= sizeof k->ks[j])
                return -1;
            strcpy(k->ks[j], ids[j]);
            continue;
        }
        BIGNUM *b = rand_bn(rng, 256, 0);
        char *s = b ? BN_bn2dec(b) : NULL;
        if (!s || strlen(s) >= sizeof k->ks[j]) {
            BN_free(b);
            OPENSSL_free(s);
            return -1;
        }
        strcpy(k->ks[j], s);
        BN_free(b);
        OPENSSL_free(s);
    }
    if (!ids)
        qsort(k->ks, k->n, sizeof k->ks[0], cmp_dec);
    return 0;
}

/* Xi and BigXj for every party: p(id mod q) with Horner's rule. */
static int make_shares(tsslib_gen_key *k, BIGNUM **coef, const BIGNUM *order, BN_CTX *bc)
{
    BIGNUM *x = BN_new(), *acc = BN_new();
    int ok = x && acc;
    for (unsigned j = 0; ok && j < k->n; j++) {
        BN_zero(acc);
        ok = BN_dec2bn(&x, k->ks[j]) > 0 && BN_nnmod(x, x, order, bc);
        for (unsigned d = k->t; ok && d-- > 0;)
            ok = BN_mod_mul(acc, acc, x, order, bc) && BN_mod_add(acc, acc, coef[d], order, bc);
        /* an id that is 0 mod q (a test's tampering) gets p(0), the key itself */
        ok = ok && BN_bn2binpad(acc, k->xi[j], 32) == 32 &&
             tsslib_gen_point(k->bigx[j], k->xi[j]) == 0;
    }
    BN_free(x);
    BN_clear_free(acc);
    return ok ? 0 : -1;
}

tsslib_gen_key *tsslib_gen_make(const uint8_t sk[32], unsigned t, unsigned n,
                                const char *const *ids, const tss_rng *rng)
{
    tsslib_gen_key *k;
    BIGNUM *coef[TSSLIB_GEN_MAX] = {0}, *order = NULL;
    BN_CTX *bc;
    uint8_t buf[32];
    int ok;
    if (t < 2 || t > n || n > TSSLIB_GEN_MAX || !sk || !rng)
        return NULL;
    k = calloc(1, sizeof *k);
    bc = BN_CTX_new();
    ok = k && bc && BN_hex2bn(&order, order_hex) > 0;
    if (ok) {
        k->t = t;
        k->n = n;
        k->curve = "secp256k1";
        coef[0] = BN_bin2bn(sk, 32, NULL);
        ok = coef[0] && tsslib_gen_point(k->pub, sk) == 0;
    }
    for (unsigned d = 1; ok && d < t; d++) {
        ok = tss_rand_bytes(rng, buf, sizeof buf) == TSS_OK &&
             (coef[d] = BN_bin2bn(buf, 32, NULL)) != NULL && BN_nnmod(coef[d], coef[d], order, bc);
    }
    ok = ok && make_ids(k, ids, rng) == 0 && make_shares(k, coef, order, bc) == 0;
    for (unsigned j = 0; ok && j < n; j++)
        ok = make_pre(&k->pre[j], rng, bc) == 0;
    if (ok) {
        k->pk[0] = (uint8_t)(2 | (k->pub[63] & 1));
        memcpy(k->pk + 1, k->pub, 32);
    }
    for (unsigned d = 0; d < t; d++)
        BN_clear_free(coef[d]);
    BN_free(order);
    BN_CTX_free(bc);
    memset(buf, 0, sizeof buf);
    if (!ok) {
        tsslib_gen_free(k);
        return NULL;
    }
    return k;
}

/* ---- encoding/json's output ---- */

typedef struct {
    FILE *f;
    int indent;
} out;

static void nl(out *o, int level)
{
    if (o->indent) {
        fputc('\n', o->f);
        for (int k = 0; k < level; k++)
            fputs("  ", o->f);
    }
}

/* ,"key": at level (first: no comma) */
static void key(out *o, int level, int first, const char *name)
{
    if (!first)
        fputc(',', o->f);
    nl(o, level);
    fprintf(o->f, "\"%s\":%s", name, o->indent ? " " : "");
}

static void be_dec(out *o, const uint8_t *be, size_t len)
{
    BIGNUM *b = BN_bin2bn(be, (int)len, NULL);
    char *s = b ? BN_bn2dec(b) : NULL;
    fputs(s ? s : "null", o->f);
    OPENSSL_free(s);
    BN_clear_free(b);
}

/* An ECPoint at level: {"Curve":"secp256k1","Coords":[x,y]} */
static void point(out *o, int level, const char *curve, const uint8_t xy[64])
{
    fputc('{', o->f);
    if (curve) {
        key(o, level + 1, 1, "Curve");
        fprintf(o->f, "\"%s\"", curve);
    }
    key(o, level + 1, !curve, "Coords");
    fputc('[', o->f);
    nl(o, level + 2);
    be_dec(o, xy, 32);
    fputc(',', o->f);
    nl(o, level + 2);
    be_dec(o, xy + 32, 32);
    nl(o, level + 1);
    fputc(']', o->f);
    nl(o, level);
    fputc('}', o->f);
}

/* "name": [ one decimal string per party, picked by field offset ] */
static void dec_array(out *o, const tsslib_gen_key *k, const char *name, size_t field)
{
    key(o, 1, 0, name);
    fputc('[', o->f);
    for (unsigned j = 0; j < k->n; j++) {
        if (j)
            fputc(',', o->f);
        nl(o, 2);
        fputs((const char *)&k->pre[j] + field, o->f);
    }
    nl(o, 1);
    fputc(']', o->f);
}

char *tsslib_gen_json(const tsslib_gen_key *k, unsigned j, int indent)
{
    char *text = NULL;
    size_t len = 0;
    const tsslib_gen_pre *p;
    out o = {.indent = indent};
    if (!k || j >= k->n || !(o.f = open_memstream(&text, &len)))
        return NULL;
    p = &k->pre[j];
    fputc('{', o.f);
    key(&o, 1, 1, "PaillierSK");
    fputc('{', o.f);
    key(&o, 2, 1, "N");
    fputs(p->n, o.f);
    key(&o, 2, 0, "LambdaN");
    fputs(p->lambda_n, o.f);
    key(&o, 2, 0, "PhiN");
    fputs(p->phi_n, o.f);
    key(&o, 2, 0, "P");
    fputs(p->p, o.f);
    key(&o, 2, 0, "Q");
    fputs(p->q, o.f);
    nl(&o, 1);
    fputc('}', o.f);
    const struct {
        const char *name, *value;
    } pre[] = {{"NTildei", p->ntilde}, {"H1i", p->h1}, {"H2i", p->h2}, {"Alpha", p->alpha},
               {"Beta", p->beta},      {"P", p->pp},   {"Q", p->qq}};
    for (size_t f = 0; f < sizeof pre / sizeof pre[0]; f++) {
        key(&o, 1, 0, pre[f].name);
        fputs(pre[f].value, o.f);
    }
    key(&o, 1, 0, "Xi");
    be_dec(&o, k->xi[j], 32);
    key(&o, 1, 0, "ShareID");
    fputs(k->ks[j], o.f);
    key(&o, 1, 0, "Ks");
    fputc('[', o.f);
    for (unsigned m = 0; m < k->n; m++) {
        if (m)
            fputc(',', o.f);
        nl(&o, 2);
        fputs(k->ks[m], o.f);
    }
    nl(&o, 1);
    fputc(']', o.f);
    dec_array(&o, k, "NTildej", offsetof(tsslib_gen_pre, ntilde));
    dec_array(&o, k, "H1j", offsetof(tsslib_gen_pre, h1));
    dec_array(&o, k, "H2j", offsetof(tsslib_gen_pre, h2));
    key(&o, 1, 0, "BigXj");
    fputc('[', o.f);
    for (unsigned m = 0; m < k->n; m++) {
        if (m)
            fputc(',', o.f);
        nl(&o, 2);
        point(&o, 2, k->curve, k->bigx[m]);
    }
    nl(&o, 1);
    fputc(']', o.f);
    key(&o, 1, 0, "PaillierPKs");
    fputc('[', o.f);
    for (unsigned m = 0; m < k->n; m++) {
        if (m)
            fputc(',', o.f);
        nl(&o, 2);
        fputc('{', o.f);
        key(&o, 3, 1, "N");
        fputs(k->pre[m].n, o.f);
        nl(&o, 2);
        fputc('}', o.f);
    }
    nl(&o, 1);
    fputc(']', o.f);
    key(&o, 1, 0, "ECDSAPub");
    point(&o, 1, k->curve, k->pub);
    nl(&o, 0);
    fputc('}', o.f);
    if (fclose(o.f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int tsslib_gen_write(const tsslib_gen_key *k, unsigned j, int indent, const char *path)
{
    char *text = tsslib_gen_json(k, j, indent);
    int fd = text ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    size_t len = text ? strlen(text) : 0;
    int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (text)
        memset(text, 0, len);
    free(text);
    return ok ? 0 : -1;
}

char *tsslib_gen_replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    size_t a, lf = strlen(from), lt = strlen(to), lx = strlen(text);
    char *r;
    if (!at || !(r = malloc(lx - lf + lt + 1)))
        return NULL;
    a = (size_t)(at - text);
    memcpy(r, text, a);
    memcpy(r + a, to, lt);
    memcpy(r + a + lt, at + lf, lx - a - lf + 1);
    return r;
}

void tsslib_gen_free(tsslib_gen_key *k)
{
    if (k) {
        memset(k->xi, 0, sizeof k->xi);
        free(k);
    }
}

tsslib_gen_key *tsslib_gen_small(uint64_t seed, uint8_t skv, unsigned t, unsigned n,
                                 const char *const *ids)
{
    test_rng r;
    uint8_t sk[32] = {0};
    sk[31] = skv;
    test_rng_init(&r, seed);
    return tsslib_gen_make(sk, t, n, ids, &r.rng);
}

void tsslib_gen_xi_dec(char dec[100], const tsslib_gen_key *k, unsigned j)
{
    BIGNUM *b = BN_bin2bn(k->xi[j], 32, NULL);
    char *s = BN_bn2dec(b);
    snprintf(dec, 100, "%s", s ? s : "");
    OPENSSL_free(s);
    BN_free(b);
}
