/*
 * traces.c - spans from CSV, JSON lines or OTLP/JSON, kept compactly until
 * the end and then aggregated per window into call, error and latency
 * columns for each service and each caller->callee edge.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "csv.h"
#include "parse.h"
#include "tensor.h"
#include "traces.h"

#define NONE UINT32_MAX
#define ERRBIT 0x80000000u             /* in tspan.svc: the span failed */
#define MAX_TS ((int64_t)1 << 62)      /* |start| in ms; keeps window arithmetic in range */
#define SNIFF_MAX (1u << 20)           /* bytes auto-detection reads of a JSON part */
#define CHUNK (1u << 16)

/* ---- interned byte strings ------------------------------------------------ */

/*
 * A set of byte strings, each numbered in order of arrival: an arena of
 * entries (two length bytes, then the bytes) and an open-addressing table
 * of indices. The ids of millions of spans live here, so it is compact.
 */
struct strtab {
	unsigned char *arena;
	size_t alen, acap;
	uint32_t *off, *hash;   /* per entry */
	uint32_t n, cap;
	uint32_t *slot;         /* 0 empty, else entry index + 1 */
	size_t nslot;           /* a power of two */
};

static uint32_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static const unsigned char *
st_get(const struct strtab *t, uint32_t i, size_t *len)
{
	const unsigned char *p = t->arena + t->off[i];

	*len = (size_t)p[0] | (size_t)p[1] << 8;
	return p + 2;
}

static int
st_rehash(struct strtab *t, size_t nslot)
{
	uint32_t *s = aiops_calloc(nslot, sizeof(*s));

	if (s == NULL)
		return AIOPS_ERR_NOMEM;
	for (uint32_t i = 0; i < t->n; i++) {
		size_t k = t->hash[i] & (nslot - 1);
		while (s[k] != 0)
			k = (k + 1) & (nslot - 1);
		s[k] = i + 1;
	}
	aiops_free(t->slot);
	t->slot = s;
	t->nslot = nslot;
	return AIOPS_OK;
}

/* Find or add p[0..n) (n < 65536): *idx gets its number, *isnew 1 if it was added. */
static int
st_intern(struct strtab *t, const void *p, size_t n, uint32_t *idx, int *isnew)
{
	uint32_t h = hash_bytes(p, n);
	size_t k, len;

	if (t->nslot == 0 || (size_t)t->n + 1 > t->nslot / 2)
		if (st_rehash(t, t->nslot ? t->nslot * 2 : 64) != AIOPS_OK)
			return AIOPS_ERR_NOMEM;
	for (k = h & (t->nslot - 1); t->slot[k] != 0; k = (k + 1) & (t->nslot - 1)) {
		uint32_t i = t->slot[k] - 1;
		const unsigned char *q;

		if (t->hash[i] != h)
			continue;
		q = st_get(t, i, &len);
		if (len == n && memcmp(q, p, n) == 0) {
			*idx = i;
			*isnew = 0;
			return AIOPS_OK;
		}
	}
	/* offsets are 32 bits: 4 GiB of strings at most */
	if (t->n >= UINT32_MAX - 1 || t->alen + 2 + n > UINT32_MAX)
		return AIOPS_ERR_LIMIT;
	if (t->alen + 2 + n > t->acap) {
		size_t ncap = t->acap ? t->acap * 2 : 4096;
		unsigned char *na;
		if (ncap < t->alen + 2 + n)
			ncap = t->alen + 2 + n;
		if ((na = aiops_realloc(t->arena, ncap)) == NULL)
			return AIOPS_ERR_NOMEM;
		t->arena = na;
		t->acap = ncap;
	}
	if (t->n == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 64;
		uint32_t *no, *nh;
		if (t->cap > UINT32_MAX / 2)
			ncap = UINT32_MAX;
		if ((no = aiops_reallocarray(t->off, ncap, sizeof(*no))) == NULL)
			return AIOPS_ERR_NOMEM;
		t->off = no;
		if ((nh = aiops_reallocarray(t->hash, ncap, sizeof(*nh))) == NULL)
			return AIOPS_ERR_NOMEM;
		t->hash = nh;
		t->cap = ncap;
	}
	t->off[t->n] = (uint32_t)t->alen;
	t->hash[t->n] = h;
	t->arena[t->alen] = (unsigned char)(n & 0xff);
	t->arena[t->alen + 1] = (unsigned char)(n >> 8);
	memcpy(t->arena + t->alen + 2, p, n);
	t->alen += 2 + n;
	t->slot[k] = t->n + 1;
	*idx = t->n++;
	*isnew = 1;
	return AIOPS_OK;
}

static void
st_release(struct strtab *t)
{
	aiops_free(t->arena);
	aiops_free(t->off);
	aiops_free(t->hash);
	aiops_free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* ---- the aggregation -------------------------------------------------------- */

/* One span, 24 bytes: what the statistics need, and a reference to its parent. */
struct tspan {
	int64_t t;       /* start, ms; at finish the window start */
	double dur;      /* ms */
	uint32_t svc;    /* service number (at finish its rank), | ERRBIT */
	uint32_t up;     /* key number of the parent's id, NONE for a root; at finish the edge rank */
};

struct aiops_traces {
	int64_t step;
	int format, skip_bad, finished;
	struct strtab svc;       /* service names */
	struct strtab trace;     /* trace ids */
	struct strtab key;       /* 4 bytes of trace number, then a span id */
	uint32_t *owner;         /* per key: the span with that id, or NONE (seen only as a parent) */
	size_t owncap;
	struct tspan *sp;
	size_t n, cap;
};

/* A span as read, before it is kept. */
struct span_in {
	const char *trace, *span, *parent, *svc;
	size_t tl, sl, pl, vl;
	int64_t start;
	double dur;
	int err;
};

/* The state of one aiops_traces_feed() call. */
struct feed {
	struct aiops_traces *t;
	const char *name;
	uint64_t *spans, *skipped;
	uint64_t nskip;
	char *fs;
	size_t fsz;
	struct aiops_error *e;
};

int
aiops_trace_format_parse(const char *s)
{
	static const char *const names[] = { "auto", "csv", "jsonl", "otlp" };

	for (int i = 0; i < 4; i++)
		if (s != NULL && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *
aiops_trace_format_name(int format)
{
	static const char *const names[] = { "auto", "csv", "jsonl", "otlp" };

	return format >= 0 && format < 4 ? names[format] : "?";
}

int
aiops_traces_new(struct aiops_traces **tp, int64_t step_ms, int format, int skip_bad,
    struct aiops_error *e)
{
	struct aiops_traces *t;

	*tp = NULL;
	if (step_ms <= 0 || step_ms > MAX_TS)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "traces need a positive step");
	if (format < AIOPS_TRACE_AUTO || format > AIOPS_TRACE_OTLP)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "unknown trace format %d", format);
	if ((t = aiops_calloc(1, sizeof(*t))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	t->step = step_ms;
	t->format = format;
	t->skip_bad = skip_bad != 0;
	*tp = t;
	return AIOPS_OK;
}

static void
free_tables(struct aiops_traces *t)
{
	st_release(&t->trace);
	st_release(&t->key);
	aiops_free(t->owner);
	t->owner = NULL;
	t->owncap = 0;
}

void
aiops_traces_free(struct aiops_traces *t)
{
	if (t == NULL)
		return;
	free_tables(t);
	st_release(&t->svc);
	aiops_free(t->sp);
	aiops_free(t);
}

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

/* UTF-8 without control characters: a service name becomes a column name. */
static int
text_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		uint32_t cp;
		size_t k;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int
own_key(struct aiops_traces *t, uint32_t key)
{
	if (key >= t->owncap) {
		size_t ncap = t->key.cap;
		uint32_t *no = aiops_reallocarray(t->owner, ncap, sizeof(*no));
		if (no == NULL)
			return AIOPS_ERR_NOMEM;
		for (size_t i = t->owncap; i < ncap; i++)
			no[i] = NONE;
		t->owner = no;
		t->owncap = ncap;
	}
	return AIOPS_OK;
}

static int
intern_err(struct aiops_error *e, int r)
{
	return r == AIOPS_ERR_LIMIT ? aiops_error_set(e, r, "more than 4 GiB of ids or names") :
	    nomem(e);
}

/*
 * Keep a span. A bad one is AIOPS_ERR_DATA with a message that names the
 * field but not the place, which the caller adds.
 */
static int
add_span(struct aiops_traces *t, const struct span_in *s, struct aiops_error *e)
{
	unsigned char kb[4 + AIOPS_TRACES_MAX_ID];
	uint32_t tr, key, up = NONE, svc;
	int isnew, r;
	char b1[64], b2[64];

	if (s->tl > AIOPS_TRACES_MAX_ID || s->sl > AIOPS_TRACES_MAX_ID || s->pl > AIOPS_TRACES_MAX_ID)
		return aiops_error_set(e, AIOPS_ERR_DATA, "field \"%s\": longer than %d bytes",
		    s->tl > AIOPS_TRACES_MAX_ID ? "trace_id" : s->sl > AIOPS_TRACES_MAX_ID ?
		    "span_id" : "parent_id", AIOPS_TRACES_MAX_ID);
	if (s->vl > AIOPS_TRACES_MAX_SERVICE)
		return aiops_error_set(e, AIOPS_ERR_DATA, "field \"service\": longer than %d bytes",
		    AIOPS_TRACES_MAX_SERVICE);
	if (!text_ok((const unsigned char *)s->svc, s->vl))
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"service\": not UTF-8 text without control characters: \"%s\"",
		    aiops_excerpt(s->svc, s->vl, 40, b1, sizeof(b1)));
	if (t->n >= AIOPS_TRACES_MAX_SPANS)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "more than %u spans",
		    AIOPS_TRACES_MAX_SPANS);
	if ((r = st_intern(&t->trace, s->trace, s->tl, &tr, &isnew)) != AIOPS_OK)
		return intern_err(e, r);
	memcpy(kb, &tr, 4);
	memcpy(kb + 4, s->span, s->sl);
	if ((r = st_intern(&t->key, kb, 4 + s->sl, &key, &isnew)) != AIOPS_OK)
		return intern_err(e, r);
	if (own_key(t, key) != AIOPS_OK)
		return nomem(e);
	if (t->owner[key] != NONE)
		return aiops_error_set(e, AIOPS_ERR_DATA, "duplicate span_id \"%s\" in trace \"%s\"",
		    aiops_excerpt(s->span, s->sl, 40, b1, sizeof(b1)),
		    aiops_excerpt(s->trace, s->tl, 40, b2, sizeof(b2)));
	if (s->pl > 0) {
		memcpy(kb + 4, s->parent, s->pl);
		if ((r = st_intern(&t->key, kb, 4 + s->pl, &up, &isnew)) != AIOPS_OK)
			return intern_err(e, r);
		if (own_key(t, up) != AIOPS_OK)
			return nomem(e);
	}
	if ((r = st_intern(&t->svc, s->svc, s->vl, &svc, &isnew)) != AIOPS_OK)
		return intern_err(e, r);
	if (t->svc.n > AIOPS_TENSOR_MAX_COLS / 6)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "more than %u services",
		    AIOPS_TENSOR_MAX_COLS / 6);
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 1024;
		struct tspan *ns = aiops_reallocarray(t->sp, ncap, sizeof(*ns));
		if (ns == NULL)
			return nomem(e);
		t->sp = ns;
		t->cap = ncap;
	}
	t->sp[t->n].t = s->start;
	t->sp[t->n].dur = s->dur + 0.0;   /* -0 -> 0 */
	t->sp[t->n].svc = svc | (s->err ? ERRBIT : 0);
	t->sp[t->n].up = up;
	t->owner[key] = (uint32_t)t->n++;
	return AIOPS_OK;
}

/* Under skip_bad count a bad span (the message in e) and go on; else fail. */
static int
bad(struct feed *F)
{
	struct aiops_error *e = F->e;
	uint64_t before = F->skipped ? *F->skipped : F->nskip;

	if (!F->t->skip_bad || e->code != AIOPS_ERR_DATA)
		return e->code;
	if (before == 0 && F->fs != NULL && F->fsz > 0)
		snprintf(F->fs, F->fsz, "%s", e->msg);
	F->nskip++;
	if (F->skipped)
		(*F->skipped)++;
	e->code = AIOPS_OK;
	e->msg[0] = '\0';
	return AIOPS_OK;
}

/* Keep s, read at place (already printed into the buffer): skip or fail when bad. */
static int
take(struct feed *F, const struct span_in *s, const char *place)
{
	int r = add_span(F->t, s, F->e);

	if (r == AIOPS_OK) {
		if (F->spans)
			(*F->spans)++;
		return AIOPS_OK;
	}
	if (r == AIOPS_ERR_DATA || r == AIOPS_ERR_LIMIT)
		aiops_error_prefix(F->e, "%s", place);
	return r == AIOPS_ERR_DATA ? bad(F) : r;
}

/* ---- field values ----------------------------------------------------------- */

enum { F_TRACE, F_SPAN, F_PARENT, F_SERVICE, F_OPERATION, F_START, F_DURATION, F_STATUS,
	NFIELD };

static const char *const field_name[NFIELD] = {
	"trace_id", "span_id", "parent_id", "service", "operation", "start", "duration", "status"
};

/* Names a CSV column or a JSON key may have, compared without regard to case; the first wins. */
static const char *const aliases[NFIELD][9] = {
	{ "trace_id", "traceid", "trace", "trace.id", NULL },
	{ "span_id", "spanid", "span", "id", "span.id", NULL },
	{ "parent_id", "parentid", "parent_span_id", "parentspanid", "parent", "parent.id", NULL },
	{ "service", "service_name", "servicename", "service.name", "svc", NULL },
	{ "operation", "operation_name", "operationname", "name", "span_name", "spanname", NULL },
	{ "start", "start_time", "starttime", "start_ms", "timestamp", "ts", "time", NULL },
	{ "duration", "duration_ms", "durationms", "latency", "latency_ms", "elapsed", NULL },
	{ "status", "status_code", "statuscode", NULL },
};

static const int required[NFIELD] = { 1, 1, 0, 1, 0, 1, 1, 0 };

/* Which field a name stands for (-1: none) and how good a name it is (*rank, lower wins). */
static int
field_of(const char *s, size_t n, int *rank)
{
	for (int f = 0; f < NFIELD; f++)
		for (int a = 0; aliases[f][a] != NULL; a++)
			if (strlen(aliases[f][a]) == n && strncasecmp(aliases[f][a], s, n) == 0) {
				*rank = a;
				return f;
			}
	return -1;
}

static int
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A status in text: 1 error, 0 not, -1 not a status. */
static int
status_text(const char *s, size_t n)
{
	static const char *const okw[] = { "ok", "unset", "status_code_ok", "status_code_unset" };
	static const char *const errw[] = { "error", "status_code_error" };
	size_t i;
	long v = 0;

	while (n > 0 && blank((unsigned char)*s))
		s++, n--;
	while (n > 0 && blank((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if ((v = v * 10 + (s[i] - '0')) > 1000)
			v = 1000;       /* any larger number is as much an error */
	if (i == n)
		return v == 2 || v >= 500;
	for (i = 0; i < 4; i++)
		if (strlen(okw[i]) == n && strncasecmp(okw[i], s, n) == 0)
			return 0;
	for (i = 0; i < 2; i++)
		if (strlen(errw[i]) == n && strncasecmp(errw[i], s, n) == 0)
			return 1;
	return -1;
}

static int
bad_status(const char *s, size_t n, struct aiops_error *e)
{
	char sb[64];

	return aiops_error_set(e, AIOPS_ERR_DATA,
	    "field \"status\": expected ok, unset, error or a status code, got \"%s\"",
	    aiops_excerpt(s, n, 40, sb, sizeof(sb)));
}

static int
parse_start(const char *s, size_t n, int64_t *ms, struct aiops_error *e)
{
	char sb[64];

	if (aiops_parse_time(s, n, AIOPS_TIME_AUTO, ms) != 0 || *ms > MAX_TS || *ms < -MAX_TS)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"start\": expected a timestamp, got \"%s\"",
		    aiops_excerpt(s, n, 40, sb, sizeof(sb)));
	return AIOPS_OK;
}

static int
parse_dur(const char *s, size_t n, double *d, struct aiops_error *e)
{
	char sb[64];

	if (aiops_parse_double(s, n, d) != 0 || !isfinite(*d) || *d < 0)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"duration\": expected milliseconds (a number >= 0), got \"%s\"",
		    aiops_excerpt(s, n, 40, sb, sizeof(sb)));
	return AIOPS_OK;
}

/* ---- CSV ---------------------------------------------------------------------- */

static int
feed_csv(struct feed *F, struct aiops_src *src)
{
	struct aiops_error *e = F->e;
	struct aiops_csv c;
	long col[NFIELD];
	int rank[NFIELD], r;
	size_t nf;
	char place[600];

	if ((r = aiops_csv_init(&c, src, e)) != AIOPS_OK)
		return r;
	if ((r = aiops_csv_next(&c, e)) <= 0)
		goto out;       /* an empty part has no spans */
	nf = c.nf;
	for (int f = 0; f < NFIELD; f++)
		col[f] = -1, rank[f] = 99;
	for (size_t i = 0; i < nf; i++) {
		int rk, f = field_of(c.f[i].p, c.f[i].len, &rk);
		if (f >= 0 && rk < rank[f])
			col[f] = (long)i, rank[f] = rk;
	}
	for (int f = 0; f < NFIELD; f++)
		if (required[f] && col[f] < 0) {
			r = aiops_error_set(e, AIOPS_ERR_DATA, "%s:%ld: missing column \"%s\"", F->name,
			    c.line, field_name[f]);
			goto out;
		}
	while ((r = aiops_csv_next(&c, e)) == 1) {
		struct aiops_csv_field *fv[NFIELD];
		struct span_in s;
		long bad_col = 0;

		if (c.nf != nf) {
			aiops_error_set(e, AIOPS_ERR_DATA, "%s:%ld: expected %zu fields, got %zu",
			    F->name, c.line, nf, c.nf);
			if ((r = bad(F)) != AIOPS_OK)
				break;
			continue;
		}
		for (int f = 0; f < NFIELD; f++)
			fv[f] = col[f] >= 0 ? &c.f[col[f]] : NULL;
		memset(&s, 0, sizeof(s));
		r = AIOPS_OK;
		for (int f = 0; f < NFIELD && r == AIOPS_OK; f++)
			if (required[f] && fv[f]->len == 0) {
				r = aiops_error_set(e, AIOPS_ERR_DATA, "field \"%s\": empty", field_name[f]);
				bad_col = fv[f]->col;
			}
		if (r == AIOPS_OK && (r = parse_start(fv[F_START]->p, fv[F_START]->len, &s.start, e)))
			bad_col = fv[F_START]->col;
		if (r == AIOPS_OK && (r = parse_dur(fv[F_DURATION]->p, fv[F_DURATION]->len, &s.dur, e)))
			bad_col = fv[F_DURATION]->col;
		if (r == AIOPS_OK && fv[F_STATUS] &&
		    (s.err = status_text(fv[F_STATUS]->p, fv[F_STATUS]->len)) < 0) {
			r = bad_status(fv[F_STATUS]->p, fv[F_STATUS]->len, e);
			bad_col = fv[F_STATUS]->col;
		}
		if (r != AIOPS_OK) {
			aiops_error_prefix(e, "%s:%ld:%ld", F->name, c.line, bad_col);
			if ((r = bad(F)) != AIOPS_OK)
				break;
			continue;
		}
		s.trace = fv[F_TRACE]->p, s.tl = fv[F_TRACE]->len;
		s.span = fv[F_SPAN]->p, s.sl = fv[F_SPAN]->len;
		if (fv[F_PARENT])
			s.parent = fv[F_PARENT]->p, s.pl = fv[F_PARENT]->len;
		s.svc = fv[F_SERVICE]->p, s.vl = fv[F_SERVICE]->len;
		snprintf(place, sizeof(place), "%s:%ld", F->name, c.line);
		if ((r = take(F, &s, place)) != AIOPS_OK)
			break;
	}
out:
	aiops_csv_release(&c);
	return r < 0 ? r : AIOPS_OK;
}

/* ---- JSON reading --------------------------------------------------------------- */

/* Lines or whole JSON documents from a source, each at most AIOPS_CSV_MAX_RECORD bytes. */
struct jrd {
	struct aiops_src *src;
	const char *name, *what;
	char *buf;
	size_t cap, pos, end;
	int eof;
	long line, col;          /* of buf[pos] */
};

static int
too_long(const struct jrd *r, struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s:%ld: %s longer than %u MiB", r->name,
	    r->line, r->what, AIOPS_CSV_MAX_RECORD >> 20);
}

/* Keep buf[pos..end) and read more: 1 more, 0 at the end, <0 error. */
static int
jr_fill(struct jrd *r, struct aiops_error *e)
{
	ssize_t n;

	if (r->end - r->pos >= AIOPS_CSV_MAX_RECORD)
		return too_long(r, e);
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->end < CHUNK) {
		size_t ncap = r->cap ? r->cap * 2 : 4 * CHUNK;
		char *nb;

		if ((nb = aiops_realloc(r->buf, ncap + 1)) == NULL)
			return nomem(e);
		r->buf = nb;
		r->cap = ncap;
	}
	n = aiops_src_read(r->src, r->buf + r->end, r->cap - r->end, e);
	if (n < 0)
		return (int)n;
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

static int
jr_init(struct jrd *r, struct aiops_src *src, const char *name, struct aiops_error *e)
{
	int k = 1;

	memset(r, 0, sizeof(*r));
	r->src = src;
	r->name = name;
	r->what = "line";
	r->line = 1;
	r->col = 1;
	while (r->end < 3 && (k = jr_fill(r, e)) == 1)
		;
	if (k < 0)
		return k;
	if (r->end >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
	return AIOPS_OK;
}

/* The next line without its newline (nor a CR before it): 1, 0 at the end, <0 error. */
static int
jr_line(struct jrd *r, const char **p, size_t *n, long *line, struct aiops_error *e)
{
	size_t off = 0;
	int k;

	for (;;) {
		char *nl = memchr(r->buf + r->pos + off, '\n', r->end - r->pos - off);
		size_t len;

		if (nl != NULL || r->eof) {
			if (nl == NULL && r->pos == r->end)
				return 0;
			len = nl ? (size_t)(nl - (r->buf + r->pos)) : r->end - r->pos;
			if (len > AIOPS_CSV_MAX_RECORD)
				return too_long(r, e);
			*p = r->buf + r->pos;
			*line = r->line++;
			r->pos += len + (nl != NULL);
			if (len > 0 && (*p)[len - 1] == '\r')
				len--;
			*n = len;
			return 1;
		}
		off = r->end - r->pos;
		if ((k = jr_fill(r, e)) < 0)
			return k;
	}
}

/* Where a JSON value ends, scanned across reads: depth of brackets, strings, escapes. */
struct scan {
	long depth;
	int instr, esc;
};

/* Scan s[0..n): the offset just past the value's end, or n when it goes on. */
static size_t
scan_json(struct scan *sc, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (sc->instr) {
			if (sc->esc)
				sc->esc = 0;
			else if (ch == '\\')
				sc->esc = 1;
			else if (ch == '"')
				sc->instr = 0;
		} else if (ch == '"') {
			sc->instr = 1;
		} else if (ch == '{' || ch == '[') {
			sc->depth++;
		} else if (ch == '}' || ch == ']') {
			if (--sc->depth <= 0)
				return i + 1;
		}
	}
	return n;
}

/*
 * The next JSON document, from its first non-blank byte to its closing
 * bracket (or, when it does not start with one, to the end of the line);
 * *line and *col give where it starts. 1, 0 at the end, <0 error.
 */
static int
jr_doc(struct jrd *r, const char **p, size_t *n, long *line, long *col, struct aiops_error *e)
{
	struct scan sc = { 0, 0, 0 };
	size_t off = 0, len;
	int k, bracket;

	for (;;) {
		while (r->pos < r->end && blank((unsigned char)r->buf[r->pos])) {
			if (r->buf[r->pos++] == '\n')
				r->line++, r->col = 1;
			else
				r->col++;
		}
		if (r->pos < r->end)
			break;
		if ((k = jr_fill(r, e)) <= 0)
			return k;
	}
	*line = r->line;
	*col = r->col;
	bracket = r->buf[r->pos] == '{' || r->buf[r->pos] == '[';
	for (;;) {
		size_t avail = r->end - r->pos;
		if (bracket) {
			off += scan_json(&sc, r->buf + r->pos + off, avail - off);
			if (off < avail || (off == avail && sc.depth <= 0))
				break;
		} else {
			char *nl = memchr(r->buf + r->pos + off, '\n', avail - off);
			if (nl != NULL) {
				off = (size_t)(nl - (r->buf + r->pos));
				break;
			}
			off = avail;
		}
		if ((k = jr_fill(r, e)) < 0)
			return k;
		if (k == 0)
			break;      /* unterminated: the JSON parser says what is wrong */
	}
	len = off;
	if (len > AIOPS_CSV_MAX_RECORD)
		return too_long(r, e);
	*p = r->buf + r->pos;
	*n = len;
	for (size_t i = 0; i < len; i++) {
		if ((*p)[i] == '\n')
			r->line++, r->col = 1;
		else
			r->col++;
	}
	r->pos += len;
	return 1;
}

/*
 * Auto-detection of a JSON part: OTLP when the first object has a key
 * "resourceSpans" (or "resource_spans") within the first SNIFF_MAX bytes,
 * else JSON lines. Nothing is consumed. 1 OTLP, 0 JSON lines, 2 the first
 * non-blank byte is not '{', <0 error.
 */
static int
sniff_otlp(struct jrd *r, struct aiops_error *e)
{
	size_t off = 0, keylen = 0;
	long depth = 0;
	int instr = 0, esc = 0, capture = 0, pending = 0, k;
	char key[16];

	for (;;) {
		while (r->pos + off < r->end) {
			char ch = r->buf[r->pos + off++];

			if (instr) {
				if (esc)
					esc = 0, keylen = sizeof(key);
				else if (ch == '\\')
					esc = 1;
				else if (ch == '"')
					instr = 0, pending = capture, capture = 0;
				else if (capture && keylen < sizeof(key) - 1)
					key[keylen++] = ch;
				else
					keylen = sizeof(key);
				continue;
			}
			if (blank((unsigned char)ch))
				continue;
			if (pending && ch == ':' && ((keylen == 13 && memcmp(key, "resourceSpans", 13) == 0) ||
			    (keylen == 14 && memcmp(key, "resource_spans", 14) == 0)))
				return 1;
			pending = 0;
			if (depth == 0 && ch != '{')
				return 2;
			if (ch == '"') {
				instr = 1;
				capture = depth == 1;
				keylen = 0;
			} else if (ch == '{' || ch == '[') {
				depth++;
			} else if (ch == '}' || ch == ']') {
				if (--depth <= 0)
					return 0;
			}
		}
		if (off >= SNIFF_MAX)
			return 0;
		if ((k = jr_fill(r, e)) <= 0)
			return k;
	}
}

/* The place of a JSON syntax error: byte position pos of the document at line:col. */
static void
json_place(const char *p, size_t n, size_t pos, long line, long col, long *el, long *ec)
{
	size_t i = pos > 0 ? pos - 1 : 0, ls = 0;
	int nl = 0;

	if (i > n)
		i = n;
	for (size_t k = 0; k < i; k++)
		if (p[k] == '\n')
			line++, ls = k + 1, nl = 1;
	*el = line;
	*ec = nl ? (long)(i - ls) + 1 : col + (long)i;
}

static int
json_bad_syntax(struct feed *F, const json_error_t *je, const char *p, size_t n, long line,
    long col)
{
	long el, ec;
	void *probe;

	/*
	 * jansson reports some failed allocations as syntax errors (or with no
	 * message at all): a syntax error while memory is short is taken for
	 * what it most likely is.
	 */
	if (json_error_code(je) == json_error_out_of_memory || je->text[0] == '\0' ||
	    (probe = aiops_malloc(4096)) == NULL)
		return nomem(F->e);
	aiops_free(probe);
	json_place(p, n, (size_t)(je->position > 0 ? je->position : 0), line, col, &el, &ec);
	aiops_error_set(F->e, AIOPS_ERR_DATA, "%s:%ld:%ld: invalid JSON: %s", F->name, el, ec,
	    je->text);
	return bad(F);
}

static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return "null";
	}
}

/* An id: a string or an integer (printed into buf, 24 bytes); absent, null or "" gives "". */
static int
json_id(json_t *v, const char *field, int req, const char **p, size_t *n, char *buf,
    struct aiops_error *e)
{
	*p = "";
	*n = 0;
	if (v == NULL || json_is_null(v)) {
		if (req)
			return aiops_error_set(e, AIOPS_ERR_DATA, "missing field \"%s\"", field);
		return AIOPS_OK;
	}
	if (json_is_string(v)) {
		*p = json_string_value(v);
		*n = json_string_length(v);
	} else if (json_is_integer(v)) {
		*n = (size_t)snprintf(buf, 24, "%lld", (long long)json_integer_value(v));
		*p = buf;
	} else {
		return aiops_error_set(e, AIOPS_ERR_DATA, "field \"%s\": expected a string, got %s",
		    field, json_kind(v));
	}
	if (*n == 0 && req)
		return aiops_error_set(e, AIOPS_ERR_DATA, "field \"%s\": empty", field);
	return AIOPS_OK;
}

/* A span object of JSON lines into s; ids may point into buf. */
static int
jsonl_span(json_t *o, struct span_in *s, char buf[][24], struct aiops_error *e)
{
	json_t *fv[NFIELD] = { NULL }, *v;
	int rank[NFIELD], r;
	const char *k;
	char tb[40];

	if (!json_is_object(o))
		return aiops_error_set(e, AIOPS_ERR_DATA, "expected a JSON object, got %s",
		    json_kind(o));
	for (int f = 0; f < NFIELD; f++)
		rank[f] = 99;
	json_object_foreach(o, k, v) {
		int rk, f = field_of(k, strlen(k), &rk);
		if (f >= 0 && rk < rank[f])
			fv[f] = v, rank[f] = rk;
	}
	for (int f = 0; f < NFIELD; f++)
		if (required[f] && (fv[f] == NULL || json_is_null(fv[f])))
			return aiops_error_set(e, AIOPS_ERR_DATA, "missing field \"%s\"", field_name[f]);
	memset(s, 0, sizeof(*s));
	if ((r = json_id(fv[F_TRACE], "trace_id", 1, &s->trace, &s->tl, buf[0], e)) ||
	    (r = json_id(fv[F_SPAN], "span_id", 1, &s->span, &s->sl, buf[1], e)) ||
	    (r = json_id(fv[F_PARENT], "parent_id", 0, &s->parent, &s->pl, buf[2], e)))
		return r;
	if (!json_is_string(fv[F_SERVICE]))
		return aiops_error_set(e, AIOPS_ERR_DATA, "field \"service\": expected a string, got %s",
		    json_kind(fv[F_SERVICE]));
	s->svc = json_string_value(fv[F_SERVICE]);
	s->vl = json_string_length(fv[F_SERVICE]);
	if (s->vl == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "field \"service\": empty");
	v = fv[F_START];
	if (json_is_string(v))
		r = parse_start(json_string_value(v), json_string_length(v), &s->start, e);
	else if (json_is_integer(v) || json_is_real(v)) {
		/* the same rules as text: epoch seconds, or milliseconds from 1e11 up */
		int tl = json_is_integer(v) ?
		    snprintf(tb, sizeof(tb), "%lld", (long long)json_integer_value(v)) :
		    snprintf(tb, sizeof(tb), "%.17g", json_real_value(v));
		r = parse_start(tb, (size_t)tl, &s->start, e);
	} else
		r = aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"start\": expected a timestamp, got %s", json_kind(v));
	if (r != AIOPS_OK)
		return r;
	v = fv[F_DURATION];
	if (json_is_number(v)) {
		s->dur = json_number_value(v);
		if (!isfinite(s->dur) || s->dur < 0)
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "field \"duration\": expected milliseconds (a number >= 0), got %.17g", s->dur);
	} else if (json_is_string(v)) {
		if ((r = parse_dur(json_string_value(v), json_string_length(v), &s->dur, e)))
			return r;
	} else {
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"duration\": expected milliseconds (a number >= 0), got %s", json_kind(v));
	}
	v = fv[F_STATUS];
	if (json_is_object(v) && json_object_get(v, "code") != NULL)
		v = json_object_get(v, "code");
	if (v == NULL || json_is_null(v) || json_is_false(v))
		s->err = 0;
	else if (json_is_true(v))
		s->err = 1;
	else if (json_is_string(v)) {
		if ((s->err = status_text(json_string_value(v), json_string_length(v))) < 0)
			return bad_status(json_string_value(v), json_string_length(v), e);
	} else if (json_is_integer(v) && json_integer_value(v) >= 0) {
		json_int_t c = json_integer_value(v);
		s->err = c == 2 || c >= 500;
	} else {
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"status\": expected ok, unset, error or a status code, got %s",
		    json_kind(v));
	}
	return AIOPS_OK;
}

static int
feed_jsonl(struct feed *F, struct jrd *jr)
{
	const char *p = NULL;
	size_t n = 0;
	long line = 0;
	int r;
	char place[600], buf[3][24];

	jr->what = "line";
	while ((r = jr_line(jr, &p, &n, &line, F->e)) == 1) {
		json_error_t je;
		struct span_in s;
		size_t i = 0;
		unsigned long nfail;
		json_t *o;

		while (i < n && blank((unsigned char)p[i]))
			i++;
		if (i == n)
			continue;
		nfail = aiops_alloc_failures();
		if ((o = json_loadb(p, n, 0, &je)) == NULL) {
			/* not skipped with --skip-bad: the line is good, the memory short */
			if ((r = aiops_nomem_since(nfail, F->e)) != AIOPS_OK ||
			    (r = json_bad_syntax(F, &je, p, n, line, 1)) != AIOPS_OK)
				return r;
			continue;
		}
		snprintf(place, sizeof(place), "%s:%ld", F->name, line);
		r = jsonl_span(o, &s, buf, F->e);
		if (r == AIOPS_OK)
			r = take(F, &s, place);
		else if (r == AIOPS_ERR_DATA) {
			aiops_error_prefix(F->e, "%s", place);
			r = bad(F);
		}
		json_decref(o);
		if (r != AIOPS_OK)
			return r;
	}
	return r;
}

/* ---- OTLP/JSON ------------------------------------------------------------------ */

static json_t *
get2(const json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	return v != NULL ? v : json_object_get(o, b);
}

/* Nanoseconds since the epoch: a string of digits or a non-negative integer. */
static int
nanos(json_t *v, const char *field, uint64_t *ns, struct aiops_error *e)
{
	char sb[64];

	if (v == NULL || json_is_null(v))
		return aiops_error_set(e, AIOPS_ERR_DATA, "missing field \"%s\"", field);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*ns = (uint64_t)json_integer_value(v);
		return AIOPS_OK;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), i;
		uint64_t x = 0;
		for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			unsigned d = (unsigned)(s[i] - '0');
			if (x > (UINT64_MAX - d) / 10)
				break;
			x = x * 10 + d;
		}
		if (n > 0 && i == n) {
			*ns = x;
			return AIOPS_OK;
		}
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"%s\": expected nanoseconds since the epoch, got \"%s\"", field,
		    aiops_excerpt(s, n, 40, sb, sizeof(sb)));
	}
	return aiops_error_set(e, AIOPS_ERR_DATA,
	    "field \"%s\": expected nanoseconds since the epoch, got %s", field, json_kind(v));
}

/* One OTLP span of service svc (NULL when its resource has none) into s. */
static int
otlp_span(json_t *o, const char *svc, size_t svl, struct span_in *s, char buf[][24],
    struct aiops_error *e)
{
	uint64_t t0, t1;
	json_t *st;
	int r;

	if (!json_is_object(o))
		return aiops_error_set(e, AIOPS_ERR_DATA, "expected an object, got %s", json_kind(o));
	memset(s, 0, sizeof(*s));
	if ((r = json_id(get2(o, "traceId", "trace_id"), "traceId", 1, &s->trace, &s->tl, buf[0], e)) ||
	    (r = json_id(get2(o, "spanId", "span_id"), "spanId", 1, &s->span, &s->sl, buf[1], e)) ||
	    (r = json_id(get2(o, "parentSpanId", "parent_span_id"), "parentSpanId", 0, &s->parent,
	    &s->pl, buf[2], e)))
		return r;
	if (svc == NULL)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "missing resource attribute \"service.name\"");
	s->svc = svc;
	s->vl = svl;
	if ((r = nanos(get2(o, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano",
	    &t0, e)) || (r = nanos(get2(o, "endTimeUnixNano", "end_time_unix_nano"),
	    "endTimeUnixNano", &t1, e)))
		return r;
	if (t1 < t0)
		return aiops_error_set(e, AIOPS_ERR_DATA,
		    "field \"endTimeUnixNano\": before startTimeUnixNano");
	s->start = (int64_t)(t0 / 1000000);
	s->dur = (double)(t1 - t0) / 1e6;
	st = json_object_get(o, "status");
	if (st != NULL && !json_is_null(st)) {
		json_t *c = json_object_get(st, "code");
		if (!json_is_object(st))
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "field \"status\": expected an object, got %s", json_kind(st));
		if (c == NULL || json_is_null(c))
			s->err = 0;
		else if (json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) <= 2)
			s->err = json_integer_value(c) == 2;
		else if (json_is_string(c) && strcmp(json_string_value(c), "STATUS_CODE_ERROR") == 0)
			s->err = 1;
		else if (json_is_string(c) && (strcmp(json_string_value(c), "STATUS_CODE_OK") == 0 ||
		    strcmp(json_string_value(c), "STATUS_CODE_UNSET") == 0))
			s->err = 0;
		else
			return aiops_error_set(e, AIOPS_ERR_DATA,
			    "field \"status.code\": expected 0, 1 or 2, got %s", json_kind(c));
	}
	return AIOPS_OK;
}

/* The value of the resource attribute service.name, or NULL. */
static json_t *
service_name(json_t *rs)
{
	json_t *attrs = json_object_get(json_object_get(rs, "resource"), "attributes"), *kv;
	size_t i;

	json_array_foreach(attrs, i, kv) {
		json_t *k = json_object_get(kv, "key");
		if (json_is_string(k) && strcmp(json_string_value(k), "service.name") == 0) {
			json_t *v = json_object_get(json_object_get(kv, "value"), "stringValue");
			if (v == NULL)
				v = json_object_get(json_object_get(kv, "value"), "string_value");
			return json_is_string(v) && json_string_length(v) > 0 ? v : NULL;
		}
	}
	return NULL;
}

/* An OTLP structure that is not what it should be: one bad record. */
static int
otlp_bad(struct feed *F, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
otlp_bad(struct feed *F, long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	aiops_error_set(F->e, AIOPS_ERR_DATA, "%s:%ld: %s", F->name, line, msg);
	return bad(F);
}

static int
otlp_doc(struct feed *F, json_t *doc, long line)
{
	json_t *rss = get2(doc, "resourceSpans", "resource_spans"), *rs;
	char place[700], buf[3][24];
	size_t i;
	int r;

	if (!json_is_object(doc))
		return otlp_bad(F, line, "expected a JSON object, got %s", json_kind(doc));
	if (!json_is_array(rss))
		return otlp_bad(F, line, "expected a \"resourceSpans\" array, got %s",
		    rss ? json_kind(rss) : "none");
	json_array_foreach(rss, i, rs) {
		json_t *sv = service_name(rs), *sss, *ss;
		size_t j;

		sss = get2(rs, "scopeSpans", "scope_spans");
		if (sss == NULL)
			sss = json_object_get(rs, "instrumentationLibrarySpans");
		if (sss == NULL || json_is_null(sss))
			continue;
		if (!json_is_array(sss)) {
			if ((r = otlp_bad(F, line, "resourceSpans[%zu].scopeSpans: expected an array, got %s",
			    i, json_kind(sss))) != AIOPS_OK)
				return r;
			continue;
		}
		json_array_foreach(sss, j, ss) {
			json_t *spans = json_object_get(ss, "spans"), *sp;
			size_t k;

			if (spans == NULL || json_is_null(spans))
				continue;
			if (!json_is_array(spans)) {
				if ((r = otlp_bad(F, line,
				    "resourceSpans[%zu].scopeSpans[%zu].spans: expected an array, got %s", i,
				    j, json_kind(spans))) != AIOPS_OK)
					return r;
				continue;
			}
			json_array_foreach(spans, k, sp) {
				struct span_in s;

				snprintf(place, sizeof(place),
				    "%s:%ld: resourceSpans[%zu].scopeSpans[%zu].spans[%zu]", F->name, line, i,
				    j, k);
				r = otlp_span(sp, sv ? json_string_value(sv) : NULL,
				    sv ? json_string_length(sv) : 0, &s, buf, F->e);
				if (r == AIOPS_OK)
					r = take(F, &s, place);
				else if (r == AIOPS_ERR_DATA) {
					aiops_error_prefix(F->e, "%s", place);
					r = bad(F);
				}
				if (r != AIOPS_OK)
					return r;
			}
		}
	}
	return AIOPS_OK;
}

static int
feed_otlp(struct feed *F, struct jrd *jr)
{
	const char *p = NULL;
	size_t n = 0;
	long line = 0, col = 0;
	int r;

	jr->what = "JSON document";
	while ((r = jr_doc(jr, &p, &n, &line, &col, F->e)) == 1) {
		json_error_t je;
		unsigned long nfail = aiops_alloc_failures();
		json_t *doc = json_loadb(p, n, 0, &je);

		if (doc == NULL) {
			if ((r = aiops_nomem_since(nfail, F->e)) != AIOPS_OK ||
			    (r = json_bad_syntax(F, &je, p, n, line, col)) != AIOPS_OK)
				return r;
			continue;
		}
		r = otlp_doc(F, doc, line);
		json_decref(doc);
		if (r != AIOPS_OK)
			return r;
	}
	return r;
}

/* ---- feeding ------------------------------------------------------------------- */

int
aiops_traces_feed(struct aiops_traces *t, struct aiops_src *src, uint64_t *spans,
    uint64_t *skipped, char *first_skip, size_t fsz, struct aiops_error *e)
{
	struct aiops_error le;
	struct feed F;
	struct jrd jr;
	int fmt = t->format, r;

	if (e == NULL)
		e = &le;
	e->code = AIOPS_OK;
	e->msg[0] = '\0';
	if (t->finished)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "traces fed after they were aggregated");
	memset(&F, 0, sizeof(F));
	F.t = t;
	F.name = aiops_src_name(src);
	F.spans = spans;
	F.skipped = skipped;
	F.fs = first_skip;
	F.fsz = fsz;
	F.e = e;
	if (fmt == AIOPS_TRACE_AUTO) {
		unsigned char pk[16];
		ssize_t n = aiops_src_peek(src, pk, sizeof(pk), e), i = 0;

		if (n < 0)
			return (int)n;
		if (n >= 3 && memcmp(pk, "\xef\xbb\xbf", 3) == 0)
			i = 3;
		while (i < n && blank(pk[i]))
			i++;
		/* a part that starts with more blanks than the peek shows is looked at as JSON */
		fmt = i < n && pk[i] != '{' ? AIOPS_TRACE_CSV : AIOPS_TRACE_JSONL;
	}
	if (fmt == AIOPS_TRACE_CSV)
		return feed_csv(&F, src);
	if ((r = jr_init(&jr, src, F.name, e)) != AIOPS_OK)
		goto out;
	if (t->format == AIOPS_TRACE_AUTO) {
		if ((r = sniff_otlp(&jr, e)) < 0)
			goto out;
		if (r == 2) {
			r = aiops_error_set(e, AIOPS_ERR_DATA,
			    "%s: cannot tell the trace format: give it (csv, jsonl or otlp)", F.name);
			goto out;
		}
		fmt = r == 1 ? AIOPS_TRACE_OTLP : AIOPS_TRACE_JSONL;
	}
	r = fmt == AIOPS_TRACE_OTLP ? feed_otlp(&F, &jr) : feed_jsonl(&F, &jr);
out:
	aiops_free(jr.buf);
	return r < 0 ? r : AIOPS_OK;
}

/* ---- aggregation ----------------------------------------------------------------- */

struct named {
	const unsigned char *a, *b;   /* service name; for an edge the caller's, then b the callee's */
	size_t an, bn;
	uint32_t idx;
};

static int
cmp_bytes(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : (an > bn) - (an < bn);
}

static int
cmp_named(const void *x, const void *y)
{
	const struct named *p = x, *q = y;
	int c = cmp_bytes(p->a, p->an, q->a, q->an);

	return c != 0 ? c : cmp_bytes(p->b, p->bn, q->b, q->bn);
}

static int
cmp_by_svc(const void *x, const void *y)
{
	const struct tspan *p = x, *q = y;
	uint32_t a = p->svc & ~ERRBIT, b = q->svc & ~ERRBIT;

	if (a != b)
		return (a > b) - (a < b);
	if (p->t != q->t)
		return (p->t > q->t) - (p->t < q->t);
	return (p->dur > q->dur) - (p->dur < q->dur);
}

static int
cmp_by_edge(const void *x, const void *y)
{
	const struct tspan *p = x, *q = y;

	if (p->up != q->up)
		return (p->up > q->up) - (p->up < q->up);
	if (p->t != q->t)
		return (p->t > q->t) - (p->t < q->t);
	return (p->dur > q->dur) - (p->dur < q->dur);
}

/*
 * The q-quantile of the sorted durations of s[0..n), as numpy.percentile
 * computes it by default: linear interpolation at (n - 1) * q, and from
 * the upper neighbour when the fraction is 0.5 or more (numpy's _lerp).
 */
static double
quantile(const struct tspan *s, size_t n, double q)
{
	double h = (double)(n - 1) * q, fl, t, a, b, d;
	size_t i;

	if (h >= (double)(n - 1))
		return s[n - 1].dur;
	fl = floor(h);
	i = (size_t)fl;
	t = h - fl;
	a = s[i].dur;
	b = s[i + 1].dur;
	d = b - a;
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

static int
add_sample(struct aiops_pivot *pv, struct aiops_buf *nm, size_t base, const char *stat,
    int64_t ts, double v, struct aiops_error *e)
{
	int r;

	nm->len = base;
	if (aiops_buf_addstr(nm, stat) != AIOPS_OK)
		return nomem(e);
	if ((r = aiops_pivot_add(pv, nm->buf, ts, v)) == AIOPS_OK)
		return AIOPS_OK;
	return r == AIOPS_ERR_LIMIT ? aiops_error_set(e, r, "too many series") : nomem(e);
}

/*
 * Emit the samples of nkeys keys, the spans sorted by key, window and
 * duration, key(i) giving the key of span i (>= nkeys for none).
 */
static int
emit(struct aiops_traces *t, struct aiops_pivot *pv, uint32_t nkeys, int by_edge,
    const struct named *names, int64_t wmin, int64_t wmax, struct aiops_error *e)
{
	static const double qs[3] = { 50 / 100.0, 95 / 100.0, 99 / 100.0 };
	static const char *const qn[3] = { ".lat_p50", ".lat_p95", ".lat_p99" };
	struct aiops_buf nm = AIOPS_BUF_INIT;
	size_t i = 0;
	int r = AIOPS_OK;

	for (uint32_t k = 0; k < nkeys && r == AIOPS_OK; k++) {
		const struct named *w = &names[k];
		size_t base;

		aiops_buf_reset(&nm);
		if (by_edge)
			r = aiops_buf_addf(&nm, "edge.%.*s>%.*s", (int)w->an, (const char *)w->a,
			    (int)w->bn, (const char *)w->b);
		else
			r = aiops_buf_addf(&nm, "svc.%.*s", (int)w->an, (const char *)w->a);
		if (r != AIOPS_OK) {
			r = nomem(e);
			break;
		}
		base = nm.len;
		for (int64_t win = wmin; r == AIOPS_OK; win += t->step) {
			size_t j = i, nerr = 0;
			double sum = 0;

			while (j < t->n && (by_edge ? t->sp[j].up : t->sp[j].svc & ~ERRBIT) == k &&
			    t->sp[j].t == win) {
				sum += t->sp[j].dur;
				nerr += (t->sp[j].svc & ERRBIT) != 0;
				j++;
			}
			r = add_sample(pv, &nm, base, ".calls", win, (double)(j - i), e);
			if (r == AIOPS_OK && j > i) {
				size_t n = j - i;
				r = add_sample(pv, &nm, base, ".error_rate", win, (double)nerr / (double)n, e);
				if (r == AIOPS_OK)
					r = add_sample(pv, &nm, base, ".lat_mean", win, sum / (double)n, e);
				for (int q = 0; q < 3 && r == AIOPS_OK; q++)
					r = add_sample(pv, &nm, base, qn[q], win, quantile(t->sp + i, n, qs[q]),
					    e);
			}
			i = j;
			if (win >= wmax)
				break;
		}
	}
	aiops_buf_release(&nm);
	return r;
}

int
aiops_traces_finish(struct aiops_traces *t, struct aiops_pivot *pv, struct aiops_error *e)
{
	struct strtab edges = { 0 };
	struct named *sn = NULL, *en = NULL;
	uint32_t *rank = NULL;
	int64_t wmin = INT64_MAX, wmax = INT64_MIN;
	uint64_t nwin, nkeys;
	int r = AIOPS_OK, isnew;

	if (t->finished)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "traces aggregated twice");
	t->finished = 1;
	if (t->n == 0)
		return aiops_error_set(e, AIOPS_ERR_DATA, "no spans");

	/* the edges: a span whose parent was seen is a call from the parent's service */
	for (size_t i = 0; i < t->n; i++) {
		struct tspan *s = &t->sp[i];
		uint32_t o = s->up != NONE ? t->owner[s->up] : NONE, pair[2], idx;

		if (o == NONE) {
			s->up = NONE;
			continue;
		}
		pair[0] = t->sp[o].svc & ~ERRBIT;
		pair[1] = s->svc & ~ERRBIT;
		if ((r = st_intern(&edges, pair, sizeof(pair), &idx, &isnew)) != AIOPS_OK) {
			r = nomem(e);
			goto out;
		}
		s->up = idx;
	}
	free_tables(t);
	nkeys = (uint64_t)t->svc.n + edges.n;
	if (nkeys > AIOPS_TENSOR_MAX_COLS / 6) {
		r = aiops_error_set(e, AIOPS_ERR_LIMIT,
		    "%u services and %u edges make more than %u columns", t->svc.n, edges.n,
		    AIOPS_TENSOR_MAX_COLS);
		goto out;
	}

	/* windows: floor(start / step) * step */
	for (size_t i = 0; i < t->n; i++) {
		int64_t ts = t->sp[i].t, q = ts / t->step;
		if (ts % t->step != 0 && ts < 0)
			q--;
		t->sp[i].t = q * t->step;
		if (t->sp[i].t < wmin)
			wmin = t->sp[i].t;
		if (t->sp[i].t > wmax)
			wmax = t->sp[i].t;
	}
	nwin = (uint64_t)(wmax - wmin) / (uint64_t)t->step + 1;
	if (nwin > AIOPS_TRACES_MAX_CELLS / nkeys) {
		r = aiops_error_set(e, AIOPS_ERR_LIMIT,
		    "spans over %llu windows of %lld ms with %llu services and edges: more than %u "
		    "cells; use a larger step", (unsigned long long)nwin, (long long)t->step,
		    (unsigned long long)nkeys, AIOPS_TRACES_MAX_CELLS);
		goto out;
	}

	/* ranks: services by name, edges by (caller, callee) */
	sn = aiops_calloc(t->svc.n, sizeof(*sn));
	en = aiops_calloc(edges.n ? edges.n : 1, sizeof(*en));
	rank = aiops_calloc(t->svc.n > edges.n ? t->svc.n : edges.n ? edges.n : 1, sizeof(*rank));
	if (sn == NULL || en == NULL || rank == NULL) {
		r = nomem(e);
		goto out;
	}
	for (uint32_t k = 0; k < t->svc.n; k++) {
		sn[k].a = st_get(&t->svc, k, &sn[k].an);
		sn[k].b = NULL;
		sn[k].idx = k;
	}
	qsort(sn, t->svc.n, sizeof(*sn), cmp_named);
	for (uint32_t k = 0; k < edges.n; k++) {
		size_t len;
		uint32_t pair[2];
		memcpy(pair, st_get(&edges, k, &len), sizeof(pair));
		en[k].idx = k;
		en[k].a = st_get(&t->svc, pair[0], &en[k].an);
		en[k].b = st_get(&t->svc, pair[1], &en[k].bn);
	}
	qsort(en, edges.n, sizeof(*en), cmp_named);

	for (uint32_t k = 0; k < t->svc.n; k++)
		rank[sn[k].idx] = k;
	for (size_t i = 0; i < t->n; i++)
		t->sp[i].svc = rank[t->sp[i].svc & ~ERRBIT] | (t->sp[i].svc & ERRBIT);
	qsort(t->sp, t->n, sizeof(*t->sp), cmp_by_svc);
	if ((r = emit(t, pv, t->svc.n, 0, sn, wmin, wmax, e)) != AIOPS_OK)
		goto out;

	for (uint32_t k = 0; k < edges.n; k++)
		rank[en[k].idx] = k;
	for (size_t i = 0; i < t->n; i++)
		if (t->sp[i].up != NONE)
			t->sp[i].up = rank[t->sp[i].up];
	qsort(t->sp, t->n, sizeof(*t->sp), cmp_by_edge);
	r = emit(t, pv, edges.n, 1, en, wmin, wmax, e);
out:
	st_release(&edges);
	aiops_free(sn);
	aiops_free(en);
	aiops_free(rank);
	return r;
}
