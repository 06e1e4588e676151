#!/usr/bin/python3
"""gitlab_stub.py - GitLab's generic packages API, as documented, for tests.

usage: gitlab_stub.py --port-file FILE --store DIR [--log FILE] [--delay SECONDS]
                      [--lifetime SECONDS]

Listens on 127.0.0.1 (a free port, written to --port-file once listening) and
serves under /api/v4:

  PUT /projects/:id/packages/generic/:package_name/:package_version/:file_name
      [?status=default|hidden][&select=package_file]
      201 {"message":"201 Created"}, or with select=package_file the package
      file record (id, package_id, size, file_name, file_sha256, ...).
  GET the same path: 200 with the newest file of that name (octet-stream),
      404 {"message":"404 Not Found"}.

:id is a number or a URL-encoded "group/project" path. Names follow the
documented rules: package and file names [A-Za-z0-9._-]+, versions
\\A(\\.?[\\w+-]+\\.?)+\\z; anything else is 400 {"error": "..."}.
Authentication: a JOB-TOKEN header equal to $GITLAB_STUB_JOB_TOKEN, or a
PRIVATE-TOKEN header equal to $GITLAB_STUB_PRIVATE_TOKEN (the tokens come
from the environment, never argv); anything else is 401
{"message":"401 Unauthorized"}. Like GitLab, an upload to a package version
while another upload to the same version is in progress fails with 500
{"message":"500 Internal Server Error"}. --delay S holds each PUT S seconds,
so that overlapping uploads do overlap.

--log FILE gets one line per request: METHOD PATH AUTH STATUS, where AUTH
is "job", "private", "bad" or "none" (never the token). Files are kept in
--store/<id>/<package>/<version>/<file>. Standard library only; the stub
exits by itself after --lifetime seconds (default 600).
"""
import argparse
import hashlib
import http.server
import json
import os
import re
import socketserver
import sys
import threading
import time
import urllib.parse

NAME = re.compile(r"\A[A-Za-z0-9._-]+\Z")
VERSION = re.compile(r"\A(\.?[\w+-]+\.?)+\Z", re.ASCII)
PATH = re.compile(r"\A/api/v4/projects/([^/]+)/packages/generic/([^/]+)/([^/]+)/([^/]+)\Z")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--log")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--lifetime", type=float, default=600.0)
    a = ap.parse_args()
    job = os.environ.get("GITLAB_STUB_JOB_TOKEN") or None
    private = os.environ.get("GITLAB_STUB_PRIVATE_TOKEN") or None
    lock = threading.Lock()
    busy = {}
    ids = {"file": 0, "package": {}}
    logf = open(a.log, "a", buffering=1) if a.log else None

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, obj=None, raw=None, ctype="application/json"):
            body = raw if raw is not None else json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if logf:
                logf.write("%s %s %s %d\n" % (self.command, self.path, self.auth_kind, status))

        def drain(self):
            n = int(self.headers.get("Content-Length") or 0)
            data = bytearray()
            while n > 0:
                chunk = self.rfile.read(min(n, 1 << 20))
                if not chunk:
                    break
                data += chunk
                n -= len(chunk)
            return bytes(data)

        def authorised(self):
            j = self.headers.get("JOB-TOKEN")
            p = self.headers.get("PRIVATE-TOKEN")
            if j is not None and p is None:
                self.auth_kind = "job" if job is not None and j == job else "bad"
            elif p is not None and j is None:
                self.auth_kind = "private" if private is not None and p == private else "bad"
            else:
                self.auth_kind = "none" if j is None else "bad"
            return self.auth_kind in ("job", "private")

        def target(self):
            u = urllib.parse.urlsplit(self.path)
            m = PATH.match(u.path)
            if not m:
                return None, None
            parts = [urllib.parse.unquote(x) for x in m.groups()]
            return parts, urllib.parse.parse_qs(u.query)

        def do_PUT(self):
            self.auth_kind = "none"
            parts, query = self.target()
            if parts is None:
                self.drain()
                return self.reply(404, {"message": "404 Not Found"})
            if not self.authorised():
                self.drain()
                return self.reply(401, {"message": "401 Unauthorized"})
            project, package, version, fname = parts
            if not NAME.match(package):
                self.drain()
                return self.reply(400, {"error": "package_name is invalid"})
            if not VERSION.match(version):
                self.drain()
                return self.reply(400, {"error": "package_version is invalid"})
            if not NAME.match(fname):
                self.drain()
                return self.reply(400, {"error": "file_name is invalid"})
            key = (project, package, version)
            with lock:
                racing = busy.get(key, 0) > 0
                busy[key] = busy.get(key, 0) + 1
            try:
                data = self.drain()
                if a.delay:
                    time.sleep(a.delay)
                if racing:
                    return self.reply(500, {"message": "500 Internal Server Error"})
                d = os.path.join(a.store, project.replace("/", "%2F"), package, version)
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, fname), "wb") as f:
                    f.write(data)
                with lock:
                    ids["file"] += 1
                    pid = ids["package"].setdefault(key, len(ids["package"]) + 1)
                    fid = ids["file"]
            finally:
                with lock:
                    busy[key] -= 1
            if "package_file" not in query.get("select", []):
                return self.reply(201, {"message": "201 Created"})
            now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            sha = hashlib.sha256(data).hexdigest()
            return self.reply(201, {
                "id": fid, "package_id": pid, "created_at": now, "updated_at": now,
                "size": len(data), "file_store": 1, "file_md5": None, "file_sha1": None,
                "file_name": fname,
                "file": {"url": "/%s/%s/%s/packages/%d/files/%d/%s" % (sha[:2], sha[2:4], sha, pid, fid, fname)},
                "file_sha256": sha, "verification_retry_at": None, "verified_at": None,
                "verification_failure": None, "verification_retry_count": None,
                "verification_checksum": None, "verification_state": 0,
                "verification_started_at": None, "new_file_path": None})

        def do_GET(self):
            self.auth_kind = "none"
            parts, _ = self.target()
            if parts is None:
                return self.reply(404, {"message": "404 Not Found"})
            if not self.authorised():
                return self.reply(401, {"message": "401 Unauthorized"})
            project, package, version, fname = parts
            p = os.path.join(a.store, project.replace("/", "%2F"), package, version, fname)
            if not (NAME.match(package) and VERSION.match(version) and NAME.match(fname)) or \
                    not os.path.isfile(p):
                return self.reply(404, {"message": "404 Not Found"})
            with open(p, "rb") as f:
                return self.reply(200, raw=f.read(), ctype="application/octet-stream")

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
