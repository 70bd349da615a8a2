/* hsm/error.c — descriptions for hsm_err (cause and fix) and the per-thread failure
 * detail. Nothing here ever holds a secret: details name codes, paths and labels only. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const hsm_err_text[HSM_ERR__COUNT] = {
    [HSM_OK] = "success",
    [HSM_ERR_ARG] = "invalid argument (a caller broke the API contract)",
    [HSM_ERR_NOMEM] = "out of memory",
    [HSM_ERR_CONFIG] = "sealing configuration is incomplete or invalid: check the [hsm] "
                       "section of the config file",
    [HSM_ERR_UNSUPPORTED] = "unknown sealing backend: use tpm2, pkcs11 or soft",
    [HSM_ERR_INSECURE_REFUSED] =
        "soft backend refused: it keeps the key in a file and is for development only; set "
        "allow_insecure_soft_backend = yes to use it anyway, or configure tpm2 or pkcs11",
    [HSM_ERR_KEY_FILE] = "soft key file missing, unreadable or not exactly 32 bytes: run "
                         "node init to create it",
    [HSM_ERR_FILE_PERMS] = "key or PIN file is accessible by group or others (or is not a "
                           "regular file): chmod 600 it and make the service user own it",
    [HSM_ERR_FORMAT] = "sealed blob is truncated or malformed: the stored copy is damaged",
    [HSM_ERR_VERSION] = "sealed blob has an unknown format version: upgrade mpc-signer",
    [HSM_ERR_WRONG_BACKEND] = "sealed blob was made by another backend kind: configure the "
                              "backend that sealed it (see hsm_blob_kind)",
    [HSM_ERR_WRONG_NODE] = "sealed blob belongs to another node (different TPM, token key or "
                           "key file): it can only be opened there",
    [HSM_ERR_TAMPERED] = "sealed blob failed authentication: it was modified, or the key id, "
                         "party id or format version (aad) differ from sealing",
    [HSM_ERR_TOO_LARGE] = "plaintext or associated data exceeds the sealing limit",
    [HSM_ERR_CRYPTO] = "cryptographic library failure",
    [HSM_ERR_RAND] = "random number generator failed",
    [HSM_ERR_MODULE] = "PKCS#11 module cannot be loaded: check the module path and that the "
                       "package providing it is installed",
    [HSM_ERR_TOKEN_NOT_FOUND] = "no PKCS#11 token with the configured label: check that the "
                                "HSM is connected and the token label is right",
    [HSM_ERR_PIN_INCORRECT] = "the token refused the PIN: check the PIN file (repeated "
                              "failures may lock the token)",
    [HSM_ERR_PIN_LOCKED] = "the token's user PIN is locked: unlock it with the SO PIN",
    [HSM_ERR_PIN_FILE] = "PIN file missing, unreadable or empty: check pin_file or the "
                         "systemd credential",
    [HSM_ERR_KEY_NOT_FOUND] = "no P-256 private key matching the configured label, id or URI "
                              "in the token: generate one or fix the key selector",
    [HSM_ERR_TOKEN] = "the PKCS#11 token failed an operation",
    [HSM_ERR_TPM_UNAVAILABLE] = "cannot reach the TPM: check the tcti setting, that the "
                                "device exists and that the service is in group tss",
    [HSM_ERR_TPM] = "the TPM refused a command",
    [HSM_ERR_TPM_PRIMARY] = "the TPM's storage primary differs from the one pinned at node "
                            "init: wrong TPM, cleared owner hierarchy or wrong config",
    [HSM_ERR_TPM_AUTH] = "the TPM refused the auth value of the sealed object: check the "
                         "auth credential",
    [HSM_ERR_TPM_LOCKOUT] = "the TPM is in dictionary-attack lockout: wait for recovery or "
                            "reset it with the lockout auth",
    [HSM_ERR_PCR_POLICY] = "PCR values differ from those the blob was sealed to (firmware, "
                           "boot chain or a PCR extend changed them)",
};

const char *hsm_strerror(hsm_err err)
{
    if ((unsigned)err >= HSM_ERR__COUNT || hsm_err_text[err] == NULL)
        return "unknown hsm error";
    return hsm_err_text[err];
}

static _Thread_local char hsm_detail_buf[256];

const char *hsm_last_detail(void)
{
    return hsm_detail_buf;
}

void hsm_detail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hsm_detail_buf, sizeof hsm_detail_buf, fmt, ap);
    va_end(ap);
}

void hsm_detail_clear(void)
{
    hsm_detail_buf[0] = '\0';
}

void hsm_log(hsm_log_fn fn, void *arg, hsm_log_level level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fn != NULL)
        fn(arg, level, msg);
    else
        fprintf(stderr, "hsm: %s: %s\n", level == HSM_LOG_WARNING ? "warning" : "info", msg);
}
