/* tests/signerd/ct_stage.c — constant-time check of the key text decoders of an import
 * (daemon/signerd/stage.h signer_stage_hex32, signer_stage_b58) under Valgrind Memcheck
 * (ctgrind style): the characters are marked undefined, and any branch or memory index that
 * depends on them is counted as an error; each decoder must produce exactly 0, on a valid
 * key and on one with a bad character (the verdict is data; branching on it is the
 * caller's decision). A control, a table-lookup hex decoder, must show errors, so the
 * harness demonstrably sees that leak. Outside Valgrind it exits 0 with a notice. */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "stage.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)

static int failures;

static void expect(const char *what, unsigned long before, int want_errors)
{
    unsigned long got = (unsigned long)VALGRIND_COUNT_ERRORS - before;
    printf("%-44s %lu secret-dependent branch(es) or index(es)\n", what, got);
    if (want_errors ? got == 0 : got != 0)
        failures++;
}

/* The leak the harness must see: a table indexed by the secret character. */
static uint32_t table_hex32(uint8_t out[32], const uint8_t text[64])
{
    static int8_t tbl[256];
    static int init;
    if (!init) {
        memset(tbl, -1, sizeof tbl);
        for (int c = 0; c < 10; c++)
            tbl['0' + c] = (int8_t)c;
        for (int c = 0; c < 6; c++)
            tbl['a' + c] = tbl['A' + c] = (int8_t)(10 + c);
        init = 1;
    }
    uint32_t bad = 0;
    for (size_t i = 0; i < 32; i++) {
        int8_t hi = tbl[text[2 * i]], lo = tbl[text[2 * i + 1]];
        bad |= (uint32_t)(hi | lo) >> 31;
        out[i] = (uint8_t)((hi << 4) | (lo & 0xf));
    }
    return bad;
}

int main(void)
{
    if (!RUNNING_ON_VALGRIND) {
        printf("ct_stage: not under valgrind; nothing checked\n");
        return 0;
    }
    static const char hex[] = "e8f32e723decf4051aefac8e2c93c9c5B214313817CDB01A1494b917c8436b35";
    static const char xprv[] = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNK"
                               "mPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
    uint8_t text[128], out[SIGNER_STAGE_XPRV_BYTES];
    unsigned long before;
    uint32_t v;

    for (int bad = 0; bad < 2; bad++) {
        memcpy(text, hex, 64);
        if (bad)
            text[17] = 'g';
        SECRET(text, 64);
        before = VALGRIND_COUNT_ERRORS;
        v = signer_stage_hex32(out, text);
        PUBLIC(&v, sizeof v);
        expect(bad ? "hex32, a bad digit" : "hex32, a key", before, 0);
        if ((v != 0) != bad)
            failures++;

        size_t len = strlen(xprv);
        memcpy(text, xprv, len);
        if (bad)
            text[50] = '0'; /* not base58 */
        SECRET(text, len);
        before = VALGRIND_COUNT_ERRORS;
        v = signer_stage_b58(out, text, len);
        PUBLIC(&v, sizeof v);
        expect(bad ? "b58, a character outside the alphabet" : "b58, an xprv", before, 0);
        if ((v != 0) != bad)
            failures++;
    }

    memcpy(text, hex, 64);
    SECRET(text, 64);
    before = VALGRIND_COUNT_ERRORS;
    v = table_hex32(out, text);
    PUBLIC(&v, sizeof v);
    expect("control: table-lookup hex (must leak)", before, 1);

    printf("ct_stage: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
