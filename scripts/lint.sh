#!/usr/bin/env bash
# Static checks with the tools from Debian's linux-source-6.1 tree.
#
# usage: scripts/lint.sh
#   checkpatch.pl --strict --no-tree -f   every .c/.h in mod/ include/ kunit/
#                                         samples/ bench/ (any ERROR, WARNING
#                                         or CHECK fails)
#   kernel-doc -none -Werror              include/*.h mod/*.c
#   get_abi.pl validate                   Documentation/ABI
#   Prints "lint: ok|FAIL|skip: <what>" lines and exits non-zero on a failure.
set -euo pipefail

[[ $# -eq 0 ]] || { echo "usage: $0" >&2; exit 2; }
source "$(dirname "$0")/lib.sh"
SRC=$("$GOM_ROOT/scripts/build-kernel.sh" --extract-only | tail -1)
cd "$GOM_ROOT"

fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

mapfile -t CFILES < <(find mod include kunit samples bench -maxdepth 2 \
	-name '*.[ch]' ! -name '*.mod.c' | sort)
(( ${#CFILES[@]} )) || gom_die "no .c/.h files in mod/ include/ kunit/ samples/ bench/"
# one run over all files: perl and checkpatch's setup start once
"$SRC/scripts/checkpatch.pl" --strict --no-tree --no-summary --terse \
	--show-types -f "${CFILES[@]}" >"$tmp" 2>&1 || true
bad=$({ grep -E '(ERROR|WARNING|CHECK):' "$tmp" || true; } | cut -d: -f1 | sort -u | wc -l)
grep -E '(ERROR|WARNING|CHECK):' "$tmp" | sed 's/^/lint:   /' || true
if (( bad )); then
	echo "lint: FAIL: checkpatch: $bad of ${#CFILES[@]} file(s) with findings"
	fail=1
else
	echo "lint: ok: checkpatch --strict (${#CFILES[@]} files)"
fi

DFILES=(include/*.h mod/*.c)
rc=0
"$SRC/scripts/kernel-doc" -none -Werror "${DFILES[@]}" >"$tmp" 2>&1 || rc=$?
if (( rc )) || grep -qi 'warning\|error' "$tmp"; then
	sed 's/^/lint:   /' "$tmp" | head -50
	echo "lint: FAIL: kernel-doc"
	fail=1
else
	echo "lint: ok: kernel-doc (${#DFILES[@]} files)"
fi

rc=0
"$SRC/scripts/get_abi.pl" validate --dir Documentation/ABI >"$tmp" 2>&1 || rc=$?
if (( rc )) || grep -qi 'warning\|error' "$tmp"; then
	sed 's/^/lint:   /' "$tmp" | head -50
	echo "lint: FAIL: get_abi.pl validate"
	fail=1
else
	echo "lint: ok: get_abi.pl validate Documentation/ABI"
fi

exit $fail
