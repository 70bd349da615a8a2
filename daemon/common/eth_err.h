/* daemon/common/eth_err.h — the error codes of the Ethereum decoders in daemon/common (rlp,
 * ethtx, eip191, eip712): one enum, so that a refusal names its cause the same way whichever
 * decoder found it. Every decoder returns one of these and changes nothing it was given on
 * failure; none of them crashes or loops on any input (each bounds its work). */
#ifndef MPCD_ETH_ERR_H
#define MPCD_ETH_ERR_H

typedef enum {
    MPCD_ETH_OK = 0,
    MPCD_ETH_ERR_ARG,       /* a NULL pointer or an impossible argument (a caller bug) */
    MPCD_ETH_ERR_TOO_LARGE, /* input over a size, count or depth limit */
    MPCD_ETH_ERR_NOMEM,     /* out of memory */
    MPCD_ETH_ERR_BUFFER,    /* the caller's output buffer is too small */
    /* RLP */
    MPCD_ETH_ERR_RLP_TRUNCATED, /* an item's length runs past the end of its input */
    MPCD_ETH_ERR_RLP_TRAILING,  /* bytes after the top-level item */
    MPCD_ETH_ERR_RLP_NONCANON,  /* not canonical: a length with leading zeros, a long form for
                                   a short length, a single byte < 0x80 encoded as a string */
    MPCD_ETH_ERR_RLP_DEPTH,     /* lists nested deeper than MPCD_RLP_MAX_DEPTH */
    MPCD_ETH_ERR_RLP_SHAPE,     /* a list where a string was expected or the reverse */
    MPCD_ETH_ERR_RLP_INT,       /* an integer with a leading zero byte or wider than allowed */
    /* Ethereum transactions */
    MPCD_ETH_ERR_TX_TYPE,      /* a type byte other than legacy, 0x01, 0x02 */
    MPCD_ETH_ERR_TX_FIELDS,    /* wrong number of fields for the transaction type */
    MPCD_ETH_ERR_TX_NO_CHAIN,  /* a legacy transaction without EIP-155 chain id (or chain 0) */
    MPCD_ETH_ERR_TX_CHAIN_ID,  /* chain id larger than 2^64 - 1 */
    MPCD_ETH_ERR_TX_TO,        /* `to` neither 20 bytes nor empty */
    MPCD_ETH_ERR_TX_ACCESS,    /* malformed access list */
    MPCD_ETH_ERR_TX_SIGNATURE, /* bad (r, s, recovery id) given to serialize */
    /* EIP-712 */
    MPCD_ETH_ERR_JSON,       /* not JSON, or not the {types, primaryType, domain,
                                message} object */
    MPCD_ETH_ERR_712_TYPE,   /* a malformed or unknown type name, a duplicate type or field,
                                a type that refers to itself (cycle) */
    MPCD_ETH_ERR_712_FIELD,  /* a value missing, extra, or not an object where a struct is */
    MPCD_ETH_ERR_712_VALUE,  /* a value of the wrong JSON kind or encoding */
    MPCD_ETH_ERR_712_RANGE,  /* a number out of range for its uintN/intN, a bytesN or array
                                of the wrong length */
    MPCD_ETH_ERR_712_DOMAIN, /* domain chainId/verifyingContract of a type policy cannot
                                read, or a chainId larger than 2^64 - 1 */
    MPCD_ETH_ERR__COUNT
} mpcd_eth_err;

/* A fixed, human description of e ("RLP: length has leading zeros"); never NULL, static
 * storage. Contains no input data. */
const char *mpcd_eth_strerror(mpcd_eth_err e);

/* A stable snake_case name for e ("rlp_noncanon"), for logs and typed refusals. */
const char *mpcd_eth_errname(mpcd_eth_err e);

#endif
