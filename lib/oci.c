/*
 * oci.c - an aiops artifact as an OCI image manifest, and the OCI image
 * layout on disk: content-addressed blobs written by temporary file and
 * rename, index.json last, so readers see the old layout or the new one.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "artifact.h"
#include "oci.h"

#define BUFSZ (1u << 20)

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

int
aiops_oci_tag_valid(const char *t)
{
	size_t n;

	if (t == NULL || (n = strlen(t)) == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || (i > 0 && (c == '.' || c == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

static int
digest_ok(const char *d)
{
	if (d == NULL || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return 0;
	for (d += 7; *d; d++)
		if (!((*d >= '0' && *d <= '9') || (*d >= 'a' && *d <= 'f')))
			return 0;
	return 1;
}

int
aiops_oci_blob_path(const char *dir, const char *digest, struct aiops_buf *out,
    struct aiops_error *e)
{
	if (!digest_ok(digest))
		return aiops_error_set(e, AIOPS_ERR_USAGE, "bad digest \"%.80s\": expected sha256:<64 hex>",
		    digest ? digest : "");
	aiops_buf_reset(out);
	if (aiops_buf_addf(out, "%s/blobs/sha256/%s", dir, digest + 7) != AIOPS_OK)
		return nomem(e);
	return AIOPS_OK;
}

int
aiops_sha256_file(const char *path, char digest[72], uint64_t *size, struct aiops_error *e)
{
	unsigned char d[32], *buf;
	int fd, r;

	if ((buf = aiops_malloc(BUFSZ)) == NULL)
		return nomem(e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int err = errno;
		aiops_free(buf);
		return aiops_error_set(e, err == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO,
		    "%s: cannot open: %s", path, strerror(err));
	}
	r = aiops_sha256_fd(fd, buf, BUFSZ, d, size);
	if (r == AIOPS_ERR_IO)
		aiops_error_set(e, r, "%s: read error: %s", path, strerror(errno));
	else if (r != AIOPS_OK)
		nomem(e);
	close(fd);
	aiops_free(buf);
	if (r != AIOPS_OK)
		return r;
	memcpy(digest, "sha256:", 7);
	aiops_hex(d, 32, digest + 7);
	return AIOPS_OK;
}

static int
desc_mem(struct aiops_oci_desc *d, const char *media_type, const void *p, size_t n,
    struct aiops_error *e)
{
	struct aiops_sha256 h;
	unsigned char md[32];

	if (aiops_sha256_init(&h) != AIOPS_OK)
		return nomem(e);
	aiops_sha256_update(&h, p, n);
	aiops_sha256_final(&h, md);
	snprintf(d->media_type, sizeof(d->media_type), "%s", media_type);
	memcpy(d->digest, "sha256:", 7);
	aiops_hex(md, 32, d->digest + 7);
	d->size = n;
	return AIOPS_OK;
}

static json_t *
desc_json(const struct aiops_oci_desc *d)
{
	return json_pack("{s:s,s:s,s:I}", "mediaType", d->media_type, "digest", d->digest,
	    "size", (json_int_t)d->size);
}

/* describe, keeping the artifact's manifest in a (released by the caller). */
static int
describe(const char *path, const char *title, struct aiops_artifact *a, struct aiops_buf *config,
    struct aiops_oci_desc *cd, struct aiops_oci_desc *ld, struct aiops_buf *manifest,
    struct aiops_oci_desc *md, struct aiops_error *e)
{
	json_t *o, *cfg, *layer;
	char *s;
	int r;

	if ((r = aiops_artifact_open(a, path, e)) != AIOPS_OK)
		return r;
	if (title == NULL) {
		const char *sl = strrchr(path, '/');
		title = sl ? sl + 1 : path;
	}
	aiops_buf_reset(config);
	if (aiops_buf_add(config, a->raw.buf, a->raw.len) != AIOPS_OK)
		return nomem(e);
	if ((r = desc_mem(cd, AIOPS_OCI_CONFIG_TYPE, a->raw.buf, a->raw.len, e)) != AIOPS_OK)
		return r;
	if ((r = aiops_sha256_file(path, ld->digest, &ld->size, e)) != AIOPS_OK)
		return r;
	snprintf(ld->media_type, sizeof(ld->media_type), "%s", AIOPS_OCI_LAYER_TYPE);
	cfg = desc_json(cd);
	layer = desc_json(ld);
	if (layer && json_object_set_new(layer, "annotations",
	    json_pack("{s:s}", AIOPS_OCI_ANN_TITLE, title)) != 0) {
		json_decref(layer);
		layer = NULL;
	}
	o = cfg && layer ? json_pack("{s:i,s:s,s:s,s:o,s:[o],s:{s:s,s:s}}",
	    "schemaVersion", 2,
	    "mediaType", AIOPS_OCI_MANIFEST_TYPE,
	    "artifactType", AIOPS_OCI_ARTIFACT_TYPE,
	    "config", cfg,
	    "layers", layer,
	    "annotations", AIOPS_OCI_ANN_CREATED, a->created, AIOPS_OCI_ANN_VERSION, a->version) : NULL;
	if (o == NULL) {
		/* json_pack steals its "o" arguments even when it fails */
		if (!(cfg && layer)) {
			json_decref(cfg);
			json_decref(layer);
		}
		return nomem(e);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return nomem(e);
	aiops_buf_reset(manifest);
	r = aiops_buf_addstr(manifest, s);
	free(s);
	if (r != AIOPS_OK)
		return nomem(e);
	return desc_mem(md, AIOPS_OCI_MANIFEST_TYPE, manifest->buf, manifest->len, e);
}

int
aiops_oci_describe_as(const char *artifact_path, const char *title, struct aiops_buf *config,
    struct aiops_oci_desc *config_desc, struct aiops_oci_desc *layer_desc,
    struct aiops_buf *manifest, struct aiops_oci_desc *manifest_desc, struct aiops_error *e)
{
	struct aiops_artifact a;
	int r = describe(artifact_path, title, &a, config, config_desc, layer_desc, manifest,
	    manifest_desc, e);

	aiops_artifact_release(&a);
	return r;
}

int
aiops_oci_describe(const char *artifact_path, struct aiops_buf *config,
    struct aiops_oci_desc *config_desc, struct aiops_oci_desc *layer_desc,
    struct aiops_buf *manifest, struct aiops_oci_desc *manifest_desc, struct aiops_error *e)
{
	return aiops_oci_describe_as(artifact_path, NULL, config, config_desc, layer_desc, manifest,
	    manifest_desc, e);
}

/* ---- the layout ------------------------------------------------------------------------ */

/* Write blob d from memory p or, when p is NULL, from the file src (checked as copied). */
static int
blob_put(const char *dir, const struct aiops_oci_desc *d, const void *p, const char *src,
    struct aiops_error *e)
{
	struct aiops_buf path = AIOPS_BUF_INIT;
	struct aiops_out out;
	struct stat st;
	int r;

	if ((r = aiops_oci_blob_path(dir, d->digest, &path, e)) != AIOPS_OK)
		return r;
	if (stat(path.buf, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == d->size) {
		/* content-addressed: a blob with the right bytes is already there */
		char have[72];
		if (aiops_sha256_file(path.buf, have, NULL, NULL) == AIOPS_OK &&
		    strcmp(have, d->digest) == 0) {
			aiops_buf_release(&path);
			return AIOPS_OK;
		}
	}
	if ((r = aiops_out_open(&out, path.buf, e)) != AIOPS_OK) {
		aiops_buf_release(&path);
		return r;
	}
	if (p != NULL) {
		r = aiops_out_write(&out, p, d->size, e);
	} else {
		struct aiops_sha256 h;
		unsigned char md[32], *buf = aiops_malloc(BUFSZ);
		char got[72];
		uint64_t total = 0;
		ssize_t k = 0;
		int fd = buf ? open(src, O_RDONLY | O_CLOEXEC) : -1;

		if (buf == NULL)
			r = nomem(e);
		else if (fd < 0)
			r = aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot open: %s", src, strerror(errno));
		else if (aiops_sha256_init(&h) != AIOPS_OK)
			r = nomem(e);
		else {
			while (r == AIOPS_OK) {
				k = read(fd, buf, BUFSZ);
				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0)
					break;
				aiops_sha256_update(&h, buf, (size_t)k);
				total += (uint64_t)k;
				r = aiops_out_write(&out, buf, (size_t)k, e);
			}
			if (r == AIOPS_OK && k < 0)
				r = aiops_error_set(e, AIOPS_ERR_IO, "%s: read error: %s", src, strerror(errno));
			if (r == AIOPS_OK) {
				aiops_sha256_final(&h, md);
				memcpy(got, "sha256:", 7);
				aiops_hex(md, 32, got + 7);
				if (total != d->size || strcmp(got, d->digest) != 0)
					r = aiops_error_set(e, AIOPS_ERR_IO, "%s: changed while it was being copied",
					    src);
			} else {
				aiops_sha256_release(&h);
			}
		}
		if (fd >= 0)
			close(fd);
		aiops_free(buf);
	}
	if (r == AIOPS_OK)
		r = aiops_out_commit(&out, e);
	else
		aiops_out_abort(&out);
	aiops_buf_release(&path);
	return r;
}

/* Load dir/index.json; *o is NULL when there is none. */
static int
index_load(const char *dir, const char *ipath, json_t **o, struct aiops_error *e)
{
	json_error_t je;
	json_t *m;
	FILE *f = fopen(ipath, "rb");
	unsigned long nfail;

	(void)dir;
	*o = NULL;
	if (f == NULL) {
		if (errno == ENOENT)
			return AIOPS_OK;
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot open: %s", ipath, strerror(errno));
	}
	nfail = aiops_alloc_failures();
	*o = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (*o == NULL && aiops_nomem_since(nfail, e) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if (*o == NULL)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s:%d:%d: %s", ipath, je.line, je.column,
		    je.text);
	m = json_object_get(*o, "manifests");
	if (!json_is_object(*o) || !json_is_array(m) ||
	    (json_object_get(*o, "schemaVersion") &&
	    json_integer_value(json_object_get(*o, "schemaVersion")) != 2)) {
		json_decref(*o);
		*o = NULL;
		return aiops_error_set(e, AIOPS_ERR_FORMAT,
		    "%s: not an OCI image index (schemaVersion 2 with a manifests array)", ipath);
	}
	return AIOPS_OK;
}

static const char *
ref_name(json_t *ent)
{
	return json_string_value(json_object_get(json_object_get(ent, "annotations"),
	    AIOPS_OCI_ANN_REF));
}

struct ent_sort {
	json_t *j;
	size_t i;
};

/* By tag, entries without one first; ties in their old order. */
static int
ent_cmp(const void *pa, const void *pb)
{
	const struct ent_sort *a = pa, *b = pb;
	const char *x = ref_name(a->j), *y = ref_name(b->j);
	int c = (x != NULL) - (y != NULL);

	if (c == 0 && x && y)
		c = strcmp(x, y);
	if (c == 0)
		c = (a->i > b->i) - (a->i < b->i);
	return c;
}

/* The new index.json bytes: idx (or a fresh index) with tag -> md. */
static int
index_update(json_t *idx, const char *tag, const struct aiops_oci_desc *md, char **out,
    struct aiops_error *e)
{
	json_t *m, *ent, *nm = NULL;
	struct ent_sort *v = NULL;
	size_t n, k = 0;
	int r = AIOPS_OK;

	if (idx == NULL)
		idx = json_pack("{s:i,s:s,s:[]}", "schemaVersion", 2, "mediaType", AIOPS_OCI_INDEX_TYPE,
		    "manifests");
	else
		json_incref(idx);
	if (idx == NULL)
		return nomem(e);
	m = json_object_get(idx, "manifests");
	n = json_array_size(m);
	ent = json_pack("{s:s,s:s,s:s,s:I,s:{s:s}}", "mediaType", md->media_type,
	    "artifactType", AIOPS_OCI_ARTIFACT_TYPE, "digest", md->digest,
	    "size", (json_int_t)md->size, "annotations", AIOPS_OCI_ANN_REF, tag);
	if (ent == NULL || (v = aiops_calloc(n + 1, sizeof(*v))) == NULL ||
	    (nm = json_array()) == NULL) {
		r = nomem(e);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_array_get(m, i);
		const char *t = ref_name(x);
		if (t == NULL || strcmp(t, tag) != 0) {
			v[k].j = x;
			v[k].i = k;
			k++;
		}
	}
	v[k].j = ent;
	v[k].i = k;
	k++;
	qsort(v, k, sizeof(*v), ent_cmp);
	for (size_t i = 0; i < k; i++)
		if (json_array_append(nm, v[i].j) != 0) {
			r = nomem(e);
			goto out;
		}
	if (json_object_set(idx, "manifests", nm) != 0 ||
	    (*out = json_dumps(idx, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		r = nomem(e);
out:
	aiops_free(v);
	json_decref(nm);
	json_decref(ent);
	json_decref(idx);
	return r;
}

/* Whether dir (open as dfd) is empty. */
/* A directory with nothing of a layout's own yet (see below). */
static int
dir_empty(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int empty = 1;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		/*
		 * What a push killed before it wrote oci-layout leaves: the blobs
		 * directory and temporary files (".NAME.XXXXXX", see out.c)
		 */
		if (strcmp(n, "blobs") == 0 || (n[0] == '.' && len > 8 && n[len - 7] == '.'))
			continue;
		empty = 0;
	}
	closedir(d);
	return empty;
}

int
aiops_oci_layout_add_as(const char *dir, const char *artifact_path, const char *title,
    const char *tag, struct aiops_oci_desc *added, struct aiops_error *e)
{
	struct aiops_buf config = AIOPS_BUF_INIT, manifest = AIOPS_BUF_INIT, p = AIOPS_BUF_INIT;
	struct aiops_oci_desc cd, ld, md;
	struct aiops_artifact a;
	json_t *idx = NULL;
	char *ibytes = NULL;
	int r, dfd = -1, made_dir = 0, fresh = 0, made_blobs = 0, made_sha = 0, wrote_layout = 0;
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

	memset(&a, 0, sizeof(a));
	memset(&cd, 0, sizeof(cd));
	memset(&ld, 0, sizeof(ld));
	memset(&md, 0, sizeof(md));
	if (tag != NULL && !aiops_oci_tag_valid(tag))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "bad tag \"%.140s\": an OCI tag is letters, digits, '_', '.' and '-', "
		    "not starting with '.' or '-', at most 128 bytes", tag);
	if ((r = describe(artifact_path, title, &a, &config, &cd, &ld, &manifest, &md, e)) != AIOPS_OK)
		goto out;
	if (tag == NULL && !aiops_oci_tag_valid(tag = a.version)) {
		r = aiops_error_set(e, AIOPS_ERR_USAGE,
		    "the version \"%s\" is not a valid OCI tag (no '+'); give one with --tag", a.version);
		goto out;
	}
	if (mkdir(dir, 0777) == 0)
		made_dir = 1;
	else if (errno != EEXIST) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	/* one writer at a time: the index is read, changed and written back */
	if (flock(dfd, LOCK_EX) != 0) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot lock: %s", dir, strerror(errno));
		goto out;
	}
	{
		struct stat st;
		if (fstatat(dfd, "oci-layout", &st, 0) != 0) {
			if (!dir_empty(dfd)) {
				r = aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s: not an OCI image layout (no oci-layout file) and not empty", dir);
				goto out;
			}
			fresh = 1;
		} else {
			json_error_t je;
			json_t *lo;
			if (aiops_buf_addf(&p, "%s/oci-layout", dir) != AIOPS_OK) {
				r = nomem(e);
				goto out;
			}
			lo = json_load_file(p.buf, 0, &je);
			if (!json_is_string(json_object_get(lo, "imageLayoutVersion")) ||
			    strncmp(json_string_value(json_object_get(lo, "imageLayoutVersion")), "1.", 2) != 0) {
				json_decref(lo);
				r = aiops_error_set(e, AIOPS_ERR_FORMAT,
				    "%s: not an OCI image layout of version 1.x", p.buf);
				goto out;
			}
			json_decref(lo);
		}
	}
	if (mkdirat(dfd, "blobs", 0777) == 0)
		made_blobs = 1;
	else if (errno != EEXIST) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s/blobs: cannot create: %s", dir, strerror(errno));
		goto out;
	}
	if (mkdirat(dfd, "blobs/sha256", 0777) == 0)
		made_sha = 1;
	else if (errno != EEXIST) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s/blobs/sha256: cannot create: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((r = blob_put(dir, &ld, NULL, artifact_path, e)) != AIOPS_OK ||
	    (r = blob_put(dir, &cd, config.buf, NULL, e)) != AIOPS_OK ||
	    (r = blob_put(dir, &md, manifest.buf, NULL, e)) != AIOPS_OK)
		goto out;
	aiops_buf_reset(&p);
	if (aiops_buf_addf(&p, "%s/oci-layout", dir) != AIOPS_OK) {
		r = nomem(e);
		goto out;
	}
	if (fresh) {
		if ((r = aiops_out_put(p.buf, layout, sizeof(layout) - 1, e)) != AIOPS_OK)
			goto out;
		wrote_layout = 1;
	}
	aiops_buf_reset(&p);
	if (aiops_buf_addf(&p, "%s/index.json", dir) != AIOPS_OK) {
		r = nomem(e);
		goto out;
	}
	if ((r = index_load(dir, p.buf, &idx, e)) != AIOPS_OK ||
	    (r = index_update(idx, tag, &md, &ibytes, e)) != AIOPS_OK)
		goto out;
	if ((r = aiops_out_put(p.buf, ibytes, strlen(ibytes), e)) == AIOPS_OK && added != NULL)
		*added = md;
out:
	if (r != AIOPS_OK && fresh && dfd >= 0) {
		/* a new layout that did not come about: take back what this call made (the
		 * directory was empty, so every blob in it is ours); no allocation here */
		const struct aiops_oci_desc *ds[3] = { &ld, &cd, &md };
		char bp[96];
		for (int i = 0; i < 3; i++)
			if (digest_ok(ds[i]->digest)) {
				snprintf(bp, sizeof(bp), "blobs/sha256/%s", ds[i]->digest + 7);
				unlinkat(dfd, bp, 0);
			}
		if (wrote_layout)
			unlinkat(dfd, "oci-layout", 0);
		if (made_sha)
			unlinkat(dfd, "blobs/sha256", AT_REMOVEDIR);
		if (made_blobs)
			unlinkat(dfd, "blobs", AT_REMOVEDIR);
	}
	if (dfd >= 0)
		close(dfd);
	if (r != AIOPS_OK && made_dir)
		rmdir(dir);
	free(ibytes);
	json_decref(idx);
	aiops_artifact_release(&a);
	aiops_buf_release(&config);
	aiops_buf_release(&manifest);
	aiops_buf_release(&p);
	return r;
}

int
aiops_oci_layout_add(const char *dir, const char *artifact_path, const char *tag,
    struct aiops_error *e)
{
	return aiops_oci_layout_add_as(dir, artifact_path, NULL, tag, NULL, e);
}

int
aiops_oci_layout_resolve(const char *dir, const char *tag, struct aiops_oci_desc *out,
    struct aiops_error *e)
{
	struct aiops_buf p = AIOPS_BUF_INIT;
	json_t *idx = NULL, *m, *hit = NULL;
	int r;

	if (aiops_buf_addf(&p, "%s/index.json", dir) != AIOPS_OK)
		return nomem(e);
	if ((r = index_load(dir, p.buf, &idx, e)) != AIOPS_OK)
		goto out;
	if (idx == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot open: %s", p.buf, strerror(ENOENT));
		goto out;
	}
	m = json_object_get(idx, "manifests");
	for (size_t i = 0; i < json_array_size(m); i++) {
		const char *t = ref_name(json_array_get(m, i));
		if (t && strcmp(t, tag) == 0)
			hit = json_array_get(m, i);
	}
	if (hit == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_NOTFOUND, "%s: no tag \"%.140s\"", dir, tag);
		goto out;
	}
	{
		const char *mt = json_string_value(json_object_get(hit, "mediaType"));
		const char *dg = json_string_value(json_object_get(hit, "digest"));
		json_t *sz = json_object_get(hit, "size");
		if (mt == NULL || strlen(mt) >= sizeof(out->media_type) || !digest_ok(dg) ||
		    !json_is_integer(sz) || json_integer_value(sz) < 0) {
			r = aiops_error_set(e, AIOPS_ERR_FORMAT,
			    "%s: the entry of tag \"%.140s\" lacks a valid mediaType, digest or size", p.buf, tag);
			goto out;
		}
		memset(out, 0, sizeof(*out));
		memcpy(out->media_type, mt, strlen(mt) + 1);
		memcpy(out->digest, dg, 72);
		out->size = (uint64_t)json_integer_value(sz);
	}
	r = AIOPS_OK;
out:
	json_decref(idx);
	aiops_buf_release(&p);
	return r;
}
