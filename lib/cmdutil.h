/*
 * cmdutil.h - what every command shares: the program name in messages,
 * signal cleanup of temporary outputs, checked stdout.
 */
#ifndef AIOPS_CMDUTIL_H
#define AIOPS_CMDUTIL_H

#include "base.h"

/* Exit statuses shared by all commands (aiops(7)). */
enum {
	AIOPS_EXIT_OK = 0,
	AIOPS_EXIT_FAIL = 1,
	AIOPS_EXIT_USAGE = 2,
	AIOPS_EXIT_GATE = 3
};

/* Remember the program name, route allocations, and make SIGINT, SIGTERM and
 * SIGHUP remove temporary output files before the process dies. */
void aiops_cmd_init(const char *progname);
const char *aiops_progname(void);
/* Flush and close stdout; returns 0, or -1 after filling e. */
int aiops_close_stdout(struct aiops_error *e);

#endif
