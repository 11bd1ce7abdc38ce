/* The solver's search traces (src/train/traces.h) and the Countdown line checker
 * (countdown_steps.c): every synthetic trace earns reward 1 and passes the checker,
 * each trace option does what it says, the default traces stay byte-identical, and
 * the checker finds the first false part of a search. */
#include "test.h"
#include "test_problems.h"
#include "train/traces.h"

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
    for (int form = 1; form < 6; form++) {
        cfg = r1_trace_default_config();
        cfg.marked_rest = form == 1, cfg.compare = form == 2, cfg.difference = form == 3, cfg.remainders = form == 4;
        cfg.multiply_back = form == 5;
        trace_stats st;
        CHECK(check_traces(t, R1_TASK_COUNTDOWN, 2000, &cfg, &st), "countdown traces, form %d", form);
        printf("  countdown, marked_rest %d, compare %d, difference %d, remainders %d, multiply_back %d: thinking "
               "mean %.0f bytes; failed branches per trace %.2f\n",
               cfg.marked_rest, cfg.compare, cfg.difference, cfg.remainders, cfg.multiply_back,
               (double)st.think_total / (double)st.count, (double)st.dead_total / (double)st.count);
    }
    /* a search cut off anywhere (as by a token limit) is true so far: nothing judged */
    for (int form = 0; form < 6; form++) {
        cfg = r1_trace_default_config();
        cfg.marked_rest = form == 1, cfg.compare = form == 2, cfg.difference = form == 3, cfg.remainders = form == 4;
        cfg.multiply_back = form == 5;
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
        CHECK(judged == 0, "%ld prefixes of form %d traces judged false", judged, form);
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
    /* no failed branch allowed: a search that needs one is all guess, and a slip
     * (every trace wants one) has no computation to fall on */
    cfg.max_dead_ends = 0, cfg.wrong_share = 1;
    int guessed = 0;
    for (int i = 0; i < 100; i++) {
        r1_problem p;
        char b[4096];
        r1_trace_info info;
        if (!countdown_trace_of((uint64_t)i, 3, &cfg, &p, b, sizeof b, &info)) continue;
        guessed += info.hasty && !strchr(b, ':');
    }
    CHECK(guessed > 10, "%d of 100 searches guessed at once", guessed);
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
    hasty.hasty_share = 1.0, hasty.hasty_lines = 9;
    CHECK(r1_trace_write(&p, 9, &hasty, buf, sizeof buf, NULL, &err) == R1_ERR && strstr(err.msg, "hasty_lines"), "%s",
          err.msg);
}

/* With hasty_lines 0 the hasty solver does not search: every trace is an empty
 * thinking and the guess (even where the guess is the answer); with hasty_lines 3
 * it tells up to three failed lines, more than the default's two. */
static void test_hasty_lines(test_ctx *t) {
    r1_trace_config hasty = r1_trace_default_config();
    hasty.hasty_share = 1.0, hasty.wrong_share = 0;
    int n = 0, at_once = 0, most_verdicts = 0;
    for (int lines = 0; lines <= 3; lines += 3) {
        hasty.hasty_lines = lines;
        for (int i = 0; i < 300; i++) {
            r1_problem p;
            r1_task_generate(R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, (uint64_t)i, 5, &p);
            char cut[4096];
            r1_trace_info info;
            r1_err err;
            int len = r1_trace_write(&p, (uint64_t)i, &hasty, cut, sizeof cut, &info, &err);
            if (len == R1_TRACE_UNTOLD) continue;
            CHECK(len > 0, "%s", err.msg);
            const char *end_think = strstr(cut, "</think>");
            CHECK(end_think != NULL, "no </think>: %s", cut);
            if (lines == 0) {
                n++;
                at_once += info.hasty && end_think == cut && info.dead_ends == 0;
                continue;
            }
            int verdicts = 0;
            for (const char *c = strstr(cut, ". No.\n"); c && c < end_think; c = strstr(c + 1, ". No.\n")) verdicts++;
            if (info.hasty && verdicts > most_verdicts) most_verdicts = verdicts;
            CHECK(!info.hasty || verdicts <= 3, "%d failed lines told with hasty_lines 3: %s", verdicts, cut);
        }
    }
    printf("  hasty_lines 0: %d of %d traces guess at once; hasty_lines 3: up to %d failed lines\n", at_once, n,
           most_verdicts);
    CHECK(at_once == n && n > 200, "%d of %d guess at once", at_once, n);
    CHECK(most_verdicts == 3, "at most %d failed lines with hasty_lines 3", most_verdicts);
}

/* The FNV-1a hash of 300 traces of cfg, half Countdown, half arithmetic. */
static uint64_t traces_hash(const r1_trace_config *cfg) {
    uint64_t hash = 1469598103934665603ull;
    for (int i = 0; i < 300; i++) {
        r1_problem p;
        r1_task_generate(i % 2 ? R1_TASK_COUNTDOWN : R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, (uint64_t)i, 7, &p);
        char buf[4096];
        r1_err err;
        int len = r1_trace_write(&p, (uint64_t)i, cfg, buf, sizeof buf, NULL, &err);
        for (int k = 0; k < len; k++) hash = (hash ^ (unsigned char)buf[k]) * 1099511628211ull;
    }
    return hash;
}

/* The default config's traces are byte for byte those every earlier run trained
 * on (the hash taken at commit a851939, before hasty_share): a new trace option
 * must not draw from the stream when off. So are the hasty traces at the default
 * hasty_lines (the hash taken at 12f1daa, before hasty_lines). */
static void test_traces_unchanged(test_ctx *t) {
    r1_trace_config cfg = r1_trace_default_config();
    uint64_t hash = traces_hash(&cfg);
    CHECK(hash == 14159401616398402405ull, "the traces changed: hash %llu", (unsigned long long)hash);
    cfg.hasty_share = 0.8;
    hash = traces_hash(&cfg);
    CHECK(hash == 5525248609438437394ull, "the hasty traces changed: hash %llu", (unsigned long long)hash);
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
    cfg.marked_rest = 0;
    /* the 7, 3, 5 search in each option's form (1), and each option refusing 2 */
    const struct {
        int *option;
        const char *name, *trace;
    } forms[] = {
        {&cfg.marked_rest, "marked_rest",
         "26 - 7 = 19, 19 from 7 used, 3, 5: 5 + 3 = 8, 5 * 3 = 15. No.\n"
         "26 - 5 = 21, 21 from 7, 3, 5 used: 7 + 3 = 10, 7 * 3 = 21. Yes.\n</think>\n<answer>5 + 7 * 3</answer>"},
        {&cfg.compare, "compare", /* the need beside each result */
         "26 - 7 = 19, 19 from 3, 5: 5 + 3 = 8 vs 19, 5 * 3 = 15 vs 19. No.\n"
         "26 - 5 = 21, 21 from 7, 3: 7 + 3 = 10 vs 21, 7 * 3 = 21 vs 21. Yes.\n</think>\n<answer>5 + 7 * 3</answer>"},
        {&cfg.difference, "difference", /* each result's distance from the need */
         "26 - 7 = 19, 19 from 3, 5: 5 + 3 = 8, 19 - 8 = 11, 5 * 3 = 15, 19 - 15 = 4. No.\n"
         "26 - 5 = 21, 21 from 7, 3: 7 + 3 = 10, 21 - 10 = 11, 7 * 3 = 21, 21 - 21 = 0. Yes.\n</think>\n"
         "<answer>5 + 7 * 3</answer>"},
    };
    p = countdown(3, n, 26);
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        *forms[k].option = 1;
        expect_trace(t, &p, &cfg, forms[k].trace);
        *forms[k].option = 2;
        expect_trace(t, &p, &cfg, forms[k].name);
        *forms[k].option = 0;
    }
    /* remainders: the divisions of 19 that fail, in the place an exact one would take
     * (4, 9, 7 has none that succeeds); multiply_back: the same divisions ruled out
     * by their quotient times the divisor (longer lines: the oldest failed branch no
     * longer fits 400 bytes). The lines both tell alike: */
#define SUBTRACTIONS_OF_19 \
    "19 - 7 = 12, 12 from 4, 9: 9 + 4 = 13, 9 * 4 = 36. No.\n" \
    "19 - 4 = 15, 15 from 9, 7: 9 + 7 = 16, 9 * 7 = 63. No.\n"
#define SUMS_TO_19 \
    "19 + 4 = 23, 23 from 9, 7: 9 + 7 = 16, 9 * 7 = 63. No.\n" \
    "19 + 7 = 26, 26 from 4, 9: 9 + 4 = 13, 9 * 4 = 36. No.\n" \
    "19 + 9 = 28, 28 from 4, 7: 7 + 4 = 11, 7 * 4 = 28. Yes.\n</think>\n<answer>7 * 4 - 9</answer>"
    int four_nine_seven[] = {4, 9, 7};
    p = countdown(3, four_nine_seven, 19);
    cfg.remainders = 1;
    expect_trace(t, &p, &cfg,
                 "19 - 9 = 10, 10 from 4, 7: 7 + 4 = 11, 7 * 4 = 28. No.\n" SUBTRACTIONS_OF_19
                 "19 / 9 = 2 r 1. No.\n19 / 7 = 2 r 5. No.\n19 / 4 = 4 r 3. No.\n" SUMS_TO_19);
    cfg.remainders = 2;
    expect_trace(t, &p, &cfg, "remainders");
    cfg.remainders = 0;
    cfg.multiply_back = 1;
    expect_trace(t, &p, &cfg,
                 SUBTRACTIONS_OF_19 "19 / 9 = 2, 9 * 2 = 18. No.\n19 / 7 = 2, 7 * 2 = 14. No.\n"
                                    "19 / 4 = 4, 4 * 4 = 16. No.\n" SUMS_TO_19);
#undef SUBTRACTIONS_OF_19
#undef SUMS_TO_19
    int exact[] = {5, 4, 2}; /* 12 / 5 fails, 12 / 4 is checked and searched */
    p = countdown(3, exact, 12);
    expect_trace(t, &p, &cfg,
                 "12 - 5 = 7, 7 from 4, 2: 4 + 2 = 6, 4 * 2 = 8. No.\n"
                 "12 - 4 = 8, 8 from 5, 2: 5 + 2 = 7, 5 * 2 = 10. No.\n"
                 "12 - 2 = 10, 10 from 5, 4: 5 + 4 = 9, 5 * 4 = 20. No.\n"
                 "12 / 5 = 2, 5 * 2 = 10. No.\n"
                 "12 / 4 = 3, 4 * 3 = 12, 3 from 5, 2: 5 - 2 = 3. Yes.\n</think>\n<answer>4 * (5 - 2)</answer>");
    cfg.multiply_back = 2;
    expect_trace(t, &p, &cfg, "multiply_back");
    cfg.multiply_back = cfg.remainders = 1; /* two verdicts on one line */
    expect_trace(t, &p, &cfg, "set one");
    cfg.multiply_back = cfg.remainders = 0;
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
    CHECK(r1_trace_write(&p, 1, &cfg, buf, sizeof buf, NULL, &err) == R1_ERR &&
              strstr(err.msg, "trace_wrong_share 2 is outside"),
          "%s", err.msg);
    cfg = r1_trace_default_config();
    cfg.max_dead_ends = 9;
    CHECK(r1_trace_config_check(&cfg, &err) == R1_ERR && strstr(err.msg, "trace_max_dead_ends 9"), "%s", err.msg);
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
        {"51 / 48 = 1|, 1 from 65, 25, 93:\n", 0, 0, 0},                     /* a division that fails, searched on */
        {"51 / 48 = |2, 2 from 65, 25, 93:\n", 0, 0, 0},                     /* ... with a made-up quotient */
        {"|51 / 3 = 17 r 0. No.\n", 0, 0, 0},                                /* not a number given */
        /* a division that fails, ruled out by its remainder (traces.h, remainders) */
        {"51 / 25 = 2 r 1. No.\n51 - 48 = 3, 3 from 65, 25, 93:\n%s</think>\n", 0, 1, 1},
        {"51 / 25 = |3 r 1. No.\n", 0, 0, 0},                                /* the quotient */
        {"51 / 25 = 2 r |2. No.\n", 0, 0, 0},                                /* the remainder */
        {"51 / 25 = 2 r 1|, 2 from 65, 93, 48:\n", 0, 0, 0},                 /* searched on */
        {"|51 / 24 = 2 r 3. No.\n", 0, 0, 0},                                /* not a number given */
        {"51 / 25 = 2 r", 0, 0, 0},                                           /* cut off */
        {"51 / 25 = |7 r", 0, 0, 0},                                          /* cut off, already false */
        {"|51 / 47 = 1", 0, 0, 0},                                            /* cut off, no such move */
        {"|51 / 65 = 0 r 51. No.\n", 0, 0, 0},                               /* not below the need */
        /* ... or by multiplying back, and an exact division checked so (traces.h, multiply_back) */
        {"51 / 25 = 2, 25 * 2 = 50. No.\n51 - 48 = 3, 3 from 65, 25, 93:\n%s</think>\n", 0, 1, 1},
        {"51 / 25 = |3, 25 * 3 = 75. No.\n", 0, 0, 0},                       /* the quotient */
        {"51 / 25 = 2, 25 * 2 = |52. No.\n", 0, 0, 0},                       /* the product */
        {"51 / 25 = 2, |2 * 25 = 50. No.\n", 0, 0, 0},                       /* not larger first */
        {"51 / 25 = 2, 25 * 2 = 49, wait, 25 * 2 = 50. No.\n", 1, 0, 0},     /* a slip caught */
        {"51 / 25 = 2, |2 * 25 = 49. No.\n", 0, 0, 0},                       /* the operands before the product */
        {"51 / 25 = 2, |25 * 3 = 76. No.\n", 0, 0, 0},
        {"51 / 25 = 2, |2 * 25 = 5", 0, 0, 0},                                /* cut off, already false */
        {"51 / 25 = 2, 25 * 2", 0, 0, 0},                                     /* cut off in the operand */
        {"51 / 25 = |3,", 0, 0, 0},                                           /* cut off after a false quotient */
        {"51 / 25 = 2, 25 * 2 = 50|, 2 from 65, 93, 48:\n", 0, 0, 0},         /* searched on */
        {"51 / 25 = 2, 25 * 2 =", 0, 0, 0},                                   /* cut off */
        {"51 / 25 = |3, 25 * 3", 0, 0, 0},                                    /* cut off, already false */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 / 3 = 31, 31 * 3 = 93, 31 from 65, 25: 65 - 25 = 40. No.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 / 3 = 31, 31 * 3 = |94, 31 from 65, 25:", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 / 3 = 31, |3 * 31 = 93, 31 from 65, 25:", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 / 3 = 31, 31 * 3 = 93|. No.\n", 0, 0, 0}, /* exact: searched on */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 / 3 = 31, |3 * 31 = 9", 0, 0, 0}, /* cut off, already false */
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
        /* each result's distance from the need (traces.h, difference) */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28, 28 - 22 = 6. No.\n 93 - 3 = "
         "90, 90 from 65, 25: 65 + 25 = 90, 90 - 90 = 1, wait, 90 - 90 = 0. Yes.\n</think>\n", 1, 1, 1},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28, 28 - 22 = |5. No.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28, |22 - 28 = -6. No.\n", 0, 0,
         0},                                                                  /* not larger minus smaller */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90, 90 - 90 = 0. |No.\n", 0, 0, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 93 - 3 = 90, 90 from 65, 25: 65 + 25 = 90, 90 - 9", 0, 0, 0}, /* cut off */
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28, 2", 0, 0, 0},      /* cut off */
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

TEST_MAIN("traces", T(test_traces_score), T(test_hasty_traces), T(test_hasty_lines), T(test_slip_on_hit),
          T(test_give_up), T(test_traces_unchanged), T(test_countdown_first_false), T(test_trace_examples))
