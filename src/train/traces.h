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
 * Countdown works back from the target: take one number z, say what the others
 * must make, and check that smaller problem the same way, down to two numbers
 * whose possible results are written out and compared. Every line, failed or not,
 * is told in the order the search meets it (the nearest number first):
 *   `67 - 30 = 37, 37 from 63, 34: 63 - 34 = 29. No.`
 *   `67 - 63 = 4, 4 from 34, 30: 34 + 30 = 64, 34 - 30 = 4. Yes.`
 * and with four numbers the rest of three is worked on indented lines:
 *   `51 - 48 = 3, 3 from 65, 25, 93:`
 *   ` 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90. Yes.`
 * The ways z and the rest's value R make the need N, in the order tried:
 * R = N - z or z - N, N / z, N + z, z / N, N * z. Two numbers a >= b reach R above
 * a by a + b or (b one digit) a * b, below a by a - b or (exact) a / b. When the
 * search is too long for max_think_bytes, its oldest failed branches are dropped.
 * In a wrong_share of traces one computation is off by one and caught at once:
 * `67 - 30 = 36, wait, 67 - 30 = 37`, never landing on the value it is compared
 * with, so a slip never looks like a solution.
 * A hasty_share of Countdown traces is written by a hasty solver: it tells the
 * search only up to its k-th failed two-number line, k drawn evenly from
 * 1..hasty_lines (by default the first or the second), then stops and guesses every
 * number added (`</think>\n<answer>65 + 25 + 93 + 48</answer>`), a wrong answer
 * unless the sum happens to be the target; a search that succeeds by then is told
 * whole. With hasty_lines 0 it does not search at all: its thinking is empty and it
 * guesses. Such a corpus mixes careful and hasty solvers, as R1-Zero's base model
 * mixed long and short reasoning, so RL has a longer search to find worth its
 * length (RESULTS.md).
 * With marked_rest, a line's rest is not the list in view with z left out but the
 * problem's whole list, each number taken so far followed by `used`, so that each
 * list is a copy of the one above with one number marked. The mark comes after the
 * number: a tiny model that must decide before a number whether to leave it out
 * confuses numbers with the same first digit (RESULTS.md, "Marking the numbers
 * used"), while after it the whole number is in view. It did not help: the model
 * then marks the wrong number instead, and 6000 steps with marks solved as many
 * problems as without (49.0 % against 49.5 %); the default stays plain.
 *   `51 - 48 = 3, 3 from 65, 25, 93, 48 used:`
 *   ` 93 - 3 = 90, 90 from 65, 25, 93 used, 48 used: 65 + 25 = 90. Yes.`
 * Four more options test why the default's searches mostly end in a `Yes.` after
 * results none of which is the need (RESULTS.md, "Why the careful base stops
 * there"); none made a better model, and the default leaves all four off.
 * With compare, each result of a pair is followed by ` vs ` and the need, so that
 * the verdict could compare two numbers side by side:
 *   `4 from 34, 30: 34 + 30 = 64 vs 4, 34 - 30 = 4 vs 4. Yes.`
 * The model then wrote `98 vs 131. Yes.` as often, and solved fewer problems.
 * With slip_on_hit 0, the slip never falls on the result that meets the need (the
 * default sometimes writes `65 + 25 = 91, wait, 65 + 25 = 90. Yes.`, pairing a
 * result one off the need with a coming `Yes.`); it falls on one of the other
 * computations, so as many traces carry one. The near-miss `Yes.` stayed.
 * With give_up, a search too long for the budget (or for max_dead_ends) is told
 * from its start, line by line while it fits, and then the solver guesses as the
 * hasty one does, instead of dropping the oldest failed branches so that every
 * trace finds the need within the budget. That removes the `Yes.` a model says at
 * the budget's end whatever its results, but also the long searches it solved by
 * starting where a cut trace starts.
 * With difference, each result of a pair is followed by its distance from the need,
 * larger minus smaller, so that the verdict reads one digit (`Yes.` after `= 0`)
 * instead of comparing two numbers, which the default does badly: it says `Yes.`
 * after one failed pair line in five, and with compare after `98 vs 131`. The
 * tiny model subtracts two-digit numbers well (97.7 % of the default's `-` lines
 * are right). Lines grow by a fifth, so max_think_bytes 520 fits about as many:
 *   `19 from 3, 5: 5 + 3 = 8, 19 - 8 = 11, 5 * 3 = 15, 19 - 15 = 4. No.`
 * The false `Yes.` fell by three quarters and the searches that miss now run out
 * of room instead, but no more problems were solved (RESULTS.md).
 * With remainders, the need's divisions that fail (by a free number below it) are
 * tried too, in the place an exact one would take, and ruled out by their remainder:
 *   `73 / 7 = 10 r 3. No.`
 * The default writes `N / z` only when z divides N, so the model must know that
 * before it writes the line; it does not, and goes on from a quotient it makes up
 * (`73 / 7 = 12`), the end of a fifth to a third of its wrong answers. Few searches
 * reach these lines before the need is met: they cost 5 of 667 whole searches that
 * fit 400 bytes on the first 1000 held-out problems. These lines are not counted as
 * failed branches (max_dead_ends) but are dropped with the oldest lines, and GRPO's
 * backtrack count (grpo.h) counts their `. No.` as any other. Trained on them, the
 * model ended on a made-up quotient less often but got only 27 of the 264
 * remainders it wrote right, and solved no more problems (RESULTS.md).
 * With multiply_back, the same divisions that fail are told instead with their
 * quotient multiplied back by the divisor, larger first as a pair's product is
 * written, and every exact division of a need is checked the same way before its
 * rest is searched:
 *   `73 / 7 = 10, 10 * 7 = 70. No.`
 *   `72 / 8 = 9, 9 * 8 = 72, 9 from 3, 5: 5 + 3 = 8, 5 * 3 = 15. No.`
 * A remainder needs the quotient first; a product needs only multiplication,
 * which the model does well, so a made-up quotient (`73 / 7 = 12, 12 * 7 = 84`)
 * is exposed by a step the model can take. The failed lines are counted and
 * dropped as remainder lines are. Trained on them, the model got its products
 * right but went on or stopped regardless of them (`91 / 12 = 7, 12 * 7 = 84, 7
 * from`), and solved no more problems (RESULTS.md).
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
    int max_think_bytes; /* thinking length aimed at: Countdown failed branches are
                            dropped (oldest first) until it fits */
    int max_dead_ends;   /* Countdown: failed branches told, at most (0..8; the
                            oldest are dropped) */
    double wrong_share;  /* share of traces with a caught mistake, 0..1 */
    double hasty_share;  /* Countdown: share of traces by a hasty solver (above), 0..1 */
    int hasty_lines;     /* Countdown: a hasty solver tells 1..hasty_lines failed lines
                            (drawn evenly) before it guesses; 0 guesses at once,
                            with no search at all (0..8) */
    int marked_rest;     /* Countdown: 1 writes each rest as the whole list with the
                            numbers taken marked `used` (above), 0 leaves them out */
    int compare;         /* Countdown: 1 follows each result of a pair with ` vs ` and
                            the need (above), 0 writes the result alone */
    int slip_on_hit;     /* Countdown: 1 lets the slip fall on the result that meets
                            the need (above); 0 keeps it to the other computations */
    int give_up;         /* Countdown: 1 tells a search too long for the budget from
                            its start and guesses (above); 0 drops its oldest branches */
    int difference;      /* Countdown: 1 follows each result of a pair with its distance
                            from the need (above), 0 writes the result alone */
    int remainders;      /* Countdown: 1 also tells the need's divisions that fail, with
                            their remainder (above); 0 only the exact ones */
    int multiply_back;   /* Countdown: 1 checks each division of a need by multiplying
                            back and tells those that fail so (above); 0 does not.
                            At most one of remainders and multiply_back is 1. */
} r1_trace_config;

/* max_think_bytes 400, max_dead_ends 8, wrong_share 0.25, hasty_share 0, hasty_lines 2,
 * marked_rest 0, compare 0, slip_on_hit 1, give_up 0, difference 0, remainders 0,
 * multiply_back 0. */
r1_trace_config r1_trace_default_config(void);
/* Checks every field's range (above); the message names the field as a training
 * run's config.txt does (`trace_hasty_share`). */
int r1_trace_config_check(const r1_trace_config *cfg, r1_err *err);

/* What a written trace holds (for statistics). */
typedef struct {
    int think_bytes; /* THINKING, up to `</think>` */
    int dead_ends;   /* Countdown failed branches told */
    int corrected;   /* 1 when the trace makes a mistake and corrects it */
    int hasty;       /* 1 when a hasty solver gave up and guessed (a wrong trace) */
} r1_trace_info;

/* r1_trace_write's result for a Countdown problem whose every whole-number
 * solution pairs the four numbers two and two, `(a + b) * (c - d)` (about one in
 * eight 4-number problems; pretraining draws another problem instead). */
#define R1_TRACE_UNTOLD (-2)

/* Writes the trace for p into buf (NUL-terminated), deterministic in (p, seed, cfg).
 * Returns its length; R1_TRACE_UNTOLD as above; or R1_ERR when buf is too small,
 * the config is out of range, or a Countdown target has no whole-number solution
 * (possible only for problems read from a file: the generator never makes one).
 * info may be NULL. */
int r1_trace_write(const r1_problem *p, uint64_t seed, const r1_trace_config *cfg, char *buf, size_t size,
                   r1_trace_info *info, r1_err *err);

#endif
