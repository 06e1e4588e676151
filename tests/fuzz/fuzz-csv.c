/*
 * fuzz-csv.c - the CSV reader (lib/csv.c) over a memory source: every
 * record and field, eagerly split and lazily (aiops_csv_split), with the
 * comma and with a tab, and each field through the number and time parsers
 * the way ingest reads them. Gzip-compressed input goes through the source's
 * decoder.
 */
#include "aiops.h"
#include "fuzz.h"

static volatile size_t sink;

/* Read every record of data: mode 0 eager, 1 lazy; delim the separator. */
static void
read_all(const uint8_t *data, size_t size, int lazy, char delim)
{
	struct aiops_error e;
	struct aiops_src *src;
	struct aiops_csv c;
	int r;

	if (aiops_src_open_mem(&src, data, size, "fuzz.csv", &e) != AIOPS_OK)
		return;
	if (aiops_csv_init(&c, src, &e) != AIOPS_OK) {
		aiops_src_close(src);
		return;
	}
	c.delim = delim;
	c.lazy = lazy;
	while ((r = aiops_csv_next(&c, &e)) == 1) {
		if (lazy && c.raw) {
			/* ingest's fast path looks at the raw line, then splits it */
			if (c.raw[c.rawlen] != '\0')
				abort();
			if (aiops_csv_split(&c, &e) != AIOPS_OK)
				break;
		}
		for (size_t i = 0; i < c.nf; i++) {
			const struct aiops_csv_field *f = &c.f[i];
			double v;
			int64_t ms, iv;
			const char *endp;
			if (f->p[f->len] != '\0' || f->col < 1 || c.line < 1)
				abort();
			sink += f->len;
			if (aiops_parse_double(f->p, f->len, &v) == 0)
				sink += v == v;
			if (aiops_parse_double_fast(f->p, f->p + f->len, &v, &endp) == 0 &&
			    (endp < f->p || endp > f->p + f->len))
				abort();
			if (aiops_parse_time(f->p, f->len, AIOPS_TIME_AUTO, &ms) == 0)
				sink += (size_t)ms;
			if (aiops_parse_i64(f->p, f->len, &iv) == 0)
				sink += (size_t)iv;
			sink += aiops_looks_like_datetime(f->p, f->len);
		}
	}
	if (r < 0 && (e.code != r || e.msg[0] == '\0'))
		abort(); /* a failure always says why */
	aiops_csv_release(&c);
	aiops_src_close(src);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_begin(data, size);
	read_all(data, size, 0, ',');
	read_all(data, size, 1, ',');
	read_all(data, size, 0, '\t');
	fz_end();
	return 0;
}
