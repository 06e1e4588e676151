/*
 * fuzz-logs.c - the logs side of ingest: header formats and the line
 * splitter (aiops_logfmt_*), log times (aiops_log_time()), the Drain
 * template miner and its dictionary file (lib/drain.c), and logs to
 * template counts end to end (lib/logs.c).
 *
 * Input: the first line is the header format (such as "<Date> <Time>
 * <Level> <Component>: <Content>"), the rest log lines; a line "%%" ends
 * them and starts a template dictionary, loaded before the lines are read.
 * The end-to-end run is aiops_ingest() with kind logs, which also writes
 * the lines CSV and saves the dictionary.
 * Checked: every field of a split line lies inside the line; a miner's
 * dictionary, saved and loaded into a new miner, gives the same templates.
 */
#include "aiops.h"
#include "drain.h"
#include "logs.h"
#include "fuzz.h"

#define SEP "\n%%\n"

static volatile size_t sink;

/* Mine msgs with a miner; save, load into a new one, compare. */
static void
mine(const struct aiops_logfmt *f, int have_fmt, const uint8_t *p, size_t n)
{
	struct aiops_drain_opts o;
	struct aiops_drain *d, *d2;
	struct aiops_error e;
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_field fl[AIOPS_LOGFMT_MAX_FIELDS];
	size_t i = 0;

	aiops_drain_opts_init(&o);
	o.max_templates = 1000;
	if (aiops_drain_new(&d, &o, &e) != AIOPS_OK)
		return;
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (p + i)) : n - i;
		/* an exact-size heap copy, so that reading past the line is caught */
		char *line = malloc(len ? len : 1);
		const char *msg = line;
		size_t mlen = len;
		uint32_t id;
		int created;
		int64_t ms;

		memcpy(line, p + i, len);
		if (have_fmt) {
			if (aiops_logfmt_split(f, line, len, fl) != 0) {
				free(line);
				i += len + 1;
				continue;
			}
			for (size_t k = 0; k < f->nfields; k++) {
				if (fl[k].p < line || fl[k].p + fl[k].n > line + len)
					abort();
				if (aiops_log_time(fl[k].p, fl[k].n, &ms) == 0)
					sink += (size_t)ms;
			}
			msg = fl[f->content].p;
			mlen = fl[f->content].n;
		} else if (aiops_log_time(line, len, &ms) == 0)
			sink += (size_t)ms;
		/* a template's text is made on demand: NULL only when that allocation fails */
		if (aiops_drain_add(d, msg, mlen, &id, &created, &e) == AIOPS_OK &&
		    (id >= aiops_drain_count(d) || (aiops_drain_template(d, id) == NULL && !fz_failmode)))
			abort();
		free(line);
		i += len + 1;
	}
	if (aiops_drain_save(d, &b, &e) == AIOPS_OK && aiops_drain_new(&d2, &o, &e) == AIOPS_OK) {
		struct aiops_src *src;
		if (aiops_src_open_mem(&src, b.buf ? b.buf : "", b.len, "templates.csv", &e) == AIOPS_OK) {
			int r = aiops_drain_load(d2, src, &e);
			if (r == AIOPS_OK && aiops_drain_count(d2) != aiops_drain_count(d)) {
				fprintf(stderr, "a saved dictionary of %zu templates loads as %zu\n",
				    aiops_drain_count(d), aiops_drain_count(d2));
				abort();
			}
			if (r == AIOPS_OK) {
				for (uint32_t k = 0; k < aiops_drain_count(d); k++) {
					const char *a = aiops_drain_template(d, k), *b = aiops_drain_template(d2, k);
					if (a == NULL || b == NULL) {
						if (fz_failmode)
							continue;
						abort();
					}
					if (strcmp(a, b) != 0) {
						fprintf(stderr, "template E%u \"%s\" loads as \"%s\"\n", k + 1, a, b);
						abort();
					}
				}
			} else if (!fz_failmode && r != AIOPS_ERR_NOMEM) {
				fprintf(stderr, "a saved dictionary does not load: %s\n", e.msg);
				abort();
			}
			aiops_src_close(src);
		}
		aiops_drain_free(d2);
	}
	aiops_buf_release(&b);
	aiops_drain_free(d);
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
	struct fz_part parts[2];
	size_t np = fz_split(data, size, SEP, parts, 2);
	const uint8_t *nl = memchr(parts[0].p, '\n', parts[0].n);
	size_t flen = nl ? (size_t)(nl - parts[0].p) : parts[0].n;
	const uint8_t *lines = nl ? nl + 1 : parts[0].p + parts[0].n;
	size_t nlines = parts[0].n - (size_t)(lines - parts[0].p);
	char *fmt = fz_str(parts[0].p, flen);
	struct aiops_logfmt f;
	struct aiops_error e;
	struct aiops_ingest_opts o;
	struct aiops_ingest_stats st;
	const char *inputs[1];
	int have_fmt, r;

	inputs[0] = fz_write("in.log", lines, nlines);
	aiops_ingest_opts_init(&o);
	o.kind = AIOPS_KIND_LOGS;
	o.inputs = inputs;
	o.ninputs = 1;
	o.log_format = fmt[0] ? fmt : NULL;
	o.step_ms = AIOPS_EVENT_STEP_MS;
	o.skip_bad = (int)(fz_hash(data, size) & 1);
	o.lines_out = fz_path("lines.csv");
	o.output = fz_path("out.tensor");
	o.log_sim = 0.5;
	o.log_depth = 4;
	if (np > 1)
		o.templates = fz_write("templates.csv", parts[1].p, parts[1].n);

	fz_begin(data, size);
	memset(&f, 0, sizeof(f));
	have_fmt = aiops_logfmt_compile(&f, fmt, &e) == AIOPS_OK;
	if (have_fmt && (f.content < 0 || (size_t)f.content >= f.nfields || f.nfields > AIOPS_LOGFMT_MAX_FIELDS))
		abort();
	mine(&f, have_fmt, lines, nlines);
	if (have_fmt)
		aiops_logfmt_release(&f);
	memset(&st, 0, sizeof(st));
	r = aiops_ingest(&o, &st, &e);
	if (r != AIOPS_OK && e.msg[0] == '\0')
		abort();
	if (r != AIOPS_OK)
		fz_check_nothing_left("in.log", "templates.csv");
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz-logs: format %s; %llu lines, %llu templates: %s\n",
		    have_fmt ? "ok" : "bad", (unsigned long long)st.lines,
		    (unsigned long long)st.templates, r == AIOPS_OK ? "ok" : e.msg);
	aiops_ingest_stats_release(&st);
	fz_end();
	free(fmt);
	fz_clean();
	return 0;
}
