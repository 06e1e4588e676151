"""logs.py: log template mining (aiops-ingest --logs) on loghub-2k and on a generated log.

Accuracy: for every system of ../shared/datasets/loghub-2k, aiops-ingest --logs runs with the
default parameters (only the header format differs: the formats are loghub's published header
formats, written without regular-expression syntax) and its per-line output (--lines) is
compared with the *_structured_corrected.csv ground truth, joined on LineId:
  GA (grouping accuracy): the share of lines whose parsed group holds exactly the lines of
     their true group;
  PA (parsing accuracy): the share of lines whose template equals the true one (blanks
     collapsed).
Target: mean GA >= 0.85 (Drain's published level).

Speed: a generated HDFS-like log (1M lines of 8 templates with random block ids, IPs, sizes
and ports, seeded), read REPEAT times as one stream of REPEAT x 1M lines (the same file given
REPEAT times: 10M lines by default) through aiops-ingest --logs, which runs on one core.
Target: >= 1M lines/s on one core, i.e. lines / (user + system CPU seconds) of the run; the
wall-clock rate is recorded too (the same on an idle machine). Peer, measured in the same run: the header split and blank tokenisation of the same
lines in Python (re, no template mining: a lower bound of what a Python parser costs), and
`wc -l` (the floor of reading the file). Memory: peak RSS (getrusage) of the 1M-line and the
10M-line runs, which must be about equal (memory bounded by templates, not lines).

Writes $AIOPS_BENCH_DIR/logs.json. Exits 1 on a wrong result (a failed run, a line missing from
the output); a missed target fails only with AIOPS_BENCH_STRICT=1.
"""
import collections
import csv
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import benchlib  # noqa: E402
from benchlib import say  # noqa: E402
TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("AIOPS_BIN") or os.path.join(TOP, "build", "bin")
BENCH = os.environ.get("AIOPS_BENCH_DIR") or os.path.join(TOP, "build", "bench")
SHARED = os.environ.get("AIOPS_SHARED") or os.path.join(TOP, "..", "shared")
STRICT = os.environ.get("AIOPS_BENCH_STRICT", "") not in ("", "0")
REPEAT = int(os.environ.get("AIOPS_BENCH_LOG_REPEAT", "10"))
LOGHUB = os.path.join(SHARED, "datasets", "loghub-2k")

# loghub's header formats (logparser's benchmark settings), without regex syntax
FORMATS = {
    "Android": "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    "Apache": r"\[<Time>\] \[<Level>\] <Content>",
    "BGL": "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "HPC": "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    "Hadoop": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
    "HealthApp": "<Time>|<Component>|<Pid>|<Content>",
    "Linux": "<Month> <Date> <Time> <Level> <Component>: <Content>",
    "Mac": "<Month>  <Date> <Time> <User> <Component>: <Content>",
    "OpenSSH": "<Date> <Day> <Time> <Component>: <Content>",
    "OpenStack": r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
    "Proxifier": r"\[<Time>\] <Program> - <Content>",
    "Spark": "<Date> <Time> <Level> <Component>: <Content>",
    "Thunderbird": "<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>: <Content>",
    "Windows": "<Date> <Time>, <Level>                  <Component>    <Content>",
    "Zookeeper": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
}
HDFS_FORMAT = FORMATS["HDFS"]


def run_timed(argv):
    """Run argv; return (wall seconds, CPU seconds (user + sys), peak RSS MiB, status, stderr)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, p.returncode, err


def accuracy(errors):
    systems = {}
    work = os.path.join(BENCH, "logs")
    os.makedirs(work, exist_ok=True)
    for name in sorted(os.listdir(LOGHUB)):
        log = os.path.join(LOGHUB, name, name + "_2k.log")
        truth = os.path.join(LOGHUB, name, name + "_2k.log_structured_corrected.csv")
        if not os.path.exists(log) or not os.path.exists(truth):
            continue
        if name not in FORMATS:
            errors.append("%s: no header format known" % name)
            continue
        lines = os.path.join(work, name + ".lines.csv")
        p = subprocess.run([os.path.join(BIN, "aiops-ingest"), "--logs", "--log-format",
                            FORMATS[name], "--lines", lines, "-q", "-O", "csv", "-o",
                            os.path.join(work, name + ".csv"), log],
                           capture_output=True, text=True)
        if p.returncode != 0:
            errors.append("%s: aiops-ingest failed: %s" % (name, p.stderr.strip()))
            continue
        with open(truth, newline="", encoding="utf-8", errors="replace") as f:
            gt = {int(r["LineId"]): (r["EventId"], r["EventTemplate"]) for r in csv.DictReader(f)}
        with open(lines, newline="", encoding="utf-8", errors="replace") as f:
            pr = {int(r["LineId"]): (r["EventId"], r["EventTemplate"]) for r in csv.DictReader(f)}
        missing = [i for i in gt if i not in pr]
        if missing:
            errors.append("%s: %d lines missing from the output (first %d)" %
                          (name, len(missing), missing[0]))
        size = collections.Counter(v[0] for v in gt.values())
        groups = collections.defaultdict(list)
        for i in gt:
            groups[pr.get(i, ("?", ""))[0]].append(i)
        good = 0
        for ids in groups.values():
            ev = {gt[i][0] for i in ids}
            if len(ev) == 1 and size[ev.pop()] == len(ids):
                good += len(ids)
        norm = lambda t: " ".join(t.split())  # noqa: E731
        pa = sum(1 for i in gt if i in pr and norm(pr[i][1]) == norm(gt[i][1]))
        systems[name] = {"ga": round(good / len(gt), 4), "pa": round(pa / len(gt), 4),
                         "lines": len(gt), "templates": len(groups), "true_templates": len(size)}
        say("%-12s GA %.3f  PA %.3f  templates %d (true %d)" %
            (name, good / len(gt), pa / len(gt), len(groups), len(size)))
    return systems


def generate(path, n, seed=1):
    r = random.Random(seed)
    tpl = ["PacketResponder {a} for block blk_{b} terminating",
           "Received block blk_{b} of size {c} from /{ip}",
           "BLOCK* NameSystem.addStoredBlock: blockMap updated: {ip}:50010 is added to blk_{b} size {c}",
           "Receiving block blk_{b} src: /{ip}:{p} dest: /{ip2}:50010",
           "BLOCK* NameSystem.allocateBlock: /user/root/rand/_temporary/_task_{t}/part-{a}. blk_{b}",
           "Verification succeeded for blk_{b}",
           "Deleting block blk_{b} file /mnt/hadoop/dfs/data/current/subdir{a}/blk_{b}",
           "{ip}:50010 Served block blk_{b} to /{ip2}"]
    comp = ["dfs.DataNode$PacketResponder", "dfs.DataNode$DataXceiver", "dfs.FSNamesystem",
            "dfs.DataBlockScanner", "dfs.FSDataset"]
    t0 = 1226262975
    with open(path, "w") as f:
        buf = []
        for i in range(n):
            lt = time.gmtime(t0 + i // 50)
            ip = "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(256))
            ip2 = "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(256))
            msg = tpl[r.randrange(len(tpl))].format(
                a=r.randrange(3), b=r.randrange(-2**62, 2**62), c=r.randrange(1 << 26), ip=ip,
                ip2=ip2, p=r.randrange(40000, 60000), t=r.randrange(1 << 40))
            buf.append("%02d%02d%02d %02d%02d%02d %d INFO %s: %s\n" % (
                lt.tm_year % 100, lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec,
                r.randrange(1, 999), comp[r.randrange(len(comp))], msg))
            if len(buf) >= 20000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def python_peer(path):
    """Header split and tokenisation only, in Python: lines/s."""
    hdr = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*?):\s+(.*)$")
    t = time.perf_counter()
    n = 0
    with open(path) as f:
        for line in f:
            m = hdr.match(line)
            if m:
                m.group(6).split()
            n += 1
    return n / (time.perf_counter() - t)


def main():
    t0 = time.perf_counter()
    errors, missed = [], []
    res = {"target_mean_ga": 0.85, "target_lines_per_s": 1e6}
    say("== loghub-2k: GA and PA per system (default parameters)")
    systems = accuracy(errors)
    res["systems"] = systems
    if systems:
        res["mean_ga"] = round(sum(s["ga"] for s in systems.values()) / len(systems), 4)
        res["mean_pa"] = round(sum(s["pa"] for s in systems.values()) / len(systems), 4)
        say("mean GA %.3f (target >= 0.85), mean PA %.3f over %d systems" %
            (res["mean_ga"], res["mean_pa"], len(systems)))
        if res["mean_ga"] < 0.85:
            missed.append("mean GA %.3f < 0.85" % res["mean_ga"])
    gen = os.path.join(BENCH, "hdfs-like-1m.log")
    if not os.path.exists(gen):
        say("== generating %s (1M lines)" % gen)
        generate(gen + ".tmp", 1000000)
        os.replace(gen + ".tmp", gen)
    ing = [os.path.join(BIN, "aiops-ingest"), "--logs", "--log-format", HDFS_FORMAT, "-q",
           "-O", "csv", "-o", os.devnull]
    w1, c1, rss1, rc1, err1 = run_timed(ing + [gen])
    if rc1 != 0:
        errors.append("aiops-ingest --logs on 1M lines failed: %s" % err1.strip())
    wall, cpu, rss, rc, err = run_timed(ing + [gen] * REPEAT)
    if rc != 0:
        errors.append("aiops-ingest --logs on %dM lines failed: %s" % (REPEAT, err.strip()))
    lines = REPEAT * 1000000
    lps = lines / wall
    cpu_lps = lines / cpu
    t = time.perf_counter()
    subprocess.run(["wc", "-l"] + [gen] * REPEAT, capture_output=True)
    wc_lps = lines / (time.perf_counter() - t)
    py_lps = python_peer(gen)
    res["speed"] = {"lines": lines, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                    "lines_per_s": round(lps), "cpu_lines_per_s": round(cpu_lps),
                    "python_split_lines_per_s": round(py_lps), "wc_lines_per_s": round(wc_lps),
                    "ratio_vs_python_split": round(lps / py_lps, 2),
                    "ratio_vs_wc": round(lps / wc_lps, 3)}
    res["peak_rss_mb"] = round(rss, 1)
    res["peak_rss_mb_1m"] = round(rss1, 1)
    say("speed: %d lines in %.2f s wall = %.2fM lines/s, %.2f s CPU = %.2fM lines/s per core "
        "(target >= 1M on one core); Python split+tokenise %.2fM lines/s (%.1fx); wc -l %.0fM "
        "lines/s (%.3f of it)" % (lines, wall, lps / 1e6, cpu, cpu_lps / 1e6, py_lps / 1e6,
                                   lps / py_lps, wc_lps / 1e6, lps / wc_lps))
    say("peak RSS: %.1f MiB at 1M lines, %.1f MiB at %dM lines" % (rss1, rss, REPEAT))
    if cpu_lps < 1e6:
        missed.append("%.2fM lines/s per core < 1M" % (cpu_lps / 1e6))
    if rss > 2 * rss1 + 16:
        missed.append("memory grows with lines (%.0f MiB -> %.0f MiB)" % (rss1, rss))
    return benchlib.finish("logs", BENCH, res, t0, errors, missed, STRICT)


if __name__ == "__main__":
    sys.exit(main())
