/* tss/bip32.h — non-hardened BIP32 derivation from the joint public key and chain code.
 * A threshold key has no single private key to run hardened derivation with, so only
 * non-hardened steps exist here; a hardened index is TSS_ERR_DERIVATION. Derivation yields
 * the child public key, child chain code and the accumulated scalar offset δ (child
 * secret = root secret + δ), which signing adds to the shares. Public data only. */
#ifndef TSS_BIP32_H
#define TSS_BIP32_H

#include <stddef.h>
#include <stdint.h>

#include "point.h"
#include "scalar.h"

#define TSS_BIP32_MAX_DEPTH 32
#define TSS_BIP32_HARDENED  0x80000000u

/* Parses "m", "m/44/60/0/0/5" (also without the leading "m/"). Hardened markers (' h H)
 * and indices >= 2^31 give TSS_ERR_DERIVATION; anything else malformed TSS_ERR_FORMAT. */
tss_err tss_bip32_parse_path(const char *text, uint32_t path[TSS_BIP32_MAX_DEPTH], size_t *depth);

/* Derives along path[0..depth). offset receives δ, child_pk and child_chain the child.
 * TSS_ERR_DERIVATION for a hardened index, IL >= n or an infinite child (probability
 * ~2^-127; BIP32 would skip to the next index, we refuse so a path always means one key). */
tss_err tss_bip32_derive(const tss_point *pk, const uint8_t chain[32], const uint32_t *path,
                         size_t depth, tss_scalar *offset, tss_point *child_pk,
                         uint8_t child_chain[32]);

#endif
