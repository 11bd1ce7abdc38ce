/* Choosing the next token from logits: greedy at temperature 0, otherwise
 * temperature, then top-k, top-p (nucleus) and min-p filtering, then a draw. */
#ifndef R1_SAMPLER_H
#define R1_SAMPLER_H

#include <stdint.h>

#include "base/error.h"

typedef struct {
    float temperature;   /* 0: greedy (argmax) */
    int top_k;           /* 0: off */
    float top_p;         /* 1: off */
    float min_p;         /* 0: off; keeps tokens with p >= min_p · p_max */
    uint64_t seed;
} r1_sampler_params;

typedef struct {
    r1_sampler_params params;
    uint64_t rng_state;
    int n_vocab;
    struct r1_candidate { float prob; int id; } *candidates; /* sorted by probability */
    struct r1_candidate *sort_buffer;                          /* (n_vocab) the sort's other half */
} r1_sampler;

r1_sampler_params r1_sampler_defaults(void);
/* Fails, naming the setting, unless temperature is finite and ≥ 0, top-p in (0, 1],
 * min-p in [0, 1] and top-k ≥ 0 (r1_sampler_init checks this too). */
int r1_sampler_params_check(const r1_sampler_params *p, r1_err *err);
int r1_sampler_init(r1_sampler *s, const r1_sampler_params *params, int n_vocab, r1_err *err);
void r1_sampler_free(r1_sampler *s);
/* Fails, naming the first bad token id, unless the logits make a distribution: none
 * NaN or +infinity, and not every one −infinity. (A model with damaged weights
 * gives such logits; the sampler would turn them into one token repeated.) */
int r1_logits_check(const float *logits, int n, r1_err *err);
/* Picks a token; logits are read only. */
int r1_sample(r1_sampler *s, const float *logits);
/* Index of the largest value (the first on ties). */
int r1_argmax(const float *x, int n);
/* log softmax(logits)[token]: the model's own log-probability of token, before
 * temperature and filtering (what a policy gradient differentiates). */
float r1_logprob(const float *logits, int n, int token);

#endif
