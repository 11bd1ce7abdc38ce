#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("r1: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_parse_long(const char *flag, const char *value, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max) {
        cli_error("%s: '%s' is not an integer from %ld to %ld", flag, value, min, max);
        return R1_ERR;
    }
    *out = v;
    return R1_OK;
}

int cli_parse_float(const char *flag, const char *value, float *out) {
    char *end;
    errno = 0;
    float v = strtof(value, &end);
    if (errno || end == value || *end || v != v) {
        cli_error("%s: '%s' is not a number", flag, value);
        return R1_ERR;
    }
    *out = v;
    return R1_OK;
}

int cli_parse_tokens(const char *text, int **tokens, int *n_tokens) {
    size_t cap = 16, n = 0;
    int *ids = malloc(cap * sizeof *ids);
    if (!ids) return cli_error("out of memory"), R1_ERR;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT_MAX) {
            free(ids);
            cli_error("--tokens: '%.20s' is not a token id (expected non-negative integers separated by spaces)", p);
            return R1_ERR;
        }
        if (n == cap) {
            int *grown = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!grown) { free(ids); return cli_error("out of memory"), R1_ERR; }
            ids = grown;
        }
        ids[n++] = (int)v;
        p = end;
    }
    if (n == 0) {
        free(ids);
        cli_error("--tokens: no token ids given");
        return R1_ERR;
    }
    *tokens = ids;
    *n_tokens = (int)n;
    return R1_OK;
}

volatile sig_atomic_t cli_interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    cli_interrupted = 1;
}

void cli_catch_interrupts(void) {
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

const char *cli_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_error("option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

const char *cli_default_model(void) { return "models/r1-tiny.gguf"; }

const char *cli_model_path(const char *given) {
    if (given) return given;
    if (access(cli_default_model(), R_OK) != 0) {
        cli_error("no model given and the default model %s is not there yet: pass -m FILE.gguf", cli_default_model());
        return NULL;
    }
    return cli_default_model();
}

int cli_session_open(cli_session *s, const char *path, int n_threads, int n_ctx, int max_batch) {
    r1_err err;
    memset(s, 0, sizeof *s);
    if (!(path = cli_model_path(path))) return R1_ERR;
    if (r1_model_load(&s->model, path, &err) != R1_OK) return cli_error("%s", err.msg), R1_ERR;
    if (n_ctx <= 0) n_ctx = s->model.hp.ctx_len < 4096 ? s->model.hp.ctx_len : 4096;
    if (r1_compute_init(&s->compute, n_threads) != R1_OK) {
        r1_model_free(&s->model);
        return cli_error("cannot start %d threads", n_threads), R1_ERR;
    }
    if (r1_state_init(&s->state, &s->model, &s->compute, n_ctx, max_batch, &err) != R1_OK) {
        r1_compute_free(&s->compute);
        r1_model_free(&s->model);
        return cli_error("%s", err.msg), R1_ERR;
    }
    return R1_OK;
}

void cli_session_close(cli_session *s) {
    r1_state_free(&s->state);
    r1_compute_free(&s->compute);
    r1_model_free(&s->model);
}
