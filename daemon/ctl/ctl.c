/* daemon/ctl/ctl.c — mpcctl's command line: global options, the environment, dispatch to
 * the commands, and the small parsers they share. The API key is read from the environment
 * or a file, never from argv (any user can read another's command line in /proc). */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "ctl.h"

static const char usage_main[] =
    "usage: mpcctl [OPTIONS] COMMAND [ARGS]   (mpcctl COMMAND --help for each command)\n"
    "\n"
    "Hub API (HTTPS):\n"
    "  keys create --threshold T (--parties a,b,c | --n N) [--label L] [--wait S]\n"
    "              [--external-id ID] [--delegate NODE --share-out FILE]\n"
    "  keys list [--external-id ID]\n"
    "  keys show ID [--pem] [--path m/0/1]   verifies the keygen attestations first\n"
    "  keys signers (set ID a,b | get ID | clear ID)   default signers\n"
    "  keys refresh ID [--wait S]             new shares, same key, parties and threshold\n"
    "  keys reshare ID --threshold T --parties a,b,c [--wait S]   new committee, same key\n"
    "  keys import --threshold T --parties a,b,c --dealer FILE [--dealer FILE...]\n"
    "              [--external-id ID] [--wait S] [--dry-run]   an existing key moved in\n"
    "  sign KEY (--hash HEX | --file F [--sha256|--keccak] | --eth-tx HEX | --eip191 HEX |\n"
    "           --eip712 FILE) [--path m/0/1] [--signers a,b] [--delegate-share FILE]\n"
    "           [--request-id ID] [--approval FILE]... [--verify] [--wait S]\n"
    "  sessions show ID\n"
    "  parties\n"
    "Request approvals and signer policy (local, offline):\n"
    "  approve KEY --name A --request-id ID (--hash HEX | --eth-tx HEX | --eip191 HEX |\n"
    "          --eip712 FILE)\n"
    "          [--path P] [--expires-in S] (--key FILE.pem | --pkcs11-module M --token T\n"
    "          --key-label L [--pin-file F] | --sealed FILE --config SIGNER.conf)\n"
    "                                           prints the approval JSON\n"
    "  approve --show-key (--key FILE.pem | --pkcs11-module ... | --sealed ...)\n"
    "  approve --seal-new FILE --alg ALG --name A --config SIGNER.conf\n"
    "  policy sign --key K.pem FILE | verify --pubkey K.pub FILE | show FILE\n"
    "Node admin (local, on the signer node):\n"
    "  node init --backend tpm2|pkcs11|soft --config FILE [--csr OUT] [--import KEY.pem]\n"
    "  node status --config FILE\n"
    "Migration (local, on an old tss-lib party's node):\n"
    "  migrate check --tss-lib FILE [--threshold T]\n"
    "Development helpers (NOT for production: the CA key is a plain file):\n"
    "  dev ca DIR\n"
    "  dev issue --ca DIR --name N (--server IP/DNS,... | --csr FILE) [--out FILE]\n"
    "\n"
    "Options (before or after the command):\n"
    "  --hub URL            hub REST API, https://host:port     (env MPCCTL_HUB)\n"
    "  --ca FILE            CA of the hub's TLS certificate      (env MPCCTL_CA)\n"
    "  --party-ca FILE      CA of the signers' certificates, for attestations\n"
    "                       (env MPCCTL_PARTY_CA; default: --ca)\n"
    "  --api-key-file FILE  file holding the API key    (env MPCCTL_API_KEY_FILE)\n"
    "                       or the key itself in env MPCCTL_API_KEY; never on the command line\n"
    "  --json               machine-readable output\n"
    "\n"
    "Exit codes: 0 ok; 1 the hub refused or the session failed; 2 usage; 3 cannot reach the\n"
    "hub (connection, TLS, timeout); 4 a check failed (attestation, signature, audit chain,\n"
    "tss-lib save file); 5 a local file, config or sealing backend failed; 6 still running\n"
    "after --wait.\n";

void ctl_ctx_init(ctl_ctx *c, FILE *out, FILE *err)
{
    memset(c, 0, sizeof *c);
    c->out = out;
    c->err = err;
}

void ctl_ctx_free(ctl_ctx *c)
{
    OPENSSL_cleanse(c->api_key, sizeof c->api_key);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

int ctl_fail(ctl_ctx *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mpcctl: ", c->err);
    vfprintf(c->err, fmt, ap);
    fputc('\n', c->err);
    va_end(ap);
    return code;
}

static int set_str(ctl_ctx *c, char *dst, size_t cap, const char *v, const char *what)
{
    if (strlen(v) >= cap)
        return ctl_fail(c, CTL_EXIT_USAGE, "%s is too long", what);
    snprintf(dst, cap, "%s", v);
    return CTL_OPT_TAKEN;
}

int ctl_common_option(ctl_ctx *c, int opt, const char *arg, const char *usage)
{
    switch (opt) {
    case CTL_OPT_JSON:
        c->json = 1;
        return CTL_OPT_TAKEN;
    case CTL_OPT_HUB:
        return set_str(c, c->hub, sizeof c->hub, arg, "--hub");
    case CTL_OPT_CA:
        return set_str(c, c->ca, sizeof c->ca, arg, "--ca");
    case CTL_OPT_PARTY_CA:
        return set_str(c, c->party_ca, sizeof c->party_ca, arg, "--party-ca");
    case CTL_OPT_KEY_FILE:
        return set_str(c, c->api_key_file, sizeof c->api_key_file, arg, "--api-key-file");
    case CTL_OPT_API_KEY:
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "--api-key is refused: other users can read a command line; put the key "
                        "in MPCCTL_API_KEY or in a file (mode 0600) named by --api-key-file");
    case CTL_OPT_HELP:
        fputs(usage, c->out);
        return CTL_OPT_HELP_SHOWN;
    case '?':
    case ':':
        fputs(usage, c->err);
        return CTL_EXIT_USAGE;
    default:
        return CTL_OPT_OTHER;
    }
}

int ctl_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int ctl_parse_parties(const char *list, api_party_name *out, size_t max, size_t *count, char *why,
                      size_t cap)
{
    size_t n = 0;
    const char *p = list;
    *count = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        char id[API_PARTY_ID_MAX + 2];
        if (len == 0 || len > API_PARTY_ID_MAX) {
            snprintf(why, cap, "party list '%s': empty or over-long name", list);
            return -1;
        }
        memcpy(id, p, len);
        id[len] = 0;
        if (!api_party_id_valid(id)) {
            snprintf(why, cap, "'%s' is not a party id (1..64 of A-Z a-z 0-9 . _ -)", id);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if (strcmp(out[i], id) == 0) {
                snprintf(why, cap, "party '%s' is listed twice", id);
                return -1;
            }
        if (n == max) {
            snprintf(why, cap, "at most %zu parties", max);
            return -1;
        }
        memcpy(out[n++], id, len + 1);
        if (!p[len])
            break;
        p += len + 1;
    }
    *count = n;
    return 0;
}

typedef int (*ctl_cmd_fn)(ctl_ctx *, int, char **);

int ctl_main(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_COMMON_OPTIONS, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    static const struct {
        const char *name;
        ctl_cmd_fn fn;
    } cmds[] = {
        {"keys", ctl_cmd_keys},       {"sign", ctl_cmd_sign},     {"sessions", ctl_cmd_sessions},
        {"parties", ctl_cmd_parties}, {"node", ctl_cmd_node},     {"dev", ctl_cmd_dev},
        {"approve", ctl_cmd_approve}, {"policy", ctl_cmd_policy}, {"migrate", ctl_cmd_migrate}};
    int o;
    optind = 0; /* a full reset: ctl_main may run more than once in a process (tests) */
    opterr = 0;
    while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (o == 'V') {
            fprintf(c->out, "mpcctl %s\n", "0.1.0");
            return CTL_EXIT_OK;
        }
        int rc = ctl_common_option(c, o, optarg, usage_main);
        if (rc != CTL_OPT_TAKEN)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
    }
    if (optind >= argc) {
        fputs(usage_main, c->err);
        return CTL_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[optind], cmds[i].name) == 0)
            return cmds[i].fn(c, argc - optind, argv + optind);
    if (strcmp(argv[optind], "help") == 0) {
        fputs(usage_main, c->out);
        return CTL_EXIT_OK;
    }
    fprintf(c->err, "mpcctl: unknown command '%s'\n\n%s", argv[optind], usage_main);
    return CTL_EXIT_USAGE;
}
