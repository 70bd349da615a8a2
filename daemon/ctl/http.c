/* daemon/ctl/http.c — mpcctl's HTTPS client for the hub (libcurl, one handle per run so
 * requests reuse the TLS connection), the API key and hub settings from the environment,
 * the hub's error bodies, and polling a session. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "ctl.h"

static void from_env(char *dst, size_t cap, const char *name)
{
    const char *v = getenv(name);
    if (!dst[0] && v && *v && strlen(v) < cap)
        snprintf(dst, cap, "%s", v);
}

/* Reads the key from path: the first line, without its newline. Warns when the file is
 * readable by others. */
static int read_key_file(ctl_ctx *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return ctl_fail(c, CTL_EXIT_LOCAL, "API key file %s: cannot read it", path);
    }
    if (st.st_mode & 077)
        fprintf(c->err,
                "mpcctl: warning: API key file %s is readable by group or others "
                "(chmod 600 it)\n",
                path);
    ssize_t n = read(fd, c->api_key, sizeof c->api_key - 1);
    close(fd);
    if (n <= 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "API key file %s is empty", path);
    c->api_key[n] = 0;
    c->api_key[strcspn(c->api_key, "\r\n")] = 0;
    if (!c->api_key[0])
        return ctl_fail(c, CTL_EXIT_LOCAL, "API key file %s is empty", path);
    return CTL_EXIT_OK;
}

int ctl_hub_setup(ctl_ctx *c)
{
    from_env(c->hub, sizeof c->hub, "MPCCTL_HUB");
    from_env(c->ca, sizeof c->ca, "MPCCTL_CA");
    from_env(c->party_ca, sizeof c->party_ca, "MPCCTL_PARTY_CA");
    from_env(c->api_key_file, sizeof c->api_key_file, "MPCCTL_API_KEY_FILE");
    if (!c->hub[0])
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "no hub: give --hub https://HOST:PORT or set MPCCTL_HUB");
    if (strncmp(c->hub, "https://", 8) != 0 || !c->hub[8])
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "hub URL '%s' must start with https:// (the API key must not travel in "
                        "clear)",
                        c->hub);
    size_t len = strlen(c->hub);
    while (len > 8 && c->hub[len - 1] == '/')
        c->hub[--len] = 0;
    if (!c->party_ca[0])
        snprintf(c->party_ca, sizeof c->party_ca, "%s", c->ca);
    if (c->api_key[0])
        return CTL_EXIT_OK;
    const char *env = getenv("MPCCTL_API_KEY");
    if (env && *env) {
        if (strlen(env) >= sizeof c->api_key)
            return ctl_fail(c, CTL_EXIT_USAGE, "MPCCTL_API_KEY is too long");
        snprintf(c->api_key, sizeof c->api_key, "%s", env);
        return CTL_EXIT_OK;
    }
    if (c->api_key_file[0])
        return read_key_file(c, c->api_key_file);
    return ctl_fail(c, CTL_EXIT_USAGE,
                    "no API key: set MPCCTL_API_KEY or give --api-key-file FILE "
                    "(made with mpc-hubd create-api-key)");
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    char **buf = arg;
    size_t old = *buf ? strlen(*buf) : 0, add = size * n;
    if (old + add > (16u << 20))
        return 0; /* a hub answer is never this large */
    char *nb = realloc(*buf, old + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + old, p, add);
    nb[old + add] = 0;
    *buf = nb;
    return add;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int ctl_http(ctl_ctx *c, const char *method, const char *path, const char *body, ctl_resp *r)
{
    char url[1200], auth[300];
    memset(r, 0, sizeof *r);
    if (!c->curl) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        c->curl = curl_easy_init();
        if (!c->curl)
            return ctl_fail(c, CTL_EXIT_LOCAL, "cannot initialise libcurl");
    }
    CURL *h = c->curl;
    char *resp = NULL, errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s%s", c->hub, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->api_key);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    if (body)
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    else if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (c->ca[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 90L); /* ?wait is at most 60 s at the hub */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    double t0 = now_ms();
    CURLcode rc = curl_easy_perform(h);
    r->ms = now_ms() - t0;
    curl_slist_free_all(hdr);
    OPENSSL_cleanse(auth, sizeof auth);
    if (rc != CURLE_OK) {
        free(resp);
        return ctl_fail(c, CTL_EXIT_CONN, "cannot reach the hub at %s: %s%s%s", c->hub,
                        curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (resp)
        r->body = json_loads(resp, 0, NULL);
    free(resp);
    return CTL_EXIT_OK;
}

void ctl_resp_free(ctl_resp *r)
{
    json_decref(r->body);
    r->body = NULL;
}

int ctl_hub_error(ctl_ctx *c, const ctl_resp *r, const char *what)
{
    const json_t *e = json_object_get(r->body, "error");
    if (c->json && r->body)
        ctl_print_json(c, r->body);
    if (!e)
        return ctl_fail(c, CTL_EXIT_FAILED, "%s: the hub answered HTTP %ld without an error body",
                        what, r->status);
    return ctl_fail(c, CTL_EXIT_FAILED, "%s: the hub answered %ld %s: %s", what, r->status,
                    ctl_jstr(e, "code"), ctl_jstr(e, "message"));
}

int ctl_session_wait(ctl_ctx *c, const char *sid, unsigned wait_s, json_t **out)
{
    char path[128];
    double deadline = now_ms() + wait_s * 1e3;
    snprintf(path, sizeof path, "/v1/sessions/%s", sid);
    *out = NULL;
    for (;;) {
        ctl_resp r;
        int rc = ctl_http(c, "GET", path, NULL, &r);
        if (rc != CTL_EXIT_OK)
            return rc;
        if (r.status != 200) {
            rc = ctl_hub_error(c, &r, "session");
            ctl_resp_free(&r);
            return rc;
        }
        const char *st = ctl_jstr(r.body, "status");
        if (strcmp(st, "done") == 0 || strcmp(st, "failed") == 0) {
            *out = r.body;
            return CTL_EXIT_OK;
        }
        ctl_resp_free(&r);
        if (now_ms() >= deadline)
            return ctl_fail(c, CTL_EXIT_PENDING,
                            "session %s is still running; see mpcctl sessions show %s", sid, sid);
        usleep(100000);
    }
}
