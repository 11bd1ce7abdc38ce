/* Normalization and pre-tokenization: text → the words that BPE merges inside.
 *
 * A pre-tokenizer is a sequence of regexes, each splitting every piece the previous
 * one left ("Split" with behaviour "Isolated" in Hugging Face's terms: matches and
 * the gaps between them both become pieces; a regex sees one piece at a time, so
 * lookarounds and `$` stop at the piece's ends). The regexes run on PCRE2 in UTF +
 * UCP mode (Unicode properties for \p{..}, \s, \d), JIT-compiled when available.
 *
 * Two sources: a name from a GGUF's `tokenizer.ggml.pre`, mapped to the regexes
 * llama.cpp uses for it, or the `normalizer` and `pre_tokenizer` objects of a
 * Hugging Face tokenizer.json, whose own regexes are used. */
#ifndef R1_TOKENIZER_PRETOKENIZE_H
#define R1_TOKENIZER_PRETOKENIZE_H

#include <stddef.h>

#include "base/error.h"

typedef struct r1_pretok r1_pretok;

/* The names r1 knows, for messages ("deepseek-v3, deepseek-r1-qwen, ..."). */
const char *r1_pretok_known_names(void);

/* NULL or "" means "default", as in llama.cpp. Unknown name → error naming it. */
int r1_pretok_from_name(r1_pretok **out, const char *name, r1_err *err);

/* From tokenizer.json's "normalizer" and "pre_tokenizer" values (json_t *, either
 * may be JSON null). Errors name the unsupported type or the bad regex. */
int r1_pretok_from_json(r1_pretok **out, const void *normalizer, const void *pre_tokenizer, r1_err *err);

void r1_pretok_free(r1_pretok *p);

const char *r1_pretok_name(const r1_pretok *p);
/* Llama-3's BPE rule (see r1_bpe_set_ignore_merges), implied by some names. */
int r1_pretok_ignore_merges(const r1_pretok *p);
/* 1 when pre-tokenization ends with GPT-2's byte-level step (always for names). */
int r1_pretok_byte_level(const r1_pretok *p);

/* A piece of text: text[start .. start + len). */
typedef struct {
    size_t start, len;
} r1_span;

/* Scratch and results of one run, reused between calls (one per thread). */
typedef struct {
    char *text;          /* the normalized text the pieces point into */
    size_t text_cap;
    r1_span *pieces, *spare;
    size_t n_pieces, pieces_cap, spare_cap;
} r1_pretok_out;

void r1_pretok_out_free(r1_pretok_out *o);

/* Normalizes text[0..len) (valid UTF-8) and splits it into o->pieces, which point
 * into o->text. */
int r1_pretok_run(const r1_pretok *p, const char *text, size_t len, r1_pretok_out *o, r1_err *err);

#endif
