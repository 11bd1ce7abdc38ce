/* The tokenizer: vocabulary and added tokens, loading from GGUF, encoding (added
 * tokens → pre-tokenizer → BPE) and decoding, plain and streaming. The
 * tokenizer.json loader is in tokenizer_json.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_impl.h"

/* ---- building the vocabulary (both loaders) ---- */

int tok_create(r1_tokenizer **out, int n_vocab, size_t text_bytes, r1_err *err) {
    if (n_vocab <= 0 || n_vocab > (1 << 24))
        return r1_fail(err, "tokenizer: vocabulary of %d tokens (expected 1 to %d)", n_vocab, 1 << 24);
    if (text_bytes >= UINT32_MAX) return r1_fail(err, "tokenizer: %zu bytes of token text is too much", text_bytes);
    r1_tokenizer *t = r1_calloc(err, 1, sizeof *t, "tokenizer");
    if (!t) return R1_ERR;
    t->n_vocab = n_vocab;
    t->bos = t->eos = t->pad = -1;
    t->text_cap = text_bytes + 1;
    t->text = r1_malloc(err, t->text_cap, "token text");
    t->off = t->text ? r1_calloc(err, (size_t)n_vocab + 1, sizeof *t->off, "token offsets") : NULL;
    t->kind = t->off ? r1_malloc(err, (size_t)n_vocab, "token kinds") : NULL;
    t->strip = t->kind ? r1_calloc(err, (size_t)n_vocab, 1, "token strip flags") : NULL;
    if (!t->strip) {
        r1_tokenizer_free(t);
        return R1_ERR;
    }
    memset(t->kind, TOK_UNUSED, (size_t)n_vocab);
    *out = t;
    return R1_OK;
}

int tok_append(r1_tokenizer *t, int id, const char *text, size_t len, int kind, r1_err *err) {
    if (id < t->n_set || id >= t->n_vocab) return r1_fail(err, "tokenizer: token id %d out of order", id);
    uint32_t pos = t->off[t->n_set];
    if (len > t->text_cap - pos) return r1_fail(err, "tokenizer: token text past the reserved %zu bytes", t->text_cap);
    while (t->n_set < id) t->off[++t->n_set] = pos; /* unused ids in between: empty */
    size_t n = len;
    /* added tokens are literal; so is BPE text outside the byte alphabet */
    if (kind != TOK_NORMAL || r1_bytelevel_decode(text, len, t->text + pos, &n) != R1_OK) {
        memcpy(t->text + pos, text, len);
        n = len;
    }
    t->kind[id] = (uint8_t)kind;
    t->off[++t->n_set] = pos + (uint32_t)n;
    return R1_OK;
}

static size_t token_len(const r1_tokenizer *t, int id) { return t->off[id + 1] - t->off[id]; }

/* Adds token id to the trie of added tokens (the first of equal texts wins). */
static int trie_insert(r1_tokenizer *t, int id, int *cap, r1_err *err) {
    const unsigned char *p = (const unsigned char *)t->text + t->off[id];
    int node = 0;
    for (size_t k = 0; k < token_len(t, id); k++) {
        int child = t->trie[node].child;
        while (child >= 0 && t->trie[child].byte != p[k]) child = t->trie[child].sibling;
        if (child < 0) {
            if (t->n_nodes == *cap) {
                struct added_node *grown = realloc(t->trie, 2 * (size_t)*cap * sizeof *grown);
                if (!grown) return r1_fail(err, "out of memory allocating the added-token trie");
                t->trie = grown;
                *cap *= 2;
            }
            child = t->n_nodes++;
            t->trie[child] = (struct added_node){-1, t->trie[node].child, -1, p[k]};
            t->trie[node].child = child;
        }
        node = child;
    }
    if (t->trie[node].token < 0) t->trie[node].token = id;
    return R1_OK;
}

static int index_added_tokens(r1_tokenizer *t, r1_err *err) {
    int cap = 64;
    t->trie = r1_malloc(err, (size_t)cap * sizeof *t->trie, "added-token trie");
    if (!t->trie) return R1_ERR;
    t->trie[0] = (struct added_node){-1, -1, -1, 0};
    t->n_nodes = 1;
    for (int id = 0; id < t->n_vocab; id++) {
        size_t len = token_len(t, id);
        /* matched in valid UTF-8 input, so only valid text can ever match */
        if ((t->kind[id] != TOK_SPECIAL && t->kind[id] != TOK_USER) || len == 0 ||
            !r1_utf8_is_valid(t->text + t->off[id], len))
            continue;
        if (trie_insert(t, id, &cap, err) != R1_OK) return R1_ERR;
        t->starts_added[(unsigned char)t->text[t->off[id]]] = 1;
    }
    return R1_OK;
}

int tok_finish_vocab(r1_tokenizer *t, size_t n_merges_hint, r1_err *err) {
    uint32_t pos = t->off[t->n_set];
    while (t->n_set < t->n_vocab) t->off[++t->n_set] = pos;
    uint8_t *mergeable = r1_malloc(err, (size_t)t->n_vocab, "mergeable flags");
    if (!mergeable) return R1_ERR;
    for (int id = 0; id < t->n_vocab; id++) mergeable[id] = t->kind[id] == TOK_NORMAL;
    int status = r1_bpe_create(&t->bpe, t->text, t->off, mergeable, t->n_vocab, n_merges_hint, err);
    free(mergeable);
    if (status != R1_OK) return R1_ERR;
    return index_added_tokens(t, err);
}

int tok_add_merge(r1_tokenizer *t, const char *left, size_t left_len, const char *right, size_t right_len,
                  uint32_t rank, r1_err *err) {
    char stack_buf[512];
    size_t total = left_len + right_len;
    char *buf = total <= sizeof stack_buf ? stack_buf : r1_malloc(err, total, "merge");
    if (!buf) return R1_ERR;
    size_t left_bytes, right_bytes;
    int status = 0;
    if (r1_bytelevel_decode(left, left_len, buf, &left_bytes) == R1_OK &&
        r1_bytelevel_decode(right, right_len, buf + left_len, &right_bytes) == R1_OK)
        status = r1_bpe_add_merge(t->bpe, buf, left_bytes, buf + left_len, right_bytes, rank, err);
    if (buf != stack_buf) free(buf);
    return status;
}

void r1_tokenizer_free(r1_tokenizer *t) {
    if (!t) return;
    r1_bpe_free(t->bpe);
    r1_pretok_free(t->pretok);
    free(t->text);
    free(t->off);
    free(t->kind);
    free(t->strip);
    free(t->trie);
    free(t);
}

/* ---- loading from GGUF ---- */

/* llama.cpp's token types (gguf-py TokenType) */
enum { GGUF_TOKEN_UNKNOWN = 2, GGUF_TOKEN_CONTROL = 3, GGUF_TOKEN_USER_DEFINED = 4 };

static int kind_of_gguf_type(int64_t type) {
    if (type == GGUF_TOKEN_CONTROL || type == GGUF_TOKEN_UNKNOWN) return TOK_SPECIAL;
    if (type == GGUF_TOKEN_USER_DEFINED) return TOK_USER;
    return TOK_NORMAL;
}

/* Element i of an integer array (bounds checked by the GGUF reader). */
static int64_t int_array_elem(const r1_gguf_kv *kv, uint64_t i) {
    const uint8_t *p = kv->array_data;
    switch (kv->array_type) {
    case GGUF_INT8: return (int8_t)p[i];
    case GGUF_UINT8: return p[i];
    case GGUF_INT16: { int16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case GGUF_UINT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case GGUF_INT32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case GGUF_UINT32: { uint32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    default: { int64_t v; memcpy(&v, p + 8 * i, 8); return v; } /* INT64, UINT64 */
    }
}

static int is_int_array(const r1_gguf_kv *kv) {
    if (kv->type != GGUF_ARRAY) return 0;
    switch (kv->array_type) {
    case GGUF_INT8: case GGUF_UINT8: case GGUF_INT16: case GGUF_UINT16:
    case GGUF_INT32: case GGUF_UINT32: case GGUF_INT64: case GGUF_UINT64: return 1;
    default: return 0;
    }
}

static int gguf_token_id(const r1_gguf *g, const char *key, int n_vocab, int *out, r1_err *err) {
    uint32_t id;
    if (r1_gguf_get_u32_or(g, key, UINT32_MAX, &id, err) != R1_OK) return R1_ERR;
    if (id == UINT32_MAX) {
        *out = -1;
        return R1_OK;
    }
    if (id >= (uint32_t)n_vocab)
        return r1_fail(err, "gguf: %s: key '%s' = %u is past the vocabulary (%d tokens)", g->path, key, id, n_vocab);
    *out = (int)id;
    return R1_OK;
}

static int load_gguf_merges(r1_tokenizer *t, const r1_gguf *g, const r1_str *merges, uint64_t n_merges,
                            r1_err *err) {
    for (uint64_t i = 0; i < n_merges; i++) {
        const char *m = merges[i].data;
        size_t len = merges[i].len, space = 1; /* "a b": the first space after the first byte */
        while (space < len && m[space] != ' ') space++;
        if (space >= len)
            return r1_fail(err, "gguf: %s: tokenizer.ggml.merges[%llu] ('%.*s') has no space", g->path,
                           (unsigned long long)i, (int)(len < 40 ? len : 40), m);
        if (tok_add_merge(t, m, space, m + space + 1, len - space - 1, (uint32_t)i, err) < 0) return R1_ERR;
    }
    return R1_OK;
}

int r1_tokenizer_load_gguf(r1_tokenizer **out, const r1_gguf *g, r1_err *err) {
    const r1_gguf_kv *model = r1_gguf_find_kv(g, "tokenizer.ggml.model");
    if (!model) return r1_fail(err, "gguf: %s: no tokenizer: key 'tokenizer.ggml.model' is missing", g->path);
    if (model->type != GGUF_STRING || !r1_str_eq(model->value.str, "gpt2")) {
        char name[41] = "(not a string)";
        if (model->type == GGUF_STRING)
            snprintf(name, sizeof name, "%.*s", (int)(model->value.str.len < 40 ? model->value.str.len : 40),
                     model->value.str.data);
        return r1_fail(err, "gguf: %s: tokenizer.ggml.model is '%s': r1 supports byte-level BPE ('gpt2') only",
                       g->path, name);
    }
    char pre[64] = "";
    const r1_gguf_kv *pre_kv = r1_gguf_find_kv(g, "tokenizer.ggml.pre");
    if (pre_kv && r1_gguf_get_str(g, "tokenizer.ggml.pre", pre, sizeof pre, err) != R1_OK) return R1_ERR;
    const r1_gguf_kv *types = r1_gguf_find_kv(g, "tokenizer.ggml.token_type");
    r1_str *tokens = NULL, *merges = NULL;
    uint64_t n_tokens = 0, n_merges = 0;
    r1_tokenizer *t = NULL;
    r1_pretok *pretok = NULL;
    if (r1_gguf_get_str_array(g, "tokenizer.ggml.tokens", &tokens, &n_tokens, err) != R1_OK) goto fail;
    if (r1_gguf_get_str_array(g, "tokenizer.ggml.merges", &merges, &n_merges, err) != R1_OK) goto fail;
    if (types && (!is_int_array(types) || types->array_count != n_tokens)) {
        r1_fail(err, "gguf: %s: tokenizer.ggml.token_type is not an integer array of %llu elements", g->path,
                (unsigned long long)n_tokens);
        goto fail;
    }
    if (r1_pretok_from_name(&pretok, pre, err) != R1_OK) {
        r1_err inner = *err;
        r1_fail(err, "gguf: %s: tokenizer.ggml.pre: %s", g->path, inner.msg);
        goto fail;
    }
    if (n_tokens == 0 || n_tokens > (1 << 24)) {
        r1_fail(err, "gguf: %s: tokenizer.ggml.tokens has %llu tokens (expected 1 to %d)", g->path,
                (unsigned long long)n_tokens, 1 << 24);
        goto fail;
    }
    size_t text_bytes = 0;
    for (uint64_t i = 0; i < n_tokens; i++) text_bytes += tokens[i].len;
    if (tok_create(&t, (int)n_tokens, text_bytes, err) != R1_OK) goto fail;
    for (uint64_t i = 0; i < n_tokens; i++) {
        int kind = types ? kind_of_gguf_type(int_array_elem(types, i)) : TOK_NORMAL;
        if (tok_append(t, (int)i, tokens[i].data, tokens[i].len, kind, err) != R1_OK) goto fail;
    }
    if (tok_finish_vocab(t, n_merges, err) != R1_OK || load_gguf_merges(t, g, merges, n_merges, err) != R1_OK)
        goto fail;
    t->pretok = pretok;
    pretok = NULL;
    r1_bpe_set_ignore_merges(t->bpe, r1_pretok_ignore_merges(t->pretok));
    if (gguf_token_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab, &t->bos, err) != R1_OK ||
        gguf_token_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab, &t->eos, err) != R1_OK ||
        gguf_token_id(g, "tokenizer.ggml.padding_token_id", t->n_vocab, &t->pad, err) != R1_OK)
        goto fail;
    /* absent: llama.cpp's default, which is on for the Llama-3 pre-tokenizer only */
    if (r1_gguf_get_bool_or(g, "tokenizer.ggml.add_bos_token", r1_pretok_ignore_merges(t->pretok), &t->wants_bos,
                            err) != R1_OK)
        goto fail;
    free(tokens);
    free(merges);
    *out = t;
    return R1_OK;
fail:
    free(tokens);
    free(merges);
    r1_pretok_free(pretok);
    r1_tokenizer_free(t);
    return R1_ERR;
}

int r1_tokenizer_load_file(r1_tokenizer **out, const char *path, r1_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return r1_fail(err, "tokenizer: cannot open %s: %s", path, strerror(errno));
    char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    if (got < 4 || memcmp(magic, "GGUF", 4) != 0) return r1_tokenizer_load_json(out, path, err);
    r1_gguf g;
    if (r1_gguf_open(&g, path, err) != R1_OK) return R1_ERR;
    int status = r1_tokenizer_load_gguf(out, &g, err);
    r1_gguf_close(&g);
    return status;
}

/* ---- encoding ---- */

/* The longest added token that starts at s[0] (n >= 1 bytes left), or -1; with
 * exact, only one that spans all n bytes. */
static int match_added(const r1_tokenizer *t, const char *s, size_t n, int parse_special, int exact) {
    int node = 0, best = -1;
    for (size_t k = 0; k < n; k++) {
        int child = t->trie[node].child;
        while (child >= 0 && t->trie[child].byte != (unsigned char)s[k]) child = t->trie[child].sibling;
        if (child < 0) break;
        node = child;
        int id = t->trie[node].token;
        if (id >= 0 && (parse_special || t->kind[id] != TOK_SPECIAL) && (!exact || k + 1 == n)) best = id;
    }
    return best;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

typedef struct {
    r1_pretok_out pieces;
    r1_bpe_scratch bpe;
    r1_ids ids;
} encode_state;

/* Text between added tokens: normalize, pre-tokenize, merge each piece. */
static int encode_text(const r1_tokenizer *t, const char *text, size_t len, encode_state *st, r1_err *err) {
    if (len == 0) return R1_OK;
    if (r1_pretok_run(t->pretok, text, len, &st->pieces, err) != R1_OK) return R1_ERR;
    for (size_t i = 0; i < st->pieces.n_pieces; i++) {
        r1_span piece = st->pieces.pieces[i];
        const unsigned char *word = (const unsigned char *)st->pieces.text + piece.start;
        if (r1_bpe_encode(t->bpe, word, piece.len, &st->bpe, &st->ids, err) != R1_OK) return R1_ERR;
    }
    return R1_OK;
}

static int encode(const r1_tokenizer *t, const char *text, size_t n, int add_bos, int parse_special,
                  encode_state *st, r1_err *err) {
    if (add_bos) {
        if (t->bos < 0) return r1_fail(err, "tokenizer: a BOS token was asked for but the model has none");
        if (r1_ids_push(&st->ids, t->bos, err) != R1_OK) return R1_ERR;
    }
    size_t segment = 0, i = 0;
    while (i < n) {
        int id = t->starts_added[(unsigned char)text[i]] ? match_added(t, text + i, n - i, parse_special, 0) : -1;
        if (id < 0) {
            i++;
            continue;
        }
        size_t segment_end = i;
        if (t->strip[id] & STRIP_LEFT)
            while (segment_end > segment && is_space(text[segment_end - 1])) segment_end--;
        if (encode_text(t, text + segment, segment_end - segment, st, err) != R1_OK) return R1_ERR;
        if (r1_ids_push(&st->ids, id, err) != R1_OK) return R1_ERR;
        i += token_len(t, id);
        if (t->strip[id] & STRIP_RIGHT)
            while (i < n && is_space(text[i])) i++;
        segment = i;
    }
    return encode_text(t, text + segment, n - segment, st, err);
}

int r1_tokenize(const r1_tokenizer *t, const char *text, size_t len, int add_bos, int parse_special, int **ids,
                int *n_ids, r1_err *err) {
    char *repaired = NULL;
    if (!r1_utf8_is_valid(text, len)) {
        if (r1_utf8_repair(text, len, &repaired, &len, err) != R1_OK) return R1_ERR;
        text = repaired;
    }
    encode_state st;
    memset(&st, 0, sizeof st);
    int status = encode(t, text, len, add_bos, parse_special, &st, err);
    if (status == R1_OK && st.ids.n > INT32_MAX)
        status = r1_fail(err, "tokenizer: %zu tokens is more than r1 can count", st.ids.n);
    if (status == R1_OK && !st.ids.v && !(st.ids.v = malloc(sizeof *st.ids.v)))
        status = r1_fail(err, "out of memory allocating token ids");
    free(repaired);
    r1_pretok_out_free(&st.pieces);
    r1_bpe_scratch_free(&st.bpe);
    if (status != R1_OK) {
        free(st.ids.v);
        return R1_ERR;
    }
    *ids = st.ids.v;
    *n_ids = (int)st.ids.n;
    return R1_OK;
}

/* ---- lookups ---- */

int r1_token_to_bytes(const r1_tokenizer *t, int id, const char **bytes, size_t *len) {
    if (id < 0 || id >= t->n_vocab) return R1_ERR;
    *bytes = t->text + t->off[id];
    *len = token_len(t, id);
    return R1_OK;
}

int r1_token_lookup(const r1_tokenizer *t, const char *text) {
    size_t len = strlen(text);
    if (len == 0) return -1;
    int id = match_added(t, text, len, 1, 1);
    return id >= 0 ? id : r1_bpe_find(t->bpe, text, len);
}

int r1_tokenizer_n_vocab(const r1_tokenizer *t) { return t->n_vocab; }
int r1_tokenizer_bos(const r1_tokenizer *t) { return t->bos; }
int r1_tokenizer_eos(const r1_tokenizer *t) { return t->eos; }
int r1_tokenizer_pad(const r1_tokenizer *t) { return t->pad; }
int r1_tokenizer_wants_bos(const r1_tokenizer *t) { return t->wants_bos; }
const char *r1_tokenizer_pre_name(const r1_tokenizer *t) { return r1_pretok_name(t->pretok); }

int r1_token_is_special(const r1_tokenizer *t, int id) {
    return id >= 0 && id < t->n_vocab && t->kind[id] == TOK_SPECIAL;
}

/* ---- streaming decoding ---- */

void r1_detok_init(r1_detok_stream *s, const r1_tokenizer *t) {
    s->tok = t;
    r1_utf8_stream_init(&s->utf8);
}

int r1_detok_push(r1_detok_stream *s, int id, const char **text, size_t *len, r1_err *err) {
    const char *bytes;
    size_t n;
    if (r1_token_to_bytes(s->tok, id, &bytes, &n) != R1_OK)
        return r1_fail(err, "tokenizer: token id %d is out of range (vocabulary of %d)", id, s->tok->n_vocab);
    return r1_utf8_stream_push(&s->utf8, bytes, n, text, len, err);
}

void r1_detok_flush(r1_detok_stream *s, const char **text, size_t *len) { r1_utf8_stream_flush(&s->utf8, text, len); }

void r1_detok_free(r1_detok_stream *s) { r1_utf8_stream_free(&s->utf8); }
