#!/usr/bin/env python3
"""Tests of scripts/sweep.py: the plan of a sweep file, its errors, local runs (GNU parallel
and the Python pool) with the real memtile, gather's table, resuming from a checkpoint, and
the Slurm script (tests/scripts/test_sweep_slurm.sh submits to a real Slurm).

pytest tests; run as a program it runs them under pytest and prints TAP for make test."""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEP = os.path.join(ROOT, "scripts", "sweep.py")

if __name__ == "__main__":
    # as a program (make test): under pytest, one TAP line per test (tests/pytest_tap.py)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import pytest_tap
    pytest_tap.main(__file__)

import pytest  # noqa: E402


@pytest.fixture
def sweep(run):
    """sweep(*args, cwd=ROOT, check=None): scripts/sweep.py run as `run` does."""
    return lambda *args, cwd=ROOT, check=None: run([sys.executable, SWEEP, *args], cwd=cwd, check=check)


@pytest.fixture
def plan_of(sweep):
    """plan_of(path, *sets): the points of the plan of sweep file path with --set sets."""
    def plan_of_(path, *sets):
        args = ["plan", path, "--json"]
        for s in sets:
            args += ["--set", s]
        return json.loads(sweep(*args, check=0).stdout)["points"]
    return plan_of_


TINY = {"name": "tiny",
        "fixed": {"dataset": "mnist", "net": "784-16-10", "train-limit": 200, "test-limit": 100},
        "grids": [{"name": "{algo}-s{seed}",
                   "grid": {"algo": ["float", "siamese"], "seed": [1]},
                   "fixed": {"epochs": 1}}]}


# ------------------------------------------------------------------ plan


def test_plan_example_grid(plan_of):
    pts = plan_of(os.path.join(ROOT, "sweeps", "example.json"))
    assert [p["id"] for p in pts] == [
        "rram-siamese-s1", "rram-siamese-s2", "rram-sgd-pulse-s1", "rram-sgd-pulse-s2",
        "imprecise-siamese-s1", "imprecise-siamese-s2", "imprecise-sgd-pulse-s1",
        "imprecise-sgd-pulse-s2"]
    p = pts[6]
    assert p["args"] == ["--dataset", "mnist", "--net", "784-100-10", "--epochs", "2",
                         "--train-limit", "2000", "--test-limit", "1000", "--preset", "imprecise",
                         "--algo", "sgd-pulse", "--seed", "1"]
    assert p["lines"] == 2
    assert p["values"] == {"preset": "imprecise", "algo": "sgd-pulse", "seed": "1"}


def test_plan_ids_are_stable(tmp_path, plan_of, write):
    """A point keeps its id and command when the grid grows."""
    doc = {"fixed": {"epochs": 1}, "grids": [{"grid": {"algo": ["float", "siamese"], "seed": [1, 2]}}]}
    a = {p["id"]: p for p in plan_of(write(tmp_path / "a.json", doc))}
    doc["grids"][0]["grid"]["seed"] = [3, 1, 2]
    doc["grids"][0]["grid"]["algo"].insert(0, "ssm")
    b = {p["id"]: p for p in plan_of(write(tmp_path / "a.json", doc))}
    assert len(a) == 4 and len(b) == 9
    for k, p in a.items():
        assert b[k] == p


def test_plan_bundles_vars_flags_and_tasks(tmp_path, plan_of, write):
    doc = {"vars": {"E": 3, "SEEDS": [5], "LIM": None},
           "fixed": {"train-limit": "${LIM}", "epochs": "${E}"},
           "grids": [{"name": "{model}-{algo}-s{seed}", "grid": {
               "model": [{"tag": "cnn", "net": "28x28x1-c5x8-p2-10", "lr": 0.1},
                         {"net": "784-100-10", "open-loop": True}],
               "algo": ["siamese"], "seed": "${SEEDS}"}},
               {"name": "cl-{algo}", "fixed": {"tasks": "mnist,fashion-mnist"},
                "grid": {"algo": ["metaplastic"]}}]}
    path = write(tmp_path / "b.json", doc)
    pts = plan_of(path)
    assert [p["id"] for p in pts] == ["cnn-siamese-s5", "784-100-10_True-siamese-s5", "cl-metaplastic"]
    assert pts[0]["args"] == ["--epochs", "3", "--net", "28x28x1-c5x8-p2-10", "--lr", "0.1",
                              "--algo", "siamese", "--seed", "5"]
    assert "--open-loop" in pts[1]["args"] and "--train-limit" not in pts[1]["args"]
    assert pts[2]["lines"] == 6  # 3 epochs of each of 2 tasks
    pts = plan_of(path, "E=1", "LIM=500", "SEEDS=[7,8]")
    assert [p["id"] for p in pts][:2] == ["cnn-siamese-s7", "cnn-siamese-s8"]
    assert pts[0]["args"][:4] == ["--train-limit", "500", "--epochs", "1"]
    assert pts[-1]["lines"] == 2


def test_plan_max_tiles(tmp_path, plan_of, write):
    """Tile swapping is a sweep option like any other (docs/tile-swapping.md)."""
    doc = {"grids": [{"name": "t{max-tiles}", "grid": {"max-tiles": [1, 2]}}]}
    pts = plan_of(write(tmp_path / "m.json", doc))
    assert [p["args"] for p in pts] == [["--max-tiles", "1"], ["--max-tiles", "2"]]


def test_plan_optimizer_and_batchnorm(tmp_path, plan_of, write):
    """--optimizer and its Adam options take values, --batchnorm is a flag."""
    doc = {"fixed": {"algo": "metaplastic"},
           "grids": [{"name": "{opt}", "grid": {"opt": [
               {"tag": "sgd"},
               {"tag": "adambn", "optimizer": "adam", "adam-beta2": 0.99, "batchnorm": True},
               {"tag": "bntask", "batchnorm": True, "batchnorm-state": "per-task"}]}}]}
    pts = plan_of(write(tmp_path / "o.json", doc))
    assert pts[0]["args"] == ["--algo", "metaplastic"]
    assert pts[1]["args"] == ["--algo", "metaplastic", "--optimizer", "adam", "--adam-beta2", "0.99",
                              "--batchnorm"]
    assert pts[2]["args"] == ["--algo", "metaplastic", "--batchnorm", "--batchnorm-state", "per-task"]


def test_plan_reproduce_matches_claims_table(plan_of):
    """sweeps/reproduce.json names the runs scripts/claims_table.py reads (STEM-lrLR-sSEED),
    every run with a validation split, Diware's with 10 programming draws; --quick's vars
    give a small plan."""
    pts = plan_of(os.path.join(ROOT, "sweeps", "reproduce.json"))
    ids = [p["id"] for p in pts]
    assert len(ids) == 399 == len(set(ids))
    for name in ("ssm-cnn-ssm-lr0.03-s1", "ssm-mlp-sgdpulse-lr0.3-s3", "ssm-mlp-ssmreads-lr0.01-s2",
                 "tan-cnn-closed-lr0.1-s1", "tan-mlp-closedchg-lr0.01-s3", "tan-mlp-float-lr0.3-s2",
                 "tan-cnn-siamese-acc4-lr0.1-s1", "meta-m0-lr0.1-s1", "meta-m4-lr0.03-s2",
                 "meta-floatfm-lr0.01-s3", "dw-level-mnist-biased-lr0.1-s3",
                 "dw-sliced-cnn-fashion-mnist-biasedall-lr0.3-s2",
                 "dw-contrast-fashion-mnist-conventional-lr0.01-s1"):
        assert name in ids, name
    by = {p["id"]: p for p in pts}
    assert by["tan-cnn-closed-lr0.1-s1"]["lines"] == 1 and "--lr" in by["tan-cnn-closed-lr0.1-s1"]["args"]
    assert by["meta-m2-lr0.1-s1"]["lines"] == 20
    assert "--changed-only" in by["tan-mlp-closedchg-lr0.1-s1"]["args"]
    assert "--ssm-calibrate" in by["ssm-mlp-ssmreads-lr0.1-s1"]["args"]
    assert "--ssm-calibrate" not in by["ssm-mlp-ssm-lr0.1-s1"]["args"]
    assert all(p["args"][:2] == ["--val", "10000"] for p in pts)
    # Diware's runs program their best epoch onto 10 dies (issue 17); no other run draws.
    for p in pts:
        a = p["args"]
        assert (a[a.index("--draws") + 1] == "10" if p["id"].startswith("dw-")
                else "--draws" not in a), p["id"]
    quick = plan_of(os.path.join(ROOT, "sweeps", "reproduce.json"), "E_MLP=2", "E_SSM=2", "E_CNN=1",
                    "E_TASK=1", "E_DW=1", "SEEDS=[1,2]", "LRS=[0.1]", "LRS_CNN=[0.1]", "METAM=[2]",
                    "VAL=100", "TRAIN_LIMIT=600", "TEST_LIMIT=300")
    assert len(quick) == 72
    assert all(p["args"][:6] == ["--train-limit", "600", "--test-limit", "300", "--val", "100"]
               for p in quick)


# ------------------------------------------------------------------ errors

BAD = [
    ("[1, 2]", "the sweep file is a JSON object"),
    ("{\"grids\": [", "not JSON"),
    ({"grids": []}, "grids: a non-empty list"),
    ({"grid": {}}, "unknown field 'grid'"),
    ({"grids": [{"grid": {"algo": "siamese"}}]}, "grids[0].grid.algo: an axis is a non-empty list"),
    ({"grids": [{"grid": {"lrate": [0.1]}}]}, "grids[0].grid.lrate[0]: 'lrate' is not a memtile train option"),
    ({"grids": [{"grid": {"--lr": [0.1]}}]}, "write option names without dashes"),
    ({"fixed": {"log": "x.jsonl"}, "grids": [{"grid": {"seed": [1]}}]}, "fixed.log: 'log' is set by the sweep"),
    ({"grids": [{"grid": {"open-loop": ["yes"]}}]}, "grids[0].grid.open-loop[0]: 'open-loop' is a flag: true or false, got \"yes\""),
    ({"grids": [{"grid": {"epochs": [-1]}}]}, "grids[0].grid.epochs[0]: 'epochs' must be a non-negative integer, got -1"),
    ({"grids": [{"grid": {"preset": ["a b"]}}]}, "'preset' value \"a b\" is empty or has white space"),
    ({"grids": [{"grid": {"seed": [[1]]}}]}, "'seed' needs a string or a number, got [1]"),
    ({"grids": [{"grid": {"seed": [1]}}, {"grid": {"seed": [1]}}]}, "two points have the id '1'"),
    ({"grids": [{"name": "{algo}", "grid": {"seed": [1]}}]}, "grids[0].name: template \"{algo}\""),
    ({"grids": [{"grid": {"seed": ["${S}"]}}]}, "grids[0].grid.seed[0]: unknown variable ${S}"),
    ({"grids": [{"grid": {"net": [{"tag": "", "net": "784-10"}]}}]}, "a bundle's tag is a non-empty string"),
    ({"checkpoint": "yes", "grids": [{"grid": {"seed": [1]}}]}, "checkpoint: true or false"),
]


@pytest.mark.parametrize("doc,msg", BAD, ids=[m for _, m in BAD])
def test_errors_name_file_field_value(tmp_path, doc, msg, sweep, write):
    path = write(tmp_path / "bad.json", doc)
    p = sweep("plan", path, check=2)
    assert p.stderr.startswith("sweep.py: %s: " % path) or "sweep.py: %s" % path in p.stderr
    assert msg in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_errors_of_commands(tmp_path, sweep, write):
    path = write(tmp_path / "s.json", {"vars": {"E": 1}, "grids": [{"grid": {"seed": [1]}}]})
    assert "--set F=2: expected VAR=VALUE with VAR one of the sweep's vars (E)" in \
        sweep("plan", path, "--set", "F=2", check=2).stderr
    assert "cannot read the sweep file" in sweep("plan", tmp_path / "none.json", check=2).stderr
    assert "give --local" in sweep("run", path, check=2).stderr
    assert "memtile binary '/nonexistent/memtile' not found" in \
        sweep("run", path, "--local", "--memtile", "/nonexistent/memtile", check=2).stderr
    assert "cannot read the plan" in sweep("gather", tmp_path / "nowhere", check=2).stderr
    sweep("plan", path, "--out", tmp_path / "o", check=0)
    assert "--index 5 is outside the plan's 1 points" in \
        sweep("point", tmp_path / "o", "--index", 5, check=2).stderr
    assert "no point 'x'" in sweep("point", tmp_path / "o", "--id", "x", check=2).stderr


# ------------------------------------------------------------------ gather


def fake_log(out, pid, rows, cmd):
    with open(os.path.join(out, pid + ".jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    with open(os.path.join(out, pid + ".cmd"), "w") as f:
        f.write(cmd + "\n")


def test_gather_table(tmp_path, sweep, write):
    path = write(tmp_path / "g.json", {"fixed": {"epochs": 2}, "grids": [
        {"name": "{algo}", "grid": {"algo": ["siamese", "float", "ssm", "biased"]}}]})
    out = tmp_path / "o"
    sweep("plan", path, "--out", out, check=0)
    plan = json.load(open(out / "plan.json"))
    cmd = {p["id"]: "memtile train " + " ".join(p["args"]) for p in plan["points"]}
    row = dict(set_pulses=10, reset_pulses=5, verify_reads=7, cells_programmed=3, energy_pj=1.5,
               latency_ns=100.0, wall_s=0.25)
    fake_log(out, "siamese", [dict(row, epoch=1, test_accuracy=0.80),
                              dict(row, epoch=2, test_accuracy=0.75, set_pulses=20)], cmd["siamese"])
    fake_log(out, "float", [dict(epoch=1, test_accuracy=0.9, wall_s=1), dict(epoch=2, test_accuracy=0.95, wall_s=2)],
             cmd["float"])
    # ssm: one epoch so far (a part of a log): partial; biased: nothing yet.
    with open(out / "ssm.tmp.jsonl", "w") as f:
        f.write(json.dumps(dict(row, epoch=1, test_accuracy=0.5)) + "\n")
    p = sweep("gather", out, check=1)
    assert "2 complete, 1 partial, 1 pending" in p.stdout
    sweep("gather", out, "--partial", check=0)
    t = json.load(open(out / "results.json"))
    by = {r["id"]: r for r in t["points"]}
    s = by["siamese"]
    assert s["status"] == "complete" and s["algo"] == "siamese" and s["epochs"] == 2
    assert s["final_accuracy"] == 0.75 and s["best_accuracy"] == 0.80 and s["best_epoch"] == 1
    assert s["set_pulses"] == 30 and s["pulses"] == 40 and s["energy_pj"] == 3.0
    assert s["latency_ns"] == 200.0 and s["wall_s"] == 0.5 and s["sim_cycles"] is None
    f = by["float"]
    assert f["final_accuracy"] == 0.95 and f["pulses"] is None and f["wall_s"] == 3
    assert by["ssm"]["status"] == "partial" and by["ssm"]["epochs"] == 1
    assert by["biased"]["status"] == "pending" and by["biased"]["epochs"] == 0
    lines = open(out / "results.csv").read().splitlines()
    assert lines[0].startswith("id,status,algo,epochs,final_accuracy,best_accuracy")
    assert lines[1].startswith("siamese,complete,siamese,2,0.75,0.8,1,40,30,10,14,6,3,200,0.5,")
    # A log written by another command is not this point's: pending again.
    fake_log(out, "float", [dict(epoch=1, test_accuracy=0.9), dict(epoch=2, test_accuracy=0.9)],
             "memtile train --algo float --lr 9")
    sweep("gather", out, "--partial", check=0)
    assert {r["id"]: r for r in json.load(open(out / "results.json"))["points"]}["float"]["status"] == "pending"


# ------------------------------------------------------------------ runs with memtile


@pytest.mark.parametrize("pool", ["parallel", "python"])
def test_run_local_and_keep(tmp_path, pool, sweep, memtile_tool, write):
    if pool == "parallel" and not shutil.which("parallel"):
        pytest.fail("GNU parallel is not installed (make deps installs it)")
    path = write(tmp_path / "t.json", TINY)
    out = tmp_path / "o"
    extra = ["--no-parallel"] if pool == "python" else []
    p = sweep("run", path, "--local", "-j", 2, "--out", out, "--memtile", memtile_tool, *extra, check=0)
    assert p.stdout.count("done    ") == 2, p.stdout + p.stderr
    for pid in ("float-s1", "siamese-s1"):
        rows = [json.loads(x) for x in open(out / (pid + ".jsonl"))]
        assert len(rows) == 1 and rows[0]["algo"] == pid[:-3]
        assert os.path.exists(out / (pid + ".csv")) and os.path.exists(out / (pid + ".out"))
        assert not os.path.exists(out / (pid + ".ckpt"))
    assert open(out / "siamese-s1.cmd").read().strip() == \
        "memtile train --dataset mnist --net 784-16-10 --train-limit 200 --test-limit 100 " \
        "--epochs 1 --algo siamese --seed 1"
    mtime = os.path.getmtime(out / "siamese-s1.jsonl")
    p = sweep("run", path, "--local", "--out", out, "--memtile", memtile_tool, *extra, check=0)
    assert p.stdout.count("kept    ") == 2 and "done" not in p.stdout
    assert os.path.getmtime(out / "siamese-s1.jsonl") == mtime
    sweep("gather", out, check=0)
    t = json.load(open(out / "results.json"))
    s = [r for r in t["points"] if r["id"] == "siamese-s1"][0]
    log = json.loads(open(out / "siamese-s1.jsonl").read())
    assert s["final_accuracy"] == log["test_accuracy"]
    assert s["pulses"] == log["set_pulses"] + log["reset_pulses"] > 0


def test_failed_point_is_reported(tmp_path, sweep, memtile_tool, write):
    doc = json.loads(json.dumps(TINY))
    doc["grids"][0]["grid"]["algo"] = ["float"]
    doc["grids"].append({"name": "bad", "grid": {"preset": ["no-such-preset"]},
                         "fixed": {"algo": "siamese", "epochs": 1}})
    path = write(tmp_path / "f.json", doc)
    out = tmp_path / "o"
    p = sweep("run", path, "--local", "--out", out, "--memtile", memtile_tool, "--no-parallel", check=1)
    assert "FAILED  bad" in p.stderr and "1 point(s) failed" in p.stderr
    assert "no-such-preset" in open(out / "bad.out").read()
    assert os.path.exists(out / "bad.failed") and not os.path.exists(out / "bad.jsonl")
    assert os.path.exists(out / "float-s1.jsonl")
    p = sweep("gather", out, check=1)
    assert "1 complete, 1 failed" in p.stdout


def test_resume_continues_a_checkpoint(tmp_path, sweep, memtile_tool, write):
    """A point interrupted after epoch 1 of 2 continues from its checkpoint and logs what an
    uninterrupted run logs (wall_s aside)."""
    doc = {"name": "r", "fixed": {"dataset": "mnist", "net": "784-16-10", "train-limit": 200,
                                  "test-limit": 100, "epochs": 2, "algo": "siamese"},
           "grids": [{"name": "s{seed}", "grid": {"seed": [3]}}]}
    path = write(tmp_path / "r.json", doc)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    sweep("run", path, "--local", "--out", whole, "--memtile", memtile_tool, check=0)
    # The interruption: epoch 1 done, its checkpoint and log line written (the same run with
    # --epochs 1; memtile lets a resumed one-task run have more epochs).
    sweep("plan", path, "--out", cut, check=0)
    pt = json.load(open(cut / "plan.json"))["points"][0]
    args = [a if a != "2" else "1" for a in pt["args"]]
    assert args.count("1") == 1
    subprocess.run([memtile_tool, "train"] + args + ["--log", str(cut / "s3.tmp.jsonl"),
                                                  "--checkpoint", str(cut / "s3.ckpt")],
                   check=True, capture_output=True, cwd=ROOT)
    with open(cut / "s3.cmd.run", "w") as f:
        f.write("memtile train " + " ".join(pt["args"]) + "\n")
    p = sweep("resume", path, "--local", "--out", cut, "--memtile", memtile_tool, check=0)
    assert "resumed" in p.stdout, p.stdout
    assert "--resume" in open(cut / "s3.out").read()
    a = [json.loads(x) for x in open(whole / "s3.jsonl")]
    b = [json.loads(x) for x in open(cut / "s3.jsonl")]
    assert len(a) == len(b) == 2
    for x, y in zip(a, b):
        x.pop("wall_s")
        y.pop("wall_s")
        assert x == y
    assert not os.path.exists(cut / "s3.ckpt")


def test_run_restarts_what_resume_would_continue(tmp_path, sweep, memtile_tool, write):
    """Without resume, a checkpoint of another command is not used: the point starts over."""
    path = write(tmp_path / "t.json", TINY)
    out = tmp_path / "o"
    sweep("plan", path, "--out", out, check=0)
    with open(out / "float-s1.ckpt", "wb") as f:
        f.write(b"not a checkpoint")
    with open(out / "float-s1.cmd.run", "w") as f:
        f.write("memtile train --other\n")
    p = sweep("resume", path, "--local", "--out", out, "--memtile", memtile_tool, check=0)
    assert p.stdout.count("ran,") == 2 and "resumed" not in p.stdout


# ------------------------------------------------------------------ slurm script


def test_adopt_a_log_made_by_hand(tmp_path, sweep, memtile_tool, write, run):
    """A point's command run by hand leaves a log but no DIR/ID.cmd: the point is pending, and
    run or resume refuse to replace that log. adopt checks the log against the point (epoch
    lines, algorithm, validation and task fields) and records the command: then resume keeps
    it. A log that cannot be the point's is refused, naming the file, line and field."""
    path = write(tmp_path / "t.json", TINY)
    out, hand = tmp_path / "o", tmp_path / "hand"
    hand.mkdir()
    pts = {p["id"]: p for p in json.loads(sweep("plan", path, "--json", check=0).stdout)["points"]}
    for pid in pts:
        run([memtile_tool, "train", *pts[pid]["args"], "--log", hand / (pid + ".jsonl")], check=0)
    os.makedirs(out)
    shutil.copy(hand / "float-s1.jsonl", out / "float-s1.jsonl")
    listed = [ln for ln in sweep("plan", path, "--out", out, check=0).stdout.splitlines() if " float-s1 " in ln]
    assert len(listed) == 1 and listed[0].endswith("  pending"), listed
    # resume does not delete a log no sweep recorded: it says how to keep it
    log = open(out / "float-s1.jsonl").read()
    p = sweep("resume", path, "--local", "--out", out, "--memtile", memtile_tool, "--no-parallel", check=1)
    assert "FAILED  float-s1: %s has no float-s1.cmd (a run started by hand?): `sweep.py adopt`" \
        % (out / "float-s1.jsonl") in p.stderr
    assert open(out / "float-s1.jsonl").read() == log
    for k in ("siamese-s1.jsonl", "siamese-s1.cmd", "siamese-s1.csv"):  # trained: start afresh
        os.remove(out / k)

    def refused(pid, log, why):
        args = ["adopt", path, "--out", out, "--id", pid] + (["--log", log] if log else [])
        assert why in sweep(*args, check=2).stderr
    refused("float-s1", hand / "siamese-s1.jsonl",
            "siamese-s1.jsonl line 1: algo is \"siamese\", point float-s1's command logs \"float\"")
    refused("x", None, "adopt: no point 'x' in %s (its points: float-s1, siamese-s1)" % path)
    refused("siamese-s1", hand / "none.jsonl", "adopt: cannot read the log %s" % (hand / "none.jsonl"))
    two = [json.loads(x) for x in open(hand / "siamese-s1.jsonl")] * 2
    write(hand / "two.jsonl", "".join(json.dumps(r) + "\n" for r in two))
    refused("siamese-s1", hand / "two.jsonl", "two.jsonl has 2 epoch lines; point siamese-s1's command logs 1")
    write(hand / "val.jsonl", json.dumps(dict(two[0], val_accuracy=0.5)) + "\n")
    refused("siamese-s1", hand / "val.jsonl",
            "val.jsonl line 1 has val_accuracy, but point siamese-s1's command has no --val")
    refused("siamese-s1", hand / "float-s1.jsonl", "line 1: algo is \"float\"")
    assert not os.path.exists(out / "siamese-s1.cmd") and not os.path.exists(out / "siamese-s1.jsonl")

    # from elsewhere (copied with its CSV) and in place
    p = sweep("adopt", path, "--out", out, "--id", "siamese-s1", "--log", hand / "siamese-s1.jsonl", check=0)
    assert "adopted siamese-s1 (1 epoch lines" in p.stdout
    assert open(out / "siamese-s1.jsonl").read() == open(hand / "siamese-s1.jsonl").read()
    assert open(out / "siamese-s1.csv").read() == open(hand / "siamese-s1.csv").read()
    sweep("adopt", path, "--out", out, "--id", "float-s1", check=0)
    assert open(out / "siamese-s1.cmd").read().strip() == \
        "memtile train --dataset mnist --net 784-16-10 --train-limit 200 --test-limit 100 " \
        "--epochs 1 --algo siamese --seed 1"
    assert "# adopted: " in open(out / "float-s1.out").read()
    assert "kept    float-s1" in sweep("adopt", path, "--out", out, "--id", "float-s1", check=0).stdout
    mtime = os.path.getmtime(out / "float-s1.jsonl")
    p = sweep("resume", path, "--local", "--out", out, "--memtile", memtile_tool, "--no-parallel", check=0)
    assert p.stdout.count("kept    ") == 2 and "done" not in p.stdout, p.stdout + p.stderr
    assert os.path.getmtime(out / "float-s1.jsonl") == mtime


def test_adopt_the_fidelity_runs(tmp_path, sweep, write):
    """The hand-started runs of sweeps/fidelity17.json: LeNet-5 (3 epochs, --val, --draws 10 on
    the last line) and the wide network (5 + 5 epochs of two tasks) adopt from logs with their
    fields, and not from logs without them."""
    fid = os.path.join(ROOT, "sweeps", "fidelity17.json")
    out = tmp_path / "o"

    def log(name, rows):
        return write(tmp_path / name, "".join(json.dumps(r) + "\n" for r in rows))
    lenet = [dict(epoch=e, algo="biased", test_accuracy=0.8, val_accuracy=0.8) for e in (1, 2, 3)]
    no_draws = log("lenet0.jsonl", lenet)
    lenet[2].update(draws=10, draw_accuracy=[0.8] * 10)
    good = log("lenet.jsonl", lenet)
    assert 'lenet0.jsonl line 3: draws is null, point fid-lenet-fm-biased-s1\'s command logs 10' in \
        sweep("adopt", fid, "--out", out, "--id", "fid-lenet-fm-biased-s1", "--log", no_draws, check=2).stderr
    sweep("adopt", fid, "--out", out, "--id", "fid-lenet-fm-biased-s1", "--log", good, check=0)
    wide = [dict(epoch=e, algo="metaplastic", test_accuracy=0.9, task=1 + (e > 5), task_name="mnist")
            for e in range(1, 11)]
    assert "wide0.jsonl line 1 lacks task_name, but point fid-wide-m2-s1's command has --tasks" in \
        sweep("adopt", fid, "--out", out, "--id", "fid-wide-m2-s1", "--log",
              log("wide0.jsonl", [{k: v for k, v in r.items() if k != "task_name"} for r in wide]),
              check=2).stderr
    sweep("adopt", fid, "--out", out, "--id", "fid-wide-m2-s1", "--log", log("wide.jsonl", wide), check=0)
    listed = sweep("plan", fid, "--out", out, check=0).stdout.splitlines()
    done = sorted(ln.split()[1] for ln in listed if ln.endswith("  complete"))
    assert done == ["fid-lenet-fm-biased-s1", "fid-wide-m2-s1"], listed


def test_slurm_dry_run_script(tmp_path, sweep, memtile_tool, write):
    path = write(tmp_path / "t.json", TINY)
    out = tmp_path / "o"
    p = sweep("slurm", path, "--out", out, "--memtile", memtile_tool, "--dry-run", "--max-running", 1,
              "--partition", "short", "--time", "10", "--sbatch-arg=--mem=2G", check=0)
    s = p.stdout
    assert s == open(out / "sweep.sbatch").read()
    assert s.startswith("#!/bin/bash\n")
    for line in ("#SBATCH --array=0-1%1", "#SBATCH --job-name=memtile-tiny", "#SBATCH --partition=short",
                 "#SBATCH --time=10", "#SBATCH --mem=2G", "#SBATCH --cpus-per-task=1",
                 "#SBATCH --output=%s/slurm/%%a.out" % out, "#SBATCH --chdir=%s" % ROOT):
        assert line + "\n" in s
    assert 'point %s --index "$SLURM_ARRAY_TASK_ID"' % out in s
    # The script is valid bash.
    assert subprocess.run(["bash", "-n", str(out / "sweep.sbatch")]).returncode == 0
    # Complete points leave the array: 0-1 becomes 1.
    pts = json.load(open(out / "plan.json"))["points"]
    fake_log(out, "float-s1", [{"epoch": 1, "test_accuracy": 0.5}],
             "memtile train " + " ".join(pts[0]["args"]))
    s = sweep("slurm", path, "--out", out, "--memtile", memtile_tool, "--dry-run", check=0).stdout
    assert "#SBATCH --array=1\n" in s

