/* daemon/common/importcheck.c — see importcheck.h. */
#include <stdio.h>
#include <string.h>

#include "importcheck.h"
#include "tss/reshare.h"

mpcd_import_err mpcd_import_check_points(const api_import_req *r, char *why, size_t cap)
{
    tss_reshare_dealer t[API_MAX_PARTIES];
    tss_point pk;
    memset(t, 0, sizeof t);
    if (r->ndealers < 1 || r->ndealers > API_MAX_PARTIES) {
        snprintf(why, cap, "dealers: 1..%d descriptors", API_MAX_PARTIES);
        return MPCD_IMPORT_ERR_SET;
    }
    if (tss_point_parse(&pk, r->dealers[0].public_key) != TSS_OK) {
        snprintf(why, cap, "dealers[0]: field 'public_key' is not a point on secp256k1");
        return MPCD_IMPORT_ERR_POINT;
    }
    for (size_t i = 0; i < r->ndealers; i++) {
        if (tss_point_parse(&t[i].pub, r->dealers[i].public_share) != TSS_OK) {
            snprintf(why, cap, "dealers[%zu]: field 'public_share' is not a point on secp256k1", i);
            return MPCD_IMPORT_ERR_POINT;
        }
        if (tss_scalar_parse(&t[i].x, r->dealers[i].x) != TSS_OK) {
            snprintf(why, cap, "dealers[%zu]: field 'x' is not below the group order", i);
            return MPCD_IMPORT_ERR_SET;
        }
    }
    tss_err e = tss_reshare_check_input(t, (uint8_t)r->ndealers, &pk);
    if (e == TSS_ERR_PARAMS) {
        snprintf(why, cap, "dealers: an x is zero or repeated");
        return MPCD_IMPORT_ERR_SET;
    }
    if (e != TSS_OK) {
        snprintf(why, cap,
                 "dealers: the public shares do not interpolate to public_key, so they do not "
                 "make the public key (descriptors of different keys, or altered)");
        return MPCD_IMPORT_ERR_KEY;
    }
    return MPCD_IMPORT_OK;
}
