/* daemon/signerd/reshare.c — this node's tss_reshare_params from the hub's reshare
 * session-start and its own share (see reshare.h). Every check compares public data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reshare.h"
#include "tss/transcript.h"

static const char *const messages[] = {
    [SIGNER_RESHARE_OK] = "success",
    [SIGNER_RESHARE_ERR_ARG] = "invalid argument (a caller broke the contract)",
    [SIGNER_RESHARE_ERR_ROLE] = "the session-start gives this node a role it cannot have",
    [SIGNER_RESHARE_ERR_EPOCH] = "the session's epoch is not this node's active epoch + 1",
    [SIGNER_RESHARE_ERR_KEY] = "the session-start's key data differs from this node's share",
    [SIGNER_RESHARE_ERR_DEALER] = "a dealer in the session-start differs from this node's share",
    [SIGNER_RESHARE_ERR_ENCODING] = "a point or scalar in the session-start is invalid",
};

const char *signer_reshare_strerror(signer_reshare_err err)
{
    if ((unsigned)err >= sizeof messages / sizeof messages[0])
        return "unknown reshare input error";
    return messages[err];
}

static signer_reshare_err fail(tss_reshare_params *out, signer_reshare_err err, char *why,
                               size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static signer_reshare_err fail(tss_reshare_params *out, signer_reshare_err err, char *why,
                               size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    if (out)
        memset(out, 0, sizeof *out);
    return err;
}

static void set_identity(tss_identity *id, const char *party, const uint8_t fp[32])
{
    memset(id, 0, sizeof *id);
    snprintf(id->party_id, sizeof id->party_id, "%s", party);
    memcpy(id->fp, fp, 32);
}

/* The old index an x names: 1..n_old when x is that index as 32 big-endian bytes, else 0. */
static unsigned old_index_of(const uint8_t x[32], unsigned n_old)
{
    for (size_t i = 0; i < 31; i++)
        if (x[i])
            return 0;
    return x[31] >= 1 && x[31] <= n_old ? x[31] : 0;
}

/* A dealer of an import: the session-start must be about the staged key, and every dealer
 * one of its old parties (this node at its own x). */
static signer_reshare_err staged_dealer(tss_reshare_params *out, const api_reshare_start *s,
                                        const signer_reshare_staged *st, char *why, size_t cap)
{
    static const uint8_t zero[32];
    if (memcmp(s->key_sid, zero, 32) != 0 || s->epoch != 1)
        return fail(out, SIGNER_RESHARE_ERR_KEY, why, cap,
                    "this node deals a staged input, but the session is not an import (a DKG "
                    "sid or an epoch other than 1)");
    if (memcmp(st->public_key, s->public_key, 33) != 0 ||
        memcmp(st->chain_code, s->chain_code, 32) != 0 || st->old_threshold != s->old_threshold ||
        st->old_n != s->old_n)
        return fail(out, SIGNER_RESHARE_ERR_KEY, why, cap,
                    "old: public key, chain code, threshold or n differ from the staged input");
    for (size_t k = 0; k < s->ndealers; k++) {
        const api_reshare_dealer *in = &s->dealers[k];
        size_t j = 0;
        while (j < st->count &&
               (memcmp(st->xs[j], in->x, 32) != 0 || memcmp(st->pubs[j], in->pub, 33) != 0))
            j++;
        int mine = out->dealer == k + 1;
        if (j == st->count ||
            (mine && (memcmp(in->x, st->x, 32) != 0 || memcmp(in->pub, st->pub, 33) != 0)))
            return fail(out, SIGNER_RESHARE_ERR_DEALER, why, cap, "dealers[%zu] (%.64s): %s", k,
                        in->id, mine ? "not its staged x, P(x)" : "not a staged old party");
    }
    out->share = st->secret;
    return SIGNER_RESHARE_OK;
}

signer_reshare_err
signer_reshare_params(tss_reshare_params *out, const api_reshare_start *s, const char *me,
                      const tss_keyshare *own, const signer_reshare_staged *staged,
                      const uint8_t (*party_fps)[32], const uint8_t (*dealer_fps)[32],
                      const uint8_t session_id[32], tss_banlist *bans, char *why, size_t cap)
{
    if (why && cap)
        why[0] = 0;
    if (!out || !s || !me || !party_fps || (s->ndealers && !dealer_fps) || !session_id || !bans ||
        s->n > TSS_MAX_PARTIES || s->ndealers > TSS_MAX_PARTIES)
        return fail(out, SIGNER_RESHARE_ERR_ARG, why, cap, "NULL argument");
    memset(out, 0, sizeof *out);
    memcpy(out->key_id, s->key_id, 16);
    memcpy(out->session_id, session_id, 32);
    out->t = (uint8_t)s->threshold;
    out->n = (uint8_t)s->n;
    out->epoch = s->epoch;
    out->bans = bans;
    for (size_t j = 0; j < s->n; j++)
        set_identity(&out->ids[j], s->parties[j].id, party_fps[j]);

    /* this node's role: participant s->index (a new party by its new index, an outside
     * dealer by n + its rank), and a dealer when its id is among the dealers */
    unsigned role = s->index;
    const char *named = role >= 1 && role <= s->n ? s->parties[role - 1].id : NULL;
    for (size_t k = 0, rank = s->n; k < s->ndealers; k++) {
        if (!s->dealers[k].new_index && ++rank == role)
            named = s->dealers[k].id;
        if (strcmp(s->dealers[k].id, me) == 0)
            out->dealer = (uint8_t)(k + 1);
    }
    if (!named || strcmp(named, me) != 0)
        return fail(out, SIGNER_RESHARE_ERR_ROLE, why, cap,
                    "participant %u of the session is not this node (%.64s)", s->index, me);
    if (role <= s->n)
        out->index = (uint8_t)role;

    if (!own) {
        /* a replacement, or the dealer of an import: the public input from the
         * session-start; it can deal only what it staged, and only for that key */
        if (out->dealer && !staged)
            return fail(out, SIGNER_RESHARE_ERR_ROLE, why, cap,
                        "this node is listed as a dealer but holds no share of the key");
        if (tss_point_parse(&out->pk, s->public_key) != TSS_OK)
            return fail(out, SIGNER_RESHARE_ERR_ENCODING, why, cap, "old.public_key");
        memcpy(out->chain_code, s->chain_code, 32);
        memcpy(out->key_sid, s->key_sid, 32);
        out->t_old = (uint8_t)s->old_threshold;
        out->n_old = (uint8_t)s->old_n;
        out->dealer_count = (uint8_t)s->ndealers;
        for (size_t k = 0; k < s->ndealers; k++) {
            tss_reshare_dealer *d = &out->dealers[k];
            if (tss_scalar_parse(&d->x, s->dealers[k].x) != TSS_OK ||
                tss_point_parse(&d->pub, s->dealers[k].pub) != TSS_OK)
                return fail(out, SIGNER_RESHARE_ERR_ENCODING, why, cap, "dealers[%zu]: x or pub",
                            k);
            set_identity(&d->id, s->dealers[k].id, dealer_fps[k]);
            d->new_index = (uint8_t)s->dealers[k].new_index;
        }
        return out->dealer ? staged_dealer(out, s, staged, why, cap) : SIGNER_RESHARE_OK;
    }

    /* a node with a share: everything public comes from the share */
    if (own->epoch == UINT32_MAX || s->epoch != own->epoch + 1)
        return fail(out, SIGNER_RESHARE_ERR_EPOCH, why, cap,
                    "epoch %lu, this node's share is epoch %lu", (unsigned long)s->epoch,
                    (unsigned long)own->epoch);
    uint8_t pk[33];
    tss_point_serialize(pk, &own->pk);
    if (memcmp(pk, s->public_key, 33) != 0 || memcmp(own->chain_code, s->chain_code, 32) != 0 ||
        memcmp(own->dkg_sid, s->key_sid, 32) != 0 || own->t != s->old_threshold ||
        own->n != s->old_n)
        return fail(out, SIGNER_RESHARE_ERR_KEY, why, cap,
                    "old: public key, chain code, DKG sid, threshold or n");
    out->pk = own->pk;
    memcpy(out->chain_code, own->chain_code, 32);
    memcpy(out->key_sid, own->dkg_sid, 32);
    out->t_old = own->t;
    out->n_old = own->n;
    out->dealer_count = (uint8_t)s->ndealers;
    for (size_t k = 0; k < s->ndealers; k++) {
        const api_reshare_dealer *in = &s->dealers[k];
        tss_reshare_dealer *d = &out->dealers[k];
        unsigned j = old_index_of(in->x, own->n);
        uint8_t pub[33];
        if (j)
            tss_point_serialize(pub, &own->pub_shares[j - 1]);
        if (!j || memcmp(pub, in->pub, 33) != 0 || strcmp(own->ids[j - 1].party_id, in->id) != 0 ||
            memcmp(own->ids[j - 1].fp, dealer_fps[k], 32) != 0)
            return fail(out, SIGNER_RESHARE_ERR_DEALER, why, cap,
                        "dealers[%zu] (%.64s): not old party %u of this key as pinned", k, in->id,
                        j);
        tss_scalar_set_u64(&d->x, j);
        d->pub = own->pub_shares[j - 1];
        d->id = own->ids[j - 1];
        d->new_index = (uint8_t)in->new_index;
        if (out->dealer == k + 1 && j != own->index)
            return fail(out, SIGNER_RESHARE_ERR_DEALER, why, cap,
                        "dealers[%zu] is this node but not its old index %u", k, own->index);
    }
    if (out->dealer)
        out->share = &own->secret_share;
    return SIGNER_RESHARE_OK;
}

signer_reshare_err signer_reshare_session_parties(api_session_start *out,
                                                  const api_reshare_start *s)
{
    if (!out || !s)
        return SIGNER_RESHARE_ERR_ARG;
    memset(out, 0, sizeof *out);
    memcpy(out->key_id, s->key_id, 16);
    out->threshold = s->threshold;
    out->index = s->index;
    memcpy(out->nonce, s->nonce, 32);
    for (size_t j = 0; j < s->nparties; j++)
        out->parties[out->nparties++] = s->parties[j];
    for (size_t k = 0; k < s->ndealers; k++) {
        if (s->dealers[k].new_index)
            continue;
        api_start_party *p = &out->parties[out->nparties];
        p->index = (unsigned)(out->nparties + 1);
        memcpy(p->id, s->dealers[k].id, sizeof p->id);
        memcpy(p->cert, s->dealers[k].cert, sizeof p->cert);
        out->nparties++;
    }
    out->n = (unsigned)out->nparties;
    return SIGNER_RESHARE_OK;
}

void signer_reshare_dealer_fps(uint8_t (*dealer_fps)[32], const api_reshare_start *s,
                               const uint8_t (*fps)[32])
{
    size_t rank = 0;
    for (size_t k = 0; k < s->ndealers; k++) {
        unsigned ni = s->dealers[k].new_index;
        memcpy(dealer_fps[k], ni ? fps[ni - 1] : fps[s->n + rank++], 32);
    }
}

void signer_reshare_start_digest(uint8_t out[32], const api_reshare_start *s,
                                 const uint8_t (*fps)[32])
{
    tss_transcript t;
    unsigned count = api_reshare_participants(s);
    api_session_start *ps = malloc(sizeof *ps);
    tss_transcript_init(&t, "signerd/reshare-start");
    tss_transcript_append(&t, s->key_id, 16);
    tss_transcript_append_u32(&t, s->epoch);
    tss_transcript_append_u32(&t, s->threshold);
    tss_transcript_append_u32(&t, s->n);
    if (ps && signer_reshare_session_parties(ps, s) == SIGNER_RESHARE_OK)
        for (size_t i = 0; i < count; i++) {
            tss_transcript_append_u32(&t, ps->parties[i].index);
            tss_transcript_append(&t, ps->parties[i].id, strlen(ps->parties[i].id));
            tss_transcript_append(&t, fps[i], 32);
        }
    free(ps);
    tss_transcript_append_u32(&t, s->old_threshold);
    tss_transcript_append_u32(&t, s->old_n);
    tss_transcript_append(&t, s->public_key, 33);
    tss_transcript_append(&t, s->chain_code, 32);
    tss_transcript_append(&t, s->key_sid, 32);
    for (size_t k = 0; k < s->ndealers; k++) {
        tss_transcript_append(&t, s->dealers[k].x, 32);
        tss_transcript_append(&t, s->dealers[k].pub, 33);
        tss_transcript_append(&t, s->dealers[k].id, strlen(s->dealers[k].id));
        tss_transcript_append_u32(&t, s->dealers[k].new_index);
    }
    tss_transcript_append(&t, s->nonce, 32);
    tss_transcript_final(&t, out);
}
