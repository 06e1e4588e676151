#!/bin/sh
# t4000: aiops-pack: the artifact (layout, manifest, metrics, version and time), byte-for-byte
# reproducibility, --list, --verify and tampering, --extract and hostile archives, the OCI
# image layout read back by skopeo, usage, and that a failed run leaves no output behind.
# The artifacts are checked by an independent reader, art.py, on Python's tarfile, gzip,
# hashlib and json.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='aiops-pack: artifact, reproducibility, list, verify, extract, OCI layout'
. "$(dirname "$0")/lib.sh"

# A CI runner sets these; the tests set them where they want them.
sane_unset SOURCE_DATE_EPOCH CI_COMMIT_TAG CI_COMMIT_SHORT_SHA CI_COMMIT_SHA CI_PIPELINE_ID
# shellcheck disable=SC2034 # used inside the test bodies
EPOCH=1700000000

test_lazy_prereq PACKMAN 'test -f "$TOP/man/aiops-pack.1"'
test_lazy_prereq SKOPEO 'command -v skopeo'

# fails_cleanly STATUS OUT ARG...: fails_cleanly_o (lib.sh) for aiops-pack.
fails_cleanly () {
	fails_cleanly_o aiops-pack "$@"
}

# art SUBCOMMAND ARG...: the independent reader (see setup).
art () {
	"$PYTHON" "$TRASH_DIRECTORY/art.py" "$@"
}

test_expect_success 'setup: a model, a report and extra files' '
	aiops-ingest -q -o demo.tensor "$TESTDATA/metrics-demo.csv" &&
	SOURCE_DATE_EPOCH=$EPOCH aiops-train -q --space zscore -o m.model demo.tensor &&
	aiops-train --info --json m.model >m.info &&
	printf "{\"metrics\": {\"f1\": 0.9, \"auc_pr\": 0.8125, \"per_column\": {\"cpu\": [1, 2.5]}, \"note\": \"x\"}, \"rows\": 7}\n" >eval.json &&
	printf "# the model\n" >README.md &&
	printf "template <*> took <*> ms\n" >templates.txt &&
	cat >art.py <<-\EOF &&
	# art.py: an independent reader of aiops artifacts and OCI layouts for the tests.
	import calendar, gzip, hashlib, io, json, os, sys, tarfile, time, zlib

	def sha(b):
	    return hashlib.sha256(b).hexdigest()

	def members(path):
	    t = tarfile.open(path, "r:gz")
	    return [(m, t.extractfile(m).read() if m.isreg() else None) for m in t.getmembers()]

	def manifest(path):
	    m = members(path)
	    assert m[0][0].name == "manifest.json", m[0][0].name
	    return json.loads(m[0][1])

	def walk(o, p):
	    for k in p.split("."):
	        o = o[int(k)] if isinstance(o, list) else o[k]
	    return o

	def out(v):
	    if isinstance(v, (dict, list, bool)) or v is None:
	        print(json.dumps(v, sort_keys=True))
	    else:
	        print(v)

	def layout(path):
	    raw = open(path, "rb").read()
	    # gzip: no flags (no name), time 0, OS 255; one member and nothing after it
	    assert raw[:4] == b"\x1f\x8b\x08\x00", raw[:4]
	    assert raw[4:8] == b"\0\0\0\0", raw[4:8]
	    assert raw[9] == 255, raw[9]
	    d = zlib.decompressobj(31)
	    tar = d.decompress(raw) + d.flush()
	    assert d.eof and d.unused_data == b"", "trailing data"
	    assert len(tar) % 10240 == 0, len(tar)
	    ms = members(path)
	    man = json.loads(ms[0][1])
	    assert ms[0][0].name == "manifest.json"
	    assert ms[0][1].endswith(b"\n")
	    # the manifest is written as json.dumps(indent=2, sort_keys=True) would
	    assert ms[0][1] == (json.dumps(man, indent=2, sort_keys=True) + "\n").encode(), "manifest text"
	    created = calendar.timegm(time.strptime(man["created"], "%Y-%m-%dT%H:%M:%SZ"))
	    names = [m.name for m, _ in ms[1:]]
	    assert names == sorted(names), names
	    for m, _ in ms:
	        assert m.type == tarfile.REGTYPE, (m.name, m.type)
	        assert m.mode == 0o644, (m.name, oct(m.mode))
	        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), (m.name, m.uid, m.uname)
	        assert m.mtime == created, (m.name, m.mtime, created)
	    files = {f["name"]: f for f in man["files"]}
	    assert [f["name"] for f in man["files"]] == sorted(files), "files not sorted"
	    assert sorted(files) == sorted(names), (sorted(files), names)
	    for m, b in ms[1:]:
	        f = files[m.name]
	        assert f["size"] == len(b) == m.size, (m.name, f["size"], len(b))
	        assert f["sha256"] == sha(b), m.name
	    roles = sorted(f["role"] for f in man["files"])
	    assert roles.count("model") == 1, roles
	    assert files[man["model"]["file"]]["role"] == "model"
	    print("ok")

	def retar(path, outp, edit):
	    """Rewrite the artifact at path through edit(list of (TarInfo, bytes)) into outp."""
	    ms = members(path)
	    ms = edit(ms)
	    buf = io.BytesIO()
	    t = tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT)
	    for m, b in ms:
	        if b is not None:
	            m.size = len(b)
	        t.addfile(m, io.BytesIO(b) if b is not None else None)
	    t.close()
	    open(outp, "wb").write(gzip.compress(buf.getvalue(), mtime=0))

	def member_info(name, data=None, **kw):
	    m = tarfile.TarInfo(name)
	    for k, v in kw.items():
	        setattr(m, k, v)
	    if data is not None:
	        m.size = len(data)
	    return m

	def hostile(kind, src, outp, outside):
	    def edit(ms):
	        bad = []
	        if kind == "absolute":
	            bad = [(member_info(outside + "/evil", b"evil\n"), b"evil\n")]
	        elif kind == "dotdot":
	            bad = [(member_info("../outside/evil", b"evil\n"), b"evil\n")]
	        elif kind == "symlink":
	            bad = [(member_info("link", type=tarfile.SYMTYPE, linkname=outside), None),
	                   (member_info("link/evil", b"evil\n"), b"evil\n")]
	        elif kind == "device":
	            bad = [(member_info("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3), None)]
	        elif kind == "hardlink":
	            bad = [(member_info("hl", type=tarfile.LNKTYPE, linkname="/etc/passwd"), None)]
	        elif kind == "directory":
	            bad = [(member_info("sub", type=tarfile.DIRTYPE, mode=0o755), None)]
	        elif kind == "subdir":
	            bad = [(member_info("sub/file", b"x\n"), b"x\n")]
	        return ms[:1] + bad + ms[1:]
	    retar(src, outp, edit)

	def tamper(src, outp, how, name=None):
	    def edit(ms):
	        if how == "flip":
	            for i, (m, b) in enumerate(ms):
	                if m.name == name:
	                    b = bytearray(b)
	                    b[len(b) // 2] ^= 0x01
	                    ms[i] = (m, bytes(b))
	        elif how == "drop":
	            ms = [(m, b) for m, b in ms if m.name != name]
	        elif how == "extra":
	            ms = ms + [(member_info(name, b"extra\n"), b"extra\n")]
	        elif how == "twice":
	            ms = ms + [x for x in ms if x[0].name == name]
	        elif how == "first":
	            ms = ms[1:] + ms[:1]
	        elif how == "schema2":
	            man = json.loads(ms[0][1])
	            man["schema_version"] = 2
	            ms[0] = (ms[0][0], json.dumps(man).encode())
	        elif how == "badjson":
	            ms[0] = (ms[0][0], b"{\"schema_version\": 1,")
	        elif how == "nomodel":
	            man = json.loads(ms[0][1])
	            del man["model"]
	            ms[0] = (ms[0][0], json.dumps(man).encode())
	        return ms
	    retar(src, outp, edit)

	def oci(d, tag, art=None, title=None):
	    assert json.load(open(os.path.join(d, "oci-layout"))) == {"imageLayoutVersion": "1.0.0"}
	    def blob(dg, size=None):
	        assert dg.startswith("sha256:"), dg
	        b = open(os.path.join(d, "blobs", "sha256", dg[7:]), "rb").read()
	        assert "sha256:" + sha(b) == dg, dg
	        assert size is None or len(b) == size, (dg, len(b), size)
	        return b
	    for f in os.listdir(os.path.join(d, "blobs", "sha256")):
	        blob("sha256:" + f)
	    idx = json.load(open(os.path.join(d, "index.json")))
	    assert idx["schemaVersion"] == 2
	    assert idx["mediaType"] == "application/vnd.oci.image.index.v1+json"
	    hits = [m for m in idx["manifests"]
	            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
	    assert len(hits) == 1, hits
	    e = hits[0]
	    assert e["mediaType"] == "application/vnd.oci.image.manifest.v1+json", e
	    mb = blob(e["digest"], e["size"])
	    m = json.loads(mb)
	    assert m["schemaVersion"] == 2
	    assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
	    assert m["artifactType"] == "application/vnd.aiops.model.v1"
	    assert m["config"]["mediaType"] == "application/vnd.aiops.model.config.v1+json"
	    cfg = blob(m["config"]["digest"], m["config"]["size"])
	    assert len(m["layers"]) == 1
	    l = m["layers"][0]
	    assert l["mediaType"] == "application/vnd.aiops.model.layer.v1.tar+gzip"
	    lb = blob(l["digest"], l["size"])
	    if art:
	        assert lb == open(art, "rb").read(), "layer != artifact"
	    if title:
	        assert l["annotations"]["org.opencontainers.image.title"] == title, l["annotations"]
	    p = os.path.join(d, "layer.tmp")
	    open(p, "wb").write(lb)
	    try:
	        ms = members(p)
	    finally:
	        os.unlink(p)
	    assert cfg == ms[0][1], "config != manifest.json"
	    man = json.loads(cfg)
	    a = m["annotations"]
	    assert a["org.opencontainers.image.created"] == man["created"], a
	    assert a["org.opencontainers.image.version"] == man["version"], a
	    print(e["digest"])

	cmd, args = sys.argv[1], sys.argv[2:]
	if cmd == "layout":
	    layout(args[0])
	elif cmd == "get":
	    out(walk(manifest(args[0]), args[1]))
	elif cmd == "json":
	    out(walk(json.load(open(args[0])), args[1]))
	elif cmd == "member":
	    sys.stdout.buffer.write(dict((m.name, b) for m, b in members(args[0]))[args[1]])
	elif cmd == "hostile":
	    hostile(*args)
	elif cmd == "tamper":
	    tamper(*args)
	elif cmd == "oci":
	    oci(*args)
	elif cmd == "flipbyte":
	    b = bytearray(open(args[0], "rb").read())
	    b[int(args[2]) if len(args) > 2 else len(b) // 2] ^= 0x10
	    open(args[1], "wb").write(bytes(b))
	else:
	    sys.exit("art.py: unknown command " + cmd)
	EOF
	test_path_is_file m.model
'

# --- usage ----------------------------------------------------------------------------

test_expect_success '-h prints the usage on stdout and exits 0' '
	aiops-pack -h >out 2>err &&
	test_must_be_empty err &&
	test_grep "^usage: aiops-pack \\[-hq\\]" out &&
	test_grep "aiops-pack --list artifact\$" out &&
	test_grep "aiops-pack --verify \\[-q\\] artifact\$" out &&
	test_grep "aiops-pack --extract dir \\[-q\\] artifact\$" out &&
	aiops-pack --help >out2 &&
	test_cmp out out2
'

test_expect_success MANDOC,PACKMAN '-h output equals the SYNOPSIS of aiops-pack(1)' '
	test_usage_is_synopsis aiops-pack "^aiops-pack \\[-hq\\]"
'

test_expect_success 'usage errors: status 2, a message, no output' '
	test_expect_code 2 aiops-pack --bogus m.model >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: aiops-pack " err &&
	test_expect_code 2 aiops-pack -V 1 >out 2>err &&
	test_grep "^usage: aiops-pack " err &&
	fails_cleanly 2 x.tar.gz -V 1 --tag t m.model &&
	test_grep "^aiops-pack: --tag goes with --oci\$" err &&
	for v in 0 65 x ""
	do
		fails_cleanly 2 x.tar.gz -V 1 -j "$v" m.model &&
		test_grep "^aiops-pack: -j: expected a whole number from 1 to 64, got \"$v\"\$" err || return 1
	done &&
	fails_cleanly 2 x.tar.gz -V 1 --level 10 m.model &&
	test_grep "^aiops-pack: --level: expected a whole number from 0 to 9" err &&
	test_expect_code 2 aiops-pack --list -o x.tar.gz a.tar.gz >out 2>err &&
	test_grep "take no packing options" err &&
	test_expect_code 2 aiops-pack --list --verify a.tar.gz >out 2>err &&
	test_grep "go alone" err &&
	test_expect_code 2 aiops-pack --verify a.tar.gz b.tar.gz >out 2>err &&
	test_grep "^usage: aiops-pack " err &&
	fails_cleanly 2 x.tar.gz -V 1 - &&
	test_grep "the model must be a file" err &&
	test_expect_code 2 aiops-pack -V 1 --oci lay -o - m.model >out 2>err &&
	test_path_is_missing lay &&
	test_grep "needs the artifact in a file" err &&
	test_expect_code 2 aiops-pack -V 1 --oci lay -o /dev/null m.model >out 2>err &&
	test_grep "^aiops-pack: /dev/null: --oci needs the artifact in a regular file\$" err &&
	test_path_is_missing lay &&
	fails_cleanly 2 x.tar.gz -V 1 --oci lay --tag ".bad" m.model &&
	test_path_is_missing lay &&
	test_grep "is not an OCI tag" err
'

# --- the artifact ---------------------------------------------------------------------

test_expect_success 'pack: a model, a report and two files into an artifact' '
	aiops-pack -V 1.2.0 -r eval.json -o a.tar.gz m.model README.md templates.txt >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-pack: wrote a.tar.gz: m 1.2.0, 4 files\$" err &&
	test_path_is_file a.tar.gz &&
	no_tmp a.tar.gz &&
	art layout a.tar.gz >layout.out &&
	test_grep "^ok\$" layout.out
'

test_expect_success PYTHON3 'the manifest: schema, name, version, created, tool, model, train, files' '
	test "$(art get a.tar.gz schema_version)" = 1 &&
	test "$(art get a.tar.gz name)" = m &&
	test "$(art get a.tar.gz version)" = 1.2.0 &&
	test "$(art get a.tar.gz created)" = 2023-11-14T22:13:20Z &&
	ver=$(sed -n -e "s/^#define AIOPS_VERSION \"\\(.*\\)\"\$/\\1/p" "$TOP/lib/base.h") &&
	test -n "$ver" &&
	test "$(art get a.tar.gz tool)" = "aiops-pack $ver" &&
	test "$(art get a.tar.gz model.file)" = m.model &&
	test "$(art get a.tar.gz model.family)" = zscore &&
	test "$(art get a.tar.gz model.kind)" = detector &&
	test "$(art get a.tar.gz model.params)" = "{}" &&
	test "$(art get a.tar.gz model.columns)" = "$(art json m.info columns)" &&
	test "$(art get a.tar.gz model.threshold)" = "$(art json m.info threshold.value)" &&
	test "$(art get a.tar.gz train.sha256)" = "$(art json m.info train.sha256)" &&
	test "$(art get a.tar.gz train.rows)" = "$(art json m.info train.rows)" &&
	test "$(art get a.tar.gz model.provenance.created)" = $EPOCH &&
	test "$(art get a.tar.gz report)" = eval.json &&
	for f in m.model eval.json README.md templates.txt
	do
		art member a.tar.gz $f >got &&
		cmp got $f || return 1
	done &&
	test "$(art get a.tar.gz files.0.name)" = README.md &&
	test "$(art get a.tar.gz files.0.role)" = file &&
	test "$(art get a.tar.gz files.0.size)" = "$(wc -c <README.md | tr -d " ")" &&
	test "$(art get a.tar.gz files.0.sha256)" = "$(sha256sum README.md | cut -d" " -f1)" &&
	test "$(art get a.tar.gz files.1.name)" = eval.json &&
	test "$(art get a.tar.gz files.1.role)" = report &&
	test "$(art get a.tar.gz files.2.name)" = m.model &&
	test "$(art get a.tar.gz files.2.role)" = model &&
	test "$(art get a.tar.gz files.2.sha256)" = "$(sha256sum m.model | cut -d" " -f1)" &&
	test "$(art get a.tar.gz files.3.name)" = templates.txt
'

test_expect_success PYTHON3 'metrics: the report'"'"'s "metrics" object, copied as it is' '
	art get a.tar.gz metrics >got &&
	echo "{\"auc_pr\": 0.8125, \"f1\": 0.9, \"note\": \"x\", \"per_column\": {\"cpu\": [1, 2.5]}}" >expect &&
	test_cmp expect got &&
	art member a.tar.gz manifest.json >man.json &&
	test_grep "^    \"f1\": 0.9,\$" man.json
'

test_expect_success PYTHON3 'metrics: without a "metrics" object, the top-level numbers' '
	printf "{\"f1\": 0.75, \"n\": 12, \"ok\": true, \"name\": \"x\", \"sub\": {\"a\": 1}}\n" >flat.json &&
	aiops-pack -q -V 1 -r flat.json -o flat.tar.gz m.model &&
	echo "{\"f1\": 0.75, \"n\": 12}" >expect &&
	art get flat.tar.gz metrics >got &&
	test_cmp expect got &&
	aiops-pack -q -V 1 -o nometrics.tar.gz m.model &&
	art get nometrics.tar.gz files >files &&
	test_grep ! "\"report\"" files &&
	art member nometrics.tar.gz manifest.json >man.json &&
	test_grep ! "\"metrics\"" man.json &&
	test_grep ! "\"report\"" man.json
'

test_expect_success PYTHON3 'created: SOURCE_DATE_EPOCH wins over the model'"'"'s time, in the manifest and the mtimes' '
	SOURCE_DATE_EPOCH=86400 aiops-pack -q -V 1 -o e.tar.gz m.model README.md &&
	test "$(art get e.tar.gz created)" = 1970-01-02T00:00:00Z &&
	art layout e.tar.gz &&
	SOURCE_DATE_EPOCH=86401 aiops-pack -q -V 1 -o e2.tar.gz m.model README.md &&
	! cmp -s e.tar.gz e2.tar.gz &&
	test_expect_code 2 env SOURCE_DATE_EPOCH=yesterday aiops-pack -q -V 1 -o e3.tar.gz m.model 2>err &&
	test_grep "SOURCE_DATE_EPOCH: expected a whole number" err &&
	test_path_is_missing e3.tar.gz
'

test_expect_success PYTHON3 'version: -V, else CI_COMMIT_TAG, else CI_COMMIT_SHORT_SHA, else status 2' '
	CI_COMMIT_TAG=v2.0.0 CI_COMMIT_SHORT_SHA=abc1234 aiops-pack -q -V 3.1 -o v1.tar.gz m.model &&
	test "$(art get v1.tar.gz version)" = 3.1 &&
	CI_COMMIT_TAG=v2.0.0 CI_COMMIT_SHORT_SHA=abc1234 aiops-pack -q -o v2.tar.gz m.model &&
	test "$(art get v2.tar.gz version)" = v2.0.0 &&
	CI_COMMIT_TAG= CI_COMMIT_SHORT_SHA=abc1234 aiops-pack -q -o v3.tar.gz m.model &&
	test "$(art get v3.tar.gz version)" = abc1234 &&
	fails_cleanly 2 v4.tar.gz m.model &&
	test_grep "^aiops-pack: no version: give one with -V version (or set CI_COMMIT_TAG or CI_COMMIT_SHORT_SHA)\$" err &&
	for v in "" "-1" ".1" "1 2" "a/b" "$(printf "%0129d" 1)"
	do
		fails_cleanly 2 v5.tar.gz -V "$v" m.model &&
		test_grep "^aiops-pack: bad version " err || return 1
	done
'

test_expect_success PYTHON3 'name: -n, else the model file name less .model' '
	aiops-pack -q -V 1 -n cpu-detector -o n1.tar.gz m.model &&
	test "$(art get n1.tar.gz name)" = cpu-detector &&
	cp m.model web_api.v2.model &&
	aiops-pack -q -V 1 -o n2.tar.gz web_api.v2.model &&
	test "$(art get n2.tar.gz name)" = web_api.v2 &&
	fails_cleanly 2 n3.tar.gz -V 1 -n "a b" m.model &&
	test_grep "^aiops-pack: bad name \"a b\"" err &&
	cp m.model "my model" &&
	fails_cleanly 2 n4.tar.gz -V 1 -n ok "my model" &&
	test_grep "cannot be stored as \"my model\"" err
'

test_expect_success 'the artifact goes to stdout without -o, not to a terminal' '
	aiops-pack -q -V 1.2.0 -r eval.json m.model README.md templates.txt >s.tar.gz &&
	cmp a.tar.gz s.tar.gz
'

# --- reproducibility ------------------------------------------------------------------

test_expect_success PYTHON3 'the same inputs give the same bytes, whatever the times, modes, umask, -j and paths' '
	mkdir other &&
	cp m.model eval.json README.md templates.txt other/ &&
	touch -d "2001-02-03 04:05:06" other/m.model other/README.md &&
	chmod 600 other/README.md &&
	chmod 640 other/templates.txt &&
	(
		umask 077 &&
		cd other &&
		aiops-pack -q -j 1 -V 1.2.0 -r eval.json -o ../r1.tar.gz m.model README.md templates.txt
	) &&
	aiops-pack -q -j 3 -V 1.2.0 -r "$PWD/other/eval.json" -o r2.tar.gz "$PWD/other/m.model" \
		./other/README.md other/templates.txt &&
	sha256sum a.tar.gz r1.tar.gz r2.tar.gz | cut -d" " -f1 | sort -u >digests &&
	test_line_count = 1 digests
'

test_expect_success PYTHON3 'large members: blocks compressed by several threads give the same bytes' '
	"$PYTHON" -c "import random, sys; r = random.Random(7); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(3 << 20)))" >rand.bin &&
	seq 1 400000 >seq.txt &&
	aiops-pack -q -j 1 -V 1 -o big1.tar.gz m.model rand.bin seq.txt &&
	aiops-pack -q -j 2 -V 1 -o big2.tar.gz m.model rand.bin seq.txt &&
	aiops-pack -q -j 5 --level 6 -V 1 -o big5.tar.gz m.model rand.bin seq.txt &&
	cmp big1.tar.gz big2.tar.gz &&
	cmp big1.tar.gz big5.tar.gz &&
	art layout big1.tar.gz &&
	art member big1.tar.gz rand.bin >got &&
	cmp got rand.bin &&
	gzip -t big1.tar.gz &&
	aiops-pack -q -j 2 -V 1 --level 1 -o fast.tar.gz m.model rand.bin seq.txt &&
	aiops-pack -q -j 2 -V 1 --level 0 -o stored.tar.gz m.model rand.bin seq.txt &&
	art layout fast.tar.gz && art layout stored.tar.gz &&
	test $(wc -c <stored.tar.gz) -gt $(wc -c <big1.tar.gz)
'

# --- list and verify ------------------------------------------------------------------

test_expect_success '--list: role, size, SHA-256 and name of every member, in order' '
	aiops-pack --list a.tar.gz >out 2>err &&
	test_must_be_empty err &&
	{
		for f in README.md eval.json m.model templates.txt
		do
			case $f in
			m.model) role=model ;;
			eval.json) role=report ;;
			*) role=file ;;
			esac &&
			printf "%-8s %12d %s %s\n" $role $(wc -c <$f) $(sha256sum $f | cut -d" " -f1) $f || return 1
		done
	} >expect.files &&
	sed -e 1d out >got.files &&
	test_cmp expect.files got.files &&
	head -n 1 out >first &&
	art member a.tar.gz manifest.json >man.json &&
	printf "%-8s %12d %s %s\n" manifest $(wc -c <man.json) $(sha256sum man.json | cut -d" " -f1) manifest.json >expect.first &&
	test_cmp expect.first first
'

test_expect_success '--verify: OK on stdout, nothing with -q; reads stdin as -' '
	aiops-pack --verify a.tar.gz >out 2>err &&
	test_must_be_empty err &&
	echo "a.tar.gz: OK: m 1.2.0, 4 files, a zscore model" >expect &&
	test_cmp expect out &&
	aiops-pack --verify -q a.tar.gz >out &&
	test_must_be_empty out &&
	aiops-pack --verify - <a.tar.gz >out &&
	test_grep "^<stdin>: OK: " out
'

# verify_fails ART PATTERN: --verify exits 1, its message matches PATTERN, nothing on stdout.
verify_fails () {
	test_expect_code 1 aiops-pack --verify "$1" >vf.out 2>err &&
	test_must_be_empty vf.out &&
	test_grep "$2" err
}

test_expect_success PYTHON3 'tampered artifacts: status 1 and a message naming the member' '
	art tamper a.tar.gz t-model.tar.gz flip m.model &&
	verify_fails t-model.tar.gz "^aiops-pack: t-model.tar.gz: m.model: SHA-256 mismatch: the member has [0-9a-f]\\{64\\}, the manifest says $(sha256sum m.model | cut -d" " -f1)\$" &&
	art tamper a.tar.gz t-readme.tar.gz flip README.md &&
	verify_fails t-readme.tar.gz "^aiops-pack: t-readme.tar.gz: README.md: SHA-256 mismatch" &&
	art tamper a.tar.gz t-drop.tar.gz drop templates.txt &&
	verify_fails t-drop.tar.gz "^aiops-pack: t-drop.tar.gz: templates.txt: listed in the manifest but missing\$" &&
	art tamper a.tar.gz t-extra.tar.gz extra sneaky.sh &&
	verify_fails t-extra.tar.gz "^aiops-pack: t-extra.tar.gz: sneaky.sh: not listed in the manifest\$" &&
	art tamper a.tar.gz t-twice.tar.gz twice README.md &&
	verify_fails t-twice.tar.gz "^aiops-pack: t-twice.tar.gz: README.md: appears twice\$" &&
	art tamper a.tar.gz t-first.tar.gz first &&
	verify_fails t-first.tar.gz "the first member is \"README.md\", not manifest.json" &&
	art tamper a.tar.gz t-schema.tar.gz schema2 &&
	verify_fails t-schema.tar.gz "^aiops-pack: t-schema.tar.gz: artifact schema version 2 is newer than this reader (version 1); upgrade aiops\$" &&
	art tamper a.tar.gz t-json.tar.gz badjson &&
	verify_fails t-json.tar.gz "^aiops-pack: t-json.tar.gz: manifest.json:1:" &&
	art tamper a.tar.gz t-nomodel.tar.gz nomodel &&
	verify_fails t-nomodel.tar.gz "manifest.json: model.file is missing"
'

test_expect_success PYTHON3 'damaged gzip streams: a flipped byte, truncation, trailing bytes, not gzip' '
	art flipbyte big1.tar.gz t-flip.tar.gz 2000000 &&
	verify_fails t-flip.tar.gz "^aiops-pack: t-flip.tar.gz: rand.bin: " &&
	size=$(wc -c <a.tar.gz) &&
	head -c $((size - 4)) a.tar.gz >t-trunc.tar.gz &&
	verify_fails t-trunc.tar.gz "^aiops-pack: t-trunc.tar.gz: truncated (the gzip stream ends early)\$" &&
	head -c $((size / 2)) big1.tar.gz >t-half.tar.gz &&
	verify_fails t-half.tar.gz "^aiops-pack: t-half.tar.gz: " &&
	{ cat a.tar.gz && printf "junk"; } >t-junk.tar.gz &&
	verify_fails t-junk.tar.gz "unexpected bytes after the end of the gzip stream\$" &&
	verify_fails m.model "^aiops-pack: m.model: not an aiops artifact (not gzip-compressed)\$" &&
	: >empty.tar.gz &&
	verify_fails empty.tar.gz "not an aiops artifact (empty file)" &&
	gzip -c m.model >m.model.gz &&
	verify_fails m.model.gz "^aiops-pack: m.model.gz: not an aiops artifact" &&
	verify_fails missing.tar.gz "^aiops-pack: missing.tar.gz: cannot open: No such file or directory\$"
'

test_expect_success PYTHON3 'a model that does not load fails --verify though its sums match' '
	printf "not a model\n" >bad.model &&
	test_expect_code 1 aiops-pack -q -V 1 -o bad.tar.gz bad.model 2>err &&
	test_grep "^aiops-pack: bad.model: not an aiops model (bad magic)\$" err &&
	test_path_is_missing bad.tar.gz &&
	cat >fake.py <<-\EOF &&
	import hashlib, io, json, sys, tarfile, gzip
	src, outp = sys.argv[1], sys.argv[2]
	t = tarfile.open(src)
	ms = [(m, t.extractfile(m).read()) for m in t.getmembers()]
	junk = b"not a model\n"
	man = json.loads(ms[0][1])
	for f in man["files"]:
	    if f["name"] == "m.model":
	        f["size"], f["sha256"] = len(junk), hashlib.sha256(junk).hexdigest()
	buf = io.BytesIO()
	w = tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT)
	for m, b in ms:
	    b = json.dumps(man).encode() if m.name == "manifest.json" else junk if m.name == "m.model" else b
	    m.size = len(b)
	    w.addfile(m, io.BytesIO(b))
	w.close()
	open(outp, "wb").write(gzip.compress(buf.getvalue()))
	EOF
	"$PYTHON" fake.py a.tar.gz t-fake.tar.gz &&
	verify_fails t-fake.tar.gz "^aiops-pack: t-fake.tar.gz: m.model: the model does not load: not an aiops model (bad magic)\$"
'

# --- failures leave nothing behind ----------------------------------------------------

test_expect_success 'bad inputs: the message, the status, and no artifact' '
	fails_cleanly 1 x.tar.gz -V 1 missing.model &&
	test_grep "^aiops-pack: missing.model: " err &&
	fails_cleanly 1 x.tar.gz -V 1 -r missing.json m.model &&
	test_grep "^aiops-pack: missing.json: cannot open: No such file or directory\$" err &&
	printf "[1, 2]\n" >list.json &&
	fails_cleanly 1 x.tar.gz -V 1 -r list.json m.model &&
	test_grep "^aiops-pack: list.json: the report is not a JSON object\$" err &&
	printf "{\"f1\": \n" >broken.json &&
	fails_cleanly 1 x.tar.gz -V 1 -r broken.json m.model &&
	test_grep "^aiops-pack: broken.json:2:0: " err &&
	fails_cleanly 1 x.tar.gz -V 1 m.model missing.txt &&
	test_grep "^aiops-pack: missing.txt: cannot open: No such file or directory\$" err &&
	mkdir adir &&
	fails_cleanly 2 x.tar.gz -V 1 m.model adir &&
	test_grep "^aiops-pack: adir: not a regular file\$" err &&
	mkfifo fifo &&
	fails_cleanly 2 x.tar.gz -V 1 m.model fifo &&
	test_grep "^aiops-pack: fifo: not a regular file\$" err &&
	mkdir sub &&
	cp README.md sub/README.md &&
	fails_cleanly 2 x.tar.gz -V 1 m.model README.md sub/README.md &&
	test_grep "^aiops-pack: README.md and sub/README.md would both be stored as \"README.md\"\$" err &&
	cp eval.json sub/manifest.json &&
	fails_cleanly 2 x.tar.gz -V 1 m.model sub/manifest.json &&
	test_grep "manifest.json is the artifact.s own" err &&
	cp README.md .hidden &&
	fails_cleanly 2 x.tar.gz -V 1 m.model .hidden &&
	test_grep "cannot be stored as \".hidden\"" err
'

test_expect_success PYTHON3 'a model without a training fingerprint or a time is refused' '
	cat >strip.py <<-\EOF &&
	import json, struct, sys, zlib
	b = open(sys.argv[1], "rb").read()
	ver, _, mlen, narr = struct.unpack_from("<HHII", b, 8)
	meta = json.loads(b[20:20 + mlen])
	for k in sys.argv[3:]:
	    head, _, last = k.rpartition(".")
	    o = meta
	    for p in head.split(".") if head else []:
	        o = o[p]
	    del o[last]
	m = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
	body = b[:12] + struct.pack("<II", len(m), narr) + m + b[20 + mlen:-8] + b"END\0"
	open(sys.argv[2], "wb").write(body + struct.pack("<I", zlib.crc32(body)))
	EOF
	"$PYTHON" strip.py m.model notrain.model train.sha256 &&
	aiops-train --info notrain.model >/dev/null &&
	fails_cleanly 1 x.tar.gz -V 1 notrain.model &&
	test_grep "^aiops-pack: notrain.model: the model has no training-data fingerprint (train.sha256)\$" err &&
	"$PYTHON" strip.py m.model notime.model provenance.created &&
	fails_cleanly 2 x.tar.gz -V 1 notime.model &&
	test_grep "^aiops-pack: notime.model: no creation time: the model has no provenance.created; set SOURCE_DATE_EPOCH\$" err &&
	SOURCE_DATE_EPOCH=5 aiops-pack -q -V 1 -o x.tar.gz notime.model &&
	art layout x.tar.gz
'

# --- extract --------------------------------------------------------------------------

test_expect_success 'extract: every file, the model path on stdout' '
	aiops-pack --extract ex a.tar.gz >out 2>err &&
	test_must_be_empty err &&
	echo ex/m.model >expect &&
	test_cmp expect out &&
	for f in m.model eval.json README.md templates.txt
	do
		cmp ex/$f $f || return 1
	done &&
	ls -A ex >listing &&
	test_write_lines README.md eval.json m.model templates.txt >expect &&
	test_cmp expect listing &&
	aiops-train --info ex/m.model >/dev/null
'

test_expect_success 'extract into a directory that holds other files: they stay, same names are replaced' '
	mkdir ex2 &&
	echo keep >ex2/keep.txt &&
	echo old >ex2/README.md &&
	ln -s /nonexistent ex2/templates.txt &&
	aiops-pack --extract ex2 a.tar.gz >out &&
	test "$(cat ex2/keep.txt)" = keep &&
	cmp ex2/README.md README.md &&
	test ! -h ex2/templates.txt &&
	cmp ex2/templates.txt templates.txt &&
	ls -A ex2 >listing &&
	test_write_lines README.md eval.json keep.txt m.model templates.txt >expect &&
	test_cmp expect listing
'

test_expect_success PYTHON3 'extract of a damaged artifact writes nothing' '
	test_expect_code 1 aiops-pack --extract ex3 t-model.tar.gz >out 2>err &&
	test_must_be_empty out &&
	test_grep "m.model: SHA-256 mismatch" err &&
	test_path_is_missing ex3 &&
	mkdir ex4 &&
	echo keep >ex4/README.md &&
	test_expect_code 1 aiops-pack --extract ex4 t-readme.tar.gz >out 2>err &&
	ls -A ex4 >listing &&
	echo README.md >expect &&
	test_cmp expect listing &&
	test "$(cat ex4/README.md)" = keep &&
	mkdir -p ex5/m.model &&
	test_expect_code 1 aiops-pack --extract ex5 a.tar.gz >out 2>err &&
	test_grep "^aiops-pack: ex5/m.model: is a directory\$" err &&
	ls -A ex5 >listing &&
	echo m.model >expect &&
	test_cmp expect listing
'

# hostile KIND PATTERN: an artifact with a hostile member of KIND (built by art.py with
# tarfile) is refused by --extract, --verify and --list with status 1 and a message
# matching PATTERN, and nothing is written outside, or inside, the target.
hostile () {
	h_kind=$1
	h_pat=$2
	rm -rf outside h-$h_kind &&
	mkdir outside &&
	art hostile $h_kind a.tar.gz h-$h_kind.tar.gz "$PWD/outside" &&
	test_expect_code 1 aiops-pack --extract h-$h_kind h-$h_kind.tar.gz >h.out 2>err &&
	test_must_be_empty h.out &&
	test_grep "$h_pat" err &&
	test_grep "an artifact holds only regular files with plain names\$" err &&
	test_path_is_missing h-$h_kind &&
	test_path_is_missing evil &&
	ls -A outside >h.listing &&
	test_must_be_empty h.listing &&
	test_expect_code 1 aiops-pack --verify h-$h_kind.tar.gz >h.out 2>err &&
	test_grep "$h_pat" err &&
	test_expect_code 1 aiops-pack --list h-$h_kind.tar.gz >h.out 2>err &&
	test_grep "$h_pat" err
}

test_expect_success PYTHON3 'hostile: an absolute path' '
	hostile absolute "^aiops-pack: h-absolute.tar.gz: member \"$PWD/outside/evil\": an absolute path;"
'

test_expect_success PYTHON3 'hostile: a ../ path' '
	hostile dotdot "^aiops-pack: h-dotdot.tar.gz: member \"../outside/evil\": a path with \"..\";"
'

test_expect_success PYTHON3 'hostile: a symlink out of the directory, then a file through it' '
	hostile symlink "^aiops-pack: h-symlink.tar.gz: member \"link\": a symbolic link (to \"$PWD/outside\");" &&
	test_path_is_missing outside/evil
'

test_expect_success PYTHON3 'hostile: a device node' '
	hostile device "^aiops-pack: h-device.tar.gz: member \"dev\": a character device;"
'

test_expect_success PYTHON3 'hostile: a hard link' '
	hostile hardlink "^aiops-pack: h-hardlink.tar.gz: member \"hl\": a hard link (to \"/etc/passwd\");"
'

test_expect_success PYTHON3 'hostile: a directory, and a file in a subdirectory' '
	hostile directory "^aiops-pack: h-directory.tar.gz: member \"sub/\": a directory;" &&
	hostile subdir "^aiops-pack: h-subdir.tar.gz: member \"sub/file\": a path, not a plain name;"
'

test_expect_success PYTHON3 'hostile archives are refused whole: an existing target keeps its files' '
	mkdir target &&
	echo keep >target/keep &&
	test_expect_code 1 aiops-pack --extract target h-symlink.tar.gz 2>err &&
	ls -A target >listing &&
	echo keep >expect &&
	test_cmp expect listing
'

# --- OCI image layout -----------------------------------------------------------------

test_expect_success PYTHON3 '--oci: an OCI image layout holding the artifact under its version' '
	aiops-pack -V 1.2.0 -r eval.json -o o.tar.gz --oci lay m.model README.md templates.txt >out 2>err &&
	test_must_be_empty out &&
	test_grep "^aiops-pack: lay: tagged 1.2.0 sha256:[0-9a-f]\\{64\\}: m 1.2.0, 4 files\$" err &&
	cmp o.tar.gz a.tar.gz &&
	art oci lay 1.2.0 a.tar.gz o.tar.gz >digest &&
	test_grep "^sha256:[0-9a-f]\\{64\\}\$" digest &&
	ls lay/blobs/sha256 | wc -l >n &&
	echo 3 >expect &&
	test_cmp expect n &&
	ls -A lay >listing &&
	test_write_lines blobs index.json oci-layout >expect &&
	test_cmp expect listing
'

test_expect_success PYTHON3 '--oci without -o: only the layout, the layer named NAME-VERSION.tar.gz' '
	aiops-pack -q -V 1.2.0 -r eval.json --oci lay2 m.model README.md templates.txt >out &&
	test_must_be_empty out &&
	art oci lay2 1.2.0 a.tar.gz m-1.2.0.tar.gz >/dev/null &&
	test_path_is_missing m-1.2.0.tar.gz &&
	no_tmp m-1.2.0.tar.gz
'

test_expect_success PYTHON3 '--oci: the same inputs give the same layout bytes' '
	aiops-pack -q -V 1.2.0 -r eval.json -o o.tar.gz --oci lay3 m.model README.md templates.txt &&
	(cd lay && find . -type f | sort | xargs sha256sum) >d1 &&
	(cd lay3 && find . -type f | sort | xargs sha256sum) >d3 &&
	test_cmp d1 d3
'

test_expect_success PYTHON3 '--oci into a layout keeps its other tags; a tag again is replaced' '
	aiops-pack -q -V 1.3.0 -o o13.tar.gz --oci lay m.model &&
	aiops-pack -q -V 1.3.0 -o o13.tar.gz --oci lay --tag latest m.model &&
	art oci lay 1.2.0 a.tar.gz o.tar.gz >d12 &&
	art oci lay 1.3.0 o13.tar.gz o13.tar.gz >d13 &&
	art oci lay latest o13.tar.gz o13.tar.gz >dl &&
	test_cmp d13 dl &&
	! test_cmp d12 d13 &&
	SOURCE_DATE_EPOCH=$((EPOCH + 60)) aiops-pack -q -V 1.3.0 -o o13b.tar.gz --oci lay --tag latest m.model &&
	art oci lay latest o13b.tar.gz o13b.tar.gz >dl2 &&
	! test_cmp dl dl2 &&
	art oci lay 1.3.0 o13.tar.gz >d13again &&
	test_cmp d13 d13again &&
	art json lay/index.json manifests >m.json &&
	"$PYTHON" -c "import json, sys; t = [m[\"annotations\"][\"org.opencontainers.image.ref.name\"] for m in json.load(open(\"m.json\"))]; sys.exit(t != [\"1.2.0\", \"1.3.0\", \"latest\"])"
'

test_expect_success PYTHON3 '--oci: the index does not depend on the order tags were added' '
	aiops-pack -q -V 1.3.0 -o o13.tar.gz --oci ord1 m.model &&
	aiops-pack -q -V 1.2.0 -r eval.json -o o.tar.gz --oci ord1 m.model README.md templates.txt &&
	aiops-pack -q -V 1.2.0 -r eval.json -o o.tar.gz --oci ord2 m.model README.md templates.txt &&
	aiops-pack -q -V 1.3.0 -o o13.tar.gz --oci ord2 m.model &&
	cmp ord1/index.json ord2/index.json
'

test_expect_success '--oci refuses a directory that is neither empty nor a layout, and a bad tag' '
	mkdir notlay &&
	echo x >notlay/file &&
	fails_cleanly 1 y.tar.gz -V 1 --oci notlay m.model &&
	test_grep "^aiops-pack: notlay: not an OCI image layout (no oci-layout file) and not empty\$" err &&
	ls -A notlay >listing &&
	echo file >expect &&
	test_cmp expect listing &&
	fails_cleanly 2 y.tar.gz -V 1.0+build --oci lay9 m.model &&
	test_grep "the version \"1.0+build\" is not a valid OCI tag" err &&
	test_path_is_missing lay9 &&
	aiops-pack -q -V 1.0+build --oci lay9 --tag 1.0_build -o y.tar.gz m.model &&
	test_path_is_file lay9/index.json
'

test_expect_success SKOPEO 'skopeo reads the layout: the manifest, the config, and a copy with digests checked' '
	skopeo inspect --raw oci:lay:1.2.0 >raw &&
	d=$(art oci lay 1.2.0) &&
	cmp raw "lay/blobs/sha256/${d#sha256:}" &&
	skopeo inspect --config --raw oci:lay:1.2.0 >cfg &&
	art member a.tar.gz manifest.json >man.json &&
	cmp cfg man.json &&
	skopeo copy -q oci:lay:1.2.0 dir:copied >/dev/null 2>err &&
	l=$(art json raw layers.0.digest) &&
	cmp copied/${l#sha256:} a.tar.gz &&
	test "$(art json raw artifactType)" = application/vnd.aiops.model.v1 &&
	"$PYTHON" -c "import json; a = json.load(open(\"raw\"))[\"annotations\"]; assert a[\"org.opencontainers.image.created\"] == \"2023-11-14T22:13:20Z\", a; assert a[\"org.opencontainers.image.version\"] == \"1.2.0\", a"
'

test_expect_success SKOPEO 'skopeo refuses a layout whose blob was changed' '
	cp -R lay laybad &&
	l=$(skopeo inspect --raw oci:laybad:1.2.0 | "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)[\"layers\"][0][\"digest\"][7:])") &&
	chmod u+w laybad/blobs/sha256/$l &&
	art flipbyte laybad/blobs/sha256/$l laybad/blobs/sha256/$l 100 &&
	test_must_fail skopeo copy -q oci:laybad:1.2.0 dir:copied2 2>err &&
	test_grep "Digest did not match" err
'

test_done
