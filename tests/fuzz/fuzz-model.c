/*
 * fuzz-model.c - the model file reader (lib/model.c): aiops_model_load()
 * on the input in a scratch file, as is and with its CRC-32 made right (or
 * random bytes never get past it). A model that loads is written back and
 * must load back the same, and it scores a few rows the way aiops-eval
 * does (aiops_model_score() and the row-by-row scorer), since a model
 * pulled from a registry is untrusted input to every family's score().
 */
#include <math.h>

#include <zlib.h>

#include "aiops.h"
#include "fuzz.h"

#define NROWS 12

static volatile double sink;

static void
same_models(const struct aiops_model *a, const struct aiops_model *b)
{
	if (a->family != b->family || a->ncols != b->ncols || a->narr != b->narr ||
	    a->params.n != b->params.n)
		abort();
	for (size_t j = 0; j < a->ncols; j++)
		if (strcmp(a->names[j], b->names[j]) != 0)
			abort();
	for (size_t i = 0; i < a->narr; i++) {
		const struct aiops_array *x = &a->arr[i], *y = aiops_model_get(b, x->name);
		if (y == NULL || x->rows != y->rows || x->cols != y->cols ||
		    (x->rows * x->cols && memcmp(x->v, y->v, x->rows * x->cols * sizeof(double)) != 0))
			abort();
	}
}

static void
score(struct aiops_model *m)
{
	struct aiops_error e;
	struct aiops_scorer sc;
	size_t d = m->ncols;
	double *x, *out, *contrib;

	if (d == 0 || d > 64)
		return;
	x = malloc(NROWS * d * sizeof(double));
	out = malloc(NROWS * sizeof(double));
	contrib = malloc(NROWS * d * sizeof(double));
	if (x == NULL || out == NULL || contrib == NULL)
		abort();
	for (size_t i = 0; i < NROWS * d; i++)
		x[i] = sin((double)i * 0.7) * (double)(1 + i % 5);
	if (aiops_model_score(m, x, NROWS, out, contrib, &e) == AIOPS_OK)
		for (size_t i = 0; i < NROWS; i++)
			sink += out[i];
	/* the scorer moves a forecaster's state on in m itself; m is released after */
	if (aiops_scorer_init(&sc, m, 1, &e) == AIOPS_OK) {
		if (aiops_scorer_run(&sc, x, NROWS / 2, out, contrib, NULL, 0, &e) == AIOPS_OK)
			(void)aiops_scorer_run(&sc, x + NROWS / 2 * d, NROWS - NROWS / 2, out, NULL, NULL,
			    NROWS / 2, &e);
		aiops_scorer_release(&sc);
	}
	free(x);
	free(out);
	free(contrib);
}

static void
load(const uint8_t *p, size_t n)
{
	struct aiops_error e;
	struct aiops_model m, back;
	struct aiops_out out;
	const char *path = fz_write("in.model", p, n), *bpath;

	if (aiops_model_load(&m, path, &e) != AIOPS_OK) {
		if (e.msg[0] == '\0')
			abort();
		unlink(path);
		return;
	}
	unlink(path);
	bpath = fz_path("back.model");
	if (aiops_out_open(&out, bpath, &e) == AIOPS_OK) {
		if (aiops_model_write(&m, &out, &e) == AIOPS_OK && aiops_out_commit(&out, &e) == AIOPS_OK) {
			if (aiops_model_load(&back, bpath, &e) == AIOPS_OK) {
				same_models(&m, &back);
				aiops_model_release(&back);
			} else if (!fz_failmode) {
				fprintf(stderr, "a model written back does not load: %s\n", e.msg);
				abort();
			}
		} else
			aiops_out_abort(&out);
		unlink(bpath);
	}
	score(&m);
	aiops_model_release(&m);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	fz_tmpdir();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	fz_begin(data, size);
	load(data, size);
	if (size >= 28) {
		if ((fixed = malloc(size)) == NULL)
			abort();
		memcpy(fixed, data, size);
		aiops_put_u32(fixed + size - 4, (uint32_t)crc32(0, fixed, (uInt)(size - 4)));
		load(fixed, size);
		free(fixed);
	}
	fz_end();
	return 0;
}
