/* Checking a Countdown search, line by line (task.h, r1_countdown_first_false).
 *
 * The traces of traces.c work back from the target. A line takes one number z of
 * the list in view and computes the need R that the other numbers must make from
 * N (the target; for an indented line, the need of the line above). With three
 * numbers left it opens that smaller problem, whose lines follow indented; with
 * two left it writes out their results, larger number first, and says `Yes.`
 * exactly when the last one is R:
 *
 *   51 - 48 = 3, 3 from 65, 25, 93:
 *    25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28. No.
 *    93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90. Yes.
 *
 * Every part of such a line is checkable by rule: the computation, that it uses N,
 * the rest list (the list in view without z, in order; or, marked, the whole list
 * with z marked: `3 from 65, 25, 93, 48 used`), the results (each may be followed
 * by ` vs ` and the need, `93 - 65 = 28 vs 22`, or by its distance from the need,
 * `93 - 65 = 28, 28 - 22 = 6`) and the verdict. A line may also rule out a
 * division of the need by a free number with its remainder, `51 / 25 = 2 r 1. No.`
 * (traces.h, remainders), or with its quotient multiplied back, `51 / 25 = 2,
 * 25 * 2 = 50. No.`, and a need's exact division may be checked so before its rest,
 * `48 / 4 = 12, 12 * 4 = 48, 12 from` (traces.h, multiply_back). Since every form
 * is read, dividing the need by a free number below it is never false in itself:
 * `51 / 25 = 2, 2 from` goes wrong at its `, 2 from`. A computation may
 * be corrected at once (`67 - 30 = 36, wait, 67 - 30 = 37`): a slip caught, not a
 * false step. The first false part of a sampled
 * completion is where its search went wrong; GRPO's first-error credit (grpo.h)
 * puts a wrong answer's blame there. */
#include <string.h>

#include "train/task.h"

/* Numbers in a trace stay far below this; more digits are a false step (and
 * keep every product of two inside int64). */
#define MAX_DIGITS 9

/* A line being read. A line cut off by the token limit has no '\n': a read that
 * runs into its end sets cut_off, so that what was not written is not judged. */
typedef struct {
    const char *at, *end;
    int cut_off;
} cursor;

static int read_literal(cursor *c, const char *literal) {
    size_t n = strlen(literal), left = (size_t)(c->end - c->at);
    if (left < n) {
        c->cut_off |= memcmp(c->at, literal, left) == 0;
        return 0;
    }
    if (memcmp(c->at, literal, n) != 0) return 0;
    c->at += n;
    return 1;
}

/* An integer, optionally negative (needs can be); leaves c->at alone on failure. */
static int read_int(cursor *c, int64_t *value) {
    const char *s = c->at;
    int negative = s < c->end && *s == '-';
    s += negative;
    int64_t v = 0;
    int digits = 0;
    for (; s < c->end && *s >= '0' && *s <= '9' && digits <= MAX_DIGITS; s++, digits++) v = v * 10 + (*s - '0');
    if (s == c->end) return c->cut_off = 1, 0; /* more digits may have followed */
    if (digits == 0 || digits > MAX_DIGITS) return 0;
    *value = negative ? -v : v;
    c->at = s;
    return 1;
}

/* x op y as the traces compute it (a need may be 0 or negative; division exact). */
static int true_value(int64_t x, char op, int64_t y, int64_t *value) {
    switch (op) {
    case '+': *value = x + y; return 1;
    case '-': *value = x - y; return 1;
    case '*': *value = x * y; return 1;
    case '/': if (y == 0 || x % y) return 0; *value = x / y; return 1;
    default: return 0;
    }
}

/* One of + - * /. */
static int read_operator(cursor *c, char *op) {
    if (c->at == c->end) return c->cut_off = 1, 0;
    if (*c->at == '\0' || !strchr("+-*/", *c->at)) return 0; /* strchr would find the NUL */
    *op = *c->at++;
    return 1;
}

/* `x op y = r`, true or corrected at once by `, wait, x op y = ` the true value.
 * On a false part, *false_at is where it starts. */
static int read_computation(cursor *c, int64_t *x, char *op, int64_t *y, int64_t *r, int *slips,
                            const char **false_at) {
    *false_at = c->at;
    if (!read_int(c, x) || !read_literal(c, " ") || !read_operator(c, op)) return 0;
    if (!read_literal(c, " ") || !read_int(c, y) || !read_literal(c, " = ")) return 0;
    int64_t right;
    if (!true_value(*x, *op, *y, &right)) return 0; /* no such move: the computation itself */
    *false_at = c->at;
    if (!read_int(c, r)) return 0;
    if (*r == right) return 1;
    cursor again = *c;
    int64_t x2, y2, r2;
    char op2 = 0;
    int corrected = read_literal(&again, ", wait, ") && read_int(&again, &x2) && read_literal(&again, " ") &&
                    read_operator(&again, &op2) && op2 == *op && read_literal(&again, " ") &&
                    read_int(&again, &y2) && read_literal(&again, " = ") && read_int(&again, &r2) && x2 == *x &&
                    y2 == *y && r2 == right;
    c->cut_off |= again.cut_off;
    if (!corrected) return 0;
    *c = again, *r = right;
    (*slips)++;
    return 1;
}

/* The list in view: the problem's numbers, or the list of the line that opened the
 * problem being worked. A marked list (traces.h, marked_rest) keeps every number,
 * those taken marked used; a plain one holds only those not taken. */
typedef struct {
    int64_t number[R1_COUNTDOWN_MAX_NUMBERS];
    int taken[R1_COUNTDOWN_MAX_NUMBERS];
    int n;
} number_list;

typedef struct {
    number_list list; /* the list an opened line left */
    int64_t need;     /* and what its free numbers must make */
    int open;         /* indented lines may follow */
} search_state;

/* `65, 93 used, 25` read as the list in view with its i-th number taken: plain,
 * the list without it; marked, the list with it marked used. Returns how many
 * entries agree, *got holding them; *stop is after the last, or where the first
 * that disagrees goes wrong (its ", " or its mark). */
static int read_rest(cursor *stop, const number_list *view, int i, int marked, number_list *got) {
    *got = (number_list){.n = 0};
    for (int j = 0; j < view->n; j++) {
        int taken = view->taken[j] || j == i;
        if (taken && !marked) continue;
        cursor c = *stop;
        int64_t v;
        if ((got->n > 0 && !read_literal(&c, ", ")) || !read_int(&c, &v) || v != view->number[j]) {
            stop->cut_off |= c.cut_off;
            break;
        }
        cursor mark = c; /* a taken number must be marked, a free one must not */
        if (read_literal(&mark, R1_COUNTDOWN_TAKEN) != taken || mark.cut_off) {
            *stop = c, stop->cut_off |= mark.cut_off;
            break;
        }
        *stop = mark;
        got->number[got->n] = v, got->taken[got->n++] = taken; /* (plain: never taken) */
    }
    return got->n;
}

/* `, 25 * 2 = 50` after `x / 25 = 2`: the quotient and the divisor, larger first,
 * multiplied (traces.h, multiply_back). Returns -1 when the text there is not of
 * this form (`, ` and a number and ` * `; c->cut_off when it ends before that can
 * be told), 1 when the product is true, 0 with *false_at where it is false: the
 * operands, judged before their product, or the product. */
static int read_multiplied_back(cursor *c, int64_t quotient, int64_t divisor, int *slips, const char **false_at) {
    int64_t larger = quotient > divisor ? quotient : divisor, smaller = quotient > divisor ? divisor : quotient;
    cursor form = *c;
    int64_t x, y, product;
    char op;
    if (!read_literal(&form, ", ") || !read_int(&form, &x) || !read_literal(&form, " * "))
        return c->cut_off |= form.cut_off, -1;
    *false_at = c->at + 2;
    if (x != larger) return 0;
    if (!read_int(&form, &y)) return c->cut_off |= form.cut_off, 0;
    if (y != smaller) return 0;
    c->at += 2;
    return read_computation(c, &x, &op, &y, &product, slips, false_at);
}

/* `51 / 25 = 2 r 1. No.` or `51 / 25 = 2, 25 * 2 = 50. No.`: a division of the
 * need N by a free number below it that does not divide it, ruled out by its
 * remainder or by its quotient multiplied back (traces.h, remainders and
 * multiply_back). Such a division may be written, so its line goes wrong only at
 * its quotient (not N / z), or after it (neither verdict follows, or a false one).
 * Returns -1 for any other line (the usual line judges its division), else as
 * check_line. The quotient is never corrected (the traces never slip there). */
static int check_failed_division(cursor *c, int64_t N, const number_list *view, int *slips,
                                 const char **false_at) {
    cursor d = *c;
    int64_t x, y, quotient, remainder;
    if (!read_int(&d, &x) || !read_literal(&d, " / ") || !read_int(&d, &y) || !read_literal(&d, " = ")) return -1;
    int free_y = 0;
    for (int i = 0; i < view->n; i++) free_y |= !view->taken[i] && view->number[i] == y;
    if (x != N || !free_y || y < 2 || y > x || x % y == 0) return -1;
    *false_at = d.at;
    if (!read_int(&d, &quotient)) return c->cut_off |= d.cut_off, 0;
    if (quotient != x / y) return 0;
    const char *verdict_at = d.at;
    if (read_literal(&d, " r ")) {
        *false_at = d.at;
        if (!read_int(&d, &remainder) || remainder != x % y) return c->cut_off |= d.cut_off, 0;
    } else {
        int product = read_multiplied_back(&d, quotient, y, slips, false_at);
        if (product < 0) *false_at = verdict_at; /* (d.cut_off: `51 / 25 = 2 r` at the token limit) */
        if (product <= 0) return c->cut_off |= d.cut_off, 0;
    }
    *false_at = d.at;
    if (!read_literal(&d, ". No.\n")) return c->cut_off |= d.cut_off, 0;
    *c = d;
    return 1;
}

/* One line (its '\n' included, when not cut off). Returns 1 when every part is
 * true; 0 with *false_at at the first false part, or with c->cut_off when the
 * line ends before a part could be judged. */
static int check_line(const r1_problem *p, cursor *c, search_state *st, r1_countdown_steps *steps,
                      const char **false_at) {
    *false_at = c->at;
    int indented = read_literal(c, " ");
    if (indented && !st->open) return 0; /* no opened problem to be inside */
    int64_t N = indented ? st->need : p->target;
    number_list view = st->list; /* indented: the list of the line that opened the problem */
    if (!indented) {
        view = (number_list){.n = p->n_numbers};
        for (int i = 0; i < p->n_numbers; i++) view.number[i] = p->numbers[i];
        st->open = 0;
    }
    int n_free = 0;
    for (int i = 0; i < view.n; i++) n_free += !view.taken[i];
    int ruled_out = check_failed_division(c, N, &view, &steps->slips, false_at);
    if (ruled_out >= 0) return ruled_out; /* (an indented one leaves the problem open) */

    /* the need: R = N op z or z op N, z a free number of the list */
    int64_t x, y, R, z;
    char op;
    const char *line_start = *false_at;
    if (!read_computation(c, &x, &op, &y, &R, &steps->slips, false_at)) return 0;
    z = x == N ? y : x;
    int has_z = 0;
    for (int i = 0; i < view.n; i++) has_z |= !view.taken[i] && view.number[i] == z;
    if ((x != N && y != N) || !has_z) return *false_at = line_start, 0;
    /* a division may be checked by multiplying back: `, 12 * 4 = 48` */
    if (op == '/' && read_multiplied_back(c, R, y, &steps->slips, false_at) == 0) return 0;

    /* `, R from` the list without z (any one of its copies), in order, then `:`:
     * z left out (plain) or marked used (marked). Every reading is tried: one that
     * fits decides; else a line cut off where some reading still fits is not
     * judged; else the reading that went furthest says where the list is false. */
    int64_t restated;
    *false_at = c->at;
    if (!read_literal(c, ", ") || !read_int(c, &restated) || restated != R || !read_literal(c, " from ")) return 0;
    number_list rest = {.n = 0};
    cursor furthest = *c;
    int fits = 0, cut_off = 0;
    for (int marked = 0; marked < 2 && !fits; marked++)
        for (int i = 0; i < view.n && !fits; i++) {
            if (view.taken[i] || view.number[i] != z) continue;
            cursor stop = *c;
            int whole = read_rest(&stop, &view, i, marked, &rest) == (marked ? view.n : n_free - 1);
            cursor colon = stop;
            fits = whole && read_literal(&colon, ":");
            cut_off |= stop.cut_off || colon.cut_off;
            if (fits) furthest = colon;
            else if (stop.at > furthest.at) furthest = stop;
        }
    if (!fits) return c->cut_off |= cut_off, *false_at = furthest.at, 0;
    *c = furthest;
    *false_at = c->at;
    int64_t free_numbers[R1_COUNTDOWN_MAX_NUMBERS];
    int n_rest = 0;
    for (int i = 0; i < rest.n; i++)
        if (!rest.taken[i]) free_numbers[n_rest++] = rest.number[i];
    if (n_rest == 3) { /* opens the three-number problem */
        if (indented || !read_literal(c, "\n")) return 0;
        st->list = rest, st->need = R, st->open = 1;
        return 1;
    }

    /* two numbers: their results, larger first, then the verdict */
    int64_t a = free_numbers[0] > free_numbers[1] ? free_numbers[0] : free_numbers[1];
    int64_t b = free_numbers[0] + free_numbers[1] - a, result;
    int results = 0, reached = 0;
    for (;;) {
        *false_at = c->at;
        if (!read_literal(c, results ? ", " : " ")) break;
        if (reached) return 0; /* went on past the need */
        const char *computation_at = c->at;
        if (!read_computation(c, &x, &op, &y, &result, &steps->slips, false_at)) return 0;
        if (x != a || y != b) return *false_at = computation_at, 0;
        if (read_literal(c, " vs ")) { /* the need beside it (traces.h, compare) */
            int64_t need;
            *false_at = c->at;
            if (!read_int(c, &need) || need != R) return 0;
        }
        /* or its distance from the need (traces.h, difference), `, 28 - 22 = 6`: told
         * from the next result by its operands, peeked at first, then read from after
         * the comma as a computation (which may be corrected) */
        cursor distance = *c;
        int64_t larger, smaller, gap;
        char minus;
        const char *distance_at = c->at + 2;
        if (read_literal(&distance, ", ") && read_int(&distance, &larger) && read_literal(&distance, " - ") &&
            read_int(&distance, &smaller) && larger == (result > R ? result : R) &&
            smaller == (result > R ? R : result)) {
            *c = distance, c->at = distance_at;
            if (!read_computation(c, &larger, &minus, &smaller, &gap, &steps->slips, false_at)) return 0;
        } else if (distance.cut_off) {
            return c->cut_off = 1, 0; /* `, 28 - 2` at the token limit: not judged */
        }
        reached = result == R, results++;
    }
    if (!read_literal(c, ". ")) return 0; /* (no result at all: `44 from 24, 44:. No.`) */
    *false_at = c->at;
    if (!read_literal(c, reached ? "Yes.\n" : "No.\n")) return 0;
    steps->yes += reached;
    return 1;
}

long r1_countdown_first_false(const r1_problem *p, const char *text, size_t len, r1_countdown_steps *steps) {
    memset(steps, 0, sizeof *steps);
    if (p->n_numbers < 3 || p->n_numbers > R1_COUNTDOWN_MAX_NUMBERS) return -1; /* not a search of this form */
    search_state st = {.open = 0};
    cursor c = {text, text + len, 0};
    while (c.at < c.end) {
        cursor end_think = {c.at, c.end, 0};
        if (read_literal(&end_think, "</think>")) {
            steps->ended = 1, steps->think_end = (long)(c.at - text);
            return -1;
        }
        if (end_think.cut_off) return -1; /* `</thi` at the token limit */
        if (steps->yes) return (long)(c.at - text); /* the search went on after it found the need */
        const char *newline = memchr(c.at, '\n', (size_t)(c.end - c.at));
        cursor line = {c.at, newline ? newline + 1 : c.end, 0};
        const char *false_at;
        if (!check_line(p, &line, &st, steps, &false_at))
            return line.cut_off && !newline ? -1 : (long)(false_at - text); /* only an unfinished line is cut off */
        steps->lines++;
        c.at = line.end;
    }
    return -1;
}
