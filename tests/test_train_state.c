/* The training state: AdamW, the learning-rate schedule, gradient clipping and
 * checkpoints (round trip, resume equivalence, atomic saves, bad files). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/writer.h"
#include "tensor/types.h"
#include "test.h"
#include "test_files.h"
#include "train/adamw.h"
#include "train/checkpoint.h"

/* ---- helpers ---- */

/* Every file of this run goes in one directory, removed at exit. */

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}


static int write_all(const char *path, const unsigned char *bytes, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(bytes, 1, size, f);
    return fclose(f) == 0 && wrote == size;
}

/* xorshift64*: the stand-in for a run's random generator */
static uint64_t rng_next(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

static float rng_uniform(uint64_t *state) { return (float)(rng_next(state) >> 40) / (float)(1 << 24); }

static const r1_adamw_hparams default_hp = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                                            .weight_decay = 0.1f};

/* ---- AdamW ---- */

/* f(p) = Σ a_i (p_i − c_i)², badly conditioned (a from 0.01 to 100): Adam's
 * per-parameter scaling should reach the minimum anyway. */
static void test_adamw_converges_on_quadratic(test_ctx *t) {
    enum { N = 8 };
    const float a[N] = {0.01f, 0.1f, 1, 10, 100, 3, 0.5f, 42};
    const float c[N] = {1, -2, 3, -4, 0.5f, 0, 7, -0.25f};
    float params[N] = {0}, grads[N];
    r1_adamw opt;
    r1_err err;
    r1_adamw_hparams hp = default_hp;
    hp.weight_decay = 0; /* decay would pull the minimum towards 0 */
    CHECK(r1_adamw_init(&opt, N, hp, &err) == R1_OK, "%s", err.msg);
    for (int step = 0; step < 3000; step++) {
        for (int i = 0; i < N; i++) grads[i] = 2 * a[i] * (params[i] - c[i]);
        r1_adamw_step(&opt, params, grads, r1_lr_schedule(step, 100, 3000, 0.1f, 1e-4f), NULL);
    }
    CHECK(opt.step == 3000, "step %llu", (unsigned long long)opt.step);
    for (int i = 0; i < N; i++) {
        if (fabsf(params[i] - c[i]) >= 1e-3f) {
            r1_adamw_free(&opt);
            CHECK(0, "params[%d] = %g, minimum at %g", i, params[i], c[i]);
        }
    }
    r1_adamw_free(&opt);
}

/* Two steps worked by hand (β1 = 0.9, β2 = 0.999, eps = 1e-8, wd = 0.1, lr = 0.01).
 * Element 0, p = 1, g = 0.1 then −0.2:
 *   t=1: m = 0.01, v = 1e-5, m̂ = 0.1, v̂ = 0.01 → p = 1 − 0.01·(0.1/0.1 + 0.1·1) = 0.989
 *   t=2: m = 0.009 − 0.02 = −0.011, v = 9.99e-6 + 4e-5 = 4.999e-5,
 *        m̂ = −0.011/0.19 = −0.0578947, v̂ = 4.999e-5/0.001999 = 0.0250075,
 *        p = 0.989 − 0.01·(−0.0578947/0.158138 + 0.0989) = 0.9916720
 * Without the bias corrections t=2 would give m/(√v) = −1.556, far from −0.366. */
static void test_adamw_two_steps_by_hand(test_ctx *t) {
    float params[3] = {1.0f, -2.0f, 0.5f};
    const float grads1[3] = {0.1f, -0.3f, 2.0f};
    const float grads2[3] = {-0.2f, 0.1f, 1.0f};
    const double after1[3] = {0.989000001, -1.988000000, 0.489500000};
    const double after2[3] = {0.991672036, -1.982009815, 0.479688704};
    r1_adamw opt;
    r1_err err;
    CHECK(r1_adamw_init(&opt, 3, default_hp, &err) == R1_OK, "%s", err.msg);
    r1_adamw_step(&opt, params, grads1, 0.01f, NULL);
    int bad = -1;
    for (int i = 0; i < 3; i++)
        if (fabs(params[i] - after1[i]) > 2e-6) bad = i;
    if (bad >= 0) r1_adamw_free(&opt);
    CHECK(bad < 0, "step 1: params[%d] = %.9f, expected %.9f", bad, params[bad], after1[bad]);
    CHECK(fabsf(opt.m[2] - 0.2f) < 1e-7f && fabsf(opt.v[2] - 0.004f) < 1e-7f, "moments m %g v %g", opt.m[2],
          opt.v[2]);
    r1_adamw_step(&opt, params, grads2, 0.01f, NULL);
    for (int i = 0; i < 3; i++)
        if (fabs(params[i] - after2[i]) > 2e-6) bad = i;
    r1_adamw_free(&opt);
    CHECK(bad < 0, "step 2: params[%d] = %.9f, expected %.9f", bad, params[bad], after2[bad]);
}

/* With zero gradients the Adam term is 0, so only the decay moves p:
 * p ← p − lr·wd·p, and only where the mask says. */
static void test_adamw_decay_mask(test_ctx *t) {
    float params[4] = {1, -2, 3, -4}, zero[4] = {0};
    const uint8_t mask[4] = {1, 0, 1, 0};
    r1_adamw opt;
    r1_err err;
    CHECK(r1_adamw_init(&opt, 4, default_hp, &err) == R1_OK, "%s", err.msg);
    r1_adamw_step(&opt, params, zero, 0.5f, mask);
    const float keep = 1 - 0.5f * 0.1f;
    CHECK(params[1] == -2 && params[3] == -4, "undecayed params moved: %g %g", params[1], params[3]);
    CHECK(fabsf(params[0] - keep) < 1e-6f && fabsf(params[2] - 3 * keep) < 1e-6f, "decayed: %g %g", params[0],
          params[2]);
    r1_adamw_step(&opt, params, zero, 0.5f, NULL);
    r1_adamw_free(&opt);
    CHECK(fabsf(params[1] + 2 * keep) < 1e-6f && fabsf(params[0] - keep * keep) < 1e-6f,
          "NULL mask decays all: %g %g", params[0], params[1]);
}

/* The AVX2 update against the scalar one it mirrors: three steps on a length with
 * a tail, half the elements outside the decay mask, the same bits. */
static void test_adamw_avx2_matches_scalar(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    enum { N = 1003 };
    static float params[2][N], grads[N];
    static uint8_t mask[N];
    uint64_t state = 9;
    for (int i = 0; i < N; i++) {
        params[0][i] = params[1][i] = rng_uniform(&state) - 0.5f;
        grads[i] = (rng_uniform(&state) - 0.5f) * 1e-2f;
        mask[i] = i % 2;
    }
    r1_adamw opt[2];
    r1_err err;
    int level = r1_kernels_select(2);
    for (int k = 0; k < 2; k++) {
        CHECK(r1_adamw_init(&opt[k], N, default_hp, &err) == R1_OK, "%s", err.msg);
        r1_kernels_select(k);
        for (int step = 0; step < 3; step++) r1_adamw_step(&opt[k], params[k], grads, 1e-2f, mask);
    }
    r1_kernels_select(level);
    int same = !memcmp(params[0], params[1], sizeof params[0]) && !memcmp(opt[0].m, opt[1].m, N * sizeof(float)) &&
               !memcmp(opt[0].v, opt[1].v, N * sizeof(float));
    r1_adamw_free(&opt[0]), r1_adamw_free(&opt[1]);
    CHECK(same, "AVX2 AdamW differs from the scalar one");
}

static void test_adamw_rejects_bad_hparams(test_ctx *t) {
    r1_adamw opt;
    r1_err err;
    r1_adamw_hparams hp = default_hp;
    hp.beta2 = 1.0f;
    CHECK(r1_adamw_init(&opt, 4, hp, &err) == R1_ERR && strstr(err.msg, "beta2"), "beta2 = 1 accepted");
    hp = default_hp;
    hp.eps = 0;
    CHECK(r1_adamw_init(&opt, 4, hp, &err) == R1_ERR && strstr(err.msg, "eps"), "eps = 0 accepted");
    hp = default_hp;
    hp.weight_decay = NAN;
    CHECK(r1_adamw_init(&opt, 4, hp, &err) == R1_ERR && strstr(err.msg, "weight_decay"), "NaN wd accepted");
    CHECK(r1_adamw_init(&opt, 0, default_hp, &err) == R1_ERR, "no parameters accepted");
    CHECK(opt.m == NULL, "failed init left memory");
}

/* ---- schedule and clipping ---- */

static void test_lr_schedule(test_ctx *t) {
    const float lr_max = 1e-3f, lr_min = 1e-4f;
#define LR(step) r1_lr_schedule(step, 10, 110, lr_max, lr_min)
    CHECK(fabsf(LR(0) - 1e-4f) < 1e-10f, "step 0: %g (warm-up starts at lr_max/warmup)", LR(0));
    CHECK(fabsf(LR(4) - 5e-4f) < 1e-10f, "step 4: %g", LR(4));
    CHECK(LR(9) == lr_max && LR(10) == lr_max, "end of warm-up: %g %g", LR(9), LR(10));
    CHECK(fabsf(LR(60) - 5.5e-4f) < 1e-9f, "half-way through the cosine: %g", LR(60));
    /* a quarter of the way: lr_min + (lr_max − lr_min)·½(1 + cos(π/4)) */
    CHECK(fabsf(LR(35) - (float)(1e-4 + 9e-4 * 0.5 * (1 + cos(M_PI / 4)))) < 1e-9f, "step 35: %g", LR(35));
    CHECK(LR(110) == lr_min && LR(1000) == lr_min, "after the end: %g %g", LR(110), LR(1000));
    for (int step = 10; step < 110; step++) CHECK(LR(step + 1) <= LR(step), "rises at step %d", step);
#undef LR
    CHECK(r1_lr_schedule(0, 0, 100, lr_max, lr_min) == lr_max, "no warm-up starts at lr_max");
    CHECK(r1_lr_schedule(50, 10, 10, lr_max, lr_min) == lr_max, "total <= warmup holds lr_max");
}

static void test_clip_grad_norm(test_ctx *t) {
    float grads[2] = {3, 4};
    float norm = r1_clip_grad_norm(grads, 2, 10);
    CHECK(norm == 5 && grads[0] == 3 && grads[1] == 4, "under the limit: norm %g, grads %g %g", norm, grads[0],
          grads[1]);
    norm = r1_clip_grad_norm(grads, 2, 1);
    CHECK(norm == 5, "returns the norm before clipping: %g", norm);
    CHECK(fabsf(grads[0] - 0.6f) < 1e-7f && fabsf(grads[1] - 0.8f) < 1e-7f, "clipped to %g %g", grads[0],
          grads[1]);
    float after = r1_clip_grad_norm(grads, 2, 1);
    CHECK(fabsf(after - 1) < 1e-6f, "norm after clipping %g", after);
    float bad[3] = {1, INFINITY, 2};
    norm = r1_clip_grad_norm(bad, 3, 1);
    CHECK(isinf(norm) && bad[0] == 1 && bad[2] == 2, "non-finite norm %g must leave grads alone", norm);
}

/* ---- checkpoints ---- */

static int same_tensor(const r1_checkpoint_tensor *a, const r1_checkpoint_tensor *b) {
    if (strcmp(a->name, b->name) || a->n_dims != b->n_dims) return 0;
    for (int d = 0; d < R1_CHECKPOINT_MAX_DIMS; d++)
        if ((d < a->n_dims ? a->ne[d] : 1) != b->ne[d]) return 0;
    return memcmp(a->data, b->data, r1_checkpoint_tensor_count(a) * sizeof(float)) == 0;
}

static void test_checkpoint_round_trip(test_ctx *t) {
    /* floats a text format would lose: -0, a subnormal, inf, a NaN with a payload */
    float embd[5] = {-0.0f, 1e-42f, INFINITY, 0.1f, -3.5f};
    uint32_t nan_bits = 0x7fc12345;
    memcpy(&embd[3], &nan_bits, 4);
    float wq[4 * 3], experts[2 * 3 * 4];
    for (int i = 0; i < 12; i++) wq[i] = (float)i / 7.0f - 1;
    for (int i = 0; i < 24; i++) experts[i] = sinf((float)i);
    r1_checkpoint_tensor tensors[3] = {
        {"token_embd.weight", 1, {5}, embd},
        {"blk.0.attn_q.weight", 2, {3, 4, 1}, wq},
        {"opt.m.blk.0.ffn_down_exps.weight", 3, {4, 3, 2}, experts},
    };
    char *config[3] = {"lr=0.001", "stage.seed=42", "note=a=b with spaces"};
    r1_checkpoint saved = {.stage = "grpo", .step = 7, .total_steps = 100, .rng_state = 0xDEADBEEFCAFEF00DULL,
                           .adamw_step = 7, .config = config, .n_config = 3, .tensors = tensors, .n_tensors = 3};
    char path[PATH_SIZE], tmp[PATH_SIZE];
    tmp_path(path, "round_trip.ckpt");
    r1_err err;
    CHECK(r1_checkpoint_save(path, &saved, &err) == R1_OK, "%s", err.msg);
    CHECK(!file_exists(tmp_path(tmp, "round_trip.ckpt.tmp")), "temporary file left behind");
    r1_checkpoint loaded;
    CHECK(r1_checkpoint_load(path, &loaded, &err) == R1_OK, "%s", err.msg);
    int ok = strcmp(loaded.stage, "grpo") == 0 && loaded.step == 7 && loaded.total_steps == 100 &&
             loaded.rng_state == 0xDEADBEEFCAFEF00DULL && loaded.adamw_step == 7 && loaded.n_config == 3 &&
             loaded.n_tensors == 3;
    for (size_t i = 0; ok && i < 3; i++) ok = strcmp(loaded.config[i], config[i]) == 0;
    for (size_t i = 0; ok && i < 3; i++) ok = same_tensor(&tensors[i], &loaded.tensors[i]);
    const char *note = r1_checkpoint_config(&loaded, "note");
    const char *lr = r1_checkpoint_config(&loaded, "lr");
    int found = note && strcmp(note, "a=b with spaces") == 0 && lr && strcmp(lr, "0.001") == 0 &&
                r1_checkpoint_config(&loaded, "stage") == NULL &&
                r1_checkpoint_find(&loaded, "blk.0.attn_q.weight") == &loaded.tensors[1] &&
                r1_checkpoint_find(&loaded, "blk.0") == NULL;
    r1_checkpoint_free(&loaded);
    CHECK(ok, "a field or a float differs after the round trip");
    CHECK(found, "tensor/config lookup");

    /* an empty run: no config, no tensors */
    r1_checkpoint empty = {.stage = "eval"};
    CHECK(r1_checkpoint_save(path, &empty, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_checkpoint_load(path, &loaded, &err) == R1_OK, "%s", err.msg);
    ok = strcmp(loaded.stage, "eval") == 0 && loaded.n_config == 0 && loaded.n_tensors == 0;
    r1_checkpoint_free(&loaded);
    CHECK(ok, "empty checkpoint round trip");
}

/* A toy run: noisy gradients of a quadratic, drawn from the run's RNG, with the
 * schedule and clipping a real stage uses. */
enum { TOY_N = 37, TOY_STEPS = 10 };

static void toy_steps(r1_adamw *opt, float *params, uint64_t *rng, int from, int to) {
    float grads[TOY_N];
    for (int step = from; step < to; step++) {
        for (int i = 0; i < TOY_N; i++) grads[i] = params[i] * (float)(i % 5 + 1) + rng_uniform(rng) - 0.5f;
        r1_clip_grad_norm(grads, TOY_N, 2.0f);
        uint8_t mask[TOY_N];
        for (int i = 0; i < TOY_N; i++) mask[i] = i % 3 != 0;
        r1_adamw_step(opt, params, grads, r1_lr_schedule(step, 3, TOY_STEPS, 0.05f, 0.005f), mask);
    }
}

static void toy_init(float *params) {
    for (int i = 0; i < TOY_N; i++) params[i] = cosf((float)i);
}

static void test_resume_is_bit_identical(test_ctx *t) {
    r1_err err;
    /* straight through */
    float straight[TOY_N];
    toy_init(straight);
    uint64_t rng = 12345;
    r1_adamw opt;
    CHECK(r1_adamw_init(&opt, TOY_N, default_hp, &err) == R1_OK, "%s", err.msg);
    toy_steps(&opt, straight, &rng, 0, TOY_STEPS);
    r1_adamw_free(&opt);

    /* half, save, forget everything, load, the other half */
    float params[TOY_N];
    toy_init(params);
    rng = 12345;
    CHECK(r1_adamw_init(&opt, TOY_N, default_hp, &err) == R1_OK, "%s", err.msg);
    toy_steps(&opt, params, &rng, 0, TOY_STEPS / 2);
    r1_checkpoint_tensor tensors[3] = {
        {"params", 1, {TOY_N}, params},
        {"opt.m.params", 1, {TOY_N}, opt.m},
        {"opt.v.params", 1, {TOY_N}, opt.v},
    };
    r1_checkpoint ck = {.stage = "pretrain", .step = TOY_STEPS / 2, .total_steps = TOY_STEPS, .rng_state = rng,
                        .adamw_step = opt.step, .tensors = tensors, .n_tensors = 3};
    char path[PATH_SIZE];
    tmp_path(path, "resume.ckpt");
    int saved = r1_checkpoint_save(path, &ck, &err);
    r1_adamw_free(&opt);
    CHECK(saved == R1_OK, "%s", err.msg);
    memset(params, 0, sizeof params);
    rng = 0;

    r1_checkpoint loaded;
    CHECK(r1_checkpoint_load(path, &loaded, &err) == R1_OK, "%s", err.msg);
    const r1_checkpoint_tensor *p = r1_checkpoint_find(&loaded, "params");
    const r1_checkpoint_tensor *m = r1_checkpoint_find(&loaded, "opt.m.params");
    const r1_checkpoint_tensor *v = r1_checkpoint_find(&loaded, "opt.v.params");
    if (!p || !m || !v || r1_adamw_init(&opt, TOY_N, default_hp, &err) != R1_OK) {
        r1_checkpoint_free(&loaded);
        CHECK(0, "missing tensor or init failed");
    }
    memcpy(params, p->data, sizeof params);
    memcpy(opt.m, m->data, TOY_N * sizeof(float));
    memcpy(opt.v, v->data, TOY_N * sizeof(float));
    opt.step = loaded.adamw_step;
    rng = loaded.rng_state;
    int from = (int)loaded.step;
    r1_checkpoint_free(&loaded);
    toy_steps(&opt, params, &rng, from, TOY_STEPS);
    r1_adamw_free(&opt);
    CHECK(memcmp(params, straight, sizeof params) == 0, "resumed run differs from the straight run");
}

/* PATH must keep the previous checkpoint byte for byte, with no PATH.tmp left. */
static int previous_intact(const char *path, const unsigned char *before, size_t before_size) {
    size_t size;
    unsigned char *now = (unsigned char *)read_file(path, &size);
    char tmp[PATH_SIZE + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int ok = now && size == before_size && memcmp(now, before, size) == 0 && !file_exists(tmp);
    free(now);
    return ok;
}

static void test_failed_save_keeps_previous(test_ctx *t) {
    static float weights[64 * 1024]; /* 256 KiB */
    for (size_t i = 0; i < sizeof weights / sizeof weights[0]; i++) weights[i] = (float)i;
    r1_checkpoint_tensor small = {"w", 1, {16}, weights};
    r1_checkpoint good = {.stage = "sft", .step = 1, .total_steps = 2, .tensors = &small, .n_tensors = 1};
    char path[PATH_SIZE];
    tmp_path(path, "atomic.ckpt");
    r1_err err;
    CHECK(r1_checkpoint_save(path, &good, &err) == R1_OK, "%s", err.msg);
    size_t before_size;
    unsigned char *before = (unsigned char *)read_file(path, &before_size);
    CHECK(before, "cannot read %s", path);

    /* 1. the disk fills up half-way through the tensor data (RLIMIT_FSIZE makes
     * write() fail with EFBIG once the file reaches 64 KiB) */
    r1_checkpoint_tensor big = {"w", 1, {64 * 1024}, weights};
    r1_checkpoint large = {.stage = "sft", .step = 2, .total_steps = 2, .tensors = &big, .n_tensors = 1};
    struct rlimit old_limit, limit;
    getrlimit(RLIMIT_FSIZE, &old_limit);
    limit = old_limit;
    limit.rlim_cur = 64 * 1024;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &limit);
    int status = r1_checkpoint_save(path, &large, &err);
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);
    int ok = status == R1_ERR && previous_intact(path, before, before_size);
    if (!ok) free(before);
    CHECK(ok, "full disk: status %d, previous checkpoint changed or .tmp left", status);
    CHECK(strstr(err.msg, path) && strstr(err.msg, strerror(EFBIG)), "not the write failing midway: %s", err.msg);

    /* 2. the writer refuses a tensor after PATH.tmp exists (duplicate name) */
    r1_checkpoint_tensor twice[2] = {{"w", 1, {16}, weights}, {"w", 1, {16}, weights}};
    r1_checkpoint dup = {.stage = "sft", .step = 2, .total_steps = 2, .tensors = twice, .n_tensors = 2};
    status = r1_checkpoint_save(path, &dup, &err);
    ok = status == R1_ERR && previous_intact(path, before, before_size);
    if (!ok) free(before);
    CHECK(ok, "duplicate tensor: status %d, previous checkpoint changed or .tmp left", status);

    /* 3. checked before any file is created: a tensor without data, a bad shape */
    r1_checkpoint_tensor no_data = {"opt.v.w", 2, {4, 4}, NULL};
    r1_checkpoint bad = {.stage = "sft", .step = 2, .total_steps = 2, .tensors = &no_data, .n_tensors = 1};
    status = r1_checkpoint_save(path, &bad, &err);
    ok = status == R1_ERR && strstr(err.msg, "opt.v.w") && previous_intact(path, before, before_size);
    if (!ok) free(before);
    CHECK(ok, "tensor without data: %s", err.msg);
    no_data.data = weights;
    no_data.ne[1] = 0;
    status = r1_checkpoint_save(path, &bad, &err);
    ok = status == R1_ERR && strstr(err.msg, "dim 1") && previous_intact(path, before, before_size);
    free(before);
    CHECK(ok, "zero dim: %s", err.msg);

    /* 4. a directory that does not exist */
    char nowhere[PATH_SIZE];
    tmp_path(nowhere, "no/such/dir/run.ckpt");
    CHECK(r1_checkpoint_save(nowhere, &good, &err) == R1_ERR && strstr(err.msg, "no/such/dir"), "%s", err.msg);
    CHECK(!file_exists(nowhere), "file created in a missing directory");
}

/* Expects loading path to fail with a message containing both the path and want. */
static int load_fails(const char *path, const char *want, r1_err *err) {
    r1_checkpoint ck;
    memset(&ck, 0x5a, sizeof ck);
    int status = r1_checkpoint_load(path, &ck, err);
    int empty = ck.tensors == NULL && ck.config == NULL && ck.n_tensors == 0;
    if (status == R1_OK) r1_checkpoint_free(&ck);
    return status == R1_ERR && empty && strstr(err->msg, path) && strstr(err->msg, want);
}

/* A checkpoint written key by key, with the given config entry and, after an F32
 * tensor 'w', an F16 tensor 'h' that r1_checkpoint_save could never write. */
static int write_checkpoint_by_hand(const char *path, const char *config_entry, r1_err *err) {
    const int64_t ne[1] = {8};
    const float weights[8] = {0};
    const uint16_t halves[8] = {0};
    r1_gguf_writer *w;
    if (r1_gguf_writer_open(&w, path, err) != R1_OK) return R1_ERR;
    if (r1_gguf_writer_kv_u32(w, "r1.train.version", 1, err) != R1_OK ||
        r1_gguf_writer_kv_str(w, "r1.train.stage", "grpo", err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, "r1.train.step", 3, err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, "r1.train.total_steps", 9, err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, "r1.train.rng_state", 5, err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, "r1.train.adamw_step", 3, err) != R1_OK ||
        r1_gguf_writer_kv_str_array(w, "r1.train.config", &config_entry, 1, err) != R1_OK ||
        r1_gguf_writer_tensor(w, "w", 1, ne, R1_TYPE_F32, err) != R1_OK ||
        r1_gguf_writer_tensor(w, "h", 1, ne, R1_TYPE_F16, err) != R1_OK || r1_gguf_writer_begin_data(w, err) != R1_OK ||
        r1_gguf_writer_data(w, weights, sizeof weights, err) != R1_OK ||
        r1_gguf_writer_data(w, halves, sizeof halves, err) != R1_OK) {
        r1_gguf_writer_abort(w);
        return R1_ERR;
    }
    return r1_gguf_writer_finish(w, err);
}

/* A tensor is restored only into its own shape, with finite values: the same
 * number of floats transposed or flattened is refused with both shapes named, a
 * NaN with its place. */
static void test_checkpoint_tensor_check(test_ctx *t) {
    float data[6] = {0};
    r1_checkpoint_tensor ct = {.name = "blk.0.attn_q_a.weight", .n_dims = 2, .ne = {3, 2, 1}, .data = data};
    r1_err err;
    CHECK(r1_checkpoint_check_tensor(&ct, "ck.gguf", 2, (const int64_t[]){3, 2}, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_checkpoint_check_tensor(&ct, "ck.gguf", 2, (const int64_t[]){2, 3}, &err) == R1_ERR &&
              strstr(err.msg, "ck.gguf: tensor 'blk.0.attn_q_a.weight' has shape [3, 2, 1], the model [2, 3, 1]"),
          "a transposed tensor accepted: %s", err.msg);
    CHECK(r1_checkpoint_check_tensor(&ct, "ck.gguf", 1, (const int64_t[]){6}, &err) == R1_ERR,
          "a flattened tensor accepted");
    data[5] = NAN;
    CHECK(r1_checkpoint_check_tensor(&ct, "ck.gguf", 2, (const int64_t[]){3, 2}, &err) == R1_ERR &&
              strstr(err.msg, "holds nan at index 5"),
          "a NaN accepted: %s", err.msg);
}

static void test_bad_checkpoints_fail_cleanly(test_ctx *t) {
    float weights[32] = {1, 2, 3};
    r1_checkpoint_tensor tensor = {"w", 2, {8, 4}, weights};
    char *config[1] = {"seed=1"};
    r1_checkpoint ck = {.stage = "grpo", .step = 3, .total_steps = 9, .config = config, .n_config = 1,
                        .tensors = &tensor, .n_tensors = 1};
    char good[PATH_SIZE], cut[PATH_SIZE], path[PATH_SIZE];
    tmp_path(good, "good.ckpt");
    tmp_path(cut, "truncated.ckpt");
    r1_err err;
    CHECK(r1_checkpoint_save(good, &ck, &err) == R1_OK, "%s", err.msg);

    /* truncated at several points: inside the header, metadata, infos, data */
    size_t size;
    unsigned char *bytes = (unsigned char *)read_file(good, &size);
    CHECK(bytes, "cannot read %s", good);
    const size_t cuts[] = {0, 10, 40, 100, size / 2, size - 4};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int ok = write_all(cut, bytes, cuts[i]) && load_fails(cut, "", &err);
        if (!ok) free(bytes);
        CHECK(ok, "truncated to %zu bytes: %s", cuts[i], err.msg);
    }
    /* a flipped byte in the tensor count: the reader catches it */
    tmp_path(cut, "corrupt.ckpt");
    bytes[8] = 0xff;
    int ok = write_all(cut, bytes, size) && load_fails(cut, "", &err);
    free(bytes);
    CHECK(ok, "corrupt tensor count: %s", err.msg);

    CHECK(load_fails(tmp_path(path, "missing.ckpt"), "cannot open", &err), "missing file: %s", err.msg);


    /* valid GGUF files that are not valid checkpoints */
    tmp_path(path, "model.gguf");
    r1_gguf_writer *w;
    CHECK(r1_gguf_writer_open(&w, path, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_gguf_writer_kv_str(w, "general.architecture", "deepseek2", &err) == R1_OK &&
              r1_gguf_writer_finish(w, &err) == R1_OK,
          "%s", err.msg);
    CHECK(load_fails(path, "r1.train.stage", &err), "a model file: %s", err.msg);

    CHECK(r1_gguf_writer_open(&w, path, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_gguf_writer_kv_u32(w, "r1.train.version", 1, &err) == R1_OK &&
              r1_gguf_writer_kv_str(w, "r1.train.stage", "grpo", &err) == R1_OK &&
              r1_gguf_writer_kv_u32(w, "r1.train.step", 3, &err) == R1_OK && r1_gguf_writer_finish(w, &err) == R1_OK,
          "%s", err.msg);
    CHECK(load_fails(path, "'r1.train.step' is a uint32", &err), "step of the wrong type: %s", err.msg);

    CHECK(write_checkpoint_by_hand(path, "seed", &err) == R1_OK, "%s", err.msg);
    CHECK(load_fails(path, "r1.train.config[0]", &err), "config entry without '=': %s", err.msg);
    CHECK(write_checkpoint_by_hand(path, "seed=1", &err) == R1_OK, "%s", err.msg);
    CHECK(load_fails(path, "tensor 'h' is F16, expected F32", &err), "an F16 tensor: %s", err.msg);
}

TEST_MAIN("train_state", T(test_checkpoint_tensor_check), T(test_adamw_converges_on_quadratic), T(test_adamw_two_steps_by_hand),
          T(test_adamw_decay_mask), T(test_adamw_avx2_matches_scalar), T(test_adamw_rejects_bad_hparams), T(test_lr_schedule), T(test_clip_grad_norm),
          T(test_checkpoint_round_trip), T(test_resume_is_bit_identical), T(test_failed_save_keeps_previous),
          T(test_bad_checkpoints_fail_cleanly))
