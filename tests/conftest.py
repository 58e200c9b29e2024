"""Shared by the pytest suites under tests/ (tests/python, and tests/scripts' test_*.py that use
pytest): the tree's root, the memtile tool of this build, a command run with its output in the
failure, a JSON document written to a file, and --tap (one TAP line per test, for
scripts/run-tests.sh: tests/pytest_tap.py runs a test file under pytest with it)."""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def memtile_tool():
    """The memtile tool: $MEMTILE, else the sanitizer build's, else the release build's."""
    for p in (os.environ.get("MEMTILE"), os.path.join(ROOT, "build", "san", "bin", "memtile"),
              os.path.join(ROOT, "build", "bin", "memtile")):
        if p and os.access(p, os.X_OK):
            return os.path.abspath(p)
    pytest.fail("no memtile binary: build it (make) or set MEMTILE")


@pytest.fixture(scope="session")
def run():
    """run(argv, check=None, timeout=300, **kw): subprocess.run with text output captured; with
    check, the exit status must be that (the failure shows both outputs)."""
    def run_(argv, check=None, timeout=300, **kw):
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw)
        if check is not None:
            assert p.returncode == check, "exit %d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
        return p
    return run_


@pytest.fixture(scope="session")
def write():
    """write(path, doc): the text doc, or doc as JSON, into path; returns the path as a str."""
    def write_(path, doc):
        with open(path, "w", encoding="utf-8") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return str(path)
    return write_


def pytest_addoption(parser):
    parser.addoption("--tap", action="store_true", help="one TAP line per test (scripts/run-tests.sh)")


class _Tap:
    """One TAP line per test; a failure's last 30 lines of report as TAP comments."""

    def __init__(self):
        self.n = 0

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.n += 1
            print("%s %d - %s" % ("ok" if report.passed else "not ok", self.n, report.nodeid), flush=True)
            if report.failed:
                for ln in str(report.longrepr).splitlines()[-30:]:
                    print("# " + ln)


def pytest_configure(config):
    if config.getoption("--tap"):
        config.pluginmanager.register(_Tap(), "tap")
