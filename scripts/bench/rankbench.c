/*
 * rankbench - time aiops_rank_metrics() (best F1, AUC-PR, AUC-ROC) on raw
 * arrays, for scripts/bench/eval.py: rankbench SCORES.f64 LABELS.u8 [REPEAT]
 * prints one JSON line: the best seconds of REPEAT runs and the metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aiops.h"

static void *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

int
main(int argc, char *argv[])
{
	size_t ns, ny;
	double *s, best = 1e300;
	unsigned char *y;
	struct aiops_rank rk;
	struct aiops_error e;
	int rep = argc > 3 ? atoi(argv[3]) : 3;

	if (argc < 3) {
		fputs("usage: rankbench scores.f64 labels.u8 [repeat]\n", stderr);
		return 2;
	}
	s = slurp(argv[1], &ns);
	y = slurp(argv[2], &ny);
	if (ns / sizeof(double) != ny) {
		fputs("rankbench: sizes differ\n", stderr);
		return 1;
	}
	for (int r = 0; r < rep; r++) {
		struct timespec a, b;
		double t;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (aiops_rank_metrics(s, y, ny, &rk, &e) != AIOPS_OK) {
			fprintf(stderr, "rankbench: %s\n", e.msg);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (t < best)
			best = t;
	}
	printf("{\"seconds\": %.6f, \"n\": %zu, \"best_f1\": %.17g, \"auc_pr\": %.17g, "
	    "\"auc_roc\": %.17g}\n", best, ny, rk.best_f1, rk.auc_pr, rk.auc_roc);
	free(s);
	free(y);
	return 0;
}
