/* Multi-digit arithmetic: `What is 123 * 456?`, answered with the exact integer.
 *
 * Distribution of the generator (one draw per candidate, integers only):
 *   operator   + one time in four, - one in four, * two in four (multiplication is
 *              the hard case the issue names: up to 3 x 3 digits);
 *   operands   each independently 2 or 3 digits (even odds), then uniform over
 *              that many digits: 10..99 or 100..999. So products run from 2 x 2 to
 *              3 x 3 digits, and a difference is negative about half the time,
 *              which exercises the answer's '-'.
 * The reward is an exact match: arithmetic has one right spelling of its answer,
 * and accepting "56,088" or "56088.0" would reward formats the traces never use. */
#include <stdio.h>
#include <string.h>

#include "train/task.h"

static int64_t apply(int64_t a, char op, int64_t b) {
    switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    default: return a * b;
    }
}

int64_t r1_arithmetic_value(const r1_problem *p) {
    int64_t v = apply(p->lhs, p->op, p->rhs);
    return p->op2 ? apply(v, p->op2, p->third) : v;
}

void r1_arithmetic_set_answer(r1_problem *p) {
    snprintf(p->answer, sizeof p->answer, "%lld", (long long)r1_arithmetic_value(p));
}

static int64_t draw_operand(r1_task_rng *rng) {
    return r1_task_rng_below(rng, 2) ? 100 + r1_task_rng_below(rng, 900) : 10 + r1_task_rng_below(rng, 90);
}

int r1_arithmetic_generate(r1_task_split split, uint64_t index, uint64_t seed, r1_problem *out) {
    static const char ops[4] = {'+', '-', '*', '*'};
    for (uint64_t attempt = 0; attempt < R1_TASK_MAX_ATTEMPTS; attempt++) {
        r1_task_rng rng = r1_task_rng_for(seed, R1_TASK_ARITHMETIC, index, attempt);
        r1_problem p;
        memset(&p, 0, sizeof p);
        p.kind = R1_TASK_ARITHMETIC;
        p.op = ops[r1_task_rng_below(&rng, 4)];
        p.lhs = draw_operand(&rng);
        p.rhs = draw_operand(&rng);
        if (r1_task_split_of(&p) != split) continue;
        r1_arithmetic_set_answer(&p);
        *out = p;
        return R1_OK;
    }
    return R1_ERR;
}

int r1_arithmetic_make_chain(r1_problem *p, r1_task_rng *rng) {
    if (apply(p->lhs, p->op, p->rhs) < 0) return 0;
    static const int64_t low[3] = {1, 10, 100}, count[3] = {9, 90, 900};
    p->op2 = r1_task_rng_below(rng, 2) ? '+' : '-';
    int digits = (int)r1_task_rng_below(rng, 3);
    p->third = low[digits] + r1_task_rng_below(rng, (uint32_t)count[digits]);
    r1_arithmetic_set_answer(p);
    return 1;
}

void r1_arithmetic_make_small(r1_problem *p, r1_task_rng *rng) {
    uint32_t which = r1_task_rng_below(rng, 3); /* 0: lhs, 1: rhs, 2: both */
    if (which != 1) p->lhs = r1_task_rng_below(rng, 10);
    if (which != 0) p->rhs = r1_task_rng_below(rng, 10);
    r1_arithmetic_set_answer(p);
}

int r1_arithmetic_check(const r1_problem *p, const char *answer, size_t len) {
    while (len > 0 && (*answer == ' ' || *answer == '\t' || *answer == '\n' || *answer == '\r')) answer++, len--;
    while (len > 0 && (answer[len - 1] == ' ' || answer[len - 1] == '\t' || answer[len - 1] == '\n' ||
                       answer[len - 1] == '\r'))
        len--;
    /* the expected answer is canonical (no '+', no leading zeros), so byte equality
     * is the whole rule */
    return len > 0 && len == strlen(p->answer) && memcmp(answer, p->answer, len) == 0;
}
