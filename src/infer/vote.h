/* Self-consistency (Wang et al. 2023): sample K completions of a problem and take
 * the answer most of them agree on; the scores `r1 eval` prints (DeepSeek-R1 §3.1
 * reports pass@1 and cons@64, which is maj@K here).
 *
 * Which answers count as the same (the vote key):
 *   arithmetic  the extracted answer (r1_reward.answer, already trimmed) with every
 *               run of whitespace inside it collapsed to one space: "56088" and
 *               " 56088 " are one answer, "56088" and "56,088" two. The group is
 *               correct when its key passes r1_arithmetic_check.
 *   countdown   the exact rational value of the expression with the problem's
 *               numbers (r1_countdown_eval): "7*3+5" and "5+3*7" are one answer,
 *               26. The group is correct when the value is the target.
 * A sample casts no vote when its completion is not well-formed, its answer is
 * empty, a Countdown expression is invalid (a number not given, one unused,
 * division by zero, ...), or the answer is R1_TASK_ANSWER_MAX bytes or longer (it
 * may have been cut). The majority is the key with the most votes, ties going to
 * the key voted first; with no votes at all there is no majority, which counts as
 * wrong.
 *
 * Free-form answers (`r1 run --vote`, any model). A sample's answer is its text
 * after the last `</think>` (all of it when the model never thinks: no `<think>`
 * in the text and none opened by the prompt); within that, the inside of the
 * first `<answer>`…`</answer>` when there is one (the tiny models' format), else
 * of the last `\boxed{…}` (R1's math answers), else the whole answer, which
 * counts only when the sample finished (ended with EOS, not cut off by its token
 * limit or its context). A sample whose thinking, answer tag or box never closed
 * casts no vote. When the prompt is a task problem (r1_task_parse_prompt), the
 * answer is judged and keyed by the task's rules above (a Countdown answer that
 * is no valid expression casts no vote) — taken more loosely than `r1 eval`
 * takes it, which asks for the exact format, so that any model's answers can
 * vote; otherwise the key is the answer with each run of spaces, tabs, carriage
 * returns and newlines made one space, and whether it is correct is unknown (0).
 * Empty answers and answers of R1_TASK_ANSWER_MAX bytes or more cast no vote.
 *
 * The scores over a set of problems:
 *   pass@1       the mean over problems of the fraction of its K samples that are
 *                correct: with K samples at temperature T this is the unbiased
 *                estimate of the chance that one sample is right (Chen et al. 2021,
 *                pass@k with k = 1); with K = 1 it is the plain accuracy.
 *   maj@K        the fraction of problems whose majority answer is correct.
 *   mean_length  the mean completion length in tokens over all samples (EOS not
 *                counted; R1 §2.2.4's "average length per response"). */
#ifndef R1_VOTE_H
#define R1_VOTE_H

#include <stddef.h>

#include "train/task.h"

#define R1_VOTE_KEY_MAX (R1_TASK_ANSWER_MAX + 1)

/* The vote key of one sample's reward (see above). Returns 1 and writes the
 * NUL-terminated key (and whether that answer is correct) when the sample votes,
 * 0 when it does not. */
int r1_vote_key(const r1_problem *p, const r1_reward *r, char key[R1_VOTE_KEY_MAX], int *correct);

typedef struct {
    int has_majority; /* at least one sample voted */
    int winner;       /* the first sample whose answer won; -1 without a majority */
    int votes;        /* how many samples gave that answer */
    int correct;      /* the majority answer is correct */
} r1_vote_result;

/* Majority vote over the k samples' rewards. */
void r1_vote(const r1_problem *p, const r1_reward *rewards, int k, r1_vote_result *out);

/* The vote key of a free-form completion (see above); p is the problem the prompt
 * poses, or NULL. starts_thinking: the prompt opened `<think>`; finished: the
 * completion ended with EOS. Returns 1 and writes the key (and whether the
 * answer is correct) when the sample votes, 0 when it does not. shown (may be
 * NULL) receives the answer as written, whitespace collapsed: for a Countdown
 * key, which is a value, the expression it came from. */
int r1_vote_text_key(const r1_problem *p, const char *completion, int starts_thinking, int finished,
                     char key[R1_VOTE_KEY_MAX], char shown[R1_VOTE_KEY_MAX], int *correct);

/* The same votes over any answers: key_of(ctx, i, key, correct) is sample i's
 * vote key as above (1 when it votes). */
typedef int (*r1_vote_key_fn)(const void *ctx, int i, char key[R1_VOTE_KEY_MAX], int *correct);
void r1_vote_by(r1_vote_key_fn key_of, const void *ctx, int k, r1_vote_result *out);

/* How many of the k samples give sample i's answer, when sample i is the first to
 * give it; 0 when an earlier sample gave it or sample i casts no vote. So the
 * samples with a count above 0 list each answer once. */
int r1_vote_count(r1_vote_key_fn key_of, const void *ctx, int k, int i);

/* The running scores of an evaluation. */
typedef struct {
    long problems, samples;
    double pass_sum;        /* sum over problems of (correct samples / k) */
    long majority_correct;  /* problems whose majority answer is correct */
    double token_sum;       /* completion tokens over all samples */
} r1_eval_tally;

/* Adds one problem's k samples (rewards and token counts); returns its vote. */
r1_vote_result r1_tally_add(r1_eval_tally *t, const r1_problem *p, const r1_reward *rewards, const int *n_tokens,
                            int k);
double r1_tally_pass1(const r1_eval_tally *t);      /* 0 with no problems */
double r1_tally_majority(const r1_eval_tally *t);   /* maj@K */
double r1_tally_mean_length(const r1_eval_tally *t);

#endif
