/* Tasks and rewards (src/train/task.h): determinism with golden values, disjoint
 * splits, reachable targets, the exact prompts, the Countdown evaluator, the reward
 * rules, and the JSON-line reader and its errors. The search traces are tested in
 * test_traces.c. */
#include "test.h"
#include "test_problems.h"

static int same_problem(const r1_problem *a, const r1_problem *b) {
    if (a->kind != b->kind || a->n_numbers != b->n_numbers || a->target != b->target || a->lhs != b->lhs ||
        a->rhs != b->rhs || a->op != b->op || strcmp(a->answer, b->answer) != 0)
        return 0;
    for (int i = 0; i < a->n_numbers; i++)
        if (a->numbers[i] != b->numbers[i]) return 0;
    return 1;
}

/* ---- determinism ---- */

/* splitmix64's published sequence for seed 1234567 (Vigna's splitmix64.c). */
static void test_rng_golden(test_ctx *t) {
    static const uint64_t expected[] = {6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
                                        4593380528125082431ull, 16408922859458223821ull};
    r1_task_rng r = {1234567};
    for (int i = 0; i < 5; i++) {
        uint64_t v = r1_task_rng_next(&r);
        CHECK(v == expected[i], "draw %d: %llu, expected %llu", i, (unsigned long long)v, (unsigned long long)expected[i]);
    }
}

/* Fixed by the generator's rules: a change here changes every data set. */
static const struct {
    r1_task_kind kind;
    r1_task_split split;
    uint64_t index;
    const char *prompt;
} golden[] = {
    {R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, 0, "Using the numbers 66, 84, 87, 67, make 71."},
    {R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, 1, "Using the numbers 35, 39, 80, make 84."},
    {R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, 12345, "Using the numbers 5, 94, 66, make 23."},
    {R1_TASK_COUNTDOWN, R1_SPLIT_TEST, 0, "Using the numbers 62, 68, 12, 99, make 6."},
    {R1_TASK_COUNTDOWN, R1_SPLIT_TEST, 1, "Using the numbers 55, 10, 2, make 43."},
    {R1_TASK_COUNTDOWN, R1_SPLIT_TEST, 12345, "Using the numbers 96, 30, 95, make 31."},
    {R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, 0, "What is 339 * 436?"},
    {R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, 1, "What is 45 + 34?"},
    {R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, 12345, "What is 97 - 919?"},
    {R1_TASK_ARITHMETIC, R1_SPLIT_TEST, 0, "What is 447 * 65?"},
    {R1_TASK_ARITHMETIC, R1_SPLIT_TEST, 1, "What is 206 + 795?"},
    {R1_TASK_ARITHMETIC, R1_SPLIT_TEST, 12345, "What is 819 - 824?"},
};

static void test_generate_golden(test_ctx *t) {
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        r1_problem p;
        char prompt[128];
        CHECK(r1_task_generate(golden[i].kind, golden[i].split, golden[i].index, 2025, &p) == R1_OK, "case %zu", i);
        CHECK(r1_task_prompt(&p, prompt, sizeof prompt) > 0, "case %zu", i);
        CHECK(strcmp(prompt, golden[i].prompt) == 0, "case %zu: \"%s\", expected \"%s\"", i, prompt, golden[i].prompt);
    }
    r1_problem p;
    CHECK(r1_task_generate(R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, 0, 2025, &p) == R1_OK, "arithmetic");
    CHECK(strcmp(p.answer, "147804") == 0, "339 * 436 answer '%s'", p.answer);
    CHECK(r1_task_generate(R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, 12345, 2025, &p) == R1_OK, "arithmetic");
    CHECK(strcmp(p.answer, "-822") == 0, "97 - 919 answer '%s'", p.answer);
    CHECK(r1_task_generate(R1_TASK_KIND_COUNT, R1_SPLIT_TRAIN, 0, 1, &p) == R1_ERR, "bad kind accepted");
    CHECK(r1_task_generate(R1_TASK_COUNTDOWN, (r1_task_split)2, 0, 1, &p) == R1_ERR, "bad split accepted");
}

static void test_generate_deterministic(test_ctx *t) {
    for (int kind = 0; kind < R1_TASK_KIND_COUNT; kind++) {
        int differ = 0;
        for (uint64_t i = 0; i < 500; i++) {
            r1_problem a, b, c;
            CHECK(r1_task_generate(kind, R1_SPLIT_TRAIN, i, 7, &a) == R1_OK, "generate");
            CHECK(r1_task_generate(kind, R1_SPLIT_TRAIN, i, 7, &b) == R1_OK, "generate");
            CHECK(same_problem(&a, &b), "%s index %llu differs between two calls", r1_task_name(kind),
                  (unsigned long long)i);
            CHECK(r1_task_generate(kind, R1_SPLIT_TRAIN, i, 8, &c) == R1_OK, "generate");
            differ += !same_problem(&a, &c);
        }
        CHECK(differ > 450, "%s: seeds 7 and 8 agree on %d of 500 problems", r1_task_name(kind), 500 - differ);
    }
}

/* ---- splits ---- */

/* The exact canonical form as one integer: sorted numbers (7 bits each) and their
 * count; the operator and the sorted operands (10 bits each). */
static uint64_t canonical(const r1_problem *p) {
    if (p->kind == R1_TASK_COUNTDOWN) {
        int s[4], n = p->n_numbers;
        memcpy(s, p->numbers, sizeof s);
        for (int i = 1; i < n; i++)
            for (int k = i; k > 0 && s[k - 1] > s[k]; k--) {
                int tmp = s[k];
                s[k] = s[k - 1];
                s[k - 1] = tmp;
            }
        uint64_t key = (uint64_t)n;
        for (int i = 0; i < n; i++) key |= (uint64_t)s[i] << (3 + 7 * i);
        return key;
    }
    int64_t a = p->lhs, b = p->rhs;
    if (p->op != '-' && a > b) a = p->rhs, b = p->lhs;
    uint64_t op = p->op == '+' ? 1 : p->op == '-' ? 2 : 3;
    return op | (uint64_t)a << 2 | (uint64_t)b << 12;
}

/* An open-addressing set of nonzero keys. */
typedef struct {
    uint64_t *slots;
    size_t mask;
} key_set;

static void set_add(key_set *s, uint64_t key) {
    size_t i = (size_t)r1_task_mix64(key) & s->mask;
    while (s->slots[i] && s->slots[i] != key) i = (i + 1) & s->mask;
    s->slots[i] = key;
}

static int set_has(const key_set *s, uint64_t key) {
    size_t i = (size_t)r1_task_mix64(key) & s->mask;
    while (s->slots[i]) {
        if (s->slots[i] == key) return 1;
        i = (i + 1) & s->mask;
    }
    return 0;
}

/* 100k problems per task: the train split of seed 1 against the test splits of
 * seeds 1 and 2 (the split must not depend on the seed). */
static void test_splits_disjoint(test_ctx *t) {
    enum { N_TRAIN = 60000, N_TEST = 20000 };
    key_set train = {calloc(1 << 18, sizeof(uint64_t)), (1 << 18) - 1};
    CHECK(train.slots, "out of memory");
    for (int kind = 0; kind < R1_TASK_KIND_COUNT; kind++) {
        memset(train.slots, 0, (1 << 18) * sizeof(uint64_t));
        for (uint64_t i = 0; i < N_TRAIN; i++) {
            r1_problem p;
            CHECK(r1_task_generate(kind, R1_SPLIT_TRAIN, i, 1, &p) == R1_OK, "generate");
            CHECK(r1_task_split_of(&p) == R1_SPLIT_TRAIN, "train problem %llu in the test split", (unsigned long long)i);
            set_add(&train, canonical(&p));
        }
        for (uint64_t seed = 1; seed <= 2; seed++)
            for (uint64_t i = 0; i < N_TEST; i++) {
                r1_problem p;
                char prompt[128];
                CHECK(r1_task_generate(kind, R1_SPLIT_TEST, i, seed, &p) == R1_OK, "generate");
                CHECK(r1_task_split_of(&p) == R1_SPLIT_TEST, "test problem %llu in the train split",
                      (unsigned long long)i);
                r1_task_prompt(&p, prompt, sizeof prompt);
                if (set_has(&train, canonical(&p))) {
                    free(train.slots);
                    CHECK(0, "%s test problem (seed %llu, index %llu) \"%s\" is also in train", r1_task_name(kind),
                          (unsigned long long)seed, (unsigned long long)i, prompt);
                }
            }
    }
    free(train.slots);
}

/* ---- generators ---- */

static void test_countdown_reachable(test_ctx *t) {
    int count[5] = {0};
    for (int split = 0; split < 2; split++)
        for (uint64_t i = 0; i < 10000; i++) {
            r1_problem p;
            char expr[R1_COUNTDOWN_EXPR_MAX];
            CHECK(r1_task_generate(R1_TASK_COUNTDOWN, split, i, 3, &p) == R1_OK, "generate");
            CHECK(p.n_numbers == 3 || p.n_numbers == 4, "%d numbers", p.n_numbers);
            count[p.n_numbers]++;
            for (int k = 0; k < p.n_numbers; k++) CHECK(p.numbers[k] >= 1 && p.numbers[k] <= 99, "number %d", p.numbers[k]);
            CHECK(p.target >= 1 && p.target <= 100, "target %d", p.target);
            CHECK(r1_countdown_solve(p.numbers, p.n_numbers, p.target, 1, expr, sizeof expr),
                  "index %llu: target %d unreachable", (unsigned long long)i, p.target);
            int64_t num, den;
            r1_err err;
            CHECK(r1_countdown_eval(expr, strlen(expr), p.numbers, p.n_numbers, &num, &den, &err) == R1_OK,
                  "solver's '%s': %s", expr, err.msg);
            CHECK(den == 1 && num == p.target, "solver's '%s' = %lld/%lld, not %d", expr, (long long)num,
                  (long long)den, p.target);
        }
    CHECK(count[3] > 9000 && count[4] > 9000, "3 numbers %d times, 4 numbers %d times", count[3], count[4]);
}

static void test_countdown_solver(test_ctx *t) {
    char expr[R1_COUNTDOWN_EXPR_MAX];
    int a[] = {7, 3, 5}, b[] = {3, 3, 8, 8}, c[] = {1, 1, 1};
    CHECK(r1_countdown_solve(a, 3, 26, 1, expr, sizeof expr), "7 3 5 -> 26");
    /* 24 from 3 3 8 8 needs a fraction: 8 / (3 - 8 / 3) */
    CHECK(!r1_countdown_solve(b, 4, 24, 1, expr, sizeof expr), "3 3 8 8 -> 24 with whole numbers: %s", expr);
    CHECK(r1_countdown_solve(b, 4, 24, 0, expr, sizeof expr), "3 3 8 8 -> 24 with fractions");
    int64_t num, den;
    CHECK(r1_countdown_eval(expr, strlen(expr), b, 4, &num, &den, NULL) == R1_OK && num == 24 && den == 1, "%s", expr);
    CHECK(!r1_countdown_solve(c, 3, 100, 0, NULL, 0), "1 1 1 -> 100");
    int64_t r;
    CHECK(r1_countdown_apply(7, '-', 7, &r) == 0, "7 - 7 is not a positive result");
    CHECK(r1_countdown_apply(7, '/', 2, &r) == 0, "7 / 2 is not exact");
    CHECK(r1_countdown_apply(8, '/', 2, &r) == 1 && r == 4, "8 / 2");
}

static void test_arithmetic_distribution(test_ctx *t) {
    int ops[3] = {0}, negative = 0, three_by_three = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        r1_problem p;
        CHECK(r1_task_generate(R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, i, 5, &p) == R1_OK, "generate");
        CHECK(p.lhs >= 10 && p.lhs <= 999 && p.rhs >= 10 && p.rhs <= 999, "operands %lld %lld", (long long)p.lhs,
              (long long)p.rhs);
        CHECK(p.op == '+' || p.op == '-' || p.op == '*', "op %c", p.op);
        ops[p.op == '+' ? 0 : p.op == '-' ? 1 : 2]++;
        negative += p.answer[0] == '-';
        three_by_three += p.op == '*' && p.lhs >= 100 && p.rhs >= 100;
        char expect[32];
        snprintf(expect, sizeof expect, "%lld", (long long)(p.op == '+' ? p.lhs + p.rhs : p.op == '-' ? p.lhs - p.rhs : p.lhs * p.rhs));
        CHECK(strcmp(expect, p.answer) == 0, "answer %s, expected %s", p.answer, expect);
    }
    printf("  arithmetic: + %d, - %d, * %d (3x3 %d), negative answers %d of 20000\n", ops[0], ops[1], ops[2],
           three_by_three, negative);
    CHECK(ops[0] > 4500 && ops[0] < 5500 && ops[1] > 4500 && ops[1] < 5500 && ops[2] > 9500, "operator shares");
    CHECK(negative > 1500 && three_by_three > 2000, "negative %d, 3x3 %d", negative, three_by_three);
}

/* ---- prompts ---- */

static void test_prompts(test_ctx *t) {
    char buf[128];
    int three[] = {7, 3, 5}, four[] = {99, 1, 42, 8};
    r1_problem p = countdown(3, three, 26);
    CHECK(r1_task_prompt(&p, buf, sizeof buf) == (int)strlen("Using the numbers 7, 3, 5, make 26."), "length");
    CHECK(strcmp(buf, "Using the numbers 7, 3, 5, make 26.") == 0, "'%s'", buf);
    p = countdown(4, four, 100);
    r1_task_prompt(&p, buf, sizeof buf);
    CHECK(strcmp(buf, "Using the numbers 99, 1, 42, 8, make 100.") == 0, "'%s'", buf);
    p = arithmetic(123, '*', 456);
    r1_task_prompt(&p, buf, sizeof buf);
    CHECK(strcmp(buf, "What is 123 * 456?") == 0, "'%s'", buf);
    p = arithmetic(45, '-', 678);
    r1_task_prompt(&p, buf, sizeof buf);
    CHECK(strcmp(buf, "What is 45 - 678?") == 0, "'%s'", buf);
    CHECK(r1_task_prompt(&p, buf, 10) == R1_ERR, "a prompt that does not fit");
    r1_task_kind kind;
    r1_err err;
    CHECK(r1_task_kind_by_name("arithmetic", &kind, &err) == R1_OK && kind == R1_TASK_ARITHMETIC, "by name");
    CHECK(r1_task_kind_by_name("chess", &kind, &err) == R1_ERR && strstr(err.msg, "chess"), "%s", err.msg);
}

/* ---- the Countdown evaluator ---- */

static void test_countdown_eval(test_ctx *t) {
    static const struct {
        const char *expr;
        int numbers[4];
        int n;
        int64_t num, den;  /* expected value, or */
        const char *error; /* a substring of the expected error */
    } cases[] = {
        {"7 * 3 + 5", {7, 3, 5}, 3, 26, 1, NULL},
        {"  7*3+5\n", {7, 3, 5}, 3, 26, 1, NULL},
        {"(7 + 5) * 3", {7, 3, 5}, 3, 36, 1, NULL},
        {"((7)) * 3 + 5", {7, 3, 5}, 3, 26, 1, NULL},
        {"7 \xc3\x97 3 + 5", {7, 3, 5}, 3, 26, 1, NULL},    /* × */
        {"7 x 3 + 5", {7, 3, 5}, 3, 26, 1, NULL},
        {"7 * 3 \xe2\x88\x92 5", {7, 3, 5}, 3, 16, 1, NULL}, /* − */
        {"8 \xc3\xb7 2 + 5", {8, 2, 5}, 3, 9, 1, NULL},      /* ÷ */
        {"5 - 3 - 7", {7, 3, 5}, 3, -5, 1, NULL},            /* left-associative, negative allowed */
        {"5 - (3 - 7)", {7, 3, 5}, 3, 9, 1, NULL},
        {"(7 / 2) * 4", {7, 2, 4}, 3, 14, 1, NULL},           /* a fraction on the way is fine */
        {"7 / 2 + 4", {7, 2, 4}, 3, 15, 2, NULL},
        {"8 / (3 - 8 / 3)", {3, 3, 8, 8}, 4, 24, 1, NULL},
        {"5 * 5 + 3", {5, 3, 5}, 3, 28, 1, NULL},
        {"99 * 99 * 99 * 99", {99, 99, 99, 99}, 4, 96059601, 1, NULL},
        {"7 * 7 + 5", {7, 3, 5}, 3, 0, 0, "7 is used 2 times but given 1 time"},
        {"7 * 3", {7, 3, 5}, 3, 0, 0, "the given number 5 is not used"},
        {"5 * 3", {5, 3, 5}, 3, 0, 0, "5 is given 2 times but used 1 time"},
        {"7 * 3 + 6", {7, 3, 5}, 3, 0, 0, "6 is not one of the given numbers"},
        {"7 * 3 + 5 + 1", {7, 3, 5}, 3, 0, 0, "1 is not one of the given numbers"},
        {"7 / (5 - 5)", {7, 5, 5}, 3, 0, 0, "division by zero"},
        {"-7 + 3 + 5", {7, 3, 5}, 3, 0, 0, "unary minus"},
        {"7 * -3 + 5", {7, 3, 5}, 3, 0, 0, "unary minus"},
        {"+7 + 3 + 5", {7, 3, 5}, 3, 0, 0, "unary plus"},
        {"", {7, 3, 5}, 3, 0, 0, "empty"},
        {" \n ", {7, 3, 5}, 3, 0, 0, "empty"},
        {"7 * 3 + 5 = 26", {7, 3, 5}, 3, 0, 0, "unexpected '='"},
        {"7 * (3 + 5", {7, 3, 5}, 3, 0, 0, "where ')' was expected"},
        {"7 * 3 + 5)", {7, 3, 5}, 3, 0, 0, "unexpected ')'"},
        {"07 * 3 + 5", {7, 3, 5}, 3, 0, 0, "leading zero"},
        {"7 ** 3 + 5", {7, 3, 5}, 3, 0, 0, "unexpected '*'"},
        {"7 3 5", {7, 3, 5}, 3, 0, 0, "expected an operator"},
        {"7 * 3 + five", {7, 3, 5}, 3, 0, 0, "unexpected 'f'"},
        {"7 * 3 + 5.0", {7, 3, 5}, 3, 0, 0, "unexpected '.'"},
        {"7 * 3 + \xe2\x82\xac", {7, 3, 5}, 3, 0, 0, "byte 0xe2"},
        {"7 * 3 +", {7, 3, 5}, 3, 0, 0, "ends where a number was expected"},
        {"1234567890 + 3 + 5", {7, 3, 5}, 3, 0, 0, "too long"},
        {"((((((((((((((((((7)))))))))))))))))) * 3 + 5", {7, 3, 5}, 3, 0, 0, "nested deeper"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t num = 0, den = 0;
        r1_err err = {""};
        int rc = r1_countdown_eval(cases[i].expr, strlen(cases[i].expr), cases[i].numbers, cases[i].n, &num, &den, &err);
        if (cases[i].error) {
            CHECK(rc == R1_ERR, "'%s' accepted as %lld/%lld", cases[i].expr, (long long)num, (long long)den);
            CHECK(strstr(err.msg, cases[i].error), "'%s': error '%s', expected '%s'", cases[i].expr, err.msg,
                  cases[i].error);
        } else {
            CHECK(rc == R1_OK, "'%s': %s", cases[i].expr, err.msg);
            CHECK(num == cases[i].num && den == cases[i].den, "'%s' = %lld/%lld, expected %lld/%lld", cases[i].expr,
                  (long long)num, (long long)den, (long long)cases[i].num, (long long)cases[i].den);
        }
    }
    char long_expr[300] = "7 + 3 + 5";
    memset(long_expr + 9, ' ', 200);
    strcpy(long_expr + 200, "+ 0");
    r1_err err;
    int64_t num, den;
    int n[] = {7, 3, 5};
    CHECK(r1_countdown_eval(long_expr, strlen(long_expr), n, 3, &num, &den, &err) == R1_ERR &&
              strstr(err.msg, "longer than"), "%s", err.msg);
}

/* ---- rewards ---- */

static void test_reward_format(test_ctx *t) {
    int n[] = {7, 3, 5};
    r1_problem p = countdown(3, n, 26);
    static const struct {
        const char *completion;
        float reward;
        const char *answer; /* extracted, when well-formed */
    } cases[] = {
        {"<think>7*3=21, +5=26</think><answer>7 * 3 + 5</answer>", 1.0f, "7 * 3 + 5"},
        {"7*3=21\n</think>\n\n<answer>7*3+5</answer>\n", 1.0f, "7*3+5"}, /* template opened <think> */
        {"\n<think>\nx\n</think>\n<answer>  7 * 3 + 5 \n</answer>  ", 1.0f, "7 * 3 + 5"},
        {"<think></think><answer>7 \xc3\x97 3 + 5</answer>", 1.0f, "7 \xc3\x97 3 + 5"},
        {"</think><answer>(7 * 3) + 5</answer>", 1.0f, "(7 * 3) + 5"},
        {"<think>hm</think><answer>7 + 3 + 5</answer>", 0.1f, "7 + 3 + 5"},  /* wrong value */
        {"<think>hm</think><answer>7 * 3 + 5 = 26</answer>", 0.1f, "7 * 3 + 5 = 26"},
        {"<think>hm</think><answer></answer>", 0.1f, ""},
        {"<think>hm</think><answer>26</answer>", 0.1f, "26"},
        {"<think>hm</think><answer>7 * 3 + 5</answer> done", 0.0f, NULL}, /* text after */
        {"<think>hm</think> so <answer>7 * 3 + 5</answer>", 0.0f, NULL},  /* text between */
        {"<think>hm<answer>7 * 3 + 5</answer>", 0.0f, NULL},              /* no </think> */
        {"<think>hm</think>7 * 3 + 5", 0.0f, NULL},                       /* no answer tags */
        {"<think>hm</think><answer>7 * 3 + 5", 0.0f, NULL},
        {"<think>a</think><answer>1</answer><answer>7 * 3 + 5</answer>", 0.0f, NULL},
        {"<think>a<think>b</think><answer>7 * 3 + 5</answer>", 0.0f, NULL},
        {"<think>a</think><answer>7 * 3 </think> + 5</answer>", 0.0f, NULL},
        {"x <think>a</think><answer>7 * 3 + 5</answer>", 0.0f, NULL}, /* <think> not first */
        {"", 0.0f, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r1_reward r;
        float got = r1_task_reward(&p, cases[i].completion, &r);
        CHECK(got == cases[i].reward && r.reward == got, "case %zu '%s': reward %.2f, expected %.2f", i,
              cases[i].completion, got, cases[i].reward);
        CHECK(r.well_formed == (cases[i].answer != NULL), "case %zu: well_formed %d", i, r.well_formed);
        CHECK(r.correct == (got == 1.0f), "case %zu: correct %d", i, r.correct);
        CHECK(strcmp(r.answer, cases[i].answer ? cases[i].answer : "") == 0, "case %zu: answer '%s'", i, r.answer);
    }
    CHECK(r1_task_reward(&p, NULL, NULL) == 0.0f, "NULL completion");
    int d[] = {8, 2, 5};
    p = countdown(3, d, 9);
    CHECK(r1_task_reward(&p, "</think><answer>8 \xc3\xb7 2 + 5</answer>", NULL) == 1.0f, "÷");
    r1_completion parts;
    CHECK(r1_task_parse_completion("<think>ab</think> <answer> c </answer>", &parts), "parts");
    CHECK(parts.think_len == 2 && memcmp(parts.think, "ab", 2) == 0, "think part");
    CHECK(parts.answer_len == 3 && memcmp(parts.answer, " c ", 3) == 0, "answer part");
}

static void test_reward_arithmetic(test_ctx *t) {
    r1_problem mul = arithmetic(123, '*', 456), sub = arithmetic(345, '-', 678);
    static const struct {
        int negative;
        const char *answer;
        float reward;
    } cases[] = {
        {0, "56088", 1.0f}, {0, " 56088\n", 1.0f}, {0, "56,088", 0.1f}, {0, "056088", 0.1f}, {0, "+56088", 0.1f},
        {0, "56088.0", 0.1f}, {0, "56089", 0.1f}, {0, "56088 apples", 0.1f}, {0, "", 0.1f},
        {1, "-333", 1.0f}, {1, "333", 0.1f}, {1, "- 333", 0.1f}, {1, "\xe2\x88\x92" "333", 0.1f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char completion[128];
        snprintf(completion, sizeof completion, "<think>...</think><answer>%s</answer>", cases[i].answer);
        float got = r1_task_reward(cases[i].negative ? &sub : &mul, completion, NULL);
        CHECK(got == cases[i].reward, "'%s': %.2f, expected %.2f", cases[i].answer, got, cases[i].reward);
    }
    char huge[400];
    snprintf(huge, sizeof huge, "</think><answer>%0200d</answer>", 7);
    r1_reward r;
    CHECK(r1_task_reward(&mul, huge, &r) == 0.1f && strlen(r.answer) == R1_TASK_ANSWER_MAX, "long answer cut");
}

/* ---- JSON lines ---- */

static void test_json_lines(test_ctx *t) {
    r1_problem p;
    r1_err err;
    char prompt[128];
    CHECK(r1_task_parse_json_line("{\"numbers\": [7, 3, 5], \"target\": 26}", &p, &err) == R1_OK, "%s", err.msg);
    r1_task_prompt(&p, prompt, sizeof prompt);
    CHECK(p.kind == R1_TASK_COUNTDOWN && strcmp(prompt, "Using the numbers 7, 3, 5, make 26.") == 0, "'%s'", prompt);
    CHECK(r1_task_parse_json_line("{\"question\": \"What is 123 * 456?\", \"answer\": \"56088\"}\n", &p, &err) == R1_OK,
          "%s", err.msg);
    r1_task_prompt(&p, prompt, sizeof prompt);
    CHECK(p.kind == R1_TASK_ARITHMETIC && strcmp(prompt, "What is 123 * 456?") == 0 && strcmp(p.answer, "56088") == 0,
          "'%s' '%s'", prompt, p.answer);
    CHECK(r1_task_parse_json_line("{\"question\": \"What is 345 - 678?\", \"answer\": -333}", &p, &err) == R1_OK,
          "%s", err.msg);
    CHECK(strcmp(p.answer, "-333") == 0, "%s", p.answer);
    CHECK(r1_task_parse_json_line("{\"id\": 9, \"numbers\": [3, 3, 8, 8], \"target\": 24}", &p, &err) == R1_OK,
          "fractions-only target: %s", err.msg);
    CHECK(r1_task_parse_json_line("{\"question\": \"What is 12\xc3\x97" "3?\", \"answer\": \"36\"}", &p, &err) == R1_OK,
          "%s", err.msg);
    /* a chain reads left to right */
    CHECK(r1_task_parse_json_line("{\"question\": \"What is 48 + 75 - 3?\", \"answer\": \"120\"}", &p, &err) == R1_OK,
          "%s", err.msg);
    r1_task_prompt(&p, prompt, sizeof prompt);
    CHECK(p.op2 == '-' && p.third == 3 && strcmp(prompt, "What is 48 + 75 - 3?") == 0, "'%s'", prompt);
    CHECK(r1_task_parse_json_line("{\"question\": \"What is 12 * 3 - 40?\", \"answer\": -4}", &p, &err) == R1_OK,
          "%s", err.msg);
    /* the whole answer string counts, however long: spaces around the value are
     * allowed, anything after them is not */
    char line[256];
    snprintf(line, sizeof line, "{\"question\": \"What is 123 * 456?\", \"answer\": \"%70s\"}", "56088");
    CHECK(r1_task_parse_json_line(line, &p, &err) == R1_OK, "70 spaces then the value: %s", err.msg);
    snprintf(line, sizeof line, "{\"question\": \"What is 123 * 456?\", \"answer\": \"56088%80s\"}", "junk");
    CHECK(r1_task_parse_json_line(line, &p, &err) == R1_ERR && strstr(err.msg, "\"56088   ") &&
              strstr(err.msg, "...\" is not the value of the question, 56088"),
          "junk 80 bytes after the value: %s", err.msg);

    static const struct {
        const char *line, *error;
    } bad[] = {
        {"{\"numbers\": [7, 3, 5]}", "missing field \"target\""},
        {"{\"target\": 26}", "missing field \"numbers\""},
        {"{\"numbers\": \"7, 3, 5\", \"target\": 26}", "\"numbers\" must be an array, got a string"},
        {"{\"numbers\": [7, 3], \"target\": 10}", "holds 2, expected 3 or 4"},
        {"{\"numbers\": [1, 2, 3, 4, 5], \"target\": 10}", "holds 5, expected 3 or 4"},
        {"{\"numbers\": [7, \"3\", 5], \"target\": 26}", "\"numbers\"[1] must be an integer, got a string"},
        {"{\"numbers\": [7, 3.5, 5], \"target\": 26}", "\"numbers\"[1] must be an integer, got a real number"},
        {"{\"numbers\": [7, 3, 100], \"target\": 26}", "\"numbers\"[2] = 100 is out of range 1..99"},
        {"{\"numbers\": [0, 3, 5], \"target\": 26}", "\"numbers\"[0] = 0 is out of range"},
        {"{\"numbers\": [7, 3, 5], \"target\": \"26\"}", "\"target\" must be an integer, got a string"},
        {"{\"numbers\": [7, 3, 5], \"target\": 101}", "\"target\" = 101 is out of range 1..100"},
        {"{\"numbers\": [1, 1, 1], \"target\": 100}", "cannot be made"},
        {"{\"numbers\": [7, 3, 5], \"target\": 26, \"target\": 27}", "not valid JSON"},
        {"{\"numbers\": [7, 3,", "not valid JSON"},
        {"", "not valid JSON"},
        {"[7, 3, 5]", "expected a JSON object, got an array"},
        {"{\"numbers\": [7, 3, 5], \"target\": 26, \"question\": \"What is 1 + 1?\"}", "has both"},
        {"{\"answer\": \"2\"}", "missing field \"numbers\" (countdown) or \"question\""},
        {"{\"question\": \"What is 123 * 456?\"}", "missing field \"answer\""},
        {"{\"question\": 5, \"answer\": \"5\"}", "\"question\" must be a string, got an integer"},
        {"{\"question\": \"How much is 2 + 2?\", \"answer\": \"4\"}", "not of the form"},
        {"{\"question\": \"What is 2 / 2?\", \"answer\": \"1\"}", "not of the form"},
        {"{\"question\": \"What is 1234567890 * 2?\", \"answer\": \"2469135780\"}", "not of the form"},
        {"{\"question\": \"What is 2 + 2?!\", \"answer\": \"4\"}", "not of the form"},
        {"{\"question\": \"What is 2 + 2 * 3?\", \"answer\": \"8\"}", "not of the form"},
        {"{\"question\": \"What is 2 + 2 - 1 - 1?\", \"answer\": \"2\"}", "not of the form"},
        {"{\"question\": \"What is 48 + 75 - 3?\", \"answer\": \"123\"}", "not the value of the question, 120"},
        {"{\"question\": \"What is 123 * 456?\", \"answer\": \"56089\"}", "\"56089\" is not the value of the question, 56088"},
        {"{\"question\": \"What is 123 * 456?\", \"answer\": [56088]}", "must be a string or an integer, got an array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        CHECK(r1_task_parse_json_line(bad[i].line, &p, &err) == R1_ERR, "accepted: %s", bad[i].line);
        CHECK(strstr(err.msg, bad[i].error), "%s: error '%s', expected '%s'", bad[i].line, err.msg, bad[i].error);
    }
}

/* ---- typed-in prompts (r1 run --vote) ---- */

static void test_parse_prompt(test_ctx *t) {
    r1_problem p;
    /* every generated prompt reads back as its own problem */
    for (uint64_t i = 0; i < 200; i++) {
        r1_problem q;
        char prompt[128];
        r1_task_kind kind = i % 2 ? R1_TASK_ARITHMETIC : R1_TASK_COUNTDOWN;
        CHECK(r1_task_generate(kind, R1_SPLIT_TEST, i, 0, &q) == R1_OK, "generate %llu", (unsigned long long)i);
        r1_task_prompt(&q, prompt, sizeof prompt);
        CHECK(r1_task_parse_prompt(prompt, &p), "'%s' not read back", prompt);
        CHECK(memcmp(&p, &q, sizeof p) == 0, "'%s' read back as another problem", prompt);
    }
    CHECK(r1_task_parse_prompt("  Using the numbers 7, 3, 5, make 26.\n", &p) && p.kind == R1_TASK_COUNTDOWN &&
              p.n_numbers == 3 && p.numbers[2] == 5 && p.target == 26,
          "surrounding whitespace is allowed");
    CHECK(r1_task_parse_prompt("Using the numbers 7, 3, 5, make 100.", &p) && p.target == 100,
          "an unreachable target is still a problem (every answer is wrong)");
    CHECK(r1_task_parse_prompt("What is 12\xc3\x97" "3?", &p) && p.kind == R1_TASK_ARITHMETIC &&
              strcmp(p.answer, "36") == 0, "x as the times sign: '%s'", p.answer);
    CHECK(r1_task_parse_prompt("What is 48 + 75 - 3?", &p) && strcmp(p.answer, "120") == 0, "the chain: %s", p.answer);
    static const char *const not_tasks[] = {
        "Using the numbers 7, 3, make 26.",           /* two numbers */
        "Using the numbers 7, 3, 5, 1, 2, make 26.",  /* five */
        "Using the numbers 7, 3, 0, make 26.",        /* 0 */
        "Using the numbers 7, 3, 100, make 26.",      /* 100 */
        "Using the numbers 7, 3, 5, make 101.",       /* the target above 100 */
        "Using the numbers 7, 3, 5, make 0.",
        "Using the numbers 07, 3, 5, make 26.",       /* not as the prompt writes it */
        "Using the numbers 7,3,5, make 26.",
        "Using the numbers 7, 3, 5, make 26",         /* no full stop */
        "Using the numbers 7, 3, 5, make 26. Quickly.",
        "using the numbers 7, 3, 5, make 26.",
        "Using the numbers 7, 3, 5, make 26.5.",
        "What is 48 + 75 - 3",
        "What is 48 / 3?",
        "What is 2 + 2? And 3 + 3?",
        "hello",
        "",
    };
    for (size_t i = 0; i < sizeof not_tasks / sizeof *not_tasks; i++)
        CHECK(!r1_task_parse_prompt(not_tasks[i], &p), "'%s' read as a task prompt", not_tasks[i]);
    char longer[300];
    memset(longer, ' ', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    memcpy(longer + 200, "What is 1 + 1?", 14);
    CHECK(r1_task_parse_prompt(longer, &p), "blanks around a prompt, whatever their length");
}

TEST_MAIN("tasks", T(test_rng_golden), T(test_generate_golden), T(test_generate_deterministic),
          T(test_splits_disjoint), T(test_countdown_reachable), T(test_countdown_solver),
          T(test_arithmetic_distribution), T(test_prompts), T(test_countdown_eval), T(test_reward_format),
          T(test_reward_arithmetic), T(test_json_lines), T(test_parse_prompt))
