/* tests/tss/test_secmem.c — secure allocations: usable, zeroed, excluded from dumps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tss/secmem.h"

static void test_alloc_free(void **state)
{
    (void)state;
    size_t sizes[] = {1, 31, 4096, 4097, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *p = tss_secmem_alloc(sizes[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(p[k], 0);
        memset(p, 0xA5, sizes[i]);
        tss_secmem_free(p);
    }
    assert_null(tss_secmem_alloc(0));
    tss_secmem_free(NULL);
}

/* The mapping is marked "dd" (do not dump) in /proc/self/smaps. */
/* The first byte past the (64-byte rounded) block is the guard page: a child process that
 * writes the last byte survives, one that writes one byte further dies of SIGSEGV. The
 * child makes its own allocation (MADV_DONTFORK keeps the parent's out of it). */
static int child_writes(size_t len, size_t at)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* cmocka's handler would catch the fault in the child */
        uint8_t *p = tss_secmem_alloc(len);
        if (p == NULL)
            _exit(2);
        ((volatile uint8_t *)p)[at] = 1;
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static void test_guard_page(void **state)
{
    (void)state;
    const size_t sizes[] = {64, 128, 4096, 5000 * 64};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int ok = child_writes(sizes[i], sizes[i] - 1);
        assert_true(WIFEXITED(ok) && WEXITSTATUS(ok) == 0);
        int past = child_writes(sizes[i], sizes[i]);
        assert_true(WIFSIGNALED(past) && WTERMSIG(past) == SIGSEGV);
    }
}

static void test_dontdump(void **state)
{
    (void)state;
    uint8_t *p = tss_secmem_alloc(64);
    assert_non_null(p);
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    unsigned long lo = 0, hi = 0;
    int in_range = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in_range = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        } else if (in_range && strncmp(line, "VmFlags:", 8) == 0) {
            found = strstr(line, " dd") != NULL;
            break;
        }
    }
    fclose(f);
    tss_secmem_free(p);
    assert_true(found);
}

static void test_memzero(void **state)
{
    (void)state;
    uint8_t b[48];
    memset(b, 0xFF, sizeof b);
    tss_memzero(b + 8, 32);
    for (int i = 0; i < 48; i++)
        assert_int_equal(b[i], (i >= 8 && i < 40) ? 0 : 0xFF);
    tss_memzero(NULL, 0);
}

static void test_harden(void **state)
{
    (void)state;
    assert_int_equal(tss_secmem_harden_process(), 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_free), cmocka_unit_test(test_guard_page),
        cmocka_unit_test(test_dontdump),   cmocka_unit_test(test_memzero),
        cmocka_unit_test(test_harden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
