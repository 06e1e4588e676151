/*
 * fuzz-ingest.c - aiops_ingest() end to end on metrics input (lib/ingest.c
 * over csv.c, parse.c, tensor.c, series.c, sink.c): wide or long CSV, or a
 * tensor (by its magic), aligned, filled, labelled, split, scaled and
 * written as a tensor, CSV or .npy file in a scratch directory.
 *
 * A first line "#! words" sets options, as aiops-ingest's would: header,
 * noheader, long, sort, skipbad, dropconst, f32, csv, npy, tensor, stdout
 * (write to /dev/null), and step=, agg=, fill=, maxgap=, time=, unit=,
 * label=, select=, drop=, rename=, split=, scale=. The rest is the input;
 * a line "#labels" ends it and starts a labels file (intervals).
 */
#include "aiops.h"
#include "fuzz.h"

#define LABELS_SEP "\n#labels\n"

struct optbuf {
	char text[512];
	const char *time_col, *label_col, *select, *drop, *rename, *split;
};

/* Apply the "#!" line's words to o; their strings live in ob. */
static void
parse_opts(const uint8_t *p, size_t n, struct aiops_ingest_opts *o, struct optbuf *ob, int *to_null)
{
	char *w, *save;

	if (n >= sizeof(ob->text))
		n = sizeof(ob->text) - 1;
	memcpy(ob->text, p, n);
	ob->text[n] = '\0';
	for (w = strtok_r(ob->text, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		char *v = strchr(w, '=');
		int64_t ms;
		if (v)
			*v++ = '\0';
		if (strcmp(w, "header") == 0)
			o->header = 1;
		else if (strcmp(w, "noheader") == 0)
			o->header = 0;
		else if (strcmp(w, "long") == 0)
			o->long_format = 1;
		else if (strcmp(w, "sort") == 0)
			o->sort = 1;
		else if (strcmp(w, "skipbad") == 0)
			o->skip_bad = 1;
		else if (strcmp(w, "dropconst") == 0)
			o->drop_constant = 1;
		else if (strcmp(w, "f32") == 0)
			o->dtype = AIOPS_F32;
		else if (strcmp(w, "csv") == 0)
			o->format = AIOPS_FMT_CSV;
		else if (strcmp(w, "npy") == 0)
			o->format = AIOPS_FMT_NPY;
		else if (strcmp(w, "tensor") == 0)
			o->format = AIOPS_FMT_TENSOR;
		else if (strcmp(w, "stdout") == 0)
			*to_null = 1;
		else if (v == NULL)
			continue;
		/* a step over a day or under a second makes huge outputs of gaps: bound it */
		else if (strcmp(w, "step") == 0 && aiops_parse_duration(v, &ms) == 0 && ms >= 1000 &&
		    ms <= 86400000)
			o->step_ms = ms;
		else if (strcmp(w, "agg") == 0)
			o->agg = aiops_agg_parse(v);
		else if (strcmp(w, "fill") == 0 && aiops_fill_parse(v) >= 0)
			o->fill = aiops_fill_parse(v);
		else if (strcmp(w, "maxgap") == 0)
			o->max_gap = strtol(v, NULL, 10);
		else if (strcmp(w, "unit") == 0)
			o->time_unit = strcmp(v, "s") == 0 ? AIOPS_TIME_S : strcmp(v, "ms") == 0 ? AIOPS_TIME_MS :
			    AIOPS_TIME_AUTO;
		else if (strcmp(w, "scale") == 0 && aiops_scale_parse(v) >= 0)
			o->scale = aiops_scale_parse(v);
		else if (strcmp(w, "time") == 0)
			o->time_col = v;
		else if (strcmp(w, "label") == 0)
			o->label_col = v;
		else if (strcmp(w, "select") == 0)
			o->select = v;
		else if (strcmp(w, "drop") == 0)
			o->drop = v;
		else if (strcmp(w, "rename") == 0)
			o->rename = v;
		else if (strcmp(w, "split") == 0)
			o->split = v;
	}
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
	struct aiops_ingest_opts o;
	struct aiops_ingest_stats st;
	struct aiops_error e;
	struct optbuf ob;
	struct fz_part parts[2];
	const char *inputs[1], *out;
	const uint8_t *p = data;
	size_t n = size, np;
	int to_null = 0, r;

	aiops_ingest_opts_init(&o);
	memset(&ob, 0, sizeof(ob));
	if (n >= 2 && p[0] == '#' && p[1] == '!') {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		parse_opts(p + 2, len - 2, &o, &ob, &to_null);
		p += nl ? len + 1 : len;
		n -= nl ? len + 1 : len;
	}
	np = fz_split(p, n, LABELS_SEP, parts, 2);
	inputs[0] = fz_write("in.csv", parts[0].p, parts[0].n);
	if (np > 1)
		o.labels_file = fz_write("labels.csv", parts[1].p, parts[1].n);
	o.inputs = inputs;
	o.ninputs = 1;
	/* a split needs a file; otherwise a file, or /dev/null written in place */
	out = o.format == AIOPS_FMT_CSV ? "out.csv" : o.format == AIOPS_FMT_NPY ? "out.npy" : "out.tensor";
	o.output = to_null && !o.split ? "/dev/null" : fz_path(out);
	/* with no explicit format the output's name chooses */
	memset(&st, 0, sizeof(st));
	fz_begin(data, size);
	r = aiops_ingest(&o, &st, &e);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz-ingest: %s: %llu rows in, %llu out\n", r == AIOPS_OK ? "ok" : e.msg,
		    (unsigned long long)st.rows_in, (unsigned long long)st.rows_out);
	if (r != AIOPS_OK && e.msg[0] == '\0')
		abort();
	if (r != AIOPS_OK)
		fz_check_nothing_left("in.csv", "labels.csv");
	if (r == AIOPS_OK && st.rows_out > 0 && !o.split && !to_null && access(o.output, F_OK) != 0) {
		fprintf(stderr, "ingest succeeded without its output %s\n", o.output);
		abort();
	}
	aiops_ingest_stats_release(&st);
	fz_end();
	fz_clean();
	return 0;
}
