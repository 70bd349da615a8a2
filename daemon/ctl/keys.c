/* daemon/ctl/keys.c — mpcctl keys create / list / show. A key's address is printed only
 * after its keygen attestations verified (key.c); --pem prints the (derived) public key for
 * tools that verify signatures independently (openssl pkeyutl). */
#include <getopt.h>
#include <string.h>

#include "api/hex.h"
#include "ctl.h"
#include "daemon/common/eth.h"

static const char usage_keys[] =
    "usage: mpcctl keys create --threshold T (--parties a,b,c | --n N) [--label L] [--wait S]\n"
    "       mpcctl keys list\n"
    "       mpcctl keys show ID [--pem] [--path m/0/1]\n"
    "\n"
    "create  distributed key generation: T = signers required (2-of-3 is --threshold 2);\n"
    "        --parties names the signers (keygen order), or --n lets the hub pick N online\n"
    "        ones. Waits up to S seconds (default 30), then verifies and shows the key.\n"
    "list    every key: id, status, t-of-n, parties, label.\n"
    "show    one key: verifies each keygen attestation against the party's certificate and\n"
    "        the party CA (--party-ca, default --ca), recomputes the public key forms and the\n"
    "        Ethereum address, then prints them (exit 4 if any check fails).\n"
    "        --path also shows the BIP32 child (non-hardened) along that path;\n"
    "        --pem prints only the (derived) public key as PEM, for openssl.\n";

/* Shows a key view: verified (address and all) when active, else its status. */
static int show_view(ctl_ctx *c, json_t *view, const char *path, int pem)
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
    int rc = ctl_key_verify(view, c->party_ca, &k, why, sizeof why);
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
        rc = show_view(c, r.body, path, pem);
    ctl_resp_free(&r);
    return rc;
}

static int keys_list(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_keys);
        if (rc != CTL_OPT_TAKEN) /* no option of its own */
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
    }
    if (optind != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "keys list takes no arguments");
    int rc = ctl_hub_setup(c);
    ctl_resp r;
    if (rc != CTL_EXIT_OK || (rc = ctl_http(c, "GET", "/v1/keys", NULL, &r)) != CTL_EXIT_OK)
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
    const char *label;
} create_args;

static int parse_create(ctl_ctx *c, int argc, char **argv, create_args *a)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"threshold", required_argument, NULL, 't'},
                                         {"parties", required_argument, NULL, 'p'},
                                         {"n", required_argument, NULL, 'n'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"wait", required_argument, NULL, 'w'},
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
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int keys_create(ctl_ctx *c, int argc, char **argv)
{
    create_args a;
    int rc = parse_create(c, argc, argv, &a);
    if (rc == CTL_OPT_HELP_SHOWN)
        return CTL_EXIT_OK;
    if (rc != CTL_EXIT_OK || (rc = ctl_hub_setup(c)) != CTL_EXIT_OK)
        return rc;
    char *body = create_body(&a), url[64];
    ctl_resp r;
    snprintf(url, sizeof url, "/v1/keys?wait=%u",
             a.wait > API_WAIT_MAX_SECONDS ? API_WAIT_MAX_SECONDS : a.wait);
    rc = body ? ctl_http(c, "POST", url, body, &r) : CTL_EXIT_LOCAL;
    free(body);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (r.status == 202) { /* still running: poll the session, then read the key */
        char sid[33], kid[33];
        snprintf(sid, sizeof sid, "%s", ctl_jstr(r.body, "id"));
        snprintf(kid, sizeof kid, "%s", ctl_jstr(r.body, "key_id"));
        ctl_resp_free(&r);
        json_t *s = NULL;
        unsigned left = a.wait > API_WAIT_MAX_SECONDS ? a.wait - API_WAIT_MAX_SECONDS : 0;
        if ((rc = ctl_session_wait(c, sid, left, &s)) != CTL_EXIT_OK)
            return rc;
        int failed = strcmp(ctl_jstr(s, "status"), "failed") == 0;
        json_t *err = json_object_get(s, "error");
        if (failed) {
            rc = ctl_fail(c, CTL_EXIT_FAILED, "keygen session %s failed: %s: %s", sid,
                          ctl_jstr(err, "code"), ctl_jstr(err, "message"));
            json_decref(s);
            return rc;
        }
        json_decref(s);
        snprintf(url, sizeof url, "/v1/keys/%s", kid);
        if ((rc = ctl_http(c, "GET", url, NULL, &r)) != CTL_EXIT_OK)
            return rc;
        r.status = r.status == 200 ? 201 : r.status;
    }
    if (r.status != 201)
        rc = ctl_hub_error(c, &r, "keys create");
    else
        rc = show_view(c, r.body, NULL, 0);
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
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(usage_keys, c->out);
        return CTL_EXIT_OK;
    }
    fputs(usage_keys, c->err);
    return CTL_EXIT_USAGE;
}
