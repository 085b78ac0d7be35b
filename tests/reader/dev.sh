#!/bin/sh
# tests/reader/dev.sh — the reader's dev set: the held-out windows that choose between two
# readers (tests/reader/README.md), apart from the tests' and the benchmark's corpora.
#   dev.sh MODEL TAG     asks every dev window with MODEL (greedy, f16 cache) and prints
#                        exact answers per window size, verified citations and absent
#                        facts answered as absent; answers stay in $DEV_DIR/w*-s*/TAG.*
# The corpora (needle.py gen, the held-out recipe) are made once, with MODEL's vocabulary
# (every reader shares it), and kept in $DEV_DIR (default /tmp/longread-dev).  Windows:
# 1k seeds 201-206 with 4 facts, 2k 207-209 with 6, 4k 210-212 with 10 and 301-306 with 4,
# 8k 231-233 with 11, 16k 241-242 with 11, 32k 251 with 11: 162 facts, 2 absent ones in
# each window; the facts not quoted exactly are sorted into "not found", "key wrong" (the
# quote starts with another key) and "value wrong" (needle.py dev).
# DEVGLOB (default w*-s*) picks some windows, e.g. 'w[124]*'.
# Env: BUILDDIR (longread's build directory, default .), THREADS (default 2).
set -eu
[ $# -eq 2 ] || { echo "usage: dev.sh MODEL TAG" >&2; exit 2; }
top=$(cd "$(dirname "$0")/../.." && pwd)
lr=${BUILDDIR:-$PWD}/longread
model=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tag=$2
dir=${DEV_DIR:-/tmp/longread-dev}
needle="$top/tests/reader/needle.py"
threads=${THREADS:-2}
answer=80

# depths spread evenly over the documents for N facts
depths() { python3 -c "import sys; n=int(sys.argv[1]); print(','.join(str(round(100*i/(n-1))) for i in range(n)))" "$1"; }

mkdir -p "$dir"
for spec in 1024:201-206:4 2048:207-209:6 4096:210-212:10 4096:301-306:4 8192:231-233:11 \
		16384:241-242:11 32768:251-251:11; do
	w=${spec%%:*} rest=${spec#*:}
	seeds=${rest%:*} n=${rest#*:}
	for s in $(seq "${seeds%-*}" "${seeds#*-}"); do
		c="$dir/w$w-s$s"
		[ -f "$c/expect.jsonl" ] || python3 "$needle" gen --longread "$lr" -m "$model" -c "$w" \
			--seed "$s" --depths "$(depths "$n")" --answer "$answer" -o "$c" 2>>"$dir/gen.log"
	done
done
for c in "$dir"/${DEVGLOB:-w*-s*}; do
	w=${c##*/w} w=${w%-s*}
	(cd "$c" && "$lr" ask -m "$model" docs -c "$w" -n "$answer" --temp 0 --kv f16 -t "$threads" \
		--json <questions.txt >"$c/$tag.jsonl" 2>"$c/$tag.err") || true
	python3 "$needle" score --expect "$c/expect.jsonl" --answers "$c/$tag.jsonl" --json >"$c/$tag.score"
done
python3 "$needle" dev "$dir" "$tag" "${DEVGLOB:-w*-s*}" --longread "$lr" -m "$model"
