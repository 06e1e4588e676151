#!/usr/bin/python3
"""gen-logs.py: write testdata/logs-demo.log and testdata/logs-demo.truth.csv.

The log has the header "<Date> <Time> <Level> <Component>: <Content>" (ISO dates, times
with milliseconds, the level padded to five columns as log4j does) and eight known message
templates whose variables are numbers, IP addresses and ports, hex ids, paths and key=value
pairs. It covers 2024-01-01 09:45:00 to 10:45:00 UTC, the hour around the first incident
of testdata/metrics-demo.csv (10:00 to 10:30, see testdata/metrics-demo.labels), so that a
log tensor made with --step 1m joins the metrics one; inside the incident the error
templates are much more frequent. A few lines end in CRLF, and a few lines are blank.

The truth file has one line per non-blank log line: LineId (the line's number in the log,
from 1, blank lines counted, as aiops-ingest --lines numbers them), EventId (E<n>, n numbering the true templates in order of
first appearance) and TrueTemplate (the template as Drain's default masking writes it).

Deterministic (fixed seed): run it from the top of the repository,
    /usr/bin/python3 scripts/gen-logs.py [outdir]
and the same files come out.
"""
import csv
import datetime
import os
import random
import sys

SEED = 20240101
START = datetime.datetime(2024, 1, 1, 9, 45, 0)
MINUTES = 60
INCIDENT = (datetime.datetime(2024, 1, 1, 10, 0, 0), datetime.datetime(2024, 1, 1, 10, 30, 0))


def ip(r):
    return "10.%d.%d.%d" % (r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))


def hexid(r, n):
    # at least one digit, so that the default masking sees a variable
    s = "".join(r.choice("0123456789abcdef") for _ in range(n - 1))
    return s + r.choice("0123456789")


# (level, component, true template, function making the message)
TEMPLATES = [
    ("INFO", "dfs.DataNode", "Receiving block <*> src: <*> dest: <*>",
     lambda r: "Receiving block blk_%d src: /%s:%d dest: /%s:50010" % (
         r.randint(10**8, 10**9), ip(r), r.randint(30000, 60000), ip(r))),
    ("INFO", "dfs.DataNode", "Received block <*> of size <*> from <*>",
     lambda r: "Received block blk_%d of size %d from /%s" % (
         r.randint(10**8, 10**9), r.randint(1, 1 << 26), ip(r))),
    ("INFO", "api.Gateway", "GET <*> status=<*> took=<*> client=<*>:<*>",
     lambda r: "GET /api/v1/items/%d status=%d took=%dms client=%s:%d" % (
         r.randint(1, 99999), r.choice([200, 200, 200, 204, 304]), r.randint(1, 400),
         ip(r), r.randint(1024, 65535))),
    ("INFO", "auth.Service", "User session <*> opened for uid=<*>",
     lambda r: "User session %s opened for uid=%d" % (hexid(r, 12), r.randint(1000, 60000))),
    ("WARN", "db.Pool", "Connection pool usage high: active=<*> idle=<*> max=<*>",
     lambda r: "Connection pool usage high: active=%d idle=%d max=64" % (
         r.randint(48, 64), r.randint(0, 8))),
    ("ERROR", "db.Pool", "Query timeout after <*> ms on shard (<*>) txn <*>",
     lambda r: "Query timeout after %d ms on shard (%d) txn 0x%s" % (
         r.randint(1000, 30000), r.randint(0, 15), hexid(r, 8))),
    ("ERROR", "api.Gateway", "Upstream request failed: host <*>:<*> returned code=<*> (retry <*>)",
     lambda r: "Upstream request failed: host db-%d.internal:%d returned code=%d (retry %d/3)" % (
         r.randint(1, 9), r.choice([5432, 6432]), r.choice([502, 503, 504]), r.randint(1, 3))),
    ("ERROR", "dfs.DataNode", "Disk <*> I/O error on sector <*>, remounting read-only",
     lambda r: "Disk /dev/sd%s I/O error on sector %d, remounting read-only" % (
         r.choice("bcd"), r.randint(10**5, 10**8))),
]

# lines a minute of each template: outside and inside the incident
RATE_NORMAL = [9, 8, 12, 5, 1.0, 0.15, 0.15, 0.05]
RATE_INCIDENT = [6, 5, 8, 3, 4.0, 4.0, 5.0, 1.5]


def poisson(r, lam):
    # Knuth's method; lam is small
    if lam <= 0:
        return 0
    k, p, L = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= r.random()
        if p <= L:
            return k
        k += 1


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata"
    r = random.Random(SEED)
    events = []
    for m in range(MINUTES):
        t0 = START + datetime.timedelta(minutes=m)
        inc = INCIDENT[0] <= t0 < INCIDENT[1]
        rates = RATE_INCIDENT if inc else RATE_NORMAL
        for k, lam in enumerate(rates):
            for _ in range(poisson(r, lam)):
                ms = r.randint(0, 59999)
                events.append((t0 + datetime.timedelta(milliseconds=ms), k))
    events.sort(key=lambda e: (e[0], e[1]))
    # the first occurrence of every template before the incident, so that all of
    # them are seen in order of the list above at 09:45:00.xxx
    head = [(START + datetime.timedelta(milliseconds=10 * (k + 1)), k)
            for k in range(len(TEMPLATES))]
    events = head + events

    blank_at = {len(events) // 3: "", 2 * len(events) // 3: "   "}
    order = {}
    log = open(os.path.join(outdir, "logs-demo.log"), "w", newline="")
    tru = open(os.path.join(outdir, "logs-demo.truth.csv"), "w", newline="")
    w = csv.writer(tru, lineterminator="\n")
    w.writerow(["LineId", "EventId", "TrueTemplate"])
    lineid = 0
    for i, (t, k) in enumerate(events):
        if i in blank_at:
            log.write(blank_at[i] + ("\r\n" if blank_at[i] else "\n"))
            lineid += 1
        level, comp, tmpl, make = TEMPLATES[k]
        msg = make(r)
        end = "\r\n" if r.random() < 0.03 else "\n"
        log.write("%s %s.%03d %-5s %s: %s%s" % (
            t.strftime("%Y-%m-%d"), t.strftime("%H:%M:%S"), t.microsecond // 1000,
            level, comp, msg, end))
        lineid += 1
        if tmpl not in order:
            order[tmpl] = len(order) + 1
        w.writerow([lineid, "E%d" % order[tmpl], tmpl])
    log.close()
    tru.close()


if __name__ == "__main__":
    main()
