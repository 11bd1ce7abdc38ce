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
 * Arithmetic: column by column, least significant digit first, each step naming
 * its digits and the carry or borrow it takes (so each digit the model writes is
 * a one-digit fact of bytes it can see), then `So` and the result:
 *   `632 - 285: 12 - 5 = 7, 13 - 8 - 1 = 4, 6 - 2 - 1 = 3. So 347.`
 * Multiplication takes one line per nonzero digit of the second operand, each
 * added to the running sum by a column line as soon as there are two:
 *   `123 * 50: 3 * 5 = 15, 2 * 5 + 1 = 11, 1 * 5 + 1 = 6. So 6150.`
 *   `738 + 6150: 8 + 0 = 8, 3 + 5 = 8, 7 + 1 = 8, 0 + 6 = 6. So 6888.`
 * A negative difference is found as the reverse one (`47 < 285, so 47 - 285 =
 * -(285 - 47).`). The slip of a wrong_share of traces is one step off by one and
 * caught at once: `4 + 8 + 1 = 14, wait, 4 + 8 + 1 = 13`. */
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
