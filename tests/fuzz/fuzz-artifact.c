/*
 * fuzz-artifact.c - the artifact readers (lib/artifact.c) and what reads
 * an artifact's manifest for OCI (lib/oci.c): aiops_artifact_open(),
 * _list(), _verify(), _extract() and aiops_oci_describe() on one file.
 *
 * An input that starts with the gzip magic is the artifact file itself.
 * Any other input is taken apart at lines "%%": the first part is
 * manifest.json, each further part a member, its first line the member's
 * name and the rest its bytes; the harness packs them into a tar.gz. As
 * the fuzzer cannot compute SHA-256, three inputs in four have the sizes
 * and sums of the manifest's "files" entries set to those of the members
 * of those names, so that the checks behind them are reached.
 */
#include <archive.h>
#include <archive_entry.h>

#include "aiops.h"
#include "fuzz.h"

#define SEP "\n%%\n"
#define MAXPARTS 8

static volatile size_t sink;

static void
sha256_hex(const uint8_t *p, size_t n, char hex[65])
{
	struct aiops_sha256 h;
	unsigned char d[32];

	if (aiops_sha256_init(&h) != AIOPS_OK)
		abort();
	aiops_sha256_update(&h, p, n);
	aiops_sha256_final(&h, d);
	aiops_hex(d, 32, hex);
}

/* The manifest with files[].size and .sha256 set from the members; malloc'd, or NULL. */
static char *
fix_manifest(const struct fz_part *parts, size_t nparts, size_t *len)
{
	json_t *o = json_loadb((const char *)parts[0].p, parts[0].n, 0, NULL), *files;
	char *out = NULL, *s;

	if (o == NULL)
		return NULL;
	files = json_object_get(o, "files");
	for (size_t i = 0; i < json_array_size(files); i++) {
		json_t *f = json_array_get(files, i);
		const char *name = json_string_value(json_object_get(f, "name"));
		if (name == NULL)
			continue;
		for (size_t k = 1; k < nparts; k++) {
			const uint8_t *nl = memchr(parts[k].p, '\n', parts[k].n);
			size_t nlen = nl ? (size_t)(nl - parts[k].p) : parts[k].n;
			const uint8_t *body = nl ? nl + 1 : parts[k].p + parts[k].n;
			size_t blen = parts[k].n - (size_t)(body - parts[k].p);
			char hex[65];
			if (nlen != strlen(name) || memcmp(parts[k].p, name, nlen) != 0)
				continue;
			sha256_hex(body, blen, hex);
			json_object_set_new(f, "sha256", json_string(hex));
			json_object_set_new(f, "size", json_integer((json_int_t)blen));
			break;
		}
	}
	if ((s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT)) != NULL) {
		*len = strlen(s);
		out = malloc(*len + 1);
		memcpy(out, s, *len + 1);
		aiops_free(s);
	}
	json_decref(o);
	return out;
}

static void
add_member(struct archive *a, const char *name, const void *p, size_t n)
{
	struct archive_entry *ent = archive_entry_new();

	archive_entry_set_pathname(ent, name);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_size(ent, (la_int64_t)n);
	archive_entry_set_mtime(ent, 1700000000, 0);
	if (archive_write_header(a, ent) == ARCHIVE_OK && n > 0)
		archive_write_data(a, p, n);
	archive_entry_free(ent);
}

/* Pack the parts into the tar.gz at path. */
static void
pack(const char *path, const uint8_t *data, size_t size)
{
	struct fz_part parts[MAXPARTS];
	size_t nparts = fz_split(data, size, SEP, parts, MAXPARTS), mlen = 0;
	struct archive *a = archive_write_new();
	char *manifest = NULL;

	if ((fz_hash(data, size) & 3) != 0)
		manifest = fix_manifest(parts, nparts, &mlen);
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		abort();
	if (manifest)
		add_member(a, "manifest.json", manifest, mlen);
	else
		add_member(a, "manifest.json", parts[0].p, parts[0].n);
	for (size_t k = 1; k < nparts; k++) {
		const uint8_t *nl = memchr(parts[k].p, '\n', parts[k].n);
		size_t nlen = nl ? (size_t)(nl - parts[k].p) : parts[k].n;
		const uint8_t *body = nl ? nl + 1 : parts[k].p + parts[k].n;
		char *name = fz_str(parts[k].p, nlen);
		add_member(a, name[0] ? name : "x", body, parts[k].n - (size_t)(body - parts[k].p));
		free(name);
	}
	archive_write_close(a);
	archive_write_free(a);
	free(manifest);
}

static int
count(void *ud, const char *name, uint64_t size, const char *sha256, const char *role)
{
	(void)ud;
	if (name == NULL || sha256 == NULL || strlen(sha256) != 64)
		abort();
	sink += size + (role != NULL);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	fz_tmpdir();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aiops_error e;
	struct aiops_artifact a;
	struct aiops_buf config = AIOPS_BUF_INIT, manifest = AIOPS_BUF_INIT;
	struct aiops_oci_desc cd, ld, md;
	const char *path;
	char *model = NULL;
	int r;

	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		path = fz_write("in.tar.gz", data, size);
	else {
		path = fz_path("in.tar.gz");
		pack(path, data, size);
	}
	fz_begin(data, size);
	if (aiops_artifact_open(&a, path, &e) == AIOPS_OK) {
		if (a.nfiles == 0 || a.model == NULL)
			abort();
		aiops_artifact_release(&a);
	}
	(void)aiops_artifact_list(path, count, NULL, &e);
	r = aiops_artifact_verify(path, &a, &e);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "verify: %s\n", r == AIOPS_OK ? "ok" : e.msg);
	if (r == AIOPS_OK) {
		aiops_artifact_release(&a);
		/* extract only what verifies: the rest fails the same checks first */
		if (aiops_artifact_extract(path, fz_path("x"), &model, &e) == AIOPS_OK) {
			if (model == NULL || access(model, R_OK) != 0)
				abort();
			aiops_free(model);
		} else if (!fz_failmode) {
			fprintf(stderr, "verified, but does not extract: %s\n", e.msg);
			abort();
		}
	}
	if (aiops_oci_describe(path, &config, &cd, &ld, &manifest, &md, &e) == AIOPS_OK && !fz_failmode &&
	    aiops_oci_manifest_parse(manifest.buf, manifest.len, &cd, &ld, &e) != AIOPS_OK) {
		fprintf(stderr, "describe's own manifest does not parse: %s\n", e.msg);
		abort();
	}
	aiops_buf_release(&config);
	aiops_buf_release(&manifest);
	fz_end();
	fz_clean();
	return 0;
}
