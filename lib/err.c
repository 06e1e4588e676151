/* err.c - error values and their messages. */
#include <stdio.h>
#include <string.h>

#include "base.h"

int
aiops_error_set(struct aiops_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
aiops_error_prefix(struct aiops_error *e, const char *fmt, ...)
{
	char pre[256], old[sizeof(e->msg) - 256];
	va_list ap;

	if (e == NULL)
		return AIOPS_ERR_IO;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old) - 1);
	old[sizeof(old) - 1] = '\0';
	snprintf(e->msg, sizeof(e->msg), "%.255s: %.760s", pre, old);
	return e->code;
}

const char *
aiops_strerror(int code)
{
	switch (code) {
	case AIOPS_OK:           return "success";
	case AIOPS_ERR_NOMEM:    return "out of memory";
	case AIOPS_ERR_IO:       return "input/output error";
	case AIOPS_ERR_DATA:     return "malformed data";
	case AIOPS_ERR_FORMAT:   return "bad file format";
	case AIOPS_ERR_VERSION:  return "unsupported format version";
	case AIOPS_ERR_NET:      return "network error";
	case AIOPS_ERR_USAGE:    return "bad argument";
	case AIOPS_ERR_NOTFOUND: return "not found";
	case AIOPS_ERR_LIMIT:    return "limit exceeded";
	}
	return "unknown error";
}

int
aiops_exit_status(int code)
{
	if (code == AIOPS_OK)
		return 0;
	if (code == AIOPS_ERR_USAGE)
		return 2;
	return 1;
}

const char *
aiops_excerpt(const char *s, size_t n, size_t max, char *buf, size_t bsz)
{
	size_t k = 0;

	for (size_t i = 0; i < n && i < max && k + 5 < bsz; i++)
		buf[k++] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	if (n > k && k + 4 < bsz) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}
