/* prom.c - the Prometheus HTTP API's query_range, pivoted into columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "parse.h"
#include "series.h"
#include "source.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* name{k=v,...} with labels sorted; __name__ outside the braces. */
static int
series_name(json_t *metric, struct aiops_buf *b)
{
	const char *keys[256], *k;
	json_t *v;
	size_t n = 0;
	int r = AIOPS_OK;

	aiops_buf_reset(b);
	if (json_is_string(json_object_get(metric, "__name__")))
		r |= aiops_buf_addstr(b, json_string_value(json_object_get(metric, "__name__")));
	json_object_foreach(metric, k, v) {
		if (strcmp(k, "__name__") != 0 && n < 256)
			keys[n++] = k;
	}
	qsort(keys, n, sizeof(keys[0]), cmp_str);
	if (n > 0) {
		r |= aiops_buf_addch(b, '{');
		for (size_t i = 0; i < n; i++) {
			const char *val = json_string_value(json_object_get(metric, keys[i]));
			r |= aiops_buf_addf(b, "%s%s=%s", i ? "," : "", keys[i], val ? val : "");
		}
		r |= aiops_buf_addch(b, '}');
	}
	if (b->len == 0)
		r |= aiops_buf_addstr(b, "{}");
	return r ? AIOPS_ERR_NOMEM : AIOPS_OK;
}

int
aiops_prom_query_range(struct aiops_pivot *p, const char *base, const char *query,
    int64_t start_ms, int64_t end_ms, int64_t step_ms, struct aiops_error *e)
{
	struct aiops_buf url = AIOPS_BUF_INIT, body = AIOPS_BUF_INIT, name = AIOPS_BUF_INIT;
	json_t *root = NULL, *data, *result;
	json_error_t je;
	unsigned long nfail;
	char *q = NULL;
	size_t blen = strlen(base), i;
	long status;
	int r;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if ((q = curl_easy_escape(NULL, query, 0)) == NULL) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (aiops_buf_add(&url, base, blen) ||
	    aiops_buf_addf(&url, "/api/v1/query_range?query=%s&start=%.3f&end=%.3f&step=%.3f", q,
	    (double)start_ms / 1000, (double)end_ms / 1000, (double)step_ms / 1000)) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = aiops_http_get(url.buf, &body, &status, e)) != AIOPS_OK)
		goto out;
	nfail = aiops_alloc_failures();
	root = json_loadb(body.buf ? body.buf : "", body.len, 0, &je);
	if (root == NULL && (r = aiops_nomem_since(nfail, e)) != AIOPS_OK)
		goto out;
	if (status >= 400 || root == NULL) {
		const char *et = root ? json_string_value(json_object_get(root, "errorType")) : NULL;
		const char *er = root ? json_string_value(json_object_get(root, "error")) : NULL;
		if (status >= 400)
			r = aiops_error_set(e, AIOPS_ERR_NET, "%s: HTTP %ld%s%s%s%s", url.buf, status,
			    et ? ": " : "", et ? et : "", er ? ": " : "", er ? er : "");
		else
			r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: reply is not JSON: line %d: %s",
			    url.buf, je.line, je.text);
		goto out;
	}
	if (!json_is_string(json_object_get(root, "status")) ||
	    strcmp(json_string_value(json_object_get(root, "status")), "success") != 0) {
		const char *er = json_string_value(json_object_get(root, "error"));
		r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: query failed: %s", url.buf,
		    er ? er : "status is not success");
		goto out;
	}
	data = json_object_get(root, "data");
	result = json_object_get(data, "result");
	if (!json_is_array(result) || !json_is_string(json_object_get(data, "resultType")) ||
	    strcmp(json_string_value(json_object_get(data, "resultType")), "matrix") != 0) {
		r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: expected a matrix result", url.buf);
		goto out;
	}
	for (i = 0; i < json_array_size(result); i++) {
		json_t *ser = json_array_get(result, i), *vals = json_object_get(ser, "values");
		if (!json_is_array(vals) || !json_is_object(json_object_get(ser, "metric"))) {
			r = aiops_error_set(e, AIOPS_ERR_DATA, "%s: result %zu: expected metric and values",
			    url.buf, i);
			goto out;
		}
		if (series_name(json_object_get(ser, "metric"), &name) != AIOPS_OK) {
			r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (size_t j = 0; j < json_array_size(vals); j++) {
			json_t *pt = json_array_get(vals, j);
			const char *vs = json_string_value(json_array_get(pt, 1));
			double t = json_number_value(json_array_get(pt, 0)), v;
			if (!json_is_number(json_array_get(pt, 0)) || vs == NULL ||
			    aiops_parse_double(vs, strlen(vs), &v) != 0) {
				r = aiops_error_set(e, AIOPS_ERR_DATA,
				    "%s: series %s: sample %zu: expected [time, \"value\"]", url.buf,
				    name.buf, j);
				goto out;
			}
			if ((r = aiops_pivot_add(p, name.buf, (int64_t)llround(t * 1000), v)) != AIOPS_OK) {
				r = aiops_error_set(e, r, r == AIOPS_ERR_LIMIT ? "%s: too many series" :
				    "out of memory", url.buf);
				goto out;
			}
		}
	}
	r = AIOPS_OK;
out:
	json_decref(root);
	curl_free(q);
	aiops_buf_release(&url);
	aiops_buf_release(&body);
	aiops_buf_release(&name);
	return r;
}
