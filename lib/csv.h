/*
 * csv.h - an RFC 4180 CSV reader over a source: quoted fields with ""
 * escapes and embedded newlines, CRLF and a UTF-8 BOM tolerated, blank lines
 * skipped, and line and column of every field kept for messages.
 */
#ifndef AIOPS_CSV_H
#define AIOPS_CSV_H

#include "base.h"
#include "source.h"

/* A field: NUL-terminated text in the reader's buffer, valid until the next read. */
struct aiops_csv_field {
	char *p;
	size_t len;
	long col;     /* 1-based byte column of the field's first character */
};

struct aiops_csv {
	struct aiops_src *src;  /* not owned */
	char *buf;
	size_t cap, pos, end;
	int eof;
	long line;              /* line number of the current record's start */
	long next_line;
	size_t nf, fcap;
	struct aiops_csv_field *f;
	char delim;
	int at_start;
	int lazy;               /* set by the caller: leave unquoted lines unsplit */
	char *raw;              /* with lazy: the unsplit line, or NULL if split */
	size_t rawlen;
};

/* Longest record accepted: a longer one is an AIOPS_ERR_LIMIT error. */
#define AIOPS_CSV_MAX_RECORD (64u << 20)

/* Start reading src's current part. Release with aiops_csv_release(). */
int aiops_csv_init(struct aiops_csv *c, struct aiops_src *src, struct aiops_error *e);
/*
 * A reader of no input, for lines kept elsewhere: set raw, rawlen and line,
 * then aiops_csv_split(). Release with aiops_csv_release().
 */
int aiops_csv_init_view(struct aiops_csv *c, struct aiops_src *src, char delim,
    struct aiops_error *e);
/* Restart at the beginning of src's (new) current part: line numbers reset. */
void aiops_csv_restart(struct aiops_csv *c);
/* Read one record into c->f[0..nf): 1 read, 0 end of part, <0 error. */
int aiops_csv_next(struct aiops_csv *c, struct aiops_error *e);
void aiops_csv_release(struct aiops_csv *c);
/*
 * With c->lazy set, aiops_csv_next() leaves an unquoted line unsplit: raw
 * and rawlen give it (nf is 0) until aiops_csv_split() splits it into f[].
 */
int aiops_csv_split(struct aiops_csv *c, struct aiops_error *e);

/*
 * The offsets of the delimiters d in s[0..n), an unquoted line, into
 * pos[0..max): returns how many there are, or max + 1 when there are more
 * than max (pos then holds the first max).
 */
size_t aiops_csv_delims(const char *s, size_t n, char d, uint32_t *pos, size_t max);

#endif
