#!/usr/bin/env python3
"""Tests of scripts/fidelity_table.py (the Fidelity runs of docs/results.md, issue 17) on
synthetic logs whose numbers are known: the rows, the computed comparisons (a verdict that
follows the figures, not a fixed string), and the errors that name the file."""
import json
import os
import sys

if __name__ == "__main__":
    # as a program (make test): under pytest, one TAP line per test (tests/pytest_tap.py)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import pytest_tap
    pytest_tap.main(__file__)

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import fidelity_table as ft  # noqa: E402


def task_run(d, name, a1, a1_after, a2, epochs=2, state=None):
    """Two tasks of `epochs` epochs: task 1's accuracy a1 at its end, then a1_after and a2."""
    with open(os.path.join(d, name + ".jsonl"), "w") as f:
        for e in range(1, 2 * epochs + 1):
            task = 1 if e <= epochs else 2
            acc = [a1, 0.1] if task == 1 else [a1_after, a2]
            row = {"epoch": e, "task": task, "task_accuracy": acc, "test_accuracy": acc[task - 1],
                   "wall_s": 2.0}
            if state:
                row["batchnorm_state"] = state
            f.write(json.dumps(row) + "\n")


def test_rows_and_computed_comparison(tmp_path):
    d = str(tmp_path)
    for s, j in ((1, -0.01), (2, 0.0), (3, 0.01)):
        task_run(d, "fid-bn-meta-shared-s%d" % s, 0.96, 0.50 + j, 0.80, state="shared")
        task_run(d, "fid-bn-meta-pertask-s%d" % s, 0.96, 0.70 + j, 0.80, state="per-task")
    text = ft.build(ft.load(d))
    assert "| metaplastic m = 2, Adam + BatchNorm, a state per task (`fid-bn-meta-pertask`) | 1,2,3 | 4 " \
           "| 96.00 ± 0.00% | 70.00 ± 1.00% | 80.00 ± 0.00% | 2.0 |" in text
    assert "per-task higher than shared (+20.00 points" in text
    assert "Not run (no log): " in text and "`fid-L2-m2`" in text
    # the other way round, the same sentence says so: the verdict follows the logs
    for s, j in ((1, -0.01), (2, 0.0), (3, 0.01)):
        task_run(d, "fid-bn-meta-pertask-s%d" % s, 0.96, 0.50 + j, 0.80, state="per-task")
    text = ft.build(ft.load(d))
    assert "per-task not significantly higher than shared (+0.00 points" in text


def test_one_task_runs_and_biased_vs_conventional(tmp_path):
    d = str(tmp_path)
    for s in (1, 2):
        for stem, acc in (("fid-lenet-fm-biased", 0.80 + 0.01 * s), ("fid-lenet-fm-conventional", 0.60 + 0.01 * s)):
            with open(os.path.join(d, "%s-s%d.jsonl" % (stem, s)), "w") as f:
                f.write(json.dumps({"epoch": 1, "test_accuracy": acc, "draw_mean": acc - 0.05,
                                    "wall_s": 10.0}) + "\n")
    text = ft.build(ft.load(d))
    assert "| `fid-lenet-fm-biased` | 1,2 | 1 | 81.50 ± 0.71% | 76.50 ± 0.71% | 10.0 |" in text
    assert "fid-lenet-fm, hardware accuracy: biased higher than conventional (+20.00 points" in text


def test_an_unfinished_second_task_is_left_out(tmp_path):
    d = str(tmp_path)
    task_run(d, "fid-L2-m2-s1", 0.9, 0.5, 0.7)
    with open(os.path.join(d, "fid-L2-m2-s1.jsonl")) as f:
        lines = f.readlines()
    with open(os.path.join(d, "fid-L2-m2-s1.jsonl"), "w") as f:
        f.writelines(lines[:2])  # task 1 only
    assert "fid-L2-m2" not in ft.load(d)


def test_bad_log_names_the_file(tmp_path, capsys):
    d = str(tmp_path)
    with open(os.path.join(d, "fid-L2-m0-s1.jsonl"), "w") as f:
        f.write('{"epoch": 1}\nnot json\n')
    assert ft.main([d]) == 2
    assert "fid-L2-m0-s1.jsonl: line 2 is not JSON" in capsys.readouterr().err
    open(os.path.join(d, "fid-L2-m0-s1.jsonl"), "w").close()
    assert ft.main([d]) == 2
    assert "fid-L2-m0-s1.jsonl: no epoch in the log" in capsys.readouterr().err
    assert ft.main([os.path.join(d, "nope")]) == 2
    assert "nope: not a directory" in capsys.readouterr().err

