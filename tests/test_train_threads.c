/* The trainer with a thread pool (train/tiny_model.h r1_train_model_set_pool, the
 * pooled linear layer of train/linear.h): the loss, the logits, the expert loads and
 * every gradient are bit-identical with no pool and with 1, 2 or 3 threads, since
 * each sum is taken by one thread in a fixed order — with float products and with
 * bfloat16 ones, which also stay near the float step. */
#include "test.h"

#include "base/pool.h"
#include "train/adamw.h"
#include "train/linear.h"
#include "train/tiny_model.h"

/* Big enough that the linear layers and most expert groups go to the pool, with
 * sizes that do not split evenly: 3 sequences of 37 tokens, odd widths. */
static r1_train_config threads_config(void) {
    r1_train_config c = r1_train_config_default();
    c.vocab = 301, c.dim = 72, c.n_layers = 3, c.n_dense_layers = 1, c.n_heads = 3;
    c.q_lora_rank = 40, c.kv_lora_rank = 24, c.qk_nope = 16, c.qk_rope = 8, c.v_head = 12;
    c.ffn_dim = 100, c.n_experts = 8, c.top_k = 2, c.n_shared = 1, c.expert_ffn = 36;
    c.n_groups = 4, c.n_groups_used = 2, c.seq_len = 37, c.batch = 3, c.balance_alpha = 0.01f;
    return c;
}

typedef struct {
    float loss;
    float *logits, *grads, *load;
    size_t n_logits, n_grads, n_load;
} step_result;

static void step_result_free(step_result *r) {
    free(r->logits), free(r->grads), free(r->load);
    memset(r, 0, sizeof *r);
}

/* One forward and backward of a fixed batch with n_threads (0: no pool). */
static int run_step(r1_linear_precision precision, int n_threads, step_result *r, r1_err *err) {
    r1_train_config c = threads_config();
    c.precision = precision;
    r1_train_model m;
    if (r1_train_model_init(&m, &c, 42, err) != R1_OK) return R1_ERR;
    r1_pool *pool = n_threads > 0 ? r1_pool_create(n_threads) : NULL;
    if (n_threads > 0 && !pool) {
        r1_train_model_free(&m);
        return r1_fail(err, "test: cannot start %d threads", n_threads);
    }
    r1_train_model_set_pool(&m, pool);
    int B = c.batch, T = c.seq_len, N = B * T, tokens[3 * 37], targets[3 * 37];
    for (int i = 0; i < N; i++) {
        tokens[i] = (i * 7919 + 13) % c.vocab;
        targets[i] = i % 11 == 5 ? -1 : (i * 104729 + 3) % c.vocab;
    }
    int rc = r1_train_forward(&m, tokens, targets, B, T, &r->loss, err);
    if (rc == R1_OK) {
        r1_train_zero_grad(&m);
        r1_train_backward(&m);
        r->n_logits = (size_t)N * c.vocab, r->n_grads = m.n_params, r->n_load = (size_t)c.n_layers * c.n_experts;
        r->logits = malloc(r->n_logits * sizeof(float));
        r->grads = malloc(r->n_grads * sizeof(float));
        r->load = malloc(r->n_load * sizeof(float));
        if (!r->logits || !r->grads || !r->load) rc = r1_fail(err, "test: out of memory");
        else {
            memcpy(r->logits, m.logits, r->n_logits * sizeof(float));
            memcpy(r->grads, m.grads, r->n_grads * sizeof(float));
            memcpy(r->load, m.expert_load, r->n_load * sizeof(float));
        }
    }
    r1_train_model_free(&m);
    r1_pool_free(pool);
    return rc;
}

/* The first element where two float arrays differ in their bits, or −1. */
static long first_difference(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(a + i, b + i, sizeof(float)) != 0) return (long)i;
    return -1;
}

static void check_bit_identical_across_threads(test_ctx *t, r1_linear_precision precision) {
    r1_err err;
    step_result ref = {0};
    CHECK(run_step(precision, 0, &ref, &err) == R1_OK, "%s", err.msg);
    CHECK(isfinite(ref.loss) && ref.loss > 0.0f, "loss %g", ref.loss);
    static const int thread_counts[] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
        step_result r = {0};
        int rc = run_step(precision, thread_counts[i], &r, &err);
        long logit = rc == R1_OK ? first_difference(ref.logits, r.logits, ref.n_logits) : -1;
        long grad = rc == R1_OK ? first_difference(ref.grads, r.grads, ref.n_grads) : -1;
        long load = rc == R1_OK ? first_difference(ref.load, r.load, ref.n_load) : -1;
        float loss = r.loss;
        float grad_value = grad >= 0 ? r.grads[grad] : 0.0f, ref_value = grad >= 0 ? ref.grads[grad] : 0.0f;
        step_result_free(&r);
        if (rc != R1_OK || memcmp(&loss, &ref.loss, sizeof loss) != 0 || logit >= 0 || grad >= 0 || load >= 0)
            step_result_free(&ref);
        CHECK(rc == R1_OK, "%s", err.msg);
        CHECK(memcmp(&loss, &ref.loss, sizeof loss) == 0, "%d threads: loss %.9g, without a pool %.9g",
              thread_counts[i], loss, ref.loss);
        CHECK(logit < 0, "%d threads: logit %ld differs", thread_counts[i], logit);
        CHECK(grad < 0, "%d threads: gradient %ld is %.9g, without a pool %.9g", thread_counts[i], grad, grad_value,
              ref_value);
        CHECK(load < 0, "%d threads: expert load %ld differs", thread_counts[i], load);
    }
    step_result_free(&ref);
}

static void test_bit_identical_across_threads(test_ctx *t) { check_bit_identical_across_threads(t, R1_LINEAR_F32); }
static void test_bf16_bit_identical_across_threads(test_ctx *t) {
    check_bit_identical_across_threads(t, R1_LINEAR_BF16);
}

/* ‖a − b‖ / ‖b‖ over n floats. */
static double relative_distance(const float *a, const float *b, size_t n) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; i++) diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), norm += (double)b[i] * b[i];
    return sqrt(diff / norm);
}

/* bfloat16 products keep 8 bits of each operand: the step moves by about their
 * rounding (2⁻⁹ relative, ~2e-3), not much more (limits 2.5–5× that), and does move. */
static void test_bf16_near_float(test_ctx *t) {
    r1_err err;
    step_result f32 = {0}, bf16 = {0};
    int rc = run_step(R1_LINEAR_F32, 0, &f32, &err);
    if (rc == R1_OK) rc = run_step(R1_LINEAR_BF16, 2, &bf16, &err);
    double loss_change = fabs((double)bf16.loss - f32.loss) / f32.loss;
    double logits = rc == R1_OK ? relative_distance(bf16.logits, f32.logits, f32.n_logits) : 0;
    double grads = rc == R1_OK ? relative_distance(bf16.grads, f32.grads, f32.n_grads) : 0;
    step_result_free(&f32), step_result_free(&bf16);
    CHECK(rc == R1_OK, "%s", err.msg);
    printf("  bf16 against f32: loss %.2e, logits %.2e, gradients %.2e (relative)\n", loss_change, logits, grads);
    CHECK(loss_change < 1e-3 && logits < 5e-3 && grads < 1e-2, "bf16 is too far from f32");
    CHECK(logits > 1e-5 && grads > 1e-5, "bf16 products changed nothing");
}

/* The pooled linear layer against its single-thread self on a shape with a partial
 * tile, for forward, backward, and backward without dx; and dx written (SET) over
 * NaN against dx zeroed and added to, bit for bit. */
static void test_linear_pool_matches(test_ctx *t) {
    enum { T_ = 131, IN = 67, OUT = 45 };
    static float x[T_ * IN], W[OUT * IN], dy[T_ * OUT];
    static float y0[T_ * OUT], y1[T_ * OUT], dx0[T_ * IN], dx1[T_ * IN], dx_set[T_ * IN], dW0[OUT * IN], dW1[OUT * IN],
        dW_scratch[OUT * IN];
    uint32_t s = 1;
    for (int i = 0; i < T_ * IN; i++) x[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int i = 0; i < OUT * IN; i++) W[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int i = 0; i < T_ * OUT; i++) dy[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    r1_pool *pool = r1_pool_create(2);
    CHECK(pool, "cannot start 2 threads");
    r1_linear_forward(y0, x, W, T_, IN, OUT);
    r1_linear_forward_pool(pool, R1_LINEAR_F32, y1, x, W, T_, IN, OUT);
    r1_linear_backward(dx0, dW0, dy, x, W, T_, IN, OUT);
    r1_linear_backward_pool(pool, R1_LINEAR_F32, R1_GEMM_ADD, dx1, dW1, dy, x, W, T_, IN, OUT);
    r1_linear_backward_pool(pool, R1_LINEAR_F32, R1_GEMM_ADD, NULL, dW1, dy, x, W, T_, IN, OUT);
    r1_linear_backward(NULL, dW0, dy, x, W, T_, IN, OUT);
    for (int i = 0; i < T_ * IN; i++) dx_set[i] = NAN;
    r1_linear_backward_pool(pool, R1_LINEAR_F32, R1_GEMM_SET, dx_set, dW_scratch, dy, x, W, T_, IN, OUT);
    r1_pool_free(pool);
    CHECK(first_difference(y0, y1, T_ * OUT) < 0, "forward differs");
    CHECK(first_difference(dx0, dx1, T_ * IN) < 0, "dx differs");
    CHECK(first_difference(dx0, dx_set, T_ * IN) < 0, "dx written (SET) differs from dx zeroed and added to");
    CHECK(first_difference(dW0, dW1, OUT * IN) < 0, "dW differs");
    /* spot-check one element of each against its definition */
    double y_ref = 0.0, dW_ref = 0.0;
    for (int i = 0; i < IN; i++) y_ref += (double)W[3 * IN + i] * x[5 * IN + i];
    for (int tt = 0; tt < T_; tt++) dW_ref += 2.0 * dy[tt * OUT + 7] * x[tt * IN + 9];
    CHECK(fabs(y0[5 * OUT + 3] - y_ref) < 1e-4, "y %g, expected %g", y0[5 * OUT + 3], y_ref);
    CHECK(fabs(dW0[7 * IN + 9] - dW_ref) < 1e-3, "dW %g, expected %g", dW0[7 * IN + 9], dW_ref);
}

/* Gradient clipping and two AdamW steps on the pool against the caller alone, on
 * more parameters than one clipping block: the norm and every parameter and moment
 * bit-identical. */
static void test_optimizer_pool_matches(test_ctx *t) {
    enum { N = 200003 };
    static float grads[2][N], params[2][N];
    uint32_t s = 3;
    for (int i = 0; i < N; i++) {
        grads[0][i] = grads[1][i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
        params[0][i] = params[1][i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    }
    r1_adamw_hparams hp = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    r1_adamw opt[2];
    r1_err err;
    CHECK(r1_adamw_init(&opt[0], N, hp, &err) == R1_OK && r1_adamw_init(&opt[1], N, hp, &err) == R1_OK, "%s", err.msg);
    r1_pool *pool = r1_pool_create(3);
    float norm[2] = {r1_clip_grad_norm(grads[0], N, 1.0f), r1_clip_grad_norm_pool(pool, grads[1], N, 1.0f)};
    for (int step = 0; step < 2; step++) {
        r1_adamw_step(&opt[0], params[0], grads[0], 1e-2f, NULL);
        r1_adamw_step_pool(pool, &opt[1], params[1], grads[1], 1e-2f, NULL);
    }
    int same = !memcmp(&norm[0], &norm[1], sizeof(float)) && !memcmp(grads[0], grads[1], sizeof grads[0]) &&
               !memcmp(params[0], params[1], sizeof params[0]) &&
               !memcmp(opt[0].m, opt[1].m, N * sizeof(float)) && !memcmp(opt[0].v, opt[1].v, N * sizeof(float));
    r1_pool_free(pool);
    r1_adamw_free(&opt[0]), r1_adamw_free(&opt[1]);
    CHECK(norm[0] > 1.0f, "norm %g: the test wants the clipping to happen", norm[0]);
    CHECK(same, "pooled optimizer differs (norm %.9g vs %.9g)", norm[1], norm[0]);
}

TEST_MAIN("train_threads", T(test_bit_identical_across_threads), T(test_bf16_bit_identical_across_threads),
          T(test_bf16_near_float), T(test_linear_pool_matches),
          T(test_optimizer_pool_matches))
