/* The tiny model's vocabulary (DESIGN §6): 256 byte tokens and the 8 special tokens
 * of R1's chat format, written as the GGUF tokenizer metadata that the engine's
 * tokenizer (and llama.cpp's "gpt2" tokenizer) reads.
 *
 *   id 0..255   the bytes, spelled as GPT-2's byte-level BPE spells them (printable
 *               Latin-1 bytes as themselves, the other 68 as U+0100, U+0101, ...)
 *   256 <｜begin▁of▁sentence｜>  BOS   control (type 3)
 *   257 <｜end▁of▁sentence｜>    EOS   control
 *   258 <｜User｜>                      control
 *   259 <｜Assistant｜>                 control
 *   260 <think>  261 </think>  262 <answer>  263 </answer>
 *               user-defined (type 4), as llama.cpp's converter marks <think> in
 *               R1's files: matched in any text, even without parse_special
 *
 * No merges: every text is its bytes plus the special tokens, so any text is
 * encodable and the vocabulary does not depend on the training data. The cost is
 * length (a Countdown trace is ~270 tokens); merges learned from the traces would
 * shorten it about 2–3× and are left for later.
 *
 * add_bos_token is false: the chat template writes the BOS text itself. The
 * tokenizer.chat_template key holds a short Jinja version of R1's template (user
 * and assistant turns; the generation prompt opens `<think>\n`), so llama.cpp and
 * r1's template detection both pick the R1 format. */
#ifndef R1_VOCAB_H
#define R1_VOCAB_H

#include "base/error.h"
#include "gguf/writer.h"
#include "tokenizer/tokenizer.h"

enum {
    R1_VOCAB_BYTES = 256,
    R1_VOCAB_BOS = 256,
    R1_VOCAB_EOS,
    R1_VOCAB_USER,
    R1_VOCAB_ASSISTANT,
    R1_VOCAB_THINK,
    R1_VOCAB_END_THINK,
    R1_VOCAB_ANSWER,
    R1_VOCAB_END_ANSWER,
    R1_VOCAB_SIZE /* 264 */
};

/* The text of token id (0 ≤ id < R1_VOCAB_SIZE) as stored in tokenizer.ggml.tokens,
 * NUL-terminated, into buf (at least 64 bytes). Returns buf. */
const char *r1_vocab_token_text(int id, char *buf);

/* Writes the tokenizer.* keys (model, pre, tokens, token_type, merges, bos/eos ids,
 * add_bos/add_eos, chat_template) into a GGUF being written. */
int r1_vocab_write_keys(r1_gguf_writer *w, r1_err *err);

/* Writes a GGUF holding only those keys (no tensors) at path, atomically: the file
 * the trainer hands to r1_train_export_gguf as its tokenizer source. */
int r1_vocab_write_gguf(const char *path, r1_err *err);

/* Writes the vocabulary GGUF at path and loads the tokenizer from it. */
int r1_vocab_tokenizer(const char *path, r1_tokenizer **out, r1_err *err);

#endif
