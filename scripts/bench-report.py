#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Merge gomalloc_bench results into one table and compare with the targets.

usage: scripts/bench-report.py [--format md|rst] [--document] [-o FILE]
                               [--kernel TEXT] [--qemu TEXT] [--commit TEXT]
                               [--date TEXT] [--run TEXT] [--misses]
                               [--static FILE]
                               RESULTS.json...

Each input holds JSON records, one per line, as written by
scripts/guest/bench.sh: case, size, mode, gom, peer, ratio (gom/peer),
unit, peer_name. Records of all inputs are merged into one row per
(case, size, peer) with one column per mode, each cell "ratio (gom/peer)".
The targets of issues 6 and 11 are checked in the modes they apply to
(issue 11's with init_on_alloc=0, icount-ioa0, but for the hot pair's
with Debian's default up to 1 KiB, icount-default); a missed
target is reported with its margin but never changes the exit status
(the benchmark measures, it does not assert). Exit 1 only for unreadable
input.

--document (with --format rst) makes a whole document, as
Documentation/performance-results.rst: title, a note that it is
generated, and where the figures come from (--commit, --kernel, --qemu,
--date, --run). --static adds scripts/fastpath-cost.py's text (what
the instruction counts hide) as its last section.
"""

import argparse
import json
import sys
import textwrap

MODE_ORDER = ["icount-ioa0", "icount-default", "wall-ioa0", "wall-default"]
MODE_DESC = {
    "icount-ioa0": "QEMU TCG -icount shift=0,sleep=off, 1 vCPU, init_on_alloc=0 "
                   "(1 ns = 1 guest instruction)",
    "icount-default": "QEMU TCG -icount shift=0,sleep=off, 1 vCPU, Debian default "
                   "init_on_alloc=1",
    "wall-ioa0": "QEMU TCG (multi-threaded), 2 vCPUs, wall clock, init_on_alloc=0",
    "wall-default": "QEMU TCG (multi-threaded), 2 vCPUs, wall clock, Debian default "
                 "init_on_alloc=1",
}
DEBUG_OPTS = "FZPUQ"
CASE_ORDER = (["hot", "hot-node", "usable", "burst-seq", "burst-rnd",
               "bulk-16", "bulk-128", "pages", "large", "xcpu", "xcpu-low", "xcpu-high", "stack",
               "frame-8", "replay", "profile", "profile-pages",
               "profile-large", "profile-replay"] +
              [f"debug-{x}" for x in DEBUG_OPTS] +
              ["mem", "mem-inuse", "mem-half", "mem-half-inuse", "mem-meta",
               "replay-mem", "replay-mem-inuse"])

# (case, peer_name or None, mode prefix, op, limit, text, largest size or
# None). Issue 11's figures are taken with init_on_alloc=0 unless it says
# otherwise; with Debian's default it sets only the hot pair's, up to 1 KiB.
IOA0 = "icount-ioa0"
TARGETS = [
    ("hot", None, IOA0, "le", 0.25, "hot pair <= 0.25 x SLUB (icount)", None),
    ("hot", None, "icount-default", "le", 0.5,
     "hot pair <= 0.5 x SLUB up to 1 KiB, init_on_alloc=1 (icount)", 1024),
    ("burst-seq", None, IOA0, "le", 0.5, "burst <= 0.5 x SLUB per object (icount)", None),
    ("burst-rnd", None, IOA0, "le", 0.5, "burst <= 0.5 x SLUB per object (icount)", None),
    ("bulk-16", None, IOA0, "le", 0.5, "bulk <= 0.5 x SLUB per object (icount)", None),
    ("bulk-128", None, IOA0, "le", 0.5, "bulk <= 0.5 x SLUB per object (icount)", None),
    ("pages", None, IOA0, "le", 0.5, "pages 1..64 <= 0.5 x alloc_pages (icount)", None),
    ("large", "kmalloc", IOA0, "le", 0.5, "large <= 0.5 x kmalloc_large (icount)", None),
    ("xcpu", None, "wall-ioa0", "ge", 1.5, "cross-CPU >= 1.5 x SLUB throughput (wall clock)", None),
    ("replay", None, IOA0, "le", 0.5, "replay <= 0.5 x SLUB per operation (icount)", None),
    ("profile", None, "icount", "le", 1.05,
     "profiling at the default rate <= 1.05 x off (icount)", None),
    ("profile-pages", None, "icount", "le", 1.05,
     "profiling at the default rate <= 1.05 x off (icount)", None),
    ("profile-large", None, "icount", "le", 1.05,
     "profiling at the default rate <= 1.05 x off (icount)", None),
    ("profile-replay", None, "icount", "le", 1.05,
     "profiling at the default rate <= 1.05 x off (icount)", None),
    ("mem", None, "", "le", 1.05, "memory <= 1.05 x SLUB bytes", None),
    ("mem-meta", None, "", "lt", 0.01, "metadata < 1% of heap bytes", None),
    ("replay-mem", None, "", "le", 1.05,
     "replay memory at its peak <= 1.05 x SLUB bytes", None),
]


def load(paths):
    recs = []
    for p in paths:
        with open(p) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                try:
                    recs.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise SystemExit(f"bench-report: {p}:{n}: {e}")
    return recs


def size_str(case, size):
    if case.startswith("mem"):
        return "mix"
    if case in ("replay", "profile-replay"):
        return "trace"
    if case.startswith("replay-mem"):
        return "peak"
    if case in ("pages", "profile-pages"):
        return f"{size // 4096} p"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return str(size)


def num(v):
    v = float(v)
    if v >= 1e6:
        return f"{v / 1e6:.1f}M"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}"


def ratio_of(r):
    g, p = float(r["gom"]), float(r["peer"])
    return g / p if p else float("nan")


def targets_for(case, peer):
    """Every target a row (case, peer) has, whatever the mode and size."""
    return [t for t in TARGETS
            if t[0] == case and (t[1] is None or t[1] == peer)]


def target_for(case, peer, mode, size):
    """The target a figure is checked against, or None."""
    for t in targets_for(case, peer):
        if mode.startswith(t[2]) and (t[6] is None or size <= t[6]):
            return t
    return None


def meets(t, ratio):
    op, lim = t[3], t[4]
    return {"le": ratio <= lim, "lt": ratio < lim, "ge": ratio >= lim}[op]


def margin(t, ratio):
    """How far a missed figure is from its target, in words."""
    lim = t[4]
    if t[3] == "ge":
        return f"{ratio:.3g} < {lim}: throughput needs {(lim / ratio - 1) * 100:.1f}% more" if ratio else "no throughput"
    return f"{ratio:.3g} > {lim}: {ratio / lim:.3g}x over"


def build(recs):
    modes = [m for m in MODE_ORDER if any(r["mode"] == m for r in recs)]
    modes += sorted({r["mode"] for r in recs} - set(modes))
    rows = {}
    for r in recs:
        key = (r["case"], int(r.get("size", 0)), r.get("peer_name", ""))
        rows.setdefault(key, {"unit": r.get("unit", "")})[r["mode"]] = r

    def order(k):
        c = CASE_ORDER.index(k[0]) if k[0] in CASE_ORDER else len(CASE_ORDER)
        return (c, k[0], k[1], k[2])
    keys = sorted(rows, key=order)
    table, misses, checked = [], [], 0
    for k in keys:
        row = rows[k]
        cells = []
        for m in modes:
            r = row.get(m)
            if not r:
                cells.append("")
                continue
            ratio = ratio_of(r)
            cell = f"{ratio:.3g} ({num(r['gom'])}/{num(r['peer'])})"
            t = target_for(k[0], k[2], m, k[1])
            if t:
                checked += 1
                if not meets(t, ratio):
                    cell += " MISS"
                    misses.append((k, m, t, ratio))
            cells.append(cell)
        texts = [t[5] for t in targets_for(k[0], k[2])
                 if t[6] is None or k[1] <= t[6]]
        table.append([k[0], size_str(k[0], k[1]), k[2], row["unit"]] + cells +
                     ["; ".join(texts) or "-"])
    header = ["case", "size", "peer", "unit"] + modes + ["target"]
    return header, table, modes, misses, checked


def fmt_md(header, table):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for row in table:
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def fmt_rst(header, table):
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header] + table:
        first = True
        for c in row:
            out.append(("   * - " if first else "     - ") + (c or "\\-"))
            first = False
    return "\n".join(out)


def summary(recs):
    """One line per target and mode: how many figures met it, best, worst."""
    groups = {}
    for r in recs:
        t = target_for(r["case"], r.get("peer_name", ""), r["mode"],
                       int(r.get("size", 0)))
        if t:
            figs = groups.setdefault((t[5], r["mode"]), (t, []))[1]
            figs.append((ratio_of(r), r["case"], int(r.get("size", 0))))
    texts = list(dict.fromkeys(t[5] for t in TARGETS))

    def order(k):
        m = MODE_ORDER.index(k[1]) if k[1] in MODE_ORDER else len(MODE_ORDER)
        return (texts.index(k[0]), m, k[1])
    lines = []
    for k in sorted(groups, key=order):
        t, figs = groups[k]
        ok = sum(1 for f in figs if meets(t, f[0]))
        hi_good = t[3] == "ge"
        best = (max if hi_good else min)(figs)
        worst = (min if hi_good else max)(figs)
        line = (f"- {k[0]}, {k[1]}: {ok} of {len(figs)} met; best "
                f"{best[0]:.3g} ({best[1]} {size_str(best[1], best[2])}), "
                f"worst {worst[0]:.3g} ({worst[1]} {size_str(worst[1], worst[2])})")
        if not meets(t, worst[0]):
            line += f": {margin(t, worst[0])}"
        lines.append(line)
    return lines


def document_head(args):
    """Title and provenance of a whole results document."""
    title = "gomalloc performance results"
    lines = [".. SPDX-License-Identifier: GPL-2.0", "",
             ".. Generated by scripts/bench.sh (make bench) with",
             "   scripts/bench-report.py: do not edit, run make bench.", "",
             "=" * len(title), title, "=" * len(title), "",
             "The latest ``make bench`` run. The method, the modes, the cases, "
             "the targets and what the figures mean are in :doc:`performance`.",
             ""]
    for name, val in (("Tree", args.commit), ("Kernel", args.kernel),
                      ("QEMU", args.qemu), ("Date", args.date),
                      ("Run", args.run)):
        if val:
            lines.append(f":{name}: {val}")
    lines.append("")
    return lines


def render(args, recs):
    header, table, modes, misses, checked = build(recs)
    rst = args.format == "rst"
    lines = []
    if args.document and rst:
        lines += document_head(args)
    elif args.kernel or args.qemu:
        lines.append(f"Kernel: {args.kernel or '?'}; {args.qemu or 'QEMU ?'}.")
        lines.append("")
    lines.append("Modes:")
    lines.append("")
    for m in modes:
        lines.append(f"- {m}: {MODE_DESC.get(m, '(unknown mode)')}")
    lines.append("")
    lines.append("Cells: ratio gom/peer (gomalloc figure / peer figure), in the "
                 "row's unit; ns figures are per operation, lower is better; "
                 "obj/s is higher-better; MISS marks a missed target.")
    lines.append("")
    lines.append(fmt_rst(header, table) if rst else fmt_md(header, table))
    lines.append("")
    met = checked - len(misses)
    lines.append(f"Targets: {met} of {checked} checked figures met, "
                 f"{len(misses)} missed.")
    lines.append("")
    lines += summary(recs)
    if misses and args.misses:
        lines.append("")
        for (case, size, peer), m, t, ratio in misses:
            lines.append(f"- {case} {size_str(case, size)} vs {peer}, {m}: "
                         f"{margin(t, ratio)} (target: {t[5]})")
    if rst:
        lines = [wrap_rst(x) for x in lines]
    if args.static and rst:
        lines += static_section(args.static)
    return "\n".join(lines) + "\n"


def static_section(path):
    """scripts/fastpath-cost.py's table as a literal block."""
    with open(path) as f:
        text = f.read().rstrip("\n").split("\n")
    title = "What icount hides: the fast paths' machine code"
    return ["", title, "-" * len(title), "",
            "``scripts/fastpath-cost.py`` on the same build (method in "
            ":doc:`performance`)::", ""] + \
        [("    " + x).rstrip() for x in text]


def wrap_rst(line):
    """Wrap a prose or list line at 76 columns; leave table lines alone."""
    if len(line) <= 76 or line.startswith(("   ", "..")):
        return line
    indent = "  " if line.startswith(("- ", ":")) else ""
    return "\n".join(textwrap.wrap(line, 76, subsequent_indent=indent,
                                    break_on_hyphens=False))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="+")
    ap.add_argument("--format", choices=["md", "rst"], default="md")
    ap.add_argument("-o", "--output")
    ap.add_argument("--document", action="store_true",
                    help="a whole document (with --format rst)")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--qemu", default="")
    ap.add_argument("--commit", default="", help="the tree measured")
    ap.add_argument("--date", default="")
    ap.add_argument("--run", default="", help="how the run was made")
    ap.add_argument("--static", metavar="FILE",
                    help="scripts/fastpath-cost.py's text, added as a "
                         "section (rst)")
    ap.add_argument("--misses", action="store_true",
                    help="also list every missed figure")
    args = ap.parse_args()
    try:
        recs = load(args.results)
        text = render(args, recs) if recs else ""
    except OSError as e:
        print(f"bench-report: {e}", file=sys.stderr)
        return 1
    if not recs:
        print("bench-report: no records", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
