/* api/reshare.c — strict parser of the reshare session-start payload (see reshare.h).
 * Field-by-field validation with precise messages; nothing here needs state. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "hex.h"
#include "jfield.h"
#include "reshare.h"

static api_err get_parties(json_t *root, api_reshare_start *s, char *msg, size_t cap)
{
    static const char *const allowed[] = {"index", "id", "cert", NULL};
    json_t *a = json_object_get(root, "parties");
    char what[32];
    if (!json_is_array(a) || json_array_size(a) != s->n)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "field 'parties' must list the n = %u new parties", s->n);
    for (size_t i = 0; i < s->n; i++) {
        json_t *p = json_array_get(a, i);
        api_start_party *d = &s->parties[i];
        json_int_t idx;
        snprintf(what, sizeof what, "parties[%zu]", i);
        api_err e = api_jf_check_keys(p, what, allowed, API_ERR_UNKNOWN_FIELD, msg, cap);
        if (e == API_OK)
            e = api_jf_get_int(p, what, "index", 1, s->n, &idx, msg, cap);
        if (e == API_OK && idx != (json_int_t)(i + 1))
            e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s: indices must be 1..n in order", what);
        if (e == API_OK)
            e = api_jf_get_text(p, what, "id", API_PARTY_ID_MAX, d->id, msg, cap);
        if (e == API_OK && !api_party_id_valid(d->id))
            e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s: invalid party id", what);
        for (size_t j = 0; e == API_OK && j < i; j++)
            if (strcmp(s->parties[j].id, d->id) == 0)
                e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s repeats a party id", what);
        if (e == API_OK)
            e = api_jf_get_text(p, what, "cert", API_CERT_PEM_MAX, d->cert, msg, cap);
        if (e != API_OK)
            return e;
        d->index = (unsigned)idx;
    }
    s->nparties = s->n;
    return API_OK;
}

static api_err get_old(json_t *root, api_reshare_start *s, char *msg, size_t cap)
{
    static const char *const allowed[] = {"threshold",  "n",       "public_key",
                                          "chain_code", "key_sid", NULL};
    json_t *o = json_object_get(root, "old");
    json_int_t t, n;
    if (!o)
        return api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "field 'old' is required");
    api_err e = api_jf_check_keys(o, "old", allowed, API_ERR_UNKNOWN_FIELD, msg, cap);
    if (e == API_OK)
        e = api_jf_get_int(o, "old", "n", 1, API_MAX_PARTIES, &n, msg, cap);
    if (e == API_OK)
        e = api_jf_get_int(o, "old", "threshold", 1, n, &t, msg, cap);
    if (e == API_OK)
        e = api_jf_get_hex(o, "old", "public_key", s->public_key, 33, msg, cap);
    if (e == API_OK)
        e = api_jf_get_hex(o, "old", "chain_code", s->chain_code, 32, msg, cap);
    if (e == API_OK)
        e = api_jf_get_hex(o, "old", "key_sid", s->key_sid, 32, msg, cap);
    if (e != API_OK)
        return e;
    s->old_threshold = (unsigned)t;
    s->old_n = (unsigned)n;
    return API_OK;
}

static api_err get_dealer(json_t *p, size_t i, api_reshare_start *s, char *msg, size_t cap)
{
    static const char *const allowed[] = {"x", "pub", "id", "cert", "new_index", NULL};
    api_reshare_dealer *d = &s->dealers[i];
    char what[32];
    json_int_t ni;
    snprintf(what, sizeof what, "dealers[%zu]", i);
    api_err e = api_jf_check_keys(p, what, allowed, API_ERR_UNKNOWN_FIELD, msg, cap);
    if (e == API_OK)
        e = api_jf_get_hex(p, what, "x", d->x, 32, msg, cap);
    if (e == API_OK && api_jf_all_zero(d->x, 32))
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s: x must not be zero", what);
    if (e == API_OK)
        e = api_jf_get_hex(p, what, "pub", d->pub, 33, msg, cap);
    if (e == API_OK)
        e = api_jf_get_text(p, what, "id", API_PARTY_ID_MAX, d->id, msg, cap);
    if (e == API_OK && !api_party_id_valid(d->id))
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s: invalid party id", what);
    if (e == API_OK)
        e = api_jf_get_text(p, what, "cert", API_CERT_PEM_MAX, d->cert, msg, cap);
    if (e == API_OK)
        e = api_jf_get_int(p, what, "new_index", 0, s->n, &ni, msg, cap);
    if (e != API_OK)
        return e;
    d->new_index = (unsigned)ni;
    for (size_t j = 0; j < i; j++) {
        if (memcmp(s->dealers[j].x, d->x, 32) == 0)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s repeats an x", what);
        if (strcmp(s->dealers[j].id, d->id) == 0)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s repeats a party id", what);
        if (d->new_index && s->dealers[j].new_index == d->new_index)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s repeats a new_index", what);
    }
    if (d->new_index) {
        const api_start_party *q = &s->parties[d->new_index - 1];
        if (strcmp(q->id, d->id) != 0 || strcmp(q->cert, d->cert) != 0)
            return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                               "%s: id and cert must be those of new party %u", what, d->new_index);
    } else {
        for (size_t j = 0; j < s->n; j++)
            if (strcmp(s->parties[j].id, d->id) == 0)
                return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                                   "%s: a new party deals with its new_index, not 0", what);
    }
    return API_OK;
}

unsigned api_reshare_participants(const api_reshare_start *s)
{
    unsigned count = s->n;
    for (size_t i = 0; i < s->ndealers; i++)
        count += s->dealers[i].new_index == 0;
    return count;
}

api_err api_reshare_start_parse(api_reshare_start *s, const uint8_t *p, size_t len, char *msg,
                                size_t cap)
{
    static const char *const allowed[] = {"kind",    "key_id", "epoch",    "threshold",
                                          "n",       "index",  "parties",  "old",
                                          "dealers", "nonce",  "approval", NULL};
    json_int_t v;
    api_err e = API_OK;
    memset(s, 0, sizeof *s);
    json_t *root = api_jf_load(p, len, NULL, "session-start payload is empty", &e, msg, cap);
    if (!root)
        return e;
    e = api_jf_check_keys(root, "session-start", allowed, API_ERR_UNKNOWN_FIELD, msg, cap);
    json_t *kind = json_object_get(root, "kind"), *approval = json_object_get(root, "approval");
    if (e == API_OK && (!json_is_string(kind) || strcmp(json_string_value(kind), "reshare") != 0 ||
                        json_string_length(kind) != 7))
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field 'kind' must be \"reshare\"");
    if (e == API_OK && (!approval || !json_is_null(approval)))
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "field 'approval' must be null in this version");
    if (e == API_OK)
        e = api_jf_get_hex(root, "session-start", "key_id", s->key_id, 16, msg, cap);
    if (e == API_OK &&
        (e = api_jf_get_int(root, "session-start", "epoch", 1, UINT32_MAX, &v, msg, cap)) == API_OK)
        s->epoch = (uint32_t)v;
    if (e == API_OK && (e = api_jf_get_int(root, "session-start", "n", 2, API_MAX_PARTIES, &v, msg,
                                           cap)) == API_OK)
        s->n = (unsigned)v;
    if (e == API_OK &&
        (e = api_jf_get_int(root, "session-start", "threshold", 2, s->n, &v, msg, cap)) == API_OK)
        s->threshold = (unsigned)v;
    if (e == API_OK)
        e = get_parties(root, s, msg, cap);
    if (e == API_OK)
        e = get_old(root, s, msg, cap);
    json_t *dealers = json_object_get(root, "dealers");
    if (e == API_OK && (!json_is_array(dealers) || json_array_size(dealers) < s->old_threshold ||
                        json_array_size(dealers) > s->old_n))
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "field 'dealers' must list old.threshold..old.n = %u..%u dealers",
                        s->old_threshold, s->old_n);
    for (size_t i = 0; e == API_OK && i < json_array_size(dealers); i++) {
        e = get_dealer(json_array_get(dealers, i), i, s, msg, cap);
        s->ndealers = i + 1;
    }
    if (e == API_OK && api_reshare_participants(s) > API_MAX_PARTIES)
        e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                        "more than %d participants (new parties and dealers)", API_MAX_PARTIES);
    if (e == API_OK &&
        (e = api_jf_get_int(root, "session-start", "index", 1,
                            (json_int_t)api_reshare_participants(s), &v, msg, cap)) == API_OK)
        s->index = (unsigned)v;
    if (e == API_OK)
        e = api_jf_get_hex(root, "session-start", "nonce", s->nonce, 32, msg, cap);
    json_decref(root);
    if (e != API_OK)
        memset(s, 0, sizeof *s);
    return e;
}

int api_reshare_is_start(const uint8_t *p, size_t len)
{
    if (!p || len == 0)
        return 0;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *kind = root ? json_object_get(root, "kind") : NULL;
    int yes = json_is_string(kind) && json_string_length(kind) == 7 &&
              strcmp(json_string_value(kind), "reshare") == 0;
    json_decref(root);
    return yes;
}

void api_reshare_attestation_message(uint8_t out[API_RESHARE_ATTEST_MSG_BYTES],
                                     const uint8_t key_id[16], uint32_t epoch,
                                     const api_keygen_result *r)
{
    static const char tag[] = "mpc-signer/persisted/v2"; /* 23 bytes, no NUL */
    memcpy(out, tag, 23);
    memcpy(out + 23, key_id, 16);
    for (int i = 0; i < 4; i++)
        out[39 + i] = (uint8_t)(epoch >> (24 - 8 * i));
    memcpy(out + 43, r->public_key, 33);
    memcpy(out + 76, r->chain_code, 32);
    memcpy(out + 108, r->transcript_hash, 32);
}

api_err api_reshare_activate_parse(api_activate *a, uint32_t *epoch, const uint8_t *p, size_t len,
                                   char *msg, size_t cap)
{
    json_int_t v = 0;
    memset(a, 0, sizeof *a);
    *epoch = 0;
    api_err e;
    json_t *root = api_jf_load(p, len, NULL, "activate payload is empty", &e, msg, cap);
    if (!root)
        return e;
    e = json_is_object(root)
            ? api_jf_get_int(root, "activate", "epoch", 1, UINT32_MAX, &v, msg, cap)
            : api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "activate must be an object");
    char *rest = NULL;
    /* The rest is exactly a keygen activate: parsed by the one strict parser. */
    if (e == API_OK && json_object_del(root, "epoch") == 0)
        rest = json_dumps(root, JSON_COMPACT);
    if (e == API_OK && !rest)
        e = api_jf_fail(msg, cap, API_ERR_INTERNAL, "out of memory");
    if (e == API_OK)
        e = api_activate_parse(a, (const uint8_t *)rest, strlen(rest), msg, cap);
    free(rest);
    json_decref(root);
    if (e == API_OK)
        *epoch = (uint32_t)v;
    else
        memset(a, 0, sizeof *a);
    return e;
}

/* {"key_id", "epoch"} plus the fields in extra (NULL-terminated), strictly. */
static json_t *load_key_epoch(const uint8_t *p, size_t len, const char *what,
                              const char *const *allowed, uint8_t key_id[16], uint32_t *epoch,
                              api_err *e, char *msg, size_t cap)
{
    json_int_t v = 0;
    char empty[64];
    snprintf(empty, sizeof empty, "%s payload is empty", what);
    json_t *root = api_jf_load(p, len, NULL, empty, e, msg, cap);
    if (!root)
        return NULL;
    *e = api_jf_check_keys(root, what, allowed, API_ERR_UNKNOWN_FIELD, msg, cap);
    if (*e == API_OK)
        *e = api_jf_get_hex(root, what, "key_id", key_id, 16, msg, cap);
    if (*e == API_OK)
        *e = api_jf_get_int(root, what, "epoch", 0, UINT32_MAX, &v, msg, cap);
    *epoch = (uint32_t)v;
    return root;
}

api_err api_retire_parse(uint8_t key_id[16], uint32_t *epoch, const uint8_t *p, size_t len,
                         char *msg, size_t cap)
{
    static const char *const allowed[] = {"key_id", "epoch", NULL};
    api_err e;
    json_decref(load_key_epoch(p, len, "retire", allowed, key_id, epoch, &e, msg, cap));
    if (e != API_OK) {
        memset(key_id, 0, 16);
        *epoch = 0;
    }
    return e;
}

api_err api_reshare_ack_parse(uint8_t key_id[16], uint32_t *epoch, int *active, const uint8_t *p,
                              size_t len, char *msg, size_t cap)
{
    static const char *const allowed[] = {"key_id", "epoch", "status", NULL};
    api_err e;
    json_t *root = load_key_epoch(p, len, "reshare ack", allowed, key_id, epoch, &e, msg, cap);
    json_t *st = root ? json_object_get(root, "status") : NULL;
    if (e == API_OK && !json_is_string(st))
        e = api_jf_fail(msg, cap, st ? API_ERR_BAD_FIELD : API_ERR_MISSING_FIELD,
                        "reshare ack: field 'status' must be \"active\", \"retired\" or \"dealt\"");
    if (e == API_OK) {
        const char *v = json_string_value(st);
        size_t n = json_string_length(st);
        if (n == 6 && strcmp(v, "active") == 0)
            *active = 1;
        else if (n == 7 && strcmp(v, "retired") == 0)
            *active = 0;
        else if (n == 5 && strcmp(v, "dealt") == 0)
            *active = 2;
        else
            e = api_jf_fail(
                msg, cap, API_ERR_BAD_FIELD,
                "reshare ack: field 'status' must be \"active\", \"retired\" or \"dealt\"");
    }
    json_decref(root);
    if (e != API_OK) {
        memset(key_id, 0, 16);
        *epoch = 0;
        *active = 0;
    }
    return e;
}

static char *key_epoch_encode(const uint8_t key_id[16], uint32_t epoch, const char *status)
{
    char kid[33];
    api_hex_encode(kid, key_id, 16);
    json_t *o = json_pack("{s:s, s:I}", "key_id", kid, "epoch", (json_int_t)epoch);
    if (o && status && json_object_set_new(o, "status", json_string(status)) != 0) {
        json_decref(o);
        return NULL;
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *api_retire_encode(const uint8_t key_id[16], uint32_t epoch)
{
    return key_epoch_encode(key_id, epoch, NULL);
}

char *api_reshare_ack_encode(const uint8_t key_id[16], uint32_t epoch, const char *status)
{
    return status ? key_epoch_encode(key_id, epoch, status) : NULL;
}

static json_t *hex_string(const uint8_t *b, size_t len)
{
    char h[2 * 33 + 1];
    api_hex_encode(h, b, len);
    return json_string(h);
}

char *api_reshare_start_encode(const api_reshare_start *s, unsigned index)
{
    if (!s || s->nparties != s->n || s->ndealers > API_MAX_PARTIES || s->nparties > API_MAX_PARTIES)
        return NULL;
    json_t *o = json_object(), *parties = json_array(), *dealers = json_array(),
           *old = json_object();
    int bad = !o || !parties || !dealers || !old;
    for (size_t j = 0; !bad && j < s->nparties; j++)
        bad |= json_array_append_new(
                   parties, json_pack("{s:i, s:s, s:s}", "index", (int)s->parties[j].index, "id",
                                      s->parties[j].id, "cert", s->parties[j].cert)) != 0;
    for (size_t k = 0; !bad && k < s->ndealers; k++) {
        const api_reshare_dealer *d = &s->dealers[k];
        json_t *e = json_pack("{s:o, s:o, s:s, s:s, s:i}", "x", hex_string(d->x, 32), "pub",
                              hex_string(d->pub, 33), "id", d->id, "cert", d->cert, "new_index",
                              (int)d->new_index);
        bad |= json_array_append_new(dealers, e) != 0;
    }
    if (!bad)
        bad = json_object_set_new(old, "threshold", json_integer(s->old_threshold)) ||
              json_object_set_new(old, "n", json_integer(s->old_n)) ||
              json_object_set_new(old, "public_key", hex_string(s->public_key, 33)) ||
              json_object_set_new(old, "chain_code", hex_string(s->chain_code, 32)) ||
              json_object_set_new(old, "key_sid", hex_string(s->key_sid, 32)) ||
              json_object_set_new(o, "kind", json_string("reshare")) ||
              json_object_set_new(o, "key_id", hex_string(s->key_id, 16)) ||
              json_object_set_new(o, "epoch", json_integer(s->epoch)) ||
              json_object_set_new(o, "threshold", json_integer(s->threshold)) ||
              json_object_set_new(o, "n", json_integer(s->n)) ||
              json_object_set_new(o, "index", json_integer(index)) ||
              json_object_set_new(o, "parties", parties) || json_object_set_new(o, "old", old) ||
              json_object_set_new(o, "dealers", dealers) ||
              json_object_set_new(o, "nonce", hex_string(s->nonce, 32)) ||
              json_object_set_new(o, "approval", json_null());
    else {
        json_decref(parties);
        json_decref(dealers);
        json_decref(old);
    }
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT);
    json_decref(o);
    api_reshare_start *check = text ? malloc(sizeof *check) : NULL;
    if (text && (!check || api_reshare_start_parse(check, (const uint8_t *)text, strlen(text), NULL,
                                                   0) != API_OK)) {
        free(text);
        text = NULL;
    }
    free(check);
    return text;
}

static int key_public_valid(const api_key_public *kp)
{
    if (kp->count < 2 || kp->count > API_MAX_PARTIES)
        return 0;
    for (size_t j = 0; j < kp->count; j++)
        if (kp->public_shares[j][0] != 0x02 && kp->public_shares[j][0] != 0x03)
            return 0;
    return 1;
}

char *api_key_public_attach(char *json, const api_key_public *kp)
{
    json_t *o = json ? json_loads(json, 0, NULL) : NULL, *shares = json_array();
    free(json);
    char *out = NULL;
    if (o && shares && kp && json_is_object(o) && key_public_valid(kp)) {
        int bad = 0;
        for (size_t j = 0; j < kp->count; j++)
            bad |= json_array_append_new(shares, hex_string(kp->public_shares[j], 33)) != 0;
        json_t *k = bad ? NULL
                        : json_pack("{s:o, s:I, s:O}", "key_sid", hex_string(kp->key_sid, 32),
                                    "epoch", (json_int_t)kp->epoch, "public_shares", shares);
        if (k && json_object_set_new(o, "key", k) == 0)
            out = json_dumps(o, JSON_COMPACT);
    }
    json_decref(shares);
    json_decref(o);
    return out;
}

api_err api_key_public_get(api_key_public *kp, int *present, const uint8_t *p, size_t len,
                           char *msg, size_t cap)
{
    static const char *const allowed[] = {"key_sid", "epoch", "public_shares", NULL};
    json_int_t v = 0;
    memset(kp, 0, sizeof *kp);
    *present = 0;
    api_err e;
    json_t *root = api_jf_load(p, len, NULL, "result payload is empty", &e, msg, cap);
    if (!root)
        return e;
    json_t *k = json_is_object(root) ? json_object_get(root, "key") : NULL;
    e = json_is_object(root)
            ? API_OK
            : api_jf_fail(msg, cap, API_ERR_BAD_JSON, "result must be a JSON object");
    if (e == API_OK && k) {
        *present = 1;
        e = api_jf_check_keys(k, "key", allowed, API_ERR_UNKNOWN_FIELD, msg, cap);
        if (e == API_OK)
            e = api_jf_get_hex(k, "key", "key_sid", kp->key_sid, 32, msg, cap);
        if (e == API_OK &&
            (e = api_jf_get_int(k, "key", "epoch", 0, UINT32_MAX, &v, msg, cap)) == API_OK)
            kp->epoch = (uint32_t)v;
        json_t *a = json_object_get(k, "public_shares");
        if (e == API_OK &&
            (!json_is_array(a) || json_array_size(a) < 2 || json_array_size(a) > API_MAX_PARTIES))
            e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                            "key: field 'public_shares' must be an array of 2..%d points",
                            API_MAX_PARTIES);
        for (size_t j = 0; e == API_OK && j < json_array_size(a); j++) {
            json_t *h = json_array_get(a, j);
            if (!json_is_string(h) || json_string_length(h) != 66 ||
                api_hex_decode(kp->public_shares[j], 33, json_string_value(h), 66) != API_OK ||
                (kp->public_shares[j][0] != 0x02 && kp->public_shares[j][0] != 0x03))
                e = api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                                "key: public_shares[%zu] must be a compressed point (66 hex)", j);
            kp->count = j + 1;
        }
    }
    json_decref(root);
    if (e != API_OK) {
        memset(kp, 0, sizeof *kp);
        *present = 0;
    }
    return e;
}
