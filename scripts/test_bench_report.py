#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Tests for scripts/bench-report.py: which figures it checks, and how.

Records as scripts/guest/bench.sh writes them go through the table and
the summary; the answers are worked out by hand from issue 11's targets
(init_on_alloc=0 unless it says otherwise: the hot pair has a target of
its own with Debian's default init_on_alloc=1, up to 1 KiB). Nothing
here needs QEMU, root or anything beyond the standard library.

Usage:
  python3 scripts/test_bench_report.py [-v]   the last line is "N passed,
                                              N failed", exit 0 iff none
                                              failed
"""

import os
import sys
import unittest

import unittest_tally

HERE = os.path.dirname(os.path.abspath(__file__))
br = unittest_tally.load_script(os.path.join(HERE, "bench-report.py"),
                                "bench_report")


def rec(case, size, mode, gom, peer, peer_name="kmalloc"):
    return {"case": case, "size": size, "mode": mode, "gom": gom,
            "peer": peer, "ratio": gom / peer, "unit": "ns/op",
            "peer_name": peer_name}


def misses(recs):
    return sorted((k[0], k[1], m) for k, m, _, _ in br.build(recs)[3])


class Targets(unittest.TestCase):
    def test_hot_by_mode(self):
        # 0.3 misses 0.25 in icount-ioa0 but meets 0.5 in icount-default
        recs = [rec("hot", 64, "icount-ioa0", 30, 100),
                rec("hot", 64, "icount-default", 30, 100)]
        self.assertEqual(misses(recs), [("hot", 64, "icount-ioa0")])
        self.assertEqual(br.build(recs)[4], 2)

    def test_hot_default_up_to_1k(self):
        # with init_on_alloc=1 only sizes up to 1 KiB have a target
        recs = [rec("hot", 1024, "icount-default", 60, 100),
                rec("hot", 2048, "icount-default", 90, 100)]
        self.assertEqual(misses(recs), [("hot", 1024, "icount-default")])
        self.assertEqual(br.build(recs)[4], 1)

    def test_ioa0_only(self):
        # burst, bulk, pages, large and the replay: init_on_alloc=0 only
        recs = []
        for case, peer in (("burst-seq", "kmalloc"), ("bulk-16", "kmem"),
                           ("pages", "alloc_pages"), ("large", "kmalloc"),
                           ("replay", "kmalloc")):
            for mode in ("icount-ioa0", "icount-default", "wall-ioa0"):
                recs.append(rec(case, 4096, mode, 60, 100, peer))
        self.assertEqual(misses(recs), sorted(
            (c, 4096, "icount-ioa0") for c in
            ("burst-seq", "bulk-16", "pages", "large", "replay")))

    def test_large_peer(self):
        # large is held to kmalloc_large, not to alloc_pages_exact
        recs = [rec("large", 65536, "icount-ioa0", 60, 100, "kmalloc"),
                rec("large", 65536, "icount-ioa0", 60, 100, "pages_exact")]
        self.assertEqual(br.build(recs)[4], 1)

    def test_xcpu_wall_ioa0(self):
        recs = [rec("xcpu", 64, "wall-ioa0", 1.4, 1.0),
                rec("xcpu", 64, "wall-default", 1.4, 1.0)]
        self.assertEqual(misses(recs), [("xcpu", 64, "wall-ioa0")])

    def test_profile_both_icount_modes(self):
        recs = [rec("profile", 64, m, 110, 100)
                for m in ("icount-ioa0", "icount-default", "wall-ioa0")]
        self.assertEqual(misses(recs), [("profile", 64, "icount-default"),
                                        ("profile", 64, "icount-ioa0")])

    def test_summary_counts(self):
        recs = [rec("hot", s, "icount-default", r, 100)
                for s, r in ((8, 40), (64, 45), (128, 55), (4096, 99))]
        lines = br.summary(recs)
        self.assertEqual(len(lines), 1)
        self.assertIn("icount-default: 2 of 3 met", lines[0])

    def test_target_column(self):
        table = br.build([rec("hot", 64, "icount-ioa0", 30, 100),
                          rec("hot", 2048, "icount-ioa0", 30, 100)])[1]
        self.assertIn("init_on_alloc=1", table[0][-1])
        self.assertNotIn("init_on_alloc=1", table[1][-1])


if __name__ == "__main__":
    sys.exit(unittest_tally.main(__name__, sys.argv[1:], __doc__))
