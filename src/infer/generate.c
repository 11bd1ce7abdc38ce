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

int r1_generate_from(r1_state *s, const r1_tokenizer *tok, const r1_prefill *pf, const r1_generate_params *params,
                     r1_generation *out, r1_err *err) {
    memset(out, 0, sizeof *out);
    if (!pf->logits || pf->n_prompt < 1 || pf->n_prompt > s->n_ctx)
        return r1_fail(err, "generate: no prompt has been run");
    int n_vocab = s->model->hp.n_vocab;
    float *logits = r1_malloc(err, (size_t)n_vocab * sizeof(float), "logits");
    text_buf buf = {r1_malloc(err, 256, "completion text"), 0, 256};
    r1_sampler sampler;
    if (!logits || !buf.bytes || r1_sampler_init(&sampler, &params->sampling, n_vocab, err) != R1_OK) {
        free(logits);
        free(buf.bytes);
        return R1_ERR;
    }
    buf.bytes[0] = 0;
    /* the cache past the prompt holds the previous completion: forget it */
    s->n_past = pf->n_prompt;
    memcpy(logits, pf->logits, (size_t)n_vocab * sizeof(float));

    r1_think think;
    r1_think_init(&think, tok, params->starts_thinking, params->think_budget);
    r1_detok_stream detok;
    r1_detok_init(&detok, tok);
    int eos = r1_tokenizer_eos(tok), rc = R1_OK, tokens_cap = 0;
    const char *text;
    size_t len;
    for (long step = 0; step < params->max_tokens; step++) {
        int token = r1_think_step(&think, r1_sample(&sampler, logits));
        float logprob = params->logprobs ? r1_logprob(logits, n_vocab, token) : 0.0f;
        if (record_token(out, &tokens_cap, params->logprobs, token, logprob, err) != R1_OK) {
            rc = R1_ERR;
            break;
        }
        if (token == eos) {
            out->stopped_at_eos = 1;
            break;
        }
        if (r1_detok_push(&detok, token, &text, &len, err) != R1_OK || text_append(&buf, text, len, err) != R1_OK) {
            rc = R1_ERR;
            break;
        }
        out->n_tokens++;
        if (params->on_token && !params->on_token(params->on_token_ctx, token, text, len)) break;
        /* the next token needs this one's logits, and a free cache position */
        if (step + 1 >= params->max_tokens || s->n_past >= s->n_ctx) break;
        if (r1_forward(s, &token, 1, logits, 0, err) != R1_OK) {
            rc = R1_ERR;
            break;
        }
    }
    if (rc == R1_OK) {
        r1_detok_flush(&detok, &text, &len);
        rc = text_append(&buf, text, len, err);
        if (rc == R1_OK && len && params->on_token) params->on_token(params->on_token_ctx, -1, text, len);
    }
    r1_detok_free(&detok);
    r1_sampler_free(&sampler);
    free(logits);
    if (rc != R1_OK) {
        free(buf.bytes);
        r1_generation_free(out);
        return R1_ERR;
    }
    out->text = buf.bytes;
    out->len = buf.len;
    return R1_OK;
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
