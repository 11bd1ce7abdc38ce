/* Pretraining batches: search traces tokenized and packed into B×T (see data.h). */
#include "train/data.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer/chat.h"
#include "train/vocab.h"

enum {
    TRACE_MAX = 8192,       /* traces are a few hundred bytes; r1_trace_write fails on more */
    MAX_LONG_IN_A_ROW = 64, /* examples longer than T drawn in a row before giving up */
    STREAM_DATA = 0xDA7A,   /* the data's stream id in r1_task_rng_for */
};

static const char eos_text[] = "<｜end▁of▁sentence｜>";

r1_data_config r1_data_default_config(void) {
    return (r1_data_config){.seed = 1, .countdown_share = 0.5, .prompt_loss = 1, .trace = r1_trace_default_config()};
}

static int alloc_batch(r1_data *d, const r1_data_config *cfg, int B, int T, r1_err *err) {
    memset(d, 0, sizeof *d);
    if (B < 1 || T < 2 || (size_t)B * (size_t)T > (1u << 24))
        return r1_fail(err, "data: batch %d × seq %d is not a usable batch shape", B, T);
    d->cfg = *cfg;
    d->B = B;
    d->T = T;
    d->tokens = r1_calloc(err, (size_t)B * T, sizeof *d->tokens, "batch tokens");
    d->targets = r1_calloc(err, (size_t)B * T, sizeof *d->targets, "batch targets");
    d->doc_start = r1_calloc(err, (size_t)B * T, sizeof *d->doc_start, "batch document starts");
    if (!d->tokens || !d->targets || !d->doc_start) {
        r1_data_free(d);
        return R1_ERR;
    }
    return R1_OK;
}

int r1_data_init(r1_data *d, const r1_tokenizer *tok, const r1_data_config *cfg, int B, int T, r1_err *err) {
    if (!(cfg->countdown_share >= 0 && cfg->countdown_share <= 1))
        return memset(d, 0, sizeof *d), r1_fail(err, "data: countdown_share %g is outside 0..1", cfg->countdown_share);
    if (!(cfg->chain_share >= 0 && cfg->chain_share <= 1))
        return memset(d, 0, sizeof *d), r1_fail(err, "data: chain_share %g is outside 0..1", cfg->chain_share);
    if (!(cfg->small_share >= 0 && cfg->small_share <= 1))
        return memset(d, 0, sizeof *d), r1_fail(err, "data: small_share %g is outside 0..1", cfg->small_share);
    if (!(cfg->small_countdown_share >= 0 && cfg->small_countdown_share <= 1))
        return memset(d, 0, sizeof *d),
               r1_fail(err, "data: small_countdown_share %g is outside 0..1", cfg->small_countdown_share);
    if (!(cfg->all_small_countdown_share >= 0 && cfg->all_small_countdown_share <= 1))
        return memset(d, 0, sizeof *d),
               r1_fail(err, "data: all_small_countdown_share %g is outside 0..1", cfg->all_small_countdown_share);
    if (alloc_batch(d, cfg, B, T, err) != R1_OK) return R1_ERR;
    d->tok = tok;
    return R1_OK;
}

int r1_data_init_examples(r1_data *d, const r1_examples *examples, const r1_data_config *cfg, int B, int T,
                          r1_err *err) {
    if (examples->n == 0) return memset(d, 0, sizeof *d), r1_fail(err, "data: no examples to train on");
    if (alloc_batch(d, cfg, B, T, err) != R1_OK) return R1_ERR;
    d->examples = examples;
    return R1_OK;
}

void r1_data_free(r1_data *d) {
    free(d->tokens);
    free(d->targets);
    free(d->doc_start);
    free(d->drawn);
    memset(d, 0, sizeof *d);
}

int r1_data_render_example(const char *prompt, const char *completion, size_t completion_len, char **text,
                           size_t *len, size_t *prompt_len, r1_err *err) {
    *text = NULL;
    char *chat = NULL;
    size_t chat_len = 0;
    r1_chat_message user = {"user", prompt};
    if (r1_chat_render(R1_CHAT_DEEPSEEK_R1, &user, 1, 1, &chat, &chat_len, err) != R1_OK) return R1_ERR;
    char *out = r1_malloc(err, chat_len + completion_len + sizeof eos_text, "training text");
    if (!out) {
        free(chat);
        return R1_ERR;
    }
    memcpy(out, chat, chat_len);
    free(chat);
    memcpy(out + chat_len, completion, completion_len);
    memcpy(out + chat_len + completion_len, eos_text, sizeof eos_text);
    *text = out;
    *len = chat_len + completion_len + sizeof eos_text - 1;
    *prompt_len = chat_len;
    return R1_OK;
}

int r1_data_example_text(const r1_problem *p, uint64_t trace_seed, const r1_trace_config *trace, char **text,
                         size_t *len, size_t *prompt_len, r1_err *err) {
    *text = NULL;
    char prompt[256];
    if (r1_task_prompt(p, prompt, sizeof prompt) < 0) return r1_fail(err, "data: a task prompt is over 255 bytes");
    char *trace_text = r1_malloc(err, TRACE_MAX, "trace");
    if (!trace_text) return R1_ERR;
    int trace_len = r1_trace_write(p, trace_seed, trace, trace_text, TRACE_MAX, NULL, err);
    int rc = trace_len < 0 ? trace_len
                           : r1_data_render_example(prompt, trace_text, (size_t)trace_len, text, len, prompt_len, err);
    free(trace_text);
    return rc;
}

/* The prompt and the rest are tokenized apart, which gives the same ids as the
 * whole text because the vocabulary has no merges (a token never spans the
 * `<think>\n` boundary). */
int r1_data_tokenize_example(const r1_tokenizer *tok, const char *text, size_t len, size_t prompt_len, int **ids,
                             int *n, int *n_prompt, r1_err *err) {
    int *prompt_ids = NULL, *rest_ids = NULL, n_p = 0, n_r = 0, rc = R1_ERR;
    *ids = NULL;
    if (r1_tokenize(tok, text, prompt_len, 0, 1, &prompt_ids, &n_p, err) != R1_OK ||
        r1_tokenize(tok, text + prompt_len, len - prompt_len, 0, 1, &rest_ids, &n_r, err) != R1_OK)
        goto done;
    *ids = r1_malloc(err, ((size_t)n_p + n_r) * sizeof **ids, "example tokens");
    if (!*ids) goto done;
    memcpy(*ids, prompt_ids, (size_t)n_p * sizeof **ids);
    memcpy(*ids + n_p, rest_ids, (size_t)n_r * sizeof **ids);
    *n = n_p + n_r;
    *n_prompt = n_p;
    rc = R1_OK;
done:
    free(prompt_ids);
    free(rest_ids);
    return rc;
}

/* ---- examples in memory ---- */

int r1_examples_add(r1_examples *e, const int *ids, int n, int n_prompt, r1_err *err) {
    if (n < 1 || n_prompt < 0 || n_prompt > n)
        return r1_fail(err, "data: an example of %d tokens, %d of them prompt", n, n_prompt);
    if (e->n >= UINT32_MAX) return r1_fail(err, "data: more than %u examples", UINT32_MAX);
    if (e->n + 1 >= e->cap_examples) {
        size_t cap = e->cap_examples ? 2 * e->cap_examples : 64;
        size_t *offset = realloc(e->offset, cap * sizeof *offset);
        if (offset) e->offset = offset;
        int *n_prompt_grown = realloc(e->n_prompt, cap * sizeof *n_prompt_grown);
        if (n_prompt_grown) e->n_prompt = n_prompt_grown;
        if (!offset || !n_prompt_grown) return r1_fail(err, "data: out of memory for %zu examples", cap);
        e->cap_examples = cap;
        if (e->n == 0) e->offset[0] = 0;
    }
    size_t used = e->offset[e->n];
    if (used + (size_t)n > e->cap_ids) {
        size_t cap = e->cap_ids ? 2 * e->cap_ids : 4096;
        while (used + (size_t)n > cap) cap *= 2;
        int *grown = realloc(e->ids, cap * sizeof *grown);
        if (!grown) return r1_fail(err, "data: out of memory for %zu example tokens", cap);
        e->ids = grown;
        e->cap_ids = cap;
    }
    memcpy(e->ids + used, ids, (size_t)n * sizeof *ids);
    e->n_prompt[e->n] = n_prompt;
    e->offset[++e->n] = used + (size_t)n;
    return R1_OK;
}

void r1_examples_free(r1_examples *e) {
    free(e->ids);
    free(e->offset);
    free(e->n_prompt);
    memset(e, 0, sizeof *e);
}

/* ---- drawing and packing ---- */

/* One example drawn from rng: *ids (n tokens, n_prompt of them the prompt) stays
 * valid until the next draw. */
static int draw_example(r1_data *d, r1_task_rng *rng, const int **ids, int *n, int *n_prompt, r1_err *err) {
    if (d->examples) {
        const r1_examples *e = d->examples;
        size_t i = r1_task_rng_below(rng, (uint32_t)e->n);
        *ids = e->ids + e->offset[i];
        *n = (int)(e->offset[i + 1] - e->offset[i]);
        *n_prompt = e->n_prompt[i];
        return R1_OK;
    }
    /* a Countdown problem its trace cannot narrate (R1_TRACE_UNTOLD) is replaced
     * by the next draw */
    char *text;
    size_t len, prompt_len;
    int rc = R1_TRACE_UNTOLD;
    for (int attempt = 0; rc == R1_TRACE_UNTOLD; attempt++) {
        if (attempt == 64) return r1_fail(err, "data: 64 problems in a row have no trace");
        r1_task_kind kind = r1_task_rng_unit(rng) < d->cfg.countdown_share ? R1_TASK_COUNTDOWN : R1_TASK_ARITHMETIC;
        uint64_t index = r1_task_rng_next(rng), trace_seed = r1_task_rng_next(rng);
        r1_problem p;
        if (r1_task_generate(kind, R1_SPLIT_TRAIN, index, d->cfg.seed, &p) != R1_OK)
            return r1_fail(err, "data: %s problem %llu could not be generated", r1_task_name(kind),
                           (unsigned long long)index);
        /* one-digit operands and chains each draw from a stream of their own, so a
         * share of 0 leaves every earlier draw as it was; small first, so that a
         * chain sees the first result it will go on from */
        if (kind == R1_TASK_ARITHMETIC && d->cfg.small_share > 0) {
            r1_task_rng small = {r1_task_mix64(trace_seed ^ 0x736d616c6cull)};
            if (r1_task_rng_unit(&small) < d->cfg.small_share) r1_arithmetic_make_small(&p, &small);
        }
        if (kind == R1_TASK_COUNTDOWN && d->cfg.small_countdown_share > 0) {
            r1_task_rng small = {r1_task_mix64(trace_seed ^ 0x736d616c6c6364ull)};
            if (r1_task_rng_unit(&small) < d->cfg.small_countdown_share)
                r1_countdown_make_small(&p, R1_SMALL_SOME, &small);
        }
        /* after the one or two: with both shares set, all-small wins */
        if (kind == R1_TASK_COUNTDOWN && d->cfg.all_small_countdown_share > 0) {
            r1_task_rng all_small = {r1_task_mix64(trace_seed ^ 0x616c6c736d616c6cull)};
            if (r1_task_rng_unit(&all_small) < d->cfg.all_small_countdown_share)
                r1_countdown_make_small(&p, R1_SMALL_ALL, &all_small);
        }
        if (kind == R1_TASK_ARITHMETIC && d->cfg.chain_share > 0) {
            r1_task_rng chain = {r1_task_mix64(trace_seed ^ 0x636861696eull)};
            if (r1_task_rng_unit(&chain) < d->cfg.chain_share) r1_arithmetic_make_chain(&p, &chain);
        }
        rc = r1_data_example_text(&p, trace_seed, &d->cfg.trace, &text, &len, &prompt_len, err);
        if (rc == R1_ERR) return R1_ERR;
    }
    free(d->drawn);
    rc = r1_data_tokenize_example(d->tok, text, len, prompt_len, &d->drawn, n, n_prompt, err);
    free(text);
    *ids = d->drawn;
    return rc;
}

/* Fills row b of the batch of step. */
static int fill_row(r1_data *d, uint64_t step, int b, r1_err *err) {
    const int T = d->T;
    int *tokens = d->tokens + (size_t)b * T, *targets = d->targets + (size_t)b * T;
    int *doc_start = d->doc_start + (size_t)b * T;
    r1_task_rng rng = r1_task_rng_for(d->cfg.seed, STREAM_DATA, step, (uint64_t)b);
    int pos = 0, too_long = 0;
    for (;;) {
        const int *ids = NULL;
        int n = 0, n_prompt = 0;
        if (draw_example(d, &rng, &ids, &n, &n_prompt, err) != R1_OK) return R1_ERR;
        if (n > T) {
            d->n_skipped++;
            if (++too_long >= MAX_LONG_IN_A_ROW)
                return r1_fail(err, "data: %d examples in a row are longer than seq %d tokens: raise --seq or "
                                    "lower the trace length", too_long, T);
            continue;
        }
        too_long = 0;
        if (pos + n > T) break;
        for (int i = 0; i < n; i++) {
            tokens[pos + i] = ids[i];
            doc_start[pos + i] = pos;
            int train = i + 1 < n && (d->cfg.prompt_loss || i + 1 >= n_prompt);
            targets[pos + i] = train ? ids[i + 1] : -1;
            d->n_targets += train;
        }
        pos += n;
        d->n_examples++;
    }
    for (int pad = pos; pos < T; pos++) {
        tokens[pos] = R1_VOCAB_EOS;
        doc_start[pos] = pad;
        targets[pos] = -1;
    }
    return R1_OK;
}

int r1_data_batch(r1_data *d, uint64_t step, r1_err *err) {
    d->n_examples = d->n_targets = d->n_skipped = 0;
    for (int b = 0; b < d->B; b++)
        if (fill_row(d, step, b, err) != R1_OK) return R1_ERR;
    return R1_OK;
}
