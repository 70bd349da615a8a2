/* daemon/ctl/keys.c — mpcctl keys create / list / show. A key's address is printed only
 * after its keygen attestations verified (key.c); --pem prints the (derived) public key for
 * tools that verify signatures independently (openssl pkeyutl). */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api/b64.h"
#include "api/hex.h"
#include "ctl.h"
#include "daemon/common/eth.h"

static const char usage_keys[] =
    "usage: mpcctl keys create --threshold T (--parties a,b,c | --n N) [--label L] [--wait S]\n"
    "                          [--external-id ID] [--delegate NODE --share-out FILE]\n"
    "       mpcctl keys list [--external-id ID]\n"
    "       mpcctl keys show ID [--pem] [--path m/0/1]\n"
    "       mpcctl keys signers (set ID a,b | get ID | clear ID)\n"
    "       mpcctl keys refresh ID [--wait S]                (mpcctl keys refresh --help)\n"
    "       mpcctl keys reshare ID --threshold T --parties a,b,c [--wait S]\n"
    "       mpcctl keys import --threshold T --parties a,b,c --dealer FILE [--dealer FILE...]\n"
    "                          [--external-id ID] [--wait S] [--dry-run]\n"
    "\n"
    "create  distributed key generation: T = signers required (2-of-3 is --threshold 2);\n"
    "        --parties names the signers (keygen order), or --n lets the hub pick N online\n"
    "        ones. Waits up to S seconds (default 30), then verifies and shows the key.\n"
    "        --external-id: your unique id for the key (refused if another key has it).\n"
    "        --delegate NODE: NODE (a signer with role = delegate) keeps no share; its share,\n"
    "        sealed by NODE's TPM/HSM, is written once to --share-out FILE (created, 0600,\n"
    "        fsync'ed; it must not exist). Back FILE up: without it that share is gone.\n"
    "list    every key: id, status, t-of-n, parties, label; --external-id: that key only.\n"
    "signers the default signers of a key, used when a sign request names none: set (at\n"
    "        least T of the key's parties, in order of preference), get, clear.\n"
    "refresh, reshare, import: new shares of a key (same public key), or an existing key\n"
    "        moved in; each has its own --help.\n"
    "show    one key: verifies each keygen attestation against the party's certificate and\n"
    "        the party CA (--party-ca, default --ca), recomputes the public key forms and the\n"
    "        Ethereum address, then prints them (exit 4 if any check fails).\n"
    "        --path also shows the BIP32 child (non-hardened) along that path;\n"
    "        --pem prints only the (derived) public key as PEM, for openssl.\n";

int ctl_show_key(ctl_ctx *c, json_t *view, const char *path, int pem)
{
    ctl_key k;
    char why[256];
    if (strcmp(ctl_jstr(view, "status"), "active") != 0) {
        if (c->json)
            ctl_print_json(c, view);
        else
            ctl_print_key(c, view, NULL, NULL);
        return pem ? ctl_fail(c, CTL_EXIT_FAILED, "key %s is %s: no public key",
                              ctl_jstr(view, "id"), ctl_jstr(view, "status"))
                   : CTL_EXIT_OK;
    }
    int rc = ctl_key_check(c, view, &k, why, sizeof why);
    if (rc != CTL_EXIT_OK)
        return ctl_fail(c, rc, "key %s: VERIFICATION FAILED, not showing its address: %s",
                        ctl_jstr(view, "id"), why);
    uint8_t child[33];
    if (path && ctl_derive(child, &k, path) != 0)
        return ctl_fail(c, CTL_EXIT_USAGE, "cannot derive along '%s'", path);
    if (pem) {
        char *p = ctl_pubkey_pem(path ? child : k.public_key);
        if (!p)
            return ctl_fail(c, CTL_EXIT_LOCAL, "cannot encode the public key as PEM");
        fputs(p, c->out);
        free(p);
        return CTL_EXIT_OK;
    }
    if (c->json) {
        json_t *o = json_deep_copy(view);
        json_object_set_new(o, "attestations_verified", json_true());
        if (path) {
            char hex[67], addr[43];
            api_hex_encode(hex, child, 33);
            mpcd_eth_address(addr, child);
            json_object_set_new(o, "derived",
                                json_pack("{s:s,s:s,s:s}", "path", path, "public_key", hex,
                                          "ethereum_address", addr));
        }
        ctl_print_json(c, o);
        json_decref(o);
    } else {
        ctl_print_key(c, view, &k, path);
    }
    return CTL_EXIT_OK;
}

static int keys_show(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"pem", no_argument, NULL, 'p'},
                                         {"path", required_argument, NULL, 'P'},
                                         {NULL, 0, NULL, 0}};
    int o, pem = 0;
    const char *path = NULL;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_keys);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
        if (o == 'p')
            pem = 1;
        else
            path = optarg;
    }
    uint32_t idx[API_PATH_MAX_DEPTH];
    size_t depth;
    if (path && api_path_parse(path, idx, &depth) != API_OK)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "--path '%s': expected m/i/j/... (at most 8 non-hardened indices)", path);
    if (optind + 1 != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "keys show takes one key id (see --help)");
    const char *id = argv[optind];
    if (strlen(id) != 32 || strspn(id, "0123456789abcdefABCDEF") != 32)
        return ctl_fail(c, CTL_EXIT_USAGE, "'%s' is not a key id (32 hex characters)", id);
    int rc = ctl_hub_setup(c);
    if (rc != CTL_EXIT_OK)
        return rc;
    char url[128];
    ctl_resp r;
    snprintf(url, sizeof url, "/v1/keys/%s", id);
    if ((rc = ctl_http(c, "GET", url, NULL, &r)) != CTL_EXIT_OK)
        return rc;
    if (r.status != 200)
        rc = ctl_hub_error(c, &r, "keys show");
    else
        rc = ctl_show_key(c, r.body, path, pem);
    ctl_resp_free(&r);
    return rc;
}

static int keys_list(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_COMMON_OPTIONS, {"external-id", required_argument, NULL, 'x'}, {NULL, 0, NULL, 0}};
    int o;
    const char *eid = NULL;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_keys);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
        eid = optarg;
    }
    if (optind != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "keys list takes no arguments");
    if (eid && !api_external_id_valid(eid, strlen(eid)))
        return ctl_fail(c, CTL_EXIT_USAGE, "--external-id: 1 to %d characters of [A-Za-z0-9._@:-]",
                        API_EXTERNAL_ID_MAX);
    int rc = ctl_hub_setup(c);
    ctl_resp r;
    char url[64 + API_EXTERNAL_ID_MAX];
    snprintf(url, sizeof url, "/v1/keys%s%s", eid ? "?external_id=" : "", eid ? eid : "");
    if (rc != CTL_EXIT_OK || (rc = ctl_http(c, "GET", url, NULL, &r)) != CTL_EXIT_OK)
        return rc;
    if (r.status != 200)
        rc = ctl_hub_error(c, &r, "keys list");
    else if (c->json)
        ctl_print_json(c, r.body);
    else
        ctl_print_keys(c, r.body);
    ctl_resp_free(&r);
    return rc;
}

typedef struct {
    unsigned threshold, n, wait;
    size_t nparties;
    api_party_name parties[API_MAX_PARTIES];
    const char *label, *external_id, *delegate, *share_out;
} create_args;

static int parse_create(ctl_ctx *c, int argc, char **argv, create_args *a)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"threshold", required_argument, NULL, 't'},
                                         {"parties", required_argument, NULL, 'p'},
                                         {"n", required_argument, NULL, 'n'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {"external-id", required_argument, NULL, 'x'},
                                         {"delegate", required_argument, NULL, 'd'},
                                         {"share-out", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    char why[160];
    int o;
    memset(a, 0, sizeof *a);
    a->wait = 30;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_keys);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc;
        if (o == 't' && ctl_parse_uint(optarg, 2, API_MAX_PARTIES, &a->threshold) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--threshold: 2..%d signers required",
                            API_MAX_PARTIES);
        if (o == 'n' && ctl_parse_uint(optarg, 2, API_MAX_PARTIES, &a->n) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--n: 2..%d parties", API_MAX_PARTIES);
        if (o == 'w' && ctl_parse_uint(optarg, 0, 3600, &a->wait) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--wait: 0..3600 seconds");
        if (o == 'l')
            a->label = optarg;
        if (o == 'x')
            a->external_id = optarg;
        if (o == 'd')
            a->delegate = optarg;
        if (o == 'o')
            a->share_out = optarg;
        if (o == 'p' && ctl_parse_parties(optarg, a->parties, API_MAX_PARTIES, &a->nparties, why,
                                          sizeof why) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--parties: %s", why);
    }
    if (optind != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "keys create: unexpected '%s'", argv[optind]);
    if (!a->threshold)
        return ctl_fail(c, CTL_EXIT_USAGE, "keys create needs --threshold T (signers required)");
    if (!a->nparties == !a->n)
        return ctl_fail(c, CTL_EXIT_USAGE, "keys create needs either --parties a,b,c or --n N");
    unsigned n = a->nparties ? (unsigned)a->nparties : a->n;
    if (n < 2 || a->threshold > n)
        return ctl_fail(c, CTL_EXIT_USAGE, "--threshold %u is more than the %u parties",
                        a->threshold, n);
    if (a->label && strlen(a->label) > API_LABEL_MAX)
        return ctl_fail(c, CTL_EXIT_USAGE, "--label: at most %d bytes", API_LABEL_MAX);
    if (a->external_id && !api_external_id_valid(a->external_id, strlen(a->external_id)))
        return ctl_fail(c, CTL_EXIT_USAGE, "--external-id: 1 to %d characters of [A-Za-z0-9._@:-]",
                        API_EXTERNAL_ID_MAX);
    if (a->delegate && !api_party_id_valid(a->delegate))
        return ctl_fail(c, CTL_EXIT_USAGE, "--delegate: a party id ([A-Za-z0-9._-])");
    if (!a->delegate != !a->share_out)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "--delegate NODE and --share-out FILE go together: the delegate's "
                        "sealed share is handed out once and must be kept");
    return CTL_EXIT_OK;
}

static char *create_body(const create_args *a)
{
    json_t *o = json_pack("{s:i}", "threshold", (int)a->threshold);
    if (a->nparties) {
        json_t *p = json_array();
        for (size_t i = 0; i < a->nparties; i++)
            json_array_append_new(p, json_string(a->parties[i]));
        json_object_set_new(o, "parties", p);
    } else {
        json_object_set_new(o, "n", json_integer(a->n));
    }
    if (a->label)
        json_object_set_new(o, "label", json_string(a->label));
    if (a->external_id)
        json_object_set_new(o, "external_id", json_string(a->external_id));
    if (a->delegate)
        json_object_set_new(o, "delegate", json_string(a->delegate));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Writes the delegate share (base64 and a newline) to the file opened before the keygen,
 * fsyncs it and its directory. 0, or -1. */
static int write_share(int fd, const char *path, const char *b64)
{
    size_t len = strlen(b64), off = 0;
    while (off < len) {
        ssize_t w = write(fd, b64 + off, len - off);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0)
        return -1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* The key as the hub shows it once its delegate share was handed (it turns active right
 * after the answer carrying the share was written). */
static int fetch_active(ctl_ctx *c, const char *kid, ctl_resp *r)
{
    char url[64];
    snprintf(url, sizeof url, "/v1/keys/%s", kid);
    for (int i = 0; i < 50; i++) {
        int rc = ctl_http(c, "GET", url, NULL, r);
        if (rc != CTL_EXIT_OK || r->status != 200 ||
            strcmp(ctl_jstr(r->body, "status"), "delivering") != 0)
            return rc;
        ctl_resp_free(r);
        usleep(100000);
    }
    return ctl_http(c, "GET", url, NULL, r);
}

/* The delegate share: from the keygen's answer, or picked up (POST .../delegate_share) when
 * the keygen answered 202. Written to share_fd; then r holds the key as it is now. */
static int keep_share(ctl_ctx *c, const create_args *a, int fd, const char *kid, ctl_resp *r)
{
    int rc;
    if (!json_is_string(json_object_get(r->body, "delegate_share"))) {
        char url[80];
        ctl_resp_free(r);
        snprintf(url, sizeof url, "/v1/keys/%s/delegate_share", kid);
        if ((rc = ctl_http(c, "POST", url, "{}", r)) != CTL_EXIT_OK)
            return rc;
        if (r->status != 200)
            return ctl_hub_error(c, r, "keys create (delegate share pickup)");
    }
    const char *b64 = ctl_jstr(r->body, "delegate_share");
    if (!api_b64_valid(b64, strlen(b64), NULL) || write_share(fd, a->share_out, b64) != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL,
                        "key %s: the delegate share could NOT be written to %s: it is lost (the "
                        "hub keeps no copy). Sign with the persistent signers and replace the "
                        "delegate's share by a reshare.",
                        kid, a->share_out);
    ctl_resp_free(r);
    fprintf(c->err,
            "delegate share of key %s written to %s: back it up; it is needed to sign "
            "with %s\n",
            kid, a->share_out, a->delegate);
    return fetch_active(c, kid, r);
}

static int keys_create(ctl_ctx *c, int argc, char **argv)
{
    create_args a;
    int rc = parse_create(c, argc, argv, &a), fd = -1;
    if (rc == CTL_OPT_HELP_SHOWN)
        return CTL_EXIT_OK;
    if (rc != CTL_EXIT_OK || (rc = ctl_hub_setup(c)) != CTL_EXIT_OK)
        return rc;
    /* Opened before the keygen: the share is handed out once, there is no second try. */
    if (a.share_out && (fd = open(a.share_out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "--share-out %s: cannot create it (it must not exist)",
                        a.share_out);
    char *body = create_body(&a), url[64], kid[33] = "";
    ctl_resp r;
    snprintf(url, sizeof url, "/v1/keys?wait=%u",
             a.wait > API_WAIT_MAX_SECONDS ? API_WAIT_MAX_SECONDS : a.wait);
    rc = body ? ctl_http(c, "POST", url, body, &r) : CTL_EXIT_LOCAL;
    free(body);
    if (rc != CTL_EXIT_OK)
        goto out_unlink;
    if (r.status == 202) { /* still running: poll the session, then read the key */
        char sid[33];
        snprintf(sid, sizeof sid, "%s", ctl_jstr(r.body, "id"));
        snprintf(kid, sizeof kid, "%s", ctl_jstr(r.body, "key_id"));
        ctl_resp_free(&r);
        json_t *s = NULL;
        unsigned left = a.wait > API_WAIT_MAX_SECONDS ? a.wait - API_WAIT_MAX_SECONDS : 0;
        if ((rc = ctl_session_wait(c, sid, left, &s)) != CTL_EXIT_OK)
            goto out_unlink;
        int failed = strcmp(ctl_jstr(s, "status"), "failed") == 0;
        json_t *err = json_object_get(s, "error");
        if (failed) {
            rc = ctl_fail(c, CTL_EXIT_FAILED, "keygen session %s failed: %s: %s", sid,
                          ctl_jstr(err, "code"), ctl_jstr(err, "message"));
            json_decref(s);
            goto out_unlink;
        }
        json_decref(s);
        snprintf(url, sizeof url, "/v1/keys/%s", kid);
        if ((rc = ctl_http(c, "GET", url, NULL, &r)) != CTL_EXIT_OK)
            goto out_unlink;
        r.status = r.status == 200 ? 201 : r.status;
    }
    if (r.status != 201) {
        rc = ctl_hub_error(c, &r, "keys create");
        ctl_resp_free(&r);
        goto out_unlink;
    }
    snprintf(kid, sizeof kid, "%s", ctl_jstr(r.body, "id"));
    if (fd >= 0) {
        rc = keep_share(c, &a, fd, kid, &r);
        close(fd);
        fd = -1;
        if (rc != CTL_EXIT_OK) {
            ctl_resp_free(&r);
            return rc;
        }
    }
    rc = r.status == 200 || r.status == 201 ? ctl_show_key(c, r.body, NULL, 0)
                                            : ctl_hub_error(c, &r, "keys create");
    ctl_resp_free(&r);
    return rc;
out_unlink:
    if (fd >= 0) { /* nothing was handed out: no empty file left behind */
        close(fd);
        unlink(a.share_out);
    }
    return rc;
}

static int signers_cmd(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_keys);
        if (rc != CTL_OPT_TAKEN)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
    }
    const char *verb = optind < argc ? argv[optind] : "";
    int set = strcmp(verb, "set") == 0, get = strcmp(verb, "get") == 0,
        clear = strcmp(verb, "clear") == 0;
    if (!(set || get || clear) || argc - optind != (set ? 3 : 2))
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "usage: mpcctl keys signers (set ID a,b | get ID | clear ID)");
    const char *id = argv[optind + 1];
    if (strlen(id) != 32 || strspn(id, "0123456789abcdefABCDEF") != 32)
        return ctl_fail(c, CTL_EXIT_USAGE, "'%s' is not a key id (32 hex characters)", id);
    char *body = NULL, why[160], url[80];
    if (set) {
        api_party_name p[API_MAX_PARTIES];
        size_t n;
        if (ctl_parse_parties(argv[optind + 2], p, API_MAX_PARTIES, &n, why, sizeof why) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "signers: %s", why);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_string(p[i]));
        json_t *b = json_pack("{s:o}", "parties", a);
        body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
    }
    int rc = ctl_hub_setup(c);
    ctl_resp r;
    snprintf(url, sizeof url, "/v1/keys/%s/signers", id);
    if (rc != CTL_EXIT_OK || (rc = ctl_http(c,
                                            set     ? "PUT"
                                            : clear ? "DELETE"
                                                    : "GET",
                                            url, body, &r)) != CTL_EXIT_OK) {
        free(body);
        return rc;
    }
    free(body);
    if (r.status != 200) {
        rc = ctl_hub_error(c, &r, "keys signers");
    } else if (c->json) {
        ctl_print_json(c, r.body);
    } else {
        json_t *a = json_object_get(r.body, "signers");
        fprintf(c->out, "key %s default signers: ", id);
        for (size_t i = 0; i < json_array_size(a); i++)
            fprintf(c->out, "%s%s", i ? ", " : "", json_string_value(json_array_get(a, i)));
        fprintf(c->out, "%s\n",
                json_array_size(a) ? "" : "(none: the hub picks online persistent parties)");
    }
    ctl_resp_free(&r);
    return rc;
}

int ctl_cmd_keys(ctl_ctx *c, int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "";
    if (strcmp(verb, "create") == 0)
        return keys_create(c, argc - 1, argv + 1);
    if (strcmp(verb, "list") == 0)
        return keys_list(c, argc - 1, argv + 1);
    if (strcmp(verb, "show") == 0)
        return keys_show(c, argc - 1, argv + 1);
    if (strcmp(verb, "signers") == 0)
        return signers_cmd(c, argc - 1, argv + 1);
    if (strcmp(verb, "refresh") == 0)
        return ctl_cmd_keys_refresh(c, argc - 1, argv + 1);
    if (strcmp(verb, "reshare") == 0)
        return ctl_cmd_keys_reshare(c, argc - 1, argv + 1);
    if (strcmp(verb, "import") == 0)
        return ctl_cmd_keys_import(c, argc - 1, argv + 1);
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(usage_keys, c->out);
        return CTL_EXIT_OK;
    }
    fputs(usage_keys, c->err);
    return CTL_EXIT_USAGE;
}
