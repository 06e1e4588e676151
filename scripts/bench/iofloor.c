/*
 * iofloor - the work of `aiops-ingest -j 1 CSV -o OUT` without the parsing,
 * for scripts/bench/ingest.py: iofloor CSV ROWS COLS OUT
 *
 * It reads CSV through read() in 1 MiB pieces (about what aiops-ingest asks
 * for at a time) and for each piece writes its share of ROWS rows of COLS
 * float64 values (the same row each time) as a tensor through the library's
 * writer: the blocks, their CRC-32, the temporary file, fsync and rename of
 * aiops_out_commit().
 * No byte of the CSV is looked at. The time of a run is thus the least any
 * parser can take on one core to make the same tensor from the same file;
 * cat's time over it bounds the "rate as a share of cat's" that any parser
 * can reach. Exits 0, or 1 with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aiops.h"

#define PIECE (1 << 20)

static void
die(const char *what, const struct aiops_error *e)
{
	fprintf(stderr, "iofloor: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct aiops_tensor_info ti;
	struct aiops_twriter w;
	struct aiops_out out;
	struct aiops_error e;
	struct stat sb;
	unsigned long long rows, cols, done = 0, seen = 0;
	double *vals;
	char **names, *buf;
	ssize_t n;
	int fd;

	if (argc != 5 || (rows = strtoull(argv[2], NULL, 10)) == 0 ||
	    (cols = strtoull(argv[3], NULL, 10)) == 0 || cols > AIOPS_TENSOR_MAX_COLS) {
		fputs("usage: iofloor CSV ROWS COLS OUT\n", stderr);
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &sb) != 0 || sb.st_size <= 0)
		die(argv[1], NULL);
	if ((buf = malloc(PIECE)) == NULL || (vals = malloc(cols * sizeof(*vals))) == NULL ||
	    (names = calloc(cols, sizeof(*names))) == NULL)
		die("malloc", NULL);
	for (unsigned long long j = 0; j < cols; j++) {
		vals[j] = 0.5 + (double)j / 1024;
		if ((names[j] = malloc(24)) == NULL)
			die("malloc", NULL);
		snprintf(names[j], 24, "m%llu", j + 1);
	}
	if (aiops_tinfo_init(&ti) != AIOPS_OK ||
	    aiops_tinfo_set_names(&ti, names, cols) != AIOPS_OK)
		die("tensor info", NULL);
	if (aiops_out_open(&out, argv[4], &e) != AIOPS_OK)
		die(argv[4], &e);
	if (aiops_twriter_open(&w, &out, &ti, &e) != AIOPS_OK)
		die(argv[4], &e);
	while ((n = read(fd, buf, PIECE)) > 0) {
		seen += (unsigned long long)n;
		/* this piece's share of the rows (all of them once the file is read) */
		unsigned long long upto = seen >= (unsigned long long)sb.st_size ? rows :
		    (unsigned long long)((double)rows * (double)seen / (double)sb.st_size);
		for (; done < upto; done++)
			if (aiops_twriter_row(&w, 0, vals, 0, &e) != AIOPS_OK)
				die(argv[4], &e);
	}
	if (n < 0)
		die(argv[1], NULL);
	for (; done < rows; done++)     /* the file shrank while it was read */
		if (aiops_twriter_row(&w, 0, vals, 0, &e) != AIOPS_OK)
			die(argv[4], &e);
	if (aiops_twriter_finish(&w, &e) != AIOPS_OK || aiops_out_commit(&out, &e) != AIOPS_OK)
		die(argv[4], &e);
	aiops_twriter_release(&w);
	aiops_tinfo_release(&ti);
	for (unsigned long long j = 0; j < cols; j++)
		free(names[j]);
	free(names);
	free(vals);
	free(buf);
	close(fd);
	return 0;
}
