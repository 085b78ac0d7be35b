#!/bin/sh
# tests/cli_stale.sh — a saved window whose documents changed since `pack` (issue 16):
# `ask CORPUS.lrc` checks each packed file's size and modification time, and its digest
# when those changed; it names what changed or went missing, gives the command that
# refreshes the pack, answers from the packed copies, and says so in --json; a file
# only touched is not stale; --no-source-check skips the check; the refresh command
# given works from any directory.
. "${SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed (./bootstrap installs it)"; exit 0; }

M="$T/m.gguf"
genmodel_llama3 "$M"
ok $? "generate a small model with the Llama 3 vocabulary"
mkdir -p "$T/w/docs" "$T/elsewhere"
printf 'The renewal term is twelve months.\n' >"$T/w/docs/terms.txt"
printf 'Notice must be given in writing.\n' >"$T/w/docs/notice.txt"
printf 'Fees are due monthly.\n' >"$T/w/fees.txt"
Q="When does the agreement renew?"
cd "$T/w" || exit 1
run "$LONGREAD" pack -m "$M" -c 1024 -n 64 docs fees.txt -o "$T/c.lrc"
ok $rc "pack two files of a directory and a file named directly"
cd "$T/elsewhere" || exit 1

# ask_lrc ARGS... — ask the saved window from another directory, JSON to $T/out
ask_lrc() { run "$LONGREAD" ask "$T/c.lrc" -q "$Q" -n 4 --temp 0 --json "$@"; }

ask_lrc
ok $([ "$rc" -eq 0 ] && ! grep -q 'out of date' "$T/err" &&
	jq -e '.sources == {checked: true, files: 3, changed: [], missing: []}' "$T/out" >/dev/null; echo $?) \
	"unchanged: no warning; --json says 3 files were checked, none changed"

touch -d '2001-01-01' "$T/w/docs/terms.txt"
ask_lrc
ok $([ "$rc" -eq 0 ] && ! grep -q 'out of date' "$T/err" && jq -e '.sources.changed == []' "$T/out" >/dev/null
	echo $?) "a file only touched (same bytes, another time) is not stale"

printf 'The renewal term is twenty-four months.\n' >"$T/w/docs/terms.txt"
ask_lrc
ok $([ "$rc" -eq 0 ] && grep -q "^longread: '$T/c.lrc' is out of date: 1 of its 3 document files changed since it was packed on .* (terms.txt); the answers read the copies packed then$" "$T/err"; echo $?) \
	"an edited file: one line names it and says the answer reads the packed copy"
ok $(jq -e '.sources == {checked: true, files: 3, changed: ["terms.txt"], missing: []}' "$T/out" >/dev/null
	echo $?) "... and --json lists it as changed"
ok $(jq -e '.answer | type == "string"' "$T/out" >/dev/null; echo $?) "... and it still answers (exit 0)"
grep '^longread: refresh it with: ' "$T/err" | sed 's/^longread: refresh it with: //' >"$T/refresh"
ok $(grep -q "^cd $T/w && longread pack -m $M -c 1024 -n 64 -o $T/c.lrc docs fees.txt\$" "$T/refresh"; echo $?) \
	"... and gives the command that refreshes it, with the directory it was packed from"

# the same size, another byte: only the digest tells
printf 'The renewal term is twenty-four monthz.\n' >"$T/w/docs/terms.txt"
touch -d '2001-01-01' "$T/w/docs/terms.txt"
ask_lrc
ok $(jq -e '.sources.changed == ["terms.txt"]' "$T/out" >/dev/null; echo $?) \
	"a change that keeps the size is found by the digest"

rm "$T/w/fees.txt"
ask_lrc
ok $([ "$rc" -eq 0 ] && grep -q "1 is gone or unreadable (fees.txt)" "$T/err" &&
	jq -e '.sources.missing == ["fees.txt"] and .sources.changed == ["terms.txt"]' "$T/out" >/dev/null; echo $?) \
	"a removed file is named as gone, beside the changed one"

ask_lrc --no-source-check
ok $([ "$rc" -eq 0 ] && ! grep -q 'out of date' "$T/err" &&
	jq -e '.sources == {checked: false, why: "--no-source-check"}' "$T/out" >/dev/null; echo $?) \
	"--no-source-check: no check, and --json says why"

run "$LONGREAD" plan "$T/c.lrc"
ok $([ "$rc" -eq 0 ] && grep -q 'out of date' "$T/err"; echo $?) "plan CORPUS.lrc warns the same way"

# the refresh command, run as given (longread from the build for the name), makes it current
printf 'Fees are due monthly.\n' >"$T/w/fees.txt"
sed "s|longread pack|'$LONGREAD' pack|" "$T/refresh" >"$T/refresh.sh"
run sh "$T/refresh.sh"
ok $rc "the refresh command runs as printed"
ask_lrc
ok $([ "$rc" -eq 0 ] && ! grep -q 'out of date' "$T/err" && jq -e '.sources.changed == [] and .sources.missing == []' \
	"$T/out" >/dev/null; echo $?) "after the refresh the saved window is current"

# a name that needs quoting is quoted in the recorded command
mkdir -p "$T/q"
printf "it's here\n" >"$T/q/a b's.txt"
cd "$T/q" || exit 1
run "$LONGREAD" pack -m "$M" -c 1024 -n 64 "a b's.txt" -o "$T/q.lrc"
printf "changed\n" >"$T/q/a b's.txt"
cd "$T/elsewhere" || exit 1
run "$LONGREAD" ask "$T/q.lrc" -q x -n 1 --temp 0
grep '^longread: refresh it with: ' "$T/err" | sed "s/^longread: refresh it with: //; s|longread pack|'$LONGREAD' pack|" >"$T/q.sh"
printf "it's here\n" >"$T/q/a b's.txt"
run sh "$T/q.sh"
ok $rc "a file name with a space and a quote survives the recorded command"
run "$LONGREAD" ask "$T/q.lrc" -q x -n 1 --temp 0
ok $([ "$rc" -eq 0 ] && ! grep -q 'out of date' "$T/err"; echo $?) "... and the refreshed pack is current"

done_testing
