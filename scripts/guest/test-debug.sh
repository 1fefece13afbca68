#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# debug=: without it, the fast paths refuse the double frees of
# samples/gomalloc_buggy.ko; reloaded with debug=FZPU, gomalloc finds its
# bugs, reports each once naming the object, its class, the buggy
# function, its module and both stacks, counts it in debug_reports, and
# keeps the object out of use. A bad debug= letter is
# refused at load. Contract: see run-tests.sh. Leaves gomalloc loaded
# without options, as it found it.

G=/sys/kernel/gomalloc
BUG=/sys/module/gomalloc_buggy/parameters/bug

ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
check() {	# check WHAT COMMAND...
	what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}

if [ ! -f /modules/gomalloc_buggy.ko ]; then
	nok "gomalloc_buggy.ko present in the guest"
	exit 0
fi
# Without debug= the fast paths run: the free-object mark refuses a double
# free, also when the first free ran on another CPU and the object is the
# allocating CPU's memo, whose free skips the page map.
insmod /modules/gomalloc_buggy.ko
for b in double double-remote; do
	d0=$(cat $G/double_frees)
	echo $b > $BUG
	check "bug=$b without debug=: refused, counted in double_frees" \
		test "$(cat $G/double_frees)" -eq $((d0 + 1))
done
i0=$(cat $G/invalid_frees) d0=$(cat $G/double_frees)
echo null > $BUG
check "gom_free(NULL) and gom_free(ZERO_SIZE_PTR) after a free: ignored" \
	test "$(cat $G/invalid_frees) $(cat $G/double_frees)" = "$i0 $d0"
rmmod gomalloc_buggy

if ! rmmod gomalloc; then
	nok "rmmod gomalloc to reload it with debug="
	exit 0
fi

check "insmod gomalloc.ko debug=FZX is refused (unknown letter)" \
	sh -c '! insmod /modules/gomalloc.ko debug=FZX 2>/dev/null'
check "the refusal names the letters gomalloc knows" \
	sh -c 'dmesg | grep -q "debug=FZX: unknown option; known: F, Z, P, U, Q"'

start=$(dmesg | wc -l)
new_dmesg() { dmesg | tail -n +"$((start + 1))"; }
if ! insmod /modules/gomalloc.ko debug=FZPU; then
	nok "insmod gomalloc.ko debug=FZPU"
	insmod /modules/gomalloc.ko
	exit 0
fi
check "debug=FZPU announced at load" \
	sh -c 'dmesg | grep -q "gomalloc: debug checks on: FZPU"'
insmod /modules/gomalloc_buggy.ko

# bug NAME REPORT TOTAL: run a bug, expect one report line and the total
bug() {
	mark=$(dmesg | wc -l)
	echo "$1" > $BUG
	out=$(dmesg | tail -n +"$((mark + 1))")
	n=$(echo "$out" | grep -c "gomalloc: BUG: $2")
	r=$(cat $G/debug_reports)
	if [ "$n" -eq 1 ] && [ "$r" -eq "$3" ] &&
	   echo "$out" | grep -q "by buggy_[a-z_]*+0x[0-9a-f]*/0x[0-9a-f]* \[gomalloc_buggy\]" &&
	   echo "$out" | grep -q " bug_set[.a-z]*+0x"; then
		ok "bug=$1: one report \"$2\", naming the caller, its module and its stack (debug_reports $r)"
	else
		echo "$out" | head -20
		nok "bug=$1: one report \"$2\" ($n), naming the caller, its module and its stack (debug_reports $r, want $3)"
	fi
}

bug overflow "red zone overwritten after the object" 1
bug uaf "free object was modified (use after free)" 2
d0=$(cat $G/double_frees)
bug double "double free" 3
check "the double free is counted in double_frees too" \
	test "$(cat $G/double_frees)" -eq $((d0 + 1))
check "a report gives the object's class and the bytes asked" \
	sh -c "new_dmesg() { dmesg | tail -n +$((start + 1)); }; new_dmesg | grep -q 'in the 112-byte class, 60 bytes asked'"

rmmod gomalloc_buggy
echo 1 > $G/shrink
check "corrupt objects stay out of use: 2 objects still allocated after shrink" \
	test "$(awk '{ s += $1 } END { print s }' $G/classes/*/objects_inuse)" -eq 2
rmmod gomalloc
check "unloading reports the objects kept out of use as leaked" \
	sh -c "dmesg | tail -n 20 | grep -q 'unloaded with 2 allocations leaked'"
insmod /modules/gomalloc.ko
