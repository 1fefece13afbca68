#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""scripts/vm-run judges a run the way the tests rely on.

vm-run is run against a stand-in for qemu-system-x86_64 (first on PATH)
that prints a scripted console: a clean run, a splat after the guest
script started, and kernels that die before it starts. Checked:

  - a clean console passes, after one boot;
  - a splat after the guest script started fails at once, with no second
    boot (gomalloc may have caused it);
  - a kernel that dies before the guest script starts (no module loaded
    yet) is booted once more: the run passes if the second boot is clean,
    warns, and keeps the first console log; it fails if both die;
  - --boot-retries N boots up to N more times; 0 turns the second boot off;
  - --tcg-single asks QEMU for one TCG thread, and only then;
  - a failed run prints the console around its first splat (the lines
    just before, the splat, the RIP and the trace after it, bounded), for
    a log that stays on the machine that ran it, and sums the splat up in
    "splat summary:" lines (its first line, the RIP, the reliable frames)
    that scripts/check.sh repeats at its end.

usage: scripts/test_vm_run.py
Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed, N skipped".
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VM_RUN = os.path.join(HERE, "vm-run")

# What the stand-in prints: each boot takes the next console from the list
# in $FAKE_QEMU_PLAN (files separated by ":"), counting boots in a file.
FAKE_QEMU = r"""#!/bin/sh
n=$(cat "$FAKE_QEMU_COUNT" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > "$FAKE_QEMU_COUNT"
echo "$*" > "$FAKE_QEMU_COUNT.args"
plan=$(echo "$FAKE_QEMU_PLAN" | cut -d: -f$n)
[ -n "$plan" ] || { echo "fake qemu: no console for boot $n" >&2; exit 3; }
cat "$plan"
"""

BOOT = "[    0.100000] Linux version 6.12.95+deb12-rt-amd64\n"
CLEAN = BOOT + "GOM-VM-START\n[    2.000000] gomalloc: loaded\nGOM-VM-EXIT rc=0\n"
EARLY_OOPS = (BOOT +
              "[    1.500000] Oops: int3: 0000 [#1] PREEMPT_RT SMP NOPTI\n"
              "[    1.500100] Kernel panic - not syncing: Fatal exception in interrupt\n")
LATE_OOPS = (BOOT + "GOM-VM-START\n"
             "[    2.000000] Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
             "GOM-VM-EXIT rc=0\n")
# An oops with lines before and a long trace after it, then a clean line.
TRACE = (BOOT + "GOM-VM-START\n" +
         "".join(f"[    2.{i:06d}] before {i}\n" for i in range(20)) +
         "[    3.000000] Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI\n" +
         "[    3.000001] RIP: 0010:gom_alloc+0x12/0x80 [gomalloc]\n" +
         "".join(f"[    3.{i + 2:06d}] trace {i}\n" for i in range(100)) +
         "GOM-VM-EXIT rc=0\n")

# An oops as the kernel prints it: the gist is its first line, the RIP and
# the reliable frames ("? " ones are guesses), innermost first.
PANIC = (BOOT + "GOM-VM-START\n"
         "[   81.170000] BUG: unable to handle page fault for address: ffffa0000042ee70\n"
         "[   81.170001] #PF: supervisor write access in kernel mode\n"
         "[   81.170002] Oops: 0002 [#1] PREEMPT_RT SMP NOPTI\n"
         "[   81.170003] RIP: 0010:mark_sampled+0x21/0x60 [gomalloc]\n"
         "[   81.170004] Code: 48 8b 47 08 85 c0\n"
         "[   81.170005] RSP: 0018:ff47296bc012beb8 EFLAGS: 00010246\n"
         "[   81.170006] Call Trace:\n"
         "[   81.170007]  <IRQ>\n"
         "[   81.170008]  ? __die+0x23/0x70\n"
         "[   81.170009]  gom_profile_free+0x5e/0xb0 [gomalloc]\n"
         "[   81.170010]  rcu_do_batch+0x1a5/0x4f0\n"
         "[   81.170011]  </IRQ>\n"
         "[   81.170012]  <TASK>\n"
         "[   81.170013]  run_ksoftirqd+0x25/0x40\n"
         "[   81.170014]  </TASK>\n"
         "[   81.170015] Modules linked in: gomalloc\n"
         "[   81.170016] ---[ end trace 0000000000000000 ]---\n"
         "[   81.170017] RIP: 0010:mark_sampled+0x21/0x60 [gomalloc]\n"
         "[   81.180219] Kernel panic - not syncing: Fatal exception in interrupt\n")


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        print(f"{'ok' if ok else 'not ok'} - {what}")
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def run(tmp, consoles, extra=()):
    """Run vm-run against the stand-in; return (rc, stderr, boots, log)."""
    plan = []
    for i, text in enumerate(consoles):
        p = os.path.join(tmp, f"console{i}")
        with open(p, "w") as f:
            f.write(text)
        plan.append(p)
    count = os.path.join(tmp, "count")
    if os.path.exists(count):
        os.remove(count)
    log = os.path.join(tmp, "console.log")
    for f in (log, log + ".boot1", log + ".boot2"):
        if os.path.exists(f):
            os.remove(f)
    env = dict(os.environ, PATH=os.path.join(tmp, "bin") + ":" + os.environ["PATH"],
               FAKE_QEMU_PLAN=":".join(plan), FAKE_QEMU_COUNT=count,
               GOM_CACHE=os.path.join(tmp, "cache"))
    script = os.path.join(tmp, "t.sh")
    p = subprocess.run([VM_RUN, "--kernel", script, "--script", script, "--quiet",
                        "--no-python", "--timeout", "60", "--log", log, *extra],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    boots = 0
    if os.path.exists(count):
        with open(count) as f:
            boots = int(f.read())
    return p.returncode, p.stderr, boots, log


def qemu_args(tmp):
    """The command line of the stand-in's last boot."""
    with open(os.path.join(tmp, "count.args")) as f:
        return f.read().split()


def main():
    t = Tally()
    with tempfile.TemporaryDirectory(prefix="gom-vmrun-test-") as tmp:
        os.makedirs(os.path.join(tmp, "bin"))
        fake = os.path.join(tmp, "bin", "qemu-system-x86_64")
        with open(fake, "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(fake, 0o755)
        with open(os.path.join(tmp, "t.sh"), "w") as f:
            f.write("exit 0\n")

        rc, err, boots, _ = run(tmp, [CLEAN])
        t.check(rc == 0 and boots == 1 and "WARN" not in err,
                f"clean console: passes after one boot (rc {rc}, {boots} boot(s))")
        t.check("-accel" not in qemu_args(tmp),
                "by default QEMU picks its threads (no -accel)")
        rc, err, boots, _ = run(tmp, [CLEAN], ["--tcg-single"])
        args = qemu_args(tmp)
        t.check(rc == 0 and "-accel" in args
                and args[args.index("-accel") + 1] == "tcg,thread=single",
                "--tcg-single runs the vCPUs on one thread "
                "(-accel tcg,thread=single)")

        rc, err, boots, _ = run(tmp, [LATE_OOPS, CLEAN])
        t.check(rc == 1 and boots == 1 and "FAIL: kernel oops" in err,
                f"oops after the script started: fails, no second boot "
                f"(rc {rc}, {boots} boot(s))")

        rc, err, boots, log = run(tmp, [EARLY_OOPS, CLEAN])
        t.check(rc == 0 and boots == 2,
                f"death before the script started, then a clean boot: passes "
                f"(rc {rc}, {boots} boot(s))")
        t.check("WARN: the kernel died before the guest script started" in err
                and "WARN: boot 1: kernel oops: Oops: int3" in err,
                "the second boot is announced with the first boot's oops")
        kept = os.path.exists(log + ".boot1") and "Oops: int3" in open(log + ".boot1").read()
        t.check(kept and "Oops" not in open(log).read(),
                "the first console log is kept beside the second")

        rc, err, boots, _ = run(tmp, [EARLY_OOPS, EARLY_OOPS, CLEAN])
        t.check(rc == 1 and boots == 2 and "never started the script" in err,
                f"death before the script on both boots: fails after two "
                f"(rc {rc}, {boots} boot(s))")

        rc, err, boots, log = run(tmp, [EARLY_OOPS, EARLY_OOPS, CLEAN],
                                  ["--boot-retries", "2"])
        t.check(rc == 0 and boots == 3 and os.path.exists(log + ".boot2"),
                f"--boot-retries 2: two deaths, then a clean third boot passes "
                f"(rc {rc}, {boots} boot(s))")

        rc, err, boots, _ = run(tmp, [EARLY_OOPS, CLEAN], ["--boot-retries", "0"])
        t.check(rc == 1 and boots == 1,
                f"--boot-retries 0: no second boot (rc {rc}, {boots} boot(s))")

        rc, err, _, _ = run(tmp, [TRACE])
        shown = [ln.split("console: ", 1)[1] for ln in err.splitlines()
                 if "console: " in ln]
        t.check(rc == 1 and len(shown) == 81
                and shown[0] == "[    2.000010] before 10"
                and shown[10].endswith("Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI")
                and shown[11].endswith("RIP: 0010:gom_alloc+0x12/0x80 [gomalloc]")
                and shown[-1] == "[    3.000070] trace 68",
                f"a failed run shows the console around its first splat: "
                f"10 lines before, the splat, 70 after ({len(shown)} shown)")
        summary = [ln.split("splat summary: ", 1)[1] for ln in err.splitlines()
                   if "splat summary: " in ln]
        t.check(len(summary) == 2 and summary[0].startswith("kernel oops: Oops: double")
                and summary[1] == "RIP: 0010:gom_alloc+0x12/0x80 [gomalloc]",
                f"a splat without a call trace is summed up by its line and "
                f"its RIP ({summary})")
        rc, err, _, _ = run(tmp, [PANIC])
        summary = [ln.split("splat summary: ", 1)[1] for ln in err.splitlines()
                   if "splat summary: " in ln]
        want = ["kernel oops: BUG: unable to handle page fault for address: "
                "ffffa0000042ee70",
                "RIP: 0010:mark_sampled+0x21/0x60 [gomalloc]",
                "call trace: gom_profile_free [gomalloc] < rcu_do_batch < "
                "run_ksoftirqd"]
        t.check(rc == 1 and summary == want,
                f"a panic's splat summary: its first line, the RIP and the "
                f"reliable frames, innermost first ({summary})")
        rc, err, _, _ = run(tmp, [CLEAN])
        t.check("console: " not in err and "splat summary" not in err,
                "a clean run shows no console lines and no summary")
    print(f"{t.passed} passed, {t.failed} failed")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
