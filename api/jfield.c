/* api/jfield.c — the strict-JSON field readers of api/ (see jfield.h, internal to api/).
 * What lives here: one field at a time, with the message that names it. What does not:
 * any payload's shape or cross-field rule (json.c, reshare.c, import.c own those). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "jfield.h"

/* The "what: " prefix of a message, as two %s arguments (both "" when what is NULL). */
#define LEAD(what) (what) ? (what) : "", (what) ? ": " : ""

api_err api_jf_fail(char *msg, size_t cap, api_err err, const char *fmt, ...)
{
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return err;
}

json_t *api_jf_load(const void *text, size_t len, const char *what, const char *empty, api_err *err,
                    char *msg, size_t cap)
{
    json_error_t je;
    if (!text || len == 0) {
        *err = api_jf_fail(msg, cap, API_ERR_BAD_JSON, "%s", empty);
        return NULL;
    }
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        *err = api_jf_fail(msg, cap, API_ERR_BAD_JSON, "%s%sinvalid JSON at line %d column %d: %s",
                           LEAD(what), je.line, je.column, je.text);
        return NULL;
    }
    *err = API_OK;
    return v;
}

const char *api_jf_unknown_key(json_t *o, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        size_t a = 0;
        while (allowed[a] && strcmp(allowed[a], k) != 0)
            a++;
        if (!allowed[a])
            return k;
    }
    return NULL;
}

api_err api_jf_check_keys(json_t *o, const char *what, const char *const *allowed, api_err unknown,
                          char *msg, size_t cap)
{
    if (!json_is_object(o))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s must be an object",
                           what ? what : "value");
    const char *k = api_jf_unknown_key(o, allowed);
    if (k)
        return api_jf_fail(msg, cap, unknown, "%s%sunknown field '%.40s'", LEAD(what), k);
    return API_OK;
}

api_err api_jf_get_int(json_t *o, const char *what, const char *name, json_int_t lo, json_int_t hi,
                       json_int_t *out, char *msg, size_t cap)
{
    json_t *v = json_object_get(o, name);
    if (!v)
        return api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "%s%sfield '%s' is required",
                           LEAD(what), name);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "%s%sfield '%s' must be an integer in %lld..%lld", LEAD(what), name,
                           (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return API_OK;
}

api_err api_jf_get_uint(json_t *o, const char *what, const char *name, json_int_t lo, json_int_t hi,
                        unsigned *out, char *msg, size_t cap)
{
    json_int_t v;
    api_err e = api_jf_get_int(o, what, name, lo, hi, &v, msg, cap);
    if (e == API_OK)
        *out = (unsigned)v;
    return e;
}

api_err api_jf_get_string(json_t *o, const char *what, const char *name, int required,
                          const char **s, size_t *n, char *msg, size_t cap)
{
    json_t *v = json_object_get(o, name);
    *s = NULL;
    *n = 0;
    if (!v)
        return required ? api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "%s%sfield '%s' is required",
                                      LEAD(what), name)
                        : API_OK;
    if (!json_is_string(v))
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s%sfield '%s' must be a string",
                           LEAD(what), name);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return API_OK;
}

api_err api_jf_get_text(json_t *o, const char *what, const char *name, size_t max, char *out,
                        char *msg, size_t cap)
{
    json_t *v = json_object_get(o, name);
    if (!v)
        return api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "%s%sfield '%s' is required",
                           LEAD(what), name);
    size_t n = json_is_string(v) ? json_string_length(v) : 0;
    if (!json_is_string(v) || n == 0 || n > max || strlen(json_string_value(v)) != n)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD,
                           "%s%sfield '%s' must be a string of 1..%zu bytes", LEAD(what), name,
                           max);
    memcpy(out, json_string_value(v), n + 1);
    return API_OK;
}

api_err api_jf_get_hex(json_t *o, const char *what, const char *name, uint8_t *out, size_t len,
                       char *msg, size_t cap)
{
    json_t *v = json_object_get(o, name);
    if (!v)
        return api_jf_fail(msg, cap, API_ERR_MISSING_FIELD, "%s%sfield '%s' is required",
                           LEAD(what), name);
    if (!json_is_string(v) ||
        api_hex_decode(out, len, json_string_value(v), json_string_length(v)) != API_OK)
        return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "%s%sfield '%s' must be %zu hex characters",
                           LEAD(what), name, 2 * len);
    return API_OK;
}

int api_jf_all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}
