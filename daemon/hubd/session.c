/* daemon/hubd/session.c — keygen and sign sessions: choosing parties, session-start,
 * routing protocol frames by (session, to), collecting results, timeouts. The hub never
 * decodes protocol payloads; it checks only what it can: who sent a frame, that a keygen's
 * n attestations verify and agree, and that a signature verifies under the (derived) key
 * before it is stored or returned. Every transition is written to the database before
 * anyone is told about it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "api/b64.h"
#include "api/hex.h"
#include "daemon/common/db.h"
#include "daemon/common/eip191.h"
#include "daemon/common/eip712.h"
#include "daemon/common/ethtx.h"
#include "daemon/common/log.h"
#include "daemon/common/tls.h"
#include "hub.h"
#include "tss/keyshare.h"

static const char *kind_name(hub_kind k)
{
    return k == HUB_KEYGEN ? "keygen" : k == HUB_SIGN ? "sign" : "reshare";
}

hub_session *hub_session_find(hub *h, const uint8_t id[HUB_ID_BYTES])
{
    for (hub_session *s = h->sessions; s; s = s->next)
        if (memcmp(s->id, id, HUB_ID_BYTES) == 0)
            return s;
    return NULL;
}

static void free_on_close(uv_handle_t *t)
{
    hub_session *s = t->data;
    for (size_t i = 0; i < API_MAX_PARTIES; i++)
        free(s->cert_pem[i]);
    free(s->auth);
    hub_delegate_wipe(s->delegate_b64, s->delegate_len);
    free(s);
}

static void send_control(hub_session *s, size_t i, uint8_t type, const char *json)
{
    struct hub_link *l = hub_link_find(s->h, s->parties[i]);
    api_frame f = {.type = type, .from = API_PARTY_HUB, .to = (uint16_t)s->index[i]};
    if (!l || !json)
        return;
    memcpy(f.session, s->id, HUB_ID_BYTES);
    f.payload = (const uint8_t *)json;
    f.payload_len = (uint32_t)strlen(json);
    hub_link_send(l, &f);
}

/* Writes a session's outcome in one transaction: the session row and its event, and for
 * a keygen the key — active with its attestations and certificates (activate 1), or
 * delivering (activate 2: a delegate share waits for the backend), or failed; for a reshare
 * its new epoch (activate 3); for an import its key, active with epoch 1 (activate 4), or
 * failed. 0 when committed; -1 (logged, rolled back) otherwise. */
static int persist_outcome(hub_session *s, const char *result_json, const char *code,
                           const char *msg, int activate)
{
    hub *h = s->h;
    const char *names[API_MAX_PARTIES];
    for (size_t j = 0; j < s->nparties; j++)
        names[j] = s->parties[j];
    if (mpcd_db_begin(h->db) != 0)
        return -1;
    const api_keygen_result *r = &s->kres[0];
    if ((activate == 1 &&
         hub_store_key_activate(h, s->key_id, r->public_key, r->chain_code, names,
                                (const char *const *)s->cert_pem, s->kres, s->nparties) != 0) ||
        (activate == 1 && hub_reshare_store_epoch0(h, s) != 0) ||
        (activate == 3 && hub_reshare_store_epoch(h, s) != 0) ||
        (activate == 4 && hub_reshare_store_import(h, s) != 0) ||
        (activate == 2 &&
         hub_store_key_deliver(h, s->key_id, r->public_key, r->chain_code, names,
                               (const char *const *)s->cert_pem, s->kres, s->nparties) != 0) ||
        hub_store_session_finish(h, s->id, code ? "failed" : "done", result_json, code, msg) != 0 ||
        (code && (s->kind == HUB_KEYGEN || s->import) && hub_store_key_fail(h, s->key_id) != 0)) {
        mpcd_db_rollback(h->db);
        return -1;
    }
    return mpcd_db_commit(h->db);
}

/* Ends s exactly once: persists the outcome, tells the participants (abort / activate),
 * answers parked HTTP requests, and releases s (after its timer handle has closed).
 * activate: a keygen whose n attestations verified and agree (s->kres, s->cert_pem); the
 * key is activated in the same transaction that finishes the session. Nobody is told
 * anything the database does not hold: if the outcome cannot be written, the session and
 * key are failed as far as the store still allows, the signers get an abort, and parked
 * requests get 500 internal. */
static void finish_ex(hub_session *s, const char *result_json, const char *code, const char *msg,
                      int activate)
{
    hub *h = s->h;
    if (s->finished)
        return;
    s->finished = 1;
    uv_timer_stop(&s->timer);
    char sid[HUB_ID_HEX];
    hub_id_hex(sid, s->id);
    int stored = persist_outcome(s, result_json, code, msg, activate) == 0;
    if (!stored) {
        log_err("%s session %s: could not store its outcome (%s); failing it", kind_name(s->kind),
                sid, code ? code : "done");
        code = "internal";
        msg = "the hub could not store the session's outcome";
        activate = 0;
        /* Best effort, each write on its own: the key must not stay pending, and the
         * session should say why. What fails here stays as it was; a restart fails any
         * session still running and any key still pending (hub_store_recover). */
        if (s->kind == HUB_KEYGEN || s->import)
            hub_store_key_fail(h, s->key_id);
        hub_store_session_finish(h, s->id, "failed", NULL, code, msg);
    }
    int ok = code == NULL;
    if (ok)
        h->m.sessions_done[s->kind]++;
    else
        h->m.sessions_failed[s->kind]++;
    if (ok) {
        log_info("%s session %s done", kind_name(s->kind), sid);
    } else {
        log_notice("%s session %s failed: %s: %s", kind_name(s->kind), sid, code, msg);
        api_abort a = {.culprit = 0};
        snprintf(a.reason, sizeof a.reason, "%s", code);
        char *j = api_abort_encode(&a);
        for (size_t i = 0; i < s->nparties; i++)
            send_control(s, i, API_FRAME_ABORT, j);
        free(j);
    }
    if (activate == 2) {
        /* The key is delivering: its delegate share waits in memory for the backend; the
         * persistent signers hear activate once it has been handed (delegate.c). */
        hub_delegate_hold(h, s, s->delegate_b64, s->delegate_len);
        s->delegate_b64 = NULL;
        s->delegate_len = 0;
    } else if (activate == 3) {
        /* A reshare: the new epoch is durable here and active at every new party; only
         * now may the old epoch's shares go. */
        hub_reshare_send_retire(s);
    } else if (activate == 4) {
        /* An import: every new party already acknowledged its activate; the key had no
         * earlier epoch, so nothing is retired. */
    } else if (activate) {
        /* Read back from the store: what signers verify is what is durable. If it cannot
         * be built the key is still active; signers hear at their next hello. */
        char *act = hub_store_activate_json(h, s->key_id);
        for (size_t j = 0; j < s->nparties; j++)
            send_control(s, j, API_FRAME_ACTIVATE, act);
        free(act);
    }
    hub_http_session_done(h, s, stored ? NULL : msg);
    for (hub_session **p = &h->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    h->nsessions--;
    s->timer.data = s;
    uv_close((uv_handle_t *)&s->timer, free_on_close);
}

static void finish(hub_session *s, const char *result_json, const char *code, const char *msg)
{
    finish_ex(s, result_json, code, msg, 0);
}

static void on_timeout(uv_timer_t *t)
{
    hub_session *s = t->data;
    char msg[96];
    snprintf(msg, sizeof msg, "no result within %u s", s->h->cfg.session_timeout);
    finish(s, NULL, "timeout", msg);
}

/* Sends session-start to every participant: the same description, each with its own
 * index and with every participant's certificate so signers can check them. */
static int send_start(hub_session *s, const char *key_pk_hex)
{
    char kid[HUB_ID_HEX], nonce[65], hash[65];
    hub_id_hex(kid, s->key_id);
    api_hex_encode(nonce, s->nonce, 32);
    json_t *parties = json_array();
    for (size_t i = 0; i < s->nparties; i++) {
        struct hub_link *l = hub_link_find(s->h, s->parties[i]);
        json_array_append_new(parties,
                              json_pack("{s:i,s:s,s:s}", "index", (int)s->index[i], "id",
                                        s->parties[i], "cert", l ? hub_link_cert_pem(l) : ""));
    }
    json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:o,s:s,s:n}", "kind", kind_name(s->kind), "key_id",
                          kid, "threshold", (int)s->threshold, "n", (int)s->n, "parties", parties,
                          "nonce", nonce, "approval");
    if (!o)
        return -1;
    if (s->auth) {
        /* The request's authorization, forwarded as the backend sent it (re-encoded from the
         * parsed form): every signer checks it, and decodes a typed payload itself. */
        char *a = api_sign_auth_encode(s->auth);
        json_t *aj = a ? json_loads(a, 0, NULL) : NULL;
        free(a);
        if (!aj) {
            json_decref(o);
            return -1;
        }
        json_object_set_new(o, "approval", aj);
    }
    if (s->kind == HUB_SIGN) {
        api_hex_encode(hash, s->hash, 32);
        json_object_set_new(o, "hash", json_string(hash));
        json_object_set_new(o, "derivation_path", json_string(s->path[0] ? s->path : "m"));
        json_object_set_new(o, "public_key", json_string(key_pk_hex));
    }
    for (size_t i = 0; i < s->nparties; i++) {
        json_object_set_new(o, "index", json_integer(s->index[i]));
        /* Only the delegate's copy carries the share the backend passed back. */
        int with_share = s->kind == HUB_SIGN && s->delegate == i + 1 && s->delegate_b64;
        if (with_share)
            json_object_set_new(o, "delegate_share",
                                json_stringn(s->delegate_b64, s->delegate_len));
        char *j = json_dumps(o, JSON_COMPACT);
        if (with_share)
            json_object_del(o, "delegate_share");
        send_control(s, i, API_FRAME_SESSION_START, j);
        if (j && with_share)
            hub_delegate_wipe(j, strlen(j));
        else
            free(j);
    }
    json_decref(o);
    return 0;
}

static hub_session *session_new(hub *h, hub_kind kind)
{
    hub_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->h = h;
    s->kind = kind;
    if (hub_random(s->id, HUB_ID_BYTES) || hub_random(s->nonce, 32)) {
        free(s);
        return NULL;
    }
    uv_timer_init(&h->loop, &s->timer);
    s->timer.data = s;
    return s;
}

/* Persists s (and, for keygen, its pending key) in one transaction, then starts it. */
static api_err session_start(hub *h, hub_session *s, const hub_key_row *new_key, const char *body,
                             const char *key_pk_hex)
{
    if (mpcd_db_begin(h->db) != 0) {
        s->timer.data = s;
        uv_close((uv_handle_t *)&s->timer, free_on_close);
        return API_ERR_INTERNAL;
    }
    int ins = new_key ? hub_store_key_insert(h, new_key, s->id) : 0;
    if (ins != 0 || hub_store_session_insert(h, s, body) != 0 || mpcd_db_commit(h->db) != 0) {
        mpcd_db_rollback(h->db);
        s->timer.data = s;
        uv_close((uv_handle_t *)&s->timer, free_on_close);
        return ins == 2 ? API_ERR_EXTERNAL_ID_USED : API_ERR_INTERNAL;
    }
    s->next = h->sessions;
    h->sessions = s;
    h->nsessions++;
    h->m.sessions_started[s->kind]++;
    uv_timer_start(&s->timer, on_timeout, (uint64_t)h->cfg.session_timeout * 1000, 0);
    if (s->kind != HUB_RESHARE)
        send_start(s, key_pk_hex); /* a reshare's starts are per participant (reshare.c) */
    char sid[HUB_ID_HEX];
    hub_id_hex(sid, s->id);
    log_info("%s session %s started with %zu parties", kind_name(s->kind), sid, s->nparties);
    return API_OK;
}

static int cmp_party(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* A keygen naming a delegate: it must be online and say it is one (role = delegate), and
 * its sealed share must later fit a sign request under [api] max_body. */
static api_err check_delegate(hub *h, const api_keygen_req *req, char *msg, size_t cap)
{
    int known = hub_store_party_known(h, req->delegate);
    if (known < 0)
        return API_ERR_INTERNAL;
    if (!known)
        return snprintf(msg, cap, "party '%s' has never connected to this hub", req->delegate),
               API_ERR_UNKNOWN_PARTY;
    struct hub_link *l = hub_link_find(h, req->delegate);
    if (!l)
        return snprintf(msg, cap, "party '%s' is offline", req->delegate), API_ERR_PARTIES_OFFLINE;
    if (!hub_link_is_delegate(l))
        return snprintf(msg, cap,
                        "party '%s' is not a delegate signer (its [signer] role is persistent)",
                        req->delegate),
               API_ERR_BAD_FIELD;
    /* The share, its sealing envelope (a few hundred bytes on every backend; 4 KiB of
     * slack) and the rest of a sign request must fit the body limit. */
    size_t need = api_b64_len(tss_keyshare_encoded_len((uint8_t)req->n) + 4096) + 1024;
    if (need > h->cfg.max_body)
        return snprintf(msg, cap,
                        "a delegate share of a %u-party key needs sign requests of about %zu "
                        "bytes, over this hub's [api] max_body (%u); raise it or use fewer parties",
                        req->n, need, h->cfg.max_body),
               API_ERR_BAD_FIELD;
    return API_OK;
}

/* The keygen's parties: those named, or the first n online in id order. A delegate signer
 * takes part only as the request's delegate (it keeps no share of its own). */
static api_err keygen_parties(hub *h, const api_keygen_req *req, hub_key_row *k, char *msg,
                              size_t cap)
{
    if (req->nparties) {
        for (size_t i = 0; i < req->nparties; i++) {
            int known = hub_store_party_known(h, req->parties[i]);
            if (known < 0)
                return API_ERR_INTERNAL;
            if (!known)
                return snprintf(msg, cap, "party '%s' has never connected to this hub",
                                req->parties[i]),
                       API_ERR_UNKNOWN_PARTY;
            struct hub_link *l = hub_link_find(h, req->parties[i]);
            if (!l)
                return snprintf(msg, cap, "party '%s' is offline", req->parties[i]),
                       API_ERR_PARTIES_OFFLINE;
            if (hub_link_is_delegate(l) && strcmp(req->parties[i], req->delegate) != 0)
                return snprintf(msg, cap,
                                "party '%s' is a delegate signer: name it as 'delegate' (it "
                                "stores no share)",
                                req->parties[i]),
                       API_ERR_BAD_FIELD;
            memcpy(k->parties[i], req->parties[i], sizeof k->parties[i]);
        }
        return API_OK;
    }
    /* The hub picks: the delegate (if named) and the first online persistent parties in
     * id order (deterministic), kept in id order. */
    api_party_name online[256];
    size_t count = hub_links_online_ids(h, online, 256), got = 0;
    size_t want = req->n - (req->delegate[0] ? 1 : 0), others = 0;
    qsort(online, count, sizeof online[0], cmp_party);
    for (size_t i = 0; i < count && got < req->n; i++) {
        int is_del = strcmp(online[i], req->delegate) == 0;
        if (!is_del && (others == want || hub_link_is_delegate(hub_link_find(h, online[i]))))
            continue;
        others += !is_del;
        memcpy(k->parties[got++], online[i], sizeof k->parties[0]);
    }
    if (got < req->n)
        return snprintf(msg, cap,
                        "need %u online parties (persistent signers, plus the "
                        "delegate if named), %zu found",
                        req->n, got),
               API_ERR_PARTIES_OFFLINE;
    return API_OK;
}

api_err hub_session_keygen(hub *h, const api_keygen_req *req, const char *body, hub_session **out,
                           uint8_t key_id[HUB_ID_BYTES], char *msg, size_t cap)
{
    hub_key_row k = {0};
    api_err e;
    *out = NULL;
    if (h->stopping || h->nsessions >= h->cfg.max_sessions)
        return snprintf(msg, cap, "%s",
                        h->stopping ? "hub is shutting down"
                                    : "too many sessions in flight; retry"),
               API_ERR_BUSY;
    k.threshold = req->threshold;
    k.n = req->n;
    snprintf(k.label, sizeof k.label, "%s", req->label);
    snprintf(k.external_id, sizeof k.external_id, "%s", req->external_id);
    snprintf(k.delegate, sizeof k.delegate, "%s", req->delegate);
    if (req->external_id[0]) {
        uint8_t other[HUB_ID_BYTES];
        char ohex[HUB_ID_HEX];
        int r = hub_store_key_by_external_id(h, req->external_id, other);
        if (r < 0)
            return API_ERR_INTERNAL;
        if (r == 0)
            return hub_id_hex(ohex, other),
                   snprintf(msg, cap, "external_id '%s' is already used by key %s",
                            req->external_id, ohex),
                   API_ERR_EXTERNAL_ID_USED;
    }
    if (req->delegate[0] && (e = check_delegate(h, req, msg, cap)) != API_OK)
        return e;
    if ((e = keygen_parties(h, req, &k, msg, cap)) != API_OK)
        return e;
    if (hub_random(k.id, HUB_ID_BYTES) != 0)
        return API_ERR_INTERNAL;
    hub_session *s = session_new(h, HUB_KEYGEN);
    if (!s)
        return API_ERR_INTERNAL;
    memcpy(s->key_id, k.id, HUB_ID_BYTES);
    s->threshold = k.threshold;
    s->n = k.n;
    s->nparties = k.n;
    for (size_t i = 0; i < k.n; i++) {
        memcpy(s->parties[i], k.parties[i], sizeof s->parties[i]);
        s->index[i] = (unsigned)i + 1;
        if (req->delegate[0] && strcmp(k.parties[i], req->delegate) == 0)
            s->delegate = i + 1;
    }
    e = session_start(h, s, &k, body, NULL);
    if (e == API_ERR_EXTERNAL_ID_USED)
        snprintf(msg, cap, "external_id '%s' is already used by another key", req->external_id);
    if (e == API_OK) {
        *out = s;
        memcpy(key_id, k.id, HUB_ID_BYTES);
    }
    return e;
}

/* The hash of a typed payload, computed by the hub too: to verify the signature before it
 * returns it (the signers compute it themselves and never take this one on trust). A payload
 * that does not decode is refused here (400) rather than by every signer. */
static int typed_hash(const api_sign_auth *a, uint8_t hash[32], char *msg, size_t cap)
{
    mpcd_eth_err e = MPCD_ETH_OK;
    mpcd_ethtx tx;
    switch (a->kind) {
    case API_PAYLOAD_HASH:
        return 0;
    case API_PAYLOAD_ETH_TX:
        if ((e = mpcd_ethtx_parse(&tx, a->typed, a->typed_len)) == MPCD_ETH_OK)
            memcpy(hash, tx.sighash, 32);
        break;
    case API_PAYLOAD_EIP191:
        e = mpcd_eip191_hash(hash, a->typed, a->typed_len);
        break;
    case API_PAYLOAD_EIP712: {
        mpcd_eip712 td;
        char detail[MPCD_EIP712_DETAIL_MAX] = "";
        e = mpcd_eip712_hash_text(&td, (const char *)a->typed, a->typed_len, detail, sizeof detail);
        if (e == MPCD_ETH_OK) {
            memcpy(hash, td.digest, 32);
            return 0;
        }
        snprintf(msg, cap, "field 'eip712' does not decode: %s (%s)", mpcd_eth_strerror(e), detail);
        return -1;
    }
    }
    if (e == MPCD_ETH_OK)
        return 0;
    snprintf(msg, cap, "field '%s' does not decode: %s", api_payload_kind_name(a->kind),
             mpcd_eth_strerror(e));
    return -1;
}

/* The signed transaction (hex, malloc'd) for an eth_transaction request, NULL otherwise or
 * on failure. */
static char *signed_tx_hex(const hub_session *s, const api_sign_result *r)
{
    mpcd_ethtx tx;
    size_t n = 0;
    if (!s->auth || s->auth->kind != API_PAYLOAD_ETH_TX ||
        mpcd_ethtx_parse(&tx, s->auth->typed, s->auth->typed_len) != MPCD_ETH_OK)
        return NULL;
    size_t cap = MPCD_ETHTX_SIGNED_MAX(tx.raw_len);
    uint8_t *out = malloc(cap);
    char *hex = malloc(2 * cap + 1);
    if (!out || !hex ||
        mpcd_ethtx_serialize_signed(out, cap, &n, &tx, r->r, r->s, r->recovery_id) != MPCD_ETH_OK) {
        free(out);
        free(hex);
        return NULL;
    }
    api_hex_encode(hex, out, n);
    free(out);
    return hex;
}

/* Position of party in the key's parties, or k->n. */
static size_t key_position(const hub_key_row *k, const char *party)
{
    size_t j = 0;
    while (j < k->n && strcmp(k->parties[j], party) != 0)
        j++;
    return j;
}

static void add_signer(hub_session *s, const hub_key_row *k, size_t j)
{
    memcpy(s->parties[s->nparties], k->parties[j], sizeof s->parties[0]);
    s->index[s->nparties++] = (unsigned)j + 1;
}

/* Signers named in the request: each a party of the key and online; the key's delegate
 * only with its delegate_share, and a delegate_share only with the delegate named. */
static api_err named_signers(hub *h, hub_session *s, const hub_key_row *k, const hub_key_ext *x,
                             const api_sign_req *req, char *msg, size_t cap)
{
    int delegate_named = 0;
    if (req->nparties < k->threshold)
        return snprintf(msg, cap, "this key needs %u signers, %zu listed", k->threshold,
                        req->nparties),
               API_ERR_BAD_FIELD;
    for (size_t i = 0; i < req->nparties; i++) {
        size_t j = key_position(k, req->parties[i]);
        if (j == k->n)
            return snprintf(msg, cap, "party '%s' holds no share of this key", req->parties[i]),
                   API_ERR_UNKNOWN_PARTY;
        if (!hub_link_find(h, req->parties[i]))
            return snprintf(msg, cap, "party '%s' is offline", req->parties[i]),
                   API_ERR_PARTIES_OFFLINE;
        if (x->delegate[0] && strcmp(x->delegate, req->parties[i]) == 0) {
            delegate_named = 1;
            s->delegate = s->nparties + 1;
        }
        add_signer(s, k, j);
    }
    if (delegate_named && !req->delegate_share_len)
        return snprintf(msg, cap,
                        "party '%s' is this key's delegate: pass its delegate_share (or name "
                        "other signers)",
                        x->delegate),
               API_ERR_MISSING_FIELD;
    if (!delegate_named && req->delegate_share_len)
        return snprintf(msg, cap,
                        "delegate_share given, but the key's delegate '%s' is not among the "
                        "named parties",
                        x->delegate),
               API_ERR_BAD_FIELD;
    return API_OK;
}

/* No signers named: the delegate first when its share was passed, then the key's default
 * signers (or, with none set, all its parties) in order, the first online ones. The
 * delegate never signs without its share. */
static api_err default_signers(hub *h, hub_session *s, const hub_key_row *k, const hub_key_ext *x,
                               const api_sign_req *req, char *msg, size_t cap)
{
    size_t cand[API_MAX_PARTIES], ncand = 0,
                                  dpos = x->delegate[0] ? key_position(k, x->delegate) : k->n;
    for (size_t i = 0; i < x->nsigners; i++) {
        size_t j = key_position(k, x->signers[i]);
        if (j < k->n)
            cand[ncand++] = j;
    }
    if (!x->nsigners)
        for (size_t j = 0; j < k->n; j++)
            cand[ncand++] = j;
    if (req->delegate_share_len) {
        if (!hub_link_find(h, x->delegate))
            return snprintf(msg, cap, "the key's delegate '%s' is offline", x->delegate),
                   API_ERR_PARTIES_OFFLINE;
        s->delegate = 1;
        add_signer(s, k, dpos);
    }
    for (size_t c = 0; c < ncand && s->nparties < k->threshold; c++)
        if (cand[c] != dpos && hub_link_find(h, k->parties[cand[c]]))
            add_signer(s, k, cand[c]);
    if (s->nparties < k->threshold)
        return snprintf(msg, cap, "need %u of this key's %s online (%s), %zu online", k->threshold,
                        x->nsigners ? "default signers" : "parties",
                        x->delegate[0] && !req->delegate_share_len
                            ? "its delegate signs only with the delegate_share"
                            : "the hub picks in order",
                        s->nparties),
               API_ERR_PARTIES_OFFLINE;
    return API_OK;
}

/* The request as stored: a delegate_share is replaced by its SHA-256 (of the base64 text)
 * — the hub never writes the blob. malloc'd; NULL on OOM. */
static char *stored_request(const char *body, const char *b64, size_t len)
{
    if (!b64)
        return strdup(body);
    uint8_t d[32];
    char hex[65];
    SHA256((const uint8_t *)b64, len, d);
    api_hex_encode(hex, d, 32);
    json_t *o = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    if (!o)
        return NULL;
    json_object_del(o, "delegate_share");
    json_object_set_new(o, "delegate_share_sha256", json_string(hex));
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

api_err hub_session_sign(hub *h, const uint8_t key_id[HUB_ID_BYTES], const api_sign_req *req,
                         const char *body, hub_session **out, char *msg, size_t cap)
{
    hub_key_row k;
    hub_key_ext x;
    *out = NULL;
    int r = hub_store_key_load(h, key_id, &k);
    if (r < 0)
        return API_ERR_INTERNAL;
    if (r > 0)
        return API_ERR_UNKNOWN_KEY;
    if (strcmp(k.status, "delivering") == 0)
        return snprintf(msg, cap,
                        "key is waiting for its delegate share to be picked up (POST "
                        "/v1/keys/{id}/delegate_share), not active"),
               API_ERR_KEY_NOT_ACTIVE;
    if (strcmp(k.status, "active") != 0 || !k.has_public_key)
        return snprintf(msg, cap, "key is %s, not active", k.status), API_ERR_KEY_NOT_ACTIVE;
    if (hub_store_key_ext_load(h, key_id, &x) != 0)
        return API_ERR_INTERNAL;
    if (req->delegate_share_len && !x.delegate[0])
        return snprintf(msg, cap, "this key has no delegate signer: omit delegate_share"),
               API_ERR_BAD_FIELD;
    if (h->stopping || h->nsessions >= h->cfg.max_sessions)
        return snprintf(msg, cap, "%s",
                        h->stopping ? "hub is shutting down"
                                    : "too many sessions in flight; retry"),
               API_ERR_BUSY;
    hub_session *s = session_new(h, HUB_SIGN);
    if (!s)
        return API_ERR_INTERNAL;
    char *stored = NULL;
    api_err e = req->nparties ? named_signers(h, s, &k, &x, req, msg, cap)
                              : default_signers(h, s, &k, &x, req, msg, cap);
    if (e == API_OK && hub_crypto_derive(s->verify_pk, k.public_key, k.chain_code, req->path_index,
                                         req->path_depth) != 0) {
        snprintf(msg, cap, "derivation path gives an invalid key; use another index");
        e = API_ERR_BAD_PATH;
    }
    if (e == API_OK && req->delegate_share_len &&
        (api_delegate_share_get(body, strlen(body), &s->delegate_b64, &s->delegate_len) != API_OK ||
         !s->delegate_b64))
        e = API_ERR_INTERNAL;
    if (e == API_OK && !(stored = stored_request(body, s->delegate_b64, s->delegate_len)))
        e = API_ERR_INTERNAL;
    if (e != API_OK) {
        s->timer.data = s;
        uv_close((uv_handle_t *)&s->timer, free_on_close);
        return e;
    }
    uint8_t hash[32];
    memcpy(hash, req->hash, 32);
    if (e == API_OK && typed_hash(&req->auth, hash, msg, cap) != 0)
        e = API_ERR_BAD_FIELD;
    if (e == API_OK && api_sign_auth_present(&req->auth)) {
        if (!(s->auth = malloc(sizeof *s->auth)))
            e = API_ERR_INTERNAL;
        else
            memcpy(s->auth, &req->auth, sizeof *s->auth);
    }
    if (e != API_OK) {
        free(s->auth);
        s->auth = NULL;
        free(stored);
        s->timer.data = s;
        uv_close((uv_handle_t *)&s->timer, free_on_close);
        return e;
    }
    memcpy(s->key_id, key_id, HUB_ID_BYTES);
    memcpy(s->hash, hash, 32);
    snprintf(s->path, sizeof s->path, "%s", req->path);
    s->threshold = k.threshold;
    s->n = k.n;
    char pkhex[67];
    api_hex_encode(pkhex, k.public_key, 33);
    e = session_start(h, s, NULL, stored, pkhex);
    free(stored);
    if (e == API_OK)
        *out = s;
    return e;
}

/* A fresh DKG cannot produce a key that already exists or one anyone can compute (k*G
 * for a small k): only signers that replay an old keygen or collude can. Refuse it as
 * duplicate_key, record why as an event, and fail the session. Returns 1 if refused. */
static int refuse_duplicate(hub_session *s, const api_keygen_result *r)
{
    char msg[160], other[HUB_ID_HEX];
    unsigned k = hub_crypto_small_multiple(r->public_key);
    int d = k ? 1 : hub_store_key_with_pk(s->h, r->public_key, s->key_id, other);
    if (k)
        snprintf(msg, sizeof msg, "the agreed public key is %s%u*G, a key anyone can compute",
                 "+/-", k);
    else if (d == 0)
        snprintf(msg, sizeof msg, "the agreed public key is the public key of key %s", other);
    else if (d < 0)
        snprintf(msg, sizeof msg, "could not check the public key against stored keys");
    else
        return 0;
    int ev = hub_store_event(s->h, s->id, "duplicate_key", msg);
    finish(s, NULL, d < 0 || ev != 0 ? "internal" : "duplicate_key", msg);
    return 1;
}

static void on_keygen_result(hub_session *s, size_t i, struct hub_link *l, const api_frame *f)
{
    char msg[API_MSG_MAX + 64], sub[API_MSG_MAX];
    api_keygen_result *r = &s->kres[i];
    uint8_t m[API_ATTEST_MSG_BYTES];
    if (api_keygen_result_parse(r, f->payload, f->payload_len, sub, sizeof sub) != API_OK) {
        snprintf(msg, sizeof msg, "party '%s' sent a malformed result: %s", s->parties[i], sub);
        return finish(s, NULL, "bad_result", msg);
    }
    /* the party's role first: a signer acting as a delegate reports no key block either, and
     * the error must name the cause whatever order the results arrive in */
    int is_delegate = s->delegate == i + 1;
    if (is_delegate != (r->delegate_share_len > 0)) {
        snprintf(msg, sizeof msg,
                 is_delegate ? "party '%s' is the key's delegate but returned no delegate_share"
                             : "party '%s' is not the key's delegate but returned a "
                               "delegate_share (is it configured role = delegate?)",
                 s->parties[i]);
        return finish(s, NULL, "bad_result", msg);
    }
    if (hub_reshare_note_result(s, i, f, msg, sizeof msg) != 0)
        return finish(s, NULL, "bad_result", msg);
    api_attestation_message(m, s->key_id, r);
    if (!mpcd_tls_verify_with_cert(hub_link_cert(l), m, sizeof m, r->attestation,
                                   r->attestation_len)) {
        snprintf(msg, sizeof msg, "party '%s': attestation does not verify under its certificate",
                 s->parties[i]);
        return finish(s, NULL, "bad_attestation", msg);
    }
    for (size_t j = 0; j < s->nparties; j++)
        if (s->reported[j] && (memcmp(s->kres[j].public_key, r->public_key, 33) ||
                               memcmp(s->kres[j].chain_code, r->chain_code, 32) ||
                               memcmp(s->kres[j].transcript_hash, r->transcript_hash, 32))) {
            snprintf(msg, sizeof msg,
                     "parties '%s' and '%s' disagree on the public key, chain code or DKG "
                     "transcript",
                     s->parties[j], s->parties[i]);
            return finish(s, NULL, "result_mismatch", msg);
        }
    /* The certificate this attestation verified under travels with it: in the store and
     * in every activate frame, so that each signer can check the attestation itself. */
    if (!(s->cert_pem[i] = strdup(hub_link_cert_pem(l))))
        return finish(s, NULL, "internal", "out of memory");
    /* The delegate's sealed share: kept in memory for the backend, never written. */
    if (is_delegate && (api_delegate_share_get(f->payload, f->payload_len, &s->delegate_b64,
                                               &s->delegate_len) != API_OK ||
                        !s->delegate_b64))
        return finish(s, NULL, "internal", "cannot keep the delegate share");
    s->reported[i] = 1;
    if (hub_store_event(s->h, s->id, is_delegate ? "delegate_share_sealed" : "share_persisted",
                        s->parties[i]) != 0)
        return finish(s, NULL, "internal", "could not record the party's persisted share");
    for (size_t j = 0; j < s->nparties; j++)
        if (!s->reported[j])
            return;
    /* All n shares are durable: the key becomes active. */
    if (!hub_crypto_pubkey_ok(r->public_key))
        return finish(s, NULL, "bad_result", "the agreed public key is not a valid point");
    if (refuse_duplicate(s, r))
        return;
    char kid[HUB_ID_HEX], pk[67], addr[43];
    hub_id_hex(kid, s->key_id);
    api_hex_encode(pk, r->public_key, 33);
    hub_crypto_eth_address(addr, r->public_key);
    json_t *o =
        json_pack("{s:s,s:s,s:s}", "key_id", kid, "public_key", pk, "ethereum_address", addr);
    if (o && s->delegate)
        json_object_set_new(o, "delegate", json_string(s->parties[s->delegate - 1]));
    char *res = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    finish_ex(s, res, NULL, NULL, s->delegate ? 2 : 1);
    free(res);
}

static void on_sign_result(hub_session *s, size_t i, const api_frame *f)
{
    char msg[API_MSG_MAX + 64], sub[API_MSG_MAX];
    api_sign_result r;
    uint8_t der[72];
    size_t der_len;
    if (api_sign_result_parse(&r, f->payload, f->payload_len, sub, sizeof sub) != API_OK) {
        snprintf(msg, sizeof msg, "party '%s' sent a malformed result: %s", s->parties[i], sub);
        return finish(s, NULL, "bad_result", msg);
    }
    if (hub_crypto_verify(s->verify_pk, s->hash, &r, der, &der_len) != 0) {
        snprintf(msg, sizeof msg,
                 "signature from party '%s' does not verify (or is high-s, or its recovery id "
                 "is wrong); not released",
                 s->parties[i]);
        return finish(s, NULL, "bad_signature", msg);
    }
    char rh[65], sh[65], dh[145], pk[67], hh[65];
    api_hex_encode(rh, r.r, 32);
    api_hex_encode(sh, r.s, 32);
    api_hex_encode(dh, der, der_len);
    api_hex_encode(pk, s->verify_pk, 33);
    api_hex_encode(hh, s->hash, 32);
    json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "r", rh, "s", sh, "recovery_id",
                          r.recovery_id, "der", dh, "public_key", pk, "derivation_path",
                          s->path[0] ? s->path : "m", "hash", hh);
    if (s->auth && s->auth->kind == API_PAYLOAD_ETH_TX) {
        /* The transaction the backend broadcasts, serialized here from the verified signature. */
        char *tx = signed_tx_hex(s, &r);
        if (!tx) {
            json_decref(o);
            return finish(s, NULL, "internal", "cannot serialize the signed transaction");
        }
        json_object_set_new(o, "signed_transaction", json_string(tx));
        free(tx);
    }
    char *res = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    finish(s, res, NULL, NULL);
    free(res);
}

void hub_session_on_frame(hub *h, struct hub_link *from, const char *party, const api_frame *f)
{
    hub_session *s = hub_session_find(h, f->session);
    size_t i = 0;
    if (!s || s->finished) {
        h->m.frames_dropped++;
        return;
    }
    while (i < s->nparties && strcmp(s->parties[i], party) != 0)
        i++;
    if (i == s->nparties || f->from != s->index[i]) {
        /* Not a participant, or speaking for another index: drop, never route. */
        log_warn("party %s: %s frame for a session it is not in (or with a forged sender)", party,
                 api_frame_type_name(f->type));
        h->m.frames_dropped++;
        return;
    }
    if (f->type == API_FRAME_PROTOCOL) {
        size_t j = 0;
        while (j < s->nparties && s->index[j] != f->to)
            j++;
        if (j == s->nparties) {
            h->m.frames_dropped++;
            return;
        }
        /* Per-session byte cap: a party that sends more than (n - 1) x [sessions]
         * max_protocol_bytes is flooding (a real protocol run is a small fraction of
         * that): the session fails naming it, and the frame is not routed. */
        s->sent[i] += api_frame_size(f->payload_len);
        if (s->sent[i] > (uint64_t)h->cfg.max_peer_bytes * (s->nparties - 1)) {
            char msg[192];
            snprintf(msg, sizeof msg,
                     "party '%s' sent more than %llu bytes of protocol frames in this session",
                     party, (unsigned long long)h->cfg.max_peer_bytes * (s->nparties - 1));
            return finish(s, NULL, "flood", msg);
        }
        struct hub_link *to = hub_link_find(h, s->parties[j]);
        if (!to) {
            char msg[128];
            snprintf(msg, sizeof msg, "party '%s' went offline", s->parties[j]);
            return finish(s, NULL, "party_offline", msg);
        }
        if (hub_link_send(to, f) == 0) {
            h->m.frames_routed++;
            hub_link_backpressure(from, to);
        }
        return;
    }
    if (f->type == API_FRAME_ABORT) {
        api_abort a;
        char msg[API_MSG_MAX + 200], sub[API_MSG_MAX];
        if (api_abort_parse(&a, f->payload, f->payload_len, sub, sizeof sub) != API_OK)
            snprintf(a.reason, sizeof a.reason, "(malformed abort)");
        snprintf(msg, sizeof msg, "party '%s' aborted: %s (culprit %u)", party, a.reason,
                 a.culprit);
        /* A signer that refuses for load ("busy: ...", PARTY_LINK.md) makes the session
         * fail as signer_busy, which clients get as 503: retry later, nothing is wrong. A
         * delegate that cannot open the share it was passed says so ("delegate_share refused:
         * ..."): the backend's blob is wrong, not the session. A signer that refuses the
         * request itself ("policy: ...", "approval: ...") makes it fail as policy_refused /
         * approval_refused (403): the message names the signer and the rule; nothing is
         * banned, nothing was signed. */
        const char *code = "aborted";
        if (strncmp(a.reason, "busy:", 5) == 0)
            code = "signer_busy";
        else if (strncmp(a.reason, "delegate_share refused", 22) == 0)
            code = "bad_delegate_share";
        else if (strncmp(a.reason, "policy:", 7) == 0)
            code = "policy_refused";
        else if (strncmp(a.reason, "approval:", 9) == 0)
            code = "approval_refused";
        return finish(s, NULL, code, msg);
    }
    if (s->kind == HUB_RESHARE)
        return hub_reshare_on_result(s, i, from, f);
    if (s->kind == HUB_KEYGEN) {
        if (s->reported[i]) {
            h->m.frames_dropped++;
            return;
        }
        on_keygen_result(s, i, from, f);
    } else {
        on_sign_result(s, i, f);
    }
}

void hub_session_party_gone(hub *h, const char *party)
{
    hub_session *next;
    for (hub_session *s = h->sessions; s; s = next) {
        next = s->next;
        for (size_t i = 0; i < s->nparties; i++)
            if (strcmp(s->parties[i], party) == 0) {
                char msg[128];
                snprintf(msg, sizeof msg, "party '%s' went offline", party);
                finish(s, NULL, "party_offline", msg);
                break;
            }
    }
}

void hub_session_fail_all(hub *h, const char *code, const char *msg)
{
    while (h->sessions)
        finish(h->sessions, NULL, code, msg);
}

hub_session *hub_session_new(hub *h, hub_kind kind)
{
    return session_new(h, kind);
}

api_err hub_session_begin(hub *h, hub_session *s, const hub_key_row *new_key, const char *body)
{
    return session_start(h, s, new_key, body, NULL);
}

void hub_session_discard(hub_session *s)
{
    s->timer.data = s;
    uv_close((uv_handle_t *)&s->timer, free_on_close);
}

void hub_session_finish(hub_session *s, const char *result_json, const char *code, const char *msg,
                        int activate)
{
    finish_ex(s, result_json, code, msg, activate);
}

void hub_session_send(hub_session *s, size_t i, uint8_t type, const char *json)
{
    send_control(s, i, type, json);
}
