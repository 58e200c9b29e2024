#!/usr/bin/env python3
"""Runs a grid of `memtile train` experiments on this machine or on a Slurm cluster.

    sweep.py plan   SWEEP.json [--set VAR=VALUE]... [--json]
    sweep.py run    SWEEP.json --local [-j N] [--out DIR] [--force] [--no-parallel]
    sweep.py resume SWEEP.json --local [-j N] [--out DIR]       (or --slurm and slurm's options)
    sweep.py slurm  SWEEP.json [--out DIR] [--dry-run] [--wait] [--partition P] [--time T]
                               [--max-running K] [--sbatch-arg ARG]...
    sweep.py gather DIR [--csv FILE] [--json FILE]
    sweep.py point  DIR --id ID | --index N [--resume]     (one point; what run and slurm call)
    sweep.py adopt  SWEEP.json --id ID [--log FILE] [--out DIR]  (a log made by hand: complete)

A sweep file (docs/sweeps.md) holds `grids`, each a product of axes (memtile train options,
one value per point, or bundles of options with a `tag`) and a `name` template, plus `fixed`
options for every point and `vars` that `--set` overrides. `plan` lists the points with their
ids; `run --local` runs them with GNU parallel (a Python pool without it); `slurm` writes a
job array script (one task and one log per point) and submits it; `gather` makes one table
(CSV and JSON) of the per-point logs; `resume` skips finished points and continues
interrupted ones from their checkpoints. `adopt` records a log that a point's command made
outside the sweep (started by hand) as that point's complete log, so that `run` and `resume`
keep it. Every command writes DIR/plan.json first: the points of that run, which `point`,
`gather` and the Slurm tasks read.

The memtile binary is --memtile, else $MEMTILE, else build/bin/memtile of this checkout.
Python 3 standard library only.
"""
import argparse
import concurrent.futures
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_FORMAT = 1

# `memtile train` options a sweep may set: value options, and flags (true/false).
VALUE_OPTS = {"device", "preset", "dataset", "net", "algo", "tasks", "levels", "epochs", "batch",
              "lr", "seed", "train-limit", "test-limit", "accumulate", "compensate", "w-max",
              "meta-m", "momentum", "important", "importance", "favourable", "slices", "max-tiles",
              "val", "draws", "optimizer", "adam-beta1", "adam-beta2", "adam-eps",
              "batchnorm-state"}
FLAG_OPTS = {"open-loop", "changed-only", "ssm-compensate", "ssm-calibrate", "batchnorm"}
# Options the sweep itself sets for every point.
OWN_OPTS = {"log", "checkpoint", "resume"}
DEFAULT_EPOCHS = 3  # memtile train's default (host/src/mt_train.c)
DEFAULT_ALGO = "siamese"  # likewise
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]*$")
VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Per-epoch counters of the log that the table sums over a point's epochs.
SUMMED = ("set_pulses", "reset_pulses", "verify_reads", "cells_programmed", "energy_pj",
          "latency_ns", "wall_s", "sim_cycles")
COLUMNS = ("id", "status", "epochs", "final_accuracy", "best_accuracy", "best_epoch", "pulses") \
    + SUMMED


class SweepError(Exception):
    """A user error: the message names the file, the field and the value."""


# ---------------------------------------------------------------- the sweep file


def _where(path, field):
    return "%s: %s" % (path, field) if field else path


def _substitute(value, env, path, field):
    """Replaces ${VAR} in strings; a string that is only "${VAR}" takes the var's value and
    type (a number, a list, null)."""
    if isinstance(value, str):
        m = VAR_RE.fullmatch(value)
        if m:
            if m.group(1) not in env:
                raise SweepError("%s: unknown variable ${%s} (vars: %s)"
                                 % (_where(path, field), m.group(1), ", ".join(sorted(env)) or "none"))
            return env[m.group(1)]

        def one(mm):
            if mm.group(1) not in env:
                raise SweepError("%s: unknown variable ${%s} (vars: %s)"
                                 % (_where(path, field), mm.group(1), ", ".join(sorted(env)) or "none"))
            v = env[mm.group(1)]
            if isinstance(v, (list, dict)):
                raise SweepError("%s: variable ${%s} is a %s and cannot be part of the string %r"
                                 % (_where(path, field), mm.group(1), type(v).__name__, value))
            return "" if v is None else _text(v)
        return VAR_RE.sub(one, value)
    if isinstance(value, list):
        return [_substitute(v, env, path, "%s[%d]" % (field, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _substitute(v, env, path, "%s.%s" % (field, k)) for k, v in value.items()}
    return value


def _text(v):
    """An option value as memtile reads it."""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _check_option(path, field, name, value):
    """Checks one option name/value; returns it normalised (None: option left out)."""
    if not isinstance(name, str):
        raise SweepError("%s: option names are strings" % _where(path, field))
    if name.startswith("-"):
        raise SweepError("%s: write option names without dashes ('%s', not '%s')"
                         % (_where(path, field), name.lstrip("-"), name))
    if name in OWN_OPTS:
        raise SweepError("%s: '%s' is set by the sweep for every point (logs and checkpoints "
                         "go to the output directory)" % (_where(path, field), name))
    if name in FLAG_OPTS:
        if value is None or isinstance(value, bool):
            return bool(value)
        raise SweepError("%s: '%s' is a flag: true or false, got %s"
                         % (_where(path, field), name, json.dumps(value)))
    if name not in VALUE_OPTS:
        raise SweepError("%s: '%s' is not a memtile train option (one of: %s)"
                         % (_where(path, field), name, ", ".join(sorted(VALUE_OPTS | FLAG_OPTS))))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SweepError("%s: '%s' needs a string or a number, got %s"
                         % (_where(path, field), name, json.dumps(value)))
    if isinstance(value, str) and (value == "" or any(c.isspace() for c in value)):
        raise SweepError("%s: '%s' value %s is empty or has white space"
                         % (_where(path, field), name, json.dumps(value)))
    if name in ("epochs", "seed", "levels", "batch", "train-limit", "test-limit", "slices",
                "max-tiles", "val", "draws") and \
            not (isinstance(value, int) and value >= 0 or isinstance(value, str) and value.isdigit()):
        raise SweepError("%s: '%s' must be a non-negative integer, got %s"
                         % (_where(path, field), name, json.dumps(value)))
    return value


def _axis(path, field, name, values):
    """One grid axis: a list of (label, {option: value}) choices."""
    if not isinstance(values, list) or not values:
        raise SweepError("%s: an axis is a non-empty list of values, got %s"
                         % (_where(path, field), json.dumps(values)))
    out = []
    for i, v in enumerate(values):
        f = "%s[%d]" % (field, i)
        if isinstance(v, dict):
            # A bundle of options varied together, named by its tag.
            opts = {}
            tag = v.get("tag")
            for k, x in v.items():
                if k == "tag":
                    continue
                opts[k] = _check_option(path, "%s.%s" % (f, k), k, x)
            if tag is None:
                tag = "_".join(_text(x) for x in opts.values() if x not in (None, False))
            if not isinstance(tag, (str, int, float)) or isinstance(tag, bool) or _text(tag) == "":
                raise SweepError("%s.tag: a bundle's tag is a non-empty string, got %s"
                                 % (_where(path, f), json.dumps(tag)))
            out.append((_text(tag), opts))
        else:
            val = _check_option(path, f, name, v)
            out.append(("" if val is None else _text(val), {name: val}))
    return out


def load_sweep(path, sets=()):
    """Reads and checks a sweep file; returns (name, points) with points in plan order, each
    {"id", "args" (memtile train arguments), "lines" (epoch lines of a complete log),
    "values" (axis -> label)}."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SweepError("%s: cannot read the sweep file (%s)" % (path, e.strerror))
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise SweepError("%s: not JSON (%s)" % (path, e))
    if not isinstance(doc, dict):
        raise SweepError("%s: the sweep file is a JSON object" % path)
    known = {"name", "vars", "fixed", "grids", "checkpoint", "comment"}
    for k in doc:
        if k not in known:
            raise SweepError("%s: unknown field '%s' (fields: %s)" % (path, k, ", ".join(sorted(known))))

    env = doc.get("vars", {})
    if not isinstance(env, dict):
        raise SweepError("%s: vars: an object of names and values, got %s" % (path, json.dumps(env)))
    env = dict(env)
    for s in sets:
        name, eq, value = s.partition("=")
        if not eq or name not in env:
            raise SweepError("--set %s: expected VAR=VALUE with VAR one of the sweep's vars (%s)"
                             % (s, ", ".join(sorted(env)) or "none"))
        try:
            env[name] = json.loads(value)
        except ValueError:
            env[name] = value  # a bare word: a string

    name = doc.get("name", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str) or not ID_RE.match(name):
        raise SweepError("%s: name: letters, digits and ._+=- only, got %s" % (path, json.dumps(name)))
    ckpt = doc.get("checkpoint", True)
    if not isinstance(ckpt, bool):
        raise SweepError("%s: checkpoint: true or false, got %s" % (path, json.dumps(ckpt)))

    fixed = _substitute(doc.get("fixed", {}), env, path, "fixed")
    if not isinstance(fixed, dict):
        raise SweepError("%s: fixed: an object of options, got %s" % (path, json.dumps(fixed)))
    fixed = {k: _check_option(path, "fixed.%s" % k, k, v) for k, v in fixed.items()}

    grids = doc.get("grids")
    if not isinstance(grids, list) or not grids:
        raise SweepError("%s: grids: a non-empty list of grids, got %s" % (path, json.dumps(grids)))
    points, seen = [], {}
    for gi, g in enumerate(grids):
        gf = "grids[%d]" % gi
        if not isinstance(g, dict):
            raise SweepError("%s: a grid is an object, got %s" % (_where(path, gf), json.dumps(g)))
        for k in g:
            if k not in ("name", "grid", "fixed", "comment"):
                raise SweepError("%s: unknown field '%s' (fields: name, grid, fixed, comment)"
                                 % (_where(path, gf), k))
        axes_doc = _substitute(g.get("grid", {}), env, path, gf + ".grid")
        if not isinstance(axes_doc, dict):
            raise SweepError("%s.grid: an object of axes, got %s" % (_where(path, gf), json.dumps(axes_doc)))
        gfixed = _substitute(g.get("fixed", {}), env, path, gf + ".fixed")
        if not isinstance(gfixed, dict):
            raise SweepError("%s.fixed: an object of options, got %s" % (_where(path, gf), json.dumps(gfixed)))
        gfixed = {k: _check_option(path, "%s.fixed.%s" % (gf, k), k, v) for k, v in gfixed.items()}
        axes = [(k, _axis(path, "%s.grid.%s" % (gf, k), k, v)) for k, v in axes_doc.items()]
        template = g.get("name")
        if template is not None and (not isinstance(template, str) or not template):
            raise SweepError("%s.name: a name template such as \"{algo}-s{seed}\", got %s"
                             % (_where(path, gf), json.dumps(template)))
        for combo in itertools.product(*[choices for _, choices in axes]):
            labels = {k: label for (k, _), (label, _) in zip(axes, combo)}
            opts = dict(fixed)
            opts.update(gfixed)
            for _, (_, o) in zip(axes, combo):
                opts.update(o)
            if template is None:
                pid = "-".join(lb for lb in labels.values() if lb) or "point"
            else:
                try:
                    pid = template.format(**labels)
                except (KeyError, IndexError, ValueError) as e:
                    raise SweepError("%s.name: template %s: %s names no axis of the grid (axes: %s)"
                                     % (_where(path, gf), json.dumps(template), e, ", ".join(labels) or "none"))
            pid = re.sub(r"[^A-Za-z0-9._+=-]", "_", pid)
            if not ID_RE.match(pid):
                raise SweepError("%s: point id %s must start with a letter or digit"
                                 % (_where(path, gf), json.dumps(pid)))
            if pid in seen:
                raise SweepError("%s: two points have the id '%s' (%s and %s); give the grid a "
                                 "'name' template that tells them apart" % (path, pid, seen[pid], gf))
            seen[pid] = gf
            args = []
            for k, v in opts.items():
                if v is None or v is False:
                    continue
                args += ["--" + k] if v is True else ["--" + k, _text(v)]
            epochs = int(opts.get("epochs") or DEFAULT_EPOCHS)
            tasks = opts.get("tasks")
            n_tasks = len(str(tasks).split(",")) if tasks else 1
            points.append({"id": pid, "args": args, "lines": epochs * n_tasks, "values": labels})
    return name, ckpt, points


# ---------------------------------------------------------------- the output directory


def memtile_path(arg):
    p = arg or os.environ.get("MEMTILE") or os.path.join(ROOT, "build", "bin", "memtile")
    return os.path.abspath(p)


def write_plan(out, sweep_path, sets, name, ckpt, points, memtile):
    os.makedirs(out, exist_ok=True)
    plan = {"format": PLAN_FORMAT, "sweep": os.path.abspath(sweep_path), "set": list(sets),
            "name": name, "memtile": memtile, "checkpoint": ckpt, "cwd": os.getcwd(),
            "points": points}
    tmp = os.path.join(out, "plan.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(plan, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "plan.json"))
    return plan


def read_plan(out):
    path = os.path.join(out, "plan.json")
    try:
        with open(path, encoding="utf-8") as f:
            plan = json.load(f)
    except OSError as e:
        raise SweepError("%s: cannot read the plan (%s); run `sweep.py plan|run|slurm` with "
                         "--out %s first" % (path, e.strerror, out))
    except ValueError as e:
        raise SweepError("%s: not JSON (%s)" % (path, e))
    if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT or \
            not isinstance(plan.get("points"), list):
        raise SweepError("%s: not a plan of this sweep.py (format %s)"
                         % (path, json.dumps(plan.get("format") if isinstance(plan, dict) else None)))
    return plan


def command_line(point):
    """The command a complete point was made by (DIR/ID.cmd; claims_table.py lists it)."""
    if "argv" in point:
        # "stamp": what else the output depends on (meta_sweep.py: a digest of the RTL)
        stamp = "  # %s" % point["stamp"] if point.get("stamp") else ""
        return " ".join(shlex.quote(a) for a in point["argv"]) + stamp
    return "memtile train " + " ".join(shlex.quote(a) for a in point["args"])


def files(out, pid):
    b = os.path.join(out, pid)
    return {"log": b + ".jsonl", "csv": b + ".csv", "cmd": b + ".cmd", "out": b + ".out",
            "tmp": b + ".tmp.jsonl", "tmpcsv": b + ".tmp.csv", "ckpt": b + ".ckpt",
            "failed": b + ".failed"}


def _lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [ln for ln in f.read().splitlines() if ln.strip()]
    except OSError:
        return None


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def status(out, point):
    """complete (its log has every epoch and was made by this command), partial (a checkpoint
    or a part of a log), failed, or pending."""
    f = files(out, point["id"])
    if "argv" in point:
        # A command point (scripts/meta_sweep.py: a synthesis) is complete when its command
        # ran to the end and left its output file.
        if _read(f["cmd"]) == command_line(point) and \
                os.path.exists(os.path.join(out, point["output"])):
            return "complete"
        return "failed" if os.path.exists(f["failed"]) else "pending"
    lines = _lines(f["log"])
    if lines is not None and len(lines) == point["lines"] and _read(f["cmd"]) == command_line(point):
        return "complete"
    if os.path.exists(f["failed"]):
        return "failed"
    if os.path.exists(f["ckpt"]) or os.path.exists(f["tmp"]):
        return "partial"
    return "pending"


def _clear(f, keep_ckpt=False):
    for k in ("log", "csv", "cmd", "tmp", "tmpcsv", "failed") + (() if keep_ckpt else ("ckpt",)):
        try:
            os.remove(f[k])
        except FileNotFoundError:
            pass


def run_point(out, plan, index, resume, force=False):
    """Runs one point; returns (ok, message). The point's own log is DIR/ID.out."""
    point = plan["points"][index]
    f = files(out, point["id"])
    st = status(out, point)
    if st == "complete" and not force:
        return True, "kept    %s (complete log in %s)" % (point["id"], out)
    cmd = command_line(point)
    if "argv" in point:
        return _run_command_point(out, plan, point, f, cmd)
    # A checkpoint continues only the command that wrote it (memtile also checks every
    # option against the file and refuses another run's checkpoint).
    can_resume = resume and not force and plan["checkpoint"] and os.path.exists(f["ckpt"]) and \
        _read(f["cmd"] + ".run") == cmd
    if not force and os.path.exists(f["log"]) and not os.path.exists(f["cmd"]):
        # No sweep wrote this log (it writes ID.cmd with every log): a run started by hand,
        # maybe hours of it, is not deleted on a guess.
        return False, ("FAILED  %s: %s has no %s (a run started by hand?): `sweep.py adopt` "
                       "records it as this point's log, `run --force` replaces it"
                       % (point["id"], f["log"], os.path.basename(f["cmd"])))
    if can_resume:
        for k in ("log", "csv", "cmd", "failed"):
            if os.path.exists(f[k]):
                os.remove(f[k])
    else:
        _clear(f)
    argv = [plan["memtile"], "train"] + point["args"] + ["--log", f["tmp"]]
    if plan["checkpoint"]:
        argv += ["--checkpoint", f["ckpt"]]
        if can_resume:
            argv += ["--resume", f["ckpt"]]
    with open(f["cmd"] + ".run", "w", encoding="utf-8") as c:
        c.write(cmd + "\n")
    t0 = time.time()
    with open(f["out"], "a" if can_resume else "w", encoding="utf-8") as log:
        log.write("# %s: %s\n" % ("resume" if can_resume else "start",
                                  " ".join(shlex.quote(a) for a in argv)))
        log.flush()
        try:
            rc = subprocess.call(argv, stdout=log, stderr=subprocess.STDOUT, cwd=plan.get("cwd"))
        except OSError as e:
            log.write("sweep.py: cannot run %s: %s\n" % (plan["memtile"], e.strerror))
            rc = 127
    lines = _lines(f["tmp"]) or []
    if rc == 0 and len(lines) != point["lines"]:
        # A crash between a checkpoint and its log line loses that line; start over next time.
        msg = "log has %d epoch lines, expected %d; the point starts over when rerun" \
            % (len(lines), point["lines"])
        _clear(f)
        with open(f["failed"], "w", encoding="utf-8") as x:
            x.write(msg + "\n")
        return False, "FAILED  %s: %s" % (point["id"], msg)
    if rc != 0:
        with open(f["failed"], "w", encoding="utf-8") as x:
            x.write("exit %d\n" % rc)
        tail = (_read(f["out"]) or "").splitlines()[-3:]
        return False, "FAILED  %s (exit %d, %s): %s" % (point["id"], rc, f["out"], " | ".join(tail))
    os.replace(f["tmp"], f["log"])
    if os.path.exists(f["tmpcsv"]):
        os.replace(f["tmpcsv"], f["csv"])
    for k in ("ckpt", "failed"):
        if os.path.exists(f[k]):
            os.remove(f[k])
    os.replace(f["cmd"] + ".run", f["cmd"])
    last = json.loads(lines[-1])
    return True, "done    %s (%s, test accuracy %.4f, %.1f s)" % (
        point["id"], "resumed" if can_resume else "ran", float(last.get("test_accuracy", 0)),
        time.time() - t0)


def _run_command_point(out, plan, point, f, cmd):
    """A point that is a whole command (point["argv"], run in the plan's directory) with one
    output file (point["output"], relative to DIR): complete once it exits 0 and the file is
    there. Its output goes to DIR/ID.out."""
    _clear(f)
    t0 = time.time()
    with open(f["out"], "w", encoding="utf-8") as log:
        log.write("# start: %s\n" % cmd)
        log.flush()
        try:
            rc = subprocess.call(point["argv"], stdout=log, stderr=subprocess.STDOUT,
                                 cwd=plan.get("cwd"))
        except OSError as e:
            log.write("sweep.py: cannot run %s: %s\n" % (point["argv"][0], e.strerror))
            rc = 127
    if rc == 0 and not os.path.exists(os.path.join(out, point["output"])):
        rc, why = 1, "exit 0 but no %s" % point["output"]
    else:
        why = "exit %d" % rc
    if rc != 0:
        with open(f["failed"], "w", encoding="utf-8") as x:
            x.write(why + "\n")
        tail = (_read(f["out"]) or "").splitlines()[-3:]
        return False, "FAILED  %s (%s, %s): %s" % (point["id"], why, f["out"], " | ".join(tail))
    with open(f["cmd"], "w", encoding="utf-8") as c:
        c.write(cmd + "\n")
    return True, "done    %s (%.1f s)" % (point["id"], time.time() - t0)


# ---------------------------------------------------------------- commands


def cmd_plan(a):
    name, ckpt, points = load_sweep(a.sweep, a.set)
    if a.out:
        write_plan(a.out, a.sweep, a.set, name, ckpt, points, memtile_path(a.memtile))
    if a.json:
        json.dump({"name": name, "points": points}, sys.stdout, indent=1)
        print()
        return 0
    print("sweep %s: %d points" % (name, len(points)))
    for i, p in enumerate(points):
        st = "  " + status(a.out, p) if a.out else ""
        print("%4d  %-40s %s%s" % (i, p["id"], command_line(p), st))
    return 0


def _prepare(a):
    name, ckpt, points = load_sweep(a.sweep, a.set)
    out = a.out or os.path.join("build", "sweeps", name)
    memtile = memtile_path(a.memtile)
    if not os.access(memtile, os.X_OK):
        raise SweepError("memtile binary '%s' not found or not executable (build it with `make`, "
                         "or give --memtile / $MEMTILE)" % memtile)
    return out, write_plan(out, a.sweep, a.set, name, ckpt, points, memtile)


def _run_local(a, resume):
    out, plan = _prepare(a)
    return run_plan_local(out, plan, a.jobs, resume, a.force, a.no_parallel)


def run_plan_local(out, plan, jobs, resume, force=False, no_parallel=False):
    """Runs every point of DIR/plan.json that is not complete, `jobs` at a time (also what
    scripts/meta_sweep.py calls); 0 if all succeeded, else 1."""
    todo = [i for i, p in enumerate(plan["points"])
            if force or status(out, p) != "complete"]
    for i, p in enumerate(plan["points"]):
        if i not in todo:
            print("kept    %s (complete in %s)" % (p["id"], out), flush=True)
    if not todo:
        return 0
    parallel = shutil.which("parallel") if not no_parallel else None
    failed = 0
    if parallel:
        # GNU parallel runs `sweep.py point` per index; each prints its one result line.
        argv = [parallel, "--will-cite", "--line-buffer", "-j", str(jobs), sys.executable,
                os.path.abspath(__file__), "point", out, "--index", "{}"]
        if resume:
            argv.append("--resume")
        if force:
            argv.append("--force")
        argv += [":::"] + [str(i) for i in todo]
        rc = subprocess.call(argv)
        failed = rc  # parallel exits with the number of failed jobs (up to 100)
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futs = [pool.submit(run_point, out, plan, i, resume, force) for i in todo]
            for fut in concurrent.futures.as_completed(futs):
                ok, msg = fut.result()
                print(msg, file=sys.stdout if ok else sys.stderr, flush=True)
                failed += not ok
    if failed:
        print("sweep.py: %s point(s) failed; their logs are DIR/ID.out in %s"
              % (failed if failed < 100 else "100 or more", out), file=sys.stderr)
        return 1
    return 0


def cmd_run(a):
    if not a.local:
        raise SweepError("run: give --local to run on this machine (`sweep.py slurm` submits to "
                         "a Slurm cluster)")
    return _run_local(a, resume=False)


def cmd_resume(a):
    if a.local == a.slurm:
        raise SweepError("resume: give --local or --slurm")
    if a.local:
        return _run_local(a, resume=True)
    return _submit(a, resume=True)


def sbatch_script(out, plan, indices, a, resume):
    """The job array script: task k runs point k of DIR/plan.json."""
    logs = os.path.join(out, "slurm")
    arr = _ranges(indices) + ("%%%d" % a.max_running if a.max_running else "")
    lines = ["#!/bin/bash",
             "# Written by scripts/sweep.py: sweep %s, %d of its %d points, one per array task."
             % (plan["name"], len(indices), len(plan["points"])),
             "#SBATCH --job-name=memtile-%s" % plan["name"],
             "#SBATCH --array=%s" % arr,
             "#SBATCH --ntasks=1",
             "#SBATCH --cpus-per-task=%d" % a.cpus,
             "#SBATCH --chdir=%s" % plan["cwd"],
             "#SBATCH --output=%s/%%a.out" % logs]
    if a.partition:
        lines.append("#SBATCH --partition=%s" % a.partition)
    if a.time:
        lines.append("#SBATCH --time=%s" % a.time)
    for x in a.sbatch_arg or ():
        lines.append("#SBATCH %s" % x)
    run = [sys.executable if a.python is None else a.python, os.path.abspath(__file__), "point",
           os.path.abspath(out), "--index", '"$SLURM_ARRAY_TASK_ID"']
    if resume:
        run.append("--resume")
    lines += ["set -eu", " ".join(x if x.startswith('"') else shlex.quote(x) for x in run), ""]
    return "\n".join(lines)


def _ranges(ix):
    """0,1,2,5,7,8 -> 0-2,5,7-8 (sbatch --array)."""
    out, start = [], None
    for k, i in enumerate(ix):
        if start is None:
            start = i
        if k + 1 == len(ix) or ix[k + 1] != i + 1:
            out.append(str(start) if start == i else "%d-%d" % (start, i))
            start = None
    return ",".join(out)


def _submit(a, resume):
    out, plan = _prepare(a)
    return submit_plan(out, plan, a, resume)


def submit_plan(out, plan, a, resume):
    """Submits the points of DIR/plan.json that are not complete as one Slurm job array (a:
    the slurm options of `sweep.py slurm`; also what scripts/meta_sweep.py calls)."""
    todo = [i for i, p in enumerate(plan["points"]) if status(out, p) != "complete"]
    if not todo:
        print("sweep %s: every point is complete in %s" % (plan["name"], out))
        return 0
    os.makedirs(os.path.join(out, "slurm"), exist_ok=True)
    script = sbatch_script(out, plan, todo, a, resume)
    path = os.path.join(out, "sweep.sbatch")
    with open(path, "w", encoding="utf-8") as f:
        f.write(script)
    os.chmod(path, 0o755)
    if a.dry_run:
        print(script, end="")
        return 0
    sbatch = shutil.which("sbatch")
    if not sbatch:
        raise SweepError("sbatch not found: this machine is not a Slurm submit host (the script "
                         "is in %s; --dry-run only writes it)" % path)
    p = subprocess.run([sbatch, "--parsable", path], capture_output=True, text=True)
    if p.returncode != 0:
        raise SweepError("sbatch %s failed (exit %d): %s" % (path, p.returncode, p.stderr.strip()))
    job = p.stdout.strip().split(";")[0]
    print("submitted job %s: %d points of sweep %s (array %s); logs in %s"
          % (job, len(todo), plan["name"], _ranges(todo), out), flush=True)
    if not a.wait:
        return 0
    # squeue polled often is faster than `sbatch --wait` (research/cluster-facts.md).
    while True:
        q = subprocess.run(["squeue", "-h", "-j", job], capture_output=True, text=True)
        if q.returncode != 0 or not q.stdout.strip():
            break
        time.sleep(0.5)
    bad = [p["id"] for p in plan["points"] if status(out, p) != "complete"]
    if bad:
        print("sweep.py: job %s ended with %d point(s) incomplete: %s"
              % (job, len(bad), ", ".join(bad)), file=sys.stderr)
        return 1
    print("job %s: every point complete" % job)
    return 0


def cmd_slurm(a):
    return _submit(a, resume=a.resume)


def cmd_point(a):
    plan = read_plan(a.dir)
    n = len(plan["points"])
    if (a.id is None) == (a.index is None):
        raise SweepError("point: give --id ID or --index N")
    if a.index is not None:
        if not 0 <= a.index < n:
            raise SweepError("point: --index %d is outside the plan's %d points" % (a.index, n))
        index = a.index
    else:
        ids = [p["id"] for p in plan["points"]]
        if a.id not in ids:
            raise SweepError("point: no point '%s' in %s/plan.json" % (a.id, a.dir))
        index = ids.index(a.id)
    ok, msg = run_point(a.dir, plan, index, a.resume, a.force)
    print(msg, file=sys.stdout if ok else sys.stderr, flush=True)
    return 0 if ok else 1


def _opt(args, name, default=None):
    """The value of option --name in a point's memtile arguments (default if absent)."""
    for k in range(len(args) - 1):
        if args[k] == "--" + name:
            return args[k + 1]
    return default


def check_adoptable(point, lines, path):
    """Raises SweepError unless the log lines could be point's complete log: its number of
    epoch lines, numbered 1.., each of the point's algorithm, with validation, task and draw
    fields where its options ask for them. What a log does not record (the network, the
    learning rate, the seed, ...) adopt takes on trust."""
    args = point["args"]
    if len(lines) != point["lines"]:
        raise SweepError("adopt: %s has %d epoch lines; point %s's command logs %d"
                         % (path, len(lines), point["id"], point["lines"]))
    algo = _opt(args, "algo", DEFAULT_ALGO)
    draws = int(_opt(args, "draws", "1"))
    for n, text in enumerate(lines, 1):
        try:
            row = json.loads(text)
        except ValueError:
            row = None
        if not isinstance(row, dict):
            raise SweepError("adopt: %s line %d is not a JSON object" % (path, n))
        want = {"epoch": n, "algo": algo}
        if draws > 1 and n == len(lines):
            want["draws"] = draws
        for field, value in want.items():
            if row.get(field) != value:
                raise SweepError("adopt: %s line %d: %s is %s, point %s's command logs %s"
                                 % (path, n, field, json.dumps(row.get(field)), point["id"],
                                    json.dumps(value)))
        for field, opt in (("val_accuracy", "val"), ("task_name", "tasks")):
            if (field in row) != (_opt(args, opt) is not None):
                raise SweepError("adopt: %s line %d %s %s, but point %s's command %s --%s"
                                 % (path, n, "has" if field in row else "lacks", field,
                                    point["id"], "has no" if field in row else "has", opt))


def cmd_adopt(a):
    name, ckpt, points = load_sweep(a.sweep, a.set)
    out = a.out or os.path.join("build", "sweeps", name)
    by_id = {p["id"]: p for p in points}
    if a.id not in by_id:
        raise SweepError("adopt: no point '%s' in %s (its points: %s)"
                         % (a.id, a.sweep, ", ".join(by_id)))
    point = by_id[a.id]
    write_plan(out, a.sweep, a.set, name, ckpt, points, memtile_path(a.memtile))
    f = files(out, a.id)
    if status(out, point) == "complete":
        print("kept    %s (complete log in %s)" % (a.id, out))
        return 0
    src = a.log or f["log"]
    lines = _lines(src)
    if lines is None:
        raise SweepError("adopt: cannot read the log %s" % src)
    check_adoptable(point, lines, src)
    if os.path.abspath(src) != os.path.abspath(f["log"]):
        if os.path.exists(f["log"]):
            raise SweepError("adopt: %s exists already: adopt it (without --log) or remove it"
                             % f["log"])
        shutil.copyfile(src, f["log"])
        # memtile's CSV beside the log (mt_log_csv_path): FILE.jsonl or FILE.json -> FILE.csv
        base, ext = os.path.splitext(src)
        csv = base + ".csv" if ext in (".jsonl", ".json") else src + ".csv"
        if os.path.exists(csv):
            shutil.copyfile(csv, f["csv"])
    if os.path.exists(f["failed"]):
        os.remove(f["failed"])
    cmd = command_line(point)
    with open(f["out"], "a", encoding="utf-8") as log:
        log.write("# adopted: %s, made by hand by: %s\n" % (os.path.abspath(src), cmd))
    with open(f["cmd"], "w", encoding="utf-8") as c:
        c.write(cmd + "\n")
    print("adopted %s (%d epoch lines from %s, complete in %s)" % (a.id, len(lines), src, out))
    return 0


def summarize(out, point):
    """One row of the table."""
    row = dict.fromkeys(COLUMNS)
    row.update(id=point["id"], status=status(out, point))
    row.update(point["values"])
    if "argv" in point:
        return row  # a command point has no training log
    f = files(out, point["id"])
    src = f["log"] if row["status"] == "complete" else f["tmp"]
    recs = []
    for i, ln in enumerate(_lines(src) or [], 1):
        try:
            r = json.loads(ln)
        except ValueError as e:
            raise SweepError("%s:%d: not a JSON object (%s)" % (src, i, e))
        if not isinstance(r, dict) or not isinstance(r.get("test_accuracy"), (int, float)):
            raise SweepError("%s:%d: no numeric test_accuracy" % (src, i))
        recs.append(r)
    row["epochs"] = len(recs)
    if recs:
        accs = [float(r["test_accuracy"]) for r in recs]
        row["final_accuracy"] = accs[-1]
        row["best_accuracy"] = max(accs)
        row["best_epoch"] = accs.index(max(accs)) + 1
        for k in SUMMED:
            vals = [r[k] for r in recs if isinstance(r.get(k), (int, float))]
            row[k] = sum(vals) if vals else None
        if row.get("set_pulses") is not None and row.get("reset_pulses") is not None:
            row["pulses"] = row["set_pulses"] + row["reset_pulses"]
    return row


def cmd_gather(a):
    plan = read_plan(a.dir)
    rows = [summarize(a.dir, p) for p in plan["points"]]
    axes = []
    for p in plan["points"]:
        for k in p["values"]:
            if k not in axes and k not in COLUMNS:
                axes.append(k)
    cols = ["id", "status"] + axes + [c for c in COLUMNS if c not in ("id", "status")]
    csv_path = a.csv or os.path.join(a.dir, "results.csv")
    json_path = a.json or os.path.join(a.dir, "results.json")
    with open(csv_path + ".tmp", "w", encoding="utf-8") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join(_csv(r.get(c)) for c in cols) + "\n")
    os.replace(csv_path + ".tmp", csv_path)
    with open(json_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"sweep": plan["name"], "columns": cols, "points": rows}, f, indent=1)
        f.write("\n")
    os.replace(json_path + ".tmp", json_path)
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print("sweep %s: %s; table in %s and %s"
          % (plan["name"], ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items())),
             csv_path, json_path))
    for r in rows:
        if r.get("final_accuracy") is not None:
            print("  %-40s %-9s final %.4f  best %.4f  pulses %s  energy %s pJ"
                  % (r["id"], r["status"], r["final_accuracy"], r["best_accuracy"],
                     _num(r.get("pulses")), _num(r.get("energy_pj"))))
        else:
            print("  %-40s %s" % (r["id"], r["status"]))
    return 0 if counts.get("complete", 0) == len(rows) or a.partial else 1


def _num(v):
    return "-" if v is None else "%.6g" % v


def _csv(v):
    if v is None:
        return ""
    s = _num(v) if isinstance(v, float) else str(v)
    return '"%s"' % s.replace('"', '""') if any(c in s for c in ',"\n') else s


def main(argv):
    ap = argparse.ArgumentParser(prog="sweep.py", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="docs/sweeps.md has the sweep file's format.")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("sweep", help="the sweep file (JSON)")
        p.add_argument("--set", action="append", default=[], metavar="VAR=VALUE",
                       help="override one of the sweep's vars (a JSON value or a word)")
        p.add_argument("--out", help="output directory (default build/sweeps/NAME)")
        p.add_argument("--memtile", help="memtile binary (default $MEMTILE or build/bin/memtile)")

    def slurm_opts(p):
        p.add_argument("--dry-run", action="store_true", help="write and print the script only")
        p.add_argument("--wait", action="store_true", help="wait for the job array to end")
        p.add_argument("--partition")
        p.add_argument("--time", help="time limit per point (sbatch --time)")
        p.add_argument("--cpus", type=int, default=1, help="CPUs per point (default 1)")
        p.add_argument("--max-running", type=int, default=0, metavar="K",
                       help="at most K points at once (--array=...%%K)")
        p.add_argument("--sbatch-arg", action="append", metavar="ARG",
                       help="one more #SBATCH line, e.g. --sbatch-arg=--mem=2G")
        p.add_argument("--python", help="python3 on the compute nodes (default this one)")

    def local_opts(p):
        p.add_argument("-j", "--jobs", type=int, default=2, help="points at once (default 2)")
        p.add_argument("--no-parallel", action="store_true",
                       help="use a Python pool even where GNU parallel is installed")

    p = sub.add_parser("plan", help="list the points")
    common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_plan)
    p = sub.add_parser("run", help="run every point not complete")
    common(p)
    p.add_argument("--local", action="store_true", help="on this machine")
    p.add_argument("--force", action="store_true", help="rerun complete points too")
    local_opts(p)
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("resume", help="continue: skip complete points, resume checkpointed ones")
    common(p)
    p.add_argument("--local", action="store_true")
    p.add_argument("--slurm", action="store_true")
    local_opts(p)
    slurm_opts(p)
    p.set_defaults(fn=cmd_resume, force=False)
    p = sub.add_parser("slurm", help="submit the points as a Slurm job array")
    common(p)
    slurm_opts(p)
    p.add_argument("--resume", action="store_true", help="tasks resume checkpointed points")
    p.set_defaults(fn=cmd_slurm)
    p = sub.add_parser("gather", help="one table of the per-point logs")
    p.add_argument("dir", help="the sweep's output directory")
    p.add_argument("--csv", help="table as CSV (default DIR/results.csv)")
    p.add_argument("--json", help="table as JSON (default DIR/results.json)")
    p.add_argument("--partial", action="store_true", help="exit 0 even if points are missing")
    p.set_defaults(fn=cmd_gather)
    p = sub.add_parser("point", help="run one point of DIR/plan.json (run and slurm call this)")
    p.add_argument("dir")
    p.add_argument("--id")
    p.add_argument("--index", type=int)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(fn=cmd_point)
    p = sub.add_parser("adopt", help="record a log a point's command made by hand as its complete log")
    common(p)
    p.add_argument("--id", required=True, help="the point")
    p.add_argument("--log", help="the log (default DIR/ID.jsonl; copied there with its CSV)")
    p.set_defaults(fn=cmd_adopt)

    a = ap.parse_args(argv)
    if getattr(a, "jobs", 1) < 1:
        ap.error("-j must be at least 1, got %d" % a.jobs)
    if getattr(a, "cpus", 1) < 1:
        ap.error("--cpus must be at least 1, got %d" % a.cpus)
    try:
        return a.fn(a)
    except SweepError as e:
        print("sweep.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
