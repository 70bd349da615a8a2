/* daemon/hubd/fuzz/fuzz_head.c — libFuzzer target for the REST port's request-head parser
 * (head.c), the first code that sees a client's bytes after TLS. Checks, beyond "no crash":
 * a head that parses has a path starting with '/' and free of control bytes, a head length
 * within the input and the limit, a shorter prefix of it is only "incomplete", and a parse
 * resumed after that prefix gives the same head. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "head.h"

/* not CHECK(): the fuzz build is RelWithDebInfo, where NDEBUG removes it */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static hub_head H, P;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hub_head_init(&H);
    hub_head_err e = hub_head_parse(&H, (const char *)data, size);
    CHECK(hub_head_status(e) >= 200 && hub_head_status(e) <= 505);
    if (e != HUB_HEAD_OK) {
        CHECK(e == HUB_HEAD_INCOMPLETE || H.msg[0]);
        /* the same verdict when the bytes arrive in two reads */
        hub_head_init(&P);
        if (hub_head_parse(&P, (const char *)data, size / 2) == HUB_HEAD_INCOMPLETE)
            CHECK(hub_head_parse(&P, (const char *)data, size) == e);
        return 0;
    }
    CHECK(H.head_len >= 4 && H.head_len <= size && H.head_len <= HUB_HEAD_MAX);
    CHECK(H.path && H.path[0] == '/');
    for (const char *p = H.path; *p; p++)
        CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    CHECK(H.method != HUB_METHOD_OTHER);
    CHECK(H.nfields <= HUB_HEAD_MAX_FIELDS && H.nargs <= HUB_HEAD_MAX_ARGS);
    CHECK(!H.has_content_length || H.content_length < 10000000000000000000ull);
    /* a prefix is only incomplete, and a scan resumed after it gives the same head */
    size_t cut = H.head_len / 2;
    hub_head_init(&P);
    CHECK(hub_head_parse(&P, (const char *)data, cut) == HUB_HEAD_INCOMPLETE);
    CHECK(hub_head_parse(&P, (const char *)data, size) == HUB_HEAD_OK);
    CHECK(P.head_len == H.head_len && strcmp(P.path, H.path) == 0 && P.nfields == H.nfields);
    return 0;
}
