/* hsm/internal.h — what the generic layer (hsm.c) and the backends share; not installed.
 * A backend only wraps and unwraps the 32-byte data key: the envelope, its parsing, the
 * payload AEAD, locking and the public API live in hsm.c. */
#ifndef HSM_INTERNAL_H
#define HSM_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include "hsm.h"

#define HSM_DK_LEN    32
#define HSM_WRAP_MAX  4096 /* largest wrap record any backend writes */
#define HSM_GCM_NONCE 12
#define HSM_GCM_TAG   16

typedef struct hsm_ops {
    hsm_kind kind;
    /* Wraps dk into a malloc'ed record *wrap of *wrap_len (<= HSM_WRAP_MAX) bytes. */
    hsm_err (*wrap)(hsm_backend *b, const uint8_t dk[HSM_DK_LEN], uint8_t **wrap, size_t *wrap_len);
    /* Parses a wrap record strictly and recovers dk; WRONG_NODE if it names another
     * sealing root, TAMPERED if its authentication fails. */
    hsm_err (*unwrap)(hsm_backend *b, const uint8_t *wrap, size_t wrap_len, uint8_t dk[HSM_DK_LEN]);
    int (*describe)(const hsm_backend *b, char *buf, size_t size);
    void (*close)(hsm_backend *b);
} hsm_ops;

struct hsm_backend {
    const hsm_ops *ops;
    pthread_mutex_t lock;
    hsm_log_fn log;
    void *log_arg;
    void *impl; /* the backend's own state */
};

/* Backend constructors: fill b->ops and b->impl. */
hsm_err hsm_soft_open(const hsm_config *cfg, hsm_backend *b);
hsm_err hsm_pkcs11_open(const hsm_config *cfg, hsm_backend *b);
hsm_err hsm_tpm2_open(const hsm_config *cfg, hsm_backend *b);
hsm_err hsm_soft_init(const hsm_config *cfg, char *binding, size_t size);
hsm_err hsm_tpm2_init(const hsm_config *cfg, char *binding, size_t size);

/* Records the calling thread's failure detail (printf format; never pass secrets). */
void hsm_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hsm_detail_clear(void);

/* Logs through the configured callback or stderr. */
void hsm_log(hsm_log_fn fn, void *arg, hsm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reads a whole small file that must be a regular file not accessible by group or others.
 * *data is secure memory (tss_secmem) of *len bytes (len <= max). Errors: missing_err when
 * it cannot be opened or read or is empty / too long, HSM_ERR_FILE_PERMS when too open. */
hsm_err hsm_read_private_file(const char *path, size_t max, hsm_err missing_err, uint8_t **data,
                              size_t *len);

/* AES-256-GCM helpers (OpenSSL). seal writes ct (len bytes) and tag; open returns
 * HSM_ERR_TAMPERED when the tag does not verify. aad may be split in two parts. */
hsm_err hsm_gcm_seal(const uint8_t key[32], const uint8_t nonce[HSM_GCM_NONCE], const uint8_t *aad1,
                     size_t aad1_len, const uint8_t *aad2, size_t aad2_len, const uint8_t *pt,
                     size_t len, uint8_t *ct, uint8_t tag[HSM_GCM_TAG]);
hsm_err hsm_gcm_open(const uint8_t key[32], const uint8_t nonce[HSM_GCM_NONCE], const uint8_t *aad1,
                     size_t aad1_len, const uint8_t *aad2, size_t aad2_len, const uint8_t *ct,
                     size_t len, const uint8_t tag[HSM_GCM_TAG], uint8_t *pt);
hsm_err hsm_random(uint8_t *out, size_t len);

/* Lower-case hex of in[0..len) into out (NUL-terminated, needs 2*len+1). */
void hsm_hex(char *out, const uint8_t *in, size_t len);
/* Parses hex (even length, no separators) into out; returns bytes or -1. */
int hsm_unhex(uint8_t *out, size_t cap, const char *hex);

/* Big-endian helpers for the blob and wrap formats. */
static inline void hsm_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void hsm_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline uint16_t hsm_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t hsm_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif
