/* `r1 train pretrain`: the base model from search traces (see pretrain.h). */
#include "train/pretrain.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/lm_run.h"
#include "train/settings.h"
#include "train/vocab.h"

/* ---- settings as key=value ---- */

#define F(key, type, member) R1_SETTING(key, R1_SETTING_##type, r1_pretrain_config, member)
static const char *const precision_names[] = {"f32", "bf16", NULL}; /* r1_linear_precision */
static const r1_setting fields[] = {
    F("vocab", INT, model.vocab),
    F("dim", INT, model.dim),
    F("layers", INT, model.n_layers),
    F("dense_layers", INT, model.n_dense_layers),
    F("heads", INT, model.n_heads),
    F("q_lora_rank", INT, model.q_lora_rank),
    F("kv_lora_rank", INT, model.kv_lora_rank),
    F("qk_nope", INT, model.qk_nope),
    F("qk_rope", INT, model.qk_rope),
    F("v_head", INT, model.v_head),
    F("ffn_dim", INT, model.ffn_dim),
    F("experts", INT, model.n_experts),
    F("top_k", INT, model.top_k),
    F("shared_experts", INT, model.n_shared),
    F("expert_ffn", INT, model.expert_ffn),
    F("groups", INT, model.n_groups),
    F("groups_used", INT, model.n_groups_used),
    F("route_scale", FLOAT, model.route_scale),
    F("rope_base", FLOAT, model.rope_base),
    F("norm_eps", FLOAT, model.norm_eps),
    F("seq", INT, model.seq_len),
    F("batch", INT, model.batch),
    F("balance_alpha", FLOAT, model.balance_alpha),
    F("bias_gamma", FLOAT, model.bias_gamma),
    F("init_std", FLOAT, model.init_std),
    F("mtp_weight", FLOAT, model.mtp_weight),
    R1_SETTING_NAMED("precision", r1_pretrain_config, model.precision, precision_names),
    F("seed", U64, data.seed),
    F("countdown_share", DOUBLE, data.countdown_share),
    F("chain_share", DOUBLE, data.chain_share),
    F("small_share", DOUBLE, data.small_share),
    F("small_countdown_share", DOUBLE, data.small_countdown_share),
    F("all_small_countdown_share", DOUBLE, data.all_small_countdown_share),
    F("prompt_loss", INT, data.prompt_loss),
    F("trace_max_think_bytes", INT, data.trace.max_think_bytes),
    F("trace_max_dead_ends", INT, data.trace.max_dead_ends),
    F("trace_wrong_share", DOUBLE, data.trace.wrong_share),
    F("trace_hasty_share", DOUBLE, data.trace.hasty_share),
    F("trace_hasty_lines", INT, data.trace.hasty_lines),
    F("trace_marked_rest", INT, data.trace.marked_rest),
    F("trace_compare", INT, data.trace.compare),
    F("trace_slip_on_hit", INT, data.trace.slip_on_hit),
    F("trace_give_up", INT, data.trace.give_up),
    F("trace_difference", INT, data.trace.difference),
    F("trace_remainders", INT, data.trace.remainders),
    F("trace_multiply_back", INT, data.trace.multiply_back),
    F("steps", INT, steps),
    F("warmup", INT, warmup),
    F("lr", FLOAT, opt.lr),
    F("lr_min", FLOAT, lr_min),
    F("beta1", FLOAT, opt.beta1),
    F("beta2", FLOAT, opt.beta2),
    F("adam_eps", FLOAT, opt.eps),
    F("weight_decay", FLOAT, opt.weight_decay),
    F("clip", FLOAT, clip),
    F("log_every", INT, log_every),
    F("init", STRING, init),
};
#undef F
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

r1_pretrain_config r1_pretrain_default_config(void) {
    r1_pretrain_config c = {
        .model = r1_train_config_default(),
        .data = r1_data_default_config(),
        .steps = 2000,
        .warmup = 100,
        .opt = {.lr = 2e-3f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f},
        .lr_min = 2e-4f,
        .clip = 1.0f,
        .log_every = 1,
    };
    c.model.vocab = R1_VOCAB_SIZE;
    c.model.seq_len = 512;
    c.model.batch = 8;
    return c;
}

int r1_pretrain_config_to_strings(const r1_pretrain_config *cfg, char ***strings, size_t *n, r1_err *err) {
    *strings = NULL;
    *n = 0;
    return r1_settings_append(fields, N_FIELDS, cfg, strings, n, err);
}

void r1_pretrain_config_free_strings(char **strings, size_t n) { r1_settings_free_strings(strings, n); }

int r1_pretrain_config_set(r1_pretrain_config *cfg, const char *key_value, r1_err *err) {
    int found;
    return r1_settings_set(fields, N_FIELDS, cfg, "pretrain", key_value, &found, err);
}

int r1_pretrain_config_check(const r1_pretrain_config *cfg, r1_err *err) {
    if (cfg->model.vocab != R1_VOCAB_SIZE)
        return r1_fail(err, "pretrain: vocab %d, but the byte-level vocabulary has %d tokens", cfg->model.vocab,
                       R1_VOCAB_SIZE);
    if (r1_train_config_check(&cfg->model, err) != R1_OK) return R1_ERR;
    if (cfg->steps < 1) return r1_fail(err, "pretrain: steps %d must be at least 1", cfg->steps);
    if (cfg->warmup < 0) return r1_fail(err, "pretrain: warmup %d is negative", cfg->warmup);
    if (cfg->log_every < 1) return r1_fail(err, "pretrain: log_every %d must be at least 1", cfg->log_every);
    if (!(cfg->opt.lr >= 0) || !isfinite(cfg->opt.lr)) /* before lr_min, whose range it sets */
        return r1_fail(err, "pretrain: lr %g must be finite and ≥ 0", cfg->opt.lr);
    if (!(cfg->lr_min >= 0 && cfg->lr_min <= cfg->opt.lr))
        return r1_fail(err, "pretrain: lr_min %g must be in 0..lr (%g)", cfg->lr_min, cfg->opt.lr);
    if (!(cfg->clip >= 0)) return r1_fail(err, "pretrain: clip %g must be ≥ 0", cfg->clip);
    if (!(cfg->data.countdown_share >= 0 && cfg->data.countdown_share <= 1))
        return r1_fail(err, "pretrain: countdown_share %g is outside 0..1", cfg->data.countdown_share);
    if (!(cfg->data.chain_share >= 0 && cfg->data.chain_share <= 1))
        return r1_fail(err, "pretrain: chain_share %g is outside 0..1", cfg->data.chain_share);
    if (!(cfg->data.small_share >= 0 && cfg->data.small_share <= 1))
        return r1_fail(err, "pretrain: small_share %g is outside 0..1", cfg->data.small_share);
    if (!(cfg->data.small_countdown_share >= 0 && cfg->data.small_countdown_share <= 1))
        return r1_fail(err, "pretrain: small_countdown_share %g is outside 0..1", cfg->data.small_countdown_share);
    if (!(cfg->data.all_small_countdown_share >= 0 && cfg->data.all_small_countdown_share <= 1))
        return r1_fail(err, "pretrain: all_small_countdown_share %g is outside 0..1",
                       cfg->data.all_small_countdown_share);
    if (cfg->data.prompt_loss != 0 && cfg->data.prompt_loss != 1)
        return r1_fail(err, "pretrain: prompt_loss %d must be 0 or 1", cfg->data.prompt_loss);
    if (r1_trace_config_check(&cfg->data.trace, err) != R1_OK) return r1_fail_within(err, "pretrain: ");
    r1_adamw probe;
    if (r1_adamw_init(&probe, 1, cfg->opt, err) != R1_OK) return R1_ERR;
    r1_adamw_free(&probe);
    return R1_OK;
}

/* ---- the run ---- */

static int set_setting(void *cfg, const char *key_value, r1_err *err) {
    return r1_pretrain_config_set(cfg, key_value, err);
}

int r1_pretrain(const r1_pretrain_config *cfg_in, const r1_pretrain_options *opts, r1_pretrain_result *res,
                r1_err *err) {
    memset(res, 0, sizeof *res);
    r1_pretrain_config cfg = *cfg_in;
    r1_lm_run run;
    r1_init_weights init;
    int have_init = 0, rc = R1_ERR;
    char **settings = NULL;
    size_t n_settings = 0;
    memset(&run, 0, sizeof run);
    if (!opts->resume) {
        if (r1_lm_run_open_init(&cfg, &init, &have_init, err) != R1_OK) return R1_ERR;
        /* a bad setting creates no directory */
        if (r1_pretrain_config_check(&cfg, err) != R1_OK) goto done;
    }
    if (r1_lm_run_open(&run, "pretrain", opts->out_dir, opts->resume, err) != R1_OK) goto done;
    if (opts->resume) {
        cfg = r1_pretrain_default_config();
        if (r1_lm_run_read_settings(&run, set_setting, &cfg, err) != R1_OK) goto done;
    }
    run.threads = opts->threads;
    if (r1_lm_run_build(&run, &cfg, err) != R1_OK) goto done;
    if (have_init && r1_init_weights_load(&init, &run.model, err) != R1_OK) goto done;
    if (!r1_lm_run_is_finished(&run, &cfg) &&
        r1_data_init(&run.data, run.tok, &cfg.data, cfg.model.batch, cfg.model.seq_len, err) != R1_OK)
        goto done;
    if (r1_pretrain_config_to_strings(&cfg, &settings, &n_settings, err) != R1_OK) goto done;
    rc = r1_lm_run_train(&run, &cfg, settings, n_settings, opts, res, err);
done:
    r1_settings_free_strings(settings, n_settings);
    r1_lm_run_free(&run);
    if (have_init) r1_init_weights_close(&init);
    return rc;
}
