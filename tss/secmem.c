/* tss/secmem.c — locked, non-dumpable, self-wiping allocations for secrets.
 * Each allocation is its own anonymous mapping: a header page-aligned block holding the
 * mapping size, the user bytes, then a PROT_NONE guard page that turns overruns into a
 * crash rather than a silent read of a neighbour's secret. */
#include "secmem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define TSS_SECMEM_HEADER 64 /* keeps the user pointer 64-byte aligned */

static atomic_ulong tss_secmem_lock_fail_count;

void tss_memzero(void *p, size_t len)
{
    if (len == 0 || p == NULL)
        return;
    explicit_bzero(p, len);
}

static size_t tss_page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

void *tss_secmem_alloc(size_t len)
{
    size_t page = tss_page_size();
    if (len == 0 || len > SIZE_MAX / 2)
        return NULL;
    size_t body = (len + TSS_SECMEM_HEADER + page - 1) / page * page;
    size_t total = body + page; /* + guard page */
    uint8_t *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    if (mprotect(base + body, page, PROT_NONE) != 0) {
        munmap(base, total);
        return NULL;
    }
    (void)madvise(base, body, MADV_DONTDUMP);
    (void)madvise(base, body, MADV_DONTFORK); /* a forked child must not inherit secrets */
    if (mlock(base, body) != 0)
        atomic_fetch_add(&tss_secmem_lock_fail_count, 1);
    memcpy(base, &total, sizeof total);
    memcpy(base + sizeof total, &body, sizeof body);
    return base + TSS_SECMEM_HEADER;
}

void tss_secmem_free(void *p)
{
    if (p == NULL)
        return;
    uint8_t *base = (uint8_t *)p - TSS_SECMEM_HEADER;
    size_t total, body;
    memcpy(&total, base, sizeof total);
    memcpy(&body, base + sizeof total, sizeof body);
    tss_memzero(base, body);
    (void)munlock(base, body);
    munmap(base, total);
}

unsigned long tss_secmem_lock_failures(void)
{
    return atomic_load(&tss_secmem_lock_fail_count);
}

int tss_secmem_harden_process(void)
{
    struct rlimit none = {0, 0};
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return -errno;
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return -errno;
    return 0;
}
