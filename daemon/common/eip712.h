/* daemon/common/eip712.h — EIP-712 typed structured data, as wallets send it to
 * eth_signTypedData_v4: {"types": {...}, "primaryType": "...", "domain": {...},
 * "message": {...}} → the domain separator, hashStruct(message) and the digest that is
 * signed, keccak256(0x19 0x01 || domainSeparator || hashStruct(message)). Public data
 * only; not constant time.
 *
 * Strict, following the specification (eips.ethereum.org/EIPS/eip-712):
 *  - types: every type name an identifier ([A-Za-z_$][A-Za-z0-9_$]*), not an atomic type
 *    name; each field {"name", "type"} with a unique identifier name; a field type is an
 *    atomic type (uint8..uint256 and int8..int256 in steps of 8, bytes1..bytes32, bool,
 *    address, string, bytes), a struct defined in types, or either followed by one or more
 *    array suffixes "[]" / "[n]" (n >= 1, decimal, no leading zero). "EIP712Domain" must be
 *    defined. An unknown type name, a duplicate field and a struct that contains itself,
 *    directly or through other structs or arrays (a cycle), are errors. encodeType lists the
 *    type then the structs it references, sorted by name.
 *  - values: every field of a struct present, no other member (also in domain); uintN and
 *    intN as JSON integers (jansson reads integers of up to 64 bits: larger ones must be
 *    strings, as wallets send them) or strings in decimal ("-12") or hex ("0x1f", "-0x1f"),
 *    range checked for N; bytesN as "0x" + exactly 2N hex digits; bytes as "0x" + an even number
 *    of hex digits; bool as JSON true/false; address as "0x" + 40 hex digits (mixed case must
 *    be a valid EIP-55 checksum); string as a JSON string (its UTF-8 bytes); arrays as JSON
 *    arrays, of exactly n elements for "[n]". Floats, null and anything else are errors.
 *  - primaryType "EIP712Domain" signs the domain alone: digest = keccak256(0x19 0x01 ||
 *    domainSeparator), as wallets do.
 * Bounded work: at most MPCD_EIP712_MAX_TYPES types of MPCD_EIP712_MAX_FIELDS fields,
 * values nested at most MPCD_EIP712_MAX_DEPTH deep, at most MPCD_EIP712_MAX_VALUES values
 * (atomic and composite) encoded in total, MPCD_EIP712_MAX_TEXT bytes of JSON text. */
#ifndef MPCD_EIP712_H
#define MPCD_EIP712_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "daemon/common/eth_err.h"

#define MPCD_EIP712_MAX_TYPES  64
#define MPCD_EIP712_MAX_FIELDS 64
#define MPCD_EIP712_MAX_DEPTH  16            /* nested structs and arrays in one value */
#define MPCD_EIP712_MAX_VALUES 65536         /* encoded values per request */
#define MPCD_EIP712_MAX_TEXT   (256u * 1024) /* bytes of JSON text */
#define MPCD_EIP712_DETAIL_MAX 160           /* a useful size for the detail buffer */

typedef struct {
    uint8_t domain_separator[32]; /* hashStruct("EIP712Domain", domain) */
    int has_message;              /* 0 when primaryType is "EIP712Domain" */
    uint8_t message_hash[32];     /* hashStruct(primaryType, message); zero if !has_message */
    uint8_t digest[32];           /* what is signed */
    /* For policy, from the domain (absent when EIP712Domain has no such field). chainId must
     * be declared as a uintN and fit 64 bits; verifyingContract must be declared address
     * (DOMAIN otherwise). */
    int has_chain_id;
    uint64_t chain_id;
    int has_verifying_contract;
    uint8_t verifying_contract[20];
    char primary_type[64]; /* NUL-terminated name of the primary type */
} mpcd_eip712;

/* Hashes the typed data in the jansson object td (borrowed, not modified; the caller bounds
 * its size, e.g. by parsing at most MPCD_EIP712_MAX_TEXT bytes). On success
 * fills *out and returns MPCD_ETH_OK. On failure *out is untouched, the error is one of
 * JSON, 712_TYPE, 712_FIELD, 712_VALUE, 712_RANGE, 712_DOMAIN, TOO_LARGE, NOMEM, and when
 * detail is not NULL it receives a NUL-terminated description naming the place
 * ("message.to.wallet: address must be 0x + 40 hex digits"), truncated to detail_len;
 * the description quotes type and field names from the input, never values. */
mpcd_eth_err mpcd_eip712_hash(mpcd_eip712 *out, const json_t *td, char *detail, size_t detail_len);

/* Same from JSON text text[0..len) (len <= MPCD_EIP712_MAX_TEXT, TOO_LARGE otherwise;
 * JSON if it does not parse; duplicate object keys are refused). */
mpcd_eth_err mpcd_eip712_hash_text(mpcd_eip712 *out, const char *text, size_t len, char *detail,
                                   size_t detail_len);

#endif
