/* daemon/hubd/store.c — the hub's SQLite database: API keys (SHA-256 hashes only), keys,
 * keygen attestations, sessions, append-only session events, and parties. JSON views for
 * the REST API are built here from rows, so what a client reads is what is on disk.
 * Not here: session logic (session.c) and HTTP (http.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "api/hex.h"
#include "daemon/common/db.h"
#include "daemon/common/log.h"
#include "hub.h"
#include "tss/transcript.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS api_keys(name TEXT PRIMARY KEY, hash BLOB NOT NULL,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS keys(id TEXT PRIMARY KEY, label TEXT NOT NULL,"
    "  threshold INTEGER NOT NULL, n INTEGER NOT NULL, parties TEXT NOT NULL,"
    "  status TEXT NOT NULL, public_key BLOB, chain_code BLOB,"
    "  keygen_session TEXT NOT NULL, created INTEGER NOT NULL, activated INTEGER,"
    "  imported INTEGER NOT NULL DEFAULT 0, import_source TEXT);"
    "CREATE TABLE IF NOT EXISTS key_attestations(key_id TEXT NOT NULL REFERENCES keys(id),"
    "  party TEXT NOT NULL, transcript_hash BLOB NOT NULL, attestation BLOB NOT NULL,"
    "  PRIMARY KEY(key_id, party));"
    /* The certificate (PEM) each attestation verified under, so that a client can check
     * the attestations itself against the deployment CA (mpcctl keys show). A table of
     * its own rather than a column: databases made before it need no migration. */
    "CREATE TABLE IF NOT EXISTS key_attestation_certs(key_id TEXT NOT NULL,"
    "  party TEXT NOT NULL, certificate TEXT NOT NULL, PRIMARY KEY(key_id, party));"
    "CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    "  key_id TEXT NOT NULL, status TEXT NOT NULL, threshold INTEGER NOT NULL,"
    "  n INTEGER NOT NULL, parties TEXT NOT NULL, request TEXT NOT NULL, result TEXT,"
    "  error_code TEXT, error_message TEXT, created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS session_events(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  session_id TEXT NOT NULL, ts INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS session_events_by_session ON session_events(session_id);"
    /* Events are an audit trail: the database itself refuses to rewrite them. */
    "CREATE TRIGGER IF NOT EXISTS session_events_no_update BEFORE UPDATE ON session_events"
    "  BEGIN SELECT RAISE(ABORT, 'session events are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS session_events_no_delete BEFORE DELETE ON session_events"
    "  BEGIN SELECT RAISE(ABORT, 'session events are append-only'); END;"
    "CREATE TABLE IF NOT EXISTS parties(id TEXT PRIMARY KEY, fingerprint BLOB NOT NULL,"
    "  backend TEXT, version TEXT, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
    /* Per-key data added after the keys table (tables of their own: older databases need
     * no migration). external_id is unique among keys that did not fail: a failed keygen
     * releases it (released_external_id keeps the record). signers: the default signers
     * (JSON array) or NULL. delegate: the party whose share the backend holds, or NULL.
     * Never a delegate share: the hub holds that in memory only, until it is handed. */
    "CREATE TABLE IF NOT EXISTS key_ext(key_id TEXT PRIMARY KEY, external_id TEXT UNIQUE,"
    "  released_external_id TEXT, delegate TEXT, signers TEXT);"
    "CREATE TABLE IF NOT EXISTS key_events(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  key_id TEXT NOT NULL, ts INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS key_events_by_key ON key_events(key_id);"
    "CREATE TRIGGER IF NOT EXISTS key_events_no_update BEFORE UPDATE ON key_events"
    "  BEGIN SELECT RAISE(ABORT, 'key events are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS key_events_no_delete BEFORE DELETE ON key_events"
    "  BEGIN SELECT RAISE(ABORT, 'key events are append-only'); END;"
    /* Key epochs (issue 17, reshare.c): the public data of each epoch of a key, which a
     * refresh or reshare must name (every party's P(j), the DKG sid). A table of its own:
     * older databases need no migration (their keys have no record: not reshareable). */
    "CREATE TABLE IF NOT EXISTS key_epochs(key_id TEXT NOT NULL, epoch INTEGER NOT NULL,"
    "  status TEXT NOT NULL, threshold INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  parties TEXT NOT NULL, key_sid BLOB NOT NULL, public_shares BLOB NOT NULL,"
    "  created INTEGER NOT NULL, PRIMARY KEY(key_id, epoch));";

/* Schema version 2 (issue 17, key import): keys.imported (1 for a key made by POST
 * /v1/keys/import, whose key_id and public key existed before this hub) and
 * keys.import_source ("key" or "tss-lib", NULL otherwise). New databases get both columns
 * from the CREATE TABLE above; a database made before them gets them added here (existing
 * keys: imported = 0, import_source NULL), in one transaction with the version bump. */
#define HUB_SCHEMA_VERSION 2

static int keys_has_column(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = mpcd_db_prepare(db, "SELECT 1 FROM pragma_table_info('keys') WHERE name=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int migrate(sqlite3 *db)
{
    int has = keys_has_column(db, "imported");
    if (has < 0 || mpcd_db_begin(db) != 0)
        return -1;
    if ((!has && mpcd_db_exec(db, "ALTER TABLE keys ADD COLUMN imported INTEGER NOT NULL"
                                  " DEFAULT 0;"
                                  "ALTER TABLE keys ADD COLUMN import_source TEXT;") != 0) ||
        mpcd_db_exec(db, "PRAGMA user_version = 2;") != 0) {
        mpcd_db_rollback(db);
        return -1;
    }
    if (mpcd_db_commit(db) != 0)
        return -1;
    if (!has)
        log_notice("database: keys table migrated to schema version %d (imported keys)",
                   HUB_SCHEMA_VERSION);
    return 0;
}

/* A failed key gives its external id back (the backend retries a failed keygen under the
 * same id); the old value stays in released_external_id. Inside the caller's transaction. */
static const char release_external_ids[] =
    "UPDATE key_ext SET released_external_id=external_id, external_id=NULL WHERE"
    " external_id IS NOT NULL AND key_id IN (SELECT id FROM keys WHERE status='failed');";

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

int hub_store_open(hub *h)
{
    if (mpcd_db_open(h->cfg.database, &h->db) != 0)
        return -1;
    if (mpcd_db_exec(h->db, schema) != 0 || migrate(h->db) != 0) {
        hub_store_close(h);
        return -1;
    }
    return 0;
}

void hub_store_close(hub *h)
{
    if (h->db)
        sqlite3_close(h->db);
    h->db = NULL;
}

/* Sessions that were in flight when the hub stopped cannot resume: the signers dropped
 * their state with the link. Mark them failed (with an event) and their pending keys
 * failed, in one transaction. */
int hub_store_recover(hub *h)
{
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "SELECT id FROM sessions WHERE status='running'");
    if (!st)
        return -1;
    int count = 0;
    if (mpcd_db_begin(h->db) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint8_t id[HUB_ID_BYTES];
        if (hub_id_parse(id, (const char *)sqlite3_column_text(st, 0),
                         (size_t)sqlite3_column_bytes(st, 0)) == 0)
            hub_store_event(h, id, "failed", "hub restarted while the session was in flight");
        count++;
    }
    sqlite3_finalize(st);
    /* A key waiting for its delegate share to be picked up lost it with the hub's memory
     * (it is never written): it can never be activated. */
    sqlite3_stmt *dl = mpcd_db_prepare(h->db, "SELECT id FROM keys WHERE status='delivering'");
    while (dl && sqlite3_step(dl) == SQLITE_ROW) {
        uint8_t kid[HUB_ID_BYTES];
        if (hub_id_parse(kid, (const char *)sqlite3_column_text(dl, 0),
                         (size_t)sqlite3_column_bytes(dl, 0)) == 0)
            hub_store_key_event(h, kid, "delegate_share_lost",
                                "the hub restarted before the delegate share was handed to the "
                                "backend; the key is failed");
    }
    sqlite3_finalize(dl);
    if (mpcd_db_exec(h->db, "UPDATE keys SET status='failed' WHERE status IN"
                            " ('pending','delivering');"
                            "UPDATE sessions SET status='failed', error_code='hub_restart',"
                            " error_message='hub restarted while the session was in flight',"
                            " updated=strftime('%s','now') WHERE status='running';") != 0 ||
        mpcd_db_exec(h->db, release_external_ids) != 0) {
        mpcd_db_rollback(h->db);
        return -1;
    }
    if (mpcd_db_commit(h->db) != 0)
        return -1;
    if (count)
        log_notice("marked %d in-flight session(s) failed after restart", count);
    return count;
}

int hub_store_api_key_create(sqlite3 *db, const char *name, char *out, size_t cap)
{
    uint8_t secret[32], hash[32];
    char hex[65];
    if (cap < 70 || hub_random(secret, sizeof secret) != 0)
        return -1;
    api_hex_encode(hex, secret, 32);
    snprintf(out, cap, "mpck_%s", hex);
    SHA256((const uint8_t *)out, strlen(out), hash);
    sqlite3_stmt *st =
        mpcd_db_prepare(db, "INSERT INTO api_keys(name, hash, created) VALUES(?,?,?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_s());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) {
        log_err("an API key named '%s' already exists", name);
        return 1;
    }
    if (rc != SQLITE_DONE) {
        log_err("cannot store API key: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

int hub_store_api_key_revoke(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = mpcd_db_prepare(db, "DELETE FROM api_keys WHERE name=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_changes(db) == 1 ? 0 : 1;
}

int hub_store_api_key_list(sqlite3 *db, FILE *out)
{
    sqlite3_stmt *st = mpcd_db_prepare(db, "SELECT name, created FROM api_keys ORDER BY name");
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(out, "%s\tcreated %lld\n", (const char *)sqlite3_column_text(st, 0),
                (long long)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    return 0;
}

/* 1 if presented hashes to a stored key. Every stored hash is compared, in constant time,
 * so timing says nothing about which key (or how much of one) matched. */
int hub_store_api_key_check(sqlite3 *db, const char *presented, size_t len)
{
    uint8_t hash[32];
    int match = 0;
    SHA256((const uint8_t *)presented, len, hash);
    sqlite3_stmt *st = mpcd_db_prepare(db, "SELECT hash FROM api_keys");
    if (!st)
        return 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == 32)
            match |= tss_ct_eq(sqlite3_column_blob(st, 0), hash, 32);
    sqlite3_finalize(st);
    return match;
}

static char *parties_text(const api_party_name *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(p[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

int hub_store_key_insert(hub *h, const hub_key_row *k, const uint8_t session[HUB_ID_BYTES])
{
    char id[HUB_ID_HEX], sid[HUB_ID_HEX];
    char *parties = parties_text(k->parties, k->n);
    hub_id_hex(id, k->id);
    hub_id_hex(sid, session);
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "INSERT INTO keys(id, label, threshold, n, parties, status, keygen_session,"
               " created, public_key, chain_code, imported, import_source) VALUES(?,?,?,?,?,"
               "'pending',?,?,?,?,?,?)");
    if (!st || !parties) {
        free(parties);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->label, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)k->threshold);
    sqlite3_bind_int(st, 4, (int)k->n);
    sqlite3_bind_text(st, 5, parties, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, sid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now_s());
    if (k->has_public_key) { /* an import: the key is known before its session */
        sqlite3_bind_blob(st, 8, k->public_key, 33, SQLITE_STATIC);
        sqlite3_bind_blob(st, 9, k->chain_code, 32, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 10, k->import_source[0] ? 1 : 0);
    if (k->import_source[0])
        sqlite3_bind_text(st, 11, k->import_source, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(parties);
    if (rc != SQLITE_DONE) {
        log_err("cannot store key %s: %s", id, sqlite3_errmsg(h->db));
        return -1;
    }
    if (!k->external_id[0] && !k->delegate[0])
        return 0;
    st = mpcd_db_prepare(h->db, "INSERT INTO key_ext(key_id, external_id, delegate) VALUES(?,?,?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (k->external_id[0])
        sqlite3_bind_text(st, 2, k->external_id, -1, SQLITE_STATIC);
    if (k->delegate[0])
        sqlite3_bind_text(st, 3, k->delegate, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return 2; /* the external id is taken (a keygen racing this one) */
    if (rc != SQLITE_DONE) {
        log_err("cannot store key %s: %s", id, sqlite3_errmsg(h->db));
        return -1;
    }
    return 0;
}

static int load_parties(const char *text, api_party_name *out, unsigned n)
{
    json_t *a = json_loads(text ? text : "", 0, NULL);
    int ok = json_is_array(a) && json_array_size(a) == n;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *p = json_array_get(a, i);
        ok = json_is_string(p) && api_party_id_valid(json_string_value(p));
        if (ok)
            snprintf(out[i], sizeof out[i], "%s", json_string_value(p));
    }
    json_decref(a);
    return ok ? 0 : -1;
}

int hub_store_key_load(hub *h, const uint8_t idb[HUB_ID_BYTES], hub_key_row *k)
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    memset(k, 0, sizeof *k);
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "SELECT label, threshold, n, parties, status,"
                                              " public_key, chain_code FROM keys WHERE id=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW) {
        memcpy(k->id, idb, HUB_ID_BYTES);
        snprintf(k->label, sizeof k->label, "%s", (const char *)sqlite3_column_text(st, 0));
        k->threshold = (unsigned)sqlite3_column_int(st, 1);
        k->n = (unsigned)sqlite3_column_int(st, 2);
        snprintf(k->status, sizeof k->status, "%s", (const char *)sqlite3_column_text(st, 4));
        ret = (k->n <= API_MAX_PARTIES &&
               load_parties((const char *)sqlite3_column_text(st, 3), k->parties, k->n) == 0)
                  ? 0
                  : -1;
        if (sqlite3_column_bytes(st, 5) == 33 && sqlite3_column_bytes(st, 6) == 32) {
            memcpy(k->public_key, sqlite3_column_blob(st, 5), 33);
            memcpy(k->chain_code, sqlite3_column_blob(st, 6), 32);
            k->has_public_key = 1;
        }
    } else if (rc != SQLITE_DONE) {
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

/* The key becomes active and its attestations and certificates are stored, inside the
 * caller's transaction (session.c also finishes the keygen session in it): a reader never
 * sees an active key without the n attestations that justify it, nor a done keygen
 * without its active key. On failure the caller rolls back. */
static int key_attest(hub *h, const uint8_t idb[HUB_ID_BYTES], const uint8_t pk[33],
                      const uint8_t cc[32], const char *const *party, const char *const *cert_pem,
                      const api_keygen_result *att, size_t n, const char *status);

int hub_store_key_activate(hub *h, const uint8_t idb[HUB_ID_BYTES], const uint8_t pk[33],
                           const uint8_t cc[32], const char *const *party,
                           const char *const *cert_pem, const api_keygen_result *att, size_t n)
{
    return key_attest(h, idb, pk, cc, party, cert_pem, att, n, "active");
}

int hub_store_key_deliver(hub *h, const uint8_t idb[HUB_ID_BYTES], const uint8_t pk[33],
                          const uint8_t cc[32], const char *const *party,
                          const char *const *cert_pem, const api_keygen_result *att, size_t n)
{
    return key_attest(h, idb, pk, cc, party, cert_pem, att, n, "delivering");
}

/* Stores the n attestations and their certificates and moves the key from pending to
 * status (active, or delivering while a delegate share waits for the backend). */
static int key_attest(hub *h, const uint8_t idb[HUB_ID_BYTES], const uint8_t pk[33],
                      const uint8_t cc[32], const char *const *party, const char *const *cert_pem,
                      const api_keygen_result *att, size_t n, const char *status)
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "INSERT INTO key_attestations(key_id, party,"
                                              " transcript_hash, attestation) VALUES(?,?,?,?)");
    int ok = st != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, party[i], -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, att[i].transcript_hash, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, att[i].attestation, (int)att[i].attestation_len, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    /* The certificate each attestation verified under (kept by the session when the
     * result arrived): all n, or no activation — the activate frame carries them. */
    st = ok ? mpcd_db_prepare(h->db, "INSERT OR REPLACE INTO key_attestation_certs(key_id,"
                                     " party, certificate) VALUES(?,?,?)")
            : NULL;
    ok = ok && st != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        if (!cert_pem[i]) {
            ok = 0;
            break;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, party[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, cert_pem[i], -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    st = ok ? mpcd_db_prepare(h->db, "UPDATE keys SET status=?5, public_key=?1,"
                                     " chain_code=?2, activated=?3 WHERE id=?4 AND"
                                     " status='pending'")
            : NULL;
    if (st) {
        sqlite3_bind_blob(st, 1, pk, 33, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, cc, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_s());
        sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(h->db) == 1;
        sqlite3_finalize(st);
    } else {
        ok = 0;
    }
    if (!ok) {
        log_err("cannot activate key %s: %s", id, sqlite3_errmsg(h->db));
        return -1;
    }
    return 0;
}

/* The activate payload (PARTY_LINK.md): {"key_id", "attestations": [{"index",
 * "certificate", "attestation"}, ...]}, all n in index order, as stored. NULL (logged)
 * if the key is not active, an attestation or its certificate is missing (a key activated
 * before certificates were kept), or on a storage error. */
char *hub_store_activate_json(hub *h, const uint8_t idb[HUB_ID_BYTES])
{
    char id[HUB_ID_HEX];
    hub_key_row k;
    hub_id_hex(id, idb);
    int r = hub_store_key_load(h, idb, &k);
    if (r != 0 || strcmp(k.status, "active") != 0) {
        if (r <= 0)
            log_err("key %s: no activate payload (%s)", id, r < 0 ? "storage error" : k.status);
        return NULL;
    }
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "SELECT a.attestation, c.certificate FROM key_attestations a JOIN"
                               " key_attestation_certs c ON c.key_id=a.key_id AND c.party=a.party"
                               " WHERE a.key_id=? AND a.party=?");
    if (!st)
        return NULL;
    json_t *atts = json_array();
    int ok = atts != NULL;
    for (unsigned i = 0; ok && i < k.n; i++) {
        char hex[2 * API_ATTESTATION_MAX + 1];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, k.parties[i], -1, SQLITE_STATIC);
        int len = 0;
        ok = sqlite3_step(st) == SQLITE_ROW && (len = sqlite3_column_bytes(st, 0)) > 0 &&
             len <= API_ATTESTATION_MAX && sqlite3_column_type(st, 1) == SQLITE_TEXT;
        if (!ok) {
            log_err("key %s: party '%s' has no stored attestation and certificate; no "
                    "activate payload",
                    id, k.parties[i]);
            break;
        }
        api_hex_encode(hex, sqlite3_column_blob(st, 0), (size_t)len);
        ok =
            json_array_append_new(
                atts, json_pack("{s:i,s:s,s:s}", "index", (int)i + 1, "certificate",
                                (const char *)sqlite3_column_text(st, 1), "attestation", hex)) == 0;
    }
    sqlite3_finalize(st);
    char *out = NULL;
    if (ok) {
        json_t *o = json_pack("{s:s,s:O}", "key_id", id, "attestations", atts);
        out = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
    json_decref(atts);
    return out;
}

int hub_store_key_with_pk(hub *h, const uint8_t pk[33], const uint8_t exclude[HUB_ID_BYTES],
                          char found[HUB_ID_HEX])
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, exclude);
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "SELECT id FROM keys WHERE public_key=? AND id<>? LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_blob(st, 1, pk, 33, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
    if (r == 0)
        snprintf(found, HUB_ID_HEX, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return r;
}

int hub_store_key_live_with_pk(hub *h, const uint8_t pk[33], char found[HUB_ID_HEX])
{
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "SELECT id FROM keys WHERE public_key=? AND status"
                                              " IN ('pending','delivering','active') LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_blob(st, 1, pk, 33, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
    if (r == 0)
        snprintf(found, HUB_ID_HEX, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return r;
}

int hub_store_key_fail(hub *h, const uint8_t idb[HUB_ID_BYTES])
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "UPDATE keys SET status='failed' WHERE id=? AND status='pending'");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || mpcd_db_exec(h->db, release_external_ids) != 0) {
        log_err("cannot mark key %s failed: %s", id, sqlite3_errmsg(h->db));
        return -1;
    }
    return 0;
}

static json_t *hex_or_null(const void *blob, int len)
{
    char buf[2 * 256 + 1];
    if (!blob || len <= 0 || len > 256)
        return json_null();
    api_hex_encode(buf, blob, (size_t)len);
    return json_string(buf);
}

/* The event list [{ts_ms, event, detail?}] that sql (ts, event, detail of one id, in order)
 * selects; an empty array if the query fails. */
static json_t *events_json(hub *h, const char *sql, const char *id)
{
    json_t *ev = json_array();
    sqlite3_stmt *st = mpcd_db_prepare(h->db, sql);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *e = json_pack("{s:I,s:s}", "ts_ms", (json_int_t)sqlite3_column_int64(st, 0),
                                  "event", (const char *)sqlite3_column_text(st, 1));
            if (e && sqlite3_column_type(st, 2) == SQLITE_TEXT)
                json_object_set_new(e, "detail",
                                    json_string((const char *)sqlite3_column_text(st, 2)));
            if (e)
                json_array_append_new(ev, e);
        }
        sqlite3_finalize(st);
    }
    return ev;
}

/* external_id, delegate, default_signers and the key's events, added to a key's JSON. */
static void key_ext_json(hub *h, json_t *o, const char *id)
{
    json_t *eid = json_null(), *del = json_null(), *signers = NULL;
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "SELECT external_id, delegate, signers FROM key_ext WHERE key_id=?");
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) == SQLITE_TEXT)
                eid = json_string((const char *)sqlite3_column_text(st, 0));
            if (sqlite3_column_type(st, 1) == SQLITE_TEXT)
                del = json_string((const char *)sqlite3_column_text(st, 1));
            if (sqlite3_column_type(st, 2) == SQLITE_TEXT)
                signers = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
        }
        sqlite3_finalize(st);
    }
    json_object_set_new(o, "external_id", eid);
    json_object_set_new(o, "delegate", del);
    json_object_set_new(o, "default_signers", json_is_array(signers) ? signers : json_array());
    if (signers && !json_is_array(signers))
        json_decref(signers);
    json_object_set_new(
        o, "events",
        events_json(h, "SELECT ts, event, detail FROM key_events WHERE key_id=? ORDER BY seq", id));
}

static json_t *key_row_json(hub *h, sqlite3_stmt *st)
{
    /* columns: id, label, threshold, n, parties, status, public_key, chain_code,
     * keygen_session, created, activated, imported, import_source */
    const char *id = (const char *)sqlite3_column_text(st, 0);
    json_t *parties = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
    json_t *o =
        json_pack("{s:s,s:s,s:i,s:i,s:o,s:s,s:s,s:I}", "id", id, "label",
                  (const char *)sqlite3_column_text(st, 1), "threshold", sqlite3_column_int(st, 2),
                  "n", sqlite3_column_int(st, 3), "parties", parties ? parties : json_array(),
                  "status", (const char *)sqlite3_column_text(st, 5), "keygen_session",
                  (const char *)sqlite3_column_text(st, 8), "created",
                  (json_int_t)sqlite3_column_int64(st, 9));
    if (!o)
        return NULL;
    hub_reshare_key_json(h, id, o);
    /* imported: made by POST /v1/keys/import; import_source only then */
    json_object_set_new(o, "imported", json_boolean(sqlite3_column_int(st, 11) != 0));
    if (sqlite3_column_int(st, 11) && sqlite3_column_type(st, 12) == SQLITE_TEXT)
        json_object_set_new(o, "import_source",
                            json_string((const char *)sqlite3_column_text(st, 12)));
    if (sqlite3_column_bytes(st, 6) == 33) {
        const uint8_t *pk = sqlite3_column_blob(st, 6);
        char unc[131], addr[43];
        hub_crypto_uncompressed(unc, pk);
        hub_crypto_eth_address(addr, pk);
        json_object_set_new(o, "public_key", hex_or_null(pk, 33));
        json_object_set_new(o, "public_key_uncompressed", json_string(unc));
        json_object_set_new(o, "ethereum_address", json_string(addr));
        json_object_set_new(o, "chain_code",
                            hex_or_null(sqlite3_column_blob(st, 7), sqlite3_column_bytes(st, 7)));
    } else {
        json_object_set_new(o, "public_key", json_null());
        json_object_set_new(o, "public_key_uncompressed", json_null());
        json_object_set_new(o, "ethereum_address", json_null());
        json_object_set_new(o, "chain_code", json_null());
    }
    json_t *atts = json_array();
    sqlite3_stmt *a = mpcd_db_prepare(
        h->db, "SELECT a.party, a.transcript_hash, a.attestation, c.certificate FROM"
               " key_attestations a LEFT JOIN key_attestation_certs c ON c.key_id=a.key_id AND"
               " c.party=a.party WHERE a.key_id=? ORDER BY a.party");
    if (a) {
        sqlite3_bind_text(a, 1, id, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(a) == SQLITE_ROW)
            json_array_append_new(
                atts, json_pack("{s:s,s:o,s:o,s:s?}", "party",
                                (const char *)sqlite3_column_text(a, 0), "transcript_hash",
                                hex_or_null(sqlite3_column_blob(a, 1), sqlite3_column_bytes(a, 1)),
                                "signature",
                                hex_or_null(sqlite3_column_blob(a, 2), sqlite3_column_bytes(a, 2)),
                                "certificate", (const char *)sqlite3_column_text(a, 3)));
        sqlite3_finalize(a);
    }
    json_object_set_new(o, "attestations", atts);
    key_ext_json(h, o, id);
    return o;
}

#define KEY_COLUMNS                                                                                \
    "SELECT id, label, threshold, n, parties, status, public_key, chain_code, keygen_session,"     \
    " created, activated, imported, import_source FROM keys"

json_t *hub_store_key_json(hub *h, const uint8_t idb[HUB_ID_BYTES])
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    sqlite3_stmt *st = mpcd_db_prepare(h->db, KEY_COLUMNS " WHERE id=?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? key_row_json(h, st) : NULL;
    sqlite3_finalize(st);
    return o;
}

json_t *hub_store_keys_json(hub *h)
{
    sqlite3_stmt *st = mpcd_db_prepare(h->db, KEY_COLUMNS " ORDER BY rowid LIMIT 10000");
    if (!st)
        return NULL;
    json_t *a = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = key_row_json(h, st);
        if (o)
            json_array_append_new(a, o);
    }
    sqlite3_finalize(st);
    return json_pack("{s:o}", "keys", a);
}

static char *session_parties_text(const hub_session *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->nparties; i++)
        json_array_append_new(
            a, json_pack("{s:s,s:i}", "id", s->parties[i], "index", (int)s->index[i]));
    char *t = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return t;
}

int hub_store_session_insert(hub *h, const hub_session *s, const char *request_json)
{
    char id[HUB_ID_HEX], kid[HUB_ID_HEX];
    char *parties = session_parties_text(s);
    hub_id_hex(id, s->id);
    hub_id_hex(kid, s->key_id);
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "INSERT INTO sessions(id, kind, key_id, status, threshold, n, parties, request,"
               " created, updated) VALUES(?,?,?,'running',?,?,?,?,?,?)");
    if (!st || !parties) {
        free(parties);
        sqlite3_finalize(st);
        return -1;
    }
    int64_t t = now_s();
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2,
                      s->kind == HUB_KEYGEN ? "keygen"
                      : s->kind == HUB_SIGN ? "sign"
                                            : "reshare",
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kid, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)s->threshold);
    sqlite3_bind_int(st, 5, (int)s->n);
    sqlite3_bind_text(st, 6, parties, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, request_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, t);
    sqlite3_bind_int64(st, 9, t);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(parties);
    if (rc != SQLITE_DONE) {
        log_err("cannot store session %s: %s", id, sqlite3_errmsg(h->db));
        return -1;
    }
    return hub_store_event(h, s->id, "created", NULL);
}

int hub_store_session_finish(hub *h, const uint8_t idb[HUB_ID_BYTES], const char *status,
                             const char *result_json, const char *err_code, const char *err_msg)
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "UPDATE sessions SET status=?, result=?,"
                                              " error_code=?, error_message=?, updated=?"
                                              " WHERE id=? AND status='running'");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, result_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, err_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, err_msg, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_s());
    sqlite3_bind_text(st, 6, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || sqlite3_changes(h->db) != 1) {
        log_err("cannot finish session %s: %s", id,
                rc != SQLITE_DONE ? sqlite3_errmsg(h->db) : "it is not running");
        return -1;
    }
    return hub_store_event(h, idb, status, err_msg);
}

/* Appends (id, now in ms, event, detail) with sql, an INSERT into session_events or
 * key_events; what ("session", "key") names the owner in the log line. 0 or -1. */
static int append_event(hub *h, const char *sql, const char *what, const uint8_t idb[HUB_ID_BYTES],
                        const char *event, const char *detail)
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    sqlite3_stmt *st = mpcd_db_prepare(h->db, sql);
    if (!st)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_err("cannot append event '%s' to %s %s: %s", event, what, id, sqlite3_errmsg(h->db));
        return -1;
    }
    return 0;
}

int hub_store_event(hub *h, const uint8_t idb[HUB_ID_BYTES], const char *event, const char *detail)
{
    return append_event(h,
                        "INSERT INTO session_events(session_id, ts, event, detail) VALUES(?,?,?,?)",
                        "session", idb, event, detail);
}

json_t *hub_store_session_json(hub *h, const uint8_t idb[HUB_ID_BYTES])
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "SELECT kind, key_id, status, threshold, n, parties, result, error_code,"
               " error_message, created, updated FROM sessions WHERE id=?");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return NULL;
    }
    json_t *parties = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:o,s:I,s:I}", "id", id, "kind",
                          (const char *)sqlite3_column_text(st, 0), "key_id",
                          (const char *)sqlite3_column_text(st, 1), "status",
                          (const char *)sqlite3_column_text(st, 2), "threshold_t",
                          sqlite3_column_int(st, 3), "threshold_n", sqlite3_column_int(st, 4),
                          "parties", parties ? parties : json_array(), "created",
                          (json_int_t)sqlite3_column_int64(st, 9), "updated",
                          (json_int_t)sqlite3_column_int64(st, 10));
    if (o && sqlite3_column_type(st, 6) == SQLITE_TEXT) {
        json_t *r = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
        json_object_set_new(o, "result", r ? r : json_null());
    }
    if (o && sqlite3_column_type(st, 7) == SQLITE_TEXT)
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s}", "code", (const char *)sqlite3_column_text(st, 7),
                                      "message",
                                      sqlite3_column_type(st, 8) == SQLITE_TEXT
                                          ? (const char *)sqlite3_column_text(st, 8)
                                          : ""));
    sqlite3_finalize(st);
    if (!o)
        return NULL;
    json_object_set_new(o, "events",
                        events_json(h,
                                    "SELECT ts, event, detail FROM session_events WHERE"
                                    " session_id=? ORDER BY seq",
                                    id));
    return o;
}

/* Activation is idempotent and re-sent whenever a signer says hello (DESIGN.md: a signer
 * that crashed between persisting its pending share and hearing "activate" must still
 * learn that the key is live). Calls fn for every active key that party holds a share of,
 * with its keygen session and the party's index. */
int hub_store_each_active_key(hub *h, const char *party,
                              void (*fn)(void *arg, const uint8_t key_id[HUB_ID_BYTES],
                                         const uint8_t session[HUB_ID_BYTES], unsigned index),
                              void *arg)
{
    /* A key's delegate holds no share to activate (the backend holds it): skipped. So are
     * imported keys: they have no keygen activate (their parties activated epoch 1 in the
     * import session, and every one of them acknowledged it before the key became active). */
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "SELECT k.id, k.keygen_session, k.n, k.parties,"
                                              " x.delegate FROM keys k LEFT JOIN key_ext x ON"
                                              " x.key_id=k.id WHERE k.status='active' AND"
                                              " k.imported=0 ORDER BY k.rowid");
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        api_party_name parties[API_MAX_PARTIES];
        uint8_t kid[HUB_ID_BYTES], sid[HUB_ID_BYTES];
        unsigned n = (unsigned)sqlite3_column_int(st, 2);
        if (n > API_MAX_PARTIES ||
            load_parties((const char *)sqlite3_column_text(st, 3), parties, n) != 0 ||
            hub_id_parse(kid, (const char *)sqlite3_column_text(st, 0),
                         (size_t)sqlite3_column_bytes(st, 0)) != 0 ||
            hub_id_parse(sid, (const char *)sqlite3_column_text(st, 1),
                         (size_t)sqlite3_column_bytes(st, 1)) != 0)
            continue;
        const char *delegate = (const char *)sqlite3_column_text(st, 4);
        if (delegate && strcmp(delegate, party) == 0)
            continue;
        for (unsigned i = 0; i < n; i++)
            if (strcmp(parties[i], party) == 0)
                fn(arg, kid, sid, i + 1);
    }
    sqlite3_finalize(st);
    return 0;
}

int hub_store_party_seen(hub *h, const char *id, const uint8_t fp[32], const char *backend,
                         const char *version)
{
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "INSERT INTO parties(id, fingerprint, backend, version, first_seen, last_seen)"
               " VALUES(?1,?2,?3,?4,?5,?5) ON CONFLICT(id) DO UPDATE SET"
               " fingerprint=?2, backend=?3, version=?4, last_seen=?5");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, fp, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, backend, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_s());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int hub_store_party_known(hub *h, const char *id)
{
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "SELECT 1 FROM parties WHERE id=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

json_t *hub_store_parties_json(hub *h)
{
    sqlite3_stmt *st = mpcd_db_prepare(h->db, "SELECT id, fingerprint, backend, version,"
                                              " first_seen, last_seen FROM parties ORDER BY id");
    if (!st)
        return NULL;
    json_t *a = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        struct hub_link *l = hub_link_find(h, id);
        json_t *o = json_pack(
            "{s:s,s:b,s:s?,s:o,s:s?,s:s?,s:I,s:I}", "id", id, "online", l != NULL, "role",
            l ? (hub_link_is_delegate(l) ? "delegate" : "persistent") : NULL, "certificate_sha256",
            hex_or_null(sqlite3_column_blob(st, 1), sqlite3_column_bytes(st, 1)), "backend",
            (const char *)sqlite3_column_text(st, 2), "version",
            (const char *)sqlite3_column_text(st, 3), "first_seen",
            (json_int_t)sqlite3_column_int64(st, 4), "last_seen",
            (json_int_t)sqlite3_column_int64(st, 5));
        if (o)
            json_array_append_new(a, o);
    }
    sqlite3_finalize(st);
    return json_pack("{s:o}", "parties", a);
}

/* ---- per-key data: external id, delegate, default signers, key events ---- */

int hub_store_key_ext_load(hub *h, const uint8_t idb[HUB_ID_BYTES], hub_key_ext *x)
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    memset(x, 0, sizeof *x);
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "SELECT external_id, delegate, signers FROM key_ext WHERE key_id=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_TEXT)
            snprintf(x->external_id, sizeof x->external_id, "%s",
                     (const char *)sqlite3_column_text(st, 0));
        if (sqlite3_column_type(st, 1) == SQLITE_TEXT)
            snprintf(x->delegate, sizeof x->delegate, "%s",
                     (const char *)sqlite3_column_text(st, 1));
        json_t *a = sqlite3_column_type(st, 2) == SQLITE_TEXT
                        ? json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL)
                        : NULL;
        size_t n = json_is_array(a) ? json_array_size(a) : 0;
        for (size_t i = 0; i < n && i < API_MAX_PARTIES; i++) {
            json_t *p = json_array_get(a, i);
            if (!json_is_string(p) || !api_party_id_valid(json_string_value(p))) {
                ret = -1;
                break;
            }
            snprintf(x->signers[x->nsigners++], sizeof x->signers[0], "%s", json_string_value(p));
        }
        json_decref(a);
    }
    sqlite3_finalize(st);
    return ret;
}

int hub_store_key_by_external_id(hub *h, const char *external_id, uint8_t idb[HUB_ID_BYTES])
{
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "SELECT key_id FROM key_ext WHERE external_id=? LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, external_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
    if (r == 0 && hub_id_parse(idb, (const char *)sqlite3_column_text(st, 0),
                               (size_t)sqlite3_column_bytes(st, 0)) != 0)
        r = -1;
    sqlite3_finalize(st);
    return r;
}

int hub_store_key_event(hub *h, const uint8_t idb[HUB_ID_BYTES], const char *event,
                        const char *detail)
{
    return append_event(h, "INSERT INTO key_events(key_id, ts, event, detail) VALUES(?,?,?,?)",
                        "key", idb, event, detail);
}

/* Sets (n > 0) or clears (n == 0) the default signers and appends the change to the key's
 * events, in one transaction. */
int hub_store_key_signers_set(hub *h, const uint8_t idb[HUB_ID_BYTES], const api_party_name *p,
                              size_t n)
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    char *list = n ? parties_text(p, n) : NULL;
    if (n && !list)
        return -1;
    if (mpcd_db_begin(h->db) != 0) {
        free(list);
        return -1;
    }
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "INSERT INTO key_ext(key_id, signers) VALUES(?1,?2) ON CONFLICT(key_id) DO"
               " UPDATE SET signers=?2");
    int ok = st != NULL;
    if (ok) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (list)
            sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    ok = ok && hub_store_key_event(h, idb, n ? "signers_set" : "signers_cleared", list) == 0;
    free(list);
    if (!ok || mpcd_db_commit(h->db) != 0) {
        mpcd_db_rollback(h->db);
        return -1;
    }
    return 0;
}

/* delivering -> active (the delegate share was handed) or -> failed (it expired or could
 * not be handed), with a key event, in one transaction. 1 if the key was not delivering. */
int hub_store_key_delivered(hub *h, const uint8_t idb[HUB_ID_BYTES], int handed, const char *detail)
{
    char id[HUB_ID_HEX];
    hub_id_hex(id, idb);
    if (mpcd_db_begin(h->db) != 0)
        return -1;
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "UPDATE keys SET status=? WHERE id=? AND status='delivering'");
    int ok = st != NULL, changed = 0;
    if (ok) {
        sqlite3_bind_text(st, 1, handed ? "active" : "failed", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
        changed = sqlite3_changes(h->db);
    }
    sqlite3_finalize(st);
    ok = ok && (!changed || hub_store_key_event(
                                h, idb, handed ? "delegate_share_handed" : "delegate_share_expired",
                                detail) == 0);
    ok = ok && (handed || mpcd_db_exec(h->db, release_external_ids) == 0);
    if (!ok || mpcd_db_commit(h->db) != 0) {
        mpcd_db_rollback(h->db);
        log_err("key %s: cannot record the delegate share's fate: %s", id, sqlite3_errmsg(h->db));
        return -1;
    }
    return changed ? 0 : 1;
}
