#!/usr/bin/python3
"""faulty_proxy.py - an HTTP reverse proxy for tests that breaks requests on purpose.

usage: faulty_proxy.py --upstream HOST:PORT --port-file FILE [--log FILE]
                       [--fault KIND] [--count N] [--after N] [--match METHODS]
                       [--retry-after SECONDS] [--hang SECONDS]
                       [--cut-patch K] [--delay SECONDS] [--lifetime SECONDS]

It listens on 127.0.0.1 (a free port, written to --port-file once listening)
and forwards every request to --upstream with the client's Host header, so a
registry builds its Location URLs with the proxy's address. Each response is
the last on its connection (Connection: close).

Faults hit N requests (--count; -1: every one) whose method is in --match (a
comma-separated list; default every method), after the first --after of
them (default 0) went through:
  drop     read the request, then close the connection without a reply
  503      answer 503 with an OCI error body (and Retry-After: S with
           --retry-after S)
  429      the same with 429
  hang     read the request, say nothing for --hang seconds, then close
--cut-patch K reads the first half of the body of the K-th PATCH (1-based),
then closes the connection; that PATCH never reaches the upstream.
--delay S waits S seconds before forwarding each request.

--log FILE gets one line per request, flushed at once:
  SEQ METHOD PATH CONTENT-RANGE OUTCOME
where CONTENT-RANGE is "-" when absent and OUTCOME is the upstream's status,
or drop, hang, cut, 503, 429. Standard library only. The proxy exits by
itself after --lifetime seconds (default 600).
"""
import argparse
import http.client
import http.server
import json
import os
import socketserver
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--fault", choices=["drop", "503", "429", "hang"])
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--after", type=int, default=0)
    ap.add_argument("--match", default="")
    ap.add_argument("--retry-after")
    ap.add_argument("--hang", type=float, default=5.0)
    ap.add_argument("--cut-patch", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--lifetime", type=float, default=600.0)
    a = ap.parse_args()
    up_host, up_port = a.upstream.rsplit(":", 1)
    match = set(m for m in a.match.upper().split(",") if m)
    lock = threading.Lock()
    state = {"seq": 0, "faults": 0, "patches": 0, "matched": 0}
    logf = open(a.log, "a", buffering=1) if a.log else None

    def log(seq, method, path, crange, outcome):
        if logf:
            with lock:
                logf.write("%d %s %s %s %s\n" % (seq, method, path, crange or "-", outcome))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def body_length(self):
            return int(self.headers.get("Content-Length") or 0)

        def read_body(self, n):
            left = n
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
            self.close_connection = True

        def handle_any(self):
            method = self.command
            crange = self.headers.get("Content-Range")
            with lock:
                state["seq"] += 1
                seq = state["seq"]
                fault = None
                if a.fault and (not match or method in match):
                    state["matched"] += 1
                    if state["matched"] > a.after and (a.count < 0 or state["faults"] < a.count):
                        state["faults"] += 1
                        fault = a.fault
                cut = False
                if method == "PATCH":
                    state["patches"] += 1
                    cut = state["patches"] == a.cut_patch
            n = self.body_length()
            if cut:
                for _ in self.read_body(n // 2):
                    pass
                log(seq, method, self.path, crange, "cut")
                self.close_connection = True
                return
            if fault in ("drop", "hang"):
                for _ in self.read_body(n):
                    pass
                log(seq, method, self.path, crange, fault)
                if fault == "hang":
                    time.sleep(a.hang)
                self.close_connection = True
                return
            if fault in ("503", "429"):
                for _ in self.read_body(n):
                    pass
                hdrs = [("Content-Type", "application/json")]
                if a.retry_after is not None:
                    hdrs.append(("Retry-After", a.retry_after))
                body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message":
                                   "injected fault", "detail": None}]}).encode()
                log(seq, method, self.path, crange, fault)
                self.reply(int(fault), body, hdrs)
                return
            if a.delay:
                time.sleep(a.delay)
            conn = http.client.HTTPConnection(up_host, int(up_port), timeout=120)
            try:
                conn.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() in ("connection", "keep-alive", "transfer-encoding"):
                        continue
                    conn.putheader(k, v)
                conn.putheader("Connection", "close")
                conn.endheaders()
                for chunk in self.read_body(n):
                    conn.send(chunk)
                resp = conn.getresponse()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() in ("connection", "keep-alive", "transfer-encoding"):
                        continue
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                length = resp.getheader("Content-Length")
                if length is None and method != "HEAD" and resp.status not in (204, 304):
                    data = resp.read()
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self.end_headers()
                    if method != "HEAD":
                        while True:
                            chunk = resp.read(1 << 20)
                            if not chunk:
                                break
                            self.wfile.write(chunk)
                log(seq, method, self.path, crange, resp.status)
            except (OSError, http.client.HTTPException) as exc:
                log(seq, method, self.path, crange, "error:" + type(exc).__name__)
            finally:
                conn.close()
                self.close_connection = True

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    t = threading.Timer(a.lifetime, srv.shutdown)
    t.daemon = True
    t.start()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
