/* Problems built by hand for the task and trace tests: a Countdown problem from
 * its numbers and target, an arithmetic one from its operands (answer set). */
#ifndef R1_TEST_PROBLEMS_H
#define R1_TEST_PROBLEMS_H

#include <string.h>

#include "train/task.h"

static inline r1_problem countdown(int n, const int *numbers, int target) {
    r1_problem p;
    memset(&p, 0, sizeof p);
    p.kind = R1_TASK_COUNTDOWN;
    p.n_numbers = n;
    for (int i = 0; i < n; i++) p.numbers[i] = numbers[i];
    p.target = target;
    return p;
}

static inline r1_problem arithmetic(int64_t lhs, char op, int64_t rhs) {
    r1_problem p;
    memset(&p, 0, sizeof p);
    p.kind = R1_TASK_ARITHMETIC;
    p.lhs = lhs;
    p.op = op;
    p.rhs = rhs;
    r1_arithmetic_set_answer(&p);
    return p;
}

#endif
