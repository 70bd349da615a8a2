/* daemon/common/ethtx.h — unsigned Ethereum transactions as a signer receives them: parse
 * (legacy with EIP-155, EIP-2930, EIP-1559), expose what policy needs, compute the hash to
 * sign, and serialize the signed transaction a user broadcasts. Public data only; not
 * constant time. Strict: canonical RLP (rlp.h), exact field counts, integers without leading
 * zeros, chain id 1..2^64-1 (pre-EIP-155 legacy transactions, which any chain replays, are
 * refused). Blob (0x03) and set-code (0x04) transactions are refused as unknown types.
 *
 * Encodings (EIP-155, EIP-2718, EIP-2930, EIP-1559):
 *   legacy  rlp[nonce, gasPrice, gasLimit, to, value, data, chainId, 0, 0]
 *   0x01 || rlp[chainId, nonce, gasPrice, gasLimit, to, value, data, accessList]
 *   0x02 || rlp[chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value,
 *               data, accessList]
 * The signing hash is Keccak-256 of exactly these bytes. */
#ifndef MPCD_ETHTX_H
#define MPCD_ETHTX_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/common/eth_err.h"
#include "daemon/common/rlp.h"

#define MPCD_ETHTX_MAX_LEN    (128u * 1024) /* bytes of an unsigned transaction */
#define MPCD_ETHTX_MAX_ACCESS 1024          /* access-list entries (addresses) */
#define MPCD_ETHTX_MAX_KEYS   8192          /* storage keys over the whole access list */
/* Upper bound on the signed encoding of an unsigned transaction of n bytes: v (at most 10
 * bytes encoded), r and s (33 each) replace legacy's [chainId, 0, 0] (at least 3 bytes) or
 * follow a typed transaction's fields, and the list header grows by at most 2 bytes. */
#define MPCD_ETHTX_SIGNED_MAX(n) ((size_t)(n) + 96)

typedef enum {
    MPCD_ETHTX_LEGACY = 0,  /* EIP-155 legacy */
    MPCD_ETHTX_EIP2930 = 1, /* 0x01 access-list transaction */
    MPCD_ETHTX_EIP1559 = 2, /* 0x02 dynamic-fee transaction */
} mpcd_ethtx_type;

/* A parsed transaction. It borrows the caller's input (raw, data and the fields are views
 * into it): the input must stay unchanged while the struct is used. */
typedef struct {
    mpcd_ethtx_type type;
    uint64_t chain_id;        /* 1..2^64-1 */
    uint64_t nonce;           /* EIP-2681: nonces are < 2^64 */
    uint64_t gas_limit;       /* refused if wider than 64 bits */
    uint8_t max_fee[32];      /* gasPrice (legacy, 0x01) or maxFeePerGas (0x02), big-endian */
    uint8_t priority_fee[32]; /* maxPriorityFeePerGas (0x02); zero otherwise */
    int is_create;            /* 1: contract creation (`to` empty), to[] is zero */
    uint8_t to[20];
    uint8_t value[32];   /* wei, 256-bit big-endian */
    const uint8_t *data; /* calldata (or init code), data_len bytes; view into raw */
    size_t data_len;
    int has_selector; /* data_len >= 4: selector = data[0..4) */
    uint8_t selector[4];
    size_t access_addresses; /* access-list entries (0 for legacy) */
    size_t access_keys;      /* storage keys over all entries */
    uint8_t sighash[32];     /* Keccak-256 of the unsigned encoding: what is signed */
    /* private: the unsigned encoding and its list's fields, for serialization */
    const uint8_t *raw;
    size_t raw_len;
    mpcd_rlp_item fields[9];
    size_t nfields;
} mpcd_ethtx;

/* Parses the unsigned transaction in[0..len) (raw bytes, not hex). On success fills *tx
 * (views into in) and returns MPCD_ETH_OK; on failure *tx is untouched and the error names
 * the cause: TX_TYPE, TX_FIELDS, TX_NO_CHAIN, TX_CHAIN_ID, TX_TO, TX_ACCESS, RLP_* (RLP_INT
 * for a non-canonical or over-wide integer), TOO_LARGE (len > MPCD_ETHTX_MAX_LEN, access
 * list over its limits). Work is O(len). */
mpcd_eth_err mpcd_ethtx_parse(mpcd_ethtx *tx, const uint8_t *in, size_t len);

/* Serializes the signed transaction: the same fields as tx followed by the signature —
 * legacy: v = chainId * 2 + 35 + recid; typed: yParity = recid — then r and s as integers.
 * r and s are 32-byte big-endian, both in 1..n-1 (checked: TX_SIGNATURE otherwise, as for
 * recid > 1); the signature is not verified here (the caller verifies it against the key).
 * Writes out[0..*out_len), cap >= MPCD_ETHTX_SIGNED_MAX(tx->raw_len) always suffices
 * (BUFFER otherwise). */
mpcd_eth_err mpcd_ethtx_serialize_signed(uint8_t *out, size_t cap, size_t *out_len,
                                         const mpcd_ethtx *tx, const uint8_t r[32],
                                         const uint8_t s[32], int recid);

/* A fixed name for t: "legacy", "eip2930", "eip1559". */
const char *mpcd_ethtx_type_name(mpcd_ethtx_type t);

#endif
