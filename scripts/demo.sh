#!/usr/bin/env bash
# Show gomalloc working: setup (if needed), build, boot Debian's stock 6.1
# kernel in QEMU, load gomalloc and a workload (the sample client from
# samples/, else the benchmark module), print gomstat from inside the guest.
#
# usage: scripts/demo.sh
#   The guest's console is in build/demo/console.log.
set -euo pipefail

[[ $# -eq 0 ]] || { echo "usage: $0" >&2; exit 2; }
source "$(dirname "$0")/lib.sh"
"$GOM_ROOT/scripts/setup.sh" --no-kernel 6.1
KVER=$(gom_kver 6.1)
KDIR=$(gom_headers 6.1)
KERNEL=$(gom_kernel 6.1)
BUILD=$GOM_ROOT/build/6.1
"$GOM_ROOT/scripts/build-modules.sh" "$KDIR" "$BUILD"
[[ -f $BUILD/mod/gomalloc.ko ]] || gom_die "mod/gomalloc.ko was not built"

OUT=$GOM_ROOT/build/demo
mkdir -p "$OUT"
args=(--kernel "$KERNEL" --cpus 2 --quiet --timeout 600
      --log "$OUT/console.log" --script "$GOM_ROOT/scripts/guest/demo.sh"
      --ko "$BUILD/mod/gomalloc.ko")
while IFS= read -r ko; do
	args+=(--file "$ko:/modules/samples/$(basename "$ko")")
done < <(find "$BUILD/samples" -maxdepth 1 -name '*.ko' 2>/dev/null | sort)
[[ -f $BUILD/bench/gomalloc_bench.ko ]] && args+=(--ko "$BUILD/bench/gomalloc_bench.ko")
if [[ -f $GOM_ROOT/scripts/gomstat ]]; then
	args+=(--file "$GOM_ROOT/scripts/gomstat:/usr/bin/gomstat")
else
	echo "demo: scripts/gomstat not written yet: the guest will list sysfs instead"
fi

echo "demo: booting Debian $KVER under QEMU (TCG, 2 vCPUs)..."
rc=0
"$GOM_ROOT/scripts/vm-run" "${args[@]}" || rc=$?
# What happened after the guest script started: its output and the
# kernel's messages, timestamps stripped.
sed -n '/GOM-VM-START/,/GOM-VM-EXIT/p' "$OUT/console.log" |
	{ grep -v 'GOM-VM-' || true; } | sed -E 's/^\[ *[0-9]+\.[0-9]+\] /  kernel: /'
echo "demo: full console log: $OUT/console.log"
exit $rc
