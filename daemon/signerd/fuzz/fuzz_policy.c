/* daemon/signerd/fuzz/fuzz_policy.c — libFuzzer target for what a signer's gate reads (issue
 * 15): the policy file parser (inih + our value parsers), and approval verification on
 * attacker-chosen public keys, signatures and messages (OpenSSL P-256 / Ed25519,
 * libsecp256k1). The first byte picks the part: even = a policy file, odd = one approval
 * (alg, 33-byte key or 32-byte Ed25519 key, 64-byte signature, message). Properties: no crash,
 * no out-of-bounds read (ASan), no undefined behaviour (UBSan); a parsed policy's quorum is
 * reachable with its approvers; verification never accepts a signature from the fuzzer for a
 * key that is not its own (it cannot forge; OK here would be a bug in a verifier). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/hex.h"
#include "daemon/common/approval.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        signer_policy *p = malloc(sizeof *p);
        char err[600];
        if (p && signer_policy_parse(p, (const char *)data + 1, size - 1, err, sizeof err) == 0 &&
            (p->quorum > p->napprovers || p->large_quorum > p->napprovers))
            abort();
        free(p);
        return 0;
    }
    /* alg (1) || key (33) || signature (64) || message */
    if (size < 1 + 1 + 33 + 64)
        return 0;
    mpcd_approval_alg alg = (mpcd_approval_alg)(1 + data[1] % 3);
    size_t klen = alg == MPCD_ALG_ED25519 ? 32 : 33;
    char hex[67];
    mpcd_approver_key k;
    api_hex_encode(hex, data + 2, klen);
    if (mpcd_approver_key_from_hex(&k, alg, hex) != MPCD_APPROVAL_OK)
        return 0;
    if (mpcd_approval_verify(&k, data + 2 + 33 + 64, size - 2 - 33 - 64, data + 2 + 33) ==
        MPCD_APPROVAL_OK)
        abort(); /* a forgery: the fuzzer holds no private key */
    return 0;
}
