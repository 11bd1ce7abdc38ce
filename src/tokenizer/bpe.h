/* Byte-level BPE (GPT-2's scheme, used by every DeepSeek, Qwen2 and Llama-3 model):
 * a pre-tokenized word is split into single bytes, then the adjacent pair with the
 * lowest merge rank is merged, leftmost first, until no pair has a rank.
 *
 * Vocabularies store tokens as text in GPT-2's byte-to-unicode alphabet (byte 0x20
 * is written "Ġ", 0x0A "Ċ", ...); r1 decodes them to raw bytes once at load time and
 * works on bytes from then on. Two hash tables make it fast: token bytes → id, and
 * (left id, right id) → (merge rank, merged id). */
#ifndef R1_TOKENIZER_BPE_H
#define R1_TOKENIZER_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* A growing array of token ids. */
typedef struct {
    int *v;
    size_t n, cap;
} r1_ids;

int r1_ids_push(r1_ids *ids, int id, r1_err *err);

/* GPT-2's byte-to-unicode alphabet: the printable bytes '!'..'~', 0xA1..0xAC and
 * 0xAE..0xFF stand for themselves; the other 68 bytes, in increasing order, are
 * written as U+0100, U+0101, ...
 *
 * r1_bytelevel_spell_byte: byte b's character (the text of b's token in a
 * byte-level vocabulary), one or two UTF-8 bytes, NUL-terminated; returns the length.
 * r1_bytelevel_decode: decodes s[0..n) (text in that alphabet) into out (room for
 * n bytes). R1_ERR, without a message, when s holds a character outside the
 * alphabet: the caller then treats s as literal text. */
size_t r1_bytelevel_spell_byte(uint8_t b, char out[3]);
int r1_bytelevel_decode(const char *s, size_t n, char *out, size_t *out_len);

typedef struct r1_bpe r1_bpe;

/* The tokens BPE may produce: token i is text[off[i] .. off[i+1]) (raw bytes) and
 * is entered when mergeable[i] is set. text and off are not copied: they must live
 * as long as the r1_bpe. With several tokens of the same bytes the last one wins. */
int r1_bpe_create(r1_bpe **out, const char *text, const uint32_t *off, const uint8_t *mergeable, int n_vocab,
                  size_t n_merges_hint, r1_err *err);
void r1_bpe_free(r1_bpe *b);

/* Adds the merge of rank `rank` (ranks are added in increasing order). Returns 1 if
 * it was entered, 0 when left, right or left+right is not a token (such a merge can
 * never fire); a pair already present keeps its first (lowest) rank. */
int r1_bpe_add_merge(r1_bpe *b, const char *left, size_t left_len, const char *right, size_t right_len,
                     uint32_t rank, r1_err *err);
size_t r1_bpe_n_merges(const r1_bpe *b);

/* Llama-3's rule: a word that is itself a token is emitted whole, without merging. */
void r1_bpe_set_ignore_merges(r1_bpe *b, int on);

/* Id of the token with exactly these bytes, or -1. */
int r1_bpe_find(const r1_bpe *b, const char *bytes, size_t len);

/* Scratch memory for r1_bpe_encode, reused from word to word (one per thread). */
typedef struct {
    int32_t *id, *prev, *next; /* the symbols of the word being merged, a linked list */
    void *heap;                /* candidate merges */
    size_t heap_n, sym_cap, heap_cap;
} r1_bpe_scratch;

void r1_bpe_scratch_free(r1_bpe_scratch *s);

/* Appends the tokens of one pre-tokenized word (raw bytes) to out. Fails only on
 * memory or when a byte of the word has no token in the vocabulary. */
int r1_bpe_encode(const r1_bpe *b, const unsigned char *word, size_t len, r1_bpe_scratch *s, r1_ids *out,
                  r1_err *err);

#endif
