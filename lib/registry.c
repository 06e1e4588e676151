/*
 * registry.c - the HTTP engine (libcurl: retries with backoff and jitter,
 * timeouts, TLS policy, streamed bodies) and the OCI distribution client
 * on it (auth, blobs, manifests, chunked resumable uploads, mounts,
 * referrers, promotion, pulls), plus references and credentials.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "artifact.h"
#include "registry.h"
#include "source.h"

#define MANIFEST_MAX (4u << 20)
#define TOKEN_MAX (1u << 20)
#define MAX_DELAY 30.0
/* A reply body nobody keeps (an error's, or one no caller asked for) is read up to this. */
#define DISCARD_MAX (1u << 20)

static const char empty_json_digest[] =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/* ---- small helpers ------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
aiops_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	aiops_free(s);
}

static void
buf_wipe(struct aiops_buf *b)
{
	if (b->buf)
		explicit_bzero(b->buf, b->alloc);
	aiops_buf_release(b);
}

static int
nomem(struct aiops_error *e)
{
	return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
}

/* A new string: the concatenation of the arguments up to a NULL. */
static char *
cat(const char *a, ...)
{
	struct aiops_buf b = AIOPS_BUF_INIT;
	va_list ap;
	const char *s;

	if (aiops_buf_addstr(&b, a) != AIOPS_OK)
		return NULL;
	va_start(ap, a);
	while ((s = va_arg(ap, const char *)) != NULL)
		if (aiops_buf_addstr(&b, s) != AIOPS_OK) {
			va_end(ap);
			aiops_buf_release(&b);
			return NULL;
		}
	va_end(ap);
	return aiops_buf_detach(&b, NULL);
}

static int
is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int
digest_valid(const char *d)
{
	return strncmp(d, "sha256:", 7) == 0 && is_hex64(d + 7);
}

/* sha256 of memory as "sha256:<hex>". */
static int
digest_mem(const void *p, size_t n, char out[72], struct aiops_error *e)
{
	struct aiops_sha256 h;
	unsigned char md[32];

	if (aiops_sha256_init(&h) != AIOPS_OK || aiops_sha256_update(&h, p, n) != AIOPS_OK ||
	    aiops_sha256_final(&h, md) != AIOPS_OK)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "cannot compute SHA-256");
	memcpy(out, "sha256:", 7);
	aiops_hex(md, 32, out + 7);
	return AIOPS_OK;
}

int
aiops_url_escape(struct aiops_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int r;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			r = aiops_buf_addch(b, c);
		else
			r = aiops_buf_addch(b, '%') || aiops_buf_addch(b, hex[c >> 4]) ||
			    aiops_buf_addch(b, hex[c & 15]);
		if (r != AIOPS_OK)
			return AIOPS_ERR_NOMEM;
	}
	return AIOPS_OK;
}

/* ---- references ----------------------------------------------------------- */

void
aiops_ref_release(struct aiops_ref *r)
{
	aiops_free(r->host);
	aiops_free(r->repo);
	aiops_free(r->ref);
	aiops_free(r->package);
	aiops_free(r->version);
	aiops_free(r->file);
	memset(r, 0, sizeof(*r));
}

/* A repository name of the distribution spec: lowercase components joined
 * by "/", each [a-z0-9]+ with single separators ".", "_", "__" or "-"s. */
static int
repo_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > 255)
		return 0;
	for (;;) {
		size_t start = i;
		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i == start)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '/') {
			i++;
			continue;
		}
		if (s[i] == '.' || (s[i] == '_' && !(i + 1 < n && s[i + 1] == '_')))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return 0;
		if (i == n)
			return 0;
	}
}

static int
host_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return 0;
	if (s[0] == '[') {
		while (i < n && s[i] != ']')
			i++;
		if (i == n || i == 1)
			return 0;
		for (size_t k = 1; k < i; k++)
			if (!(strchr("0123456789abcdefABCDEF:.", s[k])))
				return 0;
		i++;
	} else {
		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			i++;
		if (i == 0)
			return 0;
	}
	if (i == n)
		return 1;
	if (s[i] != ':' || i + 1 == n || n - i - 1 > 5)
		return 0;
	for (i++; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* GitLab package and file names: [A-Za-z0-9._-]+; versions also take "+". */
static int
gitlab_name_valid(const char *s, size_t n, int version)
{
	int word = 0;

	if (n == 0 || n > 255 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
			word = 1;
		else if (!(c == '.' || c == '-' || (version && c == '+')))
			return 0;
	}
	return word;
}

int
aiops_host_is_loopback(const char *host)
{
	size_t n = strlen(host);
	const char *colon;

	if (host[0] == '[')
		return strncmp(host, "[::1]", 5) == 0 && (host[5] == '\0' || host[5] == ':');
	colon = strchr(host, ':');
	if (colon)
		n = (size_t)(colon - host);
	if ((n == 9 && strncasecmp(host, "localhost", 9) == 0))
		return 1;
	if (n >= 4 && strncmp(host, "127.", 4) == 0) {
		for (size_t i = 4; i < n; i++)
			if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.'))
				return 0;
		return 1;
	}
	return 0;
}

static int
parse_oci(struct aiops_ref *r, const char *whole, const char *s, struct aiops_error *e)
{
	const char *slash = strchr(s, '/'), *at, *rest, *colon = NULL;
	size_t rlen;

	if (slash == NULL || !host_valid(s, (size_t)(slash - s)))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "%s: expected oci://HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]", whole);
	rest = slash + 1;
	at = strchr(rest, '@');
	if (at) {
		rlen = (size_t)(at - rest);
		if (!digest_valid(at + 1))
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: expected a digest sha256:<64 hex digits> after \"@\"", whole);
	} else {
		for (const char *p = rest; *p; p++)
			if (*p == ':')
				colon = p;
			else if (*p == '/')
				colon = NULL;
		rlen = colon ? (size_t)(colon - rest) : strlen(rest);
		if (colon && !aiops_oci_tag_valid(colon + 1))
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: \"%s\" is not a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", whole, colon + 1);
	}
	if (!repo_valid(rest, rlen))
		return aiops_error_set(e, AIOPS_ERR_USAGE,
		    "%s: \"%.*s\" is not a repository name (lowercase letters, digits, "
		    "separators . _ __ -, components joined by /)", whole, (int)rlen, rest);
	r->host = aiops_strndup(s, (size_t)(slash - s));
	r->repo = aiops_strndup(rest, rlen);
	if (at) {
		r->ref = aiops_strdup(at + 1);
		r->is_digest = 1;
	} else if (colon)
		r->ref = aiops_strdup(colon + 1);
	if (!r->host || !r->repo || ((at || colon) && !r->ref))
		return nomem(e);
	return AIOPS_OK;
}

int
aiops_ref_parse(struct aiops_ref *r, const char *s, struct aiops_error *e)
{
	memset(r, 0, sizeof(*r));
	if (strncmp(s, "oci://", 6) == 0) {
		r->kind = AIOPS_REF_OCI;
		return parse_oci(r, s, s + 6, e);
	}
	if (strncmp(s, "gitlab://", 9) == 0) {
		const char *p = s + 9, *parts[3];
		size_t lens[3];
		int k = 0;
		r->kind = AIOPS_REF_GITLAB;
		while (k < 3) {
			size_t n = strcspn(p, "/");
			parts[k] = p;
			lens[k++] = n;
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
		if (k < 2 || (k == 3 && strchr(parts[2], '/')) ||
		    !gitlab_name_valid(parts[0], lens[0], 0) || !gitlab_name_valid(parts[1], lens[1], 1) ||
		    (k == 3 && !gitlab_name_valid(parts[2], lens[2], 0)))
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: expected gitlab://PACKAGE/VERSION[/FILE] (names of letters, digits, "
			    ". _ -; a version may hold + too)", s);
		r->package = aiops_strndup(parts[0], lens[0]);
		r->version = aiops_strndup(parts[1], lens[1]);
		if (k == 3)
			r->file = aiops_strndup(parts[2], lens[2]);
		if (!r->package || !r->version || (k == 3 && !r->file))
			return nomem(e);
		return AIOPS_OK;
	}
	r->kind = AIOPS_REF_LAYOUT;
	{
		int explicit_ = strncmp(s, "oci-layout:", 11) == 0;
		const char *p = explicit_ ? s + 11 : s, *colon = strrchr(p, ':');
		size_t dlen;

		if (colon && strchr(colon, '/') == NULL && colon != p) {
			if (!aiops_oci_tag_valid(colon + 1))
				return aiops_error_set(e, AIOPS_ERR_USAGE,
				    "%s: \"%s\" is not a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", s, colon + 1);
			dlen = (size_t)(colon - p);
		} else
			dlen = strlen(p), colon = NULL;
		if (dlen == 0)
			return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: expected [oci-layout:]DIRECTORY[:TAG]", s);
		/* HOST:PORT/REPO without a scheme is a registry the user forgot to mark. */
		if (!explicit_) {
			size_t first = strcspn(p, "/");
			if (first < dlen && memchr(p, ':', first))
				return aiops_error_set(e, AIOPS_ERR_USAGE,
				    "%s: looks like a registry; write oci://%s (or oci-layout:%s for a directory)",
				    s, p, p);
		}
		if ((r->repo = aiops_strndup(p, dlen)) == NULL || (colon && (r->ref = aiops_strdup(colon + 1)) == NULL))
			return nomem(e);
	}
	return AIOPS_OK;
}

/* ---- the HTTP engine -------------------------------------------------------- */

struct aiops_http {
	CURL *curl;
	CURLSH *share;        /* connections and TLS sessions, kept across requests */
	struct aiops_http_opts o;
	struct aiops_rng rng;
	char errbuf[CURL_ERROR_SIZE];
};

/* The state of one attempt, seen by the libcurl callbacks. */
struct xfer {
	struct aiops_http *h;
	const struct aiops_http_req *q;
	struct aiops_http_resp *r;
	uint64_t pos;         /* request body bytes handed to libcurl */
	struct aiops_sha256 hash;
	int hashing;
	int ioerr, limit, oom, shrunk;
	uint64_t discarded;   /* body bytes read and not kept */
	size_t errlen;
};

void
aiops_http_opts_default(struct aiops_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->retries = 5;
	o->retry_time = 300;
	o->retry_delay = 1;
	o->timeout = 30;
}

int
aiops_http_open(struct aiops_http **hp, const struct aiops_http_opts *o, struct aiops_error *e)
{
	struct aiops_http *h;
	int r;

	*hp = NULL;
	if ((r = aiops_net_init(e)) != AIOPS_OK)
		return r;
	if ((h = aiops_calloc(1, sizeof(*h))) == NULL)
		return nomem(e);
	h->o = *o;
	if ((h->share = curl_share_init()) == NULL ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    (h->curl = curl_easy_init()) == NULL) {
		curl_share_cleanup(h->share);
		aiops_free(h);
		return aiops_error_set(e, AIOPS_ERR_NET, "cannot initialise libcurl");
	}
	aiops_rng_seed(&h->rng, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
	    (uint64_t)(mono() * 1e9));
	*hp = h;
	return AIOPS_OK;
}

void
aiops_http_close(struct aiops_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	curl_share_cleanup(h->share);
	aiops_free(h);
}

static void
copy_value(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct aiops_http_resp *r = x->r;
	size_t n = size * nmemb, k, vn;
	const char *v;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a redirect): forget the last one's headers. */
		const char *sp = memchr(p, ' ', n);
		long st = 0;
		memset(r, 0, offsetof(struct aiops_http_resp, transport));
		r->content_length = -1;
		x->errlen = 0;
		/* the status is three digits; a longer run must not overflow st */
		for (const char *q = sp ? sp + 1 : p + n; q < p + n && *q >= '0' && *q <= '9' &&
		    st < 1000; q++)
			st = st * 10 + (*q - '0');
		r->status = st;
		return n;
	}
	for (k = 0; k < n && p[k] != ':'; k++)
		;
	if (k == n)
		return n;
	v = p + k + 1;
	vn = n - k - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
		vn--;
#define IS(name) (k == sizeof(name) - 1 && strncasecmp(p, name, k) == 0)
	if (IS("Location"))
		copy_value(r->location, sizeof(r->location), v, vn);
	else if (IS("Range"))
		copy_value(r->range, sizeof(r->range), v, vn);
	else if (IS("Docker-Content-Digest"))
		copy_value(r->digest, sizeof(r->digest), v, vn);
	else if (IS("Content-Type")) {
		size_t m = 0;
		while (m < vn && v[m] != ';' && v[m] != ' ')
			m++;
		copy_value(r->content_type, sizeof(r->content_type), v, m);
	} else if (IS("WWW-Authenticate")) {
		/* Keep the first challenge: registries send one. */
		if (r->www_authenticate[0] == '\0')
			copy_value(r->www_authenticate, sizeof(r->www_authenticate), v, vn);
	} else if (IS("Retry-After"))
		copy_value(r->retry_after, sizeof(r->retry_after), v, vn);
	else if (IS("OCI-Subject"))
		copy_value(r->oci_subject, sizeof(r->oci_subject), v, vn);
	else if (IS("Content-Length") || IS("OCI-Chunk-Min-Length")) {
		uint64_t val = 0;
		size_t i;
		for (i = 0; i < vn && v[i] >= '0' && v[i] <= '9' && val < (UINT64_MAX / 10 - 10); i++)
			val = val * 10 + (uint64_t)(v[i] - '0');
		if (i > 0 && i == vn) {
			if (IS("Content-Length"))
				r->content_length = (int64_t)val;
			else
				r->oci_chunk_min = 1, r->chunk_min = val;
		}
	}
#undef IS
	return n;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	const struct aiops_http_req *q = x->q;
	struct aiops_http_resp *r = x->r;
	size_t n = size * nmemb;

	if (r->status >= 200 && r->status < 300) {
		if (q->out_fd >= 0) {
			size_t done = 0;
			if (r->received + n > q->out_max) {
				x->limit = 1;
				return 0;
			}
			while (done < n) {
				ssize_t w = write(q->out_fd, p + done, n - done);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					x->ioerr = w < 0 ? errno : EIO;
					return 0;
				}
				done += (size_t)w;
			}
			if (x->hashing && aiops_sha256_update(&x->hash, p, n) != AIOPS_OK) {
				x->oom = 1;
				return 0;
			}
			r->received += n;
		} else if (q->resp) {
			if (q->resp->len + n > q->resp_max) {
				x->limit = 1;
				return 0;
			}
			if (aiops_buf_add(q->resp, p, n) != AIOPS_OK) {
				x->oom = 1;
				return 0;
			}
		} else if ((x->discarded += n) > DISCARD_MAX) {
			x->limit = 1; /* a reply that never ends must not keep us reading */
			return 0;
		}
		return n;
	}
	if (x->errlen < sizeof(r->err_body) - 1) {
		size_t m = sizeof(r->err_body) - 1 - x->errlen;
		if (m > n)
			m = n;
		memcpy(r->err_body + x->errlen, p, m);
		x->errlen += m;
		r->err_body[x->errlen] = '\0';
	}
	if ((x->discarded += n) > DISCARD_MAX) {
		x->limit = 1;
		return 0;
	}
	return n;
}

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	const struct aiops_http_req *q = x->q;
	uint64_t total = q->body ? q->body_len : q->body_size;
	size_t want = size * nmemb;
	ssize_t got;

	if (x->pos >= total)
		return 0;
	if (want > total - x->pos)
		want = (size_t)(total - x->pos);
	if (q->body) {
		memcpy(buf, (const char *)q->body + x->pos, want);
		x->pos += want;
		return want;
	}
	do
		got = pread(q->body_fd, buf, want, (off_t)(q->body_off + x->pos));
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		if (got == 0)
			x->shrunk = 1;
		else
			x->ioerr = errno;
		return CURL_READFUNC_ABORT;
	}
	x->pos += (uint64_t)got;
	return (size_t)got;
}

static int
seek_cb(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	x->pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static int
xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = ud;
	const struct aiops_http_req *q = x->q;
	int up = q->body || q->body_fd >= 0;
	uint64_t done = q->progress_base + (uint64_t)(up ? ulnow : dlnow);
	uint64_t total = q->progress_total ? q->progress_total : (uint64_t)(up ? ultotal : dltotal);

	if (x->h->o.progress && q->what)
		x->h->o.progress(x->h->o.ud, q->what, done, total);
	return 0;
}

/* The host part of an http(s) URL, for the plain-http policy. */
static int
url_host(const char *url, char *host, size_t cap)
{
	const char *p = strstr(url, "://"), *end;

	if (p == NULL)
		return -1;
	p += 3;
	end = p + strcspn(p, "/?#");
	{
		const char *at = memchr(p, '@', (size_t)(end - p));
		if (at)
			p = at + 1;
	}
	if ((size_t)(end - p) >= cap)
		return -1;
	memcpy(host, p, (size_t)(end - p));
	host[end - p] = '\0';
	return 0;
}

static int
fatal_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_LOGIN_DENIED:
	case CURLE_FILESIZE_EXCEEDED:
		return 1;
	default:
		return 0;
	}
}

int
aiops_http_once(struct aiops_http *h, const struct aiops_http_req *q, struct aiops_http_resp *r,
    struct aiops_error *e)
{
	CURL *c = h->curl;
	struct curl_slist *hl = NULL, *t;
	struct xfer x;
	char host[512];
	const char *what = q->what ? q->what : q->url;
	int plain = strncmp(q->url, "http://", 7) == 0, ret = AIOPS_OK;
	long timeout_ms = (long)(h->o.timeout * 1000);
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	if (plain) {
		if (url_host(q->url, host, sizeof(host)) != 0)
			return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: malformed URL", what);
		if (!h->o.insecure_http && !aiops_host_is_loopback(host)) {
			r->fatal = 1;
			return aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s: refusing plain http to %s (only loopback hosts, or with --insecure-http)",
			    what, host);
		}
	} else if (strncmp(q->url, "https://", 8) != 0) {
		r->fatal = 1;
		return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: not an http(s) URL", what);
	}
	memset(&x, 0, sizeof(x));
	x.h = h;
	x.q = q;
	x.r = r;
	/*
	 * A new handle for every request, not curl_easy_reset(): libcurl 7.88
	 * keeps a pointer to the last response's last header, and a reply whose
	 * first header line is a folded one then reads and reallocates freed
	 * memory. h->share keeps the connections and TLS sessions.
	 */
	if ((c = curl_easy_init()) == NULL)
		return nomem(e);
	curl_easy_cleanup(h->curl);
	h->curl = c;
	if (q->out_fd >= 0) {
		if (ftruncate(q->out_fd, 0) != 0 || lseek(q->out_fd, 0, SEEK_SET) < 0)
			return aiops_error_set(e, AIOPS_ERR_IO, "%s: cannot truncate the output: %s",
			    what, strerror(errno));
		if (aiops_sha256_init(&x.hash) != AIOPS_OK)
			return nomem(e);
		x.hashing = 1;
	}
	if (q->resp)
		aiops_buf_reset(q->resp);

	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "aiops-push/" AIOPS_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)ceil(h->o.timeout));
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->o.cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.cacert);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
	if (q->follow) {
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
		    h->o.insecure_http || plain ? "http,https" : "https");
	}
	if (strcmp(q->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(q->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(q->method, "POST") == 0 && !q->body && q->body_fd < 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	} else if (strcmp(q->method, "DELETE") == 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	else {
		/* PUT, PATCH (or a POST with a body): a streamed upload. */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)(q->body ? q->body_len : q->body_fd >= 0 ? q->body_size : 0));
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
		if (strcmp(q->method, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	}
	/* No "Expect: 100-continue": it costs a round trip or a 1 s wait per upload. */
	if ((t = curl_slist_append(hl, "Expect:")) == NULL)
		goto oom;
	hl = t;
	for (const char *const *p = q->headers; p && *p; p++) {
		if ((t = curl_slist_append(hl, *p)) == NULL)
			goto oom;
		hl = t;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(c);
	/* The header list may hold credentials: wipe the copies libcurl made. */
	for (t = hl; t; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	curl_slist_free_all(hl);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	if (x.hashing) {
		unsigned char md[32];
		if (aiops_sha256_final(&x.hash, md) == AIOPS_OK) {
			memcpy(r->out_digest, "sha256:", 7);
			aiops_hex(md, 32, r->out_digest + 7);
		}
	}
	if (x.ioerr) {
		r->fatal = 1;
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: %s: %s", what,
		    q->out_fd >= 0 && !(q->body || q->body_fd >= 0) ? "cannot write the download" :
		    "cannot read the upload", strerror(x.ioerr));
	}
	if (x.shrunk) {
		r->fatal = 1;
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: the file being uploaded shrank", what);
	}
	if (x.oom)
		goto oom_nolist;
	if (x.limit) {
		r->fatal = 1;
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: the response is larger than %llu bytes",
		    what, (unsigned long long)(x.discarded > DISCARD_MAX ? DISCARD_MAX :
		    q->out_fd >= 0 ? q->out_max : q->resp_max));
	}
	if (rc != CURLE_OK) {
		r->status = 0;
		r->fatal = fatal_code(rc);
		snprintf(r->transport, sizeof(r->transport), "%s",
		    h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		return aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", what, r->transport);
	}
	{
		long st = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		r->status = st;
	}
	return ret;
oom:
	for (t = hl; t; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	curl_slist_free_all(hl);
oom_nolist:
	if (x.hashing && r->out_digest[0] == '\0')
		aiops_sha256_release(&x.hash);
	r->fatal = 1;
	return nomem(e);
}

static int
retryable(int rc, const struct aiops_http_resp *r)
{
	if (rc == AIOPS_ERR_NET)
		return !r->fatal;
	if (rc != AIOPS_OK)
		return 0;
	return r->status == 408 || r->status == 429 || r->status >= 500;
}

const char *
aiops_http_status_text(const struct aiops_http_resp *r, char *buf, size_t n)
{
	json_t *j, *errs, *e0;
	const char *code = NULL, *msg = NULL;

	if (r->status == 0) {
		snprintf(buf, n, "%s", r->transport[0] ? r->transport : "no response");
		return buf;
	}
	j = r->err_body[0] == '{' ? json_loads(r->err_body, 0, NULL) : NULL;
	if (j && (errs = json_object_get(j, "errors")) && (e0 = json_array_get(errs, 0))) {
		code = json_string_value(json_object_get(e0, "code"));
		msg = json_string_value(json_object_get(e0, "message"));
	} else if (j)
		msg = json_string_value(json_object_get(j, "message"));
	if (code || msg)
		snprintf(buf, n, "HTTP %ld (%s%s%.200s)", r->status, code ? code : "",
		    code && msg && *msg ? ": " : "", msg ? msg : "");
	else {
		/* A short plain-text body is worth showing; HTML and long text are not. */
		size_t len = strcspn(r->err_body, "\r\n");
		int text = len > 0 && len <= 160 && r->err_body[0] != '<';
		for (size_t i = 0; text && i < len; i++)
			if ((unsigned char)r->err_body[i] < 32 || (unsigned char)r->err_body[i] > 126)
				text = 0;
		if (text)
			snprintf(buf, n, "HTTP %ld (%.*s)", r->status, (int)len, r->err_body);
		else
			snprintf(buf, n, "HTTP %ld", r->status);
	}
	json_decref(j);
	return buf;
}

/* Seconds a Retry-After value asks for: delta-seconds or an HTTP date; -1 if none. */
static double
retry_after(const char *v)
{
	char *end;
	double s;

	if (v[0] == '\0')
		return -1;
	if (v[0] >= '0' && v[0] <= '9') {
		s = strtod(v, &end);
		return *end == '\0' ? s : -1;
	}
	{
		time_t t = curl_getdate(v, NULL);
		if (t == (time_t)-1)
			return -1;
		s = difftime(t, time(NULL));
		return s < 0 ? 0 : s;
	}
}

struct retry {
	int attempt;
	double first_fail;
};

static void
note(struct aiops_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct aiops_http *h, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	if (h->o.note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->o.note(h->o.ud, msg);
}

/*
 * After a retryable failure of what (described by r, or by e for a
 * transport error): wait and return AIOPS_OK for another attempt, or fill
 * e and return AIOPS_ERR_NET when the count or the time runs out.
 */
static int
backoff(struct aiops_http *h, struct retry *st, const struct aiops_http_resp *r, const char *what,
    struct aiops_error *e)
{
	char last[512];
	double now = mono(), d, ra;

	if (r->status)
		aiops_http_status_text(r, last, sizeof(last));
	else
		snprintf(last, sizeof(last), "%s", r->transport[0] ? r->transport : "no response");
	if (st->attempt == 0)
		st->first_fail = now;
	if (st->attempt >= h->o.retries)
		return aiops_error_set(e, AIOPS_ERR_NET, "%s: %s (gave up after %d attempt%s)", what, last,
		    st->attempt + 1, st->attempt ? "s" : "");
	d = h->o.retry_delay * pow(2.0, st->attempt);
	if (d > MAX_DELAY)
		d = MAX_DELAY;
	d = d / 2 + d / 2 * aiops_rng_uniform(&h->rng);
	ra = retry_after(r->retry_after);
	if (ra > d)
		d = ra;
	if (now - st->first_fail + d > h->o.retry_time)
		return aiops_error_set(e, AIOPS_ERR_NET,
		    "%s: %s (gave up after %d attempt%s: the next one%s would pass the retry time limit of %g s)",
		    what, last, st->attempt + 1, st->attempt ? "s" : "",
		    ra >= 0 ? ", after the server's Retry-After," : "", h->o.retry_time);
	note(h, "%s: %s; retrying in %.2f s (retry %d of %d)", what, last, d, st->attempt + 1,
	    h->o.retries);
	sleep_s(d);
	st->attempt++;
	return AIOPS_OK;
}

int
aiops_http_request(struct aiops_http *h, const struct aiops_http_req *q, struct aiops_http_resp *r,
    struct aiops_error *e)
{
	struct retry st = { 0, 0 };
	int rc, b;

	for (;;) {
		rc = aiops_http_once(h, q, r, e);
		if (!retryable(rc, r))
			return rc;
		if ((b = backoff(h, &st, r, q->what ? q->what : q->url, e)) != AIOPS_OK)
			return b;
	}
}

/* ---- credentials ------------------------------------------------------------- */

static int
env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

/* Whether a config.json "auths" key names host: "host", "scheme://host[/path]". */
static int
auth_key_matches(const char *key, const char *host)
{
	const char *p = strstr(key, "://");
	size_t n = strlen(host);

	p = p ? p + 3 : key;
	return strncmp(p, host, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static int
docker_config(const char *host, char **user, char **password, struct aiops_error *e)
{
	struct aiops_buf path = AIOPS_BUF_INIT;
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	json_error_t je;
	json_t *root = NULL, *auths, *v;
	const char *key;
	unsigned long nfail;
	int ret = AIOPS_OK;

	if (dir && *dir)
		ret = aiops_buf_addf(&path, "%s/config.json", dir);
	else if (home && *home)
		ret = aiops_buf_addf(&path, "%s/.docker/config.json", home);
	else
		return AIOPS_OK;
	if (ret != AIOPS_OK)
		return nomem(e);
	if (access(path.buf, F_OK) != 0) {
		aiops_buf_release(&path);
		return AIOPS_OK;
	}
	nfail = aiops_alloc_failures();
	if ((root = json_load_file(path.buf, 0, &je)) == NULL) {
		if ((ret = aiops_nomem_since(nfail, e)) != AIOPS_OK)
			goto out;
		ret = aiops_error_set(e, AIOPS_ERR_DATA, "%s:%d:%d: %s", path.buf, je.line, je.column, je.text);
		goto out;
	}
	auths = json_object_get(root, "auths");
	json_object_foreach(auths, key, v) {
		const char *a = json_string_value(json_object_get(v, "auth"));
		const char *u = json_string_value(json_object_get(v, "username"));
		const char *pw = json_string_value(json_object_get(v, "password"));
		if (!auth_key_matches(key, host))
			continue;
		if (a && *a) {
			size_t n = strlen(a);
			unsigned char *dec = aiops_malloc(n / 4 * 3 + 4);
			int len;
			char *colon;
			if (dec == NULL) {
				ret = nomem(e);
				goto out;
			}
			len = EVP_DecodeBlock(dec, (const unsigned char *)a, (int)n);
			if (len >= 0) {
				/* EVP_DecodeBlock counts the "=" padding as zero bytes. */
				while (n > 0 && a[n - 1] == '=' && len > 0)
					n--, len--;
				dec[len] = '\0';
			}
			colon = len > 0 ? memchr(dec, ':', (size_t)len) : NULL;
			if (colon == NULL || memchr(dec, '\0', (size_t)len)) {
				explicit_bzero(dec, n / 4 * 3 + 4);
				aiops_free(dec);
				ret = aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: auths.\"%s\".auth: expected base64 of user:password", path.buf, key);
				goto out;
			}
			*user = aiops_strndup((char *)dec, (size_t)(colon - (char *)dec));
			*password = aiops_strdup(colon + 1);
			explicit_bzero(dec, n / 4 * 3 + 4);
			aiops_free(dec);
		} else if (u && pw) {
			*user = aiops_strdup(u);
			*password = aiops_strdup(pw);
		} else
			continue;
		if (*user == NULL || *password == NULL) {
			aiops_secret_free(*user);
			aiops_secret_free(*password);
			*user = *password = NULL;
			ret = nomem(e);
		}
		break;
	}
out:
	json_decref(root);
	aiops_buf_release(&path);
	return ret;
}

int
aiops_reg_credentials(const char *host, char **user, char **password, const char **source,
    struct aiops_error *e)
{
	const char *u = NULL, *p = NULL, *src = NULL;

	*user = *password = NULL;
	if (source)
		*source = NULL;
	if (env_set("AIOPS_REGISTRY_USER") || env_set("AIOPS_REGISTRY_PASSWORD")) {
		u = getenv("AIOPS_REGISTRY_USER");
		p = getenv("AIOPS_REGISTRY_PASSWORD");
		src = "AIOPS_REGISTRY_USER/AIOPS_REGISTRY_PASSWORD";
	} else if (env_set("CI_REGISTRY_USER") && env_set("CI_REGISTRY") &&
	    strcmp(getenv("CI_REGISTRY"), host) == 0) {
		/* The job's registry token goes to the job's registry only. */
		u = getenv("CI_REGISTRY_USER");
		p = getenv("CI_REGISTRY_PASSWORD");
		src = "CI_REGISTRY_USER/CI_REGISTRY_PASSWORD";
	}
	if (src) {
		if (u == NULL || *u == '\0' || p == NULL || *p == '\0')
			return aiops_error_set(e, AIOPS_ERR_USAGE, "%s: both must be set", src);
		*user = aiops_strdup(u);
		*password = aiops_strdup(p);
		if (*user == NULL || *password == NULL) {
			aiops_secret_free(*user);
			aiops_secret_free(*password);
			*user = *password = NULL;
			return nomem(e);
		}
		if (source)
			*source = src;
		return AIOPS_OK;
	}
	{
		int r = docker_config(host, user, password, e);
		if (r == AIOPS_OK && *user && source)
			*source = "the docker config.json";
		return r;
	}
}

/* ---- the registry client ------------------------------------------------------ */

struct aiops_reg {
	struct aiops_http *h;
	struct aiops_reg_opts o;
	char *base;        /* scheme://host */
	char *host, *repo;
	char *authz;       /* "Authorization: ..." - a secret */
	int basic_sent;    /* authz holds the Basic credentials */
	int have_token;    /* authz holds a Bearer token */
};

/* Send q with the handle's credentials; with retry, through the retry
 * loop. A 401 is answered once per call: Basic credentials or a new token. */
static int reg_auth(struct aiops_reg *r, const struct aiops_http_resp *resp, int *again,
    struct aiops_error *e);

static int
reg_send(struct aiops_reg *r, const struct aiops_http_req *q0, struct aiops_http_resp *resp,
    int retry, struct aiops_error *e)
{
	struct aiops_http_req q = *q0;
	const char *hdrs[16];
	int nh = 0, rc, answered = 0;

	size_t bl = strlen(r->base);
	/* An upload URL on another server (the spec allows it) does not get our credentials. */
	int own = strncmp(q0->url, r->base, bl) == 0 && (q0->url[bl] == '/' || q0->url[bl] == '\0');

	for (const char *const *p = q0->headers; p && *p && nh < 14; p++)
		hdrs[nh++] = *p;
	for (;;) {
		int n = nh, again = 0;
		if (r->authz && own)
			hdrs[n++] = r->authz;
		hdrs[n] = NULL;
		q.headers = hdrs;
		rc = retry ? aiops_http_request(r->h, &q, resp, e) : aiops_http_once(r->h, &q, resp, e);
		if (rc != AIOPS_OK || resp->status != 401 || answered || !own)
			return rc;
		answered = 1;
		if ((rc = reg_auth(r, resp, &again, e)) != AIOPS_OK)
			return rc;
		if (!again)
			return AIOPS_OK;
	}
}

/* One parameter of a challenge: key="value" or key=token; NULL if absent. */
static char *
challenge_param(const char *ch, const char *key)
{
	size_t kn = strlen(key);
	const char *p = ch;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, key, kn) == 0 && p[kn] == '=') {
			struct aiops_buf b = AIOPS_BUF_INIT;
			p += kn + 1;
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1])
						p++;
					if (aiops_buf_addch(&b, *p) != AIOPS_OK) {
						aiops_buf_release(&b);
						return NULL;
					}
				}
			} else {
				size_t n = strcspn(p, ", ");
				if (aiops_buf_add(&b, p, n) != AIOPS_OK)
					return NULL;
			}
			if (b.buf == NULL && aiops_buf_addstr(&b, "") != AIOPS_OK)
				return NULL;
			return aiops_buf_detach(&b, NULL);
		}
		/* Skip this parameter. */
		while (*p && *p != '=' && *p != ',')
			p++;
		if (*p == '=') {
			p++;
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++)
					if (*p == '\\' && p[1])
						p++;
				if (*p)
					p++;
			} else
				p += strcspn(p, ",");
		}
	}
	return NULL;
}

/* "Authorization: Basic base64(user:password)" as a new string (a secret). */
static char *
basic_header(const char *user, const char *password)
{
	struct aiops_buf plain = AIOPS_BUF_INIT, hdr = AIOPS_BUF_INIT;
	char *out = NULL;

	if (aiops_buf_addf(&plain, "%s:%s", user, password) == AIOPS_OK &&
	    aiops_buf_addstr(&hdr, "Authorization: Basic ") == AIOPS_OK &&
	    aiops_buf_grow(&hdr, (plain.len + 2) / 3 * 4 + 1) == AIOPS_OK) {
		int n = EVP_EncodeBlock((unsigned char *)hdr.buf + hdr.len,
		    (const unsigned char *)plain.buf, (int)plain.len);
		hdr.len += (size_t)n;
		hdr.buf[hdr.len] = '\0';
		out = aiops_buf_detach(&hdr, NULL);
	}
	buf_wipe(&plain);
	buf_wipe(&hdr);
	return out;
}

static int
add_scope(struct aiops_buf *url, const char *scope)
{
	return aiops_buf_addstr(url, "&scope=") || aiops_url_escape(url, scope);
}

/* Get a Bearer token from realm for our scopes and extra (the challenge's). */
static int
fetch_token(struct aiops_reg *r, const char *realm, const char *service, const char *extra,
    struct aiops_error *e)
{
	struct aiops_buf url = AIOPS_BUF_INIT, body = AIOPS_BUF_INIT, s1 = AIOPS_BUF_INIT,
	    s2 = AIOPS_BUF_INIT, hdr = AIOPS_BUF_INIT;
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = NULL;
	char *basic = NULL;
	const char *hdrs[2] = { NULL, NULL };
	json_t *j = NULL;
	const char *tok;
	int ret;

	if ((resp = aiops_malloc(sizeof(*resp))) == NULL)
		return nomem(e);
	if (aiops_buf_addstr(&url, realm) || aiops_buf_addch(&url, strchr(realm, '?') ? '&' : '?') ||
	    aiops_buf_addstr(&url, "service=") || aiops_url_escape(&url, service ? service : "") ||
	    aiops_buf_addf(&s1, "repository:%s:%s", r->repo, r->o.push ? "pull,push" : "pull") ||
	    add_scope(&url, s1.buf) ||
	    (r->o.also_pull && (aiops_buf_addf(&s2, "repository:%s:pull", r->o.also_pull) ||
	    add_scope(&url, s2.buf))) ||
	    (extra && *extra && strcmp(extra, s1.buf) != 0 && !(s2.buf && strcmp(extra, s2.buf) == 0) &&
	    add_scope(&url, extra))) {
		ret = nomem(e);
		goto out;
	}
	/* The token service gets the Basic credentials; the registry never does. */
	if (r->o.user && r->o.password) {
		if ((basic = basic_header(r->o.user, r->o.password)) == NULL) {
			ret = nomem(e);
			goto out;
		}
		hdrs[0] = basic;
	}
	q.method = "GET";
	q.url = url.buf;
	q.what = realm;
	q.headers = hdrs;
	q.resp = &body;
	q.resp_max = TOKEN_MAX;
	q.follow = 1;
	if ((ret = aiops_http_request(r->h, &q, resp, e)) != AIOPS_OK)
		goto out;
	if (resp->status == 401 || resp->status == 403) {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: the token service refused %s (HTTP %ld)",
		    realm, basic ? "the credentials" : "an anonymous request; no credentials were found",
		    resp->status);
		goto out;
	}
	if (resp->status != 200) {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: token request failed: HTTP %ld", realm, resp->status);
		goto out;
	}
	j = json_loadb(body.buf ? body.buf : "", body.len, 0, NULL);
	tok = json_string_value(json_object_get(j, "token"));
	if (tok == NULL || *tok == '\0')
		tok = json_string_value(json_object_get(j, "access_token"));
	if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n")) {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: the token reply holds no token", realm);
		goto out;
	}
	if (aiops_buf_addstr(&hdr, "Authorization: Bearer ") || aiops_buf_addstr(&hdr, tok)) {
		ret = nomem(e);
		goto out;
	}
	aiops_secret_free(r->authz);
	r->authz = aiops_buf_detach(&hdr, NULL);
	r->have_token = 1;
	r->basic_sent = 0;
	note(r->h, "%s: got a token for %s%s%s", r->host, s1.buf, s2.buf ? " " : "", s2.buf ? s2.buf : "");
out:
	if (j) {
		/* Wipe the token from jansson's copies too. */
		static const char *const keys[] = { "token", "access_token", "refresh_token" };
		for (int i = 0; i < 3; i++) {
			json_t *t = json_object_get(j, keys[i]);
			if (json_is_string(t))
				explicit_bzero((char *)json_string_value(t), json_string_length(t));
		}
		json_decref(j);
	}
	aiops_secret_free(basic);
	buf_wipe(&body);
	buf_wipe(&hdr);
	aiops_buf_release(&url);
	aiops_buf_release(&s1);
	aiops_buf_release(&s2);
	aiops_free(resp);
	return ret;
}

static int
reg_auth(struct aiops_reg *r, const struct aiops_http_resp *resp, int *again, struct aiops_error *e)
{
	const char *ch = resp->www_authenticate;
	size_t sn = strcspn(ch, " ");
	int ret = AIOPS_OK;

	*again = 0;
	if (sn == 5 && strncasecmp(ch, "Basic", 5) == 0) {
		if (r->o.user == NULL || r->o.password == NULL)
			return aiops_error_set(e, AIOPS_ERR_NET,
			    "%s: the registry asks for credentials and none were found (AIOPS_REGISTRY_USER "
			    "and AIOPS_REGISTRY_PASSWORD, or a docker config.json)", r->host);
		if (r->basic_sent)
			return aiops_error_set(e, AIOPS_ERR_NET, "%s: the registry refused the credentials (HTTP 401)",
			    r->host);
		aiops_secret_free(r->authz);
		if ((r->authz = basic_header(r->o.user, r->o.password)) == NULL)
			return nomem(e);
		r->basic_sent = 1;
		r->have_token = 0;
		*again = 1;
		return AIOPS_OK;
	}
	if (sn == 6 && strncasecmp(ch, "Bearer", 6) == 0) {
		char *realm = challenge_param(ch + 6, "realm");
		char *service = challenge_param(ch + 6, "service");
		char *scope = challenge_param(ch + 6, "scope");
		/* A first token, or a new one for an expired token or a wider scope. */
		if (realm == NULL || *realm == '\0')
			ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: a Bearer challenge without a realm", r->host);
		else if ((ret = fetch_token(r, realm, service, scope, e)) == AIOPS_OK)
			*again = 1;
		aiops_free(realm);
		aiops_free(service);
		aiops_free(scope);
		return ret;
	}
	if (ch[0] == '\0')
		return aiops_error_set(e, AIOPS_ERR_NET, "%s: HTTP 401 without a challenge", r->host);
	return aiops_error_set(e, AIOPS_ERR_NET, "%s: unsupported authentication scheme \"%.*s\"",
	    r->host, (int)(sn > 40 ? 40 : sn), ch);
}

int
aiops_reg_open(struct aiops_reg **rp, const char *host, const char *repo,
    const struct aiops_reg_opts *o, struct aiops_error *e)
{
	struct aiops_reg *r;
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp;
	char *url = NULL, st[512];
	int plain, ret;

	*rp = NULL;
	if ((r = aiops_calloc(1, sizeof(*r))) == NULL || (resp = aiops_malloc(sizeof(*resp))) == NULL) {
		aiops_free(r);
		return nomem(e);
	}
	r->o = *o;
	plain = o->http.insecure_http || (aiops_host_is_loopback(host) && o->http.cacert == NULL);
	if ((r->host = aiops_strdup(host)) == NULL || (r->repo = aiops_strdup(repo)) == NULL ||
	    (r->base = cat(plain ? "http://" : "https://", host, NULL)) == NULL ||
	    (url = cat(r->base, "/v2/", NULL)) == NULL) {
		ret = nomem(e);
		goto fail;
	}
	if ((ret = aiops_http_open(&r->h, &o->http, e)) != AIOPS_OK)
		goto fail;
	q.method = "GET";
	q.url = url;
	q.what = r->host;
	q.follow = 1;
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto fail;
	if (resp->status == 401 || resp->status == 403) {
		aiops_http_status_text(resp, st, sizeof(st));
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: the registry refused the %s (GET /v2/: %s)", host,
		    r->have_token ? "token" : "credentials", st);
		goto fail;
	}
	if (resp->status != 200) {
		aiops_http_status_text(resp, st, sizeof(st));
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: not an OCI registry (GET /v2/: %s)", host, st);
		goto fail;
	}
	aiops_free(url);
	aiops_free(resp);
	*rp = r;
	return AIOPS_OK;
fail:
	aiops_free(url);
	aiops_free(resp);
	aiops_reg_close(r);
	return ret;
}

void
aiops_reg_close(struct aiops_reg *r)
{
	if (r == NULL)
		return;
	aiops_http_close(r->h);
	aiops_secret_free(r->authz);
	aiops_free(r->base);
	aiops_free(r->host);
	aiops_free(r->repo);
	aiops_free(r);
}

/* An upload Location as an absolute URL. */
static char *
resolve(struct aiops_reg *r, const char *loc)
{
	if (strstr(loc, "://"))
		return aiops_strdup(loc);
	if (loc[0] == '/')
		return cat(r->base, loc, NULL);
	return cat(r->base, "/v2/", loc, NULL);
}

/* url plus a query parameter. */
static char *
with_param(const char *url, const char *name, const char *value)
{
	struct aiops_buf b = AIOPS_BUF_INIT;

	if (aiops_buf_addstr(&b, url) || aiops_buf_addch(&b, strchr(url, '?') ? '&' : '?') ||
	    aiops_buf_addstr(&b, name) || aiops_buf_addch(&b, '=') || aiops_url_escape(&b, value)) {
		aiops_buf_release(&b);
		return NULL;
	}
	return aiops_buf_detach(&b, NULL);
}

static char *
repo_url(struct aiops_reg *r, const char *repo, const char *kind, const char *ref)
{
	return cat(r->base, "/v2/", repo ? repo : r->repo, "/", kind, "/", ref, NULL);
}

static struct aiops_http_resp *
new_resp(void)
{
	return aiops_malloc(sizeof(struct aiops_http_resp));
}

int
aiops_reg_blob_exists(struct aiops_reg *r, const char *repo, const char *digest, struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char *url = repo_url(r, repo, "blobs", digest), what[200], st[512];
	int ret;

	if (resp == NULL || url == NULL) {
		ret = nomem(e);
		goto out;
	}
	snprintf(what, sizeof(what), "HEAD %s@%.19s", repo ? repo : r->repo, digest);
	q.method = "HEAD";
	q.url = url;
	q.what = what;
	q.follow = 1;
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto out;
	if (resp->status == 200)
		ret = 1;
	else if (resp->status == 404)
		ret = 0;
	else
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", what, aiops_http_status_text(resp, st, sizeof(st)));
out:
	aiops_free(url);
	aiops_free(resp);
	return ret;
}

/* POST an upload session (with retries): *loc gets its absolute URL. */
static int
upload_start(struct aiops_reg *r, char **loc, uint64_t *chunk_min, struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char *url = cat(r->base, "/v2/", r->repo, "/blobs/uploads/", NULL), st[512], what[300];
	int ret;

	*loc = NULL;
	if (resp == NULL || url == NULL) {
		ret = nomem(e);
		goto out;
	}
	snprintf(what, sizeof(what), "POST %s/blobs/uploads/", r->repo);
	q.method = "POST";
	q.url = url;
	q.what = what;
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto out;
	if (resp->status != 202 || resp->location[0] == '\0') {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: %s%s", what, aiops_http_status_text(resp, st, sizeof(st)),
		    resp->status == 202 ? " without a Location" : "");
		goto out;
	}
	if (chunk_min)
		*chunk_min = resp->oci_chunk_min ? resp->chunk_min : 0;
	if ((*loc = resolve(r, resp->location)) == NULL)
		ret = nomem(e);
out:
	aiops_free(url);
	aiops_free(resp);
	return ret;
}

/* Cancel an upload session; failures do not matter. */
static void
upload_cancel(struct aiops_reg *r, const char *loc)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	struct aiops_error e;

	if (resp == NULL)
		return;
	q.method = "DELETE";
	q.url = loc;
	q.what = "DELETE upload";
	reg_send(r, &q, resp, 0, &e);
	aiops_free(resp);
}

/* The end of an upload's "Range: 0-N" as the next offset, or -1. */
static int64_t
range_next(const char *range)
{
	const char *p = range;
	char *end;
	unsigned long long a, b;

	if (strncmp(p, "bytes=", 6) == 0)
		p += 6;
	if (*p < '0' || *p > '9')
		return -1;
	a = strtoull(p, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	b = strtoull(end + 1, &end, 10);
	if (*end != '\0' || a != 0)
		return -1;
	/* distribution answers "0-0" for an empty upload too; 1 byte is never a chunk we sent. */
	return b == 0 ? 0 : (int64_t)b + 1;
}

/*
 * Ask the registry where upload *loc stands (GET, 204 + Range): *off gets
 * the next offset and *loc the URL to go on with. 0 on success, 1 when the
 * registry no longer knows the upload (start again), <0 on error.
 */
static int
upload_status(struct aiops_reg *r, char **loc, uint64_t *off, struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char st[512];
	int ret = 0;
	int64_t next;

	if (resp == NULL)
		return nomem(e);
	q.method = "GET";
	q.url = *loc;
	q.what = "GET upload status";
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto out;
	if (resp->status == 404 || resp->status == 400 || resp->status == 416) {
		note(r->h, "%s: the registry no longer knows the upload (%s); starting it again", r->repo,
		    aiops_http_status_text(resp, st, sizeof(st)));
		ret = 1;
		goto out;
	}
	if (resp->status != 204 && resp->status != 202 && resp->status != 200) {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "upload status: %s", aiops_http_status_text(resp, st, sizeof(st)));
		goto out;
	}
	next = resp->range[0] ? range_next(resp->range) : 0;
	if (next < 0) {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "upload status: a Range \"%s\" that is not 0-N", resp->range);
		goto out;
	}
	*off = (uint64_t)next;
	if (resp->location[0]) {
		char *n = resolve(r, resp->location);
		if (n == NULL) {
			ret = nomem(e);
			goto out;
		}
		aiops_free(*loc);
		*loc = n;
	}
	note(r->h, "%s: the registry holds %llu bytes of the upload; resuming there", r->repo,
	    (unsigned long long)*off);
out:
	aiops_free(resp);
	return ret;
}

struct body {
	int fd;
	const void *mem;
};

static void
set_body(struct aiops_http_req *q, const struct body *b, uint64_t off, uint64_t n)
{
	if (b->fd >= 0) {
		q->body_fd = b->fd;
		q->body_off = off;
		q->body_size = n;
	} else {
		q->body = (const char *)b->mem + off;
		q->body_len = (size_t)n;
		if (n == 0)
			q->body = "";
	}
}

/* The digest a registry returned must be ours (when it returned one). */
static int
check_digest(const struct aiops_http_resp *resp, const char *want, const char *what, struct aiops_error *e)
{
	if (resp->digest[0] && strcmp(resp->digest, want) != 0)
		return aiops_error_set(e, AIOPS_ERR_NET, "%s: the registry stored digest %s, expected %s",
		    what, resp->digest, want);
	return AIOPS_OK;
}

/* Finish an upload: PUT loc?digest=D with the bytes [off, size) (none when off == size). */
static int
upload_finish(struct aiops_reg *r, const char *loc, const struct aiops_oci_desc *d, const struct body *b,
    uint64_t off, struct aiops_http_resp *resp, const char *what, struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	char *url = with_param(loc, "digest", d->digest), cr[80];
	const char *hdrs[3] = { "Content-Type: application/octet-stream", NULL, NULL };
	int ret;

	if (url == NULL)
		return nomem(e);
	if (off < d->size && off > 0) {
		snprintf(cr, sizeof(cr), "Content-Range: %llu-%llu", (unsigned long long)off,
		    (unsigned long long)(d->size - 1));
		hdrs[1] = cr;
	}
	q.method = "PUT";
	q.url = url;
	q.what = what;
	q.headers = hdrs;
	q.progress_base = off;
	q.progress_total = d->size;
	set_body(&q, b, off, d->size - off);
	ret = reg_send(r, &q, resp, 0, e);
	aiops_free(url);
	return ret;
}

static int
put_blob(struct aiops_reg *r, const struct aiops_oci_desc *d, const struct body *b, struct aiops_error *e)
{
	struct aiops_http_resp *resp = new_resp();
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct retry st = { 0, 0 };
	char *loc = NULL, what[200], st_text[512], cr[80];
	const char *hdrs[3] = { "Content-Type: application/octet-stream", cr, NULL };
	uint64_t chunk = r->o.chunk_size, off = 0, chunk_min = 0;
	int chunked = chunk > 0 && d->size > chunk, ret;

	if (resp == NULL)
		return nomem(e);
	snprintf(what, sizeof(what), "blob %.19s (%llu bytes)", d->digest, (unsigned long long)d->size);
	if ((ret = upload_start(r, &loc, &chunk_min, e)) != AIOPS_OK)
		goto out;
	if (chunked && chunk_min > chunk) {
		note(r->h, "%s: the registry asks for chunks of at least %llu bytes", r->repo,
		    (unsigned long long)chunk_min);
		chunk = chunk_min;
	}
	for (;;) {
		int rc, s;
		if (chunked && off < d->size) {
			uint64_t n = d->size - off < chunk ? d->size - off : chunk;
			memset(&q, 0, sizeof(q));
			q.body_fd = q.out_fd = -1;
			q.method = "PATCH";
			q.url = loc;
			q.what = what;
			snprintf(cr, sizeof(cr), "Content-Range: %llu-%llu", (unsigned long long)off,
			    (unsigned long long)(off + n - 1));
			q.headers = hdrs;
			q.progress_base = off;
			q.progress_total = d->size;
			set_body(&q, b, off, n);
			rc = reg_send(r, &q, resp, 0, e);
			if (rc == AIOPS_OK && resp->status == 202) {
				int64_t next = resp->range[0] ? range_next(resp->range) : (int64_t)(off + n);
				if (resp->location[0]) {
					char *nl = resolve(r, resp->location);
					if (nl == NULL) {
						ret = nomem(e);
						goto out;
					}
					aiops_free(loc);
					loc = nl;
				}
				if (next < 0 || (uint64_t)next > off + n) {
					ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: a chunk reply with Range \"%s\"",
					    what, resp->range);
					goto cancel;
				}
				if ((uint64_t)next <= off) {
					/* no progress: a Range that never moves must not keep us sending
					 * for ever, so this spends the retry budget */
					if (st.attempt >= r->h->o.retries) {
						ret = aiops_error_set(e, AIOPS_ERR_NET,
						    "%s: the registry accepts chunks but its Range stays at \"%s\"",
						    what, resp->range);
						goto cancel;
					}
					if ((ret = backoff(r->h, &st, resp, what, e)) != AIOPS_OK)
						goto cancel;
				} else
					st.attempt = 0; /* progress: the retry budget starts again */
				off = (uint64_t)next;
				continue;
			}
			if (rc == AIOPS_OK && resp->status == 416) {
				aiops_http_status_text(resp, st_text, sizeof(st_text));
				if ((ret = backoff(r->h, &st, resp, what, e)) != AIOPS_OK)
					goto cancel;
				s = upload_status(r, &loc, &off, e);
				goto status;
			}
		} else {
			rc = upload_finish(r, loc, d, b, off, resp, what, e);
			if (rc == AIOPS_OK && resp->status == 201) {
				ret = check_digest(resp, d->digest, what, e);
				goto out;
			}
		}
		if (!retryable(rc, resp)) {
			if (rc == AIOPS_OK)
				ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", what,
				    aiops_http_status_text(resp, st_text, sizeof(st_text)));
			else
				ret = rc;
			goto cancel;
		}
		if ((ret = backoff(r->h, &st, resp, what, e)) != AIOPS_OK)
			goto cancel;
		/* The upload may have landed whole before the reply was lost. */
		if ((!chunked || off >= d->size) && (s = aiops_reg_blob_exists(r, NULL, d->digest, e)) != 0) {
			ret = s < 0 ? s : AIOPS_OK;
			if (s > 0)
				note(r->h, "%s: the blob arrived although the reply was lost", what);
			goto out;
		}
		if (!chunked) {
			/* A monolithic upload starts again on a fresh session. */
			upload_cancel(r, loc);
			aiops_free(loc);
			loc = NULL;
			if ((ret = upload_start(r, &loc, NULL, e)) != AIOPS_OK)
				goto out;
			continue;
		}
		s = upload_status(r, &loc, &off, e);
status:
		if (s < 0) {
			ret = s;
			goto cancel;
		}
		if (s == 1) {
			aiops_free(loc);
			loc = NULL;
			off = 0;
			if ((ret = upload_start(r, &loc, NULL, e)) != AIOPS_OK)
				goto out;
		}
		if (off > d->size) {
			ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: the registry holds %llu bytes, more than the blob",
			    what, (unsigned long long)off);
			goto cancel;
		}
	}
cancel:
	if (loc)
		upload_cancel(r, loc);
out:
	aiops_free(loc);
	aiops_free(resp);
	return ret;
}

int
aiops_reg_blob_put(struct aiops_reg *r, const struct aiops_oci_desc *d, const char *path,
    const void *mem, struct aiops_error *e)
{
	struct body b = { -1, mem };
	struct stat sb;
	int ret;

	if (path == NULL)
		return put_blob(r, d, &b, e);
	if ((b.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", path, strerror(errno));
	if (fstat(b.fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != d->size)
		ret = aiops_error_set(e, AIOPS_ERR_IO, "%s: not a regular file of %llu bytes (changed?)", path,
		    (unsigned long long)d->size);
	else
		ret = put_blob(r, d, &b, e);
	close(b.fd);
	return ret;
}

int
aiops_reg_blob_mount(struct aiops_reg *r, const char *digest, const char *from, struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char *base = cat(r->base, "/v2/", r->repo, "/blobs/uploads/", NULL), *u1 = NULL, *url = NULL;
	char what[300], st[512];
	int ret;

	if (resp == NULL || base == NULL || (u1 = with_param(base, "mount", digest)) == NULL ||
	    (url = with_param(u1, "from", from)) == NULL) {
		ret = nomem(e);
		goto out;
	}
	snprintf(what, sizeof(what), "mount %.19s from %s", digest, from);
	q.method = "POST";
	q.url = url;
	q.what = what;
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto out;
	if (resp->status == 201)
		ret = check_digest(resp, digest, what, e) == AIOPS_OK ? 1 : e->code;
	else if (resp->status == 202) {
		if (resp->location[0]) {
			char *loc = resolve(r, resp->location);
			if (loc)
				upload_cancel(r, loc);
			aiops_free(loc);
		}
		ret = 0;
	} else
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", what, aiops_http_status_text(resp, st, sizeof(st)));
out:
	aiops_free(base);
	aiops_free(u1);
	aiops_free(url);
	aiops_free(resp);
	return ret;
}

int
aiops_reg_blob_ensure(struct aiops_reg *r, const struct aiops_oci_desc *d, const char *path,
    const void *mem, const char **how, struct aiops_error *e)
{
	int s;

	if ((s = aiops_reg_blob_exists(r, NULL, d->digest, e)) < 0)
		return s;
	if (s) {
		note(r->h, "%s: blob %s is present; skipped", r->repo, d->digest);
		if (how)
			*how = "present";
		return AIOPS_OK;
	}
	if (r->o.also_pull && strcmp(r->o.also_pull, r->repo) != 0) {
		if ((s = aiops_reg_blob_mount(r, d->digest, r->o.also_pull, e)) < 0)
			return s;
		if (s) {
			note(r->h, "%s: blob %s mounted from %s", r->repo, d->digest, r->o.also_pull);
			if (how)
				*how = "mounted";
			return AIOPS_OK;
		}
		note(r->h, "%s: the registry would not mount %s from %s; uploading", r->repo, d->digest,
		    r->o.also_pull);
	}
	if ((s = aiops_reg_blob_put(r, d, path, mem, e)) != AIOPS_OK)
		return s;
	note(r->h, "%s: blob %s uploaded (%llu bytes)", r->repo, d->digest, (unsigned long long)d->size);
	if (how)
		*how = "uploaded";
	return AIOPS_OK;
}

int
aiops_reg_blob_get(struct aiops_reg *r, const char *repo, const struct aiops_oci_desc *d, int fd,
    struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char *url = repo_url(r, repo, "blobs", d->digest), what[200], st[512];
	struct retry rt = { 0, 0 };
	int ret;

	if (resp == NULL || url == NULL) {
		ret = nomem(e);
		goto out;
	}
	snprintf(what, sizeof(what), "blob %.19s (%llu bytes)", d->digest, (unsigned long long)d->size);
	q.method = "GET";
	q.url = url;
	q.what = what;
	q.follow = 1;
	q.out_fd = fd;
	q.out_max = d->size;
	q.progress_total = d->size;
	for (;;) {
		if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
			goto out;
		if (resp->status != 200) {
			ret = aiops_error_set(e, resp->status == 404 ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_NET, "%s: %s",
			    what, aiops_http_status_text(resp, st, sizeof(st)));
			goto out;
		}
		if (resp->received == d->size)
			break;
		/* A body cut short without a transport error (a proxy closing early). */
		snprintf(resp->transport, sizeof(resp->transport), "%llu of %llu bytes arrived",
		    (unsigned long long)resp->received, (unsigned long long)d->size);
		resp->status = 0;
		if ((ret = backoff(r->h, &rt, resp, what, e)) != AIOPS_OK)
			goto out;
	}
	if (strcmp(resp->out_digest, d->digest) != 0) {
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: the bytes have digest %s, expected %s", what,
		    resp->out_digest, d->digest);
		goto out;
	}
	ret = AIOPS_OK;
out:
	aiops_free(url);
	aiops_free(resp);
	return ret;
}

/* A small blob into memory, its digest and size checked. */
static int
blob_get_mem(struct aiops_reg *r, const char *repo, const struct aiops_oci_desc *d, struct aiops_buf *b,
    struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char *url = repo_url(r, repo, "blobs", d->digest), what[200], st[512], got[72];
	int ret;

	if (resp == NULL || url == NULL) {
		ret = nomem(e);
		goto out;
	}
	snprintf(what, sizeof(what), "blob %.19s", d->digest);
	q.method = "GET";
	q.url = url;
	q.what = what;
	q.follow = 1;
	q.resp = b;
	q.resp_max = d->size;
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto out;
	if (resp->status != 200) {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", what, aiops_http_status_text(resp, st, sizeof(st)));
		goto out;
	}
	if ((ret = digest_mem(b->buf ? b->buf : "", b->len, got, e)) != AIOPS_OK)
		goto out;
	if (b->len != d->size || strcmp(got, d->digest) != 0)
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: the bytes have digest %s, expected %s", what, got,
		    d->digest);
out:
	aiops_free(url);
	aiops_free(resp);
	return ret;
}

int
aiops_reg_manifest_put(struct aiops_reg *r, const char *ref, const char *media_type, const void *p,
    size_t n, struct aiops_oci_desc *out, int *subject_seen, struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char *url = repo_url(r, NULL, "manifests", ref), *ct = cat("Content-Type: ", media_type, NULL);
	char what[300], st[512], dg[72];
	const char *hdrs[2] = { ct, NULL };
	int ret;

	if (resp == NULL || url == NULL || ct == NULL) {
		ret = nomem(e);
		goto out;
	}
	if ((ret = digest_mem(p, n, dg, e)) != AIOPS_OK)
		goto out;
	snprintf(what, sizeof(what), "manifest %s:%s", r->repo, ref);
	q.method = "PUT";
	q.url = url;
	q.what = what;
	q.headers = hdrs;
	q.body = n ? p : "";
	q.body_len = n;
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto out;
	if (resp->status != 201 && resp->status != 200) {
		ret = aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", what, aiops_http_status_text(resp, st, sizeof(st)));
		goto out;
	}
	if ((ret = check_digest(resp, dg, what, e)) != AIOPS_OK)
		goto out;
	if (subject_seen)
		*subject_seen = resp->oci_subject[0] != '\0';
	if (out) {
		snprintf(out->media_type, sizeof(out->media_type), "%s", media_type);
		memcpy(out->digest, dg, sizeof(dg));
		out->size = n;
	}
out:
	aiops_free(ct);
	aiops_free(url);
	aiops_free(resp);
	return ret;
}

static const char accept_manifests[] = "Accept: " AIOPS_OCI_MANIFEST_TYPE ", " AIOPS_OCI_INDEX_TYPE
    ", application/vnd.docker.distribution.manifest.v2+json"
    ", application/vnd.docker.distribution.manifest.list.v2+json";

int
aiops_reg_manifest_get(struct aiops_reg *r, const char *repo, const char *ref, struct aiops_buf *body,
    struct aiops_oci_desc *out, struct aiops_error *e)
{
	struct aiops_http_req q = AIOPS_HTTP_REQ_INIT;
	struct aiops_http_resp *resp = new_resp();
	char *url = repo_url(r, repo, "manifests", ref), what[300], st[512], dg[72];
	const char *hdrs[2] = { accept_manifests, NULL };
	int ret;

	if (resp == NULL || url == NULL) {
		ret = nomem(e);
		goto out;
	}
	snprintf(what, sizeof(what), "manifest %s%s%s", repo ? repo : r->repo, strchr(ref, ':') ? "@" : ":", ref);
	q.method = "GET";
	q.url = url;
	q.what = what;
	q.headers = hdrs;
	q.follow = 1;
	q.resp = body;
	q.resp_max = MANIFEST_MAX;
	if ((ret = reg_send(r, &q, resp, 1, e)) != AIOPS_OK)
		goto out;
	if (resp->status != 200) {
		ret = aiops_error_set(e, resp->status == 404 ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_NET, "%s: %s", what,
		    aiops_http_status_text(resp, st, sizeof(st)));
		goto out;
	}
	if ((ret = digest_mem(body->buf ? body->buf : "", body->len, dg, e)) != AIOPS_OK)
		goto out;
	if ((strncmp(ref, "sha256:", 7) == 0 && strcmp(ref, dg) != 0) ||
	    (resp->digest[0] && strcmp(resp->digest, dg) != 0)) {
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: the manifest bytes have digest %s, the registry said %s",
		    what, dg, resp->digest[0] ? resp->digest : ref);
		goto out;
	}
	if (out) {
		snprintf(out->media_type, sizeof(out->media_type), "%.127s", resp->content_type);
		if (out->media_type[0] == '\0') {
			json_t *j = json_loadb(body->buf ? body->buf : "", body->len, 0, NULL);
			const char *mt = json_string_value(json_object_get(j, "mediaType"));
			snprintf(out->media_type, sizeof(out->media_type), "%s", mt ? mt : AIOPS_OCI_MANIFEST_TYPE);
			json_decref(j);
		}
		memcpy(out->digest, dg, sizeof(dg));
		out->size = body->len;
	}
out:
	aiops_free(url);
	aiops_free(resp);
	return ret;
}

/* ---- manifests ------------------------------------------------------------------ */

static int
desc_from_json(json_t *j, struct aiops_oci_desc *d, const char *what, struct aiops_error *e)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	const char *dg = json_string_value(json_object_get(j, "digest"));
	json_t *sz = json_object_get(j, "size");

	if (!json_is_object(j) || mt == NULL || dg == NULL || !json_is_integer(sz) ||
	    json_integer_value(sz) < 0)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: expected a descriptor with mediaType, digest, size",
		    what);
	if (!digest_valid(dg))
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: digest \"%.80s\" is not sha256:<64 hex digits>",
		    what, dg);
	snprintf(d->media_type, sizeof(d->media_type), "%s", mt);
	snprintf(d->digest, sizeof(d->digest), "%s", dg);
	d->size = (uint64_t)json_integer_value(sz);
	return AIOPS_OK;
}

int
aiops_oci_manifest_parse(const void *p, size_t n, struct aiops_oci_desc *config,
    struct aiops_oci_desc *layer, struct aiops_error *e)
{
	json_error_t je;
	unsigned long nfail = aiops_alloc_failures();
	json_t *j = json_loadb(p ? p : "", n, 0, &je), *layers;
	const char *mt, *at;
	int ret = AIOPS_OK, found = 0;

	if (j == NULL && (ret = aiops_nomem_since(nfail, e)) != AIOPS_OK)
		return ret;
	if (j == NULL)
		return aiops_error_set(e, AIOPS_ERR_FORMAT, "manifest:%d:%d: %s", je.line, je.column, je.text);
	mt = json_string_value(json_object_get(j, "mediaType"));
	at = json_string_value(json_object_get(j, "artifactType"));
	if (json_integer_value(json_object_get(j, "schemaVersion")) != 2 ||
	    (mt && strcmp(mt, AIOPS_OCI_MANIFEST_TYPE) != 0)) {
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "manifest: not an OCI image manifest (mediaType %s)",
		    mt ? mt : "missing");
		goto out;
	}
	if (at && strcmp(at, AIOPS_OCI_ARTIFACT_TYPE) != 0) {
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "manifest: artifactType %s, expected %s", at,
		    AIOPS_OCI_ARTIFACT_TYPE);
		goto out;
	}
	if ((ret = desc_from_json(json_object_get(j, "config"), config, "manifest: config", e)) != AIOPS_OK)
		goto out;
	if (strcmp(config->media_type, AIOPS_OCI_CONFIG_TYPE) != 0) {
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "manifest: config media type %s: not an aiops model (%s)",
		    config->media_type, AIOPS_OCI_CONFIG_TYPE);
		goto out;
	}
	layers = json_object_get(j, "layers");
	for (size_t i = 0; i < json_array_size(layers); i++) {
		struct aiops_oci_desc d;
		char what[64];
		snprintf(what, sizeof(what), "manifest: layers[%zu]", i);
		if ((ret = desc_from_json(json_array_get(layers, i), &d, what, e)) != AIOPS_OK)
			goto out;
		if (strcmp(d.media_type, AIOPS_OCI_LAYER_TYPE) == 0) {
			*layer = d;
			found++;
		}
	}
	if (found != 1)
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "manifest: %d layers of type %s, expected one", found,
		    AIOPS_OCI_LAYER_TYPE);
out:
	json_decref(j);
	return ret;
}

/* ---- high-level operations ------------------------------------------------------- */

/* aiops_artifact_verify() of one artifact on a thread of its own. */
struct verify_job {
	const char *path;
	struct aiops_error e;
	int rc;
};

static void *
verify_main(void *p)
{
	struct verify_job *j = p;

	j->rc = aiops_artifact_verify(j->path, NULL, &j->e);
	return NULL;
}

int
aiops_reg_push_artifact(struct aiops_reg *r, const char *artifact, const char *tag,
    struct aiops_oci_desc *out, struct aiops_error *e)
{
	struct aiops_buf config = AIOPS_BUF_INIT, manifest = AIOPS_BUF_INIT;
	struct aiops_oci_desc cd, ld, md;
	struct verify_job vj;
	pthread_t th;
	int ret, threaded;

	/*
	 * The artifact is verified whole while its blobs go up (the check costs
	 * about as much as the upload); the tag is written only once it passed,
	 * so a broken artifact leaves at most an untagged blob behind.
	 */
	memset(&vj, 0, sizeof(vj));
	vj.path = artifact;
	threaded = pthread_create(&th, NULL, verify_main, &vj) == 0;
	if (!threaded && (ret = aiops_artifact_verify(artifact, NULL, e)) != AIOPS_OK)
		goto out;
	if ((ret = aiops_oci_describe(artifact, &config, &cd, &ld, &manifest, &md, e)) == AIOPS_OK &&
	    (ret = aiops_reg_blob_ensure(r, &cd, NULL, config.buf, NULL, e)) == AIOPS_OK)
		ret = aiops_reg_blob_ensure(r, &ld, artifact, NULL, NULL, e);
	if (threaded) {
		pthread_join(th, NULL);
		threaded = 0;
		if (vj.rc != AIOPS_OK) {
			*e = vj.e;
			ret = vj.rc;
			goto out;
		}
	}
	if (ret != AIOPS_OK)
		goto out;
	if ((ret = aiops_reg_manifest_put(r, tag, md.media_type, manifest.buf, manifest.len, out, NULL, e))
	    != AIOPS_OK)
		goto out;
	if (strcmp(out->digest, md.digest) != 0)
		ret = aiops_error_set(e, AIOPS_ERR_NET, "manifest: pushed digest %s, expected %s", out->digest,
		    md.digest);
out:
	aiops_buf_release(&config);
	aiops_buf_release(&manifest);
	return ret;
}

static json_t *
desc_json(const struct aiops_oci_desc *d)
{
	return json_pack("{s:s,s:s,s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
	    (json_int_t)d->size);
}

/* Add descriptor d (of a manifest with artifact type at) to the referrers tag
 * index of subject, creating it if missing. */
static int
referrers_tag_add(struct aiops_reg *r, const struct aiops_oci_desc *subject, const struct aiops_oci_desc *d,
    const char *at, struct aiops_error *e)
{
	struct aiops_buf body = AIOPS_BUF_INIT;
	struct aiops_oci_desc cur;
	char tag[80];
	json_t *idx = NULL, *mans, *ent;
	char *s = NULL;
	int ret;

	snprintf(tag, sizeof(tag), "sha256-%.64s", subject->digest + 7);
	ret = aiops_reg_manifest_get(r, NULL, tag, &body, &cur, e);
	if (ret == AIOPS_ERR_NOTFOUND)
		idx = json_pack("{s:i,s:s,s:[]}", "schemaVersion", 2, "mediaType", AIOPS_OCI_INDEX_TYPE,
		    "manifests");
	else if (ret != AIOPS_OK)
		goto out;
	else {
		idx = json_loadb(body.buf, body.len, 0, NULL);
		if (strcmp(cur.media_type, AIOPS_OCI_INDEX_TYPE) != 0 || !json_is_array(json_object_get(idx, "manifests"))) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s:%s: not a referrers index (%s)", r->repo, tag,
			    cur.media_type);
			goto out;
		}
	}
	if (idx == NULL) {
		ret = nomem(e);
		goto out;
	}
	ret = AIOPS_OK;
	mans = json_object_get(idx, "manifests");
	for (size_t i = 0; i < json_array_size(mans); i++) {
		const char *dg = json_string_value(json_object_get(json_array_get(mans, i), "digest"));
		if (dg && strcmp(dg, d->digest) == 0) {
			ret = AIOPS_OK;
			goto out;
		}
	}
	if ((ent = desc_json(d)) == NULL)
		ret = nomem(e);
	else if (json_object_set_new(ent, "artifactType", json_string(at)) != 0) {
		json_decref(ent);
		ret = nomem(e);
	} else if (json_array_append_new(mans, ent) != 0 || (s = json_dumps(idx, JSON_COMPACT)) == NULL)
		ret = nomem(e);
	if (ret != AIOPS_OK)
		goto out;
	ret = aiops_reg_manifest_put(r, tag, AIOPS_OCI_INDEX_TYPE, s, strlen(s), NULL, NULL, e);
	if (ret == AIOPS_OK)
		note(r->h, "%s: referrers tag %s updated (the registry has no referrers API)", r->repo, tag);
out:
	free(s);
	json_decref(idx);
	aiops_buf_release(&body);
	return ret;
}

int
aiops_reg_push_referrer(struct aiops_reg *r, const struct aiops_oci_desc *subject, const char *report,
    struct aiops_oci_desc *out, struct aiops_error *e)
{
	struct aiops_oci_desc rd, cd;
	json_error_t je;
	json_t *check, *m = NULL;
	const char *base = strrchr(report, '/');
	char *s = NULL;
	int ret, seen = 0;

	/* The report must be JSON: a referrer nobody can read helps nobody. */
	unsigned long nfail = aiops_alloc_failures();

	if ((check = json_load_file(report, 0, &je)) == NULL && aiops_nomem_since(nfail, e) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	if (check == NULL)
		return aiops_error_set(e, AIOPS_ERR_DATA, "%s:%d:%d: %s", report, je.line, je.column, je.text);
	json_decref(check);
	memset(&rd, 0, sizeof(rd));
	if ((ret = aiops_sha256_file(report, rd.digest, &rd.size, e)) != AIOPS_OK)
		return ret;
	snprintf(rd.media_type, sizeof(rd.media_type), "%s", AIOPS_REPORT_ARTIFACT_TYPE);
	snprintf(cd.media_type, sizeof(cd.media_type), "%s", AIOPS_OCI_EMPTY_TYPE);
	snprintf(cd.digest, sizeof(cd.digest), "%s", empty_json_digest);
	cd.size = 2;
	if ((ret = aiops_reg_blob_ensure(r, &cd, NULL, "{}", NULL, e)) != AIOPS_OK ||
	    (ret = aiops_reg_blob_ensure(r, &rd, report, NULL, NULL, e)) != AIOPS_OK)
		return ret;
	m = json_pack("{s:i,s:s,s:s,s:o,s:[o],s:o}", "schemaVersion", 2, "mediaType", AIOPS_OCI_MANIFEST_TYPE,
	    "artifactType", AIOPS_REPORT_ARTIFACT_TYPE, "config", desc_json(&cd), "layers", desc_json(&rd),
	    "subject", desc_json(subject));
	if (m == NULL || json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "annotations",
	    json_pack("{s:s}", AIOPS_OCI_ANN_TITLE, base ? base + 1 : report)) != 0 ||
	    (s = json_dumps(m, JSON_COMPACT)) == NULL) {
		ret = nomem(e);
		goto out;
	}
	{
		char dg[72];
		if ((ret = digest_mem(s, strlen(s), dg, e)) != AIOPS_OK)
			goto out;
		if ((ret = aiops_reg_manifest_put(r, dg, AIOPS_OCI_MANIFEST_TYPE, s, strlen(s), out, &seen, e))
		    != AIOPS_OK)
			goto out;
	}
	if (!seen)
		ret = referrers_tag_add(r, subject, out, AIOPS_REPORT_ARTIFACT_TYPE, e);
out:
	free(s);
	json_decref(m);
	return ret;
}

int
aiops_reg_pull_artifact(struct aiops_reg *r, const char *repo, const char *ref, int fd,
    struct aiops_oci_desc *manifest, struct aiops_error *e)
{
	struct aiops_buf body = AIOPS_BUF_INIT, config = AIOPS_BUF_INIT;
	struct aiops_oci_desc md, cd, ld;
	int ret;

	if ((ret = aiops_reg_manifest_get(r, repo, ref, &body, &md, e)) != AIOPS_OK)
		goto out;
	if (strcmp(md.media_type, AIOPS_OCI_MANIFEST_TYPE) != 0) {
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s:%s: media type %s, expected %s", repo ? repo : r->repo,
		    ref, md.media_type, AIOPS_OCI_MANIFEST_TYPE);
		goto out;
	}
	if ((ret = aiops_oci_manifest_parse(body.buf, body.len, &cd, &ld, e)) != AIOPS_OK) {
		aiops_error_prefix(e, "%s:%s", repo ? repo : r->repo, ref);
		goto out;
	}
	if (cd.size > MANIFEST_MAX) {
		ret = aiops_error_set(e, AIOPS_ERR_LIMIT, "config blob of %llu bytes: larger than %u",
		    (unsigned long long)cd.size, MANIFEST_MAX);
		goto out;
	}
	if ((ret = blob_get_mem(r, repo, &cd, &config, e)) != AIOPS_OK ||
	    (ret = aiops_reg_blob_get(r, repo, &ld, fd, e)) != AIOPS_OK)
		goto out;
	if (manifest)
		*manifest = md;
out:
	aiops_buf_release(&body);
	aiops_buf_release(&config);
	return ret;
}

/* Copy blob d from repository from into the handle's one through a temporary file. */
static int
copy_blob(struct aiops_reg *r, const char *from, const struct aiops_oci_desc *d, struct aiops_error *e)
{
	FILE *f = tmpfile();
	struct body b;
	int ret;

	if (f == NULL)
		return aiops_error_set(e, AIOPS_ERR_IO, "cannot make a temporary file: %s", strerror(errno));
	if ((ret = aiops_reg_blob_get(r, from, d, fileno(f), e)) == AIOPS_OK) {
		b.fd = fileno(f);
		b.mem = NULL;
		ret = put_blob(r, d, &b, e);
	}
	fclose(f);
	return ret;
}

int
aiops_reg_promote(struct aiops_reg *r, const char *src_repo, const char *src_ref, const char *dst_repo,
    const char *dst_tag, struct aiops_oci_desc *out, struct aiops_error *e)
{
	struct aiops_buf body = AIOPS_BUF_INIT;
	struct aiops_oci_desc md;
	char *saved = r->repo;
	json_t *j = NULL;
	int ret;

	if (src_repo == NULL)
		src_repo = r->repo;
	if (dst_repo == NULL)
		dst_repo = r->repo;
	if ((ret = aiops_reg_manifest_get(r, src_repo, src_ref, &body, &md, e)) != AIOPS_OK)
		goto out;
	r->repo = (char *)dst_repo;
	if (strcmp(src_repo, dst_repo) != 0) {
		json_t *layers;
		struct aiops_oci_desc d;
		if (strcmp(md.media_type, AIOPS_OCI_MANIFEST_TYPE) != 0 &&
		    strcmp(md.media_type, "application/vnd.docker.distribution.manifest.v2+json") != 0) {
			ret = aiops_error_set(e, AIOPS_ERR_USAGE,
			    "%s:%s: a %s is promoted within its repository only", src_repo, src_ref, md.media_type);
			goto out;
		}
		j = json_loadb(body.buf, body.len, 0, NULL);
		layers = json_object_get(j, "layers");
		for (size_t i = 0; i <= json_array_size(layers); i++) {
			json_t *dj = i == 0 ? json_object_get(j, "config") : json_array_get(layers, i - 1);
			int s;
			if ((ret = desc_from_json(dj, &d, "manifest", e)) != AIOPS_OK)
				goto out;
			if ((s = aiops_reg_blob_exists(r, NULL, d.digest, e)) < 0) {
				ret = s;
				goto out;
			}
			if (s)
				continue;
			if ((s = aiops_reg_blob_mount(r, d.digest, src_repo, e)) < 0) {
				ret = s;
				goto out;
			}
			if (s) {
				note(r->h, "%s: blob %s mounted from %s", dst_repo, d.digest, src_repo);
				continue;
			}
			note(r->h, "%s: the registry would not mount %s; copying it", dst_repo, d.digest);
			if ((ret = copy_blob(r, src_repo, &d, e)) != AIOPS_OK)
				goto out;
		}
	}
	ret = aiops_reg_manifest_put(r, dst_tag, md.media_type, body.buf, body.len, out, NULL, e);
out:
	r->repo = saved;
	json_decref(j);
	aiops_buf_release(&body);
	return ret;
}

/* ---- the OCI image layout ------------------------------------------------------------ */

/* Copy (or read into mem when fd < 0) the blob d of layout dir, checking its digest. */
static int
layout_blob(const char *dir, const struct aiops_oci_desc *d, int fd, struct aiops_buf *mem,
    struct aiops_error *e)
{
	struct aiops_buf path = AIOPS_BUF_INIT;
	struct aiops_sha256 h;
	unsigned char md[32], *buf = NULL;
	char got[72];
	uint64_t total = 0;
	int in = -1, ret, hashing = 0;

	if ((ret = aiops_oci_blob_path(dir, d->digest, &path, e)) != AIOPS_OK)
		goto out;
	if ((in = open(path.buf, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = aiops_error_set(e, errno == ENOENT ? AIOPS_ERR_NOTFOUND : AIOPS_ERR_IO, "%s: %s", path.buf,
		    strerror(errno));
		goto out;
	}
	if ((buf = aiops_malloc(1 << 20)) == NULL || aiops_sha256_init(&h) != AIOPS_OK) {
		ret = nomem(e);
		goto out;
	}
	hashing = 1;
	for (;;) {
		ssize_t n = read(in, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = aiops_error_set(e, AIOPS_ERR_IO, "%s: %s", path.buf, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > d->size) {
			ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: larger than the %llu bytes of its descriptor",
			    path.buf, (unsigned long long)d->size);
			goto out;
		}
		aiops_sha256_update(&h, buf, (size_t)n);
		if (fd >= 0) {
			for (ssize_t done = 0; done < n; ) {
				ssize_t w = write(fd, buf + done, (size_t)(n - done));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					ret = aiops_error_set(e, AIOPS_ERR_IO, "cannot write the download: %s", strerror(errno));
					goto out;
				}
				done += w;
			}
		} else if (aiops_buf_add(mem, buf, (size_t)n) != AIOPS_OK) {
			ret = nomem(e);
			goto out;
		}
	}
	hashing = 0;
	aiops_sha256_final(&h, md);
	memcpy(got, "sha256:", 7);
	aiops_hex(md, 32, got + 7);
	if (total != d->size || strcmp(got, d->digest) != 0)
		ret = aiops_error_set(e, AIOPS_ERR_FORMAT, "%s: the bytes have digest %s (%llu bytes), expected %s",
		    path.buf, got, (unsigned long long)total, d->digest);
out:
	if (hashing)
		aiops_sha256_release(&h);
	if (in >= 0)
		close(in);
	aiops_free(buf);
	aiops_buf_release(&path);
	return ret;
}

int
aiops_layout_pull_artifact(const char *dir, const char *tag, int fd, struct aiops_oci_desc *manifest,
    struct aiops_error *e)
{
	struct aiops_buf body = AIOPS_BUF_INIT;
	struct aiops_oci_desc md, cd, ld;
	int ret;

	if ((ret = aiops_oci_layout_resolve(dir, tag, &md, e)) != AIOPS_OK)
		goto out;
	if (md.size > MANIFEST_MAX) {
		ret = aiops_error_set(e, AIOPS_ERR_LIMIT, "%s:%s: a manifest of %llu bytes", dir, tag,
		    (unsigned long long)md.size);
		goto out;
	}
	if ((ret = layout_blob(dir, &md, -1, &body, e)) != AIOPS_OK)
		goto out;
	if ((ret = aiops_oci_manifest_parse(body.buf, body.len, &cd, &ld, e)) != AIOPS_OK) {
		aiops_error_prefix(e, "%s:%s", dir, tag);
		goto out;
	}
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) < 0) {
		ret = aiops_error_set(e, AIOPS_ERR_IO, "cannot truncate the artifact: %s", strerror(errno));
		goto out;
	}
	if ((ret = layout_blob(dir, &ld, fd, NULL, e)) != AIOPS_OK)
		goto out;
	if (manifest)
		*manifest = md;
out:
	aiops_buf_release(&body);
	return ret;
}
