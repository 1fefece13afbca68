#!/usr/bin/env bash
# Integration test on Debian's stock 6.1 kernel under QEMU.
#
# usage: scripts/integration.sh
#   Builds the modules against the Debian 6.1 headers (build/6.1/), boots the
#   stock vmlinuz with 2 vCPUs, and runs scripts/guest/run-tests.sh: load
#   gomalloc.ko, every scripts/guest/test-*.sh, unload, load + unload again,
#   dmesg check. Each "ok"/"not ok" line from the guest is a test; the VM
#   run itself (no WARN/BUG/oops/KASAN/lockdep in the log, clean exit) is one
#   more. Prints "N passed, N failed, N skipped"; exit 1 on any failure.
#   Output: build/integration/{console.log,out/}.
#   GOM_INTEGRATION_ALLOW='regex' allows an expected kernel splat.
set -euo pipefail

[[ $# -eq 0 ]] || { echo "usage: $0" >&2; exit 2; }
source "$(dirname "$0")/lib.sh"
gom_ready 6.1 || "$GOM_ROOT/scripts/setup.sh" --no-kernel 6.1
KDIR=$(gom_headers 6.1)
KERNEL=$(gom_kernel 6.1)

OUT=$GOM_ROOT/build/integration
BUILD=$GOM_ROOT/build/6.1
mkdir -p "$GOM_ROOT/build"
# one run at a time per tree (people share build/)
exec 8>"$OUT.lock"
flock 8
rm -rf "$OUT"
mkdir -p "$OUT/out"

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
      --file "$BUILD/mod/gomalloc.ko:/modules/gomalloc.ko")
[[ -n ${GOM_INTEGRATION_ALLOW:-} ]] && ARGS+=(--allow "$GOM_INTEGRATION_ALLOW")
for t in "$GOM_ROOT"/scripts/guest/test-*.sh; do
	[[ -f $t ]] && ARGS+=(--file "$t:/guest/$(basename "$t")")
done
# Other modules the guest tests may load (sample client, benchmark).
while IFS= read -r ko; do
	ARGS+=(--file "$ko:/modules/$(basename "$ko")")
done < <(find "$BUILD/samples" "$BUILD/bench" -maxdepth 1 -name '*.ko' 2>/dev/null | sort)
[[ -f $GOM_ROOT/scripts/gomstat ]] && ARGS+=(--file "$GOM_ROOT/scripts/gomstat:/usr/bin/gomstat")

vmrc=0
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
	echo "integration: ok - VM run clean (no WARN/BUG/oops/KASAN/lockdep, guest exit 0)"
else
	fail=$((fail + 1))
	sed 's/^/integration: /' "$OUT/vm-run.err"
	echo "integration: not ok - VM run clean (see $OUT/console.log)"
fi
echo "$pass passed, $fail failed, $skip skipped"
(( fail == 0 ))
