/* tests/signerd/hostile_fixture.h — the fixture of the tests in which THE TEST IS THE HUB
 * (test_hostile_hub.c, test_approvals.c): a temporary CA with the hub's server certificate
 * and a CRL, a fake_hub (fake_hub.h) and three real mpc-signerd processes (n1, n2, n3; soft
 * backend; SIGNERD_BIN) enrolled under that CA and dialling it. On top of it, the sessions as
 * this hub sees them: the test starts sessions, relays every protocol frame itself (by
 * session and recipient, through an optional tamper hook), records each participant's
 * outcome and, like the real hub, forwards one signer's abort to the others.
 *
 * The fixture is process-wide state (one per test binary). Every hf_* that can fail in the
 * fixture itself (files, processes, certificates) calls hf_die: it prints the signers' logs,
 * kills them, removes the directory (unless MPC_KEEP_TEST_DIR is set) and exits 1. The
 * hf_expect_* checks are cmocka assertions. */
#ifndef HOSTILE_FIXTURE_H
#define HOSTILE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "api/frame.h"
#include "fake_hub.h"

#define HF_NN    3   /* signers: n1, n2, n3 */
#define HF_MAXP  3   /* participants of one session */
#define HF_MAXS  128 /* sessions of one test binary */
#define HF_RUN   0   /* no outcome yet */
#define HF_DONE  1   /* result */
#define HF_ABORT 2   /* the signer aborted */
#define HF_TOLD  3   /* we (the hub) aborted it after another party's abort */

typedef struct hf_sess {
    uint8_t id[16];
    int n;
    unsigned idx[HF_MAXP]; /* session index of participant p */
    int node[HF_MAXP];
    int state[HF_MAXP];
    char text[HF_MAXP][1024]; /* result JSON or abort reason */
    int r0[HF_MAXP], proto[HF_MAXP];
    int propagate; /* forward a signer's abort to the others, as the real hub does */
    uint8_t *r0rec[HF_MAXP][HF_MAXP]; /* the round-0 frame p sent to q, as sent */
    size_t r0len[HF_MAXP][HF_MAXP];
} hf_sess;

/* A tamper hook sees every protocol frame the hub routes (header + payload, writable) and
 * returns how many copies to forward (0, 1 or 2). */
typedef int (*hf_tamper_fn)(hf_sess *s, int from_p, int to_p, uint8_t *frame, size_t len,
                            const api_frame *f);

/* A participant of a session-start. */
typedef struct {
    unsigned index;
    const char *id;
    const char *cert; /* file name in hf_dir */
} hf_party;

/* A key as the hub knows it (hex strings). */
typedef struct {
    char kid[33], pk[67], nonce[65];
    unsigned t, n;
} hf_key;

/* What differs between the tests that use the fixture. */
typedef struct {
    const char *name;        /* the directory is /tmp/mpc-<name>-XXXXXX */
    const char *extra_pki;   /* shell commands run in hf_dir once ca.{key,pem}, hub.{key,pem} and
                                client.ext exist, before the CRL is made; NULL: none */
    const char *revoke;      /* a certificate file (made by extra_pki) the CRL revokes; NULL */
    int max_sessions[HF_NN]; /* each signer's max_sessions; 0: 64 */
    void (*conf_tail)(FILE *f, int i); /* appends to signer i's config; NULL: nothing */
    void (*prepare)(void);             /* after the PKI, before the signers; NULL */
    void (*before_start)(int i);       /* after signer i's config is written; NULL */
} hf_options;

extern const char *const hf_node[HF_NN]; /* the party ids (certificate CNs) */
extern char hf_dir[128];                 /* the temporary directory */
extern pid_t hf_pid[HF_NN];              /* -1 while a signer is not running */
extern fake_hub *hf_hub;
extern int hf_port;
extern unsigned hf_hellos[HF_NN];     /* hello frames received per signer */
extern int hf_pongs[HF_NN];           /* pong frames received per signer */
extern unsigned hf_dropped;           /* frames not routed: unknown session or finished recipient */
extern unsigned hf_busy_aborts;       /* aborts outside any participant saying "busy" */
extern unsigned hf_other_aborts;      /* other aborts outside any participant */
extern char hf_last_other_abort[256]; /* the reason of the last of those */
extern hf_sess hf_sessions[HF_MAXS];
extern int hf_nsess;
extern hf_tamper_fn hf_tamper; /* NULL: forward every frame once */
extern hf_options hf_opt;      /* as given to hf_setup */

/* ---- set-up and tear-down ---- */

/* Makes hf_dir and the PKI, starts the fake hub, writes each signer's config, enrols and
 * starts the signers and waits for all links. Registers hf_cleanup with atexit. */
void hf_setup(const hf_options *o);
/* SIGTERM to every signer, then hf_cleanup. */
void hf_teardown(void);

/* ---- processes and files ---- */

/* system() of the formatted command; its status. */
int hf_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sends sig to signer i and reaps it (SIGKILL after 5 s). */
void hf_stop(int i, int sig);
/* Kills every signer, frees the hub and removes hf_dir (kept with MPC_KEEP_TEST_DIR). */
void hf_cleanup(void);
/* The tail of every signer's log to stderr. */
void hf_dump_logs(void);
/* The fixture failed at `what`: logs, clean-up, exit(1). */
void hf_die(const char *what) __attribute__((noreturn));
/* hf_dir/<node>.conf */
void hf_conf_path(char *out, size_t cap, int i);
/* Writes signer i's config (hf_opt.max_sessions, hf_opt.conf_tail). */
void hf_write_conf(int i);
/* Forks and execs signer i, its stderr appended to hf_dir/<node>.log. */
void hf_start_node(int i);
/* 1 while signer i runs. */
int hf_alive(int i);
/* The file hf_dir/name, NUL-terminated (at most 64 KiB), malloc'd; NULL if unreadable. */
char *hf_slurp(const char *name);
/* Lines printed by `mpc-signerd --config X <args>` on stdout, -1 if it fails. */
int hf_admin_lines(int i, const char *args, char *out, size_t cap);

/* ---- sessions as this hub sees them ---- */

/* A new session of n participants on the given nodes, at idx (NULL: 1..n); random id. */
hf_sess *hf_new_sess(int n, const int *nodes, const unsigned *idx);
/* The latest session with this id, or NULL. */
hf_sess *hf_find_sess(const uint8_t id[16]);
/* The participant with session index idx, or -1. */
int hf_part_of(const hf_sess *s, unsigned idx);
/* The node of a party id, or -1. */
int hf_node_of(const char *party);
/* Encodes one frame and sends it to node; 0 or -1. */
int hf_send_frame(int node, uint8_t type, const uint8_t id[16], unsigned from, unsigned to,
                  unsigned round, const void *payload, size_t len);
/* An abort from the hub to participant p. */
void hf_hub_abort(hf_sess *s, int p, const char *why);
/* What the hub does with one message from a signer: answers pings, counts hellos and pongs,
 * relays protocol frames (through hf_tamper), records results and aborts. */
void hf_on_message(const char *party, int op, uint8_t *msg, size_t len);
/* CLOCK_MONOTONIC in ms. */
uint64_t hf_now_ms(void);
/* 1 when no participant of the count sessions is still running. */
int hf_all_done(hf_sess **ss, int count);
/* Relays until every listed session has an outcome from every participant (1), or ms pass
 * (0). With count == 0, relays for ms. */
int hf_run(hf_sess **ss, int count, int ms);
int hf_run1(hf_sess *s, int ms);
void hf_pump(int ms);
/* Relays until every signer is linked and said hello (30 s, else hf_die). */
void hf_wait_links(void);

/* ---- session-starts and outcomes ---- */

/* bytes random bytes as hex into out (2 * bytes + 1). */
void hf_hexr(char *out, size_t bytes);
/* A session-start payload (JSON text, malloc'd). Sign fields when hash != NULL, with the
 * derivation path and the approval JSON (NULL: null); hf_start_json: path "m", no approval. */
char *hf_start_json_ex(const char *kind, const char *kid, unsigned t, unsigned n, unsigned index,
                       const hf_party *ps, int np, const char *nonce, const char *hash,
                       const char *pk, const char *path, const char *approval);
char *hf_start_json(const char *kind, const char *kid, unsigned t, unsigned n, unsigned index,
                    const hf_party *ps, int np, const char *nonce, const char *hash,
                    const char *pk);
/* Sends a session-start to participant p. */
void hf_send_start(hf_sess *s, int p, const char *json);
/* The certificate file name of a node. */
void hf_cert_name(char *out, size_t cap, int node);
/* Starts a keygen among nodes (indices 1..n in that order); fills k (not pk). starts (may be
 * NULL) receives each participant's session-start (malloc'd). */
hf_sess *hf_keygen_start(const int *nodes, int n, unsigned t, hf_key *k, char **starts);
/* The string field of a JSON object text, "" if absent. */
const char *hf_jget(const char *json, const char *field, char *out, size_t cap);
/* Every participant produced a result (else logs and fail). */
void hf_expect_results(hf_sess *s);
/* Sends the activation of k (every party's attestation and certificate) to s's parties. */
void hf_activate(hf_sess *s, const hf_key *k);
/* Starts a signing session of k with the given nodes (keygen index = node + 1) on hash along
 * path; approval[p] (approval NULL: none) is the approval JSON participant p gets; starts as
 * for hf_keygen_start. hf_sign_start: path "m", no approvals. */
hf_sess *hf_sign_start_ex(const hf_key *k, const int *nodes, int n, const char *hash,
                          const char *path, const char *const *approval, char **starts);
hf_sess *hf_sign_start(const hf_key *k, const int *nodes, int n, const char *hash, char **starts);
/* Every participant's signature verifies against k's public key (libsecp256k1). */
void hf_expect_signature(hf_sess *s, const hf_key *k, const char *hash);
/* No participant produced a result; at least one aborted with `needle` in its reason. */
void hf_expect_aborted(hf_sess *s, const char *needle);
/* Every signer still runs. */
void hf_expect_alive(void);

#endif
