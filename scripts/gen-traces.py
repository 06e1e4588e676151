#!/usr/bin/python3
"""gen-traces.py: write testdata/traces-demo.csv, .jsonl and .otlp.json: the same spans three ways.

A small shop: frontend -> checkout -> {payment -> db, cart -> db, checkout (validate, an edge
within one service)}, and browse traces frontend -> cart -> db. Traces start every few seconds
from 2024-01-01 10:00:00 to 10:09:59 UTC (ten one-minute windows), except that no trace starts
in 10:06 (a window without spans, where every service has 0 calls). During 10:03 and 10:04
payment fails about half of its calls and is five times slower; checkout and frontend fail with
it. A few spans name a parent that was never recorded (not sampled): they count for their
service but make no edge. Each span's latency is drawn as a whole number of microseconds
around a base per service, so the milliseconds in all three files (e.g. "12.345" and
(end - start) / 1e6 nanoseconds) are the same doubles.

The files list the spans in different orders (children often before their parents), and use
the different forms each format allows: CSV times as epoch milliseconds, epoch seconds with
a fraction or ISO-8601, and statuses as ERROR, error, STATUS_CODE_ERROR, 2, 5xx (errors) or OK,
empty, unset, 200, 404, 0, 1 (not); JSON lines with numbers, strings, null and booleans; and
OTLP/JSON as the collector's file exporter writes it, one ExportTraceServiceRequest a line,
with start times that have nanoseconds (the millisecond is their floor).

Deterministic (fixed seed): run it from the top of the repository,
    /usr/bin/python3 scripts/gen-traces.py [outdir]
and the same files come out.
"""
import datetime
import json
import os
import random
import sys

SEED = 20240102
START = datetime.datetime(2024, 1, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
START_MS = int(START.timestamp()) * 1000
WINDOWS = 10
EMPTY_WINDOW = 6
INCIDENT = (3, 4)          # windows (minutes after START) where payment fails

# base latency in microseconds and jitter (+-) of the work a span does itself
BASE = {"frontend": (8000, 3000), "checkout": (5000, 2000), "payment": (20000, 6000),
        "cart": (3000, 1000), "db": (1500, 700)}
ERR_WORDS = ["ERROR", "error", "STATUS_CODE_ERROR", "2", "500", "503"]
OK_WORDS = ["OK", "", "unset", "200", "404", "0", "1", "STATUS_CODE_OK"]


class Span:
    def __init__(self, r, trace, parent, service, op, start_us):
        self.trace = trace
        self.id = "%016x" % r.getrandbits(64)
        self.parent = parent.id if parent else ""
        self.service = service
        self.op = op
        self.start_us = start_us
        self.dur_us = 0
        self.err = False
        self.sub_ns = r.randrange(1000)        # nanoseconds below the microsecond, OTLP only


def work(r, service, minute):
    base, jit = BASE[service]
    us = base + r.randrange(-jit, jit + 1)
    if service == "payment" and minute in INCIDENT:
        us *= 5
    return us


def make_trace(r, t_us, kind, spans):
    """Spans of one trace starting at t_us (microseconds since START)."""
    trace = "%032x" % r.getrandbits(128)
    minute = t_us // 60000000

    def span(parent, service, op, start):
        s = Span(r, trace, parent, service, op, start)
        spans.append(s)
        return s

    root = span(None, "frontend", "GET /" + kind, t_us)
    t = t_us + r.randrange(200, 800)
    if kind == "checkout":
        co = span(root, "checkout", "PlaceOrder", t)
        u = t + r.randrange(100, 300)
        val = span(co, "checkout", "validate", u)
        val.dur_us = r.randrange(300, 900)
        u += val.dur_us + r.randrange(50, 200)
        cart = span(co, "cart", "GetCart", u)
        db1 = span(cart, "db", "SELECT cart", u + r.randrange(100, 300))
        db1.dur_us = work(r, "db", minute)
        cart.dur_us = (db1.start_us - u) + db1.dur_us + work(r, "cart", minute)
        u += cart.dur_us + r.randrange(50, 200)
        pay = span(co, "payment", "Charge", u)
        db2 = span(pay, "db", "INSERT charge", u + r.randrange(100, 300))
        db2.dur_us = work(r, "db", minute)
        pay.dur_us = (db2.start_us - u) + db2.dur_us + work(r, "payment", minute)
        if minute in INCIDENT and r.random() < 0.5:
            pay.err = co.err = root.err = True
        elif r.random() < 0.03:
            db2.err = True          # a rare failure that is retried and hidden from callers
        co.dur_us = (pay.start_us + pay.dur_us - t) + work(r, "checkout", minute)
        root.dur_us = (co.start_us + co.dur_us - t_us) + work(r, "frontend", minute)
    else:
        cart = span(root, "cart", "ListItems", t)
        db = span(cart, "db", "SELECT items", t + r.randrange(100, 300))
        db.dur_us = work(r, "db", minute)
        cart.dur_us = (db.start_us - t) + db.dur_us + work(r, "cart", minute)
        if r.random() < 0.05:
            cart.err = root.err = True
        root.dur_us = (cart.start_us + cart.dur_us - t_us) + work(r, "frontend", minute)


def generate():
    r = random.Random(SEED)
    spans = []
    t = r.randrange(0, 3000000)
    while t < WINDOWS * 60000000:
        if t // 60000000 != EMPTY_WINDOW:
            make_trace(r, t, "checkout" if r.random() < 0.6 else "browse", spans)
        t += r.randrange(5000000, 17000000)
    # a few spans whose parent was not sampled: their service counts them, no edge
    for i in range(3):
        s = Span(r, "%032x" % r.getrandbits(128), None, "cart", "async refresh",
                 r.randrange(0, WINDOWS * 60000000))
        s.parent = "%016x" % r.getrandbits(64)
        s.dur_us = work(r, "cart", s.start_us // 60000000)
        spans.append(s)
    return r, spans


def ms(us):
    return START_MS + us // 1000


def dur_text(us):
    return "%d.%03d" % (us // 1000, us % 1000)


def iso(ms_):
    t = datetime.datetime.fromtimestamp(ms_ / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms_ % 1000)


def csv_lines(r, spans):
    order = spans[:]
    r.shuffle(order)
    out = ["trace_id,span_id,parent_id,service,operation,start,duration,status"]
    for s in order:
        m = ms(s.start_us)
        form = r.randrange(3)
        start = str(m) if form == 0 else "%d.%03d" % (m // 1000, m % 1000) if form == 1 else iso(m)
        status = r.choice(ERR_WORDS if s.err else OK_WORDS)
        op = '"%s"' % s.op if " " in s.op or "/" in s.op else s.op
        out.append(",".join([s.trace, s.id, s.parent, s.service, op, start, dur_text(s.dur_us),
                             status]))
    return out


def jsonl_lines(r, spans):
    order = spans[:]
    r.shuffle(order)
    out = []
    for s in order:
        m = ms(s.start_us)
        o = {"trace_id": s.trace, "span_id": s.id}
        if s.parent or r.random() < 0.5:
            o["parent_id"] = s.parent if s.parent else None
        o["service"] = s.service
        o["operation"] = s.op
        o["start"] = m if r.random() < 0.7 else iso(m)
        # a whole number of microseconds in ms; json writes the shortest repr, as Python's float()
        o["duration"] = float(dur_text(s.dur_us))
        pick = r.randrange(4)
        if s.err:
            o["status"] = ["ERROR", 2, True, 500][pick]
        elif pick < 3:
            o["status"] = ["OK", 200, None][pick]
        out.append(json.dumps(o, separators=(",", ":")))
    return out


def otlp_lines(r, spans):
    """One document per one-minute batch, resources grouped by service as an SDK sends them."""
    out = []
    for w in range(WINDOWS):
        batch = [s for s in spans if s.start_us // 60000000 == w]
        if not batch:
            continue
        services = sorted(set(s.service for s in batch))
        r.shuffle(services)
        rs = []
        for svc in services:
            ss = []
            for s in sorted((s for s in batch if s.service == svc), key=lambda _: r.random()):
                t0 = ms(s.start_us) * 1000000 + (s.start_us % 1000) * 1000 + s.sub_ns
                o = {"traceId": s.trace, "spanId": s.id, "parentSpanId": s.parent,
                     "name": s.op, "kind": 2 if s.parent == "" else 3,
                     "startTimeUnixNano": str(t0),
                     "endTimeUnixNano": str(t0 + s.dur_us * 1000)}
                if s.err:
                    o["status"] = {"code": 2, "message": "failed"}
                elif r.random() < 0.5:
                    o["status"] = {"code": 1} if r.random() < 0.5 else {}
                ss.append(o)
            rs.append({"resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": svc}},
                {"key": "host.name", "value": {"stringValue": "node-%d" % r.randrange(3)}}]},
                "scopeSpans": [{"scope": {"name": "demo", "version": "1.0"}, "spans": ss}]})
        out.append(json.dumps({"resourceSpans": rs}, separators=(",", ":")))
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "testdata"
    r, spans = generate()
    files = [("traces-demo.csv", csv_lines(r, spans)),
             ("traces-demo.jsonl", jsonl_lines(r, spans)),
             ("traces-demo.otlp.json", otlp_lines(r, spans))]
    for name, lines in files:
        with open(os.path.join(outdir, name), "w", newline="") as f:
            f.write("\n".join(lines) + "\n")
    print("%d spans in %d traces" % (len(spans), len(set(s.trace for s in spans))))


if __name__ == "__main__":
    main()
