/* Generation as a library call: prompt token ids in, the completion's text and
 * token count out. Stops at the end-of-sequence token, after max_tokens new tokens,
 * or when the context is full; a thinking budget forces `</think>` (infer/think.h).
 *
 * The completion text is every generated token detokenized in order, the
 * `<think>`/`</think>` markers included (the task rewards parse them), the EOS
 * token excluded: exactly what r1_task_reward expects.
 *
 * Prompt reuse. The KV cache is append-only: a forward step writes positions
 * n_past.. and never touches earlier ones. So after a completion, setting n_past
 * back to the prompt's length "forgets" the completion and keeps the prompt's
 * cache; with the prompt's last logits saved, the next sample starts without
 * re-running the prompt. r1_prefill does the prompt once, r1_generate_from
 * samples from it any number of times; r1_generate is the two in one. */
#ifndef R1_GENERATE_H
#define R1_GENERATE_H

#include <stddef.h>

#include "infer/sampler.h"
#include "model/state.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    r1_sampler_params sampling;
    long max_tokens;     /* new tokens at most (EOS included) */
    int think_budget;    /* thinking tokens before `</think>` is forced; < 0: no limit */
    int starts_thinking; /* the prompt ends inside `<think>` (r1_chat_template_starts_thinking) */
    /* Sees each generated token but EOS, after budget forcing, with the text it
     * completed (empty while a UTF-8 character is incomplete); returns 0 to stop.
     * At the end, text left in the detokenizer (a cut-off character as U+FFFD)
     * comes with token -1. May be NULL. */
    int (*on_token)(void *ctx, int token, const char *text, size_t len);
    void *on_token_ctx;
    /* After each step of r1_generate_many (may be NULL): the tokens drawn so far by
     * all its completions, and how many of them are finished. */
    void (*on_step)(void *ctx, long tokens, int finished);
    void *on_step_ctx;
    int logprobs;        /* also record each drawn token's log-probability (r1_generation) */
} r1_generate_params;

/* The defaults: r1_sampler_defaults(), 2048 tokens, no budget, no thinking start. */
r1_generate_params r1_generate_defaults(void);

/* A prompt run once, to sample from repeatedly. */
typedef struct {
    int n_prompt;  /* tokens of the prompt in the state's cache */
    float *logits; /* (n_vocab) the prompt's last position */
} r1_prefill;

/* What one completion produced. */
typedef struct {
    char *text;    /* malloc'd, NUL-terminated: the completion (see above) */
    size_t len;    /* bytes of text without the NUL */
    int n_tokens;  /* tokens generated, EOS not counted */
    int stopped_at_eos;
    /* The ids drawn, (n_tokens + stopped_at_eos): the completion's tokens (after
     * budget forcing), then EOS when it was drawn, since stopping is an action too. */
    int *tokens;
    /* With params->logprobs, (n_tokens + stopped_at_eos): log p of each of tokens
     * under the model (r1_logprob: temperature 1, no filtering); else NULL. */
    float *logprobs;
} r1_generation;

/* Resets s and runs the n_prompt (>= 1) tokens of prompt into its cache. */
int r1_prefill_run(r1_state *s, const int *prompt, int n_prompt, r1_prefill *pf, r1_err *err);
void r1_prefill_free(r1_prefill *pf);

/* Rewinds s to the prefilled prompt (which must be the last one run on s) and
 * samples one completion into out (the caller frees out->text with
 * r1_generation_free). */
int r1_generate_from(r1_state *s, const r1_tokenizer *tok, const r1_prefill *pf, const r1_generate_params *params,
                     r1_generation *out, r1_err *err);

/* The caches of the completions that r1_generate_many decodes beside s's own:
 * states of s's model and context, made when first needed and kept for the next
 * call. Start from {0}; free with r1_sequences_free. */
typedef struct {
    r1_state *states;
    int n;
} r1_sequences;

void r1_sequences_free(r1_sequences *q);

/* k completions of the prefilled prompt decoded together: completion j samples
 * with seed seeds[j] (the rest of params as given; on_token must be NULL when
 * k > 1) into out[j]. Completion 0 runs in s's cache, the others in q's, each
 * starting from a copy of the prompt's cache; every step takes the next token
 * of every unfinished completion through the model at once (r1_forward_seqs),
 * up to s->max_batch at a time. Each completion is what r1_generate_from with its
 * seed gives: bit for bit with float weights (F32, F16, BF16: every token's
 * product is the same dot), and but for rounding with quantized ones, whose GEMM
 * kernels sum a product over several tokens in another order than over one, so
 * that a near tie between two tokens can fall the other way. With k = 1 it is
 * r1_generate_from, bit for bit. Memory: each completion has its own cache.
 * out[0..k) are cleared first; on failure nothing is left to free. */
int r1_generate_many(r1_state *s, r1_sequences *q, const r1_tokenizer *tok, const r1_prefill *pf,
                     const r1_generate_params *params, const uint64_t *seeds, int k, r1_generation *out, r1_err *err);

/* r1_prefill_run then r1_generate_from. */
int r1_generate(r1_state *s, const r1_tokenizer *tok, const int *prompt, int n_prompt,
                const r1_generate_params *params, r1_generation *out, r1_err *err);

void r1_generation_free(r1_generation *g);

#endif
