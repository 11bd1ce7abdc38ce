/* `r1 train pretrain`: the vocabulary round-trips training text, batches are
 * deterministic and well-formed, metrics survive a resume, the loss falls, a run
 * stopped and resumed ends bit for bit where an uninterrupted one does, and the
 * exported model loads in the engine with its tokenizer. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test_files.h"
#include "test_runs.h"

#include "gguf/gguf.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/lm_run.h"
#include "train/metrics.h"
#include "train/pretrain.h"
#include "train/vocab.h"

/* ---- helpers ---- */

static char *read_text_file(const char *path) {
    size_t size;
    return read_file(path, &size);
}


static int count_lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

/* A model small enough for ~50 steps in a few seconds, every feature on: q-LoRA, a
 * dense layer then a MoE layer with grouped routing and a shared expert. Short
 * traces (one dead end at most) so they fit T = 128. */
static r1_pretrain_config tiny_config(void) {
    r1_pretrain_config c = r1_pretrain_default_config();
    r1_train_config *m = &c.model;
    m->dim = 32, m->n_layers = 2, m->n_dense_layers = 1, m->n_heads = 2;
    m->q_lora_rank = 16, m->kv_lora_rank = 16, m->qk_nope = 8, m->qk_rope = 8, m->v_head = 8;
    m->ffn_dim = 64, m->n_experts = 4, m->top_k = 2, m->n_shared = 1, m->expert_ffn = 32;
    m->n_groups = 2, m->n_groups_used = 2, m->seq_len = 128, m->batch = 4;
    c.data.trace.max_think_bytes = 100, c.data.trace.max_dead_ends = 1;
    c.steps = 48, c.warmup = 4, c.opt.lr = 3e-3f, c.lr_min = 3e-4f;
    return c;
}

static r1_tokenizer *vocab_tokenizer(test_ctx *t) {
    char path[PATH_SIZE];
    r1_tokenizer *tok = NULL;
    r1_err err;
    if (r1_vocab_tokenizer(tmp_path(path, "vocab.gguf"), &tok, &err) != R1_OK) {
        printf("  %s\n", err.msg);
        t->failed = 1;
    }
    return tok;
}

/* ---- vocabulary ---- */

/* Every training text encodes to ids that decode to the same bytes, the specials as
 * single tokens at the right ids; the byte tokens use GPT-2's spelling. */
static void test_vocab_round_trip(test_ctx *t) {
    r1_tokenizer *tok = vocab_tokenizer(t);
    if (!tok) return;
    r1_err err;
    char buf[64];
    CHECK(r1_tokenizer_n_vocab(tok) == R1_VOCAB_SIZE && r1_tokenizer_bos(tok) == R1_VOCAB_BOS &&
              r1_tokenizer_eos(tok) == R1_VOCAB_EOS && !r1_tokenizer_wants_bos(tok),
          "vocab %d bos %d eos %d", r1_tokenizer_n_vocab(tok), r1_tokenizer_bos(tok), r1_tokenizer_eos(tok));
    CHECK(!strcmp(r1_vocab_token_text(' ', buf), "Ġ") && !strcmp(r1_vocab_token_text('\n', buf), "Ċ") &&
              !strcmp(r1_vocab_token_text('a', buf), "a"),
          "GPT-2 byte spelling");
    CHECK(r1_token_lookup(tok, "<think>") == R1_VOCAB_THINK && r1_token_lookup(tok, "</answer>") == R1_VOCAB_END_ANSWER &&
              r1_token_lookup(tok, "<｜Assistant｜>") == R1_VOCAB_ASSISTANT && r1_token_is_special(tok, R1_VOCAB_USER),
          "special ids");
    r1_data_config dc = r1_data_default_config();
    for (int kind = 0; kind < R1_TASK_KIND_COUNT; kind++)
        for (uint64_t index = 0; index < 20; index++) {
            r1_problem p;
            CHECK(r1_task_generate(kind, R1_SPLIT_TRAIN, index, 1, &p) == R1_OK, "generate");
            char *text;
            size_t len, prompt_len;
            int rc = r1_data_example_text(&p, index, &dc.trace, &text, &len, &prompt_len, &err);
            if (rc == R1_TRACE_UNTOLD) continue; /* test_data_untold */
            CHECK(rc == R1_OK, "%s", err.msg);
            int *ids, n;
            int ok = r1_tokenize(tok, text, len, 0, 1, &ids, &n, &err) == R1_OK;
            if (!ok) free(text);
            CHECK(ok, "%s", err.msg);
            int n_think = 0, n_answer = 0;
            size_t at = 0;
            ok = ids[0] == R1_VOCAB_BOS && ids[1] == R1_VOCAB_USER && ids[n - 1] == R1_VOCAB_EOS;
            for (int i = 0; i < n && ok; i++) {
                const char *bytes;
                size_t blen;
                ok = r1_token_to_bytes(tok, ids[i], &bytes, &blen) == R1_OK && at + blen <= len &&
                     !memcmp(text + at, bytes, blen);
                at += blen;
                n_think += ids[i] == R1_VOCAB_THINK || ids[i] == R1_VOCAB_END_THINK;
                n_answer += ids[i] == R1_VOCAB_ANSWER || ids[i] == R1_VOCAB_END_ANSWER;
            }
            ok = ok && at == len && n_think == 2 && n_answer == 2;
            free(ids);
            if (!ok) printf("  text: %s\n", text);
            free(text);
            CHECK(ok, "%s problem %llu does not round-trip", r1_task_name(kind), (unsigned long long)index);
        }
    r1_tokenizer_free(tok);
}

/* ---- batches ---- */

typedef struct {
    int questions; /* arithmetic prompts */
    int chains;    /* of them with two operators before the '?' */
    int small;     /* of them with a one-digit first or second operand */
} question_counts;

/* Counts the arithmetic prompts in batch 3 (8 × 512) of cfg's data; 0 with err set
 * when the batch cannot be made. */
static int count_questions(const r1_tokenizer *tok, const r1_data_config *cfg, question_counts *n, r1_err *err) {
    enum { B = 8, T = 512 };
    r1_data d;
    memset(n, 0, sizeof *n);
    if (r1_data_init(&d, tok, cfg, B, T, err) != R1_OK) return 0;
    if (r1_data_batch(&d, 3, err) != R1_OK) return r1_data_free(&d), 0;
    char *text = malloc(B * T + 1);
    for (int i = 0; i < B * T; i++) text[i] = d.tokens[i] < 256 ? (char)d.tokens[i] : '|';
    text[B * T] = '\0';
    r1_data_free(&d);
    for (const char *q = strstr(text, "What is "); q; q = strstr(q + 1, "What is ")) {
        const char *end = strchr(q, '?');
        if (!end) break;
        int ops = 0;
        for (const char *c = q; c < end; c++) ops += c[0] == ' ' && (c[1] == '+' || c[1] == '-' || c[1] == '*');
        long lhs = -1, rhs = -1;
        sscanf(q, "What is %ld %*c %ld", &lhs, &rhs);
        n->questions++, n->chains += ops == 2, n->small += (lhs >= 0 && lhs < 10) || (rhs >= 0 && rhs < 10);
    }
    free(text);
    return 1;
}

/* chain_share 1 makes every arithmetic problem that can be one a chain; 0 none. */
static void test_data_chains(test_ctx *t) {
    r1_tokenizer *tok = vocab_tokenizer(t);
    if (!tok) return;
    r1_pretrain_config c = tiny_config();
    c.data.countdown_share = 0;
    r1_err err;
    question_counts n[2];
    for (int k = 0; k < 2; k++) {
        c.data.chain_share = k;
        CHECK(count_questions(tok, &c.data, &n[k], &err), "%s", err.msg);
    }
    r1_tokenizer_free(tok);
    CHECK(n[0].questions >= 8 && n[0].chains == 0, "chain_share 0: %d chains in %d questions", n[0].chains,
          n[0].questions);
    CHECK(n[1].questions >= 8 && n[1].chains >= n[1].questions * 6 / 10,
          "chain_share 1: %d chains in %d questions (those whose first result is negative stay two-operand)",
          n[1].chains, n[1].questions);
}

/* small_share 1 gives every arithmetic problem a one-digit operand (or two), each
 * answered right by its trace; 0 none. A chain goes on from the small problem's
 * result. */
static void test_data_small(test_ctx *t) {
    r1_tokenizer *tok = vocab_tokenizer(t);
    if (!tok) return;
    r1_pretrain_config c = tiny_config();
    c.data.countdown_share = 0;
    c.data.chain_share = 0.5;
    r1_err err;
    question_counts n[2];
    for (int k = 0; k < 2; k++) {
        c.data.small_share = k;
        CHECK(count_questions(tok, &c.data, &n[k], &err), "%s", err.msg);
    }
    CHECK(n[0].questions >= 8 && n[0].small == 0, "small_share 0: %d one-digit questions in %d", n[0].small,
          n[0].questions);
    CHECK(n[1].questions >= 8 && n[1].small == n[1].questions, "small_share 1: %d one-digit questions in %d",
          n[1].small, n[1].questions);
    CHECK(n[1].chains > 0, "small_share 1 with chain_share 0.5: no chains");
    /* the problem the data draws, its trace and its answer agree */
    r1_task_rng rng = {42};
    int n_chained = 0;
    for (int i = 0; i < 300; i++) {
        r1_problem p;
        CHECK(r1_task_generate(R1_TASK_ARITHMETIC, R1_SPLIT_TRAIN, (uint64_t)i, 1, &p) == R1_OK, "generate %d", i);
        r1_arithmetic_make_small(&p, &rng);
        CHECK(p.lhs >= 0 && p.rhs >= 0 && (p.lhs < 10 || p.rhs < 10) && p.lhs < 1000 && p.rhs < 1000,
              "operands %lld %lld", (long long)p.lhs, (long long)p.rhs);
        long long first = p.op == '+' ? p.lhs + p.rhs : p.op == '-' ? p.lhs - p.rhs : p.lhs * p.rhs, value = first;
        if (i % 2 && r1_arithmetic_make_chain(&p, &rng))
            value = p.op2 == '+' ? first + p.third : first - p.third, n_chained++;
        char expect[32];
        snprintf(expect, sizeof expect, "%lld", value);
        CHECK(!strcmp(p.answer, expect), "%lld %c %lld: answer %s, expected %s", (long long)p.lhs, p.op,
              (long long)p.rhs, p.answer, expect);
        char *text = NULL;
        size_t len = 0, prompt_len = 0;
        int written = r1_data_example_text(&p, (uint64_t)i, &c.data.trace, &text, &len, &prompt_len, &err) == R1_OK;
        CHECK(written, "%s", err.msg);
        if (!written) continue;
        char tail[64];
        snprintf(tail, sizeof tail, "<answer>%s</answer>", expect);
        CHECK(strstr(text + prompt_len, tail) != NULL, "trace of %lld %c %lld ends %s", (long long)p.lhs, p.op,
              (long long)p.rhs, text + (len > 40 ? len - 40 : 0));
        free(text);
    }
    CHECK(n_chained >= 100, "only %d of 150 small problems made chains", n_chained);
    r1_tokenizer_free(tok);
}

/* r1_countdown_make_small gives a train problem one or two one-digit numbers (or,
 * with all, only one-digit numbers) and a target they reach, keeps it in the train
 * split (or leaves it as it was); small_countdown_share 1 puts a one-digit number in
 * every Countdown prompt of a batch, where the generator alone puts one in about a
 * quarter, and all_small_countdown_share 1 makes every number of every prompt one. */
static int one_digit_numbers(const r1_problem *p) {
    int n = 0;
    for (int i = 0; i < p->n_numbers; i++) n += p->numbers[i] < 10;
    return n;
}

static void test_data_small_countdown(test_ctx *t) {
    for (int all = 0; all < 2; all++) {
        r1_task_rng rng = {7};
        int made = 0, twice = 0;
        for (int i = 0; i < 300; i++) {
            r1_problem p, before;
            CHECK(r1_task_generate(R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, (uint64_t)i, 1, &p) == R1_OK, "generate %d", i);
            before = p;
            if (!r1_countdown_make_small(&p, all ? R1_SMALL_ALL : R1_SMALL_SOME, &rng)) {
                CHECK(!memcmp(&p, &before, sizeof p), "problem %d changed though make_small declined", i);
                continue;
            }
            made++;
            int changed = 0;
            for (int k = 0; k < p.n_numbers; k++) {
                changed += p.numbers[k] != before.numbers[k];
                CHECK(p.numbers[k] == before.numbers[k] || (p.numbers[k] >= 1 && p.numbers[k] <= 9),
                      "problem %d: number %d became %d", i, before.numbers[k], p.numbers[k]);
            }
            twice += changed == 2;
            CHECK(all ? one_digit_numbers(&p) == p.n_numbers : changed <= 2 && one_digit_numbers(&p) >= 1,
                  "problem %d (all %d): %d numbers changed, %d one-digit", i, all, changed, one_digit_numbers(&p));
            CHECK(p.n_numbers == before.n_numbers, "problem %d: %d numbers became %d", i, before.n_numbers,
                  p.n_numbers);
            CHECK(r1_task_split_of(&p) == R1_SPLIT_TRAIN, "problem %d moved to the test split", i);
            CHECK(p.target >= 1 && p.target <= 100 && r1_countdown_solve(p.numbers, p.n_numbers, p.target, 1, NULL, 0),
                  "problem %d: target %d not reached", i, p.target);
        }
        CHECK(made == 300 && (all || twice >= 80), "made %d of 300 small (all %d), %d with two changed", made, all,
              twice);
    }

    r1_tokenizer *tok = vocab_tokenizer(t);
    if (!tok) return;
    r1_pretrain_config c = tiny_config();
    c.data.countdown_share = 1;
    /* k 0: neither share; 1: small_countdown_share 1; 2: all_small_countdown_share 1 */
    int prompts[3] = {0}, with_small[3] = {0}, all_small[3] = {0};
    for (int k = 0; k < 3; k++) {
        c.data.small_countdown_share = k == 1;
        c.data.all_small_countdown_share = k == 2;
        r1_data d;
        r1_err err;
        enum { B = 8, T = 512 };
        int ok = r1_data_init(&d, tok, &c.data, B, T, &err) == R1_OK;
        CHECK(ok, "%s", err.msg);
        if (!ok) break;
        CHECK(r1_data_batch(&d, 3, &err) == R1_OK, "%s", err.msg);
        char text[B * T + 1];
        for (int i = 0; i < B * T; i++) text[i] = d.tokens[i] < 256 ? (char)d.tokens[i] : '|';
        text[B * T] = '\0';
        r1_data_free(&d);
        for (const char *q = strstr(text, "Using the numbers "); q; q = strstr(q + 1, "Using the numbers ")) {
            r1_problem p = {.kind = R1_TASK_COUNTDOWN};
            const char *at = q + strlen("Using the numbers ");
            int n;
            while (p.n_numbers < R1_COUNTDOWN_MAX_NUMBERS && sscanf(at, "%d%n", &p.numbers[p.n_numbers], &n) == 1) {
                p.n_numbers++;
                if (strncmp(at + n, ", ", 2)) break;
                at += n + 2;
            }
            prompts[k]++, with_small[k] += one_digit_numbers(&p) > 0;
            all_small[k] += one_digit_numbers(&p) == p.n_numbers;
        }
    }
    r1_tokenizer_free(tok);
    CHECK(prompts[0] >= 8 && with_small[0] < prompts[0] && all_small[0] < prompts[0] / 4,
          "share 0: %d of %d prompts with a one-digit number, %d all one-digit", with_small[0], prompts[0],
          all_small[0]);
    CHECK(prompts[1] >= 8 && with_small[1] == prompts[1], "share 1: %d of %d prompts with a one-digit number",
          with_small[1], prompts[1]);
    CHECK(prompts[2] >= 8 && all_small[2] == prompts[2], "all-small share 1: %d of %d prompts all one-digit",
          all_small[2], prompts[2]);
}

/* A Countdown problem its trace cannot narrate is replaced by the next draw: a
 * run of Countdown only still fills its batches. */
static void test_data_untold(test_ctx *t) {
    r1_tokenizer *tok = vocab_tokenizer(t);
    if (!tok) return;
    r1_pretrain_config c = tiny_config();
    r1_problem p = {.kind = R1_TASK_COUNTDOWN, .n_numbers = 3, .numbers = {50, 30, 40}, .target = 24};
    char *text = NULL;
    size_t len, prompt_len;
    r1_err err;
    CHECK(r1_data_example_text(&p, 1, &c.data.trace, &text, &len, &prompt_len, &err) == R1_TRACE_UNTOLD && !text,
          "40 * 30 / 50 = 24 has no trace");
    c.data.countdown_share = 1;
    r1_data d;
    CHECK(r1_data_init(&d, tok, &c.data, 8, 512, &err) == R1_OK, "%s", err.msg);
    int examples = 0;
    for (uint64_t step = 0; step < 20; step++) {
        CHECK(r1_data_batch(&d, step, &err) == R1_OK, "step %llu: %s", (unsigned long long)step, err.msg);
        examples += d.n_examples;
    }
    r1_data_free(&d);
    r1_tokenizer_free(tok);
    CHECK(examples > 20 * 8 * 2, "%d examples in 20 batches", examples);
}

static void test_data_batches(test_ctx *t) {
    r1_tokenizer *tok = vocab_tokenizer(t);
    if (!tok) return;
    r1_pretrain_config c = tiny_config();
    r1_data a, b;
    r1_err err;
    CHECK(r1_data_init(&a, tok, &c.data, 4, 128, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_data_init(&b, tok, &c.data, 4, 128, &err) == R1_OK, "%s", err.msg);
    const size_t n = 4 * 128;
    int ok = r1_data_batch(&a, 7, &err) == R1_OK && r1_data_batch(&b, 7, &err) == R1_OK;
    int same = ok && !memcmp(a.tokens, b.tokens, n * sizeof(int)) && !memcmp(a.targets, b.targets, n * sizeof(int));
    ok = ok && r1_data_batch(&b, 8, &err) == R1_OK;
    int differ = ok && memcmp(a.tokens, b.tokens, n * sizeof(int)) != 0;
    /* every target is the next token of its example; rows start with BOS; examples
     * end in EOS with no target; the batch of step 7 is back after step 8 */
    int well_formed = ok && r1_data_batch(&b, 7, &err) == R1_OK && !memcmp(a.tokens, b.tokens, n * sizeof(int));
    int n_targets = 0, n_bos = 0;
    for (int row = 0; row < 4 && well_formed; row++) {
        const int *tk = a.tokens + row * 128, *tg = a.targets + row * 128;
        well_formed = tk[0] == R1_VOCAB_BOS;
        for (int i = 0; i < 128 && well_formed; i++) {
            if (tg[i] >= 0) well_formed = i + 1 < 128 && tg[i] == tk[i + 1] && tk[i] != R1_VOCAB_EOS, n_targets++;
            n_bos += tk[i] == R1_VOCAB_BOS;
        }
    }
    int prompt_targets = a.n_targets, n_examples = a.n_examples;
    r1_data_free(&a);
    c.data.prompt_loss = 0;
    CHECK(r1_data_init(&a, tok, &c.data, 4, 128, &err) == R1_OK, "%s", err.msg);
    ok = ok && r1_data_batch(&a, 7, &err) == R1_OK;
    int completion_targets = a.n_targets;
    r1_data_free(&a);
    r1_data_free(&b);
    /* T too short for any trace: a clear error, not a hang */
    CHECK(r1_data_init(&a, tok, &c.data, 1, 16, &err) == R1_OK, "%s", err.msg);
    int short_fails = r1_data_batch(&a, 0, &err) == R1_ERR && strstr(err.msg, "longer than seq");
    r1_data_free(&a);
    r1_tokenizer_free(tok);
    CHECK(ok, "%s", err.msg);
    CHECK(same, "the same step gave two batches");
    CHECK(differ, "steps 7 and 8 gave the same batch");
    CHECK(well_formed && n_targets == prompt_targets && n_bos == n_examples && n_examples >= 4,
          "malformed batch: %d targets (%d counted), %d BOS, %d examples", n_targets, prompt_targets, n_bos, n_examples);
    CHECK(completion_targets > 0 && completion_targets < prompt_targets, "prompt_loss 0: %d targets, 1: %d",
          completion_targets, prompt_targets);
    CHECK(short_fails, "seq 16 did not fail cleanly: %s", err.msg);
}

/* ---- metrics ---- */

static void test_metrics_resume_and_plot(test_ctx *t) {
    char csv[PATH_SIZE], svg[PATH_SIZE];
    tmp_path(csv, "m.csv");
    tmp_path(svg, "m.svg");
    const char *cols[] = {"loss", "acc"};
    r1_metrics m;
    r1_err err;
    CHECK(r1_metrics_open(&m, csv, cols, 2, -1, &err) == R1_OK, "%s", err.msg);
    for (int s = 1; s <= 10; s++) {
        double row[2] = {5.0 / s, s == 4 ? NAN : s * 0.1};
        CHECK(r1_metrics_log(&m, (uint64_t)s, row, &err) == R1_OK, "%s", err.msg);
    }
    r1_metrics_close(&m);
    /* resumed from step 6: rows 7..10 go, row 7 comes again */
    CHECK(r1_metrics_open(&m, csv, cols, 2, 6, &err) == R1_OK, "%s", err.msg);
    double row[2] = {0.7, 0.7};
    CHECK(r1_metrics_log(&m, 7, row, &err) == R1_OK, "%s", err.msg);
    r1_metrics_close(&m);
    char *text = read_text_file(csv);
    CHECK(text, "no csv");
    int lines = count_lines(text), header = !strncmp(text, "step,loss,acc\n", 14), last = strstr(text, "\n7,0.7,0.7\n") != NULL;
    free(text);
    CHECK(lines == 8 && header && last, "resumed csv: %d lines", lines);
    const char *other[] = {"reward"};
    CHECK(r1_metrics_open(&m, csv, other, 1, 3, &err) == R1_ERR && strstr(err.msg, "other columns"), "header mismatch");
    /* an empty file (a crash or a full disk took it) is started anew on resume */
    char empty[PATH_SIZE];
    FILE *f = fopen(tmp_path(empty, "empty.csv"), "w");
    CHECK(f && fclose(f) == 0, "cannot make %s", empty);
    CHECK(r1_metrics_open(&m, empty, cols, 2, 3, &err) == R1_OK, "resume onto an empty file: %s", err.msg);
    r1_metrics_close(&m);
    text = read_text_file(empty);
    CHECK(text && !strcmp(text, "step,loss,acc\n"), "the empty file got: %s", text ? text : "(none)");
    free(text);
    CHECK(r1_metrics_plot_svg(csv, svg, "loss & <acc>", cols, 2, &err) == R1_OK, "%s", err.msg);
    char *plot = read_text_file(svg);
    CHECK(plot, "no svg");
    size_t n = strlen(plot);
    int good = !strncmp(plot, "<svg", 4) && n > 7 && !strcmp(plot + n - 7, "</svg>\n") &&
               strstr(plot, "&amp; &lt;acc&gt;") && strstr(plot, "<polyline") && !strstr(plot, "nan");
    int polylines = 0;
    for (const char *p = plot; (p = strstr(p, "<polyline")); p++) polylines++;
    free(plot);
    CHECK(good, "malformed svg");
    CHECK(polylines == 3, "%d polylines (loss, and acc split by its NaN)", polylines);
    CHECK(access(svg, F_OK) == 0 && access(strcat(svg, ".tmp"), F_OK) != 0, "a .tmp file was left");
    const char *missing[] = {"nope"};
    CHECK(r1_metrics_plot_svg(csv, svg, "x", missing, 1, &err) == R1_ERR && strstr(err.msg, "'nope'"), "missing column");
}

/* ---- the stage ---- */

static void test_config_strings(test_ctx *t) {
    r1_pretrain_config a = tiny_config(), b = r1_pretrain_default_config();
    a.opt.lr = 0.1f + 1e-9f, a.data.countdown_share = 1.0 / 3, a.data.seed = 0xFFFFFFFFFFFFull;
    a.data.chain_share = 0.25;
    a.data.small_share = 0.125;
    a.data.small_countdown_share = 0.375;
    a.data.all_small_countdown_share = 0.0625;
    a.data.trace.compare = 1, a.data.trace.slip_on_hit = 0, a.data.trace.difference = 1, a.data.trace.remainders = 1;
    a.data.trace.multiply_back = 1; /* (with remainders refused by the check, not by the round trip) */
    a.model.precision = R1_LINEAR_BF16; /* memcmp of model below */
    char **s;
    size_t n;
    r1_err err;
    CHECK(r1_pretrain_config_to_strings(&a, &s, &n, &err) == R1_OK, "%s", err.msg);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) ok = r1_pretrain_config_set(&b, s[i], &err) == R1_OK;
    r1_pretrain_config_free_strings(s, n);
    CHECK(ok, "%s", err.msg);
    CHECK(!memcmp(&a.model, &b.model, sizeof a.model) && a.opt.lr == b.opt.lr && a.steps == b.steps &&
              a.data.countdown_share == b.data.countdown_share && a.data.seed == b.data.seed &&
              a.data.chain_share == b.data.chain_share && a.data.small_share == b.data.small_share &&
              a.data.small_countdown_share == b.data.small_countdown_share &&
              a.data.all_small_countdown_share == b.data.all_small_countdown_share &&
              a.data.trace.compare == b.data.trace.compare && a.data.trace.slip_on_hit == b.data.trace.slip_on_hit &&
              a.data.trace.difference == b.data.trace.difference &&
              a.data.trace.remainders == b.data.trace.remainders &&
              a.data.trace.multiply_back == b.data.trace.multiply_back &&
              a.data.trace.max_think_bytes == b.data.trace.max_think_bytes,
          "settings changed in the round trip");
    CHECK(r1_pretrain_config_set(&b, "bogus=1", &err) == R1_ERR && strstr(err.msg, "bogus"), "unknown key");
    CHECK(r1_pretrain_config_set(&b, "dim=12x", &err) == R1_ERR && strstr(err.msg, "dim"), "bad value");
    CHECK(r1_pretrain_config_set(&b, "dim= 12", &err) == R1_ERR && strstr(err.msg, "dim"), "a leading blank");
    CHECK(r1_pretrain_config_set(&b, "seed=-1", &err) == R1_ERR && strstr(err.msg, "seed"), "a negative seed");
    /* each setting out of its range is refused before any work, by its name; a NaN
     * too (it passes a plain comparison) */
    static const struct {
        const char *setting, *named;
    } refused[] = {
        {"chain_share=1.5", "chain_share"},
        {"small_share=-0.5", "small_share"},
        {"small_countdown_share=2", "small_countdown_share"},
        {"all_small_countdown_share=-1", "all_small_countdown_share"},
        {"trace_compare=2", "trace_compare"},
        {"trace_difference=3", "trace_difference"},
        {"trace_remainders=-1", "trace_remainders -1"},
        {"trace_multiply_back=2", "trace_multiply_back 2"},
        {"trace_slip_on_hit=-1", "trace_slip_on_hit"},
        /* the trace settings only the trace writer checked, after the run had started */
        {"trace_max_dead_ends=99", "trace_max_dead_ends 99"},
        {"trace_wrong_share=-0.1", "trace_wrong_share"},
        {"trace_max_think_bytes=-1", "trace_max_think_bytes"},
        {"prompt_loss=2", "prompt_loss 2"},
        {"rope_base=nan", "rope_base nan"},
        {"bias_gamma=-1", "bias_gamma -1"},
        {"route_scale=0", "route_scale 0"},
    };
    b.data.trace.multiply_back = b.data.trace.remainders = 0; /* the round trip's both 1 */
    CHECK(r1_pretrain_config_check(&b, &err) == R1_OK, "%s", err.msg);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        r1_pretrain_config c = b;
        CHECK(r1_pretrain_config_set(&c, refused[i].setting, &err) == R1_OK, "%s", err.msg);
        CHECK(r1_pretrain_config_check(&c, &err) == R1_ERR && strstr(err.msg, refused[i].named), "%s accepted: %s",
              refused[i].setting, err.msg);
    }
    b.data.trace.multiply_back = b.data.trace.remainders = 1;
    CHECK(r1_pretrain_config_check(&b, &err) == R1_ERR && strstr(err.msg, "set one"),
          "trace_remainders and trace_multiply_back both accepted");
    b.data.trace.multiply_back = b.data.trace.remainders = 0;
    b.model.vocab = 300;
    CHECK(r1_pretrain_config_check(&b, &err) == R1_ERR && strstr(err.msg, "vocab"), "wrong vocab accepted");
}

static double mean_loss(const char *csv, int first_row, int rows) {
    char *text = read_text_file(csv);
    if (!text) return NAN;
    double sum = 0;
    int row = -1, used = 0;
    for (char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL, row++)
        if (row >= first_row && row < first_row + rows) {
            unsigned long long step;
            double loss;
            if (sscanf(line, "%llu,%lf", &step, &loss) == 2) sum += loss, used++;
        }
    free(text);
    return used ? sum / used : NAN;
}

/* One run per directory: a second r1_lm_run_open of it fails while the first
 * holds it, and succeeds once the first is freed. */
static void test_run_dir_lock(test_ctx *t) {
    char dir[PATH_SIZE];
    tmp_path(dir, "locked");
    r1_lm_run first, second;
    r1_err err;
    CHECK(r1_lm_run_open(&first, "pretrain", dir, 0, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_lm_run_open(&second, "pretrain", dir, 0, &err) == R1_ERR && strstr(err.msg, "another r1 run"),
          "two runs opened one directory: %s", err.msg);
    r1_lm_run_free(&second);
    r1_lm_run_free(&first);
    CHECK(r1_lm_run_open(&second, "pretrain", dir, 0, &err) == R1_OK, "%s", err.msg);
    r1_lm_run_free(&second);
}

/* --init: a run continues another's weights with that run's architecture (the
 * size settings passed in are overridden). At lr 0 AdamW moves nothing, so every
 * weight of the new run (all but the expert bias, which balancing moves) is the
 * starting run's, bit for bit. */
static void test_pretrain_from_init(test_ctx *t) {
    char base_dir[PATH_SIZE], more_dir[PATH_SIZE], path[PATH_SIZE + 32], path_b[PATH_SIZE + 32];
    r1_pretrain_config c = tiny_config();
    c.steps = 4;
    r1_pretrain_result res;
    r1_err err;
    r1_pretrain_options ob = {.out_dir = tmp_path(base_dir, "init_base"), .quiet = 1};
    CHECK(r1_pretrain(&c, &ob, &res, &err) == R1_OK, "%s", err.msg);

    r1_pretrain_config more = tiny_config();
    more.model.dim = 64; /* taken from the init weights instead */
    more.steps = 2, more.warmup = 0, more.opt.lr = 0, more.lr_min = 0;
    snprintf(more.init, sizeof more.init, "%s", base_dir);
    r1_pretrain_options om = {.out_dir = tmp_path(more_dir, "init_more"), .quiet = 1};
    CHECK(r1_pretrain(&more, &om, &res, &err) == R1_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/checkpoint.gguf", base_dir);
    snprintf(path_b, sizeof path_b, "%s/checkpoint.gguf", more_dir);
    r1_checkpoint a, b;
    CHECK(r1_checkpoint_load(path, &a, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_checkpoint_load(path_b, &b, &err) == R1_OK, "%s", err.msg);
    int compared = 0, same = 1;
    for (size_t i = 0; i < a.n_tensors; i++) {
        const r1_checkpoint_tensor *ta = &a.tensors[i], *tb = r1_checkpoint_find(&b, ta->name);
        if (!strncmp(ta->name, "opt.", 4) || strstr(ta->name, "exp_probs_b")) continue;
        compared++;
        if (!tb || r1_checkpoint_tensor_count(tb) != r1_checkpoint_tensor_count(ta) ||
            memcmp(tb->data, ta->data, r1_checkpoint_tensor_count(ta) * sizeof(float))) {
            printf("  %s differs\n", ta->name);
            same = 0;
        }
    }
    CHECK(compared > 10 && same, "weights not those of --init (%d tensors compared)", compared);
    r1_checkpoint_free(&a);
    r1_checkpoint_free(&b);
    snprintf(path, sizeof path, "%s/config.txt", more_dir);
    char *text = read_text_file(path);
    char want[PATH_SIZE + 16];
    snprintf(want, sizeof want, "\ninit=%s\n", base_dir);
    int cfg_ok = text && strstr(text, "\ndim=32\n") && strstr(text, want);
    free(text);
    CHECK(cfg_ok, "config.txt: the architecture and init of the starting run");

    snprintf(more.init, sizeof more.init, "%s/none", base_dir);
    r1_pretrain_options bad = {.out_dir = tmp_path(more_dir, "init_bad"), .quiet = 1};
    CHECK(r1_pretrain(&more, &bad, &res, &err) == R1_ERR && strstr(err.msg, "none") &&
              access(more_dir, F_OK) != 0,
          "a missing --init: '%s', or it made a directory", err.msg);
}

static void test_pretrain_run_resume_export(test_ctx *t) {
    char dir_a[PATH_SIZE], dir_b[PATH_SIZE], path[PATH_SIZE + 32], path_b[PATH_SIZE + 32];
    tmp_path(dir_a, "run_a");
    tmp_path(dir_b, "run_b");
    r1_pretrain_config c = tiny_config();
    r1_pretrain_result res;
    r1_err err;

    /* A: uninterrupted, checkpointing on the way */
    r1_pretrain_options oa = {.out_dir = dir_a, .checkpoint_every = 16, .quiet = 1};
    CHECK(r1_pretrain(&c, &oa, &res, &err) == R1_OK, "%s", err.msg);
    CHECK(res.finished && res.steps_done == 48, "run A: %llu steps", (unsigned long long)res.steps_done);
    printf("  %zu params, %.0f tokens/s, %.2f s, loss %.3f -> %.3f\n", res.n_params, res.tokens_per_s, res.seconds,
           res.first_loss, res.last_loss);
    snprintf(path, sizeof path, "%s/metrics.csv", dir_a);
    double early = mean_loss(path, 0, 4), late = mean_loss(path, 44, 4);
    CHECK(late < early - 1.0, "loss did not fall: %.3f -> %.3f", early, late);
    char *text = read_text_file(path);
    CHECK(text, "no metrics.csv");
    int lines = count_lines(text), header = !strncmp(text, "step,loss,lr,grad_norm,tokens_per_s\n", 36);
    free(text);
    CHECK(lines == 49 && header, "metrics.csv: %d lines", lines);

    /* B: stopped after 20 steps, then resumed (with other settings passed in, which
     * the resume must ignore) */
    r1_pretrain_options ob = {.out_dir = dir_b, .checkpoint_every = 16, .quiet = 1, .stop_after = 20};
    CHECK(r1_pretrain(&c, &ob, &res, &err) == R1_OK, "%s", err.msg);
    snprintf(path_b, sizeof path_b, "%s/model.gguf", dir_b);
    CHECK(!res.finished && res.steps_done == 20 && access(path_b, F_OK) != 0, "stopped run: %llu steps",
          (unsigned long long)res.steps_done);
    CHECK(r1_pretrain(&c, &ob, &res, &err) == R1_ERR && strstr(err.msg, "--resume"), "a second fresh run in B");
    r1_pretrain_config other = tiny_config();
    other.opt.lr = 1, other.steps = 5;
    ob.stop_after = 0, ob.resume = 1;
    CHECK(r1_pretrain(&other, &ob, &res, &err) == R1_OK, "%s", err.msg);
    CHECK(res.finished && res.start_step == 20 && res.steps_done == 48, "resumed: %llu..%llu",
          (unsigned long long)res.start_step, (unsigned long long)res.steps_done);
    char why[600] = "";
    snprintf(path, sizeof path, "%s/checkpoint.gguf", dir_a);
    snprintf(path_b, sizeof path_b, "%s/checkpoint.gguf", dir_b);
    CHECK(same_checkpoints(path, path_b, why, sizeof why), "resumed run differs: %s", why);
    snprintf(path_b, sizeof path_b, "%s/metrics.csv", dir_b);
    text = read_text_file(path_b);
    lines = text ? count_lines(text) : 0;
    free(text);
    CHECK(lines == 49, "resumed metrics.csv: %d lines", lines);
    /* a finished run resumes to nothing; resuming nothing fails */
    CHECK(r1_pretrain(&other, &ob, &res, &err) == R1_OK && res.was_finished, "finished run: %s", err.msg);
    r1_pretrain_options none = {.out_dir = tmp_path(path, "no_run"), .resume = 1, .quiet = 1};
    CHECK(r1_pretrain(&c, &none, &res, &err) == R1_ERR && strstr(err.msg, "no "), "resume of nothing");

    /* the files of the run */
    snprintf(path, sizeof path, "%s/loss.svg", dir_a);
    char *svg = read_text_file(path);
    CHECK(svg, "no loss.svg");
    size_t n = strlen(svg);
    int svg_ok = !strncmp(svg, "<svg", 4) && n > 7 && !strcmp(svg + n - 7, "</svg>\n");
    free(svg);
    CHECK(svg_ok, "loss.svg is not one <svg> element");
    snprintf(path, sizeof path, "%s/config.txt", dir_a);
    text = read_text_file(path);
    int cfg_ok = text && strstr(text, "\ndim=32\n") && strstr(text, "\nsteps=48\n");
    free(text);
    CHECK(cfg_ok, "config.txt");

    /* the export: the engine loads it, its tokenizer round-trips a training text */
    snprintf(path, sizeof path, "%s/model.gguf", dir_a);
    r1_model model;
    CHECK(r1_model_load(&model, path, &err) == R1_OK, "%s", err.msg);
    int shape_ok = model.hp.n_vocab == R1_VOCAB_SIZE && model.hp.dim == 32 && model.hp.n_layers == 2;
    r1_model_free(&model);
    CHECK(shape_ok, "engine reads another shape");
    r1_gguf g;
    CHECK(r1_gguf_open(&g, path, &err) == R1_OK, "%s", err.msg);
    r1_tokenizer *tok;
    int loaded = r1_tokenizer_load_gguf(&tok, &g, &err) == R1_OK;
    r1_gguf_close(&g);
    CHECK(loaded, "%s", err.msg);
    r1_problem p;
    r1_task_generate(R1_TASK_COUNTDOWN, R1_SPLIT_TRAIN, 3, 1, &p);
    char *example;
    size_t len, prompt_len;
    CHECK(r1_data_example_text(&p, 3, &c.data.trace, &example, &len, &prompt_len, &err) == R1_OK, "%s", err.msg);
    int *ids, n_ids;
    int ok = r1_tokenize(tok, example, len, 0, 1, &ids, &n_ids, &err) == R1_OK;
    size_t at = 0;
    for (int i = 0; i < n_ids && ok; i++) {
        const char *bytes;
        size_t blen;
        ok = r1_token_to_bytes(tok, ids[i], &bytes, &blen) == R1_OK && at + blen <= len &&
             !memcmp(example + at, bytes, blen);
        at += blen;
    }
    ok = ok && at == len && ids[0] == R1_VOCAB_BOS && ids[n_ids - 1] == R1_VOCAB_EOS;
    if (n_ids > 0) free(ids);
    free(example);
    r1_tokenizer_free(tok);
    CHECK(ok, "the exported tokenizer does not round-trip a training text");
}

/* Has the GGUF file at path a tensor of that name? -1: unreadable. */
static int file_has_tensor(const char *path, const char *name) {
    r1_gguf g;
    r1_err err;
    if (r1_gguf_open(&g, path, &err) != R1_OK) return -1;
    int found = r1_gguf_find_tensor(&g, name) != NULL;
    r1_gguf_close(&g);
    return found;
}

/* A run with an MTP module (--mtp): metrics.csv logs its loss, the checkpoint holds
 * it and a stopped run resumes to the same bits, model.gguf leaves it out (the
 * engine loads the main model); --init from that run without --mtp drops it, and
 * --mtp from weights without one starts a new module. */
static void test_pretrain_mtp(test_ctx *t) {
    char dir_a[PATH_SIZE], dir_b[PATH_SIZE], dir_c[PATH_SIZE], path[PATH_SIZE + 32], path_b[PATH_SIZE + 32];
    r1_pretrain_config c = tiny_config();
    c.steps = 12, c.model.mtp_weight = 0.25f;
    r1_pretrain_result res;
    r1_err err;
    r1_pretrain_options oa = {.out_dir = tmp_path(dir_a, "mtp_a"), .checkpoint_every = 4, .quiet = 1};
    CHECK(r1_pretrain(&c, &oa, &res, &err) == R1_OK, "%s", err.msg);
    r1_pretrain_options ob = {.out_dir = tmp_path(dir_b, "mtp_b"), .checkpoint_every = 4, .quiet = 1, .stop_after = 6};
    CHECK(r1_pretrain(&c, &ob, &res, &err) == R1_OK, "%s", err.msg);
    ob.stop_after = 0, ob.resume = 1;
    CHECK(r1_pretrain(&c, &ob, &res, &err) == R1_OK && res.finished, "%s", err.msg);
    char why[600] = "";
    snprintf(path, sizeof path, "%s/checkpoint.gguf", dir_a);
    snprintf(path_b, sizeof path_b, "%s/checkpoint.gguf", dir_b);
    CHECK(same_checkpoints(path, path_b, why, sizeof why), "resumed MTP run differs: %s", why);
    CHECK(file_has_tensor(path, "blk.2.nextn.eh_proj.weight") == 1 &&
              file_has_tensor(path, "blk.2.ffn_gate_inp.weight") == 1,
          "the checkpoint lacks the MTP module");

    snprintf(path, sizeof path, "%s/metrics.csv", dir_a);
    char *text = read_text_file(path);
    int header = text && !strncmp(text, "step,loss,lr,grad_norm,tokens_per_s,mtp_loss\n", 45);
    double first_mtp = NAN;
    if (text) sscanf(strchr(text, '\n') + 1, "%*d,%*g,%*g,%*g,%*g,%lg", &first_mtp);
    free(text);
    CHECK(header && first_mtp > 1.0, "metrics.csv: header or mtp_loss (%g)", first_mtp);

    snprintf(path, sizeof path, "%s/model.gguf", dir_a);
    CHECK(file_has_tensor(path, "blk.2.nextn.eh_proj.weight") == 0 &&
              file_has_tensor(path, "blk.2.attn_norm.weight") == 0,
          "model.gguf holds the MTP module");
    r1_model model;
    CHECK(r1_model_load(&model, path, &err) == R1_OK, "%s", err.msg);
    int layers = model.hp.n_layers;
    r1_model_free(&model);
    CHECK(layers == 2, "engine reads %d layers", layers);

    /* --init from the MTP run, no --mtp: the main model only */
    r1_pretrain_config more = tiny_config();
    more.steps = 2, more.warmup = 0;
    snprintf(more.init, sizeof more.init, "%s", dir_a);
    r1_pretrain_options oc = {.out_dir = tmp_path(dir_c, "mtp_c"), .quiet = 1};
    CHECK(r1_pretrain(&more, &oc, &res, &err) == R1_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/checkpoint.gguf", dir_c);
    CHECK(file_has_tensor(path, "blk.2.nextn.eh_proj.weight") == 0, "--init without --mtp kept the module");
    /* --mtp from that run's weights (no module): a new one */
    more.model.mtp_weight = 0.5f;
    snprintf(more.init, sizeof more.init, "%s", dir_c);
    r1_pretrain_options od = {.out_dir = tmp_path(dir_b, "mtp_d"), .quiet = 1};
    CHECK(r1_pretrain(&more, &od, &res, &err) == R1_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/checkpoint.gguf", dir_b);
    CHECK(file_has_tensor(path, "blk.2.nextn.eh_proj.weight") == 1, "--mtp with --init made no module");
}

int main(void) {
    static const test_entry tests[] = {
        {test_vocab_round_trip, "vocab_round_trip"},
        {test_data_batches, "data_batches"},
        {test_data_chains, "data_chains"},
        {test_data_small, "data_small"},
        {test_data_small_countdown, "data_small_countdown"},
        {test_data_untold, "data_untold"},
        {test_metrics_resume_and_plot, "metrics_resume_and_plot"},
        {test_config_strings, "config_strings"},
        {test_pretrain_run_resume_export, "run_resume_export"},
        {test_pretrain_from_init, "from_init"},
        {test_run_dir_lock, "run_dir_lock"},
        {test_pretrain_mtp, "mtp"},
    };
    return test_main("pretrain", tests, (int)(sizeof tests / sizeof tests[0]));
}
