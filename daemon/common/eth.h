/* daemon/common/eth.h — the Ethereum address of a secp256k1 public key, shown by the hub
 * (key views) and by mpcctl (which recomputes it to check the hub's). */
#ifndef MPCD_ETH_H
#define MPCD_ETH_H

#include <stdint.h>

/* Writes "0x" + the EIP-55 mixed-case hex of the last 20 bytes of Keccak-256 of the
 * uncompressed point (without its 0x04 prefix), NUL-terminated, into out. pk is SEC1
 * compressed. Returns 0, or -1 (out untouched) if pk is not a valid point. */
int mpcd_eth_address(char out[43], const uint8_t pk[33]);

#endif
