/* Errors, the SQLite way: a function that can fail returns R1_OK or R1_ERR and
 * writes one line into an r1_err saying what failed and where (file, field, offset). */
#ifndef R1_ERROR_H
#define R1_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum { R1_OK = 0, R1_ERR = -1 };

typedef struct {
    char msg[512];
} r1_err;

/* Formats the message into err (if not NULL) and returns R1_ERR, so callers can
 * write `return r1_fail(err, "gguf: %s: ...", path);`. Control bytes in the result
 * (from a file's text) become '?', so the message stays one line. */
int r1_fail(r1_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Puts the formatted text before err's message, for a caller that knows where the
 * failure happened: `return r1_fail_within(err, "%s:%ld: ", path, line);`. */
int r1_fail_within(r1_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 for the bytes a message may not hold (below 0x20, and 0x7f): r1_fail replaces
 * them, and readers of names that go into messages refuse them. */
int r1_control_byte(unsigned char b);

/* Allocation that reports failure through err instead of crashing. */
void *r1_malloc(r1_err *err, size_t bytes, const char *what);
void *r1_calloc(r1_err *err, size_t count, size_t elem, const char *what);

#endif
