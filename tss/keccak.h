/* tss/keccak.h — Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not the
 * SHA3-256 padding 0x06 that OpenSSL 3.0 implements). Public data only: addresses,
 * transaction hashes. Not constant time with respect to the message length. */
#ifndef TSS_KECCAK_H
#define TSS_KECCAK_H

#include <stddef.h>
#include <stdint.h>

/* out = Keccak-256(in[0..len)). */
void tss_keccak256(uint8_t out[32], const uint8_t *in, size_t len);

#endif
