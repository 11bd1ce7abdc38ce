/* A minimal test harness: each tests/test_*.c is one program made of TEST()
 * functions. It prints one line per test and a closing `N passed, N failed, N skipped`
 * line; tests/run.sh adds the programs' counts up. */
#ifndef R1_TEST_H
#define R1_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int failed;   /* set by CHECK */
    int skipped;  /* set by SKIP */
} test_ctx;

typedef void (*test_fn)(test_ctx *t);

/* A failing CHECK marks the test failed, prints where and why, and returns from it. */
#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                              \
            printf("\n");                                                     \
            t->failed = 1;                                                    \
            return;                                                           \
        }                                                                     \
    } while (0)

#define SKIP(...)                       \
    do {                                \
        printf("  skipped: ");          \
        printf(__VA_ARGS__);            \
        printf("\n");                   \
        t->skipped = 1;                 \
        return;                         \
    } while (0)

typedef struct {
    test_fn fn;
    const char *name;
} test_entry;

static inline int test_main(const char *suite, const test_entry *tests, int count) {
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < count; i++) {
        test_ctx t = {tests[i].name, 0, 0};
        tests[i].fn(&t);
        if (t.failed) failed++;
        else if (t.skipped) skipped++;
        else passed++;
        printf("%s %s/%s\n", t.failed ? "FAIL" : t.skipped ? "SKIPPED" : "ok  ", suite, tests[i].name);
        fflush(stdout);
    }
    printf("%s: %d passed, %d failed, %d skipped\n", suite, passed, failed, skipped);
    return failed ? 1 : 0;
}

/* Where ../shared/testdata is; NULL (tests print SKIPPED) when it is absent. */
static inline const char *testdata_dir(void) {
    static char path[4096];
    const char *env = getenv("R1_TESTDATA");
    if (!env) env = "../shared/testdata";
    snprintf(path, sizeof path, "%s/README.md", env);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fclose(f);
    snprintf(path, sizeof path, "%s", env);
    return path;
}

/* TEST_MAIN("suite", T(test_a), T(test_b)) defines main() running those tests. */
#define T(fn) {fn, #fn}
#define TEST_MAIN(suite, ...)                                                        \
    int main(void) {                                                                 \
        static const test_entry tests[] = {__VA_ARGS__};                             \
        return test_main(suite, tests, (int)(sizeof tests / sizeof tests[0]));       \
    }

#endif
