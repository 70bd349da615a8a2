/* tests/ctl/run.h — runs mpcctl's ctl_main in-process with its output captured, for the
 * unit tests (argument parsing, exit codes, output). Include after <cmocka.h>. */
#ifndef TEST_CTL_RUN_H
#define TEST_CTL_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

typedef struct {
    int rc;
    char *out, *err; /* NUL-terminated, freed by run_free */
    size_t out_len, err_len;
} ctl_run;

/* Runs "mpcctl a1 a2 ... NULL"; the result must be freed with ctl_run_free. */
static inline void ctl_run_args(ctl_run *r, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, r);
    argv[argc++] = (char *)"mpcctl";
    for (char *a; argc < 63 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    FILE *out = open_memstream(&r->out, &r->out_len), *err = open_memstream(&r->err, &r->err_len);
    ctl_ctx c;
    ctl_ctx_init(&c, out, err);
    r->rc = ctl_main(&c, argc, argv);
    ctl_ctx_free(&c);
    fclose(out);
    fclose(err);
}

static inline void ctl_run_free(ctl_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Asserts the run's exit code rc and, if needle, needle in its stdout (rc 0) or stderr (else);
 * if never, that neither shows never. Prints the run when rc or needle differ. Frees r. */
static inline void ctl_run_expect(ctl_run *r, int rc, const char *needle, const char *never)
{
    const char *text = rc == 0 ? r->out : r->err;
    if (r->rc != rc || (needle && !strstr(text, needle)))
        fprintf(stderr, "expected rc %d and '%s'\nrc %d\nout: %s\nerr: %s\n", rc,
                needle ? needle : "", r->rc, r->out, r->err);
    assert_int_equal(r->rc, rc);
    if (needle)
        assert_non_null(strstr(text, needle));
    if (never) {
        assert_null(strstr(r->out, never));
        assert_null(strstr(r->err, never));
    }
    ctl_run_free(r);
}

#endif
