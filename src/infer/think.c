#include "infer/think.h"

void r1_think_init(r1_think *th, const r1_tokenizer *tok, int starts_thinking, int budget) {
    th->open_id = r1_token_lookup(tok, "<think>");
    th->close_id = r1_token_lookup(tok, "</think>");
    th->phase = starts_thinking && th->close_id >= 0 ? R1_PHASE_THINKING : R1_PHASE_ANSWER;
    th->think_tokens = 0;
    th->budget = budget;
}

int r1_think_step(r1_think *th, int sampled) {
    if (th->phase == R1_PHASE_THINKING) {
        if (th->budget >= 0 && th->think_tokens >= th->budget) sampled = th->close_id;
        if (sampled == th->close_id) th->phase = R1_PHASE_ANSWER;
        else th->think_tokens++;
    } else if (sampled == th->open_id && th->close_id >= 0) {
        th->phase = R1_PHASE_THINKING;
    }
    return sampled;
}

int r1_think_is_marker(const r1_think *th, int token) {
    return token >= 0 && (token == th->open_id || token == th->close_id);
}
