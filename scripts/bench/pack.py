"""pack.py: aiops-pack against `tar czf`, measured in the same run on the same files.

The files: a model (aiops-train zscore on testdata/metrics-demo.csv) and two large extra
files of 100 MB each made with numpy's seeded generator: noise.bin, random bytes (gzip cannot
shrink them), and weights.f64, standard normal float64 values (like a model's arrays; gzip
shrinks them a little). Both tools compress at gzip level 6: GNU tar's -z runs gzip(1) with
its default level, 6, and aiops-pack runs at --level 6, its default. aiops-pack runs with its
default -j (the online processors, at most 8) and with -j 1; its artifact is written
atomically, which includes an fsync that `tar czf` does not do. Each command runs REPEAT
times, interleaved, and the median wall time counts; CPU times (user + sys) are reported too,
as wall times on a busy machine vary. Also measured: aiops-pack's peak RSS
(GNU time), which must stay far below the files' size (streaming), and that every aiops-pack
run made the same bytes, which verify.

Target: aiops-pack time / `tar czf` time <= 1.1. Prints the ratio and writes
$AIOPS_BENCH_DIR/pack.json. Exits 1 when a result is wrong (a failed run, artifacts that
differ, an artifact that does not verify or does not hold the files); a missed target only
fails with AIOPS_BENCH_STRICT=1. Run by scripts/bench/run.sh, which sets the environment.
"""
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import benchlib  # noqa: E402
from benchlib import say  # noqa: E402
TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("AIOPS_BIN") or os.path.join(TOP, "build", "bin")
BENCH = os.environ.get("AIOPS_BENCH_DIR") or os.path.join(TOP, "build", "bench")
STRICT = os.environ.get("AIOPS_BENCH_STRICT", "") not in ("", "0")

INGEST = os.path.join(BIN, "aiops-ingest")
TRAIN = os.path.join(BIN, "aiops-train")
PACK = os.path.join(BIN, "aiops-pack")
SCRATCH = os.path.join(BENCH, "pack.tmp")

NOISE_BYTES = 100 << 20
WEIGHTS_BYTES = 100 << 20
LEVEL = 6
REPEAT = 3
TARGET_RATIO = 1.1              # aiops-pack wall / tar czf wall
TARGET_RSS_FRACTION = 0.25      # peak RSS / input bytes: far below, i.e. streamed

errors = []


def fail(msg):
    errors.append(msg)
    say("FAIL:", msg)


def run(argv, env=None, cwd=None):
    """Runs argv; returns (wall seconds, peak RSS KiB, CPU seconds of it and its children).
    A non-zero status raises."""
    fd, out = tempfile.mkstemp(prefix="rss.")
    os.close(fd)
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", out] + list(argv), cwd=cwd,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    with open(out) as f:
        lines = f.read().split()
    os.unlink(out)
    if p.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(argv), p.returncode,
                                                   p.stderr.decode(errors="replace").strip()))
    return dt, int(lines[-3]), float(lines[-2]) + float(lines[-1])


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main():
    t0 = time.perf_counter()
    res = {"level": LEVEL, "repeat": REPEAT, "machine": "%s, %d CPUs, Python %s, numpy %s" %
           (platform.machine(), os.cpu_count() or 0, platform.python_version(), np.__version__)}
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", LC_ALL="C", TZ="UTC")
    for k in ("CI_COMMIT_TAG", "CI_COMMIT_SHORT_SHA"):
        env.pop(k, None)
    try:
        csv = os.path.join(TOP, "testdata", "metrics-demo.csv")
        run([INGEST, "-q", "-o", "demo.tensor", csv], env=env, cwd=SCRATCH)
        run([TRAIN, "-q", "--space", "zscore", "-o", "cpu.model", "demo.tensor"], env=env,
            cwd=SCRATCH)
        rng = np.random.default_rng(0)
        rng.integers(0, 256, NOISE_BYTES, dtype=np.uint8).tofile(os.path.join(SCRATCH, "noise.bin"))
        rng.standard_normal(WEIGHTS_BYTES // 8).tofile(os.path.join(SCRATCH, "weights.f64"))
        files = ["cpu.model", "noise.bin", "weights.f64"]
        inbytes = sum(os.path.getsize(os.path.join(SCRATCH, f)) for f in files)
        res["input_bytes"] = inbytes
        say("files: %s, %.1f MB in all" % (", ".join(files), inbytes / 1e6))
        jobs = min(os.cpu_count() or 1, 8)
        res["jobs"] = jobs
        cmds = {
            "tar_czf": ["tar", "czf", "t.tar.gz"] + files,
            "pack": [PACK, "-q", "-V", "bench", "--level", str(LEVEL), "-o", "p.tar.gz"] + files,
            "pack_j1": [PACK, "-q", "-j", "1", "-V", "bench", "--level", str(LEVEL), "-o",
                        "p1.tar.gz"] + files,
        }
        times = {k: [] for k in cmds}
        cpu = {k: [] for k in cmds}
        rss = []
        digests = set()
        for i in range(REPEAT):
            for k, argv in cmds.items():
                dt, kib, c = run(argv, env=env, cwd=SCRATCH)
                times[k].append(dt)
                cpu[k].append(c)
                if k.startswith("pack"):
                    rss.append(kib)
                    digests.add(sha(os.path.join(SCRATCH, argv[argv.index("-o") + 1])))
                say("run %d: %-8s %6.2f s, CPU %6.2f s%s" % (i + 1, k, dt, c,
                                                  ", peak RSS %.1f MB" % (kib / 1024)
                                                  if k.startswith("pack") else ""))
        for k in cmds:
            res["%s_seconds" % k] = round(statistics.median(times[k]), 3)
            res["%s_seconds_all" % k] = [round(x, 3) for x in times[k]]
            res["%s_cpu_seconds" % k] = round(statistics.median(cpu[k]), 3)
        res["ratio"] = round(res["pack_seconds"] / res["tar_czf_seconds"], 3)
        res["ratio_j1"] = round(res["pack_j1_seconds"] / res["tar_czf_seconds"], 3)
        res["pack_peak_rss_kib"] = max(rss)
        res["rss_fraction"] = round(max(rss) * 1024 / inbytes, 4)
        res["artifact_bytes"] = os.path.getsize(os.path.join(SCRATCH, "p.tar.gz"))
        res["tar_bytes"] = os.path.getsize(os.path.join(SCRATCH, "t.tar.gz"))
        if len(digests) != 1:
            fail("aiops-pack made %d different artifacts from the same inputs" % len(digests))
        run([PACK, "--verify", "-q", "p.tar.gz"], env=env, cwd=SCRATCH)
        with tarfile.open(os.path.join(SCRATCH, "p.tar.gz")) as t:
            names = [m.name for m in t.getmembers()]
        if names != ["manifest.json"] + sorted(files):
            fail("the artifact holds %s" % names)
    except (RuntimeError, OSError, ValueError) as e:
        fail(str(e))
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)

    missed = []
    if "ratio" in res:
        say("")
        say("gzip level %d; aiops-pack -j %d" % (LEVEL, res["jobs"]))
        say("tar czf        %6.2f s  %6.1f MB" % (res["tar_czf_seconds"], res["tar_bytes"] / 1e6))
        say("aiops-pack     %6.2f s  %6.1f MB  ratio %.2f (target <= %.1f)" %
            (res["pack_seconds"], res["artifact_bytes"] / 1e6, res["ratio"], TARGET_RATIO))
        say("aiops-pack -j1 %6.2f s            ratio %.2f" % (res["pack_j1_seconds"], res["ratio_j1"]))
        say("CPU seconds (user + sys, children included): tar czf %.2f, aiops-pack %.2f, -j1 %.2f" %
            (res["tar_czf_cpu_seconds"], res["pack_cpu_seconds"], res["pack_j1_cpu_seconds"]))
        say("peak RSS of aiops-pack: %.1f MB, %.3f of the input (target <= %.2f)" %
            (res["pack_peak_rss_kib"] / 1024, res["rss_fraction"], TARGET_RSS_FRACTION))
        if res["ratio"] > TARGET_RATIO:
            missed.append("pack vs tar czf %.2f > %.1f" % (res["ratio"], TARGET_RATIO))
        if res["rss_fraction"] > TARGET_RSS_FRACTION:
            missed.append("peak RSS %.3f of the input > %.2f" % (res["rss_fraction"],
                                                                 TARGET_RSS_FRACTION))
    res["targets"] = {"ratio_max": TARGET_RATIO, "rss_fraction_max": TARGET_RSS_FRACTION}
    res["targets_missed"] = missed
    return benchlib.finish("pack", BENCH, res, t0, errors, missed, STRICT)


if __name__ == "__main__":
    sys.exit(main())
