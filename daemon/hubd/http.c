/* daemon/hubd/http.c — the REST API on the API vhost (HTTPS, HTTP/1.1). Framing is checked
 * first (strict Content-Length, no Transfer-Encoding with it: 400 and close), then for
 * every request except /healthz: client address allow-list (403), API key (401, and 429
 * once an address has used up its failed-auth budget), rate limit of authenticated
 * requests (429), then routing (404/405), body limits (413), media type (415) and the
 * strict codecs of api/json.h (400). Long operations are sessions: ?wait=N parks the
 * request until the session ends or N seconds pass. Every error is JSON
 * {"error":{"code","message"}}, including what lws would otherwise answer itself: unknown
 * methods and CONNECT (lws hands them over as raw sockets), refused upgrades, slow bodies.
 * One struct hub_req per HTTP transaction (lws per-session data). */
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
    struct lws *wsi;
    int method;
    char path[160];
    char *body;
    size_t body_len;
    int body_too_large;
    int answered;     /* a response was queued: nothing more happens in this transaction, even
                       * if body bytes still arrive (an early 401/413 must never be followed by
                       * a dispatch of the body) */
    int close_after;  /* framing is not trustworthy (or a deadline passed): close after the
                       * answer instead of reading another request from this connection */
    int queued;       /* a response is queued: counted in h->responses_pending until written or
                       * the connection closes */
    int body_pending; /* a body is announced and not complete: the body deadline runs */
    unsigned wait_s;
    hub_kind kind;
    uint8_t key_id[HUB_ID_BYTES];
    uint64_t start_ms;
    int status;
    char *resp;
    size_t resp_len;
    char *handing; /* the delegate share this answer carries (delegate.c): handed once the
                    * answer is written, given back if it is not */
    size_t handing_len;
    uint8_t handing_key[HUB_ID_BYTES];
};

static void req_release(struct hub_req *r)
{
    if (r->queued) {
        r->queued = 0;
        r->h->responses_pending--;
    }
    if (r->waiting) {
        for (struct hub_req **p = &r->waiting->waiters; *p; p = &(*p)->next_waiter)
            if (*p == r) {
                *p = r->next_waiter;
                break;
            }
        r->waiting = NULL;
    }
    free(r->body);
    if (r->handing) {
        /* Not written (connection gone): the share waits for another pickup. */
        hub_delegate_give_back(r->h, r->handing_key, r->handing, r->handing_len);
        r->handing = NULL;
        hub_delegate_wipe(r->resp, r->resp_len); /* the answer held a copy */
        r->resp = NULL;
    }
    free(r->resp);
    r->body = r->resp = NULL;
    r->body_len = r->resp_len = 0;
}

static void respond_raw(struct hub_req *r, int status, char *body)
{
    r->answered = 1;
    if (!r->queued) {
        r->queued = 1;
        r->h->responses_pending++;
    }
    free(r->resp);
    r->status = status;
    r->resp = body;
    r->resp_len = body ? strlen(body) : 0;
    lws_callback_on_writable(r->wsi);
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

/* The error body for codes that exist only at the HTTP layer of the hub (bad_request,
 * request_timeout): same shape as api_error_body. Returns a malloc'd string or NULL. */
static char *error_body(const char *code, const char *msg)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return out;
}

/* A framing error or a deadline: answer, then close the connection. */
static void respond_close(struct hub_req *r, int status, const char *code, const char *msg)
{
    r->close_after = 1;
    r->body_pending = 0;
    respond_raw(r, status, error_body(code, msg));
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
        if (r->kind == HUB_KEYGEN) {
            json_t *k = hub_store_key_json(h, r->key_id);
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
    lws_set_timer_usecs(r->wsi, (lws_usec_t)r->wait_s * LWS_US_PER_SEC);
    lws_set_timeout(r->wsi, NO_PENDING_TIMEOUT, 0);
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
        lws_set_timer_usecs(r->wsi, LWS_SET_TIMER_USEC_CANCEL);
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
            lws_set_timer_usecs(r->wsi, LWS_SET_TIMER_USEC_CANCEL);
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
    char frag[4096];
    size_t nlen = strlen(name);
    int seen = 0;
    for (int i = 0;; i++) {
        int flen = lws_hdr_fragment_length(r->wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (flen <= 0)
            break;
        if (flen >= (int)sizeof frag ||
            lws_hdr_copy_fragment(r->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            return -1;
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
        if ((n == 3 || n == 4) && strcmp(seg[1], "keys") == 0) {
            int sign = n == 4 && strcmp(seg[3], "sign") == 0,
                signers = n == 4 && strcmp(seg[3], "signers") == 0,
                pickup = n == 4 && strcmp(seg[3], "delegate_share") == 0;
            if (n == 4 && !sign && !signers && !pickup)
                return respond_error(r, API_ERR_NOT_FOUND, NULL);
            if (hub_id_parse(id, seg[2], strlen(seg[2])) != 0)
                return respond_error(r, API_ERR_UNKNOWN_KEY, "key ids are 32 hex characters");
            if (signers)
                return route_signers(r, id);
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
        r->status = 200;
        free(r->resp);
        r->resp = m;
        r->resp_len = strlen(m);
        r->status = -200; /* marks text/plain for the writer */
        r->answered = 1;
        lws_callback_on_writable(r->wsi);
        return;
    }
    respond_error(r, API_ERR_NOT_FOUND, NULL);
}

/* Authorization: Bearer <key>, or X-API-Key: <key>. */
static int authenticated(struct hub_req *r)
{
    char buf[256];
    int n = lws_hdr_copy(r->wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 7 && strncasecmp(buf, "Bearer ", 7) == 0)
        return hub_store_api_key_check(r->h->db, buf + 7, (size_t)n - 7);
    n = lws_hdr_custom_copy(r->wsi, buf, sizeof buf, "x-api-key:", 10);
    if (n > 0)
        return hub_store_api_key_check(r->h->db, buf, (size_t)n);
    return 0;
}

/* ?wait=N or ?wait=Ns, N in [0, max_wait]. Every query fragment is looked at: a wait
 * value too long for lws_get_urlarg_by_name's buffer is an error, never "no wait". */
static int parse_wait(struct hub_req *r)
{
    char frag[4096]; /* lws's whole header buffer */
    int seen = 0;
    for (int i = 0;; i++) {
        int flen = lws_hdr_fragment_length(r->wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (flen <= 0)
            break;
        if (flen >= (int)sizeof frag ||
            lws_hdr_copy_fragment(r->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            return -1;
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

/* Content-Length: 1 to 19 decimal digits, no sign, no leading zero (except "0" itself),
 * nothing else. Returns 0 and the value, or -1. */
static int parse_content_length(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    uint64_t v = 0;
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Request framing, checked before anything else: a request whose body boundary is in
 * doubt is answered 400 and its connection closed (request smuggling behind a proxy).
 * Returns 0 if the framing is fine. */
static int check_framing(struct hub_req *r, uint64_t *cl, int *has_cl)
{
    char buf[32];
    *has_cl = 0;
    *cl = 0;
    int te = lws_hdr_total_length(r->wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
    int cll = lws_hdr_total_length(r->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (te > 0 && cll > 0) {
        respond_close(r, 400, "bad_request",
                      "send either Content-Length or Transfer-Encoding, never both");
        return -1;
    }
    if (te > 0) {
        respond_close(r, 400, "bad_request",
                      "Transfer-Encoding is not accepted: send the body with Content-Length");
        return -1;
    }
    if (cll > 0) {
        if (cll >= (int)sizeof buf ||
            lws_hdr_copy(r->wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) != cll ||
            lws_hdr_fragment_length(r->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, 1) > 0 ||
            parse_content_length(buf, cl) != 0) {
            respond_close(r, 400, "bad_request",
                          "Content-Length must be one decimal number without sign or leading "
                          "zeros");
            return -1;
        }
        *has_cl = 1;
    }
    return 0;
}

static void on_http_checks(struct hub_req *r, hub *h, struct lws *wsi, const char *uri,
                           uint64_t *cl_out)
{
    char *muri, peer[64] = "";
    int mlen, has_cl;
    uint64_t cl;
    req_release(r);
    memset(r, 0, sizeof *r);
    r->h = h;
    r->wsi = wsi;
    r->start_ms = hub_now_ms();
    int m = lws_http_get_uri_and_method(wsi, &muri, &mlen);
    r->method = m == LWSHUMETH_GET      ? M_GET
                : m == LWSHUMETH_POST   ? M_POST
                : m == LWSHUMETH_PUT    ? M_PUT
                : m == LWSHUMETH_DELETE ? M_DELETE
                                        : M_OTHER;
    if (check_framing(r, &cl, &has_cl) != 0)
        return;
    *cl_out = cl;
    if (snprintf(r->path, sizeof r->path, "%s", uri ? uri : "") >= (int)sizeof r->path) {
        respond_error(r, API_ERR_NOT_FOUND, "path too long");
        return;
    }
    if (strcmp(r->path, "/healthz") == 0) {
        respond_raw(r, 200,
                    strdup(h->stopping ? "{\"status\":\"stopping\"}" : "{\"status\":\"ok\"}"));
        return;
    }
    lws_get_peer_simple(wsi, peer, sizeof peer);
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
    char ct[128] = "";
    lws_hdr_copy(wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE);
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
        r->body_pending = 1;
        lws_set_timer_usecs(wsi, (lws_usec_t)h->cfg.body_timeout * LWS_US_PER_SEC);
        return;
    }
    if (strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')) {
        r->close_after = has_cl && cl > 0;
        respond_error(r, API_ERR_UNSUPPORTED_TYPE, NULL);
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
    /* The body follows in LWS_CALLBACK_HTTP_BODY; all of it must arrive within
     * [api] body_timeout, however slowly it trickles (lws's own timeout restarts with
     * every read). */
    r->body_pending = 1;
    lws_set_timer_usecs(wsi, (lws_usec_t)h->cfg.body_timeout * LWS_US_PER_SEC);
}

static int on_http(struct hub_req *r, hub *h, struct lws *wsi, const char *uri)
{
    uint64_t cl = 0;
    on_http_checks(r, h, wsi, uri, &cl);
    /* Answered before an announced body was read: close after the answer, so the unread
     * body can never be taken for the next request. */
    if (r->answered && cl > 0)
        r->close_after = 1;
    return 0;
}

/* CONNECT, and methods lws does not know (TRACE, BREW...): lws 4.1 turns CONNECT into a
 * raw socket, and with LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG hands an
 * unknown method over as raw bytes instead of its own HTML 403. Both end here: one JSON
 * 405, then the connection is closed. */
static int on_raw_rx(struct lws *wsi, const char *in, size_t len)
{
    char method[24];
    size_t n = 0;
    while (n < len && n < sizeof method - 1 && in[n] >= 'A' && in[n] <= 'Z') {
        method[n] = in[n];
        n++;
    }
    method[n] = 0;
    char msg[96];
    snprintf(msg, sizeof msg,
             "method %s is not served; the REST API accepts GET, POST, PUT and DELETE",
             n ? method : "(unreadable)");
    char *body = error_body("method_not_allowed", msg);
    if (!body)
        return -1;
    size_t blen = strlen(body);
    uint8_t buf[LWS_PRE + 512];
    int hl = snprintf(
        (char *)buf + LWS_PRE, sizeof buf - LWS_PRE,
        "HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\n"
        "content-length: %zu\r\nallow: GET, POST, PUT, DELETE\r\ncache-control: no-store\r\n"
        "connection: close\r\n\r\n%s",
        blen, body);
    free(body);
    if (hl > 0 && (size_t)hl < sizeof buf - LWS_PRE)
        lws_write(wsi, buf + LWS_PRE, (size_t)hl, LWS_WRITE_RAW);
    return -1;
}

/* An upgrade (h2c, websocket) on the REST port: refused with a JSON 400 written here,
 * then the connection is hung up (-1). */
static int refuse_upgrade(struct lws *wsi, const char *to)
{
    char msg[96];
    snprintf(msg, sizeof msg, "protocol upgrades (%.32s) are not offered on the REST API",
             to ? to : "?");
    char *body = error_body("bad_request", msg);
    size_t blen = body ? strlen(body) : 0;
    uint8_t buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    int fail = !body || lws_add_http_common_headers(wsi, 400, "application/json", blen, &p, end) ||
               lws_add_http_header_by_name(
                   wsi, (const uint8_t *)"connection:", (const uint8_t *)"close", 5, &p, end) ||
               lws_finalize_write_http_header(wsi, start, &p, end);
    if (!fail) {
        memcpy(start, body, blen);
        lws_write(wsi, start, blen, LWS_WRITE_HTTP_FINAL);
    }
    free(body);
    return -1;
}

static int on_body(struct hub_req *r, const void *in, size_t len)
{
    if (r->body_too_large || r->answered || r->waiting || !r->body_pending)
        return 0;
    if (r->body_len + len > r->h->cfg.max_body) {
        r->body_too_large = 1;
        return 0;
    }
    char *p = realloc(r->body, r->body_len + len + 1);
    if (!p)
        return -1;
    r->body = p;
    memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    r->body[r->body_len] = 0;
    return 0;
}

static int on_writable(struct hub_req *r, struct lws *wsi)
{
    hub *h = r->h;
    if (!r->resp)
        return 0;
    int text = r->status < 0, status = text ? -r->status : r->status;
    size_t cap = LWS_PRE + 1024 + r->resp_len;
    uint8_t *buf = malloc(cap), *start = buf + LWS_PRE, *p = start, *end = buf + cap - 1;
    if (!buf)
        return -1;
    int close_after = r->close_after;
    int fail =
        lws_add_http_common_headers(wsi, (unsigned)status,
                                    text ? "text/plain; version=0.0.4" : "application/json",
                                    r->resp_len, &p, end) ||
        (close_after && lws_add_http_header_by_name(wsi, (const uint8_t *)"connection:",
                                                    (const uint8_t *)"close", 5, &p, end)) ||
        lws_add_http_header_by_name(
            wsi, (const uint8_t *)"cache-control:", (const uint8_t *)"no-store", 8, &p, end) ||
        lws_add_http_header_by_name(wsi, (const uint8_t *)"x-content-type-options:",
                                    (const uint8_t *)"nosniff", 7, &p, end) ||
        (status == 401 && lws_add_http_header_by_name(wsi, (const uint8_t *)"www-authenticate:",
                                                      (const uint8_t *)"Bearer", 6, &p, end)) ||
        (status == 429 && lws_add_http_header_by_name(wsi, (const uint8_t *)"retry-after:",
                                                      (const uint8_t *)"1", 1, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end);
    if (!fail && r->resp_len) {
        memcpy(start, r->resp, r->resp_len);
        fail = lws_write(wsi, start, r->resp_len, LWS_WRITE_HTTP_FINAL) != (int)r->resp_len;
    }
    if (r->handing) {
        hub_delegate_wipe((char *)buf, cap - 1); /* the answer's copy of the share */
        buf = NULL;
        if (!fail) { /* written: the backend has been handed the share */
            hub_delegate_handed(h, r->handing_key, r->handing, r->handing_len);
            r->handing = NULL;
            hub_delegate_wipe(r->resp, r->resp_len);
            r->resp = NULL;
        }
    }
    free(buf);
    h->m.http_requests[status / 100 < 6 ? status / 100 : 5]++;
    h->m.http_latency_us_sum += (hub_now_ms() - r->start_ms) * 1000;
    h->m.http_latency_count++;
    req_release(r);
    if (fail || close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int hub_api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
    hub *h = lws_context_user(lws_get_context(wsi));
    struct hub_req *r = user;
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
        return len ? 0 : 1; /* only when [api] client_ca is set: accept what OpenSSL verified */
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return hub_conn_filter(h, (int)(intptr_t)in) ? 0 : -1;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        hub_conn_add(h, wsi); /* conn.c also puts a deadline on the TLS handshake */
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        hub_conn_del(h, wsi);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return refuse_upgrade(wsi, in);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* The REST listener speaks HTTP only. A WebSocket upgrade would bypass every check
         * in on_http (allow-list, rate limit, API key) and stay open: refuse it. */
        return -1;
    case LWS_CALLBACK_RAW_ADOPT:
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)h->cfg.header_timeout);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        return on_raw_rx(wsi, in, len);
    case LWS_CALLBACK_HTTP:
        hub_conn_request_seen(h, wsi);
        return on_http(r, h, wsi, in);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(r, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!r->body_pending)
            return 0;
        r->body_pending = 0;
        lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
        if (r->answered || r->waiting)
            return 0;
        if (r->body_too_large)
            respond_error(r, API_ERR_TOO_LARGE, NULL);
        else
            dispatch(r);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(r, wsi);
    case LWS_CALLBACK_TIMER:
        if (r->waiting) { /* ?wait elapsed: answer with the session as it is now */
            hub_session *s = r->waiting;
            req_release(r);
            respond_session(r, s->id);
        } else if (r->body_pending && !r->answered) {
            char msg[96];
            snprintf(msg, sizeof msg, "the request body did not arrive within %u s",
                     h->cfg.body_timeout);
            respond_close(r, 408, "request_timeout", msg);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (r)
            req_release(r);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

const struct lws_protocols hub_api_protocol = {
    .name = "http",
    .callback = hub_api_callback,
    .per_session_data_size = sizeof(struct hub_req),
    .rx_buffer_size = 0,
};
