/* daemon/hubd/auth.c — who may talk to the REST API: the client-address allow-list
 * (CIDRs, IPv4 and IPv6, IPv4-mapped IPv6 treated as IPv4) and per-address token-bucket
 * rate limits (IPv6 per /64), one table for requests with a valid key and one for failed
 * authentications. API-key checks live in store.c next to the hashes they compare. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/common/log.h"
#include "hub.h"

/* Parses a textual address; IPv4-mapped IPv6 becomes IPv4. Returns the family or -1. */
static int parse_addr(const char *s, uint8_t out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, s, out) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(out, mapped, 12) == 0) {
            memmove(out, out + 12, 4);
            memset(out + 4, 0, 12);
            return AF_INET;
        }
        return AF_INET6;
    }
    return -1;
}

int hub_allow_parse(hub *h, const char *list)
{
    char buf[sizeof h->cfg.allow], *save = NULL;
    snprintf(buf, sizeof buf, "%s", list);
    h->nallow = 0;
    for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (h->nallow == HUB_MAX_ALLOW) { /* checked before writing the entry */
            log_err("config: [api] allow: more than %d entries", HUB_MAX_ALLOW);
            return -1;
        }
        hub_cidr *c = &h->allow[h->nallow];
        char *slash = strchr(tok, '/');
        if (slash)
            *slash = 0;
        c->family = parse_addr(tok, c->addr);
        unsigned max = c->family == AF_INET ? 32 : 128;
        char *end = NULL;
        long p = slash ? strtol(slash + 1, &end, 10) : (long)max;
        if (c->family < 0 || (slash && (*end || end == slash + 1)) || p < 0 || p > (long)max) {
            log_err("config: [api] allow: '%s%s%s' is not an IPv4/IPv6 CIDR", tok, slash ? "/" : "",
                    slash ? slash + 1 : "");
            return -1;
        }
        c->prefix = (unsigned)p;
        h->nallow++;
    }
    return 0;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

int hub_allow_check(hub *h, const char *peer)
{
    uint8_t a[16];
    if (h->nallow == 0)
        return 1;
    int fam = parse_addr(peer, a);
    for (size_t i = 0; i < h->nallow; i++)
        if (h->allow[i].family == fam && prefix_match(a, h->allow[i].addr, h->allow[i].prefix))
            return 1;
    return 0;
}

int hub_addr_key(const char *peer, uint8_t out[16])
{
    int fam = parse_addr(peer, out);
    if (fam < 0)
        return -1;
    if (fam == AF_INET6)
        memset(out + 8, 0, 8); /* one /64 is one client: a host has them by the billion */
    else
        out[15] = 4; /* keeps 1.2.3.4 apart from the IPv6 prefix 0102:0304::/64 */
    return 0;
}

/* Finds the address's bucket, or takes a free one, or evicts the least recently used (a
 * full table can only make the limit more lenient for the evicted address, never deny
 * an honest one). */
static hub_rate_bucket *bucket_for(hub *h, hub_rate_bucket *t, const uint8_t a[16], uint64_t now)
{
    static uint64_t uses;
    hub_rate_bucket *free_b = NULL, *lru = &t[0];
    uses++;
    for (size_t i = 0; i < HUB_RATE_BUCKETS; i++) {
        if (t[i].used && memcmp(t[i].addr, a, 16) == 0) {
            t[i].last_use = uses;
            return &t[i];
        }
        if (!t[i].used && !free_b)
            free_b = &t[i];
        if (t[i].used && t[i].last_use < lru->last_use)
            lru = &t[i];
    }
    hub_rate_bucket *b = free_b ? free_b : lru;
    b->last_use = uses;
    memcpy(b->addr, a, 16);
    b->used = 1;
    b->tokens = h->cfg.rate_burst;
    b->last_ms = now;
    return b;
}

static int take_token(hub *h, hub_rate_bucket *t, const char *peer)
{
    uint8_t a[16];
    if (h->cfg.rate_limit == 0)
        return 1;
    if (hub_addr_key(peer, a) < 0)
        memset(a, 0, sizeof a);
    uint64_t now = hub_now_ms();
    hub_rate_bucket *b = bucket_for(h, t, a, now);
    b->tokens += (double)(now - b->last_ms) * h->cfg.rate_limit / 1000.0;
    if (b->tokens > h->cfg.rate_burst)
        b->tokens = h->cfg.rate_burst;
    b->last_ms = now;
    if (b->tokens < 1.0)
        return 0;
    b->tokens -= 1.0;
    return 1;
}

int hub_rate_check(hub *h, const char *peer)
{
    return take_token(h, h->rate, peer);
}

int hub_rate_check_auth_failure(hub *h, const char *peer)
{
    return take_token(h, h->rate_fail, peer);
}
