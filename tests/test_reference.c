/* The forward pass of every architecture against logits and greedy continuations
 * computed outside the project (../shared/testdata: llama.cpp and DeepSeek's own
 * reference code), with the tolerances of its README, under every kernel set and
 * batching of logits_check.h. */
#include "logits_check.h"

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

/* The README's table: quantised DeepSeek files are loose on purpose (an fp16
 * rounding midpoint can flip an expert choice between correct implementations). */
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

static void check_case(test_ctx *t, const ref_case *c) {
    const char *dir = testdata_dir();
    if (!dir) SKIP("../shared/testdata is not there");
    char model[4200], logits[4200], greedy[4200];
    snprintf(model, sizeof model, "%s/models/%s.gguf", dir, c->model);
    snprintf(logits, sizeof logits, "%s/refs/%s_logits.txt", dir, c->ref);
    snprintf(greedy, sizeof greedy, "%s/refs/%s_greedy.txt", dir, c->ref);
    int failed = 0, ran = 0;
    for (int i = 0; i < N_CHECK_RUNS; i++) {
        if (check_runs[i].avx2 && !r1_kernels_cpu_has_avx2()) continue;
        r1_kernels_select(check_runs[i].avx2);
        logits_result r;
        check_logits(model, input_tokens, N_TOKENS, logits, greedy, N_TOKENS, c->rel_rows, check_runs[i].n_threads,
                     check_runs[i].max_batch, &r);
        int ok = !r.error[0] && r.max_rel <= c->max_rel && r.argmax_agree >= c->min_argmax &&
                 r.greedy_agree >= c->greedy_equal;
        printf("  %-24s vs %-34s %-19s rel %.2e (<= %.0e)  argmax %2d/16  greedy %2d/16%s%s\n", c->model, c->ref,
               check_runs[i].what, r.max_rel, c->max_rel, r.argmax_agree, r.greedy_agree, ok ? "" : "  <-- FAIL ",
               r.error);
        failed += !ok;
        ran++;
    }
    r1_kernels_select(1);
    CHECK(failed == 0, "%s vs %s: %d of %d runs out of tolerance", c->model, c->ref, failed, ran);
}

static void test_qwen2_f32(test_ctx *t) { check_case(t, &cases[0]); }
static void test_llama_f32(test_ctx *t) { check_case(t, &cases[1]); }
static void test_deepseek2_v3_f32_llamacpp(test_ctx *t) { check_case(t, &cases[2]); }
static void test_deepseek2_v3_f32_deepseek(test_ctx *t) { check_case(t, &cases[3]); }
static void test_deepseek2_oldmla_llamacpp(test_ctx *t) { check_case(t, &cases[4]); }
static void test_deepseek2_oldmla_deepseek(test_ctx *t) { check_case(t, &cases[5]); }
static void test_deepseek2_v2lite_llamacpp(test_ctx *t) { check_case(t, &cases[6]); }
static void test_deepseek2_v2lite_deepseek(test_ctx *t) { check_case(t, &cases[7]); }
static void test_qwen2_q8_0(test_ctx *t) { check_case(t, &cases[8]); }
static void test_qwen2_q4_k_m(test_ctx *t) { check_case(t, &cases[9]); }
static void test_deepseek2_v3_q8_0(test_ctx *t) { check_case(t, &cases[10]); }

TEST_MAIN("reference", T(test_qwen2_f32), T(test_llama_f32), T(test_deepseek2_v3_f32_llamacpp),
          T(test_deepseek2_v3_f32_deepseek), T(test_deepseek2_oldmla_llamacpp), T(test_deepseek2_oldmla_deepseek),
          T(test_deepseek2_v2lite_llamacpp), T(test_deepseek2_v2lite_deepseek), T(test_qwen2_q8_0),
          T(test_qwen2_q4_k_m), T(test_deepseek2_v3_q8_0))
