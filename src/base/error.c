#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"

int r1_control_byte(unsigned char b) { return b < 0x20 || b == 0x7f; }

/* A message is one line: text from a file (a key, a name, a JSON string) can hold
 * newlines or terminal escape sequences, which become '?' here. */
static void make_one_line(char *msg) {
    for (; *msg; msg++)
        if (r1_control_byte((unsigned char)*msg)) *msg = '?';
}

int r1_fail(r1_err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        make_one_line(err->msg);
    }
    return R1_ERR;
}

int r1_fail_within(r1_err *err, const char *fmt, ...) {
    if (err) {
        char inner[sizeof err->msg];
        snprintf(inner, sizeof inner, "%s", err->msg);
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof err->msg) snprintf(err->msg + n, sizeof err->msg - (size_t)n, "%s", inner);
        make_one_line(err->msg);
    }
    return R1_ERR;
}

void *r1_malloc(r1_err *err, size_t bytes, const char *what) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) r1_fail(err, "out of memory allocating %zu bytes for %s", bytes, what);
    return p;
}

void *r1_calloc(r1_err *err, size_t count, size_t elem, const char *what) {
    void *p = calloc(count ? count : 1, elem ? elem : 1);
    if (!p) r1_fail(err, "out of memory allocating %zu x %zu bytes for %s", count, elem, what);
    return p;
}
