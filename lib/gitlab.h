/*
 * gitlab.h - the GitLab generic packages back end: PUT and GET of
 * /projects/:id/packages/generic/:package_name/:package_version/:file_name
 * through the HTTP engine of registry.h (retries, timeouts, TLS policy).
 */
#ifndef AIOPS_GITLAB_H
#define AIOPS_GITLAB_H

#include <stdint.h>

#include "base.h"
#include "registry.h"

/*
 * Where and as whom. api_url is the API root ("https://gitlab.example.com/
 * api/v4", as CI_API_V4_URL); project a numeric ID or a "group/project"
 * path (URL-encoded here). Exactly one of job_token (sent as JOB-TOKEN) and
 * private_token (sent as PRIVATE-TOKEN) is set; both are secrets, never
 * shown. The strings must outlive the calls.
 */
struct aiops_gitlab_opts {
	struct aiops_http_opts http;
	const char *api_url;
	const char *project;
	const char *job_token;
	const char *private_token;
};

/*
 * Publish the file at path as file_name of package/version (PUT with
 * ?select=package_file, streamed from disk). The reply's file_sha256 and
 * size must be the file's; sha256 (may be NULL) gets the file's
 * "sha256:<hex>". Calls for one package version must not run at once
 * (GitLab answers 500 to racing uploads): make them one after another.
 * Errors: AIOPS_ERR_USAGE (a bad name or version), AIOPS_ERR_IO,
 * AIOPS_ERR_NET (refused, unreachable, retries spent), AIOPS_ERR_NOMEM.
 */
int aiops_gitlab_put(const struct aiops_gitlab_opts *o, const char *package, const char *version,
    const char *file_name, const char *path, char sha256[72], struct aiops_error *e);

/*
 * Download file_name of package/version into the regular file fd
 * (truncated first). AIOPS_ERR_NOTFOUND for a 404; else as
 * aiops_gitlab_put().
 */
int aiops_gitlab_get(const struct aiops_gitlab_opts *o, const char *package, const char *version,
    const char *file_name, int fd, struct aiops_error *e);

#endif
