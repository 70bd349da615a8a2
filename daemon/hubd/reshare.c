/* daemon/hubd/reshare.c — the hub's key epochs (issue 17): the public data of each epoch of
 * a key (its threshold, parties, DKG sid and every party's P(j)), which a later refresh or
 * reshare's session-start must name and the hub cannot compute. Filled from the "key"
 * block of keygen results (api/reshare.h api_key_public), which every persistent signer of
 * the key must report identically. The refresh/reshare sessions themselves (REST
 * endpoints, the session kind, activate with the epoch, retire) are not built yet.
 * Loop thread only, like the rest of the hub. */
#include <stdio.h>
#include <string.h>

#include "api/hex.h"
#include "daemon/common/db.h"
#include "daemon/common/log.h"
#include "hub.h"

int hub_reshare_note_result(hub_session *s, size_t i, const api_frame *f, char *msg, size_t cap)
{
    api_key_public kp;
    int present = 0;
    char sub[API_MSG_MAX];
    if (s->delegate == i + 1)
        return 0; /* a delegate keeps no share: it reports no public data */
    if (api_key_public_get(&kp, &present, f->payload, f->payload_len, sub, sizeof sub) != API_OK) {
        snprintf(msg, cap, "party '%s' sent a malformed key block: %s", s->parties[i], sub);
        return -1;
    }
    if (present && (kp.epoch != 0 || kp.count != s->n)) {
        snprintf(msg, cap, "party '%s' reports the public data of epoch %u with %zu shares",
                 s->parties[i], (unsigned)kp.epoch, kp.count);
        return -1;
    }
    int state = present ? 1 : -1;
    if (s->kpub_state == 0) {
        s->kpub_state = state;
        s->kpub = kp;
        return 0;
    }
    if (s->kpub_state != state || (present && memcmp(&s->kpub, &kp, sizeof kp) != 0)) {
        snprintf(msg, cap, "party '%s' reports other public shares or DKG sid than the others",
                 s->parties[i]);
        return -1;
    }
    return 0;
}

int hub_reshare_store_epoch0(hub *h, const hub_session *s)
{
    char kid[HUB_ID_HEX];
    if (s->kpub_state != 1)
        return 0; /* signers older than the key block: no epoch record (no reshare) */
    hub_id_hex(kid, s->key_id);
    json_t *parties = json_array();
    for (size_t j = 0; j < s->nparties; j++)
        json_array_append_new(parties, json_string(s->parties[j]));
    char *ptext = json_dumps(parties, JSON_COMPACT);
    json_decref(parties);
    uint8_t shares[API_MAX_PARTIES * 33];
    for (size_t j = 0; j < s->kpub.count; j++)
        memcpy(shares + 33 * j, s->kpub.public_shares[j], 33);
    sqlite3_stmt *st =
        ptext ? mpcd_db_prepare(h->db, "INSERT INTO key_epochs(key_id, epoch, status,"
                                       " threshold, n, parties, key_sid, public_shares,"
                                       " created) VALUES(?, 0, 'active', ?, ?, ?, ?, ?,"
                                       " strftime('%s','now'))")
              : NULL;
    int rc = -1;
    if (st) {
        sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)s->threshold);
        sqlite3_bind_int(st, 3, (int)s->n);
        sqlite3_bind_text(st, 4, ptext, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, s->kpub.key_sid, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, shares, (int)(33 * s->kpub.count), SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        if (rc)
            log_err("key %s: cannot store its epoch record: %s", kid, sqlite3_errmsg(h->db));
        sqlite3_finalize(st);
    }
    free(ptext);
    return rc;
}

void hub_reshare_key_json(hub *h, const char *key_id, json_t *o)
{
    sqlite3_stmt *st = mpcd_db_prepare(
        h->db, "SELECT epoch, length(public_shares) FROM key_epochs WHERE key_id=? AND"
               " status='active' ORDER BY epoch DESC LIMIT 1");
    json_int_t epoch = 0;
    int have = 0;
    if (st) {
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            epoch = sqlite3_column_int64(st, 0);
            have = 1;
        }
        sqlite3_finalize(st);
    }
    /* epoch: the active epoch (0 from the keygen, +1 per refresh/reshare); reshareable:
     * the hub holds the public data a refresh or reshare needs */
    json_object_set_new(o, "epoch", json_integer(epoch));
    json_object_set_new(o, "reshareable", json_boolean(have));
}
