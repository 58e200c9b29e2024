#!/usr/bin/env python3
"""The metaplasticity unit's design space: accuracy against hardware cost (docs/meta-sweep.md).

    meta_sweep.py SWEEP.json --out DIR [-j N] [--force] [--memtile BIN] [--no-synth]
                  [--slurm [--partition P] [--time T] [--max-running K] [--dry-run]]
    meta_sweep.py plan SWEEP.json [--out DIR]
    meta_sweep.py gather DIR

`memtile meta-sweep` runs this. For every point of the sweep file's grid (a setting of the
unit: the preset's meta keys hidden_bits, hidden_frac, rounding, table_log2, entry_bits,
rule) it writes the preset DIR/presets/ID.json (the base preset with those keys), trains
every benchmark of the file (`memtile train` options; by default MNIST then Fashion-MNIST,
and permuted MNIST of 3 tasks) with that preset, and synthesizes the unit at that setting
(scripts/synth_board.py BOARD --top mt_meta_unit_fixed, the flow of `make synth`). The runs
are the points of one scripts/sweep.py plan (DIR/plan.json): resumable (complete runs are
kept, interrupted ones continue from their checkpoints), N at a time here (GNU parallel where
installed) or as a Slurm job array. Then DIR/sweep.csv and DIR/sweep.json hold one row per
setting, and DIR/pareto.png the Pareto fronts (gnuplot).

Python 3 standard library only (and gnuplot for the figure).
"""
import argparse
import glob
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep  # noqa: E402  scripts/sweep.py: the plan, the runner, Slurm

ROOT = sweep.ROOT
SweepError = sweep.SweepError

# The unit's design keys (the preset's "meta" section, docs/presets.md) with the full unit's
# values, their short names in point ids, and the mt_meta_unit_fixed parameter of each.
UNIT_KEYS = (("hidden_bits", 32, "W", "HIDDEN_W"), ("hidden_frac", 16, "F", "FRAC"),
             ("rounding", "truncate", "", "ROUND"), ("table_log2", 8, "k", "TABLE_LOG2"),
             ("entry_bits", 16, "E", "ENTRY_W"), ("rule", "centre", "", "RULE"))
UNIT_DEFAULTS = {k: d for k, d, _, _ in UNIT_KEYS}
ENUMS = {"rounding": ("truncate", "nearest"), "rule": ("centre", "interval")}
RANGES = {"hidden_bits": (8, 32), "hidden_frac": (0, 16), "table_log2": (1, 8),
          "entry_bits": (1, 16)}
DEFAULT_BENCHMARKS = {
    "fashion": {"tasks": "mnist,fashion-mnist"},
    "permuted": {"tasks": "permuted-mnist:3"},
}
DEFAULT_TRAIN = {"algo": "metaplastic", "net": "784-100-10", "epochs": 1}
SYNTH_TOP = "mt_meta_unit_fixed"
COLUMNS = ("id",) + tuple(k for k, _, _, _ in UNIT_KEYS) + (
    "status", "hidden_bits_per_weight", "lut", "ff", "dsp", "bram", "fmax_mhz",
    "energy_per_update_pj")


def _point_id(unit):
    parts = ["W%d" % unit["hidden_bits"], "F%d" % unit["hidden_frac"], unit["rounding"][:5],
             "k%d" % unit["table_log2"], "E%d" % unit["entry_bits"], unit["rule"]]
    return "-".join(parts)


def _unit_value(path, field, key, v):
    if key in ENUMS:
        if v not in ENUMS[key]:
            raise SweepError("%s: %s: %s is not one of %s"
                             % (path, field, json.dumps(v), ", ".join(ENUMS[key])))
        return v
    lo, hi = RANGES[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise SweepError("%s: %s: %s is not an integer in [%d, %d]"
                         % (path, field, json.dumps(v), lo, hi))
    return v


def load(path, sets=()):
    """Reads a meta-sweep file; returns the sweep's name and its settings, each
    {"id", "unit": {key: value}}, and the run's description."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise SweepError("%s: cannot read the sweep file (%s)" % (path, e.strerror))
    except ValueError as e:
        raise SweepError("%s: not JSON (%s)" % (path, e))
    if not isinstance(doc, dict):
        raise SweepError("%s: the sweep file is a JSON object" % path)
    known = {"name", "comment", "vars", "preset", "train", "benchmarks", "grids", "synth"}
    for k in doc:
        if k not in known:
            raise SweepError("%s: unknown field '%s' (fields: %s)" % (path, k, ", ".join(sorted(known))))
    env = dict(doc.get("vars", {}))
    for s in sets:
        name, eq, value = s.partition("=")
        if not eq or name not in env:
            raise SweepError("--set %s: expected VAR=VALUE with VAR one of the sweep's vars (%s)"
                             % (s, ", ".join(sorted(env)) or "none"))
        try:
            env[name] = json.loads(value)
        except ValueError:
            env[name] = value
    doc = {k: sweep._substitute(v, env, path, k) for k, v in doc.items() if k != "vars"}
    name = doc.get("name", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str) or not sweep.ID_RE.match(name):
        raise SweepError("%s: name: letters, digits and ._+=- only, got %s" % (path, json.dumps(name)))
    preset = doc.get("preset", "rram")
    if not isinstance(preset, str) or not preset:
        raise SweepError("%s: preset: a preset name or file, got %s" % (path, json.dumps(preset)))
    train = dict(DEFAULT_TRAIN)
    train.update(doc.get("train", {}))
    for k in ("preset", "tasks", "dataset"):
        if k in train:
            raise SweepError("%s: train.%s: set by the sweep (the preset per setting, the "
                             "datasets per benchmark)" % (path, k))
    for k, v in train.items():
        sweep._check_option(path, "train.%s" % k, k, v)
    benches = doc.get("benchmarks", DEFAULT_BENCHMARKS)
    if not isinstance(benches, dict) or not benches:
        raise SweepError("%s: benchmarks: an object of name -> memtile train options" % path)
    for b, opts in benches.items():
        if not sweep.ID_RE.match(b) or not isinstance(opts, dict) or "tasks" not in opts:
            raise SweepError("%s: benchmarks.%s: a name of letters and digits and an object "
                             "with at least 'tasks'" % (path, b))
        for k, v in opts.items():
            sweep._check_option(path, "benchmarks.%s.%s" % (b, k), k, v)
    synth = doc.get("synth", {"board": "ac701"})
    if synth is not None and (not isinstance(synth, dict) or
                              synth.get("board", "ac701") not in ("ac701", "u250", "ecp5")):
        raise SweepError("%s: synth: {\"board\": \"ac701\"|\"u250\"|\"ecp5\"} or null, got %s"
                         % (path, json.dumps(synth)))
    grids = doc.get("grids")
    if not isinstance(grids, list) or not grids:
        raise SweepError("%s: grids: a non-empty list of objects of axes" % path)
    settings, seen = [], set()
    for gi, g in enumerate(grids):
        gf = "grids[%d]" % gi
        if not isinstance(g, dict):
            raise SweepError("%s: %s: an object of axes" % (path, gf))
        axes = []
        for ax, values in g.items():
            if ax == "comment":
                continue
            if not isinstance(values, list) or not values:
                raise SweepError("%s: %s.%s: a non-empty list" % (path, gf, ax))
            choices = []
            for i, v in enumerate(values):
                f = "%s.%s[%d]" % (gf, ax, i)
                bundle = v if isinstance(v, dict) else {ax: v}
                for k in bundle:
                    if k not in UNIT_DEFAULTS:
                        raise SweepError("%s: %s: '%s' is not a key of the unit (%s)"
                                         % (path, f, k, ", ".join(UNIT_DEFAULTS)))
                choices.append({k: _unit_value(path, f, k, x) for k, x in bundle.items()})
            axes.append(choices)
        combos = [{}]
        for choices in axes:
            combos = [dict(c, **ch) for c in combos for ch in choices]
        for c in combos:
            unit = dict(UNIT_DEFAULTS, **c)
            if unit["hidden_frac"] >= unit["hidden_bits"]:
                raise SweepError("%s: %s: hidden_frac %d must be below hidden_bits %d"
                                 % (path, gf, unit["hidden_frac"], unit["hidden_bits"]))
            pid = _point_id(unit)
            if pid not in seen:  # grids may overlap: a setting runs once
                seen.add(pid)
                settings.append({"id": pid, "unit": unit})
    return {"name": name, "preset": preset, "train": train, "benchmarks": benches,
            "synth": synth, "settings": settings}


def _preset_file(name):
    if os.path.isfile(name):
        return name
    d = os.environ.get("MEMTILE_PRESETS") or os.path.join(ROOT, "presets")
    p = os.path.join(d, name + ".json")
    if not os.path.isfile(p):
        raise SweepError("preset '%s': neither a file nor %s" % (name, p))
    return p


def _idx_shift(levels, k, rule):
    """The trainer's meta_idx_shift (docs/algorithms.md, "Table range")."""
    span = (levels if rule == "centre" else 2) * 65536
    s = 0
    while s < 24 and ((1 << k) << s) < span:
        s += 1
    return s


def rtl_digest():
    """A digest of the RTL a synthesis reads: a synthesis made from other sources is not
    complete (its command line carries the digest)."""
    h = hashlib.sha256()
    for f in sorted(glob.glob(os.path.join(ROOT, "rtl", "*.sv")) + glob.glob(os.path.join(ROOT, "rtl", "*.vh"))
                    + glob.glob(os.path.join(ROOT, "generated", "*.vh"))):
        h.update(os.path.basename(f).encode() + b"\0")
        with open(f, "rb") as x:
            h.update(x.read())
    return "rtl " + h.hexdigest()[:16]


def build_plan(sw, out, memtile, levels_override=None):
    """Writes DIR/presets/ID.json and returns the sweep.py points: per setting one training
    run per benchmark (ID.BENCH) and one synthesis (ID.synth)."""
    base_path = _preset_file(sw["preset"])
    with open(base_path, encoding="utf-8") as f:
        base = json.load(f)
    levels = int(levels_override or base.get("levels", {}).get("count", 0))
    os.makedirs(os.path.join(out, "presets"), exist_ok=True)
    points = []
    stamp = rtl_digest() if sw["synth"] is not None else None
    for s in sw["settings"]:
        p = json.loads(json.dumps(base))
        p["name"] = "%s-%s" % (base.get("name", "preset"), s["id"])
        p["description"] = "preset %s with the metaplasticity unit %s (meta_sweep.py)" % (
            base.get("name", sw["preset"]), s["id"])
        p.setdefault("meta", {}).update(s["unit"])
        ppath = os.path.abspath(os.path.join(out, "presets", s["id"] + ".json"))
        text = json.dumps(p, indent=1) + "\n"
        if not os.path.exists(ppath) or open(ppath, encoding="utf-8").read() != text:
            with open(ppath + ".tmp", "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(ppath + ".tmp", ppath)
        for b, bopts in sw["benchmarks"].items():
            opts = dict(sw["train"])
            opts.update(bopts)
            opts["preset"] = ppath
            args = []
            for k, v in opts.items():
                if v is None or v is False:
                    continue
                args += ["--" + k] if v is True else ["--" + k, sweep._text(v)]
            n_tasks = sum(int(t.rsplit(":", 1)[1]) if t.startswith("permuted-") and ":" in t else 1
                          for t in str(opts["tasks"]).split(","))
            epochs = int(opts.get("epochs") or sweep.DEFAULT_EPOCHS)
            points.append({"id": "%s.%s" % (s["id"], b), "args": args, "lines": epochs * n_tasks,
                           "values": {"setting": s["id"], "benchmark": b}})
        if sw["synth"] is not None:
            u = s["unit"]
            params = {"HIDDEN_W": u["hidden_bits"], "FRAC": u["hidden_frac"],
                      "ROUND": ENUMS["rounding"].index(u["rounding"]),
                      "TABLE_LOG2": u["table_log2"], "ENTRY_W": u["entry_bits"],
                      "RULE": ENUMS["rule"].index(u["rule"]),
                      "IN_SHIFT": int(p["meta"].get("input_shift", 0)),
                      "IDX_SHIFT": _idx_shift(levels, u["table_log2"], u["rule"]),
                      "LEVELS": levels}
            sdir = os.path.join(out, "synth", s["id"])
            argv = ["python3", os.path.join(ROOT, "scripts", "synth_board.py"),
                    sw["synth"].get("board", "ac701"), "--top", SYNTH_TOP,
                    "--out", os.path.abspath(sdir)]
            for k, v in params.items():
                argv += ["--set", "%s=%d" % (k, v)]
            points.append({"id": "%s.synth" % s["id"], "argv": argv, "stamp": stamp,
                           "output": os.path.join("synth", s["id"], "report.json"),
                           "values": {"setting": s["id"], "benchmark": "synth"}})
    return points


def _costs(preset_path):
    with open(preset_path, encoding="utf-8") as f:
        e = json.load(f).get("energy_fj", {})
    return {k: float(e.get(k, 0.0)) for k in ("set", "rst", "verify", "meta")}


def _log(out, pid):
    recs = []
    for ln in sweep._lines(os.path.join(out, pid + ".jsonl")) or []:
        recs.append(json.loads(ln))
    return recs


def gather(out):
    """DIR/sweep.csv and DIR/sweep.json from the runs' logs and synthesis reports."""
    plan = sweep.read_plan(out)
    meta = plan.get("meta_sweep")
    if not meta:
        raise SweepError("%s/plan.json: not a plan of meta_sweep.py" % out)
    by_id = {p["id"]: p for p in plan["points"]}
    rows, cols = [], list(COLUMNS)
    for s in meta["settings"]:
        row = dict.fromkeys(COLUMNS)
        row["id"] = s["id"]
        row.update(s["unit"])
        row["hidden_bits_per_weight"] = s["unit"]["hidden_bits"]
        states = []
        costs = _costs(os.path.join(out, "presets", s["id"] + ".json"))
        upd_e = upd_n = 0.0
        for b in meta["benchmarks"]:
            p = by_id["%s.%s" % (s["id"], b)]
            st = sweep.status(out, p)
            states.append(st)
            recs = _log(out, p["id"]) if st == "complete" else []
            if not recs:
                continue
            last = recs[-1]
            acc = last.get("task_accuracy") or [last["test_accuracy"]]
            names = [("%s_%d" % (b, i + 1)) for i in range(len(acc))]
            for i, (n, a) in enumerate(zip(names, acc)):
                col = ("%s_last_acc" % b) if i == len(acc) - 1 else ("%s_retained_%d" % (b, i + 1))
                row[col] = a
                if col not in cols:
                    cols.append(col)
            if len(acc) > 1:
                row["%s_retained_mean" % b] = sum(acc[:-1]) / (len(acc) - 1)
                if "%s_retained_mean" % b not in cols:
                    cols.append("%s_retained_mean" % b)
            # The update path's energy at the preset's costs: the unit's hidden-weight updates
            # (each a commit: programmed or skipped) and the pulses and verify reads they cost.
            for r in recs:
                n = r.get("cells_programmed", 0) + r.get("updates_skipped", 0)
                upd_n += n
                upd_e += (r.get("set_pulses", 0) * costs["set"] + r.get("reset_pulses", 0) * costs["rst"]
                          + r.get("verify_reads", 0) * costs["verify"] + n * costs["meta"]) / 1000.0
        if upd_n:
            row["energy_per_update_pj"] = upd_e / upd_n
        sp = by_id.get("%s.synth" % s["id"])
        if sp is not None:
            st = sweep.status(out, sp)
            states.append(st)
            if st == "complete":
                with open(os.path.join(out, sp["output"]), encoding="utf-8") as f:
                    rep = json.load(f)
                row.update(lut=rep["lut"], ff=rep["ff"], dsp=rep["dsp"],
                           bram=rep["bram36"] if rep["bram36"] is not None else rep["bram18"] / 2.0,
                           fmax_mhz=rep["fmax_mhz"])
        row["status"] = "complete" if all(x == "complete" for x in states) else \
            "failed" if "failed" in states else "partial" if "complete" in states else "pending"
        rows.append(row)
    with open(os.path.join(out, "sweep.csv.tmp"), "w", encoding="utf-8") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join(sweep._csv(r.get(c)) for c in cols) + "\n")
    os.replace(os.path.join(out, "sweep.csv.tmp"), os.path.join(out, "sweep.csv"))
    doc = {"sweep": plan["name"], "columns": cols, "rows": rows,
           "fmax_method": _fmax_method(out, meta)}
    with open(os.path.join(out, "sweep.json.tmp"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(os.path.join(out, "sweep.json.tmp"), os.path.join(out, "sweep.json"))
    return cols, rows


def _fmax_method(out, meta):
    for s in meta["settings"]:
        p = os.path.join(out, "synth", s["id"], "report.json")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                return json.load(f).get("fmax_method")
    return None


def pareto(points):
    """The points (x, y, label) not dominated: no other has x <= and y >= with one strict."""
    front = []
    for x, y, lb in sorted(points, key=lambda t: (t[0], -t[1])):
        if not front or y > front[-1][1]:
            front.append((x, y, lb))
    return front


def plot(out, cols, rows):
    """DIR/pareto.png: per benchmark (a row of panels), the mean retained accuracy of its
    earlier tasks against hidden bits and against LUTs, every setting and the Pareto front.
    None when gnuplot is missing or nothing is complete."""
    metrics = [c for c in cols if c.endswith("_retained_mean")]
    gp = shutil.which("gnuplot")
    if not metrics or gp is None:
        return None
    data = os.path.join(out, "pareto.dat")
    panels = []
    with open(data, "w", encoding="utf-8") as f:
        for metric in metrics:
            for xcol in ("hidden_bits_per_weight", "lut"):
                pts = [(float(r[xcol]), float(r[metric]), r["id"]) for r in rows
                       if r.get(xcol) is not None and r.get(metric) is not None]
                if not pts:
                    continue
                f.write("# %s against %s: all\n" % (metric, xcol))
                for x, y, lb in pts:
                    f.write("%g %g %s\n" % (x, y, lb))
                f.write("\n\n# %s against %s: Pareto front\n" % (metric, xcol))
                for x, y, lb in pareto(pts):
                    f.write("%g %g %s\n" % (x, y, lb))
                f.write("\n\n")
                panels.append((metric, xcol))
    if not panels:
        return None
    png = os.path.join(out, "pareto.png")
    label = {"hidden_bits_per_weight": "hidden-weight bits per weight (W)",
             "lut": "LUTs of the unit (Yosys synth_xilinx, AC701)"}
    nrow = len(metrics)
    ncol = (len(panels) + nrow - 1) // nrow
    lines = ["set terminal pngcairo size %d,%d noenhanced" % (600 * ncol, 460 * nrow),
             "set output '%s'" % png,
             "set multiplot layout %d,%d title 'memtile meta-sweep %s: retained accuracy "
             "against the cost of the unit (labels: the Pareto front)'" % (
                 nrow, ncol, os.path.basename(os.path.abspath(out))),
             "set grid", "set key bottom right", "set yrange [0:1.05]", "set offsets graph 0.05, graph 0.05, 0, 0"]
    for i, (metric, xcol) in enumerate(panels):
        bench = metric[:-len("_retained_mean")]
        lines += ["set xlabel '%s'" % label[xcol],
                  "set ylabel '%s: mean accuracy of earlier tasks'" % bench,
                  "plot '%s' index %d using 1:2 with points pt 7 ps 1 title 'settings', "
                  "'' index %d using 1:2 with linespoints lw 2 pt 6 ps 2 title 'Pareto front', "
                  "'' index %d using 1:2:3 with labels font ',7' offset 0,-1 notitle"
                  % (data, 2 * i, 2 * i + 1, 2 * i + 1)]
    lines.append("unset multiplot")
    r = subprocess.run([gp], input="\n".join(lines) + "\n", text=True, capture_output=True)
    if r.returncode != 0:
        raise SweepError("gnuplot failed: %s" % r.stderr.strip())
    return png


def cmd_run(a):
    sw = load(a.sweep, a.set)
    if a.no_synth:
        sw["synth"] = None
    out = a.out
    memtile = sweep.memtile_path(a.memtile)
    if not os.access(memtile, os.X_OK):
        raise SweepError("memtile binary '%s' not found or not executable (build it with `make`, "
                         "or give --memtile / $MEMTILE)" % memtile)
    points = build_plan(sw, out, memtile)
    plan = sweep.write_plan(out, a.sweep, a.set, sw["name"], True, points, memtile)
    plan["meta_sweep"] = {"settings": sw["settings"], "benchmarks": list(sw["benchmarks"])}
    with open(os.path.join(out, "plan.json"), "w", encoding="utf-8") as f:
        json.dump(plan, f, indent=1)
        f.write("\n")
    if a.plan_only:
        for p in points:
            print("%-44s %s" % (p["id"], sweep.command_line(p)))
        return 0
    if a.slurm:
        if sw["synth"] is not None and sw["synth"].get("board") == "ecp5" and \
                not os.path.abspath(out).startswith(ROOT + os.sep):
            raise SweepError("--out %s: ecp5 synthesis needs DIR inside %s" % (out, ROOT))
        rc = sweep.submit_plan(out, plan, a, resume=not a.force)
        if rc or not a.wait:
            return rc
    else:
        rc = sweep.run_plan_local(out, plan, a.jobs, resume=not a.force, force=a.force,
                                  no_parallel=a.no_parallel)
    cols, rows = gather(out)
    png = plot(out, cols, rows)
    _report(out, cols, rows, png)
    return rc


def _report(out, cols, rows, png):
    metric = [c for c in cols if c.endswith("_retained_mean") or c.endswith("_last_acc")]
    print("meta-sweep: %d settings; table in %s/sweep.csv and sweep.json%s"
          % (len(rows), out, "; figure %s" % png if png else ""))
    for r in rows:
        print("  %-34s %-8s LUT %-5s FF %-5s fmax %-6s %s" % (
            r["id"], r["status"], _s(r.get("lut")), _s(r.get("ff")), _s(r.get("fmax_mhz")),
            "  ".join("%s %s" % (c, _s(r.get(c))) for c in metric)))


def _s(v):
    return "-" if v is None else ("%.4g" % v if isinstance(v, float) else str(v))


def cmd_gather(a):
    cols, rows = gather(a.dir)
    png = plot(a.dir, cols, rows)
    _report(a.dir, cols, rows, png)
    return 0 if all(r["status"] == "complete" for r in rows) else 1


def main(argv):
    if argv and argv[0] == "gather":
        ap = argparse.ArgumentParser(prog="meta_sweep.py gather")
        ap.add_argument("dir")
        a = ap.parse_args(argv[1:])
        fn = cmd_gather
    else:
        plan_only = bool(argv) and argv[0] == "plan"
        if plan_only:
            argv = argv[1:]
        ap = argparse.ArgumentParser(prog="memtile meta-sweep", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="docs/meta-sweep.md has the sweep file's format.")
        ap.add_argument("sweep", help="the sweep file (JSON), e.g. sweeps/meta-quick.json")
        ap.add_argument("--out", required=True, help="output directory")
        ap.add_argument("--set", action="append", default=[], metavar="VAR=VALUE")
        ap.add_argument("--memtile", help="memtile binary (default $MEMTILE or build/bin/memtile)")
        ap.add_argument("-j", "--jobs", type=int, default=2, help="runs at once (default 2)")
        ap.add_argument("--force", action="store_true", help="rerun complete runs too")
        ap.add_argument("--no-synth", action="store_true", help="train only (no LUT/FF/fmax)")
        ap.add_argument("--no-parallel", action="store_true", help="a Python pool, not GNU parallel")
        ap.add_argument("--slurm", action="store_true", help="submit the runs as a Slurm job array")
        ap.add_argument("--wait", action="store_true", help="--slurm: wait, then write the table")
        ap.add_argument("--dry-run", action="store_true", help="--slurm: write the script only")
        ap.add_argument("--partition")
        ap.add_argument("--time")
        ap.add_argument("--cpus", type=int, default=1)
        ap.add_argument("--max-running", type=int, default=0)
        ap.add_argument("--sbatch-arg", action="append")
        ap.add_argument("--python")
        a = ap.parse_args(argv)
        a.plan_only = plan_only
        if a.jobs < 1:
            ap.error("-j must be at least 1, got %d" % a.jobs)
        fn = cmd_run
    try:
        return fn(a)
    except SweepError as e:
        print("meta-sweep: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
