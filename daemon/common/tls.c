/* daemon/common/tls.c — X.509 helpers (CN, fingerprint, PEM, signature verification). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

int mpcd_tls_cert_cn(X509 *cert, char *out, size_t cap)
{
    X509_NAME *name = X509_get_subject_name(cert);
    if (!name)
        return -1;
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
        return -1; /* none, or ambiguous */
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0)
        return -1;
    int ok = (size_t)n < cap && memchr(utf8, 0, (size_t)n) == NULL;
    if (ok) {
        memcpy(out, utf8, (size_t)n);
        out[n] = 0;
    }
    OPENSSL_free(utf8);
    return ok ? 0 : -1;
}

int mpcd_tls_cert_fingerprint(X509 *cert, uint8_t out[32])
{
    unsigned int len = 0;
    return X509_digest(cert, EVP_sha256(), out, &len) == 1 && len == 32 ? 0 : -1;
}

char *mpcd_tls_cert_pem(X509 *cert)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    if (!b)
        return NULL;
    if (PEM_write_bio_X509(b, cert) == 1) {
        long n = BIO_get_mem_data(b, &data);
        out = malloc((size_t)n + 1);
        if (out) {
            memcpy(out, data, (size_t)n);
            out[n] = 0;
        }
    }
    BIO_free(b);
    return out;
}

int mpcd_tls_verify_with_cert(X509 *cert, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                              size_t sig_len)
{
    EVP_PKEY *pk = X509_get0_pubkey(cert);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;
    if (!pk || !ctx)
        goto out;
    int type = EVP_PKEY_get_base_id(pk);
    const EVP_MD *md = (type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448) ? NULL : EVP_sha256();
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) != 1)
        goto out;
    ok = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
out:
    EVP_MD_CTX_free(ctx);
    return ok;
}

int mpcd_tls_check_file(const char *what, const char *path)
{
    if (!path || !path[0]) {
        log_err("%s: no file configured", what);
        return -1;
    }
    if (access(path, R_OK) != 0) {
        log_err("%s: %s: %m", what, path);
        return -1;
    }
    return 0;
}

int mpcd_tls_cert_has_eku(X509 *cert, uint32_t xku)
{
    return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) &&
           (X509_get_extended_key_usage(cert) & xku) != 0;
}

int mpcd_tls_cert_file_has_eku(const char *path, uint32_t xku)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!c)
        return -1;
    int r = mpcd_tls_cert_has_eku(c, xku);
    X509_free(c);
    return r;
}
