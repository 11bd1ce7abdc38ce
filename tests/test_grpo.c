/* `r1 train grpo`: advantages per variant on hand-made rewards, the per-token loss
 * gradient against finite differences, the learning-rate schedule and the settings'
 * strings, the weighted log-likelihood backward against the cross-entropy one and
 * against finite differences, the engine's view of the trainer's parameters against
 * an exported file and the sampler's log-probabilities against the trainer's, the
 * rollout's K samples from one prefill against separate generations, and runs from
 * a tiny pretrained model: every feature on, stopped and resumed to the same end;
 * PPO epochs that make the clip bind; DAPO's dynamic sampling on groups whose
 * rewards are all equal; a start from an exported model.gguf; the routing bias
 * frozen unless asked. */
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test_files.h"

#include "infer/generate.h"
#include "model/state.h"
#include "train/grpo.h"
#include "train/pretrain.h"
#include "train/rollout.h"
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
    const char *search = "26 - 4 = 22, 22 from 51, 81: 81 - 51 = 30. No.\n51 - 26 = 25: 81 - 4 = 77. No.\n"
                         "81 - 26 = 55: 51 + 4 = 55. Yes.\nNo.";
    CHECK(r1_grpo_backtracks(search) == 2, "backtracks %d", r1_grpo_backtracks(search));
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
                r1_grpo_token_terms plus, minus, at;
                float g = r1_grpo_token_grad(&c, now[k], old[k], ref, adv[k], &at);
                double h = 1e-3;
                r1_grpo_token_grad(&c, now[k] + (float)h, old[k], ref, adv[k], &plus);
                r1_grpo_token_grad(&c, now[k] - (float)h, old[k], ref, adv[k], &minus);
                double fd = (plus.loss - minus.loss) / (2 * h);
                CHECK(fabs(fd - g) < 2e-3 * (1 + fabs(g)), "variant %d beta %d token %d: grad %g, fd %g", variant, beta,
                      k, g, fd);
                /* tokens 2 and 3 sit outside the range on the side their A pushes */
                CHECK(at.clipped == (k >= 2), "variant %d token %d: clipped %d", variant, k, at.clipped);
            }
    c.variant = R1_GRPO_GRPO, c.beta = 0;
    /* ρ = e^0.5 > 1.2 with A > 0: clipped, no gradient; the same ρ with A < 0 is not */
    CHECK(r1_grpo_token_grad(&c, -0.5f, -1.0f, ref, 0.7f, NULL) == 0.0f, "clipped token has a gradient");
    r1_grpo_token_terms terms;
    CHECK(r1_grpo_token_grad(&c, -0.5f, -1.0f, ref, -0.7f, &terms) != 0.0f && !terms.clipped, "A < 0 clipped");
    /* clip-higher: ρ = 1.25 is clipped by ε = 0.2, not by dapo's ε_high = 0.28 */
    float log_125 = logf(1.25f) - 1.0f;
    r1_grpo_token_grad(&c, log_125, -1.0f, ref, 0.7f, &terms);
    CHECK(terms.clipped, "grpo: ρ 1.25 not clipped");
    c.variant = R1_GRPO_DAPO;
    r1_grpo_token_grad(&c, log_125, -1.0f, ref, 0.7f, &terms);
    CHECK(!terms.clipped, "dapo: ρ 1.25 clipped under ε_high 0.28");
    c.beta = 0.1f;
    r1_grpo_token_grad(&c, -1.0f, -1.0f, -1.0f, 0.5f, &terms);
    CHECK(terms.kl == 0.0f, "k3 of equal policies %g", terms.kl);
}

/* ---- settings ---- */

static void test_lr_schedule(test_ctx *t) {
    r1_grpo_config c = r1_grpo_default_config();
    c.steps = 10, c.warmup = 4, c.lr = 1e-3f, c.lr_min = 1e-3f;
    const float constant[] = {2.5e-4f, 5e-4f, 7.5e-4f, 1e-3f, 1e-3f, 1e-3f, 1e-3f, 1e-3f, 1e-3f, 1e-3f};
    for (int step = 0; step < 10; step++)
        CHECK(fabsf(r1_grpo_lr(&c, step) - constant[step]) < 1e-9f, "warm-up then constant: step %d lr %g", step,
              r1_grpo_lr(&c, step));
    c.lr_min = 1e-4f;
    /* cosine over steps 4..9: 1e-4 + 9e-4 · (1 + cos(π·(step − 4)/6)) / 2 */
    for (int step = 4; step < 10; step++) {
        double expect = 1e-4 + 9e-4 * 0.5 * (1 + cos(M_PI * (step - 4) / 6.0));
        CHECK(fabs(r1_grpo_lr(&c, step) - expect) < 1e-8, "cosine: step %d lr %g, expected %g", step,
              r1_grpo_lr(&c, step), expect);
    }
    CHECK(r1_grpo_lr(&c, 3) == 1e-3f && r1_grpo_lr(&c, 9) > 1e-4f && r1_grpo_lr(&c, 9) < 2e-4f, "cosine ends %g",
          r1_grpo_lr(&c, 9));
    c.warmup = 0, c.lr_min = c.lr;
    CHECK(r1_grpo_lr(&c, 0) == c.lr && r1_grpo_lr(&c, 9) == c.lr, "no schedule: %g", r1_grpo_lr(&c, 0));

    /* the settings survive their strings (config.txt, checkpoints) */
    r1_grpo_config a = r1_grpo_default_config(), b = r1_grpo_default_config();
    a.variant = R1_GRPO_DR_GRPO, a.task = R1_GRPO_TASK_ARITHMETIC, a.ppo_epochs = 3, a.minibatches = 2;
    a.max_extra = 5, a.warmup = 7, a.lr_min = 3e-6f, a.eval_every = 9, a.eval_n = 11, a.eps_high = 0.3f;
    a.format_reward = 0.25f, a.credit = R1_CREDIT_STEPS;
    char **strings;
    size_t n;
    r1_err err;
    CHECK(r1_grpo_config_to_strings(&a, &strings, &n, &err) == R1_OK, "%s", err.msg);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) ok = r1_grpo_config_set(&b, strings[i], &err) == R1_OK;
    r1_pretrain_config_free_strings(strings, n);
    CHECK(ok, "set: %s", err.msg);
    CHECK(b.variant == a.variant && b.task == a.task && b.ppo_epochs == 3 && b.minibatches == 2 && b.max_extra == 5 &&
              b.warmup == 7 && b.lr_min == a.lr_min && b.eval_every == 9 && b.eval_n == 11 && b.eps_high == a.eps_high &&
              b.format_reward == 0.25f && b.credit == R1_CREDIT_STEPS,
          "settings changed on the way through their strings");
    CHECK(r1_grpo_config_set(&b, "grpo.credit=process", &err) == R1_ERR && strstr(err.msg, "outcome"), "bad credit");
    CHECK(r1_grpo_config_set(&b, "grpo.variant=ppo", &err) == R1_ERR && strstr(err.msg, "ppo"), "bad variant");
    CHECK(r1_grpo_config_set(&b, "grpo.ppo_epochs=two", &err) == R1_ERR && strstr(err.msg, "ppo_epochs"), "bad int");
    CHECK(r1_grpo_config_set(&b, "grpo.task=mix", &err) == R1_OK && b.task == R1_GRPO_TASK_MIX, "%s", err.msg);
    a.variant = (r1_grpo_variant)7;
    CHECK(r1_grpo_config_to_strings(&a, &strings, &n, &err) == R1_ERR && strstr(err.msg, "grpo.variant"),
          "a variant without a name written: %s", err.msg);
    b = r1_grpo_default_config();
    b.lr_min = 2 * b.lr;
    CHECK(r1_grpo_config_check(&b, &err) == R1_ERR && strstr(err.msg, "lr_min"), "lr_min above lr accepted");
    b = r1_grpo_default_config();
    b.ppo_epochs = 0;
    CHECK(r1_grpo_config_check(&b, &err) == R1_ERR && strstr(err.msg, "ppo_epochs"), "0 epochs accepted");
    /* an integer out of range is the only one named */
    b = r1_grpo_default_config();
    b.group = 1;
    CHECK(r1_grpo_config_check(&b, &err) == R1_ERR && !strcmp(err.msg, "grpo: group 1 must be at least 2"), "%s",
          err.msg);
    b = r1_grpo_default_config();
    b.minibatches = b.prompts * b.group + 1;
    CHECK(r1_grpo_config_check(&b, &err) == R1_ERR && strstr(err.msg, "minibatches 65 must be in 1..64 (prompts × group)"),
          "%s", err.msg);
    b = r1_grpo_default_config();
    CHECK(b.format_reward == R1_REWARD_FORMAT, "default format reward %g", b.format_reward);
    b.format_reward = 1;
    CHECK(r1_grpo_config_check(&b, &err) == R1_ERR && strstr(err.msg, "format_reward"), "format reward 1 accepted");
    /* infinities and NaN are named, not taken as large numbers */
    b = r1_grpo_default_config();
    b.temperature = INFINITY;
    CHECK(r1_grpo_config_check(&b, &err) == R1_ERR && strstr(err.msg, "temperature inf"), "temperature inf accepted");
    b = r1_grpo_default_config();
    b.eps_high = NAN;
    CHECK(r1_grpo_config_check(&b, &err) == R1_ERR && strstr(err.msg, "eps_high nan"), "eps_high NaN accepted");
    b = r1_grpo_default_config();
    CHECK(r1_grpo_config_check(&b, &err) == R1_OK, "%s", err.msg);
}

/* ---- credit assignment (credit.h) ---- */

/* The text of the tokens whose share of the advantage is (not) zero. */
static void tokens_text(const r1_tokenizer *tok, const int *ids, const float *per_token, int n, int nonzero,
                        char *out, size_t size) {
    size_t len = 0;
    for (int k = 0; k < n; k++) {
        const char *bytes;
        size_t b;
        if ((per_token[k] != 0) != nonzero || r1_token_to_bytes(tok, ids[k], &bytes, &b) != R1_OK) continue;
        if (len + b < size) memcpy(out + len, bytes, b), len += b;
    }
    out[len] = '\0';
}

/* steps credit puts a wrong answer's advantage on its first false step (to the end
 * of that line), or on the answer when every line is true, or on everything when
 * the completion was cut off; a right answer's on all but its false step; outcome
 * credit and arithmetic give every token the advantage. */
static void test_credit_steps(test_ctx *t) {
    static const char *const false_line = "21, 21 from 65, 93: 93 - 65 = 28. No.\n";
    static const struct {
        const char *text;
        int correct;
        float advantage;
        const char *carried;  /* the text of the tokens that carry it; NULL: every token */
        const char *spared;   /* or of those that do not */
        int cut_off;          /* no EOS: the token limit stopped it */
    } cases[] = {
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 21, 21 from 65, 93: 93 - 65 = 28. No.\n</think>\n<answer>1"
         "</answer>", 0, -1.5f, false_line, NULL, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 21, 21 from 65, 93: 93 - 65 = 28. No.\n 93 - 3 = 90, 90 "
         "from 65, 25: 65 + 25 = 90. Yes.\n</think>\n<answer>48 + 93 - (65 + 25)</answer>", 1, 0.5f, NULL, false_line, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from 65, 93: 93 - 65 = 28. No.\n</think>\n<answer>1"
         "</answer>", 0, -1.0f, "</think>\n<answer>1</answer><｜end▁of▁sentence｜>", NULL, 0},
        {"51 - 48 = 3, 3 from 65, 25, 93:\n 25 - 3 = 22, 22 from", 0, -1.0f, NULL, NULL, 1},
    };
    r1_err err;
    const char *vocab = scratch_path("vocab.gguf");
    r1_tokenizer *tok;
    CHECK(r1_vocab_write_gguf(vocab, &err) == R1_OK && r1_vocab_tokenizer(vocab, &tok, &err) == R1_OK, "%s", err.msg);
    r1_problem p = {.kind = R1_TASK_COUNTDOWN, .numbers = {65, 25, 93, 48}, .n_numbers = 4, .target = 51};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int *ids, n;
        CHECK(r1_tokenize(tok, cases[i].text, strlen(cases[i].text), 0, 1, &ids, &n, &err) == R1_OK, "%s", err.msg);
        int with_eos[512];
        memcpy(with_eos, ids, (size_t)n * sizeof *ids);
        free(ids);
        if (!cases[i].cut_off) with_eos[n++] = r1_tokenizer_eos(tok); /* drawn, as the sampler records it */
        float per_token[512];
        char text[1024];
        r1_credit_check check;
        for (int credit = R1_CREDIT_OUTCOME; credit <= R1_CREDIT_STEPS; credit++) {
            CHECK(r1_credit_assign((r1_credit)credit, tok, &p, with_eos, n, cases[i].correct, cases[i].advantage,
                                   per_token, &check, &err) == R1_OK,
                  "%s", err.msg);
            CHECK(check.checked && check.false_step == (i < 2), "case %zu: checked %d, false step %d", i,
                  check.checked, check.false_step);
            const char *carried = credit == R1_CREDIT_STEPS ? cases[i].carried : NULL;
            const char *spared = credit == R1_CREDIT_STEPS ? cases[i].spared : NULL;
            for (int k = 0; k < n; k++)
                CHECK(per_token[k] == 0 || per_token[k] == cases[i].advantage, "case %zu: token %d carries %g", i, k,
                      per_token[k]);
            tokens_text(tok, with_eos, per_token, n, 0, text, sizeof text);
            if (carried) {
                tokens_text(tok, with_eos, per_token, n, 1, text, sizeof text);
                CHECK(!strcmp(text, carried), "case %zu, %s: carried by \"%s\"", i, credit ? "steps" : "outcome",
                      text);
            } else {
                CHECK(!strcmp(text, spared ? spared : ""), "case %zu, %s: spared \"%s\"", i,
                      credit ? "steps" : "outcome", text);
            }
        }
    }
    /* arithmetic is not checked: outcome credit whatever is asked */
    r1_problem q = {.kind = R1_TASK_ARITHMETIC, .lhs = 2, .op = '+', .rhs = 3, .answer = "5"};
    int ids[3] = {'7', '\n', r1_tokenizer_eos(tok)};
    float per_token[3];
    r1_credit_check check;
    CHECK(r1_credit_assign(R1_CREDIT_STEPS, tok, &q, ids, 3, 0, -1.0f, per_token, &check, &err) == R1_OK, "%s",
          err.msg);
    CHECK(!check.checked && per_token[0] == -1.0f && per_token[2] == -1.0f, "arithmetic: checked %d, %g",
          check.checked, per_token[0]);
    ids[1] = 100000;
    CHECK(r1_credit_assign(R1_CREDIT_STEPS, tok, &p, ids, 3, 0, -1.0f, per_token, &check, &err) == R1_ERR &&
              strstr(err.msg, "100000"),
          "a token outside the vocabulary: %s", err.msg);
    r1_tokenizer_free(tok);
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

/* A batch split into micro-batches, each backward told its share, gets the one
 * balance-loss gradient the whole batch gets (weights zero: only that loss acts). */
static void test_balance_share_of_micro_batches(test_ctx *t) {
    r1_train_config cfg = tiny_model();
    cfg.balance_alpha = 0.5f;
    r1_train_model m;
    r1_err err;
    CHECK(r1_train_model_init(&m, &cfg, 6, &err) == R1_OK, "%s", err.msg);
    enum { B = 2, T = 8 };
    int tokens[B * T];
    float logp[B * T], w[B * T] = {0};
    fill_tokens(tokens, B * T, 11);
    r1_train_zero_grad(&m);
    CHECK(r1_train_token_logprobs(&m, tokens, B, T, logp, &err) == R1_OK, "%s", err.msg);
    r1_train_backward_logprob_weights(&m, w);
    float *whole = malloc(m.n_params * sizeof *whole);
    memcpy(whole, m.grads, m.n_params * sizeof *whole);
    r1_train_zero_grad(&m);
    for (int b = 0; b < B; b++) {
        CHECK(r1_train_token_logprobs(&m, tokens + b * T, 1, T, logp, &err) == R1_OK, "%s", err.msg);
        m.balance_share = 1.0f / B;
        r1_train_backward_logprob_weights(&m, w);
    }
    double max_diff = 0, max_abs = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        max_diff = fmax(max_diff, fabs(whole[i] - m.grads[i]));
        max_abs = fmax(max_abs, fabs(whole[i]));
    }
    CHECK(max_abs > 0 && max_diff <= 1e-5 * max_abs, "split batch's balance gradient differs by %g (max %g)",
          max_diff, max_abs);
    free(whole);
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

/* ---- the engine over the trainer's parameters ---- */

enum { V = R1_VOCAB_SIZE };

/* n greedy tokens after prompt, each step's logits (V) into logits (n × V). */
static int greedy(const r1_model *m, r1_compute *compute, const int *prompt, int n_prompt, int n, int *out,
                  float *logits, r1_err *err) {
    r1_state st;
    if (r1_state_init(&st, m, compute, n_prompt + n, 64, err) != R1_OK) return R1_ERR;
    int rc = r1_forward(&st, prompt, n_prompt, logits, 0, err);
    for (int i = 0; i < n && rc == R1_OK; i++) {
        out[i] = r1_argmax(logits + (size_t)i * V, V);
        if (i + 1 < n) rc = r1_forward(&st, &out[i], 1, logits + (size_t)(i + 1) * V, 0, err);
    }
    r1_state_free(&st);
    return rc;
}

/* A freshly initialised tiny trainer model and the engine's view of it. */
typedef struct {
    r1_train_config cfg;
    r1_train_model m;
    r1_compute compute;
    r1_model view;
} viewed_model;

static int viewed_model_init(viewed_model *v, uint64_t seed, int threads, r1_err *err) {
    v->cfg = tiny_model();
    if (r1_train_model_init(&v->m, &v->cfg, seed, err) != R1_OK) return R1_ERR;
    if (r1_compute_init(&v->compute, threads) != R1_OK) return r1_fail(err, "cannot start %d threads", threads);
    return r1_train_model_view(&v->m, &v->view, err);
}

static void viewed_model_free(viewed_model *v) {
    r1_model_free(&v->view);
    r1_compute_free(&v->compute);
    r1_train_model_free(&v->m);
}

/* The view computes what the exported file does, bit for bit, and follows updates
 * of the parameters and of the expert bias in place. */
static void test_engine_view(test_ctx *t) {
    viewed_model v;
    r1_err err;
    CHECK(viewed_model_init(&v, 7, 2, &err) == R1_OK, "%s", err.msg);
    r1_train_model *m = &v.m;
    const int n_bias = v.cfg.n_layers * v.cfg.n_experts;
    for (int i = 0; i < n_bias; i++) m->expert_bias[i] = 0.01f * (float)(i % 5 - 2);
    enum { N_PROMPT = 5, N = 12 };
    const int prompt[N_PROMPT] = {R1_VOCAB_BOS, R1_VOCAB_USER, '7', '+', R1_VOCAB_ASSISTANT};
    static float view_logits[2][N * V], file_logits[N * V];
    int view_tokens[N], file_tokens[N];
    for (int round = 0; round < 2; round++) {
        r1_model file;
        const char *path = scratch_path(round ? "view1.gguf" : "view0.gguf");
        CHECK(r1_train_export_gguf(m, path, NULL, &err) == R1_OK, "%s", err.msg);
        CHECK(r1_model_load(&file, path, &err) == R1_OK, "%s", err.msg);
        CHECK(!memcmp(&file.hp, &v.view.hp, sizeof file.hp), "round %d: the view's hyper-parameters differ", round);
        CHECK(greedy(&v.view, &v.compute, prompt, N_PROMPT, N, view_tokens, view_logits[round], &err) == R1_OK &&
                  greedy(&file, &v.compute, prompt, N_PROMPT, N, file_tokens, file_logits, &err) == R1_OK,
              "%s", err.msg);
        CHECK(!memcmp(view_tokens, file_tokens, sizeof view_tokens), "round %d: the view decodes other tokens", round);
        CHECK(!memcmp(view_logits[round], file_logits, sizeof file_logits), "round %d: the view's logits differ",
              round);
        r1_model_free(&file);
        /* an optimizer step, as the trainer takes it: in place */
        for (size_t i = 0; i < m->n_params; i++) m->params[i] += 0.02f * sinf((float)i);
        for (int i = 0; i < n_bias; i++) m->expert_bias[i] += 0.05f * (float)(i % 3 - 1);
    }
    CHECK(memcmp(view_logits[0], view_logits[1], sizeof file_logits), "the view did not follow the update");
    viewed_model_free(&v);
}

/* The log π_old the sampler records is the trainer's log π of the same tokens, up
 * to the rounding of two summation orders. */
/* A viewed model with a cache of seq_len tokens and the byte-level tokenizer: what
 * grpo samples with. */
typedef struct {
    viewed_model v;
    r1_state st;
    r1_tokenizer *tok;
} sampling_model;

static int sampling_model_init(sampling_model *sm, uint64_t seed, r1_err *err) {
    memset(sm, 0, sizeof *sm);
    const char *vocab = scratch_path("vocab.gguf");
    if (r1_vocab_write_gguf(vocab, err) != R1_OK || r1_vocab_tokenizer(vocab, &sm->tok, err) != R1_OK ||
        viewed_model_init(&sm->v, seed, 1, err) != R1_OK)
        return R1_ERR;
    return r1_state_init(&sm->st, &sm->v.view, &sm->v.compute, sm->v.cfg.seq_len, 64, err);
}

static void sampling_model_free(sampling_model *sm) {
    r1_state_free(&sm->st);
    viewed_model_free(&sm->v);
    r1_tokenizer_free(sm->tok);
}

static void test_sampler_logprobs(test_ctx *t) {
    sampling_model sm;
    r1_err err;
    CHECK(sampling_model_init(&sm, 8, &err) == R1_OK, "%s", err.msg);
    viewed_model *v = &sm.v;
    enum { N_PROMPT = 6 };
    const int prompt[N_PROMPT] = {R1_VOCAB_BOS, R1_VOCAB_USER, '1', '?', R1_VOCAB_ASSISTANT, R1_VOCAB_THINK};
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling.temperature = 1.3f, gp.sampling.top_k = 0, gp.sampling.top_p = 1.0f, gp.sampling.min_p = 0.0f;
    gp.sampling.seed = 3, gp.max_tokens = 40, gp.logprobs = 1;
    r1_generation g;
    CHECK(r1_generate(&sm.st, sm.tok, prompt, N_PROMPT, &gp, &g, &err) == R1_OK, "%s", err.msg);
    int n = g.n_tokens + g.stopped_at_eos, T = N_PROMPT + n, row[128];
    float logp[128];
    CHECK(n > 10 && g.tokens && g.logprobs && T <= 128, "%d tokens drawn", n);
    memcpy(row, prompt, sizeof prompt);
    memcpy(row + N_PROMPT, g.tokens, (size_t)n * sizeof(int));
    CHECK(r1_train_token_logprobs(&v->m, row, 1, T, logp, &err) == R1_OK, "%s", err.msg);
    double max_diff = 0;
    for (int k = 0; k < n; k++) max_diff = fmax(max_diff, fabs(logp[N_PROMPT - 1 + k] - g.logprobs[k]));
    CHECK(max_diff < 1e-4, "sampler and trainer log-probs differ by %g", max_diff);
    r1_generation_free(&g);
    sampling_model_free(&sm);
}

/* K samples drawn from one prefilled prompt are the K generations run from the
 * prompt each, and are scored; a prompt longer than the context fails, leaving
 * nothing to free. */
static void test_rollout_sample(test_ctx *t) {
    sampling_model sm;
    r1_err err;
    CHECK(sampling_model_init(&sm, 9, &err) == R1_OK, "%s", err.msg);
    r1_state *st = &sm.st;
    const r1_tokenizer *tok = sm.tok;
    r1_problem problem;
    CHECK(r1_task_generate(R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, 0, 1, &problem) == R1_OK, "no problem");
    int *ids = NULL, n_ids = 0;
    CHECK(r1_rollout_prompt(tok, R1_CHAT_DEEPSEEK_R1, &problem, &ids, &n_ids, &err) == R1_OK, "%s", err.msg);
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling.temperature = 1.0f, gp.max_tokens = 24, gp.logprobs = 1;
    enum { K = 3 };
    const uint64_t seeds[K] = {11, 12, 13};
    r1_generation samples[K];
    r1_reward rewards[K];
    r1_sequences q = {0}; /* the caches of samples 2 and 3, decoded beside the first */
    CHECK(r1_rollout_sample(st, &q, tok, &problem, ids, n_ids, &gp, seeds, K, samples, rewards, &err) == R1_OK, "%s",
          err.msg);
    for (int j = 0; j < K; j++) {
        r1_generation alone;
        gp.sampling.seed = seeds[j];
        CHECK(r1_generate(st, tok, ids, n_ids, &gp, &alone, &err) == R1_OK, "%s", err.msg);
        CHECK(alone.n_tokens == samples[j].n_tokens && !strcmp(alone.text, samples[j].text) &&
                  !memcmp(alone.logprobs, samples[j].logprobs,
                          (size_t)(alone.n_tokens + alone.stopped_at_eos) * sizeof(float)),
              "sample %d differs from its own generation", j + 1);
        r1_reward reward;
        r1_task_reward(&problem, alone.text, &reward);
        CHECK(reward.reward == rewards[j].reward, "sample %d scored %g, not %g", j + 1, rewards[j].reward,
              reward.reward);
        r1_generation_free(&alone);
        r1_generation_free(&samples[j]);
    }
    int too_long[200] = {0};
    CHECK(r1_rollout_sample(st, &q, tok, &problem, too_long, 200, &gp, seeds, K, samples, rewards, &err) == R1_ERR,
          "a prompt of 200 tokens fitted a context of %d", sm.v.cfg.seq_len);
    r1_sequences_free(&q);
    free(ids);
    sampling_model_free(&sm);
}

/* ---- runs ---- */

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

static const char *in_dir(const char *dir, const char *name) {
    static char paths[4][2 * PATH_SIZE];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 2 * PATH_SIZE, "%s/%s", dir, name);
    return path;
}

static void pretrain(test_ctx *t, char *dir) {
    r1_pretrain_config pc = r1_pretrain_default_config();
    pc.model = tiny_model();
    pc.data.trace.max_think_bytes = 100, pc.data.trace.max_dead_ends = 1;
    pc.steps = 200, pc.warmup = 10, pc.opt.lr = 1e-2f, pc.lr_min = 1e-3f;
    r1_pretrain_options po = {.out_dir = tmp_path(dir, "pre"), .quiet = 1};
    r1_pretrain_result pr;
    r1_err err;
    CHECK(r1_pretrain(&pc, &po, &pr, &err) == R1_OK, "pretrain: %s", err.msg);
}

/* A tiny model pretrained once for the runs: long enough that its samples are
 * sometimes well-formed (reward 0.1) and sometimes not, so groups have advantages. */
static const char *pretrained(test_ctx *t) {
    static char dir[PATH_SIZE];
    if (!dir[0]) pretrain(t, dir);
    return dir;
}

static r1_grpo_config small_run(void) {
    r1_grpo_config c = r1_grpo_default_config();
    c.task = R1_GRPO_TASK_ARITHMETIC;
    c.steps = 3, c.prompts = 2, c.group = 4, c.max_tokens = 100, c.lr = c.lr_min = 1e-3f;
    return c;
}

/* metrics.csv without its two timing columns (sample_seconds, seconds). */
static char *metrics_without_times(const char *dir) {
    size_t size;
    char *text = read_file(in_dir(dir, "metrics.csv"), &size), *out = text;
    if (!text) return NULL;
    for (char *line = text, *next; *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : line + strlen(line);
        char *end = nl ? nl : next, *cut = end;
        for (int commas = 0; cut > line && commas < 2; cut--) commas += cut[-1] == ',';
        size_t keep = (size_t)(cut - line);
        memmove(out, line, keep);
        out += keep;
        *out++ = '\n';
    }
    *out = 0;
    return text;
}

/* Every feature on (dapo with dynamic sampling, 2 epochs of 2 minibatches,
 * warm-up and cosine, evaluation every 2 steps): the files, the evaluation rows,
 * a model that moved, and a run stopped after 2 steps and resumed that ends with
 * the same model and the same metrics. */
static void test_run_and_resume(test_ctx *t) {
    char full[PATH_SIZE], part[PATH_SIZE], other[PATH_SIZE];
    const char *pre = pretrained(t);
    r1_err err;
    r1_grpo_config c = small_run();
    c.variant = R1_GRPO_DAPO, c.max_extra = 4, c.ppo_epochs = 2, c.minibatches = 2;
    c.warmup = 1, c.lr_min = 5e-4f, c.eval_every = 2, c.eval_n = 3;
    r1_grpo_options go = {.out_dir = tmp_path(full, "full"), .init = pre, .quiet = 1};
    r1_grpo_result res;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(res.finished && res.steps_done == 3, "finished %d after %llu steps", res.finished,
          (unsigned long long)res.steps_done);
    const char *files[] = {"checkpoint.gguf", "metrics.csv", "reward.svg", "accuracy.svg",
                           "length.svg",      "reflect.svg", "backtrack.svg", "model.gguf", "config.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        CHECK(access(in_dir(full, files[i]), F_OK) == 0, "%s missing", files[i]);
    CHECK(access(in_dir(full, "policy.gguf"), F_OK) != 0, "the policy went through a file");
    CHECK(!same_file(in_dir(pre, "model.gguf"), in_dir(full, "model.gguf")), "training left the model as it was");

    /* header, the starting model's row 0, steps 1..3; test_accuracy (the third
     * field from the end) at steps 0, 2 and 3 only */
    char *csv = metrics_without_times(full);
    CHECK(csv, "no metrics.csv");
    int lines = 0, evaluated = 0;
    for (char *line = csv; csv && *line; lines++) {
        char *nl = strchr(line, '\n'), *last = nl;
        while (last > line && last[-1] != ',') last--;
        if (lines > 0) evaluated |= (strncmp(last, "nan", 3) && strncmp(last, "-nan", 4)) << atoi(line);
        line = nl + 1;
    }
    CHECK(lines == 5 && evaluated == (1 << 0 | 1 << 2 | 1 << 3), "%d lines, evaluated at steps mask %#x", lines,
          evaluated);
    CHECK(!isnan(res.first_test_accuracy) && !isnan(res.last_test_accuracy), "no test accuracy in the result");
    size_t size;
    char *svg = read_file(in_dir(full, "accuracy.svg"), &size);
    CHECK(svg && strstr(svg, "test_accuracy") && strstr(svg, "<circle"), "accuracy.svg lacks the step-0 dot");
    free(svg);

    /* stopped after 2, resumed: the same model and the same metrics */
    go.out_dir = tmp_path(part, "part"), go.stop_after = 2;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK && !res.finished && res.steps_done == 2, "stop: %s", err.msg);
    r1_grpo_options ro = {.out_dir = part, .resume = 1, .quiet = 1};
    r1_grpo_config ignored = r1_grpo_default_config();
    CHECK(r1_grpo(&ignored, &ro, &res, &err) == R1_OK && res.finished && res.start_step == 2, "resume: %s", err.msg);
    CHECK(same_file(in_dir(full, "model.gguf"), in_dir(part, "model.gguf")), "the resumed run ends with another model");
    char *resumed = metrics_without_times(part);
    CHECK(csv && resumed && !strcmp(csv, resumed), "the resumed run logged other metrics:\n%s\nvs\n%s", csv, resumed);
    free(resumed);
    /* stopped during the starting model's evaluation: no score, no step; resumed,
     * the evaluation runs again and its row is logged once */
    char early[PATH_SIZE];
    volatile sig_atomic_t stop = 1;
    go.out_dir = tmp_path(early, "early"), go.stop_after = 0, go.interrupted = &stop;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK && !res.finished && res.steps_done == 0 &&
              isnan(res.first_test_accuracy),
          "stop in the first evaluation: %s", err.msg);
    ro.out_dir = early;
    CHECK(r1_grpo(&ignored, &ro, &res, &err) == R1_OK && res.finished && res.start_step == 0, "resume: %s", err.msg);
    resumed = metrics_without_times(early);
    CHECK(csv && resumed && !strcmp(csv, resumed), "resumed from step 0, other metrics:\n%s\nvs\n%s", csv, resumed);
    free(resumed);
    free(csv);
    ro.out_dir = part, go.interrupted = NULL;
    /* a finished run resumes to nothing; a second run into the same directory is refused */
    CHECK(r1_grpo(&ignored, &ro, &res, &err) == R1_OK && res.was_finished, "resume finished: %s", err.msg);
    go.stop_after = 0;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_ERR && strstr(err.msg, "already holds"), "reuse: %s", err.msg);
    go.init = "/nonexistent/run";
    go.out_dir = tmp_path(other, "other");
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_ERR && strstr(err.msg, "/nonexistent/run"), "bad init: %s", err.msg);
}

/* One sampled batch, one pass: π = π_old, nothing is clipped. Three passes at a
 * high rate: the policy moves away from π_old and the clip binds. */
static void test_ppo_epochs(test_ctx *t) {
    char dir[PATH_SIZE];
    const char *pre = pretrained(t);
    r1_err err;
    r1_grpo_config c = small_run();
    c.steps = 1, c.beta = 0, c.lr = c.lr_min = 1e-2f;
    r1_grpo_options go = {.out_dir = tmp_path(dir, "epochs1"), .init = pre, .quiet = 1};
    r1_grpo_result res;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(res.last_clip_fraction == 0, "one pass clipped %g of the tokens", res.last_clip_fraction);
    c.ppo_epochs = 3;
    go.out_dir = tmp_path(dir, "epochs3");
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(res.last_clip_fraction > 0 && res.last_clip_fraction < 1, "three passes clipped %g of the tokens",
          res.last_clip_fraction);
}

/* Completions of at most 2 tokens are never well-formed: every reward is 0, every
 * group uninformative. dapo drops each, draws max_extra more, and takes no step;
 * grpo keeps them. */
static void test_dapo_dynamic_sampling(test_ctx *t) {
    char dir[PATH_SIZE];
    const char *pre = pretrained(t);
    r1_err err;
    r1_grpo_config c = small_run();
    c.steps = 1, c.max_tokens = 2, c.variant = R1_GRPO_DAPO, c.max_extra = 3;
    r1_grpo_options go = {.out_dir = tmp_path(dir, "dapo"), .init = pre, .quiet = 1};
    r1_grpo_result res;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(res.last_reward == 0, "reward %g", res.last_reward);
    CHECK(res.last_dropped_groups == 5 && res.last_extra_groups == 3, "dapo dropped %d groups, drew %d more",
          res.last_dropped_groups, res.last_extra_groups);
    CHECK(same_file(in_dir(pre, "model.gguf"), in_dir(dir, "model.gguf")), "a step without a group changed the model");
    c.variant = R1_GRPO_GRPO;
    go.out_dir = tmp_path(dir, "grpo");
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(res.last_dropped_groups == 0 && res.last_extra_groups == 0, "grpo dropped %d groups, drew %d more",
          res.last_dropped_groups, res.last_extra_groups);
}

/* The reward column is accuracy plus format_reward per well-formed wrong answer:
 * with 0 the two agree, with 0.5 the small model's well-formed misses show. */
static void test_format_reward(test_ctx *t) {
    char dir[PATH_SIZE];
    const char *pre = pretrained(t);
    r1_err err;
    r1_grpo_config c = small_run();
    c.steps = 1, c.format_reward = 0;
    r1_grpo_options go = {.out_dir = tmp_path(dir, "format0"), .init = pre, .quiet = 1};
    r1_grpo_result none, half;
    CHECK(r1_grpo(&c, &go, &none, &err) == R1_OK, "grpo: %s", err.msg);
    c.format_reward = 0.5f;
    go.out_dir = tmp_path(dir, "format05");
    CHECK(r1_grpo(&c, &go, &half, &err) == R1_OK, "grpo: %s", err.msg);
    printf("  format reward 0: reward %.3f accuracy %.3f; 0.5: reward %.3f accuracy %.3f\n", none.last_reward,
           none.last_accuracy, half.last_reward, half.last_accuracy);
    CHECK(fabs(none.last_reward - none.last_accuracy) < 1e-9, "format reward 0 paid %g beyond accuracy %g",
          none.last_reward, none.last_accuracy);
    CHECK(half.last_reward > half.last_accuracy + 0.1, "format reward 0.5: reward %g, accuracy %g", half.last_reward,
          half.last_accuracy);
}

/* A Countdown run with steps credit logs the share of samples with a false step,
 * and the credit changes the update (the small model's answers are all wrong, so
 * with a format reward the advantages are not all zero). */
static void test_credit_run(test_ctx *t) {
    char dir[PATH_SIZE], other[PATH_SIZE];
    const char *pre = pretrained(t);
    r1_err err;
    r1_grpo_config c = small_run();
    c.steps = 1, c.task = R1_GRPO_TASK_COUNTDOWN, c.format_reward = 0.5f;
    r1_grpo_options go = {.out_dir = tmp_path(dir, "credit-outcome"), .init = pre, .quiet = 1};
    r1_grpo_result res;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    c.credit = R1_CREDIT_STEPS;
    go.out_dir = tmp_path(other, "credit-steps");
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(!same_file(in_dir(dir, "model.gguf"), in_dir(other, "model.gguf")), "steps credit changed nothing");
    size_t size;
    char *csv = read_file(in_dir(other, "metrics.csv"), &size);
    CHECK(csv, "no metrics.csv");
    const char *row = strstr(csv, "\n1,");
    double share = -1;
    /* the fifth column after step: reward, accuracy, length, reflect, false_step */
    if (row) sscanf(row + 3, "%*[^,],%*[^,],%*[^,],%*[^,],%lf", &share);
    free(csv);
    CHECK(share >= 0 && share <= 1, "false_step %g", share);
}

/* 1 when the MoE layer's selection bias (blk.1.exp_probs_b.bias) is the same in
 * two exported models, 0 when it differs, -1 when a file or the tensor is missing. */
static int same_expert_bias(const char *path_a, const char *path_b) {
    r1_gguf a, b;
    r1_err err;
    if (r1_gguf_open(&a, path_a, &err) != R1_OK) return -1;
    if (r1_gguf_open(&b, path_b, &err) != R1_OK) return r1_gguf_close(&a), -1;
    const r1_gguf_tensor *ta = r1_gguf_find_tensor(&a, "blk.1.exp_probs_b.bias"),
                         *tb = r1_gguf_find_tensor(&b, "blk.1.exp_probs_b.bias");
    int same = !ta || !tb || ta->nbytes != tb->nbytes ? -1 : memcmp(ta->data, tb->data, ta->nbytes) == 0;
    r1_gguf_close(&a);
    r1_gguf_close(&b);
    return same;
}

/* The routing bias stays as pretraining left it unless --bias-gamma asks (the
 * weights move either way). */
static void test_routing_bias_frozen(test_ctx *t) {
    char dir[PATH_SIZE];
    const char *pre = pretrained(t);
    r1_err err;
    r1_grpo_config c = small_run();
    c.steps = 2;
    r1_grpo_options go = {.out_dir = tmp_path(dir, "bias-frozen"), .init = pre, .quiet = 1};
    r1_grpo_result res;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(!same_file(in_dir(pre, "model.gguf"), in_dir(dir, "model.gguf")), "training left the model as it was");
    CHECK(same_expert_bias(in_dir(pre, "model.gguf"), in_dir(dir, "model.gguf")) == 1, "the routing bias moved");
    c.bias_gamma = 1e-2f;
    go.out_dir = tmp_path(dir, "bias-updated");
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK, "grpo: %s", err.msg);
    CHECK(same_expert_bias(in_dir(pre, "model.gguf"), in_dir(dir, "model.gguf")) == 0,
          "--bias-gamma 0.01 left the routing bias as it was");
}

/* --init takes an exported model as well as a run directory (init_weights.h). */
static void test_init_from_model(test_ctx *t) {
    char dir[PATH_SIZE];
    const char *pre = pretrained(t);
    r1_err err;
    r1_grpo_config c = small_run();
    c.steps = 1;
    r1_grpo_options go = {.out_dir = tmp_path(dir, "from-model"), .init = in_dir(pre, "model.gguf"), .quiet = 1};
    r1_grpo_result res;
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_OK && res.finished, "grpo: %s", err.msg);
    go.out_dir = tmp_path(dir, "from-config"), go.init = in_dir(pre, "config.txt");
    CHECK(r1_grpo(&c, &go, &res, &err) == R1_ERR && strstr(err.msg, "config.txt"), "a text file as init: %s",
          err.msg);
}

int main(void) {
    static const test_entry tests[] = {
        {test_advantages, "advantages"},
        {test_token_grad, "token_grad"},
        {test_lr_schedule, "lr_schedule"},
        {test_backward_matches_ce, "backward_matches_ce"},
        {test_backward_finite_differences, "backward_finite_differences"},
        {test_balance_share_of_micro_batches, "balance_share_of_micro_batches"},
        {test_engine_view, "engine_view"},
        {test_sampler_logprobs, "sampler_logprobs"},
        {test_rollout_sample, "rollout_sample"},
        {test_run_and_resume, "run_and_resume"},
        {test_ppo_epochs, "ppo_epochs"},
        {test_dapo_dynamic_sampling, "dapo_dynamic_sampling"},
        {test_init_from_model, "init_from_model"},
        {test_routing_bias_frozen, "routing_bias_frozen"},
        {test_format_reward, "format_reward"},
        {test_credit_steps, "credit_steps"},
        {test_credit_run, "credit_run"},
    };
    return test_main("grpo", tests, (int)(sizeof tests / sizeof tests[0]));
}
