#!/usr/bin/env bash
# Show gomalloc working, starting from a bare Debian 12 machine:
#   1. setup: install what is missing, fetch Debian's current 6.1 kernel
#      image and headers (scripts/setup.sh --no-kernel 6.1)
#   2. build: gomalloc, its sample client and its benchmark module against
#      those headers (build/6.1/)
#   3. boot that kernel under QEMU, load gomalloc, the sample client and the
#      benchmark as a workload, and print gomstat from inside the guest
#      (scripts/guest/demo.sh)
# Each step says how long it took; the summary at the end says what ran.
#
# usage: scripts/demo.sh
#   The guest's console is in build/demo/console.log.
set -euo pipefail

[[ $# -eq 0 ]] || { echo "usage: $0" >&2; exit 2; }
source "$(dirname "$0")/lib.sh"
T0=$SECONDS
TIMES=()
STEP=0
step() {	# step WHAT: start the next step
	STEP=$((STEP + 1))
	STEP_T0=$SECONDS
	echo
	echo "demo: [$STEP/3] $*"
}
step_done() {	# step_done NAME
	local t=$((SECONDS - STEP_T0))
	TIMES+=("$(printf '%-14s %s' "$1" "$(gom_dur $t)")")
	echo "demo: [$STEP/3] $1 done in $(gom_dur $t)"
}
indent() { sed -u 's/^/    /'; }

step "setup: packages, Debian's current 6.1 kernel and its headers (scripts/setup.sh)"
"$GOM_ROOT/scripts/setup.sh" --no-kernel 6.1 2>&1 | indent
KVER=$(gom_kver 6.1)
KDIR=$(gom_headers 6.1)
KERNEL=$(gom_kernel 6.1)
step_done setup

step "build: gomalloc's modules against $KDIR"
BUILD=$GOM_ROOT/build/6.1
"$GOM_ROOT/scripts/build-modules.sh" "$KDIR" "$BUILD" 2>&1 | indent
MODS=()
for ko in mod/gomalloc.ko samples/gomalloc_sample.ko bench/gomalloc_bench.ko; do
	[[ -f $BUILD/$ko ]] || gom_die "$ko was not built (log: $BUILD/build.log)"
	MODS+=("$BUILD/$ko")
	echo "    $ko ($(du -k "$BUILD/$ko" | cut -f1) KiB)"
done
step_done build

OUT=$GOM_ROOT/build/demo
mkdir -p "$OUT"
step "boot Debian's $KVER under QEMU (TCG, 2 vCPUs), load gomalloc and a workload, run gomstat"
args=(--kernel "$KERNEL" --cpus 2 --quiet --timeout 600
      --log "$OUT/console.log" --script "$GOM_ROOT/scripts/guest/demo.sh"
      --file "$GOM_ROOT/scripts/gomstat:/usr/bin/gomstat")
for ko in "${MODS[@]}"; do
	args+=(--ko "$ko")
done
rc=0
gom_ticker_start "booting and running the guest (log: $OUT/console.log)"
"$GOM_ROOT/scripts/vm-run" "${args[@]}" 2>"$OUT/vm-run.err" || rc=$?
gom_ticker_stop
# What happened after the guest script started: its output, and the
# kernel's messages (timestamps stripped) between its lines.
sed -n '/GOM-VM-START/,/GOM-VM-EXIT/p' "$OUT/console.log" | tr -d '\r' |
	{ grep -v 'GOM-VM-' || true; } |
	sed -E 's/^\[ *[0-9]+\.[0-9]+\] /kernel: /' | indent
sed 's/^/    /' "$OUT/vm-run.err"
step_done boot+workload

LOADED=$(sed -n 's/^demo: loaded: //p' "$OUT/console.log" | tr -d '\r' | tail -1)
echo
echo "demo: summary"
for t in "${TIMES[@]}"; do
	echo "    $t"
done
echo "    $(printf '%-14s %s' total "$(gom_dur $((SECONDS - T0)))")"
echo "    kernel         Debian's $KVER, stock image $KERNEL"
echo "    headers        $KDIR"
echo "    loaded         ${LOADED:-(the guest did not get that far)}"
echo "    console log    $OUT/console.log"
if (( rc )); then
	echo "demo: FAILED (see the vm-run lines above and the console log)"
fi
exit $rc
