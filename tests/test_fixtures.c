/* The forward pass on the committed fixtures of tests/fixtures, made by
 * tests/ref/make_fixtures.py with an independent PyTorch reference (plain, not
 * absorbed, MLA): YaRN rope scaling for deepseek2 (V3 routing with the new MLA
 * layout, V2 routing with the old one) and llama3 rope frequency factors
 * (rope_freqs.weight). Each fixture: 48 prompt tokens, their logits (relative error
 * <= 1e-4, argmax equal everywhere) and 16 greedy tokens decoded one by one through
 * the KV cache. Paths are relative to the project root, where the tests run. */
#include "logits_check.h"

#define FIXTURES "tests/fixtures/"
#define MAX_PROMPT 64
#define N_GREEDY 16
#define MAX_REL 1e-4

/* Runs fixture `name` and compares it with tests/fixtures/<logits_file>. */
static void run_fixture(const char *name, const char *logits_file, int n_threads, int max_batch, logits_result *res) {
    char model[512], logits[512], greedy[512], tokens_path[512];
    double tok[MAX_PROMPT + 1];
    int tokens[MAX_PROMPT];
    snprintf(tokens_path, sizeof tokens_path, FIXTURES "%s.tokens", name);
    int n = read_numbers(tokens_path, tok, MAX_PROMPT + 1);
    if (n < 1 || n > MAX_PROMPT) {
        memset(res, 0, sizeof *res);
        snprintf(res->error, sizeof res->error, "%s: read %d tokens", tokens_path, n);
        return;
    }
    for (int i = 0; i < n; i++) tokens[i] = (int)tok[i];
    snprintf(model, sizeof model, FIXTURES "%s.gguf", name);
    snprintf(logits, sizeof logits, FIXTURES "%s", logits_file);
    snprintf(greedy, sizeof greedy, FIXTURES "%s.greedy", name);
    check_logits(model, tokens, n, logits, greedy, N_GREEDY, n, n_threads, max_batch, res);
}

static void print_result(const char *name, const char *what, const logits_result *r, int ok) {
    printf("  %-18s %-22s rel %.2e (<= %.0e, worst at position %d)  argmax %2d/%d  greedy %2d/%d%s%s\n", name, what,
           r->max_rel, MAX_REL, r->worst_pos, r->argmax_agree, r->n_prompt, r->greedy_agree, N_GREEDY,
           ok ? "" : "  <-- FAIL ", r->error);
    if (!ok && !r->error[0]) {
        if (r->first_argmax_miss >= 0) printf("    first argmax mismatch at position %d\n", r->first_argmax_miss);
        printf("    greedy r1 :");
        for (int i = 0; i < N_GREEDY; i++) printf(" %d", r->greedy[i]);
        printf("\n    greedy ref:");
        for (int i = 0; i < N_GREEDY; i++) printf(" %d", r->greedy_ref[i]);
        printf("\n");
    }
}

static void check_fixture(test_ctx *t, const char *name) {
    char logits_file[256];
    snprintf(logits_file, sizeof logits_file, "%s.logits", name);
    int failed = 0, ran = 0;
    for (int i = 0; i < N_CHECK_RUNS; i++) {
        if (check_runs[i].avx2 && !r1_kernels_cpu_has_avx2()) continue;
        r1_kernels_select(check_runs[i].avx2);
        logits_result r;
        run_fixture(name, logits_file, check_runs[i].n_threads, check_runs[i].max_batch, &r);
        int ok = !r.error[0] && r.max_rel <= MAX_REL && r.argmax_agree == r.n_prompt && r.greedy_agree == N_GREEDY;
        print_result(name, check_runs[i].what, &r, ok);
        failed += !ok;
        ran++;
    }
    r1_kernels_select(1);
    CHECK(ran > 0, "no kernel set ran");
    CHECK(failed == 0, "%s: %d of %d runs disagree with the reference", name, failed, ran);
}

static void test_deepseek2_yarn(test_ctx *t) { check_fixture(t, "deepseek2-yarn"); }
static void test_deepseek2_yarn_v2(test_ctx *t) { check_fixture(t, "deepseek2-yarn-v2"); }
static void test_llama_ropefreqs(test_ctx *t) { check_fixture(t, "llama-ropefreqs"); }

/* The YaRN fixture has teeth: the reference's logits for the same file with YaRN
 * ignored (plain rope, softmax scale without mscale²) are far from r1's. */
static void test_yarn_matters(test_ctx *t) {
    logits_result r;
    run_fixture("deepseek2-yarn", "deepseek2-yarn.noyarn.logits", 2, 64, &r);
    printf("  r1 vs the reference without YaRN: rel %.3e (must be > 1e-2)\n", r.max_rel);
    CHECK(!r.error[0], "%s", r.error);
    CHECK(r.max_rel > 1e-2, "r1's logits are within %.3e of the logits computed without YaRN", r.max_rel);
}

TEST_MAIN("fixtures", T(test_deepseek2_yarn), T(test_deepseek2_yarn_v2), T(test_llama_ropefreqs),
          T(test_yarn_matters))
