#!/usr/bin/env bash
# Run gomalloc's benchmark module in QEMU on the stock Debian 6.1 kernel.
#
# usage: scripts/bench.sh [MODE...]
#   MODE is one of icount-ioa0 icount-default wall-ioa0 wall-default
#   (default: all four):
#     icount-*  1 vCPU, -icount shift=0,sleep=off (1 virtual ns = 1 insn)
#     wall-*    2 vCPUs, wall clock
#     *-ioa0    init_on_alloc=0 on the kernel command line
#     *-default Debian's default (init_on_alloc=1)
#   The guest side is scripts/guest/bench.sh (written with bench/); its
#   /out/*.json and *.txt land in build/bench/. Settings for the guest go on
#   the kernel command line: gombench.mode=MODE, plus GOM_BENCH_ARGS (e.g.
#   "gombench.cases=hot gombench.iters=5000"). The kernel is Debian's
#   current 6.1 kernel (scripts/setup.sh fetches it if it is not set up).
#   The replay case replays bench/replay.txt (scripts/replay-record.sh).
#
#   At the end, scripts/bench-report.py merges the modes into
#   build/bench/performance-results.rst, headed with the tree's commit, the
#   kernel, QEMU and the date. When all four modes ran with the default
#   settings (no GOM_BENCH_ARGS) and none failed, it also replaces
#   Documentation/performance-results.rst, to be committed.
set -euo pipefail

ALL_MODES=(icount-ioa0 icount-default wall-ioa0 wall-default)
MODES=("$@")
(( ${#MODES[@]} )) || MODES=("${ALL_MODES[@]}")
for m in "${MODES[@]}"; do
	[[ " ${ALL_MODES[*]} " == *" $m "* ]] ||
		{ echo "usage: $0 [${ALL_MODES[*]}]" >&2; exit 2; }
done

source "$(dirname "$0")/lib.sh"
T0=$(date +%s)
GUEST=$GOM_ROOT/scripts/guest/bench.sh
REPLAY=$GOM_ROOT/bench/replay.txt
gom_ready 6.1 || "$GOM_ROOT/scripts/setup.sh" --no-kernel 6.1
KDIR=$(gom_headers 6.1)
KERNEL=$(gom_kernel 6.1)
echo "bench: Debian's $(gom_kver 6.1) kernel"
BUILD=$GOM_ROOT/build/6.1
"$GOM_ROOT/scripts/build-modules.sh" "$KDIR" "$BUILD"
for ko in mod/gomalloc.ko bench/gomalloc_bench.ko; do
	[[ -f $BUILD/$ko ]] || gom_die "$ko was not built"
done

OUT=$GOM_ROOT/build/bench
mkdir -p "$OUT"
rc=0
for m in "${MODES[@]}"; do
	args=(--kernel "$KERNEL" --quiet --no-python
	      --timeout "${GOM_BENCH_TIMEOUT:-3600}"
	      --ko "$BUILD/mod/gomalloc.ko" --ko "$BUILD/bench/gomalloc_bench.ko"
	      --script "$GUEST" --log "$OUT/$m.console.log" --out "$OUT/$m")
	[[ -f $REPLAY ]] && args+=(--file "$REPLAY:/guest/replay.txt")
	append="gombench.mode=$m ${GOM_BENCH_ARGS:-}"
	case $m in
	icount-*) args+=(--icount --cpus 1) ;;
	wall-*) args+=(--cpus 2) ;;
	esac
	[[ $m == *-ioa0 ]] && append="init_on_alloc=0 $append"
	echo "bench: $m (kernel cmdline: $append)"
	rm -rf "${OUT:?}/$m" "$OUT/bench-$m.json" "$OUT/bench-$m.txt"
	if "$GOM_ROOT/scripts/vm-run" "${args[@]}" --append "$append"; then
		cp "$OUT/$m"/* "$OUT"/ 2>/dev/null || true
	else
		echo "bench: FAILED: $m (log: $OUT/$m.console.log)"
		rc=1
	fi
done

"$GOM_PY" - "$OUT" "${MODES[@]}" <<'PY'
import json, os, sys
out, modes = sys.argv[1], sys.argv[2:]
for m in modes:
    path = os.path.join(out, f"bench-{m}.json")
    if not os.path.exists(path):
        print(f"bench: {m}: no results ({path} missing)")
        continue
    print(f"bench: {m}:")
    print(f"  {'case':<16} {'size':>6} {'gomalloc':>12} {'peer':>12} {'ratio':>7}  unit (peer)")
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            r = json.loads(line)
        except ValueError:
            print(f"  unparsable: {line[:60]}")
            continue
        print(f"  {r.get('case', '?'):<16} {r.get('size', 0):>6} {r.get('gom', 0):>12} "
              f"{r.get('peer', 0):>12} {r.get('ratio', 0):>7.3f}  "
              f"{r.get('unit', '')} ({r.get('peer_name', '')})")
PY
# The static cost of the fast paths (irq toggles, locked instructions,
# from the machine code of this build and of the guest's kernel).
static=()
if "$GOM_PY" "$GOM_ROOT/scripts/fastpath-cost.py" --out "$OUT" >/dev/null; then
	static=(--static "$OUT/fastpath-cost.txt")
	echo "bench: wrote $OUT/fastpath-cost.txt"
else
	echo "bench: scripts/fastpath-cost.py failed: no machine-code section" >&2
	rc=1
fi

# The results document: every mode that has results, with where they
# come from. The tree is named by its commit; "-dirty" if anything but
# the results document differs from it.
commit=$(git -C "$GOM_ROOT" describe --always --abbrev=12 2>/dev/null || echo unknown)
if [[ -n $(git -C "$GOM_ROOT" status --porcelain --untracked-files=no -- . \
	   ':!Documentation/performance-results.rst' 2>/dev/null) ]]; then
	commit+=-dirty
fi
subject=$(git -C "$GOM_ROOT" log -1 --format=%s 2>/dev/null || true)
jsons=()
for m in "${MODES[@]}"; do
	[[ -f $OUT/bench-$m.json ]] && jsons+=("$OUT/bench-$m.json")
done
all_modes=1
for m in "${ALL_MODES[@]}"; do
	[[ " ${MODES[*]} " == *" $m "* ]] || all_modes=0
done
version=$(sed -n "s/^# version: //p" "$OUT"/bench-*.txt 2>/dev/null | head -1 || true)
secs=$(( $(date +%s) - T0 ))
if (( ${#jsons[@]} )); then
	"$GOM_PY" "$GOM_ROOT/scripts/bench-report.py" --format rst --document \
		--commit "$commit${subject:+ (\"$subject\")}" --date "$(date -u +%Y-%m-%d)" \
		--kernel "Debian's stock 6.1 kernel${version:+, $version}" \
		--qemu "$(qemu-system-x86_64 --version | head -1)" \
		--run "scripts/bench.sh ${MODES[*]} ${GOM_BENCH_ARGS:-(default settings)}, $(gom_dur "$secs") on $(nproc) host CPUs" \
		"${static[@]}" -o "$OUT/performance-results.rst" "${jsons[@]}" >/dev/null
	if (( rc == 0 && all_modes )) && [[ -z ${GOM_BENCH_ARGS:-} ]]; then
		cp "$OUT/performance-results.rst" "$GOM_ROOT/Documentation/performance-results.rst"
		echo "bench: wrote Documentation/performance-results.rst ($commit)"
	else
		echo "bench: not all modes, or not the default settings: Documentation/performance-results.rst left as it is"
	fi
fi
echo "bench: results in $OUT (total time $(gom_dur "$secs"))"
exit $rc
