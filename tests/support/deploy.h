/* tests/support/deploy.h — a local deployment for integration tests and benchmarks: a temp
 * dir, a development CA and the hub's server certificate (openssl CLI), a swtpm and a
 * SoftHSM2 token (tests/hsm/fixture.h), the hub (config, API key, start, stop) and
 * `nodes` signers (3 unless a test asks for up to DEPLOY_MAX_NODES): n1 (tpm2 on the
 * swtpm), n2 (pkcs11 on SoftHSM2), n3, n4 and n5 (soft, each with its own key file): configs,
 * enrolment (init-identity + a certificate from the CA), start, stop, kill; waiting until
 * the hub sees them online; an HTTPS helper for the REST API; /proc figures of a process.
 *
 * One deployment per process. Everything it starts is stopped and the directory removed
 * at exit (atexit; MPC_KEEP_TEST_DIR=1 keeps the directory), and every daemon it spawns
 * dies with the process that spawned it (PR_SET_PDEATHSIG) — which is the *thread* that
 * called fork: spawn from the main thread (or one that lives as long as the deployment).
 * Failures of setup steps print the daemons' logs and exit(1) (deploy_die). No cmocka. */
#ifndef TEST_SUPPORT_DEPLOY_H
#define TEST_SUPPORT_DEPLOY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "../hsm/fixture.h"

/* DEPLOY_NODES: the signers a deployment runs unless the test sets `nodes` (what every test
 * written before DEPLOY_MAX_NODES loops over); DEPLOY_MAX_NODES: the most it can run, the
 * size of the per-node arrays. */
#define DEPLOY_NODES     3
#define DEPLOY_MAX_NODES 5

extern const char *const deploy_node[DEPLOY_MAX_NODES];    /* "n1" .. "n5" */
extern const char *const deploy_backend[DEPLOY_MAX_NODES]; /* "tpm2", "pkcs11", then "soft" */

typedef struct deploy {
    char dir[128];
    const char *hub_bin, *signerd_bin;
    const char *ctl_bin; /* the mpcctl binary, for deploy_ctl* (set after deploy_init) */
    /* the signers n1..n<nodes> that deploy_up / deploy_ctl_start_nodes set up and every
     * function here loops over: 2..DEPLOY_MAX_NODES, DEPLOY_NODES (3) unless set between
     * deploy_init (or deploy_ctl_init) and deploy_up (deploy_ctl_start_nodes) */
    int nodes;
    const char *node_bin[DEPLOY_MAX_NODES]; /* per node; NULL: signerd_bin */
    /* certificates: the CA both sides trust, the hub's server certificate and key */
    char ca[200], server_cert[200], server_key[200];
    int api_port, party_port;
    pid_t hub_pid, node_pid[DEPLOY_MAX_NODES];
    fx_swtpm tpm;
    fx_softhsm token;
    char tpm_primary[200]; /* "" until deploy_init_backends (or node init pins it) */
    char api_key[128], auth_hdr[200];
    /* written into the configs (set before writing them) */
    int hub_session_timeout;    /* [sessions] timeout; default 8 */
    int node_session_timeout;   /* every node's [signer] session_timeout; default 10 */
    char hub_extra_api[256];    /* extra lines of [api] (e.g. max_connections_per_address) */
    char hub_extra_sess[256];   /* extra lines of [sessions] */
    const char *hub_log_level;  /* default "info" */
    const char *node_log_level; /* default "info" */
    char node_extra[256];       /* extra lines of every node's [signer] */
    char node_signer[DEPLOY_MAX_NODES][128]; /* extra [signer] lines of node i only
                                              * (deploy_up), e.g. "role = delegate\n" */
    int log_tail; /* lines per log that deploy_dump_logs prints; default 25 */
} deploy;

/* 0 if swtpm, softhsm2-util and openssl are on PATH (else says so: -1); ignores SIGPIPE
 * (a daemon that closes a connection must not kill the test). */
int deploy_check_tools(void);

/* Creates dir /tmp/PREFIX-XXXXXX, registers the cleanup; the binaries are kept by
 * pointer. Exits on failure. */
void deploy_init(deploy *d, const char *prefix, const char *hub_bin, const char *signerd_bin);

/* Everything a standard test deployment needs, in order: deploy_make_ca,
 * deploy_start_backends, deploy_init_backends, free ports, the hub config, an API key,
 * the hub, then each of the `nodes` nodes' config (node_extra), enrolment, check-config and
 * start; waits until all are online. Exits on failure (also if nodes is out of range). */
void deploy_up(deploy *d);

/* SIGTERM to the `nodes` signers, then the hub: 0 if every one exited 0 (in the sanitizer build
 * that includes no leak), else says which did not, prints the logs and returns -1. */
int deploy_stop_all_clean(deploy *d);

/* Stops every daemon (SIGKILL; every node slot, whatever `nodes` says), the swtpm and the token,
 * removes the dir. Idempotent; also runs at exit. */
void deploy_cleanup(deploy *d);

/* The last lines of every log in the dir, on stderr. */
void deploy_dump_logs(const deploy *d);

/* Prints "fixture: WHAT failed", the logs, cleans up and exits 1. */
void deploy_die(deploy *d, const char *what) __attribute__((noreturn));

/* system() of a formatted command; its exit status (-1 if it did not exit). */
int deploy_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A free TCP port on 127.0.0.1 (0 on failure). */
int deploy_free_port(void);

/* Sends sig and waits up to 5 s; then SIGKILL. Returns the exit status (128 + signal if it
 * died of one, -1 if it had to be killed); *pid becomes -1. No-op (0) if *pid <= 0. */
int deploy_stop_pid(pid_t *pid, int sig);

/* Forks and execs `bin --config conf`, stderr appended to dir/LOG.log; the child dies
 * with this thread (PR_SET_PDEATHSIG). env: "NAME=VALUE" to set in the child or NULL;
 * fsize_limit > 0 caps the files it may write (a full disk). */
pid_t deploy_spawn(const deploy *d, const char *bin, const char *conf, const char *log,
                   const char *env, long fsize_limit);

/* A development CA (dir/ca.pem, ca.key) and the hub's certificate (dir/server.pem, .key,
 * subjectAltName IP:127.0.0.1, serverAuth); client.ext for node certificates. */
void deploy_make_ca(deploy *d);

/* Starts the swtpm and the SoftHSM2 token "n2-token" (PIN 123456). */
void deploy_start_backends(deploy *d);
/* Creates n1's TPM storage primary (tpm_primary) and the soft key of each soft node i < nodes
 * (dir/n3.soft-key, dir/n4.soft-key, ...). */
void deploy_init_backends(deploy *d);

/* dir/hub.conf from the fields above. */
void deploy_write_hub_conf(deploy *d);
/* Creates an API key "tests": api_key, auth_hdr, and dir/api-key (0600). */
void deploy_create_api_key(deploy *d);
/* Starts the hub and waits until /healthz answers 200 (10 s). */
void deploy_start_hub(deploy *d);

/* dir/nI.conf, dir/nI.db, dir/nI.pem, dir/nI.identity for node i (0 <= i < nodes). */
void deploy_node_conf_path(const deploy *d, int i, char *out, size_t cap);
/* Writes node i's config: node_extra plus extra_signer (may be NULL) in [signer]; n1 pins
 * tpm_primary when it is set; a soft node (n3 and up) uses dir/nI.soft-key. */
void deploy_write_node_conf(deploy *d, int i, const char *extra_signer);
/* mpc-signerd init-identity writes a CSR; the CA certifies it as dir/CERT_NAME.pem. */
void deploy_enrol(deploy *d, int i, const char *cert_name);
/* Starts node i (tamper: MPC_SIGNERD_TEST_TAMPER for a test build, or NULL). */
void deploy_start_node(deploy *d, int i, const char *tamper, long fsize_limit);

/* One HTTPS request to the REST API with the API key (a new TLS connection); returns the
 * status (-1: no connection) and the JSON body in *out (may be NULL). */
int deploy_api(const deploy *d, const char *method, const char *path, const char *body,
               json_t **out);
/* 1 if the hub lists party node[i] as online, else 0. */
int deploy_party_online(const deploy *d, int i);
/* Waits up to 15 s until node i is (online = 1) or is not (0) online. 0, or -1. */
int deploy_wait_online(const deploy *d, int i, int online);
/* A sample of the hub's /metrics (e.g. "mpc_hub_sessions_in_flight"); -1 if absent. */
double deploy_metric(const deploy *d, const char *name);

/* Open fds and resident memory (kB) of a process, from /proc; -1 if unknown. */
long deploy_proc_fds(pid_t pid);
long deploy_proc_rss_kb(pid_t pid);
/* User + system CPU time of a process so far, in milliseconds; -1 if unknown. */
double deploy_proc_cpu_ms(pid_t pid);

/* A keep-alive HTTPS client of the REST API (libcurl; one easy handle, its connection
 * reused between requests), for one thread. source_ip (e.g. "127.0.0.2", or NULL) is the
 * address it connects from: the hub caps connections per client address (32 by default),
 * so many clients spread over 127.0.0.x. */
typedef struct deploy_client deploy_client;
deploy_client *deploy_client_new(const deploy *d, const char *source_ip);
void deploy_client_free(deploy_client *c);
/* One request; returns the HTTP status (-1: transport error, see deploy_client_error) and
 * the JSON body in *out (NULL if none or not JSON; out may be NULL). */
int deploy_client_request(deploy_client *c, const char *method, const char *path, const char *body,
                          json_t **out);
const char *deploy_client_error(const deploy_client *c);
/* New connections this client has opened so far (1 when keep-alive held throughout). */
long deploy_client_connects(const deploy_client *c);
/* Seconds of the last request spent before the request was sent (TCP + TLS). */
double deploy_client_last_connect_s(const deploy_client *c);

/* 1 if the sign result o (r, s, recovery_id hex/int) verifies for hash under the
 * compressed public key pk with libsecp256k1 (low-s required), else 0. */
int deploy_sig_verifies(json_t *o, const uint8_t pk[33], const uint8_t hash[32]);

/* A 2-of-3 keygen over c (?wait=30): returns the HTTP status; on 201 the key's id and
 * compressed public key. */
int deploy_keygen(deploy_client *c, char key_id[33], uint8_t pk[33]);
/* Signs hash with key_id over c (?wait=30); signers a, b (NULL: the hub picks). Returns the
 * HTTP status and the response in *out. */
int deploy_sign(deploy_client *c, const char *key_id, const char *a, const char *b,
                const uint8_t hash[32], json_t **out);

/* ---- mpcctl (ctl_bin) against the deployment ---- */

/* deploy_init with ctl_bin for a deployment set up with mpcctl itself: logs tail 20 lines,
 * MPCCTL_API_KEY and MPCCTL_PARTY_CA unset, a development CA in dir/ca and the hub's
 * certificate from it (`mpcctl dev ca`, `dev issue --server`), the backends started, free
 * ports; next come deploy_ctl_start_hub and deploy_ctl_start_nodes. Exits on failure. */
void deploy_ctl_init(deploy *d, const char *prefix, const char *hub_bin, const char *signerd_bin,
                     const char *ctl_bin);
/* Runs `ctl_bin ARGS` (ARGS: the formatted shell fragment, at most 2000 bytes); its stdout
 * into *out (malloc'd, NUL-terminated, at most 64 KiB; out may be NULL), its stderr appended
 * to dir/mpcctl.log. Returns mpcctl's exit code, -1 if it could not run or did not exit. */
int deploy_ctl(const deploy *d, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 if the last 3 lines of dir/mpcctl.log contain needle (no '"', '$', '`' or backslash). */
int deploy_ctl_error_has(const deploy *d, const char *needle);
/* Points mpcctl at the hub through its environment: MPCCTL_HUB (api_port), MPCCTL_CA (ca)
 * and MPCCTL_API_KEY_FILE (dir/api-key). */
void deploy_ctl_env(const deploy *d);
/* How many parties `mpcctl --json parties` lists as online (0 if it fails). */
int deploy_ctl_online(const deploy *d);
/* The hub with the certificate `mpcctl dev` issued in dir/ca (ca.pem, hub.pem, hub.key),
 * session timeout 10 s, an API key, deploy_ctl_env; waits until `mpcctl parties` answers. */
void deploy_ctl_start_hub(deploy *d);
/* Each node set up with mpcctl: its config, `node init` (which pins n1's TPM primary in its
 * config), a certificate from the development CA (`dev issue`), then before_start(d, i)
 * (NULL: none) and the start, for each of the `nodes` nodes; waits until mpcctl sees them all
 * online. */
void deploy_ctl_start_nodes(deploy *d, void (*before_start)(deploy *d, int i));

/* CLOCK_MONOTONIC in milliseconds; a qsort comparator of doubles. */
double deploy_now_ms(void);
int deploy_cmp_double(const void *a, const void *b);

/* A JSON member as a string ("" if absent). */
const char *deploy_jstr(json_t *o, const char *key);

#endif
