#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The sample client module: loads against gomalloc's exports, pins gomalloc
# (module refcount) while loaded, checks and frees everything at unload, and
# gomalloc then unloads without leak reports. Contract: see run-tests.sh.
# Leaves gomalloc loaded, as it found it.

KO=/modules/gomalloc_sample.ko
GKO=/modules/gomalloc.ko

ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

if [ ! -f "$KO" ]; then
	nok "gomalloc_sample.ko present in the guest"
	exit 0
fi

start=$(dmesg | wc -l)
new_dmesg() { dmesg | tail -n +"$((start + 1))"; }

refs0=$(cat /sys/module/gomalloc/refcnt 2>/dev/null)
if insmod "$KO"; then
	ok "insmod gomalloc_sample.ko after gomalloc.ko"
else
	nok "insmod gomalloc_sample.ko after gomalloc.ko"
	exit 0
fi

if new_dmesg | grep -q 'gomalloc_sample: loaded: '; then
	ok "sample reports its allocations at load"
else
	nok "sample reports its allocations at load"
fi

refs=$(cat /sys/module/gomalloc/refcnt 2>/dev/null)
if [ -n "$refs" ] && [ "$refs" -gt "${refs0:-0}" ]; then
	ok "gomalloc refcnt rises with the sample loaded ($refs0 -> $refs)"
else
	nok "gomalloc refcnt rises with the sample loaded ($refs0 -> $refs)"
fi
if grep -q '^gomalloc .*gomalloc_sample' /proc/modules; then
	ok "/proc/modules lists gomalloc_sample as a user of gomalloc"
else
	nok "/proc/modules lists gomalloc_sample as a user of gomalloc"
fi

if rmmod gomalloc 2>/dev/null; then
	nok "rmmod gomalloc refused while the sample uses it"
	# it went away under its user: put it back for the rest of the run
	insmod "$GKO"
else
	ok "rmmod gomalloc refused while the sample uses it"
fi
if grep -q '^gomalloc ' /proc/modules; then
	ok "gomalloc still loaded after the refused rmmod"
else
	nok "gomalloc still loaded after the refused rmmod"
fi

if rmmod gomalloc_sample; then
	ok "rmmod gomalloc_sample"
else
	nok "rmmod gomalloc_sample"
fi
if new_dmesg | grep -q 'gomalloc_sample: unloaded: all allocations intact and freed'; then
	ok "sample finds its allocations intact at unload"
else
	nok "sample finds its allocations intact at unload"
fi
refs=$(cat /sys/module/gomalloc/refcnt 2>/dev/null)
if [ "$refs" = "${refs0:-0}" ]; then
	ok "gomalloc refcnt back to $refs0 after the sample left"
else
	nok "gomalloc refcnt back to $refs0 after the sample left (got '$refs')"
fi

if rmmod gomalloc; then
	ok "rmmod gomalloc after the sample"
else
	nok "rmmod gomalloc after the sample"
fi
if new_dmesg | grep -E 'gomalloc: .*(still allocated|leaked)' ; then
	nok "gomalloc unloads without leak reports"
else
	ok "gomalloc unloads without leak reports"
fi

# kernel splats (the list run-tests.sh prepared), and the sample's own errors
[ -s /tmp/splat.re ] || nok "run-tests.sh prepared /tmp/splat.re"
bad=$({ new_dmesg | sed 's/^\[[ 0-9.]*\] //' | grep -E -f /tmp/splat.re |
	grep -v -E -f /tmp/splat-exempt.re
	new_dmesg | grep -E 'gomalloc_sample: .*(failed|corrupt)'; } | head -5)
if [ -z "$bad" ]; then
	ok "dmesg clean across sample load/unload"
else
	echo "$bad"
	nok "dmesg clean across sample load/unload"
fi

# leave gomalloc loaded for the tests after this one
if ! grep -q '^gomalloc ' /proc/modules; then
	if insmod "$GKO"; then
		ok "gomalloc reloaded for the following tests"
	else
		nok "gomalloc reloaded for the following tests"
	fi
fi
exit 0
