/* r1 quantize [-m IN.gguf] -o OUT.gguf --type T: a model file with its weights
 * in another type (the work is in model/quantize.c). */
#include <string.h>

#include "cli/cli.h"
#include "model/quantize.h"

static const char *usage =
    "usage: r1 quantize [-m IN.gguf] -o OUT.gguf --type T\n"
    "Writes IN (default: the embedded r1-tiny model) with its weight matrices in type T,\n"
    "one of " CLI_WEIGHT_TYPES " (Q8_0 is about a quarter of F32 and\n"
    "runs close to it). Metadata, tokenizer and chat template are copied unchanged;\n"
    "1-D tensors (norms, biases) and MoE routers stay F32; matrices whose rows are not\n"
    "whole blocks of T are stored as Q8_0 or F16. OUT appears only when complete.\n";

int cmd_quantize(int argc, char **argv) {
    const char *in_path = NULL, *out_path = NULL, *type_text = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) return fputs(usage, stdout), 0;
        else if (!strcmp(argv[i], "-m")) { if (!(in_path = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "-o")) { if (!(out_path = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--type")) { if (!(type_text = cli_value(argc, argv, &i))) return 1; }
        else return cli_error("quantize: unknown option '%s' (see r1 quantize --help)", argv[i]);
    }
    if (!out_path) return cli_error("quantize: -o OUT.gguf is required (see r1 quantize --help)");
    if (!type_text) return cli_error("quantize: --type T is required, one of " CLI_WEIGHT_TYPES);
    r1_type type;
    if (cli_parse_weight_type("quantize", type_text, &type) != R1_OK) return 1;
    r1_gguf in;
    if (cli_gguf_open(&in, in_path) != R1_OK) return 1;
    r1_quantize_report rep;
    r1_err err;
    int rc = r1_quantize_model(&in, out_path, type, &rep, &err);
    r1_gguf_close(&in);
    if (rc != R1_OK) return cli_error("%s", err.msg);
    const char *name = r1_type_name(type);
    printf("wrote %s: %.2f MB, %llu tensors: %llu %s", out_path, rep.file_bytes / 1e6,
           (unsigned long long)rep.n_tensors, (unsigned long long)rep.n_as_type, name);
    if (rep.n_f32) printf(", %llu F32 (1-D and routers)", (unsigned long long)rep.n_f32);
    if (rep.n_fallback_q8_0) printf(", %llu Q8_0", (unsigned long long)rep.n_fallback_q8_0);
    if (rep.n_fallback_f16) printf(", %llu F16", (unsigned long long)rep.n_fallback_f16);
    if (rep.n_fallback_q8_0 || rep.n_fallback_f16) printf(" (rows not whole %s blocks)", name);
    putchar('\n');
    return 0;
}
