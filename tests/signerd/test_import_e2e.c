/* tests/signerd/test_import_e2e.c — import and migration through the real product (issue 17;
 * tests/support/deploy.h: a real mpc-hubd and three real mpc-signerd on swtpm, SoftHSM2 and
 * soft).
 *   - A private key made by the openssl CLI is staged on one node (`mpc-signerd import-key`)
 *     and imported into a new 2-of-3 key (POST /v1/keys/import): the key's public key is the
 *     one openssl derives; every pair signs and each signature verifies with `openssl
 *     pkeyutl -verify` under openssl's own public key; the key shows imported, source "key",
 *     epoch 1; the staged input is gone (dealt once); importing the same key again is 409;
 *     the imported key refreshes (epoch 2) and still signs.
 *   - Three tss-lib save files of one 2-of-3 key (tests/support/tsslib_gen.h, the replaced
 *     system's format and Shamir conventions) are staged, each on its own node
 *     (`migrate-stage`), and two of them deal: the new key has the tss-lib key's public key
 *     and Ethereum address, and every pair signs under it; the third staging is left, unused.
 *   - Refusals: a descriptor whose public share is another party's (the hub: the shares do
 *     not interpolate to the key, 400, before any session); two descriptors with their
 *     parties swapped (consistent for the hub; each node refuses to deal at another's x
 *     before any message, and keeps its staged input); a dealer with nothing staged. None
 *     leaves an active key, and the import works after them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "api/hex.h"
#include "daemon/common/eth.h"
#include "deploy.h"
#include "tsslib_gen.h"

static deploy D;
static deploy_client *C;
static const char *const PAIR[3][2] = {{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}};

static int group_setup(void **state)
{
    (void)state;
    deploy_init(&D, "mpc-import-test", HUB_BIN, SIGNERD_BIN);
    D.hub_session_timeout = 60;
    deploy_up(&D);
    C = deploy_client_new(&D, NULL);
    if (!C)
        deploy_die(&D, "client");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    deploy_client_free(C);
    int bad = deploy_stop_all_clean(&D) != 0;
    deploy_cleanup(&D);
    return bad;
}

/* Runs `mpc-signerd --config <node i> ARGS` (stderr appended to dir/stage.log); its first
 * stdout line in out (cap bytes). Returns the exit status, -1 if it did not run. */
static int node_cmd(int i, char *out, size_t cap, const char *fmt, ...)
{
    char args[512], conf[256], cmd[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    deploy_node_conf_path(&D, i, conf, sizeof conf);
    snprintf(cmd, sizeof cmd, "%s --config %s %s 2>>%s/stage.log", D.signerd_bin, conf, args,
             D.dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    out[0] = 0;
    if (!fgets(out, (int)cap, p))
        out[0] = 0;
    out[strcspn(out, "\n")] = 0;
    char rest[256];
    while (fgets(rest, sizeof rest, p))
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes the bytes of hex to dir/name. */
static void write_hex(const char *name, const char *hex)
{
    uint8_t b[128];
    size_t n = strlen(hex) / 2;
    assert_true(n <= sizeof b);
    assert_int_equal(api_hex_decode(b, n, hex, 2 * n), API_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", D.dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* POST /v1/keys/import?wait=60 with the given dealer descriptors; the response in *out. */
static int import(const char *parties, const char *const *dealers, int nd, json_t **out)
{
    char body[8192];
    size_t len = (size_t)snprintf(body, sizeof body,
                                  "{\"threshold\":2,\"parties\":[%s],\"dealers\":[", parties);
    for (int k = 0; k < nd; k++)
        len += (size_t)snprintf(body + len, sizeof body - len, "%s%s", k ? "," : "", dealers[k]);
    snprintf(body + len, sizeof body - len, "]}");
    return deploy_client_request(C, "POST", "/v1/keys/import?wait=60", body, out);
}

/* The key object of an import or GET response. */
static json_t *key_of(json_t *o)
{
    json_t *k = json_object_get(o, "key");
    return k ? k : o;
}

/* Every pair signs a fresh hash under key_id: libsecp256k1 against pk, and, when pub_pem is
 * given, the openssl CLI against that PEM public key. */
static void sign_every_pair(const char *key_id, const uint8_t pk[33], const char *pub_pem)
{
    for (int p = 0; p < 3; p++) {
        uint8_t hash[32];
        json_t *o = NULL;
        RAND_bytes(hash, 32);
        int st = deploy_sign(C, key_id, PAIR[p][0], PAIR[p][1], hash, &o);
        if (st != 200) {
            fprintf(stderr, "sign %s+%s: HTTP %d %s\n", PAIR[p][0], PAIR[p][1], st,
                    deploy_jstr(json_object_get(o, "error"), "message"));
            deploy_dump_logs(&D);
        }
        assert_int_equal(st, 200);
        assert_true(deploy_sig_verifies(o, pk, hash));
        if (pub_pem) {
            char hh[65];
            const char *der = deploy_jstr(o, "der");
            api_hex_encode(hh, hash, 32);
            assert_true(strlen(der) > 0);
            write_hex("hash.bin", hh);
            write_hex("sig.der", der);
            assert_int_equal(deploy_sh("cd %s && openssl pkeyutl -verify -pubin -inkey %s -in "
                                       "hash.bin -sigfile sig.der >/dev/null",
                                       D.dir, pub_pem),
                             0);
        }
        json_decref(o);
    }
}

static int staged_count(int i)
{
    char conf[256], cmd[600];
    deploy_node_conf_path(&D, i, conf, sizeof conf);
    snprintf(cmd, sizeof cmd, "%s --config %s staged list 2>>%s/stage.log", D.signerd_bin, conf,
             D.dir);
    FILE *p = popen(cmd, "r");
    int n = 0;
    char line[2048];
    while (p && fgets(line, sizeof line, p))
        n++;
    if (p)
        pclose(p);
    return n;
}

static void t_import_key(void **state)
{
    (void)state;
    /* a key the openssl CLI makes, its hex, and openssl's own public key (PEM, compressed) */
    assert_int_equal(
        deploy_sh("cd %s && openssl ecparam -name secp256k1 -genkey -noout -out imp.pem && "
                  "openssl ec -in imp.pem -pubout -out imp.pub.pem 2>/dev/null && "
                  "openssl ec -in imp.pem -pubout -conv_form compressed -outform DER -out "
                  "imp.pub.der 2>/dev/null && "
                  "openssl ec -in imp.pem -text -noout 2>/dev/null | sed -n '/priv:/,/pub:/p' | "
                  "grep -v 'priv:\\|pub:' | tr -d ' :\\n' | sed 's/^00\\(.\\{64\\}\\)$/\\1/' "
                  "> imp.hex",
                  D.dir),
        0);
    char path[256], pkhex[67], line[4096];
    uint8_t der[128], pk[33];
    snprintf(path, sizeof path, "%s/imp.pub.der", D.dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t dlen = fread(der, 1, sizeof der, f);
    fclose(f);
    assert_true(dlen > 33);
    memcpy(pk, der + dlen - 33, 33); /* SubjectPublicKeyInfo ends with the point */
    api_hex_encode(pkhex, pk, 33);

    /* staged on n3 (soft backend), the daemon running */
    assert_int_equal(node_cmd(2, line, sizeof line, "import-key --key-file %s/imp.hex", D.dir), 0);
    json_t *d = json_loads(line, 0, NULL);
    assert_non_null(d);
    assert_string_equal(deploy_jstr(d, "public_key"), pkhex);
    assert_string_equal(deploy_jstr(d, "party"), "n3");
    json_decref(d);
    assert_int_equal(staged_count(2), 1);
    char desc[4096];
    snprintf(desc, sizeof desc, "%s", line);

    const char *dealers[1] = {desc};
    json_t *o = NULL;
    int st = import("\"n1\",\"n2\",\"n3\"", dealers, 1, &o);
    if (st != 201) {
        fprintf(stderr, "import: HTTP %d %s\n", st, json_dumps(o, 0));
        deploy_dump_logs(&D);
    }
    assert_int_equal(st, 201);
    json_t *k = key_of(o);
    char key_id[33];
    const char *id = deploy_jstr(k, "key_id")[0] ? deploy_jstr(k, "key_id") : deploy_jstr(k, "id");
    assert_int_equal(strlen(id), 32);
    snprintf(key_id, sizeof key_id, "%s", id);
    assert_string_equal(deploy_jstr(k, "public_key"), pkhex);
    json_decref(o);
    assert_int_equal(staged_count(2), 0); /* dealt once: gone */

    char url[80];
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    assert_int_equal(deploy_client_request(C, "GET", url, NULL, &o), 200);
    k = key_of(o);
    assert_true(json_is_true(json_object_get(k, "imported")));
    assert_string_equal(deploy_jstr(k, "import_source"), "key");
    assert_int_equal(json_integer_value(json_object_get(k, "epoch")), 1);
    assert_string_equal(deploy_jstr(k, "status"), "active");
    json_decref(o);

    sign_every_pair(key_id, pk, "imp.pub.pem");

    /* the same wallet again: refused before any session (its staging stays) */
    assert_int_equal(node_cmd(2, line, sizeof line, "import-key --key-file %s/imp.hex", D.dir), 0);
    snprintf(desc, sizeof desc, "%s", line);
    assert_int_equal(import("\"n1\",\"n2\",\"n3\"", dealers, 1, &o), 409);
    json_decref(o);
    assert_int_equal(staged_count(2), 1);
    assert_int_equal(node_cmd(2, line, sizeof line, "staged remove %s", pkhex), 0);
    assert_int_equal(staged_count(2), 0);

    /* an imported key refreshes like any other */
    snprintf(url, sizeof url, "/v1/keys/%s/refresh?wait=60", key_id);
    st = deploy_client_request(C, "POST", url, "{}", &o);
    if (st != 200 && st != 201)
        fprintf(stderr, "refresh: HTTP %d %s\n", st,
                deploy_jstr(json_object_get(o, "error"), "message"));
    assert_true(st == 200 || st == 201);
    json_decref(o);
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    assert_int_equal(deploy_client_request(C, "GET", url, NULL, &o), 200);
    assert_int_equal(json_integer_value(json_object_get(key_of(o), "epoch")), 2);
    json_decref(o);
    sign_every_pair(key_id, pk, "imp.pub.pem");
}

static void t_migrate_tsslib(void **state)
{
    (void)state;
    tsslib_gen_key *k = tsslib_gen_small(77, 0x5d, 2, 3, NULL);
    assert_non_null(k);
    char desc[3][4096], name[32], pkhex[67], addr[43];
    for (unsigned j = 0; j < 3; j++) {
        char path[256];
        snprintf(name, sizeof name, "tss%u.json", j);
        snprintf(path, sizeof path, "%s/%s", D.dir, name);
        assert_int_equal(tsslib_gen_write(k, j, 1, path), 0);
        assert_int_equal(node_cmd((int)j, desc[j], sizeof desc[j],
                                  "migrate-stage --save-file %s --threshold 2", path),
                         0);
    }
    api_hex_encode(pkhex, k->pk, 33);
    assert_int_equal(mpcd_eth_address(addr, k->pk), 0);

    const char *dealers[2] = {desc[0], desc[1]};
    json_t *o = NULL;
    int st = import("\"n1\",\"n2\",\"n3\"", dealers, 2, &o);
    if (st != 201) {
        fprintf(stderr, "migration: HTTP %d %s\n", st, json_dumps(o, 0));
        deploy_dump_logs(&D);
    }
    assert_int_equal(st, 201);
    json_t *key = key_of(o);
    char key_id[33];
    const char *id =
        deploy_jstr(key, "key_id")[0] ? deploy_jstr(key, "key_id") : deploy_jstr(key, "id");
    snprintf(key_id, sizeof key_id, "%s", id);
    assert_string_equal(deploy_jstr(key, "public_key"), pkhex);
    json_decref(o);

    char url[80];
    snprintf(url, sizeof url, "/v1/keys/%s", key_id);
    assert_int_equal(deploy_client_request(C, "GET", url, NULL, &o), 200);
    key = key_of(o);
    assert_string_equal(deploy_jstr(key, "ethereum_address"), addr); /* the same address */
    assert_string_equal(deploy_jstr(key, "import_source"), "tss-lib");
    json_decref(o);
    sign_every_pair(key_id, k->pk, NULL);

    /* n1 and n2 dealt; n3's staging was not used and waits until the operator removes it */
    assert_int_equal(staged_count(0), 0);
    assert_int_equal(staged_count(1), 0);
    assert_int_equal(staged_count(2), 1);
    char line[256];
    assert_int_equal(node_cmd(2, line, sizeof line, "staged remove %s", pkhex), 0);
    tsslib_gen_free(k);
}

static void t_refused(void **state)
{
    (void)state;
    tsslib_gen_key *k = tsslib_gen_small(78, 0x61, 2, 3, NULL);
    assert_non_null(k);
    char desc[3][4096], path[256];
    for (unsigned j = 0; j < 2; j++) {
        snprintf(path, sizeof path, "%s/bad%u.json", D.dir, j);
        assert_int_equal(tsslib_gen_write(k, j, 0, path), 0);
        assert_int_equal(
            node_cmd((int)j, desc[j], sizeof desc[j], "migrate-stage --save-file %s", path), 0);
    }
    /* n2's descriptor names n1's public share: the hub sees that the shares no longer
     * interpolate to the key and refuses before any session */
    json_t *d0 = json_loads(desc[0], 0, NULL), *d1 = json_loads(desc[1], 0, NULL);
    json_t *bad = json_deep_copy(d1);
    json_object_set(bad, "public_share", json_object_get(d0, "public_share"));
    char *lie = json_dumps(bad, JSON_COMPACT);
    json_decref(bad);
    const char *dealers[2] = {desc[0], lie};
    json_t *o = NULL;
    int st = import("\"n1\",\"n2\",\"n3\"", dealers, 2, &o);
    const char *msg = deploy_jstr(json_object_get(o, "error"), "message");
    fprintf(stderr, "a descriptor with another share: HTTP %d %s\n", st, msg);
    assert_int_equal(st, 400);
    assert_non_null(strstr(msg, "interpolate"));
    json_decref(o);
    free(lie);
    /* the two descriptors with their parties swapped: consistent for the hub, but each node
     * is asked to deal at the other's x; they refuse before any message */
    json_t *s0 = json_deep_copy(d0), *s1 = json_deep_copy(d1);
    json_object_set_new(s0, "party", json_string("n2"));
    json_object_set_new(s1, "party", json_string("n1"));
    char *t0 = json_dumps(s0, JSON_COMPACT), *t1 = json_dumps(s1, JSON_COMPACT);
    json_decref(s0);
    json_decref(s1);
    json_decref(d0);
    json_decref(d1);
    const char *swapped[2] = {t0, t1};
    st = import("\"n1\",\"n2\",\"n3\"", swapped, 2, &o);
    msg = deploy_jstr(json_object_get(o, "error"), "message");
    fprintf(stderr, "swapped descriptors: HTTP %d %s\n", st, msg);
    assert_true(st >= 400);
    assert_non_null(strstr(msg, "not its staged x, P(x)"));
    json_decref(o);
    free(t0);
    free(t1);
    /* a dealer with nothing staged (n3) */
    snprintf(path, sizeof path, "%s/bad2.json", D.dir);
    assert_int_equal(tsslib_gen_write(k, 2, 0, path), 0);
    json_t *d2 = json_loads(desc[1], 0, NULL);
    json_object_set_new(d2, "party", json_string("n3"));
    char *nothing = json_dumps(d2, JSON_COMPACT);
    json_decref(d2);
    const char *dealers2[2] = {desc[0], nothing};
    st = import("\"n1\",\"n2\",\"n3\"", dealers2, 2, &o);
    msg = deploy_jstr(json_object_get(o, "error"), "message");
    fprintf(stderr, "a dealer with nothing staged: HTTP %d %s\n", st, msg);
    assert_true(st >= 400);
    assert_non_null(strstr(msg, "nothing staged here for public key"));
    json_decref(o);
    free(nothing);
    /* a save file that is not one (BigXj of this party altered) and a key file that is not
     * a key: refused with exit 4 and a message, nothing staged */
    k->bigx[2][40] ^= 1;
    snprintf(path, sizeof path, "%s/tampered.json", D.dir);
    assert_int_equal(tsslib_gen_write(k, 2, 0, path), 0);
    k->bigx[2][40] ^= 1;
    char line[512];
    assert_int_equal(node_cmd(2, line, sizeof line, "migrate-stage --save-file %s", path), 4);
    write_hex("notakey.hex", "00");
    assert_int_equal(node_cmd(2, line, sizeof line, "import-key --key-file %s/notakey.hex", D.dir),
                     4);
    assert_int_equal(staged_count(2), 0);
    assert_int_equal(deploy_sh("grep -q 'the tss-lib save file is refused' %s/stage.log && grep "
                               "-q 'neither 64 hex digits nor' %s/stage.log",
                               D.dir, D.dir),
                     0);
    /* no key of that public key is active */
    char pkhex[67];
    api_hex_encode(pkhex, k->pk, 33);
    assert_int_equal(deploy_client_request(C, "GET", "/v1/keys", NULL, &o), 200);
    char *all = json_dumps(o, 0);
    char *at = all ? strstr(all, pkhex) : NULL;
    if (at) /* listed (a failed key) but never active */
        assert_null(strstr(at, "\"active\""));
    free(all);
    json_decref(o);
    /* n2 refused before dealing: its staging is still there, and the import now works */
    assert_int_equal(staged_count(1), 1);
    const char *ok[2] = {desc[0], desc[1]};
    if (staged_count(0) == 0) { /* n1 dealt in the first attempt: stage it again */
        snprintf(path, sizeof path, "%s/bad0.json", D.dir);
        assert_int_equal(node_cmd(0, desc[0], sizeof desc[0], "migrate-stage --save-file %s", path),
                         0);
    }
    st = import("\"n1\",\"n2\",\"n3\"", ok, 2, &o);
    if (st != 201)
        fprintf(stderr, "import after refusals: HTTP %d %s\n", st,
                deploy_jstr(json_object_get(o, "error"), "message"));
    assert_int_equal(st, 201);
    json_decref(o);
    tsslib_gen_free(k);
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_import_key),
        cmocka_unit_test(t_migrate_tsslib),
        cmocka_unit_test(t_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
