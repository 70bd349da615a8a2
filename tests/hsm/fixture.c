/* tests/hsm/fixture.c — see fixture.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

/* What atexit must clean if a test binary leaves early. */
#define FX_MAX 8
static fx_swtpm *fx_tpms[FX_MAX];
static fx_softhsm *fx_hsms[FX_MAX];
static int fx_atexit_done;

static void fx_cleanup_all(void)
{
    for (int i = 0; i < FX_MAX; i++) {
        if (fx_tpms[i] != NULL)
            fx_swtpm_stop(fx_tpms[i]);
        if (fx_hsms[i] != NULL)
            fx_softhsm_stop(fx_hsms[i]);
    }
}

/* On a crash or an abort (a sanitizer stops the process with abort()) atexit does not
 * run: kill the children and remove the directories with async-signal-safe calls only,
 * then die of the same signal. */
static void fx_rm_rf_signal_safe(const char *dir)
{
    if (dir[0] == '\0')
        return;
    pid_t pid = fork();
    if (pid == 0) {
        char *const argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
        char *const envp[] = {NULL};
        execve(argv[0], argv, envp);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

static void fx_on_fatal_signal(int sig)
{
    for (int i = 0; i < FX_MAX; i++) {
        if (fx_tpms[i] != NULL) {
            if (fx_tpms[i]->pid > 0) {
                kill(fx_tpms[i]->pid, SIGKILL);
                waitpid(fx_tpms[i]->pid, NULL, 0);
            }
            fx_rm_rf_signal_safe(fx_tpms[i]->dir);
        }
        if (fx_hsms[i] != NULL && fx_hsms[i]->active)
            fx_rm_rf_signal_safe(fx_hsms[i]->dir);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void fx_register(fx_swtpm *t, fx_softhsm *h)
{
    if (!fx_atexit_done) {
        static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTERM, SIGINT};
        atexit(fx_cleanup_all);
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], fx_on_fatal_signal);
        fx_atexit_done = 1;
    }
    for (int i = 0; i < FX_MAX; i++) {
        if (t != NULL && (fx_tpms[i] == NULL || fx_tpms[i] == t)) {
            fx_tpms[i] = t;
            return;
        }
        if (h != NULL && (fx_hsms[i] == NULL || fx_hsms[i] == h)) {
            fx_hsms[i] = h;
            return;
        }
    }
}

static void fx_unregister(const void *p)
{
    for (int i = 0; i < FX_MAX; i++) {
        if (fx_tpms[i] == p)
            fx_tpms[i] = NULL;
        if (fx_hsms[i] == p)
            fx_hsms[i] = NULL;
    }
}

bool fx_have_tool(const char *name)
{
    const char *path = getenv("PATH");
    char buf[512];
    if (path == NULL)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, name);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static pid_t fx_spawn(const char *const argv[], int die_with_parent)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (die_with_parent)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (getenv("FX_VERBOSE") == NULL)
            dup2(null, 2);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

int fx_run(const char *const argv[])
{
    int status;
    pid_t pid = fx_spawn(argv, 1);
    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int rm_rf(const char *dir)
{
    const char *argv[] = {"rm", "-rf", dir, NULL};
    return dir[0] != '\0' ? fx_run(argv) : 0;
}

static int port_free(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), ok;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

/* A port P with P and P+1 free: ask the kernel for an ephemeral port, check its neighbour. */
static int pick_ports(void)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t len = sizeof a;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s < 0)
            return -1;
        if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(s, (struct sockaddr *)&a, &len) != 0) {
            close(s);
            return -1;
        }
        close(s);
        int p = ntohs(a.sin_port);
        if (p < 65534 && port_free(p) && port_free(p + 1))
            return p;
    }
    return -1;
}

static int wait_listening(int port, pid_t pid)
{
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        int s = socket(AF_INET, SOCK_STREAM, 0), status;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok)
            return 0;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1; /* swtpm exited */
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int swtpm_launch(fx_swtpm *t)
{
    char server[64], ctrl[64], state[96];
    snprintf(server, sizeof server, "type=tcp,port=%d", t->port);
    snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d", t->port + 1);
    snprintf(state, sizeof state, "dir=%s", t->dir);
    const char *argv[] = {"swtpm",
                          "socket",
                          "--tpm2",
                          "--server",
                          server,
                          "--ctrl",
                          ctrl,
                          "--tpmstate",
                          state,
                          "--flags",
                          "not-need-init,startup-clear",
                          NULL};
    t->pid = fx_spawn(argv, 1);
    if (t->pid < 0)
        return -1;
    if (wait_listening(t->port, t->pid) != 0) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
        return -1;
    }
    return 0;
}

int fx_swtpm_start(fx_swtpm *t)
{
    memset(t, 0, sizeof *t);
    strcpy(t->dir, "/tmp/hsm-swtpm-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    fx_register(t, NULL);
    for (int attempt = 0; attempt < 5; attempt++) {
        if ((t->port = pick_ports()) < 0)
            break;
        snprintf(t->tcti, sizeof t->tcti, "swtpm:host=127.0.0.1,port=%d", t->port);
        if (swtpm_launch(t) == 0)
            return 0;
    }
    fx_swtpm_stop(t);
    return -1;
}

static void swtpm_kill(fx_swtpm *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        for (int i = 0; i < 200; i++) {
            if (waitpid(t->pid, NULL, WNOHANG) == t->pid) {
                t->pid = 0;
                return;
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(t->pid, SIGKILL);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
    }
}

int fx_swtpm_restart(fx_swtpm *t)
{
    swtpm_kill(t);
    for (int i = 0; i < 100 && !(port_free(t->port) && port_free(t->port + 1)); i++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return swtpm_launch(t);
}

void fx_swtpm_stop(fx_swtpm *t)
{
    swtpm_kill(t);
    if (t->dir[0] != '\0')
        rm_rf(t->dir);
    t->dir[0] = '\0';
    fx_unregister(t);
}

int fx_softhsm_keygen(fx_softhsm *h, const char *token, const char *pin, const char *key_label,
                      const char *id_hex, const char *key_type)
{
    (void)h;
    const char *argv[] = {"pkcs11-tool",  "--module",   FX_SOFTHSM_MODULE, "--token-label",
                          token,          "--login",    "--pin",           pin,
                          "--keypairgen", "--key-type", key_type,          "--id",
                          id_hex,         "--label",    key_label,         NULL};
    return fx_run(argv) == 0 ? 0 : -1;
}

int fx_softhsm_add_token(fx_softhsm *h, const char *label, const char *pin)
{
    const char *init[] = {"softhsm2-util", "--init-token", "--free", "--label", label,
                          "--so-pin",      "87654321",     "--pin",  pin,       NULL};
    if (fx_run(init) != 0)
        return -1;
    return fx_softhsm_keygen(h, label, pin, "seal-key", "01", "EC:prime256v1");
}

int fx_softhsm_start(fx_softhsm *h, const char *label, const char *pin)
{
    char tokens[128];
    memset(h, 0, sizeof *h);
    strcpy(h->dir, "/tmp/hsm-softhsm-XXXXXX");
    if (mkdtemp(h->dir) == NULL)
        return -1;
    h->active = true;
    fx_register(NULL, h);
    snprintf(h->label, sizeof h->label, "%s", label);
    snprintf(tokens, sizeof tokens, "%s/tokens", h->dir);
    snprintf(h->conf, sizeof h->conf, "%s/softhsm2.conf", h->dir);
    snprintf(h->pin_file, sizeof h->pin_file, "%s/pin", h->dir);
    FILE *f = fopen(h->conf, "w");
    if (f == NULL || mkdir(tokens, 0700) != 0)
        goto fail;
    fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens);
    fclose(f);
    f = NULL;
    setenv("SOFTHSM2_CONF", h->conf, 1);
    int fd = open(h->pin_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, pin, strlen(pin)) != (ssize_t)strlen(pin) || write(fd, "\n", 1) != 1) {
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    close(fd);
    if (fx_softhsm_add_token(h, label, pin) != 0)
        goto fail;
    return 0;
fail:
    if (f != NULL)
        fclose(f);
    fx_softhsm_stop(h);
    return -1;
}

void fx_softhsm_stop(fx_softhsm *h)
{
    if (h->active)
        rm_rf(h->dir);
    h->active = false;
    fx_unregister(h);
}
