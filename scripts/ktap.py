#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Extract, normalise and judge KUnit KTAP output from a serial console log.

usage: scripts/ktap.py [--ktap-out FILE] [--allow-empty] [LOG]

Reads a console log (file or stdin). Kernel lines are recognised by their
printk timestamp ("[    1.234567] "), which is stripped. KUnit suites run at
module load are printed one level indented ("    # Subtest: s", "    ok 1
case", "not ok 1 s"); tools/testing/kunit/kunit.py mis-reads that and may call
a failed suite passed, so this parser does its own bookkeeping:

 - every "# Subtest:" opens a node whose results are at the same indentation
   and whose own result line is at a smaller one;
 - each case counts as ok, not ok or skipped ("# SKIP");
 - a suite fails if its result line says "not ok", if any case failed, if it
   has fewer results than its "1..N" plan, or if its result line never came
   (crash mid-suite);
 - suite numbers from separate modules are renumbered 1..N.

Prints one line per suite and per failed case, then "N passed, N failed,
N skipped" (cases). Exit status 0 only if nothing failed and at least one suite
ran (unless --allow-empty). --ktap-out writes a normalised KTAP v1 document
("KTAP version 1", "1..N", suites as subtests).
"""

import argparse
import re
import sys

TS_RE = re.compile(r"\[\s*\d+\.\d+\] ?(.*)$")
SUBTEST_RE = re.compile(r"^(\s*)# Subtest: (\S.*?)\s*$")
RESULT_RE = re.compile(r"^(\s*)(ok|not ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(\S.*))?$")
PLAN_RE = re.compile(r"^(\s*)1\.\.(\d+)\s*$")


def indent_of(s):
    return len(s.expandtabs(8))


class Node:
    def __init__(self, name, indent):
        self.name = name
        self.indent = indent
        self.plan = None
        self.children = []      # list of Node (leaves have no children)
        self.status = None      # "ok", "not ok", "skip", "missing"
        self.directive = ""
        self.lines = []         # raw lines (dedented to this node's level)

    @property
    def leaf(self):
        return not self.children and self.plan is None

    def failed(self):
        if self.status in ("not ok", "missing"):
            return True
        if any(c.failed() for c in self.children):
            return True
        if self.plan is not None and len(self.children) < self.plan:
            return True
        return False


def parse(lines):
    """Return the list of top-level suite nodes."""
    suites = []
    stack = []

    def close(node, status, directive=""):
        node.status = status
        node.directive = directive
        if stack:
            stack[-1].children.append(node)
        else:
            suites.append(node)

    for raw in lines:
        m = TS_RE.search(raw.rstrip("\r\n").replace("\r", ""))
        if not m:
            continue
        line = m.group(1)
        ms = SUBTEST_RE.match(line)
        if ms:
            ind = indent_of(ms.group(1))
            # a new subtest at or left of an open one: the open one never ended
            while stack and stack[-1].indent >= ind and stack[-1].name != ms.group(2):
                node = stack.pop()
                if ind > node.indent:
                    stack.append(node)
                    break
                close(node, "missing")
            stack.append(Node(ms.group(2), ind))
            continue
        mp = PLAN_RE.match(line)
        if mp:
            ind = indent_of(mp.group(1))
            if stack and stack[-1].indent == ind and stack[-1].plan is None:
                stack[-1].plan = int(mp.group(2))
            continue
        mr = RESULT_RE.match(line)
        if not mr:
            continue
        ind = indent_of(mr.group(1))
        status = mr.group(2)
        name = mr.group(4).strip()
        directive = (mr.group(5) or "").strip()
        if directive.upper().startswith("SKIP"):
            status = "skip"
        # result of an open subtest (its own line is left of its body)
        while stack and stack[-1].indent > ind:
            node = stack.pop()
            if node.name == name:
                close(node, status, directive)
                break
            close(node, "missing")
        else:
            if stack and stack[-1].indent == ind:
                leaf = Node(name, ind + 4)
                leaf.status = status
                leaf.directive = directive
                stack[-1].children.append(leaf)
            # a result with nothing open is a stray line (e.g. boot "1..0")
    while stack:
        close(stack.pop(), "missing")
    return suites


def counts(node):
    """(passed, failed, skipped) over a suite's cases."""
    p = f = s = 0
    for c in node.children:
        if c.failed():
            f += 1
        elif c.status == "skip":
            s += 1
        else:
            p += 1
    if node.plan is not None and len(node.children) < node.plan:
        f += node.plan - len(node.children)     # cases that never reported
    return p, f, s


def emit_ktap(suites, out):
    out.write("KTAP version 1\n")
    out.write(f"1..{len(suites)}\n")

    def walk(node, num, depth):
        pad = "    " * depth
        if node.children or node.plan is not None:
            out.write(f"{pad}    KTAP version 1\n")
            out.write(f"{pad}    # Subtest: {node.name}\n")
            out.write(f"{pad}    1..{max(node.plan or 0, len(node.children))}\n")
            for i, c in enumerate(node.children, 1):
                walk(c, i, depth + 1)
            for i in range(len(node.children) + 1, (node.plan or 0) + 1):
                out.write(f"{pad}    not ok {i} (missing result)\n")
        word = "not ok" if node.failed() else "ok"
        tail = ""
        if node.status == "skip" and not node.failed():
            tail = f" # {node.directive}" if node.directive else " # SKIP"
        elif node.status == "missing":
            tail = " # missing result (crash?)"
        out.write(f"{pad}{word} {num} {node.name}{tail}\n")

    for i, s in enumerate(suites, 1):
        walk(s, i, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", nargs="?", help="console log (default stdin)")
    ap.add_argument("--ktap-out", help="write normalised KTAP here")
    ap.add_argument("--allow-empty", action="store_true")
    args = ap.parse_args()
    src = open(args.log, errors="replace") if args.log else sys.stdin
    suites = parse(src)
    if args.ktap_out:
        with open(args.ktap_out, "w") as f:
            emit_ktap(suites, f)

    tp = tf = ts = 0
    for i, s in enumerate(suites, 1):
        p, f, k = counts(s)
        tp, tf, ts = tp + p, tf + f, ts + k
        if s.failed():
            verdict = "FAIL"
        elif s.status == "skip":
            verdict = "SKIP"
        else:
            verdict = "ok"
        extra = " (no result line: crashed?)" if s.status == "missing" else ""
        if s.plan is not None and len(s.children) < s.plan:
            extra += f" ({s.plan - len(s.children)} of {s.plan} cases never reported)"
        print(f"kunit: suite {i} {s.name}: {verdict}: {p} passed, {f} failed, "
              f"{k} skipped{extra}")
        for c in s.children:
            if c.failed():
                why = " (no result)" if c.status == "missing" else ""
                print(f"kunit:   not ok {c.name}{why}")
    if not suites and not args.allow_empty:
        print("kunit: no KUnit suites found in the log")
        tf += 1
    print(f"{tp} passed, {tf} failed, {ts} skipped")
    return 1 if tf or any(s.failed() for s in suites) or (
        not suites and not args.allow_empty) else 0


if __name__ == "__main__":
    sys.exit(main())
