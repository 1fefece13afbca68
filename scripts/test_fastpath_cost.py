#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Tests for scripts/fastpath-cost.py on canned objdump output.

Each test feeds the classifier or the path walk a few instructions as
objdump -d -r --no-show-raw-insn prints them: irq toggles, locked and
per-CPU instructions, static keys, alternatives, slow calls, loops,
return values. Nothing here needs a kernel, a module or objdump.

usage: python3 scripts/test_fastpath_cost.py [-v]
  The last line is "N passed, N failed"; exit 0 iff none failed.
"""

import os
import re
import struct
import sys
import unittest

import unittest_tally

HERE = os.path.dirname(os.path.abspath(__file__))


fc = unittest_tally.load_script(os.path.join(HERE, "fastpath-cost.py"),
                               "fastpath_cost")


def objdump(*funcs):
    """objdump text for [(name, [(addr, insn, reloc or None)])]."""
    out = ["", "x.ko:     file format elf64-x86-64", "",
           "Disassembly of section .text:"]
    for name, body in funcs:
        out += ["", f"{body[0][0]:016x} <{name}>:"]
        for addr, text, reloc in body:
            out.append(f"{addr:8x}:\t{text}")
            if reloc:
                out.append(f"\t\t\t{addr + 1:x}: {reloc}")
    return "\n".join(out) + "\n"


def insn(text, reloc=None):
    insns, _ = fc.parse_objdump(objdump(("f", [(0x10, text, reloc)])))
    return insns[(".text", 0x10)]


def classes(text, reloc=None):
    ins = insn(text, reloc)
    return fc.classify(fc.Image("t", {}, []), ins)


PLT = "R_X86_64_PLT32\t{}-0x4"
PC = "R_X86_64_PC32\t{}-0x4"
XENPV = 8 * 32 + 16

# f: the hit path goes 100 105 10a 111 117 150 (h) 155 11d 120 123 125 (g)
# 12a 12c 12e 135 13b; 105 is a static key (off: nop), 117 a GFP test,
# 123's fall-through and 140, 160 and 180 are slow, 12c is decided by what
# g returns.
F = ("f", [
    (0x100, "call   105 <f+0x5>", PLT.format("__fentry__")),
    (0x105, "nopl   0x0(%rax,%rax,1)", None),
    (0x10a, "incl   %gs:0x0(%rip)        # 111 <f+0x11>",
     PC.format("__preempt_count")),
    (0x111, "test   $0x400,%esi", None),
    (0x117, "jne    150 <f+0x50>", None),
    (0x11d, "mov    (%rdi),%rax", None),
    (0x120, "test   %rax,%rax", None),
    (0x123, "je     160 <f+0x60>", None),
    (0x125, "call   200 <g>", None),
    (0x12a, "test   %eax,%eax", None),
    (0x12c, "jne    170 <f+0x70>", None),
    (0x12e, "decl   %gs:0x0(%rip)        # 135 <f+0x35>",
     PC.format("__preempt_count")),
    (0x135, "je     180 <f+0x80>", None),
    (0x13b, "jmp    140 <f+0x40>", PLT.format("__x86_return_thunk")),
    (0x140, "call   145 <f+0x45>", PLT.format("f_slow")),
    (0x145, "ret", None),
    (0x150, "call   300 <h>", None),
    (0x155, "jmp    11d <f+0x1d>", None),
    (0x160, "call   165 <f+0x65>", PLT.format("f_slow")),
    (0x165, "ret", None),
    (0x170, "mov    $0x1,%eax", None),
    (0x175, "ret", None),
    (0x180, "call   185 <f+0x85>", PLT.format("__SCT__preempt_schedule")),
    (0x185, "jmp    13b <f+0x3b>", None),
    (0x18a, "int3", None),
])
# g: a paravirt irq call patched to cli, a cmpxchg retry loop, an
# implicitly locked xchg, a fence, sti; returns 0.
G = ("g", [
    (0x200, "call   *0x0(%rip)        # 206 <g+0x6>", PC.format("pv_ops+0x10")),
    (0x206, "lock cmpxchg %rdx,(%rdi)", None),
    (0x20b, "jne    206 <g+0x6>", None),
    (0x20d, "xchg   %rax,(%rsi)", None),
    (0x210, "mfence", None),
    (0x213, "sti", None),
    (0x214, "xor    %eax,%eax", None),
    (0x216, "ret", None),
    (0x217, "int3", None),
])
H = ("h", [(0x300, "xor    %eax,%eax", None), (0x302, "ret", None),
           (0x303, "int3", None)])
# b: a loop entered at its condition (410), body 404..40c, then pushf/popf
B = ("b", [
    (0x400, "xor    %ecx,%ecx", None),
    (0x402, "jmp    410 <b+0x10>", None),
    (0x404, "mov    (%rsi,%rcx,8),%rax", None),
    (0x408, "add    $0x1,%rcx", None),
    (0x40c, "mov    %rax,(%rdx)", None),
    (0x410, "cmp    %rdi,%rcx", None),
    (0x413, "jb     404 <b+0x4>", None),
    (0x415, "pushf", None),
    (0x416, "popf", None),
    (0x417, "ret", None),
    (0x418, "int3", None),
])
# s: every way out is slow
S = ("s", [
    (0x500, "test   %rdi,%rdi", None),
    (0x503, "je     50a <s+0xa>", None),
    (0x505, "call   506 <s+0x6>", PLT.format("f_slow")),
    (0x50a, "ud2", None),
    (0x50c, "int3", None),
])


def image(key_on=False, xenpv=False):
    insns, funcs = fc.parse_objdump(objdump(F, G, H, B, S))
    cli, _ = fc.parse_objdump(objdump(("repl", [(0x0, "cli", None),
                                                (0x1, "int3", None)])))
    body = fc.fix_last_size([cli[(".text", 0)]], 1)
    img = fc.Image("t", insns, funcs,
                   jumps={(".text", 0x105): ("dbg_key", 0,
                                              (".text", 0x140))},
                   alts={(".text", 0x200): [(XENPV, True, 6, body)]},
                   features={XENPV: "XENPV"})
    return img, {"dbg_key": key_on}, xenpv


def walk(name, key_on=False, xenpv=False):
    img, keys, _ = image(key_on)
    saved = set(fc.CPU_FEATURES)
    if xenpv:
        fc.CPU_FEATURES.add("XENPV")
    try:
        return fc.Walker(img, {"f_slow"}, keys).path(name)
    finally:
        fc.CPU_FEATURES.clear()
        fc.CPU_FEATURES.update(saved)


def addrs(steps, depth=None):
    return [st.ins.addr for st in steps if depth is None or
            st.depth == depth]


class TestClassify(unittest.TestCase):
    def test_irq(self):
        for t in ("cli", "sti", "pushf", "popf", "pushfq", "popfq"):
            self.assertIn("irq", classes(t), t)

    def test_irq_call(self):
        c = classes("call   15 <f+0x5>", PLT.format("arch_local_irq_save"))
        self.assertEqual(c, {"irq", "calls"})

    def test_locked(self):
        for t in ("lock cmpxchg %rdx,(%rdi)", "lock incl 0x8(%rdi)",
                  "lock addl $0x0,-0x4(%rsp)", "xchg   %rax,(%rdi)",
                  "xchg   %eax,0x10(%rsi)"):
            self.assertEqual(classes(t), {"locked"}, t)

    def test_xchg_register_is_a_nop(self):
        self.assertEqual(classes("xchg   %ax,%ax"), set())
        self.assertEqual(classes("xchg   %rax,%rdx"), set())

    def test_cmpxchg(self):
        self.assertEqual(classes("cmpxchg16b %gs:(%rsi)"), {"pcpu_cmpxchg"})
        self.assertEqual(classes("cmpxchg %rdx,%gs:(%rdi)"),
                         {"pcpu_cmpxchg"})
        self.assertEqual(classes("cmpxchg8b (%rsi)"), {"cmpxchg"})
        self.assertEqual(classes("lock cmpxchg16b (%rsi)"), {"locked"})

    def test_barrier(self):
        for t in ("mfence", "lfence", "sfence"):
            self.assertEqual(classes(t), {"barrier"}, t)

    def test_preempt(self):
        r = PC.format("__preempt_count")
        self.assertEqual(classes("incl   %gs:0x0(%rip)", r), {"preempt"})
        self.assertEqual(classes("decl   %gs:0x0(%rip)", r), {"preempt"})
        self.assertEqual(classes("mov    %gs:0x0(%rip),%eax", r), set())
        self.assertEqual(classes("incl   %gs:0x0(%rip)",
                                 PC.format("other_var")), set())

    def test_plain(self):
        for t in ("mov    (%rdi),%rax", "add    $0x1,%rcx", "ret",
                  "nopl   0x0(%rax,%rax,1)", "rep stos %rax,%es:(%rdi)"):
            self.assertEqual(classes(t), set(), t)

    def test_prefixes_and_targets(self):
        i = insn("cs nopw 0x0(%rax,%rax,1)")
        self.assertEqual((i.mnem, i.prefixes), ("nopw", {"cs"}))
        i = insn("jne    150 <f+0x50>")
        self.assertEqual((i.target, i.tname), (0x150, "f+0x50"))
        i = insn("call   15 <f+0x5>", PLT.format("memset"))
        self.assertEqual(i.reloc_sym(), "memset")


class TestWalk(unittest.TestCase):
    def test_hit_path(self):
        p = walk("f")
        self.assertEqual(addrs(p, 0), [
            0x100, 0x105, 0x10a, 0x111, 0x117, 0x150, 0x155, 0x11d, 0x120,
            0x123, 0x125, 0x12a, 0x12c, 0x12e, 0x135, 0x13b])

    def test_callees(self):
        p = walk("f")
        self.assertEqual(addrs(p, 1), [0x300, 0x302, 0x0, 0x201, 0x206,
                                       0x20b, 0x20d, 0x210, 0x213, 0x214,
                                       0x216])

    def test_counts(self):
        c = fc.count(walk("f"))
        self.assertEqual(c["irq"], 2)          # cli (alternative) + sti
        self.assertEqual(c["locked"], 2)       # lock cmpxchg, xchg mem
        self.assertEqual(c["barrier"], 1)
        self.assertEqual(c["preempt"], 2)
        self.assertEqual(c["keys"], 1)
        self.assertEqual(c["ftrace"], 1)
        self.assertEqual(c["calls"], 2)        # h, g; fentry is ftrace
        # 16 of f, 2 of h, 9 of g (cli and its padding for the 6-byte call)
        self.assertEqual(c["instrs"], 16 + 2 + 9)

    def test_notes(self):
        notes = {st.ins.addr: st.note for st in walk("f")}
        self.assertIn("GFP_KERNEL", notes[0x117])
        self.assertIn("returned 0x0: not taken", notes[0x12c])
        self.assertIn("static key dbg_key off: nop", notes[0x105])
        self.assertIn("alternative (not XENPV)", notes[0x0])

    def test_op_fact_decides_a_branch(self):
        img, keys, _ = image()
        rx = re.compile(r"^test %rax,%rax$")
        w = fc.Walker(img, {"f_slow"}, keys, facts=[(rx, (False, False),
                                                      "not NULL")])
        notes = {st.ins.addr: st.note for st in w.path("f")}
        self.assertIn("not NULL: not taken", notes[0x123])
        w = fc.Walker(img, {"f_slow"}, keys, facts=[(rx, (True, False),
                                                      "NULL")])
        self.assertIsNone(w.path("f"))

    def test_free_other_fact(self):
        rx = fc.OP_FACTS["free-other"][0][0]
        self.assertTrue(rx.match(insn("cmp    0x8(%rax),%rsi").text))
        self.assertFalse(rx.match(insn("cmp    0xc(%rax),%ecx").text))

    def test_key_on_takes_the_slow_path(self):
        self.assertIsNone(walk("f", key_on=True))

    def test_every_way_slow(self):
        self.assertIsNone(walk("s"))

    def test_unpatched_pv_call_is_an_irq_toggle(self):
        p = walk("g", xenpv=True)
        self.assertEqual(p[0].ins.addr, 0x200)
        self.assertIn("irq", p[0].cls)
        self.assertEqual(fc.count(p)["irq"], 2)

    def test_retry_is_not_a_loop(self):
        self.assertFalse(any(st.loop for st in walk("g")))

    def test_loop(self):
        p = walk("b")
        self.assertEqual(addrs(p), [0x400, 0x402, 0x410, 0x413, 0x404,
                                    0x408, 0x40c, 0x410, 0x413, 0x415,
                                    0x416, 0x417])
        loop = {st.ins.addr for st in p if st.loop}
        self.assertEqual(loop, {0x410, 0x413, 0x404, 0x408, 0x40c})
        self.assertEqual(fc.count(p)["irq"], 2)
        self.assertEqual(fc.count(p, True)["irq"], 0)

    def test_sink_matches_clones(self):
        w = fc.Walker(fc.Image("t", {}, []), {"init_object"})
        self.assertTrue(w.sink("init_object.isra.0"))
        self.assertTrue(w.sink("__SCT__preempt_schedule"))
        self.assertFalse(w.sink("gom_alloc"))


class TestValues(unittest.TestCase):
    def test_track_rax(self):
        self.assertEqual(fc.track_rax(insn("xor    %eax,%eax"), None), 0)
        self.assertEqual(fc.track_rax(insn("mov    $0x2a,%eax"), None), 42)
        self.assertIsNone(fc.track_rax(insn("mov    (%rdi),%rax"), 0))
        self.assertEqual(fc.track_rax(insn("mov    (%rdi),%rdx"), 7), 7)

    def test_flags(self):
        self.assertEqual(fc.rax_flags(insn("test   %eax,%eax"), 0),
                         (True, False))
        self.assertEqual(fc.rax_flags(insn("cmp    $0xffffff86,%eax"), 0),
                         (False, True))
        self.assertIsNone(fc.rax_flags(insn("test   %eax,%eax"), None))

    def test_jcc(self):
        self.assertTrue(fc.JCC["jbe"](False, True))
        self.assertFalse(fc.JCC["ja"](True, False))


class TestTables(unittest.TestCase):
    def test_module_jumps(self):
        text = ("RELOCATION RECORDS FOR [__jump_table]:\n"
                "OFFSET           TYPE              VALUE\n"
                "0000000000000000 R_X86_64_PC32     .text+0x0000000000000e75\n"
                "0000000000000004 R_X86_64_PC32     .text+0x0000000000000f1a\n"
                "0000000000000008 R_X86_64_PC64     init_on_alloc+0x0000000000000003\n"
                "0000000000000010 R_X86_64_PC32     .text+0x0000000000000010\n"
                "0000000000000014 R_X86_64_PC32     .text+0x0000000000000020\n"
                "0000000000000018 R_X86_64_PC64     __tracepoint_x+0x000000000000000a\n")
        j = fc.module_jumps(text)
        self.assertEqual(j[(".text", 0xe75)],
                         ("init_on_alloc", 1, (".text", 0xf1a)))
        self.assertEqual(j[(".text", 0x10)][:2], ("__tracepoint_x+0x8", 0))
        self.assertEqual(fc.key_name("__tracepoint_x+0x8"), "trace:x")

    def test_kallsyms(self):
        ro, rb, n = kallsyms_blob([(0x1000, "Tgom_alloc"), (0x0, "T_text"),
                                   (0x1fb40, "A__preempt_count")])
        syms = fc.kallsyms_at(ro, rb, n)
        base = 0xffffffff81000000
        self.assertEqual(syms, [(0x1fb40, "A", "__preempt_count"),
                                (base, "T", "_text"),
                                (base + 0x1000, "T", "gom_alloc")])

    def test_cell(self):
        r = {"counts": {"irq": 3, "locked": 1, "barrier": 0},
             "loop": {"irq": 2, "locked": 1, "barrier": 0}}
        self.assertEqual([fc.cell(r, c) for c in ("irq", "locked",
                                                  "barrier")],
                         ["3(2*)", "1*", "0"])


def kallsyms_blob(syms):
    """A .rodata with kallsyms tables as scripts/kallsyms.c lays them out
    (base relative, absolute per-CPU): offsets, relative_base, num_syms,
    names, markers, seqs_of_names, token_table, token_index. Tokens are
    single bytes, but 0x80 stands for "gom_"."""
    base = 0xffffffff81000000
    toks = [bytes([i]) if 0x20 < i < 0x7f else b"~%d" % i for i in range(256)]
    toks[0x80] = b"gom_"
    ro = bytearray(b"\xaa" * 8)
    offs = []
    for addr, name in syms:
        offs.append(addr if name[0] == "A" else -(addr + 1))
    ro += struct.pack(f"<{len(syms)}i", *offs)
    ro += b"\0" * (-len(ro) % 8)
    rb = len(ro)
    ro += struct.pack("<QI", base, len(syms)) + b"\0" * 4
    for _, name in syms:
        enc = name.encode().replace(b"gom_", b"\x80")
        ro += bytes([len(enc)]) + enc
    ro += b"\0" * (-len(ro) % 8) + struct.pack("<I", 0) + b"\0" * 4
    ro += b"\0\0\0" * len(syms) + b"\0" * (-len(ro) % 8)
    idx, table = [], bytearray()
    for t in toks:
        idx.append(len(table))
        table += t + b"\0"
    ro += table
    ro += b"\0" * (-len(ro) % 8) + struct.pack("<256H", *idx)
    return bytes(ro), rb, len(syms)


if __name__ == "__main__":
    sys.exit(unittest_tally.main(__name__, sys.argv[1:], __doc__))
