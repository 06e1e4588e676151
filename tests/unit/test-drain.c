/*
 * test-drain.c - log header formats, log times, and template mining (drain.h,
 * logs.h) against values worked out by hand from the documented rules, and
 * an allocation-failure sweep over new, add, save and load.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aiops.h"
#include "tap.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))


/* ---- header formats ---------------------------------------------------------- */

static int
field_is(const struct aiops_field *f, const char *want)
{
	return f->n == strlen(want) && memcmp(f->p, want, f->n) == 0;
}

/* Split line by fmt and compare the fields with want[0..n). */
static void
split_is(const char *fmt, const char *line, const char *const *want, size_t n,
    const char *what)
{
	struct aiops_logfmt f;
	struct aiops_field out[AIOPS_LOGFMT_MAX_FIELDS];
	struct aiops_error e = { 0, "" };
	size_t col;
	int good = 1;

	if (!ok(aiops_logfmt_compile(&f, fmt, &e) == AIOPS_OK, "%s: compiles: %s", what, e.msg))
		return;
	col = aiops_logfmt_split(&f, line, strlen(line), out);
	if (!is_int(col, 0, "%s: the line matches", what)) {
		aiops_logfmt_release(&f);
		return;
	}
	is_int(f.nfields, n, "%s: %zu fields", what, n);
	for (size_t i = 0; i < n && i < f.nfields; i++)
		if (!field_is(&out[i], want[i])) {
			diag("field %zu (%s): got \"%.*s\", expected \"%s\"", i, f.names[i],
			    (int)out[i].n, out[i].p, want[i]);
			good = 0;
		}
	ok(good, "%s: the fields", what);
	aiops_logfmt_release(&f);
}

/* The 1-based column where line stops matching fmt (0: it matches). */
static size_t
split_col(const char *fmt, const char *line)
{
	struct aiops_logfmt f;
	struct aiops_field out[AIOPS_LOGFMT_MAX_FIELDS];
	struct aiops_error e;
	size_t col;

	if (aiops_logfmt_compile(&f, fmt, &e) != AIOPS_OK)
		return (size_t)-1;
	col = aiops_logfmt_split(&f, line, strlen(line), out);
	aiops_logfmt_release(&f);
	return col;
}

static void
test_logfmt(void)
{
	static const char hdr[] = "<Date> <Time> <Level> <Component>: <Content>";
	struct aiops_logfmt f;
	struct aiops_error e = { 0, "" };
	int r;

	ok(aiops_logfmt_compile(&f, hdr, &e) == AIOPS_OK, "compile the header format: %s", e.msg);
	is_int(f.nfields, 5, "five fields");
	is_str(f.names[0], "Date", "field 1 is Date");
	is_str(f.names[4], "Content", "field 5 is Content");
	is_int(f.content, 4, "Content is field 4 (0-based)");
	is_int(f.level, 2, "Level is field 2 (0-based)");
	is_str(f.lit[0], "", "no text before the first field");
	is_str(f.lit[4], ": ", "\": \" before Content");
	is_str(f.lit[5], "", "no text after the last field");
	aiops_logfmt_release(&f);

	{
		const char *w[] = { "2015-07-29", "17:41:44,747", "INFO", "dfs.DataNode",
			"Received block blk_1 of size 2" };
		split_is(hdr, "2015-07-29 17:41:44,747 INFO dfs.DataNode: Received block blk_1 of size 2",
		    w, LEN(w), "single blanks");
		/* a blank in the format matches a run of blanks and tabs */
		split_is(hdr, "2015-07-29   17:41:44,747\tINFO  \t dfs.DataNode:    "
		    "Received block blk_1 of size 2", w, LEN(w), "blank runs and tabs");
		/* trailing blanks of the line are not part of the last field */
		split_is(hdr, "2015-07-29 17:41:44,747 INFO dfs.DataNode: Received block blk_1 of size 2  \t",
		    w, LEN(w), "trailing blanks");
	}
	{
		/* an empty message */
		const char *w[] = { "d", "t", "L", "a.B", "" };
		split_is(hdr, "d t L a.B: ", w, LEN(w), "empty Content");
	}
	{
		/* a field ends where its literal text first appears: the rest keeps ": " */
		const char *w[] = { "d", "t", "L", "a.B", "key: value: more" };
		split_is(hdr, "d t L a.B: key: value: more", w, LEN(w), "\": \" inside Content");
	}
	{
		/* a run of blanks in the format is one blank */
		const char *w[] = { "x", "y z" };
		split_is("<Date>   \t <Content>", "x y z", w, LEN(w), "blank run in the format");
		ok(aiops_logfmt_compile(&f, "<Date>   \t <Content>", &e) == AIOPS_OK &&
		    strcmp(f.lit[1], " ") == 0, "a run of blanks in the format compiles to one blank");
		aiops_logfmt_release(&f);
	}
	{
		/* \[ and \] are literal brackets */
		static const char fmt[] = "<Date> <Time> \\[<Level>\\] <Content>";
		const char *w[] = { "2024-01-01", "10:00:00", "WARN", "disk [sda] full" };
		split_is(fmt, "2024-01-01 10:00:00 [WARN] disk [sda] full", w, LEN(w),
		    "escaped brackets");
		ok(aiops_logfmt_compile(&f, fmt, &e) == AIOPS_OK && strcmp(f.lit[2], " [") == 0 &&
		    strcmp(f.lit[3], "] ") == 0, "escaped brackets are literal text");
		aiops_logfmt_release(&f);
		/* the Time field starts at byte 12 and the " [" after it never comes */
		is_int(split_col(fmt, "2024-01-01 10:00:00 WARN disk full"), 12,
		    "missing \" [\" after Time: column 12, where Time starts");
		/* "]" missing: Level starts at byte 22 */
		is_int(split_col(fmt, "2024-01-01 10:00:00 [WARN disk full"), 22,
		    "missing \"]\" after Level: column 22");
		is_int(split_col(fmt, "2024-01-01"), 1, "a line of one word: column 1");
	}
	{
		const char *w[] = { "2024", "msg" };
		split_is("[<Date>] <Content>", "[2024] msg", w, LEN(w), "leading literal text");
		is_int(split_col("[<Date>] <Content>", "2024 msg"), 1,
		    "leading literal text missing: column 1");
		split_is("<Date> <Content>;", "2024 msg;", w, LEN(w), "trailing literal text");
		is_int(split_col("<Date> <Content>;", "2024 msg"), 6,
		    "trailing literal text missing: column 6, where Content starts");
	}

	r = aiops_logfmt_compile(&f, "<Date> <Time> <Level>", &e);
	is_int(r, AIOPS_ERR_USAGE, "a format without <Content> is a usage error");
	ok(strstr(e.msg, "Content") != NULL, "the message says Content: %s", e.msg);
	r = aiops_logfmt_compile(&f, "<Date><Content>", &e);
	is_int(r, AIOPS_ERR_USAGE, "two fields with nothing between them");
	ok(strstr(e.msg, ":7:") != NULL, "the message names column 7: %s", e.msg);
	r = aiops_logfmt_compile(&f, "<Date> <Da te> <Content>", &e);
	is_int(r, AIOPS_ERR_USAGE, "a field name with a blank");
	ok(strstr(e.msg, ":8:") != NULL, "the message names column 8: %s", e.msg);
	{
		char big[40 * 8 + 16];
		size_t k = 0;
		for (int i = 0; i < 33; i++)
			k += (size_t)snprintf(big + k, sizeof(big) - k, "<F%d> ", i);
		snprintf(big + k, sizeof(big) - k, "<Content>");
		is_int(aiops_logfmt_compile(&f, big, &e), AIOPS_ERR_USAGE, "34 fields: too many");
	}
}

/* ---- log times ------------------------------------------------------------------ */

static void
test_log_time(void)
{
	/*
	 * Expected values worked out independently with GNU date, e.g.
	 *   date -u -d "2015-07-29 17:41:44" +%s   -> 1438191704
	 * then times 1000 plus the milliseconds of the fraction.
	 */
	static const struct { const char *s; int64_t ms; } good[] = {
		{ "1438191704", 1438191704000LL },                      /* epoch s */
		{ "1438191704747", 1438191704747LL },                   /* epoch ms */
		{ "2015-07-29 17:41:44,747", 1438191704747LL },         /* Hadoop, Zookeeper */
		{ "2017-05-16 00:00:00.008", 1494892800008LL },         /* OpenStack */
		{ "081109 203615", 1226262975000LL },                   /* HDFS: 2008-11-09 20:36:15 */
		{ "17/06/09 20:10:40", 1497039040000LL },               /* Spark: 2017-06-09 */
		{ "Jun 14 15:16:01", 14224561000LL },                   /* syslog: 1970-06-14 */
		{ "03-17 16:13:38.811", 6538418811LL },                 /* Android: 1970-03-17 */
		{ "20171223-22:15:29:606", 1514067329606LL },           /* HealthApp */
		{ "2005-06-03-15.42.50.675872", 1117813370675LL },      /* BGL: fraction cut to ms */
		{ "2005.06.03 15:42:50", 1117813370000LL },
		{ "10/30/2016 11:05:07 PM", 1477868707000LL },          /* m/d/Y, PM */
		{ "30/10/2016 11:05:07", 1477825507000LL },             /* d/m/Y, d > 12 */
		{ "10/30/2016 12:15:00 AM", 1477786500000LL },          /* 12 AM is 00 */
		{ "10/30/2016 12:15:00 PM", 1477829700000LL },          /* 12 PM is 12 */
		{ "Dec 04 2005 10:00:00", 1133690400000LL },
		{ "04/Dec/2005:10:00:00", 1133690400000LL },            /* Apache */
		{ "2024-01-01T10:00:00Z", 1704103200000LL },
		{ "20240101", 1704067200000LL },
		{ "2004-02-29 12:00:00", 1078056000000LL },             /* a leap day */
		{ "1970-01-01", 0 },
	};
	static const char *bad[] = { "hello", "2015-13-01", "25:00:00", "2015-02-29 00:00:00",
		"2016-10-30 24:00:00", "2015-07-29 17:61:00", "12345678901", "Mon", "- -", "",
		"2015-07-29 xyz" };
	int64_t ms;

	for (size_t i = 0; i < LEN(good); i++) {
		ms = -12345;
		if (!ok(aiops_log_time(good[i].s, strlen(good[i].s), &ms) == 0 && ms == good[i].ms,
		    "time \"%s\"", good[i].s))
			diag("got %lld, expected %lld", (long long)ms, (long long)good[i].ms);
	}
	/*
	 * The year after the time (Apache error log, ctime layout):
	 * date -u -d "2005-12-04 04:47:44" +%s -> 1133671664.
	 */
	ms = -12345;
	ok(aiops_log_time("Sun Dec 04 04:47:44 2005", 24, &ms) == 0 && ms == 1133671664000LL,
	    "time \"Sun Dec 04 04:47:44 2005\" (the year after the time)");
	ms = -12345;
	ok(aiops_log_time("Sun Dec  4 04:47:44 2005", 24, &ms) == 0 && ms == 1133671664000LL,
	    "time \"Sun Dec  4 04:47:44 2005\" (ctime layout)");
	/* a UTC offset: date -u -d "2024-01-01 08:00:00" +%s -> 1704096000 */
	ms = -12345;
	ok(aiops_log_time("2024-01-01 10:00:00+02:00", 25, &ms) == 0 && ms == 1704096000000LL,
	    "time with a +02:00 offset");
	ms = -12345;
	ok(aiops_log_time("2024-01-01 06:00:00.250 -0200", 29, &ms) == 0 &&
	    ms == 1704096000250LL, "time with a fraction and a -0200 offset");
	for (size_t i = 0; i < LEN(bad); i++)
		ok(aiops_log_time(bad[i], strlen(bad[i]), &ms) == -1, "reject \"%s\"", bad[i]);
}

/* ---- mining ------------------------------------------------------------------------ */

static struct aiops_drain *
miner(double sim, int depth, int max_children, const char *const *masks, size_t nmasks)
{
	struct aiops_drain_opts o;
	struct aiops_drain *d = NULL;
	struct aiops_error e = { 0, "" };

	aiops_drain_opts_init(&o);
	if (sim >= 0)
		o.sim = sim;
	if (depth > 0)
		o.depth = depth;
	if (max_children > 0)
		o.max_children = max_children;
	o.masks = masks;
	o.nmasks = nmasks;
	if (aiops_drain_new(&d, &o, &e) != AIOPS_OK)
		diag("aiops_drain_new: %s", e.msg);
	return d;
}

static uint32_t
add(struct aiops_drain *d, const char *msg, int *created)
{
	struct aiops_error e = { 0, "" };
	uint32_t id = UINT32_MAX;
	int c = -1;

	if (aiops_drain_add(d, msg, strlen(msg), &id, &c, &e) != AIOPS_OK)
		diag("aiops_drain_add(\"%s\"): %s", msg, e.msg);
	if (created)
		*created = c;
	return id;
}

/* Add msgs; the ids must be want[], and the templates tmpl[] (NULL-terminated). */
static void
mine_is(struct aiops_drain *d, const char *const *msgs, const uint32_t *want, size_t n,
    const char *const *tmpl, const char *what)
{
	int good = 1;
	size_t k;

	for (size_t i = 0; i < n; i++) {
		uint32_t id = add(d, msgs[i], NULL);
		if (id != want[i]) {
			diag("%s: line %zu \"%s\": id %u, expected %u", what, i + 1, msgs[i],
			    (unsigned)id, (unsigned)want[i]);
			good = 0;
		}
	}
	ok(good, "%s: the lines are grouped as expected", what);
	for (k = 0; tmpl[k]; k++)
		is_str(aiops_drain_template(d, (uint32_t)k), tmpl[k], "%s: template E%zu", what, k + 1);
	is_int(aiops_drain_count(d), k, "%s: %zu templates", what, k);
}

static void
test_known_templates(void)
{
	/* HDFS-like lines of three templates, interleaved; ids by first appearance */
	static const char *const msgs[] = {
		"Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010",
		"PacketResponder 1 for block blk_-1608999687919862906 terminating",
		"Receiving block blk_7503483334202473044 src: /10.250.10.6:40524 dest: /10.250.10.6:50010",
		"Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6",
		"PacketResponder 2 for block blk_7503483334202473044 terminating",
		"Received block blk_7503483334202473044 of size 67108864 from /10.250.19.102",
		"Receiving block blk_-3544583377289625738 src: /10.251.74.79:57794 dest: /10.251.74.79:50010",
	};
	static const uint32_t want[] = { 0, 1, 0, 2, 1, 2, 0 };
	static const char *const tmpl[] = {
		"Receiving block <*> src: <*> dest: <*>",
		"PacketResponder <*> for block <*> terminating",
		"Received block <*> of size <*> from <*>",
		NULL
	};
	struct aiops_drain *d = miner(-1, 0, 0, NULL, 0);
	int created = -1;

	if (d == NULL) {
		ok(0, "a miner with the defaults");
		return;
	}
	mine_is(d, msgs, want, LEN(msgs), tmpl, "HDFS");
	is_int(aiops_drain_occurrences(d, 0), 3, "E1 occurs 3 times");
	is_int(aiops_drain_occurrences(d, 2), 2, "E3 occurs 2 times");
	is_int(aiops_drain_occurrences(d, 9), 0, "no E10: 0 occurrences");
	ok(aiops_drain_template(d, 3) == NULL, "no template 3");
	add(d, "PacketResponder 0 for block blk_1 terminating", &created);
	is_int(created, 0, "a line of a known template: not created");
	add(d, "Deleting block blk_1 file /mnt/hadoop/dfs/data/current/subdir/blk_1", &created);
	is_int(created, 1, "a line of a new template: created");
	is_str(aiops_drain_template(d, 3), "Deleting block <*> file <*>", "the new template E4");
	aiops_drain_free(d);
}

/* One message, alone in a miner: its template. */
static void
form_is(const char *msg, const char *want)
{
	struct aiops_drain *d = miner(-1, 0, 0, NULL, 0);

	if (d == NULL) {
		ok(0, "a miner");
		return;
	}
	add(d, msg, NULL);
	is_str(aiops_drain_template(d, 0), want, "masked: \"%s\"", msg);
	aiops_drain_free(d);
}

static void
test_forms(void)
{
	form_is("user uid=1000 logged in", "user uid=<*> logged in");
	form_is("request took (15ms) total", "request took (<*>) total");
	form_is("connect to 10.0.0.1:8080 ok", "connect to <*>:<*> ok");
	form_is("connect to localhost:8080 ok", "connect to localhost:<*> ok");
	form_is("client=10.1.2.3:4242 done", "client=<*>:<*> done");
	form_is("size=12, next", "size=<*>, next");
	form_is("job [42] queued", "job [<*>] queued");
	form_is("read /var/log/syslog failed", "read <*> failed");
	form_is("fetch http://example.com/a ok", "fetch <*> ok");
	form_is("key1=5 set", "<*> set");                 /* a key with a digit is no key */
	form_is("pid=abc a:b plain words", "pid=abc a:b plain words");
	form_is("  blanks\t\tare   one  ", "blanks are one");
	form_is("0x7f3a21 at 12.5%", "<*> at <*>");
	form_is("", "");
}

static void
test_sim_depth(void)
{
	struct aiops_drain *d;

	/* "alpha beta gamma delta" and "alpha beta eps zeta" share a leaf (the first two
	 * tokens at depth 4) and 2 of 4 positions: similarity 0.5 */
	{
		static const char *const msgs[] = { "alpha beta gamma delta", "alpha beta eps zeta",
			"alpha beta gamma delta" };
		static const uint32_t one[] = { 0, 0, 0 }, two[] = { 0, 1, 0 };
		static const char *const t1[] = { "alpha beta <*> <*>", NULL };
		static const char *const t2[] = { "alpha beta gamma delta", "alpha beta eps zeta", NULL };
		if ((d = miner(0.5, 0, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, one, LEN(msgs), t1, "sim 0.5: a share of 0.5 joins");
			aiops_drain_free(d);
		}
		if ((d = miner(0.6, 0, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, two, LEN(msgs), t2, "sim 0.6: a share of 0.5 does not");
			aiops_drain_free(d);
		}
	}
	{
		static const char *const msgs[] = { "a b c d", "a b c x", "a b y z" };
		static const uint32_t all[] = { 0, 0, 0 }, none[] = { 0, 1, 2 };
		static const char *const t0[] = { "a b <*> <*>", NULL };
		static const char *const t1[] = { "a b c d", "a b c x", "a b y z", NULL };
		if ((d = miner(0, 0, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, all, LEN(msgs), t0, "sim 0: one leaf, one template");
			aiops_drain_free(d);
		}
		if ((d = miner(1, 0, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, none, LEN(msgs), t1, "sim 1: only equal lines join");
			aiops_drain_free(d);
		}
	}
	/* depth n: the first n-2 tokens choose the leaf */
	{
		static const char *const msgs[] = { "a b c d e", "a x c d e" };
		static const uint32_t one[] = { 0, 0 }, two[] = { 0, 1 };
		static const char *const t1[] = { "a <*> c d e", NULL };
		static const char *const t2[] = { "a b c d e", "a x c d e", NULL };
		if ((d = miner(-1, 3, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, one, LEN(msgs), t1, "depth 3: the 2nd token does not choose");
			aiops_drain_free(d);
		}
		if ((d = miner(-1, 4, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, two, LEN(msgs), t2, "depth 4: the 2nd token chooses");
			aiops_drain_free(d);
		}
	}
	{
		static const char *const msgs[] = { "a b c d e", "a b x d e" };
		static const uint32_t one[] = { 0, 0 }, two[] = { 0, 1 };
		static const char *const t1[] = { "a b <*> d e", NULL };
		static const char *const t2[] = { "a b c d e", "a b x d e", NULL };
		if ((d = miner(-1, 4, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, one, LEN(msgs), t1, "depth 4: the 3rd token does not choose");
			aiops_drain_free(d);
		}
		if ((d = miner(-1, 5, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, two, LEN(msgs), t2, "depth 5: the 3rd token chooses");
			aiops_drain_free(d);
		}
	}
	/* the token count is the first level: lines of different lengths never join */
	{
		static const char *const msgs[] = { "a b c", "a b c d" };
		static const uint32_t two[] = { 0, 1 };
		static const char *const t2[] = { "a b c", "a b c d", NULL };
		if ((d = miner(0, 3, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, two, LEN(msgs), t2, "sim 0: other lengths are other templates");
			aiops_drain_free(d);
		}
	}
	/* max_children 2: the third first token goes down the "<*>" branch, where the
	 * fourth joins it */
	{
		static const char *const msgs[] = { "alpha z z", "beta z z", "gamma z z", "delta z z" };
		static const uint32_t lim[] = { 0, 1, 2, 2 }, free_[] = { 0, 1, 2, 3 };
		static const char *const t1[] = { "alpha z z", "beta z z", "<*> z z", NULL };
		static const char *const t2[] = { "alpha z z", "beta z z", "gamma z z", "delta z z",
			NULL };
		if ((d = miner(-1, 0, 2, NULL, 0)) != NULL) {
			mine_is(d, msgs, lim, LEN(msgs), t1, "max_children 2");
			aiops_drain_free(d);
		}
		if ((d = miner(-1, 0, 0, NULL, 0)) != NULL) {
			mine_is(d, msgs, free_, LEN(msgs), t2, "max_children 100");
			aiops_drain_free(d);
		}
	}
	/* bad parameters */
	{
		struct aiops_drain_opts o;
		struct aiops_error e;
		aiops_drain_opts_init(&o);
		ok(o.sim == 0.5 && o.depth == 4 && o.max_children == 100 && o.max_templates == 100000,
		    "the documented defaults");
		o.sim = 1.5;
		d = (void *)1;
		is_int(aiops_drain_new(&d, &o, &e), AIOPS_ERR_USAGE, "sim 1.5: usage error");
		ok(d == NULL, "no miner on an error");
		o.sim = -0.1;
		is_int(aiops_drain_new(&d, &o, &e), AIOPS_ERR_USAGE, "sim -0.1: usage error");
		aiops_drain_opts_init(&o);
		o.depth = 2;
		is_int(aiops_drain_new(&d, &o, &e), AIOPS_ERR_USAGE, "depth 2: usage error");
		o.depth = 65;
		is_int(aiops_drain_new(&d, &o, &e), AIOPS_ERR_USAGE, "depth 65: usage error");
		aiops_drain_opts_init(&o);
		o.max_children = 0;
		is_int(aiops_drain_new(&d, &o, &e), AIOPS_ERR_USAGE, "max_children 0: usage error");
	}
}

static void
test_masks(void)
{
	static const char *const msgs[] = { "session u-abc opened", "session u-xyz opened",
		"took 5 secs" };
	static const char *const mask[] = { "u-[a-z]+" };
	static const uint32_t with[] = { 0, 0, 1 }, without[] = { 0, 1, 2 };
	static const char *const t1[] = { "session <*> opened", "took <*> secs", NULL };
	static const char *const t2[] = { "session u-abc opened", "session u-xyz opened",
		"took <*> secs", NULL };
	struct aiops_drain *d;
	struct aiops_drain_opts o;
	struct aiops_error e = { 0, "" };

	/* the 2nd token has no digit: without the mask each value is its own branch */
	if ((d = miner(-1, 0, 0, NULL, 0)) != NULL) {
		mine_is(d, msgs, without, LEN(msgs), t2, "no mask");
		aiops_drain_free(d);
	}
	if ((d = miner(-1, 0, 0, mask, 1)) != NULL) {
		mine_is(d, msgs, with, LEN(msgs), t1, "mask u-[a-z]+");
		aiops_drain_free(d);
	}
	{
		static const char *const two[] = { "u-[a-z]+", "host-[a-z]+" };
		static const char *const m2[] = { "session u-abc on host-x opened",
			"session u-q on host-yy opened" };
		static const uint32_t w2[] = { 0, 0 };
		static const char *const tt[] = { "session <*> on <*> opened", NULL };
		if ((d = miner(1, 0, 0, two, 2)) != NULL) {
			mine_is(d, m2, w2, LEN(m2), tt, "two masks, sim 1");
			aiops_drain_free(d);
		}
	}
	aiops_drain_opts_init(&o);
	d = (void *)1;
	{
		static const char *const empty[] = { "u-[a-z]+", "x*" };
		o.masks = empty;
		o.nmasks = 2;
		is_int(aiops_drain_new(&d, &o, &e), AIOPS_ERR_USAGE,
		    "a mask matching the empty string: usage error");
		ok(d == NULL && strstr(e.msg, "x*") != NULL, "the message names it: %s", e.msg);
	}
	{
		static const char *const bad[] = { "(" };
		o.masks = bad;
		o.nmasks = 1;
		is_int(aiops_drain_new(&d, &o, &e), AIOPS_ERR_USAGE, "a bad regex: usage error");
		ok(d == NULL && strstr(e.msg, "\"(\"") != NULL, "the message names it: %s", e.msg);
	}
}

static void
test_limits(void)
{
	struct aiops_drain_opts o;
	struct aiops_drain *d = NULL;
	struct aiops_error e = { 0, "" };
	uint32_t id;
	int created, r;

	aiops_drain_opts_init(&o);
	o.max_templates = 3;
	if (aiops_drain_new(&d, &o, &e) != AIOPS_OK) {
		ok(0, "new: %s", e.msg);
		return;
	}
	add(d, "one 1", NULL);
	add(d, "two 1 c", NULL);
	add(d, "three d e f", NULL);
	add(d, "one 2", NULL);
	r = aiops_drain_add(d, "four g h i j", 12, &id, &created, &e);
	is_int(r, AIOPS_ERR_LIMIT, "a 4th template past max_templates 3: limit error");
	ok(strstr(e.msg, "3") != NULL, "the message says the limit: %s", e.msg);
	is_int(aiops_drain_count(d), 3, "still 3 templates");
	is_int(add(d, "two 2 c", NULL), 1, "lines of known templates still add");
	aiops_drain_free(d);

	/* more tokens than AIOPS_DRAIN_MAX_TOKENS: the rest is the last token */
	{
		struct aiops_buf b = AIOPS_BUF_INIT;
		int good = 1;
		for (int i = 0; i < AIOPS_DRAIN_MAX_TOKENS + 20 && good; i++)
			good = aiops_buf_addf(&b, "%sw%c", i ? " " : "", 'a' + i % 26) == AIOPS_OK;
		d = miner(-1, 0, 0, NULL, 0);
		ok(good && d && aiops_drain_add(d, b.buf, b.len, &id, &created, &e) == AIOPS_OK,
		    "a line of %d tokens", AIOPS_DRAIN_MAX_TOKENS + 20);
		is_str(d ? aiops_drain_template(d, 0) : NULL, b.buf,
		    "its template is the line (the tail joined into the last token)");
		aiops_drain_free(d);
		aiops_buf_release(&b);
	}
}

/* Load text (named name) into a fresh miner d: its return code, message in e. */
static int
load_text(struct aiops_drain *d, const char *text, const char *name, struct aiops_error *e)
{
	struct aiops_src *src;
	int r;

	if ((r = aiops_src_open_mem(&src, text, strlen(text), name, e)) != AIOPS_OK)
		return r;
	r = aiops_drain_load(d, src, e);
	aiops_src_close(src);
	return r;
}

static void
test_save_load(void)
{
	static const char *const msgs[] = {
		"Disk /dev/sdb I/O error on sector 77, remounting read-only",
		"say \"hi\" to 5 users",
		"Disk /dev/sdc I/O error on sector 1234, remounting read-only",
		"job 7 done",
	};
	static const char saved[] =
	    "EventId,EventTemplate,Occurrences\n"
	    "E1,\"Disk <*> I/O error on sector <*>, remounting read-only\",2\n"
	    "E2,\"say \"\"hi\"\" to <*> users\",1\n"
	    "E3,job <*> done,1\n";
	static const char saved2[] =
	    "EventId,EventTemplate,Occurrences\n"
	    "E1,\"Disk <*> I/O error on sector <*>, remounting read-only\",3\n"
	    "E2,\"say \"\"hi\"\" to <*> users\",1\n"
	    "E3,job <*> done,2\n"
	    "E4,\"Disk <*> is full, <*> free\",1\n";
	struct aiops_drain *d = miner(-1, 0, 0, NULL, 0), *d2 = miner(-1, 0, 0, NULL, 0);
	struct aiops_buf b = AIOPS_BUF_INIT;
	struct aiops_error e = { 0, "" };
	int created = -1, r;

	if (d == NULL || d2 == NULL) {
		ok(0, "two miners");
		aiops_drain_free(d);
		aiops_drain_free(d2);
		return;
	}
	for (size_t i = 0; i < LEN(msgs); i++)
		add(d, msgs[i], NULL);
	ok(aiops_drain_save(d, &b, &e) == AIOPS_OK, "save: %s", e.msg);
	is_str(b.buf, saved, "the saved dictionary (CSV quoting of , and \")");
	r = load_text(d2, b.buf, "tpl.csv", &e);
	ok(r == AIOPS_OK, "load what was saved: %s", e.msg);
	is_int(aiops_drain_count(d2), 3, "3 templates loaded");
	for (uint32_t i = 0; i < 3; i++)
		is_str(aiops_drain_template(d2, i), aiops_drain_template(d, i),
		    "template E%u kept", (unsigned)i + 1);
	is_int(aiops_drain_occurrences(d2, 0), 2, "occurrences kept");
	is_int(add(d2, "Disk /dev/sdq I/O error on sector 9, remounting read-only", &created), 0,
	    "a line of E1 after the load is E1");
	is_int(created, 0, "and not new");
	is_int(add(d2, "job 8 done", NULL), 2, "a line of E3 is E3");
	is_int(add(d2, "Disk /dev/sda is full, 0 free", &created), 3, "a new template is E4");
	is_int(created, 1, "and new");
	aiops_buf_reset(&b);
	ok(aiops_drain_save(d2, &b, &e) == AIOPS_OK, "save again: %s", e.msg);
	is_str(b.buf, saved2, "ids kept, occurrences added, the new one appended");
	aiops_drain_free(d2);

	/* the ids of the file, not the order that mining would give */
	d2 = miner(-1, 0, 0, NULL, 0);
	r = load_text(d2, "EventId,EventTemplate\nE1,zeta <*>\nE2,alpha <*>\n", "t.csv", &e);
	ok(r == AIOPS_OK, "load a file without Occurrences: %s", e.msg);
	is_int(add(d2, "alpha 1", NULL), 1, "alpha is E2");
	is_int(add(d2, "zeta 1", NULL), 0, "zeta is E1");
	is_int(add(d2, "beta 1", NULL), 2, "beta is appended as E3");
	is_int(aiops_drain_occurrences(d2, 1), 1, "no Occurrences column: counted from 0");
	r = load_text(d2, "EventId,EventTemplate\nE1,x\n", "t.csv", &e);
	is_int(r, AIOPS_ERR_USAGE, "loading into a used miner: usage error");
	aiops_drain_free(d2);

	/* an empty file is an empty dictionary */
	d2 = miner(-1, 0, 0, NULL, 0);
	r = d2 ? load_text(d2, "", "empty.csv", &e) : AIOPS_ERR_NOMEM;
	ok(r == AIOPS_OK && aiops_drain_count(d2) == 0, "an empty template file: no templates");
	aiops_drain_free(d2);
	/* malformed files: format errors naming file:line */
	{
		static const struct { const char *text, *where; } bad[] = {
			{ "Id,Template\nE1,x\n", "bad.csv:1" },
			{ "EventId,EventTemplate\nE2,x\n", "bad.csv:2:1" },
			{ "EventId,EventTemplate\nE1,x\nE1,y\n", "bad.csv:3:1" },
			{ "EventId,EventTemplate\nE1\n", "bad.csv:2" },
			{ "EventId,EventTemplate,Occurrences\nE1,x,many\n", "bad.csv:2:6" },
			{ "EventId,EventTemplate,Occurrences\nE1,x,-3\n", "bad.csv:2:6" },
		};
		for (size_t i = 0; i < LEN(bad); i++) {
			d2 = miner(-1, 0, 0, NULL, 0);
			e.msg[0] = 0;
			r = d2 ? load_text(d2, bad[i].text, "bad.csv", &e) : AIOPS_ERR_NOMEM;
			is_int(r, AIOPS_ERR_FORMAT, "malformed template file %zu: format error", i + 1);
			ok(strncmp(e.msg, bad[i].where, strlen(bad[i].where)) == 0 &&
			    e.msg[strlen(bad[i].where)] == ':',
			    "the message starts with %s: %s", bad[i].where, e.msg);
			aiops_drain_free(d2);
		}
	}
	/* more templates in the file than max_templates */
	{
		struct aiops_drain_opts o;
		aiops_drain_opts_init(&o);
		o.max_templates = 1;
		d2 = NULL;
		if (aiops_drain_new(&d2, &o, &e) == AIOPS_OK) {
			r = load_text(d2, "EventId,EventTemplate\nE1,x\nE2,y\n", "lim.csv", &e);
			is_int(r, AIOPS_ERR_LIMIT, "a file over max_templates: limit error");
			ok(strncmp(e.msg, "lim.csv:3", 9) == 0, "naming the line: %s", e.msg);
		}
		aiops_drain_free(d2);
	}
	aiops_buf_release(&b);
	aiops_drain_free(d);
}

/* ---- allocation failures ------------------------------------------------------------ */

enum { T_NOMEM = 20, T_DONE = 21, T_WRONG = 22 };

/*
 * Run in a child with AIOPS_FAIL_ALLOC=N: compile a format, make a miner with
 * masks, add lines (new templates, joins, masks, a leaf of many templates),
 * save, load into a second miner, add and save again. Each call must succeed
 * or return AIOPS_ERR_NOMEM; then everything is freed (LeakSanitizer checks).
 */
static int
torture_child(void)
{
	static const char *const masks[] = { "u-[a-z]+" };
	static const char *const msgs[] = {
		"Receiving block blk_1 src: /10.0.0.1:5 dest: /10.0.0.2:50010",
		"session u-abc opened for uid=7",
		"Receiving block blk_2 src: /10.0.0.3:6 dest: /10.0.0.4:50010",
		"a b c d", "a b x y", "a b q r s", "e f", "g h", "i j", "k l", "m n",
		"session u-xyz opened for uid=8",
		"Disk /dev/sdb I/O error on sector 77, remounting read-only",
	};
	struct aiops_drain_opts o;
	struct aiops_drain *d = NULL, *d2 = NULL;
	struct aiops_logfmt f;
	struct aiops_field fl[8];
	struct aiops_buf b = AIOPS_BUF_INIT, b2 = AIOPS_BUF_INIT;
	struct aiops_src *src = NULL;
	struct aiops_error e = { 0, "" };
	uint32_t id;
	int created, r, st = T_WRONG;

	if ((r = aiops_logfmt_compile(&f, "<Date> <Time> \\[<Level>\\] <Content>", &e)) != AIOPS_OK)
		return r == AIOPS_ERR_NOMEM ? T_NOMEM : T_WRONG;
	r = aiops_logfmt_split(&f, "d t [L] x y", 11, fl) == 0 ? AIOPS_OK : AIOPS_ERR_DATA;
	aiops_logfmt_release(&f);
	if (r != AIOPS_OK)
		return T_WRONG;
	aiops_drain_opts_init(&o);
	o.masks = masks;
	o.nmasks = 1;
	if ((r = aiops_drain_new(&d, &o, &e)) != AIOPS_OK)
		goto out;
	for (size_t i = 0; i < LEN(msgs); i++)
		if ((r = aiops_drain_add(d, msgs[i], strlen(msgs[i]), &id, &created, &e)) != AIOPS_OK)
			goto out;
	for (uint32_t i = 0; i < aiops_drain_count(d); i++)
		if (aiops_drain_template(d, i) == NULL) {
			r = AIOPS_ERR_NOMEM;
			goto out;
		}
	if ((r = aiops_drain_save(d, &b, &e)) != AIOPS_OK)
		goto out;
	if ((r = aiops_drain_new(&d2, &o, &e)) != AIOPS_OK)
		goto out;
	if ((r = aiops_src_open_mem(&src, b.buf, b.len, "t.csv", &e)) != AIOPS_OK)
		goto out;
	if ((r = aiops_drain_load(d2, src, &e)) != AIOPS_OK)
		goto out;
	for (size_t i = 0; i < LEN(msgs); i++) {
		if ((r = aiops_drain_add(d2, msgs[i], strlen(msgs[i]), &id, &created, &e)) != AIOPS_OK)
			goto out;
		if (created)
			goto out;       /* r is 0: T_WRONG, a known line made a template */
	}
	if ((r = aiops_drain_add(d2, "brand new 1", 11, &id, &created, &e)) != AIOPS_OK)
		goto out;
	if ((r = aiops_drain_save(d2, &b2, &e)) != AIOPS_OK)
		goto out;
	st = b2.len > b.len && memcmp(b2.buf, b.buf, 34) == 0 && id == aiops_drain_count(d) ?
	    T_DONE : T_WRONG;
out:
	if (r != AIOPS_OK)
		st = r == AIOPS_ERR_NOMEM ? T_NOMEM : T_WRONG;
	if (src)
		aiops_src_close(src);
	aiops_drain_free(d);
	aiops_drain_free(d2);
	aiops_buf_release(&b);
	aiops_buf_release(&b2);
	return st;
}

/*
 * Fork a child per N; it sets AIOPS_FAIL_ALLOC before its first allocation
 * (alloc.c reads the variable once, at the first one), so this must run
 * before anything in this process allocates through aiops_malloc().
 */
static void
test_torture(void)
{
	int n, st = 0, fails = 0, bad = 0, done = 0;

	for (n = 1; n <= 5000 && !done && !bad; n++) {
		char nb[16];
		pid_t pid;

		snprintf(nb, sizeof(nb), "%d", n);
		if ((pid = fork()) == 0) {
			setenv("AIOPS_FAIL_ALLOC", nb, 1);
			exit(torture_child());
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
			diag("AIOPS_FAIL_ALLOC=%d: the child died (signal %d)", n,
			    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			bad = n;
		} else if (WEXITSTATUS(st) == T_NOMEM)
			fails++;
		else if (WEXITSTATUS(st) == T_DONE)
			done = n;
		else {
			diag("AIOPS_FAIL_ALLOC=%d: exit status %d", n, WEXITSTATUS(st));
			bad = n;
		}
	}
	ok(!bad && fails > 0, "allocation failures 1..%d: out of memory each time, no crash, "
	    "no leak (first bad: %d)", fails, bad);
	ok(done > 0, "the run succeeds once the allocations stop failing (at %d)", done);
}

int
main(void)
{
	test_torture();
	test_logfmt();
	test_log_time();
	test_known_templates();
	test_forms();
	test_sim_depth();
	test_masks();
	test_limits();
	test_save_load();
	return done_testing();
}
