/* tss/fuzz/fuzz_record.c — records the honest transcripts the round targets start from:
 * parties in one process, deterministic randomness, messages delivered round by round in
 * index order, and a deep copy (tss/testing.h) of each recipient just before the message
 * of the edge under test would complete its round. Also writes the field map of every
 * recorded message (fuzz_round.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_round.h"
#include "test_rng.h"
#include "tss/baseot.h"
#include "tss/pok.h"
#include "tss/testing.h"
#include "tss/transcript.h"
#include "tss/vole.h"
#include "tss_dealer.h"
#include "tss_sim.h"

#define NMAX       TSS_MAX_PARTIES
#define MAX_CASES  32
#define MAX_DONORS 256

static void die(const char *what, const char *config, tss_err err);

/* The generator every snapshot and every copy of one draws from; fuzz_round.c re-seeds
 * it before each run so that runs are reproducible. */
test_rng fz_rng;

/* The ban lists of the recorded parties (one per node, shared by its states and by every
 * copy of them), and what their persist callback saw: fuzz_round.c checks it against the
 * abort and lifts the bans after each run. */
tss_banlist *fz_bans[NMAX + 1];
fz_ban_seen fz_banned;

static int persist(void *ctx, const uint8_t fp[32], tss_err reason)
{
    fz_ban_seen *seen = ctx;
    seen->count++;
    memcpy(seen->fp, fp, 32);
    seen->reason = reason;
    return 0;
}

static tss_banlist *party_bans(uint16_t i)
{
    if (fz_bans[i] == NULL && tss_banlist_new(&fz_bans[i], persist, &fz_banned) != TSS_OK)
        die("ban list", "record", TSS_ERR_NOMEM);
    return fz_bans[i];
}

static fz_case cases[MAX_CASES];
static size_t ncases;
static const uint8_t *donors[MAX_DONORS];
static size_t donor_len[MAX_DONORS], ndonors;

typedef struct {
    uint8_t *data;
    size_t len;
} rec_msg;

/* box[r][from][to]: the honest round-r message, kept for the process */
typedef rec_msg rec_box[6][NMAX + 1][NMAX + 1];

static void die(const char *what, const char *config, tss_err err)
{
    fprintf(stderr, "fuzz_record: %s (%s): %s\n", what, config, tss_strerror(err));
    abort();
}

static void keep(rec_box box, tss_msgs *out, uint16_t from)
{
    for (size_t k = 0; k < out->count; k++) {
        tss_msg *m = &out->items[k];
        uint8_t r = m->data[2];
        if (r > 5 || m->to > NMAX || box[r][from][m->to].data != NULL)
            die("unexpected message", "record", TSS_ERR_ROUND);
        box[r][from][m->to] = (rec_msg){m->data, m->len};
        if (ndonors < MAX_DONORS) {
            donors[ndonors] = m->data;
            donor_len[ndonors++] = m->len;
        }
        m->data = NULL; /* the box owns it now */
    }
    tss_msgs_free(out);
}

static tss_err receive(uint8_t proto, void *st, const rec_msg *m, tss_msgs *out)
{
    if (proto == TSS_PROTO_RESHARE)
        return tss_reshare_receive(st, m->data, m->len, out);
    return proto == TSS_PROTO_DKG ? tss_dkg_receive(st, m->data, m->len, out)
                                  : tss_sign_receive(st, m->data, m->len, out);
}

static void *copy_state(uint8_t proto, const void *st, const char *config)
{
    void *c = NULL;
    tss_err err = proto == TSS_PROTO_RESHARE
                      ? tss_reshare_clone((tss_reshare **)&c, st, &fz_rng.rng)
                  : proto == TSS_PROTO_DKG ? tss_dkg_clone((tss_dkg **)&c, st, &fz_rng.rng)
                                           : tss_sign_clone((tss_sign **)&c, st, &fz_rng.rng);
    if (err != TSS_OK)
        die("clone", config, err);
    return c;
}

static void add_field(fz_case *c, const char *name, size_t *off, size_t len, size_t elem, int type)
{
    if (c->nfields == FZ_MAX_FIELDS)
        abort();
    c->fields[c->nfields++] = (fz_field){name, *off, len, elem, type, 0};
    *off += len;
}

/* The extension message of ote.h: sid tag | U (κ rows of 80 B) | x~ | t~ (κ x 16), κ of the
 * recorded (default) key. */
static void ote_fields(fz_case *c, size_t *off)
{
    add_field(c, "ote tag", off, TSS_SID_TAG_BYTES, 1, FZ_BYTES);
    add_field(c, "ote U", off, (size_t)TSS_OTE_KAPPA_DEFAULT * TSS_OTE_ROW_BYTES, 1, FZ_BYTES);
    add_field(c, "ote x~", off, 16, 1, FZ_BYTES);
    add_field(c, "ote t~", off, (size_t)TSS_OTE_KAPPA_DEFAULT * 16, 1, FZ_BYTES);
}

/* Marks the last field as read only by a later round: edits to it pass this round
 * unnoticed (the target of the later round reaches the same check by altering the
 * opening), so the field map leaves it to the unstructured edits. */
static void later(fz_case *c)
{
    c->fields[c->nfields - 1].later = 1;
}

/* The index list of the fields the round itself reads. */
static void fields_now(fz_case *c)
{
    c->nnow = 0;
    for (size_t k = 0; k < c->nfields; k++)
        if (!c->fields[k].later)
            c->now[c->nnow++] = (uint8_t)k;
}

static void pok_fields(fz_case *c, size_t *off, const char *r, const char *z, unsigned count)
{
    for (unsigned k = 0; k < count; k++) {
        add_field(c, r, off, 33, 33, FZ_POINT);
        add_field(c, z, off, 32, 32, FZ_SCALAR);
    }
}

/* The field map of the DKG round-r payload from -> to (layouts: tss/dkg.c). */
static void dkg_fields(fz_case *c, uint8_t t, uint8_t n)
{
    size_t off = 0, plen = c->len - TSS_MSG_HEADER_BYTES;
    switch (c->round) {
    case 1:
        add_field(c, "sid_i", &off, 32, 1, FZ_BYTES);
        add_field(c, "C_i", &off, 32, 1, FZ_BYTES);
        break;
    case 2:
        add_field(c, "dkg sid", &off, 32, 1, FZ_BYTES);
        add_field(c, "F_i", &off, 33u * t, 33, FZ_POINT);
        add_field(c, "F opening", &off, 32, 1, FZ_BYTES);
        pok_fields(c, &off, "coef PoK R", "coef PoK z", t);
        add_field(c, "cc commitment", &off, 32, 1, FZ_BYTES);
        later(c);
        add_field(c, "zero commitment", &off, 32, 1, FZ_BYTES);
        later(c);
        if (off < plen) {
            add_field(c, "base-OT 1 tag", &off, TSS_SID_TAG_BYTES, 1, FZ_BYTES);
            add_field(c, "base-OT 1 Q", &off, (size_t)TSS_OTE_KAPPA_DEFAULT * 66, 33, FZ_OTQ);
        }
        break;
    case 3:
        add_field(c, "f_i(x_j)", &off, 32, 32, FZ_SCALAR);
        add_field(c, "cc part", &off, 32, 1, FZ_BYTES);
        add_field(c, "cc opening", &off, 32, 1, FZ_BYTES);
        add_field(c, "zero part", &off, 32, 1, FZ_BYTES);
        add_field(c, "zero opening", &off, 32, 1, FZ_BYTES);
        if (off < plen) {
            add_field(c, "base-OT 2 tag", &off, TSS_SID_TAG_BYTES, 1, FZ_BYTES);
            add_field(c, "base-OT 2 B", &off, 33, 33, FZ_POINT);
            ote_fields(c, &off);
        }
        break;
    case 4:
        add_field(c, "pk", &off, 33, 33, FZ_POINT);
        add_field(c, "chain code", &off, 32, 1, FZ_BYTES);
        add_field(c, "P(i)", &off, 33, 33, FZ_POINT);
        pok_fields(c, &off, "share PoK R", "share PoK z", 1);
        add_field(c, "broadcast hashes", &off, 32u * n, 32, FZ_BYTES);
        add_field(c, "OT view", &off, 32, 1, FZ_BYTES);
        break;
    }
    if (off != plen)
        die("field map does not cover the payload", c->config, TSS_ERR_LENGTH);
    fields_now(c);
}

static void sign_fields(fz_case *c)
{
    size_t off = 0, plen = c->len - TSS_MSG_HEADER_BYTES;
    switch (c->round) {
    case 1:
        add_field(c, "R commitment", &off, 32, 1, FZ_BYTES);
        later(c);
        ote_fields(c, &off);
        break;
    case 2:
        add_field(c, "vole tag", &off, TSS_SID_TAG_BYTES, 1, FZ_BYTES);
        add_field(c, "vole a~", &off, (size_t)TSS_OTE_XI * TSS_OTE_SCALARS * 32, 32, FZ_SCALAR);
        add_field(c, "vole eta^", &off, 32, 32, FZ_SCALAR);
        add_field(c, "vole mu", &off, 64, 1, FZ_BYTES);
        add_field(c, "Gamma^u", &off, 33, 33, FZ_POINT);
        add_field(c, "Gamma^v", &off, 33, 33, FZ_POINT);
        add_field(c, "psi", &off, 32, 32, FZ_SCALAR);
        add_field(c, "pk_i", &off, 33, 33, FZ_POINT);
        add_field(c, "R_i", &off, 33, 33, FZ_POINT);
        add_field(c, "R opening", &off, 32, 1, FZ_BYTES);
        break;
    case 3:
        add_field(c, "u_i", &off, 32, 32, FZ_SCALAR);
        add_field(c, "w_i", &off, 32, 32, FZ_SCALAR);
        add_field(c, "digest", &off, 32, 1, FZ_BYTES);
        break;
    }
    if (off != plen)
        die("field map does not cover the payload", c->config, TSS_ERR_LENGTH);
    fields_now(c);
}

/* The base-OT sid of the pair (alice -> bob), as tss/dkg.c derives it. */
static void ot_pair_sid(uint8_t out[32], const uint8_t dkg_sid[32], uint16_t alice, uint16_t bob)
{
    tss_transcript t;
    tss_transcript_init(&t, "dkg/ot-sid");
    tss_transcript_append(&t, dkg_sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_final(&t, out);
}

/* Snapshot of recipient `to` one message (from `from`) short of completing round r. */
static fz_case *snapshot(uint8_t proto, const char *config, void *st, rec_box box, uint8_t r,
                         uint16_t to, uint16_t from, const uint16_t *set, size_t count)
{
    if (ncases == MAX_CASES)
        abort();
    fz_case *c = &cases[ncases++];
    memset(c, 0, sizeof *c);
    c->proto = proto, c->round = r, c->to = to, c->from = from, c->config = config;
    c->snap = copy_state(proto, st, config);
    for (size_t k = 0; k < count; k++) {
        uint16_t j = set[k];
        if (j == to || j == from || box[r][j][to].data == NULL) /* (reshare: no such edge) */
            continue;
        tss_msgs out = {0};
        tss_err err = receive(proto, c->snap, &box[r][j][to], &out);
        if (err != TSS_OK || out.count != 0)
            die("snapshot delivery", config, err);
    }
    c->msg = box[r][from][to].data;
    c->len = box[r][from][to].len;
    if (c->msg == NULL)
        die("no message on this edge", config, TSS_ERR_PARTY);
    return c;
}

/* Delivers round r to `to` in sender order; keeps what it emits. */
static void deliver_round(uint8_t proto, const char *config, void *st, rec_box box, uint8_t r,
                          uint16_t to, const uint16_t *set, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        uint16_t j = set[k];
        if (j == to || box[r][j][to].data == NULL) /* (reshare: no such edge) */
            continue;
        tss_msgs out = {0};
        tss_err err = receive(proto, st, &box[r][j][to], &out);
        if (err != TSS_OK)
            die("honest delivery", config, err);
        keep(box, &out, to);
    }
}

typedef int (*edge_fn)(uint16_t to, uint16_t from);

/* Runs a t-of-n DKG; snapshots the edges of `round` that `want` selects. */
static void record_dkg(const char *config, uint8_t t, uint8_t n, uint8_t round, edge_fn want)
{
    static rec_box box; /* static: messages live for the process */
    tss_dkg *st[NMAX + 1] = {0};
    test_rng rng[NMAX + 1];
    uint16_t set[NMAX];
    size_t first = ncases;
    memset(box, 0, sizeof box);
    for (uint16_t i = 1; i <= n; i++) {
        tss_dkg_params p = {.t = t, .n = n, .index = (uint8_t)i, .bans = party_bans(i)};
        memset(p.session_id, 0xd1, 32);
        sim_identities(p.ids, n);
        test_rng_init(&rng[i], 100 + i);
        tss_msgs out = {0};
        tss_err err = tss_dkg_new(&st[i], &p, &rng[i].rng);
        if (err != TSS_OK || (err = tss_dkg_start(st[i], &out)) != TSS_OK)
            die("start", config, err);
        keep(box, &out, i);
        set[i - 1] = i;
    }
    for (uint8_t r = 1; r <= 4; r++) {
        for (uint16_t i = 1; i <= n; i++) {
            for (uint16_t j = 1; r == round && j <= n; j++) {
                if (j == i || !want(i, j))
                    continue;
                fz_case *c = snapshot(TSS_PROTO_DKG, config, st[i], box, r, i, j, set, n);
                c->final = r == 4;
                c->next_count = r == 4 ? 0 : n - 1u;
                dkg_fields(c, t, n);
                if (c->fields[c->nfields - 1].type == FZ_OTQ) /* from the pair's Alice */
                    ot_pair_sid(c->ot_sid, c->msg + TSS_MSG_HEADER_BYTES, j, i);
            }
            deliver_round(TSS_PROTO_DKG, config, st[i], box, r, i, set, n);
        }
    }
    uint8_t fp[NMAX + 1][32];
    for (uint16_t i = 1; i <= n; i++) {
        tss_keyshare *ks = tss_dkg_take_keyshare(st[i]);
        if (ks == NULL)
            die("honest DKG did not finish", config, TSS_ERR_STATE);
        tss_keyshare_fingerprint(fp[i], ks);
        tss_keyshare_free(ks);
    }
    for (size_t k = first; k < ncases; k++)
        memcpy(cases[k].expect, fp[cases[k].to], 32);
    for (uint16_t i = 1; i <= n; i++)
        tss_dkg_free(st[i]);
}

static int no_store(void *ctx, const uint8_t sid[32])
{
    (void)ctx, (void)sid;
    return 0;
}

/* Runs one signature among `set` with dealer shares of a t-of-n key. */
static void record_sign(const char *config, uint8_t t, uint8_t n, const uint16_t *set, size_t count,
                        int presign, size_t path_len, uint8_t round, edge_fn want)
{
    static tss_keyshare *shares[8][NMAX + 1]; /* borrowed by the snapshots: never freed */
    static size_t nkeys;
    static rec_box box;
    tss_sign *st[NMAX + 1] = {0};
    test_rng rng[NMAX + 1], kr;
    uint8_t hash[32];
    size_t first = ncases;
    if (nkeys == 8)
        abort();
    tss_keyshare **ks = shares[nkeys++];
    test_rng_init(&kr, 200 + t * 16 + n);
    if (dealer_split(ks, t, n, NULL, NULL, &kr) != TSS_OK)
        die("dealer", config, TSS_ERR_STATE);
    memset(box, 0, sizeof box);
    memset(hash, 0x5a, 32);
    for (size_t k = 0; k < count; k++) {
        uint16_t i = set[k];
        tss_sign_params p = {
            .share = ks[i], .claim = no_store, .bans = party_bans(i), .signer_count = count};
        memcpy(p.signers, set, count * sizeof set[0]);
        memset(p.session_id, 0x51, 32);
        for (size_t d = 0; d < path_len; d++)
            p.path[d] = (uint32_t)(7 * d + 1);
        p.path_len = path_len;
        p.has_hash = !presign;
        memcpy(p.hash, hash, 32);
        test_rng_init(&rng[i], 300 + i);
        tss_msgs out = {0};
        tss_err err = tss_sign_new(&st[i], &p, &rng[i].rng);
        if (err != TSS_OK || (err = tss_sign_start(st[i], &out)) != TSS_OK)
            die("start", config, err);
        keep(box, &out, i);
    }
    for (uint8_t r = 1; r <= 3; r++) {
        for (size_t k = 0; k < count; k++) {
            uint16_t i = set[k];
            for (size_t m = 0; r == round && m < count; m++) {
                uint16_t j = set[m];
                if (j == i || !want(i, j))
                    continue;
                fz_case *c = snapshot(TSS_PROTO_SIGN, config, st[i], box, r, i, j, set, count);
                c->final = r == 3;
                c->presign = presign;
                memcpy(c->hash, hash, 32);
                c->next_count = r == 3 ? 0 : count - 1;
                sign_fields(c);
            }
            deliver_round(TSS_PROTO_SIGN, config, st[i], box, r, i, set, count);
            if (r == 2 && tss_sign_presigned(st[i])) {
                tss_msgs out = {0};
                tss_err err = tss_sign_finish(st[i], hash, &out);
                if (err != TSS_OK)
                    die("finish", config, err);
                keep(box, &out, i);
            }
        }
    }
    for (size_t k = first; k < ncases; k++) {
        tss_signature sig;
        if (tss_sign_result(st[cases[k].to], &sig, NULL) != TSS_OK)
            die("honest signature", config, TSS_ERR_STATE);
        memcpy(cases[k].expect, sig.r, 32);
        memcpy(cases[k].expect + 32, sig.s, 32);
    }
    for (size_t k = 0; k < count; k++)
        tss_sign_free(st[set[k]]);
}

/* ---- reshare ----
 * The scenario of tests/tss/test_reshare.c's tamper tests: an old 2-of-3 (dealer split);
 * dealers old 1 (new party 1) and old 2 (leaves: participant 4); new committee {old 1,
 * old 3, a newcomer}, t' = 2. So every role is present: 1 deals and receives, 2 and 3 only
 * receive, 4 only deals. */

static tss_reshare_params rs_params; /* the public input; roles filled per participant */
static tss_scalar *rs_secret[2];
static tss_identity rs_ids[5];

static void reshare_input(void)
{
    static tss_keyshare *old[NMAX + 1];
    test_rng kr;
    test_rng_init(&kr, 500);
    if (dealer_split(old, 2, 3, NULL, NULL, &kr) != TSS_OK)
        die("dealer", "reshare", TSS_ERR_STATE);
    tss_reshare_params *p = &rs_params;
    memset(p, 0, sizeof *p);
    memset(p->key_id, 0x4b, 16);
    memcpy(p->key_sid, old[1]->dkg_sid, 32);
    p->t_old = 2, p->n_old = 3, p->dealer_count = 2;
    for (int d = 0; d < 2; d++) {
        tss_scalar_set_u64(&p->dealers[d].x, (uint64_t)d + 1);
        p->dealers[d].pub = old[1]->pub_shares[d];
        p->dealers[d].id = old[1]->ids[d];
        p->dealers[d].new_index = d == 0 ? 1 : 0;
        rs_secret[d] = &old[d + 1]->secret_share; /* old[] is never freed */
    }
    p->pk = old[1]->pk;
    memcpy(p->chain_code, old[1]->chain_code, 32);
    p->t = 2, p->n = 3;
    p->ids[0] = old[1]->ids[0];
    p->ids[1] = old[1]->ids[2];
    sim_identity(&p->ids[2], 77);
    p->epoch = 1;
    memset(p->session_id, 0xe1, 32);
    for (uint16_t i = 1; i <= 4; i++)
        rs_ids[i] = *tss_reshare_participant_identity(p, i);
}

/* The field map of reshare round r from -> to (layouts: tss/reshare.c). */
static void reshare_fields(fz_case *c)
{
    size_t off = 0, plen = c->len - TSS_MSG_HEADER_BYTES;
    int dealer = c->from == 1 || c->from == 4, pair = c->from <= 3 && c->to <= 3;
    switch (c->round) {
    case 1:
        add_field(c, "sid_i", &off, 32, 1, FZ_BYTES);
        if (dealer)
            add_field(c, "C_i", &off, 32, 1, FZ_BYTES);
        break;
    case 2:
        add_field(c, "reshare sid", &off, 32, 1, FZ_BYTES);
        if (dealer && c->to <= 3) {
            add_field(c, "F_i", &off, 66, 33, FZ_POINT);
            add_field(c, "F opening", &off, 32, 1, FZ_BYTES);
            pok_fields(c, &off, "coef PoK R", "coef PoK z", 2);
        }
        if (pair) {
            add_field(c, "zero commitment", &off, 32, 1, FZ_BYTES);
            later(c);
        }
        if (off < plen) {
            add_field(c, "base-OT 1 tag", &off, TSS_SID_TAG_BYTES, 1, FZ_BYTES);
            add_field(c, "base-OT 1 Q", &off, (size_t)TSS_OTE_KAPPA_DEFAULT * 66, 33, FZ_OTQ);
        }
        break;
    case 3:
        if (dealer)
            add_field(c, "f_i(j)", &off, 32, 32, FZ_SCALAR);
        if (pair) {
            add_field(c, "zero part", &off, 32, 1, FZ_BYTES);
            add_field(c, "zero opening", &off, 32, 1, FZ_BYTES);
        }
        if (off < plen) {
            add_field(c, "base-OT 2 tag", &off, TSS_SID_TAG_BYTES, 1, FZ_BYTES);
            add_field(c, "base-OT 2 B", &off, 33, 33, FZ_POINT);
            ote_fields(c, &off);
        }
        break;
    case 4:
        add_field(c, "pk", &off, 33, 33, FZ_POINT);
        add_field(c, "P'(i)", &off, 33, 33, FZ_POINT);
        pok_fields(c, &off, "share PoK R", "share PoK z", 1);
        add_field(c, "broadcast hashes", &off, 32u * 4, 32, FZ_BYTES);
        add_field(c, "OT view", &off, 32, 1, FZ_BYTES);
        break;
    }
    if (off != plen)
        die("field map does not cover the payload", c->config, TSS_ERR_LENGTH);
    fields_now(c);
}

/* The base-OT sid of the new pair (alice -> bob), as tss/reshare.c derives it. */
static void reshare_ot_sid(uint8_t out[32], const uint8_t sid[32], uint16_t alice, uint16_t bob)
{
    tss_transcript t;
    tss_transcript_init(&t, "reshare/ot-sid");
    tss_transcript_append(&t, sid, 32);
    tss_transcript_append_u32(&t, alice);
    tss_transcript_append_u32(&t, bob);
    tss_transcript_final(&t, out);
}

/* How many messages participant i emits when it completes round r (reshare). */
static size_t reshare_next(uint16_t i, uint8_t r)
{
    if (i == 4) /* R1 -> R2 to the three new parties; R2 -> R3 to them, then done */
        return r <= 2 ? 3 : 0;
    return r == 1 ? 3 : r <= 3 ? 2 : 0; /* R2 to all; R3, R4 to the new peers */
}

static void record_reshare(const char *config, uint8_t round, edge_fn want)
{
    static rec_box box;
    tss_reshare *st[NMAX + 1] = {0};
    test_rng rng[NMAX + 1];
    const uint16_t set[4] = {1, 2, 3, 4};
    size_t first = ncases;
    memset(box, 0, sizeof box);
    reshare_input();
    for (uint16_t i = 1; i <= 4; i++) {
        tss_reshare_params p = rs_params;
        p.index = i <= 3 ? (uint8_t)i : 0;
        p.dealer = i == 1 ? 1 : i == 4 ? 2 : 0;
        p.share = p.dealer ? rs_secret[p.dealer - 1] : NULL;
        p.bans = party_bans(i);
        test_rng_init(&rng[i], 600 + i);
        tss_msgs out = {0};
        tss_err err = tss_reshare_new(&st[i], &p, &rng[i].rng);
        if (err != TSS_OK || (err = tss_reshare_start(st[i], &out)) != TSS_OK)
            die("start", config, err);
        keep(box, &out, i);
    }
    for (uint8_t r = 1; r <= 4; r++) {
        for (uint16_t i = 1; i <= 4; i++) {
            for (uint16_t j = 1; r == round && j <= 4; j++) {
                if (j == i || box[r][j][i].data == NULL || !want(i, j))
                    continue;
                fz_case *c = snapshot(TSS_PROTO_RESHARE, config, st[i], box, r, i, j, set, 4);
                c->final = i == 4 ? r == 2 : r == 4;
                c->next_count = reshare_next(i, r);
                reshare_fields(c);
                if (c->fields[c->nfields - 1].type == FZ_OTQ) /* from the pair's Alice */
                    reshare_ot_sid(c->ot_sid, c->msg + TSS_MSG_HEADER_BYTES, j, i);
            }
            deliver_round(TSS_PROTO_RESHARE, config, st[i], box, r, i, set, 4);
        }
    }
    uint8_t fp[NMAX + 1][32];
    memset(fp, 0, sizeof fp);
    for (uint16_t i = 1; i <= 4; i++) {
        if (tss_reshare_status(st[i]) != TSS_DONE)
            die("honest reshare did not finish", config, TSS_ERR_STATE);
        tss_keyshare *ks = tss_reshare_take_keyshare(st[i]);
        if ((ks == NULL) != (i == 4))
            die("honest reshare: key shares", config, TSS_ERR_STATE);
        if (ks != NULL)
            tss_keyshare_fingerprint(fp[i], ks);
        tss_keyshare_free(ks);
    }
    for (size_t k = first; k < ncases; k++)
        memcpy(cases[k].expect, fp[cases[k].to], 32);
    for (uint16_t i = 1; i <= 4; i++)
        tss_reshare_free(st[i]);
}

const tss_identity *fuzz_round_identity(uint8_t proto, uint16_t who)
{
    static tss_identity sim[4];
    if (proto == TSS_PROTO_RESHARE)
        return who >= 1 && who <= 4 ? &rs_ids[who] : NULL;
    if (who < 1 || who > 3)
        return NULL;
    sim_identity(&sim[who], who);
    return &sim[who];
}

static int any_edge(uint16_t to, uint16_t from)
{
    (void)to, (void)from;
    return 1;
}

/* In a 2-party DKG, party 1 is the pair's Alice: after round 1 it starts the base OTs
 * (15 ms whatever the input, since round 1 has nothing to check), so round 1 is fuzzed
 * at party 2 only. */
static int to_bob(uint16_t to, uint16_t from)
{
    (void)from;
    return to == 2;
}

/* At exit, before LeakSanitizer looks: the snapshots live in secure memory, which it
 * does not scan, so the buffers they own would look leaked. */
static void release(void)
{
    for (size_t k = 0; k < ncases; k++) {
        if (cases[k].proto == TSS_PROTO_DKG)
            tss_dkg_free(cases[k].snap);
        else if (cases[k].proto == TSS_PROTO_RESHARE)
            tss_reshare_free(cases[k].snap);
        else
            tss_sign_free(cases[k].snap);
    }
    ncases = 0;
    for (int i = 0; i <= NMAX; i++) { /* after the states that use them */
        tss_banlist_free(fz_bans[i]);
        fz_bans[i] = NULL;
    }
}

const fz_case *fuzz_round_cases(uint8_t proto, uint8_t round, size_t *count)
{
    static const uint16_t s12[] = {1, 2}, s23[] = {2, 3}, s123[] = {1, 2, 3};
    if (ncases == 0) {
        test_rng_init(&fz_rng, 1);
        atexit(release);
        if (proto == TSS_PROTO_RESHARE) {
            record_reshare("reshare 2-of-3 -> 2-of-3, a dealer leaves, a party joins", round,
                           any_edge);
        } else if (proto == TSS_PROTO_DKG) {
            record_dkg("dkg 2-of-2", 2, 2, round, round == 1 ? to_bob : any_edge);
            if (round == 4)
                record_dkg("dkg 2-of-3", 2, 3, round, any_edge);
        } else {
            record_sign("sign 2-of-3 {1,2}", 2, 3, s12, 2, 0, 0, round, any_edge);
            record_sign("sign 2-of-3 {2,3} presign m/1/8", 2, 3, s23, 2, 1, 2, round, any_edge);
            if (round != 1)
                record_sign("sign 3-of-3", 3, 3, s123, 3, 0, 0, round, any_edge);
        }
    }
    *count = ncases;
    return cases;
}

const uint8_t *const *fuzz_round_donors(size_t **lens, size_t *count)
{
    *lens = donor_len;
    *count = ndonors;
    return donors;
}
