/* tests/hsm/test_tpm2.c — the TPM 2.0 backend against a real swtpm that the test starts on
 * a free port (fixture.c) and removes: primary pinning at init and refusal of another
 * primary, round trips, aad binding, every tampered byte, truncations, wrong auth value,
 * PCR policy (extend → PCR_POLICY error), a TPM restart (blobs without PCR policy still
 * open), a blob from another TPM, an unreachable TPM, a persistent primary, 1,000
 * seal/unseal cycles (with failing ones mixed in) that leave no transient object or
 * session behind, and dictionary-attack lockout for objects without NODA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "checks.h"
#include "fixture.h"
#include "hsm/hsm.h"
#include "tss/secmem.h"

/* Handle ranges, spelled out: tss2_tpm2_types.h builds 0x80000000 and 0x81000000 by
 * shifting a signed int into the sign bit, which UBSan rightly rejects. */
#define HANDLES_TRANSIENT      0x80000000u
#define HANDLES_PERSISTENT     0x81000000u
#define HANDLES_HMAC_SESSION   0x02000000u
#define HANDLES_POLICY_SESSION 0x03000000u

static const uint8_t auth_a[] = "auth value of node A";
static const uint8_t auth_b[] = "some other auth value";

typedef struct {
    bool absent;
    fx_swtpm tpm;
    char name[160];
    hsm_config cfg;
} tpm_fixture;

static int setup(void **state)
{
    tpm_fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (!fx_have_tool("swtpm")) {
        f->absent = true;
        return 0;
    }
    if (fx_swtpm_start(&f->tpm) != 0)
        return -1;
    hsm_config_init(&f->cfg, HSM_KIND_TPM2);
    f->cfg.tpm2.tcti = f->tpm.tcti;
    f->cfg.tpm2.auth = auth_a;
    f->cfg.tpm2.auth_len = sizeof auth_a;
    if (hsm_init(&f->cfg, f->name, sizeof f->name) != HSM_OK) {
        fprintf(stderr, "init: %s\n", hsm_last_detail());
        return -1;
    }
    f->cfg.tpm2.primary_name = f->name;
    return 0;
}

static int teardown(void **state)
{
    tpm_fixture *f = *state;
    if (!f->absent)
        fx_swtpm_stop(&f->tpm);
    free(f);
    return 0;
}

#define NEED_SWTPM(f)                                                                              \
    do {                                                                                           \
        if ((f)->absent)                                                                           \
            skip();                                                                                \
    } while (0)

static hsm_backend *open_cfg(const hsm_config *c)
{
    hsm_backend *b = NULL;
    hsm_err err = hsm_open(c, &b);
    if (err != HSM_OK)
        fail_msg("hsm_open: %s (%s)", hsm_strerror(err), hsm_last_detail());
    return b;
}

/* Test-side ESYS connection for inspecting the TPM (handle counts, PCR extend). */
typedef struct {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
} tpm_conn;

static void conn_open(tpm_conn *c, const char *tcti)
{
    assert_int_equal(Tss2_TctiLdr_Initialize(tcti, &c->tcti), TSS2_RC_SUCCESS);
    assert_int_equal(Esys_Initialize(&c->esys, c->tcti, NULL), TSS2_RC_SUCCESS);
}

static void conn_close(tpm_conn *c)
{
    Esys_Finalize(&c->esys);
    Tss2_TctiLdr_Finalize(&c->tcti);
}

static unsigned count_handles(const char *tcti, TPM2_HANDLE first)
{
    tpm_conn c;
    TPMI_YES_NO more;
    TPMS_CAPABILITY_DATA *data = NULL;
    conn_open(&c, tcti);
    assert_int_equal(Esys_GetCapability(c.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_HANDLES, first, TPM2_MAX_CAP_HANDLES, &more,
                                        &data),
                     TSS2_RC_SUCCESS);
    unsigned n = data->data.handles.count;
    Esys_Free(data);
    conn_close(&c);
    return n;
}

static unsigned count_all(const char *tcti)
{
    return count_handles(tcti, HANDLES_TRANSIENT) + count_handles(tcti, HANDLES_HMAC_SESSION) +
           count_handles(tcti, HANDLES_POLICY_SESSION);
}

static void pcr_extend(const char *tcti, ESYS_TR pcr)
{
    tpm_conn c;
    TPML_DIGEST_VALUES v = {.count = 1};
    v.digests[0].hashAlg = TPM2_ALG_SHA256;
    memset(v.digests[0].digest.sha256, 0x5a, 32);
    conn_open(&c, tcti);
    assert_int_equal(Esys_PCR_Extend(c.esys, pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &v),
                     TSS2_RC_SUCCESS);
    conn_close(&c);
}

static void test_init_pins_primary(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    char again[160], wrong[160];
    hsm_backend *b = NULL;
    assert_int_equal(strlen(f->name), 68); /* sha256 name: 2-byte alg id + 32-byte digest */
    assert_int_equal(hsm_init(&f->cfg, again, sizeof again), HSM_OK);
    assert_string_equal(again, f->name); /* same template, same seed: same primary */

    hsm_config c = f->cfg;
    strcpy(wrong, f->name);
    wrong[10] = wrong[10] == '0' ? '1' : '0';
    c.tpm2.primary_name = wrong;
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_TPM_PRIMARY);
    assert_null(b);
    c.tpm2.primary_name = NULL;
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);
    c.tpm2.primary_name = "zz";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);

    b = open_cfg(&f->cfg);
    char desc[512];
    hsm_describe(b, desc, sizeof desc);
    assert_non_null(strstr(desc, f->name));
    assert_non_null(strstr(desc, "auth=value"));
    assert_null(strstr(desc, (const char *)auth_a));
    hsm_close(b);
}

/* The auth value from a private file (a systemd credential) is the same auth value as the
 * same bytes given directly; a file others can read is refused. */
static void test_auth_file(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    char path[128];
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t blob_len, aad_len, len;
    hsm_backend *b = open_cfg(&f->cfg), *fb = NULL;
    check_round_trip(b, 32, &blob, &blob_len, aad, &aad_len);
    hsm_close(b);
    snprintf(path, sizeof path, "%s/auth-credential", f->tpm.dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(auth_a, 1, sizeof auth_a, fp), sizeof auth_a);
    fclose(fp);
    hsm_config c = f->cfg;
    c.tpm2.auth = NULL;
    c.tpm2.auth_len = 0;
    c.tpm2.auth_file = path;
    chmod(path, 0644);
    assert_int_equal(hsm_open(&c, &fb), HSM_ERR_FILE_PERMS);
    chmod(path, 0600);
    fb = open_cfg(&c);
    assert_int_equal(hsm_unseal(fb, blob, blob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(fb);
    unlink(path);
    free(blob);
}

static void test_round_trip_aad_tamper(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    uint8_t *blob, *saved, aad[HSM_AAD_SHARE_MAX];
    size_t blob_len, aad_len;
    hsm_backend *b = open_cfg(&f->cfg);
    check_round_trip(b, 4096, &blob, &blob_len, aad, &aad_len);
    free(blob);
    check_round_trip(b, 32, &blob, &blob_len, aad, &aad_len);
    saved = malloc(blob_len);
    memcpy(saved, blob, blob_len);
    check_wrong_aad(b, blob, blob_len);
    assert_int_equal(check_every_byte_tampered(b, blob, blob_len, aad, aad_len, 1), blob_len);
    check_truncations(b, blob, blob_len, aad, aad_len);
    assert_memory_equal(blob, saved, blob_len);
    free(saved);
    free(blob);
    hsm_close(b);
    assert_int_equal(count_all(f->tpm.tcti), 0);
}

static void test_wrong_auth_value(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t blob_len, aad_len, len;
    hsm_backend *a = open_cfg(&f->cfg);
    check_round_trip(a, 64, &blob, &blob_len, aad, &aad_len);
    hsm_config c = f->cfg;
    c.tpm2.auth = auth_b;
    c.tpm2.auth_len = sizeof auth_b;
    hsm_backend *b = open_cfg(&c);
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_TPM_AUTH);
    /* NODA object: "authorization failure without DA implications", decoded in the detail. */
    assert_non_null(strstr(hsm_last_detail(), "Esys_Unseal: TPM rc 0x9a2"));
    assert_non_null(strstr(hsm_last_detail(), "authorization failure"));
    assert_null(pt);
    hsm_close(b);
    /* The right auth still opens it (NODA: no lockout counting). */
    assert_int_equal(hsm_unseal(a, blob, blob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(a);
    free(blob);
}

static void test_pcr_policy(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    uint8_t *pblob, *plain, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t pblob_len, plain_len, aad_len, len;
    hsm_config c = f->cfg;
    assert_int_equal(hsm_parse_pcr_list("7,16", &c.tpm2.pcr_mask), HSM_OK);
    hsm_backend *pb = open_cfg(&c), *b = open_cfg(&f->cfg);
    check_round_trip(pb, 48, &pblob, &pblob_len, aad, &aad_len);
    check_round_trip(b, 48, &plain, &plain_len, aad, &aad_len);
    /* The policy blob also needs the auth value (PolicyAuthValue). */
    hsm_config wrong = c;
    wrong.tpm2.auth = auth_b;
    wrong.tpm2.auth_len = sizeof auth_b;
    hsm_backend *wb = open_cfg(&wrong);
    assert_int_equal(hsm_unseal(wb, pblob, pblob_len, aad, aad_len, &pt, &len), HSM_ERR_TPM_AUTH);
    hsm_close(wb);

    pcr_extend(f->tpm.tcti, ESYS_TR_PCR7);
    assert_int_equal(hsm_unseal(pb, pblob, pblob_len, aad, aad_len, &pt, &len), HSM_ERR_PCR_POLICY);
    assert_null(pt);
    /* Either backend instance gives the same answer: the policy travels in the blob. */
    assert_int_equal(hsm_unseal(b, pblob, pblob_len, aad, aad_len, &pt, &len), HSM_ERR_PCR_POLICY);
    /* A blob without PCR policy is unaffected. */
    assert_int_equal(hsm_unseal(pb, plain, plain_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(pb);
    hsm_close(b);
    free(pblob);
    free(plain);
    assert_int_equal(count_all(f->tpm.tcti), 0);
}

static void test_restart_keeps_plain_blobs(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t blob_len, aad_len, len;
    hsm_backend *b = open_cfg(&f->cfg);
    check_round_trip(b, 100, &blob, &blob_len, aad, &aad_len);
    assert_int_equal(fx_swtpm_restart(&f->tpm), 0);
    /* Same backend object, same port: the next operation simply reconnects. */
    hsm_err err = hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len);
    if (err != HSM_OK)
        fail_msg("after restart: %s (%s)", hsm_strerror(err), hsm_last_detail());
    assert_int_equal(len, 100);
    tss_secmem_free(pt);
    hsm_close(b);
    /* And a fresh open after the restart finds the same pinned primary. */
    b = open_cfg(&f->cfg);
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(b);
    free(blob);
}

static void test_other_tpm_and_unreachable(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t blob_len, aad_len, len;
    fx_swtpm other;
    char other_name[160];
    hsm_backend *b = open_cfg(&f->cfg), *ob = NULL;
    check_round_trip(b, 32, &blob, &blob_len, aad, &aad_len);

    assert_int_equal(fx_swtpm_start(&other), 0);
    hsm_config c = f->cfg;
    c.tpm2.tcti = other.tcti;
    c.tpm2.primary_name = NULL;
    assert_int_equal(hsm_init(&c, other_name, sizeof other_name), HSM_OK);
    assert_string_not_equal(other_name, f->name); /* another TPM, another seed */
    /* This node's pinned name on the other TPM is refused ... */
    c.tpm2.primary_name = f->name;
    assert_int_equal(hsm_open(&c, &ob), HSM_ERR_TPM_PRIMARY);
    /* ... and the other node refuses this node's blob before touching its TPM. */
    c.tpm2.primary_name = other_name;
    ob = open_cfg(&c);
    assert_int_equal(hsm_unseal(ob, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_WRONG_NODE);
    hsm_close(ob);

    /* A TPM that went away: the backend reports it unreachable. */
    fx_swtpm_stop(&other);
    assert_int_equal(hsm_open(&c, &ob), HSM_ERR_TPM_UNAVAILABLE);
    assert_null(ob);
    hsm_close(b);
    free(blob);
}

static void test_persistent_primary(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    char name[160];
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t blob_len, aad_len, len;
    hsm_config c = f->cfg;
    c.tpm2.persistent_handle = 0x81000101;
    assert_int_equal(hsm_init(&c, name, sizeof name), HSM_OK);
    assert_string_equal(name, f->name); /* the persisted copy of the same primary */
    assert_int_equal(hsm_init(&c, name, sizeof name), HSM_OK); /* idempotent */
    assert_int_equal(count_handles(f->tpm.tcti, HANDLES_PERSISTENT), 1);
    hsm_backend *pb = open_cfg(&c), *b = open_cfg(&f->cfg);
    check_round_trip(pb, 32, &blob, &blob_len, aad, &aad_len);
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(pb);
    hsm_close(b);
    free(blob);
    c.tpm2.persistent_handle = 0x01000000;
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);
    assert_int_equal(count_all(f->tpm.tcti), 0);
}

static void test_thousand_cycles_leave_no_handles(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    hsm_config c = f->cfg;
    hsm_backend *b = open_cfg(&c);
    hsm_config pc = f->cfg;
    pc.tpm2.pcr_mask = 1u << 16;
    hsm_backend *pb = open_cfg(&pc);
    uint8_t aad[HSM_AAD_SHARE_MAX], msg[64];
    size_t aad_len;
    assert_int_equal(count_all(f->tpm.tcti), 0);
    assert_int_equal(hsm_aad_build(aad, sizeof aad, &aad_len, "k", "p", 1), HSM_OK);
    int cycles = getenv("HSM_TPM_CYCLES") ? atoi(getenv("HSM_TPM_CYCLES")) : 1000;
    for (int i = 0; i < cycles; i++) {
        hsm_backend *use = (i % 10 == 5) ? pb : b; /* every 10th: PCR policy session path */
        uint8_t *blob = NULL, *pt = NULL;
        size_t blob_len, len;
        memset(msg, i & 0xff, sizeof msg);
        hsm_err err = hsm_seal(use, msg, sizeof msg, aad, aad_len, &blob, &blob_len);
        if (err != HSM_OK)
            fail_msg("cycle %d seal: %s (%s)", i, hsm_strerror(err), hsm_last_detail());
        if (i % 10 == 3) {
            /* Failure paths must flush too: a record the TPM refuses at Load ... */
            blob[blob_len - 40] ^= 1;
            blob[60] ^= 0x10;
            err = hsm_unseal(use, blob, blob_len, aad, aad_len, &pt, &len);
            assert_true(err == HSM_ERR_TAMPERED || err == HSM_ERR_FORMAT);
        } else if (i % 10 == 7) {
            /* ... and one that unseals in the TPM but fails the payload tag. */
            err = hsm_unseal(use, blob, blob_len, aad, aad_len - 1, &pt, &len);
            assert_int_equal(err, HSM_ERR_TAMPERED);
        } else {
            err = hsm_unseal(use, blob, blob_len, aad, aad_len, &pt, &len);
            if (err != HSM_OK)
                fail_msg("cycle %d unseal: %s (%s)", i, hsm_strerror(err), hsm_last_detail());
            assert_memory_equal(pt, msg, sizeof msg);
        }
        tss_secmem_free(pt);
        free(blob);
    }
    assert_int_equal(count_handles(f->tpm.tcti, HANDLES_TRANSIENT), 0);
    assert_int_equal(count_handles(f->tpm.tcti, HANDLES_HMAC_SESSION), 0);
    assert_int_equal(count_handles(f->tpm.tcti, HANDLES_POLICY_SESSION), 0);
    hsm_close(pb);
    hsm_close(b);
}

/* One backend shared by threads: calls are serialized, each still flushes its handles. */
static void test_concurrent_use(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    hsm_backend *b = open_cfg(&f->cfg);
    check_concurrent_use(b, 3, 10);
    hsm_close(b);
    assert_int_equal(count_all(f->tpm.tcti), 0);
}

static void test_selftest(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    hsm_selftest_report r;
    hsm_backend *b = open_cfg(&f->cfg);
    assert_int_equal(hsm_selftest(b, &r), HSM_OK);
    assert_true(strncmp(r.backend, "tpm2 ", 5) == 0);
    assert_true(r.seal_ms > 0 && r.unseal_ms > 0);
    hsm_close(b);
}

/* Last: it puts this swtpm into dictionary-attack lockout. Objects sealed with noda off
 * count wrong auth values; after the TPM's limit the error changes to TPM_LOCKOUT while
 * NODA objects keep working. */
static void test_lockout_without_noda(void **state)
{
    tpm_fixture *f = *state;
    NEED_SWTPM(f);
    uint8_t *blob, *nblob, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t blob_len, nblob_len, aad_len, len;
    hsm_config c = f->cfg;
    c.tpm2.noda = false;
    hsm_backend *da = open_cfg(&c), *noda = open_cfg(&f->cfg);
    check_round_trip(da, 32, &blob, &blob_len, aad, &aad_len);
    check_round_trip(noda, 32, &nblob, &nblob_len, aad, &aad_len);
    c.tpm2.auth = auth_b;
    c.tpm2.auth_len = sizeof auth_b;
    hsm_backend *wrong = open_cfg(&c);
    hsm_err err = HSM_ERR_TPM_AUTH;
    int tries = 0;
    while (err == HSM_ERR_TPM_AUTH && tries < 40) {
        err = hsm_unseal(wrong, blob, blob_len, aad, aad_len, &pt, &len);
        tries++;
    }
    assert_int_equal(err, HSM_ERR_TPM_LOCKOUT);
    assert_true(tries > 1);
    assert_int_equal(hsm_unseal(da, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_TPM_LOCKOUT);
    assert_int_equal(hsm_unseal(noda, nblob, nblob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(wrong);
    hsm_close(da);
    hsm_close(noda);
    free(blob);
    free(nblob);
}

int main(void)
{
    /* tpm2-tss logs every refused command to stderr; the tests provoke hundreds. The
     * errors the tests check carry the decoded response code in hsm_last_detail(). */
    setenv("TSS2_LOG", "all+none", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_pins_primary),
        cmocka_unit_test(test_auth_file),
        cmocka_unit_test(test_round_trip_aad_tamper),
        cmocka_unit_test(test_wrong_auth_value),
        cmocka_unit_test(test_pcr_policy),
        cmocka_unit_test(test_restart_keeps_plain_blobs),
        cmocka_unit_test(test_other_tpm_and_unreachable),
        cmocka_unit_test(test_persistent_primary),
        cmocka_unit_test(test_thousand_cycles_leave_no_handles),
        cmocka_unit_test(test_concurrent_use),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_lockout_without_noda),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
