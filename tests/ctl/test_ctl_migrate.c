/* tests/ctl/test_ctl_migrate.c — mpcctl migrate check on generated tss-lib save files
 * (tests/support/tsslib_gen.h): the public key, address, threshold, position and share id
 * it prints (text and --json), never Xi; several files of one key checked together; the
 * exit codes of usage errors, an unreadable file (5) and a refused one (4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "run.h"
#include "tsslib_gen.h"

#define ADDR_SK1 "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
#define ADDR_SK2 "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mpc-migrate-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static tsslib_gen_key *make(uint64_t seed, uint8_t skv, unsigned t, unsigned n)
{
    tsslib_gen_key *k = tsslib_gen_small(seed, skv, t, n, NULL);
    assert_non_null(k);
    return k;
}

/* Writes party j's file as dir/name; returns the path (static buffer per call site). */
static void write_party(const tsslib_gen_key *k, unsigned j, int indent, const char *name,
                        char path[128])
{
    snprintf(path, 128, "%s/%s", dir, name);
    assert_int_equal(tsslib_gen_write(k, j, indent, path), 0);
}

static void test_usage(void **state)
{
    (void)state;
    ctl_run r;
    ctl_run_args(&r, "migrate", "--help", NULL);
    ctl_run_expect(&r, 0, "migrate check --tss-lib FILE", NULL);
    ctl_run_args(&r, "migrate", "check", "--help", NULL);
    ctl_run_expect(&r, 0, "--threshold T", NULL);
    ctl_run_args(&r, "--help", NULL);
    ctl_run_expect(&r, 0, "migrate check", NULL);
    ctl_run_args(&r, "migrate", NULL);
    ctl_run_expect(&r, 2, "usage: mpcctl migrate", NULL);
    ctl_run_args(&r, "migrate", "frob", NULL);
    ctl_run_expect(&r, 2, "usage: mpcctl migrate", NULL);
    ctl_run_args(&r, "migrate", "check", NULL);
    ctl_run_expect(&r, 2, "--tss-lib FILE", NULL);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", "x", "extra", NULL);
    ctl_run_expect(&r, 2, "--tss-lib FILE", NULL);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", "x", "--threshold", "1", NULL);
    ctl_run_expect(&r, 2, "--threshold '1'", NULL);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", "x", "--threshold", "two", NULL);
    ctl_run_expect(&r, 2, "--threshold 'two'", NULL);
    /* unreadable: missing, a directory */
    ctl_run_args(&r, "migrate", "check", "--tss-lib", "/nonexistent/save.json", NULL);
    ctl_run_expect(&r, 5, "/nonexistent/save.json", NULL);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", dir, NULL);
    ctl_run_expect(&r, 5, "not a regular file", NULL);
}

static void test_2of3(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(21, 1, 2, 3);
    char path[128], xi[100], line[256];
    ctl_run r;
    for (unsigned j = 0; j < 3; j++) {
        write_party(k, j, (int)(j & 1), "party.json", path);
        tsslib_gen_xi_dec(xi, k, j);
        ctl_run_args(&r, "migrate", "check", "--tss-lib", path, NULL);
        assert_non_null(strstr(r.out, "address            " ADDR_SK1 "\n"));
        assert_non_null(strstr(r.out, "threshold          2 of 3 (tss-lib threshold 1)\n"));
        snprintf(line, sizeof line, "position           %u (0-based", j);
        assert_non_null(strstr(r.out, line));
        assert_non_null(strstr(r.out,
                               "public key         "
                               "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f"
                               "81798\n")); /* G */
        ctl_run_expect(&r, 0, "checks             ok", xi);
        /* the operator's expected threshold: right, and wrong */
        ctl_run_args(&r, "migrate", "check", "--tss-lib", path, "--threshold", "2", NULL);
        ctl_run_expect(&r, 0, ADDR_SK1, xi);
        ctl_run_args(&r, "migrate", "check", "--tss-lib", path, "--threshold", "3", NULL);
        ctl_run_expect(&r, 4, "needs 2 signers", xi);
    }
    tsslib_gen_free(k);
}

static void test_json(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(22, 2, 3, 5);
    char path[128], xi[100];
    ctl_run r;
    write_party(k, 3, 0, "p3.json", path);
    tsslib_gen_xi_dec(xi, k, 3);
    ctl_run_args(&r, "--json", "migrate", "check", "--tss-lib", path, NULL);
    assert_int_equal(r.rc, 0);
    json_error_t e;
    json_t *o = json_loads(r.out, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "address")), ADDR_SK2);
    assert_int_equal(json_integer_value(json_object_get(o, "threshold")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "tsslib_threshold")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "n")), 5);
    assert_int_equal(json_integer_value(json_object_get(o, "position")), 3);
    json_t *parties = json_object_get(o, "parties");
    assert_int_equal(json_array_size(parties), 5);
    assert_string_equal(json_string_value(json_object_get(o, "share_id")),
                        json_string_value(json_object_get(json_array_get(parties, 3), "share_id")));
    /* every public share is BigXj[j] */
    for (unsigned j = 0; j < 5; j++) {
        char hex[67];
        uint8_t c[33];
        c[0] = (uint8_t)(2 | (k->bigx[j][63] & 1));
        memcpy(c + 1, k->bigx[j], 32);
        for (int b = 0; b < 33; b++)
            sprintf(hex + 2 * b, "%02x", c[b]);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(parties, j), "public_share")), hex);
    }
    json_decref(o);
    ctl_run_expect(&r, 0, NULL, xi);
    tsslib_gen_free(k);
}

/* Refused files: exit 4, the reason named, never Xi. */
static void test_refused(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(23, 1, 3, 5);
    char path[128], xi[100];
    ctl_run r;
    tsslib_gen_xi_dec(xi, k, 0);
    memcpy(k->xi[0], k->xi[1], 32); /* another party's share */
    write_party(k, 0, 1, "bad.json", path);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", path, NULL);
    ctl_run_expect(&r, 4, "Xi does not match BigXj", xi);
    tsslib_gen_free(k);
    k = make(24, 1, 3, 5);
    k->pub[63] ^= 1; /* ECDSAPub off the curve */
    write_party(k, 2, 0, "bad.json", path);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", path, NULL);
    ctl_run_expect(&r, 4, "ECDSAPub is not a point of secp256k1", NULL);
    tsslib_gen_free(k);
    /* truncated */
    k = make(25, 1, 2, 3);
    char *text = tsslib_gen_json(k, 0, 0);
    snprintf(path, sizeof path, "%s/cut.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(text, 1, strlen(text) / 2, f);
    fclose(f);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", path, NULL);
    ctl_run_expect(&r, 4, "invalid JSON", NULL);
    free(text);
    tsslib_gen_free(k);
}

/* Several files: all of one key and different parties, or refused. */
static void test_set(void **state)
{
    (void)state;
    tsslib_gen_key *k = make(26, 2, 2, 3), *other = make(27, 2, 2, 3);
    char p0[128], p1[128], p2[128], q2[128], xi[100];
    ctl_run r;
    write_party(k, 0, 0, "a0.json", p0);
    write_party(k, 1, 1, "a1.json", p1);
    write_party(k, 2, 0, "a2.json", p2);
    write_party(other, 2, 0, "b2.json", q2); /* same private key, other polynomial and ids */
    tsslib_gen_xi_dec(xi, k, 1);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", p0, "--tss-lib", p1, "--tss-lib", p2, NULL);
    assert_non_null(strstr(r.out, "address            " ADDR_SK2 "\n"));
    ctl_run_expect(&r, 0, "set                ok: 3 files of one key", xi);
    ctl_run_args(&r, "--json", "migrate", "check", "--tss-lib", p2, "--tss-lib", p0, NULL);
    assert_int_equal(r.rc, 0);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    json_t *files = json_object_get(o, "files");
    assert_int_equal(json_array_size(files), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(files, 0), "position")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(files, 1), "position")), 0);
    json_decref(o);
    ctl_run_free(&r);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", p0, "--tss-lib", q2, NULL);
    ctl_run_expect(&r, 4, "not of one key", NULL);
    ctl_run_args(&r, "migrate", "check", "--tss-lib", p1, "--tss-lib", p1, NULL);
    ctl_run_expect(&r, 4, "same party", xi);
    tsslib_gen_free(k);
    tsslib_gen_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),   cmocka_unit_test(test_2of3), cmocka_unit_test(test_json),
        cmocka_unit_test(test_refused), cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
