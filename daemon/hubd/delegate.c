/* daemon/hubd/delegate.c — a new key's delegate share on its way to the backend. The hub
 * holds the sealed blob in memory only (never in the database, never in a log line), from
 * the keygen's end until one HTTP answer carrying it has been written, or until
 * [sessions] delegate_pickup seconds pass (then it is wiped and the key fails: without
 * the blob that share does not exist). The key is 'delivering' meanwhile; it becomes
 * active — and the persistent signers are sent activate — only once the blob was handed,
 * which is the delegate's "durable". Not here: the HTTP answers (http.c) and the keygen
 * (session.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/common/log.h"
#include "hub.h"

typedef struct hub_pickup {
    struct hub_pickup *next;
    hub *h;
    uint8_t key_id[HUB_ID_BYTES];
    uint8_t session[HUB_ID_BYTES]; /* the keygen session: activate frames carry it */
    size_t nparties;
    api_party_name parties[API_MAX_PARTIES];
    unsigned index[API_MAX_PARTIES];
    size_t delegate; /* position of the delegate in parties */
    char *b64;       /* NULL while an answer carries it */
    size_t len;
    int taken;
    uv_timer_t timer;
} hub_pickup;

void hub_delegate_wipe(char *b64, size_t len)
{
    api_delegate_share_free(b64, len);
}

static hub_pickup *find(hub *h, const uint8_t key_id[HUB_ID_BYTES])
{
    for (hub_pickup *p = h->pickups; p; p = p->next)
        if (memcmp(p->key_id, key_id, HUB_ID_BYTES) == 0)
            return p;
    return NULL;
}

static void free_on_close(uv_handle_t *t)
{
    hub_pickup *p = t->data;
    hub_delegate_wipe(p->b64, p->len);
    free(p);
}

static void unlink_pickup(hub_pickup *p)
{
    for (hub_pickup **q = &p->h->pickups; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            break;
        }
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, free_on_close);
}

static void on_expired(uv_timer_t *t)
{
    hub_pickup *p = t->data;
    char kid[HUB_ID_HEX], detail[160];
    if (p->taken) { /* an answer is being written: its outcome decides */
        uv_timer_start(&p->timer, on_expired, 1000, 0);
        return;
    }
    hub_id_hex(kid, p->key_id);
    snprintf(detail, sizeof detail, "not picked up within %u s; wiped, the key cannot be activated",
             p->h->cfg.delegate_pickup);
    hub_store_key_delivered(p->h, p->key_id, 0, detail);
    log_notice("key %s: delegate share %s", kid, detail);
    unlink_pickup(p);
}

void hub_delegate_hold(hub *h, const hub_session *s, char *b64, size_t len)
{
    hub_pickup *p = calloc(1, sizeof *p);
    if (!p) {
        hub_delegate_wipe(b64, len);
        hub_store_key_delivered(h, s->key_id, 0, "out of memory holding the delegate share");
        return;
    }
    p->h = h;
    memcpy(p->key_id, s->key_id, HUB_ID_BYTES);
    memcpy(p->session, s->id, HUB_ID_BYTES);
    p->nparties = s->nparties;
    memcpy(p->parties, s->parties, sizeof p->parties);
    memcpy(p->index, s->index, sizeof p->index);
    p->delegate = s->delegate - 1;
    p->b64 = b64;
    p->len = len;
    uv_timer_init(&h->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_expired, (uint64_t)h->cfg.delegate_pickup * 1000, 0);
    p->next = h->pickups;
    h->pickups = p;
}

unsigned hub_delegate_count(hub *h)
{
    unsigned n = 0;
    for (hub_pickup *p = h->pickups; p; p = p->next)
        n++;
    return n;
}

int hub_delegate_held(hub *h, const uint8_t key_id[HUB_ID_BYTES])
{
    return find(h, key_id) != NULL;
}

char *hub_delegate_take(hub *h, const uint8_t key_id[HUB_ID_BYTES], size_t *len)
{
    hub_pickup *p = find(h, key_id);
    if (!p || p->taken)
        return NULL;
    char *b = p->b64;
    *len = p->len;
    p->b64 = NULL;
    p->taken = 1;
    return b;
}

void hub_delegate_give_back(hub *h, const uint8_t key_id[HUB_ID_BYTES], char *b64, size_t len)
{
    hub_pickup *p = find(h, key_id);
    if (!p || !p->taken) {
        hub_delegate_wipe(b64, len);
        return;
    }
    p->b64 = b64;
    p->len = len;
    p->taken = 0;
}

void hub_delegate_handed(hub *h, const uint8_t key_id[HUB_ID_BYTES], char *b64, size_t len)
{
    char kid[HUB_ID_HEX];
    hub_id_hex(kid, key_id);
    hub_delegate_wipe(b64, len);
    hub_pickup *p = find(h, key_id);
    if (!p)
        return;
    int r = hub_store_key_delivered(h, key_id, 1, p->parties[p->delegate]);
    if (r != 0) {
        log_err("key %s: the delegate share was handed but the key could not be activated", kid);
        unlink_pickup(p);
        return;
    }
    /* Read back from the store, as for any key: what signers verify is what is durable. */
    char *act = hub_store_activate_json(h, key_id);
    for (size_t i = 0; act && i < p->nparties; i++) {
        struct hub_link *l = hub_link_find(h, p->parties[i]);
        if (i == p->delegate || !l)
            continue; /* the delegate keeps nothing; an offline signer hears at hello */
        api_frame f = {.type = API_FRAME_ACTIVATE,
                       .from = API_PARTY_HUB,
                       .to = (uint16_t)p->index[i],
                       .payload = (const uint8_t *)act,
                       .payload_len = (uint32_t)strlen(act)};
        memcpy(f.session, p->session, HUB_ID_BYTES);
        hub_link_send(l, &f);
    }
    free(act);
    log_info("key %s: delegate share handed to the backend; key active", kid);
    unlink_pickup(p);
}

void hub_delegate_clear_all(hub *h)
{
    while (h->pickups) {
        hub_pickup *p = h->pickups;
        hub_delegate_wipe(p->b64, p->len);
        p->b64 = NULL;
        unlink_pickup(p);
    }
}
