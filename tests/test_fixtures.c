/* The forward pass on the committed fixtures of tests/fixtures, made by
 * tests/ref/make_fixtures.py with an independent PyTorch reference (plain, not
 * absorbed, MLA): YaRN rope scaling for deepseek2 (V3 routing with the new MLA
 * layout, V2 routing with the old one) and llama3 rope frequency factors
 * (rope_freqs.weight). Each fixture: 48 prompt tokens, their logits (relative error
 * <= 1e-4, argmax equal everywhere) and 16 greedy tokens decoded one by one through
 * the KV cache. Paths are relative to the project root, where the tests run. */
#include "test.h"

#include "infer/sampler.h"
#include "model/state.h"

#define FIXTURES "tests/fixtures/"
#define MAX_PROMPT 64
#define N_GREEDY 16
#define MAX_REL 1e-4

/* Reads up to max_values numbers from a whitespace-separated text file. */
static int read_numbers(const char *path, double *out, int max_values) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    while (n < max_values && fscanf(f, "%lf", &out[n]) == 1) n++;
    fclose(f);
    return n;
}

static double rel_error(const float *got, const double *ref, size_t n) {
    double max_ref = 0, max_diff = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
        double d = fabs(got[i] - ref[i]);
        if (d > max_diff) max_diff = d;
    }
    return max_diff / max_ref;
}

static int argmax_d(const double *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

typedef struct {
    int n_prompt;
    int tokens[MAX_PROMPT];
    int V;
    double max_rel;        /* over all prompt positions */
    int worst_pos;         /* position with the largest absolute difference */
    int argmax_agree;
    int first_argmax_miss; /* -1 when none */
    int greedy_agree;      /* leading greedy tokens equal */
    int greedy[N_GREEDY];
    int greedy_ref[N_GREEDY];
    char error[600];
} fixture_result;

/* Runs fixture `name` and compares it with `logits_file` (tests/fixtures/<file>). */
static void run_fixture(const char *name, const char *logits_file, int n_threads, int max_batch,
                        fixture_result *res) {
    char path[512];
    memset(res, 0, sizeof *res);
    res->first_argmax_miss = -1;
    double tok[MAX_PROMPT + 1], greedy_ref[N_GREEDY];
    snprintf(path, sizeof path, FIXTURES "%s.tokens", name);
    int n = read_numbers(path, tok, MAX_PROMPT + 1);
    if (n < 1 || n > MAX_PROMPT) {
        snprintf(res->error, sizeof res->error, "%s: read %d tokens", path, n);
        return;
    }
    res->n_prompt = n;
    for (int i = 0; i < n; i++) res->tokens[i] = (int)tok[i];
    snprintf(path, sizeof path, FIXTURES "%s.greedy", name);
    if (read_numbers(path, greedy_ref, N_GREEDY) != N_GREEDY) {
        snprintf(res->error, sizeof res->error, "%s: cannot read %d greedy tokens", path, N_GREEDY);
        return;
    }
    for (int i = 0; i < N_GREEDY; i++) res->greedy_ref[i] = (int)greedy_ref[i];

    r1_model m;
    r1_compute compute;
    r1_state s;
    r1_err err;
    snprintf(path, sizeof path, FIXTURES "%s.gguf", name);
    if (r1_model_load(&m, path, &err) != R1_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.msg);
        return;
    }
    int V = res->V = m.hp.n_vocab;
    r1_compute_init(&compute, n_threads);
    if (r1_state_init(&s, &m, &compute, n + N_GREEDY, max_batch, &err) != R1_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.msg);
        r1_compute_free(&compute);
        r1_model_free(&m);
        return;
    }
    float *logits = malloc(sizeof(float) * (size_t)n * V);
    double *ref = malloc(sizeof(double) * ((size_t)n * V + 1));
    snprintf(path, sizeof path, FIXTURES "%s", logits_file);
    int n_ref = read_numbers(path, ref, n * V + 1);
    if (n_ref != n * V) {
        snprintf(res->error, sizeof res->error, "%s: read %d logits, expected %d", path, n_ref, n * V);
    } else if (r1_forward(&s, res->tokens, n, logits, 1, &err) != R1_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.msg);
    } else {
        res->max_rel = rel_error(logits, ref, (size_t)n * V);
        double worst = -1;
        for (int p = 0; p < n; p++) {
            double d = 0;
            for (int i = 0; i < V; i++) {
                double e = fabs(logits[(size_t)p * V + i] - ref[(size_t)p * V + i]);
                if (e > d) d = e;
            }
            if (d > worst) {
                worst = d;
                res->worst_pos = p;
            }
            int agree = r1_argmax(logits + (size_t)p * V, V) == argmax_d(ref + (size_t)p * V, V);
            res->argmax_agree += agree;
            if (!agree && res->first_argmax_miss < 0) res->first_argmax_miss = p;
        }
        /* greedy: one token at a time through the KV cache */
        int token = r1_argmax(logits + (size_t)(n - 1) * V, V);
        int agree = 1;
        for (int g = 0; g < N_GREEDY; g++) {
            res->greedy[g] = token;
            if (agree && token == res->greedy_ref[g]) res->greedy_agree++;
            else agree = 0;
            if (g + 1 < N_GREEDY && r1_forward(&s, &token, 1, logits, 0, &err) != R1_OK) {
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

static void print_result(const char *name, const char *what, const fixture_result *r, int ok) {
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

/* One fixture with every kernel set and batching: AVX2 (when the CPU has it) and
 * scalar kernels, the prompt in one batch and in batches of 5. */
static void check_fixture(test_ctx *t, const char *name) {
    static const struct {
        int avx2, n_threads, max_batch;
        const char *what;
    } runs[] = {
        {1, 2, 64, "avx2, 2 threads"},
        {0, 1, 64, "scalar, 1 thread"},
        {1, 2, 5, "avx2, batches of 5"},
    };
    char logits_file[256];
    snprintf(logits_file, sizeof logits_file, "%s.logits", name);
    int failed = 0, ran = 0;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        if (runs[i].avx2 && !r1_kernels_cpu_has_avx2()) continue;
        r1_kernels_select(runs[i].avx2);
        fixture_result r;
        run_fixture(name, logits_file, runs[i].n_threads, runs[i].max_batch, &r);
        int ok = !r.error[0] && r.max_rel <= MAX_REL && r.argmax_agree == r.n_prompt && r.greedy_agree == N_GREEDY;
        print_result(name, runs[i].what, &r, ok);
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
    fixture_result r;
    run_fixture("deepseek2-yarn", "deepseek2-yarn.noyarn.logits", 2, 64, &r);
    printf("  r1 vs the reference without YaRN: rel %.3e (must be > 1e-2)\n", r.max_rel);
    CHECK(!r.error[0], "%s", r.error);
    CHECK(r.max_rel > 1e-2, "r1's logits are within %.3e of the logits computed without YaRN", r.max_rel);
}

TEST_MAIN("fixtures", T(test_deepseek2_yarn), T(test_deepseek2_yarn_v2), T(test_llama_ropefreqs),
          T(test_yarn_matters))
