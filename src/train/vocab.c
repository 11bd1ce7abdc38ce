/* The tiny model's byte-level vocabulary as GGUF tokenizer metadata (see vocab.h). */
#include "train/vocab.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tokenizer/bpe.h"

/* GGUF token types (llama.cpp's llama_token_type). */
enum { TOKEN_NORMAL = 1, TOKEN_CONTROL = 3, TOKEN_USER_DEFINED = 4 };

static const char *const special_text[R1_VOCAB_SIZE - R1_VOCAB_BYTES] = {
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
    "<think>", "</think>", "<answer>", "</answer>",
};
static const int32_t special_type[R1_VOCAB_SIZE - R1_VOCAB_BYTES] = {
    TOKEN_CONTROL, TOKEN_CONTROL, TOKEN_CONTROL, TOKEN_CONTROL,
    TOKEN_USER_DEFINED, TOKEN_USER_DEFINED, TOKEN_USER_DEFINED, TOKEN_USER_DEFINED,
};

/* R1's template (tokenizer_config.json of DeepSeek-R1), cut to what the tiny model
 * is trained on: BOS, user turns, assistant turns keeping only the text after
 * `</think>`, and the generation prompt that opens the thinking. */
static const char chat_template[] =
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";

const char *r1_vocab_token_text(int id, char *buf) {
    if (id >= R1_VOCAB_BYTES && id < R1_VOCAB_SIZE) {
        snprintf(buf, 64, "%s", special_text[id - R1_VOCAB_BYTES]);
        return buf;
    }
    r1_bytelevel_spell_byte((uint8_t)id, buf); /* the GPT-2 byte alphabet */
    return buf;
}

int r1_vocab_write_keys(r1_gguf_writer *w, r1_err *err) {
    char text[R1_VOCAB_SIZE][64]; /* 17 kB */
    const char *tokens[R1_VOCAB_SIZE];
    int32_t types[R1_VOCAB_SIZE];
    for (int i = 0; i < R1_VOCAB_SIZE; i++) {
        tokens[i] = r1_vocab_token_text(i, text[i]);
        types[i] = i < R1_VOCAB_BYTES ? TOKEN_NORMAL : special_type[i - R1_VOCAB_BYTES];
    }
    const char *no_merges = NULL;
    if (r1_gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2", err) != R1_OK ||
        r1_gguf_writer_kv_str(w, "tokenizer.ggml.pre", "default", err) != R1_OK ||
        r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.tokens", tokens, R1_VOCAB_SIZE, err) != R1_OK ||
        r1_gguf_writer_kv_array(w, "tokenizer.ggml.token_type", GGUF_INT32, types, R1_VOCAB_SIZE, err) != R1_OK ||
        r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.merges", &no_merges, 0, err) != R1_OK ||
        r1_gguf_writer_kv_u32(w, "tokenizer.ggml.bos_token_id", R1_VOCAB_BOS, err) != R1_OK ||
        r1_gguf_writer_kv_u32(w, "tokenizer.ggml.eos_token_id", R1_VOCAB_EOS, err) != R1_OK ||
        r1_gguf_writer_kv_u32(w, "tokenizer.ggml.padding_token_id", R1_VOCAB_EOS, err) != R1_OK ||
        r1_gguf_writer_kv_bool(w, "tokenizer.ggml.add_bos_token", 0, err) != R1_OK ||
        r1_gguf_writer_kv_bool(w, "tokenizer.ggml.add_eos_token", 0, err) != R1_OK ||
        r1_gguf_writer_kv_str(w, "tokenizer.chat_template", chat_template, err) != R1_OK)
        return R1_ERR;
    return R1_OK;
}

int r1_vocab_write_gguf(const char *path, r1_err *err) {
    r1_gguf_writer *w;
    if (r1_gguf_writer_open(&w, path, err) != R1_OK) return R1_ERR;
    if (r1_gguf_writer_kv_str(w, "general.architecture", "deepseek2", err) != R1_OK ||
        r1_gguf_writer_kv_str(w, "general.name", "r1-tiny vocabulary", err) != R1_OK ||
        r1_vocab_write_keys(w, err) != R1_OK) {
        r1_gguf_writer_abort(w);
        return R1_ERR;
    }
    return r1_gguf_writer_finish(w, err);
}

int r1_vocab_tokenizer(const char *path, r1_tokenizer **out, r1_err *err) {
    *out = NULL;
    if (r1_vocab_write_gguf(path, err) != R1_OK) return R1_ERR;
    r1_gguf g;
    if (r1_gguf_open(&g, path, err) != R1_OK) return R1_ERR;
    int rc = r1_tokenizer_load_gguf(out, &g, err);
    r1_gguf_close(&g);
    if (rc == R1_OK && r1_tokenizer_n_vocab(*out) != R1_VOCAB_SIZE) {
        r1_fail(err, "vocab: %s: loaded %d tokens, wrote %d", path, r1_tokenizer_n_vocab(*out), R1_VOCAB_SIZE);
        r1_tokenizer_free(*out);
        *out = NULL;
        return R1_ERR;
    }
    return rc;
}
