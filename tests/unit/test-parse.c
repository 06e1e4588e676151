/* test-parse.c - numbers, timestamps and durations against independent references. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"

static int
same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/*
 * The plain-decimal grammar of aiops_parse_decimal_fast() written out byte
 * by byte, as a reference for its word-at-a-time paths.
 */
static int
ref_decimal(const char *s, const char *end, uint64_t *m, int *frac, int *neg,
    const char **endp)
{
	const char *p = s;
	int nd = 0, dot = 0;

	*m = 0;
	*frac = 0;
	*neg = 0;
	if (p < end && (*p == '-' || *p == '+'))
		*neg = *p++ == '-';
	for (; p < end; p++) {
		if (*p >= '0' && *p <= '9') {
			*m = *m * 10 + (uint64_t)(*p - '0');
			nd++;
			*frac += dot;
		} else if (*p == '.' && !dot) {
			dot = 1;
		} else {
			break;
		}
	}
	*endp = p;
	return nd > 0 && nd <= 19 && *m <= (1ULL << 53) && *frac <= 22 ? 0 : -1;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * aiops_parse_fields() at level on random lines of plain decimals,
 * near-decimals and junk, from a random first field: a field's bit is set
 * exactly when aiops_parse_decimal_field() takes it and it has at most 8
 * digits and point after its sign (none at AIOPS_SIMD_NONE), and then the
 * value is the same double. Each line sits at the very end of a page
 * followed by an inaccessible one, or at the very start after one, so that
 * a read outside it would crash the test. Returns the count of wrong
 * fields, -1 when the pages cannot be had.
 */
static int
check_fields(int level, uint64_t *seed, long *taken, long *fields)
{
	static const char junk[] = "0123456789..-+e xn,";
	long pg = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int wrong = 0;

	if (map == MAP_FAILED)
		return -1;
	if (mprotect(map, (size_t)pg, PROT_NONE) != 0 ||
	    mprotect(map + 3 * pg, (size_t)pg, PROT_NONE) != 0) {
		munmap(map, (size_t)pg * 4);
		return -1;
	}
	for (int i = 0; i < 60000; i++) {
		char text[2048], *line;
		uint32_t fend[80];
		double out[80];
		uint8_t okb[10];
		size_t len = 0, nf = 1 + xorshift(seed) % 70, nd, f0;
		for (size_t f = 0; f < nf; f++) {
			uint64_t r = xorshift(seed);
			size_t n = (size_t)(r % 12);
			if (f > 0)
				text[len++] = ',';
			if (r & (1u << 8))
				text[len++] = (r & (1u << 9)) ? '-' : '+';
			for (size_t k = 0; k < n; k++) {
				uint64_t c = xorshift(seed);
				char ch = (char)('0' + c % 10);
				if ((r >> 10) % 4 == 0)     /* a junk field */
					ch = junk[c % (sizeof(junk) - 2)];
				else if (c % 7 == 0 && memchr(text + len - k, '.', k) == NULL)
					ch = '.';           /* digits, and at most one point */
				text[len++] = ch;
			}
		}
		/* at the end of page 3, or at the start of page 2 */
		line = (i & 1) ? map + 3 * pg - len : map + pg;
		memcpy(line, text, len);
		nd = aiops_csv_delims(line, len, ',', fend, 79);
		if (nd >= 79)
			continue;
		nf = nd + 1;
		fend[nf - 1] = (uint32_t)len;
		f0 = xorshift(seed) % nf;
		memset(okb, 0xff, sizeof(okb));
		aiops_parse_fields(level, line, len, fend, f0, nf, out, okb);
		for (size_t fi = f0; fi < nf; fi++) {
			const char *f = line + (fi ? fend[fi - 1] + 1 : 0), *fe = line + fend[fi];
			size_t k = fi - f0;
			size_t digits = (size_t)(fe - f) - (f < fe && (*f == '-' || *f == '+'));
			uint64_t m;
			int fr, ng, got = okb[k / 8] >> (k % 8) & 1;
			int want = level > AIOPS_SIMD_NONE &&
			    aiops_parse_decimal_field(f, fe, &m, &fr, &ng) == 0 &&
			    digits >= 1 && digits <= 8;
			(*fields)++;
			*taken += got;
			if (got != want || (got && !same_bits(out[k], aiops_decimal_value(m, fr, ng)))) {
				if (wrong++ < 5)
					diag("field \"%.*s\": taken %d, wanted %d, value %.17g",
					    (int)(fe - f), f, got, want, out[k]);
			}
		}
	}
	munmap(map, (size_t)pg * 4);
	return wrong;
}

int
main(void)
{
	static const char *cases[] = {
		"0", "1", "-1", "0.1", "0.123456", "-0.000001", "123456789.123456789",
		"9007199254740993", "1e10", "1E-5", "2.5e+3", "  42  ", "+7", ".5", "5.",
		"0.30000000000000004", "1.7976931348623157e308", "4.9e-324",
		"123456789012345678901234567890", "0.000000000000000000000000001", NULL
	};
	static const char *bad[] = { "", "-", ".", "1.2.3", "abc", "0x10", "1e", "--1",
		"1,5", "n/a", "1 2", NULL };
	double v;
	int64_t ms, i64;
	char buf[64];
	uint64_t seed = 88172645463325252ULL;

	for (int i = 0; cases[i]; i++) {
		double want = strtod(cases[i], NULL);
		ok(aiops_parse_double(cases[i], strlen(cases[i]), &v) == 0 && same_bits(v, want),
		    "parse \"%s\" equals strtod", cases[i]);
	}
	for (int i = 0; bad[i]; i++)
		ok(aiops_parse_double(bad[i], strlen(bad[i]), &v) != 0, "reject \"%s\"", bad[i]);
	ok(aiops_parse_double("nan", 3, &v) == 0 && v != v, "nan");
	ok(aiops_parse_double("-Inf", 4, &v) == 0 && v < 0 && v * 0 != 0, "-Inf");

	/* random decimals with 1..17 digits: bit-identical to strtod (correct rounding) */
	{
		int mismatches = 0;
		for (int i = 0; i < 200000; i++) {
			int n, d, fr;
			seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
			d = 1 + (int)(seed % 17);
			fr = (int)((seed >> 8) % (unsigned)(d + 1));
			n = 0;
			if (seed & (1u << 20))
				buf[n++] = '-';
			for (int k = 0; k < d; k++) {
				if (k == d - fr && fr > 0) {
					if (k == 0)
						buf[n++] = '0';
					buf[n++] = '.';
				}
				buf[n++] = (char)('0' + (seed >> (k * 3 % 50)) % 10);
			}
			buf[n] = '\0';
			if (aiops_parse_double(buf, (size_t)n, &v) != 0 || !same_bits(v, strtod(buf, NULL))) {
				if (mismatches++ < 5)
					diag("mismatch on %s", buf);
			}
		}
		is_int(mismatches, 0, "200000 random decimals parse bit-identical to strtod");
	}

	/*
	 * The fast paths on random text of digits, points, signs, commas and
	 * other bytes: aiops_parse_decimal_fast() gives the same answer and
	 * stopping place as the byte-by-byte grammar, and
	 * aiops_parse_decimal_field() accepts exactly the texts that the
	 * grammar reads to their end, with the same digits. The buffer is
	 * allocated to its exact size, so the sanitizers see any read past it.
	 */
	{
		static const char alpha[] = "0123456789012345678901234567890123456789..,,-+e x\xff";
		int mismatches = 0, fmismatches = 0, accepted = 0;
		for (int i = 0; i < 400000; i++) {
			uint64_t r = xorshift(&seed), m1, m2;
			size_t len = (size_t)(r % 40);
			char *t = malloc(len ? len : 1);
			const char *e1, *e2;
			int f1, f2, n1, n2, r1, r2;
			for (size_t k = 0; k < len; k++)
				t[k] = alpha[xorshift(&seed) % (sizeof(alpha) - 1)];
			r1 = aiops_parse_decimal_fast(t, t + len, &m1, &f1, &n1, &e1);
			r2 = ref_decimal(t, t + len, &m2, &f2, &n2, &e2);
			if (r1 != r2 || (r1 == 0 && (m1 != m2 || f1 != f2 || n1 != n2 || e1 != e2))) {
				if (mismatches++ < 5)
					diag("fast path differs on \"%.*s\": %d %llu/%d vs %d %llu/%d",
					    (int)len, t, r1, (unsigned long long)m1, f1, r2,
					    (unsigned long long)m2, f2);
			}
			r1 = aiops_parse_decimal_field(t, t + len, &m1, &f1, &n1);
			accepted += r1 == 0;
			if (r1 != (r2 == 0 && e2 == t + len ? 0 : -1) ||
			    (r1 == 0 && (m1 != m2 || f1 != f2 || n1 != n2))) {
				if (fmismatches++ < 5)
					diag("field path differs on \"%.*s\": %d %llu/%d", (int)len, t, r1,
					    (unsigned long long)m1, f1);
			}
			free(t);
		}
		is_int(mismatches, 0, "400000 random texts: fast decimal path equals the byte grammar");
		is_int(fmismatches, 0, "400000 random texts: whole-field path equals the byte grammar");
		ok(accepted > 20000, "of which %d were whole decimals", accepted);
	}
	/* the delimiters of a line, against a byte loop, for every length up to 100 and limit */
	{
		int mismatches = 0;
		for (int i = 0; i < 100000; i++) {
			uint64_t r = xorshift(&seed);
			size_t len = (size_t)(r % 101), max = (size_t)((r >> 8) % 40), k = 0, got;
			char *t = malloc(len ? len : 1);
			uint32_t pos[64], want[64];
			for (size_t q = 0; q < len; q++)
				t[q] = (xorshift(&seed) % 4) == 0 ? ',' : (char)('a' + q % 26);
			for (size_t q = 0; q < len && k <= max; q++)
				if (t[q] == ',' && k++ < max)
					want[k - 1] = (uint32_t)q;
			got = aiops_csv_delims(t, len, ',', pos, max);
			if (got != k || memcmp(pos, want, (k > max ? max : k) * sizeof(pos[0])) != 0) {
				if (mismatches++ < 5)
					diag("delimiters of a %zu-byte line (max %zu): %zu, wanted %zu", len,
					    max, got, k);
			}
			free(t);
		}
		is_int(mismatches, 0, "100000 random lines: aiops_csv_delims() equals a byte loop");
	}
	/* aiops_parse_fields() at every level this processor has, and at none */
	{
		static const char *name[] = { "none", "AVX2", "AVX-512" };
		int best = aiops_fields_simd();
		for (int level = AIOPS_SIMD_NONE; level <= best; level++) {
			long taken = 0, fields = 0;
			int wrong = check_fields(level, &seed, &taken, &fields);
			if (wrong < 0) {
				ok(0, "mmap a guarded page");
				break;
			}
			is_int(wrong, 0, "aiops_parse_fields() at %s on random lines: %s", name[level],
			    level ? "the fields and values of aiops_parse_decimal_field() with up to 8 "
			    "digits" : "no field taken");
			if (level)
				ok(taken > fields / 4, "of %ld fields, %ld were taken", fields, taken);
		}
		if (best < AIOPS_SIMD_AVX512)
			skip("no AVX-512 (VBMI) here: eight fields at a time is not exercised");
		if (best < AIOPS_SIMD_AVX2)
			skip("no AVX2 here: four fields at a time is not exercised");
	}
	/* CSV-shaped fields (a delimiter and more text after): bit-identical to strtod */
	{
		int mismatches = 0;
		for (int i = 0; i < 200000; i++) {
			uint64_t r = xorshift(&seed);
			int ip = (int)(r % 9), fp = (int)((r >> 8) % 10), n = 0;
			const char *q;
			if (ip + fp == 0)
				ip = 1;
			if (r & (1u << 20))
				buf[n++] = '-';
			for (int k = 0; k < ip; k++)
				buf[n++] = (char)('0' + xorshift(&seed) % 10);
			if (fp > 0 || (r & (1u << 21)))
				buf[n++] = '.';
			for (int k = 0; k < fp; k++)
				buf[n++] = (char)('0' + xorshift(&seed) % 10);
			memcpy(buf + n, ",0.123456,7.5,1e5", 18);
			/* the fast path may leave mantissas above 2^53 (16 digits and more) */
			if (aiops_parse_double_fast(buf, buf + n + 17, &v, &q) != 0 ? ip + fp < 16 :
			    q != buf + n || !same_bits(v, strtod(buf, NULL))) {
				if (mismatches++ < 5)
					diag("field mismatch on %s", buf);
			}
		}
		is_int(mismatches, 0, "200000 decimal fields before a comma parse bit-identical to strtod");
	}

	/* timestamps: values worked out with date -u +%s */
	ok(aiops_parse_time("2024-01-01 00:00:00", 19, 0, &ms) == 0 && ms == 1704067200000LL, "space form");
	ok(aiops_parse_time("2024-01-01T00:00:00Z", 20, 0, &ms) == 0 && ms == 1704067200000LL, "ISO Z");
	ok(aiops_parse_time("2024-01-01T02:00:00+02:00", 25, 0, &ms) == 0 && ms == 1704067200000LL, "offset");
	ok(aiops_parse_time("2024-02-29 12:34:56.789", 23, 0, &ms) == 0 && ms == 1709210096789LL, "leap day, ms");
	ok(aiops_parse_time("1969-12-31 23:59:59", 19, 0, &ms) == 0 && ms == -1000, "before the epoch");
	ok(aiops_parse_time("2024-01-01", 10, 0, &ms) == 0 && ms == 1704067200000LL, "date only");
	ok(aiops_parse_time("1704067200", 10, 0, &ms) == 0 && ms == 1704067200000LL, "epoch s");
	ok(aiops_parse_time("1704067200000", 13, 0, &ms) == 0 && ms == 1704067200000LL, "epoch ms auto");
	ok(aiops_parse_time("1704067200", 10, AIOPS_TIME_MS, &ms) == 0 && ms == 1704067200LL, "--time-unit ms");
	ok(aiops_parse_time("1.5", 3, 0, &ms) == 0 && ms == 1500, "fractional seconds");
	ok(aiops_parse_time("2023-02-29 00:00:00", 19, 0, &ms) != 0, "reject 2023-02-29");
	ok(aiops_parse_time("2024-13-01", 10, 0, &ms) != 0, "reject month 13");
	ok(aiops_parse_time("2024-01-01 24:00:00", 19, 0, &ms) != 0, "reject hour 24");
	ok(aiops_parse_time("2024-01-01x", 11, 0, &ms) != 0, "reject junk after date");
	aiops_format_time(1709210096789LL, buf, sizeof(buf));
	is_str(buf, "2024-02-29T12:34:56.789Z", "format with ms");
	aiops_format_time(-1000, buf, sizeof(buf));
	is_str(buf, "1969-12-31T23:59:59Z", "format before the epoch");

	ok(aiops_parse_duration("15s", &ms) == 0 && ms == 15000, "15s");
	ok(aiops_parse_duration("500ms", &ms) == 0 && ms == 500, "500ms");
	ok(aiops_parse_duration("1.5h", &ms) == 0 && ms == 5400000, "1.5h");
	ok(aiops_parse_duration("60", &ms) == 0 && ms == 60000, "bare seconds");
	ok(aiops_parse_duration("0s", &ms) != 0, "reject 0s");
	ok(aiops_parse_duration("5x", &ms) != 0, "reject unit x");
	ok(aiops_parse_i64("-9223372036854775808", 20, &i64) == 0 && i64 == INT64_MIN, "i64 min");
	ok(aiops_parse_i64("9223372036854775808", 19, &i64) != 0, "i64 overflow");

	/* shortest round trip */
	{
		double xs[] = { 0.1, 1.0 / 3, 2.5e-310, 123456.789, -0.0, 1e300 };
		for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
			aiops_format_double(xs[i], 0, buf, sizeof(buf));
			ok(same_bits(strtod(buf, NULL), xs[i]), "format %s reads back", buf);
		}
		aiops_format_double(0.1, 0, buf, sizeof(buf));
		is_str(buf, "0.1", "0.1 prints short");
	}
	return done_testing();
}
