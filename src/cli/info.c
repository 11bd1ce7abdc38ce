/* r1 info [-m F]: what a model file holds. */
#include <string.h>

#include "cli/cli.h"

static const char *usage =
    "usage: r1 info [-m MODEL.gguf] [--tensors]\n"
    "Prints the architecture, hyper-parameters, tensor types, parameter count and\n"
    "KV-cache bytes per token of a GGUF model (default: the embedded r1-tiny model);\n"
    "--tensors lists every tensor.\n";

int cmd_info(int argc, char **argv) {
    const char *model_path = NULL;
    int list_tensors = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) return fputs(usage, stdout), 0;
        else if (!strcmp(argv[i], "-m")) { if (!(model_path = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--tensors")) list_tensors = 1;
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
    r1_model_free(&m);
    return 0;
}
