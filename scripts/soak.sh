#!/usr/bin/env bash
# Soak gomalloc under QEMU: churn from every context while its settings,
# CPU hotplug, mem_limit and fault injection change at random.
#
# usage: scripts/soak.sh [--numa] [6.1 | 6.12 | 6.12-rt | debug] [SECONDS]
#                        [PARAM...]
#   Boots the kernel (default 6.1) with 2 vCPUs (with --numa, on two NUMA
#   nodes of one vCPU and half the memory each, so that the churn frees
#   objects of the other node and asks for its memory; CPU 1's hotplug
#   then leaves node 1 without a CPU), loads gomalloc.ko with the
#   module parameters PARAM... (for example profile_rate=1 debug=FZPQU)
#   and samples/gomalloc_torture.ko, and runs scripts/guest/soak.sh for
#   SECONDS (default 300). Not part of make check: a soak looks for what a
#   short run does not meet, and takes as long as it is given.
#   Prints one line per check and "N passed, N failed"; a kernel splat
#   fails the run. Output: build/soak/<kernel>/console.log.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
NUMA=()
if [[ ${1:-} == --numa ]]; then
	NUMA=(--numa)
	shift
fi
FL=${1:-6.1}
SECS=${2:-300}
shift $(( $# < 2 ? $# : 2 ))
[[ $SECS =~ ^[0-9]+$ ]] || gom_die "SECONDS must be a number: $SECS"
[[ $FL == debug ]] || gom_is_flavour "$FL" || gom_die "unknown kernel: $FL"
gom_target "$FL"

OUT=$GOM_ROOT/build/soak/$FL
BUILD=$GOM_ROOT/build/$FL
mkdir -p "$OUT"
# one soak at a time per tree and kernel
exec 8>"$OUT.lock"
flock 8
"$GOM_ROOT/scripts/build-modules.sh" "$KDIR" "$BUILD"
printf 'DURATION=%s\nGOM_PARAMS="%s"\n' "$SECS" "$*" > "$OUT/soak.env"

ARGS=(--kernel "$KERNEL" --cpus 2 --mem 1G --quiet "${NUMA[@]}"
      --timeout $((SECS + 600)) --log "$OUT/console.log"
      --script "$GOM_ROOT/scripts/guest/soak.sh"
      --file "$OUT/soak.env:/guest/soak.env"
      --file "$BUILD/mod/gomalloc.ko:/modules/gomalloc.ko"
      --file "$BUILD/samples/gomalloc_torture.ko:/modules/gomalloc_torture.ko")
# as in integration.sh
[[ $FL == debug ]] && ARGS+=(--append "random.trust_cpu=on")
[[ $FL == 6.12-rt ]] && ARGS+=(--tcg-single)

echo "soak: $FL${NUMA:+ (NUMA)} for ${SECS}s, gomalloc.ko $*"
vmrc=0
"$GOM_ROOT/scripts/vm-run" "${ARGS[@]}" 2>"$OUT/vm-run.err" || vmrc=$?
pass=0 fail=0
while IFS= read -r line; do
	line=${line%$'\r'}
	case ${line#*SOAK: } in
	"ok "*) pass=$((pass + 1)) ;;
	"not ok "*) fail=$((fail + 1)) ;;
	esac
	echo "soak: ${line#*SOAK: }"
done < <(grep -a 'SOAK: ' "$OUT/console.log" || true)
if (( vmrc == 0 )); then
	pass=$((pass + 1))
	echo "soak: ok - VM run clean (no kernel splat, guest exit 0)"
else
	fail=$((fail + 1))
	sed 's/^/soak: /' "$OUT/vm-run.err"
	echo "soak: not ok - VM run clean (see $OUT/console.log)"
fi
echo "$pass passed, $fail failed"
(( fail == 0 ))
