#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Allocation churn from kthreads, a timer and (without PREEMPT_RT) a
# hard-irq hrtimer (samples/gomalloc_torture.ko), while CPU 1 goes offline
# and online 25 times and gomalloc is shrunk; then everything is freed and
# shrunk, and nothing may be left in use. This is the run that broke
# PREEMPT_RT when the drain ran in an IPI. Contract: see run-tests.sh.
#
# A second round does it again with profile_rate 1, where every
# allocation is a heap profile sample of weight one, recorded and
# forgotten from all those contexts while the profile is read and its
# rate changed: once everything is freed, the profile must estimate
# nothing live, exactly (the first round checks that too, at the default
# rate).
#
# A third round reloads gomalloc with every debug option (debug=FZPQU):
# each object then has a trailer and a red zone, and every free is checked
# and goes through the quarantine, from all those contexts. Correct use
# must draw no report, from gomalloc or (on the debug kernel) from KASAN,
# whose poison the checks read. Leaves gomalloc loaded, as it found it,
# with its rate.

KO=/modules/gomalloc_torture.ko
P=/sys/module/gomalloc_torture/parameters
G=/sys/kernel/gomalloc
D=/sys/kernel/debug/gomalloc
CPU1=/sys/devices/system/cpu/cpu1/online

ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

# cycle N PROFILE: take CPU 1 offline and online N times, shrinking every
# fifth time; with PROFILE=1 also read the profile and set its rate to
# 4096 and back each time (not to 0: turning sampling off and on patches
# the kernel's text, and a vCPU of QEMU's TCG that runs the patched code
# meanwhile can keep executing the int3 of the patch, a stall seen here).
# Prints how many cycles were made.
cycle() {
	n=0
	while [ $n -lt "$1" ]; do
		{ echo 0 > $CPU1 && echo 1 > $CPU1; } || break
		n=$((n + 1))
		[ $((n % 5)) -eq 0 ] && echo 1 > $G/shrink
		[ "$2" = 1 ] || continue
		cat $D/heap_profile $D/heap_folded > /dev/null
		r=$(cat $G/profile_rate)
		echo 4096 > $G/profile_rate
		echo "$r" > $G/profile_rate
	done
	echo $n
}

# round NAME N PROFILE: load the churn, cycle(), unload it, check.
round() {
	name=$1
	if ! insmod "$KO"; then
		nok "$name: insmod gomalloc_torture.ko"
		return
	fi
	ok "$name: insmod gomalloc_torture.ko ($(grep -c ^processor /proc/cpuinfo) CPUs)"
	cycles=0
	[ -w "$CPU1" ] && cycles=$(cycle "$2" "$3")
	echo 1 > $G/shrink
	sleep 1
	n=$(cat $P/allocs)
	rmmod gomalloc_torture
	if [ "$cycles" -eq "$2" ]; then
		ok "$name: $2 CPU offline/online cycles and shrinks under churn ($n allocations)"
	elif [ -w "$CPU1" ]; then
		nok "$name: $2 CPU offline/online cycles under churn (only $cycles)"
	else
		ok "$name: churn and shrinks ($n allocations) # SKIP CPU 1 cannot go offline here"
	fi
	res=$(dmesg | grep 'gomalloc_torture: .* allocations, ' | tail -1)
	case $res in
	*" 0 corrupt"*) ok "$name: no object changed while held (${res#*: })" ;;
	*) nok "$name: no object changed while held (${res#*: })" ;;
	esac

	echo 1 > $G/shrink
	inuse=$(cat $G/bytes_inuse) pages=$(cat $G/heap/pages_inuse)
	if [ "$inuse" -eq 0 ] && [ "$pages" -eq 0 ]; then
		ok "$name: after free and shrink: bytes_inuse 0, heap/pages_inuse 0"
	else
		nok "$name: after free and shrink: bytes_inuse $inuse, heap/pages_inuse $pages"
	fi
	live=$(head -1 $D/heap_profile)
	case $live in
	*"estimated live 0 objects, 0 bytes") ok "$name: heap profile: nothing live ($live)" ;;
	*) nok "$name: heap profile: nothing live ($live)" ;;
	esac
}

if [ ! -f "$KO" ]; then
	nok "gomalloc_torture.ko present in the guest"
	exit 0
fi
rate=$(cat $G/profile_rate)
round "rate $rate" 25 0
echo 1 > $G/profile_rate
round "rate 1" 10 1

if rmmod gomalloc && insmod /modules/gomalloc.ko debug=FZPQU; then
	round "debug=FZPQU" 10 0
	n=$(cat $G/debug_reports)
	if [ "$n" -eq 0 ]; then
		ok "debug=FZPQU: correct use draws no report"
	else
		nok "debug=FZPQU: correct use draws no report ($n reports)"
	fi
	rmmod gomalloc
else
	nok "reload gomalloc.ko with debug=FZPQU"
fi
grep -q '^gomalloc ' /proc/modules || insmod /modules/gomalloc.ko
echo "$rate" > $G/profile_rate
