/* daemon/common/rlp.h — Ethereum's Recursive Length Prefix: a strict decoder (canonical
 * encodings only, bounded depth and size) and an encoder into a caller's buffer. The decoder
 * never copies: an item is a view into the caller's bytes, which must outlive it. Public data
 * only (transactions); nothing here is constant time.
 *
 * Canonical means exactly one encoding per value, the one the encoder writes: a single byte
 * < 0x80 is itself (never 0x81 xx), a payload of 0..55 bytes has the short header, a longer
 * one the long header whose length has no leading zero byte and is > 55, and nothing follows
 * the top-level item. So decode(x) succeeds only if encode(decode(x)) == x. */
#ifndef MPCD_RLP_H
#define MPCD_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/common/eth_err.h"

#define MPCD_RLP_MAX_DEPTH 16          /* lists inside lists; the top-level list is depth 1 */
#define MPCD_RLP_MAX_ITEMS 65536       /* items (strings and lists) in one decoded tree */
#define MPCD_RLP_MAX_INPUT (16u << 20) /* bytes of one top-level item */

/* One decoded item: a view into the input. For a string, payload[0..len) are its bytes; for a
 * list, payload[0..len) is the concatenated encoding of its elements (walk it with
 * mpcd_rlp_next). raw[0..raw_len) is the item's whole encoding, header included. */
typedef struct {
    int is_list;
    const uint8_t *payload;
    size_t len;
    const uint8_t *raw;
    size_t raw_len;
} mpcd_rlp_item;

/* Decodes in[0..len) as exactly one item and checks the whole tree under it: every header
 * canonical and within its parent, depth <= MPCD_RLP_MAX_DEPTH, at most MPCD_RLP_MAX_ITEMS
 * items, len <= MPCD_RLP_MAX_INPUT, no trailing bytes. On success *out is the top item;
 * on failure *out is untouched and the error says why (RLP_TRUNCATED, RLP_TRAILING,
 * RLP_NONCANON, RLP_DEPTH, TOO_LARGE). Work is O(len). */
mpcd_eth_err mpcd_rlp_decode(mpcd_rlp_item *out, const uint8_t *in, size_t len);

/* Iterates a list already checked by mpcd_rlp_decode (or any list payload: the header of
 * each element is checked again, not its children). *cur starts at list->payload and end is
 * list->payload + list->len. Returns MPCD_ETH_OK with *out the next element and *cur past
 * it; MPCD_ETH_ERR_RLP_TRAILING when *cur == end (no more elements: the normal end, not an
 * error in a checked list); another error for a malformed header. */
mpcd_eth_err mpcd_rlp_next(mpcd_rlp_item *out, const uint8_t **cur, const uint8_t *end);

/* Splits a list into its elements: items[0..*n). Fails with RLP_SHAPE if list is a string
 * and TOO_LARGE if it has more than max elements (*n and items are then unspecified).
 * The caller checks *n against what it expects. */
mpcd_eth_err mpcd_rlp_list(mpcd_rlp_item *items, size_t max, size_t *n, const mpcd_rlp_item *list);

/* Reads a string item as an unsigned big-endian integer: canonical (no leading zero byte;
 * zero is the empty string), at most 8 bytes (RLP_INT otherwise), RLP_SHAPE for a list. */
mpcd_eth_err mpcd_rlp_u64(uint64_t *out, const mpcd_rlp_item *it);

/* Same for integers up to 256 bits: out is 32 bytes big-endian, left-padded with zeros. */
mpcd_eth_err mpcd_rlp_u256(uint8_t out[32], const mpcd_rlp_item *it);

/* Encoder: appends items to buf[0..cap). A write that does not fit sets overflow and every
 * later call does nothing; mpcd_rlp_enc_finish reports it. Lists nest: begin returns a mark,
 * end moves the list's payload right to make room for its header (O(payload) per list). */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int overflow;
} mpcd_rlp_enc;

void mpcd_rlp_enc_init(mpcd_rlp_enc *e, uint8_t *buf, size_t cap);
/* A byte string (canonical: a single byte < 0x80 is written as itself). */
void mpcd_rlp_enc_bytes(mpcd_rlp_enc *e, const uint8_t *data, size_t len);
/* An unsigned integer given big-endian in be[0..len): leading zero bytes are dropped. */
void mpcd_rlp_enc_uint(mpcd_rlp_enc *e, const uint8_t *be, size_t len);
void mpcd_rlp_enc_u64(mpcd_rlp_enc *e, uint64_t v);
/* An item already encoded (e.g. mpcd_rlp_item.raw), copied as is. */
void mpcd_rlp_enc_raw(mpcd_rlp_enc *e, const uint8_t *raw, size_t len);
/* Opens a list; pass the returned mark to mpcd_rlp_enc_list_end to close it. */
size_t mpcd_rlp_enc_list_begin(mpcd_rlp_enc *e);
void mpcd_rlp_enc_list_end(mpcd_rlp_enc *e, size_t mark);
/* MPCD_ETH_OK with *len the bytes written, or MPCD_ETH_ERR_BUFFER if anything overflowed. */
mpcd_eth_err mpcd_rlp_enc_finish(const mpcd_rlp_enc *e, size_t *len);

#endif
