/* daemon/hubd/conn.c — connection caps for both ports: at most [api] max_connections in
 * total and [api] max_connections_per_address from one client address (IPv6: one /64),
 * checked when a socket is accepted (by lws for the party link, by rest.c for the REST
 * port) and before TLS starts. The total is clamped below the process's fd limit, so
 * accept(2) never meets EMFILE because of clients.
 * Also the party link's TLS handshake deadline (rest.c keeps the REST port's own): lws
 * 4.1 sets none while it waits for a ClientHello (lws_set_timeout on the new wsi has no
 * effect there), so a peer that connects and says nothing would keep its socket forever.
 * A sweep shuts such sockets down; lws then sees EOF and closes them the normal way.
 * And the EMFILE backoff: when accept(2) fails for want of fds anyway (something else
 * used them up), the listener stays readable and the loop would spin. hub_conn_emfile
 * (called from the lws log hook, and by rest.c) schedules a drain: close a spare fd,
 * accept and close what waits on each listener, reopen the spare (libuv's trick). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "daemon/common/log.h"
#include "daemon/common/log_limit.h"
#include "hub.h"

/* fds the hub needs besides client connections: listeners, SQLite (db, WAL, shm,
 * journal), libuv internals, stdio, certificate files while loading. */
#define FD_RESERVE 64

int hub_conn_init(hub *h)
{
    struct rlimit rl;
    unsigned cap = h->cfg.max_conns;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        /* Use what the hard limit allows: the cap below is what protects the process. */
        if (rl.rlim_cur < rl.rlim_max) {
            rlim_t want = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
            if (want > rl.rlim_cur) {
                struct rlimit nl = {want, rl.rlim_max};
                if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
                    rl.rlim_cur = want;
            }
        }
        unsigned room = rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE)
                                                     : (unsigned)(rl.rlim_cur / 2);
        if (cap > room) {
            log_notice("[api] max_connections %u is above what the fd limit (%llu) allows; "
                       "using %u",
                       cap, (unsigned long long)rl.rlim_cur, room);
            cap = room;
        }
    }
    if (cap < 4)
        cap = 4;
    h->conns = calloc(cap, sizeof *h->conns);
    if (!h->conns)
        return -1;
    h->conns_cap = cap;
    h->nconns = 0;
    return 0;
}

void hub_conn_free(hub *h)
{
    free(h->conns);
    h->conns = NULL;
    h->nconns = h->conns_cap = 0;
}

static int peer_key(int fd, uint8_t key[16])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char txt[INET6_ADDRSTRLEN];
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    const void *a = ss.ss_family == AF_INET6
                        ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                        : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
    if (!inet_ntop(ss.ss_family, a, txt, sizeof txt))
        return -1;
    return hub_addr_key(txt, key);
}

int hub_conn_filter(hub *h, int fd)
{
    uint8_t key[16];
    unsigned same = 0;
    if (h->stopping || peer_key(fd, key) != 0)
        return 0;
    if (h->nconns >= h->conns_cap) {
        static mpcd_log_limit lim;
        h->conns_refused++;
        mpcd_log_limited(&lim, 5, LOG_WARNING,
                         "connection refused: %u connections open ([api] max_connections)",
                         h->nconns);
        return 0;
    }
    for (unsigned i = 0; i < h->nconns; i++)
        same += memcmp(h->conns[i].addr, key, 16) == 0;
    if (same >= h->cfg.max_conns_per_addr) {
        static mpcd_log_limit lim;
        h->conns_refused++;
        mpcd_log_limited(&lim, 5, LOG_WARNING,
                         "connection refused: %u connections open from one address "
                         "([api] max_connections_per_address)",
                         same);
        return 0;
    }
    return 1;
}

void hub_conn_add(hub *h, struct lws *wsi)
{
    uint8_t key[16];
    int fd = (int)lws_get_socket_fd(wsi);
    if (fd < 0 || h->nconns >= h->conns_cap || peer_key(fd, key) != 0)
        return;
    for (unsigned i = 0; i < h->nconns; i++)
        if (wsi && h->conns[i].wsi == wsi)
            return;
    memset(&h->conns[h->nconns], 0, sizeof h->conns[h->nconns]);
    h->conns[h->nconns].wsi = wsi;
    h->conns[h->nconns].fd = fd;
    h->conns[h->nconns].accepted_ms = hub_now_ms();
    h->conns[h->nconns].request_seen = 0;
    memcpy(h->conns[h->nconns].addr, key, 16);
    h->nconns++;
}

void hub_conn_add_rest(hub *h, struct hub_rconn *rc, int fd)
{
    uint8_t key[16];
    if (fd < 0 || h->nconns >= h->conns_cap || peer_key(fd, key) != 0)
        return;
    hub_conn *c = &h->conns[h->nconns++];
    memset(c, 0, sizeof *c);
    c->rc = rc;
    c->fd = fd;
    c->accepted_ms = hub_now_ms();
    memcpy(c->addr, key, 16);
}

void hub_conn_del_rest(hub *h, struct hub_rconn *rc)
{
    for (unsigned i = 0; i < h->nconns; i++)
        if (h->conns[i].rc == rc) {
            h->conns[i] = h->conns[--h->nconns];
            return;
        }
}

void hub_conn_request_seen(hub *h, struct lws *wsi)
{
    for (unsigned i = 0; i < h->nconns; i++)
        if (wsi && h->conns[i].wsi == wsi)
            h->conns[i].request_seen = 1;
}

static void sweep(uv_timer_t *t)
{
    hub *h = t->data;
    uint64_t now = hub_now_ms(), limit = (uint64_t)h->cfg.header_timeout * 1000;
    for (unsigned i = 0; i < h->nconns; i++) {
        hub_conn *c = &h->conns[i];
        if (!c->wsi)
            continue; /* the REST port keeps its own deadlines (rest.c) */
        SSL *ssl = lws_get_ssl(c->wsi);
        /* The handshake and the first request head must both be done by header_timeout:
         * lws's own header timeout does not always fire for a head that stops half-way. */
        int done = ssl && SSL_is_init_finished(ssl) && c->request_seen;
        if (c->fd >= 0 && now - c->accepted_ms > limit && !done &&
            (int)lws_get_socket_fd(c->wsi) == c->fd) {
            shutdown(c->fd, SHUT_RDWR);
            c->fd = -1; /* once */
        }
    }
}

/* The listening sockets lws opened for our vhosts: the fds in accept state. */
static void find_listeners(hub *h)
{
    h->nlisten = 0;
    for (int fd = 0; fd < 1024 && h->nlisten < HUB_MAX_LISTEN; fd++) {
        int on = 0;
        socklen_t len = sizeof on;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
            h->listen_fds[h->nlisten++] = fd;
    }
}

static void drain(uv_timer_t *t)
{
    hub *h = t->data;
    static mpcd_log_limit lim;
    unsigned dropped = 0;
    if (h->spare_fd >= 0) {
        close(h->spare_fd);
        h->spare_fd = -1;
    }
    for (unsigned i = 0; i < h->nlisten; i++)
        for (int n = 0; n < 256; n++) {
            int fd = accept4(h->listen_fds[i], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
                break;
            close(fd);
            dropped++;
        }
    h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    h->emfile_pending = 0;
    mpcd_log_limited(&lim, 1, LOG_WARNING,
                     "out of file descriptors: dropped %u waiting connection(s); lower "
                     "[api] max_connections or raise LimitNOFILE",
                     dropped);
}

void hub_conn_emfile(hub *h)
{
    if (h->emfile_pending || h->nlisten == 0)
        return;
    h->emfile_pending = 1;
    uv_timer_start(&h->emfile_timer, drain, 0, 0);
}

void hub_conn_start(hub *h)
{
    find_listeners(h);
    h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    uv_timer_init(&h->loop, &h->emfile_timer);
    h->emfile_timer.data = h;
    uv_timer_init(&h->loop, &h->conn_sweep);
    h->conn_sweep.data = h;
    uv_timer_start(&h->conn_sweep, sweep, 500, 500);
}

static void on_close_noop(uv_handle_t *handle)
{
    (void)handle;
}

void hub_conn_stop(hub *h)
{
    uv_timer_stop(&h->conn_sweep);
    uv_close((uv_handle_t *)&h->conn_sweep, on_close_noop);
    uv_timer_stop(&h->emfile_timer);
    uv_close((uv_handle_t *)&h->emfile_timer, on_close_noop);
    h->nlisten = 0;
    if (h->spare_fd >= 0)
        close(h->spare_fd);
    h->spare_fd = -1;
}

void hub_conn_del(hub *h, struct lws *wsi)
{
    for (unsigned i = 0; i < h->nconns; i++)
        if (wsi && h->conns[i].wsi == wsi) {
            h->conns[i] = h->conns[--h->nconns];
            return;
        }
}
