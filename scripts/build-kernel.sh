#!/usr/bin/env bash
# Build gomalloc's debug kernel (KASAN, KUnit, lockdep, NUMA emulation) from
# Debian's linux-source-6.1: tinyconfig + scripts/kernel-debug.config.
#
# usage: scripts/build-kernel.sh [--print-dir | --extract-only]
#   The extracted tree is ${GOM_CACHE:-$HOME/.cache/gomalloc}/linux-<srcver>-src/,
#   the O= build dir (bzImage, Module.symvers) kernel-<srcver>-<fragsha>/build/.
#   A rerun with the same source package and fragment does no work.
#   --print-dir     only print the build dir (O=) path and exit.
#   --extract-only  only extract the source tree (for checkpatch and friends).
set -euo pipefail

usage() { echo "usage: $0 [--print-dir | --extract-only]" >&2; exit 2; }
PRINT_ONLY=0
EXTRACT_ONLY=0
case "${1:-}" in
	"") ;;
	--print-dir) PRINT_ONLY=1 ;;
	--extract-only) EXTRACT_ONLY=1 ;;
	*) usage ;;
esac

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
CACHE=$GOM_CACHE
TARBALL=${GOM_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
FRAG=$HERE/kernel-debug.config

if [[ ! -f $TARBALL ]]; then
	echo "build-kernel: $TARBALL missing (run scripts/setup.sh)" >&2
	exit 1
fi
SRCVER=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$TARBALL")
FRAGSHA=$(sha256sum "$FRAG" | cut -c1-12)
TOP=$CACHE/kernel-$SRCVER-$FRAGSHA
SRC=$CACHE/linux-$SRCVER-src
OUT=$TOP/build

if (( PRINT_ONLY )); then
	echo "$OUT"
	exit 0
fi

REQUIRED=(CONFIG_X86_64_ACPI_NUMA CONFIG_KASAN CONFIG_KASAN_GENERIC CONFIG_KASAN_INLINE CONFIG_KUNIT
	  CONFIG_KUNIT_DEBUGFS CONFIG_PROVE_LOCKING CONFIG_DEBUG_PREEMPT
	  CONFIG_DEBUG_ATOMIC_SLEEP CONFIG_DEBUG_LIST CONFIG_NUMA
	  CONFIG_NUMA_EMU CONFIG_HOTPLUG_CPU CONFIG_SMP CONFIG_PREEMPT
	  CONFIG_SLUB CONFIG_MODULES CONFIG_MODULE_UNLOAD CONFIG_DEBUG_FS
	  CONFIG_BLK_DEV_INITRD CONFIG_SERIAL_8250_CONSOLE CONFIG_DEVTMPFS
	  CONFIG_BINFMT_SCRIPT CONFIG_PROC_SYSCTL CONFIG_LOCKDEP
	  CONFIG_DEBUG_SPINLOCK CONFIG_DEBUG_KMEMLEAK CONFIG_DEBUG_KERNEL CONFIG_64BIT CONFIG_TTY
	  CONFIG_PRINTK CONFIG_SERIAL_8250 CONFIG_BINFMT_ELF CONFIG_KALLSYMS
	  CONFIG_SYSFS CONFIG_PROC_FS CONFIG_MULTIUSER CONFIG_FUTEX
	  CONFIG_TMPFS CONFIG_ACPI CONFIG_RD_GZIP)
# Options that may be modules rather than built in.
REQUIRED_M=(CONFIG_KASAN_KUNIT_TEST)

verify_config() {
	local cfg=$OUT/.config bad=0 opt
	for opt in "${REQUIRED[@]}"; do
		if ! grep -q "^$opt=y" "$cfg"; then
			echo "build-kernel: merged .config lacks $opt=y" >&2
			bad=1
		fi
	done
	for opt in "${REQUIRED_M[@]}"; do
		if ! grep -q "^$opt=[ym]" "$cfg"; then
			echo "build-kernel: merged .config lacks $opt=m" >&2
			bad=1
		fi
	done
	if grep -q '^CONFIG_SLOB=y' "$cfg"; then
		echo "build-kernel: merged .config still has CONFIG_SLOB=y" >&2
		bad=1
	fi
	if grep -q '^CONFIG_PANIC_ON_OOPS=y' "$cfg"; then
		echo "build-kernel: merged .config has CONFIG_PANIC_ON_OOPS=y" >&2
		bad=1
	fi
	local ncpus
	ncpus=$(sed -n 's/^CONFIG_NR_CPUS=//p' "$cfg")
	if (( ${ncpus:-0} < 4 )); then
		echo "build-kernel: CONFIG_NR_CPUS=${ncpus:-unset} < 4" >&2
		bad=1
	fi
	if (( bad )); then
		echo "build-kernel: FAILED: debug kernel config is incomplete ($cfg)" >&2
		exit 1
	fi
}

if (( ! EXTRACT_ONLY )) && [[ -f $TOP/.done && -f $OUT/arch/x86/boot/bzImage && -f $OUT/Module.symvers ]]; then
	verify_config
	echo "build-kernel: up to date: $OUT"
	exit 0
fi

mkdir -p "$TOP"
if [[ ! -f $SRC/.extracted ]]; then
	echo "build-kernel: extracting $TARBALL"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xf "$TARBALL" -C "$SRC.tmp" --strip-components=1
	mv "$SRC.tmp" "$SRC"
	touch "$SRC/.extracted"
fi
if (( EXTRACT_ONLY )); then
	echo "$SRC"
	exit 0
fi

mkdir -p "$OUT"
if [[ ! -f $OUT/.config.merged ]] || ! cmp -s "$FRAG" "$OUT/.config.fragment"; then
	echo "build-kernel: configuring (tinyconfig + $(basename "$FRAG"))"
	make -s -C "$SRC" O="$OUT" ARCH=x86_64 tinyconfig >/dev/null
	(cd "$OUT" && "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" \
		"$OUT/.config" "$FRAG" >/dev/null)
	make -s -C "$SRC" O="$OUT" ARCH=x86_64 olddefconfig >/dev/null
	cp "$FRAG" "$OUT/.config.fragment"
	touch "$OUT/.config.merged"
fi
verify_config

# Progress: objects built so far, against the count of the last full build.
objects() { find "$OUT" -name '*.o' | wc -l; }
LAST=$(cat "$CACHE"/kernel-*/objects 2>/dev/null | sort -n | tail -1 || true)
progress() { echo "$(objects)${LAST:+ of about $LAST} objects built"; }
JOBS=${GOM_JOBS:-$(nproc)}
echo "build-kernel: building bzImage and modules in $OUT with $JOBS jobs" \
	"(KASAN and lockdep make it big: 15-40 minutes on two cores)"
T0=$SECONDS
GOM_PROGRESS_EVERY=${GOM_PROGRESS_EVERY:-60} gom_progress "building the debug kernel" \
	progress make -s -C "$SRC" O="$OUT" ARCH=x86_64 -j"$JOBS" bzImage modules
test -f "$OUT/arch/x86/boot/bzImage"
test -f "$OUT/Module.symvers"
objects > "$TOP/objects"
touch "$TOP/.done"
echo "build-kernel: built in $(gom_dur $((SECONDS - T0))): $(cat "$TOP/objects") objects"
echo "build-kernel: done: $OUT"
