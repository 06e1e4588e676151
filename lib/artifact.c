/*
 * artifact.c - the aiops artifact (aiops-artifact(5)): packing a model and
 * its files into a reproducible tar.gz (libarchive writes the ustar
 * records, zlib compresses them in blocks that worker threads can share),
 * and reading one back: list, verify, safe extraction.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "artifact.h"
#include "model.h"
#include "oci.h"

#define IO_BUFSZ (1u << 20)           /* reads of input files and members */
#define RD_BUFSZ (256u << 10)         /* compressed and decompressed read chunks */
#define MAX_FILE_SIZE (077777777777ull) /* the largest size a ustar header holds */

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

/* s for a message: at most 200 bytes, control and non-ASCII bytes as '?'. */
static const char *
shown(const char *s, char buf[208])
{
	return s ? aiops_excerpt(s, strlen(s), 200, buf, 208) : "(none)";
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int
name_chars_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
	    *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '.' || *s == '+' || *s == '-'))
			return 0;
	return 1;
}

int
aiops_artifact_name_valid(const char *s)
{
	return s != NULL && name_chars_ok(s, 128);
}

int
aiops_artifact_member_name_valid(const char *s)
{
	return s != NULL && name_chars_ok(s, AIOPS_ARTIFACT_MAX_NAME) &&
	    strcmp(s, AIOPS_ARTIFACT_MANIFEST) != 0;
}

int
aiops_artifact_default_name(const char *model_path, struct aiops_buf *out, struct aiops_error *e)
{
	const char *b = base_name(model_path);
	size_t n = strlen(b);

	if (n > 3 && strcmp(b + n - 3, ".gz") == 0)
		n -= 3;
	if (n > 6 && strncmp(b + n - 6, ".model", 6) == 0)
		n -= 6;
	aiops_buf_reset(out);
	if (aiops_buf_add(out, b, n) != AIOPS_OK)
		return nomem(e);
	if (!aiops_artifact_name_valid(out->buf)) {
		char sb[208];
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "%s: cannot make an artifact name of \"%s\"; give one with -n", model_path,
		    shown(out->buf, sb));
	}
	return AIOPS_OK;
}

void
aiops_rfc3339(int64_t t, char out[21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		memcpy(out, "1970-01-01T00:00:00Z", 21);
}

/* Whether s has the shape aiops_rfc3339() writes. */
static int
rfc3339_ok(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";

	if (strlen(s) != 20)
		return 0;
	for (int i = 0; i < 20; i++)
		if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
			return 0;
	return 1;
}

static int
hex64_ok(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t
read_some(int fd, void *p, size_t n)
{
	ssize_t k;

	do
		k = read(fd, p, n);
	while (k < 0 && errno == EINTR);
	return k;
}

/* ---- gzip in blocks ------------------------------------------------------------------
 *
 * The tar stream is cut into GZ_BLOCK-byte blocks, each deflated on its own
 * with the 32 KiB before it as the dictionary and ended by a sync flush (the
 * last one by the final block), as pigz does; their concatenation is one raw
 * deflate stream inside one gzip member. The bytes depend on the data, the
 * level and GZ_BLOCK only, so any number of threads gives the same artifact,
 * and two cores compress at nearly twice the speed of one. The header has
 * no name, a zero time and OS byte 255 ("unknown").
 */
#define GZ_BLOCK (1u << 20)
#define GZ_WIN 32768u
#define GZ_MAXTHREADS 16

struct gz_job {
	unsigned char *in, *out;
	size_t n, outlen, outcap;
	unsigned char dict[GZ_WIN];
	size_t ndict;
	uLong crc;
	int last, done, err;
};

struct gz;

struct gz_worker {
	struct gz *g;
	z_stream zs;
	int zinit;
	pthread_t th;
	int started;
};

struct gz {
	struct aiops_out *out;
	int level;
	int nthreads;                  /* running workers; 0: compress inline */
	struct gz_worker *w;           /* max(1, threads wanted) */
	int nw;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	int sync_init;
	struct gz_job *job;
	size_t njob;
	uint64_t nsub, ntake, nwritten; /* jobs submitted, taken by workers, written */
	int stop;
	unsigned char tail[GZ_WIN];    /* the last GZ_WIN bytes submitted */
	size_t ntail;
	uLong crc;
	uint64_t isize;
	int failed;
	struct aiops_error err;
};

static voidpf
gz_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	return aiops_calloc(items, size);
}

static void
gz_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	aiops_free(p);
}

static void
gz_compress(z_stream *zs, struct gz_job *j)
{
	int r;

	j->crc = crc32(crc32(0L, Z_NULL, 0), j->in, (uInt)j->n);
	j->err = deflateReset(zs) != Z_OK;
	if (!j->err && j->ndict)
		j->err = deflateSetDictionary(zs, j->dict, (uInt)j->ndict) != Z_OK;
	if (j->err)
		return;
	zs->next_in = j->in;
	zs->avail_in = (uInt)j->n;
	zs->next_out = j->out;
	zs->avail_out = (uInt)j->outcap;
	r = deflate(zs, j->last ? Z_FINISH : Z_SYNC_FLUSH);
	/* outcap exceeds deflateBound, so one call always completes the block */
	if (j->last ? r != Z_STREAM_END : (r != Z_OK || zs->avail_in != 0 || zs->avail_out == 0))
		j->err = 1;
	j->outlen = j->outcap - zs->avail_out;
}

static void *
gz_worker_main(void *arg)
{
	struct gz_worker *w = arg;
	struct gz *g = w->g;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct gz_job *j;
		while (!g->stop && g->ntake == g->nsub)
			pthread_cond_wait(&g->cv_work, &g->mu);
		if (g->ntake == g->nsub)
			break;
		j = &g->job[g->ntake % g->njob];
		g->ntake++;
		pthread_mutex_unlock(&g->mu);
		gz_compress(&w->zs, j);
		pthread_mutex_lock(&g->mu);
		j->done = 1;
		pthread_cond_broadcast(&g->cv_done);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void
gz_release(struct gz *g)
{
	if (g->sync_init) {
		pthread_mutex_lock(&g->mu);
		g->stop = 1;
		pthread_cond_broadcast(&g->cv_work);
		pthread_mutex_unlock(&g->mu);
	}
	for (int i = 0; g->w && i < g->nw; i++) {
		if (g->w[i].started)
			pthread_join(g->w[i].th, NULL);
		if (g->w[i].zinit)
			deflateEnd(&g->w[i].zs);
	}
	if (g->sync_init) {
		pthread_mutex_destroy(&g->mu);
		pthread_cond_destroy(&g->cv_work);
		pthread_cond_destroy(&g->cv_done);
	}
	for (size_t i = 0; g->job && i < g->njob; i++) {
		aiops_free(g->job[i].in);
		aiops_free(g->job[i].out);
	}
	aiops_free(g->job);
	aiops_free(g->w);
	memset(g, 0, sizeof(*g));
}

static int
gz_open(struct gz *g, struct aiops_out *out, int level, int threads, struct aiops_error *e)
{
	/* magic, deflate, no flags, time 0, XFL as zlib sets it, OS 255 */
	unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };

	memset(g, 0, sizeof(*g));
	g->out = out;
	g->level = level;
	if (threads > GZ_MAXTHREADS)
		threads = GZ_MAXTHREADS;
	g->nw = threads > 1 ? threads : 1;
	g->njob = threads > 1 ? 2 * (size_t)threads : 1;
	if ((g->w = aiops_calloc((size_t)g->nw, sizeof(*g->w))) == NULL ||
	    (g->job = aiops_calloc(g->njob, sizeof(*g->job))) == NULL)
		goto nomem;
	for (size_t i = 0; i < g->njob; i++) {
		g->job[i].outcap = compressBound(GZ_BLOCK) + 1024;
		if ((g->job[i].in = aiops_malloc(GZ_BLOCK)) == NULL ||
		    (g->job[i].out = aiops_malloc(g->job[i].outcap)) == NULL)
			goto nomem;
	}
	for (int i = 0; i < g->nw; i++) {
		struct gz_worker *w = &g->w[i];
		w->g = g;
		w->zs.zalloc = gz_alloc;
		w->zs.zfree = gz_free;
		if (deflateInit2(&w->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			goto nomem;
		w->zinit = 1;
	}
	if (pthread_mutex_init(&g->mu, NULL) != 0)
		goto nomem;
	if (pthread_cond_init(&g->cv_work, NULL) != 0) {
		pthread_mutex_destroy(&g->mu);
		goto nomem;
	}
	if (pthread_cond_init(&g->cv_done, NULL) != 0) {
		pthread_cond_destroy(&g->cv_work);
		pthread_mutex_destroy(&g->mu);
		goto nomem;
	}
	g->sync_init = 1;
	if (threads > 1) {
		/* fewer threads than asked (or none) only costs speed: the bytes are the same */
		for (int i = 0; i < g->nw; i++) {
			if (pthread_create(&g->w[i].th, NULL, gz_worker_main, &g->w[i]) != 0)
				break;
			g->w[i].started = 1;
			g->nthreads++;
		}
	}
	hdr[8] = level == 9 ? 2 : level == 1 ? 4 : 0;
	g->crc = crc32(0L, Z_NULL, 0);
	return aiops_out_write(out, hdr, sizeof(hdr), e);
nomem:
	gz_release(g);
	return nomem(e);
}

/* Write the oldest submitted job's output (waiting for it). */
static int
gz_write_one(struct gz *g, struct aiops_error *e)
{
	struct gz_job *j = &g->job[g->nwritten % g->njob];

	if (g->nthreads) {
		pthread_mutex_lock(&g->mu);
		while (!j->done)
			pthread_cond_wait(&g->cv_done, &g->mu);
		pthread_mutex_unlock(&g->mu);
	}
	if (j->err)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: deflate failed on block %llu",
		    g->out->name, (unsigned long long)g->nwritten);
	if (aiops_out_write(g->out, j->out, j->outlen, e) != AIOPS_OK)
		return e ? e->code : AIOPS_ERR_IO;
	g->crc = crc32_combine(g->crc, j->crc, (z_off_t)j->n);
	j->n = 0;
	j->done = 0;
	g->nwritten++;
	return AIOPS_OK;
}

static void
gz_submit(struct gz *g, int last)
{
	struct gz_job *j = &g->job[g->nsub % g->njob];

	memcpy(j->dict, g->tail, g->ntail);
	j->ndict = g->ntail;
	if (j->n >= GZ_WIN) {
		memcpy(g->tail, j->in + j->n - GZ_WIN, GZ_WIN);
		g->ntail = GZ_WIN;
	}
	j->last = last;
	j->done = 0;
	j->err = 0;
	g->isize += j->n;
	if (g->nthreads == 0) {
		gz_compress(&g->w[0].zs, j);
		j->done = 1;
		g->nsub++;
		return;
	}
	pthread_mutex_lock(&g->mu);
	g->nsub++;
	pthread_cond_signal(&g->cv_work);
	pthread_mutex_unlock(&g->mu);
}

static int
gz_write(struct gz *g, const void *p, size_t n, struct aiops_error *e)
{
	const unsigned char *s = p;

	while (n > 0) {
		struct gz_job *j = &g->job[g->nsub % g->njob];
		size_t k;

		/* the slot to fill must have been written out */
		while (g->nsub - g->nwritten >= g->njob)
			if (gz_write_one(g, e) != AIOPS_OK)
				return e ? e->code : AIOPS_ERR_IO;
		k = GZ_BLOCK - j->n;
		if (k > n)
			k = n;
		memcpy(j->in + j->n, s, k);
		j->n += k;
		s += k;
		n -= k;
		if (j->n == GZ_BLOCK)
			gz_submit(g, 0);
	}
	return AIOPS_OK;
}

static int
gz_finish(struct gz *g, struct aiops_error *e)
{
	unsigned char t[8];

	while (g->nsub - g->nwritten >= g->njob)
		if (gz_write_one(g, e) != AIOPS_OK)
			return e ? e->code : AIOPS_ERR_IO;
	gz_submit(g, 1);
	while (g->nwritten < g->nsub)
		if (gz_write_one(g, e) != AIOPS_OK)
			return e ? e->code : AIOPS_ERR_IO;
	aiops_put_u32(t, (uint32_t)g->crc);
	aiops_put_u32(t + 4, (uint32_t)g->isize);
	return aiops_out_write(g->out, t, 8, e);
}

/* libarchive's write callback: the tar bytes into the compressor. */
static la_ssize_t
tar_write_cb(struct archive *a, void *ud, const void *p, size_t n)
{
	struct gz *g = ud;

	(void)a;
	if (g->failed)
		return -1;
	if (gz_write(g, p, n, &g->err) != AIOPS_OK) {
		g->failed = 1;
		return -1;
	}
	return (la_ssize_t)n;
}

/* ---- packing -------------------------------------------------------------------------- */

struct pfile {
	const char *path;       /* as given */
	const char *name;       /* member name: the base name */
	const char *role;
	uint64_t size;
	char sha[65];
};

static int
pfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pfile *)a)->name, ((const struct pfile *)b)->name);
}

/* SHA-256 (hex) and size of a regular file, streaming. */
static int
file_sum(const char *path, unsigned char *buf, char hex[65], uint64_t *size,
    struct aiops_error *e)
{
	unsigned char d[32];
	struct stat st;
	int r;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
		    "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > MAX_FILE_SIZE) {
		close(fd);
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: larger than 8 GiB, the most a member holds",
		    path);
	}
	r = aiops_sha256_fd(fd, buf, IO_BUFSZ, d, size);
	if (r == AIOPS_ERR_IO)
		aiops_error_set(e, r, "%s: read error: %s", path, strerror(errno));
	else if (r != AIOPS_OK)
		nomem(e);
	close(fd);
	if (r == AIOPS_OK)
		aiops_hex(d, 32, hex);
	return r;
}

static int
tar_error(struct archive *aw, struct gz *g, const char *what, struct aiops_error *e)
{
	if (g->failed) {
		if (e)
			*e = g->err;
		return g->err.code;
	}
	return aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", what, archive_error_string(aw) ?
	    archive_error_string(aw) : "tar write error");
}

static int
tar_header(struct archive *aw, struct gz *g, const char *name, uint64_t size, int64_t mtime,
    struct aiops_error *e)
{
	struct archive_entry *ent = archive_entry_new();
	int r;

	if (ent == NULL)
		return nomem(e);
	archive_entry_set_pathname(ent, name);
	archive_entry_set_size(ent, (la_int64_t)size);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_mtime(ent, (time_t)mtime, 0);
	archive_entry_set_uid(ent, 0);
	archive_entry_set_gid(ent, 0);
	r = archive_write_header(aw, ent);
	archive_entry_free(ent);
	return r == ARCHIVE_OK ? AIOPS_OK : tar_error(aw, g, name, e);
}

static int
tar_data(struct archive *aw, struct gz *g, const char *name, const void *p, size_t n,
    struct aiops_error *e)
{
	const char *c = p;

	while (n > 0) {
		la_ssize_t w = archive_write_data(aw, c, n);
		if (w <= 0)
			return tar_error(aw, g, name, e);
		c += w;
		n -= (size_t)w;
	}
	return AIOPS_OK;
}

/* The second read of f: into the tar, checked against the first. */
static int
tar_file(struct archive *aw, struct gz *g, const struct pfile *f, int64_t mtime,
    unsigned char *buf, struct aiops_error *e)
{
	struct aiops_sha256 h;
	unsigned char d[32];
	char hex[65];
	uint64_t total = 0;
	ssize_t k;
	struct stat st;
	int r, fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: changed while it was being packed", f->path);
	}
	if ((r = tar_header(aw, g, f->name, f->size, mtime, e)) != AIOPS_OK) {
		close(fd);
		return r;
	}
	if (aiops_sha256_init(&h) != AIOPS_OK) {
		close(fd);
		return nomem(e);
	}
	while ((k = read_some(fd, buf, IO_BUFSZ)) > 0) {
		total += (uint64_t)k;
		if (total > f->size)
			break;
		aiops_sha256_update(&h, buf, (size_t)k);
		if ((r = tar_data(aw, g, f->name, buf, (size_t)k, e)) != AIOPS_OK) {
			aiops_sha256_release(&h);
			close(fd);
			return r;
		}
	}
	if (k < 0) {
		int err = errno;
		aiops_sha256_release(&h);
		close(fd);
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: read error: %s", f->path, strerror(err));
	}
	close(fd);
	aiops_sha256_final(&h, d);
	aiops_hex(d, 32, hex);
	if (total != f->size || strcmp(hex, f->sha) != 0)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: changed while it was being packed", f->path);
	return AIOPS_OK;
}

/* The report's metrics: its "metrics" member as it is, else its top-level numbers. */
static int
report_metrics(const char *path, json_t **out, struct aiops_error *e)
{
	json_error_t je;
	json_t *o, *m;
	const char *k;
	json_t *v;
	FILE *f = fopen(path, "rb");
	unsigned long nfail;

	*out = NULL;
	if (f == NULL)
		return aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
		    "%s: cannot open: %s", path, strerror(errno));
	nfail = aiops_alloc_failures();
	o = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (o == NULL && aiops_nomem_since(nfail, e) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if (o == NULL)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s:%d:%d: %s", path, je.line, je.column,
		    je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: the report is not a JSON object", path);
	}
	if ((m = json_object_get(o, "metrics")) != NULL) {
		m = json_deep_copy(m);
	} else if ((m = json_object()) != NULL) {
		json_object_foreach(o, k, v)
			if (json_is_number(v) && json_object_set(m, k, v) != 0) {
				json_decref(m);
				m = NULL;
				break;
			}
	}
	json_decref(o);
	if (m == NULL)
		return nomem(e);
	*out = m;
	return AIOPS_OK;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v, with a '.' or an exponent. */
static void
real_text(double v, char out[40])
{
	for (int p = 15; p <= 17; p++) {
		snprintf(out, 40, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			break;
	}
	if (strpbrk(out, ".eEn") == NULL)
		strcat(out, ".0");
}

/*
 * JSON text of v as json_dumps(JSON_INDENT(2) | JSON_SORT_KEYS) writes it,
 * but with each real in its shortest exact form (jansson writes 17 digits,
 * 0.9 as 0.90000000000000002), so a report's metrics read as they were.
 */
static int
json_emit(struct aiops_buf *b, const json_t *v, int depth)
{
	char num[40];
	int r = AIOPS_OK;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys;
		const char *key;
		json_t *x;
		if (n == 0)
			return aiops_buf_addstr(b, "{}");
		if ((keys = aiops_calloc(n, sizeof(*keys))) == NULL)
			return AIOPS_ERR_NOMEM;
		json_object_foreach((json_t *)v, key, x)
			keys[k++] = key;
		for (size_t i = 1; i < n; i++)  /* insertion sort: objects are small */
			for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
				const char *t = keys[j];
				keys[j] = keys[j - 1];
				keys[j - 1] = t;
			}
		r |= aiops_buf_addch(b, '{');
		for (size_t i = 0; i < n && r == AIOPS_OK; i++) {
			json_t *ks = json_string(keys[i]);
			char *kt = ks ? json_dumps(ks, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
			json_decref(ks);
			if (kt == NULL) {
				r = AIOPS_ERR_NOMEM;
				break;
			}
			r |= aiops_buf_addf(b, "%s\n%*s%s: ", i ? "," : "", 2 * (depth + 1), "", kt);
			free(kt);
			if (r == AIOPS_OK)
				r = json_emit(b, json_object_get(v, keys[i]), depth + 1);
		}
		aiops_free(keys);
		if (r == AIOPS_OK)
			r = aiops_buf_addf(b, "\n%*s}", 2 * depth, "");
		return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
	}
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			return aiops_buf_addstr(b, "[]");
		r |= aiops_buf_addch(b, '[');
		for (size_t i = 0; i < json_array_size(v) && r == AIOPS_OK; i++) {
			r |= aiops_buf_addf(b, "%s\n%*s", i ? "," : "", 2 * (depth + 1), "");
			if (r == AIOPS_OK)
				r = json_emit(b, json_array_get(v, i), depth + 1);
		}
		if (r == AIOPS_OK)
			r = aiops_buf_addf(b, "\n%*s]", 2 * depth, "");
		return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
	case JSON_REAL:
		real_text(json_real_value(v), num);
		return aiops_buf_addstr(b, num);
	default: {
		/* strings, integers, true, false, null: as jansson writes them */
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
		if (s == NULL)
			return AIOPS_ERR_NOMEM;
		r = aiops_buf_addstr(b, s);
		free(s);
		return r;
	}
	}
}

/* The manifest (aiops-artifact(5)) as its bytes: indented, keys sorted, a final newline. */
static int
build_manifest(const struct aiops_pack_opts *o, const char *name, int64_t created,
    const struct aiops_model *m, json_t *metrics, const struct pfile *pf, size_t npf,
    struct aiops_buf *out, struct aiops_error *e)
{
	json_t *man, *mod, *params, *cols, *files, *train, *prov;
	char when[21];
	int bad = 0;

	aiops_rfc3339(created, when);
	man = json_object();
	mod = json_object();
	params = json_object();
	cols = json_array();
	files = json_array();
	if (man == NULL || mod == NULL || params == NULL || cols == NULL || files == NULL) {
		json_decref(man);
		json_decref(mod);
		json_decref(params);
		json_decref(cols);
		json_decref(files);
		return nomem(e);
	}
	for (size_t i = 0; i < m->params.n; i++)
		bad |= json_object_set_new(params, m->params.name[i], json_real(m->params.v[i]));
	for (size_t j = 0; j < m->ncols; j++)
		bad |= json_array_append_new(cols, json_string(m->names[j]));
	for (size_t i = 0; i < npf; i++)
		bad |= json_array_append_new(files, json_pack("{s:s,s:s,s:I,s:s}", "name", pf[i].name,
		    "role", pf[i].role, "size", (json_int_t)pf[i].size, "sha256", pf[i].sha));
	bad |= json_object_set_new(mod, "file", json_string(base_name(o->model)));
	bad |= json_object_set_new(mod, "family", json_string(m->family->name));
	bad |= json_object_set_new(mod, "kind", json_string(m->family->kind));
	bad |= json_object_set_new(mod, "params", params);
	bad |= json_object_set_new(mod, "columns", cols);
	if (isfinite(m->threshold))
		bad |= json_object_set_new(mod, "threshold", json_real(m->threshold));
	if ((prov = json_object_get(m->meta, "provenance")) != NULL)
		bad |= json_object_set(mod, "provenance", prov);
	train = json_object_get(m->meta, "train");
	bad |= json_object_set_new(man, "schema_version", json_integer(AIOPS_ARTIFACT_SCHEMA));
	bad |= json_object_set_new(man, "name", json_string(name));
	bad |= json_object_set_new(man, "version", json_string(o->version));
	bad |= json_object_set_new(man, "created", json_string(when));
	bad |= json_object_set_new(man, "tool", json_string("aiops-pack " AIOPS_VERSION));
	bad |= json_object_set_new(man, "model", mod);
	bad |= json_object_set(man, "train", train);
	bad |= json_object_set_new(man, "files", files);
	if (metrics != NULL) {
		bad |= json_object_set(man, "metrics", metrics);
		bad |= json_object_set_new(man, "report", json_string(base_name(o->report)));
	}
	aiops_buf_reset(out);
	if (!bad)
		bad = json_emit(out, man, 0) != AIOPS_OK || aiops_buf_addch(out, '\n') != AIOPS_OK;
	json_decref(man);
	return bad ? nomem(e) : AIOPS_OK;
}

int
aiops_artifact_pack(const struct aiops_pack_opts *o, struct aiops_out *out, struct aiops_error *e)
{
	struct aiops_buf name = AIOPS_BUF_INIT, man = AIOPS_BUF_INIT;
	struct aiops_model m;
	struct pfile *pf = NULL;
	size_t npf = 0;
	json_t *metrics = NULL, *train, *prov;
	unsigned char *buf = NULL;
	struct archive *aw = NULL;
	struct gz g;
	int r, have_m = 0, have_gz = 0, level = o->level < 0 ? 6 : o->level;
	int64_t created = o->created;
	char sb[208];

	memset(&g, 0, sizeof(g));
	if (level > 9)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "bad gzip level %d: expected 0 to 9", level);
	if (o->version == NULL || !aiops_artifact_name_valid(o->version))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "bad version \"%s\": expected letters, digits, '_', '.', '+' and '-', "
		    "not starting with '.', '+' or '-', at most 128 bytes", shown(o->version, sb));
	if (o->name) {
		if (!aiops_artifact_name_valid(o->name))
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "bad name \"%s\": expected letters, digits, '_', '.', '+' and '-', "
			    "not starting with '.', '+' or '-', at most 128 bytes", shown(o->name, sb));
		if (aiops_buf_addstr(&name, o->name) != AIOPS_OK)
			return nomem(e);
	} else if ((r = aiops_artifact_default_name(o->model, &name, e)) != AIOPS_OK) {
		aiops_buf_release(&name);
		return r;
	}

	/* the files and their member names */
	if ((pf = aiops_calloc(o->nfiles + 2, sizeof(*pf))) == NULL) {
		r = nomem(e);
		goto out;
	}
	pf[npf].path = o->model;
	pf[npf++].role = "model";
	if (o->report) {
		pf[npf].path = o->report;
		pf[npf++].role = "report";
	}
	for (size_t i = 0; i < o->nfiles; i++) {
		pf[npf].path = o->files[i];
		pf[npf++].role = "file";
	}
	for (size_t i = 0; i < npf; i++) {
		struct stat st;
		if (stat(pf[i].path, &st) != 0) {
			r = aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
			    "%s: cannot open: %s", pf[i].path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			r = aiops_error_set(e, AIOPS_ERR_USAGE, "%s: not a regular file", pf[i].path);
			goto out;
		}
		pf[i].name = base_name(pf[i].path);
		if (strcmp(pf[i].name, AIOPS_ARTIFACT_MANIFEST) == 0) {
			r = aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: the name manifest.json is the artifact's own; rename the file", pf[i].path);
			goto out;
		}
		if (!aiops_artifact_member_name_valid(pf[i].name)) {
			r = aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: cannot be stored as \"%s\": a member name is letters, digits, '_', '.', "
			    "'+' and '-', not starting with '.', '+' or '-', at most 100 bytes",
			    pf[i].path, shown(pf[i].name, sb));
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(pf[i].name, pf[j].name) == 0) {
				r = aiops_error_set(e, AIOPS_ERR_USAGE,
				    "%s and %s would both be stored as \"%s\"", pf[j].path, pf[i].path, pf[i].name);
				goto out;
			}
	}

	/* the model: it must load, and it gives the family, parameters and fingerprint */
	if ((r = aiops_model_load(&m, o->model, e)) != AIOPS_OK)
		goto out;
	have_m = 1;
	train = json_object_get(m.meta, "train");
	if (!hex64_ok(json_string_value(json_object_get(train, "sha256")))) {
		r = aiops_error_set(e, AIOPS_ERR_DATA,
		    "%s: the model has no training-data fingerprint (train.sha256)", o->model);
		goto out;
	}
	if (created < 0) {
		prov = json_object_get(json_object_get(m.meta, "provenance"), "created");
		if (!json_is_integer(prov) || json_integer_value(prov) < 0) {
			r = aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: no creation time: the model has no provenance.created; set SOURCE_DATE_EPOCH",
			    o->model);
			goto out;
		}
		created = (int64_t)json_integer_value(prov);
	}
	if (created > 253402300799LL) {
		r = aiops_error_set(e, AIOPS_ERR_USAGE, "creation time %lld is after the year 9999",
		    (long long)created);
		goto out;
	}
	if (o->report && (r = report_metrics(o->report, &metrics, e)) != AIOPS_OK)
		goto out;

	/* first read: sizes and sums for the manifest */
	if ((buf = aiops_malloc(IO_BUFSZ)) == NULL) {
		r = nomem(e);
		goto out;
	}
	for (size_t i = 0; i < npf; i++)
		if ((r = file_sum(pf[i].path, buf, pf[i].sha, &pf[i].size, e)) != AIOPS_OK)
			goto out;
	qsort(pf, npf, sizeof(*pf), pfile_cmp);
	if ((r = build_manifest(o, name.buf, created, &m, metrics, pf, npf, &man, e)) != AIOPS_OK)
		goto out;

	/* second read: manifest.json, then the files by name, into ustar records */
	if ((r = gz_open(&g, out, level, o->jobs, e)) != AIOPS_OK)
		goto out;
	have_gz = 1;
	if ((aw = archive_write_new()) == NULL) {
		r = nomem(e);
		goto out;
	}
	if (archive_write_set_format_ustar(aw) != ARCHIVE_OK ||
	    archive_write_open(aw, &g, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
		r = tar_error(aw, &g, out->name, e);
		goto out;
	}
	if ((r = tar_header(aw, &g, AIOPS_ARTIFACT_MANIFEST, man.len, created, e)) != AIOPS_OK ||
	    (r = tar_data(aw, &g, AIOPS_ARTIFACT_MANIFEST, man.buf, man.len, e)) != AIOPS_OK)
		goto out;
	for (size_t i = 0; i < npf; i++)
		if ((r = tar_file(aw, &g, &pf[i], created, buf, e)) != AIOPS_OK)
			goto out;
	if (archive_write_close(aw) != ARCHIVE_OK) {
		r = tar_error(aw, &g, out->name, e);
		goto out;
	}
	r = gz_finish(&g, e);
out:
	if (aw)
		archive_write_free(aw);
	if (have_gz)
		gz_release(&g);
	if (have_m)
		aiops_model_release(&m);
	json_decref(metrics);
	aiops_free(buf);
	aiops_free(pf);
	aiops_buf_release(&name);
	aiops_buf_release(&man);
	return r;
}

/* ---- reading -------------------------------------------------------------------------
 *
 * The gzip stream is inflated here (zlib checks its CRC and length) and the
 * tar records are parsed by libarchive from that, so that this file decides
 * what a sound stream is: one gzip member, nothing after it.
 */
struct rd {
	const char *path;           /* for messages */
	int fd, own_fd;
	z_stream z;
	int zinit, zend, started;
	unsigned char *in, *out;
	struct archive *ar;
	int failed;                 /* the read callback failed: err says why */
	struct aiops_error err;     /* its message names no file */
};

static int
rd_fail(struct rd *r, int code, const char *fmt, const char *arg)
{
	r->failed = 1;
	aiops_error_set(&r->err, code, fmt, arg);
	return -1;
}

/* The next decompressed bytes: >0, 0 at the end of the gzip stream, <0 on error. */
static ssize_t
rd_fill(struct rd *r, const void **p)
{
	if (r->failed)
		return -1;
	if (r->zend)
		return 0;
	r->z.next_out = r->out;
	r->z.avail_out = RD_BUFSZ;
	while (r->z.avail_out == RD_BUFSZ) {
		int zr;
		if (r->z.avail_in == 0) {
			ssize_t k = read_some(r->fd, r->in, RD_BUFSZ);
			if (k < 0)
				return rd_fail(r, AIOPS_ERR_IO, "read error: %s", strerror(errno));
			if (k == 0)
				return rd_fail(r, AIOPS_ERR_FORMAT, "%s",
				    r->started ? "truncated (the gzip stream ends early)" :
				    "not an aiops artifact (empty file)");
			if (!r->started && (k < 2 || r->in[0] != 0x1f || r->in[1] != 0x8b))
				return rd_fail(r, AIOPS_ERR_FORMAT, "%s",
				    "not an aiops artifact (not gzip-compressed)");
			r->started = 1;
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)k;
		}
		zr = inflate(&r->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			char c;
			r->zend = 1;
			if (r->z.avail_in != 0 || read_some(r->fd, &c, 1) != 0)
				return rd_fail(r, AIOPS_ERR_FORMAT, "%s",
				    "unexpected bytes after the end of the gzip stream");
			break;
		}
		if (zr == Z_MEM_ERROR)
			return rd_fail(r, AIOPS_ERR_NOMEM, "%s", "out of memory");
		if (zr != Z_OK)
			return rd_fail(r, AIOPS_ERR_FORMAT, "corrupt gzip data (%s)",
			    r->z.msg ? r->z.msg : "no progress");
	}
	*p = r->out;
	return (ssize_t)(RD_BUFSZ - r->z.avail_out);
}

static la_ssize_t
rd_cb(struct archive *a, void *ud, const void **p)
{
	struct rd *r = ud;
	ssize_t k = rd_fill(r, p);

	if (k < 0) {
		archive_set_error(a, EIO, "%s", r->err.msg);
		return -1;
	}
	return (la_ssize_t)k;
}

static void
rd_close(struct rd *r)
{
	if (r->ar)
		archive_read_free(r->ar);
	if (r->zinit)
		inflateEnd(&r->z);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	aiops_free(r->in);
	aiops_free(r->out);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static int
rd_open(struct rd *r, const char *path, struct aiops_error *e)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (strcmp(path, "-") == 0) {
		r->path = "<stdin>";
		r->fd = STDIN_FILENO;
	} else {
		struct stat st;
		r->path = path;
		if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
			    "%s: cannot open: %s", path, strerror(errno));
		r->own_fd = 1;
		if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			rd_close(r);
			return aiops_error_set(e, AIOPS_ERR_IO, "%s: is a directory", path);
		}
	}
	r->z.zalloc = gz_alloc;
	r->z.zfree = gz_free;
	if ((r->in = aiops_malloc(RD_BUFSZ)) == NULL || (r->out = aiops_malloc(RD_BUFSZ)) == NULL ||
	    inflateInit2(&r->z, 16 + 15) != Z_OK)
		goto nomem;
	r->zinit = 1;
	if ((r->ar = archive_read_new()) == NULL ||
	    archive_read_support_format_tar(r->ar) != ARCHIVE_OK)
		goto nomem;
	if (archive_read_open(r->ar, r, NULL, rd_cb, NULL) != ARCHIVE_OK) {
		int code = r->failed ? r->err.code : AIOPS_ERR_FORMAT;
		if (r->failed)
			aiops_error_set(e, code, "%s: %s", r->path, r->err.msg);
		else
			aiops_error_set(e, code, "%s: not an aiops artifact (%s)", r->path,
			    archive_error_string(r->ar) ? archive_error_string(r->ar) : "not a tar archive");
		rd_close(r);
		return code;
	}
	return AIOPS_OK;
nomem:
	rd_close(r);
	return nomem(e);
}

/* Why ent may not be in an artifact, or NULL when it may. */
static const char *
member_problem(struct archive_entry *ent, char *why, size_t whysz)
{
	const char *name = archive_entry_pathname(ent);
	char sb[208];

	if (archive_entry_hardlink(ent) != NULL) {
		snprintf(why, whysz, "a hard link (to \"%s\")", shown(archive_entry_hardlink(ent), sb));
		return why;
	}
	switch (archive_entry_filetype(ent)) {
	case AE_IFREG:
		break;
	case AE_IFLNK:
		snprintf(why, whysz, "a symbolic link (to \"%s\")", shown(archive_entry_symlink(ent), sb));
		return why;
	case AE_IFDIR:
		return "a directory";
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a FIFO";
	default:
		return "not a regular file";
	}
	if (archive_entry_sparse_count(ent) > 0)
		return "a sparse file";
	if (name == NULL || *name == '\0')
		return "an empty name";
	if (name[0] == '/')
		return "an absolute path";
	for (const char *p = name; *p; ) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "a path with \"..\"";
		p += n + (p[n] == '/');
	}
	if (strchr(name, '/'))
		return "a path, not a plain name";
	if (!name_chars_ok(name, AIOPS_ARTIFACT_MAX_NAME))
		return "a name of other than letters, digits, '_', '.', '+' and '-', or over 100 bytes";
	if (!archive_entry_size_is_set(ent) || archive_entry_size(ent) < 0)
		return "no size";
	return NULL;
}

static int
member_index(const struct aiops_artifact *a, const char *name)
{
	for (size_t i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Check the manifest in a->raw against the schema and fill a. */
static int
manifest_parse(struct aiops_artifact *a, const char *path, struct aiops_error *e)
{
	json_error_t je;
	unsigned long nfail;
	json_t *o, *v, *mod, *files;
	json_int_t sv;
	const char *what = NULL;
	int nmodel = 0;

	nfail = aiops_alloc_failures();
	o = json_loadb(a->raw.buf ? a->raw.buf : "", a->raw.len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL && aiops_nomem_since(nfail, e) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if (o == NULL)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: manifest.json:%d:%d: %s", path, je.line,
		    je.column, je.text);
	a->manifest = o;
	if (!json_is_object(o))
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: manifest.json: not a JSON object", path);
	v = json_object_get(o, "schema_version");
	if (!json_is_integer(v))
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: manifest.json: schema_version is missing or not an integer", path);
	sv = json_integer_value(v);
	if (sv > AIOPS_ARTIFACT_SCHEMA)
		return aiops_error_set(e, AIOPS_ERR_VERSION,
		    "%s: artifact schema version %lld is newer than this reader (version %d); upgrade aiops",
		    path, (long long)sv, AIOPS_ARTIFACT_SCHEMA);
	if (sv < 1)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad artifact schema version %lld", path,
		    (long long)sv);
	a->schema_version = (int)sv;
	a->name = json_string_value(json_object_get(o, "name"));
	a->version = json_string_value(json_object_get(o, "version"));
	a->created = json_string_value(json_object_get(o, "created"));
	mod = json_object_get(o, "model");
	a->model = json_string_value(json_object_get(mod, "file"));
	a->family = json_string_value(json_object_get(mod, "family"));
	a->train_sha256 = json_string_value(json_object_get(json_object_get(o, "train"), "sha256"));
	files = json_object_get(o, "files");
	if (!aiops_artifact_name_valid(a->name))
		what = "name is missing or not a valid name";
	else if (!aiops_artifact_name_valid(a->version))
		what = "version is missing or not a valid version";
	else if (a->created == NULL || !rfc3339_ok(a->created))
		what = "created is missing or not a time like 2023-11-14T22:13:20Z";
	else if (!json_is_string(json_object_get(o, "tool")))
		what = "tool is missing or not a string";
	else if (!aiops_artifact_member_name_valid(a->model))
		what = "model.file is missing or not a member name";
	else if (a->family == NULL)
		what = "model.family is missing or not a string";
	else if (!json_is_object(json_object_get(mod, "params")))
		what = "model.params is missing or not an object";
	else if (!hex64_ok(a->train_sha256))
		what = "train.sha256 is missing or not 64 lowercase hexadecimal digits";
	else if (!json_is_array(files) || json_array_size(files) == 0)
		what = "files is missing, not an array or empty";
	if (what)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: manifest.json: %s", path, what);
	a->nfiles = json_array_size(files);
	if ((a->files = aiops_calloc(a->nfiles, sizeof(*a->files))) == NULL)
		return nomem(e);
	for (size_t i = 0; i < a->nfiles; i++) {
		json_t *f = json_array_get(files, i), *sz = json_object_get(f, "size");
		struct aiops_artifact_file *af = &a->files[i];
		const char *sha = json_string_value(json_object_get(f, "sha256"));
		af->name = json_string_value(json_object_get(f, "name"));
		af->role = json_string_value(json_object_get(f, "role"));
		if (!aiops_artifact_member_name_valid(af->name) || af->role == NULL ||
		    (strcmp(af->role, "model") != 0 && strcmp(af->role, "report") != 0 &&
		    strcmp(af->role, "file") != 0) || !json_is_integer(sz) || json_integer_value(sz) < 0 ||
		    !hex64_ok(sha))
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: manifest.json: files[%zu] lacks a valid name, role, size or sha256", path, i);
		af->size = (uint64_t)json_integer_value(sz);
		memcpy(af->sha256, sha, 65);
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->files[j].name, af->name) == 0)
				return aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s: manifest.json: files lists \"%s\" twice", path, af->name);
		if (strcmp(af->role, "model") == 0) {
			nmodel++;
			if (strcmp(af->name, a->model) != 0)
				return aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s: manifest.json: the file of role model is \"%s\", model.file \"%s\"", path,
				    af->name, a->model);
		}
	}
	if (nmodel != 1)
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: manifest.json: files holds %d files of role model, not one", path, nmodel);
	if ((v = json_object_get(o, "report")) != NULL) {
		int k = json_is_string(v) ? member_index(a, json_string_value(v)) : -1;
		if (k < 0 || strcmp(a->files[k].role, "report") != 0)
			return aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: manifest.json: report does not name a file of role report", path);
	}
	return AIOPS_OK;
}

void
aiops_artifact_release(struct aiops_artifact *a)
{
	aiops_buf_release(&a->raw);
	json_decref(a->manifest);
	aiops_free(a->files);
	memset(a, 0, sizeof(*a));
}

/* What a walk over the members does with them. */
enum { W_OPEN, W_LIST, W_VERIFY, W_EXTRACT };

struct walk {
	int mode;
	struct aiops_artifact *a;
	int (*fn)(void *, const char *, uint64_t, const char *, const char *);
	void *ud;
	int stfd;                   /* W_EXTRACT: the staging directory */
	const char *stpath;         /* and its path, for messages and the model */
	char *model_tmp;            /* W_VERIFY: a temporary file holding the model */
};

/* An error from inside libarchive (or our read callback under it). */
static int
rd_error(struct rd *r, const char *member, struct aiops_error *e)
{
	char sb[208];
	int code = r->failed ? r->err.code : AIOPS_ERR_FORMAT;
	const char *msg = r->failed ? r->err.msg : archive_error_string(r->ar);

	if (msg == NULL)
		msg = "damaged tar archive";
	if (member)
		return aiops_error_set(e, code, "%s: %s: %s", r->path, shown(member, sb), msg);
	return aiops_error_set(e, code, "%s: %s", r->path, msg);
}

/* Read the current member's data: sum it, keep it (keep), write it to fd (>= 0). */
static int
member_read(struct rd *r, const char *name, unsigned char *buf, struct aiops_buf *keep,
    int fd, const char *fdname, char hex[65], uint64_t *size, struct aiops_error *e)
{
	struct aiops_sha256 h;
	unsigned char d[32];
	uint64_t total = 0;

	if (aiops_sha256_init(&h) != AIOPS_OK)
		return nomem(e);
	for (;;) {
		la_ssize_t k = archive_read_data(r->ar, buf, IO_BUFSZ);
		if (k == 0)
			break;
		if (k < 0) {
			aiops_sha256_release(&h);
			return rd_error(r, name, e);
		}
		aiops_sha256_update(&h, buf, (size_t)k);
		total += (uint64_t)k;
		if (keep) {
			if (total > AIOPS_ARTIFACT_MAX_MANIFEST) {
				aiops_sha256_release(&h);
				return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: %s: larger than %u bytes", r->path,
				    name, AIOPS_ARTIFACT_MAX_MANIFEST);
			}
			if (aiops_buf_add(keep, buf, (size_t)k) != AIOPS_OK) {
				aiops_sha256_release(&h);
				return nomem(e);
			}
		}
		if (fd >= 0 && write_all(fd, buf, (size_t)k) != 0) {
			int err = errno;
			aiops_sha256_release(&h);
			return aiops_error_set(e, AIOPS_ERR_IO, "%s: write error: %s", fdname, strerror(err));
		}
	}
	aiops_sha256_final(&h, d);
	aiops_hex(d, 32, hex);
	*size = total;
	return AIOPS_OK;
}

/* A temporary file for the model, in $TMPDIR or /tmp; returns its fd or -1. */
static int
model_tempfile(char **path, struct aiops_error *e)
{
	struct aiops_buf b = AIOPS_BUF_INIT;
	const char *t = getenv("TMPDIR");
	int fd;

	if (t == NULL || *t == '\0')
		t = "/tmp";
	if (aiops_buf_addf(&b, "%s/aiops-verify.XXXXXX", t) != AIOPS_OK) {
		aiops_buf_release(&b);
		nomem(e);
		return -1;
	}
	if ((fd = mkostemp(b.buf, O_CLOEXEC)) < 0) {
		aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot create: %s", b.buf, strerror(errno));
		aiops_buf_release(&b);
		return -1;
	}
	*path = aiops_buf_detach(&b, NULL);
	return fd;
}

/* The model at mpath loads and agrees with the manifest. */
static int
model_check(const struct aiops_artifact *a, const char *art, const char *mpath,
    struct aiops_error *e)
{
	struct aiops_model m;
	const char *sha;
	int r = aiops_model_load(&m, mpath, e);

	if (r != AIOPS_OK) {
		/* the load message names the temporary path: name the member instead */
		size_t n = strlen(mpath);
		char msg[sizeof(e->msg)];
		const char *rest = e ? e->msg : "";
		if (strncmp(rest, mpath, n) == 0 && rest[n] == ':')
			rest += n + 1 + (rest[n + 1] == ' ');
		snprintf(msg, sizeof(msg), "%s", rest);
		return aiops_error_set(e, r, "%s: %s: the model does not load: %s", art, a->model, msg);
	}
	sha = json_string_value(json_object_get(json_object_get(m.meta, "train"), "sha256"));
	if (strcmp(m.family->name, a->family) != 0)
		r = aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: %s: a %s model, the manifest says %s", art, a->model, m.family->name, a->family);
	else if (sha == NULL || strcmp(sha, a->train_sha256) != 0)
		r = aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: %s: training fingerprint %s, the manifest says %s", art, a->model,
		    sha ? sha : "(none)", a->train_sha256);
	aiops_model_release(&m);
	return r;
}

static int
walk(const char *path, struct walk *w, struct aiops_error *e)
{
	struct rd r;
	struct archive_entry *ent;
	unsigned char *buf = NULL, *seen = NULL;
	int rc, first = 1, ret = AIOPS_OK;
	char sb[208], why[300];

	if ((rc = rd_open(&r, path, e)) != AIOPS_OK)
		return rc;
	if ((buf = aiops_malloc(IO_BUFSZ)) == NULL) {
		ret = nomem(e);
		goto out;
	}
	for (;;) {
		const char *name, *problem;
		char hex[65];
		uint64_t size;
		int idx, fd = -1;
		const char *fdname = NULL;

		rc = archive_read_next_header(r.ar, &ent);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			if (!r.failed && first)
				ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: not an aiops artifact (%s)", r.path,
				    archive_error_string(r.ar) ? archive_error_string(r.ar) : "not a tar archive");
			else
				ret = rd_error(&r, NULL, e);
			goto out;
		}
		name = archive_entry_pathname(ent);
		if ((problem = member_problem(ent, why, sizeof(why))) != NULL) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: member \"%s\": %s; an artifact holds only regular files with plain names",
			    r.path, shown(name, sb), problem);
			goto out;
		}
		if (rc == ARCHIVE_WARN) {
			ret = rd_error(&r, name, e);
			goto out;
		}
		if (first) {
			if (strcmp(name, AIOPS_ARTIFACT_MANIFEST) != 0) {
				ret = aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s: not an aiops artifact (the first member is \"%s\", not manifest.json)",
				    r.path, shown(name, sb));
				goto out;
			}
			first = 0;
			if ((ret = member_read(&r, name, buf, &w->a->raw, -1, NULL, hex, &size, e)) != AIOPS_OK)
				goto out;
			if ((ret = manifest_parse(w->a, r.path, e)) != AIOPS_OK)
				goto out;
			if (w->mode == W_OPEN)
				goto out;
			if ((seen = aiops_calloc(w->a->nfiles, 1)) == NULL) {
				ret = nomem(e);
				goto out;
			}
			if (w->fn && (ret = w->fn(w->ud, name, size, hex, "manifest")) != 0)
				goto out;
			continue;
		}
		if (strcmp(name, AIOPS_ARTIFACT_MANIFEST) == 0) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: manifest.json appears twice", r.path);
			goto out;
		}
		idx = member_index(w->a, name);
		if (idx < 0 && w->mode != W_LIST) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: %s: not listed in the manifest",
			    r.path, name);
			goto out;
		}
		if (idx >= 0 && seen[idx]) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: %s: appears twice", r.path, name);
			goto out;
		}
		if (idx >= 0)
			seen[idx] = 1;
		if (w->mode == W_EXTRACT) {
			fd = openat(w->stfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			fdname = name;
			if (fd < 0) {
				ret = aiops_error_set(e, AIOPS_ERR_IO, "%s/%s: cannot create: %s", w->stpath, name,
				    strerror(errno));
				goto out;
			}
		} else if (w->mode == W_VERIFY && strcmp(name, w->a->model) == 0) {
			if ((fd = model_tempfile(&w->model_tmp, e)) < 0) {
				ret = e ? e->code : AIOPS_ERR_IO;
				goto out;
			}
			fdname = w->model_tmp;
		}
		ret = member_read(&r, name, buf, NULL, fd, fdname, hex, &size, e);
		if (fd >= 0 && ret == AIOPS_OK && w->mode == W_EXTRACT && fsync(fd) != 0)
			ret = aiops_error_set(e, AIOPS_ERR_IO, "%s/%s: %s", w->stpath, name, strerror(errno));
		if (fd >= 0 && close(fd) != 0 && ret == AIOPS_OK)
			ret = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", fdname, strerror(errno));
		if (ret != AIOPS_OK)
			goto out;
		if (w->mode == W_LIST) {
			if ((ret = w->fn(w->ud, name, size, hex, idx >= 0 ? w->a->files[idx].role : NULL)) != 0)
				goto out;
			continue;
		}
		if (size != w->a->files[idx].size) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: %s: %llu bytes, the manifest says %llu",
			    r.path, name, (unsigned long long)size, (unsigned long long)w->a->files[idx].size);
			goto out;
		}
		if (strcmp(hex, w->a->files[idx].sha256) != 0) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: %s: SHA-256 mismatch: the member has %s, the manifest says %s", r.path, name,
			    hex, w->a->files[idx].sha256);
			goto out;
		}
	}
	if (first) {
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: not an aiops artifact (no members)", r.path);
		goto out;
	}
	{
		/* past the end-of-archive records: tar padding (zeros) up to the gzip end */
		const void *p;
		ssize_t k;
		while ((k = rd_fill(&r, &p)) > 0)
			for (ssize_t i = 0; i < k; i++)
				if (((const unsigned char *)p)[i] != 0) {
					ret = aiops_error_set(e, AIOPS_ERR_FORMAT,
					    "%s: unexpected data after the end of the tar archive", r.path);
					goto out;
				}
		if (k < 0) {
			ret = rd_error(&r, NULL, e);
			goto out;
		}
	}
	if (w->mode == W_LIST)
		goto out;
	for (size_t i = 0; i < w->a->nfiles; i++)
		if (!seen[i]) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: %s: listed in the manifest but missing",
			    r.path, w->a->files[i].name);
			goto out;
		}
	if (w->mode == W_VERIFY) {
		ret = model_check(w->a, r.path, w->model_tmp, e);
	} else {
		struct aiops_buf mp = AIOPS_BUF_INIT;
		if (aiops_buf_addf(&mp, "%s/%s", w->stpath, w->a->model) != AIOPS_OK)
			ret = nomem(e);
		else
			ret = model_check(w->a, r.path, mp.buf, e);
		aiops_buf_release(&mp);
	}
out:
	if (w->model_tmp) {
		unlink(w->model_tmp);
		aiops_free(w->model_tmp);
		w->model_tmp = NULL;
	}
	aiops_free(seen);
	aiops_free(buf);
	rd_close(&r);
	return ret;
}

int
aiops_artifact_open(struct aiops_artifact *a, const char *path, struct aiops_error *e)
{
	struct walk w = { .mode = W_OPEN, .a = a, .stfd = -1 };
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = walk(path, &w, e)) != AIOPS_OK)
		aiops_artifact_release(a);
	return r;
}

int
aiops_artifact_verify(const char *path, struct aiops_artifact *a, struct aiops_error *e)
{
	struct aiops_artifact mine;
	struct walk w = { .mode = W_VERIFY, .a = a ? a : &mine, .stfd = -1 };
	int r;

	memset(w.a, 0, sizeof(*w.a));
	r = walk(path, &w, e);
	if (r != AIOPS_OK || a == NULL)
		aiops_artifact_release(w.a);
	return r;
}

int
aiops_artifact_list(const char *path,
    int (*fn)(void *ud, const char *name, uint64_t size, const char *sha256, const char *role),
    void *ud, struct aiops_error *e)
{
	struct aiops_artifact a;
	struct walk w = { .mode = W_LIST, .a = &a, .fn = fn, .ud = ud, .stfd = -1 };
	int r;

	memset(&a, 0, sizeof(a));
	r = walk(path, &w, e);
	aiops_artifact_release(&a);
	return r;
}

/* Remove every entry of the staging directory, then the directory. */
static void
staging_remove(int dfd, int stfd, const char *stname)
{
	int fd = dup(stfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
	} else {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				unlinkat(stfd, de->d_name, 0);
		closedir(d);
	}
	unlinkat(dfd, stname, AT_REMOVEDIR);
}

int
aiops_artifact_extract(const char *path, const char *dir, char **model_path,
    struct aiops_error *e)
{
	struct aiops_artifact a;
	struct aiops_buf st = AIOPS_BUF_INIT;
	struct walk w = { .mode = W_EXTRACT, .a = &a, .stfd = -1 };
	const char *stname;
	int r, made = 0, dfd = -1;

	memset(&a, 0, sizeof(a));
	if (model_path)
		*model_path = NULL;
	if (mkdir(dir, 0777) == 0)
		made = 1;
	else if (errno != EEXIST)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (aiops_buf_addf(&st, "%s/.aiops-extract.XXXXXX", dir) != AIOPS_OK) {
		r = nomem(e);
		goto out;
	}
	if (mkdtemp(st.buf) == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot create: %s", st.buf, strerror(errno));
		aiops_buf_reset(&st);
		goto out;
	}
	stname = base_name(st.buf);
	if ((w.stfd = openat(dfd, stname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", st.buf, strerror(errno));
		unlinkat(dfd, stname, AT_REMOVEDIR);
		aiops_buf_reset(&st);
		goto out;
	}
	w.stpath = st.buf;
	if ((r = walk(path, &w, e)) != AIOPS_OK)
		goto out;
	/* everything checked out: a directory in the way is the last thing that can stop us */
	for (size_t i = 0; i < a.nfiles; i++) {
		struct stat sb;
		if (fstatat(dfd, a.files[i].name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode)) {
			r = aiops_error_set(e, AIOPS_ERR_IO, "%s/%s: is a directory", dir, a.files[i].name);
			goto out;
		}
	}
	for (size_t i = 0; i < a.nfiles; i++)
		if (renameat(w.stfd, a.files[i].name, dfd, a.files[i].name) != 0) {
			r = aiops_error_set(e, AIOPS_ERR_IO, "%s/%s: cannot rename into place: %s", dir,
			    a.files[i].name, strerror(errno));
			goto out;
		}
	fsync(dfd);
	if (model_path) {
		struct aiops_buf mp = AIOPS_BUF_INIT;
		if (aiops_buf_addf(&mp, "%s/%s", dir, a.model) != AIOPS_OK) {
			r = nomem(e);
			goto out;
		}
		*model_path = aiops_buf_detach(&mp, NULL);
	}
out:
	if (w.stfd >= 0) {
		staging_remove(dfd, w.stfd, base_name(st.buf));
		close(w.stfd);
	}
	if (dfd >= 0)
		close(dfd);
	if (r != AIOPS_OK && made)
		rmdir(dir);
	aiops_buf_release(&st);
	aiops_artifact_release(&a);
	return r;
}
