/* daemon/signerd/main.c — mpc-signerd: parse the command line and config, harden the
 * process, open the sealing backend, the store and the ban list, unseal the node identity,
 * dial the hub and run one libuv loop until SIGTERM. Operator commands work on the same
 * config and database (the daemon may be running: SQLite's busy timeout covers it). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>

#include "api/hex.h"
#include "daemon/common/log.h"
#include "daemon/common/secfile.h"
#include "daemon/common/tsslib.h"
#include "signer.h"
#include "stage.h"
#include "tss/secmem.h"

#define DEFAULT_CONFIG "/etc/mpc-signer/mpc-signerd.conf"

#ifdef SIGNER_TEST_HOOKS /* the test build only: tests/signerd/hooks.h */
#include "hooks.h"
#else
#define signer_test_store_opened(st) ((void)0)
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpc-signerd [--config FILE] [COMMAND]\n"
            "  run                        run the signer (default)\n"
            "  check-config               validate the config, certificates and backend; exit\n"
            "  init-identity [--import KEY.pem] [--csr OUT.csr]\n"
            "                             create (or import) the node's P-256 identity key,\n"
            "                             seal it to [hub] identity_key, write a CSR (CN =\n"
            "                             party id) for the deployment CA to sign\n"
            "  shares list                the shares on this node (key id, status, t, n)\n"
            "  shares remove-pending KEY  delete a pending share of a keygen that failed\n"
            "  shares drop-stale KEY EPOCH\n"
            "                             delete this node's active share of an epoch the key\n"
            "                             moved on from while the node was offline (it can\n"
            "                             never sign again); then a reshare can bring it back\n"
            "  bans list                  banned peers (fingerprint, party, reason, when)\n"
            "  bans lift FINGERPRINT      lift a ban (takes effect at the daemon's next start)\n"
            "  audit verify               check the audit log's hash chain; non-zero on a break\n"
            "  import-key --key-file FILE [--chain-code HEX]\n"
            "                             stage a whole private key (64 hex digits or an xprv)\n"
            "                             for POST /v1/keys/import: sealed here, dealt once;\n"
            "                             prints the dealer descriptor for mpcctl keys import\n"
            "  migrate-stage --save-file FILE [--threshold T] [--chain-code HEX]\n"
            "                             stage this node's share of a tss-lib key (its save\n"
            "                             file, checked) the same way\n"
            "  staged list                staged inputs (public key, source, descriptor)\n"
            "  staged remove PUBLIC_KEY   delete a staged input without dealing it\n"
            "default config: %s\n",
            DEFAULT_CONFIG);
}

static void hsm_log(void *arg, hsm_log_level level, const char *msg)
{
    (void)arg;
    mpcd_log(level == HSM_LOG_WARNING ? LOG_WARNING : LOG_INFO, "backend: %s", msg);
}

static int open_backend(const signer_config *c, hsm_backend **out)
{
    hsm_config hc;
    signer_config_to_hsm(c, &hc);
    hc.log = hsm_log;
    hsm_err e = hsm_open(&hc, out);
    if (e != HSM_OK) {
        log_err("[backend] %s: %s %s", hsm_kind_name(hc.kind), hsm_strerror(e), hsm_last_detail());
        return -1;
    }
    if (hc.kind == HSM_KIND_SOFT)
        log_warn("[backend] kind = soft: shares are sealed by a key file, not by hardware; "
                 "for development and demos only");
    return 0;
}

static void on_close_noop(uv_handle_t *h)
{
    (void)h;
}

static void shutdown_signer(signer *sd, const char *why)
{
    if (sd->stopping)
        return;
    sd->stopping = 1;
    log_notice("%s: shutting down", why);
    sd_notify(0, "STOPPING=1");
    signer_session_abort_all(sd, "the signer is shutting down");
    uv_signal_stop(&sd->sig_term);
    uv_signal_stop(&sd->sig_int);
    uv_signal_stop(&sd->sig_hup);
    uv_close((uv_handle_t *)&sd->sig_term, on_close_noop);
    uv_close((uv_handle_t *)&sd->sig_int, on_close_noop);
    uv_close((uv_handle_t *)&sd->sig_hup, on_close_noop);
    uv_timer_stop(&sd->watchdog);
    uv_close((uv_handle_t *)&sd->watchdog, on_close_noop);
    signer_link_stop(sd);
}

static void on_signal(uv_signal_t *s, int signum)
{
    if (signum == SIGHUP)
        return signer_gate_reload(s->data);
    shutdown_signer(s->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

/* libuv's pool threads live until the process exits, and OpenSSL keeps a random generator
 * per thread that only OPENSSL_thread_stop() on that thread frees. At shutdown one job per
 * pool thread (the barrier holds each thread until all have one) releases them, so the
 * daemon exits with nothing allocated (which the sanitizer build checks). */
static uv_barrier_t pool_barrier;

static void pool_thread_stop(uv_work_t *w)
{
    (void)w;
    OPENSSL_thread_stop();
    uv_barrier_wait(&pool_barrier);
}

static void pool_thread_stopped(uv_work_t *w, int status)
{
    (void)status;
    free(w);
}

static void stop_pool_threads(uv_loop_t *loop, unsigned threads)
{
    uv_barrier_init(&pool_barrier, threads);
    for (unsigned i = 0; i < threads; i++) {
        uv_work_t *w = calloc(1, sizeof *w);
        if (!w || uv_queue_work(loop, w, pool_thread_stop, pool_thread_stopped) != 0)
            abort(); /* the barrier would wait forever; there is nothing left to lose */
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_barrier_destroy(&pool_barrier);
}

static int load_bans(void *ctx, const uint8_t fp[32])
{
    return tss_banlist_load(ctx, fp) == TSS_OK ? 0 : -1;
}

/* Opens what both the daemon and the operator commands need. */
static int open_state(signer *sd)
{
    if (open_backend(&sd->cfg, &sd->hsm) != 0)
        return -1;
    signer_store_err e = signer_store_open(sd->cfg.database, &sd->store);
    if (e != SIGNER_STORE_OK) {
        log_err("[signer] database %s: %s %s", sd->cfg.database, signer_store_strerror(e),
                signer_store_last_detail());
        return -1;
    }
    return 0;
}

/* At every start: the database is intact and the audit chain verifies; its head goes to
 * the journal, so a log cut off at its end can be noticed by comparing heads. */
static int check_store(signer *sd)
{
    uint64_t seq = 0;
    uint8_t head[32];
    char hex[65];
    signer_store_err e = signer_store_check(sd->store);
    if (e != SIGNER_STORE_OK) {
        log_err("[signer] database %s fails its check: %s %s; restore nothing from backups (see "
                "DESIGN.md), investigate",
                sd->cfg.database, signer_store_strerror(e), signer_store_last_detail());
        return -1;
    }
    if (signer_store_audit_head(sd->store, &seq, head) == SIGNER_STORE_OK) {
        api_hex_encode(hex, head, 32);
        log_notice("audit log: %llu entries, head %s", (unsigned long long)seq, hex);
    }
    return 0;
}

static void close_state(signer *sd)
{
    signer_session_cache_clear(sd);
    tss_banlist_free(sd->bans);
    signer_store_close(sd->store);
    hsm_close(sd->hsm);
    signer_ident_free(sd);
    signer_gate_free(sd);
    sd->bans = NULL;
    sd->store = NULL;
    sd->hsm = NULL;
}

static int run(signer *sd)
{
    int rc = 1;
    /* The thread pool's size is ours to know (stop_pool_threads); sessions run there. */
    const char *pool = getenv("UV_THREADPOOL_SIZE");
    sd->pool_threads = pool ? (unsigned)strtoul(pool, NULL, 10) : 0;
    if (sd->pool_threads < 1 || sd->pool_threads > 128) {
        sd->pool_threads = 4;
        setenv("UV_THREADPOOL_SIZE", "4", 1);
    }
    if (tss_secmem_harden_process() != 0)
        log_warn("cannot make the process non-dumpable");
    /* signal() before any thread exists: a hub that resets the link while OpenSSL writes
     * must not kill the signer. */
    signal(SIGPIPE, SIG_IGN);
    if (open_state(sd) != 0 || check_store(sd) != 0)
        goto out;
    signer_test_store_opened(sd->store);
    if (tss_banlist_new(&sd->bans, signer_session_persist_ban, sd) != TSS_OK ||
        signer_store_ban_load(sd->store, load_bans, sd->bans) != SIGNER_STORE_OK) {
        log_err("cannot load the ban list");
        goto out;
    }
    if (signer_ident_load(sd) != 0 || signer_gate_load(sd) != 0)
        goto out;
    sd->backend_name = hsm_kind_name(hsm_backend_kind(sd->hsm));
    if (tss_secmem_lock_failures())
        log_warn("secure memory could not be locked (RLIMIT_MEMLOCK); secrets may be swapped");
    uv_loop_init(&sd->loop);
    uv_signal_init(&sd->loop, &sd->sig_term);
    uv_signal_init(&sd->loop, &sd->sig_int);
    uv_signal_init(&sd->loop, &sd->sig_hup);
    sd->sig_term.data = sd->sig_int.data = sd->sig_hup.data = sd;
    uv_signal_start(&sd->sig_term, on_signal, SIGTERM);
    uv_signal_start(&sd->sig_int, on_signal, SIGINT);
    uv_signal_start(&sd->sig_hup, on_signal, SIGHUP);
    uv_timer_init(&sd->loop, &sd->watchdog);
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000)
        uv_timer_start(&sd->watchdog, on_watchdog, wd_usec / 2000, wd_usec / 2000);
    if (signer_link_start(sd) != 0) {
        shutdown_signer(sd, "startup failed");
        uv_run(&sd->loop, UV_RUN_DEFAULT);
        uv_loop_close(&sd->loop);
        goto out;
    }
    log_notice("party '%s' (%s backend) dialling wss://%s:%u%s (version %s)", sd->cfg.party_id,
               sd->backend_name, sd->cfg.hub_host, sd->cfg.hub_port, sd->cfg.hub_path,
               SIGNER_VERSION);
    uv_run(&sd->loop, UV_RUN_DEFAULT);
    stop_pool_threads(&sd->loop, sd->pool_threads);
    int lc = uv_loop_close(&sd->loop);
    if (lc != 0)
        log_warn("event loop closed with handles open: %s", uv_strerror(lc));
    rc = 0;
    log_notice("stopped");
out:
    close_state(sd);
    return rc;
}

static int check_config(signer *sd)
{
    char err[512];
    if (signer_config_check(&sd->cfg, err, sizeof err) != 0) {
        log_err("%s", err);
        return 1;
    }
    int rc = open_state(sd) == 0 && signer_ident_load(sd) == 0 && signer_gate_load(sd) == 0 ? 0 : 1;
    close_state(sd);
    if (rc == 0)
        fprintf(stderr, "config, certificates, backend, identity key and policy: ok\n");
    return rc;
}

static int init_identity(signer *sd, int argc, char **argv)
{
    const char *import = NULL, *csr = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--import") == 0 && i + 1 < argc)
            import = argv[++i];
        else if (strcmp(argv[i], "--csr") == 0 && i + 1 < argc)
            csr = argv[++i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (open_backend(&sd->cfg, &sd->hsm) != 0)
        return 1;
    int rc = signer_ident_init(&sd->cfg, sd->hsm, import, csr);
    hsm_close(sd->hsm);
    sd->hsm = NULL;
    if (rc == 0)
        fprintf(stderr, "identity key sealed to %s%s%s\n", sd->cfg.identity_key,
                csr ? "; certificate request in " : "", csr ? csr : "");
    return rc == 0 ? 0 : 1;
}

static int print_share(void *ctx, const signer_share_row *r)
{
    (void)ctx;
    printf("%s %-7s t=%u n=%u index=%u epoch=%lu%s\n", r->key_id,
           signer_share_status_name(r->status), r->t, r->n, r->index, (unsigned long)r->epoch,
           r->imported ? " imported" : "");
    return 0;
}

static int print_ban(void *ctx, const signer_ban_row *b)
{
    char fp[65];
    (void)ctx;
    api_hex_encode(fp, b->fp, 32);
    printf("%s %s %lld %s\n", fp, b->party_id[0] ? b->party_id : "-", (long long)b->created,
           b->reason);
    return 0;
}

static int print_staged(void *ctx, const signer_staged_row *r)
{
    char pk[67];
    (void)ctx;
    api_hex_encode(pk, r->public_key, 33);
    char *d = signer_stage_printable(r->descriptor);
    printf("%s %-7s %lld %s\n", pk, r->source, (long long)r->created, d ? d : "(malformed)");
    free(d);
    return 0;
}

/* import-key / migrate-stage: reads the secret file, seals and stores it, prints the
 * descriptor on stdout. Exit 0, 1 (backend, store), 2 (usage), 4 (input refused). */
static int stage(signer *sd, int tsslib, int argc, char **argv)
{
    const char *file = NULL, *cc_hex = NULL;
    unsigned long t = 0;
    uint8_t cc[32];
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], tsslib ? "--save-file" : "--key-file") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(argv[i], "--chain-code") == 0 && i + 1 < argc)
            cc_hex = argv[++i];
        else if (tsslib && strcmp(argv[i], "--threshold") == 0 && i + 1 < argc)
            t = strtoul(argv[++i], NULL, 10);
        else
            file = NULL, i = argc;
    }
    if (!file ||
        (cc_hex && (strlen(cc_hex) != 64 || api_hex_decode(cc, sizeof cc, cc_hex, 64) != API_OK)) ||
        t > 255) {
        usage(stderr);
        return 2;
    }
    char why[768];
    uint8_t *data = NULL;
    size_t len = 0;
    if (mpcd_secfile_read(file, tsslib ? MPCD_TSSLIB_FILE_MAX : 4096, &data, &len, why,
                          sizeof why) != 0) {
        log_err("%s", why);
        return 4;
    }
    if (tss_secmem_harden_process() != 0)
        log_warn("cannot make the process non-dumpable");
    int rc = 1;
    char *descriptor = NULL;
    if (open_state(sd) == 0) {
        signer_stage_err e =
            tsslib
                ? signer_stage_tsslib(sd->hsm, sd->store, sd->cfg.party_id, data, len, (unsigned)t,
                                      cc_hex ? cc : NULL, &descriptor, why, sizeof why)
                : signer_stage_key(sd->hsm, sd->store, sd->cfg.party_id, data, len,
                                   cc_hex ? cc : NULL, &descriptor, why, sizeof why);
        if (e == SIGNER_STAGE_OK) {
            printf("%s\n", descriptor);
            rc = 0;
        } else {
            log_err("%s: %s", signer_stage_strerror(e), why);
            rc = e == SIGNER_STAGE_ERR_KEY_TEXT || e == SIGNER_STAGE_ERR_KEY ||
                         e == SIGNER_STAGE_ERR_TSSLIB || e == SIGNER_STAGE_ERR_EXISTS
                     ? 4
                     : 1;
        }
    }
    free(descriptor);
    tss_secmem_free(data);
    close_state(sd);
    return rc;
}

static int admin(signer *sd, int argc, char **argv)
{
    signer_store_err e = signer_store_open(sd->cfg.database, &sd->store);
    int rc = 2;
    if (e != SIGNER_STORE_OK) {
        log_err("[signer] database %s: %s", sd->cfg.database, signer_store_strerror(e));
        return 1;
    }
    const char *what = argv[0], *verb = argc > 1 ? argv[1] : "";
    if (strcmp(what, "shares") == 0 && strcmp(verb, "list") == 0 && argc == 2) {
        e = signer_store_share_list(sd->store, print_share, NULL);
    } else if (strcmp(what, "shares") == 0 && strcmp(verb, "remove-pending") == 0 && argc == 3) {
        e = signer_store_share_remove_pending(sd->store, argv[2]);
    } else if (strcmp(what, "shares") == 0 && strcmp(verb, "drop-stale") == 0 && argc == 4) {
        char *end = NULL;
        unsigned long epoch = strtoul(argv[3], &end, 10);
        e = end && !*end && argv[3][0] >= '0' && argv[3][0] <= '9' && epoch <= UINT32_MAX
                ? signer_store_share_drop_stale(sd->store, argv[2], (uint32_t)epoch)
                : SIGNER_STORE_ERR_ARG;
    } else if (strcmp(what, "staged") == 0 && strcmp(verb, "list") == 0 && argc == 2) {
        e = signer_store_staged_list(sd->store, print_staged, NULL);
    } else if (strcmp(what, "staged") == 0 && strcmp(verb, "remove") == 0 && argc == 3) {
        uint8_t pk[33];
        e = strlen(argv[2]) == 66 && api_hex_decode(pk, 33, argv[2], 66) == API_OK
                ? signer_store_staged_remove(sd->store, pk, NULL, "removed by the operator")
                : SIGNER_STORE_ERR_ARG;
    } else if (strcmp(what, "bans") == 0 && strcmp(verb, "list") == 0 && argc == 2) {
        e = signer_store_ban_list(sd->store, print_ban, NULL);
    } else if (strcmp(what, "bans") == 0 && strcmp(verb, "lift") == 0 && argc == 3) {
        uint8_t fp[32];
        e = strlen(argv[2]) == 64 && api_hex_decode(fp, 32, argv[2], 64) == API_OK
                ? signer_store_ban_lift(sd->store, fp)
                : SIGNER_STORE_ERR_ARG;
    } else if (strcmp(what, "audit") == 0 && strcmp(verb, "verify") == 0 && argc == 2) {
        uint64_t checked = 0, bad = 0;
        e = signer_store_audit_verify(sd->store, &checked, &bad);
        if (e == SIGNER_STORE_OK)
            printf("audit log: %llu entries, chain intact\n", (unsigned long long)checked);
        else if (e == SIGNER_STORE_ERR_AUDIT_BROKEN)
            printf("audit log: chain BROKEN at entry %llu (%llu entries checked)\n",
                   (unsigned long long)bad, (unsigned long long)checked);
    } else {
        usage(stderr);
        signer_store_close(sd->store);
        return 2;
    }
    if (e != SIGNER_STORE_OK && e != SIGNER_STORE_ERR_AUDIT_BROKEN)
        log_err("%s %s: %s", what, verb, signer_store_strerror(e));
    rc = e == SIGNER_STORE_OK ? 0 : 1;
    signer_store_close(sd->store);
    sd->store = NULL;
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = DEFAULT_CONFIG;
    int o;
    while ((o = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        if (o == 'c')
            config = optarg;
        else {
            usage(o == 'h' ? stdout : stderr);
            return o == 'h' ? 0 : 2;
        }
    }
    static signer sd;
    char err[512];
    mpcd_log_init("mpc-signerd", LOG_INFO);
    /* Private keys OpenSSL holds (the identity key, ephemeral keys) live in its locked
     * secure heap. */
    CRYPTO_secure_malloc_init(1 << 20, 32);
    pthread_mutex_init(&sd.cache_lock, NULL);
    pthread_mutex_init(&sd.names_lock, NULL);
    pthread_mutex_init(&sd.policy_lock, NULL);
    if (signer_config_load(config, &sd.cfg, err, sizeof err) != 0) {
        log_err("%s", err);
        return 1;
    }
    mpcd_log_init("mpc-signerd", sd.cfg.log_level);
    const char *cmd = optind < argc ? argv[optind] : "run";
    int rest = argc - optind;
    if (strcmp(cmd, "run") == 0 && rest <= 1)
        return run(&sd);
    if (strcmp(cmd, "check-config") == 0 && rest == 1)
        return check_config(&sd);
    if (strcmp(cmd, "init-identity") == 0)
        return init_identity(&sd, rest - 1, argv + optind + 1);
    if (strcmp(cmd, "import-key") == 0 || strcmp(cmd, "migrate-stage") == 0)
        return stage(&sd, strcmp(cmd, "migrate-stage") == 0, rest - 1, argv + optind + 1);
    if ((strcmp(cmd, "shares") == 0 || strcmp(cmd, "bans") == 0 || strcmp(cmd, "audit") == 0 ||
         strcmp(cmd, "staged") == 0) &&
        rest >= 2)
        return admin(&sd, rest, argv + optind);
    usage(stderr);
    return 2;
}
