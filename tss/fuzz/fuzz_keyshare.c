/* tss/fuzz/fuzz_keyshare.c — libFuzzer target for tss_keyshare_decode.
 * Random bytes die at the magic or the integrity trailer, so besides decoding the raw
 * input, the harness applies the input as a list of (offset, xor) edits to a valid 2-of-3
 * share and recomputes the trailer, reaching the point, range and consistency checks.
 * Whatever decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_rng.h"
#include "tss/keyshare.h"
#include "tss/secmem.h"
#include "tss/transcript.h"
#include "tss_dealer.h"

static uint8_t *valid;
static size_t valid_len;

static void build_valid(void)
{
    tss_keyshare *shares[TSS_MAX_PARTIES + 1] = {0};
    test_rng r;
    test_rng_init(&r, 1);
    if (dealer_split(shares, 2, 3, NULL, NULL, &r) != TSS_OK ||
        tss_keyshare_encode(shares[2], &valid, &valid_len) != TSS_OK)
        abort();
    for (int i = 0; i <= TSS_MAX_PARTIES; i++)
        tss_keyshare_free(shares[i]);
}

static void try_decode(const uint8_t *buf, size_t len)
{
    tss_keyshare *ks = NULL;
    if (tss_keyshare_decode(&ks, buf, len) != TSS_OK) {
        if (ks != NULL)
            abort(); /* nothing allocated on failure */
        return;
    }
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    if (tss_keyshare_encode(ks, &enc, &enc_len) != TSS_OK || enc_len != len ||
        memcmp(enc, buf, len) != 0)
        abort(); /* decode . encode must be the identity */
    tss_secmem_free(enc);
    tss_keyshare_free(ks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (valid == NULL)
        build_valid();
    try_decode(data, size);

    uint8_t *copy = malloc(valid_len);
    if (copy == NULL)
        return 0;
    memcpy(copy, valid, valid_len);
    size_t len = valid_len;
    for (size_t i = 0; i + 3 <= size; i += 3) {
        size_t off = ((size_t)data[i] << 8 | data[i + 1]) % valid_len;
        copy[off] ^= data[i + 2];
    }
    if (size % 3 == 1 && size > 0) /* sometimes truncate */
        len = data[size - 1] % valid_len;
    if (len >= 32) { /* a valid trailer, so the semantic checks run */
        tss_transcript t;
        tss_transcript_init(&t, "keyshare/check");
        tss_transcript_append(&t, copy, len - 32);
        tss_transcript_final(&t, copy + len - 32);
    }
    try_decode(copy, len);
    free(copy);
    return 0;
}
