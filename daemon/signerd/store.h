/* daemon/signerd/store.h — the signer's SQLite database: sealed key shares (pending, then
 * active), used session ids, banned peers and a hash-chained, append-only audit log.
 * Everything that must survive a crash is committed (WAL, synchronous=FULL: fsync'ed)
 * before a function returns OK, so a caller may send whatever depends on it. A failed
 * write (disk full, I/O error, failed COMMIT) returns an error and changes nothing.
 * One connection, guarded by a mutex: every function may be called from the libuv loop
 * and from thread-pool workers at once. Callbacks run without the mutex held, so they may
 * call back into the store.
 * Not here: sealing (hsm/ makes the blobs, this file only keeps bytes), what is in a share
 * (tss/keyshare.h), policy on bans (the session code decides, this file remembers). */
#ifndef SIGNER_STORE_H
#define SIGNER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "api/json.h"

typedef enum {
    SIGNER_STORE_OK = 0,
    SIGNER_STORE_ERR_ARG,          /* a caller broke a documented precondition */
    SIGNER_STORE_ERR_NOMEM,        /* an allocation failed */
    SIGNER_STORE_ERR_OPEN,         /* the database file cannot be opened or created */
    SIGNER_STORE_ERR_SCHEMA,       /* the schema is from a newer daemon, or cannot be made */
    SIGNER_STORE_ERR_FULL,         /* the disk (or the database's size limit) is full */
    SIGNER_STORE_ERR_IO,           /* a read, write or COMMIT failed; nothing was changed */
    SIGNER_STORE_ERR_BUSY,         /* another process held the database past the timeout */
    SIGNER_STORE_ERR_EXISTS,       /* a share with that key id is already stored */
    SIGNER_STORE_ERR_NOT_FOUND,    /* no such share or ban */
    SIGNER_STORE_ERR_ACTIVE,       /* the share is active: refusing to remove it */
    SIGNER_STORE_ERR_CORRUPT,      /* a stored row is malformed or integrity_check failed */
    SIGNER_STORE_ERR_AUDIT_BROKEN, /* the audit chain does not verify */
    SIGNER_STORE_ERR_RETIRED,      /* that epoch of the key is retired (replaced by a newer) */
    SIGNER_STORE_ERR__COUNT
} signer_store_err;

/* Static description of err naming the cause and the fix (never NULL, never secret). */
const char *signer_store_strerror(signer_store_err err);

/* Detail of the last failure on the calling thread: the database file, the operation,
 * SQLite's message (e.g. "/var/lib/mpc-signer/signer.db: storing share 00ff..: database
 * or disk is full"). Empty if none. Never secret: holds ids, never blobs. Every failure
 * is also logged (log_err) with the same text. */
const char *signer_store_last_detail(void);

typedef struct signer_store signer_store;

/* Opens (creating if needed, mode 0600, WAL, synchronous=FULL) the database at path and
 * creates or upgrades its schema (PRAGMA user_version). ERR_SCHEMA if the file was written
 * by a newer daemon. On success *out owns the store; close with signer_store_close. */
signer_store_err signer_store_open(const char *path, signer_store **out);

/* Closes the store. NULL is a no-op. No call may be in flight. */
void signer_store_close(signer_store *st);

/* PRAGMA integrity_check plus signer_store_audit_verify: OK, ERR_CORRUPT (detail names
 * the first problem) or ERR_AUDIT_BROKEN. For the operator's "inspect store". */
signer_store_err signer_store_check(signer_store *st);

/* ---- key shares --------------------------------------------------------------------- */

#define SIGNER_KEY_ID_HEX     32 /* a key id is 16 bytes, stored as 32 lowercase hex */
#define SIGNER_SESSION_HEX    64 /* session ids and digests: at most 32 bytes of hex */
#define SIGNER_MAX_PARTIES    API_MAX_PARTIES
#define SIGNER_MAX_BLOB_BYTES (2u << 20) /* an HSM blob of HSM_MAX_PLAINTEXT and headers */

/* A key's shares by epoch (tss/keyshare.h: 0 from the DKG, +1 per refresh/reshare): at most
 * one active and one pending epoch per key. A pending share becomes active (keygen: by
 * signer_store_share_activate; a reshare: by signer_store_share_switch_epoch, which retires
 * the previously active epoch in the same transaction). A retired share is never used to
 * sign and is deleted on the hub's RETIRE (signer_store_share_retire). */
typedef enum {
    SIGNER_SHARE_PENDING = 1,
    SIGNER_SHARE_ACTIVE = 2,
    SIGNER_SHARE_RETIRED = 3
} signer_share_status;

/* "pending", "active", "retired"; "?" if out of range. */
const char *signer_share_status_name(signer_share_status status);

/* One pinned participant of a key (DESIGN.md "Identities are pinned"). */
typedef struct {
    unsigned index;    /* 1..n */
    api_party_name id; /* party id = certificate CN */
    uint8_t fp[32];    /* SHA-256 of the party's certificate (mpcd_tls_cert_fingerprint) */
} signer_identity;

typedef struct {
    char key_id[SIGNER_KEY_ID_HEX + 1];             /* 32 hex digits (upper case is lowered) */
    uint32_t epoch;                                 /* the share's epoch (tss_keyshare.epoch) */
    int imported;                                   /* 1: the key came from an import or a
                                                       migration (metadata), else 0 */
    signer_share_status status;                     /* set by the store; ignored by put */
    unsigned t, n, index;                           /* 2 <= t <= n <= SIGNER_MAX_PARTIES, 1..n */
    uint8_t public_key[33];                         /* compressed secp256k1 */
    uint8_t chain_code[32];                         /* BIP32 chain code of the root key */
    uint8_t fingerprint[32];                        /* tss_keyshare_fingerprint */
    char session[SIGNER_SESSION_HEX + 1];           /* keygen session id in hex ("" if none);
                                                       stored, and written to the audit row */
    signer_identity identities[SIGNER_MAX_PARTIES]; /* the n participants, by index */
    size_t identity_count;                          /* == n */
    uint8_t *blob;                                  /* the sealed share (hsm_seal output) */
    size_t blob_len;                                /* 1..SIGNER_MAX_BLOB_BYTES */
    int64_t created, activated;                     /* unix seconds; activated 0 while pending */
    int64_t retired;                                /* unix seconds; 0 unless retired */
} signer_share_row;

/* Frees the blob of a row filled by signer_store_share_get and zeroes the row. The blob is
 * sealed, not secret, but it is wiped anyway. NULL is a no-op. */
void signer_share_row_clear(signer_share_row *row);

/* Inserts row as a *pending* share of (key_id, row->epoch) together with an audit row
 * (session, the participants' ids as peers, outcome "pending epoch N"), in one transaction,
 * committed and fsync'ed before it returns OK. The audit kind is 'keygen' for epoch 0 and
 * 'reshare' for a later epoch. Nothing is ever overwritten:
 *   epoch 0 (a keygen): ERR_EXISTS if the key has any share stored;
 *   epoch e > 0 (a refresh/reshare): ERR_EXISTS if the key already has a pending share, a
 *   share of epoch e, or an active share of an epoch >= e (the active epoch, if any, stays
 *   active and untouched: a reshare that never completes leaves it usable).
 * ERR_ARG for a malformed row. row->status and the times are ignored. */
signer_store_err signer_store_share_put_pending(signer_store *st, const signer_share_row *row);

/* Keygen activation: marks the key's pending share active (and writes an audit 'activate'
 * row) durably when the key has no active share. Idempotent: a key with an active share
 * returns OK and writes nothing (this never switches epochs: see switch_epoch).
 * ERR_NOT_FOUND if the key has no share. */
signer_store_err signer_store_share_activate(signer_store *st, const char *key_id);

/* Reshare activation (tss/reshare.h, plan step 4), in ONE transaction committed and
 * fsync'ed before OK: the pending share (key_id, epoch) becomes active and the key's
 * previously active share (an older epoch), if any, becomes retired, with one audit
 * 'activate' row. Idempotent: (key_id, epoch) already active returns OK and writes
 * nothing. ERR_NOT_FOUND: no share (key_id, epoch); ERR_RETIRED: it is retired. A crash
 * leaves either the old state or the new one, never two active epochs or none. */
signer_store_err signer_store_share_switch_epoch(signer_store *st, const char *key_id,
                                                 uint32_t epoch);

/* The hub's RETIRE (plan step 5): deletes the sealed share (key_id, epoch) with an audit
 * 'retire' row, durably. A retired share is deleted. An active share is deleted only with
 * leaving = 1 (this node is not in the new committee and the caller has checked that the
 * new epoch is active everywhere); else ERR_ACTIVE. A pending share: ERR_ARG (use
 * remove_pending). ERR_NOT_FOUND if absent (a repeated RETIRE after a restart: done). */
signer_store_err signer_store_share_retire(signer_store *st, const char *key_id, uint32_t epoch,
                                           int leaving);

/* Reads the share of key_id to sign with: the active one, else the pending one (a key whose
 * keygen is not activated yet); never a retired one. On OK out->blob is malloc'd: release
 * the row with signer_share_row_clear. ERR_NOT_FOUND if none (out zeroed). */
signer_store_err signer_store_share_get(signer_store *st, const char *key_id,
                                        signer_share_row *out);

/* Reads the share (key_id, epoch) whatever its status; otherwise as signer_store_share_get. */
signer_store_err signer_store_share_get_epoch(signer_store *st, const char *key_id, uint32_t epoch,
                                              signer_share_row *out);

/* Calls fn for every share (every epoch) in insertion order, any status, with the row's blob
 * NULL (fetch it with signer_store_share_get). fn returns 0 to continue, anything else to
 * stop (then the list returns OK). The row is valid during the call only. */
typedef int (*signer_share_list_fn)(void *ctx, const signer_share_row *row);
signer_store_err signer_store_share_list(signer_store *st, signer_share_list_fn fn, void *ctx);

/* Deletes the key's *pending* share, whatever its epoch (an operator removing an orphan, or
 * the hub dropping a reshare that will not be activated; DESIGN.md: never automatic) with
 * an audit 'remove' row. ERR_ACTIVE if the key has only an active (or retired) share,
 * ERR_NOT_FOUND if it has none. The key's active epoch is never touched. */
signer_store_err signer_store_share_remove_pending(signer_store *st, const char *key_id);

/* The operator's removal of a STALE share: this node's active share of key_id, epoch
 * `epoch` (which must be the key's active epoch here, named explicitly against typos),
 * deleted with an audit 'retire' row in one transaction (fsync). For a node that was
 * offline while the key was reshared without it: its share belongs to an epoch the others
 * have retired, it can never sign again, and while it is active the node cannot take part
 * in the key's later epochs (a reshare bringing it back fails). Never automatic: only the
 * operator knows the key moved on. ERR_NOT_FOUND when the key has no active share of that
 * epoch (nothing changes). */
signer_store_err signer_store_share_drop_stale(signer_store *st, const char *key_id,
                                               uint32_t epoch);

/* ---- staged dealer inputs (issue 17: import and migration) ------------------------------ */

/* A dealer input the operator staged on this node (stage.h): a whole private key or one
 * party's tss-lib share, sealed by the node's backend, waiting for the hub's import session.
 * One per public key. Single use: the session deletes it (signer_store_staged_remove,
 * fsync'ed) before its first protocol message leaves, so a key is dealt at most once from
 * a staging; a failed import needs the operator to stage again. */
#define SIGNER_STAGED_DESCRIPTOR_MAX 8192 /* the public descriptor (JSON text), bytes */
typedef struct {
    uint8_t public_key[33]; /* the key's public key, SEC1 compressed */
    char source[8];         /* "key" or "tss-lib" */
    char *descriptor;       /* the public data (stage.h), JSON text, malloc'd */
    uint8_t *blob;          /* the sealed secret (hsm_seal output), malloc'd; NULL in lists */
    size_t blob_len;
    int64_t created; /* unix seconds */
} signer_staged_row;

/* Frees (and wipes) what a row holds and zeroes it. NULL is a no-op. */
void signer_staged_row_clear(signer_staged_row *row);

/* Stores row (source, descriptor, blob; created is set here) with an audit 'stage' row, in
 * one transaction, fsync'ed before OK. ERR_EXISTS when an input for that public key is
 * staged already (nothing is overwritten); ERR_ARG for a malformed row. */
signer_store_err signer_store_staged_put(signer_store *st, const signer_staged_row *row);

/* Reads the input staged for public_key, blob included (clear with signer_staged_row_clear).
 * ERR_NOT_FOUND when none. */
signer_store_err signer_store_staged_get(signer_store *st, const uint8_t public_key[33],
                                         signer_staged_row *out);

/* Calls fn for every staged input (blob NULL) in staging order; fn returns non-zero to stop. */
typedef int (*signer_staged_list_fn)(void *ctx, const signer_staged_row *row);
signer_store_err signer_store_staged_list(signer_store *st, signer_staged_list_fn fn, void *ctx);

/* Deletes the input staged for public_key with an audit 'unstage' row (session: the hex
 * session id or NULL; outcome: why, e.g. "dealt"), fsync'ed before OK. ERR_NOT_FOUND when
 * none (nothing written). */
signer_store_err signer_store_staged_remove(signer_store *st, const uint8_t public_key[33],
                                            const char *session, const char *outcome);

/* ---- used session ids ----------------------------------------------------------------- */

/* Records sid as used by a session of kind ("keygen", "sign", ...: 1..16 characters).
 * Returns 0 when newly recorded and durable, 1 when sid was already used (by any kind),
 * -1 on error (signer_store_last_detail says why). The semantics of tss_sid_claim_fn. */
int signer_store_sid_claim(signer_store *st, const uint8_t sid[32], const char *kind);

/* tss_sid_claim_fn adapter for signing: ctx is the signer_store, kind "sign". */
int signer_store_sid_claim_cb(void *st, const uint8_t sid[32]);

/* ---- request ids and velocity (issue 15) ---------------------------------------------- */

typedef enum {
    SIGNER_CLAIM_OK = 0, /* recorded and durable */
    SIGNER_CLAIM_SEEN,   /* this request id was claimed before (nothing changed) */
    SIGNER_CLAIM_OVER,   /* the velocity window has no room for value (nothing changed) */
    SIGNER_CLAIM_ERROR,  /* the database failed (signer_store_last_detail); nothing changed */
} signer_store_claim;

/* In one transaction, committed and fsync'ed before it returns OK: records request_id (unless
 * NULL) as used for key_id (32 hex) and, when value is given, checks that the values recorded
 * for key_id in the last window_seconds plus value do not exceed max, then records value.
 * Either both are recorded or neither. spent (may be NULL) receives the window's sum before
 * this request. value and max are big-endian 256-bit wei, both given or both NULL; at least
 * one of request_id and value is given. Request ids are never forgotten (a trigger refuses
 * deletion), so a request id cannot be replayed across restarts or database rollbacks that
 * keep this table. */
signer_store_claim signer_store_request_claim(signer_store *st, const char *request_id,
                                              const char *key_id, const uint8_t *value,
                                              unsigned window_seconds, const uint8_t *max,
                                              uint8_t spent[32]);

/* ---- bans ----------------------------------------------------------------------------- */

typedef struct {
    uint8_t fp[32];                       /* banned identity-key certificate fingerprint */
    api_party_name party_id;              /* who held it when banned */
    char reason[128];                     /* e.g. "ot_check", "vole_check" */
    char session[SIGNER_SESSION_HEX + 1]; /* the session that failed, hex, or "" */
    int64_t created;                      /* unix seconds */
} signer_ban_row;

/* Bans fp durably (committed and fsync'ed before it returns OK) with an audit 'ban' row in
 * the same transaction. Banning an already banned fp returns OK, keeps the first record
 * and writes no audit row. party_id 1..64 chars, reason 1..127, session hex or NULL. */
signer_store_err signer_store_ban_add(signer_store *st, const uint8_t fp[32], const char *party_id,
                                      const char *reason, const char *session);

/* Calls fn for every ban, oldest first; fn returns 0 to continue, else to stop. */
typedef int (*signer_ban_list_fn)(void *ctx, const signer_ban_row *row);
signer_store_err signer_store_ban_list(signer_store *st, signer_ban_list_fn fn, void *ctx);

/* Lifts a ban (an operator decision) with an audit 'unban' row. ERR_NOT_FOUND if absent. */
signer_store_err signer_store_ban_lift(signer_store *st, const uint8_t fp[32]);

/* At startup: calls fn(ctx, fp) for every banned fingerprint to fill the in-memory ban
 * list the protocol checks. fn returns 0 to continue; non-zero aborts the load and the
 * function returns ERR_ARG (the daemon must not start with a partial ban list). */
typedef int (*signer_ban_load_fn)(void *ctx, const uint8_t fp[32]);
signer_store_err signer_store_ban_load(signer_store *st, signer_ban_load_fn fn, void *ctx);

/* ---- audit log ------------------------------------------------------------------------ */

typedef enum {
    SIGNER_AUDIT_KEYGEN = 1,
    SIGNER_AUDIT_SIGN,
    SIGNER_AUDIT_ACTIVATE,
    SIGNER_AUDIT_BAN,
    SIGNER_AUDIT_UNBAN,
    SIGNER_AUDIT_REMOVE,
    SIGNER_AUDIT_RESHARE, /* a pending share of a later epoch stored */
    SIGNER_AUDIT_RETIRE,  /* an old epoch's share deleted on RETIRE */
    SIGNER_AUDIT_STAGE,   /* a dealer input staged for an import or migration */
    SIGNER_AUDIT_UNSTAGE, /* a staged input deleted (dealt, or by the operator) */
} signer_audit_kind;

/* "keygen", "sign", "activate", "ban", "unban", "remove", "reshare", "retire", "stage",
 * "unstage"; NULL if out of range. */
const char *signer_audit_kind_name(signer_audit_kind kind);

/* Appends one audit row, durably. Each row is chained to the previous one:
 *   hash = SHA-256("mpc-signer/audit/v1" || prev || F(ts) || F(kind) || F(key_id) ||
 *                  F(session) || F(request_digest) || F(peers) || F(outcome) || u64be(seq))
 * where prev is the previous row's hash (32 zero bytes for seq 1), seq counts from 1
 * without gaps, ts is unix milliseconds, F(NULL) = u32be(0xffffffff) and F(x) =
 * u32be(len) || bytes (ts as its 8 big-endian bytes, kind as its name).
 * key_id (32 hex), session and request_digest (hex, <= 64 chars), peers (free text, e.g.
 * comma-separated party ids, <= 4096) and outcome (free text, <= 1024) may each be NULL.
 * Never pass secrets: the log is readable by the operator. */
signer_store_err signer_store_audit_append(signer_store *st, signer_audit_kind kind,
                                           const char *key_id, const char *session,
                                           const char *request_digest, const char *peers,
                                           const char *outcome);

/* Walks the whole chain. OK: *checked rows all verify. ERR_AUDIT_BROKEN: *first_bad is the
 * seq of the first row whose seq, prev or hash is wrong (a gap names the first missing
 * seq) and *checked the rows before it. Either pointer may be NULL. Cutting rows off the
 * end of the log cannot be detected from the chain alone: compare the last seq and hash
 * (signer_store_audit_head) with a copy kept elsewhere. */
signer_store_err signer_store_audit_verify(signer_store *st, uint64_t *checked,
                                           uint64_t *first_bad);

/* The last row's seq and hash (0 and zeroes for an empty log). */
signer_store_err signer_store_audit_head(signer_store *st, uint64_t *seq, uint8_t hash[32]);

/* ---- for tests ------------------------------------------------------------------------ */

/* Caps the database at pages pages (PRAGMA max_page_count) so tests can make a write run
 * out of space. Returns the cap in force (SQLite never shrinks it below the current size);
 * 0 on error. */
unsigned signer_store_test_max_pages(signer_store *st, unsigned pages);

#endif
