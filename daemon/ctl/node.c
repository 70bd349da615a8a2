/* daemon/ctl/node.c — mpcctl node init / node status, on the signer node itself, with the
 * daemon's own code (mpc_signerd_core): its config parser, signer_ident_init (the identity
 * key, sealed by the backend, and the CSR) and its store. Nothing here re-implements them.
 * init: for tpm2 the storage primary is created first (hsm_init) and its name pinned into
 * the config's [backend] primary_name, which the daemon's config requires. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/hex.h"
#include "config.h"
#include "ctl.h"
#include "signer.h"
#include "store.h"

static const char usage_node[] =
    "usage: mpcctl node init --backend tpm2|pkcs11|soft --config FILE [--csr OUT]\n"
    "                        [--import KEY.pem]\n"
    "       mpcctl node status --config FILE\n"
    "\n"
    "Run on the signer node, with the mpc-signerd config (see mpc-signerd.conf.example).\n"
    "init    prepares the sealing backend (tpm2: creates the storage primary and pins its\n"
    "        name as [backend] primary_name in FILE; soft: creates the key file; pkcs11:\n"
    "        checks token, PIN and key), then creates the node's P-256 identity key (or\n"
    "        imports KEY.pem), seals it to [hub] identity_key and writes a certificate\n"
    "        request with CN = party_id to OUT (default: [hub] cert with .csr). The backend\n"
    "        must be the config's [backend] kind. Have the deployment CA sign the request\n"
    "        (development: mpcctl dev issue --csr).\n"
    "status  backend self-test (seal + unseal), the config and certificate check, the shares,\n"
    "        the bans and the audit chain. Exit 4 if the audit chain is broken, 5 if the\n"
    "        backend or the config fails. With tpm2 on a swtpm, stop the daemon first (a\n"
    "        swtpm serves one connection at a time).\n";

/* The tpm2 keys hsm_init needs, read before the full parser (which wants primary_name). */
typedef struct {
    char kind[16], tcti[256], primary_name[256], auth_file[PATH_MAX];
    uint32_t persistent_handle;
    int in_backend;
} pre_backend;

static int pre_handler(void *user, const char *section, const char *name, const char *value)
{
    pre_backend *p = user;
    if (strcmp(section, "backend") != 0)
        return 1;
    if (strcmp(name, "kind") == 0)
        snprintf(p->kind, sizeof p->kind, "%s", value);
    else if (strcmp(name, "tcti") == 0)
        snprintf(p->tcti, sizeof p->tcti, "%s", value);
    else if (strcmp(name, "primary_name") == 0)
        snprintf(p->primary_name, sizeof p->primary_name, "%s", value);
    else if (strcmp(name, "auth_file") == 0)
        snprintf(p->auth_file, sizeof p->auth_file, "%s", value);
    else if (strcmp(name, "persistent_handle") == 0)
        p->persistent_handle = (uint32_t)strtoul(value, NULL, 0);
    return 1;
}

/* Writes "primary_name = name" into [backend] of path: replaces an empty primary_name line
 * or adds one after the section's kind line. Atomic (temp file + rename), mode kept. */
static int pin_primary(const char *path, const char *name, char *why, size_t cap)
{
    FILE *in = fopen(path, "r");
    char tmp[PATH_MAX + 8], line[4096];
    struct stat st;
    if (!in || fstat(fileno(in), &st) != 0) {
        snprintf(why, cap, "%s: %s", path, strerror(errno));
        if (in)
            fclose(in);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    int in_backend = 0, done = 0;
    while (out && fgets(line, sizeof line, in)) {
        const char *s = line + strspn(line, " \t");
        if (*s == '[')
            in_backend = strncmp(s, "[backend]", 9) == 0;
        if (in_backend && !done && strncmp(s, "primary_name", 12) == 0) {
            fprintf(out, "primary_name = %s\n", name);
            done = 1;
            continue;
        }
        fputs(line, out);
        if (in_backend && !done && strncmp(s, "kind", 4) == 0 && strchr(s, '=')) {
            fprintf(out,
                    "# pinned by mpcctl node init: the TPM storage primary's name\n"
                    "primary_name = %s\n",
                    name);
            done = 1;
        }
    }
    fclose(in);
    int ok = out && done && fflush(out) == 0 && fsync(fileno(out)) == 0;
    if (out)
        ok = fclose(out) == 0 && ok;
    ok = ok && chmod(tmp, st.st_mode & 07777) == 0 && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
        snprintf(why, cap, "%s: cannot write primary_name into [backend]%s", path,
                 done ? "" : " (no kind line there)");
    }
    return ok ? 0 : -1;
}

/* tpm2: creates the primary and pins its name in the config (or checks the pinned one). */
static int init_tpm2(ctl_ctx *c, const char *config, char *binding, size_t cap)
{
    pre_backend p;
    memset(&p, 0, sizeof p);
    snprintf(p.tcti, sizeof p.tcti, "device:/dev/tpmrm0");
    if (ini_parse(config, pre_handler, &p) != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s: cannot read it as an INI file", config);
    hsm_config hc;
    hsm_config_init(&hc, HSM_KIND_TPM2);
    hc.tpm2.tcti = p.tcti;
    hc.tpm2.persistent_handle = p.persistent_handle;
    hc.tpm2.auth_file = p.auth_file[0] && strchr(p.auth_file, '/') ? p.auth_file : NULL;
    hsm_err e = hsm_init(&hc, binding, cap);
    if (e != HSM_OK)
        return ctl_fail(c, CTL_EXIT_LOCAL, "tpm2 (%s): %s %s", p.tcti, hsm_strerror(e),
                        hsm_last_detail());
    if (p.primary_name[0] && strcasecmp(p.primary_name, binding) != 0)
        return ctl_fail(
            c, CTL_EXIT_LOCAL,
            "%s pins primary_name %s, but this TPM's storage primary is %s: another "
            "TPM, or the TPM was cleared; refusing to change the pin (remove the line to pin "
            "this TPM)",
            config, p.primary_name, binding);
    char why[PATH_MAX + 128];
    if (!p.primary_name[0] && pin_primary(config, binding, why, sizeof why) != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s", why);
    return CTL_EXIT_OK;
}

/* [hub] cert "x.pem" -> "x.csr" (else cert + ".csr"). 0, or -1 if too long. */
static int default_csr(char *out, size_t cap, const char *cert)
{
    size_t len = strlen(cert);
    if (len > 4 && strcmp(cert + len - 4, ".pem") == 0)
        len -= 4;
    if (len + 5 > cap)
        return -1;
    memcpy(out, cert, len);
    memcpy(out + len, ".csr", 5);
    return 0;
}

static int node_init(ctl_ctx *c, const char *backend, const char *config, const char *csr_arg,
                     const char *import)
{
    hsm_kind kind = hsm_kind_from_name(backend);
    char binding[256] = "", err[512], csr[PATH_MAX];
    static signer_config cfg; /* large */
    if (kind == HSM_KIND_NONE)
        return ctl_fail(c, CTL_EXIT_USAGE, "--backend: tpm2, pkcs11 or soft");
    int rc = kind == HSM_KIND_TPM2 ? init_tpm2(c, config, binding, sizeof binding) : CTL_EXIT_OK;
    if (rc != CTL_EXIT_OK)
        return rc;
    if (signer_config_load(config, &cfg, err, sizeof err) != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s", err);
    if (cfg.backend != kind)
        return ctl_fail(c, CTL_EXIT_USAGE, "--backend %s, but %s says [backend] kind = %s", backend,
                        config, hsm_kind_name(cfg.backend));
    if (csr_arg)
        snprintf(csr, sizeof csr, "%s", csr_arg);
    else if (default_csr(csr, sizeof csr, cfg.hub_cert) != 0)
        return ctl_fail(c, CTL_EXIT_USAGE, "give --csr OUT: [hub] cert is too long a path");
    hsm_config hc;
    signer_config_to_hsm(&cfg, &hc);
    hsm_err e = kind == HSM_KIND_TPM2 ? HSM_OK : hsm_init(&hc, binding, sizeof binding);
    hsm_backend *hsm = NULL;
    if (e == HSM_OK)
        e = hsm_open(&hc, &hsm);
    if (e != HSM_OK)
        return ctl_fail(c, CTL_EXIT_LOCAL, "[backend] %s: %s %s", backend, hsm_strerror(e),
                        hsm_last_detail());
    rc = signer_ident_init(&cfg, hsm, import, csr);
    hsm_close(hsm);
    if (rc != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "the node identity was not created (see above)");
    if (c->json) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "party_id", cfg.party_id, "backend",
                              backend, "binding", binding, "identity_key", cfg.identity_key, "csr",
                              csr, "imported", import != NULL);
        ctl_print_json(c, j);
        json_decref(j);
        return CTL_EXIT_OK;
    }
    fprintf(c->out, "node         %s\n", cfg.party_id);
    fprintf(c->out, "backend      %s%s\n", backend,
            kind == HSM_KIND_SOFT ? " (development only: a key file, not hardware)" : "");
    if (kind == HSM_KIND_TPM2)
        fprintf(c->out, "tpm primary  %s (pinned in %s as primary_name)\n", binding, config);
    else
        fprintf(c->out, "binding      %s\n", binding);
    fprintf(c->out, "identity     %s (P-256 %s, sealed by %s)\n", cfg.identity_key,
            import ? "imported" : "generated here", backend);
    fprintf(c->out, "request      %s (CN = %s): have the deployment CA sign it as [hub] cert %s\n",
            csr, cfg.party_id, cfg.hub_cert);
    return CTL_EXIT_OK;
}

typedef struct {
    ctl_ctx *c;
    json_t *arr;
    unsigned count;
} row_ctx;

static int on_share(void *arg, const signer_share_row *r)
{
    row_ctx *x = arg;
    const char *st = signer_share_status_name(r->status);
    x->count++;
    if (x->arr)
        json_array_append_new(x->arr,
                              json_pack("{s:s,s:s,s:i,s:i,s:i,s:I}", "key_id", r->key_id, "status",
                                        st, "t", (int)r->t, "n", (int)r->n, "index", (int)r->index,
                                        "epoch", (json_int_t)r->epoch));
    else
        fprintf(x->c->out, "  %s  %-7s  %u of %u, index %u\n", r->key_id, st, r->t, r->n, r->index);
    return 0;
}

static int on_ban(void *arg, const signer_ban_row *b)
{
    row_ctx *x = arg;
    char fp[65], when[32];
    api_hex_encode(fp, b->fp, 32);
    ctl_fmt_time(when, (long long)b->created);
    x->count++;
    if (x->arr)
        json_array_append_new(x->arr, json_pack("{s:s,s:s,s:s,s:I}", "fingerprint", fp, "party",
                                                b->party_id, "reason", b->reason, "created",
                                                (json_int_t)b->created));
    else
        fprintf(x->c->out, "  %s  %s  %s  %s\n", fp, b->party_id[0] ? b->party_id : "-", when,
                b->reason);
    return 0;
}

/* The backend's self-test; fills *j (JSON) or prints. CTL_EXIT_OK or CTL_EXIT_LOCAL. */
static int status_backend(ctl_ctx *c, const signer_config *cfg, json_t *j)
{
    hsm_config hc;
    hsm_backend *hsm = NULL;
    hsm_selftest_report rep;
    signer_config_to_hsm(cfg, &hc);
    hsm_err e = hsm_open(&hc, &hsm);
    if (e == HSM_OK)
        e = hsm_selftest(hsm, &rep);
    hsm_close(hsm);
    if (e != HSM_OK) {
        if (j)
            json_object_set_new(
                j, "backend", json_pack("{s:s,s:s}", "result", "failed", "error", hsm_strerror(e)));
        else
            fprintf(c->out, "backend      %s: SELF-TEST FAILED: %s %s\n",
                    hsm_kind_name(cfg->backend), hsm_strerror(e), hsm_last_detail());
        return CTL_EXIT_LOCAL;
    }
    if (j)
        json_object_set_new(j, "backend",
                            json_pack("{s:s,s:s,s:f,s:f}", "result", "ok", "describe", rep.backend,
                                      "seal_ms", rep.seal_ms, "unseal_ms", rep.unseal_ms));
    else
        fprintf(c->out,
                "backend      %s\n             self-test ok: seal %.1f ms, unseal %.1f ms\n",
                rep.backend, rep.seal_ms, rep.unseal_ms);
    return CTL_EXIT_OK;
}

static int node_status(ctl_ctx *c, const char *config)
{
    static signer_config cfg;
    char err[512];
    if (signer_config_load(config, &cfg, err, sizeof err) != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "%s", err);
    json_t *j = c->json ? json_pack("{s:s}", "party_id", cfg.party_id) : NULL;
    int rc = CTL_EXIT_OK, cfg_ok = signer_config_check(&cfg, err, sizeof err) == 0;
    if (j)
        json_object_set_new(j, "config", json_string(cfg_ok ? "ok" : err));
    else
        fprintf(c->out, "node         %s\nconfig       %s\n", cfg.party_id, cfg_ok ? "ok" : err);
    if (!cfg_ok)
        rc = CTL_EXIT_LOCAL;
    if (status_backend(c, &cfg, j) != CTL_EXIT_OK)
        rc = CTL_EXIT_LOCAL;
    signer_store *st = NULL;
    signer_store_err se = signer_store_open(cfg.database, &st);
    if (se != SIGNER_STORE_OK) {
        json_decref(j);
        return ctl_fail(c, CTL_EXIT_LOCAL, "[signer] database %s: %s", cfg.database,
                        signer_store_strerror(se));
    }
    row_ctx shares = {c, j ? json_array() : NULL, 0}, bans = {c, j ? json_array() : NULL, 0};
    if (!j)
        fprintf(c->out, "shares\n");
    signer_store_share_list(st, on_share, &shares);
    if (!j)
        fprintf(c->out, "%sbans\n", shares.count ? "" : "  (none)\n");
    signer_store_ban_list(st, on_ban, &bans);
    uint64_t checked = 0, bad = 0;
    se = signer_store_audit_verify(st, &checked, &bad);
    signer_store_close(st);
    if (se != SIGNER_STORE_OK)
        rc = se == SIGNER_STORE_ERR_AUDIT_BROKEN ? CTL_EXIT_VERIFY : CTL_EXIT_LOCAL;
    if (j) {
        json_object_set_new(j, "shares", shares.arr);
        json_object_set_new(j, "bans", bans.arr);
        json_object_set_new(j, "audit",
                            json_pack("{s:s,s:I,s:I}", "chain",
                                      se == SIGNER_STORE_OK ? "intact" : "broken", "entries",
                                      (json_int_t)checked, "first_bad", (json_int_t)bad));
        ctl_print_json(c, j);
        json_decref(j);
    } else {
        if (!bans.count)
            fprintf(c->out, "  (none)\n");
        if (se == SIGNER_STORE_OK)
            fprintf(c->out, "audit log    %llu entries, hash chain intact\n",
                    (unsigned long long)checked);
        else if (se == SIGNER_STORE_ERR_AUDIT_BROKEN)
            fprintf(c->out, "audit log    CHAIN BROKEN at entry %llu (%llu checked)\n",
                    (unsigned long long)bad, (unsigned long long)checked);
        else
            fprintf(c->out, "audit log    cannot be read: %s\n", signer_store_strerror(se));
    }
    return rc;
}

int ctl_cmd_node(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"backend", required_argument, NULL, 'b'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"csr", required_argument, NULL, 'r'},
                                         {"import", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    const char *verb = argc > 1 ? argv[1] : "";
    const char *backend = NULL, *config = NULL, *csr = NULL, *import = NULL;
    int init = strcmp(verb, "init") == 0, status = strcmp(verb, "status") == 0, o;
    if (!init && !status) {
        int help = strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0;
        fputs(usage_node, help ? c->out : c->err);
        return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    optind = 0;
    while ((o = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_node);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
        if (o == 'b')
            backend = optarg;
        else if (o == 'c')
            config = optarg;
        else if (o == 'r')
            csr = optarg;
        else
            import = optarg;
    }
    if (optind != argc - 1 || !config)
        return ctl_fail(c, CTL_EXIT_USAGE, "node %s needs --config FILE (see --help)", verb);
    if (init && !backend)
        return ctl_fail(c, CTL_EXIT_USAGE, "node init needs --backend tpm2|pkcs11|soft");
    if (status && (backend || csr || import))
        return ctl_fail(c, CTL_EXIT_USAGE, "node status takes only --config");
    return init ? node_init(c, backend, config, csr, import) : node_status(c, config);
}
