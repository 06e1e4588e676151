/*
 * plot.h - the SVG picture of an evaluation (aiops-eval --plot): the input
 * series above, the anomaly score and its threshold below, labelled and
 * detected segments shaded in both, on one time axis.
 */
#ifndef AIOPS_PLOT_H
#define AIOPS_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

/*
 * What to draw. Nothing is owned: every pointer is the caller's and is only
 * read during aiops_plot_svg(). Values that are NaN or infinite are gaps.
 */
struct aiops_plot {
	const char *title;            /* e.g. "machine-1-1: pca:k=5  f1=0.61" (escaped by the writer) */
	size_t n;                     /* rows */
	const int64_t *ts;            /* timestamps in ms since the epoch, or NULL: row numbers */
	size_t nseries;               /* series to draw in the top panel (each min-max normalised) */
	const double *x;              /* n x stride row-major values */
	size_t stride;
	const size_t *cols;           /* which columns of x, nseries of them */
	char *const *names;           /* names of those columns (nseries), for the legend */
	const double *score;          /* n anomaly scores (NaN: gap) */
	double threshold;             /* drawn as a line in the score panel */
	const unsigned char *label;   /* n 0/1 or NULL: labelled segments shaded */
	const unsigned char *pred;    /* n 0/1 or NULL: detected segments shaded (another colour) */
};

/*
 * Append to out a self-contained SVG 1.1 document (UTF-8, no scripts, no
 * external references) of 1200 x 700 pixels: the title; the series panel,
 * each series scaled to its own finite minimum and maximum (a constant one
 * drawn flat in the middle); the score panel with the threshold as a dashed
 * line, on a log scale (said on the axis) when no score is negative and the
 * positive ones span more than 3 decades from about their 1st percentile
 * (the floor of the scale; smaller scores and zeros lie on it); a time axis
 * in UTC when ts is given and non-decreasing, else row numbers; a legend.
 *
 * Rows map linearly to 900 pixel columns. With more rows than that, each
 * column draws the minimum and maximum of its rows, so a single-row spike
 * stays visible and a series takes at most about 13 kB whatever n is
 * (1M rows x 38 noisy series: 490 kB, in a fraction of a second).
 * Each maximal run of 1s in label (class "seg-label") or pred (class
 * "seg-pred") is one rectangle in each panel; runs closer than a pixel
 * merge into one. Text (title, names) is XML-escaped; invalid UTF-8 and
 * control characters become U+FFFD. The bytes depend on the input only.
 *
 * ts, names, score, label and pred may be NULL; x and cols may be NULL
 * only when nseries is 0. Errors: AIOPS_ERR_USAGE for p or out NULL, a
 * missing x or cols, or a column not below stride; AIOPS_ERR_NOMEM.
 * On failure out is as it was (its allocation may have grown).
 */
int aiops_plot_svg(const struct aiops_plot *p, struct aiops_buf *out, struct aiops_error *e);

#endif
