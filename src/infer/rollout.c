/* Posing a problem and sampling scored completions (see rollout.h). */
#include "infer/rollout.h"

#include <stdlib.h>

int r1_rollout_prompt(const r1_tokenizer *tok, r1_chat_template tmpl, const r1_problem *p, int **ids, int *n_ids,
                      r1_err *err) {
    char question[256], *rendered = NULL;
    size_t rendered_len;
    if (r1_task_prompt(p, question, sizeof question) < 0) return r1_fail(err, "rollout: cannot write a problem's prompt");
    r1_chat_message msg = {"user", question};
    int rc = r1_chat_render(tmpl, &msg, 1, 1, &rendered, &rendered_len, err) != R1_OK ||
                     r1_tokenize(tok, rendered, rendered_len, tmpl == R1_CHAT_RAW && r1_tokenizer_wants_bos(tok), 1,
                                 ids, n_ids, err) != R1_OK
                 ? R1_ERR
                 : R1_OK;
    free(rendered);
    return rc;
}

int r1_rollout(r1_state *s, const r1_tokenizer *tok, const r1_problem *p, const int *ids, int n_ids,
               const r1_generate_params *params, const uint64_t *seeds, int k, r1_generation *gens, r1_reward *rewards,
               r1_err *err) {
    r1_prefill pf;
    if (r1_prefill_run(s, ids, n_ids, &pf, err) != R1_OK) return R1_ERR;
    r1_generate_params gp = *params;
    int j = 0;
    for (; j < k; j++) {
        gp.sampling.seed = seeds[j];
        if (r1_generate_from(s, tok, &pf, &gp, &gens[j], err) != R1_OK) break;
        r1_task_reward(p, gens[j].text, &rewards[j]);
    }
    r1_prefill_free(&pf);
    if (j == k) return R1_OK;
    while (j > 0) r1_generation_free(&gens[--j]);
    return R1_ERR;
}
