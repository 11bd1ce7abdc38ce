/* r1 gen-random --preset NAME --type T [--layers N] [--seed S] -o FILE: a
 * random-weight GGUF with a real model's shapes (the work is in model/gen_random.c). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "model/gen_random.h"

static const char *usage =
    "usage: r1 gen-random --preset NAME --type T [--layers N] [--seed S] -o FILE.gguf\n"
    "       r1 gen-random --list\n"
    "Writes a GGUF with the preset's real shapes and random weights (for benchmarks and\n"
    "tests). T is one of F32 F16 BF16 Q8_0 Q4_0 Q5_0 Q4_K Q5_K Q6_K; matrices whose rows\n"
    "do not fit T's blocks are stored as Q8_0 or F16, norms and biases as F32.\n"
    "  --layers N   keep only the first N layers (default: all)\n"
    "  --seed S     generator seed (default 1)\n"
    "  --vocab N    shrink the vocabulary to N tokens (at least 260), for small test files\n"
    "  --list       print the presets\n";

/* 1.78B params, 1.23 GB: decimal units, as model sizes are quoted */
static void print_scaled(FILE *out, double n, const char *const units[4], const char *sep) {
    int u = n >= 1e9 ? 3 : n >= 1e6 ? 2 : n >= 1e3 ? 1 : 0;
    static const double div[4] = {1, 1e3, 1e6, 1e9};
    fprintf(out, u ? "%.2f%s%s" : "%.0f%s%s", n / div[u], sep, units[u]);
}

static void print_params(FILE *out, uint64_t n) {
    static const char *const units[4] = {"", "k", "M", "B"};
    print_scaled(out, (double)n, units, "");
    fputs(" params", out);
}

static void print_bytes(FILE *out, uint64_t n) {
    static const char *const units[4] = {"bytes", "kB", "MB", "GB"};
    print_scaled(out, (double)n, units, " ");
}

static int list_presets(void) {
    for (int i = 0; i < r1_preset_count(); i++) {
        const r1_preset *p = r1_preset_at(i);
        printf("%-22s %-9s %2d layers  ", p->name, r1_arch_name(p->hp.arch), p->hp.n_layers);
        print_params(stdout, r1_preset_params(p));
        printf("  %s\n", p->description);
    }
    return 0;
}

/* ---- progress bar on a terminal: redrawn at most ten times a second ---- */

typedef struct {
    double last_draw;
    int drawn;
} progress_bar;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void draw_progress(void *ctx, uint64_t tensor, uint64_t n_tensors, uint64_t bytes, uint64_t total) {
    progress_bar *bar = ctx;
    double t = now_seconds();
    int done = bytes >= total;
    if (!done && bar->drawn && t - bar->last_draw < 0.1) return;
    bar->last_draw = t;
    bar->drawn = 1;
    double frac = total ? (double)bytes / (double)total : 1.0;
    char cells[31];
    int filled = (int)(frac * 30);
    for (int i = 0; i < 30; i++) cells[i] = i < filled ? '#' : ' ';
    cells[30] = 0;
    fprintf(stderr, "\r[%s] tensor %llu/%llu  ", cells, (unsigned long long)(tensor + 1), (unsigned long long)n_tensors);
    print_bytes(stderr, bytes);
    fprintf(stderr, " / ");
    print_bytes(stderr, total);
    fprintf(stderr, "  %3.0f%%\033[K", frac * 100);
    fflush(stderr);
}

int cmd_gen_random(int argc, char **argv) {
    const char *preset = NULL, *type_text = NULL, *out = NULL, *v;
    long layers = 0, seed = 1, vocab = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) return fputs(usage, stdout), 0;
        else if (!strcmp(argv[i], "--list")) return list_presets();
        else if (!strcmp(argv[i], "--preset")) { if (!(preset = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--type")) { if (!(type_text = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "-o")) { if (!(out = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--layers")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long("--layers", v, 1, 100000, &layers) != R1_OK) return 1;
        } else if (!strcmp(argv[i], "--vocab")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long("--vocab", v, R1_GEN_MIN_VOCAB, 1 << 24, &vocab) != R1_OK)
                return 1;
        } else if (!strcmp(argv[i], "--seed")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long("--seed", v, 0, LONG_MAX, &seed) != R1_OK) return 1;
        } else return cli_error("gen-random: unknown option '%s' (see r1 gen-random --help)", argv[i]);
    }
    if (!preset) return cli_error("gen-random: --preset is required (r1 gen-random --list shows them)");
    if (!type_text) return cli_error("gen-random: --type is required (see r1 gen-random --help)");
    if (!out) return cli_error("gen-random: -o FILE is required");
    const r1_preset *p = r1_preset_find(preset);
    if (!p) return cli_error("gen-random: no preset named '%s' (r1 gen-random --list shows them)", preset);
    if (layers > p->hp.n_layers)
        return cli_error("gen-random: --layers %ld: preset %s has only %d layers", layers, preset, p->hp.n_layers);
    r1_gen_config cfg = {.preset = preset, .n_layers = (int)layers, .n_vocab = (int)vocab, .seed = (uint64_t)seed, .path = out};
    if (cli_parse_weight_type("gen-random", type_text, &cfg.type) != R1_OK) return 1;
    progress_bar bar = {0, 0};
    if (isatty(STDERR_FILENO)) {
        cfg.progress = draw_progress;
        cfg.progress_ctx = &bar;
    }
    r1_gen_report rep;
    r1_err err;
    int rc = r1_gen_random_model(&cfg, &rep, &err);
    if (bar.drawn) fputc('\n', stderr);
    if (rc != R1_OK) return cli_error("%s", err.msg);
    const char *type_name = r1_type_traits_get(cfg.type)->name;
    if (rep.n_fallback_q8_0 || rep.n_fallback_f16) {
        char how[96];
        if (rep.n_fallback_q8_0 && rep.n_fallback_f16)
            snprintf(how, sizeof how, "%llu stored as Q8_0, %llu as F16", (unsigned long long)rep.n_fallback_q8_0,
                     (unsigned long long)rep.n_fallback_f16);
        else
            snprintf(how, sizeof how, "stored as %s", rep.n_fallback_q8_0 ? "Q8_0" : "F16");
        fprintf(stderr, "r1: gen-random: %llu matrices have rows that are not whole %s blocks (first: %s): %s\n",
                (unsigned long long)(rep.n_fallback_q8_0 + rep.n_fallback_f16), type_name, rep.first_fallback, how);
    }
    printf("wrote %s: ", out);
    print_bytes(stdout, rep.file_bytes);
    printf(", ");
    print_params(stdout, rep.n_params);
    printf(", %llu tensors (%s, %s, %d of %d layers, seed %ld)\n", (unsigned long long)rep.n_tensors, preset,
            type_name, layers ? (int)layers : p->hp.n_layers, p->hp.n_layers, seed);
    return 0;
}
