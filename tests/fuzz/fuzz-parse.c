/*
 * fuzz-parse.c - the text forms of lib/parse.c, each checked against an
 * independent reference: aiops_parse_double() against strtod() (the header
 * promises equal, correctly rounded results), aiops_parse_i64() against
 * strtoll(), aiops_parse_time() against its own printing (a date-time read,
 * printed and read again gives the same milliseconds), and
 * aiops_format_double() by reading its output back, and
 * aiops_parse_fields() (the vector path of wide CSV) at every level against
 * aiops_parse_decimal_field() and strtod(). The input is the text;
 * its first 8 bytes are also taken as a double and as an int64 for the
 * printers.
 */
#include <math.h>

#include "aiops.h"
#include "fuzz.h"

static int
same_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static void
check_double(const char *s, size_t n)
{
	double v, ref;
	const char *p = s, *end = s + n;
	char *tmp, *e;

	if (aiops_parse_double(s, n, &v) != 0)
		return;
	/* the same text, blanks trimmed, through libc */
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	tmp = fz_str((const uint8_t *)p, (size_t)(end - p));
	ref = strtod(tmp, &e);
	if (*e != '\0' || e == tmp) {
		fprintf(stderr, "aiops_parse_double accepted \"%s\", strtod does not\n", tmp);
		abort();
	}
	if (!same_double(v, ref)) {
		fprintf(stderr, "aiops_parse_double(\"%s\") = %.17g, strtod = %.17g\n", tmp, v, ref);
		abort();
	}
	free(tmp);
}

static void
check_i64(const char *s, size_t n)
{
	int64_t v;
	long long ref;
	const char *p = s, *end = s + n;
	char *tmp, *e;

	if (aiops_parse_i64(s, n, &v) != 0)
		return;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	tmp = fz_str((const uint8_t *)p, (size_t)(end - p));
	errno = 0;
	ref = strtoll(tmp, &e, 10);
	if (*e != '\0' || errno != 0 || ref != v) {
		fprintf(stderr, "aiops_parse_i64(\"%s\") = %lld, strtoll = %lld\n", tmp, (long long)v, ref);
		abort();
	}
	free(tmp);
}

static void
check_time(const char *s, size_t n)
{
	int64_t ms, again;
	char out[64];

	for (int unit = 0; unit <= 2; unit++)
		if (aiops_parse_time(s, n, unit, &ms) == 0 && unit == AIOPS_TIME_AUTO &&
		    aiops_looks_like_datetime(s, n)) {
			aiops_format_time(ms, out, sizeof(out));
			if (aiops_parse_time(out, strlen(out), AIOPS_TIME_AUTO, &again) != 0 ||
			    again != ms) {
				fprintf(stderr, "time %lld printed as %s does not read back\n",
				    (long long)ms, out);
				abort();
			}
		}
}

static void
check_format(const uint8_t *data, size_t size)
{
	double v, back;
	int64_t ms;
	char out[64];
	int n;

	if (size < 8)
		return;
	memcpy(&v, data, 8);
	memcpy(&ms, data, 8);
	for (int is_float = 0; is_float <= 1; is_float++) {
		double w = is_float ? (double)(float)v : v;
		if (is_float && isfinite(v) && fabs(v) > 3.4e38)
			continue;
		n = aiops_format_double(w, is_float, out, sizeof(out));
		if (n < 0 || (size_t)n >= sizeof(out) || strlen(out) != (size_t)n)
			abort();
		if (isnan(w)) {
			if (n != 0)
				abort();
			continue;
		}
		if (aiops_parse_double(out, (size_t)n, &back) != 0 ||
		    (is_float ? (float)back != (float)w : !same_double(back, w))) {
			fprintf(stderr, "%.17g printed as \"%s\" does not read back\n", w, out);
			abort();
		}
	}
	aiops_format_time(ms, out, sizeof(out));
	if (strlen(out) >= sizeof(out) - 1)
		abort();
}

/*
 * aiops_parse_fields() on the input as one comma-separated line, from a
 * first field the input picks, at every level the processor has: a field
 * is taken only when aiops_parse_decimal_field() takes it and it has 1 to
 * 8 digits and point after its sign (none at AIOPS_SIMD_NONE), and then its
 * value is strtod's. A field left out is only slower (the caller parses it
 * one by one): eight fields longer than the AVX-512 window are all left
 * out. test-parse checks that the short ones are all taken. s is an
 * exact-size heap copy: a read past the line is caught.
 */
static void
check_fields(const char *s, size_t n)
{
	uint32_t fend[260];
	double out[260];
	uint8_t ok[33];
	size_t nd = aiops_csv_delims(s, n, ',', fend, 258), nf, f0;

	if (nd >= 258 || n > UINT32_MAX)
		return;
	nf = nd + 1;
	fend[nf - 1] = (uint32_t)n;
	f0 = n > 0 ? (unsigned char)s[0] % nf : 0;
	for (int level = AIOPS_SIMD_NONE; level <= aiops_fields_simd(); level++) {
		memset(ok, 0xff, sizeof(ok));
		aiops_parse_fields(level, s, n, fend, f0, nf, out, ok);
		for (size_t fi = f0; fi < nf; fi++) {
			const char *f = s + (fi ? fend[fi - 1] + 1 : 0), *fe = s + fend[fi];
			size_t k = fi - f0, digits = (size_t)(fe - f) -
			    (f < fe && (*f == '-' || *f == '+'));
			uint64_t m;
			int fr, ng, got = ok[k / 8] >> (k % 8) & 1;
			int want = level > AIOPS_SIMD_NONE &&
			    aiops_parse_decimal_field(f, fe, &m, &fr, &ng) == 0 &&
			    digits >= 1 && digits <= 8;
			char *z, *e;
			double ref;

			if (got && !want) {
				fprintf(stderr, "aiops_parse_fields at level %d: field %zu \"%.*s\" "
				    "taken %d, wanted %d\n", level, fi, (int)(fe - f), f, got, want);
				abort();
			}
			if (!got)
				continue;
			z = fz_str((const uint8_t *)f, (size_t)(fe - f));
			ref = strtod(z, &e);
			if (*e != '\0' || !same_double(out[k], ref)) {
				fprintf(stderr, "aiops_parse_fields at level %d: \"%s\" = %.17g, "
				    "strtod = %.17g\n", level, z, out[k], ref);
				abort();
			}
			free(z);
		}
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size heap copy, so that reading past the end is caught */
	char *s = malloc(size ? size : 1);
	char *z = fz_str(data, size);
	int64_t ms;
	const char *endp;
	double v;

	fz_begin(data, size);
	memcpy(s, data, size);
	check_double(s, size);
	check_i64(s, size);
	check_time(s, size);
	check_fields(s, size);
	if (aiops_parse_double_fast(s, s + size, &v, &endp) == 0 && (endp < s || endp > s + size))
		abort();
	if (aiops_parse_duration(z, &ms) == 0 && ms < 1)
		abort();
	check_format(data, size);
	free(s);
	free(z);
	fz_end();
	return 0;
}
