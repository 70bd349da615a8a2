/* daemon/hubd/config.c — reads mpc-hubd.conf (INI, via inih) into hub_config. Unknown
 * sections or keys are errors, so a typo never silently falls back to a default. */
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include "daemon/common/config.h"
#include "daemon/common/log.h"
#include "hub.h"

static int set_uint(unsigned *out, const char *v, uint64_t lo, uint64_t hi)
{
    uint64_t x;
    if (mpcd_parse_uint(v, lo, hi, &x) != 0)
        return -1;
    *out = (unsigned)x;
    return 0;
}

#define IS(s, n)   (strcmp(section, s) == 0 && strcmp(name, n) == 0)
#define STR(field) mpcd_copy_string(c->field, sizeof c->field, value)

static int handler(void *user, const char *section, const char *name, const char *value)
{
    hub_config *c = user;
    int r;
    if (IS("hub", "database"))
        r = STR(database);
    else if (IS("hub", "log_level"))
        r = (c->log_level = mpcd_log_level_parse(value)) < 0 ? -1 : 0;
    else if (IS("api", "listen"))
        r = STR(api_listen);
    else if (IS("api", "port"))
        r = set_uint(&c->api_port, value, 1, 65535);
    else if (IS("api", "cert"))
        r = STR(api_cert);
    else if (IS("api", "key"))
        r = STR(api_key);
    else if (IS("api", "client_ca"))
        r = STR(api_client_ca);
    else if (IS("api", "allow"))
        r = STR(allow);
    else if (IS("api", "max_body"))
        r = set_uint(&c->max_body, value, 256, 1u << 20);
    else if (IS("api", "rate_limit"))
        r = set_uint(&c->rate_limit, value, 0, 100000);
    else if (IS("api", "rate_burst"))
        r = set_uint(&c->rate_burst, value, 1, 100000);
    else if (IS("api", "header_timeout"))
        r = set_uint(&c->header_timeout, value, 1, 300);
    else if (IS("api", "body_timeout"))
        r = set_uint(&c->body_timeout, value, 1, 600);
    else if (IS("api", "idle_timeout"))
        r = set_uint(&c->idle_timeout, value, 1, 3600);
    else if (IS("api", "max_connections"))
        r = set_uint(&c->max_conns, value, 8, 1000000);
    else if (IS("api", "max_connections_per_address"))
        r = set_uint(&c->max_conns_per_addr, value, 1, 1000000);
    else if (IS("party", "listen"))
        r = STR(party_listen);
    else if (IS("party", "port"))
        r = set_uint(&c->party_port, value, 1, 65535);
    else if (IS("party", "cert"))
        r = STR(party_cert);
    else if (IS("party", "key"))
        r = STR(party_key);
    else if (IS("party", "ca"))
        r = STR(party_ca);
    else if (IS("party", "ping_interval"))
        r = set_uint(&c->party_ping, value, 0, 3600);
    else if (IS("party", "idle_timeout"))
        r = set_uint(&c->party_timeout, value, 1, 7200);
    else if (IS("party", "queue_high_water"))
        r = set_uint(&c->party_high_water, value, 64 * 1024, 32u << 20);
    else if (IS("sessions", "timeout"))
        r = set_uint(&c->session_timeout, value, 1, 3600);
    else if (IS("sessions", "max_in_flight"))
        r = set_uint(&c->max_sessions, value, 1, 100000);
    else if (IS("sessions", "max_wait"))
        r = set_uint(&c->max_wait, value, 0, 3600);
    else if (IS("sessions", "delegate_pickup"))
        r = set_uint(&c->delegate_pickup, value, 10, 86400);
    else if (IS("sessions", "max_protocol_bytes"))
        r = set_uint(&c->max_peer_bytes, value, 64 * 1024, 1u << 30);
    else {
        log_err("config: unknown key '%s' in section [%s]", name, section);
        return 0;
    }
    if (r != 0)
        log_err("config: [%s] %s = '%s' is not valid", section, name, value);
    return r == 0;
}

int hub_config_load(hub_config *c, const char *path)
{
    memset(c, 0, sizeof *c);
    snprintf(c->database, sizeof c->database, "/var/lib/mpc-hub/hub.db");
    c->log_level = LOG_INFO;
    c->api_port = 8443;
    c->max_body = 256 * 1024;
    c->header_timeout = 10;
    c->body_timeout = 30;
    c->idle_timeout = 15;
    c->max_conns = 1024;
    c->max_conns_per_addr = 32;
    c->rate_limit = 0;
    c->rate_burst = 50;
    c->party_port = 8444;
    c->party_ping = 20;
    c->party_timeout = 45;
    c->party_high_water = 4u << 20;
    c->session_timeout = 30;
    c->max_sessions = 1024;
    c->max_wait = API_WAIT_MAX_SECONDS;
    c->delegate_pickup = 900; /* the replaced system held a user share 15 minutes */
    /* DKLs23 moves ~150 KB per pair for a 2-of-3 signature and a few hundred KB per pair
     * for a keygen: 8 MiB per peer is ~20x the largest, and bounds a flood. */
    c->max_peer_bytes = 8u << 20;
    int r = ini_parse(path, handler, c);
    if (r < 0) {
        log_err("config: cannot read %s", path);
        return -1;
    }
    if (r > 0) {
        log_err("config: %s: error on line %d", path, r);
        return -1;
    }
    /* The party link may share the API's certificate. */
    if (!c->party_cert[0])
        memcpy(c->party_cert, c->api_cert, sizeof c->party_cert);
    if (!c->party_key[0])
        memcpy(c->party_key, c->api_key, sizeof c->party_key);
    if (c->party_ping && c->party_timeout <= c->party_ping) {
        log_err("config: [party] idle_timeout must be longer than ping_interval");
        return -1;
    }
    if (!c->party_ca[0]) {
        log_err("config: [party] ca is required: the CA whose certificates signers present");
        return -1;
    }
    return 0;
}
