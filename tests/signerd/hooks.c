/* tests/signerd/hooks.c — see hooks.h. Compiled only into the test build. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api/frame.h"
#include "hooks.h"

static const char *mode(void)
{
    const char *m = getenv("MPC_SIGNERD_TEST_TAMPER");
    return m ? m : "";
}

int signer_test_outgoing(uint8_t *frame, size_t len)
{
    uint32_t round = (uint32_t)frame[24] << 24 | (uint32_t)frame[25] << 16 |
                     (uint32_t)frame[26] << 8 | frame[27];
    if (round == 1 && strcmp(mode(), "flip") == 0 && len > API_FRAME_HEADER_BYTES + 40)
        frame[API_FRAME_HEADER_BYTES + 40] ^= 0x01;
    if (round == 1 && strcmp(mode(), "replay") == 0)
        return 2;
    if (round == 2 && strcmp(mode(), "drop") == 0)
        return 0;
    return 1;
}

void signer_test_share(tss_keyshare *ks)
{
    static atomic_uint column;
    if (strcmp(mode(), "ot") != 0)
        return;
    unsigned l = atomic_fetch_add(&column, 1) % ks->kappa;
    for (unsigned j = 0; j < ks->n; j++)
        if (j + 1 != ks->index && ks->peer[j].ot_recv)
            ks->peer[j].ot_recv->seed[l][1][0] ^= 0x01;
}

int signer_test_keygen_role(int configured)
{
    if (strcmp(mode(), "delegate-lie") == 0)
        return 1;
    if (strcmp(mode(), "delegate-keep") == 0)
        return 0;
    return configured;
}

void signer_test_store_opened(signer_store *st)
{
    const char *full = getenv("MPC_SIGNERD_TEST_FULL_DISK");
    if (full && strcmp(full, "1") == 0)
        signer_store_test_max_pages(st, 1); /* SQLite keeps the cap at the current size */
}

/* Flips the hex digit `skip` characters after the first occurrence of `field`. */
static void flip_after(char *json, const char *field, size_t skip)
{
    char *p = json ? strstr(json, field) : NULL;
    if (!p || strlen(p) <= strlen(field) + skip)
        return;
    p += strlen(field) + skip;
    *p = *p == '0' ? '1' : '0';
}

char *signer_test_reshare_result(char *json)
{
    if (strcmp(mode(), "reshare-att") == 0)
        flip_after(json, "\"attestation\":\"", 20);
    if (strcmp(mode(), "reshare-pub") == 0)
        flip_after(json, "\"public_shares\":[\"", 20);
    return json;
}
