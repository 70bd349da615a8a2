/* daemon/signerd/session.c — keygen, sign and reshare (refresh/reshare, issue 17) sessions on
 * this node.
 * A session starts with the hub's session-start; then round 0 (chan.c) gives the session id
 * and the pairwise sealed channels; then the tss state machine runs until it produces a
 * result (sent to the hub) or aborts (the hub is told the reason and, only when the library
 * names one, the culprit). All work on a session runs on the libuv thread pool, one job at
 * a time and in arrival order; the loop thread only queues frames, sends what a job
 * produced, and keeps timers. What must survive a crash is in the store before anything
 * that depends on it is sent: the keygen sid before round 1, the signing sid before round 1
 * (through the library's claim callback), the reshare sid before round 1, a ban before any
 * further output, a new share (pending) before its attestation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "api/b64.h"
#include "api/hex.h"
#include "api/reshare.h"
#include "chan.h"
#include "daemon/common/log.h"
#include "daemon/common/tls.h"
#include "reshare.h"
#include "signer.h"
#include "stage.h"
#include "timing.h"
#include "tss/dkg.h"
#include "tss/reshare.h"
#include "tss/secmem.h"
#include "tss/sign.h"
#include "tss/transcript.h"

/* A test build (tests/signerd/hooks.c, never installed) can misbehave on purpose: alter,
 * replay or drop its own outgoing protocol frames as a hostile hub would, or corrupt its OT
 * setup as a malicious peer would. The production build compiles these to nothing. */
#ifdef SIGNER_TEST_HOOKS
#include "hooks.h"
#else
#define signer_test_outgoing(frame, len) 1
#define signer_test_share(ks)            ((void)0)
#define signer_test_keygen_role(role)    (role)
#define signer_test_reshare_result(json) (json)
#endif

#define SESSION_HELD_MAX  256 /* frames held for sessions not started yet, in total */
#define SESSION_HELD_MS   10000
#define SESSION_DEFER_MAX 4096  /* frames waiting behind an activate (signer.h) */
#define SESSION_EARLY_MAX 64    /* protocol frames held per session until round 0 is done */
#define SESSION_LINGER_MS 10000 /* a finished session's id is remembered (late frames) */
#define SESSION_TAG_MAX   (16 + 16)

typedef enum { PH_NEW = 0, PH_ROUND0, PH_RUN, PH_DONE } phase;

typedef struct frame_in {
    struct frame_in *next;
    size_t len;
    uint8_t data[]; /* the whole frame: header + payload */
} frame_in;

typedef struct signer_session {
    struct signer_session *next;
    signer *sd;
    uint8_t id[API_SESSION_ID_BYTES];
    char hex[2 * API_SESSION_ID_BYTES + 1];
    uv_timer_t timer;
    uv_work_t work;

    /* loop thread */
    frame_in *inbox, *inbox_tail; /* waiting for the next job */
    frame_in *batch;              /* owned by the running job */
    int job_running, finished;
    signer_out *out, *out_tail; /* produced by the job, sent by the loop */
    atomic_int aborted;         /* the hub aborted it, or it timed out */

    /* job (pool thread, one at a time) */
    phase ph;
    api_session_start *st;
    X509 *certs[API_MAX_PARTIES];
    uint8_t fps[API_MAX_PARTIES][32];
    uint8_t start_digest[32], sid[32];
    signer_chan *chan;
    tss_dkg *dkg;
    tss_sign *sign;
    api_reshare_start *rs; /* a reshare session (kind "reshare"): its session-start */
    tss_reshare *reshare;
    signer_reshare_staged *staged; /* the dealer of an import: its staged input (stage.h) */
    uint8_t dealer_fps[API_MAX_PARTIES][32];
    tss_keyshare *share; /* owned unless cached */
    int share_cached;
    frame_in *early, *early_tail;
    size_t nearly;
    unsigned received[API_MAX_PARTIES]; /* frames received per party (timeout culprit) */
    unsigned me;                        /* position of this node in st->parties */
    uint16_t addressed;                 /* the index the hub addressed session-start to */
    int result_sent;
    signer_timing tm; /* timing.h: logged at debug level when the session ends */
} signer_session;

typedef struct signer_cached_share {
    struct signer_cached_share *next;
    char key_id[33];
    tss_keyshare *share;
} signer_cached_share;

/* ---- helpers ---- */

uint64_t signer_now_ms(void)
{
    return uv_hrtime() / 1000000;
}

static signer_out *out_new(const api_frame *f, size_t payload_len)
{
    size_t cap = api_frame_size(payload_len), n = 0;
    signer_out *o = calloc(1, sizeof *o + LWS_PRE + cap);
    if (!o)
        return NULL;
    if (api_frame_encode(o->buf + LWS_PRE, cap, &n, f) != API_OK) {
        free(o);
        return NULL;
    }
    o->len = n;
    return o;
}

static void out_push(signer_session *s, signer_out *o)
{
    if (!o)
        return;
    if (s->out_tail)
        s->out_tail->next = o;
    else
        s->out = o;
    s->out_tail = o;
}

static void frames_free(frame_in *f)
{
    while (f) {
        frame_in *n = f->next;
        free(f);
        f = n;
    }
}

/* Queues a JSON control frame (result / abort) for the hub. */
static void send_json(signer_session *s, uint8_t type, char *json)
{
    api_frame f = {.type = type, .from = s->addressed, .to = API_PARTY_HUB};
    if (!json)
        return;
    memcpy(f.session, s->id, sizeof f.session);
    f.payload = (const uint8_t *)json;
    f.payload_len = (uint32_t)strlen(json);
    out_push(s, out_new(&f, f.payload_len));
    free(json);
}

static void audit(signer_session *s, signer_audit_kind kind, const char *outcome);

/* Ends the session with an abort the hub will see (and the audit log records). reason is public
 * text: never a secret. */
static void fail(signer_session *s, unsigned culprit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(signer_session *s, unsigned culprit, const char *fmt, ...)
{
    api_abort a = {.culprit = culprit};
    va_list ap;
    if (s->ph == PH_DONE)
        return;
    va_start(ap, fmt);
    vsnprintf(a.reason, sizeof a.reason, fmt, ap);
    va_end(ap);
    s->ph = PH_DONE;
    log_notice("session %s aborted: %s%s", s->hex, a.reason, culprit ? " (culprit named)" : "");
    if (s->st) {
        char outcome[sizeof a.reason + 16];
        snprintf(outcome, sizeof outcome, "aborted: %s", a.reason);
        audit(s,
              s->rs         ? SIGNER_AUDIT_RESHARE
              : s->st->sign ? SIGNER_AUDIT_SIGN
                            : SIGNER_AUDIT_KEYGEN,
              outcome);
    }
    send_json(s, API_FRAME_ABORT, api_abort_encode(&a));
}

static const char *party_name(const signer_session *s, unsigned index)
{
    for (size_t i = 0; i < s->st->nparties; i++)
        if (s->st->parties[i].index == index)
            return s->st->parties[i].id;
    return "?";
}

static int position(const signer_session *s, unsigned index)
{
    for (size_t i = 0; i < s->st->nparties; i++)
        if (s->st->parties[i].index == index)
            return (int)i;
    return -1;
}

/* ---- the share cache and the store ---- */

static tss_keyshare *cache_get(signer *sd, const char *key_id)
{
    tss_keyshare *ks = NULL;
    pthread_mutex_lock(&sd->cache_lock);
    for (signer_cached_share *c = sd->cache; c; c = c->next)
        if (strcmp(c->key_id, key_id) == 0)
            ks = c->share;
    pthread_mutex_unlock(&sd->cache_lock);
    return ks;
}

/* Takes ks into the cache; returns the cached share (another thread may have won). */
static tss_keyshare *cache_put(signer *sd, const char *key_id, tss_keyshare *ks)
{
    pthread_mutex_lock(&sd->cache_lock);
    for (signer_cached_share *c = sd->cache; c; c = c->next)
        if (strcmp(c->key_id, key_id) == 0) {
            pthread_mutex_unlock(&sd->cache_lock);
            tss_keyshare_free(ks);
            return c->share;
        }
    signer_cached_share *c = calloc(1, sizeof *c);
    if (c) {
        snprintf(c->key_id, sizeof c->key_id, "%s", key_id);
        c->share = ks;
        c->next = sd->cache;
        sd->cache = c;
    }
    pthread_mutex_unlock(&sd->cache_lock);
    return c ? ks : NULL;
}

/* Records that this node dealt for (key_id, epoch) without being a new party. */
static void dealt_note(signer *sd, const char *key_id, uint32_t epoch)
{
    pthread_mutex_lock(&sd->cache_lock);
    unsigned i = sd->ndealt++ % (sizeof sd->dealt / sizeof sd->dealt[0]);
    snprintf(sd->dealt[i].key_id, sizeof sd->dealt[i].key_id, "%s", key_id);
    sd->dealt[i].epoch = epoch;
    pthread_mutex_unlock(&sd->cache_lock);
}

static int dealt_has(signer *sd, const char *key_id, uint32_t epoch)
{
    int yes = 0;
    pthread_mutex_lock(&sd->cache_lock);
    for (size_t i = 0; i < sizeof sd->dealt / sizeof sd->dealt[0]; i++)
        yes |= sd->dealt[i].key_id[0] && strcmp(sd->dealt[i].key_id, key_id) == 0 &&
               sd->dealt[i].epoch == epoch;
    pthread_mutex_unlock(&sd->cache_lock);
    return yes;
}

/* Drops (wipes) the cached share of one key: its epoch changed or was retired. */
static void cache_drop(signer *sd, const char *key_id)
{
    pthread_mutex_lock(&sd->cache_lock);
    for (signer_cached_share **p = &sd->cache; *p; p = &(*p)->next)
        if (strcmp((*p)->key_id, key_id) == 0) {
            signer_cached_share *c = *p;
            *p = c->next;
            tss_keyshare_free(c->share);
            free(c);
            break;
        }
    pthread_mutex_unlock(&sd->cache_lock);
}

void signer_session_cache_clear(signer *sd)
{
    pthread_mutex_lock(&sd->cache_lock);
    while (sd->cache) {
        signer_cached_share *c = sd->cache;
        sd->cache = c->next;
        tss_keyshare_free(c->share);
        free(c);
    }
    pthread_mutex_unlock(&sd->cache_lock);
}

static int share_aad(const signer_session *s, const char *key_id, uint8_t *aad, size_t *len)
{
    return hsm_aad_build(aad, HSM_AAD_SHARE_MAX, len, key_id, s->sd->cfg.party_id,
                         TSS_KEYSHARE_SEAL_VERSION) == HSM_OK
               ? 0
               : -1;
}

/* A delegate's blob is sealed under the standard share aad (key id, this party id, share
 * format version) followed by a domain tag, so that a delegate blob is never taken for a
 * stored share (or the other way round) even on a node that has held both. */
static const char delegate_tag[] = "mpc-signer/delegate-share/v1";

static int delegate_aad(const signer_session *s, const char *key_id, uint8_t *aad, size_t *len)
{
    if (share_aad(s, key_id, aad, len) != 0)
        return -1;
    memcpy(aad + *len, delegate_tag, sizeof delegate_tag - 1);
    *len += sizeof delegate_tag - 1;
    return 0;
}

#define DELEGATE_AAD_MAX (HSM_AAD_SHARE_MAX + sizeof delegate_tag)

/* A delegate signs with the sealed share the backend passed back in the sign request
 * (session-start's delegate_share): unsealed by this node's backend for this session only,
 * never stored and never cached. A blob for another key or party, made by another node,
 * or altered in any byte does not open: a plain abort naming the cause, never a ban. */
static int load_delegate_share(signer_session *s, const uint8_t *payload, size_t len)
{
    signer *sd = s->sd;
    char kid[33], *b64 = NULL;
    size_t b64_len = 0, blob_len = 0, pt_len = 0, aad_len;
    uint8_t aad[DELEGATE_AAD_MAX], *blob = NULL, *pt = NULL;
    api_hex_encode(kid, s->st->key_id, 16);
    if (api_delegate_share_get(payload, len, &b64, &b64_len) != API_OK || !b64) {
        fail(s, 0, "cannot read the delegate share from session-start");
        return -1;
    }
    blob = malloc(b64_len / 4 * 3);
    hsm_err he = HSM_ERR_NOMEM;
    if (blob && api_b64_decode(blob, b64_len / 4 * 3, &blob_len, b64, b64_len) == API_OK) {
        uint64_t t_unseal = signer_timing_now();
        he = delegate_aad(s, kid, aad, &aad_len) == 0
                 ? hsm_unseal(sd->hsm, blob, blob_len, aad, aad_len, &pt, &pt_len)
                 : HSM_ERR_ARG;
        signer_timing_unseal(t_unseal);
    }
    api_delegate_share_free(b64, b64_len);
    free(blob);
    if (he != HSM_OK) {
        log_notice("session %s: the delegate share for key %s does not open: %s %s", s->hex, kid,
                   hsm_strerror(he), hsm_last_detail());
        fail(s, 0,
             "delegate_share refused: it does not open on this node (another key's or "
             "party's share, or altered)");
        return -1;
    }
    tss_err te = tss_keyshare_decode(&s->share, pt, pt_len);
    tss_secmem_free(pt);
    if (te != TSS_OK) {
        fail(s, 0, "delegate_share refused: the unsealed share does not decode: %s",
             tss_strerror(te));
        return -1;
    }
    return 0;
}

/* Loads this node's share of the session's key: active, unsealed, decoded. */
static int load_share(signer_session *s)
{
    signer *sd = s->sd;
    char kid[33];
    api_hex_encode(kid, s->st->key_id, 16);
    if (sd->cfg.share_cache == SIGNER_SHARE_CACHE_MEMORY && (s->share = cache_get(sd, kid))) {
        s->share_cached = 1;
        return 0;
    }
    signer_share_row row;
    memset(&row, 0, sizeof row);
    signer_store_err se = signer_store_share_get(sd->store, kid, &row);
    if (se != SIGNER_STORE_OK) {
        fail(s, 0, "%s",
             se == SIGNER_STORE_ERR_NOT_FOUND ? "this node holds no share of the key"
                                              : "the share store failed");
        return -1;
    }
    if (row.status != SIGNER_SHARE_ACTIVE) {
        fail(s, 0, "this node's share of the key is pending, not active");
        signer_share_row_clear(&row);
        return -1;
    }
    uint8_t aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t aad_len, pt_len;
    uint64_t t_unseal = signer_timing_now();
    hsm_err he = share_aad(s, kid, aad, &aad_len) == 0
                     ? hsm_unseal(sd->hsm, row.blob, row.blob_len, aad, aad_len, &pt, &pt_len)
                     : HSM_ERR_ARG;
    signer_timing_unseal(t_unseal);
    uint32_t row_epoch = row.epoch;
    signer_share_row_clear(&row);
    if (he != HSM_OK) {
        log_err("session %s: cannot unseal the share of key %s: %s %s", s->hex, kid,
                hsm_strerror(he), hsm_last_detail());
        fail(s, 0, "the sealing backend refused to unseal the share (%s)", hsm_strerror(he));
        return -1;
    }
    tss_err te = tss_keyshare_decode(&s->share, pt, pt_len);
    tss_secmem_free(pt);
    if (te != TSS_OK) {
        fail(s, 0, "the stored share does not decode: %s", tss_strerror(te));
        return -1;
    }
    if (s->share->epoch != row_epoch) { /* a blob moved between epochs' rows */
        tss_keyshare_free(s->share);
        s->share = NULL;
        fail(s, 0, "the stored share's epoch differs from its row's");
        return -1;
    }
    if (sd->cfg.share_cache == SIGNER_SHARE_CACHE_MEMORY) {
        s->share = cache_put(sd, kid, s->share);
        s->share_cached = s->share != NULL;
        if (!s->share) {
            fail(s, 0, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* ---- start: check the session-start, prepare round 0 ---- */

static void start_digest(signer_session *s)
{
    const api_session_start *st = s->st;
    tss_transcript t;
    tss_transcript_init(&t, "signerd/session-start");
    tss_transcript_append_u32(&t, (uint32_t)st->sign);
    tss_transcript_append(&t, st->key_id, 16);
    tss_transcript_append_u32(&t, st->threshold);
    tss_transcript_append_u32(&t, st->n);
    for (size_t i = 0; i < st->nparties; i++) {
        tss_transcript_append_u32(&t, st->parties[i].index);
        tss_transcript_append(&t, st->parties[i].id, strlen(st->parties[i].id));
        tss_transcript_append(&t, s->fps[i], 32);
    }
    tss_transcript_append(&t, st->nonce, 32);
    if (st->sign) {
        tss_transcript_append(&t, st->hash, 32);
        tss_transcript_append(&t, st->public_key, 33);
        tss_transcript_append(&t, st->path, strlen(st->path));
    }
    /* The request's authorization (issue 15): request id, the typed payload itself and every
     * approval, so that signers told different things abort at round 0 and the sid binds
     * what was approved. A request without any adds nothing (the digest is as before). */
    const api_sign_auth *a = &st->auth;
    if (st->sign && api_sign_auth_present(a)) {
        tss_transcript_append(&t, "approval/v1", 11);
        tss_transcript_append(&t, a->request_id, strlen(a->request_id));
        tss_transcript_append_u32(&t, (uint32_t)a->kind);
        tss_transcript_append(&t, a->typed, a->typed_len);
        tss_transcript_append_u32(&t, (uint32_t)a->napprovals);
        for (size_t i = 0; i < a->napprovals; i++) {
            uint8_t exp[8];
            for (int b = 0; b < 8; b++)
                exp[b] = (uint8_t)(a->approvals[i].expires >> (56 - 8 * b));
            tss_transcript_append(&t, a->approvals[i].approver, strlen(a->approvals[i].approver));
            tss_transcript_append(&t, a->approvals[i].alg, strlen(a->approvals[i].alg));
            tss_transcript_append(&t, exp, 8);
            tss_transcript_append(&t, a->approvals[i].signature, 64);
        }
    }
    tss_transcript_final(&t, s->start_digest);
}

static int fp_allowed(const signer_config *c, const uint8_t fp[32])
{
    for (size_t i = 0; i < c->peer_fingerprint_count; i++)
        if (memcmp(c->peer_fingerprints[i], fp, 32) == 0)
            return 1;
    return 0;
}

static void remember_name(signer *sd, const uint8_t fp[32], const char *id)
{
    pthread_mutex_lock(&sd->names_lock);
    size_t n = sizeof sd->names / sizeof sd->names[0], i = 0;
    while (i < n && memcmp(sd->names[i].fp, fp, 32) != 0)
        i++;
    if (i == n)
        i = sd->names_next++ % n;
    memcpy(sd->names[i].fp, fp, 32);
    snprintf(sd->names[i].id, sizeof sd->names[i].id, "%s", id);
    pthread_mutex_unlock(&sd->names_lock);
}

static void name_of(signer *sd, const uint8_t fp[32], api_party_name out)
{
    snprintf(out, sizeof(api_party_name), "unknown");
    pthread_mutex_lock(&sd->names_lock);
    for (size_t i = 0; i < sizeof sd->names / sizeof sd->names[0]; i++)
        if (sd->names[i].id[0] && memcmp(sd->names[i].fp, fp, 32) == 0)
            snprintf(out, sizeof(api_party_name), "%s", sd->names[i].id);
    pthread_mutex_unlock(&sd->names_lock);
}

/* Every certificate is checked here, by this node, against the CA and CRL; this node must
 * be listed once, with its own certificate; signing requires the identities pinned in the
 * share; new keys require allow-listed peers when the config has a list. */
static int check_parties(signer_session *s)
{
    signer *sd = s->sd;
    const api_session_start *st = s->st;
    char why[256];
    int self = -1;
    for (size_t i = 0; i < st->nparties; i++) {
        const api_start_party *p = &st->parties[i];
        if (strcmp(p->id, sd->cfg.party_id) == 0) {
            if (p->index != st->index) {
                fail(s, 0, "session-start lists this node at index %u but addresses index %u",
                     p->index, st->index);
                return -1;
            }
            self = (int)i;
        }
        s->certs[i] = signer_ident_check_peer(sd, p->cert, p->id, s->fps[i], why, sizeof why);
        if (!s->certs[i]) {
            fail(s, 0, "%s", why);
            return -1;
        }
        remember_name(sd, s->fps[i], p->id);
        if (self == (int)i && memcmp(s->fps[i], sd->id_fp, 32) != 0) {
            fail(s, 0, "session-start carries another certificate for this node");
            return -1;
        }
        if (!st->sign && self != (int)i && sd->cfg.peer_fingerprint_count &&
            !fp_allowed(&sd->cfg, s->fps[i])) {
            fail(s, 0, "party '%s' is not in this node's [signer] peer_fingerprints", p->id);
            return -1;
        }
    }
    if (self < 0) {
        fail(s, 0, "session-start does not list this node ('%s')", sd->cfg.party_id);
        return -1;
    }
    s->me = (unsigned)self;
    return 0;
}

static int check_pinned(signer_session *s)
{
    const tss_keyshare *ks = s->share;
    const api_session_start *st = s->st;
    uint8_t pk[33];
    tss_point_serialize(pk, &ks->pk);
    if (ks->t != st->threshold || ks->n != st->n || ks->index != st->index ||
        memcmp(pk, st->public_key, 33) != 0) {
        fail(s, 0, "session-start disagrees with the stored share (t, n, index or public key)");
        return -1;
    }
    for (size_t i = 0; i < st->nparties; i++) {
        const tss_identity *id = &ks->ids[st->parties[i].index - 1];
        if (strcmp(id->party_id, st->parties[i].id) != 0 ||
            CRYPTO_memcmp(id->fp, s->fps[i], 32) != 0) {
            fail(s, 0, "party '%s' presents a certificate other than the one pinned for this key",
                 st->parties[i].id);
            return -1;
        }
    }
    return 0;
}

/* A keygen for a key id this node already holds (a replayed session-start) is refused
 * before round 0, rather than after a whole DKG when the store refuses the share. */
static int key_known(signer_session *s)
{
    char kid[33];
    signer_share_row row;
    memset(&row, 0, sizeof row);
    api_hex_encode(kid, s->st->key_id, 16);
    signer_store_err se = signer_store_share_get(s->sd->store, kid, &row);
    signer_share_row_clear(&row);
    if (se == SIGNER_STORE_ERR_NOT_FOUND)
        return 0;
    fail(s, 0, "%s",
         se == SIGNER_STORE_OK ? "a share with this key id is already stored"
                               : "the share store failed");
    return -1;
}

static void emit_round0(signer_session *s)
{
    for (size_t i = 0; i < s->st->nparties; i++) {
        unsigned to = s->st->parties[i].index;
        if (i == s->me)
            continue;
        uint8_t p[SIGNER_CHAN_R0_BYTES];
        api_frame f = {.type = API_FRAME_PROTOCOL,
                       .from = (uint16_t)s->st->index,
                       .to = (uint16_t)to,
                       .round = 0,
                       .payload = p,
                       .payload_len = sizeof p};
        memcpy(f.session, s->id, sizeof f.session);
        signer_chan_err e = signer_chan_round0(s->chan, (uint16_t)to, p);
        if (e != SIGNER_CHAN_OK)
            return fail(s, 0, "round 0: %s", signer_chan_strerror(e));
        out_push(s, out_new(&f, sizeof p));
    }
}

static void start_round0(signer_session *s);
static void job_start_reshare(signer_session *s, const uint8_t *payload, size_t len);

static void job_start(signer_session *s, const uint8_t *payload, size_t len)
{
    signer *sd = s->sd;
    char msg[API_MSG_MAX];
    if (api_reshare_is_start(payload, len))
        return job_start_reshare(s, payload, len);
    s->st = malloc(sizeof *s->st);
    if (!s->st)
        return fail(s, 0, "out of memory");
    if (api_session_start_parse(s->st, payload, len, msg, sizeof msg) != API_OK) {
        free(s->st);
        s->st = NULL;
        return fail(s, 0, "malformed session-start: %s", msg);
    }
    if (s->st->index != s->addressed)
        return fail(s, 0, "session-start addressed to index %u names index %u", s->addressed,
                    s->st->index);
    if (check_parties(s) != 0)
        return;
    if (s->st->delegate_share_len && sd->cfg.role != SIGNER_ROLE_DELEGATE)
        return fail(s, 0,
                    "session-start carries a delegate share, but this node is a "
                    "persistent signer ([signer] role)");
    if (s->st->sign && s->st->delegate_share_len &&
        (load_delegate_share(s, payload, len) != 0 || check_pinned(s) != 0))
        return;
    if (s->st->sign && !s->st->delegate_share_len && (load_share(s) != 0 || check_pinned(s) != 0))
        return;
    if (!s->st->sign && key_known(s) != 0)
        return;
    /* This node's own decision on what is signed (gate.c): before round 0, so a refused
     * request sends nothing but the abort, and the request id and velocity are durable
     * before the first protocol message. */
    char why[API_MSG_MAX], granted[512];
    uint64_t t_gate = signer_timing_now();
    if (s->st->sign &&
        signer_gate_authorize(sd, s->st, why, sizeof why, granted, sizeof granted) != 0)
        return fail(s, 0, "%s", why);
    if (s->st->sign && api_sign_auth_present(&s->st->auth))
        log_debug("session %s: request authorized in %.3f ms (decode, policy, approvals, "
                  "request id and velocity claim)",
                  s->hex, (double)(signer_timing_now() - t_gate) / 1e6);
    if (s->st->sign && !s->share_cached)
        signer_test_share(s->share);
    start_digest(s);
    if (s->st->sign && api_sign_auth_present(&s->st->auth))
        audit(s, SIGNER_AUDIT_SIGN, granted);
    start_round0(s);
}

/* Round 0 over the participants of s->st, with s->start_digest. */
static void start_round0(signer_session *s)
{
    signer *sd = s->sd;
    signer_chan_party parties[API_MAX_PARTIES];
    for (size_t i = 0; i < s->st->nparties; i++) {
        parties[i].index = (uint16_t)s->st->parties[i].index;
        parties[i].party_id = s->st->parties[i].id;
        memcpy(parties[i].fp, s->fps[i], 32);
        parties[i].pub = X509_get0_pubkey(s->certs[i]);
    }
    signer_chan_err e = signer_chan_new(&s->chan, sd->id_key, (uint16_t)s->st->index, parties,
                                        s->st->nparties, s->st->nonce, s->id, s->start_digest);
    if (e != SIGNER_CHAN_OK)
        return fail(s, 0, "round 0: %s", signer_chan_strerror(e));
    s->ph = PH_ROUND0;
    emit_round0(s);
}

/* ---- protocol messages ---- */

/* Seals each tss message for its recipient and queues it. */
static void emit(signer_session *s, tss_msgs *msgs)
{
    for (size_t i = 0; i < msgs->count && s->ph == PH_RUN; i++) {
        const tss_msg *m = &msgs->items[i];
        api_frame f = {.type = API_FRAME_PROTOCOL,
                       .from = (uint16_t)s->st->index,
                       .to = m->to,
                       .round = m->data[2], /* tss header: protocol, version, round */
                       .payload_len = (uint32_t)(m->len + SIGNER_CHAN_TAG_BYTES)};
        memcpy(f.session, s->id, sizeof f.session);
        uint8_t *zero = calloc(1, f.payload_len);
        f.payload = zero;
        signer_out *o = zero ? out_new(&f, f.payload_len) : NULL;
        free(zero);
        uint8_t *frame = o ? o->buf + LWS_PRE : NULL;
        signer_chan_err e = o ? signer_chan_seal(s->chan, m->to, frame, m->data, m->len,
                                                 frame + API_FRAME_HEADER_BYTES)
                              : SIGNER_CHAN_ERR_ARG;
        if (e != SIGNER_CHAN_OK) {
            free(o);
            fail(s, 0, "cannot seal a message: %s", signer_chan_strerror(e));
            break;
        }
        int copies = signer_test_outgoing(o->buf + LWS_PRE, o->len);
        if (copies == 2) {
            signer_out *dup = malloc(sizeof *o + LWS_PRE + o->len);
            if (dup) {
                memcpy(dup, o, sizeof *o + LWS_PRE + o->len);
                dup->next = NULL;
                out_push(s, dup);
            }
        }
        if (copies)
            out_push(s, o);
        else
            free(o);
    }
    tss_msgs_free(msgs);
}

static void finish_keygen(signer_session *s);
static void finish_sign(signer_session *s);
static void finish_reshare(signer_session *s);

static tss_status proto_status(const signer_session *s)
{
    return s->reshare ? tss_reshare_status(s->reshare)
           : s->dkg   ? tss_dkg_status(s->dkg)
                      : tss_sign_status(s->sign);
}

static const tss_abort_info *proto_abort_info(const signer_session *s)
{
    return s->reshare ? tss_reshare_abort_info(s->reshare)
           : s->dkg   ? tss_dkg_abort_info(s->dkg)
                      : tss_sign_abort_info(s->sign);
}

/* After every step: a result, an abort with the library's reason, or more rounds. */
static void after_step(signer_session *s)
{
    tss_status st = proto_status(s);
    if (st == TSS_RUNNING || s->ph != PH_RUN)
        return;
    if (st == TSS_DONE)
        return s->reshare ? finish_reshare(s) : s->dkg ? finish_keygen(s) : finish_sign(s);
    const tss_abort_info *a = proto_abort_info(s);
    if (a->ban)
        log_warn("session %s: party '%s' failed a %s check; it is banned on this node", s->hex,
                 party_name(s, a->culprit), tss_strerror(a->reason));
    fail(s, a->culprit, "%s", tss_strerror(a->reason));
}

static void begin_reshare(signer_session *s);

static void begin_protocol(signer_session *s)
{
    signer *sd = s->sd;
    if (s->rs)
        return begin_reshare(s);
    const api_session_start *st = s->st;
    uint8_t binding[40];
    size_t blen;
    tss_msgs out = {0};
    tss_err e;
    if (st->sign) {
        memcpy(binding, s->share->dkg_sid, 32);
        for (int i = 0; i < 4; i++)
            binding[32 + i] = (uint8_t)(s->share->epoch >> (24 - 8 * i));
        blen = 36;
    } else {
        binding[0] = (uint8_t)st->threshold;
        binding[1] = (uint8_t)st->n;
        blen = 2;
    }
    signer_chan_err ce = signer_chan_derive(s->chan, st->sign ? "sign" : "keygen", st->key_id,
                                            binding, blen, s->start_digest, s->sid);
    if (ce != SIGNER_CHAN_OK)
        return fail(s, 0, "round 0: %s", signer_chan_strerror(ce));
    s->ph = PH_RUN;
    if (!st->sign) {
        int used = signer_store_sid_claim(sd->store, s->sid, "keygen");
        if (used != 0)
            return fail(s, 0, "%s", used > 0 ? "session id already used" : "the store failed");
        tss_dkg_params p = {.t = (uint8_t)st->threshold,
                            .n = (uint8_t)st->n,
                            .index = (uint8_t)st->index,
                            .bans = sd->bans};
        memcpy(p.session_id, s->sid, 32);
        for (size_t i = 0; i < st->nparties; i++) {
            snprintf(p.ids[i].party_id, sizeof p.ids[i].party_id, "%s", st->parties[i].id);
            memcpy(p.ids[i].fp, s->fps[i], 32);
        }
        e = tss_dkg_new(&s->dkg, &p, tss_rng_system());
        if (e == TSS_OK)
            e = tss_dkg_start(s->dkg, &out);
    } else {
        tss_sign_params p = {.share = s->share,
                             .claim = signer_store_sid_claim_cb,
                             .claim_ctx = sd->store,
                             .bans = sd->bans,
                             .signer_count = st->nparties,
                             .path_len = st->path_depth,
                             .has_hash = 1};
        memcpy(p.session_id, s->sid, 32);
        memcpy(p.hash, st->hash, 32);
        for (size_t i = 0; i < st->nparties; i++)
            p.signers[i] = (uint16_t)st->parties[i].index;
        memcpy(p.path, st->path_index, st->path_depth * sizeof p.path[0]);
        e = tss_sign_new(&s->sign, &p, tss_rng_system());
        if (e == TSS_OK)
            e = tss_sign_start(s->sign, &out);
    }
    if (e != TSS_OK) {
        tss_msgs_free(&out);
        return fail(s, 0, "cannot start the protocol: %s", tss_strerror(e));
    }
    emit(s, &out);
}

static void deliver(signer_session *s, const frame_in *fr, const api_frame *f)
{
    /* A payload no longer than the tag is refused before any arithmetic on its length
     * (payload_len is 32 bits: payload_len - 16 would wrap to a 4 GiB allocation). */
    if (f->payload_len <= SIGNER_CHAN_TAG_BYTES)
        return fail(s, 0, "message from '%s' failed channel authentication (%s)",
                    party_name(s, f->from), signer_chan_strerror(SIGNER_CHAN_ERR_LENGTH));
    size_t len = (size_t)f->payload_len - SIGNER_CHAN_TAG_BYTES;
    uint8_t *pt = tss_secmem_alloc(len);
    tss_msgs out = {0};
    if (!pt)
        return fail(s, 0, "out of secure memory");
    signer_chan_err ce =
        signer_chan_open(s->chan, f->from, fr->data, f->payload, f->payload_len, pt);
    if (ce != SIGNER_CHAN_OK) {
        tss_secmem_free(pt);
        /* Altered, replayed, reordered or dropped in transit: a plain abort, never a ban. */
        return fail(s, 0, "message from '%s' failed channel authentication (%s)",
                    party_name(s, f->from), signer_chan_strerror(ce));
    }
    tss_err e = s->reshare ? tss_reshare_receive(s->reshare, pt, len, &out)
                : s->dkg   ? tss_dkg_receive(s->dkg, pt, len, &out)
                           : tss_sign_receive(s->sign, pt, len, &out);
    tss_secmem_free(pt);
    if (e != TSS_OK && proto_status(s) == TSS_RUNNING) {
        /* Rejected before any work (wrong round, session, length): the channel was
         * authentic, so the sender is broken or lying; end the session without blame. */
        tss_msgs_free(&out);
        return fail(s, 0, "message from '%s' rejected: %s", party_name(s, f->from),
                    tss_strerror(e));
    }
    emit(s, &out);
    after_step(s);
}

static void handle(signer_session *s, frame_in *fr)
{
    api_frame f;
    if (api_frame_decode(&f, fr->data, fr->len) != API_OK || f.type != API_FRAME_PROTOCOL ||
        s->ph == PH_DONE) {
        free(fr);
        return;
    }
    int pos = position(s, f.from);
    if (pos < 0 || (unsigned)pos == s->me || f.to != s->st->index) {
        free(fr);
        return fail(s, 0, "a frame with a sender or recipient outside the session");
    }
    s->received[pos]++;
    if (f.round == 0) {
        signer_chan_err e = signer_chan_receive_round0(s->chan, f.from, f.payload, f.payload_len);
        free(fr);
        if (e != SIGNER_CHAN_OK)
            return fail(s, 0, "round 0 from '%s': %s", party_name(s, f.from),
                        signer_chan_strerror(e));
        if (!signer_chan_round0_complete(s->chan))
            return;
        begin_protocol(s);
        /* Messages of peers that finished round 0 before we did, in arrival order. */
        frame_in *early = s->early;
        s->early = s->early_tail = NULL;
        while (early) {
            frame_in *n = early->next;
            early->next = NULL;
            api_frame ef;
            api_frame_decode(&ef, early->data, early->len);
            if (s->ph == PH_RUN)
                deliver(s, early, &ef);
            free(early);
            early = n;
        }
        return;
    }
    if (s->ph == PH_ROUND0) {
        if (++s->nearly > SESSION_EARLY_MAX) {
            free(fr);
            return fail(s, 0, "too many messages before round 0 completed");
        }
        fr->next = NULL;
        if (s->early_tail)
            s->early_tail->next = fr;
        else
            s->early = fr;
        s->early_tail = fr;
        return;
    }
    deliver(s, fr, &f);
    free(fr);
}

/* ---- results ---- */

static void audit(signer_session *s, signer_audit_kind kind, const char *outcome)
{
    char kid[33], dig[65], peers[API_MAX_PARTIES * (API_PARTY_ID_MAX + 1) + 1] = "";
    api_hex_encode(kid, s->st->key_id, 16);
    api_hex_encode(dig, s->start_digest, 32);
    for (size_t i = 0; i < s->st->nparties; i++) {
        strcat(peers, i ? "," : "");
        strcat(peers, s->st->parties[i].id);
    }
    if (signer_store_audit_append(s->sd->store, kind, kid, s->hex, dig, peers, outcome) !=
        SIGNER_STORE_OK)
        log_err("session %s: cannot append to the audit log", s->hex);
}

/* The share is sealed and stored as pending (fsync) before the attestation leaves: the hub
 * activates the key only when all n attestations arrived, so an active key never lacks a
 * durable share. */
static void finish_keygen_delegate(signer_session *s, tss_keyshare *ks);

/* The key's public data for the hub's key record (api/reshare.h api_key_public). */
static void key_public_of(const tss_keyshare *ks, api_key_public *kp)
{
    memset(kp, 0, sizeof *kp);
    memcpy(kp->key_sid, ks->dkg_sid, 32);
    kp->epoch = ks->epoch;
    kp->count = ks->n;
    for (size_t j = 0; j < ks->n; j++)
        tss_point_serialize(kp->public_shares[j], &ks->pub_shares[j]);
}

/* The common end of a keygen or a reshare on a new party: encodes and seals ks with this
 * node's backend, fills r's public key, chain code and fingerprint and kp (the key's public
 * data), and stores the share PENDING (row carries the identities; every other field is set
 * here), fsynced, before anything about it is sent. Takes ks (freed on every path). 0, or
 * -1 after the session has failed. */
static int store_pending_share(signer_session *s, const char *kid, tss_keyshare *ks,
                               signer_share_row *row, api_keygen_result *r, api_key_public *kp)
{
    signer *sd = s->sd;
    uint8_t aad[HSM_AAD_SHARE_MAX], *enc = NULL, *blob = NULL;
    size_t aad_len, enc_len = 0, blob_len = 0;
    if (tss_keyshare_encode(ks, &enc, &enc_len) != TSS_OK) {
        tss_keyshare_free(ks);
        fail(s, 0, "cannot encode the new share");
        return -1;
    }
    hsm_err he = share_aad(s, kid, aad, &aad_len) == 0
                     ? hsm_seal(sd->hsm, enc, enc_len, aad, aad_len, &blob, &blob_len)
                     : HSM_ERR_ARG;
    tss_secmem_free(enc);
    if (he != HSM_OK) {
        tss_keyshare_free(ks);
        log_err("session %s: cannot seal the new share: %s %s", s->hex, hsm_strerror(he),
                hsm_last_detail());
        fail(s, 0, "the sealing backend failed (%s)", hsm_strerror(he));
        return -1;
    }
    tss_point_serialize(r->public_key, &ks->pk);
    memcpy(r->chain_code, ks->chain_code, 32);
    tss_keyshare_fingerprint(r->transcript_hash, ks);
    snprintf(row->key_id, sizeof row->key_id, "%s", kid);
    row->epoch = ks->epoch;
    row->t = ks->t;
    row->n = ks->n;
    row->index = ks->index;
    snprintf(row->session, sizeof row->session, "%s", s->hex);
    memcpy(row->public_key, r->public_key, 33);
    memcpy(row->chain_code, r->chain_code, 32);
    memcpy(row->fingerprint, r->transcript_hash, 32);
    row->blob = blob;
    row->blob_len = blob_len;
    key_public_of(ks, kp);
    tss_keyshare_free(ks);
    signer_store_err se = signer_store_share_put_pending(sd->store, row);
    free(blob);
    row->blob = NULL;
    if (se != SIGNER_STORE_OK) {
        log_err("session %s: cannot store the new share: %s", s->hex, signer_store_strerror(se));
        fail(s, 0, "cannot store the new share durably (%s)", signer_store_strerror(se));
        return -1;
    }
    return 0;
}

static void finish_keygen(signer_session *s)
{
    signer *sd = s->sd;
    char kid[33];
    api_keygen_result r;
    memset(&r, 0, sizeof r);
    api_hex_encode(kid, s->st->key_id, 16);
    tss_keyshare *ks = tss_dkg_take_keyshare(s->dkg);
    if (ks && signer_test_keygen_role(sd->cfg.role) == SIGNER_ROLE_DELEGATE)
        return finish_keygen_delegate(s, ks);
    if (!ks)
        return fail(s, 0, "cannot encode the new share");
    signer_share_row row;
    memset(&row, 0, sizeof row);
    for (size_t i = 0; i < s->st->nparties; i++) {
        row.identities[i].index = s->st->parties[i].index;
        memcpy(row.identities[i].id, s->st->parties[i].id, sizeof row.identities[i].id);
        memcpy(row.identities[i].fp, s->fps[i], 32);
    }
    row.identity_count = s->st->nparties;
    api_key_public kp;
    if (store_pending_share(s, kid, ks, &row, &r, &kp) != 0)
        return;
    uint8_t m[API_ATTEST_MSG_BYTES];
    api_attestation_message(m, s->st->key_id, &r);
    r.attestation_len = sizeof r.attestation;
    if (signer_ident_sign(sd, m, sizeof m, r.attestation, &r.attestation_len) != 0)
        return fail(s, 0, "cannot sign the attestation");
    s->ph = PH_DONE;
    s->result_sent = 1;
    send_json(s, API_FRAME_RESULT, api_key_public_attach(api_keygen_result_encode(&r), &kp));
    log_info("session %s: share of key %s stored (pending activation)", s->hex, kid);
}

/* A delegate keeps nothing of the new share: it is sealed with this node's backend under
 * the delegate aad and the blob leaves in the result (base64), once; the hub hands it to
 * the backend and activates the key only after that. The session id stays claimed and the
 * audit log records the keygen, as on any signer. The attestation says the same as a
 * persistent signer's ("this share of this key exists, durably"): durable here means
 * handed to the backend, which the hub ensures before activation. Takes ks. */
static void finish_keygen_delegate(signer_session *s, tss_keyshare *ks)
{
    signer *sd = s->sd;
    char kid[33], *b64 = NULL;
    uint8_t aad[DELEGATE_AAD_MAX], *enc = NULL, *blob = NULL;
    size_t aad_len, enc_len = 0, blob_len = 0;
    api_keygen_result r;
    memset(&r, 0, sizeof r);
    api_hex_encode(kid, s->st->key_id, 16);
    if (tss_keyshare_encode(ks, &enc, &enc_len) != TSS_OK) {
        tss_keyshare_free(ks);
        return fail(s, 0, "cannot encode the new share");
    }
    hsm_err he = delegate_aad(s, kid, aad, &aad_len) == 0
                     ? hsm_seal(sd->hsm, enc, enc_len, aad, aad_len, &blob, &blob_len)
                     : HSM_ERR_ARG;
    tss_secmem_free(enc);
    tss_point_serialize(r.public_key, &ks->pk);
    memcpy(r.chain_code, ks->chain_code, 32);
    tss_keyshare_fingerprint(r.transcript_hash, ks);
    tss_keyshare_free(ks);
    if (he != HSM_OK) {
        log_err("session %s: cannot seal the new delegate share: %s %s", s->hex, hsm_strerror(he),
                hsm_last_detail());
        return fail(s, 0, "the sealing backend failed (%s)", hsm_strerror(he));
    }
    if (api_b64_len(blob_len) > API_DELEGATE_SHARE_MAX ||
        !(b64 = malloc(api_b64_len(blob_len) + 1))) {
        free(blob);
        return fail(s, 0, "the sealed delegate share is too large to send");
    }
    api_b64_encode(b64, blob, blob_len);
    free(blob);
    uint8_t m[API_ATTEST_MSG_BYTES];
    api_attestation_message(m, s->st->key_id, &r);
    r.attestation_len = sizeof r.attestation;
    if (signer_ident_sign(sd, m, sizeof m, r.attestation, &r.attestation_len) != 0) {
        api_delegate_share_free(b64, strlen(b64));
        return fail(s, 0, "cannot sign the attestation");
    }
    char *json = api_keygen_result_encode_delegate(&r, b64);
    api_delegate_share_free(b64, strlen(b64));
    if (!json)
        return fail(s, 0, "cannot encode the keygen result");
    audit(s, SIGNER_AUDIT_KEYGEN, "delegate: share sealed and returned to the hub, not stored");
    s->ph = PH_DONE;
    s->result_sent = 1;
    send_json(s, API_FRAME_RESULT, json);
    log_info("session %s: delegate share of key %s sealed and returned (%zu bytes sealed)", s->hex,
             kid, blob_len);
}

static void finish_sign(signer_session *s)
{
    tss_signature sig;
    tss_point pk;
    api_sign_result r;
    if (tss_sign_result(s->sign, &sig, &pk) != TSS_OK)
        return fail(s, 0, "no verified signature");
    memcpy(r.r, sig.r, 32);
    memcpy(r.s, sig.s, 32);
    r.recovery_id = sig.recovery_id;
    audit(s, SIGNER_AUDIT_SIGN, "signed");
    s->ph = PH_DONE;
    s->result_sent = 1;
    send_json(s, API_FRAME_RESULT, api_sign_result_encode(&r));
    log_info("session %s: signature released", s->hex);
}

/* ---- reshare sessions (issue 17; tss/reshare.h "Integration plan" steps 1-4) ----
 * A refresh or reshare runs like a keygen: round 0 over every participant (the new
 * committee, then the dealers that are not new parties, numbered n' + k), the sid derived
 * and claimed durably (kind "reshare") before round 1, tss_reshare_* to the end. A dealer
 * builds the whole public input from its own ACTIVE share (signer_reshare_params refuses a
 * hub that says otherwise); a new party stores its new share PENDING under (key id, e+1)
 * (fsync, audit row) before its attestation leaves. The active epoch is never touched
 * here: only an activate with the epoch (all n' attestations checked) switches it. */

/* The public-input check of signer_reshare_params, run before round 0 (with a zero sid)
 * so that a lying hub is refused before any message; begin_reshare runs it again with the
 * real sid. */
static int reshare_input(signer_session *s, tss_reshare_params *p, const uint8_t sid[32])
{
    char why[256];
    signer_reshare_err re = signer_reshare_params(
        p, s->rs, s->sd->cfg.party_id, s->share, s->staged, (const uint8_t(*)[32])s->fps,
        (const uint8_t(*)[32])s->dealer_fps, sid, s->sd->bans, why, sizeof why);
    if (re == SIGNER_RESHARE_OK)
        return 0;
    fail(s, 0, "reshare refused: %s: %s", signer_reshare_strerror(re), why);
    return -1;
}

/* A node without a share of the key that the session names as a dealer: an import or a
 * migration, dealt from what the operator staged here for the key's public key. */
static int load_staged(signer_session *s)
{
    int dealer = 0;
    char why[256], pk[67];
    for (size_t k = 0; k < s->rs->ndealers; k++)
        dealer |= strcmp(s->rs->dealers[k].id, s->sd->cfg.party_id) == 0;
    if (!dealer)
        return 0;
    if (!(s->staged = calloc(1, sizeof *s->staged))) {
        fail(s, 0, "out of memory");
        return -1;
    }
    signer_stage_err e = signer_stage_load(s->sd->hsm, s->sd->store, s->sd->cfg.party_id,
                                           s->rs->public_key, s->staged, why, sizeof why);
    if (e == SIGNER_STAGE_OK)
        return 0;
    api_hex_encode(pk, s->rs->public_key, 33);
    if (e == SIGNER_STAGE_ERR_NONE)
        fail(s, 0, "import refused: nothing staged here for public key %s", pk);
    else
        fail(s, 0, "import refused: the staged input for %s: %s", pk, why);
    return -1;
}

static void staged_drop(signer_session *s)
{
    signer_stage_release(s->staged);
    free(s->staged);
    s->staged = NULL;
}

static void job_start_reshare(signer_session *s, const uint8_t *payload, size_t len)
{
    signer *sd = s->sd;
    char msg[API_MSG_MAX], kid[33];
    s->rs = malloc(sizeof *s->rs);
    if (!s->rs)
        return fail(s, 0, "out of memory");
    if (api_reshare_start_parse(s->rs, payload, len, msg, sizeof msg) != API_OK)
        return fail(s, 0, "malformed session-start: %s", msg);
    if (!(s->st = malloc(sizeof *s->st)))
        return fail(s, 0, "out of memory");
    signer_reshare_session_parties(s->st, s->rs);
    if (s->st->index != s->addressed)
        return fail(s, 0, "session-start addressed to index %u names index %u", s->addressed,
                    s->st->index);
    if (sd->cfg.role == SIGNER_ROLE_DELEGATE)
        return fail(s, 0,
                    "a delegate signer stores no shares: it takes no part in a refresh or "
                    "reshare ([signer] role)");
    if (check_parties(s) != 0)
        return;
    signer_reshare_dealer_fps(s->dealer_fps, s->rs, (const uint8_t(*)[32])s->fps);
    /* This node's own share: required to deal; a new party without one is a replacement. */
    signer_share_row row;
    memset(&row, 0, sizeof row);
    api_hex_encode(kid, s->rs->key_id, 16);
    signer_store_err se = signer_store_share_get(sd->store, kid, &row);
    signer_share_row_clear(&row);
    if (se == SIGNER_STORE_OK && load_share(s) != 0)
        return;
    if (se != SIGNER_STORE_OK && se != SIGNER_STORE_ERR_NOT_FOUND)
        return fail(s, 0, "the share store failed");
    if (se == SIGNER_STORE_ERR_NOT_FOUND && load_staged(s) != 0)
        return;
    tss_reshare_params p;
    uint8_t zero[32] = {0};
    if (reshare_input(s, &p, zero) != 0)
        return;
    memset(&p, 0, sizeof p);
    signer_reshare_start_digest(s->start_digest, s->rs, (const uint8_t(*)[32])s->fps);
    start_round0(s);
}

static void begin_reshare(signer_session *s)
{
    signer *sd = s->sd;
    const api_reshare_start *rs = s->rs;
    uint8_t binding[6];
    tss_msgs out = {0};
    for (int i = 0; i < 4; i++)
        binding[i] = (uint8_t)(rs->epoch >> (24 - 8 * i));
    binding[4] = (uint8_t)rs->threshold;
    binding[5] = (uint8_t)rs->n;
    signer_chan_err ce = signer_chan_derive(s->chan, "reshare", rs->key_id, binding, sizeof binding,
                                            s->start_digest, s->sid);
    if (ce != SIGNER_CHAN_OK)
        return fail(s, 0, "round 0: %s", signer_chan_strerror(ce));
    s->ph = PH_RUN;
    int used = signer_store_sid_claim(sd->store, s->sid, "reshare");
    if (used != 0)
        return fail(s, 0, "%s", used > 0 ? "session id already used" : "the store failed");
    tss_reshare_params p;
    if (reshare_input(s, &p, s->sid) != 0)
        return;
    tss_err e = tss_reshare_new(&s->reshare, &p, tss_rng_system());
    OPENSSL_cleanse(&p, sizeof p);
    /* A staged input is dealt once: deleted (fsync) before the first message leaves. */
    if (e == TSS_OK && s->staged &&
        signer_store_staged_remove(sd->store, s->staged->public_key, s->hex, "dealt") !=
            SIGNER_STORE_OK) {
        staged_drop(s);
        return fail(s, 0, "cannot remove the staged input before dealing it: %s",
                    signer_store_last_detail());
    }
    staged_drop(s);
    /* The state holds its own copy of a dealer's share: this session's copy goes now. */
    if (!s->share_cached)
        tss_keyshare_free(s->share);
    s->share = NULL;
    s->share_cached = 0;
    if (e == TSS_OK)
        e = tss_reshare_start(s->reshare, &out);
    if (e != TSS_OK) {
        tss_msgs_free(&out);
        return fail(s, 0, "cannot start the protocol: %s", tss_strerror(e));
    }
    emit(s, &out);
    after_step(s);
}

static void finish_reshare(signer_session *s)
{
    signer *sd = s->sd;
    const api_reshare_start *rs = s->rs;
    char kid[33], outcome[64];
    api_keygen_result r;
    memset(&r, 0, sizeof r);
    api_hex_encode(kid, rs->key_id, 16);
    if (rs->index > rs->n) { /* a dealer that is not a new party: it has sent all it had */
        snprintf(outcome, sizeof outcome, "dealt for epoch %u", (unsigned)rs->epoch);
        audit(s, SIGNER_AUDIT_RESHARE, outcome);
        dealt_note(sd, kid, rs->epoch);
        s->ph = PH_DONE;
        s->result_sent = 1;
        send_json(s, API_FRAME_RESULT, api_reshare_ack_encode(rs->key_id, rs->epoch, "dealt"));
        log_info("session %s: dealt for epoch %u of key %s", s->hex, (unsigned)rs->epoch, kid);
        return;
    }
    tss_keyshare *ks = tss_reshare_take_keyshare(s->reshare);
    if (!ks || ks->epoch != rs->epoch) {
        tss_keyshare_free(ks);
        return fail(s, 0, "cannot encode the new share");
    }
    signer_share_row row;
    memset(&row, 0, sizeof row);
    for (size_t i = 0; i < rs->n; i++) {
        row.identities[i].index = rs->parties[i].index;
        memcpy(row.identities[i].id, rs->parties[i].id, sizeof row.identities[i].id);
        memcpy(row.identities[i].fp, s->fps[i], 32);
    }
    row.identity_count = rs->n;
    static const uint8_t no_sid[32];
    row.imported = memcmp(rs->key_sid, no_sid, 32) == 0; /* an import or a migration */
    signer_share_row prev; /* a refresh of an imported key keeps the mark */
    memset(&prev, 0, sizeof prev);
    if (!row.imported && signer_store_share_get(sd->store, kid, &prev) == SIGNER_STORE_OK)
        row.imported = prev.imported;
    signer_share_row_clear(&prev);
    api_key_public kp;
    if (store_pending_share(s, kid, ks, &row, &r, &kp) != 0)
        return;
    uint8_t m[API_RESHARE_ATTEST_MSG_BYTES];
    api_reshare_attestation_message(m, rs->key_id, rs->epoch, &r);
    r.attestation_len = sizeof r.attestation;
    if (signer_ident_sign(sd, m, sizeof m, r.attestation, &r.attestation_len) != 0)
        return fail(s, 0, "cannot sign the attestation");
    s->ph = PH_DONE;
    s->result_sent = 1;
    send_json(s, API_FRAME_RESULT,
              signer_test_reshare_result(api_key_public_attach(api_keygen_result_encode(&r), &kp)));
    log_info("session %s: share of key %s epoch %u stored (pending activation)", s->hex, kid,
             (unsigned)rs->epoch);
}

/* ---- jobs on the thread pool ---- */

static void job_run(uv_work_t *w)
{
    signer_session *s = w->data;
    frame_in *fr = s->batch;
    s->batch = NULL;
    signer_timing_job_begin(&s->tm);
    while (fr) {
        frame_in *n = fr->next;
        fr->next = NULL;
        if (atomic_load(&s->aborted) || s->ph == PH_DONE) {
            free(fr);
        } else if (s->ph == PH_NEW) {
            api_frame f;
            api_frame_decode(&f, fr->data, fr->len);
            job_start(s, f.payload, f.payload_len);
            free(fr);
        } else {
            handle(s, fr);
        }
        fr = n;
    }
    signer_timing_job_end(&s->tm);
}

/* Frees everything a session holds but its id (which a finished session keeps for a while
 * so that late frames are dropped, not held). Safe to call twice. */
static void session_clear(signer_session *s)
{
    for (size_t i = 0; i < API_MAX_PARTIES; i++) {
        X509_free(s->certs[i]);
        s->certs[i] = NULL;
    }
    signer_chan_free(s->chan);
    tss_dkg_free(s->dkg);
    tss_sign_free(s->sign);
    tss_reshare_free(s->reshare);
    s->reshare = NULL;
    staged_drop(s);
    free(s->rs);
    s->rs = NULL;
    if (!s->share_cached)
        tss_keyshare_free(s->share);
    s->chan = NULL;
    s->dkg = NULL;
    s->sign = NULL;
    s->share = NULL;
    frames_free(s->inbox);
    frames_free(s->early);
    s->inbox = s->inbox_tail = s->early = s->early_tail = NULL;
    while (s->out) {
        signer_out *o = s->out;
        s->out = o->next;
        free(o);
    }
    s->out_tail = NULL;
    free(s->st);
    s->st = NULL;
}

static void session_free_cb(uv_handle_t *h)
{
    signer_session *s = h->data;
    session_clear(s);
    free(s);
}

static void unlink_session(signer_session *s)
{
    for (signer_session **p = &s->sd->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            s->sd->nsessions--;
            return;
        }
}

static void release(signer_session *s)
{
    unlink_session(s);
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, session_free_cb);
}

static void on_linger_done(uv_timer_t *t)
{
    release(t->data);
}

/* The session is over on this node: wipe the protocol state now, keep the id a little
 * longer so late frames for it are dropped instead of held. */
static void finish(signer_session *s)
{
    if (s->finished)
        return;
    s->finished = 1;
    s->sd->nactive--;
    signer_timing_end(&s->tm, s->hex);
    session_clear(s);
    uv_timer_stop(&s->timer);
    if (s->sd->stopping)
        release(s);
    else
        uv_timer_start(&s->timer, on_linger_done, SESSION_LINGER_MS, 0);
}

static void schedule(signer_session *s);

static void job_done(uv_work_t *w, int status)
{
    signer_session *s = w->data;
    signer *sd = s->sd;
    (void)status;
    s->job_running = 0;
    while (s->out) {
        signer_out *o = s->out;
        s->out = o->next;
        api_frame f;
        if (api_frame_decode(&f, o->buf + LWS_PRE, o->len) == API_OK)
            signer_link_send(sd, &f);
        free(o);
    }
    s->out_tail = NULL;
    if (s->ph == PH_DONE || atomic_load(&s->aborted) || sd->stopping)
        return finish(s);
    schedule(s);
}

static void schedule(signer_session *s)
{
    if (s->job_running || !s->inbox || s->finished)
        return;
    s->batch = s->inbox;
    s->inbox = s->inbox_tail = NULL;
    s->job_running = 1;
    s->work.data = s;
    signer_timing_queued(&s->tm);
    if (uv_queue_work(&s->sd->loop, &s->work, job_run, job_done) != 0) {
        s->job_running = 0;
        frames_free(s->batch);
        s->batch = NULL;
        finish(s);
    }
}

/* The session ran out of time. A job still running owns the session's fields: it sees the
 * flag between frames and job_done finishes the session. Otherwise the hub is told, naming
 * the participant heard from least (the one the session waited for). */
static void on_timeout(uv_timer_t *t)
{
    signer_session *s = t->data;
    atomic_store(&s->aborted, 1);
    if (s->job_running)
        return;
    if (s->st && s->ph != PH_DONE) {
        unsigned culprit = 0, least = ~0u;
        for (size_t i = 0; i < s->st->nparties; i++)
            if (i != s->me && s->received[i] < least) {
                least = s->received[i];
                culprit = s->st->parties[i].index;
            }
        api_abort a = {.culprit = 0};
        snprintf(a.reason, sizeof a.reason, "timeout after %u s waiting for party '%s'",
                 s->sd->cfg.session_timeout, party_name(s, culprit));
        char *j = api_abort_encode(&a);
        api_frame f = {.type = API_FRAME_ABORT, .from = (uint16_t)s->st->index};
        memcpy(f.session, s->id, sizeof f.session);
        f.payload = (const uint8_t *)j;
        f.payload_len = j ? (uint32_t)strlen(j) : 0;
        if (j)
            signer_link_send(s->sd, &f);
        free(j);
        log_notice("session %s timed out waiting for '%s'", s->hex, party_name(s, culprit));
    }
    finish(s);
}

/* ---- entry points from the link ---- */

static signer_session *find(signer *sd, const uint8_t id[API_SESSION_ID_BYTES])
{
    for (signer_session *s = sd->sessions; s; s = s->next)
        if (memcmp(s->id, id, API_SESSION_ID_BYTES) == 0)
            return s;
    return NULL;
}

static frame_in *copy_frame(const uint8_t *data, size_t len)
{
    frame_in *fr = malloc(sizeof *fr + len);
    if (!fr)
        return NULL;
    fr->next = NULL;
    fr->len = len;
    memcpy(fr->data, data, len);
    return fr;
}

static void enqueue(signer_session *s, frame_in *fr)
{
    if (!fr)
        return;
    if (s->inbox_tail)
        s->inbox_tail->next = fr;
    else
        s->inbox = fr;
    s->inbox_tail = fr;
    schedule(s);
}

static void reply_abort(signer *sd, const api_frame *f, const char *reason)
{
    api_abort a = {.culprit = 0};
    snprintf(a.reason, sizeof a.reason, "%s", reason);
    char *j = api_abort_encode(&a);
    api_frame r = {.type = API_FRAME_ABORT, .from = f->to, .to = API_PARTY_HUB};
    memcpy(r.session, f->session, sizeof r.session);
    r.payload = (const uint8_t *)j;
    r.payload_len = j ? (uint32_t)strlen(j) : 0;
    if (j && r.from)
        signer_link_send(sd, &r);
    free(j);
}

static void new_session(signer *sd, const uint8_t *data, size_t len, const api_frame *f)
{
    if (sd->stopping)
        return reply_abort(sd, f, "busy: the signer is shutting down; retry");
    if (sd->nactive >= sd->cfg.max_sessions)
        return reply_abort(sd, f, "busy: the signer is at [signer] max_sessions; retry");
    signer_session *s = calloc(1, sizeof *s);
    if (!s)
        return reply_abort(sd, f, "out of memory");
    s->sd = sd;
    memcpy(s->id, f->session, sizeof s->id);
    api_hex_encode(s->hex, s->id, sizeof s->id);
    s->addressed = f->to;
    signer_timing_begin(&s->tm);
    uv_timer_init(&sd->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, on_timeout, (uint64_t)sd->cfg.session_timeout * 1000, 0);
    s->next = sd->sessions;
    sd->sessions = s;
    sd->nsessions++;
    sd->nactive++;
    enqueue(s, copy_frame(data, len));
    /* Frames of this session that arrived before its start, in order. */
    for (signer_held **p = &sd->held; *p;) {
        signer_held *h = *p;
        api_frame hf;
        if (api_frame_decode(&hf, h->data, h->len) == API_OK &&
            memcmp(hf.session, s->id, sizeof s->id) == 0) {
            *p = h->next;
            sd->nheld--;
            enqueue(s, copy_frame(h->data, h->len));
            free(h);
        } else {
            p = &h->next;
        }
    }
}

/* A copy of a frame to keep for later (hold, defer), or NULL. */
static signer_held *held_new(const uint8_t *data, size_t len, uint64_t now)
{
    signer_held *h = malloc(sizeof *h + len);
    if (h) {
        h->next = NULL;
        h->at_ms = now;
        h->len = len;
        memcpy(h->data, data, len);
    }
    return h;
}

static void hold(signer *sd, const uint8_t *data, size_t len)
{
    uint64_t now = signer_now_ms();
    signer_held **p = &sd->held; /* ends at the list's tail: where a new frame goes */
    while (*p) {
        if (now - (*p)->at_ms > SESSION_HELD_MS) {
            signer_held *h = *p;
            *p = h->next;
            sd->nheld--;
            free(h);
        } else {
            p = &(*p)->next;
        }
    }
    if (sd->nheld >= SESSION_HELD_MAX || !(*p = held_new(data, len, now)))
        return;
    sd->nheld++;
}

typedef struct {
    uv_work_t work;
    signer *sd;
    api_activate *a;
    char key_id[33];
    uint32_t epoch; /* a reshare's activate (or a retire): the epoch; 0 for a keygen's */
    int reshare, retire;
    uint8_t session[API_SESSION_ID_BYTES];
    uint16_t to;
    int verified;
    signer_store_err result;
    char why[160];
} activate_job;

/* The pinned certificate of party `index` in row: its identity entry, or NULL. */
static const signer_identity *pinned(const signer_share_row *row, unsigned index)
{
    for (size_t i = 0; i < row->identity_count; i++)
        if (row->identities[i].index == index)
            return &row->identities[i];
    return NULL;
}

/* 0 when every one of the key's n parties attests, under the certificate pinned for it at
 * keygen, that its share of this very key (public key, chain code, transcript) is durable:
 * only then may this node's share sign. The hub relays the proof; it cannot make it. */
static int activation_proven(const api_activate *a, const signer_share_row *row, int reshare,
                             char *why, size_t cap)
{
    api_keygen_result r;
    uint8_t m[API_RESHARE_ATTEST_MSG_BYTES > API_ATTEST_MSG_BYTES ? API_RESHARE_ATTEST_MSG_BYTES
                                                                  : API_ATTEST_MSG_BYTES],
        fp[32];
    size_t mlen = reshare ? API_RESHARE_ATTEST_MSG_BYTES : API_ATTEST_MSG_BYTES;
    memset(&r, 0, sizeof r);
    memcpy(r.public_key, row->public_key, 33);
    memcpy(r.chain_code, row->chain_code, 32);
    memcpy(r.transcript_hash, row->fingerprint, 32);
    /* a reshare's attestations cover the epoch (another tag: a keygen's never passes) */
    if (reshare)
        api_reshare_attestation_message(m, a->key_id, row->epoch, &r);
    else
        api_attestation_message(m, a->key_id, &r);
    if (a->count != row->n)
        return snprintf(why, cap, "%zu attestations for a key of %u parties", a->count, row->n), -1;
    for (size_t i = 0; i < a->count; i++) {
        const signer_identity *id = pinned(row, a->parties[i].index);
        BIO *b = BIO_new_mem_buf(a->parties[i].certificate, -1);
        X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        int ok = id && c && mpcd_tls_cert_fingerprint(c, fp) == 0 &&
                 CRYPTO_memcmp(fp, id->fp, 32) == 0 &&
                 mpcd_tls_verify_with_cert(c, m, mlen, a->parties[i].attestation,
                                           a->parties[i].attestation_len);
        X509_free(c);
        if (!ok)
            return snprintf(why, cap,
                            "the attestation of party %u does not verify under its pinned "
                            "certificate",
                            a->parties[i].index),
                   -1;
    }
    return 0;
}

/* A reshare's activate: the pending share (key, epoch) becomes active and the old epoch
 * retired in one transaction (fsync), once every new party's attestation of this very
 * share (public key, chain code, fingerprint, epoch) verifies under its pinned
 * certificate; then the cached old share is dropped. Idempotent. */
static void activate_epoch_run(activate_job *j)
{
    signer_share_row row;
    memset(&row, 0, sizeof row);
    j->result = signer_store_share_get_epoch(j->sd->store, j->key_id, j->epoch, &row);
    if (j->result == SIGNER_STORE_OK && row.status == SIGNER_SHARE_PENDING &&
        activation_proven(j->a, &row, 1, j->why, sizeof j->why) != 0) {
        signer_share_row_clear(&row);
        return;
    }
    j->verified = 1;
    if (j->result == SIGNER_STORE_OK)
        j->result = signer_store_share_switch_epoch(j->sd->store, j->key_id, j->epoch);
    signer_share_row_clear(&row);
    if (j->result == SIGNER_STORE_OK)
        cache_drop(j->sd, j->key_id);
}

/* The hub's retire: this node's share of (key, epoch) is deleted (audit row, fsync). The
 * hub sends it only after every new party acknowledged the new epoch. A share still
 * active here (this node is not in the new committee) is deleted as leaving only when
 * this process dealt for epoch + 1 of the key as a non-member; otherwise the retire is
 * refused (ERR_ACTIVE, logged) and the share stays active: a retire out of the blue, or
 * after a restart, never destroys a live share (an operator removes a leaver's share). */
static void retire_run(activate_job *j)
{
    signer_share_row row;
    memset(&row, 0, sizeof row);
    j->verified = 1;
    j->result = signer_store_share_get_epoch(j->sd->store, j->key_id, j->epoch, &row);
    int active = j->result == SIGNER_STORE_OK && row.status == SIGNER_SHARE_ACTIVE;
    signer_share_row_clear(&row);
    if (active && (j->epoch == UINT32_MAX || !dealt_has(j->sd, j->key_id, j->epoch + 1)))
        j->result = SIGNER_STORE_ERR_ACTIVE;
    else if (j->result == SIGNER_STORE_OK)
        j->result = signer_store_share_retire(j->sd->store, j->key_id, j->epoch, active);
    else if (j->result == SIGNER_STORE_ERR_NOT_FOUND)
        j->result = SIGNER_STORE_OK; /* already deleted (a repeated retire) */
    cache_drop(j->sd, j->key_id);
}

static void activate_run(uv_work_t *w)
{
    activate_job *j = w->data;
    if (j->retire)
        return retire_run(j);
    if (j->reshare)
        return activate_epoch_run(j);
    signer_share_row row;
    memset(&row, 0, sizeof row);
    j->result = signer_store_share_get(j->sd->store, j->key_id, &row);
    if (j->result == SIGNER_STORE_OK && row.status != SIGNER_SHARE_ACTIVE &&
        activation_proven(j->a, &row, 0, j->why, sizeof j->why) != 0) {
        signer_share_row_clear(&row);
        return;
    }
    j->verified = 1;
    if (j->result == SIGNER_STORE_OK && row.status != SIGNER_SHARE_ACTIVE)
        j->result = signer_store_share_activate(j->sd->store, j->key_id);
    signer_share_row_clear(&row);
}

static void activate_report(activate_job *j)
{
    if (j->reshare || j->retire) {
        if (!j->verified)
            log_warn("key %s: activation of epoch %u refused: %s", j->key_id, (unsigned)j->epoch,
                     j->why);
        else if (j->result != SIGNER_STORE_OK)
            log_warn("key %s: cannot %s epoch %u: %s", j->key_id, j->retire ? "retire" : "activate",
                     (unsigned)j->epoch, signer_store_strerror(j->result));
        else {
            log_info("key %s: epoch %u %s", j->key_id, (unsigned)j->epoch,
                     j->retire ? "retired (share deleted)" : "active (old epoch retired)");
            uint8_t kid[16];
            char *json =
                api_hex_decode(kid, sizeof kid, j->key_id, 32) == API_OK
                    ? api_reshare_ack_encode(kid, j->epoch, j->retire ? "retired" : "active")
                    : NULL;
            api_frame f = {.type = API_FRAME_RESULT, .from = j->to, .to = API_PARTY_HUB};
            memcpy(f.session, j->session, sizeof f.session);
            f.payload = (const uint8_t *)json;
            f.payload_len = json ? (uint32_t)strlen(json) : 0;
            if (json)
                signer_link_send(j->sd, &f);
            free(json);
        }
        free(j->a);
        free(j);
        return;
    }
    if (!j->verified)
        log_warn("key %s: activation refused: %s", j->key_id, j->why);
    else if (j->result == SIGNER_STORE_OK)
        log_info("key %s: share active (all %zu attestations verified)", j->key_id, j->a->count);
    else
        log_warn("key %s: cannot activate the share: %s", j->key_id,
                 signer_store_strerror(j->result));
    free(j->a);
    free(j);
}

static void dispatch(signer *sd, const uint8_t *data, size_t len, const api_frame *f);

/* The activate is done (or failed): the frames that came after it, in order, until one of
 * them is an activate again. */
static void activate_done(uv_work_t *w, int status)
{
    signer *sd = ((activate_job *)w->data)->sd;
    (void)status;
    activate_report(w->data);
    sd->activating = 0;
    while (!sd->activating && sd->deferred) {
        signer_held *h = sd->deferred;
        if (!(sd->deferred = h->next))
            sd->deferred_tail = &sd->deferred;
        sd->ndeferred--;
        api_frame f;
        if (api_frame_decode(&f, h->data, h->len) == API_OK)
            dispatch(sd, h->data, h->len, &f);
        free(h);
    }
}

static void activate(signer *sd, const api_frame *f)
{
    char msg[API_MSG_MAX];
    activate_job *j = calloc(1, sizeof *j);
    if (j)
        j->a = malloc(sizeof *j->a);
    if (!j || !j->a) {
        free(j);
        return;
    }
    memcpy(j->session, f->session, sizeof j->session);
    j->to = f->to;
    if (f->type == API_FRAME_RETIRE) {
        j->retire = 1;
        if (api_retire_parse(j->a->key_id, &j->epoch, f->payload, f->payload_len, msg,
                             sizeof msg) != API_OK) {
            log_warn("malformed retire frame: %s", msg);
            free(j->a);
            free(j);
            return;
        }
    } else if (api_activate_parse(j->a, f->payload, f->payload_len, msg, sizeof msg) != API_OK &&
               (j->reshare = api_reshare_activate_parse(j->a, &j->epoch, f->payload, f->payload_len,
                                                        msg, sizeof msg) == API_OK) == 0) {
        log_warn("malformed activate frame: %s", msg);
        free(j->a);
        free(j);
        return;
    }
    api_hex_encode(j->key_id, j->a->key_id, 16);
    j->sd = sd;
    j->work.data = j;
    if (uv_queue_work(&sd->loop, &j->work, activate_run, activate_done) != 0) {
        free(j->a);
        free(j);
        return;
    }
    sd->activating = 1;
}

/* A frame that came while an activate runs waits for it (signer.h). Past SESSION_DEFER_MAX
 * waiting frames it is dropped, logged: its session times out. */
static void defer(signer *sd, const uint8_t *data, size_t len)
{
    signer_held *h =
        sd->ndeferred < SESSION_DEFER_MAX ? held_new(data, len, signer_now_ms()) : NULL;
    if (!h) {
        log_warn("%zu frames wait behind an activate; one more dropped", sd->ndeferred);
        return;
    }
    if (!sd->deferred)
        sd->deferred_tail = &sd->deferred;
    *sd->deferred_tail = h;
    sd->deferred_tail = &h->next;
    sd->ndeferred++;
}

void signer_session_on_frame(signer *sd, const uint8_t *data, size_t len, const api_frame *f)
{
    if (sd->activating)
        return defer(sd, data, len);
    dispatch(sd, data, len, f);
}

static void dispatch(signer *sd, const uint8_t *data, size_t len, const api_frame *f)
{
    signer_session *s = find(sd, f->session);
    switch (f->type) {
    case API_FRAME_SESSION_START:
        if (s)
            log_warn("session %s: a second session-start; ignored", s->hex);
        else
            new_session(sd, data, len, f);
        return;
    case API_FRAME_PROTOCOL:
        if (s && !s->finished)
            enqueue(s, copy_frame(data, len));
        else if (!s)
            hold(sd, data, len);
        return;
    case API_FRAME_ABORT:
        if (s && !s->finished) {
            atomic_store(&s->aborted, 1);
            if (!s->job_running)
                finish(s);
        }
        return;
    case API_FRAME_ACTIVATE:
    case API_FRAME_RETIRE:
        return activate(sd, f);
    default:
        log_warn("unexpected %s frame from the hub; ignored", api_frame_type_name(f->type));
    }
}

static void free_frames(signer_held **list, size_t *n)
{
    while (*list) {
        signer_held *h = *list;
        *list = h->next;
        free(h);
    }
    *n = 0;
}

void signer_session_abort_all(signer *sd, const char *why)
{
    for (signer_session *s = sd->sessions, *next; s; s = next) {
        next = s->next; /* finish may release s */
        atomic_store(&s->aborted, 1);
        if (s->job_running)
            continue; /* job_done finishes it */
        if (!s->finished)
            finish(s);
        else if (sd->stopping)
            release(s); /* lingering: nothing to wait for */
    }
    free_frames(&sd->held, &sd->nheld);
    free_frames(&sd->deferred, &sd->ndeferred); /* the lost link's; a new hello resends */
    sd->deferred_tail = &sd->deferred;
    (void)why;
}

/* ---- bans ---- */

int signer_session_persist_ban(void *ctx, const uint8_t fp[32], tss_err reason)
{
    signer *sd = ctx;
    api_party_name id;
    name_of(sd, fp, id);
    signer_store_err e = signer_store_ban_add(sd->store, fp, id, tss_strerror(reason), NULL);
    if (e != SIGNER_STORE_OK) {
        log_err("cannot record a ban: %s; the session stays aborted", signer_store_strerror(e));
        return -1;
    }
    char hex[65];
    api_hex_encode(hex, fp, 32);
    log_warn("banned party '%s' (certificate %s): %s; lift with 'mpc-signerd bans lift %s'", id,
             hex, tss_strerror(reason), hex);
    return 0;
}
