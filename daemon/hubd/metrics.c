/* daemon/hubd/metrics.c — /metrics in the Prometheus text exposition format (0.0.4). */
#include <stdio.h>
#include <stdlib.h>

#include "hub.h"

char *hub_metrics_render(hub *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const hub_metrics *m = &h->m;
    static const char *const kinds[3] = {"keygen", "sign", "reshare"};
    fprintf(f, "# HELP mpc_hub_http_requests_total HTTP responses by status class.\n"
               "# TYPE mpc_hub_http_requests_total counter\n");
    for (int c = 1; c <= 5; c++)
        fprintf(f, "mpc_hub_http_requests_total{code=\"%dxx\"} %llu\n", c,
                (unsigned long long)m->http_requests[c]);
    fprintf(f,
            "# HELP mpc_hub_http_request_duration_seconds Time from request to response.\n"
            "# TYPE mpc_hub_http_request_duration_seconds summary\n"
            "mpc_hub_http_request_duration_seconds_sum %.6f\n"
            "mpc_hub_http_request_duration_seconds_count %llu\n",
            (double)m->http_latency_us_sum / 1e6, (unsigned long long)m->http_latency_count);
    fprintf(f, "# HELP mpc_hub_sessions_total Sessions by kind and outcome.\n"
               "# TYPE mpc_hub_sessions_total counter\n");
    for (int k = 0; k < 3; k++) {
        fprintf(f, "mpc_hub_sessions_total{kind=\"%s\",outcome=\"started\"} %llu\n", kinds[k],
                (unsigned long long)m->sessions_started[k]);
        fprintf(f, "mpc_hub_sessions_total{kind=\"%s\",outcome=\"done\"} %llu\n", kinds[k],
                (unsigned long long)m->sessions_done[k]);
        fprintf(f, "mpc_hub_sessions_total{kind=\"%s\",outcome=\"failed\"} %llu\n", kinds[k],
                (unsigned long long)m->sessions_failed[k]);
    }
    fprintf(f,
            "# HELP mpc_hub_sessions_in_flight Sessions running now.\n"
            "# TYPE mpc_hub_sessions_in_flight gauge\nmpc_hub_sessions_in_flight %u\n"
            "# HELP mpc_hub_parties_online Signers with a live party link.\n"
            "# TYPE mpc_hub_parties_online gauge\nmpc_hub_parties_online %u\n"
            "# HELP mpc_hub_frames_routed_total Protocol frames forwarded between signers.\n"
            "# TYPE mpc_hub_frames_routed_total counter\nmpc_hub_frames_routed_total %llu\n"
            "# HELP mpc_hub_frames_dropped_total Frames for unknown sessions or senders.\n"
            "# TYPE mpc_hub_frames_dropped_total counter\nmpc_hub_frames_dropped_total %llu\n"
            "# HELP mpc_hub_links_rejected_total Party-link connections refused.\n"
            "# TYPE mpc_hub_links_rejected_total counter\nmpc_hub_links_rejected_total %llu\n"
            "# HELP mpc_hub_auth_failures_total Requests without a valid API key.\n"
            "# TYPE mpc_hub_auth_failures_total counter\nmpc_hub_auth_failures_total %llu\n"
            "# HELP mpc_hub_rate_limited_total Requests refused by the rate limit.\n"
            "# TYPE mpc_hub_rate_limited_total counter\nmpc_hub_rate_limited_total %llu\n"
            "# HELP mpc_hub_uptime_seconds Seconds since the hub started.\n"
            "# TYPE mpc_hub_uptime_seconds gauge\nmpc_hub_uptime_seconds %llu\n",
            h->nsessions, hub_links_online(h), (unsigned long long)m->frames_routed,
            (unsigned long long)m->frames_dropped, (unsigned long long)m->links_rejected,
            (unsigned long long)m->auth_failures, (unsigned long long)m->rate_limited,
            (unsigned long long)((hub_now_ms() - h->started_ms) / 1000));
    fprintf(f,
            "# HELP mpc_hub_links_throttled_total Times the hub stopped reading from a signer\n"
            "# because a recipient of its protocol frames had too much queued.\n"
            "# TYPE mpc_hub_links_throttled_total counter\nmpc_hub_links_throttled_total %llu\n",
            (unsigned long long)m->links_throttled);
    fprintf(f,
            "# HELP mpc_hub_delegate_shares_waiting New keys' delegate shares held in memory\n"
            "# until the backend takes them.\n"
            "# TYPE mpc_hub_delegate_shares_waiting gauge\nmpc_hub_delegate_shares_waiting %u\n",
            hub_delegate_count(h));
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
