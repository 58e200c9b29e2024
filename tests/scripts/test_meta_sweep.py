#!/usr/bin/env python3
"""Tests of `memtile meta-sweep` (scripts/meta_sweep.py, docs/meta-sweep.md): a tiny grid of
two unit settings trained on both benchmarks and synthesized with Yosys, its table and Pareto
figure, a rerun that keeps every complete run, and the sweep file's errors.

pytest tests; run as a program it runs them under pytest and prints TAP for make test."""
import csv
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "meta_sweep.py")

if __name__ == "__main__":
    # as a program (make test): under pytest, one TAP line per test (tests/pytest_tap.py)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import pytest_tap
    pytest_tap.main(__file__)

import pytest  # noqa: E402


# Two settings, far apart: an 8-bit and the full 32-bit unit.
TINY = {
    "name": "tiny",
    "preset": "rram",
    "train": {"algo": "metaplastic", "net": "784-8-10", "epochs": 1, "train-limit": 64,
              "test-limit": 32, "batch": 16},
    "benchmarks": {"fashion": {"tasks": "mnist,fashion-mnist"},
                   "permuted": {"tasks": "permuted-mnist:3"}},
    "synth": {"board": "ac701"},
    "grids": [{"width": [{"hidden_bits": 8, "hidden_frac": 1},
                         {"hidden_bits": 32, "hidden_frac": 16}]}],
}


@pytest.fixture
def run_meta_sweep(memtile_tool, run):
    """run_meta_sweep(*args, check=None): `memtile meta-sweep` run as `run` does."""
    return lambda *args, check=None: run([memtile_tool, "meta-sweep", *args], check=check, cwd=ROOT,
                                         timeout=600, env=dict(os.environ, MEMTILE=memtile_tool))


def test_tiny_grid_table_figure_and_rerun(tmp_path, run_meta_sweep, write):
    sw = write(tmp_path / "tiny.json", TINY)
    out = tmp_path / "out"
    run_meta_sweep(sw, "--out", out, "-j", 2, check=0)
    with open(out / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["W8-F1-trunc-k8-E16-centre", "W32-F16-trunc-k8-E16-centre"]
    doc = json.load(open(out / "sweep.json"))
    assert doc["columns"] == list(rows[0].keys())
    for r in rows:
        assert r["status"] == "complete"
        # every earlier task's retained accuracy, the last task's, for both benchmarks
        for c in ("fashion_retained_1", "fashion_last_acc", "permuted_retained_1",
                  "permuted_retained_2", "permuted_last_acc", "permuted_retained_mean"):
            assert 0.0 <= float(r[c]) <= 1.0, c
        assert int(r["lut"]) > 0 and int(r["ff"]) > 0 and float(r["fmax_mhz"]) > 0
        assert r["dsp"] != "" and r["bram"] != ""
        assert float(r["energy_per_update_pj"]) > 0
    # The table is the runs': the accuracies are the last log line's, the cost the report's.
    for r in rows:
        last = [json.loads(ln) for ln in open(out / (r["id"] + ".permuted.jsonl"))][-1]
        assert [float(r["permuted_retained_1"]), float(r["permuted_retained_2"]),
                float(r["permuted_last_acc"])] == pytest.approx(last["task_accuracy"])
        rep = json.load(open(out / "synth" / r["id"] / "report.json"))
        assert int(r["lut"]) == rep["lut"] and rep["top"] == "mt_meta_unit_fixed"
        assert rep["params"]["HIDDEN_W"] == int(r["hidden_bits"])
    w8, w32 = rows
    assert int(w8["hidden_bits_per_weight"]) == 8 and int(w32["hidden_bits_per_weight"]) == 32
    assert int(w8["ff"]) < int(w32["ff"])  # a narrower register is a smaller unit
    # The presets hold the setting.
    p8 = json.load(open(out / "presets" / (w8["id"] + ".json")))
    assert p8["meta"]["hidden_bits"] == 8 and p8["meta"]["hidden_frac"] == 1
    assert open(out / "pareto.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    # A synthesis is tied to the RTL it read: its command carries a digest of rtl/.
    assert "# rtl " in open(out / (w8["id"] + ".synth.cmd")).read()
    # A rerun keeps every complete run (no training, no synthesis) and rewrites the same table.
    before = open(out / "sweep.csv").read()
    p = run_meta_sweep(sw, "--out", out, check=0)
    assert p.stdout.count("kept    ") == 6 and "done    " not in p.stdout
    assert open(out / "sweep.csv").read() == before
    # A lost synthesis report: only that run again.
    os.remove(out / "synth" / w8["id"] / "report.json")
    p = run_meta_sweep(sw, "--out", out, "--no-parallel", check=0)
    assert p.stdout.count("done    ") == 1 and "W8-F1-trunc-k8-E16-centre.synth" in p.stdout


@pytest.mark.parametrize("change, message", [
    ({"grids": [{"width": [{"hidden_bits": 8, "hidden_frac": 8}]}]},
     "hidden_frac 8 must be below hidden_bits 8"),
    ({"grids": [{"hidden_bits": [7]}]}, "grids[0].hidden_bits[0]: 7 is not an integer in [8, 32]"),
    ({"grids": [{"rule": ["edge"]}]}, "\"edge\" is not one of centre, interval"),
    ({"grids": [{"size": [{"bits": 8}]}]}, "'bits' is not a key of the unit"),
    ({"train": {"tasks": "mnist"}}, "train.tasks: set by the sweep"),
    ({"benchmarks": {"b": {"net": "784-8-10"}}}, "benchmarks.b: a name"),
    ({"bogus": 1}, "unknown field 'bogus'"),
    ({"synth": {"board": "zynq"}}, "synth:"),
])
def test_sweep_file_errors(tmp_path, change, message, run_meta_sweep, write):
    doc = dict(TINY, **change)
    p = run_meta_sweep(write(tmp_path / "bad.json", doc), "--out", tmp_path / "o", check=2)
    assert message in p.stderr, p.stderr


def test_pareto_front():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import meta_sweep
    pts = [(8, 0.5, "a"), (12, 0.4, "b"), (16, 0.7, "c"), (32, 0.7, "d"), (32, 0.9, "e")]
    assert [lb for _, _, lb in meta_sweep.pareto(pts)] == ["a", "c", "e"]

