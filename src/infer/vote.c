/* Majority vote over sampled answers and the pass@1 / maj@K / length tallies; the
 * rules are in vote.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "infer/vote.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int r1_vote_key(const r1_problem *p, const r1_reward *r, char key[R1_VOTE_KEY_MAX], int *correct) {
    size_t len = strnlen(r->answer, sizeof r->answer);
    key[0] = 0;
    *correct = 0;
    if (!r->well_formed || len == 0 || len >= R1_TASK_ANSWER_MAX) return 0;
    if (p->kind == R1_TASK_COUNTDOWN) {
        int64_t num, den;
        if (r1_countdown_eval(r->answer, len, p->numbers, p->n_numbers, &num, &den, NULL) != R1_OK) return 0;
        snprintf(key, R1_VOTE_KEY_MAX, "%" PRId64 "/%" PRId64, num, den);
        *correct = den == 1 && num == p->target;
        return 1;
    }
    if (p->kind == R1_TASK_ARITHMETIC) {
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
            if (!is_space(r->answer[i])) key[n++] = r->answer[i];
            else if (n > 0 && key[n - 1] != ' ') key[n++] = ' ';
        }
        while (n > 0 && key[n - 1] == ' ') n--;
        key[n] = 0;
        if (n == 0) return 0;
        *correct = r1_arithmetic_check(p, key, n);
        return 1;
    }
    return 0;
}

/* O(k²) with no allocation: k is a few dozen at most, and keys are cheap. */
void r1_vote(const r1_problem *p, const r1_reward *rewards, int k, r1_vote_result *out) {
    r1_vote_result best = {0, -1, 0, 0};
    char key[R1_VOTE_KEY_MAX], other[R1_VOTE_KEY_MAX];
    for (int i = 0; i < k; i++) {
        int correct, other_correct, seen_before = 0, votes = 1;
        if (!r1_vote_key(p, &rewards[i], key, &correct)) continue;
        for (int j = 0; j < i && !seen_before; j++)
            seen_before = r1_vote_key(p, &rewards[j], other, &other_correct) && strcmp(key, other) == 0;
        if (seen_before) continue; /* counted at its first occurrence */
        for (int j = i + 1; j < k; j++)
            votes += r1_vote_key(p, &rewards[j], other, &other_correct) && strcmp(key, other) == 0;
        /* strictly more: a tie keeps the answer voted first */
        if (votes > best.votes) best = (r1_vote_result){1, i, votes, correct};
    }
    *out = best;
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
