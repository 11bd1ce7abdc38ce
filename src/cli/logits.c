/* r1 logits [-m F] --tokens "1 2 3" [--all]: the model's raw next-token scores. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *usage =
    "usage: r1 logits [-m MODEL.gguf] --tokens \"1 2 3\" [--all] [-t THREADS]\n"
    "Runs the token ids through the model (default: the embedded r1-tiny model; no BOS\n"
    "added) and prints the logits of the last position, or of every position with\n"
    "--all: one row per position, %.6e values separated by spaces.\n";

int cmd_logits(int argc, char **argv) {
    const char *model_path = NULL, *tokens_text = NULL;
    long threads = 0;
    int all = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) return fputs(usage, stdout), 0;
        else if (!strcmp(argv[i], "-m")) { if (!(model_path = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--tokens")) { if (!(tokens_text = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--all")) all = 1;
        else if (!strcmp(argv[i], "-t")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long("-t", v, 1, 1024, &threads) != R1_OK) return 1;
        } else return cli_error("logits: unknown option '%s' (see r1 logits --help)", argv[i]);
    }
    if (!tokens_text) return cli_error("logits: --tokens is required (see r1 logits --help)");
    int *tokens, n;
    if (cli_parse_tokens(tokens_text, &tokens, &n) != R1_OK) return 1;
    cli_session s;
    if (cli_session_open(&s, model_path, (int)threads, n, n) != R1_OK) return free(tokens), 1;
    int vocab = s.model.hp.n_vocab, rows = all ? n : 1;
    float *logits = malloc((size_t)rows * vocab * sizeof(float));
    r1_err err;
    int rc = 0;
    if (!logits) rc = cli_error("out of memory");
    else if (r1_forward(&s.state, tokens, n, logits, all, &err) != R1_OK) rc = cli_error("%s", err.msg);
    else {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < vocab; i++) printf(i ? " %.6e" : "%.6e", logits[(size_t)r * vocab + i]);
            putchar('\n');
        }
    }
    free(logits);
    free(tokens);
    cli_session_close(&s);
    return rc;
}
