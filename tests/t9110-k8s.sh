#!/bin/sh
# t9110: the Kubernetes manifests and image of scripts/k8s. Every manifest is parsed
# (multi-document) and checked for its kind, apiVersion and the fields its kind needs; the
# containers run exactly the job scripts of scripts/ci (the ones scripts/gitlab-ci.yml runs,
# which t9100 tests), executable, in the documented order, on the shared volume, with
# variables the template documents; the Dockerfile builds on this Debian release with the
# BUILD_DEPS of scripts/install-deps.sh and installs the libraries the built tools load.
# Then the Jobs and the CronJob run here, pod by pod (tests/helpers/k8s_local.py), on a
# directory standing for the volume: ingest, the Indexed Job's three shards at once,
# merge, and the scheduled drift check that keeps, fires and is forced.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016,SC2034 source=tests/lib.sh

test_description='Kubernetes manifests and image'
. "$(dirname "$0")/lib.sh"

if ! "$PYTHON" -c 'import yaml' 2>/dev/null
then
	test_skip_all "no PyYAML for $PYTHON (python3-yaml)"
fi
K8S=$TOP/scripts/k8s
CI=$TOP/scripts/ci
PREFIX=/usr/local/share/aiops/ci
SQ="'"
test_lazy_prereq DPKG 'command -v dpkg-query && command -v readelf'

# k8s FILE [NAME] [OPTIONS...]: k8s_local.py on FILE of scripts/k8s, the volume being vol/
# and the image's script directory scripts/ci; its lines go to the standard output.
k8s () {
	k_file=$1
	shift
	"$PYTHON" "$TEST_DIRECTORY/helpers/k8s_local.py" --dir run --config "$K8S/config.yaml" \
		--map /var/lib/aiops="$TRASH_DIRECTORY/vol" --map "$PREFIX=$CI" \
		"$@" "$K8S/$k_file"
}

# every_container_passed FILE: each line of FILE says passed.
every_container_passed () {
	cat "$1" &&
	test_line_count -gt 0 "$1" &&
	! grep -v " passed\$" "$1"
}

# tags: "TAG DIGEST" of each tag of the layout on the volume, sorted.
tags () {
	"$PYTHON" -c '
import json
for m in json.load(open("vol/registry/index.json"))["manifests"]:
    print(m["annotations"]["org.opencontainers.image.ref.name"], m["digest"])' | sort
}

cat >check.py <<\EOF
# check.py TOP PREFIX: the manifests of TOP/scripts/k8s; prints the problems, then one line
# "WORKLOAD: script script ..." per Job or CronJob (containers in the order they run).
import glob, os, re, sys
import yaml

top, prefix = sys.argv[1], sys.argv[2]
ci = os.path.join(top, "scripts", "ci")
known = {("ConfigMap", "v1"), ("PersistentVolumeClaim", "v1"), ("Job", "batch/v1"),
         ("CronJob", "batch/v1")}
template = yaml.safe_load(open(os.path.join(top, "scripts", "gitlab-ci.yml")))
documented = set(template["variables"])
errs, docs = [], []
for path in sorted(glob.glob(os.path.join(top, "scripts", "k8s", "*.yaml"))):
    for d in yaml.safe_load_all(open(path)):
        if d is None:
            continue
        where = "%s: %s %s" % (os.path.basename(path), d.get("kind"), (d.get("metadata") or {}).get("name"))
        if (d.get("kind"), d.get("apiVersion")) not in known:
            errs.append("%s: unknown kind or apiVersion %s" % (where, d.get("apiVersion")))
        if not (d.get("metadata") or {}).get("name"):
            errs.append("%s: no metadata.name" % where)
        docs.append((where, d))
bykind = lambda k: [d for _, d in docs if d.get("kind") == k]
cms = {d["metadata"]["name"]: d.get("data") or {} for d in bykind("ConfigMap")}
pvcs = {d["metadata"]["name"]: d for d in bykind("PersistentVolumeClaim")}
for name, data in cms.items():
    for k, v in data.items():
        if not isinstance(v, str):
            errs.append("ConfigMap %s: %s is %r, not a string" % (name, k, v))
        if k.startswith("AIOPS_") and k not in documented:
            errs.append("ConfigMap %s: %s is not a variable of scripts/gitlab-ci.yml" % (name, k))
for name, p in pvcs.items():
    if "ReadWriteMany" not in p["spec"].get("accessModes", []):
        errs.append("PVC %s: the shards write at once: ReadWriteMany" % name)
    if not p["spec"].get("resources", {}).get("requests", {}).get("storage"):
        errs.append("PVC %s: no storage request" % name)
used = set()
lines = []
for where, d in docs:
    if d["kind"] not in ("Job", "CronJob"):
        continue
    if d["kind"] == "CronJob":
        if len(str(d["spec"].get("schedule", "")).split()) != 5:
            errs.append("%s: schedule is not five cron fields" % where)
        if d["spec"].get("concurrencyPolicy") != "Forbid":
            errs.append("%s: two retrainings at once would share a directory" % where)
        jspec = d["spec"]["jobTemplate"]["spec"]
    else:
        jspec = d["spec"]
    spec = jspec["template"]["spec"]
    if spec.get("restartPolicy") not in ("Never", "OnFailure"):
        errs.append("%s: restartPolicy must be Never or OnFailure" % where)
    if jspec.get("completionMode", "NonIndexed") == "Indexed":
        shards = [int(c["AIOPS_SHARDS"]) for c in cms.values() if "AIOPS_SHARDS" in c]
        if not (jspec.get("completions") == jspec.get("parallelism") and shards == [jspec["completions"]]):
            errs.append("%s: completions %s, parallelism %s, AIOPS_SHARDS %s differ"
                        % (where, jspec.get("completions"), jspec.get("parallelism"), shards))
    vols = {v["name"]: v for v in spec.get("volumes") or []}
    cs = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    if not spec.get("containers"):
        errs.append("%s: no containers" % where)
    names = [c.get("name") for c in cs]
    if len(set(names)) != len(names):
        errs.append("%s: container names repeat" % where)
    seq = []
    for c in cs:
        cw = "%s: container %s" % (where, c.get("name"))
        if not c.get("image"):
            errs.append("%s: no image" % cw)
        cmd = c.get("command")
        m = re.fullmatch(re.escape(prefix) + r"/([a-z-]+)\.sh", cmd[0]) if isinstance(cmd, list) and len(cmd) == 1 else None
        if not m or c.get("args"):
            errs.append("%s: command %r is not one script of %s" % (cw, cmd, prefix))
            continue
        script = os.path.join(ci, m.group(1) + ".sh")
        if not (os.path.isfile(script) and os.access(script, os.X_OK)):
            errs.append("%s: %s is not an executable file" % (cw, script))
        seq.append(m.group(1))
        used.add(m.group(1) + ".sh")
        refs = [e["configMapRef"]["name"] for e in c.get("envFrom") or [] if "configMapRef" in e]
        if not refs or any(r not in cms for r in refs):
            errs.append("%s: envFrom names no ConfigMap of these files" % cw)
        env = dict((k, v) for r in refs if r in cms for k, v in cms[r].items())
        for e in c.get("env") or []:
            if e["name"].startswith("AIOPS_") and e["name"] not in documented:
                errs.append("%s: %s is not a variable of scripts/gitlab-ci.yml" % (cw, e["name"]))
            if "value" in e:
                env[e["name"]] = e["value"]
        work = env.get("AIOPS_WORK", "")
        mounts = [vm["mountPath"] for vm in c.get("volumeMounts") or []
                  if "persistentVolumeClaim" in vols.get(vm["name"], {})
                  and vols[vm["name"]]["persistentVolumeClaim"]["claimName"] in pvcs]
        if not any(work.startswith(mp.rstrip("/") + "/") for mp in mounts):
            errs.append("%s: AIOPS_WORK %r is not on the shared volume" % (cw, work))
        if not c.get("securityContext", {}).get("allowPrivilegeEscalation") is False:
            errs.append("%s: allowPrivilegeEscalation is not false" % cw)
    if not spec.get("securityContext", {}).get("runAsNonRoot"):
        errs.append("%s: runAsNonRoot is not set" % where)
    lines.append("%s: %s" % (d["metadata"]["name"], " ".join(seq)))
scripts = set(os.path.basename(p) for p in glob.glob(os.path.join(ci, "*.sh")))
if used != scripts:
    errs.append("the manifests run %s, scripts/ci has %s" % (sorted(used), sorted(scripts)))
ran = set(re.findall(r"\$AIOPS_CI/([a-z-]+\.sh)", open(os.path.join(top, "scripts", "gitlab-ci.yml")).read()))
if used != ran:
    errs.append("the manifests run %s, scripts/gitlab-ci.yml %s" % (sorted(used), sorted(ran)))
for e in errs:
    print("error: " + e)
for l in lines:
    print(l)
sys.exit(1 if errs else 0)
EOF

# --- the manifests ---------------------------------------------------------------------

test_expect_success 'every manifest parses and runs the job scripts, in the documented order' '
	"$PYTHON" check.py "$TOP" "$PREFIX" >out &&
	cat >expect <<-\EOF &&
	aiops-retrain: drift ingest train-shard select eval pack push promote
	aiops-train: train-shard
	aiops-ingest: ingest
	aiops-merge: select eval pack push promote
	EOF
	test_cmp expect out
'

test_expect_success 'the check can fail: a wrong script, kind, completions or volume' '
	mkdir -p bad/scripts/k8s &&
	ln -s "$CI" bad/scripts/ci &&
	cp "$TOP/scripts/gitlab-ci.yml" bad/scripts/ &&
	cp "$K8S"/*.yaml bad/scripts/k8s/ &&
	sed -i -e "s|/ci/select.sh|/ci/selects.sh|" bad/scripts/k8s/merge-job.yaml &&
	sed -i -e "s/^kind: Job/kind: Jobs/" bad/scripts/k8s/ingest-job.yaml &&
	sed -i -e "s/^  parallelism: 3/  parallelism: 2/" -e "s/claimName: aiops-work/claimName: other/" \
		bad/scripts/k8s/indexed-job.yaml &&
	sed -i -e "s/^  AIOPS_SHARDS: \"3\"/  AIOPS_SHARDS: 3/" bad/scripts/k8s/config.yaml &&
	test_expect_code 1 "$PYTHON" check.py "$TRASH_DIRECTORY/bad" "$PREFIX" >out &&
	test_grep "ingest-job.yaml: Jobs aiops-ingest: unknown kind" out &&
	test_grep "container select: .*selects.sh is not an executable file" out &&
	test_grep "aiops-train: completions 3, parallelism 2, AIOPS_SHARDS \\[3\\] differ" out &&
	test_grep "container train-shard: AIOPS_WORK ${SQ}/var/lib/aiops/work${SQ} is not on the shared volume" out &&
	test_grep "AIOPS_SHARDS is 3, not a string" out
'

test_expect_success 'the image runs the scripts from the directory the manifests and the template name' '
	test_grep -x -F " && install -m 755 scripts/ci/*.sh /out$PREFIX/ \\" "$K8S/Dockerfile" &&
	test_grep -x -F " && install -m 644 scripts/ci/aiops-ci.subr /out$PREFIX/" "$K8S/Dockerfile" &&
	test_grep -x -F "  AIOPS_CI: \"$PREFIX\"" "$TOP/scripts/gitlab-ci.yml" &&
	test_grep "^RUN make BUILD=build/image -j" "$K8S/Dockerfile" &&
	test_grep "^ && make BUILD=build/image install PREFIX=/usr/local DESTDIR=/out" "$K8S/Dockerfile" &&
	test_grep -x -F "COPY --from=build /out/usr/local/ /usr/local/" "$K8S/Dockerfile"
'

cat >apt.py <<\EOF
# apt.py DOCKERFILE: one line per stage: "FROM-IMAGE | the packages of its apt-get install".
import re, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())
stage = None
for line in text.splitlines():
    m = re.match(r"FROM\s+(\S+)", line)
    if m:
        stage = m.group(1)
        continue
    m = re.search(r"apt-get install ((?:-\S+\s+)*)([^&]*)", line)
    if m:
        print("%s | %s" % (stage, " ".join(sorted(m.group(2).split()))))
EOF

test_expect_success 'the Dockerfile builds on this Debian release, both stages' '
	c=$(. /etc/os-release && echo "$VERSION_CODENAME") &&
	test -n "$c" &&
	printf "debian:%s-slim\n" "$c" "$c" >expect &&
	awk "\$1 == \"FROM\" { print \$2 }" "$K8S/Dockerfile" >actual &&
	test_cmp expect actual
'

test_expect_success 'the build stage installs the BUILD_DEPS of scripts/install-deps.sh' '
	"$PYTHON" apt.py "$K8S/Dockerfile" >stages &&
	test_line_count = 2 stages &&
	sed -n 1p stages | sed "s/^.* | //" | tr " " "\\n" >actual &&
	"$PYTHON" -c "
import re, sys
m = re.search(r\"^BUILD_DEPS=${SQ}([^${SQ}]*)${SQ}\", open(sys.argv[1]).read(), re.M)
print(\"\\n\".join(sorted(m.group(1).split())))" "$TOP/scripts/install-deps.sh" >expect &&
	test_line_count -gt 5 expect &&
	test_cmp expect actual
'

# (a sanitized build also loads the sanitizers' runtimes, which the image does not)
test_expect_success DPKG 'the image installs the packages of the libraries the tools load, and CA certificates' '
	for b in "$BIN"/aiops-*
	do
		readelf -d "$b" | sed -n "s/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p" || return 1
	done | grep -v "^lib[a-z]*san\\.so" | sort -u >sonames &&
	test_line_count -gt 5 sonames &&
	while read -r so
	do
		p=$(ldd "$BIN"/aiops-* | awk -v so="$so" "\$1 == so { print \$3; exit }") &&
		test -n "$p" &&
		r=$(readlink -f "$p") &&
		for q in "$r" "$p" "${r#/usr}" "/usr$p"
		do
			dpkg-query -S "$q" 2>/dev/null && break
		done | sed -n "1s/:.*//p" >pkg &&
		test -s pkg &&
		cat pkg || { echo "no package has $so" >&2; return 1; }
	done <sonames >pkgs &&
	{ echo ca-certificates && cat pkgs; } | sort -u >expect &&
	sed -n 2p stages | sed "s/^.* | //" | tr " " "\\n" >actual &&
	test_cmp expect actual
'

# --- the Jobs, run here ---------------------------------------------------------------

test_expect_success 'setup: the volume holds the demo data' '
	mkdir -p vol/data run &&
	cp "$TESTDATA/metrics-demo.csv" vol/data/metrics.csv &&
	cp "$TESTDATA/metrics-demo.labels" vol/data/incidents.labels
'

test_expect_success 'ingest Job: the tensors on the volume' '
	k8s ingest-job.yaml >out &&
	echo "aiops-ingest ingest passed" >expect &&
	test_cmp expect out &&
	test_path_is_file vol/work/data.train.tensor &&
	test_path_is_file vol/work/data.valid.tensor &&
	test_path_is_file vol/work/data.test.tensor &&
	test_path_is_file vol/work/scaler.tensor
'

test_expect_success 'Indexed Job: three pods at once on the volume, JOB_COMPLETION_INDEX 0..2 is shard 1..3' '
	k8s indexed-job.yaml >out &&
	printf "aiops-train-%d train-shard passed\n" 0 1 2 >expect &&
	test_cmp expect out &&
	for i in 0 1 2
	do
		test_grep "shard $((i + 1)) of 3" run/logs/aiops-train-$i.train-shard.log || return 1
	done &&
	"$PYTHON" -c "
import json
seen = []
for k in (1, 2, 3):
    for line in open(\"vol/work/shards/shard-%d-of-3.jsonl\" % k):
        i = json.loads(line)[\"index\"]
        assert i % 3 == k - 1, (k, i)
        seen.append(i)
assert sorted(seen) == list(range(10)), seen
"
'

test_expect_success 'a pod started again resumes from its journal: no trial runs twice' '
	wc -l <vol/work/shards/journal-2-of-3.jsonl >before &&
	cp vol/work/shards/shard-2-of-3.jsonl shard2.before &&
	k8s indexed-job.yaml >out &&
	wc -l <vol/work/shards/journal-2-of-3.jsonl >after &&
	test_cmp before after &&
	"$PYTHON" -c "
import json, sys
k = lambda p: sorted((r[\"index\"], r[\"key\"], r[\"metric\"]) for r in map(json.loads, open(p)))
assert k(sys.argv[1]) == k(sys.argv[2])" shard2.before vol/work/shards/shard-2-of-3.jsonl
'

test_expect_success 'merge Job: select, the gate, pack, push and promote in one pod' '
	k8s merge-job.yaml --field "metadata.labels[${SQ}controller-uid${SQ}]=6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab" >out &&
	every_container_passed out &&
	printf "aiops-merge %s passed\n" select eval pack push promote >expect &&
	test_cmp expect out &&
	test_grep "^gate: passed" run/logs/aiops-merge.eval.log &&
	tags >actual &&
	d=$(awk "{ print \$2; exit }" actual) &&
	printf "%s %s\n" 6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab "$d" production "$d" >expect &&
	test_cmp expect actual
'

test_expect_success 'the merged model is the unsharded search'"'"'s winner' '
	aiops-train -q --metric error --space "pca:k=1..5 mahalanobis:reg=0.001,0.01,0.5 kmeans:k=2,4" \
		--valid vol/work/data.valid.tensor -o single.model vol/work/data.train.tensor &&
	aiops-eval -o single.csv single.model vol/work/data.test.tensor &&
	aiops-eval -o merged.csv vol/work/model.model vol/work/data.test.tensor &&
	test_cmp single.csv merged.csv &&
	aiops-train --info vol/work/model.model >info &&
	test_grep "^model: *mahalanobis (detector) reg=0.5" info
'

test_expect_success 'merge Job, a failed gate: eval exits 3 and nothing is pushed' '
	tags >tags.before &&
	test_expect_code 1 k8s merge-job.yaml --field "metadata.labels[${SQ}controller-uid${SQ}]=x1" \
		--set AIOPS_REQUIRE="f1>=0.99" >out &&
	cat >expect <<-\EOF &&
	aiops-merge select passed
	aiops-merge eval failed 3
	aiops-merge pack skipped
	aiops-merge push skipped
	aiops-merge promote skipped
	EOF
	test_cmp expect out &&
	tags >actual &&
	test_cmp tags.before actual
'

test_expect_success 'CronJob, the same data: the drift check keeps the model, the rest stands down' '
	k8s cronjob.yaml --field "metadata.labels[${SQ}job-name${SQ}]=aiops-retrain-28000001" >out &&
	every_container_passed out &&
	test_line_count = 8 out &&
	echo "keep no drift from oci-layout:$TRASH_DIRECTORY/vol/registry:production" >expect &&
	test_cmp expect vol/scheduled/drift.decision &&
	for c in ingest train-shard select eval pack push promote
	do
		test_grep "nothing to do: no drift" run/logs/aiops-retrain.$c.log || return 1
	done &&
	test_path_is_missing vol/scheduled/data.train.tensor &&
	tags >actual &&
	test_cmp tags.before actual
'

test_expect_success 'CronJob, drifted data on the volume: retrained unsharded, pushed, promoted' '
	awk -F, "NR == 1 { print; next }
		{ printf \"%s\", \$1; for (i = 2; i <= NF; i++) printf \",%.6f\", \$i * 1.5 + 0.3; print \"\" }" \
		"$TESTDATA/metrics-demo.csv" >vol/data/metrics.csv &&
	k8s cronjob.yaml --field "metadata.labels[${SQ}job-name${SQ}]=aiops-retrain-28000002" >out &&
	every_container_passed out &&
	test_grep "^retrain the data drifted" vol/scheduled/drift.decision &&
	test_grep "shard 1 of 1" run/logs/aiops-retrain.train-shard.log &&
	test_path_is_file vol/scheduled/shards/shard-1-of-1.jsonl &&
	tags >actual &&
	d=$(awk "\$1 == \"aiops-retrain-28000002\" { print \$2 }" actual) &&
	test -n "$d" &&
	test_grep "^production $d\$" actual &&
	test_grep "^6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab " actual &&
	test_path_is_file vol/work/model.model
'

test_expect_success 'CronJob, AIOPS_FORCE_RETRAIN=1: retrained although nothing drifted' '
	k8s cronjob.yaml --field "metadata.labels[${SQ}job-name${SQ}]=aiops-retrain-28000003" \
		--set AIOPS_FORCE_RETRAIN=1 >out &&
	every_container_passed out &&
	echo "retrain forced by AIOPS_FORCE_RETRAIN" >expect &&
	test_cmp expect vol/scheduled/drift.decision &&
	test_grep "^no drift\\|drifted_columns  *0" run/logs/aiops-retrain.drift.log &&
	tags >actual &&
	d=$(awk "\$1 == \"aiops-retrain-28000003\" { print \$2 }" actual) &&
	test -n "$d" &&
	test_grep "^production $d\$" actual
'

test_done
