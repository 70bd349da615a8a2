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
#include "daemon/common/secfile.h"
#include "daemon/common/tsslib.h"
#include "tss/secmem.h"

static const char usage_migrate[] =
    "usage: mpcctl migrate check --tss-lib FILE [--tss-lib FILE2 ...] [--threshold T]\n"
    "                            [--json]\n"
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
    "  --tss-lib FILE2 ...  more save files of the same key (other parties'), for a test\n"
    "                  deployment or an operator holding them: each is checked, then all\n"
    "                  must agree (ECDSAPub, Ks, BigXj) and be different parties'\n"
    "Exit codes: 0 the file checks out; 2 usage; 4 the file is refused (malformed or\n"
    "inconsistent: the message says why); 5 the file cannot be read.\n";

/* Reads path into secure memory (*buf, free with tss_secmem_free). CTL_EXIT_OK or
 * CTL_EXIT_LOCAL with a message. */
static int read_secret_file(ctl_ctx *c, const char *path, uint8_t **buf, size_t *len)
{
    char why[512];
    if (mpcd_secfile_read(path, MPCD_TSSLIB_FILE_MAX, buf, len, why, sizeof why) != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s", why);
    return CTL_EXIT_OK;
}

/* The hex of party j's share id (x) and public share. */
static void party_hex(const mpcd_tsslib_share *s, size_t j, char x[65], char p[67])
{
    uint8_t b[33];
    tss_scalar_serialize(b, &s->x[j]);
    api_hex_encode(x, b, 32);
    tss_point_serialize(b, &s->pub[j]);
    api_hex_encode(p, b, 33);
}

/* s[0..count) passed mpcd_tsslib_check_set; s[0] is described, every file listed. */
static void print_json(ctl_ctx *c, char *const *paths, mpcd_tsslib_share *const *s, size_t count,
                       const char *pk_hex, const char *addr)
{
    json_t *o = json_object(), *parties = json_array(), *files = json_array();
    char x[65], p[67];
    for (size_t j = 0; j < s[0]->n; j++) {
        party_hex(s[0], j, x, p);
        json_array_append_new(parties, json_pack("{s:s, s:s}", "share_id", x, "public_share", p));
    }
    for (size_t k = 0; k < count; k++) {
        party_hex(s[k], s[k]->i, x, p);
        json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "file", paths[k], "position",
                                               (json_int_t)s[k]->i, "share_id", x));
    }
    party_hex(s[0], s[0]->i, x, p);
    json_object_set_new(o, "file", json_string(paths[0]));
    json_object_set_new(o, "public_key", json_string(pk_hex));
    json_object_set_new(o, "address", json_string(addr));
    json_object_set_new(o, "threshold", json_integer(s[0]->threshold));
    json_object_set_new(o, "n", json_integer((json_int_t)s[0]->n));
    json_object_set_new(o, "tsslib_threshold", json_integer(s[0]->threshold - 1));
    json_object_set_new(o, "position", json_integer((json_int_t)s[0]->i));
    json_object_set_new(o, "share_id", json_string(x));
    json_object_set_new(o, "parties", parties);
    json_object_set_new(o, "files", files);
    ctl_print_json(c, o);
    json_decref(o);
}

static void print_text(ctl_ctx *c, char *const *paths, mpcd_tsslib_share *const *s, size_t count,
                       const char *pk_hex, const char *addr)
{
    const mpcd_tsslib_share *a = s[0];
    char x[65], p[67];
    party_hex(a, a->i, x, p);
    fprintf(c->out, "tss-lib save file  %s\n", paths[0]);
    fprintf(c->out, "public key         %s\n", pk_hex);
    fprintf(c->out, "address            %s\n", addr);
    fprintf(c->out, "threshold          %u of %zu (tss-lib threshold %u)\n", a->threshold, a->n,
            a->threshold - 1);
    fprintf(c->out, "position           %zu (0-based, in Ks and BigXj)\n", a->i);
    fprintf(c->out, "share id           %s (ShareID mod q)\n", x);
    fprintf(c->out, "parties            share id (x) / public share\n");
    for (size_t j = 0; j < a->n; j++) {
        party_hex(a, j, x, p);
        fprintf(c->out, "  %2zu%s %s\n      %s\n", j, j == a->i ? "*" : " ", x, p);
    }
    fprintf(c->out,
            "checks             ok: Xi·G = BigXj[%zu]; ECDSAPub and every BigXj on one "
            "polynomial of degree %u\n",
            a->i, a->threshold - 1);
    if (count < 2)
        return;
    for (size_t k = 1; k < count; k++)
        fprintf(c->out, "also               %s (position %zu): checked, Xi·G = BigXj[%zu]\n",
                paths[k], s[k]->i, s[k]->i);
    fprintf(c->out,
            "set                ok: %zu files of one key (same ECDSAPub, Ks and BigXj), "
            "%zu different parties%s\n",
            count, count, count >= a->threshold ? ", enough to sign" : "");
}

/* Reads, parses and checks one file into *s. CTL_EXIT_OK, or 5 / 4 with a message. */
static int load_one(ctl_ctx *c, const char *path, unsigned t, mpcd_tsslib_share **s)
{
    uint8_t *data;
    size_t len = 0;
    char why[512];
    int rc = read_secret_file(c, path, &data, &len);
    if (rc != CTL_EXIT_OK)
        return rc;
    mpcd_tsslib_err err = mpcd_tsslib_load(data, len, t, s, why, sizeof why);
    tss_secmem_free(data); /* wipes Xi's digits */
    if (err != MPCD_TSSLIB_OK)
        return ctl_fail(c, CTL_EXIT_VERIFY, "%s refused (%s): %s", path, mpcd_tsslib_strerror(err),
                        why);
    return CTL_EXIT_OK;
}

static int migrate_check(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"tss-lib", required_argument, NULL, 'f'},
                                         {"threshold", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    char *paths[MPCD_TSSLIB_MAX_PARTIES];
    size_t count = 0;
    unsigned t = 0;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_migrate);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
        if (o == 'f') {
            if (count == MPCD_TSSLIB_MAX_PARTIES)
                return ctl_fail(c, CTL_EXIT_USAGE, "at most %u --tss-lib files",
                                MPCD_TSSLIB_MAX_PARTIES);
            paths[count++] = optarg;
        } else if (ctl_parse_uint(optarg, 2, MPCD_TSSLIB_MAX_PARTIES, &t) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--threshold '%s': expected 2..%u signers", optarg,
                            MPCD_TSSLIB_MAX_PARTIES);
    }
    if (count == 0 || optind != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "migrate check takes --tss-lib FILE (see --help)");

    mpcd_tsslib_share *s[MPCD_TSSLIB_MAX_PARTIES] = {0};
    char why[512], pk_hex[67], addr[43];
    uint8_t pk[33];
    int rc = CTL_EXIT_OK;
    for (size_t k = 0; k < count && rc == CTL_EXIT_OK; k++)
        rc = load_one(c, paths[k], t, &s[k]);
    if (rc == CTL_EXIT_OK && count > 1 &&
        mpcd_tsslib_check_set((const mpcd_tsslib_share *const *)s, count, why, sizeof why) !=
            MPCD_TSSLIB_OK)
        rc = ctl_fail(c, CTL_EXIT_VERIFY, "the files are not of one key: %s", why);
    if (rc == CTL_EXIT_OK) {
        tss_point_serialize(pk, &s[0]->pk);
        api_hex_encode(pk_hex, pk, 33);
        if (mpcd_eth_address(addr, pk) != 0) /* cannot happen: pk was parsed */
            rc = ctl_fail(c, CTL_EXIT_VERIFY, "%s: no address for the public key", paths[0]);
    }
    if (rc == CTL_EXIT_OK && c->json)
        print_json(c, paths, s, count, pk_hex, addr);
    else if (rc == CTL_EXIT_OK)
        print_text(c, paths, s, count, pk_hex, addr);
    for (size_t k = 0; k < count; k++)
        mpcd_tsslib_free(s[k]);
    return rc;
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
