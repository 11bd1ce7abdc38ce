/* r1 bench: prompt processing and decode speed, as llama-bench reports them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char *usage =
    "usage: r1 bench [-m MODEL.gguf] [-p 512] [-n 128] [-b SEQS] [-t THREADS] [-r REPS]\n"
    "Measures prompt processing (a batch of -p tokens) and decoding (-n tokens one\n"
    "at a time) of MODEL (default: the embedded r1-tiny model) over -r repetitions,\n"
    "after one warm-up, and prints\n"
    "  pp<P> <tokens/s> ±<sd>\n  tg<N> <tokens/s> ±<sd>\n"
    "With -b SEQS > 1, SEQS sequences decode together, a token of each per step (as\n"
    "r1 run --vote and the rollouts do), and the decode line is tg<N>x<SEQS> with\n"
    "the tokens of all sequences per second.\n"
    "Token ids are random; -p 0 or -n 0 skips that test.\n";

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One line: the test's label, the mean rate and its sd. */
static void report(const char *label, const double *rates, int reps) {
    double mean = 0, var = 0;
    for (int r = 0; r < reps; r++) mean += rates[r];
    mean /= reps;
    for (int r = 0; r < reps; r++) var += (rates[r] - mean) * (rates[r] - mean);
    double sd = reps > 1 ? sqrt(var / (reps - 1)) : 0.0;
    printf("%s %.2f ±%.2f\n", label, mean, sd);
    fflush(stdout);
}

int cmd_bench(int argc, char **argv) {
    const char *model_path = NULL, *v;
    long n_prompt = 512, n_gen = 128, threads = 0, reps = 5, n_seqs = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) return fputs(usage, stdout), 0;
        if (!(v = cli_option_value(argc, argv, &i, "bench", "-m -p -n -t -r -b"))) return 1;
        int rc = R1_OK;
        if (!strcmp(a, "-m")) model_path = v;
        else if (!strcmp(a, "-p")) rc = cli_parse_long(a, v, 0, 1 << 20, &n_prompt);
        else if (!strcmp(a, "-n")) rc = cli_parse_long(a, v, 0, 1 << 20, &n_gen);
        else if (!strcmp(a, "-t")) rc = cli_parse_long(a, v, 1, 1024, &threads);
        else if (!strcmp(a, "-r")) rc = cli_parse_long(a, v, 1, 1000, &reps);
        else if (!strcmp(a, "-b")) rc = cli_parse_long(a, v, 1, 512, &n_seqs);
        else return cli_error("bench: unknown option '%s' (see r1 bench --help)", a);
        if (rc != R1_OK) return 1;
    }
    int n_ctx = (int)(n_prompt > n_gen ? n_prompt : n_gen) + 1;
    cli_session s;
    int max_batch = (int)(n_prompt > n_seqs ? n_prompt : n_seqs);
    if (cli_session_open(&s, model_path, (int)threads, n_ctx, max_batch) != R1_OK) return 1;
    int vocab = s.model.hp.n_vocab, B = (int)n_seqs;
    int n_states = 0;
    int *tokens = malloc((size_t)(n_ctx + B) * sizeof(int));
    float *logits = malloc((size_t)B * vocab * sizeof(float));
    double *rates = malloc((size_t)reps * sizeof(double));
    /* the sequences decoded together: the session's state, then B - 1 more */
    r1_state *states = calloc((size_t)B, sizeof *states), **seqs = calloc((size_t)B, sizeof *seqs);
    r1_err err;
    int rc = 0;
    if (!tokens || !logits || !rates || !states || !seqs) { rc = cli_error("out of memory"); goto done; }
    seqs[0] = &s.state;
    for (; n_states < B - 1; n_states++) {
        if (r1_state_init(&states[n_states], &s.model, &s.compute, n_ctx, 1, &err) != R1_OK) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        seqs[n_states + 1] = &states[n_states];
    }
    srand(1234);
    for (int i = 0; i < n_ctx + B; i++) tokens[i] = rand() % vocab;
    fprintf(stderr, "r1 bench: %s, %d threads\n", s.model.gguf.path, r1_pool_size(s.compute.pool));

    /* each test runs once to warm caches and page in the weights, then reps times */
    for (int test = 0; test < 2; test++) {
        long n = test == 0 ? n_prompt : n_gen;
        if (n == 0) continue;
        for (int r = -1; r < reps; r++) {
            for (int b = 0; b < B; b++) r1_state_reset(seqs[b]);
            double t0 = now_seconds();
            int ok = R1_OK;
            if (test == 0) ok = r1_forward(&s.state, tokens, (int)n, logits, 0, &err);
            else if (B == 1)
                for (long i = 0; i < n && ok == R1_OK; i++) ok = r1_forward(&s.state, tokens + i, 1, logits, 0, &err);
            else /* sequence b's token at step i: tokens[i + b] */
                for (long i = 0; i < n && ok == R1_OK; i++)
                    ok = r1_forward_seqs(&s.state, seqs, tokens + i, B, logits, &err);
            if (ok != R1_OK) { rc = cli_error("%s", err.msg); goto done; }
            double dt = now_seconds() - t0;
            if (r >= 0) rates[r] = (test == 0 ? n : n * B) / dt;
        }
        char label[48];
        if (test == 1 && B > 1) snprintf(label, sizeof label, "tg%ldx%d", n, B);
        else snprintf(label, sizeof label, "%s%ld", test == 0 ? "pp" : "tg", n);
        report(label, rates, (int)reps);
    }
done:
    for (int i = 0; i < n_states; i++) r1_state_free(&states[i]);
    free(states), free(seqs);
    free(tokens);
    free(logits);
    free(rates);
    cli_session_close(&s);
    return rc;
}
