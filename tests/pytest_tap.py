"""Runs a pytest test file as a program, for scripts/run-tests.sh: one TAP line per test
(--tap, tests/conftest.py). Imported by the file's `if __name__ == "__main__"` block before it
imports pytest, so that a python3 without pytest gets here."""
import os
import sys


def main(test_file):
    try:
        import pytest
    except ImportError:
        # Debian's python3-pytest (scripts/deps.sh) belongs to /usr/bin/python3; a python3
        # earlier on PATH (pyenv, a venv) may not have it.
        if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
                os.path.exists("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        print("not ok 1 - pytest is not installed (make deps installs python3-pytest)")
        sys.exit(1)
    # pytest's own report off: its progress dots would run into the TAP lines.
    sys.exit(pytest.main([os.path.abspath(test_file), "--tap", "-p", "no:terminal", "-p", "no:cacheprovider"]))
