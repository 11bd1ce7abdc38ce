/* Training batches (DESIGN §6): B rows of T tokens of examples, each one a chat turn
 * tokenized with the tiny vocabulary:
 *   <｜begin▁of▁sentence｜><｜User｜>PROMPT<｜Assistant｜><think>\n COMPLETION <｜end▁of▁sentence｜>
 * Two sources: pretraining draws solver search traces (traces.h) as the
 * COMPLETION, generated on the fly (r1_data_init); sft draws from examples held in
 * memory (r1_data_init_examples), a file of traces tokenized once.
 *
 * Determinism: the batch of step s is a pure function of (seed, s, config, examples),
 * so a resumed run sees exactly the batches the uninterrupted run would, with no
 * data state to save. Row b of step s draws from its own stream, splitmix64(seed,
 * s, b). A trace draw picks the task (Countdown with probability countdown_share,
 * else arithmetic), an index into the task's train split, and a trace seed; an
 * example draw picks one of the examples uniformly (with replacement: a pure
 * function of the step needs no epoch bookkeeping, and over many steps each
 * example is seen about equally often).
 *
 * Packing: a row holds whole examples, one after another, as many as fit; the rest
 * of the row is padding (token EOS, target −1). An example that does not fit in an
 * empty row (longer than T) is skipped and another one drawn; the row is closed at
 * the first example that does not fit in what is left. Examples in one row attend to
 * the earlier ones (the model has no document mask); each starts with BOS, so the
 * model learns that BOS starts afresh, and RoPE's relative positions make the offset
 * harmless. Training on full rows instead of one padded example per row roughly
 * halves the padding at T = 512.
 *
 * Targets: every token predicts the next one of its own example — the prompt too,
 * since pretraining is plain language modelling (set prompt_loss = 0 to train on the
 * completion alone: the tokens after `<think>\n`) — and the last token (EOS) has
 * target −1, so no example is asked to predict the next one's BOS. */
#ifndef R1_DATA_H
#define R1_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "train/task.h"
#include "train/traces.h"

typedef struct {
    uint64_t seed;
    double countdown_share;  /* 0..1: share of Countdown problems, the rest arithmetic */
    double chain_share;      /* 0..1: share of the arithmetic problems made chains
                                (r1_arithmetic_make_chain; 0 draws as before chains were) */
    double small_share;      /* 0..1: share of the arithmetic problems given one-digit
                                operands (r1_arithmetic_make_small; 0 draws as before) */
    double small_countdown_share; /* 0..1: share of the Countdown problems given one or
                                two one-digit numbers (r1_countdown_make_small; 0 draws
                                as before) */
    double all_small_countdown_share; /* 0..1: share of the Countdown problems whose
                                numbers are all made one-digit (r1_countdown_make_small
                                with R1_SMALL_ALL, after the share above; 0 draws as
                                before) */
    int prompt_loss;         /* 1: train on the prompt tokens too */
    r1_trace_config trace;
} r1_data_config;

/* seed 1, countdown_share 0.5, chain_share 0, small_share 0, small_countdown_share 0,
 * all_small_countdown_share 0, prompt_loss 1, r1_trace_default_config(). */
r1_data_config r1_data_default_config(void);

/* Examples tokenized once, held back to back. */
typedef struct {
    int *ids;               /* every example's tokens */
    size_t *offset;         /* (n + 1) example i is ids[offset[i] .. offset[i+1]) */
    int *n_prompt;          /* (n) tokens of example i up to and including `<think>\n` */
    size_t n;
    size_t cap_examples, cap_ids;
} r1_examples;

/* Appends an example of n tokens (≥ 1), the first n_prompt of them its prompt. */
int r1_examples_add(r1_examples *e, const int *ids, int n, int n_prompt, r1_err *err);
void r1_examples_free(r1_examples *e);

typedef struct {
    r1_data_config cfg;
    const r1_tokenizer *tok;  /* borrowed; traces only */
    const r1_examples *examples; /* borrowed; NULL: generated traces */
    int *drawn;               /* the last trace drawn, tokenized */
    int B, T;
    int *tokens;              /* (B, T) */
    int *targets;             /* (B, T), −1 = ignore */
    int *doc_start;           /* (B, T): where in its row each token's example starts */
    int n_examples;           /* examples in the last batch */
    int n_targets;            /* non-ignored targets in the last batch */
    int n_skipped;            /* examples longer than T skipped in the last batch */
} r1_data;

int r1_data_init(r1_data *d, const r1_tokenizer *tok, const r1_data_config *cfg, int B, int T, r1_err *err);
/* Batches of examples (at least one; cfg's seed and prompt_loss are used). */
int r1_data_init_examples(r1_data *d, const r1_examples *examples, const r1_data_config *cfg, int B, int T,
                          r1_err *err);
void r1_data_free(r1_data *d);

/* Fills d->tokens, d->targets and d->doc_start with the batch of step. Fails when the examples do
 * not fit T at all (64 examples in a row too long) or on a tokenizer error. */
int r1_data_batch(r1_data *d, uint64_t step, r1_err *err);

/* The training text of problem p with the trace written from trace_seed (the layout
 * above), malloc'd into *text (*len bytes, NUL-terminated); *prompt_len is the length
 * of the part up to and including `<think>\n`. Returns R1_TRACE_UNTOLD (nothing
 * allocated) for a Countdown problem its trace cannot narrate (traces.h). */
int r1_data_example_text(const r1_problem *p, uint64_t trace_seed, const r1_trace_config *trace, char **text,
                         size_t *len, size_t *prompt_len, r1_err *err);

/* The training text of a user prompt (a C string) and a completion (completion_len
 * bytes), in the layout above; as r1_data_example_text. */
int r1_data_render_example(const char *prompt, const char *completion, size_t completion_len, char **text,
                           size_t *len, size_t *prompt_len, r1_err *err);

/* A training text's tokens (malloc'd *ids, *n of them, *n_prompt of them from its
 * first prompt_len bytes), special tokens parsed. */
int r1_data_tokenize_example(const r1_tokenizer *tok, const char *text, size_t len, size_t prompt_len, int **ids,
                             int *n, int *n_prompt, r1_err *err);

#endif
