#!/usr/bin/python3
"""gitlab_ci_local.py - run a GitLab CI file's jobs on this machine, for tests.

usage: gitlab_ci_local.py --file CI.yml [--var NAME=VALUE ...] lint
       gitlab_ci_local.py --file CI.yml [--var NAME=VALUE ...] jobs
       gitlab_ci_local.py --file CI.yml [--var NAME=VALUE ...] --dir DIR
                          [--project DIR] run

The --var variables play the part of the project's and the schedule's CI/CD
variables and of the predefined ones (CI_PIPELINE_SOURCE, CI_COMMIT_BRANCH, ...):
they win over the file's variables:, as in GitLab.

jobs: the jobs the pipeline gets, after rules:, one line each in the order they
run: "STAGE JOB" (and " parallel N").

run: runs them as GitLab does, stage by stage: each job (each instance of a
parallel: job, with CI_NODE_INDEX counting from 1 and CI_NODE_TOTAL) in a fresh
directory DIR/jobs/NAME (a copy of --project), with the artifacts of the jobs
it needs: (all of them for a parallel: job; those of every earlier stage when
it has no needs:), its script: lines run by "sh -e" with the variables in the
environment, the instances of a parallel: job at once. Then the job's
artifacts:paths and artifacts:reports, with $VARIABLES expanded and globs, go to
DIR/artifacts/NAME (on success, or always with when: always; reports always).
A failed job stops the pipeline: later stages are skipped. Prints one line per
job instance, "NAME passed", "NAME failed N" or "NAME skipped", logs to
DIR/logs/NAME.log, start and end times to DIR/times, and every artifact path
that matched no file to DIR/warnings. Exits 1 if a job failed.

lint: checks that every stage is listed in stages:, every needs: names a job of
an earlier stage, every script: line is "$AIOPS_CI/NAME.sh" naming an
executable file of $AIOPS_CI, every $AIOPS_CI/*.sh is run by a job, and that
the AIOPS_* variables that those scripts (and the *.subr files beside them)
read are the ones declared in variables:, apart from those the file itself
uses. Prints the problems; exits 1 if any.

Supports what the aiops template uses: stages, variables, hidden jobs and
extends:, rules: with if: (==, !=, &&, ||, parentheses, $VAR alone) and when:,
needs: (names or job:/optional:), parallel: N, artifacts. Standard library and
PyYAML only.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

RESERVED = {"stages", "variables", "include", "default", "workflow", "image", "services",
            "cache", "before_script", "after_script", "spec"}
VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand(s, env):
    return VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), str(s))


def merge(base, over):
    """extends: hashes merge deeply, everything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def resolve(doc, name, seen=()):
    job = doc[name]
    if name in seen:
        sys.exit("extends: a loop through %s" % name)
    ext = job.get("extends")
    if ext is None:
        return dict(job)
    out = {}
    for e in ([ext] if isinstance(ext, str) else ext):
        out = merge(out, resolve(doc, e, seen + (name,)))
    job = dict(job)
    del job["extends"]
    return merge(out, job)


# --- rules: if: expressions ----------------------------------------------------------

TOKEN = re.compile(r'\s*(?:(\|\||&&|==|!=|\(|\))|"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|'
                   r'\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?|(null))')


def tokens(expr):
    pos, out = 0, []
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError("rules: cannot parse %r at %d" % (expr, pos))
        op, dq, sq, var, null = m.groups()
        if op:
            out.append(("op", op))
        elif dq is not None:
            out.append(("str", dq))
        elif sq is not None:
            out.append(("str", sq))
        elif var:
            out.append(("var", var))
        else:
            out.append(("null", None))
        pos = m.end()
    return out


def evaluate(expr, env):
    toks = tokens(expr)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else (None, None)

    def take():
        t = peek()
        pos[0] += 1
        return t

    def operand(t):
        kind, val = t
        if kind == "var":
            v = env.get(val)
            return None if v is None else v
        if kind == "str":
            return val
        if kind == "null":
            return None
        raise ValueError("rules: unexpected %r in %r" % (val, expr))

    def primary():
        t = take()
        if t == ("op", "("):
            v = disj()
            if take() != ("op", ")"):
                raise ValueError("rules: ) expected in %r" % expr)
            return v
        left = operand(t)
        if peek() in (("op", "=="), ("op", "!=")):
            op = take()[1]
            right = operand(take())
            return (left == right) if op == "==" else (left != right)
        return bool(left)

    def conj():
        v = primary()
        while peek() == ("op", "&&"):
            take()
            w = primary()
            v = v and w
        return v

    def disj():
        v = conj()
        while peek() == ("op", "||"):
            take()
            w = conj()
            v = v or w
        return v

    v = disj()
    if pos[0] != len(toks):
        raise ValueError("rules: trailing tokens in %r" % expr)
    return v


# --- the pipeline --------------------------------------------------------------------

class Pipeline:
    def __init__(self, path, pvars):
        self.path = path
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        self.stages = self.doc.get("stages") or ["build", "test", "deploy"]
        self.pvars = pvars
        self.gvars = {k: "" if v is None else str(v)
                      for k, v in (self.doc.get("variables") or {}).items()}
        self.defined = [k for k in self.doc if k not in RESERVED and not k.startswith(".")
                        and isinstance(self.doc[k], dict)]
        self.jobs = {name: resolve(self.doc, name) for name in self.defined}

    def env(self, job=None, extra=None):
        """The variables of a job: the file's, expanded, under the pipeline's."""
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("AIOPS_", "CI_", "GITLAB_", "JOB_COMPLETION_INDEX"))}
        base.update({"CI": "true", "GITLAB_CI": "true"})
        base.update(extra or {})
        base.update(self.pvars)
        yvars = dict(self.gvars)
        if job is not None:
            yvars.update({k: "" if v is None else str(v)
                          for k, v in (self.jobs[job].get("variables") or {}).items()})
        for k, v in yvars.items():
            if k not in self.pvars:
                base[k] = expand(v, base)
        return base

    def included(self, name):
        rules = self.jobs[name].get("rules")
        if rules is None:
            return True
        env = self.env(name)
        for r in rules:
            if "if" not in r or evaluate(r["if"], env):
                return r.get("when", "on_success") != "never"
        return False

    def selected(self):
        names = [n for n in self.defined if self.included(n)]
        return sorted(names, key=lambda n: self.stages.index(self.jobs[n]["stage"]))

    def needs(self, name, present):
        job = self.jobs[name]
        if "needs" not in job:
            st = self.stages.index(job["stage"])
            return [n for n in present if self.stages.index(self.jobs[n]["stage"]) < st]
        out = []
        for nd in job["needs"] or []:
            if isinstance(nd, str):
                nd = {"job": nd}
            if nd["job"] not in present:
                if nd.get("optional"):
                    continue
                raise SystemExit("%s: needs %s, which is not in the pipeline" % (name, nd["job"]))
            if nd.get("artifacts", True):
                out.append(nd["job"])
        return out

    def instances(self, name):
        """(directory name, predefined variables) of each instance of a job."""
        n = self.jobs[name].get("parallel")
        if n is None:
            return [(name, {"CI_JOB_NAME": name, "CI_NODE_TOTAL": "1"})]
        return [("%s-%d" % (name, k), {"CI_JOB_NAME": "%s %d/%d" % (name, k, n),
                                       "CI_NODE_INDEX": str(k), "CI_NODE_TOTAL": str(n)})
                for k in range(1, n + 1)]


def lint(p):
    errs = []
    env = p.env()
    ci = env.get("AIOPS_CI", "")
    used = set()
    for name in p.defined:
        job = p.jobs[name]
        st = job.get("stage")
        if st not in p.stages:
            errs.append("%s: stage %r is not in stages:" % (name, st))
            continue
        for nd in job.get("needs") or []:
            nd = nd if isinstance(nd, str) else nd.get("job")
            if nd not in p.jobs:
                errs.append("%s: needs %r, which is not a job" % (name, nd))
            elif p.stages.index(p.jobs[nd]["stage"]) >= p.stages.index(st):
                errs.append("%s: needs %s of a later or the same stage" % (name, nd))
        script = job.get("script") or []
        if not script:
            errs.append("%s: no script:" % name)
        for line in script:
            m = re.fullmatch(r"\$\{?AIOPS_CI\}?/([A-Za-z0-9_.-]+\.sh)", str(line).strip())
            if not m:
                errs.append("%s: script line %r is not $AIOPS_CI/NAME.sh" % (name, line))
                continue
            path = os.path.join(ci, m.group(1))
            if not os.path.isfile(path):
                errs.append("%s: %s does not exist" % (name, path))
            elif not os.access(path, os.X_OK):
                errs.append("%s: %s is not executable" % (name, path))
            else:
                used.add(path)
    scripts = set(glob.glob(os.path.join(ci, "*.sh")))
    for path in sorted(scripts - used):
        errs.append("%s: no job runs it" % path)
    read = set()
    for path in sorted(scripts | set(glob.glob(os.path.join(ci, "*.subr")))):
        with open(path) as f:
            read |= set(re.findall(r"\b(AIOPS_[A-Z0-9_]+)", f.read()))
    with open(p.path) as f:
        text = f.read()
    declared = set(k for k in p.gvars if k.startswith("AIOPS_"))
    body = text.split("\nvariables:", 1)[-1]
    body = "\n".join(l for l in body.splitlines()
                     if not re.match(r"\s+AIOPS_[A-Z0-9_]+:", l) and not l.lstrip().startswith("#"))
    inyaml = set(re.findall(r"\b(AIOPS_[A-Z0-9_]+)", body))
    for v in sorted(read - declared):
        errs.append("variables: %s is read by the job scripts but not declared" % v)
    for v in sorted(declared - read - inyaml):
        errs.append("variables: %s is declared but neither the scripts nor the file use it" % v)
    for e in errs:
        print(e)
    return 1 if errs else 0


def copy_tree(src, dst):
    for root, _, files in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in files:
            shutil.copy2(os.path.join(root, f), os.path.join(dst, rel, f))


def run(p, top, project):
    present = p.selected()
    for d in ("jobs", "artifacts", "logs"):
        os.makedirs(os.path.join(top, d), exist_ok=True)
    times = open(os.path.join(top, "times"), "a")
    warnings = open(os.path.join(top, "warnings"), "a")
    done = {}           # job name -> its instance names
    failed = None
    status = 0
    for stage in p.stages:
        batch = [n for n in present if p.jobs[n]["stage"] == stage]
        if not batch:
            continue
        if failed:
            for n in batch:
                for inst, _ in p.instances(n):
                    print("%s skipped" % inst)
            continue
        procs = []
        for n in batch:
            for inst, extra in p.instances(n):
                wd = os.path.join(top, "jobs", inst)
                shutil.rmtree(wd, ignore_errors=True)
                os.makedirs(wd)
                if project:
                    copy_tree(project, wd)
                for need in p.needs(n, present):
                    for ni in done.get(need, []):
                        src = os.path.join(top, "artifacts", ni)
                        if os.path.isdir(src):
                            copy_tree(src, wd)
                extra = dict(extra, CI_JOB_STAGE=stage, CI_PROJECT_DIR=wd)
                env = p.env(n, extra)
                script = "\n".join(str(l) for l in p.jobs[n].get("script") or []) + "\n"
                log = open(os.path.join(top, "logs", inst + ".log"), "w")
                start = time.time()
                pr = subprocess.Popen(["sh", "-e", "-c", script], cwd=wd, env=env,
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
                procs.append((n, inst, wd, env, pr, log, start))
        for n, inst, wd, env, pr, log, start in procs:
            rc = pr.wait()
            log.close()
            times.write("%s %.6f %.6f\n" % (inst, start, time.time()))
            art = p.jobs[n].get("artifacts") or {}
            when = art.get("when", "on_success")
            pats = []
            if (rc == 0 and when != "on_failure") or (rc != 0 and when != "on_success"):
                pats += art.get("paths") or []
            pats += list((art.get("reports") or {}).values())
            dst = os.path.join(top, "artifacts", inst)
            for pat in pats:
                pat = expand(pat, env)
                hits = glob.glob(pat, root_dir=wd)
                if not hits:
                    warnings.write("%s: %s: no matching files\n" % (inst, pat))
                for h in hits:
                    s = os.path.join(wd, h)
                    d = os.path.join(dst, h)
                    if os.path.isdir(s):
                        copy_tree(s, d)
                    else:
                        os.makedirs(os.path.dirname(d), exist_ok=True)
                        shutil.copy2(s, d)
            done.setdefault(n, []).append(inst)
            if rc == 0:
                print("%s passed" % inst)
            else:
                print("%s failed %d" % (inst, rc))
                if not p.jobs[n].get("allow_failure"):
                    failed = inst
                    status = 1
    times.close()
    warnings.close()
    return status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--var", action="append", default=[])
    ap.add_argument("--dir")
    ap.add_argument("--project")
    ap.add_argument("command", choices=["lint", "jobs", "run"])
    a = ap.parse_args()
    pvars = {}
    for v in a.var:
        k, _, val = v.partition("=")
        pvars[k] = val
    p = Pipeline(a.file, pvars)
    if a.command == "lint":
        return lint(p)
    if a.command == "jobs":
        for n in p.selected():
            par = p.jobs[n].get("parallel")
            print("%s %s%s" % (p.jobs[n]["stage"], n, " parallel %d" % par if par else ""))
        return 0
    if not a.dir:
        ap.error("run needs --dir")
    return run(p, os.path.abspath(a.dir), a.project and os.path.abspath(a.project))


if __name__ == "__main__":
    sys.exit(main())
