/* bench/hsm-bench.c — seal and unseal cost of each sealing backend.
 * Starts its own swtpm and SoftHSM2 token the way tests/hsm does (fixture.c) and removes
 * them afterwards; a backend whose tool is missing is reported and skipped. The payload is
 * 256 bytes, about a serialized key share. `hsm-bench [soft|pkcs11|tpm2|all] [runs]`.
 * Prints a table and a JSON document (see bench.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fixture.h"
#include "hsm/hsm.h"
#include "tss/secmem.h"

#define PAYLOAD 256

typedef struct {
    hsm_backend *b;
    uint8_t msg[PAYLOAD];
    uint8_t aad[HSM_AAD_SHARE_MAX];
    size_t aad_len;
    uint8_t *blob;
    size_t blob_len;
    int failures;
} bench_ctx;

static void op_seal(void *p)
{
    bench_ctx *c = p;
    uint8_t *blob = NULL;
    size_t len;
    if (hsm_seal(c->b, c->msg, sizeof c->msg, c->aad, c->aad_len, &blob, &len) != HSM_OK)
        c->failures++;
    free(blob);
}

static void op_unseal(void *p)
{
    bench_ctx *c = p;
    uint8_t *pt = NULL;
    size_t len;
    if (hsm_unseal(c->b, c->blob, c->blob_len, c->aad, c->aad_len, &pt, &len) != HSM_OK ||
        len != PAYLOAD || memcmp(pt, c->msg, PAYLOAD) != 0)
        c->failures++;
    tss_secmem_free(pt);
}

static void op_open_close(void *p)
{
    const hsm_config *cfg = p;
    hsm_backend *b;
    if (hsm_open(cfg, &b) == HSM_OK)
        hsm_close(b);
}

static int bench_backend(bench_report *rep, const char *kind, const hsm_config *cfg, int runs)
{
    bench_ctx c = {0};
    char name[64];
    hsm_err err = hsm_open(cfg, &c.b);
    if (err != HSM_OK) {
        fprintf(stderr, "hsm-bench: %s: %s (%s)\n", kind, hsm_strerror(err), hsm_last_detail());
        return -1;
    }
    hsm_selftest_report st;
    err = hsm_selftest(c.b, &st);
    printf("self-test %-6s: %s; seal %.3f ms, unseal %.3f ms, blob %zu bytes\n  %s\n", kind,
           hsm_strerror(err), st.seal_ms, st.unseal_ms, st.blob_len, st.backend);
    memset(c.msg, 0xa5, sizeof c.msg);
    hsm_aad_build(c.aad, sizeof c.aad, &c.aad_len, "bench-key", "bench-party", 1);
    if (err != HSM_OK ||
        hsm_seal(c.b, c.msg, sizeof c.msg, c.aad, c.aad_len, &c.blob, &c.blob_len) != HSM_OK) {
        hsm_close(c.b);
        return -1;
    }
    snprintf(name, sizeof name, "%s seal(%dB)", kind, PAYLOAD);
    bench_row *r = bench_run(rep, name, runs, 1, op_seal, &c);
    if (r != NULL)
        r->bytes = (double)c.blob_len;
    snprintf(name, sizeof name, "%s unseal(%dB)", kind, PAYLOAD);
    bench_run(rep, name, runs, 1, op_unseal, &c);
    snprintf(name, sizeof name, "%s open+close", kind);
    bench_run(rep, name, runs < 21 ? runs : 21, 1, op_open_close, (void *)cfg);
    free(c.blob);
    hsm_close(c.b);
    if (c.failures != 0) {
        fprintf(stderr, "hsm-bench: %s: %d operations failed\n", kind, c.failures);
        return -1;
    }
    return 0;
}

static void quiet_log(void *arg, hsm_log_level level, const char *msg)
{
    (void)arg;
    (void)level;
    (void)msg; /* the soft backend's development-only warning, once per open */
}

static int run_soft(bench_report *rep, int runs)
{
    char dir[] = "/tmp/hsm-bench-XXXXXX", key[96], binding[64];
    hsm_config cfg;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(key, sizeof key, "%s/soft.key", dir);
    hsm_config_init(&cfg, HSM_KIND_SOFT);
    cfg.soft.key_file = key;
    cfg.soft.allow_insecure = true;
    cfg.log = quiet_log;
    int rc = hsm_init(&cfg, binding, sizeof binding) == HSM_OK
                 ? bench_backend(rep, "soft", &cfg, runs * 10)
                 : -1;
    unlink(key);
    rmdir(dir);
    return rc;
}

static int run_pkcs11(bench_report *rep, int runs)
{
    fx_softhsm h;
    hsm_config cfg;
    if (!fx_have_tool("softhsm2-util") || !fx_have_tool("pkcs11-tool") ||
        access(FX_SOFTHSM_MODULE, R_OK) != 0) {
        printf("pkcs11: skipped (SoftHSM2 or pkcs11-tool not installed)\n");
        return 0;
    }
    if (fx_softhsm_start(&h, "bench", "123456") != 0)
        return -1;
    hsm_config_init(&cfg, HSM_KIND_PKCS11);
    cfg.pkcs11.module = FX_SOFTHSM_MODULE;
    cfg.pkcs11.token_label = "bench";
    cfg.pkcs11.key_label = "seal-key";
    cfg.pkcs11.pin_file = h.pin_file;
    int rc = bench_backend(rep, "pkcs11", &cfg, runs * 4);
    fx_softhsm_stop(&h);
    return rc;
}

static int run_tpm2(bench_report *rep, int runs)
{
    static const uint8_t auth[] = "bench auth value";
    fx_swtpm t;
    hsm_config cfg;
    char name[160];
    if (!fx_have_tool("swtpm")) {
        printf("tpm2: skipped (swtpm not installed)\n");
        return 0;
    }
    if (fx_swtpm_start(&t) != 0)
        return -1;
    hsm_config_init(&cfg, HSM_KIND_TPM2);
    cfg.tpm2.tcti = t.tcti;
    cfg.tpm2.auth = auth;
    cfg.tpm2.auth_len = sizeof auth;
    int rc = -1;
    if (hsm_init(&cfg, name, sizeof name) == HSM_OK) {
        cfg.tpm2.primary_name = name;
        rc = bench_backend(rep, "tpm2", &cfg, runs);
        cfg.tpm2.pcr_mask = 1u << 16;
        if (rc == 0)
            rc = bench_backend(rep, "tpm2+pcr", &cfg, runs);
    }
    fx_swtpm_stop(&t);
    return rc;
}

int main(int argc, char **argv)
{
    static bench_report rep;
    const char *what = argc > 1 ? argv[1] : "all";
    int runs = argc > 2 ? atoi(argv[2]) : 51;
    int all = strcmp(what, "all") == 0, rc = 0;
    if ((!all && strcmp(what, "soft") != 0 && strcmp(what, "pkcs11") != 0 &&
         strcmp(what, "tpm2") != 0) ||
        runs < 3) {
        fprintf(stderr, "usage: %s [all|soft|pkcs11|tpm2] [runs >= 3]\n", argv[0]);
        return 2;
    }
    setenv("TSS2_LOG", "all+none", 0);
    if (all || strcmp(what, "soft") == 0)
        rc |= run_soft(&rep, runs);
    if (all || strcmp(what, "pkcs11") == 0)
        rc |= run_pkcs11(&rep, runs);
    if (all || strcmp(what, "tpm2") == 0)
        rc |= run_tpm2(&rep, runs);
    if (rc != 0) {
        fprintf(stderr, "hsm-bench: a backend failed\n");
        return 1;
    }
    bench_print(&rep, "hsm-bench");
    return 0;
}
