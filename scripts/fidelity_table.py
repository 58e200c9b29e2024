#!/usr/bin/env python3
"""Tables the runs of sweeps/fidelity17.json (issue 17's D'Agostino and Diware measurements
that are not claims-table rows; docs/results.md, "Fidelity") from their logs.

    fidelity_table.py DIR [--out FILE]

DIR holds NAME.jsonl (`memtile train --log`) for the points of the sweep, named STEM-sSEED.
Runs of one STEM (all seeds) make one row: for runs over two tasks (--tasks) the test accuracy
of task 1 after its last epoch, of task 1 after the last epoch of task 2 and of task 2 there;
for runs of one task the last epoch's test accuracy and, with --draws, the mean over the
draws; mean ± sd over the seeds, and the mean wall time of an epoch. The comparisons under
the tables (per-task vs shared BatchNorm; metaplastic vs m = 0 at each level count; 33 levels
vs 2 at m = 2; biased vs conventional) are one-sided Welch t-tests computed here (scripts/claims_table.py's), their
verdicts from the figures, none fixed. A log that is missing, empty or not JSON is an error
naming the file; a STEM with no log at all is left out and listed as not run.
"""
import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from claims_table import ALPHA, fmt_p, msd, welch  # noqa: E402

RUN_RE = re.compile(r"^(?P<stem>.+)-s(?P<seed>[0-9]+)$")


class FidelityError(Exception):
    pass


def read_log(path):
    lines = []
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError as e:
                raise FidelityError("%s: line %d is not JSON (%s)" % (path, n, e.msg))
    if not lines:
        raise FidelityError("%s: no epoch in the log" % path)
    return lines


def summarize(lines):
    """What one run's log says: (task 1 after task 1, task 1 after task 2, task 2 after task 2)
    for two tasks, else (final test accuracy, draw mean or None); the mean epoch wall time."""
    last = lines[-1]
    wall = statistics.mean(x["wall_s"] for x in lines)
    if "task_accuracy" in last and len(last["task_accuracy"]) >= 2:
        t1 = [x for x in lines if x.get("task") == 1]
        if not t1 or last.get("task") != 2:
            return None  # task 2 not finished
        return {"kind": "tasks", "a1": t1[-1]["task_accuracy"][0], "a1_after": last["task_accuracy"][0],
                "a2": last["task_accuracy"][1], "wall": wall, "epochs": len(lines),
                "bn_state": last.get("batchnorm_state")}
    return {"kind": "one", "acc": last["test_accuracy"], "draw_mean": last.get("draw_mean"),
            "best_epoch": last.get("best_epoch"), "wall": wall, "epochs": len(lines)}


def load(directory):
    groups = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".jsonl"):
            continue
        m = RUN_RE.match(name[:-6])
        if not m:
            continue
        s = summarize(read_log(os.path.join(directory, name)))
        if s is None:
            continue
        groups.setdefault(m.group("stem"), []).append((int(m.group("seed")), s))
    return groups


def pc(values):
    return msd([100 * v for v in values], "%.2f", "%")


def col(runs, key):
    return [s[key] for _, s in runs]


def compare(a, b, what_a, what_b, label):
    """A computed sentence: does a beat b (one-sided Welch, ALPHA)?"""
    if len(a) < 2 or len(b) < 2:
        return "%s: %s %.2f%% vs %s %.2f%% (fewer than 2 seeds: no test)" % (
            label, what_a, 100 * statistics.mean(a), what_b, 100 * statistics.mean(b))
    t = welch(a, b)
    verdict = "higher" if t.p < ALPHA else "not significantly higher"
    return "%s: %s %s than %s (%+.2f points, one-sided Welch p = %s, n = %d + %d)" % (
        label, what_a, verdict, what_b, 100 * (statistics.mean(a) - statistics.mean(b)),
        fmt_p(t.p), len(a), len(b))


TASK_STEMS = [  # (stem, row label)
    ("fid-bn-meta-shared", "metaplastic m = 2, Adam + BatchNorm, one shared state"),
    ("fid-bn-meta-pertask", "metaplastic m = 2, Adam + BatchNorm, a state per task"),
    ("fid-bn-float-shared", "float, Adam + BatchNorm, one shared state"),
    ("fid-bn-float-pertask", "float, Adam + BatchNorm, a state per task"),
    ("fid-L2-m0", "metaplastic m = 0, L = 2 (binarized)"),
    ("fid-L2-m2", "metaplastic m = 2, L = 2 (binarized)"),
    ("fid-L33-m0", "metaplastic m = 0, L = 33"),
    ("fid-L33-m2", "metaplastic m = 2, L = 33"),
    ("fid-wide-m2", "metaplastic m = 2, L = 33, 784-1024-10"),
]


def build(groups):
    out, missing = [], []
    out.append("| run | seeds | epochs | MNIST after MNIST | MNIST after Fashion | Fashion after Fashion | s / epoch |")
    out.append("|---|---|---|---|---|---|---|")
    stems = [s for s, _ in TASK_STEMS] + sorted(
        k for k, v in groups.items() if k not in dict(TASK_STEMS) and v[0][1]["kind"] == "tasks")
    labels = dict(TASK_STEMS)
    for stem in stems:
        runs = groups.get(stem)
        if not runs:
            missing.append(stem)
            continue
        out.append("| %s (`%s`) | %s | %d | %s | %s | %s | %.1f |" % (
            labels.get(stem, stem), stem, ",".join(str(k) for k, _ in runs), runs[0][1]["epochs"],
            pc(col(runs, "a1")), pc(col(runs, "a1_after")), pc(col(runs, "a2")),
            statistics.mean(col(runs, "wall"))))
    one = sorted(k for k, v in groups.items() if v[0][1]["kind"] == "one")
    if one:
        out.append("")
        out.append("| run | seeds | epochs | test accuracy (last epoch) | mean over the draws | s / epoch |")
        out.append("|---|---|---|---|---|---|")
        for stem in one:
            runs = groups[stem]
            draws = col(runs, "draw_mean")
            out.append("| `%s` | %s | %d | %s | %s | %.1f |" % (
                stem, ",".join(str(k) for k, _ in runs), runs[0][1]["epochs"], pc(col(runs, "acc")),
                pc(draws) if all(d is not None for d in draws) else "—",
                statistics.mean(col(runs, "wall"))))
    notes = []

    def both(a, b):
        return a in groups and b in groups

    if both("fid-bn-meta-pertask", "fid-bn-meta-shared"):
        notes.append(compare(col(groups["fid-bn-meta-pertask"], "a1_after"),
                             col(groups["fid-bn-meta-shared"], "a1_after"), "per-task", "shared",
                             "metaplastic, MNIST after Fashion-MNIST"))
    if both("fid-bn-float-pertask", "fid-bn-float-shared"):
        notes.append(compare(col(groups["fid-bn-float-pertask"], "a1_after"),
                             col(groups["fid-bn-float-shared"], "a1_after"), "per-task", "shared",
                             "float, MNIST after Fashion-MNIST"))
    for lv in ("2", "33"):
        a, b = "fid-L%s-m2" % lv, "fid-L%s-m0" % lv
        if both(a, b):
            notes.append(compare(col(groups[a], "a1_after"), col(groups[b], "a1_after"), "m = 2",
                                 "m = 0", "L = %s, MNIST after Fashion-MNIST" % lv))
    if both("fid-L33-m2", "fid-L2-m2"):
        notes.append(compare(col(groups["fid-L33-m2"], "a1_after"), col(groups["fid-L2-m2"], "a1_after"),
                             "L = 33", "L = 2", "m = 2, MNIST after Fashion-MNIST"))
    for stem in one:
        m = re.match(r"^(?P<base>.+)-biased$", stem)
        if m and m.group("base") + "-conventional" in groups:
            key = "draw_mean" if all(d is not None for d in col(groups[stem], "draw_mean")) else "acc"
            notes.append(compare(col(groups[stem], key), col(groups[m.group("base") + "-conventional"], key),
                                 "biased", "conventional", "%s, hardware accuracy" % m.group("base")))
    if notes:
        out.append("")
        out.extend("- " + n for n in notes)
    if missing:
        out.append("")
        out.append("Not run (no log): " + ", ".join("`%s`" % m for m in missing))
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    try:
        if not os.path.isdir(a.dir):
            raise FidelityError("%s: not a directory" % a.dir)
        text = build(load(a.dir))
    except (FidelityError, OSError) as e:
        print("fidelity_table.py: %s" % e, file=sys.stderr)
        return 2
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
