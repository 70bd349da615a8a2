/* tests/signerd/test_stage.c — staging import and migration inputs (daemon/signerd/stage.h)
 * with the soft backend and a real store in a temporary directory: private key text (hex
 * with and without 0x, whitespace, BIP32's test vector 1 master xprv; every malformed form
 * refused: wrong length, a non-hex digit, a flipped base58 character (checksum), an xpub,
 * zero, the group order); a staged key's descriptor, its single staging per public key,
 * unsealing it back, a descriptor edited on disk (no longer unseals), removal; a tss-lib
 * save file staged with its old committee, and a tampered one refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "api/hex.h"
#include "hsm/hsm.h"
#include "stage.h"
#include "store.h"
#include "test_rng.h"
#include "tss/secmem.h"
#include "tsslib_gen.h"

/* BIP32 test vector 1, chain m */
static const char xprv1[] = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPG"
                            "JxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
static const char xpub1[] = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjq"
                            "JoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
static const char key1[] = "e8f32e723decf4051aefac8e2c93c9c5b214313817cdb01a1494b917c8436b35";
static const char cc1[] = "873dff81c02f525623fd1fe5167eac3a55a049de3d314bb42ee227ffed37d508";
static const char pk1[] = "0339a36013301597daef41fbe593a02cc513d0b55527ec2df1050e2e8ff49c85c2";
static const char order[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

static char dir[64], db_path[128];
static hsm_backend *hsm;
static signer_store *st;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-stage-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char key_file[128], binding[256];
    snprintf(key_file, sizeof key_file, "%s/soft.key", dir);
    snprintf(db_path, sizeof db_path, "%s/signer.db", dir);
    hsm_config hc;
    hsm_config_init(&hc, HSM_KIND_SOFT);
    hc.soft.key_file = key_file;
    hc.soft.allow_insecure = true;
    if (hsm_init(&hc, binding, sizeof binding) != HSM_OK || hsm_open(&hc, &hsm) != HSM_OK)
        return -1;
    return signer_store_open(db_path, &st) == SIGNER_STORE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    signer_store_close(st);
    hsm_close(hsm);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static signer_stage_err parse(const char *text, uint8_t key[32], uint8_t cc[32], int *has_cc)
{
    tss_scalar *k = tss_secmem_alloc(sizeof *k);
    char why[256];
    signer_stage_err e =
        signer_stage_parse_key((const uint8_t *)text, strlen(text), k, cc, has_cc, why, sizeof why);
    if (e == SIGNER_STAGE_OK)
        tss_scalar_serialize(key, k);
    else
        assert_true(why[0] != 0);
    tss_secmem_free(k);
    return e;
}

static void expect_key(const char *text, const char *hex, int want_cc)
{
    uint8_t key[32], cc[32], want[32];
    int has_cc = -1;
    assert_int_equal(parse(text, key, cc, &has_cc), SIGNER_STAGE_OK);
    assert_int_equal(api_hex_decode(want, 32, hex, 64), API_OK);
    assert_memory_equal(key, want, 32);
    assert_int_equal(has_cc, want_cc);
    if (want_cc) {
        assert_int_equal(api_hex_decode(want, 32, cc1, 64), API_OK);
        assert_memory_equal(cc, want, 32);
    }
}

static void t_parse_key(void **state)
{
    (void)state;
    char text[256];
    uint8_t key[32], cc[32];
    int has_cc;
    expect_key(key1, key1, 0);
    snprintf(text, sizeof text, "  0x%s\n", key1);
    expect_key(text, key1, 0);
    snprintf(text, sizeof text, "%s\r\n", xprv1);
    expect_key(text, key1, 1);
    for (size_t i = 0; i < 64; i++) { /* upper-case hex is hex */
        text[i] = key1[i] >= 'a' ? (char)(key1[i] - 32) : key1[i];
    }
    text[64] = 0;
    expect_key(text, key1, 0);

    assert_int_equal(parse("", key, cc, &has_cc), SIGNER_STAGE_ERR_KEY_TEXT);
    snprintf(text, sizeof text, "%.63s", key1);
    assert_int_equal(parse(text, key, cc, &has_cc), SIGNER_STAGE_ERR_KEY_TEXT);
    snprintf(text, sizeof text, "%.63sg", key1);
    assert_int_equal(parse(text, key, cc, &has_cc), SIGNER_STAGE_ERR_KEY_TEXT);
    snprintf(text, sizeof text, "%s", xprv1);
    text[40] = text[40] == 'a' ? 'b' : 'a'; /* one character off: the checksum fails */
    assert_int_equal(parse(text, key, cc, &has_cc), SIGNER_STAGE_ERR_KEY_TEXT);
    snprintf(text, sizeof text, "%s", xprv1);
    text[50] = '0'; /* not in base58's alphabet */
    assert_int_equal(parse(text, key, cc, &has_cc), SIGNER_STAGE_ERR_KEY_TEXT);
    assert_int_equal(parse(xpub1, key, cc, &has_cc), SIGNER_STAGE_ERR_KEY_TEXT);
    memset(text, '0', 64);
    text[64] = 0;
    assert_int_equal(parse(text, key, cc, &has_cc), SIGNER_STAGE_ERR_KEY);
    assert_int_equal(parse(order, key, cc, &has_cc), SIGNER_STAGE_ERR_KEY);
}

static const char *field(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void t_stage_key(void **state)
{
    (void)state;
    char *d = NULL, why[512];
    uint8_t pk[33];
    assert_int_equal(api_hex_decode(pk, 33, pk1, 66), API_OK);
    assert_int_equal(signer_stage_key(hsm, st, "n1", (const uint8_t *)xprv1, strlen(xprv1), NULL,
                                      &d, why, sizeof why),
                     SIGNER_STAGE_OK);
    json_t *o = json_loads(d, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 8); /* the contract's eight fields, no "parties" */
    assert_string_equal(field(o, "party"), "n1");
    assert_string_equal(field(o, "source"), "key");
    assert_string_equal(field(o, "public_key"), pk1);
    assert_string_equal(field(o, "public_share"), pk1);
    assert_string_equal(field(o, "chain_code"), cc1);
    assert_string_equal(field(o, "x"),
                        "0000000000000000000000000000000000000000000000000000000000000001");
    assert_int_equal(json_integer_value(json_object_get(o, "old_threshold")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "old_n")), 1);
    assert_null(strstr(d, key1)); /* the secret is nowhere in it */
    json_decref(o);
    free(d);
    d = NULL;

    /* one staging per public key, whatever the text */
    assert_int_equal(signer_stage_key(hsm, st, "n1", (const uint8_t *)key1, strlen(key1), NULL, &d,
                                      why, sizeof why),
                     SIGNER_STAGE_ERR_EXISTS);
    assert_null(d);

    /* unsealed back: the key, for its owner only */
    signer_reshare_staged s;
    assert_int_equal(signer_stage_load(hsm, st, "n1", pk, &s, why, sizeof why), SIGNER_STAGE_OK);
    uint8_t k[32], want[32];
    tss_scalar_serialize(k, s.secret);
    api_hex_decode(want, 32, key1, 64);
    assert_memory_equal(k, want, 32);
    assert_int_equal(s.old_threshold, 1);
    assert_int_equal(s.count, 1);
    signer_stage_release(&s);
    assert_null(s.secret);
    assert_int_equal(signer_stage_load(hsm, st, "n2", pk, &s, why, sizeof why),
                     SIGNER_STAGE_ERR_CORRUPT);

    /* a descriptor edited on disk (another chain code) no longer unseals */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE staged SET descriptor = replace(descriptor, '873dff',"
                                  " '873dfe')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    assert_int_equal(signer_stage_load(hsm, st, "n1", pk, &s, why, sizeof why),
                     SIGNER_STAGE_ERR_BACKEND);
    assert_null(s.secret);
    sqlite3_close(db);

    /* removal, audited; then there is nothing to load or remove */
    assert_int_equal(signer_store_staged_remove(st, pk, NULL, "removed by the test"),
                     SIGNER_STORE_OK);
    assert_int_equal(signer_stage_load(hsm, st, "n1", pk, &s, why, sizeof why),
                     SIGNER_STAGE_ERR_NONE);
    assert_int_equal(signer_store_staged_remove(st, pk, NULL, "again"), SIGNER_STORE_ERR_NOT_FOUND);
    uint64_t checked = 0;
    assert_int_equal(signer_store_audit_verify(st, &checked, NULL), SIGNER_STORE_OK);
    assert_true(checked >= 2);

    /* the operator's chain code wins; a hex key without one gets the derived one */
    uint8_t occ[32], dcc[32];
    char hex[65];
    memset(occ, 0xcc, 32);
    assert_int_equal(signer_stage_key(hsm, st, "n1", (const uint8_t *)key1, strlen(key1), occ, &d,
                                      why, sizeof why),
                     SIGNER_STAGE_OK);
    api_hex_encode(hex, occ, 32);
    assert_non_null(strstr(d, hex));
    free(d);
    assert_int_equal(signer_store_staged_remove(st, pk, NULL, "test"), SIGNER_STORE_OK);
    assert_int_equal(signer_stage_key(hsm, st, "n1", (const uint8_t *)key1, strlen(key1), NULL, &d,
                                      why, sizeof why),
                     SIGNER_STAGE_OK);
    signer_stage_default_chain_code(dcc, pk);
    api_hex_encode(hex, dcc, 32);
    assert_non_null(strstr(d, hex));
    free(d);
    assert_int_equal(signer_store_staged_remove(st, pk, NULL, "test"), SIGNER_STORE_OK);
}

static void t_stage_tsslib(void **state)
{
    (void)state;
    tsslib_gen_key *k = tsslib_gen_small(5, 0x2a, 2, 3, NULL);
    assert_non_null(k);
    char *json = tsslib_gen_json(k, 1, 1), *d = NULL, why[512], pkhex[67];
    assert_non_null(json);
    assert_int_equal(signer_stage_tsslib(hsm, st, "n2", (const uint8_t *)json, strlen(json), 2,
                                         NULL, &d, why, sizeof why),
                     SIGNER_STAGE_OK);
    json_t *o = json_loads(d, JSON_REJECT_DUPLICATES, NULL);
    api_hex_encode(pkhex, k->pk, 33);
    assert_string_equal(field(o, "source"), "tss-lib");
    assert_string_equal(field(o, "public_key"), pkhex);
    assert_int_equal(json_integer_value(json_object_get(o, "old_threshold")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "old_n")), 3);
    json_decref(o);
    free(d);

    signer_reshare_staged s;
    assert_int_equal(signer_stage_load(hsm, st, "n2", k->pk, &s, why, sizeof why), SIGNER_STAGE_OK);
    uint8_t xi[32];
    tss_scalar_serialize(xi, s.secret);
    assert_memory_equal(xi, k->xi[1], 32);
    assert_int_equal(s.count, 3);
    assert_memory_equal(s.x, s.xs[1], 32); /* this party is the second of the file */
    signer_stage_release(&s);
    assert_int_equal(signer_store_staged_remove(st, k->pk, NULL, "test"), SIGNER_STORE_OK);

    /* a file whose share is not this party's public share: refused, nothing staged */
    k->bigx[1][63] ^= 1;
    free(json);
    json = tsslib_gen_json(k, 1, 0);
    assert_int_equal(signer_stage_tsslib(hsm, st, "n2", (const uint8_t *)json, strlen(json), 0,
                                         NULL, &d, why, sizeof why),
                     SIGNER_STAGE_ERR_TSSLIB);
    assert_null(d);
    assert_int_equal(signer_stage_load(hsm, st, "n2", k->pk, &s, why, sizeof why),
                     SIGNER_STAGE_ERR_NONE);
    free(json);
    tsslib_gen_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_parse_key),
        cmocka_unit_test(t_stage_key),
        cmocka_unit_test(t_stage_tsslib),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
