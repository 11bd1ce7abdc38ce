#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/sampler.h"

r1_sampler_params r1_sampler_defaults(void) {
    r1_sampler_params p = {0.6f, 0, 0.95f, 0.0f, 0}; /* DeepSeek's recommended 0.6 / 0.95 for R1 */
    return p;
}

int r1_sampler_params_check(const r1_sampler_params *p, r1_err *err) {
    if (!(isfinite(p->temperature) && p->temperature >= 0))
        return r1_fail(err, "sampler: temperature %g must be a finite number ≥ 0 (0: greedy)", p->temperature);
    if (!(p->top_p > 0 && p->top_p <= 1)) return r1_fail(err, "sampler: top-p %g must be in (0, 1] (1: off)", p->top_p);
    if (!(p->min_p >= 0 && p->min_p <= 1)) return r1_fail(err, "sampler: min-p %g must be in [0, 1] (0: off)", p->min_p);
    if (p->top_k < 0) return r1_fail(err, "sampler: top-k %d is negative (0: off)", p->top_k);
    return R1_OK;
}

int r1_sampler_init(r1_sampler *s, const r1_sampler_params *params, int n_vocab, r1_err *err) {
    memset(s, 0, sizeof *s);
    if (r1_sampler_params_check(params, err) != R1_OK) return R1_ERR;
    s->params = *params;
    s->n_vocab = n_vocab;
    s->rng_state = params->seed ^ 0x9E3779B97F4A7C15ull;
    s->candidates = r1_calloc(err, (size_t)n_vocab, sizeof *s->candidates, "sampler candidates");
    s->sort_buffer = s->candidates ? r1_calloc(err, (size_t)n_vocab, sizeof *s->sort_buffer, "sampler sort buffer") : NULL;
    if (!s->sort_buffer) return r1_sampler_free(s), R1_ERR;
    return R1_OK;
}

void r1_sampler_free(r1_sampler *s) {
    free(s->candidates);
    free(s->sort_buffer);
    memset(s, 0, sizeof *s);
}

int r1_argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

float r1_logprob(const float *logits, int n, int token) {
    float max = logits[r1_argmax(logits, n)];
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((double)logits[i] - max);
    return (float)((double)logits[token] - max - log(sum));
}

/* splitmix64: small, fast, and reproducible from the seed */
static double next_uniform(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* Sorts the n candidates, which come in id order, by probability, largest first,
 * ties in id order. A stable radix sort (LSD) on the probability's bits inverted: a
 * float ≥ 0 orders as its bits do, and every pass keeps equal keys in the order
 * they came, so the order is the same whatever the digit width. With qsort a 150k
 * vocabulary cost ~23 ms a token, more than half a 1.5B model's decoding step; the
 * whole draw now takes ~2.5 ms. Small vocabularies (the trained models' 264 tokens)
 * take 8-bit digits: there the bucket counts, not the candidates, are the work. */
static void sort_by_prob(r1_sampler *s, int n) {
    enum { MAX_BITS = 11, SMALL_N = 4096 };
    const int bits_per_pass = n < SMALL_N ? 8 : MAX_BITS, buckets = 1 << bits_per_pass;
    const uint32_t digit_mask = (uint32_t)buckets - 1;
    struct r1_candidate *from = s->candidates, *to = s->sort_buffer;
    int start[1 << MAX_BITS];
    for (int shift = 0; shift < 32; shift += bits_per_pass) {
        memset(start, 0, (size_t)buckets * sizeof *start);
        for (int i = 0; i < n; i++) {
            uint32_t bits;
            memcpy(&bits, &from[i].prob, sizeof bits);
            start[(~bits >> shift) & digit_mask]++;
        }
        for (int b = 0, at = 0; b < buckets; b++) {
            int count = start[b];
            start[b] = at;
            at += count;
        }
        for (int i = 0; i < n; i++) {
            uint32_t bits;
            memcpy(&bits, &from[i].prob, sizeof bits);
            to[start[(~bits >> shift) & digit_mask]++] = from[i];
        }
        struct r1_candidate *swap = from;
        from = to, to = swap;
    }
    if (from != s->candidates) memcpy(s->candidates, from, (size_t)n * sizeof *from);
}

int r1_logits_check(const float *logits, int n, r1_err *err) {
    int any_finite = 0;
    for (int i = 0; i < n; i++) {
        if (isnan(logits[i]) || logits[i] == INFINITY)
            return r1_fail(err,
                           "the model's logits are not a distribution (token id %d is %s): its weights are "
                           "damaged or overflowed (for a model file, r1 info --check finds the first bad one)",
                           i, isnan(logits[i]) ? "NaN" : "+infinity");
        if (logits[i] > -INFINITY) any_finite = 1;
    }
    if (!any_finite)
        return r1_fail(err, "the model's logits are all -infinity: its weights are damaged or overflowed (for a "
                            "model file, r1 info --check finds the first bad one)");
    return R1_OK;
}

int r1_sample(r1_sampler *s, const float *logits) {
    const r1_sampler_params *p = &s->params;
    struct r1_candidate *c = s->candidates;
    int n = s->n_vocab;
    if (p->temperature <= 0.0f) return r1_argmax(logits, n);

    float max = logits[r1_argmax(logits, n)];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        c[i].prob = expf((logits[i] - max) / p->temperature);
        c[i].id = i;
        sum += c[i].prob;
    }
    for (int i = 0; i < n; i++) c[i].prob = (float)(c[i].prob / sum);
    sort_by_prob(s, n);

    int keep = n;
    if (p->top_k > 0 && p->top_k < keep) keep = p->top_k;
    if (p->top_p < 1.0f) {
        double cum = 0.0;
        for (int i = 0; i < keep; i++) {
            cum += c[i].prob;
            if (cum >= p->top_p) { keep = i + 1; break; }
        }
    }
    if (p->min_p > 0.0f) {
        float floor_p = p->min_p * c[0].prob;
        for (int i = 1; i < keep; i++)
            if (c[i].prob < floor_p) { keep = i; break; }
    }
    double total = 0.0;
    for (int i = 0; i < keep; i++) total += c[i].prob;
    double r = next_uniform(&s->rng_state) * total;
    for (int i = 0; i < keep; i++) {
        r -= c[i].prob;
        if (r <= 0.0) return c[i].id;
    }
    return c[keep - 1].id;
}
