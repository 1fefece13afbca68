# SPDX-License-Identifier: GPL-2.0
# Shared paths for the gomalloc harness scripts. Source it; do not run it.
# Everything cached lives under $GOM_CACHE, never inside the repository.

GOM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GOM_CACHE=${GOM_CACHE:-$HOME/.cache/gomalloc}
GOM_PY=/usr/bin/python3
export GOM_CACHE

# Kernel release of Debian's linux-headers-amd64 (e.g. 6.1.0-56-amd64).
gom_kver61() {
	local dep
	dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	      grep -o 'linux-headers-[0-9][^ ,]*-amd64' | head -1 || true)
	if [[ -z $dep ]]; then
		dep=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -1)
		dep=${dep##*/}
	fi
	echo "${dep#linux-headers-}"
}

GOM_KVER61=$(gom_kver61)
GOM_HDR61=/usr/src/linux-headers-$GOM_KVER61
GOM_STOCK_DIR=$GOM_CACHE/stock-$GOM_KVER61
GOM_STOCK_KERNEL=$GOM_STOCK_DIR/boot/vmlinuz-$GOM_KVER61

# 6.12 headers from bookworm-backports; path recorded by setup.sh.
gom_hdr612() {
	[[ -f $GOM_CACHE/headers-6.12.path ]] && cat "$GOM_CACHE/headers-6.12.path"
	return 0
}

# O= build dir of the debug kernel (scripts/build-kernel.sh).
gom_debug_kdir() {
	"$GOM_ROOT/scripts/build-kernel.sh" --print-dir
}

# Extracted linux-source tree that goes with the debug kernel.
gom_linux_src() {
	local d
	d=$(gom_debug_kdir)
	d=${d%/build}
	d=${d##*/kernel-}
	echo "$GOM_CACHE/linux-${d%-*}-src"
}

gom_log() { echo "${0##*/}: $*" >&2; }
gom_die() { echo "${0##*/}: ERROR: $*" >&2; exit 1; }
