/*
 * parse.h - the text forms of numbers, timestamps and durations, and their
 * shortest round-trip printing.
 */
#ifndef AIOPS_PARSE_H
#define AIOPS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a C-locale decimal number (sign, digits, point, exponent, "nan",
 * "inf", "infinity", any case) from s[0..len); surrounding blanks are
 * allowed. Correctly rounded, so equal to strtod and numpy. 0 ok, -1 bad.
 */
int aiops_parse_double(const char *s, size_t len, double *out);

/*
 * The fast path alone: parse a plain decimal ([-+]digits[.digits], at most
 * 19 digits) at s, stopping at the first other byte; *endp gets where it
 * stopped. 0 ok, -1 when the text needs aiops_parse_double().
 */
int aiops_parse_double_fast(const char *s, const char *end, double *out, const char **endp);

/*
 * The fast path in two halves, so that a caller parsing many fields can
 * do the divisions together: aiops_parse_decimal_fast() stores the digits
 * as an integer *m, the sign in *neg and the count of fraction digits in
 * *frac; aiops_decimal_value() makes the double.
 */
int aiops_parse_decimal_fast(const char *s, const char *end, uint64_t *m, int *frac,
    int *neg, const char **endp);
extern const double aiops_pow10[23];       /* 1e0 .. 1e22, exact */

static inline double
aiops_decimal_value(uint64_t m, int frac, int neg)
{
	/* both exact (m <= 2^53, frac <= 22): one correctly rounded division */
	double v = (double)m / aiops_pow10[frac];

	return neg ? -v : v;
}

/*
 * A whole field s[0..end) as one plain decimal, its digits and sign as
 * above: 0 when the field is exactly that, -1 otherwise (the caller then
 * takes its careful path). Inline, and with the end known beforehand, so
 * that the fields of a row are parsed independently of each other.
 */
static inline int
aiops_parse_decimal_field(const char *s, const char *end, uint64_t *m, int *frac, int *neg)
{
	const char *p = s + (s < end && (*s == '-' || *s == '+')), *dot = NULL, *q;
	uint64_t v = 0;

	if (end - p > 16 || end == p)
		return aiops_parse_decimal_fast(s, end, m, frac, neg, &q) == 0 && q == end ? 0 : -1;
	for (q = p; q < end; q++) {
		unsigned d = (unsigned)((unsigned char)*q - '0');
		if (d < 10)
			v = v * 10 + d;
		else if (*q == '.' && dot == NULL)
			dot = q;
		else
			return -1;
	}
	if (dot != NULL && end - p == 1)
		return -1;      /* a point alone */
	*m = v;
	*frac = dot != NULL ? (int)(end - dot - 1) : 0;
	*neg = *s == '-';
	return v <= (1ULL << 53) ? 0 : -1;
}

/*
 * The fields f0 .. nf-1 of a delimited line, eight at a time with AVX-512,
 * four with AVX2 (lib/fields.c): fend[0..nf) are the fields' end offsets in
 * line[0..len) (field i starts after the delimiter at fend[i - 1], field 0
 * at 0). Where field f0 + k is a plain decimal of at most 8 digits and point
 * after its sign, out[k] gets its value (the same double as
 * aiops_decimal_value()) and bit k % 8 of ok[k / 8] is set; other fields are
 * left to the caller, and their out[k] may be overwritten. Nothing outside
 * line[0..len) is read. level is aiops_fields_simd()'s (never more than the
 * processor has is used); at AIOPS_SIMD_NONE it only clears ok.
 * aiops_fields_simd() is the best level the processor has, or less when the
 * environment says so: AIOPS_SIMD=none or avx2.
 */
enum { AIOPS_SIMD_NONE = 0, AIOPS_SIMD_AVX2 = 1, AIOPS_SIMD_AVX512 = 2 };
int aiops_fields_simd(void);
void aiops_parse_fields(int level, const char *line, size_t len, const uint32_t *fend,
    size_t f0, size_t nf, double *out, uint8_t *ok);

/* Parse a signed decimal integer with range check. 0 ok, -1 bad. */
int aiops_parse_i64(const char *s, size_t len, int64_t *out);

enum aiops_time_unit { AIOPS_TIME_AUTO = 0, AIOPS_TIME_S = 1, AIOPS_TIME_MS = 2 };

/*
 * Parse a timestamp into milliseconds since the Unix epoch: epoch seconds
 * or milliseconds (unit; AUTO takes |v| >= 1e11 as milliseconds),
 * YYYY-MM-DD, YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+hh:mm|-hh:mm|+hhmm].
 * No zone means UTC. 0 ok, -1 bad.
 */
/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), and the days of month m of year y. */
int64_t aiops_days_from_civil(int64_t y, int m, int d);
int aiops_days_in_month(int y, int m);
int aiops_parse_time(const char *s, size_t len, int unit, int64_t *ms);

/* True if s looks like a calendar date-time (not a bare number). */
int aiops_looks_like_datetime(const char *s, size_t len);

/* Format ms as YYYY-MM-DDTHH:MM:SS[.fff]Z into out (>= 32 bytes). */
void aiops_format_time(int64_t ms, char *out, size_t outsz);

/*
 * Parse a duration: a positive number with an optional unit ms, s, m, h, d,
 * w (none = seconds), e.g. "500ms", "15s", "1.5h". 0 ok, -1 bad or <= 0.
 */
int aiops_parse_duration(const char *s, int64_t *ms);

/*
 * Print v as the shortest decimal that reads back to the same double
 * (float when is_float): at most 25 bytes. NaN prints as "" (missing),
 * infinities as "inf" and "-inf". Returns the length.
 */
int aiops_format_double(double v, int is_float, char *out, size_t outsz);

#endif
