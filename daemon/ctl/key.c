/* daemon/ctl/key.c — what mpcctl trusts about a key: it takes nothing from the hub on faith.
 * The keygen attestations are checked against the signers' certificates and the
 * deployment CA, the address and uncompressed key are recomputed here (Keccak-256,
 * EIP-55), child keys are derived here (BIP32), and the PEM for openssl is built here. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <secp256k1.h>

#include "api/hex.h"
#include "api/reshare.h"
#include "ctl.h"
#include "daemon/common/eth.h"
#include "daemon/common/tls.h"
#include "tss/bip32.h"
#include "tss/keccak.h"
#include "tss/point.h"

int ctl_uncompressed_hex(char out[131], const uint8_t pk[33])
{
    secp256k1_pubkey p;
    uint8_t u[65];
    size_t len = sizeof u;
    const secp256k1_context *ctx = tss_secp_ctx();
    if (!secp256k1_ec_pubkey_parse(ctx, &p, pk, 33) ||
        !secp256k1_ec_pubkey_serialize(ctx, u, &len, &p, SECP256K1_EC_UNCOMPRESSED))
        return -1;
    api_hex_encode(out, u, 65);
    return 0;
}

char *ctl_pubkey_pem(const uint8_t pk[33])
{
    /* SPKI DER for a compressed secp256k1 point: a fixed 23-byte prefix, then the point. */
    static const uint8_t prefix[] = {0x30, 0x36, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                     0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                     0x81, 0x04, 0x00, 0x0a, 0x03, 0x22, 0x00};
    uint8_t der[sizeof prefix + 33];
    const uint8_t *p = der;
    memcpy(der, prefix, sizeof prefix);
    memcpy(der + sizeof prefix, pk, 33);
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, sizeof der);
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL, *data;
    if (k && b && PEM_write_bio_PUBKEY(b, k) == 1) {
        long n = BIO_get_mem_data(b, &data);
        out = n > 0 ? malloc((size_t)n + 1) : NULL; /* data is not NUL-terminated */
        if (out) {
            memcpy(out, data, (size_t)n);
            out[n] = 0;
        }
    }
    BIO_free(b);
    EVP_PKEY_free(k);
    return out;
}

int ctl_derive(uint8_t out[33], const ctl_key *k, const char *path)
{
    uint32_t idx[TSS_BIP32_MAX_DEPTH];
    size_t depth;
    tss_point root, child;
    tss_scalar offset;
    uint8_t cc[32];
    if (tss_bip32_parse_path(path, idx, &depth) != TSS_OK ||
        tss_point_parse(&root, k->public_key) != TSS_OK ||
        tss_bip32_derive(&root, k->chain_code, idx, depth, &offset, &child, cc) != TSS_OK)
        return -1;
    tss_point_serialize(out, &child);
    return 0;
}

static int hex_field(const json_t *o, const char *name, uint8_t *out, size_t len)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s && strlen(s) == 2 * len && api_hex_decode(out, len, s, 2 * len) == API_OK ? 0 : -1;
}

/* The certificate must chain to the CA for TLS client use (a party's certificate, not the
 * hub's server certificate) and name the party. Returns the certificate or NULL. */
static X509 *check_party_cert(X509_STORE *trust, const char *pem, const char *party, char *why,
                              size_t cap)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    char cn[API_PARTY_ID_MAX + 1];
    if (!cert) {
        snprintf(why, cap, "party '%s': its certificate is not PEM", party);
        return NULL;
    }
    if (mpcd_tls_cert_cn(cert, cn, sizeof cn) != 0 || strcmp(cn, party) != 0) {
        snprintf(why, cap, "party '%s': the certificate's CN is not the party id", party);
        X509_free(cert);
        return NULL;
    }
    /* As the hub requires: a party's certificate says it is for TLS clients. */
    if (!(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) ||
        !(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT)) {
        snprintf(why, cap, "party '%s': its certificate lacks extendedKeyUsage=clientAuth", party);
        X509_free(cert);
        return NULL;
    }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = ctx && X509_STORE_CTX_init(ctx, trust, cert, NULL) == 1 &&
             X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 &&
             X509_verify_cert(ctx) == 1;
    if (!ok)
        snprintf(why, cap, "party '%s': its certificate does not verify against the party CA: %s",
                 party, ctx ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) : "");
    X509_STORE_CTX_free(ctx);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* Reads the scalar fields and the party list of a key view into k. */
static int read_key(const json_t *key, ctl_key *k, char *why, size_t cap)
{
    const char *id = json_string_value(json_object_get(key, "id"));
    const json_t *parties = json_object_get(key, "parties");
    json_int_t t = json_integer_value(json_object_get(key, "threshold"));
    json_int_t n = json_integer_value(json_object_get(key, "n"));
    if (!id || strlen(id) != 32 || api_hex_decode(k->id_bytes, 16, id, 32) != API_OK) {
        snprintf(why, cap, "the key view has no valid id");
        return -1;
    }
    memcpy(k->id, id, 33);
    if (n < 2 || n > API_MAX_PARTIES || t < 2 || t > n || !json_is_array(parties) ||
        json_array_size(parties) != (size_t)n) {
        snprintf(why, cap, "key %s: threshold, n and parties disagree", id);
        return -1;
    }
    k->t = (unsigned)t;
    k->n = (unsigned)n;
    k->imported = json_is_true(json_object_get(key, "imported"));
    k->nparties = (size_t)n;
    for (size_t i = 0; i < (size_t)n; i++) {
        const char *p = json_string_value(json_array_get(parties, i));
        if (!p || !api_party_id_valid(p)) {
            snprintf(why, cap, "key %s: party %zu is not a valid id", id, i + 1);
            return -1;
        }
        snprintf(k->parties[i], sizeof k->parties[i], "%s", p);
    }
    if (strcmp(ctl_jstr(key, "status"), "active") != 0) {
        snprintf(why, cap, "key %s is %s, not active", id, ctl_jstr(key, "status"));
        return -1;
    }
    tss_point pt;
    if (hex_field(key, "public_key", k->public_key, 33) != 0 ||
        tss_point_parse(&pt, k->public_key) != TSS_OK ||
        hex_field(key, "chain_code", k->chain_code, 32) != 0) {
        snprintf(why, cap, "key %s: no valid public key or chain code", id);
        return -1;
    }
    return 0;
}

/* One attestation: a known, not yet seen party; same transcript as the others; certificate
 * from the CA; signature over the attested message. */
static int check_attestation(const json_t *a, ctl_key *k, X509_STORE *trust, int *seen,
                             uint8_t th[32], int first, char *why, size_t cap)
{
    const char *party = ctl_jstr(a, "party"), *sig = ctl_jstr(a, "signature");
    const char *pem = json_string_value(json_object_get(a, "certificate"));
    size_t i;
    for (i = 0; i < k->natt && strcmp(k->attesters[i], party) != 0; i++)
        ;
    if (i == k->natt || seen[i]) {
        snprintf(why, cap, "attestation from '%s', which is not a party or attests twice", party);
        return -1;
    }
    seen[i] = 1;
    api_keygen_result r;
    memset(&r, 0, sizeof r);
    size_t slen = strlen(sig);
    if (hex_field(a, "transcript_hash", r.transcript_hash, 32) != 0 || slen == 0 || slen % 2 ||
        slen / 2 > sizeof r.attestation ||
        api_hex_decode(r.attestation, slen / 2, sig, slen) != API_OK) {
        snprintf(why, cap, "party '%s': malformed attestation", party);
        return -1;
    }
    r.attestation_len = slen / 2;
    if (!first && memcmp(th, r.transcript_hash, 32) != 0) {
        snprintf(why, cap, "party '%s' attests a different DKG transcript", party);
        return -1;
    }
    memcpy(th, r.transcript_hash, 32);
    if (!pem) {
        snprintf(why, cap,
                 "party '%s': the hub returned no certificate for its attestation (a key made "
                 "before the hub kept them); cannot verify",
                 party);
        return -1;
    }
    X509 *cert = check_party_cert(trust, pem, party, why, cap);
    if (!cert)
        return -1;
    memcpy(r.public_key, k->public_key, 33);
    memcpy(r.chain_code, k->chain_code, 32);
    /* an imported key has no keygen: its parties attested their epoch-1 shares with the
     * reshare message (v2, transcript hash = the share's fingerprint; import contract) */
    uint8_t m[API_ATTEST_MSG_BYTES > API_RESHARE_ATTEST_MSG_BYTES ? API_ATTEST_MSG_BYTES
                                                                  : API_RESHARE_ATTEST_MSG_BYTES];
    size_t mlen = k->imported ? API_RESHARE_ATTEST_MSG_BYTES : API_ATTEST_MSG_BYTES;
    if (k->imported)
        api_reshare_attestation_message(m, k->id_bytes, 1, &r);
    else
        api_attestation_message(m, k->id_bytes, &r);
    int ok = mpcd_tls_verify_with_cert(cert, m, mlen, r.attestation, r.attestation_len);
    X509_free(cert);
    if (!ok) {
        snprintf(why, cap,
                 "party '%s': its %s attestation does not verify for this key id, public key "
                 "and chain code",
                 party, k->imported ? "import (epoch 1)" : "keygen");
        return -1;
    }
    return 0;
}

/* The attesting committee: attesters (ids), or the key's parties when NULL. */
static int read_attesters(const json_t *attesters, ctl_key *k, char *why, size_t cap)
{
    if (!attesters) {
        k->natt = k->nparties;
        memcpy(k->attesters, k->parties, sizeof k->attesters);
        return 0;
    }
    size_t n = json_array_size(attesters);
    if (n < 2 || n > API_MAX_PARTIES) {
        snprintf(why, cap, "key %s: a committee of %zu parties made it", k->id, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *p = json_string_value(json_array_get(attesters, i));
        if (!p || !api_party_id_valid(p)) {
            snprintf(why, cap, "key %s: its first committee's party %zu is not a valid id", k->id,
                     i + 1);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(k->attesters[j], p) == 0) {
                snprintf(why, cap, "key %s: its first committee lists '%s' twice", k->id, p);
                return -1;
            }
        snprintf(k->attesters[i], sizeof k->attesters[i], "%s", p);
    }
    k->natt = n;
    return 0;
}

int ctl_key_verify(const json_t *key, const char *ca_file, ctl_key *k, char *why, size_t cap)
{
    return ctl_key_verify_by(key, NULL, ca_file, k, why, cap);
}

int ctl_key_verify_by(const json_t *key, const json_t *attesters, const char *ca_file, ctl_key *k,
                      char *why, size_t cap)
{
    memset(k, 0, sizeof *k);
    if (read_key(key, k, why, cap) != 0 || read_attesters(attesters, k, why, cap) != 0)
        return CTL_EXIT_VERIFY;
    const json_t *atts = json_object_get(key, "attestations");
    if (!json_is_array(atts) || json_array_size(atts) != k->natt) {
        snprintf(why, cap, "key %s: %zu attestations for %zu parties", k->id, json_array_size(atts),
                 k->natt);
        return CTL_EXIT_VERIFY;
    }
    X509_STORE *trust = X509_STORE_new();
    if (!trust || !ca_file || !ca_file[0] || X509_STORE_load_file(trust, ca_file) != 1) {
        snprintf(why, cap, "cannot load the party CA '%s' (give --party-ca or --ca)",
                 ca_file ? ca_file : "");
        X509_STORE_free(trust);
        return CTL_EXIT_VERIFY;
    }
    int seen[API_MAX_PARTIES] = {0}, rc = CTL_EXIT_OK;
    uint8_t th[32];
    for (size_t i = 0; i < k->natt && rc == CTL_EXIT_OK; i++)
        if (check_attestation(json_array_get(atts, i), k, trust, seen, th, i == 0, why, cap) != 0)
            rc = CTL_EXIT_VERIFY;
    X509_STORE_free(trust);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (ctl_uncompressed_hex(k->uncompressed, k->public_key) != 0 ||
        mpcd_eth_address(k->address, k->public_key) != 0) {
        snprintf(why, cap, "key %s: invalid public key", k->id);
        return CTL_EXIT_VERIFY;
    }
    const char *addr = ctl_jstr(key, "ethereum_address"),
               *unc = ctl_jstr(key, "public_key_uncompressed");
    if (strcmp(addr, k->address) != 0 || strcasecmp(unc, k->uncompressed) != 0) {
        snprintf(why, cap, "key %s: the hub's address or uncompressed key is not the public key's",
                 k->id);
        return CTL_EXIT_VERIFY;
    }
    return CTL_EXIT_OK;
}

/* 1 when the attestations come from exactly the key's parties (no lookup needed). */
static int attested_by_parties(const json_t *key)
{
    const json_t *atts = json_object_get(key, "attestations"), *parties, *a, *p;
    size_t i, j;
    parties = json_object_get(key, "parties");
    if (json_array_size(atts) != json_array_size(parties))
        return 0;
    json_array_foreach(atts, i, a)
    {
        int found = 0;
        json_array_foreach(parties, j, p)
        {
            found |= json_is_string(p) && strcmp(json_string_value(p), ctl_jstr(a, "party")) == 0;
        }
        if (!found)
            return 0;
    }
    return 1;
}

int ctl_key_check(ctl_ctx *c, const json_t *key, ctl_key *k, char *why, size_t cap)
{
    if (ctl_jint(key, "epoch") == 0 || attested_by_parties(key))
        return ctl_key_verify(key, c->party_ca, k, why, cap);
    /* reshared to another committee: the attestations are the first committee's, the
     * parties of the session that made the key (its first threshold_n) */
    const char *sid = ctl_jstr(key, "keygen_session");
    char url[64];
    ctl_resp r;
    if (strlen(sid) != 32 || strspn(sid, "0123456789abcdefABCDEF") != 32) {
        snprintf(why, cap, "key %s names no session that made it", ctl_jstr(key, "id"));
        return CTL_EXIT_VERIFY;
    }
    snprintf(url, sizeof url, "/v1/sessions/%s", sid);
    int rc = ctl_http(c, "GET", url, NULL, &r);
    if (rc != CTL_EXIT_OK) {
        snprintf(why, cap, "cannot read the session that made the key");
        return rc;
    }
    json_t *ids = json_array(), *sp = json_object_get(r.body, "parties");
    long long n = ctl_jint(r.body, "threshold_n");
    for (size_t i = 0; r.status == 200 && n > 0 && i < (size_t)n && i < json_array_size(sp); i++)
        json_array_append_new(ids, json_string(ctl_jstr(json_array_get(sp, i), "id")));
    if (r.status != 200 || strcasecmp(ctl_jstr(r.body, "key_id"), ctl_jstr(key, "id")) != 0 ||
        strcmp(ctl_jstr(r.body, "status"), "done") != 0 || n < 2 ||
        json_array_size(ids) != (size_t)n) {
        snprintf(why, cap, "key %s: the session that made it (%s) is not a done session of it",
                 ctl_jstr(key, "id"), sid);
        rc = CTL_EXIT_VERIFY;
    } else {
        rc = ctl_key_verify_by(key, ids, c->party_ca, k, why, cap);
    }
    json_decref(ids);
    ctl_resp_free(&r);
    return rc;
}

int ctl_key_fetch(ctl_ctx *c, const char *id, ctl_key *k, json_t **view)
{
    char path[128], why[256];
    ctl_resp r;
    *view = NULL;
    if (strlen(id) != 32 || strspn(id, "0123456789abcdefABCDEF") != 32)
        return ctl_fail(c, CTL_EXIT_USAGE, "'%s' is not a key id (32 hex characters)", id);
    snprintf(path, sizeof path, "/v1/keys/%s", id);
    int rc = ctl_http(c, "GET", path, NULL, &r);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (r.status != 200) {
        rc = ctl_hub_error(c, &r, "keys show");
        ctl_resp_free(&r);
        return rc;
    }
    *view = r.body;
    if (strcmp(ctl_jstr(r.body, "status"), "active") != 0)
        return CTL_EXIT_FAILED; /* not verifiable: the caller shows the status */
    rc = ctl_key_check(c, r.body, k, why, sizeof why);
    if (rc != CTL_EXIT_OK)
        ctl_fail(c, rc, "key %s: VERIFICATION FAILED: %s", id, why);
    return rc;
}

static void print_parties(ctl_ctx *c, const json_t *view)
{
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(view, "parties"), i, p)
    {
        fprintf(c->out, "%s%s", i ? ", " : "", json_string_value(p) ? json_string_value(p) : "?");
    }
}

void ctl_print_key(ctl_ctx *c, const json_t *view, const ctl_key *k, const char *path)
{
    char when[32];
    ctl_fmt_time(when, ctl_jint(view, "created"));
    fprintf(c->out, "key          %s\n", ctl_jstr(view, "id"));
    if (ctl_jstr(view, "label")[0])
        fprintf(c->out, "label        %s\n", ctl_jstr(view, "label"));
    fprintf(c->out, "threshold    %lld of %lld (parties: ", ctl_jint(view, "threshold"),
            ctl_jint(view, "n"));
    print_parties(c, view);
    fprintf(c->out, ")\n");
    if (ctl_jstr(view, "external_id")[0])
        fprintf(c->out, "external id  %s\n", ctl_jstr(view, "external_id"));
    if (ctl_jstr(view, "delegate")[0])
        fprintf(c->out, "delegate     %s (its share is held by the backend, not by the node)\n",
                ctl_jstr(view, "delegate"));
    json_t *defaults = json_object_get(view, "default_signers");
    if (json_array_size(defaults)) {
        size_t i;
        json_t *p;
        fprintf(c->out, "signers      ");
        json_array_foreach(defaults, i, p)
        {
            fprintf(c->out, "%s%s", i ? ", " : "",
                    json_string_value(p) ? json_string_value(p) : "?");
        }
        fprintf(c->out, " (default)\n");
    }
    if (json_is_integer(json_object_get(view, "epoch")))
        fprintf(c->out, "epoch        %lld\n", ctl_jint(view, "epoch"));
    if (json_is_true(json_object_get(view, "imported")))
        fprintf(c->out, "import       yes, from %s\n",
                ctl_jstr(view, "import_source")[0] ? ctl_jstr(view, "import_source") : "?");
    if (!k) {
        fprintf(c->out, "status       %s\n", ctl_jstr(view, "status"));
        fprintf(c->out, "created      %s\n", when);
        return;
    }
    fprintf(c->out,
            "status       active; %zu of %zu %s attestations verified against the party CA\n",
            k->natt, k->natt, k->imported ? "import (epoch 1)" : "keygen");
    if (k->natt != k->nparties || memcmp(k->attesters, k->parties, sizeof k->parties) != 0) {
        fprintf(c->out, "made by      ");
        for (size_t i = 0; i < k->natt; i++)
            fprintf(c->out, "%s%s", i ? ", " : "", k->attesters[i]);
        fprintf(c->out, " (the committee that attested; reshared since)\n");
    }
    char pk[67];
    api_hex_encode(pk, k->public_key, 33);
    fprintf(c->out, "public key   %s\n", pk);
    fprintf(c->out, "uncompressed %s\n", k->uncompressed);
    fprintf(c->out, "address      %s (Ethereum, EIP-55)\n", k->address);
    if (path) {
        uint8_t child[33];
        char chex[67], addr[43];
        if (ctl_derive(child, k, path) == 0 && mpcd_eth_address(addr, child) == 0) {
            api_hex_encode(chex, child, 33);
            fprintf(c->out, "path         %s\n  public key %s\n  address    %s\n", path, chex,
                    addr);
        }
    }
    fprintf(c->out, "created      %s\n", when);
}
