/* tss/error.c — descriptions for tss_err. */
#include "error.h"

static const char *const tss_err_text[TSS_ERR__COUNT] = {
    [TSS_OK] = "success",
    [TSS_ERR_ARG] = "invalid argument",
    [TSS_ERR_RANGE] = "scalar encoding is not below the group order",
    [TSS_ERR_ZERO] = "scalar is zero where a non-zero value is required",
    [TSS_ERR_POINT] = "point encoding is malformed or not on secp256k1",
    [TSS_ERR_INFINITY] = "computation produced the point at infinity",
    [TSS_ERR_RAND] = "random source failed",
    [TSS_ERR_NOMEM] = "out of memory",
    [TSS_ERR_LENGTH] = "wrong length",
    [TSS_ERR_FORMAT] = "malformed encoding",
    [TSS_ERR_COMMITMENT] = "commitment opening does not verify",
    [TSS_ERR_PROOF] = "proof of knowledge does not verify",
    [TSS_ERR_SHARE] = "secret share fails the Feldman check",
    [TSS_ERR_MISMATCH] = "parties disagree on a common value",
    [TSS_ERR_ROUND] = "message is out of round, duplicated or out of order",
    [TSS_ERR_PARTY] = "message is from or to a party outside the session",
    [TSS_ERR_SESSION] = "message belongs to another session",
    [TSS_ERR_STATE] = "protocol state is finished or aborted",
    [TSS_ERR_OT_CHECK] = "OT-extension consistency check failed",
    [TSS_ERR_VOLE_CHECK] = "VOLE consistency check failed",
    [TSS_ERR_SIGN_CHECK] = "signing consistency check failed",
    [TSS_ERR_SIGNATURE] = "combined signature does not verify",
    [TSS_ERR_PARAMS] = "threshold, party count or index out of range",
    [TSS_ERR_DERIVATION] = "derivation path is hardened or invalid",
    [TSS_ERR_USED] = "single-use value was already used",
    [TSS_ERR_HASH_TO_CURVE] = "hash-to-curve found no curve point",
    [TSS_ERR_STORAGE] = "the caller's store could not record a used session id or a ban "
                        "(nothing was sent)",
    [TSS_ERR_BANNED] = "a participant is banned (it failed an OT-extension, VOLE or Gamma check "
                       "on an authenticated message); only an operator can lift the ban",
    [TSS_ERR_IDENTITY] = "the key share has no pinned identities (a version-1 share): set them "
                         "with tss_keyshare_set_identities before signing",
};

const char *tss_strerror(tss_err err)
{
    if ((unsigned)err >= TSS_ERR__COUNT || tss_err_text[err] == 0)
        return "unknown tss error";
    return tss_err_text[err];
}
