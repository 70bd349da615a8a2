/* tests/tss/test_rand.c — the system generator and the injection point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rng.h"
#include "tss/rand.h"

static void test_system(void **state)
{
    (void)state;
    uint8_t a[64], b[64], zero[64] = {0};
    assert_int_equal(tss_rand_bytes(tss_rng_system(), a, sizeof a), TSS_OK);
    assert_int_equal(tss_rand_bytes(tss_rng_system(), b, sizeof b), TSS_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    uint8_t big[100000];
    assert_int_equal(tss_rand_bytes(tss_rng_system(), big, sizeof big), TSS_OK);
}

static void test_injected_and_failure(void **state)
{
    (void)state;
    test_rng r1, r2;
    uint8_t a[40], b[40];
    test_rng_init(&r1, 9);
    test_rng_init(&r2, 9);
    assert_int_equal(tss_rand_bytes(&r1.rng, a, sizeof a), TSS_OK);
    assert_int_equal(tss_rand_bytes(&r2.rng, b, sizeof b), TSS_OK);
    assert_memory_equal(a, b, sizeof a); /* deterministic */
    r1.fail_after = 0;
    memset(a, 0x55, sizeof a);
    assert_int_equal(tss_rand_bytes(&r1.rng, a, sizeof a), TSS_ERR_RAND);
    for (size_t i = 0; i < sizeof a; i++)
        assert_int_equal(a[i], 0); /* no stale bytes on failure */
    assert_int_equal(tss_rand_bytes(NULL, a, sizeof a), TSS_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system),
        cmocka_unit_test(test_injected_and_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
