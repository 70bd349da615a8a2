/* daemon/hubd/head.h — the strict HTTP/1.1 request-head parser of the REST port. It owns
 * the syntax of what a client sends before a body: request line, header fields, and the
 * framing fields (Content-Length, Transfer-Encoding). Routing, auth and bodies are not
 * here (http.c, rest.c). Pure functions on a buffer: no I/O, no allocation; the fuzz
 * target daemon/hubd/fuzz/fuzz_head.c reaches every path.
 *
 * Why a parser of our own (DESIGN.md prefers packages): libwebsockets 4.1.6 decides on
 * `OPTIONS *`, absolute-form targets, `%00` and oversized heads before any callback, and
 * accepts bare LF; Debian's http-parser 2.9.4 is built non-strict (it accepts bare LF and
 * obs-fold too), so a pre-scan for exactly those cases would be needed around it anyway.
 * What the hub accepts is small: GET/POST/PUT/DELETE, an origin-form target, CRLF lines, at most
 * HUB_HEAD_MAX bytes and HUB_HEAD_MAX_FIELDS fields, Content-Length only. */
#ifndef HUB_HEAD_H
#define HUB_HEAD_H

#include <stddef.h>
#include <stdint.h>

/* The whole request head (request line, fields, the empty line) must fit in this many
 * bytes; a longer one is answered 431 (api/openapi.yaml documents the limit). */
#define HUB_HEAD_MAX        8192
#define HUB_HEAD_MAX_FIELDS 64
#define HUB_HEAD_MAX_ARGS   16

typedef enum {
    HUB_HEAD_OK = 0,
    HUB_HEAD_INCOMPLETE, /* no empty line yet, and nothing wrong so far: read more */
    HUB_HEAD_BAD,        /* 400 bad_request: syntax, bare LF, %00, absolute-form... */
    HUB_HEAD_TOO_LARGE,  /* 431: the head exceeds HUB_HEAD_MAX or HUB_HEAD_MAX_FIELDS */
    HUB_HEAD_METHOD,     /* 405: a method other than GET and POST (also OPTIONS *) */
    HUB_HEAD_VERSION,    /* 505: not HTTP/1.0 or HTTP/1.1 */
    HUB_HEAD_FRAMING,    /* 400: Transfer-Encoding, bad or repeated Content-Length */
} hub_head_err;

typedef enum {
    HUB_METHOD_OTHER = 0,
    HUB_METHOD_GET,
    HUB_METHOD_POST,
    HUB_METHOD_PUT,
    HUB_METHOD_DELETE
} hub_method;

typedef struct {
    const char *name;  /* lower-cased, NUL-terminated (inside the parsed buffer) */
    const char *value; /* NUL-terminated, leading and trailing blanks removed */
} hub_head_field;

typedef struct {
    size_t head_len; /* bytes of the head including the empty line: the body starts here */
    hub_method method;
    char method_name[16]; /* as sent (for messages), truncated */
    int minor;            /* HTTP/1.minor: 0 or 1 */
    hub_head_field fields[HUB_HEAD_MAX_FIELDS];
    size_t nfields;
    int has_content_length;
    uint64_t content_length;
    int keep_alive; /* HTTP/1.1 without "Connection: close" */
    int expect_continue;
    const char *upgrade; /* the Upgrade field, or NULL */
    const char *path;    /* percent-decoded path: no NUL or control bytes in it */
    size_t nargs;
    const char *args[HUB_HEAD_MAX_ARGS]; /* the query split at '&', each percent-decoded */
    char msg[160];  /* for a person: what is wrong (no request bytes beyond the method) */
    size_t scanned; /* bytes an earlier call found fine (see hub_head_init) */
    char store[HUB_HEAD_MAX + 1]; /* a copy of the head that the pointers above point into */
} hub_head;

/* Starts a new request head: call before the first hub_head_parse of each request. */
void hub_head_init(hub_head *h);

/* Parses the request head at the start of buf[0..len) (buf is not modified; out keeps a
 * copy of the head, and every pointer in out points into that copy). Returns HUB_HEAD_INCOMPLETE
 * while the head may still be valid once more bytes arrive (len < HUB_HEAD_MAX and no error seen in
 * the bytes so far); an error as soon as the bytes so far prove it (a bare LF, a bad request line),
 * so a client that sends garbage slowly is answered without waiting for its empty line. out->msg
 * says why. */
hub_head_err hub_head_parse(hub_head *out, const char *buf, size_t len);

/* The HTTP status and the stable error code of a parse result (200/"" for OK). */
int hub_head_status(hub_head_err e);
const char *hub_head_code(hub_head_err e);
const char *hub_head_strerror(hub_head_err e);

/* The value of a field by lower-case name, or NULL; *count gets how many times it appears
 * (may be NULL). */
const char *hub_head_get(const hub_head *h, const char *name, unsigned *count);

#endif
