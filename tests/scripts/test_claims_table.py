#!/usr/bin/env python3
"""Tests of scripts/claims_table.py (the paper-claims table of docs/results.md) on synthetic
logs whose numbers are known. Prints TAP ("ok N - name" / "not ok N - name")."""
import json
import os
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import claims_table as ct  # noqa: E402

COUNTS = dict(set_pulses=0, reset_pulses=0, verify_reads=0, cell_reads=0, mvms=0,
              cells_programmed=0, energy_pj=1.0, latency_ns=1.0)


def write_run(d, name, epochs, algo="x", **fields):
    """Writes NAME.jsonl with one line per accuracy in `epochs` and NAME.cmd."""
    with open(os.path.join(d, name + ".jsonl"), "w") as f:
        for i, acc in enumerate(epochs, 1):
            row = dict(COUNTS, epoch=i, algo=algo, test_accuracy=acc)
            for k, v in fields.items():
                row[k] = v[i - 1] if isinstance(v, list) else v
            f.write(json.dumps(row) + "\n")
    with open(os.path.join(d, name + ".cmd"), "w") as f:
        f.write("memtile train --run %s\n" % name)


def full_set(d):
    """A complete, plausible reproduction directory."""
    for net in ("mlp", "cnn"):
        write_run(d, "tan-%s-siamese" % net, [0.95, 0.97], cells_programmed=100, set_pulses=1000,
                  reset_pulses=500, verify_reads=2000, cell_reads=100, energy_pj=5e6, latency_ns=1e9)
        write_run(d, "tan-%s-closed" % net, [0.95], cells_programmed=10000, set_pulses=100000,
                  reset_pulses=100000, verify_reads=400000, cell_reads=0, energy_pj=9e8, latency_ns=1e12)
        write_run(d, "tan-%s-float" % net, [0.96, 0.975], algo="float")
        write_run(d, "ssm-%s-ssm" % net, [0.80, 0.88, 0.90, 0.905], set_pulses=10, reset_pulses=10)
        write_run(d, "ssm-%s-ssm-lr001" % net, [0.70, 0.80, 0.85, 0.88], set_pulses=5, reset_pulses=5)
        write_run(d, "ssm-%s-sgdpulse" % net, [0.10, 0.20, 0.25, 0.26], set_pulses=100, reset_pulses=100)
        write_run(d, "ssm-%s-sgdpulse-lr05" % net, [0.30, 0.50, 0.60, 0.70], set_pulses=50, reset_pulses=50)
    two = [0.97, 0.85]
    write_run(d, "meta-m2", two, task_accuracy=[[0.97, 0.1], [0.965, 0.86]])
    write_run(d, "meta-m0", two, task_accuracy=[[0.97, 0.1], [0.30, 0.87]])
    write_run(d, "meta-float", two, algo="float", task_accuracy=[[0.975, 0.1], [0.40, 0.865]])
    for stem in ("level-fashion-mnist", "level-mnist", "sliced-fashion-mnist", "contrast-fashion-mnist",
                 "sliced-cnn-fashion-mnist", "contrast-cnn-fashion-mnist"):
        for s, (c, b) in enumerate(((0.35, 0.85), (0.36, 0.84), (0.34, 0.86)), 1):
            write_run(d, "dw-%s-conventional-s%d" % (stem, s), [c], sw_test_accuracy=0.88)
            write_run(d, "dw-%s-biased-s%d" % (stem, s), [b], sw_test_accuracy=0.87)
            if not stem.startswith("level"):
                write_run(d, "dw-%s-biasedall-s%d" % (stem, s), [b - 0.1], sw_test_accuracy=0.86)


def rows_by_claim(d):
    rows = ct.build_rows(ct.Runs(d), False, ROOT)
    return {(r[0], r[1]): r for r in rows}, rows


def find(rows, paper, words):
    hits = [r for r in rows if r[0] == paper and all(w in r[1] for w in words)]
    assert len(hits) == 1, "expected one %s row with %s, got %d" % (paper, words, len(hits))
    return hits[0]


def test_tan_updates_and_energy(d):
    full_set(d)
    _, rows = rows_by_claim(d)
    r = find(rows, "Tan 2024", ["updates removed", "MLP"])
    assert r[3].startswith("99.00%"), r[3]
    assert r[4] == "yes"
    # Update energy from the rram preset's per-event costs, MVMs excluded.
    e, _ = ct.preset_costs(ROOT, "rram")
    want_s = 1000 * e["set_pulses"] + 500 * e["reset_pulses"] + 2000 * e["verify_reads"] + 100 * e["cell_reads"]
    want_c = 100000 * e["set_pulses"] + 100000 * e["reset_pulses"] + 400000 * e["verify_reads"]
    r = find(rows, "Tan 2024", ["energy", "MLP"])
    assert r[3].startswith(ct.pct(100 * (1 - want_s / want_c))), (r[3], want_s, want_c)
    acc = find(rows, "Tan 2024", ["accuracy", "CNN"])
    assert "97.00% vs 97.50% (-0.50 points)" in acc[3], acc[3]
    assert acc[4] == "yes"


def test_ssm_rows(d):
    full_set(d)
    _, rows = rows_by_claim(d)
    r = find(rows, "SSM 2019", ["MLP accuracy"])
    # Best of each: sgd-pulse lr 0.5 (70%), ssm lr 0.05 (90.5%).
    assert r[3].startswith("70.00% (lr 0.5) → 90.50% (lr 0.05); all: sgd-pulse lr 0.05 26.00%, "
                           "lr 0.5 70.00%; ssm lr 0.05 90.50%, lr 0.01 88.00%"), r[3]
    assert r[4] == "yes"
    r = find(rows, "SSM 2019", ["MLP weight-update pulses"])
    assert r[3].startswith("80.0% (80 vs 400 pulses)"), r[3]
    assert r[4] == "no", r[4]
    r = find(rows, "SSM 2019", ["CNN convergence"])
    # 95% of the final accuracy: ssm 0.86 -> epoch 2; sgd-pulse lr 0.5 0.665 -> 4.
    assert r[3].startswith("sgd-pulse 4, ssm 2: 2.00x"), r[3]
    assert "final accuracy at epoch 1 of 4" in r[3], r[3]
    assert r[4] == "no"
    # The better learning rate decides: make lr 0.01 the better ssm run.
    write_run(d, "ssm-mlp-ssm-lr001", [0.90, 0.91, 0.92, 0.93], set_pulses=5, reset_pulses=5)
    _, rows = rows_by_claim(d)
    r = find(rows, "SSM 2019", ["MLP weight-update pulses"])
    assert r[3].startswith("90.0% (40 vs 400 pulses)"), r[3]
    assert r[4] == "yes"


def test_dagostino_rows(d):
    full_set(d)
    _, rows = rows_by_claim(d)
    r = find(rows, "D'Agostino 2023", ["equal to software"])
    assert r[3].startswith("96.50% / 86.00% (software, each task trained alone: 97.50% / 86.50%)"), r[3]
    assert r[4] == "yes", r[4]
    r = find(rows, "D'Agostino 2023", ["forgotten"])
    assert r[3] == "m = 0: MNIST 97.00% → 30.00%; m = 2: 97.00% → 96.50%", r[3]
    assert r[4] == "yes"
    r = find(rows, "D'Agostino 2023", ["memory"])
    # 79,400 weights x (32 + log2(33)) bits against 20,029,440 x (32 + 1).
    assert r[3].startswith("225x smaller"), r[3]


def test_diware_seeds_and_gain(d):
    full_set(d)
    _, rows = rows_by_claim(d)
    r = find(rows, "Diware 2023", ["Fashion-MNIST, level mapping"])
    assert r[3].startswith("conventional 35.00% → biased P = 0.25 85.00% (2.429x; per seed +50.00, "
                           "+48.00, +52.00); software 88.00%"), r[3]
    assert r[4] == "yes"
    assert r[8] == "1, 3 seeds", r[8]
    sliced = [x for x in rows if x[0] == "Diware 2023" and "bit-sliced" in x[1]]
    assert len(sliced) == 4 and "what-if" in sliced[2][1], [x[1] for x in sliced]
    assert "CNN" in sliced[1][1] and sliced[1][6].startswith("CNN"), sliced[1]
    assert "biased P = 1 75.00% (2.143x" in sliced[0][3], sliced[0][3]
    # Equal accuracy: no gain.
    for s in (1, 2, 3):
        write_run(d, "dw-level-mnist-biased-s%d" % s, [0.35 + 0.01 * (s % 2) - 0.005], sw_test_accuracy=0.87)
    _, rows = rows_by_claim(d)
    assert find(rows, "Diware 2023", ["(MNIST"])[4].startswith("no"), "no gain expected"


def test_errors_name_the_file(d):
    full_set(d)
    os.remove(os.path.join(d, "tan-cnn-closed.jsonl"))
    try:
        rows_by_claim(d)
    except ct.ClaimError as e:
        assert "tan-cnn-closed.jsonl" in str(e), str(e)
    else:
        raise AssertionError("a missing log must be an error")
    full_set(d)
    with open(os.path.join(d, "ssm-mlp-ssm.jsonl"), "a") as f:
        f.write("{not json\n")
    try:
        rows_by_claim(d)
    except ct.ClaimError as e:
        assert "ssm-mlp-ssm.jsonl:5" in str(e), str(e)
    else:
        raise AssertionError("a malformed line must be an error")
    full_set(d)
    write_run(d, "meta-m2", [0.9], task_accuracy=[[0.9]])
    try:
        rows_by_claim(d)
    except ct.ClaimError as e:
        assert "meta-m2.jsonl" in str(e) and "task 2" in str(e), str(e)
    else:
        raise AssertionError("a log without the second task must be an error")


def test_splice_keeps_the_rest(d):
    doc = os.path.join(d, "results.md")
    with open(doc, "w") as f:
        f.write("# head\n\n%s\nold table\n%s\n\ntail text\n" % (ct.BEGIN, ct.END))
    ct.splice(doc, "NEW\n")
    text = open(doc).read()
    assert text == "# head\n\n%s\nNEW\n%s\n\ntail text\n" % (ct.BEGIN, ct.END), text
    with open(doc, "w") as f:
        f.write("no markers\n")
    try:
        ct.splice(doc, "NEW\n")
    except ct.ClaimError as e:
        assert "markers missing" in str(e)
    else:
        raise AssertionError("splicing without markers must be an error")
    assert open(doc).read() == "no markers\n", "the file must be left alone"


def test_render_lists_every_command(d):
    full_set(d)
    r = ct.Runs(d)
    text = ct.render(r, ct.build_rows(r, False, ROOT), False)
    for name in os.listdir(d):
        if name.endswith(".cmd"):
            assert "memtile train --run %s" % name[:-4] in text, name
    assert text.count("\n| ") >= 21, "one row per claim"


TESTS = [test_tan_updates_and_energy, test_ssm_rows, test_dagostino_rows, test_diware_seeds_and_gain,
         test_errors_name_the_file, test_splice_keeps_the_rest, test_render_lists_every_command]

if __name__ == "__main__":
    print("1..%d" % len(TESTS))
    bad = 0
    for i, t in enumerate(TESTS, 1):
        with tempfile.TemporaryDirectory() as d:
            try:
                t(d)
                print("ok %d - %s" % (i, t.__name__))
            except Exception:  # any failure is reported, the others still run
                bad += 1
                print("not ok %d - %s" % (i, t.__name__))
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
    sys.exit(1 if bad else 0)
