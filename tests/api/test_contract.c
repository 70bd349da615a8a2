/* tests/api/test_contract.c — api/openapi.yaml and api/error.c agree: every REST error code
 * the hub can send is listed in the contract with the status the code table gives it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/error.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void test_codes_in_contract(void **state)
{
    (void)state;
    const char *yaml = slurp(OPENAPI);
    const char *desc = strstr(yaml, "                400 bad_json");
    assert_non_null(desc);
    for (int e = API_ERR_BAD_JSON; e < API_ERR_FRAME; e++) {
        char want[64];
        const char *code = api_err_code((api_err)e);
        /* listed in the enum ... */
        snprintf(want, sizeof want, " %s,", code);
        const char *hit = strstr(desc, want);
        if (!hit) {
            snprintf(want, sizeof want, " %s]", code);
            hit = strstr(desc, want);
        }
        if (!hit)
            fail_msg("error code %s is missing from openapi.yaml", code);
        /* ... and under its status in the description */
        snprintf(want, sizeof want, "%d ", api_err_http_status((api_err)e));
        const char *status = strstr(desc, want);
        const char *line_code = strstr(desc, code);
        assert_non_null(status);
        assert_true(status < line_code);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_codes_in_contract)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
