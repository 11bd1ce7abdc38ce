/* Running a model on a token sequence and comparing it with reference logits and
 * a greedy continuation: shared by test_reference.c (../shared/testdata) and
 * test_fixtures.c (the project's own PyTorch fixtures). */
#ifndef R1_LOGITS_CHECK_H
#define R1_LOGITS_CHECK_H

#include "test.h"

#include "infer/sampler.h"
#include "model/state.h"

#define CHECK_MAX_GREEDY 16

/* Reads up to max_values numbers from a whitespace-separated text file; -1 if absent. */
static inline int read_numbers(const char *path, double *out, int max_values) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    while (n < max_values && fscanf(f, "%lf", &out[n]) == 1) n++;
    fclose(f);
    return n;
}

typedef struct {
    int n_prompt;
    double max_rel;        /* max|r1 - ref| / max|ref| over the first rel_rows positions */
    int worst_pos;         /* position with the largest absolute difference */
    int argmax_agree;      /* positions whose argmax agrees */
    int first_argmax_miss; /* -1 when none */
    int greedy_agree;      /* leading greedy tokens equal */
    int greedy[CHECK_MAX_GREEDY];
    int greedy_ref[CHECK_MAX_GREEDY];
    char error[600];
} logits_result;

/* Runs model_path on tokens[0..n) with every position's logits, compares them with
 * logits_path (n rows of vocab values), then decodes n_greedy tokens one at a time
 * through the KV cache and compares them with greedy_path. */
static inline void check_logits(const char *model_path, const int *tokens, int n, const char *logits_path,
                                const char *greedy_path, int n_greedy, int rel_rows, int n_threads, int max_batch,
                                logits_result *res) {
    memset(res, 0, sizeof *res);
    res->n_prompt = n;
    res->first_argmax_miss = -1;
    double greedy_ref[CHECK_MAX_GREEDY];
    if (read_numbers(greedy_path, greedy_ref, n_greedy) != n_greedy) {
        snprintf(res->error, sizeof res->error, "%.300s: cannot read %d greedy tokens", greedy_path, n_greedy);
        return;
    }
    for (int i = 0; i < n_greedy; i++) res->greedy_ref[i] = (int)greedy_ref[i];

    r1_model m;
    r1_compute compute;
    r1_state s;
    r1_err err;
    if (r1_model_load(&m, model_path, &err) != R1_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.msg);
        return;
    }
    int V = m.hp.n_vocab;
    if (r1_compute_init(&compute, n_threads) != R1_OK) {
        snprintf(res->error, sizeof res->error, "cannot start threads");
        r1_model_free(&m);
        return;
    }
    if (r1_state_init(&s, &m, &compute, n + n_greedy, max_batch, &err) != R1_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.msg);
        r1_compute_free(&compute);
        r1_model_free(&m);
        return;
    }
    float *logits = malloc(sizeof(float) * (size_t)n * V);
    double *ref = malloc(sizeof(double) * ((size_t)n * V + 1));
    int n_ref = read_numbers(logits_path, ref, n * V + 1);
    if (n_ref != n * V) {
        snprintf(res->error, sizeof res->error, "%.300s: read %d logits, expected %d", logits_path, n_ref, n * V);
    } else if (r1_forward(&s, tokens, n, logits, 1, &err) != R1_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.msg);
    } else {
        double max_ref = 0, worst = -1;
        for (int p = 0; p < n; p++) {
            const float *got = logits + (size_t)p * V;
            const double *want = ref + (size_t)p * V;
            int best_ref = 0;
            double diff = 0;
            for (int i = 0; i < V; i++) {
                if (want[i] > want[best_ref]) best_ref = i;
                if (p < rel_rows && fabs(want[i]) > max_ref) max_ref = fabs(want[i]);
                if (fabs(got[i] - want[i]) > diff) diff = fabs(got[i] - want[i]);
            }
            if (p < rel_rows && diff > worst) {
                worst = diff;
                res->worst_pos = p;
            }
            int agree = r1_argmax(got, V) == best_ref;
            res->argmax_agree += agree;
            if (!agree && res->first_argmax_miss < 0) res->first_argmax_miss = p;
        }
        res->max_rel = worst / max_ref;
        int token = r1_argmax(logits + (size_t)(n - 1) * V, V);
        int agree = 1;
        for (int g = 0; g < n_greedy; g++) {
            res->greedy[g] = token;
            if (agree && token == res->greedy_ref[g]) res->greedy_agree++;
            else agree = 0;
            if (g + 1 < n_greedy && r1_forward(&s, &token, 1, logits, 0, &err) != R1_OK) {
                snprintf(res->error, sizeof res->error, "%s", err.msg);
                break;
            }
            token = r1_argmax(logits, V);
        }
    }
    free(logits);
    free(ref);
    r1_state_free(&s);
    r1_compute_free(&compute);
    r1_model_free(&m);
}

/* The kernel sets and batchings every reference is checked with: AVX2 (when the
 * CPU has it) and scalar kernels; the prompt in one batch and in batches of 5,
 * which meet the cache mid-way. */
static const struct {
    int avx2, n_threads, max_batch;
    const char *what;
} check_runs[] = {
    {1, 2, 64, "avx2, 2 threads"},
    {0, 1, 64, "scalar, 1 thread"},
    {1, 2, 5, "avx2, batches of 5"},
};
#define N_CHECK_RUNS ((int)(sizeof check_runs / sizeof check_runs[0]))

#endif
