"""report.py: merge every $AIOPS_BENCH_DIR/*.json that the benchmarks wrote into one report.

Writes $AIOPS_BENCH_DIR/report.json (every result as it was, the machine, each benchmark's
status, the headline rows and what is not recorded) and $AIOPS_BENCH_DIR/report.md
(Markdown: the machine; a headline table of every ratio against its peer with its target and
met/missed; other targets; SMD accuracy per machine for each family and for the search winner;
loghub grouping accuracy per system; peak memory; what is not recorded). A benchmark whose
JSON is missing is "not run"; one that cannot be read, or lacks a field, shows that instead of
its numbers: the report is always written.

Usage: report.py [DIR]   (DIR defaults to $AIOPS_BENCH_DIR, else build/bench)
With AIOPS_BENCH_SINCE (seconds since the epoch; run.sh sets it when it starts), a JSON older
than that is from an earlier run: it is reported as "stale", and its numbers are left out of
the tables (they stay in report.json under "stale").
Standard library only. Not a benchmark itself: run.sh runs it after them. A script that wants a
ratio in the headline without a change here records
    "ratios": [{"what": "...", "peer": "statsmodels", "value": 2.5, "target": 1.0, "op": ">="}]
in its JSON ("op" is ">=" or "<="; "target" may be null).
"""
import datetime
import glob
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(HERE))

# The benchmarks the report expects; the scripts present in scripts/bench are added at run
# time. logs.json comes from the loghub benchmark.
EXPECTED = ["ingest", "train", "eval", "pack", "push", "logs", "forecast", "limits"]
# The peers the headline names even when no benchmark measured against them.
PEERS = ["pandas", "scikit-learn", "statsmodels", "tar", "curl"]

# Headline ratios: (benchmark, what, peer, value path, op, target path, default target).
# The default target applies only when the JSON does not record one; the report says so.
RATIOS = [
    ("ingest", "1M x 38 CSV -> tensor, time vs `pandas.read_csv`", "pandas",
     "pandas_ratio", ">=", "targets.pandas_ratio", None),
    ("ingest", "the same, to /dev/null", "pandas", "pandas_null_ratio", None, None, None),
    ("ingest", "the same, on one core (`-j 1`)", "pandas", "pandas_ratio_1core", None, None,
     None),
    ("ingest", "the same, `AIOPS_SIMD=avx2` (four fields at a time, as without AVX-512)",
     "pandas", "pandas_ratio_avx2", None, None, None),
    ("ingest", "the same, `AIOPS_SIMD=none` (one field at a time)", "pandas",
     "pandas_ratio_scalar", None, None, None),
    ("ingest", "the same on one core, rate vs `cat FILE >/dev/null`", "cat",
     "cat_rate_ratio", ">=", "targets.cat_rate_ratio", None),
    ("ingest", "the most any parser reaches there: rate of reading the CSV and writing the "
     "tensor, parsing nothing (`iofloor`), vs `cat`", "cat", "cat_rate_bound", None, None, None),
    ("ingest", "the same from the disk (the file out of the page cache): vs pandas",
     "pandas", "cold_pandas_ratio", None, None, None),
    ("ingest", "the same from the disk, on one core: rate vs `cat`", "cat",
     "cold_cat_rate_ratio", None, None, None),
    ("ingest", "28 SMD `.gz` files, time vs `numpy.loadtxt`", "numpy",
     "smd_numpy_ratio", None, None, None),
    ("ingest", "28 SMD `.gz` files, time vs `pandas.read_csv`", "pandas",
     "smd_pandas_ratio", None, None, None),
    ("train", "PCA(10) fit+score on 1M x 38 (`--folds 0 -j <cores>`), time vs scikit-learn "
     "on numpy's BLAS threads", "scikit-learn", "speed.pca_ratio", ">=", "targets.pca_ratio", 5.0),
    ("train", "the same, both on one core (`-j 1`, 1 BLAS thread)", "scikit-learn",
     "speed.pca_ratio_1thread", None, None, None),
    ("train", "the same, the default run (validates on 3 folds, `-j 1`)", "scikit-learn",
     "speed.pca_ratio_validated", None, None, None),
    ("train", "IsolationForest(100) fit+score on 1M x 38 (`--folds 0 -j 1`), time vs "
     "scikit-learn (one core)", "scikit-learn", "speed.iforest_ratio", ">=",
     "targets.iforest_ratio", 10.0),
    ("train", "the same, the default run (validates on 3 folds)", "scikit-learn",
     "speed.iforest_ratio_validated", None, None, None),
    ("train", "search of 8 trials, `-j 1` wall / `-j 2` wall", "aiops-train -j 1",
     "speed.jobs_ratio", ">=", "targets.jobs_ratio", None),
    ("eval", "best-F1 + AUC-PR + AUC-ROC of 10M scores, time vs scikit-learn", "scikit-learn",
     "rank.ratio", ">=", "rank.target", None),
    ("pack", "pack 200 MiB, aiops-pack time / `tar czf` time (default -j)", "tar",
     "ratio", "<=", "targets.ratio_max", None),
    ("pack", "the same with `-j 1`", "tar", "ratio_j1", None, None, None),
    ("push", "push 1 GiB, aiops-push throughput / `curl -T`", "curl",
     "ratio_vs_curl", ">=", "targets.ratio_vs_curl", None),
    ("push", "the same with `--chunk-size 0`", "curl",
     "ratio_vs_curl_monolithic", None, None, None),
    ("logs", "log template mining, lines/s vs a Python header split + tokenise", "Python re",
     "speed.ratio_vs_python_split", None, None, None),
    ("logs", "the same, lines/s vs `wc -l`", "wc", "speed.ratio_vs_wc", None, None, None),
]

# Other targets, not against a peer: (benchmark, what, value path, op, target path, default).
TARGETS = [
    ("ingest", "peak RSS of a stdin->stdout stream, 1M rows / 100k rows", "rss_ratio", "<=",
     "targets.rss_ratio_max", None),
    ("ingest", "all SMD files equal to `numpy.loadtxt`", "smd_match", "==", None, True),
    ("train", "SMD mean best-F1 of the best default configuration",
     "smd.best_default.mean_best_f1", ">=", "targets.smd_mean_best_f1", None),
    ("train", "peak RSS of aiops-train (pca, 1M x 38) / tensor size", "speed.rss_ratio", "<=",
     "targets.rss_ratio_max", None),
    ("pack", "peak RSS of aiops-pack / input size", "rss_fraction", "<=",
     "targets.rss_fraction_max", None),
    ("push", "peak RSS, push 1 GiB / push 64 MiB", "rss_ratio_1GiB_vs_64MiB", "<=",
     "targets.rss_ratio", None),
    ("logs", "loghub-2k mean grouping accuracy (GA)", "mean_ga", ">=", "target_mean_ga", None),
    ("logs", "log template mining, lines/s on one core (lines / CPU seconds)",
     "speed.cpu_lines_per_s", ">=", "target_lines_per_s", None),
    ("logs", "log template mining, lines/s wall clock", "speed.lines_per_s", ">=",
     "target_lines_per_s", None),
]

# Peak memory: (benchmark, what, path, unit of the recorded number).
MEMORY = [
    ("limits", "aiops-ingest -O csv, the large (10 GB) stream", "stream_big.peak_rss_kib", "KiB"),
    ("limits", "aiops-ingest stopped at the record limit (1 GB line)", "line_1gb.peak_rss_kib",
     "KiB"),
    ("ingest", "aiops-ingest stdin->stdout, 100k x 38 rows", "rss_100k_kb", "KiB"),
    ("ingest", "aiops-ingest stdin->stdout, 1M x 38 rows", "rss_1m_kb", "KiB"),
    ("ingest", "aiops-ingest --sort (buffered), 1M x 38 rows", "rss_sort_1m_kb", "KiB"),
    ("train", "aiops-train pca:k=10, 1M x 38 (304 MB tensor)", "speed.aiops_pca_rss_kb", "KiB"),
    ("train", "aiops-train iforest:trees=100, 1M x 38", "speed.aiops_iforest_rss_kb", "KiB"),
    ("eval", "aiops-eval", "peak_rss_kb", "KiB"),
    ("pack", "aiops-pack, 200 MiB of files", "pack_peak_rss_kib", "KiB"),
    ("push", "aiops-push, push 1 GiB", "peak_rss_kib.push_1GiB", "KiB"),
    ("push", "aiops-push, push 64 MiB", "peak_rss_kib.push_64MiB", "KiB"),
    ("push", "aiops-push --pull, 1 GiB", "peak_rss_kib.pull_1GiB", "KiB"),
    # logs.py's "_mb" figures are GNU time's KiB / 1024, i.e. MiB
    ("logs", "aiops-ingest --logs, 1M lines", "peak_rss_mb_1m", "MiB"),
    ("logs", "aiops-ingest --logs, the speed run (REPEAT x 1M lines)", "peak_rss_mb", "MiB"),
]

SMD_METRICS = [("best_f1", "best-F1"), ("pa_f1", "PA F1"), ("auc_pr", "AUC-PR"),
               ("hitrate_100", "HR@100%"), ("hitrate_150", "HR@150%")]

NOT_RUN = "not run"


def get(d, path):
    """The value at a dotted path of nested dicts, or None."""
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def obj(v):
    """v when it is a JSON object, else an empty one: a partial file may hold anything."""
    return v if isinstance(v, dict) else {}


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def fmt(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if num(v):
        return "%.*f" % (0 if abs(v) >= 10000 else digits, v)
    if isinstance(v, str):
        return v
    return json.dumps(v)[:40]


def fmt_target(op, t):
    if t is None or op is None:
        return "–"
    if isinstance(t, bool):
        return "all" if t else "none"
    if not num(t):
        return "%s (not a number)" % json.dumps(t)[:40]
    return "%s %s" % ({">=": "≥", "<=": "≤", "==": "="}.get(op, op),
                      "%.0f" % t if abs(t) >= 10000 else "%g" % t)


def judge(v, op, t):
    """"met", "missed", or None when there is nothing to judge."""
    if op is None or t is None or v is None:
        return None
    if op == "==":
        return "met" if v == t else "missed"
    if not num(v) or not num(t):
        return None
    return "met" if (v >= t if op == ">=" else v <= t) else "missed"


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return out


# ---- the machine ---------------------------------------------------------------------------

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def machine():
    m = {"arch": platform.machine(), "cpu_model": None, "cores": os.cpu_count(),
         "memory_bytes": None, "kernel": platform.release(), "debian": None, "os": None,
         "python": platform.python_version(),
         "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "git_commit": None, "git_dirty": None}
    cpu = read("/proc/cpuinfo") or ""
    for line in cpu.splitlines():
        k, _, v = line.partition(":")
        if k.strip() in ("model name", "Model", "cpu model") and v.strip():
            m["cpu_model"] = v.strip()
            break
    mem = read("/proc/meminfo") or ""
    for line in mem.splitlines():
        if line.startswith("MemTotal:"):
            try:
                m["memory_bytes"] = int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                pass
    deb = read("/etc/debian_version")
    if deb:
        m["debian"] = deb.strip()
    for line in (read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            m["os"] = line.split("=", 1)[1].strip().strip('"')
    try:
        r = subprocess.run(["git", "-C", TOP, "rev-parse", "HEAD"], capture_output=True,
                           text=True, timeout=10)
        if r.returncode == 0:
            m["git_commit"] = r.stdout.strip()
            r = subprocess.run(["git", "-C", TOP, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
            if r.returncode == 0:
                m["git_dirty"] = bool(r.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return m


def machine_line(m, results):
    parts = [m["cpu_model"] or m["arch"]]
    if m["cores"]:
        parts[0] += ", %d cores" % m["cores"]
    if m["memory_bytes"]:
        parts.append("%.1f GiB RAM" % (m["memory_bytes"] / 2 ** 30))
    parts.append("Linux %s" % m["kernel"])
    if m["debian"]:
        parts.append("Debian %s" % m["debian"])
    parts.append("Python %s" % m["python"])
    peers = []
    for name, key, label in (("ingest", "pandas_version", "pandas"),
                             ("train", "sklearn_version", "scikit-learn")):
        v = get(results.get(name), key)
        if v:
            peers.append("%s %s" % (label, v))
    if peers:
        parts.append(", ".join(peers))
    parts.append(m["date"])
    if m["git_commit"]:
        parts.append("commit %s%s" % (m["git_commit"][:12],
                                      " (with uncommitted changes)" if m["git_dirty"] else ""))
    return "; ".join(parts)


# ---- loading -----------------------------------------------------------------------------------

def load(bench_dir, since=None):
    names = list(EXPECTED)
    for p in sorted(glob.glob(os.path.join(HERE, "*.py"))):
        n = os.path.basename(p)[:-3]
        if n != "report" and n not in names:
            names.append(n)
    for p in sorted(glob.glob(os.path.join(bench_dir, "*.json"))):
        n = os.path.basename(p)[:-5]
        if n != "report" and n not in names:
            names.append(n)
    results, status, stale = {}, {}, {}
    for n in names:
        path = os.path.join(bench_dir, n + ".json")
        st = {"file": path, "state": NOT_RUN}
        status[n] = st
        if not os.path.exists(path):
            results[n] = None
            continue
        st["mtime"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(path), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            results[n] = None
            st["state"] = "unreadable"
            st["detail"] = str(e)
            continue
        if not isinstance(d, dict):
            results[n] = None
            st["state"] = "unreadable"
            st["detail"] = "not a JSON object"
            continue
        if since is not None and os.path.getmtime(path) < since:
            results[n] = None
            stale[n] = d
            st["state"] = "stale"
            st["detail"] = "from an earlier run (the benchmark did not write it this time)"
            continue
        results[n] = d
        errs = d.get("errors")
        if isinstance(errs, list) and errs:
            st["state"] = "errors"
            st["detail"] = "; ".join(str(e) for e in errs)
        else:
            st["state"] = "ok"
        if num(d.get("seconds")):
            st["seconds"] = d["seconds"]
        if isinstance(d.get("targets_missed"), list):
            st["targets_missed"] = d["targets_missed"]
    return results, status, stale


# ---- the sections ----------------------------------------------------------------------

def headline(results, status, notes):
    rows = []
    for bench, what, peer, path, op, tpath, tdefault in RATIOS:
        d = results.get(bench)
        row = {"bench": bench, "what": what, "peer": peer, "path": path, "op": op,
               "value": None, "target": None, "target_source": None, "result": None}
        if d is None:
            row["result"] = status[bench]["state"]
        else:
            row["value"] = get(d, path)
            t = get(d, tpath) if tpath else None
            if t is not None:
                row["target"], row["target_source"] = t, "%s.json" % bench
            elif tdefault is not None:
                row["target"], row["target_source"] = tdefault, "README (not recorded)"
                notes.append("%s.py does not record the target of `%s` (%s %g, from the "
                             "README): add `%s` to its JSON" % (bench, path, op, tdefault, tpath))
            if row["value"] is None:
                row["result"] = "not recorded"
            else:
                row["result"] = judge(row["value"], op, row["target"])
        rows.append(row)
    # eval: scoring throughput per family, where scikit-learn has the same model
    ev = results.get("eval")
    tp = get(ev, "throughput")
    if isinstance(tp, dict):
        for fam, v in tp.items():
            if isinstance(v, dict) and num(v.get("ratio")):
                rows.append({"bench": "eval", "what": "scoring rows/s of %s vs scikit-learn" % fam,
                             "peer": "scikit-learn", "path": "throughput.%s.ratio" % fam,
                             "op": None, "value": v["ratio"], "target": None,
                             "target_source": None, "result": None})
    # ratios that a script records in the generic form
    for bench, d in results.items():
        ratios = obj(d).get("ratios")
        for r in ratios if isinstance(ratios, list) else []:
            if not isinstance(r, dict):
                continue
            op = r.get("op") if r.get("op") in (">=", "<=") else None
            rows.append({"bench": bench, "what": str(r.get("what", "?")),
                         "peer": str(r.get("peer", "?")), "path": "ratios", "op": op,
                         "value": r.get("value"), "target": r.get("target"),
                         "target_source": "%s.json" % bench,
                         "result": judge(r.get("value"), op, r.get("target"))
                         if r.get("value") is not None else "not recorded"})
    for p in PEERS:
        if p not in {r["peer"] for r in rows}:
            rows.append({"bench": None, "what": "no benchmark measures against %s" % p,
                         "peer": p, "path": None, "op": None, "value": None, "target": None,
                         "target_source": None, "result": NOT_RUN})
    return rows


def other_targets(results, status):
    rows = []
    for bench, what, path, op, tpath, tdefault in TARGETS:
        d = results.get(bench)
        row = {"bench": bench, "what": what, "path": path, "op": op, "value": None,
               "target": None, "result": None}
        if d is None:
            row["result"] = status[bench]["state"]
        else:
            row["value"] = get(d, path)
            t = get(d, tpath) if tpath else None
            row["target"] = t if t is not None else tdefault
            row["result"] = (judge(row["value"], op, row["target"]) if row["value"] is not None
                             else "not recorded")
        rows.append(row)
    return rows


def smd(results, status, notes):
    """Per-machine SMD metrics of each default configuration and each search winner."""
    tr, ev = results.get("train"), results.get("eval")
    s = get(tr, "smd")
    hit = obj(get(ev, "smd_hitrate.machines"))
    out = {"configs": [], "machines": [], "tables": {}, "search": {}, "means": {}}
    if not isinstance(s, dict) or not isinstance(s.get("machines"), dict):
        out["state"] = status["train"]["state"] if tr is None else "not recorded"
        return out
    machines = sorted(s["machines"])
    out["machines"] = machines
    per = {m: obj(s["machines"][m]) for m in machines}
    configs = []
    for m in machines:
        for c in obj(per[m].get("default")):
            if c not in configs:
                configs.append(c)
    out["configs"] = configs
    hr_missing = {}
    for c in configs:
        tab = {}
        for m in machines:
            # a configuration such as "mahalanobis:reg=0.5" has dots: no get() path here
            v = dict(obj(obj(per[m].get("default")).get(c)))
            h = obj(hit.get(m)).get(c)
            if isinstance(h, list) and len(h) == 2:
                v["hitrate_100"], v["hitrate_150"] = h
            elif not c.startswith("sk-"):
                hr_missing.setdefault(c, []).append(m)
            tab[m] = v
        out["tables"][c] = tab
        out["means"][c] = {k: mean([tab[m].get(k) for m in machines]) for k, _ in SMD_METRICS}
    if ev is None:
        notes.append("HitRate@100%/@150%: eval.json is missing (eval.py not run)")
    elif not isinstance(get(ev, "smd_hitrate.machines"), dict):
        notes.append("HitRate@100%/@150%: eval.json has no `smd_hitrate` (eval.py found no "
                     "SMD interpretation_label, or this eval.json predates it)")
    else:
        have = sorted({k for mm in hit.values() for k in obj(mm)})
        whole = [c for c, ms in hr_missing.items() if len(ms) == len(machines)]
        if whole:
            notes.append("HitRate@100%%/@150%% of %s is not recorded: eval.py records it only "
                         "for HIT_MODELS = %s; it must add these configurations (train.py's "
                         "DEFAULTS) to HIT_MODELS" % (", ".join("`%s`" % c for c in whole),
                                                      ", ".join("`%s`" % c for c in have)
                                                      or "none"))
        for c, ms in hr_missing.items():
            if len(ms) != len(machines):
                notes.append("HitRate of `%s` is missing for %s" % (c, ", ".join(ms)))
    for kind in ("tuned", "honest"):
        tab = {}
        for m in machines:
            w = get(per[m], "search.%s" % kind)
            if not isinstance(w, dict):
                continue
            v = dict(obj(w.get("test")))
            v["winner"] = w.get("winner")
            tab[m] = v
        if tab:
            out["search"][kind] = tab
            out["means"]["search:" + kind] = {k: mean([tab[m].get(k) for m in tab])
                                              for k, _ in SMD_METRICS}
            if all(tab[m].get("hitrate_100") is None for m in tab):
                notes.append("HitRate@100%%/@150%% of the %s search winner is not recorded: "
                             "train.py must run `aiops-eval --top 0 --interpretation "
                             "interpretation_label/MACHINE.txt` on %s.model and record "
                             "`hitrate_100` and `hitrate_150` in smd.machines.MACHINE.search.%s."
                             "test" % (kind, kind, kind))
    for c in configs:
        if all(out["tables"][c][m].get("pa_f1") is None for m in machines):
            notes.append("point-adjusted F1 of `%s` is not recorded (train.py scores it with "
                         "aiops-train's own best-F1 and AUC-PR only)" % c)
    return out


def mean(vals):
    vals = [v for v in vals if num(v)]
    return sum(vals) / len(vals) if vals else None


def logs(results, status):
    d = results.get("logs")
    if d is None:
        return {"state": status["logs"]["state"]}
    out = {"state": "ok", "systems": [], "mean_ga": d.get("mean_ga"), "mean_pa": d.get("mean_pa"),
           "speed": d.get("speed") if isinstance(d.get("speed"), dict) else None,
           "peak_rss_mb": d.get("peak_rss_mb")}
    systems = d.get("systems")
    if isinstance(systems, dict):
        for name in sorted(systems):
            v = systems[name] if isinstance(systems[name], dict) else {}
            out["systems"].append({"system": name, "lines": v.get("lines"), "ga": v.get("ga"),
                                   "pa": v.get("pa"), "templates": v.get("templates"),
                                   "true_templates": v.get("true_templates")})
    else:
        out["state"] = "no per-system results"
    return out


def memory(results, status, notes):
    rows = []
    for bench, what, path, unit in MEMORY:
        d = results.get(bench)
        v = get(d, path) if d is not None else None
        mib = None
        if num(v):
            mib = v / 1024.0 if unit == "KiB" else v if unit == "MiB" else v * 1e6 / 2 ** 20
        rows.append({"bench": bench, "what": what, "path": path, "value": v, "unit": unit,
                     "mib": mib, "result": (status[bench]["state"] if d is None else
                                            "not recorded" if v is None else None)})
        if d is not None and v is None:
            notes.append("%s.py records no `%s` (peak RSS of %s)" % (bench, path, what))
    return rows


# ---- Markdown ----------------------------------------------------------------------------

def markdown(rep):
    st = rep["status"]
    L = ["# aiops benchmark report", "",
         "Machine: " + rep["machine_line"], ""]
    L += ["## Benchmarks", ""]
    rows = []
    for n, s in st.items():
        rows.append([n, s["state"], s.get("mtime", "–"),
                     "%g s" % s["seconds"] if "seconds" in s else "–",
                     ", ".join(str(x) for x in s.get("targets_missed") or []) or "–",
                     (s.get("detail") or "")[:200] or "–"])
    L += md_table(["benchmark", "state", "written", "took", "targets missed", "detail"], rows)
    L += ["", "## Headline: ratios against peers", "",
          "Higher is better where the target is ≥, lower where it is ≤; a ratio without a "
          "target is reported, not judged.", ""]
    rows = []
    for r in rep["headline"]:
        tgt = fmt_target(r["op"], r["target"])
        if r["target_source"] and r["target_source"].startswith("README"):
            tgt += " (README)"
        v = r["value"]
        rows.append([r["what"], r["peer"], fmt(v, 3 if num(v) and abs(v) < 0.1 else 2), tgt,
                     r["result"] or "–",
                     "%s.json" % r["bench"] if r["bench"] else "–"])
    L += md_table(["measure", "peer", "ratio", "target", "result", "from"], rows)
    L += ["", "## Other targets", ""]
    rows = [[r["what"], fmt(r["value"], 3), fmt_target(r["op"], r["target"]), r["result"] or "–",
             "%s.json" % r["bench"]] for r in rep["other_targets"]]
    L += md_table(["measure", "value", "target", "result", "from"], rows)

    L += ["", "## SMD accuracy", ""]
    s = rep["smd"]
    if not s["machines"]:
        L += ["SMD: %s (train.json)." % s.get("state", NOT_RUN)]
    else:
        L += ["Test part of each machine, trained on its train part; best-F1 is point-wise "
              "without point adjustment, PA F1 point-adjusted, HR HitRate (OmniAnomaly's "
              "root-cause measure, from eval.json). `sk-` rows are scikit-learn's.", ""]
        head = ["configuration"] + [h for _, h in SMD_METRICS]
        rows = []
        for c in s["configs"]:
            rows.append(["`%s`" % c] + [fmt(s["means"][c].get(k)) for k, _ in SMD_METRICS])
        for kind, label in (("tuned", "search winner, tuned on test (optimistic)"),
                            ("honest", "search winner, label-free holdout")):
            if "search:" + kind in s["means"]:
                rows.append([label] + [fmt(s["means"]["search:" + kind].get(k))
                                       for k, _ in SMD_METRICS])
        L += ["Mean over %d machines:" % len(s["machines"]), ""]
        L += md_table(head, rows)
        for c in s["configs"]:
            L += ["", "### `%s` per machine" % c, ""]
            L += md_table(["machine"] + [h for _, h in SMD_METRICS],
                          [[m] + [fmt(s["tables"][c][m].get(k)) for k, _ in SMD_METRICS]
                           for m in s["machines"]])
        for kind, label in (("tuned", "Search winner per machine, tuned on test (optimistic)"),
                            ("honest", "Search winner per machine, label-free holdout (honest)")):
            tab = s["search"].get(kind)
            if not tab:
                continue
            L += ["", "### " + label, ""]
            L += md_table(["machine", "winner"] + [h for _, h in SMD_METRICS],
                          [[m, "`%s`" % tab[m].get("winner")] +
                           [fmt(tab[m].get(k)) for k, _ in SMD_METRICS] for m in sorted(tab)])

    L += ["", "## Loghub: log grouping accuracy", ""]
    g = rep["logs"]
    if g["state"] != "ok":
        L += ["Loghub: %s (logs.json)." % g["state"]]
    else:
        rows = [[x["system"], fmt(x["lines"], 0), fmt(x["ga"]), fmt(x["pa"]),
                 fmt(x["templates"], 0), fmt(x["true_templates"], 0)] for x in g["systems"]]
        rows.append(["**mean**", "", fmt(g["mean_ga"]), fmt(g["mean_pa"]), "", ""])
        L += md_table(["system", "lines", "GA", "PA", "templates", "true templates"], rows)
        sp = g["speed"] or {}
        L += ["", "Speed: %s lines in %s s wall (%s lines/s), %s s CPU (%s lines/s on one "
              "core). Peak RSS: %s MiB." % (
                  fmt(sp.get("lines"), 0), fmt(sp.get("seconds"), 2),
                  fmt(sp.get("lines_per_s"), 0), fmt(sp.get("cpu_seconds"), 2),
                  fmt(sp.get("cpu_lines_per_s"), 0), fmt(g["peak_rss_mb"], 1))]

    L += ["", "## Peak memory", ""]
    rows = [[r["what"], fmt(r["mib"], 1) if r["mib"] is not None else r["result"],
             "%s.json `%s`" % (r["bench"], r["path"])] for r in rep["memory"]]
    L += md_table(["process", "peak RSS (MiB)", "from"], rows)

    if rep.get("broken_sections"):
        L += ["", "**report.py failed on the sections: %s** (see its standard error)." %
              ", ".join(rep["broken_sections"])]
    L += ["", "## Not recorded", ""]
    if rep["not_recorded"]:
        L += ["- " + n for n in rep["not_recorded"]]
    else:
        L += ["Everything the report asks for is recorded."]
    L.append("")
    return "\n".join(L)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print("usage: report.py [dir]", file=sys.stderr)
        return 2
    bench_dir = argv[1] if len(argv) == 2 else (os.environ.get("AIOPS_BENCH_DIR") or
                                                os.path.join(TOP, "build", "bench"))
    if not os.path.isdir(bench_dir):
        print("report.py: %s: not a directory" % bench_dir, file=sys.stderr)
        return 1
    since = None
    if os.environ.get("AIOPS_BENCH_SINCE"):
        try:
            since = float(os.environ["AIOPS_BENCH_SINCE"])
        except ValueError:
            print("report.py: AIOPS_BENCH_SINCE: not a number: %s" %
                  os.environ["AIOPS_BENCH_SINCE"], file=sys.stderr)
            return 2
    results, status, stale = load(bench_dir, since)
    m = machine()
    notes = []
    rep = {"report": 1, "machine": m, "machine_line": machine_line(m, results),
           "status": status}
    broken = []
    # A section that a malformed file still trips up is left empty, named, and makes the
    # exit status 1; the others are written all the same.
    for key, fn, empty in (
            ("headline", lambda: headline(results, status, notes), []),
            ("other_targets", lambda: other_targets(results, status), []),
            ("smd", lambda: smd(results, status, notes),
             {"configs": [], "machines": [], "tables": {}, "search": {}, "means": {}}),
            ("logs", lambda: logs(results, status), {}),
            ("memory", lambda: memory(results, status, notes), [])):
        try:
            rep[key] = fn()
        except Exception as e:  # noqa: BLE001 (any bug here must not cost the whole report)
            print("report.py: %s: %s: %s" % (key, type(e).__name__, e), file=sys.stderr)
            broken.append(key)
            rep[key] = dict(empty, state="report.py failed: %s" % e) if isinstance(empty, dict) \
                else empty
    rep["not_recorded"] = notes
    rep["broken_sections"] = broken
    rep["results"] = results
    rep["stale"] = stale
    try:
        write(os.path.join(bench_dir, "report.json"),
              json.dumps(rep, indent=2, sort_keys=True) + "\n")
        md = os.path.join(bench_dir, "report.md")
        write(md, markdown(rep))
    except OSError as e:
        print("report.py: %s" % e, file=sys.stderr)
        return 1
    print("report: %s" % md)
    print("        %s" % os.path.join(bench_dir, "report.json"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
