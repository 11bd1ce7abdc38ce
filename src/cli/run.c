/* r1 run: generate. For now the raw form: token ids in, token ids out
 * (chat templates and the tokenizer come with the tokenizer issue). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "infer/sampler.h"

static const char *usage =
    "usage: r1 run [-m MODEL.gguf] --raw --tokens \"1 2 3\" [-n N] [options]\n"
    "Runs the token ids as a prompt (no template, no BOS added) and prints the ids of\n"
    "the N tokens generated after it on one line.\n"
    "  -n N          tokens to generate (default 16)\n"
    "  --temp T      temperature; 0 = greedy (default 0.6)\n"
    "  --top-k K     keep the K most likely tokens (default 0 = off)\n"
    "  --top-p P     nucleus sampling (default 0.95)\n"
    "  --min-p P     drop tokens below P x the top probability (default 0 = off)\n"
    "  --seed S      random seed (default 0)\n"
    "  -c N          context size in tokens (default: the model's, at most 4096)\n"
    "  -t THREADS    threads (default: all cores)\n"
    "Chat mode (a text prompt, thinking shown apart from the answer) needs the\n"
    "tokenizer and chat templates, which are not built yet.\n";

int cmd_run(int argc, char **argv) {
    const char *model_path = NULL, *tokens_text = NULL, *v;
    long n_gen = 16, threads = 0, n_ctx = 0, top_k = 0, seed = 0;
    int raw = 0;
    r1_sampler_params sp = r1_sampler_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) return fputs(usage, stdout), 0;
        if (!strcmp(a, "--raw")) { raw = 1; continue; }
        if (a[0] != '-') return cli_error("run: chat prompts need the tokenizer, not built yet; use --raw --tokens");
        if (!(v = cli_value(argc, argv, &i))) return 1;
        int rc = R1_OK;
        if (!strcmp(a, "-m")) model_path = v;
        else if (!strcmp(a, "--tokens")) tokens_text = v;
        else if (!strcmp(a, "-n")) rc = cli_parse_long(a, v, 0, 1 << 24, &n_gen);
        else if (!strcmp(a, "-t")) rc = cli_parse_long(a, v, 1, 1024, &threads);
        else if (!strcmp(a, "-c")) rc = cli_parse_long(a, v, 1, 1 << 24, &n_ctx);
        else if (!strcmp(a, "--temp")) rc = cli_parse_float(a, v, &sp.temperature);
        else if (!strcmp(a, "--top-k")) rc = cli_parse_long(a, v, 0, 1 << 24, &top_k);
        else if (!strcmp(a, "--top-p")) rc = cli_parse_float(a, v, &sp.top_p);
        else if (!strcmp(a, "--min-p")) rc = cli_parse_float(a, v, &sp.min_p);
        else if (!strcmp(a, "--seed")) rc = cli_parse_long(a, v, 0, 0x7fffffffL, &seed);
        else return cli_error("run: unknown option '%s' (see r1 run --help)", a);
        if (rc != R1_OK) return 1;
    }
    sp.top_k = (int)top_k;
    sp.seed = (uint64_t)seed;
    if (!raw || !tokens_text) return cli_error("run: only --raw --tokens \"...\" is available so far (see r1 run --help)");
    int *tokens, n;
    if (cli_parse_tokens(tokens_text, &tokens, &n) != R1_OK) return 1;
    if (n_ctx == 0) n_ctx = n + n_gen;
    if (n + n_gen > n_ctx) return free(tokens), cli_error("run: %d prompt + %ld new tokens exceed the context of %ld", n, n_gen, n_ctx);
    cli_session s;
    if (cli_session_open(&s, model_path, (int)threads, (int)n_ctx, 512) != R1_OK) return free(tokens), 1;
    r1_sampler sampler;
    float *logits = malloc((size_t)s.model.hp.n_vocab * sizeof(float));
    r1_err err;
    int rc = 0;
    if (!logits || r1_sampler_init(&sampler, &sp, s.model.hp.n_vocab, &err) != R1_OK) {
        rc = cli_error("out of memory");
    } else {
        const int *next = tokens;
        int n_next = n, token;
        for (long g = 0; g < n_gen; g++) {
            if (r1_forward(&s.state, next, n_next, logits, 0, &err) != R1_OK) { rc = cli_error("%s", err.msg); break; }
            token = r1_sample(&sampler, logits);
            printf(g ? " %d" : "%d", token);
            fflush(stdout);
            next = &token;
            n_next = 1;
        }
        putchar('\n');
        r1_sampler_free(&sampler);
    }
    free(logits);
    free(tokens);
    cli_session_close(&s);
    return rc;
}
