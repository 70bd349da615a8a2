/* tests/hsm/checks.c — see checks.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/rand.h>
#include <pthread.h>

#include "checks.h"
#include "tss/secmem.h"

void check_round_trip(hsm_backend *b, size_t len, uint8_t **blob, size_t *blob_len,
                      uint8_t aad[HSM_AAD_SHARE_MAX], size_t *aad_len)
{
    uint8_t *pt = malloc(len), *back = NULL;
    size_t back_len = 0;
    assert_non_null(pt);
    assert_int_equal(RAND_bytes(pt, (int)len), 1);
    assert_int_equal(hsm_aad_build(aad, HSM_AAD_SHARE_MAX, aad_len, "key-0001", "party-a", 1),
                     HSM_OK);
    hsm_err err = hsm_seal(b, pt, len, aad, *aad_len, blob, blob_len);
    if (err != HSM_OK)
        fail_msg("seal: %s (%s)", hsm_strerror(err), hsm_last_detail());
    assert_true(*blob_len > len);
    err = hsm_unseal(b, *blob, *blob_len, aad, *aad_len, &back, &back_len);
    if (err != HSM_OK)
        fail_msg("unseal: %s (%s)", hsm_strerror(err), hsm_last_detail());
    assert_int_equal(back_len, len);
    assert_memory_equal(back, pt, len);
    tss_secmem_free(back);
    free(pt);
}

void check_wrong_aad(hsm_backend *b, const uint8_t *blob, size_t blob_len)
{
    uint8_t aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t aad_len, len;
    struct {
        const char *key, *party;
        uint32_t version;
    } v[] = {{"key-0002", "party-a", 1}, {"key-0001", "party-b", 1}, {"key-0001", "party-a", 2}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(
            hsm_aad_build(aad, sizeof aad, &aad_len, v[i].key, v[i].party, v[i].version), HSM_OK);
        assert_int_equal(hsm_unseal(b, blob, blob_len, aad, aad_len, &pt, &len), HSM_ERR_TAMPERED);
        assert_null(pt);
    }
    assert_int_equal(hsm_unseal(b, blob, blob_len, NULL, 0, &pt, &len), HSM_ERR_TAMPERED);
    assert_null(pt);
}

static int tamper_family(hsm_err e)
{
    switch (e) {
    case HSM_ERR_FORMAT:
    case HSM_ERR_VERSION:
    case HSM_ERR_WRONG_BACKEND:
    case HSM_ERR_WRONG_NODE:
    case HSM_ERR_TAMPERED:
        return 1;
    default:
        return 0;
    }
}

size_t check_every_byte_tampered(hsm_backend *b, const uint8_t *blob, size_t blob_len,
                                 const uint8_t *aad, size_t aad_len, size_t stride)
{
    uint8_t *copy = malloc(blob_len), *pt = NULL;
    size_t len, tried = 0;
    assert_non_null(copy);
    for (size_t i = 0; i < blob_len; i += stride) {
        memcpy(copy, blob, blob_len);
        copy[i] ^= (uint8_t)(1u << (i % 8));
        hsm_err e = hsm_unseal(b, copy, blob_len, aad, aad_len, &pt, &len);
        if (!tamper_family(e))
            fail_msg("byte %zu of %zu flipped: got %d %s (%s)", i, blob_len, e, hsm_strerror(e),
                     hsm_last_detail());
        assert_null(pt);
        tried++;
    }
    free(copy);
    return tried;
}

void check_truncations(hsm_backend *b, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
                       size_t aad_len)
{
    uint8_t *pt = NULL, *longer = malloc(blob_len + 1);
    size_t len;
    assert_non_null(longer);
    for (size_t n = 0; n < blob_len; n++) {
        hsm_err e = hsm_unseal(b, blob, n, aad, aad_len, &pt, &len);
        if (e != HSM_ERR_FORMAT)
            fail_msg("prefix of %zu bytes: %s", n, hsm_strerror(e));
    }
    memcpy(longer, blob, blob_len);
    longer[blob_len] = 0;
    assert_int_equal(hsm_unseal(b, longer, blob_len + 1, aad, aad_len, &pt, &len), HSM_ERR_FORMAT);
    assert_null(pt);
    free(longer);
}

typedef struct {
    hsm_backend *b;
    int id, rounds, failures;
} concurrent_arg;

static void *concurrent_worker(void *p)
{
    concurrent_arg *a = p;
    for (int i = 0; i < a->rounds; i++) {
        uint8_t msg[32], aad[HSM_AAD_SHARE_MAX], *blob = NULL, *back = NULL;
        size_t aad_len, blob_len, back_len;
        memset(msg, a->id * 16 + i, sizeof msg);
        hsm_aad_build(aad, sizeof aad, &aad_len, "key", "party", (uint32_t)i);
        if (hsm_seal(a->b, msg, sizeof msg, aad, aad_len, &blob, &blob_len) != HSM_OK ||
            hsm_unseal(a->b, blob, blob_len, aad, aad_len, &back, &back_len) != HSM_OK ||
            back_len != sizeof msg || memcmp(back, msg, sizeof msg) != 0)
            a->failures++;
        tss_secmem_free(back);
        free(blob);
    }
    return NULL;
}

void check_concurrent_use(hsm_backend *b, int threads, int rounds)
{
    pthread_t t[8];
    concurrent_arg a[8];
    assert_true(threads > 0 && threads <= 8);
    for (int i = 0; i < threads; i++) {
        a[i] = (concurrent_arg){b, i, rounds, 0};
        assert_int_equal(pthread_create(&t[i], NULL, concurrent_worker, &a[i]), 0);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].failures, 0);
    }
}
