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

import importlib.machinery
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GOMSTAT = os.path.join(HERE, "gomstat")
CLEAR = "\x1b[H\x1b[2J"


def pc(total, **cpus):
    """A per-CPU value as gomstat --json reports it: pc(3, C0=1, C1=2)."""
    return {"total": total, "cpus": {k[1:]: v for k, v in cpus.items()}}


def cls(size, pages, per_span, spans, partial, full, inuse, free, cached,
        allocs, frees, refills, flushes, occupancy):
    return {
        "object_size": size, "span_pages": pages,
        "objects_per_span": per_span, "spans": spans,
        "spans_partial": partial, "spans_full": full,
        "objects_inuse": inuse, "objects_free": free,
        "objects_cached": cached, "allocs": allocs, "frees": frees,
        "refills": refills, "flushes": flushes, "occupancy": occupancy,
    }


# The sample tree, in the form gomstat --json must give back. Consistent:
# spans = partial + full, sum(occupancy) = spans, inuse + free + cached fills
# the spans, allocs - frees = inuse, pages_total = pages_inuse + pages_free,
# per-CPU totals are the sums of the CPUs listed (zero CPUs left out),
# free_blocks adds up to pages_free, the byte totals match the classes.
def sample():
    return {
        "alloc_failures": 0,
        "bytes_cached": 36128,
        "bytes_heap": 8388608,
        "bytes_inuse": 153184,
        "classes": {
            "8": cls(8, 1, 512, 4, 1, 3, 1900, 48, pc(100, C0=64, C1=36),
                     pc(250000, C0=200000, C1=50000),
                     pc(248100, C0=190000, C1=58100),
                     pc(3950, C0=3000, C1=950), pc(3900, C0=2900, C1=1000),
                     [0, 0, 0, 0, 0, 0, 0, 0, 0, 4]),
            "16": cls(16, 1, 256, 0, 0, 0, 0, 0, pc(0), pc(10, C0=10),
                      pc(10, C0=10), pc(1, C0=1), pc(1, C0=1),
                      [0] * 10),
            "64": cls(64, 1, 64, 10, 6, 4, 400, 200, pc(40, C1=40),
                      pc(5000, C0=2500, C1=2500), pc(4600, C0=4600),
                      pc(90, C0=50, C1=40), pc(80, C0=80),
                      [1, 0, 2, 1, 0, 1, 1, 0, 0, 4]),
            "704": cls(704, 2, 11, 3, 2, 1, 20, 13, pc(0), pc(20, C0=20),
                       pc(0), pc(2, C0=2), pc(0),
                       [0, 0, 0, 0, 0, 1, 1, 0, 0, 1]),
            "4096": cls(4096, 1, 1, 0, 0, 0, 0, 0, pc(0), pc(0), pc(0),
                        pc(0), pc(0), [0] * 10),
            "32768": cls(32768, 8, 1, 2, 0, 2, 1, 0, pc(1, C1=1),
                         pc(7, C0=3, C1=4), pc(6, C0=6), pc(7, C0=3, C1=4),
                         pc(5, C0=5), [0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
        },
        "double_frees": 1,
        "heap": {
            "arena_bytes": 8388608,
            "arenas": 2,
            "free_blocks": [0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1],
            "large_bytes": 65536,
            "large_spans": 1,
            "pages_free": 1996,
            "pages_inuse": 52,
            "pages_released": 512,
            "pages_total": 2048,
        },
        "invalid_frees": 0,
        "metadata_bytes": 20480,
        "stack": {
            "bytes_inuse": 4096,
            "bytes_reserved": 196608,
            "high_water": 65536,
            "segments": 3,
            "stacks": 2,
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


def write_tree(root, tree, shrink=True):
    os.makedirs(root, exist_ok=True)
    for name, v in tree.items():
        p = os.path.join(root, name)
        if isinstance(v, dict) and "total" not in v:
            write_tree(p, v, shrink=False)
        else:
            with open(p, "w") as f:
                f.write(sysfs_text(v) + "\n")
            os.chmod(p, 0o444)
    if shrink:
        p = os.path.join(root, "shrink")
        with open(p, "w"):
            pass
        os.chmod(p, 0o200)


def load_gomstat():
    sys.dont_write_bytecode = True     # no __pycache__ in scripts/
    loader = importlib.machinery.SourceFileLoader("gomstat", GOMSTAT)
    spec = importlib.util.spec_from_loader("gomstat", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def run(*args, env=None):
    e = dict(os.environ)
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
        # SIZE PG SPANS PART FULL INUSE FREE CACHED EFF% [bar] ALLOCS
        self.assertEqual(r["8"], (["8", "1", "4", "1", "3", "1900", "48",
                                   "100", "92.8"], " " * 9 + "@",
                                  ["250000"]))
        self.assertEqual(r["64"], (["64", "1", "10", "6", "4", "400", "200",
                                    "40", "62.5"], "- +- --  @", ["5000"]))
        self.assertEqual(r["704"][0], ["704", "2", "3", "2", "1", "20", "13",
                                       "0", "57.3"])
        self.assertEqual(r["32768"][0], ["32768", "8", "2", "0", "2", "1",
                                         "0", "1", "50.0"])
        # Spans all gone but allocations happened: shown, no efficiency.
        self.assertEqual(r["16"][0], ["16", "1", "0", "0", "0", "0", "0",
                                      "0", "-"])
        # 4096 has neither spans nor activity.
        self.assertNotIn("4096", r)
        self.assertIn("\n5 of 6 classes shown; -a shows the idle ones too\n",
                      out)
        # Totals over all classes; efficiency of all spans together.
        live = 1900 * 8 + 400 * 64 + 20 * 704 + 32768
        spans = (4 + 10 + 3 * 2 + 2 * 8) * 4096
        self.assertEqual(r["TOTAL"][0] + r["TOTAL"][2],
                         ["TOTAL", "19", "9", "10", "2321", "261", "141",
                          f"{100 * live / spans:.1f}", "255037"])

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
        self.assertIn("\nheap:   2 arenas (8.0 MiB), 2048 pages: 52 in use, "
                      "1996 free, 512 released\n"
                      "        large spans: 1 (64.0 KiB)\n"
                      "        free blocks by order: 0 0 1 1 0 0 1 1 1 1 1\n"
                      "memory: 149.6 KiB in use, 35.3 KiB cached, "
                      "8.0 MiB heap, 20.0 KiB metadata\n"
                      "errors: 0 invalid frees, 1 double frees, "
                      "0 alloc failures\n"
                      "stack:  2 stacks, 3 segments; 4.0 KiB in use, "
                      "192.0 KiB reserved, 64.0 KiB peak\n", out)

    def test_positional_is_root(self):
        self.assertEqual(run(self.root), run("--root", self.root))
        self.assertEqual(run(self.root + "/"), run(f"--root={self.root}"))

    def test_ascii_width(self):
        rc, out, _ = run(self.root)
        self.assertEqual(rc, 0)
        self.assertTrue(out.isascii())
        lines = out.splitlines()
        self.assertLessEqual(max(map(len, lines)), 80, lines)


class TestSort(Base):
    EXPECT = {
        "size": ["8", "16", "64", "704", "32768"],
        "spans": ["64", "8", "704", "32768", "16"],
        "inuse": ["8", "64", "704", "32768", "16"],
        "free": ["64", "8", "704", "16", "32768"],       # ties by size
        "cached": ["8", "64", "32768", "16", "704"],
        "efficiency": ["8", "64", "704", "32768", "16"],  # "-" last
        "allocs": ["8", "64", "704", "16", "32768"],
    }

    def test_orders(self):
        forms = (lambda f: ("--sort", f), lambda f: (f"--sort={f}",),
                 lambda f: ("-s", f))
        for i, (field, want) in enumerate(self.EXPECT.items()):
            args = forms[i % len(forms)](field)
            rc, out, err = run(*args, self.root)
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(order(out), want, args)

    def test_default_is_size(self):
        self.assertEqual(order(run(self.root)[1]), self.EXPECT["size"])

    def test_bad_field(self):
        self.assertError(run("--sort", "name", self.root), "--sort", "name")


class TestJson(Base):
    def test_round_trip(self):
        rc, out, err = run("--json", "--root", self.root)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(json.loads(out), self.tree)

    def test_class_order_numeric(self):
        out = run("-j", self.root)[1]
        self.assertEqual(list(json.loads(out)["classes"]),
                         ["8", "16", "64", "704", "4096", "32768"])

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
        self.assertEqual(r["64"], (["64", "1", "10", "-", "4", "400", "200",
                                    "-", "62.5"], "?" * 10, ["5000"]))
        self.assertIn("1996 free, - released", out)
        self.assertIn("- cached", out)
        self.assertNotIn("stack:", out)
        # Per-CPU files from a UP (or older) build: a bare total.
        self.put("classes/8/allocs", "250000\n")
        self.assertEqual(rows(run(self.root)[1])["8"][2], ["250000"])

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
        ("classes/64/spans_full", "5",
         "classes/64: spans 10 != spans_partial 6 + spans_full 5"),
        ("classes/704/occupancy", "0 0 0 0 0 0 0 0 1 1",
         "classes/704: sum(occupancy) 2 != spans 3"),
        ("classes/16/objects_free", "1",
         "classes/16: spans * objects_per_span 0 != objects_inuse 0 + "
         "objects_free 1 + objects_cached 0"),
        ("classes/8/allocs", "250001 C0=200000 C1=50000",
         "classes/8/allocs: total 250001 != sum of CPUs 250000"),
        ("classes/4096/object_size", "4095",
         "classes/4096: object_size 4095 != directory name"),
        ("heap/pages_inuse", "53",
         "heap: pages_total 2048 != pages_inuse 53 + pages_free 1996"),
        ("heap/free_blocks", "0 0 1 1 0 0 1 1 1 1 0",
         "heap: pages in free_blocks 972 != pages_free 1996"),
        ("heap/arena_bytes", "4194304",
         "heap: arena_bytes 4194304 != pages_total * 4096 8388608\n"
         "gomstat: check: bytes_heap 8388608 != heap/arena_bytes 4194304"),
        ("bytes_heap", "4194304",
         "bytes_heap 4194304 != heap/arena_bytes 8388608"),
        ("bytes_cached", "0",
         "bytes_cached 0 != sum of objects_cached * object_size 36128"),
        ("bytes_inuse", "87648",
         "bytes_inuse 87648 != sum of objects_inuse * object_size 87648 + "
         "heap/large_bytes 65536"),
    )

    def test_violations(self):
        for rel, text, msg in self.BREAK:
            old = open(self.path(rel)).read()
            self.put(rel, text + "\n")
            rc, out, err = run("--check", self.root)
            self.assertEqual((rc, out, err),
                             (1, f"gomstat: check: {msg}\n", ""), rel)
            self.put(rel, old)

    def test_all_reported(self):
        for rel, text, _ in self.BREAK[:4]:
            self.put(rel, text + "\n")
        rc, out, _ = run("--check", self.root)
        self.assertEqual(rc, 1)
        self.assertEqual(len(out.splitlines()), 4, out)

    def test_missing_files_skipped(self):
        for rel in ("classes/64/spans_full", "heap/free_blocks",
                    "bytes_cached", "classes/8/objects_cached"):
            os.unlink(self.path(rel))
        self.put("bytes_inuse", "1\n")     # needs every class: skipped too
        self.assertEqual(run("--check", self.root)[0], 0)


class TestWatch(Base):
    def watch(self, *args, until):
        p = subprocess.Popen([sys.executable, GOMSTAT, *args, self.root],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
                rel = "/".join(r for r in rel if r != ".")
                files |= {f"{rel}/{n}" if rel else n for n in names}
        dirs = {"", "classes/<size>"}      # documented directories
        self.assertEqual(files, self.documented() - dirs)

    def test_file_kinds_documented(self):
        g = load_gomstat()
        names = {p.rpartition("/")[2] for p in self.documented() if p}
        names -= {"<size>"} | g.WRITE_ONLY
        self.assertEqual(set(g.FILE_KINDS), names)


def main(argv):
    if argv[:1] == ["--make-tree"] and len(argv) == 2:
        write_tree(argv[1], sample())
        print(f"sample tree written to {argv[1]}; try: "
              f"scripts/gomstat --root {argv[1]}")
        return 0
    if argv not in ([], ["-v"]):
        sys.stderr.write(__doc__)
        return 2
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[__name__])
    result = unittest.TextTestRunner(
        verbosity=2 if argv else 1, stream=sys.stderr).run(suite)
    failed = (len(result.failures) + len(result.errors) +
              len(result.unexpectedSuccesses))
    passed = result.testsRun - failed - len(result.skipped)
    sys.stderr.flush()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
