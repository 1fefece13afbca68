#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gomalloc's tracepoints in tracefs: every event exists, gom_alloc and
# gom_free have kmem:kmalloc's and kmem:kfree's fields, and a client's
# allocation and free are traced with its function and module in
# call_site, the sizes and the flags. Contract: see run-tests.sh.

T=/sys/kernel/tracing
ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
if [ ! -d $T/events ]; then
	echo "ok - tracepoints # SKIP no tracefs in this kernel"
	exit 0
fi
E=$T/events/gomalloc
missing=
for e in gom_alloc gom_free gom_span_alloc gom_span_free gom_heap_grow gom_heap_release; do
	[ -d $E/$e ] || missing="$missing $e"
done
if [ -z "$missing" ]; then
	ok "events/gomalloc has gom_alloc, gom_free, gom_span_alloc, gom_span_free, gom_heap_grow, gom_heap_release"
else
	nok "events/gomalloc lacks$missing"
	exit 0
fi

fields() {	# the field names of an event's format, in order
	sed -n 's/^[[:space:]]*field:[^;]* \([a-z_]*\);.*/\1/p' "$1/format" |
		grep -v '^common_' | tr '\n' ' '
}
f=$(fields $E/gom_alloc)
if [ "$f" = "call_site ptr bytes_req bytes_alloc gfp_flags node " ]; then
	ok "gom_alloc has kmem:kmalloc's fields ($f)"
else
	nok "gom_alloc has kmem:kmalloc's fields ($f)"
fi
f=$(fields $E/gom_free)
if [ "$f" = "call_site ptr " ]; then
	ok "gom_free has kmem:kfree's fields ($f)"
else
	nok "gom_free has kmem:kfree's fields ($f)"
fi

# A client's allocation and free: gomalloc_buggy's "none" takes 60 bytes
# and frees them, without a bug. call_site is symbolised when the trace
# is read, so it is read while the client is loaded.
insmod /modules/gomalloc_buggy.ko
echo 0 > $T/tracing_on
echo > $T/trace
echo 1 > $E/enable
echo 1 > $T/tracing_on
echo none > /sys/module/gomalloc_buggy/parameters/bug
echo 0 > $T/tracing_on
echo 0 > $E/enable
cat $T/trace > /tmp/trace.txt
cp /tmp/trace.txt /out/trace.txt
rmmod gomalloc_buggy

line=$(grep ' gom_alloc: call_site=buggy_none+0x[0-9a-f]*/0x[0-9a-f]* \[gomalloc_buggy\] ptr=[0-9a-f]* bytes_req=60 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1$' /tmp/trace.txt)
if [ -n "$line" ]; then
	ok "gom_alloc traced as kmem:kmalloc prints: ${line#*gom_alloc: }"
else
	grep gom_ /tmp/trace.txt | head -3
	nok "gom_alloc traced as kmem:kmalloc prints: call_site=buggy_none+... [gomalloc_buggy] bytes_req=60 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1"
fi
p=$(echo "$line" | sed -n 's/.* ptr=\([0-9a-f]*\) .*/\1/p')
# (the free may be a tail call: call_site is then buggy_none's caller)
line=$(grep " gom_free: call_site=[a-z_.]*+0x[0-9a-f]*/0x[0-9a-f]* \[gomalloc_buggy\] ptr=$p\$" /tmp/trace.txt)
if [ -n "$p" ] && [ -n "$line" ]; then
	ok "gom_free of the same object traced as kmem:kfree prints: ${line#*gom_free: }"
else
	nok "gom_free of the same object traced as kmem:kfree prints (ptr=$p)"
fi
