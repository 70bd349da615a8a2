/* tests/ctl/test_ctl_verify.c — what mpcctl checks before it trusts a key: the keygen
 * attestations against party certificates from a CA (each way a hub could lie fails with
 * its own reason), the address (Keccak-256 + EIP-55 against known vectors), the
 * uncompressed form, the PEM for openssl, BIP32 children; and the readable output. An
 * imported key's attestations are of epoch 1 (the reshare message), and only those pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "api/hex.h"
#include "api/reshare.h"
#include "daemon/common/eth.h"
#include "run.h"
#include "tss/point.h"

static const char G_HEX[] = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
static const char G2_HEX[] = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";

static char dir[64], ca_dir[128], other_ca_dir[128], ca_pem[200], other_ca_pem[200];
static EVP_PKEY *party_key[3];
static char *party_pem[3], *server_pem;
static EVP_PKEY *server_key;
static const char *const PARTY[3] = {"n1", "n2", "n3"};

static void pk_from_hex(uint8_t pk[33], const char *hex)
{
    assert_int_equal(api_hex_decode(pk, 33, hex, 66), API_OK);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 8192);
    size_t n = fread(buf, 1, 8191, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* A party: P-256 key, CSR, certificate from the test CA. */
static void make_party(int i)
{
    char csr[200], cert[200], why[512];
    party_key[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)PARTY[i], -1, -1,
                               0);
    X509_REQ_set_subject_name(req, name);
    X509_REQ_set_pubkey(req, party_key[i]);
    X509_REQ_sign(req, party_key[i], EVP_sha256());
    snprintf(csr, sizeof csr, "%s/%s.csr", dir, PARTY[i]);
    snprintf(cert, sizeof cert, "%s/%s.pem", dir, PARTY[i]);
    FILE *f = fopen(csr, "w");
    PEM_write_X509_REQ(f, req);
    fclose(f);
    X509_NAME_free(name);
    X509_REQ_free(req);
    assert_int_equal(ctl_devca_issue_node(ca_dir, PARTY[i], csr, cert, 5, why, sizeof why), 0);
    party_pem[i] = read_all(cert);
}

static int setup(void **state)
{
    (void)state;
    char why[512], cert[200], key[200];
    snprintf(dir, sizeof dir, "/tmp/ctl-verify-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", dir);
    snprintf(other_ca_dir, sizeof other_ca_dir, "%s/other", dir);
    snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", ca_dir);
    snprintf(other_ca_pem, sizeof other_ca_pem, "%s/ca.pem", other_ca_dir);
    assert_int_equal(ctl_devca_create(ca_dir, 5, why, sizeof why), 0);
    assert_int_equal(ctl_devca_create(other_ca_dir, 5, why, sizeof why), 0);
    for (int i = 0; i < 3; i++)
        make_party(i);
    /* A server certificate with CN n1: from the right CA, but not for a TLS client. */
    snprintf(cert, sizeof cert, "%s/srv.pem", dir);
    snprintf(key, sizeof key, "%s/srv.key", dir);
    assert_int_equal(
        ctl_devca_issue_server(ca_dir, "n1", "127.0.0.1", cert, key, 5, why, sizeof why), 0);
    server_pem = read_all(cert);
    FILE *f = fopen(key, "r");
    server_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        EVP_PKEY_free(party_key[i]);
        free(party_pem[i]);
    }
    EVP_PKEY_free(server_key);
    free(server_pem);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The attestation a party makes: of a keygen (epoch 0: the v1 message) or of its share of
 * an epoch (the v2 reshare message; an import's parties attest epoch 1). */
static char *attest_epoch(EVP_PKEY *k, const uint8_t id[16], const uint8_t pk[33],
                          const uint8_t cc[32], const uint8_t th[32], uint32_t epoch)
{
    api_keygen_result r;
    uint8_t m[API_RESHARE_ATTEST_MSG_BYTES], sig[160];
    size_t len = sizeof sig, mlen = epoch ? API_RESHARE_ATTEST_MSG_BYTES : API_ATTEST_MSG_BYTES;
    memset(&r, 0, sizeof r);
    memcpy(r.public_key, pk, 33);
    memcpy(r.chain_code, cc, 32);
    memcpy(r.transcript_hash, th, 32);
    if (epoch)
        api_reshare_attestation_message(m, id, epoch, &r);
    else
        api_attestation_message(m, id, &r);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &len, m, mlen), 1);
    EVP_MD_CTX_free(md);
    char *hex = malloc(2 * len + 1);
    api_hex_encode(hex, sig, len);
    return hex;
}

/* A key view as the hub returns it, with valid attestations by the three parties: of the
 * keygen (epoch 0), or of the given epoch (v2 message). */
static json_t *make_view_epoch(uint32_t epoch)
{
    uint8_t id[16], pk[33], cc[32], th[32];
    char idh[33], pkh[67], cch[65], thh[65], unc[131], addr[43];
    RAND_bytes(id, 16);
    RAND_bytes(cc, 32);
    RAND_bytes(th, 32);
    pk_from_hex(pk, G2_HEX);
    api_hex_encode(idh, id, 16);
    api_hex_encode(pkh, pk, 33);
    api_hex_encode(cch, cc, 32);
    api_hex_encode(thh, th, 32);
    assert_int_equal(ctl_uncompressed_hex(unc, pk), 0);
    assert_int_equal(mpcd_eth_address(addr, pk), 0);
    json_t *atts = json_array();
    for (int i = 0; i < 3; i++) {
        char *sig = attest_epoch(party_key[i], id, pk, cc, th, epoch);
        json_array_append_new(atts,
                              json_pack("{s:s,s:s,s:s,s:s}", "party", PARTY[i], "transcript_hash",
                                        thh, "signature", sig, "certificate", party_pem[i]));
        free(sig);
    }
    return json_pack("{s:s,s:s,s:i,s:i,s:[s,s,s],s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:o}", "id", idh,
                     "label", "test", "threshold", 2, "n", 3, "parties", "n1", "n2", "n3", "status",
                     "active", "public_key", pkh, "public_key_uncompressed", unc,
                     "ethereum_address", addr, "chain_code", cch, "keygen_session", idh, "created",
                     (json_int_t)1764471600, "attestations", atts);
}

static json_t *make_view(void)
{
    return make_view_epoch(0);
}

static json_t *att(json_t *view, size_t i)
{
    return json_array_get(json_object_get(view, "attestations"), i);
}

/* Expects verification of view against ca to fail with needle in the reason. */
static void expect_refused(json_t *view, const char *ca, const char *needle)
{
    ctl_key k;
    char why[256] = "";
    int rc = ctl_key_verify(view, ca, &k, why, sizeof why);
    if (rc != CTL_EXIT_VERIFY || !strstr(why, needle))
        fprintf(stderr, "expected '%s', got rc %d: %s\n", needle, rc, why);
    assert_int_equal(rc, CTL_EXIT_VERIFY);
    assert_non_null(strstr(why, needle));
    json_decref(view);
}

static void test_address_vectors(void **state)
{
    (void)state;
    uint8_t pk[33];
    char addr[43], unc[131];
    pk_from_hex(pk, G_HEX); /* private key 1 */
    assert_int_equal(mpcd_eth_address(addr, pk), 0);
    assert_string_equal(addr, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    assert_int_equal(ctl_uncompressed_hex(unc, pk), 0);
    assert_string_equal(unc, "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                             "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
    pk_from_hex(pk, G2_HEX); /* private key 2 */
    assert_int_equal(mpcd_eth_address(addr, pk), 0);
    assert_string_equal(addr, "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF");
    pk[0] = 0x05;
    assert_int_equal(mpcd_eth_address(addr, pk), -1);
}

static void test_pem_and_derive(void **state)
{
    (void)state;
    ctl_key k;
    memset(&k, 0, sizeof k);
    pk_from_hex(k.public_key, G2_HEX);
    memset(k.chain_code, 7, 32);
    char *pem = ctl_pubkey_pem(k.public_key);
    assert_non_null(pem);
    assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *p = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(p);
    char group[32];
    size_t glen;
    assert_int_equal(EVP_PKEY_get_group_name(p, group, sizeof group, &glen), 1);
    assert_string_equal(group, "secp256k1");
    uint8_t enc[65];
    size_t elen = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(p, "encoded-pub-key", enc, sizeof enc, &elen),
                     1);
    uint8_t comp[33];
    if (elen == 65) { /* OpenSSL may re-encode it uncompressed */
        comp[0] = (uint8_t)(2 + (enc[64] & 1));
        memcpy(comp + 1, enc + 1, 32);
    } else {
        assert_int_equal(elen, 33);
        memcpy(comp, enc, 33);
    }
    assert_memory_equal(comp, k.public_key, 33);
    EVP_PKEY_free(p);
    free(pem);
    uint8_t root[33], child[33], child2[33];
    assert_int_equal(ctl_derive(root, &k, "m"), 0);
    assert_memory_equal(root, k.public_key, 33);
    assert_int_equal(ctl_derive(child, &k, "m/0/1"), 0);
    assert_memory_not_equal(child, k.public_key, 33);
    assert_int_equal(ctl_derive(child2, &k, "m/0/1"), 0);
    assert_memory_equal(child, child2, 33);
    assert_int_equal(ctl_derive(child, &k, "m/0'"), -1);
}

static void test_attestations_verify(void **state)
{
    (void)state;
    json_t *view = make_view();
    ctl_key k;
    char why[256] = "";
    int rc = ctl_key_verify(view, ca_pem, &k, why, sizeof why);
    if (rc)
        fprintf(stderr, "%s\n", why);
    assert_int_equal(rc, CTL_EXIT_OK);
    assert_int_equal(k.t, 2);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.parties[2], "n3");
    assert_string_equal(k.address, ctl_jstr(view, "ethereum_address"));
    /* Order of the attestations does not matter. */
    json_t *atts = json_object_get(view, "attestations");
    json_t *first = json_incref(json_array_get(atts, 0));
    json_array_remove(atts, 0);
    json_array_append_new(atts, first);
    assert_int_equal(ctl_key_verify(view, ca_pem, &k, why, sizeof why), CTL_EXIT_OK);
    json_decref(view);
}

static void test_attestations_refused(void **state)
{
    (void)state;
    json_t *v;
    /* A signature by another party. */
    v = make_view();
    json_object_set(att(v, 0), "signature", json_object_get(att(v, 1), "signature"));
    expect_refused(v, ca_pem, "does not verify for this key id");
    /* Another party's certificate in n1's place. */
    v = make_view();
    json_object_set_new(att(v, 0), "certificate", json_string(party_pem[1]));
    expect_refused(v, ca_pem, "CN is not the party id");
    /* No certificate (a key from an older hub). */
    v = make_view();
    json_object_set_new(att(v, 0), "certificate", json_null());
    expect_refused(v, ca_pem, "no certificate");
    /* Certificates from another CA. */
    v = make_view();
    expect_refused(v, other_ca_pem, "does not verify against the party CA");
    /* The hub's own kind of certificate (serverAuth) with the party's name. */
    v = make_view();
    json_object_set_new(att(v, 0), "certificate", json_string(server_pem));
    expect_refused(v, ca_pem, "clientAuth");
    /* A missing attestation; one party twice. */
    v = make_view();
    json_array_remove(json_object_get(v, "attestations"), 2);
    expect_refused(v, ca_pem, "2 attestations for 3 parties");
    v = make_view();
    json_object_set_new(att(v, 2), "party", json_string("n1"));
    expect_refused(v, ca_pem, "attests twice");
    v = make_view();
    json_object_set_new(att(v, 2), "party", json_string("mallory"));
    expect_refused(v, ca_pem, "not a party");
    /* Parties that disagree on the DKG transcript. */
    v = make_view();
    json_object_set_new(att(v, 2), "transcript_hash", json_string(G_HEX + 2));
    expect_refused(v, ca_pem, "different DKG transcript");
    /* The hub substitutes a public key, an address, an uncompressed key, a chain code. */
    v = make_view();
    json_object_set_new(v, "public_key", json_string(G_HEX));
    expect_refused(v, ca_pem, "does not verify");
    v = make_view();
    char addr[43];
    snprintf(addr, sizeof addr, "%s", ctl_jstr(v, "ethereum_address"));
    addr[41] = addr[41] == '0' ? '1' : '0';
    json_object_set_new(v, "ethereum_address", json_string(addr));
    expect_refused(v, ca_pem, "address");
    v = make_view();
    json_object_set_new(v, "public_key_uncompressed", json_string("04"));
    expect_refused(v, ca_pem, "uncompressed");
    v = make_view();
    json_object_set_new(v, "chain_code", json_string(G_HEX + 2));
    expect_refused(v, ca_pem, "does not verify");
    /* Not active; inconsistent counts; malformed signature; no CA. */
    v = make_view();
    json_object_set_new(v, "status", json_string("pending"));
    expect_refused(v, ca_pem, "not active");
    v = make_view();
    json_object_set_new(v, "n", json_integer(4));
    expect_refused(v, ca_pem, "disagree");
    v = make_view();
    json_object_set_new(att(v, 1), "signature", json_string("zz"));
    expect_refused(v, ca_pem, "malformed");
    v = make_view();
    expect_refused(v, "/nonexistent/ca.pem", "cannot load the party CA");
}

static char *capture(void (*fn)(ctl_ctx *, const json_t *), const json_t *o)
{
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    ctl_ctx c;
    ctl_ctx_init(&c, f, stderr);
    fn(&c, o);
    fclose(f);
    return buf;
}

static void print_key_verified(ctl_ctx *c, const json_t *view)
{
    ctl_key k;
    char why[256];
    assert_int_equal(ctl_key_verify(view, ca_pem, &k, why, sizeof why), CTL_EXIT_OK);
    ctl_print_key(c, view, &k, "m/0/1");
}

static void print_sig(ctl_ctx *c, const json_t *sig)
{
    ctl_print_signature(c, sig, NULL);
}

static void test_output(void **state)
{
    (void)state;
    json_t *v = make_view();
    char *s = capture(print_key_verified, v);
    assert_non_null(strstr(s, "threshold    2 of 3 (parties: n1, n2, n3)"));
    assert_non_null(strstr(s, "3 of 3 keygen attestations verified"));
    assert_non_null(strstr(s, "address      0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"));
    assert_non_null(strstr(s, "path         m/0/1"));
    assert_non_null(strstr(s, "created      2025-11-30 03:00:00 UTC"));
    free(s);
    json_decref(v);
    json_t *sig =
        json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s}", "key_id", "k", "session_id", "sid", "r", "aa",
                  "s", "bb", "recovery_id", 1, "der", "3006", "derivation_path", "m/0/1");
    s = capture(print_sig, sig);
    assert_non_null(strstr(s, "v            28 (recovery id 1"));
    assert_non_null(strstr(s, "path         m/0/1"));
    free(s);
    json_decref(sig);
    json_t *sess =
        json_loads("{\"id\":\"s1\",\"kind\":\"sign\",\"key_id\":\"k1\",\"status\":\"failed\","
                   "\"threshold_t\":2,\"threshold_n\":3,\"parties\":[{\"id\":\"n1\",\"index\":1},"
                   "{\"id\":\"n3\",\"index\":3}],\"created\":0,\"updated\":0,"
                   "\"error\":{\"code\":\"timeout\",\"message\":\"n3 did not answer\"},"
                   "\"events\":[{\"ts_ms\":1000,\"event\":\"created\",\"detail\":\"\"},"
                   "{\"ts_ms\":1012,\"event\":\"failed\",\"detail\":\"timeout\"}]}",
                   0, NULL);
    s = capture(ctl_print_session, sess);
    assert_non_null(strstr(s, "parties      n1 (index 1), n3 (index 3)"));
    assert_non_null(strstr(s, "error        timeout: n3 did not answer"));
    assert_non_null(strstr(s, "+12 ms  failed"));
    free(s);
    json_decref(sess);
    json_t *parties = json_loads("{\"parties\":[{\"id\":\"n1\",\"online\":true,\"backend\":"
                                 "\"tpm2\",\"version\":\"0.1.0\",\"last_seen\":0,"
                                 "\"certificate_sha256\":\"00112233445566778899\"}]}",
                                 0, NULL);
    s = capture(ctl_print_parties, parties);
    assert_non_null(strstr(s, "n1               yes     tpm2"));
    free(s);
    json_decref(parties);
    json_t *none = json_loads("{\"keys\":[]}", 0, NULL);
    s = capture(ctl_print_keys, none);
    assert_non_null(strstr(s, "(no keys)"));
    free(s);
    json_decref(none);
    json_t *keys = json_loads("{\"keys\":[{\"id\":\"abc\",\"status\":\"active\",\"threshold\":2,"
                              "\"n\":3,\"parties\":[\"n1\",\"n2\",\"n3\"],\"label\":\"demo\"}]}",
                              0, NULL);
    s = capture(ctl_print_keys, keys);
    assert_non_null(strstr(s, "2/3"));
    assert_non_null(strstr(s, "n1,n2,n3"));
    assert_null(strstr(s, "0x")); /* no unverified address in a list */
    free(s);
    json_decref(keys);
}

/* An imported key (no keygen): its parties' attestations are of epoch 1, with the reshare
 * (v2) message. They verify only as such: a keygen attestation does not pass for an
 * import's, nor the other way round, nor an attestation of another epoch. */
static void test_import_attestations(void **state)
{
    (void)state;
    ctl_key k;
    char why[256] = "";
    json_t *view = make_view_epoch(1);
    json_object_set_new(view, "imported", json_true());
    json_object_set_new(view, "import_source", json_string("tss-lib"));
    json_object_set_new(view, "epoch", json_integer(1));
    int rc = ctl_key_verify(view, ca_pem, &k, why, sizeof why);
    if (rc)
        fprintf(stderr, "%s\n", why);
    assert_int_equal(rc, CTL_EXIT_OK);
    assert_true(k.imported);
    /* the readable output says which attestations were verified, and the source */
    char *out = NULL;
    size_t len = 0;
    ctl_ctx c;
    FILE *f = open_memstream(&out, &len);
    ctl_ctx_init(&c, f, stderr);
    ctl_print_key(&c, view, &k, NULL);
    fclose(f);
    assert_non_null(strstr(out, "3 of 3 import (epoch 1) attestations verified"));
    assert_non_null(strstr(out, "import       yes, from tss-lib"));
    assert_non_null(strstr(out, "epoch        1"));
    free(out);
    /* the hub drops "imported": the v2 attestations do not pass as keygen ones */
    json_object_del(view, "imported");
    expect_refused(view, ca_pem, "its keygen attestation does not verify");
    /* a keygen key the hub calls imported */
    view = make_view();
    json_object_set_new(view, "imported", json_true());
    expect_refused(view, ca_pem, "its import (epoch 1) attestation does not verify");
    /* attestations of epoch 2 (a refresh's) are not the import's */
    view = make_view_epoch(2);
    json_object_set_new(view, "imported", json_true());
    expect_refused(view, ca_pem, "its import (epoch 1) attestation does not verify");
    /* from another CA */
    view = make_view_epoch(1);
    json_object_set_new(view, "imported", json_true());
    expect_refused(view, other_ca_pem, "does not verify against the party CA");
}

/* A key reshared to another committee (n3 left): its attestations are the keygen's, by
 * n1, n2 and n3; they verify against that committee and only against it. */
static void test_reshared_committee(void **state)
{
    (void)state;
    ctl_key k;
    char why[256] = "";
    json_t *view = make_view();
    json_object_set_new(view, "parties", json_pack("[s,s]", "n1", "n2"));
    json_object_set_new(view, "n", json_integer(2));
    json_object_set_new(view, "epoch", json_integer(4));
    /* against the key's own parties: 3 attestations for 2 */
    assert_int_equal(ctl_key_verify(view, ca_pem, &k, why, sizeof why), CTL_EXIT_VERIFY);
    assert_non_null(strstr(why, "3 attestations for 2 parties"));
    json_t *first = json_pack("[s,s,s]", "n1", "n2", "n3");
    int rc = ctl_key_verify_by(view, first, ca_pem, &k, why, sizeof why);
    if (rc)
        fprintf(stderr, "%s\n", why);
    assert_int_equal(rc, CTL_EXIT_OK);
    assert_int_equal(k.natt, 3);
    assert_int_equal(k.nparties, 2);
    assert_string_equal(k.parties[1], "n2");
    json_decref(first);
    /* the output names the committee that attested */
    char *out = NULL;
    size_t len = 0;
    ctl_ctx c;
    FILE *f = open_memstream(&out, &len);
    ctl_ctx_init(&c, f, stderr);
    ctl_print_key(&c, view, &k, NULL);
    fclose(f);
    assert_non_null(strstr(out, "threshold    2 of 2 (parties: n1, n2)"));
    assert_non_null(strstr(out, "3 of 3 keygen attestations verified"));
    assert_non_null(strstr(out, "made by      n1, n2, n3"));
    free(out);
    static const char *const wrong[] = {"[\"n1\",\"n2\"]",         "[\"n1\",\"n2\",\"n4\"]",
                                        "[\"n1\",\"n2\",\"n2\"]",  "[\"n1\"]",
                                        "[\"n1\",\"n2\",\"n 3\"]", "[\"n1\",\"n2\",3]"};
    static const char *const needle[] = {
        "3 attestations for 2 parties", "not a party",    "lists 'n2' twice",
        "a committee of 1 parties",     "not a valid id", "not a valid id"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        json_t *a = json_loads(wrong[i], 0, NULL);
        assert_non_null(a);
        why[0] = 0;
        rc = ctl_key_verify_by(view, a, ca_pem, &k, why, sizeof why);
        if (rc != CTL_EXIT_VERIFY || !strstr(why, needle[i]))
            fprintf(stderr, "committee %s: rc %d: %s\n", wrong[i], rc, why);
        assert_int_equal(rc, CTL_EXIT_VERIFY);
        assert_non_null(strstr(why, needle[i]));
        json_decref(a);
    }
    json_decref(view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_vectors),
        cmocka_unit_test(test_pem_and_derive),
        cmocka_unit_test(test_attestations_verify),
        cmocka_unit_test(test_attestations_refused),
        cmocka_unit_test(test_import_attestations),
        cmocka_unit_test(test_reshared_committee),
        cmocka_unit_test(test_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
