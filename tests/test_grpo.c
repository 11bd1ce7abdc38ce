/* `r1 train grpo`: advantages per variant on hand-made rewards, the per-token loss
 * gradient against finite differences, the weighted log-likelihood backward against
 * the cross-entropy one and against finite differences, and a 3-step run from a tiny
 * pretrained model that writes its files and resumes to the same end. */
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test_files.h"

#include "train/grpo.h"
#include "train/pretrain.h"
#include "train/vocab.h"


static r1_train_config tiny_model(void) {
    r1_train_config m = r1_train_config_default();
    m.vocab = R1_VOCAB_SIZE;
    m.dim = 32, m.n_layers = 2, m.n_dense_layers = 1, m.n_heads = 2;
    m.q_lora_rank = 16, m.kv_lora_rank = 16, m.qk_nope = 8, m.qk_rope = 8, m.v_head = 8;
    m.ffn_dim = 64, m.n_experts = 4, m.top_k = 2, m.n_shared = 1, m.expert_ffn = 32;
    m.n_groups = 2, m.n_groups_used = 2, m.seq_len = 128, m.batch = 4;
    return m;
}

/* ---- advantages ---- */

static void test_advantages(test_ctx *t) {
    const float rewards[4] = {1.0f, 0.0f, 0.1f, 0.0f};
    float a[4];
    double mean = 0.275, std = 0;
    for (int i = 0; i < 4; i++) std += (rewards[i] - mean) * (rewards[i] - mean);
    std = sqrt(std / 3);
    CHECK(r1_grpo_advantages(R1_GRPO_GRPO, rewards, 4, a) == 1, "grpo group left out");
    for (int i = 0; i < 4; i++)
        CHECK(fabs(a[i] - (rewards[i] - mean) / (std + 1e-4)) < 1e-5, "grpo A[%d] = %g", i, a[i]);
    CHECK(r1_grpo_advantages(R1_GRPO_DR_GRPO, rewards, 4, a) == 1, "dr-grpo group left out");
    for (int i = 0; i < 4; i++) CHECK(fabs(a[i] - (rewards[i] - mean)) < 1e-6, "dr-grpo A[%d] = %g", i, a[i]);
    CHECK(r1_grpo_advantages(R1_GRPO_DAPO, rewards, 4, a) == 1 && fabs(a[0] - (1 - mean) / (std + 1e-4)) < 1e-5,
          "dapo A[0] = %g", a[0]);
    const float same[3] = {0.1f, 0.1f, 0.1f};
    CHECK(r1_grpo_advantages(R1_GRPO_DAPO, same, 3, a) == 0 && a[0] == 0 && a[2] == 0, "dapo kept an equal group");
    CHECK(r1_grpo_advantages(R1_GRPO_GRPO, same, 3, a) == 1 && a[1] == 0, "grpo equal group: A = %g", a[1]);
    CHECK(r1_grpo_reflections("Wait, check: wait. Checking") == 4, "reflections %d",
          r1_grpo_reflections("Wait, check: wait. Checking"));
}

/* ∂ℓ/∂logπ by central differences, at ratios inside and outside the clip range,
 * with and without KL; clipped tokens get no surrogate gradient. */
static void test_token_grad(test_ctx *t) {
    r1_grpo_config c = r1_grpo_default_config();
    const float old[] = {-1.0f, -1.0f, -1.0f, -1.0f}, now[] = {-0.95f, -1.05f, -0.5f, -1.6f};
    const float adv[] = {0.7f, -1.3f, 0.7f, -1.3f}, ref = -1.2f;
    for (int variant = 0; variant < 3; variant++)
        for (int beta = 0; beta < 2; beta++)
            for (int k = 0; k < 4; k++) {
                c.variant = (r1_grpo_variant)variant, c.beta = beta ? 0.1f : 0.0f;
                float g = r1_grpo_token_grad(&c, now[k], old[k], ref, adv[k], NULL, NULL), lp, lm;
                double h = 1e-3;
                r1_grpo_token_grad(&c, now[k] + (float)h, old[k], ref, adv[k], &lp, NULL);
                r1_grpo_token_grad(&c, now[k] - (float)h, old[k], ref, adv[k], &lm, NULL);
                double fd = (lp - lm) / (2 * h);
                CHECK(fabs(fd - g) < 2e-3 * (1 + fabs(g)), "variant %d beta %d token %d: grad %g, fd %g", variant, beta,
                      k, g, fd);
            }
    c.variant = R1_GRPO_GRPO, c.beta = 0;
    /* ρ = e^0.5 > 1.2 with A > 0: clipped, no gradient */
    CHECK(r1_grpo_token_grad(&c, -0.5f, -1.0f, ref, 0.7f, NULL, NULL) == 0.0f, "clipped token has a gradient");
    float kl;
    c.beta = 0.1f;
    r1_grpo_token_grad(&c, -1.0f, -1.0f, -1.0f, 0.5f, NULL, &kl);
    CHECK(kl == 0.0f, "k3 of equal policies %g", kl);
}

/* ---- the weighted log-likelihood backward ---- */

static void fill_tokens(int *tokens, int n, unsigned seed) {
    for (int i = 0; i < n; i++) tokens[i] = (int)((seed * 2654435761u + (unsigned)i * 40503u) % R1_VOCAB_SIZE);
}

/* w = −1/N on the targets gives the cross-entropy gradient, bit for bit close. */
static void test_backward_matches_ce(test_ctx *t) {
    r1_train_config cfg = tiny_model();
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &cfg, 3, &err) == R1_OK, "%s", err.msg);
    enum { B = 2, T = 9 };
    int tokens[B * T], targets[B * T];
    float logp[B * T], w[B * T];
    fill_tokens(tokens, B * T, 5);
    int n = 0;
    for (int i = 0; i < B * T; i++) {
        targets[i] = i % T + 1 < T && i % 3 ? tokens[i + 1] : -1;
        n += targets[i] >= 0;
    }
    float loss;
    r1_train_zero_grad(&m);
    CHECK(r1_train_forward(&m, tokens, targets, B, T, &loss, &err) == R1_OK, "%s", err.msg);
    r1_train_backward(&m);
    float *ce = malloc(m.n_params * sizeof *ce);
    memcpy(ce, m.grads, m.n_params * sizeof *ce);
    float ce_loss = m.ce_loss;
    r1_train_zero_grad(&m);
    CHECK(r1_train_token_logprobs(&m, tokens, B, T, logp, &err) == R1_OK, "%s", err.msg);
    double sum = 0;
    for (int i = 0; i < B * T; i++) {
        w[i] = targets[i] >= 0 ? -1.0f / n : 0.0f;
        sum -= targets[i] >= 0 ? logp[i] : 0;
    }
    CHECK(fabs(sum / n - ce_loss) < 1e-5, "mean −logp %g, ce %g", sum / n, ce_loss);
    r1_train_backward_logprob_weights(&m, w);
    double max_diff = 0, max_abs = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        max_diff = fmax(max_diff, fabs(ce[i] - m.grads[i]));
        max_abs = fmax(max_abs, fabs(ce[i]));
    }
    CHECK(max_abs > 0 && max_diff <= 1e-6 * max_abs, "CE and weighted gradients differ by %g (max %g)", max_diff,
          max_abs);
    free(ce);
    r1_train_model_free(&m);
}

/* Σ w·logp against central differences on parameters of every kind (balance loss
 * off, so the function is exactly Σ w·logp). */
static void test_backward_finite_differences(test_ctx *t) {
    r1_train_config cfg = tiny_model();
    cfg.balance_alpha = 0;
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &cfg, 4, &err) == R1_OK, "%s", err.msg);
    enum { B = 2, T = 7 };
    int tokens[B * T];
    float logp[B * T], w[B * T];
    fill_tokens(tokens, B * T, 9);
    for (int i = 0; i < B * T; i++) w[i] = i % T >= 3 ? 0.5f * (float)((i * 7) % 5 - 2) : 0.0f;
    r1_train_zero_grad(&m);
    CHECK(r1_train_token_logprobs(&m, tokens, B, T, logp, &err) == R1_OK, "%s", err.msg);
    r1_train_backward_logprob_weights(&m, w);
    const char *names[] = {"token_embd.weight", "output.weight", "blk.0.attn_output.weight", "blk.1.ffn_up_shexp.weight",
                           "blk.1.attn_kv_a_mqa.weight"};
    int checked = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        r1_train_tensor *tensor = r1_train_find_tensor(&m, names[k]);
        CHECK(tensor, "no tensor %s", names[k]);
        if (!tensor) continue;
        for (int j = 0; j < 3; j++) {
            size_t at = (size_t)(j * 7919 + (k == 0 ? tokens[3] * cfg.dim : 0)) % tensor->size;
            float saved = tensor->data[at], h = 1e-2f;
            double f[2];
            for (int s = 0; s < 2; s++) {
                tensor->data[at] = saved + (s ? -h : h);
                r1_train_token_logprobs(&m, tokens, B, T, logp, &err);
                f[s] = 0;
                for (int i = 0; i < B * T; i++) f[s] += (double)w[i] * logp[i];
            }
            tensor->data[at] = saved;
            double fd = (f[0] - f[1]) / (2 * h), g = tensor->grad[at];
            CHECK(fabs(fd - g) < 3e-2 * fabs(fd) + 2e-4, "%s[%zu]: grad %g, fd %g", names[k], at, g, fd);
            checked++;
        }
    }
    CHECK(checked == 15, "checked %d", checked);
    r1_train_model_free(&m);
}

/* ---- a run ---- */

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static void test_run_and_resume(test_ctx *t) {
    char pre[PATH_SIZE], full[PATH_SIZE], part[PATH_SIZE], a[2 * PATH_SIZE], b[2 * PATH_SIZE];
    r1_err err;
    r1_pretrain_config pc = r1_pretrain_default_config();
    pc.model = tiny_model();
    pc.data.trace.max_think_bytes = 100, pc.data.trace.max_dead_ends = 1;
    pc.steps = 2, pc.warmup = 0, pc.lr_min = pc.opt.lr;
    r1_pretrain_options po = {.out_dir = tmp_path(pre, "pre"), .quiet = 1};
    r1_pretrain_result pr;
    CHECK(r1_pretrain(&pc, &po, &pr, &err) == R1_OK, "pretrain: %s", err.msg);

    r1_grpo_config c = r1_grpo_default_config();
    c.steps = 3, c.prompts = 2, c.group = 3, c.max_tokens = 24, c.lr = 1e-3f, c.variant = R1_GRPO_DAPO;
    r1_grpo_options go = {.out_dir = tmp_path(full, "full"), .init = pre, .quiet = 1};
    r1_grpo_result res;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(res.finished && res.steps_done == 3, "finished %d after %llu steps", res.finished,
          (unsigned long long)res.steps_done);
    const char *files[] = {"checkpoint.gguf", "metrics.csv", "reward.svg", "length.svg", "model.gguf", "config.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(a, sizeof a, "%s/%s", full, files[i]);
        CHECK(file_size(a) > 0, "%s missing", a);
    }
    snprintf(a, sizeof a, "%s/metrics.csv", full);
    FILE *f = fopen(a, "r");
    int lines = 0;
    for (int ch; f && (ch = fgetc(f)) != EOF;) lines += ch == '\n';
    if (f) fclose(f);
    CHECK(lines == 4, "metrics.csv has %d lines", lines);

    /* stopped after 2, resumed: the same model */
    go.out_dir = tmp_path(part, "part"), go.stop_after = 2;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK && !res.finished && res.steps_done == 2, "stop: %s", err.msg);
    r1_grpo_options ro = {.out_dir = part, .resume = 1, .quiet = 1};
    r1_grpo_config ignored = r1_grpo_default_config();
    CHECK(r1_grpo(&ignored, &ro, &res, &err) == R1_OK && res.finished && res.start_step == 2, "resume: %s", err.msg);
    snprintf(a, sizeof a, "%s/model.gguf", full);
    snprintf(b, sizeof b, "%s/model.gguf", part);
    CHECK(same_file(a, b), "the resumed run ends with another model");
    /* a finished run resumes to nothing; a second run into the same directory is refused */
    CHECK(r1_grpo(&ignored, &ro, &res, &err) == R1_OK && res.was_finished, "resume finished: %s", err.msg);
    go.stop_after = 0;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_ERR && strstr(err.msg, "already holds"), "reuse: %s", err.msg);
    go.init = "/nonexistent/run";
    go.out_dir = tmp_path(a, "other");
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_ERR && strstr(err.msg, "/nonexistent/run"), "bad init: %s", err.msg);
}

int main(void) {
    static const test_entry tests[] = {
        {test_advantages, "advantages"},
        {test_token_grad, "token_grad"},
        {test_backward_matches_ce, "backward_matches_ce"},
        {test_backward_finite_differences, "backward_finite_differences"},
        {test_run_and_resume, "run_and_resume"},
    };
    return test_main("grpo", tests, (int)(sizeof tests / sizeof tests[0]));
}
