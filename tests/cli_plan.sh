#!/bin/sh
# tests/cli_plan.sh — `longread plan`: the exact prompt for a small corpus against the
# Llama 3 chat template, budget arithmetic at the boundary (fits exactly / one token
# over), the --fit report and note, --focus, --order, the JSON report and its digests,
# the measured-speed record, and one error line with the documented exit code for each
# kind of bad input.
. "${SRCDIR:-.}/tests/lib.sh"

M="$T/m.gguf"
genmodel_llama3 "$M" --chat-template "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>' }}"
ok $? "generate a small model with the Llama 3 vocabulary and a short Llama 3 chat template"
export LONGREAD_CACHE_DIR="$T/cache"
cd "$T" || exit 1
small_corpus c

# ---------------------------------------------------------------- the exact prompt
printf '%s' '<|begin_of_text|><|start_header_id|>system<|end_header_id|>

Answer from the documents.<|eot_id|><|start_header_id|>user<|end_header_id|>

<documents>
<document id="1" name="c/" kind="tree">
c/
  a.txt
  b.c
</document>
<document id="2" name="a.txt" kind="text" lines="3">
1	alpha
beta
gamma
</document>
<document id="3" name="b.c" kind="code" lines="4">
1	int main(void)
{
	return 0;
}
</document>
</documents>

Question: What is beta?<|eot_id|><|start_header_id|>assistant<|end_header_id|>

' >want.txt
S="Answer from the documents."
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" --show-prompt
ok $([ "$rc" -eq 0 ] && cmp -s "$T/out" want.txt; echo $?) \
	"the prompt is system turn, documents with ids, headers and anchors, then the question"
ok $([ ! -s "$T/err" ]; echo $?) "a model with a Llama 3 chat template: no warning"
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" --show-ids
cp "$T/out" got.ids
"$LONGREAD" tokenize -m "$M" --special want.txt >want.ids
ok $(cmp -s got.ids want.ids; echo $?) "its ids are those of the chat template's text, special tokens parsed"
P=$(wc -l <want.ids)
run "$LONGREAD" plan -m "$M" c --system "$S" --show-prompt
seg=$(printf '%s' 'Question: What is beta?<|eot_id|><|start_header_id|>assistant<|end_header_id|>' | wc -c)
ok $([ "$rc" -eq 0 ] && head -c "$(($(wc -c <want.txt) - seg - 2))" want.txt | cmp -s - "$T/out"; echo $?) \
	"without -q the prompt stops at the end of the documents (the prefix every question shares)"
run "$LONGREAD" plan -m "$M" c -q "What is beta?" --show-prompt
ok $(grep -q '\[NAME:LINE\]' "$T/out" && grep -q 'every 10th line' "$T/out" && grep -q '\[NAME p.PAGE\]' "$T/out"; \
	echo $?) "the default system prompt explains the anchors to cite"
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" --show-prompt --line-numbers 1
ok $(grep -q "^2	beta$" "$T/out" && grep -q "^4	}$" "$T/out"; echo $?) "--line-numbers 1 numbers every line"

# ---------------------------------------------------------------- the budget boundary
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" -n 8 -c $((P + 8))
ok $([ "$rc" -eq 0 ] && grep -q "(100%): fits$" "$T/out"; echo $?) \
	"prompt ($P tokens) + answer (8) in a window of exactly that: fits"
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" -n 8 -c $((P + 8)) --json
ok $([ "$rc" -eq 0 ] && jq -e ".budget.fits == true and .budget.total == $((P + 8))" "$T/out" >/dev/null; echo $?) \
	"the JSON report: total $((P + 8)), fits"
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" -n 8 -c $((P + 7))
ok $([ "$rc" -eq 6 ] && grep -q "does not fit (1 over)" "$T/out" && \
	[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^longread: the documents do not fit: .*(1 over)" "$T/err"; echo $?) \
	"one token less: exit 6, the report and one error line saying 1 over"
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" -n 8 -c $((P + 7)) --json
ok $([ "$rc" -eq 6 ] && jq -e ".budget.fits == false and .budget.total == $((P + 8)) and .budget.window == $((P + 7))" \
	"$T/out" >/dev/null; echo $?) "the JSON report says the same"

# ---------------------------------------------------------------- the JSON report
run "$LONGREAD" plan -m "$M" c --system "$S" -q "What is beta?" --json
ok $([ "$rc" -eq 0 ] && jq -e '
	(.model | (.file|type) == "string" and (.fingerprint|test("^[0-9a-f]{64}$")) and .context_length == 131072)
	and .kv == "q8" and (.kv_bytes|type) == "number" and .kv_bytes > 0
	and (.budget | .fits == true and .window == 131072 and .answer == 1024 and .order == "given"
	     and .line_step == 10 and (.prefix_digest|test("^[0-9a-f]{64}$"))
	     and .total == .documents + .instructions + .question + .answer)
	and (.prefill_seconds == null)
	and (.documents | length == 3 and all(.[]; (.id|type) == "number" and (.name|type) == "string"
	     and (.path|type) == "string" and .fate == "whole" and .focus == false and .tokens == .window_tokens
	     and (.offset|type) == "number" and (.digest|test("^[0-9a-f]{64}$")) and .lines_kept == .lines))
	and ([.documents[].kind] == ["tree", "text", "code"])' "$T/out" >/dev/null; echo $?) \
	"--json: model, KV, budget that adds up, and a manifest of every document"
ok $(jq -e ".budget.total == $((P + 1024))" "$T/out" >/dev/null; echo $?) "the JSON total is the prompt's $P tokens + the answer"
avail=$(awk '/^MemAvailable:/ { print $2 * 1024 }' /proc/meminfo)
ok $(jq -e --argjson a "${avail:-0}" '.memory | .weights == $m and .kv > 0 and .total == .weights + .kv
	and (.available - $a | fabs) < $a / 4 and .fits == (.total <= .available)' --argjson m "$(stat -c %s "$M")" "$T/out" >/dev/null
	echo $?) "--json: memory, the model file plus the cache, against what /proc/meminfo says is available"
# a document's digest is the SHA-256 of its text as the model reads it
sed -n '/^<document id="2"/,/^<\/document>$/p' want.txt >doc2.txt
ok $([ "$(jq -r '.documents[1].digest' "$T/out")" = "$(sha256sum doc2.txt | cut -d' ' -f1)" ]; echo $?) \
	"document 2's digest is sha256sum of its text in the prompt"
off=$(jq -r '.documents[1].offset' "$T/out")
n=$(jq -r '.documents[1].window_tokens' "$T/out")
"$LONGREAD" tokenize -m "$M" doc2.txt >doc2.ids
ok $(sed -n "$((off + 1)),$((off + n))p" want.ids | cmp -s - doc2.ids; echo $?) \
	"document 2's offset and token count locate exactly its ids in the prompt"

# ---------------------------------------------------------------- the table, --fit and --focus
cp "$SRCDIR/corpora/text/GPL-3.txt" c/gpl.txt
cp "$SRCDIR/corpora/text/argparse.py" c/argparse.py
run "$LONGREAD" plan -m "$M" c -c 12000
ok $([ "$rc" -eq 6 ] && grep -q "gpl.txt (text, 674 lines)$" "$T/out" && grep -q "argparse.py (code, 2,633 lines)$" "$T/out" \
	&& grep -q "does not fit" "$T/out" && grep -q "^longread: the documents do not fit" "$T/err"; echo $?) \
	"too much: exit 6 and a table of every document"
run "$LONGREAD" plan -m "$M" c -c 12000 --fit
ok $([ "$rc" -eq 0 ] && grep -q ": fits$" "$T/out" && grep -q "argparse.py (code, 2,633 lines): shortened after line" "$T/out"; \
	echo $?) "--fit: fits, and the table says which document was shortened after which line"
kept=$(sed -n 's/.*argparse.py (code, 2,633 lines): shortened after line \([0-9,]*\)$/\1/p' "$T/out" | tr -d ,)
run "$LONGREAD" plan -m "$M" c -c 12000 --fit --show-prompt
ok $(grep -q "^\[note: shortened to fit the window: the text after line $kept of 2633 is left out\]$" "$T/out" && \
	grep -q "^\[note: the documents did not all fit in the context window: [0-9]* are shortened" "$T/out"; echo $?) \
	"the prompt says where argparse.py was cut (after line $kept) and that the corpus is incomplete"
last=$(grep -B1 "^\[note: shortened to fit the window: the text after line $kept of 2633" "$T/out" | head -n 1 | \
	sed 's/^[0-9]*	//')
ok $([ "$last" = "$(sed -n "${kept}p" c/argparse.py)" ]; echo $?) "the cut comes right after line $kept, whole"
run "$LONGREAD" plan -m "$M" c -c 25000 --fit
ok $([ "$rc" -eq 0 ] && grep -q "argparse.py (code, 2,633 lines): shortened" "$T/out"; echo $?) \
	"at 25000 tokens the largest document is the one shortened"
run "$LONGREAD" plan -m "$M" c -c 25000 --fit --focus argparse.py
ok $([ "$rc" -eq 0 ] && grep -q "argparse.py (code, 2,633 lines) \[focus\]$" "$T/out" && \
	grep -q "gpl.txt (text, 674 lines): \(shortened\|left out\)" "$T/out"; echo $?) \
	"--focus keeps argparse.py whole and shortens the other one instead"
run "$LONGREAD" plan -m "$M" c -c 2200 --fit --json
ok $([ "$rc" -eq 0 ] && jq -e '.budget.fits and .budget.total <= 3000 and .budget.dropped >= 1 and
	([.documents[] | select(.fate == "dropped")] | all(.offset == null and .digest == null and .window_tokens == 0))' \
	"$T/out" >/dev/null; echo $?) "a tight window leaves documents out, and the manifest says so"
run "$LONGREAD" plan -m "$M" c -c 1200 --fit
ok $([ "$rc" -eq 6 ] && grep -q "too small even for the question" "$T/err"; echo $?) \
	"a window too small for the instructions and the answer reserve: exit 6 even with --fit"

# ---------------------------------------------------------------- order
run "$LONGREAD" plan -m "$M" c --order name --json
ok $([ "$(jq -r '[.documents[].name] | join(" ")' "$T/out")" = "c/ a.txt argparse.py b.c gpl.txt" ]; echo $?) \
	"--order name: the listing, then by name"
run "$LONGREAD" plan -m "$M" c --order size --json
ok $([ "$(jq -r '[.documents[].name] | join(" ")' "$T/out")" = "c/ a.txt b.c gpl.txt argparse.py" ]; echo $?) \
	"--order size: the listing, then the largest last"
touch -d '2020-01-01' c/gpl.txt
touch -d '2021-01-01' c/b.c
touch -d '2022-01-01' c/argparse.py c/a.txt
run "$LONGREAD" plan -m "$M" c --order mtime --json
ok $([ "$(jq -r '[.documents[].name] | join(" ")' "$T/out")" = "c/ gpl.txt b.c a.txt argparse.py" ]; echo $?) \
	"--order mtime: the listing, then the newest last (ties by name)"
run "$LONGREAD" plan -m "$M" c --json
ok $([ "$(jq -r '[.documents[].name] | join(" ")' "$T/out")" = "c/ a.txt argparse.py b.c gpl.txt" ] && \
	[ "$(jq -r '[.documents[].id] | join(" ")' "$T/out")" = "1 2 3 4 5" ]; echo $?) \
	"the default order is the extractor's (files by name) and ids count in window order"

# ---------------------------------------------------------------- the speed record
rm -f c/gpl.txt c/argparse.py
run "$LONGREAD" plan -m "$M" c
ok $(grep -q "^prefill  *unknown: no speed measured" "$T/out"; echo $?) "no measurement yet: the prefill time is unknown"
run "$LONGREAD" plan -m "$M" c --measure -t 1
ok $([ "$rc" -eq 0 ] && grep -q "^prefill  *about .* for [0-9,]* tokens (measured just now: [0-9,]* tok/s at the start, 1 thread," \
	"$T/out" && [ -s "$T/cache/speed.tsv" ]; echo $?) "--measure times a prefill and records it"
run "$LONGREAD" plan -m "$M" c
ok $(grep -q "^prefill  *about" "$T/out"; echo $?) "later plans use the recorded speed"
run "$LONGREAD" plan -m "$M" c --kv f32
ok $(grep -q "^prefill  *unknown" "$T/out"; echo $?) "the record is per KV type"

# ---------------------------------------------------------------- errors
run "$LONGREAD" plan c
expect_usage "missing model" plan "no -m"
run "$LONGREAD" plan -m "$M"
expect_usage "missing PATH" plan "no PATH"
run "$LONGREAD" plan -m "$M" c --order random
expect_usage "invalid order 'random'" plan "an unknown --order"
run "$LONGREAD" plan -m "$M" c --line-numbers 0
expect_usage "--line-numbers" plan "--line-numbers 0"
run "$LONGREAD" plan -m "$M" c -q "  "
expect_usage "the question is empty" plan "an empty question"
printf 'q\n' >q.txt
run "$LONGREAD" plan -m "$M" c -q x --questions q.txt
expect_usage "either -q or --questions" plan "-q and --questions together"
run "$LONGREAD" plan -m "$M" c --json --show-prompt
expect_usage "only one of" plan "--json with --show-prompt"
run "$LONGREAD" plan -m "$M" c -c 200000
expect_usage "exceeds the model's 131072-token context" plan "-c beyond the model's context"
run "$LONGREAD" plan -m "$T/none.gguf" c
expect_fail 3 "cannot open '$T/none.gguf'" "a missing model: exit 3"
run "$LONGREAD" plan -m "$M" c nothere
expect_fail 3 "cannot open 'nothere'" "a missing input: exit 3"
mkdir -p empty
run "$LONGREAD" plan -m "$M" empty
expect_fail 5 "no document with text to read in the inputs: 0 files read" "only an empty directory: exit 5"
run "$LONGREAD" plan -m "$M" "$SRCDIR/corpora/pdf/gpl-licence-encrypted.pdf"
expect_fail 9 "encrypted" "only an encrypted PDF: exit 9"
printf 'garbage, not a PDF\n' >bad.pdf
run "$LONGREAD" plan -m "$M" bad.pdf
expect_fail 4 "bad.pdf" "only a malformed PDF: exit 4"
run "$LONGREAD" plan -m "$M" c "$SRCDIR/corpora/pdf/gpl-licence-encrypted.pdf"
ok $([ "$rc" -eq 10 ] && grep -q ": fits$" "$T/out" && grep -q "encrypted" "$T/err"; echo $?) \
	"a readable directory and an encrypted PDF: the report, and exit 10"
"$GENMODEL" -o nochat.gguf --no-chat-tokens
run "$LONGREAD" plan -m nochat.gguf c
expect_fail 5 "no chat template and no chat tokens longread knows: choose a format with --chat-format" \
	"a vocabulary without the chat tokens: exit 5, naming --chat-format"
"$GENMODEL" -o gemma.gguf --chat-template "{% for m in messages %}<start_of_turn>{{ m.role }}<end_of_turn>{% endfor %}"
run "$LONGREAD" plan -m gemma.gguf c
expect_fail 5 "chat template is none of the formats longread knows (llama3, chatml, deepseek-r1, mistral): choose one with --chat-format" \
	"a model with an unknown chat template: exit 5, naming --chat-format"
run "$LONGREAD" plan -m gemma.gguf c --chat-format llama3
ok $([ "$rc" -eq 0 ] && grep -q ": fits$" "$T/out"; echo $?) "... which --chat-format overrides"
run "$LONGREAD" plan -m gemma.gguf c --chat-format chatml
expect_fail 5 "the vocabulary has no <|im_start|> token, which the chatml chat format needs" \
	"--chat-format chatml on a Llama 3 vocabulary: exit 5, naming the missing token"
run "$LONGREAD" plan -m gemma.gguf c --chat-format gemma
expect_usage "unknown chat format 'gemma' (llama3, chatml, deepseek-r1, mistral)" plan "an unknown --chat-format: exit 2"
"$GENMODEL" -o notemplate.gguf
run "$LONGREAD" plan -m notemplate.gguf c
ok $([ "$rc" -eq 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && \
	grep -q "^longread: warning: 'notemplate.gguf' has no chat template (a base model?); using the llama3 chat format" \
	"$T/err"; echo $?) "the chat tokens without a template string: one warning, then the report"

run "$LONGREAD" plan -m "$M" c
ok $(grep -q "^memory  *[0-9.]* [KMG]iB: weights [0-9.]* [KMG]iB + KV cache [0-9.]* [KMG]iB; [0-9.]* [KMG]iB available here: fits$" "$T/out"
	echo $?) "the report says whether weights and cache fit in the memory available here"

done_testing
