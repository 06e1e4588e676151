/* csv.c - the CSV reader: a fast path for unquoted lines, RFC 4180 otherwise. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "csv.h"

#define CSV_CHUNK (1u << 20)

int
aiops_csv_init(struct aiops_csv *c, struct aiops_src *src, struct aiops_error *e)
{
	if (aiops_csv_init_view(c, src, ',', e) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	c->cap = 2 * CSV_CHUNK;
	if ((c->buf = aiops_malloc(c->cap + 1)) == NULL) {
		aiops_csv_release(c);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	aiops_csv_restart(c);
	return AIOPS_OK;
}

int
aiops_csv_init_view(struct aiops_csv *c, struct aiops_src *src, char delim,
    struct aiops_error *e)
{
	memset(c, 0, sizeof(*c));
	c->src = src;
	c->delim = delim;
	c->fcap = 64;
	if ((c->f = aiops_calloc(c->fcap, sizeof(*c->f))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	return AIOPS_OK;
}

void
aiops_csv_restart(struct aiops_csv *c)
{
	c->pos = c->end = 0;
	c->eof = 0;
	c->line = 0;
	c->next_line = 1;
	c->at_start = 1;
}

void
aiops_csv_release(struct aiops_csv *c)
{
	aiops_free(c->buf);
	aiops_free(c->f);
	c->buf = NULL;
	c->f = NULL;
}

static int
too_long(struct aiops_csv *c, struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s:%ld: record longer than %u MiB",
	    aiops_src_name(c->src), c->next_line, AIOPS_CSV_MAX_RECORD >> 20);
}

/* Move the unread tail to the front and read more; 1 got more, 0 eof, <0 err. */
static int
fill(struct aiops_csv *c, struct aiops_error *e)
{
	ssize_t r;

	if (c->eof)
		return 0;
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->end - c->pos);
		c->end -= c->pos;
		c->pos = 0;
	}
	if (c->cap - c->end < CSV_CHUNK / 2) {
		size_t ncap = c->cap * 2;
		char *nb;

		if (c->end >= AIOPS_CSV_MAX_RECORD)
			return too_long(c, e);
		/* room for one record at the limit and a chunk: no more, read at once or not */
		if (ncap > AIOPS_CSV_MAX_RECORD + CSV_CHUNK)
			ncap = AIOPS_CSV_MAX_RECORD + CSV_CHUNK;
		if ((nb = aiops_realloc(c->buf, ncap + 1)) == NULL)
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		c->buf = nb;
		c->cap = ncap;
	}
	r = aiops_src_read(c->src, c->buf + c->end, c->cap - c->end, e);
	if (r < 0)
		return (int)r;
	if (r == 0) {
		c->eof = 1;
		return 0;
	}
	c->end += (size_t)r;
	if (c->at_start && c->end >= 3 && memcmp(c->buf, "\xef\xbb\xbf", 3) == 0) {
		c->pos = 3;
		c->at_start = 0;
	} else if (c->end >= 3) {
		c->at_start = 0;
	}
	return 1;
}

static int
add_field(struct aiops_csv *c, char *p, size_t len, long col, struct aiops_error *e)
{
	if (c->nf == c->fcap) {
		size_t n = c->fcap * 2;
		struct aiops_csv_field *f;

		if (n > (1u << 22))
			return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s:%ld: more than %u fields",
			    aiops_src_name(c->src), c->line, 1u << 22);
		if ((f = aiops_reallocarray(c->f, n, sizeof(*f))) == NULL)
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		c->f = f;
		c->fcap = n;
	}
	c->f[c->nf].p = p;
	c->f[c->nf].len = len;
	c->f[c->nf].col = col;
	c->nf++;
	p[len] = '\0';
	return AIOPS_OK;
}

/* Split an unquoted line [s, s+n) in place; fields are short, so a byte loop beats memchr. */
static int
split_plain(struct aiops_csv *c, char *s, size_t n, struct aiops_error *e)
{
	char *p = s, *end = s + n, *f = s, d = c->delim;

	for (; p < end; p++) {
		if (*p != d)
			continue;
		if (c->nf == c->fcap) {
			if (add_field(c, f, (size_t)(p - f), (long)(f - s) + 1, e) != AIOPS_OK)
				return e->code;
		} else {
			struct aiops_csv_field *fl = &c->f[c->nf++];
			fl->p = f;
			fl->len = (size_t)(p - f);
			fl->col = (long)(f - s) + 1;
			*p = '\0';
		}
		f = p + 1;
	}
	return add_field(c, f, (size_t)(end - f), (long)(f - s) + 1, e);
}

/*
 * Find the end of a record that has quotes: the first newline outside
 * quotes, looking from s + *scan on, in the quoting state *inq. Returns its
 * offset from s, or -1 when the record is not complete in [s, end); *scan
 * and *inq then say where to go on once more is read. *lines counts the
 * newlines inside the record.
 */
static long
quoted_record_end(const char *s, const char *end, size_t *scan, int *inq, long *lines)
{
	for (const char *p = s + *scan; p < end; p++) {
		if (*p == '"')
			*inq = !*inq;
		else if (*p == '\n') {
			if (!*inq)
				return (long)(p - s);
			++*lines;
		}
	}
	*scan = (size_t)(end - s);
	return -1;
}

/* Split the complete record [s, s+n) that contains quotes, in place. */
static int
split_quoted(struct aiops_csv *c, char *s, size_t n, struct aiops_error *e)
{
	char *p = s, *end = s + n, *w, *line_start = s;
	long line = c->line;

	if (n > 0 && end[-1] == '\r')
		end--;
	for (;;) {
		char *fstart = p;
		long col = (long)(p - line_start) + 1;

		if (p < end && *p == '"') {
			w = p++;
			for (;;) {
				if (p >= end)
					return aiops_error_set(e, AIOPS_ERR_DATA,
					    "%s:%ld:%ld: unterminated quoted field",
					    aiops_src_name(c->src), c->line, col);
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				if (*p == '\n') {
					line++;
					line_start = p + 1;
				}
				*w++ = *p++;
			}
			if (p < end && *p != c->delim)
				return aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s:%ld:%ld: unexpected character after closing quote",
				    aiops_src_name(c->src), line, (long)(p - line_start) + 1);
		} else {
			while (p < end && *p != c->delim)
				p++;
			w = p;
		}
		if (add_field(c, fstart, (size_t)(w - fstart), col, e) != AIOPS_OK)
			return e->code;
		if (p >= end)
			return AIOPS_OK;
		p++; /* delimiter */
	}
}

int
aiops_csv_next(struct aiops_csv *c, struct aiops_error *e)
{
	/* how far the record from pos was scanned: a long one is scanned once, not per read */
	size_t seen = 0, qscan = 0;
	long lines = 0;
	int inq = 0, r;

	for (;;) {
		char *s = c->buf + c->pos, *nl;
		size_t avail = c->end - c->pos, n;
		long off;

		nl = avail > seen ? memchr(s + seen, '\n', avail - seen) : NULL;
		if (nl == NULL && !c->eof) {
			if (avail > AIOPS_CSV_MAX_RECORD)
				return too_long(c, e);
			/* a byte order mark skipped by fill() moves pos: scan again */
			seen = c->at_start ? 0 : avail;
			if ((r = fill(c, e)) < 0)
				return r;
			continue;
		}
		if (avail == 0 && c->eof)
			return 0;
		n = nl ? (size_t)(nl - s) : avail;
		c->line = c->next_line;
		if (memchr(s, '"', n) != NULL) {
			off = quoted_record_end(s, c->buf + c->end, &qscan, &inq, &lines);
			if (off < 0 && !c->eof) {
				if (avail > AIOPS_CSV_MAX_RECORD)
					return too_long(c, e);
				if (c->at_start)
					qscan = 0, inq = 0, lines = 0;
				if ((r = fill(c, e)) < 0)
					return r;
				continue;
			}
			if (off < 0) {
				/* unterminated at end of input: parse what there is */
				n = avail;
				nl = NULL;
			} else {
				n = (size_t)off;
				nl = s + off;
			}
			c->pos += n + (nl != NULL);
			c->next_line += lines + 1;
			c->nf = 0;
			c->raw = NULL;
			if ((r = split_quoted(c, s, n, e)) != AIOPS_OK)
				return r;
			return 1;
		}
		c->pos += n + (nl != NULL);
		c->next_line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n == 0) {
			seen = 0; /* blank line */
			continue;
		}
		c->nf = 0;
		s[n] = '\0';
		if (c->lazy) {
			c->raw = s;
			c->rawlen = n;
			return 1;
		}
		if ((r = split_plain(c, s, n, e)) != AIOPS_OK)
			return r;
		return 1;
	}
}

size_t
aiops_csv_delims(const char *s, size_t n, char d, uint32_t *pos, size_t max)
{
	size_t i = 0, k = 0;

#ifdef __SSE2__
	const __m128i dv = _mm_set1_epi8(d);

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned mk = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, dv));

		for (; mk != 0; mk &= mk - 1) {
			if (k == max)
				return max + 1;
			pos[k++] = (uint32_t)(i + (unsigned)__builtin_ctz(mk));
		}
	}
#endif
	for (; i < n; i++)
		if (s[i] == d) {
			if (k == max)
				return max + 1;
			pos[k++] = (uint32_t)i;
		}
	return k;
}

int
aiops_csv_split(struct aiops_csv *c, struct aiops_error *e)
{
	char *s = c->raw;

	if (s == NULL)
		return AIOPS_OK;
	c->raw = NULL;
	c->nf = 0;
	return split_plain(c, s, c->rawlen, e);
}
