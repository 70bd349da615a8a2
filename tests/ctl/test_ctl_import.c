/* tests/ctl/test_ctl_import.c — mpcctl keys import without a hub: the dealer descriptors
 * it accepts (a private key's, x = 1; the descriptors of a generated tss-lib wallet,
 * tests/support/tsslib_gen.h, whose ShareIDs are random field elements), the address it
 * computes from them (the known address of private key 1; the generated wallet's), the
 * request --dry-run prints (the contract's body), and every check that refuses
 * descriptors (exit 4) or arguments (exit 2) before any request: each tampered field, a
 * set that is not one import, public shares that do not make the public key. Also the
 * decoder directly (ctl_dealer_parse), the keys refresh / reshare argument checks, and the
 * checks of the hub's answers (ctl_epoch_check, ctl_import_check) against a lying hub:
 * each field it could lie in, changed, is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>

#include "api/hex.h"
#include "dealer.h"
#include "run.h"
#include "tsslib_gen.h"

/* private key 1: public key G, and its well-known Ethereum address */
#define PK_G   "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define ADDR_1 "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
#define CC     "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff"
#define ONE    "0000000000000000000000000000000000000000000000000000000000000001"
#define KEY    "0123456789abcdef0123456789abcdef"

static char dir[64];
static char key_desc[1024]; /* the private-key descriptor (source "key") */

static int setup(void **state)
{
    (void)state;
    unsetenv("MPCCTL_HUB");
    unsetenv("MPCCTL_API_KEY");
    unsetenv("MPCCTL_API_KEY_FILE");
    snprintf(dir, sizeof dir, "/tmp/mpc-import-XXXXXX");
    snprintf(key_desc, sizeof key_desc,
             "{\"party\":\"n1\",\"source\":\"key\",\"public_key\":\"%s\",\"chain_code\":\"%s\","
             "\"old_threshold\":1,\"old_n\":1,\"x\":\"%s\",\"public_share\":\"%s\"}\n",
             PK_G, CC, ONE, PK_G);
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to dir/name; path out. */
static void put(const char *name, const char *text, char path[128])
{
    snprintf(path, 128, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* key_desc with the first `from` replaced by `to`, written to dir/name. */
static void put_edit(const char *name, const char *from, const char *to, char path[128])
{
    char *t = tsslib_gen_replace(key_desc, from, to);
    assert_non_null(t);
    put(name, t, path);
    free(t);
}

/* Runs a dry-run import of the files with a 2-of-3 n1,n2,n3 committee; expects rc and
 * needle (stdout on 0, stderr else). */
static void import3(int rc, const char *needle, const char *f1, const char *f2, const char *f3)
{
    ctl_run r;
    if (!f2)
        ctl_run_args(&r, "keys", "import", "--dry-run", "--threshold", "2", "--parties", "n1,n2,n3",
                     "--dealer", f1, NULL);
    else if (!f3)
        ctl_run_args(&r, "keys", "import", "--dry-run", "--threshold", "2", "--parties", "n1,n2,n3",
                     "--dealer", f1, "--dealer", f2, NULL);
    else
        ctl_run_args(&r, "keys", "import", "--dry-run", "--threshold", "2", "--parties", "n1,n2,n3",
                     "--dealer", f1, "--dealer", f2, "--dealer", f3, NULL);
    ctl_run_expect(&r, rc, needle, NULL);
}

static void test_private_key_dry_run(void **state)
{
    (void)state;
    char p[128];
    put("key.json", key_desc, p);
    ctl_run r;
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2,n3", "--dealer", p,
                 "--external-id", "cold-1", "--dry-run", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "address      " ADDR_1));
    assert_non_null(strstr(r.out, "public key   " PK_G));
    assert_non_null(strstr(r.out, "from key (old sharing 1 of 1; dealers: n1)"));
    assert_non_null(strstr(r.out, "POST /v1/keys/import"));
    ctl_run_free(&r);
    /* --json: the body is the contract's, the descriptor as read */
    ctl_run_args(&r, "--json", "keys", "import", "--threshold", "2", "--parties", "n2,n3,n1",
                 "--dealer", p, "--external-id", "cold-1", "--dry-run", NULL);
    assert_int_equal(r.rc, 0);
    json_t *o = json_loads(r.out, 0, NULL), *body = json_object_get(o, "body");
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "ethereum_address")), ADDR_1);
    assert_int_equal(json_object_size(body), 4);
    assert_int_equal(json_integer_value(json_object_get(body, "threshold")), 2);
    assert_string_equal(json_string_value(json_object_get(body, "external_id")), "cold-1");
    json_t *parties = json_object_get(body, "parties");
    assert_int_equal(json_array_size(parties), 3);
    assert_string_equal(json_string_value(json_array_get(parties, 0)), "n2");
    assert_string_equal(json_string_value(json_array_get(parties, 2)), "n1");
    json_t *dealers = json_object_get(body, "dealers");
    assert_int_equal(json_array_size(dealers), 1);
    json_t *want = json_loads(key_desc, 0, NULL);
    assert_true(json_equal(json_array_get(dealers, 0), want));
    json_decref(want);
    json_decref(o);
    ctl_run_free(&r);
    /* upper-case hex is read, sent in lower case */
    char *up = tsslib_gen_replace(key_desc, PK_G,
                                  "0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28"
                                  "D959F2815B16F81798");
    put("upper.json", up, p);
    free(up);
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2", "--dealer", p,
                 "--dry-run", NULL);
    ctl_run_expect(&r, 0, "\"public_key\":\"" PK_G "\"", NULL);
    /* without --dry-run and without a hub: the descriptors pass, then no hub (2) */
    put("key.json", key_desc, p);
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2", "--dealer", p,
                 NULL);
    ctl_run_expect(&r, 2, "no hub", NULL);
}

/* x (ShareID mod q) of party j, as 64 hex. */
static void share_x(char out[65], const tsslib_gen_key *k, unsigned j)
{
    BIGNUM *x = NULL, *q = NULL;
    BN_CTX *ctx = BN_CTX_new();
    uint8_t b[32];
    assert_true(BN_dec2bn(&x, k->ks[j]) > 0);
    assert_true(BN_hex2bn(&q, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141") >
                0);
    assert_int_equal(BN_nnmod(x, x, q, ctx), 1);
    assert_int_equal(BN_bn2binpad(x, b, 32), 32);
    api_hex_encode(out, b, 32);
    BN_free(x);
    BN_free(q);
    BN_CTX_free(ctx);
}

/* Party j's descriptor for the tss-lib wallet k. */
static void tsslib_desc(char *out, size_t cap, const tsslib_gen_key *k, unsigned j,
                        const char *party)
{
    char pk[67], ps[67], x[65];
    uint8_t c[33];
    c[0] = (uint8_t)(0x02 | (k->bigx[j][63] & 1));
    memcpy(c + 1, k->bigx[j], 32);
    api_hex_encode(ps, c, 33);
    api_hex_encode(pk, k->pk, 33);
    share_x(x, k, j);
    snprintf(out, cap,
             "{\"party\":\"%s\",\"source\":\"tss-lib\",\"public_key\":\"%s\",\"chain_code\":"
             "\"%s\",\"old_threshold\":%u,\"old_n\":%u,\"x\":\"%s\",\"public_share\":\"%s\"}\n",
             party, pk, CC, k->t, k->n, x, ps);
}

static void test_tsslib_wallet(void **state)
{
    (void)state;
    /* a 2-of-3 tss-lib wallet of private key 1 (ShareIDs random field elements) */
    tsslib_gen_key *k = tsslib_gen_small(17, 1, 2, 3, NULL);
    tsslib_gen_key *other = tsslib_gen_small(18, 2, 2, 3, NULL);
    assert_non_null(k);
    assert_non_null(other);
    char d[3][1024], o1[1024], p[4][128];
    static const char *const old[3] = {"old-a", "old-b", "old-c"};
    for (unsigned j = 0; j < 3; j++) {
        char name[16];
        tsslib_desc(d[j], sizeof d[j], k, j, old[j]);
        snprintf(name, sizeof name, "d%u.json", j);
        put(name, d[j], p[j]);
    }
    /* two dealers (the old threshold) or all three; the new committee elsewhere */
    import3(0, "address      " ADDR_1, p[0], p[2], NULL);
    import3(0, "from tss-lib (old sharing 2 of 3; dealers: old-a, old-b, old-c)", p[0], p[1], p[2]);
    /* one dealer is fewer than the old threshold */
    import3(4, "field 'dealers' lists 1 dealers; the key needs old_threshold..old_n = 2..3", p[1],
            NULL, NULL);
    /* a dealer of another wallet (same public key claimed, its own share): the shares do
     * not make the key */
    tsslib_desc(o1, sizeof o1, other, 1, "old-b");
    char opk[67], kpk[67];
    api_hex_encode(opk, other->pk, 33);
    api_hex_encode(kpk, k->pk, 33);
    char *forged = tsslib_gen_replace(o1, opk, kpk);
    assert_non_null(forged);
    put("other.json", forged, p[3]);
    free(forged);
    import3(4, "do not make the public key", p[0], p[3], NULL);
    /* the same file twice, the same x under two names */
    import3(4, "dealers[1]: field 'party' repeats dealers[0]'s ('old-a')", p[0], p[0], NULL);
    char *renamed = tsslib_gen_replace(d[0], "old-a", "old-z");
    put("renamed.json", renamed, p[3]);
    free(renamed);
    import3(4, "dealers[1]: field 'x' repeats dealers[0]'s", p[0], p[3], NULL);
    /* the message names the files */
    char names[320];
    snprintf(names, sizeof names, "(dealers[0] is --dealer %s, dealers[1] is --dealer %s)", p[0],
             p[3]);
    import3(4, names, p[0], p[3], NULL);
    /* more dealers than old_n claims */
    char *n2 = tsslib_gen_replace(d[0], "\"old_n\":3", "\"old_n\":2");
    char *n2b = tsslib_gen_replace(d[1], "\"old_n\":3", "\"old_n\":2");
    char *n2c = tsslib_gen_replace(d[2], "\"old_n\":3", "\"old_n\":2");
    char q[3][128];
    put("n2a.json", n2, q[0]);
    put("n2b.json", n2b, q[1]);
    put("n2c.json", n2c, q[2]);
    free(n2);
    free(n2b);
    free(n2c);
    import3(4, "field 'dealers' lists 3 dealers; the key needs old_threshold..old_n = 2..2", q[0],
            q[1], q[2]);
    /* a descriptor that disagrees on the old threshold */
    import3(4, "dealers[1]: field 'old_n' differs from dealers[0]'s", p[0], q[1], NULL);
    tsslib_gen_free(k);
    tsslib_gen_free(other);
}

/* Every field of a descriptor is checked: one edit each, refused with the field named. */
static void test_descriptor_fields(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *needle;
    } edits[] = {
        {"\"party\":\"n1\"", "\"party\":\"n 1\"", "field 'party'"},
        {"\"party\":\"n1\"", "\"party\":1", "field 'party'"},
        {"\"source\":\"key\"", "\"source\":\"xprv\"", "field 'source'"},
        {"\"public_key\":\"02", "\"public_key\":\"04",
         "field 'public_key' must be a compressed point"},
        {"\"public_key\":\"0279be", "\"public_key\":\"0279", "field 'public_key' must be 66"},
        {"\"public_key\":\"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\"",
         "\"public_key\":\"020000000000000000000000000000000000000000000000000000000000000005\"",
         "not a compressed point"},
        {"\"chain_code\":\"11", "\"chain_code\":\"1", "field 'chain_code'"},
        {"\"chain_code\":\"11", "\"chain_code\":\"zz", "field 'chain_code'"},
        {"\"old_threshold\":1", "\"old_threshold\":0", "field 'old_threshold'"},
        {"\"old_threshold\":1", "\"old_threshold\":1.0", "field 'old_threshold'"},
        {"\"old_threshold\":1", "\"old_threshold\":\"1\"", "field 'old_threshold'"},
        {"\"old_n\":1", "\"old_n\":17", "field 'old_n'"},
        {"\"old_threshold\":1,\"old_n\":1", "\"old_threshold\":2,\"old_n\":1",
         "field 'old_threshold' must be an integer in 1..1"},
        {"\"x\":\"" ONE "\"", "\"x\":\"" ONE "0\"", "field 'x' must be 64"},
        {"\"x\":\"" ONE "\"",
         "\"x\":\"0000000000000000000000000000000000000000000000000000000000000000\"",
         "field 'x' must not be zero"},
        {"\"x\":\"" ONE "\"",
         "\"x\":\"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141\"",
         "field 'x' must be below the group order"},
        {"\"public_share\":\"" PK_G,
         "\"public_share\":\"020000000000000000000000000000000000000000000000000000000000000005",
         "field 'public_share' is not a compressed point"},
        {"\"public_share\":\"" PK_G, "\"public_share\":\"" PK_G "00",
         "field 'public_share' must be"},
        {"\"public_share\":", "\"public_sharE\":", "unknown field 'public_sharE'"},
        {",\"x\":\"" ONE "\"", "", "field 'x' is required"},
        {"}\n", ",\"note\":\"hi\"}\n", "unknown field 'note'"},
        {"}\n", ",\"party\":\"n2\"}\n", "duplicate object key"},
        {"}\n", "}{}\n", "invalid JSON"},
        {"{", "[{", "invalid JSON"},
    };
    char p[128];
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *t = tsslib_gen_replace(key_desc, edits[i].from, edits[i].to);
        assert_non_null(t);
        put("edit.json", t, p);
        free(t);
        ctl_run r;
        ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2", "--dealer", p,
                     "--dry-run", NULL);
        if (r.rc != 4 || !strstr(r.err, edits[i].needle))
            fprintf(stderr, "edit %zu (%s -> %s)\n", i, edits[i].from, edits[i].to);
        ctl_run_expect(&r, 4, edits[i].needle, "POST");
    }
    /* "key" rules: public_share must be the public key; one dealer only */
    put_edit(
        "k2.json",
        "\"public_share\":\"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        "\"public_share\":\"02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5", p);
    import3(4, "source \"key\" needs exactly one dealer", p, NULL, NULL);
    /* too long, empty, missing, a directory */
    char big[CTL_DEALER_TEXT_MAX + 100];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, key_desc, strlen(key_desc));
    put("big.json", big, p);
    import3(4, "at most 2048 bytes", p, NULL, NULL);
    put("empty.json", "", p);
    import3(4, "dealer descriptor is empty", p, NULL, NULL);
    import3(5, "cannot open", "/nonexistent/d.json", NULL, NULL);
}

static void test_arguments(void **state)
{
    (void)state;
    char p[128];
    put("key.json", key_desc, p);
    ctl_run r;
    ctl_run_args(&r, "keys", "import", "--help", NULL);
    ctl_run_expect(&r, 0, "mpc-signerd migrate-stage", NULL);
    ctl_run_args(&r, "keys", "--help", NULL);
    ctl_run_expect(&r, 0, "keys import --threshold T", NULL);
    ctl_run_args(&r, "--help", NULL);
    ctl_run_expect(&r, 0, "keys reshare ID --threshold T", NULL);
    ctl_run_args(&r, "keys", "import", "--dry-run", NULL);
    ctl_run_expect(&r, 2, "needs --threshold T", NULL);
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2", NULL);
    ctl_run_expect(&r, 2, "--dealer FILE", NULL);
    ctl_run_args(&r, "keys", "import", "--threshold", "3", "--parties", "n1,n2", "--dealer", p,
                 NULL);
    ctl_run_expect(&r, 2, "--threshold 3 is more than the 2 parties", NULL);
    ctl_run_args(&r, "keys", "import", "--threshold", "1", "--parties", "n1,n2", "--dealer", p,
                 NULL);
    ctl_run_expect(&r, 2, "--threshold: 2..16", NULL);
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n1", "--dealer", p,
                 NULL);
    ctl_run_expect(&r, 2, "listed twice", NULL);
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2", "--dealer", p,
                 "--external-id", "a b", NULL);
    ctl_run_expect(&r, 2, "--external-id", NULL);
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2", "--dealer", "-",
                 "--dealer", "-", NULL);
    ctl_run_expect(&r, 2, "stdin holds one descriptor", NULL);
    ctl_run_args(&r, "keys", "import", "--threshold", "2", "--parties", "n1,n2", "--dealer", p,
                 "stray", NULL);
    ctl_run_expect(&r, 2, "unexpected 'stray'", NULL);
    /* 16 parties and a dealer outside them: 17 participants */
    ctl_run_args(&r, "keys", "import", "--dry-run", "--threshold", "2", "--parties",
                 "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", "--dealer", p, NULL);
    ctl_run_expect(&r, 4, "17 participants (the parties and the dealers outside them), at most 16",
                   NULL);
    ctl_run_args(&r, "keys", "import", "--dry-run", "--threshold", "2", "--parties",
                 "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,n1", "--dealer", p, NULL);
    ctl_run_expect(&r, 0, ADDR_1, NULL);
    /* refresh and reshare: arguments checked before any hub is needed */
    ctl_run_args(&r, "keys", "refresh", "--help", NULL);
    ctl_run_expect(&r, 0, "keys refresh ID", NULL);
    ctl_run_args(&r, "keys", "reshare", "--help", NULL);
    ctl_run_expect(&r, 0, "--threshold T --parties", NULL);
    ctl_run_args(&r, "keys", "refresh", NULL);
    ctl_run_expect(&r, 2, "one key id", NULL);
    ctl_run_args(&r, "keys", "refresh", "xyz", NULL);
    ctl_run_expect(&r, 2, "not a key id", NULL);
    ctl_run_args(&r, "keys", "refresh", KEY, "--threshold", "3", NULL);
    ctl_run_expect(&r, 2, "use keys reshare", NULL);
    ctl_run_args(&r, "keys", "refresh", KEY, "--wait", "x", NULL);
    ctl_run_expect(&r, 2, "--wait", NULL);
    ctl_run_args(&r, "keys", "refresh", KEY, NULL);
    ctl_run_expect(&r, 2, "no hub", NULL);
    ctl_run_args(&r, "keys", "reshare", KEY, NULL);
    ctl_run_expect(&r, 2, "needs --threshold T and --parties", NULL);
    ctl_run_args(&r, "keys", "reshare", KEY, "--threshold", "2", NULL);
    ctl_run_expect(&r, 2, "needs --threshold T and --parties", NULL);
    ctl_run_args(&r, "keys", "reshare", KEY, "--threshold", "4", "--parties", "n1,n2,n3", NULL);
    ctl_run_expect(&r, 2, "--threshold 4 is more than the 3 parties", NULL);
    ctl_run_args(&r, "keys", "reshare", KEY, "--threshold", "17", "--parties", "n1,n2,n3", NULL);
    ctl_run_expect(&r, 2, "--threshold: 2..16", NULL);
    ctl_run_args(&r, "keys", "reshare", KEY, "--threshold", "2", "--parties", "n1,n2,n1", NULL);
    ctl_run_expect(&r, 2, "listed twice", NULL);
    ctl_run_args(&r, "keys", "reshare", KEY, "--threshold", "2", "--parties", "n1", NULL);
    ctl_run_expect(&r, 2, "more than the 1 parties", NULL);
    ctl_run_args(&r, "keys", "reshare", KEY, "--threshold", "2", "--parties", "n1,n2", NULL);
    ctl_run_expect(&r, 2, "no hub", NULL);
}

/* The decoder directly: what it fills, and nothing left behind on a refusal. */
static void test_parse_direct(void **state)
{
    (void)state;
    ctl_dealer d;
    char why[256];
    assert_int_equal(ctl_dealer_parse(&d, key_desc, strlen(key_desc), why, sizeof why),
                     CTL_DEALER_OK);
    assert_string_equal(d.party, "n1");
    assert_int_equal(d.source, API_IMPORT_KEY);
    assert_int_equal(d.old_threshold, 1);
    assert_int_equal(d.x[31], 1);
    assert_memory_equal(d.public_key, d.public_share, 33);
    /* the request body: checked by the hub's parser, then the points and their sum */
    api_party_name parties[2] = {"n2", "n3"};
    api_import_req *req = malloc(sizeof *req);
    assert_non_null(req);
    char *body = ctl_dealer_request_body(2, parties, 2, &d, 1, "cold-1");
    assert_non_null(body);
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_OK);
    assert_int_equal(req->threshold, 2);
    assert_int_equal(req->ndealers, 1);
    assert_memory_equal(&req->dealers[0], &d, sizeof d);
    assert_string_equal(req->external_id, "cold-1");
    free(body);
    body = ctl_dealer_request_body(2, parties, 2, &d, 0, NULL); /* no dealer */
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_ERR_SET);
    assert_non_null(strstr(why, "field 'dealers'"));
    assert_int_equal(req->ndealers, 0);
    free(body);
    body = ctl_dealer_request_body(3, parties, 2, &d, 1, NULL); /* t above the parties */
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_ERR_SET);
    assert_non_null(strstr(why, "field 'threshold'"));
    free(body);
    /* what the body check adds to the hub's parser, each tampered: a point off the curve
     * (x = 5 has no y), a public share that is not the key's (2G for a "key" source would
     * be refused by the "key" rules first, so a tss-lib pair of f(x) = 1 + x: P(1) = 2G,
     * P(2) = 3G, then P(2) = 4G) */
    ctl_dealer bad = d;
    static const uint8_t x5[32] = {[31] = 5};
    memcpy(bad.public_share + 1, x5, 32);
    body = ctl_dealer_request_body(2, parties, 2, &bad, 1, NULL);
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_ERR_SET); /* the "key" rules: public_share = public_key */
    free(body);
    bad.source = API_IMPORT_TSSLIB;
    body = ctl_dealer_request_body(2, parties, 2, &bad, 1, NULL);
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_ERR_POINT);
    assert_non_null(strstr(why, "dealers[0]: field 'public_share' is not a point"));
    free(body);
    memcpy(bad.public_key + 1, x5, 32);
    body = ctl_dealer_request_body(2, parties, 2, &bad, 1, NULL);
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_ERR_POINT);
    assert_non_null(strstr(why, "dealers[0]: field 'public_key' is not a point"));
    free(body);
    ctl_dealer pair[2];
    static const char *const px[2] = {
        "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",  /* 2G */
        "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"}; /* 3G */
    for (int i = 0; i < 2; i++) {
        pair[i] = d;
        pair[i].source = API_IMPORT_TSSLIB;
        pair[i].old_threshold = pair[i].old_n = 2;
        snprintf(pair[i].party, sizeof pair[i].party, "old-%d", i);
        pair[i].x[31] = (uint8_t)(i + 1);
        assert_int_equal(api_hex_decode(pair[i].public_share, 33, px[i], 66), API_OK);
    }
    body = ctl_dealer_request_body(2, parties, 2, pair, 2, NULL);
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_OK);
    free(body);
    assert_int_equal(
        api_hex_decode(pair[1].public_share, 33,
                       "02e493dbf1c10d80f3581e4904930b1404cc6c13900ee0758474fa94abe8c4cd13", 66),
        API_OK); /* 4G */
    body = ctl_dealer_request_body(2, parties, 2, pair, 2, NULL);
    assert_int_equal(ctl_dealer_check_request(body, strlen(body), req, why, sizeof why),
                     CTL_DEALER_ERR_KEY);
    assert_non_null(strstr(why, "do not make the public key"));
    free(body);
    free(req);
    json_t *o = ctl_dealer_json(&d), *want = json_loads(key_desc, 0, NULL);
    assert_true(json_equal(o, want));
    json_decref(o);
    json_decref(want);
    /* a refusal zeroes the output */
    assert_int_equal(ctl_dealer_parse(&d, "{\"party\":\"n1\"}", 14, why, sizeof why),
                     CTL_DEALER_ERR_FIELD);
    assert_int_equal(d.party[0], 0);
    assert_int_equal(ctl_dealer_parse(&d, "[]", 2, why, sizeof why), CTL_DEALER_ERR_JSON);
    assert_string_equal(ctl_dealer_strerror(CTL_DEALER_ERR_KEY),
                        "public shares do not make the public key");
}

/* keys refresh / reshare: the hub's answer is checked; each lie is caught. */
static void test_epoch_check(void **state)
{
    (void)state;
    const char *before_s = "{\"id\":\"" KEY "\",\"epoch\":2,\"public_key\":\"" PK_G
                           "\",\"threshold\":2,\"n\":3,\"parties\":[\"n1\",\"n2\",\"n3\"]}";
    const char *res_s =
        "{\"key_id\":\"" KEY "\",\"epoch\":3,\"public_key\":\"" PK_G "\",\"threshold\":2,\"n\":3}";
    json_t *before = json_loads(before_s, 0, NULL), *res = json_loads(res_s, 0, NULL);
    json_t *after = json_deep_copy(before);
    json_object_set_new(after, "epoch", json_integer(3));
    char why[256];
    api_party_name same[3] = {"n1", "n2", "n3"}, other[3] = {"n1", "n3", "n2"};
    /* a refresh (np 0: the committee before), a reshare to the same committee */
    assert_int_equal(ctl_epoch_check(KEY, 0, NULL, 0, before, res, after, why, sizeof why), 0);
    assert_int_equal(ctl_epoch_check(KEY, 2, same, 3, before, res, after, why, sizeof why), 0);
    /* the committee asked is not the key's now */
    assert_int_equal(ctl_epoch_check(KEY, 2, other, 3, before, res, after, why, sizeof why), 4);
    assert_int_equal(ctl_epoch_check(KEY, 3, same, 3, before, res, after, why, sizeof why), 4);
    assert_non_null(strstr(why, "committee"));
    static const struct {
        int which; /* 0: res, 1: after */
        const char *field, *value, *needle;
    } lies[] = {
        {0, "key_id", "\"00000000000000000000000000000000\"", "answered for key"},
        {1, "id", "\"00000000000000000000000000000000\"", "answered for key"},
        {0, "epoch", "2", "reports epoch 2 after epoch 2"},
        {0, "epoch", "\"3\"", "reports epoch"},
        {1, "epoch", "4", "the key shows 4"},
        {0, "public_key", "\"02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5\"",
         "PUBLIC KEY CHANGED"},
        {1, "public_key", "\"02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5\"",
         "PUBLIC KEY CHANGED"},
        {0, "threshold", "3", "committee"},
        {0, "n", "2", "committee"},
        {1, "threshold", "3", "committee"},
        {1, "parties", "[\"n1\",\"n2\",\"n4\"]", "committee"},
        {1, "parties", "[\"n1\",\"n2\"]", "committee"},
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        json_t *r = json_deep_copy(res), *a = json_deep_copy(after);
        json_t *v = json_loads(lies[i].value, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        json_object_set_new(lies[i].which ? a : r, lies[i].field, v);
        why[0] = 0;
        int rc = ctl_epoch_check(KEY, 0, NULL, 0, before, r, a, why, sizeof why);
        if (rc != 4 || !strstr(why, lies[i].needle))
            fprintf(stderr, "lie %zu: rc %d why '%s'\n", i, rc, why);
        assert_int_equal(rc, 4);
        assert_non_null(strstr(why, lies[i].needle));
        json_decref(r);
        json_decref(a);
    }
    json_decref(before);
    json_decref(res);
    json_decref(after);
}

/* keys import: the hub's new key is checked against the descriptors; each lie is caught. */
static void test_import_check(void **state)
{
    (void)state;
    ctl_dealer d;
    char why[256];
    assert_int_equal(ctl_dealer_parse(&d, key_desc, strlen(key_desc), why, sizeof why), 0);
    const char *view_s =
        "{\"id\":\"" KEY "\",\"status\":\"active\",\"public_key\":\"" PK_G "\",\"chain_code\":\"" CC
        "\",\"ethereum_address\":\"" ADDR_1
        "\",\"imported\":true,\"import_source\":\"key\",\"epoch\":1,\"threshold\":2,"
        "\"n\":3,\"parties\":[\"n2\",\"n3\",\"n4\"]}";
    json_t *view = json_loads(view_s, 0, NULL);
    assert_non_null(view);
    api_party_name parties[3] = {"n2", "n3", "n4"};
    assert_int_equal(ctl_import_check(&d, 2, parties, 3, view, why, sizeof why), 0);
    /* no epoch shown: still the import */
    json_t *v0 = json_deep_copy(view);
    json_object_del(v0, "epoch");
    assert_int_equal(ctl_import_check(&d, 2, parties, 3, v0, why, sizeof why), 0);
    json_decref(v0);
    assert_int_equal(ctl_import_check(&d, 3, parties, 3, view, why, sizeof why), 4);
    assert_int_equal(ctl_import_check(&d, 2, parties, 2, view, why, sizeof why), 4);
    static const struct {
        const char *field, *value, *needle;
    } lies[] = {
        {"id", "\"xyz\"", "no valid id"},
        {"status", "\"pending\"", "not active"},
        {"status", "\"failed\"", "not active"},
        {"public_key", "\"02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5\"",
         "not the dealers'"},
        {"public_key", "null", "not the dealers'"},
        {"chain_code", "\"" ONE "\"", "another chain code"},
        {"ethereum_address", "\"0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF\"", "hub's address"},
        {"ethereum_address", "\"0x7e5f4552091a69125d5dfcb7b8c2659029395bdf\"", "hub's address"},
        {"imported", "false", "not marked imported"},
        {"import_source", "\"tss-lib\"", "not marked imported from key"},
        {"epoch", "2", "epoch 2, not 1"},
        {"threshold", "3", "not the 2 of 3"},
        {"n", "4", "not the 2 of 3"},
        {"parties", "[\"n2\",\"n4\",\"n3\"]", "not the ones asked for"},
        {"parties", "[\"n2\",\"n3\"]", "not the 2 of 3"},
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        json_t *v = json_deep_copy(view), *x = json_loads(lies[i].value, JSON_DECODE_ANY, NULL);
        assert_non_null(x);
        json_object_set_new(v, lies[i].field, x);
        why[0] = 0;
        int rc = ctl_import_check(&d, 2, parties, 3, v, why, sizeof why);
        if (rc != 4 || !strstr(why, lies[i].needle))
            fprintf(stderr, "lie %zu: rc %d why '%s'\n", i, rc, why);
        assert_int_equal(rc, 4);
        assert_non_null(strstr(why, lies[i].needle));
        json_decref(v);
    }
    json_decref(view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_key_dry_run), cmocka_unit_test(test_tsslib_wallet),
        cmocka_unit_test(test_descriptor_fields),   cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_parse_direct),        cmocka_unit_test(test_epoch_check),
        cmocka_unit_test(test_import_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
