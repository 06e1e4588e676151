/*
 * fam_ae.c - a small dense autoencoder d -> hidden -> bottleneck -> hidden -> d
 * (tanh hidden layers, linear output) trained by mini-batch Adam with float32
 * weights and activations and every matrix product through cblas_sgemm. A
 * row scores by its squared reconstruction error.
 *
 * Convention: the network sees each column standardised by the training
 * mean and population standard deviation (1 for a constant column), as
 * scikit-learn's StandardScaler does, because raw metrics in the millions
 * saturate tanh and a bias moving 1e-3 per Adam step never reaches them.
 * Score and contributions are therefore in standardised units:
 * contrib_j = (z_j - zhat_j)^2 with z_j = (x_j - mean_j) / scale_j, and the
 * score is their sum (accumulated in double).
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "model.h"

#define AE_SCORE_BLOCK 4096  /* rows standardised and reconstructed per pass */
#define AE_MAX_UNITS 4096    /* widest hidden or bottleneck layer */
#define AE_DEFAULT_HIDDEN 32
#define AE_DEFAULT_BOTTLENECK 8
#define AE_BETA1 0.9         /* Adam's moment decay rates and epsilon (Kingma & Ba) */
#define AE_BETA2 0.999
#define AE_EPS 1e-8
/* standardised inputs are clamped here so that far-off rows stay finite in float */
#define AE_CLAMP 1e30f

/*
 * The loss of the network on n rows of x (float, row-major n x d, already
 * standardised: the values the first layer sees) and its gradient.
 * theta and grad hold the packed parameters, each matrix row-major with
 * one row per input unit:
 *   W1 (d x h), b1 (h), W2 (h x b), b2 (b), W3 (b x h), b3 (h), W4 (h x d), b4 (d)
 * with h = hidden and b = bottleneck, 2dh + 2hb + 2h + b + d floats in all.
 * The loss is the mean over the n x d entries of (xhat - x)^2; grad (caller
 * owned, same length as theta) receives its gradient and *loss the loss.
 * Returns AIOPS_OK, AIOPS_ERR_USAGE (a size of 0), AIOPS_ERR_NOMEM or
 * AIOPS_ERR_LIMIT (sizes beyond int).
 * Exposed for the unit test's finite-difference check; not in a header.
 */
int aiops_ae_loss_grad(const float *x, size_t n, size_t d, size_t hidden, size_t bottleneck,
    const float *theta, float *grad, double *loss, struct aiops_error *e);

/* Layer sizes and where each parameter block starts in the packed vector. */
struct ae_net {
	size_t d, h, b;
	size_t w1, b1, w2, b2, w3, b3, w4, b4, np;
};

/* Activations and back-propagated terms for up to cap rows. */
struct ae_ws {
	size_t cap;
	float *x, *a1, *a2, *a3, *y, *g, *t1, *t2;
};

static void
net_layout(struct ae_net *nt, size_t d, size_t h, size_t b)
{
	nt->d = d;
	nt->h = h;
	nt->b = b;
	nt->w1 = 0;
	nt->b1 = nt->w1 + d * h;
	nt->w2 = nt->b1 + h;
	nt->b2 = nt->w2 + h * b;
	nt->w3 = nt->b2 + b;
	nt->b3 = nt->w3 + b * h;
	nt->w4 = nt->b3 + h;
	nt->b4 = nt->w4 + h * d;
	nt->np = nt->b4 + d;
}

/* sgemm takes int sizes: every dimension, and rows x widest layer, must fit. */
static int
net_fits(const struct ae_net *nt, size_t rows)
{
	size_t w = nt->d > nt->h ? nt->d : nt->h;

	return nt->d <= INT_MAX && nt->h <= INT_MAX && nt->b <= INT_MAX && rows <= INT_MAX &&
	    w <= (size_t)INT_MAX / (rows ? rows : 1);
}

static void
ws_free(struct ae_ws *w)
{
	aiops_free(w->x);
	aiops_free(w->a1);
	aiops_free(w->a2);
	aiops_free(w->a3);
	aiops_free(w->y);
	aiops_free(w->g);
	aiops_free(w->t1);
	aiops_free(w->t2);
	memset(w, 0, sizeof(*w));
}

/* Zeroed buffers, so no path can read memory it did not write. */
static int
ws_alloc(struct ae_ws *w, const struct ae_net *nt, size_t rows, int backward)
{
	memset(w, 0, sizeof(*w));
	w->cap = rows;
	w->x = aiops_calloc(rows * nt->d, sizeof(float));
	w->a1 = aiops_calloc(rows * nt->h, sizeof(float));
	w->a2 = aiops_calloc(rows * nt->b, sizeof(float));
	w->a3 = aiops_calloc(rows * nt->h, sizeof(float));
	w->y = aiops_calloc(rows * nt->d, sizeof(float));
	if (backward) {
		w->g = aiops_calloc(rows * nt->d, sizeof(float));
		w->t1 = aiops_calloc(rows * nt->h, sizeof(float));
		w->t2 = aiops_calloc(rows * nt->b, sizeof(float));
	}
	if (!w->x || !w->a1 || !w->a2 || !w->a3 || !w->y ||
	    (backward && (!w->g || !w->t1 || !w->t2))) {
		ws_free(w);
		return AIOPS_ERR_NOMEM;
	}
	return AIOPS_OK;
}

/*
 * tanh in float to within a few ulp. glibc's tanhf (through expm1f) took
 * half the training time; expf is several times cheaper. Below 1/8 the
 * Taylor series avoids the cancellation in 1 - t; above 9, tanh is 1 in float.
 */
static inline float
ae_tanh(float v)
{
	float a = fabsf(v), r;

	if (a < 0.125f) {
		float q = v * v;
		return v + v * q * (-1.0f / 3 + q * (2.0f / 15 + q * (-17.0f / 315)));
	}
	if (a > 9.0f)
		r = 1.0f;
	else {
		float t = expf(-2.0f * a);
		r = (1.0f - t) / (1.0f + t);
	}
	return copysignf(r, v);
}

/* out (rows x nout) = act(in (rows x nin) W + bias) */
static void
layer(const float *in, size_t rows, size_t nin, const float *W, const float *bias,
    size_t nout, float *out, int use_tanh)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)nout,
	    (blasint)nin, 1.0f, in, (blasint)nin, W, (blasint)nout, 0.0f, out, (blasint)nout);
	for (size_t i = 0; i < rows; i++) {
		float *o = out + i * nout;
		for (size_t j = 0; j < nout; j++)
			o[j] = use_tanh ? ae_tanh(o[j] + bias[j]) : o[j] + bias[j];
	}
}

/* Reconstruct the rows in w->x into w->y. */
static void
forward(const struct ae_net *nt, const float *th, struct ae_ws *w, size_t rows)
{
	layer(w->x, rows, nt->d, th + nt->w1, th + nt->b1, nt->h, w->a1, 1);
	layer(w->a1, rows, nt->h, th + nt->w2, th + nt->b2, nt->b, w->a2, 1);
	layer(w->a2, rows, nt->b, th + nt->w3, th + nt->b3, nt->h, w->a3, 1);
	layer(w->a3, rows, nt->h, th + nt->w4, th + nt->b4, nt->d, w->y, 0);
}

/*
 * Given dL/d(output of a layer) in dz (rows x nout; for a tanh layer already
 * multiplied by 1 - a^2), the layer's input in (rows x nin): gW = in^T dz,
 * gb = column sums of dz (summed in double, in row order).
 */
static void
layer_grad(const float *in, const float *dz, size_t rows, size_t nin, size_t nout, float *gW,
    float *gb)
{
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)nin, (blasint)nout,
	    (blasint)rows, 1.0f, in, (blasint)nin, dz, (blasint)nout, 0.0f, gW, (blasint)nout);
	for (size_t j = 0; j < nout; j++) {
		double s = 0;
		for (size_t i = 0; i < rows; i++)
			s += dz[i * nout + j];
		gb[j] = (float)s;
	}
}

/* din (rows x nin) = (dz W^T) .* (1 - a^2), a being the tanh output that fed the layer */
static void
back_through(const float *dz, const float *W, const float *a, size_t rows, size_t nin,
    size_t nout, float *din)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)nin,
	    (blasint)nout, 1.0f, dz, (blasint)nout, W, (blasint)nout, 0.0f, din, (blasint)nin);
	for (size_t i = 0; i < rows * nin; i++)
		din[i] *= 1.0f - a[i] * a[i];
}

/* Forward and backward over the rows in w->x; returns the mean squared error. */
static double
loss_grad(const struct ae_net *nt, const float *th, float *gr, struct ae_ws *w, size_t rows)
{
	size_t d = nt->d, h = nt->h, b = nt->b;
	double sse = 0;
	float k = (float)(2.0 / ((double)rows * (double)d));

	forward(nt, th, w, rows);
	for (size_t i = 0; i < rows * d; i++) {
		float r = w->y[i] - w->x[i];
		sse += (double)r * r;
		w->g[i] = k * r;
	}
	layer_grad(w->a3, w->g, rows, h, d, gr + nt->w4, gr + nt->b4);
	back_through(w->g, th + nt->w4, w->a3, rows, h, d, w->t1);
	layer_grad(w->a2, w->t1, rows, b, h, gr + nt->w3, gr + nt->b3);
	back_through(w->t1, th + nt->w3, w->a2, rows, b, h, w->t2);
	layer_grad(w->a1, w->t2, rows, h, b, gr + nt->w2, gr + nt->b2);
	back_through(w->t2, th + nt->w2, w->a1, rows, h, b, w->t1);
	layer_grad(w->x, w->t1, rows, d, h, gr + nt->w1, gr + nt->b1);
	return sse / ((double)rows * (double)d);
}

int
aiops_ae_loss_grad(const float *x, size_t n, size_t d, size_t hidden, size_t bottleneck,
    const float *theta, float *grad, double *loss, struct aiops_error *e)
{
	struct ae_net nt;
	struct ae_ws w;

	if (n == 0 || d == 0 || hidden == 0 || bottleneck == 0)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "ae: empty network or no rows");
	net_layout(&nt, d, hidden, bottleneck);
	if (!net_fits(&nt, n))
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "ae: %zu rows x %zu columns is too many",
		    n, d);
	if (ws_alloc(&w, &nt, n, 1) != AIOPS_OK)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	memcpy(w.x, x, n * d * sizeof(float));
	*loss = loss_grad(&nt, theta, grad, &w, n);
	ws_free(&w);
	return AIOPS_OK;
}

/* ---- parameters ---------------------------------------------------------- */

struct ae_cfg {
	size_t hidden, bottleneck, epochs, batch;
	double lr;
	uint64_t seed;
};

/*
 * The default bottleneck is 8, or d - 1 (at least 1) with fewer columns:
 * a code as wide as the input can pass rows through unchanged and would
 * score everything near 0.
 */
static size_t
default_bottleneck(size_t d, size_t hidden)
{
	size_t b = d <= AE_DEFAULT_BOTTLENECK ? (d > 1 ? d - 1 : 1) : AE_DEFAULT_BOTTLENECK;

	return b < hidden ? b : hidden;
}

static int
get_cfg(const struct aiops_params *p, size_t d, struct ae_cfg *c, struct aiops_error *e)
{
	double v;
	int r;

	if ((r = aiops_param_whole(p, "ae", "hidden", AE_DEFAULT_HIDDEN, 1, AE_MAX_UNITS,
	    " of hidden units", &v, e)) != AIOPS_OK)
		return r;
	c->hidden = (size_t)v;
	if (aiops_param_has(p, "bottleneck")) {
		v = aiops_param(p, "bottleneck", AE_DEFAULT_BOTTLENECK);
		if (!(v >= 1 && v <= (double)c->hidden) || v != floor(v))
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "ae: bottleneck=%g must be a whole number of units from 1 to hidden=%zu",
			    v, c->hidden);
		c->bottleneck = (size_t)v;
	} else
		c->bottleneck = default_bottleneck(d, c->hidden);
	if ((r = aiops_param_whole(p, "ae", "epochs", 20, 1, 1000000, " of passes over the rows", &v, e)) !=
	    AIOPS_OK)
		return r;
	c->epochs = (size_t)v;
	if ((r = aiops_param_whole(p, "ae", "batch", 256, 1, 1000000, " of rows", &v, e)) != AIOPS_OK)
		return r;
	c->batch = (size_t)v;
	if ((r = aiops_param_whole(p, "ae", "seed", 0, 0, 9007199254740992.0, "", &v, e)) != AIOPS_OK)
		return r;
	c->seed = (uint64_t)v;
	v = aiops_param(p, "lr", 1e-3);
	if (!(v > 0 && v <= 1))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "ae: lr=%g must be a learning rate greater than 0 and at most 1", v);
	c->lr = v;
	return AIOPS_OK;
}

static size_t
ae_min_rows(const struct aiops_params *p, size_t d)
{
	(void)p;
	(void)d;
	return 2;
}

/* ---- fit ----------------------------------------------------------------- */

/* Glorot (Xavier) uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)). */
static void
glorot(float *W, size_t fin, size_t fout, struct aiops_rng *rng)
{
	double a = sqrt(6.0 / (double)(fin + fout));

	for (size_t i = 0; i < fin * fout; i++)
		W[i] = (float)((2 * aiops_rng_uniform(rng) - 1) * a);
}

/*
 * Rows idx[0..rows) of x (rows i0.. when idx is NULL), standardised, into
 * out as float, clamped to stay finite.
 */
static void
gather(const double *x, const size_t *idx, size_t i0, size_t rows, size_t d,
    const double *mean, const double *scale, float *out)
{
	for (size_t i = 0; i < rows; i++) {
		const double *row = x + (idx ? idx[i] : i0 + i) * d;
		for (size_t j = 0; j < d; j++) {
			double z = (row[j] - mean[j]) / scale[j];
			out[i * d + j] = z > AE_CLAMP ? AE_CLAMP : z < -AE_CLAMP ? -AE_CLAMP : (float)z;
		}
	}
}

static int
ae_fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e)
{
	static const char *const names[8] = { "W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4" };
	struct ae_cfg c = { 0 };
	struct ae_net nt;
	struct ae_ws w = { 0 };
	struct aiops_rng rng;
	double *mean = NULL, *scale = NULL, *dv = NULL;
	float *th = NULL, *gr = NULL, *m1 = NULL, *m2 = NULL;
	size_t *idx = NULL, bs, t = 0;
	int r;

	if ((r = get_cfg(&m->params, d, &c, e)) != AIOPS_OK)
		return r;
	if (n < 2)
		return aiops_error_set(e, AIOPS_ERR_DATA, "ae needs at least 2 rows, got %zu", n);
	if (d == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "ae needs at least one column");
	bs = c.batch < n ? c.batch : n;
	net_layout(&nt, d, c.hidden, c.bottleneck);
	if (!net_fits(&nt, bs))
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "ae: %zu columns is too many", d);
	mean = aiops_calloc(d, sizeof(double));
	scale = aiops_calloc(d, sizeof(double));
	dv = aiops_calloc(nt.np, sizeof(double));
	th = aiops_calloc(nt.np, sizeof(float));
	gr = aiops_calloc(nt.np, sizeof(float));
	m1 = aiops_calloc(nt.np, sizeof(float));
	m2 = aiops_calloc(nt.np, sizeof(float));
	idx = aiops_calloc(n, sizeof(size_t));
	if (!mean || !scale || !dv || !th || !gr || !m1 || !m2 || !idx ||
	    ws_alloc(&w, &nt, bs, 1) != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}

	/* mean and population standard deviation, two passes in row order */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			mean[j] += x[i * d + j];
	for (size_t j = 0; j < d; j++)
		mean[j] /= (double)n;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			scale[j] += (x[i * d + j] - mean[j]) * (x[i * d + j] - mean[j]);
	for (size_t j = 0; j < d; j++) {
		scale[j] = sqrt(scale[j] / (double)n);
		if (!isfinite(scale[j]) || !isfinite(mean[j])) {
			r = aiops_error_set(e, AIOPS_ERR_DATA,
			    "ae: the variance of column %zu overflows", j + 1);
			goto out;
		}
		/* a (numerically) constant column is only centred */
		if (!(scale[j] > 1e-12 * fmax(1.0, fabs(mean[j]))))
			scale[j] = 1;
	}

	/* biases start at 0; then each epoch reshuffles the rows, all from one stream */
	aiops_rng_seed(&rng, c.seed);
	glorot(th + nt.w1, d, nt.h, &rng);
	glorot(th + nt.w2, nt.h, nt.b, &rng);
	glorot(th + nt.w3, nt.b, nt.h, &rng);
	glorot(th + nt.w4, nt.h, d, &rng);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t ep = 0; ep < c.epochs; ep++) {
		double sum = 0;
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = (size_t)aiops_rng_below(&rng, (uint64_t)i + 1), s = idx[i];
			idx[i] = idx[j];
			idx[j] = s;
		}
		for (size_t i0 = 0; i0 < n; i0 += bs) {
			size_t rows = n - i0 < bs ? n - i0 : bs;
			double c1, c2, lr;
			gather(x, idx + i0, 0, rows, d, mean, scale, w.x);
			sum += loss_grad(&nt, th, gr, &w, rows) * (double)rows;
			t++;
			c1 = 1 - pow(AE_BETA1, (double)t);
			c2 = 1 - pow(AE_BETA2, (double)t);
			lr = c.lr * sqrt(c2) / c1;
			/* lr * mhat / (sqrt(vhat) + eps) with mhat = m1 / c1, vhat = m2 / c2, rearranged */
			for (size_t k = 0; k < nt.np; k++) {
				float g = gr[k];
				m1[k] = (float)AE_BETA1 * m1[k] + (float)(1 - AE_BETA1) * g;
				m2[k] = (float)AE_BETA2 * m2[k] + (float)(1 - AE_BETA2) * g * g;
				th[k] -= (float)(lr * m1[k] / (sqrt((double)m2[k]) + AE_EPS * sqrt(c2)));
			}
		}
		if (!isfinite(sum)) {
			r = aiops_error_set(e, AIOPS_ERR_DATA,
			    "ae: training diverged in epoch %zu (the loss is not finite); try a smaller lr=%g",
			    ep + 1, c.lr);
			goto out;
		}
	}
	for (size_t k = 0; k < nt.np; k++)
		if (!isfinite(th[k])) {
			r = aiops_error_set(e, AIOPS_ERR_DATA,
			    "ae: training diverged (a weight is not finite); try a smaller lr=%g", c.lr);
			goto out;
		}

	for (size_t k = 0; k < nt.np; k++)
		dv[k] = th[k];
	{
		const size_t off[8] = { nt.w1, nt.b1, nt.w2, nt.b2, nt.w3, nt.b3, nt.w4, nt.b4 };
		const size_t rows[8] = { d, 1, nt.h, 1, nt.b, 1, nt.h, 1 };
		const size_t cols[8] = { nt.h, nt.h, nt.b, nt.b, nt.h, nt.h, d, d };
		for (int k = 0; k < 8; k++)
			if (aiops_model_put(m, names[k], rows[k], cols[k], dv + off[k]) != AIOPS_OK) {
				r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
				goto out;
			}
	}
	if (aiops_model_put(m, "mean", 1, d, mean) != AIOPS_OK ||
	    aiops_model_put(m, "scale", 1, d, scale) != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = AIOPS_OK;
out:
	ws_free(&w);
	aiops_free(mean);
	aiops_free(scale);
	aiops_free(dv);
	aiops_free(th);
	aiops_free(gr);
	aiops_free(m1);
	aiops_free(m2);
	aiops_free(idx);
	return r;
}

/* ---- score --------------------------------------------------------------- */

static int
bad_model(struct aiops_error *e, const char *what)
{
	return aiops_error_set(e, AIOPS_ERR_FORMAT, "ae model: %s", what);
}

static int
ae_score(const struct aiops_model *m, const double *x, size_t n, size_t d, double *out,
    double *contrib, struct aiops_error *e)
{
	static const char *const names[8] = { "W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4" };
	const struct aiops_array *a[8], *mu = aiops_model_get(m, "mean");
	const struct aiops_array *sc = aiops_model_get(m, "scale");
	struct ae_net nt;
	struct ae_ws w = { 0 };
	float *th = NULL;
	size_t h, b, blk;
	int r;

	for (int k = 0; k < 8; k++)
		if ((a[k] = aiops_model_get(m, names[k])) == NULL)
			return bad_model(e, "lacks one of its arrays W1..W4, b1..b4");
	if (mu == NULL || sc == NULL || mu->rows != 1 || mu->cols != d || sc->rows != 1 ||
	    sc->cols != d)
		return bad_model(e, "lacks its mean/scale arrays or they do not match the columns");
	h = a[0]->cols;
	b = a[2]->cols;
	if (h == 0 || b == 0 || h > AE_MAX_UNITS || b > AE_MAX_UNITS ||
	    a[0]->rows != d || a[1]->rows != 1 || a[1]->cols != h ||
	    a[2]->rows != h || a[3]->rows != 1 || a[3]->cols != b ||
	    a[4]->rows != b || a[4]->cols != h || a[5]->rows != 1 || a[5]->cols != h ||
	    a[6]->rows != h || a[6]->cols != d || a[7]->rows != 1 || a[7]->cols != d)
		return bad_model(e, "its weight arrays do not chain d -> hidden -> bottleneck -> "
		    "hidden -> d");
	for (size_t j = 0; j < d; j++)
		if (!(sc->v[j] > 0) || !isfinite(sc->v[j]) || !isfinite(mu->v[j]))
			return bad_model(e, "scale must be finite and positive");
	blk = n < AE_SCORE_BLOCK ? n : AE_SCORE_BLOCK;
	if (blk == 0)
		return AIOPS_OK;
	net_layout(&nt, d, h, b);
	if (!net_fits(&nt, blk))
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "ae: %zu columns is too many", d);
	if ((th = aiops_calloc(nt.np, sizeof(float))) == NULL ||
	    ws_alloc(&w, &nt, blk, 0) != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		const size_t off[8] = { nt.w1, nt.b1, nt.w2, nt.b2, nt.w3, nt.b3, nt.w4, nt.b4 };
		for (int k = 0; k < 8; k++)
			for (size_t i = 0; i < a[k]->rows * a[k]->cols; i++)
				th[off[k] + i] = (float)a[k]->v[i];
	}
	for (size_t i0 = 0; i0 < n; i0 += blk) {
		size_t rows = n - i0 < blk ? n - i0 : blk;
		gather(x, NULL, i0, rows, d, mu->v, sc->v, w.x);
		forward(&nt, th, &w, rows);
		for (size_t i = 0; i < rows; i++) {
			const double *row = x + (i0 + i) * d;
			double s = 0;
			for (size_t j = 0; j < d; j++) {
				/* the error against the exact standardised value, in double */
				double z = (row[j] - mu->v[j]) / sc->v[j];
				double q = (z - (double)w.y[i * d + j]) * (z - (double)w.y[i * d + j]);
				s += q;
				if (contrib)
					contrib[(i0 + i) * d + j] = q;
			}
			out[i0 + i] = s;
		}
	}
	r = AIOPS_OK;
out:
	ws_free(&w);
	aiops_free(th);
	return r;
}

static const char *const ae_params[] = {
	"batch", "bottleneck", "epochs", "hidden", "lr", "seed", NULL
};

const struct aiops_family aiops_fam_ae = {
	"ae", "detector",
	"hidden (units in the outer hidden layers, 1..4096, default 32), "
	"bottleneck (units in the code layer, 1..hidden; default 8, or d-1 when d <= 8), "
	"epochs (passes over the rows, default 20), batch (rows per Adam step, default 256), "
	"lr (Adam learning rate, 0 < lr <= 1, default 0.001), seed (default 0); "
	"columns are standardised inside the model and the score is the squared "
	"reconstruction error in standardised units",
	ae_params, ae_min_rows, ae_fit, ae_score, NULL, NULL
};
