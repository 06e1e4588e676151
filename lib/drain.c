/*
 * drain.c - log template mining with a fixed-depth parse tree (see drain.h).
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "drain.h"
#include "parse.h"
#include "source.h"

static const char WILD[] = "<*>";

struct tok {
	const char *p;              /* WILD, or owned text */
	uint32_t n, h;
	int wild;                   /* holds "<*>": takes the variable branch */
};

struct tmpl {
	uint32_t ntok;
	struct tok *t;
	uint64_t count;
	char *text;                 /* joined, rebuilt when dirty */
	int dirty;
};

struct child {
	uint32_t h, n;
	char *tok;
	struct node *node;
};

struct node {
	struct child *kids;
	size_t nkids, kcap;
	struct node *wild;
	uint32_t *leaf;
	size_t nleaf, lcap;
};

struct aiops_drain {
	struct aiops_drain_opts o;
	regex_t *re;
	size_t nre;
	struct node *bylen[AIOPS_DRAIN_MAX_TOKENS + 1];
	struct tmpl *tp;
	size_t ntp, tpcap;
	/* per message scratch */
	struct aiops_buf msg, norm;
	struct tok *lt;
	size_t *loff;               /* offsets of the tokens in norm */
};

static uint32_t
hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

void
aiops_drain_opts_init(struct aiops_drain_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sim = 0.5;
	o->depth = 4;
	o->max_children = 100;
	o->max_templates = 100000;
}

int
aiops_drain_new(struct aiops_drain **dp, const struct aiops_drain_opts *o,
    struct aiops_error *e)
{
	struct aiops_drain *d;

	*dp = NULL;
	if (!(o->sim >= 0 && o->sim <= 1))
		return aiops_error_set(e, AIOPS_ERR_USAGE, "similarity %g: expected 0 to 1", o->sim);
	if (o->depth < 3 || o->depth > 64)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "depth %d: expected 3 to 64", o->depth);
	if (o->max_children < 1)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "max children %d: expected >= 1",
		    o->max_children);
	if ((d = aiops_calloc(1, sizeof(*d))) == NULL)
		return nomem(e);
	d->o = *o;
	d->o.masks = NULL;
	if (!d->o.max_templates)
		d->o.max_templates = 100000;
	d->lt = aiops_calloc(AIOPS_DRAIN_MAX_TOKENS, sizeof(*d->lt));
	d->loff = aiops_calloc(AIOPS_DRAIN_MAX_TOKENS, sizeof(*d->loff));
	if (o->nmasks)
		d->re = aiops_calloc(o->nmasks, sizeof(regex_t));
	if (!d->lt || !d->loff || (o->nmasks && !d->re)) {
		aiops_drain_free(d);
		return nomem(e);
	}
	for (size_t i = 0; i < o->nmasks; i++) {
		int rc = regcomp(&d->re[i], o->masks[i], REG_EXTENDED);
		if (rc != 0) {
			char m[256];
			regerror(rc, &d->re[i], m, sizeof(m));
			aiops_error_set(e, rc == REG_ESPACE ? AIOPS_ERR_NOMEM : AIOPS_ERR_USAGE,
			    "mask \"%s\": %s", o->masks[i], m);
			aiops_drain_free(d);
			return e->code;
		}
		d->nre++;
		/* an expression that matches the empty string would never end */
		regmatch_t m;
		if (regexec(&d->re[i], "", 1, &m, 0) == 0) {
			aiops_error_set(e, AIOPS_ERR_USAGE, "mask \"%s\" matches the empty string",
			    o->masks[i]);
			aiops_drain_free(d);
			return e->code;
		}
	}
	*dp = d;
	return AIOPS_OK;
}

static void
node_free(struct node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++) {
		aiops_free(n->kids[i].tok);
		node_free(n->kids[i].node);
	}
	aiops_free(n->kids);
	node_free(n->wild);
	aiops_free(n->leaf);
	aiops_free(n);
}

void
aiops_drain_free(struct aiops_drain *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nre; i++)
		regfree(&d->re[i]);
	aiops_free(d->re);
	for (size_t i = 0; i <= AIOPS_DRAIN_MAX_TOKENS; i++)
		node_free(d->bylen[i]);
	for (size_t i = 0; i < d->ntp; i++) {
		for (uint32_t j = 0; j < d->tp[i].ntok; j++)
			if (d->tp[i].t[j].p != WILD)
				aiops_free((char *)d->tp[i].t[j].p);
		aiops_free(d->tp[i].t);
		aiops_free(d->tp[i].text);
	}
	aiops_free(d->tp);
	aiops_buf_release(&d->msg);
	aiops_buf_release(&d->norm);
	aiops_free(d->lt);
	aiops_free(d->loff);
	aiops_free(d);
}

/* ---- masking and tokens --------------------------------------------------- */

/* Blanks separate tokens; a NUL byte counts as one (templates are C strings). */
static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' ||
	    c == 0;
}

static int
has_digit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned)(p[i] - '0') < 10)
			return 1;
	return 0;
}

/* A variable: holds a digit, is a path or a URL, or holds "<*>" already. One pass. */
static int
is_var(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p[0] == '/' && n > 1)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c - '0' < 10u)
			return 1;
		if (c == ':' && i + 2 < n && p[i + 1] == '/' && p[i + 2] == '/')
			return 1;
		if (c == '<' && i + 2 < n && p[i + 1] == '*' && p[i + 2] == '>')
			return 1;
	}
	return 0;
}

static int
is_url(const char *p, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/')
			return 1;
	return 0;
}

static int
in_set(const char *set, char c)
{
	for (; *set; set++)
		if (*set == c)
			return 1;
	return 0;
}

static char *
put(char *o, const char *p, size_t n)
{
	memcpy(o, p, n);
	return o + n;
}

/*
 * Mask a token into o (room for 3n+3 bytes): the punctuation around it
 * stays ("(<*>)", "<*>,"), a key= keeps its key, and the parts between
 * colons are masked one by one ("<*>:<*>"); a path or URL is masked whole.
 * Returns the end of what was written.
 */
static char *
mask_token(char *o, const char *p, size_t n, int *wild)
{
	static const char lead_set[] = "([{<\"'", trail_set[] = ")]}>,;:.\"'!?";
	size_t lead = 0, trail = 0, cn;
	const char *c, *eq;

	if (!is_var(p, n))
		return put(o, p, n);
	while (lead < n && in_set(lead_set, p[lead]))
		lead++;
	while (trail < n - lead && in_set(trail_set, p[n - 1 - trail]))
		trail++;
	c = p + lead;
	cn = n - lead - trail;
	if (cn == 0 || !is_var(c, cn)) {
		*wild = memmem(p, n, WILD, 3) != NULL;
		return put(o, p, n);
	}
	*wild = 1;
	o = put(o, p, lead);
	eq = memchr(c, '=', cn);
	if (eq && eq > c && !has_digit(c, (size_t)(eq - c))) {
		size_t kl = (size_t)(eq + 1 - c);
		o = put(o, c, kl);
		c += kl;
		cn -= kl;
	}
	if (cn == 0 || c[0] == '/' || !memchr(c, ':', cn) || is_url(c, cn)) {
		o = cn && is_var(c, cn) ? put(o, WILD, 3) : put(o, c, cn);
	} else {
		for (size_t i = 0; ; ) {
			const char *q = memchr(c + i, ':', cn - i);
			size_t m = q ? (size_t)(q - (c + i)) : cn - i;
			o = is_var(c + i, m) ? put(o, WILD, 3) : put(o, c + i, m);
			if (!q)
				break;
			*o++ = ':';
			i += m + 1;
		}
	}
	return put(o, p + n - trail, trail);
}

/* Apply the user's expressions: every match becomes "<*>". Result in d->msg. */
static int
apply_masks(struct aiops_drain *d, const char *msg, size_t n, struct aiops_error *e)
{
	struct aiops_buf tmp = AIOPS_BUF_INIT;

	aiops_buf_reset(&d->msg);
	if (aiops_buf_add(&d->msg, msg, n) != AIOPS_OK || aiops_buf_addch(&d->msg, 0) != AIOPS_OK)
		return nomem(e);
	d->msg.len--;
	for (size_t k = 0; k < d->nre; k++) {
		const char *s = d->msg.buf;
		regmatch_t m;
		int flags = 0, any = 0;

		aiops_buf_reset(&tmp);
		while (*s && regexec(&d->re[k], s, 1, &m, flags) == 0) {
			if (m.rm_eo <= m.rm_so) {       /* empty match: step on */
				if (aiops_buf_addch(&tmp, *s) != AIOPS_OK)
					goto oom;
				s++;
			} else {
				if (aiops_buf_add(&tmp, s, (size_t)m.rm_so) != AIOPS_OK ||
				    aiops_buf_add(&tmp, " <*> ", 5) != AIOPS_OK)
					goto oom;
				s += m.rm_eo;
				any = 1;
			}
			flags = REG_NOTBOL;
		}
		if (!any)
			continue;
		if (aiops_buf_addstr(&tmp, s) != AIOPS_OK || aiops_buf_addch(&tmp, 0) != AIOPS_OK)
			goto oom;
		tmp.len--;
		struct aiops_buf sw = d->msg;
		d->msg = tmp;
		tmp = sw;
	}
	aiops_buf_release(&tmp);
	return AIOPS_OK;
oom:
	aiops_buf_release(&tmp);
	return nomem(e);
}

/* Cut d->msg into masked tokens: d->lt[0..*nt), text in d->norm. */
static int
tokenize(struct aiops_drain *d, const char *p, size_t n, size_t *nt, struct aiops_error *e)
{
	size_t k = 0, i = 0;
	char *base, *o;

	aiops_buf_reset(&d->norm);
	if (n > (SIZE_MAX - 16) / 3 || aiops_buf_grow(&d->norm, 3 * n + 16) != AIOPS_OK)
		return nomem(e);
	base = o = d->norm.buf;
	while (i < n) {
		size_t s;
		char *start;

		while (i < n && is_blank((unsigned char)p[i]))
			i++;
		if (i >= n)
			break;
		s = i;
		if (k == AIOPS_DRAIN_MAX_TOKENS - 1)
			i = n;          /* the rest is one token */
		else
			while (i < n && !is_blank((unsigned char)p[i]))
				i++;
		start = o;
		d->lt[k].wild = 0;
		o = mask_token(o, p + s, i - s, &d->lt[k].wild);
		d->loff[k] = (size_t)(start - base);
		d->lt[k].n = (uint32_t)(o - start);
		k++;
	}
	d->norm.len = (size_t)(o - base);
	for (size_t j = 0; j < k; j++) {
		struct tok *t = &d->lt[j];
		t->p = base + d->loff[j];
		t->h = hash(t->p, t->n);
	}
	*nt = k;
	return AIOPS_OK;
}

static int
tok_is_wild(const struct tok *t)
{
	return t->p == WILD || (t->n == 3 && memcmp(t->p, WILD, 3) == 0);
}

/* Goes down the "<*>" branch of the tree: a masked token, or one holding a mask. */
static int
tok_branches_wild(const struct tok *t)
{
	return t->p == WILD || t->wild;
}

static int
tok_eq(const struct tok *a, const struct tok *b)
{
	return a->h == b->h && a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* ---- the tree --------------------------------------------------------------- */

static struct node *
find_child(struct node *n, const struct tok *t)
{
	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i].h == t->h && n->kids[i].n == t->n &&
		    memcmp(n->kids[i].tok, t->p, t->n) == 0)
			return n->kids[i].node;
	return NULL;
}

/* The leaf for tokens lt[0..nt): NULL when the tree has none (search only). */
static struct node *
leaf_for(struct aiops_drain *d, const struct tok *lt, size_t nt, int create,
    struct aiops_error *e)
{
	struct node *n = d->bylen[nt], *c;
	size_t levels = (size_t)d->o.depth - 2;

	if (n == NULL) {
		if (!create)
			return NULL;
		if ((n = d->bylen[nt] = aiops_calloc(1, sizeof(*n))) == NULL)
			goto oom;
	}
	for (size_t i = 0; i < levels && i < nt; i++) {
		const struct tok *t = &lt[i];
		c = tok_branches_wild(t) ? NULL : find_child(n, t);
		if (c == NULL && !create) {
			if ((c = n->wild) == NULL)
				return NULL;
		} else if (c == NULL) {
			if (!tok_branches_wild(t) && n->nkids < (size_t)d->o.max_children) {
				if (n->nkids == n->kcap) {
					size_t nc = n->kcap ? n->kcap * 2 : 4;
					struct child *k = aiops_reallocarray(n->kids, nc, sizeof(*k));
					if (k == NULL)
						goto oom;
					n->kids = k;
					n->kcap = nc;
				}
				struct child *k = &n->kids[n->nkids];
				if ((k->tok = aiops_strndup(t->p, t->n)) == NULL)
					goto oom;
				if ((k->node = aiops_calloc(1, sizeof(struct node))) == NULL) {
					aiops_free(k->tok);
					goto oom;
				}
				k->h = t->h;
				k->n = t->n;
				n->nkids++;
				c = k->node;
			} else {
				if (n->wild == NULL && (n->wild = aiops_calloc(1, sizeof(*n))) == NULL)
					goto oom;
				c = n->wild;
			}
		}
		n = c;
	}
	return n;
oom:
	nomem(e);
	return NULL;
}

/* Best template of a leaf for the tokens, or -1. */
static long
best_match(struct aiops_drain *d, struct node *leaf, const struct tok *lt, size_t nt)
{
	long best = -1;
	double bsim = -1;
	size_t bpar = 0;

	for (size_t i = 0; i < leaf->nleaf; i++) {
		struct tmpl *T = &d->tp[leaf->leaf[i]];
		size_t eq = 0, par = 0;
		double s;

		for (size_t j = 0; j < nt; j++) {
			if (tok_is_wild(&T->t[j]))
				par++;
			if (tok_eq(&T->t[j], &lt[j]))
				eq++;
		}
		s = nt ? (double)eq / (double)nt : 1.0;
		if (s > bsim || (s == bsim && par > bpar)) {
			bsim = s;
			bpar = par;
			best = (long)leaf->leaf[i];
		}
	}
	if (best >= 0 && bsim + 1e-12 < d->o.sim)
		return -1;
	return best;
}

static int
new_template(struct aiops_drain *d, struct node *leaf, const struct tok *lt, size_t nt,
    uint32_t *id, struct aiops_error *e)
{
	struct tmpl *T;

	if (d->ntp >= d->o.max_templates)
		return aiops_error_set(e, AIOPS_ERR_LIMIT,
		    "more than %zu log templates (the limit; are variables masked?)",
		    d->o.max_templates);
	if (d->ntp == d->tpcap) {
		size_t nc = d->tpcap ? d->tpcap * 2 : 64;
		struct tmpl *p = aiops_reallocarray(d->tp, nc, sizeof(*p));
		if (p == NULL)
			return nomem(e);
		d->tp = p;
		d->tpcap = nc;
	}
	if (leaf->nleaf == leaf->lcap) {
		size_t nc = leaf->lcap ? leaf->lcap * 2 : 4;
		uint32_t *p = aiops_reallocarray(leaf->leaf, nc, sizeof(*p));
		if (p == NULL)
			return nomem(e);
		leaf->leaf = p;
		leaf->lcap = nc;
	}
	T = &d->tp[d->ntp];
	memset(T, 0, sizeof(*T));
	if ((T->t = aiops_calloc(nt ? nt : 1, sizeof(*T->t))) == NULL)
		return nomem(e);
	for (size_t j = 0; j < nt; j++) {
		T->t[j] = lt[j];
		if (tok_is_wild(&lt[j]))
			T->t[j].p = WILD;
		else if ((T->t[j].p = aiops_strndup(lt[j].p, lt[j].n)) == NULL) {
			for (size_t k = 0; k < j; k++)
				if (T->t[k].p != WILD)
					aiops_free((char *)T->t[k].p);
			aiops_free(T->t);
			return nomem(e);
		}
	}
	T->ntok = (uint32_t)nt;
	T->dirty = 1;
	leaf->leaf[leaf->nleaf++] = (uint32_t)d->ntp;
	*id = (uint32_t)d->ntp++;
	return AIOPS_OK;
}

static int
add_tokens(struct aiops_drain *d, size_t nt, uint32_t *id, int *created,
    struct aiops_error *e)
{
	struct node *leaf;
	long m = -1;
	int r;

	*created = 0;
	if ((leaf = leaf_for(d, d->lt, nt, 0, e)) != NULL)
		m = best_match(d, leaf, d->lt, nt);
	if (m >= 0) {
		struct tmpl *T = &d->tp[m];
		for (size_t j = 0; j < nt; j++)
			if (T->t[j].p != WILD && !tok_eq(&T->t[j], &d->lt[j])) {
				aiops_free((char *)T->t[j].p);
				T->t[j].p = WILD;
				T->t[j].n = 3;
				T->t[j].h = hash(WILD, 3);
				T->dirty = 1;
			}
		T->count++;
		*id = (uint32_t)m;
		return AIOPS_OK;
	}
	if ((leaf = leaf_for(d, d->lt, nt, 1, e)) == NULL)
		return e->code;
	if ((r = new_template(d, leaf, d->lt, nt, id, e)) != AIOPS_OK)
		return r;
	d->tp[*id].count = 1;
	*created = 1;
	return AIOPS_OK;
}

int
aiops_drain_add(struct aiops_drain *d, const char *msg, size_t n, uint32_t *id,
    int *created, struct aiops_error *e)
{
	size_t nt;
	int r;

	if (d->nre) {
		if ((r = apply_masks(d, msg, n, e)) != AIOPS_OK)
			return r;
		msg = d->msg.buf;
		n = d->msg.len;
	}
	if ((r = tokenize(d, msg, n, &nt, e)) != AIOPS_OK)
		return r;
	return add_tokens(d, nt, id, created, e);
}

size_t
aiops_drain_count(const struct aiops_drain *d)
{
	return d->ntp;
}

uint64_t
aiops_drain_occurrences(const struct aiops_drain *d, uint32_t id)
{
	return id < d->ntp ? d->tp[id].count : 0;
}

const char *
aiops_drain_template(const struct aiops_drain *d, uint32_t id)
{
	struct tmpl *T;
	size_t len = 0, k = 0;
	char *s;

	if (id >= d->ntp)
		return NULL;
	T = &d->tp[id];
	if (!T->dirty && T->text)
		return T->text;
	for (uint32_t j = 0; j < T->ntok; j++)
		len += T->t[j].n + 1;
	if ((s = aiops_malloc(len + 1)) == NULL)
		return NULL;
	for (uint32_t j = 0; j < T->ntok; j++) {
		if (j)
			s[k++] = ' ';
		memcpy(s + k, T->t[j].p, T->t[j].n);
		k += T->t[j].n;
	}
	s[k] = 0;
	aiops_free(T->text);
	T->text = s;
	T->dirty = 0;
	return s;
}

int
aiops_drain_save(const struct aiops_drain *d, struct aiops_buf *b, struct aiops_error *e)
{
	if (aiops_buf_addstr(b, "EventId,EventTemplate,Occurrences\n") != AIOPS_OK)
		return nomem(e);
	for (size_t i = 0; i < d->ntp; i++) {
		const char *t = aiops_drain_template(d, (uint32_t)i);
		if (t == NULL || aiops_buf_addf(b, "E%zu,", i + 1) != AIOPS_OK ||
		    aiops_buf_addcsv(b, t) != AIOPS_OK ||
		    aiops_buf_addf(b, ",%llu\n", (unsigned long long)d->tp[i].count) != AIOPS_OK)
			return nomem(e);
	}
	return AIOPS_OK;
}

int
aiops_drain_load(struct aiops_drain *d, struct aiops_src *src, struct aiops_error *e)
{
	struct aiops_csv c;
	int r, first = 1;

	if (d->ntp)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "templates loaded into a used miner");
	if ((r = aiops_csv_init(&c, src, e)) != AIOPS_OK)
		return r;
	while ((r = aiops_csv_next(&c, e)) == 1) {
		const char *name = aiops_src_name(src);
		char want[32];
		size_t nt;
		uint32_t id;
		struct node *leaf;

		if (first) {
			first = 0;
			if (c.nf >= 2 && strcmp(c.f[0].p, "EventId") == 0 &&
			    strcmp(c.f[1].p, "EventTemplate") == 0)
				continue;
			r = aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s:%ld: not a template file (expected the header EventId,EventTemplate)",
			    name, c.line);
			break;
		}
		snprintf(want, sizeof(want), "E%zu", d->ntp + 1);
		if (c.nf < 2 || strcmp(c.f[0].p, want) != 0) {
			r = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s:%ld:%ld: expected EventId %s",
			    name, c.line, c.nf ? c.f[0].col : 1L, want);
			break;
		}
		if ((r = tokenize(d, c.f[1].p, c.f[1].len, &nt, e)) != AIOPS_OK)
			break;
		if ((leaf = leaf_for(d, d->lt, nt, 1, e)) == NULL) {
			r = e->code;
			break;
		}
		if ((r = new_template(d, leaf, d->lt, nt, &id, e)) != AIOPS_OK) {
			aiops_error_prefix(e, "%s:%ld", name, c.line);
			break;
		}
		if (c.nf >= 3) {
			int64_t v;
			if (aiops_parse_i64(c.f[2].p, c.f[2].len, &v) != 0 || v < 0) {
				r = aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s:%ld:%ld: Occurrences: expected a count, got \"%s\"", name,
				    c.line, c.f[2].col, c.f[2].p);
				break;
			}
			d->tp[id].count = (uint64_t)v;
		}
	}
	aiops_csv_release(&c);
	return r < 0 ? r : AIOPS_OK;    /* an empty file is an empty dictionary */
}

/* ---- header formats ------------------------------------------------------------ */

void
aiops_logfmt_release(struct aiops_logfmt *f)
{
	for (size_t i = 0; i < f->nfields; i++)
		aiops_free(f->names[i]);
	for (size_t i = 0; i <= AIOPS_LOGFMT_MAX_FIELDS; i++)
		aiops_free(f->lit[i]);
	memset(f, 0, sizeof(*f));
}

int
aiops_logfmt_compile(struct aiops_logfmt *f, const char *fmt, struct aiops_error *e)
{
	struct aiops_buf lit = AIOPS_BUF_INIT;
	const char *p = fmt;

	memset(f, 0, sizeof(*f));
	f->content = f->level = -1;
	for (;;) {
		if (*p == '<' && p[1] && strchr(p + 1, '>')) {
			const char *q = strchr(p + 1, '>');
			size_t n = (size_t)(q - p - 1);
			if (n == 0)
				goto bad_name;
			for (size_t i = 1; i <= n; i++)
				if (!(p[i] == '_' || (p[i] >= 'A' && p[i] <= 'Z') ||
				    (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
					goto bad_name;
			if (f->nfields == AIOPS_LOGFMT_MAX_FIELDS) {
				aiops_buf_release(&lit);
				aiops_logfmt_release(f);
				return aiops_error_set(e, AIOPS_ERR_USAGE,
				    "log format: more than %d fields", AIOPS_LOGFMT_MAX_FIELDS);
			}
			if (f->nfields > 0 && lit.len == 0) {
				aiops_buf_release(&lit);
				aiops_logfmt_release(f);
				return aiops_error_set(e, AIOPS_ERR_USAGE,
				    "log format:%zu: two fields with nothing between them",
				    (size_t)(p - fmt) + 1);
			}
			f->litlen[f->nfields] = lit.len;
			f->lit[f->nfields] = aiops_buf_detach(&lit, NULL);
			if ((f->names[f->nfields] = aiops_strndup(p + 1, n)) == NULL ||
			    (f->lit[f->nfields] == NULL && (f->lit[f->nfields] = aiops_strdup("")) == NULL))
				goto oom;
			if (strcmp(f->names[f->nfields], "Content") == 0)
				f->content = (int)f->nfields;
			if (strcmp(f->names[f->nfields], "Level") == 0)
				f->level = (int)f->nfields;
			f->nfields++;
			p = q + 1;
			continue;
		}
		if (*p == 0)
			break;
		if (*p == '\\' && p[1])
			p++;
		else if (is_blank((unsigned char)*p)) {
			while (is_blank((unsigned char)p[1]))
				p++;
			if (aiops_buf_addch(&lit, ' ') != AIOPS_OK)
				goto oom;
			p++;
			continue;
		}
		if (aiops_buf_addch(&lit, *p) != AIOPS_OK)
			goto oom;
		p++;
	}
	f->litlen[f->nfields] = lit.len;
	f->lit[f->nfields] = aiops_buf_detach(&lit, NULL);
	if (f->lit[f->nfields] == NULL && (f->lit[f->nfields] = aiops_strdup("")) == NULL)
		goto oom;
	if (f->content < 0) {
		aiops_logfmt_release(f);
		return aiops_error_set(e, AIOPS_ERR_USAGE, "log format \"%s\": no <Content> field", fmt);
	}
	return AIOPS_OK;
bad_name:
	aiops_buf_release(&lit);
	aiops_logfmt_release(f);
	return aiops_error_set(e, AIOPS_ERR_USAGE,
	    "log format:%zu: a field name is letters, digits and _ between < and >",
	    (size_t)(p - fmt) + 1);
oom:
	aiops_buf_release(&lit);
	aiops_logfmt_release(f);
	return nomem(e);
}

/* Match literal text (a blank matches one or more blanks) at *i; 0 on a miss. */
static int
match_lit(const char *lit, size_t ll, const char *s, size_t n, size_t *i)
{
	size_t k = *i;

	for (size_t j = 0; j < ll; j++) {
		if (lit[j] == ' ') {
			if (k >= n || !is_blank((unsigned char)s[k]))
				return 0;
			while (k < n && is_blank((unsigned char)s[k]))
				k++;
		} else if (k < n && s[k] == lit[j])
			k++;
		else
			return 0;
	}
	*i = k;
	return 1;
}

size_t
aiops_logfmt_split(const struct aiops_logfmt *f, const char *s, size_t n,
    struct aiops_field *out)
{
	size_t i = 0;

	if (!match_lit(f->lit[0], f->litlen[0], s, n, &i))
		return 1;
	for (size_t k = 0; k < f->nfields; k++) {
		const char *lit = f->lit[k + 1];
		size_t ll = f->litlen[k + 1], start = i;

		if (k + 1 == f->nfields) {
			/* the last field: the rest, less the trailing literal text */
			size_t end = n;
			while (end > i && is_blank((unsigned char)s[end - 1]))
				end--;
			if (ll) {
				size_t t = end;
				const char *tl = lit;
				size_t tll = ll;
				while (tll && tl[tll - 1] == ' ')
					tll--;
				if (tll > t - i || memcmp(s + t - tll, tl, tll) != 0)
					return i + 1;
				end = t - tll;
			}
			out[k].p = s + start;
			out[k].n = end - start;
			return 0;
		}
		/* first place after i where the literal text matches */
		for (;; i++) {
			size_t j = i;
			if (i >= n)
				return start + 1;
			if ((lit[0] == ' ' ? is_blank((unsigned char)s[i]) : s[i] == lit[0]) &&
			    match_lit(lit, ll, s, n, &j)) {
				out[k].p = s + start;
				out[k].n = i - start;
				i = j;
				break;
			}
		}
	}
	return 0;
}
