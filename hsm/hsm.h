/* hsm/hsm.h — sealing key shares at rest: one interface, three backends.
 * A blob is an envelope: a fresh 32-byte data key per blob encrypts the payload with
 * AES-256-GCM (associated data = the caller's aad, normally hsm_aad_build(key id, party id,
 * format version), plus the blob header), and the backend wraps the data key:
 *   tpm2   — a keyedhash object sealed under the node TPM's pinned ECC P-256 primary;
 *   pkcs11 — ECIES to a non-extractable P-256 key in a token (ECDH inside the token);
 *   soft   — AES-256-GCM under a 32-byte key file (development and demos only).
 * The backend kind and the node binding (TPM primary name, token key, key file) travel in
 * the blob, so a blob from another backend or node is refused with its own error.
 * What does not live here: where blobs are stored (the daemon's SQLite) and what is in them
 * (a key share is bytes to this module). Every function is safe to call from several
 * threads on one backend: calls into a backend are serialized by its own mutex. */
#ifndef HSM_HSM_H
#define HSM_HSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HSM_OK = 0,
    HSM_ERR_ARG,              /* a caller broke a documented precondition */
    HSM_ERR_NOMEM,            /* an allocation failed */
    HSM_ERR_CONFIG,           /* the configuration is incomplete or contradictory */
    HSM_ERR_UNSUPPORTED,      /* the backend kind is unknown */
    HSM_ERR_INSECURE_REFUSED, /* soft backend without allow_insecure */
    HSM_ERR_KEY_FILE,         /* soft key file missing, unreadable or not 32 bytes */
    HSM_ERR_FILE_PERMS,       /* a key or PIN file is accessible by group or others */
    HSM_ERR_FORMAT,           /* a blob is truncated or malformed */
    HSM_ERR_VERSION,          /* a blob has an unknown format version */
    HSM_ERR_WRONG_BACKEND,    /* a blob was sealed by another backend kind */
    HSM_ERR_WRONG_NODE,       /* a blob was sealed for another TPM, token key or key file */
    HSM_ERR_TAMPERED,         /* authentication failed: blob modified or aad differs */
    HSM_ERR_TOO_LARGE,        /* plaintext or aad above the documented maximum */
    HSM_ERR_CRYPTO,           /* the crypto library failed (not an authentication failure) */
    HSM_ERR_RAND,             /* the random source failed */
    HSM_ERR_MODULE,           /* the PKCS#11 module cannot be loaded */
    HSM_ERR_TOKEN_NOT_FOUND,  /* no token with the configured label */
    HSM_ERR_PIN_INCORRECT,    /* the token refused the PIN */
    HSM_ERR_PIN_LOCKED,       /* the token's user PIN is locked */
    HSM_ERR_PIN_FILE,         /* the PIN file is missing, unreadable or empty */
    HSM_ERR_KEY_NOT_FOUND,    /* no P-256 private key matching label / id / URI */
    HSM_ERR_TOKEN,            /* another token failure (see hsm_last_detail) */
    HSM_ERR_TPM_UNAVAILABLE,  /* the TCTI cannot reach the TPM */
    HSM_ERR_TPM,              /* the TPM refused a command (see hsm_last_detail) */
    HSM_ERR_TPM_PRIMARY,      /* the TPM's storage primary is not the pinned one */
    HSM_ERR_TPM_AUTH,         /* the TPM refused the object's auth value */
    HSM_ERR_TPM_LOCKOUT,      /* the TPM is in dictionary-attack lockout */
    HSM_ERR_PCR_POLICY,       /* PCR values differ from those the blob was sealed to */
    HSM_ERR__COUNT
} hsm_err;

/* Static description of err naming the cause and the fix (never NULL, never secret). */
const char *hsm_strerror(hsm_err err);

/* Detail of the last failure on the calling thread (e.g. the TPM response code and its
 * Tss2_RC_Decode text, the CKR value, the offending path). Empty if none. Never secret. */
const char *hsm_last_detail(void);

typedef enum {
    HSM_KIND_NONE = 0,
    HSM_KIND_SOFT = 1,
    HSM_KIND_PKCS11 = 2,
    HSM_KIND_TPM2 = 3,
} hsm_kind;

/* "soft", "pkcs11", "tpm2" (or "none"); and back (HSM_KIND_NONE if unknown). */
const char *hsm_kind_name(hsm_kind kind);
hsm_kind hsm_kind_from_name(const char *name);

typedef enum { HSM_LOG_INFO, HSM_LOG_WARNING } hsm_log_level;
typedef void (*hsm_log_fn)(void *arg, hsm_log_level level, const char *msg);

/* Plain configuration; the daemon fills it from its INI file. Strings are borrowed for the
 * duration of hsm_open / hsm_init only. Start from hsm_config_init for safe defaults. */
typedef struct {
    hsm_kind kind;
    hsm_log_fn log; /* NULL: messages go to stderr. Never receives secrets. */
    void *log_arg;
    struct {
        const char *tcti;           /* "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=N" */
        const char *primary_name;   /* hex name of the primary pinned by hsm_init (required) */
        uint32_t persistent_handle; /* 0: recreate the primary from its template each time;
                                       else 0x81xxxxxx, a persistent primary */
        const char *auth_file;      /* optional file holding the object auth value (systemd
                                       credential); used if set, else auth/auth_len */
        const uint8_t *auth;        /* optional auth value bytes (borrowed) */
        size_t auth_len;
        bool noda;         /* sealed objects exempt from dictionary-attack lockout */
        uint32_t pcr_mask; /* sha256 PCRs the data key is bound to (bit i = PCR i);
                              0 = no PCR policy (default) */
    } tpm2;
    struct {
        const char *module;      /* path of the PKCS#11 module, e.g. libsofthsm2.so */
        const char *token_label; /* token to use (required unless the URI names it) */
        const char *key_label;   /* key by CKA_LABEL ... */
        const char *key_id;      /* ... or by CKA_ID in hex ... */
        const char *uri;         /* ... or an RFC 7512 "pkcs11:token=..;object=..;id=.." URI */
        const char *pin_file;    /* file holding the user PIN (0600/0400; newline ignored) */
    } pkcs11;
    struct {
        const char *key_file; /* 32 raw bytes, mode 0600 or 0400 */
        bool allow_insecure;  /* must be true: the soft backend is for development only */
    } soft;
} hsm_config;

/* Zeroes cfg and sets kind and defaults: tpm2 noda on, no PCR policy, tcti
 * "device:/dev/tpmrm0". */
void hsm_config_init(hsm_config *cfg, hsm_kind kind);

/* Parses a PCR list such as "0,7" or "0-7,14" (sha256 bank, PCRs 0..23) or "" / "none"
 * into a bit mask. HSM_ERR_CONFIG on anything else. */
hsm_err hsm_parse_pcr_list(const char *list, uint32_t *mask);

typedef struct hsm_backend hsm_backend;

/* Opens the configured backend and checks it is usable now: the TPM answers and its
 * primary has the pinned name; the token is present, the PIN accepted and the key found;
 * the key file is private and 32 bytes long. On success *out owns the backend. */
hsm_err hsm_open(const hsm_config *cfg, hsm_backend **out);

/* Closes the backend (flushes TPM handles, logs out of the token, wipes keys). NULL ok. */
void hsm_close(hsm_backend *b);

/* Node initialisation, run once by an operator ("mpcctl init"). Writes into binding a
 * printable value that identifies the node's sealing root:
 *   tpm2   — creates the storage primary (and, with persistent_handle, persists it if that
 *            handle is empty) and returns its name in hex: store it as primary_name;
 *   soft   — creates the key file (0600) if it does not exist; returns its fingerprint;
 *   pkcs11 — checks token, PIN and key; returns the key's public fingerprint. */
hsm_err hsm_init(const hsm_config *cfg, char *binding, size_t size);

#define HSM_MAX_PLAINTEXT (1u << 20) /* 1 MiB */
#define HSM_MAX_AAD       1024u

/* Seals plaintext[0..len) (0 < len <= HSM_MAX_PLAINTEXT) bound to aad[0..aad_len)
 * (aad_len <= HSM_MAX_AAD; aad may be NULL when aad_len is 0). On success *blob is a
 * malloc'ed buffer of *blob_len bytes the caller frees with free(). */
hsm_err hsm_seal(hsm_backend *b, const uint8_t *plaintext, size_t len, const uint8_t *aad,
                 size_t aad_len, uint8_t **blob, size_t *blob_len);

/* Opens a blob made by hsm_seal with the same aad. On success *plaintext is secure memory
 * (tss_secmem_alloc) of *len bytes; free it with tss_secmem_free. The blob is only read.
 * Errors: FORMAT/VERSION for malformed blobs, WRONG_BACKEND / WRONG_NODE for blobs from
 * elsewhere, TAMPERED when authentication fails, and the backend's own errors. */
hsm_err hsm_unseal(hsm_backend *b, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
                   size_t aad_len, uint8_t **plaintext, size_t *len);

/* Reads the kind recorded in a blob's header without opening it (HSM_ERR_FORMAT if the
 * header is malformed). Lets an operator tool say which backend a stored blob needs. */
hsm_err hsm_blob_kind(const uint8_t *blob, size_t blob_len, hsm_kind *kind);

/* Writes "kind key=value ..." describing the backend (no secrets) into buf (NUL
 * terminated, truncated to size). Returns the length it wanted, like snprintf. */
int hsm_describe(const hsm_backend *b, char *buf, size_t size);

hsm_kind hsm_backend_kind(const hsm_backend *b);

/* The standard associated data for a key share: a domain tag, then key id and party id
 * (each 1..255 bytes, length-prefixed) and the share format version. Writes at most cap
 * bytes into out and the length into *len; HSM_ERR_ARG if an id is empty or too long,
 * HSM_ERR_TOO_LARGE if cap is too small (HSM_AAD_SHARE_MAX always suffices). */
#define HSM_AAD_SHARE_MAX 600u
hsm_err hsm_aad_build(uint8_t *out, size_t cap, size_t *len, const char *key_id,
                      const char *party_id, uint32_t format_version);

/* Operator self-test: seals and unseals a random 64-byte value with a test aad, checks
 * the round trip, and reports what it used and how long each step took. */
typedef struct {
    hsm_err result;
    char backend[256]; /* hsm_describe output */
    size_t blob_len;
    double seal_ms;
    double unseal_ms;
} hsm_selftest_report;

hsm_err hsm_selftest(hsm_backend *b, hsm_selftest_report *report);

#endif
