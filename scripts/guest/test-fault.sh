#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fault injection: /sys/kernel/debug/gomalloc/fail_alloc makes a client's
# allocations fail, as failslab does, on kernels built without
# CONFIG_FAULT_INJECTION: the sample client's load fails and unwinds,
# the failures are counted, the module filter spares other clients, and
# bad values are refused. Contract: see run-tests.sh.

F=/sys/kernel/debug/gomalloc/fail_alloc
G=/sys/kernel/gomalloc
ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

for a in probability interval times space verbose module; do
	if [ ! -f $F/$a ]; then
		nok "fail_alloc/$a exists"
		exit 0
	fi
done
ok "fail_alloc has probability, interval, times, space, verbose, module"

if echo 101 > $F/probability 2>/dev/null; then
	nok "probability 101 refused"
else
	ok "probability 101 refused"
fi

f0=$(cat $G/faults_injected) a0=$(cat $G/alloc_failures)
echo gomalloc_sample > $F/module
echo -1 > $F/times
echo 1 > $F/verbose
echo 100 > $F/probability
if insmod /modules/gomalloc_sample.ko 2>/dev/null; then
	rmmod gomalloc_sample
	nok "with probability 100 for gomalloc_sample, its load fails"
else
	ok "with probability 100 for gomalloc_sample, its load fails"
fi
f1=$(cat $G/faults_injected) a1=$(cat $G/alloc_failures)
if [ "$f1" -gt "$f0" ] && [ $((a1 - a0)) -ge $((f1 - f0)) ] &&
   dmesg | grep -q "gomalloc: fault injected: .* for .*\[gomalloc_sample\]"; then
	ok "the injected failures are counted and logged (faults_injected $f0 -> $f1)"
else
	nok "the injected failures are counted and logged (faults_injected $f0 -> $f1, alloc_failures $a0 -> $a1)"
fi

echo gomalloc_frag > $F/module
if insmod /modules/gomalloc_sample.ko; then
	rmmod gomalloc_sample
	ok "the module filter spares other clients"
else
	nok "the module filter spares other clients"
fi

echo > $F/module
echo 2 > $F/times
f0=$(cat $G/faults_injected)
tries=0
while [ $tries -lt 3 ] && ! grep -q '^gomalloc_sample ' /proc/modules; do
	insmod /modules/gomalloc_sample.ko 2>/dev/null
	tries=$((tries + 1))
done
f1=$(cat $G/faults_injected)
if grep -q '^gomalloc_sample ' /proc/modules; then loaded=1; else loaded=0; fi
if [ "$((f1 - f0))" -eq 2 ] && [ "$loaded" -eq 1 ] && [ "$(cat $F/times)" -eq 0 ]; then
	ok "times 2 fails exactly two allocations, then none"
else
	nok "times 2 fails exactly two allocations, then none (got $((f1 - f0)), loaded $loaded, times $(cat $F/times))"
fi
[ "$loaded" -eq 1 ] && rmmod gomalloc_sample
echo 0 > $F/probability
echo 1 > $F/times
echo 0 > $F/verbose
echo 1 > $G/shrink
if [ "$(cat $G/bytes_inuse)" -eq 0 ]; then
	ok "failed loads left nothing allocated"
else
	nok "failed loads left nothing allocated (bytes_inuse $(cat $G/bytes_inuse))"
fi
