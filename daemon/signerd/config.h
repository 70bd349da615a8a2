/* daemon/signerd/config.h — mpc-signerd.conf (INI, read with inih) as a plain struct.
 * signer_config_load checks syntax, ranges and required keys: unknown sections or keys,
 * keys given twice and keys of another backend are errors, so a typo never silently falls
 * back to a default. signer_config_check then checks the world: files readable, the
 * node certificate's CN is party_id and it chains to the CA (and the CRL, if set), the
 * sealed identity key belongs to the configured backend, and the soft backend is refused
 * unless explicitly allowed. Every message names the section, the key and the fix.
 * mpc-signerd.conf.example beside this file lists every key with its default. */
#ifndef SIGNER_CONFIG_H
#define SIGNER_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "api/json.h"
#include "hsm/hsm.h"

#define SIGNER_CONFIG_MAX_PEER_FPS 64

typedef enum {
    SIGNER_SHARE_CACHE_UNSEAL = 0, /* unseal the share for every session (default) */
    SIGNER_SHARE_CACHE_MEMORY = 1, /* keep unsealed shares in secure memory */
} signer_share_cache;

typedef enum {
    SIGNER_ROLE_PERSISTENT = 0, /* stores its shares (sealed) in its database (default) */
    SIGNER_ROLE_DELEGATE = 1,   /* seals each new share and hands the blob to the backend
                                 * through the hub; signs only with the blob passed back */
} signer_role;

typedef struct {
    /* [signer] */
    api_party_name party_id;  /* required; must equal the certificate's CN */
    char database[PATH_MAX];  /* default /var/lib/mpc-signer/signer.db */
    int log_level;            /* LOG_*; default LOG_INFO */
    unsigned session_timeout; /* seconds, 1..600, default 30 */
    signer_share_cache share_cache;
    uint8_t peer_fingerprints[SIGNER_CONFIG_MAX_PEER_FPS][32]; /* accepted for new keys */
    size_t peer_fingerprint_count;                             /* 0: any certificate from the CA */
    unsigned max_sessions;                                     /* 1..4096, default 64 */
    signer_role role;                                          /* default persistent */

    /* [hub] */
    char hub_url[512];           /* as written: wss://host[:port][/path] */
    char hub_host[256];          /* host name or address (IPv6 without brackets) */
    unsigned hub_port;           /* default 443 when the URL has none */
    char hub_path[256];          /* default "/" when the URL has none */
    char hub_ca[PATH_MAX];       /* required: the deployment CA (PEM) */
    char hub_crl[PATH_MAX];      /* optional: CRL (PEM) of that CA */
    char hub_cert[PATH_MAX];     /* required: this node's certificate (PEM), CN = party_id */
    char identity_key[PATH_MAX]; /* required: the certificate's key, SEALED by the backend */
    unsigned reconnect_min_ms;   /* default 250 */
    unsigned reconnect_max_ms;   /* default 30000, >= reconnect_min_ms */
    unsigned ping_interval;      /* seconds, default 15; 0 = never */

    /* [backend] */
    hsm_kind backend;                /* required: tpm2 | pkcs11 | soft */
    int allow_insecure_soft_backend; /* default 0 */
    struct {
        char tcti[256];             /* default device:/dev/tpmrm0 */
        char primary_name[256];     /* required: hex name pinned at node init */
        uint32_t persistent_handle; /* 0 (default) or 0x81000000..0x81ffffff */
        char auth_file[PATH_MAX];   /* as written (optional) */
        char auth_path[PATH_MAX];   /* resolved: a bare name is $CREDENTIALS_DIRECTORY/name */
    } tpm2;
    struct {
        char module[PATH_MAX]; /* required */
        char token_label[64];
        char key_label[256];
        char key_id[256];        /* hex CKA_ID */
        char uri[1024];          /* RFC 7512 pkcs11: URI */
        char pin_file[PATH_MAX]; /* as written (required) */
        char pin_path[PATH_MAX]; /* resolved like tpm2.auth_path */
    } pkcs11;
    struct {
        char key_file[PATH_MAX]; /* required */
    } soft;

    /* [policy] (issue 15; policy.h) */
    char policy_file[PATH_MAX];   /* "": no policy, every request signs as before */
    char policy_pubkey[PATH_MAX]; /* "": the policy file need not be signed; else a PEM
                                     public key (P-256 or Ed25519) that must have signed it
                                     (FILE.sig beside it, `mpcctl policy sign`) */
} signer_config;

/* Reads path into *out (defaults first). Returns 0, or -1 with a message in err naming
 * the file, the line, the section, the key and the fix. A pin_file / auth_file given as a
 * bare name (no '/') is a systemd credential: resolved to $CREDENTIALS_DIRECTORY/name when
 * that variable is set (else left unresolved; signer_config_check reports it). */
int signer_config_load(const char *path, signer_config *out, char *err, size_t errlen);

/* Fills *out for hsm_open from cfg. The strings are borrowed from cfg: cfg must outlive
 * the hsm_open / hsm_init call. log / log_arg are left NULL for the caller. */
void signer_config_to_hsm(const signer_config *cfg, hsm_config *out);

/* Checks what a loaded config points at (see the file comment). Returns 0, or -1 with the
 * first problem in err. Does not open the backend (that needs the TPM / token). */
int signer_config_check(const signer_config *cfg, char *err, size_t errlen);

#endif
