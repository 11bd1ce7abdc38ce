/* The solver that writes search traces (format in traces.h). Every number a trace
 * states is computed, never copied from a template, and the one deliberate error
 * (a "slip") is always followed by the check that exposes it, so the model learns
 * that checking pays. Each number follows from a few bytes in view: Countdown
 * works back from the target one number at a time, arithmetic goes column by
 * column. The tiny model sees a few hundred bytes of context, so a Countdown
 * search too long for it loses its oldest failed branches. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/traces.h"

#define MAX_NARRATED 8
#define LINE_BYTES 256

r1_trace_config r1_trace_default_config(void) {
    return (r1_trace_config){
        .max_think_bytes = 400, .max_dead_ends = 8, .wrong_share = 0.25, .hasty_share = 0, .hasty_lines = 2,
        .marked_rest = 0, .compare = 0, .slip_on_hit = 1, .give_up = 0, .difference = 0, .remainders = 0,
        .multiply_back = 0};
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

/* ---- Countdown: working back from the target ---- */

/* Why backwards: a forward search must guess which pair to combine first, a choice
 * the tiny model cannot see the reason for. Working back from the target, every
 * line is forced by bytes in view: take one number z, say what the others must
 * make (`67 - 63 = 4`), and check that smaller problem the same way, down to two
 * numbers, whose few results (a + b or a * b above the larger, a - b or a / b
 * below it) are written out and compared. The lines come in a fixed order (the
 * nearest number first), so the whole search is narrated, not only its end. */

/* 4 numbers: at most 4 * 6 ways, each with 3 * 6 lines below it */
enum { MAX_BRANCHES = 512 };

/* x op y = r, one computation the trace writes. */
typedef struct {
    int64_t x, y, r;
    char op;
} calc;

/* One line: the need `x op y = R` (how the target N follows from z and the rest's
 * value R), the rest's numbers, and for two numbers the results tried. */
typedef struct {
    int depth;       /* 0, or 1 inside a 4-number problem's rest */
    calc need;       /* its r is R, the rest's target */
    int64_t z;       /* the number taken */
    char join;       /* N = z join R ('+', '-', '*', '/'), or R join z with rest_left */
    int rest_left;   /* the rest stands left of z in the answer */
    unsigned taken;  /* bit i: the problem's number i is used (z and the lines above) */
    int64_t rest[R1_COUNTDOWN_MAX_NUMBERS - 1]; /* the numbers not taken, in order */
    int n_rest;
    calc tries[2];   /* n_rest == 2: the results compared with R */
    int n_tries, found;
    int64_t remainder; /* a division of N by z that fails: N % z; the line tells only
                          that it fails (need.r is the quotient, the rest is not searched) */
} branch;

typedef struct {
    r1_task_rng *rng;
    const int64_t *numbers; /* the problem's, in the prompt's order */
    int n_numbers;
    int failed_divisions; /* traces.h, remainders and multiply_back: the divisions
                             that fail are told too */
    branch lines[MAX_BRANCHES];
    int n_lines;
} backward;

/* The ways N can come from z and the rest's value R, each with the R it needs, in
 * the order the trace tries them: R = N - z or z - N (z nearest N first), N / z,
 * N + z, z / N, N * z. Equal ranks come in a shuffled order. With failed_divisions,
 * a division of N by a z below it that fails takes the place of the exact one. */
typedef struct {
    int rank;
    int64_t key;
    calc need;
    char join;
    int rest_left;
    int64_t remainder; /* the division fails: N % z */
} way;

static int ways_for(int64_t N, int64_t z, int failed_divisions, way *out) {
    int n = 0;
    if (z < N) out[n++] = (way){0, N - z, {N, z, N - z, '-'}, '+', 0, 0};
    if (z > N) out[n++] = (way){0, z - N, {z, N, z - N, '-'}, '-', 0, 0};
    if (z >= 2 && N % z == 0) out[n++] = (way){1, -z, {N, z, N / z, '/'}, '*', 0, 0};
    if (failed_divisions && z >= 2 && z < N && N % z != 0)
        out[n++] = (way){1, -z, {N, z, N / z, '/'}, '*', 0, N % z};
    out[n++] = (way){2, z, {N, z, N + z, '+'}, '-', 1, 0};
    if (N >= 2 && z > N && z % N == 0) out[n++] = (way){3, z, {z, N, z / N, '/'}, '/', 0, 0};
    if (z >= 2 && N * z < 1000) out[n++] = (way){4, z, {N, z, N * z, '*'}, '/', 1, 0};
    return n;
}

/* Two numbers a >= b against the need R: above a only a + b and (b a digit)
 * a * b can reach it, below a only a - b and (exact) a / b. */
static int check_pair(branch *br, int64_t R) {
    int64_t a = br->rest[0] >= br->rest[1] ? br->rest[0] : br->rest[1];
    int64_t b = br->rest[0] >= br->rest[1] ? br->rest[1] : br->rest[0];
    br->n_tries = 0;
    if (R > a) {
        br->tries[br->n_tries++] = (calc){a, b, a + b, '+'};
        if (a + b != R && b >= 2 && b <= 9) br->tries[br->n_tries++] = (calc){a, b, a * b, '*'};
    } else if (R < a) {
        br->tries[br->n_tries++] = (calc){a, b, a - b, '-'};
        if (a - b != R && b >= 2 && a % b == 0) br->tries[br->n_tries++] = (calc){a, b, a / b, '/'};
    } else if (b == 1) {
        br->tries[br->n_tries++] = (calc){a, b, a, '*'};
    }
    br->found = br->n_tries > 0 && br->tries[br->n_tries - 1].r == R;
    return br->found;
}

/* Narrates the search for N from the numbers not yet taken (3 or 4 of them); 1
 * when it reaches N. */
static int work_back(backward *s, unsigned taken, int64_t N, int depth) {
    way ways[R1_COUNTDOWN_MAX_NUMBERS * 6];
    int zs[R1_COUNTDOWN_MAX_NUMBERS * 6], n_ways = 0;
    for (int i = 0; i < s->n_numbers; i++) {
        if (taken >> i & 1) continue;
        int k = ways_for(N, s->numbers[i], s->failed_divisions, ways + n_ways);
        for (int j = 0; j < k; j++) zs[n_ways + j] = i;
        n_ways += k;
    }
    int order[R1_COUNTDOWN_MAX_NUMBERS * 6];
    for (int i = 0; i < n_ways; i++) order[i] = i;
    for (int i = n_ways - 1; i > 0; i--) { /* shuffle, then a stable sort by rank and key */
        int j = (int)r1_task_rng_below(s->rng, (uint32_t)i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    for (int i = 1; i < n_ways; i++)
        for (int k = i; k > 0; k--) {
            const way *x = &ways[order[k - 1]], *y = &ways[order[k]];
            if (x->rank < y->rank || (x->rank == y->rank && x->key <= y->key)) break;
            int t = order[k];
            order[k] = order[k - 1], order[k - 1] = t;
        }
    for (int o = 0; o < n_ways; o++) {
        if (s->n_lines == MAX_BRANCHES) return 0; /* never met: see MAX_BRANCHES */
        const way *w = &ways[order[o]];
        branch *br = &s->lines[s->n_lines++];
        memset(br, 0, sizeof *br);
        br->depth = depth, br->need = w->need, br->z = s->numbers[zs[order[o]]], br->join = w->join;
        br->rest_left = w->rest_left, br->taken = taken | 1u << zs[order[o]];
        if ((br->remainder = w->remainder) != 0) continue;
        for (int i = 0; i < s->n_numbers; i++)
            if (!(br->taken >> i & 1)) br->rest[br->n_rest++] = s->numbers[i];
        if (br->n_rest == 2 ? check_pair(br, w->need.r) : work_back(s, br->taken, w->need.r, depth + 1))
            return br->found = 1;
    }
    return 0;
}

/* ---- telling the search ---- */

typedef struct {
    text *out;
    r1_task_rng *rng;
    const backward *search;
    int marked_rest; /* the rest written as the whole list, the numbers taken marked used */
    int compare;     /* each result of a pair followed by ` vs ` and the need */
    int difference;  /* each result of a pair followed by its distance from the need */
    int multiply_back; /* each division of a need followed by its quotient times its divisor */
    int slip_on_hit; /* 0: the result that meets the need is not counted among those
                        the slip may fall on */
    int calc_at; /* computations written so far */
    int slip_at; /* the one written wrong and then corrected, -1 for none */
    int slipped; /* 1 once it is written */
} teller;

/* `x op y = r`; at the slip a value off by one comes first and is caught at once
 * (`67 - 30 = 36, wait, 67 - 30 = 37`). The wrong value is never avoid (the need
 * a tried result is compared with), so a slip never looks like a solution. */
static void put_calc(teller *t, const calc *c, int64_t avoid) {
    put(t->out, "%lld %c %lld = ", (long long)c->x, c->op, (long long)c->y);
    int may_slip = t->slip_on_hit || c->r != avoid; /* (only the result meeting the need is avoid) */
    if (may_slip && t->calc_at++ == t->slip_at) {
        int64_t wrong = c->r + (r1_task_rng_below(t->rng, 2) ? 1 : -1);
        if (wrong == avoid || wrong < 0) wrong = 2 * c->r - wrong;
        if (wrong == avoid || wrong < 0) { /* 96 - 96 = 0 against 1: the next one slips */
            t->slip_at++;
            put(t->out, "%lld", (long long)c->r);
            return;
        }
        t->slipped = 1;
        put(t->out, "%lld, wait, %lld %c %lld = ", (long long)wrong, (long long)c->x, c->op, (long long)c->y);
    }
    put(t->out, "%lld", (long long)c->r);
}

/* `, 9 * 8 = 72` after `72 / 8 = 9`: the quotient times the divisor, larger first
 * as a pair's product is written. Never a slip: it is the division's check. */
static void put_multiplied_back(teller *t, const calc *division) {
    int64_t a = division->r > division->y ? division->r : division->y;
    int64_t b = division->r > division->y ? division->y : division->r;
    put(t->out, ", %lld * %lld = %lld", (long long)a, (long long)b, (long long)(a * b));
}

/* `67 - 63 = 4, 4 from 34, 30: 34 - 30 = 4. Yes.` (or, marked, `4 from 63 used,
 * 34, 30`). A rest of three numbers is worked on the lines after, each indented by
 * one space. */
static void put_branch(teller *t, const branch *br) {
    put(t->out, "%s", br->depth ? " " : "");
    if (br->remainder) { /* never a slip: the remainder or the product is the verdict */
        put(t->out, "%lld / %lld = %lld", (long long)br->need.x, (long long)br->need.y, (long long)br->need.r);
        if (t->multiply_back)
            put_multiplied_back(t, &br->need);
        else
            put(t->out, " r %lld", (long long)br->remainder);
        put(t->out, ". No.\n");
        return;
    }
    put_calc(t, &br->need, -1);
    if (t->multiply_back && br->need.op == '/') put_multiplied_back(t, &br->need);
    put(t->out, ", %lld from", (long long)br->need.r);
    if (t->marked_rest)
        for (int i = 0; i < t->search->n_numbers; i++)
            put(t->out, "%s %lld%s", i ? "," : "", (long long)t->search->numbers[i],
                br->taken >> i & 1 ? R1_COUNTDOWN_TAKEN : "");
    else
        for (int i = 0; i < br->n_rest; i++) put(t->out, "%s %lld", i ? "," : "", (long long)br->rest[i]);
    put(t->out, ":");
    if (br->n_rest != 2) {
        put(t->out, "\n");
        return;
    }
    for (int i = 0; i < br->n_tries; i++) {
        put(t->out, i ? ", " : " ");
        put_calc(t, &br->tries[i], br->need.r);
        if (t->compare) put(t->out, " vs %lld", (long long)br->need.r);
        if (t->difference) { /* never a slip: the verdict reads its 0 */
            int64_t r = br->tries[i].r, R = br->need.r, larger = r > R ? r : R, smaller = r > R ? R : r;
            put(t->out, ", %lld - %lld = %lld", (long long)larger, (long long)smaller, (long long)(larger - smaller));
        }
    }
    put(t->out, ". %s.\n", br->found ? "Yes" : "No");
}

/* N from z and the rest's expression, as the branch joined them. */
static void join_branch(const branch *br, const r1_countdown_expr *rest, r1_countdown_expr *out) {
    r1_countdown_expr z;
    r1_countdown_expr_number(&z, br->z);
    if (br->rest_left)
        r1_countdown_expr_join(out, rest, br->join, &z);
    else
        r1_countdown_expr_join(out, &z, br->join, rest);
}

static int countdown_trace(const r1_problem *p, r1_task_rng *rng, const r1_trace_config *cfg, text *out,
                           r1_trace_info *info, r1_err *err) {
    backward s; /* 86 KB */
    memset(&s, 0, sizeof s);
    int64_t nums[R1_COUNTDOWN_MAX_NUMBERS];
    for (int i = 0; i < p->n_numbers; i++) nums[i] = p->numbers[i];
    s.rng = rng, s.numbers = nums, s.n_numbers = p->n_numbers;
    s.failed_divisions = cfg->remainders || cfg->multiply_back;
    if (!work_back(&s, 0, p->target, 0)) {
        if (!r1_countdown_solve(p->numbers, p->n_numbers, p->target, 1, NULL, 0))
            return r1_fail(err, "traces: countdown target %d has no whole-number solution from these numbers",
                           p->target);
        r1_fail(err, "traces: countdown target %d is reached only by a form the traces do not narrate", p->target);
        return R1_TRACE_UNTOLD;
    }

    /* the answer: the pair that reached the need, then the branches that led there */
    const branch *last = &s.lines[s.n_lines - 1];
    r1_countdown_expr pair, a, b, answer;
    const calc *hit = &last->tries[last->n_tries - 1];
    r1_countdown_expr_number(&a, hit->x);
    r1_countdown_expr_number(&b, hit->y);
    r1_countdown_expr_join(&pair, &a, hit->op, &b);
    join_branch(last, &pair, &answer);
    int top = s.n_lines - 1;
    while (s.lines[top].depth > 0) top--;
    if (top != s.n_lines - 1) {
        r1_countdown_expr inner = answer;
        join_branch(&s.lines[top], &inner, &answer);
    }

    /* drop the oldest failed branches (with their indented lines) until the
     * thinking fits and at most max_dead_ends of them are told; then, if still too
     * long, the oldest indented lines of the branch that succeeds */
    int wrong = chance(rng, cfg->wrong_share);
    /* room for the slip's `N, wait, x op y = ` (values below 1000) */
    size_t budget = (size_t)cfg->max_think_bytes > 24 && wrong ? (size_t)cfg->max_think_bytes - 24
                                                               : (size_t)cfg->max_think_bytes;
    size_t bytes[MAX_BRANCHES], total = 0;
    /* dead: the failed branches searched; droppable: those and the divisions ruled
     * out by a remainder or a product, which cost bytes but do not count as branches */
    int keep[MAX_BRANCHES], dead = -1, droppable = -1;
    for (int i = 0; i < s.n_lines; i++) {
        char line[LINE_BYTES];
        text lt = {line, sizeof line, 0, 0};
        teller measure = {&lt, rng, &s, cfg->marked_rest, cfg->compare, cfg->difference, cfg->multiply_back,
                          cfg->slip_on_hit, 0, -1, 0};
        put_branch(&measure, &s.lines[i]);
        bytes[i] = lt.len, total += lt.len, keep[i] = 1;
        dead += s.lines[i].depth == 0 && !s.lines[i].remainder;
        droppable += s.lines[i].depth == 0;
    }
    int told = s.n_lines;
    if (cfg->give_up && (dead > cfg->max_dead_ends || total > budget)) {
        /* the search from its start, line by line while it fits, then a guess */
        size_t used = 0;
        int dead_told = 0;
        for (told = 0; told < s.n_lines - 1 && used + bytes[told] <= budget; used += bytes[told++])
            if (s.lines[told].depth == 0 && !s.lines[told].remainder && dead_told++ == cfg->max_dead_ends) break;
    } else {
        int first = 0;
        while (droppable > 0 && (dead > cfg->max_dead_ends || total > budget)) {
            dead -= !s.lines[first].remainder, droppable--;
            do keep[first] = 0, total -= bytes[first++];
            while (s.lines[first].depth > 0);
        }
        for (int i = top + 1; i < s.n_lines - 1 && total > budget; i++) keep[i] = 0, total -= bytes[i];
    }

    /* a hasty solver gives up after 1..hasty_lines failed two-number lines (or at
     * once) and guesses every number added (no draw at hasty_share 0: the other
     * traces stay as they were) */
    int hasty = cfg->hasty_share > 0 && chance(rng, cfg->hasty_share);
    int hasty_lines = hasty && cfg->hasty_lines > 0 ? 1 + (int)r1_task_rng_below(rng, (uint32_t)cfg->hasty_lines) : 0;
    if (hasty && hasty_lines == 0) told = 0;
    int verdicts = 0;
    for (int i = 0; i < told - 1 && hasty_lines; i++)
        if (keep[i] && s.lines[i].n_rest == 2 && ++verdicts == hasty_lines) told = i + 1;
    int calcs = 0; /* a line computes its need and then each result it tries */
    for (int i = 0; i < told; i++) calcs += keep[i] && !s.lines[i].remainder ? 1 + s.lines[i].n_tries : 0;
    if (!cfg->slip_on_hit && told == s.n_lines) calcs--; /* the result meeting the need cannot slip */
    teller tell = {out, rng, &s, cfg->marked_rest, cfg->compare, cfg->difference, cfg->multiply_back,
                   cfg->slip_on_hit, 0, wrong && calcs > 0 ? (int)r1_task_rng_below(rng, (uint32_t)calcs) : -1, 0};
    for (int i = 0; i < told; i++)
        if (keep[i]) put_branch(&tell, &s.lines[i]);
    info->corrected = tell.slipped;
    info->hasty = told < s.n_lines;
    info->dead_ends = dead;
    if (info->hasty) { /* every branch told failed; the answer is a guess */
        info->dead_ends = 0;
        for (int i = 0; i < told; i++) info->dead_ends += keep[i] && s.lines[i].depth == 0 && !s.lines[i].remainder;
        r1_countdown_expr guess, number, sum;
        r1_countdown_expr_number(&guess, p->numbers[0]);
        for (int i = 1; i < p->n_numbers; i++) {
            r1_countdown_expr_number(&number, p->numbers[i]);
            r1_countdown_expr_join(&sum, &guess, '+', &number);
            guess = sum;
        }
        answer = guess;
    }
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

int r1_trace_config_check(const r1_trace_config *cfg, r1_err *err) {
    if (cfg->max_think_bytes < 0)
        return r1_fail(err, "trace_max_think_bytes %d is negative", cfg->max_think_bytes);
    if (cfg->max_dead_ends < 0 || cfg->max_dead_ends > MAX_NARRATED)
        return r1_fail(err, "trace_max_dead_ends %d is outside 0..%d", cfg->max_dead_ends, MAX_NARRATED);
    if (cfg->hasty_lines < 0 || cfg->hasty_lines > MAX_NARRATED)
        return r1_fail(err, "trace_hasty_lines %d is outside 0..%d", cfg->hasty_lines, MAX_NARRATED);
    const struct {
        const char *name;
        double value;
    } shares[] = {{"trace_wrong_share", cfg->wrong_share}, {"trace_hasty_share", cfg->hasty_share}};
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++)
        if (!(shares[i].value >= 0 && shares[i].value <= 1))
            return r1_fail(err, "%s %g is outside 0..1", shares[i].name, shares[i].value);
    const struct {
        const char *name;
        int value;
    } switches[] = {{"trace_marked_rest", cfg->marked_rest}, {"trace_compare", cfg->compare},
                    {"trace_slip_on_hit", cfg->slip_on_hit}, {"trace_give_up", cfg->give_up},
                    {"trace_difference", cfg->difference},   {"trace_remainders", cfg->remainders},
                    {"trace_multiply_back", cfg->multiply_back}};
    for (size_t i = 0; i < sizeof switches / sizeof switches[0]; i++)
        if (switches[i].value != 0 && switches[i].value != 1)
            return r1_fail(err, "%s %d must be 0 or 1", switches[i].name, switches[i].value);
    if (cfg->remainders && cfg->multiply_back)
        return r1_fail(err, "trace_remainders and trace_multiply_back are two ways to rule out a "
                            "division; set one");
    return R1_OK;
}

int r1_trace_write(const r1_problem *p, uint64_t seed, const r1_trace_config *cfg, char *buf, size_t size,
                   r1_trace_info *info, r1_err *err) {
    if (r1_trace_config_check(cfg, err) != R1_OK) return r1_fail_within(err, "traces: ");
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
