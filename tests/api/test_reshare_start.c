/* tests/api/test_reshare_start.c — the strict decoder of the reshare session-start payload
 * (api/reshare.h): the shapes the hub sends (a refresh, a 2-of-3 -> 3-of-5 reshare with a
 * removed dealer) are accepted with every field in place; each deviation (a missing or
 * unknown field, a wrong kind, a non-null approval, epoch 0, a repeated x or id, x zero, a
 * dealer that claims a new index of another party, too few dealers, too many participants,
 * an index that names nobody, wrong hex lengths) is refused with the field named and the
 * output zeroed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/frame.h"
#include "api/json.h"
#include "api/reshare.h"

static char hex_of(unsigned byte, unsigned len, char *out)
{
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", byte);
    return out[0];
}

/* A payload: new committee of n parties "n1".."nn", dealers the old parties "o1".."od"
 * (dealer k is new party new_idx[k], 0 for none, named "n<i>" then), index idx. */
static json_t *payload(unsigned t, unsigned n, unsigned d, const unsigned *new_idx, unsigned idx)
{
    char h[80], id[16];
    json_t *parties = json_array(), *dealers = json_array();
    for (unsigned i = 1; i <= n; i++) {
        snprintf(id, sizeof id, "n%u", i);
        json_array_append_new(parties, json_pack("{s:i,s:s,s:s}", "index", i, "id", id, "cert",
                                                 i == 1 ? "PEM-1" : "PEM"));
    }
    for (unsigned k = 0; k < d; k++) {
        char x[65], pub[67];
        hex_of(k + 1, 32, x);
        pub[0] = '0';
        pub[1] = '2';
        hex_of(0x40 + k, 32, pub + 2);
        if (new_idx[k])
            snprintf(id, sizeof id, "n%u", new_idx[k]);
        else
            snprintf(id, sizeof id, "o%u", k + 1);
        json_array_append_new(dealers, json_pack("{s:s,s:s,s:s,s:s,s:i}", "x", x, "pub", pub, "id",
                                                 id, "cert", new_idx[k] == 1 ? "PEM-1" : "PEM",
                                                 "new_index", new_idx[k]));
    }
    char pk[67] = "03", cc[65], sid[65], nonce[65];
    hex_of(0x77, 32, pk + 2);
    hex_of(0xcc, 32, cc);
    hex_of(0x5d, 32, sid);
    hex_of(0x01, 32, nonce);
    hex_of(0xab, 16, h);
    return json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:o,s:{s:i,s:i,s:s,s:s,s:s},s:o,s:s,s:n}", "kind",
                     "reshare", "key_id", h, "epoch", 1, "threshold", t, "n", n, "index", idx,
                     "parties", parties, "old", "threshold", 2, "n", 3, "public_key", pk,
                     "chain_code", cc, "key_sid", sid, "dealers", dealers, "nonce", nonce,
                     "approval");
}

static api_err parse_json(json_t *j, api_reshare_start *s, char *msg)
{
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    api_err e = api_reshare_start_parse(s, (const uint8_t *)text, strlen(text), msg, API_MSG_MAX);
    free(text);
    return e;
}

static const unsigned refresh_dealers[] = {1, 3};
static const unsigned reshare_dealers[] = {0, 2, 5}; /* o1 leaves, 2 stays, old 3 is new 5 */

static void test_accepts(void **state)
{
    (void)state;
    api_reshare_start *s = malloc(sizeof *s);
    char msg[API_MSG_MAX];
    json_t *j = payload(2, 3, 2, refresh_dealers, 3);
    assert_int_equal(parse_json(j, s, msg), API_OK);
    json_decref(j);
    assert_int_equal(s->epoch, 1);
    assert_int_equal(s->n, 3);
    assert_int_equal(s->threshold, 2);
    assert_int_equal(s->index, 3);
    assert_int_equal(s->ndealers, 2);
    assert_int_equal(s->old_threshold, 2);
    assert_int_equal(s->old_n, 3);
    assert_int_equal(s->dealers[1].new_index, 3);
    assert_string_equal(s->dealers[1].id, "n3");
    assert_int_equal(s->dealers[1].x[31], 2);
    assert_int_equal(s->public_key[0], 3);
    assert_int_equal(s->key_sid[0], 0x5d);
    assert_int_equal(api_reshare_participants(s), 3);

    /* 2-of-3 -> 3-of-5, one old party leaves and deals as participant n + 1 = 6 */
    j = payload(3, 5, 3, reshare_dealers, 6);
    assert_int_equal(parse_json(j, s, msg), API_OK);
    assert_int_equal(api_reshare_participants(s), 6);
    assert_int_equal(s->index, 6);
    assert_string_equal(s->dealers[0].id, "o1");
    assert_string_equal(s->parties[4].id, "n5");
    /* participant 7 does not exist */
    json_object_set_new(j, "index", json_integer(7));
    assert_int_equal(parse_json(j, s, msg), API_ERR_BAD_FIELD);
    assert_non_null(strstr(msg, "index"));
    json_decref(j);
    free(s);
}

typedef void (*mutate_fn)(json_t *j);

static json_t *dealer(json_t *j, size_t i)
{
    return json_array_get(json_object_get(j, "dealers"), i);
}

static void m_no_nonce(json_t *j)
{
    json_object_del(j, "nonce");
}
static void m_unknown(json_t *j)
{
    json_object_set_new(j, "hash", json_string("00"));
}
static void m_kind(json_t *j)
{
    json_object_set_new(j, "kind", json_string("keygen"));
}
static void m_approval(json_t *j)
{
    json_object_set_new(j, "approval", json_object());
}
static void m_epoch0(json_t *j)
{
    json_object_set_new(j, "epoch", json_integer(0));
}
static void m_epoch_str(json_t *j)
{
    json_object_set_new(j, "epoch", json_string("1"));
}
static void m_t_gt_n(json_t *j)
{
    json_object_set_new(j, "threshold", json_integer(4));
}
static void m_old_missing(json_t *j)
{
    json_object_del(json_object_get(j, "old"), "key_sid");
}
static void m_old_extra(json_t *j)
{
    json_object_set_new(json_object_get(j, "old"), "epoch", json_integer(0));
}
static void m_old_t(json_t *j)
{
    json_object_set_new(json_object_get(j, "old"), "threshold", json_integer(4));
}
static void m_pk_len(json_t *j)
{
    json_object_set_new(json_object_get(j, "old"), "public_key", json_string("02ab"));
}
static void m_x_dup(json_t *j)
{
    json_object_set(dealer(j, 1), "x", json_object_get(dealer(j, 0), "x"));
}
static void m_x_zero(json_t *j)
{
    json_object_set_new(
        dealer(j, 0), "x",
        json_string("0000000000000000000000000000000000000000000000000000000000000000"));
}
static void m_new_index_other(json_t *j)
{
    json_object_set_new(dealer(j, 1), "new_index", json_integer(2));
}
static void m_new_index_range(json_t *j)
{
    json_object_set_new(dealer(j, 1), "new_index", json_integer(4));
}
static void m_new_party_as_outsider(json_t *j)
{
    json_object_set_new(dealer(j, 1), "new_index", json_integer(0));
}
static void m_cert_differs(json_t *j)
{
    json_object_set_new(dealer(j, 0), "cert", json_string("OTHER"));
}
static void m_few_dealers(json_t *j)
{
    json_array_remove(json_object_get(j, "dealers"), 1);
}
static void m_dealer_extra(json_t *j)
{
    json_object_set_new(dealer(j, 0), "share", json_string("00"));
}
static void m_party_order(json_t *j)
{
    json_object_set_new(json_array_get(json_object_get(j, "parties"), 0), "index", json_integer(2));
}
static void m_party_dup(json_t *j)
{
    json_object_set_new(json_array_get(json_object_get(j, "parties"), 2), "id", json_string("n2"));
}
static void m_index0(json_t *j)
{
    json_object_set_new(j, "index", json_integer(0));
}
static void m_index4(json_t *j)
{
    json_object_set_new(j, "index", json_integer(4));
}
static void m_key_id(json_t *j)
{
    json_object_set_new(j, "key_id", json_string("abcd"));
}

static void test_refuses(void **state)
{
    (void)state;
    static const struct {
        mutate_fn fn;
        api_err err;
        const char *names;
    } cases[] = {
        {m_no_nonce, API_ERR_MISSING_FIELD, "nonce"},
        {m_unknown, API_ERR_UNKNOWN_FIELD, "hash"},
        {m_kind, API_ERR_BAD_FIELD, "kind"},
        {m_approval, API_ERR_BAD_FIELD, "approval"},
        {m_epoch0, API_ERR_BAD_FIELD, "epoch"},
        {m_epoch_str, API_ERR_BAD_FIELD, "epoch"},
        {m_t_gt_n, API_ERR_BAD_FIELD, "threshold"},
        {m_old_missing, API_ERR_MISSING_FIELD, "key_sid"},
        {m_old_extra, API_ERR_UNKNOWN_FIELD, "epoch"},
        {m_old_t, API_ERR_BAD_FIELD, "threshold"},
        {m_pk_len, API_ERR_BAD_FIELD, "public_key"},
        {m_x_dup, API_ERR_BAD_FIELD, "repeats an x"},
        {m_x_zero, API_ERR_BAD_FIELD, "zero"},
        {m_new_index_other, API_ERR_BAD_FIELD, "new party 2"},
        {m_new_index_range, API_ERR_BAD_FIELD, "new_index"},
        {m_new_party_as_outsider, API_ERR_BAD_FIELD, "new_index"},
        {m_cert_differs, API_ERR_BAD_FIELD, "cert"},
        {m_few_dealers, API_ERR_BAD_FIELD, "dealers"},
        {m_dealer_extra, API_ERR_UNKNOWN_FIELD, "share"},
        {m_party_order, API_ERR_BAD_FIELD, "in order"},
        {m_party_dup, API_ERR_BAD_FIELD, "repeats a party id"},
        {m_index0, API_ERR_BAD_FIELD, "index"},
        {m_index4, API_ERR_BAD_FIELD, "index"},
        {m_key_id, API_ERR_BAD_FIELD, "key_id"},
    };
    api_reshare_start *s = malloc(sizeof *s);
    char msg[API_MSG_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = payload(2, 3, 2, refresh_dealers, 1);
        cases[i].fn(j);
        memset(s, 0x5a, sizeof *s);
        api_err e = parse_json(j, s, msg);
        json_decref(j);
        if (e != cases[i].err || !strstr(msg, cases[i].names))
            fail_msg("case %zu: got %d '%s', want %d naming '%s'", i, e, msg, cases[i].err,
                     cases[i].names);
        assert_int_equal(s->n, 0); /* nothing half-filled */
        assert_int_equal(s->ndealers, 0);
    }
    /* 15 new parties and one outside dealer: 16 participants, the limit; a second outside
     * dealer is one too many */
    unsigned many[3] = {0, 1, 2};
    json_t *j = payload(2, 15, 3, many, 1);
    assert_int_equal(parse_json(j, s, msg), API_OK);
    json_object_set_new(json_object_get(j, "old"), "n", json_integer(4));
    json_array_append_new(json_object_get(j, "dealers"), json_deep_copy(dealer(j, 0)));
    json_object_set_new(
        dealer(j, 3), "x",
        json_string("0909090909090909090909090909090909090909090909090909090909090909"));
    json_object_set_new(dealer(j, 3), "id", json_string("o9"));
    assert_int_equal(parse_json(j, s, msg), API_ERR_BAD_FIELD);
    assert_non_null(strstr(msg, "participants"));
    json_decref(j);
    /* not JSON, not an object, empty */
    assert_int_equal(api_reshare_start_parse(s, (const uint8_t *)"{", 1, msg, sizeof msg),
                     API_ERR_BAD_JSON);
    assert_int_equal(api_reshare_start_parse(s, (const uint8_t *)"[]", 2, msg, sizeof msg),
                     API_ERR_BAD_FIELD);
    assert_int_equal(api_reshare_start_parse(s, NULL, 0, msg, sizeof msg), API_ERR_BAD_JSON);
    free(s);
}

/* The fuzz corpus's reshare seed (api/fuzz/corpus/reshare_start) is a frame whose payload
 * this parser accepts, so fuzz_frame starts from the accepting path. */
static void test_fuzz_seed_accepted(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    FILE *f = fopen(CORPUS_DIR "/reshare_start", "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    api_frame fr;
    assert_int_equal(api_frame_decode(&fr, buf, n), API_OK);
    assert_int_equal(fr.type, API_FRAME_SESSION_START);
    api_reshare_start *s = malloc(sizeof *s);
    char msg[API_MSG_MAX];
    assert_int_equal(api_reshare_start_parse(s, fr.payload, fr.payload_len, msg, sizeof msg),
                     API_OK);
    assert_int_equal(api_reshare_participants(s), 3);
    assert_int_equal(s->index, 3);
    free(s);
}

/* activate with an epoch, retire and the acknowledgement: strict, and each seed of the fuzz
 * corpus is accepted (so fuzz_frame starts from the accepting paths). */
static api_err activate_text(const char *text, api_activate *a, uint32_t *epoch)
{
    char msg[API_MSG_MAX];
    return api_reshare_activate_parse(a, epoch, (const uint8_t *)text, strlen(text), msg,
                                      sizeof msg);
}

#define KID  "00112233445566778899aabbccddeeff"
#define ATT1 "{\"index\":1,\"certificate\":\"PEM\",\"attestation\":\"3045022100aa\"}"
#define ATT2 "{\"index\":2,\"certificate\":\"PEM\",\"attestation\":\"3045022100bb\"}"

static void test_control_payloads(void **state)
{
    (void)state;
    api_activate *a = malloc(sizeof *a);
    uint32_t epoch = 99;
    char msg[API_MSG_MAX];
    assert_non_null(a);
    assert_int_equal(activate_text("{\"key_id\":\"" KID "\",\"epoch\":7,\"attestations\":[" ATT1
                                   "," ATT2 "]}",
                                   a, &epoch),
                     API_OK);
    assert_int_equal(epoch, 7);
    assert_int_equal(a->count, 2);
    assert_int_equal(a->parties[1].attestation[0], 0x30);
    /* a keygen activate (no epoch), epoch 0, a string, a duplicate, an unknown field */
    assert_int_not_equal(
        activate_text("{\"key_id\":\"" KID "\",\"attestations\":[" ATT1 "," ATT2 "]}", a, &epoch),
        API_OK);
    assert_int_equal(epoch, 0);
    assert_int_not_equal(activate_text("{\"key_id\":\"" KID "\",\"epoch\":0,\"attestations\":[" ATT1
                                       "," ATT2 "]}",
                                       a, &epoch),
                         API_OK);
    assert_int_not_equal(activate_text("{\"key_id\":\"" KID
                                       "\",\"epoch\":\"1\",\"attestations\":[" ATT1 "," ATT2 "]}",
                                       a, &epoch),
                         API_OK);
    assert_int_not_equal(activate_text("{\"key_id\":\"" KID "\",\"epoch\":1,\"epoch\":2,"
                                       "\"attestations\":[" ATT1 "," ATT2 "]}",
                                       a, &epoch),
                         API_OK);
    assert_int_not_equal(activate_text("{\"key_id\":\"" KID "\",\"epoch\":1,\"x\":1,"
                                       "\"attestations\":[" ATT1 "," ATT2 "]}",
                                       a, &epoch),
                         API_OK);
    assert_int_not_equal(activate_text("[1]", a, &epoch), API_OK);
    free(a);

    uint8_t kid[16], want[16];
    for (int i = 0; i < 16; i++)
        want[i] = (uint8_t)(i * 0x11);
    char *j = api_retire_encode(want, 3);
    assert_non_null(j);
    assert_int_equal(api_retire_parse(kid, &epoch, (const uint8_t *)j, strlen(j), msg, sizeof msg),
                     API_OK);
    assert_memory_equal(kid, want, 16);
    assert_int_equal(epoch, 3);
    free(j);
    static const char *const bad_retire[] = {"{\"key_id\":\"" KID "\"}",
                                             "{\"epoch\":1}",
                                             "{\"key_id\":\"" KID "\",\"epoch\":-1}",
                                             "{\"key_id\":\"" KID
                                             "\",\"epoch\":1,\"leaving\":true}",
                                             "{\"key_id\":\"00\",\"epoch\":1}",
                                             "",
                                             "null"};
    for (size_t i = 0; i < sizeof bad_retire / sizeof bad_retire[0]; i++)
        assert_int_not_equal(api_retire_parse(kid, &epoch, (const uint8_t *)bad_retire[i],
                                              strlen(bad_retire[i]), msg, sizeof msg),
                             API_OK);

    static const char *const status[] = {"retired", "active", "dealt"};
    for (int s = 0; s < 3; s++) {
        int got = -1;
        j = api_reshare_ack_encode(want, 5, status[s]);
        assert_non_null(j);
        assert_int_equal(api_reshare_ack_parse(kid, &epoch, &got, (const uint8_t *)j, strlen(j),
                                               msg, sizeof msg),
                         API_OK);
        assert_int_equal(got, s);
        assert_int_equal(epoch, 5);
        free(j);
    }
    int got;
    const char *bad_ack = "{\"key_id\":\"" KID "\",\"epoch\":1,\"status\":\"activ\"}";
    assert_int_not_equal(api_reshare_ack_parse(kid, &epoch, &got, (const uint8_t *)bad_ack,
                                               strlen(bad_ack), msg, sizeof msg),
                         API_OK);
    assert_null(api_reshare_ack_encode(want, 1, NULL));

    /* the reshare attestation covers the epoch and never equals the keygen message */
    api_keygen_result r;
    memset(&r, 0x5a, sizeof r);
    uint8_t m1[API_RESHARE_ATTEST_MSG_BYTES], m2[API_RESHARE_ATTEST_MSG_BYTES],
        k1[API_ATTEST_MSG_BYTES];
    api_reshare_attestation_message(m1, want, 1, &r);
    api_reshare_attestation_message(m2, want, 2, &r);
    api_attestation_message(k1, want, &r);
    assert_memory_not_equal(m1, m2, sizeof m1);
    assert_memory_not_equal(m1, k1, 23);

    /* kind detection */
    assert_int_equal(api_reshare_is_start((const uint8_t *)"{\"kind\":\"reshare\"}", 18), 1);
    assert_int_equal(api_reshare_is_start((const uint8_t *)"{\"kind\":\"keygen\"}", 17), 0);
    assert_int_equal(api_reshare_is_start((const uint8_t *)"{\"kind\":\"reshare\\u0000\"}", 24), 0);
    assert_int_equal(api_reshare_is_start((const uint8_t *)"[", 1), 0);
    assert_int_equal(api_reshare_is_start(NULL, 0), 0);
}

static void test_control_seeds(void **state)
{
    (void)state;
    static const char *const names[] = {"retire", "reshare_ack", "reshare_activate"};
    for (int i = 0; i < 3; i++) {
        static uint8_t buf[8192];
        char path[512], msg[API_MSG_MAX];
        snprintf(path, sizeof path, "%s/%s", CORPUS_DIR, names[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        api_frame fr;
        assert_int_equal(api_frame_decode(&fr, buf, n), API_OK);
        uint8_t kid[16];
        uint32_t epoch;
        int st;
        api_activate *a = malloc(sizeof *a);
        api_err e = i == 0
                        ? api_retire_parse(kid, &epoch, fr.payload, fr.payload_len, msg, sizeof msg)
                    : i == 1 ? api_reshare_ack_parse(kid, &epoch, &st, fr.payload, fr.payload_len,
                                                     msg, sizeof msg)
                             : api_reshare_activate_parse(a, &epoch, fr.payload, fr.payload_len,
                                                          msg, sizeof msg);
        free(a);
        if (e != API_OK)
            fail_msg("seed %s: %s", names[i], msg);
    }
}

/* The encoder gives back what the parser reads, for every participant; a struct the
 * parser would refuse is not encoded. */
static void test_encode_roundtrip(void **state)
{
    (void)state;
    api_reshare_start *s = malloc(sizeof *s), *back = malloc(sizeof *back);
    char msg[API_MSG_MAX];
    assert_non_null(s);
    assert_non_null(back);
    json_t *j = payload(3, 5, 3, reshare_dealers, 1);
    assert_int_equal(parse_json(j, s, msg), API_OK);
    json_decref(j);
    unsigned count = api_reshare_participants(s);
    for (unsigned idx = 1; idx <= count; idx++) {
        char *text = api_reshare_start_encode(s, idx);
        assert_non_null(text);
        assert_int_equal(
            api_reshare_start_parse(back, (const uint8_t *)text, strlen(text), msg, sizeof msg),
            API_OK);
        free(text);
        assert_int_equal(back->index, idx);
        back->index = s->index;
        assert_memory_equal(back, s, sizeof *s);
    }
    assert_null(api_reshare_start_encode(s, count + 1));
    assert_null(api_reshare_start_encode(s, 0));
    s->dealers[1].x[31] = s->dealers[0].x[31]; /* a repeated x */
    memcpy(s->dealers[1].x, s->dealers[0].x, 32);
    assert_null(api_reshare_start_encode(s, 1));
    free(s);
    free(back);
}

/* The key's public data in a result: attached, read back; strict; absent is fine. */
static void test_key_public(void **state)
{
    (void)state;
    api_key_public kp, back;
    int present = -1;
    char msg[API_MSG_MAX];
    memset(&kp, 0, sizeof kp);
    memset(kp.key_sid, 0x5d, 32);
    kp.epoch = 4;
    kp.count = 3;
    for (int j = 0; j < 3; j++) {
        memset(kp.public_shares[j], 0x10 + j, 33);
        kp.public_shares[j][0] = 0x02 + (j & 1);
    }
    char *j = api_key_public_attach(strdup("{\"public_key\":\"aa\"}"), &kp);
    assert_non_null(j);
    assert_int_equal(
        api_key_public_get(&back, &present, (const uint8_t *)j, strlen(j), msg, sizeof msg),
        API_OK);
    assert_int_equal(present, 1);
    assert_memory_equal(&back, &kp, sizeof kp);
    free(j);
    static const char *const absent = "{\"public_key\":\"aa\"}";
    assert_int_equal(api_key_public_get(&back, &present, (const uint8_t *)absent, strlen(absent),
                                        msg, sizeof msg),
                     API_OK);
    assert_int_equal(present, 0);
    static const char *const bad[] = {
        "{\"key\":{\"key_sid\":\"00\",\"epoch\":0,\"public_shares\":[]}}",
        "{\"key\":{\"epoch\":0,\"public_shares\":[]}}",
        "{\"key\":{\"key_sid\":\"" KID KID "\",\"epoch\":1,\"public_shares\":[\"02" KID KID "\"]}}",
        "{\"key\":{\"key_sid\":\"" KID KID "\",\"epoch\":1,\"public_shares\":[\"04" KID KID
        "\",\"02" KID KID "\"]}}",
        "{\"key\":{\"key_sid\":\"" KID KID "\",\"epoch\":1,\"x\":1,\"public_shares\":[\"02" KID KID
        "\",\"02" KID KID "\"]}}",
        "{\"key\":[]}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(api_key_public_get(&back, &present, (const uint8_t *)bad[i],
                                                strlen(bad[i]), msg, sizeof msg),
                             API_OK);
    static const char *const good =
        "{\"key\":{\"key_sid\":\"" KID KID "\",\"epoch\":1,\"public_shares\":[\"02" KID KID
        "\",\"03" KID KID "\"]}}";
    assert_int_equal(
        api_key_public_get(&back, &present, (const uint8_t *)good, strlen(good), msg, sizeof msg),
        API_OK);
    assert_int_equal(back.count, 2);
    kp.public_shares[1][0] = 0x04;
    assert_null(api_key_public_attach(strdup("{}"), &kp));
    kp.public_shares[1][0] = 0x02;
    kp.count = 1;
    assert_null(api_key_public_attach(strdup("{}"), &kp));
    assert_null(api_key_public_attach(NULL, &kp));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),       cmocka_unit_test(test_fuzz_seed_accepted),
        cmocka_unit_test(test_refuses),       cmocka_unit_test(test_control_payloads),
        cmocka_unit_test(test_control_seeds), cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_key_public),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
