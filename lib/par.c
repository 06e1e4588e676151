/* par.c - two pieces of work at once, or one after the other. */
#include <pthread.h>

#include "base.h"

struct aiops_helper {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void *(*fn)(void *);    /* the work handed over, NULL when there is none */
	void *arg;
	int quit;
};

static void *
helper_main(void *arg)
{
	struct aiops_helper *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->fn == NULL && !h->quit)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->fn == NULL)
			break;
		pthread_mutex_unlock(&h->mu);
		h->fn(h->arg);
		pthread_mutex_lock(&h->mu);
		h->fn = NULL;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct aiops_helper *
aiops_helper_start(void)
{
	struct aiops_helper *h = aiops_calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	if (pthread_mutex_init(&h->mu, NULL) != 0) {
		aiops_free(h);
		return NULL;
	}
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mu);
		aiops_free(h);
		return NULL;
	}
	if (pthread_create(&h->th, NULL, helper_main, h) != 0) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		aiops_free(h);
		return NULL;
	}
	return h;
}

void
aiops_helper_run(struct aiops_helper *h, void *(*fn)(void *), void *arg)
{
	if (h == NULL) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&h->mu);
	while (h->fn != NULL)
		pthread_cond_wait(&h->cv, &h->mu);
	h->fn = fn;
	h->arg = arg;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void
aiops_helper_wait(struct aiops_helper *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	while (h->fn != NULL)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void
aiops_helper_stop(struct aiops_helper *h)
{
	if (h == NULL)
		return;
	aiops_helper_wait(h);
	pthread_mutex_lock(&h->mu);
	h->quit = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	aiops_free(h);
}

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
