#!/usr/bin/env python3
"""Tests of scripts/check_xdc_ports.py (XDC ports == board top ports): the real AC701 pair
agrees, and a missing pin, an unknown port, a wildcard that matches nothing and a bus bit out
of range are each reported. Prints TAP."""
import contextlib
import io
import os
import sys
import tempfile
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import check_xdc_ports as cx  # noqa: E402

XDC = os.path.join(ROOT, "constraints", "ac701_umft601x.xdc")
TOP = os.path.join(ROOT, "rtl", "boards", "ac701_top.sv")

MINI_TOP = """module t #(parameter int N = 2) (
  input  wire clk, // the clock
  inout  wire [1:0] d,
  output logic q
);
endmodule
"""
MINI_XDC = """set_property -dict {PACKAGE_PIN A1 IOSTANDARD LVCMOS25} [get_ports clk]
set_property -dict {PACKAGE_PIN A2 IOSTANDARD LVCMOS25} [get_ports {d[0]}]
set_property -dict {PACKAGE_PIN A3 IOSTANDARD LVCMOS25} [get_ports {d[1]}]
set_property -dict {PACKAGE_PIN A4 IOSTANDARD LVCMOS25} [get_ports q]
set_input_delay -clock clk -max 1.0 [get_ports {d[*]}]
# [get_ports commented_out]
"""


def run(d, top, xdc):
    t, x = os.path.join(d, "t.sv"), os.path.join(d, "t.xdc")
    open(t, "w").write(top)
    open(x, "w").write(xdc)
    return cx.check(x, t)


def test_ac701_pair_agrees(d):
    assert cx.check(XDC, TOP) == [], cx.check(XDC, TOP)
    assert len(cx.top_ports(TOP)) == 47, "47 port bits: the XDC's pins"


def test_mini_pair_agrees(d):
    assert run(d, MINI_TOP, MINI_XDC) == []


def test_missing_pin(d):
    e = run(d, MINI_TOP, MINI_XDC.replace("[get_ports q]", "[get_ports r]"))
    assert any("'r' names no port" in x for x in e), e
    assert any("port 'q' has no PACKAGE_PIN" in x for x in e), e


def test_bus_bit_out_of_range(d):
    e = run(d, MINI_TOP.replace("[1:0] d", "[0:0] d"), MINI_XDC)
    assert any("'d[1]' names no port" in x and ":3:" in x for x in e), e


def test_wildcard_matching_nothing(d):
    e = run(d, MINI_TOP, MINI_XDC + "set_output_delay -clock clk 1 [get_ports {x[*]}]\n")
    assert len(e) == 1 and "'x[*]' names no port" in e[0], e


def test_exit_status(d):
    t, x = os.path.join(d, "t.sv"), os.path.join(d, "t.xdc")
    open(t, "w").write(MINI_TOP)
    open(x, "w").write(MINI_XDC.replace("PACKAGE_PIN A4", "DRIVE 8"))
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert cx.main(["check", x, t]) == 1
        assert cx.main(["check", XDC, TOP]) == 0
    assert "port 'q' has no PACKAGE_PIN" in out.getvalue()


TESTS = [test_ac701_pair_agrees, test_mini_pair_agrees, test_missing_pin, test_bus_bit_out_of_range,
         test_wildcard_matching_nothing, test_exit_status]

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
