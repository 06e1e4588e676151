/*
 * fuzz-http.c - the registry and GitLab clients (lib/registry.c,
 * lib/gitlab.c, and the Prometheus reader lib/prom.c) against a scripted
 * HTTP server: the input's replies are played back, one per request, by
 * a server thread on a loopback port that the process also names as its
 * http_proxy and https_proxy, so that every request, whatever host its
 * URL names (a token realm, a redirect), reaches the script.
 *
 * Input: byte 0 picks the operation (open, HEAD, manifest get, pull,
 * monolithic and chunked upload, mount, manifest put, push, referrer,
 * promote, GitLab put and get, Prometheus query_range), byte 1 holds flags
 * (credentials, a loopback registry or a remote one over insecure http,
 * ...), and the rest is the replies, raw HTTP responses (status line,
 * headers, body; the server closes the connection after each, so no
 * Content-Length is needed) separated by lines "%%". When the replies run
 * out the last one is repeated; an operation that makes more than
 * MAX_REQUESTS requests loops on the server's answers and is a finding.
 *
 * Checked besides memory safety: credentials go to no server they are not
 * meant for: a Bearer token and Basic credentials only to the registry's
 * host (Basic also to a token request), GitLab's JOB-TOKEN and
 * PRIVATE-TOKEN only to the GitLab host.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "aiops.h"
#include "fuzz.h"

#define SEP "\n%%\n"
#define MAXREPLIES 24
#define MAX_REQUESTS 200
#define SECRET_USER "fuzzuser"
#define SECRET_PW "fuzz-secret-pw"
#define BASIC_B64 "ZnV6enVzZXI6ZnV6ei1zZWNyZXQtcHc=" /* base64 of user:pw */
#define GITLAB_TOKEN "glpat-fuzz-secret"

enum { OP_OPEN, OP_EXISTS, OP_MANIFEST_GET, OP_PULL, OP_PUT, OP_PUT_CHUNKED, OP_MOUNT,
	OP_MANIFEST_PUT, OP_PUSH, OP_REFERRER, OP_PROMOTE, OP_GITLAB_PUT, OP_GITLAB_GET, OP_PROM,
	OP_N };

/* The script, shared with the server thread. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static int busy;                    /* the server is handling a connection */
static struct fz_part replies[MAXREPLIES];
static size_t nreplies, next_reply, nrequests;
static char reg_host[64];           /* the registry's host[:port] for this input */
static char violation[512];         /* the first credential leak seen */
static int listen_fd = -1;
static int verbose;                 /* FUZZ_VERBOSE=1: show requests and results */

static char art_path[512], report_path[512];

static void
note_violation(const char *what, const char *host, const char *url)
{
	pthread_mutex_lock(&mu);
	if (violation[0] == '\0')
		snprintf(violation, sizeof(violation), "%s sent to %s (%.300s)", what, host, url);
	pthread_mutex_unlock(&mu);
}

/* Check one request (its head, NUL-terminated) for credentials sent astray. */
static void
check_request(const char *head)
{
	char method[16] = "", url[2048] = "", host[256] = "";
	const char *h, *p;
	size_t n;

	if (sscanf(head, "%15s %2047s", method, url) != 2)
		return;
	if (strcmp(method, "CONNECT") == 0)
		snprintf(host, sizeof(host), "%s", url);
	else if ((p = strstr(url, "://")) != NULL) {
		p += 3;
		n = strcspn(p, "/?#");
		if (n >= sizeof(host))
			n = sizeof(host) - 1;
		memcpy(host, p, n);
		host[n] = '\0';
	}
	/* the header lines only: the fuzzer may well put the secrets into a URL */
	if ((h = strchr(head, '\n')) == NULL)
		return;
	/* (not the token's text: a Content-Type copied from a reply may hold anything) */
	if (strcasestr(h, "\nJOB-TOKEN:") || strcasestr(h, "\nPRIVATE-TOKEN:")) {
		if (strcmp(host, "gitlab.test") != 0)
			note_violation("a GitLab token", host, url);
	}
	if (strcasestr(h, "\nAuthorization: Bearer") != NULL) {
		pthread_mutex_lock(&mu);
		int ok = strcmp(host, reg_host) == 0;
		pthread_mutex_unlock(&mu);
		if (!ok)
			note_violation("a Bearer token", host, url);
	}
	if (strcasestr(h, "\nAuthorization: Basic " BASIC_B64) != NULL) {
		pthread_mutex_lock(&mu);
		int ok = strcmp(host, reg_host) == 0 || strstr(url, "scope=") != NULL;
		pthread_mutex_unlock(&mu);
		if (!ok)
			note_violation("Basic credentials", host, url);
	}
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read a request: its head into head (NUL-terminated), its body discarded. */
static int
read_request(int fd, char *head, size_t cap)
{
	size_t len = 0;
	long long body = 0;
	char *end = NULL, *cl;
	int chunked;

	while (end == NULL) {
		ssize_t k;
		if (len + 1 >= cap)
			return -1;
		k = recv(fd, head + len, cap - 1 - len, 0);
		if (k <= 0)
			return -1;
		len += (size_t)k;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	chunked = strcasestr(head, "\nTransfer-Encoding: chunked") != NULL;
	if ((cl = strcasestr(head, "\nContent-Length:")) != NULL && cl < end)
		body = strtoll(cl + 16, NULL, 10);
	body -= (long long)(len - (size_t)(end + 4 - head));
	*end = '\0';
	if (chunked) {
		/* read until the last chunk; good enough for what libcurl sends */
		char tail[5] = "";
		for (;;) {
			char c;
			if (recv(fd, &c, 1, 0) != 1)
				break;
			memmove(tail, tail + 1, 3);
			tail[3] = c;
			if (memcmp(tail, "0\r\n\r", 4) == 0) {
				recv(fd, &c, 1, 0);
				break;
			}
		}
	} else {
		char buf[65536];
		while (body > 0) {
			ssize_t k = recv(fd, buf, body < (long long)sizeof(buf) ? (size_t)body : sizeof(buf), 0);
			if (k <= 0)
				break;
			body -= k;
		}
	}
	return 0;
}

static void *
server(void *arg)
{
	static char head[1 << 16];

	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		struct timeval tv = { 5, 0 };
		uint8_t *copy = NULL;
		size_t n = 0;
		int have = 0;

		if (fd < 0)
			continue;
		pthread_mutex_lock(&mu);
		busy = 1;
		pthread_mutex_unlock(&mu);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		/* one request per connection: the reply ends when the connection does */
		if (read_request(fd, head, sizeof(head)) == 0) {
			if (verbose)
				fprintf(stderr, "fuzz-http: request: %.*s\n", (int)strcspn(head, "\r\n"), head);
			check_request(head);
			pthread_mutex_lock(&mu);
			nrequests++;
			if (nreplies > 0 && nrequests <= MAX_REQUESTS) {
				/* a copy: a late connection must not read the next input's memory */
				size_t i = next_reply < nreplies ? next_reply++ : nreplies - 1;
				n = replies[i].n;
				if ((copy = malloc(n ? n : 1)) == NULL)
					abort();
				memcpy(copy, replies[i].p, n);
				have = 1;
			}
			pthread_mutex_unlock(&mu);
			if (have)
				write_all(fd, copy, n);
			free(copy);
		}
		shutdown(fd, SHUT_RDWR);
		close(fd);
		pthread_mutex_lock(&mu);
		busy = 0;
		pthread_cond_broadcast(&idle);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static void
start_server(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	pthread_t t;
	char proxy[64];
	int one = 1;

	if ((listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		abort();
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(listen_fd, 64) != 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	setenv("http_proxy", proxy, 1);
	setenv("https_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	if (pthread_create(&t, NULL, server, NULL) != 0)
		abort();
	pthread_detach(t);
}

/* A zscore model packed as an artifact, and a report, for the uploads. */
static void
make_files(void)
{
	char *names[] = { "a", "b" };
	struct aiops_params p = { 0 };
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_out out;
	struct aiops_pack_opts o;
	double x[40];
	const char *mpath = fz_path("m.model");
	static const char report[] = "{\"metrics\":{\"f1\":0.5}}\n";

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
	snprintf(art_path, sizeof(art_path), "%s", fz_path("m.tar.gz"));
	memset(&o, 0, sizeof(o));
	o.model = mpath;
	o.version = "1.0";
	o.created = -1;
	o.level = 1;
	if (aiops_out_open(&out, art_path, &e) != AIOPS_OK || aiops_artifact_pack(&o, &out, &e) != AIOPS_OK ||
	    aiops_out_commit(&out, &e) != AIOPS_OK)
		abort();
	snprintf(report_path, sizeof(report_path), "%s", fz_write("report.json", report, sizeof(report) - 1));
	if (verbose) {
		char dg[72];
		uint64_t size;
		if (aiops_sha256_file(art_path, dg, &size, &e) == AIOPS_OK)
			fprintf(stderr, "fuzz-http: the artifact: %s, %llu bytes\n", dg, (unsigned long long)size);
	}
}

static void
run_registry(int op, int flags)
{
	static const char blob[] = "0123456789";
	struct aiops_reg_opts o;
	struct aiops_reg *r;
	struct aiops_error e;
	struct aiops_oci_desc d, out;
	struct aiops_buf body = AIOPS_BUF_INIT;
	const char *host = (flags & 2) ? "localhost:5000" : "registry.test";
	const char *outp;
	int fd;

	memset(&o, 0, sizeof(o));
	aiops_http_opts_default(&o.http);
	o.http.retries = (flags & 8) ? 1 : 0;
	o.http.retry_delay = 0.001;
	o.http.retry_time = 2;
	o.http.timeout = 5;
	o.http.insecure_http = !(flags & 2);
	if (flags & 1) {
		o.user = SECRET_USER;
		o.password = SECRET_PW;
	}
	o.push = op >= OP_PUT && op != OP_PULL;
	if (op == OP_MOUNT || op == OP_PROMOTE || (flags & 4))
		o.also_pull = "other/repo";
	if (op == OP_PUT_CHUNKED)
		o.chunk_size = 4;
	pthread_mutex_lock(&mu);
	snprintf(reg_host, sizeof(reg_host), "%s", host);
	pthread_mutex_unlock(&mu);
	if (aiops_reg_open(&r, host, "models/cpu", &o, &e) != AIOPS_OK) {
		if (verbose)
			fprintf(stderr, "fuzz-http: open: %s\n", e.msg);
		if (e.msg[0] == '\0')
			abort();
		return;
	}
	e.msg[0] = '\0';
	memset(&d, 0, sizeof(d));
	snprintf(d.media_type, sizeof(d.media_type), "application/octet-stream");
	snprintf(d.digest, sizeof(d.digest), "%s",
	    "sha256:84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882");
	d.size = sizeof(blob) - 1;
	switch (op) {
	case OP_EXISTS:
		(void)aiops_reg_blob_exists(r, NULL, d.digest, &e);
		break;
	case OP_MANIFEST_GET:
		(void)aiops_reg_manifest_get(r, NULL, (flags & 16) ? d.digest : "1.0", &body, &out, &e);
		break;
	case OP_PULL:
		outp = fz_path("pulled");
		if ((fd = open(outp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
			abort();
		(void)aiops_reg_pull_artifact(r, NULL, "1.0", fd, &out, &e);
		close(fd);
		unlink(outp);
		break;
	case OP_PUT:
	case OP_PUT_CHUNKED:
		(void)aiops_reg_blob_ensure(r, &d, NULL, blob, NULL, &e);
		break;
	case OP_MOUNT:
		(void)aiops_reg_blob_mount(r, d.digest, "other/repo", &e);
		break;
	case OP_MANIFEST_PUT:
		(void)aiops_reg_manifest_put(r, "1.0", AIOPS_OCI_MANIFEST_TYPE, "{}", 2, &out, NULL, &e);
		break;
	case OP_PUSH:
		(void)aiops_reg_push_artifact(r, art_path, "1.0", &out, &e);
		break;
	case OP_REFERRER:
		(void)aiops_reg_push_referrer(r, &d, report_path, &out, &e);
		break;
	case OP_PROMOTE:
		(void)aiops_reg_promote(r, (flags & 16) ? NULL : "other/repo", "1.0", NULL, "2.0", &out, &e);
		break;
	}
	if (verbose)
		fprintf(stderr, "fuzz-http: last message: %s\n", e.msg);
	aiops_buf_release(&body);
	aiops_reg_close(r);
}

static void
run_gitlab(int op, int flags)
{
	struct aiops_gitlab_opts o;
	struct aiops_error e;
	char sha[72];
	const char *outp;
	int fd;

	memset(&o, 0, sizeof(o));
	aiops_http_opts_default(&o.http);
	o.http.retries = (flags & 8) ? 1 : 0;
	o.http.retry_delay = 0.001;
	o.http.retry_time = 2;
	o.http.timeout = 5;
	o.http.insecure_http = 1;
	e.msg[0] = '\0';
	o.api_url = "http://gitlab.test/api/v4";
	o.project = (flags & 4) ? "group/project" : "42";
	if (flags & 1)
		o.private_token = GITLAB_TOKEN;
	else
		o.job_token = GITLAB_TOKEN;
	if (op == OP_GITLAB_PUT)
		(void)aiops_gitlab_put(&o, "models", "1.0", "m.tar.gz", art_path, sha, &e);
	else {
		outp = fz_path("pulled");
		if ((fd = open(outp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
			abort();
		(void)aiops_gitlab_get(&o, "models", "1.0", "m.tar.gz", fd, &e);
		close(fd);
		unlink(outp);
	}
	if (verbose)
		fprintf(stderr, "fuzz-http: last message: %s\n", e.msg);
}

static void
run_prom(void)
{
	struct aiops_pivot p;
	struct aiops_error e;

	if (aiops_pivot_init(&p) != AIOPS_OK)
		return;
	e.msg[0] = '\0';
	if (aiops_prom_query_range(&p, "http://prom.test:9090/", "rate(x[5m])", 1700000000000LL,
	    1700000600000LL, 60000, &e) == AIOPS_OK)
		aiops_pivot_sort(&p);
	if (verbose)
		fprintf(stderr, "fuzz-http: prom: %zu series, %zu samples; %s\n", p.ncols, p.n, e.msg);
	aiops_pivot_release(&p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct aiops_error e;

	(void)argc;
	(void)argv;
	aiops_alloc_init();
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	fz_tmpdir();
	make_files();
	start_server();
	if (aiops_net_init(&e) != AIOPS_OK)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int op, flags;
	size_t nreq;

	if (size < 2)
		return 0;
	op = data[0] % OP_N;
	flags = data[1];
	pthread_mutex_lock(&mu);
	nreplies = fz_split(data + 2, size - 2, SEP, replies, MAXREPLIES);
	next_reply = 0;
	nrequests = 0;
	violation[0] = '\0';
	pthread_mutex_unlock(&mu);
	fz_begin(data, size);
	if (op == OP_GITLAB_PUT || op == OP_GITLAB_GET)
		run_gitlab(op, flags);
	else if (op == OP_PROM)
		run_prom();
	else
		run_registry(op, flags);
	fz_end();
	/* the replies point into data: the server must be done with them */
	pthread_mutex_lock(&mu);
	while (busy)
		pthread_cond_wait(&idle, &mu);
	nreplies = 0;
	nreq = nrequests;
	pthread_mutex_unlock(&mu);
	if (violation[0]) {
		fprintf(stderr, "credential leak: %s\n", violation);
		abort();
	}
	if (nreq > MAX_REQUESTS) {
		fprintf(stderr, "%zu requests for one operation: a loop on the server's answers\n", nreq);
		abort();
	}
	return 0;
}
