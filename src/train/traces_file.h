/* Files of reasoning traces (JSONL): what `r1 sample` writes and `r1 train sft`
 * (and distill) train on. One JSON object a line:
 *
 *   {"prompt": "Using the numbers 7, 3, 5, make 26.", "completion": "7 * 3 = 21 ...
 *    </think>\n<answer>7 * 3 + 5</answer>", "reward": 1, "task": "countdown"}
 *
 *   prompt      string, required: the user's message, without any template (the
 *               trainer applies the deepseek-r1 chat template, data.h); no NUL
 *   completion  string, required, not empty: the model's text after the template's
 *               generation prompt `<｜Assistant｜><think>\n`: the rest of the thinking,
 *               `</think>`, the answer; without the end-of-sentence token (the
 *               trainer appends it)
 *   reward      number, optional: the task's rule-based reward (task.h)
 *   task        string, optional: "countdown", "arithmetic", ...
 * Other fields are ignored; blank lines are skipped; a key given twice, invalid
 * JSON, invalid UTF-8 or a raw NUL byte is an error naming the file and line. */
#ifndef R1_TRACES_FILE_H
#define R1_TRACES_FILE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

#define R1_TRACES_LINE_MAX (4u << 20) /* bytes in one line: far beyond any trace */

typedef struct {
    const char *prompt;      /* NUL-terminated */
    const char *completion;  /* completion_len bytes (may hold \u0000 as a NUL byte), NUL-terminated */
    size_t completion_len;
    double reward;           /* NAN when absent */
    const char *task;        /* "" when absent */
} r1_trace_record;

/* Parses one line (len bytes) into *rec; rec's strings live in *owner (a Jansson
 * object) until r1_trace_record_release(owner). The error names the field. */
int r1_trace_record_parse(const char *line, size_t len, r1_trace_record *rec, void **owner, r1_err *err);
void r1_trace_record_release(void *owner);

/* What a read saw: the records, and an FNV-1a hash of every byte of the file, by
 * which a resumed run knows the file has not changed. */
typedef struct {
    size_t n_records;
    uint64_t hash;
} r1_traces_file_info;

/* Calls on_record for each record of path, in order, with its line number. Errors
 * (the file's, or on_record's) come back as "PATH:LINE: message". A file with no
 * record fails. info may be NULL. */
int r1_traces_file_read(const char *path,
                        int (*on_record)(void *ctx, const r1_trace_record *rec, long line_no, r1_err *err),
                        void *ctx, r1_traces_file_info *info, r1_err *err);

/* Writes rec as one line (keys in the order above; reward and task left out when
 * absent; an integral reward as an integer, 1 rather than 1.0). Invalid UTF-8 in
 * the texts is written as U+FFFD, since a JSON text must be valid UTF-8. */
int r1_traces_file_write(FILE *f, const r1_trace_record *rec, r1_err *err);

#endif
