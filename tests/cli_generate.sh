#!/bin/sh
# tests/cli_generate.sh — `longread generate` and `longread logits` from the command
# line: deterministic greedy and seeded output, token limits, the chat format, and
# one error line with the documented exit code for each kind of bad input.
. "${SRCDIR:-.}/tests/lib.sh"
need_golden tokenizer/llama3-vocab.gguf
: "${GENMODEL:?GENMODEL must point at tests/lr-genmodel}"

M="$T/m.gguf"
"$GENMODEL" -o "$M" --vocab-from "$GOLDEN/tokenizer/llama3-vocab.gguf" --embd 256 --heads 4 --kv-heads 2 \
	--ff 768 --layers 2 --type Q8_0
ok $? "generate a small model with the Llama 3 vocabulary"

run "$LONGREAD" generate -m "$M" -p "The agreement renews" -n 12 --temp 0
ok $([ "$rc" -eq 0 ] && [ -s "$T/out" ]; echo $?) "greedy generation succeeds"
cp "$T/out" "$T/greedy1"
ok $(grep -q '^longread: prefill 5 tokens in .* generated 12 tokens in .*tok/s' "$T/err"; echo $?) \
	"speeds on stderr: prefill of BOS + 4 prompt tokens, 12 generated"
run "$LONGREAD" generate -m "$M" -p "The agreement renews" -n 12 --temp 0 -t 1
ok $(cmp -s "$T/out" "$T/greedy1"; echo $?) "greedy output is the same on another run and thread count"
run "$LONGREAD" generate -m "$M" -p "The agreement renews" -n 12 --temp 1 --seed 7
cp "$T/out" "$T/seed7"
run "$LONGREAD" generate -m "$M" -p "The agreement renews" -n 12 --temp 1 --seed 7
ok $(cmp -s "$T/out" "$T/seed7"; echo $?) "a seed reproduces a sampled run"
ok $(grep -q 'seed 7$' "$T/err"; echo $?) "the seed is reported"
printf 'The agreement renews' >"$T/prompt.txt"
run "$LONGREAD" generate -m "$M" -f "$T/prompt.txt" -n 12 --temp 0
ok $(cmp -s "$T/out" "$T/greedy1"; echo $?) "-f FILE is the same prompt as -p"
run sh -c "printf 'The agreement renews' | '$LONGREAD' generate -m '$M' -f - -n 12 --temp 0"
ok $(cmp -s "$T/out" "$T/greedy1"; echo $?) "-f - reads the prompt from stdin"
run "$LONGREAD" generate -m "$M" -p "What is 2+2?" --chat --system "Be brief." -n 4 --temp 0
ok $([ "$rc" -eq 0 ] && grep -q '^longread: prefill 2[0-9] tokens' "$T/err"; echo $?) \
	"--chat wraps system and user turns in the template"
run "$LONGREAD" generate -m "$M" -p "x" -n 0
ok $([ "$rc" -eq 0 ] && grep -q 'generated 0 tokens' "$T/err"; echo $?) "-n 0 only prefills"
ok $(grep -q '^longread: KV cache q8: .* for 2 tokens$' "$T/err"; echo $?) \
	"the reserved KV cache is reported (default q8, window = prompt + -n)"
for kv in f32 f16 q8 q4; do
	run "$LONGREAD" generate -m "$M" -p "The agreement renews" -n 6 --temp 0 --kv $kv -c 4096
	ok $([ "$rc" -eq 0 ] && [ -s "$T/out" ] && grep -q "^longread: KV cache $kv: .* for 4096 tokens\$" "$T/err"; echo $?) \
		"--kv $kv -c 4096 generates and reports its cache"
done
run "$LONGREAD" generate -m "$M" -p x --kv q5
expect_usage "invalid KV cache type 'q5'" generate "an unknown KV cache type"

run "$LONGREAD" generate -p "x"
expect_usage "missing model" generate "generate without -m"
run "$LONGREAD" generate -m "$M"
expect_usage "either -p or -f" generate "generate without a prompt"
run "$LONGREAD" generate -m "$M" -p x -f y
expect_usage "either -p or -f" generate "generate with two prompts"
run "$LONGREAD" generate -m "$M" -p x --temp hot
expect_usage "invalid value 'hot' for --temp" generate "a temperature that is not a number"
run "$LONGREAD" generate -m "$M" -p x --top-p 0
expect_usage "--top-p" generate "top-p out of range"
run "$LONGREAD" generate -m "$M" -p x --system hi
expect_usage "--system needs --chat" generate "--system without --chat"
run "$LONGREAD" generate -m "$T/none.gguf" -p x
expect_fail 3 "cannot open '$T/none.gguf'" "a missing model: exit 3"
printf 'not a model\n' >"$T/text.gguf"
run "$LONGREAD" generate -m "$T/text.gguf" -p x
expect_fail 4 "not a GGUF file" "a text file as model: exit 4"
run "$LONGREAD" generate -m "$M" -f "$T/none.txt"
expect_fail 3 "cannot open '$T/none.txt'" "a missing prompt file: exit 3"
run "$LONGREAD" generate -m "$M" -p "one two three four five six seven" -c 4
expect_fail 6 "the window holds 4" "a prompt longer than the window: exit 6"
run "$LONGREAD" generate -m "$M" -p x -c 200000
expect_fail 2 "exceeds the model's 131072" "a window beyond the model's context: exit 2"

# logits
G="$GOLDEN/models"
run "$LONGREAD" logits -m "$G/nano-Q4_0.gguf" --ids "$G/s1.ids" --positions "$G/s1.positions" -o "$T/l.f32"
ok $([ "$rc" -eq 0 ] && [ "$(wc -c <"$T/l.f32")" -eq $((64 * 512 * 4)) ] && [ ! -s "$T/out" ]; echo $?) \
	"logits writes 64 positions x 512 float32 and nothing on stdout"
printf '0\n63\n0\n' >"$T/pos"
run "$LONGREAD" logits -m "$G/nano-Q4_0.gguf" --ids "$G/s1.ids" --positions "$T/pos" -o "$T/l3.f32"
ok $(cmp -s -n 2048 "$T/l3.f32" "$T/l.f32" && [ "$(wc -c <"$T/l3.f32")" -eq 6144 ] &&
	cmp -s -i 4096:0 -n 2048 "$T/l3.f32" "$T/l.f32"; echo $?) "positions are written in file order, repeats included"
printf '506\n12\nseven\n' >"$T/bad.ids"
run "$LONGREAD" logits -m "$G/nano-Q4_0.gguf" --ids "$T/bad.ids" --positions "$T/pos" -o "$T/x.f32"
expect_fail 4 "line 3: 'seven' is not a whole number from 0 to 511" "a non-number id: exit 4 naming the line"
printf '506\n512\n' >"$T/big.ids"
run "$LONGREAD" logits -m "$G/nano-Q4_0.gguf" --ids "$T/big.ids" --positions "$T/pos" -o "$T/x.f32"
expect_fail 4 "'512' is not a whole number from 0 to 511" "an id outside the vocabulary: exit 4"
printf '506\n12\n' >"$T/two.ids"
run "$LONGREAD" logits -m "$G/nano-Q4_0.gguf" --ids "$T/two.ids" --positions "$T/pos" -o "$T/x.f32"
expect_fail 4 "'63' is not a whole number from 0 to 1" "a position past the sequence: exit 4"
run "$LONGREAD" logits -m "$G/nano-Q4_0.gguf" --ids "$G/s1.ids" --positions "$T/pos" -o "$T/no/dir/x.f32"
expect_fail 3 "cannot create" "an unwritable output: exit 3"
ok $([ ! -e "$T/x.f32" ]; echo $?) "a failed run leaves no output file"
run "$LONGREAD" logits -m "$G/nano-Q4_0.gguf" --ids "$G/s1.ids" -o "$T/x.f32"
expect_usage "are all required" logits "logits without positions"

# the low-bit types run; IQ3_S is refused naming the type (exit 5, the documented code
# for an unsupported model)
for type in Q2_K Q3_K_M IQ4_NL IQ4_XS; do
	run "$LONGREAD" logits -m "$G/nano-$type.gguf" --ids "$G/s1.ids" --positions "$G/s1.positions" -o "$T/l.f32"
	ok $([ "$rc" -eq 0 ] && [ "$(wc -c <"$T/l.f32")" -eq $((64 * 512 * 4)) ]; echo $?) "logits on nano-$type"
done
run "$LONGREAD" logits -m "$G/nano-IQ3_S.gguf" --ids "$G/s1.ids" --positions "$G/s1.positions" -o "$T/x.f32"
expect_fail 5 "tensor 'token_embd.weight' has unsupported type IQ3_S" "an IQ3_S model: exit 5 naming the type"

done_testing
