#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of scripts/soak.sh (runs inside QEMU, busybox sh).
#
# Loads gomalloc.ko with the parameters in /guest/soak.env and
# samples/gomalloc_torture.ko, then for DURATION seconds changes one thing
# at random each step while the churn runs: mem_limit squeezed to a
# fraction of the heap or lifted, the tunables (empty_spans,
# empty_delay_ms, reserve_arenas, scavenge_delay_ms, arena_min_order,
# grow_max_order), or a shrink. Every third step CPU 1 goes offline and
# online; every step reads the heap profile, the client and class files
# and span_ages; every 11th sets the profile's rate to 4096 and back
# (unless it is 0); every 10th has kmemleak scan, where there is one.
# Then it unloads the churn and checks that nothing is in use, nothing is
# live in the profile, nothing was corrupted, refused or reported, no
# allocation failed but those the limit refused, and that gomalloc
# unloads. One line per check, "SOAK: ok - " or "SOAK: not ok - ", which
# the host counts.
#
# Nothing it does flips a static key (fault injection, tracepoints, the
# profile's rate to or from 0): under the churn, QEMU's TCG with a thread
# per vCPU now and then runs the int3 of such a patch after the kernel has
# removed it ("Oops: int3" in gom_free(), seen on 6.12), as integration.sh
# says of the RT kernel. test-fault.sh and test-trace.sh cover those.
. /guest/soak.env
G=/sys/kernel/gomalloc
D=/sys/kernel/debug/gomalloc
M=/sys/module/gomalloc/parameters
KL=/sys/kernel/debug/kmemleak
CPU1=/sys/devices/system/cpu/cpu1/online

ok()  { echo "SOAK: ok - $*"; }
nok() { echo "SOAK: not ok - $*"; }
check() { # check WHAT COND...
	what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}
pick() { set -- $1; shift $((RANDOM % $#)); echo "$1"; }

# one random change of gomalloc's settings
step() {
	case $((RANDOM % 8)) in
	0|1) echo $(($(cat $G/bytes_heap) * (4 + RANDOM % 4) / 8)) > $G/mem_limit
	     squeezes=$((squeezes + 1)) ;;
	2) echo 0 > $G/mem_limit ;;
	3|7) echo 1 > $G/shrink ;;
	4) pick "0 1 4 16" > $M/empty_spans
	   pick "0 1 50 1000" > $M/empty_delay_ms ;;
	5) pick "0 1 2" > $M/reserve_arenas
	   pick "0 5 100" > $M/scavenge_delay_ms ;;
	6) pick "0 2 4 9" > $M/arena_min_order 2>/dev/null
	   pick "3 5 10" > $M/grow_max_order 2>/dev/null ;;
	esac
}

# Have kmemleak scan and add its findings to leaks (none without
# kmemleak). A scan walks kmemleak's object list in one RCU read-side
# section: at the churn's priority, preempted for seconds at a time under
# KASAN in TCG, it stalled RCU past the debug kernel's 21 s, so the shell
# that asks for it runs at nice -20.
scan() {
	[ -w $KL ] || return 0
	# shellcheck disable=SC2016 # $$ is the inner shell's
	sh -c 'renice -n -20 -p $$ > /dev/null; echo scan > '$KL
	n=$(grep -c unreferenced $KL)
	[ "$n" -gt 0 ] && head -40 $KL && echo clear > $KL
	leaks=$((leaks + n))
}

insmod /modules/gomalloc.ko $GOM_PARAMS || { nok "insmod gomalloc.ko $GOM_PARAMS"; exit 0; }
ok "insmod gomalloc.ko $GOM_PARAMS"
insmod /modules/gomalloc_torture.ko || { nok "insmod gomalloc_torture.ko"; exit 0; }
rate=$(cat $G/profile_rate)
end=$(($(date +%s) + DURATION))
steps=0 cycles=0 squeezes=0 leaks=0
while [ "$(date +%s)" -lt $end ]; do
	step
	steps=$((steps + 1))
	if [ $((steps % 3)) -eq 0 ] && [ -w $CPU1 ]; then
		echo 0 > $CPU1 && echo 1 > $CPU1 && cycles=$((cycles + 1))
	fi
	cat $D/heap_profile $D/classes $D/span_ages > /dev/null
	cat $G/clients/*/bytes_inuse > /dev/null 2>&1
	if [ $((steps % 11)) -eq 0 ] && [ "$rate" != 0 ]; then
		echo 4096 > $G/profile_rate
		echo "$rate" > $G/profile_rate
	fi
	[ $((steps % 10)) -eq 0 ] && scan
done
echo 0 > $G/mem_limit
rmmod gomalloc_torture
res=$(dmesg | grep 'gomalloc_torture: .* allocations, ' | tail -1)
echo "SOAK: ran $steps steps, $cycles CPU offline/online cycles, $squeezes mem_limit squeezes (${res#*: })"
# In a 1 GiB guest the page allocator has room for the heap: the limit
# is the only reason an allocation may fail.
lim=$(cat $G/alloc_limited) failed=$(cat $G/alloc_failures)
grow=$(cat $G/heap/grow_failures)
check "every failed allocation refused by mem_limit: alloc_failures $failed, alloc_limited $lim, heap/grow_failures $grow" \
	test "$failed" -eq "$lim" -a "$grow" -eq 0
case $res in
*" 0 corrupt"*) ok "no object changed while held" ;;
*) nok "no object changed while held" ;;
esac
echo 1 > $G/shrink
inuse=$(cat $G/bytes_inuse) pages=$(cat $G/heap/pages_inuse)
check "after free and shrink: bytes_inuse $inuse, heap/pages_inuse $pages" \
	test "$inuse" -eq 0 -a "$pages" -eq 0
live=$(head -1 $D/heap_profile)
case $live in
*"estimated live 0 objects, 0 bytes") ok "heap profile: nothing live" ;;
*) nok "heap profile: nothing live ($live)" ;;
esac
for c in invalid_frees double_frees debug_reports; do
	check "$c: $(cat $G/$c)" test "$(cat $G/$c)" -eq 0
done
scan
if [ -w $KL ]; then
	check "kmemleak: $leaks unreferenced objects" test $leaks -eq 0
else
	ok "kmemleak # SKIP no kmemleak in this kernel"
fi
check "rmmod gomalloc" rmmod gomalloc
