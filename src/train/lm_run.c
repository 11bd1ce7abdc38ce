/* The next-token training run shared by pretrain and sft (see lm_run.h). */
#include "train/lm_run.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/progress.h"
#include "gguf/gguf.h"
#include "train/settings.h"
#include "train/vocab.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the run directory ---- */

int r1_lm_run_make_dirs(const char *stage, const char *dir, size_t *made, int max, int *n_made, r1_err *err) {
    char path[1024];
    if (n_made) *n_made = 0;
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return r1_fail(err, "%s: path too long", stage);
    for (char *p = path + 1;; p++) {
        int last = *p == 0;
        if (*p == '/' || last) {
            *p = 0;
            if (mkdir(path, 0777) == 0) {
                if (made && *n_made < max) made[(*n_made)++] = (size_t)(p - path);
            } else if (errno != EEXIST) {
                return r1_fail(err, "%s: cannot create directory %s: %s", stage, path, strerror(errno));
            }
            if (last) break;
            *p = '/';
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return r1_fail(err, "%s: %s is not a directory", stage, dir);
    return R1_OK;
}

/* The files of a run that a failed new run removes (r1_lm_run_free), in the
 * order of run->new_file; lock receives the .lock path. */
static void removable_files(const r1_lm_run *run, const char *files[5], char lock[1100]) {
    snprintf(lock, 1100, "%s/.lock", run->dir);
    files[0] = run->config_path, files[1] = run->vocab_path, files[2] = run->metrics_path;
    files[3] = run->plot_path, files[4] = lock;
}

static int make_paths(r1_lm_run *run, const char *dir, r1_err *err) {
    struct {
        char *out;
        const char *name;
    } files[] = {{run->checkpoint_path, "checkpoint.gguf"}, {run->config_path, "config.txt"},
                 {run->vocab_path, "vocab.gguf"},           {run->metrics_path, "metrics.csv"},
                 {run->plot_path, "loss.svg"},              {run->model_path, "model.gguf"}};
    const size_t size = sizeof run->checkpoint_path;
    if (snprintf(run->dir, sizeof run->dir, "%s", dir) >= (int)sizeof run->dir)
        return r1_fail(err, "%s: path too long: %.200s", run->stage, dir);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (snprintf(files[i].out, size, "%s/%s", dir, files[i].name) >= (int)size)
            return r1_fail(err, "%s: path too long: %.200s", run->stage, dir);
    return R1_OK;
}

int r1_lm_run_open_init(r1_pretrain_config *cfg, r1_init_weights *init, int *have_init, r1_err *err) {
    *have_init = 0;
    if (!cfg->init[0]) return R1_OK;
    if (r1_init_weights_open(init, cfg->init, err) != R1_OK) return R1_ERR;
    *have_init = 1;
    r1_init_weights_arch(init, &cfg->model);
    return R1_OK;
}

int r1_lm_run_lock_dir(const char *stage, const char *dir, int *fd, r1_err *err) {
    char path[1100];
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path)
        return r1_fail(err, "%s: path too long: %.200s", stage, dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) return r1_fail(err, "%s: cannot create %s: %s", stage, path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0) return R1_OK;
    int busy = errno == EWOULDBLOCK;
    close(*fd);
    return busy ? r1_fail(err, "%s: another r1 run is using %s; wait for it, or choose another --out", stage, dir)
                : r1_fail(err, "%s: cannot lock %s: %s", stage, path, strerror(errno));
}

static int lock_dir(r1_lm_run *run, r1_err *err) {
    if (r1_lm_run_lock_dir(run->stage, run->dir, &run->lock_fd, err) != R1_OK) return R1_ERR;
    run->have_lock = 1;
    return R1_OK;
}

int r1_lm_run_open(r1_lm_run *run, const char *stage, const char *out_dir, int resume, r1_err *err) {
    memset(run, 0, sizeof *run);
    run->stage = stage;
    if (!out_dir || !*out_dir) return r1_fail(err, "%s: no output directory", stage);
    if (make_paths(run, out_dir, err) != R1_OK) return R1_ERR;
    if (!resume) {
        /* what is made from here on is removed again if the run fails (see r1_lm_run_free) */
        const char *files[5];
        char lock[1100];
        int absent[5], n_made = 0;
        removable_files(run, files, lock);
        for (int i = 0; i < 5; i++) absent[i] = access(files[i], F_OK) != 0;
        if (r1_lm_run_make_dirs(stage, out_dir, run->made_dirs, R1_LM_RUN_MAX_MADE_DIRS, &n_made, err) != R1_OK)
            return R1_ERR;
        run->n_made_dirs = n_made;
        if (lock_dir(run, err) != R1_OK) return R1_ERR;
        if (access(run->checkpoint_path, F_OK) == 0)
            return r1_fail(err, "%s: %s already holds a run (checkpoint.gguf): continue it with --resume, or choose "
                                "another --out",
                           stage, out_dir);
        /* a finished run whose checkpoint was deleted to save space is still a run */
        if (access(run->model_path, F_OK) == 0)
            return r1_fail(err, "%s: %s already holds a trained model (model.gguf): choose another --out", stage,
                           out_dir);
        run->fresh = 1;
        memcpy(run->new_file, absent, sizeof absent);
        return R1_OK;
    }
    if (access(run->checkpoint_path, F_OK) != 0)
        return r1_fail(err, "%s: --resume: no %s to continue", stage, run->checkpoint_path);
    if (lock_dir(run, err) != R1_OK) return R1_ERR;
    if (r1_checkpoint_load(run->checkpoint_path, &run->ck, err) != R1_OK) return R1_ERR;
    run->have_ck = 1;
    if (strcmp(run->ck.stage, stage) != 0)
        return r1_fail(err, "%s: %s is a '%s' checkpoint, not a %s one", stage, run->checkpoint_path, run->ck.stage,
                       stage);
    run->start_step = run->ck.step;
    return R1_OK;
}

int r1_lm_run_read_settings(const r1_lm_run *run, int (*set)(void *settings, const char *key_value, r1_err *err),
                            void *settings, r1_err *err) {
    for (size_t i = 0; i < run->ck.n_config; i++)
        if (set(settings, run->ck.config[i], err) != R1_OK) return r1_fail_within(err, "%s: ", run->checkpoint_path);
    return R1_OK;
}

/* ---- checkpoints: model tensors, then opt.m.* and opt.v.* of the trained ones ---- */

static int save_checkpoint(const r1_lm_run *run, const r1_pretrain_config *cfg, char **settings, size_t n_settings,
                           uint64_t step, r1_err *err) {
    const r1_train_model *m = &run->model;
    r1_checkpoint ck = {.step = step, .total_steps = (uint64_t)cfg->steps, .rng_state = cfg->data.seed,
                        .adamw_step = run->opt.step, .config = settings, .n_config = n_settings};
    snprintf(ck.stage, sizeof ck.stage, "%s", run->stage);
    ck.tensors = r1_calloc(err, 3 * (size_t)m->n_tensors, sizeof *ck.tensors, "checkpoint tensors");
    if (!ck.tensors) return R1_ERR;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < m->n_tensors; i++) {
            const r1_train_tensor *t = &m->tensors[i];
            if (pass > 0 && !t->grad) continue; /* exp_probs_b: moved by the bias rule, no moments */
            r1_checkpoint_tensor *ct = &ck.tensors[ck.n_tensors++];
            /* "opt.v." + a name of at most 57 bytes: tiny_model's names are far shorter */
            if (snprintf(ct->name, sizeof ct->name, "%s%s", pass == 0 ? "" : pass == 1 ? "opt.m." : "opt.v.",
                         t->name) >= (int)sizeof ct->name) {
                free(ck.tensors);
                return r1_fail(err, "%s: tensor name '%s' is too long for a checkpoint", run->stage, t->name);
            }
            ct->n_dims = t->n_dims;
            memcpy(ct->ne, t->ne, sizeof ct->ne);
            size_t offset = pass ? (size_t)(t->data - m->params) : 0;
            ct->data = pass == 0 ? t->data : pass == 1 ? run->opt.m + offset : run->opt.v + offset;
        }
    int rc = r1_checkpoint_save(run->checkpoint_path, &ck, err);
    free(ck.tensors);
    return rc;
}

/* The checkpoint's tensor name, of t's shape, into dst (t's values or its AdamW moments). */
static int restore_tensor(const r1_lm_run *run, const char *name, const r1_train_tensor *t, float *dst, r1_err *err) {
    if (r1_checkpoint_restore_tensor(&run->ck, run->checkpoint_path, name, t->n_dims, t->ne, dst, err) != R1_OK)
        return r1_fail_within(err, "%s: ", run->stage);
    return R1_OK;
}

static int restore_state(r1_lm_run *run, r1_err *err) {
    r1_train_model *m = &run->model;
    char name[R1_CHECKPOINT_NAME_MAX + 8];
    for (int i = 0; i < m->n_tensors; i++) {
        r1_train_tensor *t = &m->tensors[i];
        if (restore_tensor(run, t->name, t, t->data, err) != R1_OK) return R1_ERR;
        if (!t->grad) continue;
        size_t offset = (size_t)(t->data - m->params);
        snprintf(name, sizeof name, "opt.m.%s", t->name);
        if (restore_tensor(run, name, t, run->opt.m + offset, err) != R1_OK) return R1_ERR;
        snprintf(name, sizeof name, "opt.v.%s", t->name);
        if (restore_tensor(run, name, t, run->opt.v + offset, err) != R1_OK) return R1_ERR;
    }
    run->opt.step = run->ck.adamw_step;
    return R1_OK;
}

/* ---- building the run ---- */

int r1_lm_run_build(r1_lm_run *run, const r1_pretrain_config *cfg, r1_err *err) {
    if (r1_pretrain_config_check(cfg, err) != R1_OK) return R1_ERR;
    if (run->have_ck && (run->ck.total_steps != (uint64_t)cfg->steps || run->ck.step > run->ck.total_steps))
        return r1_fail(err, "%s: %s: step %llu of %llu does not match steps=%d", run->stage, run->checkpoint_path,
                       (unsigned long long)run->ck.step, (unsigned long long)run->ck.total_steps, cfg->steps);
    if (r1_vocab_tokenizer(run->vocab_path, &run->tok, err) != R1_OK) return R1_ERR;
    if (r1_train_model_init(&run->model, &cfg->model, cfg->data.seed, err) != R1_OK) return R1_ERR;
    run->pool = r1_pool_create(run->threads); /* NULL (no threads) just runs single-threaded */
    r1_train_model_set_pool(&run->model, run->pool);
    if (r1_adamw_init(&run->opt, run->model.n_params, cfg->opt, err) != R1_OK) return R1_ERR;
    if (run->have_ck) {
        if (restore_state(run, err) != R1_OK) return R1_ERR;
        r1_checkpoint_free(&run->ck);
        run->have_ck = 0;
    }
    return R1_OK;
}

int r1_lm_run_is_finished(const r1_lm_run *run, const r1_pretrain_config *cfg) {
    return run->start_step == (uint64_t)cfg->steps;
}

/* ---- the loop ---- */

/* the last column only when the model has an MTP module */
static const char *const metric_columns[] = {"loss", "lr", "grad_norm", "tokens_per_s", "mtp_loss"};
enum { N_METRICS = sizeof metric_columns / sizeof metric_columns[0] };
static const char *const plotted[] = {"loss", "mtp_loss"};

static int has_mtp(const r1_lm_run *run) { return run->model.cfg.mtp_weight > 0.0f; }

static int plot_loss(const r1_lm_run *run, r1_err *err) {
    char title[96];
    snprintf(title, sizeof title, "r1 train %s: cross-entropy (nats/token)", run->stage);
    return r1_metrics_plot_svg(run->metrics_path, run->plot_path, title, plotted, 1 + has_mtp(run), err);
}

static int export_model(const r1_lm_run *run, r1_err *err) {
    r1_gguf vocab;
    if (r1_gguf_open(&vocab, run->vocab_path, err) != R1_OK) return R1_ERR;
    int rc = r1_train_export_gguf(&run->model, run->model_path, &vocab, err);
    r1_gguf_close(&vocab);
    return rc;
}

/* The final checkpoint and plot, and the export when the run is complete. */
static int save_run(r1_lm_run *run, const r1_pretrain_config *cfg, char **settings, size_t n_settings, uint64_t step,
                    r1_err *err) {
    if (save_checkpoint(run, cfg, settings, n_settings, step, err) != R1_OK || plot_loss(run, err) != R1_OK)
        return R1_ERR;
    return step == (uint64_t)cfg->steps ? export_model(run, err) : R1_OK;
}

static int train_loop(r1_lm_run *run, const r1_pretrain_config *cfg, char **settings, size_t n_settings,
                      const r1_pretrain_options *opts, r1_pretrain_result *res, r1_err *err) {
    r1_train_model *m = &run->model;
    const int B = cfg->model.batch, T = cfg->model.seq_len;
    const uint64_t start = run->start_step, total = (uint64_t)cfg->steps;
    uint64_t stop = total;
    if (opts->stop_after > 0 && (uint64_t)opts->stop_after < stop) stop = (uint64_t)opts->stop_after;
    r1_progress bar;
    char label[64];
    if (start) snprintf(label, sizeof label, "%s (from step %llu)", run->stage, (unsigned long long)start);
    else snprintf(label, sizeof label, "%s", run->stage);
    if (!opts->quiet) r1_progress_start(&bar, label, "step", total - start);
    double t0 = now_seconds(), tokens_run = 0;
    char line[160] = "";
    uint64_t step = start;
    for (; step < stop; step++) {
        if (opts->interrupted && *opts->interrupted) break;
        double t_step = now_seconds();
        if (r1_data_batch(&run->data, step, err) != R1_OK) return R1_ERR;
        float loss;
        r1_train_zero_grad(m);
        m->doc_start = run->data.doc_start;
        if (r1_train_forward(m, run->data.tokens, run->data.targets, B, T, &loss, err) != R1_OK) return R1_ERR;
        r1_train_backward(m);
        float grad_norm =
            r1_clip_grad_norm_pool(m->pool, m->grads, m->n_params, cfg->clip > 0 ? cfg->clip : INFINITY);
        if (!isfinite(grad_norm) || !isfinite(m->ce_loss))
            return r1_fail(err, "%s: step %llu: loss %g, gradient norm %g: training diverged (run again with a "
                                "lower --lr; a checkpoint already written can be that run's --init)",
                           run->stage, (unsigned long long)step + 1, m->ce_loss, grad_norm);
        float lr = r1_lr_schedule((int)step, cfg->warmup, cfg->steps, cfg->opt.lr, cfg->lr_min);
        r1_adamw_step_pool(m->pool, &run->opt, m->params, m->grads, lr, run->decay_mask);
        r1_train_update_bias(m, m->cfg.bias_gamma);

        double seconds = now_seconds() - t_step, tokens = run->data.n_targets + run->data.n_examples;
        tokens_run += tokens;
        if (step == start) res->first_loss = m->ce_loss;
        res->last_loss = m->ce_loss;
        uint64_t done = step + 1;
        run->steps_taken = done - start;
        if (done % (uint64_t)cfg->log_every == 0 || done == total) {
            double row[N_METRICS] = {m->ce_loss, lr, grad_norm, seconds > 0 ? tokens / seconds : 0, m->mtp_loss};
            if (r1_metrics_log(&run->metrics, done, row, err) != R1_OK) return R1_ERR;
        }
        double elapsed = now_seconds() - t0;
        int n = snprintf(line, sizeof line, "loss %.3f", m->ce_loss);
        if (has_mtp(run)) n += snprintf(line + n, sizeof line - (size_t)n, " mtp %.3f", m->mtp_loss);
        snprintf(line + n, sizeof line - (size_t)n, " lr %.2e gnorm %.2f %.0f tok/s", lr, grad_norm,
                 elapsed > 0 ? tokens_run / elapsed : 0);
        if (!opts->quiet) r1_progress_update(&bar, done - start, line);
        if (opts->checkpoint_every > 0 && done % (uint64_t)opts->checkpoint_every == 0 && done < total &&
            (save_checkpoint(run, cfg, settings, n_settings, done, err) != R1_OK || plot_loss(run, err) != R1_OK))
            return R1_ERR;
    }
    if (!opts->quiet) r1_progress_finish(&bar, step - start, line);
    res->steps_done = step;
    res->seconds = now_seconds() - t0;
    res->tokens_per_s = res->seconds > 0 ? tokens_run / res->seconds : 0;
    if (save_run(run, cfg, settings, n_settings, step, err) != R1_OK) return R1_ERR;
    res->finished = step == total;
    return R1_OK;
}

int r1_lm_run_train(r1_lm_run *run, const r1_pretrain_config *cfg, char **settings, size_t n_settings,
                    const r1_pretrain_options *opts, r1_pretrain_result *res, r1_err *err) {
    memset(res, 0, sizeof *res);
    res->start_step = run->start_step;
    res->total_steps = (uint64_t)cfg->steps;
    res->n_params = run->model.n_params;
    if (r1_lm_run_is_finished(run, cfg)) {
        res->steps_done = run->start_step;
        res->was_finished = res->finished = 1;
        return access(run->model_path, F_OK) == 0 ? R1_OK : export_model(run, err);
    }
    char comment[96];
    snprintf(comment, sizeof comment, "r1 train %s settings (also stored in checkpoint.gguf)", run->stage);
    if (r1_settings_write_file(run->config_path, run->stage, comment, settings, n_settings, err) != R1_OK)
        return R1_ERR;
    run->decay_mask = r1_calloc(err, run->model.n_params, 1, "decay mask");
    if (!run->decay_mask) return R1_ERR;
    for (int i = 0; i < run->model.n_tensors; i++) {
        const r1_train_tensor *t = &run->model.tensors[i];
        if (t->grad && t->decay) memset(run->decay_mask + (t->data - run->model.params), 1, t->size);
    }
    if (r1_metrics_open(&run->metrics, run->metrics_path, metric_columns, N_METRICS - !has_mtp(run),
                        opts->resume ? (int64_t)run->start_step : -1, err) != R1_OK)
        return R1_ERR;
    return train_loop(run, cfg, settings, n_settings, opts, res, err);
}

/* The files a failed new run wrote (see r1_lm_run_free); errors are ignored, as
 * each file may never have been written. */
static void remove_failed_run(const r1_lm_run *run) {
    const char *files[5];
    char lock[1100];
    removable_files(run, files, lock);
    for (int i = 0; i < 5; i++)
        if (run->new_file[i]) unlink(files[i]);
    /* the directories it made, inner first, while they are empty (rmdir fails otherwise) */
    char dir[sizeof run->dir];
    for (int i = run->n_made_dirs - 1; i >= 0; i--) {
        snprintf(dir, sizeof dir, "%.*s", (int)run->made_dirs[i], run->dir);
        if (rmdir(dir) != 0) break;
    }
}

void r1_lm_run_free(r1_lm_run *run) {
    if (run->fresh && run->have_lock && run->steps_taken == 0 && access(run->checkpoint_path, F_OK) != 0)
        remove_failed_run(run);
    r1_train_model_free(&run->model);
    r1_pool_free(run->pool);
    r1_adamw_free(&run->opt);
    r1_data_free(&run->data);
    r1_tokenizer_free(run->tok);
    r1_metrics_close(&run->metrics);
    free(run->decay_mask);
    if (run->have_ck) r1_checkpoint_free(&run->ck);
    if (run->have_lock) close(run->lock_fd); /* and with it the lock */
    memset(run, 0, sizeof *run);
}
