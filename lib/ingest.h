/*
 * ingest.h - raw metrics (wide or long CSV, tensors, Prometheus) to
 * aligned tensor, CSV or .npy output: the work behind aiops-ingest(1).
 */
#ifndef AIOPS_INGEST_H
#define AIOPS_INGEST_H

#include "base.h"
#include "series.h"

struct aiops_ingest_opts {
	const char *const *inputs;  /* operands; none means "-" */
	size_t ninputs;
	const char *output;         /* NULL or "-": stdout; with split: the prefix */
	int format;                 /* enum aiops_format, or -1: from the output's suffix */
	int dtype;                  /* AIOPS_F64 or AIOPS_F32 */
	int header;                 /* -1 auto, 0 none, 1 present */
	const char *time_col;       /* NULL auto, "none", a name or a 1-based number */
	int time_unit;              /* enum aiops_time_unit */
	const char *label_col;
	int long_format;
	const char *select, *drop, *rename;
	int drop_constant;
	int64_t step_ms;            /* 0: no alignment grid */
	int agg;                    /* -1: mean with a step, last without */
	int fill;
	long max_gap;
	int sort;
	const char *labels_file;
	const char *split;
	int scale;                  /* enum aiops_scale */
	const char *scaler_from;
	int skip_bad;
	int jobs;                   /* 2: wide CSV lines are parsed on a second thread */
	int unbuffered;             /* write each row out at once (CSV: a line) */
	const char *prom_query;     /* with inputs[0] the Prometheus base URL */
	int64_t prom_start, prom_end;
	int kind;                   /* enum aiops_ingest_kind */
	/* logs (see drain.h and logs.h) */
	const char *log_format;     /* header format; NULL: "<Content>" */
	const char *templates;      /* template dictionary: loaded if it exists, then saved */
	const char *lines_out;      /* per-line LineId,EventId,EventTemplate CSV */
	double log_sim;             /* similarity threshold */
	int log_depth;              /* parse tree depth */
	const char *const *masks;   /* extra variable patterns (regular expressions) */
	size_t nmasks;
	/* traces (see traces.h) */
	int trace_format;           /* enum aiops_trace_format */
};

/* What the inputs are: metrics (CSV, tensors, Prometheus), logs, spans, or tensors to join. */
enum aiops_ingest_kind { AIOPS_KIND_METRICS, AIOPS_KIND_LOGS, AIOPS_KIND_TRACES, AIOPS_KIND_JOIN };

/* Default --step of logs and traces, which have no natural row. */
#define AIOPS_EVENT_STEP_MS 60000

/* What a run saw, for the caller's summary and warnings. */
struct aiops_ingest_stats {
	uint64_t rows_in, rows_out, skipped;
	char first_skip[1024];      /* message of the first skipped row */
	struct aiops_buf constant;  /* names of constant columns, comma-separated (4 KiB, then ...) */
	size_t nconstant;
	uint64_t part_rows[3];      /* with a split: train, valid, test */
	int nparts;
	uint64_t lines, templates, new_templates;  /* logs */
	uint64_t spans;                             /* traces */
};

/* Default options (reads stdin, writes a float64 tensor to stdout). */
void aiops_ingest_opts_init(struct aiops_ingest_opts *o);

/*
 * Run an ingest. Outputs are written atomically: on any error nothing is
 * left. Errors: AIOPS_ERR_USAGE for option combinations that cannot work
 * (e.g. --step without timestamps), and the codes of the layers below, with
 * messages that name the place. st is filled (release it) even on failure.
 */
int aiops_ingest(const struct aiops_ingest_opts *o, struct aiops_ingest_stats *st,
    struct aiops_error *e);
void aiops_ingest_stats_release(struct aiops_ingest_stats *st);

/* Output format from a file name's suffix (.csv, .npy; else tensor). */
int aiops_format_from_name(const char *path);

#endif
