/* daemon/hubd/util.c — small helpers shared by the hub's files: clocks, ids, randomness. */
#include <sys/random.h>
#include <time.h>

#include "api/hex.h"
#include "hub.h"

uint64_t hub_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void hub_id_hex(char out[HUB_ID_HEX], const uint8_t id[HUB_ID_BYTES])
{
    api_hex_encode(out, id, HUB_ID_BYTES);
}

int hub_id_parse(uint8_t id[HUB_ID_BYTES], const char *hex, size_t len)
{
    return api_hex_decode(id, HUB_ID_BYTES, hex, len) == API_OK ? 0 : -1;
}

int hub_random(uint8_t *out, size_t len)
{
    return getrandom(out, len, 0) == (ssize_t)len ? 0 : -1;
}
