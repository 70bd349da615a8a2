/* api/json.c — strict jansson codecs for REST requests and party-link control payloads.
 * What lives here: field-by-field validation with precise messages. What does not: any
 * policy that needs state (which parties are online, whether a key exists) — the hub
 * decides that. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "hex.h"
#include "jfield.h"
#include "json.h"

/* Parses one JSON object (duplicate keys rejected, nothing after it) and checks that every
 * key is in allowed (NULL-terminated). On failure returns NULL with *err set. */
static json_t *load_object(const char *body, size_t len, const char *const *allowed, api_err *err,
                           char *msg, size_t cap)
{
    json_t *root =
        api_jf_load(body, len, NULL, "request body is empty; send a JSON object", err, msg, cap);
    if (root && !json_is_object(root))
        *err = api_jf_fail(msg, cap, API_ERR_BAD_JSON, "body must be a JSON object");
    else if (root)
        *err = api_jf_check_keys(root, NULL, allowed, API_ERR_UNKNOWN_FIELD, msg, cap);
    if (root && *err != API_OK) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* An integer field in [lo, hi]. present: set to 1 if the field exists. Not api_jf_get_int:
 * the REST and party-link messages tell a wrong type ("must be an integer") from a value out
 * of range ("must be between lo and hi"), and the field may be optional. */
static api_err get_uint(json_t *obj, const char *name, int required, unsigned lo, unsigned hi,
                        unsigned *out, int *present, char *msg, size_t cap)
{
    json_t *v = json_object_get(obj, name);
    if (present)
        *present = v != NULL;
    if (!v)
        return required
                   ? api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "field '%s' is required", name)
                   : API_OK;
    if (!json_is_integer(v))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field '%s' must be an integer", name);
    json_int_t x = json_integer_value(v);
    if (x < (json_int_t)lo || x > (json_int_t)hi)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field '%s' must be between %u and %u",
                           name, lo, hi);
    *out = (unsigned)x;
    return API_OK;
}

/* A required hex string of exactly out_len bytes. Not api_jf_get_hex: the REST contract
 * answers a wrong length with API_ERR_BAD_LENGTH and a non-hex digit with API_ERR_BAD_HEX. */
static api_err get_hex(json_t *obj, const char *name, uint8_t *out, size_t out_len, char *msg,
                       size_t cap)
{
    const char *s;
    size_t n;
    api_err e = api_jf_get_string(obj, NULL, name, 1, &s, &n, msg, cap);
    if (e != API_OK)
        return e;
    e = api_hex_decode(out, out_len, s, n);
    if (e == API_ERR_BAD_LENGTH)
        return api_jf_fail(msg, cap, e,
                           "field '%s' must be %zu hex characters (%zu bytes), got %zu", name,
                           2 * out_len, out_len, n);
    if (e != API_OK)
        return api_jf_fail(msg, cap, e, "field '%s' must contain only hex digits", name);
    return API_OK;
}

/* An optional "delegate_share": strict base64 of at most API_DELEGATE_SHARE_MAX characters.
 * *len = its length, 0 when absent. */
static api_err get_delegate_share(json_t *obj, size_t *len, char *msg, size_t cap)
{
    const char *s;
    size_t n;
    api_err e = api_jf_get_string(obj, NULL, "delegate_share", 0, &s, &n, msg, cap);
    *len = 0;
    if (e != API_OK || !s)
        return e;
    if (n > API_DELEGATE_SHARE_MAX || strlen(s) != n || !api_b64_valid(s, n, NULL))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "field 'delegate_share' must be the sealed share exactly as the keygen "
                           "returned it (base64, at most %u characters)",
                           API_DELEGATE_SHARE_MAX);
    *len = n;
    return API_OK;
}

int api_external_id_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > API_EXTERNAL_ID_MAX || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

int api_party_id_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++) {
        char c = s[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok || n >= API_PARTY_ID_MAX)
            return 0;
    }
    return n > 0 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static api_err get_parties(json_t *obj, api_party_name *out, size_t *count, char *msg, size_t cap)
{
    json_t *v = json_object_get(obj, "parties");
    *count = 0;
    if (!v)
        return API_OK;
    if (!json_is_array(v))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "field 'parties' must be an array of party ids");
    size_t n = json_array_size(v);
    if (n < 2 || n > API_MAX_PARTIES)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field 'parties' must list 2 to %d parties",
                           API_MAX_PARTIES);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(v, i);
        if (!json_is_string(p) || !api_party_id_valid(json_string_value(p)) ||
            json_string_length(p) != strlen(json_string_value(p)))
            return api_jf_fail(
                msg, cap, API_ERR_BAD_FIELD,
                "parties[%zu] must be a party id ([A-Za-z0-9._-], 1 to %d characters)", i,
                API_PARTY_ID_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(out[j], json_string_value(p)) == 0)
                return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "parties[%zu] repeats '%s'", i,
                                   out[j]);
        snprintf(out[i], sizeof out[i], "%s", json_string_value(p));
    }
    *count = n;
    return API_OK;
}

static int label_valid(const char *s, size_t n)
{
    if (n > API_LABEL_MAX || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1; /* jansson has already checked that it is valid UTF-8 */
}

/* The keygen request's optional "external_id" and "delegate". */
static api_err get_keygen_extras(json_t *root, api_keygen_req *r, char *msg, size_t cap)
{
    const char *s;
    size_t n;
    api_err e = api_jf_get_string(root, NULL, "external_id", 0, &s, &n, msg, cap);
    if (e != API_OK)
        return e;
    if (s && !api_external_id_valid(s, n))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "field 'external_id' must be 1 to %d characters of [A-Za-z0-9._@:-]",
                           API_EXTERNAL_ID_MAX);
    if (s)
        memcpy(r->external_id, s, n + 1);
    if ((e = api_jf_get_string(root, NULL, "delegate", 0, &s, &n, msg, cap)) != API_OK)
        return e;
    if (s && (strlen(s) != n || !api_party_id_valid(s)))
        return api_jf_fail(
            msg, cap, API_ERR_BAD_FIELD,
            "field 'delegate' must be a party id ([A-Za-z0-9._-], 1 to %d characters)",
            API_PARTY_ID_MAX);
    if (s)
        memcpy(r->delegate, s, n + 1);
    return API_OK;
}

api_err api_keygen_req_parse(api_keygen_req *r, const char *body, size_t len, char *msg, size_t cap)
{
    static const char *const allowed[] = {"threshold",   "parties",  "n", "label",
                                          "external_id", "delegate", NULL};
    api_err e;
    memset(r, 0, sizeof *r);
    if (msg && cap)
        msg[0] = 0;
    json_t *root = load_object(body, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    int has_n = 0;
    const char *label;
    size_t label_len;
    if ((e = get_uint(root, "threshold", 1, 0, 1000, &r->threshold, NULL, msg, cap)) ||
        (e = get_uint(root, "n", 0, 0, 1000, &r->n, &has_n, msg, cap)) ||
        (e = get_parties(root, r->parties, &r->nparties, msg, cap)) ||
        (e = api_jf_get_string(root, NULL, "label", 0, &label, &label_len, msg, cap)))
        goto out;
    if (label && !label_valid(label, label_len)) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "field 'label' must be at most %d bytes without control characters",
                        API_LABEL_MAX);
        goto out;
    }
    if (label)
        memcpy(r->label, label, label_len + 1);
    if ((e = get_keygen_extras(root, r, msg, cap)) != API_OK)
        goto out;
    if (!has_n && r->nparties == 0) {
        e = api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "give either 'parties' or 'n'");
        goto out;
    }
    if (has_n && r->nparties && r->n != r->nparties) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "'n' (%u) disagrees with the %zu listed parties", r->n, r->nparties);
        goto out;
    }
    if (!has_n)
        r->n = (unsigned)r->nparties;
    if (r->n < 2 || r->n > API_MAX_PARTIES) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "'n' must be between 2 and %d",
                        API_MAX_PARTIES);
        goto out;
    }
    if (r->threshold < 2 || r->threshold > r->n) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_THRESHOLD,
                        "threshold (signers required) must be between 2 and n = %u, got %u", r->n,
                        r->threshold);
        goto out;
    }
    if (r->delegate[0] && r->nparties) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "'delegate' ('%s') is not one of the listed parties", r->delegate);
        for (size_t i = 0; i < r->nparties; i++)
            if (strcmp(r->parties[i], r->delegate) == 0)
                e = API_OK;
        if (e != API_OK)
            goto out;
    }
    e = API_OK;
out:
    json_decref(root);
    return e;
}

api_err api_path_parse(const char *s, uint32_t index[API_PATH_MAX_DEPTH], size_t *depth)
{
    *depth = 0;
    if (!s || s[0] != 'm')
        return API_ERR_BAD_PATH;
    const char *p = s + 1;
    while (*p) {
        if (*p != '/' || *depth == API_PATH_MAX_DEPTH)
            return API_ERR_BAD_PATH;
        p++;
        if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
            return API_ERR_BAD_PATH;
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v >= 0x80000000u)
                return API_ERR_BAD_PATH; /* hardened or too large */
            p++;
        }
        index[(*depth)++] = (uint32_t)v;
    }
    return API_OK;
}

static api_err check_element(json_t *p, const char *array, size_t i, const char *const *allowed,
                             char *msg, size_t cap);
static char *dump(json_t *o);

/* --- request authorization --- */

static const char *const payload_names[] = {"hash", "eth_transaction", "eip191_message", "eip712"};

const char *api_payload_kind_name(api_payload_kind kind)
{
    return (unsigned)kind <= API_PAYLOAD_EIP712 ? payload_names[kind] : NULL;
}

int api_sign_auth_present(const api_sign_auth *a)
{
    return a->request_id[0] || a->napprovals || a->kind != API_PAYLOAD_HASH;
}

/* A hex string field of 0..API_TYPED_MAX bytes, with or without "0x". */
static api_err get_typed_hex(json_t *v, const char *name, api_sign_auth *a, char *msg, size_t cap)
{
    if (!json_is_string(v))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field '%s' must be a hex string", name);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2, n -= 2;
    if (n % 2 || n / 2 > API_TYPED_MAX || strlen(s) != n)
        return api_jf_fail(msg, cap, API_ERR_BAD_LENGTH,
                           "field '%s' must be an even number of hex digits, at most %d bytes",
                           name, API_TYPED_MAX);
    if (api_hex_decode(a->typed, n / 2, s, n) != API_OK)
        return api_jf_fail(msg, cap, API_ERR_BAD_HEX, "field '%s' must contain only hex digits",
                           name);
    a->typed_len = n / 2;
    return API_OK;
}

static api_err get_approval(json_t *p, size_t i, api_approval *d, char *msg, size_t cap)
{
    static const char *const allowed[] = {"approver", "alg", "expires", "signature", NULL};
    const char *str;
    size_t n;
    api_err e = check_element(p, "approvals", i, allowed, msg, cap);
    if (e == API_OK)
        e = api_jf_get_string(p, NULL, "approver", 1, &str, &n, msg, cap);
    if (e != API_OK)
        return e;
    if (strlen(str) != n || !api_party_id_valid(str))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "approvals[%zu].approver must be a name ([A-Za-z0-9._-], 1 to 64)", i);
    memcpy(d->approver, str, n + 1);
    if ((e = api_jf_get_string(p, NULL, "alg", 1, &str, &n, msg, cap)) != API_OK)
        return e;
    if (strcmp(str, "ecdsa-p256") != 0 && strcmp(str, "ecdsa-secp256k1") != 0 &&
        strcmp(str, "ed25519") != 0)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "approvals[%zu].alg must be ecdsa-p256, ecdsa-secp256k1 or ed25519", i);
    memcpy(d->alg, str, n + 1);
    json_t *x = json_object_get(p, "expires");
    if (!x || !json_is_integer(x) || json_integer_value(x) < 1 ||
        json_integer_value(x) > (json_int_t)((1LL << 53) - 1))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "approvals[%zu].expires must be an integer (unix seconds)", i);
    d->expires = (uint64_t)json_integer_value(x);
    if ((e = api_jf_get_string(p, NULL, "signature", 1, &str, &n, msg, cap)) != API_OK)
        return e;
    if (n != 128 || api_hex_decode(d->signature, 64, str, n) != API_OK)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "approvals[%zu].signature must be 128 hex digits", i);
    return API_OK;
}

/* request_id, approvals and the typed payloads of obj into a. typed_count receives how many of
 * eth_transaction, eip191_message, eip712 are present (more than one is refused here). */
static api_err get_auth(json_t *obj, api_sign_auth *a, int *typed_count, char *msg, size_t cap)
{
    const char *str;
    size_t n;
    api_err e = api_jf_get_string(obj, NULL, "request_id", 0, &str, &n, msg, cap);
    if (e != API_OK)
        return e;
    if (str) {
        if (n > API_REQUEST_ID_MAX || strlen(str) != n || !api_party_id_valid(str))
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "field 'request_id' must be 1 to %d characters of [A-Za-z0-9._-]",
                               API_REQUEST_ID_MAX);
        memcpy(a->request_id, str, n + 1);
    }
    json_t *v = json_object_get(obj, "approvals");
    if (v) {
        if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > API_APPROVALS_MAX)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "field 'approvals' must be an array of 1 to %d approvals",
                               API_APPROVALS_MAX);
        a->napprovals = json_array_size(v);
        for (size_t i = 0; i < a->napprovals; i++)
            if ((e = get_approval(json_array_get(v, i), i, &a->approvals[i], msg, cap)) != API_OK)
                return e;
        if (!a->request_id[0])
            return api_jf_fail(msg, cap, API_ERR_MISSING_FIELD,
                               "field 'request_id' is required with 'approvals'");
    }
    *typed_count = 0;
    for (int k = API_PAYLOAD_ETH_TX; k <= API_PAYLOAD_EIP712; k++) {
        json_t *t = json_object_get(obj, payload_names[k]);
        if (!t)
            continue;
        if (++*typed_count > 1)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "give only one of eth_transaction, eip191_message, eip712");
        a->kind = (api_payload_kind)k;
        if (k != API_PAYLOAD_EIP712) {
            if ((e = get_typed_hex(t, payload_names[k], a, msg, cap)) != API_OK)
                return e;
            if (k == API_PAYLOAD_ETH_TX && a->typed_len == 0)
                return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field 'eth_transaction' is empty");
            continue;
        }
        if (!json_is_object(t))
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field 'eip712' must be a JSON object");
        char *txt = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
        size_t tl = txt ? strlen(txt) : 0;
        if (txt && tl <= API_TYPED_MAX)
            memcpy(a->typed, txt, tl + 1);
        free(txt);
        if (!txt)
            return api_jf_fail(msg, cap, API_ERR_INTERNAL, "out of memory");
        if (tl > API_TYPED_MAX)
            return api_jf_fail(msg, cap, API_ERR_BAD_LENGTH, "field 'eip712' is over %d bytes",
                               API_TYPED_MAX);
        a->typed_len = tl;
    }
    return API_OK;
}

char *api_sign_auth_encode(const api_sign_auth *a)
{
    if (!api_sign_auth_present(a))
        return strdup("null");
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (a->request_id[0])
        json_object_set_new(o, "request_id", json_string(a->request_id));
    if (a->napprovals) {
        json_t *arr = json_array();
        for (size_t i = 0; i < a->napprovals && i < API_APPROVALS_MAX; i++) {
            char sig[129];
            api_hex_encode(sig, a->approvals[i].signature, 64);
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:I,s:s}", "approver", a->approvals[i].approver, "alg",
                               a->approvals[i].alg, "expires", (json_int_t)a->approvals[i].expires,
                               "signature", sig));
        }
        json_object_set_new(o, "approvals", arr);
    }
    if (a->kind == API_PAYLOAD_EIP712) {
        json_t *t = json_loadb((const char *)a->typed, a->typed_len, 0, NULL);
        if (!t) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "eip712", t);
    } else if (a->kind != API_PAYLOAD_HASH) {
        char *hex = malloc(2 * a->typed_len + 1);
        if (!hex) {
            json_decref(o);
            return NULL;
        }
        api_hex_encode(hex, a->typed, a->typed_len);
        json_object_set_new(o, payload_names[a->kind], json_string(hex));
        free(hex);
    }
    return dump(o);
}

api_err api_sign_req_parse(api_sign_req *r, const char *body, size_t len, char *msg, size_t cap)
{
    static const char *const allowed[] = {
        "hash",      "derivation_path", "parties",        "delegate_share", "request_id",
        "approvals", "eth_transaction", "eip191_message", "eip712",         NULL};
    api_err e;
    int typed = 0;
    memset(r, 0, sizeof *r);
    if (msg && cap)
        msg[0] = 0;
    json_t *root = load_object(body, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    const char *path;
    size_t path_len;
    if ((e = get_auth(root, &r->auth, &typed, msg, cap)))
        goto out;
    if (typed && json_object_get(root, "hash")) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "give either 'hash' or a typed payload (eth_transaction, eip191_message, "
                        "eip712), not both");
        goto out;
    }
    if ((!typed && (e = get_hex(root, "hash", r->hash, sizeof r->hash, msg, cap))) ||
        (e = api_jf_get_string(root, NULL, "derivation_path", 0, &path, &path_len, msg, cap)) ||
        (e = get_parties(root, r->parties, &r->nparties, msg, cap)) ||
        (e = get_delegate_share(root, &r->delegate_share_len, msg, cap)))
        goto out;
    if (path) {
        if (path_len > API_PATH_STR_MAX || strlen(path) != path_len ||
            api_path_parse(path, r->path_index, &r->path_depth) != API_OK) {
            e = api_jf_fail(msg, cap, API_ERR_BAD_PATH,
                            "field 'derivation_path' must look like m/0/1 (at most %d non-hardened "
                            "indices below 2^31, no leading zeros)",
                            API_PATH_MAX_DEPTH);
            goto out;
        }
        memcpy(r->path, path, path_len + 1);
    }
    e = API_OK;
out:
    json_decref(root);
    return e;
}

api_err api_signers_req_parse(api_signers_req *r, const char *body, size_t len, char *msg,
                              size_t cap)
{
    static const char *const allowed[] = {"parties", NULL};
    api_err e;
    memset(r, 0, sizeof *r);
    if (msg && cap)
        msg[0] = 0;
    json_t *root = load_object(body, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    if (!json_object_get(root, "parties"))
        e = api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "field 'parties' is required");
    else
        e = get_parties(root, r->parties, &r->nparties, msg, cap);
    json_decref(root);
    return e;
}

api_err api_delegate_share_get(const void *json, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return API_ERR_BAD_JSON;
    }
    size_t n;
    api_err e = get_delegate_share(root, &n, NULL, 0);
    if (e == API_OK && n) {
        *out = malloc(n + 1);
        if (*out) {
            memcpy(*out, json_string_value(json_object_get(root, "delegate_share")), n + 1);
            *out_len = n;
        } else {
            e = API_ERR_INTERNAL;
        }
    }
    json_decref(root);
    return e;
}

void api_delegate_share_free(char *b64, size_t len)
{
    if (!b64)
        return;
    volatile char *p = b64; /* not secret (sealed), but never left behind in the heap */
    for (size_t i = 0; i < len; i++)
        p[i] = 0;
    free(b64);
}

char *api_error_body(api_err err, const char *message)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", api_err_code(err), "message",
                          message && message[0] ? message : api_strerror(err));
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* --- party-link control payloads --- */

static json_t *load_payload(const uint8_t *p, size_t len, const char *const *allowed, api_err *err,
                            char *msg, size_t cap)
{
    return load_object((const char *)p, len, allowed, err, msg, cap);
}

static api_err copy_short_string(json_t *root, const char *name, int required, char *out,
                                 size_t out_cap, char *msg, size_t cap)
{
    const char *s;
    size_t n;
    api_err e = api_jf_get_string(root, NULL, name, required, &s, &n, msg, cap);
    if (e != API_OK)
        return e;
    if (!s) {
        out[0] = 0;
        return API_OK;
    }
    if (n >= out_cap || strlen(s) != n || !label_valid(s, n))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "field '%s' is too long or has control bytes", name);
    memcpy(out, s, n + 1);
    return API_OK;
}

api_err api_hello_parse(api_hello *h, const uint8_t *p, size_t len, char *msg, size_t cap)
{
    static const char *const allowed[] = {"version", "backend", "role", NULL};
    api_err e;
    memset(h, 0, sizeof *h);
    json_t *root = load_payload(p, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    if (!(e = copy_short_string(root, "version", 1, h->version, sizeof h->version, msg, cap)))
        e = copy_short_string(root, "backend", 1, h->backend, sizeof h->backend, msg, cap);
    if (!e && !(e = copy_short_string(root, "role", 0, h->role, sizeof h->role, msg, cap)) &&
        h->role[0] && strcmp(h->role, "delegate") != 0)
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "field 'role' must be \"delegate\" when present");
    json_decref(root);
    return e;
}

api_err api_sign_result_parse(api_sign_result *r, const uint8_t *p, size_t len, char *msg,
                              size_t cap)
{
    static const char *const allowed[] = {"r", "s", "recovery_id", NULL};
    api_err e;
    unsigned rid = 0;
    memset(r, 0, sizeof *r);
    json_t *root = load_payload(p, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    if (!(e = get_hex(root, "r", r->r, 32, msg, cap)) &&
        !(e = get_hex(root, "s", r->s, 32, msg, cap)) &&
        !(e = get_uint(root, "recovery_id", 1, 0, 3, &rid, NULL, msg, cap)))
        r->recovery_id = (int)rid;
    json_decref(root);
    return e;
}

api_err api_keygen_result_parse(api_keygen_result *r, const uint8_t *p, size_t len, char *msg,
                                size_t cap)
{
    /* "key": the key's public data (api/reshare.h api_key_public_get), read separately */
    static const char *const allowed[] = {"public_key",  "chain_code",     "transcript_hash",
                                          "attestation", "delegate_share", "key",
                                          NULL};
    api_err e;
    memset(r, 0, sizeof *r);
    json_t *root = load_payload(p, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    const char *att;
    size_t att_len;
    if ((e = get_hex(root, "public_key", r->public_key, 33, msg, cap)) ||
        (e = get_hex(root, "chain_code", r->chain_code, 32, msg, cap)) ||
        (e = get_hex(root, "transcript_hash", r->transcript_hash, 32, msg, cap)) ||
        (e = api_jf_get_string(root, NULL, "attestation", 1, &att, &att_len, msg, cap)))
        goto out;
    if (att_len == 0 || att_len % 2 || att_len / 2 > API_ATTESTATION_MAX) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_LENGTH,
                        "field 'attestation' must be 1 to %d bytes of hex", API_ATTESTATION_MAX);
        goto out;
    }
    if ((e = api_hex_decode(r->attestation, att_len / 2, att, att_len)) != API_OK) {
        e = api_jf_fail(msg, cap, e, "field 'attestation' must contain only hex digits");
        goto out;
    }
    r->attestation_len = att_len / 2;
    e = get_delegate_share(root, &r->delegate_share_len, msg, cap);
out:
    json_decref(root);
    return e;
}

api_err api_abort_parse(api_abort *a, const uint8_t *p, size_t len, char *msg, size_t cap)
{
    static const char *const allowed[] = {"reason", "culprit", NULL};
    api_err e;
    memset(a, 0, sizeof *a);
    json_t *root = load_payload(p, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    if (!(e = copy_short_string(root, "reason", 1, a->reason, sizeof a->reason, msg, cap)))
        e = get_uint(root, "culprit", 0, 0, API_MAX_PARTIES, &a->culprit, NULL, msg, cap);
    json_decref(root);
    return e;
}

static char *dump(json_t *o)
{
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

char *api_hello_encode(const api_hello *h)
{
    json_t *o = json_pack("{s:s,s:s}", "version", h->version, "backend", h->backend);
    if (o && h->role[0])
        json_object_set_new(o, "role", json_string(h->role));
    return dump(o);
}

char *api_sign_result_encode(const api_sign_result *r)
{
    char rh[65], sh[65];
    if (r->recovery_id < 0 || r->recovery_id > 3)
        return NULL;
    api_hex_encode(rh, r->r, 32);
    api_hex_encode(sh, r->s, 32);
    return dump(json_pack("{s:s,s:s,s:i}", "r", rh, "s", sh, "recovery_id", r->recovery_id));
}

char *api_keygen_result_encode(const api_keygen_result *r)
{
    char pk[67], cc[65], th[65], att[2 * API_ATTESTATION_MAX + 1];
    if (r->attestation_len == 0 || r->attestation_len > API_ATTESTATION_MAX)
        return NULL;
    api_hex_encode(pk, r->public_key, 33);
    api_hex_encode(cc, r->chain_code, 32);
    api_hex_encode(th, r->transcript_hash, 32);
    api_hex_encode(att, r->attestation, r->attestation_len);
    return dump(json_pack("{s:s,s:s,s:s,s:s}", "public_key", pk, "chain_code", cc,
                          "transcript_hash", th, "attestation", att));
}

char *api_keygen_result_encode_delegate(const api_keygen_result *r, const char *b64)
{
    char *plain = api_keygen_result_encode(r);
    size_t n = b64 ? strlen(b64) : 0;
    if (!plain || n == 0 || n > API_DELEGATE_SHARE_MAX || !api_b64_valid(b64, n, NULL)) {
        free(plain);
        return NULL;
    }
    json_t *o = json_loads(plain, 0, NULL);
    free(plain);
    if (o && json_object_set_new(o, "delegate_share", json_stringn(b64, n)) != 0) {
        json_decref(o);
        return NULL;
    }
    return dump(o);
}

char *api_abort_encode(const api_abort *a)
{
    return dump(json_pack("{s:s,s:i}", "reason", a->reason, "culprit", (int)a->culprit));
}

void api_attestation_message(uint8_t out[API_ATTEST_MSG_BYTES], const uint8_t key_id[16],
                             const api_keygen_result *r)
{
    static const char tag[] = "mpc-signer/persisted/v1"; /* 23 bytes, no NUL */
    memcpy(out, tag, 23);
    memcpy(out + 23, key_id, 16);
    memcpy(out + 39, r->public_key, 33);
    memcpy(out + 72, r->chain_code, 32);
    memcpy(out + 104, r->transcript_hash, 32);
}

/* --- session-start and activate --- */

/* Element i of array `array`: an object whose keys are all in allowed (NULL-terminated).
 * The message names the element, not the key (this payload's contract since v1). */
static api_err check_element(json_t *p, const char *array, size_t i, const char *const *allowed,
                             char *msg, size_t cap)
{
    if (!json_is_object(p))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s[%zu] must be an object", array, i);
    if (api_jf_unknown_key(p, allowed))
        return api_jf_fail(msg, cap, API_ERR_UNKNOWN_FIELD, "%s[%zu]: unknown field", array, i);
    return API_OK;
}

static api_err get_start_parties(json_t *root, api_session_start *s, char *msg, size_t cap)
{
    static const char *const allowed[] = {"index", "id", "cert", NULL};
    json_t *v = json_object_get(root, "parties");
    if (!v || !json_is_array(v))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field 'parties' must be an array");
    size_t want = s->sign ? s->threshold : s->n;
    if (json_array_size(v) != want)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field 'parties' must list %zu parties",
                           want);
    for (size_t i = 0; i < want; i++) {
        json_t *p = json_array_get(v, i);
        api_start_party *d = &s->parties[i];
        const char *str;
        size_t n;
        api_err e = check_element(p, "parties", i, allowed, msg, cap);
        if (e == API_OK)
            e = get_uint(p, "index", 1, 1, s->n, &d->index, NULL, msg, cap);
        if (e != API_OK)
            return e;
        if (!s->sign && d->index != i + 1)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "parties[%zu]: keygen indices must be 1..n", i);
        for (size_t j = 0; j < i; j++)
            if (s->parties[j].index == d->index)
                return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "parties[%zu] repeats index %u", i,
                                   d->index);
        if ((e = api_jf_get_string(p, NULL, "id", 1, &str, &n, msg, cap)) != API_OK)
            return e;
        if (strlen(str) != n || !api_party_id_valid(str))
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "parties[%zu]: invalid party id", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->parties[j].id, str) == 0)
                return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "parties[%zu] repeats a party id",
                                   i);
        memcpy(d->id, str, n + 1);
        if ((e = api_jf_get_string(p, NULL, "cert", 1, &str, &n, msg, cap)) != API_OK)
            return e;
        if (n == 0 || n > API_CERT_PEM_MAX || strlen(str) != n)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "parties[%zu]: certificate missing or too long", i);
        memcpy(d->cert, str, n + 1);
    }
    s->nparties = want;
    /* The hub lists signers in the order the request named them; every signer sorts them
     * by index so that all derive the same transcript. */
    for (size_t i = 1; i < want; i++)
        for (size_t j = i; j > 0 && s->parties[j].index < s->parties[j - 1].index; j--) {
            api_start_party t = s->parties[j];
            s->parties[j] = s->parties[j - 1];
            s->parties[j - 1] = t;
        }
    return API_OK;
}

static api_err get_start_sign(json_t *root, api_session_start *s, char *msg, size_t cap)
{
    const char *str;
    size_t n;
    api_err e = get_hex(root, "hash", s->hash, 32, msg, cap);
    if (e == API_OK)
        e = get_hex(root, "public_key", s->public_key, 33, msg, cap);
    if (e == API_OK)
        e = api_jf_get_string(root, NULL, "derivation_path", 1, &str, &n, msg, cap);
    if (e != API_OK)
        return e;
    if (n > API_PATH_STR_MAX || strlen(str) != n ||
        api_path_parse(str, s->path_index, &s->path_depth) != API_OK)
        return api_jf_fail(msg, cap, API_ERR_BAD_PATH,
                           "field 'derivation_path' is not a valid path");
    memcpy(s->path, str, n + 1);
    return API_OK;
}

api_err api_session_start_parse(api_session_start *s, const uint8_t *p, size_t len, char *msg,
                                size_t cap)
{
    static const char *const allowed[] = {
        "kind",  "key_id",   "threshold", "n",          "index",           "parties",
        "nonce", "approval", "hash",      "public_key", "derivation_path", "delegate_share",
        NULL};
    api_err e;
    const char *kind;
    size_t n;
    memset(s, 0, sizeof *s);
    json_t *root = load_payload(p, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    if ((e = api_jf_get_string(root, NULL, "kind", 1, &kind, &n, msg, cap)) != API_OK)
        goto out;
    if (strcmp(kind, "sign") != 0 && strcmp(kind, "keygen") != 0) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field 'kind' must be \"keygen\" or \"sign\"");
        goto out;
    }
    s->sign = kind[0] == 's';
    json_t *approval = json_object_get(root, "approval");
    if (!approval || (!json_is_null(approval) && (!s->sign || !json_is_object(approval)))) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "field 'approval' must be null (keygen) or null or an object (sign)");
        goto out;
    }
    if (json_is_object(approval)) {
        static const char *const auth_fields[] = {"request_id",     "approvals", "eth_transaction",
                                                  "eip191_message", "eip712",    NULL};
        int typed = 0;
        e = api_jf_check_keys(approval, "approval", auth_fields, API_ERR_UNKNOWN_FIELD, msg, cap);
        if (e != API_OK)
            goto out;
        if ((e = get_auth(approval, &s->auth, &typed, msg, cap)) != API_OK)
            goto out;
    }
    int has_sign_fields = json_object_get(root, "hash") || json_object_get(root, "public_key") ||
                          json_object_get(root, "derivation_path") ||
                          json_object_get(root, "delegate_share");
    if (!s->sign && has_sign_fields) {
        e = api_jf_fail(msg, cap, API_ERR_UNKNOWN_FIELD,
                        "keygen session-start with signing fields");
        goto out;
    }
    if ((e = get_hex(root, "key_id", s->key_id, 16, msg, cap)) != API_OK ||
        (e = get_uint(root, "n", 1, 2, API_MAX_PARTIES, &s->n, NULL, msg, cap)) != API_OK ||
        (e = get_uint(root, "threshold", 1, 2, s->n, &s->threshold, NULL, msg, cap)) != API_OK ||
        (e = get_uint(root, "index", 1, 1, s->n, &s->index, NULL, msg, cap)) != API_OK ||
        (e = get_hex(root, "nonce", s->nonce, 32, msg, cap)) != API_OK ||
        (e = get_start_parties(root, s, msg, cap)) != API_OK)
        goto out;
    if (s->sign && (e = get_start_sign(root, s, msg, cap)) != API_OK)
        goto out;
    if (s->sign && (e = get_delegate_share(root, &s->delegate_share_len, msg, cap)) != API_OK)
        goto out;
    e = API_ERR_BAD_FIELD;
    for (size_t i = 0; i < s->nparties; i++)
        if (s->parties[i].index == s->index)
            e = API_OK;
    if (e != API_OK)
        api_jf_fail(msg, cap, e, "field 'index' names no listed party");
out:
    json_decref(root);
    return e;
}

static api_err get_activate_party(json_t *p, size_t i, api_activate_party *d, char *msg, size_t cap)
{
    static const char *const allowed[] = {"index", "certificate", "attestation", NULL};
    const char *str;
    size_t n;
    api_err e = check_element(p, "attestations", i, allowed, msg, cap);
    if (e == API_OK)
        e = get_uint(p, "index", 1, 1, API_MAX_PARTIES, &d->index, NULL, msg, cap);
    if (e != API_OK)
        return e;
    if (d->index != i + 1)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "attestations[%zu]: index must be %zu", i,
                           i + 1);
    if ((e = api_jf_get_string(p, NULL, "certificate", 1, &str, &n, msg, cap)) != API_OK)
        return e;
    if (n == 0 || n > API_CERT_PEM_MAX || strlen(str) != n)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "attestations[%zu]: certificate missing or too long", i);
    memcpy(d->certificate, str, n + 1);
    if ((e = api_jf_get_string(p, NULL, "attestation", 1, &str, &n, msg, cap)) != API_OK)
        return e;
    if (n < 2 || n % 2 || n / 2 > API_ATTESTATION_MAX ||
        api_hex_decode(d->attestation, n / 2, str, n) != API_OK)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "attestations[%zu]: attestation must be hex DER", i);
    d->attestation_len = n / 2;
    return API_OK;
}

api_err api_activate_parse(api_activate *a, const uint8_t *p, size_t len, char *msg, size_t cap)
{
    static const char *const allowed[] = {"key_id", "attestations", NULL};
    api_err e;
    memset(a, 0, sizeof *a);
    json_t *root = load_payload(p, len, allowed, &e, msg, cap);
    if (!root)
        return e;
    json_t *v = json_object_get(root, "attestations");
    if ((e = get_hex(root, "key_id", a->key_id, 16, msg, cap)) != API_OK)
        goto out;
    if (!v || !json_is_array(v) || json_array_size(v) < 2 || json_array_size(v) > API_MAX_PARTIES) {
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "field 'attestations' must list 2 to %d parties", API_MAX_PARTIES);
        goto out;
    }
    a->count = json_array_size(v);
    for (size_t i = 0; i < a->count && e == API_OK; i++)
        e = get_activate_party(json_array_get(v, i), i, &a->parties[i], msg, cap);
out:
    json_decref(root);
    return e;
}
