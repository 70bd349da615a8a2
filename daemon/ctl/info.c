/* daemon/ctl/info.c — mpcctl sessions show and mpcctl parties: read-only views of the hub. */
#include <getopt.h>
#include <string.h>

#include "ctl.h"

static const char usage_sessions[] =
    "usage: mpcctl sessions show ID\n"
    "\n"
    "A keygen or signing session: kind, key, status, t of n, parties with their indices,\n"
    "timestamps, result or error, and its events (milliseconds from the first).\n";

static const char usage_parties[] =
    "usage: mpcctl parties\n"
    "\n"
    "Signers that have connected to the hub: online or not, sealing backend, version, last\n"
    "seen, and the SHA-256 of their certificate.\n";

/* Parses only the common options; *rest is the first operand's index. */
static int parse_common(ctl_ctx *c, int argc, char **argv, const char *usage, int *rest)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage);
        if (rc != CTL_OPT_TAKEN)
            return rc; /* no option of its own: CTL_OPT_OTHER cannot happen */
    }
    *rest = optind;
    return CTL_EXIT_OK;
}

static int get_and_print(ctl_ctx *c, const char *path, const char *what,
                         void (*print)(ctl_ctx *, const json_t *))
{
    ctl_resp r;
    int rc = ctl_hub_setup(c);
    if (rc != CTL_EXIT_OK || (rc = ctl_http(c, "GET", path, NULL, &r)) != CTL_EXIT_OK)
        return rc;
    if (r.status != 200)
        rc = ctl_hub_error(c, &r, what);
    else if (c->json)
        ctl_print_json(c, r.body);
    else
        print(c, r.body);
    ctl_resp_free(&r);
    return rc;
}

int ctl_cmd_sessions(ctl_ctx *c, int argc, char **argv)
{
    int rest = 0;
    if (argc < 2 || strcmp(argv[1], "show") != 0) {
        int help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fputs(usage_sessions, help ? c->out : c->err);
        return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    int rc = parse_common(c, argc - 1, argv + 1, usage_sessions, &rest);
    if (rc != CTL_EXIT_OK)
        return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
    if (rest + 1 != argc - 1)
        return ctl_fail(c, CTL_EXIT_USAGE, "sessions show takes one session id");
    const char *id = argv[1 + rest];
    if (strlen(id) != 32 || strspn(id, "0123456789abcdefABCDEF") != 32)
        return ctl_fail(c, CTL_EXIT_USAGE, "'%s' is not a session id (32 hex characters)", id);
    char path[128];
    snprintf(path, sizeof path, "/v1/sessions/%s", id);
    return get_and_print(c, path, "sessions show", ctl_print_session);
}

int ctl_cmd_parties(ctl_ctx *c, int argc, char **argv)
{
    int rest = 0;
    int rc = parse_common(c, argc, argv, usage_parties, &rest);
    if (rc != CTL_EXIT_OK)
        return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
    if (rest != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "parties takes no arguments");
    return get_and_print(c, "/v1/parties", "parties", ctl_print_parties);
}
