/* tss/fuzz/fuzz_keyshare.c — libFuzzer target for tss_keyshare_decode.
 * Random bytes die at the magic or the integrity trailer, so besides decoding the raw
 * input, the harness applies the input as a list of (offset, xor) edits to a valid 2-of-3
 * share and recomputes the trailer, reaching the point, range and consistency checks.
 * The valid share is, by the input's length, a current (version 3, κ = 128) one or a
 * version-2 one (κ = 256, the layout written before κ was a parameter). Whatever decodes
 * must re-encode to the same bytes (version 3), or to a version-3 encoding that decodes
 * to the same share (versions 1 and 2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_rng.h"
#include "tss/keyshare.h"
#include "tss/secmem.h"
#include "tss/transcript.h"
#include "tss_dealer.h"

static uint8_t *valid[2];
static size_t valid_len[2];

static void recheck(uint8_t *buf, size_t len)
{
    tss_transcript t;
    tss_transcript_init(&t, "keyshare/check");
    tss_transcript_append(&t, buf, len - 32);
    tss_transcript_final(&t, buf + len - 32);
}

/* valid[0]: version 3, κ = 128; valid[1]: version 2 (κ = 256): the version-3 encoding of
 * a κ = 256 share without its kappa field (after t, n, index and the epoch). */
static void build_valid(void)
{
    for (int v = 0; v < 2; v++) {
        tss_keyshare *shares[TSS_MAX_PARTIES + 1] = {0};
        uint8_t *enc = NULL;
        size_t len = 0;
        test_rng r;
        test_rng_init(&r, 1 + (uint64_t)v);
        if (dealer_split_kappa(shares, 2, 3, NULL, NULL, v == 0 ? 128 : 256, &r) != TSS_OK ||
            tss_keyshare_encode(shares[2], &enc, &len) != TSS_OK)
            abort();
        for (int i = 0; i <= TSS_MAX_PARTIES; i++)
            tss_keyshare_free(shares[i]);
        valid[v] = malloc(len);
        if (valid[v] == NULL)
            abort();
        if (v == 0) {
            memcpy(valid[v], enc, len);
            valid_len[v] = len;
        } else {
            memcpy(valid[v], enc, 13);
            memcpy(valid[v] + 13, enc + 15, len - 15);
            valid[v][5] = 2;
            valid_len[v] = len - 2;
            recheck(valid[v], valid_len[v]);
        }
        tss_secmem_free(enc);
    }
}

static void try_decode(const uint8_t *buf, size_t len)
{
    tss_keyshare *ks = NULL;
    if (tss_keyshare_decode(&ks, buf, len) != TSS_OK) {
        if (ks != NULL)
            abort(); /* nothing allocated on failure */
        return;
    }
    uint8_t *enc = NULL, *enc2 = NULL, fp[32], fp2[32];
    size_t enc_len = 0, enc2_len = 0;
    tss_keyshare *again = NULL;
    if (tss_keyshare_encode(ks, &enc, &enc_len) != TSS_OK)
        abort();
    if (buf[5] == TSS_KEYSHARE_VERSION) {
        if (enc_len != len || memcmp(enc, buf, len) != 0)
            abort(); /* decode . encode must be the identity */
    } else {
        /* an older version re-encodes as the current one, which decodes to the same share */
        if (tss_keyshare_decode(&again, enc, enc_len) != TSS_OK ||
            tss_keyshare_encode(again, &enc2, &enc2_len) != TSS_OK || enc2_len != enc_len ||
            memcmp(enc2, enc, enc_len) != 0 || again->kappa != ks->kappa)
            abort();
        tss_keyshare_fingerprint(fp, ks);
        tss_keyshare_fingerprint(fp2, again);
        if (memcmp(fp, fp2, 32) != 0)
            abort();
        tss_secmem_free(enc2);
        tss_keyshare_free(again);
    }
    tss_secmem_free(enc);
    tss_keyshare_free(ks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (valid[0] == NULL)
        build_valid();
    try_decode(data, size);

    const int v = (int)((size / 3) & 1); /* which valid share the edits apply to */
    uint8_t *copy = malloc(valid_len[v]);
    if (copy == NULL)
        return 0;
    memcpy(copy, valid[v], valid_len[v]);
    size_t len = valid_len[v];
    for (size_t i = 0; i + 3 <= size; i += 3) {
        size_t off = ((size_t)data[i] << 8 | data[i + 1]) % valid_len[v];
        copy[off] ^= data[i + 2];
    }
    if (size % 3 == 1 && size > 0) /* sometimes truncate */
        len = data[size - 1] % valid_len[v];
    if (len >= 32) /* a valid trailer, so the semantic checks run */
        recheck(copy, len);
    try_decode(copy, len);
    free(copy);
    return 0;
}
