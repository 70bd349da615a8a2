/* daemon/hubd/rest.c — the REST port's transport: a libuv TCP listener, TLS with OpenSSL
 * on memory BIOs, request heads (head.c), bodies by Content-Length, keep-alive, a deadline
 * for every connection state, and the writing of answers. What a request means (auth,
 * routes, sessions) is http.c's; the party link stays on libwebsockets (link.c).
 *
 * Why not libwebsockets here: lws 4.1.6's HTTP/1 parser answers some requests itself (an
 * HTML 403 for `OPTIONS *` and absolute-form targets, a bare close for `%00` and heads
 * over its header buffer) and accepts bare LF, all before any callback (issue 18).
 *
 * A connection's life: TLS handshake, then HEAD (reading a request head) -> HANDLER (http.c
 * has the request; it may ask for the BODY, park the request on a session, or answer) ->
 * the answer is written -> HEAD again (keep-alive) or CLOSING (close_notify, FIN, a short
 * linger that discards what the client still sends, then close). One request at a time:
 * bytes of a pipelined request wait in the buffer until the answer before it is written.
 * Deadlines (one timer per connection): handshake + first head within header_timeout of
 * the accept; a later head within header_timeout of its first byte; idle keep-alive
 * idle_timeout; a whole body body_timeout (408); an answer the client does not read
 * body_timeout; a parked ?wait request the wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "daemon/common/log.h"
#include "daemon/common/log_limit.h"
#include "hub.h"

/* Plaintext kept beyond what the current request needs (pipelined bytes): reading from
 * the socket pauses above this, so a client cannot make the hub buffer without bound. */
#define REST_IN_MAX    (HUB_HEAD_MAX + 64 * 1024)
#define REST_LINGER_MS 500

typedef enum { RS_TLS, RS_HEAD, RS_BODY, RS_HANDLER, RS_CLOSING } rest_state;
typedef enum { T_NONE, T_HEADER, T_IDLE, T_BODY, T_WAIT, T_WRITE, T_LINGER } rest_timer;

struct hub_rconn {
    struct hub_rconn *next, *prev; /* all open connections, for hub_rest_stop */
    hub *h;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shut;
    SSL *ssl;
    BIO *rbio, *wbio; /* ciphertext in from the socket, out to it (owned by ssl) */
    struct hub_req *req;
    rest_state st;
    rest_timer tk;
    char *in; /* plaintext received and not yet consumed */
    size_t in_len, in_cap;
    hub_head *head;       /* the current request's head, from its first byte until its answer is
                           * written (NULL while idle) */
    uint64_t body_unread; /* announced body bytes not yet consumed */
    uint64_t body_want;
    char *body; /* kept body bytes (when http.c wants them) */
    size_t body_len;
    int body_keep;
    int refuse_body;  /* http.c will not keep a body the client has not sent yet */
    int keep_alive;   /* another request may follow the current answer */
    int close_after;  /* the current answer ends the connection */
    int resp_pending; /* an answer is queued: counted in h->responses_pending */
    int read_paused, eof, closing, handles;
    unsigned writes; /* uv_write requests in flight */
    uint64_t start_ms;
    char peer[64];
};

struct hub_rest {
    uv_poll_t listener; /* accept(2) is ours: libuv's hides EMFILE (it drops silently) */
    int fd;
    SSL_CTX *ctx;
    struct hub_rconn *conns;
    int listening;
};

static char read_buf[64 * 1024]; /* one loop thread: every read is consumed at once */

static void conn_close(struct hub_rconn *c);
static void process(struct hub_rconn *c);
static void pump(struct hub_rconn *c);
static void linger(struct hub_rconn *c);
static int flush_tls(struct hub_rconn *c);

static void timer_start(struct hub_rconn *c, rest_timer tk, uint64_t ms);

static void on_timer(uv_timer_t *t);
static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void timer_start(struct hub_rconn *c, rest_timer tk, uint64_t ms)
{
    c->tk = tk;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void timer_stop(struct hub_rconn *c)
{
    c->tk = T_NONE;
    uv_timer_stop(&c->timer);
}

/* --- writing --- */

static void on_write(uv_write_t *w, int status)
{
    struct hub_rconn *c = w->data;
    free(w);
    c->writes--;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->writes || !c->resp_pending)
        return;
    /* The answer is out (in the kernel's hands). */
    c->resp_pending = 0;
    c->h->responses_pending--;
    timer_stop(c);
    hub_http_written(c->req); /* e.g. a delegate share counts as handed now */
    if (c->close_after || c->eof || c->h->stopping) {
        SSL_shutdown(c->ssl); /* close_notify; the peer's is not waited for */
        if (flush_tls(c) == 0)
            linger(c);
        return;
    }
    c->st = RS_HEAD;
    c->start_ms = hub_now_ms();
    if (!c->in_len) { /* idle: give the buffers back (keep-alive connections are many) */
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
        free(c->head); /* http.c is done with it: the answer is written */
        c->head = NULL;
    }
    timer_start(c, c->in_len ? T_HEADER : T_IDLE,
                (uint64_t)(c->in_len ? c->h->cfg.header_timeout : c->h->cfg.idle_timeout) * 1000);
    process(c);
    if (!c->closing && c->read_paused)
        pump(c); /* what OpenSSL already holds, then the socket again */
}

/* Sends whatever OpenSSL has produced. Returns 0, or -1 (the connection is closed). */
static int flush_tls(struct hub_rconn *c)
{
    size_t n;
    while ((n = BIO_ctrl_pending(c->wbio)) > 0) {
        uv_write_t *w = malloc(sizeof *w + n);
        if (!w) {
            conn_close(c);
            return -1;
        }
        char *p = (char *)(w + 1);
        int got = BIO_read(c->wbio, p, (int)n);
        uv_buf_t b = uv_buf_init(p, got > 0 ? (unsigned)got : 0);
        w->data = c;
        if (got <= 0 || uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
            free(w);
            conn_close(c);
            return -1;
        }
        c->writes++;
    }
    return 0;
}

static int tls_write(struct hub_rconn *c, const void *data, size_t len)
{
    /* A memory BIO takes everything: SSL_write completes or fails, it never waits. */
    if (len && SSL_write(c->ssl, data, (int)len) != (int)len) {
        ERR_clear_error();
        conn_close(c);
        return -1;
    }
    return flush_tls(c);
}

static const char *reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Unknown";
}

/* Answers may carry secrets (a delegate share): every plaintext copy is wiped. */
static void wipe_free(char *p, size_t len)
{
    if (p)
        OPENSSL_cleanse(p, len);
    free(p);
}

void hub_rest_respond(struct hub_rconn *c, int status, const char *ctype, char *body,
                      int close_after)
{
    hub *h = c->h;
    size_t blen = body ? strlen(body) : 0;
    if (c->closing || c->resp_pending || c->st == RS_CLOSING) {
        wipe_free(body, blen); /* one answer per request */
        return;
    }
    /* An announced body not read to its end: its bytes must never be taken for the next
     * request, so the connection ends with this answer. */
    if (close_after || c->body_unread || !c->keep_alive || h->stopping)
        c->close_after = 1;
    char head[768];
    int hl =
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n"
                 "cache-control: no-store\r\nx-content-type-options: nosniff\r\n"
                 "x-frame-options: deny\r\nreferrer-policy: no-referrer\r\n"
                 "content-security-policy: default-src 'none'; frame-ancestors 'none'\r\n"
                 "strict-transport-security: max-age=15768000\r\n%s%s%s%s\r\n",
                 status, reason(status), ctype, blen, c->close_after ? "connection: close\r\n" : "",
                 status == 401 ? "www-authenticate: Bearer\r\n" : "",
                 status == 429 ? "retry-after: 1\r\n" : "",
                 status == 405 ? "allow: GET, POST, PUT, DELETE\r\n" : "");
    h->m.http_requests[status / 100 >= 1 && status / 100 < 6 ? status / 100 : 5]++;
    h->m.http_latency_us_sum += (hub_now_ms() - c->start_ms) * 1000;
    h->m.http_latency_count++;
    c->resp_pending = 1;
    h->responses_pending++;
    c->st = RS_HANDLER; /* no more body bytes are read for this request */
    timer_start(c, T_WRITE, (uint64_t)h->cfg.body_timeout * 1000);
    char *msg = malloc((size_t)hl + blen);
    if (!msg) {
        wipe_free(body, blen);
        conn_close(c);
        return;
    }
    memcpy(msg, head, (size_t)hl);
    if (blen)
        memcpy(msg + hl, body, blen);
    wipe_free(body, blen);
    tls_write(c, msg, (size_t)hl + blen); /* one record for small answers */
    wipe_free(msg, (size_t)hl + blen);
}

/* An answer of the transport itself (head errors, deadlines, upgrades): JSON with a stable
 * code, then the connection closes. */
static void respond_error(struct hub_rconn *c, int status, const char *code, const char *msg)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        conn_close(c);
        return;
    }
    hub_rest_respond(c, status, "application/json", body, 1);
}

/* --- closing --- */

static void on_handle_closed(uv_handle_t *hd)
{
    struct hub_rconn *c = hd->data;
    if (--c->handles > 0)
        return;
    free(c->req);
    SSL_free(c->ssl);
    free(c->in);
    free(c->body);
    free(c->head);
    free(c);
}

static void unlink_conn(struct hub_rconn *c)
{
    struct hub_rest *r = c->h->rest;
    if (c->prev)
        c->prev->next = c->next;
    else if (r && r->conns == c)
        r->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

static void conn_close(struct hub_rconn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->req)
        hub_http_req_detach(c->req); /* off a session's waiters; freed with c */
    if (c->resp_pending) {
        c->resp_pending = 0;
        c->h->responses_pending--;
    }
    hub_conn_del_rest(c->h, c);
    unlink_conn(c);
    uv_timer_stop(&c->timer);
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    struct hub_rconn *c = s->data;
    if (!c->closing && c->eof)
        conn_close(c);
}

/* After the last answer: FIN once the writes are out, then discard what the client still
 * sends until it closes or REST_LINGER_MS pass (closing with unread bytes would reset the
 * connection, and a reset can destroy the answer before the client reads it). */
static void linger(struct hub_rconn *c)
{
    c->st = RS_CLOSING;
    c->in_len = 0;
    timer_start(c, T_LINGER, REST_LINGER_MS);
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        conn_close(c);
    else if (c->read_paused)
        pump(c);
}

static void on_timer(uv_timer_t *t)
{
    struct hub_rconn *c = t->data;
    hub *h = c->h;
    rest_timer tk = c->tk;
    c->tk = T_NONE;
    char msg[96];
    switch (tk) {
    case T_HEADER:
        if (c->st == RS_HEAD && c->in_len) {
            snprintf(msg, sizeof msg, "the request head did not arrive within %u s",
                     h->cfg.header_timeout);
            respond_error(c, 408, "request_timeout", msg);
            return;
        }
        conn_close(c); /* no TLS handshake, or nothing sent */
        return;
    case T_BODY:
        snprintf(msg, sizeof msg, "the request body did not arrive within %u s",
                 h->cfg.body_timeout);
        respond_error(c, 408, "request_timeout", msg);
        return;
    case T_WAIT:
        hub_http_timer(c->req);
        return;
    case T_IDLE:
    case T_WRITE:
    case T_LINGER:
    case T_NONE:
        break;
    }
    conn_close(c);
}

/* --- reading --- */

static void consume(struct hub_rconn *c, size_t n)
{
    if (!n)
        return; /* c->in may be NULL (an idle connection gives its buffer back) */
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

static void on_head(struct hub_rconn *c)
{
    hub_head *hd = c->head;
    consume(c, hd->head_len);
    hub_head_init(hd); /* for the next request (hd's fields stay valid until then) */
    timer_stop(c);
    c->start_ms = hub_now_ms();
    c->keep_alive = hd->keep_alive;
    c->close_after = 0;
    c->body_unread = hd->has_content_length ? hd->content_length : 0;
    c->st = RS_HANDLER;
    if (hd->upgrade) {
        char msg[96];
        snprintf(msg, sizeof msg, "protocol upgrades (%.32s) are not offered on the REST API",
                 hd->upgrade);
        respond_error(c, 400, "bad_request", msg);
        return;
    }
    hub_http_request(c->req, hd, c->peer);
    if (c->refuse_body && !c->closing) {
        c->refuse_body = 0;
        hub_http_body(c->req, NULL, 0, 0); /* its answer closes: the body stays unread */
    }
}

/* Hands the request head, then the body, to http.c as the bytes allow. */
static void process(struct hub_rconn *c)
{
    while (!c->closing) {
        if (c->st == RS_HEAD) {
            if (!c->in_len)
                return;
            if (c->tk == T_IDLE) /* the first byte of a new request */
                timer_start(c, T_HEADER, (uint64_t)c->h->cfg.header_timeout * 1000);
            if (!c->head) {
                c->head = malloc(sizeof *c->head);
                if (!c->head) {
                    conn_close(c);
                    return;
                }
                hub_head_init(c->head);
            }
            hub_head_err e = hub_head_parse(c->head, c->in, c->in_len);
            if (e == HUB_HEAD_INCOMPLETE)
                return;
            if (e != HUB_HEAD_OK) {
                c->start_ms = hub_now_ms();
                c->st = RS_HANDLER;
                respond_error(c, hub_head_status(e), hub_head_code(e), c->head->msg);
                return;
            }
            on_head(c);
            continue;
        }
        if (c->st == RS_BODY) {
            size_t n = c->in_len < c->body_unread ? c->in_len : (size_t)c->body_unread;
            if (c->body_keep && n) {
                memcpy(c->body + c->body_len, c->in + 0, n);
                c->body_len += n;
                c->body[c->body_len] = 0;
            }
            consume(c, n);
            c->body_unread -= n;
            if (c->body_unread)
                return;
            timer_stop(c);
            c->st = RS_HANDLER;
            char *b = c->body;
            c->body = NULL;
            hub_http_body(c->req, b, c->body_len, c->body_keep);
            continue;
        }
        return;
    }
}

void hub_rest_read_body(struct hub_rconn *c, int keep)
{
    if (c->closing || c->st != RS_HANDLER || c->resp_pending)
        return;
    if (!keep && c->head->expect_continue && c->body_unread > c->in_len) {
        /* The client waits for 100 Continue before it sends the body: refuse it now
         * rather than invite bytes only to discard them. */
        c->refuse_body = 1;
        return;
    }
    c->body_keep = keep;
    c->body_len = 0;
    free(c->body);
    c->body = NULL;
    if (keep) {
        c->body = malloc((size_t)c->body_unread + 1);
        if (!c->body) {
            conn_close(c);
            return;
        }
        c->body[0] = 0;
    }
    if (c->head->expect_continue && c->body_unread > c->in_len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (tls_write(c, cont, sizeof cont - 1) != 0)
            return;
    }
    c->st = RS_BODY;
    timer_start(c, T_BODY, (uint64_t)c->h->cfg.body_timeout * 1000);
    /* process() runs the body when http.c returns (it called us from hub_http_request) */
}

void hub_rest_set_timer(struct hub_rconn *c, unsigned ms)
{
    if (c->closing)
        return;
    if (ms)
        timer_start(c, T_WAIT, ms);
    else if (c->tk == T_WAIT)
        timer_stop(c);
}

static void log_tls_failure(struct hub_rconn *c)
{
    static mpcd_log_limit lim;
    char err[160];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, err, sizeof err);
    ERR_clear_error();
    mpcd_log_limited(&lim, 5, LOG_INFO, "REST: TLS handshake with %s failed: %s", c->peer,
                     e ? err : "connection closed");
}

/* Runs OpenSSL over what the socket delivered: the handshake, then plaintext into c->in,
 * handed on by process() as it comes. Reading from the socket pauses while c->in is full
 * (a request being handled, pipelined bytes behind it) and resumes here. */
static void pump(struct hub_rconn *c)
{
    if (c->closing)
        return;
    if (c->st == RS_TLS) {
        int r = SSL_do_handshake(c->ssl);
        if (flush_tls(c) != 0)
            return;
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                ERR_clear_error();
                return;
            }
            log_tls_failure(c);
            conn_close(c);
            return;
        }
        c->st = RS_HEAD; /* the header deadline from the accept goes on */
    }
    for (;;) {
        int more = 0; /* OpenSSL may hold more plaintext than fitted */
        while (!c->eof) {
            if (c->in_len >= REST_IN_MAX) {
                more = 1;
                break;
            }
            if (c->in_cap - c->in_len < 16384) {
                size_t cap = c->in_cap ? 2 * c->in_cap : 32768;
                char *p = realloc(c->in, cap);
                if (!p) {
                    conn_close(c);
                    return;
                }
                c->in = p;
                c->in_cap = cap;
            }
            int n = SSL_read(c->ssl, c->in + c->in_len, (int)(c->in_cap - c->in_len));
            if (n > 0) {
                if (c->st != RS_CLOSING)
                    c->in_len += (size_t)n;
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            ERR_clear_error();
            if (e != SSL_ERROR_WANT_READ)
                c->eof = 1; /* close_notify or a TLS error: nothing more will be read */
            break;
        }
        if (flush_tls(c) != 0)
            return;
        if (c->st == RS_CLOSING) { /* lingering: late bytes are dropped */
            c->in_len = 0;
            if (c->eof) {
                conn_close(c);
                return;
            }
            if (more)
                continue;
            break;
        }
        process(c);
        if (c->closing)
            return;
        if (!more)
            break;
        if (c->in_len >= REST_IN_MAX) {
            if (!c->read_paused) {
                c->read_paused = 1;
                uv_read_stop((uv_stream_t *)&c->tcp);
            }
            return;
        }
    }
    if (c->read_paused) {
        c->read_paused = 0;
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
            conn_close(c);
            return;
        }
    }
    if (c->eof && !c->resp_pending && c->st != RS_CLOSING)
        conn_close(c);
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *b)
{
    (void)hd;
    (void)suggested;
    *b = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct hub_rconn *c = s->data;
    if (c->closing)
        return;
    if (n < 0) {
        c->eof = 1;
        /* an answer being written still goes out; then the connection closes */
        if (!c->resp_pending || n != UV_EOF)
            conn_close(c);
        else
            uv_read_stop(s);
        return;
    }
    if (n == 0)
        return;
    if (BIO_write(c->rbio, b->base, (int)n) != (int)n) {
        conn_close(c);
        return;
    }
    pump(c);
}

/* --- accepting --- */

static void peer_text(struct hub_rconn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    c->peer[0] = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
            inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], c->peer, sizeof c->peer);
        else
            inet_ntop(AF_INET6, &a6->sin6_addr, c->peer, sizeof c->peer);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof c->peer);
    }
}

static void accept_one(hub *h, int fd)
{
    struct hub_rest *r = h->rest;
    if (!hub_conn_filter(h, fd)) {
        close(fd);
        return;
    }
    struct hub_rconn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->h = h;
    uv_tcp_init(&h->loop, &c->tcp);
    uv_timer_init(&h->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    hub_conn_add_rest(h, c, fd);
    c->next = r->conns;
    if (r->conns)
        r->conns->prev = c;
    r->conns = c;
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        close(fd);
        conn_close(c);
        return;
    }
    c->start_ms = hub_now_ms();
    c->ssl = SSL_new(r->ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    c->req = hub_http_req_new(h, c);
    if (!c->ssl || !c->rbio || !c->wbio || !c->req) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->rbio = c->wbio = NULL;
        conn_close(c);
        return;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
    peer_text(c);
    c->st = RS_TLS;
    c->keep_alive = 1;
    uv_tcp_nodelay(&c->tcp, 1);
    timer_start(c, T_HEADER, (uint64_t)h->cfg.header_timeout * 1000);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c);
}

static void on_listen_readable(uv_poll_t *p, int status, int events)
{
    hub *h = p->data;
    (void)events;
    if (status < 0)
        return;
    for (int n = 0; n < 64; n++) {
        int fd = accept4(h->rest->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            accept_one(h, fd);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE)
            hub_conn_emfile(h); /* drains the listeners once, with one log line */
        break;                  /* EAGAIN, or an error the next readiness retries */
    }
}

/* --- the listener --- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char h11[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, h11, sizeof h11 - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no h2: the client goes on without ALPN */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *make_ctx(const hub_config *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    static const unsigned char sid_ctx[] = "mpc-hubd-api";
    int ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
             SSL_CTX_set_cipher_list(ctx, HUB_TLS12_CIPHERS) == 1 &&
             SSL_CTX_set_ciphersuites(ctx, HUB_TLS13_CIPHERS) == 1 &&
             SSL_CTX_use_certificate_chain_file(ctx, cfg->api_cert) == 1 &&
             SSL_CTX_use_PrivateKey_file(ctx, cfg->api_key, SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(ctx) == 1 &&
             SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1) == 1;
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    if (ok && cfg->api_client_ca[0]) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->api_client_ca);
        ok = names && SSL_CTX_load_verify_locations(ctx, cfg->api_client_ca, NULL) == 1;
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (!ok) {
        char err[200];
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        ERR_clear_error();
        log_err("[api] TLS setup failed (cert %s, key %s%s%s): %s", cfg->api_cert, cfg->api_key,
                cfg->api_client_ca[0] ? ", client_ca " : "", cfg->api_client_ca, err);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* A non-blocking listening socket on ip:port, or -1 (errno says why). */
static int listen_on(const char *ip, unsigned port, int v6only)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int v6 = strchr(ip, ':') != NULL;
    if (v6 ? uv_ip6_addr(ip, (int)port, (struct sockaddr_in6 *)&ss) != 0
           : uv_ip4_addr(ip, (int)port, (struct sockaddr_in *)&ss) != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 511) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* [api] listen: an IPv4 address listens on IPv4 only, an IPv6 address on IPv6 only, none
 * on both (IPv6 with IPv4-mapped addresses, or IPv4 where there is no IPv6). */
static int open_listener(const hub_config *cfg)
{
    if (cfg->api_listen[0])
        return listen_on(cfg->api_listen, cfg->api_port, 1);
    int fd = listen_on("::", cfg->api_port, 0);
    if (fd < 0 && errno == EAFNOSUPPORT)
        fd = listen_on("0.0.0.0", cfg->api_port, 0);
    return fd;
}

int hub_rest_start(hub *h)
{
    struct hub_rest *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->ctx = make_ctx(&h->cfg);
    if (!r->ctx) {
        free(r);
        return -1;
    }
    r->fd = open_listener(&h->cfg);
    if (r->fd < 0 || uv_poll_init(&h->loop, &r->listener, r->fd) != 0) {
        log_err("cannot listen for the REST API on %s:%u: %s",
                h->cfg.api_listen[0] ? h->cfg.api_listen : "*", h->cfg.api_port,
                r->fd < 0 ? strerror(errno) : "libuv refused the socket");
        if (r->fd >= 0)
            close(r->fd);
        SSL_CTX_free(r->ctx);
        free(r);
        return -1;
    }
    h->rest = r;
    r->listener.data = h;
    r->listening = 1;
    uv_poll_start(&r->listener, UV_READABLE, on_listen_readable);
    return 0;
}

static void on_listener_closed(uv_handle_t *hd)
{
    hub *h = hd->data;
    struct hub_rest *r = h->rest;
    SSL_CTX_free(r->ctx); /* connections still open hold their own reference */
    close(r->fd);
    free(r);
    h->rest = NULL;
}

void hub_rest_stop(hub *h)
{
    struct hub_rest *r = h->rest;
    if (!r || !r->listening)
        return;
    r->listening = 0;
    while (r->conns)
        conn_close(r->conns); /* takes it off the list */
    uv_close((uv_handle_t *)&r->listener, on_listener_closed);
}
