/* Synthetic search traces for `r1 train pretrain`: a solver works a problem out
 * loud — try, check, backtrack, then answer — so the base model has seen reasoning
 * of the shape GRPO is to sharpen (the "base model" of DESIGN §6).
 *
 * Where a trace sits in the training text: the trace is what follows the R1
 * template's generation prompt, so the full text is
 *   <｜begin▁of▁sentence｜><｜User｜>PROMPT<｜Assistant｜><think>\n TRACE <｜end▁of▁sentence｜>
 * (no space between the parts; PROMPT from r1_task_prompt). That is the
 * deepseek-r1 template of tokenizer/chat.h rendering the user turn with the
 * generation prompt, then TRACE and the end-of-sentence text appended: rendering
 * the finished conversation instead would drop the thinking, since the template
 * keeps only what follows an assistant turn's `</think>`. A trace is
 *   THINKING `</think>\n<answer>` ANSWER `</answer>`
 * where THINKING is one or more lines, each ending in '\n'. It is well-formed by
 * task.h's rule and earns reward 1 (the tests check thousands).
 *
 * Countdown (a depth-first search over the game's moves, in an order shuffled by
 * the seed; a few of the dead ends met before the solution are narrated):
 *   dead end   `Try 7 * 5 = 35, 35 - 3 = 32. Not 26.`
 *   solution   `Try 7 * 3 = 21, 21 + 5 = 26. Check: 7 * 3 + 5 = 26. Yes.`
 * and, in a wrong_share of traces, one step that goes wrong and is caught:
 *   a slip     `Try 9 * 3 = 27, 27 - 2 = 26. Check: 9 * 3 - 2 = 25, not 26.
 *               Wait, 27 - 2 = 25.`  (one line, before the solution), or
 *   a bracket  `Try 7 + 5 = 12, 12 * 2 = 24. Check: 7 + 5 * 2 = 17, not 24.
 *               Wait, it needs parentheses: (7 + 5) * 2 = 24. Yes.`
 * Operators are written + - * / with a space either side, larger operand first.
 *
 * Arithmetic: multiplication by partial products, one line per nonzero digit of
 * the second operand, then their running sum:
 *   `123 * 4 = 492, so 123 * 400 = 49200.` ... `49200 + 6150 = 55350. 55350 + 738 = 56088.`
 * a slipped partial product is caught by splitting the first operand:
 *   `123 * 4 = 482. Check: 100 * 4 = 400, 23 * 4 = 92, 400 + 92 = 492, not 482.
 *    Wait, 123 * 4 = 492, so 123 * 400 = 49200.`
 * Addition and subtraction go place by place through the second operand and are
 * checked by the inverse operation (`Check: 1023 - 678 = 345. Yes.`); a slip there
 * shows up in the check (`..., not 345. Wait, redo:`) and the steps are redone. A
 * negative difference is found as the reverse difference and negated. */
#ifndef R1_TRACES_H
#define R1_TRACES_H

#include "train/task.h"

typedef struct {
    int max_think_bytes; /* thinking length aimed at: Countdown dead ends are dropped
                            (oldest first) until it fits; the rest always stays */
    int max_dead_ends;   /* Countdown: dead ends narrated, at most (0..8) */
    double wrong_share;  /* share of traces with a caught mistake, 0..1 */
} r1_trace_config;

/* max_think_bytes 400, max_dead_ends 3, wrong_share 0.25. */
r1_trace_config r1_trace_default_config(void);

/* What a written trace holds (for statistics). */
typedef struct {
    int think_bytes; /* THINKING, up to `</think>` */
    int dead_ends;   /* Countdown dead ends narrated */
    int corrected;   /* 1 when the trace makes a mistake and corrects it */
} r1_trace_info;

/* Writes the trace for p into buf (NUL-terminated), deterministic in (p, seed, cfg).
 * Returns its length, or R1_ERR when buf is too small, the config is out of range,
 * or a Countdown target has no whole-number solution (possible only for problems
 * read from a file: the generator never makes one). info may be NULL. */
int r1_trace_write(const r1_problem *p, uint64_t seed, const r1_trace_config *cfg, char *buf, size_t size,
                   r1_trace_info *info, r1_err *err);

#endif
