/* tests/common/test_ethtx.c — Ethereum transactions against published vectors:
 *  - EIP-155's example (eips.ethereum.org/EIPS/eip-155): signing data, signing hash
 *    0xdaf5a779..., the signature of key 0x4646...46 and the signed transaction;
 *  - EIP-2930: go-ethereum core/types/transaction_test.go emptyEip2718Tx /
 *    signedEip2718Tx (TestEIP2718TransactionSigHash, TestEIP2718TransactionEncode; the same
 *    vector is in ethers-rs): signing hash 0x49b486f0... and the signed encoding 01f863...
 *    (pre-Berlin versions of that test carry 0xc44faa8f..., the hash of a draft encoding);
 *  - EIP-1559: mainnet transaction 0x0ec0b6a2... from the reth / alloy test
 *    recover_signer_eip1559 (paradigmxyz/reth crates/primitives/src/transaction/
 *    eip1559.rs, alloy-rs/examples encode_decode_eip1559.rs): fields, signature, hash of
 *    the signed encoding and the signer 0xdd6b8b3d...;
 * and round trips: sign a parsed transaction's hash with libsecp256k1, serialize, re-parse
 * the signed encoding and recover the sender; plus every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "daemon/common/ethtx.h"
#include "tss/keccak.h"
#include "vec.h"

static secp256k1_context *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    secp256k1_context_destroy(ctx);
    return 0;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
    char *h = vec_hex(got, len);
    assert_string_equal(h, want[0] == '0' && want[1] == 'x' ? want + 2 : want);
    free(h);
}

/* The Ethereum address of a secp256k1 public key. */
static void address_of(uint8_t addr[20], const secp256k1_pubkey *pk)
{
    uint8_t u[65], h[32];
    size_t len = sizeof u;
    assert_true(secp256k1_ec_pubkey_serialize(ctx, u, &len, pk, SECP256K1_EC_UNCOMPRESSED));
    tss_keccak256(h, u + 1, 64);
    memcpy(addr, h + 12, 20);
}

/* Recovers the address that signed hash with (r, s, recid). */
static void recover(uint8_t addr[20], const uint8_t hash[32], const uint8_t r[32],
                    const uint8_t s[32], int recid)
{
    uint8_t rs[64];
    secp256k1_ecdsa_recoverable_signature sig;
    secp256k1_pubkey pk;
    memcpy(rs, r, 32);
    memcpy(rs + 32, s, 32);
    assert_true(secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, rs, recid));
    assert_true(secp256k1_ecdsa_recover(ctx, &pk, &sig, hash));
    address_of(addr, &pk);
}

/* Signs hash with sk (RFC 6979, as libsecp256k1 does by default; low s). */
static void sign(uint8_t r[32], uint8_t s[32], int *recid, const uint8_t hash[32],
                 const uint8_t sk[32])
{
    uint8_t rs[64];
    secp256k1_ecdsa_recoverable_signature sig;
    assert_true(secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, sk, NULL, NULL));
    assert_true(secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rs, recid, &sig));
    memcpy(r, rs, 32);
    memcpy(s, rs + 32, 32);
}

static void test_eip155_example(void **state)
{
    (void)state;
    size_t len, out_len;
    uint8_t *raw = vec_unhex("ec098504a817c800825208943535353535353535353535353535353535353535"
                             "880de0b6b3a764000080018080",
                             &len);
    mpcd_ethtx tx;
    assert_int_equal(mpcd_ethtx_parse(&tx, raw, len), MPCD_ETH_OK);
    assert_int_equal(tx.type, MPCD_ETHTX_LEGACY);
    assert_string_equal(mpcd_ethtx_type_name(tx.type), "legacy");
    assert_int_equal(tx.chain_id, 1);
    assert_int_equal(tx.nonce, 9);
    assert_int_equal(tx.gas_limit, 21000);
    assert_hex(tx.max_fee, 32, "00000000000000000000000000000000000000000000000000000004a817c800");
    assert_false(tx.is_create);
    assert_hex(tx.to, 20, "3535353535353535353535353535353535353535");
    assert_hex(tx.value, 32, "0000000000000000000000000000000000000000000000000de0b6b3a7640000");
    assert_int_equal(tx.data_len, 0);
    assert_false(tx.has_selector);
    assert_hex(tx.sighash, 32, "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");

    /* The EIP's signature is RFC 6979's with key 0x46..46: libsecp256k1 finds it too. */
    uint8_t sk[32], r[32], s[32], out[256];
    int recid;
    memset(sk, 0x46, 32);
    sign(r, s, &recid, tx.sighash, sk);
    assert_hex(r, 32, "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276");
    assert_hex(s, 32, "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    assert_int_equal(recid, 0); /* v = 37 */
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, s, recid),
                     MPCD_ETH_OK);
    assert_hex(out, out_len,
               "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7"
               "6400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a0"
               "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    /* MPCD_ETHTX_SIGNED_MAX is enough, one byte less than needed is not */
    assert_true(out_len <= MPCD_ETHTX_SIGNED_MAX(len));
    assert_int_equal(mpcd_ethtx_serialize_signed(out, out_len - 1, &out_len, &tx, r, s, recid),
                     MPCD_ETH_ERR_BUFFER);
    free(raw);
}

static void test_eip2930_geth(void **state)
{
    (void)state;
    size_t len, out_len;
    uint8_t *raw =
        vec_unhex("01e00103018261a894b94f5374fce5edbc8e2a8697c15331677e6ebf0b0a825544c0", &len);
    mpcd_ethtx tx;
    uint8_t r[32], s[32], out[256];
    assert_int_equal(mpcd_ethtx_parse(&tx, raw, len), MPCD_ETH_OK);
    assert_int_equal(tx.type, MPCD_ETHTX_EIP2930);
    assert_int_equal(tx.chain_id, 1);
    assert_int_equal(tx.nonce, 3);
    assert_int_equal(tx.gas_limit, 25000);
    assert_int_equal(tx.max_fee[31], 1);
    assert_int_equal(tx.value[31], 10);
    assert_int_equal(tx.data_len, 2);
    assert_memory_equal(tx.data, "\x55\x44", 2);
    assert_false(tx.has_selector);
    assert_int_equal(tx.access_addresses, 0);
    assert_hex(tx.sighash, 32, "49b486f0ec0a60dfbbca2d30cb07c9e8ffb2a2ff41f29a1ab6737475f6ff69f3");
    vec_unhex_n(r, 32, "c9519f4f2b30335884581971573fadf60c6204f59a911df35ee8a540456b2660");
    vec_unhex_n(s, 32, "32f1e8e2c5dd761f9e4f88f41c8310aeaba26a8bfcdacfedfa12ec3862d37521");
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, s, 1),
                     MPCD_ETH_OK);
    assert_hex(out, out_len,
               "01f8630103018261a894b94f5374fce5edbc8e2a8697c15331677e6ebf0b0a825544c001a0c951"
               "9f4f2b30335884581971573fadf60c6204f59a911df35ee8a540456b2660a032f1e8e2c5dd761f"
               "9e4f88f41c8310aeaba26a8bfcdacfedfa12ec3862d37521");
    free(raw);
}

/* Builds the unsigned EIP-1559 transaction of reth's recover_signer_eip1559. */
static size_t build_reth_1559(uint8_t *buf, size_t cap)
{
    uint8_t to[20], data[68], prio[4] = {0x3b, 0x9a, 0xca, 0x00};
    uint8_t maxfee[5] = {0x04, 0xa8, 0x17, 0xc8, 0x00};
    size_t len;
    mpcd_rlp_enc e;
    vec_unhex_n(to, 20, "6069a6c32cf691f5982febae4faf8a6f3ab2f0f6");
    vec_unhex_n(data, 68,
                "a22cb4650000000000000000000000005eee75727d804a2b13038928d36f8b188945a57a0000"
                "000000000000000000000000000000000000000000000000000000000000");
    buf[0] = 0x02;
    mpcd_rlp_enc_init(&e, buf + 1, cap - 1);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_u64(&e, 1);
    mpcd_rlp_enc_u64(&e, 0x42);
    mpcd_rlp_enc_uint(&e, prio, sizeof prio);
    mpcd_rlp_enc_uint(&e, maxfee, sizeof maxfee);
    mpcd_rlp_enc_u64(&e, 44386);
    mpcd_rlp_enc_bytes(&e, to, 20);
    mpcd_rlp_enc_u64(&e, 0);
    mpcd_rlp_enc_bytes(&e, data, sizeof data);
    mpcd_rlp_enc_list_end(&e, mpcd_rlp_enc_list_begin(&e)); /* empty access list */
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
    return len + 1;
}

static void test_eip1559_reth(void **state)
{
    (void)state;
    uint8_t raw[256], out[512], r[32], s[32], h[32], addr[20];
    size_t len = build_reth_1559(raw, sizeof raw), out_len;
    mpcd_ethtx tx;
    assert_int_equal(mpcd_ethtx_parse(&tx, raw, len), MPCD_ETH_OK);
    assert_int_equal(tx.type, MPCD_ETHTX_EIP1559);
    assert_string_equal(mpcd_ethtx_type_name(tx.type), "eip1559");
    assert_int_equal(tx.chain_id, 1);
    assert_int_equal(tx.nonce, 0x42);
    assert_int_equal(tx.gas_limit, 44386);
    assert_hex(tx.priority_fee + 28, 4, "3b9aca00");
    assert_hex(tx.max_fee + 27, 5, "04a817c800");
    assert_hex(tx.to, 20, "6069a6c32cf691f5982febae4faf8a6f3ab2f0f6");
    assert_int_equal(tx.data_len, 68);
    assert_true(tx.has_selector);
    assert_hex(tx.selector, 4, "a22cb465"); /* setApprovalForAll(address,bool) */
    vec_unhex_n(r, 32, "840cfc572845f5786e702984c2a582528cad4b49b2a10b9db1be7fca90058565");
    vec_unhex_n(s, 32, "25e7109ceb98168d95b09b18bbf6b685130e0562f233877d492b94eee0c5b6d1");
    recover(addr, tx.sighash, r, s, 0);
    assert_hex(addr, 20, "dd6b8b3dc6b7ad97db52f08a275ff4483e024cea");
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, s, 0),
                     MPCD_ETH_OK);
    tss_keccak256(h, out, out_len); /* the transaction hash etherscan shows */
    assert_hex(h, 32, "0ec0b6a2df4d87424e5f6ad2a654e27aaeb7dac20ae9e8385cc09087ad532ee0");
}

/* Splits a signed encoding (type byte already skipped) into fields; checks the first n
 * equal the unsigned transaction's and returns the last three. */
static void split_signed(const uint8_t *enc, size_t len, const mpcd_ethtx *tx, mpcd_rlp_item sig[3])
{
    mpcd_rlp_item top, f[12];
    size_t n, keep = tx->type == MPCD_ETHTX_LEGACY ? 6 : tx->nfields;
    assert_int_equal(mpcd_rlp_decode(&top, enc, len), MPCD_ETH_OK);
    assert_int_equal(mpcd_rlp_list(f, 12, &n, &top), MPCD_ETH_OK);
    assert_int_equal(n, keep + 3);
    for (size_t i = 0; i < keep; i++) {
        assert_int_equal(f[i].raw_len, tx->fields[i].raw_len);
        assert_memory_equal(f[i].raw, tx->fields[i].raw, f[i].raw_len);
    }
    memcpy(sig, f + keep, 3 * sizeof f[0]);
}

/* Sign, serialize, re-parse, recover: for each type, with an access list and a contract
 * creation, and a legacy chain id so large that v needs 66 bits. */
static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t sk[32], key[32], addr[20], want[20], r[32], s[32], rr[32], ss[32];
    uint8_t raw[512], out[1024];
    secp256k1_pubkey pk;
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(0x11 * (i % 7) + 1);
    assert_true(secp256k1_ec_pubkey_create(ctx, &pk, sk));
    address_of(want, &pk);
    memset(key, 0x5a, 32);
    static const uint64_t chains[] = {1, 137, 0xffffffffffffffffull, 0x8000000000000000ull};
    for (int type = 0; type <= 2; type++) {
        for (size_t c = 0; c < sizeof chains / sizeof chains[0]; c++) {
            mpcd_rlp_enc e;
            size_t len, out_len, off = type ? 1 : 0;
            raw[0] = (uint8_t)type;
            mpcd_rlp_enc_init(&e, raw + off, sizeof raw - off);
            size_t m = mpcd_rlp_enc_list_begin(&e);
            if (type)
                mpcd_rlp_enc_u64(&e, chains[c]);
            mpcd_rlp_enc_u64(&e, 7); /* nonce */
            if (type == 2)
                mpcd_rlp_enc_u64(&e, 1000000000); /* priority fee */
            mpcd_rlp_enc_u64(&e, 30000000000ull); /* gas price / max fee */
            mpcd_rlp_enc_u64(&e, 100000);         /* gas */
            mpcd_rlp_enc_bytes(&e, NULL, 0);      /* contract creation */
            mpcd_rlp_enc_uint(&e, key, 32);       /* value: 256 bits */
            mpcd_rlp_enc_bytes(&e, (const uint8_t *)"\x60\x80\x60\x40\x52", 5);
            if (type) { /* [[addr, [key, key]]] */
                size_t al = mpcd_rlp_enc_list_begin(&e), en = mpcd_rlp_enc_list_begin(&e);
                mpcd_rlp_enc_bytes(&e, want, 20);
                size_t ks = mpcd_rlp_enc_list_begin(&e);
                mpcd_rlp_enc_bytes(&e, key, 32);
                mpcd_rlp_enc_bytes(&e, key, 32);
                mpcd_rlp_enc_list_end(&e, ks);
                mpcd_rlp_enc_list_end(&e, en);
                mpcd_rlp_enc_list_end(&e, al);
            } else {
                mpcd_rlp_enc_u64(&e, chains[c]);
                mpcd_rlp_enc_u64(&e, 0);
                mpcd_rlp_enc_u64(&e, 0);
            }
            mpcd_rlp_enc_list_end(&e, m);
            assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
            len += off;

            mpcd_ethtx tx;
            int recid;
            assert_int_equal(mpcd_ethtx_parse(&tx, raw, len), MPCD_ETH_OK);
            assert_int_equal(tx.type, type);
            assert_int_equal(tx.chain_id, chains[c]);
            assert_true(tx.is_create);
            assert_memory_equal(tx.value, key, 32);
            assert_int_equal(tx.access_addresses, type ? 1 : 0);
            assert_int_equal(tx.access_keys, type ? 2 : 0);
            assert_true(tx.has_selector);
            sign(r, s, &recid, tx.sighash, sk);
            assert_int_equal(
                mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, s, recid),
                MPCD_ETH_OK);
            assert_true(out_len <= MPCD_ETHTX_SIGNED_MAX(len));
            if (type)
                assert_int_equal(out[0], type);
            mpcd_rlp_item sig[3];
            split_signed(out + off, out_len - off, &tx, sig);
            assert_int_equal(mpcd_rlp_u256(rr, &sig[1]), MPCD_ETH_OK);
            assert_int_equal(mpcd_rlp_u256(ss, &sig[2]), MPCD_ETH_OK);
            assert_memory_equal(rr, r, 32);
            assert_memory_equal(ss, s, 32);
            int got_recid;
            if (type) {
                uint64_t y;
                assert_int_equal(mpcd_rlp_u64(&y, &sig[0]), MPCD_ETH_OK);
                got_recid = (int)y;
            } else { /* v = chainId * 2 + 35 + recid, up to 66 bits: (v - 35) / 2 == chain */
                uint8_t v[32];
                assert_int_equal(mpcd_rlp_u256(v, &sig[0]), MPCD_ETH_OK);
                unsigned __int128 vv = 0;
                for (int i = 16; i < 32; i++)
                    vv = vv << 8 | v[i];
                assert_true((uint64_t)((vv - 35) / 2) == chains[c]);
                got_recid = (int)((vv - 35) % 2);
            }
            assert_int_equal(got_recid, recid);
            recover(addr, tx.sighash, rr, ss, got_recid);
            assert_memory_equal(addr, want, 20);
        }
    }
}

static mpcd_eth_err parse_hex(const char *hex)
{
    size_t len;
    uint8_t *b = vec_unhex(hex, &len);
    mpcd_ethtx tx;
    memset(&tx, 0xee, sizeof tx);
    mpcd_eth_err e = mpcd_ethtx_parse(&tx, b, len);
    if (e != MPCD_ETH_OK) { /* untouched on failure */
        uint8_t ee[sizeof tx];
        memset(ee, 0xee, sizeof ee);
        assert_memory_equal(&tx, ee, sizeof tx);
    }
    free(b);
    return e;
}

/* Wraps payload (the concatenated encodings of the fields, hex) in a list header, after
 * the type byte when type >= 0, and parses it. */
static mpcd_eth_err parse_fields(int type, const char *payload_hex)
{
    size_t n, len;
    uint8_t *p = vec_unhex(payload_hex, &n), buf[1024];
    mpcd_rlp_enc e;
    size_t off = type >= 0 ? 1 : 0;
    buf[0] = (uint8_t)type;
    mpcd_rlp_enc_init(&e, buf + off, sizeof buf - off);
    size_t m = mpcd_rlp_enc_list_begin(&e);
    mpcd_rlp_enc_raw(&e, p, n);
    mpcd_rlp_enc_list_end(&e, m);
    assert_int_equal(mpcd_rlp_enc_finish(&e, &len), MPCD_ETH_OK);
    char *hex = vec_hex(buf, len + off);
    mpcd_eth_err err = parse_hex(hex);
    free(hex);
    free(p);
    return err;
}

/* Field encodings of the EIP-155 example, to vary one at a time. */
#define NONCE "09"
#define PRICE "8504a817c800"
#define GAS   "825208"
#define TO    "943535353535353535353535353535353535353535"
#define VALUE "880de0b6b3a7640000"
#define ADDR  "941111111111111111111111111111111111111111"
#define KEY   "a02222222222222222222222222222222222222222222222222222222222222222"
#define TYPED "01" NONCE PRICE GAS TO VALUE "825544" /* chainId 1 ... data */

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        int type;
        const char *payload;
        mpcd_eth_err want;
    } bad[] = {
        /* legacy */
        {"valid (control)", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "01"
                                  "80"
                                  "80",
         MPCD_ETH_OK},
        {"pre-EIP-155 (6 fields)", -1, NONCE PRICE GAS TO VALUE "80", MPCD_ETH_ERR_TX_NO_CHAIN},
        {"chain id 0", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "80"
                                  "80"
                                  "80",
         MPCD_ETH_ERR_TX_NO_CHAIN},
        {"r not 0", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "01"
                                  "01"
                                  "80",
         MPCD_ETH_ERR_TX_NO_CHAIN},
        {"s a list", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "01"
                                  "80"
                                  "c0",
         MPCD_ETH_ERR_TX_NO_CHAIN},
        {"chain id 2^64", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "89010000000000000000"
                                  "80"
                                  "80",
         MPCD_ETH_ERR_TX_CHAIN_ID},
        {"chain id leading zero", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "820001"
                                  "80"
                                  "80",
         MPCD_ETH_ERR_RLP_INT},
        {"nonce 0x00 byte", -1,
         "00" PRICE GAS TO VALUE "80"
         "01"
         "80"
         "80",
         MPCD_ETH_ERR_RLP_INT},
        {"nonce 9 bytes", -1,
         "89010000000000000000" PRICE GAS TO VALUE "80"
         "01"
         "80"
         "80",
         MPCD_ETH_ERR_RLP_INT},
        {"gas 9 bytes", -1,
         NONCE PRICE "89010000000000000000" TO VALUE "80"
                     "01"
                     "80"
                     "80",
         MPCD_ETH_ERR_RLP_INT},
        {"value 33 bytes", -1,
         NONCE PRICE GAS TO "a1010000000000000000000000000000000000000000000000000000000000000000"
                            "80"
                            "01"
                            "80"
                            "80",
         MPCD_ETH_ERR_RLP_INT},
        {"to 19 bytes", -1,
         NONCE PRICE GAS "9335353535353535353535353535353535353535" VALUE "80"
                         "01"
                         "80"
                         "80",
         MPCD_ETH_ERR_TX_TO},
        {"to a list", -1,
         NONCE PRICE GAS "c0" VALUE "80"
                         "01"
                         "80"
                         "80",
         MPCD_ETH_ERR_RLP_SHAPE},
        {"data a list", -1,
         NONCE PRICE GAS TO VALUE "c0"
                                  "01"
                                  "80"
                                  "80",
         MPCD_ETH_ERR_RLP_SHAPE},
        {"10 fields", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "01"
                                  "80"
                                  "80"
                                  "80",
         MPCD_ETH_ERR_TX_FIELDS},
        {"8 fields", -1,
         NONCE PRICE GAS TO VALUE "80"
                                  "01"
                                  "80",
         MPCD_ETH_ERR_TX_FIELDS},
        /* EIP-2930 */
        {"2930 valid (control)", 1, TYPED "c0", MPCD_ETH_OK},
        {"2930 with 9 fields", 1,
         TYPED "c0"
               "80",
         MPCD_ETH_ERR_TX_FIELDS},
        {"2930 chain id 0", 1,
         "80" NONCE PRICE GAS TO VALUE "825544"
         "c0",
         MPCD_ETH_ERR_TX_NO_CHAIN},
        {"access list a string", 1, TYPED "80", MPCD_ETH_ERR_TX_ACCESS},
        {"access entry a string", 1, TYPED "c180", MPCD_ETH_ERR_TX_ACCESS},
        {"access entry, address 19 bytes", 1,
         TYPED "d6d59311111111111111111111111111111111111111c0", MPCD_ETH_ERR_TX_ACCESS},
        {"access entry without keys", 1, TYPED "d6d5" ADDR, MPCD_ETH_ERR_TX_ACCESS},
        {"access entry with 3 items", 1, TYPED "d8d7" ADDR "c0c0", MPCD_ETH_ERR_TX_ACCESS},
        {"access keys a string", 1, TYPED "d7d6" ADDR "80", MPCD_ETH_ERR_TX_ACCESS},
        {"storage key 31 bytes", 1,
         TYPED "f7f6" ADDR "e09f22222222222222222222222222222222222222222222222222222222222222",
         MPCD_ETH_ERR_TX_ACCESS},
        {"access list valid (control)", 1, TYPED "f838f7" ADDR "e1" KEY, MPCD_ETH_OK},
        /* EIP-1559 */
        {"1559 valid (control)", 2,
         "01" NONCE "01" PRICE GAS TO VALUE "80"
         "c0",
         MPCD_ETH_OK},
        {"1559 with 8 fields", 2, TYPED "c0", MPCD_ETH_ERR_TX_FIELDS},
        {"1559 priority fee 33 bytes", 2,
         "01" NONCE
         "a1010000000000000000000000000000000000000000000000000000000000000000" PRICE GAS TO VALUE
         "80"
         "c0",
         MPCD_ETH_ERR_RLP_INT},
        {"type 0x03", 3, TYPED "c0", MPCD_ETH_ERR_TX_TYPE},
        {"type 0x7f", 0x7f, TYPED "c0", MPCD_ETH_ERR_TX_TYPE},
        {"type 0x00", 0, TYPED "c0", MPCD_ETH_ERR_TX_TYPE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mpcd_eth_err e = parse_fields(bad[i].type, bad[i].payload);
        if (e != bad[i].want)
            fail_msg("%s: got %s, want %s", bad[i].what, mpcd_eth_errname(e),
                     mpcd_eth_errname(bad[i].want));
    }
    static const struct {
        const char *what, *hex;
        mpcd_eth_err want;
    } raw[] = {
        {"trailing byte",
         "ec098504a817c800825208943535353535353535353535353535353535353535880de0"
         "b6b3a76400008001808000",
         MPCD_ETH_ERR_RLP_TRAILING},
        {"truncated",
         "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3"
         "a7640000800180",
         MPCD_ETH_ERR_RLP_TRUNCATED},
        {"a string", "83646f67", MPCD_ETH_ERR_RLP_SHAPE},
        {"typed, string body", "0183646f67", MPCD_ETH_ERR_RLP_SHAPE},
        {"typed, typed body", "0201c0", MPCD_ETH_ERR_RLP_TRAILING},
        {"empty", "", MPCD_ETH_ERR_RLP_TRUNCATED},
        {"type byte alone", "02", MPCD_ETH_ERR_RLP_TRUNCATED},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        mpcd_eth_err e = parse_hex(raw[i].hex);
        if (e != raw[i].want)
            fail_msg("%s: got %s, want %s", raw[i].what, mpcd_eth_errname(e),
                     mpcd_eth_errname(raw[i].want));
    }
    /* too large */
    uint8_t *big = calloc(1, MPCD_ETHTX_MAX_LEN + 1);
    mpcd_ethtx tx;
    big[0] = 0xc0;
    assert_int_equal(mpcd_ethtx_parse(&tx, big, MPCD_ETHTX_MAX_LEN + 1), MPCD_ETH_ERR_TOO_LARGE);
    free(big);
    assert_int_equal(mpcd_ethtx_parse(NULL, (const uint8_t *)"", 0), MPCD_ETH_ERR_ARG);
}

/* A one-byte change anywhere in the transaction changes what policy sees or the hash, or
 * is refused: no two transactions share a signing hash here. */
static void test_tamper(void **state)
{
    (void)state;
    size_t len;
    uint8_t *raw = vec_unhex("ec098504a817c800825208943535353535353535353535353535353535353535"
                             "880de0b6b3a764000080018080",
                             &len);
    mpcd_ethtx ref, tx;
    assert_int_equal(mpcd_ethtx_parse(&ref, raw, len), MPCD_ETH_OK);
    uint8_t hash[32];
    memcpy(hash, ref.sighash, 32);
    for (size_t i = 0; i < len; i++) {
        raw[i] ^= 0x01;
        if (mpcd_ethtx_parse(&tx, raw, len) == MPCD_ETH_OK)
            assert_memory_not_equal(tx.sighash, hash, 32);
        raw[i] ^= 0x01;
    }
    free(raw);
}

static void test_bad_signature(void **state)
{
    (void)state;
    size_t len, out_len = 12345;
    uint8_t *raw = vec_unhex("ec098504a817c800825208943535353535353535353535353535353535353535"
                             "880de0b6b3a764000080018080",
                             &len);
    mpcd_ethtx tx;
    uint8_t r[32], s[32], zero[32] = {0}, n[32], out[256];
    assert_int_equal(mpcd_ethtx_parse(&tx, raw, len), MPCD_ETH_OK);
    memset(r, 0x11, 32);
    memset(s, 0x22, 32);
    vec_unhex_n(n, 32, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, s, 2),
                     MPCD_ETH_ERR_TX_SIGNATURE);
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, s, -1),
                     MPCD_ETH_ERR_TX_SIGNATURE);
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, zero, s, 0),
                     MPCD_ETH_ERR_TX_SIGNATURE);
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, n, 0),
                     MPCD_ETH_ERR_TX_SIGNATURE);
    assert_int_equal(out_len, 12345);
    n[31]--; /* n - 1 is a valid scalar */
    assert_int_equal(mpcd_ethtx_serialize_signed(out, sizeof out, &out_len, &tx, r, n, 1),
                     MPCD_ETH_OK);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eip155_example), cmocka_unit_test(test_eip2930_geth),
        cmocka_unit_test(test_eip1559_reth),   cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_bad_signature),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
