/* test-artifact.c - the artifact and OCI library: names, pack, verify, list, extract, the
 * layout, and the torture mode (every failing allocation is a clean error, never a crash). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiops.h"
#include "artifact.h"
#include "oci.h"
#include "tap.h"

static char dir[] = "/tmp/aiops-artifact-XXXXXX";

static const char *
at(const char *name)
{
	static char p[8][512];
	static int k;

	k = (k + 1) % 8;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static int
put(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	fputs(s, f);
	return fclose(f);
}

/* The whole file at path into *b (reset first); 0 or -1. */
static int
slurp(const char *path, struct aiops_buf *b)
{
	char tmp[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	aiops_buf_reset(b);
	if (f == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		aiops_buf_add(b, tmp, n);
	fclose(f);
	return 0;
}

static int
pack_to(const char *path, const struct aiops_pack_opts *o, struct aiops_error *e)
{
	struct aiops_out out;
	int r = aiops_out_open(&out, path, e);

	if (r != AIOPS_OK)
		return r;
	if ((r = aiops_artifact_pack(o, &out, e)) == AIOPS_OK)
		return aiops_out_commit(&out, e);
	aiops_out_abort(&out);
	return r;
}

static void
opts(struct aiops_pack_opts *o, int jobs)
{
	static const char *files[1];

	files[0] = at("README.md");
	memset(o, 0, sizeof(*o));
	o->model = at("m.model");
	o->report = at("eval.json");
	o->files = files;
	o->nfiles = 1;
	o->version = "1.0";
	o->created = -1;
	o->level = -1;
	o->jobs = jobs;
}

/* A zscore model of two columns with a fingerprint and a time, as aiops-train writes. */
static int
make_model(const char *path)
{
	char *names[] = { "a", "b" };
	struct aiops_params p = { 0 };
	struct aiops_model m;
	struct aiops_error e;
	struct aiops_out out;
	struct aiops_rng rng;
	double x[200];
	int r;

	aiops_rng_seed(&rng, 1);
	for (int i = 0; i < 200; i++)
		x[i] = aiops_rng_normal(&rng);
	if (aiops_model_init(&m, aiops_family_find("zscore"), &p, names, 2) != AIOPS_OK)
		return -1;
	r = aiops_model_fit(&m, x, 100, &e);
	json_object_set_new(m.meta, "train", json_pack("{s:s,s:i}", "sha256",
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "rows", 100));
	json_object_set_new(m.meta, "provenance", json_pack("{s:s,s:i}", "tool", "test", "created",
	    1700000000));
	if (r == AIOPS_OK && (r = aiops_out_open(&out, path, &e)) == AIOPS_OK) {
		if ((r = aiops_model_write(&m, &out, &e)) == AIOPS_OK)
			r = aiops_out_commit(&out, &e);
		else
			aiops_out_abort(&out);
	}
	aiops_model_release(&m);
	return r == AIOPS_OK ? 0 : -1;
}

static int
count_member(void *ud, const char *name, uint64_t size, const char *sha256, const char *role)
{
	char *seen = ud;

	(void)size;
	(void)sha256;
	strcat(seen, role ? role : "?");
	strcat(seen, ":");
	strcat(seen, name);
	strcat(seen, " ");
	return 0;
}

/* Run by the torture loop in a child with AIOPS_FAIL_ALLOC set: every call must either
 * succeed or fail with a message; 0 when all succeeded. Leaks are the sanitizer's to find. */
static int
torture_child(void)
{
	struct aiops_pack_opts o;
	struct aiops_error e;
	struct aiops_artifact a;
	struct aiops_oci_desc d;
	char *model = NULL;
	int bad = 0;

	aiops_alloc_init();
	opts(&o, 2);
	if (pack_to(at("t.tar.gz"), &o, &e) != AIOPS_OK)
		return 1;
	if (aiops_artifact_verify(at("t.tar.gz"), &a, &e) == AIOPS_OK)
		aiops_artifact_release(&a);
	else
		bad = 1;
	if (aiops_artifact_extract(at("t.tar.gz"), at("tx"), &model, &e) != AIOPS_OK)
		bad = 1;
	aiops_free(model);
	if (aiops_oci_layout_add(at("toci"), at("t.tar.gz"), "t", &e) != AIOPS_OK ||
	    aiops_oci_layout_resolve(at("toci"), "t", &d, &e) != AIOPS_OK)
		bad = 1;
	return bad;
}

int
main(int argc, char *argv[])
{
	struct aiops_error e;
	struct aiops_pack_opts o;
	struct aiops_artifact a;
	struct aiops_buf b1 = AIOPS_BUF_INIT, b2 = AIOPS_BUF_INIT;
	char digest[72];
	uint64_t size;

	if (argc == 3 && strcmp(argv[1], "--torture") == 0) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		return torture_child();
	}
	aiops_alloc_init();
	if (mkdtemp(dir) == NULL)
		return 1;

	/* names, tags, times */
	ok(aiops_artifact_name_valid("cpu") && aiops_artifact_name_valid("web_api.v2+b-1") &&
	    aiops_artifact_name_valid("_x"), "valid names");
	ok(!aiops_artifact_name_valid("") && !aiops_artifact_name_valid(".x") &&
	    !aiops_artifact_name_valid("-x") && !aiops_artifact_name_valid("a/b") &&
	    !aiops_artifact_name_valid("a b") && !aiops_artifact_name_valid(NULL), "invalid names");
	ok(aiops_artifact_member_name_valid("README.md") &&
	    !aiops_artifact_member_name_valid("manifest.json") &&
	    !aiops_artifact_member_name_valid(".."), "member names");
	ok(aiops_oci_tag_valid("1.2.0") && aiops_oci_tag_valid("latest") && aiops_oci_tag_valid("_a"),
	    "valid tags");
	ok(!aiops_oci_tag_valid("1.0+b") && !aiops_oci_tag_valid(".a") && !aiops_oci_tag_valid("-a") &&
	    !aiops_oci_tag_valid("") && !aiops_oci_tag_valid(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    "invalid tags (a '+', a leading '.' or '-', empty, 129 bytes)");
	{
		char t[21];
		aiops_rfc3339(0, t);
		is_str(t, "1970-01-01T00:00:00Z", "RFC 3339 of 0");
		aiops_rfc3339(1700000000, t);
		is_str(t, "2023-11-14T22:13:20Z", "RFC 3339 of 1700000000");
	}
	{
		struct aiops_buf n = AIOPS_BUF_INIT;
		ok(aiops_artifact_default_name("/x/cpu.model.gz", &n, &e) == AIOPS_OK &&
		    strcmp(n.buf, "cpu") == 0, "default name of cpu.model.gz: %s", n.buf ? n.buf : "");
		ok(aiops_artifact_default_name("a b.model", &n, &e) == AIOPS_ERR_USAGE,
		    "no default name of \"a b.model\": %s", e.msg);
		aiops_buf_release(&n);
	}
	/* the SHA-256 of "abc" (FIPS 180-4, appendix B.1) */
	put(at("abc"), "abc");
	ok(aiops_sha256_file(at("abc"), digest, &size, &e) == AIOPS_OK && size == 3,
	    "sha256 of a file");
	is_str(digest, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "sha256 of \"abc\"");
	ok(aiops_sha256_file(at("nope"), digest, &size, &e) == AIOPS_ERR_NOTFOUND, "missing file");
	{
		struct aiops_buf p = AIOPS_BUF_INIT;
		ok(aiops_oci_blob_path("d", digest, &p, &e) == AIOPS_OK &&
		    strcmp(p.buf, "d/blobs/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
		    "blob path");
		ok(aiops_oci_blob_path("d", "sha256:xyz", &p, &e) == AIOPS_ERR_USAGE, "bad digest refused");
		aiops_buf_release(&p);
	}

	/* pack, the same bytes whatever the threads */
	ok(make_model(at("m.model")) == 0, "a model");
	put(at("eval.json"), "{\"metrics\": {\"f1\": 0.5}}\n");
	put(at("README.md"), "readme\n");
	opts(&o, 1);
	ok(pack_to(at("a1.tar.gz"), &o, &e) == AIOPS_OK, "pack, 1 thread: %s", e.msg);
	opts(&o, 4);
	ok(pack_to(at("a4.tar.gz"), &o, &e) == AIOPS_OK, "pack, 4 threads: %s", e.msg);
	slurp(at("a1.tar.gz"), &b1);
	slurp(at("a4.tar.gz"), &b2);
	ok(b1.len > 0 && b1.len == b2.len && memcmp(b1.buf, b2.buf, b1.len) == 0,
	    "the same bytes with 1 and 4 threads");
	ok(b1.len > 10 && (unsigned char)b1.buf[0] == 0x1f && (unsigned char)b1.buf[1] == 0x8b &&
	    b1.buf[3] == 0 && memcmp(b1.buf + 4, "\0\0\0\0", 4) == 0 &&
	    (unsigned char)b1.buf[9] == 255, "gzip header: no flags, time 0, OS 255");
	opts(&o, 1);
	o.version = NULL;
	ok(pack_to(at("x.tar.gz"), &o, &e) == AIOPS_ERR_USAGE, "no version: %s", e.msg);
	opts(&o, 1);
	o.level = 10;
	ok(pack_to(at("x.tar.gz"), &o, &e) == AIOPS_ERR_USAGE, "level 10: %s", e.msg);
	ok(access(at("x.tar.gz"), F_OK) != 0, "no output after failures");

	/* verify and open */
	ok(aiops_artifact_verify(at("a1.tar.gz"), &a, &e) == AIOPS_OK, "verify: %s", e.msg);
	is_str(a.name, "m", "name from the model file");
	is_str(a.version, "1.0", "version");
	is_str(a.created, "2023-11-14T22:13:20Z", "created from the model's provenance");
	is_str(a.family, "zscore", "family");
	is_str(a.model, "m.model", "model member");
	is_int(a.nfiles, 3, "three files");
	is_str(a.files[0].name, "README.md", "files sorted by name");
	is_str(a.files[1].role, "report", "the report's role");
	aiops_artifact_release(&a);
	ok(aiops_artifact_verify(at("a1.tar.gz"), NULL, &e) == AIOPS_OK, "verify without a result");
	ok(aiops_artifact_verify(at("m.model"), NULL, &e) == AIOPS_ERR_FORMAT && strstr(e.msg,
	    "not gzip-compressed"), "a model is not an artifact: %s", e.msg);
	{
		char seen[512] = "";
		ok(aiops_artifact_list(at("a1.tar.gz"), count_member, seen, &e) == AIOPS_OK, "list");
		is_str(seen, "manifest:manifest.json file:README.md report:eval.json model:m.model ",
		    "list: members in order with their roles");
	}

	/* OCI: describe agrees with the manifest, the layout holds two tags */
	{
		struct aiops_buf cfg = AIOPS_BUF_INIT, man = AIOPS_BUF_INIT;
		struct aiops_oci_desc cd, ld, md, r1, r2;
		ok(aiops_artifact_open(&a, at("a1.tar.gz"), &e) == AIOPS_OK, "open: %s", e.msg);
		ok(aiops_oci_describe(at("a1.tar.gz"), &cfg, &cd, &ld, &man, &md, &e) == AIOPS_OK,
		    "describe: %s", e.msg);
		ok(cfg.len == a.raw.len && memcmp(cfg.buf, a.raw.buf, cfg.len) == 0,
		    "the config is manifest.json's bytes");
		aiops_sha256_file(at("a1.tar.gz"), digest, &size, &e);
		ok(strcmp(ld.digest, digest) == 0 && ld.size == size, "the layer is the artifact");
		is_str(md.media_type, AIOPS_OCI_MANIFEST_TYPE, "manifest media type");
		is_str(cd.media_type, AIOPS_OCI_CONFIG_TYPE, "config media type");
		is_str(ld.media_type, AIOPS_OCI_LAYER_TYPE, "layer media type");
		ok(man.buf && strstr(man.buf, "\"org.opencontainers.image.title\":\"a1.tar.gz\"") &&
		    strstr(man.buf, "\"artifactType\":\"application/vnd.aiops.model.v1\""),
		    "title and artifactType in the manifest");
		ok(aiops_oci_layout_add(at("oci"), at("a1.tar.gz"), NULL, &e) == AIOPS_OK,
		    "layout, tag from the version: %s", e.msg);
		ok(aiops_oci_layout_add(at("oci"), at("a1.tar.gz"), "latest", &e) == AIOPS_OK,
		    "layout, a second tag: %s", e.msg);
		ok(aiops_oci_layout_resolve(at("oci"), "1.0", &r1, &e) == AIOPS_OK &&
		    aiops_oci_layout_resolve(at("oci"), "latest", &r2, &e) == AIOPS_OK, "both tags resolve");
		ok(strcmp(r1.digest, md.digest) == 0 && r1.size == md.size &&
		    strcmp(r2.digest, md.digest) == 0, "to the described manifest");
		ok(aiops_oci_layout_resolve(at("oci"), "nope", &r1, &e) == AIOPS_ERR_NOTFOUND,
		    "a missing tag: %s", e.msg);
		ok(aiops_oci_layout_add(at("oci"), at("a1.tar.gz"), "a+b", &e) == AIOPS_ERR_USAGE,
		    "a bad tag: %s", e.msg);
		aiops_artifact_release(&a);
		aiops_buf_release(&cfg);
		aiops_buf_release(&man);
	}

	/* extract */
	{
		char *model = NULL;
		struct aiops_model m;
		ok(aiops_artifact_extract(at("a1.tar.gz"), at("x"), &model, &e) == AIOPS_OK,
		    "extract: %s", e.msg);
		is_str(model, at("x/m.model"), "the model's path");
		ok(model && aiops_model_load(&m, model, &e) == AIOPS_OK, "the extracted model loads");
		if (model)
			aiops_model_release(&m);
		aiops_free(model);
		slurp(at("x/README.md"), &b2);
		ok(b2.len == 7 && memcmp(b2.buf, "readme\n", 7) == 0, "README extracted");
	}

	/* torture: AIOPS_FAIL_ALLOC=N until the whole run succeeds, for every N with
	 * TEST_LONG=1 (some 1300 runs), else every N to 60 and every 11th after */
	{
		const char *lg = getenv("TEST_LONG");
		int n, last = 0, crashed = 0, done = 0, every = lg && strcmp(lg, "1") == 0;
		for (n = 1; n <= 20000 && !done; n += every || n < 60 ? 1 : 11) {
			pid_t pid;
			int st;
			char nb[16];
			last = n;
			snprintf(nb, sizeof(nb), "%d", n);
			if ((pid = fork()) == 0) {
				setenv("AIOPS_FAIL_ALLOC", nb, 1);
				execl("/proc/self/exe", argv[0], "--torture", dir, (char *)NULL);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
			    (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1)) {
				crashed = n;
				break;
			}
			done = WEXITSTATUS(st) == 0;
		}
		ok(!crashed, "torture: no crash nor leak at any failing allocation (first bad: %d)",
		    crashed);
		ok(done, "torture: the run succeeds once allocations stop failing (at %d)", last);
	}
	aiops_buf_release(&b1);
	aiops_buf_release(&b2);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return done_testing();
}
