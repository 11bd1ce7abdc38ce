/* Inside the tokenizer: the struct and the steps the two loaders (GGUF in
 * tokenizer.c, tokenizer.json in tokenizer_json.c) share. Not a public header. */
#ifndef R1_TOKENIZER_IMPL_H
#define R1_TOKENIZER_IMPL_H

#include <stdint.h>

#include "tokenizer/bpe.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

enum {
    TOK_NORMAL = 0,  /* produced by BPE */
    TOK_SPECIAL = 1, /* added, matched only with parse_special (GGUF CONTROL, "special": true) */
    TOK_USER = 2,    /* added, always matched (GGUF USER_DEFINED, "special": false) */
    TOK_UNUSED = 3   /* an id no token uses */
};

enum { STRIP_LEFT = 1, STRIP_RIGHT = 2 }; /* tokenizer.json's lstrip / rstrip */

/* A node of the trie of added tokens: the children of a node are a linked list. */
struct added_node {
    int32_t child, sibling; /* -1: none */
    int32_t token;          /* the token whose text ends here, or -1 */
    unsigned char byte;
};

struct r1_tokenizer {
    int n_vocab;
    int n_set;            /* while loading: ids set so far */
    char *text;           /* every token's bytes, back to back */
    uint32_t *off;        /* (n_vocab + 1): token i is text[off[i] .. off[i+1]) */
    size_t text_cap;
    uint8_t *kind;        /* (n_vocab) TOK_* */
    uint8_t *strip;       /* (n_vocab) STRIP_* bits of added tokens */
    struct added_node *trie; /* the added tokens' text, byte by byte; node 0 is the root */
    int n_nodes;
    uint8_t starts_added[256]; /* 1 for the first bytes of added tokens */
    r1_bpe *bpe;
    r1_pretok *pretok;
    int bos, eos, pad;    /* -1 when absent */
    int wants_bos;
};

/* Allocates t with room for n_vocab tokens and text_bytes bytes of token text. */
int tok_create(r1_tokenizer **out, int n_vocab, size_t text_bytes, r1_err *err);
/* Sets token id (ids in increasing order, gaps become TOK_UNUSED): TOK_NORMAL text
 * is in GPT-2's byte alphabet and is decoded (or kept literally when it is not in
 * that alphabet); added tokens' text is literal. */
int tok_append(r1_tokenizer *t, int id, const char *text, size_t len, int kind, r1_err *err);
/* After the last tok_append: pads the remaining ids, builds the BPE token table
 * and the index of added tokens. */
int tok_finish_vocab(r1_tokenizer *t, size_t n_merges_hint, r1_err *err);
/* A merge given in the byte alphabet ("Ġ" "t"). Returns 1 if entered, 0 if it can
 * never fire (see r1_bpe_add_merge), R1_ERR on failure. */
int tok_add_merge(r1_tokenizer *t, const char *left, size_t left_len, const char *right, size_t right_len,
                  uint32_t rank, r1_err *err);

#endif
