/* The trainable deepseek2 model (train/tiny_model.h): its forward is the engine's
 * (export, load with r1_model_load, compare r1_forward's logits), its backward is
 * the derivative of its forward (central finite differences of the whole model's
 * loss for a sample of every tensor kind), the aux-loss-free bias rule moves the
 * bias against the load, a few hundred optimiser steps memorise a sequence, and
 * the export holds every key and kind of tensor llama.cpp's converter writes. */
#include <unistd.h>

#include "test.h"

#include "gguf/gguf.h"
#include "model/gen_random.h"
#include "model/state.h"
#include "train/adamw.h"
#include "train/tiny_model.h"

/* Small enough for finite differences, with every feature on: q-LoRA, a dense
 * layer then MoE layers, grouped routing, a shared expert, the balance loss. */
static r1_train_config small_config(void) {
    r1_train_config c = r1_train_config_default();
    c.vocab = 300, c.dim = 32, c.n_layers = 3, c.n_dense_layers = 1, c.n_heads = 2;
    c.q_lora_rank = 16, c.kv_lora_rank = 16, c.qk_nope = 8, c.qk_rope = 8, c.v_head = 8;
    c.ffn_dim = 48, c.n_experts = 8, c.top_k = 2, c.n_shared = 1, c.expert_ffn = 16;
    c.n_groups = 4, c.n_groups_used = 2, c.seq_len = 12, c.batch = 2, c.balance_alpha = 0.01f;
    return c;
}

static uint64_t rng_state = 0x1234567ull;
static uint32_t rng_u32(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 32);
}
static float rng_sym(void) { return (float)rng_u32() / 4294967296.0f * 2.0f - 1.0f; }

static void random_tokens(int *tokens, int *targets, int n, int vocab) {
    for (int i = 0; i < n; i++) {
        tokens[i] = (int)(rng_u32() % (uint32_t)vocab);
        if (targets) targets[i] = i % 5 == 3 ? -1 : (int)(rng_u32() % (uint32_t)vocab);
    }
}

/* ---- (1) the trainer's forward is the engine's ---- */

static void check_engine(test_ctx *t, r1_train_config c) {
    c.init_std = 0.2f; /* logits of order 1 and scores spread enough to route */
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, 7, &err) == R1_OK, "%s", err.msg);
    for (size_t i = 0; i < (size_t)r1_train_config_blocks(&c) * c.n_experts; i++) m.expert_bias[i] = 0.05f * rng_sym();
    int B = 2, T = c.seq_len, tokens[2 * 12];
    random_tokens(tokens, NULL, B * T, c.vocab);
    CHECK(r1_train_forward(&m, tokens, NULL, B, T, NULL, &err) == R1_OK, "%s", err.msg);

    char tmpl[256], path[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/r1_test_train_tmpl_%d.gguf", (int)getpid());
    snprintf(path, sizeof path, "/tmp/r1_test_train_model_%d.gguf", (int)getpid());
    r1_gen_config gen = {.preset = "tiny-deepseek", .type = R1_TYPE_F32, .n_layers = 1, .n_vocab = c.vocab,
                         .seed = 1, .path = tmpl};
    CHECK(r1_gen_random_model(&gen, NULL, &err) == R1_OK, "%s", err.msg);
    r1_gguf tok_src;
    CHECK(r1_gguf_open(&tok_src, tmpl, &err) == R1_OK, "%s", err.msg);
    int rc = r1_train_export_gguf(&m, path, &tok_src, &err);
    r1_gguf_close(&tok_src);
    remove(tmpl);
    CHECK(rc == R1_OK, "%s", err.msg);

    r1_model em;
    r1_compute compute;
    r1_state s;
    CHECK(r1_model_load(&em, path, &err) == R1_OK, "%s", err.msg);
    remove(path);
    size_t main_params = 0; /* the export leaves the MTP module out */
    for (int i = 0; i < m.n_tensors; i++) main_params += m.tensors[i].mtp ? 0 : m.tensors[i].size;
    CHECK(em.hp.n_experts == c.n_experts && em.hp.qk_nope_dim == c.qk_nope && em.hp.v_head_dim == c.v_head &&
              em.n_params == main_params,
          "engine reads back a different shape (%llu params)", (unsigned long long)em.n_params);
    CHECK(r1_compute_init(&compute, 1) == R1_OK, "threads");
    CHECK(r1_state_init(&s, &em, &compute, T, T, &err) == R1_OK, "%s", err.msg);
    float *logits = malloc(sizeof(float) * (size_t)T * c.vocab);
    double max_ref = 0, max_diff = 0;
    for (int b = 0; b < B && rc == R1_OK; b++) {
        r1_state_reset(&s);
        rc = r1_forward(&s, tokens + b * T, T, logits, 1, &err);
        for (size_t i = 0; i < (size_t)T * c.vocab; i++) {
            double ref = logits[i], got = m.logits[(size_t)b * T * c.vocab + i];
            if (fabs(ref) > max_ref) max_ref = fabs(ref);
            if (fabs(ref - got) > max_diff) max_diff = fabs(ref - got);
        }
    }
    free(logits);
    r1_state_free(&s);
    r1_compute_free(&compute);
    r1_model_free(&em);
    r1_train_model_free(&m);
    CHECK(rc == R1_OK, "%s", err.msg);
    printf("  engine vs trainer logits: max |diff| %.3e, max |logit| %.3e, relative %.3e\n", max_diff, max_ref,
           max_diff / max_ref);
    CHECK(max_diff <= 1e-4 * max_ref, "relative error %.3e", max_diff / max_ref);
}

static void test_forward_matches_engine(test_ctx *t) { check_engine(t, small_config()); }

/* the other layout: queries straight from attn_q, no shared expert, no dense layer */
static r1_train_config plain_config(void) {
    r1_train_config c = small_config();
    c.q_lora_rank = 0, c.n_shared = 0, c.n_dense_layers = 0, c.n_groups = 1, c.n_groups_used = 1;
    return c;
}

static void test_forward_matches_engine_plain(test_ctx *t) { check_engine(t, plain_config()); }

/* with an MTP module (V3 §2.2), which the export drops: the main model is unchanged */
static r1_train_config mtp_config(void) {
    r1_train_config c = small_config();
    c.mtp_weight = 0.5f;
    return c;
}

static void test_forward_matches_engine_mtp(test_ctx *t) { check_engine(t, mtp_config()); }

/* ---- (2) finite differences of the whole model ---- */

/* Mean cross-entropy of logits (N × V) against targets, in double. */
static double cross_entropy_double(const float *logits, const int *targets, int N, int V) {
    int n = 0;
    double sum = 0.0;
    for (int t = 0; t < N; t++) {
        if (targets[t] < 0) continue;
        const float *z = logits + (size_t)t * V;
        double max = z[0], se = 0.0;
        for (int i = 1; i < V; i++) max = z[i] > max ? z[i] : max;
        for (int i = 0; i < V; i++) se += exp(z[i] - max);
        sum += max + log(se) - z[targets[t]];
        n++;
    }
    return n ? sum / n : 0.0;
}

/* The loss recomputed in double from the logits, so the difference quotient sees
 * only the forward's float rounding, not the loss's own. */
static double loss_double(const r1_train_model *m, const int *targets, int N) {
    double loss = cross_entropy_double(m->logits, targets, N, m->cfg.vocab) + m->balance_loss;
    if (m->mtp_ran) loss += m->cfg.mtp_weight * cross_entropy_double(m->mtp_logits, m->mtp_targets, N, m->cfg.vocab);
    return loss;
}

static int same_routing(const r1_train_model *m, const int *ids, size_t n_ids) {
    return memcmp(m->act_ints, ids, n_ids * sizeof(int)) == 0;
}

#define FD_STEP 1e-2f
#define FD_MAX_REL 2e-2

/* alpha: the balance loss weight; verbose prints each tensor's worst error. */
static void check_finite_differences(test_ctx *t, r1_train_config c, float alpha, int verbose) {
    c.init_std = 0.2f; /* gradients well above the float rounding of the loss */
    c.balance_alpha = alpha;
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, 11, &err) == R1_OK, "%s", err.msg);
    for (size_t i = 0; i < (size_t)r1_train_config_blocks(&c) * c.n_experts; i++) m.expert_bias[i] = 0.05f * rng_sym();
    int B = 2, T = c.seq_len, N = B * T, tokens[24], targets[24];
    random_tokens(tokens, targets, N, c.vocab);
    CHECK(r1_train_forward(&m, tokens, targets, B, T, NULL, &err) == R1_OK, "%s", err.msg);
    r1_train_zero_grad(&m);
    r1_train_backward(&m);
    size_t n_ids = (size_t)(r1_train_config_blocks(&c) - c.n_dense_layers) * N * c.top_k;
    int *ids = malloc(n_ids * sizeof(int));
    memcpy(ids, m.act_ints, n_ids * sizeof(int));

    double worst = 0;
    int n_checked = 0, n_skipped = 0;
    char worst_name[64] = "";
    for (int ti = 0; ti < m.n_tensors; ti++) {
        r1_train_tensor *tt = &m.tensors[ti];
        if (!tt->grad) continue;
        /* the two largest gradients and four random elements */
        size_t pick[6] = {0, 0};
        for (size_t i = 0; i < tt->size; i++) {
            if (fabsf(tt->grad[i]) > fabsf(tt->grad[pick[0]])) pick[1] = pick[0], pick[0] = i;
            else if (i != pick[0] && fabsf(tt->grad[i]) > fabsf(tt->grad[pick[1]])) pick[1] = i;
        }
        for (int k = 2; k < 6; k++) pick[k] = rng_u32() % tt->size;
        float max_grad = fabsf(tt->grad[pick[0]]);
        double tensor_worst = 0;
        for (int k = 0; k < 6; k++) {
            float *p = &tt->data[pick[k]], orig = *p;
            *p = orig + FD_STEP;
            float up = *p;
            r1_train_forward(&m, tokens, targets, B, T, NULL, &err);
            double loss_up = loss_double(&m, targets, N);
            int stable = same_routing(&m, ids, n_ids);
            *p = orig - FD_STEP;
            float down = *p;
            r1_train_forward(&m, tokens, targets, B, T, NULL, &err);
            double loss_down = loss_double(&m, targets, N);
            stable &= same_routing(&m, ids, n_ids);
            *p = orig;
            if (!stable) { /* a routing decision flipped: the loss is not smooth here */
                n_skipped++;
                continue;
            }
            double fd = (loss_up - loss_down) / ((double)up - down), an = tt->grad[pick[k]];
            double scale = fmax(fmax(fabs(fd), fabs(an)), 0.1 * max_grad);
            double rel = scale > 0 ? fabs(fd - an) / scale : 0;
            if (rel > tensor_worst) tensor_worst = rel;
            n_checked++;
        }
        if (tensor_worst > worst) {
            worst = tensor_worst;
            snprintf(worst_name, sizeof worst_name, "%s", tt->name);
        }
        if (verbose && (strncmp(tt->name, "blk.", 4) != 0 || strncmp(tt->name, "blk.2.", 6) == 0 ||
                        strncmp(tt->name, "blk.0.f", 7) == 0 || strstr(tt->name, "nextn")))
            printf("  %-28s max |grad| %.2e  worst rel err %.2e\n", tt->name, max_grad, tensor_worst);
    }
    printf("  α = %g: %d elements checked, %d skipped (routing flipped); worst %.2e in %s\n", alpha, n_checked,
           n_skipped, worst, worst_name);
    free(ids);
    r1_train_model_free(&m);
    CHECK(n_checked > 0 && worst <= FD_MAX_REL, "worst relative error %.3e in %s", worst, worst_name);
}

static void test_finite_differences(test_ctx *t) { check_finite_differences(t, small_config(), 0.01f, 1); }
/* a balance loss as large as the cross-entropy, so its router gradient shows */
static void test_finite_differences_balance(test_ctx *t) { check_finite_differences(t, small_config(), 1.0f, 0); }
static void test_finite_differences_plain(test_ctx *t) { check_finite_differences(t, plain_config(), 0.01f, 0); }
/* the MTP module's tensors, and its gradients into the shared embedding, output and
 * the main model's layers */
static void test_finite_differences_mtp(test_ctx *t) { check_finite_differences(t, mtp_config(), 0.01f, 1); }

/* ---- (3) aux-loss-free balancing ---- */

static void test_bias_update(test_ctx *t) {
    float bias[4] = {0.0f, 0.5f, -0.25f, 0.0f}, load[4] = {5, 1, 3, 3}; /* mean 3 */
    moe_update_bias(bias, load, 4, 0.01f);
    CHECK(bias[0] == -0.01f && bias[1] == 0.51f && bias[2] == -0.25f && bias[3] == 0.0f,
          "bias %g %g %g %g", bias[0], bias[1], bias[2], bias[3]);

    /* the model's loads count every (token, expert) pair; the rule uses them */
    r1_train_config c = small_config();
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, 3, &err) == R1_OK, "%s", err.msg);
    int tokens[24];
    random_tokens(tokens, NULL, 24, c.vocab);
    CHECK(r1_train_forward(&m, tokens, NULL, 2, 12, NULL, &err) == R1_OK, "%s", err.msg);
    int il = c.n_dense_layers, E = c.n_experts;
    float total = 0, mean, *load_l = m.expert_load + (size_t)il * E, *bias_l = m.expert_bias + (size_t)il * E;
    for (int i = 0; i < E; i++) total += load_l[i];
    mean = total / E;
    r1_train_update_bias(&m, m.cfg.bias_gamma);
    int ok = total == 24.0f * c.top_k;
    for (int i = 0; i < E; i++)
        ok &= bias_l[i] == (load_l[i] > mean ? -c.bias_gamma : load_l[i] < mean ? c.bias_gamma : 0.0f);
    ok &= m.expert_bias[0] == 0.0f; /* dense layer 0 has no bias to move */
    r1_train_model_free(&m);
    CHECK(ok, "load total %g, expected %d; or a bias moved the wrong way", total, 24 * c.top_k);
}

/* ---- failure paths ---- */

static void test_bad_inputs(test_ctx *t) {
    r1_train_config c = small_config();
    r1_train_model m;
    r1_err err;
    c.top_k = 5; /* more than 2 groups × 2 experts can hold */
    CHECK(r1_train_model_init(&m, &c, 1, &err) == R1_ERR && strstr(err.msg, "routing"), "accepted top-5");
    c = small_config();
    CHECK(r1_train_model_init(&m, &c, 1, &err) == R1_OK, "%s", err.msg);
    int tokens[12] = {0}, targets[12] = {0};
    tokens[3] = c.vocab;
    int rc1 = r1_train_forward(&m, tokens, targets, 1, 12, NULL, &err);
    tokens[3] = 0, targets[4] = -2;
    int rc2 = r1_train_forward(&m, tokens, targets, 1, 12, NULL, &err);
    int rc3 = r1_train_forward(&m, tokens, NULL, 3, 12, NULL, &err);
    int rc4 = r1_train_export_gguf(&m, "/nonexistent-dir/model.gguf", NULL, &err);
    r1_train_model_free(&m);
    CHECK(rc1 == R1_ERR && rc2 == R1_ERR && rc3 == R1_ERR && rc4 == R1_ERR, "bad input accepted: %d %d %d %d", rc1,
          rc2, rc3, rc4);
    CHECK(strstr(err.msg, "/nonexistent-dir/model.gguf") != NULL, "export error does not name the file: %s", err.msg);
}

/* Router logits that are NaN (weights that overflowed, or a hostile file) still
 * give every token K distinct experts in range: no index of −1. */
static void test_route_nan(test_ctx *t) {
    r1_train_config c = small_config();
    r1_hparams hp;
    r1_train_config_hparams(&c, &hp);
    int E = c.n_experts;
    float logits[8], bias[8] = {0}, weights[2], scratch[R1_TRAIN_ROUTE_SCRATCH];
    int ids[2];
    for (int nan_count = E; nan_count >= 1; nan_count -= 3) {
        for (int i = 0; i < E; i++) logits[i] = i < nan_count ? NAN : (float)i;
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            r1_moe_route(&hp, with_bias ? bias : NULL, logits, ids, weights, scratch);
            CHECK(ids[0] >= 0 && ids[0] < E && ids[1] >= 0 && ids[1] < E && ids[0] != ids[1],
                  "%d NaN logits%s: experts %d, %d", nan_count, with_bias ? " with a bias" : "", ids[0], ids[1]);
        }
    }
}

/* ---- default size ---- */

static void test_default_config(test_ctx *t) {
    r1_train_config c = r1_train_config_default();
    c.batch = 1, c.seq_len = 8; /* parameters do not depend on them */
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, 1, &err) == R1_OK, "%s", err.msg);
    size_t n = m.n_params;
    r1_train_model_free(&m);
    printf("  default config: %zu parameters\n", n);
    CHECK(n > 1000000 && n < 10000000, "%zu parameters", n);
}

/* ---- (4) memorising a sequence ---- */

static void test_memorise(test_ctx *t) {
    r1_train_config c = small_config();
    r1_train_model m;
    r1_adamw opt;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, 5, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_adamw_init(&opt, m.n_params, (r1_adamw_hparams){3e-3f, 0.9f, 0.95f, 1e-8f, 0.0f}, &err) == R1_OK,
          "%s", err.msg);
    int B = 2, T = c.seq_len, tokens[24], targets[24];
    for (int b = 0; b < B; b++)
        for (int i = 0; i < T; i++) tokens[b * T + i] = (b * 37 + i * i * 7 + 3) % c.vocab;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < T; i++) targets[b * T + i] = i + 1 < T ? tokens[b * T + i + 1] : -1;
    float first = 0, loss = 0;
    for (int step = 0; step < 300; step++) {
        CHECK(r1_train_forward(&m, tokens, targets, B, T, &loss, &err) == R1_OK, "%s", err.msg);
        if (step == 0) first = loss;
        if (step % 50 == 0) printf("  step %3d loss %.4f (balance %.5f)\n", step, loss, m.balance_loss);
        r1_train_zero_grad(&m);
        r1_train_backward(&m);
        r1_adamw_step(&opt, m.params, m.grads, 3e-3f, NULL);
        r1_train_update_bias(&m, m.cfg.bias_gamma);
    }
    CHECK(r1_train_forward(&m, tokens, targets, B, T, &loss, &err) == R1_OK, "%s", err.msg);
    printf("  loss %.4f -> %.4f after 300 AdamW steps\n", first, loss);
    r1_adamw_free(&opt);
    r1_train_model_free(&m);
    CHECK(isfinite(loss) && loss < 0.1f * first, "loss %.4f -> %.4f", first, loss);
}

/* ---- (5) packed rows: documents do not see each other ---- */

/* Two examples packed into one row with doc_start give the logits each gives alone
 * in a row of its own, and, with the loss on both, twice the mean of their
 * gradients alone (the row's loss is the mean over both documents' targets, as many
 * in each; balance loss off: it is taken per row, not per document). */
static void check_packed_documents(test_ctx *t, r1_train_config c) {
    /* longer than the attention strips of 24, so that strips skip the keys (or
     * queries) of the other document, and a strip holds both */
    enum { L = 30, T = 2 * L };
    c.balance_alpha = 0.0f, c.init_std = 0.2f, c.seq_len = T;
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, 9, &err) == R1_OK, "%s", err.msg);
    int tokens[T], targets[T], doc_start[T];
    random_tokens(tokens, NULL, T, c.vocab);
    for (int i = 0; i < T; i++) {
        doc_start[i] = i < L ? 0 : L;
        targets[i] = i % L + 1 < L ? tokens[i + 1] : -1; /* no target across the border */
    }
    size_t V = (size_t)c.vocab, P = m.n_params;
    float *packed_logits = malloc(T * V * sizeof(float)), *packed_grads = malloc(P * sizeof(float));
    /* NaN in every entry of the attention rows that the packed pass does not write
     * or zero (mla_train.c's causal_rows): a product that read one would be NaN */
    size_t att_len = (size_t)c.batch * c.n_heads * c.seq_len * c.seq_len;
    for (int b = 0; b < m.n_blocks; b++)
        for (size_t i = 0; i < att_len; i++) m.acts[b].att[i] = NAN;
    for (size_t i = 0; i < att_len / c.n_heads; i++) m.d.dscore[i] = NAN;
    m.doc_start = doc_start;
    CHECK(r1_train_forward(&m, tokens, targets, 1, T, NULL, &err) == R1_OK, "%s", err.msg);
    memcpy(packed_logits, m.logits, T * V * sizeof(float));
    r1_train_zero_grad(&m);
    r1_train_backward(&m);
    memcpy(packed_grads, m.grads, P * sizeof(float));
    m.doc_start = NULL;

    double worst = 0;
    r1_train_zero_grad(&m);
    for (int doc = 0; doc < 2; doc++) { /* each document alone, from position 0; gradients add up */
        CHECK(r1_train_forward(&m, tokens + doc * L, targets + doc * L, 1, L, NULL, &err) == R1_OK, "%s", err.msg);
        for (size_t i = 0; i < (size_t)L * V; i++) {
            double d = fabs((double)m.logits[i] - packed_logits[doc * L * V + i]);
            if (d > worst) worst = d;
        }
        r1_train_backward(&m);
    }
    double gmax = 0, gdiff = 0;
    for (size_t i = 0; i < P; i++) {
        gmax = fmax(gmax, fabs(m.grads[i]));
        gdiff = fmax(gdiff, fabs((double)m.grads[i] - 2.0 * packed_grads[i]));
    }
    int finite = 1;
    for (size_t i = 0; i < (size_t)T * V; i++) finite &= isfinite(packed_logits[i]) != 0;
    for (size_t i = 0; i < P; i++) finite &= isfinite(packed_grads[i]) != 0;
    printf("  packed vs alone: logits max |diff| %.2e, gradients max |diff| %.2e of max %.2e\n", worst, gdiff, gmax);
    free(packed_logits);
    free(packed_grads);
    r1_train_model_free(&m);
    CHECK(finite, "the packed pass read an attention entry it did not write");
    CHECK(worst < 1e-4, "logits differ by %.3e", worst);
    CHECK(gmax > 0 && gdiff < 1e-4 * gmax, "gradients differ by %.3e (max %.3e)", gdiff, gmax);
}

/* The MTP module at row t sees tokens up to t+1 and predicts t+2: changing token k
 * leaves its logits at every row t ≤ k−2 as they were (and changes row k−1's). */
static void test_mtp_causal(test_ctx *t) {
    r1_train_config c = mtp_config();
    c.init_std = 0.2f;
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &c, 5, &err) == R1_OK, "%s", err.msg);
    enum { T = 12, K = 7 };
    int tokens[T], targets[T];
    random_tokens(tokens, NULL, T, c.vocab);
    for (int i = 0; i < T; i++) targets[i] = i + 1 < T ? tokens[i + 1] : -1;
    size_t V = (size_t)c.vocab;
    float *before = malloc(T * V * sizeof(float));
    CHECK(r1_train_forward(&m, tokens, targets, 1, T, NULL, &err) == R1_OK, "%s", err.msg);
    memcpy(before, m.mtp_logits, T * V * sizeof(float));
    tokens[K] = (tokens[K] + 1) % c.vocab;
    targets[K - 1] = tokens[K];
    CHECK(r1_train_forward(&m, tokens, targets, 1, T, NULL, &err) == R1_OK, "%s", err.msg);
    double seen_before = 0, seen_at = 0;
    for (size_t i = 0; i < (size_t)(K - 1) * V; i++) seen_before = fmax(seen_before, fabs(m.mtp_logits[i] - before[i]));
    for (size_t i = (size_t)(K - 1) * V; i < (size_t)K * V; i++) seen_at = fmax(seen_at, fabs(m.mtp_logits[i] - before[i]));
    printf("  token %d changed: MTP logits of rows 0..%d move by %.2e, of row %d by %.2e\n", K, K - 2, seen_before,
           K - 1, seen_at);
    free(before);
    r1_train_model_free(&m);
    CHECK(seen_before == 0.0 && seen_at > 1e-3, "rows before %d moved by %.3e, row %d by %.3e", K - 1, seen_before,
          K - 1, seen_at);
}

static void test_packed_documents(test_ctx *t) { check_packed_documents(t, small_config()); }
/* the MTP module reads token t+1 only inside t's document */
static void test_packed_documents_mtp(test_ctx *t) { check_packed_documents(t, mtp_config()); }

/* ---- (5) the export carries what llama.cpp reads ---- */

/* "blk.12.ffn_up_exps.weight" → "blk.N.ffn_up_exps.weight": a tensor's kind. */
static void tensor_kind(const r1_str *name, char *out, size_t size) {
    int n = snprintf(out, size, "%.*s", (int)name->len, name->data);
    if (n > 4 && !strncmp(out, "blk.", 4)) {
        char *rest = out + 4;
        while (*rest >= '0' && *rest <= '9') rest++;
        memmove(out + 5, rest, strlen(rest) + 1);
        out[4] = 'N';
    }
}

static int has_tensor_kind(const r1_gguf *g, const char *kind) {
    char k[256];
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        tensor_kind(&g->tensors[i].name, k, sizeof k);
        if (!strcmp(k, kind)) return 1;
    }
    return 0;
}

/* Every metadata key of ref is in g with the same GGUF type (and element type),
 * and both hold the same kinds of tensor. */
static void check_same_keys(test_ctx *t, const r1_gguf *ref, const r1_gguf *g, const char *what) {
    for (uint64_t i = 0; i < ref->n_kv; i++) {
        const r1_gguf_kv *want = &ref->kv[i];
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)want->key.len, want->key.data);
        const r1_gguf_kv *got = r1_gguf_find_kv(g, key);
        CHECK(got, "%s: no %s", what, key);
        CHECK(got->type == want->type && (want->type != GGUF_ARRAY || got->array_type == want->array_type),
              "%s: %s is a %s, llama.cpp's converter writes a %s", what, key, r1_gguf_type_name(got->type),
              r1_gguf_type_name(want->type));
    }
    char kind[256];
    for (uint64_t i = 0; i < ref->n_tensors; i++) {
        tensor_kind(&ref->tensors[i].name, kind, sizeof kind);
        CHECK(has_tensor_kind(g, kind), "%s: no tensor %s", what, kind);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        tensor_kind(&g->tensors[i].name, kind, sizeof kind);
        CHECK(has_tensor_kind(ref, kind), "%s: tensor %s, which llama.cpp's file does not have", what, kind);
    }
}

/* llama.cpp cannot be fetched here, so its loader is checked by proxy: a file its
 * own converter wrote (../shared/testdata, the V3 layout: q-LoRA, a dense layer,
 * grouped sigmoid routing with a bias, a shared expert) against what r1 writes —
 * the shipped default model and a fresh export of a model with the same
 * features, with the default's tokenizer. */
static void test_export_has_llamacpp_keys(test_ctx *t) {
    const char *dir = testdata_dir();
    if (!dir) SKIP("../shared/testdata is not there");
    char ref_path[4200];
    snprintf(ref_path, sizeof ref_path, "%s/models/deepseek2-v3-f32.gguf", dir);
    r1_gguf ref, shipped, fresh;
    r1_err err;
    CHECK(r1_gguf_open(&ref, ref_path, &err) == R1_OK, "%s", err.msg);
    if (r1_gguf_open(&shipped, "models/r1-tiny.gguf", &err) != R1_OK) {
        r1_gguf_close(&ref);
        CHECK(0, "%s", err.msg);
    }
    check_same_keys(t, &ref, &shipped, "models/r1-tiny.gguf");

    r1_train_model m;
    r1_train_config c = small_config();
    char path[256];
    snprintf(path, sizeof path, "/tmp/r1_test_train_keys_%d.gguf", (int)getpid());
    int rc = t->failed ? R1_ERR : r1_train_model_init(&m, &c, 3, &err);
    if (rc == R1_OK) {
        rc = r1_train_export_gguf(&m, path, &shipped, &err);
        r1_train_model_free(&m);
    }
    if (rc == R1_OK && r1_gguf_open(&fresh, path, &err) == R1_OK) {
        check_same_keys(t, &ref, &fresh, "a fresh export");
        r1_gguf_close(&fresh);
    } else if (!t->failed) {
        printf("  %s\n", err.msg);
        t->failed = 1;
    }
    remove(path);
    r1_gguf_close(&shipped);
    r1_gguf_close(&ref);
}

TEST_MAIN("train_model", T(test_forward_matches_engine), T(test_forward_matches_engine_plain),
          T(test_forward_matches_engine_mtp), T(test_finite_differences), T(test_finite_differences_balance),
          T(test_finite_differences_plain), T(test_finite_differences_mtp), T(test_bias_update), T(test_bad_inputs), T(test_route_nan),
          T(test_default_config), T(test_memorise), T(test_packed_documents), T(test_packed_documents_mtp), T(test_mtp_causal),
          T(test_export_has_llamacpp_keys))
