#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of scripts/replay-record.sh (run by scripts/vm-run as
# /guest/main.sh): records the slab events of ordinary work with tracefs.
#
# The events kmem:kmalloc, kmem:kfree, kmem:kmem_cache_alloc and
# kmem:kmem_cache_free are traced into the ring buffer while the workload
# below runs, in rounds: processes created and run (fork + exec of busybox
# commands, shell pipelines), files created, copied, renamed, read and
# removed in a tmpfs, and a tree archived with tar + gzip, listed and
# unpacked while 64 other processes wait in the background. Tracing
# stops before the buffer is read, so reading and compressing it is not in
# the trace. The kernel runs with no_hash_pointers (set by the host
# script), so that the ptr= fields are the real addresses and an address
# identifies one object while it lives.
#
# Writes to /out/: trace.txt.gz (the text trace), record.txt (the
# kernel, the ring buffer's statistics and the workload's counts).
# Settings from the kernel command line:
#   gomrec.rounds=N   rounds of the workload (default 1)

rounds=1
for a in $(cat /proc/cmdline); do
	case $a in
	gomrec.rounds=*) rounds=${a#*=} ;;
	esac
done

T=/sys/kernel/tracing
REC=/out/record.txt
W=/tmp/work

note() {
	echo "replay-record: $*"
	echo "$*" >> "$REC"
}

mount -t tracefs tracefs $T 2>/dev/null
if [ ! -f $T/trace ]; then
	note "no tracefs at $T"
	exit 1
fi
note "kernel: $(uname -r) $(uname -v)"
note "cmdline: $(cat /proc/cmdline)"
note "cpus: $(grep -c ^processor /proc/cpuinfo) rounds: $rounds"

# A small source tree for the file and archive steps: 384 text and
# binary files of 20 bytes to 48 KiB in 24 directories.
mktree() {
	d=$1
	mkdir -p "$d"
	for sub in a b c d e f g h; do
		mkdir -p "$d/$sub/x" "$d/$sub/y"
		for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
			seq $((n * 20)) > "$d/$sub/x/seq$n.txt"
			dd if=/dev/urandom of="$d/$sub/y/rnd$n.bin" bs=$((n * 50)) \
			   count=$((n / 2 + 1)) 2>/dev/null
			echo "file $sub $n" > "$d/$sub/note$n"
		done
	done
}

# Processes: fork + exec of short busybox commands, and pipelines.
procs() {
	i=0
	while [ $i -lt 40 ]; do
		/bin/true
		ls /proc > /dev/null
		# shellcheck disable=SC2002 # two processes, on purpose
		cat /proc/meminfo | grep -c Mem > /dev/null
		sh -c 'echo $$ > /dev/null'
		i=$((i + 1))
	done
	seq 1 5000 | sort -r | uniq | wc -l > /dev/null
	ps > /dev/null
	find /sys/kernel -maxdepth 2 -name '*e*' | sort | head -50 > /dev/null
}

# Files in tmpfs: create, copy, rename, read, checksum, remove.
files() {
	mktree $W/src
	cp -a $W/src $W/copy
	for f in $W/copy/*/x/*.txt; do
		mv "$f" "$f.old"
	done
	cat $W/copy/*/x/*.old | wc -c > /dev/null
	md5sum $W/src/*/y/*.bin > $W/sums
	md5sum -c $W/sums > /dev/null
	grep -rl 17 $W/src > /dev/null
	ln -s $W/src $W/link
	ls -lR $W/link/ > /dev/null
	rm -rf $W/link
}

# Processes that live a while: 64 waiting in the background.
waiters() {
	i=0
	while [ $i -lt 64 ]; do
		sleep 2 &
		i=$((i + 1))
	done
}

# Archives: tar + gzip a tree, list it, unpack it, compare, and a pipe.
archives() {
	tar -C $W -czf $W/src.tgz src
	tar -tzf $W/src.tgz > /dev/null
	mkdir -p $W/unpack
	tar -C $W/unpack -xzf $W/src.tgz
	diff -r $W/src $W/unpack/src > /dev/null
	tar -C $W -cf - src | gzip -1 | gunzip | wc -c > /dev/null
}

mkdir -p $W
echo 0 > $T/tracing_on
echo > $T/trace
echo nop > $T/current_tracer
echo 262144 > $T/buffer_size_kb
for e in kmalloc kfree kmem_cache_alloc kmem_cache_free; do
	echo 1 > $T/events/kmem/$e/enable
done
echo 1 > $T/tracing_on

r=0
while [ $r -lt "$rounds" ]; do
	procs
	files
	waiters
	archives
	wait
	rm -rf $W/src $W/copy $W/unpack $W/src.tgz $W/sums
	r=$((r + 1))
done
rm -rf $W

echo 0 > $T/tracing_on
for e in kmalloc kfree kmem_cache_alloc kmem_cache_free; do
	echo 0 > $T/events/kmem/$e/enable
done
for s in $T/per_cpu/cpu*/stats; do
	note "$(basename "$(dirname "$s")"): $(tr '\n' ' ' < "$s")"
done
bad=$(cat $T/per_cpu/cpu*/stats | awk '/^(overrun|dropped events):/ { n += $NF } END { print n + 0 }')
if [ "$bad" -ne 0 ]; then
	note "the ring buffer lost $bad events: make buffer_size_kb larger"
	exit 1
fi
gzip -c $T/trace > /out/trace.txt.gz
exit 0
