/* tests/hsm/fixture.h — real backends for tests and the benchmark: a swtpm process on a
 * free loopback port with a temporary state directory, and a SoftHSM2 token in a temporary
 * directory with a P-256 key made by pkcs11-tool. Everything started here is killed and
 * removed by the matching stop function, and also at exit (atexit) and, for swtpm, when
 * the test process dies (PR_SET_PDEATHSIG). No cmocka dependency. */
#ifndef TEST_HSM_FIXTURE_H
#define TEST_HSM_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#define FX_SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* True if an executable of that name is on PATH (tests skip only when it is absent). */
bool fx_have_tool(const char *name);

/* Runs argv (argv[0] looked up on PATH) with stdout/stderr to /dev/null; returns its exit
 * status or -1. */
int fx_run(const char *const argv[]);

typedef struct {
    pid_t pid;
    int port;
    char dir[64];  /* state directory */
    char tcti[96]; /* "swtpm:host=127.0.0.1,port=P" */
} fx_swtpm;

/* Starts swtpm (socket mode, TPM 2.0, startup-clear) and waits until it accepts
 * connections. 0 on success, -1 on failure. */
int fx_swtpm_start(fx_swtpm *t);
/* Stops the process but keeps the state directory (a TPM "reboot": PCRs reset). */
int fx_swtpm_restart(fx_swtpm *t);
/* Kills the process and removes the state directory. Idempotent. */
void fx_swtpm_stop(fx_swtpm *t);

typedef struct {
    char dir[64];
    char conf[128];
    char pin_file[128];
    char label[32];
    bool active;
} fx_softhsm;

/* Creates a SoftHSM2 config in a temp dir, points SOFTHSM2_CONF at it, initialises a token
 * with the given label and user PIN, writes the PIN to a 0600 file, and generates a P-256
 * key pair (label "seal-key", id 01). 0 on success. */
int fx_softhsm_start(fx_softhsm *h, const char *label, const char *pin);
/* Adds another token to the same SoftHSM2 store (same PIN), with key "seal-key" id 01. */
int fx_softhsm_add_token(fx_softhsm *h, const char *label, const char *pin);
/* Generates one more key pair in token label. */
int fx_softhsm_keygen(fx_softhsm *h, const char *token, const char *pin, const char *key_label,
                      const char *id_hex, const char *key_type);
void fx_softhsm_stop(fx_softhsm *h);

#endif
