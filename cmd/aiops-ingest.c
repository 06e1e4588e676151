/* aiops-ingest - raw metrics to aligned feature tensors (see aiops-ingest(1)). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aiops.h"
#include "cmd.h"

static const char usage_text[] =
"usage: aiops-ingest [-hqu] [-j jobs] [-O format] [-o output] [--agg func]\n"
"                    [--drop cols] [--drop-constant] [--dtype type] [--fill policy]\n"
"                    [--header | --no-header] [--info] [--label-col col]\n"
"                    [--labels file] [--long] [--max-gap n]\n"
"                    [--rename old=new,...] [--scale kind] [--scaler-from tensor]\n"
"                    [--select cols] [--skip-bad] [--sort] [--split cuts]\n"
"                    [--step duration] [--time-col col] [--time-unit unit]\n"
"                    [file ...]\n"
"       aiops-ingest --logs [--depth n] [--lines file] [--log-format format]\n"
"                    [--mask regex] [--sim threshold] [--templates file]\n"
"                    [options] [file ...]\n"
"       aiops-ingest --traces [--trace-format format] [options] [file ...]\n"
"       aiops-ingest --join [options] tensor tensor ...\n"
"       aiops-ingest --prom query --start time --end time --step duration\n"
"                    [options] url\n";

enum {
	O_AGG = 256, O_DROP, O_DROP_CONSTANT, O_DTYPE, O_FILL, O_HEADER, O_NO_HEADER, O_INFO,
	O_LABEL_COL, O_LABELS, O_LONG, O_MAX_GAP, O_RENAME, O_SCALE, O_SCALER_FROM, O_SELECT,
	O_SKIP_BAD, O_SORT, O_SPLIT, O_STEP, O_TIME_COL, O_TIME_UNIT, O_PROM, O_START, O_END,
	O_HELP, O_LOGS, O_DEPTH, O_LINES, O_LOG_FORMAT, O_MASK, O_SIM, O_TEMPLATES, O_TRACES,
	O_TRACE_FORMAT, O_JOIN
};

static const struct option longopts[] = {
	{ "agg", required_argument, NULL, O_AGG },
	{ "depth", required_argument, NULL, O_DEPTH },
	{ "join", no_argument, NULL, O_JOIN },
	{ "lines", required_argument, NULL, O_LINES },
	{ "log-format", required_argument, NULL, O_LOG_FORMAT },
	{ "logs", no_argument, NULL, O_LOGS },
	{ "mask", required_argument, NULL, O_MASK },
	{ "sim", required_argument, NULL, O_SIM },
	{ "templates", required_argument, NULL, O_TEMPLATES },
	{ "trace-format", required_argument, NULL, O_TRACE_FORMAT },
	{ "traces", no_argument, NULL, O_TRACES },
	{ "drop", required_argument, NULL, O_DROP },
	{ "drop-constant", no_argument, NULL, O_DROP_CONSTANT },
	{ "dtype", required_argument, NULL, O_DTYPE },
	{ "end", required_argument, NULL, O_END },
	{ "fill", required_argument, NULL, O_FILL },
	{ "header", no_argument, NULL, O_HEADER },
	{ "help", no_argument, NULL, O_HELP },
	{ "info", no_argument, NULL, O_INFO },
	{ "label-col", required_argument, NULL, O_LABEL_COL },
	{ "labels", required_argument, NULL, O_LABELS },
	{ "long", no_argument, NULL, O_LONG },
	{ "max-gap", required_argument, NULL, O_MAX_GAP },
	{ "no-header", no_argument, NULL, O_NO_HEADER },
	{ "prom", required_argument, NULL, O_PROM },
	{ "rename", required_argument, NULL, O_RENAME },
	{ "scale", required_argument, NULL, O_SCALE },
	{ "scaler-from", required_argument, NULL, O_SCALER_FROM },
	{ "select", required_argument, NULL, O_SELECT },
	{ "skip-bad", no_argument, NULL, O_SKIP_BAD },
	{ "sort", no_argument, NULL, O_SORT },
	{ "split", required_argument, NULL, O_SPLIT },
	{ "start", required_argument, NULL, O_START },
	{ "step", required_argument, NULL, O_STEP },
	{ "time-col", required_argument, NULL, O_TIME_COL },
	{ "time-unit", required_argument, NULL, O_TIME_UNIT },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(AIOPS_EXIT_USAGE);
}

static void
bad_arg(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "%s: %s: expected %s, got \"%s\"\n", aiops_progname(), opt, want, val);
	exit(AIOPS_EXIT_USAGE);
}

/* now, now-DURATION, or a timestamp */
static int64_t
parse_when(const char *opt, const char *s)
{
	int64_t now = (int64_t)time(NULL) * 1000, t, d;

	if (strcmp(s, "now") == 0)
		return now;
	if (strncmp(s, "now-", 4) == 0) {
		if (aiops_parse_duration(s + 4, &d) != 0)
			bad_arg(opt, s, "now, now-DURATION or a timestamp");
		return now - d;
	}
	if (aiops_parse_time(s, strlen(s), AIOPS_TIME_AUTO, &t) != 0)
		bad_arg(opt, s, "now, now-DURATION or a timestamp");
	return t;
}

/* Print a tensor's header and row count as JSON. */
static int
info(const char *path, struct aiops_error *e)
{
	struct aiops_src *src;
	struct aiops_treader tr;
	json_t *o, *cols;
	char *s;
	int r;

	if ((r = aiops_src_open(&src, path, e)) != AIOPS_OK)
		return r;
	if ((r = aiops_treader_open(&tr, src, e)) == AIOPS_OK) {
		while ((r = aiops_treader_next(&tr, NULL, NULL, NULL, e)) == 1)
			;
	}
	if (r == AIOPS_OK) {
		o = json_object();
		cols = json_array();
		for (size_t j = 0; j < tr.info.ncols; j++)
			json_array_append_new(cols, json_string(tr.info.names[j]));
		json_object_set_new(o, "version", json_integer(tr.info.version));
		json_object_set_new(o, "dtype", json_string(tr.info.dtype == AIOPS_F32 ? "float32" : "float64"));
		json_object_set_new(o, "rows", json_integer((json_int_t)tr.total));
		json_object_set_new(o, "columns", cols);
		json_object_set_new(o, "has_timestamps", json_boolean(tr.info.has_ts));
		json_object_set_new(o, "has_labels", json_boolean(tr.info.has_labels));
		json_object_set(o, "meta", tr.info.meta);
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s == NULL)
			r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		else {
			printf("%s\n", s);
			free(s);
		}
		json_decref(o);
	}
	aiops_treader_release(&tr);
	aiops_src_close(src);
	return r;
}

int
main(int argc, char *argv[])
{
	struct aiops_ingest_opts o;
	struct aiops_ingest_stats st;
	struct aiops_error e = { 0, "" };
	int c, quiet = 0, want_info = 0, r;
	const char *start = NULL, *end = NULL;
	const char **masks = NULL;
	size_t nkinds = 0;

	aiops_cmd_init(argv[0]);
	aiops_src_enable_urls();
	aiops_src_enable_archives();
	aiops_ingest_opts_init(&o);
	o.jobs = -1;
	while ((c = getopt_long(argc, argv, "hj:O:o:qu", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case O_HELP:
			fputs(usage_text, stdout);
			return 0;
		case 'O':
			if (strcmp(optarg, "tensor") == 0) o.format = AIOPS_FMT_TENSOR;
			else if (strcmp(optarg, "csv") == 0) o.format = AIOPS_FMT_CSV;
			else if (strcmp(optarg, "npy") == 0) o.format = AIOPS_FMT_NPY;
			else bad_arg("-O", optarg, "tensor, csv or npy");
			break;
		case 'j': o.jobs = (int)cmd_whole("-j", optarg, 1, 64); break;
		case 'o': o.output = optarg; break;
		case 'q': quiet = 1; break;
		case 'u': o.unbuffered = 1; break;
		case O_AGG:
			if ((o.agg = aiops_agg_parse(optarg)) < 0)
				bad_arg("--agg", optarg, "mean, last, min, max, sum or count");
			break;
		case O_DROP: o.drop = optarg; break;
		case O_DROP_CONSTANT: o.drop_constant = 1; break;
		case O_DTYPE:
			if (strcmp(optarg, "f64") == 0 || strcmp(optarg, "float64") == 0) o.dtype = AIOPS_F64;
			else if (strcmp(optarg, "f32") == 0 || strcmp(optarg, "float32") == 0) o.dtype = AIOPS_F32;
			else bad_arg("--dtype", optarg, "f32 or f64");
			break;
		case O_FILL:
			if ((o.fill = aiops_fill_parse(optarg)) < 0)
				bad_arg("--fill", optarg, "nan, ffill, linear or zero");
			break;
		case O_HEADER: o.header = 1; break;
		case O_NO_HEADER: o.header = 0; break;
		case O_INFO: want_info = 1; break;
		case O_LABEL_COL: o.label_col = optarg; break;
		case O_LABELS: o.labels_file = optarg; break;
		case O_LONG: o.long_format = 1; break;
		case O_MAX_GAP: {
			int64_t v;
			if (aiops_parse_i64(optarg, strlen(optarg), &v) != 0 || v < 0 || v > 1000000000)
				bad_arg("--max-gap", optarg, "a whole number of steps >= 0");
			o.max_gap = (long)v;
			break;
		}
		case O_RENAME: o.rename = optarg; break;
		case O_SCALE:
			if ((o.scale = aiops_scale_parse(optarg)) < 0)
				bad_arg("--scale", optarg, "zscore, robust, minmax or none");
			break;
		case O_SCALER_FROM: o.scaler_from = optarg; break;
		case O_SELECT: o.select = optarg; break;
		case O_SKIP_BAD: o.skip_bad = 1; break;
		case O_SORT: o.sort = 1; break;
		case O_SPLIT: o.split = optarg; break;
		case O_STEP:
			if (aiops_parse_duration(optarg, &o.step_ms) != 0)
				bad_arg("--step", optarg, "a duration such as 500ms, 15s, 5m, 1h");
			break;
		case O_TIME_COL: o.time_col = optarg; break;
		case O_TIME_UNIT:
			if (strcmp(optarg, "s") == 0) o.time_unit = AIOPS_TIME_S;
			else if (strcmp(optarg, "ms") == 0) o.time_unit = AIOPS_TIME_MS;
			else bad_arg("--time-unit", optarg, "s or ms");
			break;
		case O_PROM: o.prom_query = optarg; break;
		case O_LOGS: o.kind = AIOPS_KIND_LOGS; nkinds++; break;
		case O_TRACES: o.kind = AIOPS_KIND_TRACES; nkinds++; break;
		case O_JOIN: o.kind = AIOPS_KIND_JOIN; nkinds++; break;
		case O_LOG_FORMAT: o.log_format = optarg; break;
		case O_TEMPLATES: o.templates = optarg; break;
		case O_LINES: o.lines_out = optarg; break;
		case O_MASK:
			if ((masks = realloc(masks, (o.nmasks + 1) * sizeof(*masks))) == NULL) {
				fprintf(stderr, "%s: out of memory\n", aiops_progname());
				return AIOPS_EXIT_FAIL;
			}
			masks[o.nmasks++] = optarg;
			break;
		case O_SIM: {
			char *end_;
			errno = 0;
			o.log_sim = strtod(optarg, &end_);
			if (errno || *optarg == 0 || *end_ || !(o.log_sim >= 0 && o.log_sim <= 1))
				bad_arg("--sim", optarg, "a number from 0 to 1");
			break;
		}
		case O_DEPTH: {
			int64_t v;
			if (aiops_parse_i64(optarg, strlen(optarg), &v) != 0 || v < 3 || v > 64)
				bad_arg("--depth", optarg, "a whole number from 3 to 64");
			o.log_depth = (int)v;
			break;
		}
		case O_TRACE_FORMAT:
			if ((o.trace_format = aiops_trace_format_parse(optarg)) < 0)
				bad_arg("--trace-format", optarg, "auto, csv, jsonl or otlp");
			break;
		case O_START: start = optarg; break;
		case O_END: end = optarg; break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	o.masks = masks;
	if (nkinds > 1 || (nkinds && o.prom_query)) {
		fprintf(stderr, "%s: --logs, --traces, --join and --prom exclude each other\n",
		    aiops_progname());
		usage();
	}
	if (o.kind != AIOPS_KIND_LOGS && (o.log_format || o.templates || o.lines_out || o.nmasks)) {
		fprintf(stderr, "%s: --log-format, --templates, --lines and --mask go with --logs\n",
		    aiops_progname());
		usage();
	}
	if (o.kind == AIOPS_KIND_JOIN && argc < 2) {
		fprintf(stderr, "%s: --join needs two tensors or more\n", aiops_progname());
		usage();
	}
	if (want_info) {
		if (argc > 1 || o.prom_query) {
			fprintf(stderr, "%s: --info reads one tensor file\n", aiops_progname());
			usage();
		}
		r = info(argc ? argv[0] : "-", &e);
		if (r == AIOPS_OK && aiops_close_stdout(&e) != 0)
			r = e.code;
		if (r != AIOPS_OK)
			fprintf(stderr, "%s: %s\n", aiops_progname(), e.msg);
		return aiops_exit_status(r);
	}
	if (o.prom_query) {
		if (argc != 1 || start == NULL || end == NULL || o.step_ms == 0) {
			fprintf(stderr, "%s: --prom needs --start, --end, --step and one url\n",
			    aiops_progname());
			usage();
		}
		o.prom_start = parse_when("--start", start);
		o.prom_end = parse_when("--end", end);
		if (o.prom_end < o.prom_start)
			bad_arg("--end", end, "a time after --start");
	} else if (start || end) {
		fprintf(stderr, "%s: --start and --end go with --prom\n", aiops_progname());
		usage();
	}
	if (o.split && (o.output == NULL || strcmp(o.output, "-") == 0)) {
		fprintf(stderr, "%s: --split needs -o prefix\n", aiops_progname());
		usage();
	}
	if (o.scale != AIOPS_SCALE_NONE && o.scaler_from) {
		fprintf(stderr, "%s: --scale and --scaler-from exclude each other\n", aiops_progname());
		usage();
	}
	if ((o.output == NULL || strcmp(o.output, "-") == 0) && isatty(STDOUT_FILENO) &&
	    (o.format == AIOPS_FMT_TENSOR || o.format == AIOPS_FMT_NPY || o.format < 0)) {
		fprintf(stderr, "%s: not writing binary output to a terminal; use -o file or -O csv\n",
		    aiops_progname());
		return AIOPS_EXIT_USAGE;
	}
	if (o.jobs < 0)
		o.jobs = (int)cmd_cpus(2);     /* the CSV parsing has two stages */
	if (o.unbuffered)
		o.jobs = 1;     /* each row out at once: no batches of lines */
	o.inputs = (const char *const *)argv;
	o.ninputs = (size_t)argc;
	r = aiops_ingest(&o, &st, &e);
	if (r == AIOPS_OK && (o.output == NULL || strcmp(o.output, "-") == 0) &&
	    aiops_close_stdout(&e) != 0)
		r = e.code;
	if (r != AIOPS_OK) {
		fprintf(stderr, "%s: %s\n", aiops_progname(), e.msg);
	} else if (!quiet) {
		if (st.skipped)
			fprintf(stderr, "%s: warning: skipped %llu bad %s (first: %s)\n",
			    aiops_progname(), (unsigned long long)st.skipped,
			    o.kind == AIOPS_KIND_LOGS ? "lines" : o.kind == AIOPS_KIND_TRACES ?
			    "spans" : "rows", st.first_skip);
		if (o.kind == AIOPS_KIND_LOGS)
			fprintf(stderr, "%s: %llu lines, %llu templates (%llu new)\n", aiops_progname(),
			    (unsigned long long)st.lines, (unsigned long long)st.templates,
			    (unsigned long long)st.new_templates);
		if (st.nconstant)
			fprintf(stderr, "%s: warning: %zu constant column%s%s: %s\n", aiops_progname(),
			    st.nconstant, st.nconstant == 1 ? "" : "s",
			    o.drop_constant ? " dropped" : "", st.constant.buf);
	}
	aiops_ingest_stats_release(&st);
	aiops_net_cleanup();
	free(masks);
	return aiops_exit_status(r);
}
