/*
 * fields.c - the plain decimal fields of a delimited line, eight or four at a time.
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
 *      found and the digits before it move one byte on, over it, so that
 *      the lane holds 8 digit values, the most significant first.
 *   4. Multiply-adds make the 8-digit integer m, and one correctly rounded
 *      division m / 10^f the value: m < 10^8 and 10^f are exact doubles, so
 *      it is what strtod gives (as aiops_decimal_value() does, one by one).
 *
 * With AVX2 only (no AVX-512 VBMI: AMD before Zen 4, Intel before Ice Lake,
 * most desktop processors) four fields go at a time the same way, their
 * words and first bytes loaded one by one.
 *
 * A field that is anything else (empty, longer than 8 digits and point, an
 * exponent, a second point, "nan", a blank) has its bit cleared, and the
 * caller parses it its own way. Without AVX2, or with AIOPS_SIMD=none,
 * aiops_parse_fields() does nothing and says so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(AIOPS_NO_X86_SIMD)
#include <immintrin.h>

#define X512 __attribute__((target( \
	"avx512f,avx512bw,avx512vbmi,avx512dq,avx512cd,avx512vl,bmi2")))
#define XAVX2 __attribute__((target("avx2")))

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
	    _mm512_permutexvar_pd(frac, _mm512_loadu_pd(aiops_pow10)));
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

/*
 * One lane of fields4(): field i's last 8 bytes (fewer at the line's start,
 * zeros before them) in the low half, its count of digits and point in *n
 * (with its sign, bit 63 of *neg).
 */
XAVX2 static inline __m128i
lane4(const char *line, const uint32_t *fend, size_t i, long long *n, long long *neg)
{
	size_t e = fend[i], st = i > 0 ? (size_t)fend[i - 1] + 1 : 0;
	unsigned char c = e > st ? (unsigned char)line[st] : '0';
	uint64_t w = 0;

	*neg = (long long)((uint64_t)(c == '-') << 63);
	*n = (long long)(e - st) - (c == '-' || c == '+');
	if (e >= 8)
		return _mm_loadl_epi64((const __m128i *)(const void *)(line + e - 8));
	memcpy((char *)&w + 8 - e, line, e);
	return _mm_cvtsi64_si128((long long)w);
}

/*
 * Fields fi .. fi+3 (fewer at the end) with AVX2: out[i] and bit i of the
 * result. Each field's last 8 bytes and first byte are loaded one by one;
 * the rest is fields8()'s arithmetic on 4 lanes.
 */
XAVX2 static inline unsigned
fields4(const char *line, const uint32_t *fend, size_t fi, size_t nf, double *out)
{
	unsigned nl = nf - fi < 4 ? (unsigned)(nf - fi) : 4;
	long long n0 = 0, n1 = 0, n2 = 0, n3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	__m128i w0 = _mm_setzero_si128(), w1 = w0, w2 = w0, w3 = w0;

	switch (nl) {
	case 4:
		w3 = lane4(line, fend, fi + 3, &n3, &s3);
		/* FALLTHROUGH */
	case 3:
		w2 = lane4(line, fend, fi + 2, &n2, &s2);
		/* FALLTHROUGH */
	case 2:
		w1 = lane4(line, fend, fi + 1, &n1, &s1);
		/* FALLTHROUGH */
	default:
		w0 = lane4(line, fend, fi, &n0, &s0);
	}
	__m256i g = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi64(w0, w1)),
	    _mm_unpacklo_epi64(w2, w3), 1);
	__m256i nv = _mm256_set_epi64x(n3, n2, n1, n0);
	__m256i zero = _mm256_setzero_si256(), ones = _mm256_set1_epi64x(-1);
	/* lanes with 1 to 8 digits and point, and within the line's fields */
	__m256i okn = _mm256_and_si256(_mm256_cmpgt_epi64(nv, zero),
	    _mm256_cmpgt_epi64(_mm256_set1_epi64x(9), nv));
	__m256i fm = _mm256_sllv_epi64(ones,
	    _mm256_sub_epi64(_mm256_set1_epi64x(64), _mm256_slli_epi64(nv, 3)));
	__m256i v = _mm256_and_si256(_mm256_sub_epi8(g, _mm256_set1_epi8('0')), fm);
	__m256i dots = _mm256_and_si256(_mm256_cmpeq_epi8(g, _mm256_set1_epi8('.')), fm);
	__m256i hasdot = _mm256_xor_si256(_mm256_cmpeq_epi64(dots, zero), ones);
	__m256i low = _mm256_and_si256(dots, _mm256_sub_epi64(zero, dots));
	__m256i below = _mm256_and_si256(_mm256_sub_epi64(low, _mm256_set1_epi64x(1)), hasdot);
	__m256i dot = _mm256_sub_epi64(_mm256_slli_epi64(low, 8), low);
	__m256i c = _mm256_or_si256(_mm256_slli_epi64(_mm256_and_si256(v, below), 8),
	    _mm256_andnot_si256(_mm256_or_si256(below, dot), v));
	__m256i good = _mm256_and_si256(okn,
	    _mm256_cmpeq_epi64(_mm256_subs_epu8(c, _mm256_set1_epi8(9)), zero));
	/* "." alone is not a number */
	good = _mm256_andnot_si256(_mm256_and_si256(hasdot,
	    _mm256_cmpeq_epi64(nv, _mm256_set1_epi64x(1))), good);
	/* the digits after the point: where the point was, from the top byte */
	unsigned dm = (unsigned)_mm256_movemask_epi8(dots);
	unsigned b0 = dm & 0xff, b1 = (dm >> 8) & 0xff, b2 = (dm >> 16) & 0xff, b3 = dm >> 24;
	__m256d div = _mm256_set_pd(aiops_pow10[b3 ? 7 - __builtin_ctz(b3) : 0],
	    aiops_pow10[b2 ? 7 - __builtin_ctz(b2) : 0],
	    aiops_pow10[b1 ? 7 - __builtin_ctz(b1) : 0],
	    aiops_pow10[b0 ? 7 - __builtin_ctz(b0) : 0]);
	__m256i t = _mm256_maddubs_epi16(c, _mm256_set1_epi16(0x010a));
	t = _mm256_madd_epi16(t, _mm256_set1_epi32(0x00010064));
	t = _mm256_add_epi64(_mm256_mul_epu32(t, _mm256_set1_epi64x(10000)),
	    _mm256_srli_epi64(t, 32));
	t = _mm256_permutevar8x32_epi32(t, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
	__m256d x = _mm256_div_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(t)), div);
	x = _mm256_xor_pd(x, _mm256_castsi256_pd(_mm256_set_epi64x(s3, s2, s1, s0)));
	_mm256_maskstore_pd(out, _mm256_cmpgt_epi64(_mm256_set1_epi64x(nl),
	    _mm256_setr_epi64x(0, 1, 2, 3)), x);
	return (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(good));
}

XAVX2 static void
fields_avx2(const char *line, const uint32_t *fend, size_t f0, size_t nf, double *out,
    uint8_t *ok)
{
	for (size_t fi = f0; fi < nf; fi += 8) {
		unsigned b = fields4(line, fend, fi, nf, out + (fi - f0));
		if (fi + 4 < nf)
			b |= fields4(line, fend, fi + 4, nf, out + (fi - f0) + 4) << 4;
		ok[(fi - f0) / 8] = (uint8_t)b;
	}
}

/* The best the processor offers. */
static int
cpu_probe(void)
{
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("bmi2"))
		return AIOPS_SIMD_AVX512;
	if (__builtin_cpu_supports("avx2"))
		return AIOPS_SIMD_AVX2;
	return AIOPS_SIMD_NONE;
}
#else
static int
cpu_probe(void)
{
	return AIOPS_SIMD_NONE;
}
#endif

/* cpu_probe(), asked once: aiops_parse_fields() checks it at every line. */
static int
cpu_level(void)
{
	static int level = -1;
	int v = __atomic_load_n(&level, __ATOMIC_RELAXED);

	if (v < 0) {
		v = cpu_probe();
		__atomic_store_n(&level, v, __ATOMIC_RELAXED);
	}
	return v;
}

int
aiops_fields_simd(void)
{
	const char *want = getenv("AIOPS_SIMD");
	int best = cpu_level();

	if (want == NULL || *want == '\0')
		return best;
	if (strcmp(want, "none") == 0)
		return AIOPS_SIMD_NONE;
	if (strcmp(want, "avx2") == 0)
		return best < AIOPS_SIMD_AVX2 ? best : AIOPS_SIMD_AVX2;
	return best;
}

void
aiops_parse_fields(int level, const char *line, size_t len, const uint32_t *fend, size_t f0,
    size_t nf, double *out, uint8_t *ok)
{
	int best = cpu_level();

	if (level > best)
		level = best;       /* never more than the processor has */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(AIOPS_NO_X86_SIMD)
	if (level == AIOPS_SIMD_AVX512) {
		fields_x512(line, len, fend, f0, nf, out, ok);
		return;
	}
	if (level == AIOPS_SIMD_AVX2) {
		fields_avx2(line, fend, f0, nf, out, ok);
		return;
	}
#endif
	(void)line, (void)len, (void)fend, (void)out;
	memset(ok, 0, (nf - f0 + 7) / 8);
}
