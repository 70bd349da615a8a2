/* daemon/signerd/signer.h — the signer daemon's shared state and the interfaces between its
 * files: config.c (INI), store.c (SQLite: shares, used sids, bans, audit chain), chan.c
 * (round 0 and the end-to-end channel), ident.c (the node's identity key and certificate,
 * peer certificate checks), link.c (the party link to the hub, libwebsockets client on our
 * libuv loop), session.c (keygen and sign sessions on the libuv thread pool).
 * Threads: everything in `signer` except what is marked is touched on the loop thread
 * only; session work runs on pool threads, one job per session at a time. */
#ifndef SIGNER_H
#define SIGNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <uv.h>

#include "api/frame.h"
#include "api/json.h"
#include "config.h"
#include "hsm/hsm.h"
#include "store.h"
#include "tss/ban.h"
#include "tss/keyshare.h"

#define SIGNER_VERSION "0.1.0"

struct signer_session;
struct signer_cached_share;
struct signer_policy_ref;

/* One encoded frame waiting for the link (LWS_PRE bytes of headroom before data). */
typedef struct signer_out {
    struct signer_out *next;
    size_t len;
    uint8_t buf[]; /* LWS_PRE + frame */
} signer_out;

/* A frame that arrived for a session this node has not started yet (held in order). */
typedef struct signer_held {
    struct signer_held *next;
    uint64_t at_ms;
    size_t len;
    uint8_t data[];
} signer_held;

typedef struct signer {
    signer_config cfg;
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t watchdog, reconnect;
    int stopping;
    unsigned pool_threads; /* libuv thread pool size (UV_THREADPOOL_SIZE) */

    /* identity (ident.c) */
    EVP_PKEY *id_key; /* the certificate's private key, unsealed at start */
    X509 *id_cert;
    uint8_t id_fp[32];
    X509_STORE *trust; /* CA + CRL for the peers' certificates */

    signer_store *store; /* thread-safe */
    hsm_backend *hsm;    /* thread-safe */
    tss_banlist *bans;   /* thread-safe */
    const char *backend_name;

    /* party ids of recently seen certificate fingerprints, so a ban (whose callback knows
     * only the fingerprint) can name the party; guarded by names_lock */
    pthread_mutex_t names_lock;
    struct {
        uint8_t fp[32];
        api_party_name id;
    } names[64];
    unsigned names_next;

    /* the request policy (gate.c): loaded at start, replaced on SIGHUP; sessions hold a
     * reference while they decide. NULL when the config names no [policy] file. Guarded by
     * policy_lock. */
    pthread_mutex_t policy_lock;
    struct signer_policy_ref *policy;

    /* share cache ([signer] share_cache = memory); guarded by cache_lock */
    pthread_mutex_t cache_lock;
    struct signer_cached_share *cache;
    /* reshares this process dealt for without being in the new committee (key id, new
     * epoch), the last 32: only these let a retire delete this node's ACTIVE share of the
     * epoch before (session.c); a retire of an active share without one is refused, so a
     * hub cannot make a node drop a live share out of the blue. Guarded by cache_lock. */
    struct {
        char key_id[33];
        uint32_t epoch;
    } dealt[32];
    unsigned ndealt;

    /* link (link.c) */
    struct lws_context *lws;
    struct lws *wsi;
    int link_up, ready_sent;
    unsigned attempts; /* consecutive failed connection attempts */
    signer_out *out_head, *out_tail;
    uint8_t *rx;
    size_t rx_len;

    /* sessions (session.c) */
    struct signer_session *sessions;
    size_t nsessions; /* in the list: running, and finished ones remembered for a while */
    size_t nactive;   /* not finished: what [signer] max_sessions bounds */
    signer_held *held;
    size_t nheld;
    /* Frames from the hub take effect in the order they came. An activate (or retire) runs
     * on the thread pool; while one runs, every later frame waits here, in order, and is
     * handled when it is done — so a session-start sent after a key's activate always finds
     * the share active (the hub answers "key created" as it sends activate). */
    int activating;
    signer_held *deferred, **deferred_tail;
    size_t ndeferred;
} signer;

/* ident.c */
int signer_ident_load(signer *sd);  /* unseal the identity key, load cert, CA, CRL */
void signer_ident_free(signer *sd); /* wipes the key */
/* Parses a peer certificate (PEM), checks it chains to the CA (and is not revoked), that
 * its CN equals id and its key is P-256; writes its fingerprint. NULL with why[] set. */
X509 *signer_ident_check_peer(signer *sd, const char *pem, const char *id, uint8_t fp[32],
                              char *why, size_t cap);
/* ECDSA-SHA256 (DER) with the identity key. 0 or -1. */
int signer_ident_sign(signer *sd, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len);
/* Generates (or imports from a PEM file) the identity key, seals it to [hub] identity_key and
 * writes a CSR with CN = party id. Operator command. */
int signer_ident_init(const signer_config *cfg, hsm_backend *hsm, const char *import_pem,
                      const char *csr_path);

/* link.c */
int signer_link_start(signer *sd); /* creates the lws context and dials */
void signer_link_stop(signer *sd); /* closes the link, destroys the context */
/* Queues a frame for the hub (encodes it). 0, or -1 if the link is down or encoding fails. */
int signer_link_send(signer *sd, const api_frame *f);

/* gate.c: what this signer agrees to sign (issue 15; policy.h) */
/* Loads [policy] file (checking its signature when [policy] public_key is set). 0, or -1
 * with the reason logged: the daemon must not start. No file configured: 0, no policy. */
int signer_gate_load(signer *sd);
/* SIGHUP: loads the file again; on any error keeps the policy in force and logs why. */
void signer_gate_reload(signer *sd);
void signer_gate_free(signer *sd);
/* Decides a sign session-start before round 0: computes the digest from the typed payload
 * (refusing a `hash` that differs), applies the policy and checks the approvals, then claims
 * the request id and the velocity window durably (store.h). 0: the session may run, audit
 * receives a line for the audit log (request id, approvers, policy digest). -1: why holds
 * the reason for the abort ("policy: ...", "approval: ..."). Runs on a pool thread. */
int signer_gate_authorize(signer *sd, const api_session_start *st, char *why, size_t cap,
                          char *audit, size_t audit_cap);

/* session.c */
void signer_session_on_frame(signer *sd, const uint8_t *data, size_t len, const api_frame *f);
/* The link went down: every session aborts (the hub has failed them). */
void signer_session_abort_all(signer *sd, const char *why);
/* Releases cached shares (wiped). */
void signer_session_cache_clear(signer *sd);
/* The ban list's persist callback: writes the ban (fsync) before returning. */
int signer_session_persist_ban(void *ctx, const uint8_t fp[32], tss_err reason);

uint64_t signer_now_ms(void);

#endif
