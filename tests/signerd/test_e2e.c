/* tests/signerd/test_e2e.c — the product end to end: a real mpc-hubd and three real
 * mpc-signerd processes — n1 sealing with tpm2 on a swtpm, n2 with pkcs11 on a SoftHSM2
 * token, n3 with the soft backend (the test build, which can misbehave on request) — with a
 * temporary CA, free loopback ports and a temp dir, all removed at the end. Each node's
 * identity key is created and sealed by mpc-signerd itself (init-identity) and certified
 * from its CSR. Then: a 2-of-3 key over the REST API, a signature from every pair and one
 * along a derivation path, each checked with libsecp256k1 and with the openssl command
 * line; and the faults: tampered / replayed / dropped frames, a certificate that differs
 * from the pinned one, a signer killed mid-session, restarts of a signer and of the hub,
 * the TPM gone and back, a full disk during keygen, and the selective-failure attack on
 * the OT setup driven through a real daemon (the honest peer bans after the first failed
 * check and never answers that peer again). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <secp256k1.h>
#include <sqlite3.h>

#include "../hsm/fixture.h"
#include "../hub/hub_client.h"
#include "api/hex.h"
#include "hsm/hsm.h"
#include "tss/bip32.h"
#include "tss/point.h"

#define NNODES 3
static const char *const NODE[NNODES] = {"n1", "n2", "n3"};
static const char *const BACKEND[NNODES] = {"tpm2", "pkcs11", "soft"};

static char dir[128], ca[200], hubconf[200], api_key[128], auth_hdr[200];
static int api_port, party_port;
static pid_t hub_pid = -1, node_pid[NNODES] = {-1, -1, -1};
static fx_swtpm tpm;
static fx_softhsm token;
static char tpm_primary[200];
static char key_id[33];
static uint8_t key_pk[33], key_cc[32];

/* ---- processes and files ---- */

/* Stops a process; returns its exit status (128 + signal if killed, -1 if it had to be
 * killed after 5 s). */
static int stop_pid(pid_t *pid, int sig)
{
    int st = 0;
    if (*pid <= 0)
        return 0;
    kill(*pid, sig);
    for (int i = 0; i < 200; i++) {
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(25000);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = -1;
    return -1;
}

static void cleanup(void)
{
    for (int i = 0; i < NNODES; i++)
        stop_pid(&node_pid[i], SIGKILL);
    stop_pid(&hub_pid, SIGKILL);
    fx_swtpm_stop(&tpm);
    fx_softhsm_stop(&token);
    if (dir[0] && !getenv("MPC_KEEP_TEST_DIR")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        dir[0] = 0;
    }
}

static void dump_logs(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "for f in %s/*.log; do echo \"== $f\"; tail -n 25 \"$f\"; done >&2",
             dir);
    if (system(cmd) != 0)
        fprintf(stderr, "(no logs)\n");
}

static void die(const char *what)
{
    fprintf(stderr, "fixture: %s failed\n", what);
    dump_logs();
    cleanup();
    exit(1);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || getsockname(fd, (void *)&sa, &len))
        die("bind");
    close(fd);
    return ntohs(sa.sin_port);
}

static int api(const char *method, const char *path, const char *body, json_t **out)
{
    char headers[400];
    snprintf(headers, sizeof headers, "%s%s", auth_hdr,
             body ? "Content-Type: application/json\r\n" : "");
    return hc_request(ca, api_port, method, path, headers, body, out, NULL);
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void write_hub_conf(void)
{
    FILE *f = fopen(hubconf, "w");
    if (!f)
        die("hub config");
    fprintf(f,
            "[hub]\ndatabase = %s/hub.db\nlog_level = info\n\n"
            "[api]\nlisten = 127.0.0.1\nport = %d\ncert = %s/server.pem\nkey = %s/server.key\n\n"
            "[party]\nlisten = 127.0.0.1\nport = %d\nca = %s\ncert = %s/server.pem\n"
            "key = %s/server.key\n\n[sessions]\ntimeout = 8\n",
            dir, api_port, dir, dir, party_port, ca, dir, dir);
    fclose(f);
}

static void start_hub(void)
{
    hub_pid = fork();
    if (hub_pid == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/hub.log", dir);
        if (!freopen(log, "a", stderr))
            _exit(126);
        execl(HUB_BIN, HUB_BIN, "--config", hubconf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (hc_request(ca, api_port, "GET", "/healthz", NULL, NULL, NULL, NULL) == 200)
            return;
        usleep(50000);
    }
    die("hub start");
}

static void node_conf_path(char *out, size_t cap, int i)
{
    snprintf(out, cap, "%s/%s.conf", dir, NODE[i]);
}

static void write_node_conf(int i, const char *extra_signer)
{
    char path[256];
    node_conf_path(path, sizeof path, i);
    FILE *f = fopen(path, "w");
    if (!f)
        die("node config");
    fprintf(f,
            "[signer]\nparty_id = %s\ndatabase = %s/%s.db\nlog_level = info\n"
            "session_timeout = 10\n%s\n"
            "[hub]\nurl = wss://127.0.0.1:%d/v1/party\nca = %s\ncert = %s/%s.pem\n"
            "identity_key = %s/%s.identity\nreconnect_min_ms = 100\nreconnect_max_ms = 1000\n\n"
            "[backend]\nkind = %s\n",
            NODE[i], dir, NODE[i], extra_signer ? extra_signer : "", party_port, ca, dir, NODE[i],
            dir, NODE[i], BACKEND[i]);
    if (i == 0)
        fprintf(f, "tcti = %s\nprimary_name = %s\n", tpm.tcti, tpm_primary);
    else if (i == 1)
        fprintf(f, "module = %s\ntoken_label = %s\nkey_label = seal-key\npin_file = %s\n",
                FX_SOFTHSM_MODULE, token.label, token.pin_file);
    else
        fprintf(f, "key_file = %s/n3.soft-key\nallow_insecure_soft_backend = yes\n", dir);
    fclose(f);
}

/* Starts node i; tamper selects the test build's misbehaviour (n3 only); fsize_limit > 0
 * caps the files it may write (a full disk). */
static void start_node(int i, const char *tamper, long fsize_limit)
{
    char conf[256];
    node_conf_path(conf, sizeof conf, i);
    node_pid[i] = fork();
    if (node_pid[i] == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/%s.log", dir, NODE[i]);
        if (!freopen(log, "a", stderr))
            _exit(126);
        if (tamper)
            setenv("MPC_SIGNERD_TEST_TAMPER", tamper, 1);
        if (fsize_limit > 0) {
            struct rlimit rl = {(rlim_t)fsize_limit, (rlim_t)fsize_limit};
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        const char *bin = i == 2 ? SIGNERD_TEST_BIN : SIGNERD_BIN;
        execl(bin, bin, "--config", conf, (char *)NULL);
        _exit(127);
    }
}

static int party_online(const char *id)
{
    json_t *o = NULL, *p;
    size_t k;
    int on = 0;
    api("GET", "/v1/parties", NULL, &o);
    json_array_foreach(json_object_get(o, "parties"), k, p)
    {
        if (strcmp(jstr(p, "id"), id) == 0)
            on = json_is_true(json_object_get(p, "online"));
    }
    json_decref(o);
    return on;
}

static void wait_online(int i, int online)
{
    for (int k = 0; k < 300; k++) {
        if (party_online(NODE[i]) == online)
            return;
        usleep(50000);
    }
    fprintf(stderr, "party %s did not go %s\n", NODE[i], online ? "online" : "offline");
    dump_logs();
    fail();
}

/* Node identity: mpc-signerd generates and seals the key and writes a CSR; the test CA
 * signs it for TLS client use. */
static void enrol(int i, const char *cert_name)
{
    char conf[256];
    node_conf_path(conf, sizeof conf, i);
    if (sh("%s --config %s init-identity --csr %s/%s.csr 2>>%s/enrol.log", SIGNERD_BIN, conf, dir,
           NODE[i], dir) != 0 ||
        sh("cd %s && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
           "-out %s.pem -days 2 -extfile client.ext 2>>enrol.log",
           dir, NODE[i], cert_name) != 0)
        die("enrol");
}

static void init_backends(void)
{
    char soft_key[256];
    hsm_config c;
    if (fx_swtpm_start(&tpm) != 0 || fx_softhsm_start(&token, "n2-token", "123456") != 0)
        die("swtpm / SoftHSM2");
    hsm_config_init(&c, HSM_KIND_TPM2);
    c.tpm2.tcti = tpm.tcti;
    if (hsm_init(&c, tpm_primary, sizeof tpm_primary) != HSM_OK)
        die("tpm2 init");
    snprintf(soft_key, sizeof soft_key, "%s/n3.soft-key", dir);
    char binding[200];
    hsm_config_init(&c, HSM_KIND_SOFT);
    c.soft.key_file = soft_key;
    c.soft.allow_insecure = true;
    if (hsm_init(&c, binding, sizeof binding) != HSM_OK)
        die("soft init");
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-signerd-test-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    atexit(cleanup);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(hubconf, sizeof hubconf, "%s/hub.conf", dir);
    if (sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
           " -keyout ca.key -out ca.pem -days 2 -subj '/CN=test ca' 2>/dev/null"
           " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > san.ext"
           " && printf 'extendedKeyUsage=clientAuth\\n' > client.ext"
           " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key"
           " -out server.csr -subj '/CN=localhost' 2>/dev/null"
           " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
           " -out server.pem -days 2 -extfile san.ext 2>/dev/null",
           dir) != 0)
        die("CA");
    init_backends();
    api_port = free_port();
    party_port = free_port();
    write_hub_conf();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s --config %s create-api-key tests 2>/dev/null", HUB_BIN, hubconf);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(api_key, sizeof api_key, p) || pclose(p) != 0)
        die("create-api-key");
    api_key[strcspn(api_key, "\n")] = 0;
    snprintf(auth_hdr, sizeof auth_hdr, "Authorization: Bearer %s\r\n", api_key);
    start_hub();
    for (int i = 0; i < NNODES; i++) {
        write_node_conf(i, NULL);
        enrol(i, NODE[i]);
        char conf[256];
        node_conf_path(conf, sizeof conf, i);
        if (sh("%s --config %s check-config 2>>%s/enrol.log", SIGNERD_BIN, conf, dir) != 0)
            die("check-config");
        start_node(i, NULL, 0);
    }
    for (int i = 0; i < NNODES; i++)
        wait_online(i, 1);
    return 0;
}

/* Every daemon stops cleanly on SIGTERM (exit 0; in the sanitizer build also no leak). */
static int teardown_failed;

static int group_teardown(void **state)
{
    (void)state;
    int bad = 0;
    for (int i = 0; i < NNODES; i++) {
        int st = stop_pid(&node_pid[i], SIGTERM);
        if (st != 0)
            fprintf(stderr, "%s exited with status %d on SIGTERM\n", NODE[i], st), bad = 1;
    }
    if (stop_pid(&hub_pid, SIGTERM) != 0)
        fprintf(stderr, "the hub did not exit cleanly on SIGTERM\n"), bad = 1;
    if (bad)
        dump_logs();
    cleanup();
    teardown_failed = bad;
    return bad;
}

/* ---- signatures ---- */

static const uint8_t HASH[32] = {0x4d, 0x70, 0x63, 0x2d, 0x73, 0x69, 0x67, 0x6e, 0x65, 0x72, 1,
                                 2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,
                                 13,   14,   15,   16,   17,   18,   19,   20,   21,   22};

/* Signs HASH with the given signers (NULL: the hub picks) and path; returns the HTTP
 * status, and the response in *out. */
static int sign(const char *a, const char *b, const char *path, json_t **out)
{
    char body[400], url[120], h[65], parties[80] = "";
    api_hex_encode(h, HASH, 32);
    if (a)
        snprintf(parties, sizeof parties, ",\"parties\":[\"%s\",\"%s\"]", a, b);
    snprintf(body, sizeof body, "{\"hash\":\"%s\"%s%s%s%s}", h, parties,
             path ? ",\"derivation_path\":\"" : "", path ? path : "", path ? "\"" : "");
    snprintf(url, sizeof url, "/v1/keys/%s/sign?wait=20", key_id);
    return api("POST", url, body, out);
}

/* Writes the (derived) public key as a PEM SubjectPublicKeyInfo for the openssl CLI. */
static void write_pub_pem(const uint8_t pk[33], const char *path)
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
    assert_non_null(k);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PUBKEY(f, k), 1);
    fclose(f);
    EVP_PKEY_free(k);
}

/* Checks r, s, recovery id and DER against pk with libsecp256k1, and the DER signature with
 * `openssl pkeyutl -verify` against the key's PEM (independent of our code). */
static void check_signature(json_t *o, const uint8_t pk[33])
{
    uint8_t r[32], s[32], compact[64], der[72];
    secp256k1_ecdsa_signature sig;
    secp256k1_pubkey pub;
    const secp256k1_context *ctx = tss_secp_ctx();
    assert_int_equal(api_hex_decode(r, 32, jstr(o, "r"), 64), API_OK);
    assert_int_equal(api_hex_decode(s, 32, jstr(o, "s"), 64), API_OK);
    memcpy(compact, r, 32);
    memcpy(compact + 32, s, 32);
    assert_int_equal(secp256k1_ec_pubkey_parse(ctx, &pub, pk, 33), 1);
    assert_int_equal(secp256k1_ecdsa_signature_parse_compact(ctx, &sig, compact), 1);
    assert_int_equal(secp256k1_ecdsa_verify(ctx, &sig, HASH, &pub), 1); /* also low-s */
    size_t dl = strlen(jstr(o, "der")) / 2;
    assert_true(dl >= 8 && dl <= 72);
    assert_int_equal(api_hex_decode(der, dl, jstr(o, "der"), 2 * dl), API_OK);
    char pem[256], sigf[256], hashf[256];
    snprintf(pem, sizeof pem, "%s/key.pem", dir);
    snprintf(sigf, sizeof sigf, "%s/sig.der", dir);
    snprintf(hashf, sizeof hashf, "%s/hash.bin", dir);
    write_pub_pem(pk, pem);
    FILE *f = fopen(sigf, "wb");
    assert_non_null(f);
    fwrite(der, 1, dl, f);
    fclose(f);
    f = fopen(hashf, "wb");
    assert_non_null(f);
    fwrite(HASH, 1, 32, f);
    fclose(f);
    assert_int_equal(sh("openssl pkeyutl -verify -pubin -inkey %s -in %s -sigfile %s >/dev/null",
                        pem, hashf, sigf),
                     0);
}

static void expect_signed(const char *a, const char *b, const char *path)
{
    json_t *o = NULL;
    int st = sign(a, b, path, &o);
    if (st != 200 && st != 201) {
        char *txt = o ? json_dumps(o, 0) : NULL;
        fprintf(stderr, "sign %s+%s %s: HTTP %d %s\n", a ? a : "-", b ? b : "-", path ? path : "",
                st, txt ? txt : "");
        free(txt);
        dump_logs();
    }
    assert_true(st == 200 || st == 201);
    uint8_t pk[33];
    if (path) {
        uint32_t idx[TSS_BIP32_MAX_DEPTH];
        size_t depth;
        tss_point root, child;
        uint8_t cc[32];
        tss_scalar offset;
        assert_int_equal(tss_bip32_parse_path(path, idx, &depth), TSS_OK);
        assert_int_equal(tss_point_parse(&root, key_pk), TSS_OK);
        assert_int_equal(tss_bip32_derive(&root, key_cc, idx, depth, &offset, &child, cc), TSS_OK);
        tss_point_serialize(pk, &child);
    } else {
        memcpy(pk, key_pk, 33);
    }
    check_signature(o, pk);
    json_decref(o);
}

/* Expects the sign to fail (HTTP 502 session_failed) with `needle` in the message. */
static void expect_sign_fails(const char *a, const char *b, const char *needle)
{
    json_t *o = NULL;
    int st = sign(a, b, NULL, &o);
    json_t *err = json_object_get(o, "error");
    const char *msg = jstr(err, "message");
    if (st == 200 || st == 201 || (needle && !strstr(msg, needle))) {
        fprintf(stderr, "sign %s+%s: expected a failure mentioning '%s', got HTTP %d: %s\n", a, b,
                needle ? needle : "", st, msg);
        dump_logs();
    }
    assert_true(st != 200 && st != 201);
    if (needle)
        assert_non_null(strstr(msg, needle));
    json_decref(o);
}

/* ---- tests, in order ---- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_keygen(void **state)
{
    (void)state;
    json_t *o = NULL;
    double t0 = now_ms();
    int st = api("POST", "/v1/keys?wait=30",
                 "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"],\"label\":\"e2e\"}", &o);
    fprintf(stderr, "keygen 2-of-3 through the hub (tpm2 + pkcs11 + soft): %.1f ms\n",
            now_ms() - t0);
    if (st != 201) {
        char *t = o ? json_dumps(o, 0) : NULL;
        fprintf(stderr, "keygen: HTTP %d %s\n", st, t ? t : "");
        free(t);
        dump_logs();
    }
    assert_int_equal(st, 201);
    json_t *k = json_object_get(o, "key") ? json_object_get(o, "key") : o;
    const char *id = json_string_value(json_object_get(k, "id"));
    if (!id)
        id = jstr(k, "key_id");
    assert_int_equal(strlen(id), 32);
    memcpy(key_id, id, 33);
    json_decref(o);
    char url[80];
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    assert_int_equal(api("GET", url, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "active");
    assert_int_equal(api_hex_decode(key_pk, 33, jstr(o, "public_key"), 66), API_OK);
    json_decref(o);
    /* The chain code, read from n1's own share row (it is public) rather than from the
     * hub, derives child keys independently of the hub. */
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/n1.db", dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT chain_code FROM shares WHERE key_id = ?", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, key_id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(q, 0), 32);
    memcpy(key_cc, sqlite3_column_blob(q, 0), 32);
    sqlite3_finalize(q);
    sqlite3_close(db);
    /* Every node's share is active (activate arrived) and the audit chain verifies. */
    for (int i = 0; i < NNODES; i++) {
        char conf[256];
        node_conf_path(conf, sizeof conf, i);
        for (int k2 = 0; k2 < 100; k2++) {
            if (sh("%s --config %s shares list 2>/dev/null | grep -q '%s active'", SIGNERD_BIN,
                   conf, key_id) == 0)
                break;
            usleep(50000);
        }
        assert_int_equal(sh("%s --config %s shares list 2>/dev/null | grep -q '%s active'",
                            SIGNERD_BIN, conf, key_id),
                         0);
    }
}

static void test_sign_every_pair(void **state)
{
    (void)state;
    expect_signed("n1", "n2", NULL);
    expect_signed("n1", "n3", NULL);
    expect_signed("n2", "n3", NULL);
    expect_signed(NULL, NULL, NULL);
    expect_signed("n2", "n3", "m/0/1");
    expect_signed("n1", "n2", "m/7/2147483647/3");
}

/* Latency figures for the notes (not an assertion: performance is measured in bench/). */
static void test_latency(void **state)
{
    (void)state;
    enum { N = 21 };
    double t[N];
    static const char *const pairs[3][2] = {{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}};
    for (int p = 0; p < 3; p++) {
        for (int i = 0; i < N; i++) {
            json_t *o = NULL;
            double t0 = now_ms();
            int st = sign(pairs[p][0], pairs[p][1], NULL, &o);
            t[i] = now_ms() - t0;
            assert_true(st == 200 || st == 201);
            json_decref(o);
        }
        qsort(t, N, sizeof t[0], cmp_double);
        fprintf(stderr,
                "sign %s+%s through the hub, one client, new TLS connection each: "
                "median %.1f ms, min %.1f, max %.1f (%d runs)\n",
                pairs[p][0], pairs[p][1], t[N / 2], t[0], t[N - 1], N);
    }
}

static void restart_n3(const char *tamper)
{
    stop_pid(&node_pid[2], SIGTERM);
    wait_online(2, 0);
    start_node(2, tamper, 0);
    wait_online(2, 1);
}

/* A hub (here: n3's own test build) that alters, replays or drops protocol frames makes the
 * session fail — never a wrong signature, never a ban; afterwards the nodes sign again. */
static void test_tampered_frames(void **state)
{
    (void)state;
    static const char *const modes[] = {"flip", "replay"};
    for (size_t m = 0; m < 2; m++) {
        restart_n3(modes[m]);
        expect_sign_fails("n1", "n3", "channel authentication");
        expect_sign_fails("n2", "n3", "channel authentication");
    }
    restart_n3("drop");
    expect_sign_fails("n1", "n3", NULL);
    restart_n3(NULL);
    expect_signed("n1", "n3", NULL);
    for (int i = 0; i < 2; i++) {
        char conf[256];
        node_conf_path(conf, sizeof conf, i);
        assert_int_equal(
            sh("test -z \"$(%s --config %s bans list 2>/dev/null)\"", SIGNERD_BIN, conf), 0);
    }
}

/* n3 comes back with a new identity key (and a valid certificate for it): the peers refuse
 * to sign with it, since the key pins n3's original certificate. */
static void test_pinned_identity(void **state)
{
    (void)state;
    stop_pid(&node_pid[2], SIGTERM);
    wait_online(2, 0);
    assert_int_equal(sh("cd %s && mv n3.identity n3.identity.orig && mv n3.pem n3.pem.orig", dir),
                     0);
    enrol(2, "n3");
    start_node(2, NULL, 0);
    wait_online(2, 1);
    expect_sign_fails("n1", "n3", "pinned");
    stop_pid(&node_pid[2], SIGTERM);
    wait_online(2, 0);
    assert_int_equal(sh("cd %s && mv n3.identity.orig n3.identity && mv n3.pem.orig n3.pem", dir),
                     0);
    start_node(2, NULL, 0);
    wait_online(2, 1);
    expect_signed("n1", "n3", NULL);
}

typedef struct {
    const char *a, *b;
    int status;
    json_t *out;
    pthread_t t;
} async_sign;

static void *async_run(void *p)
{
    async_sign *s = p;
    s->status = sign(s->a, s->b, NULL, &s->out);
    return NULL;
}

/* A signer that dies mid-session fails that session quickly, naming it; the other two still
 * sign; restarted, it unseals its share and signs again. */
static void test_signer_killed_and_restarted(void **state)
{
    (void)state;
    async_sign a = {.a = "n1", .b = "n3"};
    kill(node_pid[2], SIGSTOP); /* frozen: the session cannot finish */
    assert_int_equal(pthread_create(&a.t, NULL, async_run, &a), 0);
    usleep(400000);
    stop_pid(&node_pid[2], SIGKILL);
    pthread_join(a.t, NULL);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "n3"));
    json_decref(a.out);
    wait_online(2, 0);
    expect_signed("n1", "n2", NULL);
    start_node(2, NULL, 0);
    wait_online(2, 1);
    expect_signed("n2", "n3", NULL);
}

/* The hub restarts: the signers reconnect by themselves and the key is still usable. */
static void test_hub_restarted(void **state)
{
    (void)state;
    stop_pid(&hub_pid, SIGTERM);
    start_hub();
    for (int i = 0; i < NNODES; i++)
        wait_online(i, 1);
    expect_signed("n1", "n2", NULL);
    expect_signed("n3", "n1", NULL);
}

/* The TPM goes away: n1 cannot unseal, the session fails with the backend's reason and
 * nothing is lost; a restart of n1 without its TPM fails at once with a clear error (for
 * systemd to retry); when the TPM is back, n1 starts and signs again. */
static void test_tpm_unavailable(void **state)
{
    (void)state;
    kill(tpm.pid, SIGKILL);
    waitpid(tpm.pid, NULL, 0);
    tpm.pid = -1;
    expect_sign_fails("n1", "n2", "sealing backend");
    stop_pid(&node_pid[0], SIGTERM);
    wait_online(0, 0);
    start_node(0, NULL, 0);
    int st = -1;
    for (int i = 0; i < 200 && st < 0; i++) {
        int ws;
        if (waitpid(node_pid[0], &ws, WNOHANG) == node_pid[0]) {
            st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            node_pid[0] = -1;
        } else {
            usleep(50000);
        }
    }
    assert_int_equal(st, 1);
    assert_int_equal(sh("grep -q '\\[backend\\] tpm2' %s/n1.log", dir), 0);
    assert_int_equal(fx_swtpm_restart(&tpm), 0);
    start_node(0, NULL, 0);
    wait_online(0, 1);
    expect_signed("n1", "n2", NULL);
}

/* A full disk during keygen (n3's database may not grow): its share cannot be stored, so
 * it sends no attestation; the key fails with a clear error and no share of it becomes
 * active anywhere; signing with the existing key still works. */
static void test_full_disk_keygen(void **state)
{
    (void)state;
    stop_pid(&node_pid[2], SIGTERM);
    wait_online(2, 0);
    setenv("MPC_SIGNERD_TEST_FULL_DISK", "1", 1);
    start_node(2, NULL, 0);
    unsetenv("MPC_SIGNERD_TEST_FULL_DISK");
    wait_online(2, 1);
    json_t *o = NULL;
    int status =
        api("POST", "/v1/keys?wait=30", "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &o);
    const char *msg = jstr(json_object_get(o, "error"), "message");
    if (status == 201 || !strstr(msg, "store"))
        fprintf(stderr, "full-disk keygen: HTTP %d %s\n", status, msg), dump_logs();
    assert_true(status != 201);
    assert_non_null(strstr(msg, "store"));
    json_decref(o);
    for (int i = 0; i < NNODES; i++) {
        char conf[256];
        node_conf_path(conf, sizeof conf, i);
        assert_int_equal(sh("test $(%s --config %s shares list 2>/dev/null | grep -c active) -eq 1",
                            SIGNERD_BIN, conf),
                         0);
    }
    restart_n3(NULL);
    expect_signed("n1", "n3", NULL);
}

/* The selective-failure attack through a real daemon: n3 corrupts one base-OT column of its
 * own setup per session. n1 bans n3 at the first failed check (persisted before any other
 * output) and from then on refuses every session with it at once; n1 still signs with n2.
 * The ban survives n1's restart, and an operator can lift it. */
static void test_ot_attack_banned(void **state)
{
    (void)state;
    char conf[256];
    node_conf_path(conf, sizeof conf, 0);
    restart_n3("ot");
    int answered = 0, banned_at = -1;
    for (int k = 0; k < 40 && banned_at < 0; k++) {
        json_t *o = NULL;
        int st = sign("n1", "n3", NULL, &o);
        const char *msg = jstr(json_object_get(o, "error"), "message");
        if (k < 3 || (st != 200 && st != 201))
            fprintf(stderr, "ot attack session %d: HTTP %d %s\n", k, st, msg);
        if (st == 200 || st == 201)
            answered++;
        else if (strstr(msg, "OT") || strstr(msg, "ot-extension") || strstr(msg, "check"))
            banned_at = k;
        json_decref(o);
    }
    fprintf(stderr, "ot attack: %d sessions answered before the first failed check (at %d)\n",
            answered, banned_at);
    assert_true(banned_at >= 0);
    assert_int_equal(sh("%s --config %s bans list 2>/dev/null | grep -q .", SIGNERD_BIN, conf), 0);
    for (int k = 0; k < 5; k++)
        expect_sign_fails("n1", "n3", "banned");
    expect_signed("n1", "n2", NULL);
    /* The ban holds across n1's restart. */
    stop_pid(&node_pid[0], SIGTERM);
    wait_online(0, 0);
    start_node(0, NULL, 0);
    wait_online(0, 1);
    expect_sign_fails("n1", "n3", "banned");
    /* Lifted by the operator (and n3 honest again), they sign together. */
    assert_int_equal(sh("for fp in $(%s --config %s bans list 2>/dev/null | cut -d' ' -f1); do "
                        "%s --config %s bans lift $fp || exit 1; done",
                        SIGNERD_BIN, conf, SIGNERD_BIN, conf),
                     0);
    stop_pid(&node_pid[0], SIGTERM);
    wait_online(0, 0);
    start_node(0, NULL, 0);
    wait_online(0, 1);
    restart_n3(NULL);
    expect_signed("n1", "n3", NULL);
    assert_int_equal(sh("%s --config %s audit verify >/dev/null 2>&1", SIGNERD_BIN, conf), 0);
}

int main(void)
{
    if (!fx_have_tool("swtpm") || !fx_have_tool("softhsm2-util") || !fx_have_tool("openssl")) {
        fprintf(stderr, "swtpm, SoftHSM2 or openssl missing: run scripts/install-deps.sh\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),           cmocka_unit_test(test_sign_every_pair),
        cmocka_unit_test(test_latency),          cmocka_unit_test(test_tampered_frames),
        cmocka_unit_test(test_pinned_identity),  cmocka_unit_test(test_signer_killed_and_restarted),
        cmocka_unit_test(test_hub_restarted),    cmocka_unit_test(test_tpm_unavailable),
        cmocka_unit_test(test_full_disk_keygen), cmocka_unit_test(test_ot_attack_banned),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    return failed || teardown_failed ? 1 : 0; /* cmocka does not count a failed teardown */
}
