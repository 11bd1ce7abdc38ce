/* The tokenizer: text ⇄ token ids for byte-level BPE models (DeepSeek V3/R1,
 * R1-Distill-Qwen, R1-Distill-Llama, DeepSeek LLM/Coder).
 *
 * Loaded from a GGUF (`tokenizer.ggml.model` = "gpt2": tokens, token_type, merges,
 * pre, bos/eos/padding ids, add_bos_token) or from a Hugging Face tokenizer.json
 * (with tokenizer_config.json when it sits beside it, for bos/eos/pad and
 * add_bos_token).
 *
 * Encoding: invalid UTF-8 is first replaced by U+FFFD (one per maximal invalid
 * subpart); then added tokens are cut out of the text, leftmost-longest, before
 * anything else, so they are never split; each stretch of text between them is
 * normalized (NFC when tokenizer.json asks), pre-tokenized by regexes (see
 * pretokenize.h) and each piece is BPE-merged (see bpe.h).
 *
 * Added tokens are of two kinds, as in llama.cpp and Hugging Face: special ones
 * (GGUF token type CONTROL, tokenizer.json "special": true; BOS, EOS, <｜User｜>,
 * <｜Assistant｜>, ...) are matched only when parse_special is set; the others (type
 * USER_DEFINED / "special": false; <think> and </think> in R1) are always matched.
 *
 * A loaded tokenizer is read-only: any number of threads may encode and decode
 * with it at once. */
#ifndef R1_TOKENIZER_H
#define R1_TOKENIZER_H

#include <stddef.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "tokenizer/utf8.h"

typedef struct r1_tokenizer r1_tokenizer;

/* Copies what it needs: g may be closed afterwards. Errors name the GGUF key. */
int r1_tokenizer_load_gguf(r1_tokenizer **out, const r1_gguf *g, r1_err *err);
/* A Hugging Face tokenizer.json (+ tokenizer_config.json in the same directory).
 * JSON syntax errors give the file, line and column. */
int r1_tokenizer_load_json(r1_tokenizer **out, const char *path, r1_err *err);
/* Either, chosen by content: a file starting with "GGUF" is a GGUF. */
int r1_tokenizer_load_file(r1_tokenizer **out, const char *path, r1_err *err);
void r1_tokenizer_free(r1_tokenizer *t);

/* Encodes text[0..len) into a malloc'd array of ids (the caller frees *ids; it is
 * non-NULL even when *n_ids is 0). add_bos: start with the BOS token (an error if
 * the model has none). parse_special: match special tokens' text (see above). */
int r1_tokenize(const r1_tokenizer *t, const char *text, size_t len, int add_bos, int parse_special, int **ids,
                int *n_ids, r1_err *err);

/* The bytes of token id (not NUL-terminated; a part of a UTF-8 character for byte
 * tokens). R1_ERR when id is out of range. */
int r1_token_to_bytes(const r1_tokenizer *t, int id, const char **bytes, size_t *len);

/* Id of the token whose text is exactly `text` ("<think>", "<｜User｜>", "hello"),
 * added tokens first, or -1. */
int r1_token_lookup(const r1_tokenizer *t, const char *text);

int r1_tokenizer_n_vocab(const r1_tokenizer *t);
int r1_tokenizer_bos(const r1_tokenizer *t); /* -1 when the model has none */
int r1_tokenizer_eos(const r1_tokenizer *t);
int r1_tokenizer_pad(const r1_tokenizer *t);
/* Whether the model wants BOS at the start of a prompt (add_bos_token). */
int r1_tokenizer_wants_bos(const r1_tokenizer *t);
/* 1 for special (control) tokens: BOS, EOS, chat-role markers. */
int r1_token_is_special(const r1_tokenizer *t, int id);
/* Pre-tokenizer name ("deepseek-v3", ..., "tokenizer.json"). */
const char *r1_tokenizer_pre_name(const r1_tokenizer *t);

/* Streaming detokenizer: push ids as they are generated and get text that is always
 * valid UTF-8; a character whose bytes span several tokens comes out once its
 * last byte has arrived, and bytes that can never form a character become U+FFFD.
 *
 *   r1_detok_stream s;  r1_detok_init(&s, tok);
 *   for each id: r1_detok_push(&s, id, &text, &len, err); write(text, len);
 *   r1_detok_flush(&s, &text, &len); write(text, len);   a cut-off character → U+FFFD
 *   r1_detok_free(&s); */
typedef struct {
    const r1_tokenizer *tok;
    r1_utf8_stream utf8;
} r1_detok_stream;

void r1_detok_init(r1_detok_stream *s, const r1_tokenizer *t);
/* *text stays valid until the next call on s. R1_ERR for an out-of-range id. */
int r1_detok_push(r1_detok_stream *s, int id, const char **text, size_t *len, r1_err *err);
void r1_detok_flush(r1_detok_stream *s, const char **text, size_t *len);
void r1_detok_free(r1_detok_stream *s);

#endif
