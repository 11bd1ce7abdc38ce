/* r1: run, serve and reproduce DeepSeek-R1 on a CPU. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/types.h"

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "generate from a prompt (--raw --tokens: token ids in, token ids out)"},
    {"logits", cmd_logits, "print the logits of a token sequence"},
    {"info", cmd_info, "describe a model file: architecture, shapes, types, sizes"},
    {"bench", cmd_bench, "measure prompt and decode speed"},
    {"tokenize", cmd_tokenize, "text on stdin -> token ids"},
    {"detokenize", cmd_detokenize, "token ids on stdin -> text"},
    {"eval", cmd_eval, "held-out accuracy on a task: pass@1, maj@K, mean length"},
    {"quantize", cmd_quantize, "write a model with its weights in another type (Q8_0, F16, ...)"},
    {"sample", cmd_sample, "a model's scored traces on task problems, as JSONL (--filter correct)"},
    {"gen-random", cmd_gen_random, "write a random-weight GGUF with a real model's shapes"},
    {"train", cmd_train, "train the tiny model: pretrain, grpo, sft, distill (DESIGN §6)"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: r1 <command> [options]     (r1 <command> --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    /* R1_SCALAR=1 runs the portable kernels, to compare them with the SIMD ones;
     * R1_NO_AVX512=1 keeps the float GEMM on its AVX2 kernel (and the bfloat16
     * one on its scalar reference) */
    const char *scalar = getenv("R1_SCALAR"), *no_avx512 = getenv("R1_NO_AVX512");
    if (no_avx512 && strcmp(no_avx512, "0") != 0) r1_kernels_select(1);
    if (scalar && strcmp(scalar, "0") != 0) r1_kernels_select(0);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            /* a command that printed its results into a full disk or a closed
             * descriptor has not delivered them: say so once, after the buffer's
             * last bytes were tried (a command that failed has said why already) */
            errno = 0;
            if (fflush(stdout) != 0 || ferror(stdout))
                return rc != 0 ? rc : cli_error("cannot write the standard output%s%s", errno ? ": " : "",
                                                errno ? strerror(errno) : "");
            return rc;
        }
    cli_error("unknown command '%s' (r1 --help lists them)", argv[1]);
    return 1;
}
