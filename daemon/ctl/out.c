/* daemon/ctl/out.c — mpcctl's readable output: aligned "name  value" lines for one object,
 * tables for lists. --json prints the hub's JSON instead (see each command). */
#include <string.h>
#include <time.h>

#include "ctl.h"

void ctl_print_json(ctl_ctx *c, const json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        fprintf(c->out, "%s\n", s);
    free(s);
}

const char *ctl_jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

long long ctl_jint(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

void ctl_fmt_time(char out[32], long long unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (unix_s <= 0 || !gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, 32, "-");
}

void ctl_print_signature(ctl_ctx *c, const json_t *sig, const char *verified)
{
    long long rid = ctl_jint(sig, "recovery_id");
    fprintf(c->out, "key          %s\n", ctl_jstr(sig, "key_id"));
    fprintf(c->out, "session      %s\n", ctl_jstr(sig, "session_id"));
    if (ctl_jstr(sig, "derivation_path")[0])
        fprintf(c->out, "path         %s\n", ctl_jstr(sig, "derivation_path"));
    if (ctl_jstr(sig, "public_key")[0])
        fprintf(c->out, "public key   %s\n", ctl_jstr(sig, "public_key"));
    fprintf(c->out, "r            %s\n", ctl_jstr(sig, "r"));
    fprintf(c->out, "s            %s\n", ctl_jstr(sig, "s"));
    fprintf(c->out, "v            %lld (recovery id %lld; EIP-155: chain_id*2+35+%lld)\n", 27 + rid,
            rid, rid);
    fprintf(c->out, "der          %s\n", ctl_jstr(sig, "der"));
    if (verified)
        fprintf(c->out, "verified     %s\n", verified);
}

static void print_session_parties(ctl_ctx *c, const json_t *s)
{
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(s, "parties"), i, p)
    {
        fprintf(c->out, "%s%s (index %lld)", i ? ", " : "", ctl_jstr(p, "id"),
                ctl_jint(p, "index"));
    }
}

void ctl_print_session(ctl_ctx *c, const json_t *s)
{
    char created[32], updated[32];
    ctl_fmt_time(created, ctl_jint(s, "created"));
    ctl_fmt_time(updated, ctl_jint(s, "updated"));
    fprintf(c->out, "session      %s\n", ctl_jstr(s, "id"));
    fprintf(c->out, "kind         %s\n", ctl_jstr(s, "kind"));
    fprintf(c->out, "key          %s\n", ctl_jstr(s, "key_id"));
    fprintf(c->out, "status       %s\n", ctl_jstr(s, "status"));
    fprintf(c->out, "threshold    %lld of %lld\n", ctl_jint(s, "threshold_t"),
            ctl_jint(s, "threshold_n"));
    fprintf(c->out, "parties      ");
    print_session_parties(c, s);
    fprintf(c->out, "\ncreated      %s\nupdated      %s\n", created, updated);
    const json_t *err = json_object_get(s, "error"), *res = json_object_get(s, "result");
    if (json_is_object(err))
        fprintf(c->out, "error        %s: %s\n", ctl_jstr(err, "code"), ctl_jstr(err, "message"));
    if (json_is_object(res)) {
        const char *k;
        const json_t *v;
        fprintf(c->out, "result\n");
        json_object_foreach((json_t *)res, k, v)
        {
            if (json_is_string(v))
                fprintf(c->out, "  %-18s %s\n", k, json_string_value(v));
            else if (json_is_integer(v))
                fprintf(c->out, "  %-18s %lld\n", k, (long long)json_integer_value(v));
        }
    }
    const json_t *ev = json_object_get(s, "events"), *e;
    size_t i;
    long long t0 = ctl_jint(json_array_get(ev, 0), "ts_ms");
    if (json_array_size(ev))
        fprintf(c->out, "events\n");
    json_array_foreach(ev, i, e)
    {
        fprintf(c->out, "  %+7lld ms  %-18s %s\n", ctl_jint(e, "ts_ms") - t0, ctl_jstr(e, "event"),
                ctl_jstr(e, "detail"));
    }
}

void ctl_print_parties(ctl_ctx *c, const json_t *o)
{
    const json_t *a = json_object_get(o, "parties"), *p;
    size_t i;
    fprintf(c->out, "%-16s %-7s %-8s %-8s %-23s %s\n", "PARTY", "ONLINE", "BACKEND", "VERSION",
            "LAST SEEN", "CERTIFICATE SHA-256");
    json_array_foreach(a, i, p)
    {
        char seen[32];
        ctl_fmt_time(seen, ctl_jint(p, "last_seen"));
        fprintf(c->out, "%-16s %-7s %-8s %-8s %-23s %.16s...\n", ctl_jstr(p, "id"),
                json_is_true(json_object_get(p, "online")) ? "yes" : "no",
                ctl_jstr(p, "backend")[0] ? ctl_jstr(p, "backend") : "-",
                ctl_jstr(p, "version")[0] ? ctl_jstr(p, "version") : "-", seen,
                ctl_jstr(p, "certificate_sha256"));
    }
    if (!json_array_size(a))
        fprintf(c->out, "(no signer has connected yet)\n");
}

void ctl_print_keys(ctl_ctx *c, const json_t *o)
{
    const json_t *a = json_object_get(o, "keys"), *k, *p;
    size_t i, j;
    fprintf(c->out, "%-32s  %-7s  %-6s  %-20s  %s\n", "KEY", "STATUS", "T-OF-N", "PARTIES",
            "LABEL");
    json_array_foreach(a, i, k)
    {
        char tn[16], parties[256] = "";
        size_t used = 0;
        snprintf(tn, sizeof tn, "%lld/%lld", ctl_jint(k, "threshold"), ctl_jint(k, "n"));
        json_array_foreach(json_object_get(k, "parties"), j, p)
        {
            int w = snprintf(parties + used, sizeof parties - used, "%s%s", j ? "," : "",
                             json_string_value(p) ? json_string_value(p) : "?");
            if (w < 0 || (size_t)w >= sizeof parties - used)
                break;
            used += (size_t)w;
        }
        fprintf(c->out, "%-32s  %-7s  %-6s  %-20s  %s\n", ctl_jstr(k, "id"), ctl_jstr(k, "status"),
                tn, parties, ctl_jstr(k, "label"));
    }
    if (!json_array_size(a))
        fprintf(c->out, "(no keys)\n");
    else
        fprintf(c->out, "addresses are shown by 'mpcctl keys show ID', after it has verified the "
                        "key's attestations\n");
}
