/* Gradient checks of the trainer's backward passes (model/ops.h, train/loss.h,
 * train/linear.h): every analytic gradient against central finite differences of
 * the float32 forward.
 *
 * The scalar loss of an op f is a fixed random projection of its output,
 * L(x) = Σ r⊙f(x) (cross-entropy is already a scalar), summed in double so the
 * sum adds no rounding of its own. Each input element is moved by ±h, h = 1e-3,
 * and ∂L/∂x_i ≈ (L(x_i + h) − L(x_i − h)) / (2h), with 2h taken as the step the
 * float input actually moved. Float32 outputs carry ~1e-7 relative rounding, so
 * the quotient carries up to ~1e-4 absolute noise. The error of an element is
 * therefore taken relative to the larger of its two values and a floor of
 * 0.1 × the largest gradient of the op: large elements are held to a relative
 * bound, elements near zero (where relative error would measure only noise) to
 * an absolute one of FD_MAX_REL × 0.1 × the largest gradient. */
#include "test.h"

#include "model/ops.h"
#include "tensor/activation.h"
#include "tensor/matmul.h"
#include "tensor/types.h"
#include "train/linear.h"
#include "train/loss.h"

#define FD_STEP 1e-3f
#define FD_MAX_REL 1e-2 /* bound for every op; observed errors are ~1e-5..2e-3 */

/* ---- helpers ---------------------------------------------------------------- */

/* Fixed-seed LCG (Knuth's MMIX constants); the top bits are the good ones. */
static uint32_t lcg_next(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*state >> 32);
}

static float lcg_gaussian(uint64_t *state) { /* Box-Muller */
    float u1 = ((float)lcg_next(state) + 1.0f) / 4294967296.0f;
    float u2 = (float)lcg_next(state) / 4294967296.0f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

/* x[i] = offset + scale·N(0, 1) */
static void fill_gaussian(float *x, int n, float offset, float scale, uint64_t seed) {
    uint64_t state = seed;
    for (int i = 0; i < n; i++) x[i] = offset + scale * lcg_gaussian(&state);
}

static double project(const float *r, const float *y, int n) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)r[i] * y[i];
    return sum;
}

/* The loss at the current inputs; ctx points to the op's inputs, which
 * fd_check perturbs in place. */
typedef double (*loss_fn)(void *ctx);

/* Max relative error of `analytic` (n values) against central differences of L
 * with respect to param[0..n), printed under `label`. */
static double fd_check(const char *label, loss_fn L, void *ctx, float *param, const float *analytic, int n) {
    double *numeric = malloc((size_t)n * sizeof *numeric);
    double max_grad = 0.0;
    for (int i = 0; i < n; i++) {
        float saved = param[i];
        float plus = saved + FD_STEP, minus = saved - FD_STEP;
        param[i] = plus;
        double loss_plus = L(ctx);
        param[i] = minus;
        double loss_minus = L(ctx);
        param[i] = saved;
        numeric[i] = (loss_plus - loss_minus) / ((double)plus - minus);
        if (fabs(numeric[i]) > max_grad) max_grad = fabs(numeric[i]);
        if (fabs(analytic[i]) > max_grad) max_grad = fabs(analytic[i]);
    }
    double floor = 0.1 * max_grad, max_rel = 0.0;
    for (int i = 0; i < n; i++) {
        double denom = fmax(fmax(fabs(analytic[i]), fabs(numeric[i])), floor);
        double rel = denom > 0 ? fabs(analytic[i] - numeric[i]) / denom : 0.0;
        if (!(rel <= max_rel)) max_rel = rel; /* NaN sticks */
    }
    free(numeric);
    printf("  %-26s max rel error %.2e  (n = %d, max |grad| %.3g)\n", label, max_rel, n, max_grad);
    return max_rel;
}

static float *alloc_floats(int n) { return calloc((size_t)n, sizeof(float)); }

/* max |a − b| / max |b| */
static double max_rel_diff(const float *a, const float *b, int n) {
    double diff = 0.0, scale = 0.0;
    for (int i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

/* ---- rmsnorm ---------------------------------------------------------------- */

typedef struct {
    float *x, *weight, *r, *out;
    int n;
    float eps;
} rmsnorm_case;

static double rmsnorm_loss(void *ctx) {
    rmsnorm_case *c = ctx;
    r1_rmsnorm(c->out, c->x, c->weight, c->n, c->eps);
    return project(c->r, c->out, c->n);
}

static void rmsnorm_check(test_ctx *t, int n, float eps, float x_scale, uint64_t seed) {
    rmsnorm_case c = {alloc_floats(n), alloc_floats(n), alloc_floats(n), alloc_floats(n), n, eps};
    float *dx = alloc_floats(n), *dweight = alloc_floats(n);
    fill_gaussian(c.x, n, 0.0f, x_scale, seed);
    fill_gaussian(c.weight, n, 1.0f, 0.2f, seed + 1);
    fill_gaussian(c.r, n, 0.0f, 1.0f, seed + 2);
    r1_rmsnorm_backward(dx, dweight, c.r, c.x, c.weight, n, eps);
    char label[64];
    snprintf(label, sizeof label, "rmsnorm dx (n=%d)", n);
    double err_dx = fd_check(label, rmsnorm_loss, &c, c.x, dx, n);
    snprintf(label, sizeof label, "rmsnorm dweight (n=%d)", n);
    double err_dw = fd_check(label, rmsnorm_loss, &c, c.weight, dweight, n);
    free(c.x), free(c.weight), free(c.r), free(c.out), free(dx), free(dweight);
    CHECK(err_dx < FD_MAX_REL, "rmsnorm dx: %.3g", err_dx);
    CHECK(err_dw < FD_MAX_REL, "rmsnorm dweight: %.3g", err_dw);
}

static void test_rmsnorm_grad(test_ctx *t) {
    rmsnorm_check(t, 64, 1e-5f, 1.0f, 11);
    if (t->failed) return;
    rmsnorm_check(t, 7, 1e-6f, 3.0f, 12);
    if (t->failed) return;
    /* inputs of the eps's size, where eps shapes the gradient */
    rmsnorm_check(t, 32, 1e-2f, 0.1f, 13);
}

/* The AVX2 RMSNorm backward keeps the scalar loop's four chains and order: the
 * same bits for widths with and without a tail, into nonzero gradients. */
static void test_rmsnorm_backward_avx2_bits(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    enum { MAX_N = 70 };
    const int widths[] = {1, 3, 4, 5, 8, 31, 64, 70};
    uint64_t rng = 5;
    int level = r1_kernels_level();
    for (int w = 0; w < (int)(sizeof widths / sizeof *widths); w++) {
        int n = widths[w];
        float x[MAX_N], weight[MAX_N], dout[MAX_N], dx[2][MAX_N], dweight[2][MAX_N];
        for (int i = 0; i < n; i++) {
            x[i] = lcg_gaussian(&rng), weight[i] = 1.0f + 0.2f * lcg_gaussian(&rng), dout[i] = lcg_gaussian(&rng);
            dx[0][i] = dx[1][i] = lcg_gaussian(&rng), dweight[0][i] = dweight[1][i] = lcg_gaussian(&rng);
        }
        for (int k = 0; k < 2; k++) {
            r1_kernels_select(k);
            r1_rmsnorm_backward(dx[k], dweight[k], dout, x, weight, n, 1e-5f);
        }
        r1_kernels_select(level);
        CHECK(!memcmp(dx[0], dx[1], (size_t)n * sizeof(float)), "width %d: dx bits differ", n);
        CHECK(!memcmp(dweight[0], dweight[1], (size_t)n * sizeof(float)), "width %d: dweight bits differ", n);
    }
}

/* ---- softmax ---------------------------------------------------------------- */

typedef struct {
    float *x, *r, *y;
    int n;
    float scale;
} softmax_case;

/* the rows form on one row: y = softmax(scale·x) */
static double softmax_loss(void *ctx) {
    softmax_case *c = ctx;
    int start = 0;
    memcpy(c->y, c->x, (size_t)c->n * sizeof(float));
    r1_softmax_rows(c->y, (size_t)c->n, 1, &start, &c->n, c->scale);
    return project(c->r, c->y, c->n);
}

static void test_softmax_grad(test_ctx *t) {
    int n = 33, start = 0;
    softmax_case c = {alloc_floats(n), alloc_floats(n), alloc_floats(n), n, 0.7f};
    float *dx = alloc_floats(n);
    fill_gaussian(c.x, n, 0.0f, 2.0f, 21);
    fill_gaussian(c.r, n, 0.0f, 1.0f, 22);
    softmax_loss(&c); /* c.y = softmax(0.7·x) */
    memcpy(dx, c.r, (size_t)n * sizeof(float));
    r1_softmax_backward_rows(dx, c.y, (size_t)n, 1, &start, &n, c.scale);
    double err = fd_check("softmax dx", softmax_loss, &c, c.x, dx, n);
    free(c.x), free(c.r), free(c.y), free(dx);
    CHECK(err < FD_MAX_REL, "softmax dx: %.3g", err);
}

/* r1_expf_avx2 against libm's expf, bit for bit, on every 4099th float of all
 * 2^32 (both signs, subnormals, the under- and overflow ranges, NaN, ±inf): a
 * sweep of all 2^32 matched when it was written (2026-12-06, glibc 2.36). */
static void test_expf_avx2_bits(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    enum { BATCH = 1024, STEP = 4099 };
    float x[BATCH], y[BATCH];
    long checked = 0, differ = 0;
    for (uint64_t bits = 0; bits < (1ULL << 32);) {
        int n = 0;
        for (; n < BATCH && bits < (1ULL << 32); n++, bits += STEP) {
            uint32_t u = (uint32_t)bits;
            memcpy(&x[n], &u, sizeof u);
        }
        memcpy(y, x, (size_t)n * sizeof(float));
        r1_expf_avx2(y, n);
        for (int i = 0; i < n; i++, checked++) {
            float want = expf(x[i]);
            if (memcmp(&want, &y[i], sizeof want) && !(isnan(want) && isnan(y[i]))) {
                if (differ++ < 3) printf("  e^%a: libm %a, r1 %a\n", (double)x[i], (double)want, (double)y[i]);
            }
        }
    }
    printf("  %ld inputs, %ld differ\n", checked, differ);
    CHECK(differ == 0, "%ld of %ld e^x differ from libm's expf", differ, checked);
}

/* The AVX2 row loops (model/ops_avx2.c) promise the scalar loops' bits, which are
 * the forms the trainer used before them: r1_softmax on each scaled row, and the
 * backward summed into a zeroed row and then scaled. Rows of every length 1..70
 * (and tails shorter than a vector), starting anywhere, over 12 random strips;
 * values spread so that some e^x underflow to 0. (A sum taken in another order
 * would rarely show: the double sums seldom move a float result; a row's values in
 * another row's lane do.) */
static void test_softmax_rows_avx2_bits(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    enum { ROWS = 11, STRIDE = 80 };
    uint64_t rng = 77;
    int level = r1_kernels_level(), checked = 0;
    for (int strip = 0; strip < 12 && !t->failed; strip++) {
        float x[ROWS * STRIDE], g[ROWS * STRIDE], y[2][ROWS * STRIDE], dx[2][ROWS * STRIDE], want_y[ROWS * STRIDE],
            want_dx[ROWS * STRIDE];
        int start[ROWS], len[ROWS], n_rows = 1 + (int)(lcg_next(&rng) % ROWS);
        float scale = 0.25f + (float)(lcg_next(&rng) % 100) / 50.0f;
        for (int i = 0; i < ROWS * STRIDE; i++) {
            x[i] = lcg_gaussian(&rng) * (strip % 3 ? 3.0f : 40.0f);
            g[i] = lcg_gaussian(&rng);
        }
        for (int r = 0; r < n_rows; r++) {
            start[r] = (int)(lcg_next(&rng) % 10);
            len[r] = 1 + (int)((lcg_next(&rng) + (uint32_t)strip * 7) % 70);
        }
        memcpy(want_y, x, sizeof x), memcpy(want_dx, g, sizeof g);
        for (int r = 0; r < n_rows; r++) {
            float *row = want_y + r * STRIDE + start[r], *d = want_dx + r * STRIDE + start[r];
            for (int j = 0; j < len[r]; j++) row[j] *= scale;
            r1_softmax(row, len[r]);
            double dot = 0.0;
            for (int j = 0; j < len[r]; j++) dot += (double)d[j] * row[j];
            for (int j = 0; j < len[r]; j++) {
                float sum = 0.0f;
                sum += (float)(row[j] * (d[j] - dot));
                d[j] = sum * scale;
            }
        }
        for (int k = 0; k < 2; k++) {
            r1_kernels_select(k);
            memcpy(y[k], x, sizeof x), memcpy(dx[k], g, sizeof g);
            r1_softmax_rows(y[k], STRIDE, n_rows, start, len, scale);
            r1_softmax_backward_rows(dx[k], y[k], STRIDE, n_rows, start, len, scale);
        }
        r1_kernels_select(level);
        for (int k = 0; k < 2; k++) {
            CHECK(!memcmp(y[k], want_y, sizeof x), "strip %d, kernel level %d: softmax bits differ", strip, k);
            CHECK(!memcmp(dx[k], want_dx, sizeof g), "strip %d, kernel level %d: backward bits differ", strip, k);
        }
        checked += n_rows;
    }
    printf("  %d rows, bit for bit at kernel levels 0 and 1\n", checked);
}

/* ---- swiglu ----------------------------------------------------------------- */

typedef struct {
    float *gate, *up, *r, *out;
    int n;
} swiglu_case;

static double swiglu_loss(void *ctx) {
    swiglu_case *c = ctx;
    memcpy(c->out, c->gate, (size_t)c->n * sizeof(float));
    r1_swiglu(c->out, c->up, c->n);
    return project(c->r, c->out, c->n);
}

static void test_swiglu_grad(test_ctx *t) {
    int n = 50;
    swiglu_case c = {alloc_floats(n), alloc_floats(n), alloc_floats(n), alloc_floats(n), n};
    float *dgate = alloc_floats(n), *dup = alloc_floats(n);
    fill_gaussian(c.gate, n, 0.0f, 2.5f, 31); /* reaches both tails of the sigmoid */
    fill_gaussian(c.up, n, 0.0f, 1.0f, 32);
    fill_gaussian(c.r, n, 0.0f, 1.0f, 33);
    r1_swiglu_backward(dgate, dup, c.r, c.gate, c.up, n);
    double err_gate = fd_check("swiglu dgate", swiglu_loss, &c, c.gate, dgate, n);
    double err_up = fd_check("swiglu dup", swiglu_loss, &c, c.up, dup, n);
    free(c.gate), free(c.up), free(c.r), free(c.out), free(dgate), free(dup);
    CHECK(err_gate < FD_MAX_REL, "swiglu dgate: %.3g", err_gate);
    CHECK(err_up < FD_MAX_REL, "swiglu dup: %.3g", err_up);
}

/* The AVX2 SwiGLU (its own e^x) against the scalar reference (libm's expf), from
 * deep in the sigmoid's tails to 0, on a length with a tail: within a few ulp of the
 * product, and the same bits for an element whatever offset the range starts at. */
static void test_swiglu_avx2_matches_scalar(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    enum { N = 203 };
    float gate[N], up[N], dout[N], out[2][N], dgate[2][N], dup[2][N], shifted[N];
    for (int i = 0; i < N; i++) {
        gate[i] = (float)(i - N / 2) * (i % 3 ? 0.07f : 1.1f); /* −110 … 110, and fine steps near 0 */
        up[i] = 1.0f + 0.01f * (float)(i % 7), dout[i] = 0.5f - 0.003f * (float)i;
    }
    for (int k = 0; k < 2; k++) {
        memset(dgate[k], 0, sizeof dgate[k]), memset(dup[k], 0, sizeof dup[k]);
        (k ? r1_swiglu_f32_avx2 : r1_swiglu_f32_scalar)(N, out[k], gate, up);
        (k ? r1_swiglu_backward_f32_avx2 : r1_swiglu_backward_f32_scalar)(N, dgate[k], dup[k], dout, gate, up);
    }
    memcpy(shifted, gate, sizeof gate); /* in place */
    r1_swiglu_f32_avx2(5, shifted, shifted, up);
    r1_swiglu_f32_avx2(N - 5, shifted + 5, shifted + 5, up + 5);
    int worst = -1;
    double worst_err = 0;
    for (int i = 0; i < N; i++) {
        /* each result against the size of the terms it is made of: silu' crosses 0
         * near g = −1.28, where its two terms cancel */
        double g = gate[i], sig = 1.0 / (1.0 + exp(-g));
        const double scale[3] = {fabs(g * sig * up[i]),
                                 fabs((double)dout[i] * up[i]) * sig * (1.0 + fabs(g) * (1.0 - sig)),
                                 fabs(dout[i] * g * sig)};
        const double got[3] = {out[1][i], dgate[1][i], dup[1][i]}, want[3] = {out[0][i], dgate[0][i], dup[0][i]};
        for (int q = 0; q < 3; q++) {
            double err = fabs(got[q] - want[q]) / (scale[q] * 4e-7 + 1e-30);
            if (err > worst_err) worst_err = err, worst = i;
        }
    }
    printf("  worst element %d (gate %g): %.2f times the tolerance\n", worst, worst >= 0 ? gate[worst] : 0.0f, worst_err);
    CHECK(worst_err <= 1.0, "element %d (gate %g): %.2f times the tolerance of 4e-7 relative", worst,
          worst >= 0 ? gate[worst] : 0.0f, worst_err);
    CHECK(!memcmp(shifted, out[1], sizeof shifted), "the result depends on where the range starts");
}

/* ---- rope ------------------------------------------------------------------- */

#define ROPE_DIMS 16
#define ROPE_LEN (ROPE_DIMS + 3) /* three values past the rotated ones pass through */

typedef struct {
    const r1_rope *rope;
    const float *cos_sin;
    float x[ROPE_LEN], r[ROPE_LEN], y[ROPE_LEN];
} rope_case;

static double rope_loss(void *ctx) {
    rope_case *c = ctx;
    memcpy(c->y, c->x, sizeof c->y);
    r1_rope_apply(c->rope, c->y, c->cos_sin);
    return project(c->r, c->y, ROPE_LEN);
}

static void rope_check(test_ctx *t, r1_rope_style style, const char *label) {
    r1_hparams hp = {0};
    hp.rope_dims = ROPE_DIMS;
    hp.rope_style = style;
    hp.rope_base = 10000.0f;
    r1_rope rope;
    r1_err err;
    CHECK(r1_rope_init(&rope, &hp, NULL, &err) == R1_OK, "%s", err.msg);
    float cos_sin[ROPE_DIMS];
    r1_rope_angles(&rope, 1234, cos_sin);
    rope_case c = {.rope = &rope, .cos_sin = cos_sin};
    fill_gaussian(c.x, ROPE_LEN, 0.0f, 1.0f, 41 + style);
    fill_gaussian(c.r, ROPE_LEN, 0.0f, 1.0f, 43 + style);

    float dx[ROPE_LEN];
    memcpy(dx, c.r, sizeof dx);
    r1_rope_backward(&rope, dx, cos_sin);
    double fd_err = fd_check(label, rope_loss, &c, c.x, dx, ROPE_LEN);

    /* backward ∘ forward and forward ∘ backward are the identity */
    float v[ROPE_LEN], w[ROPE_LEN];
    memcpy(v, c.x, sizeof v);
    r1_rope_apply(&rope, v, cos_sin);
    r1_rope_backward(&rope, v, cos_sin);
    memcpy(w, c.x, sizeof w);
    r1_rope_backward(&rope, w, cos_sin);
    r1_rope_apply(&rope, w, cos_sin);
    double round_trip = fmax(max_rel_diff(v, c.x, ROPE_LEN), max_rel_diff(w, c.x, ROPE_LEN));
    printf("  %-26s backward∘forward − identity: %.2e\n", label, round_trip);
    r1_rope_free(&rope);
    CHECK(fd_err < FD_MAX_REL, "%s: %.3g", label, fd_err);
    CHECK(round_trip < 1e-6, "%s: round trip off by %.3g", label, round_trip);
}

static void test_rope_grad(test_ctx *t) {
    rope_check(t, R1_ROPE_INTERLEAVED, "rope dx (interleaved)");
    if (t->failed) return;
    rope_check(t, R1_ROPE_HALF, "rope dx (half-split)");
}

/* ---- cross-entropy ---------------------------------------------------------- */

typedef struct {
    float *logits;
    int n_vocab, target;
} ce_case;

static double ce_loss(void *ctx) {
    ce_case *c = ctx;
    return r1_cross_entropy_forward(c->logits, c->n_vocab, c->target, NULL);
}

static void test_cross_entropy_grad(test_ctx *t) {
    enum { V = 40 };
    float logits[V], probs[V], dlogits[V] = {0};
    fill_gaussian(logits, V, 0.0f, 3.0f, 51);
    ce_case c = {logits, V, 17};
    r1_cross_entropy_forward(logits, V, c.target, probs);
    r1_cross_entropy_backward(dlogits, probs, V, c.target, 1.0f);
    double err = fd_check("cross-entropy dlogits", ce_loss, &c, logits, dlogits, V);
    CHECK(err < FD_MAX_REL, "cross-entropy dlogits: %.3g", err);

    /* scale multiplies the gradient */
    float scaled[V] = {0};
    r1_cross_entropy_backward(scaled, probs, V, c.target, 0.25f);
    for (int i = 0; i < V; i++) CHECK(scaled[i] == 0.25f * dlogits[i], "scale at %d: %g vs %g", i, scaled[i], dlogits[i]);
}

static void test_cross_entropy_forward(test_ctx *t) {
    enum { V = 40 };
    float logits[V], probs[V], ref[V];
    fill_gaussian(logits, V, 0.0f, 3.0f, 61);
    float loss = r1_cross_entropy_forward(logits, V, 5, probs);
    memcpy(ref, logits, sizeof ref);
    r1_softmax(ref, V);
    double sum = 0.0;
    for (int i = 0; i < V; i++) sum += probs[i];
    CHECK(fabs(sum - 1.0) < 1e-6, "probs sum to %.9f", sum);
    CHECK(max_rel_diff(probs, ref, V) < 1e-6, "probs differ from r1_softmax by %.3g", max_rel_diff(probs, ref, V));
    CHECK(fabsf(loss + logf(ref[5])) < 1e-5f, "loss %g vs -log p %g", loss, -logf(ref[5]));

    /* a logit gap far past exp's range: finite loss, probability 1 on the winner */
    for (int i = 0; i < V; i++) logits[i] = i == 3 ? 1e4f : -1e4f;
    float huge = r1_cross_entropy_forward(logits, V, 0, probs);
    CHECK(huge == 2e4f, "loss %g, expected 2e4", huge);
    CHECK(probs[3] == 1.0f && probs[0] == 0.0f, "probs %g %g", probs[3], probs[0]);
    float tiny = r1_cross_entropy_forward(logits, V, 3, NULL);
    CHECK(tiny == 0.0f, "loss %g, expected 0", tiny);
}

/* ---- linear ----------------------------------------------------------------- */

typedef struct {
    float *x, *W, *r, *y;
    int T, in, out;
} linear_case;

static double linear_loss(void *ctx) {
    linear_case *c = ctx;
    r1_linear_forward(c->y, c->x, c->W, c->T, c->in, c->out);
    return project(c->r, c->y, c->T * c->out);
}

static void test_linear_grad(test_ctx *t) {
    int T = 3, in = 24, out = 10;
    linear_case c = {alloc_floats(T * in), alloc_floats(out * in), alloc_floats(T * out), alloc_floats(T * out), T, in, out};
    float *dx = alloc_floats(T * in), *dW = alloc_floats(out * in);
    fill_gaussian(c.x, T * in, 0.0f, 1.0f, 71);
    fill_gaussian(c.W, out * in, 0.0f, 0.3f, 72);
    fill_gaussian(c.r, T * out, 0.0f, 1.0f, 73);
    r1_linear_backward(dx, dW, c.r, c.x, c.W, T, in, out);
    double err_dx = fd_check("linear dx", linear_loss, &c, c.x, dx, T * in);
    double err_dw = fd_check("linear dW", linear_loss, &c, c.W, dW, out * in);
    free(c.x), free(c.W), free(c.r), free(c.y), free(dx), free(dW);
    CHECK(err_dx < FD_MAX_REL, "linear dx: %.3g", err_dx);
    CHECK(err_dw < FD_MAX_REL, "linear dW: %.3g", err_dw);
}

/* The trainer's forward is the engine's: r1_linear_forward equals r1_matmul on
 * the same weights held as an F32 r1_matrix, under both kernel sets, up to the
 * rounding of a dot product of length in (the trainer's tiles sum each one in
 * ascending order, the engine's dot kernel in 4 × 8 partial sums). */
static void test_linear_forward_is_matmul(test_ctx *t) {
    int T = 5, in = 67, out = 13; /* in not a multiple of the SIMD width */
    float *x = alloc_floats(T * in), *W = alloc_floats(out * in);
    float *y = alloc_floats(T * out), *y_engine = alloc_floats(T * out);
    fill_gaussian(x, T * in, 0.0f, 1.0f, 81);
    fill_gaussian(W, out * in, 0.0f, 0.3f, 82);
    r1_matrix M = {r1_type_traits_get(R1_TYPE_F32), (const uint8_t *)W, in, out, (size_t)in * sizeof(float)};
    r1_compute compute;
    int init_ok = r1_compute_init(&compute, 2) == R1_OK, ok = init_ok;
    int initial = r1_kernels_select(1);
    int mismatch = -1, level = -1;
    double bound = 0;
    for (int avx2 = 0; ok && mismatch < 0 && avx2 <= 1; avx2++) {
        level = r1_kernels_select(avx2);
        r1_linear_forward(y, x, W, T, in, out);
        ok = r1_matmul(&compute, &M, x, T, y_engine) == R1_OK;
        for (int i = 0; ok && i < T * out; i++) {
            double magnitude = 0; /* Σ |w x|, the scale of the dot product's rounding */
            for (int k = 0; k < in; k++) magnitude += fabs((double)W[(i % out) * in + k] * x[(i / out) * in + k]);
            bound = 2.0 * in * 6e-8 * magnitude;
            if (fabs((double)y[i] - y_engine[i]) > bound) {
                mismatch = i;
                break;
            }
        }
    }
    r1_kernels_select(initial);
    float got = mismatch >= 0 ? y[mismatch] : 0, want = mismatch >= 0 ? y_engine[mismatch] : 0;
    if (init_ok) r1_compute_free(&compute);
    free(x), free(W), free(y), free(y_engine);
    CHECK(ok, "r1_compute_init or r1_matmul failed");
    CHECK(mismatch < 0, "kernel level %d, element %d: %.9g vs r1_matmul %.9g (bound %.3g)", level, mismatch, got,
          want, bound);
}

/* ---- accumulation ----------------------------------------------------------- */

/* Every backward but the in-place ones (rope, softmax rows) adds into its
 * gradients: on gradients holding g0, two calls
 * leave g0 + 2·g, where g is what one call leaves on zeros. */
static double accumulated_error(const float *g0, const float *once, const float *twice, int n) {
    double diff = 0.0, scale = 0.0;
    for (int i = 0; i < n; i++) {
        double want = (double)g0[i] + 2.0 * once[i];
        diff = fmax(diff, fabs(twice[i] - want));
        scale = fmax(scale, fabs(want));
    }
    return diff / scale;
}

static void test_gradients_accumulate(test_ctx *t) {
    enum { N = 24, T = 2, OUT = 5 };
    float x[T * N], w[N * OUT], dy[T * OUT * N], y[N];
    float g0[2][N * OUT], once[2][N * OUT], twice[2][N * OUT];
    fill_gaussian(x, T * N, 0.0f, 1.0f, 91);
    fill_gaussian(w, N * OUT, 1.0f, 0.2f, 92);
    fill_gaussian(dy, T * OUT * N, 0.0f, 1.0f, 93);
    fill_gaussian(g0[0], N * OUT, 0.0f, 1.0f, 94);
    fill_gaussian(g0[1], N * OUT, 0.0f, 1.0f, 95);
    const char *names[] = {"rmsnorm", "swiglu", "cross-entropy", "linear"};
    for (int op = 0; op < 4; op++) {
        int n0 = op == 3 ? T * N : N, n1 = op == 3 ? OUT * N : N; /* sizes of the two gradients */
        memset(once, 0, sizeof once);
        memcpy(twice, g0, sizeof twice);
        for (int call = 0; call < 3; call++) {
            float *d0 = call == 0 ? once[0] : twice[0], *d1 = call == 0 ? once[1] : twice[1];
            switch (op) {
            case 0: r1_rmsnorm_backward(d0, d1, dy, x, w, N, 1e-5f); break;
            case 1: r1_swiglu_backward(d0, d1, dy, x, w, N); break;
            case 2:
                r1_cross_entropy_forward(x, N, 7, y);
                r1_cross_entropy_backward(d0, y, N, 7, 0.5f);
                break;
            default: r1_linear_backward(d0, d1, dy, x, w, T, N, OUT); break;
            }
        }
        double err = accumulated_error(g0[0], once[0], twice[0], n0);
        if (op != 2) err = fmax(err, accumulated_error(g0[1], once[1], twice[1], n1));
        CHECK(err < 1e-6, "%s: g0 + 2g off by %.3g", names[op], err);
    }
}

TEST_MAIN("grad", T(test_rmsnorm_grad), T(test_rmsnorm_backward_avx2_bits), T(test_softmax_grad),
          T(test_expf_avx2_bits), T(test_softmax_rows_avx2_bits), T(test_swiglu_grad), T(test_swiglu_avx2_matches_scalar),
          T(test_rope_grad), T(test_cross_entropy_grad), T(test_cross_entropy_forward), T(test_linear_grad),
          T(test_linear_forward_is_matmul), T(test_gradients_accumulate))
