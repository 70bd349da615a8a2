/* daemon/signerd/config.c — reads mpc-signerd.conf into signer_config (syntax, ranges,
 * required keys) and checks what it points at (files, certificate chain, CN, CRL, backend
 * policy). Not here: opening the backend or the hub link (main and link.c do that). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "api/hex.h"
#include "config.h"
#include "daemon/common/config.h"
#include "daemon/common/log.h"
#include "daemon/common/tls.h"

/* ---- the keys ------------------------------------------------------------------------------ */

typedef enum {
    K_PARTY_ID,
    K_DATABASE,
    K_LOG_LEVEL,
    K_SESSION_TIMEOUT,
    K_SHARE_CACHE,
    K_PEER_FPS,
    K_MAX_SESSIONS,
    K_ROLE,
    K_URL,
    K_CA,
    K_CRL,
    K_CERT,
    K_IDENTITY_KEY,
    K_RECONNECT_MIN,
    K_RECONNECT_MAX,
    K_PING,
    K_KIND,
    K_ALLOW_SOFT,
    K_TCTI,
    K_PRIMARY_NAME,
    K_PERSISTENT_HANDLE,
    K_AUTH_FILE,
    K_MODULE,
    K_TOKEN_LABEL,
    K_KEY_LABEL,
    K_KEY_ID,
    K_URI,
    K_PIN_FILE,
    K_KEY_FILE,
    K_POLICY_FILE,
    K_POLICY_PUBKEY,
    K__COUNT
} key_index;

typedef struct {
    const char *section, *name;
    hsm_kind only; /* backend keys: the kind they belong to; HSM_KIND_NONE for the others */
} key_def;

static const key_def keys[K__COUNT] = {
    [K_PARTY_ID] = {"signer", "party_id", HSM_KIND_NONE},
    [K_DATABASE] = {"signer", "database", HSM_KIND_NONE},
    [K_LOG_LEVEL] = {"signer", "log_level", HSM_KIND_NONE},
    [K_SESSION_TIMEOUT] = {"signer", "session_timeout", HSM_KIND_NONE},
    [K_SHARE_CACHE] = {"signer", "share_cache", HSM_KIND_NONE},
    [K_PEER_FPS] = {"signer", "peer_fingerprints", HSM_KIND_NONE},
    [K_MAX_SESSIONS] = {"signer", "max_sessions", HSM_KIND_NONE},
    [K_ROLE] = {"signer", "role", HSM_KIND_NONE},
    [K_URL] = {"hub", "url", HSM_KIND_NONE},
    [K_CA] = {"hub", "ca", HSM_KIND_NONE},
    [K_CRL] = {"hub", "crl", HSM_KIND_NONE},
    [K_CERT] = {"hub", "cert", HSM_KIND_NONE},
    [K_IDENTITY_KEY] = {"hub", "identity_key", HSM_KIND_NONE},
    [K_RECONNECT_MIN] = {"hub", "reconnect_min_ms", HSM_KIND_NONE},
    [K_RECONNECT_MAX] = {"hub", "reconnect_max_ms", HSM_KIND_NONE},
    [K_PING] = {"hub", "ping_interval", HSM_KIND_NONE},
    [K_KIND] = {"backend", "kind", HSM_KIND_NONE},
    [K_ALLOW_SOFT] = {"backend", "allow_insecure_soft_backend", HSM_KIND_NONE},
    [K_TCTI] = {"backend", "tcti", HSM_KIND_TPM2},
    [K_PRIMARY_NAME] = {"backend", "primary_name", HSM_KIND_TPM2},
    [K_PERSISTENT_HANDLE] = {"backend", "persistent_handle", HSM_KIND_TPM2},
    [K_AUTH_FILE] = {"backend", "auth_file", HSM_KIND_TPM2},
    [K_MODULE] = {"backend", "module", HSM_KIND_PKCS11},
    [K_TOKEN_LABEL] = {"backend", "token_label", HSM_KIND_PKCS11},
    [K_KEY_LABEL] = {"backend", "key_label", HSM_KIND_PKCS11},
    [K_KEY_ID] = {"backend", "key_id", HSM_KIND_PKCS11},
    [K_URI] = {"backend", "uri", HSM_KIND_PKCS11},
    [K_PIN_FILE] = {"backend", "pin_file", HSM_KIND_PKCS11},
    [K_KEY_FILE] = {"backend", "key_file", HSM_KIND_SOFT},
    [K_POLICY_FILE] = {"policy", "file", HSM_KIND_NONE},
    [K_POLICY_PUBKEY] = {"policy", "public_key", HSM_KIND_NONE},
};

typedef struct {
    signer_config *c;
    char msg[512]; /* the first error; inih reports its line */
    int seen[K__COUNT];
} parse_ctx;

__attribute__((format(printf, 3, 4))) static void msgf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

/* ---- value parsers: each writes a "what is wrong; the fix" message into msg ------------------ */

static int is_abs_path(const char *v, char *msg, size_t cap)
{
    if (v[0] != '/') {
        msgf(msg, cap, "'%s' is not an absolute path; write the full path starting with /", v);
        return -1;
    }
    return 0;
}

/* An empty value leaves the key unset (required keys are checked after the file). */
static int copy_path(char *out, size_t outcap, const char *v, char *msg, size_t cap)
{
    if (!v[0]) {
        out[0] = 0;
        return 0;
    }
    if (is_abs_path(v, msg, cap) != 0)
        return -1;
    if (mpcd_copy_string(out, outcap, v) != 0) {
        msgf(msg, cap, "path is longer than %zu characters; use a shorter path", outcap - 1);
        return -1;
    }
    return 0;
}

/* A credential file: an absolute path, or a bare systemd credential name. */
static int copy_cred(char *out, size_t outcap, const char *v, char *msg, size_t cap)
{
    if (v[0] && !strchr(v, '/')) {
        if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0 || mpcd_copy_string(out, outcap, v)) {
            msgf(msg, cap,
                 "'%s' is neither an absolute path nor a credential name; give "
                 "/path/to/file or the name used in LoadCredential=",
                 v);
            return -1;
        }
        return 0;
    }
    return copy_path(out, outcap, v, msg, cap);
}

static int copy_text(char *out, size_t outcap, const char *v, char *msg, size_t cap)
{
    if (mpcd_copy_string(out, outcap, v) != 0) {
        msgf(msg, cap, "value is longer than %zu characters", outcap - 1);
        return -1;
    }
    return 0;
}

static int set_uint(unsigned *out, const char *v, uint64_t lo, uint64_t hi, const char *unit,
                    char *msg, size_t cap)
{
    uint64_t x;
    if (mpcd_parse_uint(v, lo, hi, &x) != 0) {
        msgf(msg, cap, "'%s' is not a whole number of %s in %llu..%llu", v, unit,
             (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = (unsigned)x;
    return 0;
}

static int hex_only(const char *v, int even)
{
    size_t n = strlen(v);
    if (n == 0 || (even && n % 2))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)v[i]))
            return 0;
    return 1;
}

/* One fingerprint: 64 hex digits, or the 32 colon-separated pairs openssl prints. */
static int parse_fp(uint8_t out[32], const char *s, size_t len)
{
    char hex[65];
    size_t n = 0;
    if (len == 95) {
        for (size_t i = 0; i < len; i++) {
            if (i % 3 == 2) {
                if (s[i] != ':')
                    return -1;
            } else {
                hex[n++] = s[i];
            }
        }
        s = hex;
        len = n;
    }
    return api_hex_decode(out, 32, s, len) == API_OK ? 0 : -1;
}

static int parse_fps(signer_config *c, const char *v, char *msg, size_t cap)
{
    c->peer_fingerprint_count = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ", \t");
        if (c->peer_fingerprint_count == SIGNER_CONFIG_MAX_PEER_FPS) {
            msgf(msg, cap, "more than %d fingerprints", SIGNER_CONFIG_MAX_PEER_FPS);
            return -1;
        }
        uint8_t *fp = c->peer_fingerprints[c->peer_fingerprint_count];
        if (parse_fp(fp, p, len) != 0) {
            msgf(msg, cap,
                 "'%.*s' is not a SHA-256 certificate fingerprint; write 64 hex "
                 "digits (openssl x509 -noout -fingerprint -sha256), comma-separated",
                 (int)(len > 100 ? 100 : len), p);
            return -1;
        }
        for (size_t i = 0; i < c->peer_fingerprint_count; i++)
            if (memcmp(c->peer_fingerprints[i], fp, 32) == 0) {
                msgf(msg, cap, "fingerprint '%.*s' is listed twice; remove the copy",
                     (int)(len > 100 ? 100 : len), p);
                return -1;
            }
        c->peer_fingerprint_count++;
        p += len;
    }
    return 0;
}

static int host_ok(const char *h, int bracketed)
{
    if (!*h)
        return 0;
    for (const char *p = h; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(isalnum(ch) || ch == '.' || ch == '-' || (bracketed && ch == ':')))
            return 0;
    }
    return 1;
}

/* wss://host[:port][/path] with host a name, an IPv4 address or [IPv6]. No user info,
 * query or fragment: nothing a party link uses. */
static int parse_url(signer_config *c, const char *v, char *msg, size_t cap)
{
    static const char fix[] = "write wss://host:port/path, e.g. wss://hub.example:8444/v1/party";
    if (strncasecmp(v, "wss://", 6) != 0) {
        msgf(msg, cap, "'%s': only wss:// URLs are accepted (the party link is mutual TLS); %s", v,
             fix);
        return -1;
    }
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '@' || *p == '?' || *p == '#') {
            msgf(msg, cap, "'%s' contains a space, control character, '@', '?' or '#'; %s", v, fix);
            return -1;
        }
    const char *auth = v + 6, *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    char a[300];
    if (alen == 0 || alen >= sizeof a) {
        msgf(msg, cap, "'%s' has no host (or a host too long); %s", v, fix);
        return -1;
    }
    memcpy(a, auth, alen);
    a[alen] = 0;
    char *host = a, *port = NULL;
    int bracketed = a[0] == '[';
    if (bracketed) {
        char *end = strchr(a, ']');
        if (!end || (end[1] && end[1] != ':')) {
            msgf(msg, cap, "'%s': an IPv6 address must be written [addr] or [addr]:port; %s", v,
                 fix);
            return -1;
        }
        *end = 0;
        host = a + 1;
        port = end[1] ? end + 2 : NULL;
    } else if ((port = strchr(a, ':')) != NULL) {
        *port++ = 0;
    }
    uint64_t pn = 443;
    if (!host_ok(host, bracketed) || strlen(host) >= sizeof c->hub_host ||
        (port && mpcd_parse_uint(port, 1, 65535, &pn) != 0)) {
        msgf(msg, cap, "'%s' has a malformed host or port (1..65535); %s", v, fix);
        return -1;
    }
    const char *path = slash ? slash : "/";
    if (strlen(path) >= sizeof c->hub_path || strlen(v) >= sizeof c->hub_url) {
        msgf(msg, cap, "'%s' is too long", v);
        return -1;
    }
    snprintf(c->hub_host, sizeof c->hub_host, "%s", host);
    snprintf(c->hub_path, sizeof c->hub_path, "%s", path);
    snprintf(c->hub_url, sizeof c->hub_url, "%s", v);
    c->hub_port = (unsigned)pn;
    return 0;
}

static int parse_handle(uint32_t *out, const char *v, char *msg, size_t cap)
{
    char *end;
    errno = 0;
    unsigned long h = strtoul(v, &end, 16);
    if (!*v || *end || errno || (h != 0 && (h < 0x81000000ul || h > 0x81fffffful))) {
        msgf(msg, cap,
             "'%s' is not a persistent handle; write 0x81000000..0x81ffffff, or 0 to "
             "recreate the primary from its template",
             v);
        return -1;
    }
    *out = (uint32_t)h;
    return 0;
}

/* ---- the inih handler ---------------------------------------------------------------------- */

static int key_find(const char *section, const char *name)
{
    for (int i = 0; i < K__COUNT; i++)
        if (strcmp(section, keys[i].section) == 0 && strcmp(name, keys[i].name) == 0)
            return i;
    return -1;
}

static int section_known(const char *section)
{
    return !strcmp(section, "signer") || !strcmp(section, "hub") || !strcmp(section, "backend") ||
           !strcmp(section, "policy");
}

static int set_value(signer_config *c, key_index k, const char *v, char *m, size_t cap)
{
    int level, b;
    switch (k) {
    case K_PARTY_ID:
        if (!api_party_id_valid(v)) {
            msgf(m, cap,
                 "'%s' is not a party id; use 1..64 of A-Z a-z 0-9 . _ - (the "
                 "certificate's CN)",
                 v);
            return -1;
        }
        return copy_text(c->party_id, sizeof c->party_id, v, m, cap);
    case K_DATABASE:
        return copy_path(c->database, sizeof c->database, v, m, cap);
    case K_LOG_LEVEL:
        if ((level = mpcd_log_level_parse(v)) < 0) {
            msgf(m, cap, "'%s' is not a level; use error, warning, notice, info or debug", v);
            return -1;
        }
        c->log_level = level;
        return 0;
    case K_SESSION_TIMEOUT:
        return set_uint(&c->session_timeout, v, 1, 600, "seconds", m, cap);
    case K_SHARE_CACHE:
        if (strcmp(v, "unseal") && strcmp(v, "memory")) {
            msgf(m, cap, "'%s' is not a cache mode; use unseal (default) or memory", v);
            return -1;
        }
        c->share_cache =
            strcmp(v, "memory") == 0 ? SIGNER_SHARE_CACHE_MEMORY : SIGNER_SHARE_CACHE_UNSEAL;
        return 0;
    case K_PEER_FPS:
        return parse_fps(c, v, m, cap);
    case K_MAX_SESSIONS:
        return set_uint(&c->max_sessions, v, 1, 4096, "sessions", m, cap);
    case K_ROLE:
        if (strcmp(v, "persistent") && strcmp(v, "delegate")) {
            msgf(m, cap,
                 "'%s' is not a role; use persistent (default: shares stored here) or delegate "
                 "(shares sealed and handed to the backend)",
                 v);
            return -1;
        }
        c->role = strcmp(v, "delegate") == 0 ? SIGNER_ROLE_DELEGATE : SIGNER_ROLE_PERSISTENT;
        return 0;
    case K_URL:
        return parse_url(c, v, m, cap);
    case K_CA:
        return copy_path(c->hub_ca, sizeof c->hub_ca, v, m, cap);
    case K_CRL:
        return copy_path(c->hub_crl, sizeof c->hub_crl, v, m, cap);
    case K_CERT:
        return copy_path(c->hub_cert, sizeof c->hub_cert, v, m, cap);
    case K_IDENTITY_KEY:
        return copy_path(c->identity_key, sizeof c->identity_key, v, m, cap);
    case K_RECONNECT_MIN:
        return set_uint(&c->reconnect_min_ms, v, 10, 600000, "milliseconds", m, cap);
    case K_RECONNECT_MAX:
        return set_uint(&c->reconnect_max_ms, v, 10, 3600000, "milliseconds", m, cap);
    case K_PING:
        return set_uint(&c->ping_interval, v, 0, 3600, "seconds", m, cap);
    case K_KIND:
        if ((c->backend = hsm_kind_from_name(v)) == HSM_KIND_NONE) {
            msgf(m, cap, "'%s' is not a backend; use tpm2, pkcs11 or soft", v);
            return -1;
        }
        return 0;
    case K_ALLOW_SOFT:
        if (mpcd_parse_bool(v, &b) != 0) {
            msgf(m, cap, "'%s' is not a boolean; use yes or no", v);
            return -1;
        }
        c->allow_insecure_soft_backend = b;
        return 0;
    case K_TCTI:
        return copy_text(c->tpm2.tcti, sizeof c->tpm2.tcti, v, m, cap);
    case K_PRIMARY_NAME:
        if (!hex_only(v, 1)) {
            msgf(m, cap, "'%s' is not a hex TPM name; copy the value mpcctl init printed", v);
            return -1;
        }
        return copy_text(c->tpm2.primary_name, sizeof c->tpm2.primary_name, v, m, cap);
    case K_PERSISTENT_HANDLE:
        return parse_handle(&c->tpm2.persistent_handle, v, m, cap);
    case K_AUTH_FILE:
        return copy_cred(c->tpm2.auth_file, sizeof c->tpm2.auth_file, v, m, cap);
    case K_MODULE:
        return copy_path(c->pkcs11.module, sizeof c->pkcs11.module, v, m, cap);
    case K_TOKEN_LABEL:
        return copy_text(c->pkcs11.token_label, sizeof c->pkcs11.token_label, v, m, cap);
    case K_KEY_LABEL:
        return copy_text(c->pkcs11.key_label, sizeof c->pkcs11.key_label, v, m, cap);
    case K_KEY_ID:
        if (!hex_only(v, 1)) {
            msgf(m, cap, "'%s' is not a hex CKA_ID; write it as hex digits, e.g. 01", v);
            return -1;
        }
        return copy_text(c->pkcs11.key_id, sizeof c->pkcs11.key_id, v, m, cap);
    case K_URI:
        if (strncmp(v, "pkcs11:", 7) != 0) {
            msgf(m, cap, "'%s' is not a PKCS#11 URI; write pkcs11:token=...;object=...", v);
            return -1;
        }
        return copy_text(c->pkcs11.uri, sizeof c->pkcs11.uri, v, m, cap);
    case K_PIN_FILE:
        return copy_cred(c->pkcs11.pin_file, sizeof c->pkcs11.pin_file, v, m, cap);
    case K_KEY_FILE:
        return copy_path(c->soft.key_file, sizeof c->soft.key_file, v, m, cap);
    case K_POLICY_FILE:
        return copy_path(c->policy_file, sizeof c->policy_file, v, m, cap);
    case K_POLICY_PUBKEY:
        return copy_path(c->policy_pubkey, sizeof c->policy_pubkey, v, m, cap);
    case K__COUNT:
        break;
    }
    return -1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *p = user;
    char m[400] = "";
    int k = key_find(section, name);
    if (k < 0) {
        if (!section_known(section))
            msgf(m, sizeof m,
                 "unknown section [%s] (key '%s'); the sections are [signer], "
                 "[hub], [backend] and [policy]",
                 section, name);
        else
            msgf(m, sizeof m,
                 "unknown key '%s' in [%s]; check the spelling against "
                 "mpc-signerd.conf.example",
                 name, section);
    } else if (p->seen[k]) {
        msgf(m, sizeof m, "[%s] %s is set twice; keep one", section, name);
    } else {
        p->seen[k] = 1;
        if (set_value(p->c, (key_index)k, value, m, sizeof m) == 0)
            return 1;
        char inner[400];
        snprintf(inner, sizeof inner, "%s", m);
        msgf(m, sizeof m, "[%s] %s: %s", section, name, inner);
    }
    if (!p->msg[0])
        snprintf(p->msg, sizeof p->msg, "%s", m);
    return 0;
}

/* ---- load ------------------------------------------------------------------------------------ */

static void defaults(signer_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->database, sizeof c->database, "/var/lib/mpc-signer/signer.db");
    c->log_level = LOG_INFO;
    c->session_timeout = 30;
    c->share_cache = SIGNER_SHARE_CACHE_UNSEAL;
    c->max_sessions = 64;
    c->hub_port = 443;
    snprintf(c->hub_path, sizeof c->hub_path, "/");
    c->reconnect_min_ms = 250;
    c->reconnect_max_ms = 30000;
    c->ping_interval = 15;
    c->backend = HSM_KIND_NONE;
    snprintf(c->tpm2.tcti, sizeof c->tpm2.tcti, "device:/dev/tpmrm0");
}

/* A bare name is a systemd credential: $CREDENTIALS_DIRECTORY/name when that is set. */
static void resolve_cred(char *out, size_t cap, const char *configured)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    int n = configured[0] && !strchr(configured, '/') && dir && dir[0]
                ? snprintf(out, cap, "%s/%s", dir, configured)
                : snprintf(out, cap, "%s", configured);
    if (n < 0 || (size_t)n >= cap)
        out[0] = 0; /* never a truncated path: an empty one fails the file checks by name */
}

#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            msgf(m, cap, __VA_ARGS__);                                                             \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

/* Required keys and the relations between keys, after the whole file is read. */
static int validate(const parse_ctx *p, char *m, size_t cap)
{
    const signer_config *c = p->c;
    REQUIRE(c->party_id[0], "[signer] party_id is required: set it to this node's certificate CN");
    REQUIRE(c->hub_url[0], "[hub] url is required: set it to wss://hub:8444/v1/party");
    REQUIRE(c->hub_ca[0], "[hub] ca is required: the deployment CA certificate (PEM)");
    REQUIRE(c->hub_cert[0], "[hub] cert is required: this node's certificate (PEM)");
    REQUIRE(c->identity_key[0],
            "[hub] identity_key is required: the node certificate's key, sealed by the backend");
    REQUIRE(c->reconnect_min_ms <= c->reconnect_max_ms,
            "[hub] reconnect_min_ms (%u) is above reconnect_max_ms (%u); lower it or raise "
            "reconnect_max_ms",
            c->reconnect_min_ms, c->reconnect_max_ms);
    REQUIRE(c->backend != HSM_KIND_NONE, "[backend] kind is required: tpm2, pkcs11 or soft");
    for (int k = 0; k < K__COUNT; k++)
        REQUIRE(!p->seen[k] || keys[k].only == HSM_KIND_NONE || keys[k].only == c->backend,
                "[backend] %s belongs to kind = %s, but kind = %s; remove it or change kind",
                keys[k].name, hsm_kind_name(keys[k].only), hsm_kind_name(c->backend));
    switch (c->backend) {
    case HSM_KIND_TPM2:
        REQUIRE(c->tpm2.tcti[0], "[backend] tcti must not be empty; e.g. device:/dev/tpmrm0");
        REQUIRE(c->tpm2.primary_name[0], "[backend] primary_name is required for kind = tpm2: "
                                         "the name mpcctl init printed for this TPM");
        break;
    case HSM_KIND_PKCS11:
        REQUIRE(c->pkcs11.module[0], "[backend] module is required for kind = pkcs11: the "
                                     "PKCS#11 library path");
        REQUIRE(c->pkcs11.token_label[0] || c->pkcs11.uri[0],
                "[backend] token_label (or uri) is required for kind = pkcs11");
        REQUIRE(c->pkcs11.key_label[0] || c->pkcs11.key_id[0] || c->pkcs11.uri[0],
                "[backend] key_label, key_id or uri is required for kind = pkcs11: which key "
                "wraps the shares");
        REQUIRE(c->pkcs11.pin_file[0], "[backend] pin_file is required for kind = pkcs11: a "
                                       "file or LoadCredential= name holding the user PIN");
        break;
    case HSM_KIND_SOFT:
        REQUIRE(c->soft.key_file[0], "[backend] key_file is required for kind = soft");
        break;
    default:
        break;
    }
    return 0;
}

int signer_config_load(const char *path, signer_config *out, char *err, size_t errlen)
{
    parse_ctx p;
    memset(&p, 0, sizeof p);
    p.c = out;
    defaults(out);
    int line = ini_parse(path, handler, &p);
    if (line < 0) {
        msgf(err, errlen,
             "%s: cannot read the config file: %s; check the path given with "
             "--config",
             path, line == -1 ? strerror(errno) : "out of memory");
        return -1;
    }
    if (line > 0) {
        msgf(err, errlen, "%s:%d: %s", path, line,
             p.msg[0] ? p.msg : "not a [section] or key = value line; fix the syntax");
        return -1;
    }
    char m[512];
    if (validate(&p, m, sizeof m) != 0) {
        msgf(err, errlen, "%s: %s", path, m);
        return -1;
    }
    resolve_cred(out->tpm2.auth_path, sizeof out->tpm2.auth_path, out->tpm2.auth_file);
    resolve_cred(out->pkcs11.pin_path, sizeof out->pkcs11.pin_path, out->pkcs11.pin_file);
    return 0;
}

static const char *opt(const char *s)
{
    return s[0] ? s : NULL;
}

void signer_config_to_hsm(const signer_config *c, hsm_config *out)
{
    hsm_config_init(out, c->backend);
    switch (c->backend) {
    case HSM_KIND_TPM2:
        out->tpm2.tcti = c->tpm2.tcti;
        out->tpm2.primary_name = opt(c->tpm2.primary_name);
        out->tpm2.persistent_handle = c->tpm2.persistent_handle;
        out->tpm2.auth_file = opt(c->tpm2.auth_path);
        break;
    case HSM_KIND_PKCS11:
        out->pkcs11.module = opt(c->pkcs11.module);
        out->pkcs11.token_label = opt(c->pkcs11.token_label);
        out->pkcs11.key_label = opt(c->pkcs11.key_label);
        out->pkcs11.key_id = opt(c->pkcs11.key_id);
        out->pkcs11.uri = opt(c->pkcs11.uri);
        out->pkcs11.pin_file = opt(c->pkcs11.pin_path);
        break;
    case HSM_KIND_SOFT:
        out->soft.key_file = opt(c->soft.key_file);
        break;
    default:
        break;
    }
    out->soft.allow_insecure = c->allow_insecure_soft_backend != 0;
}

/* ---- check ----------------------------------------------------------------------------------- */

static int readable(const char *section, const char *key, const char *path, char *m, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        msgf(m, cap,
             "[%s] %s = '%s': cannot read it: %s; fix the path or give the daemon's "
             "user (mpc-signer) read access",
             section, key, path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static int cred_resolved(const char *key, const char *configured, const char *resolved, char *m,
                         size_t cap)
{
    if (configured[0] && !strchr(resolved, '/')) {
        msgf(m, cap,
             "[backend] %s = '%s' is a credential name, but CREDENTIALS_DIRECTORY is "
             "not set; add LoadCredentialEncrypted=%s:... (or LoadCredential=) to the unit, "
             "or give an absolute path",
             key, configured, configured);
        return -1;
    }
    return configured[0] ? readable("backend", key, resolved, m, cap) : 0;
}

static int check_backend_files(const signer_config *c, char *m, size_t cap)
{
    switch (c->backend) {
    case HSM_KIND_TPM2:
        return cred_resolved("auth_file", c->tpm2.auth_file, c->tpm2.auth_path, m, cap);
    case HSM_KIND_PKCS11:
        if (readable("backend", "module", c->pkcs11.module, m, cap) != 0)
            return -1;
        return cred_resolved("pin_file", c->pkcs11.pin_file, c->pkcs11.pin_path, m, cap);
    case HSM_KIND_SOFT:
        return readable("backend", "key_file", c->soft.key_file, m, cap);
    default:
        msgf(m, cap, "[backend] kind is not set; use tpm2, pkcs11 or soft");
        return -1;
    }
}

/* The database's directory must exist and be writable (the file itself is created). */
static int check_database_dir(const signer_config *c, char *m, size_t cap)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", c->database);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    if (access(dir, W_OK | X_OK) != 0) {
        msgf(m, cap,
             "[signer] database = '%s': directory %s is not writable: %s; create it "
             "(StateDirectory=mpc-signer does) and give it to the daemon's user",
             c->database, dir, strerror(errno));
        return -1;
    }
    return 0;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static X509_CRL *read_crl(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509_CRL *x = PEM_read_X509_CRL(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

/* The node certificate chains to the CA, is in its validity period and (with a CRL) not
 * revoked: the hub and every peer will check the same, so fail here, at start. */
static int check_chain(const signer_config *c, X509 *cert, char *m, size_t cap)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_CRL *crl = NULL;
    int ret = -1;
    if (!store || !ctx)
        msgf(m, cap, "out of memory while checking [hub] cert");
    else if (X509_STORE_load_file(store, c->hub_ca) != 1)
        msgf(m, cap, "[hub] ca = '%s' holds no PEM certificate; give the deployment CA", c->hub_ca);
    else if (c->hub_crl[0] &&
             (!(crl = read_crl(c->hub_crl)) || X509_STORE_add_crl(store, crl) != 1))
        msgf(m, cap,
             "[hub] crl = '%s' holds no PEM CRL; give the CA's current CRL (openssl ca "
             "-gencrl)",
             c->hub_crl);
    else if (X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
        msgf(m, cap, "out of memory while checking [hub] cert");
    else {
        if (crl)
            X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK);
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(ctx) == 1)
            ret = 0;
        else
            msgf(m, cap,
                 "[hub] cert = '%s' does not verify against [hub] ca%s: %s; issue the "
                 "node a valid certificate from the deployment CA%s",
                 c->hub_cert, crl ? " and crl" : "",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)),
                 crl ? " (or publish a current CRL)" : "");
    }
    X509_CRL_free(crl);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ret;
}

static int check_cert(const signer_config *c, char *m, size_t cap)
{
    X509 *cert = read_cert(c->hub_cert);
    char cn[256];
    int ret = -1;
    if (!cert)
        msgf(m, cap, "[hub] cert = '%s' holds no PEM certificate; give this node's certificate",
             c->hub_cert);
    else if (mpcd_tls_cert_cn(cert, cn, sizeof cn) != 0)
        msgf(m, cap, "[hub] cert = '%s' has no single subject CN; issue it with CN = %s",
             c->hub_cert, c->party_id);
    else if (strcmp(cn, c->party_id) != 0)
        msgf(m, cap,
             "[hub] cert = '%s' is for CN '%s' but [signer] party_id = %s; fix party_id "
             "or use this node's certificate",
             c->hub_cert, cn, c->party_id);
    else
        ret = check_chain(c, cert, m, cap);
    X509_free(cert);
    return ret;
}

/* The identity key must be a blob sealed by this node's backend kind, never a plaintext
 * key (DESIGN.md: a plaintext key file plus recorded traffic would bypass the TPM). */
static int check_identity_key(const signer_config *c, char *m, size_t cap)
{
    enum { MAX = 2 << 20 }; /* far above any sealed key; the file is read whole */
    uint8_t *buf = malloc(MAX);
    if (!buf) {
        msgf(m, cap, "out of memory while checking [hub] identity_key");
        return -1;
    }
    FILE *f = fopen(c->identity_key, "rb");
    if (!f) {
        free(buf);
        return readable("hub", "identity_key", c->identity_key, m, cap);
    }
    size_t n = fread(buf, 1, MAX, f);
    fclose(f);
    hsm_kind kind = HSM_KIND_NONE;
    hsm_err e = n < MAX ? hsm_blob_kind(buf, n, &kind) : HSM_ERR_FORMAT;
    free(buf);
    if (e != HSM_OK) {
        msgf(m, cap,
             "[hub] identity_key = '%s' is not a sealed blob (a plaintext key?); seal "
             "the certificate key with the node's backend (mpcctl)",
             c->identity_key);
        return -1;
    }
    if (kind != c->backend) {
        msgf(m, cap,
             "[hub] identity_key = '%s' was sealed by backend %s, but [backend] kind = "
             "%s; reseal it or fix kind",
             c->identity_key, hsm_kind_name(kind), hsm_kind_name(c->backend));
        return -1;
    }
    return 0;
}

int signer_config_check(const signer_config *c, char *err, size_t errlen)
{
    if (c->backend == HSM_KIND_SOFT && !c->allow_insecure_soft_backend) {
        msgf(err, errlen,
             "[backend] kind = soft keeps the sealing key in a plain file and is "
             "for development only; use tpm2 or pkcs11, or set "
             "allow_insecure_soft_backend = yes for a test node");
        return -1;
    }
    if (check_database_dir(c, err, errlen) != 0 ||
        readable("hub", "ca", c->hub_ca, err, errlen) != 0 ||
        (c->hub_crl[0] && readable("hub", "crl", c->hub_crl, err, errlen) != 0) ||
        readable("hub", "cert", c->hub_cert, err, errlen) != 0 ||
        readable("hub", "identity_key", c->identity_key, err, errlen) != 0 ||
        check_backend_files(c, err, errlen) != 0 || check_cert(c, err, errlen) != 0 ||
        check_identity_key(c, err, errlen) != 0)
        return -1;
    return 0;
}
