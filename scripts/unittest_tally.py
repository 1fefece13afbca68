# SPDX-License-Identifier: GPL-2.0
"""Run a test script's unittest cases and end with the harness's tally.

The Python test scripts of scripts/ (test_gomstat.py, test_fastpath_cost.py,
test_mkreplay.py) call run() from their main(): unittest's report goes to
standard error, and the last line on standard output is "N passed, N
failed", which scripts/check.sh counts. load_script() imports the script
under test, whose name is not a module name.
"""
import importlib.machinery
import importlib.util
import sys
import unittest


def load_script(path, name):
    """Import the Python script at path as module name, leaving no
    __pycache__ in scripts/."""
    sys.dont_write_bytecode = True
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def run(module_name, verbose=False):
    """Run every test case of module_name; 0 if all passed, else 1."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[module_name])
    result = unittest.TextTestRunner(
        verbosity=2 if verbose else 1, stream=sys.stderr).run(suite)
    failed = (len(result.failures) + len(result.errors) +
              len(result.unexpectedSuccesses))
    passed = result.testsRun - failed - len(result.skipped)
    sys.stderr.flush()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main(module_name, argv, usage):
    """A test script's command line: none, or -v; else usage, exit 2."""
    if argv not in ([], ["-v"]):
        sys.stderr.write(usage)
        return 2
    return run(module_name, verbose=bool(argv))
