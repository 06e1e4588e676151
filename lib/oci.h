/*
 * oci.h - an aiops artifact as an OCI image manifest (v1.1) and the OCI
 * image layout on disk (oci-layout, index.json, blobs/sha256/<hex>).
 * The mapping is documented in aiops-artifact(5).
 */
#ifndef AIOPS_OCI_H
#define AIOPS_OCI_H

#include <stdint.h>

#include "base.h"

/* Media types of the aiops OCI mapping. */
#define AIOPS_OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define AIOPS_OCI_INDEX_TYPE    "application/vnd.oci.image.index.v1+json"
#define AIOPS_OCI_ARTIFACT_TYPE "application/vnd.aiops.model.v1"
#define AIOPS_OCI_CONFIG_TYPE   "application/vnd.aiops.model.config.v1+json"
#define AIOPS_OCI_LAYER_TYPE    "application/vnd.aiops.model.layer.v1.tar+gzip"

/* Annotation keys used on manifests, layers and index entries. */
#define AIOPS_OCI_ANN_TITLE   "org.opencontainers.image.title"
#define AIOPS_OCI_ANN_CREATED "org.opencontainers.image.created"
#define AIOPS_OCI_ANN_VERSION "org.opencontainers.image.version"
#define AIOPS_OCI_ANN_REF     "org.opencontainers.image.ref.name"

/* One OCI content descriptor. */
struct aiops_oci_desc {
	char media_type[128];
	char digest[72]; /* "sha256:<64 lowercase hex>" */
	uint64_t size;
};

/*
 * Build, for the artifact file at artifact_path (an aiops-artifact(5)
 * tar.gz; its manifest is read and checked, AIOPS_ERR_FORMAT if it is not
 * one, but its files are not: aiops_artifact_verify() does that):
 *   config/config_desc     the config blob: the artifact's manifest.json
 *                          bytes, media type AIOPS_OCI_CONFIG_TYPE;
 *   layer_desc             the artifact file itself, AIOPS_OCI_LAYER_TYPE,
 *                          annotated with its title, the base name of
 *                          artifact_path;
 *   manifest/manifest_desc the image manifest JSON bytes (deterministic:
 *                          the same artifact gives the same bytes) and
 *                          their descriptor, AIOPS_OCI_MANIFEST_TYPE.
 * config and manifest are aiops_bufs the caller initialised; they are
 * reset, then filled, and the caller releases them (also on failure).
 * The layer is streamed, never held in memory. Errors: AIOPS_ERR_IO,
 * AIOPS_ERR_FORMAT, AIOPS_ERR_VERSION, AIOPS_ERR_NOMEM.
 */
int aiops_oci_describe(const char *artifact_path, struct aiops_buf *config,
    struct aiops_oci_desc *config_desc, struct aiops_oci_desc *layer_desc,
    struct aiops_buf *manifest, struct aiops_oci_desc *manifest_desc,
    struct aiops_error *e);

/*
 * Write or update an OCI image layout in dir (created if missing) holding
 * the artifact under tag (NULL: the artifact's version). Blobs are written
 * by temporary file + fsync + rename, index.json last, so a reader sees the
 * old layout or the new one. Other tags in index.json are kept; an entry
 * with the same tag is replaced. Entries are kept sorted by tag, so the
 * bytes are deterministic. The read-modify-write of index.json holds an
 * flock(2) on dir. When dir did not exist and the call fails, what it made
 * is removed; when dir existed, blobs already written may stay (unreferenced,
 * harmless) but index.json is untouched. Errors: AIOPS_ERR_USAGE (a bad
 * tag), AIOPS_ERR_FORMAT (dir is neither empty nor an OCI layout, or its
 * index.json is malformed), and those of aiops_oci_describe().
 */
int aiops_oci_layout_add(const char *dir, const char *artifact_path,
    const char *tag, struct aiops_error *e);
/* The same, with the layer's title given (NULL: the base name of
 * artifact_path), for an artifact that sits in a temporary file; the
 * manifest's descriptor goes to *added unless that is NULL. */
int aiops_oci_layout_add_as(const char *dir, const char *artifact_path,
    const char *title, const char *tag, struct aiops_oci_desc *added, struct aiops_error *e);
/* aiops_oci_describe() with the layer's title given (NULL: as there). */
int aiops_oci_describe_as(const char *artifact_path, const char *title,
    struct aiops_buf *config, struct aiops_oci_desc *config_desc,
    struct aiops_oci_desc *layer_desc, struct aiops_buf *manifest,
    struct aiops_oci_desc *manifest_desc, struct aiops_error *e);

/*
 * Find tag in dir's index.json (the org.opencontainers.image.ref.name
 * annotation) and fill out with its manifest descriptor.
 * AIOPS_ERR_NOTFOUND when the tag is absent; AIOPS_ERR_IO or
 * AIOPS_ERR_FORMAT when dir is not a readable OCI layout.
 */
int aiops_oci_layout_resolve(const char *dir, const char *tag,
    struct aiops_oci_desc *out, struct aiops_error *e);

/*
 * "sha256:<hex>" of the file at path, streaming, into digest; its size in
 * *size (size may be NULL). Errors: AIOPS_ERR_IO, AIOPS_ERR_NOMEM.
 */
int aiops_sha256_file(const char *path, char digest[72], uint64_t *size,
    struct aiops_error *e);

/*
 * The blob path dir/blobs/sha256/<hex> of digest ("sha256:<hex>") into
 * out, reset first. AIOPS_ERR_USAGE when digest is not a well-formed
 * sha256 digest; AIOPS_ERR_NOMEM.
 */
int aiops_oci_blob_path(const char *dir, const char *digest,
    struct aiops_buf *out, struct aiops_error *e);

/* True (1) when tag is a valid OCI tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
int aiops_oci_tag_valid(const char *tag);

#endif
