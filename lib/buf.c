/* buf.c - the growable buffer (see base.h for its rules). */
#include <stdio.h>
#include <string.h>

#include "base.h"

int
aiops_buf_grow(struct aiops_buf *b, size_t extra)
{
	size_t want, n;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return AIOPS_ERR_NOMEM;
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return AIOPS_OK;
	n = b->alloc ? b->alloc : 64;
	while (n < want)
		n = n > SIZE_MAX / 2 ? want : n * 2;
	if ((p = aiops_realloc(b->buf, n)) == NULL)
		return AIOPS_ERR_NOMEM;
	if (b->buf == NULL)
		p[0] = '\0';
	b->buf = p;
	b->alloc = n;
	return AIOPS_OK;
}

int
aiops_buf_add(struct aiops_buf *b, const void *data, size_t n)
{
	if (aiops_buf_grow(b, n) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return AIOPS_OK;
}

int
aiops_buf_addstr(struct aiops_buf *b, const char *s)
{
	return aiops_buf_add(b, s, strlen(s));
}

int
aiops_buf_addch(struct aiops_buf *b, int c)
{
	char ch = (char)c;

	return aiops_buf_add(b, &ch, 1);
}

int
aiops_buf_vaddf(struct aiops_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (aiops_buf_grow(b, 64) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return AIOPS_ERR_IO;
	if ((size_t)n >= b->alloc - b->len) {
		if (aiops_buf_grow(b, (size_t)n) != AIOPS_OK) {
			b->buf[b->len] = '\0';
			return AIOPS_ERR_NOMEM;
		}
		vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
	return AIOPS_OK;
}

int
aiops_buf_addf(struct aiops_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = aiops_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
aiops_buf_reset(struct aiops_buf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void
aiops_buf_release(struct aiops_buf *b)
{
	aiops_free(b->buf);
	b->buf = NULL;
	b->len = b->alloc = 0;
}

char *
aiops_buf_detach(struct aiops_buf *b, size_t *len)
{
	char *s = b->buf;

	if (s == NULL)
		s = aiops_strdup("");
	if (len)
		*len = b->len;
	b->buf = NULL;
	b->len = b->alloc = 0;
	return s;
}

int
aiops_buf_addcsv(struct aiops_buf *b, const char *s)
{
	int r = AIOPS_OK;

	if (strpbrk(s, ",\"\r\n") == NULL)
		return aiops_buf_addstr(b, s);
	r |= aiops_buf_addch(b, '"');
	for (; *s && r == AIOPS_OK; s++) {
		if (*s == '"')
			r |= aiops_buf_addch(b, '"');
		r |= aiops_buf_addch(b, *s);
	}
	r |= aiops_buf_addch(b, '"');
	return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
}

/*
 * Length of the UTF-8 sequence at u if it encodes a character XML 1.0
 * allows, else 0. Overlong forms, surrogates, U+FFFE and U+FFFF are refused.
 */
static int
utf8_len(const unsigned char *u)
{
	unsigned char c = u[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (u[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		if (u[1] < lo || u[1] > hi || (u[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xEF && u[1] == 0xBF && (u[2] == 0xBE || u[2] == 0xBF))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		if (u[1] < lo || u[1] > hi || (u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

int
aiops_buf_addxml(struct aiops_buf *b, const char *s, size_t maxcp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t ncp = 0;
	int len, r = AIOPS_OK;

	while (*u != '\0') {
		if (maxcp && ncp == maxcp) {
			r |= aiops_buf_add(b, "\xE2\x80\xA6", 3);
			break;
		}
		ncp++;
		if ((len = utf8_len(u)) == 0) {
			r |= aiops_buf_add(b, "\xEF\xBF\xBD", 3);
			u++;
			continue;
		}
		if (len > 1) {
			r |= aiops_buf_add(b, (const char *)u, (size_t)len);
			u += len;
			continue;
		}
		switch (*u) {
		case '&': r |= aiops_buf_add(b, "&amp;", 5); break;
		case '<': r |= aiops_buf_add(b, "&lt;", 4); break;
		case '>': r |= aiops_buf_add(b, "&gt;", 4); break;
		case '"': r |= aiops_buf_add(b, "&quot;", 6); break;
		case '\'': r |= aiops_buf_add(b, "&#39;", 5); break;
		case '\t': case '\n': case '\r': r |= aiops_buf_add(b, " ", 1); break;
		default:
			if (*u < 0x20)
				r |= aiops_buf_add(b, "\xEF\xBF\xBD", 3);
			else
				r |= aiops_buf_add(b, (const char *)u, 1);
		}
		u++;
	}
	return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
}
