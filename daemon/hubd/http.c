/* daemon/hubd/http.c — what the REST API's requests mean. The transport (rest.c: TLS,
 * the strict request head of head.c, framing, keep-alive, deadlines) hands over each request
 * whose head is well formed; then, for every request except /healthz: client address allow-list
 * (403), API key (401, and 429 once an address has used up its failed-auth budget), rate limit of
 * authenticated requests (429), then routing (404/405), body limits (413), media type (415) and the
 * strict codecs of api/json.h (400). Long operations are sessions: ?wait=N parks the
 * request until the session ends or N seconds pass. Every error is JSON
 * {"error":{"code","message"}}; rest.c answers head errors, upgrades and deadlines with the
 * same shape. One struct hub_req per connection, reset for each request. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/hex.h"
#include "daemon/common/log.h"
#include "hub.h"

enum { M_OTHER, M_GET, M_POST, M_PUT, M_DELETE };

struct hub_req {
    struct hub_req *next_waiter;
    hub_session *waiting; /* session this request is parked on, or NULL */
    hub *h;
    struct hub_rconn *conn;
    const hub_head *head; /* the current request's head (rest.c keeps it until the answer) */
    char peer[64];
    int method;
    char path[160];
    char *body;
    size_t body_len;
    int body_too_large;
    int answered;    /* a response was queued: nothing more happens in this transaction, even
                      * if body bytes still arrive (an early 401/413 must never be followed by
                      * a dispatch of the body) */
    int close_after; /* close the connection after the answer (SIGTERM, an absurd body) */
    unsigned wait_s;
    hub_kind kind;
    int import; /* POST /v1/keys/import: answered with the new key, as a keygen is */
    uint8_t key_id[HUB_ID_BYTES];
    uint64_t start_ms;
    char *handing; /* the delegate share this answer carries (delegate.c): handed once the
                    * answer is written (hub_http_written), given back if it is not */
    size_t handing_len;
    uint8_t handing_key[HUB_ID_BYTES];
};

static void req_release(struct hub_req *r)
{
    if (r->waiting) {
        for (struct hub_req **p = &r->waiting->waiters; *p; p = &(*p)->next_waiter)
            if (*p == r) {
                *p = r->next_waiter;
                break;
            }
        r->waiting = NULL;
    }
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    if (r->handing) {
        /* Not written (connection gone): the share waits for another pickup. rest.c wiped
         * the answer's copies. */
        hub_delegate_give_back(r->h, r->handing_key, r->handing, r->handing_len);
        r->handing = NULL;
    }
}

void hub_http_written(struct hub_req *r)
{
    if (r->handing) { /* written: the backend has been handed the share */
        hub_delegate_handed(r->h, r->handing_key, r->handing, r->handing_len);
        r->handing = NULL;
    }
}

static void respond_raw(struct hub_req *r, int status, char *body)
{
    r->answered = 1;
    hub_rest_respond(r->conn, status, "application/json", body, r->close_after);
}

static void respond_json(struct hub_req *r, int status, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        respond_raw(r, 500, api_error_body(API_ERR_INTERNAL, NULL));
        return;
    }
    respond_raw(r, status, s);
}

static void respond_error(struct hub_req *r, api_err e, const char *msg)
{
    respond_raw(r, api_err_http_status(e), api_error_body(e, msg));
}

/* A key's JSON, with its delegate share when the key waits for it (status delivering) and
 * no other answer carries it: this answer hands it (hub_delegate_handed once written).
 * Otherwise the key as stored; a delivering key without a share to hand means another
 * answer has it in flight. */
static void respond_key_handing(struct hub_req *r, int status, json_t *k)
{
    const char *st = json_string_value(json_object_get(k, "status"));
    size_t len = 0;
    char *b64 =
        st && strcmp(st, "delivering") == 0 ? hub_delegate_take(r->h, r->key_id, &len) : NULL;
    if (b64 && json_object_set_new(k, "delegate_share", json_stringn(b64, len)) != 0) {
        hub_delegate_give_back(r->h, r->key_id, b64, len);
        b64 = NULL;
    }
    char *body = json_dumps(k, JSON_COMPACT);
    json_decref(k);
    if (!body) {
        if (b64)
            hub_delegate_give_back(r->h, r->key_id, b64, len);
        return respond_error(r, API_ERR_INTERNAL, NULL);
    }
    if (b64) {
        r->handing = b64;
        r->handing_len = len;
        memcpy(r->handing_key, r->key_id, HUB_ID_BYTES);
    }
    respond_raw(r, status, body);
}

/* The answer for a session-backed request: the result when done, the error when failed,
 * 202 with the session while it runs. Read from the database, so it is what was stored. */
static void respond_session(struct hub_req *r, const uint8_t sid[HUB_ID_BYTES])
{
    hub *h = r->h;
    json_t *s = hub_store_session_json(h, sid);
    if (!s)
        return respond_error(r, API_ERR_INTERNAL, "session vanished from the database");
    const char *status = json_string_value(json_object_get(s, "status"));
    if (status && strcmp(status, "done") == 0) {
        if (r->kind == HUB_KEYGEN || r->import) {
            json_t *k = hub_store_key_json(h, r->key_id);
            if (k && r->import) { /* the key's view, named like the other session results */
                json_object_set(k, "key_id", json_object_get(s, "key_id"));
                json_object_set(k, "session_id", json_object_get(s, "id"));
            }
            json_decref(s);
            if (!k)
                return respond_error(r, API_ERR_INTERNAL, NULL);
            return respond_key_handing(r, 201, k);
        }
        json_t *res = json_deep_copy(json_object_get(s, "result"));
        if (json_is_object(res)) {
            json_object_set(res, "session_id", json_object_get(s, "id"));
            json_object_set(res, "key_id", json_object_get(s, "key_id"));
        }
        json_decref(s);
        return respond_json(r, 200, res);
    }
    if (status && strcmp(status, "failed") == 0) {
        json_t *err = json_object_get(s, "error");
        char msg[512];
        snprintf(msg, sizeof msg, "session %s failed: %s: %s",
                 json_string_value(json_object_get(s, "id")),
                 json_string_value(json_object_get(err, "code")),
                 json_string_value(json_object_get(err, "message")));
        const char *code = json_string_value(json_object_get(err, "code"));
        api_err e = API_ERR_SESSION_FAILED;
        if (code && strcmp(code, "signer_busy") == 0)
            e = API_ERR_BUSY;
        else if (code && strcmp(code, "bad_delegate_share") == 0)
            e = API_ERR_DELEGATE_REFUSED;
        else if (code && strcmp(code, "policy_refused") == 0)
            e = API_ERR_POLICY_REFUSED; /* 403: a signer's own policy said no */
        else if (code && strcmp(code, "approval_refused") == 0)
            e = API_ERR_APPROVAL_REFUSED;
        json_decref(s);
        return respond_error(r, e, msg);
    }
    respond_json(r, 202, s);
}

static void park(struct hub_req *r, hub_session *s)
{
    r->waiting = s;
    r->next_waiter = s->waiters;
    s->waiters = r;
    hub_rest_set_timer(r->conn, r->wait_s * 1000);
}

void hub_http_session_done(hub *h, hub_session *s, const char *store_error)
{
    (void)h;
    char sid[HUB_ID_HEX], msg[256];
    hub_id_hex(sid, s->id);
    snprintf(msg, sizeof msg, "session %s: %s", sid, store_error ? store_error : "");
    while (s->waiters) {
        struct hub_req *r = s->waiters;
        s->waiters = r->next_waiter;
        r->waiting = NULL;
        hub_rest_set_timer(r->conn, 0);
        if (!store_error) {
            respond_session(r, s->id);
            continue;
        }
        /* The outcome is not (reliably) in the database: never answer from it. */
        json_t *o = json_pack("{s:{s:s,s:s},s:s}", "error", "code", api_err_code(API_ERR_INTERNAL),
                              "message", msg, "session_id", sid);
        respond_json(r, api_err_http_status(API_ERR_INTERNAL), o);
    }
}

unsigned hub_http_shutdown(hub *h)
{
    unsigned n = 0;
    for (hub_session *s = h->sessions; s; s = s->next)
        while (s->waiters) {
            struct hub_req *r = s->waiters;
            char sid[HUB_ID_HEX], msg[160];
            s->waiters = r->next_waiter;
            r->waiting = NULL;
            hub_rest_set_timer(r->conn, 0);
            hub_id_hex(sid, s->id);
            snprintf(msg, sizeof msg,
                     "the hub is shutting down; session %s is failed (hub_shutdown)", sid);
            json_t *o = json_pack("{s:{s:s,s:s},s:s}", "error", "code", api_err_code(API_ERR_BUSY),
                                  "message", msg, "session_id", sid);
            r->close_after = 1;
            respond_json(r, 503, o);
            n++;
        }
    return n;
}

static void route_keygen(struct hub_req *r)
{
    api_keygen_req req;
    char msg[API_MSG_MAX];
    hub_session *s;
    api_err e = api_keygen_req_parse(&req, r->body, r->body_len, msg, sizeof msg);
    if (e == API_OK && !hub_label_ok(req.label)) {
        e = API_ERR_BAD_FIELD;
        snprintf(msg, sizeof msg,
                 "field 'label' must not contain control characters, bidirectional "
                 "overrides or zero-width characters");
    }
    if (e == API_OK)
        e = hub_session_keygen(r->h, &req, r->body, &s, r->key_id, msg, sizeof msg);
    if (e != API_OK)
        return respond_error(r, e, msg);
    r->kind = HUB_KEYGEN;
    if (r->wait_s)
        return park(r, s);
    respond_session(r, s->id);
}

static void route_sign(struct hub_req *r, const uint8_t key_id[HUB_ID_BYTES])
{
    api_sign_req req;
    char msg[API_MSG_MAX];
    hub_session *s;
    api_err e = api_sign_req_parse(&req, r->body, r->body_len, msg, sizeof msg);
    if (e == API_OK)
        e = hub_session_sign(r->h, key_id, &req, r->body, &s, msg, sizeof msg);
    if (e != API_OK)
        return respond_error(r, e, msg);
    r->kind = HUB_SIGN;
    memcpy(r->key_id, key_id, HUB_ID_BYTES);
    if (r->wait_s)
        return park(r, s);
    respond_session(r, s->id);
}

/* POST /v1/keys/{id}/delegate_share: the pickup of a new key's delegate share, once (the
 * keygen's own answer hands it when the request waited for the result). */
static void route_pickup(struct hub_req *r, const uint8_t key_id[HUB_ID_BYTES])
{
    json_t *k = hub_store_key_json(r->h, key_id);
    if (!k)
        return respond_error(r, API_ERR_UNKNOWN_KEY, NULL);
    memcpy(r->key_id, key_id, HUB_ID_BYTES);
    const char *st = json_string_value(json_object_get(k, "status"));
    if (!json_is_string(json_object_get(k, "delegate")) || !(st && strcmp(st, "delivering") == 0) ||
        !hub_delegate_held(r->h, key_id)) {
        int has = json_is_string(json_object_get(k, "delegate"));
        json_decref(k);
        return respond_error(r, has ? API_ERR_DELEGATE_GONE : API_ERR_NOT_FOUND,
                             has ? "the delegate share of this key was handed out once already "
                                   "(or expired, or the hub restarted); the hub keeps no copy"
                                 : "this key has no delegate signer");
    }
    size_t len;
    char *b64 = hub_delegate_take(r->h, key_id, &len);
    if (!b64) {
        json_decref(k);
        return respond_error(r, API_ERR_DELEGATE_GONE,
                             "another answer is carrying the delegate share right now");
    }
    hub_delegate_give_back(r->h, key_id, b64, len); /* respond_key_handing takes it again */
    respond_key_handing(r, 200, k);
}

/* PUT/GET/DELETE /v1/keys/{id}/signers: the parties that sign when a request names none. */
static void route_signers(struct hub_req *r, const uint8_t key_id[HUB_ID_BYTES])
{
    hub *h = r->h;
    hub_key_row k;
    hub_key_ext x;
    char msg[API_MSG_MAX], kid[HUB_ID_HEX];
    int rc = hub_store_key_load(h, key_id, &k);
    if (rc != 0)
        return respond_error(r, rc < 0 ? API_ERR_INTERNAL : API_ERR_UNKNOWN_KEY, NULL);
    hub_id_hex(kid, key_id);
    if (r->method == M_PUT || r->method == M_DELETE) {
        api_signers_req req = {0};
        api_err e = API_OK;
        if (r->method == M_PUT)
            e = api_signers_req_parse(&req, r->body, r->body_len, msg, sizeof msg);
        if (e == API_OK && strcmp(k.status, "failed") == 0)
            e = API_ERR_KEY_NOT_ACTIVE, snprintf(msg, sizeof msg, "key is failed");
        if (e == API_OK && req.nparties && req.nparties < k.threshold)
            e = API_ERR_BAD_FIELD,
            snprintf(msg, sizeof msg, "this key needs %u signers; list at least %u", k.threshold,
                     k.threshold);
        for (size_t i = 0; e == API_OK && i < req.nparties; i++) {
            size_t j = 0;
            while (j < k.n && strcmp(k.parties[j], req.parties[i]) != 0)
                j++;
            if (j == k.n)
                e = API_ERR_UNKNOWN_PARTY,
                snprintf(msg, sizeof msg, "party '%s' holds no share of this key", req.parties[i]);
        }
        if (e != API_OK)
            return respond_error(r, e, msg);
        if (hub_store_key_signers_set(h, key_id, req.parties, req.nparties) != 0)
            return respond_error(r, API_ERR_INTERNAL, NULL);
    } else if (r->method != M_GET) {
        return respond_error(r, API_ERR_METHOD, "use GET, PUT or DELETE on /v1/keys/{id}/signers");
    }
    if (hub_store_key_ext_load(h, key_id, &x) != 0)
        return respond_error(r, API_ERR_INTERNAL, NULL);
    json_t *a = json_array();
    for (size_t i = 0; i < x.nsigners; i++)
        json_array_append_new(a, json_string(x.signers[i]));
    respond_json(
        r, 200,
        json_pack("{s:s,s:o,s:i}", "key_id", kid, "signers", a, "threshold", (int)k.threshold));
}

/* ?NAME=VALUE: 1 and the value in out when present once, 0 when absent, -1 when repeated,
 * too long or unreadable. */
static int query_arg(struct hub_req *r, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    int seen = 0;
    for (size_t i = 0; i < r->head->nargs; i++) {
        const char *frag = r->head->args[i];
        if (strncmp(frag, name, nlen) != 0 || (frag[nlen] != '=' && frag[nlen] != 0))
            continue;
        if (frag[nlen] == 0)
            return -1; /* the name without a value */
        if (seen++ || strlen(frag + nlen + 1) >= cap)
            return -1;
        snprintf(out, cap, "%s", frag + nlen + 1);
    }
    return seen;
}

/* GET /v1/keys, or ?external_id=ID: the key with that (unique) id, as a list of 0 or 1. */
static void route_list_keys(struct hub_req *r)
{
    char eid[API_EXTERNAL_ID_MAX + 2];
    uint8_t id[HUB_ID_BYTES];
    int q = query_arg(r, "external_id", eid, sizeof eid);
    if (q == 0)
        return respond_json(r, 200, hub_store_keys_json(r->h));
    if (q < 0 || !api_external_id_valid(eid, strlen(eid)))
        return respond_error(r, API_ERR_BAD_QUERY,
                             "external_id must be given once, 1 to 128 characters of "
                             "[A-Za-z0-9._@:-]");
    int rc = hub_store_key_by_external_id(r->h, eid, id);
    if (rc < 0)
        return respond_error(r, API_ERR_INTERNAL, NULL);
    json_t *a = json_array(), *k = rc == 0 ? hub_store_key_json(r->h, id) : NULL;
    if (k)
        json_array_append_new(a, k);
    respond_json(r, 200, json_pack("{s:o}", "keys", a));
}

/* POST /v1/keys/{id}/refresh (reshare.c): no body fields; ?wait like keygen. */
static void route_refresh(struct hub_req *r, const uint8_t key_id[HUB_ID_BYTES])
{
    char msg[API_MSG_MAX] = "";
    hub_session *s;
    api_err e = API_OK;
    if (r->body_len) {
        json_t *o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
        if (!o || !json_is_object(o) || json_object_size(o) != 0) {
            e = API_ERR_BAD_FIELD;
            snprintf(msg, sizeof msg, "a refresh takes no fields: send {} or no body");
        }
        json_decref(o);
    }
    if (e == API_OK)
        e = hub_reshare_refresh(r->h, key_id, r->body, &s, msg, sizeof msg);
    if (e != API_OK)
        return respond_error(r, e, msg[0] ? msg : NULL);
    r->kind = HUB_RESHARE;
    memcpy(r->key_id, key_id, HUB_ID_BYTES);
    if (r->wait_s)
        return park(r, s);
    respond_session(r, s->id);
}

/* POST /v1/keys/{id}/reshare {threshold, parties} (reshare.c); ?wait like keygen. */
static void route_reshare(struct hub_req *r, const uint8_t key_id[HUB_ID_BYTES])
{
    char msg[API_MSG_MAX] = "";
    hub_session *s;
    api_err e = hub_reshare_reshare(r->h, key_id, r->body, r->body_len, &s, msg, sizeof msg);
    if (e != API_OK)
        return respond_error(r, e, msg[0] ? msg : NULL);
    r->kind = HUB_RESHARE;
    memcpy(r->key_id, key_id, HUB_ID_BYTES);
    if (r->wait_s)
        return park(r, s);
    respond_session(r, s->id);
}

/* POST /v1/keys/import {threshold, parties, dealers, external_id?} (reshare.c); ?wait like
 * keygen: 201 with the new key once it is active, else 202 with its session. */
static void route_import(struct hub_req *r)
{
    char msg[API_MSG_MAX] = "";
    hub_session *s;
    api_err e = hub_reshare_import(r->h, r->body, r->body_len, &s, r->key_id, msg, sizeof msg);
    if (e != API_OK)
        return respond_error(r, e, msg[0] ? msg : NULL);
    r->kind = HUB_RESHARE;
    r->import = 1;
    if (r->wait_s)
        return park(r, s);
    respond_session(r, s->id);
}

/* Splits "/v1/keys/<id>[/sign]" style paths. Returns the number of segments. */
static int split(char *path, char *seg[5])
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == 5)
            return -1;
        seg[n++] = t;
    }
    return n;
}

static void dispatch(struct hub_req *r)
{
    hub *h = r->h;
    char path[sizeof r->path], *seg[5];
    uint8_t id[HUB_ID_BYTES];
    snprintf(path, sizeof path, "%s", r->path);
    int n = split(path, seg), get = r->method == M_GET, post = r->method == M_POST;
    if (n >= 2 && strcmp(seg[0], "v1") == 0) {
        if (n == 2 && strcmp(seg[1], "keys") == 0) {
            if (get)
                return route_list_keys(r);
            if (post)
                return route_keygen(r);
            return respond_error(r, API_ERR_METHOD, "use GET or POST on /v1/keys");
        }
        if (n == 3 && strcmp(seg[1], "keys") == 0 && strcmp(seg[2], "import") == 0)
            return post ? route_import(r)
                        : respond_error(r, API_ERR_METHOD, "use POST to import a key");
        if ((n == 3 || n == 4) && strcmp(seg[1], "keys") == 0) {
            int sign = n == 4 && strcmp(seg[3], "sign") == 0,
                signers = n == 4 && strcmp(seg[3], "signers") == 0,
                pickup = n == 4 && strcmp(seg[3], "delegate_share") == 0,
                refresh = n == 4 && strcmp(seg[3], "refresh") == 0,
                reshare = n == 4 && strcmp(seg[3], "reshare") == 0;
            if (n == 4 && !sign && !signers && !pickup && !refresh && !reshare)
                return respond_error(r, API_ERR_NOT_FOUND, NULL);
            if (hub_id_parse(id, seg[2], strlen(seg[2])) != 0)
                return respond_error(r, API_ERR_UNKNOWN_KEY, "key ids are 32 hex characters");
            if (signers)
                return route_signers(r, id);
            if (refresh)
                return post ? route_refresh(r, id)
                            : respond_error(r, API_ERR_METHOD, "use POST to refresh a key");
            if (reshare)
                return post ? route_reshare(r, id)
                            : respond_error(r, API_ERR_METHOD, "use POST to reshare a key");
            if (pickup)
                return post ? route_pickup(r, id)
                            : respond_error(r, API_ERR_METHOD,
                                            "use POST to pick up a delegate share");
            if (n == 4)
                return post ? route_sign(r, id)
                            : respond_error(r, API_ERR_METHOD, "use POST to sign");
            if (!get)
                return respond_error(r, API_ERR_METHOD, "use GET on /v1/keys/{id}");
            json_t *k = hub_store_key_json(h, id);
            return k ? respond_json(r, 200, k) : respond_error(r, API_ERR_UNKNOWN_KEY, NULL);
        }
        if (n == 3 && strcmp(seg[1], "sessions") == 0) {
            if (!get)
                return respond_error(r, API_ERR_METHOD, "use GET on /v1/sessions/{id}");
            if (hub_id_parse(id, seg[2], strlen(seg[2])) != 0)
                return respond_error(r, API_ERR_UNKNOWN_SESSION,
                                     "session ids are 32 hex characters");
            json_t *s = hub_store_session_json(h, id);
            return s ? respond_json(r, 200, s) : respond_error(r, API_ERR_UNKNOWN_SESSION, NULL);
        }
        if (n == 2 && strcmp(seg[1], "parties") == 0) {
            if (!get)
                return respond_error(r, API_ERR_METHOD, "use GET on /v1/parties");
            return respond_json(r, 200, hub_store_parties_json(h));
        }
    }
    if (n == 1 && strcmp(seg[0], "metrics") == 0) {
        if (!get)
            return respond_error(r, API_ERR_METHOD, "use GET on /metrics");
        char *m = hub_metrics_render(h);
        if (!m)
            return respond_error(r, API_ERR_INTERNAL, NULL);
        r->answered = 1;
        return hub_rest_respond(r->conn, 200, "text/plain; version=0.0.4", m, 0);
    }
    respond_error(r, API_ERR_NOT_FOUND, NULL);
}

/* Authorization: Bearer <key>, or X-API-Key: <key>. */
static int authenticated(struct hub_req *r)
{
    const char *v = hub_head_get(r->head, "authorization", NULL);
    if (v && strlen(v) > 7 && strncasecmp(v, "Bearer ", 7) == 0)
        return hub_store_api_key_check(r->h->db, v + 7, strlen(v + 7));
    v = hub_head_get(r->head, "x-api-key", NULL);
    if (v && v[0])
        return hub_store_api_key_check(r->h->db, v, strlen(v));
    return 0;
}

/* ?wait=N or ?wait=Ns, N in [0, max_wait]; repeated or malformed: -1, never "no wait". */
static int parse_wait(struct hub_req *r)
{
    int seen = 0;
    for (size_t i = 0; i < r->head->nargs; i++) {
        const char *frag = r->head->args[i];
        if (strncmp(frag, "wait=", 5) != 0)
            continue;
        if (seen++)
            return -1; /* repeated */
        const char *v = frag + 5;
        size_t len = strlen(v);
        if (len && v[len - 1] == 's')
            len--;
        if (len == 0 || len > 5)
            return -1;
        unsigned w = 0;
        for (size_t k = 0; k < len; k++) {
            if (v[k] < '0' || v[k] > '9')
                return -1;
            w = w * 10 + (unsigned)(v[k] - '0');
        }
        if (w > r->h->cfg.max_wait)
            return -1;
        r->wait_s = w;
    }
    return 0;
}

struct hub_req *hub_http_req_new(hub *h, struct hub_rconn *c)
{
    struct hub_req *r = calloc(1, sizeof *r);
    if (r) {
        r->h = h;
        r->conn = c;
    }
    return r;
}

void hub_http_req_detach(struct hub_req *r)
{
    req_release(r);
}

/* The checks every request goes through, in the order README.md gives, up to routing. */
void hub_http_request(struct hub_req *r, const hub_head *head, const char *peer)
{
    hub *h = r->h;
    struct hub_rconn *conn = r->conn;
    req_release(r);
    memset(r, 0, sizeof *r);
    r->h = h;
    r->conn = conn;
    r->head = head;
    snprintf(r->peer, sizeof r->peer, "%s", peer);
    r->start_ms = hub_now_ms();
    r->method = head->method == HUB_METHOD_GET      ? M_GET
                : head->method == HUB_METHOD_POST   ? M_POST
                : head->method == HUB_METHOD_PUT    ? M_PUT
                : head->method == HUB_METHOD_DELETE ? M_DELETE
                                                    : M_OTHER;
    int has_cl = head->has_content_length;
    uint64_t cl = head->content_length;
    if (snprintf(r->path, sizeof r->path, "%s", head->path) >= (int)sizeof r->path) {
        respond_error(r, API_ERR_NOT_FOUND, "path too long");
        return;
    }
    if (strcmp(r->path, "/healthz") == 0) {
        respond_raw(r, 200,
                    strdup(h->stopping ? "{\"status\":\"stopping\"}" : "{\"status\":\"ok\"}"));
        return;
    }
    if (!hub_allow_check(h, peer)) {
        respond_error(r, API_ERR_FORBIDDEN, "client address is not in the allow-list");
        return;
    }
    if (!authenticated(r)) {
        h->m.auth_failures++;
        if (!hub_rate_check_auth_failure(h, peer)) {
            h->m.rate_limited++;
            respond_error(r, API_ERR_RATE_LIMITED,
                          "too many failed authentications from this address; slow down");
            return;
        }
        respond_error(r, API_ERR_UNAUTHENTICATED,
                      "send a valid API key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'");
        return;
    }
    if (!hub_rate_check(h, peer)) {
        h->m.rate_limited++;
        respond_error(r, API_ERR_RATE_LIMITED, "too many requests from this address; slow down");
        return;
    }
    if (parse_wait(r) != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "wait must be a number of seconds from 0 to %u", h->cfg.max_wait);
        respond_error(r, API_ERR_BAD_QUERY, msg);
        return;
    }
    if (r->method != M_POST && r->method != M_PUT) {
        dispatch(r);
        return;
    }
    const char *ct = hub_head_get(head, "content-type", NULL);
    if (!ct)
        ct = "";
    if (has_cl && cl > 16 * (uint64_t)h->cfg.max_body) {
        /* absurd: answer and close rather than read it */
        r->close_after = 1;
        respond_error(r, API_ERR_TOO_LARGE, NULL);
        return;
    }
    if (has_cl && cl > h->cfg.max_body) {
        /* Read and discard it (within the body deadline), then answer 413: a client that
         * writes its whole body before reading would otherwise meet a reset connection
         * and never see the answer. */
        r->body_too_large = 1;
        hub_rest_read_body(conn, 0);
        return;
    }
    if (strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')) {
        respond_error(r, API_ERR_UNSUPPORTED_TYPE, NULL); /* rest.c closes: body unread */
        return;
    }
    if (!has_cl) {
        respond_error(r, API_ERR_BAD_JSON, "send the body with a Content-Length header");
        return;
    }
    if (cl == 0) {
        dispatch(r); /* empty body: the codec reports it */
        return;
    }
    /* All of the body must arrive within [api] body_timeout, however slowly it trickles
     * (rest.c answers 408 otherwise). */
    hub_rest_read_body(conn, 1);
}

void hub_http_body(struct hub_req *r, char *body, size_t len, int kept)
{
    if (r->answered || r->waiting) {
        free(body);
        return;
    }
    if (!kept || r->body_too_large) {
        free(body);
        respond_error(r, API_ERR_TOO_LARGE, NULL);
        return;
    }
    free(r->body);
    r->body = body;
    r->body_len = len;
    dispatch(r);
}

void hub_http_timer(struct hub_req *r)
{
    if (!r->waiting)
        return;
    /* ?wait elapsed: answer with the session as it is now */
    hub_session *s = r->waiting;
    req_release(r);
    respond_session(r, s->id);
}
