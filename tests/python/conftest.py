"""The binding under test is python/memtile of this tree, on the library of this build
($MEMTILE_LIB, else build/libmemtile.so.0)."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
if not os.environ.get("MEMTILE_LIB"):
    os.environ["MEMTILE_LIB"] = os.path.join(os.environ.get("BUILD", os.path.join(ROOT, "build")),
                                             "libmemtile.so.0")
