#!/usr/bin/env python3
"""The N worst register-to-register paths of a synthesized board, one per RTL register.

    python3 scripts/sta_paths.py DIR [-n N] [--out FILE]

DIR is a `scripts/synth_board.py ac701|u250` output directory: its netlist.il is the mapped
netlist before `sta`. Yosys' `sta` prints one path, the worst. This runs it N times in one Yosys
session: after each run the endpoint's whole RTL register (every flip-flop bit whose Q is a bit
of the same RTL signal, e.g. u_prog.state_q) or, for a block RAM or DSP endpoint, the pin on the
path is tied to constants, the logic that only fed it is removed (opt_clean), and sta runs again.
So each report line is a different endpoint register, in order of arrival, with the startpoint
register, the named nets on the path and its logic levels, which is what a designer needs to
batch the fixes that one synthesis run (40-60 minutes) makes visible. Cell delays only, the same
model as synth_board.py (+/xilinx/cells_sim.v specify blocks); no routing.

Writes DIR/paths.txt (or --out), one block per path; exits 1 on a missing or malformed input.
"""
import argparse
import os
import re
import subprocess
import sys

FF_TYPES = {"FDRE": ("D", "R", "CE"), "FDSE": ("D", "S", "CE"), "FDCE": ("D", "CLR", "CE"),
            "FDPE": ("D", "PRE", "CE")}
# The constant a cut ties each flip-flop pin to: data and set/reset 0, clock enable 1.
FF_TIE = {"D": "1'0", "R": "1'0", "S": "1'0", "CLR": "1'0", "PRE": "1'0", "CE": "1'1"}


def fail(msg):
    print(f"sta_paths: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_netlist(path):
    """The top module's name, wire widths and cells {name as sta prints it: (type,
    {port: sig text}, name in RTLIL)}."""
    top, widths, cells = None, {}, {}
    cur, attrs, in_top = None, [], False
    with open(path) as f:
        for line in f:
            if line.startswith("attribute "):
                attrs.append(line.split()[1])
                continue
            if line.startswith("module "):
                # The top carries (* top *); the cell library's modules do not.
                in_top = "\\top" in attrs
                if in_top:
                    top = line[7:].strip()
                attrs = []
                continue
            attrs = []
            if not in_top:
                continue
            if line == "end\n":
                in_top = False
            elif line.startswith("  wire "):
                toks = line.split()
                widths[toks[-1]] = int(toks[3]) if len(toks) >= 4 and toks[2] == "width" else 1
            elif line.startswith("  cell "):
                _, typ, name = line.split(None, 2)
                # sta prints public names without their backslash: key them that way.
                cur = bare(name.strip())
                cells[cur] = (bare(typ), {}, name.strip())
            elif cur is not None and line.startswith("    connect "):
                _, port, sig = line.strip().split(None, 2)
                cells[cur][1][bare(port)] = sig
            elif line.startswith("  end"):
                cur = None
    if top is None or not cells:
        fail(f"{path}: no module with cells")
    return top, widths, cells


SIG_TOKEN = re.compile(r"\{|\}|(\d+)'([01xzm-]+)|(\S+)(?: \[(\d+)(?::(\d+))?\])?")


def sig_width(sig, widths):
    """Width of an RTLIL signal expression: wires, slices, constants and concatenations."""
    total = 0
    for m in SIG_TOKEN.finditer(sig):
        if m.group(0) in "{}":
            continue
        if m.group(1):
            total += int(m.group(1))
        elif m.group(4) is not None:
            hi, lo = int(m.group(4)), int(m.group(5) if m.group(5) is not None else m.group(4))
            total += abs(hi - lo) + 1
        else:
            total += widths.get(m.group(3), 1)
    return total


def reg_name(sig):
    """The RTL signal a flip-flop's Q drives: "\\u_prog.state_q [4]" -> "u_prog.state_q"."""
    return bare(sig.split(" [")[0].strip())


def reg_key(sig):
    """The register a cut removes: every generate copy at once (u_noise.g_lane[*].u_lane.head_q),
    since they are the same RTL and the same fix."""
    return re.sub(r"\[\d+\]", "[*]", reg_name(sig))


def bare(name):
    """A public RTLIL name as sta prints it and a designer reads it: without its backslash."""
    return name.lstrip("\\")


def named(sig):
    return sig.startswith("\\")


class Yosys:
    """One interactive Yosys session; each command's log is read up to a marker."""

    def __init__(self, yosys):
        self.p = subprocess.Popen([yosys, "-Q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.n = 0

    def run(self, cmd):
        self.n += 1
        mark = f"@@sta_paths {self.n}@@"
        self.p.stdin.write(cmd + "\n" + f"log {mark}\n")
        self.p.stdin.flush()
        out = []
        for line in self.p.stdout:
            if line.strip() == mark:
                return "".join(out)
            out.append(line)
            if line.startswith("ERROR:"):
                fail(f"yosys: {line.strip()} (command: {cmd[:200]})")
        fail(f"yosys ended during: {cmd[:200]}")

    def close(self):
        self.p.stdin.write("exit\n")
        self.p.stdin.close()
        self.p.wait()


STEP = re.compile(r"^\s+(\d+) (\S+) \(([^)]*)\)$")
PRIMARY = re.compile(r"^\s+0\s+(.*) \(<primary input>\)$")
CLOCK_ARC = re.compile(r"\.(C|CLK\w*)->")  # a register's clock-to-output arc


def parse_sta(text):
    """(arrival ps, [(arrival, cell, 'TYPE.IN->OUT' or 'TYPE.PIN', net below)])."""
    m = re.search(r"^Latest arrival time in '.*' is (\d+):?$", text, re.M)
    if not m:
        return None, []
    lines = text[m.end():].splitlines()
    steps = []
    for i, line in enumerate(lines):
        if line.startswith("Arrival histogram"):
            break
        s = STEP.match(line)
        pi = PRIMARY.match(line)
        if pi:
            steps.append((0, pi.group(1).strip(), "<primary input>", ""))
        elif s:
            net = lines[i + 1].strip() if i + 1 < len(lines) else ""
            steps.append((int(s.group(1)), s.group(2), s.group(3), net))
    return int(m.group(1)), steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("-n", type=int, default=15)
    ap.add_argument("--out")
    ap.add_argument("--yosys", default="yosys")
    a = ap.parse_args()
    nl = os.path.join(a.dir, "netlist.il")
    if not os.path.isfile(nl):
        fail(f"{nl}: missing (scripts/synth_board.py ac701|u250 --out {a.dir} writes it)")
    if a.n < 1:
        fail(f"-n {a.n}: must be at least 1")
    top, widths, cells = parse_netlist(nl)
    # Flip-flops by the RTL register their Q drives.
    by_reg = {}
    for name, (typ, conns, _) in cells.items():
        if typ in FF_TYPES and "Q" in conns and named(conns["Q"]):
            by_reg.setdefault(reg_key(conns["Q"]), []).append(name)
    y = Yosys(a.yosys)
    y.run(f"read_rtlil {nl}")
    y.run("delete =A:blackbox")
    y.run("read_verilog -lib -specify +/xilinx/cells_sim.v")
    # sta changes the design (it cannot run twice), so every run starts from a saved copy
    # with all the cuts so far applied again.
    y.run("design -save base")
    blocks, cmds, stopped = [], [], None
    for k in range(a.n):
        tmp = os.path.join(a.dir, "sta_paths.tmp")
        if cmds:
            y.run("design -load base")
            y.run(f"cd {top}")
            for i in range(0, len(cmds), 200):
                y.run("; ".join(cmds[i:i + 200]))
            # Only in the top: opt_clean elsewhere drops the cell library's $specify cells.
            y.run("opt_clean")
            y.run("cd ..")
        y.run(f"tee -q -o {tmp} sta")
        arrival, steps = parse_sta(open(tmp).read())
        if arrival is None or not steps:
            if k == 0:
                fail(f"no path in sta's report ({tmp})")
            break
        end_cell, end_pin = steps[0][1], steps[0][2]
        # The startpoint: the first register (a clock-to-output arc), else the input port.
        start = next((s for s in reversed(steps) if CLOCK_ARC.search(s[2])), None)
        if start is None:
            start = next((s for s in reversed(steps) if s[2] == "<primary input>"
                          and bare(s[1]) != "clk_i"), steps[-1])
        etyp, econ, _ = cells.get(end_cell, ("?", {}, None))
        styp, scon, _ = cells.get(start[1], ("?", {}, None))
        if "->" in end_pin:
            # The path ends at an output pin with no timing check after it (a module output).
            # Tie the arc's input pin: every other path through it is no slower than this one,
            # the worst left, so nothing slower is lost.
            in_pin, out_pin = end_pin.split(".")[-1].split("->")
            end_name = f"{end_cell}.{out_pin} (an output pin with no timing check after it)"
            cut = [(end_cell, in_pin)]
        elif etyp in FF_TYPES and named(econ.get("Q", "")):
            end_name = bare(econ["Q"])
            # (each bit with its own kind's pins: a register mixes FDRE and FDSE bits)
            cut = [(c, p) for c in by_reg.get(reg_key(econ["Q"]), [end_cell])
                   for p in FF_TYPES[cells[c][0]]]
        else:
            end_name = end_cell
            pin = end_pin.split(".")[-1]
            cut = [(end_cell, pin)]
        if styp in FF_TYPES and named(scon.get("Q", "")):
            start_name = bare(scon["Q"])
        elif start[2] == "<primary input>":
            start_name = f"input port {bare(start[1])}"
        else:
            start_name = f"{start[1]} ({start[2]})"
        levels = {}
        for s in steps[1:]:
            t = s[2].split(".")[0]
            if "->" not in s[2] or t == "BUFG" or CLOCK_ARC.search(s[2]):
                continue
            levels[t] = levels.get(t, 0) + 1
        nets = []
        for s in reversed(steps):
            if named(s[3]) and ".clk_i" not in s[3] and s[3] not in nets:
                nets.append(s[3])
        blocks.append(
            f"{k + 1}. {arrival / 1000:.3f} ns ({1e6 / arrival:.1f} MHz)\n"
            f"   end:    {end_name} ({etyp}.{end_pin.split('.')[-1]})\n"
            f"   start:  {start_name} ({styp})\n"
            f"   levels: {', '.join(f'{v} {t}' for t, v in sorted(levels.items()))}\n"
            f"   named nets, start to end: {'; '.join(bare(n) for n in nets) or '-'}\n")
        print(blocks[-1], end="", flush=True)
        # Cut the endpoint (tie its pins) for the next run.
        n0 = len(cmds)
        for c, p in cut:
            typ, conns, rtlil_name = cells.get(c, ("?", {}, None))
            if p in conns:
                tie = FF_TIE[p] if typ in FF_TYPES else f"{sig_width(conns[p], widths)}'0"
                cmds.append(f"connect -port {rtlil_name} {p} {tie}")
        if len(cmds) == n0:
            stopped = f"path {k + 1}: nothing to cut at {end_cell} ({end_pin}); stopped there"
            break
    y.close()
    os.remove(os.path.join(a.dir, "sta_paths.tmp"))
    out = a.out or os.path.join(a.dir, "paths.txt")
    with open(out, "w") as f:
        f.write(f"# {len(blocks)} worst paths of {nl}, one per endpoint register "
                f"(scripts/sta_paths.py; Yosys sta, cell delays only, no routing)\n")
        f.write("".join(blocks))
    print(f"sta_paths: {len(blocks)} paths in {out}")
    if stopped:
        fail(stopped)


if __name__ == "__main__":
    main()
