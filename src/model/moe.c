/* Feed-forward blocks: the dense SwiGLU FFN and DeepSeekMoE
 * (DeepSeek-V2 §2.2, V3 §2.1.2).
 *
 *   s_i   = softmax_i(u·e) (V2)  or  sigmoid(u·e_i) (V3)
 *   pick  = top-K of s_i + b_i  (b: aux-loss-free balancing bias, selection only),
 *           within the top groups when experts are grouped
 *   g_i   = s_i for picked experts, / Σ g when normalised, × route scale
 *   h'    = Σ_shared FFN_s(u) + Σ_picked g_i · FFN_i(u)                          */
#include <math.h>
#include <string.h>

#include "model/state.h"

int r1_ffn_dense(r1_state *s, const r1_matrix *gate, const r1_matrix *up, const r1_matrix *down, const float *in,
                 int T, float *out, r1_err *err) {
    int F = (int)gate->rows;
    r1_matmul_op gate_up[2] = {{gate, in, T, s->hidden_gate}, {up, in, T, s->hidden_up}};
    if (r1_matmul_many(s->compute, gate_up, 2) != R1_OK) return r1_fail(err, "ffn: out of memory");
    r1_swiglu(s->hidden_gate, s->hidden_up, T * F);
    if (r1_matmul(s->compute, down, s->hidden_gate, T, out) != R1_OK) return r1_fail(err, "ffn: out of memory");
    return R1_OK;
}

/* Group score used to pick groups: with a selection bias (V3) the sum of the
 * group's two best biased scores, without (V2's group-limited greedy) its best. */
static float group_score(const float *select, int first, int size, int has_bias) {
    float best = -INFINITY, second = -INFINITY;
    for (int i = first; i < first + size; i++) {
        if (select[i] > best) { second = best; best = select[i]; }
        else if (select[i] > second) second = select[i];
    }
    return has_bias && size > 1 ? best + second : best;
}

void r1_moe_route(const r1_hparams *hp, const float *expert_bias, const float *logits, int *expert_ids,
                  float *route_weights, float *scratch) {
    int E = hp->n_experts, K = hp->n_experts_used, G = hp->n_groups, per_group = E / G;
    float *scores = scratch, *select = scratch + E, *gscore = scratch + 2 * E, *keep = gscore + G;
    if (hp->gating == R1_GATING_SOFTMAX) {
        memcpy(scores, logits, (size_t)E * sizeof(float));
        r1_softmax(scores, E);
    } else {
        for (int i = 0; i < E; i++) scores[i] = 1.0f / (1.0f + expf(-logits[i]));
    }
    for (int i = 0; i < E; i++) select[i] = scores[i] + (expert_bias ? expert_bias[i] : 0.0f);

    if (G > 1 && hp->n_groups_used < G) {
        for (int g = 0; g < G; g++) {
            gscore[g] = group_score(select, g * per_group, per_group, expert_bias != NULL);
            keep[g] = 0;
        }
        for (int n = 0; n < hp->n_groups_used; n++) {
            int best = -1;
            for (int g = 0; g < G; g++)
                if (!keep[g] && (best < 0 || gscore[g] > gscore[best])) best = g;
            keep[best] = 1;
        }
        for (int i = 0; i < E; i++)
            if (!keep[i / per_group]) select[i] = -INFINITY;
    }

    float sum = 0.0f;
    for (int k = 0; k < K; k++) {
        int best = -1;
        for (int i = 0; i < E; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= expert_ids[j] == i;
            if (!taken && select[i] > -INFINITY && (best < 0 || select[i] > select[best])) best = i;
        }
        /* NaN scores (weights that overflowed) beat nothing: a token still gets K
         * distinct experts, the first untaken ones, and its NaN output shows */
        for (int i = 0; best < 0; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= expert_ids[j] == i;
            if (!taken) best = i;
        }
        expert_ids[k] = best;
        route_weights[k] = scores[best];
        sum += scores[best];
    }
    for (int k = 0; k < K; k++) {
        if (hp->weights_norm) route_weights[k] /= sum;
        route_weights[k] *= hp->weights_scale;
    }
}

/* Experts whose slots are [first, first + count), computed together. */
typedef struct {
    int expert, first, count;
} expert_span;

/* Runs a group of experts (and, with the first group, the shared experts) in two
 * passes of the pool: every gate and up projection, then every down projection. */
static int run_experts(r1_state *s, const r1_layer *L, const expert_span *spans, int n_spans, int with_shared, int T,
                       r1_err *err) {
    const r1_hparams *hp = &s->model->hp;
    int D = hp->dim, F = hp->expert_ffn_dim, FS = F * hp->n_shared_experts;
    r1_matmul_op ops[R1_MATMUL_MAX_OPS];
    int n = 0;
    for (int i = 0; i < n_spans; i++) {
        const expert_span *sp = &spans[i];
        size_t in = (size_t)sp->first * D, hid = (size_t)sp->first * F;
        ops[n++] = (r1_matmul_op){&L->exp_gate[sp->expert], s->expert_in + in, sp->count, s->expert_gate + hid};
        ops[n++] = (r1_matmul_op){&L->exp_up[sp->expert], s->expert_in + in, sp->count, s->expert_up + hid};
    }
    if (with_shared) {
        ops[n++] = (r1_matmul_op){&L->shexp_gate, s->xn, T, s->hidden_gate};
        ops[n++] = (r1_matmul_op){&L->shexp_up, s->xn, T, s->hidden_up};
    }
    if (r1_matmul_many(s->compute, ops, n) != R1_OK) return r1_fail(err, "moe: out of memory");
    n = 0;
    for (int i = 0; i < n_spans; i++) {
        const expert_span *sp = &spans[i];
        size_t hid = (size_t)sp->first * F;
        r1_swiglu(s->expert_gate + hid, s->expert_up + hid, sp->count * F);
        ops[n++] = (r1_matmul_op){&L->exp_down[sp->expert], s->expert_gate + hid, sp->count,
                                  s->expert_out + (size_t)sp->first * D};
    }
    if (with_shared) {
        r1_swiglu(s->hidden_gate, s->hidden_up, T * FS);
        ops[n++] = (r1_matmul_op){&L->shexp_down, s->hidden_gate, T, s->block_out};
    }
    if (r1_matmul_many(s->compute, ops, n) != R1_OK) return r1_fail(err, "moe: out of memory");
    return R1_OK;
}

int r1_moe(r1_state *s, int layer, int T, r1_err *err) {
    const r1_model *m = s->model;
    const r1_hparams *hp = &m->hp;
    const r1_layer *L = &m->layers[layer];
    int D = hp->dim, E = hp->n_experts, K = hp->n_experts_used;

    if (r1_matmul(s->compute, &L->router, s->xn, T, s->router_logits) != R1_OK) return r1_fail(err, "moe: out of memory");
    for (int t = 0; t < T; t++)
        r1_moe_route(hp, L->expert_bias, s->router_logits + (size_t)t * E, s->expert_ids + (size_t)t * K,
                    s->route_weights + (size_t)t * K, s->route_scratch);

    /* group the (token, expert) pairs by expert so each expert runs its tokens as one batch */
    expert_span spans[R1_MATMUL_MAX_OPS / 2];
    int max_spans = (R1_MATMUL_MAX_OPS - 2) / 2, n_spans = 0, slot = 0, with_shared = hp->n_shared_experts > 0;
    if (!with_shared) memset(s->block_out, 0, (size_t)T * D * sizeof(float));
    for (int e = 0; e <= E; e++) {
        /* a full group of experts, or the end: run what is gathered, then scatter-add */
        if (n_spans == max_spans || (e == E && (n_spans > 0 || with_shared))) {
            if (run_experts(s, L, spans, n_spans, with_shared, T, err) != R1_OK) return R1_ERR;
            with_shared = 0;
            for (int i = 0; i < n_spans; i++)
                for (int j = spans[i].first; j < spans[i].first + spans[i].count; j++)
                    r1_axpy_f32(D, s->slot_weight[j], s->expert_out + (size_t)j * D,
                                s->block_out + (size_t)s->slot_token[j] * D);
            n_spans = 0;
        }
        if (e == E) break;
        int first = slot;
        for (int t = 0; t < T; t++)
            for (int k = 0; k < K; k++)
                if (s->expert_ids[(size_t)t * K + k] == e) {
                    s->slot_token[slot] = t;
                    s->slot_weight[slot] = s->route_weights[(size_t)t * K + k];
                    memcpy(s->expert_in + (size_t)slot * D, s->xn + (size_t)t * D, (size_t)D * sizeof(float));
                    slot++;
                }
        if (slot > first) spans[n_spans++] = (expert_span){e, first, slot - first};
    }
    return R1_OK;
}
