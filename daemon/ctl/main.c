/* daemon/ctl/main.c — mpcctl: the hub's command-line client and the node admin tool.
 * Everything is in the mpc_ctl_core library (ctl.h); main sets up OpenSSL's secure heap
 * (node init handles the identity key) and runs one command. */
#include <openssl/crypto.h>

#include "ctl.h"
#include "daemon/common/log.h"

int main(int argc, char **argv)
{
    ctl_ctx c;
    mpcd_log_init("mpcctl", LOG_NOTICE);
    CRYPTO_secure_malloc_init(1 << 20, 32);
    ctl_ctx_init(&c, stdout, stderr);
    int rc = ctl_main(&c, argc, argv);
    ctl_ctx_free(&c);
    return rc;
}
