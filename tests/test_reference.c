/* The forward pass of every architecture against logits and greedy continuations
 * computed outside the project (../shared/testdata: llama.cpp and DeepSeek's own
 * reference code), with the tolerances of its README. */
#include "test.h"

#include "infer/sampler.h"
#include "model/state.h"

#define N_TOKENS 16
static const int input_tokens[N_TOKENS] = {1, 7, 42, 100, 3, 250, 511, 17, 64, 9, 300, 128, 5, 77, 400, 2};

typedef struct {
    const char *model;        /* models/<model>.gguf */
    const char *ref;          /* refs/<ref>_logits.txt and _greedy.txt */
    double max_rel;           /* bound on max|r1 - ref| / max|ref| */
    int rel_rows;             /* positions the bound applies to */
    int min_argmax;           /* positions whose argmax must agree */
    int greedy_equal;         /* leading greedy tokens that must agree */
} ref_case;

static const ref_case cases[] = {
    {"qwen2-tiny-f32", "llamacpp_qwen2-tiny-f32", 1e-4, 16, 16, 16},
    {"llama-tiny-f32", "llamacpp_llama-tiny-f32", 1e-4, 16, 16, 16},
    {"deepseek2-v3-f32", "llamacpp_deepseek2-v3-f32", 1e-4, 16, 16, 16},
    {"deepseek2-v3-f32", "deepseek_ref_v3", 1e-4, 16, 16, 16},
    {"deepseek2-v3-oldmla-f32", "llamacpp_deepseek2-v3-oldmla-f32", 1e-4, 16, 16, 16},
    {"deepseek2-v3-oldmla-f32", "deepseek_ref_v3", 1e-4, 16, 16, 16},
    {"deepseek2-v2lite-f32", "llamacpp_deepseek2-v2lite-f32", 1e-4, 16, 16, 16},
    {"deepseek2-v2lite-f32", "deepseek_ref_v2lite", 1e-4, 16, 16, 16},
    {"qwen2-tiny-q8_0", "llamacpp_qwen2-tiny-q8_0", 2e-2, 16, 15, 8},
    {"qwen2-tiny-q4_k_m", "llamacpp_qwen2-tiny-q4_k_m", 2e-2, 16, 15, 8},
    {"deepseek2-v3-q8_0", "llamacpp_deepseek2-v3-q8_0", 5e-2, 12, 14, 0},
};

/* Reads up to max_values floats or ints from a whitespace-separated text file. */
static int read_numbers(const char *path, double *out, int max_values) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    while (n < max_values && fscanf(f, "%lf", &out[n]) == 1) n++;
    fclose(f);
    return n;
}

typedef struct {
    double max_rel;
    int argmax_agree;
    int greedy_agree;
    char error[600];
} ref_result;

/* Runs one reference case with the current kernels, n_threads and batch size. */
static void run_case(const ref_case *c, int n_threads, int max_batch, ref_result *res) {
    char path[4200];
    const char *dir = testdata_dir();
    memset(res, 0, sizeof *res);
    r1_model m;
    r1_compute compute;
    r1_state s;
    r1_err err;
    snprintf(path, sizeof path, "%s/models/%s.gguf", dir, c->model);
    if (r1_model_load(&m, path, &err) != R1_OK) { snprintf(res->error, sizeof res->error, "%s", err.msg); return; }
    int V = m.hp.n_vocab;
    r1_compute_init(&compute, n_threads);
    r1_state_init(&s, &m, &compute, 2 * N_TOKENS, max_batch, &err);
    float *logits = malloc(sizeof(float) * N_TOKENS * V);
    double *ref = malloc(sizeof(double) * N_TOKENS * V);
    double greedy_ref[N_TOKENS];
    snprintf(path, sizeof path, "%s/refs/%s_logits.txt", dir, c->ref);
    int n_ref = read_numbers(path, ref, N_TOKENS * V);
    snprintf(path, sizeof path, "%s/refs/%s_greedy.txt", dir, c->ref);
    int n_greedy = read_numbers(path, greedy_ref, N_TOKENS);
    if (n_ref != N_TOKENS * V || n_greedy != N_TOKENS) {
        snprintf(res->error, sizeof res->error, "reference %s: read %d logits and %d greedy tokens", c->ref, n_ref, n_greedy);
    } else if (r1_forward(&s, input_tokens, N_TOKENS, logits, 1, &err) != R1_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.msg);
    } else {
        double max_ref = 0, max_diff = 0;
        for (int p = 0; p < c->rel_rows; p++)
            for (int i = 0; i < V; i++) {
                double r = ref[(size_t)p * V + i], d = fabs(logits[(size_t)p * V + i] - r);
                if (fabs(r) > max_ref) max_ref = fabs(r);
                if (d > max_diff) max_diff = d;
            }
        res->max_rel = max_diff / max_ref;
        for (int p = 0; p < N_TOKENS; p++) {
            int best_ref = 0;
            for (int i = 1; i < V; i++)
                if (ref[(size_t)p * V + i] > ref[(size_t)p * V + best_ref]) best_ref = i;
            res->argmax_agree += r1_argmax(logits + (size_t)p * V, V) == best_ref;
        }
        /* greedy: decode one token at a time after the prompt */
        int token = r1_argmax(logits + (size_t)(N_TOKENS - 1) * V, V);
        int agree = 1;
        for (int g = 0; g < N_TOKENS; g++) {
            if (agree && token == (int)greedy_ref[g]) res->greedy_agree++;
            else agree = 0;
            if (g + 1 < N_TOKENS && r1_forward(&s, &token, 1, logits, 0, &err) != R1_OK) {
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

static void check_cases(test_ctx *t, int avx2, int n_threads, int max_batch) {
    if (!testdata_dir()) SKIP("../shared/testdata is not there");
    if (avx2 && !r1_kernels_cpu_has_avx2()) SKIP("this CPU has no AVX2+FMA");
    r1_kernels_select(avx2);
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ref_case *c = &cases[i];
        ref_result r;
        run_case(c, n_threads, max_batch, &r);
        int ok = !r.error[0] && r.max_rel <= c->max_rel && r.argmax_agree >= c->min_argmax &&
                 r.greedy_agree >= c->greedy_equal;
        printf("  %-24s vs %-34s rel %.2e (<= %.0e)  argmax %2d/16  greedy %2d/16%s%s\n", c->model, c->ref, r.max_rel,
               c->max_rel, r.argmax_agree, r.greedy_agree, ok ? "" : "  <-- FAIL ", r.error);
        failed += !ok;
    }
    r1_kernels_select(1);
    CHECK(failed == 0, "%d reference cases failed", failed);
}

static void test_references_avx2(test_ctx *t) { check_cases(t, 1, 2, 64); }
static void test_references_scalar(test_ctx *t) { check_cases(t, 0, 1, 64); }
/* batches of 5 tokens split the prompt into chunks that meet the cache mid-way */
static void test_references_small_batches(test_ctx *t) { check_cases(t, 1, 2, 5); }

TEST_MAIN("reference", T(test_references_avx2), T(test_references_scalar), T(test_references_small_batches))
