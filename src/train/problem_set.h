/* A list of task problems to pose (`r1 eval`, `r1 sample`, distill, grpo): the first n of
 * a generator split (task.h), or the problems of a JSONL file in the format of
 * r1_task_parse_json_line. */
#ifndef R1_PROBLEM_SET_H
#define R1_PROBLEM_SET_H

#include <stdint.h>

#include "base/error.h"
#include "train/task.h"

typedef struct {
    r1_problem *items; /* (n) */
    long n, cap;
} r1_problem_set;

/* Problem `index` of the split with seed. task: "countdown", "arithmetic", or
 * "mix" (or NULL): both in turn, problem i of kind i % 2 (Countdown first). */
int r1_problem_generate(const char *task, r1_task_split split, uint64_t index, uint64_t seed, r1_problem *p,
                        r1_err *err);

/* Problems 0..n-1 of the split with seed (r1_problem_generate). */
int r1_problem_set_generate(r1_problem_set *s, const char *task, r1_task_split split, long n, uint64_t seed,
                            r1_err *err);

/* The first limit (< 0: all) problems of a JSONL file; blank lines are skipped.
 * task: every problem must be of this kind (NULL or "mix": any). Errors name the
 * file and line; a NUL byte in a line, or a file with no problem, fails. */
int r1_problem_set_read(r1_problem_set *s, const char *path, const char *task, long limit, r1_err *err);

void r1_problem_set_free(r1_problem_set *s);

#endif
