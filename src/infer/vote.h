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
