/* Lists of problems, generated or read from JSONL (see problem_set.h). */
#include "train/problem_set.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static int add_problem(r1_problem_set *s, const r1_problem *p, r1_err *err) {
    if (s->n == s->cap) {
        long cap = s->cap ? s->cap * 2 : 64;
        r1_problem *grown = realloc(s->items, (size_t)cap * sizeof *grown);
        if (!grown) return r1_fail(err, "out of memory for %ld problems", cap);
        s->items = grown;
        s->cap = cap;
    }
    s->items[s->n++] = *p;
    return R1_OK;
}

/* The kind a task name names, or *mix for "mix" and NULL. */
static int task_kind(const char *task, r1_task_kind *kind, int *mix, r1_err *err) {
    *mix = !task || !strcmp(task, "mix");
    if (*mix || r1_task_kind_by_name(task, kind, err) == R1_OK) return R1_OK;
    return r1_fail(err, "unknown task '%s' (countdown|arithmetic|mix)", task);
}

int r1_problem_generate(const char *task, r1_task_split split, uint64_t index, uint64_t seed, r1_problem *p,
                        r1_err *err) {
    r1_task_kind kind = R1_TASK_COUNTDOWN;
    int mix;
    if (task_kind(task, &kind, &mix, err) != R1_OK) return R1_ERR;
    if (mix) kind = (r1_task_kind)(index % 2);
    if (r1_task_generate(kind, split, index, seed, p) != R1_OK)
        return r1_fail(err, "cannot generate %s problem %llu", r1_task_name(kind), (unsigned long long)index);
    return R1_OK;
}

int r1_problem_set_generate(r1_problem_set *s, const char *task, r1_task_split split, long n, uint64_t seed,
                            r1_err *err) {
    memset(s, 0, sizeof *s);
    r1_task_kind kind;
    int mix;
    if (task_kind(task, &kind, &mix, err) != R1_OK) return R1_ERR; /* a bad name fails even for n = 0 */
    for (long i = 0; i < n; i++) {
        r1_problem p;
        if (r1_problem_generate(task, split, (uint64_t)i, seed, &p, err) != R1_OK ||
            add_problem(s, &p, err) != R1_OK)
            return r1_problem_set_free(s), R1_ERR;
    }
    return R1_OK;
}

int r1_problem_set_read(r1_problem_set *s, const char *path, const char *task, long limit, r1_err *err) {
    memset(s, 0, sizeof *s);
    r1_task_kind only = R1_TASK_COUNTDOWN;
    int any;
    if (task_kind(task, &only, &any, err) != R1_OK) return R1_ERR;
    FILE *f = fopen(path, "r");
    if (!f) return r1_fail(err, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t line_cap = 0;
    long line_no = 0;
    ssize_t len;
    int rc = R1_OK;
    while (rc == R1_OK && (limit < 0 || s->n < limit) && (len = getline(&line, &line_cap, f)) >= 0) {
        line_no++;
        if (r1_jsonl_line_check(line, (size_t)len, err) != R1_OK) { /* before a blank line is skipped */
            rc = r1_fail_within(err, "%s:%ld: ", path, line_no);
            break;
        }
        /* a byte-order mark, which some editors write first, is no part of the JSON */
        const char *text = line_no == 1 && !strncmp(line, "\xEF\xBB\xBF", 3) ? line + 3 : line, *c = text;
        while (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n') c++;
        if (!*c) continue;
        r1_problem p;
        if (r1_task_parse_json_line(text, &p, err) != R1_OK) rc = r1_fail_within(err, "%s:%ld: ", path, line_no);
        else if (!any && p.kind != only)
            rc = r1_fail(err, "%s:%ld: a problem of task %s, but --task is %s", path, line_no, r1_task_name(p.kind),
                         r1_task_name(only));
        else rc = add_problem(s, &p, err);
    }
    if (rc == R1_OK && ferror(f)) /* errno from getline: EISDIR for a directory */
        rc = r1_fail(err, "error reading %s: %s", path, strerror(errno));
    if (rc == R1_OK && s->n == 0) rc = r1_fail(err, "%s holds no problems", path);
    free(line);
    fclose(f);
    if (rc != R1_OK) r1_problem_set_free(s);
    return rc;
}

void r1_problem_set_free(r1_problem_set *s) {
    free(s->items);
    memset(s, 0, sizeof *s);
}
