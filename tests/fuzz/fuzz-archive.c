/*
 * fuzz-archive.c - archive members through the source (lib/source.c):
 * source.c opens an archive only by file name (ARCHIVE:PATTERN; libarchive
 * with every format and filter), so the input is written to a scratch
 * "in.tar" and opened as "in.tar:*". Every member that matches is read to
 * its end (gzip-compressed members are decoded by the source) and, as
 * ingest does, read as CSV; a peek comes first, as the format sniffing does.
 * Reading stops after 16 MiB of decoded bytes, so that a small bomb does not
 * stall the fuzzer.
 */
#include "aiops.h"
#include "fuzz.h"

#define MAX_OUT (16u << 20)

static volatile size_t sink;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	aiops_src_enable_archives();
	fz_tmpdir();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aiops_error e;
	struct aiops_src *src;
	const char *path = fz_write("in.tar", data, size);
	char spec[600], buf[65536];
	size_t total = 0;
	int as_csv = (int)(fz_hash(data, size) & 1);

	snprintf(spec, sizeof(spec), "%s:*", path);
	fz_begin(data, size);
	if (aiops_src_open(&src, spec, &e) != AIOPS_OK) {
		if (e.msg[0] == '\0')
			abort();
		goto out;
	}
	do {
		unsigned char pk[16];
		ssize_t k = aiops_src_peek(src, pk, sizeof(pk), &e);
		const char *name = aiops_src_name(src);
		if (k < 0)
			continue;
		if (name == NULL || strncmp(name, path, strlen(path)) != 0)
			abort();
		if (as_csv) {
			struct aiops_csv c;
			if (aiops_csv_init(&c, src, &e) == AIOPS_OK) {
				while (total < MAX_OUT && aiops_csv_next(&c, &e) == 1)
					for (size_t i = 0; i < c.nf; i++)
						total += c.f[i].len + 1;
				aiops_csv_release(&c);
			}
		} else {
			ssize_t n;
			while (total < MAX_OUT && (n = aiops_src_read(src, buf, sizeof(buf), &e)) > 0)
				total += (size_t)n;
		}
	} while (total < MAX_OUT && aiops_src_next_part(src, &e) == 1);
	sink += total;
	aiops_src_close(src);
out:
	unlink(path);
	fz_end();
	return 0;
}
