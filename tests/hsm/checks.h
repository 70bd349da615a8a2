/* tests/hsm/checks.h — cmocka checks every backend's tests share: round trip, wrong aad,
 * every tampered byte, every truncation, concurrent use. */
#ifndef TEST_HSM_CHECKS_H
#define TEST_HSM_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "hsm/hsm.h"

/* Seals a random payload of len bytes with a standard aad and checks it unseals. On
 * success *blob (malloc'ed) and the aad are left for further checks. */
void check_round_trip(hsm_backend *b, size_t len, uint8_t **blob, size_t *blob_len,
                      uint8_t aad[HSM_AAD_SHARE_MAX], size_t *aad_len);

/* Other key id, other party id, other version, empty aad: each fails with TAMPERED. */
void check_wrong_aad(hsm_backend *b, const uint8_t *blob, size_t blob_len);

/* Flips each byte of the blob in turn (stride 1 unless the backend is slow): each flip
 * fails with an error from the "malformed / foreign / tampered" family; the input is left
 * unmodified. Returns how many flips were tried. */
size_t check_every_byte_tampered(hsm_backend *b, const uint8_t *blob, size_t blob_len,
                                 const uint8_t *aad, size_t aad_len, size_t stride);

/* Every proper prefix and one extended copy fail with FORMAT. */
void check_truncations(hsm_backend *b, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
                       size_t aad_len);

/* threads threads share b, each sealing and unsealing rounds payloads; every round trip
 * must succeed (the backend serializes what needs it). */
void check_concurrent_use(hsm_backend *b, int threads, int rounds);

#endif
