/* daemon/ctl/migrate.c — mpcctl migrate check: run on an old tss-lib party's node, reads
 * that party's save file (daemon/common/tsslib.h), checks it and prints what the
 * migration will keep — the public key and Ethereum address — and what it needs: the
 * inferred threshold, the party's position and share id, every party's public share.
 * Local only (no hub); the share itself is never printed, and the file's bytes live in
 * secure memory that is wiped. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/hex.h"
#include "ctl.h"
#include "daemon/common/eth.h"
#include "daemon/common/tsslib.h"
#include "tss/secmem.h"

static const char usage_migrate[] =
    "usage: mpcctl migrate check --tss-lib FILE [--threshold T] [--json]\n"
    "\n"
    "Run on an old party's node, with that party's tss-lib (bnb-chain, GG18/GG20 ECDSA)\n"
    "save file, the JSON of its LocalPartySaveData. Checks the file — its format, every\n"
    "point on secp256k1, the share ids (Ks) distinct and non-zero, this party's ShareID in\n"
    "Ks, Xi·G = BigXj[i], and that ECDSAPub and every BigXj lie on one polynomial (which\n"
    "gives the threshold: tss-lib's own 'threshold' is one less) — and prints the public\n"
    "key, the Ethereum address, the threshold, the party's position and share id and every\n"
    "party's public share. Never the share Xi.\n"
    "  --threshold T   signers the key needs, as the operator knows it (t of t-of-n):\n"
    "                  refused if the file's key needs another number\n"
    "Exit codes: 0 the file checks out; 2 usage; 4 the file is refused (malformed or\n"
    "inconsistent: the message says why); 5 the file cannot be read.\n";

/* Reads path into secure memory (*buf, free with tss_secmem_free). CTL_EXIT_OK or
 * CTL_EXIT_LOCAL with a message. */
static int read_secret_file(ctl_ctx *c, const char *path, uint8_t **buf, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    *buf = NULL;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MPCD_TSSLIB_FILE_MAX) {
        close(fd);
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s: not a regular file of at most %u bytes", path,
                        MPCD_TSSLIB_FILE_MAX);
    }
    *len = (size_t)st.st_size;
    *buf = tss_secmem_alloc(*len + 1);
    while (*buf && got < *len) {
        ssize_t r = read(fd, *buf + got, *len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!*buf || got != *len) {
        tss_secmem_free(*buf);
        *buf = NULL;
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s: cannot read the file", path);
    }
    return CTL_EXIT_OK;
}

static void print_json(ctl_ctx *c, const char *path, const mpcd_tsslib_share *s, const char *pk_hex,
                       const char *addr, const char *id_hex)
{
    json_t *o = json_object(), *parties = json_array();
    for (size_t j = 0; j < s->n; j++) {
        uint8_t b[33];
        char x[65], p[67];
        tss_scalar_serialize(b, &s->x[j]);
        api_hex_encode(x, b, 32);
        tss_point_serialize(b, &s->pub[j]);
        api_hex_encode(p, b, 33);
        json_array_append_new(parties, json_pack("{s:s, s:s}", "share_id", x, "public_share", p));
    }
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "public_key", json_string(pk_hex));
    json_object_set_new(o, "address", json_string(addr));
    json_object_set_new(o, "threshold", json_integer(s->threshold));
    json_object_set_new(o, "n", json_integer((json_int_t)s->n));
    json_object_set_new(o, "tsslib_threshold", json_integer(s->threshold - 1));
    json_object_set_new(o, "position", json_integer((json_int_t)s->i));
    json_object_set_new(o, "share_id", json_string(id_hex));
    json_object_set_new(o, "parties", parties);
    ctl_print_json(c, o);
    json_decref(o);
}

static void print_text(ctl_ctx *c, const char *path, const mpcd_tsslib_share *s, const char *pk_hex,
                       const char *addr, const char *id_hex)
{
    fprintf(c->out, "tss-lib save file  %s\n", path);
    fprintf(c->out, "public key         %s\n", pk_hex);
    fprintf(c->out, "address            %s\n", addr);
    fprintf(c->out, "threshold          %u of %zu (tss-lib threshold %u)\n", s->threshold, s->n,
            s->threshold - 1);
    fprintf(c->out, "position           %zu (0-based, in Ks and BigXj)\n", s->i);
    fprintf(c->out, "share id           %s (ShareID mod q)\n", id_hex);
    fprintf(c->out, "parties            share id (x) / public share\n");
    for (size_t j = 0; j < s->n; j++) {
        uint8_t b[33];
        char x[65], p[67];
        tss_scalar_serialize(b, &s->x[j]);
        api_hex_encode(x, b, 32);
        tss_point_serialize(b, &s->pub[j]);
        api_hex_encode(p, b, 33);
        fprintf(c->out, "  %2zu%s %s\n      %s\n", j, j == s->i ? "*" : " ", x, p);
    }
    fprintf(c->out,
            "checks             ok: Xi·G = BigXj[%zu]; ECDSAPub and every BigXj on one "
            "polynomial of degree %u\n",
            s->i, s->threshold - 1);
}

static int migrate_check(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"tss-lib", required_argument, NULL, 'f'},
                                         {"threshold", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    unsigned t = 0;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_migrate);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
        if (o == 'f')
            path = optarg;
        else if (ctl_parse_uint(optarg, 2, MPCD_TSSLIB_MAX_PARTIES, &t) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--threshold '%s': expected 2..%u signers", optarg,
                            MPCD_TSSLIB_MAX_PARTIES);
    }
    if (!path || optind != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "migrate check takes --tss-lib FILE (see --help)");

    uint8_t *data, pk[33], id[32];
    size_t len = 0;
    int rc = read_secret_file(c, path, &data, &len);
    if (rc != CTL_EXIT_OK)
        return rc;
    mpcd_tsslib_share *s = NULL;
    char why[512], pk_hex[67], addr[43], id_hex[65];
    mpcd_tsslib_err err = mpcd_tsslib_load(data, len, t, &s, why, sizeof why);
    tss_secmem_free(data); /* wipes Xi's digits */
    if (err != MPCD_TSSLIB_OK)
        return ctl_fail(c, CTL_EXIT_VERIFY, "%s refused (%s): %s", path, mpcd_tsslib_strerror(err),
                        why);
    tss_point_serialize(pk, &s->pk);
    api_hex_encode(pk_hex, pk, 33);
    tss_scalar_serialize(id, &s->x[s->i]);
    api_hex_encode(id_hex, id, 32);
    if (mpcd_eth_address(addr, pk) != 0) { /* cannot happen: pk was parsed */
        mpcd_tsslib_free(s);
        return ctl_fail(c, CTL_EXIT_VERIFY, "%s: no address for the public key", path);
    }
    if (c->json)
        print_json(c, path, s, pk_hex, addr, id_hex);
    else
        print_text(c, path, s, pk_hex, addr, id_hex);
    mpcd_tsslib_free(s);
    return CTL_EXIT_OK;
}

int ctl_cmd_migrate(ctl_ctx *c, int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "";
    if (strcmp(verb, "check") == 0)
        return migrate_check(c, argc - 1, argv + 1);
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(usage_migrate, c->out);
        return CTL_EXIT_OK;
    }
    fputs(usage_migrate, c->err);
    return CTL_EXIT_USAGE;
}
