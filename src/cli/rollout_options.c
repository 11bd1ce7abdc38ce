/* The options `r1 eval` and `r1 sample` share: which model answers which problems,
 * and how it samples (train/rollout.h). */
#include <string.h>

#include "cli/cli.h"

const char *const cli_rollout_usage =
    "  -m MODEL.gguf      the model (default: the embedded one)\n"
    "  --seed S           problem generator and sampling seed (default 0)\n"
    "  --temp T           temperature; 0 = greedy (default 0.6)\n"
    "  --top-p P          nucleus sampling (default 0.95)\n"
    "  --max-tokens M     at most M new tokens per sample (default 2048, within the\n"
    "                     model's context; also --n-predict)\n"
    "  --think-budget B   force </think> after B thinking tokens (default: no limit)\n"
    "  --template NAME    deepseek-r1, deepseek-v3, r1-distill-qwen, r1-distill-llama,\n"
    "                     raw (default: from the model file)\n"
    "  -t THREADS         threads (default: all cores)\n";

void cli_rollout_options_init(cli_rollout_options *o) {
    memset(o, 0, sizeof *o);
    o->n = -1;
    o->max_tokens = 2048;
    o->think_budget = -1;
    o->sampling = r1_sampler_defaults();
}

int cli_rollout_option(int argc, char **argv, int *i, cli_rollout_options *o) {
    static const char *const flags[] = {"-m",          "--task",      "--file",     "--template", "--n",
                                        "--k",         "--seed",      "--temp",     "--top-p",    "--max-tokens",
                                        "--n-predict", "-n-predict",  "--think-budget", "-t"};
    const char *a = argv[*i], *v;
    int known = 0;
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) known |= !strcmp(a, flags[f]);
    if (!known) return 0;
    if (!(v = cli_value(argc, argv, i))) return -1;
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
    else if (!strcmp(a, "--think-budget")) rc = cli_parse_long(a, v, 0, 1 << 24, &o->think_budget);
    else if (!strcmp(a, "-t")) rc = cli_parse_long(a, v, 1, 1024, &o->threads);
    else rc = cli_parse_long(a, v, 1, 1 << 24, &o->max_tokens); /* --max-tokens, --n-predict, the older -n-predict */
    return rc == R1_OK ? 1 : -1;
}

int cli_rollout_problems(const char *cmd, const cli_rollout_options *o, r1_task_split split, r1_problem_set *out) {
    r1_err err;
    memset(out, 0, sizeof *out);
    if (!o->file && !o->task_name)
        return cli_error("%s: give --task countdown|arithmetic|mix (or --file F.jsonl)", cmd), R1_ERR;
    if (!o->file && o->n < 0) return cli_error("%s: give the number of problems with --n N", cmd), R1_ERR;
    const char *file = o->file && !strcmp(o->file, "-") ? "/dev/stdin" : o->file; /* - : standard input */
    int rc = file ? r1_problem_set_read(out, file, o->task_name, o->n, &err)
                     : r1_problem_set_generate(out, o->task_name, split, o->n, (uint64_t)o->seed, &err);
    return rc == R1_OK ? R1_OK : (cli_error("%s: %s", cmd, err.msg), R1_ERR);
}

int cli_rollout_params(const char *cmd, const cli_rollout_options *o, r1_rollout_params *p) {
    r1_err err;
    if (o->model_path && !*o->model_path) return cli_error("%s: " CLI_EMPTY_MODEL_PATH, cmd), R1_ERR;
    if (r1_sampler_params_check(&o->sampling, &err) != R1_OK) return cli_error("%s: %s", cmd, err.msg), R1_ERR;
    if (o->k > 1 && o->sampling.temperature == 0)
        return cli_error("%s: --k %ld at --temp 0 would draw the same sample %ld times: give a temperature above 0",
                         cmd, o->k, o->k), R1_ERR;
    *p = r1_rollout_defaults();
    p->model_path = o->model_path ? o->model_path : CLI_EMBEDDED_MODEL;
    if (!o->model_path) cli_embedded_model(&p->model_bytes, &p->model_size);
    p->template_name = o->template_name;
    p->gen.sampling = o->sampling;
    p->gen.max_tokens = o->max_tokens;
    p->gen.think_budget = (int)o->think_budget;
    p->seed = (uint64_t)o->seed;
    p->k = o->k > 0 ? (int)o->k : 1;
    p->threads = (int)o->threads;
    return R1_OK;
}
