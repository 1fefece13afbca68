#!/bin/sh
# Guest side of scripts/demo.sh: load gomalloc, the sample client and the
# benchmark module as a workload, show gomalloc's statistics with gomstat,
# unload everything.
echo "demo: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
load() {	# load MODULE ARGS...
	ko=/modules/$1.ko
	shift
	if ! insmod "$ko" "$@"; then
		echo "demo: insmod $(basename "$ko") $* failed"
		exit 1
	fi
}
load gomalloc
# A client of gomalloc's API: it keeps a list, a page run and a batch of
# objects allocated while it is loaded.
load gomalloc_sample
# The benchmark's hot case (allocation and free in every size class), and
# its mem case, which holds ~45 MB in 270k objects of mixed sizes until it
# is unloaded.
load gomalloc_bench cases=hot,mem mem_alloc=gom iters=2000 reps=1 mode=demo
echo "demo: loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ' | sed 's/ $//')"
echo
echo "demo: \$ gomstat"
python3 /usr/bin/gomstat || { echo "demo: gomstat failed"; exit 1; }
echo
for m in gomalloc_bench gomalloc_sample gomalloc; do
	rmmod "$m" || { echo "demo: rmmod $m failed"; exit 1; }
done
echo "demo: unloaded: gomalloc_bench gomalloc_sample gomalloc"
