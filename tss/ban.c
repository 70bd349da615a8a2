/* tss/ban.c — the node's ban list: a set of identity fingerprints under one mutex, and a
 * striped table of per-peer mutexes that serialize "check -> output or ban" per peer
 * (see ban.h for why). Lock order: stripes (increasing index) before the set lock; the
 * persist callback runs with the stripe held and the set lock free. */
#include "ban.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64

struct tss_banlist {
    pthread_mutex_t stripe[STRIPES];
    pthread_mutex_t set_lock; /* guards fps, count, cap, failed_closed */
    uint8_t (*fps)[32];
    size_t count, cap;
    int failed_closed; /* an in-memory add failed: every peer counts as banned */
    tss_ban_persist_fn persist;
    void *ctx;
};

tss_err tss_banlist_new(tss_banlist **out, tss_ban_persist_fn persist, void *ctx)
{
    if (out == NULL || persist == NULL)
        return TSS_ERR_ARG;
    tss_banlist *bl = calloc(1, sizeof *bl);
    if (bl == NULL)
        return TSS_ERR_NOMEM;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&bl->stripe[i], NULL);
    pthread_mutex_init(&bl->set_lock, NULL);
    bl->persist = persist;
    bl->ctx = ctx;
    *out = bl;
    return TSS_OK;
}

void tss_banlist_free(tss_banlist *bl)
{
    if (bl == NULL)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&bl->stripe[i]);
    pthread_mutex_destroy(&bl->set_lock);
    free(bl->fps);
    free(bl);
}

/* With the set lock held. */
static ptrdiff_t find(const tss_banlist *bl, const uint8_t fp[32])
{
    for (size_t i = 0; i < bl->count; i++)
        if (memcmp(bl->fps[i], fp, 32) == 0)
            return (ptrdiff_t)i;
    return -1;
}

/* With the set lock held. */
static tss_err add(tss_banlist *bl, const uint8_t fp[32])
{
    if (find(bl, fp) >= 0)
        return TSS_OK;
    if (bl->count == bl->cap) {
        size_t cap = bl->cap ? bl->cap * 2 : 16;
        uint8_t(*grown)[32] = realloc(bl->fps, cap * 32);
        if (grown == NULL)
            return TSS_ERR_NOMEM;
        bl->fps = grown;
        bl->cap = cap;
    }
    memcpy(bl->fps[bl->count++], fp, 32);
    return TSS_OK;
}

tss_err tss_banlist_load(tss_banlist *bl, const uint8_t fp[32])
{
    if (bl == NULL || fp == NULL)
        return TSS_ERR_ARG;
    pthread_mutex_lock(&bl->set_lock);
    tss_err err = add(bl, fp);
    pthread_mutex_unlock(&bl->set_lock);
    return err;
}

int tss_banlist_contains(tss_banlist *bl, const uint8_t fp[32])
{
    pthread_mutex_lock(&bl->set_lock);
    int banned = bl->failed_closed || find(bl, fp) >= 0;
    pthread_mutex_unlock(&bl->set_lock);
    return banned;
}

uint16_t tss_banlist_first(tss_banlist *bl, const tss_identity *ids, uint16_t count, uint16_t me)
{
    for (uint16_t j = 1; j <= count; j++)
        if (j != me && tss_banlist_contains(bl, ids[j - 1].fp))
            return j;
    return 0;
}

tss_err tss_banlist_lift(tss_banlist *bl, const uint8_t fp[32])
{
    if (bl == NULL || fp == NULL)
        return TSS_ERR_ARG;
    uint64_t s = tss_banlist_stripe(bl, fp);
    tss_banlist_hold(bl, s); /* not in the middle of a check with this peer */
    pthread_mutex_lock(&bl->set_lock);
    ptrdiff_t i = find(bl, fp);
    if (i >= 0) {
        memmove(bl->fps[i], bl->fps[i + 1], (bl->count - (size_t)i - 1) * 32);
        bl->count--;
    }
    pthread_mutex_unlock(&bl->set_lock);
    tss_banlist_release(bl, s);
    return TSS_OK;
}

uint64_t tss_banlist_stripe(const tss_banlist *bl, const uint8_t fp[32])
{
    (void)bl;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fp[i];
    return 1ULL << ((v * 0x9E3779B97F4A7C15ULL) >> 58);
}

void tss_banlist_hold(tss_banlist *bl, uint64_t stripes)
{
    for (int i = 0; i < STRIPES; i++)
        if ((stripes >> i) & 1)
            pthread_mutex_lock(&bl->stripe[i]);
}

void tss_banlist_release(tss_banlist *bl, uint64_t stripes)
{
    for (int i = STRIPES - 1; i >= 0; i--)
        if ((stripes >> i) & 1)
            pthread_mutex_unlock(&bl->stripe[i]);
}

tss_err tss_banlist_ban_held(tss_banlist *bl, const uint8_t fp[32], tss_err reason)
{
    int persisted = bl->persist(bl->ctx, fp, reason) == 0;
    pthread_mutex_lock(&bl->set_lock);
    if (add(bl, fp) != TSS_OK)
        bl->failed_closed = 1;
    pthread_mutex_unlock(&bl->set_lock);
    return persisted ? TSS_OK : TSS_ERR_STORAGE;
}
