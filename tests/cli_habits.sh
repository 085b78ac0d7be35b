#!/bin/sh
# tests/cli_habits.sh — what users bring from other tools (issue 16): "did you mean" for
# a mistyped command or option; llama.cpp's spellings (--ctx-size, --n-predict, -ctk,
# -ctv, --cache-type-k/v with its type names, -c 8k) mapped to longread's options,
# saying which; --quiet leaving only errors on stderr.
. "${SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed (./bootstrap installs it)"; exit 0; }

M="$T/m.gguf"
genmodel_llama3 "$M"
ok $? "generate a small model with the Llama 3 vocabulary"
cd "$T" || exit 1
small_corpus c

# ---------------------------------------------------------------- did you mean
run "$LONGREAD" aks c
expect_usage "unknown command 'aks'; did you mean 'ask'?" "" "a mistyped command: the closest one suggested"
run "$LONGREAD" frobnicate c
ok $([ "$rc" -eq 2 ] && grep -q "^longread: unknown command 'frobnicate'$" "$T/err"; echo $?) \
	"... and none when nothing is close"
run "$LONGREAD" ask -m "$M" c -q x --tempp 0
expect_usage "unrecognized option '--tempp'; did you mean '--temp'?" ask "a mistyped option: the closest one suggested"
run "$LONGREAD" plan -m "$M" c --jsno
expect_usage "did you mean '--json'?" plan "... in every command (plan --jsno)"
run "$LONGREAD" ask -m "$M" c -q x --frobnicate
ok $([ "$rc" -eq 2 ] && grep -q "^longread: unrecognized option '--frobnicate'$" "$T/err"; echo $?) \
	"... and none when nothing is close"

# ---------------------------------------------------------------- llama.cpp's spellings
run "$LONGREAD" ask -m "$M" c -q "What is beta?" --ctx-size 8k --n-predict 3 -ctk q8_0 -ctv q8_0 --temp 0 --json
ok $([ "$rc" -eq 0 ] && jq -e '.tokens.window == 8192 and .tokens.answer <= 3 and .kv == "q8"' "$T/out" >/dev/null &&
	grep -q "^longread: KV cache q8: .* tokens (--cache-type-k q8_0 is longread's q8: one type for keys and values)$" "$T/err"
	echo $?) "--ctx-size 8k, --n-predict, -ctk/-ctv q8_0: a window of 8,192, 3 tokens, the q8 cache, said once"
run "$LONGREAD" ask -m "$M" c -q "What is beta?" -n 2 --cache-type-k f16 --cache-type-v f16 --json
ok $([ "$rc" -eq 0 ] && jq -e '.kv == "f16"' "$T/out" >/dev/null; echo $?) "--cache-type-k/v f16: the f16 cache"
run "$LONGREAD" ask -m "$M" c -q x -n 2 -ctk q8_0 -ctv f16
expect_usage "keeps keys and values in one type" ask "-ctk and -ctv that differ: a usage error"
run "$LONGREAD" ask -m "$M" c -q x -n 2 --kv q4 -ctk q8_0
expect_usage "another option asked for q4" ask "--kv and -ctk that differ: a usage error"
run "$LONGREAD" ask -m "$M" c -q x -n 2 -ctk q5_1
expect_usage "longread's caches are f32, f16, q8 (like q8_0) and q4" ask "a llama.cpp cache type longread lacks: named"
run "$LONGREAD" plan -m "$M" c -c 128K --json
ok $([ "$rc" -eq 0 ] && jq -e '.budget.window == 131072' "$T/out" >/dev/null; echo $?) "-c 128K is 131,072"
run "$LONGREAD" plan -m "$M" c -c 8m
expect_usage "invalid value '8m' for --ctx" plan "-c 8m: a usage error"
run "$LONGREAD" plan -m "$M" -- c -ctk
ok $([ "$rc" -eq 3 ] && grep -q "cannot open '-ctk'" "$T/err"; echo $?) "after --, -ctk is a file name"

# ---------------------------------------------------------------- --quiet
run "$LONGREAD" --quiet ask -m "$M" c -q "What is beta?" -n 3 --temp 0
ok $([ "$rc" -eq 0 ] && [ -s "$T/out" ] && [ ! -s "$T/err" ]; echo $?) "--quiet: the answer on stdout, nothing on stderr"
run "$LONGREAD" ask -m "$M" c -q "What is beta?" -n 3 --temp 0 --quiet -ctk q8_0
ok $([ "$rc" -eq 0 ] && [ ! -s "$T/err" ]; echo $?) "--quiet after the command, with a note it silences"
run "$LONGREAD" ask --quiet -m "$M" nothere -q x
ok $([ "$rc" -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^longread: cannot open 'nothere'" "$T/err"; echo $?) \
	"--quiet: an error is still one line on stderr, with its exit code"
run "$LONGREAD" --quiet ask -m "$M" c -q x --tempp 0
ok $([ "$rc" -eq 2 ] && grep -q "did you mean '--temp'" "$T/err" && grep -q "^Try 'longread ask --help'.$" "$T/err"; echo $?) \
	"--quiet: a usage error and its hint still shown"

done_testing
