/* daemon/signerd/ident.c — the node's identity: its certificate and the certificate's private
 * key, which is sealed at rest by the node's own backend (TPM, token or soft) exactly like a
 * key share and unsealed into memory at start; and the checks a signer makes on every peer
 * certificate the hub forwards (CA, CRL, CN, key type). What does not live here: the TLS
 * handshake (link.c hands the key to OpenSSL's context) and pinning (session.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "daemon/common/log.h"
#include "daemon/common/tls.h"
#include "signer.h"
#include "tss/secmem.h"

#define IDENT_MAX_FILE  (64 * 1024)
#define IDENT_AAD_KEYID "node-identity"
#define IDENT_VERSION   1

static int ident_aad(const char *party_id, uint8_t *aad, size_t cap, size_t *len)
{
    hsm_err e = hsm_aad_build(aad, cap, len, IDENT_AAD_KEYID, party_id, IDENT_VERSION);
    if (e != HSM_OK)
        log_err("identity key: %s", hsm_strerror(e));
    return e == HSM_OK ? 0 : -1;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(IDENT_MAX_FILE);
    size_t n = buf ? fread(buf, 1, IDENT_MAX_FILE, f) : 0;
    int bad = ferror(f) || n == 0 || n == IDENT_MAX_FILE;
    fclose(f);
    if (bad) {
        free(buf);
        errno = EINVAL;
        return NULL;
    }
    *len = n;
    return buf;
}

static X509 *load_cert_file(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return c;
}

static int is_p256(EVP_PKEY *pk)
{
    char group[64];
    size_t n = 0;
    return pk && EVP_PKEY_is_a(pk, "EC") &&
           EVP_PKEY_get_group_name(pk, group, sizeof group, &n) == 1 &&
           strcmp(group, "prime256v1") == 0;
}

static int load_trust(signer *sd)
{
    sd->trust = X509_STORE_new();
    if (!sd->trust || X509_STORE_load_file(sd->trust, sd->cfg.hub_ca) != 1) {
        log_err("[hub] ca: cannot load %s as PEM certificates; fix the path", sd->cfg.hub_ca);
        return -1;
    }
    if (sd->cfg.hub_crl[0]) {
        /* X509_STORE_load_file also reads CRLs in the same PEM file. */
        if (X509_STORE_load_file(sd->trust, sd->cfg.hub_crl) != 1) {
            log_err("[hub] crl: cannot load %s as a PEM CRL; fix the path", sd->cfg.hub_crl);
            return -1;
        }
        X509_STORE_set_flags(sd->trust, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    return 0;
}

/* 0 when cert chains to the trust store for TLS client use (EKU clientAuth if present). */
static int verify_cert(signer *sd, X509 *cert, char *why, size_t cap)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = ctx && X509_STORE_CTX_init(ctx, sd->trust, cert, NULL) == 1 &&
             X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 &&
             X509_verify_cert(ctx) == 1;
    if (!ok && why)
        snprintf(why, cap, "%s",
                 ctx ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) : "no memory");
    X509_STORE_CTX_free(ctx);
    return ok ? 0 : -1;
}

int signer_ident_load(signer *sd)
{
    const signer_config *c = &sd->cfg;
    uint8_t aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t aad_len, blob_len, pt_len;
    if (load_trust(sd) != 0)
        return -1;
    sd->id_cert = load_cert_file(c->hub_cert);
    if (!sd->id_cert || mpcd_tls_cert_fingerprint(sd->id_cert, sd->id_fp) != 0) {
        log_err("[hub] cert: cannot read %s as a PEM certificate", c->hub_cert);
        return -1;
    }
    uint8_t *blob = read_file(c->identity_key, &blob_len);
    if (!blob) {
        log_err("[hub] identity_key: cannot read %s (%s); create it with "
                "'mpc-signerd init-identity'",
                c->identity_key, strerror(errno));
        return -1;
    }
    if (ident_aad(c->party_id, aad, sizeof aad, &aad_len) != 0) {
        free(blob);
        return -1;
    }
    hsm_err e = hsm_unseal(sd->hsm, blob, blob_len, aad, aad_len, &pt, &pt_len);
    free(blob);
    if (e != HSM_OK) {
        log_err("[hub] identity_key: cannot unseal %s: %s %s", c->identity_key, hsm_strerror(e),
                hsm_last_detail());
        return -1;
    }
    const uint8_t *p = pt;
    sd->id_key = d2i_AutoPrivateKey(NULL, &p, (long)pt_len);
    tss_secmem_free(pt);
    if (!is_p256(sd->id_key) || X509_check_private_key(sd->id_cert, sd->id_key) != 1) {
        log_err("[hub] identity_key: the sealed key is not the P-256 key of [hub] cert %s",
                c->hub_cert);
        return -1;
    }
    char why[128];
    if (verify_cert(sd, sd->id_cert, why, sizeof why) != 0) {
        log_err("[hub] cert: %s does not verify against [hub] ca: %s", c->hub_cert, why);
        return -1;
    }
    return 0;
}

void signer_ident_free(signer *sd)
{
    EVP_PKEY_free(sd->id_key); /* OpenSSL clears private key material on free */
    X509_free(sd->id_cert);
    X509_STORE_free(sd->trust);
    sd->id_key = NULL;
    sd->id_cert = NULL;
    sd->trust = NULL;
}

X509 *signer_ident_check_peer(signer *sd, const char *pem, const char *id, uint8_t fp[32],
                              char *why, size_t cap)
{
    char cn[API_PARTY_ID_MAX + 1];
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!c) {
        snprintf(why, cap, "certificate of '%s' is not PEM", id);
        return NULL;
    }
    char reason[96];
    const char *bad = NULL;
    EVP_PKEY *pk = X509_get0_pubkey(c);
    if (mpcd_tls_cert_cn(c, cn, sizeof cn) != 0 || strcmp(cn, id) != 0)
        bad = "its CN is not the party id";
    else if (!is_p256(pk))
        bad = "its key is not P-256";
    else if (verify_cert(sd, c, reason, sizeof reason) != 0)
        bad = reason;
    else if (mpcd_tls_cert_fingerprint(c, fp) != 0)
        bad = "cannot hash it";
    if (bad) {
        snprintf(why, cap, "certificate of '%s' refused: %s", id, bad);
        X509_free(c);
        return NULL;
    }
    return c;
}

int signer_ident_sign(signer *sd, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, sd->id_key) == 1 &&
             EVP_DigestSign(md, sig, sig_len, msg, len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static EVP_PKEY *load_or_generate(const char *import_pem)
{
    if (!import_pem)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    FILE *f = fopen(import_pem, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!is_p256(k)) {
        log_err("%s: not a readable P-256 private key (PEM)", import_pem);
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

static int write_csr(EVP_PKEY *k, const char *cn, const char *path)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    int ok = req && name &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0) == 1 &&
             X509_REQ_set_subject_name(req, name) == 1 && X509_REQ_set_pubkey(req, k) == 1 &&
             X509_REQ_sign(req, k, EVP_sha256()) > 0;
    FILE *f = ok ? fopen(path, "w") : NULL;
    ok = f && PEM_write_X509_REQ(f, req) == 1;
    if (f && fclose(f) != 0)
        ok = 0;
    X509_NAME_free(name);
    X509_REQ_free(req);
    return ok ? 0 : -1;
}

/* Writes blob to path atomically (temp file, fsync, rename), mode 0600. */
static int write_private(const char *path, const uint8_t *blob, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, blob, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int signer_ident_init(const signer_config *cfg, hsm_backend *hsm, const char *import_pem,
                      const char *csr_path)
{
    uint8_t aad[HSM_AAD_SHARE_MAX], *der = NULL, *blob = NULL;
    size_t aad_len, blob_len = 0;
    if (access(cfg->identity_key, F_OK) == 0) {
        log_err("[hub] identity_key %s exists; refusing to replace a node identity (move it "
                "away first)",
                cfg->identity_key);
        return -1;
    }
    EVP_PKEY *k = load_or_generate(import_pem);
    if (!k || ident_aad(cfg->party_id, aad, sizeof aad, &aad_len) != 0) {
        EVP_PKEY_free(k);
        return -1;
    }
    int der_len = i2d_PrivateKey(k, NULL);
    uint8_t *sec = der_len > 0 ? tss_secmem_alloc((size_t)der_len) : NULL;
    int rc = -1;
    der = sec;
    if (sec && i2d_PrivateKey(k, &der) == der_len) {
        hsm_err e = hsm_seal(hsm, sec, (size_t)der_len, aad, aad_len, &blob, &blob_len);
        if (e != HSM_OK)
            log_err("cannot seal the identity key: %s %s", hsm_strerror(e), hsm_last_detail());
        else if (write_private(cfg->identity_key, blob, blob_len) != 0)
            log_err("[hub] identity_key: cannot write %s: %s", cfg->identity_key, strerror(errno));
        else if (csr_path && write_csr(k, cfg->party_id, csr_path) != 0)
            log_err("cannot write the certificate request %s", csr_path);
        else
            rc = 0;
    }
    if (sec)
        tss_secmem_free(sec);
    free(blob);
    EVP_PKEY_free(k);
    return rc;
}
