/* tests/support/deploy.c — see deploy.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <secp256k1.h>

#include "../hub/hub_client.h"
#include "api/hex.h"
#include "tss/point.h"
#include "deploy.h"
#include "hsm/hsm.h"

const char *const deploy_node[DEPLOY_MAX_NODES] = {"n1", "n2", "n3", "n4", "n5"};
const char *const deploy_backend[DEPLOY_MAX_NODES] = {"tpm2", "pkcs11", "soft", "soft", "soft"};

static deploy *current; /* what the atexit handler cleans */

static void cleanup_at_exit(void)
{
    if (current)
        deploy_cleanup(current);
    curl_global_cleanup();
}

int deploy_check_tools(void)
{
    if (!fx_have_tool("swtpm") || !fx_have_tool("softhsm2-util") || !fx_have_tool("openssl")) {
        fprintf(stderr, "swtpm, SoftHSM2 or openssl missing: run scripts/install-deps.sh\n");
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void deploy_init(deploy *d, const char *prefix, const char *hub_bin, const char *signerd_bin)
{
    memset(d, 0, sizeof *d);
    d->hub_pid = -1;
    d->nodes = DEPLOY_NODES;
    for (int i = 0; i < DEPLOY_MAX_NODES; i++)
        d->node_pid[i] = -1;
    d->tpm.pid = -1;
    d->hub_bin = hub_bin;
    d->signerd_bin = signerd_bin;
    d->hub_session_timeout = 8;
    d->node_session_timeout = 10;
    d->hub_log_level = "info";
    d->node_log_level = "info";
    d->log_tail = 25;
    snprintf(d->dir, sizeof d->dir, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(d->dir)) {
        d->dir[0] = 0;
        deploy_die(d, "mkdtemp");
    }
    if (!current) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        atexit(cleanup_at_exit);
    }
    current = d;
}

int deploy_stop_pid(pid_t *pid, int sig)
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

int deploy_stop_all_clean(deploy *d)
{
    int bad = 0;
    for (int i = 0; i < d->nodes; i++) {
        int st = deploy_stop_pid(&d->node_pid[i], SIGTERM);
        if (st != 0)
            fprintf(stderr, "%s exited with status %d on SIGTERM\n", deploy_node[i], st), bad = 1;
    }
    if (deploy_stop_pid(&d->hub_pid, SIGTERM) != 0)
        fprintf(stderr, "the hub did not exit cleanly on SIGTERM\n"), bad = 1;
    if (bad)
        deploy_dump_logs(d);
    return bad ? -1 : 0;
}

void deploy_cleanup(deploy *d)
{
    for (int i = 0; i < DEPLOY_MAX_NODES; i++) /* a pid of -1 is a no-op */
        deploy_stop_pid(&d->node_pid[i], SIGKILL);
    deploy_stop_pid(&d->hub_pid, SIGKILL);
    fx_swtpm_stop(&d->tpm);
    fx_softhsm_stop(&d->token);
    if (d->dir[0] && !getenv("MPC_KEEP_TEST_DIR")) {
        if (deploy_sh("rm -rf %s", d->dir) != 0)
            fprintf(stderr, "could not remove %s\n", d->dir);
        d->dir[0] = 0;
    }
}

void deploy_dump_logs(const deploy *d)
{
    if (d->dir[0] == 0 ||
        deploy_sh("for f in %s/*.log; do echo \"== $f\"; tail -n %d \"$f\"; done >&2", d->dir,
                  d->log_tail) != 0)
        fprintf(stderr, "(no logs)\n");
}

void deploy_die(deploy *d, const char *what)
{
    fprintf(stderr, "fixture: %s failed\n", what);
    deploy_dump_logs(d);
    deploy_cleanup(d);
    exit(1);
}

int deploy_sh(const char *fmt, ...)
{
    char cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int deploy_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (void *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

pid_t deploy_spawn(const deploy *d, const char *bin, const char *conf, const char *log,
                   const char *env, long fsize_limit)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        char path[300];
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* the parent died before prctl */
            _exit(125);
        snprintf(path, sizeof path, "%s/%s.log", d->dir, log);
        if (!freopen(path, "a", stderr))
            _exit(126);
        if (env)
            putenv((char *)env);
        if (fsize_limit > 0) {
            struct rlimit rl = {(rlim_t)fsize_limit, (rlim_t)fsize_limit};
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execl(bin, bin, "--config", conf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

void deploy_make_ca(deploy *d)
{
    snprintf(d->ca, sizeof d->ca, "%s/ca.pem", d->dir);
    snprintf(d->server_cert, sizeof d->server_cert, "%s/server.pem", d->dir);
    snprintf(d->server_key, sizeof d->server_key, "%s/server.key", d->dir);
    if (deploy_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                  " -keyout ca.key -out ca.pem -days 2 -subj '/CN=test ca' 2>/dev/null"
                  " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n'"
                  " > san.ext && printf 'extendedKeyUsage=clientAuth\\n' > client.ext"
                  " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
                  " -keyout server.key -out server.csr -subj '/CN=localhost' 2>/dev/null"
                  " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
                  " -out server.pem -days 2 -extfile san.ext 2>/dev/null",
                  d->dir) != 0)
        deploy_die(d, "CA");
}

void deploy_start_backends(deploy *d)
{
    if (fx_swtpm_start(&d->tpm) != 0 || fx_softhsm_start(&d->token, "n2-token", "123456") != 0)
        deploy_die(d, "swtpm / SoftHSM2");
}

void deploy_init_backends(deploy *d)
{
    char soft_key[256], binding[200];
    hsm_config c;
    hsm_config_init(&c, HSM_KIND_TPM2);
    c.tpm2.tcti = d->tpm.tcti;
    if (hsm_init(&c, d->tpm_primary, sizeof d->tpm_primary) != HSM_OK)
        deploy_die(d, "tpm2 init");
    for (int i = 2; i < d->nodes && i < DEPLOY_MAX_NODES; i++) { /* n3.. : soft */
        snprintf(soft_key, sizeof soft_key, "%s/%s.soft-key", d->dir, deploy_node[i]);
        hsm_config_init(&c, HSM_KIND_SOFT);
        c.soft.key_file = soft_key;
        c.soft.allow_insecure = true;
        if (hsm_init(&c, binding, sizeof binding) != HSM_OK)
            deploy_die(d, "soft init");
    }
}

static void hub_conf_path(const deploy *d, char *out, size_t cap)
{
    snprintf(out, cap, "%s/hub.conf", d->dir);
}

void deploy_write_hub_conf(deploy *d)
{
    char path[200];
    hub_conf_path(d, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f)
        deploy_die(d, "hub config");
    fprintf(f,
            "[hub]\ndatabase = %s/hub.db\nlog_level = %s\n\n"
            "[api]\nlisten = 127.0.0.1\nport = %d\ncert = %s\nkey = %s\n%s\n"
            "[party]\nlisten = 127.0.0.1\nport = %d\nca = %s\ncert = %s\nkey = %s\n\n"
            "[sessions]\ntimeout = %d\n%s",
            d->dir, d->hub_log_level, d->api_port, d->server_cert, d->server_key, d->hub_extra_api,
            d->party_port, d->ca, d->server_cert, d->server_key, d->hub_session_timeout,
            d->hub_extra_sess);
    fclose(f);
}

void deploy_create_api_key(deploy *d)
{
    char conf[200], cmd[600];
    hub_conf_path(d, conf, sizeof conf);
    snprintf(cmd, sizeof cmd, "%s --config %s create-api-key tests 2>>%s/hub.log", d->hub_bin, conf,
             d->dir);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(d->api_key, sizeof d->api_key, p) || pclose(p) != 0)
        deploy_die(d, "create-api-key");
    d->api_key[strcspn(d->api_key, "\n")] = 0;
    snprintf(d->auth_hdr, sizeof d->auth_hdr, "Authorization: Bearer %s\r\n", d->api_key);
    if (deploy_sh("umask 077 && printf '%%s\\n' '%s' > %s/api-key", d->api_key, d->dir) != 0)
        deploy_die(d, "api-key file");
}

void deploy_start_hub(deploy *d)
{
    char conf[200];
    hub_conf_path(d, conf, sizeof conf);
    d->hub_pid = deploy_spawn(d, d->hub_bin, conf, "hub", NULL, 0);
    for (int i = 0; i < 200; i++) {
        if (hc_request(d->ca, d->api_port, "GET", "/healthz", NULL, NULL, NULL, NULL) == 200)
            return;
        usleep(50000);
    }
    deploy_die(d, "hub start");
}

void deploy_node_conf_path(const deploy *d, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.conf", d->dir, deploy_node[i]);
}

void deploy_write_node_conf(deploy *d, int i, const char *extra_signer)
{
    char path[256];
    const char *dir = d->dir, *id = deploy_node[i];
    deploy_node_conf_path(d, i, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f)
        deploy_die(d, "node config");
    fprintf(f,
            "[signer]\nparty_id = %s\ndatabase = %s/%s.db\nlog_level = %s\n"
            "session_timeout = %d\n%s%s\n"
            "[hub]\nurl = wss://127.0.0.1:%d/v1/party\nca = %s\ncert = %s/%s.pem\n"
            "identity_key = %s/%s.identity\nreconnect_min_ms = 100\nreconnect_max_ms = 1000\n\n"
            "[backend]\nkind = %s\n",
            id, dir, id, d->node_log_level, d->node_session_timeout, d->node_extra,
            extra_signer ? extra_signer : "", d->party_port, d->ca, dir, id, dir, id,
            deploy_backend[i]);
    if (i == 0)
        fprintf(f, "tcti = %s\n", d->tpm.tcti);
    if (i == 0 && d->tpm_primary[0])
        fprintf(f, "primary_name = %s\n", d->tpm_primary);
    else if (i == 1)
        fprintf(f, "module = %s\ntoken_label = %s\nkey_label = seal-key\npin_file = %s\n",
                FX_SOFTHSM_MODULE, d->token.label, d->token.pin_file);
    else if (i >= 2)
        fprintf(f, "key_file = %s/%s.soft-key\nallow_insecure_soft_backend = yes\n", dir, id);
    fclose(f);
}

void deploy_enrol(deploy *d, int i, const char *cert_name)
{
    char conf[256];
    deploy_node_conf_path(d, i, conf, sizeof conf);
    if (deploy_sh("%s --config %s init-identity --csr %s/%s.csr 2>>%s/enrol.log", d->signerd_bin,
                  conf, d->dir, deploy_node[i], d->dir) != 0 ||
        deploy_sh("cd %s && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                  "-out %s.pem -days 2 -extfile client.ext 2>>enrol.log",
                  d->dir, deploy_node[i], cert_name) != 0)
        deploy_die(d, "enrol");
}

void deploy_start_node(deploy *d, int i, const char *tamper, long fsize_limit)
{
    char conf[256], env[128];
    deploy_node_conf_path(d, i, conf, sizeof conf);
    if (tamper)
        snprintf(env, sizeof env, "MPC_SIGNERD_TEST_TAMPER=%s", tamper);
    const char *bin = d->node_bin[i] ? d->node_bin[i] : d->signerd_bin;
    d->node_pid[i] = deploy_spawn(d, bin, conf, deploy_node[i], tamper ? env : NULL, fsize_limit);
}

/* Exits unless 2 <= nodes <= DEPLOY_MAX_NODES. */
static void check_nodes(deploy *d)
{
    if (d->nodes < 2 || d->nodes > DEPLOY_MAX_NODES)
        deploy_die(d, "the node count (2..DEPLOY_MAX_NODES)");
}

void deploy_up(deploy *d)
{
    check_nodes(d);
    deploy_make_ca(d);
    deploy_start_backends(d);
    deploy_init_backends(d);
    d->api_port = deploy_free_port();
    d->party_port = deploy_free_port();
    if (!d->api_port || !d->party_port)
        deploy_die(d, "bind");
    deploy_write_hub_conf(d);
    deploy_create_api_key(d);
    deploy_start_hub(d);
    for (int i = 0; i < d->nodes; i++) {
        char conf[256];
        deploy_write_node_conf(d, i, d->node_signer[i][0] ? d->node_signer[i] : NULL);
        deploy_enrol(d, i, deploy_node[i]);
        deploy_node_conf_path(d, i, conf, sizeof conf);
        if (deploy_sh("%s --config %s check-config 2>>%s/enrol.log", d->signerd_bin, conf,
                      d->dir) != 0)
            deploy_die(d, "check-config");
        deploy_start_node(d, i, NULL, 0);
    }
    for (int i = 0; i < d->nodes; i++)
        if (deploy_wait_online(d, i, 1) != 0)
            deploy_die(d, "signers online");
}

int deploy_api(const deploy *d, const char *method, const char *path, const char *body,
               json_t **out)
{
    char headers[400];
    snprintf(headers, sizeof headers, "%s%s", d->auth_hdr,
             body ? "Content-Type: application/json\r\n" : "");
    return hc_request(d->ca, d->api_port, method, path, headers, body, out, NULL);
}

double deploy_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int deploy_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

const char *deploy_jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

int deploy_party_online(const deploy *d, int i)
{
    json_t *o = NULL, *p;
    size_t k;
    int on = 0;
    deploy_api(d, "GET", "/v1/parties", NULL, &o);
    json_array_foreach(json_object_get(o, "parties"), k, p)
    {
        if (strcmp(deploy_jstr(p, "id"), deploy_node[i]) == 0)
            on = json_is_true(json_object_get(p, "online"));
    }
    json_decref(o);
    return on;
}

int deploy_wait_online(const deploy *d, int i, int online)
{
    for (int k = 0; k < 300; k++) {
        if (deploy_party_online(d, i) == online)
            return 0;
        usleep(50000);
    }
    fprintf(stderr, "party %s did not go %s\n", deploy_node[i], online ? "online" : "offline");
    return -1;
}

double deploy_metric(const deploy *d, const char *name)
{
    char headers[300], *raw = NULL;
    double v = -1;
    size_t n = strlen(name);
    snprintf(headers, sizeof headers, "%s", d->auth_hdr);
    if (hc_request(d->ca, d->api_port, "GET", "/metrics", headers, NULL, NULL, &raw) == 200 && raw)
        for (char *line = raw; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
            if (strncmp(line, name, n) == 0 && line[n] == ' ') {
                v = strtod(line + n + 1, NULL);
                break;
            }
    free(raw);
    return v;
}

long deploy_proc_fds(pid_t pid)
{
    char path[64];
    long n = 0;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dp = opendir(path);
    if (!dp)
        return -1;
    for (struct dirent *e; (e = readdir(dp));)
        n += e->d_name[0] != '.';
    closedir(dp);
    return n;
}

long deploy_proc_rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

double deploy_proc_cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut, st;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* ---- keep-alive client ---- */

struct deploy_client {
    CURL *h;
    struct curl_slist *hdr;
    char base[64];
    char err[CURL_ERROR_SIZE];
    char *buf;
    size_t len, cap;
    long connects;
    double connect_s;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    deploy_client *c = ud;
    size_t k = size * n;
    if (c->len + k + 1 > c->cap) {
        size_t cap = (c->len + k + 1) * 2;
        char *b = realloc(c->buf, cap);
        if (!b)
            return 0;
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, k);
    c->len += k;
    c->buf[c->len] = 0;
    return k;
}

deploy_client *deploy_client_new(const deploy *d, const char *source_ip)
{
    deploy_client *c = calloc(1, sizeof *c);
    char auth[200];
    if (!c || !(c->h = curl_easy_init())) {
        free(c);
        return NULL;
    }
    snprintf(c->base, sizeof c->base, "https://127.0.0.1:%d", d->api_port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", d->api_key);
    c->hdr = curl_slist_append(c->hdr, auth);
    c->hdr = curl_slist_append(c->hdr, "Content-Type: application/json");
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdr);
    curl_easy_setopt(h, CURLOPT_CAINFO, d->ca);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->err);
    if (source_ip)
        curl_easy_setopt(h, CURLOPT_INTERFACE, source_ip);
    return c;
}

void deploy_client_free(deploy_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    curl_slist_free_all(c->hdr);
    free(c->buf);
    free(c);
}

int deploy_client_request(deploy_client *c, const char *method, const char *path, const char *body,
                          json_t **out)
{
    char url[512];
    long status = -1, conns = 0;
    if (out)
        *out = NULL;
    snprintf(url, sizeof url, "%s%s", c->base, path);
    c->len = 0;
    c->err[0] = 0;
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
    else
        curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
    CURLcode rc = curl_easy_perform(c->h);
    curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &conns);
    curl_easy_getinfo(c->h, CURLINFO_APPCONNECT_TIME, &c->connect_s);
    c->connects += conns;
    if (rc != CURLE_OK) {
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (out && c->len)
        *out = json_loadb(c->buf, c->len, 0, NULL);
    return (int)status;
}

const char *deploy_client_error(const deploy_client *c)
{
    return c->err;
}

long deploy_client_connects(const deploy_client *c)
{
    return c->connects;
}

double deploy_client_last_connect_s(const deploy_client *c)
{
    return c->connect_s;
}

int deploy_sig_verifies(json_t *o, const uint8_t pk[33], const uint8_t hash[32])
{
    uint8_t compact[64];
    secp256k1_ecdsa_signature sig;
    secp256k1_pubkey pub;
    const secp256k1_context *ctx = tss_secp_ctx();
    const char *r = deploy_jstr(o, "r"), *s = deploy_jstr(o, "s");
    return strlen(r) == 64 && strlen(s) == 64 && api_hex_decode(compact, 32, r, 64) == API_OK &&
           api_hex_decode(compact + 32, 32, s, 64) == API_OK &&
           secp256k1_ec_pubkey_parse(ctx, &pub, pk, 33) == 1 &&
           secp256k1_ecdsa_signature_parse_compact(ctx, &sig, compact) == 1 &&
           secp256k1_ecdsa_verify(ctx, &sig, hash, &pub) == 1; /* low-s only */
}

int deploy_keygen(deploy_client *c, char key_id[33], uint8_t pk[33])
{
    json_t *o = NULL;
    int st = deploy_client_request(c, "POST", "/v1/keys?wait=30",
                                   "{\"threshold\":2,\"parties\":[\"n1\",\"n2\",\"n3\"]}", &o);
    json_t *k = json_object_get(o, "key") ? json_object_get(o, "key") : o;
    const char *id = deploy_jstr(k, "id"), *hex = deploy_jstr(k, "public_key");
    if (st == 201 &&
        (strlen(id) != 32 || strlen(hex) != 66 || api_hex_decode(pk, 33, hex, 66) != API_OK))
        st = -2;
    if (st == 201)
        memcpy(key_id, id, 33);
    json_decref(o);
    return st;
}

int deploy_sign(deploy_client *c, const char *key_id, const char *a, const char *b,
                const uint8_t hash[32], json_t **out)
{
    char body[300], url[120], h[65], parties[80] = "";
    api_hex_encode(h, hash, 32);
    if (a)
        snprintf(parties, sizeof parties, ",\"parties\":[\"%s\",\"%s\"]", a, b);
    snprintf(body, sizeof body, "{\"hash\":\"%s\"%s}", h, parties);
    snprintf(url, sizeof url, "/v1/keys/%s/sign?wait=30", key_id);
    return deploy_client_request(c, "POST", url, body, out);
}

/* ---- mpcctl against the deployment ---- */

int deploy_ctl(const deploy *d, char **out, const char *fmt, ...)
{
    char args[2000], cmd[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>>%s/mpcctl.log", d->ctl_bin, args, d->dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0)
        len += n;
    if (buf)
        buf[len] = 0;
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int deploy_ctl_error_has(const deploy *d, const char *needle)
{
    return deploy_sh("tail -n 3 %s/mpcctl.log | grep -q -- \"%s\"", d->dir, needle) == 0;
}

void deploy_ctl_env(const deploy *d)
{
    char env[300];
    snprintf(env, sizeof env, "https://127.0.0.1:%d", d->api_port);
    setenv("MPCCTL_HUB", env, 1);
    setenv("MPCCTL_CA", d->ca, 1);
    snprintf(env, sizeof env, "%s/api-key", d->dir);
    setenv("MPCCTL_API_KEY_FILE", env, 1);
}

int deploy_ctl_online(const deploy *d)
{
    char *out = NULL;
    int n = 0;
    if (deploy_ctl(d, &out, "--json parties") == 0) {
        json_t *o = json_loads(out, 0, NULL), *p;
        size_t i;
        json_array_foreach(json_object_get(o, "parties"), i, p)
        {
            n += json_is_true(json_object_get(p, "online"));
        }
        json_decref(o);
    }
    free(out);
    return n;
}

void deploy_ctl_init(deploy *d, const char *prefix, const char *hub_bin, const char *signerd_bin,
                     const char *ctl_bin)
{
    deploy_init(d, prefix, hub_bin, signerd_bin);
    d->ctl_bin = ctl_bin;
    d->log_tail = 20;
    unsetenv("MPCCTL_API_KEY");
    unsetenv("MPCCTL_PARTY_CA");
    if (deploy_ctl(d, NULL, "dev ca %s/ca", d->dir) != 0 ||
        deploy_ctl(d, NULL, "dev issue --ca %s/ca --name hub --server 127.0.0.1", d->dir) != 0)
        deploy_die(d, "mpcctl dev");
    deploy_start_backends(d);
    d->api_port = deploy_free_port();
    d->party_port = deploy_free_port();
}

void deploy_ctl_start_hub(deploy *d)
{
    snprintf(d->ca, sizeof d->ca, "%s/ca/ca.pem", d->dir);
    snprintf(d->server_cert, sizeof d->server_cert, "%s/ca/hub.pem", d->dir);
    snprintf(d->server_key, sizeof d->server_key, "%s/ca/hub.key", d->dir);
    d->hub_session_timeout = 10;
    deploy_write_hub_conf(d);
    deploy_create_api_key(d);
    deploy_ctl_env(d);
    deploy_start_hub(d);
    for (int i = 0; i < 200; i++) {
        if (deploy_ctl(d, NULL, "parties") == 0)
            return;
        usleep(50000);
    }
    deploy_die(d, "hub start");
}

void deploy_ctl_start_nodes(deploy *d, void (*before_start)(deploy *d, int i))
{
    check_nodes(d);
    for (int i = 0; i < d->nodes; i++) {
        const char *id = deploy_node[i];
        deploy_write_node_conf(d, i, NULL);
        if (deploy_ctl(d, NULL, "node init --backend %s --config %s/%s.conf", deploy_backend[i],
                       d->dir, id) != 0 ||
            deploy_ctl(d, NULL, "dev issue --ca %s/ca --name %s --csr %s/%s.csr --out %s/%s.pem",
                       d->dir, id, d->dir, id, d->dir, id) != 0)
            deploy_die(d, "node init / dev issue");
        if (before_start)
            before_start(d, i);
        deploy_start_node(d, i, NULL, 0);
    }
    for (int k = 0; k < 200; k++) {
        if (deploy_ctl_online(d) == d->nodes)
            return;
        usleep(50000);
    }
    deploy_die(d, "signers online");
}
