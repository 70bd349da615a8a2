/* api/jfield.h — the strict-JSON field readers shared by api/json.c, api/reshare.c and
 * api/import.c: one place for "load one payload", "every key is allowed", "an integer in
 * lo..hi", "exactly this many hex bytes", "a string". INTERNAL to api/: not part of the
 * public API surface (the daemons and mpcctl include json.h, reshare.h, import.h, never
 * this), so it may change with its three callers.
 *
 * Conventions, for every function here:
 * - msg/cap: where the message for people goes (always NUL-terminated when cap > 0;
 *   msg NULL or cap 0: no message). The message names the field and never carries its
 *   value beyond what the contract allows (unknown keys are cut to 40 characters).
 * - what: the name of the object in messages ("session-start", "dealers[2]", "old"). With
 *   what NULL the message has no prefix: "field 'n' is required"; with what "old":
 *   "old: field 'n' is required". The callers' messages are part of their contracts
 *   (tests check them), so each caller passes the what and the error codes it needs.
 * - Nothing here keeps state or allocates except api_jf_load (the caller owns its result). */
#ifndef API_JFIELD_H
#define API_JFIELD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

/* Formats the message (printf-style) into msg when msg && cap, and returns err unchanged:
 * `return api_jf_fail(msg, cap, API_ERR_BAD_FIELD, "field '%s' ...", name);`. */
api_err api_jf_fail(char *msg, size_t cap, api_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses text[0..len) as one JSON value with duplicate keys rejected and nothing after it
 * (whitespace around it allowed). Returns the value (the caller json_decref's it) with
 * *err = API_OK, or NULL with *err = API_ERR_BAD_JSON and the message:
 *   text NULL or len 0: `empty` exactly (the caller's words, e.g. "activate payload is
 *   empty"); invalid JSON: "[what: ]invalid JSON at line L column C: <jansson's text>".
 * It does not check that the value is an object: the callers differ in how they say so. */
json_t *api_jf_load(const void *text, size_t len, const char *what, const char *empty, api_err *err,
                    char *msg, size_t cap);

/* The first key of o (in jansson's iteration order) that is not in allowed
 * (NULL-terminated), or NULL when every key is allowed or o is not an object. The
 * returned string belongs to o. */
const char *api_jf_unknown_key(json_t *o, const char *const *allowed);

/* o is an object whose keys are all in allowed (NULL-terminated).
 *   o not an object: API_ERR_BAD_FIELD, "<what> must be an object" (what must not be NULL
 *   for an o that may not be an object);
 *   an unknown key k: `unknown` (the caller's contract: API_ERR_UNKNOWN_FIELD for the REST
 *   and party-link payloads, API_ERR_BAD_FIELD for the import contract),
 *   "[what: ]unknown field '<k, at most 40 characters>'". */
api_err api_jf_check_keys(json_t *o, const char *what, const char *const *allowed, api_err unknown,
                          char *msg, size_t cap);

/* The integer field name of o, lo <= value <= hi, into *out (untouched on failure).
 *   missing: API_ERR_MISSING_FIELD, "[what: ]field '<name>' is required";
 *   not an integer or out of range: API_ERR_BAD_FIELD,
 *   "[what: ]field '<name>' must be an integer in <lo>..<hi>". */
api_err api_jf_get_int(json_t *o, const char *what, const char *name, json_int_t lo, json_int_t hi,
                       json_int_t *out, char *msg, size_t cap);

/* api_jf_get_int into an unsigned. Needs 0 <= lo and hi <= UINT_MAX. */
api_err api_jf_get_uint(json_t *o, const char *what, const char *name, json_int_t lo, json_int_t hi,
                        unsigned *out, char *msg, size_t cap);

/* The string field name of o: *s = its value (owned by o; may hold NUL bytes: compare
 * strlen(*s) with *n where that matters), *n = its length in bytes. When it is absent:
 * required: API_ERR_MISSING_FIELD, "[what: ]field '<name>' is required"; otherwise API_OK
 * with *s = NULL, *n = 0. Not a string: API_ERR_BAD_FIELD,
 * "[what: ]field '<name>' must be a string" (and *s = NULL, *n = 0). */
api_err api_jf_get_string(json_t *o, const char *what, const char *name, int required,
                          const char **s, size_t *n, char *msg, size_t cap);

/* A required string of 1..max bytes without NUL bytes, copied with its NUL into out
 * (room for max + 1 bytes; untouched on failure).
 *   missing: API_ERR_MISSING_FIELD, "[what: ]field '<name>' is required";
 *   otherwise wrong: API_ERR_BAD_FIELD,
 *   "[what: ]field '<name>' must be a string of 1..<max> bytes". */
api_err api_jf_get_text(json_t *o, const char *what, const char *name, size_t max, char *out,
                        char *msg, size_t cap);

/* A required string of exactly 2 * len hex digits (api_hex_decode: no prefix, either case)
 * decoded into out[0..len) (untouched on failure).
 *   missing: API_ERR_MISSING_FIELD, "[what: ]field '<name>' is required";
 *   not a string, wrong length or not hex: API_ERR_BAD_FIELD,
 *   "[what: ]field '<name>' must be <2*len> hex characters".
 * (The REST codecs in json.c tell length from digits apart, with API_ERR_BAD_LENGTH and
 * API_ERR_BAD_HEX, on top of api_jf_get_string.) */
api_err api_jf_get_hex(json_t *o, const char *what, const char *name, uint8_t *out, size_t len,
                       char *msg, size_t cap);

/* 1 if b[0..n) is all zero bytes. Constant time in the contents (an OR over all of them),
 * so it may be used on secret scalars. */
int api_jf_all_zero(const uint8_t *b, size_t n);

#endif
