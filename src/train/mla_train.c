/* Multi-head Latent Attention for training (DeepSeek-V2 §2.1.2, V3 §2.1.1), in the
 * non-absorbed form: per-head keys and values are expanded from the latent,
 *
 *   c_q    = RMSNorm(W_dq·h)                      (q-LoRA; else q = W_q·h)
 *   q      = W_uq·c_q = [q_nope | q_rope]  per head,  q_rope ← RoPE(q_rope)
 *   c_kv   = RMSNorm(W_dkv·h),   k_rope = RoPE(W_kr·h)   (one rope key for all heads)
 *   k_h    = [W_uk,h·c_kv ; k_rope],   v_h = W_uv,h·c_kv
 *   o_h,t  = Σ_{j≤t} softmax_j(q_h,t·k_h,j / sqrt(nope + rope)) v_h,j
 *   out    = W_o·[o_1 … o_H]
 *
 * which equals the engine's absorbed form (mla.c) up to rounding, since
 * q_nope·(W_uk c) = (W_ukᵀ q_nope)·c and Σ a_j W_uv c_j = W_uv Σ a_j c_j.
 * Backward of each step follows its forward in reverse. */
#include <math.h>
#include <string.h>

#include "tensor/gemm_f32.h"
#include "train/linear.h"
#include "train/rows.h"
#include "train/tiny_model.h"

/* ---- steps split over the pool by rows that no other thread writes ---- */

typedef struct {
    r1_train_model *m;
    int layer;
} layer_job;

static void run_on_pool(r1_train_model *m, r1_pool_fn fn, int layer) {
    layer_job job = {.m = m, .layer = layer};
    if (m->pool) r1_pool_run(m->pool, fn, &job);
    else fn(&job, 0, 1);
}

/* Causal attention as products of strips of ATTN_STRIP queries (or keys) against
 * the keys (queries) that strip can see: the strip's diagonal block is computed
 * whole, a 1/(2·T/ATTN_STRIP) share of extra work spent on the zeros above the
 * diagonal, which the rows hold as exact zeros so that the products over them add
 * nothing. In a row packed with documents a strip's products start at its first
 * query's document (keys) or stop at its last key's document (queries): a term
 * across documents is an exact zero, so the skipped ones would add nothing either,
 * and with pretraining's examples of a few hundred tokens most of the triangle is
 * skipped. A multiple of the GEMM tile's 6 rows. */
enum { ATTN_STRIP = 24 };

static int min_int(int a, int b) { return a < b ? a : b; }

/* Where token row (b·T + t) of the batch starts its document, as an index in its
 * row (see r1_train_model.doc_start). */
static int doc_start(const r1_train_model *m, size_t row) { return m->doc_start ? m->doc_start[row] : 0; }

/* dst (cols × rows, row stride rows) = srcᵀ, src rows `stride` apart. */
static void transpose(float *dst, const float *src, size_t stride, int rows, int cols) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) dst[(size_t)c * rows + r] = src[(size_t)r * stride + c];
}

/* The rows t0..t0+rows of sequence b's T × T scores: query t sees the keys
 * [start, t] of its own document. The strip's own products (forward o, backward
 * dq) read its rows from k0, the strip's first key (its first query's document
 * start), to the strip's end; the key strips' products (dv, dk) read row t in the
 * strips from start's to t's. So zeros are needed from k0 or the start of start's
 * strip, whichever is first, up to start, and after t to the end of t's strip;
 * the rest of the row is never read, and is not written. */
static void causal_rows(const r1_train_model *m, int b, int t0, int rows, int k0, float *strip, int *start, int *len) {
    int T = m->T, keys = t0 + rows;
    for (int r = 0; r < rows; r++) {
        float *row = strip + (size_t)r * T;
        int t = t0 + r;
        start[r] = doc_start(m, (size_t)b * T + t);
        len[r] = t + 1 - start[r];
        int zero_from = min_int(k0, start[r] - start[r] % ATTN_STRIP);
        memset(row + zero_from, 0, (size_t)(start[r] - zero_from) * sizeof(float)); /* earlier documents */
        memset(row + t + 1, 0, (size_t)(keys - t - 1) * sizeof(float));
    }
}

/* att = softmax(q·k·scale) causal, o = Σ att_j v_j over thread's (sequence, head)
 * pairs: each writes only its own rows of att and attn_out, and its own slice of
 * attn_t, where the pair's keys [k_nope | k_rope] are laid out transposed
 * (QK × T) so that each strip's scores are one nn product. */
static void attention_forward_heads(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    r1_train_acts *a = &m->acts[job->layer];
    int B = m->B, T = m->T, N = B * T, H = c->n_heads, nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope;
    int V = c->v_head, width = QK > V ? QK : V;
    float scale = m->rope.attn_scale / sqrtf((float)QK);
    long p0, p1;
    r1_split_range((long)B * H, thread, n_threads, &p0, &p1);
    for (long pair = p0; pair < p1; pair++) {
        int b = (int)(pair / H), h = (int)(pair % H);
        const float *q = a->q + ((size_t)b * T * H + h) * QK, *v = a->v + ((size_t)h * N + (size_t)b * T) * V;
        float *keys_t = m->d.attn_t + (size_t)pair * width * T, *att = a->att + (size_t)pair * T * T;
        float *o = a->attn_out + ((size_t)b * T * H + h) * V;
        transpose(keys_t, a->k_nope + ((size_t)h * N + (size_t)b * T) * nope, nope, T, nope);
        transpose(keys_t + (size_t)nope * T, a->k_rope + (size_t)b * T * rope, rope, T, rope);
        for (int t0 = 0; t0 < T; t0 += ATTN_STRIP) {
            int rows = min_int(ATTN_STRIP, T - t0), keys = t0 + rows, k0 = doc_start(m, (size_t)b * T + t0);
            float *scores = att + (size_t)t0 * T;
            r1_gemm_nn_f32(R1_GEMM_SET, rows, keys - k0, QK, q + (size_t)t0 * H * QK, (size_t)H * QK, keys_t + k0, T,
                           scores + k0, T);
            int start[ATTN_STRIP], len[ATTN_STRIP];
            causal_rows(m, b, t0, rows, k0, scores, start, len);
            r1_softmax_rows(scores, T, rows, start, len, scale);
            r1_gemm_nn_f32(R1_GEMM_SET, rows, V, keys - k0, scores + k0, T, v + (size_t)k0 * V, V,
                           o + (size_t)t0 * H * V, (size_t)H * V);
        }
    }
}

/* The backward of attention_forward_heads over thread's sequences: the rope key is
 * shared by the heads, so a sequence's heads stay on one thread, in order, each
 * through the sequence's own dscore and attn_t. Per head:
 *   datt = do·vᵀ,  dscore = softmax_backward(datt)·scale  (query strips)
 *   dv += attᵀ·do,  dk += dscoreᵀ·q                      (key strips: keys j see queries t ≥ j)
 *   dq += dscore·k                                         (query strips) */
static void attention_backward_sequences(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_acts *a = &m->acts[job->layer];
    const r1_train_dacts *d = &m->d;
    int B = m->B, T = m->T, N = B * T, H = c->n_heads, nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope;
    int V = c->v_head, width = QK > V ? QK : V;
    size_t ldq = (size_t)H * QK, ldo = (size_t)H * V;
    float scale = m->rope.attn_scale / sqrtf((float)QK);
    long b0, b1;
    r1_split_range(B, thread, n_threads, &b0, &b1);
    for (long b = b0; b < b1; b++) {
        float *dscore = d->dscore + (size_t)b * T * T;
        float *values_t = d->attn_t + (size_t)b * H * width * T;
        const float *k_rope = a->k_rope + (size_t)b * T * rope;
        float *dk_rope = d->dk_rope + (size_t)b * T * rope;
        for (int h = 0; h < H; h++) {
            size_t kv_row = (size_t)h * N + (size_t)b * T;
            const float *k_nope = a->k_nope + kv_row * nope, *v = a->v + kv_row * V;
            const float *q = a->q + ((size_t)b * T * H + h) * QK, *att = a->att + ((size_t)b * H + h) * T * T;
            const float *dout = d->dattn_out + ((size_t)b * T * H + h) * V;
            float *dk_nope = d->dk_nope + kv_row * nope, *dv = d->dv + kv_row * V;
            float *dq = d->dq + ((size_t)b * T * H + h) * QK;
            transpose(values_t, v, V, T, V);
            for (int t0 = 0; t0 < T; t0 += ATTN_STRIP) {
                int rows = min_int(ATTN_STRIP, T - t0), keys = t0 + rows, k0 = doc_start(m, (size_t)b * T + t0);
                float *strip = dscore + (size_t)t0 * T;
                r1_gemm_nn_f32(R1_GEMM_SET, rows, keys - k0, V, dout + (size_t)t0 * ldo, ldo, values_t + k0, T,
                               strip + k0, T);
                int start[ATTN_STRIP], len[ATTN_STRIP];
                causal_rows(m, (int)b, t0, rows, k0, strip, start, len);
                r1_softmax_backward_rows(strip, att + (size_t)t0 * T, T, rows, start, len, scale);
                r1_gemm_nn_f32(R1_GEMM_ADD, rows, nope, keys - k0, strip + k0, T, k_nope + (size_t)k0 * nope, nope,
                               dq + (size_t)t0 * ldq, ldq);
                r1_gemm_nn_f32(R1_GEMM_ADD, rows, rope, keys - k0, strip + k0, T, k_rope + (size_t)k0 * rope, rope,
                               dq + (size_t)t0 * ldq + nope, ldq);
            }
            for (int j0 = 0; j0 < T; j0 += ATTN_STRIP) {
                int cols = min_int(ATTN_STRIP, T - j0), queries = T - j0;
                while (queries > cols && doc_start(m, (size_t)b * T + j0 + queries - 1) >= j0 + cols)
                    queries--; /* a query in a later document than every key of the strip */
                size_t corner = (size_t)j0 * T + j0;
                r1_gemm_tn_f32(R1_GEMM_ADD, cols, V, queries, att + corner, T, dout + (size_t)j0 * ldo, ldo,
                               dv + (size_t)j0 * V, V);
                r1_gemm_tn_f32(R1_GEMM_ADD, cols, nope, queries, dscore + corner, T, q + (size_t)j0 * ldq, ldq,
                               dk_nope + (size_t)j0 * nope, nope);
                r1_gemm_tn_f32(R1_GEMM_ADD, cols, rope, queries, dscore + corner, T, q + (size_t)j0 * ldq + nope, ldq,
                               dk_rope + (size_t)j0 * rope, rope);
            }
        }
    }
}

/* For thread's tokens [t0, t1): rotate the query rope parts, c_kv = RMSNorm(latent),
 * rotate the rope key; then per head k_nope_h = c_kv·k_b[h] with k_b[h] = W_ukᵀ
 * (R rows of nope). */
static void latent_forward_tokens(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[job->layer];
    r1_train_acts *a = &m->acts[job->layer];
    int T = m->T, N = m->B * T, H = c->n_heads, R = c->kv_lora_rank, nope = c->qk_nope, rope = c->qk_rope;
    int QK = nope + rope;
    long t0, t1;
    r1_split_range(N, thread, n_threads, &t0, &t1);
    if (t1 == t0) return;
    for (long t = t0; t < t1; t++) {
        const float *cos_sin = m->cos_sin + (size_t)(t % T - doc_start(m, (size_t)t)) * rope;
        for (int h = 0; h < H; h++) r1_rope_apply(&m->rope, a->q + ((size_t)t * H + h) * QK + nope, cos_sin);
        const float *kv_a = a->kv_a + (size_t)t * (R + rope);
        r1_rmsnorm(a->c_kv + (size_t)t * R, kv_a, L->kv_a_norm, R, c->norm_eps);
        memcpy(a->k_rope + (size_t)t * rope, kv_a + R, (size_t)rope * sizeof(float));
        r1_rope_apply(&m->rope, a->k_rope + (size_t)t * rope, cos_sin);
    }
    for (int h = 0; h < H; h++) {
        float *k_nope = a->k_nope + ((size_t)h * N + t0) * nope;
        r1_gemm_nn_f32(R1_GEMM_SET, (int)(t1 - t0), nope, R, a->c_kv + (size_t)t0 * R, R,
                       L->k_b + (size_t)h * R * nope, nope, k_nope, nope);
    }
}

/* dc_kv of thread's tokens, head after head: the keys' part dk_nope_h·k_b[h]ᵀ, then
 * dv_h·W_uv,h (the dx half of v_b's linear backward). */
static void latent_backward_tokens(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[job->layer];
    const r1_train_dacts *d = &m->d;
    int N = m->B * m->T, H = c->n_heads, R = c->kv_lora_rank, nope = c->qk_nope, V = c->v_head;
    long t0, t1;
    r1_split_range(N, thread, n_threads, &t0, &t1);
    if (t1 == t0) return;
    float *dc_kv = d->dc_kv + (size_t)t0 * R;
    for (int h = 0; h < H; h++) {
        r1_gemm_nt_f32(R1_GEMM_ADD, (int)(t1 - t0), R, nope, d->dk_nope + ((size_t)h * N + t0) * nope, nope,
                       L->k_b + (size_t)h * R * nope, nope, dc_kv, R);
        r1_gemm_nn_f32(R1_GEMM_ADD, (int)(t1 - t0), R, V, d->dv + ((size_t)h * N + t0) * V, V,
                       L->v_b + (size_t)h * V * R, R, dc_kv, R);
    }
}

/* dk_b[h][r] += Σ_t c_kv[t][r]·dk_nope_h[t] over thread's (head, r) rows. */
static void key_weight_backward_rows(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_acts *a = &m->acts[job->layer];
    r1_train_layer *dL = &m->dlayers[job->layer];
    int N = m->B * m->T, H = c->n_heads, R = c->kv_lora_rank, nope = c->qk_nope;
    long row0, row1;
    r1_split_range((long)H * R, thread, n_threads, &row0, &row1);
    for (int h = 0; h < H; h++) {
        long r0 = row0 > (long)h * R ? row0 - (long)h * R : 0, r1 = row1 < (long)(h + 1) * R ? row1 - (long)h * R : R;
        if (r1 <= r0) continue;
        r1_gemm_tn_f32(R1_GEMM_ADD, (int)(r1 - r0), nope, N, a->c_kv + r0, R, m->d.dk_nope + (size_t)h * N * nope,
                       nope, dL->k_b + ((size_t)h * R + r0) * nope, nope);
    }
}

/* Over thread's tokens, the rotations undone: the queries' rope parts in dq, the
 * rope key's gradient, which then joins dkv_a's rope columns. */
static void rope_backward_tokens(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_dacts *d = &m->d;
    int T = m->T, H = c->n_heads, R = c->kv_lora_rank, nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope;
    long t0, t1;
    r1_split_range((long)m->B * T, thread, n_threads, &t0, &t1);
    for (long t = t0; t < t1; t++) {
        const float *cos_sin = m->cos_sin + (size_t)(t % T - doc_start(m, (size_t)t)) * rope;
        for (int h = 0; h < H; h++) r1_rope_backward(&m->rope, d->dq + ((size_t)t * H + h) * QK + nope, cos_sin);
        float *dk_rope = d->dk_rope + (size_t)t * rope, *dkv_a = d->dkv_a + (size_t)t * (R + rope);
        r1_rope_backward(&m->rope, dk_rope, cos_sin);
        for (int i = 0; i < rope; i++) dkv_a[R + i] += dk_rope[i];
    }
}

void mla_forward(r1_train_model *m, int layer, float *out) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[layer];
    r1_train_acts *a = &m->acts[layer];
    int B = m->B, T = m->T, N = B * T, D = c->dim, H = c->n_heads, R = c->kv_lora_rank, Rq = c->q_lora_rank;
    int nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope, V = c->v_head;

    /* queries */
    if (Rq > 0) {
        r1_linear_forward_pool(m->pool, m->cfg.precision, a->q_lora_raw, a->xn_attn, L->q_a, N, D, Rq);
        r1_rows_rmsnorm(m->pool, a->q_lora, a->q_lora_raw, L->q_a_norm, N, Rq, c->norm_eps);
        r1_linear_forward_pool(m->pool, m->cfg.precision, a->q, a->q_lora, L->q_b, N, Rq, H * QK);
    } else {
        r1_linear_forward_pool(m->pool, m->cfg.precision, a->q, a->xn_attn, L->q_b, N, D, H * QK);
    }
    /* latent, rope key, and the per-head keys and values expanded from the latent */
    r1_linear_forward_pool(m->pool, m->cfg.precision, a->kv_a, a->xn_attn, L->kv_a, N, D, R + rope);
    run_on_pool(m, latent_forward_tokens, layer);
    for (int h = 0; h < H; h++)
        r1_linear_forward_pool(m->pool, R1_LINEAR_F32, a->v + (size_t)h * N * V, a->c_kv, L->v_b + (size_t)h * V * R,
                               N, R, V);

    /* causal attention within each sequence, one (sequence, head) pair per task */
    run_on_pool(m, attention_forward_heads, layer);
    r1_linear_forward_pool(m->pool, m->cfg.precision, out, a->attn_out, L->wo, N, H * V, D);
}

void mla_backward(r1_train_model *m, int layer, const float *dout, float *dinp) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[layer];
    r1_train_layer *dL = &m->dlayers[layer];
    r1_train_acts *a = &m->acts[layer];
    r1_train_dacts *d = &m->d;
    int B = m->B, T = m->T, N = B * T, D = c->dim, H = c->n_heads, R = c->kv_lora_rank, Rq = c->q_lora_rank;
    int nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope, V = c->v_head;

    r1_rows_zero(m->pool, d->dq, (size_t)N * H * QK);
    r1_rows_zero(m->pool, d->dkv_a, (size_t)N * (R + rope));
    r1_rows_zero(m->pool, d->dc_kv, (size_t)N * R);
    r1_rows_zero(m->pool, d->dk_rope, (size_t)N * rope);
    r1_rows_zero(m->pool, d->dk_nope, (size_t)H * N * nope);
    r1_rows_zero(m->pool, d->dv, (size_t)H * N * V);

    r1_linear_backward_pool(m->pool, m->cfg.precision, R1_GEMM_SET, d->dattn_out, dL->wo, dout, a->attn_out, L->wo, N,
                            H * V, D);

    /* attention: o = Σ att_j v_j, att = softmax(score), score = q·k·scale */
    run_on_pool(m, attention_backward_sequences, layer);

    /* expanded keys and values → latent */
    run_on_pool(m, latent_backward_tokens, layer);
    run_on_pool(m, key_weight_backward_rows, layer);
    for (int h = 0; h < H; h++)
        r1_linear_backward_pool(m->pool, R1_LINEAR_F32, R1_GEMM_ADD, NULL, dL->v_b + (size_t)h * V * R,
                                d->dv + (size_t)h * N * V, a->c_kv, L->v_b + (size_t)h * V * R, N, R, V);
    /* undo the rotations, then the latent's norm */
    run_on_pool(m, rope_backward_tokens, layer);
    r1_rows_rmsnorm_backward(m->pool, d->dkv_a, (size_t)(R + rope), dL->kv_a_norm, d->dc_kv, (size_t)R, a->kv_a,
                             (size_t)(R + rope), L->kv_a_norm, N, R, c->norm_eps, d->dnorm_rows);
    r1_linear_backward_pool(m->pool, m->cfg.precision, R1_GEMM_SET, dinp, dL->kv_a, d->dkv_a, a->xn_attn, L->kv_a, N, D,
                            R + rope);

    if (Rq > 0) {
        r1_rows_zero(m->pool, d->dq_lora_raw, (size_t)N * Rq);
        r1_linear_backward_pool(m->pool, m->cfg.precision, R1_GEMM_SET, d->dq_lora, dL->q_b, d->dq, a->q_lora, L->q_b,
                                N, Rq, H * QK);
        r1_rows_rmsnorm_backward(m->pool, d->dq_lora_raw, (size_t)Rq, dL->q_a_norm, d->dq_lora, (size_t)Rq,
                                 a->q_lora_raw, (size_t)Rq, L->q_a_norm, N, Rq, c->norm_eps, d->dnorm_rows);
        r1_linear_backward_pool(m->pool, m->cfg.precision, R1_GEMM_ADD, dinp, dL->q_a, d->dq_lora_raw, a->xn_attn,
                                L->q_a, N, D, Rq);
    } else {
        r1_linear_backward_pool(m->pool, m->cfg.precision, R1_GEMM_ADD, dinp, dL->q_b, d->dq, a->xn_attn, L->q_b, N, D,
                                H * QK);
    }
}
