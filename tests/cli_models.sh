#!/bin/sh
# tests/cli_models.sh — the other model families end to end (issue 14): a Qwen2.5 file
# (golden/qwen2: architecture qwen2, its tokenizer, the ChatML template) goes through
# inspect, plan, ask, pack and a saved window unchanged; its prompt is ChatML with no
# BOS; a window beyond its 32,768 trained tokens is refused with the YaRN options that
# reach it, which then work and are recorded in the .lrc; the chat format is chosen from
# the template, and --chat-format overrides it.
. "${SRCDIR:-.}/tests/lib.sh"
Q="$GOLDEN/qwen2/models"
[ -f "$Q/qnano-F32.gguf" ] || { echo "1..0 # SKIP no golden Qwen2.5 models at $Q"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed (./bootstrap installs it)"; exit 0; }
QM="$Q/qnano-Q4_K_M.gguf"
cd "$T" || exit 1
printf 'The access code of Project Kalivo is 4821.\nThe second line.\n' >notes.txt

run "$LONGREAD" inspect "$QM"
ok $([ "$rc" -eq 0 ] && grep -q '^architecture  *qwen2$' "$T/out" &&
	grep -q '^tokenizer  *gpt2, pre qwen2, 512 tokens' "$T/out" &&
	grep -q '^chat template  *yes, format chatml$' "$T/out" &&
	grep -q '^note .*Qwen2.5 reads up to 131072 with YaRN: --rope-scaling yarn --rope-scale 4$' "$T/out"; echo $?) \
	"inspect: architecture qwen2, its pre-tokenizer, the ChatML template, the YaRN note"
run "$LONGREAD" inspect --json "$Q/qnano-yarn-F32.gguf"
ok $([ "$rc" -eq 0 ] && jq -e '.architecture == "qwen2" and .rope.scaling == "yarn" and .rope.factor == 4 and
	.rope.original_context == 32768 and .context_length == 131072 and .tokenizer.chat_format == "chatml"' \
	"$T/out" >/dev/null; echo $?) "inspect --json: YaRN from the file (factor 4 over 32768)"

run "$LONGREAD" plan -m "$QM" notes.txt -c 4096 -n 16 --show-prompt
ok $([ "$rc" -eq 0 ] && [ "$(head -c 22 "$T/out")" = "<|im_start|>system
You" ] && grep -q '^<|im_start|>user$' "$T/out" &&
	grep -q 'Project Kalivo is 4821' "$T/out" && ! grep -q 'begin_of_text\|start_header_id' "$T/out"; echo $?) \
	"plan --show-prompt: the ChatML layout, no BOS, no Llama 3 markup"
run "$LONGREAD" plan -m "$QM" notes.txt -c 4096 -n 16 --show-ids
first=$(tr -s ' \n' '\n\n' <"$T/out" | grep -m1 '^[0-9][0-9]*$')
is "$first" 510 "the prompt starts with <|im_start|> (510), not a BOS"

run "$LONGREAD" ask -m "$QM" notes.txt -q "What is the access code?" -c 4096 -n 12 --temp 0 --json
ok $([ "$rc" -eq 0 ] && jq -e '.tokens.answer >= 1 and .tokens.answer <= 12 and (.stop == "end" or .stop == "length")' \
	"$T/out" >/dev/null; echo $?) "ask on a Qwen2.5 model answers (random weights: any text), within -n"
run "$LONGREAD" ask -m "$QM" notes.txt -q x -c 65536
expect_usage "-c 65536 exceeds the model's 32768-token context; Qwen2.5 reads up to 4 times that with YaRN: --rope-scaling yarn --rope-scale 4" \
	ask "a window beyond the trained 32,768 tokens: exit 2, naming the YaRN options"
run "$LONGREAD" ask -m "$QM" notes.txt -q x -c 65536 --rope-scale 4
expect_usage "--rope-scale and --yarn-orig-ctx go with --rope-scaling yarn" ask "--rope-scale alone: exit 2"
run "$LONGREAD" plan -m "$QM" notes.txt -c 65536 --rope-scaling yarn
expect_fail 2 "--rope-scaling yarn needs --rope-scale" "--rope-scaling yarn on a file without a factor: exit 2"

run "$LONGREAD" pack -m "$QM" notes.txt -c 65536 -n 16 --rope-scaling yarn --rope-scale 4 -o y.lrc
ok $rc "pack a 65,536-token window with YaRN x4 (over the file's 32,768)"
run "$LONGREAD" ask y.lrc -q "What is the access code?" -n 4 --temp 0 --json
ok $([ "$rc" -eq 0 ] && jq -e '.tokens.reused > 0' "$T/out" >/dev/null; echo $?) \
	"the saved window is asked without the options: the .lrc records the scaling and the format"
run "$LONGREAD" ask y.lrc -q x --rope-scaling none
expect_usage "'y.lrc' was computed with RoPE scaling yarn (factor 4, original context 32768)" ask \
	"asked with other RoPE scaling: exit 2, saying what it was computed with"
run "$LONGREAD" ask y.lrc -q x --chat-format llama3
expect_usage "'y.lrc' was packed in the chatml chat format" ask "asked in another chat format: exit 2"

run "$LONGREAD" plan -m "$QM" notes.txt -c 4096 --chat-format llama3
expect_fail 5 "the vocabulary has no <|begin_of_text|> token, which the llama3 chat format needs" \
	"--chat-format llama3 on the Qwen2.5 vocabulary: exit 5, naming the missing token"
run "$LONGREAD" plan -m "$QM" notes.txt -c 4096 -n 16 --chat-format mistral --show-prompt
ok $([ "$rc" -eq 0 ] && grep -q '^\[INST\] You answer questions' "$T/out" && [ "$(grep -c 'INST' "$T/out")" -eq 1 ] &&
	grep -q '^<documents>$' "$T/out"; echo $?) \
	"--chat-format mistral: one [INST] holds the system message and the documents"

# tokenize uses the Qwen2 pre-tokenizer: digits one at a time
printf 12345 >digits.txt
run "$LONGREAD" tokenize -m "$QM" digits.txt
is "$(tr '\n' ' ' <"$T/out")" "16 17 18 19 20 " "Qwen2.5 tokenizes 12345 as five digits (byte tokens 16..20)"
done_testing
