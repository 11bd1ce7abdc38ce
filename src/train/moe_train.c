/* Feed-forward blocks for training: the dense SwiGLU FFN of the leading layers and
 * DeepSeekMoE (DeepSeek-V3 §2.1.2), forward and backward side by side.
 *
 *   s_i,t  = sigmoid(u_t·e_i)                                   affinity (eq. 15)
 *   pick_t = top-K of s_i,t + b_i (groups first), r1_moe_route — the engine's own
 *   g_i,t  = scale · s_i,t / Σ_{j∈pick_t} s_j,t    for i ∈ pick_t  (eq. 13–14)
 *   h'_t   = FFN_shared(u_t) + Σ_{i∈pick_t} g_i,t · FFN_i(u_t)       (eq. 12)
 *
 * The selection is a step function of the scores: the backward treats it as
 * constant and differentiates through g only. The bias b is not trained; after each
 * step it moves against the load (aux-loss-free balancing, moe_update_bias). The
 * complementary sequence-wise balance loss (eq. 17–20), per sequence of T tokens,
 *
 *   L_bal = α Σ_i f_i P_i,  f_i = E/(K·T) Σ_t 1[i ∈ pick_t],  P_i = (1/T) Σ_t s'_i,t,
 *   s'_i,t = s_i,t / Σ_j s_j,t,
 *
 * is averaged over the B sequences of the batch and summed over the MoE layers;
 * f is a count, so its gradient flows through P alone. */
#include <math.h>
#include <string.h>

#include "model/state.h"
#include "tensor/types.h"
#include "train/linear.h"
#include "train/rows.h"
#include "train/tiny_model.h"

/* ---- SwiGLU FFN: out = W_down·(silu(W_gate·x) ⊙ W_up·x), n rows ---- */

static void swiglu_ffn_forward(r1_pool *pool, r1_linear_precision precision, float *out, float *gate_in, float *up,
                               float *hidden, const float *x, const float *W_gate, const float *W_up,
                               const float *W_down, int n, int D, int F) {
    r1_linear_forward_pool(pool, precision, gate_in, x, W_gate, n, D, F);
    r1_linear_forward_pool(pool, precision, up, x, W_up, n, D, F);
    r1_rows_swiglu(pool, hidden, gate_in, up, (long)n * F);
    r1_linear_forward_pool(pool, precision, out, hidden, W_down, n, F, D);
}

/* dgate, dup, dhidden: scratch of n·F floats. dx NULL: weight gradients only;
 * dx_mode R1_GEMM_SET writes dx, R1_GEMM_ADD adds to it. */
static void swiglu_ffn_backward(r1_pool *pool, r1_linear_precision precision, r1_gemm_mode dx_mode, float *dx,
                                float *dW_gate, float *dW_up, float *dW_down, const float *dout, const float *gate_in,
                                const float *up, const float *hidden, const float *x, const float *W_gate,
                                const float *W_up, const float *W_down, int n, int D, int F, float *dgate, float *dup,
                                float *dhidden) {
    size_t nF = (size_t)n * F;
    r1_rows_zero(pool, dgate, nF);
    r1_rows_zero(pool, dup, nF);
    r1_linear_backward_pool(pool, precision, R1_GEMM_SET, dhidden, dW_down, dout, hidden, W_down, n, F, D);
    r1_rows_swiglu_backward(pool, dgate, dup, dhidden, gate_in, up, (long)n * F);
    r1_linear_backward_pool(pool, precision, dx_mode, dx, dW_gate, dgate, x, W_gate, n, D, F);
    r1_linear_backward_pool(pool, precision, R1_GEMM_ADD, dx, dW_up, dup, x, W_up, n, D, F);
}

/* ---- the dense FFN of the leading layers ---- */

void ffn_forward(r1_train_model *m, int layer, float *out) {
    const r1_train_layer *L = &m->layers[layer];
    r1_train_acts *a = &m->acts[layer];
    swiglu_ffn_forward(m->pool, m->cfg.precision, out, a->gate_in, a->up, a->hidden, a->xn_ffn, L->ffn_gate, L->ffn_up,
                       L->ffn_down, m->B * m->T, m->cfg.dim, m->cfg.ffn_dim);
}

void ffn_backward(r1_train_model *m, int layer, const float *dout, float *dinp) {
    const r1_train_layer *L = &m->layers[layer];
    r1_train_layer *dL = &m->dlayers[layer];
    r1_train_acts *a = &m->acts[layer];
    swiglu_ffn_backward(m->pool, m->cfg.precision, R1_GEMM_SET, dinp, dL->ffn_gate, dL->ffn_up, dL->ffn_down, dout,
                        a->gate_in, a->up, a->hidden, a->xn_ffn, L->ffn_gate, L->ffn_up, L->ffn_down, m->B * m->T,
                        m->cfg.dim, m->cfg.ffn_dim, m->d.dgate, m->d.dup, m->d.dhidden);
}

/* ---- DeepSeekMoE ---- */

/* f_i of sequence b (E values): E/(K·T) × the tokens routed to expert i. */
static void sequence_expert_fraction(const r1_train_model *m, const r1_train_acts *a, int b, float *f) {
    int T = m->T, E = m->cfg.n_experts, K = m->cfg.top_k;
    memset(f, 0, (size_t)E * sizeof(float));
    for (int t = b * T; t < (b + 1) * T; t++)
        for (int k = 0; k < K; k++) f[a->expert_ids[(size_t)t * K + k]] += 1.0f;
    for (int i = 0; i < E; i++) f[i] *= (float)E / ((float)K * (float)T);
}

/* Groups the n_slots slots by expert (counting sort, stable: ascending slots). */
static void group_slots_by_expert(r1_train_acts *a, int n_slots, int E) {
    int *start = a->expert_start;
    memset(start, 0, (size_t)(E + 1) * sizeof(int));
    for (int slot = 0; slot < n_slots; slot++) start[a->expert_ids[slot] + 1]++;
    for (int e = 0; e < E; e++) start[e + 1] += start[e];
    for (int e = 0, row = 0; e < E; e++)
        for (int slot = 0; slot < n_slots; slot++)
            if (a->expert_ids[slot] == e) a->expert_slot[row] = slot, a->slot_row[slot] = row, row++;
}

/* The per-token and per-row steps around the experts, each thread on its own
 * tokens (slots t·K .. t·K + K − 1) or grouped rows. */
typedef struct {
    r1_train_model *m;
    int layer;
    const float *dout, *rows, *slot_weights;
    float *out;
} moe_job;

/* scores = sigmoid(router logits) and the routing of tokens [t0, t1) */
static void route_tokens(void *ctx, long t0, long t1) {
    const moe_job *job = ctx;
    r1_train_model *m = job->m;
    r1_train_acts *a = &m->acts[job->layer];
    int E = m->cfg.n_experts, K = m->cfg.top_k;
    const float *bias = m->expert_bias + (size_t)job->layer * E;
    float scratch[R1_TRAIN_ROUTE_SCRATCH];
    for (size_t i = (size_t)t0 * E; i < (size_t)t1 * E; i++) a->scores[i] = 1.0f / (1.0f + expf(-a->router_logits[i]));
    for (long t = t0; t < t1; t++)
        r1_moe_route(&m->hp, bias, a->router_logits + (size_t)t * E, a->expert_ids + (size_t)t * K,
                     a->route_weights + (size_t)t * K, scratch);
}

/* exp_x[row] = xn_ffn of the row's token */
static void gather_rows(void *ctx, long row0, long row1) {
    const moe_job *job = ctx;
    r1_train_model *m = job->m;
    const r1_train_acts *a = &m->acts[job->layer];
    int D = m->cfg.dim, K = m->cfg.top_k;
    for (long row = row0; row < row1; row++)
        memcpy(m->d.exp_x + (size_t)row * D, a->xn_ffn + (size_t)(a->expert_slot[row] / K) * D,
               (size_t)D * sizeof(float));
}

static void gather_expert_inputs(r1_train_model *m, int layer) {
    moe_job job = {.m = m, .layer = layer};
    r1_pool_for(m->pool, (long)m->B * m->T * m->cfg.top_k, gather_rows, &job);
}

/* out_t += w_k·rows[row of slot (t, k)] over token t's slots, k ascending (w = 1
 * without slot_weights): the weighted sum of the expert outputs, or the experts'
 * input gradients gathered back to their tokens */
static void add_slot_rows(void *ctx, long t0, long t1) {
    const moe_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_acts *a = &m->acts[job->layer];
    int D = m->cfg.dim, K = m->cfg.top_k;
    for (long t = t0; t < t1; t++)
        for (int k = 0; k < K; k++) {
            size_t slot = (size_t)t * K + k;
            r1_axpy_f32(D, job->slot_weights ? job->slot_weights[slot] : 1.0f,
                        job->rows + (size_t)a->slot_row[slot] * D, job->out + (size_t)t * D);
        }
}

/* out_t += g_k·y_k: dg_k = dout_t·y_k, dy_k = g_k·dout_t */
static void slot_gradients(void *ctx, long t0, long t1) {
    const moe_job *job = ctx;
    r1_train_model *m = job->m;
    const r1_train_acts *a = &m->acts[job->layer];
    int D = m->cfg.dim, K = m->cfg.top_k;
    for (long t = t0; t < t1; t++)
        for (int k = 0; k < K; k++) {
            size_t slot = (size_t)t * K + k, row = (size_t)a->slot_row[slot];
            const float *dout_t = job->dout + (size_t)t * D;
            float *dexp_out = m->d.dexp_out + row * D;
            m->d.droute_weights[slot] = r1_dot_f32(D, dout_t, a->exp_out + row * D);
            for (int i = 0; i < D; i++) dexp_out[i] = a->route_weights[slot] * dout_t[i];
        }
}

void moe_forward(r1_train_model *m, int layer, float *out) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[layer];
    r1_train_acts *a = &m->acts[layer];
    int B = m->B, T = m->T, N = B * T, D = c->dim, E = c->n_experts, K = c->top_k, Fe = c->expert_ffn;
    float *load = m->expert_load + (size_t)layer * E;

    moe_job job = {.m = m, .layer = layer, .rows = a->exp_out, .slot_weights = a->route_weights, .out = out};
    r1_linear_forward_pool(m->pool, R1_LINEAR_F32, a->router_logits, a->xn_ffn, L->router, N, D, E);
    r1_pool_for(m->pool, N, route_tokens, &job);

    if (c->n_shared > 0)
        swiglu_ffn_forward(m->pool, m->cfg.precision, out, a->gate_in, a->up, a->hidden, a->xn_ffn, L->sh_gate,
                           L->sh_up, L->sh_down, N, D, Fe * c->n_shared);
    else
        memset(out, 0, (size_t)N * D * sizeof(float));

    /* routed experts: each expert's slots as one matrix product, then the weighted
     * sum in slot order */
    group_slots_by_expert(a, N * K, E);
    gather_expert_inputs(m, layer);
    for (int e = 0; e < E; e++) {
        int row = a->expert_start[e], n = a->expert_start[e + 1] - row;
        load[e] = (float)n;
        if (n == 0) continue;
        size_t w_off = (size_t)e * Fe * D;
        swiglu_ffn_forward(m->pool, m->cfg.precision, a->exp_out + (size_t)row * D, a->exp_gate_in + (size_t)row * Fe,
                           a->exp_up + (size_t)row * Fe, a->exp_hidden + (size_t)row * Fe,
                           m->d.exp_x + (size_t)row * D, L->exp_gate + w_off, L->exp_up + w_off, L->exp_down + w_off,
                           n, D, Fe);
    }
    r1_pool_for(m->pool, N, add_slot_rows, &job);

    if (c->balance_alpha == 0.0f) return;
    float *f = m->d.expert_fraction;
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        sequence_expert_fraction(m, a, b, f);
        for (int t = b * T; t < (b + 1) * T; t++) {
            const float *s = a->scores + (size_t)t * E;
            double sum = 0.0, fp = 0.0;
            for (int i = 0; i < E; i++) sum += s[i];
            for (int i = 0; i < E; i++) fp += (double)f[i] * s[i] / sum;
            total += c->balance_alpha * fp / T;
        }
    }
    m->balance_loss += (float)(total / B);
}

void moe_backward(r1_train_model *m, int layer, const float *dout, float *dinp) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[layer];
    r1_train_layer *dL = &m->dlayers[layer];
    r1_train_acts *a = &m->acts[layer];
    r1_train_dacts *d = &m->d;
    int B = m->B, T = m->T, N = B * T, D = c->dim, E = c->n_experts, K = c->top_k, Fe = c->expert_ffn;

    if (c->n_shared > 0)
        swiglu_ffn_backward(m->pool, m->cfg.precision, R1_GEMM_SET, dinp, dL->sh_gate, dL->sh_up, dL->sh_down, dout,
                            a->gate_in, a->up, a->hidden, a->xn_ffn, L->sh_gate, L->sh_up, L->sh_down, N, D,
                            Fe * c->n_shared, d->dgate, d->dup, d->dhidden);
    else
        r1_rows_zero(m->pool, dinp, (size_t)N * D);

    moe_job job = {.m = m, .layer = layer, .dout = dout, .rows = d->dexp_x, .out = dinp};
    r1_pool_for(m->pool, N, slot_gradients, &job);
    /* each expert's gradients over its rows (in slot order), then the inputs'
     * gradients token by token, so dinp_t gathers its slots in the order k */
    gather_expert_inputs(m, layer);
    for (int e = 0; e < E; e++) {
        int row = a->expert_start[e], n = a->expert_start[e + 1] - row;
        if (n == 0) continue;
        size_t w_off = (size_t)e * Fe * D;
        swiglu_ffn_backward(m->pool, m->cfg.precision, R1_GEMM_SET, d->dexp_x + (size_t)row * D, dL->exp_gate + w_off,
                            dL->exp_up + w_off, dL->exp_down + w_off, d->dexp_out + (size_t)row * D,
                            a->exp_gate_in + (size_t)row * Fe, a->exp_up + (size_t)row * Fe,
                            a->exp_hidden + (size_t)row * Fe, d->exp_x + (size_t)row * D, L->exp_gate + w_off,
                            L->exp_up + w_off, L->exp_down + w_off, n, D, Fe, d->dexp_gate + (size_t)row * Fe,
                            d->dexp_up + (size_t)row * Fe, d->dexp_hidden + (size_t)row * Fe);
    }
    r1_pool_for(m->pool, N, add_slot_rows, &job);

    /* ∂L/∂s of the picked experts through g_k = scale·s_k/n, n = Σ_picked s:
     * ds_j = scale/n · (dg_j − Σ_k dg_k s_k / n); then ds/dlogit = s(1 − s) */
    memset(d->drouter_logits, 0, (size_t)N * E * sizeof(float));
    for (int t = 0; t < N; t++) {
        const float *s = a->scores + (size_t)t * E;
        const int *ids = a->expert_ids + (size_t)t * K;
        const float *dg = d->droute_weights + (size_t)t * K;
        float *dlogit = d->drouter_logits + (size_t)t * E;
        double n = 0.0, dot = 0.0;
        for (int k = 0; k < K; k++) n += s[ids[k]];
        for (int k = 0; k < K; k++) dot += (double)dg[k] * s[ids[k]];
        for (int k = 0; k < K; k++) {
            int j = ids[k];
            double ds = c->route_scale / n * (dg[k] - dot / n);
            dlogit[j] += (float)(ds * s[j] * (1.0 - s[j]));
        }
    }

    /* balance loss: ∂L/∂s'_i,t = α f_i / (T·B), times the batch share; through s' = s/S:
     * ds_j = ds'_j/S − (Σ_i ds'_i s_i)/S² */
    if (c->balance_alpha != 0.0f) {
        float *f = d->expert_fraction;
        for (int b = 0; b < B; b++) {
            sequence_expert_fraction(m, a, b, f);
            for (int t = b * T; t < (b + 1) * T; t++) {
                const float *s = a->scores + (size_t)t * E;
                float *dlogit = d->drouter_logits + (size_t)t * E;
                double S = 0.0, fs = 0.0, coef = (double)c->balance_alpha * m->balance_share / ((double)T * B);
                for (int i = 0; i < E; i++) S += s[i];
                for (int i = 0; i < E; i++) fs += coef * f[i] * s[i];
                for (int j = 0; j < E; j++) {
                    double ds = coef * f[j] / S - fs / (S * S);
                    dlogit[j] += (float)(ds * s[j] * (1.0 - s[j]));
                }
            }
        }
    }
    r1_linear_backward_pool(m->pool, R1_LINEAR_F32, R1_GEMM_ADD, dinp, dL->router, d->drouter_logits, a->xn_ffn,
                            L->router, N, D, E);
}

void moe_update_bias(float *expert_bias, const float *load, int E, float gamma) {
    double mean = 0.0;
    for (int i = 0; i < E; i++) mean += load[i];
    mean /= E;
    for (int i = 0; i < E; i++) {
        float sign = load[i] > mean ? 1.0f : load[i] < mean ? -1.0f : 0.0f;
        expert_bias[i] -= gamma * sign;
    }
}
