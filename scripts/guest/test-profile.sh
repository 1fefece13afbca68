#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The heap profile: profile_rate, /sys/kernel/gomalloc/clients/<module>/,
# debugfs gomalloc/heap_profile, heap_folded and span_ages, and gomstat
# profile, profile --svg, clients and ages on them. (Contract: see
# run-tests.sh.)
#
# The sample client (samples/gomalloc_sample.ko) is loaded with
# profile_rate 1, where every allocation is a sample of weight one, so what
# it keeps must show exactly: its load message says how many records of
# what size, the page run and how many bulk objects it keeps. Then the
# benchmark's mem case, which holds 44.4 MB in 275,000 objects while
# loaded, is profiled at the default rate, where about 85 samples stand for
# it: the estimate of its bytes is within 11% at one standard deviation
# (sqrt(rate / bytes)), and the check allows 50% (over four).
#
# Keeps in /out/: heap_profile-sample.txt, heap_folded-sample.txt,
# gomstat-profile-sample.txt, gomstat-clients-sample.txt,
# gomstat-ages-sample.txt, heap.svg (the sample's flame graph), and the
# same for the benchmark (*-bench.*, heap-bench.svg).
# shellcheck disable=SC2317 # functions called through check

G=/sys/kernel/gomalloc
D=/sys/kernel/debug/gomalloc
S=gomalloc_sample
B=gomalloc_bench
RATE=524288		# profile_rate at load
BULK_SIZE=192		# SAMPLE_BULK_SIZE of samples/gomalloc_sample.c
PAGE=4096

ok()   { echo "ok - $*"; }
nok()  { echo "not ok - $*"; }
skip() { echo "ok - $1 # SKIP $2"; }
# check WHAT COMMAND...: ok if the command succeeds
check() { what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
loaded() { grep -q "^$1 " /proc/modules; }

if [ ! -f $G/profile_rate ]; then
	nok "$G/profile_rate exists"
	exit 0
fi
# Whatever happens, leave the default rate and no module of ours behind.
cleanup() {
	echo "$RATE" > "$G"/profile_rate
	loaded "$S" && [ -n "$S_LOADED" ] && rmmod "$S"
	loaded "$B" && [ -n "$B_LOADED" ] && rmmod "$B"
	:
}
trap cleanup EXIT

# --- the files ---------------------------------------------------------------

check "profile_rate reads $RATE by default" [ "$(cat $G/profile_rate)" = $RATE ]
modes_ok() {
	stat -c '%a %n' "$G"/profile_rate "$G"/clients
	[ "$(stat -c %a "$G"/profile_rate)" = 644 ] && [ -d "$G"/clients ] &&
		[ "$(stat -c %a /sys/module/gomalloc/parameters/profile_rate)" = 644 ]
}
check "profile_rate is 0644 (and the module parameter), clients/ is a directory" modes_ok

einval_rate() {	# einval_rate VALUE: EINVAL, the rate stays
	printf '%b' "$1" > /tmp/prof-val
	cat /tmp/prof-val 2> /tmp/prof-err > "$G"/profile_rate && return 1
	echo "  '$1': $(cat /tmp/prof-err)"
	grep -q 'Invalid argument' /tmp/prof-err && [ "$(cat "$G"/profile_rate)" = "$RATE" ]
}
for v in 'abc\n' '-1\n' '12x\n' '\n'; do
	check "profile_rate: writing '$v' gives EINVAL and keeps the rate" einval_rate "$v"
done
rate_is() { printf '%b' "$1" > "$G"/profile_rate && [ "$(cat "$G"/profile_rate)" = "$2" ]; }
check "profile_rate: 0x1000 reads back 4096, as does the module parameter" \
	sh -c "printf '0x1000\n' > $G/profile_rate && [ \$(cat $G/profile_rate) = 4096 ] &&
	       [ \$(cat /sys/module/gomalloc/parameters/profile_rate) = 4096 ]"
check "profile_rate: $RATE (no newline) reads back" rate_is $RATE $RATE

if [ ! -r $D/heap_profile ] || [ ! -r $D/heap_folded ] || [ ! -r $D/span_ages ]; then
	skip "the heap profile" "no $D/heap_profile, heap_folded or span_ages (debugfs)"
	exit 0
fi
head_ok() {
	head -2 "$D"/heap_profile > /tmp/prof-head
	cat /tmp/prof-head
	head -1 /tmp/prof-head | grep -q "^heap profile: rate $RATE, [0-9]* stacks, estimated live [0-9]* objects, [0-9]* bytes\$" &&
		tail -1 /tmp/prof-head | grep -q '^# live_objects live_bytes alloc_objects alloc_bytes module$' &&
		head -1 "$D"/span_ages | grep -q '^ *class  *size  *spans  *age_min_ms  *age_med_ms  *age_max_ms  *life_avg_ms  *sampled$'
}
check "heap_profile and span_ages have their headers" head_ok

GOMSTAT=
if command -v python3 > /dev/null && command -v gomstat > /dev/null; then
	GOMSTAT=gomstat
fi

# stacks FILE: heap_profile's stacks, one a line:
# "live_bytes live_objects alloc_objects alloc_bytes module|frame|frame..."
stacks() {
	awk 'NR == 1 || /^#/ { next }
	     /^\t/ { sub(/^\t/, ""); s = s "|" $0; next }
	     { if (s != "") print s; s = $2 " " $1 " " $3 " " $4 " " $5 }
	     END { if (s != "") print s }' "$1"
}
# sum_live FILE MODULE [FIRST_FRAME_PREFIX]: "bytes objects" of MODULE's
# stacks (whose innermost frame starts with the prefix)
sum_live() {
	stacks "$1" | awk -v m="$2" -v f="$3" '
		{ split($0, fr, "|"); split(fr[1], v, " ") }
		v[5] == m && (f == "" || index(fr[2], f) == 1) { b += v[1]; o += v[2] }
		END { print b + 0, o + 0 }'
}
# client_is MODULE FILE VALUE: clients/MODULE/FILE reads VALUE
client_is() {
	v=$(cat "$G"/clients/"$1"/"$2" 2>/dev/null)
	echo "  clients/$1/$2: $v (want $3)"
	[ "$v" = "$3" ]
}
# wait_client MODULE: its clients/ directory, made by a work item
wait_client() {
	n=0
	while [ ! -f $G/clients/"$1"/bytes_inuse ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -f $G/clients/"$1"/bytes_inuse ]
}
# sampled SIZE: span_ages' count of sampled frees for the class of SIZE
sampled() { awk -v s="$1" '$2 == s { n = $8 } END { print n + 0 }' $D/span_ages; }

# --- the sample client at profile_rate 1 -----------------------------------

if [ ! -f /modules/$S.ko ]; then
	skip "the sample client at profile_rate 1" "no /modules/$S.ko"
elif loaded $S; then
	skip "the sample client at profile_rate 1" "$S already loaded"
else
	check "profile_rate: 1 (sample every allocation) reads back" rate_is '1\n' 1
	span_ages0=$(cat $D/span_ages)
	d0=$(dmesg | wc -l)
	if insmod /modules/$S.ko; then
		S_LOADED=1
		ok "load $S with profile_rate 1"
	else
		nok "load $S with profile_rate 1"
	fi
	msg=$(dmesg | tail -n +$((d0 + 1)) | grep "$S: loaded: " | head -1)
	echo "  $msg"
	# "loaded: 32 records of 56 bytes (usable 64), a 4-page run, 8 of 16
	# bulk objects kept, frame ok"
	# shellcheck disable=SC2046
	set -- $(echo "$msg" | sed -n 's/.*loaded: \([0-9]*\) records of \([0-9]*\) bytes (usable \([0-9]*\)), a \([0-9]*\)-page run, \([0-9]*\) of \([0-9]*\) bulk objects kept.*/\1 \2 \3 \4 \5 \6/p')
	if [ $# -ne 6 ]; then
		nok "the load message of $S says what it keeps"
		set -- 32 56 64 4 8 16
	fi
	NREC=$1 RSIZE=$2 RCLASS=$3 RUN=$(($4 * PAGE)) NBULK=$5 BULK_ALL=$6
	# sampled frees of a class since the load
	rec0=$(echo "$span_ages0" | awk -v s="$RCLASS" '$2 == s { n = $8 } END { print n + 0 }')
	bulk0=$(echo "$span_ages0" | awk -v s=$BULK_SIZE '$2 == s { n = $8 } END { print n + 0 }')
	WANT=$((NREC * RSIZE + RUN + NBULK * BULK_SIZE))
	WANT_OBJS=$((NREC + 1 + NBULK))
	echo "  keeps $NREC x $RSIZE + $RUN + $NBULK x $BULK_SIZE = $WANT bytes in $WANT_OBJS objects"

	cat $D/heap_profile > /out/heap_profile-sample.txt
	cat $D/heap_folded > /out/heap_folded-sample.txt
	P=/out/heap_profile-sample.txt
	stacks $P | grep " $S|" | sed 's/^/  /'
	# live_is WHAT "bytes objects" WANT_BYTES WANT_OBJECTS
	live_is() {
		echo "  $1: $2 live (want $3 $4)"
		[ "$2" = "$3 $4" ]
	}
	check "heap_profile: the records_build stacks hold $NREC records of $RSIZE bytes" \
		live_is records "$(sum_live $P $S records_build+)" $((NREC * RSIZE)) "$NREC"
	check "heap_profile: the bulk_take stack holds $NBULK objects of $BULK_SIZE bytes" \
		live_is bulk "$(sum_live $P $S bulk_take+)" $((NBULK * BULK_SIZE)) "$NBULK"
	run_ok() {
		stacks "$P" | awk -v m="$S" -v r="$RUN" '
			{ split($0, fr, "|"); split(fr[1], v, " ") }
			v[5] == m && v[1] == r && v[2] == 1 { n++ } END { exit n != 1 }'
	}
	check "heap_profile: one $S stack holds the $RUN-byte page run" run_ok
	check "heap_profile: the frame_work stack holds nothing (its frame was popped)" \
		live_is frame_work "$(sum_live $P $S frame_work+)" 0 0
	check "heap_profile: $S holds $WANT bytes in $WANT_OBJS objects in all" \
		live_is $S "$(sum_live $P $S)" $WANT $WANT_OBJS
	allocs_ok() {
		stacks "$P" | awk -v m="$S" -v n="$BULK_ALL" '
			{ split($0, fr, "|"); split(fr[1], v, " ") }
			v[5] == m && index(fr[2], "bulk_take+") == 1 { a = v[3] }
			END { exit !(a >= n) }'
	}
	check "heap_profile: the bulk_take stack counts its $BULK_ALL allocations" allocs_ok
	folded_ok() {
		awk -v m="[$S]" -v w="$WANT" 'index($0, m ";") == 1 { b += $NF }
			END { print "  heap_folded: " b " bytes under " m; exit b != w }' \
			/out/heap_folded-sample.txt &&
			grep -q "^\[$S\];entry_SYSCALL_64.*;records_build \[$S\] [0-9]*\$" /out/heap_folded-sample.txt
	}
	check "heap_folded: $S's stacks add up to $WANT bytes, outermost frame first" folded_ok

	if wait_client $S; then
		ok "clients/$S/ appears"
		check "clients/$S/bytes_inuse = its live stacks in heap_profile ($WANT)" \
			client_is $S bytes_inuse "$(sum_live $P $S | cut -d' ' -f1)"
		check "clients/$S/objects_inuse = $WANT_OBJS" client_is $S objects_inuse $WANT_OBJS
	else
		nok "clients/$S/ appears"
	fi

	if [ -z "$GOMSTAT" ]; then
		skip "gomstat profile, clients, ages and --svg" "no python3 or gomstat in the guest"
	else
		O=/out/gomstat-profile-sample.txt
		check "gomstat profile -n 0" sh -c "gomstat profile -n 0 > $O"
		head -12 $O
		# rows: "# LIVE_BYTES LIVE% LIVE_OBJS ALLOCS ALLOC_BYTES MODULE"
		rows() { awk 'NF == 7 && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/' "$1"; }
		gp_ok() {
			grep -q "^        records_build+0x[0-9a-f]*/0x[0-9a-f]* \[$S\]\$" "$O" &&
				[ "$(rows "$O" | awk -v m="$S" '$7 == m { b += $2 } END { print b + 0 }')" = "$WANT" ]
		}
		check "gomstat profile: records_build frames, $S's rows add up to $WANT live bytes" gp_ok
		O=/tmp/gomstat-profile-module.txt
		gm_ok() {
			gomstat profile --module "$S" -n 0 > "$O" || return 1
			n=$(rows "$O" | wc -l)
			want=$(stacks "$P" | awk -v m="$S" '{ split($0, fr, "|"); split(fr[1], v, " ") }
				v[5] == m && v[1] > 0 { n++ } END { print n + 0 }')
			echo "  $n rows, $want $S stacks with live bytes"
			[ "$n" -gt 0 ] && [ "$n" = "$want" ] &&
				[ -z "$(rows "$O" | awk -v m="$S" '$7 != m')" ] &&
				grep -q "^module $S: [0-9]* stacks, estimated live $WANT_OBJS objects, $WANT bytes" "$O"
		}
		check "gomstat profile --module $S: only its stacks, all of them" gm_ok
		check "gomstat profile --top 1: one stack" sh -c \
			"gomstat profile --top 1 | awk 'NF == 7 && \$1 ~ /^[0-9]+\$/ && \$2 ~ /^[0-9]+\$/' | wc -l | grep -qx 1"
		O=/out/gomstat-clients-sample.txt
		gc_ok() {
			gomstat clients > "$O" || return 1
			cat "$O"
			awk -v m="$S" -v w="$WANT" -v o="$WANT_OBJS" '$1 == m && $2 == w && $3 == o { n++ }
				END { exit n != 1 }' "$O"
		}
		check "gomstat clients: $S with $WANT bytes in $WANT_OBJS objects" gc_ok
		svg_ok() {
			gomstat profile --svg /out/heap.svg || return 1
			python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse("/out/heap.svg").getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
text = open("/out/heap.svg").read()
assert "records_build" in text and "<script" not in text
' && grep -q "records_build \[$S\]" /out/heap.svg
		}
		check "gomstat profile --svg /out/heap.svg: an SVG that parses as XML, with records_build" svg_ok
		O=/out/gomstat-ages-sample.txt
		ages_ok() {
			gomstat ages > "$O" || return 1
			cat "$O"
			awk -v s="$RCLASS" '$2 == s && $3 >= 1 { n++ } END { exit n != 1 }' "$O"
		}
		check "gomstat ages: the records' class ($RCLASS) has spans" ages_ok
		rm -rf /tmp/prof-snap
		snap_ok() {
			gomstat --snapshot /tmp/prof-snap &&
				[ -s /tmp/prof-snap/debugfs/heap_profile ] &&
				gomstat profile -n 0 /tmp/prof-snap | tail -n +2 > /tmp/prof-snap.txt &&
				gomstat profile -n 0 | tail -n +2 | cmp - /tmp/prof-snap.txt &&
				tar -czf /out/gomalloc-snapshot-sample.tar.gz -C /tmp prof-snap
		}
		check "gomstat --snapshot keeps the profile: profile --root reads it back the same" snap_ok
	fi
	check "span_ages: the $NBULK bulk objects freed at load are sampled frees of class $BULK_SIZE" \
		[ $(($(sampled $BULK_SIZE) - bulk0)) -ge "$NBULK" ]

	# at rate 0 the frees of samples taken before are still followed
	check "profile_rate: 0 while $S holds sampled memory" rate_is '0\n' 0
	check "unload $S" rmmod $S
	S_LOADED=
	check "clients/$S/bytes_inuse falls to 0 after unload" client_is $S bytes_inuse 0
	check "clients/$S/objects_inuse falls to 0 after unload" client_is $S objects_inuse 0
	cat $D/heap_folded > /tmp/prof-folded
	check "heap_folded has no $S stack left" sh -c "! grep -q '^\[$S\];' /tmp/prof-folded"
	check "heap_profile: $S's stacks hold nothing" \
		live_is $S "$(cat $D/heap_profile > /tmp/prof-after; sum_live /tmp/prof-after $S)" 0 0
	check "span_ages: the $NREC records freed at unload are sampled frees of class $RCLASS" \
		[ $(($(sampled "$RCLASS") - rec0)) -ge "$NREC" ]
	# frames are named before the module's text goes: at unload, and
	# once it is live for its __init text
	named_ok() {
		grep -q "^	records_build+0x[0-9a-f]*/0x[0-9a-f]* \[$S\]\$" /tmp/prof-after &&
			grep -q "^	${S}_init+0x[0-9a-f]*/0x[0-9a-f]* \[$S\]\$" /tmp/prof-after
	}
	check "heap_profile: $S's frames keep their names after unload, __init ones too" named_ok
	check "profile_rate: back to $RATE" rate_is "$RATE\n" $RATE
	if [ -n "$GOMSTAT" ]; then
		check "gomstat profile --module $S: no stack holds live bytes" sh -c \
			"gomstat profile --module $S | grep -q '^showing 0 of 0 stacks with live bytes'"
	fi
fi

# --- a known amount at the default rate --------------------------------------

# The benchmark's mem case allocates 275,000 objects of 16 to 4096 bytes,
# 44.4 MB, and holds them until unloaded.
BKO=/modules/$B.ko
if [ ! -f $BKO ]; then
	skip "estimates at the default rate" "no /modules/$B.ko, nothing else keeps a known amount live"
elif loaded $B; then
	skip "estimates at the default rate" "$B already loaded"
else
	echo $RATE > $G/profile_rate
	d0=$(dmesg | wc -l)
	if insmod $BKO cases=mem mem_alloc=gom; then
		B_LOADED=1
		ok "load $B cases=mem at profile_rate $RATE"
	else
		nok "load $B cases=mem at profile_rate $RATE"
	fi
	# "mem: holding 275000 objects, 44400000 bytes requested, allocator gom"
	# shellcheck disable=SC2046
	set -- $(dmesg | tail -n +$((d0 + 1)) | sed -n 's/.*mem: holding \([0-9]*\) objects, \([0-9]*\) bytes requested.*/\1 \2/p')
	NOBJ=${1:-0} REQ=${2:-0}
	wait_client $B
	cat $D/heap_profile > /out/heap_profile-bench.txt
	cat $D/heap_folded > /out/heap_folded-bench.txt
	est=$(cat $G/clients/$B/bytes_inuse 2>/dev/null)
	eobj=$(cat $G/clients/$B/objects_inuse 2>/dev/null)
	echo "  $B holds $NOBJ objects, $REQ bytes; estimated $eobj objects, $est bytes"
	within() {	# within ESTIMATE TRUE: ESTIMATE is TRUE +- 50%
		[ -n "$1" ] && [ "$2" -gt 0 ] && [ $(($1 * 2)) -ge "$2" ] && [ $(($1 * 2)) -le $(($2 * 3)) ] &&
			echo "  $1 for $2: $(( ($1 - $2) * 100 / $2 ))%"
	}
	check "clients/$B/bytes_inuse estimates its $REQ bytes within 50%" within "$est" "$REQ"
	# The object count is no such check: a sample of a 16-byte object
	# stands for 32768 objects, and the bench has 20,000 of them (320 KB,
	# 0.6 samples on average), so its standard deviation is 18%, with
	# steps of 12%. It must be what the stacks say, though.
	[ "$NOBJ" -gt 0 ] && echo "  objects: $eobj estimated for $NOBJ: $(( (${eobj:-0} - NOBJ) * 100 / NOBJ ))%"
	check "heap_profile: $B's stacks add up to clients/$B/bytes_inuse and objects_inuse" \
		sh -c "[ \"$(sum_live /out/heap_profile-bench.txt $B)\" = \"$est $eobj\" ]"
	if [ -n "$GOMSTAT" ]; then
		gomstat clients > /out/gomstat-clients-bench.txt
		gomstat ages > /out/gomstat-ages-bench.txt
		gomstat > /out/gomstat-bench.txt
		gb_ok() {
			gomstat profile > /out/gomstat-profile-bench.txt || return 1
			head -14 /out/gomstat-profile-bench.txt
			awk 'NF == 7 && $1 == 1 { m = $7 } END { exit m != "'"$B"'" }' /out/gomstat-profile-bench.txt &&
				grep -q "^        gom_bench_mem+0x[0-9a-f]*/0x[0-9a-f]* \[$B\]\$" /out/gomstat-profile-bench.txt
		}
		check "gomstat profile: $B's gom_bench_mem stack holds the most" gb_ok
		check "gomstat profile --svg: the benchmark's flame graph" sh -c \
			"gomstat profile --svg /out/heap-bench.svg && grep -q 'gom_bench_mem \[$B\]' /out/heap-bench.svg"
	fi
	check "unload $B" rmmod $B
	B_LOADED=
	check "clients/$B/bytes_inuse falls to 0 after unload" client_is $B bytes_inuse 0
fi

# --- profiling off -------------------------------------------------------------

# With profile_rate 0 frees are not followed: only turn it off when no
# client holds sampled memory.
held=$(cat $G/clients/*/bytes_inuse 2>/dev/null | awk '{ b += $1 } END { print b + 0 }')
if [ -z "$GOMSTAT" ]; then
	skip "gomstat profile with profiling off" "no python3 or gomstat in the guest"
elif [ "$held" -ne 0 ]; then
	skip "gomstat profile with profiling off" "clients still hold $held sampled bytes"
else
	echo 0 > $G/profile_rate
	off_ok() {
		head -1 "$D"/heap_profile | grep -q '^heap profile: rate 0, ' || return 1
		gomstat profile > /tmp/prof-off.txt 2>&1
		rc=$?
		cat /tmp/prof-off.txt
		[ "$rc" -eq 2 ] && grep -q "heap profiling is off (profile_rate 0)" /tmp/prof-off.txt
	}
	check "profile_rate 0: heap_profile says rate 0, gomstat profile says profiling is off" off_ok
	echo $RATE > $G/profile_rate
fi

check "profile_rate is $RATE again" [ "$(cat $G/profile_rate)" = $RATE ]
exit 0
