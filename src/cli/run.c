/* r1 run: generate from a prompt.
 *   chat mode (default): the prompt goes through the model's chat template and
 *     tokenizer; the thinking streams (dimmed on a terminal), then the answer.
 *   --vote K: K samples from one prefilled prompt, the majority answer shown
 *     (infer/vote.h has the rules).
 *   --raw --tokens: token ids in, token ids out, no template or tokenizer. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/progress.h"
#include "cli/cli.h"
#include "infer/generate.h"
#include "infer/sampler.h"
#include "infer/think.h"
#include "infer/vote.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

static const char *usage =
    "usage: r1 run [-m MODEL.gguf] [options] [PROMPT]\n"
    "       r1 run [-m MODEL.gguf] --raw --tokens \"1 2 3\" [-n N] [options]\n"
    "Chat mode: PROMPT (or -p TEXT, or standard input without its final newlines) is\n"
    "formatted with the model's chat template and answered; the thinking streams first\n"
    "(dimmed on a terminal), then the answer. Raw mode: the token ids are the prompt\n"
    "(no template, no BOS added) and the ids of the N generated tokens are printed on\n"
    "one line.\n"
    "  -m MODEL.gguf      the model (default: the embedded r1-tiny model)\n"
    "  -p TEXT            the prompt (also: -- PROMPT, for one that begins with -)\n"
    "  --system TEXT      a system prompt\n"
    "  --template NAME    deepseek-r1, deepseek-v3, r1-distill-qwen, r1-distill-llama,\n"
    "                     raw (default: from the model file)\n"
    "  -n N               at most N new tokens (chat default 2048, raw default 16)\n"
    "  --think-budget N   force </think> after N thinking tokens (default: no limit)\n"
    "  --no-think-display do not print the thinking\n"
    "  --vote K           self-consistency: K samples (seeds S, S+1, ...) decoded\n"
    "                     together from one prompt, then the one whose answer most\n"
    "                     samples give is shown, with the votes (1..1024). The\n"
    "                     answer: in <answer></answer>, else the last \\boxed{}, else\n"
    "                     the text after </think> of a sample that finished. A task\n"
    "                     prompt (`Using the numbers 7, 3, 5, make 26.`, `What is\n"
    "                     48 + 75?`) is judged right or wrong by the task's rules,\n"
    "                     and Countdown answers of one value are one answer. Each\n"
    "                     sample keeps its own KV cache: K times a single run's\n"
    "                     cache memory (the weights are shared)\n"
    "  --temp T           temperature; 0 = greedy (default 0.6)\n"
    "  --top-k K          keep the K most likely tokens (default 0 = off)\n"
    "  --top-p P          nucleus sampling (default 0.95)\n"
    "  --min-p P          drop tokens below P x the top probability (default 0 = off)\n"
    "  --seed S           random seed (default 0)\n"
    "  -c N               context size in tokens (default: prompt + N)\n"
    "  -t THREADS         threads (default: all cores)\n"
    "Invalid UTF-8 in the prompt is replaced by U+FFFD.\n";

typedef struct {
    const char *model_path, *prompt, *system, *template_name, *tokens_text;
    long n_gen, threads, n_ctx, think_budget, vote;
    int raw, show_thinking;
    r1_sampler_params sampling;
} run_options;

static int parse_options(int argc, char **argv, run_options *o) {
    long top_k = 0, seed = 0;
    int options_done = 0; /* after --, every argument is the prompt */
    memset(o, 0, sizeof *o);
    o->n_gen = -1;
    o->think_budget = -1;
    o->show_thinking = 1;
    o->sampling = r1_sampler_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!options_done && !strcmp(a, "--")) { options_done = 1; continue; }
        if (options_done || a[0] != '-' || !a[1] || !strcmp(a, "-p")) {
            if (!options_done && !strcmp(a, "-p") && !(a = cli_value(argc, argv, &i))) return R1_ERR;
            if (o->prompt) return cli_error("run: more than one prompt given (quote the prompt)"), R1_ERR;
            o->prompt = a;
            continue;
        }
        if (!strcmp(a, "--raw")) { o->raw = 1; continue; }
        if (!strcmp(a, "--no-think-display")) { o->show_thinking = 0; continue; }
        if (!(v = cli_option_value(argc, argv, &i, "run",
                                   "-m --system --template --tokens -n -t -c --think-budget --vote --temp --top-k "
                                   "--top-p --min-p --seed")))
            return R1_ERR;
        int rc = R1_OK;
        if (!strcmp(a, "-m")) o->model_path = v;
        else if (!strcmp(a, "--system")) o->system = v;
        else if (!strcmp(a, "--template")) o->template_name = v;
        else if (!strcmp(a, "--tokens")) o->tokens_text = v;
        else if (!strcmp(a, "-n")) rc = cli_parse_long(a, v, 0, 1 << 24, &o->n_gen);
        else if (!strcmp(a, "-t")) rc = cli_parse_long(a, v, 1, 1024, &o->threads);
        else if (!strcmp(a, "-c")) rc = cli_parse_long(a, v, 1, 1 << 24, &o->n_ctx);
        else if (!strcmp(a, "--think-budget")) rc = cli_parse_long(a, v, 0, 1 << 24, &o->think_budget);
        else if (!strcmp(a, "--vote")) rc = cli_parse_long(a, v, 1, 1024, &o->vote);
        else if (!strcmp(a, "--temp")) rc = cli_parse_float(a, v, &o->sampling.temperature);
        else if (!strcmp(a, "--top-k")) rc = cli_parse_long(a, v, 0, 1 << 24, &top_k);
        else if (!strcmp(a, "--top-p")) rc = cli_parse_float(a, v, &o->sampling.top_p);
        else if (!strcmp(a, "--min-p")) rc = cli_parse_float(a, v, &o->sampling.min_p);
        else if (!strcmp(a, "--seed")) rc = cli_parse_long(a, v, 0, 0x7fffffffL, &seed);
        else return cli_error("run: unknown option '%s' (see r1 run --help)", a), R1_ERR;
        if (rc != R1_OK) return R1_ERR;
    }
    o->sampling.top_k = (int)top_k;
    o->sampling.seed = (uint64_t)seed;
    r1_err err; /* before anything is printed: a bad setting must not cut an answer short */
    if (r1_sampler_params_check(&o->sampling, &err) != R1_OK) return cli_error("run: %s", err.msg), R1_ERR;
    if (o->raw && !o->tokens_text) return cli_error("run: --raw needs --tokens \"1 2 3\""), R1_ERR;
    if (!o->raw && o->tokens_text) return cli_error("run: --tokens needs --raw"), R1_ERR;
    const char *chat_only = o->prompt ? "a prompt" : o->system ? "--system" : o->template_name ? "--template"
                          : o->think_budget >= 0 ? "--think-budget" : !o->show_thinking ? "--no-think-display" : NULL;
    if (o->raw && chat_only)
        return cli_error("run: %s is for chat mode; --raw runs the token ids of --tokens alone", chat_only), R1_ERR;
    if (o->raw && o->vote) return cli_error("run: --vote needs chat mode (answers to vote on), not --raw"), R1_ERR;
    if (o->vote > 1 && (o->sampling.temperature == 0 || top_k == 1))
        return cli_error("run: --vote %ld at %s would draw the same sample %ld times: give a temperature above 0 "
                         "and --top-k 0 or above 1", o->vote, top_k == 1 ? "--top-k 1" : "--temp 0", o->vote), R1_ERR;
    if (o->vote > 1 && seed > 0x7fffffffL - (o->vote - 1))
        return cli_error("run: --vote %ld uses seeds %ld to %ld: the last must be at most 2147483647", o->vote, seed,
                         seed + o->vote - 1), R1_ERR;
    if (o->n_gen < 0) o->n_gen = o->raw ? 16 : 2048;
    return R1_OK;
}

/* Positions past the model's training length run, but the model never learned
 * them: say so when prompt + new tokens can reach them, as the answer may show it. */
static void warn_past_training(const r1_model *m, long n_positions) {
    if (n_positions > m->hp.ctx_len)
        fprintf(stderr, "r1: run: warning: %ld positions go past the %d the model was trained on\n", n_positions,
                m->hp.ctx_len);
}

/* ---- raw mode ---- */

static int run_raw(const run_options *o) {
    int *tokens, n;
    if (cli_parse_tokens(o->tokens_text, &tokens, &n) != R1_OK) return 1;
    long n_ctx = o->n_ctx ? o->n_ctx : n + o->n_gen;
    if (n + o->n_gen > n_ctx) {
        free(tokens);
        return cli_error("run: %d prompt + %ld new tokens exceed the context of %ld", n, o->n_gen, n_ctx);
    }
    cli_session s;
    if (cli_session_open(&s, o->model_path, (int)o->threads, (int)n_ctx, 512) != R1_OK) return free(tokens), 1;
    warn_past_training(&s.model, n + o->n_gen);
    r1_sampler sampler;
    r1_err err;
    float *logits = malloc((size_t)s.model.hp.n_vocab * sizeof(float));
    int rc = 0;
    long printed = 0;
    if (!logits || r1_sampler_init(&sampler, &o->sampling, s.model.hp.n_vocab, &err) != R1_OK) {
        rc = cli_error("out of memory");
    } else {
        const int *next = tokens;
        int n_next = n, token;
        for (long g = 0; g < o->n_gen; g++) {
            if (r1_forward(&s.state, next, n_next, logits, 0, &err) != R1_OK) { rc = cli_error("%s", err.msg); break; }
            if (r1_logits_check(logits, s.model.hp.n_vocab, &err) != R1_OK) {
                rc = cli_error("run: generated token %ld: %s", g + 1, err.msg);
                break;
            }
            token = r1_sample(&sampler, logits);
            printf(g ? " %d" : "%d", token);
            fflush(stdout);
            next = &token;
            n_next = 1;
            printed++;
        }
        r1_sampler_free(&sampler);
    }
    if (rc == 0 || printed) putchar('\n'); /* ends the line of ids; a failure before any leaves stdout empty */
    free(logits);
    free(tokens);
    cli_session_close(&s);
    return rc;
}

/* ---- chat mode ---- */

/* What the terminal shows: the thinking (dimmed on a TTY, between <think> tags
 * otherwise, or hidden), then the answer. The markers themselves switch phase. */
typedef struct {
    r1_think phase;  /* tracks markers only: budget forcing happens in r1_generate */
    int show_thinking, dim;
    /* Whitespace at a phase's edges is the display's to choose: newlines in the
     * thinking wait until more thinking follows (so none pile up before the closing
     * marker), and the answer starts at its first visible character. */
    int held_newlines, answer_started;
} chat_display;

/* 1 when every one of the len bytes of text is in set (text need not end in NUL). */
static int only_bytes_of(const char *text, size_t len, const char *set) {
    for (size_t i = 0; i < len; i++)
        if (!text[i] || !strchr(set, text[i])) return 0;
    return 1;
}

static void begin_phase(chat_display *d, r1_phase phase) {
    if (phase == R1_PHASE_THINKING && d->show_thinking) printf("%s", d->dim ? "\x1b[2m" : "<think>\n");
}

static void end_phase(chat_display *d, r1_phase phase) {
    d->held_newlines = 0;
    if (phase == R1_PHASE_THINKING && d->show_thinking) printf("%s", d->dim ? "\x1b[0m\n\n" : "\n</think>\n\n");
}

/* After the last token: a response cut off while thinking still resets the dimming. */
static void end_display(chat_display *d) {
    if (d->phase.phase == R1_PHASE_THINKING && d->show_thinking && d->dim) printf("\x1b[0m");
    putchar('\n');
}

static int show_token(void *ctx, int token, const char *text, size_t len) {
    chat_display *d = ctx;
    if (r1_think_is_marker(&d->phase, token)) {
        end_phase(d, d->phase.phase);
        r1_think_step(&d->phase, token);
        begin_phase(d, d->phase.phase);
    } else if (d->phase.phase == R1_PHASE_ANSWER) {
        if (!d->answer_started && only_bytes_of(text, len, " \t\r\n")) return 1;
        d->answer_started = 1;
        fwrite(text, 1, len, stdout);
    } else if (d->show_thinking) {
        if (len > 0 && only_bytes_of(text, len, "\n")) return d->held_newlines += (int)len, 1;
        for (; d->held_newlines > 0; d->held_newlines--) putchar('\n');
        fwrite(text, 1, len, stdout);
    }
    fflush(stdout);
    return 1;
}

/* ---- self-consistency (--vote K) ---- */

/* A sample's vote, worked out once (infer/vote.h has the rules). */
typedef struct {
    int has_vote, correct;
    char key[R1_VOTE_KEY_MAX];    /* what is compared: for Countdown, the value */
    char answer[R1_VOTE_KEY_MAX]; /* the answer as written, spaces collapsed */
} sample_vote;

static int sample_key(const void *ctx, int i, char key[R1_VOTE_KEY_MAX], int *correct) {
    const sample_vote *v = (const sample_vote *)ctx + i;
    memcpy(key, v->key, R1_VOTE_KEY_MAX);
    *correct = v->correct;
    return v->has_vote;
}

/* Shows a finished sample as a plain run would have streamed it. */
static int replay(const r1_tokenizer *tok, const r1_generation *g, chat_display *d, r1_err *err) {
    r1_detok_stream detok;
    r1_detok_init(&detok, tok);
    const char *text;
    size_t len;
    int rc = R1_OK;
    for (int i = 0; i < g->n_tokens && rc == R1_OK; i++)
        if ((rc = r1_detok_push(&detok, g->tokens[i], &text, &len, err)) == R1_OK)
            show_token(d, g->tokens[i], text, len);
    r1_detok_flush(&detok, &text, &len);
    if (rc == R1_OK && len) show_token(d, -1, text, len);
    r1_detok_free(&detok);
    return rc;
}

/* An answer in quotes, readable on one line: a quote or backslash escaped, a
 * control byte as '?'. */
static void print_answer(const char *answer) {
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)answer; *c; c++) {
        if (*c == '"' || *c == '\\') putchar('\\');
        putchar(*c < 0x20 || *c == 0x7f ? '?' : *c);
    }
    putchar('"');
}

/* An answer, and for Countdown its value (the key, num/den), which is what counts:
 * "5 + 7 * 3" = 26 stands for every expression of 26. */
static void print_vote(const sample_vote *v, int is_countdown) {
    print_answer(v->answer);
    if (!is_countdown) return;
    size_t len = strlen(v->key);
    printf(" = %.*s", (int)(len > 2 && !strcmp(v->key + len - 2, "/1") ? len - 2 : len), v->key);
}

/* The vote after the shown sample: its answer's count, then the other answers'. */
static void print_votes(const sample_vote *votes, int k, const r1_problem *task, const r1_vote_result *vote) {
    int is_countdown = task && task->kind == R1_TASK_COUNTDOWN;
    enum { MAX_SHOWN = 8 };
    int shown = 0, hidden = 0, hidden_samples = 0, no_vote = 0;
    if (!vote->has_majority) {
        printf("\nvote: no valid answer among the %d samples (the first is shown)\n", k);
        return;
    }
    for (int i = 0; i < k; i++) no_vote += !votes[i].has_vote;
    printf("\nvote: %d of %d samples answer ", vote->votes, k);
    print_vote(&votes[vote->winner], is_countdown);
    if (task) printf(vote->correct ? " (correct)" : " (wrong)");
    if (vote->votes < k) printf("; others:");
    for (int i = 0; i < k; i++) {
        int count = i == vote->winner ? 0 : r1_vote_count(sample_key, votes, k, i);
        if (count == 0) continue;
        if (shown == MAX_SHOWN) {
            hidden++, hidden_samples += count;
            continue;
        }
        printf("%s ", shown++ ? "," : "");
        print_vote(&votes[i], is_countdown);
        printf(" x%d", count);
    }
    if (hidden) printf(", %d more answers x%d", hidden, hidden_samples);
    if (no_vote) printf("%s no valid answer x%d", shown ? "," : "", no_vote);
    putchar('\n');
}

typedef struct {
    r1_progress bar;
    int k;
} vote_progress;

static void show_progress(void *ctx, long tokens, int finished) {
    vote_progress *p = ctx;
    char metrics[48];
    snprintf(metrics, sizeof metrics, "%ld tokens", tokens);
    if (finished < p->k) r1_progress_update(&p->bar, (uint64_t)finished, metrics);
    else r1_progress_finish(&p->bar, (uint64_t)finished, metrics);
}

/* Draws o->vote samples from the prompt, decoded together (sample j with seed
 * S + j, so sample 0 is what a plain run draws), and shows the winner and the
 * votes. */
static int run_vote(const run_options *o, cli_session *s, const r1_tokenizer *tok, const char *prompt, const int *ids,
                    int n_ids, r1_generate_params *gp, chat_display *display) {
    int k = (int)o->vote, rc = R1_OK;
    r1_err err;
    r1_prefill pf;
    r1_sequences seqs = {0};
    r1_generation *samples = calloc((size_t)k, sizeof *samples);
    uint64_t *seeds = calloc((size_t)k, sizeof *seeds);
    if (!samples || !seeds) return free(samples), free(seeds), cli_error("run: out of memory for %d samples", k);
    for (int j = 0; j < k; j++) seeds[j] = o->sampling.seed + (uint64_t)j;
    if (r1_prefill_run(&s->state, ids, n_ids, &pf, &err) != R1_OK)
        return free(samples), free(seeds), cli_error("%s", err.msg);
    vote_progress progress = {.k = k};
    r1_progress_start(&progress.bar, "vote", "sample", (uint64_t)k);
    gp->on_step = show_progress;
    gp->on_step_ctx = &progress;
    rc = r1_generate_many(&s->state, &seqs, tok, &pf, gp, seeds, k, samples, &err);
    r1_prefill_free(&pf);
    if (rc != R1_OK && progress.bar.drawn) fputc('\n', stderr); /* the error on a line of its own */
    sample_vote *votes = rc == R1_OK ? calloc((size_t)k, sizeof *votes) : NULL;
    if (rc == R1_OK && !votes) rc = R1_ERR, r1_fail(&err, "run: out of memory for %d votes", k);
    if (rc == R1_OK) {
        r1_problem problem;
        int is_task = r1_task_parse_prompt(prompt, &problem);
        for (int j = 0; j < k; j++) {
            sample_vote *v = &votes[j];
            const r1_generation *g = &samples[j];
            v->has_vote = r1_vote_text_key(is_task ? &problem : NULL, g->text, gp->starts_thinking, g->stopped_at_eos,
                                           v->key, v->answer, &v->correct);
        }
        r1_vote_result vote;
        r1_vote_by(sample_key, votes, k, &vote);
        begin_phase(display, display->phase.phase);
        rc = replay(tok, &samples[vote.has_majority ? vote.winner : 0], display, &err);
        end_display(display);
        if (rc == R1_OK) print_votes(votes, k, is_task ? &problem : NULL, &vote);
    }
    free(votes);
    if (rc != R1_OK) cli_error("%s", err.msg);
    for (int i = 0; i < k; i++) r1_generation_free(&samples[i]);
    free(samples), free(seeds);
    r1_sequences_free(&seqs);
    return rc != R1_OK;
}

static int run_chat(const run_options *o) {
    char *stdin_text = NULL;
    const char *prompt = o->prompt;
    if (!prompt) {
        if (isatty(0)) return cli_error("run: no prompt: give PROMPT, -p TEXT or standard input (see r1 run --help)");
        size_t len;
        if (cli_read_stdin(&stdin_text, &len) != R1_OK) return 1;
        size_t nul = strlen(stdin_text);
        if (nul != len) {
            free(stdin_text);
            return cli_error("run: the prompt on standard input holds a NUL byte at offset %zu", nul);
        }
        while (len > 0 && (stdin_text[len - 1] == '\n' || stdin_text[len - 1] == '\r')) stdin_text[--len] = 0;
        prompt = stdin_text; /* as the shell's $(...) reads it: `echo PROMPT |` asks what PROMPT asks */
    }
    /* checked on the text, before the model loads: a non-empty one is at least one token */
    if (!*prompt) return free(stdin_text), cli_error("run: the prompt is empty");
    cli_session s;
    r1_err err;
    r1_tokenizer *tok = NULL;
    r1_chat_template tmpl;
    char *rendered = NULL;
    size_t rendered_len;
    int *ids = NULL, n_ids = 0, rc = 1;
    /* the context is sized once the prompt length is known: open the model
     * first with a small state, then size the real one */
    if (cli_session_open(&s, o->model_path, (int)o->threads, 1, 1) != R1_OK) return free(stdin_text), 1;
    r1_chat_message msgs[2];
    int n_msgs = 0;
    if (o->system) msgs[n_msgs++] = (r1_chat_message){"system", o->system};
    msgs[n_msgs++] = (r1_chat_message){"user", prompt};
    if (r1_tokenizer_load_gguf(&tok, &s.model.gguf, &err) != R1_OK ||
        (o->template_name ? r1_chat_template_by_name(o->template_name, &tmpl, &err)
                          : r1_chat_template_detect(&s.model.gguf, &tmpl, &err)) != R1_OK ||
        r1_chat_render(tmpl, msgs, n_msgs, 1, &rendered, &rendered_len, &err) != R1_OK ||
        /* templates write BOS as text; only raw prompts get it from the tokenizer */
        r1_tokenize(tok, rendered, rendered_len, tmpl == R1_CHAT_RAW && r1_tokenizer_wants_bos(tok), 1, &ids,
                    &n_ids, &err) != R1_OK) {
        cli_error("%s", err.msg);
        goto done;
    }
    long n_ctx = o->n_ctx ? o->n_ctx : n_ids + (o->n_gen > 0 ? o->n_gen : 1);
    if (n_ctx > s.model.hp.ctx_len && !o->n_ctx) n_ctx = s.model.hp.ctx_len;
    if (n_ids >= n_ctx) {
        cli_error("run: the prompt is %d tokens and the context %ld: no room for an answer (-c N sets the context)",
                  n_ids, n_ctx);
        goto done;
    }
    warn_past_training(&s.model, n_ids + (o->n_gen < n_ctx - n_ids ? o->n_gen : n_ctx - n_ids));
    r1_state_free(&s.state);
    if (r1_state_init(&s.state, &s.model, &s.compute, (int)n_ctx, 512, &err) != R1_OK) {
        cli_error("%s", err.msg);
        goto done;
    }
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling = o->sampling;
    gp.think_budget = (int)o->think_budget;
    gp.starts_thinking = r1_chat_template_starts_thinking(tmpl);
    long room = n_ctx - n_ids;
    gp.max_tokens = o->n_gen < room ? o->n_gen : room;
    chat_display display = {.show_thinking = o->show_thinking, .dim = isatty(1)};
    r1_think_init(&display.phase, tok, gp.starts_thinking, -1);
    if (o->vote) {
        rc = run_vote(o, &s, tok, prompt, ids, n_ids, &gp, &display);
        goto done;
    }
    gp.on_token = show_token;
    gp.on_token_ctx = &display;
    begin_phase(&display, display.phase.phase);
    r1_generation gen;
    rc = r1_generate(&s.state, tok, ids, n_ids, &gp, &gen, &err) != R1_OK;
    if (rc) cli_error("%s", err.msg);
    end_display(&display);
    fflush(stdout); /* the notes below come after the answer, also in one stream */
    if (!rc && !gen.stopped_at_eos && gen.n_tokens == room && room < o->n_gen)
        fprintf(stderr, "r1: run: the answer stopped at the end of the context, %ld tokens (-c N sets it)\n", n_ctx);
    else if (!rc && !gen.stopped_at_eos && o->n_gen > 0 && gen.n_tokens == o->n_gen &&
             display.phase.phase == R1_PHASE_THINKING)
        fprintf(stderr, "r1: run: stopped after %ld tokens (-n) while still thinking: no answer yet\n", o->n_gen);
    r1_generation_free(&gen);
done:
    free(ids);
    free(rendered);
    r1_tokenizer_free(tok);
    free(stdin_text);
    cli_session_close(&s);
    return rc;
}

int cmd_run(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) /* after --, -h is a prompt */
        if (cli_is_help(argv[i])) return fputs(usage, stdout), 0;
    run_options o;
    if (parse_options(argc, argv, &o) != R1_OK) return 1;
    return o.raw ? run_raw(&o) : run_chat(&o);
}
