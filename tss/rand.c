/* tss/rand.c — getrandom(2)-backed system generator and the tss_rng dispatch. */
#include "rand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "secmem.h"

static int tss_rand_getrandom(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t got = getrandom(out, len, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        out += got;
        len -= (size_t)got;
    }
    return 0;
}

static const tss_rng tss_rng_system_instance = {tss_rand_getrandom, NULL};

const tss_rng *tss_rng_system(void)
{
    return &tss_rng_system_instance;
}

tss_err tss_rand_bytes(const tss_rng *rng, uint8_t *out, size_t len)
{
    if (rng == NULL || rng->fill == NULL || (out == NULL && len > 0))
        return TSS_ERR_ARG;
    if (rng->fill(rng->ctx, out, len) != 0) {
        tss_memzero(out, len);
        return TSS_ERR_RAND;
    }
    return TSS_OK;
}

tss_err tss_rand_scalar(tss_scalar *out, const tss_rng *rng)
{
    uint8_t wide[64];
    tss_err err;
    do {
        if ((err = tss_rand_bytes(rng, wide, sizeof wide)) != TSS_OK)
            break;
        tss_scalar_reduce64(out, wide);
    } while (tss_scalar_is_zero(out)); /* public retry */
    tss_memzero(wide, sizeof wide);
    return err;
}
