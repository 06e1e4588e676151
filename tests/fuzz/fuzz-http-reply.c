/*
 * fuzz-http-reply.c - the parsers of lib/registry.c that read what a
 * registry or a token service sends, fed directly (no network): response
 * header lines (header_cb, as libcurl hands them over), error bodies
 * (aiops_http_status_text()), Bearer challenges (challenge_param()), upload
 * Range and Retry-After values, image manifests (aiops_oci_manifest_parse()),
 * docker config.json files (aiops_reg_credentials()), and references and
 * URLs. The input's first byte picks the parser; the rest is its input.
 *
 * Most of these are static in registry.c, so this file compiles registry.c
 * into itself (the archive's registry.o is then not linked); the token
 * reply and GitLab's reply, parsed inside functions that also do the
 * request, are reached through fuzz-http.c instead.
 */
#include "fuzz.h"
#include "../../lib/registry.c"

static volatile size_t sink;
static char docker_dir[512];

enum { P_HEADERS, P_ERRBODY, P_CHALLENGE, P_RANGE, P_RETRY, P_MANIFEST, P_DOCKER, P_REF, P_URL, P_N };

/* Feed the lines of p to header_cb as libcurl does, then use what it kept. */
static void
headers(const uint8_t *p, size_t n)
{
	struct aiops_http_resp *r = calloc(1, sizeof(*r));
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct xfer x;
	char st[512];
	size_t i = 0;

	memset(&x, 0, sizeof(x));
	x.q = &q;
	x.r = r;
	r->content_length = -1;
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
		/* an exact-size heap copy, so that reading past the line is caught */
		char *line = malloc(len);
		memcpy(line, p + i, len);
		if (header_cb(line, 1, len, &x) != len)
			abort();
		free(line);
		i += len;
	}
	/* every kept value is a string within its field */
	if (memchr(r->location, '\0', sizeof(r->location)) == NULL ||
	    memchr(r->www_authenticate, '\0', sizeof(r->www_authenticate)) == NULL ||
	    memchr(r->content_type, '\0', sizeof(r->content_type)) == NULL ||
	    memchr(r->digest, '\0', sizeof(r->digest)) == NULL)
		abort();
	if (r->status == 0)
		r->status = 401;
	aiops_http_status_text(r, st, sizeof(st));
	sink += strlen(st) + (size_t)range_next(r->range) + (retry_after(r->retry_after) > 0);
	if (strncasecmp(r->www_authenticate, "Bearer", 6) == 0) {
		static const char *const keys[] = { "realm", "service", "scope", "error" };
		for (int k = 0; k < 4; k++) {
			char *v = challenge_param(r->www_authenticate + 6, keys[k]);
			if (v)
				sink += strlen(v);
			aiops_free(v);
		}
	}
	free(r);
}

static void
errbody(const char *s, size_t n)
{
	struct aiops_http_resp *r = calloc(1, sizeof(*r));
	char st[512];

	if (n >= sizeof(r->err_body))
		n = sizeof(r->err_body) - 1;
	memcpy(r->err_body, s, n);
	r->status = 404;
	aiops_http_status_text(r, st, sizeof(st));
	if (strlen(st) >= sizeof(st))
		abort();
	r->status = 0;
	memcpy(r->transport, s, n < sizeof(r->transport) - 1 ? n : sizeof(r->transport) - 1);
	aiops_http_status_text(r, st, sizeof(st));
	free(r);
}

static void
docker(const uint8_t *p, size_t n)
{
	static const char *const hosts[] = { "registry.example.com", "localhost:5000", "ghcr.io",
		"https://index.docker.io/v1/", "" };
	char path[600];

	snprintf(path, sizeof(path), "%s/config.json", docker_dir);
	fz_write("docker/config.json", p, n);
	for (int i = 0; i < 5; i++) {
		struct aiops_error e;
		char *user = NULL, *pw = NULL;
		const char *source = NULL;
		if (aiops_reg_credentials(hosts[i], &user, &pw, &source, &e) == AIOPS_OK) {
			if ((user == NULL) != (pw == NULL))
				abort();
		}
		aiops_secret_free(user);
		aiops_secret_free(pw);
	}
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aiops_alloc_init();
	snprintf(docker_dir, sizeof(docker_dir), "%s", fz_path("docker"));
	mkdir(docker_dir, 0700);
	setenv("DOCKER_CONFIG", docker_dir, 1);
	unsetenv("AIOPS_REGISTRY_USER");
	unsetenv("AIOPS_REGISTRY_PASSWORD");
	unsetenv("CI_REGISTRY");
	unsetenv("CI_REGISTRY_USER");
	unsetenv("CI_REGISTRY_PASSWORD");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aiops_error e;
	struct aiops_oci_desc cd, ld;
	struct aiops_ref ref;
	struct aiops_buf b = AIOPS_BUF_INIT;
	const uint8_t *p = data + 1;
	size_t n = size ? size - 1 : 0;
	char *s, host[512];
	char *v;

	if (size == 0)
		return 0;
	s = fz_str(p, n);
	fz_begin(data, size);
	switch (data[0] % P_N) {
	case P_HEADERS:
		headers(p, n);
		break;
	case P_ERRBODY:
		errbody(s, strlen(s));
		break;
	case P_CHALLENGE:
		for (int k = 0; k < 3; k++) {
			v = challenge_param(s, k == 0 ? "realm" : k == 1 ? "service" : "scope");
			if (v)
				sink += strlen(v);
			aiops_free(v);
		}
		break;
	case P_RANGE:
		sink += (size_t)range_next(s);
		break;
	case P_RETRY:
		sink += retry_after(s) > 0;
		break;
	case P_MANIFEST:
		if (aiops_oci_manifest_parse(p, n, &cd, &ld, &e) == AIOPS_OK &&
		    (!digest_valid(cd.digest) || !digest_valid(ld.digest) ||
		    strcmp(ld.media_type, AIOPS_OCI_LAYER_TYPE) != 0))
			abort();
		break;
	case P_DOCKER:
		docker(p, n);
		break;
	case P_REF:
		if (aiops_ref_parse(&ref, s, &e) == AIOPS_OK && ref.kind == AIOPS_REF_OCI &&
		    (ref.host == NULL || ref.repo == NULL))
			abort();
		aiops_ref_release(&ref);
		sink += (size_t)aiops_host_is_loopback(s);
		break;
	case P_URL:
		if (url_host(s, host, sizeof(host)) == 0)
			sink += (size_t)aiops_host_is_loopback(host);
		if (aiops_url_escape(&b, s) == AIOPS_OK && b.buf && strlen(b.buf) != b.len)
			abort();
		aiops_buf_release(&b);
		break;
	}
	fz_end();
	free(s);
	return 0;
}
