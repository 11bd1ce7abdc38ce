/* libFuzzer target for the tokenizer: random bytes in, no crash, and
 * decode(encode(x)) == x for valid UTF-8 (== x with U+FFFD repairs otherwise); the
 * streaming decoder must give the same text as plain decoding.
 *
 *   make fuzz && ./build-fuzz/fuzz_tokenizer -max_total_time=60
 *
 * The tokenizer is R1_FUZZ_TOKENIZER (a GGUF or tokenizer.json), by default
 * ../shared/testdata/tokenizer/ggml-vocab-deepseek-llm.gguf. The first input byte
 * picks parse_special. NFC-normalizing tokenizers (Qwen2's tokenizer.json) are not
 * round-trip exact by design: use a DeepSeek one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

static r1_tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *path = getenv("R1_FUZZ_TOKENIZER");
    if (!path) path = "../shared/testdata/tokenizer/ggml-vocab-deepseek-llm.gguf";
    r1_err err;
    if (r1_tokenizer_load_file(&tok, path, &err) != R1_OK) {
        fprintf(stderr, "fuzz_tokenizer: %s (set R1_FUZZ_TOKENIZER)\n", err.msg);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int parse_special = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int *ids, n;
    r1_err err;
    if (r1_tokenize(tok, text, len, 0, parse_special, &ids, &n, &err) != R1_OK) {
        fprintf(stderr, "tokenize failed: %s\n", err.msg);
        abort();
    }
    char *repaired = NULL;
    size_t want_len = len;
    if (!r1_utf8_is_valid(text, len) && r1_utf8_repair(text, len, &repaired, &want_len, &err) != R1_OK) abort();
    const char *want = repaired ? repaired : text;
    r1_detok_stream s;
    r1_detok_init(&s, tok);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        const char *bytes, *out;
        size_t k, out_len;
        if (r1_token_to_bytes(tok, ids[i], &bytes, &k) != R1_OK) abort();
        if (at + k > want_len || memcmp(bytes, want + at, k) != 0) abort(); /* round trip */
        at += k;
        if (r1_detok_push(&s, ids[i], &out, &out_len, &err) != R1_OK || !r1_utf8_is_valid(out, out_len)) abort();
    }
    if (at != want_len) abort();
    r1_detok_free(&s);
    free(repaired);
    free(ids);
    return 0;
}
