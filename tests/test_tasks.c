/* Tasks, rewards and search traces (src/train/task.h, traces.h): determinism with
 * golden values, disjoint splits, reachable targets, the exact prompts, the
 * Countdown evaluator, the reward rules, the JSON-line reader and its errors, and
 * that every synthetic trace earns reward 1. */
#include "test.h"
#include "train/traces.h"

static int same_problem(const r1_problem *a, const r1_problem *b) {
    if (a->kind != b->kind || a->n_numbers != b->n_numbers || a->target != b->target || a->lhs != b->lhs ||
        a->rhs != b->rhs || a->op != b->op || strcmp(a->answer, b->answer) != 0)
        return 0;
    for (int i = 0; i < a->n_numbers; i++)
        if (a->numbers[i] != b->numbers[i]) return 0;
    return 1;
}

static r1_problem countdown(int n, const int *numbers, int target) {
    r1_problem p;
    memset(&p, 0, sizeof p);
    p.kind = R1_TASK_COUNTDOWN;
    p.n_numbers = n;
    for (int i = 0; i < n; i++) p.numbers[i] = numbers[i];
    p.target = target;
    return p;
}

static r1_problem arithmetic(int64_t lhs, char op, int64_t rhs) {
    r1_problem p;
    memset(&p, 0, sizeof p);
    p.kind = R1_TASK_ARITHMETIC;
    p.lhs = lhs;
    p.op = op;
    p.rhs = rhs;
    r1_arithmetic_set_answer(&p);
    return p;
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

    static const struct {
        const char *line, *error;
    } bad[] = {
        {"{\"numbers\": [7, 3, 5]}", "missing field \"target\""},
        {"{\"target\": 26}", "missing field \"numbers\""},
        {"{\"numbers\": \"7, 3, 5\", \"target\": 26}", "\"numbers\" must be an array, got a string"},
        {"{\"numbers\": [7, 3], \"target\": 10}", "has 2 numbers, expected 3 or 4"},
        {"{\"numbers\": [1, 2, 3, 4, 5], \"target\": 10}", "has 5 numbers"},
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

/* ---- traces ---- */

typedef struct {
    long count, think_total, corrected, dead_total, chains, untold;
    int think_max;
} trace_stats;

/* Every column step `a op b [op c] = v` of an arithmetic trace, read left to
 * right, is right, but for the one slip (when corrected) that `, wait,` follows. */
static int steps_right(const char *trace, int corrected) {
    const char *end = strstr(trace, "</think>");
    int steps = 0, slips = 0;
    for (const char *eq = strstr(trace, " = "); eq && eq < end; eq = strstr(eq + 1, " = ")) {
        const char *from = eq; /* back to the step's start: after ": ", ", " or a line */
        while (from > trace && from[-1] != '\n' && !(from[-1] == ' ' && (from[-2] == ':' || from[-2] == ',')))
            from--;
        long long value, term;
        char op;
        int used;
        if (sscanf(from, "%lld%n", &value, &used) != 1) continue; /* `so 47 - 285 = -(...)` */
        for (const char *c = from + used; c < eq;) {
            if (sscanf(c, " %c %lld%n", &op, &term, &used) != 2) return 0;
            value = op == '+' ? value + term : op == '-' ? value - term : value * term;
            c += used;
        }
        long long stated = atoll(eq + 3);
        steps++;
        if (stated != value) {
            const char *after = eq + 3 + strspn(eq + 3, "-0123456789");
            if (strncmp(after, ", wait, ", 8) != 0) return 0;
            slips++;
        }
    }
    return steps > 0 && slips == corrected;
}

/* Each column line `A op B: steps. So R.` adds up: R is A op B, and it is also
 * what the steps spell (their last digits from the right, the last step whole;
 * a slipped value that `, wait,` retracts does not count), so a wrong carry or
 * borrow handed from one column to the next is caught. */
static int lines_add_up(const char *trace) {
    int lines = 0;
    for (const char *line = trace; *line && strncmp(line, "</think>", 8) != 0; line = strchr(line, '\n') + 1) {
        long long a, b, r;
        char op;
        int used;
        const char *so = strstr(line, ". So ");
        if (sscanf(line, "%lld %c %lld: %n", &a, &op, &b, &used) != 3 || !so || so > strchr(line, '\n')) continue;
        long long want = op == '+' ? a + b : op == '-' ? a - b : a * b, spelt = 0, place = 1, last = 0;
        int steps = 0;
        for (const char *eq = strstr(line, " = "); eq && eq < so; eq = strstr(eq + 1, " = ")) {
            const char *after = eq + 3 + strspn(eq + 3, "0123456789");
            if (strncmp(after, ", wait, ", 8) == 0) continue;
            if (steps++) spelt += last % 10 * place, place *= 10; /* the step before is not the last */
            last = atoll(eq + 3);
        }
        spelt += last * place;
        if (op == '*')
            for (long long shift = b; shift >= 10 && shift % 10 == 0; shift /= 10) spelt *= 10;
        r = atoll(so + 5);
        if (r != want || spelt != want) {
            printf("  line does not add up (%lld, steps spell %lld, want %lld): %.*s\n", r, spelt, want,
                   (int)(strchr(line, '\n') - line), line);
            return 0;
        }
        lines++;
    }
    return lines > 0 || strstr(trace, " * 0 = 0.") || strstr(trace, "0 * ");
}

/* A Countdown trace's every line is a true step of the backward search
 * (r1_countdown_first_false), one says `Yes.`, the thinking ends, and its slips
 * are the ones the writer made. */
static int branches_right(const r1_problem *p, const char *trace, int corrected) {
    r1_countdown_steps steps;
    long false_at = r1_countdown_first_false(p, trace, strlen(trace), &steps);
    if (false_at >= 0) printf("  false step at byte %ld: %.40s\n", false_at, trace + false_at);
    /* the writer's slips are off by one, never the value the line compares with */
    for (const char *w = strstr(trace, ", wait, "); w; w = strstr(w + 1, ", wait, ")) {
        const char *slip = w;
        while (slip > trace && slip[-1] != ' ') slip--;
        const char *eq = strstr(w, " = ");
        long long wrong = atoll(slip), right = eq ? atoll(eq + 3) : wrong, need = -1;
        const char *line = w;
        while (line > trace && line[-1] != '\n') line--;
        const char *from = strstr(line, " from "), *colon = strchr(line, ':');
        if (from && colon && colon < slip) { /* a result: the need is the number before " from" */
            while (from > line && from[-1] != ' ') from--;
            need = atoll(from);
        }
        if (llabs(wrong - right) != 1 || wrong == need) return 0;
    }
    return false_at < 0 && steps.ended && steps.yes == 1 && steps.slips == corrected;
}

/* Train-split Countdown problem i of the generator's seed and its trace under cfg
 * (seed i) into buf; 0 when the problem has no trace. */
static int countdown_trace_of(uint64_t i, uint64_t seed, const r1_trace_config *cfg, r1_problem *p, char *buf,
                              size_t size, r1_trace_info *info) {
    r1_err err;
    r1_task_generate(R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, i, seed, p);
    return r1_trace_write(p, i, cfg, buf, size, info, &err) > 0;
}

/* Every trace of n problems scores 1, starts inside the thinking and stays within
 * the configured length (Countdown; arithmetic is as long as its columns). */
static int check_traces(test_ctx *t, r1_task_kind kind, int n, const r1_trace_config *cfg, trace_stats *st) {
    memset(st, 0, sizeof *st);
    for (int i = 0; i < n; i++) {
        r1_problem p;
        char buf[4096], again[4096];
        r1_trace_info info;
        r1_err err;
        r1_reward r;
        if (r1_task_generate(kind, i % 2 ? R1_SPLIT_TEST : R1_SPLIT_TRAIN, (uint64_t)i, 11, &p) != R1_OK) {
            printf("  generate failed\n");
            return 0;
        }
        r1_task_rng chain = {(uint64_t)i};
        if (kind == R1_TASK_ARITHMETIC && i % 3 == 0) st->chains += r1_arithmetic_make_chain(&p, &chain);
        int len = r1_trace_write(&p, (uint64_t)i * 31, cfg, buf, sizeof buf, &info, &err);
        if (len == R1_TRACE_UNTOLD) { /* checked below to be rare */
            st->untold++;
            continue;
        }
        if (len < 0 || r1_task_reward(&p, buf, &r) != 1.0f || strncmp(buf, "<think>", 7) == 0 ||
            (size_t)len != strlen(buf) || (kind == R1_TASK_COUNTDOWN &&
             (info.think_bytes > cfg->max_think_bytes || !branches_right(&p, buf, info.corrected))) ||
            (kind == R1_TASK_ARITHMETIC && (!steps_right(buf, info.corrected) || !lines_add_up(buf)))) {
            char prompt[128];
            r1_task_prompt(&p, prompt, sizeof prompt);
            printf("  %s: trace %d for \"%s\" (len %d, think %d): %s\n", r1_task_name(kind), i, prompt, len,
                   info.think_bytes, len < 0 ? err.msg : buf);
            return 0;
        }
        if (r1_trace_write(&p, (uint64_t)i * 31, cfg, again, sizeof again, NULL, &err) != len || strcmp(buf, again)) {
            printf("  trace %d differs between two calls\n", i);
            return 0;
        }
        st->count++;
        st->think_total += info.think_bytes;
        st->think_max = info.think_bytes > st->think_max ? info.think_bytes : st->think_max;
        st->corrected += info.corrected;
        st->dead_total += info.dead_ends;
    }
    (void)t;
    return 1;
}

static void test_traces_score(test_ctx *t) {
    r1_trace_config cfg = r1_trace_default_config();
    for (int kind = 0; kind < R1_TASK_KIND_COUNT; kind++) {
        trace_stats st;
        CHECK(check_traces(t, kind, 4000, &cfg, &st), "%s traces", r1_task_name(kind));
        double corrected = (double)st.corrected / (double)st.count;
        printf("  %s: %ld traces, all reward 1; thinking mean %.0f bytes, max %d; corrected %.1f%%; "
               "failed branches per trace %.2f; %ld problems not narrated\n",
               r1_task_name(kind), st.count, (double)st.think_total / (double)st.count, st.think_max, 100 * corrected,
               (double)st.dead_total / (double)st.count, st.untold);
        CHECK(st.untold < st.count / 10, "%ld of %ld problems have no trace", st.untold, st.count);
        CHECK(corrected > 0.18 && corrected < 0.30, "%s corrected share %.3f for wrong_share 0.25", r1_task_name(kind),
              corrected);
        CHECK(kind != R1_TASK_ARITHMETIC || st.chains > 1000, "%ld chains of %ld", st.chains, st.count);
    }
    /* every trace a correction, and none: still all reward 1 */
    cfg.wrong_share = 1.0;
    for (int kind = 0; kind < R1_TASK_KIND_COUNT; kind++) {
        trace_stats st;
        CHECK(check_traces(t, kind, 2000, &cfg, &st), "%s traces, wrong_share 1", r1_task_name(kind));
        printf("  %s, wrong_share 1: corrected %.1f%%, thinking max %d\n", r1_task_name(kind),
               100.0 * (double)st.corrected / (double)st.count, st.think_max);
        CHECK(st.corrected > st.count * 9 / 10, "corrected %ld of %ld", st.corrected, st.count);
    }
    /* the marked rest lists, and the need beside each result: every line still a
     * true step by the same checker */
    for (int form = 1; form < 3; form++) {
        cfg = r1_trace_default_config();
        cfg.marked_rest = form == 1, cfg.compare = form == 2;
        trace_stats st;
        CHECK(check_traces(t, R1_TASK_COUNTDOWN, 2000, &cfg, &st), "countdown traces, marked_rest %d, compare %d",
              cfg.marked_rest, cfg.compare);
        printf("  countdown, marked_rest %d, compare %d: thinking mean %.0f bytes; failed branches per trace %.2f\n",
               cfg.marked_rest, cfg.compare, (double)st.think_total / (double)st.count,
               (double)st.dead_total / (double)st.count);
    }
    /* a search cut off anywhere (as by a token limit) is true so far: nothing judged */
    for (int form = 0; form < 3; form++) {
        cfg = r1_trace_default_config();
        cfg.marked_rest = form == 1, cfg.compare = form == 2;
        long judged = 0;
        for (int i = 0; i < 300; i++) {
            r1_problem p;
            char buf[4096];
            if (!countdown_trace_of((uint64_t)i, 3, &cfg, &p, buf, sizeof buf, NULL)) continue;
            size_t think = (size_t)(strstr(buf, "</think>") - buf);
            for (size_t len = 0; len < think; len++) {
                r1_countdown_steps steps;
                long at = r1_countdown_first_false(&p, buf, len, &steps);
                if (at >= 0 && judged++ == 0) printf("  judged false at %ld: %.*s\n", at, (int)len, buf);
            }
        }
        CHECK(judged == 0, "%ld prefixes of marked_rest %d, compare %d traces judged false", judged, cfg.marked_rest,
              cfg.compare);
    }
    cfg = r1_trace_default_config();
    cfg.wrong_share = 0;
    cfg.max_dead_ends = 2;
    cfg.max_think_bytes = 200;
    for (int kind = 0; kind < R1_TASK_KIND_COUNT; kind++) {
        trace_stats st;
        CHECK(check_traces(t, kind, 1000, &cfg, &st), "%s traces, short", r1_task_name(kind));
        CHECK(st.corrected == 0, "corrections with wrong_share 0");
        CHECK(kind != R1_TASK_COUNTDOWN || (st.dead_total <= 2 * st.count && st.dead_total > 0),
              "%ld failed branches told in %ld traces, at most 2 each", st.dead_total, st.count);
    }
}

/* Writes p's trace with seed 1 and checks it is want; a want without '\n' is instead
 * the name of the setting an out-of-range cfg must be refused for. */
static void expect_trace(test_ctx *t, const r1_problem *p, const r1_trace_config *cfg, const char *want) {
    char buf[1024];
    r1_err err;
    int rc = r1_trace_write(p, 1, cfg, buf, sizeof buf, NULL, &err);
    if (!strchr(want, '\n'))
        CHECK(rc == R1_ERR && strstr(err.msg, want), "%s accepted: %s", want, rc == R1_ERR ? err.msg : buf);
    else
        CHECK(rc > 0 && !strcmp(buf, want), "%s", rc > 0 ? buf : err.msg);
}

/* With slip_on_hit 0 the result that meets the need is never written off by one
 * first (no `= 91, wait, 65 + 25 = 90. Yes.`), and as many traces carry a slip;
 * with 1 (the default) it sometimes is. Every trace still earns reward 1 and passes
 * the line checker. */
static void test_slip_on_hit(test_ctx *t) {
    r1_trace_config cfg = r1_trace_default_config();
    cfg.wrong_share = 1;
    long hit_slips[2] = {0, 0}, corrected[2] = {0, 0};
    for (int on = 0; on < 2; on++) {
        cfg.slip_on_hit = on;
        trace_stats st;
        CHECK(check_traces(t, R1_TASK_COUNTDOWN, 1000, &cfg, &st), "countdown traces, slip_on_hit %d", on);
        corrected[on] = st.corrected;
        for (int i = 0; i < 1000; i++) {
            r1_problem p;
            char buf[4096];
            if (!countdown_trace_of((uint64_t)i, 5, &cfg, &p, buf, sizeof buf, NULL)) continue;
            const char *yes = strstr(buf, ". Yes.\n");
            if (!yes) continue;
            const char *try_start = yes;
            while (try_start > buf && try_start[-1] != ',' && try_start[-1] != ':') try_start--;
            hit_slips[on] += try_start - buf >= 5 && !strncmp(try_start - 5, "wait,", 5); /* `= 91, wait, 65 + 25 = 90` */
        }
    }
    printf("  slip_on_hit 0: %ld slips on the meeting result, %ld traces corrected; slip_on_hit 1: %ld, %ld\n",
           hit_slips[0], corrected[0], hit_slips[1], corrected[1]);
    CHECK(hit_slips[0] == 0 && hit_slips[1] > 20, "slips on the meeting result: %ld with slip_on_hit 0, %ld with 1",
          hit_slips[0], hit_slips[1]);
    CHECK(corrected[0] >= corrected[1] * 95 / 100, "traces corrected: %ld with slip_on_hit 0, %ld with 1", corrected[0],
          corrected[1]);
    cfg.slip_on_hit = 2;
    int n[] = {7, 3, 5};
    r1_problem p = countdown(3, n, 26);
    expect_trace(t, &p, &cfg, "slip_on_hit");
}

/* With give_up, a search longer than the budget is told from its first line, every
 * line true, within the budget, and ends in a guess; one that fits is the trace it
 * always was. */
static void test_give_up(test_ctx *t) {
    r1_trace_config plain = r1_trace_default_config(), cfg = plain;
    cfg.give_up = 1;
    int gave_up = 0, same = 0;
    for (int i = 0; i < 600; i++) {
        r1_problem p;
        char a[4096], b[4096];
        r1_err err;
        r1_trace_info info_b;
        if (!countdown_trace_of((uint64_t)i, 9, &plain, &p, a, sizeof a, NULL)) continue;
        CHECK(r1_trace_write(&p, (uint64_t)i, &cfg, b, sizeof b, &info_b, &err) > 0, "%s", err.msg);
        CHECK(info_b.think_bytes <= cfg.max_think_bytes, "give-up trace of %d bytes", info_b.think_bytes);
        r1_countdown_steps steps;
        CHECK(r1_countdown_first_false(&p, b, strlen(b), &steps) == -1 && steps.ended, "a false line in\n%s", b);
        if (!info_b.hasty) {
            same += !strcmp(a, b);
            CHECK(!strcmp(a, b), "a search that fits changed:\n%s\n%s", a, b);
            continue;
        }
        gave_up++;
        r1_reward r;
        CHECK(r1_task_reward(&p, b, &r) < 1.0f && steps.yes == 0, "a give-up trace found the need:\n%s", b);
        /* it starts where the whole search starts: the plain trace's first line unless that one dropped it */
        r1_trace_config whole = cfg;
        whole.max_think_bytes = 100000, whole.max_dead_ends = 8;
        char full[1 << 14];
        if (r1_trace_write(&p, (uint64_t)i, &whole, full, sizeof full, NULL, &err) > 0 && !strstr(full, "wait") &&
            !strstr(b, "wait"))
            CHECK(!strncmp(full, b, (size_t)(strstr(b, "</think>") - b)), "not the search's start:\n%s\n%s", full, b);
    }
    printf("  give_up 1: %d of 600 traces give up; %d unchanged\n", gave_up, same);
    CHECK(gave_up > 30 && same > 300, "%d give-ups, %d unchanged", gave_up, same);
}

/* A hasty solver's trace is the careful one cut after its first or second failed
 * two-number line, every line still true, then a guess of every number added; a
 * search that succeeds by then is the careful trace itself. */
static void test_hasty_traces(test_ctx *t) {
    r1_trace_config careful = r1_trace_default_config(), hasty;
    careful.wrong_share = 0; /* (a slip lands elsewhere in a shorter trace) */
    hasty = careful, hasty.hasty_share = 1.0;
    int n_hasty = 0, n = 0;
    for (int i = 0; i < 1000; i++) {
        r1_problem p;
        r1_task_generate(R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, (uint64_t)i, 5, &p);
        char full[4096], cut[4096];
        r1_trace_info info;
        r1_err err;
        int full_len = r1_trace_write(&p, (uint64_t)i, &careful, full, sizeof full, NULL, &err);
        int cut_len = r1_trace_write(&p, (uint64_t)i, &hasty, cut, sizeof cut, &info, &err);
        if (full_len == R1_TRACE_UNTOLD) continue;
        CHECK(full_len > 0 && cut_len > 0, "%s", err.msg); /* (info is set only then) */
        n++;
        r1_countdown_steps steps;
        CHECK(r1_countdown_first_false(&p, cut, (size_t)cut_len, &steps) < 0 && steps.ended, "a false line: %s", cut);
        if (!info.hasty) {
            CHECK(steps.yes == 1 && !strcmp(cut, full), "not hasty, but not the careful trace: %s", cut);
            continue;
        }
        n_hasty++;
        char guess[64];
        int at = snprintf(guess, sizeof guess, "<answer>%d", p.numbers[0]);
        for (int k = 1; k < p.n_numbers; k++)
            at += snprintf(guess + at, sizeof guess - (size_t)at, " + %d", p.numbers[k]);
        const char *end_think = strstr(cut, "</think>");
        int verdicts = 0;
        for (const char *c = strstr(cut, ". No.\n"); c && c < end_think; c = strstr(c + 1, ". No.\n")) verdicts++;
        CHECK(info.dead_ends >= 1 && info.dead_ends <= verdicts, "%d failed branches told in: %s", info.dead_ends, cut);
        CHECK(steps.yes == 0 && strstr(cut, guess) && (verdicts == 1 || verdicts == 2) &&
                  end_think - cut >= 6 && !strncmp(end_think - 6, ". No.\n", 6) &&
                  !strncmp(full, cut, (size_t)(end_think - cut)),
              "hasty trace: %s\nfull: %s", cut, full);
    }
    printf("  hasty_share 1: %d of %d traces give up and guess\n", n_hasty, n);
    CHECK(n_hasty > n / 4 && n_hasty < n, "%d hasty of %d", n_hasty, n);
    r1_problem p;
    r1_err err;
    char buf[4096];
    r1_task_generate(R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, 3, 5, &p);
    hasty.hasty_share = 1.5;
    CHECK(r1_trace_write(&p, 9, &hasty, buf, sizeof buf, NULL, &err) == R1_ERR && strstr(err.msg, "hasty_share"), "%s",
          err.msg);
}

/* The default config's traces are byte for byte those every earlier run trained
 * on (the FNV-1a hash of 300 of them, taken at commit a851939, before
 * hasty_share): a new trace option must not draw from the stream when off. */
static void test_traces_unchanged(test_ctx *t) {
    r1_trace_config cfg = r1_trace_default_config();
    uint64_t hash = 1469598103934665603ull;
    for (int i = 0; i < 300; i++) {
        r1_problem p;
        r1_task_generate(i % 2 ? R1_TASK_COUNTDOWN : R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, (uint64_t)i, 7, &p);
        char buf[4096];
        r1_err err;
        int len = r1_trace_write(&p, (uint64_t)i, &cfg, buf, sizeof buf, NULL, &err);
        for (int k = 0; k < len; k++) hash = (hash ^ (unsigned char)buf[k]) * 1099511628211ull;
    }
    CHECK(hash == 14159401616398402405ull, "the traces changed: hash %llu", (unsigned long long)hash);
}

static void test_trace_examples(test_ctx *t) {
    r1_trace_config cfg = r1_trace_default_config();
    char buf[1024];
    r1_err err;
    int n[] = {7, 3, 5};
    r1_problem p = countdown(3, n, 26);
    cfg.wrong_share = 0;
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) > 0, "%s", err.msg);
    printf("  example (Using the numbers 7, 3, 5, make 26.):\n%s\n", buf);
    CHECK(strcmp(buf, "26 - 7 = 19, 19 from 3, 5: 5 + 3 = 8, 5 * 3 = 15. No.\n"
                      "26 - 5 = 21, 21 from 7, 3: 7 + 3 = 10, 7 * 3 = 21. Yes.\n</think>\n<answer>5 + 7 * 3</answer>") == 0,
          "%s", buf);
    int four[] = {65, 25, 93, 48};
    p = countdown(4, four, 51);
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) > 0, "%s", err.msg);
    printf("  example (Using the numbers 65, 25, 93, 48, make 51.):\n%s\n", buf);
    CHECK(strstr(buf, "51 - 48 = 3, 3 from 65, 25, 93:\n") &&
              strstr(buf, " 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90. Yes.\n</think>\n<answer>48 + 93 - (65 + 25)</answer>"),
          "%s", buf);
    cfg.marked_rest = 1; /* the same search, each rest the whole list with the numbers taken marked */
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) > 0, "%s", err.msg);
    CHECK(strstr(buf, "51 - 48 = 3, 3 from 65, 25, 93, 48 used:\n") &&
              strstr(buf, " 93 - 3 = 90, 90 from 65, 25, 93 used, 48 used: 65 + 25 = 90. Yes.\n</think>\n"
                          "<answer>48 + 93 - (65 + 25)</answer>"),
          "%s", buf);
    p = countdown(3, n, 26);
    expect_trace(t, &p, &cfg, "26 - 7 = 19, 19 from 7 used, 3, 5: 5 + 3 = 8, 5 * 3 = 15. No.\n"
                              "26 - 5 = 21, 21 from 7, 3, 5 used: 7 + 3 = 10, 7 * 3 = 21. Yes.\n</think>\n"
                              "<answer>5 + 7 * 3</answer>");
    cfg.marked_rest = 2;
    expect_trace(t, &p, &cfg, "marked_rest");
    cfg.marked_rest = 0;
    cfg.compare = 1; /* the need beside each result */
    expect_trace(t, &p, &cfg, "26 - 7 = 19, 19 from 3, 5: 5 + 3 = 8 vs 19, 5 * 3 = 15 vs 19. No.\n"
                              "26 - 5 = 21, 21 from 7, 3: 7 + 3 = 10 vs 21, 7 * 3 = 21 vs 21. Yes.\n</think>\n"
                              "<answer>5 + 7 * 3</answer>");
    cfg.compare = 2;
    expect_trace(t, &p, &cfg, "compare");
    cfg.compare = 0;
    int pairs[] = {50, 30, 40}; /* only 40 * 30 / 50, whose need 24 * 50 is not tried */
    p = countdown(3, pairs, 24);
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) == R1_TRACE_UNTOLD && strstr(err.msg, "not narrate"),
          "%s", err.msg);
    cfg = r1_trace_default_config();
    p = arithmetic(123, '*', 456);
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) > 0, "%s", err.msg);
    printf("  example (What is 123 * 456?):\n%s\n", buf);
    CHECK(strstr(buf, "123 * 400: 3 * 4 = 12, 2 * 4 + 1 = 9, 1 * 4 = 4. So 49200.\n") &&
              strstr(buf, "</think>\n<answer>56088</answer>"),
          "%s", buf);
    p = arithmetic(632, '-', 285);
    cfg.wrong_share = 0;
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) > 0 &&
              strcmp(buf, "632 - 285: 12 - 5 = 7, 13 - 8 - 1 = 4, 6 - 2 - 1 = 3. So 347.\n</think>\n<answer>347</answer>") == 0,
          "%s", buf);
    cfg = r1_trace_default_config();
    p = arithmetic(48, '+', 75);
    r1_task_rng chain = {3};
    while (!(p.op2 == '-' && p.third < 10)) p.op2 = 0, r1_arithmetic_make_chain(&p, &chain);
    p.third = 3, r1_arithmetic_set_answer(&p);
    cfg.wrong_share = 0;
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) > 0 &&
              strcmp(buf, "48 + 75: 8 + 5 = 13, 4 + 7 + 1 = 12. So 123.\n123 - 3: 3 - 3 = 0, 2 - 0 = 2, 1 - 0 = 1. So 120.\n"
                          "</think>\n<answer>120</answer>") == 0,
          "%s", buf);
    p = arithmetic(5, '-', 34);
    CHECK(r1_arithmetic_make_chain(&p, &chain) == 0 && p.op2 == 0, "a chain from a negative first result");
    p.op2 = '+', p.third = 3;
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) == R1_ERR && strstr(err.msg, "below zero"), "%s",
          err.msg);
    cfg = r1_trace_default_config();
    p = arithmetic(7, '*', 0);
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) > 0 && r1_task_reward(&p, buf, NULL) == 1.0f, "%s", buf);
    char big[8192]; /* the largest operands a file may hold: a long trace, still right */
    p = arithmetic(999999999, '*', 999999999);
    CHECK(r1_trace_write(&p, 1, &cfg, big, sizeof big, NULL, &err) > 0 && r1_task_reward(&p, big, NULL) == 1.0f, "%s", big);
    p = arithmetic(100000000, '-', 999999999);
    CHECK(r1_trace_write(&p, 1, &cfg, big, sizeof big, NULL, &err) > 0 && r1_task_reward(&p, big, NULL) == 1.0f, "%s", big);

    int frac[] = {3, 3, 8, 8};
    p = countdown(4, frac, 24);
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) == R1_ERR && strstr(err.msg, "whole-number"),
          "%s", err.msg);
    p = countdown(3, n, 26);
    CHECK(r1_trace_write(&p, 1, &cfg, buf, 20, NULL, &err) == R1_ERR && strstr(err.msg, "does not fit"), "%s", err.msg);
    cfg.wrong_share = 2;
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) == R1_ERR && strstr(err.msg, "config"), "%s", err.msg);
}

/* r1_countdown_first_false on hand-made searches of "Using the numbers 65, 25,
 * 93, 48, make 51." (the trace of RESULTS.md, then each kind of false part
 * planted in it): '|' marks where the first false part must be found; a text
 * without '|' has none. */
static void test_countdown_first_false(test_ctx *t) {
    static const int numbers[] = {65, 25, 93, 48};
    static const char *const found_line =
        " 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28. No.\n 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90. Yes.\n";
    static const struct {
        const char *text;
        int slips, yes, ended;
    } cases[] = {
        {"51 - 48 = 3, 3 from 65, 25, 93:\n%s</think>\n<answer>48 + 93 - (65 + 25)</answer>", 0, 1, 1},
        {"51 - 48 = 4, wait, 51 - 48 = 3, 3 from 65, 25, 93:\n%s</think>\n<answer>1</answer>", 1, 1, 1},
        {"51 - 48 = |4, 4 from 65, 25, 93:\n%s</think>\n", 0, 0, 0},          /* a computation */
        {"51 - 48 = |4, wait, 51 - 48 = 5, 5 from 65, 25, 93:\n", 0, 0, 0},  /* a wrong correction */
        {"|50 - 48 = 2, 2 from 65, 25, 93:\n", 0, 0, 0},                     /* not the target */
        {"|51 - 47 = 4, 4 from 65, 25, 93:\n", 0, 0, 0},                     /* not a number given */
        {"|51 / 48 = 1, 1 from 65, 25, 93:\n", 0, 0, 0},                     /* no such move */
        {"51 - 48 = 3|, 4 from 65, 25, 93:\n", 0, 0, 0},                     /* the need restated */
        {"51 - 48 = 3, 3 from 65|, 93, 25:\n", 0, 0, 0},                     /* the rest miscopied */
        {"51 - 48 = 3, 3 from 65, 25|:\n", 0, 0, 0},                         /* a number left out */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 - 3 = 90, 90 from 65, 25: |25 + 65 = 90. Yes.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90|, 65 - 25 = 40. No.\n", 0, 0,
         0},                                                                  /* past the need */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 - 3 = 90, 90 from 65, 25: 65 - 25 = 40. |Yes.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90. |No.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n%s|51 - 65 = -14, -14 from 25, 93, 48:\n", 0, 1, 0}, /* on after Yes */
        {"| 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28. No.\n", 0, 0, 0},   /* inside no opened problem */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28. No.\n</think>\n", 0, 0, 1},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 9", 0, 0, 0},  /* cut off, true so far */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = |21, 21 from 65, 9", 0, 0, 0}, /* cut off after a false part */
        /* what a model may write: not the trace's shape at all */
        {"|51 \n51 - 48 = 3, 3 from 65, 25, 93:\n", 0, 0, 0},            /* a line ends where the operator goes */
        {"|1234567890123 - 48 = 3, 3 from 65, 25, 93:\n", 0, 0, 0},       /* a number too long */
        {"|51 / 0 = 0, 0 from 65, 25, 93:\n", 0, 0, 0},                   /* division by zero */
        {"|51 ^ 48 = 3, 3 from 65, 25, 93:\n", 0, 0, 0},                  /* no such operator */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = -", 0, 0, 0},        /* cut off at a sign */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28. No.\n</thi", 0, 0, 0},
        /* marked rest lists (traces.h, marked_rest): the whole list, the numbers taken marked used */
        {"51 - 48 = 3, 3 from 65, 25, 93, 48 used:\n 93 - 3 = 90, 90 from 65, 25, 93 used, 48 used: 65 + 25 = 90. "
         "Yes.\n</think>\n", 0, 1, 1},
        {"51 - 48 = 3, 3 from 65, 25, 93, 48 used:\n 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90. Yes.\n</think>\n", 0,
         1, 1},                                                               /* a plain rest inside a marked one */
        {"51 - 48 = 3, 3 from 65| used, 25, 93, 48:\n", 0, 0, 0},            /* the wrong number marked */
        {"51 - 48 = 3, 3 from 65, 25, 93, 48 used:\n 93 - 3 = 90, 90 from 65, 25, 93 used, 48|: 65 + 25 = 90. Yes.\n",
         0, 0, 0},                                                            /* a mark dropped in the copy */
        {"51 - 48 = 3, 3 from 65, 25, 93, 48", 0, 0, 0},                      /* cut off before its mark */
        {"51 - 48 = 3, 3 from 65, 25, ", 0, 0, 0},                            /* cut off, plain or marked */
        {"51 - 48 = 4, wait, 51 ", 0, 0, 0},                                  /* cut off in a correction */
        {"51 - 48 = 3, 3 from 65, 25, 93, 48 used:\n 93 - 3 = 90, 90 from 65, 25, 93 us", 0, 0, 0}, /* cut off */
        {"51 - 48 = 3, 3 from 65, 25, 93, 48 u", 0, 0, 0},                    /* cut off in the first mark */
        /* the need beside each result (traces.h, compare) */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28 vs 22. No.\n 93 - 3 = 90, 90 "
         "from 65, 25: 65 + 25 = 90 vs 90. Yes.\n</think>\n", 0, 1, 1},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28 vs |23. No.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90 vs 90. |No.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28 vs 2", 0, 0, 0}, /* cut off */
    };
    r1_problem p = countdown(4, numbers, 51);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char marked[512], text[512];
        snprintf(marked, sizeof marked, cases[i].text, found_line);
        const char *mark = strchr(marked, '|');
        long want = mark ? (long)(mark - marked) : -1;
        size_t n = 0;
        for (const char *c = marked; *c; c++)
            if (*c != '|') text[n++] = *c;
        text[n] = '\0';
        r1_countdown_steps steps;
        long got = r1_countdown_first_false(&p, text, n, &steps);
        CHECK(got == want, "case %zu: first false part at %ld (%.20s), want %ld", i, got, got >= 0 ? text + got : "",
              want);
        CHECK(steps.slips == cases[i].slips && steps.yes == cases[i].yes && steps.ended == cases[i].ended,
              "case %zu: slips %d, yes %d, ended %d", i, steps.slips, steps.yes, steps.ended);
        CHECK(!steps.ended || !strncmp(text + steps.think_end, "</think>", 8), "case %zu: think_end %ld", i,
              steps.think_end);
    }
    /* a NUL byte where the operator goes: judged by the length, not a terminator */
    static const char nul[] = "51 - 48 = 3, 3 from 65, 25, 93:\n 25 \0 3 = 22, 22 from 65, 93: 93 - 65 = 28. No.\n";
    r1_countdown_steps steps;
    long got = r1_countdown_first_false(&p, nul, sizeof nul - 1, &steps);
    CHECK(got == (long)strlen("51 - 48 = 3, 3 from 65, 25, 93:\n "), "NUL: first false part at %ld", got);
    r1_problem two = countdown(2, numbers, 51); /* not a search of this form: nothing judged */
    CHECK(r1_countdown_first_false(&two, "51 - 48 = 3\n", 12, &steps) == -1 && steps.lines == 0, "two numbers");
}

TEST_MAIN("tasks", T(test_rng_golden), T(test_generate_golden), T(test_generate_deterministic),
          T(test_splits_disjoint), T(test_countdown_reachable), T(test_countdown_solver),
          T(test_arithmetic_distribution), T(test_prompts), T(test_countdown_eval), T(test_reward_format),
          T(test_reward_arithmetic), T(test_json_lines), T(test_traces_score), T(test_hasty_traces), T(test_slip_on_hit), T(test_give_up), T(test_traces_unchanged), T(test_countdown_first_false), T(test_trace_examples))
