/* tss/secmem.c — locked, non-dumpable, self-wiping allocations for secrets.
 * Each allocation is its own anonymous mapping: a page-rounded body, then a PROT_NONE guard
 * page. The user block (rounded up to 64 bytes) sits at the END of the body, right before
 * the guard page, so reading or writing past it faults instead of touching a neighbour's
 * secret; a small header just before the user block records the mapping. */
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

typedef struct {
    uint8_t *base;
    size_t total, body;
} tss_secmem_header;

void *tss_secmem_alloc(size_t len)
{
    size_t page = tss_page_size();
    if (len == 0 || len > SIZE_MAX / 2)
        return NULL;
    size_t user = (len + 63) / 64 * 64;
    size_t body = (user + TSS_SECMEM_HEADER + page - 1) / page * page;
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
    uint8_t *p = base + body - user;
    tss_secmem_header h = {base, total, body};
    memcpy(p - TSS_SECMEM_HEADER, &h, sizeof h);
    return p;
}

void tss_secmem_free(void *p)
{
    if (p == NULL)
        return;
    tss_secmem_header h;
    memcpy(&h, (uint8_t *)p - TSS_SECMEM_HEADER, sizeof h);
    tss_memzero(h.base, h.body);
    (void)munlock(h.base, h.body);
    munmap(h.base, h.total);
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
