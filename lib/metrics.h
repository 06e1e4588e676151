/*
 * metrics.h - ranking metrics over anomaly scores and 0/1 labels, and the
 * thresholds a model stores (quantile, k-sigma, POT, best F1).
 */
#ifndef AIOPS_METRICS_H
#define AIOPS_METRICS_H

#include "base.h"

struct aiops_rank {
	double best_f1, best_thr;     /* F1 at the best threshold (score >= thr) */
	double best_prec, best_rec;
	double auc_pr;                /* average precision, as scikit-learn defines it */
	double auc_roc;
	size_t n, npos;               /* rows scored (NaN scores left out), positives */
};

/*
 * Exact, O(n log n): every distinct score is a candidate threshold. Rows with
 * a NaN score are left out. AIOPS_ERR_DATA when no rows remain or there are no
 * positives (best F1 and AUC-PR are undefined then).
 */
int aiops_rank_metrics(const double *score, const unsigned char *y, size_t n,
    struct aiops_rank *out, struct aiops_error *e);

enum aiops_thr { AIOPS_THR_QUANTILE, AIOPS_THR_KSIGMA, AIOPS_THR_POT, AIOPS_THR_BESTF1 };

struct aiops_thr_spec {
	int method;
	double q;       /* quantile: the level (0.99); pot: the risk (1e-3) */
	double k;       /* ksigma: k */
	double level;   /* pot: the initial threshold's quantile (0.98) */
};

/* Parse "quantile:0.99", "ksigma:3", "pot", "pot:1e-4", "pot:1e-4:0.95", "best-f1". */
int aiops_thr_parse(const char *s, struct aiops_thr_spec *t, struct aiops_error *e);
/* "pot:0.001:0.98" and the like, for the model's metadata. */
void aiops_thr_format(const struct aiops_thr_spec *t, char *out, size_t outsz);

/*
 * Threshold from training scores (NaN ignored). POT (Siffer et al., KDD 2017,
 * as OmniAnomaly uses it): t = the level quantile, a generalised Pareto
 * distribution fitted to the excesses over t by the method of moments, and
 * the threshold is the score exceeded with probability q. Best F1 needs the
 * labelled validation scores vs/vy (n_v rows). Returns AIOPS_OK and *thr.
 */
int aiops_thr_compute(const struct aiops_thr_spec *t, const double *scores, size_t n,
    const double *vs, const unsigned char *vy, size_t nv, double *thr,
    struct aiops_error *e);

/* The p-quantile of v[0..n) (NaN ignored) with numpy's linear interpolation. */
double aiops_quantile(const double *v, size_t n, double p);

/*
 * Sort v[0..n) (no NaN) ascending, equal values in their order (-0.0 sorts as
 * and becomes 0.0): a radix sort, several times quicker than qsort(3).
 * AIOPS_ERR_NOMEM when its scratch space (2 n words) cannot be had.
 */
int aiops_sort_doubles(double *v, size_t n);

#endif
