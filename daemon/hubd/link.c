/* daemon/hubd/link.c — the party link: signers' WSS connections on the party vhost.
 * Admission is mTLS (the vhost requires a client certificate chaining to [party] ca; the
 * verification callback below refuses anything OpenSSL did not verify), the party id is
 * the certificate CN, the first frame must be hello, and a newer connection of the same
 * party replaces the older. Frames are decoded with api_frame_decode; protocol payloads
 * are passed to session.c untouched. Each link owns its receive buffer and send queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "daemon/common/log.h"
#include "daemon/common/tls.h"
#include "hub.h"

#define HELLO_TIMEOUT_US (10 * 1000 * 1000)
#define LINK_QUEUE_MAX   (64u << 20)
#define CLOSE_REPLACED   4000

struct hub_out {
    struct hub_out *next;
    size_t len;
    uint8_t data[]; /* LWS_PRE bytes of headroom, then the frame */
};

struct hub_link {
    struct hub_link *next;
    hub *h;
    struct lws *wsi;
    char party[API_PARTY_ID_MAX + 1];
    uint8_t fingerprint[32];
    X509 *cert;
    char *pem;
    int hello, registered, closing;
    int gone_on_close; /* was online when close_link ran: fail its sessions in on_closed */
    uint16_t close_status;
    char close_reason[64];
    api_hello info;
    uint8_t *rx;
    size_t rx_len;
    struct hub_out *out_head, *out_tail;
    size_t out_bytes;
    struct hub_link *blocked_on; /* reads paused until this link's queue drains */
};

struct hub_link *hub_link_find(hub *h, const char *party)
{
    for (struct hub_link *l = h->links; l; l = l->next)
        if (strcmp(l->party, party) == 0)
            return l;
    return NULL;
}

unsigned hub_links_online(hub *h)
{
    unsigned n = 0;
    for (struct hub_link *l = h->links; l; l = l->next)
        n++;
    return n;
}

size_t hub_links_online_ids(hub *h, api_party_name *out, size_t max)
{
    size_t n = 0;
    for (struct hub_link *l = h->links; l && n < max; l = l->next)
        memcpy(out[n++], l->party, sizeof out[0]);
    return n;
}

const char *hub_link_party(struct hub_link *l)
{
    return l->party;
}

const char *hub_link_cert_pem(struct hub_link *l)
{
    return l->pem;
}

X509 *hub_link_cert(struct hub_link *l)
{
    return l->cert;
}

static void unregister(struct hub_link *l)
{
    for (struct hub_link **p = &l->h->links; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    l->registered = 0;
}

static void close_link(struct hub_link *l, int status, const char *why)
{
    if (l->closing)
        return;
    l->closing = 1;
    l->close_status = (uint16_t)status;
    snprintf(l->close_reason, sizeof l->close_reason, "%s", why);
    /* Offline at once: no longer listed or picked for new sessions. Its sessions fail in
     * on_closed (not here: close_link can run inside hub_link_send while a session is
     * routing), and a peer that never reads the close frame is cut off after 5 s. */
    if (l->registered) {
        unregister(l);
        l->gone_on_close = 1;
        log_info("party %s: going offline (%s)", l->party, why);
    }
    lws_set_timeout(l->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
    lws_callback_on_writable(l->wsi);
}

/* Resumes reading from every link paused on `to` (its queue drained, or it is gone). */
static void release_blocked(hub *h, struct hub_link *to)
{
    for (struct hub_link *l = h->links; l; l = l->next)
        if (l->blocked_on == to) {
            l->blocked_on = NULL;
            if (!l->closing)
                lws_rx_flow_control(l->wsi, 1);
            log_info("party %s: reading again (party %s drained its queue)", l->party, to->party);
        }
}

void hub_link_backpressure(struct hub_link *from, struct hub_link *to)
{
    hub *h = from->h;
    if (from == to || from->closing || from->blocked_on || to->out_bytes <= h->cfg.party_high_water)
        return;
    /* Stop reading from the sender, not the recipient: the recipient did nothing wrong,
     * and a fast sender (or a flooder) must wait for it. The sender's TCP window fills and
     * its writes block; the link stays up. */
    from->blocked_on = to;
    lws_rx_flow_control(from->wsi, 0);
    h->m.links_throttled++;
    log_notice("party %s: throttled: %zu bytes queued to party %s (high-water mark %u)",
               from->party, to->out_bytes, to->party, h->cfg.party_high_water);
}

int hub_link_send(struct hub_link *l, const api_frame *f)
{
    if (l->closing)
        return -1;
    size_t need = api_frame_size(f->payload_len);
    if (l->out_bytes + need > LINK_QUEUE_MAX) {
        log_warn("party %s: send queue over %u bytes; closing its link", l->party, LINK_QUEUE_MAX);
        close_link(l, LWS_CLOSE_STATUS_POLICY_VIOLATION, "send queue full");
        return -1;
    }
    struct hub_out *o = malloc(sizeof *o + LWS_PRE + need);
    if (!o)
        return -1;
    if (api_frame_encode(o->data + LWS_PRE, need, &o->len, f) != API_OK) {
        free(o);
        return -1;
    }
    o->next = NULL;
    if (l->out_tail)
        l->out_tail->next = o;
    else
        l->out_head = o;
    l->out_tail = o;
    l->out_bytes += need;
    lws_callback_on_writable(l->wsi);
    return 0;
}

static int on_established(hub *h, struct hub_link *l, struct lws *wsi)
{
    memset(l, 0, sizeof *l);
    l->h = h;
    l->wsi = wsi;
    SSL *ssl = lws_get_ssl(wsi);
    l->cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
    if (!l->cert || SSL_get_verify_result(ssl) != X509_V_OK ||
        mpcd_tls_cert_cn(l->cert, l->party, sizeof l->party) != 0 ||
        !api_party_id_valid(l->party) || mpcd_tls_cert_fingerprint(l->cert, l->fingerprint) ||
        !(l->pem = mpcd_tls_cert_pem(l->cert))) {
        log_warn("party link: refused a connection whose certificate has no valid party id CN");
        h->m.links_rejected++;
        free(l->pem);
        X509_free(l->cert);
        l->pem = NULL;
        l->cert = NULL;
        return -1;
    }
    /* The CA also signs the hub's own server certificate: only a certificate made for a
     * TLS client (extendedKeyUsage = clientAuth) is a party. */
    if (!mpcd_tls_cert_has_eku(l->cert, XKU_SSL_CLIENT)) {
        log_warn("party link: refused '%s': its certificate lacks extendedKeyUsage=clientAuth",
                 l->party);
        h->m.links_rejected++;
        free(l->pem);
        X509_free(l->cert);
        l->pem = NULL;
        l->cert = NULL;
        return -1;
    }
    lws_set_timer_usecs(wsi, HELLO_TIMEOUT_US);
    log_info("party %s: connected, waiting for hello", l->party);
    return 0;
}

int hub_link_is_delegate(struct hub_link *l)
{
    return l && strcmp(l->info.role, "delegate") == 0;
}

static void send_activate(void *arg, const uint8_t key_id[HUB_ID_BYTES],
                          const uint8_t session[HUB_ID_BYTES], unsigned index)
{
    struct hub_link *l = arg;
    char *json = hub_store_activate_json(l->h, key_id);
    if (!json)
        return; /* logged; the signer keeps the share pending */
    api_frame f = {.type = API_FRAME_ACTIVATE,
                   .from = API_PARTY_HUB,
                   .to = (uint16_t)index,
                   .payload = (const uint8_t *)json,
                   .payload_len = (uint32_t)strlen(json)};
    memcpy(f.session, session, HUB_ID_BYTES);
    hub_link_send(l, &f);
    free(json);
}

static void on_hello(hub *h, struct hub_link *l, const api_frame *f)
{
    char msg[API_MSG_MAX];
    if (api_hello_parse(&l->info, f->payload, f->payload_len, msg, sizeof msg) != API_OK) {
        log_warn("party %s: bad hello: %s", l->party, msg);
        close_link(l, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "bad hello");
        return;
    }
    struct hub_link *old = hub_link_find(h, l->party);
    if (old) {
        log_notice("party %s: new connection replaces the previous one", l->party);
        unregister(old);
        close_link(old, CLOSE_REPLACED, "replaced");
        hub_session_party_gone(h, l->party);
    }
    l->hello = 1;
    l->registered = 1;
    l->next = h->links;
    h->links = l;
    lws_set_timer_usecs(l->wsi, LWS_SET_TIMER_USEC_CANCEL);
    hub_store_party_seen(h, l->party, l->fingerprint, l->info.backend, l->info.version);
    hub_store_each_active_key(h, l->party, send_activate, l);
    log_info("party %s: online (backend %s, version %s%s)", l->party, l->info.backend,
             l->info.version, hub_link_is_delegate(l) ? ", role delegate" : "");
}

static void on_message(hub *h, struct hub_link *l)
{
    api_frame f;
    api_err e = api_frame_decode(&f, l->rx, l->rx_len);
    if (e != API_OK) {
        log_warn("party %s: %s; closing its link", l->party, api_strerror(e));
        close_link(l, LWS_CLOSE_STATUS_INVALID_PAYLOAD, api_err_code(e));
        return;
    }
    if (!l->hello) {
        if (f.type == API_FRAME_HELLO)
            on_hello(h, l, &f);
        else
            close_link(l, LWS_CLOSE_STATUS_POLICY_VIOLATION, "hello first");
        return;
    }
    switch (f.type) {
    case API_FRAME_PING: {
        api_frame pong = f;
        pong.type = API_FRAME_PONG;
        hub_link_send(l, &pong);
        break;
    }
    case API_FRAME_PONG:
        break;
    case API_FRAME_PROTOCOL:
    case API_FRAME_RESULT:
    case API_FRAME_ABORT:
        hub_session_on_frame(h, l, l->party, &f);
        break;
    default: /* hello twice, or a hub-only frame from a signer */
        log_warn("party %s: unexpected %s frame; closing its link", l->party,
                 api_frame_type_name(f.type));
        close_link(l, LWS_CLOSE_STATUS_POLICY_VIOLATION, "unexpected frame");
    }
}

static int on_receive(hub *h, struct hub_link *l, struct lws *wsi, const void *in, size_t len)
{
    if (l->closing)
        return 0;
    if (!lws_frame_is_binary(wsi)) {
        close_link(l, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary frames only");
        return 0;
    }
    if (l->rx_len + len > api_frame_size(API_FRAME_MAX_PAYLOAD)) {
        close_link(l, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame too large");
        return 0;
    }
    uint8_t *p = realloc(l->rx, l->rx_len + len + 1);
    if (!p)
        return -1;
    l->rx = p;
    memcpy(l->rx + l->rx_len, in, len);
    l->rx_len += len;
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        on_message(h, l);
        free(l->rx);
        l->rx = NULL;
        l->rx_len = 0;
    }
    return 0;
}

static int on_writable(struct hub_link *l)
{
    if (l->closing) {
        /* Send the close frame ourselves: lws 4.1 drops the lws_close_reason payload when
         * a server-writeable callback asks to close. 4 is LWS_WRITE_CLOSE, which the
         * header keeps private but the ABI fixes (enum values never change). */
        uint8_t buf[LWS_PRE + 2 + sizeof l->close_reason];
        size_t n = strlen(l->close_reason);
        buf[LWS_PRE] = (uint8_t)(l->close_status >> 8);
        buf[LWS_PRE + 1] = (uint8_t)l->close_status;
        memcpy(buf + LWS_PRE + 2, l->close_reason, n);
        lws_write(l->wsi, buf + LWS_PRE, n + 2, (enum lws_write_protocol)4);
        return -1;
    }
    struct hub_out *o = l->out_head;
    if (!o)
        return 0;
    int n = lws_write(l->wsi, o->data + LWS_PRE, o->len, LWS_WRITE_BINARY);
    if (n < (int)o->len)
        return -1;
    l->out_head = o->next;
    if (!l->out_head)
        l->out_tail = NULL;
    l->out_bytes -= o->len;
    free(o);
    if (l->out_bytes <= l->h->cfg.party_high_water / 2)
        release_blocked(l->h, l);
    if (l->out_head)
        lws_callback_on_writable(l->wsi);
    return 0;
}

static void on_closed(hub *h, struct hub_link *l)
{
    release_blocked(h, l);
    if (l->registered) {
        unregister(l);
        log_info("party %s: offline", l->party);
        hub_session_party_gone(h, l->party);
    } else if (l->gone_on_close && !hub_link_find(h, l->party)) {
        /* closed by us while online, and not reconnected meanwhile */
        log_info("party %s: offline", l->party);
        hub_session_party_gone(h, l->party);
    }
    while (l->out_head) {
        struct hub_out *o = l->out_head;
        l->out_head = o->next;
        free(o);
    }
    l->out_tail = NULL;
    free(l->rx);
    free(l->pem);
    X509_free(l->cert);
    l->rx = NULL;
    l->pem = NULL;
    l->cert = NULL;
}

static int hub_party_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                              void *in, size_t len)
{
    hub *h = lws_context_user(lws_get_context(wsi));
    struct hub_link *l = user;
    char uri[64];
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
        /* lws turns our return value into OpenSSL's verdict: 0 accepts. Accept only what
         * OpenSSL itself verified against [party] ca (len = preverify_ok). */
        if (!len)
            h->m.links_rejected++;
        return len ? 0 : 1;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return hub_conn_filter(h, (int)(intptr_t)in) ? 0 : -1;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        hub_conn_add(h, wsi); /* conn.c also puts a deadline on the TLS handshake */
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        hub_conn_del(h, wsi);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
            strcmp(uri, "/v1/party") != 0)
            return -1;
        hub_conn_request_seen(h, wsi);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        return on_established(h, l, wsi);
    case LWS_CALLBACK_RECEIVE:
        return on_receive(h, l, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writable(l);
    case LWS_CALLBACK_TIMER:
        if (!l->hello) {
            log_warn("party %s: no hello within 10 s; closing", l->party);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
        on_closed(h, l);
        return 0;
    case LWS_CALLBACK_HTTP:
        /* A plain HTTPS request on the party port: nothing to see here. */
        return lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL) ? -1 : -1;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

const struct lws_protocols hub_party_protocol = {
    .name = "mpc-party-v1",
    .callback = hub_party_callback,
    .per_session_data_size = sizeof(struct hub_link),
    .rx_buffer_size = 65536,
};
