/*
 * artifact.h - the aiops artifact (aiops-artifact(5)): a reproducible
 * tar.gz of a model, its evaluation report and extra files, led by a
 * manifest.json that records what they are and their SHA-256 sums; and the
 * readers that list, verify and safely extract one.
 */
#ifndef AIOPS_ARTIFACT_H
#define AIOPS_ARTIFACT_H

#include <stdint.h>

#include <jansson.h>

#include "base.h"

#define AIOPS_ARTIFACT_SCHEMA 1                 /* manifest schema_version written */
#define AIOPS_ARTIFACT_MANIFEST "manifest.json" /* the first member */
#define AIOPS_ARTIFACT_MAX_MANIFEST (16u << 20) /* a larger manifest is refused */
#define AIOPS_ARTIFACT_MAX_NAME 100             /* bytes in a member name (ustar) */

/* What aiops_artifact_pack() packs. */
struct aiops_pack_opts {
	const char *model;          /* the model file (aiops-model(5)); required */
	const char *report;         /* an evaluation report (a JSON object), or NULL */
	const char *const *files;   /* nfiles extra files (README, templates, ...) */
	size_t nfiles;
	const char *name;           /* artifact name; NULL: from the model's file name */
	const char *version;        /* artifact version; required */
	int64_t created;            /* seconds since the epoch; < 0: the model's
	                               provenance.created */
	int level;                  /* gzip level 0..9; < 0: 6 */
	int jobs;                   /* compression threads; <= 1: none. The output
	                               bytes do not depend on it. */
};

/*
 * Pack o into out, which the caller opened with aiops_out_open() and commits
 * or aborts (the artifact is written through it, never committed here).
 * Every input file is read twice (sums first, for the manifest that leads
 * the archive, then the data) and streamed, never held whole in memory; a
 * file that changes in between is an error. The same inputs and options
 * give the same bytes, whatever the files' times, owners and modes, the
 * umask and o->jobs. Errors: AIOPS_ERR_USAGE (a bad name, version, level or
 * file name, two files with one name, no creation time), AIOPS_ERR_FORMAT
 * and AIOPS_ERR_VERSION (the model does not load; the report is not a JSON
 * object), AIOPS_ERR_DATA (the model has no training fingerprint),
 * AIOPS_ERR_IO, AIOPS_ERR_LIMIT (a file of 8 GiB or more), AIOPS_ERR_NOMEM.
 */
int aiops_artifact_pack(const struct aiops_pack_opts *o, struct aiops_out *out,
    struct aiops_error *e);

/*
 * The default artifact name for a model file: its base name less ".gz" and
 * ".model", into out (reset first). AIOPS_ERR_USAGE when that is not a
 * valid name (aiops_artifact_name_valid()); AIOPS_ERR_NOMEM.
 */
int aiops_artifact_default_name(const char *model_path, struct aiops_buf *out,
    struct aiops_error *e);
/* True (1) when s is a valid artifact name or version:
 * [A-Za-z0-9_][A-Za-z0-9._+-]*, at most 128 bytes. */
int aiops_artifact_name_valid(const char *s);
/* True (1) when s may name a member: [A-Za-z0-9_][A-Za-z0-9._+-]*, at most
 * AIOPS_ARTIFACT_MAX_NAME bytes, not AIOPS_ARTIFACT_MANIFEST. */
int aiops_artifact_member_name_valid(const char *s);

/* One file of an artifact, as its manifest lists it. */
struct aiops_artifact_file {
	const char *name;           /* into the manifest */
	const char *role;           /* "model", "report" or "file" */
	uint64_t size;
	char sha256[65];            /* lowercase hex */
};

/*
 * An artifact's manifest, read and checked against the schema. The strings
 * point into manifest and live as long as it does.
 */
struct aiops_artifact {
	struct aiops_buf raw;       /* manifest.json, the bytes as stored */
	json_t *manifest;           /* the same, parsed (owned) */
	int schema_version;
	const char *name, *version, *created; /* created: RFC 3339, UTC */
	const char *model;          /* the model's member name */
	const char *family;         /* the model's family */
	const char *train_sha256;   /* the training data's fingerprint */
	struct aiops_artifact_file *files; /* in manifest order (sorted by name) */
	size_t nfiles;
};

/* Free what a filled struct aiops_artifact holds; safe on a zeroed one. */
void aiops_artifact_release(struct aiops_artifact *a);

/*
 * Read only the manifest of the artifact at path ("-": standard input),
 * the first member, and check it against the schema; the files are not
 * checked (aiops_artifact_verify() does that). a is filled on success and
 * left zeroed on failure. Errors: AIOPS_ERR_IO, AIOPS_ERR_FORMAT (not a
 * gzip-compressed tar, the first member is not a regular file named
 * manifest.json, a manifest that breaks the schema), AIOPS_ERR_VERSION (a
 * newer schema_version), AIOPS_ERR_LIMIT, AIOPS_ERR_NOMEM.
 */
int aiops_artifact_open(struct aiops_artifact *a, const char *path, struct aiops_error *e);

/*
 * Verify the artifact at path ("-": standard input) whole: every member is
 * a regular file with a plain name (no links, devices, directories, paths),
 * manifest.json comes first and fits the schema, every other member is
 * listed in it once with its size and SHA-256, nothing listed is missing,
 * the gzip stream is sound and nothing follows it, and the model loads and
 * matches the manifest's family and fingerprint. A message names the member
 * at fault: "art.tar.gz: cpu.model: SHA-256 mismatch ...". a (may be NULL)
 * gets the manifest on success. Errors: those of aiops_artifact_open().
 */
int aiops_artifact_verify(const char *path, struct aiops_artifact *a, struct aiops_error *e);

/*
 * Call fn for every member of the artifact at path, in archive order, with
 * its name, size, the SHA-256 of its bytes (computed, lowercase hex) and its
 * role in the manifest ("manifest" for manifest.json, NULL for a member the
 * manifest does not list). A non-zero return from fn stops the walk and is
 * returned. Members are checked as by aiops_artifact_verify(), sums are not
 * compared. Errors: those of aiops_artifact_open().
 */
int aiops_artifact_list(const char *path,
    int (*fn)(void *ud, const char *name, uint64_t size, const char *sha256,
    const char *role), void *ud, struct aiops_error *e);

/*
 * Verify the artifact at path and extract its files into dir (created if
 * missing; its parent must exist), all or none: members go to a staging
 * directory inside dir, opened with O_EXCL and O_NOFOLLOW under plain
 * names, and are renamed into dir only once everything checked out. Files
 * of the same names in dir are replaced; a directory of such a name is an
 * error before anything is replaced. On failure dir is left as it was
 * (and removed if this call made it). *model_path (may be NULL) gets
 * "dir/<model member>", which the caller frees with aiops_free().
 * Errors: those of aiops_artifact_verify(), and AIOPS_ERR_IO for dir.
 */
int aiops_artifact_extract(const char *path, const char *dir, char **model_path,
    struct aiops_error *e);

/* The UTC time t as RFC 3339, "2023-11-14T22:13:20Z", into out[21]. */
void aiops_rfc3339(int64_t t, char out[21]);

#endif
