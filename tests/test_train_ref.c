/* The trainer against an independent PyTorch implementation (tests/ref/train_ref.py,
 * torch.autograd in float64): one forward and backward of the whole tiny
 * DeepSeek-V3 model — q-LoRA MLA, a dense layer, two MoE layers with grouped,
 * biased sigmoid routing, a shared expert and the sequence-wise balance loss —
 * compared on the loss and on the gradient of every parameter. Two fixtures: the
 * model alone (train-step) and with a multi-token prediction module
 * (train-step-mtp: DeepSeek-V3 §2.2, depth 1, λ = 0.25).
 *
 * A fixture <F> is made in two steps (tests/ref/README.md):
 *   R1_WRITE_TRAIN_FIXTURE=1 ./build/tests/test_train_ref
 *       writes <F>.model.gguf (the trainer's initial model as exported, with a
 *       random expert bias), for train-step-mtp also <F>.nextn.gguf (the MTP
 *       module's tensors, which the export leaves out), and <F>.tokens (B T α,
 *       and λ with MTP, then B·T tokens, then B·T targets, −1 = ignored);
 *   /usr/bin/python3 tests/ref/train_ref.py
 *       writes <F>.loss (loss, cross-entropy, balance loss, and the MTP loss with
 *       MTP) and <F>.grads.gguf (one F32 tensor per parameter, the same names).
 * Normally the test copies the files' tensors into the trainer and compares.
 * Paths are relative to the project root, where the tests run. */
#include "test.h"

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "tensor/types.h"
#include "train/tiny_model.h"

/* train_ref.py refuses a model whose routing decisions are closer than 1e-4; if it
 * does, change the fixture's seed and regenerate. */
typedef struct {
    const char *name; /* file stem in tests/fixtures */
    float mtp_weight; /* λ; 0: no MTP module */
    uint64_t seed;    /* of the initial weights */
} fixture;

static const fixture PLAIN = {"train-step", 0.0f, 1};
/* λ a power of two, so the text file holds it exactly */
static const fixture MTP = {"train-step-mtp", 0.25f, 5};

#define PATH_MAX_LEN 256

/* tests/fixtures/<name><suffix> into buf */
static const char *fixture_path(char *buf, const fixture *fx, const char *suffix) {
    snprintf(buf, PATH_MAX_LEN, "tests/fixtures/%s%s", fx->name, suffix);
    return buf;
}

#define FIXTURE_B 2
#define FIXTURE_T 12
/* α large enough that the balance loss's share of the router gradient is far
 * above the tolerance; a power of two, so the text file holds it exactly */
#define FIXTURE_ALPHA 0.0625f
#define BIAS_RANGE 0.1f

#define LOSS_MAX_REL 1e-5
#define GRAD_MAX_REL 1e-4

/* Every feature on, small enough that the fixture stays well under 1 MB. */
static r1_train_config fixture_config(const fixture *fx) {
    r1_train_config c = r1_train_config_default();
    c.vocab = 64, c.dim = 32, c.n_layers = 3, c.n_dense_layers = 1, c.n_heads = 4;
    c.q_lora_rank = 16, c.kv_lora_rank = 16, c.qk_nope = 8, c.qk_rope = 8, c.v_head = 8;
    c.ffn_dim = 48, c.n_experts = 8, c.top_k = 2, c.n_shared = 1, c.expert_ffn = 16;
    c.n_groups = 4, c.n_groups_used = 2, c.seq_len = FIXTURE_T, c.batch = FIXTURE_B;
    c.balance_alpha = FIXTURE_ALPHA;
    c.init_std = 0.2f; /* router logits of order 1: routing margins well above float rounding */
    c.mtp_weight = fx->mtp_weight;
    return c;
}

/* ---- the fixture's inputs ---- */

typedef struct {
    int B, T;
    float alpha, mtp_weight;
    int tokens[FIXTURE_B * FIXTURE_T], targets[FIXTURE_B * FIXTURE_T];
} step_input;

static int read_step_input(const fixture *fx, step_input *in, r1_err *err) {
    char path[PATH_MAX_LEN];
    fixture_path(path, fx, ".tokens");
    FILE *f = fopen(path, "r");
    if (!f) return r1_fail(err, "%s: cannot open (regenerate: see tests/ref/README.md)", path);
    int ok = fscanf(f, "%d %d %f", &in->B, &in->T, &in->alpha) == 3 && in->B == FIXTURE_B && in->T == FIXTURE_T;
    in->mtp_weight = 0.0f;
    if (ok && fx->mtp_weight > 0.0f) ok = fscanf(f, "%f", &in->mtp_weight) == 1 && in->mtp_weight == fx->mtp_weight;
    for (int i = 0; ok && i < FIXTURE_B * FIXTURE_T; i++) ok = fscanf(f, "%d", &in->tokens[i]) == 1;
    for (int i = 0; ok && i < FIXTURE_B * FIXTURE_T; i++) ok = fscanf(f, "%d", &in->targets[i]) == 1;
    fclose(f);
    if (!ok)
        return r1_fail(err, "%s: expected `%d %d α%s` then %d tokens and %d targets", path, FIXTURE_B, FIXTURE_T,
                       fx->mtp_weight > 0.0f ? " λ" : "", FIXTURE_B * FIXTURE_T, FIXTURE_B * FIXTURE_T);
    return R1_OK;
}

/* ---- writing the model and the tokens (R1_WRITE_TRAIN_FIXTURE=1) ---- */

static uint64_t lcg_state = 0x5eed7ull;
static uint32_t lcg_u32(void) {
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg_state >> 32);
}
static float lcg_sym(void) { return (float)lcg_u32() / 4294967296.0f * 2.0f - 1.0f; }

/* The MTP module's tensors (its block's expert bias included) as an F32 GGUF. */
static int write_mtp_tensors(const r1_train_model *m, const char *path, r1_err *err) {
    r1_gguf_writer *w;
    if (r1_gguf_writer_open(&w, path, err) != R1_OK) return R1_ERR;
    int rc = r1_gguf_writer_kv_str(w, "general.name", "the MTP module of train-step-mtp.model.gguf", err);
    for (int i = 0; rc == R1_OK && i < m->n_tensors; i++) {
        const r1_train_tensor *tt = &m->tensors[i];
        if (tt->mtp) rc = r1_gguf_writer_tensor(w, tt->name, tt->n_dims, tt->ne, R1_TYPE_F32, err);
    }
    if (rc == R1_OK) rc = r1_gguf_writer_begin_data(w, err);
    for (int i = 0; rc == R1_OK && i < m->n_tensors; i++)
        if (m->tensors[i].mtp) rc = r1_gguf_writer_data_f32(w, m->tensors[i].data, (int64_t)m->tensors[i].size, err);
    if (rc != R1_OK) {
        r1_gguf_writer_abort(w);
        return R1_ERR;
    }
    return r1_gguf_writer_finish(w, err);
}

static void write_fixture(test_ctx *t, const fixture *fx) {
    r1_train_config c = fixture_config(fx);
    r1_train_model m;
    r1_err err;
    char model_path[PATH_MAX_LEN], nextn_path[PATH_MAX_LEN], tokens_path[PATH_MAX_LEN];
    fixture_path(model_path, fx, ".model.gguf");
    fixture_path(nextn_path, fx, ".nextn.gguf");
    fixture_path(tokens_path, fx, ".tokens");
    CHECK(r1_train_model_init(&m, &c, fx->seed, &err) == R1_OK, "%s", err.msg);
    /* a nonzero bias, so selection (biased) and weighting (unbiased) differ */
    for (int il = c.n_dense_layers; il < r1_train_config_blocks(&c); il++)
        for (int e = 0; e < c.n_experts; e++) m.expert_bias[(size_t)il * c.n_experts + e] = BIAS_RANGE * lcg_sym();
    int rc = r1_train_export_gguf(&m, model_path, NULL, &err);
    if (rc == R1_OK && fx->mtp_weight > 0.0f) rc = write_mtp_tensors(&m, nextn_path, &err);
    r1_train_model_free(&m);
    CHECK(rc == R1_OK, "%s", err.msg);

    int N = FIXTURE_B * FIXTURE_T, tokens[FIXTURE_B * FIXTURE_T];
    FILE *f = fopen(tokens_path, "w");
    CHECK(f, "%s: cannot write", tokens_path);
    fprintf(f, "%d %d %.9g", FIXTURE_B, FIXTURE_T, (double)FIXTURE_ALPHA);
    if (fx->mtp_weight > 0.0f) fprintf(f, " %.9g", (double)fx->mtp_weight);
    fprintf(f, "\n");
    for (int i = 0; i < N; i++) {
        tokens[i] = (int)(lcg_u32() % (uint32_t)c.vocab);
        fprintf(f, "%d%c", tokens[i], i + 1 < N ? ' ' : '\n');
    }
    /* next-token targets; the last of each sequence and every fifth are ignored */
    for (int i = 0; i < N; i++) {
        int last = i % FIXTURE_T == FIXTURE_T - 1;
        fprintf(f, "%d%c", last || i % 5 == 2 ? -1 : tokens[i + 1], i + 1 < N ? ' ' : '\n');
    }
    CHECK(fclose(f) == 0, "%s: write failed", tokens_path);
    printf("  wrote %s, %s%s%s (seed %d); now run /usr/bin/python3 tests/ref/train_ref.py\n", model_path,
           fx->mtp_weight > 0.0f ? nextn_path : "", fx->mtp_weight > 0.0f ? ", " : "", tokens_path, (int)fx->seed);
}

static void test_write_fixture(test_ctx *t) { write_fixture(t, &PLAIN); }
static void test_write_fixture_mtp(test_ctx *t) { write_fixture(t, &MTP); }

/* ---- loading the fixture into the trainer ---- */

/* The file tensor named like tt, checked to be F32 with tt's shape. */
static const r1_gguf_tensor *matching_tensor(const r1_gguf *g, const r1_train_tensor *tt, r1_err *err) {
    const r1_gguf_tensor *ft = r1_gguf_find_tensor(g, tt->name);
    if (!ft) {
        r1_fail(err, "%s: tensor '%s' is missing", g->path, tt->name);
        return NULL;
    }
    int same = ft->type == R1_TYPE_F32 && (int)ft->n_dims == tt->n_dims;
    for (int d = 0; same && d < tt->n_dims; d++) same = ft->ne[d] == tt->ne[d];
    if (!same) {
        r1_fail(err, "%s: tensor '%s' has type %u and shape [%lld %lld %lld]; the trainer wants F32 [%lld %lld %lld]",
                g->path, tt->name, ft->type, (long long)ft->ne[0], (long long)ft->ne[1], (long long)ft->ne[2],
                (long long)tt->ne[0], (long long)tt->ne[1], (long long)tt->ne[2]);
        return NULL;
    }
    return ft;
}

/* Copies m's tensors of one part — the main model's (mtp 0) or the MTP module's
 * (mtp 1), parameters and expert bias — from the file at path, which holds exactly
 * those. */
static int load_tensors(r1_train_model *m, const char *path, int mtp, r1_err *err) {
    r1_gguf g;
    if (r1_gguf_open(&g, path, err) != R1_OK) return R1_ERR;
    int rc = R1_OK, n_part = 0;
    for (int i = 0; i < m->n_tensors; i++) n_part += m->tensors[i].mtp == mtp;
    if (g.n_tensors != (uint64_t)n_part)
        rc = r1_fail(err, "%s: %llu tensors; the trainer has %d", path, (unsigned long long)g.n_tensors, n_part);
    for (int i = 0; rc == R1_OK && i < m->n_tensors; i++) {
        if (m->tensors[i].mtp != mtp) continue;
        const r1_gguf_tensor *ft = matching_tensor(&g, &m->tensors[i], err);
        if (!ft) rc = R1_ERR;
        else memcpy(m->tensors[i].data, ft->data, m->tensors[i].size * sizeof(float));
    }
    r1_gguf_close(&g);
    return rc;
}

static int load_fixture_model(r1_train_model *m, const fixture *fx, r1_err *err) {
    char path[PATH_MAX_LEN];
    if (load_tensors(m, fixture_path(path, fx, ".model.gguf"), 0, err) != R1_OK) return R1_ERR;
    return m->cfg.mtp_weight > 0.0f ? load_tensors(m, fixture_path(path, fx, ".nextn.gguf"), 1, err) : R1_OK;
}

/* Inits the trainer with the fixture's config (α replaced when alpha >= 0, λ when
 * mtp_weight >= 0), loads the model files, and runs forward (loss into *loss) and
 * backward. */
static int run_step(r1_train_model *m, const fixture *fx, const step_input *in, float alpha, float mtp_weight,
                    float *loss, r1_err *err) {
    r1_train_config c = fixture_config(fx);
    c.balance_alpha = alpha >= 0.0f ? alpha : in->alpha;
    if (r1_train_model_init(m, &c, fx->seed, err) != R1_OK) return R1_ERR;
    if (load_fixture_model(m, fx, err) != R1_OK) {
        r1_train_model_free(m);
        return R1_ERR;
    }
    if (mtp_weight >= 0.0f) m->cfg.mtp_weight = mtp_weight; /* the module stays; its weight in the loss changes */
    if (r1_train_forward(m, in->tokens, in->targets, in->B, in->T, loss, err) != R1_OK) {
        r1_train_model_free(m);
        return R1_ERR;
    }
    r1_train_zero_grad(m);
    r1_train_backward(m);
    return R1_OK;
}

/* ---- comparing ---- */

typedef struct {
    double max_diff, max_ref; /* max |trainer − reference|, max |reference| */
} grad_cmp;

static double cmp_rel(grad_cmp c) { return c.max_ref > 0 ? c.max_diff / c.max_ref : (c.max_diff > 0 ? INFINITY : 0); }

static int compare_grad(const r1_gguf *ref, const r1_train_tensor *tt, grad_cmp *out, r1_err *err) {
    const r1_gguf_tensor *ft = matching_tensor(ref, tt, err);
    if (!ft) return R1_ERR;
    const float *want = ft->data;
    out->max_diff = out->max_ref = 0.0;
    for (size_t i = 0; i < tt->size; i++) {
        double diff = fabs((double)tt->grad[i] - want[i]);
        if (diff > out->max_diff) out->max_diff = diff;
        if (fabs((double)want[i]) > out->max_ref) out->max_ref = fabs((double)want[i]);
    }
    return R1_OK;
}

/* loss, cross-entropy, balance loss, and with MTP the MTP loss (else 0) */
static int read_ref_loss(const fixture *fx, double loss[4], r1_err *err) {
    char path[PATH_MAX_LEN];
    fixture_path(path, fx, ".loss");
    double v[4] = {0, 0, 0, 0};
    FILE *f = fopen(path, "r");
    if (!f) return r1_fail(err, "%s: cannot open (regenerate: see tests/ref/README.md)", path);
    int want = fx->mtp_weight > 0.0f ? 4 : 3, n = fscanf(f, "%lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3]);
    fclose(f);
    if (n != want)
        return r1_fail(err, "%s: expected loss, cross-entropy, balance loss%s", path,
                       want == 4 ? " and MTP loss" : "");
    memcpy(loss, v, sizeof v);
    return R1_OK;
}

static void check_loss_and_gradients(test_ctx *t, const fixture *fx) {
    step_input in;
    r1_train_model m;
    r1_gguf ref;
    r1_err err;
    double want[4];
    float loss;
    char grads_path[PATH_MAX_LEN];
    fixture_path(grads_path, fx, ".grads.gguf");
    CHECK(read_step_input(fx, &in, &err) == R1_OK, "%s", err.msg);
    CHECK(read_ref_loss(fx, want, &err) == R1_OK, "%s", err.msg);
    CHECK(run_step(&m, fx, &in, -1.0f, -1.0f, &loss, &err) == R1_OK, "%s", err.msg);
    double loss_rel = fabs(loss - want[0]) / fabs(want[0]);
    printf("  loss %.9e, reference %.9e: relative %.2e (<= %.0e)\n", (double)loss, want[0], loss_rel, LOSS_MAX_REL);
    printf("    cross-entropy %.9e vs %.9e, balance %.9e vs %.9e", (double)m.ce_loss, want[1],
           (double)m.balance_loss, want[2]);
    if (fx->mtp_weight > 0.0f) printf(", MTP %.9e vs %.9e", (double)m.mtp_loss, want[3]);
    printf("\n");
    int loss_ok = loss_rel <= LOSS_MAX_REL && fabs(m.balance_loss - want[2]) <= LOSS_MAX_REL * fabs(want[0]) &&
                  fabs(m.mtp_loss - want[3]) <= LOSS_MAX_REL * fabs(want[0]);

    float balance = m.balance_loss;
    int rc = r1_gguf_open(&ref, grads_path, &err), opened = rc == R1_OK, n_bad = 0, n_trained = 0;
    double worst = 0.0;
    char worst_name[64] = "";
    for (int i = 0; rc == R1_OK && i < m.n_tensors; i++) {
        const r1_train_tensor *tt = &m.tensors[i];
        if (!tt->grad) continue;
        n_trained++;
        grad_cmp c;
        if ((rc = compare_grad(&ref, tt, &c, &err)) != R1_OK) break;
        double rel = cmp_rel(c);
        int bad = !(rel <= GRAD_MAX_REL);
        printf("  %-36s max |grad| %.3e  max |diff| %.3e  rel %.2e%s\n", tt->name, c.max_ref, c.max_diff, rel,
               bad ? "  <-- FAIL" : "");
        n_bad += bad;
        if (!(rel <= worst)) worst = rel, snprintf(worst_name, sizeof worst_name, "%s", tt->name);
    }
    if (rc == R1_OK && ref.n_tensors != (uint64_t)n_trained)
        rc = r1_fail(&err, "%s: %llu tensors; the trainer has %d trained ones", grads_path,
                     (unsigned long long)ref.n_tensors, n_trained);
    if (opened) r1_gguf_close(&ref);
    r1_train_model_free(&m);
    CHECK(rc == R1_OK, "%s", err.msg);
    printf("  worst gradient: rel %.2e in %s (<= %.0e), %d tensors\n", worst, worst_name, GRAD_MAX_REL, n_trained);
    CHECK(loss_ok, "loss %.9e vs reference %.9e (balance %.9e vs %.9e)", (double)loss, want[0],
          (double)balance, want[2]);
    CHECK(n_bad == 0, "%d of %d gradients differ from the reference by more than %.0e (worst %.2e in %s)", n_bad,
          n_trained, GRAD_MAX_REL, worst, worst_name);
}

static void test_loss_and_gradients(test_ctx *t) { check_loss_and_gradients(t, &PLAIN); }
static void test_loss_and_gradients_mtp(test_ctx *t) { check_loss_and_gradients(t, &MTP); }

/* *least: the smallest relative distance from the reference of the gradients named
 * by pattern (a substring), with α and λ replaced (−1: the fixture's). */
static int least_distance(const fixture *fx, float alpha, float mtp_weight, const char *pattern, double *least,
                          r1_err *err) {
    step_input in;
    r1_train_model m;
    r1_gguf ref;
    float loss;
    char grads_path[PATH_MAX_LEN];
    if (read_step_input(fx, &in, err) != R1_OK || run_step(&m, fx, &in, alpha, mtp_weight, &loss, err) != R1_OK)
        return R1_ERR;
    int rc = r1_gguf_open(&ref, fixture_path(grads_path, fx, ".grads.gguf"), err), opened = rc == R1_OK;
    *least = INFINITY;
    for (int i = 0; rc == R1_OK && i < m.n_tensors; i++) {
        const r1_train_tensor *tt = &m.tensors[i];
        if (!tt->grad || !strstr(tt->name, pattern)) continue;
        grad_cmp c;
        if ((rc = compare_grad(&ref, tt, &c, err)) != R1_OK) break;
        printf("  α = %g, λ = %g: %s rel %.2e from the reference\n", (double)m.cfg.balance_alpha,
               (double)m.cfg.mtp_weight, tt->name, cmp_rel(c));
        *least = fmin(*least, cmp_rel(c));
    }
    if (opened) r1_gguf_close(&ref);
    r1_train_model_free(&m);
    return rc;
}

/* The fixtures have teeth: without the balance loss the router gradients are far
 * from the reference's (so the balance loss's gradient is checked); without the
 * MTP loss so are the main model's output and embedding gradients (so the MTP
 * gradient that flows into the shared tensors is checked); and without the expert
 * bias the routing, hence the loss, changes (so the bias is used for selection). */
static void test_balance_loss_matters(test_ctx *t) {
    double least;
    r1_err err;
    CHECK(least_distance(&PLAIN, 0.0f, -1.0f, "ffn_gate_inp", &least, &err) == R1_OK, "%s", err.msg);
    CHECK(least > 100 * GRAD_MAX_REL, "without the balance loss a router gradient is within %.2e of the reference",
          least);
}

static void test_mtp_loss_matters(test_ctx *t) {
    double embd, out;
    r1_err err;
    CHECK(least_distance(&MTP, -1.0f, 0.0f, "token_embd", &embd, &err) == R1_OK, "%s", err.msg);
    CHECK(least_distance(&MTP, -1.0f, 0.0f, "output.weight", &out, &err) == R1_OK, "%s", err.msg);
    CHECK(fmin(embd, out) > 100 * GRAD_MAX_REL,
          "without the MTP loss a shared tensor's gradient is within %.2e of the reference", fmin(embd, out));
}

static void test_expert_bias_matters(test_ctx *t) {
    step_input in;
    r1_train_model m;
    r1_err err;
    double want[4];
    float loss;
    CHECK(read_step_input(&PLAIN, &in, &err) == R1_OK, "%s", err.msg);
    CHECK(read_ref_loss(&PLAIN, want, &err) == R1_OK, "%s", err.msg);
    r1_train_config c = fixture_config(&PLAIN);
    c.balance_alpha = in.alpha;
    CHECK(r1_train_model_init(&m, &c, PLAIN.seed, &err) == R1_OK, "%s", err.msg);
    int rc = load_fixture_model(&m, &PLAIN, &err);
    memset(m.expert_bias, 0, (size_t)c.n_layers * c.n_experts * sizeof(float));
    if (rc == R1_OK) rc = r1_train_forward(&m, in.tokens, in.targets, in.B, in.T, &loss, &err);
    r1_train_model_free(&m);
    CHECK(rc == R1_OK, "%s", err.msg);
    double rel = fabs(loss - want[0]) / fabs(want[0]);
    printf("  without the expert bias: loss %.9e, rel %.2e from the reference\n", (double)loss, rel);
    CHECK(rel > 100 * LOSS_MAX_REL, "the loss without the expert bias is within %.2e of the reference", rel);
}

/* A model file of another shape is refused, naming the tensor. */
static void test_load_rejects_other_shape(test_ctx *t) {
    r1_train_config c = fixture_config(&PLAIN);
    c.kv_lora_rank = 12;
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, PLAIN.seed, &err) == R1_OK, "%s", err.msg);
    int rc = load_fixture_model(&m, &PLAIN, &err);
    r1_train_model_free(&m);
    CHECK(rc == R1_ERR, "a model with kv_lora_rank 12 loaded the fixture (kv_lora_rank 16)");
    printf("  %s\n", err.msg);
    CHECK(strstr(err.msg, "blk.0.attn_kv_a_mqa.weight") != NULL, "error does not name the first tensor that "
          "differs: %s", err.msg);
}

int main(void) {
    const char *write = getenv("R1_WRITE_TRAIN_FIXTURE");
    if (write && strcmp(write, "1") == 0) {
        static const test_entry writer[] = {T(test_write_fixture), T(test_write_fixture_mtp)};
        return test_main("train_ref", writer, 2);
    }
    static const test_entry tests[] = {T(test_loss_and_gradients),   T(test_loss_and_gradients_mtp),
                                       T(test_balance_loss_matters), T(test_mtp_loss_matters),
                                       T(test_expert_bias_matters),  T(test_load_rejects_other_shape)};
    return test_main("train_ref", tests, (int)(sizeof tests / sizeof tests[0]));
}
