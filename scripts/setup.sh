#!/usr/bin/env bash
# Install and fetch everything the gomalloc harness needs. Idempotent: a rerun
# on a set-up machine only checks and returns within seconds.
#
# usage: scripts/setup.sh [--no-kernel]
#   apt packages      installed if missing (apt-get update only when needed)
#   stock kernel      Debian's vmlinuz matching linux-headers-amd64, unpacked
#                     into $GOM_CACHE/stock-<kver>/
#   6.12 headers      from bookworm-backports via a private, temporary apt
#                     configuration (system sources are not changed), unpacked
#                     into $GOM_CACHE/bpo-6.12/
#   debug kernel      scripts/build-kernel.sh (skipped with --no-kernel)
set -euo pipefail

usage() { echo "usage: $0 [--no-kernel]" >&2; exit 2; }
BUILD_KERNEL=1
for a in "$@"; do
	case $a in
	--no-kernel) BUILD_KERNEL=0 ;;
	*) usage ;;
	esac
done

source "$(dirname "$0")/lib.sh"
mkdir -p "$GOM_CACHE"

SUDO=
if (( EUID != 0 )); then SUDO=sudo; fi

PKGS=(make gcc perl python3 gzip cpio xz-utils bc bison flex libelf-dev
      libssl-dev dwarves kmod dkms rsync qemu-system-x86 busybox-static
      linux-headers-amd64 linux-source-6.1)

APT_UPDATED=0
apt_update_once() {
	if (( ! APT_UPDATED )); then
		gom_log "apt-get update"
		$SUDO apt-get update -qq
		APT_UPDATED=1
	fi
}

install_packages() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
			missing+=("$p")
		fi
	done
	if (( ${#missing[@]} == 0 )); then
		gom_log "apt packages: all present"
		return
	fi
	gom_log "installing: ${missing[*]}"
	if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"; then
		apt_update_once
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}"
	fi
}

# apt-get download into $1, retrying once after apt-get update.
apt_download() {
	local dir=$1; shift
	(cd "$dir" && apt-get download -qq "$@") && return 0
	apt_update_once
	(cd "$dir" && apt-get download -qq "$@")
}

fetch_stock_kernel() {
	local kver=$GOM_KVER61
	if [[ -f $GOM_STOCK_KERNEL ]]; then
		gom_log "stock kernel: $GOM_STOCK_KERNEL"
		return
	fi
	[[ -n $kver ]] || gom_die "cannot tell the linux-headers-amd64 kernel release"
	local tmp pkg
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	for pkg in linux-image-$kver-unsigned linux-image-$kver; do
		if apt_download "$tmp" "$pkg" 2>/dev/null; then
			break
		fi
	done
	ls "$tmp"/linux-image-*.deb >/dev/null 2>&1 ||
		gom_die "could not download linux-image-$kver(-unsigned)"
	rm -rf "$GOM_STOCK_DIR.tmp"
	mkdir -p "$GOM_STOCK_DIR.tmp"
	dpkg -x "$tmp"/linux-image-*.deb "$GOM_STOCK_DIR.tmp"
	rm -rf "$GOM_STOCK_DIR"
	mv "$GOM_STOCK_DIR.tmp" "$GOM_STOCK_DIR"
	[[ -f $GOM_STOCK_KERNEL ]] || gom_die "no $GOM_STOCK_KERNEL in the package"
	gom_log "stock kernel: $GOM_STOCK_KERNEL"
}

# bookworm-backports through a private apt configuration.
BPO=$GOM_CACHE/bpo-6.12
bpo_apt() {
	local tool=$1; shift
	"$tool" -o Dir::Etc::SourceList="$BPO/apt/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$BPO/apt/lists" \
		-o Dir::Cache="$BPO/apt/cache" \
		-o Dir::State::status=/dev/null \
		-o APT::Get::List-Cleanup=0 \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

fetch_headers_612() {
	local cur
	cur=$(gom_hdr612)
	if [[ -n $cur && -f $cur/Makefile && -f $cur/.gomalloc-ok ]]; then
		gom_log "6.12 headers: $cur"
		return
	fi
	mkdir -p "$BPO/apt/lists/partial" "$BPO/apt/cache/archives/partial" "$BPO/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" \
		> "$BPO/apt/sources.list"
	gom_log "6.12 headers: reading bookworm-backports index"
	bpo_apt apt-get update -qq
	local hdr
	hdr=$(bpo_apt apt-cache pkgnames linux-headers-6.12 |
	      { grep -E '^linux-headers-6\.12\.[0-9]+\+[a-z0-9]+-amd64$' || true; } |
	      sort -V | tail -1)
	[[ -n $hdr ]] || gom_die "no linux-headers-6.12.*-amd64 in bookworm-backports"
	local deps common kbuild
	deps=$(bpo_apt apt-cache show "$hdr" | sed -n 's/^Depends: //p' | head -1)
	common=$(grep -o 'linux-headers-6\.12[^ ,]*-common' <<<"$deps" | head -1 || true)
	kbuild=$(grep -o 'linux-kbuild-6\.12[^ ,]*' <<<"$deps" | head -1 || true)
	[[ -n $common && -n $kbuild ]] || gom_die "cannot parse Depends of $hdr: $deps"
	gom_log "6.12 headers: downloading $hdr $common $kbuild"
	rm -f "$BPO"/debs/*.deb
	(cd "$BPO/debs" && bpo_apt apt-get download -qq "$hdr" "$common" "$kbuild")
	rm -rf "$BPO/root"
	mkdir -p "$BPO/root"
	local d
	for d in "$BPO"/debs/*.deb; do
		dpkg -x "$d" "$BPO/root"
	done
	local dir=$BPO/root/usr/src/$hdr
	[[ -d $dir ]] || gom_die "$dir missing after unpacking"
	# Turn absolute paths/symlinks into paths inside $BPO/root.
	local l t
	while IFS= read -r l; do
		t=$(readlink "$l")
		if [[ $t == /* ]]; then
			ln -sfn "$BPO/root$t" "$l"
		fi
	done < <(find "$BPO/root" -type l)
	{ grep -rlE '/usr/(src|lib)/linux-' "$dir" --include=Makefile -s || true; } |
	while IFS= read -r f; do
		sed -i -E "s@([^/a-zA-Z0-9_.]|^)/usr/(src|lib)/linux-@\1$BPO/root/usr/\2/linux-@g" "$f"
	done
	touch "$dir/.gomalloc-ok"
	echo "$dir" > "$GOM_CACHE/headers-6.12.path"
	gom_log "6.12 headers: $dir"
}

install_packages
fetch_stock_kernel
fetch_headers_612
if (( BUILD_KERNEL )); then
	"$GOM_ROOT/scripts/build-kernel.sh"
fi
gom_log "setup complete"
