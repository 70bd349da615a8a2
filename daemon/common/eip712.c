/* daemon/common/eip712.c — EIP-712 typed data: type validation (names, references, cycles),
 * encodeType / typeHash, encodeData of every value kind, and the final digest. Works on a
 * borrowed jansson tree; all state is in one heap context per call. See eip712.h for the
 * accepted input. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eip712.h"
#include "tss/keccak.h"

#define E712_NAME_MAX 63  /* bytes of a type or field name */
#define E712_TYPE_MAX 255 /* bytes of a field's type string */

enum e712_kind { K_STRUCT, K_UINT, K_INT, K_BYTESN, K_BOOL, K_ADDRESS, K_STRING, K_BYTES };

typedef struct {
    const char *name;
    size_t name_len;
    size_t nfields;
    const char *fname[MPCD_EIP712_MAX_FIELDS];
    const char *ftype[MPCD_EIP712_MAX_FIELDS];
    size_t ftype_len[MPCD_EIP712_MAX_FIELDS];
    int color; /* cycle search: 0 unvisited, 1 on the stack, 2 done */
    int hashed;
    uint8_t typehash[32];
} e712_struct;

typedef struct {
    e712_struct t[MPCD_EIP712_MAX_TYPES];
    size_t n;
    size_t values; /* values encoded so far: bounds the work */
    char path[192];
    size_t plen;
    char *detail;
    size_t detail_len;
} e712_ctx;

/* Records "path: what" in the caller's detail buffer and returns err. */
__attribute__((format(printf, 3, 4))) static mpcd_eth_err fail(e712_ctx *c, mpcd_eth_err err,
                                                               const char *fmt, ...)
{
    if (c->detail && c->detail_len) {
        char what[128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        snprintf(c->detail, c->detail_len, "%s%s%s", c->path, c->plen ? ": " : "", what);
    }
    return err;
}

/* Appends to the path shown in errors; returns the length to restore. Names in the path
 * have been checked to be identifiers, or are shown as "?" when they are not. */
__attribute__((format(printf, 2, 3))) static size_t path_push(e712_ctx *c, const char *fmt, ...)
{
    size_t old = c->plen;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->plen += (size_t)n < sizeof c->path - c->plen ? (size_t)n : sizeof c->path - 1 - c->plen;
    return old;
}

static void path_pop(e712_ctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = 0;
}

static int is_ident(const char *s, size_t len)
{
    if (len == 0 || len > E712_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        int alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '$';
        if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
            return 0;
    }
    return 1;
}

/* A decimal number in s[0..len) without leading zeros, at most 6 digits; -1 otherwise. */
static long small_dec(const char *s, size_t len)
{
    if (len == 0 || len > 6 || (s[0] == '0' && len > 1))
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The kind of atomic type s[0..len) and its width (bits for uintN/intN, bytes for bytesN),
 * or -1 if s is not an atomic type name. */
static int atomic_kind(const char *s, size_t len, unsigned *width)
{
    long n;
    *width = 0;
    if (len == 4 && !memcmp(s, "bool", 4))
        return K_BOOL;
    if (len == 7 && !memcmp(s, "address", 7))
        return K_ADDRESS;
    if (len == 6 && !memcmp(s, "string", 6))
        return K_STRING;
    if (len == 5 && !memcmp(s, "bytes", 5))
        return K_BYTES;
    if (len > 4 && !memcmp(s, "uint", 4) && (n = small_dec(s + 4, len - 4)) >= 8 && n <= 256 &&
        n % 8 == 0) {
        *width = (unsigned)n;
        return K_UINT;
    }
    if (len > 3 && !memcmp(s, "int", 3) && (n = small_dec(s + 3, len - 3)) >= 8 && n <= 256 &&
        n % 8 == 0) {
        *width = (unsigned)n;
        return K_INT;
    }
    if (len > 5 && !memcmp(s, "bytes", 5) && (n = small_dec(s + 5, len - 5)) >= 1 && n <= 32) {
        *width = (unsigned)n;
        return K_BYTESN;
    }
    return -1;
}

static int find_struct(const e712_ctx *c, const char *s, size_t len)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i].name_len == len && !memcmp(c->t[i].name, s, len))
            return (int)i;
    return -1;
}

static size_t base_len(const char *s, size_t len)
{
    const char *b = memchr(s, '[', len);
    return b ? (size_t)(b - s) : len;
}

/* Splits off the last array suffix of s[0..len) (which ends in ']', checked by
 * check_type): *elem_len is the element type's length, *n the fixed length or 0 for []. */
static void last_dim(const char *s, size_t len, size_t *elem_len, long *n)
{
    size_t i = len - 1;
    while (s[i] != '[')
        i--;
    *elem_len = i;
    *n = i + 1 == len - 1 ? 0 : small_dec(s + i + 1, len - 2 - i);
}

/* Checks a field type: an atomic or defined struct base and well-formed array suffixes. */
static mpcd_eth_err check_type(e712_ctx *c, const char *s, size_t len)
{
    unsigned w;
    size_t b = base_len(s, len);
    if (len > E712_TYPE_MAX)
        return fail(c, MPCD_ETH_ERR_712_TYPE, "type name too long");
    if (atomic_kind(s, b, &w) < 0 && find_struct(c, s, b) < 0)
        return fail(c, MPCD_ETH_ERR_712_TYPE, "unknown type \"%.*s\"", is_ident(s, b) ? (int)b : 1,
                    is_ident(s, b) ? s : "?");
    for (size_t i = b; i < len;) {
        const char *close = memchr(s + i, ']', len - i);
        if (s[i] != '[' || !close)
            return fail(c, MPCD_ETH_ERR_712_TYPE, "malformed array type");
        size_t dl = (size_t)(close - (s + i)) - 1;
        long n = dl ? small_dec(s + i + 1, dl) : 0;
        if (n < 0 || (dl && (n < 1 || n > MPCD_EIP712_MAX_VALUES)))
            return fail(c, MPCD_ETH_ERR_712_TYPE, "malformed array length");
        i += dl + 2;
    }
    return MPCD_ETH_OK;
}

/* Reads types{} into c->t: names, fields, then every field type (once all names are known). */
static mpcd_eth_err load_types(e712_ctx *c, json_t *types)
{
    const char *key;
    size_t kl;
    json_t *fields;
    unsigned w;
    if (!json_is_object(types))
        return fail(c, MPCD_ETH_ERR_JSON, "types must be an object");
    if (json_object_size(types) > MPCD_EIP712_MAX_TYPES)
        return fail(c, MPCD_ETH_ERR_TOO_LARGE, "more than %d types", MPCD_EIP712_MAX_TYPES);
    /* keylen: a key with an embedded NUL ("A\u0000x") must not pass for "A" */
    json_object_keylen_foreach(types, key, kl, fields)
    {
        e712_struct *st = &c->t[c->n];
        if (!is_ident(key, kl) || atomic_kind(key, kl, &w) >= 0)
            return fail(c, MPCD_ETH_ERR_712_TYPE, "type name is not an identifier");
        if (find_struct(c, key, kl) >= 0) /* not reached: the parser refuses duplicates */
            return fail(c, MPCD_ETH_ERR_712_TYPE, "duplicate type %s", key);
        size_t old = path_push(c, "types.%s", key);
        if (!json_is_array(fields))
            return fail(c, MPCD_ETH_ERR_712_TYPE, "must be an array of {name, type}");
        if (json_array_size(fields) > MPCD_EIP712_MAX_FIELDS)
            return fail(c, MPCD_ETH_ERR_TOO_LARGE, "more than %d fields", MPCD_EIP712_MAX_FIELDS);
        st->name = key;
        st->name_len = kl;
        for (size_t i = 0; i < json_array_size(fields); i++) {
            json_t *f = json_array_get(fields, i), *nm = json_object_get(f, "name"),
                   *ty = json_object_get(f, "type");
            if (!json_is_object(f) || json_object_size(f) != 2 || !json_is_string(nm) ||
                !json_is_string(ty))
                return fail(c, MPCD_ETH_ERR_712_TYPE, "field %zu is not {name, type}", i);
            const char *fn = json_string_value(nm);
            if (!is_ident(fn, json_string_length(nm)) || strlen(fn) != json_string_length(nm))
                return fail(c, MPCD_ETH_ERR_712_TYPE, "field %zu name is not an identifier", i);
            for (size_t j = 0; j < i; j++)
                if (!strcmp(st->fname[j], fn))
                    return fail(c, MPCD_ETH_ERR_712_TYPE, "duplicate field %s", fn);
            st->fname[i] = fn;
            st->ftype[i] = json_string_value(ty);
            st->ftype_len[i] = json_string_length(ty);
        }
        st->nfields = json_array_size(fields);
        c->n++;
        path_pop(c, old);
    }
    for (size_t k = 0; k < c->n; k++) {
        e712_struct *st = &c->t[k];
        for (size_t i = 0; i < st->nfields; i++) {
            size_t old = path_push(c, "types.%s.%s", st->name, st->fname[i]);
            mpcd_eth_err e = check_type(c, st->ftype[i], st->ftype_len[i]);
            if (e != MPCD_ETH_OK)
                return e;
            path_pop(c, old);
        }
    }
    return MPCD_ETH_OK;
}

/* Depth-first search for a struct that contains itself; depth <= number of types. */
static mpcd_eth_err no_cycle(e712_ctx *c, size_t k)
{
    e712_struct *st = &c->t[k];
    st->color = 1;
    for (size_t i = 0; i < st->nfields; i++) {
        int j = find_struct(c, st->ftype[i], base_len(st->ftype[i], st->ftype_len[i]));
        if (j < 0 || c->t[j].color == 2)
            continue;
        if (c->t[j].color == 1)
            return fail(c, MPCD_ETH_ERR_712_TYPE, "types.%s contains itself (through %s)",
                        c->t[j].name, st->name);
        mpcd_eth_err e = no_cycle(c, (size_t)j);
        if (e != MPCD_ETH_OK)
            return e;
    }
    st->color = 2;
    return MPCD_ETH_OK;
}

static void collect_deps(const e712_ctx *c, size_t k, int *mark)
{
    const e712_struct *st = &c->t[k];
    for (size_t i = 0; i < st->nfields; i++) {
        int j = find_struct(c, st->ftype[i], base_len(st->ftype[i], st->ftype_len[i]));
        if (j >= 0 && !mark[j]) {
            mark[j] = 1;
            collect_deps(c, (size_t)j, mark);
        }
    }
}

static size_t type_string(const e712_struct *st, char *out)
{
    size_t n = 0;
    memcpy(out + n, st->name, st->name_len);
    n += st->name_len;
    out[n++] = '(';
    for (size_t i = 0; i < st->nfields; i++) {
        size_t fl = strlen(st->fname[i]);
        if (i)
            out[n++] = ',';
        memcpy(out + n, st->ftype[i], st->ftype_len[i]);
        n += st->ftype_len[i];
        out[n++] = ' ';
        memcpy(out + n, st->fname[i], fl);
        n += fl;
    }
    out[n++] = ')';
    return n;
}

/* typeHash = keccak256(encodeType): the type, then the structs it references (directly or
 * not) sorted by name. Cached per type. */
static mpcd_eth_err type_hash(e712_ctx *c, size_t k, uint8_t out[32])
{
    e712_struct *st = &c->t[k];
    if (st->hashed) {
        memcpy(out, st->typehash, 32);
        return MPCD_ETH_OK;
    }
    int mark[MPCD_EIP712_MAX_TYPES] = {0};
    size_t order[MPCD_EIP712_MAX_TYPES], no = 0, total = 0;
    collect_deps(c, k, mark);
    mark[k] = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!mark[i])
            continue;
        size_t j = no++;
        /* insertion sort by name: at most MPCD_EIP712_MAX_TYPES entries */
        while (j > 0 && strcmp(c->t[order[j - 1]].name, c->t[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i <= no; i++) {
        const e712_struct *t = &c->t[i == 0 ? k : order[i - 1]];
        total += t->name_len + 2;
        for (size_t f = 0; f < t->nfields; f++)
            total += t->ftype_len[f] + strlen(t->fname[f]) + 2;
    }
    char *s = malloc(total);
    if (!s)
        return fail(c, MPCD_ETH_ERR_NOMEM, "out of memory");
    size_t n = type_string(st, s);
    for (size_t i = 0; i < no; i++)
        n += type_string(&c->t[order[i]], s + n);
    tss_keccak256(st->typehash, (const uint8_t *)s, n);
    free(s);
    st->hashed = 1;
    memcpy(out, st->typehash, 32);
    return MPCD_ETH_OK;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A JSON string "0x" + hex: its bytes in a new buffer (*out, *len; free it), or an error. */
static mpcd_eth_err hex_value(e712_ctx *c, const json_t *v, uint8_t **out, size_t *len)
{
    if (!json_is_string(v))
        return fail(c, MPCD_ETH_ERR_712_VALUE, "expected a 0x-prefixed hex string");
    const char *s = json_string_value(v);
    size_t sl = json_string_length(v);
    if (sl < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || sl % 2)
        return fail(c, MPCD_ETH_ERR_712_VALUE, "expected 0x and an even number of hex digits");
    size_t n = (sl - 2) / 2;
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        return fail(c, MPCD_ETH_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            free(b);
            return fail(c, MPCD_ETH_ERR_712_VALUE, "not a hex digit");
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n;
    return MPCD_ETH_OK;
}

/* An address "0x" + 40 hex digits; a mixed-case one must carry a valid EIP-55 checksum. */
static mpcd_eth_err address_value(e712_ctx *c, const json_t *v, uint8_t out[20])
{
    uint8_t *b;
    size_t n;
    mpcd_eth_err e = hex_value(c, v, &b, &n);
    if (e != MPCD_ETH_OK)
        return e;
    if (n != 20) {
        free(b);
        return fail(c, MPCD_ETH_ERR_712_VALUE, "address must be 0x + 40 hex digits");
    }
    const char *s = json_string_value(v) + 2;
    int upper = 0, lower = 0;
    char low[40];
    for (int i = 0; i < 40; i++) {
        upper |= s[i] >= 'A' && s[i] <= 'F';
        lower |= s[i] >= 'a' && s[i] <= 'f';
        low[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] + 32) : s[i];
    }
    if (upper && lower) {
        uint8_t h[32];
        tss_keccak256(h, (const uint8_t *)low, 40);
        for (int i = 0; i < 40; i++) {
            int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15, is_up = s[i] >= 'A' && s[i] <= 'F';
            if (low[i] >= 'a' && is_up != (nib >= 8)) {
                free(b);
                return fail(c, MPCD_ETH_ERR_712_VALUE, "address has a bad EIP-55 checksum");
            }
        }
    }
    memcpy(out, b, 20);
    free(b);
    return MPCD_ETH_OK;
}

/* A number: a JSON integer, or a string in decimal or 0x-hex, optionally negative, as a
 * 256-bit magnitude mag and a sign. RANGE if the magnitude does not fit 256 bits. */
static mpcd_eth_err number_value(e712_ctx *c, const json_t *v, uint8_t mag[32], int *neg)
{
    memset(mag, 0, 32);
    *neg = 0;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        uint64_t m = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        *neg = x < 0;
        for (int i = 0; i < 8; i++)
            mag[31 - i] = (uint8_t)(m >> (8 * i));
        return MPCD_ETH_OK;
    }
    if (!json_is_string(v))
        return fail(c, MPCD_ETH_ERR_712_VALUE, "expected an integer or a numeric string");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), i = 0;
    if (len > 100)
        return fail(c, MPCD_ETH_ERR_712_RANGE, "number too long");
    if (i < len && s[i] == '-') {
        *neg = 1;
        i++;
    }
    int hex = len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X');
    i += hex ? 2 : 0;
    if (i == len)
        return fail(c, MPCD_ETH_ERR_712_VALUE, "expected a decimal or 0x-hex number");
    for (; i < len; i++) {
        int d = hex ? hexval(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (d < 0)
            return fail(c, MPCD_ETH_ERR_712_VALUE, "expected a decimal or 0x-hex number");
        unsigned carry = (unsigned)d;
        for (int b = 31; b >= 0; b--) { /* mag = mag * base + d */
            unsigned t = (unsigned)mag[b] * (hex ? 16u : 10u) + carry;
            mag[b] = (uint8_t)t;
            carry = t >> 8;
        }
        if (carry)
            return fail(c, MPCD_ETH_ERR_712_RANGE, "number does not fit 256 bits");
    }
    return MPCD_ETH_OK;
}

/* uintN / intN: range check for width bits, then the 32-byte two's-complement word. */
static mpcd_eth_err int_value(e712_ctx *c, const json_t *v, int is_signed, unsigned bits,
                              uint8_t out[32])
{
    uint8_t mag[32];
    int neg, zero = 1;
    mpcd_eth_err e = number_value(c, v, mag, &neg);
    if (e != MPCD_ETH_OK)
        return e;
    size_t top = 32 - bits / 8; /* first byte of the N-bit window */
    for (size_t i = 0; i < 32; i++)
        zero &= mag[i] == 0;
    for (size_t i = 0; i < top; i++)
        if (mag[i])
            return fail(c, MPCD_ETH_ERR_712_RANGE, "out of range for %sint%u", is_signed ? "" : "u",
                        bits);
    if (!is_signed && neg && !zero)
        return fail(c, MPCD_ETH_ERR_712_RANGE, "negative value for uint%u", bits);
    if (is_signed && mag[top] >= 0x80) {
        /* only -2^(N-1) itself has the top bit set */
        int min = neg && mag[top] == 0x80;
        for (size_t i = top + 1; i < 32 && min; i++)
            min = mag[i] == 0;
        if (!min)
            return fail(c, MPCD_ETH_ERR_712_RANGE, "out of range for int%u", bits);
    }
    if (neg && !zero) { /* two's complement over 256 bits: ~mag + 1 */
        unsigned carry = 1;
        for (int i = 31; i >= 0; i--) {
            unsigned t = (uint8_t)~mag[i] + carry;
            out[i] = (uint8_t)t;
            carry = t >> 8;
        }
    } else {
        memcpy(out, mag, 32);
    }
    return MPCD_ETH_OK;
}

static mpcd_eth_err atomic_value(e712_ctx *c, int kind, unsigned w, const json_t *v,
                                 uint8_t out[32])
{
    uint8_t *b;
    size_t n;
    mpcd_eth_err e;
    memset(out, 0, 32);
    switch (kind) {
    case K_UINT:
    case K_INT:
        return int_value(c, v, kind == K_INT, w, out);
    case K_BOOL:
        if (!json_is_boolean(v))
            return fail(c, MPCD_ETH_ERR_712_VALUE, "expected true or false");
        out[31] = json_is_true(v) ? 1 : 0;
        return MPCD_ETH_OK;
    case K_ADDRESS:
        return address_value(c, v, out + 12);
    case K_STRING:
        if (!json_is_string(v))
            return fail(c, MPCD_ETH_ERR_712_VALUE, "expected a string");
        tss_keccak256(out, (const uint8_t *)json_string_value(v), json_string_length(v));
        return MPCD_ETH_OK;
    case K_BYTES:
    case K_BYTESN:
        if ((e = hex_value(c, v, &b, &n)) != MPCD_ETH_OK)
            return e;
        if (kind == K_BYTES) {
            tss_keccak256(out, b, n);
        } else if (n != w) {
            free(b);
            return fail(c, MPCD_ETH_ERR_712_RANGE, "bytes%u needs exactly %u bytes", w, w);
        } else {
            memcpy(out, b, n); /* left-aligned, zero-padded */
        }
        free(b);
        return MPCD_ETH_OK;
    }
    return fail(c, MPCD_ETH_ERR_712_TYPE, "internal: unknown kind");
}

static mpcd_eth_err hash_struct(e712_ctx *c, size_t k, const json_t *v, unsigned depth,
                                uint8_t out[32]);

/* encodeData of one value of type s[0..len) (checked by check_type) into a 32-byte word;
 * depth is the nesting level of the struct or array that holds the value. */
static mpcd_eth_err encode_value(e712_ctx *c, const char *s, size_t len, const json_t *v,
                                 unsigned depth, uint8_t out[32])
{
    unsigned w;
    if (++c->values > MPCD_EIP712_MAX_VALUES)
        return fail(c, MPCD_ETH_ERR_TOO_LARGE, "more than %d values", MPCD_EIP712_MAX_VALUES);
    if (!v)
        return fail(c, MPCD_ETH_ERR_712_FIELD, "missing");
    /* An array or a struct is one level below its container (depth): the message is 1. */
    if (depth >= MPCD_EIP712_MAX_DEPTH && (s[len - 1] == ']' || atomic_kind(s, len, &w) < 0))
        return fail(c, MPCD_ETH_ERR_TOO_LARGE, "nested deeper than %d", MPCD_EIP712_MAX_DEPTH);
    if (s[len - 1] == ']') { /* array: keccak of the concatenated element encodings */
        size_t elem_len, cnt = json_array_size(v);
        long fixed;
        last_dim(s, len, &elem_len, &fixed);
        if (!json_is_array(v))
            return fail(c, MPCD_ETH_ERR_712_VALUE, "expected an array");
        if (fixed && cnt != (size_t)fixed)
            return fail(c, MPCD_ETH_ERR_712_RANGE, "expected %ld elements, got %zu", fixed, cnt);
        if (cnt > MPCD_EIP712_MAX_VALUES - c->values)
            return fail(c, MPCD_ETH_ERR_TOO_LARGE, "more than %d values", MPCD_EIP712_MAX_VALUES);
        uint8_t *buf = malloc(cnt ? 32 * cnt : 1);
        if (!buf)
            return fail(c, MPCD_ETH_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < cnt; i++) {
            size_t old = path_push(c, "[%zu]", i);
            mpcd_eth_err e =
                encode_value(c, s, elem_len, json_array_get(v, i), depth + 1, buf + 32 * i);
            if (e != MPCD_ETH_OK) {
                free(buf);
                return e;
            }
            path_pop(c, old);
        }
        tss_keccak256(out, buf, 32 * cnt);
        free(buf);
        return MPCD_ETH_OK;
    }
    int kind = atomic_kind(s, len, &w);
    if (kind >= 0)
        return atomic_value(c, kind, w, v, out);
    return hash_struct(c, (size_t)find_struct(c, s, len), v, depth + 1, out);
}

/* hashStruct(s) = keccak256(typeHash || encodeData(each field, in declared order)). The
 * value must have exactly the struct's fields. */
static mpcd_eth_err hash_struct(e712_ctx *c, size_t k, const json_t *v, unsigned depth,
                                uint8_t out[32])
{
    const e712_struct *st = &c->t[k];
    if (!json_is_object(v))
        return fail(c, MPCD_ETH_ERR_712_VALUE, "expected an object (%s)", st->name);
    for (size_t i = 0; i < st->nfields; i++)
        if (!json_object_get(v, st->fname[i]))
            return fail(c, MPCD_ETH_ERR_712_FIELD, "missing field %s", st->fname[i]);
    if (json_object_size(v) != st->nfields) {
        const char *key;
        size_t kl;
        json_t *val;
        json_object_keylen_foreach((json_t *)v, key, kl, val)
        {
            size_t i = 0;
            while (i < st->nfields && (strlen(st->fname[i]) != kl || memcmp(st->fname[i], key, kl)))
                i++;
            if (i == st->nfields)
                return fail(c, MPCD_ETH_ERR_712_FIELD, "field \"%s\" is not in %s",
                            is_ident(key, kl) ? key : "?", st->name);
        }
        return fail(c, MPCD_ETH_ERR_712_FIELD, "internal: field count"); /* not reached */
    }
    uint8_t *buf = malloc(32 * (1 + st->nfields));
    if (!buf)
        return fail(c, MPCD_ETH_ERR_NOMEM, "out of memory");
    mpcd_eth_err e = type_hash(c, k, buf);
    for (size_t i = 0; i < st->nfields && e == MPCD_ETH_OK; i++) {
        size_t old = path_push(c, ".%s", st->fname[i]);
        e = encode_value(c, st->ftype[i], st->ftype_len[i], json_object_get(v, st->fname[i]), depth,
                         buf + 32 * (1 + i));
        if (e == MPCD_ETH_OK)
            path_pop(c, old);
    }
    if (e == MPCD_ETH_OK)
        tss_keccak256(out, buf, 32 * (1 + st->nfields));
    free(buf);
    return e;
}

/* chainId and verifyingContract for policy, from a domain already hashed (so valid). */
static mpcd_eth_err domain_fields(e712_ctx *c, size_t dk, const json_t *domain, mpcd_eip712 *r)
{
    const e712_struct *st = &c->t[dk];
    unsigned w;
    for (size_t i = 0; i < st->nfields; i++) {
        const json_t *v = json_object_get(domain, st->fname[i]);
        if (!strcmp(st->fname[i], "chainId")) {
            uint8_t word[32];
            int neg;
            if (atomic_kind(st->ftype[i], st->ftype_len[i], &w) != K_UINT)
                return fail(c, MPCD_ETH_ERR_712_DOMAIN, "domain.chainId must be a uintN");
            if (number_value(c, v, word, &neg) != MPCD_ETH_OK)
                return MPCD_ETH_ERR_712_VALUE; /* not reached: hashed already */
            for (int b = 0; b < 24; b++)
                if (word[b])
                    return fail(c, MPCD_ETH_ERR_712_DOMAIN, "domain.chainId over 2^64-1");
            r->chain_id = 0;
            for (int b = 24; b < 32; b++)
                r->chain_id = r->chain_id << 8 | word[b];
            r->has_chain_id = 1;
        } else if (!strcmp(st->fname[i], "verifyingContract")) {
            if (st->ftype_len[i] != 7 || strcmp(st->ftype[i], "address"))
                return fail(c, MPCD_ETH_ERR_712_DOMAIN,
                            "domain.verifyingContract must be an address");
            if (address_value(c, v, r->verifying_contract) != MPCD_ETH_OK)
                return MPCD_ETH_ERR_712_VALUE; /* not reached: hashed already */
            r->has_verifying_contract = 1;
        }
    }
    return MPCD_ETH_OK;
}

static mpcd_eth_err hash_all(e712_ctx *c, const json_t *td, mpcd_eip712 *r)
{
    json_t *types = json_object_get(td, "types"), *pt = json_object_get(td, "primaryType"),
           *domain = json_object_get(td, "domain"), *msg = json_object_get(td, "message");
    mpcd_eth_err e;
    if (!json_is_object(td) || json_object_size(td) != 4 || !types || !pt || !domain || !msg)
        return fail(c, MPCD_ETH_ERR_JSON, "expected exactly {types, primaryType, domain, message}");
    if ((e = load_types(c, types)) != MPCD_ETH_OK)
        return e;
    for (size_t k = 0; k < c->n; k++)
        if ((e = no_cycle(c, k)) != MPCD_ETH_OK)
            return e;
    int dk = find_struct(c, "EIP712Domain", 12);
    if (dk < 0)
        return fail(c, MPCD_ETH_ERR_712_TYPE, "types.EIP712Domain is not defined");
    if (!json_is_string(pt) || json_string_length(pt) != strlen(json_string_value(pt)))
        return fail(c, MPCD_ETH_ERR_JSON, "primaryType must be a string");
    int pk = find_struct(c, json_string_value(pt), json_string_length(pt));
    if (pk < 0)
        return fail(c, MPCD_ETH_ERR_712_TYPE, "primaryType is not a type in types");
    size_t old = path_push(c, "domain");
    if ((e = hash_struct(c, (size_t)dk, domain, 1, r->domain_separator)) != MPCD_ETH_OK ||
        (e = domain_fields(c, (size_t)dk, domain, r)) != MPCD_ETH_OK)
        return e;
    path_pop(c, old);
    uint8_t pre[66] = {0x19, 0x01};
    memcpy(pre + 2, r->domain_separator, 32);
    old = path_push(c, "message");
    if (pk == dk) {
        if (!json_is_object(msg) || json_object_size(msg) != 0)
            return fail(c, MPCD_ETH_ERR_712_FIELD, "must be {} when primaryType is EIP712Domain");
        tss_keccak256(r->digest, pre, 34);
    } else {
        if ((e = hash_struct(c, (size_t)pk, msg, 1, r->message_hash)) != MPCD_ETH_OK)
            return e;
        r->has_message = 1;
        memcpy(pre + 34, r->message_hash, 32);
        tss_keccak256(r->digest, pre, 66);
    }
    path_pop(c, old);
    memcpy(r->primary_type, c->t[pk].name, c->t[pk].name_len + 1);
    return MPCD_ETH_OK;
}

mpcd_eth_err mpcd_eip712_hash(mpcd_eip712 *out, const json_t *td, char *detail, size_t detail_len)
{
    if (detail && detail_len)
        detail[0] = 0;
    if (!out || !td)
        return MPCD_ETH_ERR_ARG;
    e712_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return MPCD_ETH_ERR_NOMEM;
    c->detail = detail;
    c->detail_len = detail_len;
    mpcd_eip712 r;
    memset(&r, 0, sizeof r);
    mpcd_eth_err e = hash_all(c, td, &r);
    free(c);
    if (e == MPCD_ETH_OK)
        *out = r;
    return e;
}

mpcd_eth_err mpcd_eip712_hash_text(mpcd_eip712 *out, const char *text, size_t len, char *detail,
                                   size_t detail_len)
{
    json_error_t jerr;
    if (detail && detail_len)
        detail[0] = 0;
    if (!out || !text)
        return MPCD_ETH_ERR_ARG;
    if (len > MPCD_EIP712_MAX_TEXT)
        return MPCD_ETH_ERR_TOO_LARGE;
    json_t *td = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!td) {
        if (detail && detail_len)
            snprintf(detail, detail_len, "JSON does not parse (line %d, column %d)", jerr.line,
                     jerr.column);
        return MPCD_ETH_ERR_JSON;
    }
    mpcd_eth_err e = mpcd_eip712_hash(out, td, detail, detail_len);
    json_decref(td);
    return e;
}
