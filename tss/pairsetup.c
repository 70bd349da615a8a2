/* tss/pairsetup.c — the pairwise OT setup of the DKG and the resharing (pairsetup.h):
 * the pair's roles, its sids and tags, the bootstrap of the reverse direction, the view
 * hash. The base OTs themselves are baseot.c's; the extension is ote.c's. */
#include "pairsetup.h"

#include <stdlib.h>
#include <string.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "secmem.h"
#include "testing.h" /* tss_pairsetup_copy_pending */
#include "transcript.h"

/* Starts a transcript tagged domain || suffix. */
static void tag_init(tss_transcript *t, const char *domain, const char *suffix)
{
    char tag[TSS_PAIRSETUP_DOMAIN_MAX + 32];
    size_t dl = strlen(domain), sl = strlen(suffix);
    if (dl > TSS_PAIRSETUP_DOMAIN_MAX)
        dl = TSS_PAIRSETUP_DOMAIN_MAX;
    memcpy(tag, domain, dl);
    memcpy(tag + dl, suffix, sl + 1); /* suffixes are the short literals below */
    tss_transcript_init(t, tag);
}

/* H(domain || suffix, sid, a, b). */
static void pair_hash(uint8_t out[32], const tss_pairsetup *ps, const char *suffix, uint16_t a,
                      uint16_t b)
{
    tss_transcript t;
    tag_init(&t, ps->domain, suffix);
    tss_transcript_append(&t, ps->sid, 32);
    tss_transcript_append_u32(&t, a);
    tss_transcript_append_u32(&t, b);
    tss_transcript_final(&t, out);
}

uint16_t tss_pairsetup_alice(uint16_t a, uint16_t b)
{
    uint16_t lo = a < b ? a : b, hi = a < b ? b : a;
    return ((lo + hi) & 1) ? lo : hi;
}

void tss_pairsetup_ot_sid(uint8_t out[32], const tss_pairsetup *ps, uint16_t alice, uint16_t bob)
{
    pair_hash(out, ps, "/ot-sid", alice, bob);
}

/* A reverse-direction base-OT key from an extended-OT row: H(domain/ot-bootstrap/key,
 * boot sid, l, row). The row is secret; the hash is constant time. */
static void boot_key(uint8_t out[32], const char *domain, const uint8_t sid[32], uint32_t l,
                     const uint8_t row[32])
{
    tss_transcript t;
    tag_init(&t, domain, "/ot-bootstrap/key");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, l);
    tss_transcript_append(&t, row, 32);
    tss_transcript_final(&t, out);
}

tss_err tss_pairsetup_bob(const tss_pairsetup *ps, uint16_t alice, tss_keyshare_peer *peer,
                          const uint8_t msg2[TSS_BASEOT_MSG2_BYTES], uint8_t **bob_msg,
                          uint8_t sent_hash[32])
{
    uint8_t choice[TSS_OTE_XI / 8], sid[32];
    uint8_t(*rows)[32] = tss_secmem_alloc(TSS_OTE_XI * 32);
    size_t len = TSS_PAIRSETUP_BOB_BYTES(ps->kappa);
    tss_err err;
    if (rows == NULL || (*bob_msg = malloc(len)) == NULL) {
        err = TSS_ERR_NOMEM;
        goto out;
    }
    memcpy(*bob_msg, msg2, TSS_BASEOT_MSG2_BYTES);
    if ((err = tss_rand_bytes(ps->rng, choice, sizeof choice)) != TSS_OK)
        goto out;
    pair_hash(sid, ps, "/ot-bootstrap", alice, ps->me);
    err = tss_ote_receiver_extend_rows(peer->ot_recv, sid, choice, ps->rng,
                                       *bob_msg + TSS_BASEOT_MSG2_BYTES, rows);
    if (err != TSS_OK)
        goto out;
    /* Δ' = the first κ choice bits; the bytes past κ stay zero (ote.h's invariant: step 7
     * XORs the whole 32-byte Δ into zero-padded rows) */
    memcpy(peer->ot_send->delta, choice, ps->kappa / 8u);
    for (uint32_t l = 0; l < ps->kappa; l++)
        boot_key(peer->ot_send->seed[l], ps->domain, sid, l, rows[l]);
    SHA256(*bob_msg, len, sent_hash);
out:
    tss_memzero(choice, sizeof choice);
    tss_secmem_free(rows);
    return err;
}

tss_err tss_pairsetup_alice_finish(const tss_pairsetup *ps, uint16_t bob, tss_keyshare_peer *peer,
                                   const uint8_t *ext_msg)
{
    uint8_t sid[32], flipped[32];
    uint8_t(*rows)[32] = tss_secmem_alloc(TSS_OTE_XI * 32);
    tss_err err;
    if (rows == NULL)
        return TSS_ERR_NOMEM;
    pair_hash(sid, ps, "/ot-bootstrap", ps->me, bob);
    err =
        tss_ote_sender_extend_rows(peer->ot_send, sid, ext_msg, TSS_OTE_MSG_BYTES(ps->kappa), rows);
    if (err == TSS_OK) {
        for (uint32_t l = 0; l < ps->kappa; l++) {
            boot_key(peer->ot_recv->seed[l][0], ps->domain, sid, l, rows[l]);
            for (int b = 0; b < 32; b++)
                flipped[b] = rows[l][b] ^ peer->ot_send->delta[b];
            boot_key(peer->ot_recv->seed[l][1], ps->domain, sid, l, flipped);
        }
    }
    tss_memzero(flipped, sizeof flipped);
    tss_secmem_free(rows);
    return err;
}

void tss_pairsetup_view(uint8_t out[32], const tss_pairsetup *ps, uint16_t j,
                        const uint8_t sent[32], const uint8_t recv[32])
{
    uint16_t alice = tss_pairsetup_alice(ps->me, j), bob = alice == ps->me ? j : ps->me;
    int me_alice = alice == ps->me;
    tss_transcript t;
    tag_init(&t, ps->domain, "/ot-view");
    tss_transcript_append(&t, ps->sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_append(&t, me_alice ? sent : recv, 32); /* A -> B */
    tss_transcript_append(&t, me_alice ? recv : sent, 32); /* B -> A */
    tss_transcript_final(&t, out);
}

void tss_pairsetup_zero_seed(uint8_t out[32], const tss_pairsetup *ps, uint16_t j,
                             const uint8_t mine[32], const uint8_t theirs[32])
{
    uint16_t lo = ps->me < j ? ps->me : j, hi = ps->me < j ? j : ps->me;
    const uint8_t *plo = ps->me == lo ? mine : theirs;
    const uint8_t *phi = ps->me == hi ? mine : theirs;
    tss_transcript t;
    tag_init(&t, ps->domain, "/zero-seed");
    tss_transcript_append(&t, ps->sid, 32);
    tss_transcript_append_u32(&t, lo);
    tss_transcript_append_u32(&t, hi);
    tss_transcript_append(&t, plo, 32);
    tss_transcript_append(&t, phi, 32);
    tss_transcript_final(&t, out);
}

tss_err tss_pairsetup_copy_pending(tss_baseot_receiver **dst_bot, uint8_t **dst_msg,
                                   tss_baseot_receiver *const *bot, uint8_t *const *bob_msg,
                                   size_t count, size_t bob_len)
{
    for (size_t j = 0; j < count; j++) {
        if (bot[j] != NULL) {
            if ((dst_bot[j] = tss_baseot_receiver_new()) == NULL)
                return TSS_ERR_NOMEM;
            *dst_bot[j] = *bot[j];
        }
        if (bob_msg[j] != NULL) {
            if ((dst_msg[j] = malloc(bob_len)) == NULL)
                return TSS_ERR_NOMEM;
            memcpy(dst_msg[j], bob_msg[j], bob_len);
        }
    }
    return TSS_OK;
}
