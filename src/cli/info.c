/* r1 info [-m F]: what a model file holds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "cli/cli.h"

static const char *usage =
    "usage: r1 info [-m MODEL.gguf] [--tensors] [--check]\n"
    "Prints the architecture, hyper-parameters, tensor types, parameter count and\n"
    "KV-cache bytes per token of a GGUF model (default: the embedded r1-tiny model);\n"
    "--tensors lists every tensor; --check reads every weight (as the engine decodes\n"
    "it) and fails, naming the tensor, row and column, at the first NaN or infinity.\n";

/* Decodes every row of every tensor and stops at the first value that is not a
 * finite number: a damaged file, or a training run that diverged, shows up here
 * rather than as text made of one repeated token. Returns the exit code. */
static int check_values(const r1_gguf *g) {
    r1_progress bar;
    uint64_t total_bytes = 0, done_bytes = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) total_bytes += g->tensors[i].nbytes;
    int show_bar = total_bytes > (256u << 20); /* a second or more */
    if (show_bar) r1_progress_start(&bar, "check", "MB", (total_bytes + 999999) / 1000000);
    float *row = NULL, bad_value = 0;
    int64_t row_cap = 0, bad_row = -1, bad_col = -1;
    const r1_gguf_tensor *t = NULL;
    size_t row_bytes = 0;
    int out_of_memory = 0;
    for (uint64_t i = 0; i < g->n_tensors && bad_row < 0 && !out_of_memory; i++) {
        t = &g->tensors[i];
        /* the reader took only types r1 decodes, with rows of whole blocks */
        const r1_type_traits *traits = r1_type_traits_get(t->type);
        int64_t cols = t->ne[0], rows = 1;
        for (uint32_t d = 1; d < t->n_dims; d++) rows *= t->ne[d];
        if (cols > row_cap) {
            float *grown = realloc(row, (size_t)cols * sizeof *row);
            if (!grown) {
                out_of_memory = 1;
                break;
            }
            row = grown, row_cap = cols;
        }
        row_bytes = r1_type_row_bytes(traits, cols);
        for (int64_t r = 0; r < rows && bad_row < 0; r++) {
            traits->dequantize((const uint8_t *)t->data + (size_t)r * row_bytes, row, cols);
            for (int64_t c = 0; c < cols; c++)
                if (!isfinite(row[c])) {
                    bad_row = r, bad_col = c, bad_value = row[c];
                    break;
                }
        }
        if (bad_row < 0) done_bytes += t->nbytes;
        if (show_bar) r1_progress_update(&bar, done_bytes / 1000000, NULL);
    }
    if (show_bar) r1_progress_finish(&bar, done_bytes / 1000000, NULL);
    int64_t cols_needed = t ? t->ne[0] : 0;
    free(row);
    if (out_of_memory) return cli_error("info: out of memory for a row of %lld values", (long long)cols_needed);
    if (bad_row >= 0)
        return cli_error("info: tensor %.*s (%s): row %lld, column %lld is %s (the row's data at file offset %llu)",
                         (int)t->name.len, t->name.data, r1_type_name(t->type), (long long)bad_row,
                         (long long)bad_col, isnan(bad_value) ? "NaN" : bad_value > 0 ? "+infinity" : "-infinity",
                         (unsigned long long)(g->data_start + t->data_offset + (uint64_t)bad_row * row_bytes));
    printf("check         %llu tensors, every value finite\n", (unsigned long long)g->n_tensors);
    return 0;
}

int cmd_info(int argc, char **argv) {
    const char *model_path = NULL;
    int list_tensors = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) return fputs(usage, stdout), 0;
        else if (!strcmp(argv[i], "-m")) { if (!(model_path = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--tensors")) list_tensors = 1;
        else if (!strcmp(argv[i], "--check")) check = 1;
        else return cli_error("info: unknown option '%s' (see r1 info --help)", argv[i]);
    }
    r1_model m;
    if (cli_model_load(&m, model_path) != R1_OK) return 1;
    const r1_hparams *hp = &m.hp;
    printf("file          %s (%zu bytes, GGUF v%u)\n", m.gguf.path, m.gguf.size, m.gguf.version);
    printf("name          %s\n", m.name[0] ? m.name : "(none)");
    printf("architecture  %s\n", r1_arch_name(hp->arch));
    /* billions for the real models, millions for the tiny trained ones */
    if (m.n_params >= 1000000000ull)
        printf("parameters    %llu (%.2f B)\n", (unsigned long long)m.n_params, m.n_params / 1e9);
    else
        printf("parameters    %llu (%.2f M)\n", (unsigned long long)m.n_params, m.n_params / 1e6);
    printf("vocab         %d\n", hp->n_vocab);
    printf("dim           %d\nlayers        %d\nheads         %d\n", hp->dim, hp->n_layers, hp->n_heads);
    if (hp->arch == R1_ARCH_DEEPSEEK2) {
        printf("q_lora_rank   %d\nkv_lora_rank  %d\nqk_nope_dim   %d\nqk_rope_dim   %d\nv_head_dim    %d\n",
               hp->q_lora_rank, hp->kv_lora_rank, hp->qk_nope_dim, hp->qk_rope_dim, hp->v_head_dim);
        printf("dense layers  %d (FFN %d)\n", hp->n_dense_layers, hp->ffn_dim);
        printf("experts       %d routed (top %d, FFN %d), %d shared\n", hp->n_experts, hp->n_experts_used,
               hp->expert_ffn_dim, hp->n_shared_experts);
        printf("routing       %s scores%s, %d groups (top %d), %snormalised, scale %g\n",
               hp->gating == R1_GATING_SIGMOID ? "sigmoid" : "softmax",
               m.layers[hp->n_layers - 1].expert_bias ? " + selection bias" : "", hp->n_groups, hp->n_groups_used,
               hp->weights_norm ? "" : "not ", hp->weights_scale);
    } else {
        printf("kv heads      %d\nhead dim      %d\nFFN           %d\n", hp->n_kv_heads, hp->head_dim, hp->ffn_dim);
    }
    printf("rope          %s, %d dims, base %g", hp->rope_style == R1_ROPE_HALF ? "half-split (neox)" : "interleaved",
           hp->rope_dims, hp->rope_base);
    if (hp->yarn) printf(", YaRN x%g from %d", hp->yarn_factor, hp->yarn_orig_ctx);
    if (m.rope_freq_factors) printf(", frequency factors");
    printf("\ncontext       %d\nrms eps       %g\n", hp->ctx_len, hp->norm_eps);
    printf("KV cache      %zu bytes per token (float32)\n", r1_model_kv_bytes_per_token(&m));

    /* bytes per tensor type */
    uint64_t bytes_by_type[64] = {0}, count_by_type[64] = {0};
    for (uint64_t i = 0; i < m.gguf.n_tensors; i++) {
        const r1_gguf_tensor *t = &m.gguf.tensors[i];
        if (t->type < 64) { bytes_by_type[t->type] += t->nbytes; count_by_type[t->type]++; }
    }
    printf("tensors       %llu:", (unsigned long long)m.gguf.n_tensors);
    for (int ty = 0; ty < 64; ty++)
        if (count_by_type[ty])
            printf(" %s x%llu (%.1f MB)", r1_type_name((uint32_t)ty), (unsigned long long)count_by_type[ty],
                   bytes_by_type[ty] / 1e6);
    putchar('\n');
    if (list_tensors)
        for (uint64_t i = 0; i < m.gguf.n_tensors; i++) {
            const r1_gguf_tensor *t = &m.gguf.tensors[i];
            printf("  %-40.*s %-5s [%lld", (int)t->name.len, t->name.data, r1_type_name(t->type), (long long)t->ne[0]);
            for (uint32_t d = 1; d < t->n_dims; d++) printf(", %lld", (long long)t->ne[d]);
            printf("]\n");
        }
    int rc = check ? check_values(&m.gguf) : 0;
    r1_model_free(&m);
    return rc;
}
