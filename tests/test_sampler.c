/* The sampler's order of candidates: by probability, largest first, ties by id,
 * the order its top-k / top-p / min-p cuts and its draw walk (sampler.c sorts with
 * a radix sort on the probabilities' bits). Checked after real draws, on logits
 * spread out, with many ties, and with most probabilities 0 after the softmax, for
 * vocabularies of 1 to 6000 and several settings. */
#include "test.h"

#include "infer/sampler.h"

static void test_candidates_in_order(test_ctx *t) {
    static const int sizes[] = {1, 2, 7, 300, 2049, 4095, 4096, 6000}; /* 8-bit digits below 4096, 11 from there */
    static const r1_sampler_params settings[] = {
        {1.0f, 0, 1.0f, 0.0f, 0}, {0.6f, 0, 0.95f, 0.0f, 0}, {0.7f, 40, 1.0f, 0.0f, 0},
        {1.3f, 0, 0.5f, 0.05f, 0}, {0.2f, 5, 0.9f, 0.1f, 0},
    };
    enum { MAX_N = 6000 };
    float *logits = malloc(MAX_N * sizeof(float));
    char *seen = malloc(MAX_N);
    srand(7);
    long draws = 0, ties = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t pi = 0; pi < sizeof settings / sizeof *settings; pi++)
            for (int kind = 0; kind < 3; kind++) {
                int n = sizes[si];
                r1_sampler_params p = settings[pi];
                p.seed = 1000 * si + 10 * pi + (uint64_t)kind;
                r1_sampler s;
                r1_err err;
                CHECK(r1_sampler_init(&s, &p, n, &err) == R1_OK, "%s", err.msg);
                for (int step = 0; step < 20; step++, draws++) {
                    for (int i = 0; i < n; i++) {
                        if (kind == 0) logits[i] = (float)rand() / RAND_MAX * 8.0f;       /* spread out */
                        else if (kind == 1) logits[i] = (float)(rand() % 4);              /* many ties */
                        else logits[i] = i % 97 == 0 ? 60.0f : -(float)(rand() % 200);   /* zeros after softmax */
                    }
                    int token = r1_sample(&s, logits);
                    CHECK(token >= 0 && token < n, "drew %d of %d", token, n);
                    const struct r1_candidate *c = s.candidates;
                    memset(seen, 0, MAX_N);
                    for (int i = 0; i < n; i++) {
                        CHECK(c[i].id >= 0 && c[i].id < n && !seen[c[i].id], "n %d: candidate %d is id %d again", n, i,
                              c[i].id);
                        seen[c[i].id] = 1;
                        if (i == 0) continue;
                        ties += c[i - 1].prob == c[i].prob;
                        CHECK(c[i - 1].prob > c[i].prob || (c[i - 1].prob == c[i].prob && c[i - 1].id < c[i].id),
                              "n %d, setting %zu, kind %d: candidate %d (id %d, p %g) before %d (id %d, p %g)", n, pi, kind,
                              i - 1, c[i - 1].id, c[i - 1].prob, i, c[i].id, c[i].prob);
                    }
                }
                r1_sampler_free(&s);
            }
    CHECK(ties > 1000, "only %ld ties: the tie rule went unchecked", ties);
    printf("  %ld draws, %ld ties in order\n", draws, ties);
    free(logits), free(seen);
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

/* Logits that are no distribution are refused, naming the token; −infinity beside
 * finite logits is a probability of 0 and passes. */
static void test_logits_check(test_ctx *t) {
    r1_err err = {0};
    float logits[6] = {0.5f, -INFINITY, 2.0f, -3.0f, 1.0f, 0.0f};
    CHECK(r1_logits_check(logits, 6, &err) == R1_OK, "finite and -inf logits refused: %s", err.msg);
    logits[4] = NAN;
    CHECK(r1_logits_check(logits, 6, &err) == R1_ERR && strstr(err.msg, "token id 4 is NaN"), "NaN: %s", err.msg);
    logits[4] = 1.0f, logits[5] = INFINITY;
    CHECK(r1_logits_check(logits, 6, &err) == R1_ERR && strstr(err.msg, "token id 5 is +infinity"), "+inf: %s",
          err.msg);
    for (int i = 0; i < 6; i++) logits[i] = -INFINITY;
    CHECK(r1_logits_check(logits, 6, &err) == R1_ERR && strstr(err.msg, "all -infinity"), "all -inf: %s", err.msg);
}

TEST_MAIN("sampler", T(test_candidates_in_order), T(test_greedy_is_argmax), T(test_logits_check))
