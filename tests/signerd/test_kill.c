/* tests/signerd/test_kill.c — kill -9 of each daemon at random points during a stream of
 * signs and keygens (tests/support/deploy.h: a real hub and three real signers). For
 * MPC_KILL_ROUNDS rounds (default 3), each of the hub, n1, n2 and n3 in turn is killed with
 * SIGKILL after a random delay (MPC_KILL_SEED fixes the sequence), restarted, and the
 * deployment waited for; meanwhile two client threads sign with random keys and signer
 * pairs and one creates keys. After every kill, from the databases (read-only, as they
 * are on disk):
 *   - every key the hub has active has a share row on each of its n signers (durable:
 *     the signer stores the share, fsync, before it sends the attestation);
 *   - no share a signer once had is gone, and no key the hub once had active is not;
 *   - no session id is reused: each signer's used_sids only grows (nothing a crash can
 *     roll back), and no sid is claimed by more signers than its session has parties;
 *   - every signature returned verifies.
 * At the end signing resumes: every pair signs with the first key and the newest one, and
 * every share of an active key becomes active on its signer (activate is resent on
 * hello). The test prints what it ran. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "deploy.h"

#define MAX_KEYS 512
#define VICTIMS  (1 + DEPLOY_NODES) /* the hub, n1, n2, n3 */

static deploy D;
static const char *const PAIR[3][2] = {{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}};

/* ---- keys the clients know (created with 201) ---- */

static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char id[33];
    uint8_t pk[33];
} keys[MAX_KEYS];
static int nkeys;

/* ---- the stream ---- */

static atomic_int stop_stream;
static atomic_int signs_ok, signs_failed, bad_sigs, keygens_ok, keygens_failed;

static unsigned rnd(unsigned *seed, unsigned n)
{
    return (unsigned)(rand_r(seed) % n);
}

static void *signer_run(void *p)
{
    unsigned seed = (unsigned)(uintptr_t)p;
    deploy_client *c = deploy_client_new(&D, NULL);
    while (c && !atomic_load(&stop_stream)) {
        char id[33];
        uint8_t pk[33], hash[32];
        pthread_mutex_lock(&keys_lock);
        int k = (int)rnd(&seed, (unsigned)nkeys);
        memcpy(id, keys[k].id, 33);
        memcpy(pk, keys[k].pk, 33);
        pthread_mutex_unlock(&keys_lock);
        RAND_bytes(hash, 32);
        unsigned pr = rnd(&seed, 4); /* 3: the hub picks */
        json_t *o = NULL;
        int st =
            deploy_sign(c, id, pr < 3 ? PAIR[pr][0] : NULL, pr < 3 ? PAIR[pr][1] : NULL, hash, &o);
        if (st == 200 || st == 201) {
            if (deploy_sig_verifies(o, pk, hash))
                atomic_fetch_add(&signs_ok, 1);
            else
                atomic_fetch_add(&bad_sigs, 1);
        } else {
            atomic_fetch_add(&signs_failed, 1);
            usleep(20000);
        }
        json_decref(o);
    }
    deploy_client_free(c);
    return NULL;
}

static void *keygen_run(void *p)
{
    (void)p;
    deploy_client *c = deploy_client_new(&D, NULL);
    while (c && !atomic_load(&stop_stream)) {
        char id[33];
        uint8_t pk[33];
        if (deploy_keygen(c, id, pk) == 201) {
            atomic_fetch_add(&keygens_ok, 1);
            pthread_mutex_lock(&keys_lock);
            if (nkeys < MAX_KEYS) {
                memcpy(keys[nkeys].id, id, 33);
                memcpy(keys[nkeys].pk, pk, 33);
                nkeys++;
            }
            pthread_mutex_unlock(&keys_lock);
        } else {
            atomic_fetch_add(&keygens_failed, 1);
            usleep(50000);
        }
    }
    deploy_client_free(c);
    return NULL;
}

/* ---- what the databases hold ---- */

typedef struct {
    char (*ids)[33];
    int n;
} idset;

typedef struct {
    uint8_t (*sids)[33]; /* 32 bytes + the number of parties of its session */
    int n;
} sidset;

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int cmp_sid(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static sqlite3 *open_ro(const char *name)
{
    char path[300];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/%s.db", D.dir, name);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Text column 0 of every row of sql, sorted. */
static idset query_ids(const char *dbname, const char *sql)
{
    idset s = {calloc(MAX_KEYS * 4, 33), 0};
    sqlite3 *db = open_ro(dbname);
    sqlite3_stmt *q = NULL;
    assert_non_null(db);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW && s.n < MAX_KEYS * 4)
        snprintf(s.ids[s.n++], 33, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
    qsort(s.ids, (size_t)s.n, 33, cmp_id);
    return s;
}

static int has_id(const idset *s, const char *id)
{
    return bsearch(id, s->ids, (size_t)s->n, 33, cmp_id) != NULL;
}

static sidset query_sids(int node)
{
    sidset s = {NULL, 0};
    sqlite3 *db = open_ro(deploy_node[node]);
    sqlite3_stmt *q = NULL;
    int cap = 1024;
    assert_non_null(db);
    s.sids = malloc((size_t)cap * 33);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sid, kind FROM used_sids", -1, &q, NULL),
                     SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (s.n == cap)
            s.sids = realloc(s.sids, (size_t)(cap *= 2) * 33);
        assert_int_equal(sqlite3_column_bytes(q, 0), 32);
        memcpy(s.sids[s.n], sqlite3_column_blob(q, 0), 32);
        s.sids[s.n][32] = strcmp((const char *)sqlite3_column_text(q, 1), "keygen") == 0 ? 3 : 2;
        s.n++;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    qsort(s.sids, (size_t)s.n, 33, cmp_sid);
    return s;
}

/* What the last check saw, to compare with the next. */
static idset seen_shares[DEPLOY_NODES], seen_active;
static sidset seen_sids[DEPLOY_NODES];
static int checks, pending_orphans, max_sids;

/* The invariants, from the files on disk. */
static void check_invariants(const char *when)
{
    idset active = query_ids("hub", "SELECT id FROM keys WHERE status = 'active'");
    idset shares[DEPLOY_NODES];
    sidset sids[DEPLOY_NODES];
    for (int i = 0; i < DEPLOY_NODES; i++) {
        shares[i] = query_ids(deploy_node[i], "SELECT key_id FROM shares");
        sids[i] = query_sids(i);
    }
    /* No key is active without all n shares durable (all three nodes are its parties). */
    for (int k = 0; k < active.n; k++)
        for (int i = 0; i < DEPLOY_NODES; i++)
            if (!has_id(&shares[i], active.ids[k])) {
                fprintf(stderr, "%s: key %s is active at the hub but %s has no share\n", when,
                        active.ids[k], deploy_node[i]);
                fail();
            }
    /* Nothing once there is gone: shares, active keys, used session ids. */
    for (int k = 0; k < seen_active.n; k++)
        if (!has_id(&active, seen_active.ids[k])) {
            fprintf(stderr, "%s: key %s was active and is not\n", when, seen_active.ids[k]);
            fail();
        }
    for (int i = 0; i < DEPLOY_NODES; i++) {
        for (int k = 0; k < seen_shares[i].n; k++)
            if (!has_id(&shares[i], seen_shares[i].ids[k])) {
                fprintf(stderr, "%s: %s lost its share of key %s\n", when, deploy_node[i],
                        seen_shares[i].ids[k]);
                fail();
            }
        for (int k = 0; k < seen_sids[i].n; k++)
            if (!bsearch(seen_sids[i].sids[k], sids[i].sids, (size_t)sids[i].n, 33, cmp_sid)) {
                fprintf(stderr, "%s: %s forgot a used session id\n", when, deploy_node[i]);
                fail();
            }
    }
    /* No sid is claimed by more signers than its session has parties. */
    int total = 0;
    for (int i = 0; i < DEPLOY_NODES; i++)
        total += sids[i].n;
    uint8_t(*all)[33] = malloc((size_t)(total ? total : 1) * 33);
    for (int i = 0, at = 0; i < DEPLOY_NODES; i++) {
        memcpy(all + at, sids[i].sids, (size_t)sids[i].n * 33);
        at += sids[i].n;
    }
    qsort(all, (size_t)total, 33, cmp_sid);
    for (int k = 0, run = 1; k < total; k++, run++) {
        if (k + 1 < total && memcmp(all[k], all[k + 1], 32) == 0)
            continue;
        if (run > all[k][32]) {
            fprintf(stderr, "%s: a session id is claimed by %d signers\n", when, run);
            fail();
        }
        run = 0;
    }
    free(all);
    if (total > max_sids)
        max_sids = total;
    /* Shares of keys the hub does not have active: a keygen cut short (pending). */
    int orphans = 0;
    for (int i = 0; i < DEPLOY_NODES; i++)
        for (int k = 0; k < shares[i].n; k++)
            orphans += !has_id(&active, shares[i].ids[k]);
    pending_orphans = orphans;
    free(seen_active.ids);
    seen_active = active;
    for (int i = 0; i < DEPLOY_NODES; i++) {
        free(seen_shares[i].ids);
        seen_shares[i] = shares[i];
        free(seen_sids[i].sids);
        seen_sids[i] = sids[i];
    }
    checks++;
}

/* ---- the deployment ---- */

static int group_setup(void **state)
{
    (void)state;
    deploy_init(&D, "mpc-kill-test", HUB_BIN, SIGNERD_BIN);
    deploy_up(&D);
    deploy_client *c = deploy_client_new(&D, NULL);
    int st = c ? deploy_keygen(c, keys[0].id, keys[0].pk) : -1;
    deploy_client_free(c);
    if (st != 201) {
        fprintf(stderr, "keygen: HTTP %d\n", st);
        deploy_die(&D, "keygen");
    }
    nkeys = 1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    deploy_cleanup(&D);
    for (int i = 0; i < DEPLOY_NODES; i++) {
        free(seen_shares[i].ids);
        free(seen_sids[i].sids);
    }
    free(seen_active.ids);
    return 0;
}

static pid_t *victim_pid(int v)
{
    return v == 0 ? &D.hub_pid : &D.node_pid[v - 1];
}

static void restart(int v)
{
    /* n1 talks to the swtpm directly, with no resource manager: the objects its killed
     * process had loaded stay in the TPM's few transient slots ("out of memory for object
     * contexts" after a few kills). The kernel's /dev/tpmrm0 flushes them when a process
     * dies; here the test does, as the resource manager would. */
    if (v == 1 && deploy_sh("tpm2_flushcontext --transient-object -T '%s' >/dev/null 2>&1 && "
                            "tpm2_flushcontext --loaded-session -T '%s' >/dev/null 2>&1",
                            D.tpm.tcti, D.tpm.tcti) != 0)
        fprintf(stderr, "note: tpm2_flushcontext failed\n");
    if (v == 0)
        deploy_start_hub(&D);
    else
        deploy_start_node(&D, v - 1, NULL, 0);
    for (int i = 0; i < DEPLOY_NODES; i++)
        if (deploy_wait_online(&D, i, 1) != 0) {
            deploy_dump_logs(&D);
            fail();
        }
}

static void expect_signs(deploy_client *c, int k)
{
    for (int p = 0; p < 3; p++) {
        uint8_t hash[32];
        json_t *o = NULL;
        RAND_bytes(hash, 32);
        int st = deploy_sign(c, keys[k].id, PAIR[p][0], PAIR[p][1], hash, &o);
        if (st != 200 || !deploy_sig_verifies(o, keys[k].pk, hash)) {
            char *t = o ? json_dumps(o, 0) : NULL;
            fprintf(stderr, "sign %s+%s with key %s after the kills: HTTP %d %s\n", PAIR[p][0],
                    PAIR[p][1], keys[k].id, st, t ? t : deploy_client_error(c));
            free(t);
            deploy_dump_logs(&D);
        }
        assert_int_equal(st, 200);
        assert_true(deploy_sig_verifies(o, keys[k].pk, hash));
        json_decref(o);
    }
}

static void test_kill9(void **state)
{
    (void)state;
    const char *e = getenv("MPC_KILL_ROUNDS");
    int rounds = e && atoi(e) > 0 ? atoi(e) : 3;
    e = getenv("MPC_KILL_SEED");
    unsigned seed = e ? (unsigned)strtoul(e, NULL, 10) : (unsigned)time(NULL);
    int kills[VICTIMS] = {0};
    pthread_t t[3];
    double t0 = deploy_now_ms();
    fprintf(stderr, "kill -9: %d rounds, seed %u (MPC_KILL_SEED)\n", rounds, seed);
    check_invariants("before");
    for (int k = 0; k < 3; k++)
        assert_int_equal(pthread_create(&t[k], NULL, k < 2 ? signer_run : keygen_run,
                                        (void *)(uintptr_t)(seed + (unsigned)k)),
                         0);
    for (int r = 0; r < rounds; r++)
        for (int v = 0; v < VICTIMS; v++) {
            char when[64];
            usleep(100000 + rnd(&seed, 700) * 1000);
            pid_t *pid = victim_pid(v);
            kill(*pid, SIGKILL);
            waitpid(*pid, NULL, 0);
            *pid = -1;
            kills[v]++;
            usleep(rnd(&seed, 200) * 1000);
            restart(v);
            snprintf(when, sizeof when, "round %d, after killing %s", r + 1,
                     v == 0 ? "the hub" : deploy_node[v - 1]);
            check_invariants(when);
        }
    atomic_store(&stop_stream, 1);
    for (int k = 0; k < 3; k++)
        pthread_join(t[k], NULL);
    check_invariants("after the stream");

    /* Signing resumes, and every share of an active key is (or becomes) active. */
    deploy_client *c = deploy_client_new(&D, NULL);
    assert_non_null(c);
    expect_signs(c, 0);
    if (nkeys > 1)
        expect_signs(c, nkeys - 1);
    deploy_client_free(c);
    int inactive = 0;
    for (int k = 0; k < 100; k++) {
        inactive = 0;
        for (int i = 0; i < DEPLOY_NODES; i++) {
            idset a =
                query_ids(deploy_node[i], "SELECT key_id FROM shares WHERE status = 'active'");
            for (int j = 0; j < seen_active.n; j++)
                inactive += !has_id(&a, seen_active.ids[j]);
            free(a.ids);
        }
        if (!inactive)
            break;
        usleep(100000);
    }
    check_invariants("at the end");
    fprintf(stderr,
            "kill -9: %d rounds in %.1f s: killed the hub %d, n1 %d, n2 %d, n3 %d times; "
            "%d signatures verified, %d sign requests failed, %d bad signatures; "
            "%d keys created, %d keygens failed; %d keys active at the hub, %d shares of "
            "keys not active at the hub (pending, from cut keygens); %d session ids claimed, "
            "none reused; %d invariant checks passed; %d shares of active keys not active\n",
            rounds, (deploy_now_ms() - t0) / 1e3, kills[0], kills[1], kills[2], kills[3],
            atomic_load(&signs_ok), atomic_load(&signs_failed), atomic_load(&bad_sigs),
            atomic_load(&keygens_ok), atomic_load(&keygens_failed), seen_active.n, pending_orphans,
            max_sids, checks, inactive);
    assert_int_equal(atomic_load(&bad_sigs), 0);
    assert_int_equal(inactive, 0);
    assert_true(atomic_load(&signs_ok) > 0);
}

int main(void)
{
    if (deploy_check_tools() != 0)
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
