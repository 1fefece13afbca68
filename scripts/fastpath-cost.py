#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""What the allocation fast paths cost the hardware, read from the code.

QEMU's icount prices every instruction alike. This reads the machine code
of gomalloc's fast paths (gom_alloc, gom_free, the bulk calls) in the
built gomalloc.ko and of SLUB's (__kmalloc, kfree, kmem_cache_alloc,
kmem_cache_free, the bulk calls) in Debian's stock kernel, walks each hit
path and counts what icount hides: interrupt toggles, locked instructions,
per-CPU cmpxchg, barriers.

The hit path: the per-CPU cache has the object (or room for it), and
the kernel runs as the benchmark's guest does: static keys as there
(tracing, debugging and memcg accounting off, gomalloc's heap profile on,
init_on_alloc=0 as in the icount-ioa0 mode), alternatives applied for a CPU
with CMPXCHG16B that is not a Xen PV guest, static calls as with
preempt=voluntary. The walk starts at the entry and descends into every
call but the slow ones (SLOW, preempt_schedule, a stack-protector
failure; ud2 ends a way too). A conditional branch goes where the call's
arguments send it when FACTS or a value a callee returned decide it
(GFP_KERNEL, NUMA_NO_NODE, a real pointer, a 0 returned); else the walk
follows fall-through and backtracks to the other side where a way only
leads to slow paths, enters a loop body not yet run and leaves a loop
once its body has run. A bulk call counts one object and one pass
through each loop, and the table marks what sits in a loop. --show-path
prints every path instruction by instruction, to check against objdump.

usage: scripts/fastpath-cost.py [--flavour 6.1] [--ko FILE] [--vmlinux FILE
                                 --system-map FILE] [--key NAME=on|off]...
                                 [--json] [--show-path] [--out DIR]
  Defaults: the module built by scripts/build-modules.sh in build/6.1 and
  the stock kernel that scripts/setup.sh recorded for the flavour; its
  vmlinux is extracted (scripts/extract-vmlinux of the kernel source tree)
  and, as Debian's System.map is a placeholder, its symbols read from the
  image's kallsyms, both cached in $GOM_CACHE/fastpath-cost/<kver>/.
  --key sets a static key otherwise (the counts are checked against the
  benchmark only as it runs). --out DIR writes DIR/fastpath-cost.txt and
  DIR/fastpath-cost.json too.
"""

import argparse
import bisect
import collections
import glob
import json
import lzma
import os
import re
import struct
import subprocess
import sys

XZ_MAGIC = b"\xfd7zXZ\x00"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (op, allocator, entry, extra slow functions for this entry)
OPS = [
    ("alloc", "gomalloc", "gom_alloc", ()),
    ("free", "gomalloc", "gom_free", ()),
    ("free-other", "gomalloc", "gom_free", ()),
    ("alloc", "SLUB", "__kmalloc", ()),
    ("free", "SLUB", "kfree", ()),
    ("cache-alloc", "SLUB", "kmem_cache_alloc", ()),
    ("cache-free", "SLUB", "kmem_cache_free", ()),
    # gom_free_bulk() frees what gom_mcache_free_bulk() leaves one by one
    ("bulk-alloc", "gomalloc", "gom_alloc_bulk", ()),
    ("bulk-free", "gomalloc", "gom_free_bulk", ("gom_free",)),
    ("bulk-alloc", "SLUB", "kmem_cache_alloc_bulk", ()),
    ("bulk-free", "SLUB", "kmem_cache_free_bulk", ()),
]
PAIRS = [("pair", "alloc", "free"),
         ("pair-other", "alloc", "free-other"),
         ("cache-pair", "cache-alloc", "cache-free"),
         ("bulk-pair", "bulk-alloc", "bulk-free")]

# Slow paths: a call to one of these leaves the hit path.
SLOW = {
    # mod/api.c and mod/mcache.c: the noinline miss, large, debug and
    # sampling paths; the magazine's refill and flush
    "gomalloc": {
        "alloc_miss", "finish_slow", "finish_sample", "init_object",
        "alloc_large",
        "alloc_debug", "alloc_remote", "alloc_error", "alloc_each",
        "free_slow", "free_one", "free_debug", "free_other", "free_run",
        "gom_mcache_refill", "gom_mcache_free_slow", "gom_mcentral_flush",
        "gom_reclaim", "gom_profile_alloc",
        "release_bulk",
    },
    # mm/slub.c (6.1): the slab refill, the remote free, large kmalloc,
    # and the hooks that only run with accounting, KFENCE or debugging on
    "SLUB": {
        "___slab_alloc", "__slab_alloc", "__slab_free", "slab_free_hook",
        "__kmalloc_large_node", "kmalloc_large", "kmalloc_large_node",
        "free_large_kmalloc", "__free_pages", "__kmem_cache_alloc_bulk",
        "get_obj_cgroup_from_current", "obj_cgroup_charge",
        "obj_cgroup_uncharge", "__memcg_slab_free_hook",
        "memcg_alloc_slab_cgroups", "kfence_free", "__kfence_alloc",
        "__kfence_free", "set_track_prepare", "free_debug_processing",
        "alloc_debug_processing",
    },
}
SINK_RE = re.compile(r"^(__SCT__preempt_schedule\w*|preempt_schedule\w*"
                     r"|__stack_chk_fail|__warn_printk|warn_\w+|__ubsan\w*"
                     r"|report_bug|panic|dump_stack\w*|__kasan_report)$")
IRQ_CALL_RE = re.compile(r"^(arch_local_irq_\w+|arch_local_save_flags"
                         r"|native_(irq_disable|irq_enable|save_fl|restore_fl)"
                         r"|trace_hardirqs_(on|off)\w*)$")
PREEMPT_CALL_RE = re.compile(r"^(preempt_count_(add|sub)"
                             r"|__preempt_count_\w+)$")
RET_RE = re.compile(r"^(__x86_return_thunk|__x86_return_skl|zen_untrain_ret"
                    r"|srso_\w*return\w*)$")
ITHUNK_RE = re.compile(r"^__x86_indirect_(call_)?thunk_\w+$")

# What the benchmark's calls pass, where the hit path branches on it:
# (the instruction before a conditional jump, (ZF, CF) after it, why).
# kmalloc(size, GFP_KERNEL) may sleep (bit 10, __GFP_DIRECT_RECLAIM, is
# set), asks for no node (NUMA_NO_NODE, -1), and what is freed is an
# object, not NULL or ZERO_SIZE_PTR (16).
FACTS = [
    (re.compile(r"^test \$0x4,%[abcd]h$|^(test|and)l? \$0x400,%\w+$"),
     (False, False), "GFP_KERNEL has __GFP_DIRECT_RECLAIM"),
    (re.compile(r"^cmp \$0xffffffff,%\w+$"), (True, False),
     "node is NUMA_NO_NODE"),
    (re.compile(r"^cmp \$0x10,%\w+$"), (False, False),
     "a pointer, not ZERO_OR_NULL_PTR"),
]
# FACTS of one op only. gom_free()'s hit path is the free of the object
# the CPU handed out last (its memo: the object's mark, at offset 8 of
# struct gom_mcache, compared with the pointer's), as in the benchmark's
# hot pair; free-other frees any other object.
OP_FACTS = {
    "free-other": [(re.compile(r"^cmp 0x8\(%\w+\),%r\w+$"),
                    (False, False), "not the CPU's memo")],
}
# Conditional jumps decided by (ZF, CF).
JCC = {"je": lambda z, c: z, "jz": lambda z, c: z,
       "jne": lambda z, c: not z, "jnz": lambda z, c: not z,
       "jb": lambda z, c: c, "jc": lambda z, c: c, "jnae": lambda z, c: c,
       "jae": lambda z, c: not c, "jnb": lambda z, c: not c,
       "jnc": lambda z, c: not c, "jbe": lambda z, c: z or c,
       "jna": lambda z, c: z or c, "ja": lambda z, c: not (z or c),
       "jnbe": lambda z, c: not (z or c)}
# Static calls as Debian's kernels boot (preempt=voluntary).
STATIC_CALLS = {"__SCT__might_resched": "__cond_resched",
                "__SCT__cond_resched": "__cond_resched"}

# Alternatives: the CPU the counts are for (QEMU -cpu max, any current
# x86-64 server): these features present, every other one absent.
CPU_FEATURES = {"ALWAYS", "CX8", "CX16", "FXSR", "XMM", "XMM2", "XMM3",
                "NOPL", "POPCNT", "ERMS", "FSRM", "XSAVE", "RDTSCP"}
# Keys as the benchmark's guest runs, where not the compile-time default:
# gomalloc loads with profile_rate=524288, which turns the heap profile's
# countdown on; the benchmark's icount-ioa0 mode boots init_on_alloc=0.
KEY_STATE = {"gom_profile_key": True, "init_on_alloc": False}

CLASSES = ["instrs", "irq", "locked", "pcpu_cmpxchg", "cmpxchg", "barrier",
           "preempt", "calls", "keys", "ftrace"]
HEAD = {"instrs": "instrs", "irq": "irq", "locked": "locked",
        "pcpu_cmpxchg": "pcpu-cmpxchg", "cmpxchg": "cmpxchg",
        "barrier": "fence", "preempt": "preempt", "calls": "calls",
        "keys": "keys", "ftrace": "ftrace"}
# Rough cost on current x86 cores, uncontended, for the "hardware pays"
# line: (low, high) cycles per instruction of the class.
CYCLES = {"irq": (2, 20), "locked": (18, 25), "pcpu_cmpxchg": (20, 30),
          "cmpxchg": (10, 30), "barrier": (30, 40)}

PREFIXES = {"lock", "rep", "repz", "repnz", "repe", "repne", "cs", "ds",
            "es", "ss", "fs", "gs", "data16", "addr32", "notrack", "bnd",
            "xacquire", "xrelease"}


class Error(Exception):
    pass


def log(msg):
    sys.stderr.write(f"fastpath-cost: {msg}\n")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise Error(f"{' '.join(cmd[:3])}...: {r.stderr.strip()[:300]}")
    return r.stdout


# ---- instructions ----------------------------------------------------------

class Insn:
    """One instruction of objdump -d --no-show-raw-insn [-r] output."""

    def __init__(self, sec, addr, text):
        self.sec, self.addr, self.size = sec, addr, None
        self.text = " ".join(text.split("#")[0].split())
        cm = re.search(r"#\s*(?:0x)?([0-9a-f]+)", text)
        self.comment = int(cm.group(1), 16) if cm else None
        words = self.text.split(" ", 1)
        self.prefixes = set()
        while words and words[0] in PREFIXES and len(words) > 1:
            self.prefixes.add(words[0])
            words = words[1].split(" ", 1)
        self.mnem = words[0]
        self.ops = words[1] if len(words) > 1 else ""
        self.relocs = []
        self.target = None
        self.tname = None
        m = re.match(r"^(?:0x)?([0-9a-f]+)(?: <([^>]+)>)?$", self.ops)
        if m and self.is_branch():
            self.target = int(m.group(1), 16)
            self.tname = m.group(2)

    def is_branch(self):
        return self.mnem.startswith("j") or self.mnem.startswith("call")

    def is_jcc(self):
        return self.mnem.startswith("j") and not self.mnem.startswith("jmp")

    def indirect(self):
        return self.is_branch() and self.ops.startswith("*")

    def reloc_sym(self):
        """The symbol a relocation of this instruction names, sans addend."""
        for _, sym in self.relocs:
            return re.sub(r"[-+]0x[0-9a-f]+$", "", sym)
        return None

    def __repr__(self):
        return f"{self.addr:x}: {self.text}"


INSN_RE = re.compile(r"^\s*([0-9a-f]+):\t(.*)$")
RELOC_RE = re.compile(r"^\s*([0-9a-f]+): (R_X86_64_\w+)\s+(\S+)$")
FUNC_RE = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
SEC_RE = re.compile(r"^Disassembly of section (\S+):$")


def parse_objdump(text, one_sec=None):
    """objdump -d [-r] text: ({(sec, addr): Insn}, [(sec, start, name)]);
    with one_sec, every instruction is in that section (a linked image)."""
    insns, funcs, last = {}, [], None
    sec = one_sec or ""
    for line in text.splitlines():
        m = SEC_RE.match(line)
        if m:
            sec = one_sec if one_sec is not None else m.group(1)
            continue
        m = FUNC_RE.match(line)
        if m:
            funcs.append((sec, int(m.group(1), 16), m.group(2)))
            continue
        m = RELOC_RE.match(line)
        if m and last is not None:
            last.relocs.append((m.group(2), m.group(3)))
            continue
        m = INSN_RE.match(line)
        if m and m.group(2).strip() and not m.group(2).startswith("..."):
            ins = Insn(sec, int(m.group(1), 16), m.group(2))
            if last is not None and last.sec == sec and last.size is None:
                last.size = ins.addr - last.addr
            insns[(sec, ins.addr)] = ins
            last = ins
    return insns, funcs


# ---- images ----------------------------------------------------------------

class Image:
    """Code, symbols, static keys and alternatives of a module or vmlinux.

    Addresses are (section, offset) pairs; vmlinux has one section "".
    jumps: {(sec, addr): (key, branch, (sec, target))};
    alts: {(sec, addr): [(feature, inverted, instrlen, [Insn...])]}.
    """

    def __init__(self, name, insns, funcs, jumps=None, alts=None,
                 features=None):
        self.name = name
        self.insns = insns
        self.jumps = jumps or {}
        self.alts = alts or {}
        self.features = features or {}
        self.set_funcs(funcs)

    def set_funcs(self, funcs):
        self.funcs = sorted(set(funcs))
        self.starts = {}
        for sec, addr, name in self.funcs:
            self.starts.setdefault(name, (sec, addr))
        self.locs = [(s, a) for s, a, _ in self.funcs]

    def func_of(self, loc):
        """(name, start) of the function holding loc, or (None, None)."""
        i = bisect.bisect_right(self.locs, loc) - 1
        if i < 0 or self.funcs[i][0] != loc[0]:
            return None, None
        sec, addr, name = self.funcs[i]
        return name, (sec, addr)

    def func_end(self, start):
        i = bisect.bisect_right(self.locs, start)
        while i < len(self.funcs) and self.locs[i] == start:
            i += 1
        if i < len(self.funcs) and self.funcs[i][0] == start[0]:
            return self.funcs[i][1]
        return None

    def insn(self, loc):
        return self.insns.get(loc)

    def callee(self, ins):
        """Name of a direct call or jump's target function, and its entry."""
        sym = ins.reloc_sym()
        if sym and not sym.startswith("."):
            if sym in self.starts:
                return sym, self.starts[sym]
            return sym, None
        if ins.target is None:
            return None, None
        loc = (ins.sec, ins.target)
        if sym and sym.startswith("."):
            loc = (sym, ins.target)
        name, start = self.func_of(loc)
        if start == loc:
            return name, loc
        return None, loc

    def percpu(self, ins):
        """The per-CPU variable a %gs: operand names, if known."""
        if "%gs:" not in ins.ops:
            return None
        sym = ins.reloc_sym()
        if sym:
            return sym
        return self.percpu_at(ins.comment)

    def percpu_at(self, addr):
        return None

    def alt_body(self, ref):
        return ref


class Module(Image):
    """A relocatable .ko: objdump -d -r, relocations of __jump_table and
    .altinstructions."""

    @classmethod
    def load(cls, path, features):
        text = run(["objdump", "-d", "-r", "--no-show-raw-insn", path])
        insns, funcs = parse_objdump(text)
        img = cls(path, insns, funcs, features=features)
        img.jumps = module_jumps(run(["objdump", "-r", "-j", "__jump_table",
                                      path]))
        img.alts = module_alts(path, img)
        return img


def reloc_loc(value):
    """'.text+0x00e75' -> ('.text', 0xe75); 'sym+0x2' -> ('sym', 2)."""
    m = re.match(r"^([^+-]+)(?:([+-])0x([0-9a-f]+))?$", value)
    off = int(m.group(3), 16) if m.group(3) else 0
    return m.group(1), -off if m.group(2) == "-" else off


def relocs_by_offset(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]{8,}) (R_X86_64_\w+)\s+(\S+)$", line)
        if m:
            out[int(m.group(1), 16)] = reloc_loc(m.group(3))
    return out


def module_jumps(text):
    """struct jump_entry {s32 code, target; long key;}, from relocations."""
    rel, jumps = relocs_by_offset(text), {}
    for off in sorted(o for o in rel if o % 16 == 0):
        if off + 4 not in rel or off + 8 not in rel:
            continue
        key, flags = rel[off + 8]
        kname = key + (f"+{flags & ~3:#x}" if flags & ~3 else "")
        jumps[rel[off]] = (kname, flags & 1, rel[off + 4])
    return jumps


def module_alts(path, img):
    """struct alt_instr (12 bytes) from .altinstructions and relocations."""
    raw = section_bytes(path, ".altinstructions")
    if not raw:
        return {}
    rel = relocs_by_offset(run(["objdump", "-r", "-j", ".altinstructions",
                                path]))
    alts = collections.defaultdict(list)
    for off in range(0, len(raw) - 11, 12):
        cpuid, ilen, rlen = struct.unpack_from("<HBB", raw, off + 8)
        site, repl = rel.get(off), rel.get(off + 4)
        if not site or not repl:
            continue
        body = [i for (s, a), i in sorted(img.insns.items())
                if s == repl[0] and repl[1] <= a < repl[1] + rlen]
        fix_last_size(body, repl[1] + rlen)
        alts[site].append((cpuid & 0x7fff, bool(cpuid & 0x8000), ilen, body))
    return dict(alts)


class Vmlinux(Image):
    """A linked, stripped vmlinux and its System.map; code is disassembled
    one function at a time, when the walk reaches it."""

    def __init__(self, path, symmap, features):
        self.path = path
        self.elf = elf_sections(path)
        syms = read_system_map(symmap)
        funcs = [("", a, n) for a, t, n in syms if t in "tTW"]
        self.data = sorted((a, n) for a, t, n in syms)
        self.daddr = [a for a, _ in self.data]
        self.byname = {n: a for a, _, n in syms}
        self.done = set()
        super().__init__(path, {}, funcs, features=features)
        self.jumps = self.read_jumps()
        self.alts = self.read_alts()

    def sym(self, addr):
        i = bisect.bisect_right(self.daddr, addr) - 1
        if i < 0:
            return hex(addr)
        a, n = self.data[i]
        return n if a == addr else f"{n}+{addr - a:#x}"

    def percpu_at(self, addr):
        return self.sym(addr) if addr is not None and addr < 1 << 32 else None

    def read(self, addr, size):
        for name, vaddr, off, sz in self.elf:
            if vaddr <= addr and addr + size <= vaddr + sz:
                with open(self.path, "rb") as f:
                    f.seek(off + addr - vaddr)
                    return f.read(size)
        raise Error(f"{addr:#x} is in no section of {self.path}")

    def disasm(self, start, end):
        text = run(["objdump", "-d", "--no-show-raw-insn", "-w",
                    f"--start-address={start:#x}",
                    f"--stop-address={end:#x}", self.path])
        return parse_objdump(text, "")[0]

    def insn(self, loc):
        name, start = self.func_of(loc)
        if start and start not in self.done:
            self.done.add(start)
            end = self.func_end(start) or start[1] + 0x1000
            self.insns.update(self.disasm(start[1], end))
        return self.insns.get(loc)

    def read_jumps(self):
        lo, hi = (self.byname.get("__start___jump_table"),
                  self.byname.get("__stop___jump_table"))
        if lo is None or hi is None:
            return {}
        raw, jumps = self.read(lo, hi - lo), {}
        for off in range(0, len(raw), 16):
            code, target, key = struct.unpack_from("<iiq", raw, off)
            e = lo + off
            key += e + 8
            jumps[("", e + code)] = (self.sym(key & ~3), key & 1,
                                     ("", e + 4 + target))
        return jumps

    def read_alts(self):
        sec = [s for s in self.elf if s[0] == ".altinstructions"]
        if not sec:
            return {}
        base = sec[0][1]
        raw = self.read(base, sec[0][3])
        alts = collections.defaultdict(list)
        for off in range(0, len(raw) - 11, 12):
            io, ro, cpuid, ilen, rlen = struct.unpack_from("<iiHBB", raw, off)
            e = base + off
            alts[("", e + io)].append((cpuid & 0x7fff, bool(cpuid & 0x8000),
                                       ilen, (e + 4 + ro, rlen)))
        return dict(alts)

    def alt_body(self, ref):
        if isinstance(ref, tuple):
            start, size = ref
            if not size:
                return []
            insns, _ = parse_objdump(run(
                ["objdump", "-d", "--no-show-raw-insn", "-w",
                 f"--start-address={start:#x}",
                 f"--stop-address={start + size:#x}", self.path]), "")
            body = [insns[k] for k in sorted(insns)]
            return fix_last_size(body, start + size)
        return ref


def fix_last_size(body, end):
    """The last instruction of a replacement ends where the replacement
    does; objdump gives no next instruction to measure it by."""
    if body:
        body[-1].size = end - body[-1].addr
    return body


def elf_sections(path):
    """[(name, addr, offset, size)] of a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        hdr = f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
            raise Error(f"{path} is not a 64-bit ELF file")
        shoff, = struct.unpack_from("<Q", hdr, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", hdr, 0x3a)
        f.seek(shoff)
        tab = f.read(shentsize * shnum)
        secs = [struct.unpack_from("<IIQQQQ", tab, i * shentsize)
                for i in range(shnum)]
        f.seek(secs[shstrndx][4])
        names = f.read(secs[shstrndx][5])
    out = []
    for nm, typ, _, addr, off, size in secs:
        name = names[nm:names.index(b"\0", nm)].decode()
        if typ != 8:    # SHT_NOBITS
            out.append((name, addr, off, size))
    return out


def section_bytes(path, name):
    for sec, _, off, size in elf_sections(path):
        if sec == name:
            with open(path, "rb") as f:
                f.seek(off)
                return f.read(size)
    return b""


def read_system_map(path):
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3:
                out.append((int(p[0], 16), p[1], p[2]))
    return out


# ---- kallsyms: the symbols of a stripped vmlinux ---------------------------

DIGITS = b"".join(b"%d\0" % i for i in range(10))


def kallsyms(path):
    """[(addr, type, name)] from the kallsyms tables in .rodata (base
    relative offsets, absolute per-CPU symbols, as x86-64 builds them).
    Anchor: kallsyms_relative_base (= the start of .text) followed by
    kallsyms_num_syms; the names follow, then the token table."""
    secs = {s[0]: s for s in elf_sections(path)}
    _, _, off, size = secs[".rodata"]
    with open(path, "rb") as f:
        f.seek(off)
        ro = f.read(size)
    text = struct.pack("<Q", secs[".text"][1])
    for rb in range(0, len(ro) - 16, 8):
        rb = ro.find(text, rb)
        if rb < 0:
            break
        if rb % 8:
            continue
        n, = struct.unpack_from("<I", ro, rb + 8)
        if 1000 < n < 4000000 and rb >= 4 * n:
            syms = kallsyms_at(ro, rb, n)
            if syms:
                return syms
    raise Error(f"no kallsyms tables found in {path}")


def kallsyms_at(ro, rb, n):
    """The symbols of tables whose relative_base is at ro[rb], or None."""
    try:
        return kallsyms_decode(ro, rb, n)
    except (ValueError, IndexError, struct.error, UnicodeDecodeError):
        return None


def kallsyms_decode(ro, rb, n):
    base, = struct.unpack_from("<Q", ro, rb)
    names = rb + 16
    dp = ro.find(DIGITS, names)
    if dp < 0:
        return None
    p = dp
    for _ in range(256 - 0x30):
        p = ro.index(b"\0", p) + 1
    idx = struct.unpack_from("<256H", ro, (p + 7) & ~7)
    start = dp - idx[0x30]
    if idx[0] != 0 or start < names:
        return None
    toks = [ro[start + o:ro.index(b"\0", start + o)].decode("latin-1")
            for o in idx]
    # the offsets start 8-aligned and end where alignment lets base start
    offs = struct.unpack_from(f"<{n}i", ro, rb - ((4 * n + 7) & ~7))
    p, out = names, []
    for i in range(n):
        ln = ro[p]
        p += 1
        if ln & 0x80:
            ln = (ln & 0x7f) | (ro[p] << 7)
            p += 1
        s = "".join(toks[b] for b in ro[p:p + ln])
        p += ln
        o = offs[i]
        out.append((o if o >= 0 else base - 1 - o, s[0], s[1:]))
    return sorted(out)


# ---- the walk --------------------------------------------------------------

Step = collections.namedtuple("Step", "func ins cls note depth loop other "
                              "where", defaults=((), ""))


class Walker:
    """Hit paths of one image; a function's path is found once and reused."""

    def __init__(self, img, slow, keys=None, extern=None, facts=()):
        self.img = img
        self.extern = extern
        self.facts = FACTS + list(facts)
        self.slow = set(slow)
        self.keys = keys or {}
        self.memo = {}
        self.retval = {}
        self.ret = None
        self.stack = []
        self.why = []

    def path(self, name):
        """The steps of name's hit path, or None if every path is slow."""
        if name in self.memo:
            return self.memo[name]
        if name in self.stack:
            return None
        start = self.img.starts.get(name)
        if start is None:
            raise Error(f"{name} is not in {self.img.name}")
        base = len(self.stack)
        self.stack.append(name)
        try:
            found = self.dfs(name, start, collections.Counter(), 0)
        finally:
            self.stack.pop()
        steps = None
        if found is not None:
            steps = mark_loops([st._replace(depth=st.depth - base)
                                for st in found[0]])
            self.retval[name] = found[1]
        else:
            self.why.append(f"{name}: no path to a return avoids a slow path")
        self.memo[name] = steps
        return steps

    def sink(self, name):
        base = re.sub(r"(\.(isra|constprop|part|cold|llvm)(\.\d+)?)+$", "",
                      name or "")
        return base in self.slow or bool(SINK_RE.match(base))

    def mk(self, fn, ins, cls, note=""):
        """A step of fn's path, with where it is for --show-path."""
        name, start = self.img.func_of((ins.sec, ins.addr))
        where = f"{name}+{ins.addr - start[1]:#x}" if name else f"{fn} (alt)"
        return Step(fn, ins, cls, note, len(self.stack) - 1, False, (),
                    where)

    def dfs(self, fn, loc, visits, budget, prev=None, rax=None):
        """(steps from loc to fn's return, %rax there if known); None if
        every way ends slow."""
        steps = []
        while True:
            budget += 1
            if budget > 20000 or visits[loc] >= 2:
                return None
            visits[loc] += 1
            ins = self.img.insn(loc)
            if ins is None:
                self.why.append(f"{fn}: no instruction at {loc[1]:#x}")
                return None
            self.ret = None
            kind, arg, new = self.step(fn, ins, visits, prev, rax)
            if kind == "fail":
                return None
            steps += new
            rax = self.rax_after(new, rax)
            prev = ins
            if kind == "ret":
                return steps, rax
            if kind == "goto":
                loc = arg
                continue
            for nxt in arg:
                rest = self.dfs(fn, nxt, visits.copy(), budget, prev, rax)
                if rest is not None:
                    other = tuple(o for o in arg if o != nxt)
                    return steps[:-1] + [steps[-1]._replace(other=other)] \
                        + rest[0], rest[1]
            return None

    def rax_after(self, new, rax):
        """%rax after this function's own steps in new; a followed call
        leaves what its callee returns."""
        d = len(self.stack) - 1
        for st in new:
            if st.depth != d:
                continue
            if st.ins.mnem.startswith("call") or \
                    st.note.startswith("tail call"):
                rax = self.ret
            else:
                rax = track_rax(st.ins, rax)
        return rax

    def next_loc(self, ins, size=None):
        size = size if size is not None else ins.size
        if size is None:
            return None
        return (ins.sec, ins.addr + size)

    def step(self, fn, ins, visits, prev, rax):
        """What ins does on the path: (kind, arg, [Step])."""
        loc = (ins.sec, ins.addr)
        if loc in self.img.jumps:
            return self.jump_label(fn, ins)
        if loc in self.img.alts:
            alt = self.alternative(fn, ins)
            if alt:
                return alt
        here = self.mk(fn, ins, classify(self.img, ins))
        m = ins.mnem
        if m.startswith("ret"):
            return "ret", None, [here]
        if m in ("ud2", "int3", "hlt", "ud1", "ud0"):
            return "fail", None, []
        if m.startswith("call"):
            return self.call(fn, ins, here)
        if m.startswith("jmp"):
            return self.jmp(fn, ins, here)
        if ins.is_jcc() and ins.target is not None:
            fact = self.fact(ins, prev, rax)
            if fact:
                return "goto", fact[0], [here._replace(note=fact[1])]
            return "branch", self.choices(ins, visits), [here]
        return "goto", self.next_loc(ins), [here]

    def choices(self, ins, visits):
        """Where not yet been first; then fall-through, but a backward
        branch (into a loop body) first."""
        fall, tgt = self.next_loc(ins), (ins.sec, ins.target)
        back = ins.target < ins.addr and self.loops_back(tgt, ins)
        order = [tgt, fall] if back else [fall, tgt]
        return sorted(order, key=lambda x: visits[x] > 0)

    def loops_back(self, loc, branch, limit=400):
        """Whether straight-line code from loc (fall-through at branches,
        jumps followed) comes back to branch: a loop's back edge, not code
        laid out out of order."""
        for _ in range(limit):
            ins = self.img.insn(loc)
            if ins is None or ins.mnem.startswith("ret"):
                return False
            if ins is branch:
                return True
            if ins.mnem.startswith("jmp"):
                if ins.indirect() or ins.target is None or \
                        self.img.callee(ins)[0] is not None:
                    return False
                loc = (ins.sec, ins.target)
            else:
                loc = self.next_loc(ins)
        return False

    def fact(self, ins, prev, rax):
        """(next location, why) where FACTS or a known return value
        decide a je/jne."""
        if prev is None or ins.mnem not in JCC:
            return None
        flags = rax_flags(prev, rax)
        why = f"returned {rax:#x}" if flags is not None else ""
        for rx, fflags, fwhy in self.facts:
            if flags is None and rx.match(prev.text):
                flags, why = fflags, fwhy
        if flags is None:
            return None
        taken = JCC[ins.mnem](*flags)
        nxt = (ins.sec, ins.target) if taken else self.next_loc(ins)
        return nxt, f"{why}: {'taken' if taken else 'not taken'}"

    def jump_label(self, fn, ins):
        loc = (ins.sec, ins.addr)
        key, branch, target = self.img.jumps[loc]
        built_jmp = ins.mnem.startswith("jmp")
        default_on = built_jmp ^ bool(branch)
        kname = key_name(key)
        on = self.keys.get(kname, self.keys.get(key, default_on))
        jmp = bool(on) ^ bool(branch)
        note = f"static key {kname} {'on' if on else 'off'}: " + \
            ("jmp" if jmp else "nop")
        st = self.mk(fn, ins, {"keys"}, note)
        if jmp:
            return "goto", target, [st]
        return "goto", self.next_loc(ins), [st]

    def alternative(self, fn, ins):
        """Replace ins (and what else the site covers) by the alternative
        the CPU gets, if any applies."""
        loc = (ins.sec, ins.addr)
        chosen = None
        for feat, inv, ilen, body in self.img.alts[loc]:
            name = self.img.features.get(feat, f"feature {feat}")
            if (name in CPU_FEATURES) != inv:
                chosen = (name, inv, ilen, body)
        if chosen is None:
            return self.unpatched(fn, ins)
        name, inv, ilen, body = chosen
        body = self.img.alt_body(body)
        note = f"alternative ({'not ' if inv else ''}{name}) for: {ins.text}"
        steps = [self.mk(fn, b, classify(self.img, b), note)._replace(
            where=f"{fn} (alt)") for b in body]
        blen = sum(b.size or 0 for b in body)
        if blen < ilen:
            pad = Insn(ins.sec, ins.addr + blen, "nop")
            steps.append(self.mk(fn, pad, set(), "alternative padding"))
        return "goto", self.next_loc(ins, ilen), steps

    def unpatched(self, fn, ins):
        """A site left as built: a paravirt call whose native alternative
        toggles interrupts still does so, through the hypervisor."""
        loc = (ins.sec, ins.addr)
        irq = any("irq" in classify(self.img, b)
                   for *_, ref in self.img.alts[loc]
                   for b in self.img.alt_body(ref))
        if not irq:
            return None
        return "goto", self.next_loc(ins), [self.mk(
            fn, ins, classify(self.img, ins) | {"irq"},
            "paravirt irq op, alternative not applied")]

    def call(self, fn, ins, here):
        if ins.indirect():
            return "goto", self.next_loc(ins), [here._replace(
                note="indirect call, not followed")]
        name, start = self.img.callee(ins)
        if name == "__fentry__":
            return "goto", self.next_loc(ins), [here._replace(
                cls={"ftrace"}, note="ftrace site: a nop unless traced")]
        if name and ITHUNK_RE.match(name):
            return "goto", self.next_loc(ins), [here._replace(
                note="indirect call, not followed")]
        if self.sink(name):
            return "fail", None, []
        if name and IRQ_CALL_RE.match(name) or \
                name and PREEMPT_CALL_RE.match(name):
            return "goto", self.next_loc(ins), [here]
        sub, note = self.follow(name, start)
        if sub is None:
            return "fail", None, []
        return "goto", self.next_loc(ins), [here._replace(note=note)] + sub

    def follow(self, name, start):
        """(steps, note) of a callee: in this image, else in the kernel;
        ([], note) for one that cannot be followed; (None, _) if slow."""
        target = STATIC_CALLS.get(name, name)
        note = f"static call: {target}" if target != name else ""
        w = self
        if target not in self.img.starts:
            w = self.extern
            if name is None or w is None or target not in w.img.starts:
                return [], f"call {name or '?'} outside the image, " \
                    "not followed"
            note = note or f"in {os.path.basename(w.img.name)}"
        if w.sink(target):
            return None, note
        sub = w.path(target)
        if sub is None:
            return None, note
        self.ret = w.retval.get(target)
        d = len(self.stack)
        return [st._replace(depth=st.depth + d) for st in sub], note

    def jmp(self, fn, ins, here):
        if ins.indirect():
            return "fail", None, []
        name, start = self.img.callee(ins)
        if name and RET_RE.match(name):
            return "ret", None, [here._replace(
                cls=here.cls | {"ret"}, note="return thunk: ret")]
        if name and ITHUNK_RE.match(name):
            return "fail", None, []
        if name is None and start is not None:
            return "goto", start, [here]
        if name == fn:
            return "goto", start, [here]
        if self.sink(name):
            return "fail", None, []
        sub, note = self.follow(name, start)
        if sub is None:
            return "fail", None, []
        return "ret", None, [here._replace(
            note=f"tail call {name}" + (f", {note}" if note else ""))] + sub


def mark_loops(steps):
    """Mark the steps of this function (depth of its first step) that lie
    on a cycle: from an address's first visit to its second, or to a
    branch that could go back to it. A cycle closed by a branch on a
    cmpxchg's outcome is a retry, not a loop. Calls from inside a loop
    take their callee's steps into it."""
    if not steps:
        return steps
    d0 = steps[0].depth
    own = [i for i, st in enumerate(steps) if st.depth == d0]
    first, loop = {}, set()
    for n, i in enumerate(own):
        st = steps[i]
        k = (st.ins.sec, st.ins.addr)
        ends = [(first[k], own[n - 1])] if k in first and n else []
        ends += [(first[o], i) for o in st.other if o in first]
        for p, q in ends:
            if not retry(steps, own, q):
                loop.update(range(p, q + 1))
        first.setdefault(k, i)
    out, inside = [], False
    for i, st in enumerate(steps):
        if st.depth == d0:
            inside = i in loop
        out.append(st._replace(loop=st.loop or inside))
    return out


RAX = {"%rax": 64, "%eax": 32, "%ax": 16, "%al": 8}


def track_rax(ins, rax):
    """%rax after ins, given it before (None: unknown). Knows only what
    return values are made of: xor to zero, mov of a constant."""
    ops = ins.ops.split(",")
    dest = ops[-1].strip() if ops else ""
    if dest not in RAX:
        return rax if ins.mnem not in ("cpuid", "rdtsc", "rdtscp", "xchg",
                                       "cmpxchg", "cmpxchg16b", "mul",
                                       "div", "imul", "cltq", "cqto",
                                       "cltd", "pop") else None
    if ins.mnem.startswith("xor") and ops[0].strip() == dest:
        return 0
    m = re.match(r"^\$(0x[0-9a-f]+|\d+)$", ops[0].strip())
    if ins.mnem.startswith("mov") and m and len(ops) == 2:
        return int(m.group(1), 0) & ((1 << RAX[dest]) - 1)
    if ins.mnem.startswith(("test", "cmp", "bt")):
        return rax
    return None


def rax_flags(prev, rax):
    """(ZF, CF) after prev if it tests %rax and %rax is known, else None."""
    if rax is None:
        return None
    ops = [o.strip() for o in prev.ops.split(",")]
    if prev.mnem.startswith("test") and len(ops) == 2 and \
            ops[0] == ops[1] and ops[0] in RAX:
        return rax & ((1 << RAX[ops[0]]) - 1) == 0, False
    m = re.match(r"^\$(0x[0-9a-f]+|\d+)$", ops[0]) if ops else None
    if prev.mnem.startswith("cmp") and m and len(ops) == 2 and \
            ops[1] in RAX:
        bits = (1 << RAX[ops[1]]) - 1
        v, imm = rax & bits, int(m.group(1), 0) & bits
        return v == imm, v < imm
    return None


def retry(steps, own, q):
    """Whether the branch at steps[q] tests a cmpxchg just before it."""
    n = own.index(q)
    near = [steps[i] for i in own[max(0, n - 3):n + 1]]
    return any(c in st.cls for st in near
               for c in ("pcpu_cmpxchg", "cmpxchg", "locked"))


def key_name(key):
    m = re.match(r"^__tracepoint_(\w+)\+0x8$", key)
    return f"trace:{m.group(1)}" if m else key


def classify(img, ins):
    """The classes of one instruction as the CPU runs it."""
    cls, m, ops = set(), ins.mnem, ins.ops
    base = re.sub(r"[bwlq]$", "", m) if m not in ("cmpxchg8b",) else m
    if m in ("cli", "sti") or base in ("pushf", "popf"):
        cls.add("irq")
    if "lock" in ins.prefixes:
        cls.add("locked")
    elif m.startswith("xchg") and "(" in ops:
        cls.add("locked")
    elif m.startswith("cmpxchg"):
        cls.add("pcpu_cmpxchg" if "%gs:" in ops else "cmpxchg")
    if m in ("mfence", "lfence", "sfence"):
        cls.add("barrier")
    if img.percpu(ins) == "__preempt_count" and \
            re.match(r"^(inc|dec|add|sub)", m):
        cls.add("preempt")
    if m.startswith("call"):
        cls.add("calls")
        name, _ = img.callee(ins)
        if name and IRQ_CALL_RE.match(name):
            cls.add("irq")
        if name and PREEMPT_CALL_RE.match(name):
            cls.add("preempt")
    return cls


def count(steps, loop_only=False):
    c = dict.fromkeys(CLASSES, 0)
    for st in steps:
        if loop_only and not st.loop:
            continue
        c["instrs"] += 1
        for k in st.cls:
            if k in c:
                c[k] += 1
    return c


# ---- inputs ----------------------------------------------------------------

def recorded(flavour):
    """kver and vmlinuz of flavour, as scripts/lib.sh reads setup's record."""
    out = run(["bash", "-c", 'source "$1/scripts/lib.sh" && gom_kver "$2" '
               '&& gom_kernel "$2"', "_", ROOT, flavour]).split()
    return out[0], out[1]


def cache_dir(kver):
    cache = os.environ.get("GOM_CACHE",
                           os.path.expanduser("~/.cache/gomalloc"))
    d = os.path.join(cache, "fastpath-cost", kver)
    os.makedirs(d, exist_ok=True)
    return d


def unxz_vmlinux(vmlinuz):
    """The ELF image inside an xz-compressed bzImage (Debian's 6.1), as
    scripts/extract-vmlinux finds it: try each xz stream in the file."""
    with open(vmlinuz, "rb") as f:
        data = f.read()
    at = data.find(XZ_MAGIC)
    while at >= 0:
        try:
            elf = lzma.LZMADecompressor().decompress(data[at:])
        except lzma.LZMAError:
            elf = b""
        if elf[:4] == b"\x7fELF":
            return elf
        at = data.find(XZ_MAGIC, at + 1)
    return None


def extract_vmlinux(vmlinuz, dest):
    if os.path.exists(dest):
        return dest
    cache = os.path.dirname(os.path.dirname(os.path.dirname(dest)))
    tools = sorted(glob.glob(os.path.join(cache, "linux-*-src", "scripts",
                                          "extract-vmlinux")))
    log(f"extracting vmlinux from {vmlinuz}")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest + ".tmp", "wb") as f:
        if tools:
            r = subprocess.run(["sh", tools[-1], vmlinuz], stdout=f)
            ok = r.returncode == 0
        else:
            elf = unxz_vmlinux(vmlinuz)
            ok = elf is not None
            if ok:
                f.write(elf)
    if not ok or os.path.getsize(dest + ".tmp") == 0:
        os.unlink(dest + ".tmp")
        raise Error(f"cannot extract vmlinux from {vmlinuz}"
                    + ("" if tools else
                       " (not xz; scripts/setup.sh extracts the source "
                       "tree, whose scripts/extract-vmlinux knows more)"))
    os.rename(dest + ".tmp", dest)
    return dest


def system_map(vmlinuz, kver, vmlinux, dest):
    """System.map next to the vmlinuz, unless it is Debian's placeholder;
    else one made from the image's kallsyms (cached)."""
    boot = os.path.join(os.path.dirname(vmlinuz), f"System.map-{kver}")
    if os.path.exists(boot) and os.path.getsize(boot) > 1 << 20:
        return boot
    if not os.path.exists(dest):
        log(f"reading kallsyms of {vmlinux}")
        with open(dest + ".tmp", "w") as f:
            for a, t, n in kallsyms(vmlinux):
                f.write(f"{a:016x} {t} {n}\n")
        os.rename(dest + ".tmp", dest)
    return dest


def cpu_features(paths):
    """{number: name} from the first cpufeatures.h found."""
    for p in paths:
        if os.path.exists(p):
            out = {}
            with open(p) as f:
                for line in f:
                    m = re.match(r"#define X86_FEATURE_(\w+)\s+\(\s*(\d+)\s*"
                                 r"\*\s*32\s*\+\s*(\d+)\)", line)
                    if m:
                        out[int(m.group(2)) * 32 + int(m.group(3))] = \
                            m.group(1)
            return out
    log("no cpufeatures.h found: no alternatives applied")
    return {}


def feature_files(kver):
    cache = os.environ.get("GOM_CACHE",
                           os.path.expanduser("~/.cache/gomalloc"))
    rel = "arch/x86/include/asm/cpufeatures.h"
    src = sorted(glob.glob(os.path.join(cache, "linux-*-src")))
    hdr = sorted(glob.glob(f"/usr/src/linux-headers-{kver.rsplit('-', 1)[0]}"
                           "-common"))
    return [os.path.join(d, rel) for d in src[::-1] + hdr]


# ---- report ----------------------------------------------------------------

def slow_set(alloc, extra):
    """The functions that leave alloc's hit path. With init_on_alloc=0 a
    GFP_KERNEL allocation clears nothing: memset is off the path."""
    return SLOW[alloc] | {"memset"} | set(extra)


def analyse(imgs, keys):
    """[{op, allocator, entry, counts, loop, keys, steps}] for OPS."""
    out = []
    kernel = Walker(imgs["SLUB"], slow_set("SLUB", ()), keys)
    walkers = {}
    for op, alloc, entry, extra in OPS:
        img = imgs[alloc]
        facts_of = op if op in OP_FACTS else None
        w = walkers.setdefault((alloc, extra, facts_of), Walker(
            img, slow_set(alloc, extra), keys,
            kernel if alloc == "gomalloc" else None, OP_FACTS.get(op, ())))
        steps = w.path(entry)
        if steps is None:
            raise Error(f"{entry}: no hit path found "
                        f"({'; '.join(w.why[-3:])})")
        out.append({
            "op": op, "allocator": alloc, "entry": entry,
            "counts": count(steps), "loop": count(steps, True),
            "keys": sorted({st.note.rsplit(": ", 1)[0][len("static key "):]
                            for st in steps if "keys" in st.cls}),
            "steps": steps,
        })
    for pair, a, f in PAIRS:
        for alloc in ("gomalloc", "SLUB"):
            ra = [r for r in out if r["op"] == a and r["allocator"] == alloc]
            rf = [r for r in out if r["op"] == f and r["allocator"] == alloc]
            if ra and rf:
                out.append({
                    "op": pair, "allocator": alloc,
                    "entry": f"{ra[0]['entry']} + {rf[0]['entry']}",
                    "counts": add(ra[0]["counts"], rf[0]["counts"]),
                    "loop": add(ra[0]["loop"], rf[0]["loop"]),
                    "keys": sorted(set(ra[0]["keys"]) | set(rf[0]["keys"])),
                    "steps": [],
                })
    order = [o for o, *_ in OPS] + [p for p, *_ in PAIRS]
    out.sort(key=lambda r: (order.index(r["op"]),
                            r["allocator"] != "gomalloc"))
    return out


def add(a, b):
    return {k: a[k] + b[k] for k in a}


def cell(r, c):
    """A table cell: the count, with how many of it repeat in a loop."""
    n, loop = r["counts"][c], r["loop"][c]
    return f"{n}({loop}*)" if loop and loop != n else \
        f"{n}*" if loop else str(n)


def table(rows):
    cols = ["op", "allocator", "entry"] + [HEAD[c] for c in CLASSES]
    lines = [cols] + [[r["op"], r["allocator"], r["entry"]] +
                      [cell(r, c) for c in CLASSES] for r in rows]
    w = [max(len(x[i]) for x in lines) for i in range(len(cols))]

    def fmt(x):
        return "  ".join(v.ljust(w[i]) if i < 3 else v.rjust(w[i])
                         for i, v in enumerate(x)).rstrip()
    return [fmt(lines[0]), "  ".join("-" * n for n in w)] + \
        [fmt(x) for x in lines[1:]]


def pays(rows):
    """One line per row of what the hidden classes cost the hardware."""
    out = []
    for r in rows:
        c = r["counts"]
        items = [f"{c[k]} {HEAD[k]}" + (" (in a loop)" if r["loop"][k] else
                                        "") for k in CYCLES if c[k]]
        lo = sum(c[k] * CYCLES[k][0] for k in CYCLES)
        hi = sum(c[k] * CYCLES[k][1] for k in CYCLES)
        what = ", ".join(items) + f": ~{lo}-{hi} cycles more than as " \
            "many plain instructions" if items else "no irq toggle, locked " \
            "instruction, cmpxchg or fence"
        out.append(f"  {r['op']:<11} {r['allocator']:<8} {what}")
    return out


def render(rows, meta):
    out = [f"Fast-path cost from the machine code: {meta['module']} "
           f"against SLUB in {meta['kernel']}",
           f"hit path: {meta['hit_path']}", ""]
    out += table(rows)
    out += ["", "N* or N(M*): M of the N sit in a loop and repeat per object "
            "or per run of objects; a bulk row counts one object and one "
            "pass through each loop.",
            "columns: instrs = instructions on the path (what icount "
            "counts); irq = cli/sti/pushf/popf and irq-flag calls; locked "
            "= lock-prefixed or xchg with memory; pcpu-cmpxchg = unlocked "
            "cmpxchg/cmpxchg16b on a %gs: per-CPU address; fence = "
            "mfence/lfence/sfence; preempt = preempt_count inc/dec; "
            "calls = call instructions; keys = static-key sites (a nop or "
            "jmp, free while off); ftrace = __fentry__ sites (a nop "
            "unless traced)",
            "",
            "what the hardware pays (x86, uncontended, rough: cli/sti a "
            "few cycles, pushf/popf ~20, a locked instruction ~20, "
            "cmpxchg16b ~20-30, mfence ~30):"]
    out += pays(rows)
    keys = sorted({k for r in rows for k in r["keys"]})
    if keys:
        out += ["", "static keys met: " + ", ".join(keys)]
    return "\n".join(out) + "\n"


def render_path(row, img):
    out = [f"== {row['allocator']} {row['entry']} ({img.name})"]
    for st in row["steps"]:
        tags = ",".join(sorted(st.cls - {"calls"}))
        out.append(f"{'  ' * st.depth}{'L ' if st.loop else ''}"
                   f"{st.where} {st.ins.text}"
                   f"{'  [' + tags + ']' if tags else ''}"
                   f"{'  ; ' + st.note if st.note else ''}")
    return "\n".join(out)


def as_json(rows, meta):
    return {
        **meta,
        "cycles_per_class": {k: list(v) for k, v in CYCLES.items()},
        "rows": [{k: v for k, v in r.items() if k != "steps"} |
                 {"path": [f"{st.where}: {st.ins.text}"
                           for st in r["steps"]]} for r in rows],
    }


def git_describe():
    """The tree's commit, -dirty if the module's sources differ from it."""
    def git(*a):
        return subprocess.run(["git", "-C", ROOT, *a], capture_output=True,
                              text=True)
    head = git("rev-parse", "--short", "HEAD").stdout.strip() or "?"
    dirty = git("diff", "--quiet", "HEAD", "--", "mod", "include").returncode
    return head + ("-dirty" if dirty else "")


def main(argv):
    ap = argparse.ArgumentParser(
        description="Count irq toggles and locked instructions on the "
                    "gomalloc and SLUB fast paths.")
    ap.add_argument("--flavour", default="6.1")
    ap.add_argument("--ko", help="gomalloc.ko (default build/FLAVOUR/mod/)")
    ap.add_argument("--vmlinux")
    ap.add_argument("--system-map")
    ap.add_argument("--key", action="append", default=[],
                    metavar="NAME=on|off", help="a static key's state")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--show-path", action="store_true")
    ap.add_argument("--out", metavar="DIR")
    a = ap.parse_args(argv)

    keys = dict(KEY_STATE)
    for kv in a.key:
        k, _, v = kv.partition("=")
        if v not in ("on", "off"):
            ap.error(f"--key {kv}: want NAME=on or NAME=off")
        keys[k] = v == "on"

    ko = a.ko or os.path.join(ROOT, "build", a.flavour, "mod", "gomalloc.ko")
    if not os.path.exists(ko):
        raise Error(f"{ko} is not built: scripts/build-modules.sh "
                    f"\"$(gom_headers {a.flavour})\" build/{a.flavour}")
    if a.vmlinux:
        if not a.system_map:
            ap.error("--vmlinux needs --system-map")
        vmlinux, smap, kver = a.vmlinux, a.system_map, "?"
    else:
        kver, vmlinuz = recorded(a.flavour)
        d = cache_dir(kver)
        vmlinux = extract_vmlinux(vmlinuz, os.path.join(d, "vmlinux"))
        smap = system_map(vmlinuz, kver, vmlinux,
                          os.path.join(d, "System.map"))
    feats = cpu_features(feature_files(kver))
    imgs = {"gomalloc": Module.load(ko, feats),
            "SLUB": Vmlinux(vmlinux, smap, feats)}
    rows = analyse(imgs, keys)
    meta = {
        "module": f"gomalloc.ko ({git_describe()}"
                  + (f", built for {kver})" if kver != "?" else ")"),
        "kernel": f"Debian's {kver} kernel" if kver != "?" else vmlinux,
        "hit_path": "the per-CPU cache has the object (room for it); "
                    "GFP_KERNEL, NUMA_NO_NODE; static keys as the benchmark "
                    "guest runs (init_on_alloc=0, gomalloc's heap profile on, "
                    "tracing, debugging and memcg accounting off); "
                    "alternatives for a CPU with CMPXCHG16B that is not a "
                    "Xen PV guest; preempt=voluntary",
        "keys": {k: v for k, v in keys.items()},
    }
    text = render(rows, meta)
    data = as_json(rows, meta)
    if a.show_path:
        for r in rows:
            if r["steps"]:
                print(render_path(r, imgs[r["allocator"]]) + "\n")
    print(json.dumps(data, indent=1) if a.json else text, end="" if not
          a.json else "\n")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "fastpath-cost.txt"), "w") as f:
            f.write(text)
        with open(os.path.join(a.out, "fastpath-cost.json"), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Error as e:
        log(f"ERROR: {e}")
        sys.exit(1)
