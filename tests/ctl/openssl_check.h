/* tests/ctl/openssl_check.h — the mpcctl integration tests' independent check of a
 * signature: the DER that `mpcctl sign` printed, verified by the openssl command line
 * against the public key `mpcctl keys show --pem` prints. cmocka assertions; files in the
 * deployment's dir (sig.der, hash.bin, key.pem, overwritten each time). */
#ifndef TEST_CTL_OPENSSL_CHECK_H
#define TEST_CTL_OPENSSL_CHECK_H

#include "deploy.h"

/* Writes the bytes of hex (at most 128) to dir/name; asserts the hex decodes. */
void osc_write_hex(const deploy *d, const char *name, const char *hex);

/* Asserts that `openssl pkeyutl -verify` accepts der_hex over hash_hex (the 32-byte hash, in
 * hex) with the key `mpcctl keys show key_id --pem [--path path]` prints (path NULL: none). */
void osc_verifies(const deploy *d, const char *key_id, const char *path, const char *der_hex,
                  const char *hash_hex);

#endif
