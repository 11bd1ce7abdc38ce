/* Sampling a completion from a prompt; see generate.h for the contract. */
#include <stdlib.h>
#include <string.h>

#include "infer/generate.h"
#include "infer/think.h"

r1_generate_params r1_generate_defaults(void) {
    r1_generate_params p;
    memset(&p, 0, sizeof p);
    p.sampling = r1_sampler_defaults();
    p.max_tokens = 2048;
    p.think_budget = -1;
    return p;
}

int r1_prefill_run(r1_state *s, const int *prompt, int n_prompt, r1_prefill *pf, r1_err *err) {
    memset(pf, 0, sizeof *pf);
    if (n_prompt < 1) return r1_fail(err, "generate: the prompt is empty");
    pf->logits = r1_malloc(err, (size_t)s->model->hp.n_vocab * sizeof(float), "prompt logits");
    if (!pf->logits) return R1_ERR;
    r1_state_reset(s);
    if (r1_forward(s, prompt, n_prompt, pf->logits, 0, err) != R1_OK) {
        r1_prefill_free(pf);
        return R1_ERR;
    }
    pf->n_prompt = n_prompt;
    return R1_OK;
}

void r1_prefill_free(r1_prefill *pf) {
    free(pf->logits);
    memset(pf, 0, sizeof *pf);
}

void r1_generation_free(r1_generation *g) {
    free(g->text);
    free(g->tokens);
    free(g->logprobs);
    memset(g, 0, sizeof *g);
}

/* The completion's bytes, grown by doubling. */
typedef struct {
    char *bytes;
    size_t len, cap;
} text_buf;

static int text_append(text_buf *b, const char *text, size_t len, r1_err *err) {
    if (len + 1 > b->cap - b->len) {
        size_t cap = b->cap * 2;
        while (len + 1 > cap - b->len) cap *= 2;
        char *grown = realloc(b->bytes, cap);
        if (!grown) return r1_fail(err, "generate: out of memory for a %zu-byte completion", cap);
        b->bytes = grown;
        b->cap = cap;
    }
    memcpy(b->bytes + b->len, text, len);
    b->len += len;
    b->bytes[b->len] = 0;
    return R1_OK;
}

/* Appends a drawn token (and its log-probability when recorded) to out, growing
 * both arrays by doubling; *cap counts the entries they have room for. */
static int record_token(r1_generation *out, int *cap, int record_logprob, int token, float logprob, r1_err *err) {
    int n = out->n_tokens + out->stopped_at_eos;
    if (n == *cap) {
        int grown_cap = *cap ? *cap * 2 : 64;
        int *tokens = realloc(out->tokens, (size_t)grown_cap * sizeof *tokens);
        if (tokens) out->tokens = tokens;
        float *logprobs = record_logprob ? realloc(out->logprobs, (size_t)grown_cap * sizeof *logprobs) : NULL;
        if (logprobs) out->logprobs = logprobs;
        if (!tokens || (record_logprob && !logprobs))
            return r1_fail(err, "generate: out of memory for %d completion tokens", grown_cap);
        *cap = grown_cap;
    }
    out->tokens[n] = token;
    if (record_logprob) out->logprobs[n] = logprob;
    return R1_OK;
}

/* One completion being decoded: where its tokens go, how the next is chosen, and
 * what it has produced. */
typedef struct {
    r1_state *seq;    /* its cache */
    float *logits;    /* (n_vocab) the distribution of its next token */
    r1_sampler sampler;
    r1_think think;
    r1_detok_stream detok;
    text_buf text;
    int tokens_cap;   /* room in out->tokens (and logprobs) */
    int done;
    int index;        /* which of the k completions */
    r1_generation *out;
} decoder;

/* Draws d's next token and takes it into the completion. Returns 1 when the
 * token must run through the model for the one after it, 0 when the completion
 * is finished (EOS, max_tokens, a full cache, or on_token said stop), -1 when the
 * logits are no distribution or memory ran out (err says which). */
static int draw(decoder *d, const r1_tokenizer *tok, const r1_generate_params *params, int *token, r1_err *err) {
    r1_generation *out = d->out;
    int eos = r1_tokenizer_eos(tok), n_vocab = d->seq->model->hp.n_vocab;
    if (r1_logits_check(d->logits, n_vocab, err) != R1_OK) {
        r1_fail_within(err, "generate: completion %d, token %d: ", d->index + 1, out->n_tokens + 1);
        return -1;
    }
    *token = r1_think_step(&d->think, r1_sample(&d->sampler, d->logits));
    float logprob = params->logprobs ? r1_logprob(d->logits, n_vocab, *token) : 0.0f;
    if (record_token(out, &d->tokens_cap, params->logprobs, *token, logprob, err) != R1_OK) return -1;
    if (*token == eos) return out->stopped_at_eos = 1, 0;
    const char *text;
    size_t len;
    if (r1_detok_push(&d->detok, *token, &text, &len, err) != R1_OK || text_append(&d->text, text, len, err) != R1_OK)
        return -1;
    out->n_tokens++;
    if (params->on_token && !params->on_token(params->on_token_ctx, *token, text, len)) return 0;
    /* the next token needs this one's logits, and a free cache position */
    return out->n_tokens < params->max_tokens && d->seq->n_past < d->seq->n_ctx;
}

/* The text left in the detokenizer (a cut-off character as U+FFFD) ends the completion. */
static int finish(decoder *d, const r1_generate_params *params, r1_err *err) {
    const char *text;
    size_t len;
    r1_detok_flush(&d->detok, &text, &len);
    if (text_append(&d->text, text, len, err) != R1_OK) return R1_ERR;
    if (len && params->on_token) params->on_token(params->on_token_ctx, -1, text, len);
    d->out->text = d->text.bytes;
    d->out->len = d->text.len;
    d->text.bytes = NULL;
    return R1_OK;
}

/* At least k sequences in q, each with s's model and context. */
static int grow_sequences(r1_sequences *q, const r1_state *s, int k, r1_err *err) {
    if (q->n >= k) return R1_OK;
    r1_state *states = realloc(q->states, (size_t)k * sizeof *states);
    if (!states) return r1_fail(err, "generate: out of memory for %d sequences", k);
    q->states = states;
    for (; q->n < k; q->n++)
        if (r1_state_init(&q->states[q->n], s->model, s->compute, s->n_ctx, 1, err) != R1_OK) return R1_ERR;
    return R1_OK;
}

void r1_sequences_free(r1_sequences *q) {
    for (int i = 0; i < q->n; i++) r1_state_free(&q->states[i]);
    free(q->states);
    memset(q, 0, sizeof *q);
}

int r1_generate_many(r1_state *s, r1_sequences *q, const r1_tokenizer *tok, const r1_prefill *pf,
                     const r1_generate_params *params, const uint64_t *seeds, int k, r1_generation *out, r1_err *err) {
    for (int j = 0; j < k; j++) memset(&out[j], 0, sizeof out[j]);
    if (!pf->logits || pf->n_prompt < 1 || pf->n_prompt > s->n_ctx)
        return r1_fail(err, "generate: no prompt has been run");
    if (k < 1) return r1_fail(err, "generate: %d completions", k);
    if (k > 1 && params->on_token) return r1_fail(err, "generate: on_token follows one completion, not %d", k);
    if (k > 1 && !q) return r1_fail(err, "generate: %d completions need sequences beside s's", k);
    if (k > 1 && grow_sequences(q, s, k - 1, err) != R1_OK) return R1_ERR;
    int n_vocab = s->model->hp.n_vocab, rc = R1_OK, n_ready = 0;
    int batch = k < s->max_batch ? k : s->max_batch;
    decoder *dec = r1_calloc(err, (size_t)k, sizeof *dec, "decoders");
    float *logits = r1_malloc(err, (size_t)k * n_vocab * sizeof(float), "logits");
    float *step_logits = r1_malloc(err, (size_t)batch * n_vocab * sizeof(float), "step logits");
    r1_state **step_seqs = r1_calloc(err, (size_t)k, sizeof *step_seqs, "step sequences");
    int *step_tokens = r1_calloc(err, (size_t)k, sizeof *step_tokens, "step tokens");
    int *step_of = r1_calloc(err, (size_t)k, sizeof *step_of, "step decoders");
    if (!dec || !logits || !step_logits || !step_seqs || !step_tokens || !step_of) rc = R1_ERR;

    /* each completion starts from the prompt: its cache (s's own, rewound, for the
     * first) and the prompt's last logits */
    for (int j = 0; j < k && rc == R1_OK; j++, n_ready++) {
        decoder *d = &dec[j];
        d->out = &out[j];
        d->index = j;
        d->seq = j == 0 ? s : &q->states[j - 1];
        d->logits = logits + (size_t)j * n_vocab;
        memcpy(d->logits, pf->logits, (size_t)n_vocab * sizeof(float));
        r1_sampler_params sp = params->sampling;
        sp.seed = seeds[j];
        d->text = (text_buf){r1_malloc(err, 256, "completion text"), 0, 256};
        if (!d->text.bytes || r1_sampler_init(&d->sampler, &sp, n_vocab, err) != R1_OK) {
            free(d->text.bytes);
            rc = R1_ERR;
            break;
        }
        d->text.bytes[0] = 0;
        r1_think_init(&d->think, tok, params->starts_thinking, params->think_budget);
        r1_detok_init(&d->detok, tok);
        d->done = params->max_tokens < 1;
        /* the cache past the prompt holds the previous completion: forget it */
        if (j == 0) s->n_past = pf->n_prompt;
        else rc = r1_state_copy_prefix(d->seq, s, pf->n_prompt, err);
    }

    /* each step: every unfinished completion draws a token; those that go on run
     * through the model together */
    long drawn = 0;
    for (int active = k; rc == R1_OK && active > 0;) {
        int n_step = 0;
        active = 0;
        for (int j = 0; j < k && rc == R1_OK; j++) {
            if (dec[j].done) continue;
            int more = draw(&dec[j], tok, params, &step_tokens[n_step], err);
            drawn++;
            if (more < 0) rc = R1_ERR;
            else if (more) step_seqs[n_step] = dec[j].seq, step_of[n_step++] = j, active++;
            else dec[j].done = 1;
        }
        for (int first = 0; first < n_step && rc == R1_OK; first += batch) {
            int n = n_step - first < batch ? n_step - first : batch;
            rc = r1_forward_seqs(s, step_seqs + first, step_tokens + first, n, step_logits, err);
            size_t row_bytes = (size_t)n_vocab * sizeof(float);
            for (int i = 0; i < n && rc == R1_OK; i++)
                memcpy(dec[step_of[first + i]].logits, step_logits + (size_t)i * n_vocab, row_bytes);
        }
        if (rc == R1_OK && params->on_step) params->on_step(params->on_step_ctx, drawn, k - active);
    }
    for (int j = 0; j < k && rc == R1_OK; j++) rc = finish(&dec[j], params, err);

    for (int j = 0; j < n_ready; j++) {
        r1_detok_free(&dec[j].detok);
        r1_sampler_free(&dec[j].sampler);
        free(dec[j].text.bytes);
        if (rc != R1_OK) r1_generation_free(&out[j]);
    }
    free(dec), free(logits), free(step_logits), free(step_seqs), free(step_tokens), free(step_of);
    return rc;
}

int r1_generate_from(r1_state *s, const r1_tokenizer *tok, const r1_prefill *pf, const r1_generate_params *params,
                     r1_generation *out, r1_err *err) {
    return r1_generate_many(s, NULL, tok, pf, params, &params->sampling.seed, 1, out, err);
}

int r1_generate(r1_state *s, const r1_tokenizer *tok, const int *prompt, int n_prompt,
                const r1_generate_params *params, r1_generation *out, r1_err *err) {
    r1_prefill pf;
    memset(out, 0, sizeof *out);
    if (r1_prefill_run(s, prompt, n_prompt, &pf, err) != R1_OK) return R1_ERR;
    int rc = r1_generate_from(s, tok, &pf, params, out, err);
    r1_prefill_free(&pf);
    return rc;
}
