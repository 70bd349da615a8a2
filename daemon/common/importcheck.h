/* daemon/common/importcheck.h — the checks of an import request (api/import.h) that need
 * curve arithmetic, made by the hub before it stores anything (POST /v1/keys/import) and by
 * mpcctl before it sends the request: every point is on secp256k1, and the dealers'
 * (x, P(x)) are shares of the public key (sum_i lambda_i * P(x_i) = public key over the
 * dealers' x: tss_reshare_check_input). The signers check the same again through the
 * dealers' commitments; this is the early, clear refusal of a mixed-up or altered set of
 * descriptors. Public data: not constant time. */
#ifndef MPCD_IMPORTCHECK_H
#define MPCD_IMPORTCHECK_H

#include <stddef.h>

#include "api/import.h"

typedef enum {
    MPCD_IMPORT_OK = 0,
    MPCD_IMPORT_ERR_POINT, /* public_key or a public_share is not a point of secp256k1 */
    MPCD_IMPORT_ERR_SET,   /* an x is zero, repeated or not below q (api/import refuses first) */
    MPCD_IMPORT_ERR_KEY,   /* the public shares do not interpolate to the public key */
} mpcd_import_err;

/* Checks a request api_import_req_parse accepted. MPCD_IMPORT_OK, else the error with
 * why[0..cap) naming the field. */
mpcd_import_err mpcd_import_check_points(const api_import_req *r, char *why, size_t cap);

#endif
