/* tests/api/test_import.c — api/import.h: the dealer descriptor and the POST /v1/keys/import
 * body. A valid key import and a valid tss-lib migration parse to exactly their fields; every
 * malformed or inconsistent variant of them (one change each) is refused with the error code
 * the contract gives and a message that names the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/hex.h"
#include "api/import.h"

/* The parser checks encodings only (the curve check is the hub's): any 02/03 point will do. */
#define PK  "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define PS2 "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
#define PS3 "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define CC  "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c"
#define X1  "0000000000000000000000000000000000000000000000000000000000000001"
#define X2  "0000000000000000000000000000000000000000000000000000000000000002"
#define X3  "0000000000000000000000000000000000000000000000000000000000000003"

static json_t *dealer(const char *party, const char *source, unsigned t, unsigned n, const char *x,
                      const char *share)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:s}", "party", party, "source", source,
                     "public_key", PK, "chain_code", CC, "old_threshold", (int)t, "old_n", (int)n,
                     "x", x, "public_share", share);
}

/* A key import: n4 (not in the committee) deals its whole key to n1..n3, 2 of 3. */
static json_t *key_body(void)
{
    return json_pack("{s:i,s:[s,s,s],s:[o],s:s}", "threshold", 2, "parties", "n1", "n2", "n3",
                     "dealers", dealer("n4", "key", 1, 1, X1, PK), "external_id", "wallet-7");
}

/* A tss-lib migration: 2 of the 3 old parties (n1 inside the new committee, n5 outside). */
static json_t *tss_body(void)
{
    return json_pack("{s:i,s:[s,s,s],s:[o,o]}", "threshold", 3, "parties", "n1", "n2", "n3",
                     "dealers", dealer("n1", "tss-lib", 2, 3, X2, PS2),
                     dealer("n5", "tss-lib", 2, 3, X3, PS3));
}

static api_err parse(json_t *o, api_import_req *r, char *msg, size_t cap)
{
    char *text = json_dumps(o, JSON_COMPACT);
    assert_non_null(text);
    api_err e = api_import_req_parse(r, text, strlen(text), msg, cap);
    free(text);
    return e;
}

static void test_valid(void **state)
{
    (void)state;
    api_import_req *r = malloc(sizeof *r);
    char msg[API_MSG_MAX];
    uint8_t pk[33], x[32];
    api_hex_decode(pk, 33, PK, 66);
    json_t *o = key_body();
    assert_int_equal(parse(o, r, msg, sizeof msg), API_OK);
    json_decref(o);
    assert_int_equal(r->threshold, 2);
    assert_int_equal(r->nparties, 3);
    assert_string_equal(r->parties[2], "n3");
    assert_int_equal(r->ndealers, 1);
    assert_string_equal(r->dealers[0].party, "n4");
    assert_int_equal(r->dealers[0].source, API_IMPORT_KEY);
    assert_string_equal(api_import_source_name(r->dealers[0].source), "key");
    assert_memory_equal(r->dealers[0].public_key, pk, 33);
    assert_memory_equal(r->dealers[0].public_share, pk, 33);
    assert_int_equal(r->dealers[0].chain_code[31], 0x5c);
    assert_int_equal(r->dealers[0].old_threshold, 1);
    assert_int_equal(r->dealers[0].old_n, 1);
    assert_string_equal(r->external_id, "wallet-7");
    assert_int_equal(api_import_participants(r), 4);
    o = tss_body();
    assert_int_equal(parse(o, r, msg, sizeof msg), API_OK);
    json_decref(o);
    assert_int_equal(r->ndealers, 2);
    assert_int_equal(r->dealers[1].source, API_IMPORT_TSSLIB);
    assert_int_equal(r->dealers[1].old_threshold, 2);
    assert_int_equal(r->dealers[1].old_n, 3);
    api_hex_decode(x, 32, X3, 64);
    assert_memory_equal(r->dealers[1].x, x, 32);
    assert_string_equal(r->external_id, "");
    assert_int_equal(api_import_participants(r), 4); /* n1 deals inside the committee */
    /* upper-case hex is hex too */
    o = key_body();
    char up[67];
    for (int i = 0; i < 66; i++)
        up[i] = (char)(PK[i] >= 'a' ? PK[i] - 32 : PK[i]);
    up[66] = 0;
    json_object_set_new(json_array_get(json_object_get(o, "dealers"), 0), "public_key",
                        json_string(up));
    json_object_set_new(json_array_get(json_object_get(o, "dealers"), 0), "public_share",
                        json_string(up));
    assert_int_equal(parse(o, r, msg, sizeof msg), API_OK);
    json_decref(o);
    /* x = q - 1 is a scalar */
    o = key_body();
    json_object_set_new(
        json_array_get(json_object_get(o, "dealers"), 0), "x",
        json_string("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"));
    assert_int_equal(parse(o, r, msg, sizeof msg), API_OK);
    json_decref(o);
    /* exactly 16 participants */
    o = key_body();
    json_t *p = json_array();
    for (int i = 0; i < 15; i++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", i);
        json_array_append_new(p, json_string(id));
    }
    json_object_set_new(o, "parties", p);
    assert_int_equal(parse(o, r, msg, sizeof msg), API_OK);
    assert_int_equal(api_import_participants(r), 16);
    json_decref(o);
    free(r);
}

static void test_descriptor(void **state)
{
    (void)state;
    api_import_dealer d;
    char msg[API_MSG_MAX];
    json_t *o = dealer("n4", "key", 1, 1, X1, PK);
    char *text = json_dumps(o, JSON_COMPACT), line[1024];
    json_decref(o);
    snprintf(line, sizeof line, "%s\n", text); /* as the staging command prints it */
    assert_int_equal(api_import_dealer_parse(&d, line, strlen(line), msg, sizeof msg), API_OK);
    assert_string_equal(d.party, "n4");
    assert_int_equal(d.x[31], 1);
    assert_int_equal(api_import_dealer_parse(&d, text, strlen(text) - 1, msg, sizeof msg),
                     API_ERR_BAD_JSON);
    assert_int_equal(d.party[0], 0); /* nothing left behind */
    assert_int_equal(api_import_dealer_parse(&d, "", 0, msg, sizeof msg), API_ERR_BAD_JSON);
    assert_int_equal(api_import_dealer_parse(&d, "[1]", 3, msg, sizeof msg), API_ERR_BAD_JSON);
    snprintf(line, sizeof line, "%s %s", text, text); /* two descriptors on a line */
    assert_int_equal(api_import_dealer_parse(&d, line, strlen(line), msg, sizeof msg),
                     API_ERR_BAD_JSON);
    free(text);
}

/* One change to a valid body: path is "field" or "dealers.K.field"; value NULL deletes it. */
typedef struct {
    const char *base; /* "key" or "tss" */
    const char *path;
    const char *value; /* JSON text, or NULL to delete */
    api_err want;
    const char *says; /* a substring of the message */
} mutation;

static const mutation cases[] = {
    {"key", "admin", "true", API_ERR_BAD_FIELD, "unknown field 'admin'"},
    {"key", "threshold", NULL, API_ERR_MISSING_FIELD, "'threshold'"},
    {"key", "threshold", "1", API_ERR_BAD_FIELD, "'threshold'"},
    {"key", "threshold", "4", API_ERR_BAD_FIELD, "'threshold'"},
    {"key", "threshold", "\"2\"", API_ERR_BAD_FIELD, "'threshold'"},
    {"key", "threshold", "2.0", API_ERR_BAD_FIELD, "'threshold'"},
    {"key", "parties", NULL, API_ERR_MISSING_FIELD, "'parties'"},
    {"key", "parties", "[\"n1\"]", API_ERR_BAD_FIELD, "'parties'"},
    {"key", "parties", "\"n1,n2\"", API_ERR_BAD_FIELD, "'parties'"},
    {"key", "parties", "[\"n1\",\"n2\",\"n1\"]", API_ERR_BAD_FIELD, "'parties'"},
    {"key", "parties", "[\"n1\",\"n 2\"]", API_ERR_BAD_FIELD, "'parties' item 1"},
    {"key", "parties", "[\"n1\",7]", API_ERR_BAD_FIELD, "'parties' item 1"},
    {"key", "parties",
     "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\","
     "\"p\",\"q\"]",
     API_ERR_BAD_FIELD, "'parties'"},
    {"key", "parties",
     "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\","
     "\"p\"]",
     API_ERR_BAD_FIELD, "participants"},
    {"key", "external_id", "\"has space\"", API_ERR_BAD_FIELD, "'external_id'"},
    {"key", "external_id", "\"\"", API_ERR_BAD_FIELD, "'external_id'"},
    {"key", "external_id", "7", API_ERR_BAD_FIELD, "'external_id'"},
    {"key", "dealers", NULL, API_ERR_MISSING_FIELD, "'dealers'"},
    {"key", "dealers", "[]", API_ERR_BAD_FIELD, "'dealers'"},
    {"key", "dealers", "{}", API_ERR_BAD_FIELD, "'dealers'"},
    {"key", "dealers", "[\"n4\"]", API_ERR_BAD_FIELD, "dealers[0]"},
    {"key", "dealers.0.extra", "1", API_ERR_BAD_FIELD, "dealers[0]: unknown field 'extra'"},
    {"key", "dealers.0.party", NULL, API_ERR_MISSING_FIELD, "'party'"},
    {"key", "dealers.0.party", "\"n/4\"", API_ERR_BAD_FIELD, "'party'"},
    {"key", "dealers.0.source", NULL, API_ERR_MISSING_FIELD, "'source'"},
    {"key", "dealers.0.source", "\"xprv\"", API_ERR_BAD_FIELD, "'source'"},
    {"key", "dealers.0.source", "\"KEY\"", API_ERR_BAD_FIELD, "'source'"},
    {"key", "dealers.0.public_key", NULL, API_ERR_MISSING_FIELD, "'public_key'"},
    {"key", "dealers.0.public_key", "\"" PK "00\"", API_ERR_BAD_FIELD, "'public_key'"},
    {"key", "dealers.0.public_key", "\"04" CC "\"", API_ERR_BAD_FIELD, "'public_key'"},
    {"key", "dealers.0.public_key", "\"zz" CC "\"", API_ERR_BAD_FIELD, "'public_key'"},
    {"key", "dealers.0.chain_code", NULL, API_ERR_MISSING_FIELD, "'chain_code'"},
    {"key", "dealers.0.chain_code", "\"5c5c\"", API_ERR_BAD_FIELD, "'chain_code'"},
    {"key", "dealers.0.old_threshold", NULL, API_ERR_MISSING_FIELD, "'old_threshold'"},
    {"key", "dealers.0.old_threshold", "0", API_ERR_BAD_FIELD, "'old_threshold'"},
    {"key", "dealers.0.old_threshold", "2", API_ERR_BAD_FIELD, "'old_threshold'"},
    {"key", "dealers.0.old_n", NULL, API_ERR_MISSING_FIELD, "'old_n'"},
    {"key", "dealers.0.old_n", "17", API_ERR_BAD_FIELD, "'old_n'"},
    {"key", "dealers.0.old_n", "-1", API_ERR_BAD_FIELD, "'old_n'"},
    {"key", "dealers.0.x", NULL, API_ERR_MISSING_FIELD, "'x'"},
    {"key", "dealers.0.x", "\"" CC "00\"", API_ERR_BAD_FIELD, "'x'"},
    {"key", "dealers.0.x", "\"0000000000000000000000000000000000000000000000000000000000000000\"",
     API_ERR_BAD_FIELD, "'x' must not be zero"},
    {"key", "dealers.0.x", "\"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141\"",
     API_ERR_BAD_FIELD, "below the group order"},
    {"key", "dealers.0.x", "\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"",
     API_ERR_BAD_FIELD, "below the group order"},
    {"key", "dealers.0.public_share", NULL, API_ERR_MISSING_FIELD, "'public_share'"},
    {"key", "dealers.0.public_share", "\"05" CC "\"", API_ERR_BAD_FIELD, "'public_share'"},
    /* a key import is one dealer holding the whole key */
    {"key", "dealers.0.public_share", "\"" PS2 "\"", API_ERR_BAD_FIELD, "public_share"},
    {"key", "dealers.0.old_n", "2", API_ERR_BAD_FIELD, "source \"key\""},
    /* every dealer describes the same key */
    {"tss", "dealers.1.source", "\"key\"", API_ERR_BAD_FIELD, "dealers[1]: field 'source'"},
    {"tss", "dealers.1.public_key", "\"" PS3 "\"", API_ERR_BAD_FIELD,
     "dealers[1]: field 'public_key'"},
    {"tss", "dealers.1.chain_code", "\"" X1 "\"", API_ERR_BAD_FIELD,
     "dealers[1]: field 'chain_code'"},
    {"tss", "dealers.1.old_threshold", "1", API_ERR_BAD_FIELD, "dealers[1]: field 'old_threshold'"},
    {"tss", "dealers.1.old_n", "4", API_ERR_BAD_FIELD, "dealers[1]: field 'old_n'"},
    {"tss", "dealers.1.party", "\"n1\"", API_ERR_BAD_FIELD, "dealers[1]: field 'party'"},
    {"tss", "dealers.1.x", "\"" X2 "\"", API_ERR_BAD_FIELD, "dealers[1]: field 'x'"},
    /* old_threshold <= dealers <= old_n */
    {"tss", "dealers.0.old_threshold", "3", API_ERR_BAD_FIELD, "old_threshold"},
    {"tss", "dealers.1", NULL, API_ERR_BAD_FIELD, "old_threshold..old_n"},
};

static void set_path(json_t *o, const char *path, const char *value)
{
    char p[64];
    snprintf(p, sizeof p, "%s", path);
    char *dot = strchr(p, '.');
    json_t *v = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
    if (value)
        assert_non_null(v);
    if (!dot) {
        if (v)
            json_object_set_new(o, p, v);
        else
            json_object_del(o, p);
        return;
    }
    *dot = 0;
    char *field = strchr(dot + 1, '.');
    json_t *arr = json_object_get(o, p);
    size_t k = (size_t)atoi(dot + 1);
    if (!field) { /* a whole array element */
        if (v)
            json_array_set_new(arr, k, v);
        else
            json_array_remove(arr, k);
        return;
    }
    json_t *d = json_array_get(arr, k);
    if (v)
        json_object_set_new(d, field + 1, v);
    else
        json_object_del(d, field + 1);
}

static void test_refusals(void **state)
{
    (void)state;
    api_import_req *r = malloc(sizeof *r);
    char msg[API_MSG_MAX];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const mutation *m = &cases[c];
        json_t *o = strcmp(m->base, "key") == 0 ? key_body() : tss_body();
        set_path(o, m->path, m->value);
        msg[0] = 0;
        api_err e = parse(o, r, msg, sizeof msg);
        json_decref(o);
        if (e != m->want || !strstr(msg, m->says))
            fail_msg("case %zu (%s %s = %s): got %s \"%s\", want %s naming %s", c, m->base, m->path,
                     m->value ? m->value : "(deleted)", api_err_code(e), msg, api_err_code(m->want),
                     m->says);
        assert_int_equal(r->ndealers, 0); /* a refusal leaves nothing behind */
        assert_int_equal(r->nparties, 0);
    }
    /* not an object, not JSON, duplicate keys */
    static const char *const bad[] = {"", "[]", "7", "{\"threshold\":2,",
                                      "{\"threshold\":2,\"threshold\":2}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = 0;
        assert_int_equal(api_import_req_parse(r, bad[i], strlen(bad[i]), msg, sizeof msg),
                         API_ERR_BAD_JSON);
        assert_true(msg[0] != 0);
    }
    assert_int_equal(api_import_req_parse(r, NULL, 0, msg, sizeof msg), API_ERR_BAD_JSON);
    /* 17 dealers */
    json_t *o = tss_body(), *d = json_array();
    for (int i = 0; i < 17; i++) {
        char x[65];
        snprintf(x, sizeof x, "%064x", i + 1);
        json_array_append_new(d, dealer("n1", "tss-lib", 2, 16, x, PS2));
    }
    json_object_set_new(o, "dealers", d);
    assert_int_equal(parse(o, r, msg, sizeof msg), API_ERR_BAD_FIELD);
    assert_non_null(strstr(msg, "'dealers'"));
    json_decref(o);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
