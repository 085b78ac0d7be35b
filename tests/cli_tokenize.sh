#!/bin/sh
# tests/cli_tokenize.sh — `longread tokenize`: output format, --count, --special, --bos,
# standard input, and the documented exit codes for usage, I/O and input errors.
# TAP on stdout.  Needs LONGREAD, SHARED, TESTTMP (set by make check); GENMODEL for
# the zero-merge vocabulary case.
set -u
: "${LONGREAD:?}" "${SHARED:?}" "${TESTTMP:=tests/tmp}"
T="$TESTTMP/cli_tokenize.$$"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
V="$SHARED/golden/tokenizer/llama3-vocab.gguf"
C="$SHARED/golden/tokenizer/cases"
n=0
failed=0

ok() {   # ok COND-EXIT-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# run: EXPECTED-EXIT DESCRIPTION ARGS... ; stdout in $T/out, stderr in $T/err
run() {
	want=$1
	desc=$2
	shift 2
	"$LONGREAD" "$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ]
	ok $? "$desc (exit $got, want $want)"
	[ "$got" -eq "$want" ] || sed 's/^/#   /' "$T/err"
}

# stderr_has TEXT DESCRIPTION
stderr_has() {
	grep -qF -- "$1" "$T/err"
	ok $? "$2"
}

if [ ! -f "$V" ]; then
	echo "1..0 # SKIP no golden vocabulary at $V"
	exit 0
fi

# --- output
run 0 "golden case code_c" tokenize --vocab "$V" "$C/code_c.txt"
cmp -s "$T/out" "$C/code_c.ids"
ok $? "ids one per line, as the golden .ids file"
run 0 "--special on chat_markup" tokenize --special --vocab "$V" "$C/chat_markup.txt"
cmp -s "$T/out" "$C/chat_markup.ids_special"
ok $? "--special output equals chat_markup.ids_special"
run 0 "plain chat_markup" tokenize -m "$V" "$C/chat_markup.txt"
cmp -s "$T/out" "$C/chat_markup.ids"
ok $? "-m works as --vocab; plain output equals chat_markup.ids"
run 0 "--count" tokenize --count --vocab "$V" "$C/code_c.txt"
[ "$(cat "$T/out")" = "$(wc -l < "$C/code_c.ids" | tr -d ' ')" ]
ok $? "--count prints the number of ids"
run 0 "-c --bos" tokenize -c --bos --vocab "$V" "$C/code_c.txt"
[ "$(cat "$T/out")" = "$(($(wc -l < "$C/code_c.ids") + 1))" ]
ok $? "--bos adds one to the count"
run 0 "--bos" tokenize --bos --vocab "$V" "$C/space.txt"
[ "$(head -n 1 "$T/out")" = 128000 ] && [ "$(wc -l < "$T/out")" -eq 2 ]
ok $? "--bos puts 128000 first"
"$LONGREAD" tokenize --vocab "$V" - < "$C/cjk.txt" > "$T/out" 2>"$T/err"
ok $? "standard input with '-'"
cmp -s "$T/out" "$C/cjk.ids"
ok $? "standard input gives the same ids as the file"
printf '' | "$LONGREAD" tokenize --vocab "$V" - > "$T/out" 2>"$T/err"
ok $? "empty standard input"
[ ! -s "$T/out" ]
ok $? "empty input prints nothing"
printf 'a<|eot_id|>b' | "$LONGREAD" tokenize --vocab "$V" --count - > "$T/out"
[ "$(cat "$T/out")" -gt 3 ]
ok $? "plain: literal <|eot_id|> is several text tokens"
printf 'a<|eot_id|>b' | "$LONGREAD" tokenize --vocab "$V" --special - > "$T/out"
[ "$(sed -n 2p "$T/out")" = 128009 ] && [ "$(wc -l < "$T/out")" -eq 3 ]
ok $? "--special: literal <|eot_id|> is 128009"
run 0 "--help" tokenize --help
grep -q "^Usage: longread tokenize" "$T/out" && [ ! -s "$T/err" ]
ok $? "--help prints usage on stdout"
"$LONGREAD" --help | grep -q "^  tokenize "
ok $? "longread --help lists tokenize"

# --- zero-merge vocabulary from the test-model generator
if [ -n "${GENMODEL:-}" ] && [ -x "$GENMODEL" ]; then
	"$GENMODEL" -o "$T/bytes.gguf" >/dev/null 2>&1
	ok $? "lr-genmodel writes a model with a byte-level, zero-merge vocabulary"
	printf 'Hi yo' | "$LONGREAD" tokenize -m "$T/bytes.gguf" - > "$T/out" 2>"$T/err"
	ok $? "tokenize with that model"
	[ "$(tr '\n' ' ' < "$T/out")" = "72 105 32 121 111 " ]
	ok $? "zero merges: one byte token per byte"
	printf '<|eot_id|>' | "$LONGREAD" tokenize -m "$T/bytes.gguf" --special - > "$T/out"
	[ "$(cat "$T/out")" = 510 ]
	ok $? "zero merges: --special finds <|eot_id|> (id 510, as lr-genmodel numbers it)"
fi

# --- usage errors: exit 2, one line and a hint on stderr
run 2 "no arguments" tokenize
stderr_has "missing -m MODEL.gguf or --vocab VOCAB.gguf" "says what is missing"
stderr_has "Try 'longread tokenize --help'." "points to --help"
run 2 "no input file" tokenize --vocab "$V"
stderr_has "missing input file" "missing input file"
# several files (issue 16): ids under a header each, counts as wc prints them
printf 'Hello world\n' >"$T/h.txt"
printf 'caf\303\251 <|eot_id|>\ttab' >"$T/e.txt"
run 0 "two input files" tokenize --vocab "$V" "$T/h.txt" "$T/e.txt"
ok $([ "$(sed -n 1p "$T/out")" = "==> $T/h.txt <==" ] && [ "$(sed -n 2,4p "$T/out" | tr '\n' ' ')" = "9906 1917 198 " ] &&
	[ "$(sed -n 5,6p "$T/out" | tr '\n' '|')" = "|==> $T/e.txt <==|" ]; echo $?) "... each file's ids under a '==> FILE <==' line"
run 0 "--count with two files" tokenize --vocab "$V" -c "$T/h.txt" "$T/e.txt"
h=$("$LONGREAD" tokenize --vocab "$V" -c "$T/h.txt")
e=$("$LONGREAD" tokenize --vocab "$V" -c "$T/e.txt")
ok $([ "$(cat "$T/out")" = "$(printf '%s %s\n%s %s\n%s total' "$h" "$T/h.txt" "$e" "$T/e.txt" $((h + e)))" ]; echo $?) \
	"... a count a file, then the total, as wc does"
run 2 "standard input twice" tokenize --vocab "$V" - -
# --show: each token with its text, as llama-tokenize shows it
run 0 "--show" tokenize --vocab "$V" --show "$T/h.txt"
ok $([ "$(cat "$T/out")" = "$(printf "   9906 -> 'Hello'\n   1917 -> ' world'\n    198 -> '\\\\n'")" ]; echo $?) \
	"--show: '   9906 -> 'Hello'', a newline escaped"
run 0 "--show --special" tokenize --vocab "$V" --show --special "$T/e.txt"
ok $(grep -q "^ 128009 -> '<|eot_id|>'\$" "$T/out" && grep -qF -- "-> '\\ttab'" "$T/out" && grep -q "fé'\$" "$T/out"; echo $?) \
	"... a special token by its text, a tab escaped, UTF-8 kept whole"
run 2 "--count with --show" tokenize --vocab "$V" -c --show "$T/h.txt"
run 2 "-m and --vocab together" tokenize -m "$V" --vocab "$V" -
run 2 "unknown option" tokenize --frobnicate --vocab "$V" -
stderr_has "unrecognized option '--frobnicate'" "names the unknown option"
run 2 "--vocab without a value" tokenize --vocab

# --- I/O errors: exit 3
run 3 "missing input file" tokenize --vocab "$V" "$T/nonexistent.txt"
stderr_has "cannot open '$T/nonexistent.txt': No such file or directory" "names the missing file"
run 3 "missing vocabulary" tokenize --vocab "$T/nonexistent.gguf" "$C/space.txt"
run 3 "input is a directory" tokenize --vocab "$V" "$T"

# --- bad input: exit 4 (malformed) or 5 (unsupported)
printf 'this is not a GGUF file at all\n' > "$T/not.gguf"
run 4 "not a GGUF file" tokenize --vocab "$T/not.gguf" "$C/space.txt"
# a valid GGUF v3 with one metadata pair (general.architecture = "llama") and no tokenizer
printf 'GGUF\003\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000' > "$T/notok.gguf"
printf '\024\000\000\000\000\000\000\000general.architecture\010\000\000\000' >> "$T/notok.gguf"
printf '\005\000\000\000\000\000\000\000llama' >> "$T/notok.gguf"
run 4 "GGUF without a tokenizer" tokenize --vocab "$T/notok.gguf" "$C/space.txt"
stderr_has "no tokenizer" "says there is no tokenizer"
# the same with tokenizer.ggml.model = "llama" (a SentencePiece vocabulary): exit 5
printf 'GGUF\003\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000' > "$T/spm.gguf"
printf '\024\000\000\000\000\000\000\000tokenizer.ggml.model\010\000\000\000' >> "$T/spm.gguf"
printf '\005\000\000\000\000\000\000\000llama' >> "$T/spm.gguf"
run 5 "unsupported tokenizer model" tokenize --vocab "$T/spm.gguf" "$C/space.txt"
stderr_has "tokenizer model 'llama' is not supported" "names the unsupported model"

echo "1..$n"
[ "$failed" -eq 0 ]
