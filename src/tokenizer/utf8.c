/* UTF-8 validation, repair and streaming (see utf8.h). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/utf8.h"

static const char replacement[3] = {(char)0xEF, (char)0xBF, (char)0xBD}; /* U+FFFD */

/* Unicode Table 3-7: the lead byte fixes the length and the range of the second
 * byte (which excludes overlongs, surrogates and values past U+10FFFF); the other
 * continuation bytes are 80..BF. */
int r1_utf8_next(const unsigned char *p, size_t n, size_t *len, uint32_t *cp) {
    unsigned char b0 = p[0];
    if (b0 < 0x80) {
        *len = 1;
        *cp = b0;
        return R1_UTF8_OK;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    uint32_t value;
    if (b0 >= 0xC2 && b0 <= 0xDF) need = 2, value = b0 & 0x1F;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3, value = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4, value = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        *len = 1; /* 80..C1, F5..FF never start a character */
        return R1_UTF8_INVALID;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n) {
            *len = n;
            return R1_UTF8_INCOMPLETE;
        }
        unsigned char b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) {
            *len = i;
            return R1_UTF8_INVALID;
        }
        value = value << 6 | (b & 0x3F);
    }
    *len = need;
    *cp = value;
    return R1_UTF8_OK;
}

size_t r1_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int r1_utf8_is_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (r1_utf8_next(p + i, n - i, &len, &cp) != R1_UTF8_OK) return 0;
        i += len;
    }
    return 1;
}

/* Decodes in[0..n) into out (room for 3n bytes): valid characters are copied,
 * invalid subparts become U+FFFD. With keep_tail, an incomplete character at the
 * end is not decoded: its length is returned and it stays for the caller. */
static size_t decode_lossy(const unsigned char *in, size_t n, char *out, size_t *out_len, int keep_tail) {
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] < 0x80) {
            out[o++] = (char)in[i++];
            continue;
        }
        size_t len;
        uint32_t cp;
        int kind = r1_utf8_next(in + i, n - i, &len, &cp);
        if (kind == R1_UTF8_OK) {
            memcpy(out + o, in + i, len);
            o += len;
        } else if (kind == R1_UTF8_INCOMPLETE && keep_tail) {
            *out_len = o;
            return n - i;
        } else {
            memcpy(out + o, replacement, 3);
            o += 3;
        }
        i += len;
    }
    *out_len = o;
    return 0;
}

int r1_utf8_repair(const char *s, size_t n, char **out, size_t *out_len, r1_err *err) {
    if (n > (SIZE_MAX - 1) / 3) return r1_fail(err, "utf8: text of %zu bytes is too long", n);
    char *buf = r1_malloc(err, 3 * n + 1, "repaired text");
    if (!buf) return R1_ERR;
    decode_lossy((const unsigned char *)s, n, buf, out_len, 0);
    buf[*out_len] = 0;
    *out = buf;
    return R1_OK;
}

void r1_utf8_stream_init(r1_utf8_stream *s) { memset(s, 0, sizeof *s); }

/* The buffer holds the joined input (pending + chunk) followed by the output. */
static int stream_reserve(r1_utf8_stream *s, size_t total, r1_err *err) {
    if (total > (SIZE_MAX - 8) / 4) return r1_fail(err, "utf8: chunk of %zu bytes is too long", total);
    size_t need = 4 * total + 8;
    if (need <= s->cap) return R1_OK;
    char *grown = realloc(s->buf, need);
    if (!grown) return r1_fail(err, "out of memory allocating %zu bytes for the UTF-8 stream", need);
    s->buf = grown;
    s->cap = need;
    return R1_OK;
}

int r1_utf8_stream_push(r1_utf8_stream *s, const char *bytes, size_t n, const char **out, size_t *out_len,
                        r1_err *err) {
    size_t total = s->n_pending + n;
    if (stream_reserve(s, total, err) != R1_OK) return R1_ERR;
    unsigned char *joined = (unsigned char *)s->buf;
    memcpy(joined, s->pending, s->n_pending);
    if (n) memcpy(joined + s->n_pending, bytes, n);
    char *dst = s->buf + total + 4;
    size_t tail = decode_lossy(joined, total, dst, out_len, 1);
    memcpy(s->pending, joined + total - tail, tail); /* tail < 4: a character has at most 4 bytes */
    s->n_pending = tail;
    *out = dst;
    return R1_OK;
}

void r1_utf8_stream_flush(r1_utf8_stream *s, const char **out, size_t *out_len) {
    static const char none[1] = "";
    if (s->n_pending == 0) {
        *out = none;
        *out_len = 0;
        return;
    }
    s->n_pending = 0;
    *out = replacement;
    *out_len = 3;
}

void r1_utf8_stream_free(r1_utf8_stream *s) {
    free(s->buf);
    memset(s, 0, sizeof *s);
}
