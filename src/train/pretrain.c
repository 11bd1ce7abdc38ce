/* `r1 train pretrain`: the base model from search traces (see pretrain.h). */
#include "train/pretrain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/pool.h"
#include "base/progress.h"
#include "gguf/gguf.h"
#include "train/checkpoint.h"
#include "train/metrics.h"
#include "train/vocab.h"

/* ---- settings as key=value ---- */

typedef enum { FIELD_INT, FIELD_FLOAT, FIELD_DOUBLE, FIELD_U64 } field_type;

typedef struct {
    const char *key;
    field_type type;
    size_t offset;
} field;

#define F(key, type, member) {key, type, offsetof(r1_pretrain_config, member)}
static const field fields[] = {
    F("vocab", FIELD_INT, model.vocab),
    F("dim", FIELD_INT, model.dim),
    F("layers", FIELD_INT, model.n_layers),
    F("dense_layers", FIELD_INT, model.n_dense_layers),
    F("heads", FIELD_INT, model.n_heads),
    F("q_lora_rank", FIELD_INT, model.q_lora_rank),
    F("kv_lora_rank", FIELD_INT, model.kv_lora_rank),
    F("qk_nope", FIELD_INT, model.qk_nope),
    F("qk_rope", FIELD_INT, model.qk_rope),
    F("v_head", FIELD_INT, model.v_head),
    F("ffn_dim", FIELD_INT, model.ffn_dim),
    F("experts", FIELD_INT, model.n_experts),
    F("top_k", FIELD_INT, model.top_k),
    F("shared_experts", FIELD_INT, model.n_shared),
    F("expert_ffn", FIELD_INT, model.expert_ffn),
    F("groups", FIELD_INT, model.n_groups),
    F("groups_used", FIELD_INT, model.n_groups_used),
    F("route_scale", FIELD_FLOAT, model.route_scale),
    F("rope_base", FIELD_FLOAT, model.rope_base),
    F("norm_eps", FIELD_FLOAT, model.norm_eps),
    F("seq", FIELD_INT, model.seq_len),
    F("batch", FIELD_INT, model.batch),
    F("balance_alpha", FIELD_FLOAT, model.balance_alpha),
    F("bias_gamma", FIELD_FLOAT, model.bias_gamma),
    F("init_std", FIELD_FLOAT, model.init_std),
    F("seed", FIELD_U64, data.seed),
    F("countdown_share", FIELD_DOUBLE, data.countdown_share),
    F("prompt_loss", FIELD_INT, data.prompt_loss),
    F("trace_max_think_bytes", FIELD_INT, data.trace.max_think_bytes),
    F("trace_max_dead_ends", FIELD_INT, data.trace.max_dead_ends),
    F("trace_wrong_share", FIELD_DOUBLE, data.trace.wrong_share),
    F("steps", FIELD_INT, steps),
    F("warmup", FIELD_INT, warmup),
    F("lr", FIELD_FLOAT, opt.lr),
    F("lr_min", FIELD_FLOAT, lr_min),
    F("beta1", FIELD_FLOAT, opt.beta1),
    F("beta2", FIELD_FLOAT, opt.beta2),
    F("adam_eps", FIELD_FLOAT, opt.eps),
    F("weight_decay", FIELD_FLOAT, opt.weight_decay),
    F("clip", FIELD_FLOAT, clip),
    F("log_every", FIELD_INT, log_every),
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
    char **out = r1_calloc(err, N_FIELDS, sizeof *out, "config strings");
    if (!out) return R1_ERR;
    for (int i = 0; i < N_FIELDS; i++) {
        const void *at = (const char *)cfg + fields[i].offset;
        char value[64];
        switch (fields[i].type) {
        case FIELD_INT: snprintf(value, sizeof value, "%d", *(const int *)at); break;
        case FIELD_FLOAT: snprintf(value, sizeof value, "%.9g", *(const float *)at); break;
        case FIELD_DOUBLE: snprintf(value, sizeof value, "%.17g", *(const double *)at); break;
        case FIELD_U64: snprintf(value, sizeof value, "%llu", (unsigned long long)*(const uint64_t *)at); break;
        }
        out[i] = r1_malloc(err, strlen(fields[i].key) + strlen(value) + 2, "config string");
        if (!out[i]) {
            r1_pretrain_config_free_strings(out, N_FIELDS);
            return R1_ERR;
        }
        sprintf(out[i], "%s=%s", fields[i].key, value);
    }
    *strings = out;
    *n = N_FIELDS;
    return R1_OK;
}

void r1_pretrain_config_free_strings(char **strings, size_t n) {
    if (!strings) return;
    for (size_t i = 0; i < n; i++) free(strings[i]);
    free(strings);
}

int r1_pretrain_config_set(r1_pretrain_config *cfg, const char *key_value, r1_err *err) {
    const char *eq = strchr(key_value, '=');
    if (!eq) return r1_fail(err, "pretrain: config entry '%s' has no '='", key_value);
    size_t key_len = (size_t)(eq - key_value);
    const char *value = eq + 1;
    for (int i = 0; i < N_FIELDS; i++) {
        if (strlen(fields[i].key) != key_len || memcmp(fields[i].key, key_value, key_len)) continue;
        void *at = (char *)cfg + fields[i].offset;
        char *end;
        errno = 0;
        switch (fields[i].type) {
        case FIELD_INT: {
            long v = strtol(value, &end, 10);
            if (v < -2147483647L || v > 2147483647L) errno = ERANGE;
            *(int *)at = (int)v;
            break;
        }
        case FIELD_FLOAT: *(float *)at = strtof(value, &end); break;
        case FIELD_DOUBLE: *(double *)at = strtod(value, &end); break;
        case FIELD_U64: *(uint64_t *)at = strtoull(value, &end, 10); break;
        }
        if (end == value || *end || errno) return r1_fail(err, "pretrain: config %s: bad value '%s'", fields[i].key, value);
        return R1_OK;
    }
    return r1_fail(err, "pretrain: unknown config key '%.*s'", (int)key_len, key_value);
}

int r1_pretrain_config_check(const r1_pretrain_config *cfg, r1_err *err) {
    if (cfg->model.vocab != R1_VOCAB_SIZE)
        return r1_fail(err, "pretrain: vocab %d, but the byte-level vocabulary has %d tokens", cfg->model.vocab,
                       R1_VOCAB_SIZE);
    if (r1_train_config_check(&cfg->model, err) != R1_OK) return R1_ERR;
    if (cfg->steps < 1) return r1_fail(err, "pretrain: steps %d must be at least 1", cfg->steps);
    if (cfg->warmup < 0) return r1_fail(err, "pretrain: warmup %d is negative", cfg->warmup);
    if (cfg->log_every < 1) return r1_fail(err, "pretrain: log_every %d must be at least 1", cfg->log_every);
    if (!(cfg->lr_min >= 0 && cfg->lr_min <= cfg->opt.lr))
        return r1_fail(err, "pretrain: lr_min %g must be in 0..lr (%g)", cfg->lr_min, cfg->opt.lr);
    if (!(cfg->clip >= 0)) return r1_fail(err, "pretrain: clip %g must be ≥ 0", cfg->clip);
    if (!(cfg->data.countdown_share >= 0 && cfg->data.countdown_share <= 1))
        return r1_fail(err, "pretrain: countdown_share %g is outside 0..1", cfg->data.countdown_share);
    r1_adamw probe;
    if (r1_adamw_init(&probe, 1, cfg->opt, err) != R1_OK) return R1_ERR;
    r1_adamw_free(&probe);
    return R1_OK;
}

/* ---- the run directory ---- */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* mkdir -p */
static int make_dirs(const char *dir, r1_err *err) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return r1_fail(err, "pretrain: path too long");
    for (char *p = path + 1;; p++) {
        int last = *p == 0;
        if (*p == '/' || last) {
            *p = 0;
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return r1_fail(err, "pretrain: cannot create directory %s: %s", path, strerror(errno));
            if (last) break;
            *p = '/';
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return r1_fail(err, "pretrain: %s is not a directory", dir);
    return R1_OK;
}

static int join(char *out, size_t size, const char *dir, const char *name, r1_err *err) {
    if (snprintf(out, size, "%s/%s", dir, name) >= (int)size) return r1_fail(err, "pretrain: path too long: %s", dir);
    return R1_OK;
}

/* config.txt, atomically. */
static int write_config_txt(const char *path, char **strings, size_t n, r1_err *err) {
    char tmp[1100];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return r1_fail(err, "pretrain: path %.200s... is too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return r1_fail(err, "pretrain: cannot create %s: %s", tmp, strerror(errno));
    int ok = fprintf(f, "# r1 train pretrain settings (also stored in checkpoint.gguf)\nstage=pretrain\n") > 0;
    for (size_t i = 0; i < n && ok; i++) ok = fprintf(f, "%s\n", strings[i]) > 0;
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return r1_fail(err, "pretrain: cannot write %s: %s", path, strerror(e));
    }
    return R1_OK;
}

/* ---- checkpoints: model tensors, then opt.m.* and opt.v.* of the trained ones ---- */

static int save_checkpoint(const char *path, const r1_pretrain_config *cfg, r1_train_model *m, const r1_adamw *opt,
                           uint64_t step, r1_err *err) {
    r1_checkpoint ck = {.step = step, .total_steps = (uint64_t)cfg->steps, .rng_state = cfg->data.seed,
                        .adamw_step = opt->step};
    snprintf(ck.stage, sizeof ck.stage, "pretrain");
    if (r1_pretrain_config_to_strings(cfg, &ck.config, &ck.n_config, err) != R1_OK) return R1_ERR;
    ck.tensors = r1_calloc(err, 3 * (size_t)m->n_tensors, sizeof *ck.tensors, "checkpoint tensors");
    int rc = R1_ERR;
    if (!ck.tensors) goto done;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < m->n_tensors; i++) {
            const r1_train_tensor *t = &m->tensors[i];
            if (pass > 0 && !t->grad) continue; /* exp_probs_b: moved by the bias rule, no moments */
            r1_checkpoint_tensor *ct = &ck.tensors[ck.n_tensors++];
            /* "opt.v." + a name of at most 57 bytes: tiny_model's names are far shorter */
            if (snprintf(ct->name, sizeof ct->name, "%s%s", pass == 0 ? "" : pass == 1 ? "opt.m." : "opt.v.",
                         t->name) >= (int)sizeof ct->name) {
                r1_fail(err, "pretrain: tensor name '%s' is too long for a checkpoint", t->name);
                goto done;
            }
            ct->n_dims = t->n_dims;
            memcpy(ct->ne, t->ne, sizeof ct->ne);
            size_t offset = pass ? (size_t)(t->data - m->params) : 0;
            ct->data = pass == 0 ? t->data : pass == 1 ? opt->m + offset : opt->v + offset;
        }
    rc = r1_checkpoint_save(path, &ck, err);
done:
    free(ck.tensors);
    r1_pretrain_config_free_strings(ck.config, ck.n_config);
    return rc;
}

static int restore_tensor(const r1_checkpoint *ck, const char *path, const char *name, float *dst, size_t count,
                          r1_err *err) {
    const r1_checkpoint_tensor *ct = r1_checkpoint_find(ck, name);
    if (!ct) return r1_fail(err, "pretrain: %s: no tensor '%s'", path, name);
    if (r1_checkpoint_tensor_count(ct) != count)
        return r1_fail(err, "pretrain: %s: tensor '%s' has %zu values, the model %zu", path, name,
                       r1_checkpoint_tensor_count(ct), count);
    memcpy(dst, ct->data, count * sizeof *dst);
    return R1_OK;
}

static int restore_state(const r1_checkpoint *ck, const char *path, r1_train_model *m, r1_adamw *opt, r1_err *err) {
    char name[R1_CHECKPOINT_NAME_MAX + 8];
    for (int i = 0; i < m->n_tensors; i++) {
        r1_train_tensor *t = &m->tensors[i];
        if (restore_tensor(ck, path, t->name, t->data, t->size, err) != R1_OK) return R1_ERR;
        if (!t->grad) continue;
        size_t offset = (size_t)(t->data - m->params);
        snprintf(name, sizeof name, "opt.m.%s", t->name);
        if (restore_tensor(ck, path, name, opt->m + offset, t->size, err) != R1_OK) return R1_ERR;
        snprintf(name, sizeof name, "opt.v.%s", t->name);
        if (restore_tensor(ck, path, name, opt->v + offset, t->size, err) != R1_OK) return R1_ERR;
    }
    opt->step = ck->adamw_step;
    return R1_OK;
}

/* The settings of a checkpointed run. */
static int config_from_checkpoint(const r1_checkpoint *ck, const char *path, r1_pretrain_config *cfg, r1_err *err) {
    if (strcmp(ck->stage, "pretrain") != 0)
        return r1_fail(err, "pretrain: %s is a '%s' checkpoint, not a pretrain one", path, ck->stage);
    *cfg = r1_pretrain_default_config();
    for (size_t i = 0; i < ck->n_config; i++)
        if (r1_pretrain_config_set(cfg, ck->config[i], err) != R1_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return r1_fail(err, "%s (in %s)", msg, path);
        }
    if (ck->total_steps != (uint64_t)cfg->steps || ck->step > ck->total_steps)
        return r1_fail(err, "pretrain: %s: step %llu of %llu does not match steps=%d", path,
                       (unsigned long long)ck->step, (unsigned long long)ck->total_steps, cfg->steps);
    return r1_pretrain_config_check(cfg, err);
}

/* ---- the run ---- */

typedef struct {
    char dir[1024];
    char checkpoint[1100], config[1100], vocab[1100], metrics[1100], plot[1100], model[1100];
} run_paths;

static int make_paths(run_paths *p, const char *dir, r1_err *err) {
    if (snprintf(p->dir, sizeof p->dir, "%s", dir) >= (int)sizeof p->dir)
        return r1_fail(err, "pretrain: path too long: %s", dir);
    if (join(p->checkpoint, sizeof p->checkpoint, dir, "checkpoint.gguf", err) != R1_OK ||
        join(p->config, sizeof p->config, dir, "config.txt", err) != R1_OK ||
        join(p->vocab, sizeof p->vocab, dir, "vocab.gguf", err) != R1_OK ||
        join(p->metrics, sizeof p->metrics, dir, "metrics.csv", err) != R1_OK ||
        join(p->plot, sizeof p->plot, dir, "loss.svg", err) != R1_OK ||
        join(p->model, sizeof p->model, dir, "model.gguf", err) != R1_OK)
        return R1_ERR;
    return R1_OK;
}

static const char *const metric_columns[] = {"loss", "lr", "grad_norm", "tokens_per_s"};
enum { N_METRICS = sizeof metric_columns / sizeof metric_columns[0] };
static const char *const plotted[] = {"loss"};

static int plot_loss(const run_paths *p, r1_err *err) {
    return r1_metrics_plot_svg(p->metrics, p->plot, "r1 train pretrain: cross-entropy (nats/token)", plotted, 1,
                               err);
}

static int export_model(const run_paths *p, const r1_train_model *m, r1_err *err) {
    r1_gguf vocab;
    if (r1_gguf_open(&vocab, p->vocab, err) != R1_OK) return R1_ERR;
    int rc = r1_train_export_gguf(m, p->model, &vocab, err);
    r1_gguf_close(&vocab);
    return rc;
}

/* Everything a run holds, released in one place. */
typedef struct {
    r1_train_model model;
    r1_adamw opt;
    r1_data data;
    r1_tokenizer *tok;
    r1_metrics metrics;
    uint8_t *decay_mask;
    r1_checkpoint ck;
    int have_ck;
    r1_pool *pool;  /* the model's products and attention run on all cores */
} run_state;

static void run_free(run_state *s) {
    r1_train_model_free(&s->model);
    r1_pool_free(s->pool);
    r1_adamw_free(&s->opt);
    r1_data_free(&s->data);
    r1_tokenizer_free(s->tok);
    r1_metrics_close(&s->metrics);
    free(s->decay_mask);
    if (s->have_ck) r1_checkpoint_free(&s->ck);
}

static int train_loop(run_state *s, const r1_pretrain_config *cfg, const r1_pretrain_options *opts,
                      const run_paths *paths, uint64_t start, r1_pretrain_result *res, r1_err *err) {
    r1_train_model *m = &s->model;
    const int B = cfg->model.batch, T = cfg->model.seq_len;
    const uint64_t total = (uint64_t)cfg->steps;
    uint64_t stop = total;
    if (opts->stop_after > 0 && (uint64_t)opts->stop_after < stop) stop = (uint64_t)opts->stop_after;
    r1_progress bar;
    char label[64];
    if (start) snprintf(label, sizeof label, "pretrain (from step %llu)", (unsigned long long)start);
    else snprintf(label, sizeof label, "pretrain");
    if (!opts->quiet) r1_progress_start(&bar, label, "step", total - start);
    double t0 = now_seconds(), tokens_run = 0;
    char line[160] = "";
    uint64_t step = start;
    for (; step < stop; step++) {
        if (opts->interrupted && *opts->interrupted) break;
        double t_step = now_seconds();
        if (r1_data_batch(&s->data, step, err) != R1_OK) return R1_ERR;
        float loss;
        r1_train_zero_grad(m);
        if (r1_train_forward(m, s->data.tokens, s->data.targets, B, T, &loss, err) != R1_OK) return R1_ERR;
        r1_train_backward(m);
        float grad_norm =
            r1_clip_grad_norm_pool(s->pool, m->grads, m->n_params, cfg->clip > 0 ? cfg->clip : INFINITY);
        if (!isfinite(grad_norm) || !isfinite(m->ce_loss))
            return r1_fail(err, "pretrain: step %llu: loss %g, gradient norm %g: training diverged (lower --lr; "
                                "the checkpoint holds the last good state)",
                           (unsigned long long)step + 1, m->ce_loss, grad_norm);
        float lr = r1_lr_schedule((int)step, cfg->warmup, cfg->steps, cfg->opt.lr, cfg->lr_min);
        r1_adamw_step_pool(s->pool, &s->opt, m->params, m->grads, lr, s->decay_mask);
        r1_train_update_bias(m);

        double seconds = now_seconds() - t_step, tokens = s->data.n_targets + s->data.n_examples;
        tokens_run += tokens;
        if (step == start) res->first_loss = m->ce_loss;
        res->last_loss = m->ce_loss;
        uint64_t done = step + 1;
        if (done % (uint64_t)cfg->log_every == 0 || done == total) {
            double row[N_METRICS] = {m->ce_loss, lr, grad_norm, seconds > 0 ? tokens / seconds : 0};
            if (r1_metrics_log(&s->metrics, done, row, err) != R1_OK) return R1_ERR;
        }
        double elapsed = now_seconds() - t0;
        snprintf(line, sizeof line, "loss %.3f lr %.2e gnorm %.2f %.0f tok/s", m->ce_loss, lr, grad_norm,
                 elapsed > 0 ? tokens_run / elapsed : 0);
        if (!opts->quiet) r1_progress_update(&bar, done - start, line);
        if (opts->checkpoint_every > 0 && done % (uint64_t)opts->checkpoint_every == 0 && done < total) {
            if (save_checkpoint(paths->checkpoint, cfg, m, &s->opt, done, err) != R1_OK ||
                plot_loss(paths, err) != R1_OK)
                return R1_ERR;
        }
    }
    if (!opts->quiet) r1_progress_finish(&bar, step - start, line);
    res->steps_done = step;
    res->seconds = now_seconds() - t0;
    res->tokens_per_s = res->seconds > 0 ? tokens_run / res->seconds : 0;
    if (save_checkpoint(paths->checkpoint, cfg, m, &s->opt, step, err) != R1_OK || plot_loss(paths, err) != R1_OK)
        return R1_ERR;
    if (step == total) {
        if (export_model(paths, m, err) != R1_OK) return R1_ERR;
        res->finished = 1;
    }
    return R1_OK;
}

int r1_pretrain(const r1_pretrain_config *cfg_in, const r1_pretrain_options *opts, r1_pretrain_result *res,
                r1_err *err) {
    memset(res, 0, sizeof *res);
    run_paths paths;
    if (!opts->out_dir || !*opts->out_dir) return r1_fail(err, "pretrain: no output directory");
    if (make_paths(&paths, opts->out_dir, err) != R1_OK) return R1_ERR;
    run_state s;
    memset(&s, 0, sizeof s);
    r1_pretrain_config cfg = *cfg_in;
    int rc = R1_ERR;

    if (opts->resume) {
        if (access(paths.checkpoint, F_OK) != 0)
            return r1_fail(err, "pretrain: --resume: no %s to continue", paths.checkpoint);
        if (r1_checkpoint_load(paths.checkpoint, &s.ck, err) != R1_OK) return R1_ERR;
        s.have_ck = 1;
        if (config_from_checkpoint(&s.ck, paths.checkpoint, &cfg, err) != R1_OK) goto done;
    } else {
        if (r1_pretrain_config_check(&cfg, err) != R1_OK) return R1_ERR;
        if (make_dirs(opts->out_dir, err) != R1_OK) return R1_ERR;
        if (access(paths.checkpoint, F_OK) == 0)
            return r1_fail(err, "pretrain: %s already holds a run (checkpoint.gguf): continue it with --resume, "
                                "or choose another --out",
                           opts->out_dir);
    }
    uint64_t start = s.have_ck ? s.ck.step : 0;
    res->start_step = start;
    res->total_steps = (uint64_t)cfg.steps;

    if (r1_vocab_tokenizer(paths.vocab, &s.tok, err) != R1_OK) goto done;
    if (r1_train_model_init(&s.model, &cfg.model, cfg.data.seed, err) != R1_OK) goto done;
    s.pool = r1_pool_create(0); /* NULL (no threads) just runs single-threaded */
    r1_train_model_set_pool(&s.model, s.pool);
    res->n_params = s.model.n_params;
    if (r1_adamw_init(&s.opt, s.model.n_params, cfg.opt, err) != R1_OK) goto done;
    if (s.have_ck) {
        if (restore_state(&s.ck, paths.checkpoint, &s.model, &s.opt, err) != R1_OK) goto done;
        r1_checkpoint_free(&s.ck);
        s.have_ck = 0;
    }
    if (start == (uint64_t)cfg.steps) {
        res->steps_done = start;
        res->was_finished = res->finished = 1;
        rc = access(paths.model, F_OK) == 0 ? R1_OK : export_model(&paths, &s.model, err);
        goto done;
    }
    char **strings;
    size_t n_strings;
    if (r1_pretrain_config_to_strings(&cfg, &strings, &n_strings, err) != R1_OK) goto done;
    rc = write_config_txt(paths.config, strings, n_strings, err);
    r1_pretrain_config_free_strings(strings, n_strings);
    if (rc != R1_OK) goto done;
    rc = R1_ERR;

    s.decay_mask = r1_calloc(err, s.model.n_params, 1, "decay mask");
    if (!s.decay_mask) goto done;
    for (int i = 0; i < s.model.n_tensors; i++) {
        const r1_train_tensor *t = &s.model.tensors[i];
        if (t->grad && t->decay) memset(s.decay_mask + (t->data - s.model.params), 1, t->size);
    }
    if (r1_data_init(&s.data, s.tok, &cfg.data, cfg.model.batch, cfg.model.seq_len, err) != R1_OK) goto done;
    if (r1_metrics_open(&s.metrics, paths.metrics, metric_columns, N_METRICS, opts->resume ? (int64_t)start : -1,
                        err) != R1_OK)
        goto done;
    rc = train_loop(&s, &cfg, opts, &paths, start, res, err);
done:
    run_free(&s);
    return rc;
}
