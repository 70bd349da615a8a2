/* daemon/common/fuzz/fuzz_ethtx.c — libFuzzer target for the RLP decoder and the Ethereum
 * transaction parser. Properties checked on every input (abort on violation): the decoders
 * never read out of bounds (ASan); an RLP item the decoder accepts re-encodes to exactly the
 * same bytes (canonical means one encoding per value); a transaction the parser accepts has
 * the Keccak-256 of the input as its signing hash, and serializes signed into
 * MPCD_ETHTX_SIGNED_MAX bytes as canonical RLP holding the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/common/ethtx.h"
#include "daemon/common/rlp.h"
#include "tss/keccak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reencode(mpcd_rlp_enc *e, const mpcd_rlp_item *it)
{
    if (!it->is_list) {
        mpcd_rlp_enc_bytes(e, it->payload, it->len);
        return;
    }
    size_t m = mpcd_rlp_enc_list_begin(e);
    const uint8_t *cur = it->payload, *end = it->payload + it->len;
    mpcd_rlp_item child;
    while (cur < end) {
        if (mpcd_rlp_next(&child, &cur, end) != MPCD_ETH_OK)
            abort(); /* a checked tree has no bad header */
        reencode(e, &child);
    }
    mpcd_rlp_enc_list_end(e, m);
}

static void check_rlp(const uint8_t *data, size_t size)
{
    mpcd_rlp_item it;
    if (mpcd_rlp_decode(&it, data, size) != MPCD_ETH_OK)
        return;
    uint8_t *out = malloc(size ? size : 1);
    size_t len = 0;
    mpcd_rlp_enc e;
    if (!out)
        return;
    mpcd_rlp_enc_init(&e, out, size);
    reencode(&e, &it);
    if (mpcd_rlp_enc_finish(&e, &len) != MPCD_ETH_OK || len != size || memcmp(out, data, size))
        abort();
    free(out);
    uint64_t v;
    uint8_t w[32];
    (void)mpcd_rlp_u64(&v, &it);
    (void)mpcd_rlp_u256(w, &it);
}

static void check_tx(const uint8_t *data, size_t size)
{
    mpcd_ethtx tx;
    uint8_t h[32], r[32], s[32];
    if (mpcd_ethtx_parse(&tx, data, size) != MPCD_ETH_OK)
        return;
    tss_keccak256(h, data, size);
    if (memcmp(h, tx.sighash, 32) || tx.chain_id == 0 || tx.raw != data || tx.raw_len != size)
        abort();
    memset(r, 0xff, 32);
    r[0] = 0x7f; /* < n */
    memset(s, 0, 32);
    s[31] = 1;
    size_t cap = MPCD_ETHTX_SIGNED_MAX(size), len;
    uint8_t *out = malloc(cap);
    if (!out)
        return;
    for (int recid = 0; recid <= 1; recid++) {
        if (mpcd_ethtx_serialize_signed(out, cap, &len, &tx, r, s, recid) != MPCD_ETH_OK)
            abort();
        size_t off = tx.type == MPCD_ETHTX_LEGACY ? 0 : 1;
        mpcd_rlp_item top, f[12];
        size_t n;
        if ((off && out[0] != (uint8_t)tx.type) ||
            mpcd_rlp_decode(&top, out + off, len - off) != MPCD_ETH_OK ||
            mpcd_rlp_list(f, 12, &n, &top) != MPCD_ETH_OK ||
            n != (tx.type == MPCD_ETHTX_LEGACY ? 9 : tx.nfields + 3))
            abort();
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_rlp(data, size);
    check_tx(data, size);
    return 0;
}
