/*
 * search.h - hyperparameter search: spaces, trials, objectives, a worker
 * pool, the resumable journal, and shards for distributed runs.
 */
#ifndef AIOPS_SEARCH_H
#define AIOPS_SEARCH_H

#include "model.h"
#include "tensor.h"

struct aiops_trial {
	const struct aiops_family *family;
	struct aiops_params params;
	size_t index;       /* position in the full, ordered trial list */
	double budget;      /* fraction of the training rows (successive halving) */
	double metric;      /* objective, higher is better; NaN until run */
	double seconds;
	int done, failed;
	char err[256];
};

struct aiops_space {
	struct aiops_trial *t;
	size_t n, cap;
};

/*
 * Append the trials of spec: family specs separated by blanks, each
 * "family[:name=values[;name=values...]]" where values are a number, a list
 * "1,2,5", or a range "a..b" or "a..b/step". The grid is the product of the
 * values; trials are numbered in order. AIOPS_ERR_USAGE names what is wrong.
 */
int aiops_space_parse(struct aiops_space *sp, const char *spec, struct aiops_error *e);
/* Keep n trials drawn at random (seeded), in their original order. */
void aiops_space_sample(struct aiops_space *sp, size_t n, uint64_t seed);
void aiops_space_release(struct aiops_space *sp);
/* "pca:k=5" style key of a trial (for journals). */
void aiops_trial_key(const struct aiops_trial *t, char *out, size_t outsz);

enum aiops_objective { AIOPS_OBJ_AUTO, AIOPS_OBJ_BESTF1, AIOPS_OBJ_AUCPR, AIOPS_OBJ_ERROR };
enum aiops_strategy { AIOPS_STRAT_GRID, AIOPS_STRAT_RANDOM, AIOPS_STRAT_HALVING };

struct aiops_search_opts {
	int jobs;
	int shard_i, shard_n;     /* 1-based shard; 0/0 for all */
	const char *journal;      /* NULL: none */
	int objective;
	int folds;                /* rolling-origin folds when there is no valid tensor */
	int strategy;
	int progress;             /* report progress through the callback */
	void (*on_progress)(size_t done, size_t total, const struct aiops_trial *t, void *ud);
	void *ud;
};

/*
 * Run the trials of sp this shard owns (all, without shards) on x (n x d,
 * finite) with labels y (may be NULL), validating on vx/vy (vn rows; vx
 * NULL: rolling-origin folds over x). Trials already in the journal are not
 * run again. Results are in sp->t[]. Deterministic whatever jobs is.
 */
int aiops_search_run(struct aiops_space *sp, const double *x, const unsigned char *y,
    size_t n, size_t d, char *const *names, const double *vx, const unsigned char *vy,
    size_t vn, const struct aiops_search_opts *o, struct aiops_error *e);

/* Read journal or results lines (JSONL) into sp: known trials (same tag) are
 * marked done; unknown ones are appended (for --select). A torn last line is ignored. */
int aiops_journal_read(struct aiops_space *sp, const char *path, int append_unknown,
    const char *tag, struct aiops_error *e);
/*
 * Append one trial as a JSON line to fd (one write). tag names the data and
 * objective the metric was measured on; a journal line is reused only for the
 * same tag (with tag NULL, any).
 */
int aiops_journal_append(int fd, const struct aiops_trial *t, const char *tag,
    struct aiops_error *e);

/* The best finished trial (highest metric, then lowest index), or NULL. */
const struct aiops_trial *aiops_search_best(const struct aiops_space *sp);

#endif
