#!/bin/sh
# Guest side of scripts/integration.sh (runs inside QEMU, busybox sh).
#
# usage: sh /guest/run-tests.sh
#   Loads /modules/gomalloc.ko, runs every /guest/test-*.sh in name order with
#   the module loaded, unloads it, loads and unloads it a second time, and
#   checks dmesg. Every result is one line "GOM-T: ok - what",
#   "GOM-T: not ok - what" or "GOM-T: ok - what # SKIP why"; the host counts
#   them as tests. Exit status 0 = ran to the end (whatever the results),
#   non-zero = aborted early (gomalloc.ko missing or not loadable).
#
# Contract for test-*.sh (written by whoever owns the feature):
#   - run with /bin/sh (busybox), gomalloc.ko already loaded, cwd /
#   - print one line per check: "ok - what", "not ok - what" or
#     "ok - what # SKIP why"; other output is shown but not counted
#   - other modules are in /modules/ (sample, bench); unload what you load
#   - python3 is in the initramfs; scripts/gomstat is /usr/bin/gomstat
#   - write files to keep to /out/ (copied to build/integration/<kernel>/out/)
#   - kernel splats are the messages /guest/splat-patterns lists (the one
#     list, scripts/splat-patterns); this script leaves it ready for
#     grep in /tmp/splat.re and its exemptions in /tmp/splat-exempt.re:
#       dmesg | sed 's/^\[[ 0-9.]*\] //' | grep -E -f /tmp/splat.re |
#               grep -v -E -f /tmp/splat-exempt.re
#   - a non-zero exit status counts as one extra failure
#   - each script is killed after $GOM_TEST_TIMEOUT seconds (default 300)
GOM_TEST_TIMEOUT=${GOM_TEST_TIMEOUT:-300}
failed=0

ok()   { echo "GOM-T: ok - $*"; }
nok()  { echo "GOM-T: not ok - $*"; failed=1; }
skip() { echo "GOM-T: ok - $1 # SKIP $2"; }

mark_dmesg() { dmesg | wc -l; }

# The splat list vm-run put in the guest: "REGEX<TAB>what" lines, and
# "!REGEX<TAB>what" exemptions.
SPLATS=/guest/splat-patterns
if [ ! -s $SPLATS ]; then
	nok "$SPLATS present in the guest"
	exit 1
fi
grep -v -e '^#' -e '^!' -e '^$' $SPLATS | cut -f1 > /tmp/splat.re
grep '^!' $SPLATS | cut -f1 | cut -c2- > /tmp/splat-exempt.re

check_dmesg() {	# check_dmesg WHAT FROM_LINE
	bad=$(dmesg | tail -n +"$(( $2 + 1 ))" | sed 's/^\[[ 0-9.]*\] //' |
	      grep -E -f /tmp/splat.re | grep -v -E -f /tmp/splat-exempt.re | head -5)
	if [ -z "$bad" ]; then
		ok "$1: dmesg has no WARN/BUG/oops"
	else
		echo "$bad"
		nok "$1: dmesg has no WARN/BUG/oops"
	fi
}

if [ ! -f /modules/gomalloc.ko ]; then
	nok "gomalloc.ko present in the guest"
	exit 1
fi

start=$(mark_dmesg)
if insmod /modules/gomalloc.ko; then
	ok "insmod gomalloc.ko"
else
	nok "insmod gomalloc.ko"
	exit 1
fi

for t in /guest/test-*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	echo "run-tests: === $name"
	timeout "$GOM_TEST_TIMEOUT" sh "$t" > /tmp/"$name".out 2>&1
	rc=$?
	counted=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*|"ok"|"not ok")
			echo "GOM-T: $line ($name)"
			counted=1
			case "$line" in "not ok"*) failed=1 ;; esac
			;;
		*)
			echo "$name: $line"
			;;
		esac
	done < /tmp/"$name".out
	if [ "$rc" -ne 0 ]; then
		nok "$name exited with status $rc"
	elif [ "$counted" -eq 0 ]; then
		nok "$name printed no ok/not ok line"
	fi
done

if grep -q '^gomalloc ' /proc/modules && rmmod gomalloc; then
	ok "rmmod gomalloc"
else
	nok "rmmod gomalloc"
fi
check_dmesg "first load/unload" "$start"

start=$(mark_dmesg)
if insmod /modules/gomalloc.ko && rmmod gomalloc; then
	ok "second insmod + rmmod"
else
	nok "second insmod + rmmod"
fi
check_dmesg "second load/unload" "$start"
if grep -q '^gomalloc ' /proc/modules; then
	nok "gomalloc gone from /proc/modules after rmmod"
else
	ok "gomalloc gone from /proc/modules after rmmod"
fi
dmesg > /out/dmesg.txt
# Failures are reported (and counted by the host) as "not ok" lines; the
# exit status only says whether this script ran to the end.
[ "$failed" -eq 0 ] || echo "run-tests: some checks failed"
exit 0
