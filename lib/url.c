/*
 * url.c - http(s) URLs for aiops_src (a streaming GET through the curl
 * multi interface) and a whole-reply GET. Only the commands that read URLs
 * call aiops_src_enable_urls(), so only they load libcurl.
 */
#include <string.h>

#include <curl/curl.h>

#include "source.h"

/* One URL being read: curl fills cbuf, url_read() hands it out. */
struct url {
	char *spec;
	CURL *curl;
	CURLM *multi;
	struct aiops_buf cbuf;
	size_t cpos;
	int url_done;
	char curl_err[CURL_ERROR_SIZE];
};

static int curl_ready;

int
aiops_net_init(struct aiops_error *e)
{
	if (curl_ready)
		return AIOPS_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return aiops_error_set(e, AIOPS_ERR_NET, "cannot initialise libcurl");
	curl_ready = 1;
	return AIOPS_OK;
}

void
aiops_net_cleanup(void)
{
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = 0;
}

static size_t
curl_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct url *s = ud;
	size_t n = size * nmemb;

	if (s->cpos > 0 && s->cpos == s->cbuf.len) {
		s->cbuf.len = 0;
		s->cpos = 0;
	}
	if (aiops_buf_add(&s->cbuf, p, n) != AIOPS_OK)
		return 0;
	return n;
}

static ssize_t
url_read(void *h, void *buf, size_t n, struct aiops_error *e)
{
	struct url *s = h;

	while (s->cpos == s->cbuf.len && !s->url_done) {
		int numfds, still;
		CURLMcode mc;
		CURLMsg *msg;
		int left;

		s->cbuf.len = s->cpos = 0;
		mc = curl_multi_perform(s->multi, &still);
		if (mc != CURLM_OK)
			return aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", s->spec,
			    curl_multi_strerror(mc));
		while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			s->url_done = 1;
			if (msg->data.result != CURLE_OK) {
				long status = 0;
				curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
				if (msg->data.result == CURLE_HTTP_RETURNED_ERROR)
					return aiops_error_set(e, AIOPS_ERR_NET, "%s: HTTP %ld",
					    s->spec, status);
				return aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", s->spec,
				    s->curl_err[0] ? s->curl_err :
				    curl_easy_strerror(msg->data.result));
			}
		}
		if (s->cpos < s->cbuf.len || s->url_done)
			break;
		if (curl_multi_poll(s->multi, NULL, 0, 1000, &numfds) != CURLM_OK)
			return aiops_error_set(e, AIOPS_ERR_NET, "%s: poll failed", s->spec);
	}
	if (s->cpos < s->cbuf.len) {
		size_t k = s->cbuf.len - s->cpos;
		if (k > n)
			k = n;
		memcpy(buf, s->cbuf.buf + s->cpos, k);
		s->cpos += k;
		return (ssize_t)k;
	}
	return 0;
}

static void
url_close(void *h)
{
	struct url *s = h;

	if (s->multi) {
		if (s->curl)
			curl_multi_remove_handle(s->multi, s->curl);
		curl_multi_cleanup(s->multi);
	}
	if (s->curl)
		curl_easy_cleanup(s->curl);
	aiops_buf_release(&s->cbuf);
	aiops_free(s->spec);
	aiops_free(s);
}

static int
url_open(void **hp, const char *url, struct aiops_error *e)
{
	struct url *s;
	int r;

	*hp = NULL;
	if ((r = aiops_net_init(e)) != AIOPS_OK)
		return r;
	if ((s = aiops_calloc(1, sizeof(*s))) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	*hp = s;   /* the caller closes it, on failure too */
	if ((s->spec = aiops_strdup(url)) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	if ((s->curl = curl_easy_init()) == NULL || (s->multi = curl_multi_init()) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(s->curl, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(s->curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "aiops/" AIOPS_VERSION);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->curl_err);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, curl_write_cb);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	if (curl_multi_add_handle(s->multi, s->curl) != CURLM_OK)
		return aiops_error_set(e, AIOPS_ERR_NET, "%s: cannot start transfer", url);
	return AIOPS_OK;
}


static const struct aiops_url_ops curl_ops = { url_open, url_read, url_close };

void
aiops_src_enable_urls(void)
{
	aiops_src_set_url_ops(&curl_ops);
}

/* ---- simple GET --------------------------------------------------------- */

#define HTTP_GET_MAX (256u << 20)

/* Where aiops_http_get() keeps a reply, and why it stopped keeping it. */
struct get_sink {
	struct aiops_buf *b;
	int limit, oom;
};

static size_t
body_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct get_sink *k = ud;
	size_t n = size * nmemb;

	if (k->b->len + n > HTTP_GET_MAX) {
		k->limit = 1; /* a reply that never ends is cut off */
		return 0;
	}
	if (aiops_buf_add(k->b, p, n) != AIOPS_OK) {
		k->oom = 1;
		return 0;
	}
	return n;
}

int
aiops_http_get(const char *url, struct aiops_buf *body, long *status,
    struct aiops_error *e)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct get_sink sink = { body, 0, 0 };
	CURL *c;
	CURLcode cr;
	int r;

	*status = 0;
	if ((r = aiops_net_init(e)) != AIOPS_OK)
		return r;
	if ((c = curl_easy_init()) == NULL)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "aiops/" AIOPS_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cr = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (sink.limit)
		return aiops_error_set(e, AIOPS_ERR_LIMIT, "%s: the reply is larger than %u MiB", url,
		    HTTP_GET_MAX >> 20);
	if (sink.oom)
		return aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
	if (cr != CURLE_OK)
		return aiops_error_set(e, AIOPS_ERR_NET, "%s: %s", url,
		    errbuf[0] ? errbuf : curl_easy_strerror(cr));
	return AIOPS_OK;
}
