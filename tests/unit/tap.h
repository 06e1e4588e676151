/* tests/unit/tap.h: header-only TAP output for the C unit tests, one including .c per binary.
 * The plan is printed at the end (done_testing), so a test need not count its assertions. */
#ifndef AIOPS_TAP_H
#define AIOPS_TAP_H

/*
 * Usage:
 *
 *	#include "tap.h"
 *	int main(void) {
 *		ok(aiops_foo() == 0, "foo succeeds");
 *		is_int(n, 3, "three rows");
 *		is_double(mean, 2.5, 1e-12, "mean of case %d", i);
 *		is_str(name, "cpu", "first column name");
 *		return done_testing();
 *	}
 *
 * ok(cond, fmt, ...)                    passes iff cond is non-zero.
 * is_int(got, want, fmt, ...)           passes iff got == want, both as long long.
 * is_double(got, want, tol, fmt, ...)   passes iff both are finite and |got - want| <= tol,
 *                                       or got == want (so inf == inf), or both are NaN.
 * is_str(got, want, fmt, ...)           passes iff strcmp(got, want) == 0; NULL equals only NULL.
 * diag(fmt, ...)                        prints a "# " comment line (or lines) on stdout.
 * skip(why)                             records a test that cannot run here as "ok N # skip why".
 * done_testing()                        prints the plan "1..N"; returns 0 iff every test
 *                                       passed, else 1: `return done_testing();` from main.
 *
 * Each assertion prints "ok N - name" or "not ok N - name" followed by "#" lines with the
 * file, line and got/expected values, and returns 1 if it passed, 0 if not, so that
 * `if (!is_int(...)) diag(...)` works. The name is a printf format. Output is flushed
 * after every line, so the lines before a crash reach prove.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define TAP_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define TAP_PRINTF_(f, a)
#endif

static int tap_count_;
static int tap_failed_;

/* Prints the (not) ok line; a "#" in the name is escaped because TAP reads it as a directive. */
static inline int tap_result_(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	char name[512];
	const char *p;

	tap_count_++;
	if (!pass)
		tap_failed_++;
	if (vsnprintf(name, sizeof(name), fmt, ap) < 0)
		name[0] = '\0';
	printf("%sok %d", pass ? "" : "not ", tap_count_);
	if (name[0] != '\0') {
		fputs(" - ", stdout);
		for (p = name; *p != '\0'; p++) {
			if (*p == '#')
				putchar('\\');
			putchar(*p == '\n' ? ' ' : *p);
		}
	}
	putchar('\n');
	if (!pass) {
		if (name[0] != '\0')
			printf("#   Failed test '%s'\n#   at %s line %d.\n", name, file, line);
		else
			printf("#   Failed test at %s line %d.\n", file, line);
	}
	fflush(stdout);
	return pass;
}

TAP_PRINTF_(4, 5)
static inline int tap_ok_(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_result_(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

TAP_PRINTF_(5, 6)
static inline int tap_is_int_(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	tap_result_(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
		fflush(stdout);
	}
	return pass;
}

TAP_PRINTF_(6, 7)
static inline int tap_is_double_(double got, double want, double tol, const char *file,
    int line, const char *fmt, ...)
{
	va_list ap;
	int pass;

	/* An infinity or NaN matches only itself, whatever the tolerance. */
	pass = (isnan(got) && isnan(want)) || got == want ||
	    (isfinite(got) && isfinite(want) && fabs(got - want) <= tol);
	va_start(ap, fmt);
	tap_result_(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		printf("#          got: %.17g\n#     expected: %.17g\n", got, want);
		if (isfinite(got) && isfinite(want))
			printf("#   difference: %.17g > tolerance %.17g\n", fabs(got - want), tol);
		fflush(stdout);
	}
	return pass;
}

TAP_PRINTF_(5, 6)
static inline int tap_is_str_(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass;

	pass = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_result_(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		if (got != NULL)
			printf("#          got: \"%s\"\n", got);
		else
			printf("#          got: NULL\n");
		if (want != NULL)
			printf("#     expected: \"%s\"\n", want);
		else
			printf("#     expected: NULL\n");
		fflush(stdout);
	}
	return pass;
}

/* Prints each line of the message as a "# " comment. */
TAP_PRINTF_(1, 2)
static inline void diag(const char *fmt, ...)
{
	char msg[4096];
	const char *p, *nl;
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	for (p = msg;; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			if (*p != '\0' || p == msg)
				printf("# %s\n", p);
			break;
		}
		printf("# %.*s\n", (int)(nl - p), p);
	}
	fflush(stdout);
}

/* A test that cannot run here: "ok N # skip why", counted as passed by prove. */
static inline void skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_count_, why);
	fflush(stdout);
}

static inline int done_testing(void)
{
	if (tap_failed_ > 0)
		printf("# failed %d of %d test(s)\n", tap_failed_, tap_count_);
	printf("1..%d\n", tap_count_);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return tap_failed_ > 0;
}

#define ok(cond, ...) tap_ok_((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int_((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_double(got, want, tol, ...) \
	tap_is_double_((double)(got), (double)(want), (double)(tol), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)

#endif /* AIOPS_TAP_H */
