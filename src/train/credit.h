/* Credit assignment for `r1 train grpo`: which tokens of a sampled completion
 * carry its group-normalised advantage A.
 *
 *   outcome  every token (R1-Zero, DeepSeekMath §4.1.2 outcome supervision: the
 *            answer's reward is the only signal)
 *   steps    a Countdown search is checkable line by line (countdown_steps.c), so
 *            the signal can name the step that went wrong. A wrong answer's A goes
 *            to its first false step only: from the false part to the end of its
 *            line; when every line is true but the thinking ended without the
 *            need met, or with a wrong answer written after `Yes.`, to the end
 *            (`</think>` onwards); when every line written is true but the
 *            completion was cut off, to every token. A right answer's A goes to
 *            every token but its first false step's, if it has one: a false step
 *            is never rewarded. Arithmetic completions keep outcome credit.
 *
 * steps is a departure from R1-Zero's outcome-only reward: a rule-checked process
 * signal (as process supervision, DeepSeekMath §4.1.3, but from a rule instead of
 * a learned reward model). It answers what outcome credit does on these traces,
 * where the correct samples are the short ones: there a wrong sample's advantage
 * pushes down every one of its true search lines, and the update mostly says "be
 * shorter" (RESULTS.md). */
#ifndef R1_CREDIT_H
#define R1_CREDIT_H

#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "train/task.h"

typedef enum { R1_CREDIT_OUTCOME, R1_CREDIT_STEPS } r1_credit;

/* What the check of one completion found. */
typedef struct {
    int checked;     /* 1 when the completion's steps were checked (Countdown) */
    int false_step;  /* checked, and a false step was found */
} r1_credit_check;

/* Fills per_token[0..n_tokens) with the share of advantage each of tokens (the
 * completion's ids, EOS included when drawn) carries under credit, for a sample
 * whose answer is correct or not; *check (may be NULL) receives what the check
 * found (made under either credit, for the run's statistics). */
int r1_credit_assign(r1_credit credit, const r1_tokenizer *tok, const r1_problem *p, const int *tokens,
                     int n_tokens, int correct, float advantage, float *per_token, r1_credit_check *check,
                     r1_err *err);

#endif
