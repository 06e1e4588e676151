/* gencsv: write a deterministic synthetic wide CSV (a sine per column plus noise) to stdout,
 * for tests and benchmarks of the CSV reader. Needs only libc; formats by hand for speed. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROWS 1000000000ULL	/* 1e9 minutes: the timestamps stay four-digit years */
#define MAX_COLS 1048576ULL	/* the tensor format's column limit */
#define OUTBUF (1 << 20)
#define T0 1704067200LL		/* 2024-01-01 00:00:00 UTC */
#define STEP 60

struct column {
	double freq;	/* turns per row */
	double phase;	/* turns */
	double mean, amp, noise;
};

static char out[OUTBUF];
static size_t outlen;

static const char digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static void
usage(void)
{
	fputs("usage: gencsv [-Ht] [-s seed] rows cols\n", stderr);
	exit(2);
}

static void
flush_out(void)
{
	if (outlen > 0 && fwrite(out, 1, outlen, stdout) != outlen) {
		fprintf(stderr, "gencsv: write error: %s\n", strerror(errno));
		exit(1);
	}
	outlen = 0;
}

/* Makes room for n more bytes (n <= OUTBUF). */
static inline char *
reserve(size_t n)
{
	if (OUTBUF - outlen < n)
		flush_out();
	return out + outlen;
}

/* Parses a decimal integer in [min, max]; only digits are accepted, as strtonum would. */
static unsigned long long
number(const char *s, unsigned long long min, unsigned long long max, const char *what)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9') {
		fprintf(stderr, "gencsv: %s: expected a number, got \"%s\"\n", what, s);
		usage();
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0') {
		fprintf(stderr, "gencsv: %s: expected a number, got \"%s\"\n", what, s);
		usage();
	}
	if (errno == ERANGE || v < min || v > max) {
		fprintf(stderr, "gencsv: %s: expected %llu to %llu, got \"%s\"\n", what, min,
		    max, s);
		usage();
	}
	return v;
}

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

/* xorshift64*: fast, and the same sequence everywhere. */
static inline uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* A uniform double in [0, 1). */
static inline double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * sin(2*pi*t) for t in [0, 1), by a Taylor polynomial after reduction to [-pi/2, pi/2]
 * (error < 1e-9). Our own so that the output is the same bytes with any libm.
 */
static inline double
sin_turns(double t)
{
	double x = t - 0.5, th, th2;

	/* sin(2*pi*t) = -sin(2*pi*x) and sin(pi - a) = sin(a) */
	if (x > 0.25)
		x = 0.5 - x;
	else if (x < -0.25)
		x = -0.5 - x;
	th = x * 6.283185307179586;
	th2 = th * th;
	return -th * (1.0 + th2 * (-1.0 / 6 + th2 * (1.0 / 120 + th2 * (-1.0 / 5040 +
	    th2 * (1.0 / 362880 + th2 * (-1.0 / 39916800 + th2 * (1.0 / 6227020800.0)))))));
}

static char *
put_uint(char *p, unsigned long long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static inline char *
put2(char *p, unsigned v)
{
	memcpy(p, digits2 + 2 * v, 2);
	return p + 2;
}

/* Writes "YYYY-MM-DD HH:MM:SS" (19 bytes) for t seconds since the epoch, t >= 0. */
static char *
put_time(char *p, long long t)
{
	long long days = t / 86400, z, era, doe, yoe, y, doy, mp, d, m;
	int sec = (int)(t % 86400);

	/* days to civil date, after Howard Hinnant's days_from_civil inverse */
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	p = put2(p, (unsigned)(y / 100));
	p = put2(p, (unsigned)(y % 100));
	*p++ = '-';
	p = put2(p, (unsigned)m);
	*p++ = '-';
	p = put2(p, (unsigned)d);
	*p++ = ' ';
	p = put2(p, (unsigned)(sec / 3600));
	*p++ = ':';
	p = put2(p, (unsigned)(sec / 60 % 60));
	*p++ = ':';
	return put2(p, (unsigned)(sec % 60));
}

int
main(int argc, char *argv[])
{
	unsigned long long rows, cols, seed = 1, r, c;
	struct column *col;
	int header = 0, timestamps = 0, ch;
	uint64_t state;
	char *p;

	while ((ch = getopt(argc, argv, "Hs:t")) != -1) {
		switch (ch) {
		case 'H':
			header = 1;
			break;
		case 's':
			seed = number(optarg, 0, UINT64_MAX, "seed");
			break;
		case 't':
			timestamps = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	rows = number(argv[0], 0, MAX_ROWS, "rows");
	cols = number(argv[1], 1, MAX_COLS, "cols");

	if ((col = malloc(cols * sizeof(*col))) == NULL) {
		fprintf(stderr, "gencsv: out of memory\n");
		return 1;
	}
	state = splitmix64(seed);
	if (state == 0)
		state = 0x9E3779B97F4A7C15ULL;	/* xorshift must not start at 0 */
	/* Ranges keep mean +- (amp + noise/2) inside [0.05, 0.95]. */
	for (c = 0; c < cols; c++) {
		col[c].freq = 1.0 / (20.0 + 1420.0 * rng_unit(&state));
		col[c].phase = rng_unit(&state);
		col[c].mean = 0.35 + 0.3 * rng_unit(&state);
		col[c].amp = 0.05 + 0.2 * rng_unit(&state);
		col[c].noise = 0.02 + 0.08 * rng_unit(&state);
	}

	if (header) {
		if (timestamps) {
			p = reserve(16);
			memcpy(p, "timestamp,", 10);
			outlen += 10;
		}
		for (c = 0; c < cols; c++) {
			p = reserve(32);
			*p++ = 'm';
			p = put_uint(p, c + 1);
			*p++ = c + 1 < cols ? ',' : '\n';
			outlen = (size_t)(p - out);
		}
	}
	for (r = 0; r < rows; r++) {
		if (timestamps) {
			p = reserve(24);
			p = put_time(p, T0 + (long long)r * STEP);
			*p++ = ',';
			outlen = (size_t)(p - out);
		}
		for (c = 0; c < cols; c++) {
			double t = (double)r * col[c].freq + col[c].phase, v;
			unsigned n;

			t -= (double)(uint64_t)t;
			v = col[c].mean + col[c].amp * sin_turns(t) +
			    col[c].noise * (rng_unit(&state) - 0.5);
			/* truncate, so that the printed value is in [0, 1) too */
			n = v <= 0 ? 0 : v >= 0.999999 ? 999999 : (unsigned)(v * 1e6);
			p = reserve(9);
			p[0] = '0';
			p[1] = '.';
			put2(p + 2, n / 10000);
			put2(p + 4, n / 100 % 100);
			put2(p + 6, n % 100);
			p[8] = c + 1 < cols ? ',' : '\n';
			outlen += 9;
		}
	}
	flush_out();
	free(col);
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		fprintf(stderr, "gencsv: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
