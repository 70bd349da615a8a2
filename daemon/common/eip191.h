/* daemon/common/eip191.h — EIP-191 version 0x45 ("personal_sign") message hashes. Public
 * data only; not constant time. */
#ifndef MPCD_EIP191_H
#define MPCD_EIP191_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/common/eth_err.h"

#define MPCD_EIP191_MAX_LEN (1u << 20) /* bytes of one message */

/* out = Keccak-256("\x19Ethereum Signed Message:\n" || decimal(len) || msg[0..len)), the
 * hash a wallet signs for personal_sign / eth_sign of msg (raw bytes: a caller holding
 * "0x..." hex decodes it first, as wallets do). msg may be NULL when len is 0. Returns
 * MPCD_ETH_OK; TOO_LARGE if len > MPCD_EIP191_MAX_LEN; NOMEM. out is untouched on
 * failure. */
mpcd_eth_err mpcd_eip191_hash(uint8_t out[32], const uint8_t *msg, size_t len);

#endif
