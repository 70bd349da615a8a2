/* hsm/soft.c — the development backend: the data key is wrapped with AES-256-GCM under a
 * 32-byte key file. Anyone who can read the file can open every blob, so it is refused
 * unless the configuration explicitly allows it, and every open says so in the log.
 *
 * Wrap record: u8 version (1) | fingerprint[16] | nonce[12] | ct[32] | tag[16]
 * fingerprint = SHA-256("mpc-signer/hsm/soft/fp" || key)[0..16): names the key file, so a
 * blob from another node's key is reported as such rather than as tampering. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"
#include "tss/secmem.h"

#define SOFT_WRAP_VERSION 1
#define SOFT_FP_LEN       16
#define SOFT_WRAP_LEN     (1 + SOFT_FP_LEN + HSM_GCM_NONCE + HSM_DK_LEN + HSM_GCM_TAG)

static const char soft_wrap_tag[] = "mpc-signer/hsm/soft/wrap/v1";

typedef struct {
    uint8_t *key; /* secmem, 32 bytes */
    uint8_t fp[SOFT_FP_LEN];
    char path[256];
} soft_state;

static hsm_err soft_fingerprint(const uint8_t *key, uint8_t fp[SOFT_FP_LEN])
{
    static const char tag[] = "mpc-signer/hsm/soft/fp";
    uint8_t h[32];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, tag, sizeof tag - 1) == 1 &&
             EVP_DigestUpdate(c, key, HSM_DK_LEN) == 1 && EVP_DigestFinal_ex(c, h, &n) == 1;
    EVP_MD_CTX_free(c);
    if (!ok)
        return HSM_ERR_CRYPTO;
    memcpy(fp, h, SOFT_FP_LEN);
    return HSM_OK;
}

static hsm_err soft_wrap(hsm_backend *b, const uint8_t dk[HSM_DK_LEN], uint8_t **wrap,
                         size_t *wrap_len)
{
    soft_state *s = b->impl;
    uint8_t *w = malloc(SOFT_WRAP_LEN);
    hsm_err err;
    if (w == NULL)
        return HSM_ERR_NOMEM;
    w[0] = SOFT_WRAP_VERSION;
    memcpy(w + 1, s->fp, SOFT_FP_LEN);
    uint8_t *nonce = w + 1 + SOFT_FP_LEN;
    if ((err = hsm_random(nonce, HSM_GCM_NONCE)) == HSM_OK)
        err = hsm_gcm_seal(s->key, nonce, (const uint8_t *)soft_wrap_tag, sizeof soft_wrap_tag - 1,
                           w, 1 + SOFT_FP_LEN, dk, HSM_DK_LEN, nonce + HSM_GCM_NONCE,
                           nonce + HSM_GCM_NONCE + HSM_DK_LEN);
    if (err != HSM_OK) {
        free(w);
        return err;
    }
    *wrap = w;
    *wrap_len = SOFT_WRAP_LEN;
    return HSM_OK;
}

static hsm_err soft_unwrap(hsm_backend *b, const uint8_t *w, size_t wrap_len,
                           uint8_t dk[HSM_DK_LEN])
{
    soft_state *s = b->impl;
    if (wrap_len != SOFT_WRAP_LEN || w[0] != SOFT_WRAP_VERSION) {
        hsm_detail("soft wrap record of %zu bytes, version %u", wrap_len, w[0]);
        return HSM_ERR_FORMAT;
    }
    if (memcmp(w + 1, s->fp, SOFT_FP_LEN) != 0) {
        hsm_detail("blob was sealed with another soft key file");
        return HSM_ERR_WRONG_NODE;
    }
    const uint8_t *nonce = w + 1 + SOFT_FP_LEN;
    return hsm_gcm_open(s->key, nonce, (const uint8_t *)soft_wrap_tag, sizeof soft_wrap_tag - 1, w,
                        1 + SOFT_FP_LEN, nonce + HSM_GCM_NONCE, HSM_DK_LEN,
                        nonce + HSM_GCM_NONCE + HSM_DK_LEN, dk);
}

static int soft_describe(const hsm_backend *b, char *buf, size_t size)
{
    const soft_state *s = b->impl;
    char fp[2 * SOFT_FP_LEN + 1];
    hsm_hex(fp, s->fp, SOFT_FP_LEN);
    return snprintf(buf, size, "soft key_file=%s fingerprint=%s (INSECURE: development only)",
                    s->path, fp);
}

static void soft_close(hsm_backend *b)
{
    soft_state *s = b->impl;
    tss_secmem_free(s->key);
    free(s);
}

static const hsm_ops soft_ops = {HSM_KIND_SOFT, soft_wrap, soft_unwrap, soft_describe, soft_close};

static hsm_err soft_check_config(const hsm_config *cfg)
{
    if (!cfg->soft.allow_insecure) {
        hsm_detail("soft backend configured without allow_insecure");
        return HSM_ERR_INSECURE_REFUSED;
    }
    if (cfg->soft.key_file == NULL || cfg->soft.key_file[0] == '\0') {
        hsm_detail("soft backend needs key_file");
        return HSM_ERR_CONFIG;
    }
    return HSM_OK;
}

static hsm_err soft_load(const char *path, uint8_t **key)
{
    size_t len;
    hsm_err err = hsm_read_private_file(path, 64, HSM_ERR_KEY_FILE, key, &len);
    if (err != HSM_OK)
        return err;
    if (len != HSM_DK_LEN) {
        hsm_detail("%s: %zu bytes, expected %d", path, len, HSM_DK_LEN);
        tss_secmem_free(*key);
        *key = NULL;
        return HSM_ERR_KEY_FILE;
    }
    return HSM_OK;
}

hsm_err hsm_soft_open(const hsm_config *cfg, hsm_backend *b)
{
    hsm_err err = soft_check_config(cfg);
    if (err != HSM_OK)
        return err;
    soft_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HSM_ERR_NOMEM;
    if ((err = soft_load(cfg->soft.key_file, &s->key)) != HSM_OK ||
        (err = soft_fingerprint(s->key, s->fp)) != HSM_OK) {
        tss_secmem_free(s->key);
        free(s);
        return err;
    }
    snprintf(s->path, sizeof s->path, "%s", cfg->soft.key_file);
    b->ops = &soft_ops;
    b->impl = s;
    hsm_log(b->log, b->log_arg, HSM_LOG_WARNING,
            "soft sealing backend in use (key file %s): for development and demos only, "
            "anyone who can read that file can open every sealed share",
            s->path);
    return HSM_OK;
}

hsm_err hsm_soft_init(const hsm_config *cfg, char *binding, size_t size)
{
    hsm_err err = soft_check_config(cfg);
    uint8_t key[HSM_DK_LEN], fp[SOFT_FP_LEN], *loaded = NULL;
    char hex[2 * SOFT_FP_LEN + 1];
    if (err != HSM_OK)
        return err;
    int fd = open(cfg->soft.key_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        int ok = hsm_random(key, sizeof key) == HSM_OK &&
                 write(fd, key, sizeof key) == (ssize_t)sizeof key && fsync(fd) == 0;
        tss_memzero(key, sizeof key);
        close(fd);
        if (!ok) {
            hsm_detail("%s: cannot write the new key", cfg->soft.key_file);
            unlink(cfg->soft.key_file);
            return HSM_ERR_KEY_FILE;
        }
    } else if (errno != EEXIST) {
        hsm_detail("%s: %s", cfg->soft.key_file, strerror(errno));
        return HSM_ERR_KEY_FILE;
    }
    /* New or existing: load it the way hsm_open will, so init fails on what open would. */
    if ((err = soft_load(cfg->soft.key_file, &loaded)) != HSM_OK)
        return err;
    err = soft_fingerprint(loaded, fp);
    tss_secmem_free(loaded);
    if (err != HSM_OK)
        return err;
    hsm_hex(hex, fp, sizeof fp);
    snprintf(binding, size, "%s", hex);
    return HSM_OK;
}
