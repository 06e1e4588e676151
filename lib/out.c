/*
 * out.c - buffered output that appears whole or not at all: a temporary
 * file beside the target, fsync, rename; or standard output.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base.h"

#define OUT_BUFSZ (1 << 20)
/* a temporary file's data goes to the disk in steps of this while it is written */
#define OUT_SYNC_STEP (8u << 20)
#define NSLOTS 32

/* Temporary paths to unlink from a signal handler; written before use. */
static char *volatile slots[NSLOTS];

static int
slot_take(char *path)
{
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i] == NULL) {
			slots[i] = path;
			return i;
		}
	return -1;
}

/* A group of commits in progress: a terminating signal waits for its end. */
static volatile sig_atomic_t holding, pending;

void
aiops_out_hold(void)
{
	pending = 0;
	holding = 1;
}

void
aiops_out_release(void)
{
	int sig;

	holding = 0;
	if ((sig = pending) != 0) {
		pending = 0;
		raise(sig);     /* delivered now, to the handler that deferred it */
	}
}

int
aiops_out_defer_signal(int sig)
{
	if (!holding)
		return 0;
	pending = sig;
	return holding;     /* released meanwhile: 0, the caller goes on */
}

void
aiops_out_cleanup_signal(void)
{
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i] != NULL)
			unlink(slots[i]);
}

int
aiops_out_open(struct aiops_out *o, const char *path, struct aiops_error *e)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->slot = -1;
	if ((o->buf = aiops_malloc(OUT_BUFSZ)) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	o->cap = OUT_BUFSZ;
	if (path == NULL || strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
		o->name = "<stdout>";
		return AIOPS_OK;
	}
	{
		/*
		 * A device or FIFO (/dev/null, a named pipe) is written in place: a
		 * temporary file renamed over it would replace the device itself. A
		 * symlink is followed, so the link survives and its target is replaced.
		 */
		struct stat st;
		char *real;

		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			if (S_ISDIR(st.st_mode)) {
				aiops_out_abort(o);
				return aiops_error_set(e, AIOPS_ERR_IO, "%s: is a directory", path);
			}
			o->fd = open(path, O_WRONLY | O_CLOEXEC);
			if (o->fd < 0) {
				int err = errno;
				aiops_out_abort(o);
				return aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot open: %s", path,
				    strerror(err));
			}
			o->direct = 1;
			o->name = path;
			return AIOPS_OK;
		}
		if ((real = realpath(path, NULL)) != NULL) {
			o->path = aiops_strdup(real);
			free(real);
			path = o->path;
		} else {
			o->path = aiops_strdup(path);
		}
		if (o->path == NULL)
			goto nomem;
	}
	{
		/* ".name.XXXXXX" in the target's directory, so rename is atomic */
		struct aiops_buf t = AIOPS_BUF_INIT;
		const char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		int r = AIOPS_OK;

		if (slash)
			r |= aiops_buf_add(&t, path, (size_t)(slash - path + 1));
		r |= aiops_buf_addf(&t, ".%s.XXXXXX", base);
		if (r != AIOPS_OK) {
			aiops_buf_release(&t);
			goto nomem;
		}
		o->tmp = aiops_buf_detach(&t, NULL);
		if (o->tmp == NULL)
			goto nomem;
	}
	o->name = o->path;
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		int err = errno;
		aiops_free(o->tmp);
		o->tmp = NULL;
		aiops_out_abort(o);
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot create: %s",
		    path, strerror(err));
	}
	o->slot = slot_take(o->tmp);
	/* mkstemp makes 0600; outputs are ordinary files, so honour the umask */
	{
		mode_t um = umask(0);
		umask(um);
		fchmod(o->fd, 0666 & ~um);
	}
	return AIOPS_OK;
nomem:
	aiops_out_abort(o);
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

static int
write_all(struct aiops_out *o, const unsigned char *p, size_t n, struct aiops_error *e)
{
	while (n > 0) {
		ssize_t w = write(o->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return aiops_error_set(e, AIOPS_ERR_IO, "%s: write error: %s",
			    o->name, strerror(errno));
		}
		p += w;
		n -= (size_t)w;
		o->off += (uint64_t)w;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	/*
	 * Start the writeback of what a temporary file has so far, so that the
	 * disk works while we compute and the fsync() at the commit has little
	 * left to wait for. Only a start: errors are the fsync()'s to report.
	 */
	if (o->tmp != NULL && o->off - o->synced >= OUT_SYNC_STEP) {
		(void)sync_file_range(o->fd, (off_t)o->synced, (off_t)(o->off - o->synced),
		    SYNC_FILE_RANGE_WRITE);
		o->synced = o->off;
	}
#endif
	return AIOPS_OK;
}

int
aiops_out_flush(struct aiops_out *o, struct aiops_error *e)
{
	int r = write_all(o, o->buf, o->len, e);

	o->len = 0;
	return r;
}

int
aiops_out_write(struct aiops_out *o, const void *p, size_t n, struct aiops_error *e)
{
	const unsigned char *s = p;

	if (n >= o->cap / 2) {
		/* large writes (a tensor block) go out as they are, without a copy */
		if (o->len > 0 && aiops_out_flush(o, e) != AIOPS_OK)
			return e ? e->code : AIOPS_ERR_IO;
		return write_all(o, s, n, e);
	}
	if (o->len + n <= o->cap) {
		memcpy(o->buf + o->len, s, n);
		o->len += n;
		return o->unbuffered ? aiops_out_flush(o, e) : AIOPS_OK;
	}
	if (aiops_out_flush(o, e) != AIOPS_OK)
		return e ? e->code : AIOPS_ERR_IO;
	memcpy(o->buf, s, n);
	o->len = n;
	return o->unbuffered ? aiops_out_flush(o, e) : AIOPS_OK;
}

int
aiops_out_seekable(const struct aiops_out *o)
{
	return o->tmp != NULL;
}

int
aiops_out_pwrite(struct aiops_out *o, uint64_t off, const void *p, size_t n,
    struct aiops_error *e)
{
	if (o->tmp == NULL)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: output is not seekable", o->name);
	if (aiops_out_flush(o, e) != AIOPS_OK)
		return e ? e->code : AIOPS_ERR_IO;
	while (n > 0) {
		ssize_t w = pwrite(o->fd, p, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return aiops_error_set(e, AIOPS_ERR_IO, "%s: write error: %s",
			    o->name, strerror(errno));
		}
		p = (const char *)p + w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return AIOPS_OK;
}

int
aiops_out_commit(struct aiops_out *o, struct aiops_error *e)
{
	int r = aiops_out_flush(o, e);

	if (r != AIOPS_OK) {
		aiops_out_abort(o);
		return r;
	}
	if (o->tmp == NULL) {
		if (o->direct) {
			int err = close(o->fd) != 0 ? errno : 0;
			o->fd = -1;
			if (err) {
				aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", o->name, strerror(err));
				aiops_out_abort(o);
				return AIOPS_ERR_IO;
			}
		}
		aiops_free(o->buf);
		o->buf = NULL;
		return AIOPS_OK;
	}
	if (fsync(o->fd) != 0 || close(o->fd) != 0) {
		int err = errno;
		o->fd = -1;
		aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", o->path, strerror(err));
		aiops_out_abort(o);
		return AIOPS_ERR_IO;
	}
	o->fd = -1;
	if (rename(o->tmp, o->path) != 0) {
		int err = errno;
		aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot rename into place: %s", o->path,
		    strerror(err));
		aiops_out_abort(o);
		return AIOPS_ERR_IO;
	}
	{
		/* make the rename itself durable */
		char *d = aiops_strdup(o->path);
		if (d != NULL) {
			int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				fsync(dfd);
				close(dfd);
			}
			aiops_free(d);
		}
	}
	if (o->slot >= 0)
		slots[o->slot] = NULL;
	aiops_free(o->tmp);
	aiops_free(o->path);
	aiops_free(o->buf);
	o->tmp = o->path = NULL;
	o->buf = NULL;
	return AIOPS_OK;
}

void
aiops_out_abort(struct aiops_out *o)
{
	if (o->direct && o->fd >= 0)
		close(o->fd);
	if (o->tmp != NULL) {
		if (o->fd >= 0)
			close(o->fd);
		unlink(o->tmp);
		if (o->slot >= 0)
			slots[o->slot] = NULL;
	}
	o->fd = -1;
	aiops_free(o->tmp);
	aiops_free(o->path);
	aiops_free(o->buf);
	o->tmp = o->path = NULL;
	o->buf = NULL;
	o->len = 0;
}

int
aiops_out_commit_all(struct aiops_out *o, size_t n, struct aiops_error *e)
{
	char **done = aiops_calloc(n ? n : 1, sizeof(*done));
	size_t i, k;
	int r = AIOPS_OK;

	if (done == NULL)
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	/* the names to take back, copied before anything is renamed */
	for (i = 0; i < n && r == AIOPS_OK; i++)
		if (o[i].tmp != NULL && (done[i] = aiops_strdup(o[i].path)) == NULL)
			r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	for (i = 0; i < n && r == AIOPS_OK; i++)
		r = aiops_out_flush(&o[i], e);
	if (r != AIOPS_OK) {
		for (i = 0; i < n; i++)
			aiops_out_abort(&o[i]);
		goto out;
	}
	aiops_out_hold();
	for (i = 0; i < n; i++)
		if ((r = aiops_out_commit(&o[i], e)) != AIOPS_OK)
			break;   /* the commit removed its own temporary */
	if (r != AIOPS_OK) {
		for (k = 0; k < i; k++)
			if (done[k] != NULL)
				unlink(done[k]);
		for (k = i + 1; k < n; k++)
			aiops_out_abort(&o[k]);
	}
	aiops_out_release();
out:
	for (i = 0; done != NULL && i < n; i++)
		aiops_free(done[i]);
	aiops_free(done);
	return r;
}

int
aiops_out_stage(struct aiops_out *o, const char *path, const void *p, size_t n,
    struct aiops_error *e)
{
	int r;

	if ((r = aiops_out_open(o, path, e)) != AIOPS_OK)
		return r;
	if ((r = aiops_out_write(o, p, n, e)) != AIOPS_OK)
		aiops_out_abort(o);
	return r;
}

int
aiops_out_put(const char *path, const void *p, size_t n, struct aiops_error *e)
{
	struct aiops_out out;
	int r;

	if ((r = aiops_out_stage(&out, path, p, n, e)) != AIOPS_OK)
		return r;
	return aiops_out_commit(&out, e);   /* removes the temporary on failure */
}
