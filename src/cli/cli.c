#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
    /* strtol would skip leading blanks, which a trailing one would not pass */
    if (errno || end == value || *end || isspace((unsigned char)value[0]) || v < min || v > max) {
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
    if (end == value || *end || isspace((unsigned char)value[0]) || v != v) {
        cli_error("%s: '%s' is not a number", flag, value);
        return R1_ERR;
    }
    if (errno == ERANGE) {
        cli_error("%s: '%s' is beyond a float's range (about 1e-38 to 3e38)", flag, value);
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

static const r1_type weight_types[] = {R1_TYPE_F32, R1_TYPE_F16, R1_TYPE_BF16, R1_TYPE_Q8_0, R1_TYPE_Q4_0,
                                       R1_TYPE_Q5_0, R1_TYPE_Q4_K, R1_TYPE_Q5_K, R1_TYPE_Q6_K};

int cli_parse_weight_type(const char *cmd, const char *text, r1_type *out) {
    for (size_t i = 0; i < sizeof weight_types / sizeof weight_types[0]; i++) {
        const r1_type_traits *tt = r1_type_traits_get(weight_types[i]);
        if (tt && strcasecmp(text, tt->name) == 0) {
            *out = weight_types[i];
            return R1_OK;
        }
    }
    cli_error("%s: --type '%s' is not one of " CLI_WEIGHT_TYPES, cmd, text);
    return R1_ERR;
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
    /* a closed terminal or a dropped ssh session: save, as for Ctrl-C; but under
     * nohup, which ignores the hang-up, keep running */
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN) sigaction(SIGHUP, &sa, NULL);
}

const char *cli_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_error("option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

const char *cli_option_value(int argc, char **argv, int *i, const char *cmd, const char *names) {
    size_t n = strlen(argv[*i]);
    for (const char *name = names; *name; name += strcspn(name, " "), name += *name == ' ')
        if (strcspn(name, " ") == n && strncmp(name, argv[*i], n) == 0) return cli_value(argc, argv, i);
    cli_error("%s: unknown option '%s' (see r1 %s --help)", cmd, argv[*i], cmd);
    return NULL;
}

int cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

/* The bytes of models/r1-tiny.gguf, between two symbols of embedded_model.S;
 * read in place, as a mapping of the file would be. */
extern const unsigned char r1_embedded_model[], r1_embedded_model_end[];
static size_t embedded_size(void) { return (size_t)(r1_embedded_model_end - r1_embedded_model); }

void cli_embedded_model(const void **data, size_t *size) {
    *data = r1_embedded_model;
    *size = embedded_size();
}

int cli_gguf_open(r1_gguf *g, const char *path) {
    r1_err err;
    int rc = path ? r1_gguf_open(g, path, &err)
                  : r1_gguf_open_memory(g, r1_embedded_model, embedded_size(), CLI_EMBEDDED_MODEL, &err);
    return rc == R1_OK ? R1_OK : (cli_error("%s", err.msg), R1_ERR);
}

int cli_model_load(r1_model *m, const char *path) {
    r1_err err;
    if (path && !*path) return cli_error(CLI_EMPTY_MODEL_PATH), R1_ERR;
    int rc = path ? r1_model_load(m, path, &err)
                  : r1_model_load_memory(m, r1_embedded_model, embedded_size(), CLI_EMBEDDED_MODEL, &err);
    return rc == R1_OK ? R1_OK : (cli_error("%s", err.msg), R1_ERR);
}

int cli_session_open(cli_session *s, const char *path, int n_threads, int n_ctx, int max_batch) {
    r1_err err;
    memset(s, 0, sizeof *s);
    if (cli_model_load(&s->model, path) != R1_OK) return R1_ERR;
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

int cli_read_stdin(char **out, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return cli_error("out of memory reading stdin"), R1_ERR;
    for (;;) {
        if (n + 1 >= cap) { /* room for the NUL that ends it */
            char *grown = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap *= 2);
            if (!grown) {
                free(buf);
                return cli_error("out of memory reading stdin"), R1_ERR;
            }
            buf = grown;
        }
        ssize_t got = read(STDIN_FILENO, buf + n, cap - n);
        if (got == 0) break;
        if (got < 0) {
            if (errno == EINTR) continue;
            free(buf);
            return cli_error("cannot read stdin: %s", strerror(errno)), R1_ERR;
        }
        n += (size_t)got;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return R1_OK;
}
