#!/usr/bin/env bash
# Build all of gomalloc's modules against KDIR in a private copy of the tree,
# so builds against different kernels (and people editing the tree) do not
# trip over each other's objects.
#
# usage: scripts/build-modules.sh [--werror] KDIR OUTDIR
#   OUTDIR receives an rsync'd copy of the sources (incremental: unchanged
#   files keep their mtimes and are not rebuilt), the .ko files in their
#   subdirs, and build.log. --werror fails the build if the log has any
#   "warning:".
set -euo pipefail

usage() { echo "usage: $0 [--werror] KDIR OUTDIR" >&2; exit 2; }
WERROR=0
if [[ ${1:-} == --werror ]]; then WERROR=1; shift; fi
(( $# == 2 )) || usage
KDIR=$1
OUT=$2
source "$(dirname "$0")/lib.sh"

if [[ ! -d $KDIR ]]; then
	echo "build-modules: kernel build dir $KDIR does not exist" >&2
	exit 1
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# Several people (and make targets) share build/: one build per OUT at a time.
exec 9>"$OUT.lock"
flock 9
rsync -a --delete \
	--exclude=.git/ --exclude=/build/ --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' \
	--exclude=Module.symvers --exclude=modules.order --exclude=build.log \
	--exclude='.*.d' --exclude='.tmp_*' --exclude='*.dwo' \
	"$GOM_ROOT"/ "$OUT"/

LOG=$OUT/build.log
rc=0
make -C "$KDIR" M="$OUT" W=1 -j"$(nproc)" modules >"$LOG" 2>&1 || rc=$?
if (( rc )); then
	grep -E 'error|Error|warning:' "$LOG" | head -30 >&2 || true
	echo "build-modules: FAILED: make against $KDIR (exit $rc, log $LOG)" >&2
	exit 1
fi
if (( WERROR )) && grep -q 'warning:' "$LOG"; then
	grep 'warning:' "$LOG" | head -30 >&2
	echo "build-modules: FAILED: $(grep -c 'warning:' "$LOG") warning(s) building against $KDIR (log $LOG)" >&2
	exit 1
fi
echo "build-modules: ok: $(find "$OUT" -name '*.ko' | wc -l) module(s) against $KDIR"
