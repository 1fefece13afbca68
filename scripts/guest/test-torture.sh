#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Allocation churn from kthreads, a timer and (without PREEMPT_RT) a
# hard-irq hrtimer (samples/gomalloc_torture.ko), while CPU 1 goes offline
# and online 25 times and gomalloc is shrunk; then everything is freed and
# shrunk, and nothing may be left in use. This is the run that broke
# PREEMPT_RT when the drain ran in an IPI. Contract: see run-tests.sh.
# Leaves gomalloc loaded, as it found it.

KO=/modules/gomalloc_torture.ko
P=/sys/module/gomalloc_torture/parameters
G=/sys/kernel/gomalloc
CPU1=/sys/devices/system/cpu/cpu1/online

ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

if [ ! -f "$KO" ]; then
	nok "gomalloc_torture.ko present in the guest"
	exit 0
fi
if ! insmod "$KO"; then
	nok "insmod gomalloc_torture.ko"
	exit 0
fi
ok "insmod gomalloc_torture.ko ($(grep -c ^processor /proc/cpuinfo) CPUs)"

cycles=0
if [ -w "$CPU1" ]; then
	i=0
	while [ $i -lt 25 ]; do
		echo 0 > $CPU1 && echo 1 > $CPU1 && cycles=$((cycles + 1))
		[ $((i % 5)) -eq 4 ] && echo 1 > $G/shrink
		i=$((i + 1))
	done
fi
echo 1 > $G/shrink
sleep 1
n=$(cat $P/allocs)
rmmod gomalloc_torture
if [ "$cycles" -eq 25 ]; then
	ok "25 CPU offline/online cycles and 6 shrinks under churn ($n allocations)"
elif [ -w "$CPU1" ]; then
	nok "25 CPU offline/online cycles under churn (only $cycles)"
else
	ok "churn and shrinks ($n allocations) # SKIP CPU 1 cannot go offline here"
fi
res=$(dmesg | grep 'gomalloc_torture: .* allocations, ' | tail -1)
case $res in
*" 0 corrupt"*) ok "no object changed while held (${res#*: })" ;;
*) nok "no object changed while held (${res#*: })" ;;
esac

echo 1 > $G/shrink
inuse=$(cat $G/bytes_inuse) pages=$(cat $G/heap/pages_inuse)
if [ "$inuse" -eq 0 ] && [ "$pages" -eq 0 ]; then
	ok "after free and shrink: bytes_inuse 0, heap/pages_inuse 0"
else
	nok "after free and shrink: bytes_inuse $inuse, heap/pages_inuse $pages"
fi
