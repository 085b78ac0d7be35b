#!/bin/sh
# tests/tok_parity.sh — longread's tokenizer against a second, independent reference,
# the npm package llama3-tokenizer-js (tests/js/, installed by ./bootstrap with npm ci),
# on every document in corpora/text/ and on generated stress inputs (whitespace runs,
# digit strings, punctuation, mixed scripts, a 1 MB single word, random bytes, special
# token text).  The ids must be identical.  One known, documented difference
# (docs/tokenizer.md): the package's \s is JavaScript's (no U+0085, plus U+FEFF) where
# Llama 3 uses Unicode White_Space; for inputs holding those characters longread must
# equal the package with that one regex fixed (tests/js/parity.mjs), and the stress
# input made of them must show the difference.
# Needs node and npm: the test FAILS without them unless LR_SKIP_NPM=1 (then skips).
set -u
: "${LONGREAD:?}" "${SHARED:?}" "${SRCDIR:?}" "${TESTTMP:=tests/tmp}"
T="$TESTTMP/tok_parity.$$"
V="$SHARED/golden/tokenizer/llama3-vocab.gguf"
JS="${JSDIR:-$SRCDIR/tests/js}"

fail_setup() {
	if [ "${LR_SKIP_NPM:-}" = 1 ]; then
		echo "1..0 # SKIP $1 (LR_SKIP_NPM=1)"
		exit 0
	fi
	echo "Bail out! $1; run ./bootstrap (apt-get install nodejs npm; npm ci --prefix tests/js), or set LR_SKIP_NPM=1 to skip"
	exit 1
}

command -v node >/dev/null 2>&1 || fail_setup "node is not installed"
[ -f "$JS/node_modules/llama3-tokenizer-js/package.json" ] ||
	fail_setup "the npm package llama3-tokenizer-js is not installed in tests/js/node_modules"
[ -f "$V" ] || { echo "1..0 # SKIP no golden vocabulary at $V (the reference data beside the checkout, ../shared)"; exit 0; }

mkdir -p "$T/in" "$T/out"
trap 'rm -rf "$T"' EXIT
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

node "$JS/parity.mjs" gen "$T/in" || fail_setup "generating the stress inputs failed"
# (the package spreads a word's ids into a call: a 1 MB word needs a bigger stack)
docs=""
for f in "$SRCDIR"/corpora/text/*; do
	case "$f" in */SOURCES) ;; *) docs="$docs $f" ;; esac   # (paths without spaces)
done
node --stack-size=7000 "$JS/parity.mjs" ids "$T/out" "$T"/in/* $docs \
	> "$T/manifest" || fail_setup "llama3-tokenizer-js failed"

n_docs=0
while IFS="$(printf '\t')" read -r name wsdiff; do
	if [ -f "$T/in/$name" ]; then f="$T/in/$name"; else f="$SRCDIR/corpora/text/$name"; n_docs=$((n_docs + 1)); fi
	"$LONGREAD" tokenize --special --vocab "$V" "$f" > "$T/out/$name.ours"
	ok $? "$name: longread tokenize"
	count=$(wc -l < "$T/out/$name.ours" | tr -d ' ')
	if cmp -s "$T/out/$name.ours" "$T/out/$name.js"; then
		ok 0 "$name: $count ids identical to llama3-tokenizer-js"
	elif [ "$wsdiff" = wsdiff ]; then
		cmp -s "$T/out/$name.ours" "$T/out/$name.jsfix"
		ok $? "$name: $count ids identical to llama3-tokenizer-js with White_Space for \\s (known difference: U+0085/U+FEFF)"
	else
		ok 1 "$name: $count ids identical to llama3-tokenizer-js"
		cmp "$T/out/$name.ours" "$T/out/$name.js" | sed 's/^/# /'
	fi
	if [ "$name" = stress_nel_bom.txt ]; then
		! cmp -s "$T/out/$name.js" "$T/out/$name.jsfix"
		ok $? "$name: the package's \\s really differs here (the documented difference)"
	fi
done < "$T/manifest"
[ "$n_docs" -ge 3 ]
ok $? "corpora/text/ has documents ($n_docs)"

echo "1..$n"
[ "$failed" -eq 0 ]
