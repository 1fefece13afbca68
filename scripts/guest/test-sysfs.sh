#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /sys/kernel/gomalloc: layout, modes, invariants under a workload, gomstat,
# the shrink and mem_limit controls, the memory limit under a workload and
# the debugfs table. (Contract: see run-tests.sh.)
#
# Workload: the sample client (samples/gomalloc_sample.ko) and the
# benchmark's mem case, which holds ~45 MB in 270k objects of mixed sizes
# until it is unloaded, whichever were built; with neither, the idle module
# is checked.
# shellcheck disable=SC2154 # rd VAR FILE assigns VAR

G=/sys/kernel/gomalloc
D=/sys/kernel/debug/gomalloc
PAGE=4096

ok()   { echo "ok - $*"; }
nok()  { echo "not ok - $*"; }
skip() { echo "ok - $1 # SKIP $2"; }
# check WHAT COMMAND...: ok if the command succeeds
check() { what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
# first word of a file (the total of a per-CPU file)
val() { read -r v _ < "$1" && echo "$v"; }
# rd VAR FILE: the same without a fork (this runs under TCG: forks are slow)
rd() { read -r "$1" _ < "$2"; }

if [ ! -d $G ]; then
	nok "$G exists"
	exit 0
fi

TOP="bytes_inuse bytes_cached bytes_heap metadata_bytes invalid_frees double_frees alloc_failures alloc_limited debug_reports faults_injected mem_limit profile_rate"
HEAP="arenas arenas_by_order arena_bytes pages_total pages_inuse pages_free pages_released free_blocks large_spans large_bytes grow_fallbacks grow_failures"
STACK="stacks segments bytes_reserved bytes_inuse high_water"
CLASS="object_size span_pages objects_per_span spans spans_partial spans_full spans_owned spans_min spans_empty objects_total objects_inuse objects_free objects_cached allocs frees refills flushes occupancy"
PERCPU="objects_cached allocs frees refills flushes"
CLIENT="bytes_inuse objects_inuse allocs"	# clients/<module>/, once sampled

# Every readable file (not shrink), one per line.
stat_files() {
	for f in $TOP; do echo $G/$f; done
	for f in $HEAP; do echo $G/heap/$f; done
	for f in $STACK; do echo $G/stack/$f; done
	for c in $G/classes/*; do
		for f in $CLASS; do echo "$c/$f"; done
	done
	for c in $G/clients/*; do
		[ -d "$c" ] || continue
		for f in $CLIENT; do echo "$c/$f"; done
	done
}

# --- layout and modes ------------------------------------------------------

layout_ok() {
	# shellcheck disable=SC2046
	stat -c '%a %n' $(stat_files) $G/shrink > /tmp/sysfs-modes 2>&1
	n=$(grep -c . /tmp/sysfs-modes)
	bad=$(grep -v -e '^444 ' -e "^200 $G/shrink\$" -e "^644 $G/mem_limit\$" \
		-e "^644 $G/profile_rate\$" /tmp/sysfs-modes)
	echo "  $n files, $(ls $G/clients | wc -l) client directories"
	[ -z "$bad" ] || { echo "$bad" | head -5; return 1; }
	grep -q "^200 $G/shrink\$" /tmp/sysfs-modes &&
		grep -q "^644 $G/mem_limit\$" /tmp/sysfs-modes &&
		grep -q "^644 $G/profile_rate\$" /tmp/sysfs-modes && [ -d $G/clients ]
}
check "every statistics file exists, counters 0444, mem_limit and profile_rate 0644, shrink 0200, clients/" layout_ok

classes_ok() {
	n=0 bad=0
	for c in $G/classes/*; do
		rd s "$c/object_size"
		if [ "$s" != "${c##*/}" ]; then
			echo "  $c: object_size $s"
			bad=1
		fi
		n=$((n + 1))
	done
	[ -d $G/classes/8 ] && [ -d $G/classes/32768 ] || bad=1
	echo "  $n size classes"
	return $bad
}
check "classes/<object_size>/ from 8 to 32768, object_size matches" classes_ok

# --- workload --------------------------------------------------------------

reads_ok() {	# read every file; print them to /out/sysfs-$1.txt
	bad=0
	for f in $(stat_files); do
		read -r v < "$f" || { echo "  read $f failed" >&2; bad=1; }
		[ -n "$v" ] || { echo "  $f is empty" >&2; bad=1; }
		echo "${f#$G/}: $v"
	done > /out/sysfs-"$1".txt
	# No kernel addresses: every value is numbers, spaces and C<n>=<n>.
	if grep -v '^[a-z_0-9/]*: [0-9][0-9 C=]*$' /out/sysfs-"$1".txt | head -3 | grep .; then
		bad=1
	fi
	return $bad
}

reader_loop() {	# read everything until /tmp/sysfs-stop appears
	files=$(stat_files)
	n=0
	while [ ! -e /tmp/sysfs-stop ]; do
		for f in $files; do read -r v < "$f" || echo "read-fail $f"; done
		cat $D/classes > /dev/null 2>&1
		n=$((n + 1))
	done
	echo "reader: $n passes" > /tmp/sysfs-reader.out
}

before_inuse=$(val $G/bytes_inuse)
WORK=""
load() {	# load MODULE ARGS...: insmod /modules/MODULE.ko if it is there
	m=$1
	shift
	[ -f /modules/"$m".ko ] || return 0
	if insmod /modules/"$m".ko "$@"; then
		ok "load workload $m while every file is read"
		WORK="$WORK $m"
	else
		nok "load workload $m while every file is read"
	fi
}

if [ -f /modules/gomalloc_sample.ko ] || [ -f /modules/gomalloc_bench.ko ]; then
	rm -f /tmp/sysfs-stop
	reader_loop &
	rpid=$!
	load gomalloc_sample
	load gomalloc_bench cases=mem mem_alloc=gom
	touch /tmp/sysfs-stop
	wait $rpid
	cat /tmp/sysfs-reader.out
	check "reads during allocation all succeed" \
		sh -c "! grep -q read-fail /tmp/sysfs-reader.out"
else
	skip "load a workload" "no samples/gomalloc_sample.ko or bench module"
fi

check "read every file (values in /out/sysfs-loaded.txt, no addresses)" \
	reads_ok loaded

if [ -n "$WORK" ]; then
	after_inuse=$(val $G/bytes_inuse)
	echo "  bytes_inuse $before_inuse -> $after_inuse"
	check "bytes_inuse rises with the workload" \
		[ "$after_inuse" -gt "$before_inuse" ]
fi

# --- invariants ------------------------------------------------------------

# Sums over classes, set by class_sums: INUSE_B CACHED_B SPAN_PAGES.
# A span has the class's preferred size (span_pages, objects_per_span) or,
# spans_min of them, its minimum: the fewest pages that hold one object.
class_sums() {
	bad=0 INUSE_B=0 CACHED_B=0 SPAN_PAGES=0 OWNED=0 MINS=0
	for c in $G/classes/*; do
		rd size "$c/object_size"; rd pages "$c/span_pages"
		rd per "$c/objects_per_span"; rd spans "$c/spans"
		rd part "$c/spans_partial"; rd full "$c/spans_full"
		rd owned "$c/spans_owned"; rd nmin "$c/spans_min"
		rd empty "$c/spans_empty"; rd total "$c/objects_total"
		rd inuse "$c/objects_inuse"; rd free "$c/objects_free"
		rd cached "$c/objects_cached"
		read -r line < "$c/occupancy"
		occ=0
		for b in $line; do occ=$((occ + b)); done
		mpages=$(((size + PAGE - 1) / PAGE))
		mper=$((mpages * PAGE / size))
		if [ "$spans" -ne $((part + full + owned)) ]; then
			echo "  ${c##*/}: spans $spans != partial $part + full $full + owned $owned"; bad=1
		fi
		if [ "$empty" -gt "$part" ]; then
			echo "  ${c##*/}: spans_empty $empty > spans_partial $part"; bad=1
		fi
		if [ "$occ" -ne "$spans" ]; then
			echo "  ${c##*/}: sum(occupancy) $occ != spans $spans"; bad=1
		fi
		if [ $((inuse + free + cached)) -ne "$total" ]; then
			echo "  ${c##*/}: inuse $inuse + free $free + cached $cached != objects_total $total"; bad=1
		fi
		if [ "$nmin" -gt "$spans" ] ||
		   [ "$total" -ne $(((spans - nmin) * per + nmin * mper)) ]; then
			echo "  ${c##*/}: objects_total $total != ($spans - $nmin min spans) x $per + $nmin x $mper"; bad=1
		fi
		for f in $PERCPU; do
			read -r line < "$c/$f"
			# shellcheck disable=SC2086
			set -- $line
			tot=$1 sum=0
			shift
			for kv in "$@"; do sum=$((sum + ${kv#*=})); done
			if [ $# -gt 0 ] && [ "$sum" -ne "$tot" ]; then
				echo "  ${c##*/}/$f: total $tot != sum of CPUs $sum"; bad=1
			fi
		done
		INUSE_B=$((INUSE_B + inuse * size))
		CACHED_B=$((CACHED_B + cached * size))
		SPAN_PAGES=$((SPAN_PAGES + (spans - nmin) * pages + nmin * mpages))
		OWNED=$((OWNED + owned)) MINS=$((MINS + nmin))
	done
	echo "  $OWNED spans owned by CPUs, $MINS minimum spans"
	return $bad
}

# orders FILE: set NBLOCKS (the counts' sum) and NPAGES (sum of n << order)
orders() {
	NBLOCKS=0 NPAGES=0 NORDERS=0
	read -r line < "$1"
	for n in $line; do
		NBLOCKS=$((NBLOCKS + n))
		NPAGES=$((NPAGES + (n << NORDERS)))
		NORDERS=$((NORDERS + 1))
	done
}

heap_ok() {
	bad=0
	rd total $G/heap/pages_total; rd inuse $G/heap/pages_inuse
	rd free $G/heap/pages_free; rd large $G/heap/large_bytes
	rd arenas $G/heap/arenas
	if [ "$total" -ne $((inuse + free)) ]; then
		echo "  pages_total $total != pages_inuse $inuse + pages_free $free"; bad=1
	fi
	# The rest of pages_inuse is free runs in the per-CPU run caches;
	# a shrink empties them (EXACT=1).
	pcached=$((inuse - SPAN_PAGES - large / PAGE))
	if [ "$pcached" -lt 0 ] || { [ "${EXACT:-0}" = 1 ] && [ "$pcached" -ne 0 ]; }; then
		echo "  pages_inuse $inuse vs span pages $SPAN_PAGES + large $((large / PAGE)): $pcached in run caches"; bad=1
	fi
	if [ "$(val $G/bytes_heap)" -ne $((total * PAGE)) ] ||
	   [ "$(val $G/heap/arena_bytes)" -ne $((total * PAGE)) ]; then
		echo "  bytes_heap/arena_bytes != pages_total x $PAGE"; bad=1
	fi
	if [ "$(val $G/bytes_cached)" -ne "$CACHED_B" ]; then
		echo "  bytes_cached $(val $G/bytes_cached) != $CACHED_B"; bad=1
	fi
	if [ "$(val $G/bytes_inuse)" -ne $((INUSE_B + large)) ]; then
		echo "  bytes_inuse $(val $G/bytes_inuse) != objects $INUSE_B + large $large"; bad=1
	fi
	orders $G/heap/free_blocks
	fb_orders=$NORDERS
	if [ "$NPAGES" -ne "$free" ]; then
		echo "  free_blocks add up to $NPAGES pages, pages_free $free"; bad=1
	fi
	orders $G/heap/arenas_by_order
	echo "  arenas by order: $(cat $G/heap/arenas_by_order); fallbacks $(val $G/heap/grow_fallbacks), failures $(val $G/heap/grow_failures)"
	if [ "$NBLOCKS" -ne "$arenas" ] || [ "$NPAGES" -ne "$total" ]; then
		echo "  arenas_by_order: $NBLOCKS arenas of $NPAGES pages, arenas $arenas, pages_total $total"; bad=1
	fi
	if [ "$NORDERS" -ne "$fb_orders" ]; then
		echo "  arenas_by_order has $NORDERS orders, free_blocks $fb_orders"; bad=1
	fi
	if [ "$(val $G/alloc_limited)" -gt "$(val $G/alloc_failures)" ]; then
		echo "  alloc_limited > alloc_failures"; bad=1
	fi
	return $bad
}

invariants() {	# invariants WHEN [EXACT]: EXACT=1 once the caches are empty
	EXACT=${2:-0}
	check "$1: per class spans = partial + full + owned, sum(occupancy) = spans, inuse + free + cached = objects_total = objects of the preferred and minimum spans, per-CPU totals" class_sums
	if [ "$EXACT" = 1 ]; then
		what="pages_inuse = span + large pages"
	else
		what="pages_inuse >= span + large pages"
	fi
	check "$1: pages_total = inuse + free, $what, bytes add up, free_blocks = pages_free, arenas_by_order = arenas and pages_total" heap_ok
}
invariants "with workload"

# --- gomstat ---------------------------------------------------------------

if ! command -v python3 > /dev/null; then
	skip "gomstat table, --json and --check" "no python3 in the guest"
elif ! command -v gomstat > /dev/null; then
	skip "gomstat table, --json and --check" "gomstat not packed"
else
	check "gomstat prints the table, OWN and MIN columns, the limit" sh -c 'gomstat > /out/gomstat.txt && grep -q "^ *TOTAL" /out/gomstat.txt && grep -q "^ *SIZE .* OWN  *MIN " /out/gomstat.txt && grep -q "^limit:  no limit, heap " /out/gomstat.txt && grep -q "arenas by order:" /out/gomstat.txt'
	head -16 /out/gomstat.txt
	json_ok() {
		gomstat --json > /out/gomstat.json || return 1
		python3 - "$G" /out/gomstat.json <<'EOF'
import json, os, sys
root, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
classes = sorted(os.listdir(root + "/classes"), key=int)
assert sorted(d["classes"], key=int) == classes, "class list"
for c in classes:
    row = d["classes"][c]
    assert row["object_size"] == int(c), c
    assert len(row["occupancy"]) == 10, c
    assert row["spans"] == (row["spans_partial"] + row["spans_full"] +
                            row["spans_owned"]), c
    assert row["objects_total"] == (row["objects_inuse"] +
                                    row["objects_free"] +
                                    row["objects_cached"]["total"]), c
    assert 0 <= row["spans_min"] <= row["spans"], c
    assert isinstance(row["allocs"]["total"], int), c
h = d["heap"]
assert h["pages_total"] == h["pages_inuse"] + h["pages_free"], "heap"
assert sum(h["arenas_by_order"]) == h["arenas"], "arenas_by_order"
assert len(h["arenas_by_order"]) == len(h["free_blocks"]), "orders"
for k in ("grow_fallbacks", "grow_failures"):
    assert isinstance(h[k], int), k
for k in ("mem_limit", "alloc_limited"):
    assert isinstance(d[k], int), k
for k in ("stacks", "segments", "bytes_reserved", "bytes_inuse", "high_water"):
    assert isinstance(d["stack"][k], int), k
assert "shrink" not in d, "shrink read"
print("  gomstat --json: %d classes, %d pages in use, %d spans owned" %
      (len(classes), h["pages_inuse"],
       sum(d["classes"][c]["spans_owned"] for c in classes)))
EOF
	}
	check "gomstat --json parses and matches the tree" json_ok
	check "gomstat --check passes" gomstat --check
fi

# --- debugfs ---------------------------------------------------------------

if [ -f $D/classes ]; then
	table_ok() {
		cat $D/classes > /out/debugfs-classes.txt || return 1
		head -1 /out/debugfs-classes.txt | grep -q 'class *size *pages *spans' || return 1
		rows=$(grep -c '^ *[0-9]' /out/debugfs-classes.txt)
		grep -q '^ *Total' /out/debugfs-classes.txt &&
			[ "$rows" -eq "$(ls $G/classes | wc -l)" ]
	}
	check "debugfs gomalloc/classes: header, one row per class, Total" table_ok
	head -4 /out/debugfs-classes.txt
else
	skip "debugfs gomalloc/classes" "debugfs not mounted"
fi

# --- shrink ----------------------------------------------------------------

grep -q '^nobody:' /etc/passwd || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> /etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >> /etc/group
if su -s /bin/sh nobody -c 'test "$(id -u)" = 65534' 2>/dev/null; then
	su -s /bin/sh nobody -c "echo 1 > $G/shrink" > /tmp/sysfs-su 2>&1
	rc=$?
	echo "  as nobody: rc $rc: $(cat /tmp/sysfs-su)"
	check "unprivileged write to shrink is refused (EACCES)" \
		sh -c "[ $rc -ne 0 ] && grep -q 'Permission denied' /tmp/sysfs-su"
	check "unprivileged read of a counter works" \
		su -s /bin/sh nobody -c "cat $G/heap/pages_total > /dev/null"
else
	skip "unprivileged write to shrink is refused" "cannot run as nobody"
fi

einval() {	# einval VALUE: writing VALUE fails with EINVAL
	# shellcheck disable=SC2059
	printf "$1" > /tmp/sysfs-val
	cat /tmp/sysfs-val 2> /tmp/sysfs-err > $G/shrink && return 1
	echo "  $(cat /tmp/sysfs-err)"
	grep -q 'Invalid argument' /tmp/sysfs-err
}
check "writing 2 to shrink gives EINVAL" einval '2\n'
check "writing 10 to shrink gives EINVAL" einval '10'

if [ -e /sys/kernel/debug/gomalloc_bench/mem_free ]; then
	# Scattered frees leave free objects and pages behind.
	echo 50 > /sys/kernel/debug/gomalloc_bench/mem_free
fi
t0=$(val $G/heap/pages_total) r0=$(val $G/heap/pages_released)
a0=$(val $G/heap/arenas) i0=$(val $G/heap/pages_inuse)
check "write 1 to shrink" sh -c "echo 1 > $G/shrink"
check "write 1 without a newline to shrink" sh -c "printf 1 > $G/shrink"
t1=$(val $G/heap/pages_total) r1=$(val $G/heap/pages_released)
a1=$(val $G/heap/arenas) i1=$(val $G/heap/pages_inuse)
echo "  shrink: arenas $a0 -> $a1, pages_total $t0 -> $t1, pages_inuse $i0 -> $i1, released +$((r1 - r0))"
shrunk_ok() {
	bad=0
	class_sums || bad=1
	if [ "$(val $G/bytes_cached)" -ne 0 ]; then
		echo "  bytes_cached $(val $G/bytes_cached) after shrink"; bad=1
	fi
	if [ "$i1" -gt "$i0" ] || [ "$a1" -gt "$a0" ]; then
		echo "  pages_inuse or arenas grew"; bad=1
	fi
	if [ "$OWNED" -ne 0 ]; then
		echo "  $OWNED spans still owned by CPUs"; bad=1
	fi
	if [ $((r1 - r0)) -ne $((t0 - t1)) ]; then
		echo "  released $((r1 - r0)) pages, pages_total fell by $((t0 - t1))"; bad=1
	fi
	# No wholly free arena is kept: the top-order free count is 0.
	read -r line < $G/heap/free_blocks
	# shellcheck disable=SC2086
	set -- $line
	eval "top=\${$#}"
	if [ "$top" -ne 0 ]; then echo "  $top free arenas kept"; bad=1; fi
	return $bad
}
check "shrink drains the magazines, owned spans and run caches and releases every free arena" shrunk_ok
invariants "after shrink" 1

# --- mem_limit -------------------------------------------------------------

MIB=1048576
# limit_is BYTES: mem_limit reads back BYTES
limit_is() { rd v $G/mem_limit; echo "  mem_limit: $v"; [ "$v" = "$1" ]; }
# set_limit TEXT BYTES: writing TEXT (backslash escapes) reads back BYTES
set_limit() { printf '%b' "$1" > $G/mem_limit && limit_is "$2"; }
check "mem_limit reads 0 (no limit) by default" limit_is 0
check "mem_limit: 67108864 reads back" set_limit '67108864\n' 67108864
check "mem_limit: 64M reads back in bytes" set_limit '64M\n' $((64 * MIB))
check "mem_limit: 1g (no newline) reads back in bytes" set_limit '1g' $((1024 * MIB))
check "mem_limit: 512K reads back in bytes" set_limit '512K\n' 524288
check "mem_limit: 0 removes the limit" set_limit '0\n' 0

einval_limit() {	# einval_limit VALUE: EINVAL, the old limit stays
	echo 96M > $G/mem_limit
	printf '%b' "$1" > /tmp/sysfs-val
	cat /tmp/sysfs-val 2> /tmp/sysfs-err > $G/mem_limit && return 1
	echo "  '$1': $(cat /tmp/sysfs-err)"
	grep -q 'Invalid argument' /tmp/sysfs-err && limit_is $((96 * MIB))
}
for v in 'abc\n' '-1\n' '12x\n' '1M2' '\n'; do
	check "mem_limit: writing '$v' gives EINVAL and keeps the limit" einval_limit "$v"
done

if su -s /bin/sh nobody -c 'test "$(id -u)" = 65534' 2>/dev/null; then
	su -s /bin/sh nobody -c "echo 1M > $G/mem_limit" > /tmp/sysfs-su 2>&1
	rc=$?
	echo "  as nobody: rc $rc: $(cat /tmp/sysfs-su)"
	check "unprivileged write to mem_limit is refused (EACCES), the limit stays" \
		sh -c "[ $rc -ne 0 ] && grep -q 'Permission denied' /tmp/sysfs-su && [ \$(cat $G/mem_limit) = $((96 * MIB)) ]"
	check "unprivileged read of mem_limit works" \
		su -s /bin/sh nobody -c "cat $G/mem_limit > /dev/null"
else
	skip "unprivileged write to mem_limit is refused" "cannot run as nobody"
fi

# A limit below what the heap holds: a state gomstat shows, not an error.
if command -v gomstat > /dev/null && [ "$(val $G/bytes_heap)" -gt "$MIB" ]; then
	echo 1M > $G/mem_limit
	sleep 1		# the scavenger, kicked by the write, finds nothing to do
	over_ok() {
		gomstat > /tmp/sysfs-gomstat || return 1
		grep '^limit:' /tmp/sysfs-gomstat
		grep -q '^limit:  1.0 MiB, heap .*OVER the limit$' /tmp/sysfs-gomstat &&
			gomstat --check
	}
	check "mem_limit below the heap: gomstat shows OVER the limit, --check passes" over_ok
fi
check "mem_limit: 0 removes the limit again" set_limit '0' 0

# --- back to idle ----------------------------------------------------------

if [ -n "$WORK" ]; then
	for m in $WORK; do check "unload workload $m" rmmod "$m"; done
	echo 1 > $G/shrink
	check "idle after unload + shrink: nothing in use, no arenas" \
		sh -c "[ $(val $G/bytes_inuse) -eq 0 ] && [ $(val $G/heap/pages_inuse) -eq 0 ] && [ $(val $G/heap/arenas) -eq 0 ]"
	invariants "idle" 1
fi

# --- the memory limit under a workload -------------------------------------

# Sample bytes_heap until /tmp/sysfs-stop appears; the largest seen goes to
# /tmp/sysfs-heapmax.
heap_sampler() {
	max=0 n=0
	while [ ! -e /tmp/sysfs-stop ]; do
		read -r h < $G/bytes_heap
		[ "$h" -gt "$max" ] && max=$h
		n=$((n + 1))
	done
	echo "$max $n" > /tmp/sysfs-heapmax
}

BENCH=/modules/gomalloc_bench.ko
if [ ! -f $BENCH ]; then
	skip "mem_limit holds under a workload" "no bench/gomalloc_bench.ko"
elif grep -q '^gomalloc_bench ' /proc/modules; then
	skip "mem_limit holds under a workload" "gomalloc_bench still loaded"
else
	# The bench's mem case allocates ~45 MB and holds it; under a limit
	# 2 MiB above the heap it must fail, and insmod with it.
	echo 1 > $G/shrink
	h0=$(val $G/bytes_heap) l0=$(val $G/alloc_limited) f0=$(val $G/alloc_failures)
	lim=$((h0 + 2 * MIB))
	echo $lim > $G/mem_limit
	d0=$(dmesg | wc -l)
	rm -f /tmp/sysfs-stop
	heap_sampler &
	spid=$!
	insmod $BENCH cases=mem mem_alloc=gom > /tmp/sysfs-ins 2>&1
	rc=$?
	h1=$(val $G/bytes_heap)
	touch /tmp/sysfs-stop
	wait $spid
	read -r hmax nsamples < /tmp/sysfs-heapmax
	l1=$(val $G/alloc_limited) f1=$(val $G/alloc_failures)
	echo "  limit $lim: heap $h0 -> $h1, at most $hmax in $nsamples samples; alloc_limited $l0 -> $l1, alloc_failures $f0 -> $f1; insmod rc $rc: $(cat /tmp/sysfs-ins)"
	within_ok() { [ "$hmax" -le "$lim" ] && [ "$h1" -le "$lim" ] && [ "$nsamples" -gt 0 ]; }
	counted_ok() { [ "$l1" -gt "$l0" ] && [ $((f1 - f0)) -ge $((l1 - l0)) ]; }
	logged_ok() { dmesg | tail -n +$((d0 + 1)) | grep -q 'refused: the heap is at mem_limit'; }
	check "mem_limit: a 45 MB workload under a limit 2 MiB above the heap fails" \
		[ "$rc" -ne 0 ]
	check "mem_limit: bytes_heap never exceeded the limit" within_ok
	check "mem_limit: alloc_limited rose, and alloc_failures by as much at least" counted_ok
	check "mem_limit: the refusal is logged" logged_ok
	if command -v gomstat > /dev/null; then
		sleep 1		# the drain queued by the refusal
		echo 1 > $G/shrink
		check "gomstat at the limit: the limit line and --check" sh -c \
			"gomstat | grep '^limit:  [0-9.]* MiB, heap ' && gomstat --check"
	fi
	check "mem_limit: 0 removes the limit" set_limit '0\n' 0
	if insmod $BENCH cases=mem mem_alloc=gom; then
		ok "mem_limit: without the limit the same workload loads ($(val $G/bytes_heap) bytes of heap)"
		check "unload the workload" rmmod gomalloc_bench
	else
		nok "mem_limit: without the limit the same workload loads"
	fi
	echo 1 > $G/shrink
	invariants "after the limited workload" 1
fi

# --- minimum spans and arena fallback --------------------------------------

# The grow_max_order knob caps the arena order growth asks for: with 0, the
# heap grows by single pages, a class's preferred span (several pages)
# never fits in an arena, and every span is a minimum one. The sample's
# objects then exercise spans_min, arenas below arena_order and
# grow_fallbacks, and the invariants must hold with them.
GMO=/sys/module/gomalloc/parameters/grow_max_order
if [ ! -w $GMO ] || [ ! -f /modules/gomalloc_sample.ko ]; then
	skip "minimum spans and arena fallback" "no grow_max_order parameter or sample module"
elif grep -q '^gomalloc_sample ' /proc/modules; then
	skip "minimum spans and arena fallback" "gomalloc_sample still loaded"
else
	echo 1 > $G/shrink
	gmo=$(cat $GMO) fb0=$(val $G/heap/grow_fallbacks)
	echo 0 > $GMO
	if insmod /modules/gomalloc_sample.ko; then
		ok "load gomalloc_sample with grow_max_order=0"
		class_sums > /dev/null
		fb1=$(val $G/heap/grow_fallbacks)
		read -r a0 _ < $G/heap/arenas_by_order
		echo "  $MINS minimum spans; arenas by order $(cat $G/heap/arenas_by_order); grow_fallbacks $fb0 -> $fb1"
		mins_ok() { [ "$MINS" -gt 0 ] && [ "$a0" -gt 0 ] && [ "$fb1" -gt "$fb0" ]; }
		check "grow_max_order=0: spans_min, order-0 arenas and grow_fallbacks rise" mins_ok
		invariants "with minimum spans"
		if command -v gomstat > /dev/null; then
			check "gomstat --check with minimum spans" gomstat --check
			gomstat > /out/gomstat-minspans.txt
			# TOTAL SPANS PART FULL OWN MIN ...
			check "gomstat shows the minimum spans in MIN" \
				awk '$1 == "TOTAL" { t = $6 } END { exit !(t > 0) }' /out/gomstat-minspans.txt
		fi
		echo 1 > $G/shrink
		invariants "with minimum spans, after shrink" 1
		check "unload gomalloc_sample" rmmod gomalloc_sample
	else
		nok "load gomalloc_sample with grow_max_order=0"
	fi
	echo "$gmo" > $GMO
	echo 1 > $G/shrink
	invariants "idle again" 1
fi

reads_ok idle > /dev/null
exit 0
