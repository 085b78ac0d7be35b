#!/bin/sh
# tests/cli_pack.sh — `longread pack` and `longread ask CORPUS.lrc`: a saved window
# answers exactly as a fresh prefill does, without prefilling; refreshing reuses the
# unchanged prefix; damaged, truncated and mismatched files are refused with the
# documented exit codes; interrupted writes leave the old file intact.
. "${SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed (./bootstrap installs it)"; exit 0; }

M="$T/m.gguf"
genmodel_llama3 "$M"
ok $? "generate a small model with the Llama 3 vocabulary"
C="$T/corpus"
mkdir -p "$C"
cp "$SRCDIR/corpora/text/GPL-3.txt" "$C/1-licence.txt"
head -c 20000 "$SRCDIR/corpora/text/argparse.py" >"$C/2-code.py"
printf 'The renewal term is twelve months.\nNotice must be given in writing.\n' >"$C/3-terms.txt"
L="$T/c.lrc"
Q="When does the agreement renew?"

run "$LONGREAD" pack -m "$M" "$C" -o "$L"
ok $([ "$rc" -eq 0 ] && [ -s "$L" ] && grep -q "^longread: packed 4 documents, .* into '$L'" "$T/err"; echo $?) \
	"pack writes the window (a tree listing and three files)"
ok $(ls "$T" | grep -q 'c.lrc.tmp' && echo 1 || echo 0) "no temporary file is left"
ok $(grep -q '^longread: KV cache q8: ' "$T/err"; echo $?) "the cache size is reported before the work"

# pack's help lists only what pack takes: no questions
run "$LONGREAD" pack --help
ok $([ "$rc" -eq 0 ] && grep -q -- '--fit' "$T/out" && ! grep -q -- '--question' "$T/out"; echo $?) \
	"pack --help does not offer -q or --questions, which pack refuses"

# -o something that is not a regular file: refused before any work, left as it was
mkfifo "$T/fifo"
run "$LONGREAD" pack -m "$M" "$C" -o "$T/fifo"
expect_fail 3 "not a regular file" "pack -o a FIFO: exit 3, one line"
ok $([ -p "$T/fifo" ]; echo $?) "... the FIFO is still a FIFO (nothing renamed over it)"
# -o a symbolic link: the file it points to is written, the link stays
ln -s "$T/target.lrc" "$T/link.lrc"
run "$LONGREAD" pack -m "$M" "$C" -o "$T/link.lrc"
expect_fail 3 "a link to a missing file" "pack -o a dangling link: exit 3, one line"
printf 'old\n' >"$T/target.lrc"
run "$LONGREAD" pack -m "$M" "$C" -o "$T/link.lrc"
ok $([ "$rc" -eq 0 ] && [ -L "$T/link.lrc" ] && [ ! -L "$T/target.lrc" ] &&
	"$LONGREAD" ask "$T/target.lrc" -q "$Q" -n 4 --temp 0 >/dev/null 2>&1; echo $?) \
	"pack -o a link: the file it points to is written (and answers), the link stays a link"

# options a saved window cannot honour are refused, not ignored (issue 16, defect 3)
run "$LONGREAD" ask "$L" -c 4096 -q "$Q"
expect_usage "holds a window of" ask "ask CORPUS.lrc -c with another window: a usage error"
run "$LONGREAD" ask "$L" --include '*.py' -q "$Q"
expect_usage "'--include': a saved context holds its documents" ask "ask CORPUS.lrc --include: a usage error"
run "$LONGREAD" ask "$L" -n 1000000 -q "$Q"
expect_fail 6 "answer tokens in its" "ask CORPUS.lrc -n beyond the saved window's room: exit 6, one line"

# plan reads a saved window too (it crashed: no extraction context behind its documents)
run "$LONGREAD" plan "$L"
ok $([ "$rc" -eq 0 ] && grep -q '3-terms.txt' "$T/out" && grep -q '^total .* fits' "$T/out"; echo $?) \
	"plan CORPUS.lrc: the saved window's table and totals (exit $rc)"
run "$LONGREAD" plan "$L" --json
ok $([ "$rc" -eq 0 ] && jq -e '.kv == "q8"' "$T/out" >/dev/null; echo $?) "plan CORPUS.lrc --json (exit $rc)"
run "$LONGREAD" plan "$L" --show-prompt
ok $([ "$rc" -eq 0 ] && grep -q 'The renewal term is twelve months.' "$T/out"; echo $?) \
	"plan CORPUS.lrc --show-prompt (exit $rc)"

# the saved window answers exactly like a fresh one, without prefilling
run "$LONGREAD" ask "$L" -q "$Q" -n 12 --temp 0
cp "$T/out" "$T/a.saved"
ok $([ "$rc" -eq 0 ] && grep -q 'no prefill' "$T/err" && ! grep -q '^longread: prefill' "$T/err"; echo $?) \
	"ask CORPUS.lrc answers without prefilling (the model path is recorded)"
run "$LONGREAD" ask -m "$M" "$C" -q "$Q" -n 12 --temp 0
ok $(cmp -s "$T/out" "$T/a.saved"; echo $?) "... the same answer and citation check as asking the documents"
run "$LONGREAD" ask -m "$M" "$L" -q "$Q" -n 12 --temp 0 --json
ok $(jq -e '.tokens.prefilled == 0 and .tokens.reused > 9000 and (.corpus | length) == 4' "$T/out" >/dev/null; echo $?) \
	"--json: nothing prefilled, the whole prefix reused, the manifest from the file"
printf '%s\nWho may terminate it?\n' "$Q" >"$T/qs"
run "$LONGREAD" ask "$L" --questions "$T/qs" -n 4 --temp 0
ok $([ "$rc" -eq 0 ] && [ "$(grep -c '^> ' "$T/out")" -eq 2 ]; echo $?) "several questions from one saved window"

# mismatches: exit 8
genmodel_llama3 "$T/other.gguf" --seed 5
run "$LONGREAD" ask -m "$T/other.gguf" "$L" -q "$Q"
expect_fail 8 "packed with another model" "another model: exit 8"
run "$LONGREAD" ask "$L" --kv q4 -q "$Q"
expect_fail 8 "holds a q8 KV cache, not q4" "another KV type: exit 8"
run "$LONGREAD" ask "$L" -q "$Q" --fit
expect_usage "packing options cannot change a saved context" ask "packing options with a saved context"
mv "$M" "$T/moved.gguf"
run "$LONGREAD" ask "$L" -q "$Q"
expect_fail 3 "give the model with -m" "the recorded model is gone: exit 3"
run "$LONGREAD" ask -m "$T/moved.gguf" "$L" -q "$Q" -n 12 --temp 0
ok $(cmp -s "$T/out" "$T/a.saved"; echo $?) "... and -m finds it elsewhere"
mv "$T/moved.gguf" "$M"

# damage: exit 4, one line
size=$(wc -c <"$L")
for off in 20 1019 4100 $((size / 2)) $((size - 1)); do
	cp "$L" "$T/bad.lrc"
	printf '\377' | dd of="$T/bad.lrc" bs=1 seek="$off" conv=notrunc 2>/dev/null
	cmp -s "$L" "$T/bad.lrc" || { run "$LONGREAD" ask "$T/bad.lrc" -q "$Q"; expect_fail 4 "damaged" "a changed byte at $off: exit 4"; }
done
for cut in 100 5000 $((size / 3)) $((size - 10)); do
	head -c "$cut" "$L" >"$T/cut.lrc"
	run "$LONGREAD" ask "$T/cut.lrc" -q "$Q"
	expect_fail 4 "" "truncated at $cut bytes: exit 4"
done
cp "$L" "$T/new.lrc"
printf '\002' | dd of="$T/new.lrc" bs=1 seek=8 conv=notrunc 2>/dev/null
run "$LONGREAD" ask "$T/new.lrc" -q "$Q"
expect_fail 5 "newer than this longread reads" "a newer format version: exit 5"
printf '\000\001\002binary\377' >"$T/only.bin"
run "$LONGREAD" pack -m "$M" "$T/only.bin" -o "$T/none.lrc"
ok $([ "$rc" -eq 5 ] && [ ! -e "$T/none.lrc" ] && grep -q "no document with text to read" "$T/err"; echo $?) \
	"packing only a binary file: exit 5 and no file written"

# refresh: reuse the prefix up to the first changed document
cp "$L" "$T/before.lrc"
printf 'The renewal term is six months.\nNotice must be given in writing.\n' >"$C/3-terms.txt"
run "$LONGREAD" pack -m "$M" "$C" -o "$L"
reused=$(sed -n "s/^longread: reusing \([0-9,]*\) of \([0-9,]*\) tokens.*/\1/p" "$T/err" | tr -d ,)
total=$(sed -n "s/^longread: reusing \([0-9,]*\) of \([0-9,]*\) tokens.*/\2/p" "$T/err" | tr -d ,)
ok $([ "$rc" -eq 0 ] && [ -n "$reused" ] && [ "$reused" -gt 9000 ] && [ "$reused" -lt "$total" ]; echo $?) \
	"changing the last document reuses everything before it ($reused of $total tokens)"
run "$LONGREAD" ask "$L" -q "$Q" -n 12 --temp 0
cp "$T/out" "$T/a.refreshed"
run "$LONGREAD" pack -m "$M" "$C" -o "$T/fresh.lrc" --fresh
run "$LONGREAD" ask "$T/fresh.lrc" -q "$Q" -n 12 --temp 0
ok $(cmp -s "$T/out" "$T/a.refreshed"; echo $?) "the refreshed file answers as a fresh pack of the changed corpus"
# packing onto an existing file takes its model when -m is left out (issue 16)
run "$LONGREAD" pack "$C" -o "$T/fresh.lrc"
ok $([ "$rc" -eq 0 ] && grep -q "^longread: the model '.*m.gguf', which '$T/fresh.lrc' was packed with$" "$T/err" &&
	grep -q "^longread: reusing " "$T/err"; echo $?) "pack onto an existing file without -m: its model, its cache reused"
run "$LONGREAD" pack "$C" -o "$T/other.lrc"
expect_usage "missing model (-m)" pack "pack to a new file without -m: usage error"
printf 'A new first paragraph.\n' >"$C/0-preface.txt"
run "$LONGREAD" pack -m "$M" "$C" -o "$L"
reused=$(sed -n "s/^longread: reusing \([0-9,]*\) of .*/\1/p" "$T/err" | tr -d ,)
ok $([ "$rc" -eq 0 ] && [ -n "$reused" ] && [ "$reused" -lt 1000 ]; echo $?) \
	"a new first document reuses only what comes before it ($reused tokens)"

# interruptions never break the existing file
cp "$L" "$T/good.lrc"
for f in "$SRCDIR/corpora/text/debian-faq.ru.txt" "$SRCDIR/corpora/text/argparse.py"; do cp "$f" "$C/"; done
"$LONGREAD" pack -m "$M" "$C" -o "$L" --fresh --progress >/dev/null 2>"$T/int.err" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'prefill' "$T/int.err" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
ok $([ "$rc" -eq 130 ] && cmp -s "$L" "$T/good.lrc"; echo $?) "Ctrl-C during pack: exit 130, the old file untouched"
"$LONGREAD" pack -m "$M" "$C" -o "$L" --fresh --progress >/dev/null 2>"$T/kill.err" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'prefill' "$T/kill.err" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
ok $(cmp -s "$L" "$T/good.lrc"; echo $?) "a killed pack leaves the old file untouched"
rm -f "$C/debian-faq.ru.txt" "$C/argparse.py"
run "$LONGREAD" pack -m "$M" "$C" -o "$L"
ok $([ "$rc" -eq 0 ] && ! ls "$T" | grep -q 'c.lrc.tmp'; echo $?) "the next pack removes a killed one's temporary file"

# usage and I/O errors
run "$LONGREAD" pack -m "$M" "$C"
expect_usage "missing output file" pack "pack without -o"
run "$LONGREAD" pack -m "$M" "$C" -o "$T/x.lrc" -q "$Q"
expect_usage "pack takes no questions" pack "pack with a question"
run "$LONGREAD" pack -m "$M" "$C" -o "$T"
expect_fail 3 "Is a directory" "an output that is a directory: exit 3"
run "$LONGREAD" pack -m "$M" "$C" -o "$T/small.lrc" -c 1000
ok $([ "$rc" -eq 6 ] && [ ! -e "$T/small.lrc" ]; echo $?) "documents that do not fit: exit 6, nothing written"
run "$LONGREAD" pack -m "$M" "$L" -o "$T/x.lrc"
expect_usage "already a context file" pack "packing a context file"
# a forged header (checksum redone) with a KV type longread never writes
if command -v python3 >/dev/null; then
	python3 - "$L" "$T/forged.lrc" "$SRCDIR/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from mutate import crc32c
d = bytearray(open(sys.argv[1], "rb").read())
d[48:52] = (0x80000000).to_bytes(4, "little")     # kv_type
d[1020:1024] = crc32c(bytes(d[:1020])).to_bytes(4, "little")
open(sys.argv[2], "wb").write(d)
PY
	run "$LONGREAD" ask "$T/forged.lrc" -q x
	expect_fail 4 "damaged context file (KV cache type 2147483648 is none longread writes)" \
		"a forged KV cache type in a .lrc header: exit 4, named as damage"
else
	skip "a forged KV cache type in a .lrc header: exit 4" "no python3"
fi
mkfifo "$T/fifo.lrc"
run timeout 10 "$LONGREAD" pack -m "$M" -c 1024 -n 16 "$SRCDIR/corpora/text/GPL-3.txt" -o "$T/fifo.lrc"
expect_fail 3 "cannot write '$T/fifo.lrc': not a regular file" "pack -o a FIFO: exit 3 at once, no hang"

done_testing
