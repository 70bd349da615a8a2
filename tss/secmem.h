/* tss/secmem.h — memory for secrets.
 * Secret material (shares, nonces, OT seeds, unsealed keys) lives in pages that are
 * mlock'ed (never swapped), excluded from core dumps (MADV_DONTDUMP) and wiped before they
 * are returned to the system. tss_memzero is the one zeroization primitive of the project:
 * the compiler may not elide it. */
#ifndef TSS_SECMEM_H
#define TSS_SECMEM_H

#include <stddef.h>
#include <string.h>

/* Zeroes p[0..len) in a way the optimiser cannot remove. A NULL p is a no-op. */
void tss_memzero(void *p, size_t len);

/* The same for small stack buffers in hot loops (the OT rows: four wipes per row):
 * memset, then an empty asm that takes the buffer's address and clobbers memory, so the
 * optimiser must assume the zeros are read and cannot drop them (BoringSSL's
 * OPENSSL_cleanse does the same); inlined, no library call. */
static inline void tss_memzero_inline(void *p, size_t len)
{
    memset(p, 0, len);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

/* Allocates len zeroed bytes (len > 0), 64-byte aligned, in their own locked, non-dumpable
 * mapping that ends in a guard page: the first byte past round_up(len, 64) faults. Returns NULL on
 * failure. If the kernel refuses mlock (RLIMIT_MEMLOCK) the allocation still succeeds and
 * tss_secmem_lock_failures() counts it, so a daemon can refuse to run or warn. Free with
 * tss_secmem_free. */
void *tss_secmem_alloc(size_t len);

/* Zeroizes and unmaps memory from tss_secmem_alloc. NULL is a no-op. */
void tss_secmem_free(void *p);

/* Number of allocations whose mlock failed since the process started. */
unsigned long tss_secmem_lock_failures(void);

/* Makes the process non-dumpable (PR_SET_DUMPABLE 0, which also blocks ptrace by other
 * non-root processes) and sets RLIMIT_CORE to 0. Returns 0 or -errno. For daemons. */
int tss_secmem_harden_process(void);

#endif
