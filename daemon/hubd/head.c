/* daemon/hubd/head.c — strict HTTP/1.1 request heads (RFC 9112 syntax, narrowed to what the
 * REST API needs). Two steps: a scan of the bytes received so far (line endings, control
 * bytes, size) that can refuse a head before it is complete, then the parse of a complete
 * head in a private copy (request line, fields, framing). See head.h for why this is ours. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "head.h"

int hub_head_status(hub_head_err e)
{
    switch (e) {
    case HUB_HEAD_OK:
    case HUB_HEAD_INCOMPLETE:
        return 200;
    case HUB_HEAD_TOO_LARGE:
        return 431;
    case HUB_HEAD_METHOD:
        return 405;
    case HUB_HEAD_VERSION:
        return 505;
    case HUB_HEAD_BAD:
    case HUB_HEAD_FRAMING:
        break;
    }
    return 400;
}

const char *hub_head_code(hub_head_err e)
{
    switch (e) {
    case HUB_HEAD_OK:
    case HUB_HEAD_INCOMPLETE:
        return "";
    case HUB_HEAD_TOO_LARGE:
        return "request_header_fields_too_large";
    case HUB_HEAD_METHOD:
        return "method_not_allowed";
    case HUB_HEAD_VERSION:
        return "http_version_not_supported";
    case HUB_HEAD_BAD:
    case HUB_HEAD_FRAMING:
        break;
    }
    return "bad_request";
}

const char *hub_head_strerror(hub_head_err e)
{
    switch (e) {
    case HUB_HEAD_OK:
        return "ok";
    case HUB_HEAD_INCOMPLETE:
        return "request head incomplete";
    case HUB_HEAD_BAD:
        return "malformed request head";
    case HUB_HEAD_TOO_LARGE:
        return "request head too large";
    case HUB_HEAD_METHOD:
        return "method not allowed";
    case HUB_HEAD_VERSION:
        return "HTTP version not supported";
    case HUB_HEAD_FRAMING:
        return "request framing refused";
    }
    return "?";
}

static hub_head_err fail(hub_head *h, hub_head_err e, const char *msg)
{
    snprintf(h->msg, sizeof h->msg, "%s", msg);
    return e;
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s in place. Refuses malformed escapes and anything that decodes to a
 * control byte (%00 above all: C strings end there). plus_space: '+' means ' ' (query). */
static int pct_decode(char *s, int plus_space)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        unsigned char c = (unsigned char)*r;
        if (c == '%') {
            int hi = hexval((unsigned char)r[1]), lo = hi < 0 ? -1 : hexval((unsigned char)r[2]);
            if (lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            r += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        *w++ = (char)c;
    }
    *w = 0;
    return 0;
}

/* Step 1 on the bytes so far: every line ends in CRLF, no NUL or control bytes other than
 * HTAB, and the head ends within HUB_HEAD_MAX. Sets *end to the length of the head
 * (through the empty line) once it is complete, *skip to the empty lines before it.
 * Resumable: every check looks at most 3 bytes back and 1 ahead, so bytes before
 * h->scanned (checked by an earlier call on the same, shorter input) are not looked at
 * again; a head trickled in byte by byte costs linear time, not quadratic. */
static hub_head_err scan(hub_head *h, const char *buf, size_t len, size_t *skip, size_t *end)
{
    size_t i = 0, n = len < HUB_HEAD_MAX ? len : HUB_HEAD_MAX;
    /* RFC 9112 2.2: empty lines before the request line are ignored (a few). */
    while (i + 1 < n && i < 8 && buf[i] == '\r' && buf[i + 1] == '\n')
        i += 2;
    *skip = i;
    if (h->scanned > i)
        i = h->scanned;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n') {
            if (i == 0 || buf[i - 1] != '\r')
                return fail(h, HUB_HEAD_BAD, "every line must end in CRLF (a bare LF was sent)");
            if (i >= *skip + 3 && buf[i - 3] == '\r' && buf[i - 2] == '\n') {
                *end = i + 1; /* buf[i-1] is '\r': CRLF CRLF */
                return HUB_HEAD_OK;
            }
            continue;
        }
        if (c == '\r') {
            if (i + 1 == n)
                break; /* the LF may come with the next read: look at this CR again */
            if (buf[i + 1] != '\n')
                return fail(h, HUB_HEAD_BAD, "a CR not followed by LF in the request head");
            continue;
        }
        if (c == 0)
            return fail(h, HUB_HEAD_BAD, "a NUL byte in the request head");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(h, HUB_HEAD_BAD, "a control character in the request head");
    }
    if (len >= HUB_HEAD_MAX) {
        char m[96];
        snprintf(m, sizeof m, "the request head exceeds %u bytes", HUB_HEAD_MAX);
        return fail(h, HUB_HEAD_TOO_LARGE, m);
    }
    h->scanned = i;
    return HUB_HEAD_INCOMPLETE;
}

/* The request line in s (NUL-terminated, CRLF removed). */
static hub_head_err request_line(hub_head *h, char *s)
{
    char *sp1 = strchr(s, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1 == s || sp2 == sp1 + 1)
        return fail(h, HUB_HEAD_BAD, "the request line must be METHOD SP path SP HTTP/1.1");
    *sp1 = *sp2 = 0;
    for (char *p = s; *p; p++)
        if (!is_tchar((unsigned char)*p))
            return fail(h, HUB_HEAD_BAD, "the method is not a token");
    snprintf(h->method_name, sizeof h->method_name, "%s", s);
    const char *ver = sp2 + 1;
    if (strncmp(ver, "HTTP/1.", 7) != 0 || (ver[7] != '0' && ver[7] != '1') || ver[8])
        return fail(h, HUB_HEAD_VERSION, "only HTTP/1.1 (and HTTP/1.0) is served");
    h->minor = ver[7] - '0';
    h->method = strcmp(s, "GET") == 0      ? HUB_METHOD_GET
                : strcmp(s, "POST") == 0   ? HUB_METHOD_POST
                : strcmp(s, "PUT") == 0    ? HUB_METHOD_PUT
                : strcmp(s, "DELETE") == 0 ? HUB_METHOD_DELETE
                                           : HUB_METHOD_OTHER;
    char *target = sp1 + 1;
    if (h->method == HUB_METHOD_OTHER) {
        char m[112];
        snprintf(m, sizeof m,
                 "method %s is not served; the REST API accepts GET, POST, PUT and DELETE",
                 h->method_name);
        return fail(h, HUB_HEAD_METHOD, m);
    }
    if (target[0] != '/')
        return fail(h, HUB_HEAD_BAD,
                    "the request target must be a path (origin-form), not an absolute URI, "
                    "an authority or '*'");
    for (char *p = target; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '#')
            return fail(h, HUB_HEAD_BAD, "the request target has a character that is not allowed");
    char *q = strchr(target, '?');
    if (q)
        *q++ = 0;
    if (pct_decode(target, 0) != 0)
        return fail(h, HUB_HEAD_BAD,
                    "the path has a malformed %-escape or one that decodes to a control "
                    "character (such as %00)");
    h->path = target;
    h->nargs = 0;
    while (q && *q) {
        char *amp = strchr(q, '&');
        if (amp)
            *amp = 0;
        if (*q) {
            if (h->nargs == HUB_HEAD_MAX_ARGS)
                return fail(h, HUB_HEAD_BAD, "too many query parameters");
            if (pct_decode(q, 1) != 0)
                return fail(h, HUB_HEAD_BAD,
                            "the query has a malformed %-escape or one that decodes to a "
                            "control character (such as %00)");
            h->args[h->nargs++] = q;
        }
        q = amp ? amp + 1 : NULL;
    }
    return HUB_HEAD_OK;
}

/* One field line in s (NUL-terminated, CRLF removed). */
static hub_head_err field_line(hub_head *h, char *s)
{
    if (s[0] == ' ' || s[0] == '\t')
        return fail(h, HUB_HEAD_BAD, "folded header lines (obs-fold) are not accepted");
    char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return fail(h, HUB_HEAD_BAD, "a header line without 'name:'");
    *colon = 0;
    for (char *p = s; *p; p++) {
        if (!is_tchar((unsigned char)*p))
            return fail(h, HUB_HEAD_BAD,
                        "a header name with a character that is not allowed (no space "
                        "before ':')");
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 'a' - 'A');
    }
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        v[--vl] = 0;
    if (h->nfields == HUB_HEAD_MAX_FIELDS) {
        char m[96];
        snprintf(m, sizeof m, "more than %u header fields", HUB_HEAD_MAX_FIELDS);
        return fail(h, HUB_HEAD_TOO_LARGE, m);
    }
    h->fields[h->nfields].name = s;
    h->fields[h->nfields].value = v;
    h->nfields++;
    return HUB_HEAD_OK;
}

const char *hub_head_get(const hub_head *h, const char *name, unsigned *count)
{
    const char *v = NULL;
    unsigned n = 0;
    for (size_t i = 0; i < h->nfields; i++)
        if (strcmp(h->fields[i].name, name) == 0) {
            if (!n)
                v = h->fields[i].value;
            n++;
        }
    if (count)
        *count = n;
    return v;
}

/* 1 if the comma-separated list v holds token (case-insensitive). */
static int list_has(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        size_t l = strcspn(v, ",");
        size_t t = l;
        while (t && (v[t - 1] == ' ' || v[t - 1] == '\t'))
            t--;
        if (t == tl && strncasecmp(v, token, tl) == 0)
            return 1;
        v += l;
    }
    return 0;
}

/* Content-Length: 1 to 19 decimal digits, no sign, no leading zero (except "0" itself). */
static int content_length(const char *s, uint64_t *out)
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

/* Framing and the fields the transport acts on. */
static hub_head_err semantics(hub_head *h)
{
    unsigned ncl, nte, nhost;
    const char *cl = hub_head_get(h, "content-length", &ncl);
    hub_head_get(h, "transfer-encoding", &nte);
    hub_head_get(h, "host", &nhost);
    if (nte && ncl)
        return fail(h, HUB_HEAD_FRAMING,
                    "send either Content-Length or Transfer-Encoding, never both");
    if (nte)
        return fail(h, HUB_HEAD_FRAMING,
                    "Transfer-Encoding is not accepted: send the body with Content-Length");
    if (ncl > 1 || (cl && content_length(cl, &h->content_length) != 0))
        return fail(h, HUB_HEAD_FRAMING,
                    "Content-Length must be one decimal number without sign or leading zeros");
    h->has_content_length = ncl == 1;
    if (nhost > 1)
        return fail(h, HUB_HEAD_BAD, "more than one Host field");
    h->keep_alive = h->minor == 1;
    for (size_t i = 0; i < h->nfields; i++)
        if (strcmp(h->fields[i].name, "connection") == 0 && list_has(h->fields[i].value, "close"))
            h->keep_alive = 0;
    const char *expect = hub_head_get(h, "expect", NULL);
    h->expect_continue = expect && strcasecmp(expect, "100-continue") == 0;
    h->upgrade = hub_head_get(h, "upgrade", NULL);
    return HUB_HEAD_OK;
}

void hub_head_init(hub_head *h)
{
    h->scanned = 0;
}

hub_head_err hub_head_parse(hub_head *out, const char *buf, size_t len)
{
    size_t skip = 0, end = 0;
    out->msg[0] = 0;
    out->nfields = 0;
    out->nargs = 0;
    out->path = NULL;
    out->upgrade = NULL;
    out->method = HUB_METHOD_OTHER;
    out->method_name[0] = 0;
    out->has_content_length = 0;
    out->content_length = 0;
    out->keep_alive = 0;
    out->expect_continue = 0;
    out->head_len = 0;
    hub_head_err e = scan(out, buf, len, &skip, &end);
    if (e != HUB_HEAD_OK)
        return e;
    /* A private copy, CRLFs turned into NULs: every line is a C string. */
    memcpy(out->store, buf, end);
    out->store[end] = 0;
    out->head_len = end;
    char *p = out->store + skip, *stop = out->store + end - 2; /* the final CRLF */
    for (int first = 1; p < stop; first = 0) {
        char *eol = strstr(p, "\r\n");
        eol[0] = eol[1] = 0;
        e = first ? request_line(out, p) : field_line(out, p);
        if (e != HUB_HEAD_OK)
            return e;
        p = eol + 2;
    }
    if (!out->path)
        return fail(out, HUB_HEAD_BAD, "no request line");
    return semantics(out);
}
