#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gomalloc in fragmented memory: samples/gomalloc_frag.ko takes every free
# block of 8 (then 2) pages and more, keeps one page of every aligned group
# of 8 (then of 2) and frees the rest, so most memory is free but no free
# block spans 8 pages (then 2, but for the 2-4 MiB of two-page blocks the
# guest needs to fork). gomalloc must then allocate as much as kmalloc() in
# the same state, with GFP_KERNEL and with GFP_ATOMIC and interrupts off.
# Contract: see run-tests.sh. Leaves gomalloc loaded, as it found it.

KO=/modules/gomalloc_frag.ko
P=/sys/module/gomalloc_frag/parameters
G=/sys/kernel/gomalloc
TOTAL=$((48 * 1024 * 1024))

ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

if [ ! -f "$KO" ]; then
	nok "gomalloc_frag.ko present in the guest"
	exit 0
fi

# Pages in free blocks of order >= $1, all zones, from /proc/buddyinfo.
pages_from() {
	awk -v o="$1" '{ m = 1
		for (i = 5; i <= NF; i++) { if (i - 5 >= o) n += $i * m; m *= 2 } }
		END { print n + 0 }' /proc/buddyinfo
}

free_mb() {
	awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo
}

# run ALLOC SIZE CTX: bytes ALLOC got of $TOTAL
run() {
	echo "$1 $2 $TOTAL $3" > $P/run || { echo 0; return; }
	cut -d' ' -f1 $P/result
}

compare() {	# compare SIZE CTX
	if [ "$2" = atomic ] && [ "$(cat /sys/kernel/realtime 2>/dev/null)" = 1 ]; then
		ok "fragmented memory, $1-byte objects, atomic # SKIP PREEMPT_RT allows no allocation with interrupts off, as for kmalloc()"
		return
	fi
	k=$(run kmalloc "$1" "$2")
	g=$(run gom "$1" "$2")
	what="$1-byte objects, $2: gomalloc $((g / 1048576)) MiB, kmalloc $((k / 1048576)) MiB of $((TOTAL / 1048576))"
	if [ "$g" -ge "$k" ] && [ "$g" -gt 0 ]; then
		ok "fragmented memory, $what"
	else
		nok "fragmented memory, $what"
	fi
}

fragment() {	# fragment GROUP ORDER (2^ORDER = GROUP)
	echo 1 > $G/shrink
	if ! insmod "$KO" group="$1"; then
		nok "insmod gomalloc_frag.ko group=$1"
		return 1
	fi
	# what was freed since (caches shrinking, compaction) is taken too
	tries=0
	while [ $(( $(pages_from 3) * 4 / 1024 )) -ge 4 ] && [ $tries -lt 5 ]; do
		sleep 1
		echo 1 > $P/regrab
		tries=$((tries + 1))
	done
	big=$(( $(pages_from "$2") * 4 / 1024 ))
	what="memory in free blocks of $1 pages or more: $big MiB, less than the $((TOTAL / 1048576)) MiB asked ($(free_mb) MiB free, $(cat $P/kept_pages) pages held)"
	if [ "$big" -lt $((TOTAL / 1048576)) ]; then
		ok "group=$1: $what"
	else
		nok "group=$1: $what"
		fi
}

fb0=$(cat $G/heap/grow_fallbacks)
if fragment 8 3; then
	for size in 64 1024 4096; do
		compare $size kernel
		compare $size atomic
	done
	fb=$(cat $G/heap/grow_fallbacks)
	if [ "$fb" -gt "$fb0" ]; then
		ok "the heap grew by smaller arenas (grow_fallbacks $fb0 -> $fb; by order: $(cat $G/heap/arenas_by_order))"
	else
		nok "the heap grew by smaller arenas (grow_fallbacks $fb0 -> $fb)"
	fi
	rmmod gomalloc_frag
fi

# No free block of two pages is left beyond a few MiB: what gomalloc gets
# above that, it gets from one-page arenas and one-page spans.
if fragment 2 1; then
	compare 64 kernel
	compare 64 atomic
	compare 4096 atomic
	rmmod gomalloc_frag
fi
echo 1 > $G/shrink
