/* daemon/ctl/fuzz/fuzz_dealer.c — libFuzzer target for mpcctl's dealer descriptor decoder
 * (daemon/ctl/dealer.h), which reads what other machines produced (the staging command's
 * line on each dealer node) before keys import sends anything. An input is one descriptor
 * (ctl_dealer_parse), or, starting with '!', up to 16 newline-separated descriptors whose
 * parsed ones are checked as one import (ctl_dealer_check_set: agreement, counts, the
 * interpolation of the public shares to the public key) for a committee n1,n2,n3.
 * Properties on every input: no crash or sanitizer report; a refusal says why and leaves
 * the output zeroed; a parsed descriptor round-trips (ctl_dealer_json, parsed again,
 * gives the same descriptor); a set check that passes has 1..16 distinct dealers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dealer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_one(ctl_dealer *d, const char *text, size_t len)
{
    char why[256];
    static const ctl_dealer zero;
    ctl_dealer_err e = ctl_dealer_parse(d, text, len, why, sizeof why);
    if (e != CTL_DEALER_OK) {
        if (why[0] == 0 || memcmp(d, &zero, sizeof *d) != 0)
            abort(); /* a refusal says why and leaves nothing */
        return -1;
    }
    json_t *o = ctl_dealer_json(d);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    ctl_dealer again;
    if (!s || ctl_dealer_parse(&again, s, strlen(s), why, sizeof why) != CTL_DEALER_OK ||
        memcmp(&again, d, sizeof again) != 0)
        abort(); /* what mpcctl sends is what it read */
    free(s);
    json_decref(o);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctl_dealer d[API_MAX_PARTIES];
    char why[256];
    memset(d, 0, sizeof d);
    if (size == 0 || data[0] != '!') {
        parse_one(&d[0], (const char *)data, size);
        return 0;
    }
    size_t nd = 0, off = 1;
    while (off < size && nd < API_MAX_PARTIES) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
        if (parse_one(&d[nd], (const char *)data + off, len) == 0)
            nd++;
        off += len + 1;
    }
    static const api_party_name committee[3] = {"n1", "n2", "n3"};
    if (ctl_dealer_check_set(d, nd, committee, 3, 2, why, sizeof why) == CTL_DEALER_OK) {
        if (nd < 1 || nd > API_MAX_PARTIES)
            abort();
        for (size_t i = 0; i < nd; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(d[i].party, d[j].party) == 0 || memcmp(d[i].x, d[j].x, 32) == 0)
                    abort();
    } else if (why[0] == 0) {
        abort();
    }
    return 0;
}
