/* Metrics CSV and SVG plots (see metrics.h). */
#include "train/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading a metrics CSV ---- */

typedef struct {
    char *text;            /* the whole file, NUL-terminated; header names point into it */
    char *names[R1_METRICS_MAX_COLUMNS + 1]; /* (n_cols) "step", then the columns */
    int n_cols;
    double *values;        /* (n_rows, n_cols) */
    size_t n_rows;
    size_t header_len;     /* bytes of the header line, with its '\n' */
    size_t *row_end;       /* (n_rows) file offset just past each row's '\n' */
} csv_table;

static void csv_free(csv_table *c) {
    free(c->text);
    free(c->values);
    free(c->row_end);
    memset(c, 0, sizeof *c);
}

static int read_file(const char *path, char **out, size_t *size, r1_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return r1_fail(err, "metrics: cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (size_t got; buf; len += got) {
        if (len + 1 >= cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        if (got == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf) return r1_fail(err, "metrics: out of memory reading %s", path);
    if (failed) {
        free(buf);
        return r1_fail(err, "metrics: read error in %s", path);
    }
    buf[len] = 0;
    *out = buf;
    *size = len;
    return R1_OK;
}

static int csv_read(const char *path, csv_table *c, r1_err *err) {
    memset(c, 0, sizeof *c);
    size_t size;
    if (read_file(path, &c->text, &size, err) != R1_OK) return R1_ERR;
    char *line = c->text, *nl = strchr(line, '\n');
    if (!nl) {
        csv_free(c);
        return r1_fail(err, "metrics: %s: no header line", path);
    }
    *nl = 0;
    c->header_len = (size_t)(nl - c->text) + 1;
    for (char *name = line;; c->n_cols++) {
        if (c->n_cols > R1_METRICS_MAX_COLUMNS) {
            csv_free(c);
            return r1_fail(err, "metrics: %s: more than %d columns", path, R1_METRICS_MAX_COLUMNS);
        }
        c->names[c->n_cols] = name;
        char *comma = strchr(name, ',');
        if (!comma) {
            c->n_cols++;
            break;
        }
        *comma = 0;
        name = comma + 1;
    }
    if (strcmp(c->names[0], "step") != 0) {
        r1_fail(err, "metrics: %s: the first column is '%.64s', not 'step'", path, c->names[0]);
        csv_free(c); /* clears c, names included: the message is written first */
        return R1_ERR;
    }
    size_t max_rows = 0;
    for (const char *p = nl + 1; *p; p++) max_rows += *p == '\n';
    c->values = malloc((max_rows + 1) * (size_t)c->n_cols * sizeof *c->values);
    c->row_end = malloc((max_rows + 1) * sizeof *c->row_end);
    if (!c->values || !c->row_end) {
        csv_free(c);
        return r1_fail(err, "metrics: out of memory reading %s", path);
    }
    int line_no = 1;
    for (char *p = nl + 1; *p;) {
        line_no++;
        char *end = strchr(p, '\n');
        if (!end) break; /* a last row cut off by a crash mid-write: not a row */
        double *row = c->values + c->n_rows * c->n_cols;
        for (int j = 0; j < c->n_cols; j++) {
            char *after;
            errno = 0;
            row[j] = strtod(p, &after);
            char want = j + 1 < c->n_cols ? ',' : '\n';
            if (after == p || *after != want) {
                csv_free(c);
                return r1_fail(err, "metrics: %s:%d: column %d is not a number followed by '%s'", path, line_no,
                               j + 1, want == ',' ? "," : "end of line");
            }
            p = after + 1;
        }
        c->row_end[c->n_rows++] = (size_t)(p - c->text);
    }
    return R1_OK;
}

/* ---- writing ---- */

/* Writes len bytes to path atomically (path.tmp, fsync, rename). */
static int write_atomic(const char *path, const char *bytes, size_t len, r1_err *err) {
    char tmp[1100];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return r1_fail(err, "metrics: path too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return r1_fail(err, "metrics: cannot create %s: %s", tmp, strerror(errno));
    int ok = fwrite(bytes, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return r1_fail(err, "metrics: cannot write %s: %s", path, strerror(e));
    }
    return R1_OK;
}

static int valid_name(const char *name) {
    if (!*name) return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

int r1_metrics_open(r1_metrics *m, const char *path, const char *const *columns, int n_columns, int64_t resume_step,
                    r1_err *err) {
    memset(m, 0, sizeof *m);
    if (n_columns < 1 || n_columns > R1_METRICS_MAX_COLUMNS)
        return r1_fail(err, "metrics: %d columns (1 to %d allowed)", n_columns, R1_METRICS_MAX_COLUMNS);
    if (snprintf(m->path, sizeof m->path, "%s", path) >= (int)sizeof m->path)
        return r1_fail(err, "metrics: path too long: %s", path);
    char header[R1_METRICS_MAX_COLUMNS * 72 + 8] = "step";
    for (int j = 0; j < n_columns; j++) {
        if (!valid_name(columns[j]) || strlen(columns[j]) > 64 || !strcmp(columns[j], "step"))
            return r1_fail(err, "metrics: bad column name '%s' (letters, digits and '_', not 'step')", columns[j]);
        strcat(header, ",");
        strcat(header, columns[j]);
    }
    strcat(header, "\n");
    m->n_columns = n_columns;

    size_t keep = 0; /* bytes of the old file to keep */
    char *old = NULL;
    struct stat st; /* a missing or empty file (lost in a crash or a full disk) is started anew */
    if (resume_step >= 0 && stat(path, &st) == 0 && st.st_size > 0) {
        csv_table c;
        if (csv_read(path, &c, err) != R1_OK) return R1_ERR;
        int same = c.n_cols == n_columns + 1;
        for (int j = 0; same && j < n_columns; j++) same = !strcmp(c.names[j + 1], columns[j]);
        if (!same) {
            csv_free(&c);
            return r1_fail(err, "metrics: %s has other columns than this run logs; move it away to start anew", path);
        }
        keep = c.header_len;
        for (size_t r = 0; r < c.n_rows && c.values[r * c.n_cols] <= (double)resume_step; r++) keep = c.row_end[r];
        csv_free(&c);
        size_t size;
        if (read_file(path, &old, &size, err) != R1_OK) return R1_ERR;
        if (keep > size) keep = size;
    }
    int rc = old ? write_atomic(path, old, keep, err) : write_atomic(path, header, strlen(header), err);
    free(old);
    if (rc != R1_OK) return R1_ERR;
    m->f = fopen(path, "ab");
    if (!m->f) return r1_fail(err, "metrics: cannot append to %s: %s", path, strerror(errno));
    return R1_OK;
}

int r1_metrics_log(r1_metrics *m, uint64_t step, const double *values, r1_err *err) {
    if (!m->f) return r1_fail(err, "metrics: %s is not open", m->path);
    int ok = fprintf(m->f, "%llu", (unsigned long long)step) > 0;
    for (int j = 0; j < m->n_columns; j++) ok = ok && fprintf(m->f, ",%.6g", values[j]) > 0;
    ok = ok && fputc('\n', m->f) != EOF && fflush(m->f) == 0;
    if (!ok) return r1_fail(err, "metrics: cannot write %s: %s", m->path, strerror(errno));
    return R1_OK;
}

void r1_metrics_close(r1_metrics *m) {
    if (m->f) fclose(m->f);
    m->f = NULL;
}

/* ---- the SVG plot ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} text_buf;

static void put(text_buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_buf *t, const char *fmt, ...) {
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 16384;
        while (cap < t->len + (size_t)n + 1) cap *= 2;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
}

/* Text with the XML specials escaped. */
static void put_escaped(text_buf *t, const char *s) {
    for (; *s; s++) {
        if (*s == '<') put(t, "&lt;");
        else if (*s == '>') put(t, "&gt;");
        else if (*s == '&') put(t, "&amp;");
        else if (*s == '"') put(t, "&quot;");
        else put(t, "%c", *s);
    }
}

/* A tick spacing of 1, 2 or 5 × 10^k giving about n ticks over range. */
static double nice_step(double range, int n) {
    double raw = range / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* Values drawn: finite and small enough that ranges and ticks stay finite. */
static int plottable(double v) { return isfinite(v) && fabs(v) < 1e300; }

enum { WIDTH = 760, HEIGHT = 420, LEFT = 70, RIGHT = 170, TOP = 40, BOTTOM = 50 };

int r1_metrics_plot_svg(const char *csv_path, const char *svg_path, const char *title, const char *const *columns,
                        int n_columns, r1_err *err) {
    if (n_columns < 1 || n_columns > R1_METRICS_MAX_COLUMNS)
        return r1_fail(err, "metrics: plot of %d columns (1 to %d allowed)", n_columns, R1_METRICS_MAX_COLUMNS);
    csv_table c;
    if (csv_read(csv_path, &c, err) != R1_OK) return R1_ERR;
    int col[R1_METRICS_MAX_COLUMNS];
    for (int j = 0; j < n_columns; j++) {
        col[j] = -1;
        for (int k = 1; k < c.n_cols; k++)
            if (!strcmp(c.names[k], columns[j])) col[j] = k;
        if (col[j] < 0) {
            csv_free(&c);
            return r1_fail(err, "metrics: %s has no column '%s'", csv_path, columns[j]);
        }
    }
    /* data ranges over the finite values */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t r = 0; r < c.n_rows; r++) {
        const double *row = c.values + r * c.n_cols;
        for (int j = 0; j < n_columns; j++)
            if (plottable(row[col[j]]) && plottable(row[0])) {
                x0 = fmin(x0, row[0]), x1 = fmax(x1, row[0]);
                y0 = fmin(y0, row[col[j]]), y1 = fmax(y1, row[col[j]]);
            }
    }
    if (!(x0 <= x1)) x0 = 0, x1 = 1;
    if (!(y0 <= y1)) y0 = 0, y1 = 1;
    if (x1 == x0) x1 = x0 + 1;
    if (y1 == y0) y0 -= fmax(1, fabs(y0) * 0.1), y1 += fmax(1, fabs(y1) * 0.1);
    double ystep = nice_step(y1 - y0, 6), xstep = fmax(1, nice_step(x1 - x0, 8)); /* steps are whole */
    y0 = floor(y0 / ystep) * ystep;
    y1 = ceil(y1 / ystep) * ystep;
    const double pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM;
#define PX(x) (LEFT + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (TOP + ph - ((y) - y0) / (y1 - y0) * ph)

    text_buf t = {0};
    put(&t, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n", WIDTH, HEIGHT, WIDTH, HEIGHT);
    put(&t, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH, HEIGHT);
    put(&t, "<text x=\"%d\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">", (int)(LEFT + pw / 2));
    put_escaped(&t, title ? title : "");
    put(&t, "</text>\n");
    /* grid, ticks and tick labels */
    for (double y = y0; y <= y1 + ystep * 1e-6; y += ystep) {
        double py = PY(y), shown = fabs(y) < ystep * 1e-6 ? 0 : y;
        put(&t, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", LEFT, py, LEFT + pw, py);
        put(&t, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", LEFT - 6, py + 4, shown);
    }
    for (double x = ceil(x0 / xstep) * xstep; x <= x1 + xstep * 1e-6; x += xstep) {
        double px = PX(x);
        put(&t, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", px, TOP, px, TOP + ph);
        put(&t, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.6g</text>\n", px, TOP + ph + 16, x);
    }
    put(&t, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n", LEFT, TOP, pw,
        ph);
    put(&t, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">step</text>\n", LEFT + pw / 2, HEIGHT - 12);
    /* one polyline per column; a non-finite value ends the current segment, and a
     * segment of one point (a value logged every N steps) is drawn as a dot */
    for (int j = 0; j < n_columns; j++) {
        const char *color = palette[j % (sizeof palette / sizeof palette[0])];
        size_t segment = 0; /* points in the current segment */
        double first_x = 0, first_y = 0;
        for (size_t r = 0; r <= c.n_rows; r++) {
            const double *row = r < c.n_rows ? c.values + r * c.n_cols : NULL;
            int point = row && plottable(row[0]) && plottable(row[col[j]]);
            if (!point) {
                if (segment == 1)
                    put(&t, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", first_x, first_y, color);
                else if (segment > 1) put(&t, "\"/>\n");
                segment = 0;
                continue;
            }
            double px = PX(row[0]), py = PY(row[col[j]]);
            if (segment == 0) first_x = px, first_y = py;
            else if (segment == 1)
                put(&t, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%.1f,%.1f %.1f,%.1f",
                    color, first_x, first_y, px, py);
            else put(&t, " %.1f,%.1f", px, py);
            segment++;
        }
        double ly = TOP + 10 + 20 * j;
        put(&t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n",
            LEFT + pw + 14, ly, LEFT + pw + 38, ly, color);
        put(&t, "<text x=\"%.1f\" y=\"%.1f\">", LEFT + pw + 44, ly + 4);
        put_escaped(&t, columns[j]);
        put(&t, "</text>\n");
    }
    put(&t, "</svg>\n");
#undef PX
#undef PY
    csv_free(&c);
    int rc = t.failed ? r1_fail(err, "metrics: out of memory drawing %s", svg_path)
                      : write_atomic(svg_path, t.buf, t.len, err);
    free(t.buf);
    return rc;
}
