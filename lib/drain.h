/*
 * drain.h - log template mining with a fixed-depth parse tree, in the
 * manner of Drain (He et al., "Drain: An Online Log Parsing Approach with
 * Fixed Depth Tree", ICWS 2017), and the log header format that cuts a
 * line into fields.
 *
 * A message is cut into tokens at white space. Tokens that look like
 * variables (they hold a digit, or are a path or URL; user regular
 * expressions first) are masked to "<*>"; a "key=value" token keeps its
 * key. The tree's first level is the token count, the next depth-2 levels
 * are the leading tokens (masked ones go down a "<*>" branch, and so does
 * every token past max_children at a node); a leaf holds templates. A
 * message joins the template of its leaf that it matches best if the
 * share of equal positions reaches sim, and the template's differing
 * positions become "<*>"; otherwise it starts a new template. Template ids
 * are given in order of creation and never change. Memory is bounded by
 * the templates (max_templates), not by the lines.
 */
#ifndef AIOPS_DRAIN_H
#define AIOPS_DRAIN_H

#include "base.h"

struct aiops_src;

struct aiops_drain_opts {
	double sim;                 /* similarity threshold, 0..1 (default 0.5) */
	int depth;                  /* tree depth >= 3 (default 4) */
	int max_children;           /* per inner node (default 100) */
	size_t max_templates;       /* AIOPS_ERR_LIMIT past it (default 100000) */
	const char *const *masks;   /* POSIX extended regular expressions */
	size_t nmasks;
};

#define AIOPS_DRAIN_MAX_TOKENS 1024 /* tokens past it are joined into the last */

struct aiops_drain;

void aiops_drain_opts_init(struct aiops_drain_opts *o);
/* Errors: AIOPS_ERR_USAGE (a bad parameter or regular expression), AIOPS_ERR_NOMEM. */
int aiops_drain_new(struct aiops_drain **dp, const struct aiops_drain_opts *o,
    struct aiops_error *e);
void aiops_drain_free(struct aiops_drain *d);

/*
 * Add one message of n bytes (no line end). *id gets its template's id
 * (0-based; shown as "E<id+1>"); *created is set to 1 when the template is
 * new. Errors: AIOPS_ERR_LIMIT (max_templates), AIOPS_ERR_NOMEM.
 */
int aiops_drain_add(struct aiops_drain *d, const char *msg, size_t n, uint32_t *id,
    int *created, struct aiops_error *e);

size_t aiops_drain_count(const struct aiops_drain *d);
/* Template id as text ("<*>" for variables, tokens joined by one space). */
const char *aiops_drain_template(const struct aiops_drain *d, uint32_t id);
uint64_t aiops_drain_occurrences(const struct aiops_drain *d, uint32_t id);

/*
 * The template dictionary as CSV: "EventId,EventTemplate,Occurrences",
 * one template a line in id order, EventId "E<id+1>". load() reads such a
 * file into an empty miner: the ids are kept (they must be E1..En in
 * order), new templates are appended after them. Errors name file:line.
 */
int aiops_drain_save(const struct aiops_drain *d, struct aiops_buf *b, struct aiops_error *e);
int aiops_drain_load(struct aiops_drain *d, struct aiops_src *src, struct aiops_error *e);

/* ---- log header formats ------------------------------------------------- */

/*
 * A header format such as "<Date> <Time> <Level> <Component>: <Content>":
 * <Name> is a field, anything else is literal text, a run of blanks
 * matches one or more blanks, and a backslash makes the next character
 * literal ("\[<Level>\]"). A field ends where the literal text after it
 * first appears; the last field takes the rest of the line. One field must
 * be named Content.
 */
#define AIOPS_LOGFMT_MAX_FIELDS 32

struct aiops_logfmt {
	size_t nfields;
	char *names[AIOPS_LOGFMT_MAX_FIELDS];
	char *lit[AIOPS_LOGFMT_MAX_FIELDS + 1];   /* lit[i] before field i; lit[nfields] after the last */
	size_t litlen[AIOPS_LOGFMT_MAX_FIELDS + 1];
	int content;                /* index of Content */
	int level;                  /* index of Level, or -1 */
};

struct aiops_field { const char *p; size_t n; };

/* Errors: AIOPS_ERR_USAGE naming the column of the format where it fails. */
int aiops_logfmt_compile(struct aiops_logfmt *f, const char *fmt, struct aiops_error *e);
void aiops_logfmt_release(struct aiops_logfmt *f);
/*
 * Cut a line into f->nfields fields. Returns 0, or the 1-based byte column
 * where the line stops matching (a field's literal text missing).
 */
size_t aiops_logfmt_split(const struct aiops_logfmt *f, const char *line, size_t n,
    struct aiops_field *out);

#endif
