/* Shared pieces of the subcommands: argument parsing and error reporting. */
#ifndef R1_CLI_H
#define R1_CLI_H

#include <stdio.h>

#include "base/error.h"

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

/* Prints "r1: <msg>" on stderr and returns exit code 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option parsing: `flag` names the option in messages. */
int cli_parse_long(const char *flag, const char *value, long min, long max, long *out);
int cli_parse_float(const char *flag, const char *value, float *out);
/* Space- or comma-separated token ids → malloc'd array. */
int cli_parse_tokens(const char *text, int **tokens, int *n_tokens);
/* Takes the value of an option that needs one, or reports it missing. */
const char *cli_value(int argc, char **argv, int *i);
int cli_is_help(const char *arg);

/* The model used when -m is not given. */
const char *cli_default_model(void);



#include "model/state.h"

/* A model opened for running: weights, thread pool, one sequence state. */
typedef struct {
    r1_model model;
    r1_compute compute;
    r1_state state;
} cli_session;

/* Opens path (or the default model when NULL) with n_threads (0: all cores) and a
 * context of n_ctx tokens; prints the error and returns R1_ERR on failure. */
int cli_session_open(cli_session *s, const char *path, int n_threads, int n_ctx, int max_batch);
void cli_session_close(cli_session *s);

#endif
