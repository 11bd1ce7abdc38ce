/* Tasks with rule-based rewards (DESIGN §6): Countdown and multi-digit arithmetic.
 * A problem is generated from (kind, split, index, seed), posed with a fixed prompt,
 * read back from a JSON line (`r1 eval --file`), and a model's completion is scored
 * by rules alone, with no model in the loop.
 *
 * Prompts (exact text, DESIGN §6):
 *   countdown   `Using the numbers 7, 3, 5, make 26.`   (3 or 4 numbers, 1..99;
 *                                                         target 1..100)
 *   arithmetic  `What is 123 * 456?`                     (operator + - or *)
 *
 * Determinism: generation uses only the integer PRNG below (splitmix64), never
 * rand() or floating point, so a (kind, split, index, seed) gives the same problem
 * on every platform. Different indices may give the same problem (the problem space
 * is finite and sampled with replacement).
 *
 * Splits: a problem's split is a fixed hash of its canonical form, independent of
 * the seed, and the generator skips candidates of the other split, so train and
 * test are disjoint for any seeds. The canonical form is
 *   countdown   the sorted multiset of numbers (the target is left out, so a test
 *               problem's numbers never appear in training with any target),
 *   arithmetic  the operator and the operands, sorted for + and *.
 * One problem in R1_TASK_TEST_ONE_IN is a test problem.
 *
 * Completion format ("well-formed"), the text the model writes after the prompt:
 *   [ws] [`<think>`] THINK `</think>` [ws] `<answer>` ANSWER `</answer>` [ws] <end>
 * where ws is any run of ' ', '\t', '\n', '\r'. The opening `<think>` may be
 * absent because R1's chat template already ends with `<think>\n`, so the model
 * starts inside its thinking; both forms are accepted. THINK and ANSWER may be
 * empty but must not contain any of the four tags, so there is exactly one
 * thinking block and one answer, in that order, and nothing after the answer. The
 * completion is the detokenized text without the end-of-sequence token.
 *
 * Reward: 1 when well-formed and the answer is correct, R1_REWARD_FORMAT (0.1) when
 * well-formed and wrong, 0 when not well-formed (DeepSeek-R1 §2.2.2: accuracy plus
 * format reward). What "correct" means per task is defined in countdown.c and
 * arithmetic.c (summarised at r1_countdown_eval and r1_arithmetic_check). */
#ifndef R1_TASK_H
#define R1_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum { R1_TASK_COUNTDOWN, R1_TASK_ARITHMETIC, R1_TASK_KIND_COUNT } r1_task_kind;
typedef enum { R1_SPLIT_TRAIN, R1_SPLIT_TEST } r1_task_split;

#define R1_TASK_TEST_ONE_IN 10
#define R1_COUNTDOWN_MAX_NUMBERS 4
#define R1_ARITHMETIC_MAX_OPERAND 999999999 /* from JSON; products stay in int64 */
#define R1_TASK_ANSWER_MAX 128              /* longer answers are wrong */
#define R1_REWARD_CORRECT 1.0f
#define R1_REWARD_FORMAT 0.1f

typedef struct {
    r1_task_kind kind;
    /* countdown */
    int numbers[R1_COUNTDOWN_MAX_NUMBERS]; /* (n_numbers) 1..99, in prompt order */
    int n_numbers;                         /* 3 or 4 */
    int target;                            /* 1..100, reachable from the numbers */
    /* arithmetic: lhs op rhs, or the chain (lhs op rhs) op2 third */
    int64_t lhs, rhs; /* 0..R1_ARITHMETIC_MAX_OPERAND */
    char op;          /* '+', '-' or '*' */
    char op2;         /* 0 (no chain), '+' or '-' */
    int64_t third;    /* 0..R1_ARITHMETIC_MAX_OPERAND when op2 */
    char answer[24];  /* the exact expected answer: decimal, '-' when negative */
} r1_problem;

/* What r1_task_reward found in a completion. */
typedef struct {
    float reward;                         /* 1, R1_REWARD_FORMAT or 0 */
    int well_formed;                      /* the format rule above holds */
    int correct;                          /* well-formed and the answer is right */
    char answer[R1_TASK_ANSWER_MAX + 1];  /* ANSWER with surrounding whitespace
                                             trimmed (cut at R1_TASK_ANSWER_MAX);
                                             "" when not well-formed */
} r1_reward;

/* A well-formed completion's two parts, pointing into the completion. */
typedef struct {
    const char *think;  /* THINK, think_len bytes */
    size_t think_len;
    const char *answer; /* ANSWER untrimmed, answer_len bytes */
    size_t answer_len;
} r1_completion;

/* ---- the common interface (task.c) ---- */

/* "countdown", "arithmetic"; "unknown" out of range. */
const char *r1_task_name(r1_task_kind kind);
int r1_task_kind_by_name(const char *name, r1_task_kind *out, r1_err *err);

/* The index-th problem of a split. Deterministic in (kind, split, index, seed);
 * fails only for a kind or split out of range. */
int r1_task_generate(r1_task_kind kind, r1_task_split split, uint64_t index, uint64_t seed, r1_problem *out);

/* The split a problem belongs to (the hash of its canonical form, see above). */
r1_task_split r1_task_split_of(const r1_problem *p);

/* Writes the DESIGN §6 prompt, NUL-terminated. Returns its length, or R1_ERR when
 * it does not fit in size bytes. */
int r1_task_prompt(const r1_problem *p, char *buf, size_t size);

/* One line of an `r1 eval --file` JSONL file:
 *   {"numbers": [7, 3, 5], "target": 26}                     countdown
 *   {"question": "What is 123 * 456?", "answer": "56088"}    arithmetic
 * The fields present choose the task; other fields are ignored. Countdown numbers
 * must be 3 or 4 integers in 1..99 and the target an integer in 1..100 that the
 * numbers can reach (by the answer rules of countdown.c). The question must read
 * `What is A op B?` (op one of + - * ×, A and B integers 0..999999999), or the
 * chain `What is A op B op2 C?` (op2 + or -, read left to right), and the
 * answer (a string, or an integer) must be its value. The error says which field is
 * wrong and how; the caller adds the file name and line number. */
int r1_task_parse_json_line(const char *line, r1_problem *out, r1_err *err);

/* 1 when text, without surrounding whitespace, is one of the task prompts of
 * DESIGN §6, filling *out; else 0. A Countdown prompt must be exactly as
 * r1_task_prompt writes it (`Using the numbers 7, 3, 5, make 26.`: 3 or 4 numbers
 * 1..99, a target 1..100, reachable or not); an arithmetic one is read as the
 * JSONL question above (`What is 48+75?`, extra spaces and × allowed). What `r1
 * run --vote` uses to judge a typed-in problem by the task's rules. */
int r1_task_parse_prompt(const char *text, r1_problem *out);

/* R1_OK when a JSONL line of len bytes holds no raw NUL byte, which is never JSON
 * (a NUL inside a string is written \u0000) and would end a C string early; else
 * the error names its column (the caller adds the file name and line number). */
int r1_jsonl_line_check(const char *line, size_t len, r1_err *err);

/* 1 when completion is well-formed (the rule above), filling parts. */
int r1_task_parse_completion(const char *completion, r1_completion *parts);

/* Scores a completion; out (may be NULL) receives the details. */
float r1_task_reward(const r1_problem *p, const char *completion, r1_reward *out);

/* The reward rule: 1 when correct, format_reward when only well-formed, else 0
 * (r1_task_reward pays R1_REWARD_FORMAT; `r1 train grpo --format-reward` another). */
float r1_reward_value(const r1_reward *r, float format_reward);

/* ---- countdown (countdown.c) ---- */

/* An expression being built: its text and the precedence of its top operator
 * (1 for + -, 2 for * /, 3 for a number), so joins add only needed parentheses. */
#define R1_COUNTDOWN_EXPR_MAX 64
typedef struct {
    char text[R1_COUNTDOWN_EXPR_MAX];
    int prec;
} r1_countdown_expr;

void r1_countdown_expr_number(r1_countdown_expr *e, int64_t n);
/* out = left op right ('+', '-', '*', '/'); out may alias neither argument. */
void r1_countdown_expr_join(r1_countdown_expr *out, const r1_countdown_expr *left, char op,
                            const r1_countdown_expr *right);

/* One move of the Countdown game: a op b under the game's rule (every value a
 * positive integer: subtraction only when a > b, division only when exact).
 * Returns 1 and sets *result when allowed, 0 when not (or on 64-bit overflow). */
int r1_countdown_apply(int64_t a, char op, int64_t b, int64_t *result);

/* Exhaustive search over every order, operator and parenthesisation of 1 to 4
 * numbers, each 1..99 (0 for anything else). integer_only
 * selects the game's rule above (the generator's guarantee); otherwise exact
 * rationals are allowed, as answers are judged. Returns 1 and writes an expression
 * for target into expr (if not NULL) when one exists, 0 otherwise. */
int r1_countdown_solve(const int *numbers, int n_numbers, int target, int integer_only, char *expr,
                       size_t expr_size);

/* Evaluates an answer expression (len bytes; whitespace around it allowed) that
 * must use each of the given numbers exactly once:
 *   expr   := term (('+' | '-' | '−') term)*
 *   term   := factor (('*' | 'x' | '×' | '/' | '÷') factor)*
 *   factor := NUMBER | '(' expr ')'
 * with exact rational arithmetic, so non-integer intermediates such as (7 / 2) * 4
 * are allowed (the usual RL-Countdown rule: the answer is judged by its value), as
 * are negative ones. Rejected: unary minus or plus, a number not given or used
 * twice, a given number unused, division by zero, numbers with leading zeros,
 * other characters, more than R1_TASK_ANSWER_MAX bytes, nesting deeper than 16,
 * 64-bit overflow. On success *num / *den is the value in lowest terms (den > 0). */
int r1_countdown_eval(const char *expr, size_t len, const int *numbers, int n_numbers, int64_t *num, int64_t *den,
                      r1_err *err);

int r1_countdown_generate(r1_task_split split, uint64_t index, uint64_t seed, r1_problem *out);
/* 1 when the answer (len bytes) evaluates to exactly the target. */
int r1_countdown_check(const r1_problem *p, const char *answer, size_t len);

/* ---- checking a Countdown search line by line (countdown_steps.c) ---- */

typedef struct {
    int lines;  /* lines read that are true steps */
    int slips;  /* computations corrected at once (`, wait, `) */
    int yes;    /* lines that said `Yes.` */
    int ended;  /* the thinking ended: `</think>` was reached, */
    long think_end; /* at this offset */
} r1_countdown_steps;

/* Reads the thinking of a Countdown completion (text[0..len), the text after
 * `<think>\n`, as the model wrote it) as the backward search of traces.c and
 * returns the byte offset of its first false part: a computation not true (and not
 * corrected at once), a need that does not use the target or a number not in the
 * list in view, a rest list that is not that list without the number taken (or
 * with it marked used: traces.h, marked_rest), two
 * numbers tried other than larger first, results going on past the need, a
 * verdict that does not match the last result, a division's check that is not its
 * quotient times its divisor, larger first (traces.h, multiply_back), a failed
 * division searched on, or any line after `Yes.`. Returns
 * -1 when every line read is true: the thinking ended (steps->ended), or was cut
 * off mid-line, where what was written so far is true. */
long r1_countdown_first_false(const r1_problem *p, const char *text, size_t len, r1_countdown_steps *steps);

/* What follows a number taken in a marked rest list (traces.h, marked_rest). */
#define R1_COUNTDOWN_TAKEN " used"

/* ---- arithmetic (arithmetic.c) ---- */

/* lhs op rhs (then op2 third, when a chain), exactly. */
int64_t r1_arithmetic_value(const r1_problem *p);
/* Fills p->answer from the operands. */
void r1_arithmetic_set_answer(r1_problem *p);
int r1_arithmetic_generate(r1_task_split split, uint64_t index, uint64_t seed, r1_problem *out);
/* Exact match: after trimming whitespace the answer is an optional '-' and digits,
 * byte-for-byte the expected answer (no '+', leading zeros, separators or units). */
int r1_arithmetic_check(const r1_problem *p, const char *answer, size_t len);

/* ---- the integer PRNG shared by the generators and the traces ---- */

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, a fixed sequence of
 * integer operations, the same on every platform. */
typedef struct {
    uint64_t state;
} r1_task_rng;

static inline uint64_t r1_task_mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static inline uint64_t r1_task_rng_next(r1_task_rng *r) {
    uint64_t x = r->state;
    r->state += 0x9e3779b97f4a7c15ull;
    return r1_task_mix64(x);
}

/* Uniform in [0, 1) from the top 53 bits: IEEE doubles, the same everywhere. */
static inline double r1_task_rng_unit(r1_task_rng *r) {
    return (double)(r1_task_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in 0..n-1 (n >= 1), without modulo bias: draws above the largest
 * multiple of n are redrawn. */
static inline uint32_t r1_task_rng_below(r1_task_rng *r, uint32_t n) {
    uint64_t limit = (UINT64_C(1) << 32) / n * n;
    for (;;) {
        uint64_t x = r1_task_rng_next(r) >> 32;
        if (x < limit) return (uint32_t)(x % n);
    }
}

/* The generator's stream for one candidate: every input mixed in, so neighbouring
 * indices and seeds give unrelated problems. */
static inline r1_task_rng r1_task_rng_for(uint64_t seed, uint64_t kind, uint64_t index, uint64_t attempt) {
    r1_task_rng r = {r1_task_mix64(seed ^ r1_task_mix64(kind ^ r1_task_mix64(index ^ r1_task_mix64(attempt))))};
    return r;
}

/* The candidates a generator draws before giving up on one index: at one in ten
 * for the test split, 10000 tries fail with probability 0.9^10000. */
#define R1_TASK_MAX_ATTEMPTS 10000

/* ---- arithmetic chains (arithmetic.c) ---- */

/* Makes p, when lhs op rhs >= 0, the chain (lhs op rhs) op2 third: op2 + or - at even
 * odds, third of 1, 2 or 3 digits at even odds. Returns 1 when it did, 0 (p as it
 * was) when the first result is negative. The generator's splits hold no chains:
 * pretraining draws them (data.h chain_share) so the model can follow one. */
int r1_arithmetic_make_chain(r1_problem *p, r1_task_rng *rng);

/* Makes lhs, rhs or both (one in three each) a one-digit number, 0..9, and sets
 * the answer: `What is 7 * 8?`. The generator's splits hold none (their operands
 * have 2 or 3 digits); pretraining draws them (data.h small_share) so that the
 * model does not misread a question a person types first. */
void r1_arithmetic_make_small(r1_problem *p, r1_task_rng *rng);

/* ---- Countdown problems with one-digit numbers (countdown.c) ---- */

typedef enum {
    R1_SMALL_SOME, /* one or two of the numbers (even odds) */
    R1_SMALL_ALL,  /* every number */
} r1_small_numbers;

/* Makes some or all of a train-split problem's numbers one-digit, 1..9, and draws
 * its target anew the generator's way; pretraining draws such problems with data.h
 * small_countdown_share and all_small_countdown_share. (The generator gives a
 * number one digit one time in eleven, so all three about once in 1300 draws:
 * without R1_SMALL_ALL, `7, 3, 5, make 26` is a kind of problem training never
 * shows.) New numbers that belong to the test split or reach no target are drawn
 * again, up to 8 times. Returns 1 when it made the problem; 0, p as it was, when
 * every draw failed. */
int r1_countdown_make_small(r1_problem *p, r1_small_numbers which, r1_task_rng *rng);

#endif
