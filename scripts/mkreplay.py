#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a tracefs trace of slab events into a replay for gomalloc_bench.

usage: scripts/mkreplay.py [-o OUTPUT] [--source TEXT]... TRACE[.gz]
       scripts/mkreplay.py --check REPLAY

The trace is the text of /sys/kernel/tracing/trace with the events
kmem:kmalloc, kmem:kmem_cache_alloc, kmem:kfree and kmem:kmem_cache_free
(scripts/replay-record.sh records one), read in order. The replay is the
same sequence of allocations and frees by size, for the bench module's
replay case (bench/replay.c), with pointers replaced by object numbers:

- an allocation gets the next object number (0, 1, 2, ...) and keeps the
  size asked (bytes_req), whether it may sleep (gfp_flags with direct
  reclaim, as GFP_KERNEL) or not (GFP_ATOMIC, GFP_NOWAIT), and
  __GFP_ZERO; a failed allocation (NULL) or one of 0 bytes is dropped;
- a free names the object that was allocated at that address; frees of
  addresses the trace never saw allocated (objects from before the trace,
  NULL, ZERO_SIZE_PTR) are dropped;
- an address allocated again while its object is live was freed where
  the trace cannot see it (kfree_bulk(), kmem_cache_free_bulk(), which
  kfree_rcu() batches use): the old object is freed just before;
- objects still live at the end of the trace are freed at the end, oldest
  first, so that the replay leaves nothing allocated.

Replay format (text, one operation per line; the module reads the same):

  gomalloc-replay 1 ops=N allocs=M     first line: version, line counts
  # ...                                comments: how it was made, stats
  a SIZE                               allocate SIZE bytes, may sleep
  n SIZE                               allocate SIZE bytes, atomic
  az SIZE, nz SIZE                     the same with __GFP_ZERO
  f BACK                               free object (allocations so far
                                       - BACK): f 1 frees the newest

--check reads a replay, checks it as the module does (counts match the
first line, every free names a live object, nothing is left live) and
prints its statistics. Python standard library only.
"""

import argparse
import gzip
import re
import sys

MAGIC = "gomalloc-replay"
VERSION = 1

EVENT_RE = re.compile(r"\s(\d+\.\d+): (kmalloc|kmem_cache_alloc|kfree|"
                      r"kmem_cache_free): (.*)$")
PTR_RE = re.compile(r"(?:^| )ptr=([0-9a-fx]+)")
REQ_RE = re.compile(r" bytes_req=(\d+)")
GFP_RE = re.compile(r" gfp_flags=(\S+)")
LOST_RE = re.compile(r"\[LOST (\d+) EVENTS\]")

# gfp_flags names (include/trace/events/mmflags.h) that include
# __GFP_DIRECT_RECLAIM: an allocation with one of them may sleep.
SLEEPING = {"GFP_TRANSHUGE", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER",
            "GFP_USER", "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS",
            "GFP_NOIO", "__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM"}
ZERO_SIZE_PTR = 0x10


class TraceError(Exception):
    pass


def gfp_kind(flags):
    """(sleeps, zero) for a gfp_flags field as the trace prints it."""
    names = set(flags.split("|"))
    return bool(names & SLEEPING), "__GFP_ZERO" in names


def parse_line(line):
    """One trace line: ("alloc", ptr, size, sleeps, zero), ("free", ptr),
    or None for anything else (headers, other events)."""
    m = EVENT_RE.search(line)
    if not m:
        if LOST_RE.search(line):
            raise TraceError(f"the trace lost events: {line.strip()}")
        return None
    event, rest = m.group(2), m.group(3)
    p = PTR_RE.search(rest)
    if not p:
        raise TraceError(f"no ptr= in: {line.strip()}")
    ptr = int(p.group(1), 16)
    if event in ("kfree", "kmem_cache_free"):
        return ("free", ptr)
    r, g = REQ_RE.search(rest), GFP_RE.search(rest)
    if not r or not g:
        raise TraceError(f"no bytes_req= or gfp_flags= in: {line.strip()}")
    sleeps, zero = gfp_kind(g.group(1))
    return ("alloc", ptr, int(r.group(1)), sleeps, zero)


class Replay:
    """Operations, as ("a", size, sleeps, zero) or ("f", object), and
    what the conversion dropped or added."""

    def __init__(self):
        self.ops = []
        self.allocs = 0
        self.stats = dict(events=0, allocs=0, frees=0, failed_allocs=0,
                          zero_size=0, unknown_frees=0, null_frees=0,
                          implicit_frees=0, end_frees=0)

    def peak(self):
        """(bytes, objects, op index) at the first maximum of live bytes
        (requested sizes); index -1 for an empty replay."""
        return peak_of(self.ops)


def peak_of(ops):
    sizes, live, objs = [], 0, 0
    best = (0, 0, -1)
    for i, op in enumerate(ops):
        if op[0] == "a":
            sizes.append(op[1])
            live += op[1]
            objs += 1
            if live > best[0]:
                best = (live, objs, i)
        else:
            live -= sizes[op[1]]
            objs -= 1
    return best


def convert(events):
    """Build a Replay from parsed events (see parse_line)."""
    rp = Replay()
    st = rp.stats
    live = {}
    for ev in events:
        st["events"] += 1
        ptr = ev[1]
        if ev[0] == "alloc":
            size, sleeps, zero = ev[2], ev[3], ev[4]
            if ptr == 0 or ptr == ZERO_SIZE_PTR or size == 0:
                st["failed_allocs" if ptr == 0 else "zero_size"] += 1
                continue
            if ptr in live:
                rp.ops.append(("f", live.pop(ptr)))
                st["implicit_frees"] += 1
            live[ptr] = rp.allocs
            rp.allocs += 1
            st["allocs"] += 1
            rp.ops.append(("a", size, sleeps, zero))
        else:
            if ptr not in live:
                st["null_frees" if ptr in (0, ZERO_SIZE_PTR)
                   else "unknown_frees"] += 1
                continue
            rp.ops.append(("f", live.pop(ptr)))
            st["frees"] += 1
    for obj in sorted(live.values()):
        rp.ops.append(("f", obj))
        st["end_frees"] += 1
    return rp


def read_trace(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", errors="replace") as f:
        for line in f:
            ev = parse_line(line)
            if ev:
                yield ev


def op_line(op, nallocs):
    if op[0] == "f":
        return f"f {nallocs - op[1]}"
    return f"{'a' if op[2] else 'n'}{'z' if op[3] else ''} {op[1]}"


def stats_lines(rp):
    """What the conversion kept, dropped and added, and the replay's
    figures, as lines of text."""
    st = rp.stats
    pk_bytes, pk_objs, pk_op = rp.peak()
    sleeping = sum(1 for op in rp.ops if op[0] == "a" and op[2])
    zeroed = sum(1 for op in rp.ops if op[0] == "a" and op[3])
    sizes = sorted(op[1] for op in rp.ops if op[0] == "a")
    median = sizes[len(sizes) // 2] if sizes else 0
    return [f"Trace: {st['events']} events: {st['allocs']} allocations "
            f"and {st['frees']} frees kept;",
            f"  dropped {st['unknown_frees']} frees of objects from before "
            f"the trace, {st['null_frees']} of NULL,",
            f"  {st['failed_allocs']} failed and {st['zero_size']} "
            f"zero-size allocations;",
            f"  added {st['implicit_frees']} frees of addresses allocated "
            f"again (freed unseen)",
            f"  and {st['end_frees']} at the end (live when the trace "
            f"stopped).",
            f"Replay: {len(rp.ops)} ops, {rp.allocs} allocations "
            f"({sleeping} may sleep, {rp.allocs - sleeping} atomic,",
            f"  {zeroed} zeroed), {sum(sizes)} bytes, median {median} B, "
            f"largest {sizes[-1] if sizes else 0} B;",
            f"  peak live {pk_bytes} bytes in {pk_objs} objects after op "
            f"{pk_op}."]


def render(rp, sources=()):
    """The replay file's text."""
    out = [f"{MAGIC} {VERSION} ops={len(rp.ops)} allocs={rp.allocs}",
           "# Generated by scripts/mkreplay.py from a tracefs trace of",
           "# kmalloc, kfree, kmem_cache_alloc and kmem_cache_free; do not",
           "# edit: record and convert again (scripts/replay-record.sh)."]
    out += [f"#   {s}" for s in sources]
    out += [f"# {s}" for s in stats_lines(rp)]
    out.append("# Format: scripts/mkreplay.py --help; "
               "Documentation/performance.rst.")
    n = 0
    for op in rp.ops:
        out.append(op_line(op, n))
        if op[0] == "a":
            n += 1
    return "\n".join(out) + "\n"


def parse_replay(text):
    """Read a replay as the module does; return its ops. Raises
    TraceError on anything the module would refuse."""
    lines = text.split("\n")
    m = re.fullmatch(rf"{MAGIC} (\d+) ops=(\d+) allocs=(\d+)", lines[0])
    if not m or int(m.group(1)) != VERSION:
        raise TraceError(f"first line is not '{MAGIC} {VERSION} ops=N "
                         f"allocs=M': {lines[0][:60]!r}")
    want_ops, want_allocs = int(m.group(2)), int(m.group(3))
    ops, live, nallocs = [], set(), 0
    for n, line in enumerate(lines[1:], 2):
        if not line or line.startswith("#"):
            continue
        f = line.split(" ")
        if len(f) != 2 or not f[1].isdigit():
            raise TraceError(f"line {n}: bad operation {line!r}")
        arg = int(f[1])
        if f[0] == "f":
            obj = nallocs - arg
            if arg < 1 or obj not in live:
                raise TraceError(f"line {n}: frees no live object")
            live.remove(obj)
            ops.append(("f", obj))
        elif f[0] in ("a", "az", "n", "nz"):
            if arg < 1:
                raise TraceError(f"line {n}: allocation of 0 bytes")
            live.add(nallocs)
            nallocs += 1
            ops.append(("a", arg, f[0][0] == "a", f[0].endswith("z")))
        else:
            raise TraceError(f"line {n}: unknown operation {f[0]!r}")
    if len(ops) != want_ops or nallocs != want_allocs:
        raise TraceError(f"{len(ops)} ops and {nallocs} allocations, the "
                         f"first line says {want_ops} and {want_allocs}")
    if live:
        raise TraceError(f"{len(live)} objects left allocated at the end")
    return ops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace", help="tracefs text trace (.gz read as gzip), "
                    "or the replay with --check")
    ap.add_argument("-o", "--output", help="replay file (default: stdout)")
    ap.add_argument("--source", action="append", default=[],
                    help="line for the header saying how the trace was made")
    ap.add_argument("--check", action="store_true",
                    help="check a replay file instead of converting")
    args = ap.parse_args(argv)
    try:
        if args.check:
            with open(args.trace) as f:
                ops = parse_replay(f.read())
            pk = peak_of(ops)
            na = sum(1 for op in ops if op[0] == "a")
            print(f"{args.trace}: ok: {len(ops)} ops, {na} allocations, "
                  f"peak live {pk[0]} bytes in {pk[1]} objects after op "
                  f"{pk[2]}")
            return 0
        rp = convert(read_trace(args.trace))
    except (OSError, TraceError) as e:
        print(f"mkreplay: {e}", file=sys.stderr)
        return 1
    if not rp.allocs:
        print("mkreplay: no allocations in the trace", file=sys.stderr)
        return 1
    text = render(rp, args.source)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    print("\n".join(f"mkreplay: {s}" for s in stats_lines(rp)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
