"""limits.py: aiops-ingest's memory on streams far larger than memory, and at its limits.

(a) flat memory: LIMITS_GB (default 10) GB of CSV from gencsv (38 columns, with a header)
    piped through `aiops-ingest -O csv - >/dev/null`, and the same with 0.1 GB, nothing
    stored on disk; the peak RSS of aiops-ingest of each (VmHWM of /proc/PID/status, read
    every 20 ms while it runs: the high-water mark of its own address space; and ru_maxrss
    of wait4() for the last moments, an upper bound as it also counts this small Python
    process's pages at the spawn), its throughput, and the ratio of the two peaks, which
    should be about 1;
(b) a line of 1 GB through a pipe, and a gzip stream of 5 GiB of one line (a bomb of a
    few MB): aiops-ingest must stop at its record limit of 64 MiB (aiops(7), "Bounded
    inputs") with an error naming the line, status 1, and a peak RSS near the limit.
Prints a summary and writes $AIOPS_BENCH_DIR/limits.json. Exits 1 when a result is wrong
(a failed stream, a wrong row count, a limit not enforced); a missed memory target only fails
with AIOPS_BENCH_STRICT=1. Run by scripts/bench/run.sh, which sets the environment.
"""
import os
import platform
import shutil
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import benchlib  # noqa: E402
from benchlib import say  # noqa: E402
TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("AIOPS_BIN") or os.path.join(TOP, "build", "bin")
TESTBIN = os.environ.get("AIOPS_TESTBIN") or os.path.join(BIN, "..", "tests")
BENCH = os.environ.get("AIOPS_BENCH_DIR") or os.path.join(TOP, "build", "bench")
STRICT = os.environ.get("AIOPS_BENCH_STRICT", "") not in ("", "0")

INGEST = os.path.join(BIN, "aiops-ingest")
GENCSV = os.path.join(TESTBIN, "gencsv")
SCRATCH = os.path.join(BENCH, "limits.tmp")

COLS = 38
ROW_BYTES = COLS * 9            # gencsv: "0.dddddd" and a separator per value
BIG_GB = float(os.environ.get("LIMITS_GB") or 10)
SMALL_GB = 0.1
RECORD_MAX = 64 << 20           # AIOPS_CSV_MAX_RECORD
TARGET_RSS_RATIO = 1.2          # 100x the data may cost at most 1.2x the memory
TARGET_RSS_KIB = 64 << 10       # a stream stays under 64 MiB
TARGET_LIMIT_RSS_KIB = 128 << 10  # stopping at the 64 MiB record limit stays under 128 MiB

errors = []


def fail(msg):
    errors.append(msg)
    say("FAIL:", msg)


def hwm_kib(pid):
    """VmHWM of pid in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def watch(p):
    """Wait for Popen p, sampling its VmHWM; returns (peak KiB, wall seconds). The peak is
    the larger of the last sample and the ru_maxrss of wait4(), which also counts a short
    run's last moments (and, an upper bound, the pages of this process when it spawned p)."""
    t = time.perf_counter()
    peak = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return max(peak, ru.ru_maxrss), time.perf_counter() - t
        v = hwm_kib(p.pid)
        if v is not None:
            peak = max(peak, v)
        time.sleep(0.02)


def stream(gb, out_rows):
    """gb GB of CSV through aiops-ingest -O csv; returns a result dict."""
    rows = int(gb * 1e9) // ROW_BYTES
    gen = subprocess.Popen([GENCSV, "-H", str(rows), str(COLS)], stdout=subprocess.PIPE)
    wc = subprocess.Popen(["wc", "-l"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ing = subprocess.Popen([INGEST, "-O", "csv", "-"], stdin=gen.stdout, stdout=wc.stdin,
                           stderr=subprocess.PIPE)
    gen.stdout.close()
    wc.stdin.close()
    peak, dt = watch(ing)
    err = ing.stderr.read().decode(errors="replace").strip()
    lines = int(wc.stdout.read().split()[0])
    wc.wait()
    gen.wait()
    if ing.returncode != 0 or gen.returncode != 0:
        raise RuntimeError("%.1f GB stream: aiops-ingest status %d, gencsv status %d: %s" %
                           (gb, ing.returncode, gen.returncode, err))
    if lines != rows + 1:
        raise RuntimeError("%.1f GB stream: %d output lines, wanted %d" % (gb, lines, rows + 1))
    out_rows.append(rows)
    mb = rows * ROW_BYTES / 1e6
    say("%6.1f GB: %d rows in %.1f s (%.0f MB/s of CSV), peak RSS %d KiB" %
        (gb, rows, dt, mb / dt, peak))
    return {"gb": gb, "rows": rows, "seconds": round(dt, 2), "mb_s": round(mb / dt, 1),
            "peak_rss_kib": peak}


def flat(res):
    say("--- (a) flat memory: gencsv | aiops-ingest -O csv - | wc -l")
    rows = []
    small = stream(SMALL_GB, rows)
    big = stream(BIG_GB, rows)
    ratio = big["peak_rss_kib"] / small["peak_rss_kib"] if small["peak_rss_kib"] else None
    res["stream_small"], res["stream_big"] = small, big
    res["rss_ratio"] = round(ratio, 3) if ratio else None


def limit_run(name, argv, stdin_fn, want_err):
    """Run argv with stdin from stdin_fn() (a Popen or a path); it must fail with want_err."""
    producer = None
    if callable(stdin_fn):
        producer = stdin_fn()
        stdin = producer.stdout
    else:
        stdin = subprocess.DEVNULL
    ing = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if producer:
        producer.stdout.close()
    peak, dt = watch(ing)
    err = ing.stderr.read().decode(errors="replace").strip()
    if producer:
        producer.kill()
        producer.wait()
    ok = ing.returncode == 1 and err == want_err
    if not ok:
        fail("%s: status %d, message %r; wanted status 1 and %r" % (name, ing.returncode, err, want_err))
    say("%-30s status %d in %.2f s, peak RSS %d KiB: %s" % (name, ing.returncode, dt, peak, err))
    return {"status": ing.returncode, "message": err, "seconds": round(dt, 2),
            "peak_rss_kib": peak, "ok": ok}


def line_producer():
    """a,b / 1,2 / then one line of 1 GB of 7s, from a child process (never stored)."""
    code = ("import sys\n"
            "o = sys.stdout.buffer\n"
            "o.write(b'a,b\\n1,2\\n')\n"
            "c = b'7' * (1 << 20)\n"
            "try:\n"
            "    for _ in range(1000):\n"
            "        o.write(c)\n"
            "    o.write(b',1\\n')\n"
            "except BrokenPipeError:\n"
            "    pass\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)


def gz_bomb(path, gib):
    """A gzip file of "a,b\\n1,2\\n" and gib GiB of 7s without a newline: one 16 MiB chunk
    deflated once with a full flush and repeated. Its CRC is left 0: no reader gets there."""
    ch = 16 << 20

    def seg(data):
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)
    head = b"a,b\n1,2\n"
    zh, zu = seg(head), seg(b"7" * ch)
    n = int(gib * (1 << 30)) // ch
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        f.write(zh)
        for _ in range(n):
            f.write(zu)
        f.write(zlib.compressobj(9, zlib.DEFLATED, -15).flush())
        f.write(struct.pack("<II", 0, (len(head) + n * ch) & 0xffffffff))
    return os.path.getsize(path)


def limits(res):
    say("--- (b) at the record limit of %d MiB" % (RECORD_MAX >> 20))
    msg = "aiops-ingest: <stdin>:3: record longer than %d MiB" % (RECORD_MAX >> 20)
    res["line_1gb"] = limit_run("1 GB line through a pipe", [INGEST, "-O", "csv", "-"],
                                line_producer, msg)
    bomb = os.path.join(SCRATCH, "bomb.csv.gz")
    size = gz_bomb(bomb, 5)
    r = limit_run("gzip bomb, %.1f MB -> 5 GiB" % (size / 1e6), [INGEST, "-O", "csv", bomb],
                  None, "aiops-ingest: %s:3: record longer than %d MiB" % (bomb, RECORD_MAX >> 20))
    r["compressed_bytes"] = size
    res["gzip_bomb"] = r
    os.unlink(bomb)


def summary(res):
    def row(what, value, target="", met=None):
        flag = "" if met is None else ("ok" if met else "BELOW TARGET")
        say("%-46s %18s  %-12s %s" % (what, value, target, flag))

    say("")
    say("=== summary: aiops-ingest limits, %s, %d CPUs, Python %s" %
        (platform.machine(), os.cpu_count() or 0, platform.python_version()))
    row("measure", "value", "target")
    missed = []
    for key in ("stream_small", "stream_big"):
        s = res.get(key)
        if s:
            row("peak RSS, %.1f GB CSV stream" % s["gb"], "%d KiB" % s["peak_rss_kib"],
                "< %d KiB" % TARGET_RSS_KIB, s["peak_rss_kib"] < TARGET_RSS_KIB)
            row("throughput, %.1f GB CSV stream" % s["gb"], "%.0f MB/s" % s["mb_s"])
            if s["peak_rss_kib"] >= TARGET_RSS_KIB:
                missed.append("%s.peak_rss_kib" % key)
    if res.get("rss_ratio") is not None:
        met = res["rss_ratio"] <= TARGET_RSS_RATIO
        row("peak RSS ratio, %.1f GB / %.1f GB" % (BIG_GB, SMALL_GB), "%.3f" % res["rss_ratio"],
            "<= %g" % TARGET_RSS_RATIO, met)
        if not met:
            missed.append("rss_ratio")
    for key, what in (("line_1gb", "1 GB line"), ("gzip_bomb", "gzip bomb")):
        r = res.get(key)
        if r:
            met = r["peak_rss_kib"] < TARGET_LIMIT_RSS_KIB
            row("peak RSS, %s (stopped at the limit)" % what, "%d KiB" % r["peak_rss_kib"],
                "< %d KiB" % TARGET_LIMIT_RSS_KIB, met)
            if not met:
                missed.append("%s.peak_rss_kib" % key)
    return missed


def main():
    for prog in (INGEST, GENCSV):
        if not os.access(prog, os.X_OK):
            say("limits.py: %s: not built; run make first" % prog)
            return 1
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    res = {}
    t0 = time.perf_counter()
    try:
        for part in (flat, limits):
            try:
                part(res)
            except (RuntimeError, OSError, ValueError) as e:
                fail("%s: %s" % (part.__name__, e))
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    missed = summary(res)
    res["targets"] = {"rss_ratio_max": TARGET_RSS_RATIO, "rss_kib_max": TARGET_RSS_KIB,
                      "limit_rss_kib_max": TARGET_LIMIT_RSS_KIB}
    res["targets_missed"] = missed
    return benchlib.finish("limits", BENCH, res, t0, errors, missed, STRICT)


if __name__ == "__main__":
    sys.exit(main())
