/* Which tokens carry a sample's advantage (see credit.h). */
#include "train/credit.h"

#include <stdlib.h>
#include <string.h>

/* The completion's bytes as the model wrote them (its tokens' bytes, so that an
 * offset maps to a token exactly), and where each token starts: token k is
 * text[at[k] .. at[k+1]). */
static int completion_bytes(const r1_tokenizer *tok, const int *tokens, int n_tokens, char **text, size_t **at,
                            r1_err *err) {
    *text = NULL;
    *at = r1_malloc(err, ((size_t)n_tokens + 1) * sizeof **at, "token offsets");
    if (!*at) return R1_ERR;
    size_t len = 0;
    for (int k = 0; k < n_tokens; k++) {
        const char *bytes;
        size_t n;
        if (r1_token_to_bytes(tok, tokens[k], &bytes, &n) != R1_OK) {
            free(*at), *at = NULL;
            return r1_fail(err, "credit: token %d of a completion is id %d, outside the vocabulary", k, tokens[k]);
        }
        (*at)[k] = len, len += n;
    }
    (*at)[n_tokens] = len;
    if (!(*text = r1_malloc(err, len + 1, "completion text"))) {
        free(*at), *at = NULL;
        return R1_ERR;
    }
    for (int k = 0; k < n_tokens; k++) {
        const char *bytes;
        size_t n;
        r1_token_to_bytes(tok, tokens[k], &bytes, &n);
        memcpy(*text + (*at)[k], bytes, n);
    }
    (*text)[len] = '\0';
    return R1_OK;
}

int r1_credit_assign(r1_credit credit, const r1_tokenizer *tok, const r1_problem *p, const int *tokens,
                     int n_tokens, int correct, float advantage, float *per_token, r1_credit_check *check,
                     r1_err *err) {
    r1_credit_check found = {0, 0};
    for (int k = 0; k < n_tokens; k++) per_token[k] = advantage;
    if (p->kind == R1_TASK_COUNTDOWN) {
        char *text;
        size_t *at;
        if (completion_bytes(tok, tokens, n_tokens, &text, &at, err) != R1_OK) return R1_ERR;
        size_t len = at[n_tokens];
        r1_countdown_steps steps;
        long false_at = r1_countdown_first_false(p, text, len, &steps);
        found.checked = 1, found.false_step = false_at >= 0;
        /* the blamed bytes [from, to): the first false step to the end of its line */
        size_t from = len, to = len;
        if (false_at >= 0) {
            const char *newline = memchr(text + false_at, '\n', len - (size_t)false_at);
            from = (size_t)false_at, to = newline ? (size_t)(newline - text) + 1 : len;
        } else if (steps.ended) {
            from = (size_t)steps.think_end; /* the search's end and the answer */
        } else {
            from = 0; /* cut off while every line was true: the outcome is all there is */
        }
        if (credit == R1_CREDIT_STEPS && (!correct || false_at >= 0))
            for (int k = 0; k < n_tokens; k++) {
                int blamed = at[k] < to && at[k + 1] > from;
                per_token[k] = correct ? (blamed ? 0.0f : advantage) : (blamed ? advantage : 0.0f);
            }
        free(text), free(at);
    }
    if (check) *check = found;
    return R1_OK;
}
