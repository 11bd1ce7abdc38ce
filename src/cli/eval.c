/* r1 eval: held-out accuracy on the tasks of DESIGN §6. Each problem is posed
 * with its fixed prompt through the chat template, sampled K times from one
 * prefilled prompt (train/rollout.h), scored by the task's rules and voted on
 * (infer/vote.h has the definitions of pass@1, maj@K and mean_length). */
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "cli/cli.h"
#include "infer/vote.h"
#include "train/problem_set.h"
#include "train/rollout.h"

static const char *usage =
    "usage: r1 eval [-m MODEL.gguf] --task countdown|arithmetic|mix --n N [--k K] [options]\n"
    "       r1 eval [-m MODEL.gguf] --file PROBLEMS.jsonl [--n N] [--k K] [options]\n"
    "Scores a model (default: the embedded r1-tiny model) on held-out problems (the\n"
    "test split of the task generator, or the problems of a JSONL file) and prints,\n"
    "on standard output:\n"
    "  pass@1 <x>        mean fraction of correct samples per problem\n"
    "  maj@K <x>         (with --k) fraction of problems whose majority answer is right\n"
    "  mean_length <x>   mean completion length in tokens\n"
    "A JSONL line is {\"numbers\": [7, 3, 5], \"target\": 26} (countdown: 3 or 4\n"
    "numbers from 1 to 99, a target from 1 to 100 that they can make) or\n"
    "{\"question\": \"What is 123 * 456?\", \"answer\": \"56088\"} (arithmetic); blank\n"
    "lines are skipped. Without --k each problem gets one sample.\n"
    "  --task NAME        countdown, arithmetic or mix (both in turn; with --file: every\n"
    "                     line must be of the task named)\n"
    "  --n N              problems to evaluate (with --file: the first N; default all)\n"
    "  --k K              samples per problem, majority-voted (1..1024)\n"
    "  --file F.jsonl     evaluate the problems in F (- : standard input) instead of\n"
    "                     generated ones\n"
    "  --verbose          each problem's prompt, answers, rewards and vote on stderr\n";

typedef struct {
    cli_rollout_options r;
    int verbose;
} eval_options;

static int parse_options(int argc, char **argv, eval_options *o) {
    memset(o, 0, sizeof *o);
    cli_rollout_options_init(&o->r);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--verbose")) { o->verbose = 1; continue; }
        int taken = cli_rollout_option(argc, argv, &i, &o->r);
        if (taken < 0) return R1_ERR;
        if (taken) continue;
        if (a[0] != '-') return cli_error("eval: unexpected argument '%s' (see r1 eval --help)", a), R1_ERR;
        return cli_error("eval: unknown option '%s' (see r1 eval --help)", a), R1_ERR;
    }
    return R1_OK;
}

/* ---- scoring ---- */

static void print_verbose(const r1_rollout_group *g, const r1_vote_result *vote) {
    fprintf(stderr, "problem %ld: %s\n", g->index + 1, g->question);
    for (int i = 0; i < g->k; i++)
        fprintf(stderr, "  sample %d: reward %.1f, %d tokens, %s \"%s\"\n", i + 1, g->rewards[i].reward,
                g->n_tokens[i], g->rewards[i].well_formed ? "answer" : "not well-formed, answer", g->rewards[i].answer);
    if (!vote->has_majority) {
        fprintf(stderr, "  majority: none (no sample gave a usable answer)\n");
        return;
    }
    char key[R1_VOTE_KEY_MAX];
    int correct;
    r1_vote_key(g->problem, &g->rewards[vote->winner], key, &correct);
    fprintf(stderr, "  majority: \"%s\" (%s) with %d of %d votes, %s\n", g->rewards[vote->winner].answer, key,
            vote->votes, g->k, vote->correct ? "correct" : "wrong");
}

typedef struct {
    const eval_options *o;
    long n_problems;
    r1_eval_tally tally;
    r1_progress bar;
} eval_run;

static int score_group(void *ctx, const r1_rollout_group *g, r1_err *err) {
    (void)err;
    eval_run *run = ctx;
    r1_vote_result vote = r1_tally_add(&run->tally, g->problem, g->rewards, g->n_tokens, g->k);
    if (run->o->verbose) print_verbose(g, &vote);
    char metrics[128];
    if (run->o->r.k > 0)
        snprintf(metrics, sizeof metrics, "pass@1 %.3f maj@%d %.3f len %.0f", r1_tally_pass1(&run->tally), g->k,
                 r1_tally_majority(&run->tally), r1_tally_mean_length(&run->tally));
    else
        snprintf(metrics, sizeof metrics, "pass@1 %.3f len %.0f", r1_tally_pass1(&run->tally),
                 r1_tally_mean_length(&run->tally));
    if (g->index + 1 < run->n_problems) r1_progress_update(&run->bar, (uint64_t)(g->index + 1), metrics);
    else r1_progress_finish(&run->bar, (uint64_t)(g->index + 1), metrics);
    return R1_OK;
}

int cmd_eval(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) return fputs(usage, stdout), fputs(cli_rollout_usage, stdout), 0;
    eval_options o;
    r1_problem_set problems;
    r1_rollout_params rp;
    if (parse_options(argc, argv, &o) != R1_OK || cli_rollout_params("eval", &o.r, &rp) != R1_OK ||
        cli_rollout_problems("eval", &o.r, R1_SPLIT_TEST, &problems) != R1_OK)
        return 1;
    eval_run run = {.o = &o, .n_problems = problems.n};
    r1_progress_start(&run.bar, "eval", "problem", (uint64_t)problems.n);
    r1_err err;
    int rc = r1_rollout_run(&rp, problems.items, problems.n, score_group, &run, NULL, &err);
    r1_problem_set_free(&problems);
    if (rc != R1_OK) return cli_error("eval: %s", err.msg);
    printf("pass@1 %.4f\n", r1_tally_pass1(&run.tally));
    if (o.r.k > 0) printf("maj@%d %.4f\n", rp.k, r1_tally_majority(&run.tally));
    printf("mean_length %.1f\n", r1_tally_mean_length(&run.tally));
    return 0;
}
