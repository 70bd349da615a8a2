/* daemon/ctl/sign.c — mpcctl sign: a 32-byte hash (given, or SHA-256 / Keccak-256 of a
 * file) signed by the key's signers through the hub. --verify checks the answer here with
 * libsecp256k1 against the key's public key (after its attestations verified), derived
 * along --path: signature, low s, recovery id and DER. */
#include <getopt.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "api/b64.h"
#include "api/hex.h"
#include "ctl.h"
#include "daemon/common/ethtx.h"
#include "tss/keccak.h"
#include "tss/point.h"

static const char usage_sign[] =
    "usage: mpcctl sign KEY (--hash HEX | --file F [--sha256 | --keccak] | --eth-tx HEX |\n"
    "                   --eip191 HEX | --eip712 FILE) [--path m/0/1] [--signers a,b]\n"
    "                   [--delegate-share FILE] [--request-id ID] [--approval FILE]...\n"
    "                   [--verify] [--wait S]\n"
    "\n"
    "Signs a 32-byte hash with KEY. --hash gives it as 64 hex digits; --file hashes a file\n"
    "with SHA-256 (default) or Keccak-256 (Ethereum). --eth-tx signs an unsigned Ethereum\n"
    "transaction (legacy EIP-155, EIP-2930, EIP-1559; hex) and prints the signed transaction;\n"
    "--eip191 signs a personal message (its bytes in hex); --eip712 typed data (a JSON file,\n"
    "as eth_signTypedData_v4 takes it). Every signer decodes these and\n"
    "hashes them itself. --request-id and --approval (a file holding one approval object\n"
    "from `mpcctl approve`, repeatable) authorize the request for signers whose policy needs\n"
    "approvals. --path signs with the BIP32 child key\n"
    "(non-hardened). --signers picks the signers (at least the threshold; default: the hub\n"
    "picks online ones). Prints r, s, v (27 + recovery id) and the DER signature.\n"
    "--verify fetches the key, verifies its keygen attestations, derives the child key and\n"
    "checks the signature, its low s, recovery id and DER locally (exit 4 if any fails).\n"
    "--wait S: seconds to wait for the session (default 30).\n"
    "--delegate-share FILE: the key's delegate share as `keys create --share-out` wrote it;\n"
    "the delegate signs with it (unsealed for this signature only) plus the other signers\n"
    "(--signers, the default signers, or the hub's pick).\n";

#define MAX_FILE_BYTES (1u << 30)

/* SHA-256 (streamed) or Keccak-256 (whole file in memory, at most 1 GiB) of a file. */
static int hash_file(ctl_ctx *c, const char *path, int keccak, uint8_t out[32])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ctl_fail(c, CTL_EXIT_LOCAL, "--file %s: cannot open it", path);
    uint8_t buf[65536];
    size_t n, total = 0;
    EVP_MD_CTX *md = keccak ? NULL : EVP_MD_CTX_new();
    uint8_t *all = NULL;
    int ok = keccak || (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (keccak) {
            uint8_t *na = total + n <= MAX_FILE_BYTES ? realloc(all, total + n) : NULL;
            ok = na != NULL;
            if (ok) {
                memcpy(na + total, buf, n);
                all = na;
            }
        } else {
            ok = EVP_DigestUpdate(md, buf, n) == 1;
        }
        total += n;
    }
    ok = ok && !ferror(f);
    fclose(f);
    if (ok && keccak)
        tss_keccak256(out, all ? all : buf, total);
    else if (ok)
        ok = EVP_DigestFinal_ex(md, out, NULL) == 1;
    free(all);
    EVP_MD_CTX_free(md);
    return ok ? CTL_EXIT_OK
              : ctl_fail(c, CTL_EXIT_LOCAL, "--file %s: cannot read or hash it", path);
}

typedef struct {
    const char *key, *path, *file, *request_id;
    uint8_t hash[32]; /* the hash signed: given, of the file, or of the typed payload */
    int have_hash, keccak, sha256, verify;
    unsigned wait;
    size_t nsigners;
    api_party_name signers[API_MAX_PARTIES];
    ctl_payload payload; /* --hash / --eth-tx / --eip191 */
    size_t napprovals;
    json_t *approvals; /* array of the --approval files' objects (owned) */
    const char *share_file;
    char *share; /* base64, read from share_file */
} sign_args;

static void sign_args_free(sign_args *a)
{
    ctl_payload_free(&a->payload);
    json_decref(a->approvals);
    a->approvals = NULL;
    if (a->share) {
        OPENSSL_cleanse(a->share, strlen(a->share));
        free(a->share);
        a->share = NULL;
    }
}

/* --approval FILE: one approval object (or an array of them) appended to a->approvals. */
static int add_approval(ctl_ctx *c, sign_args *a, const char *file)
{
    json_error_t je;
    json_t *j = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return ctl_fail(c, CTL_EXIT_LOCAL, "--approval %s: not JSON (line %d: %s)", file, je.line,
                        je.text);
    if (!a->approvals)
        a->approvals = json_array();
    if (json_is_array(j))
        json_array_extend(a->approvals, j);
    else
        json_array_append(a->approvals, j);
    json_decref(j);
    a->napprovals = json_array_size(a->approvals);
    return CTL_EXIT_OK;
}

static int parse_sign(ctl_ctx *c, int argc, char **argv, sign_args *a)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"hash", required_argument, NULL, CTL_OPT_HASH},
                                         {"eth-tx", required_argument, NULL, CTL_OPT_ETH_TX},
                                         {"eip191", required_argument, NULL, CTL_OPT_EIP191},
                                         {"eip712", required_argument, NULL, CTL_OPT_EIP712},
                                         {"request-id", required_argument, NULL, 'R'},
                                         {"approval", required_argument, NULL, 'A'},
                                         {"delegate-share", required_argument, NULL, 'D'},
                                         {"file", required_argument, NULL, 'f'},
                                         {"keccak", no_argument, NULL, 'k'},
                                         {"sha256", no_argument, NULL, 's'},
                                         {"path", required_argument, NULL, 'P'},
                                         {"signers", required_argument, NULL, 'S'},
                                         {"verify", no_argument, NULL, 'v'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    char why[160];
    int o, rc;
    memset(a, 0, sizeof *a);
    a->wait = 30;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        rc = ctl_common_option(c, o, optarg, usage_sign);
        if (rc == CTL_OPT_OTHER && o == 'D') {
            a->share_file = optarg;
            continue;
        }
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc;
        switch (o) {
        case CTL_OPT_HASH:
        case CTL_OPT_ETH_TX:
        case CTL_OPT_EIP191:
        case CTL_OPT_EIP712:
            if ((rc = ctl_payload_option(c, &a->payload, o, optarg)) != CTL_EXIT_OK)
                return rc;
            memcpy(a->hash, a->payload.digest, 32);
            a->have_hash = 1;
            break;
        case 'R':
            if (!api_party_id_valid(optarg) || strlen(optarg) > API_REQUEST_ID_MAX)
                return ctl_fail(c, CTL_EXIT_USAGE, "--request-id: 1..64 of A-Z a-z 0-9 . _ -");
            a->request_id = optarg;
            break;
        case 'A':
            if ((rc = add_approval(c, a, optarg)) != CTL_EXIT_OK)
                return rc;
            break;
        case 'f':
            a->file = optarg;
            break;
        case 'k':
            a->keccak = 1;
            break;
        case 's':
            a->sha256 = 1;
            break;
        case 'P':
            a->path = optarg;
            break;
        case 'v':
            a->verify = 1;
            break;
        case 'w':
            if (ctl_parse_uint(optarg, 0, 3600, &a->wait) != 0)
                return ctl_fail(c, CTL_EXIT_USAGE, "--wait: 0..3600 seconds");
            break;
        case 'S':
            if (ctl_parse_parties(optarg, a->signers, API_MAX_PARTIES, &a->nsigners, why,
                                  sizeof why) != 0)
                return ctl_fail(c, CTL_EXIT_USAGE, "--signers: %s", why);
            if (a->nsigners < 2)
                return ctl_fail(c, CTL_EXIT_USAGE, "--signers: name at least two signers");
            break;
        }
    }
    if (optind + 1 != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "sign takes one key id (see --help)");
    a->key = argv[optind];
    if (strlen(a->key) != 32 || strspn(a->key, "0123456789abcdefABCDEF") != 32)
        return ctl_fail(c, CTL_EXIT_USAGE, "'%s' is not a key id (32 hex characters)", a->key);
    if (a->have_hash == !!a->file)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "sign needs exactly one of --hash HEX, --file F, --eth-tx HEX, "
                        "--eip191 HEX and --eip712 FILE");
    if (a->have_hash && (rc = ctl_payload_check(c, &a->payload)) != CTL_EXIT_OK)
        return rc;
    if (a->napprovals && !a->request_id)
        return ctl_fail(c, CTL_EXIT_USAGE, "--approval needs --request-id (the one approved)");
    if ((a->keccak || a->sha256) && !a->file)
        return ctl_fail(c, CTL_EXIT_USAGE, "--keccak and --sha256 go with --file");
    if (a->keccak && a->sha256)
        return ctl_fail(c, CTL_EXIT_USAGE, "choose one of --keccak and --sha256");
    uint32_t idx[API_PATH_MAX_DEPTH];
    size_t depth;
    if (a->path && api_path_parse(a->path, idx, &depth) != API_OK)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "--path '%s': expected m/i/j/... (at most 8 non-hardened indices)",
                        a->path);
    return CTL_EXIT_OK;
}

static char *sign_body(const sign_args *a)
{
    char h[65];
    api_hex_encode(h, a->hash, 32);
    json_t *o = json_object();
    if (a->file)
        json_object_set_new(o, "hash", json_string(h));
    else
        ctl_payload_to_body(&a->payload, o);
    if (a->request_id)
        json_object_set_new(o, "request_id", json_string(a->request_id));
    if (a->approvals)
        json_object_set(o, "approvals", a->approvals);
    if (a->share)
        json_object_set_new(o, "delegate_share", json_string(a->share));
    if (a->path)
        json_object_set_new(o, "derivation_path", json_string(a->path));
    if (a->nsigners) {
        json_t *p = json_array();
        for (size_t i = 0; i < a->nsigners; i++)
            json_array_append_new(p, json_string(a->signers[i]));
        json_object_set_new(o, "parties", p);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Checks sig (the hub's Signature object) over hash under pk: ECDSA, low s, the recovery id
 * recovers pk, the DER is the encoding of (r, s). 0, or -1 with why[]. */
static int check_sig(const json_t *sig, const uint8_t hash[32], const uint8_t pk[33], char *why,
                     size_t cap)
{
    const secp256k1_context *ctx = tss_secp_ctx();
    uint8_t rs[64], der[80], myder[80];
    size_t derlen = strlen(ctl_jstr(sig, "der")) / 2, mylen = sizeof myder;
    secp256k1_ecdsa_signature s, norm;
    secp256k1_ecdsa_recoverable_signature rsig;
    secp256k1_pubkey pub, rec;
    long long rid = ctl_jint(sig, "recovery_id");
    if (api_hex_decode(rs, 32, ctl_jstr(sig, "r"), strlen(ctl_jstr(sig, "r"))) != API_OK ||
        api_hex_decode(rs + 32, 32, ctl_jstr(sig, "s"), strlen(ctl_jstr(sig, "s"))) != API_OK ||
        derlen > sizeof der ||
        api_hex_decode(der, derlen, ctl_jstr(sig, "der"), 2 * derlen) != API_OK ||
        !secp256k1_ecdsa_signature_parse_compact(ctx, &s, rs) ||
        !secp256k1_ec_pubkey_parse(ctx, &pub, pk, 33)) {
        snprintf(why, cap, "the hub's signature is malformed");
        return -1;
    }
    if (secp256k1_ecdsa_signature_normalize(ctx, &norm, &s)) {
        snprintf(why, cap, "s is not low (s > n/2)");
        return -1;
    }
    if (!secp256k1_ecdsa_verify(ctx, &s, hash, &pub)) {
        snprintf(why, cap, "the signature does not verify under the public key");
        return -1;
    }
    uint8_t a[33], b[33];
    size_t la = 33, lb = 33;
    if (rid < 0 || rid > 3 ||
        !secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, rs, (int)rid) ||
        !secp256k1_ecdsa_recover(ctx, &rec, &rsig, hash) ||
        !secp256k1_ec_pubkey_serialize(ctx, a, &la, &rec, SECP256K1_EC_COMPRESSED) ||
        !secp256k1_ec_pubkey_serialize(ctx, b, &lb, &pub, SECP256K1_EC_COMPRESSED) ||
        memcmp(a, b, 33) != 0) {
        snprintf(why, cap, "the recovery id does not recover the public key");
        return -1;
    }
    if (!secp256k1_ecdsa_signature_serialize_der(ctx, myder, &mylen, &s) || mylen != derlen ||
        memcmp(myder, der, derlen) != 0) {
        snprintf(why, cap, "the DER signature is not the encoding of r and s");
        return -1;
    }
    return 0;
}

/* Reads a delegate share file (base64, one trailing newline allowed). */
static int read_share(ctl_ctx *c, sign_args *a)
{
    FILE *f = fopen(a->share_file, "rb");
    if (!f)
        return ctl_fail(c, CTL_EXIT_LOCAL, "--delegate-share %s: cannot open it", a->share_file);
    size_t cap = API_DELEGATE_SHARE_MAX + 3, n;
    a->share = malloc(cap);
    n = a->share ? fread(a->share, 1, cap - 1, f) : 0;
    fclose(f);
    if (!a->share)
        return ctl_fail(c, CTL_EXIT_LOCAL, "out of memory");
    a->share[n] = 0;
    while (n && (a->share[n - 1] == '\n' || a->share[n - 1] == '\r'))
        a->share[--n] = 0;
    if (!api_b64_valid(a->share, n, NULL) || n > API_DELEGATE_SHARE_MAX)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "--delegate-share %s: not a delegate share (base64 as keys create "
                        "--share-out wrote it)",
                        a->share_file);
    return CTL_EXIT_OK;
}

/* The hub's signed_transaction is the unsigned transaction sent, serialized here with the
 * verified (r, s, recovery id). 0, or -1 with why[]. */
static int check_signed_tx(const sign_args *a, const json_t *sig, char *why, size_t cap)
{
    size_t n = strlen(a->payload.hex) / 2, len = 0;
    uint8_t *raw = malloc(n + 1), *out = malloc(MPCD_ETHTX_SIGNED_MAX(n));
    uint8_t r[32], s[32];
    char *hex = malloc(2 * MPCD_ETHTX_SIGNED_MAX(n) + 1);
    mpcd_ethtx tx;
    int ok = raw && out && hex && api_hex_decode(raw, n, a->payload.hex, 2 * n) == API_OK &&
             mpcd_ethtx_parse(&tx, raw, n) == MPCD_ETH_OK &&
             api_hex_decode(r, 32, ctl_jstr(sig, "r"), 64) == API_OK &&
             api_hex_decode(s, 32, ctl_jstr(sig, "s"), 64) == API_OK &&
             mpcd_ethtx_serialize_signed(out, MPCD_ETHTX_SIGNED_MAX(n), &len, &tx, r, s,
                                         (int)ctl_jint(sig, "recovery_id")) == MPCD_ETH_OK;
    if (ok) {
        api_hex_encode(hex, out, len);
        ok = strcasecmp(hex, ctl_jstr(sig, "signed_transaction")) == 0;
        if (!ok)
            snprintf(why, cap, "the hub's signed_transaction differs from the one built here");
    } else {
        snprintf(why, cap, "cannot rebuild the signed transaction here");
    }
    free(raw);
    free(out);
    free(hex);
    return ok ? 0 : -1;
}

/* --verify: the key (attestations), the child key, the signature. */
static int verify_locally(ctl_ctx *c, const sign_args *a, const json_t *sig, char *desc, size_t cap)
{
    ctl_key k;
    json_t *view = NULL;
    int rc = ctl_key_fetch(c, a->key, &k, &view);
    json_decref(view);
    if (rc == CTL_EXIT_FAILED)
        return ctl_fail(c, CTL_EXIT_VERIFY, "key %s is not active: cannot verify", a->key);
    if (rc != CTL_EXIT_OK)
        return rc;
    uint8_t pk[33];
    char why[160], pkhex[67];
    memcpy(pk, k.public_key, 33);
    if (a->path && ctl_derive(pk, &k, a->path) != 0)
        return ctl_fail(c, CTL_EXIT_VERIFY, "cannot derive along %s", a->path);
    api_hex_encode(pkhex, pk, 33);
    if (ctl_jstr(sig, "public_key")[0] && strcasecmp(ctl_jstr(sig, "public_key"), pkhex) != 0)
        return ctl_fail(c, CTL_EXIT_VERIFY,
                        "SIGNATURE NOT VERIFIED: the hub names public key %s, derived here: %s",
                        ctl_jstr(sig, "public_key"), pkhex);
    char hh[65];
    api_hex_encode(hh, a->hash, 32);
    if (ctl_jstr(sig, "hash")[0] && strcasecmp(ctl_jstr(sig, "hash"), hh) != 0)
        return ctl_fail(c, CTL_EXIT_VERIFY,
                        "SIGNATURE NOT VERIFIED: the hub signed hash %s, computed here: %s",
                        ctl_jstr(sig, "hash"), hh);
    if (check_sig(sig, a->hash, pk, why, sizeof why) != 0)
        return ctl_fail(c, CTL_EXIT_VERIFY, "SIGNATURE NOT VERIFIED: %s", why);
    if (!a->file && a->payload.kind == API_PAYLOAD_ETH_TX &&
        check_signed_tx(a, sig, why, sizeof why) != 0)
        return ctl_fail(c, CTL_EXIT_VERIFY, "SIGNED TRANSACTION NOT VERIFIED: %s", why);
    snprintf(desc, cap,
             "yes, here with libsecp256k1 (low s, recovery id, DER) under %s%s%s; key "
             "attestations %u/%u",
             a->path ? "the key derived along " : "the key's public key", a->path ? a->path : "",
             "", k.n, k.n);
    return CTL_EXIT_OK;
}

/* POST .../sign?wait, and if the session still runs, poll it. *sig owned by the caller. */
static int request_signature(ctl_ctx *c, const sign_args *a, json_t **sig, double *ms)
{
    char url[128];
    char *body = sign_body(a);
    ctl_resp r;
    snprintf(url, sizeof url, "/v1/keys/%s/sign?wait=%u", a->key,
             a->wait > API_WAIT_MAX_SECONDS ? API_WAIT_MAX_SECONDS : a->wait);
    int rc = body ? ctl_http(c, "POST", url, body, &r) : CTL_EXIT_LOCAL;
    free(body);
    if (rc != CTL_EXIT_OK)
        return rc;
    *ms = r.ms;
    if (r.status == 200) {
        *sig = r.body;
        return CTL_EXIT_OK;
    }
    if (r.status != 202) {
        rc = ctl_hub_error(c, &r, "sign");
        ctl_resp_free(&r);
        return rc;
    }
    char sid[33];
    snprintf(sid, sizeof sid, "%s", ctl_jstr(r.body, "id"));
    ctl_resp_free(&r);
    json_t *s = NULL;
    unsigned left = a->wait > API_WAIT_MAX_SECONDS ? a->wait - API_WAIT_MAX_SECONDS : 0;
    if ((rc = ctl_session_wait(c, sid, left, &s)) != CTL_EXIT_OK)
        return rc;
    if (strcmp(ctl_jstr(s, "status"), "failed") == 0) {
        json_t *e = json_object_get(s, "error");
        rc = ctl_fail(c, CTL_EXIT_FAILED, "signing session %s failed: %s: %s", sid,
                      ctl_jstr(e, "code"), ctl_jstr(e, "message"));
        json_decref(s);
        return rc;
    }
    *sig = json_deep_copy(json_object_get(s, "result"));
    json_object_set_new(*sig, "session_id", json_string(sid));
    json_object_set_new(*sig, "key_id", json_string(a->key));
    json_decref(s);
    return CTL_EXIT_OK;
}

static int sign_run(ctl_ctx *c, sign_args *a);

int ctl_cmd_sign(ctl_ctx *c, int argc, char **argv)
{
    sign_args a;
    int rc = parse_sign(c, argc, argv, &a);
    if (rc == CTL_EXIT_OK && a.share_file)
        rc = read_share(c, &a);
    if (rc == CTL_EXIT_OK)
        rc = sign_run(c, &a);
    else if (rc == CTL_OPT_HELP_SHOWN)
        rc = CTL_EXIT_OK;
    sign_args_free(&a);
    return rc;
}

static int sign_run(ctl_ctx *c, sign_args *ap)
{
    sign_args a = *ap;
    int rc;
    if (a.file && (rc = hash_file(c, a.file, a.keccak, a.hash)) != CTL_EXIT_OK)
        return rc;
    if ((rc = ctl_hub_setup(c)) != CTL_EXIT_OK)
        return rc;
    json_t *sig = NULL;
    double ms = 0;
    if ((rc = request_signature(c, &a, &sig, &ms)) != CTL_EXIT_OK)
        return rc;
    char desc[256] = "";
    if (a.verify)
        rc = verify_locally(c, &a, sig, desc, sizeof desc);
    if (rc == CTL_EXIT_OK) {
        char h[65];
        api_hex_encode(h, a.hash, 32);
        if (c->json) {
            json_object_set_new(sig, "hash", json_string(h));
            json_object_set_new(sig, "v", json_integer(27 + ctl_jint(sig, "recovery_id")));
            if (a.verify)
                json_object_set_new(sig, "verified_locally", json_true());
            json_object_set_new(sig, "request_ms", json_real(ms));
            ctl_print_json(c, sig);
        } else {
            fprintf(c->out, "hash         %s%s\n", h,
                    a.file ? (a.keccak ? " (Keccak-256 of the file)" : " (SHA-256 of the file)")
                    : a.payload.kind == API_PAYLOAD_ETH_TX ? " (the transaction's signing hash)"
                    : a.payload.kind == API_PAYLOAD_EIP191 ? " (EIP-191 personal message)"
                    : a.payload.kind == API_PAYLOAD_EIP712 ? " (EIP-712 typed data)"
                                                           : "");
            ctl_print_signature(c, sig, a.verify ? desc : NULL);
            if (ctl_jstr(sig, "signed_transaction")[0])
                fprintf(c->out, "signed tx    0x%s\n", ctl_jstr(sig, "signed_transaction"));
            fprintf(c->out, "time         %.1f ms (request to signature, verified by the hub)\n",
                    ms);
        }
    }
    json_decref(sig);
    return rc;
}
