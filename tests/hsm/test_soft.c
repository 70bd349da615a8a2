/* tests/hsm/test_soft.c — the envelope and the soft (key file) backend: round trips,
 * aad binding, every tampered byte, every truncation, key-file permission checks, the
 * allow_insecure switch, blobs from another key file or backend, the development-only log
 * line, the self-test, and the small API helpers. */
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
#include "test_rng.h"
#include "hsm/hsm.h"
#include "tss/secmem.h"

typedef struct {
    char dir[64];
    char key[128];
    hsm_config cfg;
    int warnings;
} soft_fixture;

static void count_log(void *arg, hsm_log_level level, const char *msg)
{
    soft_fixture *f = arg;
    assert_non_null(strstr(msg, "development"));
    if (level == HSM_LOG_WARNING)
        f->warnings++;
}

static int setup(void **state)
{
    soft_fixture *f = calloc(1, sizeof *f);
    char binding[128];
    strcpy(f->dir, "/tmp/hsm-soft-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->key, sizeof f->key, "%s/seal.key", f->dir);
    hsm_config_init(&f->cfg, HSM_KIND_SOFT);
    f->cfg.soft.key_file = f->key;
    f->cfg.soft.allow_insecure = true;
    f->cfg.log = count_log;
    f->cfg.log_arg = f;
    if (hsm_init(&f->cfg, binding, sizeof binding) != HSM_OK || strlen(binding) != 32)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    soft_fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static hsm_backend *open_ok(soft_fixture *f)
{
    hsm_backend *b = NULL;
    hsm_err err = hsm_open(&f->cfg, &b);
    if (err != HSM_OK)
        fail_msg("hsm_open: %s (%s)", hsm_strerror(err), hsm_last_detail());
    return b;
}

static void test_init_creates_private_key_file(void **state)
{
    soft_fixture *f = *state;
    struct stat st;
    char again[128], first[128];
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    /* Re-running init keeps the existing key (same fingerprint). */
    assert_int_equal(hsm_init(&f->cfg, first, sizeof first), HSM_OK);
    assert_int_equal(hsm_init(&f->cfg, again, sizeof again), HSM_OK);
    assert_string_equal(first, again);
}

static void test_round_trip_sizes(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b = open_ok(f);
    size_t sizes[] = {1, 32, 33, 4096, HSM_MAX_PLAINTEXT};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *blob, aad[HSM_AAD_SHARE_MAX];
        size_t blob_len, aad_len;
        check_round_trip(b, sizes[i], &blob, &blob_len, aad, &aad_len);
        free(blob);
    }
    hsm_close(b);
}

static void test_wrong_aad_tamper_truncation(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b = open_ok(f);
    uint8_t *blob, *saved, aad[HSM_AAD_SHARE_MAX];
    size_t blob_len, aad_len;
    check_round_trip(b, 96, &blob, &blob_len, aad, &aad_len);
    saved = malloc(blob_len);
    memcpy(saved, blob, blob_len);
    check_wrong_aad(b, blob, blob_len);
    size_t n = check_every_byte_tampered(b, blob, blob_len, aad, aad_len, 1);
    assert_int_equal(n, blob_len);
    check_truncations(b, blob, blob_len, aad, aad_len);
    assert_memory_equal(blob, saved, blob_len); /* unseal never writes to the blob */
    free(saved);
    free(blob);
    hsm_close(b);
}

/* Random multi-byte damage, truncation and extension (a cheap fuzz pass that runs under
 * ASan/UBSan in the sanitizer build): never HSM_OK, never a crash, never output. */
static void test_random_damage(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b = open_ok(f);
    uint8_t *blob, aad[HSM_AAD_SHARE_MAX], *pt = NULL, *copy;
    size_t blob_len, aad_len, len;
    test_rng rng;
    check_round_trip(b, 120, &blob, &blob_len, aad, &aad_len);
    copy = malloc(blob_len + 64);
    test_rng_init(&rng, 6);
    for (int i = 0; i < 20000; i++) {
        uint8_t r[8];
        test_rng_bytes(&rng, r, sizeof r);
        size_t n = blob_len + 64 - (r[0] % 128); /* some shorter, some longer */
        memcpy(copy, blob, blob_len);
        memset(copy + blob_len, r[1], 64);
        for (int k = 0; k < 1 + (r[2] & 3); k++)
            copy[(r[3 + k] * 7 + i) % blob_len] ^= (uint8_t)(r[7] | 1);
        hsm_err e = hsm_unseal(b, copy, n, aad, aad_len, &pt, &len);
        if (e == HSM_OK)
            fail_msg("damaged blob %d (len %zu) opened", i, n);
        assert_null(pt);
    }
    free(copy);
    free(blob);
    hsm_close(b);
}

static void test_refused_without_allow_insecure(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b = (hsm_backend *)1;
    char binding[64];
    hsm_config c = f->cfg;
    c.soft.allow_insecure = false;
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_INSECURE_REFUSED);
    assert_null(b);
    assert_int_equal(hsm_init(&c, binding, sizeof binding), HSM_ERR_INSECURE_REFUSED);
}

static void test_loose_permissions_refused(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b;
    const mode_t loose[] = {0640, 0604, 0660, 0644, 0610};
    for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
        assert_int_equal(chmod(f->key, loose[i]), 0);
        assert_int_equal(hsm_open(&f->cfg, &b), HSM_ERR_FILE_PERMS);
        assert_non_null(strstr(hsm_last_detail(), "seal.key"));
    }
    assert_int_equal(chmod(f->key, 0400), 0);
    b = open_ok(f);
    hsm_close(b);
    assert_int_equal(chmod(f->key, 0600), 0);

    /* A symlink to the key is refused too (O_NOFOLLOW): the file itself must be checked. */
    char link[160];
    snprintf(link, sizeof link, "%s/link.key", f->dir);
    assert_int_equal(symlink(f->key, link), 0);
    hsm_config c = f->cfg;
    c.soft.key_file = link;
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_FILE_PERMS);
    unlink(link);
}

static void test_bad_key_files(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b;
    hsm_config c = f->cfg;
    char path[160];
    c.soft.key_file = path;
    snprintf(path, sizeof path, "%s/missing.key", f->dir);
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_KEY_FILE);
    snprintf(path, sizeof path, "%s/short.key", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("0123456789", fp);
    fclose(fp);
    chmod(path, 0600);
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_KEY_FILE);
    c.soft.key_file = f->dir; /* a directory */
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_FILE_PERMS);
    c.soft.key_file = NULL;
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_CONFIG);
}

static void test_blob_from_other_node_or_backend(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b = open_ok(f), *other;
    uint8_t *blob, *pt = NULL, aad[HSM_AAD_SHARE_MAX];
    size_t blob_len, aad_len, len;
    char binding[64], path[160];
    hsm_kind kind;
    check_round_trip(b, 40, &blob, &blob_len, aad, &aad_len);

    hsm_config c = f->cfg;
    snprintf(path, sizeof path, "%s/other.key", f->dir);
    c.soft.key_file = path;
    assert_int_equal(hsm_init(&c, binding, sizeof binding), HSM_OK);
    assert_int_equal(hsm_open(&c, &other), HSM_OK);
    assert_int_equal(hsm_unseal(other, blob, blob_len, aad, aad_len, &pt, &len),
                     HSM_ERR_WRONG_NODE);
    hsm_close(other);

    assert_int_equal(hsm_blob_kind(blob, blob_len, &kind), HSM_OK);
    assert_int_equal(kind, HSM_KIND_SOFT);
    blob[5] = HSM_KIND_TPM2;
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_WRONG_BACKEND);
    blob[5] = HSM_KIND_PKCS11;
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_WRONG_BACKEND);
    blob[4] = 2;
    assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_VERSION);
    assert_null(pt);
    free(blob);
    hsm_close(b);
}

static void test_warns_at_every_open(void **state)
{
    soft_fixture *f = *state;
    f->warnings = 0;
    for (int i = 0; i < 3; i++)
        hsm_close(open_ok(f));
    assert_int_equal(f->warnings, 3);
}

static void test_selftest_and_describe(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b = open_ok(f);
    hsm_selftest_report r;
    char desc[256];
    assert_int_equal(hsm_selftest(b, &r), HSM_OK);
    assert_int_equal(r.result, HSM_OK);
    assert_true(r.blob_len > 64);
    assert_true(r.seal_ms >= 0 && r.unseal_ms >= 0);
    assert_true(strncmp(r.backend, "soft ", 5) == 0);
    assert_true(hsm_describe(b, desc, sizeof desc) > 0);
    assert_non_null(strstr(desc, "INSECURE"));
    assert_non_null(strstr(desc, f->key));
    assert_int_equal(hsm_backend_kind(b), HSM_KIND_SOFT);
    hsm_close(b);
}

static void test_concurrent_use(void **state)
{
    soft_fixture *f = *state;
    hsm_backend *b = open_ok(f);
    check_concurrent_use(b, 4, 200);
    hsm_close(b);
}

static void test_api_helpers(void **state)
{
    (void)state;
    uint8_t aad[HSM_AAD_SHARE_MAX], small[8];
    size_t len;
    uint32_t mask;
    char long_id[300];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal(hsm_aad_build(aad, sizeof aad, &len, "k", "p", 7), HSM_OK);
    assert_int_equal(hsm_aad_build(aad, sizeof aad, &len, "", "p", 7), HSM_ERR_ARG);
    assert_int_equal(hsm_aad_build(aad, sizeof aad, &len, long_id, "p", 7), HSM_ERR_ARG);
    assert_int_equal(hsm_aad_build(small, sizeof small, &len, "k", "p", 7), HSM_ERR_TOO_LARGE);
    long_id[255] = 0;
    assert_int_equal(hsm_aad_build(aad, sizeof aad, &len, long_id, long_id, 7), HSM_OK);
    assert_true(len <= HSM_AAD_SHARE_MAX);
    /* ("ab","c") and ("a","bc") must not collide. */
    uint8_t a1[HSM_AAD_SHARE_MAX], a2[HSM_AAD_SHARE_MAX];
    size_t l1, l2;
    hsm_aad_build(a1, sizeof a1, &l1, "ab", "c", 1);
    hsm_aad_build(a2, sizeof a2, &l2, "a", "bc", 1);
    assert_true(l1 == l2 && memcmp(a1, a2, l1) != 0);

    assert_int_equal(hsm_parse_pcr_list("0,7", &mask), HSM_OK);
    assert_int_equal(mask, 0x81);
    assert_int_equal(hsm_parse_pcr_list("0-3,14", &mask), HSM_OK);
    assert_int_equal(mask, 0x400f);
    assert_int_equal(hsm_parse_pcr_list("none", &mask), HSM_OK);
    assert_int_equal(mask, 0);
    assert_int_equal(hsm_parse_pcr_list("24", &mask), HSM_ERR_CONFIG);
    assert_int_equal(hsm_parse_pcr_list("1,,2", &mask), HSM_ERR_CONFIG);
    assert_int_equal(hsm_parse_pcr_list("3-1", &mask), HSM_ERR_CONFIG);

    assert_int_equal(hsm_kind_from_name("tpm2"), HSM_KIND_TPM2);
    assert_int_equal(hsm_kind_from_name("pkcs11"), HSM_KIND_PKCS11);
    assert_int_equal(hsm_kind_from_name("soft"), HSM_KIND_SOFT);
    assert_int_equal(hsm_kind_from_name("yubikey"), HSM_KIND_NONE);

    /* Every error has its own message. */
    for (int i = 0; i < HSM_ERR__COUNT; i++)
        for (int j = i + 1; j < HSM_ERR__COUNT; j++)
            assert_string_not_equal(hsm_strerror((hsm_err)i), hsm_strerror((hsm_err)j));
    assert_string_equal(hsm_strerror(HSM_ERR__COUNT), "unknown hsm error");

    hsm_config c;
    hsm_backend *b;
    hsm_config_init(&c, HSM_KIND_NONE);
    assert_int_equal(hsm_open(&c, &b), HSM_ERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_creates_private_key_file),
        cmocka_unit_test(test_round_trip_sizes),
        cmocka_unit_test(test_wrong_aad_tamper_truncation),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_refused_without_allow_insecure),
        cmocka_unit_test(test_loose_permissions_refused),
        cmocka_unit_test(test_bad_key_files),
        cmocka_unit_test(test_blob_from_other_node_or_backend),
        cmocka_unit_test(test_warns_at_every_open),
        cmocka_unit_test(test_selftest_and_describe),
        cmocka_unit_test(test_concurrent_use),
        cmocka_unit_test(test_api_helpers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
