/* sha256.c - SHA-256 through OpenSSL's EVP interface. */
#include <errno.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base.h"

int
aiops_sha256_init(struct aiops_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	h->ctx = c;
	if (c == NULL)
		return AIOPS_ERR_NOMEM;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		aiops_sha256_release(h);
		return AIOPS_ERR_NOMEM;
	}
	return AIOPS_OK;
}

int
aiops_sha256_update(struct aiops_sha256 *h, const void *p, size_t n)
{
	return EVP_DigestUpdate(h->ctx, p, n) == 1 ? AIOPS_OK : AIOPS_ERR_NOMEM;
}

int
aiops_sha256_final(struct aiops_sha256 *h, unsigned char out[32])
{
	unsigned int n = 32;
	int r = EVP_DigestFinal_ex(h->ctx, out, &n) == 1 ? AIOPS_OK : AIOPS_ERR_NOMEM;

	aiops_sha256_release(h);
	return r;
}

void
aiops_sha256_release(struct aiops_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void
aiops_hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
aiops_sha256_fd(int fd, void *buf, size_t bufsz, unsigned char out[32], uint64_t *size)
{
	struct aiops_sha256 h;
	uint64_t total = 0;
	ssize_t k;
	int err;

	if (aiops_sha256_init(&h) != AIOPS_OK)
		return AIOPS_ERR_NOMEM;
	for (;;) {
		k = read(fd, buf, bufsz);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		aiops_sha256_update(&h, buf, (size_t)k);
		total += (uint64_t)k;
	}
	if (k < 0) {
		err = errno;
		aiops_sha256_release(&h);
		errno = err;
		return AIOPS_ERR_IO;
	}
	if (size)
		*size = total;
	return aiops_sha256_final(&h, out);
}
