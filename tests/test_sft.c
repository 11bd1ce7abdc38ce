/* `r1 train sft`, `r1 sample` and `r1 train distill`: the traces file (good lines,
 * every kind of bad line, the writer's round trip), the settings round trip, batches
 * of in-memory examples with the loss on completions only, an sft run whose loss
 * falls on a repeated trace and whose stopped-and-resumed twin ends bit for bit the
 * same, sampling with the correct-only filter, problem sets one by one and as a mix
 * and read from a file (good and bad bytes), and distill's two phases with resume.
 * The teacher is a tiny model trained in a second to recite one trace. */
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test_files.h"
#include "test_runs.h"

#include "train/data.h"
#include "train/distill.h"
#include "train/problem_set.h"
#include "train/sample_traces.h"
#include "train/sft.h"
#include "train/traces_file.h"
#include "train/vocab.h"

/* ---- helpers ---- */

static int write_bytes(const char *path, const char *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t wrote = fwrite(bytes, 1, n, f);
    return fclose(f) == 0 && wrote == n;
}

static int write_text(const char *path, const char *text) { return write_bytes(path, text, strlen(text)); }

static int same_files(const char *a_path, const char *b_path) {
    size_t na = 0, nb = 0;
    char *a = read_file(a_path, &na), *b = read_file(b_path, &nb);
    int same = a && b && na == nb && !memcmp(a, b, na);
    free(a);
    free(b);
    return same;
}

static int count_lines(const char *path) {
    size_t n = 0;
    char *text = read_file(path, &n);
    int lines = 0;
    for (size_t i = 0; text && i < n; i++) lines += text[i] == '\n';
    free(text);
    return text ? lines : -1;
}

typedef struct {
    int n;
    char prompts[4][64];
    char completions[4][96];
    size_t completion_len[4];
    double rewards[4];
    char tasks[4][16];
} collected;

static int collect(void *ctx, const r1_trace_record *rec, long line_no, r1_err *err) {
    (void)line_no, (void)err;
    collected *c = ctx;
    if (c->n < 4) {
        snprintf(c->prompts[c->n], sizeof c->prompts[0], "%s", rec->prompt);
        memcpy(c->completions[c->n], rec->completion, rec->completion_len < 95 ? rec->completion_len : 95);
        c->completion_len[c->n] = rec->completion_len;
        c->rewards[c->n] = rec->reward;
        snprintf(c->tasks[c->n], sizeof c->tasks[0], "%s", rec->task);
    }
    c->n++;
    return R1_OK;
}

/* Reads text (written to a scratch file) and returns R1_OK or the error in err. */
static int read_traces_text(const char *text, collected *c, r1_err *err) {
    const char *path = scratch_path("traces.jsonl");
    memset(c, 0, sizeof *c);
    if (!write_text(path, text)) return r1_fail(err, "cannot write %s", path);
    return r1_traces_file_read(path, collect, c, NULL, err);
}

static const char trace_line[] =
    "{\"prompt\": \"What is 47 * 75?\", \"completion\": \"47 * 75 = 3525</think>\\n<answer>3525</answer>\"}\n";

/* A model of T = 64 small enough to train in well under a second. */
static r1_sft_config tiny_sft(const char *traces, int steps) {
    r1_sft_config c = r1_sft_default_config();
    r1_train_config *m = &c.base.model;
    m->vocab = R1_VOCAB_SIZE, m->dim = 32, m->n_layers = 2, m->n_heads = 2, m->q_lora_rank = 16;
    m->kv_lora_rank = 16, m->qk_nope = 8, m->qk_rope = 8, m->v_head = 8, m->ffn_dim = 64, m->n_experts = 4;
    m->expert_ffn = 16, m->n_groups = 2, m->seq_len = 64, m->batch = 2;
    c.base.steps = steps, c.base.warmup = 0, c.base.opt.lr = 1e-2f, c.base.lr_min = 1e-3f;
    snprintf(c.traces, sizeof c.traces, "%s", traces);
    return c;
}

/* ---- the traces file ---- */

static void test_traces_good_lines(test_ctx *t) {
    collected c;
    r1_err err;
    CHECK(read_traces_text("\n{\"prompt\": \"p1\", \"completion\": \"c1\", \"reward\": 1, \"task\": \"countdown\"}\r\n"
                           "   \n"
                           "{\"completion\": \"a\\u0000b\", \"extra\": [1, {}], \"prompt\": \"caf\\u00e9\"}\n"
                           "{\"prompt\": \"p3\", \"completion\": \"c3\", \"reward\": 0.1}",
                           &c, &err) == R1_OK,
          "%s", err.msg);
    CHECK(c.n == 3, "%d records", c.n);
    CHECK(!strcmp(c.prompts[0], "p1") && !strcmp(c.completions[0], "c1") && c.rewards[0] == 1 &&
              !strcmp(c.tasks[0], "countdown"),
          "record 1");
    CHECK(!strcmp(c.prompts[1], "caf\xc3\xa9") && c.completion_len[1] == 3 && !memcmp(c.completions[1], "a\0b", 3) &&
              isnan(c.rewards[1]) && !c.tasks[1][0],
          "record 2: NUL in the completion, defaults for the optional fields");
    CHECK(fabs(c.rewards[2] - 0.1) < 1e-12, "reward %g", c.rewards[2]);
}

/* Every bad line fails with the file, its line number and what is wrong. */
static void test_traces_bad_lines(test_ctx *t) {
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"prompt\": \"p\", \"completion\": \"c\"}\n{\"prompt\": \"p\", \"completion\": \n", ":2: not valid JSON"},
        {"\n\n{\"prompt\": \"p\"}\n", ":3: \"completion\" is missing"},
        {"{\"completion\": \"c\"}\n", ":1: \"prompt\" is missing"},
        {"{\"prompt\": 7, \"completion\": \"c\"}\n", "\"prompt\" must be a string, got a number"},
        {"{\"prompt\": \"p\", \"completion\": \"\"}\n", "\"completion\" is empty"},
        {"{\"prompt\": \"p\\u0000q\", \"completion\": \"c\"}\n", "\"prompt\" holds a NUL"},
        {"{\"prompt\": \"p\", \"completion\": \"c\", \"reward\": \"high\"}\n", "\"reward\" must be a number"},
        {"{\"prompt\": \"p\", \"completion\": \"c\", \"task\": 3}\n", "\"task\" must be a string"},
        {"{\"prompt\": \"p\", \"prompt\": \"q\", \"completion\": \"c\"}\n", ":1: not valid JSON"},
        {"[\"prompt\", \"completion\"]\n", "expected a JSON object, got an array"},
        {"{\"prompt\": \"p\", \"completion\": \"\xff\xfe\"}\n", ":1: not valid JSON"},
        {"{\"prompt\": \"caf\xc3\", \"completion\": \"c\"}\n", ":1: not valid JSON"},
        {"", "holds no traces"},
        {"\n  \n\r\n", "holds no traces"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collected c;
        r1_err err = {""};
        int rc = read_traces_text(cases[i].text, &c, &err);
        CHECK(rc == R1_ERR && strstr(err.msg, "traces.jsonl") && strstr(err.msg, cases[i].want),
              "case %zu: rc %d, error '%s', want '%s'", i, rc, err.msg, cases[i].want);
    }
    r1_err err;
    CHECK(r1_traces_file_read("/nonexistent/t.jsonl", collect, NULL, NULL, &err) == R1_ERR &&
              strstr(err.msg, "/nonexistent/t.jsonl"),
          "missing file: %s", err.msg);
    CHECK(r1_traces_file_read(test_scratch_dir(), collect, NULL, NULL, &err) == R1_ERR &&
              strstr(err.msg, test_scratch_dir()) && strstr(err.msg, "Is a directory"),
          "a directory: %s", err.msg);
    /* a raw NUL byte (a NUL in a completion is written \u0000) */
    static const char nul_after[] = "{\"prompt\": \"p\", \"completion\": \"c\"}\0junk\n";
    const char *path = scratch_path("nul.jsonl");
    CHECK(write_bytes(path, nul_after, sizeof nul_after - 1), "cannot write %s", path);
    CHECK(r1_traces_file_read(path, collect, NULL, NULL, &err) == R1_ERR &&
              strstr(err.msg, "nul.jsonl:1: a NUL byte at column 35"),
          "NUL after the object: %s", err.msg);
}

/* What the writer writes, the reader reads back; rewards print as 1 and 0.1. */
static void test_traces_write_read(test_ctx *t) {
    const char *path = scratch_path("written.jsonl");
    FILE *f = fopen(path, "w");
    CHECK(f, "cannot create %s", path);
    r1_err err;
    r1_trace_record recs[3] = {
        {.prompt = "What is 2 + 3?", .completion = "2 + 3 = 5</think>\n<answer>5</answer>", .completion_len = 36,
         .reward = 1, .task = "arithmetic"},
        {.prompt = "q \"quoted\"", .completion = "bad \xff utf8", .completion_len = 10, .reward = 0.1f, .task = ""},
        {.prompt = "r", .completion = "x\0y", .completion_len = 3, .reward = NAN, .task = NULL},
    };
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) ok = r1_traces_file_write(f, &recs[i], &err) == R1_OK;
    fclose(f);
    CHECK(ok, "%s", err.msg);
    size_t n;
    char *text = read_file(path, &n);
    CHECK(text, "no file");
    int formatted = strstr(text, "{\"prompt\": \"What is 2 + 3?\", \"completion\": \"2 + 3 = 5</think>\\n<answer>5"
                                 "</answer>\", \"reward\": 1, \"task\": \"arithmetic\"}\n") &&
                    strstr(text, "\"reward\": 0.1}") && strstr(text, "\"completion\": \"x\\u0000y\"}");
    free(text);
    CHECK(formatted, "unexpected format");
    collected c;
    memset(&c, 0, sizeof c);
    r1_traces_file_info info;
    CHECK(r1_traces_file_read(path, collect, &c, &info, &err) == R1_OK, "%s", err.msg);
    CHECK(c.n == 3 && info.n_records == 3, "%d records", c.n);
    CHECK(!strcmp(c.completions[0], recs[0].completion) && c.rewards[0] == 1 && !strcmp(c.tasks[0], "arithmetic"),
          "record 1 changed");
    CHECK(!strcmp(c.prompts[1], "q \"quoted\"") && !strcmp(c.completions[1], "bad \xef\xbf\xbd utf8"),
          "invalid UTF-8 not written as U+FFFD: '%s'", c.completions[1]);
    CHECK(c.completion_len[2] == 3 && !memcmp(c.completions[2], "x\0y", 3) && isnan(c.rewards[2]), "record 3");
}

/* ---- settings ---- */

static void test_settings_round_trip(test_ctx *t) {
    r1_sft_config a = tiny_sft("/some/traces.jsonl", 7), b = r1_sft_default_config();
    snprintf(a.base.init, sizeof a.base.init, "runs/pre");
    a.traces_hash = 0xFEDCBA9876543210ull;
    char **s;
    size_t n;
    r1_err err;
    CHECK(r1_sft_config_to_strings(&a, &s, &n, &err) == R1_OK, "%s", err.msg);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) ok = r1_sft_config_set(&b, s[i], &err) == R1_OK;
    r1_pretrain_config_free_strings(s, n);
    CHECK(ok, "%s", err.msg);
    CHECK(!memcmp(&a.base.model, &b.base.model, sizeof a.base.model) && a.base.steps == b.base.steps &&
              a.base.opt.lr == b.base.opt.lr && !strcmp(a.traces, b.traces) && !strcmp(a.base.init, b.base.init) &&
              a.traces_hash == b.traces_hash && b.base.data.prompt_loss == 0,
          "settings changed in the round trip");
    CHECK(r1_sft_config_set(&b, "sft.bogus=1", &err) == R1_ERR && strstr(err.msg, "sft.bogus"), "unknown key");
    CHECK(r1_sft_config_set(&b, "sft.traces_hash=12x", &err) == R1_ERR && strstr(err.msg, "traces_hash"), "bad value");
    char long_path[1100];
    memset(long_path, 'a', sizeof long_path);
    memcpy(long_path, "init=", 5);
    long_path[sizeof long_path - 1] = 0;
    CHECK(r1_sft_config_set(&b, long_path, &err) == R1_ERR && strstr(err.msg, "init"), "a path too long");
    snprintf(a.traces, sizeof a.traces, "two\nlines");
    CHECK(r1_sft_config_to_strings(&a, &s, &n, &err) == R1_ERR && strstr(err.msg, "line break"), "a line break");
}

/* ---- batches of examples ---- */

static void test_example_batches(test_ctx *t) {
    char path[PATH_SIZE];
    r1_tokenizer *tok;
    r1_err err;
    CHECK(r1_vocab_tokenizer(tmp_path(path, "vocab.gguf"), &tok, &err) == R1_OK, "%s", err.msg);
    r1_examples ex;
    memset(&ex, 0, sizeof ex);
    const char *completions[] = {"5</think>\n<answer>5</answer>", "7 * 3 + 5</think>\n<answer>7 * 3 + 5</answer>"};
    int n_prompt[2] = {0}, n_ids[2] = {0}, ok = 1;
    for (int i = 0; i < 2 && ok; i++) {
        char *text;
        size_t len, prompt_len;
        int *ids;
        ok = r1_data_render_example("What is 2 + 3?", completions[i], strlen(completions[i]), &text, &len,
                                    &prompt_len, &err) == R1_OK &&
             r1_data_tokenize_example(tok, text, len, prompt_len, &ids, &n_ids[i], &n_prompt[i], &err) == R1_OK;
        if (ok) ok = r1_examples_add(&ex, ids, n_ids[i], n_prompt[i], &err) == R1_OK && ids[0] == R1_VOCAB_BOS &&
                     ids[n_prompt[i] - 1] == '\n' && ids[n_prompt[i] - 2] == R1_VOCAB_THINK &&
                     ids[n_ids[i] - 1] == R1_VOCAB_EOS;
        if (ok) free(ids), free(text);
    }
    r1_tokenizer_free(tok);
    CHECK(ok, "rendering: %s", err.msg);
    r1_data_config dc = r1_data_default_config();
    dc.prompt_loss = 0;
    r1_data a, b;
    CHECK(r1_data_init_examples(&a, &ex, &dc, 3, 64, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_data_init_examples(&b, &ex, &dc, 3, 64, &err) == R1_OK, "%s", err.msg);
    ok = r1_data_batch(&a, 5, &err) == R1_OK && r1_data_batch(&b, 5, &err) == R1_OK;
    const size_t batch_bytes = 3 * 64 * sizeof(int);
    int same = ok && !memcmp(a.tokens, b.tokens, batch_bytes) && !memcmp(a.targets, b.targets, batch_bytes);
    /* each example: no target before its last prompt token, then every completion
     * token (EOS included) is a target */
    int well_formed = ok, pos = 0, row = 0, examples = 0, targets = 0;
    while (well_formed && row < 3) {
        const int *tk = a.tokens + row * 64, *tg = a.targets + row * 64;
        if (pos >= 64 || tk[pos] != R1_VOCAB_BOS) {
            row++, pos = 0;
            continue;
        }
        int which = pos + n_ids[0] <= 64 && tk[pos + n_ids[0] - 1] == R1_VOCAB_EOS ? 0 : 1;
        for (int i = 0; i < n_ids[which] && well_formed; i++) {
            int want = i + 1 >= n_prompt[which] && i + 1 < n_ids[which] ? tk[pos + i + 1] : -1;
            well_formed = tg[pos + i] == want;
            targets += want >= 0;
        }
        pos += n_ids[which], examples++;
    }
    r1_data_free(&b);
    CHECK(r1_data_init_examples(&b, &(r1_examples){0}, &dc, 3, 64, &err) == R1_ERR, "no examples accepted");
    int counted = a.n_targets, n_examples = a.n_examples;
    r1_data_free(&a);
    r1_examples_free(&ex);
    CHECK(ok, "%s", err.msg);
    CHECK(same, "the same step gave two batches");
    CHECK(well_formed && examples == n_examples && targets == counted && examples >= 3,
          "%d examples (%d counted), %d targets (%d counted)", examples, n_examples, targets, counted);
}

/* ---- the run ---- */

/* Loss falls on one repeated trace; stopped at 12 and resumed, the run ends with the
 * same checkpoint and model, byte for byte; the starting model may be a run
 * directory or its model.gguf; a changed traces file refuses the resume. */
static void test_sft_run_and_resume(test_ctx *t) {
    char traces[PATH_SIZE], pre[PATH_SIZE], full[PATH_SIZE], part[PATH_SIZE], a[PATH_SIZE + 32], b[PATH_SIZE + 32];
    CHECK(write_text(tmp_path(traces, "one.jsonl"), trace_line), "write");
    r1_err err;
    r1_pretrain_config pc = tiny_sft(traces, 2).base;
    pc.model.seq_len = 128, pc.data.trace.max_think_bytes = 60, pc.data.trace.max_dead_ends = 0;
    r1_pretrain_options po = {.out_dir = tmp_path(pre, "pre"), .quiet = 1};
    r1_pretrain_result pr;
    CHECK(r1_pretrain(&pc, &po, &pr, &err) == R1_OK, "pretrain: %s", err.msg);

    r1_sft_config c = tiny_sft(traces, 24);
    snprintf(c.base.init, sizeof c.base.init, "%s", pre);
    r1_pretrain_options full_opts = {.out_dir = tmp_path(full, "full"), .checkpoint_every = 10, .quiet = 1};
    r1_sft_result res;
    CHECK(r1_sft(&c, &full_opts, &res, &err) == R1_OK, "%s", err.msg);
    printf("  loss %.3f -> %.3f in %.2f s\n", res.run.first_loss, res.run.last_loss, res.run.seconds);
    CHECK(res.run.finished && res.n_traces == 1 && res.n_too_long == 0, "finished %d, %zu traces", res.run.finished,
          res.n_traces);
    CHECK(res.run.last_loss < res.run.first_loss - 1.5f, "loss %.3f -> %.3f", res.run.first_loss, res.run.last_loss);
    snprintf(a, sizeof a, "%s/metrics.csv", full);
    CHECK(count_lines(a) == 25, "metrics.csv has %d lines", count_lines(a));
    const char *files[] = {"loss.svg", "config.txt", "model.gguf"};
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s/%s", full, files[i]);
        CHECK(access(a, F_OK) == 0, "no %s", a);
    }

    /* the same from model.gguf, stopped after 12 steps, resumed with other settings */
    snprintf(c.base.init, sizeof c.base.init, "%s/model.gguf", pre);
    r1_pretrain_options part_opts = {.out_dir = tmp_path(part, "part"), .checkpoint_every = 10, .quiet = 1,
                                     .stop_after = 12};
    CHECK(r1_sft(&c, &part_opts, &res, &err) == R1_OK && !res.run.finished && res.run.steps_done == 12, "stop: %s",
          err.msg);
    part_opts.stop_after = 0, part_opts.resume = 1;
    r1_sft_config other = tiny_sft("/nonexistent.jsonl", 3);
    CHECK(r1_sft(&other, &part_opts, &res, &err) == R1_OK && res.run.finished && res.run.start_step == 12,
          "resume: %s", err.msg);
    char why[600] = "";
    snprintf(a, sizeof a, "%s/checkpoint.gguf", full);
    snprintf(b, sizeof b, "%s/checkpoint.gguf", part);
    CHECK(same_checkpoints(a, b, why, sizeof why), "the resumed run ends with another checkpoint: %s", why);
    snprintf(a, sizeof a, "%s/model.gguf", full);
    snprintf(b, sizeof b, "%s/model.gguf", part);
    CHECK(same_files(a, b), "the resumed run ends with another model");
    snprintf(b, sizeof b, "%s/metrics.csv", part);
    CHECK(count_lines(b) == 25, "resumed metrics.csv has %d lines", count_lines(b));

    /* a resume of a run whose traces changed is refused */
    part_opts.resume = 0, part_opts.stop_after = 5, part_opts.out_dir = tmp_path(part, "changed");
    CHECK(r1_sft(&c, &part_opts, &res, &err) == R1_OK, "%s", err.msg);
    char two[sizeof trace_line * 2];
    snprintf(two, sizeof two, "%s%s", trace_line, trace_line);
    CHECK(write_text(traces, two), "rewrite");
    part_opts.resume = 1, part_opts.stop_after = 0;
    CHECK(r1_sft(&c, &part_opts, &res, &err) == R1_ERR && strstr(err.msg, "changed"), "changed traces: %s", err.msg);
}

static void test_sft_errors(test_ctx *t) {
    char traces[PATH_SIZE], dir[PATH_SIZE];
    r1_err err;
    r1_sft_result res;
    r1_pretrain_options o = {.out_dir = tmp_path(dir, "bad_run"), .quiet = 1};
    r1_sft_config c = tiny_sft(tmp_path(traces, "bad.jsonl"), 2);
    CHECK(write_text(traces, "{\"prompt\": \"p\", \"completion\": \"c\"}\n{\"prompt\": \"p\"}\n"), "write");
    CHECK(r1_sft(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "bad.jsonl:2: \"completion\" is missing"), "%s",
          err.msg);
    CHECK(access(dir, F_OK) != 0, "a failed start made %s", dir);
    c.base.model.seq_len = 16;
    CHECK(write_text(traces, trace_line), "write");
    CHECK(r1_sft(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "longer than seq 16"), "%s", err.msg);
    c = tiny_sft(traces, 2);
    snprintf(c.base.init, sizeof c.base.init, "%s", traces);
    CHECK(r1_sft(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "bad.jsonl"), "a JSONL file as --init: %s", err.msg);
    snprintf(c.base.init, sizeof c.base.init, "/nonexistent/run");
    CHECK(r1_sft(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "/nonexistent/run"), "%s", err.msg);
    o.resume = 1, o.out_dir = tmp_path(dir, "no_run");
    CHECK(r1_sft(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "--resume"), "%s", err.msg);
}

/* ---- sampling and distillation ---- */

/* A model that has learned the one trace by heart: the teacher, asked the first
 * arithmetic train problem of seed 0 (What is 47 * 75?), answers it right. */
static int make_teacher(test_ctx *t, char *model, r1_err *err) {
    char traces[PATH_SIZE], dir[PATH_SIZE];
    if (access(tmp_path(model, "teacher/model.gguf"), F_OK) == 0) return R1_OK;
    if (!write_text(tmp_path(traces, "teacher.jsonl"), trace_line)) return r1_fail(err, "write");
    r1_sft_config c = tiny_sft(traces, 60);
    c.base.model.n_layers = 1, c.base.model.batch = 1;
    r1_pretrain_options o = {.out_dir = tmp_path(dir, "teacher"), .quiet = 1};
    r1_sft_result res;
    (void)t;
    return r1_sft(&c, &o, &res, err);
}

static void test_sample_filter(test_ctx *t) {
    char model[PATH_SIZE], all[PATH_SIZE], correct[PATH_SIZE], tmp[PATH_SIZE + 8];
    r1_err err;
    CHECK(make_teacher(t, model, &err) == R1_OK, "teacher: %s", err.msg);
    r1_problem_set problems;
    CHECK(r1_problem_set_generate(&problems, "arithmetic", R1_SPLIT_TRAIN, 3, 0, &err) == R1_OK, "%s", err.msg);
    r1_rollout_params rp = r1_rollout_defaults();
    rp.model_path = model, rp.k = 2, rp.gen.max_tokens = 40, rp.threads = 1, rp.gen.sampling.temperature = 0;
    r1_sample_result res;
    int rc = r1_sample_traces(&rp, R1_SAMPLE_KEEP_ALL, problems.items, problems.n, tmp_path(all, "all.jsonl"), 1,
                              &res, &err);
    CHECK(rc == R1_OK && res.problems == 3 && res.samples == 6 && res.kept == 6 && res.correct == 2, "all: %s",
          rc ? err.msg : "counts");
    rc = r1_sample_traces(&rp, R1_SAMPLE_KEEP_CORRECT, problems.items, problems.n, tmp_path(correct, "ok.jsonl"), 1,
                          &res, &err);
    CHECK(rc == R1_OK && res.kept == 2, "correct: %s", rc ? err.msg : "counts");
    collected c;
    memset(&c, 0, sizeof c);
    CHECK(r1_traces_file_read(correct, collect, &c, NULL, &err) == R1_OK, "%s", err.msg);
    CHECK(c.n == 2 && !strcmp(c.prompts[0], "What is 47 * 75?") && c.rewards[0] == 1 &&
              !strcmp(c.tasks[0], "arithmetic") && strstr(c.completions[0], "<answer>3525</answer>"),
          "kept: %d, '%s' -> '%s'", c.n, c.prompts[0], c.completions[0]);
    CHECK(count_lines(all) == 6, "all.jsonl has %d lines", count_lines(all));
    snprintf(tmp, sizeof tmp, "%s.tmp", correct);
    CHECK(access(tmp, F_OK) != 0, "a .tmp file was left");
    /* interrupted before the first problem: nothing written */
    volatile sig_atomic_t stop = 1;
    rp.interrupted = &stop;
    rc = r1_sample_traces(&rp, R1_SAMPLE_KEEP_ALL, problems.items, problems.n, tmp_path(all, "none.jsonl"), 1, &res,
                          &err);
    r1_problem_set_free(&problems);
    CHECK(rc == R1_OK && res.interrupted && access(all, F_OK) != 0, "interrupted sampling wrote a file");
}

/* The sound filter keeps a Countdown search only when every line is true: the same
 * right answer after a rest list copied wrong (22 from 51, 4) is left out, and so is
 * a search cut off before `</think>`. Arithmetic has no step checker: always sound. */
static void test_sample_sound(test_ctx *t) {
    r1_problem p;
    memset(&p, 0, sizeof p);
    p.kind = R1_TASK_COUNTDOWN, p.n_numbers = 3, p.target = 26;
    p.numbers[0] = 51, p.numbers[1] = 81, p.numbers[2] = 4;
    const char *good = "26 - 4 = 22, 22 from 51, 81: 81 - 51 = 30. No.\n"
                       "81 - 26 = 55, 55 from 51, 4: 51 + 4 = 55. Yes.\n</think>\n<answer>81 - (51 + 4)</answer>";
    const char *slip = "26 - 4 = 22, 22 from 51, 4: 51 - 4 = 47. No.\n"
                       "81 - 26 = 55, 55 from 51, 4: 51 + 4 = 55. Yes.\n</think>\n<answer>81 - (51 + 4)</answer>";
    CHECK(r1_sample_sound(&p, good, strlen(good)), "a true search was judged unsound");
    CHECK(!r1_sample_sound(&p, slip, strlen(slip)), "a wrong rest list was judged sound");
    CHECK(!r1_sample_sound(&p, good, 40), "a search cut off was judged sound");
    r1_problem a;
    memset(&a, 0, sizeof a);
    a.kind = R1_TASK_ARITHMETIC;
    CHECK(r1_sample_sound(&a, "x", 1), "arithmetic is always sound");
    r1_sample_filter f;
    r1_err err;
    CHECK(r1_sample_filter_by_name("sound", &f, &err) == R1_OK && f == R1_SAMPLE_KEEP_SOUND, "the name");
    CHECK(r1_sample_filter_by_name("sure", &f, &err) != R1_OK && strstr(err.msg, "sure"), "a bad name");
}

/* A generated set is its problems one by one (what grpo draws); a mix alternates the
 * tasks, Countdown first; an unknown task is named. */
static void test_problem_sets(test_ctx *t) {
    r1_err err;
    r1_problem_set set;
    CHECK(r1_problem_set_generate(&set, "mix", R1_SPLIT_TEST, 6, 5, &err) == R1_OK && set.n == 6, "%s", err.msg);
    for (long i = 0; i < set.n; i++) {
        r1_problem p;
        char a[256], b[256];
        CHECK(r1_problem_generate("mix", R1_SPLIT_TEST, (uint64_t)i, 5, &p, &err) == R1_OK, "%s", err.msg);
        r1_task_prompt(&p, a, sizeof a);
        r1_task_prompt(&set.items[i], b, sizeof b);
        CHECK(!strcmp(a, b) && p.kind == (r1_task_kind)(i % 2), "problem %ld: '%s' vs '%s'", i, a, b);
    }
    r1_problem_set_free(&set);
    r1_problem p;
    CHECK(r1_problem_generate("sudoku", R1_SPLIT_TRAIN, 0, 0, &p, &err) == R1_ERR && strstr(err.msg, "sudoku"),
          "unknown task: %s", err.msg);
    CHECK(r1_problem_set_generate(&set, "sudoku", R1_SPLIT_TRAIN, 0, 0, &err) == R1_ERR, "an unknown task for n 0");
}

/* Problems from a JSONL file (`r1 eval --file`): blank lines skipped, --n's limit,
 * a byte-order mark skipped at the start of the file;
 * a NUL byte anywhere in a line fails with the file, line and column, where the
 * C-string parser would have read the line only up to it; a directory fails with
 * the reason. */
static void test_problem_files(test_ctx *t) {
    const char *path = scratch_path("problems.jsonl");
    r1_problem_set set;
    r1_err err;
    CHECK(write_text(path, "\n{\"numbers\": [7, 3, 5], \"target\": 26}\r\n  \n"
                           "{\"question\": \"What is 2 + 3?\", \"answer\": 5}"),
          "cannot write %s", path);
    CHECK(r1_problem_set_read(&set, path, NULL, -1, &err) == R1_OK && set.n == 2 &&
              set.items[0].kind == R1_TASK_COUNTDOWN && set.items[1].kind == R1_TASK_ARITHMETIC,
          "%s", err.msg);
    r1_problem_set_free(&set);
    CHECK(r1_problem_set_read(&set, path, "countdown", 1, &err) == R1_OK && set.n == 1, "limit 1: %s", err.msg);
    r1_problem_set_free(&set);
    /* a byte-order mark opens the file, not a later line */
    CHECK(write_text(path, "\xEF\xBB\xBF{\"numbers\": [7, 3, 5], \"target\": 26}\n"), "cannot write %s", path);
    CHECK(r1_problem_set_read(&set, path, NULL, -1, &err) == R1_OK && set.n == 1, "a BOM first: %s", err.msg);
    r1_problem_set_free(&set);
    CHECK(write_text(path, "{\"numbers\": [7, 3, 5], \"target\": 26}\n"
                           "\xEF\xBB\xBF{\"numbers\": [7, 3, 5], \"target\": 26}\n"),
          "cannot write %s", path);
    CHECK(r1_problem_set_read(&set, path, NULL, -1, &err) == R1_ERR && strstr(err.msg, "problems.jsonl:2:"),
          "a BOM on line 2: %s", err.msg);
    static const struct {
        const char *bytes;
        size_t n;
        const char *want;
    } cases[] = {
#define BYTES(s) s, sizeof s - 1
        {BYTES("{\"numbers\": [7, 3, 5], \"target\": 26}\0{\"x\": 1}\n"), "problems.jsonl:1: a NUL byte at column 37"},
        {BYTES("\0{\"numbers\": [7, 3, 5], \"target\": 26}\n"), "problems.jsonl:1: a NUL byte at column 1"},
        {BYTES("{\"numbers\": [7, 3, 5], \"target\": 26}\n\0\n"), "problems.jsonl:2: a NUL byte at column 1"},
        {BYTES("{\"numbers\": [7, 3, 5], \"target\": 26}\n \0 \n"), "problems.jsonl:2: a NUL byte at column 2"},
        {BYTES("{\"question\": \"a\\u0000b\", \"answer\": \"5\"}\n"), "problems.jsonl:1: a \\u0000 (NUL) in a string"},
#undef BYTES
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(write_bytes(path, cases[i].bytes, cases[i].n), "cannot write %s", path);
        err.msg[0] = '\0';
        CHECK(r1_problem_set_read(&set, path, NULL, -1, &err) == R1_ERR && strstr(err.msg, cases[i].want),
              "case %zu: error '%s', want '%s'", i, err.msg, cases[i].want);
    }
    CHECK(r1_problem_set_read(&set, test_scratch_dir(), NULL, -1, &err) == R1_ERR &&
              strstr(err.msg, test_scratch_dir()) && strstr(err.msg, "Is a directory"),
          "a directory: %s", err.msg);
}

/* The default distillation settings with make_teacher's model as the teacher. */
static r1_distill_config taught_by(const char *model) {
    r1_distill_config c = r1_distill_default_config();
    snprintf(c.teacher, sizeof c.teacher, "%s", model);
    return c;
}

static void test_distill_phases(test_ctx *t) {
    char model[PATH_SIZE], dir[PATH_SIZE], path[PATH_SIZE + 32];
    r1_err err;
    CHECK(make_teacher(t, model, &err) == R1_OK, "teacher: %s", err.msg);
    r1_distill_config c = taught_by(model);
    snprintf(c.task, sizeof c.task, "arithmetic");
    c.n = 2, c.k = 2, c.max_tokens = 40, c.threads = 1, c.temperature = 0;
    c.student = tiny_sft("", 6);
    c.student.base.model.n_layers = 1;
    /* interrupted while sampling: settings written, no traces, then resumed */
    volatile sig_atomic_t stop = 1;
    r1_pretrain_options o = {.out_dir = tmp_path(dir, "distill"), .quiet = 1, .interrupted = &stop};
    r1_distill_result res;
    CHECK(r1_distill(&c, &o, &res, &err) == R1_OK && res.sampled && res.sample.interrupted && !res.trained,
          "interrupted: %s", err.msg);
    snprintf(path, sizeof path, "%s/teacher-traces.jsonl", dir);
    CHECK(access(path, F_OK) != 0, "an interrupted sampling left traces");
    stop = 0;
    CHECK(r1_distill(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "--resume"), "a second run in DIR");
    /* resumed: samples, then stops the student after 3 steps */
    r1_distill_config ignored = r1_distill_default_config();
    o.resume = 1, o.stop_after = 3;
    CHECK(r1_distill(&ignored, &o, &res, &err) == R1_OK && res.sampled && res.sample.kept == 2 && res.trained &&
              res.sft.run.steps_done == 3 && !res.sft.run.finished,
          "resume 1: %s", err.msg);
    CHECK(count_lines(path) == 2, "teacher-traces.jsonl has %d lines", count_lines(path));
    /* resumed again: no sampling, the student's run continues to the end */
    o.stop_after = 0;
    CHECK(r1_distill(&ignored, &o, &res, &err) == R1_OK && !res.sampled && res.sft.run.start_step == 3 &&
              res.sft.run.finished,
          "resume 2: %s", err.msg);
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    CHECK(access(path, F_OK) == 0, "no student model");
    /* a teacher with nothing right: a clear error, and the directory left free */
    c.n = 1, snprintf(c.task, sizeof c.task, "countdown");
    o = (r1_pretrain_options){.out_dir = tmp_path(dir, "distill_none"), .quiet = 1};
    CHECK(r1_distill(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "nothing to distill"), "%s", err.msg);
    CHECK(r1_distill(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "nothing to distill"), "retry: %s", err.msg);
    snprintf(c.task, sizeof c.task, "chess");
    CHECK(r1_distill(&c, &o, &res, &err) == R1_ERR && strstr(err.msg, "chess"), "bad task: %s", err.msg);
}

/* A student started from --init is the init's size, and distill.txt says so (it once
 * kept the default student's dim 128 and 2 layers beside `init=`). */
static void test_distill_init_settings(test_ctx *t) {
    char model[PATH_SIZE], dir[PATH_SIZE], path[PATH_SIZE + 32];
    r1_err err;
    CHECK(make_teacher(t, model, &err) == R1_OK, "teacher: %s", err.msg);
    r1_distill_config c = taught_by(model);
    snprintf(c.student.base.init, sizeof c.student.base.init, "%s", model);
    volatile sig_atomic_t stop = 1; /* settings written, then stopped before the first sample */
    r1_pretrain_options o = {.out_dir = tmp_path(dir, "distill_init"), .quiet = 1, .interrupted = &stop};
    r1_distill_result res;
    CHECK(r1_distill(&c, &o, &res, &err) == R1_OK && res.sample.interrupted, "%s", err.msg);
    snprintf(path, sizeof path, "%s/distill.txt", dir);
    size_t size;
    char *text = read_file(path, &size);
    CHECK(text && strstr(text, "\ndim=32\n") && strstr(text, "\nlayers=1\n"), "distill.txt: %s",
          text ? text : "missing");
    free(text);
}

TEST_MAIN("sft", T(test_traces_good_lines), T(test_traces_bad_lines), T(test_traces_write_read),
          T(test_settings_round_trip), T(test_example_batches), T(test_sft_run_and_resume), T(test_sft_errors),
          T(test_sample_filter), T(test_sample_sound), T(test_problem_sets), T(test_problem_files),
          T(test_distill_phases), T(test_distill_init_settings))
