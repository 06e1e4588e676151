/*
 * model.h - a fitted model (aiops-model(5)) and the interface every model
 * family implements. A model is JSON metadata (family, parameters,
 * threshold, scaler, columns, training fingerprint and statistics,
 * provenance) plus named float64 arrays holding the fitted state.
 *
 * Adding a family: one lib/fam_NAME.c defining a const struct aiops_family,
 * and one line in the table in lib/family.c.
 */
#ifndef AIOPS_MODEL_H
#define AIOPS_MODEL_H

#include <jansson.h>

#include "base.h"
#include "tensor.h"
#include "source.h"

#define AIOPS_MODEL_VERSION 1
#define AIOPS_MODEL_MAGIC "\x89" "AIMDL\r\n"
#define AIOPS_MODEL_MAX_FILE (1u << 30)  /* a model file is read whole: at most 1 GiB */
#define AIOPS_MAX_PARAMS 16

/* Hyperparameters: name = number (integers are whole doubles). */
struct aiops_params {
	size_t n;
	char name[AIOPS_MAX_PARAMS][32];
	double v[AIOPS_MAX_PARAMS];
};

/* Value of a parameter, or def when absent. */
double aiops_param(const struct aiops_params *p, const char *name, double def);
/* True when p names the parameter. */
int aiops_param_has(const struct aiops_params *p, const char *name);
/*
 * The parameter name (def when absent) as a whole number from lo to hi into
 * *out; otherwise AIOPS_ERR_USAGE, "FAMILY: NAME=V must be a whole
 * number[WHAT] from LO to HI" (what is "" or a phrase such as " of rows").
 */
int aiops_param_whole(const struct aiops_params *p, const char *family, const char *name,
    double def, double lo, double hi, const char *what, double *out, struct aiops_error *e);
/* Set (add or replace); AIOPS_ERR_LIMIT when full. */
int aiops_param_set(struct aiops_params *p, const char *name, double v);
/* "k=5,trees=100" (sorted by name as given); returns the length. */
int aiops_params_format(const struct aiops_params *p, char *out, size_t outsz);

/* A named row-major array of fitted state. */
struct aiops_array {
	char *name;
	size_t rows, cols;
	double *v;
};

struct aiops_family;

struct aiops_model {
	const struct aiops_family *family;
	struct aiops_params params;
	size_t ncols;                 /* input columns */
	char **names;                 /* input column names (owned) */
	json_t *meta;                 /* everything else (owned; an object) */
	struct aiops_array *arr;      /* fitted state */
	size_t narr;
	double threshold;             /* a score >= threshold is an anomaly */
};

/*
 * The family interface. fit() gets n finite rows of d columns (row-major)
 * and stores its state with aiops_model_put(); score() writes one anomaly
 * score per row (higher is more anomalous; NaN where it cannot score, e.g.
 * the first rows of a forecaster) and, when contrib is not NULL, an n x d
 * matrix of per-column contributions for root-cause hints. Both return
 * AIOPS_OK or an error with a message. Families must be deterministic for
 * a given m->params (including "seed") and input, and may use BLAS.
 */
struct aiops_family {
	const char *name;
	const char *kind;                     /* "detector" or "forecaster" */
	const char *params_doc;               /* "k (components, default 5)" */
	const char *const *param_names;       /* NULL-terminated, for validation */
	/* fewest rows fit() accepts for these parameters and d columns */
	size_t (*min_rows)(const struct aiops_params *p, size_t d);
	int (*fit)(struct aiops_model *m, const double *x, size_t n, size_t d,
	    struct aiops_error *e);
	int (*score)(const struct aiops_model *m, const double *x, size_t n, size_t d,
	    double *out, double *contrib, struct aiops_error *e);
	/*
	 * Forecasters only (NULL for a detector): the one-step forecasts of
	 * the rows after the state held in m, and moving that state past rows
	 * (see forecast.h).
	 */
	int (*forecast)(const struct aiops_model *m, const double *x, size_t n, size_t d,
	    double *pred);
	int (*advance)(struct aiops_model *m, const double *x, size_t n, size_t d);
};

/* The family table (lib/family.c). */
const struct aiops_family *aiops_family_find(const char *name);
const struct aiops_family *const *aiops_families(void);

/* Start an empty model of family f with params p (copied) over names[0..d). */
int aiops_model_init(struct aiops_model *m, const struct aiops_family *f,
    const struct aiops_params *p, char *const *names, size_t d);
void aiops_model_release(struct aiops_model *m);

/* Store a copy of rows x cols values under name (replacing one of that name). */
int aiops_model_put(struct aiops_model *m, const char *name, size_t rows, size_t cols,
    const double *v);
/* The array named name, or NULL. */
const struct aiops_array *aiops_model_get(const struct aiops_model *m, const char *name);

/*
 * Write m to out (aiops-model(5)); does not commit out. Read a model file
 * whole: bad magic, a newer version, truncation and checksum mismatch are
 * AIOPS_ERR_FORMAT / AIOPS_ERR_VERSION with messages naming the file; an
 * unknown family is AIOPS_ERR_FORMAT.
 */
int aiops_model_write(const struct aiops_model *m, struct aiops_out *out,
    struct aiops_error *e);
int aiops_model_load(struct aiops_model *m, const char *path, struct aiops_error *e);

/*
 * The frame alone (lib/modelfile.c, which knows no family): read a model
 * file whole into b (more than AIOPS_MODEL_MAX_FILE bytes is AIOPS_ERR_LIMIT,
 * and so is a compressed one that inflates to more); check p[0..n) as
 * aiops_model_load() does and parse its metadata into *meta (the caller's
 * reference), *narr and *arrays giving the arrays that follow; or both at
 * once, for the metadata only.
 */
int aiops_model_read_file(const char *path, struct aiops_buf *b, struct aiops_error *e);
int aiops_model_frame(const unsigned char *p, size_t n, const char *path, json_t **meta,
    uint32_t *narr, const unsigned char **arrays, struct aiops_error *e);
int aiops_model_load_meta(const char *path, json_t **meta, struct aiops_error *e);

/*
 * Fit m on x; score x into out (n values) through the family. Every family
 * also takes the parameter "smooth" (default 1): scores become the trailing
 * mean of the last smooth raw scores.
 */
int aiops_model_fit(struct aiops_model *m, const double *x, size_t n, struct aiops_error *e);
int aiops_model_score(const struct aiops_model *m, const double *x, size_t n, double *out,
    double *contrib, struct aiops_error *e);
/* The smoothing of aiops_model_score() (smooth=w), on the family's raw scores out[0..n). */
int aiops_model_smooth(const struct aiops_model *m, double *out, size_t n, struct aiops_error *e);

#endif
