#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench` (run by scripts/vm-run as /guest/main.sh).
#
# Loads gomalloc, measures memory efficiency with the mem case of
# gomalloc_bench (SLUB first, then gomalloc, each while the objects are
# held), then runs the timed cases and writes to /out/:
#   bench-<mode>.json   one JSON record per line (timed cases, then mem)
#   bench-<mode>.txt    the module's console table and the mem samples
#
# Settings come from the kernel command line (scripts/bench.sh sets them):
#   gombench.mode=NAME   tag of the run, e.g. icount-ioa0 (default: unknown)
#   gombench.cases=LIST  cases for the timed run (default: all)
#   gombench.iters=N     base iteration count (default: the module's)
#   gombench.reps=N      timed repetitions per figure (default: the
#                        module's 3; 7 in wall-* modes, where the host's
#                        load makes single repetitions noisy)
#   gombench.mem=0       skip the memory measurement
#
# SLUB's footprint is the change of SUnreclaim in /proc/meminfo (after a
# vm stat_refresh, so per-CPU counter deltas are folded in), with empty
# slabs shrunk first. gomalloc's is the change of its heap pages plus the
# change of its metadata bytes, from /sys/kernel/gomalloc.

mode=unknown
cases=all
iters=
reps=
do_mem=1
for a in $(cat /proc/cmdline); do
	case $a in
	gombench.mode=*) mode=${a#*=} ;;
	gombench.cases=*) cases=${a#*=} ;;
	gombench.iters=*) iters=${a#*=} ;;
	gombench.reps=*) reps=${a#*=} ;;
	gombench.mem=*) do_mem=${a#*=} ;;
	esac
done

if [ -z "$reps" ] && [ "${mode#wall}" != "$mode" ]; then
	reps=7
fi

M=/modules
DBG=/sys/kernel/debug/gomalloc_bench
GOM=/sys/kernel/gomalloc
JSON=/out/bench-$mode.json
TXT=/out/bench-$mode.txt
PAGE=4096
: > "$JSON"
: > "$TXT"

note() {
	echo "bench-guest: $*"
	echo "# $*" >> "$TXT"
}

# First number in a file, or -1 if it cannot be read.
num() {
	if [ -r "$1" ]; then
		awk '{ print $1 + 0; exit }' "$1"
	else
		echo -1
	fi
}

slab_bytes() {
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	awk '/^SUnreclaim:/ { printf "%d\n", $2 * 1024 }' /proc/meminfo
}

# gomalloc: heap pages taken from the page allocator, pages in use, metadata.
gom_sample() {
	echo "$(num $GOM/heap/pages_total) $(num $GOM/heap/pages_inuse) $(num $GOM/metadata_bytes)"
}

# emit CASE GOM PEER PEER_NAME UNIT REQUESTED
emit() {
	awk -v c="$1" -v g="$2" -v p="$3" -v pn="$4" -v u="$5" -v rq="$6" \
	    -v m="$mode" 'BEGIN {
		r = p > 0 ? g / p : 0
		printf "{\"case\":\"%s\",\"size\":0,\"mode\":\"%s\",\"gom\":%d,\"peer\":%d,\"ratio\":%.4f,\"unit\":\"%s\",\"peer_name\":\"%s\",\"count\":0,\"requested\":%d}\n", c, m, g, p, r, u, pn, rq
	}' >> "$JSON"
}

requested() {
	sed -n 's/.*requested=\([0-9]*\).*/\1/p' $DBG/mem_info 2>/dev/null
}

# mem_slub: sets slub_full, slub_half (bytes held), req
mem_slub() {
	for f in /sys/kernel/slab/*/shrink; do echo 1 > "$f" 2>/dev/null; done
	s0=$(slab_bytes)
	insmod $M/gomalloc_bench.ko cases=mem mem_alloc=slub || return 1
	s1=$(slab_bytes)
	req=$(requested)
	echo 50 > $DBG/mem_free
	s2=$(slab_bytes)
	rmmod gomalloc_bench
	slub_full=$((s1 - s0))
	slub_half=$((s2 - s0))
	note "mem slub: SUnreclaim $s0 -> $s1 (held) -> $s2 (half freed) bytes, requested $req"
}

# mem_gom: sets gom_full, gom_half, gom_inuse_full, gom_inuse_half,
# gom_meta, gom_heap (absolute, while the full mix is held)
mem_gom() {
	set -- $(gom_sample)
	t0=$1 u0=$2 d0=$3
	insmod $M/gomalloc_bench.ko cases=mem mem_alloc=gom || return 1
	set -- $(gom_sample)
	t1=$1 u1=$2 d1=$3
	echo 50 > $DBG/mem_free
	set -- $(gom_sample)
	t2=$1 u2=$2 d2=$3
	rmmod gomalloc_bench
	note "mem gom: pages_total $t0 -> $t1 -> $t2, pages_inuse $u0 -> $u1 -> $u2, metadata_bytes $d0 -> $d1 -> $d2"
	if [ "$t1" -lt 0 ] || [ "$u1" -lt 0 ] || [ "$d1" -lt 0 ]; then
		note "mem gom: heap counters missing under $GOM, no gomalloc figure"
		return 1
	fi
	gom_full=$(((t1 - t0) * PAGE + d1 - d0))
	gom_half=$(((t2 - t0) * PAGE + d2 - d0))
	gom_inuse_full=$(((u1 - u0) * PAGE + d1 - d0))
	gom_inuse_half=$(((u2 - u0) * PAGE + d2 - d0))
	gom_meta=$d1
	gom_heap=$((t1 * PAGE))
}

mem_case() {
	if ! mem_slub; then
		note "mem: SLUB run failed"
		return
	fi
	if ! mem_gom; then
		note "mem: gomalloc run failed"
		return
	fi
	emit mem "$gom_full" "$slub_full" slub bytes "$req"
	emit mem-inuse "$gom_inuse_full" "$slub_full" slub bytes "$req"
	emit mem-half "$gom_half" "$slub_half" slub bytes "$req"
	emit mem-half-inuse "$gom_inuse_half" "$slub_half" slub bytes "$req"
	emit mem-meta "$gom_meta" "$gom_heap" heap bytes "$req"
}

note "mode=$mode cases=$cases iters=${iters:-default} reps=${reps:-default} cpus=$(grep -c ^processor /proc/cpuinfo) kernel=$(uname -r)"
note "cmdline: $(cat /proc/cmdline)"
insmod $M/gomalloc.ko || { note "insmod gomalloc.ko failed"; exit 1; }

[ "$do_mem" = 0 ] || mem_case

set -- cases="$cases" mode="$mode"
[ -n "$iters" ] && set -- "$@" iters="$iters"
[ -n "$reps" ] && set -- "$@" reps="$reps"
if ! insmod $M/gomalloc_bench.ko "$@"; then
	note "insmod gomalloc_bench.ko $* failed"
	dmesg | grep 'gombench:' >> "$TXT"
	exit 1
fi
cat $DBG/results > /out/results.tmp
cat "$JSON" >> /out/results.tmp
mv /out/results.tmp "$JSON"
rmmod gomalloc_bench
dmesg | grep 'gombench:' | sed 's/^\[[ 0-9.]*\] //' >> "$TXT"
rmmod gomalloc || note "rmmod gomalloc failed"
note "records: $(wc -l < "$JSON")"
exit 0
