/* Shared pieces of the subcommands: argument parsing and error reporting. */
#ifndef R1_CLI_H
#define R1_CLI_H

#include <signal.h>
#include <stdio.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "model/state.h"
#include "tensor/types.h"

/* Each subcommand: argc/argv start at the subcommand name; returns the exit code. */
int cmd_info(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_gen_random(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_sample(int argc, char **argv);

/* Prints "r1: <msg>" on stderr and returns exit code 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option parsing: `flag` names the option in messages. */
int cli_parse_long(const char *flag, const char *value, long min, long max, long *out);
int cli_parse_float(const char *flag, const char *value, float *out);
/* A weight type by its GGUF name, any case (--type of gen-random and quantize). */
#define CLI_WEIGHT_TYPES "F32 F16 BF16 Q8_0 Q4_0 Q5_0 Q4_K Q5_K Q6_K"
int cli_parse_weight_type(const char *cmd, const char *text, r1_type *out);
/* Space- or comma-separated token ids → malloc'd array. */
int cli_parse_tokens(const char *text, int **tokens, int *n_tokens);
/* All of standard input, into a malloc'd buffer (*len bytes and a NUL after
 * them); reports a read error or a lack of memory. */
int cli_read_stdin(char **out, size_t *len);
/* Takes the value of an option that needs one, or reports it missing. */
const char *cli_value(int argc, char **argv, int *i);
/* For parsers that take an option's value before matching its name: the value of
 * argv[*i] when it is one of the space-separated names, else NULL after reporting
 * "cmd: unknown option" (or a missing value). */
const char *cli_option_value(int argc, char **argv, int *i, const char *cmd, const char *names);
int cli_is_help(const char *arg);

/* The model used when -m is not given: models/r1-tiny.gguf, linked into the
 * binary at build time (embedded_model.S), so it is there from any directory.
 * Error messages name it as this file. */
#define CLI_EMBEDDED_MODEL "<embedded r1-tiny.gguf>"

/* Open path, or the embedded model when path is NULL; on failure they print the
 * error and return R1_ERR. */
int cli_gguf_open(r1_gguf *g, const char *path);
int cli_model_load(r1_model *m, const char *path);
/* The embedded model's GGUF bytes, for library code that loads from memory. */
void cli_embedded_model(const void **data, size_t *size);

/* What -m "" is told. */
#define CLI_EMPTY_MODEL_PATH "-m names no file (the path is empty)"

/* Long work (training, sampling) stops cleanly on Ctrl-C, SIGTERM or SIGHUP (unless
 * ignored, as under nohup): after
 * cli_catch_interrupts() the signals set cli_interrupted, which the work polls. */
extern volatile sig_atomic_t cli_interrupted;
void cli_catch_interrupts(void);

#include "train/problem_set.h"
#include "train/rollout.h"

/* A model opened for running: weights, thread pool, one sequence state. */
typedef struct {
    r1_model model;
    r1_compute compute;
    r1_state state;
} cli_session;

/* Opens path (or the embedded model when NULL) with n_threads (0: all cores) and a
 * context of n_ctx tokens; prints the error and returns R1_ERR on failure. */
int cli_session_open(cli_session *s, const char *path, int n_threads, int n_ctx, int max_batch);
void cli_session_close(cli_session *s);

/* The options eval and sample share (rollout_options.c). */
typedef struct {
    const char *model_path, *task_name, *file, *template_name;
    long n, k, seed, max_tokens, think_budget, threads;
    r1_sampler_params sampling;
} cli_rollout_options;

void cli_rollout_options_init(cli_rollout_options *o);
/* The --help lines of the shared options that mean the same in both commands. */
extern const char *const cli_rollout_usage;
/* argv[*i] if it is one of -m --task --file --template --n --k --seed --temp --top-p
 * --max-tokens --think-budget -t: 1 when taken (with its value), 0 when not one of
 * them, -1 on a bad value (the error printed). */
int cli_rollout_option(int argc, char **argv, int *i, cli_rollout_options *o);
/* The problems: --file's, or the first --n of the generator's split. */
int cli_rollout_problems(const char *cmd, const cli_rollout_options *o, r1_task_split split, r1_problem_set *out);
/* The rollout parameters (the default model when -m is absent), once the sampling
 * settings are valid and --k above 1 has a temperature to draw different samples. */
int cli_rollout_params(const char *cmd, const cli_rollout_options *o, r1_rollout_params *p);

#endif
