/* test-model.c - the model container: smoothing, the file round trip, damage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/aiops-model-XXXXXX", path[256];
	char *names[] = { "a", "b" };
	struct aiops_params p1 = { 0 }, p3 = { 0 };
	struct aiops_model m1, m3, back;
	struct aiops_error e;
	struct aiops_out out;
	double x[40], s1[20], s3[20], s4[20];
	const struct aiops_family *f = aiops_family_find("zscore");
	struct aiops_rng rng;
	int bad = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	aiops_rng_seed(&rng, 3);
	for (int i = 0; i < 40; i++)
		x[i] = aiops_rng_normal(&rng);
	ok(f != NULL, "zscore is in the family table");
	aiops_param_set(&p3, "smooth", 3);
	aiops_model_init(&m1, f, &p1, names, 2);
	aiops_model_init(&m3, f, &p3, names, 2);
	ok(aiops_model_fit(&m1, x, 20, &e) == AIOPS_OK && aiops_model_fit(&m3, x, 20, &e) == AIOPS_OK,
	    "fit with and without smoothing");
	aiops_model_score(&m1, x, 20, s1, NULL, &e);
	aiops_model_score(&m3, x, 20, s3, NULL, &e);
	/* the trailing mean worked out directly from the raw scores */
	for (int i = 0; i < 20; i++) {
		double want = 0;
		int k = 0;
		for (int j = i; j >= 0 && j > i - 3; j--, k++)
			want += s1[j];
		want /= k;
		if (fabs(s3[i] - want) > 1e-12 * (1 + fabs(want)))
			bad++;
	}
	is_int(bad, 0, "smooth=3 is the mean of the last 3 raw scores (fewer at the start)");
	{
		struct aiops_params pb = { 0 };
		struct aiops_model mb;
		aiops_param_set(&pb, "smooth", 2.5);
		aiops_model_init(&mb, f, &pb, names, 2);
		ok(aiops_model_fit(&mb, x, 20, &e) == AIOPS_ERR_USAGE && strstr(e.msg, "smooth=2.5"),
		    "smooth=2.5 refused: %s", e.msg);
		aiops_model_release(&mb);
	}

	/* the file round trip keeps parameters, state, threshold and metadata */
	m3.threshold = 1.25;
	json_object_set_new(m3.meta, "note", json_string("kept"));
	snprintf(path, sizeof(path), "%s/m.model", dir);
	ok(aiops_out_open(&out, path, &e) == AIOPS_OK && aiops_model_write(&m3, &out, &e) == AIOPS_OK &&
	    aiops_out_commit(&out, &e) == AIOPS_OK, "model written");
	ok(aiops_model_load(&back, path, &e) == AIOPS_OK, "model loaded: %s", e.msg);
	is_double(aiops_param(&back.params, "smooth", 0), 3, 0, "parameter kept");
	is_double(back.threshold, 1.25, 0, "threshold kept");
	is_str(json_string_value(json_object_get(back.meta, "note")), "kept", "metadata kept");
	aiops_model_score(&back, x, 20, s4, NULL, &e);
	ok(memcmp(s3, s4, sizeof(s3)) == 0, "the loaded model scores bit for bit the same");
	aiops_model_release(&back);

	/* damage: a flipped byte anywhere is refused, a newer version named */
	{
		FILE *fp = fopen(path, "rb");
		unsigned char buf[4096];
		size_t n = fp ? fread(buf, 1, sizeof(buf), fp) : 0;
		int refused = 0, tries = 0;
		if (fp)
			fclose(fp);
		for (size_t at = 0; at < n; at += 7, tries++) {
			buf[at] ^= 0x20;
			fp = fopen(path, "wb");
			fwrite(buf, 1, n, fp);
			fclose(fp);
			if (aiops_model_load(&back, path, &e) != AIOPS_OK)
				refused++;
			else
				aiops_model_release(&back);
			buf[at] ^= 0x20;
		}
		is_int(refused, tries, "every one of %d flipped bytes is refused", tries);
		buf[8] = 9;
		fp = fopen(path, "wb");
		fwrite(buf, 1, n, fp);
		fclose(fp);
		ok(aiops_model_load(&back, path, &e) == AIOPS_ERR_VERSION && strstr(e.msg, "newer"),
		    "newer version: %s", e.msg);
		fp = fopen(path, "wb");
		fwrite(buf, 1, n / 2, fp);
		fclose(fp);
		buf[8] = 1;
		fp = fopen(path, "wb");
		fwrite(buf, 1, n / 2, fp);
		fclose(fp);
		ok(aiops_model_load(&back, path, &e) == AIOPS_ERR_FORMAT, "truncated: %s", e.msg);
	}
	aiops_model_release(&m1);
	aiops_model_release(&m3);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
