/* r1 eval: held-out accuracy on the tasks of DESIGN §6. Each problem is posed
 * with its fixed prompt through the chat template, sampled K times from one
 * prefilled prompt (infer/generate.h), scored by the task's rules and voted on
 * (infer/vote.h has the definitions of pass@1, maj@K and mean_length). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "cli/cli.h"
#include "infer/generate.h"
#include "infer/vote.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"
#include "train/task.h"

static const char *usage =
    "usage: r1 eval [-m MODEL.gguf] --task countdown|arithmetic --n N [--k K] [options]\n"
    "       r1 eval [-m MODEL.gguf] --file PROBLEMS.jsonl [--n N] [--k K] [options]\n"
    "Scores a model (default: the embedded r1-tiny model) on held-out problems (the\n"
    "test split of the task generator, or the problems of a JSONL file) and prints,\n"
    "on standard output:\n"
    "  pass@1 <x>        mean fraction of correct samples per problem\n"
    "  maj@K <x>         (with --k) fraction of problems whose majority answer is right\n"
    "  mean_length <x>   mean completion length in tokens\n"
    "A JSONL line is {\"numbers\": [7, 3, 5], \"target\": 26} (countdown) or\n"
    "{\"question\": \"What is 123 * 456?\", \"answer\": \"56088\"} (arithmetic); blank\n"
    "lines are skipped. Without --k each problem gets one sample.\n"
    "  --task NAME        countdown or arithmetic (with --file: every line must be one)\n"
    "  --n N              problems to evaluate (with --file: the first N; default all)\n"
    "  --k K              samples per problem, majority-voted (1..1024)\n"
    "  --file F.jsonl     evaluate the problems in F instead of generated ones\n"
    "  --seed S           problem generator and sampling seed (default 0)\n"
    "  --temp T           temperature; 0 = greedy (default 0.6)\n"
    "  --top-p P          nucleus sampling (default 0.95)\n"
    "  --max-tokens M     at most M new tokens per sample (default 2048; also -n-predict)\n"
    "  --think-budget B   force </think> after B thinking tokens (default: no limit)\n"
    "  --template NAME    deepseek-r1, deepseek-v3, r1-distill-qwen, r1-distill-llama,\n"
    "                     raw (default: from the model file)\n"
    "  -t THREADS         threads (default: all cores)\n"
    "  --verbose          each problem's prompt, answers, rewards and vote on stderr\n";

typedef struct {
    const char *model_path, *task_name, *file, *template_name;
    long n, k, seed, max_tokens, think_budget, threads;
    int verbose;
    r1_sampler_params sampling;
} eval_options;

static int parse_options(int argc, char **argv, eval_options *o) {
    memset(o, 0, sizeof *o);
    o->n = -1;
    o->k = 0;
    o->max_tokens = 2048;
    o->think_budget = -1;
    o->sampling = r1_sampler_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--verbose")) { o->verbose = 1; continue; }
        if (a[0] != '-') return cli_error("eval: unexpected argument '%s' (see r1 eval --help)", a), R1_ERR;
        if (!(v = cli_value(argc, argv, &i))) return R1_ERR;
        int rc = R1_OK;
        if (!strcmp(a, "-m")) o->model_path = v;
        else if (!strcmp(a, "--task")) o->task_name = v;
        else if (!strcmp(a, "--file")) o->file = v;
        else if (!strcmp(a, "--template")) o->template_name = v;
        else if (!strcmp(a, "--n")) rc = cli_parse_long(a, v, 1, 1L << 30, &o->n);
        else if (!strcmp(a, "--k")) rc = cli_parse_long(a, v, 1, 1024, &o->k);
        else if (!strcmp(a, "--seed")) rc = cli_parse_long(a, v, 0, 0x7fffffffL, &o->seed);
        else if (!strcmp(a, "--temp")) rc = cli_parse_float(a, v, &o->sampling.temperature);
        else if (!strcmp(a, "--top-p")) rc = cli_parse_float(a, v, &o->sampling.top_p);
        else if (!strcmp(a, "--max-tokens") || !strcmp(a, "-n-predict"))
            rc = cli_parse_long(a, v, 1, 1 << 24, &o->max_tokens);
        else if (!strcmp(a, "--think-budget")) rc = cli_parse_long(a, v, 0, 1 << 24, &o->think_budget);
        else if (!strcmp(a, "-t")) rc = cli_parse_long(a, v, 1, 1024, &o->threads);
        else return cli_error("eval: unknown option '%s' (see r1 eval --help)", a), R1_ERR;
        if (rc != R1_OK) return R1_ERR;
    }
    if (!o->file && !o->task_name) return cli_error("eval: give --task countdown|arithmetic (or --file F.jsonl)"), R1_ERR;
    if (!o->file && o->n < 0) return cli_error("eval: give the number of problems with --n N"), R1_ERR;
    return R1_OK;
}

/* ---- the problems ---- */

static int add_problem(r1_problem **problems, long *count, long *cap, const r1_problem *p) {
    if (*count == *cap) {
        long grown_cap = *cap ? *cap * 2 : 64;
        r1_problem *grown = realloc(*problems, (size_t)grown_cap * sizeof *grown);
        if (!grown) return cli_error("out of memory for %ld problems", grown_cap), R1_ERR;
        *problems = grown;
        *cap = grown_cap;
    }
    (*problems)[(*count)++] = *p;
    return R1_OK;
}

/* Reads up to limit (< 0: all) problems of F; errors name the line. */
static int read_problems(const char *path, const r1_task_kind *only, long limit, r1_problem **problems, long *count) {
    FILE *f = fopen(path, "r");
    if (!f) return cli_error("eval: cannot open %s: %s", path, strerror(errno)), R1_ERR;
    char *line = NULL;
    size_t line_cap = 0;
    long cap = 0, line_no = 0;
    int rc = R1_OK;
    r1_err err;
    while ((limit < 0 || *count < limit) && getline(&line, &line_cap, f) >= 0) {
        line_no++;
        const char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
        if (!*s) continue;
        r1_problem p;
        if (r1_task_parse_json_line(line, &p, &err) != R1_OK) {
            cli_error("eval: %s:%ld: %s", path, line_no, err.msg);
            rc = R1_ERR;
            break;
        }
        if (only && p.kind != *only) {
            cli_error("eval: %s:%ld: a problem of task %s, but --task is %s", path, line_no, r1_task_name(p.kind),
                      r1_task_name(*only));
            rc = R1_ERR;
            break;
        }
        if ((rc = add_problem(problems, count, &cap, &p)) != R1_OK) break;
    }
    if (rc == R1_OK && (ferror(f) || *count == 0)) {
        cli_error(ferror(f) ? "eval: error reading %s" : "eval: %s holds no problems", path);
        rc = R1_ERR;
    }
    free(line);
    fclose(f);
    return rc;
}

static int load_problems(const eval_options *o, r1_problem **problems, long *count) {
    r1_task_kind kind;
    r1_err err;
    *problems = NULL;
    *count = 0;
    if (o->task_name && r1_task_kind_by_name(o->task_name, &kind, &err) != R1_OK)
        return cli_error("eval: %s", err.msg), R1_ERR;
    if (o->file) return read_problems(o->file, o->task_name ? &kind : NULL, o->n, problems, count);
    long cap = 0;
    for (long i = 0; i < o->n; i++) {
        r1_problem p;
        if (r1_task_generate(kind, R1_SPLIT_TEST, (uint64_t)i, (uint64_t)o->seed, &p) != R1_OK)
            return cli_error("eval: cannot generate %s test problem %ld", o->task_name, i), R1_ERR;
        if (add_problem(problems, count, &cap, &p) != R1_OK) return R1_ERR;
    }
    return R1_OK;
}

/* ---- prompts ---- */

typedef struct {
    int *ids;
    int n_ids;
} prompt_ids;

static int tokenize_prompt(const r1_tokenizer *tok, r1_chat_template tmpl, const r1_problem *p, prompt_ids *out,
                           r1_err *err) {
    char question[256], *rendered = NULL;
    size_t rendered_len;
    if (r1_task_prompt(p, question, sizeof question) < 0) return r1_fail(err, "eval: cannot write a problem's prompt");
    r1_chat_message msg = {"user", question};
    /* templates write BOS as text; only raw prompts get it from the tokenizer */
    int rc = r1_chat_render(tmpl, &msg, 1, 1, &rendered, &rendered_len, err) != R1_OK ||
                     r1_tokenize(tok, rendered, rendered_len, tmpl == R1_CHAT_RAW && r1_tokenizer_wants_bos(tok), 1,
                                 &out->ids, &out->n_ids, err) != R1_OK
                 ? R1_ERR
                 : R1_OK;
    free(rendered);
    return rc;
}

/* ---- sampling and scoring ---- */

/* Each sample its own stream, so a sample's text depends only on (seed, problem,
 * sample) and not on the order they are run in. */
static uint64_t sample_seed(long seed, long problem, long sample) {
    return r1_task_mix64((uint64_t)seed ^ r1_task_mix64(((uint64_t)problem << 10) ^ (uint64_t)sample));
}

static void print_verbose(long index, const char *question, const r1_reward *rewards, const int *n_tokens, int k,
                          const r1_problem *p, const r1_vote_result *vote) {
    fprintf(stderr, "problem %ld: %s\n", index + 1, question);
    for (int i = 0; i < k; i++)
        fprintf(stderr, "  sample %d: reward %.1f, %d tokens, %s \"%s\"\n", i + 1, rewards[i].reward, n_tokens[i],
                rewards[i].well_formed ? "answer" : "not well-formed, answer", rewards[i].answer);
    if (!vote->has_majority) {
        fprintf(stderr, "  majority: none (no sample gave a usable answer)\n");
        return;
    }
    char key[R1_VOTE_KEY_MAX];
    int correct;
    r1_vote_key(p, &rewards[vote->winner], key, &correct);
    fprintf(stderr, "  majority: \"%s\" (%s) with %d of %d votes, %s\n", rewards[vote->winner].answer, key,
            vote->votes, k, vote->correct ? "correct" : "wrong");
}

static int evaluate(const eval_options *o, cli_session *s, const r1_tokenizer *tok, r1_chat_template tmpl,
                    const r1_problem *problems, const prompt_ids *prompts, long n_problems) {
    int k = o->k > 0 ? (int)o->k : 1;
    r1_reward *rewards = calloc((size_t)k, sizeof *rewards);
    int *n_tokens = calloc((size_t)k, sizeof *n_tokens);
    if (!rewards || !n_tokens) return free(rewards), free(n_tokens), cli_error("out of memory");
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling = o->sampling;
    gp.max_tokens = o->max_tokens;
    gp.think_budget = (int)o->think_budget;
    gp.starts_thinking = r1_chat_template_starts_thinking(tmpl);
    r1_eval_tally tally = {0};
    r1_progress bar;
    char metrics[128];
    r1_err err;
    int rc = 0;
    r1_progress_start(&bar, "eval", "problem", (uint64_t)n_problems);
    for (long i = 0; i < n_problems && !rc; i++) {
        r1_prefill pf;
        if (r1_prefill_run(&s->state, prompts[i].ids, prompts[i].n_ids, &pf, &err) != R1_OK) {
            rc = cli_error("eval: problem %ld: %s", i + 1, err.msg);
            break;
        }
        for (int j = 0; j < k; j++) {
            r1_generation g;
            gp.sampling.seed = sample_seed(o->seed, i, j);
            if (r1_generate_from(&s->state, tok, &pf, &gp, &g, &err) != R1_OK) {
                rc = cli_error("eval: problem %ld, sample %d: %s", i + 1, j + 1, err.msg);
                break;
            }
            r1_task_reward(&problems[i], g.text, &rewards[j]);
            n_tokens[j] = g.n_tokens;
            r1_generation_free(&g);
        }
        r1_prefill_free(&pf);
        if (rc) break;
        r1_vote_result vote = r1_tally_add(&tally, &problems[i], rewards, n_tokens, k);
        if (o->verbose) {
            char question[256];
            r1_task_prompt(&problems[i], question, sizeof question);
            print_verbose(i, question, rewards, n_tokens, k, &problems[i], &vote);
        }
        if (o->k > 0)
            snprintf(metrics, sizeof metrics, "pass@1 %.3f maj@%d %.3f len %.0f", r1_tally_pass1(&tally), k,
                     r1_tally_majority(&tally), r1_tally_mean_length(&tally));
        else
            snprintf(metrics, sizeof metrics, "pass@1 %.3f len %.0f", r1_tally_pass1(&tally),
                     r1_tally_mean_length(&tally));
        if (i + 1 < n_problems) r1_progress_update(&bar, (uint64_t)(i + 1), metrics);
        else r1_progress_finish(&bar, (uint64_t)(i + 1), metrics);
    }
    if (!rc) {
        printf("pass@1 %.4f\n", r1_tally_pass1(&tally));
        if (o->k > 0) printf("maj@%d %.4f\n", k, r1_tally_majority(&tally));
        printf("mean_length %.1f\n", r1_tally_mean_length(&tally));
    }
    free(rewards);
    free(n_tokens);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) return fputs(usage, stdout), 0;
    eval_options o;
    r1_problem *problems = NULL;
    long n_problems = 0;
    if (parse_options(argc, argv, &o) != R1_OK || load_problems(&o, &problems, &n_problems) != R1_OK)
        return free(problems), 1;

    /* the context is sized once the prompts are known: open the model with a
     * one-token state first */
    cli_session s;
    if (cli_session_open(&s, o.model_path, (int)o.threads, 1, 1) != R1_OK) return free(problems), 1;
    r1_err err;
    r1_tokenizer *tok = NULL;
    r1_chat_template tmpl;
    prompt_ids *prompts = calloc((size_t)n_problems, sizeof *prompts);
    int rc = 1, longest = 0;
    if (!prompts) {
        cli_error("out of memory");
        goto done;
    }
    if (r1_tokenizer_load_gguf(&tok, &s.model.gguf, &err) != R1_OK ||
        (o.template_name ? r1_chat_template_by_name(o.template_name, &tmpl, &err)
                         : r1_chat_template_detect(&s.model.gguf, &tmpl, &err)) != R1_OK) {
        cli_error("eval: %s", err.msg);
        goto done;
    }
    for (long i = 0; i < n_problems; i++) {
        if (tokenize_prompt(tok, tmpl, &problems[i], &prompts[i], &err) != R1_OK) {
            cli_error("eval: problem %ld: %s", i + 1, err.msg);
            goto done;
        }
        if (prompts[i].n_ids > longest) longest = prompts[i].n_ids;
    }
    long n_ctx = longest + o.max_tokens;
    if (n_ctx > s.model.hp.ctx_len) n_ctx = s.model.hp.ctx_len;
    if (longest == 0 || longest >= n_ctx) {
        cli_error("eval: a prompt is %d tokens, the model's context only %ld", longest, n_ctx);
        goto done;
    }
    r1_state_free(&s.state);
    if (r1_state_init(&s.state, &s.model, &s.compute, (int)n_ctx, 512, &err) != R1_OK) {
        cli_error("eval: %s", err.msg);
        goto done;
    }
    rc = evaluate(&o, &s, tok, tmpl, problems, prompts, n_problems);
done:
    for (long i = 0; prompts && i < n_problems; i++) free(prompts[i].ids);
    free(prompts);
    free(problems);
    r1_tokenizer_free(tok);
    cli_session_close(&s);
    return rc;
}
