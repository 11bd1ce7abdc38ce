/* Normalization (NFC) and regex pre-tokenization, see pretokenize.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#include "tokenizer/pretokenize.h"
#include "tokenizer/utf8.h"

#define MAX_REGEX 16

struct r1_pretok {
    char name[64];
    pcre2_code *regex[MAX_REGEX]; /* applied in order, each to every piece of the previous */
    int n_regex;
    int nfc;              /* normalize to NFC first (Qwen2's tokenizer.json asks for it) */
    int add_prefix_space; /* ByteLevel's option: a leading space when the text has none */
    int byte_level;
    int ignore_merges;
};

/* ---- the regexes of llama.cpp's pre-tokenizer types (llama-vocab.cpp), by name ----
 * Written for PCRE2: \x{..} for non-ASCII code points. Where llama.cpp spells
 * tokenizer.json's case-insensitive (?i:'s|'t|...) as (?:'[sS]|'[tT]|...), so do we:
 * under Unicode case folding (?i) would also take "'ſ" (long s) as "'s". */

/* GPT-2's own pattern (also the one HF's ByteLevel pre-tokenizer applies). */
#define GPT2_PATTERN "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define LLAMA3_PATTERN                                                                         \
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*" \
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define QWEN2_PATTERN                                                                      \
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*" \
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* DeepSeek-V3 / R1: digits in groups of up to three, then runs of CJK ideographs,
 * hiragana and katakana, then words with their leading punctuation mark. */
#define DEEPSEEK3_DIGITS "\\p{N}{1,3}"
#define DEEPSEEK3_CJK "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+"
#define DEEPSEEK3_WORDS                                                                   \
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"                               \
    "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+" \
    "|\\s+(?!\\S)|\\s+"

/* DeepSeek LLM / Coder (V1): the letter class is Unicode's cased letters (L&). */
#define DEEPSEEK_LLM_LETTERS                                                                              \
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}"   \
    "\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}" \
    "\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}"        \
    "\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"     \
    "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"      \
    "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}"                \
    "\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"               \
    "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}"     \
    "\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}"       \
    "\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}"                \
    "\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"                \
    "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"      \
    "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"     \
    "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"                    \
    "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"                \
    "\\x{1E900}-\\x{1E943}]+"
#define DEEPSEEK_LLM_PUNCT "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+"
#define DEEPSEEK_LLM_CJK "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"

static const struct {
    const char *names[4];
    const char *regex[MAX_REGEX];
    int ignore_merges;
} named[] = {
    {{"deepseek-v3"}, {DEEPSEEK3_DIGITS, DEEPSEEK3_CJK, DEEPSEEK3_WORDS}, 0},
    {{"deepseek-r1-qwen", "qwen2"}, {QWEN2_PATTERN}, 0},
    {{"llama-bpe", "llama3", "llama-v3"}, {LLAMA3_PATTERN}, 1},
    {{"deepseek-llm"},
     {"[\\r\\n]", DEEPSEEK_LLM_LETTERS, DEEPSEEK_LLM_PUNCT, "\\s+$", DEEPSEEK_LLM_CJK, "\\p{N}+"},
     0},
    {{"deepseek-coder"}, {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", DEEPSEEK_LLM_CJK, "\\p{N}"}, 0},
    {{"gpt-2", "gpt2"}, {GPT2_PATTERN}, 0},
    {{"default"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_PATTERN, "\\p{N}+", "[0-9][0-9][0-9]"}, 0},
};

const char *r1_pretok_known_names(void) {
    return "deepseek-v3, deepseek-r1-qwen, qwen2, llama-bpe, llama3, llama-v3, deepseek-llm, deepseek-coder, "
           "gpt-2, gpt2, default";
}

/* ---- building ---- */

static int add_regex(r1_pretok *p, const char *pattern, size_t len, uint32_t extra_options, r1_err *err) {
    if (p->n_regex == MAX_REGEX) return r1_fail(err, "pre-tokenizer: more than %d regexes", MAX_REGEX);
    int code;
    PCRE2_SIZE offset;
    /* `$` means the end of the piece only, as in Hugging Face and llama.cpp */
    uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | extra_options;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, options, &code, &offset, NULL);
    if (!re) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(code, message, sizeof message);
        return r1_fail(err, "pre-tokenizer: regex '%.80s': %s at offset %zu", pattern, (const char *)message,
                       (size_t)offset);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* when JIT is unavailable the interpreter runs */
    p->regex[p->n_regex++] = re;
    return R1_OK;
}

int r1_pretok_from_name(r1_pretok **out, const char *name, r1_err *err) {
    if (!name || !*name) name = "default";
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        for (int k = 0; k < 4 && named[i].names[k]; k++) {
            if (strcmp(name, named[i].names[k]) != 0) continue;
            r1_pretok *p = r1_calloc(err, 1, sizeof *p, "pre-tokenizer");
            if (!p) return R1_ERR;
            snprintf(p->name, sizeof p->name, "%s", name);
            p->byte_level = 1;
            p->ignore_merges = named[i].ignore_merges;
            for (int r = 0; r < MAX_REGEX && named[i].regex[r]; r++)
                if (add_regex(p, named[i].regex[r], PCRE2_ZERO_TERMINATED, 0, err) != R1_OK) {
                    r1_pretok_free(p);
                    return R1_ERR;
                }
            *out = p;
            return R1_OK;
        }
    return r1_fail(err, "unknown pre-tokenizer '%.60s' (r1 knows: %s)", name, r1_pretok_known_names());
}

/* ---- tokenizer.json ---- */

static const char *json_type_name(const json_t *obj) {
    const char *type = json_string_value(json_object_get(obj, "type"));
    return type ? type : "(no type)";
}

static int parse_normalizer(r1_pretok *p, const json_t *n, r1_err *err) {
    if (!n || json_is_null(n)) return R1_OK;
    const char *type = json_type_name(n);
    if (!strcmp(type, "NFC")) {
        p->nfc = 1;
        return R1_OK;
    }
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(n, "normalizers");
        if (!json_is_array(list)) return r1_fail(err, "normalizer: Sequence without a \"normalizers\" array");
        for (size_t i = 0; i < json_array_size(list); i++)
            if (parse_normalizer(p, json_array_get(list, i), err) != R1_OK) return R1_ERR;
        return R1_OK;
    }
    return r1_fail(err, "normalizer: type '%.40s' is not supported (r1 supports NFC and Sequence)", type);
}

static int parse_pre_tokenizer(r1_pretok *p, const json_t *t, r1_err *err) {
    if (!t || json_is_null(t)) return R1_OK;
    const char *type = json_type_name(t);
    if (p->byte_level)
        return r1_fail(err, "pre_tokenizer: '%.40s' after ByteLevel is not supported", type);
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(t, "pretokenizers");
        if (!json_is_array(list)) return r1_fail(err, "pre_tokenizer: Sequence without a \"pretokenizers\" array");
        for (size_t i = 0; i < json_array_size(list); i++)
            if (parse_pre_tokenizer(p, json_array_get(list, i), err) != R1_OK) return R1_ERR;
        return R1_OK;
    }
    if (!strcmp(type, "Split")) {
        const char *behavior = json_string_value(json_object_get(t, "behavior"));
        if (!behavior || strcmp(behavior, "Isolated") != 0)
            return r1_fail(err, "pre_tokenizer: Split behavior '%.40s' is not supported (only Isolated)",
                           behavior ? behavior : "(none)");
        if (json_is_true(json_object_get(t, "invert")))
            return r1_fail(err, "pre_tokenizer: Split with invert=true is not supported");
        const json_t *pattern = json_object_get(t, "pattern");
        const json_t *regex = json_object_get(pattern, "Regex"), *literal = json_object_get(pattern, "String");
        if (json_is_string(regex))
            return add_regex(p, json_string_value(regex), json_string_length(regex), 0, err);
        if (json_is_string(literal))
            return add_regex(p, json_string_value(literal), json_string_length(literal), PCRE2_LITERAL, err);
        return r1_fail(err, "pre_tokenizer: Split without a Regex or String pattern");
    }
    if (!strcmp(type, "ByteLevel")) {
        if (json_is_true(json_object_get(t, "add_prefix_space"))) {
            if (p->n_regex > 0)
                return r1_fail(err, "pre_tokenizer: ByteLevel add_prefix_space after a Split is not supported");
            p->add_prefix_space = 1;
        }
        const json_t *use_regex = json_object_get(t, "use_regex"); /* default: true */
        if (!json_is_false(use_regex) && add_regex(p, GPT2_PATTERN, PCRE2_ZERO_TERMINATED, 0, err) != R1_OK)
            return R1_ERR;
        p->byte_level = 1;
        return R1_OK;
    }
    return r1_fail(err, "pre_tokenizer: type '%.40s' is not supported (r1 supports Sequence, Split, ByteLevel)",
                   type);
}

int r1_pretok_from_json(r1_pretok **out, const void *normalizer, const void *pre_tokenizer, r1_err *err) {
    r1_pretok *p = r1_calloc(err, 1, sizeof *p, "pre-tokenizer");
    if (!p) return R1_ERR;
    snprintf(p->name, sizeof p->name, "tokenizer.json");
    if (parse_normalizer(p, normalizer, err) != R1_OK || parse_pre_tokenizer(p, pre_tokenizer, err) != R1_OK) {
        r1_pretok_free(p);
        return R1_ERR;
    }
    *out = p;
    return R1_OK;
}

void r1_pretok_free(r1_pretok *p) {
    if (!p) return;
    for (int i = 0; i < p->n_regex; i++) pcre2_code_free(p->regex[i]);
    free(p);
}

const char *r1_pretok_name(const r1_pretok *p) { return p->name; }
int r1_pretok_ignore_merges(const r1_pretok *p) { return p->ignore_merges; }
int r1_pretok_byte_level(const r1_pretok *p) { return p->byte_level; }

/* ---- running ---- */

void r1_pretok_out_free(r1_pretok_out *o) {
    free(o->text);
    free(o->pieces);
    free(o->spare);
    memset(o, 0, sizeof *o);
}

static int push_span(r1_span **v, size_t *n, size_t *cap, size_t start, size_t len, r1_err *err) {
    if (*n == *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 256;
        r1_span *grown = realloc(*v, grown_cap * sizeof *grown);
        if (!grown) return r1_fail(err, "out of memory allocating %zu pre-tokenizer pieces", grown_cap);
        *v = grown;
        *cap = grown_cap;
    }
    (*v)[(*n)++] = (r1_span){start, len};
    return R1_OK;
}

/* Sets o->text to the normalized text (plus the prefix space). */
static int normalize(const r1_pretok *p, const char *text, size_t len, r1_pretok_out *o, size_t *out_len,
                     r1_err *err) {
    uint8_t *nfc = NULL;
    if (p->nfc && len > 0) {
        size_t nfc_len = 0;
        nfc = u8_normalize(UNINORM_NFC, (const uint8_t *)text, len, NULL, &nfc_len);
        if (!nfc) return r1_fail(err, "tokenizer: NFC normalization of %zu bytes failed", len);
        text = (const char *)nfc;
        len = nfc_len;
    }
    int prefix = p->add_prefix_space && len > 0 && text[0] != ' ';
    size_t need = len + (size_t)prefix + 1;
    if (need > o->text_cap) {
        char *grown = realloc(o->text, need);
        if (!grown) {
            free(nfc);
            return r1_fail(err, "out of memory allocating %zu bytes of normalized text", need);
        }
        o->text = grown;
        o->text_cap = need;
    }
    if (prefix) o->text[0] = ' ';
    if (len) memcpy(o->text + prefix, text, len);
    *out_len = len + (size_t)prefix;
    free(nfc);
    return R1_OK;
}

/* Splits piece into o->spare: every match and every gap between matches. */
static int split_piece(const pcre2_code *re, pcre2_match_data *md, pcre2_match_context *mctx, r1_pretok_out *o,
                       r1_span piece, r1_err *err) {
    PCRE2_SPTR subject = (PCRE2_SPTR)(o->text + piece.start);
    size_t n = piece.len, last = 0, from = 0;
    while (from < n) {
        int rc = pcre2_match(re, subject, n, from, PCRE2_NO_UTF_CHECK, md, mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(rc, message, sizeof message);
            return r1_fail(err, "tokenizer: pre-tokenizer regex failed: %s", (const char *)message);
        }
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t match_start = ov[0], match_end = ov[1];
        if (match_end == match_start) { /* an empty match splits nothing: step over one character */
            size_t len = 1;
            uint32_t cp;
            if (match_start < n) r1_utf8_next(subject + match_start, n - match_start, &len, &cp);
            from = match_start + len;
            continue;
        }
        if (match_start > last &&
            push_span(&o->spare, &o->n_pieces, &o->spare_cap, piece.start + last, match_start - last, err) != R1_OK)
            return R1_ERR;
        if (push_span(&o->spare, &o->n_pieces, &o->spare_cap, piece.start + match_start, match_end - match_start,
                      err) != R1_OK)
            return R1_ERR;
        last = from = match_end;
    }
    if (last < n && push_span(&o->spare, &o->n_pieces, &o->spare_cap, piece.start + last, n - last, err) != R1_OK)
        return R1_ERR;
    return R1_OK;
}

int r1_pretok_run(const r1_pretok *p, const char *text, size_t len, r1_pretok_out *o, r1_err *err) {
    size_t n = 0;
    if (normalize(p, text, len, o, &n, err) != R1_OK) return R1_ERR;
    o->n_pieces = 0;
    if (n == 0) return R1_OK;
    if (push_span(&o->pieces, &o->n_pieces, &o->pieces_cap, 0, n, err) != R1_OK) return R1_ERR;
    if (p->n_regex == 0) return R1_OK;

    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    if (!md || !mctx) {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mctx);
        return r1_fail(err, "out of memory allocating PCRE2 match data");
    }
    /* a match is at most one piece long, and every pattern is linear in it: lift the
     * step limit so that megabyte-long runs of spaces or digits are not refused */
    pcre2_set_match_limit(mctx, UINT32_MAX);
    int status = R1_OK;
    for (int r = 0; r < p->n_regex && status == R1_OK; r++) {
        size_t n_in = o->n_pieces;
        o->n_pieces = 0;
        for (size_t i = 0; i < n_in && status == R1_OK; i++)
            status = split_piece(p->regex[r], md, mctx, o, o->pieces[i], err);
        r1_span *swap = o->pieces;
        size_t swap_cap = o->pieces_cap;
        o->pieces = o->spare;
        o->pieces_cap = o->spare_cap;
        o->spare = swap;
        o->spare_cap = swap_cap;
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    return status;
}
