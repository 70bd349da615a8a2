/* tests/signerd/test_config.c — mpc-signerd.conf: every key parsed, defaults, unknown
 * sections and keys, keys set twice or for another backend, each bad value named by its
 * section and key, hub URL parsing, systemd credentials, the hsm_config it yields, and
 * signer_config_check against a CA, a CRL and certificates made with the openssl CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <syslog.h>

#include "config.h"
#include "hsm/hsm.h"

static char dir[256], conf[300], err[1024];

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static void make_cert(const char *ca, const char *name, const char *cn)
{
    sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key"
       " -out %s.csr -subj '/CN=%s' 2>/dev/null && openssl x509 -req -in %s.csr -CA %s.pem"
       " -CAkey %s.key -CAcreateserial -out %s.pem -days 2 2>/dev/null",
       dir, name, name, cn, name, ca, ca, name);
}

/* A soft-backend blob standing in for the sealed identity key. */
static void make_sealed_identity(void)
{
    char key_file[300], out[300];
    snprintf(key_file, sizeof key_file, "%s/soft.key", dir);
    snprintf(out, sizeof out, "%s/identity.sealed", dir);
    hsm_config hc;
    hsm_config_init(&hc, HSM_KIND_SOFT);
    hc.soft.key_file = key_file;
    hc.soft.allow_insecure = true;
    char binding[256];
    assert_int_equal(hsm_init(&hc, binding, sizeof binding), HSM_OK);
    hsm_backend *b = NULL;
    assert_int_equal(hsm_open(&hc, &b), HSM_OK);
    uint8_t secret[32] = {7}, *blob = NULL;
    size_t len = 0;
    assert_int_equal(hsm_seal(b, secret, sizeof secret, NULL, 0, &blob, &len), HSM_OK);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(blob, 1, len, f), len);
    fclose(f);
    free(blob);
    hsm_close(b);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-signer-conf-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(conf, sizeof conf, "%s/signer.conf", dir);
    static const char *const cas[] = {"ca", "rogueca"};
    for (int i = 0; i < 2; i++)
        sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
           " -keyout %s.key -out %s.pem -days 2 -subj '/CN=test %s' 2>/dev/null",
           dir, cas[i], cas[i], cas[i]);
    make_cert("ca", "p1", "p1");
    make_cert("ca", "p2", "p2");
    make_cert("rogueca", "rogue", "p1");
    /* p2 revoked in the CA's CRL */
    sh("cd %s && printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\ncrlnumber=crlnumber\\n"
       "default_md=sha256\\ndefault_crl_days=2\\n' > ca.cnf && touch index.txt && echo 01 >"
       " crlnumber && openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke p2.pem"
       " 2>/dev/null && openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl"
       " -out crl.pem 2>/dev/null",
       dir);
    sh("mkdir -p %s/creds && printf 123456 > %s/creds/pin && chmod 600 %s/creds/pin", dir, dir,
       dir);
    make_sealed_identity();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (getenv("MPC_KEEP_TEST_DIR"))
        fprintf(stderr, "kept %s\n", dir);
    else
        sh("rm -rf '%s'", dir);
    return 0;
}

/* ---- writing configs from key lists -------------------------------------------------- */

typedef struct {
    const char *section, *key, *value; /* a leading "@" stands for the test dir; NULL removes */
} kv;

static const kv base_soft[] = {
    {"signer", "party_id", "p1"},
    {"signer", "database", "@/signer.db"},
    {"hub", "url", "wss://127.0.0.1:8444/v1/party"},
    {"hub", "ca", "@/ca.pem"},
    {"hub", "cert", "@/p1.pem"},
    {"hub", "identity_key", "@/identity.sealed"},
    {"backend", "kind", "soft"},
    {"backend", "allow_insecure_soft_backend", "yes"},
    {"backend", "key_file", "@/soft.key"},
};
#define NBASE (sizeof base_soft / sizeof base_soft[0])

static void put_value(FILE *f, const char *key, const char *v)
{
    if (v[0] == '@')
        fprintf(f, "%s = %s%s\n", key, dir, v + 1);
    else
        fprintf(f, "%s = %s\n", key, v);
}

/* Writes the base config with the overrides (same section and key: replaced or removed;
 * others: added to their section, which may be a new one). */
static void write_kv(const kv *over, size_t nover)
{
    static const char *const sections[] = {"signer", "hub", "backend"};
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "# test config\n");
    for (size_t s = 0; s < 3; s++) {
        fprintf(f, "\n[%s]\n", sections[s]);
        for (size_t i = 0; i < NBASE; i++) {
            if (strcmp(base_soft[i].section, sections[s]))
                continue;
            const char *v = base_soft[i].value;
            for (size_t j = 0; j < nover; j++)
                if (!strcmp(over[j].section, base_soft[i].section) &&
                    !strcmp(over[j].key, base_soft[i].key))
                    v = over[j].value;
            if (v)
                put_value(f, base_soft[i].key, v);
        }
        for (size_t j = 0; j < nover; j++) {
            int in_base = 0;
            for (size_t i = 0; i < NBASE; i++)
                in_base |= !strcmp(over[j].section, base_soft[i].section) &&
                           !strcmp(over[j].key, base_soft[i].key);
            if (!in_base && !strcmp(over[j].section, sections[s]) && over[j].value)
                put_value(f, over[j].key, over[j].value);
        }
    }
    for (size_t j = 0; j < nover; j++)
        if (strcmp(over[j].section, "signer") && strcmp(over[j].section, "hub") &&
            strcmp(over[j].section, "backend"))
            fprintf(f, "\n[%s]\n%s = %s\n", over[j].section, over[j].key, over[j].value);
    fclose(f);
}

static int load_kv(signer_config *c, const kv *over, size_t nover)
{
    write_kv(over, nover);
    err[0] = 0;
    return signer_config_load(conf, c, err, sizeof err);
}

#define LOAD(c, ...)                                                                               \
    load_kv(c, (const kv[]){__VA_ARGS__}, sizeof((const kv[]){__VA_ARGS__}) / sizeof(kv))

static void expect_error(const kv *over, size_t nover, const char *needle)
{
    signer_config c;
    if (load_kv(&c, over, nover) == 0)
        fail_msg("config with [%s] %s = '%s' was accepted", over[0].section, over[0].key,
                 over[0].value ? over[0].value : "(removed)");
    if (!strstr(err, needle))
        fail_msg("error for [%s] %s = '%s' lacks '%s': %s", over[0].section, over[0].key,
                 over[0].value ? over[0].value : "(removed)", needle, err);
    assert_non_null(strstr(err, conf)); /* names the file */
    if (getenv("MPC_TEST_VERBOSE"))
        fprintf(stderr, "  %s\n", err);
}

#define EXPECT_ERROR(needle, ...)                                                                  \
    expect_error((const kv[]){__VA_ARGS__}, sizeof((const kv[]){__VA_ARGS__}) / sizeof(kv), needle)

static char path_buf[8][512];

static const char *at(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
    return path_buf[slot];
}

/* ---- parsing ------------------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    signer_config c;
    assert_int_equal(load_kv(&c, NULL, 0), 0);
    assert_string_equal(c.party_id, "p1");
    assert_string_equal(c.database, at(0, "signer.db"));
    assert_int_equal(c.log_level, LOG_INFO);
    assert_int_equal(c.session_timeout, 30);
    assert_int_equal(c.share_cache, SIGNER_SHARE_CACHE_UNSEAL);
    assert_int_equal(c.peer_fingerprint_count, 0);
    assert_int_equal(c.max_sessions, 64);
    assert_int_equal(c.role, SIGNER_ROLE_PERSISTENT);
    assert_string_equal(c.hub_host, "127.0.0.1");
    assert_int_equal(c.hub_port, 8444);
    assert_string_equal(c.hub_path, "/v1/party");
    assert_string_equal(c.hub_crl, "");
    assert_int_equal(c.reconnect_min_ms, 250);
    assert_int_equal(c.reconnect_max_ms, 30000);
    assert_int_equal(c.ping_interval, 15);
    assert_int_equal(c.backend, HSM_KIND_SOFT);
    assert_int_equal(c.allow_insecure_soft_backend, 1);
    assert_string_equal(c.tpm2.tcti, "device:/dev/tpmrm0");
    /* the database default applies when the key is absent */
    assert_int_equal(LOAD(&c, {"signer", "database", NULL}), 0);
    assert_string_equal(c.database, "/var/lib/mpc-signer/signer.db");
    assert_int_equal(LOAD(&c, {"backend", "allow_insecure_soft_backend", NULL}), 0);
    assert_int_equal(c.allow_insecure_soft_backend, 0);
}

static void test_every_key(void **state)
{
    (void)state;
    signer_config c;
    static const char fp1[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    static const char fp2[] = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                              "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
    char fps[300];
    snprintf(fps, sizeof fps, "%s, %s", fp1, fp2);
    assert_int_equal(LOAD(&c, {"signer", "log_level", "debug"}, {"signer", "session_timeout", "45"},
                          {"signer", "share_cache", "memory"}, {"signer", "peer_fingerprints", fps},
                          {"signer", "max_sessions", "10"}, {"signer", "role", "delegate"},
                          {"hub", "url", "wss://[::1]:9000/party/v2"}, {"hub", "crl", "@/crl.pem"},
                          {"hub", "reconnect_min_ms", "100"}, {"hub", "reconnect_max_ms", "5000"},
                          {"hub", "ping_interval", "0"}),
                     0);
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_int_equal(c.session_timeout, 45);
    assert_int_equal(c.share_cache, SIGNER_SHARE_CACHE_MEMORY);
    assert_int_equal(c.peer_fingerprint_count, 2);
    assert_int_equal(c.peer_fingerprints[0][0], 0x00);
    assert_int_equal(c.peer_fingerprints[0][31], 0xff);
    assert_int_equal(c.peer_fingerprints[1][0], 0xab);
    assert_int_equal(c.peer_fingerprints[1][31], 0x89);
    assert_int_equal(c.max_sessions, 10);
    assert_int_equal(c.role, SIGNER_ROLE_DELEGATE);
    assert_string_equal(c.hub_url, "wss://[::1]:9000/party/v2");
    assert_string_equal(c.hub_host, "::1");
    assert_int_equal(c.hub_port, 9000);
    assert_string_equal(c.hub_path, "/party/v2");
    assert_string_equal(c.hub_ca, at(0, "ca.pem"));
    assert_string_equal(c.hub_crl, at(0, "crl.pem"));
    assert_string_equal(c.hub_cert, at(0, "p1.pem"));
    assert_string_equal(c.identity_key, at(0, "identity.sealed"));
    assert_int_equal(c.reconnect_min_ms, 100);
    assert_int_equal(c.reconnect_max_ms, 5000);
    assert_int_equal(c.ping_interval, 0);
    assert_string_equal(c.soft.key_file, at(0, "soft.key"));

    hsm_config h;
    signer_config_to_hsm(&c, &h);
    assert_int_equal(h.kind, HSM_KIND_SOFT);
    assert_string_equal(h.soft.key_file, c.soft.key_file);
    assert_true(h.soft.allow_insecure);

    /* tpm2 */
    assert_int_equal(LOAD(&c, {"backend", "kind", "tpm2"}, {"backend", "key_file", NULL},
                          {"backend", "tcti", "swtpm:host=127.0.0.1,port=2321"},
                          {"backend", "primary_name", "000bAABBCC"},
                          {"backend", "persistent_handle", "0x81000001"},
                          {"backend", "auth_file", "/etc/credstore/tpm-auth"}),
                     0);
    assert_int_equal(c.backend, HSM_KIND_TPM2);
    assert_string_equal(c.tpm2.tcti, "swtpm:host=127.0.0.1,port=2321");
    assert_string_equal(c.tpm2.primary_name, "000bAABBCC");
    assert_int_equal(c.tpm2.persistent_handle, 0x81000001u);
    assert_string_equal(c.tpm2.auth_file, "/etc/credstore/tpm-auth");
    assert_string_equal(c.tpm2.auth_path, "/etc/credstore/tpm-auth");
    signer_config_to_hsm(&c, &h);
    assert_int_equal(h.kind, HSM_KIND_TPM2);
    assert_string_equal(h.tpm2.tcti, c.tpm2.tcti);
    assert_string_equal(h.tpm2.primary_name, c.tpm2.primary_name);
    assert_int_equal(h.tpm2.persistent_handle, 0x81000001u);
    assert_string_equal(h.tpm2.auth_file, "/etc/credstore/tpm-auth");
    assert_true(h.tpm2.noda);
    assert_int_equal(h.tpm2.pcr_mask, 0);

    /* pkcs11 */
    assert_int_equal(LOAD(&c, {"backend", "kind", "pkcs11"}, {"backend", "key_file", NULL},
                          {"backend", "module", "/usr/lib/softhsm/libsofthsm2.so"},
                          {"backend", "token_label", "node1"}, {"backend", "key_label", "seal"},
                          {"backend", "key_id", "01"},
                          {"backend", "uri", "pkcs11:token=node1;object=seal"},
                          {"backend", "pin_file", "/run/pin"}),
                     0);
    assert_int_equal(c.backend, HSM_KIND_PKCS11);
    assert_string_equal(c.pkcs11.module, "/usr/lib/softhsm/libsofthsm2.so");
    assert_string_equal(c.pkcs11.token_label, "node1");
    assert_string_equal(c.pkcs11.key_label, "seal");
    assert_string_equal(c.pkcs11.key_id, "01");
    assert_string_equal(c.pkcs11.uri, "pkcs11:token=node1;object=seal");
    assert_string_equal(c.pkcs11.pin_file, "/run/pin");
    signer_config_to_hsm(&c, &h);
    assert_int_equal(h.kind, HSM_KIND_PKCS11);
    assert_string_equal(h.pkcs11.module, c.pkcs11.module);
    assert_string_equal(h.pkcs11.token_label, "node1");
    assert_string_equal(h.pkcs11.key_label, "seal");
    assert_string_equal(h.pkcs11.key_id, "01");
    assert_string_equal(h.pkcs11.uri, c.pkcs11.uri);
    assert_string_equal(h.pkcs11.pin_file, "/run/pin");
}

/* The shipped example loads, and names every key the parser knows. */
static void test_example(void **state)
{
    (void)state;
    static const char *const all[] = {
        "party_id",
        "database",
        "log_level",
        "session_timeout",
        "share_cache",
        "peer_fingerprints",
        "max_sessions",
        "role",
        "url",
        "ca",
        "crl",
        "cert",
        "identity_key",
        "reconnect_min_ms",
        "reconnect_max_ms",
        "ping_interval",
        "kind",
        "allow_insecure_soft_backend",
        "tcti",
        "primary_name",
        "persistent_handle",
        "auth_file",
        "module",
        "token_label",
        "key_label",
        "key_id",
        "uri",
        "pin_file",
        "key_file",
        "file",
        "public_key",
    };
    signer_config c;
    if (signer_config_load(EXAMPLE_CONF, &c, err, sizeof err) != 0)
        fail_msg("the example does not load: %s", err);
    assert_int_equal(c.backend, HSM_KIND_TPM2);
    assert_string_equal(c.hub_crl, "");
    assert_int_equal(c.peer_fingerprint_count, 0);
    FILE *f = fopen(EXAMPLE_CONF, "r");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "\n%s =", all[i]);
        char commented[128];
        snprintf(commented, sizeof commented, "\n# %s =", all[i]);
        if (!strstr(text, line) && !strstr(text, commented))
            fail_msg("the example does not list %s", all[i]);
    }
}

static void test_unknown_and_twice(void **state)
{
    (void)state;
    EXPECT_ERROR("unknown key 'colour' in [signer]", {"signer", "colour", "red"});
    EXPECT_ERROR("unknown key 'party' in [hub]", {"hub", "party", "p1"});
    EXPECT_ERROR("unknown section [extra]", {"extra", "a", "b"});
    /* the line: comment, blank, [signer], party_id, database, then the unknown key */
    EXPECT_ERROR("signer.conf:6:", {"signer", "colour", "red"});
    /* a key set twice */
    char body[2048];
    snprintf(body, sizeof body,
             "[signer]\nparty_id = p1\nparty_id = p2\n[hub]\nurl = wss://h:1/\nca = %s/ca.pem\n"
             "cert = %s/p1.pem\nidentity_key = %s/identity.sealed\n[backend]\nkind = soft\n"
             "key_file = %s/soft.key\n",
             dir, dir, dir, dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs(body, f);
    fclose(f);
    signer_config c;
    assert_int_equal(signer_config_load(conf, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "[signer] party_id is set twice"));
    assert_non_null(strstr(err, ":3:"));
    /* not INI at all */
    f = fopen(conf, "w");
    fputs("[signer\nparty_id = p1\n", f);
    fclose(f);
    assert_int_equal(signer_config_load(conf, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1:"));
    /* no file */
    assert_int_equal(signer_config_load("/nonexistent/signer.conf", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/signer.conf"));
    assert_non_null(strstr(err, "cannot read"));
}

static void test_bad_values(void **state)
{
    (void)state;
    static const kv bad[] = {
        {"signer", "party_id", "bad id!"},
        {"signer", "database", "signer.db"},
        {"signer", "log_level", "loud"},
        {"signer", "session_timeout", "0"},
        {"signer", "session_timeout", "601"},
        {"signer", "session_timeout", "30s"},
        {"signer", "share_cache", "disk"},
        {"signer", "peer_fingerprints", "abcd"},
        {"signer", "peer_fingerprints",
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff,"
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"},
        {"signer", "max_sessions", "0"},
        {"signer", "max_sessions", "-3"},
        {"signer", "role", "user"},
        {"signer", "role", "Delegate"},
        {"hub", "ca", "ca.pem"},
        {"hub", "crl", "relative/crl.pem"},
        {"hub", "cert", "p1.pem"},
        {"hub", "identity_key", "id"},
        {"hub", "reconnect_min_ms", "5"},
        {"hub", "reconnect_max_ms", "x"},
        {"hub", "ping_interval", "-1"},
        {"hub", "ping_interval", "3601"},
        {"backend", "kind", "yubikey"},
        {"backend", "allow_insecure_soft_backend", "maybe"},
        {"backend", "key_file", "soft.key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char needle[128];
        snprintf(needle, sizeof needle, "[%s] %s", bad[i].section, bad[i].key);
        expect_error(&bad[i], 1, needle);
    }
    /* tpm2 and pkcs11 values */
    EXPECT_ERROR("[backend] persistent_handle", {"backend", "persistent_handle", "0x80000001"},
                 {"backend", "kind", "tpm2"}, {"backend", "key_file", NULL},
                 {"backend", "primary_name", "00"});
    EXPECT_ERROR("[backend] persistent_handle", {"backend", "persistent_handle", "handle"},
                 {"backend", "kind", "tpm2"}, {"backend", "key_file", NULL},
                 {"backend", "primary_name", "00"});
    EXPECT_ERROR("[backend] primary_name", {"backend", "primary_name", "xyz"},
                 {"backend", "kind", "tpm2"}, {"backend", "key_file", NULL});
    EXPECT_ERROR("[backend] auth_file", {"backend", "auth_file", ".."}, {"backend", "kind", "tpm2"},
                 {"backend", "key_file", NULL}, {"backend", "primary_name", "00"});
    EXPECT_ERROR("[backend] key_id", {"backend", "key_id", "zz"}, {"backend", "kind", "pkcs11"},
                 {"backend", "key_file", NULL});
    EXPECT_ERROR("[backend] uri", {"backend", "uri", "file:/x"}, {"backend", "kind", "pkcs11"},
                 {"backend", "key_file", NULL});
    EXPECT_ERROR("[backend] module", {"backend", "module", "libsofthsm2.so"},
                 {"backend", "kind", "pkcs11"}, {"backend", "key_file", NULL});
}

static void test_relations_and_required(void **state)
{
    (void)state;
    EXPECT_ERROR("[signer] party_id is required", {"signer", "party_id", NULL});
    EXPECT_ERROR("[hub] ca is required", {"hub", "ca", ""}); /* empty = unset */
    EXPECT_ERROR("[hub] url is required", {"hub", "url", NULL});
    EXPECT_ERROR("[hub] ca is required", {"hub", "ca", NULL});
    EXPECT_ERROR("[hub] cert is required", {"hub", "cert", NULL});
    EXPECT_ERROR("[hub] identity_key is required", {"hub", "identity_key", NULL});
    EXPECT_ERROR("[backend] kind is required", {"backend", "kind", NULL});
    EXPECT_ERROR("[backend] key_file is required", {"backend", "key_file", NULL});
    EXPECT_ERROR("reconnect_min_ms (6000) is above reconnect_max_ms (5000)",
                 {"hub", "reconnect_min_ms", "6000"}, {"hub", "reconnect_max_ms", "5000"});
    /* keys of another backend */
    EXPECT_ERROR("[backend] tcti belongs to kind = tpm2, but kind = soft",
                 {"backend", "tcti", "device:/dev/tpmrm0"});
    EXPECT_ERROR("[backend] key_file belongs to kind = soft, but kind = tpm2",
                 {"backend", "kind", "tpm2"}, {"backend", "primary_name", "00"});
    EXPECT_ERROR("[backend] primary_name is required", {"backend", "kind", "tpm2"},
                 {"backend", "key_file", NULL});
    EXPECT_ERROR("[backend] module is required", {"backend", "kind", "pkcs11"},
                 {"backend", "key_file", NULL});
    EXPECT_ERROR("[backend] token_label (or uri) is required", {"backend", "kind", "pkcs11"},
                 {"backend", "key_file", NULL}, {"backend", "module", "/m.so"});
    EXPECT_ERROR("[backend] key_label, key_id or uri is required", {"backend", "kind", "pkcs11"},
                 {"backend", "key_file", NULL}, {"backend", "module", "/m.so"},
                 {"backend", "token_label", "t"});
    EXPECT_ERROR("[backend] pin_file is required", {"backend", "kind", "pkcs11"},
                 {"backend", "key_file", NULL}, {"backend", "module", "/m.so"},
                 {"backend", "token_label", "t"}, {"backend", "key_label", "k"});
}

static void test_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host;
        unsigned port;
        const char *path;
    } good[] = {
        {"wss://hub.example:8444/v1/party", "hub.example", 8444, "/v1/party"},
        {"wss://hub.example/v1/party", "hub.example", 443, "/v1/party"},
        {"wss://hub.example:8444", "hub.example", 8444, "/"},
        {"WSS://10.0.0.1:1/", "10.0.0.1", 1, "/"},
        {"wss://[2001:db8::1]:65535/p", "2001:db8::1", 65535, "/p"},
        {"wss://[::1]/p", "::1", 443, "/p"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        signer_config c;
        if (LOAD(&c, {"hub", "url", good[i].url}) != 0)
            fail_msg("%s refused: %s", good[i].url, err);
        assert_string_equal(c.hub_host, good[i].host);
        assert_int_equal(c.hub_port, good[i].port);
        assert_string_equal(c.hub_path, good[i].path);
        assert_string_equal(c.hub_url, good[i].url);
    }
    static const char *const bad[] = {
        "ws://hub:8444/v1/party",
        "https://hub:8444/v1/party",
        "wss://",
        "wss:///p",
        "wss://hub:0/p",
        "wss://hub:65536/p",
        "wss://hub:/p",
        "wss://hub:84x/p",
        "wss://user@hub/p",
        "wss://hub/p?x=1",
        "wss://hub/p#f",
        "wss://hu b/p",
        "wss://[::1/p",
        "wss://[::1]x/p",
        "wss://h_b/p",
        "hub:8444",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(&(kv){"hub", "url", bad[i]}, 1, "[hub] url");
    EXPECT_ERROR("only wss://", {"hub", "url", "ws://hub:8444/v1/party"});
}

static void test_credentials(void **state)
{
    (void)state;
    signer_config c;
    char creds[300];
    snprintf(creds, sizeof creds, "%s/creds", dir);
    setenv("CREDENTIALS_DIRECTORY", creds, 1);
    assert_int_equal(LOAD(&c, {"backend", "kind", "pkcs11"}, {"backend", "key_file", NULL},
                          {"backend", "module", "@/ca.pem"}, {"backend", "token_label", "t"},
                          {"backend", "key_label", "k"}, {"backend", "pin_file", "pin"}),
                     0);
    assert_string_equal(c.pkcs11.pin_file, "pin");
    assert_string_equal(c.pkcs11.pin_path, at(0, "creds/pin"));
    hsm_config h;
    signer_config_to_hsm(&c, &h);
    assert_string_equal(h.pkcs11.pin_file, at(0, "creds/pin"));
    /* an absolute path is taken as it is */
    assert_int_equal(LOAD(&c, {"backend", "kind", "tpm2"}, {"backend", "key_file", NULL},
                          {"backend", "primary_name", "00"}, {"backend", "auth_file", "auth"}),
                     0);
    assert_string_equal(c.tpm2.auth_path, at(0, "creds/auth"));
    assert_int_equal(LOAD(&c, {"backend", "kind", "tpm2"}, {"backend", "key_file", NULL},
                          {"backend", "primary_name", "00"},
                          {"backend", "auth_file", "@/creds/pin"}),
                     0);
    assert_string_equal(c.tpm2.auth_path, at(0, "creds/pin"));
    /* without CREDENTIALS_DIRECTORY a bare name loads but does not pass the check */
    unsetenv("CREDENTIALS_DIRECTORY");
    assert_int_equal(LOAD(&c, {"backend", "kind", "pkcs11"}, {"backend", "key_file", NULL},
                          {"backend", "module", "@/ca.pem"}, {"backend", "token_label", "t"},
                          {"backend", "key_label", "k"}, {"backend", "pin_file", "pin"}),
                     0);
    assert_string_equal(c.pkcs11.pin_path, "pin");
    assert_int_equal(signer_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "[backend] pin_file = 'pin'"));
    assert_non_null(strstr(err, "CREDENTIALS_DIRECTORY"));
    /* with it, the check reads the credential (and then refuses the soft-sealed identity
     * key for a pkcs11 node) */
    setenv("CREDENTIALS_DIRECTORY", creds, 1);
    assert_int_equal(LOAD(&c, {"backend", "kind", "pkcs11"}, {"backend", "key_file", NULL},
                          {"backend", "module", "@/ca.pem"}, {"backend", "token_label", "t"},
                          {"backend", "key_label", "k"}, {"backend", "pin_file", "pin"}),
                     0);
    assert_int_equal(signer_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "[hub] identity_key"));
    assert_non_null(strstr(err, "sealed by backend soft"));
    unsetenv("CREDENTIALS_DIRECTORY");
}

/* ---- check --------------------------------------------------------------------------- */

static void check_fails(const char *needle, const kv *over, size_t nover)
{
    signer_config c;
    if (load_kv(&c, over, nover) != 0)
        fail_msg("load failed: %s", err);
    if (signer_config_check(&c, err, sizeof err) == 0)
        fail_msg("check passed, expected '%s'", needle);
    if (!strstr(err, needle))
        fail_msg("check error lacks '%s': %s", needle, err);
    if (getenv("MPC_TEST_VERBOSE"))
        fprintf(stderr, "  %s\n", err);
}

#define EXPECT_CHECK(needle, ...)                                                                  \
    check_fails(needle, (const kv[]){__VA_ARGS__}, sizeof((const kv[]){__VA_ARGS__}) / sizeof(kv))

static void test_check(void **state)
{
    (void)state;
    signer_config c;
    assert_int_equal(load_kv(&c, NULL, 0), 0);
    if (signer_config_check(&c, err, sizeof err) != 0)
        fail_msg("valid config refused: %s", err);
    /* with the CRL: p1 is not revoked */
    assert_int_equal(LOAD(&c, {"hub", "crl", "@/crl.pem"}), 0);
    if (signer_config_check(&c, err, sizeof err) != 0)
        fail_msg("valid config with CRL refused: %s", err);
    /* p2 is revoked: fine without the CRL, refused with it */
    assert_int_equal(LOAD(&c, {"signer", "party_id", "p2"}, {"hub", "cert", "@/p2.pem"}), 0);
    assert_int_equal(signer_config_check(&c, err, sizeof err), 0);
    EXPECT_CHECK("revoked", {"signer", "party_id", "p2"}, {"hub", "cert", "@/p2.pem"},
                 {"hub", "crl", "@/crl.pem"});
    /* CN mismatch, rogue CA, a CRL file that is not a CRL */
    EXPECT_CHECK("is for CN 'p1' but [signer] party_id = p2", {"signer", "party_id", "p2"});
    EXPECT_CHECK("[hub] cert", {"hub", "cert", "@/rogue.pem"});
    EXPECT_CHECK("[hub] crl", {"hub", "crl", "@/ca.pem"});
    EXPECT_CHECK("[hub] ca", {"hub", "ca", "@/p1.key"});
    EXPECT_CHECK("[hub] cert", {"hub", "cert", "@/p1.key"});
    /* soft without the allow flag */
    EXPECT_CHECK("allow_insecure_soft_backend = yes",
                 {"backend", "allow_insecure_soft_backend", "no"});
    EXPECT_CHECK("allow_insecure_soft_backend = yes",
                 {"backend", "allow_insecure_soft_backend", NULL});
    /* unreadable or missing files name their key */
    EXPECT_CHECK("[hub] ca = '", {"hub", "ca", "@/missing.pem"});
    EXPECT_CHECK("[hub] crl = '", {"hub", "crl", "@/missing.pem"});
    EXPECT_CHECK("[hub] cert = '", {"hub", "cert", "@/missing.pem"});
    EXPECT_CHECK("[hub] identity_key = '", {"hub", "identity_key", "@/missing"});
    EXPECT_CHECK("[backend] key_file = '", {"backend", "key_file", "@/missing"});
    EXPECT_CHECK("[signer] database", {"signer", "database", "@/no/such/dir/signer.db"});
    /* the identity key: a plaintext key is refused, so is another backend's blob */
    EXPECT_CHECK("is not a sealed blob", {"hub", "identity_key", "@/p1.key"});
    EXPECT_CHECK("sealed by backend soft, but [backend] kind = tpm2", {"backend", "kind", "tpm2"},
                 {"backend", "key_file", NULL}, {"backend", "primary_name", "00"});
    EXPECT_CHECK("[backend] auth_file = '", {"backend", "kind", "tpm2"},
                 {"backend", "key_file", NULL}, {"backend", "primary_name", "00"},
                 {"backend", "auth_file", "@/missing"});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_example),    cmocka_unit_test(test_unknown_and_twice),
        cmocka_unit_test(test_bad_values), cmocka_unit_test(test_relations_and_required),
        cmocka_unit_test(test_urls),       cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
