/* tests/hub/hub_client.c — minimal HTTPS and WebSocket (RFC 6455) clients on OpenSSL,
 * enough to drive the hub from tests: no redirects, no compression, client frames masked
 * as the RFC requires. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "hub_client.h"

struct hc_link {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    uint8_t buf[API_FRAME_HEADER_BYTES + API_FRAME_MAX_PAYLOAD + 14]; /* a whole message */
    size_t len;
};

static char last_error[256];

const char *hc_last_error(void)
{
    return last_error;
}

static void set_error(const char *stage)
{
    unsigned long e = ERR_peek_error();
    char buf[160] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(last_error, sizeof last_error, "%s%s%s", stage, e ? ": " : "", buf);
}

static char source_ip[64];
static int rcvbuf;

void hc_set_rcvbuf(int bytes)
{
    rcvbuf = bytes;
}

void hc_set_source(const char *ip)
{
    snprintf(source_ip, sizeof source_ip, "%s", ip ? ip : "");
}

/* A TCP connection to 127.0.0.1:port from the source address set with hc_set_source. */
static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf > 0) /* before connect: fixes the window (no autotuning) */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (source_ip[0]) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        inet_pton(AF_INET, source_ip, &src.sin_addr);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int hc_tcp_open(int port)
{
    return tcp_connect(port);
}

int hc_wait_closed(int fd, int timeout_ms)
{
    char b[256];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= timeout_ms || poll(&p, 1, (int)(timeout_ms - ms)) <= 0)
            return -1;
        ssize_t n = read(fd, b, sizeof b);
        if (n <= 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            return (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        }
    }
}

int hc_tls_probe(const char *ca, int port, int min_version, int max_version, const char *ciphers12,
                 const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int fd = -1, ok = 0;
    SSL *ssl = NULL;
    if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        goto out;
    SSL_CTX_set_min_proto_version(ctx, min_version);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    if (ciphers12 && SSL_CTX_set_cipher_list(ctx, ciphers12) != 1)
        goto out;
    if (cert && (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
                 SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
        goto out;
    if ((fd = tcp_connect(port)) < 0)
        goto out;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok = SSL_connect(ssl) == 1;
out:
    ERR_clear_error();
    if (ssl)
        SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return ok;
}

static int tls_connect(const char *ca, int port, const char *cert, const char *key, int *fd_out,
                       SSL_CTX **ctx_out, SSL **ssl_out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    int fd = -1;
    const char *stage = "load CA";
    if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        goto fail;
    stage = "load client certificate";
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
    if (cert && (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
                 SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
        goto fail;
    stage = "connect";
    fd = tcp_connect(port);
    if (fd < 0)
        goto fail;
    ssl = SSL_new(ctx);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    SSL_set_fd(ssl, fd);
    stage = "TLS handshake";
    if (SSL_connect(ssl) != 1)
        goto fail;
    *fd_out = fd;
    *ctx_out = ctx;
    *ssl_out = ssl;
    return 0;
fail:
    set_error(stage);
    ERR_clear_error();
    if (ssl)
        SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    return -1;
}

static int write_all(SSL *ssl, const void *p, size_t n)
{
    return SSL_write(ssl, p, (int)n) == (int)n ? 0 : -1;
}

/* Reads more bytes into buf within timeout_ms; returns bytes read, 0 on EOF, -1 on
 * timeout or error. SSL_MODE_AUTO_RETRY is off (see tls_connect), so a TLS record without
 * application data (a session ticket) returns WANT_READ here instead of blocking in
 * read(2) past the deadline. */
static int read_some(int fd, SSL *ssl, uint8_t *buf, size_t cap, int timeout_ms)
{
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += timeout_ms / 1000;
    end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (end.tv_nsec >= 1000000000) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000;
    }
    for (;;) {
        if (!SSL_pending(ssl)) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long left = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                return -1;
        }
        int n = SSL_read(ssl, buf, (int)cap);
        if (n > 0)
            return n;
        int e = SSL_get_error(ssl, n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ)
            continue;
        return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
}

static const char *req_cert, *req_key;

void hc_set_client_cert(const char *cert, const char *key)
{
    req_cert = cert;
    req_key = key;
}

int hc_request(const char *ca, int port, const char *method, const char *path, const char *headers,
               const char *body, json_t **out, char **raw)
{
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    if (out)
        *out = NULL;
    if (raw)
        *raw = NULL;
    if (tls_connect(ca, port, req_cert, req_key, &fd, &ctx, &ssl) != 0)
        return -1;
    char head[4096];
    size_t blen = body ? strlen(body) : 0;
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s", method,
                      path, port, headers ? headers : "");
    if (body)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "Content-Length: %zu\r\n", blen);
    hl += snprintf(head + hl, sizeof head - (size_t)hl, "\r\n");
    size_t cap = 1 << 20, len = 0;
    char *resp = malloc(cap + 1);
    int status = -1;
    /* One write for headers and body: two small writes would meet Nagle + delayed ACK
     * (40 ms per request) and measure the test client instead of the hub. */
    char *msg = malloc((size_t)hl + blen);
    memcpy(msg, head, (size_t)hl);
    if (blen)
        memcpy(msg + hl, body, blen);
    int wr = write_all(ssl, msg, (size_t)hl + blen);
    free(msg);
    if (wr != 0)
        goto out;
    for (;;) {
        int n = read_some(fd, ssl, (uint8_t *)resp + len, cap - len, 15000);
        if (n <= 0)
            break;
        len += (size_t)n;
        resp[len] = 0;
        char *eoh = strstr(resp, "\r\n\r\n");
        if (eoh) {
            char *cl = strcasestr(resp, "\r\ncontent-length:");
            if (cl && cl < eoh && len >= (size_t)(eoh + 4 - resp) + strtoul(cl + 17, NULL, 10))
                break;
        }
        if (len == cap)
            break;
    }
    resp[len] = 0;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
        status = -1;
    char *b = strstr(resp, "\r\n\r\n");
    if (b && out)
        *out = json_loads(b + 4, JSON_DISABLE_EOF_CHECK, NULL);
    if (b && raw)
        *raw = strdup(b + 4);
out:
    free(resp);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return status;
}

int hc_raw(const char *ca, int port, const void *data, size_t len, int timeout_ms)
{
    return hc_raw_capture(ca, port, data, len, timeout_ms, NULL, 0);
}

int hc_raw_pieces(const char *ca, int port, const char *const *pieces, size_t n, int gap_ms,
                  int timeout_ms, char *out, size_t cap)
{
    int fd, total = 0;
    SSL_CTX *ctx;
    SSL *ssl;
    uint8_t buf[4096];
    if (out && cap)
        out[0] = 0;
    if (tls_connect(ca, port, req_cert, req_key, &fd, &ctx, &ssl) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (i)
            usleep((useconds_t)gap_ms * 1000);
        if (write_all(ssl, pieces[i], strlen(pieces[i])) != 0)
            break;
    }
    for (;;) {
        int r = read_some(fd, ssl, buf, sizeof buf, timeout_ms);
        if (r <= 0)
            break;
        if (out && cap && (size_t)total < cap - 1) {
            size_t k = (size_t)r < cap - 1 - (size_t)total ? (size_t)r : cap - 1 - (size_t)total;
            memcpy(out + total, buf, k);
            out[(size_t)total + k] = 0;
        }
        total += r;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return total;
}

int hc_raw_capture(const char *ca, int port, const void *data, size_t len, int timeout_ms,
                   char *out, size_t cap)
{
    int fd, total = 0;
    SSL_CTX *ctx;
    SSL *ssl;
    uint8_t buf[4096];
    if (out && cap)
        out[0] = 0;
    if (tls_connect(ca, port, req_cert, req_key, &fd, &ctx, &ssl) != 0)
        return -1;
    if (len)
        write_all(ssl, data, len);
    for (;;) {
        int n = read_some(fd, ssl, buf, sizeof buf, timeout_ms);
        if (n <= 0)
            break;
        if (out && cap && (size_t)total < cap - 1) {
            size_t k = (size_t)n < cap - 1 - (size_t)total ? (size_t)n : cap - 1 - (size_t)total;
            memcpy(out + total, buf, k);
            out[(size_t)total + k] = 0;
        }
        total += n;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return total;
}

hc_link *hc_link_open(const char *ca, int port, const char *cert, const char *key)
{
    hc_link *l = calloc(1, sizeof *l);
    if (!l || tls_connect(ca, port, cert, key, &l->fd, &l->ctx, &l->ssl) != 0) {
        free(l);
        return NULL;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /v1/party HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Protocol: mpc-party-v1\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     port);
    if (write_all(l->ssl, req, (size_t)n) != 0) {
        set_error("send upgrade request");
        goto fail;
    }
    for (;;) {
        int r = read_some(l->fd, l->ssl, l->buf + l->len, sizeof l->buf - l->len - 1, 5000);
        if (r <= 0) {
            set_error(r == 0 ? "upgrade: connection closed" : "upgrade: no answer in 5 s");
            goto fail;
        }
        l->len += (size_t)r;
        l->buf[l->len] = 0;
        char *eoh = strstr((char *)l->buf, "\r\n\r\n");
        if (eoh) {
            if (strncmp((char *)l->buf, "HTTP/1.1 101", 12) != 0) {
                snprintf(last_error, sizeof last_error, "upgrade refused: %.40s", l->buf);
                goto fail;
            }
            size_t used = (size_t)(eoh + 4 - (char *)l->buf);
            memmove(l->buf, l->buf + used, l->len - used);
            l->len -= used;
            return l;
        }
    }
fail:
    hc_link_close(l);
    return NULL;
}

void hc_link_close(hc_link *l)
{
    if (!l)
        return;
    SSL_shutdown(l->ssl);
    SSL_free(l->ssl);
    SSL_CTX_free(l->ctx);
    close(l->fd);
    free(l);
}

int hc_link_send_raw(hc_link *l, const uint8_t *data, size_t len, int opcode)
{
    uint8_t *m = malloc(len + 14), mask[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = 0;
    m[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        m[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        m[h++] = 0x80 | 126;
        m[h++] = (uint8_t)(len >> 8);
        m[h++] = (uint8_t)len;
    } else {
        m[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            m[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(m + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        m[h + i] = data[i] ^ mask[i % 4];
    int r = write_all(l->ssl, m, h + len);
    free(m);
    return r;
}

int hc_link_send_frame(hc_link *l, const api_frame *f)
{
    size_t cap = api_frame_size(f->payload_len), n;
    uint8_t *b = malloc(cap);
    int r = -1;
    if (api_frame_encode(b, cap, &n, f) == API_OK)
        r = hc_link_send_raw(l, b, n, 2);
    free(b);
    return r;
}

static int fill(hc_link *l, size_t need, int timeout_ms)
{
    while (l->len < need) {
        int r = read_some(l->fd, l->ssl, l->buf + l->len, sizeof l->buf - l->len, timeout_ms);
        if (r <= 0)
            return -1;
        l->len += (size_t)r;
    }
    return 0;
}

int hc_link_recv(hc_link *l, uint8_t *buf, size_t cap, size_t *len, int timeout_ms)
{
    for (;;) {
        if (fill(l, 2, timeout_ms))
            return -1;
        int op = l->buf[0] & 15;
        size_t plen = l->buf[1] & 127, h = 2;
        if (plen == 126) {
            if (fill(l, 4, timeout_ms))
                return -1;
            plen = (size_t)l->buf[2] << 8 | l->buf[3];
            h = 4;
        } else if (plen == 127) {
            if (fill(l, 10, timeout_ms))
                return -1;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | l->buf[2 + i];
            h = 10;
        }
        if (h + plen > sizeof l->buf || fill(l, h + plen, timeout_ms))
            return -1;
        uint8_t *p = l->buf + h;
        size_t total = h + plen;
        if (op == 9 || op == 10) { /* ping from the server: answer; pong: skip */
            uint8_t ping[125];
            size_t pl = plen < sizeof ping ? plen : sizeof ping;
            memcpy(ping, p, pl);
            memmove(l->buf, l->buf + total, l->len - total);
            l->len -= total;
            if (op == 9)
                hc_link_send_raw(l, ping, pl, 10);
            continue;
        }
        if (op == 8) {
            *len = plen >= 2 ? (size_t)(p[0] << 8 | p[1]) : 0;
        } else {
            if (plen > cap)
                return -1;
            memcpy(buf, p, plen);
            *len = plen;
        }
        memmove(l->buf, l->buf + total, l->len - total);
        l->len -= total;
        return op;
    }
}

int hc_link_recv_frame(hc_link *l, api_frame *f, uint8_t *buf, size_t cap, int timeout_ms)
{
    size_t n;
    int op = hc_link_recv(l, buf, cap, &n, timeout_ms);
    if (op != 2)
        return -1;
    return api_frame_decode(f, buf, n) == API_OK ? 0 : -1;
}
