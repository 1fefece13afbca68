#!/usr/bin/env bash
# Record the slab events of ordinary work in QEMU and turn them into the
# replay of the benchmark's replay case (bench/replay.txt).
#
# usage: scripts/replay-record.sh [-o OUTPUT] [--rounds N]
#   Boots Debian's current stock 6.1 kernel (the one `make bench` runs)
#   in QEMU, 1 vCPU, with no_hash_pointers; the guest side,
#   scripts/guest/replay-record.sh, traces kmalloc, kfree,
#   kmem_cache_alloc and kmem_cache_free with tracefs while it runs
#   busybox commands, pipelines, tmpfs files and tar + gzip archives
#   (N rounds, default 1). scripts/mkreplay.py converts the trace.
#   The trace and the guest's notes stay in build/replay/; OUTPUT
#   (default bench/replay.txt) is the replay, to be committed.
#
# A new recording is a different trace (addresses, interleaving with
# kernel threads, timing): record again only to change the workload, and
# commit the replay with the benchmark results it gives.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
OUTPUT=$GOM_ROOT/bench/replay.txt
ROUNDS=1
while (( $# )); do
	case $1 in
	-o) OUTPUT=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	*) echo "usage: $0 [-o OUTPUT] [--rounds N]" >&2; exit 2 ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || gom_die "--rounds wants a positive number"

gom_ready 6.1 || "$GOM_ROOT/scripts/setup.sh" --no-kernel 6.1
KERNEL=$(gom_kernel 6.1)
OUT=$GOM_ROOT/build/replay
rm -rf "$OUT"
mkdir -p "$OUT"
gom_log "recording on Debian's $(gom_kver 6.1) kernel, $ROUNDS rounds"
gom_progress "recording" "" "$GOM_ROOT/scripts/vm-run" --kernel "$KERNEL" \
	--quiet --no-python --cpus 1 --mem 1G --timeout 1800 \
	--script "$GOM_ROOT/scripts/guest/replay-record.sh" \
	--append "no_hash_pointers gomrec.rounds=$ROUNDS" \
	--log "$OUT/console.log" --out "$OUT"
[[ -f $OUT/trace.txt.gz ]] || gom_die "the guest wrote no trace (log: $OUT/console.log)"
sed 's/^/  guest: /' "$OUT/record.txt" >&2

# What the header says about the recording: the kernel by its Debian
# version (uname -v), not its ABI name, and the workload.
kver=$(sed -n 's/^kernel: [^ ]* //p' "$OUT/record.txt")
"$GOM_PY" "$GOM_ROOT/scripts/mkreplay.py" -o "$OUTPUT" \
	--source "scripts/replay-record.sh --rounds $ROUNDS" \
	--source "kernel: Debian's stock 6.1 (uname -v: ${kver:-unknown}), 1 vCPU, QEMU $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')" \
	--source "recorded $(date -u +%Y-%m-%d)" \
	"$OUT/trace.txt.gz"
gom_log "wrote ${OUTPUT#"$GOM_ROOT"/}"
