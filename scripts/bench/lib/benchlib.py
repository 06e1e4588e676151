"""benchlib.py: what the benchmark scripts in scripts/bench share (not a benchmark itself:
run.sh runs only scripts/bench/*.py)."""
import json
import os
import time


def say(*a):
    print(*a, flush=True)


def finish(name, bench_dir, res, t0, errors, missed, strict):
    """Write res to BENCH_DIR/NAME.json whole (temporary file, rename), report the errors and
    the missed targets, and return the exit status: 1 on an error, or on a missed target when
    strict, else 0."""
    res["errors"] = errors
    res["seconds"] = round(time.perf_counter() - t0, 1)
    os.makedirs(bench_dir, exist_ok=True)
    out = os.path.join(bench_dir, name + ".json")
    with open(out + ".tmp", "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(out + ".tmp", out)
    say("wrote %s (%.0f s)" % (out, res["seconds"]))
    if errors:
        say("%s.py: %d error(s): %s" % (name, len(errors), "; ".join(errors)))
        return 1
    if missed:
        say("%s.py: below target: %s%s" % (name, ", ".join(missed),
                                           "" if strict else " (AIOPS_BENCH_STRICT=1 fails on this)"))
        if strict:
            return 1
    return 0
