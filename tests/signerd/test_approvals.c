/* tests/signerd/test_approvals.c — approvals and policy on every signer (issue 15), against
 * a MALICIOUS HUB: the test is the hub (fake_hub.c) and three real mpc-signerd processes dial
 * it. n1 and n2 run a policy signed by an offline policy key that needs 2 of 3 approvers
 * (alice: P-256, bob: Ed25519, carol: secp256k1); n3 has no policy. Every 2-of-3 signing
 * set includes n1 or n2, so no request may sign without the quorum, whatever the hub sends:
 * no approvals, too few, duplicates, expired or unknown approvers, approvals for another
 * hash, path or request id, altered signatures, different approvals to different signers, a
 * replayed request id (also after a restart). The policy is reloaded on SIGHUP only when its
 * signature verifies, and a signer with an unsigned or tampered policy refuses to start.
 * Each refusal reaches the hub as an abort whose reason names the rule; no result (so no
 * signature) leaves any signer. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <sqlite3.h>

#include "api/frame.h"
#include "api/hex.h"
#include "api/json.h"
#include "daemon/common/approval.h"
#include "daemon/common/eip712.h"
#include "fake_hub.h"
#include "hsm/hsm.h"
#include "policy.h"
#include "daemon/common/rlp.h"
#include "tss/keccak.h"
#include "tss/point.h"

#define NN 3
static const char *const NODE[NN] = {"n1", "n2", "n3"};
static char dir[128];
static pid_t pid[NN] = {-1, -1, -1};
static fake_hub *hub;
static int port;
static unsigned hellos[NN];
static unsigned dropped;

/* ---- fixture ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void stop(int i, int sig)
{
    if (pid[i] <= 0)
        return;
    kill(pid[i], sig);
    for (int k = 0; k < 200; k++) {
        if (waitpid(pid[i], NULL, WNOHANG) == pid[i]) {
            pid[i] = -1;
            return;
        }
        usleep(25000);
    }
    kill(pid[i], SIGKILL);
    waitpid(pid[i], NULL, 0);
    pid[i] = -1;
}

static void cleanup(void)
{
    for (int i = 0; i < NN; i++)
        stop(i, SIGKILL);
    fh_free(hub);
    hub = NULL;
    if (dir[0] && !getenv("MPC_KEEP_TEST_DIR")) {
        if (sh("rm -rf %s", dir) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        dir[0] = 0;
    }
}

static void dump_logs(void)
{
    if (sh("for f in %s/*.log; do echo \"== $f\"; tail -n 30 \"$f\"; done >&2", dir) != 0)
        fprintf(stderr, "(no logs)\n");
}

static void die(const char *what)
{
    fprintf(stderr, "fixture: %s failed\n", what);
    dump_logs();
    cleanup();
    exit(1);
}

static void conf_path(char *out, size_t cap, int i)
{
    snprintf(out, cap, "%s/%s.conf", dir, NODE[i]);
}

static void write_conf(int i)
{
    char path[256];
    conf_path(path, sizeof path, i);
    FILE *f = fopen(path, "w");
    if (!f)
        die("config");
    fprintf(f,
            "[signer]\nparty_id = %s\ndatabase = %s/%s.db\nlog_level = info\n"
            "session_timeout = 3\nmax_sessions = %d\n\n"
            "[hub]\nurl = wss://127.0.0.1:%d/v1/party\nca = %s/ca.pem\ncrl = %s/crl.pem\n"
            "cert = %s/%s.pem\nidentity_key = %s/%s.identity\nreconnect_min_ms = 100\n"
            "reconnect_max_ms = 400\nping_interval = 0\n\n"
            "[backend]\nkind = soft\nkey_file = %s/%s.soft-key\n"
            "allow_insecure_soft_backend = yes\n",
            NODE[i], dir, NODE[i], 64, port, dir, dir, dir, NODE[i], dir, NODE[i], dir, NODE[i]);
    /* n1 and n2 have a signed policy with approvers; n3 has none */
    if (i < 2)
        fprintf(f, "\n[policy]\nfile = %s/%s.policy.ini\npublic_key = %s/policy.pub\n", dir,
                NODE[i], dir);
    fclose(f);
}

static void start_node(int i)
{
    char conf[256];
    conf_path(conf, sizeof conf, i);
    pid[i] = fork();
    if (pid[i] == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/%s.log", dir, NODE[i]);
        if (!freopen(log, "a", stderr))
            _exit(126);
        execl(SIGNERD_BIN, SIGNERD_BIN, "--config", conf, (char *)NULL);
        _exit(127);
    }
}

static int alive(int i)
{
    return pid[i] > 0 && waitpid(pid[i], NULL, WNOHANG) == 0;
}

static char *slurp(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    (void)n;
    return buf;
}

/* Lines printed by `mpc-signerd --config X <args>` on stdout, -1 if it fails. */
static int admin_lines(int i, const char *args, char *out, size_t cap)
{
    char cmd[600], conf[256], line[512];
    conf_path(conf, sizeof conf, i);
    snprintf(cmd, sizeof cmd, "%s --config %s %s 2>/dev/null", SIGNERD_BIN, conf, args);
    FILE *p = popen(cmd, "r");
    int n = 0;
    if (out)
        out[0] = 0;
    while (p && fgets(line, sizeof line, p)) {
        n++;
        if (out && strlen(out) + strlen(line) < cap)
            strcat(out, line);
    }
    return p && pclose(p) == 0 ? n : -1;
}

/* ---- sessions as this hub sees them ---- */

#define MAXP     3
#define MAXS     128
#define ST_RUN   0
#define ST_DONE  1 /* result */
#define ST_ABORT 2 /* the signer aborted */
#define ST_TOLD  3 /* we (the hub) aborted it after another party's abort */

typedef struct hsess {
    uint8_t id[16];
    int n;
    unsigned idx[MAXP]; /* session index of participant p */
    int node[MAXP];
    int state[MAXP];
    char text[MAXP][1024]; /* result JSON or abort reason */
    int r0[MAXP], proto[MAXP];
    int propagate;              /* forward a signer's abort to the others, as the real hub does */
    uint8_t *r0rec[MAXP][MAXP]; /* the round-0 frame p sent to q, as sent */
    size_t r0len[MAXP][MAXP];
} hsess;

static hsess sess[MAXS];
static int nsess;

/* A tamper hook sees every protocol frame the hub routes (header + payload, writable) and
 * returns how many copies to forward (0, 1 or 2). */
typedef int (*tamper_fn)(hsess *s, int from_p, int to_p, uint8_t *frame, size_t len,
                         const api_frame *f);
static tamper_fn tamper;

static hsess *new_sess(int n, const int *nodes, const unsigned *idx)
{
    if (nsess >= MAXS)
        die("too many sessions");
    hsess *s = &sess[nsess++];
    memset(s, 0, sizeof *s);
    RAND_bytes(s->id, 16);
    s->n = n;
    s->propagate = 1;
    for (int p = 0; p < n; p++) {
        s->node[p] = nodes[p];
        s->idx[p] = idx ? idx[p] : (unsigned)p + 1;
    }
    return s;
}

static hsess *find_sess(const uint8_t id[16])
{
    for (int i = nsess - 1; i >= 0; i--)
        if (memcmp(sess[i].id, id, 16) == 0)
            return &sess[i];
    return NULL;
}

static int part_of(const hsess *s, unsigned idx)
{
    for (int p = 0; p < s->n; p++)
        if (s->idx[p] == idx)
            return p;
    return -1;
}

static int node_of(const char *party)
{
    for (int i = 0; i < NN; i++)
        if (strcmp(NODE[i], party) == 0)
            return i;
    return -1;
}

static int send_frame(int node, uint8_t type, const uint8_t id[16], unsigned from, unsigned to,
                      unsigned round, const void *payload, size_t len)
{
    api_frame f = {.type = type,
                   .from = (uint16_t)from,
                   .to = (uint16_t)to,
                   .round = round,
                   .payload = payload,
                   .payload_len = (uint32_t)len};
    if (id)
        memcpy(f.session, id, 16);
    size_t cap = api_frame_size(len), n = 0;
    uint8_t *buf = malloc(cap);
    int rc = -1;
    if (buf && api_frame_encode(buf, cap, &n, &f) == API_OK)
        rc = fh_send(hub, NODE[node], FH_OP_BINARY, buf, n);
    free(buf);
    return rc;
}

static void hub_abort(hsess *s, int p, const char *why)
{
    char j[200];
    snprintf(j, sizeof j, "{\"reason\":\"%s\",\"culprit\":0}", why);
    send_frame(s->node[p], API_FRAME_ABORT, s->id, 0, s->idx[p], 0, j, strlen(j));
}

static void on_message(const char *party, int op, uint8_t *msg, size_t len)
{
    int node = node_of(party);
    api_frame f;
    if (node < 0 || op != FH_OP_BINARY || api_frame_decode(&f, msg, len) != API_OK) {
        fprintf(stderr, "hub: unexpected message from %s (op %d, %zu bytes)\n", party, op, len);
        return;
    }
    if (f.type == API_FRAME_HELLO) {
        hellos[node]++;
        return;
    }
    if (f.type == API_FRAME_PING) {
        send_frame(node, API_FRAME_PONG, NULL, 0, 0, 0, f.payload, f.payload_len);
        return;
    }
    if (f.type == API_FRAME_PONG)
        return;
    hsess *s = find_sess(f.session);
    int p = s ? part_of(s, f.from) : -1;
    if (p >= 0 && s->node[p] != node)
        p = -1; /* a signer speaking for another index: not ours to record */
    if (p < 0) {
        dropped++;
        return;
    }
    if (f.type == API_FRAME_PROTOCOL) {
        s->proto[p]++;
        if (f.round == 0)
            s->r0[p]++;
        int q = part_of(s, f.to);
        if (f.round == 0 && q >= 0 && !s->r0rec[p][q] && (s->r0rec[p][q] = malloc(len))) {
            memcpy(s->r0rec[p][q], msg, len);
            s->r0len[p][q] = len;
        }
        if (q < 0 || s->state[q] != ST_RUN) {
            dropped++;
            return;
        }
        int copies = tamper ? tamper(s, p, q, msg, len, &f) : 1;
        for (int k = 0; k < copies; k++)
            fh_send(hub, NODE[s->node[q]], FH_OP_BINARY, msg, len);
    } else if (f.type == API_FRAME_RESULT) {
        s->state[p] = ST_DONE;
        snprintf(s->text[p], sizeof s->text[p], "%.*s", (int)f.payload_len,
                 (const char *)f.payload);
    } else if (f.type == API_FRAME_ABORT) {
        api_abort a;
        char m[API_MSG_MAX];
        s->state[p] = ST_ABORT;
        if (api_abort_parse(&a, f.payload, f.payload_len, m, sizeof m) == API_OK)
            snprintf(s->text[p], sizeof s->text[p], "%s", a.reason);
        else
            snprintf(s->text[p], sizeof s->text[p], "(unparsable abort: %s)", m);
        if (s->propagate)
            for (int q = 0; q < s->n; q++)
                if (s->state[q] == ST_RUN) {
                    hub_abort(s, q, "another party aborted");
                    s->state[q] = ST_TOLD;
                }
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int all_done(hsess **ss, int count)
{
    for (int i = 0; i < count; i++)
        for (int p = 0; p < ss[i]->n; p++)
            if (ss[i]->state[p] == ST_RUN)
                return 0;
    return 1;
}

/* Relays until every listed session has an outcome from every participant (1), or ms pass
 * (0). With count == 0, relays for ms. */
static int run(hsess **ss, int count, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    for (;;) {
        if (count && all_done(ss, count))
            return 1;
        uint64_t t = now_ms();
        if (t >= end)
            return count ? all_done(ss, count) : 1;
        char party[65];
        int op;
        uint8_t *msg = NULL;
        size_t len;
        if (fh_next(hub, (int)(end - t), party, &op, &msg, &len) == 1) {
            on_message(party, op, msg, len);
            free(msg);
        }
    }
}

static int run1(hsess *s, int ms)
{
    return run(&s, 1, ms);
}

static void pump(int ms)
{
    run(NULL, 0, ms);
}

static void wait_links(void)
{
    uint64_t end = now_ms() + 30000; /* generous: sanitizer builds on a busy machine */
    while (now_ms() < end) {
        int ok = 1;
        for (int i = 0; i < NN; i++)
            ok &= fh_online(hub, NODE[i]) && hellos[i] > 0;
        if (ok)
            return;
        pump(50);
    }
    die("signers dialling the fake hub");
}

/* ---- session-starts ---- */

typedef struct {
    unsigned index;
    const char *id;
    const char *cert; /* file name in dir */
} pdesc;

static void hexr(char *out, size_t bytes)
{
    uint8_t b[64];
    RAND_bytes(b, (int)bytes);
    api_hex_encode(out, b, bytes);
}

typedef struct {
    char kid[33], pk[67], nonce[65];
    unsigned t, n;
} key;

/* A session-start payload (JSON text, malloc'd). sign fields when hash != NULL. */

static void send_start(hsess *s, int p, const char *json)
{
    send_frame(s->node[p], API_FRAME_SESSION_START, s->id, 0, s->idx[p], 0, json, strlen(json));
}

static void cert_name(char *out, size_t cap, int node)
{
    snprintf(out, cap, "%s.pem", NODE[node]);
}

/* Starts a keygen among nodes (indices 1..n in that order); fills k. */

static void expect_results(hsess *s)
{
    for (int p = 0; p < s->n; p++)
        if (s->state[p] != ST_DONE) {
            for (int q = 0; q < s->n; q++)
                fprintf(stderr, "party %s: state %d: %s\n", NODE[s->node[q]], s->state[q],
                        s->state[q] == ST_DONE ? "result" : s->text[q]);
            dump_logs();
            fail();
        }
}

/* activate carries every party's attestation and certificate (PARTY_LINK.md), as the hub
 * sends it: each signer checks them all before its share may sign. */

/* A full keygen relayed honestly, activated; k receives the key. */

/* Starts a signing session of k with the given nodes (keygen index = node + 1) on hash. */

/* Every participant's signature verifies against k's public key (libsecp256k1). */

/* No participant produced a result; at least one aborted with `needle` in its reason. */
static void expect_aborted(hsess *s, const char *needle)
{
    int seen = 0;
    for (int p = 0; p < s->n; p++) {
        assert_int_not_equal(s->state[p], ST_DONE);
        if (s->state[p] == ST_ABORT && (!needle || strstr(s->text[p], needle)))
            seen = 1;
    }
    if (!seen) {
        fprintf(stderr, "expected an abort with \"%s\"; got:\n", needle ? needle : "");
        for (int p = 0; p < s->n; p++)
            fprintf(stderr, "  %s: state %d: %s\n", NODE[s->node[p]], s->state[p], s->text[p]);
    }
    assert_true(seen);
}

static void expect_alive(void)
{
    for (int i = 0; i < NN; i++) {
        if (!alive(i)) {
            dump_logs();
            fail_msg("%s died", NODE[i]);
        }
    }
}

/* ---- keys, approvals and session-starts ---- */

static EVP_PKEY *policy_key, *alice, *bob, *carol;

static char *start_json(const char *kind, const char *kid, unsigned t, unsigned n, unsigned index,
                        const pdesc *ps, int np, const char *nonce, const char *hash,
                        const char *pk, const char *path, const char *approval)
{
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "key_id", json_string(kid));
    json_object_set_new(o, "threshold", json_integer(t));
    json_object_set_new(o, "n", json_integer(n));
    json_object_set_new(o, "index", json_integer(index));
    for (int i = 0; i < np; i++) {
        char *pem = slurp(ps[i].cert);
        if (!pem)
            die("reading a certificate");
        json_array_append_new(arr, json_pack("{s:i, s:s, s:s}", "index", (int)ps[i].index, "id",
                                             ps[i].id, "cert", pem));
        free(pem);
    }
    json_object_set_new(o, "parties", arr);
    json_object_set_new(o, "nonce", json_string(nonce));
    if (hash) {
        json_object_set_new(o, "hash", json_string(hash));
        json_object_set_new(o, "public_key", json_string(pk));
        json_object_set_new(o, "derivation_path", json_string(path));
    }
    json_t *a = approval ? json_loads(approval, 0, NULL) : json_null();
    if (!a)
        die("approval JSON");
    json_object_set_new(o, "approval", a);
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

static const char *jget(const char *json, const char *field, char *out, size_t cap)
{
    json_t *o = json_loads(json, 0, NULL);
    const char *v = o ? json_string_value(json_object_get(o, field)) : NULL;
    snprintf(out, cap, "%s", v ? v : "");
    json_decref(o);
    return out;
}

static void activate(hsess *s, const key *k)
{
    json_t *arr = json_array();
    for (int p = 0; p < s->n; p++) {
        char cert[32], att[2 * API_ATTESTATION_MAX + 1];
        cert_name(cert, sizeof cert, s->node[p]);
        char *pem = slurp(cert);
        if (!pem)
            die("reading a certificate");
        json_array_append_new(arr, json_pack("{s:i,s:s,s:s}", "index", (int)s->idx[p],
                                             "certificate", pem, "attestation",
                                             jget(s->text[p], "attestation", att, sizeof att)));
        free(pem);
    }
    json_t *o = json_pack("{s:s,s:o}", "key_id", k->kid, "attestations", arr);
    char *j = json_dumps(o, JSON_COMPACT);
    for (int p = 0; p < s->n; p++)
        send_frame(s->node[p], API_FRAME_ACTIVATE, s->id, 0, s->idx[p], 0, j, strlen(j));
    free(j);
    json_decref(o);
}

static void keygen(key *k)
{
    const int all[3] = {0, 1, 2};
    pdesc ps[MAXP];
    char certs[MAXP][32];
    hsess *s = new_sess(3, all, NULL);
    hexr(k->kid, 16);
    hexr(k->nonce, 32);
    k->t = 2;
    k->n = 3;
    for (int p = 0; p < 3; p++) {
        cert_name(certs[p], sizeof certs[p], p);
        ps[p] = (pdesc){(unsigned)p + 1, NODE[p], certs[p]};
    }
    for (int p = 0; p < 3; p++) {
        char *j = start_json("keygen", k->kid, 2, 3, (unsigned)p + 1, ps, 3, k->nonce, NULL, NULL,
                             NULL, NULL);
        send_start(s, p, j);
        free(j);
    }
    run1(s, 30000);
    expect_results(s);
    jget(s->text[0], "public_key", k->pk, sizeof k->pk);
    assert_int_equal(strlen(k->pk), 66);
    activate(s, k);
    pump(500);
}

/* Signs hash (hex) along path with the nodes; approval[p] is the approval JSON the hub sends
 * participant p (NULL: null). */
static hsess *sign_with(const key *k, const int *nodes, int n, const char *hash, const char *path,
                        const char *const *approval)
{
    pdesc ps[MAXP];
    char certs[MAXP][32], nonce[65];
    unsigned idx[MAXP];
    for (int p = 0; p < n; p++) {
        idx[p] = (unsigned)nodes[p] + 1;
        cert_name(certs[p], sizeof certs[p], nodes[p]);
        ps[p] = (pdesc){idx[p], NODE[nodes[p]], certs[p]};
    }
    hsess *s = new_sess(n, nodes, idx);
    hexr(nonce, 32);
    for (int p = 0; p < n; p++) {
        char *j = start_json("sign", k->kid, k->t, k->n, idx[p], ps, n, nonce, hash, k->pk, path,
                             approval ? approval[p] : NULL);
        send_start(s, p, j);
        free(j);
    }
    run1(s, 20000);
    return s;
}

/* The same approval JSON to every participant. */
static hsess *sign_all(const key *k, const int *nodes, int n, const char *hash, const char *path,
                       const char *approval)
{
    const char *a[MAXP] = {approval, approval, approval};
    return sign_with(k, nodes, n, hash, path, a);
}

typedef struct {
    const char *who;
    EVP_PKEY *key;
    long expires_in; /* seconds from now */
} signer_spec;

/* The approval object: request_id, the typed payload (typed_key/typed_value, may be NULL)
 * and one approval per spec, each over the canonical message of (key, kind, digest, path,
 * rid). malloc'd JSON. */
static char *approvals_for(const key *k, const char *kind, const uint8_t digest[32],
                           const char *typed_key, const char *typed_value, const char *path,
                           const char *rid, const signer_spec *specs, int count)
{
    uint8_t kid[16], msg[MPCD_APPROVAL_MSG_MAX], sig[64];
    assert_int_equal(api_hex_decode(kid, 16, k->kid, 32), API_OK);
    json_t *arr = json_array();
    for (int i = 0; i < count; i++) {
        uint64_t exp = (uint64_t)((long)time(NULL) + specs[i].expires_in);
        size_t n = mpcd_approval_message(msg, kid, kind, digest, path, rid, exp);
        assert_int_not_equal(n, 0);
        assert_int_equal(mpcd_approval_sign(specs[i].key, msg, n, sig), MPCD_APPROVAL_OK);
        char sh[129];
        api_hex_encode(sh, sig, 64);
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:I,s:s}", "approver", specs[i].who, "alg",
                                        mpcd_approval_alg_name(mpcd_approval_alg_of(specs[i].key)),
                                        "expires", (json_int_t)exp, "signature", sh));
    }
    json_t *o = json_pack("{s:s,s:o}", "request_id", rid, "approvals", arr);
    if (typed_key)
        json_object_set_new(o, typed_key, json_string(typed_value));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

static char *approvals(const key *k, const char *hash_hex, const char *path, const char *rid,
                       const signer_spec *specs, int count)
{
    uint8_t digest[32];
    assert_int_equal(api_hex_decode(digest, 32, hash_hex, 64), API_OK);
    return approvals_for(k, "hash", digest, NULL, NULL, path, rid, specs, count);
}

static void expect_signature(hsess *s, const key *k, const char *hash)
{
    expect_results(s);
    uint8_t pk[33], h[32], c64[64];
    secp256k1_pubkey pub;
    secp256k1_ecdsa_signature sig;
    assert_int_equal(api_hex_decode(pk, 33, k->pk, 66), API_OK);
    assert_int_equal(api_hex_decode(h, 32, hash, 64), API_OK);
    assert_int_equal(secp256k1_ec_pubkey_parse(tss_secp_ctx(), &pub, pk, 33), 1);
    for (int p = 0; p < s->n; p++) {
        char r[80], sv[80];
        jget(s->text[p], "r", r, sizeof r);
        jget(s->text[p], "s", sv, sizeof sv);
        assert_int_equal(api_hex_decode(c64, 32, r, 64), API_OK);
        assert_int_equal(api_hex_decode(c64 + 32, 32, sv, 64), API_OK);
        assert_int_equal(secp256k1_ecdsa_signature_parse_compact(tss_secp_ctx(), &sig, c64), 1);
        assert_int_equal(secp256k1_ecdsa_verify(tss_secp_ctx(), &sig, h, &pub), 1);
    }
}

/* ---- policies ---- */

static void pubhex(EVP_PKEY *k, char out[131])
{
    assert_int_equal(mpcd_approval_public_hex(k, out), MPCD_APPROVAL_OK);
}

/* Writes node i's policy (extra lines appended to [policy]) and, if sign, its signature. */
static void write_policy(int i, const char *extra, int sign)
{
    char a[131], b[131], c[131], path[256], text[4096];
    pubhex(alice, a);
    pubhex(bob, b);
    pubhex(carol, c);
    snprintf(text, sizeof text,
             "[policy]\nraw_hashes = allow\nmessages = allow\nquorum = 2\n"
             "chain_ids = 1, 11155111\n"
             "destinations = 0x1111111111111111111111111111111111111111\n"
             "destinations = 0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\n"
             "max_value = 1000000\nwindow_seconds = 3600\nwindow_max_value = 1500000\n%s\n"
             "[approver alice]\nalg = ecdsa-p256\npublic_key = %s\n"
             "[approver bob]\nalg = ed25519\npublic_key = %s\n"
             "[approver carol]\nalg = ecdsa-secp256k1\npublic_key = %s\n",
             extra ? extra : "", a, b, c);
    snprintf(path, sizeof path, "%s/%s.policy.ini", dir, NODE[i]);
    FILE *f = fopen(path, "w");
    if (!f)
        die("policy");
    fputs(text, f);
    fclose(f);
    if (!sign)
        return;
    char *sig = signer_policy_sign(policy_key, text, strlen(text));
    snprintf(path, sizeof path, "%s/%s.policy.ini.sig", dir, NODE[i]);
    f = fopen(path, "w");
    if (!f || !sig)
        die("policy signature");
    fputs(sig, f);
    fclose(f);
    free(sig);
}

static int log_has(int i, const char *needle)
{
    char name[32];
    snprintf(name, sizeof name, "%s.log", NODE[i]);
    char *t = slurp(name);
    int hit = t && strstr(t, needle);
    free(t);
    return hit;
}

static void wait_log(int i, const char *needle)
{
    for (int k = 0; k < 200 && !log_has(i, needle); k++)
        pump(25);
    if (!log_has(i, needle)) {
        dump_logs();
        fail_msg("%s's log never said \"%s\"", NODE[i], needle);
    }
}

static void restart(int i)
{
    stop(i, SIGTERM);
    hellos[i] = 0;
    start_node(i);
    wait_links();
}

/* ---- setup ---- */

static key K;
static char H1[65], H2[65];

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-approvals-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    atexit(cleanup);
    if (sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
           " -keyout ca.key -out ca.pem -days 2 -subj '/CN=test ca' 2>/dev/null"
           " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > san.ext"
           " && printf 'extendedKeyUsage=clientAuth\\n' > client.ext"
           " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hub.key"
           " -out hub.csr -subj '/CN=localhost' 2>/dev/null"
           " && openssl x509 -req -in hub.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
           " -out hub.pem -days 2 -extfile san.ext 2>/dev/null"
           " && touch index.txt && echo 01 > crlnumber"
           " && printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\ncrlnumber=crlnumber\\n"
           "default_md=sha256\\ndefault_crl_days=2\\n' > ca.cnf"
           " && openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl"
           " -out crl.pem 2>/dev/null",
           dir) != 0)
        die("CA");
    policy_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    alice = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    bob = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    carol = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    if (!policy_key || !alice || !bob || !carol)
        die("approver keys");
    char path[256];
    snprintf(path, sizeof path, "%s/policy.pub", dir);
    FILE *f = fopen(path, "w");
    if (!f || PEM_write_PUBKEY(f, policy_key) != 1)
        die("policy public key");
    fclose(f);
    char ca[200], cert[200], keyf[200];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/hub.pem", dir);
    snprintf(keyf, sizeof keyf, "%s/hub.key", dir);
    hub = fh_new(ca, cert, keyf, &port);
    if (!hub)
        die("fake hub");
    for (int i = 0; i < NN; i++) {
        char soft[256], binding[200], conf[256];
        hsm_config c;
        snprintf(soft, sizeof soft, "%s/%s.soft-key", dir, NODE[i]);
        hsm_config_init(&c, HSM_KIND_SOFT);
        c.soft.key_file = soft;
        c.soft.allow_insecure = true;
        if (hsm_init(&c, binding, sizeof binding) != HSM_OK)
            die("soft init");
        write_conf(i);
        if (i < 2)
            write_policy(i, NULL, 1);
        conf_path(conf, sizeof conf, i);
        if (sh("%s --config %s init-identity --csr %s/%s.csr 2>>%s/enrol.log", SIGNERD_BIN, conf,
               dir, NODE[i], dir) != 0 ||
            sh("cd %s && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
               "-out %s.pem -days 2 -extfile client.ext 2>>enrol.log",
               dir, NODE[i], NODE[i]) != 0)
            die("enrol");
        start_node(i);
    }
    wait_links();
    hexr(H1, 32);
    hexr(H2, 32);
    keygen(&K);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NN; i++)
        stop(i, SIGTERM);
    cleanup();
    EVP_PKEY_free(policy_key);
    EVP_PKEY_free(alice);
    EVP_PKEY_free(bob);
    EVP_PKEY_free(carol);
    return 0;
}

static const int P12[2] = {0, 1}, P13[2] = {0, 2}, P23[2] = {1, 2};

/* ---- the quorum ---- */

/* Without approvals no pair signs: each includes a signer with the policy. */
static void t_no_approvals(void **state)
{
    (void)state;
    const int *pairs[3] = {P12, P13, P23};
    for (int i = 0; i < 3; i++) {
        hsess *s = sign_all(&K, pairs[i], 2, H1, "m", NULL);
        expect_aborted(s, "approval: this signer needs 2 approvals and a request_id");
    }
    /* approvals sent only to the signer without a policy (n3) */
    signer_spec ok[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals(&K, H1, "m", "only-n3", ok, 2);
    const char *per[2] = {NULL, a};
    expect_aborted(sign_with(&K, P23, 2, H1, "m", per), "approval: this signer needs 2");
    free(a);
    expect_alive();
}

static void refused(const signer_spec *specs, int count, const char *rid, const char *needle)
{
    char *a = approvals(&K, H1, "m", rid, specs, count);
    expect_aborted(sign_all(&K, P13, 2, H1, "m", a), needle);
    free(a);
}

/* Too few, duplicate, expired, unknown and wrong-key approvals. */
static void t_too_few(void **state)
{
    (void)state;
    signer_spec one[1] = {{"alice", alice, 300}};
    refused(one, 1, "few-1", "approval: 1 of 2 required approvals valid");
    signer_spec dup[2] = {{"alice", alice, 300}, {"alice", alice, 300}};
    refused(dup, 2, "dup-1", "alice: duplicate approver");
    signer_spec exp[2] = {{"alice", alice, 300}, {"bob", bob, -1}};
    refused(exp, 2, "exp-1", "bob: expired");
    signer_spec unk[2] = {{"alice", alice, 300}, {"mallory", bob, 300}};
    refused(unk, 2, "unk-1", "mallory: unknown approver");
    signer_spec wrong[2] = {{"alice", alice, 300}, {"carol", alice, 300}};
    refused(wrong, 2, "wrong-1", "carol: wrong alg");
    expect_alive();
}

static char rid_ok[32];

/* The quorum signs, with each pair; the approvals' digest is bound into the sid (the signers
 * agree on it at round 0) and written to the audit log. */
static void t_quorum_signs(void **state)
{
    (void)state;
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    snprintf(rid_ok, sizeof rid_ok, "ok-%ld", (long)time(NULL));
    char *a = approvals(&K, H1, "m", rid_ok, ab, 2);
    expect_signature(sign_all(&K, P13, 2, H1, "m", a), &K, H1);
    free(a);
    signer_spec bc[2] = {{"bob", bob, 300}, {"carol", carol, 300}};
    a = approvals(&K, H2, "m/5", "ok-second", bc, 2);
    hsess *s = sign_all(&K, P12, 2, H2, "m/5", a);
    expect_results(s);
    free(a);
    /* the audit log holds the authorization (request id, approvers) and verifies */
    char out[8192];
    assert_true(admin_lines(0, "audit verify", out, sizeof out) >= 0);
    assert_true(log_has(0, "signature released"));
    char path[256], like[96];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/n1.db", dir);
    snprintf(like, sizeof like, "authorized hash, request %s, policy %%, approvals alice,bob",
             rid_ok);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE outcome LIKE ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A hub that alters what the approvers signed: the hash, the path, the request id, an
 * approval's bytes; or sends different approvals to different signers. */
static void t_hub_alters(void **state)
{
    (void)state;
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    /* A signer without a policy (n3) still claims every request id it sees, so each attempt
     * gets a fresh one: the refusal under test is n1's. */
    char *a = approvals(&K, H1, "m", "alter-1", ab, 2);
    expect_aborted(sign_all(&K, P13, 2, H2, "m", a), "approval: 0 of 2 required");
    free(a);
    a = approvals(&K, H1, "m", "alter-2", ab, 2);
    expect_aborted(sign_all(&K, P13, 2, H1, "m/7", a), "approval: 0 of 2 required");
    free(a);
    a = approvals(&K, H1, "m", "alter-3", ab, 2);
    char *rid = strstr(a, "alter-3");
    rid[6] = '4'; /* the hub renames the request */
    expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "bad signature");
    free(a);
    a = approvals(&K, H1, "m", "alter-5", ab, 2);
    char *sig = strstr(a, "\"signature\":\"") + 13;
    sig[5] = sig[5] == '0' ? '1' : '0';
    expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "alice: bad signature");
    free(a);
    /* n1 gets the approvals, n3 (no policy) gets none: their session-starts differ, round 0
     * aborts before any protocol message; nothing is signed */
    a = approvals(&K, H1, "m", "split-1", ab, 2);
    const char *per[2] = {a, NULL};
    hsess *s = sign_with(&K, P13, 2, H1, "m", per);
    expect_aborted(s, "hub equivocation");
    free(a);
    expect_alive();
}

/* A request id signs once, also across a restart of the signer. */
static void t_replay(void **state)
{
    (void)state;
    signer_spec bc[2] = {{"bob", bob, 300}, {"carol", carol, 300}};
    char *a = approvals(&K, H1, "m", rid_ok, bc, 2);
    expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "was already used on this signer");
    restart(0);
    expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "was already used on this signer");
    free(a);
}

/* SIGHUP: an unsigned new policy is refused (the old one stays), a signed one replaces it. */
static void t_reload(void **state)
{
    (void)state;
    char extra[128];
    snprintf(extra, sizeof extra, "[key %s]\nraw_hashes = deny", K.kid);
    write_policy(0, extra, 0);
    kill(pid[0], SIGHUP);
    wait_log(0, "keeping the policy in force");
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals(&K, H1, "m", "reload-1", ab, 2);
    expect_signature(sign_all(&K, P13, 2, H1, "m", a), &K, H1);
    free(a);
    write_policy(0, extra, 1);
    kill(pid[0], SIGHUP);
    wait_log(0, "reloaded");
    a = approvals(&K, H1, "m", "reload-2", ab, 2);
    expect_aborted(sign_all(&K, P13, 2, H1, "m", a), "policy: raw_hashes = deny");
    free(a);
    write_policy(0, NULL, 1);
    kill(pid[0], SIGHUP);
    pump(300);
}

/* A signer whose policy is unsigned or tampered refuses to start, saying why. */
static void t_bad_policy_start(void **state)
{
    (void)state;
    char path[256];
    stop(1, SIGTERM);
    write_policy(1, "quorum = 0", 0); /* changed after signing: the old .sig remains */
    start_node(1);
    for (int k = 0; k < 100 && alive(1); k++)
        usleep(50000);
    assert_false(alive(1));
    pid[1] = -1;
    assert_true(log_has(1, "does not verify"));
    snprintf(path, sizeof path, "%s/n2.policy.ini.sig", dir);
    unlink(path);
    start_node(1);
    for (int k = 0; k < 100 && alive(1); k++)
        usleep(50000);
    assert_false(alive(1));
    pid[1] = -1;
    assert_true(log_has(1, "is not signed"));
    write_policy(1, NULL, 1);
    hellos[1] = 0;
    start_node(1);
    wait_links();
    expect_alive();
}

/* ---- typed payloads ---- */

/* An unsigned EIP-1559 transaction (hex into out) and its signing hash, Keccak-256 of its
 * bytes, computed here. */
static void build_tx(char *out, size_t cap, uint8_t sighash[32], uint64_t chain, uint8_t to_byte,
                     uint64_t value)
{
    uint8_t buf[256], to[20];
    mpcd_rlp_enc e;
    size_t len;
    memset(to, to_byte, 20);
    buf[0] = 0x02;
    mpcd_rlp_enc_init(&e, buf + 1, sizeof buf - 1);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_u64(&e, chain);
    mpcd_rlp_enc_u64(&e, 7);          /* nonce */
    mpcd_rlp_enc_u64(&e, 1000000000); /* max priority fee */
    mpcd_rlp_enc_u64(&e, 30000000000ull);
    mpcd_rlp_enc_u64(&e, 21000);
    mpcd_rlp_enc_bytes(&e, to, 20);
    mpcd_rlp_enc_u64(&e, value);
    mpcd_rlp_enc_bytes(&e, NULL, 0);
    size_t al = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_list_end(&e, al);
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), 0);
    assert_true(2 * (len + 1) < cap);
    api_hex_encode(out, buf, len + 1);
    tss_keccak256(sighash, buf, len + 1);
}

/* A signing session for a transaction: the hub sends hash_hex (normally the tx's own). */
static hsess *sign_tx(const char *tx_hex, const uint8_t approved[32], const char *hash_hex,
                      const char *rid, const char *tx_sent)
{
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals_for(&K, "eth_transaction", approved, "eth_transaction",
                            tx_sent ? tx_sent : tx_hex, "m", rid, ab, 2);
    hsess *s = sign_all(&K, P13, 2, hash_hex, "m", a);
    free(a);
    return s;
}

static void t_tx(void **state)
{
    (void)state;
    char tx[600], other[600], hh[65], oh[65];
    uint8_t h[32], ho[32];
    build_tx(tx, sizeof tx, h, 1, 0x11, 1000);
    api_hex_encode(hh, h, 32);
    expect_signature(sign_tx(tx, h, hh, "tx-1", NULL), &K, hh);
    /* what the policy says no to */
    build_tx(other, sizeof other, ho, 56, 0x11, 1000);
    api_hex_encode(oh, ho, 32);
    expect_aborted(sign_tx(other, ho, oh, "tx-2", NULL), "policy: chain_ids: chain id 56");
    build_tx(other, sizeof other, ho, 11155111, 0x22, 1000);
    api_hex_encode(oh, ho, 32);
    expect_aborted(sign_tx(other, ho, oh, "tx-3", NULL),
                   "policy: destinations: 0x2222222222222222222222222222222222222222");
    build_tx(other, sizeof other, ho, 1, 0x11, 1000001);
    api_hex_encode(oh, ho, 32);
    expect_aborted(sign_tx(other, ho, oh, "tx-4", NULL), "policy: max_value: 1000001 wei");
    /* a hub that forges the hash, or swaps the transaction (with its matching hash) */
    build_tx(other, sizeof other, ho, 1, 0x11, 999);
    api_hex_encode(oh, ho, 32);
    expect_aborted(sign_tx(tx, h, oh, "tx-5", NULL), "approval: the hub's hash is not the hash");
    expect_aborted(sign_tx(tx, h, oh, "tx-6", other), "approval: 0 of 2 required");
    /* garbage in place of a transaction */
    expect_aborted(sign_tx("02c0", h, hh, "tx-7", NULL), "policy: the eth_transaction payload "
                                                         "does not decode");
    expect_alive();
}

/* The velocity window (window_max_value 1500000 wei per hour) holds across restarts. */
static void t_velocity(void **state)
{
    (void)state;
    char tx[600], hh[65];
    uint8_t h[32];
    build_tx(tx, sizeof tx, h, 1, 0x11, 900000); /* plus t_tx's 1000: 901000 */
    api_hex_encode(hh, h, 32);
    expect_signature(sign_tx(tx, h, hh, "vel-1", NULL), &K, hh);
    build_tx(tx, sizeof tx, h, 1, 0x11, 700000);
    api_hex_encode(hh, h, 32);
    expect_aborted(sign_tx(tx, h, hh, "vel-2", NULL),
                   "policy: window_max_value: 901000 wei signed in the last 3600 s plus 700000");
    restart(0);
    expect_aborted(sign_tx(tx, h, hh, "vel-3", NULL), "policy: window_max_value: 901000 wei");
    build_tx(tx, sizeof tx, h, 1, 0x11, 599000); /* exactly 1500000 */
    api_hex_encode(hh, h, 32);
    expect_signature(sign_tx(tx, h, hh, "vel-4", NULL), &K, hh);
}

/* EIP-191: the signer hashes the message itself. */
static void t_eip191(void **state)
{
    (void)state;
    const char *text = "I approve this custody test";
    char hex[128], hh[65];
    uint8_t pre[128], h[32];
    int n = snprintf((char *)pre, sizeof pre,
                     "\x19"
                     "Ethereum Signed Message:\n%zu%s",
                     strlen(text), text);
    tss_keccak256(h, pre, (size_t)n);
    api_hex_encode(hh, h, 32);
    api_hex_encode(hex, (const uint8_t *)text, strlen(text));
    signer_spec ab[2] = {{"alice", alice, 300}, {"carol", carol, 300}};
    char *a = approvals_for(&K, "eip191_message", h, "eip191_message", hex, "m", "msg-1", ab, 2);
    expect_signature(sign_all(&K, P13, 2, hh, "m", a), &K, hh);
    free(a);
}

/* EIP-712: the EIP's own Mail example, whose digest is published; the signature verifies over
 * that digest. A domain on another chain, or a verifying contract off the list, is refused. */
static const char MAIL[] =
    "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\","
    "\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":"
    "\"verifyingContract\",\"type\":\"address\"}],\"Person\":[{\"name\":\"name\",\"type\":"
    "\"string\"},{\"name\":\"wallet\",\"type\":\"address\"}],\"Mail\":[{\"name\":\"from\","
    "\"type\":\"Person\"},{\"name\":\"to\",\"type\":\"Person\"},{\"name\":\"contents\",\"type\":"
    "\"string\"}]},\"primaryType\":\"Mail\",\"domain\":{\"name\":\"Ether Mail\",\"version\":"
    "\"1\",\"chainId\":%s,\"verifyingContract\":\"%s\"},\"message\":{\"from\":{\"name\":"
    "\"Cow\",\"wallet\":\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"},\"to\":{\"name\":"
    "\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"},\"contents\":"
    "\"Hello, Bob!\"}}";
static const char MAIL_DIGEST[] =
    "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2";

/* digest: the hex the hub sends and the approvers approve; NULL: the domain's own digest
 * (daemon/common/eip712, as an honest hub computes it). */
static hsess *sign_712(const char *chain, const char *contract, const char *rid, const char *digest)
{
    char text[2048], dh[65];
    uint8_t d[32];
    snprintf(text, sizeof text, MAIL, chain, contract);
    json_t *td = json_loads(text, 0, NULL);
    assert_non_null(td);
    if (!digest) {
        mpcd_eip712 out;
        assert_int_equal(mpcd_eip712_hash(&out, td, NULL, 0), MPCD_ETH_OK);
        api_hex_encode(dh, out.digest, 32);
        digest = dh;
    }
    assert_int_equal(api_hex_decode(d, 32, digest, 64), API_OK);
    signer_spec ab[2] = {{"alice", alice, 300}, {"bob", bob, 300}};
    char *a = approvals_for(&K, "eip712", d, NULL, NULL, "m", rid, ab, 2);
    json_t *o = json_loads(a, 0, NULL);
    json_object_set_new(o, "eip712", td);
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    hsess *s = sign_all(&K, P13, 2, digest, "m", txt);
    free(a);
    free(txt);
    return s;
}

static void t_eip712(void **state)
{
    (void)state;
    const char *cc = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC";
    expect_signature(sign_712("1", cc, "712-1", MAIL_DIGEST), &K, MAIL_DIGEST);
    /* the digest changes with the domain: the hub's hash (the published one) no longer fits */
    expect_aborted(sign_712("56", cc, "712-2", MAIL_DIGEST),
                   "approval: the hub's hash is not the hash of the eip712 payload");
    /* with the domain's own digest, the policy decides */
    expect_aborted(sign_712("56", cc, "712-3", NULL),
                   "policy: chain_ids: EIP-712 domain chain id 56 is not allowed");
    expect_aborted(sign_712("1", "0x2222222222222222222222222222222222222222", "712-4", NULL),
                   "policy: destinations: EIP-712 verifying contract 0x2222");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_no_approvals),     cmocka_unit_test(t_too_few),
        cmocka_unit_test(t_quorum_signs),     cmocka_unit_test(t_hub_alters),
        cmocka_unit_test(t_replay),           cmocka_unit_test(t_reload),
        cmocka_unit_test(t_bad_policy_start), cmocka_unit_test(t_tx),
        cmocka_unit_test(t_velocity),         cmocka_unit_test(t_eip191),
        cmocka_unit_test(t_eip712),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
