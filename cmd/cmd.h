/*
 * cmd.h - what the command files share: the usage error, the failure
 * message, option values as numbers. Header-only and in cmd/, because these
 * print and exit, which the library never does.
 */
#ifndef AIOPS_CMD_H
#define AIOPS_CMD_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"

/* The usage text on stderr, and exit with the usage status. */
static inline void __attribute__((noreturn))
cmd_usage(const char *text)
{
	fputs(text, stderr);
	exit(AIOPS_EXIT_USAGE);
}

/* "PROG: message" on stderr, and exit with the usage status. */
static inline void __attribute__((format(printf, 1, 2), noreturn))
cmd_die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", aiops_progname());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(AIOPS_EXIT_USAGE);
}

/* "PROG: message" of e on stderr; returns the exit status of e's code. */
static inline int
cmd_fail(const struct aiops_error *e)
{
	fprintf(stderr, "%s: %s\n", aiops_progname(), e->msg);
	return aiops_exit_status(e->code);
}

/* An option's value as a whole number from lo to hi, or a usage error. */
static inline long
cmd_whole(const char *opt, const char *s, long lo, long hi)
{
	int64_t v;

	if (aiops_parse_i64(s, strlen(s), &v) != 0 || v < lo || v > hi)
		cmd_die_usage("%s: expected a whole number from %ld to %ld, got \"%s\"", opt, lo,
		    hi, s);
	return (long)v;
}

/* The default -j: the processors online, from 1 to max. */
static inline long
cmd_cpus(long max)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > max ? max : n;
}

/* An option's value as a number from lo to hi, or a usage error. */
static inline double
cmd_real(const char *opt, const char *s, double lo, double hi)
{
	double v;

	if (aiops_parse_double(s, strlen(s), &v) != 0 || !(v >= lo && v <= hi))
		cmd_die_usage("%s: expected a number from %g to %g, got \"%s\"", opt, lo, hi, s);
	return v;
}

#endif
