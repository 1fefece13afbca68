#!/usr/bin/env bash
# Every path that depends on what scripts/setup.sh installs is looked up
# after setup, never when scripts/lib.sh is sourced. Runs setup's real
# recording code against an empty cache in a temporary directory, with stub
# packages instead of downloads (a second or two, no network):
#
#   - before setup, gom_kver, gom_headers and gom_kernel fail for every
#     kernel flavour, saying to run scripts/setup.sh, and print no path;
#   - setup's 6.1 step (kver from linux-headers-amd64, image download,
#     unpack, record), including "Debian moved on": the image of the
#     installed ABI is gone, so it updates, upgrades linux-headers-amd64 and
#     fetches the new ABI's image;
#   - the newest 6.12 ABI is the newest one apt-cache shows, its record
#     read to the end (a reader that stops early fails under pipefail);
#   - setup's backports step for 6.12 and 6.12-rt: image and headers
#     unpacked into the cache, absolute paths in the headers turned into
#     paths inside the cache, recorded;
#   - afterwards the same functions, in the same shell that sourced lib.sh
#     with the cache empty, give the paths setup just recorded; they fail
#     again once a recorded file is gone;
#   - images that vm-run could not use (CONFIG_MODULE_SIG_FORCE=y, an rt
#     image without PREEMPT_RT) are refused;
#   - the backports archive comes from the machine's own apt sources;
#   - on this machine, if linux-headers-amd64 is installed, its ABI is
#     found and its headers exist.
#
# usage: scripts/test-setup-paths.sh
#   Prints "ok - ..." / "not ok - ..." lines, then "N passed, N failed,
#   N skipped"; exit 1 on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/gom-setup-paths.XXXXXX)
pass=0 fail=0 skip=0 finished=0
# An abort (set -e in the code under test, say) is a failure too.
trap 'rm -rf "$T"
      if (( ! finished )); then
	      echo "not ok - the test ran to its end"
	      echo "$pass passed, $((fail + 1)) failed, $skip skipped"
      fi' EXIT
export GOM_CACHE=$T/cache
export GOM_PROGRESS_EVERY=3600

# Sourced while the cache is empty, on purpose: whatever lib.sh computed
# now would be wrong after the recording below.
# shellcheck source=scripts/lib.sh
source "$HERE/lib.sh"

ok() { echo "ok - $*"; pass=$((pass + 1)); }
nok() { echo "not ok - $*"; fail=$((fail + 1)); }
check() {	# check WHAT CMD...
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}
eq() {	# eq WHAT GOT WANT
	if [[ $2 == "$3" ]]; then
		ok "$1"
	else
		nok "$1"
		echo "#   got:  '$2'"
		echo "#   want: '$3'"
	fi
}
# fails_cleanly FN ARG: fails, prints nothing on stdout, and its error
# names scripts/setup.sh
fails_cleanly() {
	local rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if (( rc == 0 )) || [[ -s $T/out ]] || ! grep -q 'scripts/setup.sh' "$T/err"; then
		echo "#   rc=$rc stdout='$(cat "$T/out")' stderr='$(cat "$T/err")'"
		return 1
	fi
}

# ---- before setup ----------------------------------------------------------

for fl in "${GOM_FLAVOURS[@]}"; do
	for fn in gom_kver gom_headers gom_kernel; do
		check "before setup: $fn $fl fails and says to run scripts/setup.sh" \
			fails_cleanly "$fn" "$fl"
	done
	check "before setup: gom_ready $fl is false" eval "! gom_ready $fl"
done
check "an unknown flavour is refused" eval '! gom_kernel 5.10 2>&1 | grep -q "unknown kernel flavour"'
check "sourcing lib.sh created nothing in the cache" test ! -e "$GOM_CACHE"

# ---- this machine's real answers (no downloads) ----------------------------

# shellcheck source=scripts/setup.sh
source "$HERE/setup.sh"	# functions only: main does not run when sourced
set +e
APT_LOG=$T/apt.log

if [[ $(dpkg-query -W -f='${db:Status-Status}' linux-headers-amd64 2>/dev/null) == installed ]]; then
	k=$(kver61)
	check "kver61: the installed linux-headers-amd64 names a 6.1 release ($k)" \
		grep -qxE '6\.1\.0-[0-9]+-amd64' <<<"$k"
	check "kver61: its headers are in $SYS_SRC/linux-headers-$k" \
		test -f "$SYS_SRC/linux-headers-$k/Makefile"
else
	echo "ok - kver61 on this machine # SKIP linux-headers-amd64 is not installed"
	skip=$((skip + 1))
fi
uri=$(system_sources | bpo_archive_uri)
check "this machine's apt sources name a $BPO_CODENAME archive (${uri:-none})" \
	test -n "$uri"

# ---- the backports archive URI ---------------------------------------------

eq "bpo_archive_uri: the entry whose suite is $BPO_CODENAME itself" \
	"$(printf '%s\n' 'http://a.example/debian-security/ bookworm-security' \
		'http://a.example/debian/ bookworm-updates' \
		'http://a.example/debian/ bookworm' \
		'http://b.example/debian/ bookworm' | bpo_archive_uri)" \
	"http://a.example/debian/"
eq "bpo_archive_uri: none without a $BPO_CODENAME entry" \
	"$(echo 'http://a.example/debian/ trixie' | bpo_archive_uri)" ""
(
	system_sources() { echo "http://a.example/debian/ trixie"; }
	bpo_update
) >/dev/null 2>"$T/err"
rc=$?
check "bpo_update without a $BPO_CODENAME source fails and says why" \
	eval "(( rc != 0 )) && grep -q 'apt sources' '$T/err'"
check "... without writing a sources.list" test ! -e "$BPO/sources.list"

# ---- stub packages ------------------------------------------------------

mkdir -p "$T/debs"
mkdeb() {	# mkdeb NAME: package $T/pkg/NAME into $T/debs/NAME.deb
	mkdir -p "$T/pkg/$1/DEBIAN"
	printf 'Package: %s\nVersion: 1\nArchitecture: all\nMaintainer: stub <stub@example.org>\nDescription: stub\n' \
		"$1" > "$T/pkg/$1/DEBIAN/control"
	dpkg-deb --root-owner-group -Znone --build "$T/pkg/$1" "$T/debs/$1.deb" >/dev/null
}
image() {	# image KVER [CONFIG_LINE...]: linux-image-KVER-unsigned
	local d=$T/pkg/linux-image-$1-unsigned/boot o
	mkdir -p "$d"
	echo "stub vmlinuz $1" > "$d/vmlinuz-$1"
	{
		for o in BLK_DEV_INITRD RD_GZIP DEVTMPFS SERIAL_8250_CONSOLE \
			 BINFMT_SCRIPT MODULES MODULE_UNLOAD; do
			echo "CONFIG_$o=y"
		done
		printf '%s\n' "${@:2}"
	} > "$d/config-$1"
	mkdeb "linux-image-$1-unsigned"
}
headers() {	# headers ABI ARCH COMMON: linux-headers-ABI-ARCH, its COMMON
	local abi=$1 arch=$2 common=$3 p
	p=$T/pkg/linux-headers-$abi-$arch
	mkdir -p "$p/usr/src/linux-headers-$abi-$arch" "$p/usr/lib/modules/$abi-$arch"
	echo "include /usr/src/linux-headers-$abi-$common/Makefile" \
		> "$p/usr/src/linux-headers-$abi-$arch/Makefile"
	ln -s "../../lib/linux-kbuild-$abi/scripts" "$p/usr/src/linux-headers-$abi-$arch/scripts"
	ln -s "/usr/src/linux-headers-$abi-$arch" "$p/usr/lib/modules/$abi-$arch/build"
	mkdeb "linux-headers-$abi-$arch"
	p=$T/pkg/linux-headers-$abi-$common
	if [[ ! -d $p ]]; then
		mkdir -p "$p/usr/src/linux-headers-$abi-$common"
		echo "KBUILD := /usr/lib/linux-kbuild-$abi" > "$p/usr/src/linux-headers-$abi-$common/Makefile"
		mkdeb "linux-headers-$abi-$common"
	fi
}
kbuild() {	# kbuild ABI
	mkdir -p "$T/pkg/linux-kbuild-$1/usr/lib/linux-kbuild-$1/scripts"
	echo stub > "$T/pkg/linux-kbuild-$1/usr/lib/linux-kbuild-$1/scripts/stub"
	mkdeb "linux-kbuild-$1"
}

# Stubs for what talks to apt: "downloads" copy from $T/debs.
apt_update_once() { echo update >> "$T/calls"; }
download() {	# DIR APT PKG...
	local dir=$1 p
	shift 2
	for p in "$@"; do
		if [[ -f $T/debs/$p.deb ]]; then
			cp "$T/debs/$p.deb" "$dir/"
			ls "$dir/$p.deb"
			return 0
		fi
	done
	return 1
}

# ---- 6.1, with "Debian moved on" --------------------------------------------

OLD=6.1.0-stubold-amd64
NEW=6.1.0-stubnew-amd64
SYS_SRC=$T/usr/src
mkdir -p "$SYS_SRC/linux-headers-$OLD" "$SYS_SRC/linux-headers-$NEW"
touch "$SYS_SRC/linux-headers-$OLD/Makefile" "$SYS_SRC/linux-headers-$NEW/Makefile"
image "$NEW"			# the archive has only the new ABI's image
echo "$OLD" > "$T/kver61"
kver61() { cat "$T/kver61"; }
upgrade_headers61() { echo upgrade >> "$T/calls"; echo "$NEW" > "$T/kver61"; }
mkdir -p "$GOM_CACHE"
(setup_61) > "$T/log" 2>&1
rc=$?
check "setup_61 succeeds when the installed ABI's image is gone" test $rc -eq 0
(( rc == 0 )) || sed 's/^/#   /' "$T/log"
eq "... after apt-get update and upgrading linux-headers-amd64" \
	"$(tr '\n' ' ' < "$T/calls")" "update upgrade "
eq "gom_kver 6.1 after setup (same shell as before)" "$(gom_kver 6.1)" "$NEW"
eq "gom_kernel 6.1 after setup" "$(gom_kernel 6.1)" \
	"$GOM_CACHE/stock-$NEW/boot/vmlinuz-$NEW"
eq "gom_headers 6.1 after setup" "$(gom_headers 6.1)" "$SYS_SRC/linux-headers-$NEW"
eq "the recorded kernel is the package's" "$(cat "$(gom_kernel 6.1)")" "stub vmlinuz $NEW"
check "gom_ready 6.1 after setup" gom_ready 6.1
rm -f "$T/calls"
(setup_61) > "$T/log" 2>&1
rc=$?
check "setup_61 again: nothing to fetch, no apt-get update" \
	eval "[[ $rc == 0 && ! -e $T/calls ]]"

# ---- the newest 6.12 ABI, from apt-cache's answers --------------------------

# apt-cache stubs: two ABIs (6.12.10 has no record, as when the index lists
# a package it cannot show), each record far larger than a pipe's buffer,
# so that a reader that stops at "Version:" makes the writer die of SIGPIPE
newest=$(
	bpo_apt() {
		case "$1 $2" in
		"apt-cache pkgnames")
			printf 'linux-headers-6.12.%s\n' 9+deb12-amd64 \
				10+deb12-amd64 9+deb12-common 9+deb12-rt-amd64 ;;
		"apt-cache show")
			[[ $4 == linux-headers-6.12.9+deb12-amd64 ]] || return 100
			echo "Package: $4"
			echo "Version: 6.12.9-1~bpo12+1"
			for ((i = 0; i < 20000; i++)); do
				echo "Description-md5: 0123456789abcdef0123456789abcdef"
			done ;;
		*) return 1 ;;
		esac
	}
	bpo_newest
)
eq "bpo_newest: the newest ABI that apt-cache shows, its whole record read" \
	"$newest" "6.12.9+deb12"

# ---- 6.12 and 6.12-rt from backports ---------------------------------------

ABI=6.12.0+stub
image "$ABI-amd64"
image "$ABI-rt-amd64" CONFIG_PREEMPT_RT=y
headers "$ABI" amd64 common
headers "$ABI" rt-amd64 common-rt
kbuild "$ABI"
bpo_update() { echo bpo-update >> "$T/calls"; }
bpo_newest() { echo "$ABI"; }
bpo_apt() {	# the two uses fetch_headers makes of it
	case "$1 $2" in
	"apt-cache show")
		local arch=${4#linux-headers-"$ABI"-} common=common
		[[ $arch == rt-* ]] && common="common-rt"
		echo "Version: 1"
		echo "Depends: linux-base (>= 4.12~), linux-headers-$ABI-$common (= 1), linux-image-$ABI-$arch (= 1) | linux-image-$ABI-$arch-unsigned (= 1), linux-kbuild-$ABI, gcc-12"
		;;
	"apt-get download") cp "$T/debs/$4.deb" . ;;
	*) return 1 ;;
	esac
}
(setup_612 6.12 6.12-rt) > "$T/log" 2>&1
rc=$?
check "setup_612 6.12 6.12-rt succeeds" test $rc -eq 0
(( rc == 0 )) || sed 's/^/#   /' "$T/log"
for fl in 6.12 6.12-rt; do
	arch=amd64
	[[ $fl == *-rt ]] && arch=rt-amd64
	k=$ABI-$arch
	root=$GOM_CACHE/headers-$k
	eq "gom_kver $fl after setup" "$(gom_kver "$fl")" "$k"
	eq "gom_kernel $fl after setup" "$(gom_kernel "$fl")" "$GOM_CACHE/stock-$k/boot/vmlinuz-$k"
	eq "gom_headers $fl after setup" "$(gom_headers "$fl")" "$root/usr/src/linux-headers-$k"
	h=$(gom_headers "$fl")
	inc=$(sed -n 's/^include //p' "$h/Makefile")
	check "$fl headers: the Makefile includes a file inside the cache ($inc)" \
		eval "[[ \$inc == $root/* && -f \$inc ]]"
	check "$fl headers: scripts/ reaches linux-kbuild" test -f "$h/scripts/stub"
	check "$fl headers: absolute symlinks point inside the cache" \
		test "$(readlink -f "$root/usr/lib/modules/$k/build")" = "$h"
done
check "6.12-rt is a different kernel from 6.12" \
	test "$(gom_kernel 6.12)" != "$(gom_kernel 6.12-rt)"

# ---- images the harness cannot use ---------------------------------------

image 6.12.0+sig-amd64 CONFIG_MODULE_SIG_FORCE=y
unpack_image 6.12.0+sig-amd64 "$T/debs/linux-image-6.12.0+sig-amd64-unsigned.deb"
(check_image 6.12 6.12.0+sig-amd64) > /dev/null 2> "$T/err"
rc=$?
check "an image with CONFIG_MODULE_SIG_FORCE=y is refused" \
	eval "[[ $rc != 0 ]] && grep -q MODULE_SIG_FORCE '$T/err'"
(check_image 6.12-rt "$ABI-amd64") > /dev/null 2> "$T/err"
rc=$?
check "6.12-rt: an image without CONFIG_PREEMPT_RT=y is refused" \
	eval "[[ $rc != 0 ]] && grep -q PREEMPT_RT '$T/err'"

# ---- lookups fail cleanly once a recorded file is gone ---------------------

rm -f "$GOM_CACHE/stock-$ABI-rt-amd64/boot/vmlinuz-$ABI-rt-amd64"
check "gom_kernel 6.12-rt fails once the image is gone" fails_cleanly gom_kernel 6.12-rt
check "gom_ready 6.12-rt is false then" eval '! gom_ready 6.12-rt'
rm -rf "$SYS_SRC/linux-headers-$NEW"
check "gom_headers 6.1 fails once the headers are gone" fails_cleanly gom_headers 6.1

# ---- nothing is computed at source time any more ---------------------------

check "no script uses the old source-time globals (GOM_KVER61, GOM_HDR61, GOM_STOCK_*)" \
	eval "! grep -rnE 'GOM_(KVER61|HDR61|STOCK_DIR|STOCK_KERNEL)' '$HERE' --exclude=test-setup-paths.sh"

finished=1
echo "$pass passed, $fail failed, $skip skipped"
(( fail == 0 ))
