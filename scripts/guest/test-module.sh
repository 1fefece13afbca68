#!/bin/sh
# Basic module checks: gomalloc is loaded, visible in sysfs, not in use.
# (Contract: see /guest/run-tests.sh.)

if grep -q '^gomalloc ' /proc/modules; then
	echo "ok - gomalloc listed in /proc/modules"
else
	echo "not ok - gomalloc listed in /proc/modules"
fi

if [ -d /sys/module/gomalloc ]; then
	echo "ok - /sys/module/gomalloc exists"
else
	echo "not ok - /sys/module/gomalloc exists"
fi

refs=$(cat /sys/module/gomalloc/refcnt 2>/dev/null)
if [ "$refs" = 0 ]; then
	echo "ok - refcnt is 0 with no users"
else
	echo "not ok - refcnt is 0 with no users (got '$refs')"
fi

if [ -d /sys/kernel/gomalloc ]; then
	echo "ok - /sys/kernel/gomalloc exists"
	ls -R /sys/kernel/gomalloc | head -40
else
	echo "ok - /sys/kernel/gomalloc exists # SKIP not created by this build"
fi
