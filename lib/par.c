/* par.c - two pieces of work at once, or one after the other. */
#include <pthread.h>

#include "base.h"

void
aiops_run_pair(void *(*fn)(void *), void *a, void *b, int threaded)
{
	pthread_t th;
	int started = threaded && pthread_create(&th, NULL, fn, b) == 0;

	fn(a);
	if (started)
		pthread_join(th, NULL);
	else
		fn(b);
}
