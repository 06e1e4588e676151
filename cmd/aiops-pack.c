/* aiops-pack - a model, its report and files into a reproducible artifact (see aiops-pack(1)). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiops.h"
#include "cmd.h"
#include "artifact.h"
#include "oci.h"

static const char usage_text[] =
"usage: aiops-pack [-hq] [-j jobs] [-n name] [-o artifact] [-r report]\n"
"                  [-V version] [--level n] [--oci dir] [--tag tag] model\n"
"                  [file ...]\n"
"       aiops-pack --list artifact\n"
"       aiops-pack --verify [-q] artifact\n"
"       aiops-pack --extract dir [-q] artifact\n";

enum { O_HELP = 256, O_LEVEL, O_OCI, O_TAG, O_LIST, O_VERIFY, O_EXTRACT };

static const struct option longopts[] = {
	{ "extract", required_argument, NULL, O_EXTRACT },
	{ "help", no_argument, NULL, O_HELP },
	{ "level", required_argument, NULL, O_LEVEL },
	{ "list", no_argument, NULL, O_LIST },
	{ "oci", required_argument, NULL, O_OCI },
	{ "tag", required_argument, NULL, O_TAG },
	{ "verify", no_argument, NULL, O_VERIFY },
	{ NULL, 0, NULL, 0 }
};

static int
list_one(void *ud, const char *name, uint64_t size, const char *sha256, const char *role)
{
	(void)ud;
	printf("%-8s %12" PRIu64 " %s %s\n", role ? role : "-", size, sha256, name);
	return 0;
}

/* The ends of a pack: the artifact's own output, the OCI layout, messages. */
struct packjob {
	struct aiops_pack_opts po;
	const char *output, *oci, *tag;
	int quiet;
};

static int
pack(const struct packjob *j, struct aiops_error *e)
{
	struct aiops_buf name = AIOPS_BUF_INIT, title = AIOPS_BUF_INIT, tmp = AIOPS_BUF_INIT;
	struct aiops_out out;
	const char *path;
	int r;

	if (j->po.name)
		r = aiops_buf_addstr(&name, j->po.name) ? aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory") : 0;
	else
		r = aiops_artifact_default_name(j->po.model, &name, e);
	if (r != AIOPS_OK)
		goto done;
	/* the layer's title: the artifact's file name */
	if (j->output) {
		const char *s = strrchr(j->output, '/');
		r = aiops_buf_addstr(&title, s ? s + 1 : j->output);
	} else {
		r = aiops_buf_addf(&title, "%s-%s.tar.gz", name.buf, j->po.version);
	}
	if (r != AIOPS_OK) {
		r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
		goto done;
	}
	path = j->output;
	if (path == NULL && j->oci) {
		/* only into the layout: a temporary file beside it, never committed */
		const char *s = strrchr(j->oci, '/');
		if (s)
			r = aiops_buf_addf(&tmp, "%.*s/%s", (int)(s - j->oci), j->oci, title.buf);
		else
			r = aiops_buf_addstr(&tmp, title.buf);
		if (r != AIOPS_OK) {
			r = aiops_error_set(e, AIOPS_ERR_NOMEM, "out of memory");
			goto done;
		}
		path = tmp.buf;
	}
	if ((r = aiops_out_open(&out, path, e)) != AIOPS_OK)
		goto done;
	if (j->oci && !aiops_out_seekable(&out))
		r = aiops_error_set(e, AIOPS_ERR_USAGE, "%s: --oci needs the artifact in a regular file",
		    path);
	else
		r = aiops_artifact_pack(&j->po, &out, e);
	if (r == AIOPS_OK && j->oci) {
		if ((r = aiops_out_flush(&out, e)) == AIOPS_OK)
			r = aiops_oci_layout_add_as(j->oci, out.tmp, title.buf, j->tag, NULL, e);
	}
	if (r != AIOPS_OK || (j->oci && j->output == NULL))
		aiops_out_abort(&out);
	else
		r = aiops_out_commit(&out, e);
	if (r != AIOPS_OK)
		goto done;
	if (!j->quiet) {
		size_t n = 1 + (j->po.report != NULL) + j->po.nfiles;
		if (j->output && strcmp(j->output, "-") != 0)
			fprintf(stderr, "%s: wrote %s: %s %s, %zu file%s\n", aiops_progname(), j->output,
			    name.buf, j->po.version, n, n == 1 ? "" : "s");
		if (j->oci) {
			struct aiops_oci_desc d;
			const char *tag = j->tag ? j->tag : j->po.version;
			if (aiops_oci_layout_resolve(j->oci, tag, &d, e) == AIOPS_OK)
				fprintf(stderr, "%s: %s: tagged %s %s: %s %s, %zu file%s\n", aiops_progname(),
				    j->oci, tag, d.digest, name.buf, j->po.version, n, n == 1 ? "" : "s");
		}
	}
	r = AIOPS_OK;
done:
	aiops_buf_release(&name);
	aiops_buf_release(&title);
	aiops_buf_release(&tmp);
	return r;
}

int
main(int argc, char *argv[])
{
	struct aiops_error e = { 0, "" };
	struct packjob j;
	const char *extract = NULL, *env;
	int ch, list = 0, verify = 0, packopts = 0, r;
	long jobs = 0;

	aiops_cmd_init(argv[0]);
	memset(&j, 0, sizeof(j));
	j.po.created = -1;
	j.po.level = 6;
	while ((ch = getopt_long(argc, argv, "hj:n:o:qr:V:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
		case O_HELP:
			fputs(usage_text, stdout);
			return 0;
		case 'j': jobs = cmd_whole("-j", optarg, 1, 64); packopts = 1; break;
		case 'n': j.po.name = optarg; packopts = 1; break;
		case 'o': j.output = optarg; packopts = 1; break;
		case 'q': j.quiet = 1; break;
		case 'r': j.po.report = optarg; packopts = 1; break;
		case 'V': j.po.version = optarg; packopts = 1; break;
		case O_LEVEL: j.po.level = (int)cmd_whole("--level", optarg, 0, 9); packopts = 1; break;
		case O_OCI: j.oci = optarg; packopts = 1; break;
		case O_TAG: j.tag = optarg; packopts = 1; break;
		case O_LIST: list = 1; break;
		case O_VERIFY: verify = 1; break;
		case O_EXTRACT: extract = optarg; break;
		default:
			cmd_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (list + verify + (extract != NULL) > 1)
		cmd_die_usage("%s", "--list, --verify and --extract go alone");
	if (list || verify || extract) {
		if (packopts)
			cmd_die_usage("%s", "--list, --verify and --extract take no packing options");
		if (argc != 1)
			cmd_usage(usage_text);
		if (list && j.quiet)
			cmd_usage(usage_text);
		if (list)
			r = aiops_artifact_list(argv[0], list_one, NULL, &e);
		else if (verify) {
			struct aiops_artifact a;
			if ((r = aiops_artifact_verify(argv[0], &a, &e)) == AIOPS_OK) {
				if (!j.quiet)
					printf("%s: OK: %s %s, %zu file%s, a %s model\n",
					    strcmp(argv[0], "-") ? argv[0] : "<stdin>", a.name, a.version,
					    a.nfiles, a.nfiles == 1 ? "" : "s", a.family);
				aiops_artifact_release(&a);
			}
		} else {
			char *model = NULL;
			if ((r = aiops_artifact_extract(argv[0], extract, &model, &e)) == AIOPS_OK) {
				printf("%s\n", model);
				aiops_free(model);
			}
		}
		if (r == AIOPS_OK && aiops_close_stdout(&e) != 0)
			r = e.code;
		return r == AIOPS_OK ? 0 : cmd_fail(&e);
	}

	if (argc < 1)
		cmd_usage(usage_text);
	j.po.model = argv[0];
	j.po.files = (const char *const *)(argv + 1);
	j.po.nfiles = (size_t)(argc - 1);
	if (strcmp(j.po.model, "-") == 0)
		cmd_die_usage("%s", "the model must be a file: it is read more than once");
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			cmd_die_usage("%s", "the files must be files: each is read more than once");
	if (j.po.report && strcmp(j.po.report, "-") == 0)
		cmd_die_usage("%s", "-r: the report must be a file: it is read more than once");
	if (j.tag && j.oci == NULL)
		cmd_die_usage("%s", "--tag goes with --oci");
	if (j.oci && j.output && strcmp(j.output, "-") == 0)
		cmd_die_usage("%s", "--oci needs the artifact in a file: give -o file, or no -o");
	if (j.tag && !aiops_oci_tag_valid(j.tag))
		cmd_die_usage("--tag: \"%s\" is not an OCI tag: letters, digits, '_', '.' and '-', "
		    "not starting with '.' or '-', at most 128 bytes", j.tag);
	/* the version: -V, else the CI's tag, else its short commit */
	if (j.po.version == NULL && (env = getenv("CI_COMMIT_TAG")) != NULL && *env)
		j.po.version = env;
	if (j.po.version == NULL && (env = getenv("CI_COMMIT_SHORT_SHA")) != NULL && *env)
		j.po.version = env;
	if (j.po.version == NULL)
		cmd_die_usage("%s", "no version: give one with -V version (or set CI_COMMIT_TAG or "
		    "CI_COMMIT_SHORT_SHA)");
	/* the time: SOURCE_DATE_EPOCH, else the model's own, never the clock */
	if ((env = getenv("SOURCE_DATE_EPOCH")) != NULL && *env) {
		int64_t v;
		if (aiops_parse_i64(env, strlen(env), &v) != 0 || v < 0 || v > 253402300799LL)
			cmd_die_usage("SOURCE_DATE_EPOCH: expected a whole number of seconds from 0, got \"%s\"",
			    env);
		j.po.created = v;
	}
	if (jobs == 0)
		jobs = cmd_cpus(8);
	j.po.jobs = (int)jobs;
	if (j.oci == NULL && (j.output == NULL || strcmp(j.output, "-") == 0) &&
	    isatty(STDOUT_FILENO))
		cmd_die_usage("%s", "not writing a binary artifact to a terminal; use -o file");
	r = pack(&j, &e);
	if (r == AIOPS_OK && j.oci == NULL && (j.output == NULL || strcmp(j.output, "-") == 0) &&
	    aiops_close_stdout(&e) != 0)
		r = e.code;
	return r == AIOPS_OK ? 0 : cmd_fail(&e);
}
