/* The solver that writes search traces (format in traces.h). Every number a trace
 * states is computed, never copied from a template, and the one deliberate error
 * (a "slip") is always followed by the check that exposes it, so the model learns
 * that checking pays. Traces are short on purpose: the tiny model sees a few
 * hundred bytes of context, so the Countdown search narrates only a sample of its
 * dead ends; arithmetic goes column by column, the longest trace that stays
 * learnable. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/traces.h"

#define MAX_NARRATED 8
#define LINE_BYTES 256

r1_trace_config r1_trace_default_config(void) {
    return (r1_trace_config){.max_think_bytes = 400, .max_dead_ends = 3, .wrong_share = 0.25};
}

/* ---- text building ---- */

typedef struct {
    char *buf;
    size_t size, len;
    int overflow;
} text;

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt, ...) {
    if (t->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->size - t->len) {
        t->overflow = 1;
        return;
    }
    t->len += (size_t)n;
}

/* A draw below p (0..1). */
static int chance(r1_task_rng *rng, double p) { return r1_task_rng_unit(rng) < p; }

static int64_t pow10i(int k) {
    int64_t v = 1;
    while (k-- > 0) v *= 10;
    return v;
}

/* ---- Countdown: a shuffled depth-first search ---- */

/* One move a op b = result, made on items first and second of the list at its
 * depth (the new list: the other items in order, then the result). */
typedef struct {
    int64_t a, b, result;
    char op;
    int first, second;
} step;

typedef struct {
    step steps[R1_COUNTDOWN_MAX_NUMBERS - 1];
    int n_steps;
    int64_t value;
} path;

typedef struct {
    r1_task_rng *rng;
    int64_t target;
    path current;
    int found;
    path solution;        /* the first path reaching the target */
    long dead_before;     /* dead ends met before it */
    int want;             /* dead ends to sample from those */
    path sample[MAX_NARRATED];
    long sample_at[MAX_NARRATED];
    int have_near;
    path near;            /* the dead end closest to the target, for a slip */
} search;

/* Dead ends worth narrating stay below 1000 at every step: a person abandons
 * 448 * 69 without working it out, and long products would crowd the context. */
static int narratable(const path *pa) {
    for (int d = 0; d < pa->n_steps; d++)
        if (pa->steps[d].result >= 1000) return 0;
    return 1;
}

static void leaf(search *s) {
    path *c = &s->current;
    if (c->value == s->target) {
        if (!s->found) s->found = 1, s->solution = *c;
        return;
    }
    if (!narratable(c)) return;
    int64_t dist = llabs(c->value - s->target);
    if (!s->have_near || dist < llabs(s->near.value - s->target)) s->have_near = 1, s->near = *c;
    if (s->found || s->want == 0) return;
    /* reservoir sampling: each dead end before the solution equally likely kept */
    long k = s->dead_before++;
    long slot = k < s->want ? k : (long)r1_task_rng_below(s->rng, (uint32_t)(k + 1));
    if (slot < s->want) s->sample[slot] = *c, s->sample_at[slot] = k;
}

/* Searched to the end, not stopped at the solution, so the near miss is the
 * closest of all dead ends. */
static void dfs(search *s, const int64_t *vals, int n, int depth) {
    if (n == 1) {
        s->current.value = vals[0];
        s->current.n_steps = depth;
        leaf(s);
        return;
    }
    static const char ops[] = {'+', '-', '*', '/'};
    step moves[6 * 4];
    int n_moves = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int first = vals[i] >= vals[j] ? i : j, second = first == i ? j : i;
            for (int o = 0; o < 4; o++) {
                step m = {vals[first], vals[second], 0, ops[o], first, second};
                if (r1_countdown_apply(m.a, m.op, m.b, &m.result)) moves[n_moves++] = m;
            }
        }
    for (int i = n_moves - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)r1_task_rng_below(s->rng, (uint32_t)i + 1);
        step tmp = moves[i];
        moves[i] = moves[j];
        moves[j] = tmp;
    }
    for (int k = 0; k < n_moves; k++) {
        int64_t next[R1_COUNTDOWN_MAX_NUMBERS];
        int m = 0;
        for (int i = 0; i < n; i++)
            if (i != moves[k].first && i != moves[k].second) next[m++] = vals[i];
        next[m] = moves[k].result;
        s->current.steps[depth] = moves[k];
        dfs(s, next, m + 1, depth + 1);
    }
}

static int same_path(const path *x, const path *y) {
    if (x->n_steps != y->n_steps) return 0;
    for (int d = 0; d < x->n_steps; d++)
        if (x->steps[d].first != y->steps[d].first || x->steps[d].second != y->steps[d].second ||
            x->steps[d].op != y->steps[d].op)
            return 0;
    return 1;
}

/* The path's moves replayed on expressions: the answer text. */
static void path_expr(const r1_problem *p, const path *pa, r1_countdown_expr *out) {
    r1_countdown_expr items[R1_COUNTDOWN_MAX_NUMBERS], next[R1_COUNTDOWN_MAX_NUMBERS];
    int n = p->n_numbers;
    for (int i = 0; i < n; i++) r1_countdown_expr_number(&items[i], p->numbers[i]);
    for (int d = 0; d < pa->n_steps; d++, n--) {
        int m = 0;
        for (int k = 0; k < n; k++)
            if (k != pa->steps[d].first && k != pa->steps[d].second) next[m++] = items[k];
        r1_countdown_expr_join(&next[m], &items[pa->steps[d].first], pa->steps[d].op, &items[pa->steps[d].second]);
        memcpy(items, next, sizeof items);
    }
    *out = items[0];
}

/* `Try a op b = r, ...`; claimed replaces the last result (a slip) when >= 0. */
static void put_try(text *t, const path *pa, int64_t claimed) {
    put(t, "Try");
    for (int d = 0; d < pa->n_steps; d++) {
        const step *st = &pa->steps[d];
        int64_t r = d == pa->n_steps - 1 && claimed >= 0 ? claimed : st->result;
        put(t, "%s %lld %c %lld = %lld", d ? "," : "", (long long)st->a, st->op, (long long)st->b, (long long)r);
    }
}

/* The expression with its parentheses removed, when that changes it into a whole
 * number other than the target: the mistake of forgetting them. */
static int flat_value(const r1_problem *p, const char *expr, char *flat, size_t size, int64_t *value) {
    size_t n = 0;
    for (const char *c = expr; *c && n + 1 < size; c++)
        if (*c != '(' && *c != ')') flat[n++] = *c;
    flat[n] = '\0';
    int64_t num, den;
    if (strcmp(flat, expr) == 0 || r1_countdown_eval(flat, n, p->numbers, p->n_numbers, &num, &den, NULL) != R1_OK)
        return 0;
    *value = num;
    return den == 1 && num != p->target;
}

static int countdown_trace(const r1_problem *p, r1_task_rng *rng, const r1_trace_config *cfg, text *out,
                           r1_trace_info *info, r1_err *err) {
    int64_t vals[R1_COUNTDOWN_MAX_NUMBERS];
    for (int i = 0; i < p->n_numbers; i++) vals[i] = p->numbers[i];
    search s;
    memset(&s, 0, sizeof s);
    s.rng = rng;
    s.target = p->target;
    s.want = (int)r1_task_rng_below(rng, (uint32_t)cfg->max_dead_ends + 1);
    dfs(&s, vals, p->n_numbers, 0);
    if (!s.found)
        return r1_fail(err, "traces: countdown target %d has no whole-number solution from these numbers", p->target);

    r1_countdown_expr answer;
    path_expr(p, &s.solution, &answer);
    char flat[R1_COUNTDOWN_EXPR_MAX];
    int64_t flat_v = 0;
    int can_bracket = flat_value(p, answer.text, flat, sizeof flat, &flat_v);
    int wrong = chance(rng, cfg->wrong_share);
    int bracket = wrong && can_bracket && (!s.have_near || r1_task_rng_below(rng, 2));
    int slip = wrong && !bracket && s.have_near;

    /* dead ends in the order the search met them */
    int n_dead = s.want < s.dead_before ? s.want : (int)s.dead_before;
    for (int i = 1; i < n_dead; i++)
        for (int k = i; k > 0 && s.sample_at[k - 1] > s.sample_at[k]; k--) {
            path tp = s.sample[k];
            long ta = s.sample_at[k];
            s.sample[k] = s.sample[k - 1], s.sample_at[k] = s.sample_at[k - 1];
            s.sample[k - 1] = tp, s.sample_at[k - 1] = ta;
        }
    if (slip) /* the slip's path is not also told as a plain dead end */
        for (int i = 0; i < n_dead; i++)
            if (same_path(&s.sample[i], &s.near)) {
                memmove(&s.sample[i], &s.sample[i + 1], (size_t)(n_dead - i - 1) * sizeof s.sample[0]);
                n_dead--;
                break;
            }
    char dead[MAX_NARRATED][LINE_BYTES], tail[2 * LINE_BYTES];
    size_t dead_len[MAX_NARRATED], total = 0;
    for (int i = 0; i < n_dead; i++) {
        text t = {dead[i], LINE_BYTES, 0, 0};
        put_try(&t, &s.sample[i], -1);
        put(&t, ". Not %d.\n", p->target);
        dead_len[i] = t.len;
        total += t.len;
    }
    text t = {tail, sizeof tail, 0, 0};
    if (slip) {
        r1_countdown_expr near_expr;
        path_expr(p, &s.near, &near_expr);
        const step *last = &s.near.steps[s.near.n_steps - 1];
        put_try(&t, &s.near, p->target);
        put(&t, ". Check: %s = %lld, not %d. Wait, %lld %c %lld = %lld.\n", near_expr.text, (long long)s.near.value,
            p->target, (long long)last->a, last->op, (long long)last->b, (long long)last->result);
    }
    put_try(&t, &s.solution, -1);
    if (bracket)
        put(&t, ". Check: %s = %lld, not %d. Wait, it needs parentheses: %s = %d. Yes.\n", flat, (long long)flat_v,
            p->target, answer.text, p->target);
    else
        put(&t, ". Check: %s = %d. Yes.\n", answer.text, p->target);
    total += t.len;

    int first = 0; /* drop the oldest dead ends until the thinking fits */
    while (first < n_dead && total > (size_t)cfg->max_think_bytes) total -= dead_len[first++];
    for (int i = first; i < n_dead; i++) put(out, "%s", dead[i]);
    put(out, "%s", tail);
    info->dead_ends = n_dead - first;
    info->corrected = slip || bracket;
    put(out, "</think>\n<answer>%s</answer>", answer.text);
    return R1_OK;
}

/* ---- arithmetic: column by column, least significant digit first ---- */

/* Why columns: a tiny model cannot add 347 + 285 in one breath, but it can learn
 * the hundred one-digit facts. Each step names its two digits and the carry (or
 * borrow) it takes from the step before, so every number the model writes is a
 * function of a few bytes it can see; the result's digits are the steps' last
 * digits read backwards. */

/* The digits of v >= 0, least significant first; returns how many (at least 1). */
static int digits_of(int64_t v, int digits[20]) {
    int n = 0;
    do digits[n++] = (int)(v % 10), v /= 10;
    while (v > 0);
    return n;
}

typedef struct {
    text *out;
    r1_task_rng *rng;
    int step;      /* column steps written so far */
    int slip_at;   /* the step written wrong and then corrected, -1 for none */
    int line_step; /* steps written on the current line */
} columns;

/* A line's `x op y: ` before its steps. */
__attribute__((format(printf, 2, 3))) static void put_header(columns *c, const char *fmt, ...) {
    char line[LINE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    put(c->out, "%s: ", line);
    c->line_step = 0;
}

/* One step `LHS = value`; at the slip, a value off by one comes first and is
 * caught: `4 + 8 + 1 = 14, wait, 4 + 8 + 1 = 13`. */
static void put_step(columns *c, const char *lhs, int value) {
    put(c->out, "%s%s = ", c->line_step++ ? ", " : "", lhs);
    if (c->step++ == c->slip_at) {
        int wrong = value == 0 || r1_task_rng_below(c->rng, 2) ? value + 1 : value - 1;
        put(c->out, "%d, wait, %s = ", wrong, lhs);
    }
    put(c->out, "%d", value);
}

/* `x + y: 7 + 5 = 12, 4 + 8 + 1 = 13, 3 + 2 + 1 = 6. So 632.` */
static int64_t put_sum(columns *c, int64_t x, int64_t y) {
    int dx[20], dy[20], nx = digits_of(x, dx), ny = digits_of(y, dy), carry = 0;
    put_header(c, "%lld + %lld", (long long)x, (long long)y);
    for (int i = 0; i < (nx > ny ? nx : ny); i++) {
        int a = i < nx ? dx[i] : 0, b = i < ny ? dy[i] : 0, s = a + b + carry;
        char lhs[32];
        snprintf(lhs, sizeof lhs, carry ? "%d + %d + 1" : "%d + %d", a, b);
        put_step(c, lhs, s);
        carry = s / 10;
    }
    put(c->out, ". So %lld.\n", (long long)(x + y));
    return x + y;
}

/* x - y for x >= y; a column that borrows shows the ten it took:
 * `632 - 285: 12 - 5 = 7, 13 - 8 - 1 = 4, 6 - 2 - 1 = 3. So 347.` */
static int64_t put_difference(columns *c, int64_t x, int64_t y) {
    int dx[20], dy[20], nx = digits_of(x, dx), ny = digits_of(y, dy), borrow = 0;
    put_header(c, "%lld - %lld", (long long)x, (long long)y);
    for (int i = 0; i < nx; i++) {
        int a = dx[i], b = i < ny ? dy[i] : 0, take = a < b + borrow;
        char lhs[32];
        snprintf(lhs, sizeof lhs, borrow ? "%s%d - %d - 1" : "%s%d - %d", take ? "1" : "", a, b);
        put_step(c, lhs, 10 * take + a - b - borrow);
        borrow = take;
    }
    put(c->out, ". So %lld.\n", (long long)(x - y));
    return x - y;
}

/* x times the digit d of weight 10^k: `347 * 80: 7 * 8 = 56, 4 * 8 + 5 = 37,
 * 3 * 8 + 3 = 27. So 27760.` */
static int64_t put_partial(columns *c, int64_t x, int d, int k) {
    int dx[20], nx = digits_of(x, dx), carry = 0;
    put_header(c, "%lld * %lld", (long long)x, (long long)(d * pow10i(k)));
    for (int i = 0; i < nx; i++) {
        char lhs[32];
        if (carry)
            snprintf(lhs, sizeof lhs, "%d * %d + %d", dx[i], d, carry);
        else
            snprintf(lhs, sizeof lhs, "%d * %d", dx[i], d);
        int v = dx[i] * d + carry;
        put_step(c, lhs, v);
        carry = v / 10;
    }
    put(c->out, ". So %lld.\n", (long long)(x * d * pow10i(k)));
    return x * d * pow10i(k);
}

/* x * y by one partial product per nonzero digit of y, each added to the running
 * sum as soon as there are two. */
static int64_t put_product(columns *c, int64_t x, int64_t y) {
    if (x == 0 || y == 0) {
        put(c->out, "%lld * %lld = 0.\n", (long long)x, (long long)y);
        return 0;
    }
    int dy[20], ny = digits_of(y, dy), have = 0;
    int64_t sum = 0;
    for (int k = 0; k < ny; k++) {
        if (dy[k] == 0) continue;
        int64_t partial = put_partial(c, x, dy[k], k);
        sum = have++ ? put_sum(c, sum, partial) : partial;
    }
    return sum;
}

/* x op y for x, y >= 0; a negative difference is found as the reverse one. */
static int64_t put_operation(columns *c, int64_t x, char op, int64_t y) {
    if (op == '*') return put_product(c, x, y);
    if (op == '+') return put_sum(c, x, y);
    if (x >= y) return put_difference(c, x, y);
    put(c->out, "%lld < %lld, so %lld - %lld = -(%lld - %lld).\n", (long long)x, (long long)y, (long long)x,
        (long long)y, (long long)y, (long long)x);
    return -put_difference(c, y, x);
}

/* A chain goes on from the first result, on the next line. */
static void put_arithmetic(columns *c, const r1_problem *p) {
    int64_t first = put_operation(c, p->lhs, p->op, p->rhs);
    if (p->op2) put_operation(c, first, p->op2, p->third);
}

static int arithmetic_trace(const r1_problem *p, r1_task_rng *rng, const r1_trace_config *cfg, text *out,
                            r1_trace_info *info, r1_err *err) {
    if (p->lhs < 0 || p->rhs < 0 || p->lhs > R1_ARITHMETIC_MAX_OPERAND || p->rhs > R1_ARITHMETIC_MAX_OPERAND ||
        (p->op2 && (p->third < 0 || p->third > R1_ARITHMETIC_MAX_OPERAND)))
        return r1_fail(err, "traces: arithmetic operands out of range 0..%d", R1_ARITHMETIC_MAX_OPERAND);
    if (p->op2 && p->op == '-' && p->lhs < p->rhs)
        return r1_fail(err, "traces: the chain %lld - %lld %c %lld starts below zero, which the column traces do "
                            "not continue from", (long long)p->lhs, (long long)p->rhs, p->op2, (long long)p->third);
    /* a dry run (writing nowhere) counts the steps, so the slip is equally likely
     * at each of them */
    text nowhere = {NULL, 0, 0, 1};
    columns count = {&nowhere, rng, 0, -1, 0};
    put_arithmetic(&count, p);
    int wrong = chance(rng, cfg->wrong_share) && count.step > 0;
    columns c = {out, rng, 0, wrong ? (int)r1_task_rng_below(rng, (uint32_t)count.step) : -1, 0};
    put_arithmetic(&c, p);
    info->corrected = wrong;
    put(out, "</think>\n<answer>%s</answer>", p->answer);
    return R1_OK;
}

int r1_trace_write(const r1_problem *p, uint64_t seed, const r1_trace_config *cfg, char *buf, size_t size,
                   r1_trace_info *info, r1_err *err) {
    if (cfg->max_dead_ends < 0 || cfg->max_dead_ends > MAX_NARRATED || !(cfg->wrong_share >= 0) ||
        cfg->wrong_share > 1 || cfg->max_think_bytes < 0)
        return r1_fail(err, "traces: config out of range (max_dead_ends 0..%d, wrong_share 0..1)", MAX_NARRATED);
    if (size == 0) return r1_fail(err, "traces: empty buffer");
    buf[0] = '\0';
    /* the problem is mixed into the stream so one seed varies across problems */
    uint64_t h = r1_task_mix64(seed ^ (uint64_t)p->kind);
    for (int i = 0; i < p->n_numbers && i < R1_COUNTDOWN_MAX_NUMBERS; i++) h = r1_task_mix64(h ^ (uint64_t)p->numbers[i]);
    h = r1_task_mix64(h ^ (uint64_t)p->target);
    h = r1_task_mix64(h ^ (uint64_t)p->lhs);
    h = r1_task_mix64(h ^ (uint64_t)p->rhs ^ ((uint64_t)(unsigned char)p->op << 40));
    if (p->op2) h = r1_task_mix64(h ^ (uint64_t)p->third ^ ((uint64_t)(unsigned char)p->op2 << 40));
    r1_task_rng rng = {h};
    text out = {buf, size, 0, 0};
    r1_trace_info local = {0};
    int rc;
    if (p->kind == R1_TASK_COUNTDOWN) {
        if (p->n_numbers < 2 || p->n_numbers > R1_COUNTDOWN_MAX_NUMBERS)
            return r1_fail(err, "traces: countdown problem with %d numbers", p->n_numbers);
        for (int i = 0; i < p->n_numbers; i++) /* keeps every narrated line short */
            if (p->numbers[i] < 1 || p->numbers[i] > 99)
                return r1_fail(err, "traces: countdown number %d is out of range 1..99", p->numbers[i]);
        rc = countdown_trace(p, &rng, cfg, &out, &local, err);
    } else if (p->kind == R1_TASK_ARITHMETIC) {
        rc = arithmetic_trace(p, &rng, cfg, &out, &local, err);
    } else {
        return r1_fail(err, "traces: unknown task kind %d", (int)p->kind);
    }
    if (rc != R1_OK) return rc;
    if (out.overflow) return r1_fail(err, "traces: trace does not fit in %zu bytes", size);
    const char *end = strstr(buf, "</think>");
    local.think_bytes = end ? (int)(end - buf) : (int)out.len;
    if (info) *info = local;
    return (int)out.len;
}
