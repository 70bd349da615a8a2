/* daemon/common/fuzz/fuzz_tsslib.c — libFuzzer target for the tss-lib save-file reader
 * (daemon/common/tsslib.h): mpcd_tsslib_load on the raw input, which is what an old node
 * hands to mpcctl migrate check. Random JSON edits rarely make a file whose points are on
 * the curve yet inconsistent, so an input starting with '!' is instead a list of
 * 3-byte edits (what, which, value) to a valid generated 3-of-5 key — a public share or
 * ECDSAPub set to value·G, a share id set to value, a byte of Xi flipped — whose file is
 * then loaded: that reaches the Xi and polynomial checks with adversarial points.
 * Properties on every input: no crash or sanitizer report, and a file that loads has
 * 2 <= threshold <= n, i < n, and forms a valid set with itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/common/tsslib.h"
#include "test_rng.h"
#include "tsslib_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tsslib_gen_key *base;

static void load_and_check(const uint8_t *text, size_t len)
{
    mpcd_tsslib_share *s = NULL;
    char why[512];
    if (mpcd_tsslib_load(text, len, 0, &s, why, sizeof why) != MPCD_TSSLIB_OK) {
        if (s != NULL || why[0] == 0)
            abort(); /* a refusal leaves no output and says why */
        return;
    }
    const mpcd_tsslib_share *set[1] = {s};
    if (s->threshold < 2 || s->threshold > s->n || s->i >= s->n ||
        mpcd_tsslib_check_set(set, 1, why, sizeof why) != MPCD_TSSLIB_OK)
        abort();
    mpcd_tsslib_free(s);
}

static void structured(const uint8_t *data, size_t size)
{
    static tsslib_gen_key k;
    uint8_t sc[32];
    if (!base) {
        test_rng r;
        uint8_t sk[32] = {0};
        sk[31] = 1;
        test_rng_init(&r, 1);
        if (!(base = tsslib_gen_make(sk, 3, 5, NULL, &r.rng)))
            abort();
    }
    /* restore what the edits change (the Paillier filler is never edited) */
    if (k.n == 0)
        memcpy(&k, base, sizeof k);
    memcpy(k.ks, base->ks, sizeof k.ks);
    memcpy(k.xi, base->xi, sizeof k.xi);
    memcpy(k.bigx, base->bigx, sizeof k.bigx);
    memcpy(k.pub, base->pub, sizeof k.pub);
    unsigned party = size > 0 ? data[0] % k.n : 0;
    for (size_t at = 1; at + 3 <= size && at < 1 + 3 * 16; at += 3) {
        unsigned what = data[at] % 4, j = data[at + 1] % k.n, v = data[at + 2];
        memset(sc, 0, sizeof sc);
        sc[31] = (uint8_t)(v ? v : 1);
        switch (what) {
        case 0:
            if (tsslib_gen_point(k.bigx[j], sc) != 0)
                abort();
            break;
        case 1:
            if (tsslib_gen_point(k.pub, sc) != 0)
                abort();
            break;
        case 2:
            snprintf(k.ks[j], sizeof k.ks[j], "%u", v);
            break;
        default:
            k.xi[j][v % 32] ^= (uint8_t)(1u << (v % 8));
            break;
        }
    }
    char *text = tsslib_gen_json(&k, party, 0);
    if (!text)
        abort();
    load_and_check((const uint8_t *)text, strlen(text));
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == '!')
        structured(data + 1, size - 1);
    else
        load_and_check(data, size);
    return 0;
}
