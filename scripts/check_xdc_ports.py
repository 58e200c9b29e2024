#!/usr/bin/env python3
"""Checks that an XDC file and a board top agree on the top-level ports.

Usage: check_xdc_ports.py FILE.xdc TOP.sv
Every port bit of the top's module header must have a PACKAGE_PIN in the XDC, and every name
or pattern inside [get_ports ...] must match a port bit of the top. Prints each mismatch
(file, line, name) and exits 1 if there is any, 0 otherwise.
"""
import fnmatch
import re
import sys

PORT_RE = re.compile(r"^\s*(input|output|inout)\s+(?:wire|logic|reg)?\s*(?:\[(\d+):(\d+)\])?\s*"
                     r"([A-Za-z_][A-Za-z0-9_]*)")


def top_ports(path):
    """Port bits ("name" or "name[i]") of the first module header in path."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"//[^\n]*", "", text)
    m = re.search(r"\bmodule\s+\w+\s*(?:#\s*\((?:[^()]|\([^()]*\))*\))?\s*\((.*?)\);", text, re.S)
    if not m:
        raise SystemExit(f"{path}: no module header found")
    bits = set()
    for line in m.group(1).split(","):
        pm = PORT_RE.match(line)
        if not pm:
            raise SystemExit(f"{path}: cannot read port declaration '{line.strip()}'")
        _, hi, lo, name = pm.groups()
        if hi is None:
            bits.add(name)
        else:
            a, b = sorted((int(hi), int(lo)))
            bits.update(f"{name}[{i}]" for i in range(a, b + 1))
    return bits


def xdc_refs(path):
    """(line number, names in one get_ports, has PACKAGE_PIN) for every get_ports."""
    refs = []
    for no, line in enumerate(open(path, encoding="utf-8"), 1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
        for m in re.finditer(r"\[get_ports\s+(\{[^}]*\}|\S+?)\]", code):
            names = m.group(1).strip("{}").split()
            refs.append((no, names, "PACKAGE_PIN" in code))
    return refs


def check(xdc, top):
    bits = top_ports(top)
    errors = []
    pinned = set()
    for no, names, has_pin in xdc_refs(xdc):
        for n in names:
            hit = {b for b in bits if fnmatch.fnmatchcase(b, n.replace("[", "[[]"))
                   } if "*" in n else ({n} & bits)
            if not hit:
                errors.append(f"{xdc}:{no}: get_ports '{n}' names no port of {top}")
            if has_pin:
                pinned |= hit
    for b in sorted(bits - pinned):
        errors.append(f"{top}: port '{b}' has no PACKAGE_PIN in {xdc}")
    return errors


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    errors = check(argv[1], argv[2])
    for e in errors:
        print(e)
    if not errors:
        print(f"{argv[1]}: every port of {argv[2]} constrained, no unknown port")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
