/* Chat templates: a conversation (system, user and assistant messages) turned into
 * the one prompt string a model was trained on, written in C for the families r1
 * runs instead of interpreting the Jinja text found in the model file.
 *
 * The output keeps special tokens as their text (`<｜begin▁of▁sentence｜>`,
 * `<｜User｜>`, `<｜Assistant｜>`, `<｜end▁of▁sentence｜>`): the tokenizer maps them to
 * ids. The BOS text is part of the output, as the official templates print
 * `{{bos_token}}`, so the prompt must be tokenized without adding another BOS.
 *
 * Templates (names as given to `--template`):
 *   deepseek-r1       DeepSeek-R1 (671B). System prompts joined with "\n\n" right
 *                     after BOS; earlier assistant turns keep only the text after
 *                     their last `</think>`; the generation prompt is
 *                     `<｜Assistant｜><think>\n`, so the model starts inside thinking.
 *   deepseek-v3       DeepSeek-V3 (and V3-0324). As R1 but assistant turns are kept
 *                     whole and the generation prompt is `<｜Assistant｜>`.
 *   r1-distill-qwen   DeepSeek-R1-Distill-Qwen 1.5B/7B/14B/32B, and
 *   r1-distill-llama  DeepSeek-R1-Distill-Llama 8B/70B: the two ship the same
 *                     template. As R1, except that only the last system message is
 *                     kept. Both names exist so the choice follows the model file.
 *   raw               no template: the contents concatenated in order, no markers,
 *                     no BOS, and no generation prompt.
 * The sources each one was written from are cited in chat.c and tests/test_chat.c.
 *
 * Content bytes are copied as they are: invalid UTF-8 passes through unchanged
 * (the tokenizer deals with it), and a content is a C string, so it cannot hold a
 * NUL byte. */
#ifndef R1_CHAT_H
#define R1_CHAT_H

#include <stddef.h>

#include "base/error.h"
#include "gguf/gguf.h"

typedef enum {
    R1_CHAT_DEEPSEEK_R1,
    R1_CHAT_DEEPSEEK_V3,
    R1_CHAT_R1_DISTILL_QWEN,
    R1_CHAT_R1_DISTILL_LLAMA,
    R1_CHAT_RAW,
    R1_CHAT_TEMPLATE_COUNT
} r1_chat_template;

/* role: "system", "user" or "assistant"; content: NUL-terminated bytes. */
typedef struct {
    const char *role;
    const char *content;
} r1_chat_message;

/* "deepseek-r1", ...; "unknown" for an id out of range. */
const char *r1_chat_template_name(r1_chat_template t);

/* Looks a template up by its name; the error lists the valid names. */
int r1_chat_template_by_name(const char *name, r1_chat_template *out, r1_err *err);

/* Chooses the template for a model file:
 *  1. from `tokenizer.chat_template` when the file has one (see chat.c for the
 *     substrings that identify each family); a text that matches none gives `raw`,
 *     since the model then expects some other format;
 *  2. without a template text, from `general.architecture`: deepseek2 gives
 *     deepseek-r1 when `general.name` names R1 and deepseek-v3 otherwise, qwen2
 *     gives r1-distill-qwen, llama gives r1-distill-llama;
 *  3. otherwise `raw`.
 * Fails only when one of those keys holds something other than a string. */
int r1_chat_template_detect(const r1_gguf *g, r1_chat_template *out, r1_err *err);

/* Renders msgs into a malloc'd NUL-terminated string (*out, *out_len bytes without
 * the NUL; the caller frees it). add_generation_prompt appends the opening of the
 * assistant turn the model is to write. Messages with another role, or a NULL role
 * or content, are refused with an error naming the message. No messages and no
 * generation prompt give the empty string. */
int r1_chat_render(r1_chat_template t, const r1_chat_message *msgs, int n_msgs, int add_generation_prompt,
                   char **out, size_t *out_len, r1_err *err);

/* 1 when the generation prompt ends inside an open `<think>` block, so the first
 * generated tokens are reasoning, not answer. */
int r1_chat_template_starts_thinking(r1_chat_template t);

#endif
