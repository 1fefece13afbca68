#!/usr/bin/env bash
# Run gomalloc's KUnit suites on the debug kernel (KASAN, lockdep, KUnit).
#
# usage: scripts/kunit.sh [--selftest]
#   Builds the modules against the debug kernel (scripts/build-kernel.sh),
#   boots it with 2 vCPUs and 2 NUMA nodes, loads mod/gomalloc.ko and then
#   each kunit/*.ko (their suites run at load), parses the KTAP on the console
#   (scripts/ktap.py) and prints per-suite results and "N passed, N failed,
#   N skipped". Results: build/kunit/{console.log,results.ktap}.
#   A second boot runs the mcache and api suites on one node with
#   init_on_alloc=0 and init_on_free=0, where gom_free() takes its inline
#   fast path (the first boot's second node and init_on_free send every free
#   out of line); its suites are reported as "fast paths: ..." and its
#   results are in build/kunit/fast/.
#   Exit 0 = all passed, 1 = failure, 77 = nothing to test (no kunit/*.ko).
#   GOM_KUNIT_ALLOW='regex|...' allows expected kernel splats.
#
#   --selftest  prove the harness catches failures: build a throwaway KUnit
#               module with one passing, one failing and one skipped case,
#               run it, and succeed only if the parser reports it as failed.
set -euo pipefail

usage() { echo "usage: $0 [--selftest]" >&2; exit 2; }
SELFTEST=0
case "${1:-}" in
"") ;;
--selftest) SELFTEST=1 ;;
*) usage ;;
esac

source "$(dirname "$0")/lib.sh"
KDIR=$(gom_debug_kdir)
BZ=$KDIR/arch/x86/boot/bzImage
if [[ ! -f $BZ || ! -f $KDIR/Module.symvers ]]; then
	"$GOM_ROOT/scripts/setup.sh"	# packages, source, debug kernel
fi
TIMEOUT=${GOM_KUNIT_TIMEOUT:-900}
# The KASAN reports kunit/debug_test.c provokes on purpose (each case
# checks that its report came); any other report still fails the run.
ALLOW=(--allow 'BUG: KASAN: [a-z-]+ in [^ ]+ \[gomalloc_debug_test\]$')
if [[ -n ${GOM_KUNIT_ALLOW:-} ]]; then ALLOW+=(--allow "$GOM_KUNIT_ALLOW"); fi

# Guest: load each module in order, then unload in reverse order.
write_guest() {
	cat > "$1" <<'EOF'
rc=0
loaded=""
for ko in /modules/gomalloc.ko /modules/kunit/*.ko; do
	[ -f "$ko" ] || continue
	name=$(basename "$ko" .ko)
	echo "kunit-guest: insmod $name"
	if insmod "$ko"; then
		loaded="$name $loaded"
	else
		echo "GOM-KUNIT-LOADFAIL $name"
		rc=1
	fi
done
for m in $loaded; do
	rmmod "$m" || { echo "GOM-KUNIT-UNLOADFAIL $m"; rc=1; }
done
exit $rc
EOF
}

# Debian boots with init_on_alloc=1; init_on_free=1 covers the clearing
# paths on free too (the api suite checks both).
SLOW_BOOT=(--numa --append "init_on_alloc=1 init_on_free=1")
FAST_BOOT=(--append "init_on_alloc=0 init_on_free=0")

run_vm() {	# run_vm OUTDIR BOOT_ARRAY_NAME GOMALLOC_KO KUNIT_KO...
	local out=$1 gko=$3
	local -n boot=$2
	shift 3
	local args=(--kernel "$BZ" --cpus 2 --timeout "$TIMEOUT" --quiet
		    --no-python --log "$out/console.log" --script "$out/guest.sh"
		    "${boot[@]}")
	[[ -n $gko ]] && args+=(--file "$gko:/modules/gomalloc.ko")
	local k
	for k in "$@"; do
		args+=(--file "$k:/modules/kunit/$(basename "$k")")
	done
	write_guest "$out/guest.sh"
	"$GOM_ROOT/scripts/vm-run" "${args[@]}" "${ALLOW[@]}"
}

if (( SELFTEST )); then
	tmp=$(mktemp -d /tmp/gom-kunit-selftest.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/src"
	cat > "$tmp/src/selftest_kunit.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <kunit/test.h>
#include <linux/module.h>

static void st_pass(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1, 1);
}

static void st_fail(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1, 2);	/* fails on purpose */
}

static void st_skip(struct kunit *test)
{
	kunit_skip(test, "skipped on purpose");
}

static struct kunit_case st_cases[] = {
	KUNIT_CASE(st_pass),
	KUNIT_CASE(st_fail),
	KUNIT_CASE(st_skip),
	{}
};

static struct kunit_suite st_suite = {
	.name = "gomalloc_harness_selftest",
	.test_cases = st_cases,
};
kunit_test_suite(st_suite);
MODULE_LICENSE("GPL");
EOF
	echo 'obj-m += selftest_kunit.o' > "$tmp/src/Kbuild"
	if ! make -C "$KDIR" M="$tmp/src" modules >"$tmp/build.log" 2>&1; then
		cat "$tmp/build.log" >&2
		gom_die "selftest module failed to build"
	fi
	vmrc=0
	run_vm "$tmp" SLOW_BOOT "" "$tmp/src/selftest_kunit.ko" || vmrc=$?
	prc=0
	res=$("$GOM_PY" "$GOM_ROOT/scripts/ktap.py" "$tmp/console.log") || prc=$?
	echo "$res" | sed 's/^/  selftest: /'
	if (( vmrc == 0 && prc != 0 )) &&
	   grep -qx '1 passed, 1 failed, 1 skipped' <<<"$res" &&
	   grep -q 'gomalloc_harness_selftest: FAIL' <<<"$res"; then
		echo "kunit-selftest: ok: a failing KUnit case fails the run"
		exit 0
	fi
	echo "kunit-selftest: FAILED: parser did not report the deliberate failure (vm rc=$vmrc, parser rc=$prc)"
	exit 1
fi

OUT=$GOM_ROOT/build/kunit
BUILD=$GOM_ROOT/build/debug
mkdir -p "$OUT"
# one run at a time per tree (people share build/)
exec 8>"$OUT.lock"
flock 8
rm -f "$OUT/console.log" "$OUT/results.ktap"
if ! "$GOM_ROOT/scripts/build-modules.sh" "$KDIR" "$BUILD"; then
	echo "kunit: FAILED: modules do not build against the debug kernel"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
GKO=$BUILD/mod/gomalloc.ko
mapfile -t KOS < <(find "$BUILD/kunit" -maxdepth 1 -name '*.ko' 2>/dev/null | sort)
if [[ ! -f $GKO ]]; then
	echo "kunit: FAILED: no mod/gomalloc.ko was built"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if (( ${#KOS[@]} == 0 )); then
	echo "kunit: SKIP: no KUnit modules (kunit/*.ko) to run"
	exit 77
fi
echo "kunit: running ${#KOS[@]} test module(s): $(basename -a "${KOS[@]}" | tr '\n' ' ')"
FAST_KOS=()
for k in "${KOS[@]}"; do
	case $(basename "$k") in
	gomalloc_mcache_test.ko|gomalloc_api_test.ko) FAST_KOS+=("$k") ;;
	esac
done
mkdir -p "$OUT/fast"
rm -f "$OUT/fast/console.log" "$OUT/fast/results.ktap"

# judge OUTDIR LABEL: the VM's load failures and ktap.py's verdict; sets
# TOTALS (passed failed skipped) and FAIL.
TOTALS=(0 0 0)
FAIL=0
judge() {
	local out=$1 label=$2 res prc=0 n
	if grep -q 'GOM-KUNIT-LOADFAIL\|GOM-KUNIT-UNLOADFAIL' "$out/console.log"; then
		grep -o 'GOM-KUNIT-[A-Z]*FAIL .*' "$out/console.log" | sed "s/^/kunit: $label/"
	fi
	res=$("$GOM_PY" "$GOM_ROOT/scripts/ktap.py" --ktap-out "$out/results.ktap" \
	      "$out/console.log") || prc=$?
	echo "$res" | sed '$d' | sed "s/^kunit: /kunit: $label/"
	read -r -a n <<<"$(tail -n 1 <<<"$res" | tr -dc '0-9 ')"
	TOTALS=($((TOTALS[0] + n[0])) $((TOTALS[1] + n[1])) $((TOTALS[2] + n[2])))
	(( prc == 0 )) || FAIL=1
}

vmrc=0
run_vm "$OUT" SLOW_BOOT "$GKO" "${KOS[@]}" || vmrc=$?
judge "$OUT" ""
if (( ${#FAST_KOS[@]} )); then
	echo "kunit: fast paths: one node, init_on_alloc=0, init_on_free=0: $(basename -a "${FAST_KOS[@]}" | tr '\n' ' ')"
	run_vm "$OUT/fast" FAST_BOOT "$GKO" "${FAST_KOS[@]}" || vmrc=$?
	judge "$OUT/fast" "fast paths: "
fi
echo "kunit: console logs $OUT/console.log, $OUT/fast/console.log; KTAP results.ktap beside each"
echo "${TOTALS[0]} passed, ${TOTALS[1]} failed, ${TOTALS[2]} skipped"
if (( vmrc != 0 )); then
	echo "kunit: FAILED: a VM run failed (see vm-run lines above)"
	exit 1
fi
exit $FAIL
