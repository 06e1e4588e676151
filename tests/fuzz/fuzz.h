/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz/ share: a private
 * scratch directory (in /dev/shm when it is writable, so that targets whose
 * entry point takes a path stay fast), splitting an input into parts, and
 * the allocation-failure mode.
 *
 * With AIOPS_FUZZ_FAILALLOC=1 in the environment, each input runs
 * with its N-th allocation (and every later one) failing, N taken from a
 * hash of the input, so that the error paths are fuzzed for leaks and
 * double frees; the same input always fails at the same N. This works by
 * compiling lib/alloc.c into the target (its counter is static and needs a
 * reset per input): the archive's alloc.o is then never linked. jansson
 * allocates with malloc in that mode (it asserts on a failure, #362).
 * AIOPS_FUZZ_FAILALLOC=sweep runs each input with its 1st, 2nd, ...
 * allocation failing in turn, then as is: the torture loop, for saved
 * reproducers of error-path bugs (scripts/fuzz.sh --regress runs the files
 * of testdata/fuzz/crashes/NAME/ ending in .alloc so).
 */
#ifndef AIOPS_FUZZ_H
#define AIOPS_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/alloc.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fz_dir[256];
static int fz_failmode = -1;

/* Remove path and, when it is a directory, everything under it. */
static void
fz_rmtree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char sub[1024];
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			fz_rmtree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* Empty the scratch directory, keeping it. */
static void
fz_clean(void)
{
	DIR *d = opendir(fz_dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char sub[1024];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", fz_dir, de->d_name);
		fz_rmtree(sub);
	}
	closedir(d);
}

static void
fz_atexit(void)
{
	if (fz_dir[0])
		fz_rmtree(fz_dir);
}

/* Make the scratch directory (once) and return it. */
static const char *
fz_tmpdir(void)
{
	const char *t;

	if (fz_dir[0])
		return fz_dir;
	if (access("/dev/shm", W_OK) == 0)
		t = "/dev/shm";
	else if ((t = getenv("TMPDIR")) == NULL || *t == '\0')
		t = "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/aiops-fuzz-XXXXXX", t);
	if (mkdtemp(fz_dir) == NULL) {
		perror(fz_dir);
		abort();
	}
	atexit(fz_atexit);
	return fz_dir;
}

/* The path of name in the scratch directory (a static buffer of 8 in turn). */
static const char *
fz_path(const char *name)
{
	static char p[8][512];
	static int k;

	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s/%s", fz_tmpdir(), name);
	return p[k];
}

/* Write n bytes p as the file name in the scratch directory; returns its path. */
static const char *
fz_write(const char *name, const void *p, size_t n)
{
	const char *path = fz_path(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (done < n) {
		ssize_t w = write(fd, (const char *)p + done, n - done);
		if (w <= 0) {
			perror(path);
			abort();
		}
		done += (size_t)w;
	}
	close(fd);
	return path;
}

/*
 * Split data at every occurrence of sep into at most max parts (the last
 * part keeps the rest); returns the count. Parts point into data.
 */
struct fz_part {
	const uint8_t *p;
	size_t n;
};

static size_t
fz_split(const uint8_t *data, size_t size, const char *sep, struct fz_part *parts, size_t max)
{
	size_t k = 0, sl = strlen(sep), start = 0;

	for (size_t i = 0; k + 1 < max && i + sl <= size; ) {
		if (memcmp(data + i, sep, sl) == 0) {
			parts[k].p = data + start;
			parts[k].n = i - start;
			k++;
			i += sl;
			start = i;
		} else
			i++;
	}
	parts[k].p = data + start;
	parts[k].n = size - start;
	return k + 1;
}

/* A NUL-terminated copy of n bytes p (malloc'd; the caller frees). */
/*
 * After a failed run only the inputs keep1 and keep2 (and hidden files) may be
 * in the scratch directory: outputs are whole or absent.
 */
static void
fz_check_nothing_left(const char *keep1, const char *keep2)
{
	DIR *d = opendir(fz_tmpdir());
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strcmp(de->d_name, keep1) != 0 &&
		    strcmp(de->d_name, keep2) != 0) {
			fprintf(stderr, "a failed ingest left %s behind\n", de->d_name);
			abort();
		}
	closedir(d);
}

static char *
fz_str(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* FNV-1a of the input, for the allocation-failure mode. */
static uint64_t
fz_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/*
 * Call at the start of every input: resets the allocation counter, and in
 * the allocation-failure mode picks the allocation that fails (none for a
 * quarter of the inputs, so that the deep paths stay reachable). jansson's
 * allocations are not failed (see below).
 */
static int fz_sweeping;

static void
fz_begin(const uint8_t *data, size_t size)
{
	pthread_once(&fail_once, read_fail_at);
	if (fz_failmode < 0) {
		const char *s = getenv("AIOPS_FUZZ_FAILALLOC");
		fz_failmode = s != NULL && *s != '\0' && strcmp(s, "0") != 0;
		fz_sweeping = s != NULL && strcmp(s, "sweep") == 0 ? 1 : 0;
	}
	__atomic_store_n(&nalloc, 0, __ATOMIC_RELAXED);
	if (fz_failmode == 1) {
		/*
		 * jansson 2.14 asserts when an allocation fails while it lexes
		 * (akheron/jansson#362): its allocations must not fail here, so
		 * it gets malloc and free back (aiops_free is free).
		 */
		json_set_alloc_funcs(malloc, free);
		fz_failmode = 2;
	}
	if (fz_sweeping == 1) {
		/*
		 * The torture loop inside one input: run it again with the 1st,
		 * 2nd, ... allocation failing until a run fails none, so that a
		 * saved reproducer does not depend on which allocation a hash
		 * picks (that moves whenever the code allocates differently).
		 */
		fz_sweeping = 2;
		for (long n = 1; n <= 20000; n++) {
			fail_at = n;
			LLVMFuzzerTestOneInput(data, size);
			if (__atomic_load_n(&nalloc, __ATOMIC_RELAXED) < n)
				break;
		}
		fz_sweeping = 1;
		fail_at = 0;
		__atomic_store_n(&nalloc, 0, __ATOMIC_RELAXED);
		return;
	}
	if (fz_sweeping == 2)
		return;     /* fail_at is the sweep's */
	if (fz_failmode) {
		uint64_t h = fz_hash(data, size);
		fail_at = (h & 3) == 0 ? 0 : (long)(1 + (h >> 2) % 200);
	}
}

/* Call at the end of every input: allocations succeed again (for the harness's own cleanup). */
static void
fz_end(void)
{
	if (fz_failmode && fz_sweeping != 2)
		fail_at = 0;
}

#endif
