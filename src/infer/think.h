/* Following a reasoning model's output: is it still thinking (between <think> and
 * </think>) or answering? And the thinking budget: once a response has thought for
 * `budget` tokens, </think> is forced as its next token (the "budget forcing" of
 * s1, Muennighoff et al. 2025), so the answer always comes. */
#ifndef R1_THINK_H
#define R1_THINK_H

#include "tokenizer/tokenizer.h"

typedef enum { R1_PHASE_THINKING, R1_PHASE_ANSWER } r1_phase;

typedef struct {
    int open_id, close_id;  /* <think> and </think>, or -1 when the vocabulary lacks them */
    r1_phase phase;
    int think_tokens;       /* tokens generated while thinking */
    int budget;             /* < 0: no limit */
} r1_think;

/* starts_thinking: the prompt already opened <think> (R1's template does). */
void r1_think_init(r1_think *th, const r1_tokenizer *tok, int starts_thinking, int budget);

/* Takes the sampled token and returns the one to use instead: </think> when the
 * budget is spent, else the same token. Updates the phase. */
int r1_think_step(r1_think *th, int sampled);

/* Whether token is one of the two markers (not shown as text). */
int r1_think_is_marker(const r1_think *th, int token);

#endif
