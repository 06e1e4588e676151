/* parse.c - numbers, timestamps and durations as text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

const double aiops_pow10[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
ieq(const char *s, size_t n, const char *w)
{
	size_t m = strlen(w);

	if (n != m)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return 0;
	}
	return 1;
}

/* Four ASCII digits at p as a number, or -1 if they are not all digits (SWAR). */
static inline int
four_digits(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (((v & 0xF0F0F0F0u) | (((v + 0x06060606u) & 0xF0F0F0F0u) >> 4)) != 0x33333333u)
		return -1;
	v = ((v & 0x0F0F0F0Fu) * 2561) >> 8;
	v = ((v & 0x00FF00FFu) * 6553601) >> 16;
	return (int)v;
#else
	return -1;
#endif
}

/* Accumulate the digits at q into *m, four at a time where possible. */
static inline const char *
digit_run(const char *q, const char *end, uint64_t *m)
{
	uint64_t v = *m;
	int k;

	while (end - q >= 4 && (k = four_digits(q)) >= 0) {
		v = v * 10000 + (uint64_t)k;
		q += 4;
	}
	while (q < end && (unsigned)(*q - '0') < 10)
		v = v * 10 + (uint64_t)(*q++ - '0');
	*m = v;
	return q;
}

int
aiops_parse_decimal_fast(const char *s, const char *end, uint64_t *mp, int *fracp,
    int *negp, const char **endp)
{
	const char *p = s, *q, *d0;
	uint64_t m = 0;
	int neg = 0, frac = 0, dot = 0;

	if (p < end && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	d0 = p;
	q = digit_run(p, end, &m);
	if (q < end && *q == '.') {
		const char *f = ++q;
		dot = 1;
		q = digit_run(q, end, &m);
		frac = (int)(q - f);
	}
	*endp = q;
	*mp = m;
	*fracp = frac;
	*negp = neg;
	return q - d0 - dot > 0 && q - d0 - dot <= 19 && m <= (1ULL << 53) && frac <= 22 ? 0 : -1;
}

int
aiops_parse_double_fast(const char *s, const char *end, double *out, const char **endp)
{
	uint64_t m;
	int frac, neg;

	if (aiops_parse_decimal_fast(s, end, &m, &frac, &neg, endp) != 0)
		return -1;
	*out = aiops_decimal_value(m, frac, neg);
	return 0;
}

int
aiops_parse_double(const char *s, size_t len, double *out)
{
	const char *p = s, *end = s + len, *q;
	int neg = 0;

	/* plain decimals, the common case, are done by the correctly rounded fast path */
	if (aiops_parse_double_fast(s, end, out, &q) == 0 && q == end)
		return 0;
	/* general path: blanks, exponents, long mantissas, nan, inf */
	p = s;
	neg = 0;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end)
		return -1;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	{
		size_t n = (size_t)(end - p);
		char tmp[128];
		char *e;
		double v;

		if (ieq(p, n, "nan")) {
			*out = NAN;
			return 0;
		}
		if (ieq(p, n, "inf") || ieq(p, n, "infinity")) {
			*out = neg ? -INFINITY : INFINITY;
			return 0;
		}
		if (n == 0 || n >= sizeof(tmp))
			return -1;
		/* strtod accepts hex floats and more; allow only decimal forms */
		for (size_t i = 0; i < n; i++) {
			char c = p[i];
			if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
			    ((c == '-' || c == '+') && i > 0 && (p[i - 1] == 'e' || p[i - 1] == 'E'))))
				return -1;
		}
		memcpy(tmp, p, n);
		tmp[n] = '\0';
		v = strtod(tmp, &e);
		if (e != tmp + n || e == tmp)
			return -1;
		*out = neg ? -v : v;
		return 0;
	}
}

int
aiops_parse_i64(const char *s, size_t len, int64_t *out)
{
	const char *p = s, *end = s + len;
	uint64_t v = 0;
	int neg = 0;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
int64_t
aiops_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
digits(const char **pp, const char *end, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (*pp >= end || **pp < '0' || **pp > '9')
			return -1;
		v = v * 10 + (*(*pp)++ - '0');
	}
	*out = v;
	return 0;
}

int
aiops_days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int
aiops_looks_like_datetime(const char *s, size_t len)
{
	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	return len >= 10 && s[4] == '-' && s[7] == '-' &&
	    s[0] >= '0' && s[0] <= '9' && s[5] >= '0' && s[5] <= '9';
}

int
aiops_parse_time(const char *s, size_t len, int unit, int64_t *ms)
{
	const char *p = s, *end = s + len;
	int y, mo, d, hh = 0, mi = 0, ss = 0, msec = 0;
	int64_t t;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (!aiops_looks_like_datetime(p, (size_t)(end - p))) {
		double v;
		if (aiops_parse_double(p, (size_t)(end - p), &v) != 0 || !isfinite(v))
			return -1;
		if (unit == AIOPS_TIME_MS || (unit == AIOPS_TIME_AUTO && fabs(v) >= 1e11))
			v = round(v);
		else
			v = round(v * 1000.0);
		if (fabs(v) > 9.2e18)
			return -1;
		*ms = (int64_t)v;
		return 0;
	}
	if (digits(&p, end, 4, &y) || *p++ != '-' || digits(&p, end, 2, &mo) ||
	    p >= end || *p++ != '-' || digits(&p, end, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > aiops_days_in_month(y, mo))
		return -1;
	if (p < end && (*p == 'T' || *p == ' ')) {
		p++;
		if (digits(&p, end, 2, &hh) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi))
			return -1;
		if (p < end && *p == ':') {
			p++;
			if (digits(&p, end, 2, &ss))
				return -1;
			if (p < end && (*p == '.' || *p == ',')) {
				int scale = 100;
				p++;
				if (p >= end || *p < '0' || *p > '9')
					return -1;
				while (p < end && *p >= '0' && *p <= '9') {
					msec += (*p - '0') * scale;
					scale /= 10;
					p++;
				}
			}
		}
		if (hh > 23 || mi > 59 || ss > 60)
			return -1;
	}
	t = aiops_days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss;
	if (p < end) {
		if (*p == 'Z' && p + 1 == end) {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
			if (digits(&p, end, 2, &oh))
				return -1;
			if (p < end && *p == ':')
				p++;
			if (p < end && digits(&p, end, 2, &om))
				return -1;
			if (p != end || oh > 23 || om > 59)
				return -1;
			t -= sign * (oh * 3600 + om * 60);
		} else {
			return -1;
		}
	}
	*ms = t * 1000 + msec;
	return 0;
}

void
aiops_format_time(int64_t ms, char *out, size_t outsz)
{
	/* floor division by remainders: -ms would overflow at INT64_MIN */
	int64_t secs = ms / 1000 - (ms % 1000 < 0);
	int64_t frac = (ms % 1000 + 1000) % 1000, days, y, rem;
	int m, d;

	days = secs / 86400 - (secs % 86400 < 0);
	rem = (secs % 86400 + 86400) % 86400;
	civil_from_days(days, &y, &m, &d);
	if (frac)
		snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
		    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
	else
		snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
		    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

int
aiops_parse_duration(const char *s, int64_t *ms)
{
	size_t n = strlen(s), k = n;
	double v, mul = 1000;

	while (k > 0 && ((s[k - 1] >= 'a' && s[k - 1] <= 'z')))
		k--;
	if (k == n)
		mul = 1000;
	else if (strcmp(s + k, "ms") == 0)
		mul = 1;
	else if (strcmp(s + k, "s") == 0)
		mul = 1000;
	else if (strcmp(s + k, "m") == 0)
		mul = 60e3;
	else if (strcmp(s + k, "h") == 0)
		mul = 3600e3;
	else if (strcmp(s + k, "d") == 0)
		mul = 86400e3;
	else if (strcmp(s + k, "w") == 0)
		mul = 7 * 86400e3;
	else
		return -1;
	if (aiops_parse_double(s, k, &v) != 0 || !isfinite(v) || v <= 0)
		return -1;
	v = round(v * mul);
	if (v < 1 || v > 9e18)
		return -1;
	*ms = (int64_t)v;
	return 0;
}

int
aiops_format_double(double v, int is_float, char *out, size_t outsz)
{
	int n = 0;

	if (isnan(v)) {
		out[0] = '\0';
		return 0;
	}
	if (isinf(v))
		return snprintf(out, outsz, "%s", v < 0 ? "-inf" : "inf");
	if (v == 0)
		return snprintf(out, outsz, "%s", signbit(v) ? "-0" : "0");
	for (int prec = is_float ? 6 : 15; prec <= (is_float ? 9 : 17); prec++) {
		n = snprintf(out, outsz, "%.*g", prec, v);
		if (is_float ? (float)strtod(out, NULL) == (float)v : strtod(out, NULL) == v)
			return n;
	}
	return n;
}
