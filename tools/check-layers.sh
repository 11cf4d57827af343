#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tools/check-layers.sh - no file includes a header of a higher layer.
#
# The layers, bottom up (docs/architecture.md, "Layers"):
#
#   sync = lib < core < mm < gup < hmm < drivers = fs < check < tools
#
# A file under src/ belongs to the layer its directory names (src/core/...
# is core); a public header under include/zonedev/ to the layer the table
# below gives it (include/zonedev/sync/ is sync), i.e. the layer of the
# code it declares. A file may include headers of its own layer and of the
# layers below; an include of a higher layer is reported as file:line and
# fails the check. So does a directory of src/ or a public header that the
# check does not place: a new header must be given its layer here.
#
# Usage: tools/check-layers.sh [ROOT]     check the tree at ROOT (default:
#                                         the tree this script is in)
#        tools/check-layers.sh --self-test plant violations in a copy of
#                                         the tree and make sure each fails
# Exit status: 0 clean, 1 a violation, 2 a usage error.
set -eu
set -f	# file and header names are split on blanks, never globbed

# Ranks: equal ranks may include each other. lib/ (the kernel's lib/:
# the xarray) depends on nothing of ours, like sync/; drivers and fs do not
# depend on each other today, but neither sits above the other.
rank() {
	case "$1" in
	sync | lib) echo 0 ;;
	core) echo 1 ;;
	mm) echo 2 ;;
	gup) echo 3 ;;
	hmm) echo 4 ;;
	drivers | fs) echo 5 ;;
	check) echo 6 ;;
	tools) echo 7 ;;
	*) echo "" ;;
	esac
}

# The layer of each public header: the layer of the code it declares.
# zonedev.h is the umbrella for users of the library: nothing in it may
# include it.
header_layer() {
	case "$1" in
	sync/*) echo sync ;;
	system.h | fault_inject.h | events.h | debug.h | page.h | page_alloc.h | \
	memremap.h | driver.h) echo core ;;
	pgtable.h | mm.h | mm_walkers.h | tmpfs.h) echo mm ;;
	gup.h) echo gup ;;
	devmem_pool.h | devdax.h) echo drivers ;;
	trace.h | check.h) echo check ;;
	zonedev.h) echo tools ;;
	*) echo "" ;;
	esac
}

# The layer of a file of the tree, by its path from ROOT, or "" if unplaced.
file_layer() {
	case "$1" in
	src/*/*)
		d=${1#src/}
		d=${d%%/*}
		case "$d" in
		sync | lib | core | mm | gup | hmm | drivers | fs | check) echo "$d" ;;
		*) echo "" ;;
		esac ;;
	include/zonedev/*) header_layer "${1#include/zonedev/}" ;;
	*) echo "" ;;
	esac
}

check_tree() {
	root=$1
	cd "$root" || exit 2
	fail=0
	work=$(mktemp "${TMPDIR:-/tmp}/check-layers.XXXXXX")
	files=$(find src include -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
	[ -n "$files" ] || { echo "check-layers: no sources under $root" >&2; exit 2; }

	# Every directory of src/ and every public header has a layer.
	for f in $files; do
		[ -n "$(file_layer "$f")" ] && continue
		case "$f" in
		include/zonedev/*)
			echo "$f:1: public header with no layer: give it one in tools/check-layers.sh (header_layer)" ;;
		src/*/*)
			d=${f#src/}
			echo "$f:1: src/${d%%/*}/ has no layer: add the directory to tools/check-layers.sh (file_layer, rank)" ;;
		*)
			echo "$f:1: file outside src/<layer>/ and include/zonedev/" ;;
		esac
		fail=1
	done

	for f in $files; do
		fl=$(file_layer "$f")
		[ -n "$fl" ] || continue
		fr=$(rank "$fl")
		dir=${f%/*}
		# "LINE:text" of each #include "name" or #include <name>; a quoted
		# name is looked up beside the file first, then under src/.
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$f" > "$work" || true
		while IFS= read -r hit; do
			line=${hit%%:*}
			text=${hit#*:}
			name=$(printf '%s\n' "$text" | sed 's/^[^"<]*["<]\([^">]*\)[">].*/\1/')
			case "$(printf '%s\n' "$text" | sed 's/^[^"<]*\(["<]\).*/\1/')" in
			'"') quoted=1 text="#include \"$name\"" ;;
			*) quoted=0 text="#include <$name>" ;;
			esac
			il=""
			if [ -f "include/$name" ] && [ "${name#zonedev/}" != "$name" ]; then
				il=$(file_layer "include/$name")
			elif [ $quoted = 1 ] && [ -f "$dir/$name" ]; then
				il=$(file_layer "$dir/$name")
			elif [ -f "src/$name" ]; then
				il=$(file_layer "src/$name")
			elif [ "${name#zonedev/}" != "$name" ]; then
				echo "$f:$line: $text: no such public header"
				fail=1
				continue
			else
				continue	# a system or third-party header
			fi
			[ -n "$il" ] || continue	# unplaced: reported above
			if [ "$(rank "$il")" -gt "$fr" ]; then
				if [ "$name" = zonedev/zonedev.h ]; then
					echo "$f:$line: $text: the umbrella is for users of the library; include the headers used"
				else
					echo "$f:$line: $text: a $fl file includes a $il header"
				fi
				fail=1
			fi
		done < "$work"
	done
	rm -f "$work"
	return $fail
}

self_test() {
	here=$(cd "$(dirname "$0")/.." && pwd)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	status=0

	expect() {	# what, expected exit status, expected text in the output
		out=$(sh "$here/tools/check-layers.sh" "$tmp/tree" 2>&1) && rc=0 || rc=$?
		if [ "$rc" != "$2" ] || ! printf '%s\n' "$out" | grep -qF -- "$3"; then
			echo "self-test FAILED: $1: exit $rc (want $2), output:"
			printf '%s\n' "$out"
			status=1
		else
			echo "ok: $1"
		fi
	}
	fresh() {
		rm -rf "$tmp/tree"
		mkdir -p "$tmp/tree"
		cp -R "$here/src" "$here/include" "$tmp/tree/"
	}

	fresh
	expect "the tree as it is" 0 ""

	fresh
	printf '#include "mm/internal.h"\n' >> "$tmp/tree/src/core/memmap.c"
	n=$(wc -l < "$tmp/tree/src/core/memmap.c" | tr -d ' ')
	expect "core including mm/internal.h" 1 "src/core/memmap.c:$n: #include \"mm/internal.h\": a core file includes a mm header"

	fresh
	printf '#include <zonedev/check.h>\n' >> "$tmp/tree/src/core/events.c"
	expect "core including a check header" 1 "src/core/events.c:"

	fresh
	printf '#include <zonedev/mm.h>\n' >> "$tmp/tree/include/zonedev/page.h"
	expect "a core public header including mm.h" 1 "include/zonedev/page.h:"

	fresh
	printf '#include <zonedev/gup.h>\n' >> "$tmp/tree/src/mm/vma.c"
	expect "mm including gup.h" 1 "a mm file includes a gup header"

	fresh
	printf '#include <zonedev/zonedev.h>\n' >> "$tmp/tree/src/check/trace.c"
	expect "the library including the umbrella" 1 "src/check/trace.c:"

	fresh
	printf '/* SPDX-License-Identifier: MIT */\n' > "$tmp/tree/include/zonedev/newthing.h"
	expect "a public header with no layer" 1 "include/zonedev/newthing.h:1: public header with no layer"

	fresh
	mkdir -p "$tmp/tree/src/newdir"
	printf '#include "core/internal.h"\n' > "$tmp/tree/src/newdir/x.c"
	expect "a src/ directory with no layer" 1 "src/newdir/ has no layer"

	fresh
	printf '#include "sync/sync.h"\n#include <zonedev/mm.h>\n' >> "$tmp/tree/src/gup/gup.c"
	expect "downward includes are fine" 0 ""

	[ $status = 0 ] && echo "check-layers self-test passed"
	return $status
}

case "${1:-}" in
--self-test) self_test ;;
-h | --help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//' ;;
-*) echo "usage: $0 [ROOT] | --self-test" >&2; exit 2 ;;
*)
	root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
	if check_tree "$root"; then
		echo "check-layers: no include goes up a layer"
	else
		echo "check-layers: the files above break the layer order (sync, lib < core < mm < gup <" \
			"hmm < drivers, fs < check < tools; docs/architecture.md, Layers)" >&2
		exit 1
	fi ;;
esac
