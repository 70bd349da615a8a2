/* daemon/common/tls.h — certificate helpers around OpenSSL for the party link: identity
 * (CN), fingerprint, PEM export, and signature checks with a certificate's key. The TLS
 * handshake itself belongs to libwebsockets. */
#ifndef MPCD_TLS_H
#define MPCD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/* Copies the subject CN into out (cap bytes). Returns 0, or -1 if absent, repeated or too
 * long. */
int mpcd_tls_cert_cn(X509 *cert, char *out, size_t cap);

/* SHA-256 of the DER encoding. Returns 0 or -1. */
int mpcd_tls_cert_fingerprint(X509 *cert, uint8_t out[32]);

/* PEM of cert as a malloc'd NUL-terminated string (free with free); NULL on failure. */
char *mpcd_tls_cert_pem(X509 *cert);

/* 1 if sig (DER ECDSA, or Ed25519 raw) verifies over msg with cert's public key using
 * SHA-256 (none for Ed25519), else 0. */
int mpcd_tls_verify_with_cert(X509 *cert, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                              size_t sig_len);

/* 1 if cert carries an extendedKeyUsage extension that lists the purpose `xku`
 * (XKU_SSL_CLIENT for clientAuth, XKU_SSL_SERVER for serverAuth); 0 if the extension is
 * absent or does not list it. Certificates without the extension are not accepted for
 * either purpose here, unlike OpenSSL's default purpose check. */
int mpcd_tls_cert_has_eku(X509 *cert, uint32_t xku);

/* The same for the first certificate in a PEM file; -1 if it cannot be read. */
int mpcd_tls_cert_file_has_eku(const char *path, uint32_t xku);

/* Checks that path exists and is readable; logs "what: path: reason" otherwise. */
int mpcd_tls_check_file(const char *what, const char *path);

#endif
