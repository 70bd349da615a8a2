/* tests/signerd/fake_hub.c — see fake_hub.h. Blocking sockets and SSL objects, poll() for
 * readiness; good enough for a few local signers. Never used outside tests. */
#include "fake_hub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

typedef struct {
    int fd;
    SSL *ssl;
    char cn[65];
    uint8_t *rx; /* raw WebSocket bytes */
    size_t rx_len, rx_cap;
    uint8_t *msg; /* message being reassembled */
    size_t msg_len;
    int msg_op;
} fh_conn;

struct fake_hub {
    int lfd;
    SSL_CTX *ctx;
    fh_conn c[FH_MAX_CONNS];
    struct {
        char cn[65];
        unsigned links;
    } seen[FH_MAX_CONNS];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

fake_hub *fh_new(const char *ca, const char *cert, const char *key, int *port)
{
    signal(SIGPIPE, SIG_IGN);
    fake_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    for (int i = 0; i < FH_MAX_CONNS; i++)
        h->c[i].fd = -1;
    h->ctx = SSL_CTX_new(TLS_server_method());
    if (!h->ctx || SSL_CTX_use_certificate_chain_file(h->ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(h->ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(h->ctx, ca, NULL) != 1)
        goto fail;
    SSL_CTX_set_verify(h->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    h->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(h->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(h->lfd, 16) != 0 ||
        getsockname(h->lfd, (struct sockaddr *)&sa, &sl) != 0)
        goto fail;
    *port = ntohs(sa.sin_port);
    return h;
fail:
    SSL_CTX_free(h->ctx);
    free(h);
    return NULL;
}

static void conn_close(fh_conn *c)
{
    if (c->fd < 0)
        return;
    SSL_free(c->ssl);
    close(c->fd);
    free(c->rx);
    free(c->msg);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

void fh_free(fake_hub *h)
{
    if (!h)
        return;
    for (int i = 0; i < FH_MAX_CONNS; i++)
        conn_close(&h->c[i]);
    close(h->lfd);
    SSL_CTX_free(h->ctx);
    free(h);
}

static fh_conn *find(const fake_hub *h, const char *party)
{
    for (int i = 0; i < FH_MAX_CONNS; i++)
        if (h->c[i].fd >= 0 && h->c[i].cn[0] && strcmp(h->c[i].cn, party) == 0)
            return (fh_conn *)&h->c[i];
    return NULL;
}

int fh_online(const fake_hub *h, const char *party)
{
    return find(h, party) != NULL;
}

unsigned fh_links(const fake_hub *h, const char *party)
{
    for (int i = 0; i < FH_MAX_CONNS; i++)
        if (strcmp(h->seen[i].cn, party) == 0)
            return h->seen[i].links;
    return 0;
}

void fh_drop(fake_hub *h, const char *party)
{
    fh_conn *c = find(h, party);
    if (c)
        conn_close(c);
}

/* The WebSocket handshake: read the request, answer 101 with the accept key. */
static int upgrade(fh_conn *c)
{
    char req[4096];
    size_t n = 0;
    while (n < sizeof req - 1) {
        int r = SSL_read(c->ssl, req + n, (int)(sizeof req - 1 - n));
        if (r <= 0)
            return -1;
        n += (size_t)r;
        req[n] = 0;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    const char *k = strcasestr(req, "Sec-WebSocket-Key:");
    if (!k)
        return -1;
    k += 18;
    while (*k == ' ')
        k++;
    char key[128];
    size_t kl = strcspn(k, "\r\n");
    if (kl >= 64)
        return -1;
    snprintf(key, sizeof key, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)kl, k);
    uint8_t sha[SHA_DIGEST_LENGTH];
    SHA1((const uint8_t *)key, strlen(key), sha);
    char acc[64], resp[512];
    EVP_EncodeBlock((unsigned char *)acc, sha, sizeof sha);
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                      "Sec-WebSocket-Protocol: mpc-party-v1\r\n\r\n",
                      acc);
    return SSL_write(c->ssl, resp, rl) == rl ? 0 : -1;
}

static void accept_one(fake_hub *h)
{
    int fd = accept(h->lfd, NULL, NULL);
    if (fd < 0)
        return;
    fh_conn *c = NULL;
    for (int i = 0; i < FH_MAX_CONNS && !c; i++)
        if (h->c[i].fd < 0)
            c = &h->c[i];
    if (!c) {
        close(fd);
        return;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->ssl = SSL_new(h->ctx);
    SSL_set_fd(c->ssl, fd);
    X509 *peer = NULL;
    if (SSL_accept(c->ssl) != 1 || !(peer = SSL_get1_peer_certificate(c->ssl)) ||
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, c->cn,
                                  sizeof c->cn) <= 0 ||
        upgrade(c) != 0) {
        X509_free(peer);
        conn_close(c);
        return;
    }
    X509_free(peer);
    /* A newer link of the same party replaces the older one, like the real hub. */
    for (int i = 0; i < FH_MAX_CONNS; i++)
        if (&h->c[i] != c && h->c[i].fd >= 0 && strcmp(h->c[i].cn, c->cn) == 0)
            conn_close(&h->c[i]);
    int slot = -1;
    for (int i = 0; i < FH_MAX_CONNS && slot < 0; i++)
        if (strcmp(h->seen[i].cn, c->cn) == 0 || !h->seen[i].cn[0])
            slot = i;
    if (slot >= 0) {
        snprintf(h->seen[slot].cn, sizeof h->seen[slot].cn, "%s", c->cn);
        h->seen[slot].links++;
    }
}

static int ws_write(fh_conn *c, int op, const uint8_t *p, size_t len)
{
    uint8_t hdr[10];
    size_t hl = 2;
    hdr[0] = (uint8_t)(0x80 | op);
    if (len < 126) {
        hdr[1] = (uint8_t)len;
    } else if (len < 65536) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        hl = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        hl = 10;
    }
    uint8_t *buf = malloc(hl + len);
    if (!buf)
        return -1;
    memcpy(buf, hdr, hl);
    if (len)
        memcpy(buf + hl, p, len);
    int ok = SSL_write(c->ssl, buf, (int)(hl + len)) == (int)(hl + len);
    free(buf);
    return ok ? 0 : -1;
}

int fh_send(fake_hub *h, const char *party, int op, const uint8_t *msg, size_t len)
{
    fh_conn *c = find(h, party);
    if (!c)
        return -1;
    if (ws_write(c, op, msg, len) != 0) {
        conn_close(c);
        return -1;
    }
    return 0;
}

/* Parses whole WebSocket frames out of c->rx. 1 with a complete data message, 0 when more
 * bytes are needed, -1 when the link is to be closed. */
static int parse(fh_conn *c, int *op, uint8_t **msg, size_t *len)
{
    for (;;) {
        if (c->rx_len < 2)
            return 0;
        const uint8_t *p = c->rx;
        int fin = p[0] & 0x80, opc = p[0] & 0x0f, masked = p[1] & 0x80;
        uint64_t pl = p[1] & 0x7f;
        size_t hl = 2;
        if (pl == 126) {
            if (c->rx_len < 4)
                return 0;
            pl = (uint64_t)p[2] << 8 | p[3];
            hl = 4;
        } else if (pl == 127) {
            if (c->rx_len < 10)
                return 0;
            pl = 0;
            for (int i = 0; i < 8; i++)
                pl = pl << 8 | p[2 + i];
            hl = 10;
        }
        if (pl > (8u << 20))
            return -1;
        size_t mo = hl;
        if (masked)
            hl += 4;
        if (c->rx_len < hl + pl)
            return 0;
        uint8_t *data = c->rx + hl;
        if (masked)
            for (size_t i = 0; i < pl; i++)
                data[i] ^= p[mo + (i & 3)];
        size_t used = hl + (size_t)pl;
        int out = 0;
        if (opc == 8) {
            return -1;
        } else if (opc == 9) {
            ws_write(c, 10, data, (size_t)pl);
        } else if (opc == 10) {
            /* pong: nothing */
        } else {
            if (opc != 0)
                c->msg_op = opc;
            uint8_t *m = realloc(c->msg, c->msg_len + (size_t)pl + 1);
            if (!m)
                return -1;
            c->msg = m;
            memcpy(c->msg + c->msg_len, data, (size_t)pl);
            c->msg_len += (size_t)pl;
            if (fin) {
                *op = c->msg_op;
                *msg = c->msg;
                *len = c->msg_len;
                c->msg = NULL;
                c->msg_len = 0;
                out = 1;
            }
        }
        memmove(c->rx, c->rx + used, c->rx_len - used);
        c->rx_len -= used;
        if (out)
            return 1;
    }
}

static int read_some(fh_conn *c)
{
    if (c->rx_cap - c->rx_len < 16384) {
        size_t cap = c->rx_cap ? c->rx_cap * 2 : 65536;
        uint8_t *r = realloc(c->rx, cap);
        if (!r)
            return -1;
        c->rx = r;
        c->rx_cap = cap;
    }
    int n = SSL_read(c->ssl, c->rx + c->rx_len, (int)(c->rx_cap - c->rx_len));
    if (n <= 0)
        return -1;
    c->rx_len += (size_t)n;
    return 0;
}

int fh_next(fake_hub *h, int timeout_ms, char party[65], int *op, uint8_t **msg, size_t *len)
{
    uint64_t end = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        /* Whatever is already buffered first. */
        for (int i = 0; i < FH_MAX_CONNS; i++) {
            fh_conn *c = &h->c[i];
            if (c->fd < 0)
                continue;
            int r = parse(c, op, msg, len);
            if (r < 0) {
                conn_close(c);
            } else if (r == 1) {
                snprintf(party, 65, "%s", c->cn);
                return 1;
            } else if (SSL_pending(c->ssl) > 0 && read_some(c) != 0) {
                conn_close(c);
            }
        }
        int pending = 0;
        for (int i = 0; i < FH_MAX_CONNS; i++)
            if (h->c[i].fd >= 0 && SSL_pending(h->c[i].ssl) > 0)
                pending = 1;
        if (pending)
            continue;
        struct pollfd pf[FH_MAX_CONNS + 1];
        int idx[FH_MAX_CONNS + 1], np = 0;
        pf[np].fd = h->lfd;
        pf[np].events = POLLIN;
        idx[np++] = -1;
        for (int i = 0; i < FH_MAX_CONNS; i++)
            if (h->c[i].fd >= 0) {
                pf[np].fd = h->c[i].fd;
                pf[np].events = POLLIN;
                idx[np++] = i;
            }
        uint64_t t = now_ms();
        if (t >= end)
            return 0;
        if (poll(pf, (nfds_t)np, (int)(end - t)) <= 0)
            continue;
        for (int k = 0; k < np; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (idx[k] < 0)
                accept_one(h);
            else if (read_some(&h->c[idx[k]]) != 0)
                conn_close(&h->c[idx[k]]);
        }
    }
}
