# SPDX-License-Identifier: GPL-2.0
"""Run a test script's unittest cases and end with the harness's tally.

The Python test scripts of scripts/ (test_gomstat.py, test_fastpath_cost.py)
call run() from their main(): unittest's report goes to standard error, and
the last line on standard output is "N passed, N failed", which
scripts/check.sh counts.
"""
import sys
import unittest


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
