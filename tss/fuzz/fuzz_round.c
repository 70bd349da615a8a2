/* tss/fuzz/fuzz_round.c — structure-aware libFuzzer target for one round of the DKG, of
 * signing or of a reshare, chosen at build time (FUZZ_PROTO 1 = DKG, 2 = signing,
 * 3 = reshare; FUZZ_ROUND).
 *
 * It starts from recorded honest transcripts (fuzz_record.c): for every edge (recipient,
 * sender) of the round, a copy of the recipient just before the sender's message would
 * complete the round, and that honest message. The input picks an edge and lists edits:
 *   byte 0              bits 0-4: edge (modulo the number of recorded edges); bits 5-7
 *                       all set: afterwards deliver the honest message too
 *   then 5-byte ops     kind, field, position (2 bytes, big-endian), value
 * with fields taken from the message's layout (fuzz_record.c), so edits land on points,
 * scalars, commitments, proofs and OT blocks alike instead of mostly on the largest block.
 * Fields that only a later round reads (commitments opened there) are left to kind 7.
 * Kinds (modulo 8): 0 xor a byte, 1 set a byte, 2 a special value for the field's type
 * (valid and invalid points; 0, 1, n-1, n, 2^256-1, -x, x+1, 2x for scalars; all-zero or
 * all-one bytes; M_b = infinity or an invalid point in base-OT message 1), 3 splice the
 * same range from another honest message, 4 a header field, 5 truncate or extend the
 * payload (header adjusted), 6 swap two elements of a field (not in base-OT message 1,
 * see special_otq), 7 xor a byte anywhere in the payload (no field map).
 * The mutated message goes to a fresh copy of the snapshot, with the generator re-seeded,
 * so every run is reproducible.
 *
 * Besides ASan/UBSan/LSan, every run checks: an accepted message never aborts; a
 * rejection leaves the state running, and the honest message then still completes the
 * round as recorded; an abort names nobody or the sender of the altered message (the
 * others are honest), a ban names someone and is persisted and listed before the call
 * returns, nothing else bans, and an abort emits nothing; the unaltered
 * message completes the round with the recorded outcome (key-share fingerprint,
 * signature), and any finished run has that outcome; whatever is emitted has a well-formed
 * header for the next round. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_round.h"
#include "test_rng.h"
#include "tss/baseot.h"
#include "tss/testing.h"
#include "tss_sim.h"

#if !defined(FUZZ_PROTO) || !defined(FUZZ_ROUND)
#error "build with -DFUZZ_PROTO=1|2|3 -DFUZZ_ROUND=r"
#endif

#define OP_BYTES 5
#define MAX_OPS  8

extern test_rng fz_rng;

static const fz_case *cases;
static size_t ncases;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail(c, #cond, __LINE__, err);                                                         \
    } while (0)

static void fail(const fz_case *c, const char *what, int line, tss_err err)
{
    fprintf(stderr, "fuzz_round: %s round %u, %u -> %u: check failed (line %d): %s [%s]\n",
            c->config, c->round, c->from, c->to, line, what, tss_strerror(err));
    abort();
}

/* ---- the party under test, through one interface ---- */

static tss_err receive(const fz_case *c, void *st, const uint8_t *m, size_t l, tss_msgs *out)
{
    if (c->proto == TSS_PROTO_RESHARE)
        return tss_reshare_receive(st, m, l, out);
    return c->proto == TSS_PROTO_DKG ? tss_dkg_receive(st, m, l, out)
                                     : tss_sign_receive(st, m, l, out);
}

static tss_status status(const fz_case *c, const void *st)
{
    if (c->proto == TSS_PROTO_RESHARE)
        return tss_reshare_status(st);
    return c->proto == TSS_PROTO_DKG ? tss_dkg_status(st) : tss_sign_status(st);
}

static const tss_abort_info *abort_info(const fz_case *c, const void *st)
{
    if (c->proto == TSS_PROTO_RESHARE)
        return tss_reshare_abort_info(st);
    return c->proto == TSS_PROTO_DKG ? tss_dkg_abort_info(st) : tss_sign_abort_info(st);
}

static void state_free(const fz_case *c, void *st)
{
    if (c->proto == TSS_PROTO_DKG)
        tss_dkg_free(st);
    else if (c->proto == TSS_PROTO_RESHARE)
        tss_reshare_free(st);
    else
        tss_sign_free(st);
}

static void *state_copy(const fz_case *c)
{
    void *st = NULL;
    tss_err err = c->proto == TSS_PROTO_RESHARE
                      ? tss_reshare_clone((tss_reshare **)&st, c->snap, NULL)
                  : c->proto == TSS_PROTO_DKG ? tss_dkg_clone((tss_dkg **)&st, c->snap, NULL)
                                              : tss_sign_clone((tss_sign **)&st, c->snap, NULL);
    CHECK(err == TSS_OK);
    return st;
}

/* ---- mutations ---- */

static uint8_t special_point[8][33]; /* G, 2G, -G, 3G, then invalid encodings */

static void init_points(void)
{
    static const int64_t k[4] = {1, 2, -1, 3};
    for (int i = 0; i < 4; i++) {
        tss_scalar s;
        tss_point p;
        tss_scalar_set_u64(&s, (uint64_t)(k[i] < 0 ? -k[i] : k[i]));
        if (k[i] < 0)
            tss_scalar_negate(&s, &s);
        if (tss_point_base_mul(&p, &s) != TSS_OK)
            abort();
        tss_point_serialize(special_point[i], &p);
    }
    memset(special_point[4], 0, 33); /* no point (infinity has no encoding) */
    memcpy(special_point[5], special_point[0], 33);
    special_point[5][0] = 0x04;         /* bad prefix */
    memset(special_point[6], 0xff, 33); /* x >= p */
    special_point[6][0] = 0x02;
    memcpy(special_point[7], special_point[0], 33);
    special_point[7][32] ^= 1; /* x off the curve, most likely */
}

static void special_scalar(uint8_t *x, uint8_t v)
{
    static const uint8_t n_be[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                     0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                     0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    tss_scalar s, one;
    tss_scalar_set_u64(&one, 1);
    switch (v % 8) {
    case 0: /* 0 */
        memset(x, 0, 32);
        break;
    case 1: /* 1 */
        memset(x, 0, 32);
        x[31] = 1;
        break;
    case 2: /* n - 1 */
        memcpy(x, n_be, 32);
        x[31] -= 1;
        break;
    case 3: /* n: out of range */
        memcpy(x, n_be, 32);
        break;
    case 4: /* 2^256 - 1 */
        memset(x, 0xff, 32);
        break;
    default: /* -x, x + 1, 2x of the current value when it parses */
        if (tss_scalar_parse(&s, x) != TSS_OK)
            return;
        if (v % 8 == 5)
            tss_scalar_negate(&s, &s);
        else if (v % 8 == 6)
            tss_scalar_add(&s, &s, &one);
        else
            tss_scalar_add(&s, &s, &s);
        tss_scalar_serialize(x, &s);
    }
}

/* Base-OT message 1, instance l, slot b: the values the sender must catch. Valid but
 * different points (equal or swapped slots, fixed points) are not among them: the base OT
 * cannot detect those by design, so they only repeat the honest run's 50 ms of work;
 * byte edits still produce some. */
static void special_otq(const fz_case *c, uint8_t *q, size_t l, uint8_t v)
{
    uint8_t(*slot)[33] = (uint8_t(*)[33])(q + 66 * l);
    int b = v & 1;
    tss_point h, m;
    if (v & 2) { /* an invalid encoding */
        memcpy(slot[b], special_point[4 + (v >> 2) % 4], 33);
        return;
    }
    /* Q_b = -H2C(sid, l, b, Q_{1-b}), so M_b = Q_b + H2C(...) = infinity */
    if (tss_baseot_h2c(&h, c->ot_sid, (uint32_t)l, (uint32_t)b, slot[1 - b]) != TSS_OK)
        return;
    tss_point_negate(&m, &h);
    tss_point_serialize(slot[b], &m);
}

static const uint8_t *donor(uint8_t v, size_t *len)
{
    size_t *lens, count;
    const uint8_t *const *d = fuzz_round_donors(&lens, &count);
    if (count == 0)
        return NULL;
    *len = lens[v % count];
    return d[v % count];
}

static void set_len(uint8_t *msg, size_t plen)
{
    msg[40] = (uint8_t)(plen >> 24), msg[41] = (uint8_t)(plen >> 16);
    msg[42] = (uint8_t)(plen >> 8), msg[43] = (uint8_t)plen;
}

static void header_op(uint8_t *msg, uint8_t which, uint8_t pos, uint8_t v)
{
    switch (which % 8) {
    case 0:
        msg[0] = v; /* protocol */
        break;
    case 1:
        msg[1] = v; /* version */
        break;
    case 2:
        msg[2] = (uint8_t)(v % 6); /* round */
        break;
    case 3:
        msg[3] ^= v; /* flags */
        break;
    case 4:
        msg[5] = (uint8_t)(v % 5); /* from (low byte) */
        break;
    case 5:
        msg[7] = (uint8_t)(v % 5); /* to (low byte) */
        break;
    case 6:
        msg[8 + pos % 32] ^= v ? v : 1; /* session id */
        break;
    default:
        msg[43] += v; /* payload length field only */
    }
}

typedef struct {
    uint8_t *msg;
    size_t len, cap;
    int then_honest;
} fz_input;

static void apply_op(const fz_case *c, fz_input *in, const uint8_t op[OP_BYTES])
{
    uint8_t kind = op[0] % 8, v = op[4];
    const fz_field *f = &c->fields[c->nnow ? c->now[op[1] % c->nnow] : op[1] % c->nfields];
    size_t pos = ((size_t)op[2] << 8 | op[3]) % f->len;
    size_t plen = in->len - TSS_MSG_HEADER_BYTES;
    uint8_t *p = in->msg + TSS_MSG_HEADER_BYTES;
    if (kind != 4 && kind != 5 && f->off + f->len > plen)
        return; /* the payload was truncated by an earlier op */
    uint8_t *fp = p + f->off, *e = fp + pos - pos % f->elem;
    switch (kind) {
    case 0:
        fp[pos] ^= v ? v : 0x80;
        break;
    case 1:
        fp[pos] = v;
        break;
    case 2:
        if (f->type == FZ_POINT)
            memcpy(e, special_point[v % 8], 33);
        else if (f->type == FZ_SCALAR)
            special_scalar(e, v);
        else if (f->type == FZ_OTQ)
            special_otq(c, fp, pos / 66, v);
        else
            memset(fp, (v & 1) ? 0xff : 0, f->len);
        break;
    case 3: {
        size_t dlen;
        const uint8_t *d = donor(v, &dlen);
        size_t at = TSS_MSG_HEADER_BYTES + f->off;
        if (d != NULL && at < dlen)
            memcpy(fp, d + at, dlen - at < f->len ? dlen - at : f->len);
        break;
    }
    case 4:
        header_op(in->msg, op[1], op[2], v);
        break;
    case 5:
        if (v & 1) { /* truncate */
            in->len = TSS_MSG_HEADER_BYTES + pos % (plen + 1);
        } else { /* extend with zeros */
            size_t add = 1 + v / 2;
            if (in->len + add > in->cap)
                return;
            memset(in->msg + in->len, 0, add);
            in->len += add;
        }
        set_len(in->msg, in->len - TSS_MSG_HEADER_BYTES);
        break;
    case 6: { /* swap two elements of the field */
        size_t count = f->len / f->elem, a = pos / f->elem % count, b = v % count;
        uint8_t tmp[33];
        size_t el = f->elem; /* base-OT points: swaps pass by design, see special_otq */
        if (f->type == FZ_OTQ || el > sizeof tmp || a == b)
            return;
        memcpy(tmp, fp + a * el, el);
        memcpy(fp + a * el, fp + b * el, el);
        memcpy(fp + b * el, tmp, el);
        break;
    }
    default:
        p[((size_t)op[2] << 8 | op[3]) % plen] ^= v ? v : 0x80;
    }
}

/* ---- the checks ---- */

static int rejection(tss_err e)
{
    return e == TSS_ERR_LENGTH || e == TSS_ERR_FORMAT || e == TSS_ERR_ROUND || e == TSS_ERR_PARTY ||
           e == TSS_ERR_SESSION || e == TSS_ERR_STATE;
}

/* What a delivery emitted: well-formed messages of the next round from the recipient. */
static void check_out(const fz_case *c, const tss_msgs *out, tss_err err)
{
    for (size_t k = 0; k < out->count; k++) {
        tss_msg_header h;
        CHECK(tss_msg_parse_header(&h, out->items[k].data, out->items[k].len) == TSS_OK);
        /* round r + 2 too: an altered round byte may have buffered the message early */
        CHECK(h.protocol == c->proto && h.from == c->to && h.round > c->round &&
              h.round <= c->round + 2);
    }
}

/* A finished run has the recorded outcome. */
static void check_done(const fz_case *c, void *st, tss_err err)
{
    if (c->proto == TSS_PROTO_RESHARE) {
        tss_keyshare *ks = tss_reshare_take_keyshare(st);
        uint8_t fp[32];
        CHECK((ks == NULL) == (c->to == 4)); /* participant 4 only deals */
        if (ks == NULL)
            return;
        tss_keyshare_fingerprint(fp, ks);
        tss_keyshare_free(ks);
        CHECK(memcmp(fp, c->expect, 32) == 0);
    } else if (c->proto == TSS_PROTO_DKG) {
        tss_keyshare *ks = tss_dkg_take_keyshare(st);
        uint8_t fp[32];
        CHECK(ks != NULL);
        tss_keyshare_fingerprint(fp, ks);
        tss_keyshare_free(ks);
        CHECK(memcmp(fp, c->expect, 32) == 0);
    } else {
        tss_signature sig;
        CHECK(tss_sign_result(st, &sig, NULL) == TSS_OK);
        CHECK(memcmp(sig.r, c->expect, 32) == 0 && memcmp(sig.s, c->expect + 32, 32) == 0);
    }
}

static tss_identity identity[5]; /* of participants 1..4, as the recording pins them */

/* A ban-class abort has banned (persisted, then listed) the culprit before returning;
 * nothing else bans. */
static void check_ban(const fz_case *c, const tss_abort_info *ai, tss_err err)
{
    if (!ai->ban) {
        CHECK(fz_banned.count == 0);
        return;
    }
    CHECK(c->proto != TSS_PROTO_DKG);                             /* the DKG bans nobody */
    CHECK(c->proto == TSS_PROTO_SIGN || err == TSS_ERR_OT_CHECK); /* reshare: bootstrap OT */
    CHECK(ai->culprit >= 1 && ai->culprit <= 4 && identity[ai->culprit].party_id[0] != 0 &&
          fz_banned.count == 1);
    CHECK(memcmp(fz_banned.fp, identity[ai->culprit].fp, 32) == 0 && fz_banned.reason == err);
    CHECK(tss_banlist_contains(fz_bans[c->to], identity[ai->culprit].fp));
}

/* Delivers msg; checks the outcome. Returns the error. */
static tss_err deliver(const fz_case *c, void *st, const uint8_t *msg, size_t len, int honest)
{
    /* whom an abort may name: the edge's sender, or whoever the (altered) header claims
     * to be, since the transport authenticates senders and the library trusts it */
    uint16_t claimed = len >= TSS_MSG_HEADER_BYTES ? (uint16_t)(msg[4] << 8 | msg[5]) : 0;
    tss_msgs out = {0};
    tss_status before = status(c, st);
    fz_banned.count = 0;
    tss_err err = receive(c, st, msg, len, &out);
    if (err == TSS_OK && c->proto == TSS_PROTO_SIGN && tss_sign_presigned(st)) {
        CHECK(out.count == 0);
        err = tss_sign_finish(st, c->hash, &out);
    }
    tss_status now = status(c, st);
    if (err == TSS_OK) {
        CHECK(now != TSS_ABORTED);
        check_out(c, &out, err);
    } else if (now == TSS_RUNNING) {
        CHECK(rejection(err)); /* rejected: nothing may have changed */
    } else if (before == TSS_RUNNING) {
        const tss_abort_info *ai = abort_info(c, st);
        CHECK(now == TSS_ABORTED && ai != NULL && ai->reason == err);
        CHECK(out.count == 0); /* nothing produced before the failing check leaves */
        CHECK(ai->culprit == 0 || ai->culprit == c->from ||
              ai->culprit == claimed); /* others honest */
        CHECK(!ai->ban || ai->culprit != 0);
        check_ban(c, ai, err);
    }
    if (honest) {
        CHECK(err == TSS_OK);
        CHECK(out.count == c->next_count);
        CHECK(now == (c->final ? TSS_DONE : TSS_RUNNING));
    }
    if (now == TSS_DONE && before == TSS_RUNNING)
        check_done(c, st, err);
    tss_msgs_free(&out);
    return err;
}

/* FUZZ_ROUND_STATS=1 in the environment: at exit, how runs ended and what they cost
 * (which checks the inputs reach, and where the time goes). */
static struct {
    unsigned long runs;
    double seconds;
} outcome[3][TSS_ERR__COUNT]; /* [rejected, aborted, accepted][error] */
static int stats = -1;

/* Under libFuzzer (which calls LLVMFuzzerInitialize; replay.c does not), the unaltered
 * message is delivered once per edge: the run is deterministic (same snapshot, same
 * seed), so repeating it, up to 50 ms of base OTs each time, would find nothing new. */
static int memo;
static unsigned char honest_done[32];
static uint64_t then_done[32]; /* per edge: bit e set once 'then honest' ran after error e */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    memo = 1;
    return 0;
}

static void print_stats(void)
{
    static const char *kind[3] = {"rejected", "aborted", "accepted"};
    for (int k = 0; k < 3; k++)
        for (int e = 0; e < TSS_ERR__COUNT; e++)
            if (outcome[k][e].runs > 0)
                fprintf(stderr, "fuzz_round: %-8s %-48s %9lu runs %8.3f ms/run\n", kind[k],
                        tss_strerror((tss_err)e), outcome[k][e].runs,
                        1e3 * outcome[k][e].seconds / (double)outcome[k][e].runs);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void count(const fz_case *c, void *st, tss_err err, double start)
{
    int k = err == TSS_OK ? 2 : status(c, st) == TSS_ABORTED ? 1 : 0;
    outcome[k][err].runs++;
    outcome[k][err].seconds += now_seconds() - start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (stats < 0) {
        const char *env = getenv("FUZZ_ROUND_STATS");
        stats = env != NULL && env[0] == '1';
        if (stats)
            atexit(print_stats);
    }
    double start = stats ? now_seconds() : 0;
    if (cases == NULL) {
        cases = fuzz_round_cases(FUZZ_PROTO, FUZZ_ROUND, &ncases);
        init_points();
        for (uint16_t i = 1; i <= 4; i++) {
            const tss_identity *id = fuzz_round_identity(FUZZ_PROTO, i);
            if (id != NULL)
                identity[i] = *id;
        }
    }
    const fz_case *c = &cases[size > 0 ? (data[0] & 0x1f) % ncases : 0];
    fz_input in = {0};
    /* 1 in 8: the honest message after the altered one. Rare, because after a rejection
     * it costs a full honest round, which for some edges is 50 ms of base OTs. */
    in.then_honest = size > 0 && (data[0] >> 5) == 7;
    tss_err err = TSS_OK;
    in.cap = c->len + 256;
    if ((in.msg = malloc(in.cap)) == NULL)
        return 0;
    memcpy(in.msg, c->msg, c->len);
    in.len = c->len;
    for (size_t k = 1; k + OP_BYTES <= size && k < 1 + MAX_OPS * OP_BYTES; k += OP_BYTES)
        apply_op(c, &in, data + k);

    int same = in.len == c->len && memcmp(in.msg, c->msg, c->len) == 0;
    size_t edge = (size_t)(c - cases);
    if (same && !in.then_honest && memo && edge < sizeof honest_done) {
        if (honest_done[edge]) {
            free(in.msg);
            return 0;
        }
        honest_done[edge] = 1;
    }
    test_rng_init(&fz_rng, 1);
    void *st = state_copy(c);
    err = deliver(c, st, in.msg, in.len, same);
    /* after a rejection, the honest message once per (edge, reason) under libFuzzer: it
     * costs a full round, and the rejection paths, not their repetitions, are the news */
    if (in.then_honest && memo && status(c, st) == TSS_RUNNING && rejection(err) &&
        edge < sizeof honest_done) {
        if ((then_done[edge] >> err) & 1)
            in.then_honest = 0;
        then_done[edge] |= 1ULL << err;
    }
    if (in.then_honest) {
        tss_status was = status(c, st);
        tss_err e2 = deliver(c, st, c->msg, c->len, was == TSS_RUNNING && rejection(err));
        if (was != TSS_RUNNING)
            CHECK(e2 == TSS_ERR_STATE);
    }
    if (stats)
        count(c, st, err, start);
    state_free(c, st);
    free(in.msg);
    for (uint16_t i = 1; i <= 4; i++) /* the next run starts with no bans */
        if (identity[i].party_id[0] != 0)
            tss_banlist_lift(fz_bans[c->to], identity[i].fp);
    return 0;
}
