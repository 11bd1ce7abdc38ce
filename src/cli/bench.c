/* r1 bench: prompt processing and decode speed, as llama-bench reports them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char *usage =
    "usage: r1 bench [-m MODEL.gguf] [-p 512] [-n 128] [-t THREADS] [-r REPS]\n"
    "Measures prompt processing (a batch of -p tokens) and decoding (-n tokens one\n"
    "at a time) of MODEL (default: the embedded r1-tiny model) over -r repetitions,\n"
    "after one warm-up, and prints\n"
    "  pp<P> <tokens/s> ±<sd>\n  tg<N> <tokens/s> ±<sd>\n"
    "Token ids are random; -p 0 or -n 0 skips that test.\n";

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void report(const char *label, int n, const double *rates, int reps) {
    double mean = 0, var = 0;
    for (int r = 0; r < reps; r++) mean += rates[r];
    mean /= reps;
    for (int r = 0; r < reps; r++) var += (rates[r] - mean) * (rates[r] - mean);
    double sd = reps > 1 ? sqrt(var / (reps - 1)) : 0.0;
    printf("%s%d %.2f ±%.2f\n", label, n, mean, sd);
    fflush(stdout);
}

int cmd_bench(int argc, char **argv) {
    const char *model_path = NULL, *v;
    long n_prompt = 512, n_gen = 128, threads = 0, reps = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) return fputs(usage, stdout), 0;
        if (!(v = cli_value(argc, argv, &i))) return 1;
        int rc = R1_OK;
        if (!strcmp(a, "-m")) model_path = v;
        else if (!strcmp(a, "-p")) rc = cli_parse_long(a, v, 0, 1 << 20, &n_prompt);
        else if (!strcmp(a, "-n")) rc = cli_parse_long(a, v, 0, 1 << 20, &n_gen);
        else if (!strcmp(a, "-t")) rc = cli_parse_long(a, v, 1, 1024, &threads);
        else if (!strcmp(a, "-r")) rc = cli_parse_long(a, v, 1, 1000, &reps);
        else return cli_error("bench: unknown option '%s' (see r1 bench --help)", a);
        if (rc != R1_OK) return 1;
    }
    int n_ctx = (int)(n_prompt > n_gen ? n_prompt : n_gen) + 1;
    cli_session s;
    if (cli_session_open(&s, model_path, (int)threads, n_ctx, n_prompt > 0 ? (int)n_prompt : 1) != R1_OK) return 1;
    int vocab = s.model.hp.n_vocab;
    int *tokens = malloc((size_t)n_ctx * sizeof(int));
    float *logits = malloc((size_t)vocab * sizeof(float));
    double *rates = malloc((size_t)reps * sizeof(double));
    r1_err err;
    int rc = 0;
    if (!tokens || !logits || !rates) { rc = cli_error("out of memory"); goto done; }
    srand(1234);
    for (int i = 0; i < n_ctx; i++) tokens[i] = rand() % vocab;
    fprintf(stderr, "r1 bench: %s, %d threads\n", s.model.gguf.path, r1_pool_size(s.compute.pool));

    /* each test runs once to warm caches and page in the weights, then reps times */
    for (int test = 0; test < 2; test++) {
        long n = test == 0 ? n_prompt : n_gen;
        if (n == 0) continue;
        for (int r = -1; r < reps; r++) {
            r1_state_reset(&s.state);
            double t0 = now_seconds();
            if (test == 0) {
                if (r1_forward(&s.state, tokens, (int)n, logits, 0, &err) != R1_OK) { rc = cli_error("%s", err.msg); goto done; }
            } else {
                for (long i = 0; i < n; i++)
                    if (r1_forward(&s.state, tokens + i, 1, logits, 0, &err) != R1_OK) { rc = cli_error("%s", err.msg); goto done; }
            }
            double dt = now_seconds() - t0;
            if (r >= 0) rates[r] = n / dt;
        }
        report(test == 0 ? "pp" : "tg", (int)n, rates, (int)reps);
    }
done:
    free(tokens);
    free(logits);
    free(rates);
    cli_session_close(&s);
    return rc;
}
