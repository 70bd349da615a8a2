/* tss/msg.c — header codec and outbound message lists. */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

#include "secmem.h"

tss_err tss_msg_parse_header(tss_msg_header *h, const uint8_t *buf, size_t len)
{
    if (buf == NULL || len < TSS_MSG_HEADER_BYTES)
        return TSS_ERR_LENGTH;
    h->protocol = buf[0];
    h->version = buf[1];
    h->round = buf[2];
    h->flags = buf[3];
    h->from = (uint16_t)(buf[4] << 8 | buf[5]);
    h->to = (uint16_t)(buf[6] << 8 | buf[7]);
    memcpy(h->sid, buf + 8, 32);
    h->payload_len =
        (uint32_t)buf[40] << 24 | (uint32_t)buf[41] << 16 | (uint32_t)buf[42] << 8 | buf[43];
    if (h->version != TSS_MSG_VERSION || (h->flags & ~TSS_MSG_CONFIDENTIAL) != 0)
        return TSS_ERR_FORMAT;
    if ((size_t)h->payload_len != len - TSS_MSG_HEADER_BYTES)
        return TSS_ERR_LENGTH;
    return TSS_OK;
}

tss_err tss_msgs_append(tss_msgs *out, uint8_t protocol, uint8_t round, uint8_t flags,
                        uint16_t from, uint16_t to, const uint8_t sid[32], const uint8_t *payload,
                        size_t payload_len)
{
    if (payload_len > UINT32_MAX - TSS_MSG_HEADER_BYTES)
        return TSS_ERR_ARG;
    tss_msg *grown = realloc(out->items, (out->count + 1) * sizeof *grown);
    if (grown == NULL)
        return TSS_ERR_NOMEM;
    out->items = grown;
    size_t len = TSS_MSG_HEADER_BYTES + payload_len;
    uint8_t *b = malloc(len);
    if (b == NULL)
        return TSS_ERR_NOMEM;
    b[0] = protocol;
    b[1] = TSS_MSG_VERSION;
    b[2] = round;
    b[3] = flags;
    b[4] = (uint8_t)(from >> 8);
    b[5] = (uint8_t)from;
    b[6] = (uint8_t)(to >> 8);
    b[7] = (uint8_t)to;
    memcpy(b + 8, sid, 32);
    b[40] = (uint8_t)(payload_len >> 24);
    b[41] = (uint8_t)(payload_len >> 16);
    b[42] = (uint8_t)(payload_len >> 8);
    b[43] = (uint8_t)payload_len;
    if (payload_len > 0)
        memcpy(b + TSS_MSG_HEADER_BYTES, payload, payload_len);
    tss_msg *m = &out->items[out->count++];
    m->data = b;
    m->len = len;
    m->to = to;
    m->confidential = (flags & TSS_MSG_CONFIDENTIAL) != 0;
    return TSS_OK;
}

void tss_msgs_truncate(tss_msgs *m, size_t keep)
{
    for (size_t i = keep; i < m->count; i++) {
        tss_memzero(m->items[i].data, m->items[i].len);
        free(m->items[i].data);
        m->items[i].data = NULL;
    }
    if (m->count > keep)
        m->count = keep;
    if (m->count == 0) {
        free(m->items);
        m->items = NULL;
    }
}

void tss_msgs_free(tss_msgs *m)
{
    tss_msgs_truncate(m, 0);
}
