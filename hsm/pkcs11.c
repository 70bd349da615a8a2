/* hsm/pkcs11.c — placeholder until the PKCS#11 backend lands. */
#include "internal.h"

hsm_err hsm_pkcs11_open(const hsm_config *cfg, hsm_backend *b)
{
    (void)cfg;
    (void)b;
    return HSM_ERR_UNSUPPORTED;
}
