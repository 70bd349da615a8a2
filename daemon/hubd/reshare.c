/* daemon/hubd/reshare.c — the hub's key epochs (issue 17): the public data of each epoch of
 * a key (its threshold, parties, DKG sid and every party's P(j)), which a later refresh or
 * reshare's session-start must name and the hub cannot compute. Filled from the "key"
 * block of keygen results (api/reshare.h api_key_public), which every persistent signer of
 * the key must report identically. And the refresh session (POST /v1/keys/{id}/refresh,
 * kind "reshare"): session-start per participant, results (attested new shares, all naming
 * one fingerprint and the same public data), activate with the epoch to every new party,
 * all acks, then the new epoch and the session's outcome in one transaction, then retire of
 * the old epoch. Any failure before that transaction leaves the old epoch active at the
 * hub. POST /v1/keys/{id}/reshare {threshold, parties} runs the same session to another
 * committee; dealers outside it answer "dealt" and get retire with everyone else.
 * Loop thread only, like the rest of the hub. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/hex.h"
#include "api/import.h"
#include "daemon/common/tls.h"
#include "daemon/common/db.h"
#include "daemon/common/importcheck.h"
#include "daemon/common/log.h"
#include "hub.h"
#include "tss/reshare.h"

int hub_reshare_note_result(hub_session *s, size_t i, const api_frame *f, char *msg, size_t cap)
{
    api_key_public kp;
    int present = 0;
    char sub[API_MSG_MAX];
    if (s->delegate == i + 1)
        return 0; /* a delegate keeps no share: it reports no public data */
    if (api_key_public_get(&kp, &present, f->payload, f->payload_len, sub, sizeof sub) != API_OK) {
        snprintf(msg, cap, "party '%s' sent a malformed key block: %s", s->parties[i], sub);
        return -1;
    }
    if (present && (kp.epoch != 0 || kp.count != s->n)) {
        snprintf(msg, cap, "party '%s' reports the public data of epoch %u with %zu shares",
                 s->parties[i], (unsigned)kp.epoch, kp.count);
        return -1;
    }
    int state = present ? 1 : -1;
    if (s->kpub_state == 0) {
        s->kpub_state = state;
        s->kpub = kp;
        return 0;
    }
    if (s->kpub_state != state || (present && memcmp(&s->kpub, &kp, sizeof kp) != 0)) {
        snprintf(msg, cap, "party '%s' reports other public shares or DKG sid than the others",
                 s->parties[i]);
        return -1;
    }
    return 0;
}

int hub_reshare_store_epoch0(hub *h, const hub_session *s)
{
    char kid[HUB_ID_HEX];
    if (s->kpub_state != 1)
        return 0; /* signers older than the key block: no epoch record (no reshare) */
    hub_id_hex(kid, s->key_id);
    json_t *parties = json_array();
    for (size_t j = 0; j < s->nparties; j++)
        json_array_append_new(parties, json_string(s->parties[j]));
    char *ptext = json_dumps(parties, JSON_COMPACT);
    json_decref(parties);
    uint8_t shares[API_MAX_PARTIES * 33];
    for (size_t j = 0; j < s->kpub.count; j++)
        memcpy(shares + 33 * j, s->kpub.public_shares[j], 33);
    sqlite3_stmt *st =
        ptext ? mpcd_db_prepare(h->db, "INSERT INTO key_epochs(key_id, epoch, status,"
                                       " threshold, n, parties, key_sid, public_shares,"
                                       " created) VALUES(?, 0, 'active', ?, ?, ?, ?, ?,"
                                       " strftime('%s','now'))")
              : NULL;
    int rc = -1;
    if (st) {
        sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)s->threshold);
        sqlite3_bind_int(st, 3, (int)s->n);
        sqlite3_bind_text(st, 4, ptext, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, s->kpub.key_sid, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, shares, (int)(33 * s->kpub.count), SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        if (rc)
            log_err("key %s: cannot store its epoch record: %s", kid, sqlite3_errmsg(h->db));
        sqlite3_finalize(st);
    }
    free(ptext);
    return rc;
}

void hub_reshare_key_json(hub *h, const char *key_id, json_t *o)
{
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "SELECT epoch, length(public_shares) FROM key_epochs WHERE key_id=? AND"
               " status='active' ORDER BY epoch DESC LIMIT 1");
    json_int_t epoch = 0;
    int have = 0;
    if (st) {
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            epoch = sqlite3_column_int64(st, 0);
            have = 1;
        }
        sqlite3_finalize(st);
    }
    /* epoch: the active epoch (0 from the keygen, +1 per refresh/reshare); reshareable:
     * the hub holds the public data a refresh or reshare needs */
    json_object_set_new(o, "epoch", json_integer(epoch));
    json_object_set_new(o, "reshareable", json_boolean(have));
}

/* ---- refresh and reshare sessions ---- */

static void send_activate(hub_session *s);

/* The key's active epoch record: its number, threshold, n, parties (JSON text parsed into
 * p), DKG sid and public shares. 0, 1 if the key has none (not reshareable), -1. */
static int load_epoch(hub *h, const char *kid, uint32_t *epoch, unsigned *t, unsigned *n,
                      api_party_name *p, uint8_t sid[32], uint8_t shares[][33])
{
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "SELECT epoch, threshold, n, parties, key_sid, public_shares FROM key_epochs"
               " WHERE key_id=? AND status='active' ORDER BY epoch DESC LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 1 : -1;
    }
    *epoch = (uint32_t)sqlite3_column_int64(st, 0);
    *t = (unsigned)sqlite3_column_int(st, 1);
    *n = (unsigned)sqlite3_column_int(st, 2);
    json_t *arr = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
    int bad = !arr || !json_is_array(arr) || json_array_size(arr) != *n || *n < 2 ||
              *n > API_MAX_PARTIES || sqlite3_column_bytes(st, 4) != 32 ||
              sqlite3_column_bytes(st, 5) != (int)(33 * *n);
    for (size_t j = 0; !bad && j < *n; j++) {
        const char *id = json_string_value(json_array_get(arr, j));
        bad = !id || strlen(id) >= sizeof p[j];
        if (!bad)
            snprintf(p[j], sizeof p[j], "%s", id);
    }
    if (!bad) {
        memcpy(sid, sqlite3_column_blob(st, 4), 32);
        memcpy(shares, sqlite3_column_blob(st, 5), 33 * (size_t)*n);
    }
    json_decref(arr);
    sqlite3_finalize(st);
    if (bad)
        log_err("key %s: its epoch record is malformed", kid);
    return bad ? -1 : 0;
}

/* The one core of refresh, reshare and import. st holds the key id, the new epoch, the old
 * side (threshold, n, public key, chain code, DKG sid; zero sid for an import) and the
 * dealers in order with their x, P(x) and party id; this fills in the new committee np[0..nn)
 * (indices 1..nn, threshold nt), the certificates and the dealers' new indices. Checks: the
 * hub has room; 2 <= nt <= nn <= API_MAX_PARTIES; every new party listed once, online and
 * persistent (not a delegate); every dealer online; at most API_MAX_PARTIES participants
 * (the new parties, then the dealers outside them in dealer order). Then the session is
 * persisted — with new_key inserted in the same transaction when given (an import: the
 * key's failure follows the session's) — and each participant gets its session-start.
 * Frees st. API_OK and *out, or an error with msg set and nothing stored. */
static api_err begin_reshare(hub *h, api_reshare_start *st, unsigned nt, const api_party_name *np,
                             size_t nn, const hub_key_row *new_key, int import, const char *body,
                             hub_session **out, char *msg, size_t cap)
{
    api_party_name part[API_MAX_PARTIES];
    size_t npart = nn;
    api_err e = API_OK;
    *out = NULL;
    if (h->stopping || h->nsessions >= h->cfg.max_sessions) {
        snprintf(msg, cap, "%s",
                 h->stopping ? "hub is shutting down" : "too many sessions in flight; retry");
        e = API_ERR_BUSY;
    } else if (nt < 2 || nt > nn || nn > API_MAX_PARTIES) {
        snprintf(msg, cap, "need 2 <= threshold <= parties <= %d", API_MAX_PARTIES);
        e = API_ERR_BAD_FIELD;
    }
    /* The new committee: every party online, a persistent signer, listed once. */
    for (size_t j = 0; j < nn && e == API_OK; j++) {
        struct hub_link *l = hub_link_find(h, np[j]);
        for (size_t q = 0; q < j && e == API_OK; q++)
            if (strcmp(np[q], np[j]) == 0) {
                snprintf(msg, cap, "party '%s' is listed twice", np[j]);
                e = API_ERR_BAD_FIELD;
            }
        if (e == API_OK && !l) {
            snprintf(msg, cap, "party '%s' is offline (every new party must be online)", np[j]);
            e = API_ERR_PARTIES_OFFLINE;
        }
        if (e == API_OK && hub_link_is_delegate(l)) {
            snprintf(msg, cap, "party '%s' is a delegate signer: it keeps no share", np[j]);
            e = API_ERR_BAD_FIELD;
        }
        if (e != API_OK)
            break;
        memcpy(part[j], np[j], sizeof part[j]);
        st->parties[j].index = (unsigned)j + 1;
        memcpy(st->parties[j].id, np[j], sizeof st->parties[j].id);
        snprintf(st->parties[j].cert, sizeof st->parties[j].cert, "%s", hub_link_cert_pem(l));
    }
    /* The dealers: online; those outside the new committee take part after it. */
    for (size_t k = 0; k < st->ndealers && e == API_OK; k++) {
        api_reshare_dealer *d = &st->dealers[k];
        struct hub_link *l = hub_link_find(h, d->id);
        if (!l) {
            snprintf(msg, cap, "dealer '%s' is offline (every dealer must be online)", d->id);
            e = API_ERR_PARTIES_OFFLINE;
            break;
        }
        snprintf(d->cert, sizeof d->cert, "%s", hub_link_cert_pem(l));
        d->new_index = 0;
        for (size_t q = 0; q < nn; q++)
            if (strcmp(np[q], d->id) == 0)
                d->new_index = (unsigned)q + 1;
        if (!d->new_index) {
            if (npart == API_MAX_PARTIES) {
                snprintf(msg, cap, "more than %d participants", API_MAX_PARTIES);
                e = API_ERR_BAD_FIELD;
                break;
            }
            memcpy(part[npart++], d->id, sizeof part[0]);
        }
    }
    hub_session *s = e == API_OK ? hub_session_new(h, HUB_RESHARE) : NULL;
    if (e == API_OK && !s)
        e = API_ERR_INTERNAL;
    if (e != API_OK) {
        free(st);
        return e;
    }
    memcpy(s->key_id, st->key_id, HUB_ID_BYTES);
    s->threshold = nt;
    s->n = (unsigned)nn;
    s->nparties = npart;
    s->epoch = st->epoch;
    s->old_threshold = st->old_threshold;
    s->old_n = st->old_n;
    s->import = import;
    memcpy(s->public_key, st->public_key, 33);
    memcpy(s->chain_code, st->chain_code, 32);
    for (size_t j = 0; j < npart; j++) {
        memcpy(s->parties[j], part[j], sizeof s->parties[j]);
        s->index[j] = (unsigned)j + 1;
    }
    st->threshold = nt;
    st->n = (unsigned)nn;
    st->nparties = nn;
    memcpy(st->nonce, s->nonce, 32);
    char *starts[API_MAX_PARTIES] = {0};
    for (size_t j = 0; j < npart && e == API_OK; j++)
        if (!(starts[j] = api_reshare_start_encode(st, (unsigned)j + 1)))
            e = API_ERR_INTERNAL;
    free(st);
    if (e == API_OK) {
        e = hub_session_begin(h, s, new_key, body && body[0] ? body : "{}");
        if (e == API_OK)
            for (size_t j = 0; j < npart; j++)
                hub_session_send(s, j, API_FRAME_SESSION_START, starts[j]);
    } else {
        hub_session_discard(s);
    }
    for (size_t j = 0; j < npart; j++)
        free(starts[j]);
    if (e == API_OK)
        *out = s;
    return e;
}

/* Starts a reshare of key_id's active epoch to the committee np[0..nn) (indices 1..nn) with
 * threshold nt (0: the old one; np NULL: the old parties). Dealers: every online party of
 * the old committee (at least old-threshold of them); those outside the new one take part
 * after it. Every old party that leaves the committee must deal: a signer deletes a share
 * that is still active on the hub's retire only when it dealt for the next epoch itself
 * (signerd session.c retire_run), so a leaver that did not deal would keep its old share
 * for ever — and could not rejoin later (a replacement holds no share of the key). */
static api_err start_reshare(hub *h, const uint8_t key_id[HUB_ID_BYTES], const char *body,
                             unsigned nt, const api_party_name *np, size_t nn, hub_session **out,
                             char *msg, size_t cap)
{
    hub_key_row k;
    char kid[HUB_ID_HEX];
    *out = NULL;
    hub_id_hex(kid, key_id);
    int r = hub_store_key_load(h, key_id, &k);
    if (r < 0)
        return API_ERR_INTERNAL;
    if (r > 0)
        return API_ERR_UNKNOWN_KEY;
    if (strcmp(k.status, "active") != 0 || !k.has_public_key)
        return snprintf(msg, cap, "key is %s, not active", k.status), API_ERR_KEY_NOT_ACTIVE;
    hub_key_ext x;
    if (hub_store_key_ext_load(h, key_id, &x) != 0)
        return API_ERR_INTERNAL;
    if (x.delegate[0])
        return snprintf(msg, cap, "key has a delegate signer: refresh is not supported for it"),
               API_ERR_BAD_FIELD;
    for (hub_session *o = h->sessions; o; o = o->next)
        if (o->kind == HUB_RESHARE && memcmp(o->key_id, key_id, HUB_ID_BYTES) == 0)
            return snprintf(msg, cap, "a refresh or reshare of this key is already running"),
                   API_ERR_BUSY;
    if (h->stopping || h->nsessions >= h->cfg.max_sessions)
        return snprintf(msg, cap, "%s",
                        h->stopping ? "hub is shutting down"
                                    : "too many sessions in flight; retry"),
               API_ERR_BUSY;
    api_reshare_start *st = calloc(1, sizeof *st);
    if (!st)
        return API_ERR_INTERNAL;
    uint8_t shares[API_MAX_PARTIES][33];
    api_party_name parties[API_MAX_PARTIES];
    uint32_t epoch = 0;
    unsigned t = 0, n = 0;
    r = load_epoch(h, kid, &epoch, &t, &n, parties, st->key_sid, shares);
    if (r != 0) {
        free(st);
        if (r < 0)
            return API_ERR_INTERNAL;
        return snprintf(msg, cap,
                        "the hub holds no epoch record of this key (created by older "
                        "signers): it cannot be refreshed"),
               API_ERR_KEY_NOT_ACTIVE;
    }
    if (epoch == UINT32_MAX) {
        free(st);
        return snprintf(msg, cap, "the key's epoch counter is exhausted"), API_ERR_BAD_FIELD;
    }
    if (!np) {
        np = parties;
        nn = n;
    }
    /* The dealers: every online party of the old committee. */
    size_t nd = 0;
    for (unsigned j = 0; j < n; j++) {
        if (!hub_link_find(h, parties[j]))
            continue;
        api_reshare_dealer *d = &st->dealers[nd++];
        d->x[31] = (uint8_t)(j + 1);
        memcpy(d->pub, shares[j], 33);
        memcpy(d->id, parties[j], sizeof d->id);
    }
    if (nd < t) {
        free(st);
        return snprintf(msg, cap,
                        "need %u online parties of the key's current committee to deal, %zu "
                        "online",
                        t, nd),
               API_ERR_PARTIES_OFFLINE;
    }
    memcpy(st->key_id, key_id, 16);
    st->epoch = epoch + 1;
    st->old_threshold = t;
    st->old_n = n;
    memcpy(st->public_key, k.public_key, 33);
    memcpy(st->chain_code, k.chain_code, 32);
    st->ndealers = nd;
    return begin_reshare(h, st, nt ? nt : t, np, nn, NULL, 0, body, out, msg, cap);
}

api_err hub_reshare_refresh(hub *h, const uint8_t key_id[HUB_ID_BYTES], const char *body,
                            hub_session **out, char *msg, size_t cap)
{
    return start_reshare(h, key_id, body, 0, NULL, 0, out, msg, cap);
}

api_err hub_reshare_reshare(hub *h, const uint8_t key_id[HUB_ID_BYTES], const char *body,
                            size_t len, hub_session **out, char *msg, size_t cap)
{
    json_error_t je;
    json_t *o = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    json_t *t = json_object_get(o, "threshold"), *p = json_object_get(o, "parties");
    api_party_name np[API_MAX_PARTIES];
    size_t nn = json_array_size(p);
    api_err e = API_OK;
    if (!json_is_object(o) || json_object_size(o) != 2 || !json_is_integer(t) ||
        !json_is_array(p) || nn < 2 || nn > API_MAX_PARTIES || json_integer_value(t) < 2 ||
        json_integer_value(t) > (json_int_t)nn) {
        snprintf(msg, cap,
                 "send {\"threshold\": t, \"parties\": [2..%d party ids]} with "
                 "2 <= t <= parties",
                 API_MAX_PARTIES);
        e = API_ERR_BAD_FIELD;
    }
    for (size_t j = 0; e == API_OK && j < nn; j++) {
        const char *id = json_string_value(json_array_get(p, j));
        if (!id || !api_party_id_valid(id)) {
            snprintf(msg, cap, "field 'parties' item %zu is not a party id", j);
            e = API_ERR_BAD_FIELD;
        } else {
            int known = hub_store_party_known(h, id);
            if (known < 0)
                e = API_ERR_INTERNAL;
            else if (!known)
                snprintf(msg, cap, "party '%s' has never connected to this hub", id),
                    e = API_ERR_UNKNOWN_PARTY;
            else
                snprintf(np[j], sizeof np[j], "%s", id);
        }
    }
    unsigned nt = e == API_OK ? (unsigned)json_integer_value(t) : 0;
    json_decref(o);
    if (e != API_OK)
        return e;
    return start_reshare(h, key_id, body, nt, np, nn, out, msg, cap);
}

/* POST /v1/keys/import: the checks that need the hub's state, in the order of the answer
 * codes (400 points and their interpolation, 422 unknown parties, 409 public key / external id
 * taken), then a new pending key and its session (begin_reshare: 503 busy, 422 offline, 400
 * delegate). */
api_err hub_reshare_import(hub *h, const char *body, size_t len, hub_session **out,
                           uint8_t key_id[HUB_ID_BYTES], char *msg, size_t cap)
{
    api_import_req *req = calloc(1, sizeof *req);
    api_reshare_start *st = calloc(1, sizeof *st);
    hub_key_row k = {0};
    api_err e = req && st ? API_OK : API_ERR_INTERNAL;
    *out = NULL;
    if (e == API_OK)
        e = api_import_req_parse(req, body, len, msg, cap);
    const api_import_dealer *d0 = req ? &req->dealers[0] : NULL;
    if (e == API_OK && mpcd_import_check_points(req, msg, cap) != MPCD_IMPORT_OK)
        e = API_ERR_BAD_FIELD;
    /* every party and dealer has connected to this hub before (known) */
    for (size_t i = 0; e == API_OK && i < req->nparties + req->ndealers; i++) {
        const char *id =
            i < req->nparties ? req->parties[i] : req->dealers[i - req->nparties].party;
        int known = hub_store_party_known(h, id);
        if (known < 0)
            e = API_ERR_INTERNAL;
        else if (!known)
            snprintf(msg, cap, "%s '%s' has never connected to this hub",
                     i < req->nparties ? "party" : "dealer", id),
                e = API_ERR_UNKNOWN_PARTY;
    }
    if (e == API_OK) {
        char other[HUB_ID_HEX];
        int r = hub_store_key_live_with_pk(h, d0->public_key, other);
        if (r < 0)
            e = API_ERR_INTERNAL;
        else if (r == 0)
            snprintf(msg, cap,
                     "key %s (active or pending) already has this public key: the wallet is "
                     "imported already",
                     other),
                e = API_ERR_KEY_EXISTS;
    }
    if (e == API_OK && req->external_id[0]) {
        uint8_t other[HUB_ID_BYTES];
        char ohex[HUB_ID_HEX];
        int r = hub_store_key_by_external_id(h, req->external_id, other);
        if (r < 0)
            e = API_ERR_INTERNAL;
        else if (r == 0)
            hub_id_hex(ohex, other),
                snprintf(msg, cap, "external_id '%s' is already used by key %s", req->external_id,
                         ohex),
                e = API_ERR_EXTERNAL_ID_USED;
    }
    if (e == API_OK && hub_random(k.id, HUB_ID_BYTES) != 0)
        e = API_ERR_INTERNAL;
    if (e != API_OK) {
        free(req);
        free(st);
        return e;
    }
    /* the new key, pending, with the public key and chain code the dealers described */
    k.threshold = req->threshold;
    k.n = (unsigned)req->nparties;
    memcpy(k.parties, req->parties, sizeof k.parties);
    memcpy(k.public_key, d0->public_key, 33);
    memcpy(k.chain_code, d0->chain_code, 32);
    k.has_public_key = 1;
    snprintf(k.external_id, sizeof k.external_id, "%s", req->external_id);
    snprintf(k.import_source, sizeof k.import_source, "%s", api_import_source_name(d0->source));
    /* its session: epoch 1 from the dealers in request order, zero DKG sid (an import) */
    memcpy(st->key_id, k.id, 16);
    st->epoch = 1;
    st->old_threshold = d0->old_threshold;
    st->old_n = d0->old_n;
    memcpy(st->public_key, d0->public_key, 33);
    memcpy(st->chain_code, d0->chain_code, 32);
    st->ndealers = req->ndealers;
    for (size_t i = 0; i < req->ndealers; i++) {
        memcpy(st->dealers[i].x, req->dealers[i].x, 32);
        memcpy(st->dealers[i].pub, req->dealers[i].public_share, 33);
        memcpy(st->dealers[i].id, req->dealers[i].party, sizeof st->dealers[i].id);
    }
    int source = (int)d0->source;
    api_party_name np[API_MAX_PARTIES];
    memcpy(np, req->parties, sizeof np);
    size_t nn = req->nparties;
    unsigned nt = req->threshold;
    free(req);
    e = begin_reshare(h, st, nt, np, nn, &k, source, body, out, msg, cap);
    if (e == API_ERR_EXTERNAL_ID_USED) /* taken between the check and the insert */
        snprintf(msg, cap, "external_id '%s' is already used by another key", k.external_id);
    if (e == API_OK)
        memcpy(key_id, k.id, HUB_ID_BYTES);
    return e;
}

/* Phase 0: a new party's result (keygen-shaped, attested with the reshare message). */
static void on_new_share(hub_session *s, size_t i, struct hub_link *l, const api_frame *f)
{
    char msg[API_MSG_MAX + 64], sub[API_MSG_MAX];
    api_keygen_result *r = &s->kres[i];
    uint8_t m[API_RESHARE_ATTEST_MSG_BYTES];
    api_key_public kp;
    int present = 0;
    if (s->reported[i])
        return;
    memset(&kp, 0, sizeof kp); /* compared whole with the first party's below */
    if (api_keygen_result_parse(r, f->payload, f->payload_len, sub, sizeof sub) != API_OK) {
        snprintf(msg, sizeof msg, "party '%s' sent a malformed result: %s", s->parties[i], sub);
        return hub_session_finish(s, NULL, "bad_result", msg, 0);
    }
    if (api_key_public_get(&kp, &present, f->payload, f->payload_len, sub, sizeof sub) != API_OK ||
        !present || kp.epoch != s->epoch || kp.count != s->n) {
        snprintf(msg, sizeof msg, "party '%s' sent no (or a wrong) key block for epoch %u",
                 s->parties[i], (unsigned)s->epoch);
        return hub_session_finish(s, NULL, "bad_result", msg, 0);
    }
    if (memcmp(r->public_key, s->public_key, 33) != 0 ||
        memcmp(r->chain_code, s->chain_code, 32) != 0) {
        snprintf(msg, sizeof msg, "party '%s' reports another public key or chain code",
                 s->parties[i]);
        return hub_session_finish(s, NULL, "result_mismatch", msg, 0);
    }
    api_reshare_attestation_message(m, s->key_id, s->epoch, r);
    if (!mpcd_tls_verify_with_cert(hub_link_cert(l), m, sizeof m, r->attestation,
                                   r->attestation_len)) {
        snprintf(msg, sizeof msg, "party '%s': attestation does not verify under its certificate",
                 s->parties[i]);
        return hub_session_finish(s, NULL, "bad_attestation", msg, 0);
    }
    if (s->kpub_state == 0) {
        s->kpub = kp;
        s->kpub_state = 1;
    }
    for (size_t j = 0; j < s->n; j++) /* the new parties (dealers outside report no share) */
        if ((s->reported[j] && memcmp(s->kres[j].transcript_hash, r->transcript_hash, 32) != 0) ||
            memcmp(s->kpub.key_sid, kp.key_sid, 32) != 0 || s->kpub.count != kp.count ||
            memcmp(s->kpub.public_shares, kp.public_shares, 33 * kp.count) != 0) {
            snprintf(msg, sizeof msg, "party '%s' disagrees with party '%s' on the new shares' %s",
                     s->parties[i], s->parties[j],
                     memcmp(s->kpub.key_sid, kp.key_sid, 32) ? "DKG sid"
                     : s->kpub.count != kp.count             ? "count"
                     : memcmp(s->kpub.public_shares, kp.public_shares, 33 * kp.count)
                         ? "public shares"
                         : "fingerprint");
            return hub_session_finish(s, NULL, "result_mismatch", msg, 0);
        }
    if (!(s->cert_pem[i] = strdup(hub_link_cert_pem(l))))
        return hub_session_finish(s, NULL, "internal", "out of memory", 0);
    s->reported[i] = 1;
    if (hub_store_event(s->h, s->id, "share_persisted", s->parties[i]) != 0)
        return hub_session_finish(s, NULL, "internal", "could not record the persisted share", 0);
    for (size_t j = 0; j < s->nparties; j++)
        if (!s->reported[j])
            return;
    send_activate(s);
}

/* Every new share is durable (pending) and every outside dealer has dealt: activate with
 * the epoch to the new parties, each attestation under the certificate it verified with. */
static void send_activate(hub_session *s)
{
    char kid[HUB_ID_HEX], hex[2 * API_ATTESTATION_MAX + 1];
    hub_id_hex(kid, s->key_id);
    json_t *atts = json_array();
    for (size_t j = 0; j < s->n; j++) {
        api_hex_encode(hex, s->kres[j].attestation, s->kres[j].attestation_len);
        json_array_append_new(atts, json_pack("{s:i,s:s,s:s}", "index", (int)s->index[j],
                                              "certificate", s->cert_pem[j], "attestation", hex));
    }
    json_t *o = json_pack("{s:s,s:I,s:o}", "key_id", kid, "epoch", (json_int_t)s->epoch,
                          "attestations", atts);
    char *act = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!act || hub_store_event(s->h, s->id, "activate_sent", NULL) != 0) {
        free(act);
        return hub_session_finish(s, NULL, "internal", "cannot build or record the activate", 0);
    }
    s->phase = 1;
    for (size_t j = 0; j < s->n; j++)
        hub_session_send(s, j, API_FRAME_ACTIVATE, act);
    free(act);
}

/* Phase 1: "active" acknowledgements; once every new party has switched, the new epoch is
 * recorded with the session's outcome, then the old epoch is retired (an import: the key
 * becomes active with its first epoch; there is nothing to retire). */
static void on_ack(hub_session *s, size_t i, const api_frame *f)
{
    char msg[API_MSG_MAX + 64], sub[API_MSG_MAX];
    uint8_t kid[16];
    uint32_t epoch = 0;
    int status = -1;
    if (api_reshare_ack_parse(kid, &epoch, &status, f->payload, f->payload_len, sub, sizeof sub) !=
            API_OK ||
        memcmp(kid, s->key_id, 16) != 0 || epoch != s->epoch || status != 1) {
        snprintf(msg, sizeof msg, "party '%s' did not acknowledge the activate of epoch %u",
                 s->parties[i], (unsigned)s->epoch);
        return hub_session_finish(s, NULL, "bad_result", msg, 0);
    }
    s->acked[i] = 1;
    for (size_t j = 0; j < s->n; j++)
        if (!s->acked[j])
            return;
    char hk[HUB_ID_HEX], pk[67];
    hub_id_hex(hk, s->key_id);
    api_hex_encode(pk, s->public_key, 33);
    json_t *o = json_pack("{s:s,s:s,s:I,s:i,s:i}", "key_id", hk, "public_key", pk, "epoch",
                          (json_int_t)s->epoch, "threshold", (int)s->threshold, "n", (int)s->n);
    if (o && s->import) {
        /* an import's result describes the new key, as a keygen's does */
        char cc[65], addr[43];
        json_t *parties = json_array();
        for (size_t j = 0; j < s->n; j++)
            json_array_append_new(parties, json_string(s->parties[j]));
        api_hex_encode(cc, s->chain_code, 32);
        hub_crypto_eth_address(addr, s->public_key);
        json_object_set_new(o, "chain_code", json_string(cc));
        json_object_set_new(o, "ethereum_address", json_string(addr));
        json_object_set_new(o, "parties", parties);
        json_object_set_new(o, "imported", json_true());
        json_object_set_new(o, "import_source",
                            json_string(api_import_source_name((api_import_source)s->import)));
    }
    char *res = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!res)
        return hub_session_finish(s, NULL, "internal", "out of memory", 0);
    /* an import's key becomes active with its first epoch (4); a reshare records the next
     * epoch and then retires the old one (3) */
    hub_session_finish(s, res, NULL, NULL, s->import ? 4 : 3);
    free(res);
}

/* Phase 0: a dealer outside the new committee has dealt. */
static void on_dealt(hub_session *s, size_t i, const api_frame *f)
{
    char msg[API_MSG_MAX + 64], sub[API_MSG_MAX];
    uint8_t kid[16];
    uint32_t epoch = 0;
    int status = -1;
    if (s->reported[i])
        return;
    if (api_reshare_ack_parse(kid, &epoch, &status, f->payload, f->payload_len, sub, sizeof sub) !=
            API_OK ||
        memcmp(kid, s->key_id, 16) != 0 || epoch != s->epoch || status != 2) {
        snprintf(msg, sizeof msg, "dealer '%s' did not answer 'dealt' for epoch %u", s->parties[i],
                 (unsigned)s->epoch);
        return hub_session_finish(s, NULL, "bad_result", msg, 0);
    }
    s->reported[i] = 1;
    if (hub_store_event(s->h, s->id, "dealt", s->parties[i]) != 0)
        return hub_session_finish(s, NULL, "internal", "could not record the dealer's answer", 0);
    for (size_t j = 0; j < s->nparties; j++)
        if (!s->reported[j])
            return;
    send_activate(s);
}

void hub_reshare_on_result(hub_session *s, size_t i, struct hub_link *l, const api_frame *f)
{
    if (f->type != API_FRAME_RESULT) {
        s->h->m.frames_dropped++;
        return;
    }
    if (s->phase == 0 && i >= s->n)
        return on_dealt(s, i, f);
    if (s->phase == 0)
        return on_new_share(s, i, l, f);
    if (i >= s->n || s->acked[i]) {
        s->h->m.frames_dropped++;
        return;
    }
    on_ack(s, i, f);
}

int hub_reshare_store_epoch(hub *h, const hub_session *s)
{
    char kid[HUB_ID_HEX], detail[64];
    hub_id_hex(kid, s->key_id);
    json_t *parties = json_array();
    for (size_t j = 0; j < s->n; j++)
        json_array_append_new(parties, json_string(s->parties[j]));
    char *ptext = json_dumps(parties, JSON_COMPACT);
    json_decref(parties);
    uint8_t shares[API_MAX_PARTIES * 33];
    for (size_t j = 0; j < s->kpub.count; j++)
        memcpy(shares + 33 * j, s->kpub.public_shares[j], 33);
    /* the key's committee (who signs) is the new one */
    sqlite3_stmt *kt = mpcd_db_prepare(h->db, "UPDATE keys SET threshold=?, n=?, parties=? WHERE"
                                              " id=?");
    if (kt && ptext) {
        sqlite3_bind_int(kt, 1, (int)s->threshold);
        sqlite3_bind_int(kt, 2, (int)s->n);
        sqlite3_bind_text(kt, 3, ptext, -1, SQLITE_STATIC);
        sqlite3_bind_text(kt, 4, kid, -1, SQLITE_STATIC);
    }
    int kok = kt && ptext && sqlite3_step(kt) == SQLITE_DONE;
    sqlite3_finalize(kt);
    sqlite3_stmt *up = mpcd_db_prepare(h->db, "UPDATE key_epochs SET status='retired' WHERE"
                                              " key_id=? AND status='active'");
    sqlite3_stmt *st =
        mpcd_db_prepare(h->db, "INSERT INTO key_epochs(key_id, epoch, status, threshold, n,"
                               " parties, key_sid, public_shares, created) VALUES(?, ?,"
                               " 'active', ?, ?, ?, ?, ?, strftime('%s','now'))");
    int rc = -1;
    if (kok && up && st) {
        sqlite3_bind_text(up, 1, kid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)s->epoch);
        sqlite3_bind_int(st, 3, (int)s->threshold);
        sqlite3_bind_int(st, 4, (int)s->n);
        sqlite3_bind_text(st, 5, ptext, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, s->kpub.key_sid, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, shares, (int)(33 * s->kpub.count), SQLITE_STATIC);
        rc = sqlite3_step(up) == SQLITE_DONE && sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        if (rc)
            log_err("key %s: cannot store epoch %u: %s", kid, (unsigned)s->epoch,
                    sqlite3_errmsg(h->db));
    }
    sqlite3_finalize(up);
    sqlite3_finalize(st);
    free(ptext);
    snprintf(detail, sizeof detail, "epoch %u: %u of %u", (unsigned)s->epoch, s->threshold, s->n);
    return rc == 0 ? hub_store_key_event(h, s->key_id, "epoch_active", detail) : -1;
}

int hub_reshare_store_import(hub *h, const hub_session *s)
{
    const char *names[API_MAX_PARTIES];
    char detail[96];
    for (size_t j = 0; j < s->n; j++)
        names[j] = s->parties[j];
    snprintf(detail, sizeof detail, "source %s (%u of %u) to %u of %u",
             api_import_source_name((api_import_source)s->import), s->old_threshold, s->old_n,
             s->threshold, s->n);
    /* pending -> active with the new parties' (v2, epoch 1) attestations, then the epoch-1
     * record (the committee is the one the key was inserted with) */
    if (hub_store_key_activate(h, s->key_id, s->public_key, s->chain_code, names,
                               (const char *const *)s->cert_pem, s->kres, s->n) != 0 ||
        hub_reshare_store_epoch(h, s) != 0)
        return -1;
    return hub_store_key_event(h, s->key_id, "imported", detail);
}

void hub_reshare_send_retire(hub_session *s)
{
    char *j = api_retire_encode(s->key_id, s->epoch - 1);
    for (size_t i = 0; i < s->nparties && j; i++)
        hub_session_send(s, i, API_FRAME_RETIRE, j);
    free(j);
}
