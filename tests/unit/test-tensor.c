/* test-tensor.c - the tensor format: round trip, and every corruption caught. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"

static char dir[] = "/tmp/aiops-unit-XXXXXX";

/* Write a tensor of n rows to path; returns its bytes in *buf (malloc'd). */
static size_t
make(const char *path, size_t n, int dtype, unsigned char **buf)
{
	struct aiops_tensor_info ti;
	struct aiops_out out;
	struct aiops_twriter w;
	struct aiops_error e;
	char *names[] = { "cpu", "mem", "disk io" };
	FILE *f;
	long sz;

	aiops_tinfo_init(&ti);
	aiops_tinfo_set_names(&ti, names, 3);
	ti.dtype = dtype;
	ti.has_ts = 1;
	ti.has_labels = 1;
	json_object_set_new(ti.meta, "split", json_string("train"));
	aiops_out_open(&out, path, &e);
	aiops_twriter_open(&w, &out, &ti, &e);
	for (size_t i = 0; i < n; i++) {
		double v[3] = { (double)i * 0.5, i % 7 == 0 ? NAN : -(double)i, 1e-300 * (double)i };
		aiops_twriter_row(&w, 1700000000000LL + 60000 * (int64_t)i, v, (int)(i % 3 == 0), &e);
	}
	aiops_twriter_finish(&w, &e);
	aiops_twriter_release(&w);
	aiops_out_commit(&out, &e);
	aiops_tinfo_release(&ti);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	*buf = malloc((size_t)sz);
	if (fread(*buf, 1, (size_t)sz, f) != (size_t)sz)
		sz = 0;
	fclose(f);
	return (size_t)sz;
}

/* Read all rows from memory; returns the error code (AIOPS_OK) and fills e. */
static int
read_mem(const unsigned char *p, size_t n, struct aiops_error *e, size_t *rows)
{
	struct aiops_src *s;
	struct aiops_treader r;
	double v[3];
	int k;

	*rows = 0;
	aiops_src_open_mem(&s, p, n, "mem", e);
	if ((k = aiops_treader_open(&r, s, e)) == AIOPS_OK) {
		while ((k = aiops_treader_next(&r, NULL, v, NULL, e)) == 1)
			++*rows;
	}
	aiops_treader_release(&r);
	aiops_src_close(s);
	return k;
}

int
main(void)
{
	struct aiops_tensor t;
	struct aiops_error e;
	unsigned char *buf, *cp;
	char path[256];
	size_t n, rows;
	int bad = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/a.tensor", dir);
	n = make(path, 70000, AIOPS_F64, &buf);   /* more than one block */
	ok(n > 0, "wrote a tensor");
	ok(memcmp(buf, "\x89" "AITNS\r\n", 8) == 0, "magic");
	is_int(buf[8] | buf[9] << 8, 1, "version 1 little-endian");
	ok(aiops_tensor_load(&t, path, &e) == AIOPS_OK, "load with mmap");
	is_int((long long)t.nrows, 70000, "row count");
	is_int((long long)t.info.ncols, 3, "columns");
	is_str(t.info.names[2], "disk io", "a name with a space");
	is_str(json_string_value(json_object_get(t.info.meta, "split")), "train", "metadata kept");
	for (size_t i = 0; i < t.nrows; i++) {
		double *x = t.x + 3 * i;
		if (x[0] != (double)i * 0.5 || (i % 7 == 0 ? !isnan(x[1]) : x[1] != -(double)i) ||
		    x[2] != 1e-300 * (double)i || t.ts[i] != 1700000000000LL + 60000 * (int64_t)i ||
		    t.y[i] != (i % 3 == 0))
			bad++;
	}
	is_int(bad, 0, "every value, timestamp and label read back exactly");
	aiops_tensor_release(&t);

	ok(read_mem(buf, n, &e, &rows) == AIOPS_OK && rows == 70000, "stream read");
	/* truncation at many points */
	bad = 0;
	for (size_t cut = 0; cut < n; cut += n / 97 + 1)
		if (read_mem(buf, cut, &e, &rows) != AIOPS_ERR_FORMAT)
			bad++;
	is_int(bad, 0, "every truncation is a format error");
	ok(read_mem(buf, n - 1, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "truncated"),
	    "one byte short says truncated: %s", e.msg);
	/* a flipped bit in each region */
	cp = malloc(n + 1);
	memcpy(cp, buf, n);
	cp[n / 2] ^= 0x10;
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "checksum mismatch in block"),
	    "flipped payload bit: %s", e.msg);
	memcpy(cp, buf, n);
	cp[21] ^= 1;
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT, "flipped header bit: %s", e.msg);
	memcpy(cp, buf, n);
	cp[0] = 'X';
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "bad magic"), "bad magic");
	memcpy(cp, buf, n);
	cp[8] = 2;
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_VERSION && strstr(e.msg, "newer"),
	    "newer version refused: %s", e.msg);
	memcpy(cp, buf, n);
	cp[n] = 0;
	ok(read_mem(cp, n + 1, &e, &rows) == AIOPS_ERR_FORMAT && strstr(e.msg, "after the end"),
	    "trailing byte: %s", e.msg);
	memcpy(cp, buf, n);
	cp[n - 10] ^= 1;  /* the row count in the trailer */
	ok(read_mem(cp, n, &e, &rows) == AIOPS_ERR_FORMAT, "trailer tampered: %s", e.msg);
	free(cp);
	free(buf);

	/* float32 */
	snprintf(path, sizeof(path), "%s/b.tensor", dir);
	n = make(path, 10, AIOPS_F32, &buf);
	ok(aiops_tensor_load(&t, path, &e) == AIOPS_OK && t.info.dtype == AIOPS_F32, "float32 load");
	is_double(t.x[3 * 9 + 0], 4.5, 0, "float32 value");
	aiops_tensor_release(&t);
	free(buf);

	/* a loaded file whose trailer claims more rows than it holds: the count is
	 * only a hint for reserving, and the mismatch is still a format error */
	{
		FILE *fp;
		snprintf(path, sizeof(path), "%s/t.tensor", dir);
		n = make(path, 10, AIOPS_F64, &buf);
		aiops_put_u64(buf + n - 12, 150);
		fp = fopen(path, "wb");
		fwrite(buf, 1, n, fp);
		fclose(fp);
		ok(aiops_tensor_load(&t, path, &e) == AIOPS_ERR_FORMAT, "tampered row count on load: %s",
		    e.msg);
		free(buf);
	}

	/* zero rows */
	snprintf(path, sizeof(path), "%s/c.tensor", dir);
	n = make(path, 0, AIOPS_F64, &buf);
	ok(aiops_tensor_load(&t, path, &e) == AIOPS_OK && t.nrows == 0, "empty tensor loads");
	aiops_tensor_release(&t);
	free(buf);

	/* an aborted output leaves nothing */
	{
		struct aiops_out out;
		snprintf(path, sizeof(path), "%s/d.tensor", dir);
		aiops_out_open(&out, path, &e);
		aiops_out_write(&out, "xyz", 3, &e);
		aiops_out_abort(&out);
		ok(access(path, F_OK) != 0, "aborted output does not exist");
	}
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("cleanup failed");
	}
	return done_testing();
}
