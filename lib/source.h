/*
 * source.h - one byte-stream interface over a file, standard input, an
 * archive member (libarchive), or an http(s) URL (libcurl), with gzip
 * (zlib) detected by its magic bytes and decoded on the fly.
 */
#ifndef AIOPS_SOURCE_H
#define AIOPS_SOURCE_H

#include <sys/types.h>

#include "base.h"

struct aiops_src;

/* Call once before any URL is opened (curl_global_init); returns AIOPS_OK or an error. */
int aiops_net_init(struct aiops_error *e);
void aiops_net_cleanup(void);

/*
 * How aiops_src_open() reads an http(s) URL. open() makes *h (which close()
 * releases, also after a failed open()); read() is as aiops_src_read().
 * Until a command sets them, opening a URL is an AIOPS_ERR_USAGE error:
 * libcurl (lib/url.c) is linked, and loaded at start, only into the
 * commands that call aiops_src_enable_urls().
 */
struct aiops_url_ops {
	int (*open)(void **h, const char *url, struct aiops_error *e);
	ssize_t (*read)(void *h, void *buf, size_t n, struct aiops_error *e);
	void (*close)(void *h);
};
void aiops_src_set_url_ops(const struct aiops_url_ops *ops);
/* Read URLs through libcurl (lib/url.c). */
void aiops_src_enable_urls(void);

/*
 * How aiops_src_open() reads ARCHIVE:PATTERN. open() makes *h (which close()
 * releases, also after a failed open()); next() finds the next regular member
 * whose path matches the fnmatch(3) pattern (1, its path in *name; 0 none
 * left; <0 an error); read() is as aiops_src_read() within it (its message need
 * not name the member). Until a command
 * sets them, ARCHIVE:PATTERN that is not a file is an AIOPS_ERR_USAGE error.
 */
struct aiops_archive_ops {
	int (*open)(void **h, const char *path, struct aiops_error *e);
	int (*next)(void *h, const char *pattern, const char **name, struct aiops_error *e);
	ssize_t (*read)(void *h, void *buf, size_t n, struct aiops_error *e);
	void (*close)(void *h);
};
void aiops_src_set_archive_ops(const struct aiops_archive_ops *ops);
/* Read archive members through libarchive (lib/srcarchive.c). */
void aiops_src_enable_archives(void);

/*
 * Open spec: "-" (standard input, named "<stdin>"), an http:// or https://
 * URL, ARCHIVE:PATTERN (ARCHIVE ending .zip .tar .tar.gz .tgz .tar.bz2
 * .tar.xz .tar.zst, spec not itself a file; every member matching the
 * fnmatch(3) PATTERN is a part), or a file path. The first part is open on
 * return. *sp is owned by the caller: aiops_src_close().
 * Errors: AIOPS_ERR_IO, AIOPS_ERR_NOTFOUND (no such member), AIOPS_ERR_NET,
 * AIOPS_ERR_NOMEM, AIOPS_ERR_USAGE (a URL, and no aiops_src_enable_urls()).
 */
int aiops_src_open(struct aiops_src **sp, const char *spec, struct aiops_error *e);

/* Wrap n bytes of memory (not copied; must outlive the source) under name. */
int aiops_src_open_mem(struct aiops_src **sp, const void *p, size_t n,
    const char *name, struct aiops_error *e);

/* A plain (not gzip) memory source: the next n bytes in place, consumed as if
 * read, and valid until the next take or read; NULL when the source is not
 * one or holds fewer bytes (nothing consumed: the caller reads instead). */
const void *aiops_src_take(struct aiops_src *s, size_t n);

/* For a source over a private read-only file mapping (page-aligned): release
 * the pages already read, so reading a large mapped file keeps memory flat. */
void aiops_src_mem_drop_behind(struct aiops_src *s);

/* Name of the current part for messages ("data.zip:m/cpu.csv", "<stdin>"). */
const char *aiops_src_name(const struct aiops_src *s);

/* Read up to n bytes of the current part: >0 bytes read, 0 at its end, <0 error. */
ssize_t aiops_src_read(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e);

/* Read exactly n bytes: AIOPS_OK, 1 on a clean end before any byte, or an error
 * (AIOPS_ERR_FORMAT "truncated" when the part ends inside the n bytes). */
int aiops_src_read_full(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e);

/*
 * Read the whole of spec (as aiops_src_open() takes it: its first part)
 * into b, appended. More than max bytes (inflated) is AIOPS_ERR_LIMIT:
 * "SPEC: WHAT larger than MAX, the most read", MAX in GiB, MiB or bytes.
 * On an error b is released.
 */
int aiops_src_read_all(const char *spec, uint64_t max, const char *what, struct aiops_buf *b,
    struct aiops_error *e);

/* Look at the first n (<= 16) bytes of the current part without consuming them;
 * returns how many are available (fewer at a short part) or <0. Only before reading. */
ssize_t aiops_src_peek(struct aiops_src *s, void *buf, size_t n, struct aiops_error *e);

/* Move to the next part: 1 moved, 0 no more parts, <0 error. */
int aiops_src_next_part(struct aiops_src *s, struct aiops_error *e);

void aiops_src_close(struct aiops_src *s);

/*
 * GET url into body (appended). *status gets the HTTP status (0 if none).
 * HTTP statuses >= 400 are not errors here: the caller reads the body.
 */
int aiops_http_get(const char *url, struct aiops_buf *body, long *status,
    struct aiops_error *e);

#endif
