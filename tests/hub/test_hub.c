/* tests/hub/test_hub.c — mpc-hubd end to end: a real hub process on free loopback ports
 * with a throwaway CA, server and party certificates and database. Covers API-key auth
 * (both headers), every validation error, the allow-list and rate limit, mTLS admission
 * and rejection on the party link, party replacement, keygen with attestations, routing
 * between test link clients, signing (plain and BIP32-derived) with verification, bad
 * signatures, timeouts, >= 100 sessions in flight, SIGTERM shutdown and restart recovery,
 * and store write failures (injected with triggers) answering 500 instead of a result.
 * The test signers use a known secp256k1 key (the hub cannot tell: it only verifies). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sqlite3.h>

#include "api/hex.h"
#include "api/json.h"
#include "api/reshare.h"
#include "hub_client.h"
#include "tss/point.h"

/* MPC_HUB_BIN runs the suite against another build of the hub (e.g. one from before a
 * fix, to see a new test fail). */
static const char hub_bin_built[] = HUB_BIN;
#undef HUB_BIN
#define HUB_BIN (getenv("MPC_HUB_BIN") ? getenv("MPC_HUB_BIN") : hub_bin_built)

static char dir[256], ca[300], conf[300], api_key[128], auth_hdr[200];
static rlim_t hub_nofile; /* RLIMIT_NOFILE for the next hub start; 0: inherited */
static int api_port, party_port;
static pid_t hub_pid = -1;
static unsigned max_in_flight = 400;
/* The test's link client answers pings only while it reads, so the idle check is off
 * except in the test that measures it. */
static const char *party_extra = "ping_interval = 0\n";
static int dump_log; /* print the hub's log at teardown (set when something looked wrong) */

/* Shared between the ordered tests. */
static char key_id[33];
/* The test key (web3.js documentation's example account, so its Ethereum address is known
 * independently): small multiples of G are refused by the hub as known keys. */
static uint8_t SECRET[32];
static uint8_t PUB[33], CHAIN[32];
#define SECRET_HEX  "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
#define SECRET_ADDR "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
/* A second key (ethers.js documentation's example wallet). */
#define SECRET2_HEX  "0123456789012345678901234567890123456789012345678901234567890123"
#define SECRET2_ADDR "0x14791697260E4c9A71f18484C9f997B308e59325"

static void cleanup(void)
{
    if (hub_pid > 0) {
        kill(hub_pid, SIGKILL);
        waitpid(hub_pid, NULL, 0);
        hub_pid = -1;
    }
    if (dir[0] && !getenv("MPC_KEEP_TEST_DIR")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        dir[0] = 0;
    }
}

static void die(const char *what)
{
    fprintf(stderr, "fixture: %s failed (logs in %s)\n", what, dir);
    cleanup();
    exit(1);
}

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) {
        fprintf(stderr, "command failed: %s\n", cmd);
        cleanup();
        exit(1);
    }
}

static void pub_of(uint8_t pub[33], const char *sk_hex)
{
    uint8_t sk[32];
    secp256k1_pubkey p;
    size_t len = 33;
    if (api_hex_decode(sk, 32, sk_hex, 64) != API_OK ||
        secp256k1_ec_pubkey_create(tss_secp_ctx(), &p, sk) != 1 ||
        secp256k1_ec_pubkey_serialize(tss_secp_ctx(), pub, &len, &p, SECP256K1_EC_COMPRESSED) != 1)
        die("test key");
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

static void make_cert(const char *ca_name, const char *name, const char *cn, const char *ext)
{
    sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key"
       " -out %s.csr -subj '/CN=%s' 2>/dev/null && openssl x509 -req -in %s.csr -CA %s.pem"
       " -CAkey %s.key -CAcreateserial -out %s.pem -days 2 %s 2>/dev/null",
       dir, name, name, cn, name, ca_name, ca_name, name, ext);
}

static void write_config(const char *extra_api)
{
    FILE *f = fopen(conf, "w");
    if (!f)
        die("config");
    fprintf(f,
            "# test hub\n[hub]\ndatabase = %s/hub.db\nlog_level = %s\n\n"
            "[api]\nlisten = 127.0.0.1\nport = %d\ncert = %s/server.pem\nkey = %s/server.key\n"
            "%s\n[party]\nlisten = 127.0.0.1\nport = %d\nca = %s\n%s\n"
            "queue_high_water = 262144\n"
            "[sessions]\ntimeout = 4\nmax_in_flight = %u\n",
            dir, getenv("MPC_HUB_LOG_LEVEL") ? getenv("MPC_HUB_LOG_LEVEL") : "info", api_port, dir,
            dir, extra_api, party_port, ca, party_extra, max_in_flight);
    fclose(f);
}

static int healthy(void)
{
    return hc_request(ca, api_port, "GET", "/healthz", NULL, NULL, NULL, NULL) == 200;
}

static void start_hub(const char *extra_api)
{
    write_config(extra_api);
    hub_pid = fork();
    if (hub_pid == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/hub.log", dir);
        FILE *l = freopen(log, "a", stderr);
        (void)l;
        if (hub_nofile) {
            struct rlimit rl = {hub_nofile, hub_nofile};
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        execl(HUB_BIN, HUB_BIN, "--config", conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        if (healthy())
            return;
        usleep(50000);
    }
    die("hub start (see hub.log)");
}

/* SIGTERM (or SIGKILL) and wait; returns the exit status, or -1 if still running after 5 s. */
static int stop_hub(int sig)
{
    if (hub_pid <= 0)
        return 0;
    kill(hub_pid, sig);
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(hub_pid, &st, WNOHANG) == hub_pid) {
            hub_pid = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(50000);
    }
    kill(hub_pid, SIGKILL);
    waitpid(hub_pid, NULL, 0);
    hub_pid = -1;
    return -1;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-hub-test-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(conf, sizeof conf, "%s/hub.conf", dir);
    static const char *const cas[] = {"ca", "rogueca"};
    for (int i = 0; i < 2; i++)
        sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
           " -keyout %s.key -out %s.pem -days 2 -subj '/CN=test %s' 2>/dev/null",
           dir, cas[i], cas[i], cas[i]);
    /* The hub's certificate is a TLS server's (serverAuth), the signers' are TLS clients'
     * (clientAuth): the party link admits only the latter. */
    sh("printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > %s/server.ext",
       dir);
    sh("printf 'extendedKeyUsage=clientAuth\\n' > %s/client.ext", dir);
    char ext[400], cext[400];
    snprintf(ext, sizeof ext, "-extfile %s/server.ext", dir);
    snprintf(cext, sizeof cext, "-extfile %s/client.ext", dir);
    make_cert("ca", "server", "localhost", ext);
    make_cert("ca", "p1", "p1", cext);
    make_cert("ca", "p2", "p2", cext);
    make_cert("ca", "p3", "p3", cext);
    make_cert("ca", "p4", "p4", cext); /* import dealers (test_import) */
    make_cert("ca", "p5", "p5", cext);
    make_cert("ca", "badcn", "not a party id!", cext);
    make_cert("ca", "noeku", "p1", "");
    make_cert("rogueca", "rogue", "p1", cext);
    api_port = free_port();
    party_port = free_port();
    write_config("");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "%s --config %s create-api-key tests 2>/dev/null", HUB_BIN, conf);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(api_key, sizeof api_key, p) || pclose(p) != 0)
        die("create-api-key");
    api_key[strcspn(api_key, "\n")] = 0;
    snprintf(auth_hdr, sizeof auth_hdr, "Authorization: Bearer %s\r\n", api_key);
    if (api_hex_decode(SECRET, 32, SECRET_HEX, 64) != API_OK)
        die("secret");
    pub_of(PUB, SECRET_HEX);
    memset(CHAIN, 0x5c, 32);
    start_hub("");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (getenv("MPC_KEEP_TEST_DIR"))
        fprintf(stderr, "kept %s\n", dir);
    if (dump_log)
        sh("echo '--- last lines of hub.log'; tail -n 40 %s/hub.log >&2", dir);
    cleanup();
    return 0;
}

/* --- helpers --- */

static int api(const char *method, const char *path, const char *body, json_t **out)
{
    char headers[400];
    snprintf(headers, sizeof headers, "%s%s", auth_hdr,
             body ? "Content-Type: application/json\r\n" : "");
    return hc_request(ca, api_port, method, path, headers, body, out, NULL);
}

static void expect_error(const char *method, const char *path, const char *body, int status,
                         const char *code)
{
    json_t *o = NULL;
    int st = api(method, path, body, &o);
    const char *got = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
    if (st != status || !got || strcmp(got, code) != 0)
        dump_log = 1;
    if (st != status || !got || strcmp(got, code) != 0)
        fprintf(stderr, "%s %s %s: got %d %s, want %d %s\n", method, path, body ? body : "", st,
                got ? got : "(no code)", status, code);
    assert_int_equal(st, status);
    assert_non_null(got);
    assert_string_equal(got, code);
    assert_non_null(json_string_value(
        json_object_get(json_object_get(o, "error"), "message"))); /* always a message */
    json_decref(o);
}

static hc_link *party(const char *name)
{
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/%s.pem", dir, name);
    snprintf(key, sizeof key, "%s/%s.key", dir, name);
    hc_link *l = hc_link_open(ca, party_port, cert, key);
    if (!l) {
        fprintf(stderr, "party %s: link refused: %s\n", name, hc_last_error());
        dump_log = 1;
        return NULL;
    }
    const char *hello = "{\"version\":\"test\",\"backend\":\"soft\"}";
    api_frame f = {.type = API_FRAME_HELLO,
                   .payload = (const uint8_t *)hello,
                   .payload_len = (uint32_t)strlen(hello)};
    if (hc_link_send_frame(l, &f) != 0) {
        hc_link_close(l);
        return NULL;
    }
    return l;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* 1 if /v1/parties says id is online. */
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

/* Waits until /v1/parties reports `id` with the given online state. */
static void wait_online(const char *id, int online)
{
    for (int i = 0; i < 100; i++) {
        json_t *o = NULL;
        api("GET", "/v1/parties", NULL, &o);
        size_t k;
        json_t *p;
        int now = 0;
        json_array_foreach(json_object_get(o, "parties"), k, p)
        {
            if (strcmp(json_string_value(json_object_get(p, "id")), id) == 0)
                now = json_is_true(json_object_get(p, "online"));
        }
        json_decref(o);
        if (now == online)
            return;
        usleep(20000);
    }
    fail_msg("party %s never became %s", id, online ? "online" : "offline");
}

typedef struct {
    api_frame f;
    uint8_t buf[1 << 16];
    json_t *json; /* session-start / abort payloads */
} rx;

static void recv_type(hc_link *l, rx *r, int type)
{
    json_decref(r->json);
    r->json = NULL;
    /* Aborts of sessions that already failed, and activations re-sent on reconnect, are
     * skipped unless that is the type expected. */
    do {
        int got = hc_link_recv_frame(l, &r->f, r->buf, sizeof r->buf, 5000);
        if (got != 0)
            dump_log = 1;
        assert_int_equal(got, 0);
    } while ((r->f.type == API_FRAME_ABORT || r->f.type == API_FRAME_ACTIVATE) &&
             r->f.type != type);
    if (r->f.type != type)
        dump_log = 1;
    if (r->f.type != type)
        fail_msg("expected %s frame, got %s", api_frame_type_name((unsigned)type),
                 api_frame_type_name(r->f.type));
    if (type != API_FRAME_PROTOCOL)
        r->json = json_loadb((const char *)r->f.payload, r->f.payload_len, 0, NULL);
}

static void send_json(hc_link *l, int type, const uint8_t sid[16], unsigned from, unsigned to,
                      const char *json)
{
    api_frame f = {.type = (uint8_t)type,
                   .from = (uint16_t)from,
                   .to = (uint16_t)to,
                   .payload = (const uint8_t *)json,
                   .payload_len = (uint32_t)strlen(json)};
    memcpy(f.session, sid, 16);
    assert_int_equal(hc_link_send_frame(l, &f), 0);
}

/* The DKG transcript hash every signer of a key reports (they must agree). */
static uint8_t transcript_byte = 0x5A;
static const api_key_public *key_block; /* attached to keygen results when set */

static void keygen_result(hc_link *l, const char *name, const uint8_t sid[16], unsigned index,
                          const char *kid_hex, const uint8_t *pub)
{
    api_keygen_result r = {0};
    uint8_t kid[16], msg[API_ATTEST_MSG_BYTES];
    memcpy(r.public_key, pub, 33);
    memcpy(r.chain_code, CHAIN, 32);
    memset(r.transcript_hash, transcript_byte, 32);
    assert_int_equal(api_hex_decode(kid, 16, kid_hex, 32), API_OK);
    api_attestation_message(msg, kid, &r);
    char path[300];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    FILE *f = fopen(path, "r");
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = sizeof r.attestation;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk), 1);
    assert_int_equal(EVP_DigestSign(ctx, r.attestation, &len, msg, sizeof msg), 1);
    r.attestation_len = len;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    char *j = api_keygen_result_encode(&r);
    if (key_block)
        j = api_key_public_attach(j, key_block);
    send_json(l, API_FRAME_RESULT, sid, index, 0, j);
    free(j);
}

/* An activate payload (PARTY_LINK.md) is {"key_id", "attestations": [...]} with exactly
 * n entries in index order; each entry's certificate is the one party p<index> presented
 * (byte for byte the PEM of dir/p<index>.pem) and its attestation verifies under it over
 * api_attestation_message — what a signer checks before it activates. */
static void check_activate(json_t *act, const char *kid_hex, unsigned n, const uint8_t *pub)
{
    uint8_t kid[16], msg[API_ATTEST_MSG_BYTES];
    api_keygen_result r = {0};
    assert_non_null(act);
    assert_int_equal(json_object_size(act), 2);
    assert_string_equal(jstr(act, "key_id"), kid_hex);
    assert_int_equal(api_hex_decode(kid, 16, kid_hex, 32), API_OK);
    memcpy(r.public_key, pub, 33);
    memcpy(r.chain_code, CHAIN, 32);
    memset(r.transcript_hash, transcript_byte, 32);
    api_attestation_message(msg, kid, &r);
    json_t *a = json_object_get(act, "attestations");
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), n);
    for (unsigned i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        assert_int_equal(json_object_size(e), 3);
        assert_int_equal(json_integer_value(json_object_get(e, "index")), i + 1);
        char path[300], pem[8192];
        snprintf(path, sizeof path, "%s/p%u.pem", dir, i + 1);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t len = fread(pem, 1, sizeof pem - 1, f);
        fclose(f);
        pem[len] = 0;
        const char *cert = jstr(e, "certificate");
        assert_string_equal(cert, pem);
        const char *hex = jstr(e, "attestation");
        uint8_t sig[API_ATTESTATION_MAX];
        size_t hl = strlen(hex);
        assert_true(hl % 2 == 0 && hl / 2 <= sizeof sig);
        assert_int_equal(api_hex_decode(sig, hl / 2, hex, hl), API_OK);
        BIO *bio = BIO_new_mem_buf(cert, -1);
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        assert_non_null(x);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)),
                         1);
        assert_int_equal(EVP_DigestVerify(ctx, sig, hl / 2, msg, sizeof msg), 1);
        EVP_MD_CTX_free(ctx);
        X509_free(x);
    }
}

static void ecdsa(api_sign_result *out, const uint8_t sk[32], const uint8_t hash[32])
{
    secp256k1_ecdsa_recoverable_signature sig;
    uint8_t compact[64];
    int recid;
    assert_int_equal(secp256k1_ecdsa_sign_recoverable(tss_secp_ctx(), &sig, hash, sk, NULL, NULL),
                     1);
    assert_int_equal(secp256k1_ecdsa_recoverable_signature_serialize_compact(tss_secp_ctx(),
                                                                             compact, &recid, &sig),
                     1);
    memcpy(out->r, compact, 32);
    memcpy(out->s, compact + 32, 32);
    out->recovery_id = recid;
}

static void sid_of(json_t *start, uint8_t sid[16], const rx *r)
{
    (void)start;
    memcpy(sid, r->f.session, 16);
}

/* --- tests --- */

static void test_auth(void **state)
{
    (void)state;
    json_t *o = NULL;
    char h[300];
    /* a WebSocket upgrade on the REST port is refused: it would skip the allow-list, the
     * rate limit and the API key, and stay open */
    static const char upgrade[] = "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Key: "
                                  "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    char answer[64];
    hc_raw_capture(ca, api_port, upgrade, sizeof upgrade - 1, 1500, answer, sizeof answer);
    assert_null(strstr(answer, " 101 "));
    assert_int_equal(hc_request(ca, api_port, "GET", "/healthz", NULL, NULL, &o, NULL), 200);
    assert_string_equal(jstr(o, "status"), "ok");
    json_decref(o);
    const char *bad[] = {
        NULL, "Authorization: Bearer mpck_nope\r\n",
        "X-API-Key: mpck_0000000000000000000000000000000000000000000000000000000000000000\r\n",
        "Authorization: Basic dGVzdDp0ZXN0\r\n", "Authorization: Bearer \r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(hc_request(ca, api_port, "GET", "/v1/keys", bad[i], NULL, &o, NULL), 401);
        assert_string_equal(jstr(json_object_get(o, "error"), "code"), "unauthenticated");
        json_decref(o);
    }
    /* a POST without a key is refused before its body is looked at, and changes nothing */
    assert_int_equal(hc_request(ca, api_port, "POST", "/v1/keys",
                                "Content-Type: application/json\r\n", "{\"threshold\":2,\"n\":2}",
                                &o, NULL),
                     401);
    json_decref(o);
    /* /metrics is authenticated too: only /healthz is open */
    assert_int_equal(hc_request(ca, api_port, "GET", "/metrics", NULL, NULL, NULL, NULL), 401);
    assert_int_equal(hc_request(ca, api_port, "GET", "/v1/keys", auth_hdr, NULL, &o, NULL), 200);
    assert_true(json_is_array(json_object_get(o, "keys")));
    json_decref(o);
    snprintf(h, sizeof h, "X-API-Key: %s\r\n", api_key);
    assert_int_equal(hc_request(ca, api_port, "GET", "/v1/parties", h, NULL, NULL, NULL), 200);
    snprintf(h, sizeof h, "authorization: bearer %s\r\n", api_key);
    assert_int_equal(hc_request(ca, api_port, "GET", "/v1/parties", h, NULL, NULL, NULL), 200);
    /* a key with one character changed is refused */
    snprintf(h, sizeof h, "X-API-Key: %.*sx\r\n", (int)strlen(api_key) - 1, api_key);
    assert_int_equal(hc_request(ca, api_port, "GET", "/v1/parties", h, NULL, NULL, NULL), 401);
    /* keys made by the admin command while the hub runs work at once; revoked ones stop */
    char cmd[800], key2[128];
    snprintf(cmd, sizeof cmd, "%s --config %s create-api-key temp 2>/dev/null", HUB_BIN, conf);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(key2, sizeof key2, p));
    assert_int_equal(pclose(p), 0);
    key2[strcspn(key2, "\n")] = 0;
    snprintf(h, sizeof h, "X-API-Key: %s\r\n", key2);
    assert_int_equal(hc_request(ca, api_port, "GET", "/v1/keys", h, NULL, NULL, NULL), 200);
    snprintf(cmd, sizeof cmd, "%s --config %s create-api-key temp 2>/dev/null >/dev/null", HUB_BIN,
             conf);
    assert_int_not_equal(system(cmd), 0); /* names are unique */
    snprintf(cmd, sizeof cmd, "%s --config %s list-api-keys | grep -q '^temp\t'", HUB_BIN, conf);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s --config %s list-api-keys | grep -q mpck_", HUB_BIN, conf);
    assert_int_not_equal(system(cmd), 0); /* never prints keys or hashes */
    snprintf(cmd, sizeof cmd, "%s --config %s revoke-api-key temp 2>/dev/null", HUB_BIN, conf);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(hc_request(ca, api_port, "GET", "/v1/keys", h, NULL, NULL, NULL), 401);
    char *raw = NULL;
    assert_int_equal(hc_request(ca, api_port, "GET", "/metrics", auth_hdr, NULL, NULL, &raw), 200);
    assert_non_null(strstr(raw, "mpc_hub_auth_failures_total "));
    assert_null(strstr(raw, "mpc_hub_auth_failures_total 0\n"));
    free(raw);
}

#define H64 "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""

static void test_validation(void **state)
{
    (void)state;
    expect_error("POST", "/v1/keys", "{\"threshold\":2,", 400, "bad_json");
    expect_error("POST", "/v1/keys", "[2,3]", 400, "bad_json");
    expect_error("POST", "/v1/keys", "{\"threshold\":\"2\",\"n\":3}", 400, "bad_field");
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":3.5}", 400, "bad_field");
    expect_error("POST", "/v1/keys", "{\"threshold\":4,\"n\":3}", 400, "bad_threshold");
    expect_error("POST", "/v1/keys", "{\"threshold\":1,\"n\":3}", 400, "bad_threshold");
    expect_error("POST", "/v1/keys", "{\"n\":3}", 400, "missing_field");
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":3,\"admin\":true}", 400,
                 "unknown_field");
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"parties\":[\"p1\",\"nobody\"]}", 422,
                 "unknown_party");
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":3}", 422, "parties_offline");
    expect_error("POST", "/v1/keys?wait=abc", "{\"threshold\":2,\"n\":3}", 400, "bad_query");
    expect_error("POST", "/v1/keys?wait=100000", "{\"threshold\":2,\"n\":3}", 400, "bad_query");
    expect_error("GET", "/v1/keys/00112233445566778899aabbccddeeff", NULL, 404, "unknown_key");
    expect_error("GET", "/v1/keys/xyz", NULL, 404, "unknown_key");
    expect_error("POST", "/v1/keys/00112233445566778899aabbccddeeff/sign", "{\"hash\":" H64 "}",
                 404, "unknown_key");
    expect_error("GET", "/v1/sessions/00112233445566778899aabbccddeeff", NULL, 404,
                 "unknown_session");
    expect_error("GET", "/v1/sessions/../../etc/passwd", NULL, 404, "not_found");
    expect_error("GET", "/v1/nothing", NULL, 404, "not_found");
    expect_error("DELETE", "/v1/keys", NULL, 405, "method_not_allowed");
    expect_error("GET", "/v1/keys/00112233445566778899aabbccddeeff/sign", NULL, 405,
                 "method_not_allowed");
    /* media type and size */
    char h[400];
    json_t *o = NULL;
    snprintf(h, sizeof h, "%sContent-Type: text/plain\r\n", auth_hdr);
    assert_int_equal(hc_request(ca, api_port, "POST", "/v1/keys", h, "{}", &o, NULL), 415);
    json_decref(o);
    /* the default limit is 256 KiB: a larger body is refused from its Content-Length */
    char *big = malloc(300001);
    memset(big, ' ', 300000);
    big[300000] = 0;
    expect_error("POST", "/v1/keys", big, 413, "too_large");
    free(big);
    /* nothing above was stored */
    assert_int_equal(api("GET", "/v1/keys", NULL, &o), 200);
    assert_int_equal(json_array_size(json_object_get(o, "keys")), 0);
    json_decref(o);
}

static void test_party_admission(void **state)
{
    (void)state;
    char cert[300], key[300];
    /* a certificate from another CA (even with a valid CN) is refused */
    snprintf(cert, sizeof cert, "%s/rogue.pem", dir);
    snprintf(key, sizeof key, "%s/rogue.key", dir);
    assert_null(hc_link_open(ca, party_port, cert, key));
    /* no client certificate at all */
    assert_null(hc_link_open(ca, party_port, NULL, NULL));
    /* right CA but a CN that is not a party id: TLS passes, the upgrade does not */
    snprintf(cert, sizeof cert, "%s/badcn.pem", dir);
    snprintf(key, sizeof key, "%s/badcn.key", dir);
    hc_link *bad = hc_link_open(ca, party_port, cert, key);
    if (bad) { /* lws may finish the upgrade before ESTABLISHED refuses: it must close */
        uint8_t b[64];
        size_t n;
        assert_int_not_equal(hc_link_recv(bad, b, sizeof b, &n, 2000), 2);
        hc_link_close(bad);
    }
    /* same CA and a valid CN, but not a TLS client certificate: the hub's own server
     * certificate (serverAuth) and one without extendedKeyUsage are refused */
    static const char *const not_clients[][2] = {{"server", "localhost"}, {"noeku", "p1"}};
    for (size_t i = 0; i < 2; i++) {
        hc_link *nc = party(not_clients[i][0]);
        if (nc) { /* the hello is sent: it must not make the party online */
            uint8_t b[64];
            size_t n;
            assert_int_not_equal(hc_link_recv(nc, b, sizeof b, &n, 500), 2);
            assert_false(party_online(not_clients[i][1]));
            hc_link_close(nc);
        }
    }
    /* a valid signer is admitted once it says hello, and answered when it pings */
    hc_link *p1 = party("p1");
    assert_non_null(p1);
    wait_online("p1", 1);
    api_frame ping = {.type = API_FRAME_PING, .payload = (const uint8_t *)"hi", .payload_len = 2};
    assert_int_equal(hc_link_send_frame(p1, &ping), 0);
    rx r = {0};
    recv_type(p1, &r, API_FRAME_PONG);
    assert_memory_equal(r.f.payload, "hi", 2);
    /* a malformed frame closes the link (1007), never crashes the hub */
    assert_int_equal(hc_link_send_raw(p1, (const uint8_t *)"garbage", 7, 2), 0);
    size_t code;
    uint8_t b[64];
    assert_int_equal(hc_link_recv(p1, b, sizeof b, &code, 3000), 8);
    assert_int_equal(code, 1007);
    hc_link_close(p1);
    wait_online("p1", 0);
    /* text messages are refused (1003); the hub stays up */
    p1 = party("p1");
    assert_non_null(p1);
    wait_online("p1", 1);
    assert_int_equal(hc_link_send_raw(p1, (const uint8_t *)"{}", 2, 1), 0);
    assert_int_equal(hc_link_recv(p1, b, sizeof b, &code, 3000), 8);
    assert_int_equal(code, 1003);
    hc_link_close(p1);
    wait_online("p1", 0);
    /* the same party connecting twice: the newer link replaces the older (close 4000) */
    hc_link *a = party("p1");
    wait_online("p1", 1);
    hc_link *c = party("p1");
    assert_non_null(c);
    assert_int_equal(hc_link_recv(a, b, sizeof b, &code, 3000), 8);
    assert_int_equal(code, 4000);
    assert_int_equal(hc_link_send_frame(c, &ping), 0);
    recv_type(c, &r, API_FRAME_PONG);
    hc_link_close(a);
    hc_link_close(c);
    wait_online("p1", 0);
    assert_true(healthy());
}

static hc_link *L[4];

static void test_keygen_routing(void **state)
{
    (void)state;
    rx r[4];
    memset(r, 0, sizeof r);
    uint8_t sid[16];
    L[1] = party("p1");
    L[2] = party("p2");
    L[3] = party("p3");
    wait_online("p1", 1);
    wait_online("p2", 1);
    wait_online("p3", 1);
    json_t *o = NULL;
    assert_int_equal(api("POST", "/v1/keys",
                         "{\"threshold\":2,\"parties\":[\"p1\",\"p2\",\"p3\"],\"label\":\"t\"}",
                         &o),
                     202);
    assert_string_equal(jstr(o, "status"), "running");
    assert_string_equal(jstr(o, "kind"), "keygen");
    assert_int_equal(json_integer_value(json_object_get(o, "threshold_t")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "threshold_n")), 3);
    snprintf(key_id, sizeof key_id, "%s", jstr(o, "key_id"));
    char session_id[33];
    snprintf(session_id, sizeof session_id, "%s", jstr(o, "id"));
    json_decref(o);
    for (int i = 1; i <= 3; i++) {
        recv_type(L[i], &r[i], API_FRAME_SESSION_START);
        assert_string_equal(jstr(r[i].json, "kind"), "keygen");
        assert_string_equal(jstr(r[i].json, "key_id"), key_id);
        assert_int_equal(json_integer_value(json_object_get(r[i].json, "index")), i);
        assert_int_equal(r[i].f.to, i);
        assert_int_equal(json_array_size(json_object_get(r[i].json, "parties")), 3);
        assert_non_null(
            strstr(jstr(json_array_get(json_object_get(r[i].json, "parties"), 0), "cert"),
                   "BEGIN CERTIFICATE"));
    }
    sid_of(r[1].json, sid, &r[1]);
    /* routing: opaque bytes from 1 to 2 and from 2 to 1 arrive unchanged, only there */
    const uint8_t opaque[5] = {0, 1, 2, 0xff, 0x80};
    api_frame f = {.type = API_FRAME_PROTOCOL,
                   .from = 1,
                   .to = 2,
                   .round = 1,
                   .payload = opaque,
                   .payload_len = 5};
    memcpy(f.session, sid, 16);
    assert_int_equal(hc_link_send_frame(L[1], &f), 0);
    rx g = {0};
    recv_type(L[2], &g, API_FRAME_PROTOCOL);
    assert_int_equal(g.f.from, 1);
    assert_int_equal(g.f.round, 1);
    assert_memory_equal(g.f.payload, opaque, 5);
    f.from = 2, f.to = 1, f.round = 2;
    assert_int_equal(hc_link_send_frame(L[2], &f), 0);
    recv_type(L[1], &g, API_FRAME_PROTOCOL);
    assert_int_equal(g.f.from, 2);
    /* p3 pretending to be party 1 is dropped, not routed */
    f.from = 1, f.to = 2;
    assert_int_equal(hc_link_send_frame(L[3], &f), 0);
    uint8_t b[256];
    size_t n;
    assert_int_equal(hc_link_recv(L[2], b, sizeof b, &n, 300), -1);
    /* the key is not active until all three attest */
    keygen_result(L[1], "p1", sid, 1, key_id, PUB);
    keygen_result(L[2], "p2", sid, 2, key_id, PUB);
    char path[80];
    snprintf(path, sizeof path, "/v1/keys/%s", key_id);
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "pending");
    json_decref(o);
    keygen_result(L[3], "p3", sid, 3, key_id, PUB);
    for (int i = 1; i <= 3; i++) {
        recv_type(L[i], &r[i], API_FRAME_ACTIVATE);
        assert_int_equal(r[i].f.to, i);
        check_activate(r[i].json, key_id, 3, PUB);
    }
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "active");
    char pub_hex[67];
    api_hex_encode(pub_hex, PUB, 33);
    assert_string_equal(jstr(o, "public_key"), pub_hex);
    assert_int_equal(strlen(jstr(o, "public_key_uncompressed")), 130);
    assert_memory_equal(jstr(o, "public_key_uncompressed") + 2, pub_hex + 2, 64);
    /* the documented address of the test key, EIP-55 checksummed */
    assert_string_equal(jstr(o, "ethereum_address"), SECRET_ADDR);
    assert_int_equal(json_integer_value(json_object_get(o, "threshold")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "n")), 3);
    assert_int_equal(json_array_size(json_object_get(o, "attestations")), 3);
    json_decref(o);
    char sp[80];
    snprintf(sp, sizeof sp, "/v1/sessions/%s", session_id);
    assert_int_equal(api("GET", sp, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "done");
    assert_true(json_array_size(json_object_get(o, "events")) >= 5); /* created, 3 x share, done */
    json_decref(o);
    for (int i = 1; i <= 3; i++)
        json_decref(r[i].json);
    json_decref(g.json);
}

/* An API request running on its own thread, so the test can play the signers while a
 * ?wait request is parked in the hub. */
typedef struct {
    const char *method;
    char path[200];
    char body[2048];
    int status;
    json_t *out;
    pthread_t t;
} async_req;

static void *async_run(void *p)
{
    async_req *a = p;
    a->status = api(a->method, a->path, a->body[0] ? a->body : NULL, &a->out);
    return NULL;
}

static void async_start(async_req *a)
{
    assert_int_equal(pthread_create(&a->t, NULL, async_run, a), 0);
}

static void async_join(async_req *a)
{
    pthread_join(a->t, NULL);
}

/* BIP32 private child derivation for the test's own key (the hub only does the public
 * half): sk_i = sk + I_L, I = HMAC-SHA512(c, ser_P(K) || i). */
static void derive_sk(uint8_t sk[32], const uint32_t *path, size_t depth)
{
    uint8_t pk[33], c[32], data[37], I[64];
    unsigned int len;
    memcpy(sk, SECRET, 32);
    memcpy(c, CHAIN, 32);
    for (size_t d = 0; d < depth; d++) {
        secp256k1_pubkey p;
        size_t pl = 33;
        assert_int_equal(secp256k1_ec_pubkey_create(tss_secp_ctx(), &p, sk), 1);
        secp256k1_ec_pubkey_serialize(tss_secp_ctx(), pk, &pl, &p, SECP256K1_EC_COMPRESSED);
        memcpy(data, pk, 33);
        data[33] = (uint8_t)(path[d] >> 24), data[34] = (uint8_t)(path[d] >> 16);
        data[35] = (uint8_t)(path[d] >> 8), data[36] = (uint8_t)path[d];
        HMAC(EVP_sha512(), c, 32, data, 37, I, &len);
        assert_int_equal(secp256k1_ec_seckey_tweak_add(tss_secp_ctx(), sk, I), 1);
        memcpy(c, I + 32, 32);
    }
}

/* One signing round trip: POST sign?wait=10 with `parties`, the signers receive
 * session-start, the first one sends (r, s, v) made with sk (corrupted if asked). */
static json_t *sign_once(const char *extra, hc_link **signers, const unsigned *index, size_t count,
                         const uint8_t sk[32], int corrupt, int *status, uint8_t hash_out[32])
{
    async_req a = {.method = "POST"};
    snprintf(a.path, sizeof a.path, "/v1/keys/%s/sign?wait=10", key_id);
    snprintf(a.body, sizeof a.body, "{\"hash\":" H64 "%s}", extra);
    async_start(&a);
    rx r[4];
    memset(r, 0, sizeof r);
    for (size_t i = 0; i < count; i++) {
        recv_type(signers[i], &r[i], API_FRAME_SESSION_START);
        assert_string_equal(jstr(r[i].json, "kind"), "sign");
        assert_int_equal(json_integer_value(json_object_get(r[i].json, "index")), index[i]);
        assert_int_equal(r[i].f.to, index[i]);
        assert_string_equal(jstr(r[i].json, "hash"),
                            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    }
    uint8_t hash[32];
    api_hex_decode(hash, 32, jstr(r[0].json, "hash"), 64);
    if (hash_out)
        memcpy(hash_out, hash, 32);
    api_sign_result sig;
    ecdsa(&sig, sk, hash);
    if (corrupt)
        sig.s[31] ^= 1;
    char *j = api_sign_result_encode(&sig);
    send_json(signers[0], API_FRAME_RESULT, r[0].f.session, index[0], 0, j);
    free(j);
    async_join(&a);
    *status = a.status;
    for (size_t i = 0; i < count; i++)
        json_decref(r[i].json);
    return a.out;
}

static void check_signature(json_t *o, const uint8_t sk[32])
{
    uint8_t hash[32], r[32], s[32], compact[64], der[72];
    api_hex_decode(hash, 32, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                   64);
    assert_int_equal(api_hex_decode(r, 32, jstr(o, "r"), strlen(jstr(o, "r"))), API_OK);
    assert_int_equal(api_hex_decode(s, 32, jstr(o, "s"), strlen(jstr(o, "s"))), API_OK);
    memcpy(compact, r, 32);
    memcpy(compact + 32, s, 32);
    secp256k1_ecdsa_signature sig;
    secp256k1_pubkey pk;
    assert_int_equal(secp256k1_ec_pubkey_create(tss_secp_ctx(), &pk, sk), 1);
    assert_int_equal(secp256k1_ecdsa_signature_parse_compact(tss_secp_ctx(), &sig, compact), 1);
    assert_int_equal(secp256k1_ecdsa_verify(tss_secp_ctx(), &sig, hash, &pk), 1);
    size_t dl = strlen(jstr(o, "der")) / 2;
    assert_true(dl >= 8 && dl <= 72);
    assert_int_equal(api_hex_decode(der, dl, jstr(o, "der"), 2 * dl), API_OK);
    assert_int_equal(secp256k1_ecdsa_signature_parse_der(tss_secp_ctx(), &sig, der, dl), 1);
    assert_int_equal(secp256k1_ecdsa_verify(tss_secp_ctx(), &sig, hash, &pk), 1);
    assert_true(json_integer_value(json_object_get(o, "recovery_id")) <= 3);
}

/* Starts a keygen with ?wait on a thread; the three links receive session-start. */
static void keygen_start(async_req *a, const char *body, rx *r)
{
    memset(a, 0, sizeof *a);
    a->method = "POST";
    snprintf(a->path, sizeof a->path, "/v1/keys?wait=10");
    snprintf(a->body, sizeof a->body, "%s", body);
    async_start(a);
    for (int i = 1; i <= 3; i++)
        recv_type(L[i], &r[i], API_FRAME_SESSION_START);
}

static void test_keygen_checks(void **state)
{
    (void)state;
    rx r[4];
    memset(r, 0, sizeof r);
    async_req a;
    uint8_t pub2[33];
    pub_of(pub2, SECRET2_HEX);
    /* p3's attestation is signed with p1's key: refused, key failed */
    keygen_start(&a, "{\"threshold\":3,\"n\":3}", r);
    char failed[33], kid[33];
    snprintf(kid, sizeof kid, "%s", jstr(r[1].json, "key_id"));
    snprintf(failed, sizeof failed, "%s", kid);
    keygen_result(L[1], "p1", r[1].f.session, 1, kid, PUB);
    keygen_result(L[2], "p2", r[2].f.session, 2, kid, PUB);
    keygen_result(L[3], "p1", r[3].f.session, 3, kid, PUB);
    async_join(&a);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "bad_attestation"));
    json_decref(a.out);
    char path[80];
    snprintf(path, sizeof path, "/v1/keys/%s", kid);
    json_t *o = NULL;
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "failed");
    assert_true(json_is_null(json_object_get(o, "public_key")));
    json_decref(o);
    /* two signers disagree on the public key: refused */
    keygen_start(&a, "{\"threshold\":2,\"n\":3}", r);
    snprintf(kid, sizeof kid, "%s", jstr(r[1].json, "key_id"));
    keygen_result(L[1], "p1", r[1].f.session, 1, kid, PUB);
    keygen_result(L[2], "p2", r[2].f.session, 2, kid, pub2);
    async_join(&a);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "result_mismatch"));
    json_decref(a.out);
    /* same public key and chain code but another DKG transcript (a split view): refused */
    keygen_start(&a, "{\"threshold\":2,\"n\":3}", r);
    snprintf(kid, sizeof kid, "%s", jstr(r[1].json, "key_id"));
    keygen_result(L[1], "p1", r[1].f.session, 1, kid, PUB);
    transcript_byte = 0x5B;
    keygen_result(L[2], "p2", r[2].f.session, 2, kid, PUB);
    transcript_byte = 0x5A;
    async_join(&a);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "result_mismatch"));
    json_decref(a.out);
    /* the hub picks n = 3 online parties; with ?wait the answer is the active key (201) */
    keygen_start(&a, "{\"threshold\":2,\"n\":3,\"label\":\"second\"}", r);
    snprintf(kid, sizeof kid, "%s", jstr(r[1].json, "key_id"));
    for (int i = 1; i <= 3; i++) {
        char name[4];
        snprintf(name, sizeof name, "p%d", i);
        keygen_result(L[i], name, r[i].f.session, (unsigned)i, kid, pub2);
    }
    async_join(&a);
    assert_int_equal(a.status, 201);
    assert_string_equal(jstr(a.out, "status"), "active");
    assert_string_equal(jstr(a.out, "label"), "second");
    assert_string_equal(jstr(a.out, "ethereum_address"), SECRET2_ADDR);
    json_decref(a.out);
    for (int i = 1; i <= 3; i++) {
        recv_type(L[i], &r[i], API_FRAME_ACTIVATE);
        check_activate(r[i].json, kid, 3, pub2);
        json_decref(r[i].json);
    }
    /* signing with a failed key is refused */
    char sp[120];
    snprintf(sp, sizeof sp, "/v1/keys/%s/sign", failed);
    expect_error("POST", sp, "{\"hash\":" H64 "}", 409, "key_not_active");
    /* duplicate or trivially known keys: the key of an earlier keygen, 1*G, 40000*G and
     * -5*G are refused (duplicate_key), the session fails and says why in its events */
    static const char *const known[] = {
        NULL, "0000000000000000000000000000000000000000000000000000000000000001",
        "0000000000000000000000000000000000000000000000000000000000009c40",
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd036413c"};
    for (int i = 1; i <= 3; i++)
        r[i].json = NULL; /* released above */
    for (size_t c = 0; c < sizeof known / sizeof known[0]; c++) {
        uint8_t pk[33];
        if (known[c])
            pub_of(pk, known[c]);
        else
            memcpy(pk, PUB, 33);
        keygen_start(&a, "{\"threshold\":2,\"n\":3}", r);
        snprintf(kid, sizeof kid, "%s", jstr(r[1].json, "key_id"));
        for (int i = 1; i <= 3; i++) {
            char name[4];
            snprintf(name, sizeof name, "p%d", i);
            keygen_result(L[i], name, r[i].f.session, (unsigned)i, kid, pk);
        }
        async_join(&a);
        if (a.status != 502)
            fail_msg("known key %zu: status %d", c, a.status);
        assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "duplicate_key"));
        json_decref(a.out);
        char sid[33], path_s[80];
        api_hex_encode(sid, r[1].f.session, 16);
        snprintf(path_s, sizeof path_s, "/v1/sessions/%s", sid);
        assert_int_equal(api("GET", path_s, NULL, &o), 200);
        assert_string_equal(jstr(json_object_get(o, "error"), "code"), "duplicate_key");
        json_t *ev;
        size_t k;
        int seen = 0;
        json_array_foreach(json_object_get(o, "events"), k, ev)
        {
            seen |= strcmp(jstr(ev, "event"), "duplicate_key") == 0;
        }
        assert_true(seen);
        json_decref(o);
        snprintf(path_s, sizeof path_s, "/v1/keys/%s", kid);
        assert_int_equal(api("GET", path_s, NULL, &o), 200);
        assert_string_equal(jstr(o, "status"), "failed");
        json_decref(o);
        for (int i = 1; i <= 3; i++) { /* the signers are told to drop it */
            recv_type(L[i], &r[i], API_FRAME_ABORT);
            json_decref(r[i].json);
            r[i].json = NULL;
        }
    }
}

/* Store failure injection: the test adds a trigger to the hub's own database (from its
 * own connection; the hub re-prepares on the schema change) that refuses one write. */
static void hub_db_exec(const char *sql)
{
    char path[300];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/hub.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
    sqlite3_close(db);
}

/* A parked request whose session's outcome could not be written: 500 internal naming
 * the session, never an answer built from what the database does not hold. */
static void expect_store_error(async_req *a, const char *sid)
{
    if (a->status != 500)
        dump_log = 1;
    if (a->status != 500)
        fail_msg("expected 500, got %d", a->status);
    assert_string_equal(jstr(json_object_get(a->out, "error"), "code"), "internal");
    assert_string_equal(jstr(a->out, "session_id"), sid);
    json_decref(a->out);
    a->out = NULL;
}

/* Key epochs (issue 17, daemon/hubd/reshare.c): keygen results that carry the key's public
 * data ("key": DKG sid, epoch, every P(j)) give the key an epoch record (GET shows epoch 0,
 * reshareable); results that disagree on it fail the keygen (bad_result); results without
 * it (older signers) still activate the key, which is then not reshareable. */
static void test_key_epochs(void **state)
{
    (void)state;
    rx r[4];
    memset(r, 0, sizeof r);
    async_req a;
    api_key_public kp, other;
    memset(&kp, 0, sizeof kp);
    memset(kp.key_sid, 0x5d, 32);
    kp.count = 3;
    for (int j = 0; j < 3; j++) {
        char sk[65];
        snprintf(sk, sizeof sk, "%064x", 0x1234 + j);
        pub_of(kp.public_shares[j], sk);
    }
    other = kp;
    other.key_sid[0] ^= 1;
    static const char *const sks[3] = {
        "2222222222222222222222222222222222222222222222222222222222222222",
        "3333333333333333333333333333333333333333333333333333333333333333",
        "4444444444444444444444444444444444444444444444444444444444444444"};
    for (int c = 0; c < 3; c++) {
        uint8_t pk[33];
        char kid[33];
        pub_of(pk, sks[c]);
        keygen_start(&a, "{\"threshold\":2,\"n\":3}", r);
        snprintf(kid, sizeof kid, "%s", jstr(r[1].json, "key_id"));
        for (int i = 1; i <= 3; i++) {
            char name[4];
            snprintf(name, sizeof name, "p%d", i);
            key_block = c == 2 ? NULL : (c == 1 && i == 3) ? &other : &kp;
            keygen_result(L[i], name, r[i].f.session, (unsigned)i, kid, pk);
        }
        key_block = NULL;
        async_join(&a);
        char path[80];
        snprintf(path, sizeof path, "/v1/keys/%s", kid);
        json_t *o = NULL;
        if (c == 1) {
            assert_int_equal(a.status, 502);
            assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "bad_result"));
            json_decref(a.out);
            assert_int_equal(api("GET", path, NULL, &o), 200);
            assert_string_equal(jstr(o, "status"), "failed");
            json_decref(o);
            continue; /* the aborts the hub sent are skipped by the next recv_type */
        }
        assert_int_equal(a.status, 201);
        json_decref(a.out);
        for (int i = 1; i <= 3; i++)
            recv_type(L[i], &r[i], API_FRAME_ACTIVATE);
        assert_int_equal(api("GET", path, NULL, &o), 200);
        assert_string_equal(jstr(o, "status"), "active");
        assert_int_equal(json_integer_value(json_object_get(o, "epoch")), 0);
        assert_true(json_is_boolean(json_object_get(o, "reshareable")));
        assert_int_equal(json_is_true(json_object_get(o, "reshareable")), c == 0);
        json_decref(o);
    }
    for (int i = 1; i <= 3; i++) {
        json_decref(r[i].json);
        r[i].json = NULL;
    }
}

/* --- key import (issue 17, IMPORT_CONTRACT part 2): POST /v1/keys/import --- */

#define IMP_CC "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a"
#define IMP_X1 "0000000000000000000000000000000000000000000000000000000000000001"

static char *hex_of(const uint8_t *b, size_t n)
{
    static char buf[4][67];
    static int k;
    k = (k + 1) % 4;
    api_hex_encode(buf[k], b, n);
    return buf[k];
}

/* A dealer descriptor as the staging command prints it. */
static void descriptor(char *out, size_t cap, const char *party, const char *source,
                       const uint8_t pk[33], unsigned t, unsigned n, const char *x,
                       const uint8_t share[33])
{
    snprintf(out, cap,
             "{\"party\":\"%s\",\"source\":\"%s\",\"public_key\":\"%s\",\"chain_code\":\"" IMP_CC
             "\",\"old_threshold\":%u,\"old_n\":%u,\"x\":\"%s\",\"public_share\":\"%s\"}",
             party, source, hex_of(pk, 33), t, n, x, hex_of(share, 33));
}

static size_t key_count(void)
{
    json_t *o = NULL;
    assert_int_equal(api("GET", "/v1/keys", NULL, &o), 200);
    size_t n = json_array_size(json_object_get(o, "keys"));
    json_decref(o);
    return n;
}

/* A new party's reshare result: keygen-shaped, attested with the v2 (epoch) message under
 * the party's certificate key (or another party's, when `signer` differs from name), with
 * the key block of the new epoch. */
static void reshare_result(hc_link *l, const char *name, const char *signer, const uint8_t sid[16],
                           unsigned index, const char *kid_hex, uint32_t epoch,
                           const uint8_t pk[33], const api_key_public *kp)
{
    api_keygen_result r = {0};
    uint8_t kid[16], msg[API_RESHARE_ATTEST_MSG_BYTES];
    (void)name;
    memcpy(r.public_key, pk, 33);
    assert_int_equal(api_hex_decode(r.chain_code, 32, IMP_CC, 64), API_OK);
    memset(r.transcript_hash, 0x6E, 32);
    assert_int_equal(api_hex_decode(kid, 16, kid_hex, 32), API_OK);
    api_reshare_attestation_message(msg, kid, epoch, &r);
    char path[300];
    snprintf(path, sizeof path, "%s/%s.key", dir, signer);
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = sizeof r.attestation;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, r.attestation, &len, msg, sizeof msg), 1);
    r.attestation_len = len;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    char *j = api_key_public_attach(api_keygen_result_encode(&r), kp);
    assert_non_null(j);
    send_json(l, API_FRAME_RESULT, sid, index, 0, j);
    free(j);
}

static void send_ack(hc_link *l, const uint8_t sid[16], unsigned index, const char *kid_hex,
                     const char *status)
{
    uint8_t kid[16];
    assert_int_equal(api_hex_decode(kid, 16, kid_hex, 32), API_OK);
    char *j = api_reshare_ack_encode(kid, 1, status);
    send_json(l, API_FRAME_RESULT, sid, index, 0, j);
    free(j);
}

/* Nothing arrives on l within ms (no retire after an import, no frame for a refused one). */
static void expect_silence(hc_link *l, int ms)
{
    uint8_t b[256];
    size_t n;
    int got = hc_link_recv(l, b, sizeof b, &n, ms);
    if (got != -1)
        fail_msg("expected no frame, got opcode %d (%zu bytes)", got, n);
}

/* One import session seen from the signers: committee L[1..3] (p1, p2, p3), `outside` the
 * dealer links outside it (participants 4, 5, ...). Checks each session-start against the
 * request (and, while the key is pending, that the same request is refused with 409), then
 * plays the signers: the outside dealers answer "dealt", the new parties send results — or
 * lie: (lie 1) p1's attestation is made with p2's key, (lie 2) p2's result names another
 * public key — then, unless the session failed, every new party receives activate for
 * epoch 1 and acknowledges it. */
static void play_import(async_req *a, hc_link **outside, size_t nout, const char *const *out_names,
                        const uint8_t pk[33], unsigned old_t, unsigned old_n, size_t ndealers,
                        int lie, char kid[33])
{
    rx r[8];
    memset(r, 0, sizeof r);
    hc_link *all[8] = {NULL, L[1], L[2], L[3]};
    for (size_t k = 0; k < nout; k++)
        all[4 + k] = outside[k];
    size_t npart = 3 + nout;
    for (size_t i = 1; i <= npart; i++) {
        recv_type(all[i], &r[i], API_FRAME_SESSION_START);
        json_t *st = r[i].json, *old = json_object_get(st, "old");
        assert_string_equal(jstr(st, "kind"), "reshare");
        assert_int_equal(json_integer_value(json_object_get(st, "epoch")), 1);
        assert_int_equal(json_integer_value(json_object_get(st, "index")), i);
        assert_int_equal(r[i].f.to, i);
        assert_int_equal(json_integer_value(json_object_get(st, "n")), 3);
        assert_int_equal(json_array_size(json_object_get(st, "parties")), 3);
        assert_string_equal(jstr(json_array_get(json_object_get(st, "parties"), 2), "id"), "p3");
        assert_string_equal(jstr(old, "key_sid"),
                            "0000000000000000000000000000000000000000000000000000000000000000");
        assert_int_equal(json_integer_value(json_object_get(old, "threshold")), old_t);
        assert_int_equal(json_integer_value(json_object_get(old, "n")), old_n);
        assert_string_equal(jstr(old, "public_key"), hex_of(pk, 33));
        assert_string_equal(jstr(old, "chain_code"), IMP_CC);
        assert_int_equal(json_array_size(json_object_get(st, "dealers")), ndealers);
        assert_memory_equal(r[i].f.session, r[1].f.session, 16);
        if (i == 1)
            snprintf(kid, 33, "%s", jstr(st, "key_id"));
        assert_string_equal(jstr(st, "key_id"), kid);
    }
    /* the outside dealers come last, in dealer order, with new_index 0 */
    json_t *dl = json_object_get(r[1].json, "dealers");
    for (size_t k = 0, seen = 0; k < json_array_size(dl); k++) {
        json_t *d = json_array_get(dl, k);
        if (json_integer_value(json_object_get(d, "new_index")) == 0)
            assert_string_equal(jstr(d, "id"), out_names[seen++]);
        assert_non_null(strstr(jstr(d, "cert"), "BEGIN CERTIFICATE"));
    }
    /* while it runs the key is pending, imported, with its public key */
    char path[80];
    json_t *o = NULL;
    snprintf(path, sizeof path, "/v1/keys/%s", kid);
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "pending");
    assert_true(json_is_true(json_object_get(o, "imported")));
    assert_string_equal(jstr(o, "public_key"), hex_of(pk, 33));
    json_decref(o);
    expect_error("POST", "/v1/keys/import", a->body, 409, "key_exists"); /* pending counts */
    api_key_public kp;
    memset(&kp, 0, sizeof kp);
    memset(kp.key_sid, 0x4b, 32); /* the reshare sid: an imported key's DKG sid */
    kp.epoch = 1;
    kp.count = 3;
    for (int j = 0; j < 3; j++) {
        char sk[65];
        snprintf(sk, sizeof sk, "%064x", 0x777 + j);
        pub_of(kp.public_shares[j], sk);
    }
    for (size_t k = 0; k < nout; k++)
        send_ack(outside[k], r[4 + k].f.session, (unsigned)(4 + k), kid, "dealt");
    uint8_t other[33];
    pub_of(other, "0000000000000000000000000000000000000000000000000000000000abcdef");
    for (unsigned i = 1; i <= 3; i++) {
        char name[4];
        snprintf(name, sizeof name, "p%u", i);
        reshare_result(L[i], name, i == 1 && lie == 1 ? "p2" : name, r[i].f.session, i, kid, 1,
                       i == 2 && lie == 2 ? other : pk, &kp);
    }
    if (lie) {
        for (unsigned i = 1; i <= npart; i++)
            recv_type(all[i], &r[i], API_FRAME_ABORT);
    } else {
        for (unsigned i = 1; i <= 3; i++) {
            recv_type(L[i], &r[i], API_FRAME_ACTIVATE);
            assert_int_equal(json_integer_value(json_object_get(r[i].json, "epoch")), 1);
            assert_string_equal(jstr(r[i].json, "key_id"), kid);
            assert_int_equal(json_array_size(json_object_get(r[i].json, "attestations")), 3);
        }
        for (unsigned i = 1; i <= 3; i++)
            send_ack(L[i], r[i].f.session, i, kid, "active");
    }
    async_join(a);
    for (size_t i = 1; i <= npart; i++) {
        json_decref(r[i].json);
        r[i].json = NULL;
    }
}

static void import_start(async_req *a, const char *body)
{
    memset(a, 0, sizeof *a);
    a->method = "POST";
    snprintf(a->path, sizeof a->path, "/v1/keys/import?wait=10");
    snprintf(a->body, sizeof a->body, "%s", body);
    async_start(a);
}

static void test_import(void **state)
{
    (void)state;
    char body[4096], d1[600], d2[600], kid[33], path[80];
    uint8_t pk[33], bad_pt[33], s2[33], s3[33];
    json_t *o = NULL;
    /* the imported key (any key nobody else has made here) and two tss-lib-like shares */
    pub_of(pk, "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100");
    pub_of(s2, "00000000000000000000000000000000000000000000000000000000000c0ffe");
    pub_of(s3, "0000000000000000000000000000000000000000000000000000000000c0ffee");
    /* 02 || x where x is no point's x-coordinate: right encoding, not on the curve */
    bad_pt[0] = 0x02;
    memset(bad_pt + 1, 0, 32);
    for (uint8_t x = 5;; x++) {
        secp256k1_pubkey p;
        bad_pt[32] = x;
        if (!secp256k1_ec_pubkey_parse(tss_secp_ctx(), &p, bad_pt, 33))
            break;
    }
    hc_link *l4 = party("p4"), *l5 = party("p5");
    assert_non_null(l4);
    assert_non_null(l5);
    wait_online("p4", 1);
    wait_online("p5", 1);
    size_t before = key_count();
    /* --- refused requests: 400 for the body, 422 unknown / offline parties, 409 for a
     * wallet the hub has, 405 for GET; none creates a key or sends a frame --- */
    descriptor(d1, sizeof d1, "p4", "key", pk, 1, 1, IMP_X1, pk);
#define IMPORT(fmt, ...) snprintf(body, sizeof body, fmt, __VA_ARGS__)
    static const struct {
        const char *head; /* then nd copies of the descriptor, then tail */
        int nd;
        const char *tail;
        int status;
        const char *code, *says;
    } refused[] = {
        {"{\"threshold\":2,\"parties\":[\"p1\",\"p2\"],\"dealers\":[", 1, "],\"label\":\"x\"}", 400,
         "bad_field", "unknown field 'label'"},
        {"{\"threshold\":3,\"parties\":[\"p1\",\"p2\"],\"dealers\":[", 1, "]}", 400, "bad_field",
         "'threshold'"},
        {"{\"threshold\":2,\"parties\":[\"p1\",\"p1\"],\"dealers\":[", 1, "]}", 400, "bad_field",
         "'parties'"},
        {"{\"threshold\":2,\"parties\":[\"p1\",\"p2\"],\"dealers\":[", 2, "]}", 400, "bad_field",
         "dealers[1]"},
        {"{\"threshold\":2,\"parties\":[\"p1\",\"p2\"]", 0, "}", 400, "missing_field", "'dealers'"},
        {"{\"threshold\":2,\"parties\":[\"p1\",\"nobody\"],\"dealers\":[", 1, "]}", 422,
         "unknown_party", "'nobody'"},
        {"{\"threshold\":2,\"parties\":[\"p1\",\"p2\"],\"dealers\":[", 1,
         "],\"external_id\":\"a b\"}", 400, "bad_field", "'external_id'"},
    };
    for (size_t c = 0; c < sizeof refused / sizeof refused[0]; c++) {
        snprintf(body, sizeof body, "%s%s%s%s%s", refused[c].head, refused[c].nd ? d1 : "",
                 refused[c].nd == 2 ? "," : "", refused[c].nd == 2 ? d1 : "", refused[c].tail);
        o = NULL;
        int st = api("POST", "/v1/keys/import", body, &o);
        const char *msg = jstr(json_object_get(o, "error"), "message");
        if (st != refused[c].status ||
            strcmp(jstr(json_object_get(o, "error"), "code"), refused[c].code) != 0 ||
            !strstr(msg, refused[c].says))
            fail_msg("refused[%zu]: %d %s \"%s\"", c, st, jstr(json_object_get(o, "error"), "code"),
                     msg);
        json_decref(o);
    }
    /* dealer descriptors that do not hold together, each one change */
    char bad[6][600];
    descriptor(bad[0], 600, "p4", "key", pk, 1, 1, IMP_X1, s2); /* share != key */
    descriptor(bad[1], 600, "p4", "key", bad_pt, 1, 1, IMP_X1, bad_pt);
    descriptor(bad[2], 600, "p4", "key", pk, 1, 1,
               "0000000000000000000000000000000000000000000000000000000000000000", pk);
    descriptor(bad[3], 600, "p4", "tss-lib", pk, 2, 3, IMP_X1, s2); /* 1 dealer of 2..3 */
    descriptor(bad[4], 600, "nobody", "key", pk, 1, 1, IMP_X1, pk);
    descriptor(bad[5], 600, "p4", "xprv", pk, 1, 1, IMP_X1, pk);
    static const struct {
        int status;
        const char *code, *says;
    } why[6] = {{400, "bad_field", "public_share"}, {400, "bad_field", "not a point"},
                {400, "bad_field", "'x'"},          {400, "bad_field", "old_threshold..old_n"},
                {422, "unknown_party", "'nobody'"}, {400, "bad_field", "'source'"}};
    for (int c = 0; c < 6; c++) {
        IMPORT("{\"threshold\":2,\"parties\":[\"p1\",\"p2\",\"p3\"],\"dealers\":[%s]}", bad[c]);
        o = NULL;
        int st = api("POST", "/v1/keys/import", body, &o);
        const char *msg = jstr(json_object_get(o, "error"), "message");
        if (st != why[c].status || strcmp(jstr(json_object_get(o, "error"), "code"), why[c].code) ||
            !strstr(msg, why[c].says))
            fail_msg("bad descriptor %d: %d %s \"%s\"", c, st,
                     jstr(json_object_get(o, "error"), "code"), msg);
        json_decref(o);
    }
    expect_error("POST", "/v1/keys/import", "{\"threshold\":2,", 400, "bad_json");
    expect_error("GET", "/v1/keys/import", NULL, 405, "method_not_allowed");
    /* a wallet the hub already has (the active key of test_keygen_routing) */
    descriptor(d2, sizeof d2, "p4", "key", PUB, 1, 1, IMP_X1, PUB);
    IMPORT("{\"threshold\":2,\"parties\":[\"p1\",\"p2\",\"p3\"],\"dealers\":[%s]}", d2);
    expect_error("POST", "/v1/keys/import", body, 409, "key_exists");
    /* offline: a new party, then a dealer (p5 is known: it said hello above) */
    hc_link_close(l5);
    wait_online("p5", 0);
    IMPORT("{\"threshold\":2,\"parties\":[\"p1\",\"p5\"],\"dealers\":[%s]}", d1);
    expect_error("POST", "/v1/keys/import", body, 422, "parties_offline");
    descriptor(d2, sizeof d2, "p5", "key", pk, 1, 1, IMP_X1, pk);
    IMPORT("{\"threshold\":2,\"parties\":[\"p1\",\"p2\"],\"dealers\":[%s]}", d2);
    expect_error("POST", "/v1/keys/import", body, 422, "parties_offline");
    assert_int_equal(key_count(), before); /* nothing was created */
    for (int i = 1; i <= 3; i++)
        expect_silence(L[i], 100);
    expect_silence(l4, 100);
    l5 = party("p5");
    wait_online("p5", 1);

    /* --- a private key imported by dealer p4 (outside the committee) into p1, p2, p3 --- */
    async_req a;
    IMPORT("{\"threshold\":2,\"parties\":[\"p1\",\"p2\",\"p3\"],\"dealers\":[%s],"
           "\"external_id\":\"imported-1\"}",
           d1);
    import_start(&a, body);
    static const char *const p4only[] = {"p4"};
    play_import(&a, &l4, 1, p4only, pk, 1, 1, 1, 0, kid);
    if (a.status != 201)
        fail_msg("import: %d %s", a.status, jstr(json_object_get(a.out, "error"), "message"));
    char *shown = json_dumps(a.out, JSON_COMPACT | JSON_SORT_KEYS);
    fprintf(stderr, "  import answer (201): %s\n", shown);
    free(shown);
    assert_string_equal(jstr(a.out, "key_id"), kid);
    assert_string_equal(jstr(a.out, "id"), kid);
    assert_int_equal(strlen(jstr(a.out, "session_id")), 32);
    assert_string_equal(jstr(a.out, "status"), "active");
    assert_true(json_is_true(json_object_get(a.out, "imported")));
    assert_string_equal(jstr(a.out, "import_source"), "key");
    assert_int_equal(json_integer_value(json_object_get(a.out, "epoch")), 1);
    assert_true(json_is_true(json_object_get(a.out, "reshareable")));
    assert_string_equal(jstr(a.out, "public_key"), hex_of(pk, 33));
    assert_string_equal(jstr(a.out, "chain_code"), IMP_CC);
    assert_int_equal(strlen(jstr(a.out, "ethereum_address")), 42);
    assert_int_equal(json_integer_value(json_object_get(a.out, "threshold")), 2);
    assert_int_equal(json_integer_value(json_object_get(a.out, "n")), 3);
    assert_int_equal(json_array_size(json_object_get(a.out, "parties")), 3);
    assert_int_equal(json_array_size(json_object_get(a.out, "attestations")), 3);
    assert_string_equal(jstr(a.out, "external_id"), "imported-1");
    json_decref(a.out);
    /* no retire (there is no old epoch), to anyone */
    for (int i = 1; i <= 3; i++)
        expect_silence(L[i], 100);
    expect_silence(l4, 100);
    snprintf(path, sizeof path, "/v1/keys/%s", kid);
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "active");
    assert_string_equal(jstr(o, "import_source"), "key");
    int events = 0;
    json_t *ev;
    size_t k;
    json_array_foreach(json_object_get(o, "events"), k, ev)
    {
        events |= strcmp(jstr(ev, "event"), "imported") == 0 ? 1 : 0;
        events |= strcmp(jstr(ev, "event"), "epoch_active") == 0 ? 2 : 0;
    }
    assert_int_equal(events, 3);
    json_decref(o);
    snprintf(path, sizeof path, "/v1/keys/%s", key_id); /* a keygen's key: not imported */
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_true(json_is_false(json_object_get(o, "imported")));
    assert_null(json_object_get(o, "import_source"));
    json_decref(o);
    /* the same wallet again: 409, nothing created */
    IMPORT("{\"threshold\":2,\"parties\":[\"p1\",\"p2\",\"p3\"],\"dealers\":[%s]}", d1);
    expect_error("POST", "/v1/keys/import", body, 409, "key_exists");
    assert_int_equal(key_count(), before + 1);

    /* --- a tss-lib migration (old 2 of 3: p1 inside the committee, p5 outside) that fails
     * on a bad attestation: the key is failed, and the wallet can be imported again --- */
    uint8_t pk2[33], sh[2][33];
    static const char a0[] = "2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110";
    pub_of(pk2, a0);
    for (int i = 0; i < 2; i++) { /* shares f(x) = a0 + a1 * x at x = 0xa1, 0xa2 */
        uint8_t f[32], x[32] = {0}, c0[32];
        char fh[65];
        api_hex_decode(f, 32, "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
                       64);
        api_hex_decode(c0, 32, a0, 64);
        x[31] = (uint8_t)(0xa1 + i);
        assert_int_equal(secp256k1_ec_seckey_tweak_mul(tss_secp_ctx(), f, x), 1);
        assert_int_equal(secp256k1_ec_seckey_tweak_add(tss_secp_ctx(), f, c0), 1);
        api_hex_encode(fh, f, 32);
        pub_of(sh[i], fh);
    }
    /* shares of another polynomial (here: p5's share swapped for another point) are refused
     * before anything is stored */
    descriptor(d1, sizeof d1, "p1", "tss-lib", pk2, 2, 3,
               "00000000000000000000000000000000000000000000000000000000000000a1", sh[0]);
    descriptor(d2, sizeof d2, "p5", "tss-lib", pk2, 2, 3,
               "00000000000000000000000000000000000000000000000000000000000000a2", s3);
    IMPORT("{\"threshold\":3,\"parties\":[\"p1\",\"p2\",\"p3\"],\"dealers\":[%s,%s]}", d1, d2);
    expect_error("POST", "/v1/keys/import", body, 400, "bad_field");
    descriptor(d2, sizeof d2, "p5", "tss-lib", pk2, 2, 3, /* the right share at another x */
               "00000000000000000000000000000000000000000000000000000000000000a3", sh[1]);
    IMPORT("{\"threshold\":3,\"parties\":[\"p1\",\"p2\",\"p3\"],\"dealers\":[%s,%s]}", d1, d2);
    o = NULL;
    assert_int_equal(api("POST", "/v1/keys/import", body, &o), 400);
    assert_non_null(strstr(jstr(json_object_get(o, "error"), "message"), "do not interpolate"));
    json_decref(o);
    assert_int_equal(key_count(), before + 1);
    descriptor(d2, sizeof d2, "p5", "tss-lib", pk2, 2, 3,
               "00000000000000000000000000000000000000000000000000000000000000a2", sh[1]);
    IMPORT("{\"threshold\":3,\"parties\":[\"p1\",\"p2\",\"p3\"],\"dealers\":[%s,%s]}", d1, d2);
    static const char *const p5only[] = {"p5"};
    import_start(&a, body);
    play_import(&a, &l5, 1, p5only, pk2, 2, 3, 2, 1, kid);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "bad_attestation"));
    json_decref(a.out);
    snprintf(path, sizeof path, "/v1/keys/%s", kid);
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "failed");
    assert_true(json_is_true(json_object_get(o, "imported")));
    assert_int_equal(json_integer_value(json_object_get(o, "epoch")), 0); /* no epoch record */
    json_decref(o);
    /* p2's share is of another key: result_mismatch, key failed */
    import_start(&a, body);
    char kid2[33];
    play_import(&a, &l5, 1, p5only, pk2, 2, 3, 2, 2, kid2);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "result_mismatch"));
    json_decref(a.out);
    snprintf(path, sizeof path, "/v1/keys/%s", kid2);
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "failed");
    json_decref(o);
    import_start(&a, body);
    play_import(&a, &l5, 1, p5only, pk2, 2, 3, 2, 0, kid2);
    assert_int_equal(a.status, 201);
    assert_string_equal(jstr(a.out, "import_source"), "tss-lib");
    assert_int_equal(json_integer_value(json_object_get(a.out, "threshold")), 3);
    assert_true(strcmp(kid2, kid) != 0);
    json_decref(a.out);
    expect_silence(l5, 100);
    assert_int_equal(key_count(), before + 4);
    hc_link_close(l4);
    hc_link_close(l5);
#undef IMPORT
}

static void test_store_failure(void **state)
{
    (void)state;
    async_req a;
    rx r[4];
    memset(r, 0, sizeof r);
    uint8_t pub3[33];
    pub_of(pub3, "1111111111111111111111111111111111111111111111111111111111111111");
    /* 1: the key cannot be made active (the keys row refuses status 'active'), and
     * 2: the key is made active but the session cannot be marked done — in one
     * transaction, so the key is not active either. Both: 500 internal to the waiter, the
     * key failed, the signers get an abort and no activate. */
    static const char *const trig[] = {
        "CREATE TRIGGER t_inject BEFORE UPDATE OF status ON keys WHEN NEW.status='active'"
        " BEGIN SELECT RAISE(ABORT, 'injected store failure'); END;",
        "CREATE TRIGGER t_inject BEFORE UPDATE OF status ON sessions WHEN NEW.status='done'"
        " BEGIN SELECT RAISE(ABORT, 'injected store failure'); END;"};
    for (size_t c = 0; c < 2; c++) {
        char kid[33], sid[33], path[80];
        hub_db_exec(trig[c]);
        keygen_start(&a, "{\"threshold\":2,\"n\":3}", r);
        snprintf(kid, sizeof kid, "%s", jstr(r[1].json, "key_id"));
        api_hex_encode(sid, r[1].f.session, 16);
        for (int i = 1; i <= 3; i++) {
            char name[4];
            snprintf(name, sizeof name, "p%d", i);
            keygen_result(L[i], name, r[i].f.session, (unsigned)i, kid, pub3);
            json_decref(r[i].json);
            r[i].json = NULL;
        }
        async_join(&a);
        expect_store_error(&a, sid);
        hub_db_exec("DROP TRIGGER t_inject;");
        for (int i = 1; i <= 3; i++) {
            /* recv_type skips activations unless asked for one: read the raw next frame */
            int got = hc_link_recv_frame(L[i], &r[i].f, r[i].buf, sizeof r[i].buf, 5000);
            assert_int_equal(got, 0);
            if (r[i].f.type != API_FRAME_ABORT)
                fail_msg("case %zu: p%d got %s, not abort", c, i, api_frame_type_name(r[i].f.type));
        }
        snprintf(path, sizeof path, "/v1/keys/%s", kid);
        json_t *o = NULL;
        assert_int_equal(api("GET", path, NULL, &o), 200);
        assert_string_equal(jstr(o, "status"), "failed");
        assert_true(json_is_null(json_object_get(o, "public_key")));
        assert_int_equal(json_array_size(json_object_get(o, "attestations")), 0);
        json_decref(o);
        snprintf(path, sizeof path, "/v1/sessions/%s", sid);
        assert_int_equal(api("GET", path, NULL, &o), 200);
        assert_string_equal(jstr(o, "status"), "failed");
        assert_string_equal(jstr(json_object_get(o, "error"), "code"), "internal");
        json_decref(o);
    }
    /* 3: a verified signature whose session cannot be marked done is not released */
    hub_db_exec(trig[1]);
    hc_link *s12[2] = {L[1], L[2]};
    const unsigned i12[2] = {1, 2};
    int st;
    json_t *o = sign_once(",\"parties\":[\"p1\",\"p2\"]", s12, i12, 2, SECRET, 0, &st, NULL);
    hub_db_exec("DROP TRIGGER t_inject;");
    assert_int_equal(st, 500);
    assert_string_equal(jstr(json_object_get(o, "error"), "code"), "internal");
    assert_null(json_object_get(o, "r"));
    json_decref(o);
    /* and with the store healthy again, signing works */
    o = sign_once(",\"parties\":[\"p1\",\"p2\"]", s12, i12, 2, SECRET, 0, &st, NULL);
    assert_int_equal(st, 200);
    check_signature(o, SECRET);
    json_decref(o);
}

/* One party floods another's session with protocol frames (12 MiB in 512 KiB frames,
 * over the default per-session cap of 8 MiB per peer) on its own thread. */
typedef struct {
    hc_link *l;
    uint8_t sid[16];
    int sent, failed;
    pthread_t t;
} flood_req;

#define FLOOD_FRAME  (512u * 1024)
#define FLOOD_FRAMES 24

static void *flood_run(void *p)
{
    flood_req *fl = p;
    uint8_t *junk = malloc(FLOOD_FRAME);
    memset(junk, 0xA5, FLOOD_FRAME);
    api_frame f = {.type = API_FRAME_PROTOCOL,
                   .from = 1,
                   .to = 2,
                   .round = 1,
                   .payload = junk,
                   .payload_len = FLOOD_FRAME};
    memcpy(f.session, fl->sid, 16);
    for (int k = 0; k < FLOOD_FRAMES && !fl->failed; k++) {
        if (hc_link_send_frame(fl->l, &f) != 0)
            fl->failed = 1;
        else
            fl->sent++;
    }
    free(junk);
    return NULL;
}

static double healthz_ms(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(healthy());
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static unsigned long long metric(const char *name)
{
    char *raw = NULL;
    assert_int_equal(hc_request(ca, api_port, "GET", "/metrics", auth_hdr, NULL, NULL, &raw), 200);
    char *p = raw ? strstr(raw, name) : NULL;
    while (p && p > raw && p[-1] != '\n') /* the sample line, not the HELP/TYPE lines */
        p = strstr(p + 1, name);
    unsigned long long v = p ? strtoull(p + strlen(name), NULL, 10) : 0;
    free(raw);
    return v;
}

/* Backpressure: p1 floods p2 inside a sign session while p2 does not read. The hub stops
 * reading from p1 (the flooder) at the high-water mark instead of queueing without bound
 * or closing p2's link; /healthz keeps answering within 100 ms; once p2 reads, the session
 * fails at the per-session cap naming p1; both links stay up and sign again. */
static void test_flood(void **state)
{
    (void)state;
    /* p2 reconnects with a small fixed receive window, so that what it does not read
     * backs up in the hub (not in 30 MiB of autotuned loopback buffers). */
    hc_link_close(L[2]);
    hc_set_rcvbuf(64 * 1024);
    L[2] = party("p2");
    hc_set_rcvbuf(0);
    assert_non_null(L[2]);
    wait_online("p2", 1);
    unsigned long long throttled0 = metric("mpc_hub_links_throttled_total");
    async_req a = {.method = "POST"};
    snprintf(a.path, sizeof a.path, "/v1/keys/%s/sign?wait=10", key_id);
    snprintf(a.body, sizeof a.body, "{\"hash\":" H64 ",\"parties\":[\"p1\",\"p2\"]}");
    async_start(&a);
    rx r1 = {0};
    recv_type(L[1], &r1, API_FRAME_SESSION_START);
    json_decref(r1.json);
    flood_req fl = {.l = L[1]};
    memcpy(fl.sid, r1.f.session, 16);
    assert_int_equal(pthread_create(&fl.t, NULL, flood_run, &fl), 0);
    /* p2 reads nothing for a second; the hub answers health checks meanwhile */
    double worst = 0;
    for (int k = 0; k < 10; k++) {
        double ms = healthz_ms();
        worst = ms > worst ? ms : worst;
        usleep(100 * 1000);
    }
    unsigned long long throttled = metric("mpc_hub_links_throttled_total") - throttled0;
    fprintf(stderr,
            "  flood: %d of %d frames written by p1 while p2 did not read; throttled %llu"
            " time(s); slowest /healthz %.1f ms\n",
            fl.sent, FLOOD_FRAMES, throttled, worst);
    if (worst >= 100)
        dump_log = 1;
    assert_true(worst < 100);
    assert_true(throttled >= 1);
    wait_online("p2", 1);
    wait_online("p1", 1);
    /* p2 reads: at most the cap of protocol bytes, then the session's abort */
    static uint8_t big[API_FRAME_MAX_PAYLOAD + 64];
    api_frame f;
    size_t bytes = 0;
    for (;;) {
        int got = hc_link_recv_frame(L[2], &f, big, sizeof big, 5000);
        if (got != 0)
            dump_log = 1;
        assert_int_equal(got, 0);
        if (f.type == API_FRAME_PROTOCOL)
            bytes += f.payload_len;
        else if (f.type == API_FRAME_ABORT)
            break;
        else if (f.type != API_FRAME_SESSION_START && f.type != API_FRAME_ACTIVATE)
            fail_msg("p2 got a %s frame", api_frame_type_name(f.type));
    }
    assert_non_null(memmem(f.payload, f.payload_len, "flood", 5));
    fprintf(stderr, "  flood: p2 received %zu bytes before the abort\n", bytes);
    assert_true(bytes <= 8u << 20);
    pthread_join(fl.t, NULL);
    assert_int_equal(fl.failed, 0); /* p1 was throttled, never cut off */
    async_join(&a);
    assert_int_equal(a.status, 502);
    const char *msg = jstr(json_object_get(a.out, "error"), "message");
    assert_non_null(strstr(msg, "flood"));
    assert_non_null(strstr(msg, "party 'p1'"));
    json_decref(a.out);
    /* p1 gets the abort too; both links still work */
    rx ab = {0};
    recv_type(L[1], &ab, API_FRAME_ABORT);
    json_decref(ab.json);
    assert_true(healthz_ms() < 100);
    hc_link *s12[2] = {L[1], L[2]};
    const unsigned i12[2] = {1, 2};
    int st;
    json_t *o = sign_once(",\"parties\":[\"p1\",\"p2\"]", s12, i12, 2, SECRET, 0, &st, NULL);
    assert_int_equal(st, 200);
    check_signature(o, SECRET);
    json_decref(o);
}

static void test_sign(void **state)
{
    (void)state;
    int st;
    hc_link *s13[2] = {L[1], L[3]};
    const unsigned i13[2] = {1, 3};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *o = sign_once(",\"parties\":[\"p1\",\"p3\"]", s13, i13, 2, SECRET, 0, &st, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(
        stderr,
        "  sign?wait round trip (TLS connect, session-start to 2 links, result, verify): %.2f ms\n",
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    assert_int_equal(st, 200);
    check_signature(o, SECRET);
    assert_string_equal(jstr(o, "key_id"), key_id);
    json_decref(o);
    /* BIP32: the hub derives m/0/7 publicly and verifies against the child key */
    uint8_t child[32];
    const uint32_t path[2] = {0, 7};
    derive_sk(child, path, 2);
    hc_link *s21[2] = {L[2], L[1]};
    const unsigned i21[2] = {2, 1};
    o = sign_once(",\"derivation_path\":\"m/0/7\",\"parties\":[\"p2\",\"p1\"]", s21, i21, 2, child,
                  0, &st, NULL);
    assert_int_equal(st, 200);
    check_signature(o, child);
    assert_string_equal(jstr(o, "derivation_path"), "m/0/7");
    json_decref(o);
    /* the parent key's signature does not verify under the child: refused */
    o = sign_once(",\"derivation_path\":\"m/0/7\",\"parties\":[\"p2\",\"p1\"]", s21, i21, 2, SECRET,
                  0, &st, NULL);
    assert_int_equal(st, 502);
    assert_string_equal(jstr(json_object_get(o, "error"), "code"), "session_failed");
    assert_non_null(strstr(jstr(json_object_get(o, "error"), "message"), "bad_signature"));
    json_decref(o);
    /* a corrupted signature is never released; the hub picks t online parties itself */
    hc_link *s12[2] = {L[1], L[2]};
    const unsigned i12[2] = {1, 2};
    o = sign_once("", s12, i12, 2, SECRET, 1, &st, NULL);
    assert_int_equal(st, 502);
    json_decref(o);
    /* validation against the key */
    char path_s[120];
    snprintf(path_s, sizeof path_s, "/v1/keys/%s/sign", key_id);
    expect_error("POST", path_s, "{\"hash\":\"0011\"}", 400, "bad_length");
    expect_error("POST", path_s,
                 "{\"hash\":\"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
                 400, "bad_hex");
    expect_error("POST", path_s, "{\"hash\":12}", 400, "bad_field");
    expect_error("POST", path_s, "{\"hash\":" H64 ",\"derivation_path\":\"m/0'\"}", 400,
                 "bad_derivation_path");
    expect_error("POST", path_s, "{\"hash\":" H64 ",\"parties\":[\"p1\",\"p9\"]}", 422,
                 "unknown_party");
    hc_link_close(L[3]);
    L[3] = NULL;
    wait_online("p3", 0);
    expect_error("POST", path_s, "{\"hash\":" H64 ",\"parties\":[\"p1\",\"p3\"]}", 422,
                 "parties_offline");
    hc_link_close(L[2]);
    L[2] = NULL;
    wait_online("p2", 0);
    expect_error("POST", path_s, "{\"hash\":" H64 "}", 422, "parties_offline");
    L[2] = party("p2");
    L[3] = party("p3");
    wait_online("p2", 1);
    wait_online("p3", 1);
}

static void test_abort_and_timeout(void **state)
{
    (void)state;
    char path[120];
    json_t *o = NULL;
    rx r = {0}, r2 = {0};
    snprintf(path, sizeof path, "/v1/keys/%s/sign", key_id);
    /* an abort from one signer fails the session and is forwarded to the other */
    assert_int_equal(api("POST", path, "{\"hash\":" H64 ",\"parties\":[\"p1\",\"p2\"]}", &o), 202);
    char sid_hex[33];
    snprintf(sid_hex, sizeof sid_hex, "%s", jstr(o, "id"));
    json_decref(o);
    recv_type(L[1], &r, API_FRAME_SESSION_START);
    recv_type(L[2], &r2, API_FRAME_SESSION_START);
    send_json(L[2], API_FRAME_ABORT, r2.f.session, 2, 0,
              "{\"reason\":\"vole check\",\"culprit\":1}");
    recv_type(L[1], &r, API_FRAME_ABORT);
    char sp[80];
    snprintf(sp, sizeof sp, "/v1/sessions/%s", sid_hex);
    assert_int_equal(api("GET", sp, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "failed");
    assert_string_equal(jstr(json_object_get(o, "error"), "code"), "aborted");
    json_decref(o);
    /* nobody answers: the session times out (4 s in the test config) */
    async_req a = {.method = "POST"};
    snprintf(a.path, sizeof a.path, "/v1/keys/%s/sign?wait=8s", key_id);
    snprintf(a.body, sizeof a.body, "{\"hash\":" H64 ",\"parties\":[\"p1\",\"p3\"]}");
    async_start(&a);
    recv_type(L[1], &r, API_FRAME_SESSION_START);
    recv_type(L[3], &r2, API_FRAME_SESSION_START);
    async_join(&a);
    assert_int_equal(a.status, 502);
    assert_non_null(strstr(jstr(json_object_get(a.out, "error"), "message"), "timeout"));
    json_decref(a.out);
    recv_type(L[1], &r, API_FRAME_ABORT); /* signers are told to drop the session */
    /* ?wait shorter than the session: 202 with the running session */
    snprintf(a.path, sizeof a.path, "/v1/keys/%s/sign?wait=1", key_id);
    async_start(&a);
    recv_type(L[1], &r, API_FRAME_SESSION_START);
    recv_type(L[3], &r2, API_FRAME_SESSION_START);
    async_join(&a);
    assert_int_equal(a.status, 202);
    assert_string_equal(jstr(a.out, "status"), "running");
    json_decref(a.out);
    recv_type(L[1], &r, API_FRAME_ABORT);
    recv_type(L[3], &r2, API_FRAME_ABORT);
    json_decref(r.json);
    json_decref(r2.json);
}

/* Junk from clients: random bytes and mangled requests on the API port, random and
 * truncated frames on the party link. The hub must answer or close, never fall over,
 * and nothing stored may change. */
static void test_garbage(void **state)
{
    (void)state;
    uint64_t x = 0x243f6a8885a308d3ull;
    uint8_t junk[3000];
    json_t *before = NULL, *after = NULL;
    assert_int_equal(api("GET", "/v1/keys", NULL, &before), 200);
    static const char *const mangled[] = {
        "GET /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n\r\n",
        "POST /v1/keys HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "POST /v1/keys HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET /%00/../../v1/keys HTTP/1.1\r\n\r\n",
        "GET /v1/keys?wait=%ff%fe HTTP/1.1\r\n\r\n",
        "BREW /pot HTTP/1.1\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "\r\n\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof mangled / sizeof mangled[0]; i++)
        hc_raw(ca, api_port, mangled[i], strlen(mangled[i]), 300);
    for (int i = 0; i < 40; i++) {
        size_t n = 1 + (size_t)(x % sizeof junk);
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            junk[k] = (uint8_t)x;
        }
        if (i % 2)
            memcpy(junk, "POST /v1/keys HTTP/1.1\r\n", 24 < n ? 24 : n);
        hc_raw(ca, api_port, junk, n, 200);
    }
    assert_true(healthy());
    hc_link *p = party("p1");
    assert_non_null(p);
    for (int i = 0; i < 40; i++) {
        size_t n = 1 + (size_t)(x % 200);
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            junk[k] = (uint8_t)x;
        }
        if (i % 2 && n >= 32) { /* a valid-looking header with a random body */
            junk[0] = 1, junk[1] = (uint8_t)(1 + i % 8), junk[2] = junk[3] = 0;
            uint32_t pl = (uint32_t)(n - 32);
            junk[28] = 0, junk[29] = 0, junk[30] = (uint8_t)(pl >> 8), junk[31] = (uint8_t)pl;
        }
        if (hc_link_send_raw(p, junk, n, 2) != 0) {
            hc_link_close(p);
            p = party("p1");
            assert_non_null(p);
        }
    }
    hc_link_close(p);
    assert_true(healthy());
    assert_int_equal(api("GET", "/v1/keys", NULL, &after), 200);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
}

#define MANY 120

static void test_many_sessions(void **state)
{
    (void)state;
    char path[120];
    snprintf(path, sizeof path, "/v1/keys/%s/sign", key_id);
    static char ids[MANY][33];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < MANY; i++) {
        json_t *o = NULL;
        assert_int_equal(api("POST", path, "{\"hash\":" H64 ",\"parties\":[\"p2\",\"p3\"]}", &o),
                         202);
        snprintf(ids[i], 33, "%s", jstr(o, "id"));
        json_decref(o);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    fprintf(stderr, "  %d sign requests (new TLS connection each): %.2f ms/request\n", MANY,
            ms / MANY);
    char *raw = NULL;
    hc_request(ca, api_port, "GET", "/metrics", auth_hdr, NULL, NULL, &raw);
    char want[64];
    snprintf(want, sizeof want, "mpc_hub_sessions_in_flight %d\n", MANY);
    assert_non_null(strstr(raw, want));
    free(raw);
    /* p2 answers every session; p3 drains its session-starts */
    rx r = {0}, r3 = {0};
    uint8_t hash[32];
    api_hex_decode(hash, 32, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                   64);
    api_sign_result sig;
    ecdsa(&sig, SECRET, hash);
    char *j = api_sign_result_encode(&sig);
    for (int i = 0; i < MANY; i++) {
        recv_type(L[2], &r, API_FRAME_SESSION_START);
        recv_type(L[3], &r3, API_FRAME_SESSION_START);
        send_json(L[2], API_FRAME_RESULT, r.f.session, 2, 0, j);
    }
    free(j);
    for (int i = 0; i < MANY; i += 17) {
        char sp[80];
        json_t *o = NULL;
        snprintf(sp, sizeof sp, "/v1/sessions/%.32s", ids[i]);
        for (int k = 0; k < 50; k++) {
            json_decref(o);
            api("GET", sp, NULL, &o);
            if (strcmp(jstr(o, "status"), "running") != 0)
                break;
            usleep(20000);
        }
        assert_string_equal(jstr(o, "status"), "done");
        json_decref(o);
    }
    json_decref(r.json);
    json_decref(r3.json);
}

static void test_restart(void **state)
{
    (void)state;
    json_t *o = NULL;
    /* SIGTERM: clean exit (status 0) within the deadline; every request parked on ?wait
     * gets a 503 JSON answer naming its session before the hub closes it — and one whose
     * session completes just as the signal arrives gets either its result or that 503,
     * never a dropped connection. */
#define NPARKED 8
    async_req parked[NPARKED];
    char sids[NPARKED][33];
    memset(parked, 0, sizeof parked);
    for (int k = 0; k < NPARKED; k++) {
        rx r1 = {0}, r2 = {0};
        parked[k].method = "POST";
        snprintf(parked[k].path, sizeof parked[k].path, "/v1/keys/%s/sign?wait=10", key_id);
        snprintf(parked[k].body, sizeof parked[k].body,
                 "{\"hash\":" H64 ",\"parties\":[\"p2\",\"p3\"]}");
        async_start(&parked[k]); /* (test_garbage replaced p1's link: L[1] is closed) */
        recv_type(L[2], &r1, API_FRAME_SESSION_START);
        recv_type(L[3], &r2, API_FRAME_SESSION_START);
        api_hex_encode(sids[k], r1.f.session, 16);
        if (k == NPARKED - 1) { /* the last one's signature arrives with the signal */
            uint8_t hash[32];
            api_sign_result sig;
            api_hex_decode(hash, 32, jstr(r1.json, "hash"), 64);
            ecdsa(&sig, SECRET, hash);
            char *j = api_sign_result_encode(&sig);
            send_json(L[2], API_FRAME_RESULT, r1.f.session, 2, 0, j);
            free(j);
        }
        json_decref(r1.json);
        json_decref(r2.json);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(stop_hub(SIGTERM), 0);
    int answered[NPARKED] = {0}, delivered = 0;
    for (int k = 0; k < NPARKED; k++) {
        async_join(&parked[k]);
        async_req *p = &parked[k];
        if (p->status != 503 && p->status != 200)
            fail_msg("parked request: %d %s", p->status,
                     p->out ? jstr(json_object_get(p->out, "error"), "message") : "(no answer)");
        const char *sid = jstr(p->out, "session_id");
        int which = -1;
        for (int m = 0; m < NPARKED; m++)
            if (strcmp(sids[m], sid) == 0)
                which = m;
        assert_true(which >= 0 && !answered[which]);
        answered[which] = 1;
        if (p->status == 200) { /* only the session that got its signature */
            assert_int_equal(which, NPARKED - 1);
            check_signature(p->out, SECRET);
            delivered = 1;
        } else {
            assert_string_equal(jstr(json_object_get(p->out, "error"), "code"), "busy");
        }
        json_decref(p->out);
    }
    fprintf(stderr, "  SIGTERM with %d parked requests: all answered (the racing one: %s)\n",
            NPARKED, delivered ? "its signature" : "503");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "  SIGTERM to exit: %.1f ms\n",
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    for (int i = 1; i <= 3; i++) {
        hc_link_close(L[i]);
        L[i] = NULL;
    }
    start_hub("");
    /* the key survived, still active, same address */
    char path[80];
    snprintf(path, sizeof path, "/v1/keys/%s", key_id);
    assert_int_equal(api("GET", path, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "active");
    assert_string_equal(jstr(o, "ethereum_address"), SECRET_ADDR);
    json_decref(o);
    /* a reconnecting signer is told again which of its keys are active (idempotent) */
    L[1] = party("p1");
    L[2] = party("p2");
    rx act = {0};
    recv_type(L[1], &act, API_FRAME_ACTIVATE);
    check_activate(act.json, key_id, 3, PUB);
    assert_int_equal(act.f.to, 1);
    recv_type(L[2], &act, API_FRAME_ACTIVATE);
    check_activate(act.json, key_id, 3, PUB);
    assert_int_equal(act.f.to, 2);
    json_decref(act.json);
    /* a session in flight when the hub dies is failed at the next start */
    wait_online("p1", 1);
    wait_online("p2", 1);
    snprintf(path, sizeof path, "/v1/keys/%s/sign", key_id);
    assert_int_equal(api("POST", path, "{\"hash\":" H64 ",\"parties\":[\"p1\",\"p2\"]}", &o), 202);
    char sp[80];
    snprintf(sp, sizeof sp, "/v1/sessions/%.32s", jstr(o, "id"));
    json_decref(o);
    assert_int_equal(stop_hub(SIGKILL), 128 + SIGKILL);
    hc_link_close(L[1]);
    hc_link_close(L[2]);
    L[1] = L[2] = NULL;
    start_hub("");
    assert_int_equal(api("GET", sp, NULL, &o), 200);
    assert_string_equal(jstr(o, "status"), "failed");
    assert_string_equal(jstr(json_object_get(o, "error"), "code"), "hub_restart");
    json_decref(o);
}

static void test_allow_list_and_rate(void **state)
{
    (void)state;
    assert_int_equal(stop_hub(SIGTERM), 0);
    start_hub("allow = 10.0.0.0/8, 192.168.1.1\n");
    json_t *o = NULL;
    assert_int_equal(api("GET", "/v1/keys", NULL, &o), 403);
    assert_string_equal(jstr(json_object_get(o, "error"), "code"), "forbidden");
    json_decref(o);
    assert_true(healthy()); /* liveness stays open */
    assert_int_equal(stop_hub(SIGTERM), 0);
    start_hub("allow = 10.0.0.0/8, 127.0.0.0/8\n");
    assert_int_equal(api("GET", "/v1/keys", NULL, NULL), 200);
    assert_int_equal(stop_hub(SIGTERM), 0);
    start_hub("rate_limit = 1\nrate_burst = 3\n");
    int statuses[5];
    for (int i = 0; i < 5; i++)
        statuses[i] = api("GET", "/v1/parties", NULL, NULL);
    assert_int_equal(statuses[0], 200);
    assert_int_equal(statuses[4], 429);
    /* [party] ping_interval / idle_timeout: a signer that stops answering is dropped */
    assert_int_equal(stop_hub(SIGTERM), 0);
    party_extra = "ping_interval = 1\nidle_timeout = 3\n";
    start_hub("");
    party_extra = "ping_interval = 0\n";
    hc_link *mute = party("p3");
    assert_non_null(mute);
    wait_online("p3", 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* it never reads, so never answers the hub's ping */
    for (int i = 0; i < 75 && party_online("p3"); i++)
        usleep(200000);
    assert_false(party_online("p3"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "  silent signer dropped after %.1f s (ping_interval 1, idle_timeout 3)\n", dt);
    hc_link_close(mute);
    /* [sessions] max_in_flight: the next session gets 503 busy */
    assert_int_equal(stop_hub(SIGTERM), 0);
    max_in_flight = 1;
    start_hub("");
    max_in_flight = 400;
    L[1] = party("p1");
    L[2] = party("p2");
    wait_online("p1", 1);
    wait_online("p2", 1);
    char sign_path[120];
    snprintf(sign_path, sizeof sign_path, "/v1/keys/%s/sign", key_id);
    assert_int_equal(api("POST", sign_path, "{\"hash\":" H64 "}", NULL), 202);
    expect_error("POST", sign_path, "{\"hash\":" H64 "}", 503, "busy");
    hc_link_close(L[1]);
    hc_link_close(L[2]);
    L[1] = L[2] = NULL;
    /* [api] client_ca: the REST API then also requires a certificate from that CA */
    assert_int_equal(stop_hub(SIGTERM), 0);
    char cert[300], key[300], line[400];
    snprintf(cert, sizeof cert, "%s/p2.pem", dir);
    snprintf(key, sizeof key, "%s/p2.key", dir);
    snprintf(line, sizeof line, "client_ca = %s\n", ca);
    hc_set_client_cert(cert, key);
    start_hub(line);
    assert_int_equal(api("GET", "/v1/keys", NULL, NULL), 200);
    hc_set_client_cert(NULL, NULL);
    int st = api("GET", "/v1/keys", NULL, NULL);
    assert_true(st == -1); /* TLS refused: no HTTP status at all */
    snprintf(cert, sizeof cert, "%s/rogue.pem", dir);
    snprintf(key, sizeof key, "%s/rogue.key", dir);
    hc_set_client_cert(cert, key);
    assert_int_equal(api("GET", "/v1/keys", NULL, NULL), -1);
    hc_set_client_cert(NULL, NULL);
    /* a bad config is refused at start */
    assert_int_equal(stop_hub(SIGTERM), 0);
    write_config("allow = 10.0.0.300/8\n");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "%s --config %s check-config 2>/dev/null", HUB_BIN, conf);
    assert_int_not_equal(system(cmd), 0);
    write_config("");
    snprintf(cmd, sizeof cmd, "%s --config %s check-config 2>/dev/null", HUB_BIN, conf);
    assert_int_equal(system(cmd), 0);
}

/* --- issue 18: hostile HTTP, deadlines, caps, rate buckets, TLS policy --- */

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Sends raw bytes over TLS and keeps what comes back until the hub closes (or timeout_ms
 * of silence); returns the milliseconds that took. */
static double raw_exchange(const char *req, int timeout_ms, char *out, size_t cap)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hc_raw_capture(ca, api_port, req, strlen(req), timeout_ms, out, cap);
    return ms_since(&t0);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* CONNECT and methods lws does not know: one JSON 405, then the connection closes (a
 * CONNECT used to get no answer and no timeout; TRACE got lws's HTML 403). */
static void test_http_methods(void **state)
{
    (void)state;
    static const char *const reqs[] = {
        "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\n\r\n",
        "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
        "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        char out[2048];
        double ms = raw_exchange(reqs[i], 3000, out, sizeof out);
        if (!strstr(out, "HTTP/1.1 405 ") || !strstr(out, "\"method_not_allowed\""))
            fail_msg("%.20s: got '%.200s'", reqs[i], out);
        assert_non_null(strstr(out, "application/json"));
        assert_true(ms < 2000); /* answered and closed, not held open */
    }
    /* h2c (and WebSocket) upgrades on the REST port: refused with JSON, never 101 */
    char out[2048];
    raw_exchange("GET /v1/keys HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                 "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
                 3000, out, sizeof out);
    assert_null(strstr(out, " 101 "));
    assert_non_null(strstr(out, " 400 "));
    assert_non_null(strstr(out, "\"bad_request\""));
    assert_true(healthy());
}

/* Request framing: Content-Length with Transfer-Encoding, chunked bodies and malformed
 * Content-Length are 400 bad_request and close the connection, so nothing after them is
 * ever read as another request. */
static void test_http_framing(void **state)
{
    (void)state;
    char out[4096], req[1024];
    /* CL + TE: the bytes after the first request must not become a second request */
    snprintf(req, sizeof req,
             "POST /v1/keys HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
             "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
             "GET /v1/keys HTTP/1.1\r\nHost: x\r\n%s\r\n",
             auth_hdr, auth_hdr);
    raw_exchange(req, 3000, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 400 "));
    assert_non_null(strstr(out, "\"bad_request\""));
    assert_int_equal(count_of(out, "HTTP/1.1 "), 1);
    static const char *const cls[] = {
        "00", "abc", "0x10", "+5", "5 5", "-1", "99999999999999999999"};
    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++) {
        snprintf(req, sizeof req,
                 "POST /v1/keys HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
                 "Content-Length: %s\r\n\r\n",
                 auth_hdr, cls[i]);
        raw_exchange(req, 3000, out, sizeof out);
        if (!strstr(out, "HTTP/1.1 400 ") || !strstr(out, "\"bad_request\""))
            fail_msg("Content-Length: %s: got '%.200s'", cls[i], out);
    }
    /* chunked alone */
    snprintf(req, sizeof req,
             "POST /v1/keys HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n",
             auth_hdr);
    raw_exchange(req, 3000, out, sizeof out);
    assert_non_null(strstr(out, "\"bad_request\""));
    /* ?wait with 37 digits: 400 bad_query, not "no wait" */
    expect_error("GET", "/v1/keys?wait=1234567890123456789012345678901234567", NULL, 400,
                 "bad_query");
    expect_error("GET", "/v1/keys?wait=1&wait=2", NULL, 400, "bad_query");
    /* labels: C1 controls, bidi overrides and isolates, zero-width characters */
    static const char *const labels[] = {"a\\u0085b", "a\\u009bb", "\\u202egnp.exe", "a\\u2066b",
                                         "a\\u200bb", "a\\ufeffb", "a\\u200fb"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"threshold\":2,\"n\":3,\"label\":\"%s\"}", labels[i]);
        expect_error("POST", "/v1/keys", body, 400, "bad_field");
    }
    /* a label with ordinary non-ASCII text is fine (fails later only for want of parties) */
    expect_error("POST", "/v1/keys", "{\"threshold\":2,\"n\":3,\"label\":\"K\\u00e4se \\u2013 1\"}",
                 422, "parties_offline");
    assert_true(healthy());
}

/* Requests that libwebsockets 4.1.6 answered itself before any callback (an HTML 403, or a
 * bare close) or accepted (bare LF): the hub's own request-head parser answers each with
 * JSON and a stable code, then closes the connection. */
static void expect_head_error(const char *req, const char *status, const char *code)
{
    char out[4096];
    double ms = raw_exchange(req, 3000, out, sizeof out);
    if (strncmp(out, status, strlen(status)) != 0 || !strstr(out, code) ||
        !strstr(out, "application/json"))
        fail_msg("%.40s: got '%.300s'", req, out);
    assert_int_equal(count_of(out, "HTTP/1.1 "), 1); /* nothing after it was served */
    assert_true(ms < 2000);                          /* answered and closed */
}

static void test_http_strict(void **state)
{
    (void)state;
    char req[1024];
    /* OPTIONS * and absolute-form: lws's HTML 403 */
    expect_head_error("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 ",
                      "\"method_not_allowed\"");
    snprintf(req, sizeof req, "GET https://x/v1/keys HTTP/1.1\r\nHost: x\r\n%s\r\n", auth_hdr);
    expect_head_error(req, "HTTP/1.1 400 ", "\"bad_request\"");
    /* %00 in the path or query: a bare close */
    snprintf(req, sizeof req, "GET /v1/keys%%00 HTTP/1.1\r\nHost: x\r\n%s\r\n", auth_hdr);
    expect_head_error(req, "HTTP/1.1 400 ", "\"bad_request\"");
    snprintf(req, sizeof req, "GET /v1/keys?wait=%%00 HTTP/1.1\r\nHost: x\r\n%s\r\n", auth_hdr);
    expect_head_error(req, "HTTP/1.1 400 ", "\"bad_request\"");
    /* a head over the documented limit (8 KiB): 431, not a bare close; one under it is
     * served */
    static char big[16384];
    snprintf(big, sizeof big, "GET /v1/parties HTTP/1.1\r\nHost: x\r\n%sX-Pad: ", auth_hdr);
    size_t n = strlen(big);
    memset(big + n, 'a', 10000);
    snprintf(big + n + 10000, sizeof big - n - 10000, "\r\n\r\n");
    expect_head_error(big, "HTTP/1.1 431 ", "\"request_header_fields_too_large\"");
    snprintf(big + n + 6000, sizeof big - n - 6000, "\r\nConnection: close\r\n\r\n");
    char out[4096];
    raw_exchange(big, 3000, out, sizeof out);
    if (strncmp(out, "HTTP/1.1 200 ", 13) != 0)
        fail_msg("a 6 KB header: got '%.200s'", out);
    /* bare LF line endings, anywhere: 400 (request smuggling behind a proxy) */
    expect_head_error("GET /healthz HTTP/1.1\nHost: x\n\n", "HTTP/1.1 400 ", "\"bad_request\"");
    expect_head_error("GET /healthz HTTP/1.1\r\nHost: x\n\r\n", "HTTP/1.1 400 ", "\"bad_request\"");
    snprintf(req, sizeof req,
             "GET /healthz HTTP/1.1\r\nHost: x\r\n\nGET /v1/keys HTTP/1.1\r\n%s\r\n", auth_hdr);
    expect_head_error(req, "HTTP/1.1 400 ", "\"bad_request\"");
    /* heads and bodies that arrive over several reads: split inside the request line, at a
     * CR/LF boundary and inside the empty line; then a bare LF in a later piece */
    char p1[400], body[64] = "{\"threshold\":2,\"n\":3}";
    snprintf(p1, sizeof p1, "POST /v1/k");
    snprintf(req, sizeof req,
             "eys HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r",
             auth_hdr, strlen(body));
    const char *const pieces[] = {p1, req, "\n\r", "\n{\"threshold\":", body + 13};
    hc_raw_pieces(ca, api_port, pieces, 5, 30, 3000, out, sizeof out);
    if (strncmp(out, "HTTP/1.1 422 ", 13) != 0 || !strstr(out, "\"parties_offline\""))
        fail_msg("a request in pieces: got '%.200s'", out);
    const char *const lf[] = {"GET /healthz HTTP/1.1\r\nHost: x\r", "\n", "X-A: 1\n\r\n"};
    hc_raw_pieces(ca, api_port, lf, 3, 30, 3000, out, sizeof out);
    assert_int_equal(strncmp(out, "HTTP/1.1 400 ", 13), 0);
    /* Expect: 100-continue: the body is invited once the head passed every check; a body
     * over the limit is refused at once (413, close), never invited */
    snprintf(req, sizeof req,
             "POST /v1/keys HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
             auth_hdr, strlen(body));
    const char *const ask[] = {req, body};
    hc_raw_pieces(ca, api_port, ask, 2, 300, 3000, out, sizeof out);
    if (strncmp(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 422 ", 38) != 0)
        fail_msg("Expect: 100-continue: got '%.200s'", out);
    snprintf(req, sizeof req,
             "POST /v1/keys HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
             "Content-Length: 300000\r\nExpect: 100-continue\r\n\r\n",
             auth_hdr);
    const char *const big_ask[] = {req};
    hc_raw_pieces(ca, api_port, big_ask, 1, 0, 3000, out, sizeof out);
    if (strncmp(out, "HTTP/1.1 413 ", 13) != 0 || !strstr(out, "connection: close"))
        fail_msg("Expect: 100-continue with a body over the limit: got '%.200s'", out);
    /* keep-alive still works: two requests on one connection, both answered */
    snprintf(req, sizeof req,
             "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/parties HTTP/1.1\r\nHost: x\r\n%s"
             "Connection: close\r\n\r\n",
             auth_hdr);
    raw_exchange(req, 3000, out, sizeof out);
    assert_int_equal(count_of(out, "HTTP/1.1 200 "), 2);
    assert_true(healthy());
}

/* Bodies whose last TLS record carries more than 8 KiB used to stall until lws's 5 s
 * timeout; the default limit is now 256 KiB. */
static void test_large_bodies(void **state)
{
    (void)state;
    static const size_t sizes[] = {9000, 12000, 16500, 33000, 65000, 70000, 200000, 262000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *body = malloc(sizes[i] + 1);
        const char *json = "{\"threshold\":2,\"n\":3}";
        memset(body, ' ', sizes[i]);
        memcpy(body, json, strlen(json));
        body[sizes[i]] = 0;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        json_t *o = NULL;
        int st = api("POST", "/v1/keys", body, &o);
        double ms = ms_since(&t0);
        if (st != 422)
            fail_msg("%zu-byte body: status %d after %.0f ms", sizes[i], st, ms);
        assert_string_equal(jstr(json_object_get(o, "error"), "code"), "parties_offline");
        assert_true(ms < 2000);
        json_decref(o);
        free(body);
    }
}

/* An explicit TLS policy on both ports: TLS 1.2 with ECDHE + AEAD suites, and TLS 1.3. */
static void test_tls_policy(void **state)
{
    (void)state;
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/p1.pem", dir);
    snprintf(key, sizeof key, "%s/p1.key", dir);
    const int ports[2] = {api_port, party_port};
    for (int i = 0; i < 2; i++) {
        const char *c = i ? cert : NULL, *k = i ? key : NULL;
        assert_int_equal(hc_tls_probe(ca, ports[i], TLS1_3_VERSION, TLS1_3_VERSION, NULL, c, k), 1);
        assert_int_equal(hc_tls_probe(ca, ports[i], TLS1_2_VERSION, TLS1_2_VERSION,
                                      "ECDHE-ECDSA-AES128-GCM-SHA256", c, k),
                         1);
        assert_int_equal(hc_tls_probe(ca, ports[i], TLS1_2_VERSION, TLS1_2_VERSION,
                                      "ECDHE-ECDSA-CHACHA20-POLY1305", c, k),
                         1);
        /* CBC with SHA-1 or SHA-384 MACs, plain RSA/ECDH key exchange: refused */
        static const char *const weak[] = {"ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
                                           "ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0",
                                           "ECDHE-ECDSA-AES128-SHA256:@SECLEVEL=0"};
        for (size_t w = 0; w < sizeof weak / sizeof weak[0]; w++)
            assert_int_equal(
                hc_tls_probe(ca, ports[i], TLS1_2_VERSION, TLS1_2_VERSION, weak[w], c, k), 0);
        assert_int_equal(
            hc_tls_probe(ca, ports[i], TLS1_VERSION, TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0", c, k),
            0);
    }
    /* check-config refuses a hub certificate that is not a TLS server's */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "sed 's#/server\\.pem#/p1.pem#; s#/server\\.key#/p1.key#' %s > %s/client-cert.conf && "
             "%s --config %s/client-cert.conf check-config 2>/dev/null",
             conf, dir, HUB_BIN, dir);
    assert_int_not_equal(system(cmd), 0);
}

/* Every connection state has a deadline: TLS handshake, headers, body, idle keep-alive. */
typedef struct {
    const char *req;
    char out[2048];
    double ms;
    pthread_t t;
} slow_req;

static void *slow_run(void *p)
{
    slow_req *q = p;
    q->ms = raw_exchange(q->req, 5000, q->out, sizeof q->out);
    return NULL;
}

static void test_deadlines(void **state)
{
    (void)state;
    stop_hub(SIGTERM); /* whatever an earlier test left running */
    /* lws's own per-read timeout during a body is header_timeout: longer than
     * body_timeout here, so the body deadline is what answers */
    start_hub("header_timeout = 2\nbody_timeout = 1\nidle_timeout = 1\n");
    char body_req[600];
    snprintf(body_req, sizeof body_req,
             "POST /v1/keys HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
             "Content-Length: 100\r\n\r\n{\"threshold\"",
             auth_hdr);
    /* all at once: headers that never end, a body that never completes, an idle
     * keep-alive connection */
    static slow_req q[3];
    q[0].req = "GET /v1/keys HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    q[1].req = body_req;
    q[2].req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&q[i].t, NULL, slow_run, &q[i]), 0);
    /* and TCP without a TLS handshake */
    int fd = hc_tcp_open(api_port);
    assert_true(fd >= 0);
    int ms = hc_wait_closed(fd, 5000);
    close(fd);
    for (int i = 0; i < 3; i++)
        pthread_join(q[i].t, NULL);
    fprintf(stderr,
            "  closed after: no TLS handshake %d ms, unfinished headers %.0f ms, unfinished body "
            "%.0f ms (408), idle keep-alive %.0f ms\n",
            ms, q[0].ms, q[1].ms, q[2].ms);
    assert_true(ms >= 0 && ms < 3500);
    assert_true(q[0].ms < 3500);
    assert_non_null(strstr(q[1].out, "HTTP/1.1 408 "));
    assert_non_null(strstr(q[1].out, "\"request_timeout\""));
    assert_true(q[1].ms < 3500);
    assert_non_null(strstr(q[2].out, "HTTP/1.1 200 "));
    assert_true(q[2].ms < 3500);
    assert_int_equal(stop_hub(SIGTERM), 0);
}

static int hold(int *fds, int n, const char *src)
{
    hc_set_source(src);
    int open_n = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = hc_tcp_open(api_port);
        open_n += fds[i] >= 0;
    }
    hc_set_source(NULL);
    return open_n;
}

static int still_open(int *fds, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0 && hc_wait_closed(fds[i], 50) < 0)
            k++;
    return k;
}

static void drop_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static long hub_log_size(void)
{
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "%s/hub.log", dir);
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Connections per address and in total are capped below the fd limit; refusals are
 * logged at a bounded rate. With a low fd limit, many idle connections used to exhaust
 * the fds: /healthz stopped and accept() spun writing a log line per attempt. */
static void test_connection_caps(void **state)
{
    (void)state;
    stop_hub(SIGTERM); /* whatever an earlier test left running */
    /* A process fd limit of 100: the total is clamped below it (to 50) */
    char path[300], cmd[800];
    snprintf(path, sizeof path, "%s/hub.log", dir);
    long log0 = hub_log_size();
    hub_nofile = 100;
    start_hub("");
    hub_nofile = 0;
    static int many[120];
    hold(many, 40, "127.0.0.2");
    hold(many + 40, 40, "127.0.0.3");
    hold(many + 80, 40, "127.0.0.4");
    usleep(500000);
    int held = still_open(many, 120);
    fprintf(stderr, "  fd limit 100: %d of 120 connections held\n", held);
    assert_true(held <= 50);
    hc_set_source("127.0.0.5");
    drop_all(many + 40, 40); /* room for one more address */
    usleep(200000);
    assert_true(healthy());
    hc_set_source(NULL);
    drop_all(many, 40);
    drop_all(many + 80, 40);
    usleep(200000);
    assert_true(healthy());
    long grown = hub_log_size() - log0;
    fprintf(stderr, "  hub.log grew by %ld bytes\n", grown);
    assert_true(grown < 64 * 1024);
    snprintf(cmd, sizeof cmd, "grep -q 'errno 24' %s", path);
    assert_int_not_equal(system(cmd), 0);
    assert_int_equal(stop_hub(SIGTERM), 0);
    /* An fd limit so low that the hub's own fds (about 16) and the clamped cap (13) do not
     * fit: accept(2) meets EMFILE. The hub drains the listeners instead of spinning. */
    hub_nofile = 26;
    start_hub("");
    hub_nofile = 0;
    log0 = hub_log_size();
    hold(many, 40, "127.0.0.2");
    usleep(300000);
    char statp[64], buf[1024];
    snprintf(statp, sizeof statp, "/proc/%d/stat", (int)hub_pid);
    long cpu[2];
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(statp, "r");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        unsigned long ut = 0, st = 0;
        char *p = strrchr(buf, ')');
        assert_non_null(p);
        assert_int_equal(
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
        cpu[k] = (long)(ut + st);
        if (k == 0)
            usleep(1000000);
    }
    fprintf(stderr, "  fd limit 26, 40 connections: hub used %ld clock ticks in 1 s\n",
            cpu[1] - cpu[0]);
    assert_true(cpu[1] - cpu[0] < 30); /* not spinning (a spinning loop uses ~100) */
    snprintf(cmd, sizeof cmd, "grep -q 'out of file descriptors' %s", path);
    assert_int_equal(system(cmd), 0); /* the EMFILE path was taken */
    drop_all(many, 40);
    usleep(200000);
    assert_true(healthy());
    assert_true(hub_log_size() - log0 < 16 * 1024);
    assert_int_equal(stop_hub(SIGTERM), 0);
    /* Per address and in total, with explicit caps */
    int a[40], b[40], c[40];
    long off = hub_log_size() + 1;
    start_hub("max_connections = 8\nmax_connections_per_address = 4\n");
    hold(a, 6, "127.0.0.2");
    usleep(300000);
    assert_int_equal(still_open(a, 6), 4); /* per address */
    hc_set_source("127.0.0.3");
    assert_true(healthy()); /* another address is unaffected */
    hc_set_source(NULL);
    hold(b, 6, "127.0.0.3");
    usleep(300000);
    assert_int_equal(still_open(b, 6), 4); /* 8 in total now */
    hold(c, 30, "127.0.0.4");
    usleep(300000);
    assert_int_equal(still_open(c, 30), 0); /* the total cap */
    snprintf(cmd, sizeof cmd, "test $(tail -c +%ld %s | grep -c 'connection refused') -le 12", off,
             path);
    assert_int_equal(system(cmd), 0); /* 34 refusals, at most 5 lines a second per kind */
    drop_all(a, 6);
    drop_all(b, 6);
    drop_all(c, 30);
    usleep(200000);
    assert_true(healthy());
    assert_int_equal(stop_hub(SIGTERM), 0);
}

/* The old rate table hashed addresses into 1024 buckets and reset a bucket whenever
 * another address took it: two colliding addresses alternating were never limited. */
static uint32_t old_bucket(const char *ip)
{
    uint8_t a[16] = {0};
    inet_pton(AF_INET, ip, a);
    uint32_t hv = 2166136261u;
    for (int i = 0; i < 16; i++)
        hv = (hv ^ a[i]) * 16777619u;
    return hv % 1024;
}

static int status_from(const char *src, const char *headers)
{
    hc_set_source(src);
    int st = hc_request(ca, api_port, "GET", "/v1/parties", headers, NULL, NULL, NULL);
    hc_set_source(NULL);
    return st;
}

static void test_rate_buckets(void **state)
{
    (void)state;
    stop_hub(SIGTERM); /* whatever an earlier test left running */
    char other[32] = "";
    uint32_t want = old_bucket("127.0.0.2");
    for (int x = 0; x < 256 && !other[0]; x++)
        for (int y = 1; y < 255 && !other[0]; y++) {
            char ip[32];
            snprintf(ip, sizeof ip, "127.0.%d.%d", x, y);
            if (strcmp(ip, "127.0.0.2") != 0 && old_bucket(ip) == want)
                snprintf(other, sizeof other, "%s", ip);
        }
    assert_true(other[0] != 0);
    start_hub("rate_limit = 1\nrate_burst = 3\n");
    int ok_a = 0, ok_b = 0;
    for (int i = 0; i < 8; i++) {
        ok_a += status_from("127.0.0.2", auth_hdr) == 200;
        ok_b += status_from(other, auth_hdr) == 200;
    }
    fprintf(stderr, "  alternating 127.0.0.2 and %s: %d and %d of 8 through\n", other, ok_a, ok_b);
    assert_true(ok_a >= 3 && ok_a <= 4);
    assert_true(ok_b >= 3 && ok_b <= 4);
    /* failed authentications have their own budget: they never use up the key holder's */
    int st[5];
    for (int i = 0; i < 5; i++)
        st[i] = status_from("127.0.0.9", "Authorization: Bearer mpck_wrong\r\n");
    assert_int_equal(st[0], 401);
    assert_int_equal(st[2], 401);
    assert_int_equal(st[4], 429);
    assert_int_equal(status_from("127.0.0.9", auth_hdr), 200);
    assert_int_equal(status_from("127.0.0.9", auth_hdr), 200);
    assert_int_equal(stop_hub(SIGTERM), 0);
}

int main(void)
{
    /* The hub closes connections after some answers (413, framing errors): a write to a
     * reset connection must be an error here, not a silent death of the test. */
    signal(SIGPIPE, SIG_IGN);
    if (getenv("MPC_TEST_FILTER")) /* e.g. "test_rate*" */
        cmocka_set_test_filter(getenv("MPC_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),           cmocka_unit_test(test_validation),
        cmocka_unit_test(test_http_methods),   cmocka_unit_test(test_http_framing),
        cmocka_unit_test(test_http_strict),    cmocka_unit_test(test_large_bodies),
        cmocka_unit_test(test_tls_policy),     cmocka_unit_test(test_party_admission),
        cmocka_unit_test(test_keygen_routing), cmocka_unit_test(test_keygen_checks),
        cmocka_unit_test(test_key_epochs),     cmocka_unit_test(test_import),
        cmocka_unit_test(test_store_failure),  cmocka_unit_test(test_flood),
        cmocka_unit_test(test_sign),           cmocka_unit_test(test_abort_and_timeout),
        cmocka_unit_test(test_garbage),        cmocka_unit_test(test_many_sessions),
        cmocka_unit_test(test_restart),        cmocka_unit_test(test_allow_list_and_rate),
        cmocka_unit_test(test_deadlines),      cmocka_unit_test(test_connection_caps),
        cmocka_unit_test(test_rate_buckets),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
