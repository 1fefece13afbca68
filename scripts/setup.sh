#!/usr/bin/env bash
# Install and fetch everything the gomalloc harness needs. Idempotent: a rerun
# on a set-up machine only checks and returns within seconds.
#
# usage: scripts/setup.sh [--no-kernel] [--update] [FLAVOUR...]
#   FLAVOUR is 6.1, 6.12 or 6.12-rt (default: all three):
#   6.1          Debian's current 6.1 kernel: the release that the installed
#                linux-headers-amd64 depends on, its headers from that
#                package, and the stock image (linux-image-<kver>-unsigned)
#                unpacked into $GOM_CACHE/stock-<kver>/. When Debian no
#                longer has that image, apt-get update, upgrade
#                linux-headers-amd64 and try again.
#   6.12         the newest 6.12 amd64 kernel in bookworm-backports: image
#                into $GOM_CACHE/stock-<kver>/, headers (with -common and
#                linux-kbuild) into $GOM_CACHE/headers-<kver>/
#   6.12-rt      the same for the rt-amd64 (PREEMPT_RT) kernel
#   Backports come through a private apt configuration in
#   $GOM_CACHE/apt-backports/ (the system's sources are not changed), from
#   the archive the machine's own apt sources use for bookworm.
#   Each flavour set up is recorded in $GOM_CACHE/kernels/<flavour>;
#   scripts read it with gom_kver, gom_headers and gom_kernel (scripts/lib.sh).
#
#   apt packages  installed if missing (apt-get update only when needed;
#                 the output goes to $GOM_CACHE/setup-apt.log)
#   debug kernel  scripts/build-kernel.sh from linux-source-6.1 (not with
#                 --no-kernel)
#   --update      apt-get update first and move every flavour to Debian's
#                 current kernel, even if an older one is set up
#
# The functions can be sourced without running anything
# (scripts/test-setup-paths.sh does, with stub packages).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUDO=
if (( EUID != 0 )); then SUDO=sudo; fi

PKGS=(make gcc perl python3 gzip cpio xz-utils bc bison flex libelf-dev
      libssl-dev dwarves kmod dkms rsync qemu-system-x86 busybox-static
      linux-headers-amd64 debian-archive-keyring)
SYS_SRC=/usr/src	# where Debian's linux-headers packages install
BPO_CODENAME=bookworm
BPO_SUITE=bookworm-backports
BPO=$GOM_CACHE/apt-backports
APT_LOG=$GOM_CACHE/setup-apt.log

UPDATE=0	# --update
APT_UPDATED=0
apt_update_once() {
	if (( ! APT_UPDATED )); then
		gom_log "apt-get update"
		$SUDO apt-get update -qq >>"$APT_LOG" 2>&1 ||
			gom_die "apt-get update failed (log: $APT_LOG)"
		APT_UPDATED=1
	fi
}

apt_install() {	# apt_install PKG...: install or upgrade, output to $APT_LOG
	local rc=0
	gom_ticker_start "installing $*"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$@" >>"$APT_LOG" 2>&1 || rc=$?
	gom_ticker_stop
	return $rc
}

install_packages() {	# install_packages PKG...: those not installed yet
	local missing=() p
	for p in "$@"; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
			missing+=("$p")
		fi
	done
	if (( ${#missing[@]} == 0 )); then
		gom_log "apt packages: all present"
		return
	fi
	gom_log "installing: ${missing[*]} (log: $APT_LOG)"
	if ! apt_install "${missing[@]}"; then
		apt_update_once
		apt_install "${missing[@]}" || {
			tail -20 "$APT_LOG" >&2
			gom_die "apt-get install ${missing[*]} failed (log: $APT_LOG)"
		}
	fi
}

# ---- stock kernel images ---------------------------------------------------

stock_dir() { echo "$GOM_CACHE/stock-$1"; }

# unpack_image KVER DEB: boot/ of a linux-image package into stock-KVER/
unpack_image() {
	local kver=$1 deb=$2 dir
	dir=$(stock_dir "$kver")
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir.tmp" ./boot
	if [[ ! -f $dir.tmp/boot/vmlinuz-$kver || ! -f $dir.tmp/boot/config-$kver ]]; then
		rm -rf "$dir.tmp"
		gom_die "$(basename "$deb") has no boot/vmlinuz-$kver and boot/config-$kver"
	fi
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}

# download DIR APT PKG...: the first PKG that APT (apt-get, or bpo_apt
# apt-get) can download into DIR; prints its .deb. Fails if none can.
download() {
	local dir=$1 apt=$2 p
	shift 2
	for p in "$@"; do
		rm -f "$dir"/*.deb
		gom_ticker_start "downloading $p" "du -sh $(printf %q "$dir") | cut -f1"
		(cd "$dir" && $apt apt-get download -qq "$p") >>"$APT_LOG" 2>&1 && break
		gom_ticker_stop
	done
	gom_ticker_stop
	ls "$dir"/*.deb 2>/dev/null
}

# fetch_image KVER APT: Debian's image for KVER into stock-KVER/ (cached).
fetch_image() {
	local kver=$1 apt=$2 dir tmp deb
	dir=$(stock_dir "$kver")
	[[ -f $dir/boot/vmlinuz-$kver && -f $dir/boot/config-$kver ]] && return 0
	gom_log "downloading Debian's linux-image-$kver"
	tmp=$(mktemp -d "$GOM_CACHE/download.XXXXXX")
	if deb=$(download "$tmp" "$apt" "linux-image-$kver-unsigned" "linux-image-$kver"); then
		unpack_image "$kver" "$deb"
		rm -rf "$tmp"
		return 0
	fi
	rm -rf "$tmp"
	return 1
}

# check_image FLAVOUR KVER: the image boots under scripts/vm-run and loads
# modules built here.
check_image() {
	local fl=$1 kver=$2 cfg opt bad=0
	local opts=(CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_DEVTMPFS
		    CONFIG_SERIAL_8250_CONSOLE CONFIG_BINFMT_SCRIPT CONFIG_MODULES
		    CONFIG_MODULE_UNLOAD)
	[[ $fl == *-rt ]] && opts+=(CONFIG_PREEMPT_RT)
	cfg=$(stock_dir "$kver")/boot/config-$kver
	for opt in "${opts[@]}"; do
		if ! grep -q "^$opt=y" "$cfg"; then
			gom_err "$cfg: $opt is not y; scripts/vm-run needs it"
			bad=1
		fi
	done
	if grep -q '^CONFIG_MODULE_SIG_FORCE=y' "$cfg"; then
		gom_err "$cfg: CONFIG_MODULE_SIG_FORCE=y: it would refuse gomalloc's unsigned modules"
		bad=1
	fi
	(( ! bad )) || gom_die "Debian's $kver kernel cannot run the harness"
}

# record_flavour FLAVOUR KVER HEADERS: what scripts/lib.sh reads back.
record_flavour() {
	local fl=$1 kver=$2 hdr=$3 kernel rec
	kernel=$(stock_dir "$kver")/boot/vmlinuz-$kver
	[[ -f $kernel ]] || gom_die "record $fl: no $kernel"
	[[ -f $hdr/Makefile ]] || gom_die "record $fl: no $hdr/Makefile"
	rec=$GOM_CACHE/kernels/$fl
	mkdir -p "${rec%/*}"
	printf 'kver=%s\nheaders=%s\nkernel=%s\nconfig=%s\n' "$kver" "$hdr" \
		"$kernel" "$(stock_dir "$kver")/boot/config-$kver" > "$rec.tmp"
	mv "$rec.tmp" "$rec"
	gom_log "$fl: Debian $kver: kernel $kernel, headers $hdr"
}

# ---- 6.1: Debian's current kernel -----------------------------------------

# kver61: the release the installed linux-headers-amd64 depends on.
kver61() {
	dpkg-query -W -f='${db:Status-Status} ${Depends}\n' linux-headers-amd64 2>/dev/null |
		sed -n 's/^installed .*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p' | head -1
}

# Debian moved on: the archive has a newer linux-headers-amd64.
upgrade_headers61() {
	apt_update_once
	gom_log "6.1: upgrading linux-headers-amd64 (log: $APT_LOG)"
	apt_install linux-headers-amd64 || gom_die "cannot upgrade linux-headers-amd64 (log: $APT_LOG)"
}

setup_61() {
	local kver try
	(( UPDATE )) && upgrade_headers61
	for try in 1 2 3; do
		kver=$(kver61)
		[[ -n $kver ]] || gom_die "linux-headers-amd64 is not installed: cannot tell Debian's current 6.1 kernel"
		fetch_image "$kver" "" && break
		case $try in
		1) gom_log "6.1: cannot download linux-image-$kver: reading the archive again"
		   apt_update_once ;;
		2) gom_log "6.1: Debian no longer has linux-image-$kver"
		   upgrade_headers61 ;;
		3) gom_die "cannot download Debian's linux-image-$kver(-unsigned) (log: $APT_LOG)" ;;
		esac
	done
	check_image 6.1 "$kver"
	record_flavour 6.1 "$kver" "$SYS_SRC/linux-headers-$kver"
}

# ---- 6.12 and 6.12-rt from bookworm-backports ------------------------------

# bpo_archive_uri: from "URI SUITE" lines (the machine's apt sources) on
# stdin, the URI whose suite is $BPO_CODENAME itself.
bpo_archive_uri() {
	awk -v s="$BPO_CODENAME" '$2 == s { print $1; exit }'
}

system_sources() {	# "URI SUITE" for every deb source apt knows about
	# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
	apt-get indextargets --no-release-info \
		--format '$(TARGET_OF) $(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk '$1 == "deb" { print $2, $3 }'
}

bpo_apt() {
	local tool=$1
	shift
	"$tool" -o Dir::Etc::SourceList="$BPO/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$BPO/lists" \
		-o Dir::Cache="$BPO/cache" \
		-o Dir::State::status=/dev/null \
		-o APT::Get::List-Cleanup=0 \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

BPO_UPDATED=0
bpo_update_once() { (( BPO_UPDATED )) || bpo_update; }

bpo_update() {
	local uri key=/usr/share/keyrings/debian-archive-keyring.gpg opt=
	uri=$(system_sources | bpo_archive_uri)
	[[ -n $uri ]] || gom_die "no '$BPO_CODENAME' entry in this machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/): cannot tell where to get $BPO_SUITE from"
	[[ -f $key ]] && opt="[signed-by=$key] "
	mkdir -p "$BPO/lists/partial" "$BPO/cache/archives/partial"
	echo "deb $opt$uri $BPO_SUITE main" > "$BPO/sources.list"
	gom_log "reading the $BPO_SUITE index ($uri)"
	gom_ticker_start "apt-get update ($BPO_SUITE)"
	bpo_apt apt-get update -qq >>"$APT_LOG" 2>&1 ||
		gom_die "apt-get update for $BPO_SUITE failed (log: $APT_LOG)"
	gom_ticker_stop
	BPO_UPDATED=1
}

# bpo_newest: newest 6.12 ABI with amd64 headers, e.g. 6.12.95+deb12.
# No reader here stops before its writer is done (grep -q, a loop left
# early): under pipefail the writer's SIGPIPE would fail the pipeline,
# as it did now and then on a fresh cache, where setup then found no
# 6.12 kernel at all.
bpo_newest() {
	local p abis
	abis=$(bpo_apt apt-cache pkgnames linux-headers-6.12. |
	       sed -n 's/^linux-headers-\(6\.12\.[0-9][^-]*\)-amd64$/\1/p' |
	       sort -rV)
	for p in $abis; do
		if bpo_apt apt-cache show --no-all-versions "linux-headers-$p-amd64" 2>/dev/null |
		   grep '^Version:' >/dev/null; then
			echo "$p"
			return 0
		fi
	done
}

# unpack_headers KVER DEB...: linux-headers-KVER with its -common and
# linux-kbuild packages into headers-KVER/, absolute paths made to point
# inside it. Prints the headers dir.
unpack_headers() {
	local kver=$1 root tmp d l t f
	shift
	root=$GOM_CACHE/headers-$kver
	tmp=$root.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for d in "$@"; do
		dpkg -x "$d" "$tmp"
	done
	[[ -f $tmp/usr/src/linux-headers-$kver/Makefile ]] ||
		gom_die "no usr/src/linux-headers-$kver/Makefile in $*"
	while IFS= read -r l; do
		t=$(readlink "$l")
		if [[ $t == /* ]]; then
			ln -sfn "$root$t" "$l"
		fi
	done < <(find "$tmp" -type l)
	{ grep -rlE '/usr/(src|lib)/linux-' "$tmp/usr/src" --include=Makefile -s || true; } |
	while IFS= read -r f; do
		sed -i -E "s@([^/a-zA-Z0-9_.]|^)/usr/(src|lib)/linux-@\1$root/usr/\2/linux-@g" "$f"
	done
	rm -rf "$root"
	mv "$tmp" "$root"
	echo "$root/usr/src/linux-headers-$kver"
}

# fetch_headers KVER: from backports, cached; prints the headers dir.
fetch_headers() {
	local kver=$1 hdr deps want=() tmp d
	hdr=$GOM_CACHE/headers-$kver/usr/src/linux-headers-$kver
	if [[ -f $hdr/Makefile ]]; then
		echo "$hdr"
		return 0
	fi
	deps=$(bpo_apt apt-cache show --no-all-versions "linux-headers-$kver" 2>/dev/null |
	       sed -n 's/^Depends: //p' | head -1)
	# first alternative of each dependency, without its version
	for d in $(tr ',' '\n' <<<"$deps" | sed -E 's/^ *//; s/[ |(].*//'); do
		case $d in
		linux-headers-*-common|linux-headers-*-common-rt|linux-kbuild-*) want+=("$d") ;;
		esac
	done
	(( ${#want[@]} == 2 )) ||
		{ gom_err "cannot find -common and linux-kbuild in Depends of linux-headers-$kver: $deps"; return 1; }
	gom_log "downloading linux-headers-$kver ${want[*]}"
	tmp=$(mktemp -d "$GOM_CACHE/download.XXXXXX")
	for d in "linux-headers-$kver" "${want[@]}"; do
		if ! (cd "$tmp" && bpo_apt apt-get download -qq "$d") >>"$APT_LOG" 2>&1; then
			rm -rf "$tmp"
			gom_err "cannot download $d (log: $APT_LOG)"
			return 1
		fi
	done
	hdr=$(unpack_headers "$kver" "$tmp"/*.deb) || { rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
	echo "$hdr"
}

flavour_arch() {	# kernel flavour -> Debian's flavour suffix
	case $1 in
	6.12) echo amd64 ;;
	6.12-rt) echo rt-amd64 ;;
	*) gom_die "no backports flavour $1" ;;
	esac
}

setup_612() {	# setup_612 FLAVOUR...
	local need=() fl abi kver hdr try
	for fl in "$@"; do
		if (( ! UPDATE )) && gom_ready "$fl"; then
			gom_log "$fl: Debian $(gom_kver "$fl") (set up already)"
		else
			need+=("$fl")
		fi
	done
	(( ${#need[@]} )) || return 0
	for fl in "${need[@]}"; do
		for try in 1 2; do
			# read the index again on the second try: the archive may
			# have moved on since
			if (( try == 1 )); then bpo_update_once; else bpo_update; fi
			abi=$(bpo_newest)
			[[ -n $abi ]] || gom_die "no linux-headers-6.12.*-amd64 in $BPO_SUITE"
			kver=$abi-$(flavour_arch "$fl")
			if fetch_image "$kver" bpo_apt && hdr=$(fetch_headers "$kver"); then
				break
			fi
			(( try == 1 )) || gom_die "cannot fetch Debian's $kver kernel from $BPO_SUITE (log: $APT_LOG)"
		done
		check_image "$fl" "$kver"
		record_flavour "$fl" "$kver" "$hdr"
	done
}

main() {
	local build_kernel=1 fl flavours=() a
	UPDATE=0
	for a in "$@"; do
		case $a in
		--no-kernel) build_kernel=0 ;;
		--update) UPDATE=1 ;;
		-*) echo "usage: $0 [--no-kernel] [--update] [${GOM_FLAVOURS[*]}]" >&2; exit 2 ;;
		*) gom_is_flavour "$a" || gom_die "unknown kernel flavour $a (known: ${GOM_FLAVOURS[*]})"
		   flavours+=("$a") ;;
		esac
	done
	(( ${#flavours[@]} )) || flavours=("${GOM_FLAVOURS[@]}")
	mkdir -p "$GOM_CACHE"
	# one setup at a time per cache: make demo and make check may overlap
	exec 7>"$GOM_CACHE/.setup.lock"
	if ! flock -n 7; then
		gom_log "waiting for another setup.sh using $GOM_CACHE"
		flock 7
	fi

	local pkgs=("${PKGS[@]}")
	(( build_kernel )) && pkgs+=(linux-source-6.1)
	(( UPDATE )) && apt_update_once
	install_packages "${pkgs[@]}"
	local bpo=()
	for fl in "${flavours[@]}"; do
		case $fl in
		6.1) setup_61 ;;
		*) bpo+=("$fl") ;;
		esac
	done
	(( ${#bpo[@]} == 0 )) || setup_612 "${bpo[@]}"
	if (( build_kernel )); then
		"$GOM_ROOT/scripts/build-kernel.sh"
	fi
	gom_log "setup complete"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
