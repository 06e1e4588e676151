"""push.py: aiops-push against curl -T, to the same local docker-registry, in the same run.

A 1 GiB artifact (aiops-pack --level 0 of a small model and 1 GiB of seeded random bytes) is
pushed to Debian's docker-registry on 127.0.0.1 by aiops-push (defaults: 64 MiB PATCH chunks,
the artifact verified on a second thread while it goes up), by aiops-push --chunk-size 0 (one
PUT), and by curl -T (POST for an upload URL, then one monolithic PUT ?digest= of the same
bytes), each REPS times into a fresh repository, in turns; the medians give the throughputs
and the ratio aiops-push / curl (target >= 0.8). Peak RSS comes from GNU time -v for the
1 GiB push and for a 64 MiB one (flat memory: the ratio should be about 1), and for a pull
of the 1 GiB artifact. The pushed manifest's layer digest is checked against the file's.
Prints a summary and writes $AIOPS_BENCH_DIR/push.json. Exits 1 when a run fails or a digest
is wrong; a missed target only fails with AIOPS_BENCH_STRICT=1. Run by scripts/bench/run.sh.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("AIOPS_BIN") or os.path.join(TOP, "build", "bin")
BENCH = os.environ.get("AIOPS_BENCH_DIR") or os.path.join(TOP, "build", "bench")
STRICT = os.environ.get("AIOPS_BENCH_STRICT", "") not in ("", "0")
REGISTRY = os.environ.get("AIOPS_DOCKER_REGISTRY", "/usr/bin/docker-registry")
SCRATCH = os.path.join(BENCH, "push.tmp")

BIG = 1 << 30
SMALL = 64 << 20
REPS = 3
TARGET_RATIO = 0.8          # aiops-push throughput / curl -T throughput
TARGET_RSS_RATIO = 1.5      # peak RSS, 1 GiB push / 64 MiB push

errors = []


def run(argv, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    return p.stdout


def timed(argv):
    """Wall seconds and peak RSS (KiB, GNU time -v) of argv; its stdout."""
    out = os.path.join(SCRATCH, "time.out")
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v", "-o", out] + argv, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    rss = 0
    with open(out) as f:
        for line in f:
            if "Maximum resident set size" in line:
                rss = int(line.rsplit(":", 1)[1])
    return wall, rss, p.stdout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return "sha256:" + h.hexdigest()


def write_random(path, n, seed):
    r = random.Random(seed)
    with open(path, "wb") as f:
        left = n
        while left:
            k = min(left, 1 << 20)
            f.write(r.randbytes(k))
            left -= k


def make_artifact(name, nbytes, version):
    noise = os.path.join(SCRATCH, name + ".bin")
    art = os.path.join(SCRATCH, name + ".tar.gz")
    write_random(noise, nbytes, nbytes)
    run([os.path.join(BIN, "aiops-pack"), "-q", "--level", "0", "-V", version, "-o", art,
         os.path.join(SCRATCH, "m.model"), noise])
    os.unlink(noise)
    return art


def start_registry():
    for _ in range(3):
        port = free_port()
        cfg = os.path.join(SCRATCH, "registry.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                    "    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n"
                    "  addr: 127.0.0.1:%d\n  secret: aiops-bench\n"
                    % (os.path.join(SCRATCH, "registry"), port))
        log = open(os.path.join(SCRATCH, "registry.log"), "w")
        p = subprocess.Popen([REGISTRY, "serve", cfg], stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL)
        for _ in range(100):
            if p.poll() is not None:
                break
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/v2/" % port, timeout=1).read()
                return p, port
            except OSError:
                time.sleep(0.1)
        p.kill()
        p.wait()
    raise RuntimeError("docker-registry did not start")


def curl_push(port, repo, path, digest):
    """POST an upload, then PUT the file whole with curl -T; wall seconds of both."""
    t0 = time.monotonic()
    hdr = run(["curl", "-s", "-f", "-X", "POST", "-D", "-", "-o", "/dev/null",
               "http://127.0.0.1:%d/v2/%s/blobs/uploads/" % (port, repo)])
    loc = [l.split(":", 1)[1].strip() for l in hdr.splitlines() if l.lower().startswith("location:")][0]
    code = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", path,
                "-H", "Content-Type: application/octet-stream", "-H", "Expect:",
                loc + ("&" if "?" in loc else "?") + "digest=" + digest.replace(":", "%3A")])
    wall = time.monotonic() - t0
    if code != "201":
        raise RuntimeError("curl -T: HTTP %s" % code)
    return wall


def main():
    if not os.path.exists(REGISTRY):
        print("push.py: no docker-registry (%s); skipped" % REGISTRY)
        return 0
    for prog in ("aiops-push", "aiops-pack", "aiops-train", "aiops-ingest"):
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            print("push.py: %s not built" % prog, file=sys.stderr)
            return 1
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    reg = None
    res = {"artifact_bytes": None, "reps": REPS}
    try:
        tensor = os.path.join(SCRATCH, "x.tensor")
        run([os.path.join(BIN, "aiops-ingest"), "-o", tensor,
             os.path.join(TOP, "testdata", "metrics-demo.csv")])
        run([os.path.join(BIN, "aiops-train"), "-q", "--space", "zscore", "-o",
             os.path.join(SCRATCH, "m.model"), tensor])
        big = make_artifact("big", BIG, "1.0.0")
        small = make_artifact("small", SMALL, "0.1.0")
        size = os.path.getsize(big)
        digest = sha256_file(big)
        res["artifact_bytes"] = size
        reg, port = start_registry()
        push = os.path.join(BIN, "aiops-push")
        env_push = [push, "-q"]
        times = {"aiops-push": [], "aiops-push --chunk-size 0": [], "curl -T": []}
        rss_big = []
        for i in range(REPS):
            w, rss, out = timed(env_push + [big, "oci://127.0.0.1:%d/bench/a%d:1" % (port, i)])
            times["aiops-push"].append(w)
            rss_big.append(rss)
            times["curl -T"].append(curl_push(port, "bench/c%d" % i, big, digest))
            w, rss, _ = timed(env_push + ["--chunk-size", "0", big,
                                          "oci://127.0.0.1:%d/bench/m%d:1" % (port, i)])
            times["aiops-push --chunk-size 0"].append(w)
            rss_big.append(rss)
        # the manifest the registry holds names the file's bytes
        with urllib.request.urlopen(urllib.request.Request(
                "http://127.0.0.1:%d/v2/bench/a0/manifests/1" % port,
                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})) as r:
            man = json.load(r)
        if man["layers"][0]["digest"] != digest or man["layers"][0]["size"] != size:
            errors.append("the pushed layer is %s, the file %s" % (man["layers"][0]["digest"], digest))
        _, rss_small, _ = timed(env_push + [small, "oci://127.0.0.1:%d/bench/s:1" % port])
        pulldir = os.path.join(SCRATCH, "pulled")
        wpull, rss_pull, _ = timed(env_push + ["--pull", "-o", pulldir,
                                               "oci://127.0.0.1:%d/bench/a0:1" % port])
        shutil.rmtree(pulldir, ignore_errors=True)

        med = {k: statistics.median(v) for k, v in times.items()}
        mib = size / 1048576.0
        res["seconds"] = {k: [round(x, 3) for x in v] for k, v in times.items()}
        res["median_seconds"] = {k: round(v, 3) for k, v in med.items()}
        res["throughput_mib_s"] = {k: round(mib / v, 1) for k, v in med.items()}
        res["ratio_vs_curl"] = round(med["curl -T"] / med["aiops-push"], 3)
        res["ratio_vs_curl_monolithic"] = round(med["curl -T"] / med["aiops-push --chunk-size 0"], 3)
        res["peak_rss_kib"] = {"push_1GiB": max(rss_big), "push_64MiB": rss_small,
                               "pull_1GiB": rss_pull}
        res["rss_ratio_1GiB_vs_64MiB"] = round(max(rss_big) / rss_small, 3)
        res["pull_seconds"] = round(wpull, 3)
        res["targets"] = {"ratio_vs_curl": TARGET_RATIO, "rss_ratio": TARGET_RSS_RATIO}
        res["met"] = {"ratio_vs_curl": res["ratio_vs_curl"] >= TARGET_RATIO,
                      "rss_flat": res["rss_ratio_1GiB_vs_64MiB"] <= TARGET_RSS_RATIO}
    except (RuntimeError, OSError, KeyError, IndexError, ValueError) as exc:
        errors.append(str(exc))
    finally:
        if reg is not None:
            reg.send_signal(signal.SIGTERM)
            try:
                reg.wait(timeout=10)
            except subprocess.TimeoutExpired:
                reg.kill()
                reg.wait()
        shutil.rmtree(SCRATCH, ignore_errors=True)
    res["errors"] = errors
    with open(os.path.join(BENCH, "push.json"), "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
    if "median_seconds" in res:
        print("%-28s %10s %12s" % ("1 GiB push to docker-registry", "median s", "MiB/s"))
        for k in res["median_seconds"]:
            print("%-28s %10.2f %12.1f" % (k, res["median_seconds"][k], res["throughput_mib_s"][k]))
        print("ratio aiops-push / curl -T: %.3f (target >= %.1f); with --chunk-size 0: %.3f"
              % (res["ratio_vs_curl"], TARGET_RATIO, res["ratio_vs_curl_monolithic"]))
        print("peak RSS: push 1 GiB %d KiB, push 64 MiB %d KiB (ratio %.2f), pull 1 GiB %d KiB"
              % (res["peak_rss_kib"]["push_1GiB"], res["peak_rss_kib"]["push_64MiB"],
                 res["rss_ratio_1GiB_vs_64MiB"], res["peak_rss_kib"]["pull_1GiB"]))
    for e in errors:
        print("push.py: error: %s" % e, file=sys.stderr)
    if errors:
        return 1
    if STRICT and not all(res["met"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
