/* Runs every case a test file lists; `test_x NAME` runs one case. */
#include "tests/test.h"

#include <libgen.h>

int main(int argc, char **argv)
{
    const char *suite = basename(argv[0]);
    int passed = 0, failed = 0;

    for (size_t i = 0; i < test_case_count; i++) {
        const struct test_case *tc = &test_cases[i];
        if (argc > 1 && strcmp(argv[1], tc->name) != 0)
            continue;
        int rc = tc->fn();
        printf("%s %s.%s\n", rc == 0 ? "ok  " : "FAIL", suite, tc->name);
        fflush(stdout);
        if (rc == 0)
            passed++;
        else
            failed++;
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
