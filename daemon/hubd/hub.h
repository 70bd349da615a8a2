/* daemon/hubd/hub.h — the session hub's shared state and the interfaces between its
 * files: config.c (INI), store.c (SQLite), auth.c (API keys, allow-list, rate limit),
 * rest.c + head.c (the REST port: TLS, strict HTTP/1.1 heads, deadlines), http.c (what
 * REST requests mean), link.c (party link on the lws WSS vhost), session.c
 * (keygen/sign state machines and routing), crypto.c (signature checks, BIP32 public
 * derivation, Ethereum address), conn.c (connection caps), metrics.c. Everything runs on
 * one libuv loop thread. */
#ifndef HUB_H
#define HUB_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <sqlite3.h>
#include <uv.h>

#include "api/error.h"
#include "api/frame.h"
#include "api/json.h"
#include "api/reshare.h"
#include "head.h"

#define HUB_VERSION      "0.1.0"
#define HUB_ID_BYTES     16
#define HUB_ID_HEX       (2 * HUB_ID_BYTES + 1)
#define HUB_MAX_ALLOW    32
#define HUB_RATE_BUCKETS 1024
#define HUB_MAX_LISTEN   8

/* The TLS policy of both ports: TLS 1.2 with ECDHE + AEAD suites only, and TLS 1.3. */
#define HUB_TLS12_CIPHERS                                                                          \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define HUB_TLS13_CIPHERS                                                                          \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

typedef struct {
    char database[PATH_MAX];
    int log_level;
    /* [api] */
    char api_listen[64];
    unsigned api_port;
    char api_cert[PATH_MAX], api_key[PATH_MAX];
    char api_client_ca[PATH_MAX]; /* optional: require client certs on the REST API too */
    char allow[2048];             /* comma-separated CIDRs; empty = everyone */
    unsigned max_body;            /* bytes */
    unsigned rate_limit;          /* requests per second per client address; 0 = off */
    unsigned rate_burst;
    unsigned header_timeout;     /* seconds for the TLS handshake and the request headers */
    unsigned body_timeout;       /* seconds for a whole request body */
    unsigned idle_timeout;       /* seconds a keep-alive connection may sit idle */
    unsigned max_conns;          /* connections on both ports (clamped below the fd limit) */
    unsigned max_conns_per_addr; /* connections from one address (IPv6: one /64) */
    /* [party] */
    char party_listen[64];
    unsigned party_port;
    char party_cert[PATH_MAX], party_key[PATH_MAX], party_ca[PATH_MAX];
    unsigned party_ping;       /* seconds of silence before the hub pings a signer; 0 = never */
    unsigned party_timeout;    /* seconds of silence (no pong) before the link is dropped */
    unsigned party_high_water; /* bytes queued to a signer above which the hub stops reading
                                * from whoever routes a protocol frame to it */
    /* [sessions] */
    unsigned session_timeout; /* seconds */
    unsigned max_sessions;    /* in flight */
    unsigned max_wait;        /* longest ?wait= in seconds */
    unsigned delegate_pickup; /* seconds a delegate share is held (memory only) for pickup */
    unsigned max_peer_bytes;  /* protocol bytes a party may send per other participant in one
                               * session; beyond (n - 1) times this the session fails */
} hub_config;

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;
} hub_cidr;

/* One token bucket per client address (IPv6: per /64), in a fixed table: an address
 * that is not in it takes a free slot or evicts the least recently used one. */
typedef struct {
    uint8_t addr[16];
    int used;
    double tokens;
    uint64_t last_ms;
    uint64_t last_use; /* order of use, for eviction (milliseconds tie too often) */
} hub_rate_bucket;

struct hub_rconn;

/* An open connection on either port, for the per-address and total caps. */
typedef struct {
    struct lws *wsi;      /* party link (lws), or NULL */
    struct hub_rconn *rc; /* REST port (rest.c), or NULL */
    int fd;
    uint64_t accepted_ms;
    uint8_t addr[16];
    int request_seen; /* a complete request head (HTTP request or WebSocket upgrade) */
} hub_conn;

typedef struct {
    uint64_t http_requests[6]; /* by status class 1xx..5xx, index 0 unused */
    uint64_t http_latency_us_sum, http_latency_count;
    uint64_t sessions_started[3], sessions_done[3],
        sessions_failed[3]; /* [keygen, sign, reshare] */
    uint64_t frames_routed, frames_dropped, links_rejected, auth_failures, rate_limited;
    uint64_t links_throttled; /* times a sender's reads were paused (backpressure) */
} hub_metrics;

struct hub_link;
struct hub_session;
struct hub_req;
struct hub_rest;
struct hub_pickup;

typedef struct hub {
    hub_config cfg;
    uv_loop_t loop;
    uv_signal_t sig_term, sig_int;
    uv_timer_t tick;           /* 1 s: watchdog, rate-bucket ageing */
    struct lws_context *lws;   /* the party link */
    struct hub_rest *rest;     /* the REST port (rest.c) */
    lws_retry_bo_t party_idle; /* lws keeps a pointer: lives as long as the hub */
    sqlite3 *db;
    hub_cidr allow[HUB_MAX_ALLOW];
    size_t nallow;
    hub_rate_bucket rate[HUB_RATE_BUCKETS];      /* requests with a valid API key */
    hub_rate_bucket rate_fail[HUB_RATE_BUCKETS]; /* failed authentications */
    hub_conn *conns;                             /* max_conns entries */
    unsigned nconns, conns_cap;
    uv_timer_t conn_sweep;   /* handshake deadline, every 500 ms */
    uv_timer_t emfile_timer; /* EMFILE: drain the listeners once */
    int listen_fds[HUB_MAX_LISTEN], spare_fd, emfile_pending;
    unsigned nlisten;
    uint64_t conns_refused;
    struct hub_link *links;
    struct hub_session *sessions;
    unsigned nsessions;
    struct hub_pickup *pickups; /* delegate shares waiting for the backend (delegate.c) */
    int stopping;
    uint64_t stopping_ms;
    unsigned responses_pending; /* HTTP responses queued and not yet written (any request:
                                 * also answers a session gave just before SIGTERM) */
    uv_timer_t grace;           /* SIGTERM: waits for them (at most 2 s), then stops lws */
    uint64_t started_ms;
    hub_metrics m;
} hub;

/* config.c */
int hub_config_load(hub_config *cfg, const char *path);

/* util */
uint64_t hub_now_ms(void);
void hub_id_hex(char out[HUB_ID_HEX], const uint8_t id[HUB_ID_BYTES]);
int hub_id_parse(uint8_t id[HUB_ID_BYTES], const char *hex, size_t len);
int hub_random(uint8_t *out, size_t len);

/* store.c: every function returns 0 on success, -1 on a storage error (logged), and
 * 1 for "not found" where that is a possible outcome. */
typedef struct {
    uint8_t id[HUB_ID_BYTES];
    char label[API_LABEL_MAX + 1];
    unsigned threshold, n;
    api_party_name parties[API_MAX_PARTIES];
    char status[16]; /* pending, active, failed */
    uint8_t public_key[33];
    uint8_t chain_code[32];
    int has_public_key; /* insert: an import's key, stored while it is pending */
    char external_id[API_EXTERNAL_ID_MAX + 1]; /* insert only: "" or the backend's id */
    api_party_name delegate;                   /* insert only: "" or the delegate party */
    char import_source[16]; /* insert only: "" or "key" / "tss-lib" (keys.imported = 1) */
} hub_key_row;

/* Per-key data beyond the keys table (store.c, table key_ext). */
typedef struct {
    char external_id[API_EXTERNAL_ID_MAX + 1]; /* "" if none */
    api_party_name delegate;                   /* "" if none */
    size_t nsigners;                           /* 0: no default signers */
    api_party_name signers[API_MAX_PARTIES];
} hub_key_ext;

int hub_store_open(hub *h);
void hub_store_close(hub *h);
int hub_store_recover(hub *h);
int hub_store_api_key_create(sqlite3 *db, const char *name, char *out, size_t cap);
int hub_store_api_key_check(sqlite3 *db, const char *presented, size_t len);
int hub_store_api_key_revoke(sqlite3 *db, const char *name); /* 1: no such key */
int hub_store_api_key_list(sqlite3 *db, FILE *out);          /* names, never hashes */
/* 2: k->external_id is already taken by another key that did not fail. */
int hub_store_key_insert(hub *h, const hub_key_row *k, const uint8_t session[HUB_ID_BYTES]);
int hub_store_key_load(hub *h, const uint8_t id[HUB_ID_BYTES], hub_key_row *k);
int hub_store_key_activate(hub *h, const uint8_t id[HUB_ID_BYTES], const uint8_t pk[33],
                           const uint8_t cc[32], const char *const *party,
                           const char *const *cert_pem, const api_keygen_result *att, size_t n);
/* Like hub_store_key_activate, but the key becomes 'delivering': it waits until its
 * delegate share has been handed to the backend (hub_store_key_delivered). */
int hub_store_key_deliver(hub *h, const uint8_t id[HUB_ID_BYTES], const uint8_t pk[33],
                          const uint8_t cc[32], const char *const *party,
                          const char *const *cert_pem, const api_keygen_result *att, size_t n);
/* delivering -> active (handed = 1) or failed (0), with a key event; 1 if not delivering. */
int hub_store_key_delivered(hub *h, const uint8_t id[HUB_ID_BYTES], int handed, const char *detail);
/* 0 and x filled (zeroed when the key has no such data), or -1. */
int hub_store_key_ext_load(hub *h, const uint8_t id[HUB_ID_BYTES], hub_key_ext *x);
/* The key whose (not released) external id this is: 0 and id, 1 if none, -1. */
int hub_store_key_by_external_id(hub *h, const char *external_id, uint8_t id[HUB_ID_BYTES]);
/* Default signers: set (n > 0) or clear (n = 0), with a key event, one transaction. */
int hub_store_key_signers_set(hub *h, const uint8_t id[HUB_ID_BYTES], const api_party_name *p,
                              size_t n);
/* Appends to the key's append-only event history. */
int hub_store_key_event(hub *h, const uint8_t id[HUB_ID_BYTES], const char *event,
                        const char *detail);
/* The activate frame's payload for an active key (PARTY_LINK.md), or NULL; free() it. */
char *hub_store_activate_json(hub *h, const uint8_t id[HUB_ID_BYTES]);
int hub_store_key_fail(hub *h, const uint8_t id[HUB_ID_BYTES]);
/* Another key (not `exclude`) whose public key is pk: 0 and its id in found, 1 if none. */
int hub_store_key_with_pk(hub *h, const uint8_t pk[33], const uint8_t exclude[HUB_ID_BYTES],
                          char found[HUB_ID_HEX]);
/* A key that did not fail (pending, delivering or active) whose public key is pk: 0 and its
 * id in found, 1 if none, -1 (the 409 of an import of a wallet the hub already has). */
int hub_store_key_live_with_pk(hub *h, const uint8_t pk[33], char found[HUB_ID_HEX]);
json_t *hub_store_key_json(hub *h, const uint8_t id[HUB_ID_BYTES]);
json_t *hub_store_keys_json(hub *h);
int hub_store_session_insert(hub *h, const struct hub_session *s, const char *request_json);
int hub_store_session_finish(hub *h, const uint8_t id[HUB_ID_BYTES], const char *status,
                             const char *result_json, const char *err_code, const char *err_msg);
int hub_store_event(hub *h, const uint8_t id[HUB_ID_BYTES], const char *event, const char *detail);
json_t *hub_store_session_json(hub *h, const uint8_t id[HUB_ID_BYTES]);
int hub_store_party_seen(hub *h, const char *id, const uint8_t fp[32], const char *backend,
                         const char *version);
int hub_store_party_known(hub *h, const char *id);
int hub_store_each_active_key(hub *h, const char *party,
                              void (*fn)(void *arg, const uint8_t key_id[HUB_ID_BYTES],
                                         const uint8_t session[HUB_ID_BYTES], unsigned index),
                              void *arg);
json_t *hub_store_parties_json(hub *h);

/* auth.c */
int hub_allow_parse(hub *h, const char *list);
int hub_allow_check(hub *h, const char *peer); /* 1 allowed */
int hub_rate_check(hub *h, const char *peer);  /* 1 allowed */
/* Charges a failed authentication to the address's own bucket; 0 once it is used up. */
int hub_rate_check_auth_failure(hub *h, const char *peer);
/* The address key used by the rate limiter and the connection caps: IPv4 (also
 * IPv4-mapped) exactly, IPv6 reduced to its /64. Returns 0, or -1 if unparsable. */
int hub_addr_key(const char *peer, uint8_t out[16]);

/* conn.c: connection caps on both ports. hub_conn_init sizes the table from [api]
 * max_connections, clamped below RLIMIT_NOFILE; filter runs at accept (1 = admit). */
int hub_conn_init(hub *h);
void hub_conn_start(hub *h); /* the handshake sweep, once the loop exists */
void hub_conn_stop(hub *h);
/* accept(2) failed with EMFILE/ENFILE (seen in lws's log): drain the listeners once. */
void hub_conn_emfile(hub *h);
void hub_conn_free(hub *h);
int hub_conn_filter(hub *h, int fd);
void hub_conn_add(hub *h, struct lws *wsi);
void hub_conn_del(hub *h, struct lws *wsi);
void hub_conn_add_rest(hub *h, struct hub_rconn *rc, int fd);
void hub_conn_del_rest(hub *h, struct hub_rconn *rc);
/* The connection's first request head is complete: the header deadline no longer applies. */
void hub_conn_request_seen(hub *h, struct lws *wsi);

/* crypto.c */
int hub_crypto_derive(uint8_t out[33], const uint8_t pk[33], const uint8_t cc[32],
                      const uint32_t *path, size_t depth);
/* Verifies (r, s, recid) over hash against the compressed key; fills der. 0 = valid. */
int hub_crypto_verify(const uint8_t pk[33], const uint8_t hash[32], const api_sign_result *sig,
                      uint8_t der[72], size_t *der_len);
int hub_crypto_pubkey_ok(const uint8_t pk[33]);
/* Keys anyone can compute: pk = k*G or -k*G for 1 <= k < 2^HUB_SMALL_K_BITS. Returns k,
 * or 0. The first call builds a table of 2^16 x-coordinate prefixes (about 0.2 s, 512 KiB);
 * later calls cost a binary search. */
#define HUB_SMALL_K_BITS 16
unsigned hub_crypto_small_multiple(const uint8_t pk[33]);
/* A keygen label: UTF-8 (already checked by the codec) without C0/C1 controls, DEL,
 * bidirectional overrides/isolates/marks or zero-width characters. 1 if acceptable. */
int hub_label_ok(const char *label);
void hub_crypto_uncompressed(char out[131], const uint8_t pk[33]);
void hub_crypto_eth_address(char out[43], const uint8_t pk[33]);

/* link.c */
extern const struct lws_protocols hub_party_protocol;
struct hub_link *hub_link_find(hub *h, const char *party);
int hub_link_send(struct hub_link *l, const api_frame *f);
/* Backpressure, after routing a frame from `from` to `to`: if to's send queue is above
 * [party] queue_high_water, the hub stops reading from `from` until to's queue has drained
 * to half of it (or to's link is gone). */
void hub_link_backpressure(struct hub_link *from, struct hub_link *to);
const char *hub_link_party(struct hub_link *l);
/* 1 if the party said hello with role "delegate" ([signer] role = delegate). */
int hub_link_is_delegate(struct hub_link *l);
size_t hub_links_online_ids(hub *h, api_party_name *out, size_t max);
const char *hub_link_cert_pem(struct hub_link *l);
X509 *hub_link_cert(struct hub_link *l);
unsigned hub_links_online(hub *h);

/* session.c */
typedef enum { HUB_KEYGEN = 0, HUB_SIGN = 1, HUB_RESHARE = 2 } hub_kind;

typedef struct hub_session {
    struct hub_session *next;
    hub *h;
    uint8_t id[HUB_ID_BYTES];
    hub_kind kind;
    uint8_t key_id[HUB_ID_BYTES];
    unsigned threshold, n;
    size_t nparties;                          /* participants of this session */
    api_party_name parties[API_MAX_PARTIES];  /* participant ids */
    unsigned index[API_MAX_PARTIES];          /* their party indices (keygen order) */
    uint8_t fingerprint[API_MAX_PARTIES][32]; /* cert fingerprints at start */
    int reported[API_MAX_PARTIES];
    api_keygen_result kres[API_MAX_PARTIES];
    char *cert_pem[API_MAX_PARTIES]; /* keygen: the certificate each attestation verified under */
    uint8_t hash[32];
    api_sign_auth *auth;   /* sign: request id, approvals, typed payload (NULL: none) */
    uint8_t verify_pk[33]; /* sign: derived public key the signature must verify under */
    char path[API_PATH_STR_MAX + 1];
    uint8_t nonce[32];
    uint64_t sent[API_MAX_PARTIES]; /* protocol bytes routed from each participant */
    size_t delegate;                /* 1 + position of the key's delegate in parties, or 0 */
    char *delegate_b64;             /* keygen: the delegate's sealed share (from its result);
                                     * sign: the one the backend passed. Memory only, wiped */
    size_t delegate_len;
    uv_timer_t timer;
    int finished;
    struct hub_req *waiters;
    api_key_public kpub; /* keygen: the key's public data the signers reported (reshare.c) */
    int kpub_state;      /* 0 none yet, 1 reported, -1 results without it (older signers) */
    /* reshare (reshare.c): the epoch being made, the phase (0: results, 1: activate sent,
     * waiting for every new party's ack), the acks, and the old epoch's record */
    uint32_t epoch;
    int phase;
    int acked[API_MAX_PARTIES];
    unsigned old_threshold, old_n;
    uint8_t public_key[33];
    uint8_t chain_code[32];
    int import; /* an import (reshare.c): the api_import_source of the new key, else 0 */
} hub_session;

api_err hub_session_keygen(hub *h, const api_keygen_req *req, const char *body, hub_session **out,
                           uint8_t key_id[HUB_ID_BYTES], char *msg, size_t cap);
api_err hub_session_sign(hub *h, const uint8_t key_id[HUB_ID_BYTES], const api_sign_req *req,
                         const char *body, hub_session **out, char *msg, size_t cap);
hub_session *hub_session_find(hub *h, const uint8_t id[HUB_ID_BYTES]);
/* For reshare.c: a new session of kind (timer initialised, random id and nonce) or NULL;
 * hub_session_begin persists and registers it (with new_key, an import's pending key, in the
 * same transaction; NULL: none) — the caller sends each participant its session-start;
 * hub_session_discard frees one that was never started; hub_session_finish ends one (a
 * reshare with activate = 3 records its epoch in the same transaction as its outcome, an
 * import with activate = 4 activates its key with epoch 1 there; a failed import fails its
 * key). */
hub_session *hub_session_new(hub *h, hub_kind kind);
api_err hub_session_begin(hub *h, hub_session *s, const hub_key_row *new_key, const char *body);
void hub_session_discard(hub_session *s);
void hub_session_finish(hub_session *s, const char *result_json, const char *code, const char *msg,
                        int activate);
void hub_session_send(hub_session *s, size_t i, uint8_t type, const char *json);
void hub_session_on_frame(hub *h, struct hub_link *from, const char *party, const api_frame *f);
void hub_session_party_gone(hub *h, const char *party);
void hub_session_fail_all(hub *h, const char *code, const char *msg);

/* delegate.c: a new key's delegate share, held in memory (never written, never logged)
 * until one HTTP answer has carried it to the backend, at most [sessions] delegate_pickup
 * seconds; the key is 'delivering' meanwhile and becomes active only once the answer
 * carrying the share has been written (then the persistent signers get activate). */
/* Takes b64 (wiped when done). s is the finished keygen session (parties, indices). */
void hub_delegate_hold(hub *h, const hub_session *s, char *b64, size_t len);
/* The held share of key_id for an answer, or NULL (none, or another answer carries it). The
 * caller owns it until hub_delegate_handed or hub_delegate_give_back. */
char *hub_delegate_take(hub *h, const uint8_t key_id[HUB_ID_BYTES], size_t *len);
/* The answer could not be written: the share waits again (until its deadline). Takes b64. */
void hub_delegate_give_back(hub *h, const uint8_t key_id[HUB_ID_BYTES], char *b64, size_t len);
/* The answer was written: wipes b64, activates the key, sends activate to its signers. */
void hub_delegate_handed(hub *h, const uint8_t key_id[HUB_ID_BYTES], char *b64, size_t len);
/* SIGTERM: wipes every held share (their keys fail at the next start). */
void hub_delegate_clear_all(hub *h);
/* 1 if a delegate share of key_id is held (possibly taken by an answer in flight). */
int hub_delegate_held(hub *h, const uint8_t key_id[HUB_ID_BYTES]);
/* How many shares are held (the metric mpc_hub_delegate_shares_waiting). */
unsigned hub_delegate_count(hub *h);
/* Wipes and frees a base64 share (api_delegate_share_free). */
void hub_delegate_wipe(char *b64, size_t len);

/* rest.c: the REST port's transport (TLS on libuv, head.c, keep-alive, deadlines).
 * hub_rest_start listens on [api] listen:port (0, or -1 logged); hub_rest_stop closes the
 * listener and every connection (SIGTERM, after the grace period). */
int hub_rest_start(hub *h);
void hub_rest_stop(hub *h);
/* For http.c, about the request of connection c (one at a time):
 * hub_rest_respond queues the answer (takes body, a malloc'd NUL-terminated string, or
 * NULL); the connection closes after it if close_after, if the request's body was not read
 * to its end, or if the client asked for it. At most one answer per request: later ones
 * are dropped. hub_rest_read_body reads the announced body within [api] body_timeout (408
 * otherwise) and hands it to hub_http_body (keep = 0: read and discard it). hub_rest_set_timer
 * calls hub_http_timer after ms (0 cancels). */
void hub_rest_respond(struct hub_rconn *c, int status, const char *content_type, char *body,
                      int close_after);
void hub_rest_read_body(struct hub_rconn *c, int keep);
void hub_rest_set_timer(struct hub_rconn *c, unsigned ms);

/* http.c: what the REST API's requests mean. rest.c calls these: hub_http_req_new once per
 * connection (NULL: out of memory), hub_http_request for each request head (framing is
 * already checked; the head lives until the answer), hub_http_body with the body (owned by
 * the callee; NULL if discarded or empty), hub_http_timer when a timer set with
 * hub_rest_set_timer fires, hub_http_req_detach when the connection closes (the request
 * leaves any session's waiters; rest.c frees it later with free()), hub_http_written once an
 * answer is written (handed to the kernel). */
struct hub_req *hub_http_req_new(hub *h, struct hub_rconn *c);
void hub_http_req_detach(struct hub_req *r);
void hub_http_request(struct hub_req *r, const hub_head *head, const char *peer);
void hub_http_body(struct hub_req *r, char *body, size_t len, int kept);
void hub_http_timer(struct hub_req *r);
void hub_http_written(struct hub_req *r);
/* Called by session.c when a session finishes: answers every parked ?wait request from
 * the database, or, when store_error is set (its outcome could not be written), with 500
 * internal naming the session and saying store_error. */
void hub_http_session_done(hub *h, hub_session *s, const char *store_error);
/* SIGTERM: answers every parked ?wait request with 503 (code busy, the session id) and
 * closes it once written. Returns how many answers were queued; main.c then waits until
 * h->responses_pending (these and any other queued answer) is 0, at most 2 s. */
unsigned hub_http_shutdown(hub *h);

/* metrics.c */
char *hub_metrics_render(hub *h);

/* reshare.c: key epochs (issue 17). note_result: a keygen result's "key" block agrees
 * with the others' (0) or not (-1, msg set: fail the session as bad_result);
 * store_epoch0: the key's epoch-0 record, inside the caller's transaction (0 or -1);
 * key_json: adds "epoch" and "reshareable" to a key's JSON. */
int hub_reshare_note_result(hub_session *s, size_t i, const api_frame *f, char *msg, size_t cap);
int hub_reshare_store_epoch0(hub *h, const hub_session *s);
void hub_reshare_key_json(hub *h, const char *key_id, json_t *o);
/* POST /v1/keys/{id}/refresh: a reshare session to the key's next epoch with the same
 * parties and threshold (every party online; dealers: the first t of them). API_OK and *out,
 * or an error with msg set. */
api_err hub_reshare_refresh(hub *h, const uint8_t key_id[HUB_ID_BYTES], const char *body,
                            hub_session **out, char *msg, size_t cap);
/* POST /v1/keys/{id}/reshare {"threshold": t, "parties": [...]}: the same session to a new
 * committee (listed in new-index order; every one known, online and persistent). */
api_err hub_reshare_reshare(hub *h, const uint8_t key_id[HUB_ID_BYTES], const char *body,
                            size_t len, hub_session **out, char *msg, size_t cap);
/* POST /v1/keys/import (api/import.h; IMPORT_CONTRACT part 2): a new pending key (imported,
 * its public key and chain code from the dealer descriptors) and one reshare session to its
 * epoch 1 from those dealers, in request order, to the committee `parties`. API_OK, *out and
 * the new key's id, or an error with msg set and nothing stored. */
api_err hub_reshare_import(hub *h, const char *body, size_t len, hub_session **out,
                           uint8_t key_id[HUB_ID_BYTES], char *msg, size_t cap);
/* session.c hands every result frame of a reshare session here (from participant i). */
void hub_reshare_on_result(hub_session *s, size_t i, struct hub_link *l, const api_frame *f);
/* The new epoch's record (the old one becomes 'retired') and a key event, inside the
 * caller's transaction (0 or -1). */
int hub_reshare_store_epoch(hub *h, const hub_session *s);
/* An import's outcome, inside the caller's transaction (0 or -1): the key becomes active
 * with the new parties' attestations and certificates, and its epoch-1 record. */
int hub_reshare_store_import(hub *h, const hub_session *s);
/* After the outcome is durable: retire for the old epoch to every participant. */
void hub_reshare_send_retire(hub_session *s);

#endif
