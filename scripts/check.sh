#!/usr/bin/env bash
# Every gomalloc test, in order; the last line is the tally.
#
# usage: scripts/check.sh [STEP...]
#   Steps (default: all, in this order):
#     setup            scripts/setup.sh: packages, kernels, debug kernel
#     setup-paths      setup's records and lib.sh's lookups, on an empty cache
#     splat-patterns   scripts/splat-patterns reads the same in vm-run's
#                      Python, GNU grep -E and busybox grep -E
#     vm-run           scripts/vm-run's verdicts, against a stand-in QEMU
#     lint sizeclasses gomstat fastpath-cost mkreplay bench-report
#     build-6.1 build-6.12 build-6.12-rt
#                      W=1 builds against Debian's 6.1 headers and the 6.12
#                      and 6.12-rt headers from bookworm-backports (any
#                      warning fails)
#     dkms kunit-selftest kunit
#     integration integration-6.12 integration-6.12-rt integration-debug
#                      scripts/integration.sh on Debian's stock 6.1, 6.12
#                      and 6.12-rt (PREEMPT_RT) kernels, and the guest
#                      tests that need kmemleak, KASAN and lockdep on the
#                      debug kernel
#   A step counts as one test, except setup-paths, splat-patterns, vm-run,
#   gomstat, fastpath-cost, mkreplay, bench-report, kunit and the
#   integration steps, whose own test cases are counted. Step logs:
#   build/check/<step>.log; a step that runs for long prints its log's
#   last line every minute. A step that failed on a kernel splat in QEMU
#   has the splat summed up again (scripts/vm-run's "splat summary:"
#   lines: the splat, the RIP, the call trace) just before the tally, so
#   that a report keeping only the end of the output still shows it.
#   Last line: "N passed, N failed, N skipped"; exit 1 if anything failed.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
ALL_STEPS=(setup setup-paths splat-patterns vm-run lint sizeclasses gomstat
	   fastpath-cost mkreplay bench-report build-6.1 build-6.12 build-6.12-rt dkms
	   kunit-selftest kunit integration integration-6.12 integration-6.12-rt
	   integration-debug)
if (( $# )); then
	for s in "$@"; do
		[[ " ${ALL_STEPS[*]} " == *" $s "* ]] ||
			{ echo "usage: $0 [${ALL_STEPS[*]}]" >&2; exit 2; }
	done
	STEPS=("$@")
else
	STEPS=("${ALL_STEPS[@]}")
fi

LOGDIR=$GOM_ROOT/build/check
mkdir -p "$LOGDIR"
PASS=0 FAIL=0 SKIP=0
FAILED_STEPS=()
SPLATS=()		# "splat summary:" lines of the failed steps

step_setup() { "$GOM_ROOT/scripts/setup.sh"; }
step_setup-paths() { "$GOM_ROOT/scripts/test-setup-paths.sh"; }
step_splat-patterns() { "$GOM_PY" "$GOM_ROOT/scripts/test_splat_patterns.py"; }
step_vm-run() { "$GOM_PY" "$GOM_ROOT/scripts/test_vm_run.py"; }
step_lint() { "$GOM_ROOT/scripts/lint.sh"; }
# The committed class table is what scripts/mksizeclasses.py generates.
step_sizeclasses() {
	python3 "$GOM_ROOT/scripts/mksizeclasses.py" --check "$GOM_ROOT/mod" &&
	echo "mod/sizeclasses.[ch] are up to date"
}
step_gomstat() { python3 "$GOM_ROOT/scripts/test_gomstat.py"; }
step_fastpath-cost() { "$GOM_PY" "$GOM_ROOT/scripts/test_fastpath_cost.py"; }
# The replay converter, and the committed bench/replay.txt read as the
# bench module reads it.
step_mkreplay() { "$GOM_PY" "$GOM_ROOT/scripts/test_mkreplay.py"; }
# Which bench figures are held to which target.
step_bench-report() { "$GOM_PY" "$GOM_ROOT/scripts/test_bench_report.py"; }
build() {	# build FLAVOUR
	local h
	h=$(gom_headers "$1") || return 1
	"$GOM_ROOT/scripts/build-modules.sh" --werror "$h" "$GOM_ROOT/build/$1"
}
step_build-6.1() { build 6.1; }
step_build-6.12() { build 6.12; }
step_build-6.12-rt() { build 6.12-rt; }
step_dkms() {
	local ver tmp rc=0 kver hdr
	kver=$(gom_kver 6.1) || return 1
	hdr=$(gom_headers 6.1) || return 1
	ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$GOM_ROOT/dkms.conf")
	tmp=$(mktemp -d /tmp/gom-dkms.XXXXXX)
	mkdir -p "$tmp/src/gomalloc-$ver" "$tmp/tree" "$tmp/install"
	rsync -a --exclude=.git/ --exclude=/build/ --exclude='*.o' --exclude='*.ko' \
		--exclude='.*.cmd' --exclude='*.mod*' --exclude=Module.symvers \
		--exclude=modules.order "$GOM_ROOT"/ "$tmp/src/gomalloc-$ver"/
	local opts=(-m gomalloc -v "$ver" --sourcetree "$tmp/src"
		    --dkmstree "$tmp/tree" --installtree "$tmp/install")
	# dkms signs with a MOK key it generates in /var/lib/dkms unless told
	# otherwise: keep that throwaway key in the temp dir too.
	export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub
	dkms add "${opts[@]}" &&
	dkms build "${opts[@]}" -k "$kver" --kernelsourcedir "$hdr" || rc=$?
	unset mok_signing_key mok_certificate
	local ko
	ko=$(find "$tmp/tree/gomalloc/$ver/$kver" -name 'gomalloc.ko*' 2>/dev/null | head -1)
	if (( rc == 0 )) && [[ -n $ko ]]; then
		echo "dkms build ok: ${ko#"$tmp"/tree/}"
	else
		tail -30 "$tmp"/tree/gomalloc/"$ver"/build/make.log 2>/dev/null
		echo "dkms build failed (rc=$rc)"
		rc=1
	fi
	dkms remove "${opts[@]}" --all >/dev/null 2>&1 || true
	rm -rf "$tmp"
	return $rc
}
step_kunit-selftest() { "$GOM_ROOT/scripts/kunit.sh" --selftest; }
step_kunit() { "$GOM_ROOT/scripts/kunit.sh"; }
step_integration() { "$GOM_ROOT/scripts/integration.sh" 6.1; }
step_integration-6.12() { "$GOM_ROOT/scripts/integration.sh" 6.12; }
step_integration-6.12-rt() { "$GOM_ROOT/scripts/integration.sh" 6.12-rt; }
step_integration-debug() { "$GOM_ROOT/scripts/integration.sh" debug; }

# run_step NAME COUNTS_CASES
run_step() {
	local name=$1 cases=$2 log=$LOGDIR/$1.log rc=0 t0 t
	t0=$(date +%s)
	echo "check: --- $name"
	GOM_PROGRESS_EVERY=60 gom_ticker_start "$name" "tail -1 $(printf %q "$log") | cut -c1-150"
	"step_$name" >"$log" 2>&1 </dev/null || rc=$?
	gom_ticker_stop
	t=$(( $(date +%s) - t0 ))
	local sum p=0 f=0 s=0
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -1 || true)
	if (( cases )) && [[ -n $sum ]]; then
		p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$sum")
		f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$sum")
		[[ $sum == *skipped ]] && s=$(sed -E 's/.* ([0-9]+) skipped$/\1/' <<<"$sum")
		# a failing step with no failed case still counts as a failure
		(( rc != 0 && rc != 77 && f == 0 )) && f=1
		# per-suite lines, then whatever did not pass
		grep -E '^kunit: suite ' "$log" || true
		grep -E '^(kunit|integration): ' "$log" |
			grep -vE '^kunit: suite |^[a-z]+: ok |^kunit: (running|console log)' |
			head -120 || true
	elif (( rc == 77 )); then
		s=1
	elif (( rc == 0 )); then
		p=1
	else
		f=1
	fi
	if (( rc == 77 )); then
		echo "check: SKIP $name ($(grep -m1 -i 'skip' "$log" || echo skipped)) [${t}s]"
	elif (( rc == 0 && f == 0 )); then
		echo "check: PASS $name${sum:+ ($sum)} [${t}s]"
	else
		# case-counting steps already showed their failed cases
		if (( ! cases )) || [[ -z $sum ]]; then
			tail -25 "$log" | sed "s/^/  $name| /"
		fi
		echo "check: FAIL $name${sum:+ ($sum)} [${t}s] (log: $log)"
		FAILED_STEPS+=("$name")
		# a kernel splat's gist, repeated at the end (see vm-run)
		while IFS= read -r line; do
			SPLATS+=("check: $name: ${line#*splat summary: }")
		done < <(grep -a 'splat summary: ' "$log" | head -6 || true)
	fi
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
}

T0=$(date +%s)
for s in "${STEPS[@]}"; do
	case $s in
	setup-paths|splat-patterns|vm-run|gomstat|fastpath-cost|mkreplay|\
	bench-report|kunit|integration*)
		run_step "$s" 1 ;;
	*) run_step "$s" 0 ;;
	esac
	if [[ $s == setup && " ${FAILED_STEPS[*]} " == *" setup "* ]]; then
		echo "check: setup failed; later steps will likely fail too"
	fi
done
for line in "${SPLATS[@]}"; do
	echo "${line:0:400}"
done
echo "check: total time $(( $(date +%s) - T0 ))s${FAILED_STEPS[*]:+; failed steps: ${FAILED_STEPS[*]}}"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
(( FAIL == 0 ))
