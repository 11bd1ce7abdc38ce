/* Training metrics of every stage: one CSV row per logged step, and an SVG line plot
 * of chosen columns, drawn by hand (no plotting library).
 *
 * CSV: the header `step,<column>,...` once, then `<step>,<value>,...` rows, values
 * in %.6g (nan and inf as C prints them). A resumed run reopens the file with the
 * step of its checkpoint: rows logged after that step (by the run that stopped) are
 * dropped, since the resumed run logs them again, and new rows are appended, so the
 * file reads as if the run had never stopped.
 *
 * SVG: one panel, x = step, a shared y axis with "nice" ticks (1, 2, 5 × 10^k), one
 * polyline per column (non-finite values leave a gap; a value between two gaps, as
 * a column logged every N steps has, is a dot), a legend, a title. Columns
 * plotted together should share a scale (loss; or reward and accuracy). The file is
 * written as PATH.tmp and renamed, so a viewer never sees half a plot. */
#ifndef R1_METRICS_H
#define R1_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

#define R1_METRICS_MAX_COLUMNS 16

typedef struct {
    FILE *f;
    char path[1024];
    int n_columns; /* not counting step */
} r1_metrics;

/* Opens path for columns (names: letters, digits, '_'; at most
 * R1_METRICS_MAX_COLUMNS). resume_step < 0 starts a new file, replacing any old one.
 * resume_step ≥ 0 keeps an existing file, which must have the same header, and drops
 * its rows with step > resume_step (a missing or empty file is created). */
int r1_metrics_open(r1_metrics *m, const char *path, const char *const *columns, int n_columns, int64_t resume_step,
                    r1_err *err);
/* Appends a row (n_columns values) and flushes it. */
int r1_metrics_log(r1_metrics *m, uint64_t step, const double *values, r1_err *err);
void r1_metrics_close(r1_metrics *m);

/* Plots the named columns of a metrics CSV against step into svg_path. Fails naming
 * the file and line on a malformed CSV, or naming a column that is not in it. A CSV
 * without rows gives empty axes. */
int r1_metrics_plot_svg(const char *csv_path, const char *svg_path, const char *title, const char *const *columns,
                        int n_columns, r1_err *err);

#endif
