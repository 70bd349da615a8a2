/* hsm/util.c — small helpers shared by the backends: private-file reading, AES-256-GCM,
 * randomness and hex. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "internal.h"
#include "tss/secmem.h"

hsm_err hsm_read_private_file(const char *path, size_t max, hsm_err missing_err, uint8_t **data,
                              size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        hsm_detail("%s: %s", path, strerror(errno));
        return errno == ELOOP ? HSM_ERR_FILE_PERMS : missing_err;
    }
    /* fstat on the open descriptor: no window between the check and the read. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        hsm_detail("%s: mode %03o, must be a regular file with no group/other access", path,
                   (unsigned)(st.st_mode & 0777));
        close(fd);
        return HSM_ERR_FILE_PERMS;
    }
    if (st.st_size <= 0 || (size_t)st.st_size > max) {
        hsm_detail("%s: size %lld, expected 1..%zu bytes", path, (long long)st.st_size, max);
        close(fd);
        return missing_err;
    }
    uint8_t *buf = tss_secmem_alloc((size_t)st.st_size);
    if (buf == NULL) {
        close(fd);
        return HSM_ERR_NOMEM;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != (size_t)st.st_size) {
        hsm_detail("%s: short read", path);
        tss_secmem_free(buf);
        return missing_err;
    }
    *data = buf;
    *len = got;
    return HSM_OK;
}

static hsm_err gcm_run(int enc, const uint8_t key[32], const uint8_t nonce[HSM_GCM_NONCE],
                       const uint8_t *aad1, size_t aad1_len, const uint8_t *aad2, size_t aad2_len,
                       const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[HSM_GCM_TAG])
{
    hsm_err err = HSM_ERR_CRYPTO;
    int n;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL)
        return HSM_ERR_NOMEM;
    if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1)
        goto out;
    if (aad1_len > 0 && EVP_CipherUpdate(c, NULL, &n, aad1, (int)aad1_len) != 1)
        goto out;
    if (aad2_len > 0 && EVP_CipherUpdate(c, NULL, &n, aad2, (int)aad2_len) != 1)
        goto out;
    if (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, HSM_GCM_TAG, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(c, out + len, &n) != 1) {
        if (!enc) {
            tss_memzero(out, len); /* never hand out unauthenticated plaintext */
            err = HSM_ERR_TAMPERED;
        }
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, HSM_GCM_TAG, tag) != 1)
        goto out;
    err = HSM_OK;
out:
    EVP_CIPHER_CTX_free(c);
    return err;
}

hsm_err hsm_gcm_seal(const uint8_t key[32], const uint8_t nonce[HSM_GCM_NONCE], const uint8_t *aad1,
                     size_t aad1_len, const uint8_t *aad2, size_t aad2_len, const uint8_t *pt,
                     size_t len, uint8_t *ct, uint8_t tag[HSM_GCM_TAG])
{
    return gcm_run(1, key, nonce, aad1, aad1_len, aad2, aad2_len, pt, len, ct, tag);
}

hsm_err hsm_gcm_open(const uint8_t key[32], const uint8_t nonce[HSM_GCM_NONCE], const uint8_t *aad1,
                     size_t aad1_len, const uint8_t *aad2, size_t aad2_len, const uint8_t *ct,
                     size_t len, const uint8_t tag[HSM_GCM_TAG], uint8_t *pt)
{
    uint8_t t[HSM_GCM_TAG];
    memcpy(t, tag, sizeof t);
    return gcm_run(0, key, nonce, aad1, aad1_len, aad2, aad2_len, ct, len, pt, t);
}

hsm_err hsm_random(uint8_t *out, size_t len)
{
    return RAND_priv_bytes(out, (int)len) == 1 ? HSM_OK : HSM_ERR_RAND;
}

void hsm_hex(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hsm_unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(n / 2);
}
