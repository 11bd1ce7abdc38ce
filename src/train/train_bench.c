/* `r1 train bench`: timed training steps (see train_bench.h). */
#include "train/train_bench.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "base/pool.h"
#include "train/adamw.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Everything a bench holds, released in one place. */
typedef struct {
    r1_train_model model;
    r1_pool *pool;
    r1_adamw opt;
    int *tokens, *targets;
    double *rates;
} bench_state;

static void bench_free(bench_state *s) {
    r1_train_model_free(&s->model);
    r1_pool_free(s->pool);
    r1_adamw_free(&s->opt);
    free(s->tokens);
    free(s->targets);
    free(s->rates);
}

/* One step; seconds[0..2] receive forward, backward, optimizer. */
static int timed_step(bench_state *s, const r1_pretrain_config *cfg, double seconds[3], r1_err *err) {
    r1_train_model *m = &s->model;
    float loss;
    double t0 = now_seconds();
    r1_train_zero_grad(m);
    if (r1_train_forward(m, s->tokens, s->targets, cfg->model.batch, cfg->model.seq_len, &loss, err) != R1_OK)
        return R1_ERR;
    double t1 = now_seconds();
    r1_train_backward(m);
    double t2 = now_seconds();
    r1_clip_grad_norm_pool(s->pool, m->grads, m->n_params, cfg->clip > 0 ? cfg->clip : INFINITY);
    r1_adamw_step_pool(s->pool, &s->opt, m->params, m->grads, cfg->opt.lr, NULL);
    double t3 = now_seconds();
    if (!isfinite(loss)) return r1_fail(err, "train bench: the loss is %g", loss);
    seconds[0] = t1 - t0, seconds[1] = t2 - t1, seconds[2] = t3 - t2;
    return R1_OK;
}

int r1_train_bench(const r1_pretrain_config *cfg, int threads, int reps, r1_train_bench_result *res, r1_err *err) {
    if (reps < 1) return r1_fail(err, "train bench: reps %d must be at least 1", reps);
    if (r1_train_config_check(&cfg->model, err) != R1_OK) return R1_ERR;
    bench_state s = {0};
    int rc = R1_ERR, N = cfg->model.batch * cfg->model.seq_len, V = cfg->model.vocab;
    if (r1_train_model_init(&s.model, &cfg->model, cfg->data.seed, err) != R1_OK) return R1_ERR;
    if (threads != 1) {
        s.pool = r1_pool_create(threads);
        if (!s.pool) {
            rc = r1_fail(err, "train bench: cannot start %d threads", threads);
            goto done;
        }
        r1_train_model_set_pool(&s.model, s.pool);
    }
    if (r1_adamw_init(&s.opt, s.model.n_params, cfg->opt, err) != R1_OK) goto done;
    s.tokens = r1_malloc(err, (size_t)N * sizeof(int), "bench tokens");
    s.targets = r1_malloc(err, (size_t)N * sizeof(int), "bench targets");
    s.rates = r1_malloc(err, (size_t)reps * sizeof(double), "bench rates");
    if (!s.tokens || !s.targets || !s.rates) goto done;
    /* a fixed LCG stream: every run sees the same batch, every target is counted */
    uint32_t state = (uint32_t)cfg->data.seed * 2654435761u + 1;
    for (int i = 0; i < N; i++) s.tokens[i] = (int)((state = state * 1664525u + 1013904223u) >> 8) % V;
    for (int i = 0; i < N; i++) s.targets[i] = i + 1 < N ? s.tokens[i + 1] : s.tokens[0];

    *res = (r1_train_bench_result){.n_params = s.model.n_params, .threads = r1_pool_size(s.pool)};
    double best = INFINITY, seconds[3] = {0};
    for (int r = -1; r < reps; r++) { /* r = −1: warm-up (first touch of the activations) */
        if (timed_step(&s, cfg, seconds, err) != R1_OK) goto done;
        double total = seconds[0] + seconds[1] + seconds[2];
        if (r < 0) continue;
        s.rates[r] = N / total;
        if (total < best) {
            best = total;
            res->forward_s = seconds[0], res->backward_s = seconds[1], res->optimizer_s = seconds[2];
        }
    }
    qsort(s.rates, (size_t)reps, sizeof(double), compare_doubles);
    res->best_tokens_per_s = N / best;
    res->median_tokens_per_s = reps % 2 ? s.rates[reps / 2] : 0.5 * (s.rates[reps / 2 - 1] + s.rates[reps / 2]);
    rc = R1_OK;
done:
    bench_free(&s);
    return rc;
}
