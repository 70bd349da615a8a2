/* tests/api/test_frame_mutations.c — runs the fuzz target's checks (round trip of every
 * accepted frame, parsers never crash) over the seed corpus and 200,000 deterministic
 * mutations of it: bit flips, byte overwrites, truncations and length-field edits. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_corpus_mutations(void **state)
{
    (void)state;
    static uint8_t seeds[16][1024];
    size_t seed_len[16], nseeds = 0, accepted = 0;
    DIR *d = opendir(CORPUS_DIR);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) && nseeds < 16) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", CORPUS_DIR, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        seed_len[nseeds] = fread(seeds[nseeds], 1, sizeof seeds[0], f);
        fclose(f);
        api_frame fr;
        assert_int_equal(api_frame_decode(&fr, seeds[nseeds], seed_len[nseeds]), API_OK);
        LLVMFuzzerTestOneInput(seeds[nseeds], seed_len[nseeds]);
        nseeds++;
    }
    closedir(d);
    assert_true(nseeds >= 5);
    uint8_t buf[1024];
    for (int i = 0; i < 200000; i++) {
        size_t s = next() % nseeds, n = seed_len[s];
        memcpy(buf, seeds[s], n);
        int edits = 1 + (int)(next() % 4);
        for (int k = 0; k < edits; k++) {
            switch (next() % 4) {
            case 0:
                buf[next() % n] ^= (uint8_t)(1u << (next() % 8));
                break;
            case 1:
                buf[next() % n] = (uint8_t)next();
                break;
            case 2:
                n = next() % (n + 1);
                break;
            case 3:
                if (n >= 32) { /* keep the length field consistent to reach the checks */
                    buf[1] = (uint8_t)(1 + next() % 8);
                    uint32_t pl = (uint32_t)(n - 32);
                    buf[28] = (uint8_t)(pl >> 24), buf[29] = (uint8_t)(pl >> 16);
                    buf[30] = (uint8_t)(pl >> 8), buf[31] = (uint8_t)pl;
                }
                break;
            }
            if (n == 0)
                break;
        }
        api_frame fr;
        if (api_frame_decode(&fr, buf, n) == API_OK)
            accepted++;
        LLVMFuzzerTestOneInput(buf, n);
    }
    /* The mutator must reach the accepting paths, or the test proves little. */
    assert_true(accepted > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpus_mutations)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
