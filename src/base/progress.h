/* A one-line progress bar on stderr for long work (training, evaluation, model
 * writing): done/total, percentage, rate, ETA and a few live metrics, redrawn
 * in place at most ~10 times a second on a terminal; on a pipe or file, one plain
 * line every few seconds instead, so logs stay readable. */
#ifndef R1_PROGRESS_H
#define R1_PROGRESS_H

#include <stdint.h>

typedef struct {
    const char *label;   /* "pretrain", "eval" ... */
    const char *unit;    /* "step", "problem" ... */
    uint64_t total;
    double start, last_draw;
    int is_tty;
    int drawn;           /* something is on the line */
} r1_progress;

void r1_progress_start(r1_progress *p, const char *label, const char *unit, uint64_t total);
/* metrics: a short preformatted text ("loss 2.31 lr 3e-4"), or NULL. */
void r1_progress_update(r1_progress *p, uint64_t done, const char *metrics);
/* Draws the final state and ends the line. */
void r1_progress_finish(r1_progress *p, uint64_t done, const char *metrics);

#endif
