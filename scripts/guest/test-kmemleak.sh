#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kmemleak sees gomalloc's objects: a client object whose last pointer
# is gone (gomalloc_buggy's "leak") is reported with the client's stack,
# and nothing of gomalloc's own is. Runs on kernels with kmemleak (the
# debug kernel); skips elsewhere. Contract: see run-tests.sh.

K=/sys/kernel/debug/kmemleak
ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

if [ ! -f $K ]; then
	echo "ok - kmemleak reports a client's leak # SKIP this kernel has no kmemleak"
	exit 0
fi
# forget what kmemleak suspected before, then leak
echo scan > $K
echo clear > $K
insmod /modules/gomalloc_buggy.ko
# four leaks: kmemleak misses one whose pointer a stack still holds
for i in 1 2 3 4; do
	echo leak > /sys/module/gomalloc_buggy/parameters/bug
done
# an object is reported once it is older than 5 s and stayed unreferenced
# over two scans
sleep 6
echo scan > $K
echo scan > $K
cat $K > /tmp/kmemleak.txt
cp /tmp/kmemleak.txt /out/kmemleak.txt
# the reports, one paragraph each; keep those of 100-byte objects
awk 'BEGIN { RS = "unreferenced object" } /\(size 100\)/' /tmp/kmemleak.txt > /tmp/leak100.txt
n=$(grep -c 'buggy_leak' /tmp/leak100.txt)
if [ "$n" -ge 1 ]; then
	ok "kmemleak reports the client's 100-byte leaks with their stack ($n of 4: $(grep -m1 'buggy_leak' /tmp/leak100.txt | tr -s ' '))"
else
	head -40 /tmp/kmemleak.txt
	nok "kmemleak reports the client's 100-byte leaks with their stack (0 of 4)"
fi
others=$(awk 'BEGIN { RS = "unreferenced object" } /gom_/ && !/buggy_leak/' /tmp/kmemleak.txt | grep -c 'backtrace')
if [ "$others" -eq 0 ]; then
	ok "kmemleak reports nothing else allocated through gomalloc"
else
	nok "kmemleak reports nothing else allocated through gomalloc ($others more)"
fi
rmmod gomalloc_buggy
echo clear > $K
