/* daemon/signerd/policy.c — see policy.h: the policy file (inih), its signature, and the
 * decision for one request. Public data only: approvals, public keys and payload facts. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "api/hex.h"
#include "policy.h"

static const char sig_tag[] = "mpc-signer/policy/v1\n";

/* ---- 256-bit values ---- */

int signer_u256_cmp(const uint8_t a[32], const uint8_t b[32])
{
    return memcmp(a, b, 32); /* big-endian: byte order is numeric order */
}

int signer_u256_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
    unsigned carry = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned s = (unsigned)a[i] + b[i] + carry;
        out[i] = (uint8_t)s;
        carry = s >> 8;
    }
    return carry ? -1 : 0;
}

int signer_u256_from_dec(uint8_t out[32], const char *s)
{
    memset(out, 0, 32);
    if (!s || !*s || (s[0] == '0' && s[1]))
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned carry = (unsigned)(*s - '0');
        for (int i = 31; i >= 0; i--) {
            unsigned v = (unsigned)out[i] * 10 + carry;
            out[i] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry)
            return -1;
    }
    return 0;
}

void signer_u256_to_dec(char out[80], const uint8_t v[32])
{
    uint8_t t[32];
    char rev[80];
    size_t n = 0;
    memcpy(t, v, 32);
    for (;;) {
        unsigned rem = 0, zero = 1;
        for (int i = 0; i < 32; i++) {
            unsigned cur = (rem << 8) | t[i];
            t[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero &= t[i] == 0;
        }
        rev[n++] = (char)('0' + rem);
        if (zero)
            break;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    out[n] = 0;
}

/* ---- parsing ---- */

typedef struct {
    signer_policy *p;
    char msg[400];
    unsigned seen; /* [policy] keys seen, one bit each */
} parse_ctx;

__attribute__((format(printf, 2, 3))) static int perr(parse_ctx *c, const char *fmt, ...)
{
    va_list ap;
    if (c->msg[0])
        return 0;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return 0;
}

static int allow_deny(const char *v, int *out)
{
    if (strcmp(v, "allow") == 0)
        *out = 1;
    else if (strcmp(v, "deny") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int small_uint(const char *v, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)v[0]))
        return -1;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || *end || x > max)
        return -1;
    *out = (unsigned)x;
    return 0;
}

/* "0x" + 40 hex digits (any case: EIP-55 checksums are not required here). */
static int address(const char *s, size_t n, uint8_t out[20])
{
    return n == 42 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
                   api_hex_decode(out, 20, s + 2, 40) == API_OK
               ? 0
               : -1;
}

/* Calls item for each comma-separated, trimmed element of v. */
static int each_item(parse_ctx *c, const char *v, int (*item)(parse_ctx *, const char *, size_t))
{
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *b = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > b && item(c, b, (size_t)(e - b)) != 0)
            return -1;
    }
    return 0;
}

static int chain_item(parse_ctx *c, const char *s, size_t n)
{
    char buf[24];
    char *end;
    signer_policy *p = c->p;
    if (n >= sizeof buf || p->nchain_ids == SIGNER_POLICY_MAX_CHAINS)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    errno = 0;
    if (!isdigit((unsigned char)buf[0]))
        return -1;
    unsigned long long id = strtoull(buf, &end, 10);
    if (errno || *end || id == 0)
        return -1;
    p->chain_ids[p->nchain_ids++] = id;
    return 0;
}

static int dest_item(parse_ctx *c, const char *s, size_t n)
{
    signer_policy *p = c->p;
    if (n == 3 && memcmp(s, "any", 3) == 0) {
        p->any_destination = 1;
        return 0;
    }
    if (p->ndestinations == SIGNER_POLICY_MAX_DESTS)
        return -1;
    return address(s, n, p->destinations[p->ndestinations++]);
}

static int policy_key(parse_ctx *c, const char *name, const char *v)
{
    static const char *const names[] = {
        "raw_hashes", "messages",       "quorum",           "chain_ids",   "destinations",
        "max_value",  "window_seconds", "window_max_value", "large_value", "large_quorum",
        NULL};
    signer_policy *p = c->p;
    int k = 0;
    while (names[k] && strcmp(names[k], name) != 0)
        k++;
    if (!names[k])
        return perr(c, "unknown key '%s' in [policy]; see mpc-signerd-policy.ini.example", name);
    /* chain_ids and destinations may be repeated (or continued on indented lines, which inih
     * hands over as repeats): lines are short (inih's 200 bytes), lists are not. */
    if ((c->seen & (1u << k)) && k != 3 && k != 4)
        return perr(c, "[policy] %s is set twice; keep one", name);
    c->seen |= 1u << k;
    int bad = 0;
    switch (k) {
    case 0:
        bad = allow_deny(v, &p->raw_hashes);
        break;
    case 1:
        bad = allow_deny(v, &p->messages);
        break;
    case 2:
        bad = small_uint(v, SIGNER_POLICY_MAX_APPROVERS, &p->quorum);
        break;
    case 3:
        bad = each_item(c, v, chain_item);
        break;
    case 4:
        bad = each_item(c, v, dest_item);
        break;
    case 5:
        bad = signer_u256_from_dec(p->max_value, v);
        p->has_max_value = !bad;
        break;
    case 6:
        bad = small_uint(v, 366 * 86400, &p->window_seconds) || p->window_seconds == 0;
        break;
    case 7:
        bad = signer_u256_from_dec(p->window_max_value, v);
        p->has_window_max = !bad;
        break;
    case 8:
        bad = signer_u256_from_dec(p->large_value, v);
        p->has_large_value = !bad;
        break;
    case 9:
        bad = small_uint(v, SIGNER_POLICY_MAX_APPROVERS, &p->large_quorum);
        break;
    }
    if (bad)
        return perr(c,
                    "[policy] %s = '%s' is not valid; raw_hashes and messages take allow or "
                    "deny, quorums 0..%d, chain_ids decimal ids, destinations 'any' or 0x "
                    "addresses, values decimal wei, window_seconds 1..31622400",
                    name, v, SIGNER_POLICY_MAX_APPROVERS);
    return 1;
}

static signer_approver *approver_find(signer_policy *p, const char *name)
{
    for (size_t i = 0; i < p->napprovers; i++)
        if (strcmp(p->approvers[i].name, name) == 0)
            return &p->approvers[i];
    return NULL;
}

/* [approver NAME]: alg first, then public_key (or in either order: the key is checked at the
 * end of the file). Here the hex is kept in pub until then. */
static int approver_key(parse_ctx *c, const char *aname, const char *name, const char *v)
{
    signer_policy *p = c->p;
    signer_approver *a = approver_find(p, aname);
    if (!api_party_id_valid(aname))
        return perr(c, "[approver %s]: the name must be 1..64 of A-Z a-z 0-9 . _ -", aname);
    if (!a) {
        if (p->napprovers == SIGNER_POLICY_MAX_APPROVERS)
            return perr(c, "more than %d approvers", SIGNER_POLICY_MAX_APPROVERS);
        a = &p->approvers[p->napprovers++];
        snprintf(a->name, sizeof a->name, "%s", aname);
    }
    if (strcmp(name, "alg") == 0) {
        if (a->key.alg != MPCD_ALG_NONE)
            return perr(c, "[approver %s] alg is set twice", aname);
        if ((a->key.alg = mpcd_approval_alg_parse(v)) == MPCD_ALG_NONE)
            return perr(c, "[approver %s] alg = '%s': use ecdsa-p256, ecdsa-secp256k1 or ed25519",
                        aname, v);
        return 1;
    }
    if (strcmp(name, "public_key") == 0) {
        size_t n = strlen(v);
        if (a->key.pub_len)
            return perr(c, "[approver %s] public_key is set twice", aname);
        if (n % 2 || n / 2 > sizeof a->key.pub || n == 0 ||
            api_hex_decode(a->key.pub, n / 2, v, n) != API_OK)
            return perr(c, "[approver %s] public_key must be hex (mpcctl approve --show-key)",
                        aname);
        a->key.pub_len = n / 2;
        return 1;
    }
    return perr(c, "unknown key '%s' in [approver %s]; the keys are alg and public_key", name,
                aname);
}

static int key_section(parse_ctx *c, const char *kid, const char *name, const char *v)
{
    signer_policy *p = c->p;
    uint8_t id[16];
    if (strlen(kid) != 32 || api_hex_decode(id, 16, kid, 32) != API_OK)
        return perr(c, "[key %s]: a key id is 32 hex digits", kid);
    signer_policy_key *k = NULL;
    for (size_t i = 0; i < p->nkeys; i++)
        if (memcmp(p->keys[i].key_id, id, 16) == 0)
            k = &p->keys[i];
    if (!k) {
        if (p->nkeys == SIGNER_POLICY_MAX_KEYS)
            return perr(c, "more than %d [key] sections", SIGNER_POLICY_MAX_KEYS);
        k = &p->keys[p->nkeys++];
        memcpy(k->key_id, id, 16);
        k->quorum = k->raw_hashes = k->messages = -1;
    }
    unsigned q;
    if (strcmp(name, "quorum") == 0 && k->quorum < 0 &&
        small_uint(v, SIGNER_POLICY_MAX_APPROVERS, &q) == 0) {
        k->quorum = (int)q;
        return 1;
    }
    if (strcmp(name, "raw_hashes") == 0 && k->raw_hashes < 0 && allow_deny(v, &k->raw_hashes) == 0)
        return 1;
    if (strcmp(name, "messages") == 0 && k->messages < 0 && allow_deny(v, &k->messages) == 0)
        return 1;
    return perr(c,
                "[key %s] %s = '%s': the keys are quorum (0..%d), raw_hashes and messages "
                "(allow or deny), each once",
                kid, name, v, SIGNER_POLICY_MAX_APPROVERS);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *c = user;
    if (strcmp(section, "policy") == 0)
        return policy_key(c, name, value);
    if (strncmp(section, "approver ", 9) == 0)
        return approver_key(c, section + 9, name, value);
    if (strncmp(section, "key ", 4) == 0)
        return key_section(c, section + 4, name, value);
    return perr(c, "unknown section [%s]; the sections are [policy], [approver NAME], [key ID]",
                section);
}

/* After the file: every approver complete and valid, no public key twice, quorums reachable. */
static int finish_parse(parse_ctx *c)
{
    signer_policy *p = c->p;
    for (size_t i = 0; i < p->napprovers; i++) {
        signer_approver *a = &p->approvers[i];
        char hex[131];
        if (a->key.alg == MPCD_ALG_NONE || !a->key.pub_len)
            return perr(c, "[approver %s] needs both alg and public_key", a->name), -1;
        api_hex_encode(hex, a->key.pub, a->key.pub_len);
        if (mpcd_approver_key_from_hex(&a->key, a->key.alg, hex) != MPCD_APPROVAL_OK)
            return perr(c, "[approver %s] public_key is not a valid %s public key", a->name,
                        mpcd_approval_alg_name(a->key.alg)),
                   -1;
        for (size_t j = 0; j < i; j++)
            if (p->approvers[j].key.pub_len == a->key.pub_len &&
                memcmp(p->approvers[j].key.pub, a->key.pub, a->key.pub_len) == 0)
                return perr(c,
                            "approvers '%s' and '%s' have the same public key; an approver "
                            "counts once",
                            p->approvers[j].name, a->name),
                       -1;
    }
    unsigned most = p->quorum > p->large_quorum ? p->quorum : p->large_quorum;
    for (size_t i = 0; i < p->nkeys; i++)
        if (p->keys[i].quorum > (int)most)
            most = (unsigned)p->keys[i].quorum;
    if (most > p->napprovers)
        return perr(c, "a quorum of %u needs at least %u approvers; %zu are listed", most, most,
                    p->napprovers),
               -1;
    if (p->has_large_value != (p->large_quorum > 0))
        return perr(c, "[policy] large_value and large_quorum go together"), -1;
    return 0;
}

int signer_policy_parse(signer_policy *p, const char *text, size_t len, char *err, size_t cap)
{
    parse_ctx *c = calloc(1, sizeof *c);
    char *copy = malloc(len + 1);
    int rc = -1;
    if (!c || !copy) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    memset(p, 0, sizeof *p);
    p->window_seconds = 86400;
    memcpy(copy, text, len);
    copy[len] = 0;
    if (strlen(copy) != len) {
        snprintf(err, cap, "the policy file holds a NUL byte; it must be text");
        goto out;
    }
    c->p = p;
    int line = ini_parse_string(copy, handler, c);
    if (line != 0) {
        snprintf(err, cap, "line %d: %s", line,
                 c->msg[0] ? c->msg : "not a [section] or key = value line");
        goto out;
    }
    if (finish_parse(c) != 0) {
        snprintf(err, cap, "%s", c->msg);
        goto out;
    }
    SHA256((const uint8_t *)text, len, p->file_digest);
    rc = 0;
out:
    free(copy);
    free(c);
    if (rc != 0)
        memset(p, 0, sizeof *p);
    return rc;
}

/* ---- signature ---- */

static int digest_sign_verify(EVP_PKEY *k, int sign, const char *text, size_t len, uint8_t *sig,
                              size_t *sig_len)
{
    size_t mlen = sizeof sig_tag - 1 + len;
    uint8_t *m = malloc(mlen ? mlen : 1);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    const EVP_MD *h = EVP_PKEY_is_a(k, "ED25519") ? NULL : EVP_sha256();
    int ok = 0;
    if (m && md) {
        memcpy(m, sig_tag, sizeof sig_tag - 1);
        memcpy(m + sizeof sig_tag - 1, text, len);
        if (sign)
            ok = EVP_DigestSignInit(md, NULL, h, NULL, k) == 1 &&
                 EVP_DigestSign(md, sig, sig_len, m, mlen) == 1;
        else
            ok = EVP_DigestVerifyInit(md, NULL, h, NULL, k) == 1 &&
                 EVP_DigestVerify(md, sig, *sig_len, m, mlen) == 1;
    }
    EVP_MD_CTX_free(md);
    free(m);
    return ok;
}

char *signer_policy_sign(EVP_PKEY *key, const char *text, size_t len)
{
    uint8_t sig[160];
    size_t n = sizeof sig;
    if (!key || !digest_sign_verify(key, 1, text, len, sig, &n))
        return NULL;
    char *out = malloc(2 * n + 2);
    if (out) {
        api_hex_encode(out, sig, n);
        strcat(out, "\n");
    }
    return out;
}

int signer_policy_verify(EVP_PKEY *pub, const char *text, size_t len, const char *sig_hex)
{
    uint8_t sig[160];
    while (*sig_hex == ' ' || *sig_hex == '\t' || *sig_hex == '\n' || *sig_hex == '\r')
        sig_hex++;
    size_t n = strlen(sig_hex);
    while (n && (sig_hex[n - 1] == '\n' || sig_hex[n - 1] == '\r' || sig_hex[n - 1] == ' '))
        n--;
    if (!pub || n == 0 || n % 2 || n / 2 > sizeof sig ||
        api_hex_decode(sig, n / 2, sig_hex, n) != API_OK)
        return 0;
    size_t sl = n / 2;
    return digest_sign_verify(pub, 0, text, len, sig, &sl);
}

/* Reads a whole (small) file. malloc'd, NUL-terminated; NULL with err set. */
static char *slurp(const char *path, size_t max, size_t *len, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: cannot read it: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        snprintf(err, cap, "%s: cannot read it, or it is over %zu bytes", path, max);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int signer_policy_load(signer_policy *p, const char *path, const char *pubkey_path, char *err,
                       size_t cap)
{
    size_t len, slen;
    char inner[400], sigpath[4200];
    char *text = slurp(path, SIGNER_POLICY_MAX_BYTES, &len, err, cap), *sig = NULL;
    int rc = -1;
    if (!text)
        return -1;
    if (pubkey_path && pubkey_path[0]) {
        FILE *f = fopen(pubkey_path, "r");
        EVP_PKEY *pub = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        snprintf(sigpath, sizeof sigpath, "%s.sig", path);
        if (!pub) {
            snprintf(err, cap,
                     "[policy] public_key = %s: not a readable PEM public key (P-256 or Ed25519)",
                     pubkey_path);
        } else if (!(sig = slurp(sigpath, 1024, &slen, inner, sizeof inner))) {
            snprintf(err, cap,
                     "policy %s is not signed (%s); sign it offline with 'mpcctl policy sign' "
                     "(the config's [policy] public_key requires it)",
                     path, inner);
        } else if (!signer_policy_verify(pub, text, len, sig)) {
            snprintf(err, cap,
                     "policy %s: the signature in %s does not verify under [policy] public_key "
                     "%s; the file was changed after signing, or signed with another key",
                     path, sigpath, pubkey_path);
        } else {
            rc = 0;
        }
        EVP_PKEY_free(pub);
        if (rc != 0)
            goto out;
        rc = -1;
    }
    if (signer_policy_parse(p, text, len, inner, sizeof inner) != 0) {
        snprintf(err, cap, "policy %s: %s", path, inner);
        goto out;
    }
    rc = 0;
out:
    free(text);
    free(sig);
    return rc;
}

/* ---- the decision ---- */

static const signer_policy_key *key_rules(const signer_policy *p, const uint8_t key_id[16])
{
    for (size_t i = 0; i < p->nkeys; i++)
        if (memcmp(p->keys[i].key_id, key_id, 16) == 0)
            return &p->keys[i];
    return NULL;
}

static int chain_allowed(const signer_policy *p, uint64_t id)
{
    for (size_t i = 0; i < p->nchain_ids; i++)
        if (p->chain_ids[i] == id)
            return 1;
    return 0;
}

static int dest_allowed(const signer_policy *p, const uint8_t to[20])
{
    if (p->any_destination)
        return 1;
    for (size_t i = 0; i < p->ndestinations; i++)
        if (memcmp(p->destinations[i], to, 20) == 0)
            return 1;
    return 0;
}

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* The rules on what is signed (not on who approved it). Sets *quorum. */
static int check_payload(const signer_policy *p, const signer_policy_key *kr,
                         const signer_policy_facts *f, unsigned *quorum, char *why, size_t cap)
{
    char v[80], m[80];
    int raw = kr && kr->raw_hashes >= 0 ? kr->raw_hashes : p->raw_hashes;
    int msgs = kr && kr->messages >= 0 ? kr->messages : p->messages;
    *quorum = kr && kr->quorum >= 0 ? (unsigned)kr->quorum : p->quorum;
    switch (f->kind) {
    case API_PAYLOAD_HASH:
        if (!raw)
            return refuse(why, cap,
                          "policy: raw_hashes = deny (sign a typed payload, or allow raw hashes "
                          "for this key)");
        return 0;
    case API_PAYLOAD_EIP191:
    case API_PAYLOAD_EIP712:
        if (!msgs)
            return refuse(why, cap, "policy: messages = deny (EIP-191 and EIP-712 signing)");
        if (f->has_chain_id && !chain_allowed(p, f->chain_id))
            return refuse(why, cap,
                          "policy: chain_ids: EIP-712 domain chain id %" PRIu64 " is not allowed",
                          f->chain_id);
        /* An EIP-712 signature (a permit, an order) acts on its verifying contract: it must
         * be a destination this signer may send to. */
        if (f->kind == API_PAYLOAD_EIP712 && f->has_to && !dest_allowed(p, f->to)) {
            char hex[41];
            api_hex_encode(hex, f->to, 20);
            return refuse(why, cap,
                          "policy: destinations: EIP-712 verifying contract 0x%s is not on the "
                          "list",
                          hex);
        }
        return 0;
    case API_PAYLOAD_ETH_TX:
        if (!chain_allowed(p, f->chain_id))
            return refuse(why, cap, "policy: chain_ids: chain id %" PRIu64 " is not allowed",
                          f->chain_id);
        if (!f->has_to || !dest_allowed(p, f->to)) {
            char hex[41] = "";
            if (f->has_to)
                api_hex_encode(hex, f->to, 20);
            return refuse(why, cap, "policy: destinations: %s%s is not on the list",
                          f->has_to ? "0x" : "", f->has_to ? hex : "contract creation");
        }
        if (p->has_max_value && signer_u256_cmp(f->value, p->max_value) > 0) {
            signer_u256_to_dec(v, f->value);
            signer_u256_to_dec(m, p->max_value);
            return refuse(why, cap, "policy: max_value: %s wei is over the limit of %s wei", v, m);
        }
        if (p->has_large_value && signer_u256_cmp(f->value, p->large_value) > 0 &&
            p->large_quorum > *quorum)
            *quorum = p->large_quorum;
        return 0;
    }
    return refuse(why, cap, "policy: unknown payload kind");
}

int signer_policy_check(const signer_policy *p, const uint8_t key_id[16], const uint8_t digest[32],
                        const char *path, const api_sign_auth *auth,
                        const signer_policy_facts *facts, uint64_t now, signer_policy_velocity *vel,
                        unsigned *verified, char *why, size_t cap)
{
    const signer_policy_key *kr = key_rules(p, key_id);
    unsigned quorum = 0, valid = 0;
    int counted[SIGNER_POLICY_MAX_APPROVERS] = {0};
    char notes[200] = "";
    memset(vel, 0, sizeof *vel);
    *verified = 0;
    if (check_payload(p, kr, facts, &quorum, why, cap) != 0)
        return -1;
    if (quorum > 0 && !auth->request_id[0])
        return refuse(why, cap, "approval: this signer needs %u approvals and a request_id",
                      quorum);
    for (size_t i = 0; i < auth->napprovals && quorum > 0; i++) {
        const api_approval *a = &auth->approvals[i];
        const char *fault = NULL;
        size_t j = 0;
        while (j < p->napprovers && strcmp(p->approvers[j].name, a->approver) != 0)
            j++;
        if (j == p->napprovers)
            fault = "unknown approver";
        else if (counted[j])
            fault = "duplicate approver";
        else if (mpcd_approval_alg_parse(a->alg) != p->approvers[j].key.alg)
            fault = "wrong alg";
        else if (a->expires <= now)
            fault = "expired";
        if (!fault) {
            uint8_t m[MPCD_APPROVAL_MSG_MAX];
            size_t mlen = mpcd_approval_message(m, key_id, api_payload_kind_name(facts->kind),
                                                digest, path, auth->request_id, a->expires);
            (*verified)++;
            mpcd_approval_err e =
                mlen ? mpcd_approval_verify(&p->approvers[j].key, m, mlen, a->signature)
                     : MPCD_APPROVAL_ERR_ARG;
            if (e != MPCD_APPROVAL_OK)
                fault = e == MPCD_APPROVAL_ERR_HIGH_S ? "high-s signature" : "bad signature";
        }
        if (fault) {
            size_t n = strlen(notes);
            if (n + 80 < sizeof notes)
                snprintf(notes + n, sizeof notes - n, "%s%.24s: %s", n ? "; " : "", a->approver,
                         fault);
            continue;
        }
        counted[j] = 1;
        valid++;
    }
    if (valid < quorum)
        return refuse(why, cap, "approval: %u of %u required approvals valid%s%s%s", valid, quorum,
                      notes[0] ? " (" : "", notes, notes[0] ? ")" : "");
    if (facts->kind == API_PAYLOAD_ETH_TX && p->has_window_max) {
        vel->applies = 1;
        vel->window_seconds = p->window_seconds;
        memcpy(vel->value, facts->value, 32);
        memcpy(vel->max, p->window_max_value, 32);
    }
    return 0;
}

/* ---- show ---- */

void signer_policy_print(const signer_policy *p, FILE *out)
{
    char v[80], hex[131];
    api_hex_encode(hex, p->file_digest, 32);
    fprintf(out, "policy sha256 %s\n", hex);
    fprintf(out, "raw_hashes %s\nmessages %s\nquorum %u\n", p->raw_hashes ? "allow" : "deny",
            p->messages ? "allow" : "deny", p->quorum);
    fprintf(out, "chain_ids");
    for (size_t i = 0; i < p->nchain_ids; i++)
        fprintf(out, " %" PRIu64, p->chain_ids[i]);
    fprintf(out, "%s\ndestinations", p->nchain_ids ? "" : " (none: no transaction signs)");
    if (p->any_destination)
        fprintf(out, " any");
    for (size_t i = 0; i < p->ndestinations; i++) {
        api_hex_encode(hex, p->destinations[i], 20);
        fprintf(out, " 0x%s", hex);
    }
    fprintf(out, "\n");
    if (p->has_max_value) {
        signer_u256_to_dec(v, p->max_value);
        fprintf(out, "max_value %s wei\n", v);
    }
    if (p->has_window_max) {
        signer_u256_to_dec(v, p->window_max_value);
        fprintf(out, "window_max_value %s wei per %u s\n", v, p->window_seconds);
    }
    if (p->has_large_value) {
        signer_u256_to_dec(v, p->large_value);
        fprintf(out, "large_value %s wei needs quorum %u\n", v, p->large_quorum);
    }
    for (size_t i = 0; i < p->napprovers; i++) {
        api_hex_encode(hex, p->approvers[i].key.pub, p->approvers[i].key.pub_len);
        fprintf(out, "approver %s %s %s\n", p->approvers[i].name,
                mpcd_approval_alg_name(p->approvers[i].key.alg), hex);
    }
    for (size_t i = 0; i < p->nkeys; i++) {
        const signer_policy_key *k = &p->keys[i];
        api_hex_encode(hex, k->key_id, 16);
        fprintf(out, "key %s quorum %s%d raw_hashes %s messages %s\n", hex,
                k->quorum < 0 ? "default:" : "", k->quorum < 0 ? (int)p->quorum : k->quorum,
                k->raw_hashes < 0 ? "default"
                : k->raw_hashes   ? "allow"
                                  : "deny",
                k->messages < 0 ? "default"
                : k->messages   ? "allow"
                                : "deny");
    }
}
