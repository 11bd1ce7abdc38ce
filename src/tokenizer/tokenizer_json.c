/* Loading a Hugging Face tokenizer.json (+ tokenizer_config.json beside it).
 *
 * Read: model (type BPE: vocab, merges as "a b" strings or ["a", "b"] pairs,
 * ignore_merges), added_tokens (id, content, special, lstrip, rstrip), normalizer
 * and pre_tokenizer (see pretokenize.h). From tokenizer_config.json: bos_token,
 * eos_token, pad_token (a string or an object with "content") and add_bos_token. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tokenizer/tokenizer_impl.h"

#define MAX_VOCAB (1 << 24)

static int load_json_file(const char *path, json_t **out, r1_err *err) {
    /* read whole, then parse from memory: Jansson's file reader goes byte by byte */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return r1_fail(err, "tokenizer: %s is a directory", path);
    FILE *f = fopen(path, "rb");
    if (!f) return r1_fail(err, "tokenizer: cannot open %s: %s", path, strerror(errno));
    char *buf = NULL;
    errno = 0;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = r1_malloc(err, (size_t)size + 1, path)) &&
        fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return r1_fail(err, "tokenizer: cannot read %s%s%s", path, errno ? ": " : "", errno ? strerror(errno) : "");
    json_error_t jerr;
    json_t *root = json_loadb(buf, (size_t)size, 0, &jerr);
    free(buf);
    if (!root) return r1_fail(err, "tokenizer: %s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return r1_fail(err, "tokenizer: %s: not a JSON object", path);
    }
    *out = root;
    return R1_OK;
}

/* One id's token while the vocabulary is gathered. */
typedef struct {
    const char *text;
    size_t len;
    int kind;
    int strip;
} json_token;

static int get_id(const json_t *value, const char *path, const char *where, int *id, r1_err *err) {
    if (!json_is_integer(value) || json_integer_value(value) < 0 || json_integer_value(value) >= MAX_VOCAB)
        return r1_fail(err, "tokenizer: %s: %s: id is not an integer from 0 to %d", path, where, MAX_VOCAB - 1);
    *id = (int)json_integer_value(value);
    return R1_OK;
}

/* Fills tokens (n_vocab entries) from model.vocab and added_tokens. */
static int gather_tokens(const json_t *vocab, const json_t *added, const char *path, json_token **out,
                         int *n_vocab, r1_err *err) {
    int max_id = -1, id;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)vocab, key, value) {
        if (get_id(value, path, "model.vocab", &id, err) != R1_OK) return R1_ERR;
        if (id > max_id) max_id = id;
    }
    for (size_t i = 0; i < json_array_size(added); i++) {
        if (get_id(json_object_get(json_array_get(added, i), "id"), path, "added_tokens", &id, err) != R1_OK)
            return R1_ERR;
        if (id > max_id) max_id = id;
    }
    if (max_id < 0) return r1_fail(err, "tokenizer: %s: the vocabulary is empty", path);
    json_token *tokens = r1_calloc(err, (size_t)max_id + 1, sizeof *tokens, "tokenizer.json vocabulary");
    if (!tokens) return R1_ERR;
    json_object_foreach((json_t *)vocab, key, value) {
        id = (int)json_integer_value(value);
        if (tokens[id].text) {
            r1_fail(err, "tokenizer: %s: model.vocab: id %d is used by '%.40s' and '%.40s'", path, id,
                    tokens[id].text, key);
            free(tokens);
            return R1_ERR;
        }
        tokens[id] = (json_token){key, strlen(key), TOK_NORMAL, 0};
    }
    for (size_t i = 0; i < json_array_size(added); i++) {
        const json_t *a = json_array_get(added, i);
        const json_t *content = json_object_get(a, "content");
        id = (int)json_integer_value(json_object_get(a, "id"));
        if (!json_is_string(content) || json_is_true(json_object_get(a, "single_word"))) {
            r1_fail(err, "tokenizer: %s: added_tokens[%zu] (id %d): %s", path, i, id,
                    json_is_string(content) ? "single_word is not supported" : "no \"content\" string");
            free(tokens);
            return R1_ERR;
        }
        int strip = (json_is_true(json_object_get(a, "lstrip")) ? STRIP_LEFT : 0) |
                    (json_is_true(json_object_get(a, "rstrip")) ? STRIP_RIGHT : 0);
        int kind = json_is_true(json_object_get(a, "special")) ? TOK_SPECIAL : TOK_USER;
        tokens[id] = (json_token){json_string_value(content), json_string_length(content), kind, strip};
    }
    *out = tokens;
    *n_vocab = max_id + 1;
    return R1_OK;
}

static int load_merges(r1_tokenizer *t, const json_t *merges, const char *path, r1_err *err) {
    for (size_t i = 0; i < json_array_size(merges); i++) {
        const json_t *m = json_array_get(merges, i);
        const char *left, *right;
        size_t left_len, right_len;
        if (json_is_string(m)) { /* "a b": split at the first space after the first byte */
            const char *s = json_string_value(m);
            size_t len = json_string_length(m), space = 1;
            while (space < len && s[space] != ' ') space++;
            if (space >= len) return r1_fail(err, "tokenizer: %s: model.merges[%zu] ('%.40s') has no space", path, i, s);
            left = s, left_len = space, right = s + space + 1, right_len = len - space - 1;
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            left = json_string_value(json_array_get(m, 0)), left_len = json_string_length(json_array_get(m, 0));
            right = json_string_value(json_array_get(m, 1)), right_len = json_string_length(json_array_get(m, 1));
        } else {
            return r1_fail(err, "tokenizer: %s: model.merges[%zu] is neither \"a b\" nor [\"a\", \"b\"]", path, i);
        }
        if (tok_add_merge(t, left, left_len, right, right_len, (uint32_t)i, err) < 0) return R1_ERR;
    }
    return R1_OK;
}

/* The text of a config token: "text", {"content": "text"} or null (NULL). */
static const char *config_token_text(const json_t *config, const char *key) {
    const json_t *v = json_object_get(config, key);
    if (json_is_object(v)) v = json_object_get(v, "content");
    return json_string_value(v);
}

static int read_config(r1_tokenizer *t, const char *json_path, r1_err *err) {
    char path[4096];
    const char *slash = strrchr(json_path, '/');
    int dir_len = slash ? (int)(slash - json_path) : 0;
    snprintf(path, sizeof path, "%.*s%stokenizer_config.json", dir_len, json_path, slash ? "/" : "");
    FILE *f = fopen(path, "rb");
    if (!f) return R1_OK; /* optional */
    fclose(f);
    json_t *config;
    if (load_json_file(path, &config, err) != R1_OK) return R1_ERR;
    static const char *keys[3] = {"bos_token", "eos_token", "pad_token"};
    int *ids[3] = {&t->bos, &t->eos, &t->pad};
    int status = R1_OK;
    for (int k = 0; k < 3 && status == R1_OK; k++) {
        const char *text = config_token_text(config, keys[k]);
        if (!text) continue;
        *ids[k] = r1_token_lookup(t, text);
        if (*ids[k] < 0) status = r1_fail(err, "tokenizer: %s: %s '%.60s' is not a token", path, keys[k], text);
    }
    t->wants_bos = json_is_true(json_object_get(config, "add_bos_token"));
    json_decref(config);
    return status;
}

static int check_model(const json_t *model, const char *path, r1_err *err) {
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!json_is_object(model) || (type && strcmp(type, "BPE") != 0))
        return r1_fail(err, "tokenizer: %s: model type '%.40s' is not supported (r1 reads BPE)", path,
                       type ? type : "(none)");
    if (!json_is_object(json_object_get(model, "vocab")) || !json_is_array(json_object_get(model, "merges")))
        return r1_fail(err, "tokenizer: %s: model has no \"vocab\" object or no \"merges\" array", path);
    static const char *affixes[2] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const char *affix = json_string_value(json_object_get(model, affixes[i]));
        if (affix && *affix) return r1_fail(err, "tokenizer: %s: model.%s is not supported", path, affixes[i]);
    }
    if (json_is_true(json_object_get(model, "byte_fallback")))
        return r1_fail(err, "tokenizer: %s: model.byte_fallback is not supported (not a byte-level BPE)", path);
    return R1_OK;
}

int r1_tokenizer_load_json(r1_tokenizer **out, const char *path, r1_err *err) {
    json_t *root;
    if (load_json_file(path, &root, err) != R1_OK) return R1_ERR;
    const json_t *model = json_object_get(root, "model"), *added = json_object_get(root, "added_tokens");
    json_token *tokens = NULL;
    r1_tokenizer *t = NULL;
    int n_vocab = 0;
    if (check_model(model, path, err) != R1_OK) goto fail;
    if (added && !json_is_array(added) && !json_is_null(added)) {
        r1_fail(err, "tokenizer: %s: added_tokens is not an array", path);
        goto fail;
    }
    const json_t *merges = json_object_get(model, "merges");
    if (gather_tokens(json_object_get(model, "vocab"), added, path, &tokens, &n_vocab, err) != R1_OK) goto fail;
    size_t text_bytes = 0;
    for (int id = 0; id < n_vocab; id++) text_bytes += tokens[id].len;
    if (tok_create(&t, n_vocab, text_bytes, err) != R1_OK) goto fail;
    for (int id = 0; id < n_vocab; id++) {
        if (!tokens[id].text) continue;
        if (tok_append(t, id, tokens[id].text, tokens[id].len, tokens[id].kind, err) != R1_OK) goto fail;
        t->strip[id] = (uint8_t)tokens[id].strip;
    }
    if (tok_finish_vocab(t, json_array_size(merges), err) != R1_OK || load_merges(t, merges, path, err) != R1_OK)
        goto fail;
    if (r1_pretok_from_json(&t->pretok, json_object_get(root, "normalizer"), json_object_get(root, "pre_tokenizer"),
                            err) != R1_OK) {
        r1_err inner = *err;
        r1_fail(err, "tokenizer: %s: %s", path, inner.msg);
        goto fail;
    }
    if (!r1_pretok_byte_level(t->pretok)) {
        r1_fail(err, "tokenizer: %s: not a byte-level BPE (the pre_tokenizer has no ByteLevel step)", path);
        goto fail;
    }
    r1_bpe_set_ignore_merges(t->bpe, json_is_true(json_object_get(model, "ignore_merges")));
    if (read_config(t, path, err) != R1_OK) goto fail;
    free(tokens);
    json_decref(root);
    *out = t;
    return R1_OK;
fail:
    free(tokens);
    r1_tokenizer_free(t);
    json_decref(root);
    return R1_ERR;
}
