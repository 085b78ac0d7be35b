# tests/lib.sh — TAP helpers for the shell tests.  Source it; it sets $T (a scratch
# directory removed at exit) and checks that $LONGREAD exists.
set -u
: "${LONGREAD:?LONGREAD must point at the built program}"
: "${SRCDIR:=.}"
: "${SHARED:=$SRCDIR/../shared}"
: "${TESTTMP:=/tmp}"
mkdir -p "$TESTTMP"
T=$(mktemp -d "$TESTTMP/sh.XXXXXX")
trap 'rm -rf "$T"' EXIT
GOLDEN="$SHARED/golden"
_n=0
_failed=0

# _tap STATUS DESCRIPTION [DIRECTIVE] — one TAP line
_tap() {
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2${3:-}"; else echo "not ok $_n - $2${3:-}"; fi
}

# ok STATUS DESCRIPTION — STATUS 0 is a pass
ok() {
	_tap "$1" "$2"
	[ "$1" -eq 0 ] || _failed=$((_failed + 1))
}

# skip DESCRIPTION REASON — a check left out, with the reason
skip() { _tap 0 "$1" " # SKIP $2"; }

# need_golden REL — the script needs $GOLDEN/REL (reference data beside the checkout,
# ../shared): without it, everything is skipped with the reason
need_golden() {
	[ -f "$GOLDEN/$1" ] && return 0
	echo "1..0 # SKIP no $GOLDEN/$1 (the reference data beside the checkout, ../shared)"
	exit 0
}

# todo STATUS DESCRIPTION REASON — a goal not reached yet: "not ok ... # TODO REASON" is an
# expected failure; once it passes the harness reports an unexpected pass (XPASS), which
# fails make check until the directive is removed
todo() { _tap "$1" "$2" " # TODO $3"; }

diag() { echo "# $*"; }

# jq -e with no input at all exits 0 (jq 1.6), so a check on an empty file would pass:
# with -e, no output is a failure
jq() {
	case " $* " in
	*" -e "*)
		_jq_out=$(command jq "$@") || return $?
		[ -n "$_jq_out" ] || return 1
		printf '%s\n' "$_jq_out" ;;
	*) command jq "$@" ;;
	esac
}

# run CMD... — stdout to $T/out, stderr to $T/err, exit status to $rc
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "  got '$1', want '$2'"; fi
}

# expect_fail RC NEEDLE DESCRIPTION — after run: exit status RC, stdout empty, exactly
# one line on stderr that starts with "longread: " and contains NEEDLE
expect_fail() {
	_lines=$(wc -l <"$T/err")
	if [ "$rc" -eq "$1" ] && [ ! -s "$T/out" ] && [ "$_lines" -eq 1 ] &&
	   grep -q '^longread: ' "$T/err" && grep -qF -- "$2" "$T/err"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "  exit $rc (want $1); stderr: $(cat "$T/err")"
	fi
}

# expect_usage NEEDLE CMD DESCRIPTION — after run: exit 2, stdout empty, the error
# line then "Try 'longread CMD --help'." (CMD empty for the top level)
expect_usage() {
	_try="Try 'longread ${2:+$2 }--help'."
	if [ "$rc" -eq 2 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 2 ] &&
	   head -n 1 "$T/err" | grep -q '^longread: ' && grep -qF -- "$1" "$T/err" &&
	   [ "$(tail -n 1 "$T/err")" = "$_try" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "  exit $rc; stderr: $(cat "$T/err")"
	fi
}

# genmodel_llama3 OUT [ARGS...] — a small fast model (2 layers, 256 wide, Q8_0) with
# the real Llama 3 vocabulary and its chat template
genmodel_llama3() {
	_out=$1
	shift
	# the vocabulary is reference data beside the checkout (../shared): without it the
	# whole script skips, with the reason, if it has not reported anything yet
	if [ ! -f "$GOLDEN/tokenizer/llama3-vocab.gguf" ] && [ "$_n" -eq 0 ]; then
		echo "1..0 # SKIP no Llama 3 vocabulary at $GOLDEN/tokenizer (the reference data beside the checkout, ../shared)"
		exit 0
	fi
	"${GENMODEL:?GENMODEL must point at tests/lr-genmodel}" -o "$_out" \
		--vocab-from "$GOLDEN/tokenizer/llama3-vocab.gguf" --embd 256 --heads 4 --kv-heads 2 \
		--ff 768 --layers 2 --type Q8_0 "$@"
}

# small_corpus DIR — a directory with a three-line text file and a four-line C file
small_corpus() {
	mkdir -p "$1"
	printf 'alpha\nbeta\ngamma\n' >"$1/a.txt"
	printf 'int main(void)\n{\n\treturn 0;\n}\n' >"$1/b.c"
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}
