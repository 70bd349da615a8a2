/* daemon/common/eth_err.c — names and descriptions of the Ethereum decoders' errors. */
#include "eth_err.h"

static const struct {
    const char *name;
    const char *text;
} errs[MPCD_ETH_ERR__COUNT] = {
    [MPCD_ETH_OK] = {"ok", "success"},
    [MPCD_ETH_ERR_ARG] = {"arg", "invalid argument (a caller bug)"},
    [MPCD_ETH_ERR_TOO_LARGE] = {"too_large", "input over a size, count or depth limit"},
    [MPCD_ETH_ERR_NOMEM] = {"nomem", "out of memory"},
    [MPCD_ETH_ERR_BUFFER] = {"buffer", "output buffer too small"},
    [MPCD_ETH_ERR_RLP_TRUNCATED] = {"rlp_truncated", "RLP: an item runs past the end of its "
                                                     "input"},
    [MPCD_ETH_ERR_RLP_TRAILING] = {"rlp_trailing", "RLP: bytes after the item"},
    [MPCD_ETH_ERR_RLP_NONCANON] = {"rlp_noncanon",
                                   "RLP: not the canonical encoding (length with leading "
                                   "zeros, long form for a short length, or a single byte "
                                   "below 0x80 encoded as a string)"},
    [MPCD_ETH_ERR_RLP_DEPTH] = {"rlp_depth", "RLP: lists nested too deep"},
    [MPCD_ETH_ERR_RLP_SHAPE] = {"rlp_shape", "RLP: a list where a string is expected, or the "
                                             "reverse"},
    [MPCD_ETH_ERR_RLP_INT] = {"rlp_int", "RLP: integer with a leading zero byte or too wide"},
    [MPCD_ETH_ERR_TX_TYPE] = {"tx_type", "transaction: unsupported type (legacy, 0x01 and "
                                         "0x02 are supported)"},
    [MPCD_ETH_ERR_TX_FIELDS] = {"tx_fields", "transaction: wrong number of fields for its "
                                             "type"},
    [MPCD_ETH_ERR_TX_NO_CHAIN] = {"tx_no_chain",
                                  "transaction: no chain id (pre-EIP-155 legacy transactions "
                                  "and chain id 0 are refused)"},
    [MPCD_ETH_ERR_TX_CHAIN_ID] = {"tx_chain_id", "transaction: chain id larger than 2^64-1"},
    [MPCD_ETH_ERR_TX_TO] = {"tx_to", "transaction: `to` is neither 20 bytes nor empty"},
    [MPCD_ETH_ERR_TX_ACCESS] = {"tx_access", "transaction: malformed access list"},
    [MPCD_ETH_ERR_TX_SIGNATURE] = {"tx_signature", "transaction: bad r, s or recovery id"},
    [MPCD_ETH_ERR_JSON] = {"json", "EIP-712: not a JSON object {types, primaryType, domain, "
                                   "message}"},
    [MPCD_ETH_ERR_712_TYPE] = {"eip712_type", "EIP-712: malformed, unknown, duplicate or "
                                              "cyclic type"},
    [MPCD_ETH_ERR_712_FIELD] = {"eip712_field", "EIP-712: a field is missing or not defined "
                                                "by its type"},
    [MPCD_ETH_ERR_712_VALUE] = {"eip712_value", "EIP-712: a value has the wrong kind or "
                                                "encoding"},
    [MPCD_ETH_ERR_712_RANGE] = {"eip712_range", "EIP-712: a number out of range, or a "
                                                "length that does not match its type"},
    [MPCD_ETH_ERR_712_DOMAIN] = {"eip712_domain",
                                 "EIP-712: domain chainId or verifyingContract unusable "
                                 "(wrong declared type, or chainId over 2^64-1)"},
};

const char *mpcd_eth_strerror(mpcd_eth_err e)
{
    if ((unsigned)e >= MPCD_ETH_ERR__COUNT)
        return "unknown error";
    return errs[e].text;
}

const char *mpcd_eth_errname(mpcd_eth_err e)
{
    if ((unsigned)e >= MPCD_ETH_ERR__COUNT)
        return "unknown";
    return errs[e].name;
}
