/* cmdutil.c - process-level helpers for the commands (never exits itself). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmdutil.h"

static const char *prog = "aiops";

static void
on_signal(int sig)
{
	if (aiops_out_defer_signal(sig))
		return;         /* outputs being committed together: after them */
	aiops_out_cleanup_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

void
aiops_cmd_init(const char *progname)
{
	const char *s = strrchr(progname, '/');
	struct sigaction sa;

	prog = s ? s + 1 : progname;
	aiops_alloc_init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* past ulimit -f a write fails with EFBIG, reported and cleaned up, instead of a core */
	signal(SIGXFSZ, SIG_IGN);
}

const char *
aiops_progname(void)
{
	return prog;
}

int
aiops_close_stdout(struct aiops_error *e)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return aiops_error_set(e, AIOPS_ERR_IO, "<stdout>: write error: %s",
		    strerror(errno)) ? -1 : -1;
	if (close(STDOUT_FILENO) != 0 && errno != EBADF)
		return aiops_error_set(e, AIOPS_ERR_IO, "<stdout>: %s", strerror(errno)) ? -1 : -1;
	return 0;
}
