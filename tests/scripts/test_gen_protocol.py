#!/usr/bin/env python3
"""Tests of scripts/gen_protocol.py on copies of docs/protocol.json: a new constant group comes
out in C, RTL and the docs without generator changes, the derived numbers (counts, state-image
offsets, cost links) follow the JSON, --check sees staleness, and bad JSON is refused by name.
Each test runs the generator in a scratch tree. Prints TAP ("ok N - name" / "not ok N - name")."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tree(d, edit=None):
    """A scratch copy of what the generator reads; edit(p) changes protocol.json first."""
    for rel in ("scripts/gen_protocol.py", "docs/protocol.json", "docs/protocol.md"):
        os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, rel), os.path.join(d, rel))
    if edit:
        path = os.path.join(d, "docs/protocol.json")
        p = json.load(open(path))
        edit(p)
        json.dump(p, open(path, "w"), indent=1)


def gen(d, *args):
    return subprocess.run([sys.executable, os.path.join(d, "scripts/gen_protocol.py"), *args],
                          capture_output=True, text=True)


def read(d, rel):
    return open(os.path.join(d, rel)).read()


def test_repository_is_current(d):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gen_protocol.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_new_constant_group_everywhere(d):
    def add(p):
        p["framing"] = [{"name": "sync", "value": 0xA5A5, "doc": "frame start word"},
                        {"name": "max_words", "value": 1024, "doc": "largest frame"}]
        p["widgets"] = [{"name": "gear", "value": 3, "doc": "a group without a declared prefix"}]
    tree(d, add)
    r = gen(d)
    assert r.returncode == 0, r.stdout + r.stderr
    h, vh, md = read(d, "generated/mt_protocol.h"), read(d, "generated/mt_protocol.vh"), \
        read(d, "docs/protocol.md")
    assert "#define MT_FRAME_SYNC 42405u" in h
    assert "#define MT_FRAME_MAX_WORDS 1024u" in h
    assert "localparam int unsigned MT_FRAME_SYNC = 42405;" in vh
    assert "#define MT_WIDGETS_GEAR 3u" in h and "MT_WIDGETS_GEAR = 3;" in vh
    assert "<!-- BEGIN GENERATED framing -->" in md and "| `max_words` | 1024 | largest frame |" in md
    assert md.index("GENERATED framing") < md.index("## Random numbers")
    # Stable: a second run changes nothing, and --check agrees.
    assert gen(d, "--check").returncode == 0


def test_derived_numbers_follow_the_json(d):
    def add(p):
        p["config"].append({"name": "t_extra", "max": 7, "doc": "a new cost field"})
        p["counters"].insert(0, {"name": "extras", "doc": "x", "energy": "t_extra"})
        p["state_record"].append({"name": "spare", "fields": "spare", "doc": "x"})
    tree(d, add)
    r = gen(d)
    assert r.returncode == 0, r.stdout + r.stderr
    h, vh = read(d, "generated/mt_protocol.h"), read(d, "generated/mt_eng_counts.vh")
    n_cfg = len(json.load(open(os.path.join(ROOT, "docs/protocol.json")))["config"]) + 1
    assert f"parameter int unsigned CFG_COUNT = {n_cfg}," in vh
    assert f"#define MT_CFG_COUNT {n_cfg}u" in h
    assert "#define MT_WEIGHT_WORDS 12u" in h
    # GLOBAL offsets move with the config and counter counts.
    g = {l.split()[1]: int(l.split()[2].rstrip("u")) for l in h.splitlines()
         if l.startswith("#define MT_G_")}
    assert g["MT_G_LEVELS"] == 2 + n_cfg
    assert g["MT_G_FABRICATED"] - g["MT_G_COUNTERS"] == 2 * 17
    assert "MT_CNT_EXTRAS: mt_cost_energy_cfg = MT_CFG_T_EXTRA;" in read(d, "generated/mt_protocol.vh")


def test_check_reports_stale_files(d):
    tree(d)
    assert gen(d).returncode == 0
    with open(os.path.join(d, "generated/mt_equiv_ops.h"), "a") as f:
        f.write("/* edited */\n")
    r = gen(d, "--check")
    assert r.returncode == 1 and "generated/mt_equiv_ops.h" in r.stdout, r.stdout


def test_bad_json_is_named(d):
    cases = [
        (lambda p: p.__setitem__("gadgets", [{"name": "x"}]), "'gadgets'"),
        (lambda p: p["counters"][0].__setitem__("energy", "e_nothing"), "e_nothing"),
        (lambda p: p["config_rules"][0].__setitem__("report", "nope"), "'nope'"),
        (lambda p: p["opcodes"][3].pop("equiv_weight"), "CONFIGURE: equiv_weight"),
        (lambda p: p["state_global"][2].__setitem__("words", "CFG_COUNTS"), "CFG_COUNTS"),
    ]
    for k, (edit, want) in enumerate(cases):
        sub = os.path.join(d, str(k))
        tree(sub, edit)
        r = gen(sub)
        assert r.returncode != 0 and want in r.stderr, (want, r.stderr)


TESTS = [test_repository_is_current, test_new_constant_group_everywhere,
         test_derived_numbers_follow_the_json, test_check_reports_stale_files, test_bad_json_is_named]

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
