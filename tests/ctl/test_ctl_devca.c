/* tests/ctl/test_ctl_devca.c — mpcctl dev ca / dev issue: a P-256 CA with a private key
 * file, a hub certificate with serverAuth and the SANs asked for, node certificates with
 * clientAuth from CSRs whose CN must be the party id; each checked with OpenSSL's own
 * verifier for the purpose it is meant for, and not for the other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "run.h"

static char dir[64], ca_dir[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ctl-devca-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

/* 1 if cert verifies against the test CA for purpose. */
static int verifies(X509 *cert, int purpose)
{
    char path[200];
    snprintf(path, sizeof path, "%s/ca.pem", ca_dir);
    X509_STORE *s = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = X509_STORE_load_file(s, path) == 1 && X509_STORE_CTX_init(ctx, s, cert, NULL) == 1 &&
             X509_STORE_CTX_set_purpose(ctx, purpose) == 1 && X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(s);
    return ok;
}

static void write_csr(const char *path, const char *cn, const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    assert_non_null(k);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_subject_name(req, name);
    X509_REQ_set_pubkey(req, k);
    assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509_REQ(f, req);
    fclose(f);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
}

static void test_ca(void **state)
{
    (void)state;
    char why[512], path[200];
    struct stat st;
    assert_int_equal(ctl_devca_create(ca_dir, 30, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/ca.key", ca_dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/ca.pem", ca_dir);
    X509 *ca = load_cert(path);
    assert_int_equal(X509_check_ca(ca), 1);
    EVP_PKEY *pk = X509_get0_pubkey(ca);
    assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_bits(pk), 256);
    X509_free(ca);
    /* A second CA in the same place is refused (it would orphan every certificate). */
    assert_int_equal(ctl_devca_create(ca_dir, 30, why, sizeof why), -1);
    assert_non_null(strstr(why, "refusing"));
}

static void test_server_cert(void **state)
{
    (void)state;
    char why[512], cert[200], key[200];
    struct stat st;
    snprintf(cert, sizeof cert, "%s/hub.pem", dir);
    snprintf(key, sizeof key, "%s/hub.key", dir);
    assert_int_equal(ctl_devca_issue_server(ca_dir, "hub", "127.0.0.1,hub.example,::1", cert, key,
                                            30, why, sizeof why),
                     0);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    X509 *x = load_cert(cert);
    assert_true(verifies(x, X509_PURPOSE_SSL_SERVER));
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
    assert_int_equal(X509_check_host(x, "hub.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.2", 0), 0);
    assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
    assert_false(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
    assert_false(verifies(x, X509_PURPOSE_SSL_CLIENT)); /* not a party certificate */
    assert_int_equal(X509_check_ca(x), 0);
    X509_free(x);
    /* The key is never replaced; bad names are refused. */
    assert_int_equal(
        ctl_devca_issue_server(ca_dir, "hub", "127.0.0.1", cert, key, 30, why, sizeof why), -1);
    snprintf(key, sizeof key, "%s/hub2.key", dir);
    assert_int_equal(
        ctl_devca_issue_server(ca_dir, "hub", "bad name", cert, key, 30, why, sizeof why), -1);
    assert_int_equal(ctl_devca_issue_server(ca_dir, "hub", "", cert, key, 30, why, sizeof why), -1);
    assert_int_equal(
        ctl_devca_issue_server(dir, "hub", "127.0.0.1", cert, key, 30, why, sizeof why), -1);
    assert_non_null(strstr(why, "no development CA"));
}

static void test_node_cert(void **state)
{
    (void)state;
    char why[512], csr[200], cert[200];
    snprintf(csr, sizeof csr, "%s/n1.csr", dir);
    snprintf(cert, sizeof cert, "%s/n1.pem", dir);
    write_csr(csr, "n1", "P-256");
    assert_int_equal(ctl_devca_issue_node(ca_dir, "n1", csr, cert, 30, why, sizeof why), 0);
    X509 *x = load_cert(cert);
    assert_true(verifies(x, X509_PURPOSE_SSL_CLIENT));
    assert_false(verifies(x, X509_PURPOSE_SSL_SERVER));
    assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
    char cn[64];
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) >
                0);
    assert_string_equal(cn, "n1");
    X509_free(x);
    /* The CSR's CN must be the party id; the key must be P-256; garbage is refused. */
    assert_int_equal(ctl_devca_issue_node(ca_dir, "n2", csr, cert, 30, why, sizeof why), -1);
    assert_non_null(strstr(why, "not the party id"));
    write_csr(csr, "n3", "P-384");
    assert_int_equal(ctl_devca_issue_node(ca_dir, "n3", csr, cert, 30, why, sizeof why), -1);
    assert_non_null(strstr(why, "P-256"));
    FILE *f = fopen(csr, "w");
    fputs("not a csr\n", f);
    fclose(f);
    assert_int_equal(ctl_devca_issue_node(ca_dir, "n3", csr, cert, 30, why, sizeof why), -1);
}

static void test_through_the_command_line(void **state)
{
    (void)state;
    char ca2[200], csr[200], out[200];
    ctl_run r;
    snprintf(ca2, sizeof ca2, "%s/ca2", dir);
    snprintf(csr, sizeof csr, "%s/n4.csr", dir);
    snprintf(out, sizeof out, "%s/n4.pem", dir);
    ctl_run_args(&r, "dev", "ca", ca2, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "NOT for production"));
    ctl_run_free(&r);
    ctl_run_args(&r, "--json", "dev", "issue", "--ca", ca2, "--name", "hub", "--server",
                 "127.0.0.1", NULL);
    assert_int_equal(r.rc, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "development")));
    assert_non_null(strstr(ctl_jstr(j, "key"), "/ca2/hub.key"));
    json_decref(j);
    ctl_run_free(&r);
    write_csr(csr, "n4", "P-256");
    ctl_run_args(&r, "dev", "issue", "--ca", ca2, "--name", "n4", "--csr", csr, "--out", out, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(access(out, R_OK), 0);
    ctl_run_free(&r);
    ctl_run_args(&r, "dev", "issue", "--ca", ca2, "--name", "n5", "--csr", csr, NULL);
    assert_int_equal(r.rc, 5); /* CN n4 is not n5 */
    ctl_run_free(&r);
    ctl_run_args(&r, "dev", "issue", "--ca", ca2, "--name", "n4", NULL);
    assert_int_equal(r.rc, 2);
    ctl_run_free(&r);
    ctl_run_args(&r, "dev", "issue", "--ca", ca2, "--name", "n4", "--csr", csr, "--server", "x",
                 NULL);
    assert_int_equal(r.rc, 2);
    ctl_run_free(&r);
    ctl_run_args(&r, "dev", "ca", ca2, NULL); /* exists */
    assert_int_equal(r.rc, 5);
    ctl_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca),
        cmocka_unit_test(test_server_cert),
        cmocka_unit_test(test_node_cert),
        cmocka_unit_test(test_through_the_command_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
