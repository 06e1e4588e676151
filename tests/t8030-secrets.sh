#!/bin/sh
# t8030: secrets and TLS. aiops-push takes tokens and passwords from the environment only:
# they never show in its argv while it runs (sampled from /proc and ps during slow pushes),
# nor in its output with -v, in what it writes (artifacts, layouts, extracted files), in the
# servers' stores and logs, nor in a request that a redirect sends to another host (a
# registry's blob download, a GitLab package download). TLS verification cannot be turned
# off by accident: a self-signed or misnamed certificate fails aiops-ingest's URL and
# Prometheus inputs and aiops-push's registry and GitLab clients with a clear certificate
# error, whatever the environment variables and configuration files that turn it off for
# other tools say. Every server (the GitLab stub, Debian's docker-registry with htpasswd,
# small Python servers with a certificate made by openssl req -x509) is started on a free
# port by this script and stopped on exit.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='secrets never in argv, output or files; TLS verification always on'
. "$(dirname "$0")/lib.sh"

if ! test_have_prereq PYTHON3
then
	test_skip_all 'no python3'
fi
sane_unset AIOPS_REGISTRY_USER AIOPS_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
	CI_REGISTRY_PASSWORD DOCKER_CONFIG CI_API_V4_URL CI_PROJECT_ID CI_JOB_TOKEN \
	AIOPS_GITLAB_TOKEN AIOPS_PUSH_CHUNK_SIZE AIOPS_PUSH_RETRY_TIME SSL_CERT_FILE SSL_CERT_DIR \
	CURL_CA_BUNDLE CURL_HOME OPENSSL_CONF
HOME=$TRASH_DIRECTORY/home
export HOME
AIOPS_PUSH_RETRY_DELAY=0.05
AIOPS_PUSH_RETRIES=2
AIOPS_PUSH_TIMEOUT=10
export AIOPS_PUSH_RETRY_DELAY AIOPS_PUSH_RETRIES AIOPS_PUSH_TIMEOUT

REGISTRY=${AIOPS_DOCKER_REGISTRY:-/usr/bin/docker-registry}
test_lazy_prereq OPENSSL 'command -v openssl'
test_lazy_prereq REGISTRY 'test -x "$REGISTRY"'
test_lazy_prereq BCRYPT '
	command -v htpasswd || "$PYTHON" -W ignore -c "import crypt; assert crypt.crypt(\"x\", crypt.mksalt(crypt.METHOD_BLOWFISH)).startswith(\"\$2\")"
'
# A local address that is not a loopback one, where aiops-push uses https by default.
NONLOOP=$(hostname -I 2>/dev/null | tr " " "\\n" | grep -E "^[0-9]+(\\.[0-9]+){3}\$" | grep -v "^127\\." | head -n 1)
test_lazy_prereq NONLOOP '
	test -n "$NONLOOP" &&
	"$PYTHON" -c "import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0))" "$NONLOOP"
'

JOBTOK=job-$$-Wq3zP8
PRIVTOK=glpat-$$-Tn6vK1
SECRET=pw-$$-Hs5yL2

# shellcheck source=tests/lib-push.sh
. "$TEST_DIRECTORY/lib-push.sh"

# no_secret [PATH...]: no file under the trash directory (or PATHs), nor the servers' log,
# holds a token, the password, or base64 of alice:password.
no_secret () {
	ns_b64=$(printf "alice:%s" "$SECRET" | base64 -w0)
	if test $# = 0
	then
		set -- "$TRASH_DIRECTORY" "$TRASH_DIRECTORY.out/servers.log"
	fi
	if grep -rlF -e "$JOBTOK" -e "$PRIVTOK" -e "$SECRET" -e "$ns_b64" "$@" >leaks
	then
		echo "secrets found in:" >&2
		cat leaks >&2
		return 1
	fi
	return 0
}

# argv_samples OUT PID: sample the argv of PID from /proc and ps every 50 ms while it
# runs, into OUT.
argv_samples () {
	: >"$1"
	while kill -0 "$2" 2>/dev/null
	do
		{ tr "\\0" " " <"/proc/$2/cmdline" && echo; } >>"$1" 2>/dev/null
		ps -ww -o args= -p "$2" >>"$1" 2>/dev/null
		sleep 0.05
	done
}

test_expect_success 'setup: an artifact and a report' '
	mkdir -p home &&
	aiops-ingest -o x.tensor "$TESTDATA/metrics-demo.csv" &&
	aiops-train -q --space zscore -o m.model x.tensor &&
	echo "{\"best_f1\": 0.75}" >report.json &&
	aiops-pack -q -V 1.0.0 -o m.tar.gz m.model
'

test_expect_success 'aiops-push has no option that takes a credential' '
	aiops-push -h >usage &&
	test_grep ! -i "token\\|passw\\|user\\|secret\\|cred" usage &&
	for o in --token --password --user --auth
	do
		test_expect_code 2 aiops-push $o x m.tar.gz lay:1 >out 2>err || return 1
	done &&
	test_path_is_missing lay
'

# --- GitLab -----------------------------------------------------------------------------------

test_expect_success 'setup: the GitLab stub, which holds each upload 1 s' '
	(
		GITLAB_STUB_JOB_TOKEN=$JOBTOK &&
		GITLAB_STUB_PRIVATE_TOKEN=$PRIVTOK &&
		export GITLAB_STUB_JOB_TOKEN GITLAB_STUB_PRIVATE_TOKEN &&
		start_bg "$PYTHON" "$TEST_DIRECTORY/helpers/gitlab_stub.py" --port-file stub.port \
			--store stub.store --log stub.log --delay 1 --lifetime 300 &&
		echo "$bg_pid" >stub.pid
	) &&
	test -n "$(wait_port_file stub.port)" &&
	echo "http://127.0.0.1:$(cat stub.port)/api/v4" >api
'

test_expect_success 'GitLab: neither token is in argv while a push runs' '
	for kind in private job
	do
		if test $kind = private
		then
			AIOPS_GITLAB_TOKEN=$PRIVTOK aiops-push --api-url "$(cat api)" --project 42 \
				m.tar.gz gitlab://aiops-model/1.0.$kind >out 2>err &
		else
			CI_API_V4_URL=$(cat api) CI_PROJECT_ID=42 CI_JOB_TOKEN=$JOBTOK \
				aiops-push m.tar.gz gitlab://aiops-model/1.0.$kind >out 2>err &
		fi
		pid=$! &&
		argv_samples argv.$kind $pid &&
		wait $pid &&
		test_grep "aiops-push.*gitlab://aiops-model/1.0.$kind" argv.$kind &&
		test_grep " $kind 201\$" stub.log || return 1
	done &&
	no_secret argv.private argv.job
'

test_expect_success 'GitLab: -v, a referrer, a refused token and a pull: no token in any output or file' '
	AIOPS_GITLAB_TOKEN=$PRIVTOK aiops-push -v --api-url "$(cat api)" --project 42 \
		--referrer report.json m.tar.gz gitlab://aiops-model/2.0.0 >gl.out 2>gl.err &&
	test_grep "authenticating with AIOPS_GITLAB_TOKEN as PRIVATE-TOKEN" gl.err &&
	test_expect_code 1 env AIOPS_GITLAB_TOKEN=x$PRIVTOK aiops-push -v --api-url "$(cat api)" \
		--project 42 m.tar.gz gitlab://aiops-model/2.0.1 >>gl.out 2>>gl.err &&
	test_grep "HTTP 401" gl.err &&
	CI_API_V4_URL=$(cat api) CI_PROJECT_ID=42 CI_JOB_TOKEN=$JOBTOK \
		aiops-push -v --pull -o glpull gitlab://aiops-model/2.0.0/m.tar.gz >>gl.out 2>>gl.err &&
	cmp m.model glpull/m.model &&
	test -s stub.log &&
	no_secret
'

# --- a registry with Basic auth -----------------------------------------------------------------

test_expect_success REGISTRY,BCRYPT,CURL 'setup: docker-registry with htpasswd Basic auth' '
	if command -v htpasswd >/dev/null 2>&1
	then
		printf "%s\n" "$SECRET" | htpasswd -iBc reg.htpasswd alice 2>/dev/null
	else
		PW=$SECRET "$PYTHON" -W ignore -c "import crypt, os; print(\"alice:\" + crypt.crypt(os.environ[\"PW\"], crypt.mksalt(crypt.METHOD_BLOWFISH)))" >reg.htpasswd
	fi &&
	reg_port=$(free_port) &&
	mkdir reg.data &&
	cat >reg.yml <<-EOF &&
	version: 0.1
	log:
	  level: debug
	storage:
	  filesystem:
	    rootdirectory: $TRASH_DIRECTORY/reg.data
	http:
	  addr: 127.0.0.1:$reg_port
	  secret: aiops-test-secret
	auth:
	  htpasswd:
	    realm: aiops-test
	    path: $TRASH_DIRECTORY/reg.htpasswd
	EOF
	start_bg "$REGISTRY" serve reg.yml &&
	n=0 &&
	while test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$reg_port/v2/")" != 401
	do
		test $n -lt 100 || return 1
		sleep 0.1
		n=$((n + 1))
	done &&
	echo "$reg_port" >reg.port &&
	test_set_prereq BASICREG
'
R=oci://127.0.0.1:$(cat reg.port 2>/dev/null)

test_expect_success BASICREG 'registry: the password is not in argv while a slow push runs' '
	"$PYTHON" -c "import random; r = random.Random(8030); open(\"noise.bin\", \"wb\").write(r.randbytes(3000000))" &&
	aiops-pack -q -V 2.0.0 -o big.tar.gz m.model noise.bin &&
	start_bg "$PYTHON" "$TEST_DIRECTORY/helpers/faulty_proxy.py" --upstream "127.0.0.1:$(cat reg.port)" \
		--port-file slow.port --log slow.log --delay 0.3 --lifetime 300 &&
	proxy_pid=$bg_pid &&
	test_when_finished "stop_pid $proxy_pid" &&
	slow_port=$(wait_port_file slow.port) &&
	{
		AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$SECRET \
			aiops-push -v --chunk-size 1M big.tar.gz "oci://127.0.0.1:$slow_port/models/slow:1" >slow.out 2>slow.err &
		pid=$!
	} &&
	argv_samples argv.reg $pid &&
	wait $pid &&
	test_grep "aiops-push.*oci://127.0.0.1:$slow_port/models/slow:1" argv.reg &&
	no_secret argv.reg
'

test_expect_success BASICREG 'registry: -v push, referrer, promotion, pull, layout: no secret anywhere' '
	AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$SECRET \
		aiops-push -v --referrer report.json m.tar.gz "$R/models/m:1.0" >reg.out 2>reg.err &&
	test_grep "credentials from AIOPS_REGISTRY_USER/AIOPS_REGISTRY_PASSWORD" reg.err &&
	AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$SECRET \
		aiops-push -v --promote "$R/models/m:1.0" "$R/prod/m:1.0" >>reg.out 2>>reg.err &&
	test_expect_code 1 env AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=no-$SECRET \
		aiops-push -v m.tar.gz "$R/models/m:1.1" >>reg.out 2>>reg.err &&
	test_grep "refused the credentials" reg.err &&
	AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$SECRET \
		aiops-push -v --pull -o regpull "$R/prod/m:1.0" >>reg.out 2>>reg.err &&
	cmp m.model regpull/m.model &&
	aiops-push -v m.tar.gz reglayout:1.0 >>reg.out 2>>reg.err &&
	test -s reg.out &&
	test_grep "alice" "$TRASH_DIRECTORY.out/servers.log" &&
	no_secret
'

# --- redirects to another host ------------------------------------------------------------------

test_expect_success 'setup: a registry and a GitLab that redirect downloads to another server' '
	aiops-push m.tar.gz redir-layout:1.0 >/dev/null &&
	cat >redirect.py <<-\EOF &&
	# redirect.py LAYOUT PORTFILE LOG: two servers on 127.0.0.1, MAIN and OTHER (PORTFILE
	# gets "MAIN OTHER"). MAIN is a registry of the one repository r/m and a GitLab API,
	# both asking for credentials ($FAKE_USER/$FAKE_PW as Basic, $FAKE_PW as PRIVATE-TOKEN),
	# that serve manifests from LAYOUT and redirect every blob and package file download to
	# OTHER, which serves the blobs and logs each request and all its headers to LOG.
	import base64, hashlib, http.server, json, os, socketserver, sys, threading
	layout, portfile, logname = sys.argv[1:4]
	user, pw = os.environ["FAKE_USER"], os.environ["FAKE_PW"]
	basic = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
	log = open(logname, "a", buffering=1)
	idx = json.load(open(os.path.join(layout, "index.json")))
	def blob(hx):
	    return open(os.path.join(layout, "blobs", "sha256", hx), "rb").read()
	ports = {}
	class Main(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def log_message(self, *a):
	        pass
	    def send(self, status, body=b"", hdrs=()):
	        self.send_response(status)
	        for k, v in hdrs:
	            self.send_header(k, v)
	        self.send_header("Content-Length", str(len(body)))
	        self.end_headers()
	        if self.command != "HEAD":
	            self.wfile.write(body)
	    def do_GET(self):
	        p = self.path
	        if p.startswith("/api/v4/"):
	            if self.headers.get("PRIVATE-TOKEN") != pw:
	                return self.send(401, b"{\"message\":\"401 Unauthorized\"}")
	            layer = json.loads(blob(idx["manifests"][0]["digest"][7:]))["layers"][0]["digest"]
	            return self.send(302, hdrs=[("Location", "http://127.0.0.1:%d/o/%s" % (ports["other"], layer[7:]))])
	        if self.headers.get("Authorization") != basic:
	            return self.send(401, b"{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
	                             [("WWW-Authenticate", "Basic realm=\"fake\""), ("Content-Type", "application/json")])
	        if p == "/v2/":
	            return self.send(200, b"{}")
	        if p.startswith("/v2/r/m/manifests/"):
	            ref = p.rsplit("/", 1)[1]
	            for m in idx["manifests"]:
	                if ref in (m["digest"], m.get("annotations", {}).get("org.opencontainers.image.ref.name")):
	                    return self.send(200, blob(m["digest"][7:]), [("Content-Type", m["mediaType"]),
	                                                                 ("Docker-Content-Digest", m["digest"])])
	            return self.send(404, b"{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}")
	        if p.startswith("/v2/r/m/blobs/sha256:"):
	            return self.send(307, hdrs=[("Location", "http://127.0.0.1:%d/o/%s" % (ports["other"], p.rsplit(":", 1)[1]))])
	        self.send(404)
	    do_HEAD = do_GET
	class Other(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def log_message(self, *a):
	        pass
	    def do_GET(self):
	        log.write("%s %s\n%s\n" % (self.command, self.path, str(self.headers).strip()))
	        data = blob(self.path.rsplit("/", 1)[1])
	        self.send_response(200)
	        self.send_header("Content-Length", str(len(data)))
	        self.end_headers()
	        self.wfile.write(data)
	class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
	    daemon_threads = True
	main, other = S(("127.0.0.1", 0), Main), S(("127.0.0.1", 0), Other)
	ports["other"] = other.server_address[1]
	threading.Thread(target=other.serve_forever, daemon=True).start()
	open(portfile + ".tmp", "w").write("%d %d\n" % (main.server_address[1], ports["other"]))
	os.rename(portfile + ".tmp", portfile)
	main.serve_forever()
	EOF
	(
		FAKE_USER=alice FAKE_PW=$SECRET &&
		export FAKE_USER FAKE_PW &&
		start_bg "$PYTHON" redirect.py redir-layout redir.port redir.log
	) &&
	test -n "$(wait_port_file redir.port)"
'

test_expect_success 'a registry'"'"'s blob download redirected to another server carries no credentials' '
	main=$(cut -d" " -f1 redir.port) &&
	AIOPS_REGISTRY_USER=alice AIOPS_REGISTRY_PASSWORD=$SECRET \
		aiops-push -v --pull -o rpull "oci://127.0.0.1:$main/r/m:1.0" >out 2>err &&
	cmp m.model rpull/m.model &&
	test "$(grep -c "^GET /o/" redir.log)" = 2 &&
	test_grep ! -i "^authorization:" redir.log &&
	no_secret
'

test_expect_success 'a GitLab package download redirected to another server carries no token' '
	main=$(cut -d" " -f1 redir.port) &&
	: >redir.log &&
	AIOPS_GITLAB_TOKEN=$SECRET aiops-push --api-url "http://127.0.0.1:$main/api/v4" --project 42 \
		--pull -o gpull gitlab://aiops-model/1.0.0/m.tar.gz >out 2>err &&
	cmp m.model gpull/m.model &&
	test "$(grep -c "^GET /o/" redir.log)" = 1 &&
	test_grep ! -i "^private-token:\\|^job-token:\\|^authorization:" redir.log &&
	no_secret
'

# --- TLS --------------------------------------------------------------------------------------

test_expect_success OPENSSL 'setup: TLS servers with a self-signed certificate and a misnamed one' '
	addrs="IP:127.0.0.1${NONLOOP:+,IP:$NONLOOP}" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.crt -days 2 \
		-subj /CN=127.0.0.1 -addext "subjectAltName=$addrs" >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout wrong.key -out wrong.crt -days 2 \
		-subj /CN=wrong.example -addext "subjectAltName=DNS:wrong.example" >/dev/null 2>&1 &&
	cat >tls.py <<-\EOF &&
	# tls.py CERT KEY PORTFILE HOST: an https server on HOST that answers 200 with a small
	# CSV to every request (a body is read first), or a Prometheus reply to a query.
	import http.server, os, socketserver, ssl, sys
	cert, key, portfile, host = sys.argv[1:5]
	class H(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def log_message(self, *a):
	        pass
	    def any(self):
	        n = int(self.headers.get("Content-Length") or 0)
	        if n:
	            self.rfile.read(n)
	        body = b"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}" \
	            if "query_range" in self.path else b"a,b\n1,2\n"
	        self.send_response(200)
	        self.send_header("Content-Length", str(len(body)))
	        self.end_headers()
	        if self.command != "HEAD":
	            self.wfile.write(body)
	    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = any
	class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
	    daemon_threads = True
	s = S((host, 0), H)
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	ctx.load_cert_chain(cert, key)
	s.socket = ctx.wrap_socket(s.socket, server_side=True)
	open(portfile + ".tmp", "w").write("%d\n" % s.server_address[1])
	os.rename(portfile + ".tmp", portfile)
	s.serve_forever()
	EOF
	start_bg "$PYTHON" tls.py self.crt self.key self.port 127.0.0.1 &&
	start_bg "$PYTHON" tls.py wrong.crt wrong.key wrong.port 127.0.0.1 &&
	test -n "$(wait_port_file self.port)" &&
	test -n "$(wait_port_file wrong.port)" &&
	if test_have_prereq NONLOOP
	then
		start_bg "$PYTHON" tls.py self.crt self.key nonloop.port "$NONLOOP" &&
		test -n "$(wait_port_file nonloop.port)"
	fi &&
	curl -s --cacert self.crt "https://127.0.0.1:$(cat self.port)/x.csv" >got &&
	printf "a,b\\n1,2\\n" >expect &&
	test_cmp expect got &&
	test_set_prereq TLS
'
SELF=https://127.0.0.1:$(cat self.port 2>/dev/null)
WRONG=https://127.0.0.1:$(cat wrong.port 2>/dev/null)

# cert_fails CMD...: CMD exits 1, prints nothing, and its one message says why the
# certificate was refused (self-signed, or not for this host name), without retrying.
cert_fails () {
	test_expect_code 1 "$@" >cf.out 2>err &&
	test_must_be_empty cf.out &&
	test_grep -i "SSL certificate problem\\|certificate subject name" err &&
	test_grep ! "retrying" err
}

test_expect_success TLS 'aiops-ingest: a self-signed https URL is refused, as is a Prometheus one' '
	cert_fails aiops-ingest -O csv "$SELF/x.csv" &&
	test_grep "^aiops-ingest: $SELF/x.csv: SSL certificate problem: self-signed certificate\$" err &&
	cert_fails aiops-ingest -o out.csv "$SELF/x.csv" &&
	test_path_is_missing out.csv &&
	cert_fails aiops-ingest --prom up --start 0 --end 60 --step 15s -O csv "$SELF" &&
	test_grep "^aiops-ingest: $SELF/api/v1/query_range?query=up&.*: SSL certificate problem" err
'

test_expect_success TLS 'aiops-push: GitLab over https with a self-signed certificate is refused, also with --insecure-http' '
	cert_fails env AIOPS_GITLAB_TOKEN=t aiops-push -v --api-url "$SELF/api/v4" --project 42 \
		m.tar.gz gitlab://aiops-model/1.0.0 &&
	cert_fails env AIOPS_GITLAB_TOKEN=t aiops-push --insecure-http --api-url "$SELF/api/v4" \
		--project 42 m.tar.gz gitlab://aiops-model/1.0.0 &&
	cert_fails env AIOPS_GITLAB_TOKEN=t aiops-push --api-url "$SELF/api/v4" --project 42 \
		--pull -o tlspull gitlab://aiops-model/1.0.0/m.tar.gz &&
	test_path_is_missing tlspull
'

test_expect_success TLS,NONLOOP 'aiops-push: a registry on a non-loopback host is https, and its self-signed certificate is refused' '
	N=oci://$NONLOOP:$(cat nonloop.port) &&
	cert_fails aiops-push -v m.tar.gz "$N/models/m:1.0" &&
	test_grep "^aiops-push: $NONLOOP:$(cat nonloop.port): SSL certificate problem: self-signed certificate\$" err &&
	cert_fails aiops-push -v --pull -o tlspull "$N/models/m:1.0" &&
	test_path_is_missing tlspull
'

test_expect_success TLS 'aiops-push --cacert: the name is checked too; the right CA and name get through' '
	W=oci://127.0.0.1:$(cat wrong.port) &&
	cert_fails aiops-push --cacert wrong.crt m.tar.gz "$W/models/m:1.0" &&
	test_grep -i "certificate subject name" err &&
	cert_fails aiops-push --cacert self.crt m.tar.gz "$W/models/m:1.0" &&
	cert_fails aiops-push --cacert wrong.crt m.tar.gz "oci://127.0.0.1:$(cat self.port)/models/m:1.0" &&
	{ aiops-push --cacert self.crt --pull -o ok "oci://127.0.0.1:$(cat self.port)/models/m:1.0" >out 2>err || :; } &&
	test -s err &&
	test_grep ! -i "certificate" err
'

test_expect_success TLS 'no variable or configuration file turns verification off' '
	mkdir -p home/.config cfg &&
	printf "insecure\\n-k\\n" >home/.curlrc &&
	cp home/.curlrc home/.config/.curlrc &&
	cp home/.curlrc cfg/.curlrc &&
	cat >cfg/openssl.cnf <<-\EOF &&
	openssl_conf = openssl_init
	[openssl_init]
	ssl_conf = ssl_sect
	[ssl_sect]
	system_default = system_default_sect
	[system_default_sect]
	VerifyMode = None
	EOF
	for v in CURL_INSECURE=1 CURLOPT_SSL_VERIFYPEER=0 CURLOPT_SSL_VERIFYHOST=0 CURL_SSL_NO_VERIFY=1 \
		AIOPS_INSECURE=1 AIOPS_TLS_VERIFY=0 AIOPS_PUSH_INSECURE=1 AIOPS_SSL_VERIFY=0 \
		GIT_SSL_NO_VERIFY=true NODE_TLS_REJECT_UNAUTHORIZED=0 PYTHONHTTPSVERIFY=0 \
		SSL_NO_VERIFY=1 CURL_HOME=$TRASH_DIRECTORY/cfg XDG_CONFIG_HOME=$TRASH_DIRECTORY/home/.config \
		OPENSSL_CONF=$TRASH_DIRECTORY/cfg/openssl.cnf
	do
		cert_fails env "$v" aiops-ingest -O csv "$SELF/x.csv" &&
		cert_fails env "$v" AIOPS_GITLAB_TOKEN=t aiops-push --api-url "$SELF/api/v4" --project 42 \
			m.tar.gz gitlab://aiops-model/1.0.0 &&
		cert_fails env "$v" aiops-push --cacert self.crt m.tar.gz "oci://127.0.0.1:$(cat wrong.port)/models/m:1.0" ||
		{ echo "with $v" >&2; return 1; }
	done
'

test_expect_success TLS 'the trusted certificates are the system'"'"'s: SSL_CERT_FILE, SSL_CERT_DIR and CURL_CA_BUNDLE add none' '
	mkdir -p certs &&
	cp self.crt certs/ &&
	{ openssl rehash certs 2>/dev/null || c_rehash certs >/dev/null 2>&1 || :; } &&
	for v in SSL_CERT_FILE=$TRASH_DIRECTORY/self.crt SSL_CERT_DIR=$TRASH_DIRECTORY/certs \
		CURL_CA_BUNDLE=$TRASH_DIRECTORY/self.crt
	do
		cert_fails env "$v" aiops-ingest -O csv "$SELF/x.csv" &&
		cert_fails env "$v" AIOPS_GITLAB_TOKEN=t aiops-push --api-url "$SELF/api/v4" --project 42 \
			m.tar.gz gitlab://aiops-model/1.0.0 ||
		{ echo "with $v" >&2; return 1; }
	done
'

test_expect_success 'every server is stopped, and no secret was left in any file' '
	stop_all &&
	test_must_be_empty "$PIDFILE" &&
	no_secret
'

stop_all
test_done
