/*
 * logs.h - log files to per-window template counts: the logs side of
 * aiops-ingest(1). Lines are cut by a header format, their time read from
 * the time fields, their messages mined into templates (drain.h).
 */
#ifndef AIOPS_LOGS_H
#define AIOPS_LOGS_H

#include "base.h"
#include "ingest.h"
#include "series.h"

/* Longest log line: longer ones are AIOPS_ERR_DATA (skipped under --skip-bad). */
#define AIOPS_LOG_MAX_LINE (1u << 20)

/* The side outputs of a run, written but not committed until the tensor is. */
struct aiops_logs_out {
	struct aiops_out lines;     /* --lines */
	int lines_open;
	struct aiops_out templates; /* --templates: the dictionary's new text */
	int templates_open;
};

/*
 * Read every input (all parts) as log lines and add to pv, per --step
 * window (floor(t/step)*step), one sample per window and column: "E<n>"
 * for the count of template n, and "level.<L>" per level when the format
 * has a <Level> field. Every template of the dictionary has a column, in
 * id order. Prepares o->lines_out and o->templates in *lo: the caller
 * takes them with aiops_logs_take() to commit them together with its own
 * output (aiops_out_commit_all()), or drops them with aiops_logs_abort()
 * (also after a failed read). A line that does not match the format or has no readable
 * time is AIOPS_ERR_DATA naming file:line:column, or is skipped and
 * counted under o->skip_bad.
 */
int aiops_logs_read(struct aiops_pivot *pv, const struct aiops_ingest_opts *o,
    struct aiops_ingest_stats *st, struct aiops_logs_out *lo, struct aiops_error *e);
/* Move the open side outputs to dst (room for two); returns how many. */
size_t aiops_logs_take(struct aiops_logs_out *lo, struct aiops_out *dst);
void aiops_logs_abort(struct aiops_logs_out *lo);

/*
 * Read a time from the text of the header's time fields (joined by a
 * blank): epoch seconds or milliseconds; or a date (Y-M-D, Y.M.D, Y/M/D,
 * YYYYMMDD, YYMMDD, yy/mm/dd, m/d/Y, d/m/Y when d > 12, month names, or no
 * year: 1970) and a time h:m:s with an optional fraction. 0 ok, -1 not a time.
 */
int aiops_log_time(const char *s, size_t n, int64_t *ms);

#endif
