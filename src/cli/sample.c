/* r1 sample: a model's traces on task problems, as training data for sft
 * (train/sample_traces.h): with --filter correct, rejection sampling. */
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "train/sample_traces.h"

static const char *usage =
    "usage: r1 sample [-m MODEL.gguf] --task countdown|arithmetic|mix --n N [--k K] -o OUT.jsonl\n"
    "       r1 sample [-m MODEL.gguf] --file PROBLEMS.jsonl [--n N] [--k K] -o OUT.jsonl\n"
    "Draws K samples of each of N problems (the train split of the task generator by\n"
    "default: these are training data), scores each with the task's rule-based reward,\n"
    "and writes one JSON line per kept sample:\n"
    "  {\"prompt\": \"Using the numbers 7, 3, 5, make 26.\", \"completion\": \"...</think>\n"
    "   <answer>7 * 3 + 5</answer>\", \"reward\": 1, \"task\": \"countdown\"}\n"
    "completion is the text after the chat template's `<think>\\n`: the thinking and the\n"
    "answer, without the end-of-sentence token. `r1 train sft --data OUT.jsonl` trains\n"
    "on it. OUT appears only when every problem is done (it is written as OUT.tmp).\n"
    "  -o OUT.jsonl       the traces file (required)\n"
    "  --task NAME        countdown, arithmetic or mix (both in turn; with --file: every\n"
    "                     line must be of the task named)\n"
    "  --n N              problems (with --file: the first N; default all)\n"
    "  --k K              samples per problem (1..1024, default 1)\n"
    "  --filter F         correct: keep only the reward-1 samples; sound: the correct\n"
    "                     ones whose Countdown search has no false line (a right answer\n"
    "                     reached through a slip teaches the slip); all (default)\n"
    "  --split S          train (default) or test: which generator split to pose\n"
    "  --file F.jsonl     sample the problems in F ({\"numbers\": [7, 3, 5], \"target\": 26}\n"
    "                     or {\"question\": \"What is 2 + 3?\", \"answer\": \"5\"} lines; - :\n"
    "                     standard input)\n"
    "  --quiet            no progress bar\n";

/* 1 when both paths name one existing file (through links or other spellings). */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cmd_sample(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) return fputs(usage, stdout), fputs(cli_rollout_usage, stdout), 0;
    cli_rollout_options o;
    cli_rollout_options_init(&o);
    const char *out = NULL;
    r1_sample_filter filter = R1_SAMPLE_KEEP_ALL;
    r1_task_split split = R1_SPLIT_TRAIN;
    int quiet = 0;
    r1_err err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int taken = cli_rollout_option(argc, argv, &i, &o);
        if (taken < 0) return 1;
        if (taken) continue;
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (strcmp(a, "-o") && strcmp(a, "--filter") && strcmp(a, "--split"))
            return cli_error("sample: unknown option '%s' (see r1 sample --help)", a);
        if (!(v = cli_value(argc, argv, &i))) return 1;
        if (!strcmp(a, "-o")) out = v;
        else if (!strcmp(a, "--filter") && r1_sample_filter_by_name(v, &filter, &err) != R1_OK)
            return cli_error("sample: --filter: %s", err.msg);
        else if (!strcmp(a, "--split") && strcmp(v, "train") && strcmp(v, "test"))
            return cli_error("sample: --split: '%s' is not train or test", v);
        else if (!strcmp(a, "--split")) split = strcmp(v, "test") ? R1_SPLIT_TRAIN : R1_SPLIT_TEST;
    }
    if (!out) return cli_error("sample: give the output file with -o OUT.jsonl");
    if (!strcmp(out, "-"))
        return cli_error("sample: -o needs a file name: the traces are written to OUT.tmp, then renamed to OUT");
    if (same_file(out, o.model_path) || same_file(out, o.file))
        return cli_error("sample: -o %s is the %s this run reads; the traces would replace it", out,
                         same_file(out, o.model_path) ? "model file" : "problems file");
    r1_problem_set problems;
    r1_rollout_params rp;
    if (cli_rollout_params("sample", &o, &rp) != R1_OK || cli_rollout_problems("sample", &o, split, &problems) != R1_OK)
        return 1;
    cli_catch_interrupts();
    rp.interrupted = &cli_interrupted;
    r1_sample_result res;
    int rc = r1_sample_traces(&rp, filter, problems.items, problems.n, out, quiet, &res, &err);
    r1_problem_set_free(&problems);
    if (rc != R1_OK) return cli_error("%s", err.msg);
    if (res.interrupted) return cli_error("sample: interrupted after %ld problems; nothing written", res.problems), 130;
    fprintf(stderr, "sample: %ld problems, %ld samples, %ld correct, wrote %ld to %s (%.1f s)\n", res.problems,
            res.samples, res.correct, res.kept, out, res.seconds);
    return 0;
}
