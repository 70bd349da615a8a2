/* hsm/tpm2.c — the TPM 2.0 backend (tpm2-tss ESYS): the data key is the sensitive data of
 * a keyedhash object sealed under the owner hierarchy's ECC P-256 storage primary.
 *
 * Every operation connects through the TCTI, loads the primary, refuses it unless its name
 * is the one pinned at node init, runs its commands in a salted (primary as salt key)
 * AES-128-CFB parameter-encrypted HMAC session, and flushes every transient handle on
 * every path before disconnecting. Connecting per operation costs about a millisecond and
 * means no handle or session can outlive a call, a TPM restart needs no recovery, and other
 * clients (tpm2-tools, a second process on swtpm) can use the TPM between calls.
 *
 * The primary is opened at the configured persistent handle, or made from its template
 * once and then kept as a SAVED CONTEXT (TPM2_ContextSave): the next operation loads that
 * context (TPM2_ContextLoad, a symmetric integrity check inside the TPM) instead of
 * re-deriving the ECC key from the owner seed with TPM2_CreatePrimary, which is the slow
 * part on real TPMs (tens of milliseconds). The saved context is only loadable by the same
 * TPM until its next reset (the TPM's context-integrity key changes), and it is encrypted
 * by the TPM; a load that fails for any reason drops it and falls back to CreatePrimary,
 * so a TPM restart costs one slow operation, never an error. The pinned-name check runs
 * either way. Nothing stays loaded in the TPM between operations.
 *
 * Optional PCR policy (off by default; see DESIGN.md): PolicyPCR(sha256 mask) +
 * PolicyAuthValue, unsealed in a salted policy session replaying both.
 *
 * Wrap record (big-endian):
 *   u8 version (1) | u8 flags (bit 0: PCR policy) | u32 pcr_mask |
 *   u8 name_len | primary name | u16 pub_len | TPM2B_PUBLIC | u16 priv_len | TPM2B_PRIVATE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "internal.h"
#include "tss/secmem.h"

#define TPM_WRAP_VERSION 1
#define TPM_FLAG_PCR     0x01
#define TPM_NAME_MAX     sizeof(TPMU_NAME)

typedef struct {
    char tcti[256];
    uint8_t name[TPM_NAME_MAX]; /* pinned primary name */
    size_t name_len;
    uint32_t persistent;
    TPM2B_AUTH auth; /* derived object auth value (size 0: none) */
    char auth_src[8];
    bool noda;
    uint32_t pcr_mask;
    TPMS_CONTEXT *primary_ctx; /* saved context of the template primary, or NULL (see top) */
} tpm_state;

/* One operation's TPM resources; tpm_end releases whatever is set. */
typedef struct {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR primary, session, policy, object;
    bool primary_persistent;
} tpm_op;

static const TPMT_SYM_DEF tpm_session_sym = {
    .algorithm = TPM2_ALG_AES, .keyBits = {.aes = 128}, .mode = {.aes = TPM2_ALG_CFB}};

/* ---- errors ------------------------------------------------------------------------- */

static hsm_err tpm_fail(const char *what, TSS2_RC rc, hsm_err fallback)
{
    hsm_detail("%s: TPM rc 0x%x (%s)", what, (unsigned)rc, Tss2_RC_Decode(rc));
    if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER)
        return HSM_ERR_TPM_UNAVAILABLE;
    if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
        return HSM_ERR_TPM;
    TSS2_RC base = (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3f)) : (rc & 0xfff);
    switch (base) {
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
        return HSM_ERR_TPM_AUTH;
    case TPM2_RC_LOCKOUT:
        return HSM_ERR_TPM_LOCKOUT;
    default:
        return fallback;
    }
}

/* ---- connection, primary and sessions --------------------------------------------- */

static void tpm_flush(tpm_op *op, ESYS_TR *h)
{
    if (*h != ESYS_TR_NONE)
        (void)Esys_FlushContext(op->esys, *h);
    *h = ESYS_TR_NONE;
}

static void tpm_end(tpm_op *op)
{
    if (op->esys != NULL) {
        tpm_flush(op, &op->object);
        tpm_flush(op, &op->policy);
        tpm_flush(op, &op->session);
        if (op->primary_persistent)
            (void)Esys_TR_Close(op->esys, &op->primary); /* never flush a persistent key */
        else
            tpm_flush(op, &op->primary);
        Esys_Finalize(&op->esys);
    }
    if (op->tcti != NULL)
        Tss2_TctiLdr_Finalize(&op->tcti);
}

static hsm_err tpm_begin(const char *tcti, tpm_op *op)
{
    TSS2_RC rc;
    memset(op, 0, sizeof *op);
    op->primary = op->session = op->policy = op->object = ESYS_TR_NONE;
    if ((rc = Tss2_TctiLdr_Initialize(tcti, &op->tcti)) != TSS2_RC_SUCCESS) {
        hsm_detail("TCTI '%s': rc 0x%x (%s)", tcti, (unsigned)rc, Tss2_RC_Decode(rc));
        op->tcti = NULL;
        return HSM_ERR_TPM_UNAVAILABLE;
    }
    if ((rc = Esys_Initialize(&op->esys, op->tcti, NULL)) != TSS2_RC_SUCCESS) {
        op->esys = NULL;
        hsm_err err = tpm_fail("Esys_Initialize", rc, HSM_ERR_TPM_UNAVAILABLE);
        tpm_end(op);
        return err;
    }
    return HSM_OK;
}

/* The TCG-style ECC P-256 storage key template: same template, same seed → same key. */
static void primary_template(TPM2B_PUBLIC *t)
{
    memset(t, 0, sizeof *t);
    t->publicArea.type = TPM2_ALG_ECC;
    t->publicArea.nameAlg = TPM2_ALG_SHA256;
    t->publicArea.objectAttributes =
        TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
        TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    TPMS_ECC_PARMS *e = &t->publicArea.parameters.eccDetail;
    e->symmetric.algorithm = TPM2_ALG_AES;
    e->symmetric.keyBits.aes = 128;
    e->symmetric.mode.aes = TPM2_ALG_CFB;
    e->scheme.scheme = TPM2_ALG_NULL;
    e->curveID = TPM2_ECC_NIST_P256;
    e->kdf.scheme = TPM2_ALG_NULL;
}

/* Loads the primary (created from the template or opened at the persistent handle) and
 * copies its name out. */
static hsm_err load_primary(tpm_op *op, uint32_t persistent, uint8_t *name, size_t *name_len)
{
    TSS2_RC rc;
    TPM2B_NAME *n = NULL;
    if (persistent != 0) {
        rc = Esys_TR_FromTPMPublic(op->esys, persistent, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &op->primary);
        if (rc != TSS2_RC_SUCCESS) {
            op->primary = ESYS_TR_NONE;
            hsm_err err = tpm_fail("opening the persistent primary", rc, HSM_ERR_TPM_PRIMARY);
            return err;
        }
        op->primary_persistent = true;
    } else {
        TPM2B_SENSITIVE_CREATE in = {0};
        TPM2B_PUBLIC tmpl;
        TPM2B_DATA outside = {0};
        TPML_PCR_SELECTION creation = {0};
        primary_template(&tmpl);
        rc = Esys_CreatePrimary(op->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &in, &tmpl, &outside, &creation, &op->primary, NULL,
                                NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
            op->primary = ESYS_TR_NONE;
            return tpm_fail("Esys_CreatePrimary (owner hierarchy)", rc, HSM_ERR_TPM);
        }
    }
    if ((rc = Esys_TR_GetName(op->esys, op->primary, &n)) != TSS2_RC_SUCCESS)
        return tpm_fail("Esys_TR_GetName", rc, HSM_ERR_TPM);
    *name_len = n->size;
    memcpy(name, n->name, n->size);
    Esys_Free(n);
    return HSM_OK;
}

static void drop_primary_ctx(tpm_state *s)
{
    if (s->primary_ctx != NULL) {
        tss_memzero(s->primary_ctx, sizeof *s->primary_ctx);
        Esys_Free(s->primary_ctx);
        s->primary_ctx = NULL;
    }
}

static int name_is_pinned(const tpm_state *s, tpm_op *op)
{
    TPM2B_NAME *n = NULL;
    if (Esys_TR_GetName(op->esys, op->primary, &n) != TSS2_RC_SUCCESS)
        return 0;
    int ok = n->size == s->name_len && memcmp(n->name, s->name, s->name_len) == 0;
    Esys_Free(n);
    return ok;
}

/* Loads the template primary from its saved context; 1 on success (op->primary set and
 * pinned), else 0 with the context dropped and nothing loaded. */
static int primary_from_ctx(tpm_state *s, tpm_op *op)
{
    if (s->persistent != 0 || s->primary_ctx == NULL)
        return 0;
    if (Esys_ContextLoad(op->esys, s->primary_ctx, &op->primary) != TSS2_RC_SUCCESS) {
        op->primary = ESYS_TR_NONE;
        drop_primary_ctx(s);
        return 0;
    }
    if (!name_is_pinned(s, op)) {
        tpm_flush(op, &op->primary);
        drop_primary_ctx(s);
        return 0;
    }
    return 1;
}

/* Loads the primary and refuses it unless it is the pinned one; keeps a saved context of
 * a template primary for the next operation (see the top of this file). Called under the
 * backend's lock. */
static hsm_err pinned_primary(tpm_state *s, tpm_op *op)
{
    uint8_t name[TPM_NAME_MAX];
    size_t len;
    if (primary_from_ctx(s, op))
        return HSM_OK;
    hsm_err err = load_primary(op, s->persistent, name, &len);
    if (err != HSM_OK)
        return err;
    if (len != s->name_len || memcmp(name, s->name, len) != 0) {
        char hex[2 * TPM_NAME_MAX + 1];
        hsm_hex(hex, name, len);
        hsm_detail("TPM primary name is %s, not the pinned one", hex);
        return HSM_ERR_TPM_PRIMARY;
    }
    if (s->persistent == 0 &&
        Esys_ContextSave(op->esys, op->primary, &s->primary_ctx) != TSS2_RC_SUCCESS)
        s->primary_ctx = NULL; /* only slower next time */
    return HSM_OK;
}

/* A session salted with the primary (the TPM decrypts the salt with it, so nobody on the
 * bus can derive the session key) and AES-128-CFB parameter encryption. */
static hsm_err start_session(tpm_op *op, TPM2_SE type, ESYS_TR *out)
{
    TSS2_RC rc =
        Esys_StartAuthSession(op->esys, op->primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, NULL, type, &tpm_session_sym, TPM2_ALG_SHA256, out);
    if (rc != TSS2_RC_SUCCESS) {
        *out = ESYS_TR_NONE;
        return tpm_fail("Esys_StartAuthSession", rc, HSM_ERR_TPM);
    }
    return HSM_OK;
}

static hsm_err session_attrs(tpm_op *op, ESYS_TR session, TPMA_SESSION attrs)
{
    TSS2_RC rc = Esys_TRSess_SetAttributes(op->esys, session, attrs, 0xff);
    return rc == TSS2_RC_SUCCESS ? HSM_OK : tpm_fail("Esys_TRSess_SetAttributes", rc, HSM_ERR_TPM);
}

static void pcr_selection(uint32_t mask, TPML_PCR_SELECTION *sel)
{
    memset(sel, 0, sizeof *sel);
    sel->count = 1;
    sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel->pcrSelections[0].sizeofSelect = 3;
    for (int i = 0; i < 3; i++)
        sel->pcrSelections[0].pcrSelect[i] = (uint8_t)(mask >> (8 * i));
}

/* PolicyPCR (current values of the masked PCRs) + PolicyAuthValue on session. */
static hsm_err run_policy(tpm_op *op, ESYS_TR session, uint32_t mask)
{
    TPML_PCR_SELECTION sel;
    TPM2B_DIGEST empty = {0};
    TSS2_RC rc;
    pcr_selection(mask, &sel);
    rc = Esys_PolicyPCR(op->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel);
    if (rc != TSS2_RC_SUCCESS)
        return tpm_fail("Esys_PolicyPCR", rc, HSM_ERR_TPM);
    rc = Esys_PolicyAuthValue(op->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
    if (rc != TSS2_RC_SUCCESS)
        return tpm_fail("Esys_PolicyAuthValue", rc, HSM_ERR_TPM);
    return HSM_OK;
}

static hsm_err trial_policy(tpm_op *op, uint32_t mask, TPM2B_DIGEST *digest)
{
    TPMT_SYM_DEF none = {.algorithm = TPM2_ALG_NULL};
    TPM2B_DIGEST *d = NULL;
    TSS2_RC rc = Esys_StartAuthSession(op->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_TRIAL, &none,
                                       TPM2_ALG_SHA256, &op->policy);
    if (rc != TSS2_RC_SUCCESS) {
        op->policy = ESYS_TR_NONE;
        return tpm_fail("Esys_StartAuthSession (trial)", rc, HSM_ERR_TPM);
    }
    hsm_err err = run_policy(op, op->policy, mask);
    if (err != HSM_OK)
        return err;
    rc = Esys_PolicyGetDigest(op->esys, op->policy, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d);
    if (rc != TSS2_RC_SUCCESS)
        return tpm_fail("Esys_PolicyGetDigest", rc, HSM_ERR_TPM);
    *digest = *d;
    Esys_Free(d);
    tpm_flush(op, &op->policy);
    return HSM_OK;
}

/* ---- wrap record ------------------------------------------------------------------- */

static hsm_err encode_wrap(const tpm_state *s, uint8_t flags, const TPM2B_PUBLIC *pub,
                           const TPM2B_PRIVATE *priv, uint8_t **wrap, size_t *wrap_len)
{
    uint8_t pub_buf[sizeof(TPM2B_PUBLIC)], priv_buf[sizeof(TPM2B_PRIVATE)];
    size_t pub_len = 0, priv_len = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, pub_buf, sizeof pub_buf, &pub_len) != 0 ||
        Tss2_MU_TPM2B_PRIVATE_Marshal(priv, priv_buf, sizeof priv_buf, &priv_len) != 0)
        return HSM_ERR_TPM;
    size_t total = 1 + 1 + 4 + 1 + s->name_len + 2 + pub_len + 2 + priv_len;
    uint8_t *w = malloc(total), *p = w;
    if (w == NULL)
        return HSM_ERR_NOMEM;
    *p++ = TPM_WRAP_VERSION;
    *p++ = flags;
    hsm_put32(p, s->pcr_mask);
    p += 4;
    *p++ = (uint8_t)s->name_len;
    memcpy(p, s->name, s->name_len);
    p += s->name_len;
    hsm_put16(p, (uint16_t)pub_len);
    memcpy(p + 2, pub_buf, pub_len);
    p += 2 + pub_len;
    hsm_put16(p, (uint16_t)priv_len);
    memcpy(p + 2, priv_buf, priv_len);
    *wrap = w;
    *wrap_len = total;
    return HSM_OK;
}

typedef struct {
    uint8_t flags;
    uint32_t pcr_mask;
    const uint8_t *name;
    size_t name_len;
    TPM2B_PUBLIC pub;
    TPM2B_PRIVATE priv;
} tpm_wrap;

/* Strict parse: every field length is checked and each TPM structure must unmarshal to
 * exactly its recorded length; flags must agree with the object's attributes. */
static hsm_err decode_wrap(const uint8_t *w, size_t len, tpm_wrap *out)
{
    size_t off = 0, used;
    memset(out, 0, sizeof *out);
    if (len < 7 || w[0] != TPM_WRAP_VERSION || (w[1] & ~TPM_FLAG_PCR) != 0)
        goto bad;
    out->flags = w[1];
    out->pcr_mask = hsm_get32(w + 2);
    out->name_len = w[6];
    off = 7;
    if (out->name_len == 0 || out->name_len > TPM_NAME_MAX || len - off < out->name_len + 2)
        goto bad;
    out->name = w + off;
    off += out->name_len;
    size_t pub_len = hsm_get16(w + off);
    off += 2;
    if (len - off < pub_len + 2)
        goto bad;
    used = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(w + off, pub_len, &used, &out->pub) != 0 || used != pub_len)
        goto bad;
    off += pub_len;
    size_t priv_len = hsm_get16(w + off);
    off += 2;
    if (len - off != priv_len)
        goto bad;
    used = 0;
    if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(w + off, priv_len, &used, &out->priv) != 0 ||
        used != priv_len)
        goto bad;
    bool has_policy = (out->flags & TPM_FLAG_PCR) != 0;
    bool user_auth = (out->pub.publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH) != 0;
    if (has_policy == user_auth || (has_policy && (out->pcr_mask == 0 || out->pcr_mask >> 24)) ||
        (!has_policy && out->pcr_mask != 0) || out->pub.publicArea.type != TPM2_ALG_KEYEDHASH)
        goto bad;
    return HSM_OK;
bad:
    hsm_detail("tpm2 wrap record malformed near offset %zu of %zu", off, len);
    return HSM_ERR_FORMAT;
}

/* ---- seal / unseal ----------------------------------------------------------------- */

static hsm_err seal_once(tpm_state *s, const uint8_t dk[HSM_DK_LEN], uint8_t **wrap,
                         size_t *wrap_len)
{
    tpm_op op;
    TPM2B_PUBLIC *out_pub = NULL;
    TPM2B_PRIVATE *out_priv = NULL;
    TPM2B_SENSITIVE_CREATE in = {0};
    TPM2B_PUBLIC tmpl = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION creation = {0};
    hsm_err err = tpm_begin(s->tcti, &op);
    if (err != HSM_OK)
        return err;
    if ((err = pinned_primary(s, &op)) != HSM_OK)
        goto out;
    tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
    tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
    tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
    if (s->noda)
        tmpl.publicArea.objectAttributes |= TPMA_OBJECT_NODA;
    tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
    if (s->pcr_mask != 0) {
        if ((err = trial_policy(&op, s->pcr_mask, &tmpl.publicArea.authPolicy)) != HSM_OK)
            goto out;
    } else {
        tmpl.publicArea.objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
    }
    in.sensitive.userAuth = s->auth;
    in.sensitive.data.size = HSM_DK_LEN;
    memcpy(in.sensitive.data.buffer, dk, HSM_DK_LEN);
    if ((err = start_session(&op, TPM2_SE_HMAC, &op.session)) != HSM_OK ||
        (err = session_attrs(&op, op.session,
                             TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
                                 TPMA_SESSION_CONTINUESESSION)) != HSM_OK)
        goto out;
    TSS2_RC rc = Esys_Create(op.esys, op.primary, op.session, ESYS_TR_NONE, ESYS_TR_NONE, &in,
                             &tmpl, &outside, &creation, &out_priv, &out_pub, NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        err = tpm_fail("Esys_Create (sealed data key)", rc, HSM_ERR_TPM);
        goto out;
    }
    err = encode_wrap(s, s->pcr_mask ? TPM_FLAG_PCR : 0, out_pub, out_priv, wrap, wrap_len);
out:
    tss_memzero(&in, sizeof in);
    Esys_Free(out_pub);
    Esys_Free(out_priv);
    tpm_end(&op);
    return err;
}

static hsm_err unseal_once(tpm_state *s, const tpm_wrap *w, uint8_t dk[HSM_DK_LEN])
{
    tpm_op op;
    TPM2B_SENSITIVE_DATA *data = NULL;
    TSS2_RC rc;
    hsm_err err = tpm_begin(s->tcti, &op);
    if (err != HSM_OK)
        return err;
    if ((err = pinned_primary(s, &op)) != HSM_OK)
        goto out;
    if ((err = start_session(&op, TPM2_SE_HMAC, &op.session)) != HSM_OK ||
        (err = session_attrs(&op, op.session,
                             TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
                                 TPMA_SESSION_CONTINUESESSION)) != HSM_OK)
        goto out;
    rc = Esys_Load(op.esys, op.primary, op.session, ESYS_TR_NONE, ESYS_TR_NONE, &w->priv, &w->pub,
                   &op.object);
    if (rc != TSS2_RC_SUCCESS) {
        op.object = ESYS_TR_NONE;
        /* The TPM checks the private part's integrity against the public part and the
         * parent: a format-1 refusal here means the record was altered. */
        err = tpm_fail("Esys_Load (sealed data key)", rc,
                       (rc & TPM2_RC_FMT1) ? HSM_ERR_TAMPERED : HSM_ERR_TPM);
        goto out;
    }
    if ((rc = Esys_TR_SetAuth(op.esys, op.object, &s->auth)) != TSS2_RC_SUCCESS) {
        err = tpm_fail("Esys_TR_SetAuth", rc, HSM_ERR_TPM);
        goto out;
    }
    ESYS_TR use = op.session;
    if (w->flags & TPM_FLAG_PCR) {
        if ((err = start_session(&op, TPM2_SE_POLICY, &op.policy)) != HSM_OK ||
            (err = run_policy(&op, op.policy, w->pcr_mask)) != HSM_OK)
            goto out;
        use = op.policy;
    }
    /* Unseal has no command parameter to encrypt; encrypt the response (the data key). */
    if ((err = session_attrs(&op, use, TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION)) !=
        HSM_OK)
        goto out;
    rc = Esys_Unseal(op.esys, op.object, use, ESYS_TR_NONE, ESYS_TR_NONE, &data);
    if (rc != TSS2_RC_SUCCESS) {
        err = tpm_fail("Esys_Unseal", rc, HSM_ERR_TPM);
        if ((w->flags & TPM_FLAG_PCR) && (rc & (TPM2_RC_FMT1 | 0x3f)) == TPM2_RC_POLICY_FAIL) {
            err = HSM_ERR_PCR_POLICY;
        }
        goto out;
    }
    if (data->size != HSM_DK_LEN) {
        hsm_detail("unsealed %u bytes, expected %d", data->size, HSM_DK_LEN);
        err = HSM_ERR_TAMPERED;
    } else {
        memcpy(dk, data->buffer, HSM_DK_LEN);
    }
out:
    if (data != NULL) {
        tss_memzero(data, sizeof *data);
        Esys_Free(data);
    }
    tpm_end(&op);
    return err;
}

/* A connection that breaks mid-operation (TPM restarted, resource manager restarted) is
 * retried once on a fresh connection; nothing of the failed attempt survives it. */
static hsm_err tpm_wrap_dk(hsm_backend *b, const uint8_t dk[HSM_DK_LEN], uint8_t **wrap,
                           size_t *wrap_len)
{
    hsm_err err = seal_once(b->impl, dk, wrap, wrap_len);
    if (err == HSM_ERR_TPM_UNAVAILABLE)
        err = seal_once(b->impl, dk, wrap, wrap_len);
    return err;
}

static hsm_err tpm_unwrap_dk(hsm_backend *b, const uint8_t *wrap, size_t wrap_len,
                             uint8_t dk[HSM_DK_LEN])
{
    tpm_state *s = b->impl;
    tpm_wrap w;
    hsm_err err = decode_wrap(wrap, wrap_len, &w);
    if (err != HSM_OK)
        return err;
    if (w.name_len != s->name_len || memcmp(w.name, s->name, s->name_len) != 0) {
        hsm_detail("blob was sealed under another TPM primary");
        return HSM_ERR_WRONG_NODE;
    }
    err = unseal_once(s, &w, dk);
    if (err == HSM_ERR_TPM_UNAVAILABLE)
        err = unseal_once(s, &w, dk);
    return err;
}

static int tpm_describe(const hsm_backend *b, char *buf, size_t size)
{
    const tpm_state *s = b->impl;
    char name[2 * TPM_NAME_MAX + 1], primary[32] = "template(ecc-p256)";
    hsm_hex(name, s->name, s->name_len);
    if (s->persistent != 0)
        snprintf(primary, sizeof primary, "persistent(0x%08x)", s->persistent);
    return snprintf(buf, size,
                    "tpm2 tcti=%s primary=%s name=%s session=salted-hmac(aes-128-cfb) "
                    "auth=%s noda=%s pcrs=0x%06x",
                    s->tcti, primary, name, s->auth_src, s->noda ? "yes" : "no", s->pcr_mask);
}

static void tpm_close(hsm_backend *b)
{
    tpm_state *s = b->impl;
    drop_primary_ctx(s);
    tss_memzero(s, sizeof *s);
    free(s);
}

static const hsm_ops tpm_ops = {HSM_KIND_TPM2, tpm_wrap_dk, tpm_unwrap_dk, tpm_describe, tpm_close};

/* ---- configuration, open and init ------------------------------------------------- */

static hsm_err derive_auth(const uint8_t *v, size_t len, TPM2B_AUTH *auth)
{
    static const char tag[] = "mpc-signer/hsm/tpm2/auth";
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, tag, sizeof tag - 1) == 1 && EVP_DigestUpdate(c, v, len) == 1 &&
             EVP_DigestFinal_ex(c, auth->buffer, &n) == 1;
    EVP_MD_CTX_free(c);
    auth->size = (UINT16)n;
    return ok ? HSM_OK : HSM_ERR_CRYPTO;
}

static hsm_err tpm_configure(const hsm_config *cfg, tpm_state *s)
{
    hsm_err err = HSM_OK;
    if (cfg->tpm2.tcti == NULL || cfg->tpm2.tcti[0] == '\0' ||
        strlen(cfg->tpm2.tcti) >= sizeof s->tcti) {
        hsm_detail("tpm2 needs a tcti setting such as device:/dev/tpmrm0");
        return HSM_ERR_CONFIG;
    }
    if (cfg->tpm2.persistent_handle != 0 && (cfg->tpm2.persistent_handle >> 24) != 0x81) {
        hsm_detail("persistent_handle 0x%08x is not a persistent handle (0x81xxxxxx)",
                   cfg->tpm2.persistent_handle);
        return HSM_ERR_CONFIG;
    }
    if (cfg->tpm2.pcr_mask >> 24) {
        hsm_detail("PCR mask 0x%x names PCRs above 23", cfg->tpm2.pcr_mask);
        return HSM_ERR_CONFIG;
    }
    snprintf(s->tcti, sizeof s->tcti, "%s", cfg->tpm2.tcti);
    s->persistent = cfg->tpm2.persistent_handle;
    s->noda = cfg->tpm2.noda;
    s->pcr_mask = cfg->tpm2.pcr_mask;
    strcpy(s->auth_src, "none");
    if (cfg->tpm2.auth_file != NULL && cfg->tpm2.auth_file[0] != '\0') {
        uint8_t *v;
        size_t len;
        err = hsm_read_private_file(cfg->tpm2.auth_file, 1024, HSM_ERR_CONFIG, &v, &len);
        if (err != HSM_OK)
            return err;
        err = derive_auth(v, len, &s->auth);
        tss_secmem_free(v);
        strcpy(s->auth_src, "file");
    } else if (cfg->tpm2.auth_len > 0) {
        if (cfg->tpm2.auth == NULL)
            return HSM_ERR_ARG;
        err = derive_auth(cfg->tpm2.auth, cfg->tpm2.auth_len, &s->auth);
        strcpy(s->auth_src, "value");
    }
    return err;
}

hsm_err hsm_tpm2_open(const hsm_config *cfg, hsm_backend *b)
{
    tpm_op op;
    hsm_err err;
    tpm_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HSM_ERR_NOMEM;
    if ((err = tpm_configure(cfg, s)) != HSM_OK)
        goto fail;
    int n =
        cfg->tpm2.primary_name ? hsm_unhex(s->name, sizeof s->name, cfg->tpm2.primary_name) : -1;
    if (n <= 2) {
        hsm_detail("tpm2 needs primary_name (the hex name printed by node init)");
        err = HSM_ERR_CONFIG;
        goto fail;
    }
    s->name_len = (size_t)n;
    /* Check now that the TPM answers and holds the pinned primary. */
    if ((err = tpm_begin(s->tcti, &op)) != HSM_OK)
        goto fail;
    err = pinned_primary(s, &op);
    tpm_end(&op);
    if (err != HSM_OK)
        goto fail;
    b->ops = &tpm_ops;
    b->impl = s;
    return HSM_OK;
fail:
    drop_primary_ctx(s);
    tss_memzero(s, sizeof *s);
    free(s);
    return err;
}

/* Creates the primary and, with a persistent handle configured and free, persists it. */
hsm_err hsm_tpm2_init(const hsm_config *cfg, char *binding, size_t size)
{
    tpm_state s;
    tpm_op op;
    uint8_t name[TPM_NAME_MAX];
    size_t len;
    hsm_err err;
    memset(&s, 0, sizeof s);
    if ((err = tpm_configure(cfg, &s)) != HSM_OK)
        return err;
    if ((err = tpm_begin(s.tcti, &op)) != HSM_OK)
        return err;
    if (s.persistent != 0 && load_primary(&op, s.persistent, name, &len) == HSM_OK)
        goto done; /* already persisted: report its name */
    if (op.primary != ESYS_TR_NONE)
        (void)Esys_TR_Close(op.esys, &op.primary);
    op.primary = ESYS_TR_NONE;
    op.primary_persistent = false;
    hsm_detail_clear();
    if ((err = load_primary(&op, 0, name, &len)) != HSM_OK)
        goto out;
    if (s.persistent != 0) {
        ESYS_TR persisted = ESYS_TR_NONE;
        TSS2_RC rc = Esys_EvictControl(op.esys, ESYS_TR_RH_OWNER, op.primary, ESYS_TR_PASSWORD,
                                       ESYS_TR_NONE, ESYS_TR_NONE, s.persistent, &persisted);
        if (rc != TSS2_RC_SUCCESS) {
            err = tpm_fail("Esys_EvictControl (persisting the primary)", rc, HSM_ERR_TPM);
            goto out;
        }
        (void)Esys_TR_Close(op.esys, &persisted);
    }
done:
    if (size < 2 * len + 1) {
        err = HSM_ERR_TOO_LARGE;
        goto out;
    }
    hsm_hex(binding, name, len);
    err = HSM_OK;
out:
    tpm_end(&op);
    tss_memzero(&s, sizeof s);
    return err;
}
