/* `r1 train distill`: teacher traces, then sft of a student (see distill.h). */
#include "train/distill.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "infer/sampler.h"
#include "train/lm_run.h"
#include "train/problem_set.h"
#include "train/settings.h"

#define D(key, type, member) R1_SETTING(key, R1_SETTING_##type, r1_distill_config, member)
static const r1_setting fields[] = {
    D("distill.teacher", STRING, teacher),   D("distill.task", STRING, task),
    D("distill.n", INT, n),                  D("distill.k", INT, k),
    D("distill.max_tokens", INT, max_tokens), D("distill.threads", INT, threads),
    D("distill.temperature", FLOAT, temperature), D("distill.top_p", FLOAT, top_p),
    D("distill.seed", U64, seed),
};
#undef D
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

r1_distill_config r1_distill_default_config(void) {
    r1_distill_config c = {.task = "countdown", .n = 256, .k = 4, .max_tokens = 512, .temperature = 0.6f,
                           .top_p = 0.95f, .student = r1_sft_default_config()};
    r1_train_config *m = &c.student.base.model;
    m->dim = 128, m->n_layers = 2, m->n_dense_layers = 1, m->ffn_dim = 384;
    m->q_lora_rank = 48, m->kv_lora_rank = 32, m->expert_ffn = 64;
    r1_pretrain_config *b = &c.student.base;
    b->steps = 1000, b->warmup = 50, b->opt.lr = 2e-3f, b->lr_min = 2e-4f;
    return c;
}

int r1_distill_config_set(r1_distill_config *cfg, const char *key_value, r1_err *err) {
    if (strncmp(key_value, "distill.", 8) != 0) return r1_sft_config_set(&cfg->student, key_value, err);
    int found;
    return r1_settings_set(fields, N_FIELDS, cfg, "distill", key_value, &found, err);
}

static int set_setting(void *cfg, const char *key_value, r1_err *err) {
    return r1_distill_config_set(cfg, key_value, err);
}

static int check(const r1_distill_config *c, r1_err *err) {
    if (!c->teacher[0]) return r1_fail(err, "distill: no teacher model (--teacher MODEL.gguf)");
    if (c->n < 1 || c->k < 1 || c->k > 1024 || c->max_tokens < 1 || c->threads < 0)
        return r1_fail(err, "distill: n %d, k %d (1..1024), max_tokens %d must be positive, threads %d not negative",
                       c->n, c->k, c->max_tokens, c->threads);
    r1_sampler_params sampling = r1_sampler_defaults();
    sampling.temperature = c->temperature, sampling.top_p = c->top_p;
    if (r1_sampler_params_check(&sampling, err) != R1_OK) return r1_fail_within(err, "distill: ");
    r1_problem_set none; /* no problems, but the task name checked */
    if (r1_problem_set_generate(&none, c->task, R1_SPLIT_TRAIN, 0, c->seed, err) != R1_OK) return R1_ERR;
    return r1_pretrain_config_check(&c->student.base, err);
}

static int write_settings(const r1_distill_config *c, const char *path, r1_err *err) {
    char **strings = NULL;
    size_t n = 0;
    int rc = r1_sft_config_to_strings(&c->student, &strings, &n, err) == R1_OK &&
                     r1_settings_append(fields, N_FIELDS, c, &strings, &n, err) == R1_OK
                 ? r1_settings_write_file(path, "distill", "r1 train distill settings", strings, n, err)
                 : R1_ERR;
    r1_settings_free_strings(strings, n);
    return rc;
}

/* With --init the student's architecture is its weights' (sft takes it again when
 * it starts); taking it now makes distill.txt name the model that is trained rather
 * than the default student's size. */
static int take_init_architecture(r1_distill_config *c, r1_err *err) {
    r1_init_weights init;
    int have_init;
    if (r1_lm_run_open_init(&c->student.base, &init, &have_init, err) != R1_OK) return R1_ERR;
    if (have_init) r1_init_weights_close(&init);
    return R1_OK;
}

/* Phase 1: the teacher's correct traces into path. */
static int sample_teacher(const r1_distill_config *c, const char *path, const r1_pretrain_options *opts,
                          r1_sample_result *res, r1_err *err) {
    r1_problem_set problems;
    if (r1_problem_set_generate(&problems, c->task, R1_SPLIT_TRAIN, c->n, c->seed, err) != R1_OK) return R1_ERR;
    r1_rollout_params rp = r1_rollout_defaults();
    rp.model_path = c->teacher;
    rp.gen.sampling.temperature = c->temperature, rp.gen.sampling.top_p = c->top_p;
    rp.gen.max_tokens = c->max_tokens;
    rp.seed = c->seed, rp.k = c->k, rp.threads = c->threads;
    rp.interrupted = opts->interrupted;
    int rc = r1_sample_traces(&rp, R1_SAMPLE_KEEP_CORRECT, problems.items, problems.n, path, opts->quiet, res, err);
    r1_problem_set_free(&problems);
    if (rc == R1_OK && !res->interrupted && res->kept == 0) {
        unlink(path);
        return r1_fail(err, "distill: the teacher answered none of %ld samples correctly: nothing to distill (more "
                            "--n or --k, or a better teacher)",
                       res->samples);
    }
    return rc;
}

int r1_distill(const r1_distill_config *cfg_in, const r1_pretrain_options *opts, r1_distill_result *res,
               r1_err *err) {
    memset(res, 0, sizeof *res);
    r1_distill_config cfg = *cfg_in;
    const char *dir = opts->out_dir;
    char settings_path[1100], traces_path[1100], checkpoint_path[1100];
    if (!dir || !*dir) return r1_fail(err, "distill: no output directory");
    if (snprintf(settings_path, sizeof settings_path, "%s/distill.txt", dir) >= (int)sizeof settings_path ||
        snprintf(traces_path, sizeof traces_path, "%s/teacher-traces.jsonl", dir) >= (int)sizeof traces_path ||
        snprintf(checkpoint_path, sizeof checkpoint_path, "%s/checkpoint.gguf", dir) >= (int)sizeof checkpoint_path ||
        strlen(traces_path) >= sizeof cfg.student.traces)
        return r1_fail(err, "distill: path too long: %.200s", dir);
    /* the sampling phase writes the directory too: it holds the run lock that
     * the training phase's r1_lm_run_open takes after it (see phases below) */
    int lock_fd, rc = R1_ERR;
    if (opts->resume) {
        if (access(settings_path, F_OK) != 0)
            return r1_fail(err, "distill: --resume: no %s to continue", settings_path);
        if (r1_lm_run_lock_dir("distill", dir, &lock_fd, err) != R1_OK) return R1_ERR;
        cfg = r1_distill_default_config();
        if (r1_settings_read_file(settings_path, "distill", set_setting, &cfg, err) != R1_OK) goto unlock;
        cfg.threads = cfg_in->threads; /* how fast, not what: this run's -t */
        /* the file is checked as the command line was: an edited one fails here */
        if (check(&cfg, err) != R1_OK) {
            r1_fail_within(err, "%s: ", settings_path);
            goto unlock;
        }
    } else {
        snprintf(cfg.student.traces, sizeof cfg.student.traces, "%s", traces_path);
        if (take_init_architecture(&cfg, err) != R1_OK || check(&cfg, err) != R1_OK) return R1_ERR;
        if (r1_lm_run_make_dirs("distill", dir, NULL, 0, NULL, err) != R1_OK) return R1_ERR;
        if (r1_lm_run_lock_dir("distill", dir, &lock_fd, err) != R1_OK) return R1_ERR;
        if (access(settings_path, F_OK) == 0 || access(checkpoint_path, F_OK) == 0) {
            r1_fail(err, "distill: %s already holds a run: continue it with --resume, or choose another --out", dir);
            goto unlock;
        }
        if (write_settings(&cfg, settings_path, err) != R1_OK) goto unlock;
    }
    /* phase 1, the teacher's sampling, unless its traces are there */
    if (access(traces_path, F_OK) != 0) {
        res->sampled = 1;
        if (sample_teacher(&cfg, traces_path, opts, &res->sample, err) != R1_OK) {
            if (!opts->resume) unlink(settings_path); /* nothing was made: the directory is free again */
            goto unlock;
        }
        if (res->sample.interrupted) {
            rc = R1_OK;
            goto unlock;
        }
    }
    /* phase 2, the student's training: sft locks the directory itself */
    close(lock_fd);
    r1_pretrain_options sft_opts = *opts;
    sft_opts.resume = access(checkpoint_path, F_OK) == 0;
    res->trained = 1;
    return r1_sft(&cfg.student, &sft_opts, &res->sft, err);
unlock:
    close(lock_fd);
    return rc;
}
