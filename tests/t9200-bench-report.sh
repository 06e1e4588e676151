#!/bin/sh
# t9200: scripts/bench/report.py merges the benchmarks' JSON files into report.md and
# report.json: the headline ratios against their peers with targets and met/missed, the
# targets a script does not record, SMD per machine, loghub, peak memory, "not run" for a
# missing file, "unreadable" for a broken one, "stale" for one from an earlier run; and
# scripts/bench/run.sh runs it after the benchmarks even when one fails, then fails.
# All inputs are fabricated here, so the expected figures are known exactly.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='bench: report.py merges the results into one report'
. "$(dirname "$0")/lib.sh"

REPORT=$TOP/scripts/bench/report.py
RUNSH=$TOP/scripts/bench/run.sh
sane_unset AIOPS_BENCH_SINCE AIOPS_BENCH_DIR

# jget PATH: one value of r/report.json ("a.b.c", list items by number), as Python's repr.
jget () {
	"$PYTHON" -c '
import json, sys
v = json.load(open("r/report.json"))
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(repr(v))' "$1"
}

# row WHAT: the headline row of report.json whose "what" starts with WHAT, as
# "value target result".
row () {
	"$PYTHON" -c '
import json, sys
for r in json.load(open("r/report.json"))["headline"]:
    if r["what"].startswith(sys.argv[1]):
        print(r["value"], r["target"], r["result"])
        break
else:
    print("no such row")' "$1"
}

test_expect_success PYTHON3 'setup: fabricated results of every benchmark but push' '
	mkdir r &&
	cat >r/ingest.json <<-\EOF &&
	{"pandas_ratio": 2.92, "cat_rate_ratio": 0.3, "cat_rate_bound": 0.41, "smd_numpy_ratio": 1.31,
	 "smd_pandas_ratio": 1.52, "rss_ratio": 1.001, "smd_match": true,
	 "rss_100k_kb": 14224, "rss_1m_kb": 14336, "rss_sort_1m_kb": 637972,
	 "pandas_version": "1.5.3", "errors": [], "seconds": 34.6,
	 "targets": {"pandas_ratio": 10.0, "cat_rate_ratio": 0.25, "rss_ratio_max": 1.5},
	 "targets_missed": ["pandas_ratio"]}
	EOF
	cat >r/train.json <<-\EOF &&
	{"errors": [], "seconds": 100, "sklearn_version": "1.2.1",
	 "speed": {"pca_ratio": 6.0, "iforest_ratio": 9.9, "jobs_ratio": 1.5, "rss_ratio": 1.1,
	           "aiops_pca_rss_kb": 330192},
	 "targets": {"jobs_ratio": 1.8, "rss_ratio_max": 2.0, "smd_mean_best_f1": 0.55},
	 "smd": {"best_default": {"config": "zscore", "mean_best_f1": 0.5},
	  "machines": {
	   "machine-1-1": {"default": {
	     "zscore": {"best_f1": 0.4, "pa_f1": 0.9, "auc_pr": 0.3},
	     "mahalanobis:reg=0.5;smooth=15": {"best_f1": 0.6, "pa_f1": 0.8, "auc_pr": 0.5}},
	    "search": {"tuned": {"winner": "pca:k=4",
	                         "test": {"best_f1": 0.7, "pa_f1": 0.95, "auc_pr": 0.6}},
	               "honest": {"winner": "zscore",
	                          "test": {"best_f1": 0.4, "pa_f1": 0.9, "auc_pr": 0.3}}}},
	   "machine-1-2": {"default": {
	     "zscore": {"best_f1": 0.6, "pa_f1": null, "auc_pr": 0.5},
	     "mahalanobis:reg=0.5;smooth=15": {"best_f1": 0.2, "pa_f1": 0.6, "auc_pr": 0.1}}}}}}
	EOF
	cat >r/eval.json <<-\EOF &&
	{"errors": [], "rank": {"ratio": 15.5, "target": 5.0},
	 "throughput": {"pca:k=10": {"ratio": 1.5}, "zscore": {"ratio": null}},
	 "smd_hitrate": {"machines": {
	   "machine-1-1": {"mahalanobis:reg=0.5;smooth=15": [0.25, 0.5]},
	   "machine-1-2": {"mahalanobis:reg=0.5;smooth=15": [0.75, 1.0]}}}}
	EOF
	cat >r/pack.json <<-\EOF &&
	{"errors": [], "ratio": 1.2, "ratio_j1": 1.3, "rss_fraction": 0.13,
	 "pack_peak_rss_kib": 27648,
	 "targets": {"ratio_max": 1.1, "rss_fraction_max": 0.25}}
	EOF
	cat >r/logs.json <<-\EOF &&
	{"systems": {"HDFS": {"ga": 0.998, "pa": 0.9, "lines": 2000, "templates": 14,
	                      "true_templates": 14},
	             "BGL": {"ga": 0.95, "pa": 0.4, "lines": 2000}},
	 "mean_ga": 0.974, "mean_pa": 0.65, "target_mean_ga": 0.85, "target_lines_per_s": 1e6,
	 "speed": {"lines": 32000, "seconds": 0.5, "lines_per_s": 64000,
	           "cpu_seconds": 0.4, "cpu_lines_per_s": 80000,
	           "ratio_vs_python_split": 4.2, "ratio_vs_wc": 0.0123},
	 "peak_rss_mb": 12.5, "peak_rss_mb_1m": 12.0}
	EOF
	cat >r/forecast.json <<-\EOF &&
	{"errors": ["arima: one file failed"],
	 "ratios": [{"what": "ARIMA(2,1,0) fit", "peer": "statsmodels", "value": 3.0,
	             "target": 2.0, "op": ">="}]}
	EOF
	printf "{\"ratio\": 1" >r/broken.json &&
	"$PYTHON" "$REPORT" r >out &&
	test_path_is_file r/report.md &&
	test_path_is_file r/report.json &&
	test_grep "^report: r/report.md$" out
'

test_expect_success PYTHON3 'the headline: each ratio against its peer, target, met or missed' '
	test_grep -F "| 1M x 38 CSV -> tensor, time vs \`pandas.read_csv\` | pandas | 2.92 | ≥ 10 | missed | ingest.json |" r/report.md &&
	test_grep -F "| the same on one core, rate vs \`cat FILE >/dev/null\` | cat | 0.30 | ≥ 0.25 | met | ingest.json |" r/report.md &&
	test_grep -F "parsing nothing (\`iofloor\`), vs \`cat\` | cat | 0.41 | – | – | ingest.json |" r/report.md &&
	test_grep -F "| best-F1 + AUC-PR + AUC-ROC of 10M scores, time vs scikit-learn | scikit-learn | 15.50 | ≥ 5 | met | eval.json |" r/report.md &&
	test_grep -F "| pack 200 MiB, aiops-pack time / \`tar czf\` time (default -j) | tar | 1.20 | ≤ 1.1 | missed | pack.json |" r/report.md &&
	test_grep -F "| the same with \`-j 1\` | tar | 1.30 | – | – | pack.json |" r/report.md &&
	test_grep -F "| scoring rows/s of pca:k=10 vs scikit-learn | scikit-learn | 1.50 | – | – | eval.json |" r/report.md &&
	test_grep ! -F "scoring rows/s of zscore" r/report.md &&
	test "$(row "1M x 38 CSV")" = "2.92 10.0 missed" &&
	test "$(row "search of 8 trials")" = "1.5 1.8 missed" &&
	test "$(row "pack 200 MiB")" = "1.2 1.1 missed"
'

test_expect_success PYTHON3 'a target the script does not record comes from the README, and is named' '
	test_grep -F "| PCA(10) fit+score on 1M x 38 (\`--folds 0 -j <cores>\`), time vs scikit-learn on numpy'"'"'s BLAS threads | scikit-learn | 6.00 | ≥ 5 (README) | met | train.json |" r/report.md &&
	test_grep -F "| IsolationForest(100) fit+score on 1M x 38 (\`--folds 0 -j 1\`), time vs scikit-learn (one core) | scikit-learn | 9.90 | ≥ 10 (README) | missed | train.json |" r/report.md &&
	test_grep -F "train.py does not record the target of \`speed.iforest_ratio\`" r/report.md &&
	test "$(jget headline.11.target_source)" = "'\''README (not recorded)'\''"
'

test_expect_success PYTHON3 'a missing benchmark is "not run", a broken file "unreadable"' '
	test_grep -F "| push | not run | – |" r/report.md &&
	test_grep -F "| push 1 GiB, aiops-push throughput / \`curl -T\` | curl | – | – | not run | push.json |" r/report.md &&
	test_grep -F "| aiops-push, push 1 GiB | not run | push.json" r/report.md &&
	test_grep "^| broken | unreadable |" r/report.md &&
	test "$(jget status.push.state)" = "'\''not run'\''" &&
	test "$(jget status.broken.state)" = "'\''unreadable'\''" &&
	test "$(jget results.push)" = None
'

test_expect_success PYTHON3 'a ratio recorded in the generic form; errors are shown' '
	test_grep -F "| ARIMA(2,1,0) fit | statsmodels | 3.00 | ≥ 2 | met | forecast.json |" r/report.md &&
	test_grep -F "| forecast | errors |" r/report.md &&
	test_grep -F "arima: one file failed" r/report.md
'

test_expect_success PYTHON3 'a peer nobody measures is listed as not run' '
	rm -f r2 && mkdir r2 && cp r/ingest.json r2/ &&
	"$PYTHON" "$REPORT" r2 >/dev/null &&
	test_grep -F "| no benchmark measures against statsmodels | statsmodels | – | – | not run | – |" r2/report.md &&
	test_grep ! -F "no benchmark measures against pandas" r2/report.md &&
	test_grep -F "SMD: not run (train.json)." r2/report.md &&
	test_grep -F "Loghub: not run (logs.json)." r2/report.md
'

test_expect_success PYTHON3 'other targets, computed from the values' '
	test_grep -F "| SMD mean best-F1 of the best default configuration | 0.500 | ≥ 0.55 | missed | train.json |" r/report.md &&
	test_grep -F "| all SMD files equal to \`numpy.loadtxt\` | yes | all | met | ingest.json |" r/report.md &&
	test_grep -F "| peak RSS of aiops-pack / input size | 0.130 | ≤ 0.25 | met | pack.json |" r/report.md
'

test_expect_success PYTHON3 'SMD: per machine and mean, HitRate from eval.json, gaps named' '
	test_grep -F "| machine-1-1 | 0.600 | 0.800 | 0.500 | 0.250 | 0.500 |" r/report.md &&
	test_grep -F "| machine-1-2 | 0.200 | 0.600 | 0.100 | 0.750 | 1.000 |" r/report.md &&
	test_grep -F "| \`mahalanobis:reg=0.5;smooth=15\` | 0.400 | 0.700 | 0.300 | 0.500 | 0.750 |" r/report.md &&
	test_grep -F "| \`zscore\` | 0.500 | 0.900 | 0.400 | – | – |" r/report.md &&
	test_grep -F "| machine-1-1 | \`pca:k=4\` | 0.700 | 0.950 | 0.600 | – | – |" r/report.md &&
	test_grep -F "HitRate@100%/@150% of \`zscore\` is not recorded: eval.py records it only for HIT_MODELS = \`mahalanobis:reg=0.5;smooth=15\`" r/report.md &&
	test_grep -F "on tuned.model and record \`hitrate_100\` and \`hitrate_150\`" r/report.md &&
	test_approx "$(jget smd.means.zscore.best_f1)" 0.5 1e-12
'

test_expect_success PYTHON3 'loghub GA and PA per system, the mean, speed and memory' '
	test_grep -F "| BGL | 2000 | 0.950 | 0.400 | – | – |" r/report.md &&
	test_grep -F "| HDFS | 2000 | 0.998 | 0.900 | 14 | 14 |" r/report.md &&
	test_grep -F "| **mean** |  | 0.974 | 0.650 |  |  |" r/report.md &&
	test_grep -F "Speed: 32000 lines in 0.50 s wall (64000 lines/s), 0.40 s CPU (80000 lines/s on one core). Peak RSS: 12.5 MiB." r/report.md &&
	test_grep -F "| loghub-2k mean grouping accuracy (GA) | 0.974 | ≥ 0.85 | met | logs.json |" r/report.md &&
	test_grep -F "| log template mining, lines/s on one core (lines / CPU seconds) | 80000 | ≥ 1000000 | missed | logs.json |" r/report.md &&
	test_grep -F "| log template mining, lines/s wall clock | 64000 | ≥ 1000000 | missed | logs.json |" r/report.md &&
	test_grep -F "| the same, lines/s vs \`wc -l\` | wc | 0.012 | – | – | logs.json |" r/report.md &&
	test_grep -F "| aiops-ingest --logs, 1M lines | 12.0 | logs.json \`peak_rss_mb_1m\` |" r/report.md
'

test_expect_success PYTHON3 'peak memory from every script, and a script that records none' '
	test_grep -F "| aiops-ingest stdin->stdout, 1M x 38 rows | 14.0 | ingest.json \`rss_1m_kb\` |" r/report.md &&
	test_grep -F "| aiops-pack, 200 MiB of files | 27.0 | pack.json \`pack_peak_rss_kib\` |" r/report.md &&
	test_grep -F "| aiops-eval | not recorded | eval.json \`peak_rss_kb\` |" r/report.md &&
	test_grep -F "eval.py records no \`peak_rss_kb\`" r/report.md
'

test_expect_success PYTHON3 'report.json: every result as it was, and the machine' '
	"$PYTHON" -c "
import json
r = json.load(open(\"r/report.json\"))
assert r[\"results\"][\"ingest\"] == json.load(open(\"r/ingest.json\")), \"ingest\"
assert r[\"results\"][\"logs\"] == json.load(open(\"r/logs.json\")), \"logs\"
m = r[\"machine\"]
for k in (\"cpu_model\", \"cores\", \"memory_bytes\", \"kernel\", \"debian\", \"date\", \"git_commit\"):
    assert k in m, k
assert m[\"cores\"] >= 1 and m[\"memory_bytes\"] > 0
" &&
	head -3 r/report.md >head &&
	test_grep "^Machine: .*cores; .* GiB RAM; Linux " head
'

test_expect_success PYTHON3 'AIOPS_BENCH_SINCE: a file from an earlier run is stale, its figures left out' '
	AIOPS_BENCH_SINCE=$(($(date +%s) + 100)) "$PYTHON" "$REPORT" r >/dev/null &&
	test_grep -F "| pack | stale |" r/report.md &&
	test_grep -F "| pack 200 MiB, aiops-pack time / \`tar czf\` time (default -j) | tar | – | – | stale | pack.json |" r/report.md &&
	test "$(jget stale.pack.ratio)" = 1.2 &&
	test_must_fail env AIOPS_BENCH_SINCE=soon "$PYTHON" "$REPORT" r 2>err &&
	test_grep "AIOPS_BENCH_SINCE" err
'

test_expect_success PYTHON3 'run.sh: the report after the benchmarks, also when one fails; then status 1' '
	mkdir -p fake/scripts/bench fake/bin fake/tests &&
	cp "$RUNSH" "$REPORT" fake/scripts/bench/ &&
	write_script fake/bin/aiops-ingest <<-\EOF &&
	exit 0
	EOF
	write_script fake/tests/gencsv <<-\EOF &&
	exit 0
	EOF
	cat >fake/scripts/bench/aa.py <<-\EOF &&
	import json, os
	with open(os.path.join(os.environ["AIOPS_BENCH_DIR"], "aa.json"), "w") as f:
	    json.dump({"errors": [], "ratios": [{"what": "aa", "peer": "pandas", "value": 2,
	                                         "target": 1, "op": ">="}]}, f)
	EOF
	cat >fake/scripts/bench/bb.py <<-\EOF &&
	import sys
	sys.exit(3)
	EOF
	echo "{\"errors\": [], \"old\": 1}" >old.json &&
	mkdir fakeout && cp old.json fakeout/bb.json && touch -d "2000-01-01" fakeout/bb.json &&
	test_expect_code 1 env AIOPS_BIN="$PWD/fake/bin" AIOPS_TESTBIN="$PWD/fake/tests" \
		AIOPS_BENCH_DIR="$PWD/fakeout" AIOPS_PYTHON="$PYTHON" \
		bash fake/scripts/bench/run.sh >run.out 2>run.err &&
	test_grep "^=== bb.py: FAILED (status 3)" run.out &&
	test "$(grep -c "^=== report.py" run.out)" = 1 &&
	test "$(sed -n "\$p" run.out)" = "=== the report: $PWD/fakeout/report.md" &&
	test_grep "^=== the report: $PWD/fakeout/report.md$" run.out &&
	test_grep "run.sh: failed: bb.py" run.err &&
	test_grep ! "=== report.py: FAILED" run.out &&
	test_grep -F "| aa | ok |" fakeout/report.md &&
	test_grep -F "| bb | stale |" fakeout/report.md &&
	test_grep -F "| aa | pandas | 2.00 | ≥ 1 | met | aa.json |" fakeout/report.md &&
	test_grep -F "| ingest | not run |" fakeout/report.md
'

test_expect_success PYTHON3 'run.sh: all benchmarks pass, the report is written, status 0' '
	rm fake/scripts/bench/bb.py &&
	env AIOPS_BIN="$PWD/fake/bin" AIOPS_TESTBIN="$PWD/fake/tests" \
		AIOPS_BENCH_DIR="$PWD/fakeout" AIOPS_PYTHON="$PYTHON" \
		bash fake/scripts/bench/run.sh >run.out 2>run.err &&
	test_grep "^=== the report: $PWD/fakeout/report.md$" run.out &&
	test_grep ! "=== report.py" run.err
'

test_done
