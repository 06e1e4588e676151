/*
 * logs.c - log lines to per-window template and level counts (see logs.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "drain.h"
#include "logs.h"
#include "parse.h"
#include "source.h"

#define MAX_LEVELS 64               /* distinct levels; the rest count as "other" */
#define LEVEL_COL  0x80000000u      /* entry column flag: a level, not a template */

/* ---- time ------------------------------------------------------------------ */

struct num { int64_t v; int nd, chunk, sign; };

static int
month_of(const char *w, size_t n)
{
	static const char *m[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
	    "sep", "oct", "nov", "dec" };
	static const char *full[] = { "january", "february", "march", "april", "may", "june",
	    "july", "august", "september", "october", "november", "december" };

	for (int i = 0; i < 12; i++)
		if ((n == 3 && strncasecmp(w, m[i], 3) == 0) ||
		    (n == strlen(full[i]) && strncasecmp(w, full[i], n) == 0) ||
		    (n == 4 && i == 8 && strncasecmp(w, "sept", 4) == 0))
			return i + 1;
	return 0;
}

static int
is_weekday(const char *w, size_t n)
{
	static const char *d[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	static const char *full[] = { "monday", "tuesday", "wednesday", "thursday", "friday",
	    "saturday", "sunday" };

	for (int i = 0; i < 7; i++)
		if ((n == 3 && strncasecmp(w, d[i], 3) == 0) ||
		    (n == strlen(full[i]) && strncasecmp(w, full[i], n) == 0))
			return 1;
	return 0;
}

int
aiops_log_time(const char *s, size_t n, int64_t *ms)
{
	struct num num[16];
	int nn = 0, mon = 0, ampm = 0, chunk = 0, k = 0, blank = 1;
	int64_t Y = 1970, M = 1, D = 1, h = 0, mi = 0, sec = 0, frac = 0, offset = 0;

	for (size_t i = 0; i < n; ) {
		unsigned char c = (unsigned char)s[i];
		if (c >= '0' && c <= '9') {
			int64_t v = 0;
			int nd = 0;
			for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++)
				if (nd < 18)
					v = v * 10 + (s[i] - '0');
			if (nd > 18 || nn == 16)
				return -1;
			if (blank)
				chunk++;
			blank = 0;
			num[nn].v = v;
			num[nn].nd = nd;
			num[nn].sign = i > (size_t)nd && (s[i - nd - 1] == '+' || s[i - nd - 1] == '-') ?
			    (s[i - nd - 1] == '+' ? 1 : -1) : 0;
			num[nn++].chunk = chunk;
		} else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
			size_t j = i;
			while (j < n && ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z'))
				j++;
			if (month_of(s + i, j - i))
				mon = month_of(s + i, j - i);
			else if (j - i == 2 && strncasecmp(s + i, "am", 2) == 0)
				ampm = 1;
			else if (j - i == 2 && strncasecmp(s + i, "pm", 2) == 0)
				ampm = 2;
			else if (!is_weekday(s + i, j - i) && !(j - i == 1 && (c == 'T' || c == 'Z')) &&
			    !(j - i == 3 && (strncasecmp(s + i, "utc", 3) == 0 ||
			    strncasecmp(s + i, "gmt", 3) == 0)))
				return -1;
			if (blank)
				chunk++;
			blank = 0;
			i = j;
		} else {
			if (c == ' ' || c == '\t')
				blank = 1;
			i++;
		}
	}
	if (nn == 0)
		return -1;
	if (nn == 1 && !mon) {                  /* epoch seconds or milliseconds */
		if (num[0].nd >= 9 && num[0].nd <= 10) {
			*ms = num[0].v * 1000;
			return 0;
		}
		if (num[0].nd >= 12 && num[0].nd <= 13) {
			*ms = num[0].v;
			return 0;
		}
		if (num[0].nd != 8 && num[0].nd != 14)
			return -1;
	}
	if (num[0].nd == 14) {
		int64_t v = num[0].v;
		Y = v / 10000000000; M = v / 100000000 % 100; D = v / 1000000 % 100;
		h = v / 10000 % 100; mi = v / 100 % 100; sec = v % 100;
		k = 1;
		goto fraction;
	} else if (num[0].nd == 8) {
		Y = num[0].v / 10000; M = num[0].v / 100 % 100; D = num[0].v % 100;
		k = 1;
	} else if (num[0].nd == 6 && nn >= 2 && num[1].nd == 6 && !mon) {
		Y = num[0].v / 10000; M = num[0].v / 100 % 100; D = num[0].v % 100;
		Y += Y < 70 ? 2000 : 1900;
		h = num[1].v / 10000; mi = num[1].v / 100 % 100; sec = num[1].v % 100;
		k = 2;
		goto fraction;
	} else if (num[0].nd == 4 && !mon) {
		if (nn < 3)
			return -1;
		Y = num[0].v; M = num[1].v; D = num[2].v;
		k = 3;
	} else if (mon) {
		M = mon;
		if (num[0].nd == 4 && nn >= 2) {        /* 2005 Dec 04 */
			Y = num[0].v; D = num[1].v; k = 2;
		} else {
			D = num[0].v; k = 1;
			if (k < nn && num[k].nd == 4 && num[k].chunk == num[0].chunk) {
				Y = num[k].v;                   /* 04/Dec/2005 */
				k++;
			} else if (k < nn && num[k].nd == 4 && (k + 1 == nn ||
			    num[k + 1].chunk != num[k].chunk)) {
				Y = num[k].v;                   /* Dec 04 2005 10:00 */
				k++;
			}
		}
	} else {
		int c = 0;
		while (c < nn && num[c].chunk == num[0].chunk)
			c++;
		if (c >= 3 && num[2].nd == 4) {         /* m/d/Y, or d/m/Y when d > 12 */
			Y = num[2].v;
			if (num[0].v > 12) { D = num[0].v; M = num[1].v; }
			else { M = num[0].v; D = num[1].v; }
			k = 3;
		} else if (c >= 3) {                    /* yy/mm/dd */
			Y = num[0].v + (num[0].v < 70 ? 2000 : 1900);
			M = num[1].v; D = num[2].v;
			k = 3;
		} else if (c == 2) {                    /* mm-dd, no year */
			M = num[0].v; D = num[1].v;
			k = 2;
		} else
			return -1;
	}
	if (k < nn) {
		h = num[k++].v;
		if (k < nn)
			mi = num[k++].v;
		if (k < nn && num[k].nd <= 2)
			sec = num[k++].v;
	}
fraction:
	if (k > 0 && k < nn && num[k].nd <= 9 && num[k].chunk == num[k - 1].chunk && !num[k].sign) {
		frac = num[k].v;
		for (int d = num[k].nd; d < 3; d++)
			frac *= 10;
		for (int d = num[k].nd; d > 3; d--)
			frac /= 10;
		k++;
	}
	if (k < nn && num[k].sign && k > 0) {
		/* a UTC offset: +hh:mm, +hhmm or +hh */
		int64_t oh = num[k].nd == 4 ? num[k].v / 100 : num[k].v;
		int64_t om = num[k].nd == 4 ? num[k].v % 100 : 0;
		int sg = num[k].sign;
		k++;
		if (num[k - 1].nd <= 2 && k < nn && num[k].chunk == num[k - 1].chunk && !num[k].sign)
			om = num[k++].v;
		if (oh > 14 || om > 59)
			return -1;
		offset = sg * (oh * 60 + om) * 60000;
	}
	if (k < nn && mon && Y == 1970 && num[k].nd == 4) /* Sun Dec 04 04:47:44 2005 */
		Y = num[k++].v;
	if (ampm == 2 && h < 12)
		h += 12;
	else if (ampm == 1 && h == 12)
		h = 0;
	if (Y < 1 || Y > 9999 || M < 1 || M > 12 || D < 1 ||
	    D > aiops_days_in_month((int)Y, (int)M) || h > 23 || mi > 59 || sec > 60)
		return -1;
	*ms = ((aiops_days_from_civil(Y, (int)M, (int)D) * 86400 + h * 3600 + mi * 60 + sec) *
	    1000) + frac - offset;
	return 0;
}

/* ---- the run ----------------------------------------------------------------- */

struct entry {
	int64_t ts;
	uint32_t col;               /* template id, or LEVEL_COL | level */
	uint32_t pad;
	double v;
};

struct lrun {
	const struct aiops_ingest_opts *o;
	struct aiops_ingest_stats *st;
	struct aiops_error *e;
	struct aiops_logfmt fmt;
	int tfield[AIOPS_LOGFMT_MAX_FIELDS], ntfield, epoch_field;
	struct aiops_field *fields;
	struct aiops_drain *d;
	int64_t step, win, first_win;
	int have_win;
	uint64_t *cnt;
	size_t ccap;
	uint32_t *touched;
	size_t ntouched, tcap;
	char *lvname[MAX_LEVELS + 1];
	uint64_t lvcnt[MAX_LEVELS + 1];
	size_t nlv;
	struct entry *ent;
	size_t nent, entcap;
	FILE *lines;
	uint64_t line_base;         /* lines of the parts before this one */
	struct aiops_buf tb;
	char tcache[96];
	size_t tclen;
	int64_t tcval;
	int tcvalid;
};

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

static int
is_time_field(const char *name)
{
	static const char *w[] = { "date", "time", "timestamp", "datetime", "month", "day",
	    "year", NULL };

	for (int i = 0; w[i]; i++)
		if (strcasecmp(name, w[i]) == 0)
			return 1;
	return 0;
}

static int
push_entry(struct lrun *L, int64_t ts, uint32_t col, double v)
{
	if (L->nent == L->entcap) {
		size_t nc = L->entcap ? L->entcap * 2 : 1024;
		struct entry *p = aiops_reallocarray(L->ent, nc, sizeof(*p));
		if (p == NULL)
			return nomem(L->e);
		L->ent = p;
		L->entcap = nc;
	}
	L->ent[L->nent].ts = ts;
	L->ent[L->nent].col = col;
	L->ent[L->nent].pad = 0;
	L->ent[L->nent++].v = v;
	return AIOPS_OK;
}

static int
flush_window(struct lrun *L)
{
	if (!L->have_win)
		return AIOPS_OK;
	for (size_t i = 0; i < L->ntouched; i++) {
		uint32_t id = L->touched[i];
		if (push_entry(L, L->win, id, (double)L->cnt[id]) != AIOPS_OK)
			return L->e->code;
		L->cnt[id] = 0;
	}
	L->ntouched = 0;
	for (size_t i = 0; i < L->nlv; i++)
		if (L->lvcnt[i]) {
			if (push_entry(L, L->win, LEVEL_COL | (uint32_t)i, (double)L->lvcnt[i]) != AIOPS_OK)
				return L->e->code;
			L->lvcnt[i] = 0;
		}
	return AIOPS_OK;
}

static int
count_template(struct lrun *L, uint32_t id)
{
	if (id >= L->ccap) {
		size_t nc = L->ccap ? L->ccap * 2 : 256;
		while (nc <= id)
			nc *= 2;
		uint64_t *p = aiops_reallocarray(L->cnt, nc, sizeof(*p));
		if (p == NULL)
			return nomem(L->e);
		memset(p + L->ccap, 0, (nc - L->ccap) * sizeof(*p));
		L->cnt = p;
		L->ccap = nc;
	}
	if (L->cnt[id]++ == 0) {
		if (L->ntouched == L->tcap) {
			size_t nc = L->tcap ? L->tcap * 2 : 256;
			uint32_t *p = aiops_reallocarray(L->touched, nc, sizeof(*p));
			if (p == NULL)
				return nomem(L->e);
			L->touched = p;
			L->tcap = nc;
		}
		L->touched[L->ntouched++] = id;
	}
	return AIOPS_OK;
}

static int
count_level(struct lrun *L, const char *p, size_t n)
{
	size_t i;

	n = strnlen(p, n);      /* a name is a C string: up to a NUL byte */
	for (i = 0; i < L->nlv; i++)
		if (strlen(L->lvname[i]) == n && memcmp(L->lvname[i], p, n) == 0)
			break;
	if (i == L->nlv) {
		if (L->nlv == MAX_LEVELS) {
			for (i = 0; i < L->nlv; i++)
				if (strcmp(L->lvname[i], "other") == 0)
					break;
		}
		if (i == L->nlv) {
			if ((L->lvname[i] = L->nlv == MAX_LEVELS ? aiops_strdup("other") :
			    aiops_strndup(p, n)) == NULL)
				return nomem(L->e);
			L->nlv++;
		}
	}
	L->lvcnt[i]++;
	return AIOPS_OK;
}

/* A bad line: skipped and counted under --skip-bad, else the error. */
static int
bad_line(struct lrun *L)
{
	if (!L->o->skip_bad)
		return L->e->code;
	if (L->st->skipped++ == 0)
		snprintf(L->st->first_skip, sizeof(L->st->first_skip), "%s", L->e->msg);
	return AIOPS_OK;
}

static int
line_time(struct lrun *L, const char *name, long lineno, const char *line, int64_t *ts)
{
	struct aiops_field *f = L->fields;
	char ex[80];

	if (L->epoch_field >= 0) {
		struct aiops_field *t = &f[L->epoch_field];
		if (aiops_log_time(t->p, t->n, ts) == 0)
			return AIOPS_OK;
	}
	aiops_buf_reset(&L->tb);
	for (int i = 0; i < L->ntfield; i++) {
		struct aiops_field *t = &f[L->tfield[i]];
		if ((i && aiops_buf_addch(&L->tb, ' ') != AIOPS_OK) ||
		    aiops_buf_add(&L->tb, t->p, t->n) != AIOPS_OK)
			return nomem(L->e);
	}
	if (L->tcvalid && L->tb.len == L->tclen && memcmp(L->tb.buf, L->tcache, L->tclen) == 0) {
		*ts = L->tcval;
		return AIOPS_OK;
	}
	if (aiops_log_time(L->tb.buf, L->tb.len, ts) != 0) {
		struct aiops_field *t = &f[L->tfield[0]];
		aiops_error_set(L->e, AIOPS_ERR_DATA, "%s:%ld:%zu: cannot read a time from \"%s\"",
		    name, lineno, (size_t)(t->p - line) + 1, aiops_excerpt(L->tb.buf, L->tb.len,
		    SIZE_MAX, ex, sizeof(ex)));
		return bad_line(L) == AIOPS_OK ? 1 : L->e->code;
	}
	if (L->tb.len <= sizeof(L->tcache)) {
		memcpy(L->tcache, L->tb.buf, L->tb.len);
		L->tclen = L->tb.len;
		L->tcval = *ts;
		L->tcvalid = 1;
	}
	return AIOPS_OK;
}

static int
do_line(struct lrun *L, const char *name, long lineno, char *p, size_t n)
{
	struct aiops_field *f = L->fields;
	struct aiops_field *c;
	int64_t ts = 0, w;
	uint32_t id;
	size_t col;
	int created, r;
	char ex[80];

	size_t k;

	while (n && p[n - 1] == '\r')
		n--;
	for (k = 0; k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'); k++)
		;
	if (k == n)
		return AIOPS_OK;        /* a blank line */
	if ((col = aiops_logfmt_split(&L->fmt, p, n, f)) != 0) {
		aiops_error_set(L->e, AIOPS_ERR_DATA,
		    "%s:%ld:%zu: line does not match the log format: \"%s\"", name, lineno, col,
		    aiops_excerpt(p, n, SIZE_MAX, ex, sizeof(ex)));
		return bad_line(L);
	}
	if ((r = line_time(L, name, lineno, p, &ts)) != AIOPS_OK)
		return r > 0 ? AIOPS_OK : r;
	c = &f[L->fmt.content];
	if ((r = aiops_drain_add(L->d, c->p, c->n, &id, &created, L->e)) != AIOPS_OK) {
		aiops_error_prefix(L->e, "%s:%ld", name, lineno);
		return r;
	}
	L->st->lines++;
	if (created)
		L->st->new_templates++;
	if (L->lines) {
		unsigned char rec[12];
		aiops_put_u64(rec, L->line_base + (uint64_t)lineno);
		aiops_put_u32(rec + 8, id);
		if (fwrite(rec, 1, sizeof(rec), L->lines) != sizeof(rec))
			return aiops_error_set(L->e, AIOPS_ERR_IO, "temporary file: %s",
			    strerror(errno));
	}
	w = ts >= 0 ? ts / L->step * L->step : -((-ts + L->step - 1) / L->step) * L->step;
	if (!L->have_win || w != L->win) {
		if ((r = flush_window(L)) != AIOPS_OK)
			return r;
		if (!L->have_win || w < L->first_win)
			L->first_win = w;
		L->win = w;
		L->have_win = 1;
	}
	if ((r = count_template(L, id)) != AIOPS_OK)
		return r;
	if (L->fmt.level >= 0 && (r = count_level(L, f[L->fmt.level].p, f[L->fmt.level].n)) != AIOPS_OK)
		return r;
	return AIOPS_OK;
}

/* Every line of the current part of src. */
static int
read_part(struct lrun *L, struct aiops_src *src, char *buf, size_t cap)
{
	const char *name = aiops_src_name(src);
	size_t len = 0, start;
	long lineno = 0;
	int toolong = 0, r;

	for (;;) {
		ssize_t k = aiops_src_read(src, buf + len, cap - len, L->e);
		char *nl;

		if (k < 0)
			return (int)k;
		if (k == 0 && len == 0)
			break;
		len += (size_t)k;
		start = 0;
		while ((nl = memchr(buf + start, '\n', len - start)) != NULL) {
			size_t n = (size_t)(nl - (buf + start));
			lineno++;
			if (toolong)
				toolong = 0;   /* the end of a line already reported */
			else if ((r = do_line(L, name, lineno, buf + start, n)) != AIOPS_OK)
				return r;
			start += n + 1;
		}
		if (k == 0) {                  /* the last line has no line end */
			if (len > start && !toolong) {
				lineno++;
				if ((r = do_line(L, name, lineno, buf + start, len - start)) != AIOPS_OK)
					return r;
			}
			break;
		}
		memmove(buf, buf + start, len - start);
		len -= start;
		if (len == cap) {              /* a line longer than the limit */
			if (!toolong) {
				aiops_error_set(L->e, AIOPS_ERR_DATA,
				    "%s:%ld: line longer than %u bytes", name, lineno + 1,
				    AIOPS_LOG_MAX_LINE);
				if ((r = bad_line(L)) != AIOPS_OK)
					return r;
				toolong = 1;
			}
			len = 0;
		}
	}
	L->line_base += (uint64_t)lineno;
	return AIOPS_OK;
}

/* The per-line CSV, from the (line id, template id) records, with the final templates. */
static int
write_lines(struct lrun *L, struct aiops_logs_out *lo)
{
	struct aiops_out *out = &lo->lines;
	struct aiops_buf b = AIOPS_BUF_INIT;
	unsigned char rec[12];
	int r;

	if (fflush(L->lines) != 0 || fseek(L->lines, 0, SEEK_SET) != 0)
		return aiops_error_set(L->e, AIOPS_ERR_IO, "temporary file: %s", strerror(errno));
	if ((r = aiops_out_open(out, L->o->lines_out, L->e)) != AIOPS_OK)
		return r;
	lo->lines_open = 1;
	r = aiops_buf_addstr(&b, "LineId,EventId,EventTemplate\n") == AIOPS_OK ? AIOPS_OK :
	    nomem(L->e);
	while (r == AIOPS_OK && fread(rec, 1, sizeof(rec), L->lines) == sizeof(rec)) {
		uint32_t id = aiops_get_u32(rec + 8);
		const char *t = aiops_drain_template(L->d, id);
		if (t == NULL || aiops_buf_addf(&b, "%llu,E%lu,",
		    (unsigned long long)aiops_get_u64(rec), (unsigned long)id + 1) != AIOPS_OK ||
		    aiops_buf_addcsv(&b, t) != AIOPS_OK || aiops_buf_addch(&b, '\n') != AIOPS_OK) {
			r = nomem(L->e);
			break;
		}
		if (b.len >= 1u << 16) {
			r = aiops_out_write(out, b.buf, b.len, L->e);
			aiops_buf_reset(&b);
		}
	}
	if (r == AIOPS_OK && ferror(L->lines))
		r = aiops_error_set(L->e, AIOPS_ERR_IO, "temporary file: read error");
	if (r == AIOPS_OK && b.len)
		r = aiops_out_write(out, b.buf, b.len, L->e);
	aiops_buf_release(&b);
	return r;
}

static int
to_pivot(struct lrun *L, struct aiops_pivot *pv)
{
	char name[32];
	struct aiops_buf lv = AIOPS_BUF_INIT;
	size_t nt = aiops_drain_count(L->d);
	int r = AIOPS_OK;
	size_t *lvcol = NULL;

	/* every column once, in order, so the dictionary's ids are the column order */
	for (size_t i = 0; i < nt && r == AIOPS_OK; i++) {
		snprintf(name, sizeof(name), "E%zu", i + 1);
		if (aiops_pivot_add(pv, name, L->first_win, 0) != AIOPS_OK)
			r = nomem(L->e);
	}
	/* level columns in name order, so runs that see the same levels agree */
	if (r == AIOPS_OK && L->nlv && (lvcol = aiops_calloc(L->nlv, sizeof(size_t))) == NULL)
		r = nomem(L->e);
	for (size_t i = 0; i < L->nlv && r == AIOPS_OK; i++) {
		size_t rank = 0;
		for (size_t j = 0; j < L->nlv; j++)
			rank += strcmp(L->lvname[j], L->lvname[i]) < 0;
		lvcol[i] = nt + rank;
	}
	for (size_t k = 0; k < L->nlv && r == AIOPS_OK; k++) {
		size_t i = 0;
		while (lvcol[i] != nt + k)
			i++;
		aiops_buf_reset(&lv);
		if (aiops_buf_addf(&lv, "level.%s", L->lvname[i]) != AIOPS_OK ||
		    aiops_pivot_add(pv, lv.buf, L->first_win, 0) != AIOPS_OK)
			r = nomem(L->e);
	}
	for (size_t i = 0; i < L->nent && r == AIOPS_OK; i++) {
		struct entry *en = &L->ent[i];
		size_t col = en->col & LEVEL_COL ? lvcol[en->col & ~LEVEL_COL] : en->col;
		if (aiops_pivot_add(pv, pv->names[col], en->ts, en->v) != AIOPS_OK)
			r = nomem(L->e);
	}
	aiops_free(lvcol);
	aiops_buf_release(&lv);
	return r;
}

size_t
aiops_logs_take(struct aiops_logs_out *lo, struct aiops_out *dst)
{
	size_t n = 0;

	if (lo->lines_open) {
		dst[n++] = lo->lines;
		lo->lines_open = 0;
	}
	if (lo->templates_open) {
		dst[n++] = lo->templates;
		lo->templates_open = 0;
	}
	return n;
}

void
aiops_logs_abort(struct aiops_logs_out *lo)
{
	if (lo->lines_open)
		aiops_out_abort(&lo->lines);
	if (lo->templates_open)
		aiops_out_abort(&lo->templates);
	lo->lines_open = lo->templates_open = 0;
}

int
aiops_logs_read(struct aiops_pivot *pv, const struct aiops_ingest_opts *o,
    struct aiops_ingest_stats *st, struct aiops_logs_out *lo, struct aiops_error *e)
{
	static const char *const stdin_only[] = { "-" };
	const char *const *inputs = o->ninputs ? o->inputs : stdin_only;
	size_t ninputs = o->ninputs ? o->ninputs : 1;
	struct aiops_drain_opts dop;
	struct lrun L;
	char *buf = NULL;
	int r;

	memset(&L, 0, sizeof(L));
	L.o = o;
	L.st = st;
	L.e = e;
	L.epoch_field = -1;
	L.step = o->step_ms > 0 ? o->step_ms : AIOPS_EVENT_STEP_MS;
	if ((r = aiops_logfmt_compile(&L.fmt, o->log_format ? o->log_format : "<Content>", e)) !=
	    AIOPS_OK)
		return r;
	for (size_t i = 0; i < L.fmt.nfields; i++) {
		if (!is_time_field(L.fmt.names[i]))
			continue;
		L.tfield[L.ntfield++] = (int)i;
		if (strcasecmp(L.fmt.names[i], "Timestamp") == 0)
			L.epoch_field = (int)i;
	}
	if (L.ntfield == 0) {
		r = aiops_error_set(e, AIOPS_ERR_USAGE,
		    "log format \"%s\" has no time field (<Date>, <Time>, <Timestamp>, <Month>, "
		    "<Day>, <Year>): the tensor's rows are time windows",
		    o->log_format ? o->log_format : "<Content>");
		goto out;
	}
	aiops_drain_opts_init(&dop);
	dop.sim = o->log_sim;
	dop.depth = o->log_depth;
	dop.masks = o->masks;
	dop.nmasks = o->nmasks;
	if ((r = aiops_drain_new(&L.d, &dop, e)) != AIOPS_OK)
		goto out;
	if (o->templates && access(o->templates, F_OK) == 0) {
		struct aiops_src *src;
		if ((r = aiops_src_open(&src, o->templates, e)) != AIOPS_OK)
			goto out;
		r = aiops_drain_load(L.d, src, e);
		aiops_src_close(src);
		if (r != AIOPS_OK)
			goto out;
	}
	L.fields = aiops_calloc(L.fmt.nfields, sizeof(*L.fields));
	buf = aiops_malloc(AIOPS_LOG_MAX_LINE + 1);
	if (L.fields == NULL || buf == NULL) {
		r = nomem(e);
		goto out;
	}
	if (o->lines_out && (L.lines = tmpfile()) == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "temporary file: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < ninputs && r == AIOPS_OK; i++) {
		struct aiops_src *src;
		if ((r = aiops_src_open(&src, inputs[i], e)) != AIOPS_OK)
			break;
		do
			r = read_part(&L, src, buf, AIOPS_LOG_MAX_LINE + 1);
		while (r == AIOPS_OK && (r = aiops_src_next_part(src, e)) == 1);
		if (r > 0)
			r = AIOPS_OK;
		aiops_src_close(src);
	}
	if (r == AIOPS_OK)
		r = flush_window(&L);
	if (r == AIOPS_OK && st->lines == 0)
		r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: no log lines", inputs[0]);
	st->templates = aiops_drain_count(L.d);
	if (r == AIOPS_OK)
		r = to_pivot(&L, pv);
	if (r == AIOPS_OK && o->lines_out)
		r = write_lines(&L, lo);
	if (r == AIOPS_OK && o->templates) {
		/* written now, committed with the tensor: only a rename is left to fail */
		struct aiops_buf b = AIOPS_BUF_INIT;
		if ((r = aiops_drain_save(L.d, &b, e)) == AIOPS_OK &&
		    (r = aiops_out_open(&lo->templates, o->templates, e)) == AIOPS_OK) {
			lo->templates_open = 1;
			r = aiops_out_write(&lo->templates, b.buf, b.len, e);
		}
		aiops_buf_release(&b);
	}
	if (r != AIOPS_OK)
		aiops_logs_abort(lo);
out:
	if (L.lines)
		fclose(L.lines);
	aiops_free(buf);
	aiops_free(L.fields);
	aiops_free(L.cnt);
	aiops_free(L.touched);
	aiops_free(L.ent);
	for (size_t i = 0; i < L.nlv; i++)
		aiops_free(L.lvname[i]);
	aiops_buf_release(&L.tb);
	aiops_drain_free(L.d);
	aiops_logfmt_release(&L.fmt);
	return r;
}
