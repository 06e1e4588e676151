/*
 * source.c - byte streams over files, stdin, archive members and URLs
 * (through the hooks lib/srcarchive.c and lib/url.c set), with transparent
 * gzip decoding.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "source.h"

#define ZIN_SZ (256 * 1024)

enum { SRC_FD, SRC_MEM, SRC_ARCHIVE, SRC_URL };

struct aiops_src {
	int kind;
	char *name;           /* current part's display name */
	char *spec;
	/* SRC_FD */
	int fd, own_fd;
	/* SRC_MEM */
	const unsigned char *mem;
	size_t mem_len, mem_pos, mem_dropped;
	int mem_drop;         /* a private file mapping: drop pages once read */
	/* SRC_ARCHIVE */
	void *ar;
	char *arpath, *pattern;
	int nparts;
	/* SRC_URL */
	void *url;
	/* gzip layer for the current part */
	int gz, gz_end;
	z_stream zs;
	unsigned char *zin;
	/* peeked raw bytes of the current part */
	unsigned char peek[16];
	size_t peek_len, peek_pos;
	int started;          /* bytes were consumed from the current part */
	unsigned char pb[16]; /* decoded bytes looked at by aiops_src_peek */
	size_t pb_len, pb_pos;
	int raw_eof;
};

/* How archive members are read: set by the commands that read them
 * (aiops_src_enable_archives()), so that the others do not load libarchive. */
static const struct aiops_archive_ops *archive_ops;

void
aiops_src_set_archive_ops(const struct aiops_archive_ops *ops)
{
	archive_ops = ops;
}

/* How URLs are read: set by the commands that read them (aiops_src_enable_urls()), so
 * that the others do not load libcurl and everything it needs. */
static const struct aiops_url_ops *url_ops;

void
aiops_src_set_url_ops(const struct aiops_url_ops *ops)
{
	url_ops = ops;
}

const char *
aiops_src_name(const struct aiops_src *s)
{
	return s->name;
}

static int
set_name(struct aiops_src *s, const char *a, const char *b, struct aiops_error *e)
{
	struct aiops_buf n = AIOPS_BUF_INIT;

	if (aiops_buf_addstr(&n, a) || (b && (aiops_buf_addch(&n, ':') || aiops_buf_addstr(&n, b)))) {
		aiops_buf_release(&n);
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	}
	aiops_free(s->name);
	s->name = aiops_buf_detach(&n, NULL);
	return AIOPS_OK;
}

static int
has_suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && strncmp(s + n - m, suf, m) == 0;
}

static int
is_archive_name(const char *s, size_t n)
{
	static const char *suf[] = { ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2",
		".tar.xz", ".tar.zst", ".tbz2", ".txz", NULL };

	for (int i = 0; suf[i]; i++)
		if (has_suffix(s, n, suf[i]))
			return 1;
	return 0;
}

/* ---- raw reads ---------------------------------------------------------- */

/* Pages of a private mapping before upto are not needed again: memory stays flat. */
static void
mem_drop_behind(struct aiops_src *s, size_t upto)
{
	if (s->mem_drop && upto - s->mem_dropped >= (8u << 20)) {
		upto &= ~(size_t)((1u << 20) - 1);
		madvise((void *)(uintptr_t)(s->mem + s->mem_dropped), upto - s->mem_dropped,
		    MADV_DONTNEED);
		s->mem_dropped = upto;
	}
}

static ssize_t
raw_read(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e)
{
	ssize_t r;

	if (s->raw_eof)
		return 0;
	switch (s->kind) {
	case SRC_FD:
		do
			r = read(s->fd, buf, n);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return aiops_error_set(e, AIOPS_ERR_IO, "%s: read error: %s",
			    s->name, strerror(errno));
		break;
	case SRC_MEM:
		r = (ssize_t)(s->mem_len - s->mem_pos < n ? s->mem_len - s->mem_pos : n);
		memcpy(buf, s->mem + s->mem_pos, (size_t)r);
		s->mem_pos += (size_t)r;
		mem_drop_behind(s, s->mem_pos);
		break;
	case SRC_ARCHIVE:
		if ((r = archive_ops->read(s->ar, buf, n, e)) < 0)
			return aiops_error_prefix(e, "%s", s->name);
		break;
	case SRC_URL:
		r = url_ops->read(s->url, buf, n, e);
		break;
	default:
		r = 0;
	}
	if (r == 0)
		s->raw_eof = 1;
	return r;
}

/* raw read that first returns peeked bytes */
static ssize_t
raw_read_peeked(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e)
{
	if (s->peek_pos < s->peek_len) {
		size_t k = s->peek_len - s->peek_pos;
		if (k > n)
			k = n;
		memcpy(buf, s->peek + s->peek_pos, k);
		s->peek_pos += k;
		return (ssize_t)k;
	}
	return raw_read(s, buf, n, e);
}

static ssize_t
raw_peek(struct aiops_src *s, size_t n, struct aiops_error *e)
{
	if (n > sizeof(s->peek))
		n = sizeof(s->peek);
	while (s->peek_len < n) {
		ssize_t r = raw_read(s, s->peek + s->peek_len, n - s->peek_len, e);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		s->peek_len += (size_t)r;
	}
	return (ssize_t)s->peek_len;
}

/* Prepare the current part: detect gzip. */
static int
part_begin(struct aiops_src *s, struct aiops_error *e)
{
	ssize_t k;

	s->peek_len = s->peek_pos = 0;
	s->pb_len = s->pb_pos = 0;
	s->raw_eof = 0;
	s->started = 0;
	if (s->gz) {
		inflateEnd(&s->zs);
		s->gz = 0;
	}
	if ((k = raw_peek(s, 2, e)) < 0)
		return (int)k;
	if (k == 2 && s->peek[0] == 0x1f && s->peek[1] == 0x8b) {
		memset(&s->zs, 0, sizeof(s->zs));
		if (s->zin == NULL && (s->zin = aiops_malloc(ZIN_SZ)) == NULL)
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		if (inflateInit2(&s->zs, 15 + 16) != Z_OK)
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "%s: cannot start zlib", s->name);
		s->gz = 1;
		s->gz_end = 0;
	}
	return AIOPS_OK;
}

static ssize_t
src_decode(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e)
{
	if (!s->gz)
		return raw_read_peeked(s, buf, n, e);
	if (s->gz_end)
		return 0;
	s->zs.next_out = buf;
	s->zs.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
	while (s->zs.avail_out == (uInt)(n > (1u << 30) ? (1u << 30) : n)) {
		int zr;

		if (s->zs.avail_in == 0) {
			ssize_t r = raw_read_peeked(s, s->zin, ZIN_SZ, e);
			if (r < 0)
				return r;
			if (r == 0)
				return aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s: gzip data truncated", s->name);
			s->zs.next_in = s->zin;
			s->zs.avail_in = (uInt)r;
		}
		zr = inflate(&s->zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* concatenated gzip members continue the stream */
			if (s->zs.avail_in == 0) {
				ssize_t r = raw_read_peeked(s, s->zin, ZIN_SZ, e);
				if (r < 0)
					return r;
				s->zs.next_in = s->zin;
				s->zs.avail_in = (uInt)r;
			}
			if (s->zs.avail_in == 0) {
				s->gz_end = 1;
				break;
			}
			if (inflateReset(&s->zs) != Z_OK)
				return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad gzip data",
				    s->name);
			continue;
		}
		if (zr == Z_MEM_ERROR)
			return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: bad gzip data: %s",
			    s->name, s->zs.msg ? s->zs.msg : "corrupt");
	}
	return (ssize_t)((uInt)(n > (1u << 30) ? (1u << 30) : n) - s->zs.avail_out);
}

ssize_t
aiops_src_read(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e)
{
	s->started = 1;
	if (s->pb_pos < s->pb_len) {
		size_t k = s->pb_len - s->pb_pos;
		if (k > n)
			k = n;
		memcpy(buf, s->pb + s->pb_pos, k);
		s->pb_pos += k;
		return (ssize_t)k;
	}
	return src_decode(s, buf, n, e);
}

int
aiops_src_read_full(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = aiops_src_read(s, (char *)buf + got, n - got, e);
		if (r < 0)
			return (int)r;
		if (r == 0) {
			if (got == 0)
				return 1;
			return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: truncated", s->name);
		}
		got += (size_t)r;
	}
	return AIOPS_OK;
}

int
aiops_src_read_all(const char *spec, uint64_t max, const char *what, struct aiops_buf *b,
    struct aiops_error *e)
{
	struct aiops_src *s;
	char tmp[65536];
	ssize_t k;
	int r;

	if ((r = aiops_src_open(&s, spec, e)) != AIOPS_OK)
		return r;
	while ((k = aiops_src_read(s, tmp, sizeof(tmp), e)) > 0) {
		if ((uint64_t)k > max - b->len) {
			if (max % (1u << 30) == 0)
				k = aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: %s larger than %llu GiB, "
				    "the most read", spec, what, (unsigned long long)(max >> 30));
			else if (max % (1u << 20) == 0)
				k = aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: %s larger than %llu MiB, "
				    "the most read", spec, what, (unsigned long long)(max >> 20));
			else
				k = aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: %s larger than %llu bytes, "
				    "the most read", spec, what, (unsigned long long)max);
			break;
		}
		if (aiops_buf_add(b, tmp, (size_t)k) != AIOPS_OK) {
			k = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			break;
		}
	}
	aiops_src_close(s);
	if (k < 0) {
		aiops_buf_release(b);
		return (int)k;
	}
	return AIOPS_OK;
}

ssize_t
aiops_src_peek(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e)
{
	if (n > sizeof(s->pb))
		n = sizeof(s->pb);
	if (s->started)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: peek after read", s->name);
	while (s->pb_len < n) {
		ssize_t r = src_decode(s, s->pb + s->pb_len, n - s->pb_len, e);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		s->pb_len += (size_t)r;
	}
	memcpy(buf, s->pb, s->pb_len < n ? s->pb_len : n);
	return (ssize_t)(s->pb_len < n ? s->pb_len : n);
}

/* ---- opening ------------------------------------------------------------ */

static struct aiops_src *
src_new(const char *spec)
{
	struct aiops_src *s = aiops_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fd = -1;
	if ((s->spec = aiops_strdup(spec)) == NULL) {
		aiops_free(s);
		return NULL;
	}
	return s;
}

static int
archive_next(struct aiops_src *s, struct aiops_error *e)
{
	const char *p;
	int r = archive_ops->next(s->ar, s->pattern, &p, e);

	if (r <= 0)
		return r;
	s->nparts++;
	if ((r = set_name(s, s->arpath, p, e)) != AIOPS_OK)
		return r;
	if ((r = part_begin(s, e)) != AIOPS_OK)
		return r;
	return 1;
}

static int
open_archive(struct aiops_src *s, const char *path, size_t plen, const char *pat,
    struct aiops_error *e)
{
	int r;

	if (archive_ops == NULL)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: no such file, and this command "
		    "does not read archive members (aiops-ingest does)", path);
	if ((s->arpath = aiops_strndup(path, plen)) == NULL ||
	    (s->pattern = aiops_strdup(pat)) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	s->kind = SRC_ARCHIVE;
	if ((r = archive_ops->open(&s->ar, s->arpath, e)) != AIOPS_OK)
		return r;
	if ((r = set_name(s, s->arpath, NULL, e)) != AIOPS_OK)
		return r;
	r = archive_next(s, e);
	if (r < 0)
		return r;
	if (r == 0)
		return aiops_error_set(e, AIOPS_ERR_NOTFOUND, "%s: no member matches \"%s\"",
		    s->arpath, s->pattern);
	return AIOPS_OK;
}

static int
open_url(struct aiops_src *s, const char *url, struct aiops_error *e)
{
	int r;

	if (url_ops == NULL)
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "%s: a URL; this command reads files (aiops-ingest reads URLs)", url);
	s->kind = SRC_URL;
	if ((r = set_name(s, url, NULL, e)) != AIOPS_OK ||
	    (r = url_ops->open(&s->url, url, e)) != AIOPS_OK)
		return r;
	return part_begin(s, e);
}

int
aiops_src_open(struct aiops_src **sp, const char *spec, struct aiops_error *e)
{
	struct aiops_src *s;
	struct stat st;
	int r;

	*sp = NULL;
	if ((s = src_new(spec)) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	if (strcmp(spec, "-") == 0) {
		s->kind = SRC_FD;
		s->fd = STDIN_FILENO;
		if ((r = set_name(s, "<stdin>", NULL, e)) == AIOPS_OK)
			r = part_begin(s, e);
		goto done;
	}
	if (strncmp(spec, "http://", 7) == 0 || strncmp(spec, "https://", 8) == 0) {
		r = open_url(s, spec, e);
		goto done;
	}
	if (stat(spec, &st) != 0) {
		/* ARCHIVE:PATTERN, split at the first colon that ends an archive name */
		for (const char *c = strchr(spec, ':'); c; c = strchr(c + 1, ':')) {
			size_t plen = (size_t)(c - spec);
			if (is_archive_name(spec, plen) && c[1] != '\0') {
				r = open_archive(s, spec, plen, c + 1, e);
				goto done;
			}
		}
	}
	s->kind = SRC_FD;
	if ((r = set_name(s, spec, NULL, e)) != AIOPS_OK)
		goto done;
	s->fd = open(spec, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		r = aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
		    "%s: %s", spec, strerror(errno));
		goto done;
	}
	s->own_fd = 1;
	if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: is a directory", spec);
		goto done;
	}
	r = part_begin(s, e);
done:
	if (r != AIOPS_OK) {
		aiops_src_close(s);
		return r;
	}
	s->nparts = s->nparts ? s->nparts : 1;
	*sp = s;
	return AIOPS_OK;
}

int
aiops_src_open_mem(struct aiops_src **sp, const void *p, size_t n, const char *name,
    struct aiops_error *e)
{
	struct aiops_src *s = src_new(name);
	int r;

	*sp = NULL;
	if (s == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	s->kind = SRC_MEM;
	s->mem = p;
	s->mem_len = n;
	if ((r = set_name(s, name, NULL, e)) != AIOPS_OK ||
	    (r = part_begin(s, e)) != AIOPS_OK) {
		aiops_src_close(s);
		return r;
	}
	*sp = s;
	return AIOPS_OK;
}

const void *
aiops_src_take(struct aiops_src *s, size_t n)
{
	const unsigned char *p;

	if (s->kind != SRC_MEM || s->gz || s->peek_pos < s->peek_len || s->pb_pos < s->pb_len ||
	    s->mem_len - s->mem_pos < n)
		return NULL;
	/* what an earlier take handed out is done with now */
	mem_drop_behind(s, s->mem_pos);
	p = s->mem + s->mem_pos;
	s->mem_pos += n;
	s->started = 1;
	return p;
}

void
aiops_src_mem_drop_behind(struct aiops_src *s)
{
	if (s->kind == SRC_MEM && ((uintptr_t)s->mem & 4095) == 0)
		s->mem_drop = 1;
}

int
aiops_src_next_part(struct aiops_src *s, struct aiops_error *e)
{
	if (s->kind != SRC_ARCHIVE)
		return 0;
	return archive_next(s, e);
}

void
aiops_src_close(struct aiops_src *s)
{
	if (s == NULL)
		return;
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->ar)
		archive_ops->close(s->ar);
	if (s->url)
		url_ops->close(s->url);
	if (s->gz)
		inflateEnd(&s->zs);
	aiops_free(s->zin);
	aiops_free(s->arpath);
	aiops_free(s->pattern);
	aiops_free(s->name);
	aiops_free(s->spec);
	aiops_free(s);
}
