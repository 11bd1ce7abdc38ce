/* Traces from a model (`r1 sample`, distill's teacher phase): rollouts of a list of
 * problems (rollout.h) written as a traces file (traces_file.h), keeping every
 * sample or only the correct ones — rejection sampling (DeepSeek-R1 §2.3.3).
 *
 * The file is written as OUT.tmp and renamed to OUT once every problem is done, so
 * OUT exists only complete; an error or an interruption leaves neither file. */
#ifndef R1_SAMPLE_TRACES_H
#define R1_SAMPLE_TRACES_H

#include "base/error.h"
#include "train/rollout.h"

/* sound: correct, and for Countdown every line of the search true as well
 * (r1_countdown_first_false): a right answer reached through a slip teaches the slip. */
typedef enum { R1_SAMPLE_KEEP_ALL, R1_SAMPLE_KEEP_CORRECT, R1_SAMPLE_KEEP_SOUND } r1_sample_filter;

/* "all", "correct", "sound" */
int r1_sample_filter_by_name(const char *name, r1_sample_filter *out, r1_err *err);

/* 1 when a sample (text[0..len), after `<think>\n`) is sound in the filter's sense:
 * any sample of a task without a step checker; a Countdown search whose thinking ended
 * with every line true. Correctness is checked apart (the reward). */
int r1_sample_sound(const r1_problem *p, const char *text, size_t len);

typedef struct {
    long problems;     /* problems sampled */
    long samples;      /* completions drawn */
    long kept;         /* lines written */
    long correct;      /* samples with reward 1 */
    double seconds;
    int interrupted;   /* stopped by *rollout.interrupted: nothing written */
} r1_sample_result;

/* quiet: no progress bar (otherwise one on stderr, with the kept count). */
int r1_sample_traces(const r1_rollout_params *rollout, r1_sample_filter filter, const r1_problem *problems, long n,
                     const char *out_path, int quiet, r1_sample_result *res, r1_err *err);

#endif
