#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Tests for scripts/mkreplay.py, the converter of slab traces to replays.

Small traces in the text format of /sys/kernel/tracing/trace, with known
answers, go through the parser, the conversion and the replay format;
the committed bench/replay.txt is read as the bench module reads it.
Nothing here needs QEMU, root or anything beyond the standard library.

Usage:
  python3 scripts/test_mkreplay.py [-v]   the last line is "N passed,
                                          N failed", exit 0 iff none failed
"""

import contextlib
import gzip
import io
import os
import sys
import tempfile
import unittest

import unittest_tally

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


mk = unittest_tally.load_script(os.path.join(HERE, "mkreplay.py"), "mkreplay")

HEAD = """# tracer: nop
#
# entries-in-buffer/entries-written: 9/9   #P:1
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
"""


def kmalloc(ptr, size, gfp="GFP_KERNEL", ts="5.000001", site="foo+0x1/0x2"):
    return (f"              sh-86      [000] .....     {ts}: kmalloc: "
            f"call_site={site} ptr={ptr:016x} bytes_req={size} "
            f"bytes_alloc={size} gfp_flags={gfp} node=-1 accounted=false")


def cache_alloc(ptr, size, gfp="GFP_KERNEL"):
    return (f"     kworker/0:1-12      [000] ..s1.     6.123456: "
            f"kmem_cache_alloc: call_site=bar+0x10/0x40 [ext4] "
            f"ptr={ptr:016x} bytes_req={size} bytes_alloc={size + 8} "
            f"gfp_flags={gfp} node=-1 accounted=true")


def kfree(ptr):
    return (f"              sh-86      [000] .....     7.000000: kfree: "
            f"call_site=baz+0x3/0x9 ptr={ptr:016x}")


def cache_free(ptr, name="filp"):
    return (f"          <idle>-0       [000] ..s1.     8.000000: "
            f"kmem_cache_free: call_site=rcu_do_batch+0x197/0x540 "
            f"ptr={ptr:016x} name={name}")


A, B, C = 0xff11000001000000, 0xff11000001000100, 0xff11000001000200


def ops_of(lines):
    return mk.convert(filter(None, map(mk.parse_line, lines)))


class ParseLine(unittest.TestCase):
    def test_kmalloc(self):
        self.assertEqual(mk.parse_line(kmalloc(A, 64)),
                         ("alloc", A, 64, True, False))

    def test_cache_alloc_with_module_call_site(self):
        self.assertEqual(
            mk.parse_line(cache_alloc(B, 152, "GFP_ATOMIC|__GFP_ZERO")),
            ("alloc", B, 152, False, True))

    def test_frees(self):
        self.assertEqual(mk.parse_line(kfree(A)), ("free", A))
        self.assertEqual(mk.parse_line(cache_free(B)), ("free", B))

    def test_other_lines(self):
        for line in HEAD.splitlines() + [
                "", "   sh-86 [000] ..... 9.0: mm_page_alloc: page=x pfn=0x1",
                "   sh-86 [000] ..... 9.0: sched_switch: prev_comm=kmalloc"]:
            self.assertIsNone(mk.parse_line(line), line)

    def test_lost_events(self):
        with self.assertRaises(mk.TraceError):
            mk.parse_line("CPU:0 [LOST 1234 EVENTS]")

    def test_missing_field(self):
        with self.assertRaises(mk.TraceError):
            mk.parse_line("  sh-1 [000] ..... 1.0: kmalloc: call_site=x "
                          "ptr=ff00 gfp_flags=GFP_KERNEL")


class GfpKind(unittest.TestCase):
    def test_sleeping(self):
        for flags in ("GFP_KERNEL", "GFP_KERNEL_ACCOUNT", "GFP_NOFS",
                      "GFP_NOIO|__GFP_NOWARN", "GFP_USER|__GFP_NOWARN",
                      "GFP_HIGHUSER_MOVABLE", "__GFP_IO|__GFP_RECLAIM",
                      "__GFP_DIRECT_RECLAIM|__GFP_NOWARN"):
            self.assertEqual(mk.gfp_kind(flags), (True, False), flags)

    def test_atomic(self):
        for flags in ("GFP_ATOMIC", "GFP_NOWAIT|__GFP_NOWARN",
                      "GFP_ATOMIC|__GFP_NOWARN|__GFP_NOMEMALLOC", "none",
                      "__GFP_KSWAPD_RECLAIM", "GFP_TRANSHUGE_LIGHT"):
            self.assertEqual(mk.gfp_kind(flags), (False, False), flags)

    def test_zero(self):
        self.assertEqual(mk.gfp_kind("GFP_KERNEL|__GFP_ZERO"), (True, True))
        self.assertEqual(mk.gfp_kind("GFP_NOWAIT|__GFP_ZERO"), (False, True))
        self.assertEqual(mk.gfp_kind("GFP_KERNEL|__GFP_ZEROTAGS"),
                         (True, False))


class Convert(unittest.TestCase):
    def test_pointers_become_objects(self):
        rp = ops_of([kmalloc(A, 64), cache_alloc(B, 100), kfree(A),
                     kmalloc(A, 32, "GFP_ATOMIC"), cache_free(B), kfree(A)])
        self.assertEqual(rp.ops, [("a", 64, True, False),
                                  ("a", 100, True, False), ("f", 0),
                                  ("a", 32, False, False), ("f", 1),
                                  ("f", 2)])
        self.assertEqual(rp.allocs, 3)
        self.assertEqual(rp.stats["frees"], 3)
        self.assertEqual(rp.stats["end_frees"], 0)

    def test_unknown_and_null_frees_dropped(self):
        rp = ops_of([kfree(C), kfree(0), kfree(0x10), kmalloc(A, 8),
                     cache_free(B), kfree(A)])
        self.assertEqual(rp.ops, [("a", 8, True, False), ("f", 0)])
        self.assertEqual(rp.stats["unknown_frees"], 2)
        self.assertEqual(rp.stats["null_frees"], 2)

    def test_failed_and_zero_size_allocations_dropped(self):
        rp = ops_of([kmalloc(0, 64), kmalloc(0x10, 0), kmalloc(A, 0),
                     kfree(0x10)])
        self.assertEqual(rp.ops, [])
        self.assertEqual(rp.stats["failed_allocs"], 1)
        self.assertEqual(rp.stats["zero_size"], 2)

    def test_live_at_end_freed_oldest_first(self):
        rp = ops_of([kmalloc(C, 8), kmalloc(A, 16), kmalloc(B, 24),
                     kfree(A)])
        self.assertEqual(rp.ops[3:], [("f", 1), ("f", 0), ("f", 2)])
        self.assertEqual(rp.stats["end_frees"], 2)

    def test_address_allocated_again_frees_the_old_object(self):
        rp = ops_of([kmalloc(A, 64), kmalloc(A, 96), kfree(A)])
        self.assertEqual(rp.ops, [("a", 64, True, False), ("f", 0),
                                  ("a", 96, True, False), ("f", 1)])
        self.assertEqual(rp.stats["implicit_frees"], 1)

    def test_peak_is_the_first_maximum(self):
        rp = ops_of([kmalloc(A, 100), kmalloc(B, 50), kfree(A),
                     kmalloc(C, 100), kfree(B), kfree(C)])
        # live: 100, 150 (op 1), 50, 150 again (op 3), 100, 0
        self.assertEqual(rp.peak(), (150, 2, 1))
        self.assertEqual(mk.Replay().peak(), (0, 0, -1))


class Format(unittest.TestCase):
    LINES = [kmalloc(A, 64), cache_alloc(B, 192, "GFP_NOWAIT|__GFP_ZERO"),
             kmalloc(C, 4096, "GFP_KERNEL|__GFP_ZERO"), kfree(A),
             cache_alloc(A, 24, "GFP_ATOMIC"), cache_free(B)]

    def test_text(self):
        text = mk.render(ops_of(self.LINES), ["made by a test"])
        lines = text.splitlines()
        self.assertEqual(lines[0], "gomalloc-replay 1 ops=8 allocs=4")
        self.assertIn("#   made by a test", lines)
        body = [x for x in lines[1:] if not x.startswith("#")]
        # f BACK counts back from the next object: f 1 is the newest
        self.assertEqual(body, ["a 64", "nz 192", "az 4096", "f 3", "n 24",
                                "f 3", "f 2", "f 1"])

    def test_round_trip(self):
        rp = ops_of(self.LINES)
        self.assertEqual(mk.parse_replay(mk.render(rp)), rp.ops)

    def refused(self, text):
        with self.assertRaises(mk.TraceError):
            mk.parse_replay(text)

    def test_refused(self):
        self.refused("gomalloc-replay 2 ops=0 allocs=0\n")
        self.refused("replay 1 ops=2 allocs=1\na 8\nf 1\n")
        self.refused("gomalloc-replay 1 ops=2 allocs=1\na 8\nf 2\n")
        self.refused("gomalloc-replay 1 ops=3 allocs=1\na 8\nf 1\nf 1\n")
        self.refused("gomalloc-replay 1 ops=1 allocs=1\na 8\n")
        self.refused("gomalloc-replay 1 ops=3 allocs=1\na 8\nf 1\n")
        self.refused("gomalloc-replay 1 ops=2 allocs=1\nx 8\nf 1\n")
        self.refused("gomalloc-replay 1 ops=2 allocs=1\na 0\nf 1\n")
        self.refused("gomalloc-replay 1 ops=2 allocs=1\na 8\nf 0\n")
        self.refused("gomalloc-replay 1 ops=2 allocs=1\na  8\nf 1\n")

    def test_comments_and_empty_lines(self):
        self.assertEqual(
            mk.parse_replay("gomalloc-replay 1 ops=2 allocs=1\n# x\n\na 8\n"
                            "# y\nf 1\n"),
            [("a", 8, True, False), ("f", 0)])


class Main(unittest.TestCase):
    def test_gzip_trace_to_replay_and_check(self):
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "trace.txt.gz")
            out = os.path.join(d, "replay.txt")
            with gzip.open(trace, "wt") as f:
                f.write(HEAD + "\n".join(Format.LINES) + "\n")
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(mk.main(["-o", out, "--source", "src",
                                          trace]), 0)
            self.assertIn("peak live 4352 bytes in 3 objects after op 2",
                          err.getvalue())
            with open(out) as f:
                self.assertEqual(len(mk.parse_replay(f.read())), 8)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                self.assertEqual(mk.main(["--check", out]), 0)
            self.assertIn("ok: 8 ops, 4 allocations", buf.getvalue())

    def test_lost_events_fail(self):
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "trace.txt")
            with open(trace, "w") as f:
                f.write(kmalloc(A, 8) + "\nCPU:0 [LOST 3 EVENTS]\n")
            with contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(mk.main([trace]), 1)


class Committed(unittest.TestCase):
    """bench/replay.txt is a replay the module accepts, and its header's
    figures are its own."""

    PATH = os.path.join(ROOT, "bench", "replay.txt")

    def test_committed_replay(self):
        if not os.path.exists(self.PATH):
            self.skipTest("no bench/replay.txt")
        with open(self.PATH) as f:
            text = f.read()
        ops = mk.parse_replay(text)
        pk = mk.peak_of(ops)
        self.assertIn(f"peak live {pk[0]} bytes in {pk[1]} objects after "
                      f"op {pk[2]}.", " ".join(
                          x[1:].strip() for x in text.splitlines()
                          if x.startswith("#")))
        sizes = [op[1] for op in ops if op[0] == "a"]
        # the module refuses sizes above KMALLOC_MAX_SIZE (4 MiB on x86)
        self.assertLessEqual(max(sizes), 4 << 20)


if __name__ == "__main__":
    sys.exit(unittest_tally.main(__name__, sys.argv[1:], __doc__))
