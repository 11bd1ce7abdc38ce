/* Countdown: reach a target from 3 or 4 given numbers with + - * /, each number used
 * exactly once (the task of TinyZero and of DeepSeek-R1-Zero replications).
 *
 * Two rules, on purpose:
 *   - The generator and the solver's traces play the Countdown game's rule: every
 *     intermediate value a positive integer, subtraction only when the result stays
 *     positive, division only when exact. A target reachable this way is reachable
 *     by a short sum of whole-number steps, which a tiny model can narrate.
 *   - Answers are judged by value with exact rationals: any expression over the
 *     given numbers that equals the target scores, even through 7 / 2 or 3 - 5. This
 *     is the usual RL-Countdown reward (it evaluates the expression), and marking a
 *     right value wrong for its route would only teach the model our taste.
 * The first rule's targets are a subset of the second's, so every generated problem
 * has a correct answer. */
#include <stdio.h>
#include <string.h>

#include "train/task.h"

/* ---- exact rationals with overflow checks ---- */

typedef struct {
    int64_t num, den; /* den > 0, lowest terms */
} rational;

static int64_t gcd64(int64_t a, int64_t b) {
    if (a < 0) a = -a;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

/* Normalises num/den (den != 0); 0 when a value does not fit. */
static int rat_make(int64_t num, int64_t den, rational *out) {
    if (num == INT64_MIN || den == INT64_MIN) return 0;
    if (den < 0) {
        num = -num;
        den = -den;
    }
    int64_t g = gcd64(num, den);
    out->num = num / g;
    out->den = den / g;
    return 1;
}

/* a op b; returns 0 on overflow, -1 on division by zero. */
static int rat_apply(rational a, char op, rational b, rational *out) {
    int64_t x, y, den;
    switch (op) {
    case '+':
    case '-':
        if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(b.num, a.den, &y) ||
            __builtin_mul_overflow(a.den, b.den, &den))
            return 0;
        if (op == '+' ? __builtin_add_overflow(x, y, &x) : __builtin_sub_overflow(x, y, &x)) return 0;
        return rat_make(x, den, out);
    case '*':
        if (__builtin_mul_overflow(a.num, b.num, &x) || __builtin_mul_overflow(a.den, b.den, &den)) return 0;
        return rat_make(x, den, out);
    default: /* '/' */
        if (b.num == 0) return -1;
        if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(a.den, b.num, &den)) return 0;
        return rat_make(x, den, out);
    }
}

/* ---- expressions as text ---- */

static int op_prec(char op) { return op == '+' || op == '-' ? 1 : 2; }

void r1_countdown_expr_number(r1_countdown_expr *e, int64_t n) {
    snprintf(e->text, sizeof e->text, "%lld", (long long)n);
    e->prec = 3;
}

/* A child needs parentheses when it binds more loosely than op, and on the right of
 * - or / also when it binds equally: a - (b + c) is not a - b + c. On the right of
 * + or *, equal binding needs none: a + (b - c) = a + b - c exactly, and with
 * rationals a * (b / c) = a * b / c. */
void r1_countdown_expr_join(r1_countdown_expr *out, const r1_countdown_expr *left, char op,
                            const r1_countdown_expr *right) {
    int prec = op_prec(op);
    int paren_left = left->prec < prec;
    int paren_right = right->prec < prec || (right->prec == prec && (op == '-' || op == '/'));
    const char op_text[4] = {' ', op, ' ', '\0'};
    const char *parts[] = {paren_left ? "(" : "", left->text, paren_left ? ")" : "", op_text,
                           paren_right ? "(" : "", right->text, paren_right ? ")" : ""};
    /* 4 numbers of 1..99 need at most 25 bytes; a longer text is cut */
    size_t len = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        for (const char *c = parts[i]; *c && len + 1 < sizeof out->text; c++) out->text[len++] = *c;
    out->text[len] = '\0';
    out->prec = prec;
}

/* ---- the exhaustive solver ---- */

int r1_countdown_apply(int64_t a, char op, int64_t b, int64_t *result) {
    if (a <= 0 || b <= 0) return 0;
    switch (op) {
    case '+': return !__builtin_add_overflow(a, b, result);
    case '*': return !__builtin_mul_overflow(a, b, result);
    case '-':
        if (a <= b) return 0;
        *result = a - b;
        return 1;
    case '/':
        if (a % b) return 0;
        *result = a / b;
        return 1;
    default: return 0;
    }
}

/* One move of a search path: items first and second of the current list combined
 * with op; the new list is the other items in order, then the result. */
typedef struct {
    int first, second;
    char op;
} move;

typedef struct {
    int integer_only;
    int target;     /* solve mode: stop at the first path reaching it */
    uint8_t *reach; /* reach mode (not NULL): mark every integer 1..100 reached */
    move path[R1_COUNTDOWN_MAX_NUMBERS - 1];
} search_state;

/* Picking two of the remaining values and replacing them by their combination,
 * until one value is left, visits every order, operator and parenthesisation. */
static int search(search_state *s, const rational *vals, int n, int depth) {
    if (n == 1) {
        if (vals[0].den != 1) return 0;
        if (s->reach) {
            if (vals[0].num >= 1 && vals[0].num <= 100) s->reach[vals[0].num] = 1;
            return 0;
        }
        return vals[0].num == s->target;
    }
    static const char ops[] = {'+', '*', '-', '/'};
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            rational next[R1_COUNTDOWN_MAX_NUMBERS];
            int m = 0;
            for (int k = 0; k < n; k++)
                if (k != i && k != j) next[m++] = vals[k];
            for (int o = 0; o < 4; o++) {
                /* + and * once, larger operand first; - and / both ways round */
                for (int swap = 0; swap < (o < 2 ? 1 : 2); swap++) {
                    int first = i, second = j;
                    int larger_right = vals[j].num * vals[i].den > vals[i].num * vals[j].den;
                    if (o < 2 ? larger_right : swap) first = j, second = i;
                    rational r;
                    if (s->integer_only) {
                        int64_t v;
                        if (!r1_countdown_apply(vals[first].num, ops[o], vals[second].num, &v)) continue;
                        r.num = v;
                        r.den = 1;
                    } else if (rat_apply(vals[first], ops[o], vals[second], &r) != 1) {
                        continue;
                    }
                    next[m] = r;
                    s->path[depth] = (move){first, second, ops[o]};
                    if (search(s, next, m + 1, depth + 1)) return 1;
                }
            }
        }
    }
    return 0;
}

/* Rebuilds the text of a found path by making the same moves on expressions. */
static void path_text(const int *numbers, int n, const move *path, char *out, size_t size) {
    r1_countdown_expr items[R1_COUNTDOWN_MAX_NUMBERS], next[R1_COUNTDOWN_MAX_NUMBERS];
    for (int i = 0; i < n; i++) r1_countdown_expr_number(&items[i], numbers[i]);
    for (int d = 0; n > 1; d++, n--) {
        int m = 0;
        for (int k = 0; k < n; k++)
            if (k != path[d].first && k != path[d].second) next[m++] = items[k];
        r1_countdown_expr_join(&next[m], &items[path[d].first], path[d].op, &items[path[d].second]);
        memcpy(items, next, sizeof items);
    }
    snprintf(out, size, "%s", items[0].text);
}

int r1_countdown_solve(const int *numbers, int n_numbers, int target, int integer_only, char *expr,
                       size_t expr_size) {
    if (n_numbers < 1 || n_numbers > R1_COUNTDOWN_MAX_NUMBERS) return 0;
    rational vals[R1_COUNTDOWN_MAX_NUMBERS];
    for (int i = 0; i < n_numbers; i++) {
        if (numbers[i] < 1 || numbers[i] > 99) return 0; /* the task's range keeps products small */
        vals[i] = (rational){numbers[i], 1};
    }
    search_state s = {.integer_only = integer_only, .target = target};
    if (!search(&s, vals, n_numbers, 0)) return 0;
    if (expr) path_text(numbers, n_numbers, s.path, expr, expr_size);
    return 1;
}

/* ---- the generator ---- */

/* Sets p's target uniform among the values 1..100 its numbers reach under the
 * game's rule; returns 0 (p unchanged) when they reach none. */
static int pick_target(r1_problem *p, r1_task_rng *rng) {
    uint8_t reach[101] = {0};
    rational vals[R1_COUNTDOWN_MAX_NUMBERS];
    for (int i = 0; i < p->n_numbers; i++) vals[i] = (rational){p->numbers[i], 1};
    search_state s = {.integer_only = 1, .reach = reach};
    search(&s, vals, p->n_numbers, 0);
    uint32_t count = 0;
    for (int v = 1; v <= 100; v++) count += reach[v];
    if (count == 0) return 0;
    uint32_t pick = r1_task_rng_below(rng, count);
    for (int v = 1; v <= 100; v++)
        if (reach[v] && pick-- == 0) {
            p->target = v;
            break;
        }
    return 1;
}

/* Numbers: 3 or 4 (even odds), each uniform in 1..99, repeats allowed. Target:
 * uniform among the values 1..100 the numbers reach under the game's rule; numbers
 * that reach none are redrawn. The split is decided from the numbers alone (see
 * task.h), before the costlier search. */
int r1_countdown_generate(r1_task_split split, uint64_t index, uint64_t seed, r1_problem *out) {
    for (uint64_t attempt = 0; attempt < R1_TASK_MAX_ATTEMPTS; attempt++) {
        r1_task_rng rng = r1_task_rng_for(seed, R1_TASK_COUNTDOWN, index, attempt);
        r1_problem p;
        memset(&p, 0, sizeof p);
        p.kind = R1_TASK_COUNTDOWN;
        p.n_numbers = 3 + (int)r1_task_rng_below(&rng, 2);
        for (int i = 0; i < p.n_numbers; i++) p.numbers[i] = 1 + (int)r1_task_rng_below(&rng, 99);
        if (r1_task_split_of(&p) != split) continue;
        if (!pick_target(&p, &rng)) continue;
        *out = p;
        return R1_OK;
    }
    return R1_ERR;
}

int r1_countdown_make_small(r1_problem *p, r1_small_numbers which, r1_task_rng *rng) {
    for (int attempt = 0; attempt < 8; attempt++) { /* one draw in ten lands in the test split */
        r1_problem q = *p;
        if (which == R1_SMALL_ALL) {
            for (int i = 0; i < q.n_numbers; i++) q.numbers[i] = 1 + (int)r1_task_rng_below(rng, 9);
        } else {
            int first = (int)r1_task_rng_below(rng, (uint32_t)q.n_numbers);
            q.numbers[first] = 1 + (int)r1_task_rng_below(rng, 9);
            if (r1_task_rng_below(rng, 2)) {
                int second = (first + 1 + (int)r1_task_rng_below(rng, (uint32_t)q.n_numbers - 1)) % q.n_numbers;
                q.numbers[second] = 1 + (int)r1_task_rng_below(rng, 9);
            }
        }
        if (r1_task_split_of(&q) == R1_SPLIT_TRAIN && pick_target(&q, rng)) {
            *p = q;
            return 1;
        }
    }
    return 0;
}

/* ---- the answer evaluator ---- */

#define MAX_DEPTH 16
#define MAX_USED (R1_TASK_ANSWER_MAX / 2 + 1)

typedef struct {
    const char *s;
    size_t len, pos;
    int depth;
    int used[MAX_USED]; /* numbers in the order they appear */
    int n_used;
    r1_err *err;
} parser;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void skip_space(parser *p) {
    while (p->pos < p->len && is_space(p->s[p->pos])) p->pos++;
}

static int match(parser *p, const char *token) {
    size_t n = strlen(token);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, token, n) != 0) return 0;
    p->pos += n;
    return 1;
}

/* The operator at the cursor, spelled ASCII or Unicode (U+2212 −, U+00D7 ×,
 * U+00F7 ÷, or the letter x), as one of + - * /; 0 when there is none. */
static char match_op(parser *p, int prec) {
    skip_space(p);
    if (prec == 1) {
        if (match(p, "+")) return '+';
        if (match(p, "-") || match(p, "\xe2\x88\x92")) return '-';
    } else {
        if (match(p, "*") || match(p, "x") || match(p, "\xc3\x97")) return '*';
        if (match(p, "/") || match(p, "\xc3\xb7")) return '/';
    }
    return 0;
}

static int unexpected(parser *p, const char *wanted) {
    if (p->pos >= p->len) return r1_fail(p->err, "countdown: expression ends where %s was expected", wanted);
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c == '-' || c == '+' || (p->len - p->pos >= 3 && memcmp(p->s + p->pos, "\xe2\x88\x92", 3) == 0))
        return r1_fail(p->err, "countdown: unary %s at offset %zu is not allowed", c == '+' ? "plus" : "minus",
                       p->pos);
    if (c >= 0x20 && c < 0x7f)
        return r1_fail(p->err, "countdown: unexpected '%c' at offset %zu, expected %s", c, p->pos, wanted);
    return r1_fail(p->err, "countdown: unexpected byte 0x%02x at offset %zu, expected %s", c, p->pos, wanted);
}

static int parse_expr(parser *p, rational *out);

static int parse_factor(parser *p, rational *out) {
    skip_space(p);
    if (match(p, "(")) {
        if (++p->depth > MAX_DEPTH) return r1_fail(p->err, "countdown: parentheses nested deeper than %d", MAX_DEPTH);
        if (parse_expr(p, out) != R1_OK) return R1_ERR;
        skip_space(p);
        if (!match(p, ")")) return unexpected(p, "')'");
        p->depth--;
        return R1_OK;
    }
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    size_t digits = p->pos - start;
    if (digits == 0) return unexpected(p, "a number");
    if (digits > 9) return r1_fail(p->err, "countdown: number at offset %zu is too long", start);
    if (digits > 1 && p->s[start] == '0')
        return r1_fail(p->err, "countdown: number at offset %zu has a leading zero", start);
    int value = 0;
    for (size_t i = start; i < p->pos; i++) value = value * 10 + (p->s[i] - '0');
    if (p->n_used == MAX_USED) return r1_fail(p->err, "countdown: too many numbers");
    p->used[p->n_used++] = value;
    *out = (rational){value, 1};
    return R1_OK;
}

/* One precedence level: operand (op operand)*, left-associative. */
static int parse_level(parser *p, int prec, rational *out) {
    if ((prec == 1 ? parse_level(p, 2, out) : parse_factor(p, out)) != R1_OK) return R1_ERR;
    for (;;) {
        size_t at = p->pos;
        char op = match_op(p, prec);
        if (!op) {
            p->pos = at;
            return R1_OK;
        }
        rational rhs;
        if ((prec == 1 ? parse_level(p, 2, &rhs) : parse_factor(p, &rhs)) != R1_OK) return R1_ERR;
        int ok = rat_apply(*out, op, rhs, out);
        if (ok < 0) return r1_fail(p->err, "countdown: division by zero");
        if (ok == 0) return r1_fail(p->err, "countdown: value overflows 64 bits");
    }
}

static int parse_expr(parser *p, rational *out) { return parse_level(p, 1, out); }

/* Each given number exactly once: the used and given multisets must be equal. */
static int check_numbers(const parser *p, const int *numbers, int n_numbers) {
    for (int i = 0; i < p->n_used; i++) {
        int value = p->used[i], used = 0, given = 0;
        for (int k = 0; k < p->n_used; k++) used += p->used[k] == value;
        for (int k = 0; k < n_numbers; k++) given += numbers[k] == value;
        if (given == 0) return r1_fail(p->err, "countdown: %d is not one of the given numbers", value);
        if (used > given)
            return r1_fail(p->err, "countdown: %d is used %d times but given %d time%s", value, used, given,
                           given == 1 ? "" : "s");
    }
    for (int k = 0; k < n_numbers; k++) {
        int used = 0, given = 0;
        for (int i = 0; i < p->n_used; i++) used += p->used[i] == numbers[k];
        for (int i = 0; i < n_numbers; i++) given += numbers[i] == numbers[k];
        if (used == 0) return r1_fail(p->err, "countdown: the given number %d is not used", numbers[k]);
        if (used < given)
            return r1_fail(p->err, "countdown: %d is given %d times but used %d time%s", numbers[k], given, used,
                           used == 1 ? "" : "s");
    }
    return R1_OK;
}

int r1_countdown_eval(const char *expr, size_t len, const int *numbers, int n_numbers, int64_t *num, int64_t *den,
                      r1_err *err) {
    while (len > 0 && is_space(*expr)) expr++, len--;
    while (len > 0 && is_space(expr[len - 1])) len--;
    if (len == 0) return r1_fail(err, "countdown: empty expression");
    if (len > R1_TASK_ANSWER_MAX)
        return r1_fail(err, "countdown: expression of %zu bytes is longer than %d", len, R1_TASK_ANSWER_MAX);
    parser p = {.s = expr, .len = len, .err = err};
    rational value;
    if (parse_expr(&p, &value) != R1_OK) return R1_ERR;
    skip_space(&p);
    if (p.pos != p.len) return unexpected(&p, "an operator");
    if (check_numbers(&p, numbers, n_numbers) != R1_OK) return R1_ERR;
    *num = value.num;
    *den = value.den;
    return R1_OK;
}

int r1_countdown_check(const r1_problem *p, const char *answer, size_t len) {
    int64_t num, den;
    if (r1_countdown_eval(answer, len, p->numbers, p->n_numbers, &num, &den, NULL) != R1_OK) return 0;
    return den == 1 && num == p->target;
}
