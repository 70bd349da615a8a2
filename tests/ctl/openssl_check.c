/* tests/ctl/openssl_check.c — see openssl_check.h. */
#include "openssl_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/hex.h"

void osc_write_hex(const deploy *d, const char *name, const char *hex)
{
    char path[200];
    uint8_t bin[128];
    size_t n = strlen(hex) / 2;
    assert_true(n <= sizeof bin);
    assert_int_equal(api_hex_decode(bin, n, hex, 2 * n), API_OK);
    snprintf(path, sizeof path, "%s/%s", d->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bin, 1, n, f), n);
    fclose(f);
}

void osc_verifies(const deploy *d, const char *key_id, const char *path, const char *der_hex,
                  const char *hash_hex)
{
    assert_non_null(der_hex);
    osc_write_hex(d, "sig.der", der_hex);
    osc_write_hex(d, "hash.bin", hash_hex);
    assert_int_equal(deploy_ctl(d, NULL, "keys show %s --pem%s%s > %s/key.pem", key_id,
                                path ? " --path " : "", path ? path : "", d->dir),
                     0);
    assert_int_equal(deploy_sh("openssl pkeyutl -verify -pubin -inkey %s/key.pem -in %s/hash.bin "
                               "-sigfile %s/sig.der >/dev/null",
                               d->dir, d->dir, d->dir),
                     0);
}
