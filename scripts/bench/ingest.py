"""ingest.py: aiops-ingest against its peers, measured in the same run on the same files.

(a) speed: a 1,000,000 x 38 numeric CSV, aiops-ingest to a tensor vs pandas.read_csv and cat,
    at the default -j (2 threads on 2 processors) and on one core (-j 1), with the file in the
    page cache (the headline), and again with the file dropped from the page cache before
    every run (posix_fadvise DONTNEED), where cat reads at the disk's rate; and the floor
    of the one-core figure: the same reading and tensor writing without any parsing
    (build/bench/iofloor, from scripts/bench/iofloor.c);
(b) memory: peak RSS of stdin-to-stdout streaming at 100k and 1M rows (should be flat);
(c) exactness: every SMD train/test file, aiops-ingest -O npy vs numpy.loadtxt, value for value.
Prints a summary table and writes it as JSON to $AIOPS_BENCH_DIR/ingest.json. Exits 1 when a
result is wrong (a mismatch, a failed run); a missed speed or memory target only fails with
AIOPS_BENCH_STRICT=1. Run by scripts/bench/run.sh, which sets the environment.
"""
import glob
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROWS, COLS = 1_000_000, 38
SMALL_ROWS = 100_000
REPEAT = 3
TARGET_PANDAS_RATIO = 10.0
TARGET_CAT_RATIO = 0.25
TARGET_RSS_RATIO = 1.5          # "about 1": 10x the rows may cost at most 1.5x the memory

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import benchlib  # noqa: E402
from benchlib import say  # noqa: E402
TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("AIOPS_BIN") or os.path.join(TOP, "build", "bin")
TESTBIN = os.environ.get("AIOPS_TESTBIN") or os.path.join(BIN, "..", "tests")
SHARED = os.environ.get("AIOPS_SHARED") or os.path.join(TOP, "..", "shared")
BENCH = os.environ.get("AIOPS_BENCH_DIR") or os.path.join(TOP, "build", "bench")
PYTHON = os.environ.get("PYTHON") or sys.executable
STRICT = os.environ.get("AIOPS_BENCH_STRICT", "") not in ("", "0")

INGEST = os.path.join(BIN, "aiops-ingest")
GENCSV = os.path.join(TESTBIN, "gencsv")
BENCHBIN = os.environ.get("AIOPS_BENCHBIN") or os.path.join(os.path.dirname(BIN), "bench")
IOFLOOR = os.path.join(BENCHBIN, "iofloor")
SCRATCH = os.path.join(BENCH, "ingest.tmp")

errors = []


def fail(msg):
    errors.append(msg)
    say("FAIL:", msg)


def run(argv, stdin=None, stdout=subprocess.DEVNULL, env=None):
    """Runs argv (with env added to the environment); returns (wall seconds, stderr
    text); a non-zero status is an error."""
    t = time.perf_counter()
    p = subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       env=dict(os.environ, **env) if env else None)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(argv), p.returncode,
                                                   p.stderr.decode(errors="replace").strip()))
    return dt, p.stderr.decode(errors="replace")


def simd_level():
    """The best vector level aiops-ingest can use here (lib/fields.c): avx512 needs
    AVX-512 F, BW, CD, DQ, VL and VBMI (and BMI2), avx2 AVX2."""
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    if {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx512vbmi",
            "bmi2"} <= flags:
        return "avx512"
    return "avx2" if "avx2" in flags else "none"


def best(fn, n=REPEAT):
    return min(fn() for _ in range(n))


def evict(path):
    """Drops path's clean pages from the page cache, so the next read comes from the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cold(fn, path):
    """fn() with path out of the page cache first."""
    evict(path)
    return fn()


def peak_rss_kb(argv, stdin_path):
    """Peak RSS (KiB) of argv alone, from GNU time, which execs it from its own small
    process (a child forked from this Python process would count inherited pages)."""
    fd, out = tempfile.mkstemp(prefix="rss.")
    os.close(fd)
    with open(stdin_path, "rb") as fin, open(os.devnull, "wb") as fout:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + list(argv),
                           stdin=fin, stdout=fout, stderr=subprocess.PIPE)
    with open(out) as f:
        lines = f.read().split()
    os.unlink(out)
    if p.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(argv), p.returncode,
                                                   p.stderr.decode(errors="replace").strip()))
    return int(lines[-1])


def mb(nbytes):
    return nbytes / 1e6


# pandas runs in a fresh interpreter each time, so that nothing is warm but the page cache;
# only the read_csv call is inside the timer.
PANDAS_CHILD = r"""
import sys, time
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
dt = time.perf_counter() - t
print(dt, df.shape[0], df.shape[1])
"""


def pandas_read(path):
    t = time.perf_counter()
    p = subprocess.run([PYTHON, "-c", PANDAS_CHILD, path], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError("pandas.read_csv: status %d: %s" % (p.returncode, p.stderr.strip()))
    inner, r, c = p.stdout.split()
    if (int(r), int(c)) != (ROWS, COLS):
        raise RuntimeError("pandas.read_csv: shape (%s, %s), wanted (%d, %d)" % (r, c, ROWS, COLS))
    return float(inner), wall


def tensor_info(path):
    p = subprocess.run([INGEST, "--info", path], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("aiops-ingest --info %s: %s" % (path, p.stderr.strip()))
    return json.loads(p.stdout)


def speed(res):
    say("--- (a) speed: %d x %d CSV" % (ROWS, COLS))
    big = os.path.join(SCRATCH, "big.csv")
    tensor = os.path.join(SCRATCH, "big.tensor")
    with open(big, "wb") as f:
        t, _ = run([GENCSV, "-H", str(ROWS), str(COLS)], stdout=f)
    size = os.path.getsize(big)
    say("gencsv: %.1f MB in %.2f s" % (mb(size), t))
    run(["cat", big])                       # warm the page cache for everyone

    def to_tensor(jobs, simd=None):
        """aiops-ingest -j jobs big.csv -o big.tensor, a new file each time: replacing the
        last run's 304 MB tensor would add the freeing of its blocks to the rename.
        simd: AIOPS_SIMD for the run (aiops-ingest(1)), else the processor's best."""
        if os.path.exists(tensor):
            os.unlink(tensor)
        return run([INGEST, "-j", str(jobs), big, "-o", tensor],
                   env={"AIOPS_SIMD": simd} if simd else None)[0]

    def check_shape(who):
        """The tensor just written has ROWS rows and COLS columns."""
        info = tensor_info(tensor)
        if info.get("rows") != ROWS or len(info.get("columns", [])) != COLS:
            fail("%s: %s rows, %d columns; wanted %d, %d" %
                 (who, info.get("rows"), len(info.get("columns", [])), ROWS, COLS))

    # The default -j: 2 threads where there are 2 processors (aiops-ingest(1)); -j 1 is
    # one core, as pandas.read_csv is.
    jobs = 2 if (os.cpu_count() or 1) >= 2 else 1
    aiops = best(lambda: to_tensor(jobs))
    check_shape("big.tensor")
    aiops1 = best(lambda: to_tensor(1))

    # The same work without the parsing (scripts/bench/iofloor.c): read the CSV, write the
    # same 1M x 38 float64 tensor through the library's writer (blocks, CRC-32, fsync,
    # rename). cat / that is the most that any parser can reach of cat's rate on one core.
    def floor_run():
        if os.path.exists(tensor):
            os.unlink(tensor)
        return run([IOFLOOR, big, str(ROWS), str(COLS), tensor])[0]
    floor = best(floor_run)
    check_shape("iofloor's tensor")

    # What a processor without AVX-512 (VBMI) gets: AVX2's four fields at a time, and
    # one by one. Where this one lacks a level, the run is the level below.
    aiops_avx2 = best(lambda: to_tensor(jobs, "avx2"))
    aiops_scalar = best(lambda: to_tensor(jobs, "none"))
    os.unlink(tensor)
    aiops_null = best(lambda: run([INGEST, "-j", str(jobs), big])[0])
    aiops1_null = best(lambda: run([INGEST, "-j", "1", big])[0])
    say("aiops-ingest -j %d big.csv -o big.tensor: %.3f s (best of %d); to /dev/null %.3f s" %
        (jobs, aiops, REPEAT, aiops_null))
    say("aiops-ingest -j 1 big.csv -o big.tensor: %.3f s (best of %d); to /dev/null %.3f s" %
        (aiops1, REPEAT, aiops1_null))
    say("no parsing (iofloor: read big.csv, write the tensor): %.3f s (best of %d)" %
        (floor, REPEAT))
    say("processor: %s; -j %d -o big.tensor with AIOPS_SIMD=avx2 %.3f s, =none %.3f s" %
        (simd_level(), jobs, aiops_avx2, aiops_scalar))

    # Exactness on a slice of the same data: aiops-ingest -O npy vs numpy.loadtxt.
    head = os.path.join(SCRATCH, "head.csv")
    with open(big, "rb") as fin, open(head, "wb") as fout:
        for _ in range(10_001):
            fout.write(fin.readline())
    npy = os.path.join(SCRATCH, "head.npy")
    run([INGEST, head, "-O", "npy", "-o", npy])
    got, ref = np.load(npy), np.loadtxt(head, delimiter=",", skiprows=1)
    if got.shape != ref.shape or not np.array_equal(got, ref, equal_nan=True):
        fail("big.csv first 10000 rows: aiops-ingest -O npy %s differs from numpy.loadtxt %s" %
             (got.shape, ref.shape))
    else:
        say("first 10000 rows: equal to numpy.loadtxt")

    runs = [pandas_read(big) for _ in range(REPEAT)]
    pd_inner, pd_wall = min(r[0] for r in runs), min(r[1] for r in runs)
    say("pandas.read_csv: %.3f s (best of %d), process wall %.3f s" % (pd_inner, REPEAT, pd_wall))
    cat = best(lambda: run(["cat", big])[0])
    say("cat big.csv >/dev/null: %.3f s (best of %d)" % (cat, REPEAT))

    # The same from the disk: the file leaves the page cache before every run.
    cold_cat = best(lambda: cold(lambda: run(["cat", big])[0], big))
    cold_aiops = best(lambda: cold(lambda: to_tensor(jobs), big))
    cold_aiops1 = best(lambda: cold(lambda: to_tensor(1), big))
    os.unlink(tensor)
    cold_pd = min(cold(lambda: pandas_read(big), big)[0] for _ in range(REPEAT))
    say("from the disk (out of the page cache before each run): cat %.3f s, aiops-ingest -o "
        "tensor %.3f s (-j 1 %.3f s), pandas.read_csv %.3f s (best of %d)" %
        (cold_cat, cold_aiops, cold_aiops1, cold_pd, REPEAT))
    os.unlink(big)

    # The targets: pandas_ratio at the default -j; cat_rate_ratio on one core (-j 1), as
    # issue 2 words it. The other of each pair is there too.
    res.update({
        "csv_mb": round(mb(size), 1), "jobs": jobs,
        "aiops_s": round(aiops, 4), "aiops_null_s": round(aiops_null, 4),
        "aiops_1core_s": round(aiops1, 4), "aiops_1core_null_s": round(aiops1_null, 4),
        "pandas_s": round(pd_inner, 4), "pandas_wall_s": round(pd_wall, 4),
        "cat_s": round(cat, 4),
        "aiops_mb_s": round(mb(size) / aiops, 1), "aiops_null_mb_s": round(mb(size) / aiops_null, 1),
        "aiops_1core_mb_s": round(mb(size) / aiops1, 1),
        "pandas_mb_s": round(mb(size) / pd_inner, 1), "cat_mb_s": round(mb(size) / cat, 1),
        "pandas_ratio": round(pd_inner / aiops, 2),
        "pandas_null_ratio": round(pd_inner / aiops_null, 2),
        "pandas_ratio_1core": round(pd_inner / aiops1, 2),
        "simd": simd_level(),
        "aiops_avx2_s": round(aiops_avx2, 4), "aiops_scalar_s": round(aiops_scalar, 4),
        "pandas_ratio_avx2": round(pd_inner / aiops_avx2, 2),
        "pandas_ratio_scalar": round(pd_inner / aiops_scalar, 2),
        "pandas_wall_ratio": round(pd_wall / aiops, 2),
        "cat_rate_ratio": round(cat / aiops1, 4),
        "cat_rate_ratio_jobs": round(cat / aiops, 4),
        "floor_s": round(floor, 4), "cat_rate_bound": round(cat / floor, 4),
        "cold_cat_s": round(cold_cat, 4), "cold_aiops_s": round(cold_aiops, 4),
        "cold_aiops_1core_s": round(cold_aiops1, 4),
        "cold_pandas_s": round(cold_pd, 4),
        "cold_cat_rate_ratio": round(cold_cat / cold_aiops1, 4),
        "cold_pandas_ratio": round(cold_pd / cold_aiops, 2),
    })


def memory(res):
    say("--- (b) memory: aiops-ingest - <X.csv >/dev/null")
    paths = {}
    for n in (SMALL_ROWS, ROWS):
        paths[n] = os.path.join(SCRATCH, "rss-%d.csv" % n)
        with open(paths[n], "wb") as f:
            run([GENCSV, "-H", str(n), str(COLS)], stdout=f)
    rss = {n: min(peak_rss_kb([INGEST, "-"], paths[n]) for _ in range(2)) for n in paths}
    # The same measure of a buffering run (--sort), to show that it does see growth.
    rss_sort = peak_rss_kb([INGEST, "--sort", "-"], paths[ROWS])
    for p in paths.values():
        os.unlink(p)
    ratio = rss[ROWS] / rss[SMALL_ROWS]
    say("peak RSS: %d rows %d KiB, %d rows %d KiB, ratio %.2f; --sort at %d rows %d KiB" %
        (SMALL_ROWS, rss[SMALL_ROWS], ROWS, rss[ROWS], ratio, ROWS, rss_sort))
    res.update({"rss_100k_kb": rss[SMALL_ROWS], "rss_1m_kb": rss[ROWS],
                "rss_ratio": round(ratio, 3), "rss_sort_1m_kb": rss_sort})


def smd(res):
    say("--- (c) SMD: aiops-ingest FILE -O npy vs numpy.loadtxt")
    root = os.path.join(SHARED, "datasets", "smd")
    files = sorted(glob.glob(os.path.join(root, "train", "*.txt.gz"))) + \
        sorted(glob.glob(os.path.join(root, "test", "*.txt.gz")))
    if not files:
        say("SKIP: no SMD files under %s (set AIOPS_SHARED)" % root)
        res.update({"smd_files": 0, "smd_rows": 0, "smd_match": None})
        return
    npy = os.path.join(SCRATCH, "smd.npy")
    t_aiops = t_numpy = t_pandas = 0.0
    rows = bad = 0
    import pandas as pd
    for path in files:
        name = os.path.relpath(path, root)
        try:
            dt, _ = run([INGEST, path, "-O", "npy", "-o", npy])
            t_aiops += dt
            got = np.load(npy)
            t = time.perf_counter()
            with gzip.open(path) as f:
                ref = np.loadtxt(f, delimiter=",")
            t_numpy += time.perf_counter() - t
            t = time.perf_counter()
            pd.read_csv(path, header=None)
            t_pandas += time.perf_counter() - t
        except (RuntimeError, OSError, ValueError) as e:
            bad += 1
            fail("SMD %s: %s" % (name, e))
            say("%-26s %6s x %2s  FAIL" % (name, "?", "?"))
            continue
        ok = got.dtype == np.float64 and got.shape == ref.shape and np.array_equal(got, ref, equal_nan=True)
        if not ok:
            bad += 1
            detail = "shape %s vs %s" % (got.shape, ref.shape)
            if got.shape == ref.shape:
                diff = np.argwhere(~((got == ref) | (np.isnan(got) & np.isnan(ref))))
                detail = "%d values differ, first at row %d col %d: %r vs %r" % (
                    len(diff), diff[0][0], diff[0][1], got[tuple(diff[0])], ref[tuple(diff[0])])
            fail("SMD %s: %s" % (name, detail))
        rows += ref.shape[0]
        say("%-26s %6d x %2d  %s" % (name, ref.shape[0], ref.shape[1], "PASS" if ok else "FAIL"))
    os.unlink(npy)
    say("SMD: %d files, %d rows, %s; aiops-ingest %.2f s, numpy.loadtxt %.2f s, "
        "pandas.read_csv %.2f s" % (len(files), rows, "all equal" if bad == 0 else
                                    "%d MISMATCHED" % bad, t_aiops, t_numpy, t_pandas))
    res.update({"smd_files": len(files), "smd_rows": rows, "smd_match": bad == 0,
                "smd_aiops_s": round(t_aiops, 3), "smd_numpy_s": round(t_numpy, 3),
                "smd_pandas_s": round(t_pandas, 3),
                "smd_numpy_ratio": round(t_numpy / t_aiops, 2) if t_aiops else None,
                "smd_pandas_ratio": round(t_pandas / t_aiops, 2) if t_aiops else None})


def summary(res):
    def row(what, value, target="", met=None, bad="BELOW TARGET"):
        flag = "" if met is None else ("ok" if met else bad)
        say("%-44s %16s  %-10s %s" % (what, value, target, flag))

    say("")
    say("=== summary: aiops-ingest, %s, %d CPUs, Python %s, numpy %s, pandas %s" %
        (platform.machine(), os.cpu_count() or 0, platform.python_version(), np.__version__,
         res.get("pandas_version", "?")))
    row("measure", "value", "target")
    if "aiops_s" in res:
        row("CSV size (%d x %d)" % (ROWS, COLS), "%.1f MB" % res["csv_mb"])
        row("aiops-ingest -j %d -o tensor" % res["jobs"], "%.3f s %6.1f MB/s" %
            (res["aiops_s"], res["aiops_mb_s"]))
        row("aiops-ingest -j %d to /dev/null" % res["jobs"], "%.3f s %6.1f MB/s" %
            (res["aiops_null_s"], res["aiops_null_mb_s"]))
        row("aiops-ingest -j 1 -o tensor", "%.3f s %6.1f MB/s" %
            (res["aiops_1core_s"], res["aiops_1core_mb_s"]))
        row("aiops-ingest -j 1 to /dev/null", "%.3f s" % res["aiops_1core_null_s"])
        row("pandas.read_csv (read only)", "%.3f s %6.1f MB/s" % (res["pandas_s"], res["pandas_mb_s"]))
        row("pandas process wall", "%.3f s" % res["pandas_wall_s"])
        row("cat >/dev/null", "%.3f s %6.1f MB/s" % (res["cat_s"], res["cat_mb_s"]))
        row("pandas_time / aiops_time (-j %d)" % res["jobs"], "%.2f" % res["pandas_ratio"],
            ">= %g" % TARGET_PANDAS_RATIO, res["pandas_ratio"] >= TARGET_PANDAS_RATIO)
        row("  the same, aiops to /dev/null", "%.2f" % res["pandas_null_ratio"])
        row("  the same, aiops on one core (-j 1)", "%.2f" % res["pandas_ratio_1core"])
        if "pandas_ratio_avx2" in res:
            row("  the same, AIOPS_SIMD=avx2 (processor: %s)" % res["simd"],
                "%.2f" % res["pandas_ratio_avx2"])
            row("  the same, AIOPS_SIMD=none (one field at a time)",
                "%.2f" % res["pandas_ratio_scalar"])
        row("aiops MB/s / cat MB/s, one core (-j 1)", "%.4f" % res["cat_rate_ratio"],
            ">= %g" % TARGET_CAT_RATIO, res["cat_rate_ratio"] >= TARGET_CAT_RATIO)
        row("  the same, -j %d" % res["jobs"], "%.4f" % res["cat_rate_ratio_jobs"])
        if "floor_s" in res:
            row("no parsing: read the CSV, write the tensor", "%.3f s" % res["floor_s"])
            row("  cat / that: the most any parser reaches", "%.4f" % res["cat_rate_bound"])
        row("from the disk: cat, aiops-ingest -o tensor", "%.3f s, %.3f s (-j 1 %.3f s)" %
            (res["cold_cat_s"], res["cold_aiops_s"], res["cold_aiops_1core_s"]))
        row("  aiops MB/s / cat MB/s, from the disk, -j 1", "%.4f" % res["cold_cat_rate_ratio"])
        row("  pandas_time / aiops_time, from the disk", "%.2f" % res["cold_pandas_ratio"])
    if "rss_ratio" in res:
        row("peak RSS, %d rows" % SMALL_ROWS, "%d KiB" % res["rss_100k_kb"])
        row("peak RSS, %d rows" % ROWS, "%d KiB" % res["rss_1m_kb"])
        row("RSS ratio 1M / 100k", "%.3f" % res["rss_ratio"], "~1 (<= %g)" % TARGET_RSS_RATIO,
            res["rss_ratio"] <= TARGET_RSS_RATIO)
        row("peak RSS, %d rows, --sort (buffered)" % ROWS, "%d KiB" % res["rss_sort_1m_kb"])
    if res.get("smd_files"):
        row("SMD files", "%d" % res["smd_files"])
        row("SMD rows", "%d" % res["smd_rows"])
        row("SMD equal to numpy.loadtxt", "PASS" if res["smd_match"] else "FAIL", "all",
            res["smd_match"], "FAIL")
        row("SMD numpy.loadtxt / aiops time", "%.2f" % res["smd_numpy_ratio"])
        row("SMD pandas.read_csv / aiops time", "%.2f" % res["smd_pandas_ratio"])
    elif "smd_files" in res:
        row("SMD", "skipped (no data)")
    return [m for m, ok in (
        ("pandas_ratio", res.get("pandas_ratio", 0) >= TARGET_PANDAS_RATIO),
        ("cat_rate_ratio", res.get("cat_rate_ratio", 0) >= TARGET_CAT_RATIO),
        ("rss_ratio", res.get("rss_ratio", 99) <= TARGET_RSS_RATIO)) if not ok]


def main():
    for prog in (INGEST, GENCSV, IOFLOOR):
        if not os.access(prog, os.X_OK):
            say("ingest.py: %s: not built; run make first" % prog)
            return 1
    try:
        import pandas
        pandas_version = pandas.__version__
    except ImportError:
        say("ingest.py: pandas is missing (apt install python3-pandas)")
        return 1
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    res = {"pandas_version": pandas_version}
    t0 = time.perf_counter()
    try:
        for part in (speed, memory, smd):
            try:
                part(res)
            except (RuntimeError, OSError, ValueError) as e:
                fail("%s: %s" % (part.__name__, e))
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    missed = summary(res)
    res["targets"] = {"pandas_ratio": TARGET_PANDAS_RATIO, "cat_rate_ratio": TARGET_CAT_RATIO,
                      "rss_ratio_max": TARGET_RSS_RATIO}
    res["targets_missed"] = missed
    return benchlib.finish("ingest", BENCH, res, t0, errors, missed, STRICT)


if __name__ == "__main__":
    sys.exit(main())
