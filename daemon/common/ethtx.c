/* daemon/common/ethtx.c — unsigned Ethereum transactions: strict parsing for policy, the
 * signing hash, and the signed serialization. See ethtx.h for the encodings. */
#include <string.h>

#include "ethtx.h"
#include "tss/keccak.h"

/* secp256k1's group order n, big-endian: a signature's r and s are in 1..n-1. */
static const uint8_t secp_n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                   0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

const char *mpcd_ethtx_type_name(mpcd_ethtx_type t)
{
    switch (t) {
    case MPCD_ETHTX_LEGACY:
        return "legacy";
    case MPCD_ETHTX_EIP2930:
        return "eip2930";
    case MPCD_ETHTX_EIP1559:
        return "eip1559";
    }
    return "unknown";
}

static mpcd_eth_err tx_string(const mpcd_rlp_item *it)
{
    return it->is_list ? MPCD_ETH_ERR_RLP_SHAPE : MPCD_ETH_OK;
}

static mpcd_eth_err tx_chain_id(uint64_t *out, const mpcd_rlp_item *it)
{
    mpcd_eth_err e = mpcd_rlp_u64(out, it);
    /* A canonical integer that is merely wider than 64 bits is a chain id we refuse, not a
     * malformed one. */
    if (e == MPCD_ETH_ERR_RLP_INT && !it->is_list && it->len > 8 && it->payload[0] != 0)
        return MPCD_ETH_ERR_TX_CHAIN_ID;
    if (e == MPCD_ETH_OK && *out == 0)
        return MPCD_ETH_ERR_TX_NO_CHAIN;
    return e;
}

static mpcd_eth_err tx_to(mpcd_ethtx *tx, const mpcd_rlp_item *it)
{
    if (it->is_list)
        return MPCD_ETH_ERR_RLP_SHAPE;
    if (it->len == 0) {
        tx->is_create = 1;
        memset(tx->to, 0, 20);
        return MPCD_ETH_OK;
    }
    if (it->len != 20)
        return MPCD_ETH_ERR_TX_TO;
    tx->is_create = 0;
    memcpy(tx->to, it->payload, 20);
    return MPCD_ETH_OK;
}

/* accessList = [[address (20 bytes), [storageKey (32 bytes), ...]], ...] */
static mpcd_eth_err tx_access(mpcd_ethtx *tx, const mpcd_rlp_item *list)
{
    if (!list->is_list)
        return MPCD_ETH_ERR_TX_ACCESS;
    const uint8_t *cur = list->payload, *end = list->payload + list->len;
    size_t naddr = 0, nkeys = 0;
    while (cur < end) {
        mpcd_rlp_item entry, pair[2];
        size_t n;
        mpcd_eth_err e = mpcd_rlp_next(&entry, &cur, end);
        if (e != MPCD_ETH_OK)
            return e;
        if (++naddr > MPCD_ETHTX_MAX_ACCESS)
            return MPCD_ETH_ERR_TOO_LARGE;
        if (!entry.is_list || mpcd_rlp_list(pair, 2, &n, &entry) != MPCD_ETH_OK || n != 2 ||
            pair[0].is_list || pair[0].len != 20 || !pair[1].is_list)
            return MPCD_ETH_ERR_TX_ACCESS;
        const uint8_t *kc = pair[1].payload, *ke = pair[1].payload + pair[1].len;
        while (kc < ke) {
            mpcd_rlp_item key;
            e = mpcd_rlp_next(&key, &kc, ke);
            if (e != MPCD_ETH_OK)
                return e;
            if (key.is_list || key.len != 32)
                return MPCD_ETH_ERR_TX_ACCESS;
            if (++nkeys > MPCD_ETHTX_MAX_KEYS)
                return MPCD_ETH_ERR_TOO_LARGE;
        }
    }
    tx->access_addresses = naddr;
    tx->access_keys = nkeys;
    return MPCD_ETH_OK;
}

/* The fields common to every type, from the index of `nonce` on for legacy or from
 * `gasLimit`, `to` on: gasLimit, to, value, data. */
static mpcd_eth_err tx_common(mpcd_ethtx *tx, const mpcd_rlp_item *f)
{
    mpcd_eth_err e;
    if ((e = mpcd_rlp_u64(&tx->gas_limit, &f[0])) != MPCD_ETH_OK ||
        (e = tx_to(tx, &f[1])) != MPCD_ETH_OK ||
        (e = mpcd_rlp_u256(tx->value, &f[2])) != MPCD_ETH_OK ||
        (e = tx_string(&f[3])) != MPCD_ETH_OK)
        return e;
    tx->data = f[3].payload;
    tx->data_len = f[3].len;
    return MPCD_ETH_OK;
}

static mpcd_eth_err tx_legacy(mpcd_ethtx *tx, const mpcd_rlp_item *f, size_t n)
{
    mpcd_eth_err e;
    if (n == 6)
        return MPCD_ETH_ERR_TX_NO_CHAIN; /* pre-EIP-155: valid on every chain */
    if (n != 9)
        return MPCD_ETH_ERR_TX_FIELDS;
    if ((e = mpcd_rlp_u64(&tx->nonce, &f[0])) != MPCD_ETH_OK ||
        (e = mpcd_rlp_u256(tx->max_fee, &f[1])) != MPCD_ETH_OK ||
        (e = tx_common(tx, &f[2])) != MPCD_ETH_OK ||
        (e = tx_chain_id(&tx->chain_id, &f[6])) != MPCD_ETH_OK)
        return e;
    /* EIP-155: the two fields after the chain id are the integer 0 (the empty string). */
    if (f[7].is_list || f[7].len != 0 || f[8].is_list || f[8].len != 0)
        return MPCD_ETH_ERR_TX_NO_CHAIN;
    memset(tx->priority_fee, 0, 32);
    return MPCD_ETH_OK;
}

static mpcd_eth_err tx_typed(mpcd_ethtx *tx, const mpcd_rlp_item *f, size_t n)
{
    mpcd_eth_err e;
    int dyn = tx->type == MPCD_ETHTX_EIP1559;
    if (n != (dyn ? 9u : 8u))
        return MPCD_ETH_ERR_TX_FIELDS;
    if ((e = tx_chain_id(&tx->chain_id, &f[0])) != MPCD_ETH_OK ||
        (e = mpcd_rlp_u64(&tx->nonce, &f[1])) != MPCD_ETH_OK)
        return e;
    if (dyn) {
        if ((e = mpcd_rlp_u256(tx->priority_fee, &f[2])) != MPCD_ETH_OK ||
            (e = mpcd_rlp_u256(tx->max_fee, &f[3])) != MPCD_ETH_OK)
            return e;
    } else {
        memset(tx->priority_fee, 0, 32);
        if ((e = mpcd_rlp_u256(tx->max_fee, &f[2])) != MPCD_ETH_OK)
            return e;
    }
    f += dyn ? 4 : 3;
    if ((e = tx_common(tx, f)) != MPCD_ETH_OK)
        return e;
    return tx_access(tx, &f[4]);
}

mpcd_eth_err mpcd_ethtx_parse(mpcd_ethtx *out, const uint8_t *in, size_t len)
{
    if (!out || (!in && len))
        return MPCD_ETH_ERR_ARG;
    if (len == 0)
        return MPCD_ETH_ERR_RLP_TRUNCATED;
    if (len > MPCD_ETHTX_MAX_LEN)
        return MPCD_ETH_ERR_TOO_LARGE;
    mpcd_ethtx tx;
    memset(&tx, 0, sizeof tx);
    size_t off = 0;
    if (in[0] >= 0xc0) {
        tx.type = MPCD_ETHTX_LEGACY;
    } else if (in[0] == 0x01 || in[0] == 0x02) {
        tx.type = (mpcd_ethtx_type)in[0];
        off = 1;
    } else {
        return in[0] < 0x80 ? MPCD_ETH_ERR_TX_TYPE : MPCD_ETH_ERR_RLP_SHAPE;
    }
    mpcd_rlp_item body, f[10];
    size_t n;
    mpcd_eth_err e = mpcd_rlp_decode(&body, in + off, len - off);
    if (e != MPCD_ETH_OK)
        return e;
    if (!body.is_list)
        return MPCD_ETH_ERR_RLP_SHAPE;
    e = mpcd_rlp_list(f, 10, &n, &body);
    if (e == MPCD_ETH_ERR_TOO_LARGE || (e == MPCD_ETH_OK && n > 9))
        return MPCD_ETH_ERR_TX_FIELDS;
    if (e != MPCD_ETH_OK)
        return e;
    e = tx.type == MPCD_ETHTX_LEGACY ? tx_legacy(&tx, f, n) : tx_typed(&tx, f, n);
    if (e != MPCD_ETH_OK)
        return e;
    tx.has_selector = tx.data_len >= 4;
    if (tx.has_selector)
        memcpy(tx.selector, tx.data, 4);
    tss_keccak256(tx.sighash, in, len);
    tx.raw = in;
    tx.raw_len = len;
    memcpy(tx.fields, f, n * sizeof f[0]);
    tx.nfields = n;
    *out = tx;
    return MPCD_ETH_OK;
}

/* 1 if x (32 bytes big-endian) is in 1..n-1. Public data: an ordinary comparison. */
static int in_scalar_range(const uint8_t x[32])
{
    int nonzero = 0;
    for (int i = 0; i < 32; i++)
        nonzero |= x[i];
    return nonzero && memcmp(x, secp_n, 32) < 0;
}

mpcd_eth_err mpcd_ethtx_serialize_signed(uint8_t *out, size_t cap, size_t *out_len,
                                         const mpcd_ethtx *tx, const uint8_t r[32],
                                         const uint8_t s[32], int recid)
{
    if (!out || !out_len || !tx || !r || !s || !tx->raw)
        return MPCD_ETH_ERR_ARG;
    if ((recid != 0 && recid != 1) || !in_scalar_range(r) || !in_scalar_range(s))
        return MPCD_ETH_ERR_TX_SIGNATURE;
    mpcd_rlp_enc e;
    size_t len;
    if (tx->type == MPCD_ETHTX_LEGACY) {
        if (tx->nfields != 9)
            return MPCD_ETH_ERR_ARG;
        /* v = chainId * 2 + 35 + recid, up to 66 bits: computed in two 64-bit limbs. */
        uint64_t lo = tx->chain_id << 1, hi = tx->chain_id >> 63;
        uint64_t add = 35u + (uint64_t)recid;
        hi += (lo + add < lo);
        lo += add;
        uint8_t v[16];
        for (int i = 0; i < 8; i++) {
            v[i] = (uint8_t)(hi >> (56 - 8 * i));
            v[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
        }
        mpcd_rlp_enc_init(&e, out, cap);
        size_t m = mpcd_rlp_enc_list_begin(&e);
        for (size_t i = 0; i < 6; i++)
            mpcd_rlp_enc_raw(&e, tx->fields[i].raw, tx->fields[i].raw_len);
        mpcd_rlp_enc_uint(&e, v, sizeof v);
        mpcd_rlp_enc_uint(&e, r, 32);
        mpcd_rlp_enc_uint(&e, s, 32);
        mpcd_rlp_enc_list_end(&e, m);
        if (mpcd_rlp_enc_finish(&e, &len) != MPCD_ETH_OK)
            return MPCD_ETH_ERR_BUFFER;
        *out_len = len;
        return MPCD_ETH_OK;
    }
    if (cap < 1)
        return MPCD_ETH_ERR_BUFFER;
    uint8_t y = (uint8_t)recid;
    mpcd_rlp_enc_init(&e, out + 1, cap - 1);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    for (size_t i = 0; i < tx->nfields && i < 9; i++)
        mpcd_rlp_enc_raw(&e, tx->fields[i].raw, tx->fields[i].raw_len);
    mpcd_rlp_enc_uint(&e, &y, 1);
    mpcd_rlp_enc_uint(&e, r, 32);
    mpcd_rlp_enc_uint(&e, s, 32);
    mpcd_rlp_enc_list_end(&e, m);
    if (mpcd_rlp_enc_finish(&e, &len) != MPCD_ETH_OK)
        return MPCD_ETH_ERR_BUFFER;
    out[0] = (uint8_t)tx->type;
    *out_len = len + 1;
    return MPCD_ETH_OK;
}
