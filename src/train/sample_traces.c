/* Sampled traces into a JSONL file (see sample_traces.h). */
#include "train/sample_traces.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/output_file.h"
#include "base/progress.h"
#include "train/traces_file.h"

int r1_sample_filter_by_name(const char *name, r1_sample_filter *out, r1_err *err) {
    if (!strcmp(name, "all")) return *out = R1_SAMPLE_KEEP_ALL, R1_OK;
    if (!strcmp(name, "correct")) return *out = R1_SAMPLE_KEEP_CORRECT, R1_OK;
    if (!strcmp(name, "sound")) return *out = R1_SAMPLE_KEEP_SOUND, R1_OK;
    return r1_fail(err, "unknown filter '%s' (correct|sound|all)", name);
}

int r1_sample_sound(const r1_problem *p, const char *text, size_t len) {
    if (p->kind != R1_TASK_COUNTDOWN) return 1;
    r1_countdown_steps steps;
    return r1_countdown_first_false(p, text, len, &steps) < 0 && steps.ended;
}

typedef struct {
    FILE *f;
    r1_sample_filter filter;
    long n_problems;
    int quiet;
    r1_progress bar;
    char line[96];     /* the progress bar's metrics */
    r1_sample_result *res;
} sink;

static int write_group(void *ctx, const r1_rollout_group *g, r1_err *err) {
    sink *s = ctx;
    for (int j = 0; j < g->k; j++) {
        int correct = g->rewards[j].correct;
        s->res->samples++;
        s->res->correct += correct;
        if (s->filter != R1_SAMPLE_KEEP_ALL && !correct) continue;
        const r1_generation *sample = &g->samples[j];
        if (s->filter == R1_SAMPLE_KEEP_SOUND && !r1_sample_sound(g->problem, sample->text, sample->len)) continue;
        r1_trace_record rec = {.prompt = g->question, .completion = sample->text,
                               .completion_len = sample->len, .reward = g->rewards[j].reward,
                               .task = r1_task_name(g->problem->kind)};
        if (r1_traces_file_write(s->f, &rec, err) != R1_OK) return R1_ERR;
        s->res->kept++;
    }
    s->res->problems = g->index + 1;
    if (fflush(s->f) != 0) return r1_fail(err, "write failed: %s", strerror(errno));
    snprintf(s->line, sizeof s->line, "kept %ld/%ld, accuracy %.3f", s->res->kept, s->res->samples,
             (double)s->res->correct / (double)s->res->samples);
    if (!s->quiet) r1_progress_update(&s->bar, (uint64_t)s->res->problems, s->line);
    return R1_OK;
}

int r1_sample_traces(const r1_rollout_params *rollout, r1_sample_filter filter, const r1_problem *problems, long n,
                     const char *out_path, int quiet, r1_sample_result *res, r1_err *err) {
    memset(res, 0, sizeof *res);
    if (r1_output_file_check(out_path, err) != R1_OK) return r1_fail_within(err, "sample: ");
    char tmp[1100];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", out_path) >= (int)sizeof tmp)
        return r1_fail(err, "sample: path too long: %.200s", out_path);
    sink s = {.f = fopen(tmp, "w"), .filter = filter, .n_problems = n, .quiet = quiet, .res = res};
    if (!s.f) return r1_fail(err, "sample: cannot create %s: %s", tmp, strerror(errno));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!quiet) r1_progress_start(&s.bar, "sample", "problem", (uint64_t)n);
    long done = 0;
    int rc = r1_rollout_run(rollout, problems, n, write_group, &s, &done, err);
    if (rc != R1_OK) r1_fail_within(err, "sample: "); /* the rollout's, or write_group's, message */
    if (!quiet && done > 0) r1_progress_finish(&s.bar, (uint64_t)done, s.line);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    res->interrupted = rc == R1_OK && done < n;
    int synced = fflush(s.f) == 0 && fsync(fileno(s.f)) == 0;
    if (fclose(s.f) != 0) synced = 0;
    if (rc == R1_OK && !synced) rc = r1_fail(err, "sample: cannot write %s: %s", tmp, strerror(errno));
    if (rc == R1_OK && !res->interrupted && rename(tmp, out_path) != 0)
        rc = r1_fail(err, "sample: cannot rename %s to %s: %s", tmp, out_path, strerror(errno));
    if (rc != R1_OK || res->interrupted) unlink(tmp);
    return rc;
}
