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

# The check itself, in one awk pass over the tree's files (their paths,
# one a line, on stdin). Prints each breach as file:line and exits 1 if
# there is one.
# shellcheck disable=SC2016 # the awk program, not shell expansions
check_awk='
# Ranks: equal ranks may include each other. lib/ (the kernel lib/: the
# xarray) depends on nothing of ours, like sync/; drivers and fs do not
# depend on each other today, but neither sits above the other.
function rank(l) {
	if (l == "sync" || l == "lib") return 0
	if (l == "core") return 1
	if (l == "mm") return 2
	if (l == "gup") return 3
	if (l == "hmm") return 4
	if (l == "drivers" || l == "fs") return 5
	if (l == "check") return 6
	if (l == "tools") return 7
	return -1
}

# The layer of each public header: the layer of the code it declares.
# zonedev.h is the umbrella for the users of the library: nothing in the
# library may include it.
function header_layer(h) {
	if (h ~ /^sync\//) return "sync"
	if (h == "system.h" || h == "fault_inject.h" || h == "events.h" || h == "debug.h" ||
	    h == "page.h" || h == "page_alloc.h" || h == "memremap.h" || h == "driver.h")
		return "core"
	if (h == "pgtable.h" || h == "mm.h" || h == "huge_mm.h" || h == "pagewalk.h" ||
	    h == "khugepaged.h" || h == "ksm.h" || h == "mempolicy.h" || h == "migrate.h" ||
	    h == "tmpfs.h" || h == "mmu_notifier.h")
		return "mm"
	if (h == "gup.h") return "gup"
	if (h == "hmm.h") return "hmm"
	if (h == "devmem_pool.h" || h == "devdax.h" || h == "dmirror.h") return "drivers"
	if (h == "trace.h" || h == "check.h") return "check"
	if (h == "zonedev.h") return "tools"
	return ""
}

# The layer of a file of the tree, by its path from the root, or "".
function file_layer(f,   d) {
	if (f ~ /^src\/[^\/]+\//) {
		d = f
		sub(/^src\//, "", d)
		sub(/\/.*/, "", d)
		return rank(d) >= 0 && d != "tools" ? d : ""
	}
	if (f ~ /^include\/zonedev\//)
		return header_layer(substr(f, length("include/zonedev/") + 1))
	return ""
}

{ files[++n] = $0; exists[$0] = 1 }

END {
	for (i = 1; i <= n; i++) {
		f = files[i]
		if (file_layer(f) != "")
			continue
		if (f ~ /^include\/zonedev\//)
			print f ":1: public header with no layer: give it one in tools/check-layers.sh (header_layer)"
		else if (f ~ /^src\/[^\/]+\//) {
			d = f; sub(/^src\//, "", d); sub(/\/.*/, "", d)
			print f ":1: src/" d "/ has no layer: add the directory to tools/check-layers.sh (file_layer, rank)"
		} else
			print f ":1: file outside src/<layer>/ and include/zonedev/"
		bad = 1
	}
	for (i = 1; i <= n; i++) {
		f = files[i]
		fl = file_layer(f)
		if (fl == "")
			continue
		dir = f; sub(/\/[^\/]*$/, "", dir)
		line = 0
		while ((getline text < f) > 0) {
			line++
			if (text !~ /^[ \t]*#[ \t]*include[ \t]*["<]/)
				continue
			name = text
			sub(/^[^"<]*["<]/, "", name)
			quoted = substr(text, length(text) - length(name), 1) == "\""
			sub(/[">].*/, "", name)
			shown = quoted ? "#include \"" name "\"" : "#include <" name ">"
			il = "-"
			if (name ~ /^zonedev\// && exists["include/" name])
				il = file_layer("include/" name)
			else if (quoted && exists[dir "/" name])
				il = file_layer(dir "/" name)
			else if (exists["src/" name])
				il = file_layer("src/" name)
			else if (name ~ /^zonedev\//) {
				print f ":" line ": " shown ": no such public header"
				bad = 1
				continue
			}
			if (il == "-" || il == "")
				continue	# a system header, or an unplaced one: reported above
			if (rank(il) <= rank(fl))
				continue
			if (name == "zonedev/zonedev.h")
				print f ":" line ": " shown ": the umbrella is for users of the library; include the headers used"
			else
				print f ":" line ": " shown ": a " fl " file includes a " il " header"
			bad = 1
		}
		close(f)
	}
	exit bad
}
'

check_tree() {
	cd "$1" || exit 2
	files=$(find src include -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
	[ -n "$files" ] || { echo "check-layers: no sources under $1" >&2; exit 2; }
	printf '%s\n' "$files" | awk "$check_awk"
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
