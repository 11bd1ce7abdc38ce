/* JSONL files of reasoning traces (see traces_file.h), with Jansson. */
#include "train/traces_file.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/utf8.h"
#include "train/task.h"
#include "train/vocab.h"

static const char *json_kind(const json_t *v) {
    if (!v) return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* text[0..n) (which may hold NUL bytes) contains needle */
static int holds(const char *text, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(text + i, needle, m)) return 1;
    return 0;
}

static int parse_fields(json_t *obj, r1_trace_record *rec, r1_err *err) {
    if (!json_is_object(obj)) return r1_fail(err, "expected a JSON object, got %s", json_kind(obj));
    const json_t *prompt = json_object_get(obj, "prompt"), *completion = json_object_get(obj, "completion");
    const json_t *reward = json_object_get(obj, "reward"), *task = json_object_get(obj, "task");
    if (!prompt) return r1_fail(err, "\"prompt\" is missing");
    if (!completion) return r1_fail(err, "\"completion\" is missing");
    if (!json_is_string(prompt)) return r1_fail(err, "\"prompt\" must be a string, got %s", json_kind(prompt));
    if (!json_is_string(completion))
        return r1_fail(err, "\"completion\" must be a string, got %s", json_kind(completion));
    rec->prompt = json_string_value(prompt);
    if (strlen(rec->prompt) != json_string_length(prompt)) return r1_fail(err, "\"prompt\" holds a NUL character");
    if (!rec->prompt[0]) return r1_fail(err, "\"prompt\" is empty");
    rec->completion = json_string_value(completion);
    rec->completion_len = json_string_length(completion);
    if (rec->completion_len == 0) return r1_fail(err, "\"completion\" is empty");
    /* the chat template's own markers would tokenize as themselves (an EOS in the
     * middle of a trace, a second user turn): text may not forge them */
    for (int id = R1_VOCAB_BOS; id <= R1_VOCAB_ASSISTANT; id++) {
        char marker[64];
        r1_vocab_token_text(id, marker);
        if (strstr(rec->prompt, marker)) return r1_fail(err, "\"prompt\" holds the chat template's %s", marker);
        if (holds(rec->completion, rec->completion_len, marker))
            return r1_fail(err, "\"completion\" holds the chat template's %s", marker);
    }
    rec->reward = NAN;
    if (reward) {
        if (!json_is_number(reward)) return r1_fail(err, "\"reward\" must be a number, got %s", json_kind(reward));
        rec->reward = json_number_value(reward);
    }
    rec->task = "";
    if (task) {
        if (!json_is_string(task)) return r1_fail(err, "\"task\" must be a string, got %s", json_kind(task));
        rec->task = json_string_value(task);
    }
    return R1_OK;
}

int r1_trace_record_parse(const char *line, size_t len, r1_trace_record *rec, void **owner, r1_err *err) {
    memset(rec, 0, sizeof *rec);
    *owner = NULL;
    json_error_t jerr;
    /* \u0000 is allowed so that a completion holding a NUL byte round-trips; the
     * prompt, a C string, refuses it */
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!obj) return r1_fail(err, "not valid JSON: %s (column %d)", jerr.text, jerr.column);
    if (parse_fields(obj, rec, err) != R1_OK) {
        json_decref(obj);
        memset(rec, 0, sizeof *rec);
        return R1_ERR;
    }
    *owner = obj;
    return R1_OK;
}

void r1_trace_record_release(void *owner) { json_decref(owner); }

/* FNV-1a, 64-bit */
static uint64_t hash_bytes(uint64_t h, const char *bytes, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)bytes[i]) * 0x100000001b3ull;
    return h;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

int r1_traces_file_read(const char *path,
                        int (*on_record)(void *ctx, const r1_trace_record *rec, long line_no, r1_err *err),
                        void *ctx, r1_traces_file_info *info, r1_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return r1_fail(err, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, n_records = 0;
    uint64_t hash = 0xcbf29ce484222325ull;
    long line_no = 0;
    ssize_t len;
    int rc = R1_OK;
    while ((len = getline(&line, &cap, f)) >= 0) {
        line_no++;
        hash = hash_bytes(hash, line, (size_t)len);
        if (is_blank(line, (size_t)len)) continue;
        if ((size_t)len > R1_TRACES_LINE_MAX) {
            rc = r1_fail(err, "%s:%ld: the line is %zd bytes, over the limit of %u", path, line_no, len,
                         R1_TRACES_LINE_MAX);
            break;
        }
        if (r1_jsonl_line_check(line, (size_t)len, err) != R1_OK) { /* clearer than the parser's message */
            rc = r1_fail_within(err, "%s:%ld: ", path, line_no);
            break;
        }
        r1_trace_record rec;
        void *owner;
        rc = r1_trace_record_parse(line, (size_t)len, &rec, &owner, err);
        if (rc == R1_OK) rc = on_record(ctx, &rec, line_no, err);
        r1_trace_record_release(owner);
        if (rc != R1_OK) {
            r1_fail_within(err, "%s:%ld: ", path, line_no);
            break;
        }
        n_records++;
    }
    if (rc == R1_OK && ferror(f)) /* errno from getline: EISDIR for a directory */
        rc = r1_fail(err, "error reading %s: %s", path, strerror(errno));
    if (rc == R1_OK && n_records == 0) rc = r1_fail(err, "%s holds no traces", path);
    free(line);
    fclose(f);
    if (rc == R1_OK && info) *info = (r1_traces_file_info){.n_records = n_records, .hash = hash};
    return rc;
}

/* A JSON string of text (n bytes), repaired to valid UTF-8 first when needed. */
static json_t *json_text(const char *text, size_t n) {
    if (r1_utf8_is_valid(text, n)) return json_stringn(text, n);
    char *repaired;
    size_t repaired_len;
    r1_err ignored;
    if (r1_utf8_repair(text, n, &repaired, &repaired_len, &ignored) != R1_OK) return NULL;
    json_t *s = json_stringn(repaired, repaired_len);
    free(repaired);
    return s;
}

int r1_traces_file_write(FILE *f, const r1_trace_record *rec, r1_err *err) {
    json_t *obj = json_object();
    int ok = obj && !json_object_set_new(obj, "prompt", json_text(rec->prompt, strlen(rec->prompt))) &&
             !json_object_set_new(obj, "completion", json_text(rec->completion, rec->completion_len));
    if (ok && !isnan(rec->reward)) {
        int integral = rec->reward == floor(rec->reward) && fabs(rec->reward) < 1e15;
        ok = !json_object_set_new(obj, "reward", integral ? json_integer((json_int_t)rec->reward)
                                                          : json_real(rec->reward));
    }
    if (ok && rec->task && rec->task[0])
        ok = !json_object_set_new(obj, "task", json_text(rec->task, strlen(rec->task)));
    /* %.6g reals: rewards are 0.1, not 0.10000000149011612 */
    char *text = ok ? json_dumps(obj, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(obj);
    if (!text) return r1_fail(err, "traces: out of memory writing a trace");
    ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    free(text);
    return ok ? R1_OK : r1_fail(err, "traces: write failed: %s", strerror(errno));
}
