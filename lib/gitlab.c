/* gitlab.c - publish and fetch files of GitLab generic packages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "gitlab.h"
#include "oci.h"

#define REPLY_MAX (1u << 20)

/* The file URL and the auth header line (a secret) into url and auth. */
static int
endpoint(const struct aiops_gitlab_opts *o, const char *package, const char *version,
    const char *file_name, struct aiops_buf *url, struct aiops_buf *auth, struct aiops_error *e)
{
	size_t n = strlen(o->api_url);

	if (o->api_url[0] == '\0' || o->project == NULL || o->project[0] == '\0')
		return aiops_error_set(e, AIOPS_ERR_USAGE, "no GitLab API URL or project");
	if ((o->job_token == NULL) == (o->private_token == NULL))
		return aiops_error_set(e, AIOPS_ERR_USAGE, "expected one GitLab token, job or private");
	while (n > 0 && o->api_url[n - 1] == '/')
		n--;
	if (aiops_buf_add(url, o->api_url, n) || aiops_buf_addstr(url, "/projects/") ||
	    aiops_url_escape(url, o->project) || aiops_buf_addstr(url, "/packages/generic/") ||
	    aiops_url_escape(url, package) || aiops_buf_addch(url, '/') || aiops_url_escape(url, version) ||
	    aiops_buf_addch(url, '/') || aiops_url_escape(url, file_name) ||
	    aiops_buf_addstr(auth, o->job_token ? "JOB-TOKEN: " : "PRIVATE-TOKEN: ") ||
	    aiops_buf_addstr(auth, o->job_token ? o->job_token : o->private_token))
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	return AIOPS_OK;
}

static void
wipe(struct aiops_buf *b)
{
	if (b->buf)
		explicit_bzero(b->buf, b->alloc);
	aiops_buf_release(b);
}

/*
 * The response record and the connection of one request, and the request's
 * method, URL, name in messages and header lines into q.
 */
static int
session(const struct aiops_gitlab_opts *o, const char *method, const char *url,
    const char *what, const char *const *hdrs, struct aiops_http_req *q, struct aiops_http **h,
    struct aiops_http_resp **resp, struct aiops_error *e)
{
	if ((*resp = aiops_malloc(sizeof(**resp))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	q->method = method;
	q->url = url;
	q->what = what;
	q->headers = hdrs;
	return aiops_http_open(h, &o->http, e);
}

static int
refused(const struct aiops_http_resp *r, const char *what, const struct aiops_gitlab_opts *o,
    struct aiops_error *e)
{
	char st[512];

	aiops_http_status_text(r, st, sizeof(st));
	if (r->status == 401 || r->status == 403)
		return aiops_error_set(e, AIOPS_ERR_NET, "%s: %s: the %s was refused", what, st,
		    o->job_token ? "job token (JOB-TOKEN)" : "private token (PRIVATE-TOKEN)");
	return aiops_error_set(e, r->status == 404 ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_NET, "%s: %s", what, st);
}

int
aiops_gitlab_put(const struct aiops_gitlab_opts *o, const char *package, const char *version,
    const char *file_name, const char *path, char sha256[72], struct aiops_error *e)
{
	struct aiops_buf url = AIOPS_BUF_INIT, auth = AIOPS_BUF_INIT, reply = AIOPS_BUF_INIT;
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = NULL;
	struct aiops_http *h = NULL;
	const char *hdrs[3] = { "Content-Type: application/octet-stream", NULL, NULL };
	char dg[72], what[600];
	uint64_t size;
	struct stat sb;
	json_t *j = NULL;
	int fd = -1, ret;

	snprintf(what, sizeof(what), "PUT %s/%s/%s", package, version, file_name);
	if ((ret = endpoint(o, package, version, file_name, &url, &auth, e)) != AIOPS_OK ||
	    (ret = aiops_buf_addstr(&url, "?select=package_file")) != AIOPS_OK)
		goto out;
	if ((ret = aiops_sha256_file(path, dg, &size, e)) != AIOPS_OK)
		goto out;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
		ret = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != size) {
		ret = aiops_error_set(e, AIOPS_ERR_IO, "%s: not a regular file, or it changed", path);
		goto out;
	}
	hdrs[1] = auth.buf;
	if ((ret = session(o, "PUT", url.buf, what, hdrs, &q, &h, &resp, e)) != AIOPS_OK)
		goto out;
	q.body_fd = fd;
	q.body_off = 0;
	q.body_size = size;
	q.progress_total = size;
	q.resp = &reply;
	q.resp_max = REPLY_MAX;
	if ((ret = aiops_http_request(h, &q, resp, e)) != AIOPS_OK)
		goto out;
	if (resp->status != 201 && resp->status != 200) {
		ret = refused(resp, what, o, e);
		goto out;
	}
	/* select=package_file: the record of the stored file, to check against ours. */
	j = json_loadb(reply.buf ? reply.buf : "", reply.len, 0, NULL);
	if (j) {
		const char *fs = json_string_value(json_object_get(j, "file_sha256"));
		json_t *sz = json_object_get(j, "size");
		if (fs && strcmp(fs, dg + 7) != 0) {
			ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: GitLab stored sha256 %s, the file has %s", what, fs,
			    dg + 7);
			goto out;
		}
		if (json_is_integer(sz) && (uint64_t)json_integer_value(sz) != size) {
			ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: GitLab stored %lld bytes, the file has %llu", what,
			    (long long)json_integer_value(sz), (unsigned long long)size);
			goto out;
		}
	}
	if (sha256)
		memcpy(sha256, dg, sizeof(dg));
out:
	json_decref(j);
	if (fd >= 0)
		close(fd);
	aiops_http_close(h);
	aiops_free(resp);
	aiops_buf_release(&url);
	aiops_buf_release(&reply);
	wipe(&auth);
	return ret;
}

int
aiops_gitlab_get(const struct aiops_gitlab_opts *o, const char *package, const char *version,
    const char *file_name, int fd, struct aiops_error *e)
{
	struct aiops_buf url = AIOPS_BUF_INIT, auth = AIOPS_BUF_INIT;
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = NULL;
	struct aiops_http *h = NULL;
	const char *hdrs[2] = { NULL, NULL };
	char what[600];
	int ret;

	snprintf(what, sizeof(what), "GET %s/%s/%s", package, version, file_name);
	if ((ret = endpoint(o, package, version, file_name, &url, &auth, e)) != AIOPS_OK)
		goto out;
	hdrs[0] = auth.buf;
	if ((ret = session(o, "GET", url.buf, what, hdrs, &q, &h, &resp, e)) != AIOPS_OK)
		goto out;
	q.out_fd = fd;
	q.out_max = UINT64_MAX / 2;
	if ((ret = aiops_http_request(h, &q, resp, e)) != AIOPS_OK)
		goto out;
	/*
	 * GitLab may send the download to object storage. libcurl would send
	 * the JOB-TOKEN or PRIVATE-TOKEN header there too, so the redirect is
	 * followed here, without it, by libcurl (which never resends it).
	 */
	if (resp->status >= 301 && resp->status <= 308 && resp->status != 304 && resp->location[0]) {
		char *loc = aiops_strdup(resp->location);
		if (loc == NULL) {
			ret = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (strstr(loc, "://") == NULL) {
			ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: a relative redirect to %.200s", what, loc);
			aiops_free(loc);
			goto out;
		}
		q.url = loc;
		q.headers = NULL;
		q.follow = 1;
		ret = aiops_http_request(h, &q, resp, e);
		aiops_free(loc);
		if (ret != AIOPS_OK)
			goto out;
	}
	if (resp->status != 200)
		ret = refused(resp, what, o, e);
	else if (resp->content_length >= 0 && (uint64_t)resp->content_length != resp->received)
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: %llu of %lld bytes arrived", what,
		    (unsigned long long)resp->received, (long long)resp->content_length);
out:
	aiops_http_close(h);
	aiops_free(resp);
	aiops_buf_release(&url);
	wipe(&auth);
	return ret;
}
