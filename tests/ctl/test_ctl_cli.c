/* tests/ctl/test_ctl_cli.c — mpcctl's command line: --help on every command, the exit
 * codes of usage errors, the API key never taken from argv, the hub settings from options
 * and the environment, and the codes for an unreachable hub and a missing key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "run.h"

#define KEY "0123456789abcdef0123456789abcdef"

static void clear_env(void)
{
    unsetenv("MPCCTL_HUB");
    unsetenv("MPCCTL_CA");
    unsetenv("MPCCTL_PARTY_CA");
    unsetenv("MPCCTL_API_KEY");
    unsetenv("MPCCTL_API_KEY_FILE");
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

/* Checks a run: exit code rc and, if needle, the text on out (rc 0) or err. */
static void check(ctl_run *r, int rc, const char *needle)
{
    ctl_run_expect(r, rc, needle, NULL);
}

/* Runs mpcctl with the arguments and expects exit code rc_ (and needle in its output). */
#define EXPECT(rc_, needle, ...)                                                                   \
    do {                                                                                           \
        ctl_run r_;                                                                                \
        ctl_run_args(&r_, __VA_ARGS__, NULL);                                                      \
        check(&r_, (rc_), (needle));                                                               \
    } while (0)

static void test_help_everywhere(void **state)
{
    (void)state;
    EXPECT(0, "Exit codes", "--help");
    EXPECT(0, "Exit codes", "help");
    EXPECT(0, "mpcctl 0.1.0", "--version");
    EXPECT(0, "keys create", "keys", "--help");
    EXPECT(0, "keys create", "keys", "create", "--help");
    EXPECT(0, "keys list", "keys", "list", "--help");
    EXPECT(0, "--pem", "keys", "show", "--help");
    EXPECT(0, "--keccak", "sign", "--help");
    EXPECT(0, "sessions show", "sessions", "--help");
    EXPECT(0, "sessions show", "sessions", "show", "--help");
    EXPECT(0, "usage: mpcctl parties", "parties", "--help");
    EXPECT(0, "node init", "node", "--help");
    EXPECT(0, "node init", "node", "init", "--help");
    EXPECT(0, "node status", "node", "status", "--help");
    EXPECT(0, "DEVELOPMENT", "dev", "--help");
    EXPECT(0, "DEVELOPMENT", "dev", "ca", "--help");
    EXPECT(0, "--server", "dev", "issue", "--help");
}

static void test_usage_errors(void **state)
{
    (void)state;
    EXPECT(2, "usage", "");
    EXPECT(2, "unknown command 'frobnicate'", "frobnicate");
    EXPECT(2, "usage", "--no-such-option");
    EXPECT(2, "usage: mpcctl keys", "keys");
    EXPECT(2, "usage: mpcctl keys", "keys", "delete");
    EXPECT(2, "usage: mpcctl sessions", "sessions");
    EXPECT(2, "usage: mpcctl node", "node", "frob");
    EXPECT(2, "usage: mpcctl dev", "dev");
    EXPECT(2, "one key id", "keys", "show");
    EXPECT(2, "not a key id", "keys", "show", "xyz");
    EXPECT(2, "--path", "keys", "show", KEY, "--path", "m/0'");
    EXPECT(2, "no arguments", "keys", "list", "extra");
    EXPECT(2, "one session id", "sessions", "show");
    EXPECT(2, "not a session id", "sessions", "show", "00");
    EXPECT(2, "no arguments", "parties", "extra");
}

static void test_keys_create_arguments(void **state)
{
    (void)state;
    EXPECT(2, "--threshold", "keys", "create", "--parties", "a,b,c");
    EXPECT(2, "either --parties", "keys", "create", "--threshold", "2");
    EXPECT(2, "either --parties", "keys", "create", "--threshold", "2", "--n", "3", "--parties",
           "a,b,c");
    EXPECT(2, "more than the 2 parties", "keys", "create", "--threshold", "3", "--parties", "a,b");
    EXPECT(2, "--threshold: 2..16", "keys", "create", "--threshold", "1", "--n", "3");
    EXPECT(2, "--threshold: 2..16", "keys", "create", "--threshold", "x", "--n", "3");
    EXPECT(2, "--n: 2..16", "keys", "create", "--threshold", "2", "--n", "17");
    EXPECT(2, "listed twice", "keys", "create", "--threshold", "2", "--parties", "a,b,a");
    EXPECT(2, "not a party id", "keys", "create", "--threshold", "2", "--parties", "a,b c");
    EXPECT(2, "empty", "keys", "create", "--threshold", "2", "--parties", "a,,b");
    EXPECT(2, "--wait", "keys", "create", "--threshold", "2", "--n", "3", "--wait", "-1");
    /* Valid arguments, but no hub configured: a usage error naming the fix. */
    EXPECT(2, "MPCCTL_HUB", "keys", "create", "--threshold", "2", "--n", "3");
}

static void test_sign_arguments(void **state)
{
    (void)state;
    char h[65];
    memset(h, 'a', 64);
    h[64] = 0;
    EXPECT(2, "exactly one of --hash", "sign", KEY);
    EXPECT(2, "exactly one of --hash", "sign", KEY, "--hash", h, "--file", "/etc/hostname");
    EXPECT(2, "64 hex digits", "sign", KEY, "--hash", "abcd");
    EXPECT(2, "64 hex digits", "sign", KEY, "--hash",
           "zz00000000000000000000000000000000000000000000000000000000000000");
    EXPECT(2, "go with --file", "sign", KEY, "--hash", h, "--keccak");
    EXPECT(2, "choose one", "sign", KEY, "--file", "/etc/hostname", "--keccak", "--sha256");
    EXPECT(2, "--path", "sign", KEY, "--hash", h, "--path", "m/2147483648");
    EXPECT(2, "--path", "sign", KEY, "--hash", h, "--path", "m/1/2/3/4/5/6/7/8/9");
    EXPECT(2, "at least two", "sign", KEY, "--hash", h, "--signers", "n1");
    EXPECT(2, "not a key id", "sign", "nokey", "--hash", h);
    EXPECT(2, "one key id", "sign", "--hash", h);
    /* A file that cannot be read is a local failure, before any request. */
    EXPECT(5, "cannot open", "sign", KEY, "--file", "/nonexistent/file");
}

static void test_api_key_never_on_argv(void **state)
{
    (void)state;
    EXPECT(2, "--api-key is refused", "--api-key", "secret", "parties");
    EXPECT(2, "--api-key is refused", "parties", "--api-key", "secret");
    EXPECT(2, "--api-key is refused", "keys", "list", "--api-key=secret");
}

static void test_hub_settings(void **state)
{
    (void)state;
    EXPECT(2, "no hub", "parties");
    EXPECT(2, "must start with https://", "--hub", "http://127.0.0.1:1", "parties");
    EXPECT(2, "no API key", "--hub", "https://127.0.0.1:1", "parties");
    setenv("MPCCTL_HUB", "https://127.0.0.1:1", 1);
    EXPECT(2, "no API key", "parties");
    EXPECT(5, "cannot read it", "--api-key-file", "/nonexistent/key", "parties");
    char path[] = "/tmp/ctl-key-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    EXPECT(5, "is empty", "--api-key-file", path, "parties");
    FILE *f = fopen(path, "w");
    fputs("k3y\n", f);
    fclose(f);
    /* Port 1 on loopback refuses connections: exit 3, whether the key came from a file or
     * from the environment, and with the options after the command too. */
    EXPECT(3, "cannot reach the hub", "--api-key-file", path, "parties");
    EXPECT(3, "cannot reach the hub", "parties", "--api-key-file", path);
    setenv("MPCCTL_API_KEY_FILE", path, 1);
    EXPECT(3, "cannot reach the hub", "keys", "list");
    unsetenv("MPCCTL_API_KEY_FILE");
    setenv("MPCCTL_API_KEY", "k3y", 1);
    EXPECT(3, "cannot reach the hub", "sessions", "show", KEY);
    EXPECT(3, "127.0.0.1:1", "keys", "show", KEY);
    EXPECT(3, NULL, "sign", KEY, "--file", path, "--keccak");
    /* Options after the command are read, and parsing goes on after them. */
    EXPECT(3, "cannot reach the hub", "keys", "list", "--json");
    EXPECT(3, "cannot reach the hub", "keys", "show", "--json", KEY, "--pem");
    EXPECT(2, "--threshold: 2..16", "keys", "create", "--json", "--threshold", "1", "--n", "3");
    EXPECT(2, "64 hex digits", "sign", KEY, "--json", "--hash", "00");
    EXPECT(2, "one session id", "sessions", "show", "--json");
    /* The option wins over the environment. */
    EXPECT(3, "127.0.0.1:2", "--hub", "https://127.0.0.1:2/", "parties");
    unlink(path);
    clear_env();
}

static void test_parsers(void **state)
{
    (void)state;
    api_party_name p[API_MAX_PARTIES];
    size_t n;
    char why[160];
    unsigned u;
    assert_int_equal(ctl_parse_parties("n1,n-2,n_3.x", p, API_MAX_PARTIES, &n, why, sizeof why), 0);
    assert_int_equal(n, 3);
    assert_string_equal(p[2], "n_3.x");
    assert_int_equal(ctl_parse_parties("a,b", p, 1, &n, why, sizeof why), -1);
    assert_int_equal(ctl_parse_parties("", p, API_MAX_PARTIES, &n, why, sizeof why), -1);
    assert_int_equal(ctl_parse_parties("a,", p, API_MAX_PARTIES, &n, why, sizeof why), -1);
    assert_int_equal(ctl_parse_parties("..", p, API_MAX_PARTIES, &n, why, sizeof why), -1);
    assert_int_equal(ctl_parse_uint("16", 2, 16, &u), 0);
    assert_int_equal(u, 16);
    assert_int_equal(ctl_parse_uint("17", 2, 16, &u), -1);
    assert_int_equal(ctl_parse_uint("+3", 2, 16, &u), -1);
    assert_int_equal(ctl_parse_uint("3x", 2, 16, &u), -1);
    assert_int_equal(ctl_parse_uint("", 2, 16, &u), -1);
}

static void test_node_arguments(void **state)
{
    (void)state;
    EXPECT(2, "--config", "node", "init", "--backend", "soft");
    EXPECT(2, "--backend", "node", "init", "--config", "/nonexistent.conf");
    EXPECT(2, "only --config", "node", "status", "--config", "x.conf", "--backend", "soft");
    EXPECT(2, "tpm2, pkcs11 or soft", "node", "init", "--backend", "hsm", "--config", "x.conf");
    EXPECT(5, NULL, "node", "status", "--config", "/nonexistent.conf");
    EXPECT(5, NULL, "node", "init", "--backend", "soft", "--config", "/nonexistent.conf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_help_everywhere, setup),
        cmocka_unit_test_setup(test_usage_errors, setup),
        cmocka_unit_test_setup(test_keys_create_arguments, setup),
        cmocka_unit_test_setup(test_sign_arguments, setup),
        cmocka_unit_test_setup(test_api_key_never_on_argv, setup),
        cmocka_unit_test_setup(test_hub_settings, setup),
        cmocka_unit_test_setup(test_parsers, setup),
        cmocka_unit_test_setup(test_node_arguments, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
