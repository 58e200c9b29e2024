#!/usr/bin/env python3
"""Checks that scripts/vivado/build.tcl gives Vivado every source the board top needs.

Usage: check_vivado_sources.py [--yosys] BUILD.tcl ROOT BOARD

Reads the Tcl (no Vivado needed): its include directories (`set incdirs [list ...]`, which
must also be what synth_design gets as -include_dirs) and its `read_verilog -sv` files (a
`[glob ...]` or a path; $root, $top and $board are substituted). Then every `include "X"` in
those files, and in the headers they include, must resolve in one of the include directories,
and the board top must be among the files. With --yosys, Yosys also elaborates the top from
exactly those files and directories (`hierarchy -check` against its models of the Xilinx
primitives), so a module that no file read by the Tcl defines is an error too.
Prints each problem (file, line, name) and exits 1 if there is any, 0 otherwise.
"""
import glob
import os
import re
import subprocess
import sys

INCLUDE_RE = re.compile(r'^\s*`include\s+"([^"]+)"', re.M)


def tcl_sources(tcl, root, board):
    """(include dirs, source files, errors) that the Tcl gives Vivado."""
    text = open(tcl, encoding="utf-8").read()
    code = "\n".join(line.split("#", 1)[0] if line.lstrip().startswith("#") else line
                     for line in text.splitlines())
    top = f"{board}_top"

    def subst(s):
        return s.replace("$root", root).replace("${board}", board).replace("$board", board) \
                .replace("$top", top)

    errors = []
    m = re.search(r"^\s*set\s+incdirs\s+\[list\s+([^\]]*)\]", code, re.M)
    if not m:
        return [], [], [f"{tcl}: no 'set incdirs [list ...]' (the include directories)"]
    incdirs = [subst(d) for d in m.group(1).split()]
    if not re.search(r"synth_design\b[^\n]*-include_dirs\s+\$incdirs", code):
        errors.append(f"{tcl}: synth_design does not take -include_dirs $incdirs")
    if not re.search(r"include_dirs\s+\$incdirs\s+\[current_fileset\]", code):
        errors.append(f"{tcl}: the fileset's include_dirs are not $incdirs")
    files = []
    for rm in re.finditer(r"^\s*read_verilog\s+-sv\s+(.+)$", code, re.M):
        arg = rm.group(1).strip()
        gm = re.fullmatch(r"\[glob\s+(\S+)\]", arg)
        if gm:
            hits = sorted(glob.glob(subst(gm.group(1))))
            if not hits:
                errors.append(f"{tcl}: '{arg}' matches no file")
            files += hits
        else:
            path = subst(arg)
            if not os.path.isfile(path):
                errors.append(f"{tcl}: '{arg}' is no file ({path})")
            files.append(path)
    board_top = os.path.join(root, "rtl", "boards", f"{top}.sv")
    if os.path.abspath(board_top) not in {os.path.abspath(f) for f in files}:
        errors.append(f"{tcl}: the board top {board_top} is not read")
    for d in incdirs:
        if not os.path.isdir(d):
            errors.append(f"{tcl}: include directory {d} does not exist")
    return incdirs, files, errors


def check_includes(files, incdirs):
    """Every `include reachable from files resolves in incdirs (headers followed)."""
    errors, seen, todo = [], set(), list(files)
    while todo:
        f = todo.pop()
        if f in seen or not os.path.isfile(f):
            continue
        seen.add(f)
        text = open(f, encoding="utf-8").read()
        for m in INCLUDE_RE.finditer(text):
            name = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            hit = next((os.path.join(d, name) for d in incdirs
                        if os.path.isfile(os.path.join(d, name))), None)
            if hit is None:
                errors.append(f"{f}:{line}: `include \"{name}\" is in none of the Tcl's include "
                              f"directories ({', '.join(incdirs)})")
            else:
                todo.append(hit)
    return errors


def check_yosys(files, incdirs, top):
    """Yosys elaborates top from exactly these files and include directories."""
    inc = " ".join(f"-I{d}" for d in incdirs)
    script = ("read_verilog -lib +/xilinx/cells_xtra.v; read_verilog -lib +/xilinx/cells_sim.v; "
              f"read_verilog -sv {inc} {' '.join(files)}; hierarchy -check -top {top}")
    r = subprocess.run([os.environ.get("YOSYS", "yosys"), "-q", "-p", script],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip().splitlines()
        return [f"yosys: {top} does not elaborate from the Tcl's files: "
                + (msg[-1] if msg else f"exit {r.returncode}")]
    return []


def main(argv):
    args = [a for a in argv[1:] if a != "--yosys"]
    if len(args) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    tcl, root, board = args
    incdirs, files, errors = tcl_sources(tcl, os.path.abspath(root), board)
    if not errors:
        errors += check_includes(files, incdirs)
    if not errors and "--yosys" in argv:
        errors += check_yosys(files, incdirs, f"{board}_top")
    for e in errors:
        print(e)
    if not errors:
        print(f"{tcl}: {len(files)} files, include directories {' '.join(incdirs)}: every "
              f"`include resolves" + (", the top elaborates (Yosys)" if "--yosys" in argv else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
