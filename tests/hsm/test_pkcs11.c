/* tests/hsm/test_pkcs11.c — the PKCS#11 backend against a real SoftHSM2 token that the test
 * creates (fixture.c) and removes: round trips with the key chosen by label, id and URI,
 * aad binding, every tampered byte, truncations, wrong PIN, missing token, missing or
 * non-EC key, unloadable module, PIN file permissions, a blob sealed to another token,
 * a blob from another backend, and concurrent use of one backend from several threads. */
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

#include "checks.h"
#include "fixture.h"
#include "hsm/hsm.h"
#include "tss/secmem.h"

#define PIN "123456"

typedef struct {
    bool absent;
    fx_softhsm h;
    hsm_config cfg;
} p11_fixture;

static int setup(void **state)
{
    p11_fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (!fx_have_tool("softhsm2-util") || !fx_have_tool("pkcs11-tool") ||
        access(FX_SOFTHSM_MODULE, R_OK) != 0) {
        f->absent = true;
        return 0;
    }
    /* Both tokens exist before the first hsm_open: SoftHSM2 reads its token list once per
     * process, at C_Initialize. */
    if (fx_softhsm_start(&f->h, "node1", PIN) != 0 ||
        fx_softhsm_add_token(&f->h, "node2", PIN) != 0)
        return -1;
    hsm_config_init(&f->cfg, HSM_KIND_PKCS11);
    f->cfg.pkcs11.module = FX_SOFTHSM_MODULE;
    f->cfg.pkcs11.token_label = "node1";
    f->cfg.pkcs11.key_label = "seal-key";
    f->cfg.pkcs11.pin_file = f->h.pin_file;
    return 0;
}

static int teardown(void **state)
{
    p11_fixture *f = *state;
    if (!f->absent)
        fx_softhsm_stop(&f->h);
    free(f);
    return 0;
}

#define NEED_SOFTHSM(f)                                                                            \
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

static void test_round_trip_label_id_uri(void **state)
{
    p11_fixture *f = *state;
    NEED_SOFTHSM(f);
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt;
    size_t blob_len, aad_len, len;
    hsm_backend *b = open_cfg(&f->cfg);
    check_round_trip(b, 200, &blob, &blob_len, aad, &aad_len);
    hsm_close(b);

    /* The same key chosen by id, and by URI: both open the blob sealed above. */
    hsm_config c = f->cfg;
    c.pkcs11.key_label = NULL;
    c.pkcs11.key_id = "01";
    b = open_cfg(&c);
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(b);

    c = f->cfg;
    c.pkcs11.key_label = NULL;
    c.pkcs11.token_label = NULL;
    c.pkcs11.uri = "pkcs11:token=node1;object=seal%2Dkey;id=%01;type=private";
    b = open_cfg(&c);
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    hsm_close(b);

    c.pkcs11.uri = "pkcs11:token=node1;object=seal-key?pin-value=123456";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);
    assert_null(strstr(hsm_last_detail(), PIN));
    c.pkcs11.uri = "pkcs11:token=node1;object=%zz;pin-value=123456";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);
    assert_null(strstr(hsm_last_detail(), PIN));
    c.pkcs11.uri = "pkcs11:token=node1;object";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);
    free(blob);
}

static void test_wrong_aad_tamper_truncation(void **state)
{
    p11_fixture *f = *state;
    NEED_SOFTHSM(f);
    uint8_t *blob, *saved, aad[HSM_AAD_SHARE_MAX];
    size_t blob_len, aad_len;
    hsm_backend *b = open_cfg(&f->cfg);
    check_round_trip(b, 64, &blob, &blob_len, aad, &aad_len);
    saved = malloc(blob_len);
    memcpy(saved, blob, blob_len);
    check_wrong_aad(b, blob, blob_len);
    assert_int_equal(check_every_byte_tampered(b, blob, blob_len, aad, aad_len, 1), blob_len);
    check_truncations(b, blob, blob_len, aad, aad_len);
    assert_memory_equal(blob, saved, blob_len);
    /* The backend still works after all those failures. */
    uint8_t *pt;
    size_t len;
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_OK);
    tss_secmem_free(pt);
    free(saved);
    free(blob);
    hsm_close(b);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_wrong_pin_and_pin_file(void **state)
{
    p11_fixture *f = *state;
    NEED_SOFTHSM(f);
    char path[160];
    hsm_backend *b = NULL;
    hsm_config c = f->cfg;
    c.pkcs11.pin_file = path;
    snprintf(path, sizeof path, "%s/wrong-pin", f->h.dir);
    write_file(path, "654321\n", 0600);
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_PIN_INCORRECT);
    assert_null(b);
    assert_null(strstr(hsm_last_detail(), "654321")); /* no PIN in details */

    snprintf(path, sizeof path, "%s/loose-pin", f->h.dir);
    write_file(path, PIN "\n", 0644);
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_FILE_PERMS);

    snprintf(path, sizeof path, "%s/empty-pin", f->h.dir);
    write_file(path, "\n", 0600);
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_PIN_FILE);

    snprintf(path, sizeof path, "%s/no-such-pin", f->h.dir);
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_PIN_FILE);

    /* The right PIN still works: nothing was locked or modified. */
    hsm_close(open_cfg(&f->cfg));
}

static void test_missing_token_key_module(void **state)
{
    p11_fixture *f = *state;
    NEED_SOFTHSM(f);
    hsm_backend *b = NULL;
    hsm_config c = f->cfg;
    c.pkcs11.token_label = "no-such-token";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_TOKEN_NOT_FOUND);

    c = f->cfg;
    c.pkcs11.key_label = "no-such-key";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_KEY_NOT_FOUND);
    c.pkcs11.key_label = NULL;
    c.pkcs11.key_id = "7f";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_KEY_NOT_FOUND);

    /* An RSA key is not accepted: the backend needs P-256. */
    assert_int_equal(fx_softhsm_keygen(&f->h, "node1", PIN, "rsa-key", "02", "rsa:2048"), 0);
    c = f->cfg;
    c.pkcs11.key_label = "rsa-key";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_KEY_NOT_FOUND);

    c = f->cfg;
    c.pkcs11.module = "/nonexistent/libpkcs11.so";
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_MODULE);

    c = f->cfg;
    c.pkcs11.key_label = NULL;
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);
    assert_null(b);
}

static void test_blob_from_other_token_or_backend(void **state)
{
    p11_fixture *f = *state;
    NEED_SOFTHSM(f);
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t blob_len, aad_len, len;
    hsm_backend *b = open_cfg(&f->cfg), *other;
    check_round_trip(b, 50, &blob, &blob_len, aad, &aad_len);

    hsm_config c = f->cfg;
    c.pkcs11.token_label = "node2";
    other = open_cfg(&c);
    assert_int_equal(hsm_unseal(other, blob, blob_len, aad, aad_len, &pt, &len),
                     HSM_ERR_WRONG_NODE);
    hsm_close(other);
    free(blob);

    /* A soft-backend blob handed to the pkcs11 backend. */
    char key[160], binding[64];
    snprintf(key, sizeof key, "%s/soft.key", f->h.dir);
    hsm_config s;
    hsm_config_init(&s, HSM_KIND_SOFT);
    s.soft.key_file = key;
    s.soft.allow_insecure = true;
    assert_int_equal(hsm_init(&s, binding, sizeof binding), HSM_OK);
    hsm_backend *soft = open_cfg(&s);
    check_round_trip(soft, 50, &blob, &blob_len, aad, &aad_len);
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_WRONG_BACKEND);
    assert_null(pt);
    hsm_close(soft);
    free(blob);
    hsm_close(b);
}

static void test_concurrent_use(void **state)
{
    p11_fixture *f = *state;
    NEED_SOFTHSM(f);
    hsm_backend *b = open_cfg(&f->cfg);
    check_concurrent_use(b, 4, 50);
    hsm_close(b);
}

static void test_selftest_describe_init(void **state)
{
    p11_fixture *f = *state;
    NEED_SOFTHSM(f);
    hsm_selftest_report r;
    char binding[512];
    hsm_backend *b = open_cfg(&f->cfg);
    assert_int_equal(hsm_selftest(b, &r), HSM_OK);
    assert_true(strncmp(r.backend, "pkcs11 ", 7) == 0);
    assert_non_null(strstr(r.backend, "token=node1"));
    assert_null(strstr(r.backend, PIN));
    hsm_close(b);
    assert_int_equal(hsm_init(&f->cfg, binding, sizeof binding), HSM_OK);
    assert_non_null(strstr(binding, "fingerprint="));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_label_id_uri),
        cmocka_unit_test(test_wrong_aad_tamper_truncation),
        cmocka_unit_test(test_wrong_pin_and_pin_file),
        cmocka_unit_test(test_missing_token_key_module),
        cmocka_unit_test(test_blob_from_other_token_or_backend),
        cmocka_unit_test(test_concurrent_use),
        cmocka_unit_test(test_selftest_describe_init),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
