#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/progress.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void format_duration(double seconds, char *out, size_t size) {
    long s = seconds < 0 ? 0 : (long)(seconds + 0.5);
    if (s >= 3600) snprintf(out, size, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else snprintf(out, size, "%ldm%02lds", s / 60, s % 60);
}

void r1_progress_start(r1_progress *p, const char *label, const char *unit, uint64_t total) {
    memset(p, 0, sizeof *p);
    p->label = label;
    p->unit = unit;
    p->total = total;
    p->start = now_seconds();
    p->is_tty = isatty(2);
}

static void draw(r1_progress *p, uint64_t done, const char *metrics, int final) {
    double elapsed = now_seconds() - p->start;
    double rate = elapsed > 0 ? done / elapsed : 0;
    char eta[32], spent[32], bar[32];
    format_duration(rate > 0 && p->total > done ? (p->total - done) / rate : 0, eta, sizeof eta);
    format_duration(elapsed, spent, sizeof spent);
    int width = 20, filled = p->total ? (int)(width * (double)done / p->total) : 0;
    if (filled > width) filled = width;
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = 0;
    double pct = p->total ? 100.0 * done / p->total : 0;
    fprintf(stderr, "%s%s [%s] %llu/%llu %s %5.1f%% %.2f %s/s %s %s%s%s%s", p->is_tty ? "\r\x1b[K" : "", p->label,
            bar, (unsigned long long)done, (unsigned long long)p->total, p->unit, pct, rate, p->unit,
            final ? "took" : "eta", final ? spent : eta, metrics && *metrics ? " | " : "", metrics ? metrics : "",
            p->is_tty && !final ? "" : "\n");
    fflush(stderr);
    p->drawn = p->is_tty && !final;
}

void r1_progress_update(r1_progress *p, uint64_t done, const char *metrics) {
    double t = now_seconds();
    if (t - p->last_draw < (p->is_tty ? 0.1 : 5.0)) return;
    p->last_draw = t;
    draw(p, done, metrics, 0);
}

void r1_progress_finish(r1_progress *p, uint64_t done, const char *metrics) { draw(p, done, metrics, 1); }
