/* daemon/ctl/import.c — mpcctl keys import (issue 17, the import contract): an existing
 * key — a private key or BIP32 xprv, or a tss-lib wallet's shares — staged on dealer nodes
 * (`mpc-signerd import-key` / `migrate-stage`, each printing one dealer descriptor) becomes
 * a new key of this system with the SAME public key and addresses, dealt to a new
 * committee by one hub session. mpcctl checks the descriptors before anything is sent
 * (dealer.h: each with the hub's decoder, api/import.h, then the request body it is
 * about to send as the hub will parse it; the points on the curve; the public shares make
 * the public key, tss_reshare_check_input), computes the address here, and after the
 * session checks that the hub's new key is active with exactly that public key, chain
 * code, committee and source, then shows it as keys show does (its parties' import
 * attestations, of epoch 1, verified: key.c). --dry-run stops after the local checks and
 * prints the request. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/hex.h"
#include "ctl.h"
#include "daemon/common/eth.h"
#include "dealer.h"

static const char usage_import[] =
    "usage: mpcctl keys import --threshold T --parties a,b,c --dealer FILE [--dealer FILE...]\n"
    "                          [--external-id ID] [--wait S] [--dry-run]\n"
    "\n"
    "Moves an existing key in with its public key and addresses (issue 17). First, on each\n"
    "dealer node, stage the old key material with the signer's own backend:\n"
    "  mpc-signerd import-key --config C (--key-file F | --xprv-file F)   (one dealer)\n"
    "  mpc-signerd migrate-stage --config C --save-file F    (each tss-lib party's node)\n"
    "each prints one line of JSON, the dealer descriptor; give each as --dealer FILE (\"-\" =\n"
    "stdin, once). T = signers required of the new key; --parties names its signers in\n"
    "order (dealers may or may not be among them). mpcctl refuses descriptors that are not\n"
    "exactly the staging format, that disagree (source, public key, chain code, old\n"
    "threshold and n), that are too few or too many for the old sharing, or whose public\n"
    "shares do not make the public key (exit 4) — before anything is sent. The hub creates\n"
    "a NEW key id (epoch 1, marked imported); mpcctl checks it is active with exactly the\n"
    "dealers' public key, chain code and the committee asked, then prints it with the\n"
    "Ethereum address computed here. The dealers' staged input is used once and deleted.\n"
    "--external-id: your unique id for the key. --wait: up to S seconds (default 60).\n"
    "--dry-run: only the local checks; prints the public key, the address the key will\n"
    "keep and the request body, and contacts no hub.\n";

typedef struct {
    unsigned threshold, wait;
    int dry_run;
    size_t nparties, ndealers;
    api_party_name parties[API_MAX_PARTIES];
    const char *files[API_MAX_PARTIES];
    const char *external_id;
    ctl_dealer dealers[API_MAX_PARTIES];
} import_args;

static int parse_import(ctl_ctx *c, int argc, char **argv, import_args *a)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"threshold", required_argument, NULL, 't'},
                                         {"parties", required_argument, NULL, 'p'},
                                         {"dealer", required_argument, NULL, 'd'},
                                         {"external-id", required_argument, NULL, 'x'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    char why[160];
    int o, stdin_used = 0;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_import);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc;
        if (o == 't' && ctl_parse_uint(optarg, 2, API_MAX_PARTIES, &a->threshold) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--threshold: 2..%d signers required",
                            API_MAX_PARTIES);
        if (o == 'p' && ctl_parse_parties(optarg, a->parties, API_MAX_PARTIES, &a->nparties, why,
                                          sizeof why) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--parties: %s", why);
        if (o == 'w' && ctl_parse_uint(optarg, 0, 3600, &a->wait) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--wait: 0..3600 seconds");
        if (o == 'x')
            a->external_id = optarg;
        if (o == 'n')
            a->dry_run = 1;
        if (o == 'd') {
            if (a->ndealers == API_MAX_PARTIES)
                return ctl_fail(c, CTL_EXIT_USAGE, "--dealer: at most %d descriptors",
                                API_MAX_PARTIES);
            if (strcmp(optarg, "-") == 0 && stdin_used++)
                return ctl_fail(c, CTL_EXIT_USAGE, "--dealer -: stdin holds one descriptor");
            a->files[a->ndealers++] = optarg;
        }
    }
    if (optind != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "keys import: unexpected '%s'", argv[optind]);
    if (!a->threshold || !a->nparties || !a->ndealers)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "keys import needs --threshold T, --parties a,b,c and at least one "
                        "--dealer FILE (see --help)");
    if (a->nparties < 2 || a->threshold > a->nparties)
        return ctl_fail(c, CTL_EXIT_USAGE, "--threshold %u is more than the %zu parties",
                        a->threshold, a->nparties);
    if (a->external_id && !api_external_id_valid(a->external_id, strlen(a->external_id)))
        return ctl_fail(c, CTL_EXIT_USAGE, "--external-id: 1 to %d characters of [A-Za-z0-9._@:-]",
                        API_EXTERNAL_ID_MAX);
    return CTL_EXIT_OK;
}

/* Reads and parses the descriptor in a->files[i]. */
static int read_dealer(ctl_ctx *c, import_args *a, size_t i)
{
    const char *path = a->files[i];
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "re");
    char buf[CTL_DEALER_TEXT_MAX + 2], why[320];
    if (!f)
        return ctl_fail(c, CTL_EXIT_LOCAL, "--dealer %s: cannot open it", path);
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    int err = ferror(f);
    if (!is_stdin)
        fclose(f);
    if (err)
        return ctl_fail(c, CTL_EXIT_LOCAL, "--dealer %s: cannot read it", path);
    buf[len] = 0;
    if (len > CTL_DEALER_TEXT_MAX)
        return ctl_fail(c, CTL_EXIT_VERIFY,
                        "--dealer %s: dealer descriptor: more than %d bytes (it is one line of "
                        "JSON, at most %d bytes)",
                        path, CTL_DEALER_TEXT_MAX, CTL_DEALER_TEXT_MAX);
    ctl_dealer_err e = ctl_dealer_parse(&a->dealers[i], buf, len, why, sizeof why);
    if (e != CTL_DEALER_OK)
        return ctl_fail(c, CTL_EXIT_VERIFY, "--dealer %s: %s", path, why);
    return CTL_EXIT_OK;
}

/* Checks body (the request about to be sent) with ctl_dealer_check_request; a refusal
 * (exit 4) names the --dealer file of each dealers[i] the message mentions. */
static int check_body(ctl_ctx *c, const import_args *a, const char *body)
{
    char why[320], files[768] = "";
    api_import_req *req = malloc(sizeof *req);
    if (!req)
        return ctl_fail(c, CTL_EXIT_LOCAL, "out of memory");
    ctl_dealer_err e = ctl_dealer_check_request(body, strlen(body), req, why, sizeof why);
    free(req);
    if (e == CTL_DEALER_OK)
        return CTL_EXIT_OK;
    for (size_t i = 0, n = 0; i < a->ndealers; i++) {
        char tag[32];
        size_t used = strlen(files);
        snprintf(tag, sizeof tag, "dealers[%zu]", i);
        if (strstr(why, tag) && used < sizeof files)
            snprintf(files + used, sizeof files - used, "%s%s is --dealer %s", n++ ? ", " : " (",
                     tag, a->files[i]);
    }
    return ctl_fail(c, CTL_EXIT_VERIFY, "keys import: the dealer descriptors refused: %s%s%s", why,
                    files, files[0] ? ")" : "");
}

/* The key the import keeps, as computed here from the descriptors. */
static int local_key(const import_args *a, ctl_key *k)
{
    memset(k, 0, sizeof *k);
    memcpy(k->public_key, a->dealers[0].public_key, 33);
    memcpy(k->chain_code, a->dealers[0].chain_code, 32);
    k->t = a->threshold;
    k->n = (unsigned)a->nparties;
    k->nparties = a->nparties;
    memcpy(k->parties, a->parties, sizeof k->parties);
    return ctl_uncompressed_hex(k->uncompressed, k->public_key) == 0 &&
                   mpcd_eth_address(k->address, k->public_key) == 0
               ? 0
               : -1;
}

static void print_dealers(ctl_ctx *c, const import_args *a)
{
    const ctl_dealer *d0 = &a->dealers[0];
    fprintf(c->out, "imported     from %s (old sharing %u of %u; dealers: ",
            api_import_source_name(d0->source), d0->old_threshold, d0->old_n);
    for (size_t i = 0; i < a->ndealers; i++)
        fprintf(c->out, "%s%s", i ? ", " : "", a->dealers[i].party);
    fprintf(c->out, ")\n");
}

static int dry_run(ctl_ctx *c, const import_args *a, const ctl_key *k, const char *body)
{
    char pk[67];
    api_hex_encode(pk, k->public_key, 33);
    if (c->json) {
        json_t *req = json_loads(body, 0, NULL);
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o}", "public_key", pk, "public_key_uncompressed",
                              k->uncompressed, "ethereum_address", k->address, "request",
                              "POST /v1/keys/import", "body", req ? req : json_null());
        ctl_print_json(c, o);
        json_decref(o);
        return CTL_EXIT_OK;
    }
    fprintf(c->out, "dry run      descriptors checked; nothing sent\n");
    fprintf(c->out, "threshold    %u of %zu (parties: ", a->threshold, a->nparties);
    for (size_t i = 0; i < a->nparties; i++)
        fprintf(c->out, "%s%s", i ? ", " : "", a->parties[i]);
    fprintf(c->out, ")\n");
    print_dealers(c, a);
    fprintf(c->out, "public key   %s\n", pk);
    fprintf(c->out, "uncompressed %s\n", k->uncompressed);
    fprintf(c->out, "address      %s (Ethereum, EIP-55)\n", k->address);
    fprintf(c->out, "request      POST /v1/keys/import\n%s\n", body);
    return CTL_EXIT_OK;
}

int ctl_import_check(const ctl_dealer *d0, unsigned t, const api_party_name *parties, size_t np,
                     const json_t *v, char *why, size_t cap)
{
    char pk[67], cc[65], addr[43];
    api_hex_encode(pk, d0->public_key, 33);
    api_hex_encode(cc, d0->chain_code, 32);
    const char *src = api_import_source_name(d0->source);
    json_t *ps = json_object_get(v, "parties"), *ep = json_object_get(v, "epoch");
    const char *id = ctl_jstr(v, "id");
    if (mpcd_eth_address(addr, d0->public_key) != 0)
        snprintf(why, cap, "the dealers' public key is invalid");
    else if (strlen(id) != 32 || strspn(id, "0123456789abcdefABCDEF") != 32)
        snprintf(why, cap, "the key has no valid id");
    else if (strcmp(ctl_jstr(v, "status"), "active") != 0)
        snprintf(why, cap, "key %s is %s, not active", id, ctl_jstr(v, "status"));
    else if (strcasecmp(ctl_jstr(v, "public_key"), pk) != 0)
        snprintf(why, cap, "key %s has public key '%s', not the dealers' %s", id,
                 ctl_jstr(v, "public_key"), pk);
    else if (strcasecmp(ctl_jstr(v, "chain_code"), cc) != 0)
        snprintf(why, cap, "key %s has another chain code than the dealers'", id);
    else if (strcmp(ctl_jstr(v, "ethereum_address"), addr) != 0)
        snprintf(why, cap, "key %s: the hub's address '%s' is not the public key's %s", id,
                 ctl_jstr(v, "ethereum_address"), addr);
    else if (!json_is_true(json_object_get(v, "imported")) ||
             strcmp(ctl_jstr(v, "import_source"), src) != 0)
        snprintf(why, cap, "key %s is not marked imported from %s", id, src);
    else if (ep && json_integer_value(ep) != 1)
        snprintf(why, cap, "key %s is at epoch %lld, not 1", id, (long long)json_integer_value(ep));
    else if (ctl_jint(v, "threshold") != t || ctl_jint(v, "n") != (long long)np ||
             json_array_size(ps) != np)
        snprintf(why, cap, "key %s is %lld of %lld, not the %u of %zu asked for", id,
                 ctl_jint(v, "threshold"), ctl_jint(v, "n"), t, np);
    else {
        for (size_t i = 0; i < np; i++) {
            const char *p = json_string_value(json_array_get(ps, i));
            if (!p || strcmp(p, parties[i]) != 0) {
                snprintf(why, cap, "key %s's parties are not the ones asked for, in order", id);
                return CTL_EXIT_VERIFY;
            }
        }
        return CTL_EXIT_OK;
    }
    return CTL_EXIT_VERIFY;
}

/* Sends the import, then reads and checks the new key. */
static int send_import(ctl_ctx *c, const import_args *a, const char *body)
{
    char url[64], sid[33], kid[33], why[320];
    json_t *res = NULL;
    ctl_resp r;
    snprintf(url, sizeof url, "/v1/keys/import?wait=%u",
             a->wait > API_WAIT_MAX_SECONDS ? API_WAIT_MAX_SECONDS : a->wait);
    int rc = ctl_session_post(c, url, body, a->wait, "keys import", &res, sid);
    if (rc != CTL_EXIT_OK)
        return rc;
    /* a key view (201: "id") or a session result (200: "key_id") */
    const char *id = ctl_jstr(res, "key_id")[0] ? ctl_jstr(res, "key_id") : ctl_jstr(res, "id");
    snprintf(kid, sizeof kid, "%s", id);
    json_decref(res);
    if (strlen(kid) != 32 || strspn(kid, "0123456789abcdefABCDEF") != 32)
        return ctl_fail(c, CTL_EXIT_FAILED, "keys import: the hub's answer names no key id");
    snprintf(url, sizeof url, "/v1/keys/%s", kid);
    if ((rc = ctl_http(c, "GET", url, NULL, &r)) != CTL_EXIT_OK)
        return rc;
    if (r.status != 200) {
        rc = ctl_hub_error(c, &r, "keys import");
        ctl_resp_free(&r);
        return rc;
    }
    if (ctl_import_check(&a->dealers[0], a->threshold, a->parties, a->nparties, r.body, why,
                         sizeof why) != CTL_EXIT_OK) {
        rc = ctl_fail(c, CTL_EXIT_VERIFY,
                      "keys import: the hub's key does not check out, not showing an address: "
                      "%s",
                      why);
        ctl_resp_free(&r);
        return rc;
    }
    fprintf(c->err, "keys import: key %s active (session %s)\n", kid, sid[0] ? sid : "-");
    json_object_set_new(r.body, "dealers_checked", json_true());
    if (sid[0])
        json_object_set_new(r.body, "session_id", json_string(sid));
    /* then as keys show: its (import) attestations verified, the address recomputed */
    rc = ctl_show_key(c, r.body, NULL, 0);
    if (rc == CTL_EXIT_OK && !c->json)
        print_dealers(c, a);
    ctl_resp_free(&r);
    return rc;
}

int ctl_cmd_keys_import(ctl_ctx *c, int argc, char **argv)
{
    import_args *a = calloc(1, sizeof *a);
    ctl_key k;
    if (!a)
        return ctl_fail(c, CTL_EXIT_LOCAL, "out of memory");
    a->wait = 60;
    int rc = parse_import(c, argc, argv, a);
    if (rc == CTL_OPT_HELP_SHOWN) {
        rc = CTL_EXIT_OK;
        goto out;
    }
    for (size_t i = 0; rc == CTL_EXIT_OK && i < a->ndealers; i++)
        rc = read_dealer(c, a, i);
    if (rc != CTL_EXIT_OK)
        goto out;
    /* the body to send, checked as the hub will parse it */
    char *body = ctl_dealer_request_body(a->threshold, a->parties, a->nparties, a->dealers,
                                         a->ndealers, a->external_id);
    rc = body ? check_body(c, a, body) : ctl_fail(c, CTL_EXIT_LOCAL, "out of memory");
    if (rc == CTL_EXIT_OK && local_key(a, &k) != 0)
        rc = ctl_fail(c, CTL_EXIT_VERIFY, "keys import: invalid public key");
    if (rc == CTL_EXIT_OK && a->dry_run)
        rc = dry_run(c, a, &k, body);
    else if (rc == CTL_EXIT_OK && (rc = ctl_hub_setup(c)) == CTL_EXIT_OK)
        rc = send_import(c, a, body);
    free(body);
out:
    free(a);
    return rc;
}
