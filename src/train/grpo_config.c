/* `r1 train grpo`'s settings: defaults, checks, and the "key=value" strings that
 * config.txt and checkpoints hold (see grpo.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/grpo.h"

static const char *const variant_names[] = {"grpo", "dr-grpo", "dapo"};
static const char *const task_names[] = {"countdown", "arithmetic", "mix"};

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
        .threads = 1,
        .ppo_epochs = 1, .minibatches = 1, /* one step per batch */
        .max_extra = 16,
        .warmup = 0, .lr_min = 1e-5f,      /* a constant rate */
        .eval_every = 0, .eval_n = 100,
    };
    return c;
}

static int by_name(const char *const *names, int n, const char *what, const char *name, int *out, r1_err *err) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return *out = i, R1_OK;
    return r1_fail(err, "grpo: unknown %s '%s' (%s|%s|%s)", what, name, names[0], names[1], names[2]);
}

int r1_grpo_variant_by_name(const char *name, r1_grpo_variant *out, r1_err *err) {
    int v;
    if (by_name(variant_names, 3, "variant", name, &v, err) != R1_OK) return R1_ERR;
    *out = (r1_grpo_variant)v;
    return R1_OK;
}

int r1_grpo_task_by_name(const char *name, r1_grpo_task *out, r1_err *err) {
    int v;
    if (by_name(task_names, 3, "task", name, &v, err) != R1_OK) return R1_ERR;
    *out = (r1_grpo_task)v;
    return R1_OK;
}

const char *r1_grpo_variant_name(r1_grpo_variant v) { return v <= R1_GRPO_DAPO ? variant_names[v] : "unknown"; }

int r1_grpo_config_check(const r1_grpo_config *c, r1_err *err) {
    if (r1_pretrain_config_check(&c->base, err) != R1_OK) return R1_ERR;
    if (c->steps < 1 || c->prompts < 1 || c->group < 2 || c->max_tokens < 1 || c->threads < 1)
        return r1_fail(err, "grpo: steps %d, prompts %d, group %d (at least 2), max_tokens %d, threads %d", c->steps,
                       c->prompts, c->group, c->max_tokens, c->threads);
    if ((size_t)c->prompts * c->group > 65536)
        return r1_fail(err, "grpo: %d prompts × %d samples is too many", c->prompts, c->group);
    if (!(c->lr > 0 && c->beta >= 0 && c->eps > 0 && c->eps < 1 && c->eps_high > 0 && c->temperature > 0 &&
          c->clip >= 0 && c->weight_decay >= 0))
        return r1_fail(err, "grpo: lr %g (> 0), beta %g (≥ 0), eps %g (0..1), eps_high %g (> 0), temperature %g "
                            "(> 0), clip %g, weight_decay %g",
                       c->lr, c->beta, c->eps, c->eps_high, c->temperature, c->clip, c->weight_decay);
    if (c->ppo_epochs < 1 || c->minibatches < 1 || c->minibatches > c->prompts * c->group || c->max_extra < 0 ||
        c->max_extra > 65536)
        return r1_fail(err, "grpo: ppo_epochs %d (≥ 1), minibatches %d (1..prompts·group = %d), max_extra %d "
                            "(0..65536)",
                       c->ppo_epochs, c->minibatches, c->prompts * c->group, c->max_extra);
    if (c->warmup < 0 || c->warmup > c->steps || !(c->lr_min >= 0 && c->lr_min <= c->lr))
        return r1_fail(err, "grpo: warmup %d (0..steps %d), lr_min %g (0..lr %g)", c->warmup, c->steps, c->lr_min,
                       c->lr);
    if (c->eval_every < 0 || c->eval_n < 1)
        return r1_fail(err, "grpo: eval_every %d (≥ 0), eval_n %d (≥ 1)", c->eval_every, c->eval_n);
    if (c->variant > R1_GRPO_DAPO || c->task > R1_GRPO_TASK_MIX) return r1_fail(err, "grpo: bad variant or task");
    return R1_OK;
}

float r1_grpo_lr(const r1_grpo_config *cfg, int step) {
    return r1_lr_schedule(step, cfg->warmup, cfg->steps, cfg->lr, cfg->lr_min);
}

/* ---- "key=value" strings ---- */

typedef enum { GF_INT, GF_FLOAT, GF_U64, GF_NAME } gfield_type;
typedef struct {
    const char *key;
    gfield_type type;
    size_t offset;
    const char *const *names; /* GF_NAME: the enum's names, by value */
} gfield;

#define G(key, type, member) {key, type, offsetof(r1_grpo_config, member), NULL}
#define G_NAME(key, member, names) {key, GF_NAME, offsetof(r1_grpo_config, member), names}
static const gfield gfields[] = {
    G_NAME("grpo.variant", variant, variant_names), G_NAME("grpo.task", task, task_names),
    G("grpo.steps", GF_INT, steps),                 G("grpo.prompts", GF_INT, prompts),
    G("grpo.group", GF_INT, group),                 G("grpo.max_tokens", GF_INT, max_tokens),
    G("grpo.temperature", GF_FLOAT, temperature),   G("grpo.lr", GF_FLOAT, lr),
    G("grpo.weight_decay", GF_FLOAT, weight_decay), G("grpo.clip", GF_FLOAT, clip),
    G("grpo.beta", GF_FLOAT, beta),                 G("grpo.eps", GF_FLOAT, eps),
    G("grpo.eps_high", GF_FLOAT, eps_high),         G("grpo.seed", GF_U64, seed),
    G("grpo.threads", GF_INT, threads),             G("grpo.ppo_epochs", GF_INT, ppo_epochs),
    G("grpo.minibatches", GF_INT, minibatches),     G("grpo.max_extra", GF_INT, max_extra),
    G("grpo.warmup", GF_INT, warmup),               G("grpo.lr_min", GF_FLOAT, lr_min),
    G("grpo.eval_every", GF_INT, eval_every),       G("grpo.eval_n", GF_INT, eval_n),
};
#undef G
#undef G_NAME
enum { N_GFIELDS = sizeof gfields / sizeof gfields[0] };

/* The base settings' strings, then the grpo.* ones. */
int r1_grpo_config_to_strings(const r1_grpo_config *c, char ***strings, size_t *n, r1_err *err) {
    char **base;
    size_t n_base;
    if (r1_pretrain_config_to_strings(&c->base, &base, &n_base, err) != R1_OK) return R1_ERR;
    char **out = r1_calloc(err, n_base + N_GFIELDS, sizeof *out, "config strings");
    if (!out) return r1_pretrain_config_free_strings(base, n_base), R1_ERR;
    memcpy(out, base, n_base * sizeof *out);
    free(base);
    for (int i = 0; i < N_GFIELDS; i++) {
        const void *at = (const char *)c + gfields[i].offset;
        char value[64];
        switch (gfields[i].type) {
        case GF_INT: snprintf(value, sizeof value, "%d", *(const int *)at); break;
        case GF_FLOAT: snprintf(value, sizeof value, "%.9g", *(const float *)at); break;
        case GF_U64: snprintf(value, sizeof value, "%llu", (unsigned long long)*(const uint64_t *)at); break;
        /* both enums are int-sized, their values index the names */
        case GF_NAME: snprintf(value, sizeof value, "%s", gfields[i].names[*(const int *)at]); break;
        }
        char *s = r1_malloc(err, strlen(gfields[i].key) + strlen(value) + 2, "config string");
        if (!s) return r1_pretrain_config_free_strings(out, n_base + i), R1_ERR;
        sprintf(s, "%s=%s", gfields[i].key, value);
        out[n_base + i] = s;
    }
    *strings = out;
    *n = n_base + N_GFIELDS;
    return R1_OK;
}

int r1_grpo_config_set(r1_grpo_config *c, const char *key_value, r1_err *err) {
    const char *eq = strchr(key_value, '=');
    if (!eq || strncmp(key_value, "grpo.", 5)) return r1_pretrain_config_set(&c->base, key_value, err);
    size_t key_len = (size_t)(eq - key_value);
    const char *value = eq + 1;
    for (int i = 0; i < N_GFIELDS; i++) {
        if (strlen(gfields[i].key) != key_len || memcmp(gfields[i].key, key_value, key_len)) continue;
        void *at = (char *)c + gfields[i].offset;
        char *end = (char *)value + 1;
        errno = 0;
        switch (gfields[i].type) {
        case GF_INT: {
            long v = strtol(value, &end, 10);
            if (v < -2147483647L || v > 2147483647L) errno = ERANGE;
            *(int *)at = (int)v;
            break;
        }
        case GF_FLOAT: *(float *)at = strtof(value, &end); break;
        case GF_U64: *(uint64_t *)at = strtoull(value, &end, 10); break;
        case GF_NAME: {
            int v;
            if (by_name(gfields[i].names, 3, gfields[i].key + 5, value, &v, err) != R1_OK) return R1_ERR;
            *(int *)at = v;
            return R1_OK;
        }
        }
        if (end == value || *end || errno) return r1_fail(err, "grpo: config %s: bad value '%s'", gfields[i].key, value);
        return R1_OK;
    }
    return r1_fail(err, "grpo: unknown config key '%.*s'", (int)key_len, key_value);
}
