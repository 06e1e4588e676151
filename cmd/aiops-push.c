/* aiops-push - artifacts to OCI registries, GitLab packages and OCI layouts, and back (see aiops-push(1)). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aiops.h"
#include "cmd.h"
#include "artifact.h"
#include "gitlab.h"
#include "oci.h"
#include "registry.h"

static const char usage_text[] =
"usage: aiops-push [-hqv] [--api-url url] [--cacert file] [--chunk-size size]\n"
"                  [--insecure-http] [--mount-from repository] [--project id]\n"
"                  [--referrer report] [--retries n] [--retry-time seconds]\n"
"                  [--timeout seconds] artifact target\n"
"       aiops-push --promote [-qv] [options] source tag ...\n"
"       aiops-push --pull [-qv] [options] -o directory source\n";

enum {
	O_API_URL = 256, O_CACERT, O_CHUNK, O_HELP, O_INSECURE, O_MOUNT, O_PROJECT, O_PROMOTE,
	O_PULL, O_REFERRER, O_RETRIES, O_RETRY_TIME, O_TIMEOUT
};

static const struct option longopts[] = {
	{ "api-url", required_argument, NULL, O_API_URL },
	{ "cacert", required_argument, NULL, O_CACERT },
	{ "chunk-size", required_argument, NULL, O_CHUNK },
	{ "help", no_argument, NULL, O_HELP },
	{ "insecure-http", no_argument, NULL, O_INSECURE },
	{ "mount-from", required_argument, NULL, O_MOUNT },
	{ "project", required_argument, NULL, O_PROJECT },
	{ "promote", no_argument, NULL, O_PROMOTE },
	{ "pull", no_argument, NULL, O_PULL },
	{ "referrer", required_argument, NULL, O_REFERRER },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "retry-time", required_argument, NULL, O_RETRY_TIME },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};

/* What the command line and the environment asked for. */
struct ctx {
	struct aiops_http_opts http;
	const char *api_url, *project, *mount_from, *referrer, *outdir;
	uint64_t chunk_size;
	int quiet, verbose, promote, pull;
	/* progress line state */
	int tty, shown;
	double last;
	char what[200];
};

static struct ctx C;

static void
end_progress(void)
{
	if (C.shown) {
		fputs("\r\033[K", stderr);
		C.shown = 0;
	}
}

static int
fail(struct aiops_error *e)
{
	end_progress();
	return cmd_fail(e);
}

static void
on_note(void *ud, const char *msg)
{
	(void)ud;
	if (!C.verbose)
		return;
	end_progress();
	fprintf(stderr, "%s: %s\n", aiops_progname(), msg);
}

static void
on_progress(void *ud, const char *what, uint64_t done, uint64_t total)
{
	struct timespec ts;
	double now;

	(void)ud;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (total < (1u << 20) || (now - C.last < 0.2 && done < total))
		return;
	C.last = now;
	fprintf(stderr, "\r%s: %s %3.0f%% (%.1f of %.1f MiB)\033[K", aiops_progname(), what,
	    100.0 * (double)done / (double)total, done / 1048576.0, total / 1048576.0);
	C.shown = 1;
}

static double
seconds(const char *opt, const char *s, double lo, double hi)
{
	double v;

	if (aiops_parse_double(s, strlen(s), &v) != 0 || !(v >= lo && v <= hi))
		cmd_die_usage("%s: expected seconds from %g to %g, got \"%s\"", opt, lo, hi, s);
	return v;
}

static long
whole(const char *opt, const char *s, long lo, long hi)
{
	int64_t v;

	if (aiops_parse_i64(s, strlen(s), &v) != 0 || v < lo || v > hi)
		cmd_die_usage("%s: expected a whole number from %ld to %ld, got \"%s\"", opt, lo, hi, s);
	return (long)v;
}

/* A size: digits with an optional K, M or G (powers of 1024). */
static uint64_t
size_arg(const char *opt, const char *s)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		goto bad;
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; p++; break;
	case 'm': case 'M': mul = 1ull << 20; p++; break;
	case 'g': case 'G': mul = 1ull << 30; p++; break;
	default: goto bad;
	}
	if (*p == 'i' || *p == 'B')
		p += (*p == 'i' && p[1] == 'B') ? 2 : 1;
	if (*p != '\0' || v > (1ull << 50) / mul)
		goto bad;
	return v * mul;
bad:
	cmd_die_usage("%s: expected a size such as 64M (bytes, or K, M, G), got \"%s\"", opt, s);
}

/* Defaults from the environment, then the options. */
static void
env_defaults(void)
{
	const char *v;

	aiops_http_opts_default(&C.http);
	C.chunk_size = 64ull << 20;
	if ((v = getenv("AIOPS_PUSH_RETRIES")) && *v)
		C.http.retries = (int)whole("AIOPS_PUSH_RETRIES", v, 0, 100);
	if ((v = getenv("AIOPS_PUSH_RETRY_TIME")) && *v)
		C.http.retry_time = seconds("AIOPS_PUSH_RETRY_TIME", v, 0, 86400);
	if ((v = getenv("AIOPS_PUSH_RETRY_DELAY")) && *v)
		C.http.retry_delay = seconds("AIOPS_PUSH_RETRY_DELAY", v, 0, 3600);
	if ((v = getenv("AIOPS_PUSH_TIMEOUT")) && *v)
		C.http.timeout = seconds("AIOPS_PUSH_TIMEOUT", v, 0.1, 86400);
	if ((v = getenv("AIOPS_PUSH_CHUNK_SIZE")) && *v)
		C.chunk_size = size_arg("AIOPS_PUSH_CHUNK_SIZE", v);
}

static int
print_line(const char *digest, const char *ref, struct aiops_error *e)
{
	(void)e;
	end_progress();
	printf("%s %s\n", digest, ref);
	return AIOPS_OK;
}

/* The report of --referrer must be JSON, checked before anything goes up. */
static int
check_report(const char *path, struct aiops_error *e)
{
	json_error_t je;
	unsigned long nfail = aiops_alloc_failures();
	json_t *j = json_load_file(path, 0, &je);

	if (j == NULL && aiops_nomem_since(nfail, e) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if (j == NULL)
		return aiops_error_set(e, access(path, R_OK) == 0 ? AIOPS_ERR_DATA : AIOPS_ERR_IO,
		    "%s:%d:%d: %s", path, je.line, je.column, je.text);
	json_decref(j);
	return AIOPS_OK;
}

/* ---- OCI registries --------------------------------------------------------- */

/* The credentials of the open registry handle (it points at them); secrets. */
static char *cred_user, *cred_pass;

static void
drop_credentials(void)
{
	aiops_secret_free(cred_user);
	aiops_secret_free(cred_pass);
	cred_user = cred_pass = NULL;
}

/* Open a handle for ref; the one opened before must be closed already. */
static int
reg_open(struct aiops_reg **r, const struct aiops_ref *ref, int push, const char *also_pull,
    struct aiops_error *e)
{
	struct aiops_reg_opts o;
	char *user = NULL, *pass = NULL;
	const char *src = NULL;
	int ret;

	drop_credentials();
	memset(&o, 0, sizeof(o));
	o.http = C.http;
	o.push = push;
	o.also_pull = also_pull;
	o.chunk_size = C.chunk_size;
	if ((ret = aiops_reg_credentials(ref->host, &user, &pass, &src, e)) != AIOPS_OK)
		return ret;
	if (src && C.verbose) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s: credentials from %s", ref->host, src);
		on_note(NULL, msg);
	}
	o.user = cred_user = user;
	o.password = cred_pass = pass;
	return aiops_reg_open(r, ref->host, ref->repo, &o, e);
}

/* "oci://host/repo:tag" or "oci://host/repo@digest" into b. */
static const char *
oci_name(struct aiops_buf *b, const char *host, const char *repo, const char *ref)
{
	aiops_buf_reset(b);
	if (aiops_buf_addf(b, "oci://%s/%s%s%s", host, repo, strncmp(ref, "sha256:", 7) ? ":" : "@", ref))
		return "?";
	return b->buf;
}

/* The artifact's version, the tag when a target names none. */
static int
artifact_version(const char *path, char **version, struct aiops_error *e)
{
	struct aiops_artifact a;
	int ret;

	memset(&a, 0, sizeof(a));
	if ((ret = aiops_artifact_open(&a, path, e)) != AIOPS_OK)
		return ret;
	if (!aiops_oci_tag_valid(a.version))
		ret = aiops_error_set(e, AIOPS_ERR_USAGE, "%s: version \"%s\" is not a valid tag; name one", path,
		    a.version);
	else if ((*version = aiops_strdup(a.version)) == NULL)
		ret = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	aiops_artifact_release(&a);
	return ret;
}

static int
push_oci(const char *artifact, struct aiops_ref *t, struct aiops_error *e)
{
	struct aiops_reg *r = NULL;
	struct aiops_oci_desc md, rd;
	struct aiops_buf name = AIOPS_BUF_INIT;
	char *tag = NULL;
	int ret;

	if (t->is_digest)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "oci://%s/%s@%s: push to a tag, not a digest", t->host,
		    t->repo, t->ref);
	if (t->ref == NULL && (ret = artifact_version(artifact, &tag, e)) != AIOPS_OK)
		return ret;
	if ((ret = reg_open(&r, t, 1, C.mount_from, e)) != AIOPS_OK)
		goto out;
	if ((ret = aiops_reg_push_artifact(r, artifact, t->ref ? t->ref : tag, &md, e)) != AIOPS_OK)
		goto out;
	print_line(md.digest, oci_name(&name, t->host, t->repo, t->ref ? t->ref : tag), e);
	if (C.referrer) {
		if ((ret = aiops_reg_push_referrer(r, &md, C.referrer, &rd, e)) != AIOPS_OK)
			goto out;
		print_line(rd.digest, oci_name(&name, t->host, t->repo, rd.digest), e);
	}
out:
	aiops_reg_close(r);
	aiops_free(tag);
	aiops_buf_release(&name);
	return ret;
}

/* ---- GitLab ------------------------------------------------------------------ */

static int
gitlab_opts(struct aiops_gitlab_opts *g, struct aiops_error *e)
{
	const char *v;

	memset(g, 0, sizeof(*g));
	g->http = C.http;
	g->api_url = C.api_url ? C.api_url : getenv("CI_API_V4_URL");
	g->project = C.project ? C.project : getenv("CI_PROJECT_ID");
	if (g->api_url == NULL || *g->api_url == '\0')
		return aiops_error_set(e, AIOPS_ERR_USAGE, "gitlab: no API URL: give --api-url or set CI_API_V4_URL");
	if (g->project == NULL || *g->project == '\0')
		return aiops_error_set(e, AIOPS_ERR_USAGE, "gitlab: no project: give --project or set CI_PROJECT_ID");
	if ((v = getenv("AIOPS_GITLAB_TOKEN")) && *v)
		g->private_token = v;
	else if ((v = getenv("CI_JOB_TOKEN")) && *v)
		g->job_token = v;
	else
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "gitlab: no token: set AIOPS_GITLAB_TOKEN (sent as PRIVATE-TOKEN), or run in a GitLab CI "
		    "job (CI_JOB_TOKEN)");
	if (C.verbose) {
		char msg[200];
		snprintf(msg, sizeof(msg), "gitlab: authenticating with %s",
		    g->private_token ? "AIOPS_GITLAB_TOKEN as PRIVATE-TOKEN" : "CI_JOB_TOKEN as JOB-TOKEN");
		on_note(NULL, msg);
	}
	return AIOPS_OK;
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int
push_gitlab(const char *artifact, const struct aiops_ref *t, struct aiops_error *e)
{
	struct aiops_gitlab_opts g;
	struct aiops_buf name = AIOPS_BUF_INIT;
	const char *file = t->file ? t->file : base_name(artifact);
	char dg[72];
	int ret;

	if ((ret = gitlab_opts(&g, e)) != AIOPS_OK)
		return ret;
	/* Nothing broken goes up: the registry would keep it. */
	if ((ret = aiops_artifact_verify(artifact, NULL, e)) != AIOPS_OK)
		return ret;
	if (C.referrer && strcmp(base_name(C.referrer), file) == 0)
		return aiops_error_set(e, AIOPS_ERR_USAGE, "the report and the artifact would both be named %s",
		    file);
	/* One file at a time: GitLab fails racing uploads to one package version. */
	if ((ret = aiops_gitlab_put(&g, t->package, t->version, file, artifact, dg, e)) != AIOPS_OK)
		return ret;
	aiops_buf_addf(&name, "gitlab://%s/%s/%s", t->package, t->version, file);
	print_line(dg, name.buf ? name.buf : "?", e);
	if (C.referrer) {
		const char *rf = base_name(C.referrer);
		if ((ret = aiops_gitlab_put(&g, t->package, t->version, rf, C.referrer, dg, e)) != AIOPS_OK)
			goto out;
		aiops_buf_reset(&name);
		aiops_buf_addf(&name, "gitlab://%s/%s/%s", t->package, t->version, rf);
		print_line(dg, name.buf ? name.buf : "?", e);
	}
out:
	aiops_buf_release(&name);
	return ret;
}

/* ---- OCI layouts ---------------------------------------------------------------- */

static int
push_layout(const char *artifact, const struct aiops_ref *t, struct aiops_error *e)
{
	struct aiops_oci_desc d;
	char *tag = NULL;
	int ret;

	if ((ret = aiops_artifact_verify(artifact, NULL, e)) != AIOPS_OK)
		return ret;
	if (t->ref == NULL && (ret = artifact_version(artifact, &tag, e)) != AIOPS_OK)
		return ret;
	/* once the tag is in the index the push has happened: nothing after it can fail */
	if ((ret = aiops_oci_layout_add_as(t->repo, artifact, NULL, t->ref ? t->ref : tag, &d,
	    e)) == AIOPS_OK) {
		end_progress();
		printf("%s oci-layout:%s:%s\n", d.digest, t->repo, t->ref ? t->ref : tag);
	}
	aiops_free(tag);
	return ret;
}

/* ---- promotion -------------------------------------------------------------------- */

static int
promote(char **argv, int argc, struct aiops_error *e)
{
	struct aiops_ref src, dst;
	struct aiops_reg *r = NULL;
	struct aiops_oci_desc d;
	struct aiops_buf name = AIOPS_BUF_INIT;
	int ret;

	if ((ret = aiops_ref_parse(&src, argv[0], e)) != AIOPS_OK)
		goto out0;
	if (src.kind != AIOPS_REF_OCI || src.ref == NULL) {
		ret = aiops_error_set(e, AIOPS_ERR_USAGE,
		    "%s: --promote takes oci://HOST/REPOSITORY:TAG (or @DIGEST) as its source", argv[0]);
		goto out0;
	}
	for (int i = 1; i < argc && ret == AIOPS_OK; i++) {
		memset(&dst, 0, sizeof(dst));
		if (strncmp(argv[i], "oci://", 6) == 0) {
			if ((ret = aiops_ref_parse(&dst, argv[i], e)) == AIOPS_OK &&
			    (strcmp(dst.host, src.host) != 0 || dst.ref == NULL || dst.is_digest))
				ret = aiops_error_set(e, AIOPS_ERR_USAGE,
				    "%s: a promotion goes to a tag on the source's registry, %s", argv[i], src.host);
		} else if (!aiops_oci_tag_valid(argv[i]))
			ret = aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: not a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or an oci:// reference", argv[i]);
		else if ((dst.host = aiops_strdup(src.host)) == NULL || (dst.repo = aiops_strdup(src.repo)) == NULL ||
		    (dst.ref = aiops_strdup(argv[i])) == NULL)
			ret = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		/* One handle per destination: a token's scopes are per repository. */
		if (ret == AIOPS_OK &&
		    (ret = reg_open(&r, &dst, 1, strcmp(dst.repo, src.repo) ? src.repo : NULL, e)) == AIOPS_OK &&
		    (ret = aiops_reg_promote(r, src.repo, src.ref, dst.repo, dst.ref, &d, e)) == AIOPS_OK)
			print_line(d.digest, oci_name(&name, dst.host, dst.repo, dst.ref), e);
		aiops_reg_close(r);
		r = NULL;
		aiops_ref_release(&dst);
	}
out0:
	aiops_reg_close(r);
	aiops_ref_release(&src);
	aiops_buf_release(&name);
	return ret;
}

/* ---- pulls --------------------------------------------------------------------------- */

static int
pull(const char *source, struct aiops_error *e)
{
	struct aiops_ref s;
	struct aiops_out tmp;
	struct aiops_reg *r = NULL;
	struct aiops_oci_desc md;
	struct aiops_buf path = AIOPS_BUF_INIT, name = AIOPS_BUF_INIT;
	size_t n = strlen(C.outdir);
	int ret, open_ = 0;

	memset(&tmp, 0, sizeof(tmp));
	if ((ret = aiops_ref_parse(&s, source, e)) != AIOPS_OK)
		goto out;
	if ((s.kind == AIOPS_REF_OCI || s.kind == AIOPS_REF_LAYOUT) && s.ref == NULL) {
		ret = aiops_error_set(e, AIOPS_ERR_USAGE, "%s: name a tag or a digest to pull", source);
		goto out;
	}
	if ((C.api_url || C.project) && s.kind != AIOPS_REF_GITLAB) {
		ret = aiops_error_set(e, AIOPS_ERR_USAGE, "--api-url and --project go with a gitlab:// source");
		goto out;
	}
	if (s.kind == AIOPS_REF_GITLAB && s.file == NULL) {
		ret = aiops_error_set(e, AIOPS_ERR_USAGE, "%s: name the file to pull: gitlab://PACKAGE/VERSION/FILE",
		    source);
		goto out;
	}
	/* The download lands beside the output directory, and goes when done. */
	while (n > 1 && C.outdir[n - 1] == '/')
		n--;
	if (aiops_buf_add(&path, C.outdir, n) || aiops_buf_addstr(&path, ".pull.tar.gz")) {
		ret = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = aiops_out_open(&tmp, path.buf, e)) != AIOPS_OK)
		goto out;
	open_ = 1;
	if (tmp.tmp == NULL) {
		ret = aiops_error_set(e, AIOPS_ERR_IO, "%s: not a place for a temporary file", path.buf);
		goto out;
	}
	switch (s.kind) {
	case AIOPS_REF_OCI:
		if ((ret = reg_open(&r, &s, 0, NULL, e)) == AIOPS_OK)
			ret = aiops_reg_pull_artifact(r, NULL, s.ref, tmp.fd, &md, e);
		break;
	case AIOPS_REF_LAYOUT:
		ret = aiops_layout_pull_artifact(s.repo, s.ref, tmp.fd, &md, e);
		break;
	default: {
		struct aiops_gitlab_opts g;
		if ((ret = gitlab_opts(&g, e)) == AIOPS_OK &&
		    (ret = aiops_gitlab_get(&g, s.package, s.version, s.file, tmp.fd, e)) == AIOPS_OK)
			ret = aiops_sha256_file(tmp.tmp, md.digest, NULL, e);
		break;
	}
	}
	if (ret != AIOPS_OK) {
		/* the library writes to a descriptor and cannot name it: the download is ours */
		if (ret == AIOPS_ERR_IO && strstr(e->msg, "cannot write the download") != NULL)
			aiops_error_prefix(e, "%s", path.buf);
		goto out;
	}
	if (fsync(tmp.fd) != 0) {
		ret = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", tmp.tmp, strerror(errno));
		goto out;
	}
	end_progress();
	if ((ret = aiops_artifact_extract(tmp.tmp, C.outdir, NULL, e)) != AIOPS_OK)
		goto out;
	print_line(md.digest, source, e);
out:
	if (open_)
		aiops_out_abort(&tmp);
	aiops_reg_close(r);
	aiops_ref_release(&s);
	aiops_buf_release(&path);
	aiops_buf_release(&name);
	return ret;
}

int
main(int argc, char **argv)
{
	struct aiops_error e = { 0, "" };
	struct aiops_ref t;
	int ch, ret;

	aiops_cmd_init(argv[0]);
	env_defaults();
	while ((ch = getopt_long(argc, argv, "ho:qv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
		case O_HELP:
			fputs(usage_text, stdout);
			return aiops_close_stdout(&e) == 0 ? AIOPS_EXIT_OK : fail(&e);
		case 'o': C.outdir = optarg; break;
		case 'q': C.quiet = 1; break;
		case 'v': C.verbose = 1; break;
		case O_API_URL: C.api_url = optarg; break;
		case O_CACERT: C.http.cacert = optarg; break;
		case O_CHUNK: C.chunk_size = size_arg("--chunk-size", optarg); break;
		case O_INSECURE: C.http.insecure_http = 1; break;
		case O_MOUNT:
			if (strchr(optarg, ':') || strchr(optarg, '@') || optarg[0] == '\0')
				cmd_die_usage("--mount-from: expected a repository name on the target's registry, got \"%s\"",
				    optarg);
			C.mount_from = optarg;
			break;
		case O_PROJECT: C.project = optarg; break;
		case O_PROMOTE: C.promote = 1; break;
		case O_PULL: C.pull = 1; break;
		case O_REFERRER: C.referrer = optarg; break;
		case O_RETRIES: C.http.retries = (int)whole("--retries", optarg, 0, 100); break;
		case O_RETRY_TIME: C.http.retry_time = seconds("--retry-time", optarg, 0, 86400); break;
		case O_TIMEOUT: C.http.timeout = seconds("--timeout", optarg, 0.1, 86400); break;
		default:
			cmd_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (C.promote && C.pull)
		cmd_die_usage("--promote and --pull do not go together");
	if (C.promote && (C.api_url || C.project))
		cmd_die_usage("--api-url and --project go with a gitlab:// target");
	if (C.outdir && !C.pull)
		cmd_die_usage("-o goes with --pull");
	if ((C.promote || C.pull) && (C.referrer || C.mount_from))
		cmd_die_usage("--referrer and --mount-from go with a push");
	if (C.pull ? argc != 1 || C.outdir == NULL : C.promote ? argc < 2 : argc != 2)
		cmd_usage(usage_text);
	if (C.quiet)
		C.verbose = 0;
	C.tty = !C.quiet && isatty(STDERR_FILENO);
	C.http.note = on_note;
	C.http.progress = C.tty ? on_progress : NULL;

	if (C.pull)
		ret = pull(argv[0], &e);
	else if (C.promote)
		ret = promote(argv, argc, &e);
	else if (C.referrer && (ret = check_report(C.referrer, &e)) != AIOPS_OK)
		;
	else if ((ret = aiops_ref_parse(&t, argv[1], &e)) != AIOPS_OK)
		aiops_ref_release(&t);
	else {
		if (access(argv[0], R_OK) != 0)
			ret = aiops_error_set(&e, AIOPS_ERR_IO, "%s: %s", argv[0], strerror(errno));
		else if ((C.api_url || C.project) && t.kind != AIOPS_REF_GITLAB)
			ret = aiops_error_set(&e, AIOPS_ERR_USAGE, "--api-url and --project go with a gitlab:// target");
		else if (C.mount_from && t.kind != AIOPS_REF_OCI)
			ret = aiops_error_set(&e, AIOPS_ERR_USAGE, "--mount-from goes with an oci:// target");
		else if (t.kind == AIOPS_REF_OCI)
			ret = push_oci(argv[0], &t, &e);
		else if (t.kind == AIOPS_REF_GITLAB)
			ret = push_gitlab(argv[0], &t, &e);
		else if (C.referrer)
			ret = aiops_error_set(&e, AIOPS_ERR_USAGE,
			    "--referrer needs a registry target (oci:// or gitlab://), not an OCI layout");
		else
			ret = push_layout(argv[0], &t, &e);
		aiops_ref_release(&t);
	}
	end_progress();
	drop_credentials();
	if (ret != AIOPS_OK)
		return fail(&e);
	if (aiops_close_stdout(&e) != 0)
		return fail(&e);
	return AIOPS_EXIT_OK;
}
