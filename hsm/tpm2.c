/* hsm/tpm2.c — placeholder until the TPM 2.0 backend lands. */
#include "internal.h"

hsm_err hsm_tpm2_open(const hsm_config *cfg, hsm_backend *b)
{
    (void)cfg;
    (void)b;
    return HSM_ERR_UNSUPPORTED;
}

hsm_err hsm_tpm2_init(const hsm_config *cfg, char *binding, size_t size)
{
    (void)cfg;
    (void)binding;
    (void)size;
    return HSM_ERR_UNSUPPORTED;
}
