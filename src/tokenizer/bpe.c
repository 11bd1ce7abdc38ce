/* Byte-level BPE: the byte alphabet, the two hash tables and the merge loop. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/bpe.h"
#include "tokenizer/utf8.h"

int r1_ids_push(r1_ids *ids, int id, r1_err *err) {
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? 2 * ids->cap : 256;
        int *grown = realloc(ids->v, cap * sizeof *grown);
        if (!grown) return r1_fail(err, "out of memory allocating %zu token ids", cap);
        ids->v = grown;
        ids->cap = cap;
    }
    ids->v[ids->n++] = id;
    return R1_OK;
}

/* ---- GPT-2's byte alphabet ---- */

static int byte_stands_for_itself(uint32_t b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The byte a code point of the alphabet stands for, or -1. The 68 remapped bytes
 * are 0x00..0x20 (33), 0x7F..0xA0 (34) and 0xAD, written U+0100..U+0143 in order. */
static int alphabet_byte(uint32_t cp) {
    if (cp < 0x100) return byte_stands_for_itself(cp) ? (int)cp : -1;
    uint32_t k = cp - 0x100;
    if (k < 33) return (int)k;
    if (k < 67) return (int)(0x7F + k - 33);
    return k == 67 ? 0xAD : -1;
}

size_t r1_bytelevel_spell_byte(uint8_t b, char out[3]) {
    uint32_t cp = b;
    if (!byte_stands_for_itself(b)) cp = 0x100 + (b <= 0x20 ? b : b == 0xAD ? 67u : 33u + (b - 0x7Fu));
    char utf8[4];
    size_t len = r1_utf8_encode(cp, utf8); /* cp < 0x800: at most two bytes */
    memcpy(out, utf8, len);
    out[len] = 0;
    return len;
}

int r1_bytelevel_decode(const char *s, size_t n, char *out, size_t *out_len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < n) {
        size_t len;
        uint32_t cp;
        if (r1_utf8_next(p + i, n - i, &len, &cp) != R1_UTF8_OK) return R1_ERR;
        int byte = alphabet_byte(cp);
        if (byte < 0) return R1_ERR;
        out[o++] = (char)byte;
        i += len;
    }
    *out_len = o;
    return R1_OK;
}

/* ---- hash tables ---- */

typedef struct {
    uint64_t key;    /* left id << 32 | right id; EMPTY_PAIR when free */
    uint32_t rank;
    int32_t merged;  /* id of left+right */
} pair_slot;

#define EMPTY_PAIR UINT64_MAX

struct r1_bpe {
    const char *text;
    const uint32_t *off;
    int n_vocab;
    int32_t *token_slots;  /* open addressing: token id or -1 */
    size_t token_mask;
    pair_slot *pairs;
    size_t pair_mask, n_pairs;
    int byte_token[256];   /* the token of each single byte, -1 if none */
    int ignore_merges;
};

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static uint64_t hash_pair(uint64_t key) {
    key *= 0x9E3779B97F4A7C15ull;
    return key ^ (key >> 31);
}

static size_t pow2_at_least(size_t n) {
    size_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

static int token_equals(const r1_bpe *b, int id, const char *bytes, size_t len) {
    uint32_t start = b->off[id], n = b->off[id + 1] - start;
    return n == len && memcmp(b->text + start, bytes, len) == 0;
}

int r1_bpe_find(const r1_bpe *b, const char *bytes, size_t len) {
    for (size_t i = hash_bytes(bytes, len) & b->token_mask;; i = (i + 1) & b->token_mask) {
        int32_t id = b->token_slots[i];
        if (id < 0) return -1;
        if (token_equals(b, id, bytes, len)) return id;
    }
}

static void token_insert(r1_bpe *b, int id) {
    const char *bytes = b->text + b->off[id];
    size_t len = b->off[id + 1] - b->off[id];
    for (size_t i = hash_bytes(bytes, len) & b->token_mask;; i = (i + 1) & b->token_mask) {
        int32_t other = b->token_slots[i];
        if (other < 0 || token_equals(b, other, bytes, len)) {
            b->token_slots[i] = id;
            return;
        }
    }
}

static pair_slot *pair_lookup(pair_slot *pairs, size_t mask, uint64_t key) {
    for (size_t i = hash_pair(key) & mask;; i = (i + 1) & mask)
        if (pairs[i].key == key || pairs[i].key == EMPTY_PAIR) return &pairs[i];
}

static int pairs_resize(r1_bpe *b, size_t cap, r1_err *err) {
    pair_slot *fresh = r1_malloc(err, cap * sizeof *fresh, "BPE merge table");
    if (!fresh) return R1_ERR;
    for (size_t i = 0; i < cap; i++) fresh[i].key = EMPTY_PAIR;
    if (b->pairs)
        for (size_t i = 0; i <= b->pair_mask; i++)
            if (b->pairs[i].key != EMPTY_PAIR) *pair_lookup(fresh, cap - 1, b->pairs[i].key) = b->pairs[i];
    free(b->pairs);
    b->pairs = fresh;
    b->pair_mask = cap - 1;
    return R1_OK;
}

int r1_bpe_create(r1_bpe **out, const char *text, const uint32_t *off, const uint8_t *mergeable, int n_vocab,
                  size_t n_merges_hint, r1_err *err) {
    r1_bpe *b = r1_calloc(err, 1, sizeof *b, "BPE tables");
    if (!b) return R1_ERR;
    b->text = text;
    b->off = off;
    b->n_vocab = n_vocab;
    size_t cap = pow2_at_least(2 * (size_t)n_vocab);
    b->token_slots = r1_malloc(err, cap * sizeof *b->token_slots, "BPE token table");
    if (!b->token_slots || pairs_resize(b, pow2_at_least(2 * n_merges_hint), err) != R1_OK) {
        r1_bpe_free(b);
        return R1_ERR;
    }
    memset(b->token_slots, 0xFF, cap * sizeof *b->token_slots);
    b->token_mask = cap - 1;
    for (int id = 0; id < n_vocab; id++)
        if (mergeable[id] && off[id + 1] > off[id]) token_insert(b, id);
    for (int byte = 0; byte < 256; byte++) {
        char c = (char)byte;
        b->byte_token[byte] = r1_bpe_find(b, &c, 1);
    }
    *out = b;
    return R1_OK;
}

void r1_bpe_free(r1_bpe *b) {
    if (!b) return;
    free(b->token_slots);
    free(b->pairs);
    free(b);
}

void r1_bpe_set_ignore_merges(r1_bpe *b, int on) { b->ignore_merges = on; }

size_t r1_bpe_n_merges(const r1_bpe *b) { return b->n_pairs; }

int r1_bpe_add_merge(r1_bpe *b, const char *left, size_t left_len, const char *right, size_t right_len,
                     uint32_t rank, r1_err *err) {
    int left_id = r1_bpe_find(b, left, left_len), right_id = r1_bpe_find(b, right, right_len);
    if (left_id < 0 || right_id < 0) return 0;
    char stack_buf[256];
    size_t len = left_len + right_len;
    char *joined = len <= sizeof stack_buf ? stack_buf : r1_malloc(err, len, "BPE merge");
    if (!joined) return R1_ERR;
    memcpy(joined, left, left_len);
    memcpy(joined + left_len, right, right_len);
    int merged = r1_bpe_find(b, joined, len);
    if (joined != stack_buf) free(joined);
    if (merged < 0) return 0;
    if (2 * (b->n_pairs + 1) > b->pair_mask + 1 && pairs_resize(b, 2 * (b->pair_mask + 1), err) != R1_OK)
        return R1_ERR;
    uint64_t key = (uint64_t)(uint32_t)left_id << 32 | (uint32_t)right_id;
    pair_slot *slot = pair_lookup(b->pairs, b->pair_mask, key);
    if (slot->key == key) return 0;
    slot->key = key;
    slot->rank = rank;
    slot->merged = merged;
    b->n_pairs++;
    return 1;
}

/* ---- the merge loop ---- */

/* A possible merge of symbol `left` with its right neighbour `right`, valid while
 * both still hold the ids they had when it was queued. */
typedef struct {
    uint32_t rank;
    int32_t left, right;
    int32_t left_id, right_id, merged;
} candidate;

static int candidate_before(const candidate *a, const candidate *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static int heap_push(r1_bpe_scratch *s, candidate c, r1_err *err) {
    if (s->heap_n == s->heap_cap) {
        size_t cap = s->heap_cap ? 2 * s->heap_cap : 64;
        candidate *grown = realloc(s->heap, cap * sizeof *grown);
        if (!grown) return r1_fail(err, "out of memory allocating the BPE queue");
        s->heap = grown;
        s->heap_cap = cap;
    }
    candidate *h = s->heap;
    size_t i = s->heap_n++;
    while (i > 0 && candidate_before(&c, &h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
    return R1_OK;
}

static candidate heap_pop(r1_bpe_scratch *s) {
    candidate *h = s->heap;
    candidate top = h[0], last = h[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && candidate_before(&h[child + 1], &h[child])) child++;
        if (!candidate_before(&h[child], &last)) break;
        h[i] = h[child];
        i = child;
    }
    if (n) h[i] = last;
    return top;
}

static int queue_pair(const r1_bpe *b, r1_bpe_scratch *s, int32_t left, int32_t right, r1_err *err) {
    if (left < 0 || right < 0) return R1_OK;
    uint64_t key = (uint64_t)(uint32_t)s->id[left] << 32 | (uint32_t)s->id[right];
    const pair_slot *slot = pair_lookup(b->pairs, b->pair_mask, key);
    if (slot->key != key) return R1_OK;
    candidate c = {slot->rank, left, right, s->id[left], s->id[right], slot->merged};
    return heap_push(s, c, err);
}

static int scratch_reserve(r1_bpe_scratch *s, size_t n, r1_err *err) {
    if (n <= s->sym_cap) return R1_OK;
    size_t cap = n < 64 ? 64 : n;
    int32_t *id = realloc(s->id, cap * sizeof *id);
    if (id) s->id = id;
    int32_t *prev = realloc(s->prev, cap * sizeof *prev);
    if (prev) s->prev = prev;
    int32_t *next = realloc(s->next, cap * sizeof *next);
    if (next) s->next = next;
    if (!id || !prev || !next) return r1_fail(err, "out of memory allocating BPE symbols for a %zu-byte word", n);
    s->sym_cap = cap;
    return R1_OK;
}

void r1_bpe_scratch_free(r1_bpe_scratch *s) {
    free(s->id);
    free(s->prev);
    free(s->next);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

int r1_bpe_encode(const r1_bpe *b, const unsigned char *word, size_t len, r1_bpe_scratch *s, r1_ids *out,
                  r1_err *err) {
    if (len == 0) return R1_OK;
    if (len > INT32_MAX) return r1_fail(err, "tokenizer: a word of %zu bytes is too long", len);
    if (b->ignore_merges || len == 1) {
        int whole = r1_bpe_find(b, (const char *)word, len);
        if (whole >= 0) return r1_ids_push(out, whole, err);
    }
    if (scratch_reserve(s, len, err) != R1_OK) return R1_ERR;
    int32_t n = (int32_t)len;
    for (int32_t i = 0; i < n; i++) {
        s->id[i] = b->byte_token[word[i]];
        if (s->id[i] < 0) return r1_fail(err, "tokenizer: byte 0x%02X has no token in the vocabulary", word[i]);
        s->prev[i] = i - 1;
        s->next[i] = i + 1 < n ? i + 1 : -1;
    }
    s->heap_n = 0;
    for (int32_t i = 0; i + 1 < n; i++)
        if (queue_pair(b, s, i, i + 1, err) != R1_OK) return R1_ERR;
    while (s->heap_n > 0) {
        candidate c = heap_pop(s);
        /* stale when either side has merged since the candidate was queued */
        if (s->id[c.left] != c.left_id || s->next[c.left] != c.right || s->id[c.right] != c.right_id) continue;
        s->id[c.left] = c.merged;
        s->id[c.right] = -1;
        int32_t after = s->next[c.right];
        s->next[c.left] = after;
        if (after >= 0) s->prev[after] = c.left;
        if (queue_pair(b, s, s->prev[c.left], c.left, err) != R1_OK) return R1_ERR;
        if (queue_pair(b, s, c.left, after, err) != R1_OK) return R1_ERR;
    }
    for (int32_t i = 0; i >= 0; i = s->next[i])
        if (r1_ids_push(out, s->id[i], err) != R1_OK) return R1_ERR;
    return R1_OK;
}
