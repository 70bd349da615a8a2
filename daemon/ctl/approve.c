/* daemon/ctl/approve.c — mpcctl approve (an approver signs a request's canonical message,
 * daemon/common/approval.h) and mpcctl policy sign|verify|show (the signers' policy file,
 * daemon/signerd/policy.h), and the typed payloads (--hash, --eth-tx, --eip191, --eip712)
 * that approve and sign share: the digest is computed here, so an approver sees and signs
 * what the signers will compute, never a hash handed to it. */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/hex.h"
#include "ctl.h"
#include "daemon/common/approval.h"
#include "daemon/common/eip191.h"
#include "daemon/common/eip712.h"
#include "daemon/common/ethtx.h"
#include "config.h"
#include "hsm/hsm.h"
#include "policy.h"
#include "tss/secmem.h"

/* ---- typed payloads ---- */

void ctl_payload_free(ctl_payload *p)
{
    free(p->hex);
    json_decref(p->eip712);
    memset(p, 0, sizeof *p);
}

static char *read_text(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int ctl_payload_option(ctl_ctx *c, ctl_payload *p, int opt, const char *arg)
{
    if (p->given)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "give one of --hash, --eth-tx, --eip191 and --eip712 (once)");
    p->given = 1;
    if (opt == CTL_OPT_HASH) {
        p->kind = API_PAYLOAD_HASH;
        if (strlen(arg) != 64 || api_hex_decode(p->digest, 32, arg, 64) != API_OK)
            return ctl_fail(c, CTL_EXIT_USAGE, "--hash: expected 64 hex digits (32 bytes)");
        return CTL_EXIT_OK;
    }
    if (opt == CTL_OPT_EIP712) {
        json_error_t je;
        size_t len;
        char *text = read_text(arg, API_TYPED_MAX, &len);
        if (!text)
            return ctl_fail(c, CTL_EXIT_LOCAL, "--eip712 %s: cannot read it (at most %d bytes)",
                            arg, API_TYPED_MAX);
        p->eip712 = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        free(text);
        if (!json_is_object(p->eip712))
            return ctl_fail(c, CTL_EXIT_USAGE, "--eip712 %s: not a JSON object (line %d: %s)", arg,
                            je.line, je.text);
        p->kind = API_PAYLOAD_EIP712;
        mpcd_eip712 td;
        char detail[MPCD_EIP712_DETAIL_MAX] = "";
        mpcd_eth_err e = mpcd_eip712_hash(&td, p->eip712, detail, sizeof detail);
        if (e != MPCD_ETH_OK)
            return ctl_fail(c, CTL_EXIT_USAGE, "--eip712 %s does not hash: %s (%s)", arg,
                            mpcd_eth_strerror(e), detail);
        memcpy(p->digest, td.digest, 32);
        p->chain_id = td.has_chain_id ? td.chain_id : 0;
        p->is_create = !td.has_verifying_contract;
        memcpy(p->to, td.verifying_contract, 20);
        return CTL_EXIT_OK;
    }
    p->kind = opt == CTL_OPT_ETH_TX ? API_PAYLOAD_ETH_TX : API_PAYLOAD_EIP191;
    if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X'))
        arg += 2;
    size_t n = strlen(arg);
    uint8_t *bytes = malloc(n / 2 + 1);
    if (!bytes || n % 2 || n / 2 > API_TYPED_MAX ||
        api_hex_decode(bytes, n / 2, arg, n) != API_OK) {
        free(bytes);
        return ctl_fail(c, CTL_EXIT_USAGE, "%s: expected hex bytes (at most %d)",
                        opt == CTL_OPT_ETH_TX ? "--eth-tx" : "--eip191", API_TYPED_MAX);
    }
    mpcd_eth_err e;
    if (p->kind == API_PAYLOAD_ETH_TX) {
        mpcd_ethtx tx;
        e = mpcd_ethtx_parse(&tx, bytes, n / 2);
        if (e == MPCD_ETH_OK) {
            memcpy(p->digest, tx.sighash, 32);
            p->chain_id = tx.chain_id;
            p->is_create = tx.is_create;
            memcpy(p->to, tx.to, 20);
            memcpy(p->value, tx.value, 32);
        }
    } else {
        e = mpcd_eip191_hash(p->digest, bytes, n / 2);
    }
    free(bytes);
    if (e != MPCD_ETH_OK)
        return ctl_fail(c, CTL_EXIT_USAGE, "%s does not decode: %s",
                        opt == CTL_OPT_ETH_TX ? "--eth-tx" : "--eip191", mpcd_eth_strerror(e));
    p->hex = strdup(arg);
    return p->hex ? CTL_EXIT_OK : ctl_fail(c, CTL_EXIT_LOCAL, "out of memory");
}

int ctl_payload_check(ctl_ctx *c, const ctl_payload *p)
{
    if (!p->given)
        return ctl_fail(c, CTL_EXIT_USAGE, "give one of --hash, --eth-tx, --eip191, --eip712");
    return CTL_EXIT_OK;
}

void ctl_payload_to_body(const ctl_payload *p, json_t *body)
{
    char h[65];
    switch (p->kind) {
    case API_PAYLOAD_HASH:
        api_hex_encode(h, p->digest, 32);
        json_object_set_new(body, "hash", json_string(h));
        break;
    case API_PAYLOAD_ETH_TX:
        json_object_set_new(body, "eth_transaction", json_string(p->hex));
        break;
    case API_PAYLOAD_EIP191:
        json_object_set_new(body, "eip191_message", json_string(p->hex));
        break;
    case API_PAYLOAD_EIP712:
        json_object_set(body, "eip712", p->eip712);
        break;
    }
}

/* ---- approver keys ---- */

typedef struct {
    const char *sealed;   /* --sealed FILE (with --config: the node's backend) */
    const char *config;   /* --config SIGNER.conf */
    const char *name;     /* the approver's name: bound into a sealed key's aad */
    const char *pem;      /* --key FILE.pem */
    const char *module;   /* --pkcs11-module */
    const char *token;    /* --token LABEL */
    const char *label;    /* --key-label LABEL */
    const char *pin_file; /* --pin-file */
    PKCS11_CTX *p11;      /* loaded module */
    PKCS11_SLOT *slots;
    unsigned nslots;
} key_source;

static EVP_PKEY *load_pem(ctl_ctx *c, const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!k)
        ctl_fail(c, CTL_EXIT_LOCAL, "--key %s: not a readable PEM private key (unencrypted)", path);
    return k;
}

/* A private key in a PKCS#11 token (libp11), e.g. an HSM or a YubiKey: the key never leaves
 * the token; OpenSSL signs through it. */
static EVP_PKEY *load_pkcs11(ctl_ctx *c, key_source *s)
{
    char pin[256] = "";
    size_t plen = 0;
    char *text = s->pin_file ? read_text(s->pin_file, sizeof pin - 1, &plen) : NULL;
    if (s->pin_file && !text) {
        ctl_fail(c, CTL_EXIT_LOCAL, "--pin-file %s: cannot read it", s->pin_file);
        return NULL;
    }
    if (text) {
        while (plen && (text[plen - 1] == '\n' || text[plen - 1] == '\r'))
            plen--;
        memcpy(pin, text, plen);
        pin[plen] = 0;
        OPENSSL_cleanse(text, plen);
        free(text);
    }
    EVP_PKEY *k = NULL;
    PKCS11_KEY *keys = NULL;
    unsigned nkeys = 0;
    s->p11 = PKCS11_CTX_new();
    if (!s->p11 || PKCS11_CTX_load(s->p11, s->module) != 0 ||
        PKCS11_enumerate_slots(s->p11, &s->slots, &s->nslots) != 0) {
        ctl_fail(c, CTL_EXIT_LOCAL, "--pkcs11-module %s: cannot load it or list its slots",
                 s->module);
        goto out;
    }
    PKCS11_SLOT *slot = NULL;
    for (unsigned i = 0; i < s->nslots; i++)
        if (s->slots[i].token && s->slots[i].token->label &&
            strcmp(s->slots[i].token->label, s->token) == 0)
            slot = &s->slots[i];
    if (!slot) {
        ctl_fail(c, CTL_EXIT_LOCAL, "--token %s: no token with this label", s->token);
        goto out;
    }
    if (PKCS11_open_session(slot, 0) != 0 || (pin[0] && PKCS11_login(slot, 0, pin) != 0)) {
        ctl_fail(c, CTL_EXIT_LOCAL, "--token %s: cannot log in (wrong PIN?)", s->token);
        goto out;
    }
    if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) != 0)
        nkeys = 0;
    for (unsigned i = 0; i < nkeys && !k; i++)
        if (keys[i].label && strcmp(keys[i].label, s->label) == 0)
            k = PKCS11_get_private_key(&keys[i]);
    if (!k)
        ctl_fail(c, CTL_EXIT_LOCAL, "--key-label %s: no private key with this label in token %s",
                 s->label, s->token);
out:
    OPENSSL_cleanse(pin, sizeof pin);
    return k;
}

static void key_source_free(key_source *s)
{
    if (s->slots)
        PKCS11_release_all_slots(s->p11, s->slots, s->nslots);
    if (s->p11) {
        PKCS11_CTX_unload(s->p11);
        PKCS11_CTX_free(s->p11);
    }
    s->p11 = NULL;
    s->slots = NULL;
}

/* ---- approver keys sealed by the node's backend (hsm/: TPM, HSM, soft) ---- */

#define APPROVER_AAD_VERSION 1

/* The node's backend from a signer config (the same code the daemon runs). */
static hsm_backend *open_node_backend(ctl_ctx *c, const char *config, signer_config *cfg)
{
    char err[512];
    hsm_config hc;
    hsm_backend *hsm = NULL;
    if (!config) {
        ctl_fail(c, CTL_EXIT_USAGE, "a sealed approver key needs --config SIGNER.conf");
        return NULL;
    }
    if (signer_config_load(config, cfg, err, sizeof err) != 0) {
        ctl_fail(c, CTL_EXIT_LOCAL, "%s", err);
        return NULL;
    }
    signer_config_to_hsm(cfg, &hc);
    hsm_err e = hsm_open(&hc, &hsm);
    if (e != HSM_OK) {
        ctl_fail(c, CTL_EXIT_LOCAL, "[backend] %s: %s %s", hsm_kind_name(cfg->backend),
                 hsm_strerror(e), hsm_last_detail());
        return NULL;
    }
    return hsm;
}

/* aad = hsm_aad_build("approver:" NAME, party id, 1): a sealed approver key opens only as
 * that approver, on that node. */
static int approver_aad(const char *name, const char *party_id, uint8_t *aad, size_t *len)
{
    char id[80];
    snprintf(id, sizeof id, "approver:%s", name);
    return hsm_aad_build(aad, HSM_AAD_SHARE_MAX, len, id, party_id, APPROVER_AAD_VERSION) == HSM_OK
               ? 0
               : -1;
}

static EVP_PKEY *load_sealed(ctl_ctx *c, key_source *s)
{
    signer_config *cfg = calloc(1, sizeof *cfg);
    uint8_t aad[HSM_AAD_SHARE_MAX], *pt = NULL;
    size_t aad_len, blob_len = 0, pt_len = 0;
    EVP_PKEY *k = NULL;
    char *blob = read_text(s->sealed, 1u << 20, &blob_len);
    hsm_backend *hsm = blob && cfg ? open_node_backend(c, s->config, cfg) : NULL;
    if (!blob)
        ctl_fail(c, CTL_EXIT_LOCAL, "--sealed %s: cannot read it", s->sealed);
    if (hsm && approver_aad(s->name, cfg->party_id, aad, &aad_len) == 0) {
        hsm_err e = hsm_unseal(hsm, (const uint8_t *)blob, blob_len, aad, aad_len, &pt, &pt_len);
        if (e != HSM_OK) {
            ctl_fail(c, CTL_EXIT_LOCAL,
                     "--sealed %s: the node's backend does not open it as approver '%s': %s",
                     s->sealed, s->name, hsm_strerror(e));
        } else {
            const uint8_t *p = pt;
            k = d2i_AutoPrivateKey(NULL, &p, (long)pt_len);
            tss_secmem_free(pt);
            if (!k)
                ctl_fail(c, CTL_EXIT_LOCAL, "--sealed %s: the sealed key does not decode",
                         s->sealed);
        }
    }
    hsm_close(hsm);
    free(blob);
    free(cfg);
    return k;
}

/* --seal-new FILE --alg ALG: a fresh approver key, sealed by the node's backend to FILE (new,
 * 0600); prints its public key for the policy file. The private key never touches disk in
 * the clear. */
static int seal_new(ctl_ctx *c, const key_source *s, const char *alg_name)
{
    mpcd_approval_alg alg = mpcd_approval_alg_parse(alg_name);
    if (alg == MPCD_ALG_NONE)
        return ctl_fail(c, CTL_EXIT_USAGE, "--alg: ecdsa-p256, ecdsa-secp256k1 or ed25519");
    signer_config *cfg = calloc(1, sizeof *cfg);
    hsm_backend *hsm = cfg ? open_node_backend(c, s->config, cfg) : NULL;
    if (!hsm) {
        free(cfg);
        return CTL_EXIT_LOCAL;
    }
    EVP_PKEY *k = alg == MPCD_ALG_ED25519
                      ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                      : EVP_PKEY_Q_keygen(NULL, NULL, "EC",
                                          alg == MPCD_ALG_ECDSA_P256 ? "P-256" : "secp256k1");
    uint8_t aad[HSM_AAD_SHARE_MAX], *der = NULL, *blob = NULL;
    size_t aad_len, blob_len = 0;
    int der_len = k ? i2d_PrivateKey(k, &der) : -1;
    char pub[131];
    int rc = CTL_EXIT_OK;
    if (der_len <= 0 || mpcd_approval_public_hex(k, pub) != MPCD_APPROVAL_OK ||
        approver_aad(s->name, cfg->party_id, aad, &aad_len) != 0 ||
        hsm_seal(hsm, der, (size_t)der_len, aad, aad_len, &blob, &blob_len) != HSM_OK) {
        rc = ctl_fail(c, CTL_EXIT_LOCAL, "cannot create or seal the approver key %s",
                      hsm_last_detail());
    } else {
        int fd = open(s->sealed, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, blob, blob_len) != (ssize_t)blob_len || fsync(fd) != 0)
            rc = ctl_fail(c, CTL_EXIT_LOCAL,
                          "--seal-new %s: cannot create it (it must not exist yet)", s->sealed);
        if (fd >= 0)
            close(fd);
        if (rc == CTL_EXIT_OK)
            fprintf(c->out, "alg = %s\npublic_key = %s\n", mpcd_approval_alg_name(alg), pub);
    }
    if (der) {
        OPENSSL_cleanse(der, (size_t)der_len);
        OPENSSL_free(der);
    }
    free(blob);
    EVP_PKEY_free(k);
    hsm_close(hsm);
    free(cfg);
    return rc;
}

static EVP_PKEY *load_key(ctl_ctx *c, key_source *s)
{
    if (!!s->pem + !!s->module + !!s->sealed != 1) {
        ctl_fail(c, CTL_EXIT_USAGE,
                 "give the approver key as --key FILE.pem, --sealed FILE --config SIGNER.conf, "
                 "or --pkcs11-module M --token T --key-label L [--pin-file F]");
        return NULL;
    }
    if (s->sealed && !s->name) {
        ctl_fail(c, CTL_EXIT_USAGE, "--sealed needs --name (the key is sealed to its approver)");
        return NULL;
    }
    if (s->sealed)
        return load_sealed(c, s);

    if (s->module && (!s->token || !s->label)) {
        ctl_fail(c, CTL_EXIT_USAGE, "--pkcs11-module needs --token and --key-label");
        return NULL;
    }
    return s->pem ? load_pem(c, s->pem) : load_pkcs11(c, s);
}

/* The algorithm and public key (hex) of an approver key. A key from a PKCS#11 token (libp11)
 * is a legacy EC_KEY whose group the provider interface does not report: read it the old
 * way (this file may use the deprecated EC_KEY API, as hsm/pkcs11.c does). */
static mpcd_approval_alg key_info(EVP_PKEY *k, char pub[131])
{
    mpcd_approval_alg alg = mpcd_approval_alg_of(k);
    if (alg != MPCD_ALG_NONE && mpcd_approval_public_hex(k, pub) == MPCD_APPROVAL_OK)
        return alg;
    const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(k);
    const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
    const EC_POINT *pt = ec ? EC_KEY_get0_public_key(ec) : NULL;
    uint8_t oct[33];
    if (!g || !pt ||
        EC_POINT_point2oct(g, pt, POINT_CONVERSION_COMPRESSED, oct, sizeof oct, NULL) != 33)
        return MPCD_ALG_NONE;
    int nid = EC_GROUP_get_curve_name(g);
    alg = nid == NID_X9_62_prime256v1 ? MPCD_ALG_ECDSA_P256
          : nid == NID_secp256k1      ? MPCD_ALG_ECDSA_SECP256K1
                                      : MPCD_ALG_NONE;
    api_hex_encode(pub, oct, 33);
    return alg;
}

/* ---- approve ---- */

static const char usage_approve[] =
    "usage: mpcctl approve KEY --name APPROVER --request-id ID\n"
    "                      (--hash HEX | --eth-tx HEX | --eip191 HEX | --eip712 FILE)\n"
    "                      [--path m/0/1] [--expires-in SECONDS]\n"
    "                      (--key FILE.pem | --pkcs11-module M --token T --key-label L\n"
    "                       [--pin-file F])\n"
    "       mpcctl approve --show-key (--key FILE.pem | --pkcs11-module ... |\n"
    "                      --sealed FILE --name APPROVER --config SIGNER.conf)\n"
    "       mpcctl approve --seal-new FILE --alg ALG --name APPROVER --config SIGNER.conf\n"
    "\n"
    "Signs the canonical approval message of a sign request (key id, what is signed, path,\n"
    "request id, expiry) with an approver key (P-256 or secp256k1 ECDSA, or Ed25519; a PEM\n"
    "file or a key in a PKCS#11 token) and prints the approval JSON object to pass to\n"
    "`mpcctl sign --approval FILE` (or in the sign request's `approvals`). The hash signed is\n"
    "computed here from the typed payload; a transaction's chain id, destination and value are\n"
    "shown on stderr so the approver sees what they approve. --expires-in: default 300.\n"
    "--show-key prints the key's algorithm and public key for the signers' policy file.\n"
    "--seal-new creates an approver key sealed by the node's backend (TPM, HSM or soft, from\n"
    "the signer config; bound to the approver's name and the node) and prints its public key;\n"
    "--sealed FILE --config SIGNER.conf then signs with it.\n";

#define CTL_OPT_SHOW_KEY 0x201

int ctl_cmd_approve(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"hash", required_argument, NULL, CTL_OPT_HASH},
                                         {"eth-tx", required_argument, NULL, CTL_OPT_ETH_TX},
                                         {"eip191", required_argument, NULL, CTL_OPT_EIP191},
                                         {"eip712", required_argument, NULL, CTL_OPT_EIP712},
                                         {"name", required_argument, NULL, 'n'},
                                         {"request-id", required_argument, NULL, 'r'},
                                         {"path", required_argument, NULL, 'P'},
                                         {"expires-in", required_argument, NULL, 'e'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"pkcs11-module", required_argument, NULL, 'm'},
                                         {"token", required_argument, NULL, 't'},
                                         {"key-label", required_argument, NULL, 'l'},
                                         {"pin-file", required_argument, NULL, 'p'},
                                         {"show-key", no_argument, NULL, CTL_OPT_SHOW_KEY},
                                         {"sealed", required_argument, NULL, 's'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"seal-new", required_argument, NULL, 'N'},
                                         {"alg", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    ctl_payload pl;
    key_source ks;
    const char *name = NULL, *rid = NULL, *path = "m", *alg_new = NULL;
    unsigned expires_in = 300;
    int show = 0, o, rc = CTL_EXIT_OK;
    memset(&pl, 0, sizeof pl);
    memset(&ks, 0, sizeof ks);
    optind = 0;
    while (rc == CTL_EXIT_OK && (o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = ctl_common_option(c, o, optarg, usage_approve);
        if (r == CTL_OPT_TAKEN)
            continue;
        if (r != CTL_OPT_OTHER) {
            ctl_payload_free(&pl);
            return r == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : r;
        }
        switch (o) {
        case CTL_OPT_HASH:
        case CTL_OPT_ETH_TX:
        case CTL_OPT_EIP191:
        case CTL_OPT_EIP712:
            rc = ctl_payload_option(c, &pl, o, optarg);
            break;
        case 'n':
            name = optarg;
            break;
        case 'r':
            rid = optarg;
            break;
        case 'P':
            path = optarg;
            break;
        case 'e':
            if (ctl_parse_uint(optarg, 1, 30 * 86400, &expires_in) != 0)
                rc = ctl_fail(c, CTL_EXIT_USAGE, "--expires-in: 1..2592000 seconds");
            break;
        case 'k':
            ks.pem = optarg;
            break;
        case 'm':
            ks.module = optarg;
            break;
        case 't':
            ks.token = optarg;
            break;
        case 'l':
            ks.label = optarg;
            break;
        case 'p':
            ks.pin_file = optarg;
            break;
        case CTL_OPT_SHOW_KEY:
            show = 1;
            break;
        case 's':
            ks.sealed = optarg;
            break;
        case 'c':
            ks.config = optarg;
            break;
        case 'N':
            ks.sealed = optarg;
            show = 2; /* create, not use */
            break;
        case 'a':
            alg_new = optarg;
            break;
        }
    }
    uint8_t kid[16];
    uint32_t idx[API_PATH_MAX_DEPTH];
    size_t depth;
    ks.name = name;
    if (rc != CTL_EXIT_OK)
        goto out;
    if (show == 2) {
        if (!name || !api_party_id_valid(name) || !alg_new)
            rc = ctl_fail(c, CTL_EXIT_USAGE, "--seal-new FILE needs --name, --alg and --config");
        else
            rc = seal_new(c, &ks, alg_new);
        goto out;
    }
    if (!show) {
        if (optind + 1 != argc || strlen(argv[optind]) != 32 ||
            api_hex_decode(kid, 16, argv[optind], 32) != API_OK) {
            rc = ctl_fail(c, CTL_EXIT_USAGE, "approve takes one key id (32 hex; see --help)");
            goto out;
        }
        if (!name || !api_party_id_valid(name) || !rid || !api_party_id_valid(rid) ||
            strlen(rid) > API_REQUEST_ID_MAX) {
            rc = ctl_fail(c, CTL_EXIT_USAGE,
                          "--name and --request-id are required: 1..64 of A-Z a-z 0-9 . _ -");
            goto out;
        }
        if (api_path_parse(path, idx, &depth) != API_OK) {
            rc = ctl_fail(c, CTL_EXIT_USAGE, "--path '%s': expected m/i/j/...", path);
            goto out;
        }
        if ((rc = ctl_payload_check(c, &pl)) != CTL_EXIT_OK)
            goto out;
    }
    EVP_PKEY *k = load_key(c, &ks);
    if (!k) {
        rc = CTL_EXIT_LOCAL;
        goto out;
    }
    char pub[131];
    mpcd_approval_alg alg = key_info(k, pub);
    if (alg == MPCD_ALG_NONE) {
        rc = ctl_fail(c, CTL_EXIT_LOCAL,
                      "the approver key is not P-256, secp256k1 or Ed25519 (or its public key "
                      "cannot be read)");
    } else if (show) {
        fprintf(c->out, "alg = %s\npublic_key = %s\n", mpcd_approval_alg_name(alg), pub);
    } else {
        uint8_t msg[MPCD_APPROVAL_MSG_MAX], sig[64];
        char sh[129], dh[65];
        uint64_t exp = (uint64_t)time(NULL) + expires_in;
        size_t n = mpcd_approval_message(msg, kid, api_payload_kind_name(pl.kind), pl.digest, path,
                                         rid, exp);
        mpcd_approver_key check;
        /* sign, then verify with the public key alone: a token that signed wrongly (or a key
         * that is not the one shown) is caught here, not by every signer */
        if (n == 0 || mpcd_approval_sign_alg(k, alg, msg, n, sig) != MPCD_APPROVAL_OK ||
            mpcd_approver_key_from_hex(&check, alg, pub) != MPCD_APPROVAL_OK ||
            mpcd_approval_verify(&check, msg, n, sig) != MPCD_APPROVAL_OK) {
            rc = ctl_fail(c, CTL_EXIT_LOCAL, "signing the approval failed");
        } else {
            api_hex_encode(sh, sig, 64);
            api_hex_encode(dh, pl.digest, 32);
            fprintf(c->err, "approving %s %s of key %s along %s, request %s, digest %s\n",
                    api_payload_kind_name(pl.kind), pl.kind == API_PAYLOAD_HASH ? "(raw hash)" : "",
                    argv[optind], path, rid, dh);
            if (pl.kind == API_PAYLOAD_EIP712) {
                char vc[41];
                api_hex_encode(vc, pl.to, 20);
                fprintf(c->err,
                        "  typed data: primary type %s, domain chain id %llu, verifying "
                        "contract %s%s\n",
                        json_string_value(json_object_get(pl.eip712, "primaryType")),
                        (unsigned long long)pl.chain_id, pl.is_create ? "(none)" : "0x",
                        pl.is_create ? "" : vc);
            }
            if (pl.kind == API_PAYLOAD_ETH_TX) {
                char to[41], v[80];
                api_hex_encode(to, pl.to, 20);
                signer_u256_to_dec(v, pl.value);
                fprintf(c->err, "  transaction: chain id %llu, to %s%s, value %s wei\n",
                        (unsigned long long)pl.chain_id, pl.is_create ? "" : "0x",
                        pl.is_create ? "(contract creation)" : to, v);
            }
            json_t *a =
                json_pack("{s:s,s:s,s:I,s:s}", "approver", name, "alg", mpcd_approval_alg_name(alg),
                          "expires", (json_int_t)exp, "signature", sh);
            char *txt = json_dumps(a, JSON_COMPACT);
            fprintf(c->out, "%s\n", txt);
            free(txt);
            json_decref(a);
        }
    }
    EVP_PKEY_free(k);
out:
    key_source_free(&ks);
    ctl_payload_free(&pl);
    return rc;
}

/* ---- policy ---- */

static const char usage_policy[] =
    "usage: mpcctl policy sign --key POLICY-KEY.pem FILE     writes FILE.sig\n"
    "       mpcctl policy verify --pubkey POLICY-KEY.pub FILE  checks FILE.sig (exit 4 if bad)\n"
    "       mpcctl policy show [--pubkey POLICY-KEY.pub] FILE  parses and prints the policy\n"
    "\n"
    "The signers' policy file (mpc-signerd-policy.ini.example). A signer whose config sets\n"
    "[policy] public_key loads the file only with a valid FILE.sig by that key (P-256 or\n"
    "Ed25519): sign it offline, copy both files to the signer, then systemctl reload.\n";

static int policy_load_text(ctl_ctx *c, const char *file, char **text, size_t *len)
{
    *text = read_text(file, SIGNER_POLICY_MAX_BYTES, len);
    return *text ? CTL_EXIT_OK : ctl_fail(c, CTL_EXIT_LOCAL, "%s: cannot read it", file);
}

int ctl_cmd_policy(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"key", required_argument, NULL, 'k'},
                                         {"pubkey", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    const char *key = NULL, *pub = NULL;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = ctl_common_option(c, o, optarg, usage_policy);
        if (r == CTL_OPT_TAKEN)
            continue;
        if (r != CTL_OPT_OTHER)
            return r == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : r;
        if (o == 'k')
            key = optarg;
        else if (o == 'p')
            pub = optarg;
    }
    if (optind + 2 != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "policy sign|verify|show FILE (see --help)");
    const char *cmd = argv[optind], *file = argv[optind + 1];
    char *text = NULL, err[600], sigpath[4200];
    size_t len = 0;
    int rc = policy_load_text(c, file, &text, &len);
    if (rc != CTL_EXIT_OK)
        return rc;
    signer_policy *p = malloc(sizeof *p);
    snprintf(sigpath, sizeof sigpath, "%s.sig", file);
    if (!p) {
        rc = ctl_fail(c, CTL_EXIT_LOCAL, "out of memory");
    } else if (strcmp(cmd, "sign") == 0) {
        EVP_PKEY *k = key ? load_pem(c, key) : NULL;
        char *sig = NULL;
        if (!key)
            rc = ctl_fail(c, CTL_EXIT_USAGE, "policy sign needs --key POLICY-KEY.pem");
        else if (!k)
            rc = CTL_EXIT_LOCAL;
        else if (signer_policy_parse(p, text, len, err, sizeof err) != 0)
            rc = ctl_fail(c, CTL_EXIT_FAILED, "%s: %s; not signed", file, err);
        else if (!(sig = signer_policy_sign(k, text, len)))
            rc = ctl_fail(c, CTL_EXIT_LOCAL, "signing failed (the key must be P-256 or Ed25519)");
        else {
            FILE *f = fopen(sigpath, "w");
            if (!f || fputs(sig, f) < 0 || fclose(f) != 0)
                rc = ctl_fail(c, CTL_EXIT_LOCAL, "%s: cannot write it", sigpath);
            else
                fprintf(c->err, "signed: %s\n", sigpath);
        }
        free(sig);
        EVP_PKEY_free(k);
    } else if (strcmp(cmd, "verify") == 0 || strcmp(cmd, "show") == 0) {
        int verify = cmd[0] == 'v';
        if (verify && !pub)
            rc = ctl_fail(c, CTL_EXIT_USAGE, "policy verify needs --pubkey POLICY-KEY.pub");
        else if (pub && signer_policy_load(p, file, pub, err, sizeof err) != 0)
            rc = ctl_fail(c, CTL_EXIT_VERIFY, "%s", err);
        else if (!pub && signer_policy_parse(p, text, len, err, sizeof err) != 0)
            rc = ctl_fail(c, CTL_EXIT_FAILED, "%s: %s", file, err);
        else if (verify)
            fprintf(c->out, "%s: signature by %s verified, policy parses\n", file, pub);
        else
            signer_policy_print(p, c->out);
    } else {
        rc = ctl_fail(c, CTL_EXIT_USAGE, "policy: unknown subcommand '%s' (sign, verify, show)",
                      cmd);
    }
    free(p);
    free(text);
    return rc;
}
