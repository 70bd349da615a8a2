/* tss/error.h — the error codes of the threshold library.
 * Every fallible tss_ function returns a tss_err; tss_strerror names the cause. Protocol
 * aborts (with a culprit) are reported separately by the state machines; this enum is for
 * the reason. */
#ifndef TSS_ERROR_H
#define TSS_ERROR_H

typedef enum {
    TSS_OK = 0,
    TSS_ERR_ARG,           /* a caller broke a documented precondition */
    TSS_ERR_RANGE,         /* a 32-byte scalar encoding is >= the group order */
    TSS_ERR_ZERO,          /* a scalar that must be non-zero is zero */
    TSS_ERR_POINT,         /* a point encoding is malformed or not on the curve */
    TSS_ERR_INFINITY,      /* a computation produced the point at infinity */
    TSS_ERR_RAND,          /* the random source failed */
    TSS_ERR_NOMEM,         /* an allocation failed */
    TSS_ERR_LENGTH,        /* a message or encoding has the wrong length */
    TSS_ERR_FORMAT,        /* a message or encoding is malformed (magic, version, field) */
    TSS_ERR_COMMITMENT,    /* a commitment opening does not verify */
    TSS_ERR_PROOF,         /* a zero-knowledge proof does not verify */
    TSS_ERR_SHARE,         /* a secret share fails its Feldman check */
    TSS_ERR_MISMATCH,      /* parties disagree on a value that must be common */
    TSS_ERR_ROUND,         /* a message is for another round, duplicated or out of order */
    TSS_ERR_PARTY,         /* a message is from or to a party outside the set */
    TSS_ERR_SESSION,       /* a message carries another session id */
    TSS_ERR_STATE,         /* the state machine is finished or aborted */
    TSS_ERR_OT_CHECK,      /* an OT-extension consistency check failed (ban) */
    TSS_ERR_VOLE_CHECK,    /* a VOLE consistency check failed (ban) */
    TSS_ERR_SIGN_CHECK,    /* a signing consistency check (Gamma, pk sum) failed */
    TSS_ERR_SIGNATURE,     /* the combined signature does not verify */
    TSS_ERR_PARAMS,        /* threshold / party-count / index parameters are out of range */
    TSS_ERR_DERIVATION,    /* a BIP32 path is hardened or derives an invalid key */
    TSS_ERR_USED,          /* a single-use object (presignature, session id) was reused */
    TSS_ERR_HASH_TO_CURVE, /* hash-to-curve found no point (probability 2^-256) */
    TSS_ERR_STORAGE,       /* the caller's store (used session ids, bans) failed to record */
    TSS_ERR_BANNED,        /* a participant is on the ban list (tss/ban.h) */
    TSS_ERR_IDENTITY,      /* the key share has no pinned identities (a version-1 share) */
    TSS_ERR__COUNT
} tss_err;

/* Returns a static, human-readable description of err (never NULL, never secret). */
const char *tss_strerror(tss_err err);

#endif
