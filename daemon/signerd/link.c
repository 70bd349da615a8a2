/* daemon/signerd/link.c — the party link: a libwebsockets client on the daemon's libuv loop
 * that dials wss://HUB/v1/party with the node certificate (its key handed to OpenSSL from
 * memory, never from a file), says hello, reassembles binary messages into frames for
 * session.c, answers ping frames, and keeps one ordered send queue. When the link drops,
 * every session aborts and the link is dialled again with exponential backoff and jitter.
 * The node listens on no port. */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "daemon/common/log.h"
#include "signer.h"

#define LINK_PROTOCOL "mpc-party-v1"
#define LINK_RX_MAX   (API_FRAME_HEADER_BYTES + API_FRAME_MAX_PAYLOAD)

static void queue_clear(signer *sd)
{
    while (sd->out_head) {
        signer_out *o = sd->out_head;
        sd->out_head = o->next;
        free(o);
    }
    sd->out_tail = NULL;
}

static int queue_frame(signer *sd, const api_frame *f)
{
    size_t cap = api_frame_size(f->payload_len), n = 0;
    signer_out *o = malloc(sizeof *o + LWS_PRE + cap);
    if (!o)
        return -1;
    if (api_frame_encode(o->buf + LWS_PRE, cap, &n, f) != API_OK) {
        free(o);
        return -1;
    }
    o->len = n;
    o->next = NULL;
    if (sd->out_tail)
        sd->out_tail->next = o;
    else
        sd->out_head = o;
    sd->out_tail = o;
    return 0;
}

int signer_link_send(signer *sd, const api_frame *f)
{
    if (!sd->link_up || !sd->wsi)
        return -1;
    if (queue_frame(sd, f) != 0) {
        log_err("cannot queue a %s frame for the hub", api_frame_type_name(f->type));
        return -1;
    }
    lws_callback_on_writable(sd->wsi);
    return 0;
}

static void dial(signer *sd);

static void on_reconnect(uv_timer_t *t)
{
    dial(t->data);
}

/* Exponential backoff from reconnect_min_ms to reconnect_max_ms, with up to 50% jitter so
 * a fleet of signers does not reconnect in lockstep after a hub restart. */
static void schedule_reconnect(signer *sd)
{
    if (sd->stopping)
        return;
    uint64_t d = sd->cfg.reconnect_min_ms;
    for (unsigned i = 0; i < sd->attempts && d < sd->cfg.reconnect_max_ms; i++)
        d *= 2;
    if (d > sd->cfg.reconnect_max_ms)
        d = sd->cfg.reconnect_max_ms;
    uint16_t r = 0;
    RAND_bytes((unsigned char *)&r, sizeof r);
    d = d / 2 + (d / 2) * r / 65535;
    sd->attempts++;
    uv_timer_start(&sd->reconnect, on_reconnect, d, 0);
}

static void link_down(signer *sd, const char *why)
{
    int was_up = sd->link_up;
    sd->wsi = NULL;
    sd->link_up = 0;
    queue_clear(sd);
    free(sd->rx);
    sd->rx = NULL;
    sd->rx_len = 0;
    if (was_up)
        log_warn("link to the hub lost: %s", why);
    signer_session_abort_all(sd, "the link to the hub was lost");
    schedule_reconnect(sd);
}

static void dial(signer *sd)
{
    struct lws_client_connect_info ci;
    const signer_config *c = &sd->cfg;
    if (sd->stopping || sd->wsi)
        return;
    memset(&ci, 0, sizeof ci);
    ci.context = sd->lws;
    ci.address = c->hub_host;
    ci.port = (int)c->hub_port;
    ci.path = c->hub_path;
    ci.host = c->hub_host;
    ci.origin = c->hub_host;
    ci.protocol = LINK_PROTOCOL;
    ci.local_protocol_name = LINK_PROTOCOL;
    ci.ssl_connection = LCCSCF_USE_SSL;
    ci.pwsi = &sd->wsi;
    ci.userdata = sd;
    if (!lws_client_connect_via_info(&ci)) {
        sd->wsi = NULL;
        schedule_reconnect(sd);
    }
}

static int on_established(signer *sd, struct lws *wsi)
{
    api_hello h;
    memset(&h, 0, sizeof h);
    snprintf(h.version, sizeof h.version, "%s", SIGNER_VERSION);
    snprintf(h.backend, sizeof h.backend, "%s", sd->backend_name);
    if (sd->cfg.role == SIGNER_ROLE_DELEGATE)
        snprintf(h.role, sizeof h.role, "delegate"); /* the hub hands keygen blobs only to us */
    char *j = api_hello_encode(&h);
    api_frame f = {.type = API_FRAME_HELLO, .payload = (const uint8_t *)j};
    f.payload_len = j ? (uint32_t)strlen(j) : 0;
    sd->wsi = wsi;
    sd->link_up = 1;
    sd->attempts = 0;
    int rc = j ? signer_link_send(sd, &f) : -1;
    free(j);
    if (rc != 0)
        return -1;
    log_notice("link to the hub %s:%u is up", sd->cfg.hub_host, sd->cfg.hub_port);
    if (!sd->ready_sent) {
        sd->ready_sent = 1;
        sd_notify(0, "READY=1\nSTATUS=connected to the hub");
    }
    return 0;
}

static void dispatch(signer *sd, const uint8_t *buf, size_t len)
{
    api_frame f;
    api_err e = api_frame_decode(&f, buf, len);
    if (e != API_OK) {
        log_warn("dropped a malformed frame from the hub: %s", api_strerror(e));
        return;
    }
    if (f.type == API_FRAME_PING) {
        api_frame pong = f;
        pong.type = API_FRAME_PONG;
        signer_link_send(sd, &pong);
        return;
    }
    if (f.type == API_FRAME_PONG || f.type == API_FRAME_HELLO)
        return;
    signer_session_on_frame(sd, buf, len, &f);
}

static int on_receive(signer *sd, struct lws *wsi, const void *in, size_t len)
{
    if (lws_frame_is_binary(wsi) == 0) {
        log_warn("the hub sent a text message; closing the link");
        return -1;
    }
    if (sd->rx_len + len > LINK_RX_MAX) {
        log_warn("the hub sent a message over %u bytes; closing the link", LINK_RX_MAX);
        return -1;
    }
    if (!sd->rx && !(sd->rx = malloc(LINK_RX_MAX)))
        return -1;
    memcpy(sd->rx + sd->rx_len, in, len);
    sd->rx_len += len;
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        size_t n = sd->rx_len;
        sd->rx_len = 0;
        dispatch(sd, sd->rx, n);
    }
    return 0;
}

static int on_writable(signer *sd, struct lws *wsi)
{
    signer_out *o = sd->out_head;
    if (!o)
        return 0;
    int n = lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_BINARY);
    if (n < (int)o->len)
        return -1;
    sd->out_head = o->next;
    if (!sd->out_head)
        sd->out_tail = NULL;
    free(o);
    if (sd->out_head)
        lws_callback_on_writable(wsi);
    return 0;
}

/* The client certificate and its unsealed key go to OpenSSL here, from memory. */
static int load_client_cert(signer *sd, SSL_CTX *ctx)
{
    if (SSL_CTX_use_certificate(ctx, sd->id_cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, sd->id_key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        log_err("TLS refused the node certificate or its key");
        return 1;
    }
    /* TLS 1.2 with AEAD ECDHE suites only, or TLS 1.3. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    return 0;
}

static int link_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    signer *sd = lws_context_user(lws_get_context(wsi));
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS:
        return load_client_cert(sd, (SSL_CTX *)user);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        return on_established(sd, wsi);
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(sd, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(sd, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        log_warn("cannot connect to the hub %s:%u: %.*s", sd->cfg.hub_host, sd->cfg.hub_port,
                 in ? (int)len : 0, in ? (const char *)in : "");
        link_down(sd, "connection error");
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        link_down(sd, "closed");
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            log_warn("the hub closes the link with status %u",
                     ((const uint8_t *)in)[0] << 8 | ((const uint8_t *)in)[1]);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    mpcd_log(level == LLL_ERR    ? LOG_ERR
             : level == LLL_WARN ? LOG_WARNING
                                 : LOG_DEBUG,
             "lws: %.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
}

int signer_link_start(signer *sd)
{
    static struct lws_protocols protocols[2];
    struct lws_context_creation_info info;
    void *loops[1] = {&sd->loop};
    protocols[0] = (struct lws_protocols){
        .name = LINK_PROTOCOL, .callback = link_callback, .rx_buffer_size = 65536};
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.client_ssl_ca_filepath = sd->cfg.hub_ca;
    info.user = sd;
    /* lws answers WebSocket pings itself; it pings the hub after ping_interval of silence
     * and drops a link whose hub stays silent (then we reconnect). */
    static lws_retry_bo_t retry;
    retry.secs_since_valid_ping = (uint16_t)sd->cfg.ping_interval;
    retry.secs_since_valid_hangup = (uint16_t)(sd->cfg.ping_interval * 3);
    info.retry_and_idle_policy = &retry;
    sd->lws = lws_create_context(&info);
    if (!sd->lws) {
        log_err("cannot create the libwebsockets client context (TLS setup failed?)");
        return -1;
    }
    uv_timer_init(&sd->loop, &sd->reconnect);
    sd->reconnect.data = sd;
    dial(sd);
    return 0;
}

static void on_close_noop(uv_handle_t *h)
{
    (void)h;
}

void signer_link_stop(signer *sd)
{
    uv_timer_stop(&sd->reconnect);
    if (!uv_is_closing((uv_handle_t *)&sd->reconnect))
        uv_close((uv_handle_t *)&sd->reconnect, on_close_noop);
    queue_clear(sd);
    if (sd->lws)
        lws_context_destroy(sd->lws);
    sd->lws = NULL;
    sd->wsi = NULL;
    sd->link_up = 0;
    free(sd->rx);
    sd->rx = NULL;
}
