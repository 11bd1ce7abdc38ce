/* The task interface shared by Countdown and arithmetic: names, splits, prompts,
 * the JSON-line reader for `r1 eval --file`, the completion format and the reward.
 * The rules themselves are documented in task.h. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "train/task.h"

static const char *const task_names[R1_TASK_KIND_COUNT] = {"countdown", "arithmetic"};

const char *r1_task_name(r1_task_kind kind) {
    return (unsigned)kind < R1_TASK_KIND_COUNT ? task_names[kind] : "unknown";
}

int r1_task_kind_by_name(const char *name, r1_task_kind *out, r1_err *err) {
    for (int k = 0; k < R1_TASK_KIND_COUNT; k++)
        if (name && strcmp(name, task_names[k]) == 0) {
            *out = (r1_task_kind)k;
            return R1_OK;
        }
    return r1_fail(err, "unknown task '%s' (expected countdown or arithmetic)", name ? name : "(null)");
}

int r1_task_generate(r1_task_kind kind, r1_task_split split, uint64_t index, uint64_t seed, r1_problem *out) {
    if (split != R1_SPLIT_TRAIN && split != R1_SPLIT_TEST) return R1_ERR;
    if (kind == R1_TASK_COUNTDOWN) return r1_countdown_generate(split, index, seed, out);
    if (kind == R1_TASK_ARITHMETIC) return r1_arithmetic_generate(split, index, seed, out);
    return R1_ERR;
}

/* ---- splits ---- */

/* A fixed salt rather than the seed: the split must not move when the seed does. */
#define SPLIT_SALT 0x5eed5b1175ull

r1_task_split r1_task_split_of(const r1_problem *p) {
    uint64_t h = r1_task_mix64(SPLIT_SALT ^ (uint64_t)p->kind);
    if (p->kind == R1_TASK_COUNTDOWN) {
        int sorted[R1_COUNTDOWN_MAX_NUMBERS];
        int n = p->n_numbers < 0 ? 0 : p->n_numbers > R1_COUNTDOWN_MAX_NUMBERS ? R1_COUNTDOWN_MAX_NUMBERS : p->n_numbers;
        for (int i = 0; i < n; i++) {
            int v = p->numbers[i], k = i;
            for (; k > 0 && sorted[k - 1] > v; k--) sorted[k] = sorted[k - 1];
            sorted[k] = v;
        }
        for (int i = 0; i < n; i++) h = r1_task_mix64(h ^ (uint64_t)sorted[i]);
    } else {
        int64_t a = p->lhs, b = p->rhs;
        if (p->op != '-' && a > b) a = p->rhs, b = p->lhs; /* a + b and b + a are one problem */
        h = r1_task_mix64(h ^ (uint64_t)(unsigned char)p->op);
        h = r1_task_mix64(h ^ (uint64_t)a);
        h = r1_task_mix64(h ^ (uint64_t)b);
    }
    return h % R1_TASK_TEST_ONE_IN == 0 ? R1_SPLIT_TEST : R1_SPLIT_TRAIN;
}

/* ---- prompts (DESIGN §6, exact) ---- */

int r1_task_prompt(const r1_problem *p, char *buf, size_t size) {
    int n;
    if (p->kind == R1_TASK_COUNTDOWN) {
        if (p->n_numbers < 1 || p->n_numbers > R1_COUNTDOWN_MAX_NUMBERS) return R1_ERR;
        char list[64] = "";
        size_t used = 0;
        for (int i = 0; i < p->n_numbers; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%d", i ? ", " : "", p->numbers[i]);
        n = snprintf(buf, size, "Using the numbers %s, make %d.", list, p->target);
    } else if (p->kind == R1_TASK_ARITHMETIC) {
        if (p->op2)
            n = snprintf(buf, size, "What is %lld %c %lld %c %lld?", (long long)p->lhs, p->op, (long long)p->rhs,
                         p->op2, (long long)p->third);
        else
            n = snprintf(buf, size, "What is %lld %c %lld?", (long long)p->lhs, p->op, (long long)p->rhs);
    } else {
        return R1_ERR;
    }
    return n < 0 || (size_t)n >= size ? R1_ERR : n;
}

/* ---- JSON lines ---- */

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int parse_countdown(const json_t *obj, r1_problem *p, r1_err *err) {
    const json_t *numbers = json_object_get(obj, "numbers"), *target = json_object_get(obj, "target");
    if (!target) return r1_fail(err, "countdown: missing field \"target\"");
    if (!json_is_array(numbers)) return r1_fail(err, "countdown: \"numbers\" must be an array, got %s", json_kind(numbers));
    size_t count = json_array_size(numbers);
    if (count < 3 || count > R1_COUNTDOWN_MAX_NUMBERS)
        return r1_fail(err, "countdown: \"numbers\" holds %zu, expected 3 or 4", count);
    p->kind = R1_TASK_COUNTDOWN;
    p->n_numbers = (int)count;
    for (size_t i = 0; i < count; i++) {
        const json_t *v = json_array_get(numbers, i);
        if (!json_is_integer(v)) return r1_fail(err, "countdown: \"numbers\"[%zu] must be an integer, got %s", i, json_kind(v));
        json_int_t n = json_integer_value(v);
        if (n < 1 || n > 99) return r1_fail(err, "countdown: \"numbers\"[%zu] = %lld is out of range 1..99", i, (long long)n);
        p->numbers[i] = (int)n;
    }
    if (!json_is_integer(target)) return r1_fail(err, "countdown: \"target\" must be an integer, got %s", json_kind(target));
    json_int_t t = json_integer_value(target);
    if (t < 1 || t > 100) return r1_fail(err, "countdown: \"target\" = %lld is out of range 1..100", (long long)t);
    p->target = (int)t;
    if (!r1_countdown_solve(p->numbers, p->n_numbers, p->target, 0, NULL, 0))
        return r1_fail(err, "countdown: \"target\" %d cannot be made from the numbers", p->target);
    return R1_OK;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* An integer 0..R1_ARITHMETIC_MAX_OPERAND at *s (at most 9 digits), skipping spaces
 * before it. */
static const char *read_operand(const char *s, int64_t *out) {
    while (*s == ' ') s++;
    int digits = 0;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (digits == 9) return NULL;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return digits ? s : NULL;
}

static int parse_question(const char *q, r1_problem *p) {
    static const char prefix[] = "What is ";
    if (strncmp(q, prefix, sizeof prefix - 1) != 0) return 0;
    const char *s = read_operand(q + sizeof prefix - 1, &p->lhs);
    if (!s) return 0;
    while (*s == ' ') s++;
    if (*s == '+' || *s == '-' || *s == '*') p->op = *s++;
    else if (strncmp(s, "\xc3\x97", 2) == 0) p->op = '*', s += 2;
    else return 0;
    s = read_operand(s, &p->rhs);
    if (!s) return 0;
    while (*s == ' ') s++;
    if (*s == '+' || *s == '-') { /* a chain: + and - only, so left to right is the rule */
        p->op2 = *s++;
        s = read_operand(s, &p->third);
        if (!s) return 0;
        while (*s == ' ') s++;
    }
    return strcmp(s, "?") == 0;
}

static int parse_arithmetic(const json_t *obj, r1_problem *p, r1_err *err) {
    const json_t *question = json_object_get(obj, "question"), *answer = json_object_get(obj, "answer");
    if (!answer) return r1_fail(err, "arithmetic: missing field \"answer\"");
    if (!json_is_string(question)) return r1_fail(err, "arithmetic: \"question\" must be a string, got %s", json_kind(question));
    p->kind = R1_TASK_ARITHMETIC;
    if (!parse_question(json_string_value(question), p))
        return r1_fail(err, "arithmetic: \"question\" is not of the form \"What is A * B?\" or \"What is A * B + C?\" "
                            "(A, B, C: integers 0..%d; operator + - * or ×, then + or -)", R1_ARITHMETIC_MAX_OPERAND);
    r1_arithmetic_set_answer(p);
    /* the whole string is checked: a copy cut to a buffer's size could drop a tail of
     * junk after the right value, or keep only the spaces before it */
    char number[24];
    const char *given = number;
    size_t given_len;
    if (json_is_integer(answer))
        given_len = (size_t)snprintf(number, sizeof number, "%lld", (long long)json_integer_value(answer));
    else if (json_is_string(answer)) given = json_string_value(answer), given_len = json_string_length(answer);
    else return r1_fail(err, "arithmetic: \"answer\" must be a string or an integer, got %s", json_kind(answer));
    if (!r1_arithmetic_check(p, given, given_len)) {
        int shown = given_len > 40 ? 40 : (int)given_len;
        return r1_fail(err, "arithmetic: \"answer\" \"%.*s%s\" is not the value of the question, %s", shown, given,
                       given_len > 40 ? "..." : "", p->answer);
    }
    return R1_OK;
}

int r1_jsonl_line_check(const char *line, size_t len, r1_err *err) {
    const char *nul = memchr(line, '\0', len);
    return nul ? r1_fail(err, "a NUL byte at column %ld", (long)(nul - line) + 1) : R1_OK;
}

int r1_task_parse_json_line(const char *line, r1_problem *out, r1_err *err) {
    json_error_t jerr;
    json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj && json_error_code(&jerr) == json_error_null_character) /* jansson names its flag */
        return r1_fail(err, "a \\u0000 (NUL) in a string, at column %d", jerr.column);
    if (!obj) return r1_fail(err, "not valid JSON: %s (column %d)", jerr.text, jerr.column);
    int rc;
    r1_problem p;
    memset(&p, 0, sizeof p);
    int countdown = json_object_get(obj, "numbers") != NULL, arithmetic = json_object_get(obj, "question") != NULL;
    if (!json_is_object(obj)) rc = r1_fail(err, "expected a JSON object, got %s", json_kind(obj));
    else if (countdown && arithmetic) rc = r1_fail(err, "has both \"numbers\" (countdown) and \"question\" (arithmetic)");
    else if (countdown) rc = parse_countdown(obj, &p, err);
    else if (arithmetic) rc = parse_arithmetic(obj, &p, err);
    else rc = r1_fail(err, "missing field \"numbers\" (countdown) or \"question\" (arithmetic)");
    json_decref(obj);
    if (rc == R1_OK) *out = p;
    return rc;
}

/* A countdown prompt, exactly as r1_task_prompt writes it: the numbers and the
 * target are read, then the prompt is written back and must match. */
static int parse_countdown_prompt(const char *text, r1_problem *p) {
    static const char prefix[] = "Using the numbers ";
    if (strncmp(text, prefix, sizeof prefix - 1) != 0) return 0;
    const char *s = text + sizeof prefix - 1;
    int64_t value;
    p->kind = R1_TASK_COUNTDOWN;
    for (;;) {
        if (!(s = read_operand(s, &value)) || value < 1 || value > 99) return 0;
        if (p->n_numbers == R1_COUNTDOWN_MAX_NUMBERS) return 0;
        p->numbers[p->n_numbers++] = (int)value;
        if (strncmp(s, ", make ", 7) == 0) break;
        if (strncmp(s, ", ", 2) != 0) return 0;
        s += 2;
    }
    if (p->n_numbers < 3 || !(s = read_operand(s + 7, &value)) || value < 1 || value > 100) return 0;
    p->target = (int)value;
    char canonical[128];
    return r1_task_prompt(p, canonical, sizeof canonical) > 0 && strcmp(canonical, text) == 0;
}

int r1_task_parse_prompt(const char *text, r1_problem *out) {
    while (is_space(*text)) text++;
    size_t len = strlen(text);
    while (len > 0 && is_space(text[len - 1])) len--;
    char trimmed[128]; /* longer than any task prompt */
    if (len >= sizeof trimmed) return 0;
    memcpy(trimmed, text, len);
    trimmed[len] = 0;
    r1_problem p;
    memset(&p, 0, sizeof p);
    if (parse_question(trimmed, &p)) {
        p.kind = R1_TASK_ARITHMETIC;
        r1_arithmetic_set_answer(&p);
    } else {
        memset(&p, 0, sizeof p);
        if (!parse_countdown_prompt(trimmed, &p)) return 0;
    }
    *out = p;
    return 1;
}

/* ---- the completion format and the reward ---- */

static const char *const tags[] = {"<think>", "</think>", "<answer>", "</answer>"};

static const char *skip_space(const char *s) {
    while (is_space(*s)) s++;
    return s;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* 1 when [s, s+len) holds none of the four tags. */
static int tag_free(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] == '<')
            for (int t = 0; t < 4; t++)
                if (len - i >= strlen(tags[t]) && starts_with(s + i, tags[t])) return 0;
    return 1;
}

int r1_task_parse_completion(const char *completion, r1_completion *parts) {
    const char *think = skip_space(completion);
    if (starts_with(think, "<think>")) think += strlen("<think>");
    else think = completion;
    const char *think_end = strstr(think, "</think>");
    if (!think_end || !tag_free(think, (size_t)(think_end - think))) return 0;
    const char *answer = skip_space(think_end + strlen("</think>"));
    if (!starts_with(answer, "<answer>")) return 0;
    answer += strlen("<answer>");
    const char *answer_end = strstr(answer, "</answer>");
    if (!answer_end || !tag_free(answer, (size_t)(answer_end - answer))) return 0;
    if (*skip_space(answer_end + strlen("</answer>")) != '\0') return 0;
    parts->think = think;
    parts->think_len = (size_t)(think_end - think);
    parts->answer = answer;
    parts->answer_len = (size_t)(answer_end - answer);
    return 1;
}

float r1_reward_value(const r1_reward *r, float format_reward) {
    return r->correct ? R1_REWARD_CORRECT : r->well_formed ? format_reward : 0.0f;
}

float r1_task_reward(const r1_problem *p, const char *completion, r1_reward *out) {
    r1_reward r;
    memset(&r, 0, sizeof r);
    r1_completion parts;
    if (completion && r1_task_parse_completion(completion, &parts)) {
        r.well_formed = 1;
        const char *a = parts.answer;
        size_t len = parts.answer_len;
        while (len > 0 && is_space(*a)) a++, len--;
        while (len > 0 && is_space(a[len - 1])) len--;
        snprintf(r.answer, sizeof r.answer, "%.*s", (int)(len < R1_TASK_ANSWER_MAX ? len : R1_TASK_ANSWER_MAX), a);
        if (p->kind == R1_TASK_COUNTDOWN) r.correct = r1_countdown_check(p, a, len);
        else if (p->kind == R1_TASK_ARITHMETIC) r.correct = r1_arithmetic_check(p, a, len);
    }
    r.reward = r1_reward_value(&r, R1_REWARD_FORMAT);
    if (out) *out = r;
    return r.reward;
}
