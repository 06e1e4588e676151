/*
 * srcarchive.c - archive members (zip, tar and its compressed kinds) for
 * aiops_src, read in place through libarchive. Only the commands that read
 * archive members call aiops_src_enable_archives(), so only they load
 * libarchive (and the libraries it loads) for that.
 */
#include <fnmatch.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "source.h"

struct ar {
	struct archive *a;
	char *path;
};

static void
ar_close(void *h)
{
	struct ar *A = h;

	if (A == NULL)
		return;
	if (A->a)
		archive_read_free(A->a);
	aiops_free(A->path);
	aiops_free(A);
}

static int
ar_open(void **hp, const char *path, struct aiops_error *e)
{
	struct ar *A = aiops_calloc(1, sizeof(*A));

	*hp = A;
	if (A == NULL || (A->path = aiops_strdup(path)) == NULL ||
	    (A->a = archive_read_new()) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	archive_read_support_filter_all(A->a);
	archive_read_support_format_all(A->a);
	if (archive_read_open_filename(A->a, path, 64 * 1024) != ARCHIVE_OK)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", path,
		    archive_error_string(A->a));
	return AIOPS_OK;
}

static int
ar_next(void *h, const char *pattern, const char **name, struct aiops_error *e)
{
	struct ar *A = h;
	struct archive_entry *ent;
	int r;

	while ((r = archive_read_next_header(A->a, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *p = archive_entry_pathname(ent);
		if (p == NULL || archive_entry_filetype(ent) != AE_IFREG ||
		    fnmatch(pattern, p, 0) != 0)
			continue;
		*name = p;
		return 1;
	}
	if (r != ARCHIVE_EOF)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", A->path,
		    archive_error_string(A->a));
	return 0;
}

static ssize_t
ar_read(void *h, void *buf, size_t n, struct aiops_error *e)
{
	struct ar *A = h;
	la_ssize_t r = archive_read_data(A->a, buf, n);

	/* the caller names the member */
	if (r < 0)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s", archive_error_string(A->a));
	return (ssize_t)r;
}

static const struct aiops_archive_ops libarchive_ops = { ar_open, ar_next, ar_read, ar_close };

void
aiops_src_enable_archives(void)
{
	aiops_src_set_archive_ops(&libarchive_ops);
}
