/* daemon/ctl/ctl.h — mpcctl: a client of the hub's REST API (keys, sign, sessions, parties)
 * and a node admin tool (node init / status, development CA). Everything but main() is a
 * library so the unit tests drive the commands with their own output streams.
 * Files: main.c (global options, dispatch), http.c (libcurl), key.c (key view, attestation
 * checks, address, PEM), keys.c (keys create/list/show), reshare.c (keys refresh/reshare),
 * import.c (keys import) with dealer.c (its dealer descriptors), sign.c, info.c (sessions,
 * parties), node.c (node init/status), devca.c (dev ca/issue), migrate.c (migrate check:
 * tss-lib save files), out.c (output helpers). */
#ifndef CTL_H
#define CTL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "api/json.h"
#include "dealer.h"

/* Exit codes scripts can rely on (also printed by `mpcctl --help`). */
typedef enum {
    CTL_EXIT_OK = 0,      /* done */
    CTL_EXIT_FAILED = 1,  /* the hub refused the request or the session failed */
    CTL_EXIT_USAGE = 2,   /* bad command line, missing API key / hub URL */
    CTL_EXIT_CONN = 3,    /* cannot reach the hub: connection, TLS, timeout */
    CTL_EXIT_VERIFY = 4,  /* a check failed: attestation, signature, audit chain, save file */
    CTL_EXIT_LOCAL = 5,   /* a local file, config or sealing backend failed */
    CTL_EXIT_PENDING = 6, /* the session still runs after --wait; poll it */
} ctl_exit;

typedef struct ctl_ctx {
    FILE *out, *err;         /* results to out; messages to err */
    int json;                /* --json: machine-readable output on out */
    char hub[512];           /* base URL, https://host:port, without a trailing '/' */
    char ca[PATH_MAX];       /* CA bundle for the hub's TLS certificate ("" = system) */
    char party_ca[PATH_MAX]; /* CA the signers' certificates chain to ("" = ca) */
    char api_key_file[PATH_MAX];
    char api_key[256]; /* secret: wiped by ctl_ctx_free */
    void *curl;        /* one libcurl handle per run, so requests reuse the connection */
} ctl_ctx;

void ctl_ctx_init(ctl_ctx *c, FILE *out, FILE *err);
void ctl_ctx_free(ctl_ctx *c);

/* Runs one mpcctl command line (argv[0] is the program name). Returns a ctl_exit. */
int ctl_main(ctl_ctx *c, int argc, char **argv);

/* ---- command line (main.c) ---- */

/* Options every command accepts (--json, --hub, --ca, --party-ca, --api-key-file). For
 * getopt_long tables: CTL_COMMON_OPTIONS expands to their entries. */
#define CTL_OPT_JSON     0x101
#define CTL_OPT_HUB      0x102
#define CTL_OPT_CA       0x103
#define CTL_OPT_PARTY_CA 0x104
#define CTL_OPT_KEY_FILE 0x105
#define CTL_OPT_API_KEY  0x106 /* refused: a key on the command line is visible to others */
#define CTL_OPT_HELP     'h'
#define CTL_COMMON_OPTIONS                                                                         \
    {"json", no_argument, NULL, CTL_OPT_JSON}, {"hub", required_argument, NULL, CTL_OPT_HUB},      \
        {"ca", required_argument, NULL, CTL_OPT_CA},                                               \
        {"party-ca", required_argument, NULL, CTL_OPT_PARTY_CA},                                   \
        {"api-key-file", required_argument, NULL, CTL_OPT_KEY_FILE},                               \
        {"api-key", required_argument, NULL, CTL_OPT_API_KEY},                                     \
    {                                                                                              \
        "help", no_argument, NULL, CTL_OPT_HELP                                                    \
    }

/* Handles a common option (or an unknown one, '?'). Returns CTL_OPT_OTHER if opt is not
 * common (the caller handles it), CTL_OPT_TAKEN to go on parsing, CTL_OPT_HELP_SHOWN after
 * --help printed the usage on out (the command ends with CTL_EXIT_OK), or an exit code
 * with a message on err. */
#define CTL_OPT_OTHER      (-1)
#define CTL_OPT_HELP_SHOWN (-2)
#define CTL_OPT_TAKEN      (-3)
int ctl_common_option(ctl_ctx *c, int opt, const char *arg, const char *usage);

/* Prints "mpcctl: <message>" on err. Returns code. */
int ctl_fail(ctl_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses "a,b,c" into distinct valid party ids. 0, or -1 with why[]. */
int ctl_parse_parties(const char *list, api_party_name *out, size_t max, size_t *count, char *why,
                      size_t cap);

/* Parses an unsigned decimal in [lo, hi]. 0 or -1. */
int ctl_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out);

/* ---- HTTPS (http.c) ---- */

typedef struct {
    long status;  /* HTTP status */
    json_t *body; /* parsed JSON body (owned), NULL if none or not JSON */
    double ms;    /* request time */
} ctl_resp;

/* Checks the hub URL, CA and API key are set (env MPCCTL_HUB, MPCCTL_CA, MPCCTL_PARTY_CA,
 * MPCCTL_API_KEY or MPCCTL_API_KEY_FILE fill what the options left empty) and loads the
 * key. CTL_EXIT_OK, else CTL_EXIT_USAGE (missing) or CTL_EXIT_LOCAL (unreadable file). */
int ctl_hub_setup(ctl_ctx *c);

/* One request to the hub. body may be NULL. CTL_EXIT_OK with *r filled (any HTTP status),
 * or CTL_EXIT_CONN with a message already printed. Free r with ctl_resp_free. */
int ctl_http(ctl_ctx *c, const char *method, const char *path, const char *body, ctl_resp *r);
void ctl_resp_free(ctl_resp *r);

/* Prints the hub's error answer ("hub: 404 unknown_key: ...") and returns CTL_EXIT_FAILED. */
int ctl_hub_error(ctl_ctx *c, const ctl_resp *r, const char *what);

/* Polls GET /v1/sessions/{id} until it is done or failed or wait_s pass. CTL_EXIT_OK with
 * the session in *out (owned), CTL_EXIT_PENDING, or a connection / hub error code. */
int ctl_session_wait(ctl_ctx *c, const char *sid, unsigned wait_s, json_t **out);

/* ---- keys (key.c) ---- */

/* A key as mpcctl checked it. */
typedef struct {
    char id[33];
    uint8_t id_bytes[16];
    unsigned t, n;
    size_t nparties;
    api_party_name parties[API_MAX_PARTIES];
    uint8_t public_key[33];
    uint8_t chain_code[32];
    char uncompressed[131];
    char address[43]; /* EIP-55, computed here */
    int imported;     /* the view says "imported": attestations of epoch 1 (below) */
    /* the committee whose attestations were verified: the key's parties, or after a
     * reshare to another committee the parties of the session that made the key */
    size_t natt;
    api_party_name attesters[API_MAX_PARTIES];
} ctl_key;

/* Checks a key view from the hub: active, a valid public key and chain code, and one
 * attestation per party whose certificate chains to ca_file (TLS client use, CN = party)
 * and whose signature verifies over the attested message (api_attestation_message; for a
 * key the view says is "imported", which had no keygen, the parties' reshare attestation
 * of epoch 1, api_reshare_attestation_message, as the import contract fixes); all agree on
 * the transcript hash; the hub's address and uncompressed key equal ours.
 * CTL_EXIT_OK with *k filled, or CTL_EXIT_VERIFY with why[] naming the first problem. */
int ctl_key_verify(const json_t *key, const char *ca_file, ctl_key *k, char *why, size_t cap);

/* ctl_key_verify with the attestations expected from attesters (a JSON array of party
 * ids: the committee that made the key) instead of the key's parties; NULL = the key's
 * parties (that is ctl_key_verify). */
int ctl_key_verify_by(const json_t *key, const json_t *attesters, const char *ca_file, ctl_key *k,
                      char *why, size_t cap);

/* ctl_key_verify of a view from the hub, for any epoch: when the key was reshared to
 * another committee (epoch > 0, its attestations are not its parties'), the attesting
 * committee is the first threshold_n parties of the session that made the key
 * (keygen_session: GET /v1/sessions/{id}, which must be this key's and done). The hub
 * names that committee as it names the key's parties; each attestation still verifies
 * only under a certificate of the party CA. CTL_EXIT_OK, CTL_EXIT_VERIFY with why[], or
 * CTL_EXIT_CONN (printed). */
int ctl_key_check(ctl_ctx *c, const json_t *key, ctl_key *k, char *why, size_t cap);

/* Uncompressed SEC1 hex (130 chars). 0 or -1. */
int ctl_uncompressed_hex(char out[131], const uint8_t pk[33]);
/* PEM SubjectPublicKeyInfo of a compressed key; malloc'd, free with free. NULL on error. */
char *ctl_pubkey_pem(const uint8_t pk[33]);
/* BIP32 (non-hardened) child of the key along path ("m/0/1"). 0, or -1 if invalid. */
int ctl_derive(uint8_t out[33], const ctl_key *k, const char *path);

/* Fetches and verifies a key (GET /v1/keys/{id}); prints why on failure. */
int ctl_key_fetch(ctl_ctx *c, const char *id, ctl_key *k, json_t **view);

/* Output for a key view; k NULL when it could not be verified (not active). Shows the
 * key's epoch and, for an imported key, its source. */
void ctl_print_key(ctl_ctx *c, const json_t *view, const ctl_key *k, const char *path);

/* Shows a key view as keys show does (keys.c): when active, verified first (exit 4 and no
 * address if any check fails), then the key (--json: the view with
 * "attestations_verified"); else its status. path / pem as keys show's options. */
int ctl_show_key(ctl_ctx *c, json_t *view, const char *path, int pem);

/* A POST that starts a hub session (keygen-like: ?wait in url): CTL_EXIT_OK with the
 * answer in *result (owned) when it is 200/201 at once, or when the session it answered 202
 * with is done within wait seconds in all (then *result is the session's result with
 * "key_id" and "session_id"); sid[] is the session id ("" if the answer had none).
 * Else the hub's error (printed, CTL_EXIT_FAILED), CTL_EXIT_PENDING or CTL_EXIT_CONN.
 * what names the command in messages. (reshare.c) */
int ctl_session_post(ctl_ctx *c, const char *url, const char *body, unsigned wait, const char *what,
                     json_t **result, char sid[33]);

/* ---- output (out.c) ---- */

/* Prints o as indented JSON on out. */
void ctl_print_json(ctl_ctx *c, const json_t *o);
const char *ctl_jstr(const json_t *o, const char *key); /* "" if absent */
long long ctl_jint(const json_t *o, const char *key);   /* 0 if absent */
/* "2026-11-30 03:12:00 UTC" */
void ctl_fmt_time(char out[32], long long unix_s);
void ctl_print_signature(ctl_ctx *c, const json_t *sig, const char *verified);
void ctl_print_session(ctl_ctx *c, const json_t *s);
void ctl_print_parties(ctl_ctx *c, const json_t *o);
void ctl_print_keys(ctl_ctx *c, const json_t *o);

/* ---- typed payloads (approve.c), shared by sign and approve ---- */

#define CTL_OPT_HASH   0x180
#define CTL_OPT_ETH_TX 0x181
#define CTL_OPT_EIP191 0x182
#define CTL_OPT_EIP712 0x183

/* What a sign request signs, with the digest computed here (never taken from the hub). */
typedef struct {
    int given;
    api_payload_kind kind;
    uint8_t digest[32]; /* the hash the key signs */
    char *hex;          /* eth_transaction / eip191_message hex without 0x (owned) */
    json_t *eip712;     /* the typed data object (owned) */
    uint64_t chain_id;  /* transaction: for the approver's summary */
    int is_create;
    uint8_t to[20], value[32];
} ctl_payload;

/* Takes --hash HEX, --eth-tx HEX, --eip191 HEX or --eip712 FILE (opt CTL_OPT_*) into p,
 * decoding and hashing it. CTL_EXIT_OK or a usage / local error (printed). */
int ctl_payload_option(ctl_ctx *c, ctl_payload *p, int opt, const char *arg);
/* CTL_EXIT_OK if exactly one payload was given and can be signed. */
int ctl_payload_check(ctl_ctx *c, const ctl_payload *p);
/* Adds the payload's field (hash, eth_transaction, eip191_message or eip712) to a sign body. */
void ctl_payload_to_body(const ctl_payload *p, json_t *body);
void ctl_payload_free(ctl_payload *p);

/* ---- commands ---- */
int ctl_cmd_approve(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_policy(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_keys(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_keys_refresh(ctl_ctx *c, int argc, char **argv); /* reshare.c */
int ctl_cmd_keys_reshare(ctl_ctx *c, int argc, char **argv); /* reshare.c */
int ctl_cmd_keys_import(ctl_ctx *c, int argc, char **argv);  /* import.c */

/* keys refresh / reshare (reshare.c): the hub's answer res (EpochResult) and the key view
 * after it must be key id's, at an epoch above the view before's, with before's public
 * key, and with the committee asked: threshold t and parties[0..np) in order, or when
 * np == 0 (a refresh) before's threshold and parties. CTL_EXIT_OK or CTL_EXIT_VERIFY with
 * why[]. */
int ctl_epoch_check(const char *id, unsigned t, const api_party_name *parties, size_t np,
                    const json_t *before, const json_t *res, const json_t *after, char *why,
                    size_t cap);

/* keys import (import.c): the hub's key view v must be the import asked for: active; the
 * dealers' (d0's) public key, chain code and the address computed here from it; marked
 * imported from d0's source; epoch 1 when the view shows one; threshold t and
 * parties[0..np) in order. CTL_EXIT_OK or CTL_EXIT_VERIFY with why[]. */
int ctl_import_check(const ctl_dealer *d0, unsigned t, const api_party_name *parties, size_t np,
                     const json_t *v, char *why, size_t cap);
int ctl_cmd_sign(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_sessions(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_parties(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_node(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_dev(ctl_ctx *c, int argc, char **argv);
int ctl_cmd_migrate(ctl_ctx *c, int argc, char **argv); /* migrate.c: tss-lib save files */

/* ---- development CA (devca.c) ---- */

/* Creates dir/ca.key (0600) and dir/ca.pem: a P-256 self-signed CA. 0, or -1 with why[]. */
int ctl_devca_create(const char *dir, unsigned days, char *why, size_t cap);
/* Issues a hub server certificate: new P-256 key at key_out (0600), cert at cert_out with
 * CN = name, SAN = each of the comma-separated IP addresses / DNS names in sans, EKU
 * serverAuth. 0, or -1 with why[]. */
int ctl_devca_issue_server(const char *dir, const char *name, const char *sans,
                           const char *cert_out, const char *key_out, unsigned days, char *why,
                           size_t cap);
/* Issues a node certificate from a CSR whose CN must be name (signature checked), EKU
 * clientAuth. 0, or -1 with why[]. */
int ctl_devca_issue_node(const char *dir, const char *name, const char *csr_path,
                         const char *cert_out, unsigned days, char *why, size_t cap);

#endif
