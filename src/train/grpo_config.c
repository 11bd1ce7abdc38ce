/* `r1 train grpo`'s settings: defaults, checks, and the "key=value" strings that
 * config.txt and checkpoints hold (see grpo.h). */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "train/grpo.h"
#include "train/settings.h"

static const char *const variant_names[] = {"grpo", "dr-grpo", "dapo", NULL};
static const char *const task_names[] = {"countdown", "arithmetic", "mix", NULL};
static const char *const credit_names[] = {"outcome", "steps", NULL};

r1_grpo_config r1_grpo_default_config(void) {
    r1_grpo_config c = {
        .base = r1_pretrain_default_config(),
        .variant = R1_GRPO_GRPO,
        .task = R1_GRPO_TASK_MIX,
        .steps = 200,
        .prompts = 8,
        .group = 8,
        .max_tokens = 256,
        .temperature = 1.0f,
        .lr = 1e-5f,
        .weight_decay = 0.0f,
        .clip = 1.0f,
        .beta = 0.04f,
        .eps = 0.2f,
        .eps_high = 0.28f,
        .seed = 1,
        .threads = 0,
        .ppo_epochs = 1, .minibatches = 1, /* one step per batch */
        .max_extra = 16,
        .warmup = 0, .lr_min = 1e-5f,      /* a constant rate */
        .eval_every = 0, .eval_n = 100,
        .bias_gamma = 0.0f,
        .format_reward = R1_REWARD_FORMAT,
        .credit = R1_CREDIT_OUTCOME,
    };
    return c;
}

static int by_name(const char *const *names, int n, const char *what, const char *name, int *out, r1_err *err) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return *out = i, R1_OK;
    return r1_fail(err, "grpo: unknown %s '%s' (%s|%s%s%s)", what, name, names[0], names[1], n > 2 ? "|" : "",
                   n > 2 ? names[2] : "");
}

int r1_grpo_variant_by_name(const char *name, r1_grpo_variant *out, r1_err *err) {
    int v = 0;
    if (by_name(variant_names, 3, "variant", name, &v, err) != R1_OK) return R1_ERR;
    *out = (r1_grpo_variant)v;
    return R1_OK;
}

int r1_grpo_task_by_name(const char *name, r1_grpo_task *out, r1_err *err) {
    int v = 0;
    if (by_name(task_names, 3, "task", name, &v, err) != R1_OK) return R1_ERR;
    *out = (r1_grpo_task)v;
    return R1_OK;
}

int r1_grpo_credit_by_name(const char *name, r1_credit *out, r1_err *err) {
    int v = 0;
    if (by_name(credit_names, 2, "credit", name, &v, err) != R1_OK) return R1_ERR;
    *out = (r1_credit)v;
    return R1_OK;
}

const char *r1_grpo_variant_name(r1_grpo_variant v) { return v <= R1_GRPO_DAPO ? variant_names[v] : "unknown"; }
const char *r1_grpo_task_name(r1_grpo_task t) { return t <= R1_GRPO_TASK_MIX ? task_names[t] : "unknown"; }

int r1_grpo_config_check(const r1_grpo_config *c, r1_err *err) {
    if (r1_pretrain_config_check(&c->base, err) != R1_OK) return R1_ERR;
    /* each integer setting in its range, named when it is not */
    const struct {
        const char *name;
        long value, lo, hi; /* hi INT_MAX: no upper bound */
        const char *hi_is;  /* what sets hi, when another setting does */
    } ints[] = {{"steps", c->steps, 1, INT_MAX, ""},
                {"prompts", c->prompts, 1, INT_MAX, ""},
                {"group", c->group, 2, INT_MAX, ""},
                {"max_tokens", c->max_tokens, 1, INT_MAX, ""},
                {"threads", c->threads, 0, INT_MAX, ""},
                {"ppo_epochs", c->ppo_epochs, 1, INT_MAX, ""},
                {"max_extra", c->max_extra, 0, 65536, ""},
                {"warmup", c->warmup, 0, c->steps, " (the steps)"},
                {"eval_every", c->eval_every, 0, INT_MAX, ""},
                {"eval_n", c->eval_n, 1, INT_MAX, ""},
                {"minibatches", c->minibatches, 1, (long)c->prompts * c->group, " (prompts × group)"}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (ints[i].value >= ints[i].lo && ints[i].value <= ints[i].hi) continue;
        if (ints[i].hi == INT_MAX)
            return r1_fail(err, "grpo: %s %ld must be at least %ld", ints[i].name, ints[i].value, ints[i].lo);
        return r1_fail(err, "grpo: %s %ld must be in %ld..%ld%s", ints[i].name, ints[i].value, ints[i].lo, ints[i].hi,
                       ints[i].hi_is);
    }
    if ((long)c->prompts * c->group > 65536)
        return r1_fail(err, "grpo: %d prompts × %d samples is too many (at most 65536 a step)", c->prompts, c->group);
    /* each real setting finite and in its range, [lo or (lo, up to hi) */
    const struct {
        const char *name;
        double value, lo, hi;
        int lo_closed; /* 1: lo allowed */
    } reals[] = {{"lr", c->lr, 0, INFINITY, 0},           {"beta", c->beta, 0, INFINITY, 1},
                 {"eps", c->eps, 0, 1, 0},                {"eps_high", c->eps_high, 0, INFINITY, 0},
                 {"temperature", c->temperature, 0, INFINITY, 0}, {"clip", c->clip, 0, INFINITY, 1},
                 {"weight_decay", c->weight_decay, 0, INFINITY, 1}, {"bias_gamma", c->bias_gamma, 0, INFINITY, 1},
                 {"format_reward", c->format_reward, 0, 1, 1}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        double v = reals[i].value;
        if (!(isfinite(v) && (reals[i].lo_closed ? v >= reals[i].lo : v > reals[i].lo) && v < reals[i].hi))
            return r1_fail(err, "grpo: %s %g must be a finite number in %c%g, %g)", reals[i].name, v,
                           reals[i].lo_closed ? '[' : '(', reals[i].lo, reals[i].hi);
    }
    if (!(c->lr_min >= 0 && c->lr_min <= c->lr))
        return r1_fail(err, "grpo: lr_min %g must be in 0..lr (%g)", c->lr_min, c->lr);
    if (c->variant > R1_GRPO_DAPO || c->task > R1_GRPO_TASK_MIX || c->credit > R1_CREDIT_STEPS)
        return r1_fail(err, "grpo: bad variant, task or credit");
    return R1_OK;
}

float r1_grpo_lr(const r1_grpo_config *cfg, int step) {
    return r1_lr_schedule(step, cfg->warmup, cfg->steps, cfg->lr, cfg->lr_min);
}

/* ---- "key=value" strings ---- */

#define G(key, type, member) R1_SETTING(key, R1_SETTING_##type, r1_grpo_config, member)
static const r1_setting fields[] = {
    R1_SETTING_NAMED("grpo.variant", r1_grpo_config, variant, variant_names),
    R1_SETTING_NAMED("grpo.task", r1_grpo_config, task, task_names),
    G("grpo.steps", INT, steps),
    G("grpo.prompts", INT, prompts),
    G("grpo.group", INT, group),
    G("grpo.max_tokens", INT, max_tokens),
    G("grpo.temperature", FLOAT, temperature),
    G("grpo.lr", FLOAT, lr),
    G("grpo.weight_decay", FLOAT, weight_decay),
    G("grpo.clip", FLOAT, clip),
    G("grpo.beta", FLOAT, beta),
    G("grpo.eps", FLOAT, eps),
    G("grpo.eps_high", FLOAT, eps_high),
    G("grpo.seed", U64, seed),
    G("grpo.threads", INT, threads),
    G("grpo.ppo_epochs", INT, ppo_epochs),
    G("grpo.minibatches", INT, minibatches),
    G("grpo.max_extra", INT, max_extra),
    G("grpo.warmup", INT, warmup),
    G("grpo.lr_min", FLOAT, lr_min),
    G("grpo.eval_every", INT, eval_every),
    G("grpo.eval_n", INT, eval_n),
    G("grpo.bias_gamma", FLOAT, bias_gamma),
    G("grpo.format_reward", FLOAT, format_reward),
    R1_SETTING_NAMED("grpo.credit", r1_grpo_config, credit, credit_names),
};
#undef G
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

int r1_grpo_config_to_strings(const r1_grpo_config *c, char ***strings, size_t *n, r1_err *err) {
    if (r1_pretrain_config_to_strings(&c->base, strings, n, err) != R1_OK) return R1_ERR;
    return r1_settings_append(fields, N_FIELDS, c, strings, n, err);
}

int r1_grpo_config_set(r1_grpo_config *c, const char *key_value, r1_err *err) {
    if (strncmp(key_value, "grpo.", 5) != 0) return r1_pretrain_config_set(&c->base, key_value, err);
    int found;
    return r1_settings_set(fields, N_FIELDS, c, "grpo", key_value, &found, err);
}
