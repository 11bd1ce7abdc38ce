/* The sampler against a plain reference of its rule: softmax at the temperature,
 * candidates sorted by probability (ties by id) with a comparison sort, then top-k,
 * top-p and min-p cuts and a draw from the same random stream. The sampler sorts
 * another way (a radix sort), so every draw must still be the reference's token,
 * on logits with many ties, zeros after the softmax, and vocabularies of 1 to 3000. */
#include "test.h"

#include "infer/sampler.h"

typedef struct {
    float prob;
    int id;
} candidate;

static int by_prob_desc(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    return x->prob < y->prob ? 1 : x->prob > y->prob ? -1 : x->id - y->id;
}

/* splitmix64, as the sampler documents its stream */
static double next_uniform(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static int reference_sample(const r1_sampler_params *p, uint64_t *rng, const float *logits, int n, candidate *c) {
    float max = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > max) max = logits[i];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        c[i].prob = expf((logits[i] - max) / p->temperature);
        c[i].id = i;
        sum += c[i].prob;
    }
    for (int i = 0; i < n; i++) c[i].prob = (float)(c[i].prob / sum);
    qsort(c, (size_t)n, sizeof *c, by_prob_desc);
    int keep = n;
    if (p->top_k > 0 && p->top_k < keep) keep = p->top_k;
    if (p->top_p < 1.0f) {
        double cum = 0.0;
        for (int i = 0; i < keep; i++) {
            cum += c[i].prob;
            if (cum >= p->top_p) { keep = i + 1; break; }
        }
    }
    if (p->min_p > 0.0f)
        for (int i = 1; i < keep; i++)
            if (c[i].prob < p->min_p * c[0].prob) { keep = i; break; }
    double total = 0.0;
    for (int i = 0; i < keep; i++) total += c[i].prob;
    double r = next_uniform(rng) * total;
    for (int i = 0; i < keep; i++) {
        r -= c[i].prob;
        if (r <= 0.0) return c[i].id;
    }
    return c[keep - 1].id;
}

static void test_draws_match_the_reference(test_ctx *t) {
    static const int sizes[] = {1, 2, 7, 300, 2049, 3000};
    static const r1_sampler_params settings[] = {
        {1.0f, 0, 1.0f, 0.0f, 0}, {0.6f, 0, 0.95f, 0.0f, 0}, {0.7f, 40, 1.0f, 0.0f, 0},
        {1.3f, 0, 0.5f, 0.05f, 0}, {0.2f, 5, 0.9f, 0.1f, 0},
    };
    enum { MAX_N = 3000 };
    float *logits = malloc(MAX_N * sizeof(float));
    candidate *c = malloc(MAX_N * sizeof *c);
    srand(7);
    long draws = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t pi = 0; pi < sizeof settings / sizeof *settings; pi++)
            for (int kind = 0; kind < 3; kind++) {
                int n = sizes[si];
                r1_sampler_params p = settings[pi];
                p.seed = 1000 * si + 10 * pi + (uint64_t)kind;
                r1_sampler s;
                r1_err err;
                CHECK(r1_sampler_init(&s, &p, n, &err) == R1_OK, "%s", err.msg);
                uint64_t rng = p.seed ^ 0x9E3779B97F4A7C15ull;
                for (int step = 0; step < 20; step++) {
                    for (int i = 0; i < n; i++) {
                        if (kind == 0) logits[i] = (float)rand() / RAND_MAX * 8.0f;       /* spread out */
                        else if (kind == 1) logits[i] = (float)(rand() % 4);              /* many ties */
                        else logits[i] = i % 97 == 0 ? 60.0f : -(float)(rand() % 200);   /* zeros after softmax */
                    }
                    int got = r1_sample(&s, logits), want = reference_sample(&p, &rng, logits, n, c);
                    CHECK(got == want, "n %d, setting %zu, logits kind %d, step %d: drew %d, the reference %d", n, pi,
                          kind, step, got, want);
                    draws++;
                }
                r1_sampler_free(&s);
            }
    printf("  %ld draws, all the reference's\n", draws);
    free(logits), free(c);
}

static void test_greedy_is_argmax(test_ctx *t) {
    r1_sampler_params p = r1_sampler_defaults();
    p.temperature = 0;
    r1_sampler s;
    r1_err err;
    CHECK(r1_sampler_init(&s, &p, 5, &err) == R1_OK, "%s", err.msg);
    const float logits[5] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
    CHECK(r1_sample(&s, logits) == 1, "greedy takes the first of the largest");
    r1_sampler_free(&s);
}

TEST_MAIN("sampler", T(test_draws_match_the_reference), T(test_greedy_is_argmax))
