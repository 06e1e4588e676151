/*
 * evalmetrics.h - what aiops-eval measures beyond the ranking metrics of
 * metrics.h: point-wise metrics at a threshold, point adjustment, event-wise
 * (segment) metrics and detection delay, forecast errors, the NAB score,
 * root-cause HitRate, and the drift statistics PSI and two-sample KS.
 *
 * Labels and decisions are 0/1 bytes, one per row. A segment is a maximal
 * run of 1s in the labels.
 */
#ifndef AIOPS_EVALMETRICS_H
#define AIOPS_EVALMETRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* Point-wise confusion counts and the derived figures (0 where undefined). */
struct aiops_point {
	size_t tp, fp, fn, tn;
	double precision, recall, f1;
};

/*
 * pred[i] = score[i] >= thr for i < n (a NaN score is "normal"); pred is n
 * bytes. With pred NULL nothing is written (the call does nothing).
 */
void aiops_decide(const double *score, size_t n, double thr, unsigned char *pred);
/* Confusion counts of pred against y (any nonzero byte is a 1). */
void aiops_point_metrics(const unsigned char *y, const unsigned char *pred, size_t n,
    struct aiops_point *out);

/*
 * Point adjustment (Xu et al., WWW 2018, as most papers since use it): a
 * labelled segment counts as wholly detected when any of its rows is
 * predicted. adj (n bytes, may alias pred) gets the adjusted decisions.
 * The F1 over adj is the inflated figure papers report, not a point-wise one.
 */
void aiops_point_adjust(const unsigned char *y, const unsigned char *pred, size_t n,
    unsigned char *adj);

/*
 * Event-wise metrics. A labelled segment is detected when any of its rows
 * is predicted; a predicted segment (maximal run of predicted rows) is true
 * when it overlaps a labelled segment. recall = detected / labelled
 * segments; precision = true / predicted segments; f1 from the two;
 * mean_delay = mean over detected segments of (first predicted row - first
 * row of the segment), in rows (NaN when none was detected).
 */
struct aiops_events {
	size_t nlabel, ndetected;     /* labelled segments, of them detected */
	size_t npred, ntrue;          /* predicted segments, of them overlapping a label */
	double precision, recall, f1, mean_delay;
};
void aiops_event_metrics(const unsigned char *y, const unsigned char *pred, size_t n,
    struct aiops_events *out);

/*
 * Forecast errors of pred against actual x, both n x d row-major; pairs where
 * either is NaN are left out. MAE, RMSE over all cells; sMAPE in percent as
 * 100/N * sum 2|x-p| / (|x|+|p|) (a 0/0 term counts 0); MASE = MAE divided by
 * the in-sample MAE of the seasonal naive forecast x[t] = x[t-m] over x
 * itself (m >= 1; NaN when that is 0 or there are not more than m rows).
 * AIOPS_ERR_DATA when no pair is left; AIOPS_ERR_USAGE when m is 0.
 */
struct aiops_fcerr {
	double mae, rmse, smape, mase;
	size_t n;                     /* pairs used */
};
int aiops_forecast_errors(const double *x, const double *pred, size_t n, size_t d, size_t m,
    struct aiops_fcerr *out, struct aiops_error *e);

/*
 * The Numenta Anomaly Benchmark score (Lavin and Ahmad, 2015), computed as
 * NAB's scorer (nab/sweeper.py, v1.x) does. Windows are the labelled
 * segments of y. Rows in the probationary period are not scored: rows
 * i < min(floor(probation * n), probation * 5000) (NAB uses probation 0.15,
 * so at most 750 rows); a window wholly inside it is not scored at all.
 * sigma(y) = 2/(1+e^(5y)) - 1 is NAB's scaled sigmoid (-1 for y > 3).
 * Within a window of w rows ending at row b only the first detection r
 * counts, worth A_tp * sigma(-(b - r + 1)/w) / sigma(-1): A_tp at the
 * window's first row, less towards its end. A detection i outside every
 * window is worth A_fp * sigma((i - b')/(w' - 1)) by its distance after
 * the end b' of the preceding window of w' rows (w' - 1 taken as 1 for a
 * one-row window, where NAB would divide by 0), or -A_fp with no preceding
 * window. Each window with no detection costs -A_fn. raw is that sum; null
 * (-A_fn per scored window) is the raw score of a detector that never
 * fires; perfect (A_tp per scored window, as NAB's normalisation counts
 * A_tp per window) that of one that fires on each window's first row, when
 * no window starts inside the probationary period. Summed over files, the
 * normalised score is
 * 100 * (raw - null) / (perfect - null). AIOPS_ERR_USAGE when p is NULL or
 * probation is not in [0, 1).
 */
struct aiops_nab_profile {
	const char *name;             /* "standard", "reward_low_FP_rate", "reward_low_FN_rate" */
	double tp, fp, fn, tn;
};
extern const struct aiops_nab_profile aiops_nab_profiles[3];

struct aiops_nab {
	double raw, null, perfect;
};
int aiops_nab_score(const unsigned char *y, const unsigned char *pred, size_t n,
    double probation, const struct aiops_nab_profile *p, struct aiops_nab *out,
    struct aiops_error *e);
/* 100 * (raw - null) / (perfect - null); 0 when perfect == null (no windows). */
double aiops_nab_normalize(const struct aiops_nab *sum);

/*
 * Root-cause HitRate@P% (Su et al., OmniAnomaly, KDD 2019). For each row t
 * of each labelled segment s with its ground-truth column set G_s
 * (|G_s| = g), rank the columns by their contribution at t (contrib n x d,
 * row-major; NaN counts 0; ties by lower column index) and take the top
 * floor(P/100 * g) (at least 1, at most d); the hit rate of the row is
 * |top ∩ G_s| / g. HitRate is the mean over all those rows (the anomalous
 * points, as OmniAnomaly's evaluation averages it). segs[k] = {start,
 * end} (end exclusive) with truth columns cols[k][0..ncols[k]) (0-based).
 * Errors: AIOPS_ERR_USAGE for pct <= 0; AIOPS_ERR_DATA when nsegs is 0, or
 * a segment is empty, ends beyond n, has no columns, or a column >= d or
 * repeated; AIOPS_ERR_NOMEM.
 */
struct aiops_interp {
	size_t start, end;
	size_t *cols;
	size_t ncols;
};
int aiops_hitrate(const double *contrib, size_t n, size_t d, const struct aiops_interp *segs,
    size_t nsegs, double pct, double *out, struct aiops_error *e);
/*
 * Parse SMD's interpretation_label file ("start-end:c1,c2,..." a line,
 * start 0-based, end exclusive, c 1-based; blank lines and CRLF allowed;
 * path as for aiops_src_open) into *segs with 0-based columns (caller frees
 * with aiops_interp_free; *segs is NULL and *nsegs 0 on error or for an
 * empty file). AIOPS_ERR_DATA messages name path:line:column; the file is
 * read whole, and more than AIOPS_INTERP_MAX_FILE bytes (inflated) is
 * AIOPS_ERR_LIMIT; also the errors of aiops_src_open and AIOPS_ERR_NOMEM.
 */
#define AIOPS_INTERP_MAX_FILE (256u << 20)
int aiops_interp_load(const char *path, struct aiops_interp **segs, size_t *nsegs,
    struct aiops_error *e);
void aiops_interp_free(struct aiops_interp *segs, size_t nsegs);
/*
 * Top k columns by contribution summed over rows [start, end) (NaN counts
 * 0; ties by lower column index): idx[0..k) best first. k larger than d is
 * taken as d (idx[d..k) untouched); end is clipped to n. It cannot fail:
 * when d > 256 and the scratch sums cannot be allocated it works without
 * them, k * d column sums instead of d.
 */
void aiops_top_columns(const double *contrib, size_t n, size_t d, size_t start, size_t end,
    size_t k, size_t *idx);

/*
 * Drift of sample x (n values x[i * xstride], NaN left out) against a
 * reference given by its quantiles q[k * qstride], k in [0, nq), at the
 * levels 0, 1/(nq-1), ..., 1 (one column of a model's ref_quantiles array:
 * 101 rows x d columns, so qstride = d).
 * PSI: the bins are the reference deciles (q at 0.1 .. 0.9 level; edges
 * that coincide merge), expected proportion from the reference, actual from
 * x, each proportion floored at 1e-4: sum (a - e) ln(a / e).
 * Bins are (lo, hi]; the expected proportion of a bin is F_ref(hi) - F_ref(lo).
 * KS: sup |F_x - F_ref| where F_ref is the reference's piecewise-linear CDF
 * through the quantiles; pvalue from the asymptotic Kolmogorov distribution
 * with effective size n*m/(n+m), m = ref_n (ref_n 0: the reference is taken
 * as exact, effective size n). out->n is the count of values used. Sorts a
 * copy of the sample (n doubles). AIOPS_ERR_DATA when x has no non-NaN
 * value, nq < 2, or a quantile is not finite or is below the one before;
 * AIOPS_ERR_USAGE for a zero stride; AIOPS_ERR_NOMEM.
 */
struct aiops_drift {
	double psi, ks, ks_pvalue;
	size_t n;
};
int aiops_drift(const double *x, size_t n, size_t xstride, const double *q, size_t nq,
    size_t qstride, size_t ref_n, struct aiops_drift *out, struct aiops_error *e);

#endif
