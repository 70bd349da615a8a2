/* tss/fuzz/fuzz_round.h — recorded honest transcripts for the round fuzz targets.
 * fuzz_round_cases() runs the DKG, a signature or a reshare among in-process parties with
 * deterministic randomness and keeps, for every (recipient, sender) edge of the round
 * under test, a deep copy of the recipient's state just before the sender's message
 * completes that round, the honest message itself and a map of its fields. The harness
 * (fuzz_round.c) mutates the message along that map and delivers it to a fresh copy. */
#ifndef FUZZ_ROUND_H
#define FUZZ_ROUND_H

#include <stddef.h>
#include <stdint.h>

#include "tss/dkg.h"
#include "tss/reshare.h"
#include "tss/sign.h"

enum { FZ_BYTES, FZ_POINT, FZ_SCALAR, FZ_OTQ }; /* FZ_OTQ: base-OT message 1 (Q_0, Q_1)[256] */

typedef struct {
    const char *name;
    size_t off, len; /* in the payload */
    size_t elem;     /* element size (33 points, 32 scalars, 1 bytes) */
    int type;
    int later; /* read only by a later round: the edit shows there, not in this round */
} fz_field;

#define FZ_MAX_FIELDS 24

typedef struct {
    uint8_t proto, round;
    uint16_t to, from;
    const char *config; /* "dkg 2-of-2", "sign 2-of-3 {1,2} presign", ... */
    void *snap;   /* tss_dkg *, tss_sign * or tss_reshare *: the recipient, one message short */
    uint8_t *msg; /* the honest message from -> to (header + payload) */
    size_t len;
    fz_field fields[FZ_MAX_FIELDS];
    size_t nfields;
    uint8_t now[FZ_MAX_FIELDS]; /* the fields this round reads (all if none) */
    size_t nnow;
    int final;          /* the round under test ends the protocol */
    int presign;        /* signing: the state stops after round 2 (finish with hash) */
    uint8_t hash[32];   /* signing: the message hash */
    uint8_t expect[64]; /* final round: key-share fingerprint, or signature r || s */
    uint8_t ot_sid[32]; /* DKG round 2 from the pair's Alice: the base-OT sid */
    size_t next_count;  /* messages an honest delivery emits */
} fz_case;

/* What the ban lists' persist callback saw (fz_banned, reset by the harness per run). */
typedef struct {
    unsigned count;
    uint8_t fp[32];
    tss_err reason;
} fz_ban_seen;

extern fz_ban_seen fz_banned;
extern tss_banlist *fz_bans[TSS_MAX_PARTIES + 1];

/* The cases for (proto, round): built once, kept for the process. Aborts the process if
 * the honest transcript fails (a harness or library bug, not a finding of the input). */
const fz_case *fuzz_round_cases(uint8_t proto, uint8_t round, size_t *count);

/* The pinned identity of participant `who` of the recorded transcripts (1..4: the DKG's
 * and signing's parties 1..3; the reshare's participants 1..4, tss/reshare.h numbering),
 * NULL outside. */
const tss_identity *fuzz_round_identity(uint8_t proto, uint16_t who);

/* Every honest message of the recorded transcripts (donors for splicing). */
const uint8_t *const *fuzz_round_donors(size_t **lens, size_t *count);

#endif
