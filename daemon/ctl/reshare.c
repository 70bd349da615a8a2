/* daemon/ctl/reshare.c — mpcctl keys refresh / keys reshare (issue 17): new shares of the
 * same key for the same committee (refresh) or for a new threshold and committee
 * (reshare), as hub sessions of kind "reshare". mpcctl reads the key before (it must be
 * active; its public key is kept), asks the hub (?wait, then polls the session), checks
 * the answer names this key, the new epoch and committee and the SAME public key, then
 * shows the key as `keys create` does: its keygen attestations verified, the address
 * recomputed here, and its epoch. Also ctl_session_post, shared with keys import. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/hex.h"
#include "ctl.h"

static const char usage_epoch[] =
    "usage: mpcctl keys refresh ID [--wait S]\n"
    "       mpcctl keys reshare ID --threshold T --parties a,b,c [--wait S]\n"
    "\n"
    "refresh  new shares of the same key for the same parties and threshold (issue 17):\n"
    "         every party of the key must be online; t of them deal. Afterwards shares\n"
    "         taken from a node before the refresh are useless with the new ones.\n"
    "reshare  new shares of the same key for a new committee: T = signers required, the\n"
    "         parties in the order of their new indices (a replacement node joins without a\n"
    "         share; a party left out deals, then deletes its share). t of the current\n"
    "         parties must be online.\n"
    "Both keep the public key and every address; the key's epoch goes up by one, and the\n"
    "old epoch's shares are deleted on the nodes once every new share is active. A session\n"
    "that fails leaves the current epoch fully usable (exit 1). Waits up to S seconds\n"
    "(default 60; exit 6 if still running), checks the hub's answer (same key, same public\n"
    "key, the new epoch and committee), then shows the key as `keys show` does.\n";

/* The answer of a session-backed POST: 200/201 at once, or 202 and then the session. */
int ctl_session_post(ctl_ctx *c, const char *url, const char *body, unsigned wait, const char *what,
                     json_t **result, char sid[33])
{
    ctl_resp r;
    *result = NULL;
    sid[0] = 0;
    int rc = ctl_http(c, "POST", url, body, &r);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (r.status == 200 || r.status == 201) {
        snprintf(sid, 33, "%s", ctl_jstr(r.body, "session_id"));
        *result = r.body;
        return CTL_EXIT_OK;
    }
    if (r.status != 202) {
        rc = ctl_hub_error(c, &r, what);
        ctl_resp_free(&r);
        return rc;
    }
    /* still running: poll the session for what is left of --wait */
    char key[33];
    snprintf(sid, 33, "%s", ctl_jstr(r.body, "id"));
    snprintf(key, sizeof key, "%s", ctl_jstr(r.body, "key_id"));
    ctl_resp_free(&r);
    json_t *s = NULL;
    unsigned left = wait > API_WAIT_MAX_SECONDS ? wait - API_WAIT_MAX_SECONDS : 0;
    if (strlen(sid) != 32)
        return ctl_fail(c, CTL_EXIT_FAILED, "%s: the hub answered 202 without a session id", what);
    if ((rc = ctl_session_wait(c, sid, left, &s)) != CTL_EXIT_OK)
        return rc;
    if (strcmp(ctl_jstr(s, "status"), "failed") == 0) {
        json_t *err = json_object_get(s, "error");
        rc = ctl_fail(c, CTL_EXIT_FAILED, "%s: session %s failed: %s: %s", what, sid,
                      ctl_jstr(err, "code"), ctl_jstr(err, "message"));
        json_decref(s);
        return rc;
    }
    json_t *res = json_object_get(s, "result");
    *result = json_is_object(res) ? json_deep_copy(res) : json_object();
    if (!json_object_get(*result, "key_id"))
        json_object_set_new(*result, "key_id", json_string(key));
    json_object_set_new(*result, "session_id", json_string(sid));
    json_decref(s);
    return CTL_EXIT_OK;
}

typedef struct {
    const char *id;
    int reshare;
    unsigned threshold, wait;
    size_t nparties;
    api_party_name parties[API_MAX_PARTIES];
} epoch_args;

static int parse_epoch(ctl_ctx *c, int argc, char **argv, epoch_args *a)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"threshold", required_argument, NULL, 't'},
                                         {"parties", required_argument, NULL, 'p'},
                                         {"wait", required_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    const char *cmd = a->reshare ? "keys reshare" : "keys refresh";
    char why[160];
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_epoch);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc;
        if (o != 'w' && !a->reshare)
            return ctl_fail(c, CTL_EXIT_USAGE,
                            "keys refresh keeps the threshold and parties; use keys reshare to "
                            "change them");
        if (o == 't' && ctl_parse_uint(optarg, 2, API_MAX_PARTIES, &a->threshold) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--threshold: 2..%d signers required",
                            API_MAX_PARTIES);
        if (o == 'p' && ctl_parse_parties(optarg, a->parties, API_MAX_PARTIES, &a->nparties, why,
                                          sizeof why) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--parties: %s", why);
        if (o == 'w' && ctl_parse_uint(optarg, 0, 3600, &a->wait) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--wait: 0..3600 seconds");
    }
    if (optind + 1 != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "%s takes one key id (see --help)", cmd);
    a->id = argv[optind];
    if (strlen(a->id) != 32 || strspn(a->id, "0123456789abcdefABCDEF") != 32)
        return ctl_fail(c, CTL_EXIT_USAGE, "'%s' is not a key id (32 hex characters)", a->id);
    if (!a->reshare)
        return CTL_EXIT_OK;
    if (!a->threshold || !a->nparties)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "keys reshare needs --threshold T and --parties a,b,c (the new "
                        "committee)");
    if (a->nparties < 2 || a->threshold > a->nparties)
        return ctl_fail(c, CTL_EXIT_USAGE, "--threshold %u is more than the %zu parties",
                        a->threshold, a->nparties);
    return CTL_EXIT_OK;
}

static char *reshare_body(const epoch_args *a)
{
    if (!a->reshare)
        return strdup("{}");
    json_t *p = json_array();
    for (size_t i = 0; i < a->nparties; i++)
        json_array_append_new(p, json_string(a->parties[i]));
    json_t *o = json_pack("{s:i,s:o}", "threshold", (int)a->threshold, "parties", p);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* GET /v1/keys/{id} into *view (200 only). */
static int get_key(ctl_ctx *c, const char *id, const char *what, json_t **view)
{
    char url[64];
    ctl_resp r;
    *view = NULL;
    snprintf(url, sizeof url, "/v1/keys/%s", id);
    int rc = ctl_http(c, "GET", url, NULL, &r);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (r.status != 200) {
        rc = ctl_hub_error(c, &r, what);
        ctl_resp_free(&r);
        return rc;
    }
    *view = r.body;
    return CTL_EXIT_OK;
}

int ctl_epoch_check(const char *id, unsigned t, const api_party_name *parties, size_t np,
                    const json_t *before, const json_t *res, const json_t *after, char *why,
                    size_t cap)
{
    long long e0 = ctl_jint(before, "epoch"), e1 = ctl_jint(res, "epoch");
    const char *pk = ctl_jstr(before, "public_key");
    if (strcasecmp(ctl_jstr(res, "key_id"), id) != 0 ||
        strcasecmp(ctl_jstr(after, "id"), id) != 0) {
        snprintf(why, cap, "the hub answered for key '%s'", ctl_jstr(res, "key_id"));
        return CTL_EXIT_VERIFY;
    }
    if (!json_is_integer(json_object_get(res, "epoch")) || e1 <= e0 ||
        ctl_jint(after, "epoch") != e1) {
        snprintf(why, cap, "the hub reports epoch %lld after epoch %lld, and the key shows %lld",
                 e1, e0, ctl_jint(after, "epoch"));
        return CTL_EXIT_VERIFY;
    }
    if (strlen(pk) != 66 || strcasecmp(ctl_jstr(res, "public_key"), pk) != 0 ||
        strcasecmp(ctl_jstr(after, "public_key"), pk) != 0) {
        snprintf(why, cap, "THE PUBLIC KEY CHANGED: %s before, %s now", pk,
                 ctl_jstr(after, "public_key"));
        return CTL_EXIT_VERIFY;
    }
    const json_t *old = json_object_get(before, "parties"),
                 *now = json_object_get(after, "parties");
    long long wt = np ? (long long)t : ctl_jint(before, "threshold");
    size_t wn = np ? np : json_array_size(old);
    int same = wn >= 2 && ctl_jint(res, "threshold") == wt && ctl_jint(res, "n") == (long long)wn &&
               ctl_jint(after, "threshold") == wt && ctl_jint(after, "n") == (long long)wn &&
               json_array_size(now) == wn;
    for (size_t i = 0; same && i < wn; i++) {
        const char *p = json_string_value(json_array_get(now, i));
        const char *want = np ? parties[i] : json_string_value(json_array_get(old, i));
        same = p && want && strcmp(p, want) == 0;
    }
    if (!same) {
        snprintf(why, cap, "the key's committee is not the one asked for (%lld of %zu)", wt, wn);
        return CTL_EXIT_VERIFY;
    }
    return CTL_EXIT_OK;
}

static int epoch_cmd(ctl_ctx *c, int argc, char **argv, int reshare)
{
    epoch_args a;
    memset(&a, 0, sizeof a);
    a.reshare = reshare;
    a.wait = 60;
    const char *what = reshare ? "keys reshare" : "keys refresh";
    int rc = parse_epoch(c, argc, argv, &a);
    if (rc == CTL_OPT_HELP_SHOWN)
        return CTL_EXIT_OK;
    if (rc != CTL_EXIT_OK || (rc = ctl_hub_setup(c)) != CTL_EXIT_OK)
        return rc;
    json_t *before = NULL, *res = NULL, *after = NULL;
    if ((rc = get_key(c, a.id, what, &before)) != CTL_EXIT_OK)
        return rc;
    if (strcmp(ctl_jstr(before, "status"), "active") != 0) {
        rc = ctl_fail(c, CTL_EXIT_FAILED, "%s: key %s is %s, not active", what, a.id,
                      ctl_jstr(before, "status"));
        goto out;
    }
    if (json_is_false(json_object_get(before, "reshareable"))) {
        rc = ctl_fail(c, CTL_EXIT_FAILED,
                      "%s: key %s cannot be refreshed or reshared: the hub lacks its public "
                      "shares (made by signers older than issue 17)",
                      what, a.id);
        goto out;
    }
    char url[96], sid[33], why[256];
    char *body = reshare_body(&a);
    snprintf(url, sizeof url, "/v1/keys/%s/%s?wait=%u", a.id, reshare ? "reshare" : "refresh",
             a.wait > API_WAIT_MAX_SECONDS ? API_WAIT_MAX_SECONDS : a.wait);
    rc = body ? ctl_session_post(c, url, body, a.wait, what, &res, sid) : CTL_EXIT_LOCAL;
    free(body);
    if (rc != CTL_EXIT_OK || (rc = get_key(c, a.id, what, &after)) != CTL_EXIT_OK)
        goto out;
    if ((rc = ctl_epoch_check(a.id, a.threshold, a.parties, a.nparties, before, res, after, why,
                              sizeof why)) != CTL_EXIT_OK) {
        rc = ctl_fail(c, rc, "%s of key %s: the hub's answer does not check out: %s", what, a.id,
                      why);
        goto out;
    }
    fprintf(c->err, "%s of key %s: epoch %lld active (session %s)\n", what, a.id,
            ctl_jint(res, "epoch"), sid);
    if (sid[0])
        json_object_set_new(after, "session_id", json_string(sid));
    rc = ctl_show_key(c, after, NULL, 0);
out:
    json_decref(before);
    json_decref(res);
    json_decref(after);
    return rc;
}

int ctl_cmd_keys_refresh(ctl_ctx *c, int argc, char **argv)
{
    return epoch_cmd(c, argc, argv, 0);
}

int ctl_cmd_keys_reshare(ctl_ctx *c, int argc, char **argv)
{
    return epoch_cmd(c, argc, argv, 1);
}
