#!/bin/sh
# tests/cli_inspect.sh — `longread inspect` on every golden GGUF (metadata, tensor types
# and counts as MANIFEST.tsv and the golden README state) and on bad files (one error
# line, documented exit code).
. "${SRCDIR:-.}/tests/lib.sh"
need_golden models/nano-F32.gguf
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed (./bootstrap installs it)"; exit 0; }

M="$GOLDEN/models"
# every model in the manifest: tensor types, tensor count, parameters, file size
awk -F'\t' '$2 == "model" { print $1, $7, $8, $9, $10 }' "$M/MANIFEST.tsv" >"$T/models"
# the manifest grows with the golden set: it must name every GGUF stored beside it
n_files=$(ls "$M" | grep -c '\.gguf$')
is "$(wc -l <"$T/models" | tr -d ' ')" "$n_files" "the manifest lists every model stored ($n_files)"
while read -r file types n_tensors n_params bytes; do
	run "$LONGREAD" inspect --json "$M/$file"
	if [ "$rc" -ne 0 ]; then
		ok 1 "$file: inspect --json succeeds"; diag "$(cat "$T/err")"; continue
	fi
	got=$(jq -r '[.tensor_types | to_entries[] | "\(.key):\(.value)"] | join(",")' "$T/out")
	is "$got" "$types" "$file: tensor types $types"
	is "$(jq -r '"\(.n_tensors) \(.n_params) \(.file_bytes)"' "$T/out")" "$n_tensors $n_params $bytes" \
		"$file: $n_tensors tensors, $n_params parameters, $bytes bytes"
	is "$(jq -r '"\(.architecture) \(.n_layer) \(.n_embd) \(.n_head) \(.n_head_kv) \(.head_dim) \(.n_ff) \(.context_length) \(.n_vocab) \(.rope.base) \(.rope.rope_freqs) \(.tokenizer.bos_id) \(.tokenizer.eos_id) \(.tokenizer.n_merges) \(.tokenizer.chat_template)"' "$T/out")" \
		"llama 2 256 4 2 64 768 131072 512 500000 true 506 510 250 false" "$file: hyper-parameters and tokenizer as in the README"
done <"$T/models"

# what longread cannot compute with is named; the low-bit types it computes with are not
for type in Q2_K Q3_K Q3_K_M IQ4_NL IQ4_XS IQ3_S; do
	want=""; [ "$type" = IQ3_S ] && want=IQ3_S
	run "$LONGREAD" inspect --json "$M/nano-$type.gguf"
	is "$(jq -r '.unsupported_types | join(",")' "$T/out")" "$want" "nano-$type: unsupported types '$want'"
done
run "$LONGREAD" inspect "$M/nano-IQ3_S.gguf"
ok $(grep -q '^unsupported  *IQ3_S tensors cannot be computed by longread$' "$T/out"; echo $?) "text: IQ3_S named as unsupported"
run "$LONGREAD" inspect --json "$M/nano-Q3_K_M.gguf"
is "$(jq -r .file_type "$T/out")" "Q3_K_M" "nano-Q3_K_M: file type Q3_K_M"

run "$LONGREAD" inspect --json "$M/nano-tied-F32.gguf"
is "$(jq -r .tied_output "$T/out")" "true" "nano-tied: output tied to token_embd"
run "$LONGREAD" inspect --json "$M/nano-Q4_K_M.gguf"
is "$(jq -r .file_type "$T/out")" "Q4_K_M" "nano-Q4_K_M: file type Q4_K_M"

V="$GOLDEN/tokenizer/llama3-vocab.gguf"
run "$LONGREAD" inspect --json "$V"
is "$(jq -r '"\(.name)|\(.n_layer) \(.n_embd) \(.n_head) \(.n_head_kv) \(.head_dim) \(.n_ff) \(.context_length)"' "$T/out")" \
	"Llama 3.1 vocab (synthetic, vocab only)|32 4096 32 8 128 14336 131072" "vocab: name and Llama 3.1 8B shape"
is "$(jq -r '"\(.tokenizer.model) \(.tokenizer.pre) \(.tokenizer.n_tokens) \(.tokenizer.n_merges) \(.tokenizer.bos_id) \(.tokenizer.eos_id) \(.tokenizer.chat_template)"' "$T/out")" \
	"gpt2 llama-bpe 128256 280147 128000 128009 true" "vocab: tokenizer facts"
# 32 layers x 8 KV heads x (128 + 128) x 131072 tokens x 2 bytes = 16 GiB; q8 8.5/16 of it, q4 4.5/16,
# each plus the f16 copy of the first 16 tokens: 32 x 8 x 256 x 16 x 2 bytes = 2 MiB
is "$(jq -r '.kv_cache_bytes["131072"] | "\(.f16) \(.q8) \(.q4)"' "$T/out")" \
	"17179869184 9128902656 4833935360" "vocab: KV cache at 131072 tokens: 16 / 8.5 / 4.5 GiB (+ 2 MiB of sinks)"
is "$(jq -r '.kv_cache_bytes["8192"].f16' "$T/out")" "1073741824" "vocab: f16 KV cache at 8192 tokens is 1 GiB"
is "$(jq -r .n_tensors "$T/out")" "0" "vocab: no tensors"

# text output
run "$LONGREAD" inspect "$M/nano-Q4_K_M.gguf"
ok $([ "$rc" -eq 0 ] && grep -q '^tensors  *22: F32 6, Q4_K 13, Q6_K 3$' "$T/out"; echo $?) "text: tensor count by type"
ok $(grep -q '^rope .*base 500000.*llama3.*rope_freqs present' "$T/out"; echo $?) "text: rope base and llama3 scaling"
# 2 layers x 2 KV heads x 128 x 4.5 bits per token, plus 16 KiB of f16 sinks
ok $(grep -Eq '^  q4 +2\.27 MiB +9\.02 MiB +36\.0 MiB$' "$T/out"; echo $?) "text: q4 KV cache row"

# --metadata: every key and tensor, any architecture
run "$LONGREAD" inspect --metadata "$M/nano-Q4_K_M.gguf"
is "$(grep -c '^tensor ' "$T/out")" "22" "--metadata lists 22 tensors"
ok $(grep -q '^tokenizer.ggml.tokens  *array  *\[512 x string\]' "$T/out"; echo $?) "--metadata shows arrays with their size"
run "$LONGREAD" inspect --metadata --json "$M/nano-Q4_K_M.gguf"
is "$(jq -r '"\(.tensors | length) \(.metadata["general.name"]) \(.metadata["tokenizer.ggml.merges"].count)"' "$T/out")" \
	"22 golden-nano 250" "--metadata --json: tensors, strings, arrays"

# bad input: one line on stderr, documented exit codes
run "$LONGREAD" inspect "$T/missing.gguf"
expect_fail 3 "cannot open '$T/missing.gguf': No such file or directory" "a missing file: exit 3"
run "$LONGREAD" inspect "$T"
expect_fail 3 "Is a directory" "a directory: exit 3"
printf 'just some text\n' >"$T/text.gguf"
run "$LONGREAD" inspect "$T/text.gguf"
expect_fail 4 "not a GGUF file" "a text file: exit 4"
: >"$T/empty.gguf"
run "$LONGREAD" inspect "$T/empty.gguf"
expect_fail 4 "empty file" "an empty file: exit 4"
head -c 100000 "$M/nano-F32.gguf" >"$T/trunc.gguf"
run "$LONGREAD" inspect "$T/trunc.gguf"
expect_fail 4 "truncated" "a truncated model: exit 4"
head -c 3000 "$V" >"$T/trunc-vocab.gguf"
run "$LONGREAD" inspect "$T/trunc-vocab.gguf"
expect_fail 4 "truncated" "a vocabulary cut inside its token strings: exit 4"
run "$LONGREAD" inspect "$SRCDIR/tests/fuzz/gguf/unknown_tensor_type.gguf"
expect_fail 5 "unknown type id 99" "an unknown tensor type: exit 5"
run "$LONGREAD" inspect "$SRCDIR/tests/fuzz/gguf/bad_version.gguf"
expect_fail 5 "version 99" "an unknown GGUF version: exit 5"

# a well-formed GGUF of another architecture: GGUF v3, 0 tensors, 1 key
{
	printf 'GGUF\003\000\000\000'
	printf '\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000'
	printf '\024\000\000\000\000\000\000\000general.architecture'
	printf '\010\000\000\000\005\000\000\000\000\000\000\000qwen3'
} >"$T/qwen3.gguf"
run "$LONGREAD" inspect "$T/qwen3.gguf"
expect_fail 5 "architecture 'qwen3' is not supported (supported: llama, qwen2)" "another architecture: exit 5"
run "$LONGREAD" inspect --metadata "$T/qwen3.gguf"
ok $([ "$rc" -eq 0 ] && grep -q '^general.architecture  *string  *"qwen3"' "$T/out"; echo $?) \
	"--metadata still dumps another architecture"

# a FIFO where a model is expected: refused at once, never waited on
mkfifo "$T/fifo.gguf"
run timeout 10 "$LONGREAD" inspect "$T/fifo.gguf"
expect_fail 4 "is not a regular file" "a FIFO as the model: exit 4 at once, no hang"

done_testing
