/* tss/transcript.c — domain-separated, length-prefixed SHA-256 and commitments. */
#include "transcript.h"

#include <openssl/crypto.h>
#include <string.h>

#include "secmem.h"

static void tss_sha_len(SHA256_CTX *sha, uint64_t len)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(len >> (56 - 8 * i));
    SHA256_Update(sha, b, sizeof b);
}

void tss_transcript_init(tss_transcript *t, const char *tag)
{
    static const char prefix[] = TSS_TAG_PREFIX;
    size_t tl = strlen(tag);
    SHA256_Init(&t->sha);
    tss_sha_len(&t->sha, sizeof prefix - 1 + tl);
    SHA256_Update(&t->sha, prefix, sizeof prefix - 1);
    SHA256_Update(&t->sha, tag, tl);
}

void tss_transcript_append(tss_transcript *t, const void *data, size_t len)
{
    tss_sha_len(&t->sha, len);
    if (len > 0)
        SHA256_Update(&t->sha, data, len);
}

void tss_transcript_append_u32(tss_transcript *t, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    tss_transcript_append(t, b, 4);
}

void tss_transcript_append_u64(tss_transcript *t, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    tss_transcript_append(t, b, 8);
}

void tss_transcript_append_point(tss_transcript *t, const tss_point *p)
{
    uint8_t b[33];
    tss_point_serialize(b, p);
    tss_transcript_append(t, b, 33);
}

void tss_transcript_append_scalar(tss_transcript *t, const tss_scalar *s)
{
    uint8_t b[32];
    tss_scalar_serialize(b, s);
    tss_transcript_append(t, b, 32);
    tss_memzero(b, sizeof b);
}

void tss_transcript_final(tss_transcript *t, uint8_t out[32])
{
    SHA256_Final(out, &t->sha);
    tss_memzero(t, sizeof *t);
}

void tss_transcript_final64(tss_transcript *t, uint8_t out[64])
{
    SHA256_CTX second = t->sha;
    static const uint8_t zero = 0, one = 1;
    SHA256_Update(&t->sha, &zero, 1);
    SHA256_Final(out, &t->sha);
    SHA256_Update(&second, &one, 1);
    SHA256_Final(out + 32, &second);
    tss_memzero(&second, sizeof second);
    tss_memzero(t, sizeof *t);
}

void tss_transcript_final_scalar(tss_transcript *t, tss_scalar *out)
{
    uint8_t wide[64];
    tss_transcript_final64(t, wide);
    tss_scalar_reduce64(out, wide);
    tss_memzero(wide, sizeof wide);
}

static void tss_commit_hash(uint8_t out[32], const uint8_t nonce[32], const char *tag,
                            const uint8_t *data, size_t len)
{
    tss_transcript t;
    tss_transcript_init(&t, "commit");
    tss_transcript_append(&t, tag, strlen(tag));
    tss_transcript_append(&t, data, len);
    tss_transcript_append(&t, nonce, 32);
    tss_transcript_final(&t, out);
}

tss_err tss_commit(uint8_t commitment[32], uint8_t nonce[32], const char *tag,
                   const uint8_t *data, size_t len, const tss_rng *rng)
{
    tss_err err = tss_rand_bytes(rng, nonce, 32);
    if (err != TSS_OK)
        return err;
    tss_commit_hash(commitment, nonce, tag, data, len);
    return TSS_OK;
}

tss_err tss_commit_verify(const uint8_t commitment[32], const uint8_t nonce[32],
                          const char *tag, const uint8_t *data, size_t len)
{
    uint8_t expect[32];
    tss_commit_hash(expect, nonce, tag, data, len);
    return tss_ct_eq(expect, commitment, 32) ? TSS_OK : TSS_ERR_COMMITMENT;
}

int tss_ct_eq(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
