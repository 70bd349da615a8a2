/* daemon/signerd/gate.c — this signer as an independent gate (issue 15): the policy in force
 * (loaded at start, replaced on SIGHUP, reference-counted so that a session deciding while a
 * reload happens keeps the policy it started with), and the decision on one sign request:
 * the digest computed here from the typed payload (never the hub's word), the policy and the
 * approvals (policy.c), then the request id and the velocity window claimed in the store in
 * one fsync'ed transaction, all before round 0 sends anything. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api/hex.h"
#include "daemon/common/eip191.h"
#include "daemon/common/eip712.h"
#include "daemon/common/ethtx.h"
#include "daemon/common/log.h"
#include "policy.h"
#include "signer.h"

typedef struct signer_policy_ref {
    unsigned refs;
    signer_policy p;
} signer_policy_ref;

static signer_policy_ref *ref_get(signer *sd)
{
    pthread_mutex_lock(&sd->policy_lock);
    signer_policy_ref *r = sd->policy;
    if (r)
        r->refs++;
    pthread_mutex_unlock(&sd->policy_lock);
    return r;
}

static void ref_put(signer *sd, signer_policy_ref *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&sd->policy_lock);
    unsigned left = --r->refs;
    pthread_mutex_unlock(&sd->policy_lock);
    if (left == 0)
        free(r);
}

static signer_policy_ref *load_file(signer *sd, char *err, size_t cap)
{
    signer_policy_ref *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    if (signer_policy_load(&r->p, sd->cfg.policy_file, sd->cfg.policy_pubkey, err, cap) != 0) {
        free(r);
        return NULL;
    }
    r->refs = 1;
    return r;
}

static void describe(const signer *sd, const signer_policy *p, const char *what)
{
    char hex[65];
    api_hex_encode(hex, p->file_digest, 32);
    log_notice("policy %s %s (sha256 %s%s): raw hashes %s, messages %s, quorum %u of %zu "
               "approvers, %zu chain ids, %zu destinations%s",
               sd->cfg.policy_file, what, hex,
               sd->cfg.policy_pubkey[0] ? ", signature verified" : "",
               p->raw_hashes ? "allowed" : "denied", p->messages ? "allowed" : "denied", p->quorum,
               p->napprovers, p->nchain_ids, p->ndestinations,
               p->any_destination ? " (any destination)" : "");
}

int signer_gate_load(signer *sd)
{
    char err[600];
    if (!sd->cfg.policy_file[0]) {
        if (sd->cfg.policy_pubkey[0]) {
            log_err("[policy] public_key is set but [policy] file is not; name the signed "
                    "policy file");
            return -1;
        }
        log_notice("no [policy] file: this signer signs every request the hub starts (no "
                   "approvals, no limits)");
        return 0;
    }
    signer_policy_ref *r = load_file(sd, err, sizeof err);
    if (!r) {
        log_err("%s; refusing to start", err);
        return -1;
    }
    sd->policy = r;
    describe(sd, &r->p, "loaded");
    return 0;
}

void signer_gate_reload(signer *sd)
{
    char err[600];
    if (!sd->cfg.policy_file[0]) {
        log_notice("SIGHUP: no [policy] file configured; nothing to reload");
        return;
    }
    signer_policy_ref *r = load_file(sd, err, sizeof err);
    if (!r) {
        log_err("SIGHUP: %s; keeping the policy in force", err);
        return;
    }
    pthread_mutex_lock(&sd->policy_lock);
    signer_policy_ref *old = sd->policy;
    sd->policy = r;
    pthread_mutex_unlock(&sd->policy_lock);
    ref_put(sd, old);
    describe(sd, &r->p, "reloaded");
}

void signer_gate_free(signer *sd)
{
    pthread_mutex_lock(&sd->policy_lock);
    signer_policy_ref *r = sd->policy;
    sd->policy = NULL;
    pthread_mutex_unlock(&sd->policy_lock);
    ref_put(sd, r);
}

/* The digest of the typed payload, decoded here (never the hub's word), and what policy
 * needs from it. */
static int typed_digest(const api_sign_auth *a, uint8_t digest[32], signer_policy_facts *f,
                        char *why, size_t cap)
{
    mpcd_eth_err e = MPCD_ETH_OK;
    f->kind = a->kind;
    switch (a->kind) {
    case API_PAYLOAD_HASH:
        return 0;
    case API_PAYLOAD_ETH_TX: {
        mpcd_ethtx tx;
        if ((e = mpcd_ethtx_parse(&tx, a->typed, a->typed_len)) != MPCD_ETH_OK)
            break;
        memcpy(digest, tx.sighash, 32);
        f->chain_id = tx.chain_id;
        f->has_chain_id = 1;
        f->has_to = !tx.is_create;
        memcpy(f->to, tx.to, 20);
        memcpy(f->value, tx.value, 32);
        return 0;
    }
    case API_PAYLOAD_EIP191:
        if ((e = mpcd_eip191_hash(digest, a->typed, a->typed_len)) != MPCD_ETH_OK)
            break;
        return 0;
    case API_PAYLOAD_EIP712: {
        mpcd_eip712 td;
        char detail[MPCD_EIP712_DETAIL_MAX] = "";
        e = mpcd_eip712_hash_text(&td, (const char *)a->typed, a->typed_len, detail, sizeof detail);
        if (e != MPCD_ETH_OK) {
            snprintf(why, cap, "policy: the eip712 payload does not decode: %s (%s)",
                     mpcd_eth_strerror(e), detail);
            return -1;
        }
        memcpy(digest, td.digest, 32);
        f->has_chain_id = td.has_chain_id;
        f->chain_id = td.chain_id;
        f->has_to = td.has_verifying_contract;
        memcpy(f->to, td.verifying_contract, 20);
        return 0;
    }
    }
    snprintf(why, cap, "policy: the %s payload does not decode: %s", api_payload_kind_name(a->kind),
             mpcd_eth_strerror(e));
    return -1;
}

int signer_gate_authorize(signer *sd, const api_session_start *st, char *why, size_t cap,
                          char *audit, size_t audit_cap)
{
    const api_sign_auth *a = &st->auth;
    signer_policy_facts facts;
    signer_policy_velocity vel;
    uint8_t digest[32], spent[32];
    char kid[33], pol[65] = "none";
    unsigned verified = 0;
    memset(&facts, 0, sizeof facts);
    memset(&vel, 0, sizeof vel);
    audit[0] = 0;
    if (typed_digest(a, digest, &facts, why, cap) != 0)
        return -1;
    if (a->kind == API_PAYLOAD_HASH)
        memcpy(digest, st->hash, 32);
    else if (CRYPTO_memcmp(digest, st->hash, 32) != 0)
        return snprintf(why, cap,
                        "approval: the hub's hash is not the hash of the %s payload (computed "
                        "here)",
                        api_payload_kind_name(a->kind)),
               -1;
    api_hex_encode(kid, st->key_id, 16);
    signer_policy_ref *r = ref_get(sd);
    if (r) {
        int rc = signer_policy_check(&r->p, st->key_id, digest, st->path, a, &facts,
                                     (uint64_t)time(NULL), &vel, &verified, why, cap);
        api_hex_encode(pol, r->p.file_digest, 32);
        ref_put(sd, r);
        if (rc != 0)
            return -1;
    }
    if (a->request_id[0] || vel.applies) {
        signer_store_claim c = signer_store_request_claim(
            sd->store, a->request_id[0] ? a->request_id : NULL, kid, vel.applies ? vel.value : NULL,
            vel.window_seconds, vel.applies ? vel.max : NULL, spent);
        char v[80], s[80], m[80];
        switch (c) {
        case SIGNER_CLAIM_OK:
            break;
        case SIGNER_CLAIM_SEEN:
            return snprintf(why, cap,
                            "approval: request id '%s' was already used on this signer (request "
                            "ids are single-use)",
                            a->request_id),
                   -1;
        case SIGNER_CLAIM_OVER:
            signer_u256_to_dec(v, vel.value);
            signer_u256_to_dec(s, spent);
            signer_u256_to_dec(m, vel.max);
            return snprintf(why, cap,
                            "policy: window_max_value: %s wei signed in the last %u s plus %s "
                            "wei is over %s wei",
                            s, vel.window_seconds, v, m),
                   -1;
        case SIGNER_CLAIM_ERROR:
            return snprintf(why, cap, "the signer's store failed recording the request"), -1;
        }
    }
    size_t n = (size_t)snprintf(audit, audit_cap, "authorized %s, request %s, policy %s, approvals",
                                api_payload_kind_name(a->kind),
                                a->request_id[0] ? a->request_id : "-", pol);
    for (size_t i = 0; i < a->napprovals && n < audit_cap; i++)
        n += (size_t)snprintf(audit + n, audit_cap - n, "%s%s", i ? "," : " ",
                              a->approvals[i].approver);
    if (!a->napprovals && n < audit_cap)
        snprintf(audit + n, audit_cap - n, " none");
    if (verified)
        log_debug("request %s: %u approval signatures verified", a->request_id, verified);
    return 0;
}
