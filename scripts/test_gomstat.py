#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Tests for scripts/gomstat against fake /sys/kernel/gomalloc trees.

Every test builds a tree with known numbers in a temporary directory and
runs gomstat on it, as a subprocess with the same interpreter (exit status,
stdout and stderr as a user sees them) or, for the parsers, in-process.
Nothing here needs the module, root or anything beyond the standard library.

Usage:
  python3 scripts/test_gomstat.py [-v]      run the tests; the last line is
                                            "N passed, N failed", exit 0 iff
                                            none failed
  python3 scripts/test_gomstat.py --make-tree DIR
                                            write the sample tree to DIR (for
                                            trying gomstat --root DIR)
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import unittest_tally

HERE = os.path.dirname(os.path.abspath(__file__))
GOMSTAT = os.path.join(HERE, "gomstat")
CLEAR = "\x1b[H\x1b[2J"


def pc(total, **cpus):
    """A per-CPU value as gomstat --json reports it: pc(3, C0=1, C1=2)."""
    return {"total": total, "cpus": {k[1:]: v for k, v in cpus.items()}}


def cls(size, pages, per_span, spans, partial, full, owned, nmin, total,
        inuse, free, cached, allocs, frees, refills, flushes, occupancy,
        empty=0):
    return {
        "object_size": size, "span_pages": pages,
        "objects_per_span": per_span, "spans": spans,
        "spans_partial": partial, "spans_full": full,
        "spans_owned": owned, "spans_min": nmin, "spans_empty": empty,
        "objects_total": total,
        "objects_inuse": inuse, "objects_free": free,
        "objects_cached": cached, "allocs": allocs, "frees": frees,
        "refills": refills, "flushes": flushes, "occupancy": occupancy,
    }


# The sample tree, in the form gomstat --json must give back. Consistent:
# spans = partial + full + owned, sum(occupancy) = spans, objects_total =
# inuse + free + cached = the objects of spans_min minimum spans (the fewest
# pages holding one object) and of the other spans at objects_per_span,
# allocs - frees = inuse, pages_total = pages_inuse + pages_free (80 span
# pages, 16 large, 4 in run caches), per-CPU totals are the sums of the
# CPUs listed (zero CPUs left out), free_blocks adds up to pages_free,
# arenas_by_order to arenas and pages_total, the byte totals match the
# classes, alloc_limited <= alloc_failures; the heap is at 75% of mem_limit.
# The clients are those of HEAP_PROFILE below, objects_inuse <= allocs.
def sample():
    return {
        "alloc_failures": 3,
        "alloc_limited": 2, "debug_reports": 0, "faults_injected": 0,
        "bytes_cached": 36128,
        "bytes_heap": 6291456,
        "bytes_inuse": 293792,
        "classes": {
            # 4 pages, 2048 objects; minimum 1 page, 512 objects
            "8": cls(8, 4, 2048, 4, 1, 2, 1, 1, 6656, 6500, 56,
                     pc(100, C0=64, C1=36),
                     pc(250000, C0=200000, C1=50000),
                     pc(243500, C0=190000, C1=53500),
                     pc(3950, C0=3000, C1=950), pc(3900, C0=2900, C1=1000),
                     [0, 0, 0, 0, 0, 0, 0, 0, 1, 3]),
            "16": cls(16, 4, 1024, 0, 0, 0, 0, 0, 0, 0, 0, pc(0),
                      pc(10, C0=10), pc(10, C0=10), pc(1, C0=1),
                      pc(1, C0=1), [0] * 10),
            # 4 pages, 256 objects; minimum 1 page, 64 objects
            "64": cls(64, 4, 256, 10, 5, 3, 2, 2, 2176, 1400, 736,
                      pc(40, C1=40), pc(5000, C0=2500, C1=2500),
                      pc(3600, C0=3600), pc(90, C0=50, C1=40),
                      pc(80, C0=80), [1, 0, 2, 1, 0, 1, 1, 0, 0, 4]),
            # 4 pages, 23 objects; minimum 1 page, 5 objects
            "704": cls(704, 4, 23, 3, 2, 0, 1, 1, 51, 30, 21, pc(0),
                       pc(30, C0=30), pc(0), pc(3, C0=3), pc(0),
                       [0, 0, 0, 0, 0, 1, 1, 0, 0, 1]),
            "4096": cls(4096, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, pc(0), pc(0),
                        pc(0), pc(0), pc(0), [0] * 10),
            # 16 pages, 2 objects; minimum 8 pages, 1 object
            "32768": cls(32768, 16, 2, 2, 0, 2, 0, 1, 3, 2, 0, pc(1, C1=1),
                         pc(7, C0=3, C1=4), pc(5, C0=5), pc(7, C0=3, C1=4),
                         pc(5, C0=5), [0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
        },
        "double_frees": 1,
        "heap": {
            "arena_bytes": 6291456,
            "arenas": 2,
            "arenas_by_order": [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1],
            "free_blocks": [0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1],
            "grow_fallbacks": 1,
            "grow_failures": 0,
            "large_bytes": 65536,
            "large_spans": 1,
            "pages_free": 1436,
            "pages_inuse": 100,
            "pages_released": 512,
            "pages_total": 1536,
        },
        "invalid_frees": 0,
        "mem_limit": 8388608,
        "metadata_bytes": 20480,
        "stack": {
            "bytes_inuse": 4096,
            "bytes_reserved": 196608,
            "high_water": 65536,
            "segments": 3,
            "stacks": 2,
        },
        "profile_rate": 1,
        "profile_unwinds": 12, "profile_unwinds_saved": 30,
        "clients": {
            "gomalloc_bench": {"bytes_inuse": 131072, "objects_inuse": 1000,
                               "allocs": 2000},
            "gomalloc_sample": {"bytes_inuse": 19712, "objects_inuse": 41,
                                "allocs": 50},
            "kernel": {"bytes_inuse": 64, "objects_inuse": 2, "allocs": 5},
        },
    }


def sysfs_text(v):
    """How the module writes a value: one line, SLUB form for per-CPU."""
    if isinstance(v, dict):
        return str(v["total"]) + "".join(
            f" C{c}={n}" for c, n in v["cpus"].items())
    if isinstance(v, list):
        return " ".join(map(str, v))
    return str(v)


READ_WRITE = {"mem_limit", "profile_rate"}  # 0644; the rest 0444 or 0200


def write_tree(root, tree, shrink=True):
    os.makedirs(root, exist_ok=True)
    for name, v in tree.items():
        p = os.path.join(root, name)
        if isinstance(v, dict) and "total" not in v:
            write_tree(p, v, shrink=False)
        else:
            with open(p, "w") as f:
                f.write(sysfs_text(v) + "\n")
            os.chmod(p, 0o644 if name in READ_WRITE else 0o444)
    if shrink:
        p = os.path.join(root, "shrink")
        with open(p, "w"):
            pass
        os.chmod(p, 0o200)


def load_gomstat():
    return unittest_tally.load_script(GOMSTAT, "gomstat")


def run(*args, env=None):
    e = dict(os.environ)
    # Never the debugfs of the machine running the tests.
    e["GOMSTAT_DEBUGFS"] = "/nonexistent/gomstat-test/gomalloc"
    e.update(env or {})
    p = subprocess.run([sys.executable, GOMSTAT, *args], env=e,
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def rows(out):
    """Parse the class table: {size: (columns before bar, bar, after)}."""
    res = {}
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["SIZE"])
    for ln in lines[start + 1:]:
        if not ln.strip() or "classes shown" in ln:
            break
        before, _, rest = ln.partition("[")
        bar, _, after = rest.partition("]")
        res[before.split()[0]] = (before.split(), bar, after.split())
    return res


def order(out):
    return [k for k in rows(out) if k != "TOTAL"]


class Base(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="gomstat-test-")
        self.tmp = self._tmp.name
        self.root = os.path.join(self.tmp, "sys/kernel/gomalloc")
        self.tree = sample()
        write_tree(self.root, self.tree)

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, rel):
        return os.path.join(self.root, rel)

    def put(self, rel, text):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.exists(p):
            os.chmod(p, 0o644)
        with open(p, "w") as f:
            f.write(text)

    def assertError(self, res, *fragments):
        rc, out, err = res
        self.assertEqual(rc, 2, (out, err))
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertTrue(err.startswith("gomstat: "), err)
        self.assertNotIn("Traceback", err)
        for f in fragments:
            self.assertIn(f, err)


class TestParsers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.g = load_gomstat()

    def test_percpu(self):
        p = self.g.parse_percpu
        self.assertEqual(p("1234 C0=1000 C1=234"),
                         {"total": 1234, "cpus": {"0": 1000, "1": 234}})
        # SLUB leaves idle CPUs out; a UP build prints only the total.
        self.assertEqual(p("7 C3=7\n"), {"total": 7, "cpus": {"3": 7}})
        self.assertEqual(p("42"), {"total": 42, "cpus": {}})
        self.assertEqual(p("5 C0=2 C1=3 N0=5"),
                         {"total": 5, "cpus": {"0": 2, "1": 3},
                          "nodes": {"0": 5}})
        for bad in ("", "x", "12 C0=x", "12 C0", "12 CPU0=1", "12 Cx=1",
                    "12 D0=1", "1.5 C0=1"):
            self.assertIsNone(p(bad), bad)

    def test_parse_value_kinds(self):
        pv = self.g.parse_value
        self.assertEqual(pv("spans", b"17\n", "f"), 17)
        self.assertEqual(pv("allocs", b"9 C1=9\n", "f"),
                         {"total": 9, "cpus": {"1": 9}})
        self.assertEqual(pv("allocs", b"9\n", "f"), {"total": 9, "cpus": {}})
        self.assertEqual(pv("occupancy", b"1 2 3 4 5 6 7 8 9 10\n", "f"),
                         list(range(1, 11)))
        self.assertEqual(pv("free_blocks", b"3 2 1\n", "f"), [3, 2, 1])
        # Unknown files (a newer module) are kept by shape.
        self.assertEqual(pv("newthing", b"5\n", "f"), 5)
        self.assertEqual(pv("newlist", b"5 6\n", "f"), [5, 6])
        self.assertEqual(pv("newpcpu", b"5 C0=5\n", "f"),
                         {"total": 5, "cpus": {"0": 5}})
        self.assertEqual(pv("newtext", b"hello world\n", "f"),
                         "hello world")
        for name, data in (("spans", b"lots\n"), ("spans", b"1 2\n"),
                           ("spans", b""), ("allocs", b"3 C0=one\n"),
                           ("occupancy", b"1 2 3\n"),
                           ("free_blocks", b"1 x\n")):
            with self.assertRaises(self.g.GomstatError, msg=name):
                pv(name, data, "f")

    def test_occupancy_bar(self):
        bar = self.g.occupancy_bar
        self.assertEqual(bar([0] * 10), " " * 10)
        self.assertEqual(bar([0, 0, 0, 0, 0, 0, 0, 0, 0, 4]), " " * 9 + "@")
        # Rounded up, so a bucket with any span is at least '.'.
        self.assertEqual(bar([1, 0, 2, 1, 0, 1, 1, 0, 0, 4]), "- +- --  @")
        self.assertEqual(bar([1, 0, 0, 0, 0, 0, 0, 0, 0, 1000]),
                         ".        @")
        self.assertEqual(bar(None), "?" * 10)

    def test_fmt_bytes(self):
        f = self.g.fmt_bytes
        self.assertEqual(f(None), "-")
        self.assertEqual(f(1023), "1023 B")
        self.assertEqual(f(1536), "1.5 KiB")
        self.assertEqual(f(8388608), "8.0 MiB")


class TestTable(Base):
    def test_rows(self):
        rc, out, err = run("--root", self.root)
        self.assertEqual((rc, err), (0, ""))
        r = rows(out)
        # SIZE PG SPANS PART FULL OWN MIN INUSE FREE CACHED EFF% [bar] ALLOCS
        # EFF%: a minimum span has the fewest pages holding one object, so
        # 8 has 3 spans of 4 pages and one of 1: 6500 * 8 / (13 * 4096).
        self.assertEqual(r["8"], (["8", "4", "4", "1", "2", "1", "1",
                                   "6500", "56", "100", "97.7"],
                                  " " * 8 + "-@", ["250000"]))
        self.assertEqual(r["64"], (["64", "4", "10", "5", "3", "2", "2",
                                    "1400", "736", "40", "64.3"],
                                   "- +- --  @", ["5000"]))
        self.assertEqual(r["704"][0], ["704", "4", "3", "2", "0", "1", "1",
                                       "30", "21", "0", "57.3"])
        # One span of 16 pages and one minimum span of 8.
        self.assertEqual(r["32768"][0], ["32768", "16", "2", "0", "2", "0",
                                         "1", "2", "0", "1", "66.7"])
        # Spans all gone but allocations happened: shown, no efficiency.
        self.assertEqual(r["16"][0], ["16", "4", "0", "0", "0", "0", "0",
                                      "0", "0", "0", "-"])
        # 4096 has neither spans nor activity.
        self.assertNotIn("4096", r)
        self.assertIn("\n5 of 6 classes shown; -a shows the idle ones too\n",
                      out)
        # Totals over all classes; efficiency of all spans together.
        live = 6500 * 8 + 1400 * 64 + 30 * 704 + 2 * 32768
        pages = (3 * 4 + 1) + (8 * 4 + 2 * 1) + (2 * 4 + 1) + (16 + 8)
        self.assertEqual(r["TOTAL"][0] + r["TOTAL"][2],
                         ["TOTAL", "19", "8", "7", "4", "5", "7932", "813",
                          "141", f"{100 * live / (pages * 4096):.1f}",
                          "255047"])

    def test_header(self):
        out = run(self.root)[1]
        head = next(ln for ln in out.splitlines() if "SPANS" in ln)
        self.assertEqual(head.split(),
                         ["SIZE", "PG", "SPANS", "PART", "FULL", "OWN", "MIN",
                          "INUSE", "FREE", "CACHED", "EFF%", "OCCUPANCY",
                          "ALLOCS"])

    def test_all(self):
        rc, out, _ = run("-a", "--root", self.root)
        self.assertEqual(rc, 0)
        self.assertEqual(order(out), ["8", "16", "64", "704", "4096",
                                      "32768"])
        self.assertEqual(rows(out)["4096"][0][2], "0")
        self.assertIn("\n6 of 6 classes shown\n", out)

    def test_summary(self):
        rc, out, _ = run(self.root)
        self.assertEqual(rc, 0)
        self.assertIn(f"gomalloc statistics from {self.root}", out)
        self.assertIn("\nheap:   2 arenas (6.0 MiB), 1536 pages: 100 in use, "
                      "1436 free, 512 released\n"
                      "        arenas by order:      0 0 0 0 0 0 0 0 0 1 1\n"
                      "        free blocks by order: 0 0 1 1 1 0 0 1 1 0 1\n"
                      "        growth: 1 fallbacks, 0 failures; "
                      "large spans: 1 (64.0 KiB)\n"
                      "limit:  8.0 MiB, heap 6.0 MiB (75%)\n"
                      "memory: 286.9 KiB in use, 35.3 KiB cached, "
                      "6.0 MiB heap, 20.0 KiB metadata\n"
                      "errors: 0 invalid frees, 1 double frees, "
                      "3 alloc failures (2 at the limit)\n"
                      "stack:  2 stacks, 3 segments; 4.0 KiB in use, "
                      "192.0 KiB reserved, 64.0 KiB peak\n", out)

    def test_orders_aligned(self):
        # Each order as wide as its widest count in either list.
        self.put("heap/arenas_by_order", "0 0 0 0 0 0 0 0 12 1 1\n")
        self.put("heap/free_blocks", "130 0 1 1 1 0 0 1 1 0 1\n")
        out = run(self.root)[1]
        self.assertIn("\n        arenas by order:        0 0 0 0 0 0 0 0 12 1 1"
                      "\n        free blocks by order: 130 0 1 1 1 0 0 1  1 0 1"
                      "\n", out)

    def test_growth_counters(self):
        self.put("heap/grow_fallbacks", "17\n")
        self.put("heap/grow_failures", "2\n")
        self.assertIn("growth: 17 fallbacks, 2 failures; large spans",
                      run(self.root)[1])

    def test_positional_is_root(self):
        self.assertEqual(run(self.root), run("--root", self.root))
        self.assertEqual(run(self.root + "/"), run(f"--root={self.root}"))

    def test_ascii_width(self):
        rc, out, _ = run(self.root)
        self.assertEqual(rc, 0)
        self.assertTrue(out.isascii())
        lines = out.splitlines()
        self.assertLessEqual(max(map(len, lines)), 80, lines)


class TestLimit(Base):
    """The memory limit line: "limit:  L, heap H (P%)" and its state."""
    HEAP = 6291456          # bytes_heap of the sample, 6 MiB

    def limit_line(self, limit=None, **files):
        if limit is not None:
            self.put("mem_limit", f"{limit}\n")
        for name, text in files.items():
            self.put(name, text)
        rc, out, err = run(self.root)
        self.assertEqual((rc, err), (0, ""))
        lines = [ln for ln in out.splitlines() if ln.startswith("limit:")]
        self.assertLessEqual(len(lines), 1, out)
        return lines[0] if lines else None

    def test_no_limit(self):
        self.assertEqual(self.limit_line(0),
                         "limit:  no limit, heap 6.0 MiB")

    def test_under(self):
        self.assertEqual(self.limit_line(),
                         "limit:  8.0 MiB, heap 6.0 MiB (75%)")
        self.assertEqual(self.limit_line(64 << 20),
                         "limit:  64.0 MiB, heap 6.0 MiB (9%)")

    def test_near(self):
        # Near: past 7/8 of the limit, where the module keeps no reserve.
        edge = self.HEAP * 8 // 7             # heap = limit - limit / 8
        self.assertEqual(edge - edge // 8, self.HEAP)
        self.assertEqual(self.limit_line(edge),
                         "limit:  6.9 MiB, heap 6.0 MiB (88%)")
        self.assertEqual(self.limit_line(edge - 1),
                         "limit:  6.9 MiB, heap 6.0 MiB (88%), "
                         "near the limit")
        self.assertEqual(self.limit_line(6815744),
                         "limit:  6.5 MiB, heap 6.0 MiB (92%), "
                         "near the limit")
        self.assertEqual(self.limit_line(self.HEAP),
                         "limit:  6.0 MiB, heap 6.0 MiB (100%), "
                         "near the limit")

    def test_over(self):
        # A limit set below what the heap holds already.
        self.assertEqual(self.limit_line(4 << 20),
                         "limit:  4.0 MiB, heap 6.0 MiB (150%), "
                         "OVER the limit")
        self.assertEqual(self.limit_line(self.HEAP - 1),
                         "limit:  6.0 MiB, heap 6.0 MiB (100%), "
                         "OVER the limit")

    def test_heap_from_arena_bytes(self):
        os.unlink(self.path("bytes_heap"))
        self.assertEqual(self.limit_line(),
                         "limit:  8.0 MiB, heap 6.0 MiB (75%)")
        os.unlink(self.path("heap/arena_bytes"))
        self.assertEqual(self.limit_line(), "limit:  8.0 MiB, heap -")

    def test_older_module(self):
        os.unlink(self.path("mem_limit"))
        self.assertIsNone(self.limit_line())

    def test_still_shown_after_other_files(self):
        # The limit line sits between the heap block and "memory:".
        out = run(self.root)[1].splitlines()
        i = next(i for i, ln in enumerate(out) if ln.startswith("limit:"))
        self.assertTrue(out[i - 1].startswith("        growth:"), out)
        self.assertTrue(out[i + 1].startswith("memory:"), out)


# The 74 size classes of the module (mod/sizeclasses.h): gomstat counts
# whatever directories it finds and must not assume a number.
SIZES74 = [
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
    240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768,
    832, 896, 960, 1024, 1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
    2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096, 4608, 5120, 5632, 6144,
    6656, 7168, 7680, 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360,
    16384, 18432, 20480, 22528, 24576, 26624, 28672, 30720, 32768,
]


def tree74():
    """A consistent tree of 74 classes, every one busy, big numbers."""
    t = sample()
    classes = {}
    inuse_b = cached_b = pages = 0
    for i, size in enumerate(SIZES74):
        npages = max(4, -(-size * 2 // 4096))
        per = npages * 4096 // size
        mpages = -(-size // 4096)
        mper = mpages * 4096 // size
        spans, nmin, owned, full = 3000 + i, i % 5, 2, 1000
        partial = spans - full - owned
        total = (spans - nmin) * per + nmin * mper
        cached = 7 * i
        free = partial          # one free object per partial span
        inuse = total - free - cached
        allocs = 10 ** 9 + inuse
        classes[str(size)] = cls(
            size, npages, per, spans, partial, full, owned, nmin, total,
            inuse, free, pc(cached, C0=cached), pc(allocs, C1=allocs),
            pc(10 ** 9, C0=10 ** 9), pc(i, C0=i), pc(0),
            [partial, 0, 0, 0, 0, 0, 0, 0, 0, full + owned])
        inuse_b += inuse * size
        cached_b += cached * size
        pages += (spans - nmin) * npages + nmin * mpages
    t["classes"] = classes
    h = t["heap"]
    order = 10
    arenas = -(-pages // (1 << order))
    h["arenas"] = arenas
    h["arenas_by_order"] = [0] * order + [arenas]
    h["pages_total"] = arenas << order
    h["pages_inuse"] = pages
    free = h["pages_total"] - pages
    h["free_blocks"] = [(free >> o) & 1 for o in range(order + 1)]
    h["pages_free"] = free
    h["large_spans"] = h["large_bytes"] = 0
    h["arena_bytes"] = t["bytes_heap"] = h["pages_total"] * 4096
    t["bytes_inuse"] = inuse_b
    t["bytes_cached"] = cached_b
    t["mem_limit"] = 0
    return t


class Test74Classes(Base):
    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "t74")
        self.tree = tree74()
        write_tree(self.root, self.tree)

    def test_check(self):
        self.assertEqual(run("--check", self.root),
                         (0, "gomstat: check: ok (74 classes)\n", ""))

    def test_table(self):
        rc, out, err = run("-a", self.root)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(order(out), [str(s) for s in SIZES74])
        self.assertIn("\n74 of 74 classes shown\n", out)
        self.assertIn("\nlimit:  no limit, heap ", out)
        # Readable on a 100-column terminal even with ten-digit counters.
        self.assertLessEqual(max(map(len, out.splitlines())), 100)

    def test_json(self):
        d = json.loads(run("--json", self.root)[1])
        self.assertEqual(d, self.tree)
        self.assertEqual(len(d["classes"]), 74)

    def test_sort(self):
        out = run("--sort", "spans", self.root)[1]
        self.assertEqual(order(out), [str(s) for s in reversed(SIZES74)])


class TestJson(Base):
    def test_round_trip(self):
        rc, out, err = run("--json", "--root", self.root)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(json.loads(out), self.tree)

    def test_class_order_numeric(self):
        out = run("-j", self.root)[1]
        self.assertEqual(list(json.loads(out)["classes"]),
                         ["8", "16", "64", "704", "4096", "32768"])

    def test_new_fields(self):
        # The files of span-owning mcaches, minimum spans, arena fallback
        # and mem_limit, each with its type.
        d = json.loads(run("-j", self.root)[1])
        for k, v in (("alloc_limited", 2), ("mem_limit", 8388608)):
            self.assertEqual(d[k], v)
        h = d["heap"]
        self.assertEqual(h["arenas_by_order"],
                         [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
        self.assertEqual((h["grow_fallbacks"], h["grow_failures"]), (1, 0))
        c = d["classes"]["64"]
        self.assertEqual((c["spans_owned"], c["spans_min"],
                          c["objects_total"]), (2, 2, 2176))
        for name, c in d["classes"].items():
            for k in ("spans_owned", "spans_min", "objects_total"):
                self.assertIsInstance(c[k], int, (name, k))

    def test_new_fields_parse_strictly(self):
        for rel, text in (("classes/8/spans_owned", "1 C0=1\n"),
                          ("classes/8/objects_total", "lots\n"),
                          ("heap/arenas_by_order", "1 x\n"),
                          ("heap/grow_failures", "-\n"),
                          ("mem_limit", "64M\n"),
                          ("alloc_limited", "1 2\n")):
            old = open(self.path(rel)).read()
            self.put(rel, text)
            self.assertError(run("-j", self.root), self.path(rel),
                             "cannot parse")
            self.put(rel, old)

    def test_shrink_not_read(self):
        self.assertNotIn("shrink", json.loads(run("-j", self.root)[1]))

    def test_unknown_files_kept(self):
        self.put("classes/8/new_counter", "5\n")
        self.put("heap/new_note", "hello world\n")
        self.put("newdir/x", "1 C0=1\n")
        rc, out, _ = run("--json", self.root)
        self.assertEqual(rc, 0)
        d = json.loads(out)
        self.assertEqual(d["classes"]["8"]["new_counter"], 5)
        self.assertEqual(d["heap"]["new_note"], "hello world")
        self.assertEqual(d["newdir"]["x"], {"total": 1, "cpus": {"0": 1}})
        self.assertEqual(run(self.root)[0], 0)

    def test_needs_no_class_files(self):
        # JSON reports what is there; only the table needs spans.
        os.unlink(self.path("classes/64/spans"))
        rc, out, _ = run("--json", self.root)
        self.assertEqual(rc, 0)
        self.assertNotIn("spans", json.loads(out)["classes"]["64"])

    def test_unparseable(self):
        self.put("heap/pages_free", "many\n")
        self.assertError(run("--json", self.root),
                         self.path("heap/pages_free"), "cannot parse")


class TestErrors(Base):
    def test_module_not_loaded(self):
        missing = os.path.join(self.tmp, "sys/kernel/nothere")
        for args in ((), ("--json",), ("--snapshot", self.tmp + "/s"),
                     ("--check",), ("-a", "-s", "spans")):
            self.assertError(run(*args, env={"GOMSTAT_SYSFS": missing}),
                             missing, "is the gomalloc module loaded?")

    def test_sysfs_not_mounted(self):
        missing = os.path.join(self.tmp, "nosys/kernel/gomalloc")
        self.assertError(run(env={"GOMSTAT_SYSFS": missing}),
                         "is sysfs mounted?")

    def test_default_root_env(self):
        self.assertEqual(run(env={"GOMSTAT_SYSFS": self.root})[0], 0)

    def test_root_missing(self):
        self.assertError(run("--root", self.tmp + "/none"),
                         self.tmp + "/none", "no such directory")
        self.assertError(run(self.path("bytes_inuse")), "not a directory")

    def test_missing_needed_file(self):
        for rel in ("classes/64/spans", "classes/64/objects_inuse",
                    "classes/64/span_pages"):
            os.chmod(self.path(rel), 0o644)
            os.rename(self.path(rel), self.path(rel) + ".off")
            self.assertError(run(self.root), self.path(rel), "missing")
            os.rename(self.path(rel) + ".off", self.path(rel))
        self.assertEqual(run(self.root)[0], 0)

    def test_missing_classes_dir(self):
        os.rename(self.path("classes"), self.path("old"))
        self.assertError(run(self.root), self.path("classes"), "missing")

    def test_older_module(self):
        # Files an older module lacks are shown as "-" or left out.
        for c in self.tree["classes"]:
            for f in ("objects_cached", "spans_partial", "object_size"):
                os.unlink(self.path(f"classes/{c}/{f}"))
        os.unlink(self.path("classes/64/occupancy"))
        os.unlink(self.path("heap/pages_released"))
        os.unlink(self.path("bytes_cached"))
        for f in os.listdir(self.path("stack")):
            os.unlink(self.path("stack/" + f))
        os.rmdir(self.path("stack"))
        rc, out, err = run(self.root)
        self.assertEqual((rc, err), (0, ""))
        r = rows(out)
        self.assertEqual(r["64"], (["64", "4", "10", "-", "3", "2", "2",
                                    "1400", "736", "-", "64.3"], "?" * 10,
                                   ["5000"]))
        self.assertIn("1436 free, - released", out)
        self.assertIn("- cached", out)
        self.assertNotIn("stack:", out)
        # Per-CPU files from a UP (or older) build: a bare total.
        self.put("classes/8/allocs", "250000\n")
        self.assertEqual(rows(run(self.root)[1])["8"][2], ["250000"])

    def test_zero_object_size(self):
        # Nonsense, but no traceback: the table shows it, --check says so.
        self.put("classes/64/object_size", "0\n")
        rc, out, err = run(self.root)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(rows(out)["0"][0][-1], "-")
        rc, out, err = run("--check", self.root)
        self.assertEqual((rc, err), (1, ""))
        self.assertIn("classes/64: object_size 0 != directory name", out)

    def test_module_before_mem_limit(self):
        # The layout before span-owning mcaches, minimum spans and
        # mem_limit: those columns and lines show "-" or are left out.
        for c in self.tree["classes"]:
            for f in ("spans_owned", "spans_min", "objects_total"):
                os.unlink(self.path(f"classes/{c}/{f}"))
        for f in ("heap/arenas_by_order", "heap/grow_fallbacks",
                  "heap/grow_failures", "alloc_limited", "mem_limit"):
            os.unlink(self.path(f))
        rc, out, err = run(self.root)
        self.assertEqual((rc, err), (0, ""))
        r = rows(out)
        # Without spans_min every span counts at span_pages.
        self.assertEqual(r["8"][0], ["8", "4", "4", "1", "2", "-", "-",
                                     "6500", "56", "100",
                                     f"{100 * 6500 * 8 / (16 * 4096):.1f}"])
        self.assertEqual(r["TOTAL"][0][:6], ["TOTAL", "19", "8", "7", "-",
                                             "-"])
        self.assertNotIn("limit:", out)
        self.assertNotIn("arenas by order", out)
        self.assertNotIn("growth:", out)
        self.assertIn("\n        free blocks by order: 0 0 1 1 1 0 0 1 1 0 1\n"
                      "        large spans: 1 (64.0 KiB)\n", out)
        self.assertIn("3 alloc failures\n", out)
        self.assertEqual(json.loads(run("-j", self.root)[1])["classes"]["8"]
                         .get("spans_owned", "absent"), "absent")

    def test_unparseable(self):
        for rel, text in (("classes/8/spans", "lots\n"),
                          ("classes/8/allocs", "12 C0=x\n"),
                          ("classes/8/occupancy", "1 2 3 4 5 6 7 8 9\n"),
                          ("invalid_frees", "0x10\n")):
            old = open(self.path(rel)).read()
            self.put(rel, text)
            self.assertError(run(self.root), self.path(rel), "cannot parse")
            self.put(rel, old)
        self.assertEqual(run(self.root)[0], 0)

    def test_bad_usage(self):
        for args in (("--bogus",), ("-w",), ("-w", "0"), ("-w", "soon"),
                     ("--json", "--snapshot", "x"), ("--check", "-j"),
                     ("-w", "1", "--check"), ("a", "b"),
                     ("--root", "a", "b"), ("--root=",)):
            self.assertError(run(*args), "try --help")

    def test_help(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("usage: gomstat"))
        for opt in ("--all", "--sort", "--watch", "--json", "--snapshot",
                    "--check", "--root"):
            self.assertIn(opt, out)


class TestSnapshot(Base):
    def test_copy_and_read_back(self):
        snap = os.path.join(self.tmp, "snap")
        rc, out, err = run("--snapshot", snap, "--root", self.root)
        self.assertEqual((rc, err), (0, ""))
        n = sum(len(f) for _, _, f in os.walk(self.root)) - 1  # no shrink
        self.assertEqual(out, f"gomstat: saved {n} files from {self.root} "
                              f"to {snap}\n")
        # Plain files with the same bytes; shrink is write-only: not copied.
        for dirpath, _, files in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            for f in files:
                dst = os.path.join(snap, rel, f)
                if f == "shrink":
                    self.assertFalse(os.path.exists(dst))
                    continue
                with open(os.path.join(dirpath, f), "rb") as a, \
                     open(dst, "rb") as b:
                    self.assertEqual(a.read(), b.read(), dst)
        # mem_limit (0644) is a value like the others; shrink is not.
        with open(os.path.join(snap, "mem_limit")) as f:
            self.assertEqual(f.read(), "8388608\n")
        # Read back: same numbers, same table.
        self.assertEqual(run("--json", snap), run("--json", self.root))
        a, b = run(snap)[1], run(self.root)[1]
        self.assertEqual(a.splitlines()[1:], b.splitlines()[1:])
        self.assertEqual(run("--check", snap)[0], 0)

    def test_snapshot_of_snapshot(self):
        s1, s2 = self.tmp + "/s1", self.tmp + "/s2"
        self.assertEqual(run("--snapshot", s1, self.root)[0], 0)
        self.assertEqual(run("--snapshot", s2, "--root", s1)[0], 0)
        self.assertEqual(run("-j", s2), run("-j", self.root))

    def test_empty_dir_ok(self):
        snap = os.path.join(self.tmp, "empty")
        os.mkdir(snap)
        self.assertEqual(run("--snapshot", snap, self.root)[0], 0)

    def test_refuses_non_empty(self):
        snap = os.path.join(self.tmp, "full")
        os.mkdir(snap)
        open(os.path.join(snap, "old"), "w").close()
        self.assertError(run("--snapshot", snap, self.root), snap,
                         "not empty")
        self.assertError(run("--snapshot", self.path("bytes_inuse"),
                             self.root),
                         "not a directory")

    def test_default_root(self):
        snap = os.path.join(self.tmp, "snap")
        rc, _, _ = run("--snapshot", snap, env={"GOMSTAT_SYSFS": self.root})
        self.assertEqual(rc, 0)
        self.assertEqual(run("-j", snap), run("-j", self.root))


class TestCheck(Base):
    def test_ok(self):
        rc, out, err = run("--check", self.root)
        self.assertEqual((rc, out, err),
                         (0, "gomstat: check: ok (6 classes)\n", ""))

    # Each change breaks exactly one stated relation of the sample tree.
    BREAK = (
        ("classes/64/spans_full", "4",
         "classes/64: spans 10 != spans_partial 5 + spans_full 4 + "
         "spans_owned 2"),
        ("classes/704/occupancy", "0 0 0 0 0 0 0 0 1 1",
         "classes/704: sum(occupancy) 2 != spans 3"),
        ("classes/16/objects_free", "1",
         "classes/16: objects_total 0 != objects_inuse 0 + objects_free 1 + "
         "objects_cached 0"),
        ("classes/8/allocs", "250001 C0=200000 C1=50000",
         "classes/8/allocs: total 250001 != sum of CPUs 250000"),
        ("classes/8/spans_owned", "2",
         "classes/8: spans 4 != spans_partial 1 + spans_full 2 + "
         "spans_owned 2"),
        ("classes/8/spans", "5",
         "classes/8: spans 5 != spans_partial 1 + spans_full 2 + "
         "spans_owned 1\n"
         "gomstat: check: classes/8: sum(occupancy) 4 != spans 5\n"
         "gomstat: check: classes/8: objects_total 6656 != (spans 5 - "
         "spans_min 1) * objects_per_span 2048 + spans_min * 512 = 8704"),
        ("classes/64/objects_cached", "41 C1=41",
         "classes/64: objects_total 2176 != objects_inuse 1400 + "
         "objects_free 736 + objects_cached 41\n"
         "gomstat: check: bytes_cached 36128 != sum of objects_cached * "
         "object_size 36192"),
        ("classes/704/spans_min", "0",
         "classes/704: objects_total 51 != (spans 3 - spans_min 0) * "
         "objects_per_span 23 + spans_min * 5 = 69"),
        ("classes/32768/spans_min", "2",
         "classes/32768: objects_total 3 != (spans 2 - spans_min 2) * "
         "objects_per_span 2 + spans_min * 1 = 2"),
        ("classes/32768/spans_min", "3",
         "classes/32768: spans_min 3 > spans 2"),
        ("classes/8/spans_empty", "2",
         "classes/8: spans_empty 2 > spans_partial 1"),
        ("classes/4096/object_size", "4095",
         "classes/4096: object_size 4095 != directory name"),
        ("heap/pages_inuse", "101",
         "heap: pages_total 1536 != pages_inuse 101 + pages_free 1436"),
        ("heap/free_blocks", "0 0 1 1 1 0 0 1 1 0 0",
         "heap: pages in free_blocks 412 != pages_free 1436"),
        ("heap/arena_bytes", "4194304",
         "heap: arena_bytes 4194304 != pages_total * 4096 6291456\n"
         "gomstat: check: bytes_heap 6291456 != heap/arena_bytes 4194304"),
        ("heap/arenas", "3",
         "heap: sum(arenas_by_order) 2 != arenas 3"),
        ("heap/arenas_by_order", "0 0 0 0 0 0 0 0 2 0 1",
         "heap: sum(arenas_by_order) 3 != arenas 2"),
        ("heap/arenas_by_order", "0 0 0 0 0 0 0 0 1 0 1",
         "heap: pages in arenas_by_order 1280 != pages_total 1536"),
        ("heap/arenas_by_order", "0 0 0 0 0 0 0 0 0 1 1 0",
         "heap: arenas_by_order has 12 orders, free_blocks 11"),
        ("bytes_heap", "4194304",
         "bytes_heap 4194304 != heap/arena_bytes 6291456"),
        ("bytes_cached", "0",
         "bytes_cached 0 != sum of objects_cached * object_size 36128"),
        ("bytes_inuse", "228256",
         "bytes_inuse 228256 != sum of objects_inuse * object_size 228256 + "
         "heap/large_bytes 65536"),
        ("alloc_limited", "4",
         "alloc_limited 4 > alloc_failures 3"),
        ("clients/gomalloc_sample/objects_inuse", "51",
         "clients/gomalloc_sample: objects_inuse 51 > allocs 50"),
    )

    def test_violations(self):
        for rel, text, msg in self.BREAK:
            old = open(self.path(rel)).read()
            self.put(rel, text + "\n")
            rc, out, err = run("--check", self.root)
            self.assertEqual((rc, out, err),
                             (1, f"gomstat: check: {msg}\n", ""), rel)
            self.put(rel, old)
        self.assertEqual(run("--check", self.root)[0], 0)

    def test_every_relation_broken(self):
        # Every relation the ABI document states has a case above.
        msgs = "\n".join(m for _, _, m in self.BREAK)
        for what in ("spans_owned", "sum(occupancy)", "objects_total",
                     "sum of CPUs", "spans_min *", "spans_min 3 > spans",
                     "directory name", "heap: pages_total",
                     "free_blocks 412", "pages_total * 4096",
                     "sum(arenas_by_order)", "pages in arenas_by_order",
                     "orders, free_blocks", "bytes_heap", "bytes_cached",
                     "bytes_inuse", "alloc_limited", "> allocs"):
            self.assertIn(what, msgs)

    def test_mem_limit_is_no_relation(self):
        # A heap over its limit is a state (the limit was lowered), not a
        # broken relation; a limit of 0 is no limit.
        for limit in ("1", "0", "4096"):
            self.put("mem_limit", limit + "\n")
            self.assertEqual(run("--check", self.root)[0], 0, limit)

    def test_all_reported(self):
        for rel, text, _ in self.BREAK[:4]:
            self.put(rel, text + "\n")
        rc, out, _ = run("--check", self.root)
        self.assertEqual(rc, 1)
        self.assertEqual(len(out.splitlines()), 4, out)

    def test_missing_files_skipped(self):
        for rel in ("classes/64/spans_full", "heap/free_blocks",
                    "bytes_cached", "classes/8/objects_cached",
                    "classes/704/spans_owned", "classes/32768/spans_min",
                    "heap/arenas", "heap/pages_total"):
            os.unlink(self.path(rel))
        self.put("bytes_inuse", "1\n")     # needs every class: skipped too
        self.put("classes/704/spans_partial", "7\n")   # needs spans_owned
        self.put("classes/32768/objects_total", "5\n")
        self.put("classes/32768/objects_free", "2\n")
        self.assertEqual(run("--check", self.root), (
            0, "gomstat: check: ok (6 classes)\n", ""))


def legacy_sample():
    """The sample as a module before span-owning mcaches, minimum spans and
    mem_limit would show it: every span in a list and of objects_per_span
    objects, spans = partial + full."""
    t = sample()
    for name, c in t["classes"].items():
        c["spans_partial"] += c.pop("spans_owned")
        del c["spans_min"], c["objects_total"]
        c["objects_free"] = (c["spans"] * c["objects_per_span"] -
                             c["objects_inuse"] - c["objects_cached"]["total"])
    for k in ("arenas_by_order", "grow_fallbacks", "grow_failures"):
        del t["heap"][k]
    del t["alloc_limited"], t["mem_limit"], t["profile_rate"], t["clients"]
    return t


class TestCheckLegacy(Base):
    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "legacy")
        write_tree(self.root, legacy_sample())

    def test_ok(self):
        self.assertEqual(run("--check", self.root),
                         (0, "gomstat: check: ok (6 classes)\n", ""))
        self.assertEqual(run(self.root)[0], 0)

    def test_violations(self):
        for rel, text, msg in (
                ("classes/64/spans_full", "4",
                 "classes/64: spans 10 != spans_partial 7 + spans_full 4"),
                ("classes/64/objects_free", "1",
                 "classes/64: spans * objects_per_span 2560 != "
                 "objects_inuse 1400 + objects_free 1 + objects_cached 40")):
            old = open(self.path(rel)).read()
            self.put(rel, text + "\n")
            self.assertEqual(run("--check", self.root),
                             (1, f"gomstat: check: {msg}\n", ""), rel)
            self.put(rel, old)


def sigint_default():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class TestWatch(Base):
    def watch(self, *args, until):
        # Ctrl-C as a terminal sends it: a shell without job control
        # starts background commands with SIGINT ignored, and Python
        # then raises no KeyboardInterrupt.
        p = subprocess.Popen([sys.executable, GOMSTAT, *args, self.root],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=sigint_default)
        buf = b""
        deadline = time.monotonic() + 20
        try:
            while not until(buf.decode()) and time.monotonic() < deadline:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
            p.send_signal(signal.SIGINT)
            rest, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return p.returncode, buf.decode() + rest.decode(), err.decode()

    def test_redraw_and_ctrl_c(self):
        rc, out, err = self.watch("--watch", "0.1",
                                  until=lambda s: s.count(CLEAR) >= 3)
        self.assertEqual((rc, err), (0, ""))
        frames = out.split(CLEAR)[1:]
        self.assertGreaterEqual(len(frames), 3)
        self.assertTrue(frames[0].startswith("Every 0.1s: gomstat "))
        self.assertEqual(rows(frames[0]), rows(run(self.root)[1]))

    def test_json_lines(self):
        rc, out, err = self.watch(
            "-j", "-w", "0.1", until=lambda s: s.count("\n") >= 2)
        self.assertEqual((rc, err), (0, ""))
        self.assertNotIn(CLEAR, out)
        docs = [json.loads(ln) for ln in out.splitlines() if ln.strip()]
        self.assertGreaterEqual(len(docs), 2)
        for d in docs:
            self.assertEqual(d, self.tree)

    def test_module_unloaded(self):
        p = subprocess.Popen([sys.executable, GOMSTAT, "-w", "0.1",
                              self.root], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            p.stdout.readline()
            os.rename(self.root, self.root + ".gone")
            _, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn(self.root, err)


class TestProfileFiles(Base):
    """profile_rate and clients/<module>/ in the tree, the summary and
    --check."""
    def line(self):
        out = run(self.root)[1].splitlines()
        found = [ln for ln in out if ln.startswith("profile:")]
        return found[0] if found else None

    def test_line(self):
        self.assertEqual(self.line(), "profile: every allocation; 3 clients, "
                         "147.3 KiB live (estimated)")
        self.put("profile_rate", "524288\n")
        self.assertEqual(self.line(), "profile: a sample every 512.0 KiB on "
                         "average; 3 clients, 147.3 KiB live (estimated)")
        self.put("profile_rate", "0\n")
        self.assertEqual(self.line(), "profile: off (profile_rate 0)")
        os.unlink(self.path("profile_rate"))
        self.assertIsNone(self.line())

    def test_after_stack_line(self):
        out = run(self.root)[1].splitlines()
        i = next(i for i, ln in enumerate(out) if ln.startswith("profile:"))
        self.assertTrue(out[i - 1].startswith("stack:"), out)

    def test_json_integers(self):
        d = json.loads(run("-j", self.root)[1])
        self.assertEqual(d["clients"], self.tree["clients"])
        self.assertEqual(d["profile_rate"], 1)

    def test_check(self):
        self.put("clients/kernel/objects_inuse", "6\n")
        self.assertEqual(run("--check", self.root), (
            1, "gomstat: check: clients/kernel: objects_inuse 6 > allocs 5\n",
            ""))


# ---------------------------------------------------------------------------
# The heap profile: debugfs heap_profile, heap_folded, span_ages and the
# clients/ directories.

# As the module writes them (from a QEMU guest, profile_rate 1, with
# gomalloc_sample loaded; a bench stack and a built-in caller added).
# Consistent with sample()'s clients/: per module the live bytes, objects
# and allocations of its stacks add up to its files.
HEAP_PROFILE = """\
heap profile: rate 1, 7 stacks, estimated live 1043 objects, 150848 bytes
# live_objects live_bytes alloc_objects alloc_bytes module
1000 131072 2000 262144 gomalloc_bench
\tgom_bench_mem+0x166/0x220 [gomalloc_bench]
\t0xffffffffc03c030b
\tdo_one_initcall+0x56/0x220
\tdo_init_module+0x4a/0x1f0
1 16384 1 16384 gomalloc_sample
\t0xffffffffc03bc024
\tdo_one_initcall+0x56/0x220
\tdo_init_module+0x4a/0x1f0
8 1536 16 3072 gomalloc_sample
\tbulk_take+0x21/0x71 [gomalloc_sample]
\t0xffffffffc03bc051
\tdo_one_initcall+0x56/0x220
\tdo_init_module+0x4a/0x1f0
16 896 16 896 gomalloc_sample
\trecords_build+0x7c/0xff [gomalloc_sample]
\t0xffffffffc03bc00b
\tdo_one_initcall+0x56/0x220
\tdo_init_module+0x4a/0x1f0
16 896 16 896 gomalloc_sample
\trecords_build+0x2f/0xff [gomalloc_sample]
\t0xffffffffc03bc00b
\tdo_one_initcall+0x56/0x220
\tdo_init_module+0x4a/0x1f0
2 64 5 160 kernel
\tsome_builtin+0x10/0x40
\tkthread+0xe8/0x110
\tret_from_fork+0x1f/0x30
0 0 1 2048 gomalloc_sample
\tframe_work+0x1d/0x93 [gomalloc_sample]
\t0xffffffffc03bc05c
\tdo_one_initcall+0x56/0x220
\tdo_init_module+0x4a/0x1f0
"""

INIT = "[gomalloc_sample];do_init_module;do_one_initcall;"
HEAP_FOLDED = (
    "[gomalloc_bench];do_init_module;do_one_initcall;0xffffffffc03c030b;"
    "gom_bench_mem [gomalloc_bench] 131072\n"
    + INIT + "0xffffffffc03bc024 16384\n"
    + INIT + "0xffffffffc03bc051;bulk_take [gomalloc_sample] 1536\n"
    + INIT + "0xffffffffc03bc00b;records_build [gomalloc_sample] 896\n"
    + INIT + "0xffffffffc03bc00b;records_build [gomalloc_sample] 896\n"
    "[kernel];ret_from_fork;kthread;some_builtin 64\n")

SPAN_AGES = """\
 class   size   spans   age_min_ms   age_med_ms   age_max_ms  life_avg_ms    sampled
     6     64       1         1428         1428         1428            0          0
    14    192       3          688        61308      4000000          856          8
    42   2048       0            -            -            -           12          1
     0      0       0            -            -            -         2500          2
"""

DEBUG_FILES = {"heap_profile": HEAP_PROFILE, "heap_folded": HEAP_FOLDED,
               "span_ages": SPAN_AGES}


def with_rate(text, rate):
    """HEAP_PROFILE with another rate in its header."""
    return text.replace("heap profile: rate 1,", f"heap profile: rate {rate},",
                        1)


def stack_rows(out):
    """The stack lines of gomstat profile: [(#, live bytes, live%, live
    objects, allocs, alloc bytes, module, [frames])]."""
    res = []
    for ln in out.splitlines():
        t = ln.split()
        if ln.startswith("        ") and res:
            res[-1][7].append(ln.strip())
        elif len(t) == 7 and t[0].isdigit():
            res.append((int(t[0]), int(t[1]), t[2], int(t[3]), int(t[4]),
                        int(t[5]), t[6], []))
    return res


class ProfileBase(Base):
    """The sample tree with the debugfs files at the default place
    (GOMSTAT_DEBUGFS) and in the tree's debugfs/ (--root)."""
    def setUp(self):
        super().setUp()
        self.dbg = os.path.join(self.tmp, "sys/kernel/debug/gomalloc")
        self.snapdbg = os.path.join(self.root, "debugfs")
        for d in (self.dbg, self.snapdbg):
            for name, text in DEBUG_FILES.items():
                self.put_debug(name, text, d)
        self.env = {"GOMSTAT_SYSFS": self.root, "GOMSTAT_DEBUGFS": self.dbg}

    def put_debug(self, name, text, d=None):
        d = d or self.dbg
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "w") as f:
            f.write(text)

    def live(self, *args):
        """gomstat ARGS on the default (live) paths."""
        return run(*args, env=self.env)


class TestProfileParse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.g = load_gomstat()

    def test_heap_profile(self):
        p = self.g.parse_heap_profile(HEAP_PROFILE)
        self.assertEqual((p["rate"], p["live_objects"], p["live_bytes"]),
                         (1, 1043, 150848))
        self.assertEqual(len(p["stacks"]), 7)
        s = p["stacks"][2]
        self.assertEqual((s["live_objects"], s["live_bytes"],
                          s["alloc_objects"], s["alloc_bytes"], s["module"]),
                         (8, 1536, 16, 3072, "gomalloc_sample"))
        self.assertEqual(s["frames"], [
            "bulk_take+0x21/0x71 [gomalloc_sample]", "0xffffffffc03bc051",
            "do_one_initcall+0x56/0x220", "do_init_module+0x4a/0x1f0"])
        # The header and the stacks agree.
        self.assertEqual(sum(s["live_bytes"] for s in p["stacks"]), 150848)
        self.assertEqual(sum(s["live_objects"] for s in p["stacks"]), 1043)

    def test_heap_profile_empty(self):
        p = self.g.parse_heap_profile(
            "heap profile: rate 524288, 0 stacks, estimated live 0 objects, "
            "0 bytes\n# live_objects live_bytes alloc_objects alloc_bytes "
            "module\n")
        self.assertEqual((p["rate"], p["stacks"]), (524288, []))

    def test_heap_profile_malformed(self):
        head = HEAP_PROFILE.split("\n", 1)[0]
        for bad, what in (
                ("", "cannot parse"),
                ("heap profile: rate x, 0 stacks, estimated live 0 objects, "
                 "0 bytes\n", "cannot parse"),
                ("heap profile: rate 1, 0 stacks\n", "cannot parse"),
                ("heap profile: rate 1, 0 stacks, live 0 objects, 0 bytes\n",
                 "cannot parse"),
                ("heap profile: rate -1, 0 stacks, estimated live 0 objects, "
                 "0 bytes\n", "cannot parse"),
                (head + "\n\tframe_before_stack+0x1/0x2\n", ":2: cannot parse"),
                (head + "\n1 2 3 gomalloc_sample\n", ":2: cannot parse"),
                (head + "\n1 2 3 x4 gomalloc_sample\n", ":2: cannot parse"),
                (head + "\n1 2 3 4 a b\n", ":2: cannot parse"),
                (head + "\n1 2 3 4 kernel\n", "1 stacks, the header says 7")):
            with self.assertRaises(self.g.GomstatError, msg=bad) as cm:
                self.g.parse_heap_profile(bad, "hp")
            self.assertIn(what, str(cm.exception))

    def test_span_ages(self):
        rows = self.g.parse_span_ages(SPAN_AGES)
        self.assertEqual([r["class"] for r in rows], [6, 14, 42, 0])
        self.assertEqual(rows[1], {"class": 14, "size": 192, "spans": 3,
                                   "age_min_ms": 688, "age_med_ms": 61308,
                                   "age_max_ms": 4000000, "life_avg_ms": 856,
                                   "sampled": 8})
        self.assertEqual((rows[2]["age_min_ms"], rows[2]["spans"]), (None, 0))
        head = SPAN_AGES.split("\n", 1)[0]
        for bad in ("class size spans\n", head + "\n 1 8 1 2 3\n",
                    head + "\n 1 8 - 2 3 4 5 6\n", head + "\n 1 8 1 2 3 4 5 x\n"):
            with self.assertRaises(self.g.GomstatError, msg=bad):
                self.g.parse_span_ages(bad)

    def test_fmt_ms(self):
        f = self.g.fmt_ms
        self.assertEqual([f(None), f(0), f(999), f(1428), f(61308),
                          f(4000000), f(90000000)],
                         ["-", "0ms", "999ms", "1.43s", "1m01s", "1h06m",
                          "1d01h"])

    def test_rate_text(self):
        r = self.g.rate_text
        self.assertEqual([r(0), r(1), r(524288), r(4096)],
                         ["off", "every allocation",
                          "a sample every 512.0 KiB on average",
                          "a sample every 4.0 KiB on average"])


class TestProfile(ProfileBase):
    def test_top_stacks(self):
        rc, out, err = self.live("profile")
        self.assertEqual((rc, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0], "heap profile from " +
                         os.path.join(self.dbg, "heap_profile"))
        self.assertEqual(lines[1], "rate 1 (every allocation): 7 stacks, "
                         "estimated live 1043 objects, 150848 bytes "
                         "(147.3 KiB)")
        self.assertEqual(lines[2], "showing 6 of 6 stacks with live bytes, "
                         "most live bytes first")
        self.assertEqual(lines[4].split(), ["#", "LIVE_BYTES", "LIVE%",
                                            "LIVE_OBJS", "ALLOCS",
                                            "ALLOC_BYTES", "MODULE"])
        r = stack_rows(out)
        self.assertEqual([x[:7] for x in r], [
            (1, 131072, "86.9%", 1000, 2000, 262144, "gomalloc_bench"),
            (2, 16384, "10.9%", 1, 1, 16384, "gomalloc_sample"),
            (3, 1536, "1.0%", 8, 16, 3072, "gomalloc_sample"),
            (4, 896, "0.6%", 16, 16, 896, "gomalloc_sample"),
            (5, 896, "0.6%", 16, 16, 896, "gomalloc_sample"),
            (6, 64, "0.0%", 2, 5, 160, "kernel")])
        self.assertEqual(r[3][7], ["records_build+0x7c/0xff [gomalloc_sample]",
                                   "0xffffffffc03bc00b",
                                   "do_one_initcall+0x56/0x220",
                                   "do_init_module+0x4a/0x1f0"])
        self.assertTrue(out.isascii())

    def test_sorted_by_live_bytes(self):
        # The kernel sorts; gomstat does not rely on it.
        head, blocks = [], []
        for ln in HEAP_PROFILE.splitlines(keepends=True):
            if ln[:1].isdigit():
                blocks.append(ln)
            elif ln.startswith("\t"):
                blocks[-1] += ln
            else:
                head.append(ln)
        self.put_debug("heap_profile", "".join(head + blocks[::-1]))
        r = stack_rows(self.live("profile")[1])
        self.assertEqual([x[1] for x in r], [131072, 16384, 1536, 896, 896,
                                             64])

    def test_module(self):
        rc, out, _ = self.live("profile", "--module", "gomalloc_sample")
        self.assertEqual(rc, 0)
        self.assertIn("\nmodule gomalloc_sample: 5 stacks, estimated live 41 "
                      "objects, 19712 bytes (19.2 KiB)\n"
                      "showing 4 of 4 stacks with live bytes", out)
        r = stack_rows(out)
        self.assertEqual([x[1] for x in r], [16384, 1536, 896, 896])
        self.assertEqual({x[6] for x in r}, {"gomalloc_sample"})
        self.assertNotIn("gom_bench_mem", out)
        self.assertNotIn("some_builtin", out)
        # The module's live bytes are its clients/ bytes_inuse.
        c = self.tree["clients"]
        for m in c:
            r = stack_rows(self.live("profile", "-m", m, "-n", "0")[1])
            self.assertEqual(sum(x[1] for x in r), c[m]["bytes_inuse"], m)
            self.assertEqual(sum(x[3] for x in r), c[m]["objects_inuse"], m)
        r = stack_rows(self.live("profile", "--module=kernel")[1])
        self.assertEqual([x[6] for x in r], ["kernel"])

    def test_module_without_stacks(self):
        rc, out, err = self.live("profile", "-m", "nosuch")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(stack_rows(out), [])
        self.assertIn("no stack of module nosuch in the profile (modules: "
                      "gomalloc_bench, gomalloc_sample, kernel)", out)

    def test_top(self):
        out = self.live("profile", "--top", "2")[1]
        self.assertEqual([x[1] for x in stack_rows(out)], [131072, 16384])
        self.assertIn("\nshowing 2 of 6 stacks with live bytes", out)
        out = self.live("profile", "-n", "1", "-m", "gomalloc_sample")[1]
        self.assertEqual([x[1] for x in stack_rows(out)], [16384])
        self.assertEqual(len(stack_rows(self.live("profile", "--top=0")[1])),
                         6)
        # The default is ten.
        text = HEAP_PROFILE.replace("7 stacks", "19 stacks").replace(
            "1043 objects, 150848", "1055 objects, 150860")
        text += "1 1 1 1 kernel\n\tx+0x1/0x2\n" * 12
        self.put_debug("heap_profile", text)
        out = self.live("profile")[1]
        self.assertEqual(len(stack_rows(out)), 10)
        self.assertIn("\nshowing 10 of 18 stacks with live bytes", out)

    def test_all(self):
        out = self.live("profile", "-a")[1]
        r = stack_rows(out)
        self.assertEqual(len(r), 7)
        self.assertEqual(r[-1][:7], (7, 0, "0.0%", 0, 1, 2048,
                                     "gomalloc_sample"))
        self.assertEqual(r[-1][7][0], "frame_work+0x1d/0x93 [gomalloc_sample]")
        self.assertIn("\nshowing 7 of 7 stacks,", out)
        self.assertNotIn("frame_work", self.live("profile")[1])

    def test_snapshot_root(self):
        # --root DIR reads DIR/debugfs, as --snapshot writes it.
        a = self.live("profile", "-m", "gomalloc_sample")
        b = run("profile", "-m", "gomalloc_sample", self.root)
        self.assertEqual((a[0], b[0]), (0, 0))
        self.assertEqual(a[1].splitlines()[1:], b[1].splitlines()[1:])
        self.assertIn(self.snapdbg, b[1].splitlines()[0])
        # --debugfs names the directory outright, sysfs not needed.
        c = run("profile", "-m", "gomalloc_sample", "--debugfs", self.dbg,
                "--root", self.tmp + "/nothere")
        self.assertEqual(a, c)

    def test_rate_zero(self):
        self.put_debug("heap_profile", with_rate(HEAP_PROFILE, 0))
        for args in (("profile",), ("profile", "-m", "kernel")):
            self.assertError(self.live(*args),
                             "heap profiling is off (profile_rate 0)",
                             "echo 524288 > /sys/kernel/gomalloc/profile_rate")

    def test_other_rate(self):
        self.put_debug("heap_profile", with_rate(HEAP_PROFILE, 524288))
        self.assertIn("\nrate 524288 (a sample every 512.0 KiB on average): 7 "
                      "stacks", self.live("profile")[1])

    def test_no_debugfs(self):
        nodbg = os.path.join(self.tmp, "nodebug/gomalloc")
        env = {"GOMSTAT_SYSFS": self.root, "GOMSTAT_DEBUGFS": nodbg}
        for args in (("profile",), ("ages",)):
            # Not mounted: no mount point, or an empty one.
            self.assertError(run(*args, env=env), nodbg,
                             "is debugfs mounted?",
                             "mount -t debugfs none " + os.path.dirname(nodbg))
            os.makedirs(os.path.dirname(nodbg), exist_ok=True)
            self.assertError(run(*args, env=env), "is debugfs mounted?")
            # Mounted (something else in it) but no gomalloc directory.
            os.makedirs(os.path.dirname(nodbg) + "/other")
            self.assertError(run(*args, env=env), "not found, though "
                             "debugfs is mounted and gomalloc loaded")
            os.rmdir(os.path.dirname(nodbg) + "/other")
            os.rmdir(os.path.dirname(nodbg))

    def test_module_not_loaded(self):
        env = {"GOMSTAT_SYSFS": self.tmp + "/sys/kernel/nothere",
               "GOMSTAT_DEBUGFS": self.tmp + "/sys/kernel/debug/nothere"}
        for cmd in ("profile", "clients", "ages"):
            self.assertError(run(cmd, env=env),
                             "is the gomalloc module loaded?")

    def test_no_profile_files(self):
        os.rename(os.path.join(self.dbg, "heap_profile"), self.tmp + "/moved")
        self.assertError(self.live("profile"), "heap_profile",
                         "a gomalloc module without heap profiling?")
        os.rename(self.tmp + "/moved", os.path.join(self.dbg, "heap_profile"))
        os.unlink(os.path.join(self.dbg, "span_ages"))
        self.assertError(self.live("ages"), "span_ages",
                         "without span ages?")

    def test_snapshot_without_debugfs(self):
        snap = self.tmp + "/snap"
        self.assertEqual(run("--snapshot", snap, "--debugfs",
                             self.tmp + "/none", self.root)[0], 0)
        self.assertError(run("profile", snap),
                         os.path.join(snap, "debugfs"), "no such directory")

    @unittest.skipIf(os.geteuid() == 0, "root reads a mode 000 file")
    def test_not_root(self):
        os.chmod(os.path.join(self.dbg, "heap_profile"), 0)
        self.assertError(self.live("profile"), "permission denied",
                         "root only")
        os.chmod(self.dbg, 0)
        try:
            self.assertError(self.live("profile"), "permission denied",
                             "root only")
        finally:
            os.chmod(self.dbg, 0o755)

    def test_malformed(self):
        self.put_debug("heap_profile", "bogus\n")
        self.assertError(self.live("profile"), "heap_profile:1: cannot parse "
                         "'bogus'")
        self.put_debug("span_ages", "class size\n")
        self.assertError(self.live("ages"), "span_ages:1: cannot parse")

    def test_bad_usage(self):
        for args in (("profile", "--sort", "size"), ("profile", "--json"),
                     ("profile", "-n", "x"), ("profile", "--top", "-1"),
                     ("profile", "--module="), ("profile", "a", "b"),
                     ("clients", "-a"), ("ages", "-m", "kernel"),
                     ("ages", "--check"), ("--module", "x"),
                     ("profile", "--debugfs=")):
            self.assertError(run(*args), "try --help")
        self.assertError(run("profile", "-w", "1"), "unknown option '-w' for "
                         "profile")

    def test_help(self):
        rc, out, _ = run("profile", "--help")
        self.assertEqual(rc, 0)
        for s in ("gomstat profile [-m MODULE] [-n N] [-a]",
                  "gomstat clients", "gomstat ages", "--debugfs DIR",
                  "--module NAME", "--top N"):
            self.assertIn(s, out)


class TestClients(ProfileBase):
    def table(self, *args):
        rc, out, err = run("clients", *args, self.root)
        self.assertEqual((rc, err), (0, ""))
        res = {}
        for ln in out.splitlines():
            t = ln.split()
            if len(t) >= 4 and t[1].isdigit():
                res[t[0]] = (int(t[1]), int(t[2]), int(t[3]),
                             " ".join(t[4:]))
        return out, res

    def test_table(self):
        out, res = self.table()
        lines = out.splitlines()
        self.assertEqual(lines[0], "clients of gomalloc from " +
                         self.path("clients"))
        self.assertEqual(lines[1], "heap profile estimates, profile_rate 1 "
                         "(every allocation)")
        head = next(ln for ln in lines if ln.startswith("MODULE"))
        self.assertEqual(head.split(), ["MODULE", "BYTES_INUSE",
                                        "OBJECTS_INUSE", "ALLOCS", "INUSE"])
        self.assertEqual(list(res), ["gomalloc_bench", "gomalloc_sample",
                                     "kernel", "TOTAL"])
        self.assertEqual(res["gomalloc_sample"], (19712, 41, 50, "19.2 KiB"))
        self.assertEqual(res["kernel"], (64, 2, 5, "64 B"))
        self.assertEqual(res["TOTAL"], (150848, 1043, 2055, "147.3 KiB"))
        self.assertEqual(self.live("clients")[1], out)

    def test_sorted_by_bytes(self):
        self.put("clients/kernel/bytes_inuse", "200000\n")
        self.put("clients/zero/bytes_inuse", "0\n")
        self.put("clients/zero/objects_inuse", "0\n")
        self.put("clients/zero/allocs", "7\n")
        self.put("clients/azero/bytes_inuse", "0\n")
        self.put("clients/azero/objects_inuse", "0\n")
        self.put("clients/azero/allocs", "7\n")
        # Equal bytes: more allocations first, then by name.
        self.assertEqual(list(self.table()[1]),
                         ["kernel", "gomalloc_bench", "gomalloc_sample",
                          "azero", "zero", "TOTAL"])

    def test_rate_off(self):
        self.put("profile_rate", "0\n")
        out = self.table()[0]
        self.assertIn("profile_rate 0 (off)\nprofiling is off: objects "
                      "allocated since are not counted, frees still are\n",
                      out)

    def test_none_yet(self):
        for c in list(self.tree["clients"]):
            for f in ("bytes_inuse", "objects_inuse", "allocs"):
                os.unlink(self.path(f"clients/{c}/{f}"))
            os.rmdir(self.path(f"clients/{c}"))
        out = self.table()[0]
        self.assertTrue(out.endswith("\nno client module has been sampled "
                                     "yet\n"), out)

    def test_older_module(self):
        os.rename(self.path("clients"), self.tmp + "/clients")
        self.assertError(run("clients", self.root), self.path("clients"),
                         "without heap profiling")

    def test_missing_and_bad_files(self):
        os.unlink(self.path("clients/kernel/allocs"))
        self.assertError(run("clients", self.root),
                         self.path("clients/kernel/allocs"), "missing")
        self.put("clients/kernel/allocs", "5 C0=5\n")
        self.assertError(run("clients", self.root),
                         self.path("clients/kernel/allocs"), "cannot parse")

class TestAges(ProfileBase):
    def test_table(self):
        rc, out, err = self.live("ages")
        self.assertEqual((rc, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0], "span ages and object lifetimes from " +
                         os.path.join(self.dbg, "span_ages"))
        rows = [ln.split() for ln in lines[2:7]]
        self.assertEqual(rows, [
            ["CLASS", "SIZE", "SPANS", "AGE_MIN", "AGE_MED", "AGE_MAX",
             "LIFE_AVG", "SAMPLED"],
            ["6", "64", "1", "1.43s", "1.43s", "1.43s", "-", "0"],
            ["14", "192", "3", "688ms", "1m01s", "1h06m", "856ms", "8"],
            ["42", "2048", "0", "-", "-", "-", "12ms", "1"],
            ["large", "-", "0", "-", "-", "-", "2.50s", "2"]])
        self.assertIn("\nTOTAL 4 spans in 3 classes\n", out)
        self.assertEqual(run("ages", self.root)[1].splitlines()[1:],
                         lines[1:])

    def test_empty(self):
        self.put_debug("span_ages", SPAN_AGES.split("\n", 1)[0] + "\n")
        self.assertIn("\nno class has spans or sampled frees\n",
                      self.live("ages")[1])


class TestSnapshotDebugfs(ProfileBase):
    def test_copied(self):
        snap = os.path.join(self.tmp, "snap")
        rc, out, err = self.live("--snapshot", snap)
        self.assertEqual((rc, err), (0, ""))
        n = sum(len(f) for d, _, f in os.walk(self.root)
                if not d.startswith(self.snapdbg)) - 1      # no shrink
        self.assertEqual(out, f"gomstat: saved {n} files from {self.root} "
                         f"and 3 from {self.dbg} to {snap}\n")
        self.assertEqual(sorted(os.listdir(snap + "/debugfs")),
                         ["heap_folded", "heap_profile", "span_ages"])
        for name, text in DEBUG_FILES.items():
            with open(os.path.join(snap, "debugfs", name)) as f:
                self.assertEqual(f.read(), text)
        # Read back: the same tree, profile, clients and ages; debugfs/ is
        # not part of the tree.
        self.assertEqual(run("-j", snap), run("-j", self.root))
        self.assertNotIn("debugfs", json.loads(run("-j", snap)[1]))
        self.assertEqual(run("--check", snap)[0], 0)
        for args in (("profile",), ("profile", "-a", "-m", "kernel"),
                     ("ages",)):
            a, b = self.live(*args), run(*args, snap)
            self.assertEqual(a[0], b[0])
            self.assertEqual(a[1].splitlines()[1:], b[1].splitlines()[1:])
        self.assertEqual(self.live("clients")[1].splitlines()[1:],
                         run("clients", snap)[1].splitlines()[1:])
        # And a snapshot of the snapshot keeps them.
        snap2 = os.path.join(self.tmp, "snap2")
        self.assertIn(" and 3 from ", run("--snapshot", snap2, snap)[1])
        self.assertEqual(run("profile", snap)[1].splitlines()[1:],
                         run("profile", snap2)[1].splitlines()[1:])

    def test_unreadable_debugfs_skipped(self):
        snap = os.path.join(self.tmp, "snap")
        env = dict(self.env, GOMSTAT_DEBUGFS=self.tmp + "/nodebug")
        rc, out, err = run("--snapshot", snap, env=env)
        self.assertEqual((rc, err), (0, ""))
        self.assertNotIn(" and ", out)
        self.assertFalse(os.path.exists(snap + "/debugfs"))


def svg_frames(path_or_text):
    """The frames of a flame graph: [(name, bytes, x, y, width, label)]."""
    import xml.etree.ElementTree as ET
    if path_or_text.lstrip().startswith("<"):
        root = ET.fromstring(path_or_text)
    else:
        root = ET.parse(path_or_text).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for g in root.iter(ns + "g"):
        if g.get("class") != "frame":
            continue
        title = g.find(ns + "title").text
        rect = g.find(ns + "rect")
        text = g.find(ns + "text")
        name, _, rest = title.rpartition(" (")
        n = int(rest.split(" ")[0])
        out.append((name, n, float(rect.get("x")), float(rect.get("y")),
                    float(rect.get("width")),
                    None if text is None else text.text))
    return out


class TestFlameGraph(ProfileBase):
    @classmethod
    def setUpClass(cls):
        cls.g = load_gomstat()

    def test_parse_folded(self):
        f = self.g.parse_heap_folded(HEAP_FOLDED)
        self.assertEqual(len(f), 6)
        self.assertEqual(f[2], ("gomalloc_sample",
                                ["do_init_module", "do_one_initcall",
                                 "0xffffffffc03bc051",
                                 "bulk_take [gomalloc_sample]"], 1536))
        self.assertEqual(f[5], ("kernel", ["ret_from_fork", "kthread",
                                           "some_builtin"], 64))
        self.assertEqual(self.g.parse_heap_folded(""), [])
        for bad in ("gomalloc_sample;a;b 12", "[kernel];a;b", "[kernel];a b",
                    "[kernel];a;;b 3", "[];a 3", "[kernel];a -3"):
            with self.assertRaises(self.g.GomstatError, msg=bad):
                self.g.parse_heap_folded(bad + "\n")

    def test_errors(self):
        out = self.tmp + "/x.svg"
        self.put_debug("heap_profile", with_rate(HEAP_PROFILE, 0))
        self.assertError(self.live("profile", "--svg", out),
                         "heap profiling is off (profile_rate 0)",
                         "echo 524288 > /sys/kernel/gomalloc/profile_rate")
        self.assertFalse(os.path.exists(out))
        self.put_debug("heap_profile", HEAP_PROFILE)
        env = dict(self.env, GOMSTAT_DEBUGFS=self.tmp + "/nodebug/gomalloc")
        self.assertError(run("profile", "--svg", out, env=env),
                         "is debugfs mounted?")
        os.rename(os.path.join(self.dbg, "heap_folded"), self.tmp + "/moved")
        self.assertError(self.live("profile", "--svg", out), "heap_folded",
                         "a gomalloc module without heap profiling?")
        os.rename(self.tmp + "/moved", os.path.join(self.dbg, "heap_folded"))
        self.put_debug("heap_folded", "[kernel];a;b many\n")
        self.assertError(self.live("profile", "--svg", "-"),
                         "heap_folded:1: cannot parse")
        self.assertFalse(os.path.exists(out))

    def test_bad_usage(self):
        for args in (("profile", "--svg"), ("clients", "--svg", "x"),
                     ("--svg", "x"), ("ages", "--svg", "x"),
                     ("profile", "--svg=")):
            self.assertError(run(*args), "try --help")

    def test_help(self):
        out = run("--help")[1]
        for s in ("gomstat profile [-m MODULE] [-n N] [-a] [--svg FILE]",
                  "profile --svg FILE", "--svg FILE"):
            self.assertIn(s, out)

    def svg(self, *args):
        path = os.path.join(self.tmp, "heap.svg")
        rc, out, err = self.live("profile", "--svg", path, *args)
        self.assertEqual((rc, err), (0, ""))
        return path, out

    def test_valid_and_proportional(self):
        path, out = self.svg()
        self.assertEqual(out, "gomstat: wrote a flame graph of 6 stacks, "
                         f"150848 bytes live, to {path}\n")
        with open(path) as f:
            text = f.read()
        self.assertTrue(text.startswith("<?xml"))
        self.assertNotIn("<script", text)
        frames = svg_frames(path)
        by = {}
        for fr in frames:
            by.setdefault(fr[0], []).append(fr)
        # One frame per distinct path: the two records_build stacks merge.
        self.assertEqual(by["all"][0][1], 150848)
        self.assertEqual(by["records_build [gomalloc_sample]"][0][1], 1792)
        self.assertEqual(len(by["records_build [gomalloc_sample]"]), 1)
        self.assertEqual([fr[1] for fr in by["[gomalloc_sample]"]], [19712])
        self.assertEqual(len(by["do_init_module"]), 2)
        # Widths: bytes times one scale, the whole width for all.
        scale = 1180 / 150848
        for name, n, x, y, w, label in frames:
            self.assertAlmostEqual(w, n * scale, delta=0.01, msg=name)
        all_ = by["all"][0]
        self.assertEqual((all_[2], all_[4]), (10.0, 1180.0))

    def test_layout(self):
        frames = svg_frames(self.svg()[0])
        # The root at the bottom; each frame one row above its caller and
        # inside its span.
        root = next(f for f in frames if f[0] == "all")
        self.assertEqual(root[3], max(f[3] for f in frames))
        rows = {}
        for f in frames:
            rows.setdefault(f[3], []).append(f)
        ys = sorted(rows, reverse=True)
        self.assertEqual([ys[i] - ys[i + 1] for i in range(len(ys) - 1)],
                         [16] * (len(ys) - 1))
        for i in range(1, len(ys)):
            for f in rows[ys[i]]:
                parents = [p for p in rows[ys[i - 1]]
                           if p[2] - 0.01 <= f[2] and
                           f[2] + f[4] <= p[2] + p[4] + 0.01]
                self.assertEqual(len(parents), 1, f)
            # Siblings do not overlap.
            xs = sorted((f[2], f[2] + f[4]) for f in rows[ys[i]])
            for a, b in zip(xs, xs[1:]):
                self.assertLessEqual(a[1], b[0] + 0.01)
        # The client modules form the first row above the root.
        self.assertEqual(sorted(f[0] for f in rows[ys[1]]),
                         ["[gomalloc_bench]", "[gomalloc_sample]",
                          "[kernel]"])
        # The leaf of the sample's bulk stack is on top of its caller.
        bulk = next(f for f in frames if f[0] == "bulk_take [gomalloc_sample]")
        caller = next(f for f in frames if f[0] == "0xffffffffc03bc051")
        self.assertEqual(bulk[3], caller[3] - 16)

    def test_labels(self):
        frames = svg_frames(self.svg()[0])
        char = 0.59 * 12
        labelled = 0
        for name, n, x, y, w, label in frames:
            if label is None:
                # No room for three characters.
                self.assertLess(w - 6, 3 * char, name)
                continue
            labelled += 1
            self.assertLessEqual(len(label) * char, w - 6 + 0.01, name)
            if label != name:
                self.assertTrue(label.endswith(".."), (name, label))
                self.assertTrue(name.startswith(label[:-2]), (name, label))
        self.assertGreater(labelled, 5)
        names = {f[5] for f in frames}
        self.assertIn("gom_bench_mem [gomalloc_bench]", names)
        self.assertIn("all", names)
        # 1792 bytes of 150848 is 14 pixels: truncated.
        rec = next(f for f in frames
                   if f[0] == "records_build [gomalloc_sample]")
        self.assertTrue(rec[5] is None or rec[5].endswith(".."), rec)

    def test_module(self):
        path, out = self.svg("--module", "gomalloc_sample")
        self.assertIn("of 4 stacks, 19712 bytes live", out)
        frames = svg_frames(path)
        names = {f[0] for f in frames}
        self.assertNotIn("[gomalloc_bench]", names)
        self.assertNotIn("[kernel]", names)
        self.assertIn("records_build [gomalloc_sample]", names)
        root = next(f for f in frames if f[0] == "all")
        self.assertEqual((root[1], root[4]), (19712, 1180.0))
        run_ = next(f for f in frames if f[0] == "0xffffffffc03bc024")
        self.assertAlmostEqual(run_[4], 16384 * 1180 / 19712, delta=0.01)
        with open(path) as f:
            self.assertIn("live bytes of gomalloc_sample", f.read())

    def test_top(self):
        path, out = self.svg("--top", "2")
        self.assertIn("of 2 stacks, 147456 bytes live", out)
        names = {f[0] for f in svg_frames(path)}
        self.assertNotIn("bulk_take [gomalloc_sample]", names)

    def test_stdout(self):
        rc, out, err = self.live("profile", "--svg", "-")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(len(svg_frames(out)), len(svg_frames(self.svg()[0])))

    def test_snapshot(self):
        a = os.path.join(self.tmp, "a.svg")
        self.assertEqual(run("profile", "--svg", a, self.root)[0], 0)
        with open(a) as f, open(self.svg()[0]) as g:
            self.assertEqual(f.read(), g.read())

    def test_tiny_frames_left_out(self):
        self.put_debug("heap_folded", "[big];a 1000000000\n[small];b 1\n")
        frames = svg_frames(self.svg()[0])
        self.assertEqual(sorted(f[0] for f in frames), ["[big]", "a", "all"])

    def test_empty(self):
        self.put_debug("heap_folded", "")
        path, out = self.svg()
        self.assertIn("of 0 stacks, 0 bytes live", out)
        self.assertEqual(svg_frames(path), [])
        with open(path) as f:
            self.assertIn("no live bytes sampled", f.read())

    def test_escaped(self):
        g = load_gomstat()
        text = g.flame_svg([("m&n", ['f<"x">', "a&b"], 10)], "t<&>", "s&")
        frames = svg_frames(text)
        self.assertEqual([f[0] for f in frames],
                         ["all", "[m&n]", 'f<"x">', "a&b"])

    def test_write_error(self):
        self.assertError(self.live("profile", "--svg",
                                   self.tmp + "/no/such/dir.svg"),
                         "/no/such/dir.svg")


class TestEnvironment(Base):
    def test_light_imports(self):
        # As in the initramfs: no site-packages, and nothing heavy loaded
        # to draw a table (every import is compiled from source there).
        code = (
            "import sys, io\n"
            "sys.dont_write_bytecode = True\n"
            "import importlib.machinery as m, importlib.util as u\n"
            f"l = m.SourceFileLoader('gomstat', {GOMSTAT!r})\n"
            "g = u.module_from_spec(u.spec_from_loader('gomstat', l))\n"
            "l.exec_module(g)\n"
            "sys.stdout = io.StringIO()\n"
            f"rc = g.main(['--root', {self.root!r}])\n"
            "sys.stdout = sys.__stdout__\n"
            "heavy = {'argparse', 'curses', 'json', 're', 'shutil',\n"
            "         'subprocess', 'locale'} & set(sys.modules)\n"
            "print(rc, sorted(heavy))\n")
        p = subprocess.run([sys.executable, "-I", "-S", "-c", code],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((p.stdout, p.stderr), ("0 []\n", ""))

    def test_executable(self):
        self.assertTrue(os.access(GOMSTAT, os.X_OK))
        with open(GOMSTAT) as f:
            self.assertEqual(f.readline(), "#!/usr/bin/python3\n")

    def test_broken_pipe(self):
        r, w = os.pipe()
        p = subprocess.Popen([sys.executable, GOMSTAT, "-a", self.root],
                             stdout=w, stderr=subprocess.PIPE)
        os.close(w)
        os.close(r)             # reader gone before gomstat writes
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(err, b"")


class TestAbiDoc(unittest.TestCase):
    """The ABI document, gomstat's file table and the sample tree agree."""
    ABI = os.path.join(HERE, "..", "Documentation", "ABI", "testing",
                       "sysfs-kernel-gomalloc")
    PREFIX = "/sys/kernel/gomalloc"

    def documented(self):
        whats = []
        with open(self.ABI) as f:
            for ln in f:
                if ln.startswith("What:"):
                    whats.append(ln.split(None, 1)[1].strip())
        self.assertEqual(len(whats), len(set(whats)), "duplicate What:")
        for w in whats:
            self.assertTrue(w.startswith(self.PREFIX), w)
        return {w[len(self.PREFIX):].lstrip("/") for w in whats}

    def test_every_file_documented(self):
        with tempfile.TemporaryDirectory() as d:
            write_tree(d, sample())
            files = set()
            for dirpath, _, names in os.walk(d):
                rel = os.path.relpath(dirpath, d).split(os.sep)
                if rel[:1] == ["classes"] and len(rel) > 1:
                    rel[1] = "<size>"
                if rel[:1] == ["clients"] and len(rel) > 1:
                    rel[1] = "<module>"
                rel = "/".join(r for r in rel if r != ".")
                files |= {f"{rel}/{n}" if rel else n for n in names}
        # documented directories
        dirs = {"", "classes/<size>", "clients"}
        self.assertEqual(files, self.documented() - dirs)

    def test_file_kinds_documented(self):
        g = load_gomstat()
        names = {p.rpartition("/")[2] for p in self.documented() if p}
        names -= {"<size>", "clients"} | g.WRITE_ONLY
        self.assertEqual(set(g.FILE_KINDS), names)


def main(argv):
    if argv[:1] == ["--make-tree"] and len(argv) == 2:
        write_tree(argv[1], sample())
        print(f"sample tree written to {argv[1]}; try: "
              f"scripts/gomstat --root {argv[1]}")
        return 0
    return unittest_tally.main(__name__, argv, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
