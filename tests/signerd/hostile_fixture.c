/* tests/signerd/hostile_fixture.c — the hub-is-the-test fixture (hostile_fixture.h): a
 * temporary PKI, a fake_hub and three real mpc-signerd processes, the sessions as the hub
 * sees them, relaying with an optional tamper hook, session-starts and the checks on their
 * outcomes. */
#include "hostile_fixture.h"

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
#include <openssl/rand.h>
#include <secp256k1.h>

#include "api/hex.h"
#include "api/json.h"
#include "hsm/hsm.h"
#include "tss/point.h"

const char *const hf_node[HF_NN] = {"n1", "n2", "n3"};
char hf_dir[128];
pid_t hf_pid[HF_NN] = {-1, -1, -1};
fake_hub *hf_hub;
int hf_port;
unsigned hf_hellos[HF_NN];
unsigned hf_busy_aborts, hf_other_aborts, hf_dropped;
char hf_last_other_abort[256];
int hf_pongs[HF_NN];
hf_sess hf_sessions[HF_MAXS];
int hf_nsess;
hf_tamper_fn hf_tamper;
hf_options hf_opt;

/* ---- processes and files ---- */

int hf_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hf_sh(const char *fmt, ...)
{
    char cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

void hf_stop(int i, int sig)
{
    if (hf_pid[i] <= 0)
        return;
    kill(hf_pid[i], sig);
    for (int k = 0; k < 200; k++) {
        if (waitpid(hf_pid[i], NULL, WNOHANG) == hf_pid[i]) {
            hf_pid[i] = -1;
            return;
        }
        usleep(25000);
    }
    kill(hf_pid[i], SIGKILL);
    waitpid(hf_pid[i], NULL, 0);
    hf_pid[i] = -1;
}

void hf_cleanup(void)
{
    for (int i = 0; i < HF_NN; i++)
        hf_stop(i, SIGKILL);
    fh_free(hf_hub);
    hf_hub = NULL;
    if (hf_dir[0] && !getenv("MPC_KEEP_TEST_DIR")) {
        if (hf_sh("rm -rf %s", hf_dir) != 0)
            fprintf(stderr, "could not remove %s\n", hf_dir);
        hf_dir[0] = 0;
    }
}

void hf_dump_logs(void)
{
    if (hf_sh("for f in %s/*.log; do echo \"== $f\"; tail -n 30 \"$f\"; done >&2", hf_dir) != 0)
        fprintf(stderr, "(no logs)\n");
}

void hf_die(const char *what)
{
    fprintf(stderr, "fixture: %s failed\n", what);
    hf_dump_logs();
    hf_cleanup();
    exit(1);
}

void hf_conf_path(char *out, size_t cap, int i)
{
    snprintf(out, cap, "%s/%s.conf", hf_dir, hf_node[i]);
}

void hf_write_conf(int i)
{
    char path[256];
    hf_conf_path(path, sizeof path, i);
    FILE *f = fopen(path, "w");
    if (!f)
        hf_die("config");
    fprintf(f,
            "[signer]\nparty_id = %s\ndatabase = %s/%s.db\nlog_level = info\n"
            "session_timeout = 3\nmax_sessions = %d\n\n"
            "[hub]\nurl = wss://127.0.0.1:%d/v1/party\nca = %s/ca.pem\ncrl = %s/crl.pem\n"
            "cert = %s/%s.pem\nidentity_key = %s/%s.identity\nreconnect_min_ms = 100\n"
            "reconnect_max_ms = 400\nping_interval = 0\n\n"
            "[backend]\nkind = soft\nkey_file = %s/%s.soft-key\n"
            "allow_insecure_soft_backend = yes\n",
            hf_node[i], hf_dir, hf_node[i], hf_opt.max_sessions[i] ? hf_opt.max_sessions[i] : 64,
            hf_port, hf_dir, hf_dir, hf_dir, hf_node[i], hf_dir, hf_node[i], hf_dir, hf_node[i]);
    if (hf_opt.conf_tail)
        hf_opt.conf_tail(f, i);
    fclose(f);
}

void hf_start_node(int i)
{
    char conf[256];
    hf_conf_path(conf, sizeof conf, i);
    hf_pid[i] = fork();
    if (hf_pid[i] == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/%s.log", hf_dir, hf_node[i]);
        if (!freopen(log, "a", stderr))
            _exit(126);
        execl(SIGNERD_BIN, SIGNERD_BIN, "--config", conf, (char *)NULL);
        _exit(127);
    }
}

int hf_alive(int i)
{
    return hf_pid[i] > 0 && waitpid(hf_pid[i], NULL, WNOHANG) == 0;
}

char *hf_slurp(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", hf_dir, name);
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
int hf_admin_lines(int i, const char *args, char *out, size_t cap)
{
    char cmd[600], conf[256], line[512];
    hf_conf_path(conf, sizeof conf, i);
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

hf_sess *hf_new_sess(int n, const int *nodes, const unsigned *idx)
{
    if (hf_nsess >= HF_MAXS)
        hf_die("too many sessions");
    hf_sess *s = &hf_sessions[hf_nsess++];
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

hf_sess *hf_find_sess(const uint8_t id[16])
{
    for (int i = hf_nsess - 1; i >= 0; i--)
        if (memcmp(hf_sessions[i].id, id, 16) == 0)
            return &hf_sessions[i];
    return NULL;
}

int hf_part_of(const hf_sess *s, unsigned idx)
{
    for (int p = 0; p < s->n; p++)
        if (s->idx[p] == idx)
            return p;
    return -1;
}

int hf_node_of(const char *party)
{
    for (int i = 0; i < HF_NN; i++)
        if (strcmp(hf_node[i], party) == 0)
            return i;
    return -1;
}

int hf_send_frame(int node, uint8_t type, const uint8_t id[16], unsigned from, unsigned to,
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
        rc = fh_send(hf_hub, hf_node[node], FH_OP_BINARY, buf, n);
    free(buf);
    return rc;
}

void hf_hub_abort(hf_sess *s, int p, const char *why)
{
    char j[200];
    snprintf(j, sizeof j, "{\"reason\":\"%s\",\"culprit\":0}", why);
    hf_send_frame(s->node[p], API_FRAME_ABORT, s->id, 0, s->idx[p], 0, j, strlen(j));
}

void hf_on_message(const char *party, int op, uint8_t *msg, size_t len)
{
    int node = hf_node_of(party);
    api_frame f;
    if (node < 0 || op != FH_OP_BINARY || api_frame_decode(&f, msg, len) != API_OK) {
        fprintf(stderr, "hub: unexpected message from %s (op %d, %zu bytes)\n", party, op, len);
        return;
    }
    if (f.type == API_FRAME_HELLO) {
        hf_hellos[node]++;
        return;
    }
    if (f.type == API_FRAME_PING) {
        hf_send_frame(node, API_FRAME_PONG, NULL, 0, 0, 0, f.payload, f.payload_len);
        return;
    }
    if (f.type == API_FRAME_PONG) {
        hf_pongs[node]++;
        return;
    }
    hf_sess *s = hf_find_sess(f.session);
    int p = s ? hf_part_of(s, f.from) : -1;
    if (p >= 0 && s->node[p] != node)
        p = -1; /* a signer speaking for another index: not ours to record */
    if (f.type == API_FRAME_ABORT && p < 0) {
        api_abort a;
        char m[API_MSG_MAX];
        if (api_abort_parse(&a, f.payload, f.payload_len, m, sizeof m) == API_OK) {
            if (strstr(a.reason, "busy"))
                hf_busy_aborts++;
            else
                hf_other_aborts++;
            snprintf(hf_last_other_abort, sizeof hf_last_other_abort, "%s", a.reason);
        }
        return;
    }
    if (p < 0) {
        hf_dropped++;
        return;
    }
    if (f.type == API_FRAME_PROTOCOL) {
        s->proto[p]++;
        if (f.round == 0)
            s->r0[p]++;
        int q = hf_part_of(s, f.to);
        if (f.round == 0 && q >= 0 && !s->r0rec[p][q] && (s->r0rec[p][q] = malloc(len))) {
            memcpy(s->r0rec[p][q], msg, len);
            s->r0len[p][q] = len;
        }
        if (q < 0 || s->state[q] != HF_RUN) {
            hf_dropped++;
            return;
        }
        int copies = hf_tamper ? hf_tamper(s, p, q, msg, len, &f) : 1;
        for (int k = 0; k < copies; k++)
            fh_send(hf_hub, hf_node[s->node[q]], FH_OP_BINARY, msg, len);
    } else if (f.type == API_FRAME_RESULT) {
        s->state[p] = HF_DONE;
        snprintf(s->text[p], sizeof s->text[p], "%.*s", (int)f.payload_len,
                 (const char *)f.payload);
    } else if (f.type == API_FRAME_ABORT) {
        api_abort a;
        char m[API_MSG_MAX];
        s->state[p] = HF_ABORT;
        if (api_abort_parse(&a, f.payload, f.payload_len, m, sizeof m) == API_OK)
            snprintf(s->text[p], sizeof s->text[p], "%s", a.reason);
        else
            snprintf(s->text[p], sizeof s->text[p], "(unparsable abort: %s)", m);
        if (s->propagate)
            for (int q = 0; q < s->n; q++)
                if (s->state[q] == HF_RUN) {
                    hf_hub_abort(s, q, "another party aborted");
                    s->state[q] = HF_TOLD;
                }
    }
}

uint64_t hf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int hf_all_done(hf_sess **ss, int count)
{
    for (int i = 0; i < count; i++)
        for (int p = 0; p < ss[i]->n; p++)
            if (ss[i]->state[p] == HF_RUN)
                return 0;
    return 1;
}

/* Relays until every listed session has an outcome from every participant (1), or ms pass
 * (0). With count == 0, relays for ms. */
int hf_run(hf_sess **ss, int count, int ms)
{
    uint64_t end = hf_now_ms() + (uint64_t)ms;
    for (;;) {
        if (count && hf_all_done(ss, count))
            return 1;
        uint64_t t = hf_now_ms();
        if (t >= end)
            return count ? hf_all_done(ss, count) : 1;
        char party[65];
        int op;
        uint8_t *msg = NULL;
        size_t len;
        if (fh_next(hf_hub, (int)(end - t), party, &op, &msg, &len) == 1) {
            hf_on_message(party, op, msg, len);
            free(msg);
        }
    }
}

int hf_run1(hf_sess *s, int ms)
{
    return hf_run(&s, 1, ms);
}

void hf_pump(int ms)
{
    hf_run(NULL, 0, ms);
}

void hf_wait_links(void)
{
    uint64_t end = hf_now_ms() + 30000; /* generous: sanitizer builds on a busy machine */
    while (hf_now_ms() < end) {
        int ok = 1;
        for (int i = 0; i < HF_NN; i++)
            ok &= fh_online(hf_hub, hf_node[i]) && hf_hellos[i] > 0;
        if (ok)
            return;
        hf_pump(50);
    }
    hf_die("signers dialling the fake hub");
}

/* ---- session-starts and outcomes ---- */

void hf_hexr(char *out, size_t bytes)
{
    uint8_t b[64];
    RAND_bytes(b, (int)bytes);
    api_hex_encode(out, b, bytes);
}

char *hf_start_json_ex(const char *kind, const char *kid, unsigned t, unsigned n, unsigned index,
                       const hf_party *ps, int np, const char *nonce, const char *hash,
                       const char *pk, const char *path, const char *approval)
{
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "key_id", json_string(kid));
    json_object_set_new(o, "threshold", json_integer(t));
    json_object_set_new(o, "n", json_integer(n));
    json_object_set_new(o, "index", json_integer(index));
    for (int i = 0; i < np; i++) {
        char *pem = hf_slurp(ps[i].cert);
        if (!pem)
            hf_die("reading a certificate");
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
        hf_die("approval JSON");
    json_object_set_new(o, "approval", a);
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

char *hf_start_json(const char *kind, const char *kid, unsigned t, unsigned n, unsigned index,
                    const hf_party *ps, int np, const char *nonce, const char *hash, const char *pk)
{
    return hf_start_json_ex(kind, kid, t, n, index, ps, np, nonce, hash, pk, "m", NULL);
}

void hf_send_start(hf_sess *s, int p, const char *json)
{
    hf_send_frame(s->node[p], API_FRAME_SESSION_START, s->id, 0, s->idx[p], 0, json, strlen(json));
}

void hf_cert_name(char *out, size_t cap, int node)
{
    snprintf(out, cap, "%s.pem", hf_node[node]);
}

/* Sends participant p its session-start j, then keeps j in starts[p] or frees it. */
static void send_keep(hf_sess *s, int p, char *j, char **starts)
{
    hf_send_start(s, p, j);
    if (starts)
        starts[p] = j;
    else
        free(j);
}

hf_sess *hf_keygen_start(const int *nodes, int n, unsigned t, hf_key *k, char **starts)
{
    hf_party ps[HF_MAXP];
    char certs[HF_MAXP][32];
    hf_sess *s = hf_new_sess(n, nodes, NULL);
    hf_hexr(k->kid, 16);
    hf_hexr(k->nonce, 32);
    k->t = t;
    k->n = (unsigned)n;
    for (int p = 0; p < n; p++) {
        hf_cert_name(certs[p], sizeof certs[p], nodes[p]);
        ps[p] = (hf_party){(unsigned)p + 1, hf_node[nodes[p]], certs[p]};
    }
    for (int p = 0; p < n; p++) {
        char *j = hf_start_json("keygen", k->kid, t, (unsigned)n, (unsigned)p + 1, ps, n, k->nonce,
                                NULL, NULL);
        send_keep(s, p, j, starts);
    }
    return s;
}

const char *hf_jget(const char *json, const char *field, char *out, size_t cap)
{
    json_t *o = json_loads(json, 0, NULL);
    const char *v = o ? json_string_value(json_object_get(o, field)) : NULL;
    snprintf(out, cap, "%s", v ? v : "");
    json_decref(o);
    return out;
}

void hf_expect_results(hf_sess *s)
{
    for (int p = 0; p < s->n; p++)
        if (s->state[p] != HF_DONE) {
            for (int q = 0; q < s->n; q++)
                fprintf(stderr, "party %s: state %d: %s\n", hf_node[s->node[q]], s->state[q],
                        s->state[q] == HF_DONE ? "result" : s->text[q]);
            hf_dump_logs();
            fail();
        }
}

/* activate carries every party's attestation and certificate (PARTY_LINK.md), as the hub
 * sends it: each signer checks them all before its share may sign. */
void hf_activate(hf_sess *s, const hf_key *k)
{
    json_t *arr = json_array();
    for (int p = 0; p < s->n; p++) {
        char cert[32], att[2 * API_ATTESTATION_MAX + 1];
        hf_cert_name(cert, sizeof cert, s->node[p]);
        char *pem = hf_slurp(cert);
        if (!pem)
            hf_die("reading a certificate");
        json_array_append_new(arr, json_pack("{s:i,s:s,s:s}", "index", (int)s->idx[p],
                                             "certificate", pem, "attestation",
                                             hf_jget(s->text[p], "attestation", att, sizeof att)));
        free(pem);
    }
    json_t *o = json_pack("{s:s,s:o}", "key_id", k->kid, "attestations", arr);
    char *j = json_dumps(o, JSON_COMPACT);
    for (int p = 0; p < s->n; p++)
        hf_send_frame(s->node[p], API_FRAME_ACTIVATE, s->id, 0, s->idx[p], 0, j, strlen(j));
    free(j);
    json_decref(o);
}

hf_sess *hf_sign_start_ex(const hf_key *k, const int *nodes, int n, const char *hash,
                          const char *path, const char *const *approval, char **starts)
{
    hf_party ps[HF_MAXP];
    char certs[HF_MAXP][32], nonce[65];
    unsigned idx[HF_MAXP] = {0};
    if (n > HF_MAXP)
        hf_die("too many participants");
    for (int p = 0; p < n; p++) {
        idx[p] = (unsigned)nodes[p] + 1;
        hf_cert_name(certs[p], sizeof certs[p], nodes[p]);
        ps[p] = (hf_party){idx[p], hf_node[nodes[p]], certs[p]};
    }
    hf_sess *s = hf_new_sess(n, nodes, idx);
    hf_hexr(nonce, 32);
    for (int p = 0; p < n; p++) {
        char *j = hf_start_json_ex("sign", k->kid, k->t, k->n, idx[p], ps, n, nonce, hash, k->pk,
                                   path, approval ? approval[p] : NULL);
        send_keep(s, p, j, starts);
    }
    return s;
}

hf_sess *hf_sign_start(const hf_key *k, const int *nodes, int n, const char *hash, char **starts)
{
    return hf_sign_start_ex(k, nodes, n, hash, "m", NULL, starts);
}

/* Every participant's signature verifies against k's public key (libsecp256k1). */
void hf_expect_signature(hf_sess *s, const hf_key *k, const char *hash)
{
    hf_expect_results(s);
    uint8_t pk[33], h[32], c64[64];
    secp256k1_pubkey pub;
    secp256k1_ecdsa_signature sig;
    assert_int_equal(api_hex_decode(pk, 33, k->pk, 66), API_OK);
    assert_int_equal(api_hex_decode(h, 32, hash, 64), API_OK);
    assert_int_equal(secp256k1_ec_pubkey_parse(tss_secp_ctx(), &pub, pk, 33), 1);
    for (int p = 0; p < s->n; p++) {
        char r[80], sv[80];
        hf_jget(s->text[p], "r", r, sizeof r);
        hf_jget(s->text[p], "s", sv, sizeof sv);
        assert_int_equal(api_hex_decode(c64, 32, r, 64), API_OK);
        assert_int_equal(api_hex_decode(c64 + 32, 32, sv, 64), API_OK);
        assert_int_equal(secp256k1_ecdsa_signature_parse_compact(tss_secp_ctx(), &sig, c64), 1);
        assert_int_equal(secp256k1_ecdsa_verify(tss_secp_ctx(), &sig, h, &pub), 1);
    }
}

/* No participant produced a result; at least one aborted with `needle` in its reason. */
void hf_expect_aborted(hf_sess *s, const char *needle)
{
    int seen = 0;
    for (int p = 0; p < s->n; p++) {
        assert_int_not_equal(s->state[p], HF_DONE);
        if (s->state[p] == HF_ABORT && (!needle || strstr(s->text[p], needle)))
            seen = 1;
    }
    if (!seen) {
        fprintf(stderr, "expected an abort with \"%s\"; got:\n", needle ? needle : "");
        for (int p = 0; p < s->n; p++)
            fprintf(stderr, "  %s: state %d: %s\n", hf_node[s->node[p]], s->state[p], s->text[p]);
    }
    assert_true(seen);
}

void hf_expect_alive(void)
{
    for (int i = 0; i < HF_NN; i++) {
        if (!hf_alive(i)) {
            hf_dump_logs();
            fail_msg("%s died", hf_node[i]);
        }
    }
}

/* ---- set-up and tear-down ---- */

void hf_setup(const hf_options *o)
{
    hf_opt = *o;
    snprintf(hf_dir, sizeof hf_dir, "/tmp/mpc-%s-XXXXXX", o->name);
    if (!mkdtemp(hf_dir))
        hf_die("mkdtemp");
    atexit(hf_cleanup);
    if (hf_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
              " -keyout ca.key -out ca.pem -days 2 -subj '/CN=test ca' 2>/dev/null"
              " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > san.ext"
              " && printf 'extendedKeyUsage=clientAuth\\n' > client.ext"
              " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hub.key"
              " -out hub.csr -subj '/CN=localhost' 2>/dev/null"
              " && openssl x509 -req -in hub.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
              " -out hub.pem -days 2 -extfile san.ext 2>/dev/null"
              " && %s%s touch index.txt && echo 01 > crlnumber"
              " && printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\ncrlnumber=crlnumber\\n"
              "default_md=sha256\\ndefault_crl_days=2\\n' > ca.cnf"
              " && %s%s%s openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl"
              " -out crl.pem 2>/dev/null",
              hf_dir, o->extra_pki ? o->extra_pki : "", o->extra_pki ? " && " : "",
              o->revoke ? "openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke " : "",
              o->revoke ? o->revoke : "", o->revoke ? " 2>/dev/null && " : "") != 0)
        hf_die("CA");
    if (o->prepare)
        o->prepare();
    char ca[200], cert[200], keyf[200];
    snprintf(ca, sizeof ca, "%s/ca.pem", hf_dir);
    snprintf(cert, sizeof cert, "%s/hub.pem", hf_dir);
    snprintf(keyf, sizeof keyf, "%s/hub.key", hf_dir);
    hf_hub = fh_new(ca, cert, keyf, &hf_port);
    if (!hf_hub)
        hf_die("fake hub");
    for (int i = 0; i < HF_NN; i++) {
        char soft[256], binding[200], conf[256];
        hsm_config c;
        snprintf(soft, sizeof soft, "%s/%s.soft-key", hf_dir, hf_node[i]);
        hsm_config_init(&c, HSM_KIND_SOFT);
        c.soft.key_file = soft;
        c.soft.allow_insecure = true;
        if (hsm_init(&c, binding, sizeof binding) != HSM_OK)
            hf_die("soft init");
        hf_write_conf(i);
        if (o->before_start)
            o->before_start(i);
        hf_conf_path(conf, sizeof conf, i);
        if (hf_sh("%s --config %s init-identity --csr %s/%s.csr 2>>%s/enrol.log", SIGNERD_BIN, conf,
                  hf_dir, hf_node[i], hf_dir) != 0 ||
            hf_sh("cd %s && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                  "-out %s.pem -days 2 -extfile client.ext 2>>enrol.log",
                  hf_dir, hf_node[i], hf_node[i]) != 0)
            hf_die("enrol");
        hf_start_node(i);
    }
    hf_wait_links();
}

void hf_teardown(void)
{
    for (int i = 0; i < HF_NN; i++)
        hf_stop(i, SIGTERM);
    hf_cleanup();
}
