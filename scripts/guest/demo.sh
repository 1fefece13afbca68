#!/bin/sh
# Guest side of scripts/demo.sh: load gomalloc, put some load on it, show
# its statistics, unload.
echo "demo: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
insmod /modules/gomalloc.ko || { echo "demo: insmod gomalloc.ko failed"; exit 1; }
echo "demo: gomalloc loaded"

workload=
for ko in /modules/samples/*.ko; do
	[ -f "$ko" ] || continue
	echo "demo: loading sample client $(basename "$ko")"
	insmod "$ko" && workload="$workload $(basename "$ko" .ko)"
done
if [ -z "$workload" ] && [ -f /modules/gomalloc_bench.ko ]; then
	echo "demo: no sample module; running gomalloc_bench as the workload"
	insmod /modules/gomalloc_bench.ko cases=hot iters=2000 reps=1 mode=demo &&
		workload=gomalloc_bench
fi
[ -n "$workload" ] || echo "demo: no sample or bench module built yet: statistics of an idle allocator"

echo
if [ -x /usr/bin/gomstat ] && command -v python3 > /dev/null; then
	echo "demo: \$ gomstat"
	python3 /usr/bin/gomstat || echo "demo: gomstat failed"
elif [ -d /sys/kernel/gomalloc ]; then
	echo "demo: (no gomstat) /sys/kernel/gomalloc:"
	find /sys/kernel/gomalloc -type f | sort | head -80 | while read -r f; do
		printf '%s: ' "${f#/sys/kernel/gomalloc/}"
		head -c 200 "$f" 2>/dev/null | head -1
		echo
	done
else
	echo "demo: /sys/kernel/gomalloc does not exist in this build"
fi
echo

for m in $workload; do
	rmmod "$m" || echo "demo: rmmod $m failed"
done
rmmod gomalloc && echo "demo: gomalloc unloaded"
