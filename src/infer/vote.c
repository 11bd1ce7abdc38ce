/* Majority vote over sampled answers and the pass@1 / maj@K / length tallies; the
 * rules are in vote.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "infer/vote.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* text (len < R1_VOTE_KEY_MAX bytes) with each whitespace run made one space,
 * trimmed, into key; returns the key's length */
static size_t collapse_space(const char *text, size_t len, char key[R1_VOTE_KEY_MAX]) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_space(text[i])) key[n++] = text[i];
        else if (n > 0 && key[n - 1] != ' ') key[n++] = ' ';
    }
    while (n > 0 && key[n - 1] == ' ') n--;
    key[n] = 0;
    return n;
}

/* The key of an answer (len bytes, 0 < len < R1_TASK_ANSWER_MAX) to problem p by the
 * task's rules (vote.h); 0 when it casts no vote. */
static int task_answer_key(const r1_problem *p, const char *answer, size_t len, char key[R1_VOTE_KEY_MAX],
                           int *correct) {
    if (p->kind == R1_TASK_COUNTDOWN) {
        int64_t num, den;
        if (r1_countdown_eval(answer, len, p->numbers, p->n_numbers, &num, &den, NULL) != R1_OK) return 0;
        snprintf(key, R1_VOTE_KEY_MAX, "%" PRId64 "/%" PRId64, num, den);
        *correct = den == 1 && num == p->target;
        return 1;
    }
    if (p->kind == R1_TASK_ARITHMETIC) {
        size_t n = collapse_space(answer, len, key);
        if (n == 0) return 0;
        *correct = r1_arithmetic_check(p, key, n);
        return 1;
    }
    return 0;
}

int r1_vote_key(const r1_problem *p, const r1_reward *r, char key[R1_VOTE_KEY_MAX], int *correct) {
    size_t len = strnlen(r->answer, sizeof r->answer);
    key[0] = 0;
    *correct = 0;
    if (!r->well_formed || len == 0 || len >= R1_TASK_ANSWER_MAX) return 0;
    return task_answer_key(p, r->answer, len, key, correct);
}

/* The first occurrence of tag in [s, end), or NULL. */
static const char *find_in(const char *s, const char *end, const char *tag) {
    size_t n = strlen(tag);
    for (; (size_t)(end - s) >= n; s++)
        if (memcmp(s, tag, n) == 0) return s;
    return NULL;
}

int r1_vote_text_key(const r1_problem *p, const char *completion, int starts_thinking, int finished,
                     char key[R1_VOTE_KEY_MAX], char shown[R1_VOTE_KEY_MAX], int *correct) {
    key[0] = 0;
    if (shown) shown[0] = 0;
    *correct = 0;
    const char *end = completion + strlen(completion), *answer = completion, *at;
    for (const char *s = completion; (at = find_in(s, end, "</think>")); s = at + 1) answer = at + strlen("</think>");
    if (answer == completion && (starts_thinking || find_in(completion, end, "<think>"))) return 0; /* still thinking */
    if ((at = find_in(answer, end, "<answer>"))) {
        answer = at + strlen("<answer>");
        if (!(end = find_in(answer, end, "</answer>"))) return 0;
    } else {
        const char *boxed = NULL;
        for (const char *s = answer; (at = find_in(s, end, "\\boxed{")); s = at + 1) boxed = at;
        if (boxed) { /* the braces balance inside a boxed answer: \boxed{\frac{1}{2}} */
            answer = boxed + strlen("\\boxed{");
            int depth = 1;
            for (at = answer; at < end && depth > 0; at++) depth += (*at == '{') - (*at == '}');
            if (depth > 0) return 0;
            end = at - 1;
        } else if (!finished) {
            return 0; /* the bare answer of a cut-off sample may be cut too */
        }
    }
    while (answer < end && is_space(*answer)) answer++;
    while (end > answer && is_space(end[-1])) end--;
    size_t len = (size_t)(end - answer);
    if (len == 0 || len >= R1_TASK_ANSWER_MAX) return 0;
    if (shown) collapse_space(answer, len, shown);
    if (p) return task_answer_key(p, answer, len, key, correct);
    return collapse_space(answer, len, key) > 0;
}

/* O(k²) key_of calls, with no allocation: a key_of that reads keys computed
 * beforehand keeps that cheap for a thousand samples. */
int r1_vote_count(r1_vote_key_fn key_of, const void *ctx, int k, int i) {
    char key[R1_VOTE_KEY_MAX], other[R1_VOTE_KEY_MAX];
    int correct, other_correct, votes = 1;
    if (!key_of(ctx, i, key, &correct)) return 0;
    for (int j = 0; j < i; j++)
        if (key_of(ctx, j, other, &other_correct) && strcmp(key, other) == 0) return 0; /* counted at j */
    for (int j = i + 1; j < k; j++) votes += key_of(ctx, j, other, &other_correct) && strcmp(key, other) == 0;
    return votes;
}

void r1_vote_by(r1_vote_key_fn key_of, const void *ctx, int k, r1_vote_result *out) {
    r1_vote_result best = {0, -1, 0, 0};
    for (int i = 0; i < k; i++) {
        int votes = r1_vote_count(key_of, ctx, k, i);
        /* strictly more: a tie keeps the answer voted first */
        if (votes > best.votes) {
            char key[R1_VOTE_KEY_MAX];
            int correct;
            key_of(ctx, i, key, &correct);
            best = (r1_vote_result){1, i, votes, correct};
        }
    }
    *out = best;
}

typedef struct {
    const r1_problem *problem;
    const r1_reward *rewards;
} reward_votes;

static int reward_key(const void *ctx, int i, char key[R1_VOTE_KEY_MAX], int *correct) {
    const reward_votes *v = ctx;
    return r1_vote_key(v->problem, &v->rewards[i], key, correct);
}

void r1_vote(const r1_problem *p, const r1_reward *rewards, int k, r1_vote_result *out) {
    reward_votes v = {p, rewards};
    r1_vote_by(reward_key, &v, k, out);
}

r1_vote_result r1_tally_add(r1_eval_tally *t, const r1_problem *p, const r1_reward *rewards, const int *n_tokens,
                            int k) {
    r1_vote_result vote = {0, -1, 0, 0};
    if (k < 1) return vote;
    int n_correct = 0;
    for (int i = 0; i < k; i++) {
        n_correct += rewards[i].correct != 0;
        t->token_sum += n_tokens[i];
    }
    r1_vote(p, rewards, k, &vote);
    t->problems++;
    t->samples += k;
    t->pass_sum += (double)n_correct / k;
    t->majority_correct += vote.correct;
    return vote;
}

double r1_tally_pass1(const r1_eval_tally *t) { return t->problems ? t->pass_sum / t->problems : 0; }

double r1_tally_majority(const r1_eval_tally *t) {
    return t->problems ? (double)t->majority_correct / t->problems : 0;
}

double r1_tally_mean_length(const r1_eval_tally *t) { return t->samples ? t->token_sum / t->samples : 0; }
