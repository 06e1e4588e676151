/*
 * fields.c - the plain decimal fields of a delimited line, eight at a time.
 *
 * A wide CSV of metrics is mostly short decimals ("0.341153", "-12.5",
 * "100"). Parsing them one by one costs some 60 instructions each; with
 * AVX-512 (the VBMI byte permutes) one pass of about as many makes eight:
 *
 *   1. Two masked loads take a 128-byte window of the line that holds the
 *      eight fields. A masked load does not fault on the bytes it leaves
 *      out, so the window may start before the line or end after it.
 *   2. A byte permute gathers the last 8 bytes of each field into its own
 *      64-bit lane, right-aligned, and a second one the field's first byte
 *      (for its sign).
 *   3. In each lane the bytes before the field are zeroed, the point is
 *      found and the digits above it are moved down over it, so that the
 *      lane holds 8 digit values, the most significant first.
 *   4. Multiply-adds make the 8-digit integer m, and one correctly rounded
 *      division m / 10^f the value: m < 10^8 and 10^f are exact doubles, so
 *      it is what strtod gives (as aiops_decimal_value() does, one by one).
 *
 * A field that is anything else (empty, longer than 8 digits and point, an
 * exponent, a second point, "nan", a blank) has its bit cleared, and the
 * caller parses it its own way. Where the processor has no AVX-512 (or
 * AIOPS_NO_SIMD is set) aiops_parse_fields() does nothing and says so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(AIOPS_NO_X86_SIMD)
#include <immintrin.h>

#define X512 __attribute__((target( \
	"avx512f,avx512bw,avx512vbmi,avx512dq,avx512cd,avx512vl,bmi2")))

static const double p10[8] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7 };

/* The bits of window offsets [off, off + 64) that fall in [a, z). */
X512 static inline uint64_t
window_bits(long a, long z, long off)
{
	long lo = a - off, hi = z - off;

	lo = lo < 0 ? 0 : lo > 64 ? 64 : lo;
	hi = hi < 0 ? 0 : hi > 64 ? 64 : hi;
	return _bzhi_u64(~0ULL, (unsigned)hi) & ~_bzhi_u64(~0ULL, (unsigned)lo);
}

/* Fields fi .. fi+7 (fewer at the end): out[i] and bit i of the result. */
X512 static inline unsigned
fields8(const char *line, size_t len, const uint32_t *fend, size_t fi, size_t nf,
    double *out)
{
	unsigned nl = nf - fi < 8 ? (unsigned)(nf - fi) : 8;
	__mmask8 lanes = (__mmask8)((1u << nl) - 1);
	/* the window starts 9 bytes before field fi's end: its sign is then inside */
	long base = (long)fend[fi] - 9, a = base < 0 ? -base : 0, z = (long)len - base;
	int prev = fi > 0 ? (int)fend[fi - 1] : -1;

	if ((long)fend[fi + nl - 1] - base > 128)
		return 0;       /* long fields: the window does not hold all eight */
	const char *w = (const char *)((uintptr_t)line + (uintptr_t)base);
	__m512i w0 = _mm512_maskz_loadu_epi8(window_bits(a, z, 0), w);
	__m512i w1 = _mm512_maskz_loadu_epi8(window_bits(a, z, 64), w + 64);

	/* each field's end and start, and their offsets in the window */
	__m256i e = _mm256_maskz_loadu_epi32(lanes, fend + fi);
	__m256i s = _mm256_add_epi32(_mm256_alignr_epi32(e, _mm256_set1_epi32(prev), 7),
	    _mm256_set1_epi32(1));
	__m256i bv = _mm256_set1_epi32((int)base);
	__m256i oe = _mm256_sub_epi32(e, _mm256_add_epi32(bv, _mm256_set1_epi32(8)));
	__m256i os = _mm256_max_epi32(_mm256_sub_epi32(s, bv), _mm256_setzero_si256());

	/* gather: lane i gets the field's last 8 bytes, and (all 8 bytes) its first */
	const __m512i spread = _mm512_set_epi64(0x0707070707070707LL, 0x0606060606060606LL,
	    0x0505050505050505LL, 0x0404040404040404LL, 0x0303030303030303LL,
	    0x0202020202020202LL, 0x0101010101010101LL, 0);
	__m512i ie = _mm512_permutexvar_epi8(spread,
	    _mm512_castsi128_si512(_mm256_cvtepi32_epi8(oe)));
	__m512i is = _mm512_permutexvar_epi8(spread,
	    _mm512_castsi128_si512(_mm256_cvtepi32_epi8(os)));
	ie = _mm512_add_epi8(ie, _mm512_set1_epi64(0x0706050403020100LL));
	__m512i g = _mm512_permutex2var_epi8(w0, ie, w1);
	__m512i first = _mm512_permutex2var_epi8(w0, is, w1);

	/* the sign, and n: the count of digits and point, 1 to 8 */
	__mmask8 neg = _mm512_cmpeq_epi64_mask(first, _mm512_set1_epi8('-'));
	__mmask8 sgn = neg | _mm512_cmpeq_epi64_mask(first, _mm512_set1_epi8('+'));
	__m512i n = _mm512_cvtepu32_epi64(_mm256_sub_epi32(e, s));
	n = _mm512_mask_sub_epi64(n, sgn, n, _mm512_set1_epi64(1));
	__mmask8 okn = _mm512_cmp_epu64_mask(_mm512_sub_epi64(n, _mm512_set1_epi64(1)),
	    _mm512_set1_epi64(8), _MM_CMPINT_LT);
	__mmask8 one = _mm512_cmpeq_epi64_mask(n, _mm512_set1_epi64(1));

	/* the field's bytes of each lane: the top n (a shift of 64 or more gives 0) */
	__m512i fm = _mm512_sllv_epi64(_mm512_set1_epi64(-1),
	    _mm512_sub_epi64(_mm512_set1_epi64(64), _mm512_slli_epi64(n, 3)));
	__m512i v = _mm512_and_si512(_mm512_sub_epi8(g, _mm512_set1_epi8('0')), fm);

	/* the first point: the digits below it (more significant) move up a byte */
	__m512i dots = _mm512_and_si512(
	    _mm512_movm_epi8(_mm512_cmpeq_epi8_mask(g, _mm512_set1_epi8('.'))), fm);
	__mmask8 hasdot = _mm512_test_epi64_mask(dots, dots);
	__m512i low = _mm512_and_si512(dots, _mm512_sub_epi64(_mm512_setzero_si512(), dots));
	__m512i below = _mm512_maskz_sub_epi64(hasdot, low, _mm512_set1_epi64(1));
	__m512i dot = _mm512_sub_epi64(_mm512_slli_epi64(low, 8), low);
	__m512i c = _mm512_or_si512(_mm512_slli_epi64(_mm512_and_si512(v, below), 8),
	    _mm512_andnot_si512(_mm512_or_si512(below, dot), v));

	/* any byte left above 9 (a second point, a letter, a blank) fails the lane */
	__m512i over = _mm512_subs_epu8(c, _mm512_set1_epi8(9));
	__mmask8 bad = _mm512_test_epi64_mask(over, over);
	__m512i frac = _mm512_maskz_srli_epi64(hasdot, _mm512_lzcnt_epi64(dot), 3);

	/* 8 digits to an integer: pairs, fours, then hi * 10^4 + lo */
	__m512i t = _mm512_maddubs_epi16(c, _mm512_set1_epi16(0x010a));
	t = _mm512_madd_epi16(t, _mm512_set1_epi32(0x00010064));
	t = _mm512_add_epi64(_mm512_mul_epu32(t, _mm512_set1_epi64(10000)),
	    _mm512_srli_epi64(t, 32));
	__m512d x = _mm512_div_pd(_mm512_cvtepu64_pd(t),
	    _mm512_permutexvar_pd(frac, _mm512_loadu_pd(p10)));
	x = _mm512_mask_xor_pd(x, neg, x, _mm512_set1_pd(-0.0));
	_mm512_mask_storeu_pd(out, lanes, x);
	/* "." alone is not a number */
	return (unsigned)(lanes & okn & (__mmask8)~bad & (__mmask8)~(hasdot & one));
}

X512 static void
fields_x512(const char *line, size_t len, const uint32_t *fend, size_t f0, size_t nf,
    double *out, uint8_t *ok)
{
	for (size_t fi = f0; fi < nf; fi += 8)
		ok[(fi - f0) / 8] = (uint8_t)fields8(line, len, fend, fi, nf, out + (fi - f0));
}

static int
have_x512(void)
{
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("bmi2");
}
#else
static int
have_x512(void)
{
	return 0;
}
#endif

int
aiops_fields_simd(void)
{
	const char *off = getenv("AIOPS_NO_SIMD");

	return (off == NULL || *off == '\0') && have_x512();
}

void
aiops_parse_fields(const char *line, size_t len, const uint32_t *fend, size_t f0, size_t nf,
    double *out, uint8_t *ok)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(AIOPS_NO_X86_SIMD)
	if (have_x512()) {
		fields_x512(line, len, fend, f0, nf, out, ok);
		return;
	}
#endif
	(void)line, (void)len, (void)fend, (void)out;
	memset(ok, 0, (nf - f0 + 7) / 8);
}
