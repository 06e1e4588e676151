/*
 * registry.h - moving aiops artifacts to and from registries: an HTTP
 * engine (libcurl) with bounded retries, timeouts and a TLS policy, and on
 * it a client of the OCI distribution API (blobs, manifests, monolithic,
 * chunked and resumable uploads, cross-repository mounts, referrers,
 * Basic and Bearer-token auth). The GitLab back end is in gitlab.h.
 */
#ifndef AIOPS_REGISTRY_H
#define AIOPS_REGISTRY_H

#include <stdint.h>

#include "base.h"
#include "oci.h"

#define AIOPS_REPORT_ARTIFACT_TYPE "application/vnd.aiops.eval-report.v1+json"
#define AIOPS_OCI_EMPTY_TYPE       "application/vnd.oci.empty.v1+json"

/* ---- references --------------------------------------------------------- */

enum aiops_ref_kind {
	AIOPS_REF_OCI = 1,   /* oci://HOST[:PORT]/REPO[:TAG|@DIGEST] */
	AIOPS_REF_GITLAB,    /* gitlab://PACKAGE/VERSION[/FILE] */
	AIOPS_REF_LAYOUT     /* oci-layout:DIR[:TAG], or DIR[:TAG] */
};

/*
 * A parsed reference. OCI: host ("host[:port]"), repo, and ref (a tag, or
 * a "sha256:<hex>" digest with is_digest set; NULL when none was given).
 * GitLab: package, version, file (NULL when none was given). Layout: repo
 * is the directory, ref the tag or NULL. Unused fields are NULL.
 */
struct aiops_ref {
	int kind;
	char *host, *repo, *ref;
	int is_digest;
	char *package, *version, *file;
};

/*
 * Parse s into r (owned by the caller: aiops_ref_release(), also after a
 * failure). AIOPS_ERR_USAGE with a message that says what was expected.
 */
int aiops_ref_parse(struct aiops_ref *r, const char *s, struct aiops_error *e);
void aiops_ref_release(struct aiops_ref *r);

/* 1 when host ("name[:port]", "[v6]:port") is a loopback name or address. */
int aiops_host_is_loopback(const char *host);

/* ---- the HTTP engine ---------------------------------------------------- */

/* Callbacks: progress of one transfer, and a note on each step (for -v). */
typedef void aiops_progress_fn(void *ud, const char *what, uint64_t done, uint64_t total);
typedef void aiops_note_fn(void *ud, const char *msg);

/*
 * Policy of every request. Retries happen on connection errors, timeouts,
 * 408, 429 and 5xx: at most retries further attempts per operation, and
 * no attempt starts more than retry_time seconds after the operation's
 * first failure. The wait before retry k (0-based) is a random value in
 * [d/2, d] with d = retry_delay * 2^k capped at 30 s, or the server's
 * Retry-After when that is longer. timeout bounds connecting and any
 * stall of a transfer (less than 1 byte/s), not a whole transfer.
 * Plain http is used only for loopback hosts or with insecure_http.
 */
struct aiops_http_opts {
	const char *cacert;       /* CA bundle for https, or NULL for the system's */
	int insecure_http;        /* allow plain http to any host */
	int retries;              /* default 5 */
	double retry_time;        /* seconds; default 300 */
	double retry_delay;       /* seconds; default 1 */
	double timeout;           /* seconds; default 30 */
	aiops_progress_fn *progress; /* may be NULL */
	aiops_note_fn *note;      /* may be NULL */
	void *ud;
};

/* Fill o with the defaults above (no callbacks). */
void aiops_http_opts_default(struct aiops_http_opts *o);

struct aiops_http;

/* One libcurl handle and its policy; *hp is the caller's: aiops_http_close().
 * o is copied (its strings must outlive the handle). AIOPS_ERR_NET, NOMEM. */
int aiops_http_open(struct aiops_http **hp, const struct aiops_http_opts *o,
    struct aiops_error *e);
void aiops_http_close(struct aiops_http *h);

/*
 * One request. The body is body/body_len in memory, or body_size bytes of
 * the file body_fd from body_off (streamed, never held in memory), or none.
 * A 2xx response body goes to out_fd (which must be a regular file, since
 * a retry truncates it) when out_fd >= 0, with at most out_max bytes, else
 * into resp (at most resp_max bytes; AIOPS_ERR_LIMIT beyond); other
 * responses keep at most 64 KiB for messages in err_body. headers are
 * extra "Name: value" lines (NULL-terminated, may be NULL); they may hold
 * secrets and are never shown. what names the request in messages.
 */
struct aiops_http_req {
	const char *method, *url, *what;
	const char *const *headers;
	const void *body;
	size_t body_len;
	int body_fd;               /* -1: none */
	uint64_t body_off, body_size;
	struct aiops_buf *resp;
	size_t resp_max;
	int out_fd;                /* -1: none */
	uint64_t out_max;
	int follow;                /* follow redirects (GET, HEAD) */
	uint64_t progress_base, progress_total; /* for the progress callback */
};
#define AIOPS_HTTP_REQ_INIT { NULL, NULL, NULL, NULL, NULL, 0, -1, 0, 0, NULL, 0, -1, 0, 0, 0, 0 }

/* What came back: the status and the headers the clients use. */
struct aiops_http_resp {
	long status;               /* 0: no response (transport failure) */
	int64_t content_length;    /* -1 if absent */
	char location[4096];
	char range[64];
	char digest[80];           /* Docker-Content-Digest */
	char content_type[160];    /* without parameters */
	char www_authenticate[2048];
	char retry_after[64];
	char oci_subject[80];
	int oci_chunk_min;         /* OCI-Chunk-Min-Length seen */
	uint64_t chunk_min;
	char err_body[8192];       /* the start of a non-2xx response's body */
	char transport[256];       /* the transport error, when status is 0 */
	int fatal;                 /* a failure that no retry mends (TLS, policy, local I/O) */
	uint64_t received;         /* bytes written to out_fd */
	char out_digest[72];       /* "sha256:<hex>" of those bytes */
};

/*
 * Send q once: AIOPS_OK when a response came (whatever its status; see
 * r->status), AIOPS_ERR_NET when none did (r->transport says why),
 * AIOPS_ERR_USAGE when the URL breaks the TLS policy, AIOPS_ERR_IO when
 * out_fd could not be written, AIOPS_ERR_LIMIT past resp_max or out_max.
 * r is reset first; it stays valid until the next call on h.
 */
int aiops_http_once(struct aiops_http *h, const struct aiops_http_req *q,
    struct aiops_http_resp *r, struct aiops_error *e);

/*
 * Send q with retries (see aiops_http_opts); the body is resent whole and
 * out_fd is truncated before each attempt. Returns as aiops_http_once()
 * for the last attempt, or AIOPS_ERR_NET when the retries ran out (the
 * message names the request, the attempts and the last failure).
 */
int aiops_http_request(struct aiops_http *h, const struct aiops_http_req *q,
    struct aiops_http_resp *r, struct aiops_error *e);

/* A short description of a non-2xx response for messages: "HTTP 404
 * (MANIFEST_UNKNOWN: manifest unknown)". Returns buf. */
const char *aiops_http_status_text(const struct aiops_http_resp *r, char *buf, size_t n);

/* The URL-escaped form of s (RFC 3986 unreserved kept) appended to b. */
int aiops_url_escape(struct aiops_buf *b, const char *s);

/* ---- credentials -------------------------------------------------------- */

/*
 * Credentials for registry host ("host[:port]"), first found of:
 * AIOPS_REGISTRY_USER and AIOPS_REGISTRY_PASSWORD; CI_REGISTRY_USER and
 * CI_REGISTRY_PASSWORD when host equals CI_REGISTRY (GitLab CI); the
 * "auths" entry for host in $DOCKER_CONFIG/config.json or
 * ~/.docker/config.json (base64 "user:password" in "auth", or "username"
 * and "password"). *user and *password are the caller's (free with
 * aiops_secret_free()); both NULL when none were found. *source (may be
 * NULL) names where they came from, never what they are.
 * AIOPS_ERR_USAGE for a user without a password; AIOPS_ERR_DATA for a
 * config.json that cannot be read as one.
 */
int aiops_reg_credentials(const char *host, char **user, char **password,
    const char **source, struct aiops_error *e);

/* Overwrite a secret string with zeros and free it; NULL is fine. */
void aiops_secret_free(char *s);

/* ---- the OCI distribution client ----------------------------------------- */

/*
 * Unless said otherwise, the calls below return AIOPS_OK or: AIOPS_ERR_NET
 * (no answer after the retries, or an answer that refuses: the message
 * names the request, the status and the registry's error code, e.g.
 * "manifest models/m:9: HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)"),
 * AIOPS_ERR_IO (a local file), AIOPS_ERR_NOMEM. Requests that change
 * nothing or may be repeated are retried as aiops_http_request() says;
 * uploads have retries of their own, described with them. Descriptors
 * hold "sha256:<hex>" digests; repository names and tags are not checked
 * here (aiops_ref_parse() does that).
 */

struct aiops_reg_opts {
	struct aiops_http_opts http;
	const char *user, *password; /* Basic credentials, also for a token endpoint; may be NULL */
	int push;                 /* ask for push access to repo (else pull only) */
	const char *also_pull;    /* another repository read from (mount, promote), or NULL */
	uint64_t chunk_size;      /* blobs larger than this go in PATCH chunks of it; 0: never */
};

struct aiops_reg;

/*
 * Connect to the registry at host ("host[:port]") for repository repo:
 * GET /v2/, and on a 401 set up the challenged scheme, Basic (the
 * credentials of o) or Bearer (a token from the challenge's realm for
 * scopes repository:REPO:pull[,push] and repository:ALSO_PULL:pull). The
 * scheme is https, or http for a loopback host without o->http.cacert, or
 * for any host with o->http.insecure_http. *rp is the caller's:
 * aiops_reg_close(). o is copied; its strings must outlive the handle.
 * The credentials go to the registry (Basic) or to the token service
 * (Bearer) only, and to no request whose URL is on another server.
 * Errors: AIOPS_ERR_NET (unreachable, credentials missing or refused, not
 * a registry, retries spent), AIOPS_ERR_USAGE (a plain-http token realm
 * on a host that is not a loopback one, without insecure_http).
 */
int aiops_reg_open(struct aiops_reg **rp, const char *host, const char *repo,
    const struct aiops_reg_opts *o, struct aiops_error *e);
void aiops_reg_close(struct aiops_reg *r);

/* 1 when repo (NULL: the handle's) holds the blob d->digest, 0 when not. */
int aiops_reg_blob_exists(struct aiops_reg *r, const char *repo, const char *digest,
    struct aiops_error *e);

/*
 * Upload the blob d into the handle's repository, from the file path or,
 * when path is NULL, from mem (d->size bytes): one PUT, or PATCH chunks
 * when d->size exceeds the chunk size. An interrupted chunk resumes from
 * the offset the registry reports (GET on the upload URL, Range header);
 * an upload the registry forgot starts again. No HEAD is made here.
 */
int aiops_reg_blob_put(struct aiops_reg *r, const struct aiops_oci_desc *d,
    const char *path, const void *mem, struct aiops_error *e);

/*
 * Mount blob digest from repository from into the handle's repository:
 * 1 mounted, 0 the registry would not (nothing is left open), <0 error.
 */
int aiops_reg_blob_mount(struct aiops_reg *r, const char *digest, const char *from,
    struct aiops_error *e);

/*
 * Make sure the blob d is in the handle's repository: HEAD, then a mount
 * from o->also_pull if one was named, then an upload from path or mem.
 * *how (may be NULL) gets "present", "mounted" or "uploaded".
 */
int aiops_reg_blob_ensure(struct aiops_reg *r, const struct aiops_oci_desc *d,
    const char *path, const void *mem, const char **how, struct aiops_error *e);

/*
 * Download blob d from repo (NULL: the handle's) into the regular file fd
 * (truncated first), checking its size and digest while streaming;
 * AIOPS_ERR_FORMAT when they differ.
 */
int aiops_reg_blob_get(struct aiops_reg *r, const char *repo,
    const struct aiops_oci_desc *d, int fd, struct aiops_error *e);

/*
 * PUT the manifest bytes p/n with media_type under ref (a tag or a digest)
 * in the handle's repository; out (may be NULL) gets its descriptor. The
 * registry's Docker-Content-Digest must match. *subject_seen (may be NULL)
 * is set when the registry answered OCI-Subject (it keeps referrers).
 */
int aiops_reg_manifest_put(struct aiops_reg *r, const char *ref, const char *media_type,
    const void *p, size_t n, struct aiops_oci_desc *out, int *subject_seen,
    struct aiops_error *e);

/*
 * GET manifest ref (a tag or a digest) of repo (NULL: the handle's) into
 * body (reset first; at most 4 MiB); out gets its media type, digest and
 * size. The digest is checked against the ref when it is one, and against
 * Docker-Content-Digest. AIOPS_ERR_NOTFOUND for a 404.
 */
int aiops_reg_manifest_get(struct aiops_reg *r, const char *repo, const char *ref,
    struct aiops_buf *body, struct aiops_oci_desc *out, struct aiops_error *e);

/*
 * Push an aiops artifact (aiops-artifact(5)) under tag: its config and
 * layer blobs (each skipped when present, mounted when possible), then
 * the manifest, last, so the tag never names a missing blob. The artifact
 * is verified whole (aiops_artifact_verify()) on a second thread while the
 * blobs go up, and the manifest is put only when it passed; a broken
 * artifact fails with that check's error (AIOPS_ERR_FORMAT, ...) and
 * leaves no tag. out gets the manifest's descriptor.
 */
int aiops_reg_push_artifact(struct aiops_reg *r, const char *artifact, const char *tag,
    struct aiops_oci_desc *out, struct aiops_error *e);

/*
 * Push report (a JSON file) as an OCI 1.1 artifact manifest of type
 * AIOPS_REPORT_ARTIFACT_TYPE whose subject is the manifest subject, by
 * digest. When the registry does not answer OCI-Subject, the referrers
 * tag schema is kept instead: the image index under tag
 * "sha256-<hex of subject>" gets the new manifest's descriptor.
 */
int aiops_reg_push_referrer(struct aiops_reg *r, const struct aiops_oci_desc *subject,
    const char *report, struct aiops_oci_desc *out, struct aiops_error *e);

/*
 * Fetch artifact manifest ref of repo (NULL: the handle's) and its blobs,
 * every digest checked while streaming, the layer (the artifact file)
 * into the regular file fd. manifest (may be NULL) gets the manifest's
 * descriptor. AIOPS_ERR_FORMAT when the manifest is not an aiops model's.
 */
int aiops_reg_pull_artifact(struct aiops_reg *r, const char *repo, const char *ref,
    int fd, struct aiops_oci_desc *manifest, struct aiops_error *e);

/*
 * Give the manifest src_ref of src_repo the new tag dst_tag in dst_repo
 * (NULL: the handle's repository). The manifest bytes are copied as they
 * are; across repositories its blobs are made present first (mounted, or
 * copied when the registry will not mount). out gets its descriptor.
 */
int aiops_reg_promote(struct aiops_reg *r, const char *src_repo, const char *src_ref,
    const char *dst_repo, const char *dst_tag, struct aiops_oci_desc *out,
    struct aiops_error *e);

/* ---- the OCI image layout back end ---------------------------------------- */

/*
 * The layout counterpart of aiops_reg_pull_artifact(): resolve tag in the
 * OCI layout dir and copy its layer into the regular file fd, checking the
 * manifest's and the layer's digests on the way.
 */
int aiops_layout_pull_artifact(const char *dir, const char *tag, int fd,
    struct aiops_oci_desc *manifest, struct aiops_error *e);

/*
 * Parse an aiops artifact manifest (bytes p/n): check its media types and
 * fill config and layer with its two descriptors. AIOPS_ERR_FORMAT.
 */
int aiops_oci_manifest_parse(const void *p, size_t n, struct aiops_oci_desc *config,
    struct aiops_oci_desc *layer, struct aiops_error *e);

#endif
