/*
 * fuzz-oci.c - the OCI image layout readers: index.json (lib/oci.c,
 * aiops_oci_layout_resolve() and the read-modify-write of
 * aiops_oci_layout_add()) and the image manifest (lib/registry.c,
 * aiops_layout_pull_artifact() and aiops_oci_manifest_parse()).
 *
 * The input is taken apart at lines "%%": index.json, then oci-layout,
 * then blobs, each stored under blobs/sha256/ by its true digest (so that
 * an index or manifest that names one by digest finds it). The harness
 * resolves and pulls "1.0" and every tag the index names, then adds a real
 * artifact (made at start-up) under a new tag, which must then resolve and
 * pull back byte for byte.
 */
#include <sys/stat.h>

#include "aiops.h"
#include "fuzz.h"

#define SEP "\n%%\n"
#define MAXPARTS 8

static char art_path[512];
static struct aiops_buf art_bytes = AIOPS_BUF_INIT;

/* A zscore model packed as an artifact, as aiops-train and aiops-pack make them. */
static void
make_artifact(void)
{
	char *names[] = { "a", "b" };
	struct aiops_params p = { 0 };
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_out out;
	struct aiops_pack_opts o;
	double x[40];
	const char *mpath = fz_path("m.model");
	FILE *f;
	char tmp[4096];
	size_t n;

	for (int i = 0; i < 40; i++)
		x[i] = (double)(i % 7) - 3 + 0.1 * i;
	if (aiops_model_init(&m, aiops_family_find("zscore"), &p, names, 2) != AIOPS_OK ||
	    aiops_model_fit(&m, x, 20, &e) != AIOPS_OK)
		abort();
	json_object_set_new(m.meta, "train", json_pack("{s:s,s:i}", "sha256",
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "rows", 20));
	json_object_set_new(m.meta, "provenance", json_pack("{s:s,s:i}", "tool", "fuzz", "created",
	    1700000000));
	if (aiops_out_open(&out, mpath, &e) != AIOPS_OK || aiops_model_write(&m, &out, &e) != AIOPS_OK ||
	    aiops_out_commit(&out, &e) != AIOPS_OK)
		abort();
	aiops_model_release(&m);
	snprintf(art_path, sizeof(art_path), "%s.art", mpath);
	memset(&o, 0, sizeof(o));
	o.model = mpath;
	o.version = "1.0";
	o.created = -1;
	o.level = 1;
	if (aiops_out_open(&out, art_path, &e) != AIOPS_OK || aiops_artifact_pack(&o, &out, &e) != AIOPS_OK ||
	    aiops_out_commit(&out, &e) != AIOPS_OK) {
		fprintf(stderr, "fuzz-oci: cannot pack: %s\n", e.msg);
		abort();
	}
	if ((f = fopen(art_path, "rb")) == NULL)
		abort();
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		aiops_buf_add(&art_bytes, tmp, n);
	fclose(f);
}

static void
pull(const char *dir, const char *tag, int must, const char *what)
{
	struct aiops_error e;
	struct aiops_oci_desc d;
	const char *path = fz_path("pulled");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r;

	if (fd < 0)
		abort();
	r = aiops_layout_pull_artifact(dir, tag, fd, &d, &e);
	if (r == AIOPS_OK && must) {
		struct stat st;
		char *back = malloc(art_bytes.len + 1);
		if (fstat(fd, &st) != 0 || (size_t)st.st_size != art_bytes.len ||
		    pread(fd, back, art_bytes.len, 0) != (ssize_t)art_bytes.len ||
		    memcmp(back, art_bytes.buf, art_bytes.len) != 0) {
			fprintf(stderr, "%s: pulled bytes differ\n", what);
			abort();
		}
		free(back);
	} else if (r != AIOPS_OK && must) {
		fprintf(stderr, "%s: does not pull: %s\n", what, e.msg);
		abort();
	}
	close(fd);
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	fz_tmpdir();
	make_artifact();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_part parts[MAXPARTS];
	size_t nparts = fz_split(data, size, SEP, parts, MAXPARTS);
	struct aiops_error e;
	struct aiops_oci_desc d, cd, ld;
	char dir[512], sub[600], tags[4][160];
	size_t ntags = 0;
	json_t *idx;
	int r;

	/* the layout, written before the allocation counter starts (fz_path's buffers are reused) */
	snprintf(dir, sizeof(dir), "%s", fz_path("layout"));
	mkdir(dir, 0755);
	snprintf(sub, sizeof(sub), "%s/blobs", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/blobs/sha256", dir);
	mkdir(sub, 0755);
	fz_write("layout/index.json", parts[0].p, parts[0].n);
	if (nparts > 1)
		fz_write("layout/oci-layout", parts[1].p, parts[1].n);
	for (size_t k = 2; k < nparts; k++) {
		char digest[72], name[128];
		struct aiops_sha256 h;
		unsigned char md[32];
		aiops_sha256_init(&h);
		aiops_sha256_update(&h, parts[k].p, parts[k].n);
		aiops_sha256_final(&h, md);
		aiops_hex(md, 32, digest);
		snprintf(name, sizeof(name), "layout/blobs/sha256/%s", digest);
		fz_write(name, parts[k].p, parts[k].n);
	}
	if ((idx = json_loadb((const char *)parts[0].p, parts[0].n, 0, NULL)) != NULL) {
		json_t *m = json_object_get(idx, "manifests");
		for (size_t i = 0; i < json_array_size(m) && ntags < 4; i++) {
			const char *t = json_string_value(json_object_get(json_object_get(
			    json_array_get(m, i), "annotations"), AIOPS_OCI_ANN_REF));
			if (t && strlen(t) < sizeof(tags[0]))
				snprintf(tags[ntags++], sizeof(tags[0]), "%s", t);
		}
		json_decref(idx);
	}

	fz_begin(data, size);
	(void)aiops_oci_manifest_parse(parts[nparts - 1].p, parts[nparts - 1].n, &cd, &ld, &e);
	(void)aiops_oci_layout_resolve(dir, "1.0", &d, &e);
	pull(dir, "1.0", 0, "1.0");
	for (size_t i = 0; i < ntags; i++) {
		(void)aiops_oci_layout_resolve(dir, tags[i], &d, &e);
		pull(dir, tags[i], 0, tags[i]);
	}
	r = aiops_oci_layout_add(dir, art_path, "fuzz-added", &e);
	if (r == AIOPS_OK && !fz_failmode) {
		if (aiops_oci_layout_resolve(dir, "fuzz-added", &d, &e) != AIOPS_OK) {
			fprintf(stderr, "added, but does not resolve: %s\n", e.msg);
			abort();
		}
		pull(dir, "fuzz-added", 1, "fuzz-added");
		/* the tags the index had are kept */
		for (size_t i = 0; i < ntags; i++)
			if (strcmp(tags[i], "fuzz-added") != 0 &&
			    aiops_oci_layout_resolve(dir, tags[i], &d, &e) == AIOPS_ERR_NOTFOUND) {
				fprintf(stderr, "tag %s lost by an add\n", tags[i]);
				abort();
			}
	}
	fz_end();
	fz_clean();
	return 0;
}
