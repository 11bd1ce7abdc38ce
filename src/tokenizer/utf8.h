/* UTF-8: strict validation, repair of invalid input, and a streaming decoder that
 * holds back characters cut between two chunks.
 *
 * "Valid" is Unicode's definition (Table 3-7 of the Unicode Standard, §3.9): no
 * overlong forms, no surrogates (U+D800..DFFF), nothing above U+10FFFF. An invalid
 * stretch is replaced by U+FFFD once per "maximal subpart" (§3.9, "U+FFFD
 * Substitution of Maximal Subparts"), which is what Python's errors="replace", Rust's
 * from_utf8_lossy and the WHATWG TextDecoder do, so r1's repairs match theirs. */
#ifndef R1_UTF8_H
#define R1_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum {
    R1_UTF8_OK = 0,         /* *len bytes form one character, *cp */
    R1_UTF8_INVALID = 1,    /* the first *len bytes are a maximal invalid subpart */
    R1_UTF8_INCOMPLETE = 2  /* all n bytes are a valid start of a longer character */
};

/* Classifies the character starting at p[0] (n >= 1). */
int r1_utf8_next(const unsigned char *p, size_t n, size_t *len, uint32_t *cp);

/* Writes cp (<= 0x10FFFF, not a surrogate) as 1..4 bytes; returns the count. */
size_t r1_utf8_encode(uint32_t cp, char out[4]);

/* 1 when s[0..n) is valid UTF-8 as a whole. */
int r1_utf8_is_valid(const char *s, size_t n);

/* Copies s[0..n) with every invalid stretch (a truncated character at the end
 * included) replaced by U+FFFD. *out is malloc'd and NUL-terminated. */
int r1_utf8_repair(const char *s, size_t n, char **out, size_t *out_len, r1_err *err);

/* Streaming decoder: push chunks of bytes, get back the longest prefix that is made
 * of complete characters; a character cut at the end of a chunk waits for the next.
 * What comes out is always valid UTF-8 (invalid bytes become U+FFFD). */
typedef struct {
    unsigned char pending[4]; /* start of a character still incomplete */
    size_t n_pending;
    char *buf;                /* output of the last push/flush */
    size_t cap;
} r1_utf8_stream;

void r1_utf8_stream_init(r1_utf8_stream *s);
/* *out stays valid until the next push/flush/free. */
int r1_utf8_stream_push(r1_utf8_stream *s, const char *bytes, size_t n, const char **out, size_t *out_len,
                        r1_err *err);
/* Ends the stream: a dangling incomplete character becomes one U+FFFD. */
void r1_utf8_stream_flush(r1_utf8_stream *s, const char **out, size_t *out_len);
void r1_utf8_stream_free(r1_utf8_stream *s);

#endif
