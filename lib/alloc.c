/*
 * alloc.c - checked allocation with a failure-injection mode
 * (AIOPS_FAIL_ALLOC=N fails the N-th and later allocations).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base.h"

static long fail_at;        /* 0: off */
static long nalloc;         /* allocations so far, counted atomically (threads allocate too) */
static unsigned long nfailed;   /* allocations that returned NULL */
static pthread_once_t fail_once = PTHREAD_ONCE_INIT;

static void
read_fail_at(void)
{
	const char *s = getenv("AIOPS_FAIL_ALLOC");
	char *end;

	if (s != NULL && *s != '\0') {
		long v = strtol(s, &end, 10);
		if (*end == '\0' && v > 0)
			fail_at = v;
	}
}

static int
should_fail(void)
{
	pthread_once(&fail_once, read_fail_at);
	if (fail_at == 0)
		return 0;
	return __atomic_add_fetch(&nalloc, 1, __ATOMIC_RELAXED) >= fail_at;
}

static void *
failed(void)
{
	__atomic_add_fetch(&nfailed, 1, __ATOMIC_RELAXED);
	errno = ENOMEM;
	return NULL;
}

unsigned long
aiops_alloc_failures(void)
{
	return __atomic_load_n(&nfailed, __ATOMIC_RELAXED);
}

int
aiops_nomem_since(unsigned long nfail, struct aiops_error *e)
{
	if (aiops_alloc_failures() == nfail)
		return AIOPS_OK;
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

void *
aiops_malloc(size_t n)
{
	void *p;

	if (should_fail())
		return failed();
	if ((p = malloc(n ? n : 1)) == NULL)
		return failed();
	return p;
}

void *
aiops_calloc(size_t n, size_t size)
{
	void *p;

	if (should_fail())
		return failed();
	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		return failed();
	return p;
}

void *
aiops_realloc(void *p, size_t n)
{
	void *q;

	if (should_fail())
		return failed();
	if ((q = realloc(p, n ? n : 1)) == NULL)
		return failed();
	return q;
}

void *
aiops_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return aiops_realloc(p, n * size);
}

char *
aiops_strndup(const char *s, size_t n)
{
	char *d = aiops_malloc(n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
aiops_strdup(const char *s)
{
	return aiops_strndup(s, strlen(s));
}

void
aiops_free(void *p)
{
	free(p);
}

void
aiops_alloc_init(void)
{
	json_set_alloc_funcs(aiops_malloc, aiops_free);
}
