/* daemon/hubd/main.c — mpc-hubd: parse the command line and config, open the database
 * (recovering from a crash), serve the REST API (rest.c) and the party link (a
 * libwebsockets vhost) on our own libuv loop, and shut down cleanly on SIGTERM.
 *   mpc-hubd [--config FILE]                     run the hub
 *   mpc-hubd [--config FILE] create-api-key NAME  print a new API key once
 *   mpc-hubd [--config FILE] check-config        validate and exit
 *   mpc-hubd [--config FILE] list-api-keys       names and creation times
 *   mpc-hubd [--config FILE] revoke-api-key NAME  delete a key (takes effect at once) */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <systemd/sd-daemon.h>

#include "api/hex.h"
#include "daemon/common/log.h"
#include "daemon/common/log_limit.h"
#include "daemon/common/tls.h"
#include "hub.h"

#define DEFAULT_CONFIG "/etc/mpc-hub/mpc-hubd.conf"

static hub *log_hub; /* for the EMFILE hook below: one hub per process */

/* lws logs what peers cause (accept errors, bad handshakes): at most 20 lines a second
 * reach the journal, however fast a client can make lws complain. An accept that failed
 * for want of fds is also the only sign lws gives of it: the hub drains the listeners
 * (conn.c) instead of letting the loop spin on them. */
static void lws_log(int level, const char *line)
{
    static mpcd_log_limit lim;
    if (log_hub && !log_hub->stopping &&
        (strstr(line, "accept: errno 24") || strstr(line, "accept: errno 23")))
        hub_conn_emfile(log_hub);
    size_t n = strlen(line);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
    mpcd_log_limited(&lim, 20,
                     level == LLL_ERR    ? LOG_ERR
                     : level == LLL_WARN ? LOG_WARNING
                                         : LOG_DEBUG,
                     "lws: %s", buf);
}

static void on_close_noop(uv_handle_t *h)
{
    (void)h;
}

static void destroy_lws(hub *h)
{
    uv_timer_stop(&h->grace);
    uv_close((uv_handle_t *)&h->grace, on_close_noop);
    hub_rest_stop(h);
    lws_context_destroy(h->lws);
    h->lws = NULL;
}

/* Parked requests got their 503: destroy lws once they and every other queued answer
 * are written, or after 2 s (a client that does not read). */
static void on_grace(uv_timer_t *t)
{
    hub *h = t->data;
    if (h->responses_pending == 0 || hub_now_ms() - h->stopping_ms >= 2000)
        destroy_lws(h);
}

static void shutdown_hub(hub *h, const char *why)
{
    if (h->stopping)
        return;
    h->stopping = 1;
    h->stopping_ms = hub_now_ms();
    log_notice("%s: shutting down", why);
    sd_notify(0, "STOPPING=1");
    unsigned answered = hub_http_shutdown(h);
    hub_session_fail_all(h, "hub_shutdown", "the hub was stopped while the session ran");
    hub_delegate_clear_all(h); /* memory only: their keys fail at the next start */
    uv_signal_stop(&h->sig_term);
    uv_signal_stop(&h->sig_int);
    uv_close((uv_handle_t *)&h->sig_term, on_close_noop);
    uv_close((uv_handle_t *)&h->sig_int, on_close_noop);
    uv_timer_stop(&h->tick);
    uv_close((uv_handle_t *)&h->tick, on_close_noop);
    hub_conn_stop(h);
    if (answered || h->responses_pending) {
        log_info("waiting for %u queued HTTP answer(s)", h->responses_pending);
        h->grace.data = h;
        uv_timer_start(&h->grace, on_grace, 10, 10);
    } else {
        destroy_lws(h);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    shutdown_hub(s->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

static struct lws_vhost *make_vhost(hub *h, const char *name, const char *listen, unsigned port,
                                    const char *cert, const char *key, const char *ca,
                                    const struct lws_protocols *protocols,
                                    const lws_retry_bo_t *idle)
{
    struct lws_context_creation_info v;
    memset(&v, 0, sizeof v);
    v.vhost_name = name;
    v.iface = listen[0] ? listen : NULL;
    v.port = (int)port;
    v.protocols = protocols;
    v.ssl_cert_filepath = cert;
    v.ssl_private_key_filepath = key;
    /* DO_SSL_GLOBAL_INIT on the vhost too: without it lws serves the vhost in plain text. */
    v.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    /* An IPv4 listen address must not turn into an IPv6 wildcard socket. */
    if (listen[0] && strchr(listen, '.'))
        v.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    /* HTTP/1.1 only: lws 4.1 does not expose custom headers (X-API-Key) on h2 streams. */
    v.alpn = "http/1.1";
    if (ca && ca[0]) {
        v.ssl_ca_filepath = ca;
        v.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
    }
    /* An explicit policy instead of the system's: TLS 1.2 with ECDHE + AEAD suites only,
     * and TLS 1.3; no compression, no renegotiation. */
    v.ssl_cipher_list = HUB_TLS12_CIPHERS;
    v.tls1_3_plus_cipher_list = HUB_TLS13_CIPHERS;
    v.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                        SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                        SSL_OP_CIPHER_SERVER_PREFERENCE;
    v.keepalive_timeout = (int)h->cfg.idle_timeout;
    v.retry_and_idle_policy = idle;
    struct lws_vhost *vh = lws_create_vhost(h->lws, &v);
    if (!vh)
        log_err("cannot listen for %s on %s:%u (port in use, or bad certificate/key?)", name,
                listen[0] ? listen : "*", port);
    return vh;
}

/* What can be checked before binding anything: files readable, allow-list well formed. */
static int check_config(hub *h)
{
    hub_config *c = &h->cfg;
    int bad = mpcd_tls_check_file("[api] cert", c->api_cert);
    bad |= mpcd_tls_check_file("[api] key", c->api_key);
    bad |= mpcd_tls_check_file("[party] cert", c->party_cert);
    bad |= mpcd_tls_check_file("[party] key", c->party_key);
    bad |= mpcd_tls_check_file("[party] ca", c->party_ca);
    if (c->api_client_ca[0])
        bad |= mpcd_tls_check_file("[api] client_ca", c->api_client_ca);
    bad |= hub_allow_parse(h, c->allow);
    /* A server certificate must say so: the party CA may issue both kinds. */
    const char *certs[2][2] = {{"[api] cert", c->api_cert}, {"[party] cert", c->party_cert}};
    for (int i = 0; i < 2 && !bad; i++)
        if (mpcd_tls_cert_file_has_eku(certs[i][1], XKU_SSL_SERVER) != 1) {
            log_err("%s: %s: not a PEM certificate with extendedKeyUsage=serverAuth", certs[i][0],
                    certs[i][1]);
            bad = 1;
        }
    return bad ? -1 : 0;
}

static int run(hub *h)
{
    /* lws keeps pointers to these for the context's lifetime; the zeroed second entry
     * terminates each list. */
    static struct lws_protocols party_protocols[2];
    hub_config *c = &h->cfg;
    /* A signer whose connection died silently is pinged after [party] ping_interval
     * seconds of silence and dropped (its sessions fail) after idle_timeout. */
    h->party_idle.secs_since_valid_ping = (uint16_t)(c->party_ping ? c->party_ping : 0xffff);
    h->party_idle.secs_since_valid_hangup = (uint16_t)c->party_timeout;
    party_protocols[0] = hub_party_protocol;
    if (check_config(h) != 0)
        return 1;
    if (hub_store_open(h) != 0 || hub_store_recover(h) < 0 || hub_conn_init(h) != 0)
        return 1;
    /* A peer that resets its connection while OpenSSL writes must not kill the hub. */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&h->loop);
    h->started_ms = hub_now_ms();
    lws_set_log_level(LLL_ERR | LLL_WARN | (c->log_level >= LOG_DEBUG ? LLL_NOTICE | LLL_INFO : 0),
                      lws_log);

    struct lws_context_creation_info info;
    void *loops[1] = {&h->loop};
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = h;
    /* lws reads TLS application data in pieces of this size. With the default (4 KiB) the
     * rest of a record larger than that stays inside OpenSSL, the socket never becomes
     * readable again, and the request stalls (bodies whose last record is over 8 KiB).
     * A TLS record holds at most 16 KiB of plaintext: with 32 KiB every read empties it. */
    info.pt_serv_buf_size = 32768;
    /* TLS handshake and request headers must complete within [api] header_timeout. */
    info.timeout_secs = c->header_timeout;
    info.fd_limit_per_thread = h->conns_cap + 64;
    h->lws = lws_create_context(&info);
    if (!h->lws) {
        log_err("cannot create the libwebsockets context");
        return 1;
    }
    if (hub_rest_start(h) != 0 ||
        !make_vhost(h, "party", c->party_listen, c->party_port, c->party_cert, c->party_key,
                    c->party_ca, party_protocols, c->party_ping ? &h->party_idle : NULL)) {
        hub_rest_stop(h);
        lws_context_destroy(h->lws);
        uv_run(&h->loop, UV_RUN_DEFAULT);
        uv_loop_close(&h->loop);
        return 1;
    }
    uv_signal_init(&h->loop, &h->sig_term);
    uv_signal_init(&h->loop, &h->sig_int);
    h->sig_term.data = h->sig_int.data = h;
    uv_signal_start(&h->sig_term, on_signal, SIGTERM);
    uv_signal_start(&h->sig_int, on_signal, SIGINT);
    uv_timer_init(&h->loop, &h->tick);
    uv_timer_init(&h->loop, &h->grace);
    hub_conn_start(h);
    log_hub = h;
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
        uv_timer_start(&h->tick, on_tick, wd_usec / 2000, wd_usec / 2000);
    log_notice("listening: REST API on port %u, party link on port %u (version %s)", c->api_port,
               c->party_port, HUB_VERSION);
    sd_notify(0, "READY=1");
    uv_run(&h->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&h->loop);
    if (rc != 0)
        log_warn("event loop closed with handles open: %s", uv_strerror(rc));
    hub_store_close(h);
    hub_conn_free(h);
    log_notice("stopped");
    return 0;
}

static int create_api_key(hub *h, const char *name)
{
    char key[128];
    if (!api_party_id_valid(name)) {
        log_err("API key name must be [A-Za-z0-9._-]{1,64}");
        return 2;
    }
    if (hub_store_open(h) != 0)
        return 1;
    int r = hub_store_api_key_create(h->db, name, key, sizeof key);
    hub_store_close(h);
    if (r != 0)
        return 1;
    printf("%s\n", key);
    fflush(stdout);
    fprintf(stderr, "API key '%s' created. It is shown once and stored only as a hash.\n", name);
    return 0;
}

static int api_key_admin(hub *h, const char *cmd, const char *name)
{
    if (hub_store_open(h) != 0)
        return 1;
    int r;
    if (strcmp(cmd, "list-api-keys") == 0) {
        r = hub_store_api_key_list(h->db, stdout);
    } else {
        r = hub_store_api_key_revoke(h->db, name);
        if (r == 1)
            log_err("no API key named '%s'", name);
        else if (r == 0)
            fprintf(stderr, "API key '%s' revoked; requests using it now get 401.\n", name);
    }
    hub_store_close(h);
    return r == 0 ? 0 : 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpc-hubd [--config FILE] [run | check-config | create-api-key NAME |\n"
            "                list-api-keys | revoke-api-key NAME]\n"
            "  default config: %s\n",
            DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = DEFAULT_CONFIG;
    int o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (o == 'c')
            config = optarg;
        else {
            usage(o == 'h' ? stdout : stderr);
            return o == 'h' ? 0 : 2;
        }
    }
    static hub h; /* large (rate table); one per process */
    mpcd_log_init("mpc-hubd", LOG_INFO);
    if (hub_config_load(&h.cfg, config) != 0)
        return 1;
    mpcd_log_init("mpc-hubd", h.cfg.log_level);
    const char *cmd = optind < argc ? argv[optind] : "run";
    if (strcmp(cmd, "run") == 0 && optind + 1 >= argc)
        return run(&h);
    if (strcmp(cmd, "check-config") == 0 && optind + 1 == argc)
        return check_config(&h) == 0 ? 0 : 1;
    if (strcmp(cmd, "create-api-key") == 0 && optind + 2 == argc)
        return create_api_key(&h, argv[optind + 1]);
    if (strcmp(cmd, "list-api-keys") == 0 && optind + 1 == argc)
        return api_key_admin(&h, cmd, NULL);
    if (strcmp(cmd, "revoke-api-key") == 0 && optind + 2 == argc)
        return api_key_admin(&h, cmd, argv[optind + 1]);
    usage(stderr);
    return 2;
}
