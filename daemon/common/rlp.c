/* daemon/common/rlp.c — strict RLP decoding (views, no copies) and encoding into a caller's
 * buffer. See rlp.h for what "canonical" means here. */
#include <string.h>

#include "rlp.h"

/* Reads the header at p[0..avail) into *it: kind, payload, whole encoding. Checks that the
 * item fits in avail and that its header is canonical; does not look inside a list. */
static mpcd_eth_err rlp_header(mpcd_rlp_item *it, const uint8_t *p, size_t avail)
{
    if (avail == 0)
        return MPCD_ETH_ERR_RLP_TRUNCATED;
    uint8_t b = p[0];
    size_t hdr = 1;
    uint64_t plen;
    int list = b >= 0xc0;
    if (b < 0x80) { /* a single byte is its own encoding */
        it->is_list = 0;
        it->payload = p;
        it->len = 1;
        it->raw = p;
        it->raw_len = 1;
        return MPCD_ETH_OK;
    }
    if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
        plen = (uint64_t)(b - (list ? 0xc0 : 0x80));
    } else {
        /* Long form: the next ll bytes are the payload length, big-endian, minimal (no
         * leading zero) and > 55 (else the short form was required). */
        size_t ll = (size_t)(b - (list ? 0xf7 : 0xb7));
        hdr = 1 + ll;
        if (avail < hdr)
            return MPCD_ETH_ERR_RLP_TRUNCATED;
        if (p[1] == 0)
            return MPCD_ETH_ERR_RLP_NONCANON;
        plen = 0;
        for (size_t i = 0; i < ll; i++)
            plen = (plen << 8) | p[1 + i]; /* ll <= 8: no overflow */
        if (plen <= 55)
            return MPCD_ETH_ERR_RLP_NONCANON;
    }
    if (plen > avail - hdr)
        return MPCD_ETH_ERR_RLP_TRUNCATED;
    /* A one-byte string below 0x80 must have been written as the byte itself. */
    if (!list && plen == 1 && p[1] < 0x80)
        return MPCD_ETH_ERR_RLP_NONCANON;
    it->is_list = list;
    it->payload = p + hdr;
    it->len = (size_t)plen;
    it->raw = p;
    it->raw_len = hdr + (size_t)plen;
    return MPCD_ETH_OK;
}

/* Checks every element under it, recursively; depth is it's own depth (top list: 1). The
 * recursion is bounded by MPCD_RLP_MAX_DEPTH and the total work by MPCD_RLP_MAX_ITEMS. */
static mpcd_eth_err rlp_check(const mpcd_rlp_item *it, unsigned depth, size_t *count)
{
    if (++*count > MPCD_RLP_MAX_ITEMS)
        return MPCD_ETH_ERR_TOO_LARGE;
    if (!it->is_list)
        return MPCD_ETH_OK;
    if (depth > MPCD_RLP_MAX_DEPTH)
        return MPCD_ETH_ERR_RLP_DEPTH;
    const uint8_t *cur = it->payload, *end = it->payload + it->len;
    while (cur < end) {
        mpcd_rlp_item child;
        mpcd_eth_err e = rlp_header(&child, cur, (size_t)(end - cur));
        if (e == MPCD_ETH_OK)
            e = rlp_check(&child, depth + 1, count);
        if (e != MPCD_ETH_OK)
            return e;
        cur += child.raw_len;
    }
    return MPCD_ETH_OK;
}

mpcd_eth_err mpcd_rlp_decode(mpcd_rlp_item *out, const uint8_t *in, size_t len)
{
    if (!out || (!in && len))
        return MPCD_ETH_ERR_ARG;
    if (len > MPCD_RLP_MAX_INPUT)
        return MPCD_ETH_ERR_TOO_LARGE;
    mpcd_rlp_item it;
    size_t count = 0;
    mpcd_eth_err e = rlp_header(&it, in, len);
    if (e != MPCD_ETH_OK)
        return e;
    if (it.raw_len != len)
        return MPCD_ETH_ERR_RLP_TRAILING;
    e = rlp_check(&it, 1, &count);
    if (e != MPCD_ETH_OK)
        return e;
    *out = it;
    return MPCD_ETH_OK;
}

mpcd_eth_err mpcd_rlp_next(mpcd_rlp_item *out, const uint8_t **cur, const uint8_t *end)
{
    if (!out || !cur || !*cur || !end || *cur > end)
        return MPCD_ETH_ERR_ARG;
    if (*cur == end)
        return MPCD_ETH_ERR_RLP_TRAILING;
    mpcd_rlp_item it;
    mpcd_eth_err e = rlp_header(&it, *cur, (size_t)(end - *cur));
    if (e != MPCD_ETH_OK)
        return e;
    *out = it;
    *cur += it.raw_len;
    return MPCD_ETH_OK;
}

mpcd_eth_err mpcd_rlp_list(mpcd_rlp_item *items, size_t max, size_t *n, const mpcd_rlp_item *list)
{
    if (!items || !n || !list)
        return MPCD_ETH_ERR_ARG;
    if (!list->is_list)
        return MPCD_ETH_ERR_RLP_SHAPE;
    const uint8_t *cur = list->payload, *end = list->payload + list->len;
    size_t k = 0;
    while (cur < end) {
        if (k == max)
            return MPCD_ETH_ERR_TOO_LARGE;
        mpcd_eth_err e = mpcd_rlp_next(&items[k], &cur, end);
        if (e != MPCD_ETH_OK)
            return e;
        k++;
    }
    *n = k;
    return MPCD_ETH_OK;
}

/* The bytes of a canonical unsigned integer of at most max bytes. */
static mpcd_eth_err rlp_uint(const mpcd_rlp_item *it, size_t max)
{
    if (!it)
        return MPCD_ETH_ERR_ARG;
    if (it->is_list)
        return MPCD_ETH_ERR_RLP_SHAPE;
    if (it->len > max || (it->len > 0 && it->payload[0] == 0))
        return MPCD_ETH_ERR_RLP_INT;
    return MPCD_ETH_OK;
}

mpcd_eth_err mpcd_rlp_u64(uint64_t *out, const mpcd_rlp_item *it)
{
    mpcd_eth_err e = rlp_uint(it, 8);
    if (e != MPCD_ETH_OK || !out)
        return e != MPCD_ETH_OK ? e : MPCD_ETH_ERR_ARG;
    uint64_t v = 0;
    for (size_t i = 0; i < it->len; i++)
        v = (v << 8) | it->payload[i];
    *out = v;
    return MPCD_ETH_OK;
}

mpcd_eth_err mpcd_rlp_u256(uint8_t out[32], const mpcd_rlp_item *it)
{
    mpcd_eth_err e = rlp_uint(it, 32);
    if (e != MPCD_ETH_OK || !out)
        return e != MPCD_ETH_OK ? e : MPCD_ETH_ERR_ARG;
    memset(out, 0, 32 - it->len);
    if (it->len)
        memcpy(out + 32 - it->len, it->payload, it->len);
    return MPCD_ETH_OK;
}

/* ---- encoder ---- */

/* The header of a payload of len bytes: base is 0x80 (string) or 0xc0 (list). */
static size_t rlp_hdr(uint8_t h[9], uint8_t base, size_t len)
{
    if (len <= 55) {
        h[0] = (uint8_t)(base + len);
        return 1;
    }
    size_t n = 0;
    for (size_t v = len; v; v >>= 8)
        n++;
    h[0] = (uint8_t)(base + 55 + n);
    for (size_t i = 0; i < n; i++)
        h[n - i] = (uint8_t)(len >> (8 * i));
    return 1 + n;
}

static void enc_put(mpcd_rlp_enc *e, const uint8_t *data, size_t len)
{
    if (e->overflow)
        return;
    if (len > e->cap - e->len) {
        e->overflow = 1;
        return;
    }
    if (len)
        memcpy(e->buf + e->len, data, len);
    e->len += len;
}

void mpcd_rlp_enc_init(mpcd_rlp_enc *e, uint8_t *buf, size_t cap)
{
    e->buf = buf;
    e->cap = buf ? cap : 0;
    e->len = 0;
    e->overflow = 0;
}

void mpcd_rlp_enc_bytes(mpcd_rlp_enc *e, const uint8_t *data, size_t len)
{
    uint8_t h[9];
    if (len == 1 && data[0] < 0x80) {
        enc_put(e, data, 1);
        return;
    }
    enc_put(e, h, rlp_hdr(h, 0x80, len));
    enc_put(e, data, len);
}

void mpcd_rlp_enc_uint(mpcd_rlp_enc *e, const uint8_t *be, size_t len)
{
    while (len && be[0] == 0) {
        be++;
        len--;
    }
    mpcd_rlp_enc_bytes(e, be, len);
}

void mpcd_rlp_enc_u64(mpcd_rlp_enc *e, uint64_t v)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (56 - 8 * i));
    mpcd_rlp_enc_uint(e, be, 8);
}

void mpcd_rlp_enc_raw(mpcd_rlp_enc *e, const uint8_t *raw, size_t len)
{
    enc_put(e, raw, len);
}

size_t mpcd_rlp_enc_list_begin(mpcd_rlp_enc *e)
{
    return e->len;
}

void mpcd_rlp_enc_list_end(mpcd_rlp_enc *e, size_t mark)
{
    uint8_t h[9];
    if (e->overflow)
        return;
    if (mark > e->len) { /* not a mark of this encoder */
        e->overflow = 1;
        return;
    }
    size_t plen = e->len - mark, hl = rlp_hdr(h, 0xc0, plen);
    if (hl > e->cap - e->len) {
        e->overflow = 1;
        return;
    }
    memmove(e->buf + mark + hl, e->buf + mark, plen);
    memcpy(e->buf + mark, h, hl);
    e->len += hl;
}

mpcd_eth_err mpcd_rlp_enc_finish(const mpcd_rlp_enc *e, size_t *len)
{
    if (e->overflow)
        return MPCD_ETH_ERR_BUFFER;
    if (len)
        *len = e->len;
    return MPCD_ETH_OK;
}
