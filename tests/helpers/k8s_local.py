#!/usr/bin/python3
"""k8s_local.py - run the pods of a Kubernetes Job or CronJob manifest here, for tests.

usage: k8s_local.py --dir DIR [--config FILE ...] [--map FROM=TO ...]
                    [--field PATH=VALUE ...] [--set NAME=VALUE ...] FILE [NAME]

Runs the Job (or the CronJob's job template) NAME of FILE, or its only one, as
the Job controller and the kubelet would, once and without retries: a pod's
initContainers one after another, each only when the one before exited 0, then
its containers; an Indexed Job's completions pods, parallelism of them at once,
each with JOB_COMPLETION_INDEX from 0. A container runs its command and args
with the environment of its envFrom (ConfigMaps of --config files; a secretRef
that is optional is left out) and env (value, a configMapKeyRef, or a fieldRef
given with --field, such as --field "metadata.labels['job-name']=x"), then the
--set variables; the rest of the environment is this one's without its
AIOPS_*, CI_* and JOB_COMPLETION_INDEX. --map replaces the path prefix FROM by
TO in the command and in every variable's value (the image's directories and
the volume's mount paths become directories here); the working directory is
the image's, /var/lib/aiops, mapped, or DIR.

Prints one line per container, "POD CONTAINER passed", "POD CONTAINER failed N"
or "POD CONTAINER skipped" (POD is NAME, or NAME-INDEX for an Indexed Job),
logs to DIR/logs/POD.CONTAINER.log; exits 1 when a pod failed. Standard library
and PyYAML only.
"""
import argparse
import os
import subprocess
import sys
import threading

import yaml


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def mapped(value, maps):
    for src, dst in maps:
        if value == src or value.startswith(src + "/"):
            return dst + value[len(src):]
    return value


def environment(c, configmaps, fields, sets, maps, index):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIOPS_", "CI_", "JOB_COMPLETION_INDEX"))}
    for ef in c.get("envFrom") or []:
        if "configMapRef" in ef:
            name = ef["configMapRef"]["name"]
            if name not in configmaps:
                if ef["configMapRef"].get("optional"):
                    continue
                raise SystemExit("no ConfigMap %s" % name)
            env.update({ef.get("prefix", "") + k: str(v) for k, v in configmaps[name].items()})
        elif "secretRef" in ef:
            if not ef["secretRef"].get("optional"):
                raise SystemExit("the Secret %s is not optional" % ef["secretRef"]["name"])
    if index is not None:
        env["JOB_COMPLETION_INDEX"] = str(index)
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
            continue
        vf = e.get("valueFrom") or {}
        if "fieldRef" in vf:
            path = vf["fieldRef"]["fieldPath"]
            if path not in fields:
                raise SystemExit("%s: give --field %s=VALUE" % (e["name"], path))
            env[e["name"]] = fields[path]
        elif "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            env[e["name"]] = str(configmaps[ref["name"]][ref["key"]])
        else:
            raise SystemExit("%s: unsupported valueFrom" % e["name"])
    env.update(sets)
    return {k: mapped(v, maps) for k, v in env.items()}


def run_pod(pod, spec, a, configmaps, fields, sets, maps, index, out, lock):
    cwd = mapped("/var/lib/aiops", maps)
    if cwd == "/var/lib/aiops":
        cwd = a.dir
    failed = False
    for c in (spec.get("initContainers") or []) + spec["containers"]:
        if failed:
            with lock:
                out.append("%s %s skipped" % (pod, c["name"]))
            continue
        argv = [mapped(x, maps) for x in (c.get("command") or []) + (c.get("args") or [])]
        env = environment(c, configmaps, fields, sets, maps, index)
        with open(os.path.join(a.dir, "logs", "%s.%s.log" % (pod, c["name"])), "w") as log:
            rc = subprocess.call(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT)
        with lock:
            out.append("%s %s %s" % (pod, c["name"], "passed" if rc == 0 else "failed %d" % rc))
        failed = rc != 0
    return not failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--map", action="append", default=[])
    ap.add_argument("--field", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("file")
    ap.add_argument("name", nargs="?")
    a = ap.parse_args()
    pair = lambda s: tuple(s.split("=", 1))
    maps = sorted((pair(m) for m in a.map), key=lambda m: -len(m[0]))
    fields = dict(pair(f) for f in a.field)
    sets = dict(pair(s) for s in a.set)
    configmaps = {}
    for path in a.config + [a.file]:
        for d in load(path):
            if d.get("kind") == "ConfigMap":
                configmaps[d["metadata"]["name"]] = d.get("data") or {}
    jobs = [d for d in load(a.file) if d.get("kind") in ("Job", "CronJob")
            and (a.name is None or d["metadata"]["name"] == a.name)]
    if len(jobs) != 1:
        raise SystemExit("%s: %d Jobs or CronJobs%s" % (a.file, len(jobs),
                         " named %s" % a.name if a.name else ""))
    job = jobs[0]
    name = job["metadata"]["name"]
    jspec = job["spec"]["jobTemplate"]["spec"] if job["kind"] == "CronJob" else job["spec"]
    spec = jspec["template"]["spec"]
    os.makedirs(os.path.join(a.dir, "logs"), exist_ok=True)
    out, lock = [], threading.Lock()
    if jspec.get("completionMode") == "Indexed":
        n = jspec["completions"]
        par = jspec.get("parallelism", 1)
        results = {}

        def worker(i):
            results[i] = run_pod("%s-%d" % (name, i), spec, a, configmaps, fields, sets,
                                 maps, i, out, lock)
        pending = list(range(n))
        while pending:
            batch, pending = pending[:par], pending[par:]
            ts = [threading.Thread(target=worker, args=(i,)) for i in batch]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        ok = all(results.values())
    else:
        ok = run_pod(name, spec, a, configmaps, fields, sets, maps, None, out, lock)
    for line in sorted(out, key=lambda l: l.split()[0]) if jspec.get("completionMode") == "Indexed" else out:
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
