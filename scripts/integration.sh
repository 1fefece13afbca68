#!/usr/bin/env bash
# Integration test on one of Debian's stock kernels under QEMU.
#
# usage: scripts/integration.sh [6.1 | 6.12 | 6.12-rt | debug]
#   6.1 (the default) is Debian's current 6.1 kernel, 6.12 and 6.12-rt
#   (PREEMPT_RT) the newest 6.12 kernels in bookworm-backports; setup.sh
#   fetches them (run here if the kernel is not set up yet). debug is the
#   project's debug kernel (scripts/build-kernel.sh: KASAN, lockdep,
#   kmemleak); it runs the tests in DEBUG_TESTS below: kmemleak's, and
#   those whose workloads gain most from KASAN and lockdep watching them.
#   The others are left out: test-debug provokes bugs that KASAN reports
#   on its own (kunit/debug_test.c covers that case), and the frag, sysfs
#   and gomstat tests take too long under KASAN in TCG (test-frag alone
#   outruns its 5 minutes there).
#   Builds the modules against that kernel's headers (build/<kernel>/),
#   boots its stock vmlinuz with 2 vCPUs (the debug kernel on two NUMA
#   nodes, one vCPU each), and runs scripts/guest/run-tests.sh:
#   load gomalloc.ko, every scripts/guest/test-*.sh, unload, load + unload
#   again, dmesg check. Each "ok"/"not ok" line from the guest is a test;
#   the VM run itself (no kernel splat from scripts/splat-patterns in the
#   log, clean exit) is one more. Prints "N passed, N failed, N skipped";
#   exit 1 on any failure.
#   Output: build/integration/<kernel>/{console.log,out/}.
#   GOM_INTEGRATION_ALLOW='regex' allows an expected kernel splat.
set -euo pipefail

usage() { echo "usage: $0 [6.1 | 6.12 | 6.12-rt | debug]" >&2; exit 2; }
(( $# <= 1 )) || usage
source "$(dirname "$0")/lib.sh"
FL=${1:-6.1}
DEBUG_TESTS=(test-module test-sample test-torture test-trace test-fault
	     test-kmemleak)
[[ $FL == debug ]] || gom_is_flavour "$FL" || usage
gom_target "$FL"

OUT=$GOM_ROOT/build/integration/$FL
BUILD=$GOM_ROOT/build/$FL
mkdir -p "${OUT%/*}"
# one run at a time per tree and kernel (people share build/)
exec 8>"$OUT.lock"
flock 8
rm -rf "$OUT"
mkdir -p "$OUT/out"

echo "integration: kernel $FL: Debian's $KVER ($KERNEL)"
if ! "$GOM_ROOT/scripts/build-modules.sh" "$KDIR" "$BUILD"; then
	echo "integration: FAILED: modules do not build against $KDIR"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if [[ ! -f $BUILD/mod/gomalloc.ko ]]; then
	echo "integration: FAILED: no mod/gomalloc.ko was built"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

ARGS=(--kernel "$KERNEL" --cpus 2 --mem 1G --quiet
      --timeout "${GOM_INTEGRATION_TIMEOUT:-900}"
      --log "$OUT/console.log" --out "$OUT/out"
      --script "$GOM_ROOT/scripts/guest/run-tests.sh"
      --file "$BUILD/mod/gomalloc.ko:/modules/gomalloc.ko"
      --file "$GOM_ROOT/scripts/gomstat:/usr/bin/gomstat")
[[ -n ${GOM_INTEGRATION_ALLOW:-} ]] && ARGS+=(--allow "$GOM_INTEGRATION_ALLOW")
# The debug kernel has no entropy source of its own in QEMU: without the
# CPU's RDRAND, %p would print "(____ptrval____)" and the trace test
# could not match an object's address between its events.
[[ $FL == debug ]] && ARGS+=(--append "random.trust_cpu=on")
# The debug kernel boots two NUMA nodes of one vCPU each, so that KASAN
# and lockdep watch the torture free other nodes' objects and ask for
# their memory, and CPU 1's hotplug leave node 1 without a CPU; the stock
# kernels keep one node, where gom_free() takes its inline fast path.
[[ $FL == debug ]] && ARGS+=(--numa)
# The RT kernel dies under TCG's threads when it patches its own text
# (scripts/vm-run, TCG_SINGLE); the other kernels keep two vCPUs that
# really run at once.
[[ $FL == 6.12-rt ]] && ARGS+=(--tcg-single)
for t in "$GOM_ROOT"/scripts/guest/test-*.sh; do
	name=$(basename "$t" .sh)
	[[ $FL != debug || " ${DEBUG_TESTS[*]} " == *" $name "* ]] || continue
	ARGS+=(--file "$t:/guest/$name.sh")
done
# Other modules the guest tests load (sample client, benchmark).
while IFS= read -r ko; do
	ARGS+=(--file "$ko:/modules/$(basename "$ko")")
done < <(find "$BUILD/samples" "$BUILD/bench" -maxdepth 1 -name '*.ko' | sort)

vmrc=0
t0=$SECONDS
"$GOM_ROOT/scripts/vm-run" "${ARGS[@]}" 2>"$OUT/vm-run.err" || vmrc=$?

pass=0 fail=0 skip=0
while IFS= read -r line; do
	line=${line%$'\r'}
	res=${line#*GOM-T: }
	case $res in
	"ok "*"# SKIP"*) skip=$((skip + 1)) ;;
	"ok "*) pass=$((pass + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
	echo "integration: $res"
done < <(grep -a 'GOM-T: ' "$OUT/console.log" || true)

if (( vmrc == 0 )); then
	pass=$((pass + 1))
	# a second boot after a kernel that died before the tests started
	grep 'WARN' "$OUT/vm-run.err" | sed 's/^/integration: /' || true
	echo "integration: ok - VM run clean on $KVER (no kernel splat, guest exit 0)"
else
	fail=$((fail + 1))
	sed 's/^/integration: /' "$OUT/vm-run.err"
	echo "integration: not ok - VM run clean on $KVER (see $OUT/console.log)"
fi
echo "integration: $FL: boot and tests took $(gom_dur $((SECONDS - t0))); console log $OUT/console.log"
echo "$pass passed, $fail failed, $skip skipped"
(( fail == 0 ))
