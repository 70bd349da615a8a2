/* api/frame.c — encoder and strict decoder of party-link frames (api/PARTY_LINK.md).
 * Pure functions over caller buffers: no allocation, no I/O. */
#include <string.h>

#include "frame.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int session_is_zero(const uint8_t s[API_SESSION_ID_BYTES])
{
    uint8_t acc = 0;
    for (size_t i = 0; i < API_SESSION_ID_BYTES; i++)
        acc |= s[i];
    return acc == 0;
}

/* The per-type rules shared by encoder and decoder (PARTY_LINK.md, "Rules"). */
static api_err frame_check(const api_frame *f)
{
    if (f->type < API_FRAME_HELLO || f->type > API_FRAME__MAX)
        return API_ERR_FRAME_TYPE;
    if (f->flags != 0)
        return API_ERR_FRAME;
    if (f->payload_len > API_FRAME_MAX_PAYLOAD)
        return API_ERR_FRAME_LENGTH;
    if (f->from > API_PARTY_MAX_INDEX || f->to > API_PARTY_MAX_INDEX)
        return API_ERR_FRAME;
    switch (f->type) {
    case API_FRAME_HELLO:
    case API_FRAME_PING:
    case API_FRAME_PONG:
        /* Link-level frames: no session, no indices, no round. */
        if (!session_is_zero(f->session) || f->from || f->to || f->round)
            return API_ERR_FRAME;
        if (f->type == API_FRAME_HELLO && f->payload_len == 0)
            return API_ERR_FRAME;
        break;
    case API_FRAME_SESSION_START:
    case API_FRAME_ACTIVATE:
    case API_FRAME_RETIRE:
        /* hub -> signer: from the hub, to a participant. */
        if (session_is_zero(f->session) || f->from != API_PARTY_HUB || f->to == API_PARTY_HUB ||
            f->round || f->payload_len == 0)
            return API_ERR_FRAME;
        break;
    case API_FRAME_PROTOCOL:
        /* participant -> participant, never to itself or the hub. */
        if (session_is_zero(f->session) || f->from == API_PARTY_HUB || f->to == API_PARTY_HUB ||
            f->from == f->to || f->payload_len == 0)
            return API_ERR_FRAME;
        break;
    case API_FRAME_RESULT:
        if (session_is_zero(f->session) || f->from == API_PARTY_HUB || f->to != API_PARTY_HUB ||
            f->payload_len == 0)
            return API_ERR_FRAME;
        break;
    case API_FRAME_ABORT:
        if (session_is_zero(f->session) || f->from == f->to || f->payload_len == 0)
            return API_ERR_FRAME;
        break;
    }
    return API_OK;
}

api_err api_frame_decode(api_frame *f, const uint8_t *buf, size_t len)
{
    if (!f || (!buf && len))
        return API_ERR_FRAME;
    memset(f, 0, sizeof *f);
    if (len < API_FRAME_HEADER_BYTES)
        return API_ERR_FRAME_LENGTH;
    f->version = buf[0];
    if (f->version != API_FRAME_VERSION)
        return API_ERR_FRAME_VERSION;
    f->type = buf[1];
    f->flags = get16(buf + 2);
    memcpy(f->session, buf + 4, API_SESSION_ID_BYTES);
    f->from = get16(buf + 20);
    f->to = get16(buf + 22);
    f->round = get32(buf + 24);
    f->payload_len = get32(buf + 28);
    if (f->payload_len > API_FRAME_MAX_PAYLOAD ||
        (size_t)f->payload_len != len - API_FRAME_HEADER_BYTES)
        return API_ERR_FRAME_LENGTH;
    f->payload = f->payload_len ? buf + API_FRAME_HEADER_BYTES : NULL;
    return frame_check(f);
}

api_err api_frame_encode(uint8_t *out, size_t cap, size_t *out_len, const api_frame *f)
{
    if (!f || !out_len || (f->payload_len && !f->payload))
        return API_ERR_FRAME;
    api_err e = frame_check(f);
    if (e != API_OK)
        return e;
    size_t need = api_frame_size(f->payload_len);
    if (!out || cap < need)
        return API_ERR_FRAME_LENGTH;
    out[0] = API_FRAME_VERSION;
    out[1] = f->type;
    put16(out + 2, f->flags);
    memcpy(out + 4, f->session, API_SESSION_ID_BYTES);
    put16(out + 20, f->from);
    put16(out + 22, f->to);
    put32(out + 24, f->round);
    put32(out + 28, f->payload_len);
    if (f->payload_len)
        memmove(out + API_FRAME_HEADER_BYTES, f->payload, f->payload_len);
    *out_len = need;
    return API_OK;
}

const char *api_frame_type_name(unsigned type)
{
    static const char *const names[] = {
        [API_FRAME_HELLO] = "hello",       [API_FRAME_SESSION_START] = "session-start",
        [API_FRAME_PROTOCOL] = "protocol", [API_FRAME_RESULT] = "result",
        [API_FRAME_ABORT] = "abort",       [API_FRAME_PING] = "ping",
        [API_FRAME_PONG] = "pong",         [API_FRAME_ACTIVATE] = "activate",
        [API_FRAME_RETIRE] = "retire",
    };
    if (type < 1 || type > API_FRAME__MAX)
        return "unknown";
    return names[type];
}
