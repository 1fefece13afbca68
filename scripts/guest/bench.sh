#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench` (run by scripts/vm-run as /guest/main.sh).
#
# Loads gomalloc, measures memory efficiency with the mem case of
# gomalloc_bench (SLUB first, then gomalloc, each while the objects are
# held) and with the replay at its peak, then runs the timed cases, the
# replay, and the cost cases, and writes to /out/:
#   bench-<mode>.json   one JSON record per line (timed cases, replay,
#                       profile and debug costs, then mem and replay-mem)
#   bench-<mode>.txt    the module's console table, the mem samples and
#                       the hot records behind the cost cases
#
# Settings come from the kernel command line (scripts/bench.sh sets them):
#   gombench.mode=NAME   tag of the run, e.g. icount-ioa0 (default: unknown)
#   gombench.cases=LIST  cases for the timed run (default: all); besides the
#                        module's, the guest's own (in all too):
#                          replay   the replay (/guest/replay.txt), timed
#                          profile  hot, pages, large and the replay,
#                                   profile_rate default against 0
#                          debug    hot, each debug= option against none
#   gombench.iters=N     base iteration count (default: the module's)
#   gombench.reps=N      timed repetitions per figure (default: the
#                        module's 3; 7 in wall-* modes, where the host's
#                        load makes single repetitions noisy)
#   gombench.mem=0       skip the memory measurements (mem, replay-mem)
#   gombench.debug=LETTERS  debug= options of the debug case, one run each
#                        (default FZPUQ)
#   gombench.rate=N      profile_rate of the profile case's "on" run
#                        (default: gomalloc's; 1 makes every allocation a
#                        sample, so that on minus off is a sample's cost)
#   gombench.profile_rate=N  gomalloc's profile_rate at every load, for
#                        every case (default: its own, 524288); the
#                        profile case's "on" run takes it too
#
# SLUB's footprint is the change of SUnreclaim in /proc/meminfo (after a
# vm stat_refresh, so per-CPU counter deltas are folded in), with empty
# slabs shrunk first. gomalloc's is the change of its heap pages plus the
# change of its metadata bytes, from /sys/kernel/gomalloc.
#
# The cost cases reload gomalloc: with profile_rate 0 written to sysfs
# after a run at the default, and with debug=X profile_rate=0 for each
# option. Each is the hot case (for profile also pages, large and the
# replay) of a fresh gomalloc_bench; the records combine two runs'
# gomalloc figures (profile, profile-pages, -large, -replay: default over
# 0; debug-X: debug=X over none, both with profile_rate 0).

mode=unknown
cases=all
iters=
reps=
do_mem=1
debug_opts=FZPUQ
prof_rate=
gom_param=
for a in $(cat /proc/cmdline); do
	case $a in
	gombench.mode=*) mode=${a#*=} ;;
	gombench.cases=*) cases=${a#*=} ;;
	gombench.iters=*) iters=${a#*=} ;;
	gombench.reps=*) reps=${a#*=} ;;
	gombench.mem=*) do_mem=${a#*=} ;;
	gombench.debug=*) debug_opts=${a#*=} ;;
	gombench.rate=*) prof_rate=${a#*=} ;;
	gombench.profile_rate=*) gom_param=profile_rate=${a#*=} ;;
	esac
done

if [ -z "$reps" ] && [ "${mode#wall}" != "$mode" ]; then
	reps=7
fi

M=/modules

# load_gom [PARAM...]: insmod gomalloc, with gombench.profile_rate's rate
# (a later profile_rate= in PARAM wins)
load_gom() {
	# shellcheck disable=SC2086 # $gom_param is empty or one word
	insmod $M/gomalloc.ko $gom_param "$@"
}
DBG=/sys/kernel/debug/gomalloc_bench
GOM=/sys/kernel/gomalloc
REPLAY=/guest/replay.txt
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

# emit_pair CASE SIZE GOM PEER PEER_NAME UNIT: figures with decimals
emit_pair() {
	awk -v c="$1" -v s="$2" -v g="$3" -v p="$4" -v pn="$5" -v u="$6" \
	    -v m="$mode" 'BEGIN {
		r = p > 0 ? g / p : 0
		printf "{\"case\":\"%s\",\"size\":%d,\"mode\":\"%s\",\"gom\":%.2f,\"peer\":%.2f,\"ratio\":%.4f,\"unit\":\"%s\",\"peer_name\":\"%s\",\"count\":0}\n", c, s, m, g, p, r, u, pn
	}' >> "$JSON"
}

# want CASE: true if CASE is selected (by name, or by all)
want() {
	[ "$cases" = all ] && return 0
	case ",$cases," in
	*,"$1",*) return 0 ;;
	esac
	return 1
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

# replay_mem: the replay held at its peak of live bytes, SLUB then
# gomalloc, each from a fresh gomalloc and shrunk slabs.
replay_mem() {
	rmmod gomalloc && load_gom || return 1
	insmod $M/gomalloc_bench.ko cases=none || return 1
	if ! cat $REPLAY > $DBG/replay; then
		rmmod gomalloc_bench
		return 1
	fi
	note "replay: $(cat $DBG/replay)"
	rq=$(sed -n 's/.*peak_bytes=\([0-9]*\).*/\1/p' $DBG/replay)
	for f in /sys/kernel/slab/*/shrink; do echo 1 > "$f" 2>/dev/null; done
	s0=$(slab_bytes)
	echo slub > $DBG/replay_hold || { rmmod gomalloc_bench; return 1; }
	s1=$(slab_bytes)
	echo release > $DBG/replay_hold
	set -- $(gom_sample)
	t0=$1 u0=$2 d0=$3
	echo gom > $DBG/replay_hold || { rmmod gomalloc_bench; return 1; }
	set -- $(gom_sample)
	t1=$1 u1=$2 d1=$3
	echo release > $DBG/replay_hold
	rmmod gomalloc_bench
	note "replay-mem slub: SUnreclaim $s0 -> $s1 bytes, requested $rq"
	note "replay-mem gom: pages_total $t0 -> $t1, pages_inuse $u0 -> $u1, metadata_bytes $d0 -> $d1"
	if [ "$t1" -lt 0 ] || [ "$u1" -lt 0 ] || [ "$d1" -lt 0 ]; then
		note "replay-mem: heap counters missing under $GOM"
		return 1
	fi
	emit replay-mem $(((t1 - t0) * PAGE + d1 - d0)) $((s1 - s0)) slub bytes "$rq"
	emit replay-mem-inuse $(((u1 - u0) * PAGE + d1 - d0)) $((s1 - s0)) slub bytes "$rq"
}

# hot_run FILE [CASES [replay]]: the hot case (or CASES) in a fresh
# gomalloc_bench, then the replay if asked for and there is one; records
# to FILE
hot_run() {
	# shellcheck disable=SC2086 # $bench_opts is a list of words
	insmod $M/gomalloc_bench.ko cases="${2:-hot}" $bench_opts || return 1
	if [ "${3:-}" = replay ] && [ -r $REPLAY ]; then
		{ cat $REPLAY > $DBG/replay && echo replay > $DBG/run; } ||
			note "replay in $(basename "$1"): failed"
	fi
	cat $DBG/results > "$1"
	rmmod gomalloc_bench
	sed "s/^/# $(basename "$1" .json): /" "$1" >> "$TXT"
}

# combine CASE FROM RUN BASE PEER_NAME: a record per size of RUN's FROM
# records, its gomalloc figure against BASE's of the same case and size
# (the first record of a size: large has two, with the same gomalloc loop)
combine() {
	for f in "$3" "$4"; do
		sed -n "s/.*\"case\":\"$2\",\"size\":\([0-9]*\),.*\"gom\":\([0-9.]*\),.*\"unit\":\"\([^\"]*\)\".*/\1 \2 \3/p" "$f" |
			awk '!seen[$1]++' > "$f.g"
	done
	while read -r size g unit; do
		b=$(awk -v s="$size" '$1 == s { print $2; exit }' "$4.g")
		[ -n "$b" ] && emit_pair "$1" "$size" "$g" "$b" "$5" "$unit"
	done < "$3.g"
	rm -f "$3.g" "$4.g"
}

# cost_cases: profile and debug; gomalloc is loaded on entry and on exit.
# The debug runs have profile_rate 0, as their base: a sample's cost is
# random, and without it their figures are exact.
cost_cases() {
	T=/tmp/cost
	mkdir -p $T
	rmmod gomalloc && load_gom || return 1
	rate=$(cat $GOM/profile_rate)
	pc=hot
	with=
	if want profile; then
		[ -z "$prof_rate" ] || echo "$prof_rate" > $GOM/profile_rate
		pc=hot,pages,large
		with=replay
		hot_run $T/profile-on.json $pc $with || return 1
	fi
	echo 0 > $GOM/profile_rate
	hot_run $T/profile-off.json $pc $with || return 1
	echo "$rate" > $GOM/profile_rate
	if want profile; then
		for c in hot pages large replay; do
			n=profile-$c
			[ $c = hot ] && n=profile
			combine $n $c $T/profile-on.json $T/profile-off.json "profile_rate=0"
		done
		note "profile: profile_rate ${prof_rate:-$rate} against 0"
	fi
	want debug || return 0
	opts=$debug_opts
	while [ -n "$opts" ]; do
		x=${opts%"${opts#?}"}
		opts=${opts#?}
		rmmod gomalloc || return 1
		if ! load_gom debug="$x" profile_rate=0; then
			note "insmod gomalloc.ko debug=$x profile_rate=0 failed"
			load_gom
			return 1
		fi
		hot_run "$T/debug-$x.json" &&
			combine "debug-$x" hot "$T/debug-$x.json" $T/profile-off.json "debug off"
	done
	rmmod gomalloc && load_gom
}

note "mode=$mode cases=$cases iters=${iters:-default} reps=${reps:-default} cpus=$(grep -c ^processor /proc/cpuinfo) kernel=$(uname -r)"
note "cmdline: $(cat /proc/cmdline)"
note "version: $(uname -v)"
load_gom || { note "insmod gomalloc.ko $gom_param failed"; exit 1; }

[ -r $REPLAY ] || note "no $REPLAY: no replay figures"
[ "$do_mem" = 0 ] || mem_case
if [ "$do_mem" != 0 ] && want replay && [ -r $REPLAY ]; then
	replay_mem || note "replay-mem: failed"
fi

# The module's cases: the list without the guest's own, all stays all.
mcases=
if [ "$cases" = all ]; then
	mcases=all
else
	for c in $(echo "$cases" | tr , ' '); do
		case $c in
		replay|profile|debug) ;;
		*) mcases=${mcases:+$mcases,}$c ;;
		esac
	done
fi
bench_opts="mode=$mode${iters:+ iters=$iters}${reps:+ reps=$reps}"
# shellcheck disable=SC2086 # $bench_opts is a list of words
if ! insmod $M/gomalloc_bench.ko cases="${mcases:-none}" $bench_opts; then
	note "insmod gomalloc_bench.ko cases=${mcases:-none} $bench_opts failed"
	dmesg | grep 'gombench:' >> "$TXT"
	exit 1
fi
if want replay && [ -r $REPLAY ]; then
	{ cat $REPLAY > $DBG/replay && echo replay > $DBG/run; } ||
		note "replay: failed"
fi
cat $DBG/results > /out/results.tmp
rmmod gomalloc_bench
if want profile || want debug; then
	cost_cases || note "cost cases: failed"
fi
cat "$JSON" >> /out/results.tmp
mv /out/results.tmp "$JSON"
dmesg | grep 'gombench:' | sed 's/^\[[ 0-9.]*\] //' >> "$TXT"
rmmod gomalloc || note "rmmod gomalloc failed"
note "records: $(wc -l < "$JSON")"
exit 0
