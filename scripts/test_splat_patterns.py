#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""scripts/splat-patterns reads the same everywhere it is read.

The host (scripts/vm-run, Python's re) and the guest (busybox grep -E -f in
scripts/guest/run-tests.sh) judge kernel messages with the one list in
scripts/splat-patterns. This checks, with sample messages:

  - every pattern compiles in Python, GNU grep -E and busybox grep -E, and
    each matches exactly the same samples in all three;
  - vm-run's Scanner and the guest's pipeline (prepared the way
    run-tests.sh prepares it, run by busybox) flag the same samples, and
    those are the expected ones: real splats yes; gomalloc's own messages,
    KASAN's banner and ordinary boot messages no;
  - every pattern is exercised by at least one sample.

usage: scripts/test_splat_patterns.py
Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed, N skipped".
"""

import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PATTERNS = os.path.join(HERE, "splat-patterns")
BUSYBOX = "/bin/busybox"

# (kernel message without its timestamp, what vm-run must call it or None)
SAMPLES = [
    ("BUG: KASAN: slab-out-of-bounds in gom_alloc+0x12/0x40", "KASAN report"),
    ("WARNING: CPU: 1 PID: 77 at mod/mcache.c:120 gom_drain+0x5/0x10 [gomalloc]",
     "kernel WARN"),
    ("WARNING: possible circular locking dependency detected", "lockdep splat"),
    ("WARNING: possible recursive locking detected", "lockdep splat"),
    ("inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.", None),
    ("WARNING: inconsistent lock state", "lockdep splat"),
    ("INFO: lockdep is turned off.", "lockdep splat"),
    ("BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c:48",
     "sleeping in atomic context or RCU misuse"),
    ("WARNING: suspicious RCU usage", "sleeping in atomic context or RCU misuse"),
    ("BUG: scheduling while atomic: insmod/77/0x00000002", "kernel BUG"),
    ("Kernel panic - not syncing: Fatal exception", "kernel panic"),
    ("general protection fault, probably for non-canonical address "
     "0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI", "general protection fault"),
    ("Oops: 0000 [#1] PREEMPT SMP NOPTI", "kernel oops"),
    ("kernel BUG at mm/slub.c:123!", "kernel oops"),
    ("BUG: unable to handle page fault for address: ffffffffc0201000", "kernel oops"),
    ("BUG: Bad page state in process insmod  pfn:10a2b", "kernel BUG"),
    ("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:77]", "kernel BUG"),
    ("UBSAN: shift-out-of-bounds in mod/mheap.c:80:12", "UBSAN report"),
    ("rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "stall or lockup"),
    ("INFO: task insmod:77 blocked for more than 120 seconds.", "stall or lockup"),
    ("Watchdog detected hard LOCKUP on cpu 1", "stall or lockup"),
    ("KASAN: null-ptr-deref in range [0x0-0x7]", "KASAN report"),
    ("==================================================================", None),
    ("Disabling lock debugging due to kernel taint", None),
    ("KASAN report at gom_free", "KASAN report"),
    ("Call Trace:", "call trace"),
    (" <TASK>", None),
    # gomalloc's own messages are never splats, whatever they say
    ("gomalloc: gom_free(0xffff888003c00000): not a gomalloc object, ignored", None),
    ("gomalloc: BUG: double free of 0xffff888003c00040 refused", None),
    ("gomalloc_sample: loaded: 32 records, 4 pages, 16 objects", None),
    ("gomalloc: module verification failed: signature and/or required key "
     "missing - tainting kernel", None),
    ("kasan: KernelAddressSanitizer initialized (generic)", None),
    ("KernelAddressSanitizer initialized (generic)", None),
    ("Linux version 6.1.0-x-amd64 (builder@example.org) (gcc-12) #1 SMP", None),
    ("[Firmware Bug]: TSC_DEADLINE disabled due to Errata; please update microcode",
     None),
    ("Freeing unused kernel image (initmem) memory: 2000K", None),
    ("Run /init as init process", None),
    ("random: crng init done", None),
]


def load_vm_run():
    loader = importlib.machinery.SourceFileLoader("vm_run", os.path.join(HERE, "vm-run"))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("vm_run", loader))
    loader.exec_module(mod)
    return mod


def grep_lines(grep, pattern_file, text_file, invert=False):
    """1-based numbers of the lines of text_file that grep -E -f selects."""
    cmd = grep + ["-n", "-E", "-f", pattern_file] + (["-v"] if invert else []) + [text_file]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode > 1:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return {int(line.split(":", 1)[0]) for line in p.stdout.splitlines()}


def main():
    results = []

    def check(ok, what, detail=""):
        results.append(ok)
        print(f"{'ok' if ok else 'not ok'} - {what}")
        if not ok and detail:
            for line in detail.splitlines():
                print(f"#   {line}")

    vm = load_vm_run()
    splats, exempt = vm.load_splat_patterns(PATTERNS)
    check(len(splats) > 0 and len(exempt) > 0,
          f"scripts/splat-patterns: {len(splats)} patterns, {len(exempt)} exemptions")

    greps = {"GNU grep": ["grep"], "busybox grep": [BUSYBOX, "grep"]}
    tmp = tempfile.mkdtemp(prefix="gom-splat-")
    text = os.path.join(tmp, "messages")
    with open(text, "w") as f:
        f.writelines(m + "\n" for m, _ in SAMPLES)

    # each pattern (and exemption) alone, in each regex engine
    with open(PATTERNS) as f:
        lines = [ln.rstrip("\n") for ln in f
                 if ln.strip() and not ln.startswith("#")]
    used = set()
    for ln in lines:
        rx = ln.split("\t", 1)[0]
        if rx.startswith("!"):
            rx = rx[1:]
        one = os.path.join(tmp, "one.re")
        with open(one, "w") as f:
            f.write(rx + "\n")
        want = {i for i, (m, _) in enumerate(SAMPLES, 1) if re.search(rx, m)}
        used |= want
        for name, grep in greps.items():
            try:
                got = grep_lines(grep, one, text)
                detail = f"python: {sorted(want)}\n{name}: {sorted(got)}"
            except RuntimeError as e:
                got, detail = None, str(e)
            check(got == want, f"{name} -E reads /{rx}/ as Python does", detail)
        check(bool(want), f"/{rx}/ matches at least one sample message")

    # the whole list: vm-run's Scanner against the guest's pipeline
    scan = vm.Scanner([], (splats, exempt))
    flagged_py = set()
    for i, (msg, _) in enumerate(SAMPLES, 1):
        n = len(scan.problems)
        scan.line(f"[   12.345678] {msg}\n")
        if len(scan.problems) > n:
            flagged_py.add(i)
            what = scan.problems[-1].split(":", 1)[0]
        else:
            what = None
        expect = SAMPLES[i - 1][1]
        check(what == expect, f"vm-run: {msg[:60]!r} -> {expect or 'no splat'}",
              f"vm-run said: {what or 'no splat'}")

    # as run-tests.sh prepares and applies them (check_dmesg), under busybox
    guest = subprocess.run(
        [BUSYBOX, "sh", "-c", r"""
set -e
SPLATS=$1
grep -v -e '^#' -e '^!' -e '^$' $SPLATS | cut -f1 > $2/splat.re
grep '^!' $SPLATS | cut -f1 | cut -c2- > $2/splat-exempt.re
sed 's/^/[   12.345678] /' $2/messages | sed 's/^\[[ 0-9.]*\] //' |
	grep -E -f $2/splat.re | grep -v -E -f $2/splat-exempt.re || true
""", "sh", PATTERNS, tmp], capture_output=True, text=True)
    check(guest.returncode == 0 and not guest.stderr,
          "the guest's preparation of the list runs under busybox sh", guest.stderr)
    index = {m: i for i, (m, _) in enumerate(SAMPLES, 1)}
    flagged_guest = {index[m] for m in guest.stdout.splitlines() if m in index}
    check(flagged_guest == flagged_py,
          "run-tests.sh's check_dmesg flags the same messages as vm-run",
          f"vm-run: {sorted(flagged_py)}\nguest:  {sorted(flagged_guest)}")

    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    npass = sum(results)
    print(f"{npass} passed, {len(results) - npass} failed, 0 skipped")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
