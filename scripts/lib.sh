# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers for the gomalloc harness scripts. Source it; do not run it.
# Everything cached lives under $GOM_CACHE, never inside the repository.
#
# Nothing that scripts/setup.sh installs or downloads is looked up when this
# file is sourced: setup.sh records each kernel flavour it set up in
# $GOM_CACHE/kernels/<flavour>, and gom_kver, gom_headers and gom_kernel
# read that record when they are called. A script that runs setup.sh and
# then asks gets what setup.sh has just put in place.

GOM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GOM_CACHE=${GOM_CACHE:-$HOME/.cache/gomalloc}
# shellcheck disable=SC2034 # for the scripts that source this
GOM_PY=/usr/bin/python3
export GOM_CACHE

# Kernels the harness builds against and boots: Debian's current 6.1
# kernel (bookworm), and the newest 6.12 and 6.12-rt (PREEMPT_RT) kernels
# from bookworm-backports.
GOM_FLAVOURS=(6.1 6.12 6.12-rt)

gom_log() { echo "${0##*/}: $*" >&2; }
gom_err() { echo "${0##*/}: ERROR: $*" >&2; }
gom_die() { gom_err "$*"; exit 1; }

# gom_dur SECONDS: "42s", "3m05s", "1h02m"
gom_dur() {
	local s=$1
	if (( s < 60 )); then
		printf '%ds\n' "$s"
	elif (( s < 3600 )); then
		printf '%dm%02ds\n' $((s / 60)) $((s % 60))
	else
		printf '%dh%02dm\n' $((s / 3600)) $((s % 3600 / 60))
	fi
}

gom_is_flavour() {
	[[ " ${GOM_FLAVOURS[*]} " == *" $1 "* ]]
}

# gom_recorded FLAVOUR KEY: a value from setup.sh's record of FLAVOUR.
gom_recorded() {
	local fl=$1 key=$2 rec v
	if ! gom_is_flavour "$fl"; then
		gom_err "unknown kernel flavour '$fl' (known: ${GOM_FLAVOURS[*]})"
		return 2
	fi
	rec=$GOM_CACHE/kernels/$fl
	if [[ ! -f $rec ]]; then
		gom_err "the $fl kernel is not set up in $GOM_CACHE (no kernels/$fl): run scripts/setup.sh first"
		return 1
	fi
	v=$(sed -n "s/^$key=//p" "$rec" | tail -1)
	if [[ -z $v ]]; then
		gom_err "$rec has no $key=: run scripts/setup.sh again"
		return 1
	fi
	printf '%s\n' "$v"
}

# gom_kver FLAVOUR: kernel release, e.g. the ABI of linux-headers-amd64
gom_kver() { gom_recorded "$1" kver; }

# gom_headers FLAVOUR: the kernel build dir to pass to make -C for FLAVOUR
gom_headers() {
	local d
	d=$(gom_recorded "$1" headers) || return
	if [[ ! -f $d/Makefile ]]; then
		gom_err "the $1 headers $d are gone: run scripts/setup.sh again"
		return 1
	fi
	printf '%s\n' "$d"
}

# gom_kernel FLAVOUR: Debian's stock vmlinuz for FLAVOUR, unpacked in the cache
gom_kernel() {
	local k
	k=$(gom_recorded "$1" kernel) || return
	if [[ ! -f $k ]]; then
		gom_err "the $1 kernel image $k is gone: run scripts/setup.sh again"
		return 1
	fi
	printf '%s\n' "$k"
}

# gom_ready FLAVOUR: true if setup.sh has set FLAVOUR up and it is intact.
gom_ready() {
	gom_kernel "$1" >/dev/null 2>&1 && gom_headers "$1" >/dev/null 2>&1
}

# O= build dir of the debug kernel (scripts/build-kernel.sh).
gom_debug_kdir() {
	"$GOM_ROOT/scripts/build-kernel.sh" --print-dir
}

# gom_target KERNEL: for one of the flavours or "debug", set KDIR (the
# headers, or the debug kernel's build dir), KERNEL (the image to boot) and
# KVER (its release), running setup.sh first if it has not set it up.
gom_target() {
	if [[ $1 == debug ]]; then
		KDIR=$(gom_debug_kdir)
		KERNEL=$KDIR/arch/x86/boot/bzImage
		[[ -f $KERNEL && -f $KDIR/Module.symvers ]] ||
			"$GOM_ROOT/scripts/setup.sh"	# packages, source, kernel
		KVER="debug $(cat "$KDIR/include/config/kernel.release")"
		return
	fi
	gom_ready "$1" || "$GOM_ROOT/scripts/setup.sh" --no-kernel "$1"
	KVER=$(gom_kver "$1")
	KDIR=$(gom_headers "$1")
	KERNEL=$(gom_kernel "$1")
}

# gom_ticker_start WHAT [STATUS_CMD]: until gom_ticker_stop, print
# "<script>: WHAT: <elapsed>[, <STATUS_CMD's output>]" on stderr every
# $GOM_PROGRESS_EVERY seconds (default 30), so that long steps are not
# silent. The ticker also stops when the calling script exits.
gom_ticker_start() {
	local what=$1 status=${2:-} every=${GOM_PROGRESS_EVERY:-30} parent=$BASHPID
	(
		n=0
		while sleep 1; do
			kill -0 "$parent" 2>/dev/null || exit 0
			n=$((n + 1))
			(( n % every == 0 )) || continue
			msg="$what: $(gom_dur "$n")"
			if [[ -n $status ]]; then
				st=$(eval "$status" 2>/dev/null || true)
				[[ -n $st ]] && msg+=", $st"
			fi
			echo "${0##*/}: $msg" >&2
		done
	) >/dev/null &
	GOM_TICKER_PID=$!
}

gom_ticker_stop() {
	if [[ -n ${GOM_TICKER_PID:-} ]]; then
		kill "$GOM_TICKER_PID" 2>/dev/null || true
		wait "$GOM_TICKER_PID" 2>/dev/null || true
		GOM_TICKER_PID=
	fi
}

# gom_progress WHAT STATUS_CMD CMD...: run CMD with a ticker (see above);
# STATUS_CMD may be "" for elapsed time only. Returns CMD's status.
gom_progress() {
	local what=$1 status=$2 rc=0
	shift 2
	gom_ticker_start "$what" "$status"
	"$@" || rc=$?
	gom_ticker_stop
	return $rc
}
