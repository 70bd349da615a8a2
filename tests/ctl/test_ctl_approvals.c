/* tests/ctl/test_ctl_approvals.c — request approvals and signer policy end to end (issue 15):
 * the mpcctl binary against a real mpc-hubd and three real mpc-signerd (n1 tpm2 on a swtpm,
 * n2 pkcs11 on SoftHSM2, n3 soft). n1 and n2 load a policy signed offline with
 * `mpcctl policy sign` that needs 2 approvals of alice (P-256 PEM), bob (Ed25519 PEM), carol
 * (secp256k1 PEM) and dave (a P-256 key inside the SoftHSM2 token, used through PKCS#11).
 * Without the quorum the REST client gets 403 approval_refused naming the signer; with
 * approvals made by `mpcctl approve` a hash and an EIP-1559 transaction sign, the DER
 * signatures verify with the openssl command line, and the signed transaction's (r, s,
 * yParity) recover the key with libsecp256k1; a transaction to a destination not on the
 * list gets 403 policy_refused. mpcctl policy verify / show, and their refusals. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "api/hex.h"
#include "daemon/common/rlp.h"
#include "deploy.h"
#include "openssl_check.h"
#include "tss/keccak.h"
#include "tss/point.h"

static deploy D;
static char key_id[33];

/* The line "public_key = ..." of `mpcctl approve --show-key` for a key source. */
static void show_key(const char *source, char *out, size_t cap)
{
    char *txt = NULL;
    if (deploy_ctl(&D, &txt, "approve --show-key %s", source) != 0 || !strstr(txt, "public_key = "))
        deploy_die(&D, "approve --show-key");
    char *pk = strstr(txt, "public_key = ") + 13;
    pk[strcspn(pk, "\n")] = 0;
    snprintf(out, cap, "%s", pk);
    free(txt);
}

static char dave_src[512];

/* Approver keys (three PEM files and one in the SoftHSM2 token), the policy, signed. */
static void write_policy(void)
{
    char pin[64] = "", a[140], b[140], c[140], d[140], path[256];
    FILE *f = fopen(D.token.pin_file, "r");
    if (!f || !fgets(pin, sizeof pin, f))
        deploy_die(&D, "token pin");
    fclose(f);
    pin[strcspn(pin, "\n")] = 0;
    if (deploy_sh("cd %s && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                  "-out alice.pem 2>/dev/null && openssl genpkey -algorithm ED25519 -out bob.pem "
                  "&& openssl ecparam -name secp256k1 -genkey -noout -out carol.pem && "
                  "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                  "-out policy-key.pem 2>/dev/null && openssl pkey -in policy-key.pem -pubout "
                  "-out policy-key.pub",
                  D.dir) != 0 ||
        fx_softhsm_keygen(&D.token, D.token.label, pin, "approver-dave", "0d", "EC:prime256v1") !=
            0)
        deploy_die(&D, "approver keys");
    snprintf(dave_src, sizeof dave_src,
             "--pkcs11-module %s --token %s --key-label approver-dave --pin-file %s",
             FX_SOFTHSM_MODULE, D.token.label, D.token.pin_file);
    char src[300];
    snprintf(src, sizeof src, "--key %s/alice.pem", D.dir);
    show_key(src, a, sizeof a);
    snprintf(src, sizeof src, "--key %s/bob.pem", D.dir);
    show_key(src, b, sizeof b);
    snprintf(src, sizeof src, "--key %s/carol.pem", D.dir);
    show_key(src, c, sizeof c);
    show_key(dave_src, d, sizeof d);
    /* erin: a key sealed by a node's backend (soft here; tpm2 or pkcs11 the same way) */
    char e[140], *txt = NULL;
    snprintf(path, sizeof path, "%s/approver.conf", D.dir);
    f = fopen(path, "w");
    if (!f)
        deploy_die(&D, "approver config");
    fprintf(f,
            "[signer]\nparty_id = approver-node\ndatabase = %s/approver.db\n"
            "[hub]\nurl = wss://127.0.0.1:1/v1/party\nca = %s/ca/ca.pem\ncert = %s/approver.pem\n"
            "identity_key = %s/approver.identity\n"
            "[backend]\nkind = soft\nkey_file = %s/approver.soft-key\n"
            "allow_insecure_soft_backend = yes\n",
            D.dir, D.dir, D.dir, D.dir, D.dir);
    fclose(f);
    if (deploy_ctl(&D, NULL,
                   "node init --backend soft --config %s/approver.conf --csr %s/approver.csr",
                   D.dir, D.dir) != 0 ||
        deploy_ctl(&D, &txt,
                   "approve --seal-new %s/erin.sealed --alg ecdsa-secp256k1 --name erin --config "
                   "%s/approver.conf",
                   D.dir, D.dir) != 0 ||
        !strstr(txt, "public_key = "))
        deploy_die(&D, "sealed approver key");
    snprintf(e, sizeof e, "%s", strstr(txt, "public_key = ") + 13);
    e[strcspn(e, "\n")] = 0;
    free(txt);
    snprintf(path, sizeof path, "%s/policy.ini", D.dir);
    f = fopen(path, "w");
    if (!f)
        deploy_die(&D, "policy");
    fprintf(f,
            "[policy]\nraw_hashes = allow\nmessages = allow\nquorum = 2\nchain_ids = 1\n"
            "destinations = 0x1111111111111111111111111111111111111111\n"
            "destinations = 0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\n"
            "max_value = 1000000000000000000\n\n"
            "[approver alice]\nalg = ecdsa-p256\npublic_key = %s\n"
            "[approver bob]\nalg = ed25519\npublic_key = %s\n"
            "[approver carol]\nalg = ecdsa-secp256k1\npublic_key = %s\n"
            "[approver dave]\nalg = ecdsa-p256\npublic_key = %s\n"
            "[approver erin]\nalg = ecdsa-secp256k1\npublic_key = %s\n",
            a, b, c, d, e);
    fclose(f);
    if (deploy_ctl(&D, NULL, "policy sign --key %s/policy-key.pem %s/policy.ini", D.dir, D.dir) !=
        0)
        deploy_die(&D, "policy sign");
}

/* n1 and n2 load the signed policy; n3 has none. */
static void policy_conf(deploy *d, int i)
{
    if (i < 2 && deploy_sh("printf '\\n[policy]\\nfile = %s/policy.ini\\npublic_key = "
                           "%s/policy-key.pub\\n' >> %s/%s.conf",
                           d->dir, d->dir, d->dir, deploy_node[i]) != 0)
        deploy_die(d, "policy config");
}

static int group_setup(void **state)
{
    (void)state;
    deploy_ctl_init(&D, "mpcctl-approvals", HUB_BIN, SIGNERD_BIN, MPCCTL_BIN);
    write_policy();
    deploy_ctl_start_hub(&D);
    deploy_ctl_start_nodes(&D, policy_conf);
    char *out = NULL;
    if (deploy_ctl(&D, &out,
                   "--json keys create --threshold 2 --parties n1,n2,n3 --label approvals") != 0)
        deploy_die(&D, "keys create");
    json_t *k = json_loads(out, 0, NULL);
    snprintf(key_id, sizeof key_id, "%s", json_string_value(json_object_get(k, "id")));
    json_decref(k);
    free(out);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    /* every daemon exits 0 on SIGTERM (the sanitizer build: no leak, no error) */
    int bad = deploy_stop_all_clean(&D);
    if (bad)
        deploy_dump_logs(&D);
    deploy_cleanup(&D);
    return bad ? -1 : 0;
}

/* ---- helpers ---- */

/* mpcctl approve with source into dir/NAME.json. */
static void approve(const char *file, const char *name, const char *source, const char *rid,
                    const char *payload)
{
    int rc = deploy_ctl(&D, NULL, "approve %s --name %s --request-id %s %s %s > %s/%s", key_id,
                        name, rid, payload, source, D.dir, file);
    if (rc != 0) {
        deploy_dump_logs(&D);
        fail_msg("mpcctl approve %s: exit %d", name, rc);
    }
}

static json_t *sign_json(int expect, const char *args)
{
    char *out = NULL;
    int rc = deploy_ctl(&D, &out, "--json sign %s %s", key_id, args);
    if (rc != expect) {
        deploy_sh("tail -n 5 %s/mpcctl.log >&2", D.dir);
        deploy_dump_logs(&D);
        fail_msg("mpcctl sign %s: exit %d, expected %d", args, rc, expect);
    }
    json_t *o = json_loads(out ? out : "", 0, NULL);
    free(out);
    return o;
}

/* The DER in s verifies over hash (hex) with openssl against `keys show --pem`. */
static void openssl_verifies(const json_t *s, const char *hash)
{
    osc_verifies(&D, key_id, NULL, json_string_value(json_object_get(s, "der")), hash);
}

/* Approvers a and b approve payload (mpcctl's payload arguments, e.g. "--eth-tx HEX") for
 * request rid with their PEM keys dir/A.pem, dir/B.pem, into dir/A<tag>.json and
 * dir/B<tag>.json; args (cap bytes) receives mpcctl sign's arguments for payload with both. */
static void approve_both(const char *payload, const char *rid, const char *a, const char *b,
                         const char *tag, char *args, size_t cap)
{
    char src[300], file_a[64], file_b[64];
    snprintf(file_a, sizeof file_a, "%s%s.json", a, tag);
    snprintf(file_b, sizeof file_b, "%s%s.json", b, tag);
    snprintf(src, sizeof src, "--key %s/%s.pem", D.dir, a);
    approve(file_a, a, src, rid, payload);
    snprintf(src, sizeof src, "--key %s/%s.pem", D.dir, b);
    approve(file_b, b, src, rid, payload);
    snprintf(args, cap, "%s --request-id %s --approval %s/%s --approval %s/%s", payload, rid, D.dir,
             file_a, D.dir, file_b);
}

/* approve_both, then mpcctl signs with --verify: it must exit 0, report hash (hex) and its
 * DER must verify with openssl. Returns the sign result. */
static json_t *sign_approved(const char *payload, const char *rid, const char *a, const char *b,
                             const char *tag, const char *hash)
{
    char args[1200];
    approve_both(payload, rid, a, b, tag, args, sizeof args - 10);
    strcat(args, " --verify");
    json_t *s = sign_json(0, args);
    assert_string_equal(json_string_value(json_object_get(s, "hash")), hash);
    openssl_verifies(s, hash);
    return s;
}

/* ---- tests ---- */

/* Without the quorum: 403 with the refusing signer named, on the REST API and in mpcctl. */
static void test_refused_without_quorum(void **state)
{
    (void)state;
    char body[200], path[100];
    json_t *o = NULL;
    snprintf(path, sizeof path, "/v1/keys/%s/sign?wait=20", key_id);
    snprintf(body, sizeof body, "{\"hash\":\"%064d\"}", 7);
    int status = deploy_api(&D, "POST", path, body, &o);
    assert_int_equal(status, 403);
    json_t *e = json_object_get(o, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "approval_refused");
    const char *msg = json_string_value(json_object_get(e, "message"));
    assert_non_null(strstr(msg, "aborted: approval: this signer needs 2 approvals"));
    assert_true(strstr(msg, "party 'n1'") || strstr(msg, "party 'n2'"));
    json_decref(o);
    /* one approval is not enough either */
    char src[300];
    snprintf(src, sizeof src, "--key %s/alice.pem", D.dir);
    approve("a1.json", "alice", src, "one-only",
            "--hash 0707070707070707070707070707070707070707070707070707070707070707");
    char args[300];
    snprintf(args, sizeof args,
             "--hash 0707070707070707070707070707070707070707070707070707070707070707 "
             "--request-id one-only --approval %s/a1.json --signers n1,n3",
             D.dir);
    json_decref(sign_json(1, args));
    assert_true(deploy_ctl_error_has(&D, "approval_refused"));
    assert_true(deploy_ctl_error_has(&D, "1 of 2 required approvals valid"));
}

/* alice (PEM) and dave (PKCS#11 token) approve a hash: it signs, openssl verifies it. */
static void test_hash_with_approvals(void **state)
{
    (void)state;
    const char *h = "5151515151515151515151515151515151515151515151515151515151515151";
    char src[300], payload[100], args[600];
    snprintf(src, sizeof src, "--key %s/alice.pem", D.dir);
    snprintf(payload, sizeof payload, "--hash %s --path m/3", h);
    approve("alice.json", "alice", src, "hash-1", payload);
    approve("dave.json", "dave", dave_src, "hash-1", payload);
    snprintf(args, sizeof args,
             "--hash %s --path m/3 --request-id hash-1 --approval %s/alice.json --approval "
             "%s/dave.json --signers n1,n2 --verify",
             h, D.dir, D.dir);
    json_t *s = sign_json(0, args);
    assert_true(json_is_true(json_object_get(s, "verified_locally")));
    osc_verifies(&D, key_id, "m/3", json_string_value(json_object_get(s, "der")), h);
    json_decref(s);
    /* the same request id again: refused by the signers that saw it */
    json_decref(sign_json(1, args));
    assert_true(deploy_ctl_error_has(&D, "already used on this signer"));
}

/* An unsigned EIP-1559 transaction (hex) and its signing hash. */
static void build_tx(char *hex, uint8_t sighash[32], uint8_t to_byte)
{
    uint8_t buf[200], to[20], value[8] = {0, 0, 0, 0, 0x3b, 0x9a, 0xca, 0};
    mpcd_rlp_enc e;
    size_t len;
    memset(to, to_byte, 20);
    buf[0] = 2;
    mpcd_rlp_enc_init(&e, buf + 1, sizeof buf - 1);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_u64(&e, 1);
    mpcd_rlp_enc_u64(&e, 3);
    mpcd_rlp_enc_u64(&e, 2000000000);
    mpcd_rlp_enc_u64(&e, 40000000000ull);
    mpcd_rlp_enc_u64(&e, 21000);
    mpcd_rlp_enc_bytes(&e, to, 20);
    mpcd_rlp_enc_uint(&e, value, 8);
    mpcd_rlp_enc_bytes(&e, NULL, 0);
    size_t al = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_list_end(&e, al);
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), 0);
    api_hex_encode(hex, buf, len + 1);
    tss_keccak256(sighash, buf, len + 1);
}

/* bob (Ed25519) and carol (secp256k1) approve a transaction; the hub returns it signed. */
static void test_transaction(void **state)
{
    (void)state;
    char tx[400], hh[65], payload[500], args[1200];
    uint8_t sighash[32];
    build_tx(tx, sighash, 0x11);
    api_hex_encode(hh, sighash, 32);
    snprintf(payload, sizeof payload, "--eth-tx %s", tx);
    json_t *s = sign_approved(payload, "tx-1", "bob", "carol", "", hh);
    /* the signed transaction: 0x02 || rlp[9 fields, yParity, r, s]; recover the key from it */
    const char *stx = json_string_value(json_object_get(s, "signed_transaction"));
    assert_non_null(stx);
    uint8_t raw[300];
    size_t n = strlen(stx) / 2;
    assert_int_equal(api_hex_decode(raw, n, stx, 2 * n), API_OK);
    assert_int_equal(raw[0], 2);
    mpcd_rlp_item top, items[12];
    size_t count = 0;
    assert_int_equal(mpcd_rlp_decode(&top, raw + 1, n - 1), 0);
    assert_int_equal(mpcd_rlp_list(items, 12, &count, &top), 0);
    assert_int_equal(count, 12);
    uint64_t parity;
    uint8_t rs[64];
    assert_int_equal(mpcd_rlp_u64(&parity, &items[9]), 0);
    assert_int_equal(mpcd_rlp_u256(rs, &items[10]), 0);
    assert_int_equal(mpcd_rlp_u256(rs + 32, &items[11]), 0);
    const secp256k1_context *ctx = tss_secp_ctx();
    secp256k1_ecdsa_recoverable_signature rsig;
    secp256k1_pubkey rec;
    uint8_t got[33], want[33];
    size_t glen = 33;
    assert_int_equal(
        secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, rs, (int)parity), 1);
    assert_int_equal(secp256k1_ecdsa_recover(ctx, &rec, &rsig, sighash), 1);
    secp256k1_ec_pubkey_serialize(ctx, got, &glen, &rec, SECP256K1_EC_COMPRESSED);
    assert_int_equal(
        api_hex_decode(want, 33, json_string_value(json_object_get(s, "public_key")), 66), API_OK);
    assert_memory_equal(got, want, 33);
    json_decref(s);
    /* a destination that is not on the list: 403 policy_refused, no signature */
    build_tx(tx, sighash, 0x22);
    snprintf(payload, sizeof payload, "--eth-tx %s", tx);
    approve_both(payload, "tx-2", "bob", "carol", "2", args, sizeof args);
    json_decref(sign_json(1, args));
    assert_true(deploy_ctl_error_has(&D, "policy_refused"));
    assert_true(deploy_ctl_error_has(
        &D, "policy: destinations: 0x2222222222222222222222222222222222222222"));
}

static void test_policy_commands(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(deploy_ctl(&D, &out, "policy verify --pubkey %s/policy-key.pub %s/policy.ini",
                                D.dir, D.dir),
                     0);
    free(out);
    assert_int_equal(deploy_ctl(&D, &out, "policy show %s/policy.ini", D.dir), 0);
    assert_non_null(strstr(out, "approver dave ecdsa-p256"));
    assert_non_null(strstr(out, "max_value 1000000000000000000 wei"));
    free(out);
    /* a tampered copy, and one signed by another key */
    assert_int_equal(deploy_sh("cd %s && sed 's/quorum = 2/quorum = 1/' policy.ini > t.ini && "
                               "cp policy.ini.sig t.ini.sig",
                               D.dir),
                     0);
    assert_int_equal(
        deploy_ctl(&D, NULL, "policy verify --pubkey %s/policy-key.pub %s/t.ini", D.dir, D.dir), 4);
    assert_true(deploy_ctl_error_has(&D, "does not verify"));
    assert_int_equal(deploy_sh("cd %s && openssl genpkey -algorithm ED25519 -out other.pem && "
                               "openssl pkey -in other.pem -pubout -out other.pub",
                               D.dir),
                     0);
    assert_int_equal(
        deploy_ctl(&D, NULL, "policy verify --pubkey %s/other.pub %s/policy.ini", D.dir, D.dir), 4);
    /* approve refuses what it cannot sign properly */
    assert_int_equal(deploy_ctl(&D, NULL, "approve %s --name x --request-id r --hash 00", key_id),
                     2);
    assert_int_equal(deploy_ctl(&D, NULL,
                                "approve %s --name x --request-id r --eth-tx 02c0 --key %s/bob.pem",
                                key_id, D.dir),
                     2);
}

/* EIP-712: the EIP's Mail example through hub and signers; the signature verifies (openssl)
 * over the digest the EIP publishes. */
static void test_eip712(void **state)
{
    (void)state;
    static const char mail[] =
        "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":"
        "\"version\",\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},{\"name\":"
        "\"verifyingContract\",\"type\":\"address\"}],\"Person\":[{\"name\":\"name\",\"type\":"
        "\"string\"},{\"name\":\"wallet\",\"type\":\"address\"}],\"Mail\":[{\"name\":\"from\","
        "\"type\":\"Person\"},{\"name\":\"to\",\"type\":\"Person\"},{\"name\":\"contents\","
        "\"type\":\"string\"}]},\"primaryType\":\"Mail\",\"domain\":{\"name\":\"Ether Mail\","
        "\"version\":\"1\",\"chainId\":1,\"verifyingContract\":"
        "\"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\"},\"message\":{\"from\":{\"name\":"
        "\"Cow\",\"wallet\":\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"},\"to\":{\"name\":"
        "\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"},\"contents\":"
        "\"Hello, Bob!\"}}\n";
    const char *digest = "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2";
    char path[200], payload[300];
    snprintf(path, sizeof path, "%s/mail.json", D.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(mail, f);
    fclose(f);
    snprintf(payload, sizeof payload, "--eip712 %s", path);
    json_decref(sign_approved(payload, "mail-1", "alice", "carol", "712", digest));
}

/* erin's key is sealed by a node's backend: it approves only as erin, with that backend. */
static void test_sealed_approver(void **state)
{
    (void)state;
    const char *h = "6161616161616161616161616161616161616161616161616161616161616161";
    char src[400], payload[100], args[700];
    snprintf(src, sizeof src, "--sealed %s/erin.sealed --config %s/approver.conf", D.dir, D.dir);
    snprintf(payload, sizeof payload, "--hash %s", h);
    approve("erin.json", "erin", src, "sealed-1", payload);
    snprintf(args, sizeof args, "--key %s/bob.pem", D.dir);
    approve("bob-s.json", "bob", args, "sealed-1", payload);
    snprintf(args, sizeof args,
             "--hash %s --request-id sealed-1 --approval %s/erin.json --approval %s/bob-s.json "
             "--verify",
             h, D.dir, D.dir);
    json_decref(sign_json(0, args));
    /* the sealed key does not open under another approver's name, nor leaves the file */
    assert_int_equal(
        deploy_ctl(&D, NULL, "approve %s --name carol --request-id x --hash %s %s", key_id, h, src),
        5);
    assert_true(deploy_ctl_error_has(&D, "does not open it as approver 'carol'"));
    assert_int_not_equal(deploy_sh("grep -q 'PRIVATE KEY' %s/erin.sealed", D.dir), 0);
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_without_quorum),
        cmocka_unit_test(test_hash_with_approvals),
        cmocka_unit_test(test_transaction),
        cmocka_unit_test(test_eip712),
        cmocka_unit_test(test_sealed_approver),
        cmocka_unit_test(test_policy_commands),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
