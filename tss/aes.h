/* tss/aes.h — AES-256 in counter mode with IV 0, the keystream every PRG of the OT layer
 * uses (ote.c: the extension PRG and the output derivation; vole.c: the gadget vector).
 *
 * The output is exactly OpenSSL's EVP AES-256-CTR with a zero IV (counter block j is the
 * 128-bit big-endian integer j). When the CPU has AES-NI (detected once at run time) the
 * key schedule and the blocks are computed here with the AES instructions: the per-row
 * re-keying of the OT layer then costs about 60 ns instead of the ~300 ns of an
 * EVP_EncryptInit_ex (OpenSSL 3 re-resolves parameters on every re-key). Otherwise it goes
 * through EVP as before. Both paths are constant time (AES-NI, or OpenSSL's AES-NI /
 * vector-permute code). */
#ifndef TSS_AES_H
#define TSS_AES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Largest output of one call (bytes); callers here need at most 32 KB. */
#define TSS_AES_CTR_MAX ((size_t)1 << 20)

/* out[0..len) = AES-256-CTR(key, IV = 0) keystream, len <= TSS_AES_CTR_MAX (else
 * TSS_ERR_ARG). TSS_ERR_NOMEM only on the EVP path, when OpenSSL fails (out is then
 * zeroed). Wipes its key schedule. */
tss_err tss_aes256_ctr0(uint8_t *out, size_t len, const uint8_t key[32]);

/* TSS_OK when tss_aes256_ctr0 can run: AES-NI is present, or OpenSSL provides
 * AES-256-CTR (looked up once); TSS_ERR_NOMEM otherwise. Callers check it once before a
 * loop of keystream calls. */
tss_err tss_aes_ready(void);

/* The two paths, exposed so tests can compare them. tss_aes256_ctr0_ni may only be called
 * when tss_aes_have_ni() returns 1. */
tss_err tss_aes256_ctr0_evp(uint8_t *out, size_t len, const uint8_t key[32]);
void tss_aes256_ctr0_ni(uint8_t *out, size_t len, const uint8_t key[32]);
int tss_aes_have_ni(void);

#endif
