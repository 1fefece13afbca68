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
