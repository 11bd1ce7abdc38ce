/* `r1 train sft`: fine-tuning on a file of traces (see sft.h). */
#include "train/sft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "train/init_weights.h"
#include "train/lm_run.h"
#include "train/settings.h"
#include "train/traces_file.h"

/* ---- settings ---- */

#define S(key, type, member) R1_SETTING(key, R1_SETTING_##type, r1_sft_config, member)
static const r1_setting sft_fields[] = {
    S("sft.traces", STRING, traces),
    S("sft.traces_hash", U64, traces_hash),
};
#undef S
enum { N_SFT_FIELDS = sizeof sft_fields / sizeof sft_fields[0] };

r1_sft_config r1_sft_default_config(void) {
    r1_sft_config c = {.base = r1_pretrain_default_config()};
    c.base.steps = 500;
    c.base.warmup = 20;
    c.base.opt.lr = 3e-4f;
    c.base.lr_min = 3e-5f;
    c.base.data.prompt_loss = 0;
    return c;
}

int r1_sft_config_to_strings(const r1_sft_config *cfg, char ***strings, size_t *n, r1_err *err) {
    if (r1_pretrain_config_to_strings(&cfg->base, strings, n, err) != R1_OK) return R1_ERR;
    return r1_settings_append(sft_fields, N_SFT_FIELDS, cfg, strings, n, err);
}

int r1_sft_config_set(r1_sft_config *cfg, const char *key_value, r1_err *err) {
    if (strncmp(key_value, "sft.", 4) != 0) return r1_pretrain_config_set(&cfg->base, key_value, err);
    int found;
    return r1_settings_set(sft_fields, N_SFT_FIELDS, cfg, "sft", key_value, &found, err);
}

static int set_setting(void *cfg, const char *key_value, r1_err *err) { return r1_sft_config_set(cfg, key_value, err); }

/* ---- the traces as examples ---- */

typedef struct {
    const r1_tokenizer *tok;
    int T;
    r1_examples *examples;
    size_t n_too_long;
    int longest;
} example_loader;

static int add_trace(void *ctx, const r1_trace_record *rec, long line_no, r1_err *err) {
    (void)line_no;
    example_loader *l = ctx;
    char *text;
    size_t len, prompt_len;
    if (r1_data_render_example(rec->prompt, rec->completion, rec->completion_len, &text, &len, &prompt_len, err) !=
        R1_OK)
        return R1_ERR;
    int *ids = NULL, n = 0, n_prompt = 0;
    int rc = r1_data_tokenize_example(l->tok, text, len, prompt_len, &ids, &n, &n_prompt, err);
    free(text);
    if (rc == R1_OK && n > l->T) l->n_too_long++;
    else if (rc == R1_OK) rc = r1_examples_add(l->examples, ids, n, n_prompt, err);
    if (rc == R1_OK && n > l->longest) l->longest = n;
    free(ids);
    return rc;
}

static int count_trace(void *ctx, const r1_trace_record *rec, long line_no, r1_err *err) {
    (void)ctx, (void)rec, (void)line_no, (void)err;
    return R1_OK;
}

/* The traces file, read once without tokenizing: a bad file fails before the run
 * directory is made. */
static int check_traces(const r1_sft_config *cfg, r1_err *err) {
    if (!cfg->traces[0]) return r1_fail(err, "sft: no traces file (--data TRACES.jsonl)");
    struct stat st; /* read here, again to load, and on --resume to see it unchanged: a pipe cannot be */
    if (stat(cfg->traces, &st) == 0 && S_ISDIR(st.st_mode)) return r1_fail(err, "sft: %s is a directory", cfg->traces);
    if (stat(cfg->traces, &st) == 0 && !S_ISREG(st.st_mode))
        return r1_fail(err, "sft: %s is not a regular file: the traces are read more than once (save them to a file)",
                       cfg->traces);
    if (r1_traces_file_read(cfg->traces, count_trace, NULL, NULL, err) != R1_OK) return r1_fail_within(err, "sft: ");
    return R1_OK;
}

/* Reads cfg->traces into examples. A new run records the file's hash; a resumed
 * one checks it. */
static int load_traces(r1_sft_config *cfg, int resume, const r1_tokenizer *tok, r1_examples *examples,
                       r1_sft_result *res, r1_err *err) {
    example_loader loader = {.tok = tok, .T = cfg->base.model.seq_len, .examples = examples};
    r1_traces_file_info info;
    if (r1_traces_file_read(cfg->traces, add_trace, &loader, &info, err) != R1_OK) return r1_fail_within(err, "sft: ");
    res->n_traces = info.n_records;
    res->n_too_long = loader.n_too_long;
    res->seq_len = cfg->base.model.seq_len;
    if (examples->n == 0)
        return r1_fail(err, "sft: every trace of %s is longer than seq %d tokens (the longest is %d): raise --seq",
                       cfg->traces, cfg->base.model.seq_len, loader.longest);
    if (resume && info.hash != cfg->traces_hash)
        return r1_fail(err, "sft: %s changed since the run started (its batches would differ); restore it, or start "
                            "a new run",
                       cfg->traces);
    cfg->traces_hash = info.hash;
    return R1_OK;
}

/* ---- the run ---- */

int r1_sft(const r1_sft_config *cfg_in, const r1_pretrain_options *opts, r1_sft_result *res, r1_err *err) {
    memset(res, 0, sizeof *res);
    r1_sft_config cfg = *cfg_in;
    r1_init_weights init;
    int have_init = 0, rc = R1_ERR;
    r1_lm_run run;
    memset(&run, 0, sizeof run);
    r1_examples examples;
    memset(&examples, 0, sizeof examples);
    char **settings = NULL;
    size_t n_settings = 0;
    if (opts->resume) {
        if (r1_lm_run_open(&run, "sft", opts->out_dir, 1, err) != R1_OK) goto done;
        cfg = r1_sft_default_config();
        if (r1_lm_run_read_settings(&run, set_setting, &cfg, err) != R1_OK) goto done;
    } else {
        if (check_traces(&cfg, err) != R1_OK) return R1_ERR;
        if (r1_lm_run_open_init(&cfg.base, &init, &have_init, err) != R1_OK) return R1_ERR;
        /* a bad setting creates no directory */
        if (r1_pretrain_config_check(&cfg.base, err) != R1_OK) goto done;
        if (r1_lm_run_open(&run, "sft", opts->out_dir, 0, err) != R1_OK) goto done;
    }
    run.threads = opts->threads;
    if (r1_lm_run_build(&run, &cfg.base, err) != R1_OK) goto done;
    if (have_init && r1_init_weights_load(&init, &run.model, err) != R1_OK) goto done;
    if (!r1_lm_run_is_finished(&run, &cfg.base) &&
        (load_traces(&cfg, opts->resume, run.tok, &examples, res, err) != R1_OK ||
         r1_data_init_examples(&run.data, &examples, &cfg.base.data, cfg.base.model.batch, cfg.base.model.seq_len,
                               err) != R1_OK))
        goto done;
    if (r1_sft_config_to_strings(&cfg, &settings, &n_settings, err) != R1_OK) goto done;
    rc = r1_lm_run_train(&run, &cfg.base, settings, n_settings, opts, &res->run, err);
done:
    r1_settings_free_strings(settings, n_settings);
    r1_lm_run_free(&run);
    r1_examples_free(&examples);
    if (have_init) r1_init_weights_close(&init);
    return rc;
}
