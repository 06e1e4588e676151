/*
 * fam_iforest.c - Isolation Forest (Liu, Ting & Zhou, ICDM 2008): random
 * axis-parallel splits isolate an anomaly in fewer steps than a normal row;
 * the score of a row is 2^(-E[h(x)] / c(psi)), in (0, 1], higher is more
 * anomalous (scikit-learn's IsolationForest.score_samples, negated).
 *
 * Fitted state (all float64, integers stored as whole numbers):
 *   "nodes"   N x 5: feature, threshold, left, right, size. A leaf has
 *             feature -1, left = right = -1; left and right are node
 *             numbers within the same tree, left greater than the
 *             parent's and right = left + 1. A row goes left when
 *             x[feature] <= threshold; size is the training rows that
 *             reached the node.
 *   "offsets" (trees + 1) x 1: tree t is nodes [offsets[t], offsets[t+1]).
 *   "psi"     1 x 1: the subsample size (samples capped at the row count).
 *
 * Contributions: for each tree, every split on the row's path adds 1/depth
 * to its feature (the root has depth 1), and the sums are divided by the
 * number of trees. Splits near the root, which cut a row off early, weigh
 * most; a column no tree split on along the row's paths contributes 0.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "model.h"

#define IF_EULER 0.5772156649
#define IF_NODE_COLS 5
enum { N_FEAT, N_THR, N_LEFT, N_RIGHT, N_SIZE };

#define IF_SCORE_BLOCK 64    /* rows pushed through one tree before the next; a multiple of 8 */

/*
 * c(n): the average path length of an unsuccessful search in a binary
 * search tree of n points, which normalises h(x). The ICDM paper gives
 * only 2H(n-1) - 2(n-1)/n; for n = 2 that would use H(1) ~ ln 1 + 0.577,
 * so c(2) = 1 and c(n <= 1) = 0 as in the journal version (TKDD 2012) and
 * scikit-learn.
 */
static double
avg_path(size_t n)
{
	double x = (double)n;

	if (n <= 1)
		return 0;
	if (n == 2)
		return 1;
	return 2 * (log(x - 1) + IF_EULER) - 2 * (x - 1) / x;
}

static int
get_params(const struct aiops_params *p, uint64_t *trees, uint64_t *samples, uint64_t *seed,
    struct aiops_error *e)
{
	double t, s, sd;
	int r;

	if ((r = aiops_param_whole(p, "iforest", "trees", 100, 1, 1e6, "", &t, e)) != AIOPS_OK ||
	    (r = aiops_param_whole(p, "iforest", "samples", 256, 2, 1e9, "", &s, e)) != AIOPS_OK ||
	    (r = aiops_param_whole(p, "iforest", "seed", 0, 0, 9007199254740992.0, "", &sd, e)) != AIOPS_OK)
		return r;
	*trees = (uint64_t)t;
	*samples = (uint64_t)s;
	*seed = (uint64_t)sd;
	return AIOPS_OK;
}

static size_t
if_min_rows(const struct aiops_params *p, size_t d)
{
	(void)p;
	(void)d;
	return 2;
}

/* splitmix64's finaliser: a bijection, so distinct inputs give distinct tree seeds. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Per-tree scratch; one per worker when trees are built in parallel. */
struct if_frame {
	size_t node, lo, hi, depth;
};

struct if_scratch {
	size_t *idx;            /* psi sampled row numbers, partitioned in place */
	size_t *set;            /* open-addressing set for Floyd's sampling */
	unsigned setbits;
	size_t *perm;           /* feature order for drawing without replacement */
	struct if_frame *stack;
};

static void
scratch_free(struct if_scratch *s)
{
	aiops_free(s->idx);
	aiops_free(s->set);
	aiops_free(s->perm);
	aiops_free(s->stack);
	memset(s, 0, sizeof(*s));
}

static int
scratch_alloc(struct if_scratch *s, size_t psi, size_t d)
{
	memset(s, 0, sizeof(*s));
	s->setbits = 1;
	while (((size_t)1 << s->setbits) < 2 * psi)
		s->setbits++;
	s->idx = aiops_calloc(psi, sizeof(size_t));
	s->set = aiops_calloc((size_t)1 << s->setbits, sizeof(size_t));
	s->perm = aiops_calloc(d ? d : 1, sizeof(size_t));
	s->stack = aiops_calloc(2 * psi, sizeof(struct if_frame));
	if (!s->idx || !s->set || !s->perm || !s->stack) {
		scratch_free(s);
		return AIOPS_ERR_NOMEM;
	}
	return AIOPS_OK;
}

/* Insert v; returns 1 if it was already there. */
static int
set_add(struct if_scratch *s, size_t v)
{
	size_t mask = ((size_t)1 << s->setbits) - 1;
	size_t h = (size_t)((v * 0x9e3779b97f4a7c15ULL) >> (64 - s->setbits)) & mask;

	for (;; h = (h + 1) & mask) {
		if (s->set[h] == SIZE_MAX) {
			s->set[h] = v;
			return 0;
		}
		if (s->set[h] == v)
			return 1;
	}
}

/*
 * psi distinct rows of n by Floyd's algorithm: O(psi) time and memory, so
 * a tree over a million rows never touches a million-entry permutation.
 */
static void
sample_rows(struct aiops_rng *r, size_t n, size_t psi, struct if_scratch *s)
{
	size_t k = 0;

	for (size_t h = 0; h < ((size_t)1 << s->setbits); h++)
		s->set[h] = SIZE_MAX;
	for (size_t j = n - psi; j < n; j++) {
		size_t t = (size_t)aiops_rng_below(r, (uint64_t)j + 1);
		if (set_add(s, t)) {
			set_add(s, j);
			t = j;
		}
		s->idx[k++] = t;
	}
}

/*
 * Build tree t into nodes (room for 2 psi - 1 rows of IF_NODE_COLS) and
 * return its node count. Its random stream depends only on (seed, t), so
 * the forest is the same whatever order or threads build it.
 */
static size_t
build_tree(const double *x, size_t n, size_t d, size_t psi, size_t limit, uint64_t seed,
    size_t t, double *nodes, struct if_scratch *s)
{
	struct aiops_rng r;
	size_t count = 1, sp = 0;

	aiops_rng_seed(&r, mix64(seed) + (uint64_t)t);
	sample_rows(&r, n, psi, s);
	for (size_t j = 0; j < d; j++)
		s->perm[j] = j;
	s->stack[sp++] = (struct if_frame){ 0, 0, psi, 0 };
	while (sp > 0) {
		struct if_frame f = s->stack[--sp];
		double *nd = nodes + f.node * IF_NODE_COLS, lo = 0, hi = 0, u, w, thr;
		size_t feat = SIZE_MAX, i, k;

		nd[N_FEAT] = -1;
		nd[N_THR] = 0;
		nd[N_LEFT] = nd[N_RIGHT] = -1;
		nd[N_SIZE] = (double)(f.hi - f.lo);
		if (f.depth >= limit || f.hi - f.lo <= 1)
			continue;
		/* a random feature among those not constant in this node */
		for (size_t left = d; left > 0; left--) {
			size_t j = (size_t)aiops_rng_below(&r, left), q = s->perm[j];
			lo = hi = x[s->idx[f.lo] * d + q];
			for (i = f.lo + 1; i < f.hi; i++) {
				double v = x[s->idx[i] * d + q];
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
			if (hi > lo) {
				feat = q;
				break;
			}
			s->perm[j] = s->perm[left - 1];
			s->perm[left - 1] = q;
		}
		if (feat == SIZE_MAX)
			continue;
		u = aiops_rng_uniform(&r);
		w = hi - lo;
		thr = isfinite(w) ? lo + u * w : lo * (1 - u) + hi * u;
		/* rounding can reach hi, which would leave the right side empty */
		if (!(thr >= lo && thr < hi))
			thr = lo;
		for (i = f.lo, k = f.hi; i < k;) {
			if (x[s->idx[i] * d + feat] <= thr) {
				i++;
			} else {
				size_t tmp = s->idx[i];
				s->idx[i] = s->idx[--k];
				s->idx[k] = tmp;
			}
		}
		nd[N_FEAT] = (double)feat;
		nd[N_THR] = thr;
		nd[N_LEFT] = (double)count;
		nd[N_RIGHT] = (double)(count + 1);
		s->stack[sp++] = (struct if_frame){ count + 1, i, f.hi, f.depth + 1 };
		s->stack[sp++] = (struct if_frame){ count, f.lo, i, f.depth + 1 };
		count += 2;
	}
	return count;
}

static int
if_fit(struct aiops_model *m, const double *x, size_t n, size_t d, struct aiops_error *e)
{
	uint64_t trees, samples, seed;
	size_t psi, cap, limit = 0, total = 0, *count = NULL;
	double *nodes = NULL, *off = NULL, psiv;
	struct if_scratch s = { 0 };
	int r;

	if ((r = get_params(&m->params, &trees, &samples, &seed, e)) != AIOPS_OK)
		return r;
	if (n < 2)
		return aiops_error_set(e, AIOPS_ERR_DATA, "iforest needs at least 2 rows, got %zu", n);
	if (d == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "iforest needs at least one column");
	psi = samples < n ? (size_t)samples : n;
	while (((size_t)1 << limit) < psi)
		limit++;
	cap = 2 * psi - 1;
	/* node numbers are 32-bit when scoring */
	if ((double)trees * (double)cap > (double)UINT32_MAX)
		return aiops_error_set(e, AIOPS_ERR_LIMIT,
		    "iforest: trees=%llu x samples=%zu is too large a forest",
		    (unsigned long long)trees, psi);
	nodes = aiops_calloc((size_t)trees * cap, IF_NODE_COLS * sizeof(double));
	off = aiops_calloc((size_t)trees + 1, sizeof(double));
	count = aiops_calloc((size_t)trees, sizeof(size_t));
	if (!nodes || !off || !count || scratch_alloc(&s, psi, d) != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t t = 0; t < trees; t++)
		count[t] = build_tree(x, n, d, psi, limit, seed, t,
		    nodes + t * cap * IF_NODE_COLS, &s);
	/* pack the trees end to end (moving left, so in place) */
	for (size_t t = 0; t < trees; t++) {
		memmove(nodes + total * IF_NODE_COLS, nodes + t * cap * IF_NODE_COLS,
		    count[t] * IF_NODE_COLS * sizeof(double));
		off[t] = (double)total;
		total += count[t];
	}
	off[trees] = (double)total;
	psiv = (double)psi;
	if (aiops_model_put(m, "nodes", total, IF_NODE_COLS, nodes) != AIOPS_OK ||
	    aiops_model_put(m, "offsets", (size_t)trees + 1, 1, off) != AIOPS_OK ||
	    aiops_model_put(m, "psi", 1, 1, &psiv) != AIOPS_OK)
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
out:
	scratch_free(&s);
	aiops_free(nodes);
	aiops_free(off);
	aiops_free(count);
	return r;
}

/*
 * The forest as scoring walks it: 16 bytes a node, the right child right
 * after the left. A leaf's left child is itself and its threshold +inf, so
 * every row can take exactly depth[t] steps without a data-dependent
 * branch; leafval is the leaf's depth + c(size), the h(x) it ends.
 */
struct if_node {
	double thr;     /* x[feat] <= thr goes to left, else left + 1 */
	uint32_t feat;
	uint32_t left;
};

struct if_forest {
	struct if_node *node;
	double *leafval;
	uint32_t *root, *depth;
	size_t trees;
	double cpsi;
};

static void
forest_free(struct if_forest *f)
{
	aiops_free(f->node);
	aiops_free(f->leafval);
	aiops_free(f->root);
	aiops_free(f->depth);
	memset(f, 0, sizeof(*f));
}

static int
is_index(double v, double lo, double hi)
{
	return v >= lo && v < hi && v == floor(v);
}

static int
bad_model(struct aiops_error *e, const char *what)
{
	return aiops_error_set(e, AIOPS_ERR_FORMAT, "iforest model: %s", what);
}

/* Check the stored arrays (they may come from a file) and build f. */
static int
forest_prepare(const struct aiops_model *m, size_t d, struct if_forest *f,
    struct aiops_error *e)
{
	const struct aiops_array *na = aiops_model_get(m, "nodes");
	const struct aiops_array *oa = aiops_model_get(m, "offsets");
	const struct aiops_array *pa = aiops_model_get(m, "psi");
	size_t total, trees;

	memset(f, 0, sizeof(*f));
	if (d == 0)
		return bad_model(e, "has no columns");
	if (na == NULL || oa == NULL || pa == NULL)
		return bad_model(e, "lacks its nodes/offsets/psi arrays");
	if (na->cols != IF_NODE_COLS || oa->cols != 1 || oa->rows < 2 || pa->rows * pa->cols != 1)
		return bad_model(e, "arrays have the wrong shape");
	if (!(pa->v[0] >= 2 && pa->v[0] <= 1e9 && pa->v[0] == floor(pa->v[0])))
		return bad_model(e, "psi is not a whole number >= 2");
	total = na->rows;
	trees = oa->rows - 1;
	if (total >= UINT32_MAX)
		return bad_model(e, "too many nodes");
	if (oa->v[0] != 0 || oa->v[trees] != (double)total)
		return bad_model(e, "offsets do not cover the nodes");
	for (size_t t = 0; t < trees; t++)
		if (!is_index(oa->v[t], 0, (double)total) || !(oa->v[t + 1] > oa->v[t]))
			return bad_model(e, "offsets are not increasing");
	f->trees = trees;
	f->cpsi = avg_path((size_t)pa->v[0]);
	f->node = aiops_calloc(total, sizeof(*f->node));
	f->leafval = aiops_calloc(total, sizeof(double));
	f->root = aiops_calloc(trees, sizeof(uint32_t));
	f->depth = aiops_calloc(trees, sizeof(uint32_t));
	if (!f->node || !f->leafval || !f->root || !f->depth) {
		forest_free(f);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	for (size_t t = 0; t < trees; t++) {
		size_t base = (size_t)oa->v[t], cnt = (size_t)oa->v[t + 1] - base;
		uint32_t maxd = 0;

		f->root[t] = (uint32_t)base;
		/* leafval holds node depths until the leaves are known */
		for (size_t k = 0; k < cnt; k++) {
			const double *nd = na->v + (base + k) * IF_NODE_COLS;
			struct if_node *q = &f->node[base + k];
			uint32_t dep = (uint32_t)f->leafval[base + k];

			if (!(nd[N_SIZE] >= 1 && nd[N_SIZE] <= 1e9 && nd[N_SIZE] == floor(nd[N_SIZE]))) {
				forest_free(f);
				return bad_model(e, "a node size is not a whole number >= 1");
			}
			if (nd[N_FEAT] == -1) {
				q->thr = INFINITY;
				q->feat = 0;
				q->left = (uint32_t)(base + k);
				maxd = dep > maxd ? dep : maxd;
				continue;
			}
			/* children after their parent: walks end, and depths come in one pass */
			if (!is_index(nd[N_FEAT], 0, (double)d) ||
			    !is_index(nd[N_LEFT], (double)k + 1, (double)cnt - 1) ||
			    nd[N_RIGHT] != nd[N_LEFT] + 1 || isnan(nd[N_THR])) {
				forest_free(f);
				return bad_model(e, "a node has a bad feature, threshold or child");
			}
			q->thr = nd[N_THR];
			q->feat = (uint32_t)nd[N_FEAT];
			q->left = (uint32_t)(base + (size_t)nd[N_LEFT]);
			for (uint32_t c = q->left; c <= q->left + 1; c++)
				if (f->leafval[c] < dep + 1)
					f->leafval[c] = dep + 1;
		}
		f->depth[t] = maxd;
		for (size_t k = 0; k < cnt; k++) {
			const double *nd = na->v + (base + k) * IF_NODE_COLS;
			if (nd[N_FEAT] == -1)
				f->leafval[base + k] += avg_path((size_t)nd[N_SIZE]);
		}
	}
	return AIOPS_OK;
}

/* Mean path length -> score; the sum over trees runs in tree order for every row. */
static double
to_score(double hsum, const struct if_forest *f)
{
	return exp2(-(hsum / (double)f->trees) / f->cpsi);
}

#define IF_STEP(c, l) do { \
		const struct if_node *q_ = nodes + c; \
		c = q_->left + (xt[(size_t)q_->feat * IF_SCORE_BLOCK + g + l] > q_->thr); \
	} while (0)

/* the same, adding w_ (1/depth) to the split feature's contribution (0 at a leaf) */
#define IF_STEP_CONTRIB(c, l) do { \
		const struct if_node *q_ = nodes + c; \
		size_t at_ = (size_t)q_->feat * IF_SCORE_BLOCK + g + l; \
		ct[at_] += q_->left != c ? w_ : 0.0; \
		c = q_->left + (xt[at_] > q_->thr); \
	} while (0)

#define IF_LANES(step) do { \
		step(c0, 0); step(c1, 1); step(c2, 2); step(c3, 3); \
		step(c4, 4); step(c5, 5); step(c6, 6); step(c7, 7); \
	} while (0)

/*
 * Rows go through the forest a block at a time, the block transposed
 * (feature-major) so that eight lanes walk one tree in lockstep off one
 * base pointer: eight independent chains of loads keep the core busy
 * where one walk would wait on each load. With contrib, ct (like xt,
 * feature-major) gathers the 1/depth weights; adding 0 at leaves leaves
 * the sums as a plain walk would make them.
 */
static int
score_rows(const struct if_forest *f, const double *x, size_t n, size_t d, double *out,
    double *contrib)
{
	double acc[IF_SCORE_BLOCK], *xt, *ct = NULL, *inv;
	const struct if_node *nodes = f->node;
	uint32_t maxd = 0;

	for (size_t t = 0; t < f->trees; t++)
		maxd = f->depth[t] > maxd ? f->depth[t] : maxd;
	xt = aiops_calloc(d * IF_SCORE_BLOCK, sizeof(double));
	inv = aiops_calloc((size_t)maxd + 1, sizeof(double));
	if (contrib)
		ct = aiops_calloc(d * IF_SCORE_BLOCK, sizeof(double));
	if (xt == NULL || inv == NULL || (contrib && ct == NULL)) {
		aiops_free(xt);
		aiops_free(inv);
		aiops_free(ct);
		return AIOPS_ERR_NOMEM;
	}
	for (uint32_t s = 0; s < maxd; s++)
		inv[s] = 1 / (double)(s + 1);
	for (size_t i0 = 0; i0 < n; i0 += IF_SCORE_BLOCK) {
		size_t rb = n - i0 < IF_SCORE_BLOCK ? n - i0 : IF_SCORE_BLOCK;

		/* a short last block repeats its last row; those lanes are discarded */
		for (size_t i = 0; i < IF_SCORE_BLOCK; i++) {
			const double *xr = x + (i0 + (i < rb ? i : rb - 1)) * d;
			for (size_t j = 0; j < d; j++)
				xt[j * IF_SCORE_BLOCK + i] = xr[j];
		}
		memset(acc, 0, sizeof(acc));
		if (ct)
			memset(ct, 0, d * IF_SCORE_BLOCK * sizeof(double));
		for (size_t t = 0; t < f->trees; t++) {
			uint32_t root = f->root[t], steps = f->depth[t];

			for (size_t g = 0; g < rb; g += 8) {
				uint32_t c0 = root, c1 = root, c2 = root, c3 = root;
				uint32_t c4 = root, c5 = root, c6 = root, c7 = root;

				if (ct) {
					for (uint32_t s = 0; s < steps; s++) {
						double w_ = inv[s];
						IF_LANES(IF_STEP_CONTRIB);
					}
				} else {
					for (uint32_t s = 0; s < steps; s++)
						IF_LANES(IF_STEP);
				}
				acc[g] += f->leafval[c0];
				acc[g + 1] += f->leafval[c1];
				acc[g + 2] += f->leafval[c2];
				acc[g + 3] += f->leafval[c3];
				acc[g + 4] += f->leafval[c4];
				acc[g + 5] += f->leafval[c5];
				acc[g + 6] += f->leafval[c6];
				acc[g + 7] += f->leafval[c7];
			}
		}
		for (size_t i = 0; i < rb; i++)
			out[i0 + i] = to_score(acc[i], f);
		if (ct)
			for (size_t i = 0; i < rb; i++)
				for (size_t j = 0; j < d; j++)
					contrib[(i0 + i) * d + j] =
					    ct[j * IF_SCORE_BLOCK + i] / (double)f->trees;
	}
	aiops_free(xt);
	aiops_free(inv);
	aiops_free(ct);
	return AIOPS_OK;
}

static int
if_score(const struct aiops_model *m, const double *x, size_t n, size_t d, double *out,
    double *contrib, struct aiops_error *e)
{
	struct if_forest f;
	int r;

	if ((r = forest_prepare(m, d, &f, e)) != AIOPS_OK)
		return r;
	if (score_rows(&f, x, n, d, out, contrib) != AIOPS_OK)
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	forest_free(&f);
	return r;
}

static const char *const if_params[] = { "samples", "seed", "trees", NULL };

const struct aiops_family aiops_fam_iforest = {
	"iforest", "detector",
	"trees (number of trees, default 100), samples (rows drawn for each tree, "
	"default 256, capped at the row count), seed (default 0)",
	if_params, if_min_rows, if_fit, if_score, NULL, NULL
};
