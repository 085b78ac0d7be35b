#!/bin/sh
# tests/genmodel.sh — the test-model generator: real model shapes have their published
# parameter counts, generated files load and have the golden models' tensor layout,
# output is deterministic, the llama3 rope factors match the golden ones.
. "${SRCDIR:-.}/tests/lib.sh"
need_golden models/nano-F32.gguf
need_golden tokenizer/llama3-vocab.gguf
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed (./bootstrap installs it)"; exit 0; }
: "${GENMODEL:?GENMODEL must point at tests/lr-genmodel}"

# parameter counts published for the Hugging Face checkpoints (rope_freqs is GGUF-only)
for pair in 1b:1235814400 3b:3212749824 8b:8030261248 70b:70553706496; do
	shape=${pair%%:*}; want=${pair#*:}
	got=$("$GENMODEL" --shape "$shape" --describe | awk '$1 == "model_parameters" { print $2 }')
	is "$got" "$want" "shape $shape has $want parameters"
done
is "$("$GENMODEL" --shape 1b --describe | grep -c '^tensor output.weight')" "0" "shape 1b has tied embeddings"
is "$("$GENMODEL" --shape 8b --describe | grep -c '^tensor output.weight')" "1" "shape 8b has an output matrix"

# the nano shape is the golden nano's: same tensors, parameters and layout
"$GENMODEL" -o "$T/nano.gguf"
ok $? "generate nano F32"
run "$LONGREAD" inspect --json "$T/nano.gguf"
is "$(jq -r '"\(.n_tensors) \(.n_params) \(.n_layer) \(.n_embd) \(.n_head) \(.n_head_kv) \(.head_dim) \(.n_ff) \(.n_vocab) \(.rope.rope_freqs)"' "$T/out")" \
	"22 1836320 2 256 4 2 64 768 512 true" "nano: the golden nano's shape and parameter count"
is "$(jq -r '"\(.tokenizer.model) \(.tokenizer.pre) \(.tokenizer.bos_id) \(.tokenizer.eos_id)"' "$T/out")" \
	"gpt2 llama-bpe 506 510" "nano: byte-level vocabulary with the golden nano's BOS/EOS ids"

# rope_freqs equals the golden nano's (computed independently by llama.cpp's converter)
rope_floats() { # FILE -> the 32 floats of rope_freqs.weight, one per line
	"$LONGREAD" inspect --metadata --json "$1" >"$T/meta.json"
	off=$(jq -r '.data_offset + (.tensors[] | select(.name == "rope_freqs.weight") | .offset)' "$T/meta.json")
	od -A n -t f4 -v -j "$off" -N 128 "$1" | tr -s ' ' '\n' | grep -v '^$'
}
rope_floats "$T/nano.gguf" >"$T/rope.ours"
rope_floats "$GOLDEN/models/nano-F32.gguf" >"$T/rope.golden"
ok $(paste "$T/rope.ours" "$T/rope.golden" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-5 || NF != 2) bad++ } END { exit (NR != 32 || bad) }'; echo $?) \
	"nano: rope_freqs matches the golden llama3 factors"

# every weight type: the golden models' tensor type counts
for type in F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS; do
	"$GENMODEL" -o "$T/m.gguf" --type "$type" && run "$LONGREAD" inspect --json "$T/m.gguf"
	is "$(jq -r '[.tensor_types | to_entries[] | "\(.key):\(.value)"] | join(",")' "$T/out")" \
		"F32:6,$type:16" "nano $type: 16 matrices of $type, 6 F32 vectors"
done
"$GENMODEL" -o "$T/m.gguf" --type Q4_K_M && run "$LONGREAD" inspect --json "$T/m.gguf"
is "$(jq -r '([.tensor_types | to_entries[] | "\(.key):\(.value)"] | join(",")) + " " + .file_type' "$T/out")" \
	"F32:6,Q4_K:13,Q6_K:3 Q4_K_M" "nano Q4_K_M: llama.cpp's mix (as golden nano-Q4_K_M)"
# Q3_K_M: every tensor's type as llama-quantize chose it for golden nano-Q3_K_M
"$GENMODEL" --type Q3_K_M --describe | awk '$1 == "tensor" { print $2, $3 }' | sort >"$T/plan"
run "$LONGREAD" inspect --metadata --json "$GOLDEN/models/nano-Q3_K_M.gguf"
jq -r '.tensors[] | "\(.name) \(.type)"' "$T/out" | sort >"$T/golden"
ok $(cmp -s "$T/plan" "$T/golden"; echo $?) "nano Q3_K_M: llama.cpp's mix, tensor by tensor (as golden nano-Q3_K_M)"
"$GENMODEL" --type Q3_K_M --layers 32 --describe >"$T/plan"
is "$(awk '$3 == "Q5_K" { print $2 }' "$T/plan" | tr '\n' ' ')" \
	"blk.0.attn_v.weight blk.0.ffn_down.weight blk.1.attn_v.weight blk.1.ffn_down.weight " \
	"Q3_K_M with 32 layers: Q5_K for attn_v in the first two layers, ffn_down in the first sixteenth"
# 8 layers: more bits for layers 0, 3, 6, 7 (first/last eighth, every third between)
"$GENMODEL" --type Q5_K_M --layers 8 --describe >"$T/plan"
is "$(awk '$3 == "Q6_K" { print $2 }' "$T/plan" | tr '\n' ' ')" \
	"blk.0.attn_v.weight blk.0.ffn_down.weight blk.3.attn_v.weight blk.3.ffn_down.weight blk.6.attn_v.weight blk.6.ffn_down.weight blk.7.attn_v.weight blk.7.ffn_down.weight output.weight " \
	"Q5_K_M with 8 layers: Q6_K where llama.cpp puts it"

# determinism
"$GENMODEL" -o "$T/a.gguf" --type Q4_K --seed 7 && "$GENMODEL" -o "$T/b.gguf" --type Q4_K --seed 7
ok $(cmp -s "$T/a.gguf" "$T/b.gguf"; echo $?) "the same seed gives the same bytes"
"$GENMODEL" -o "$T/c.gguf" --type Q4_K --seed 8
ok $(! cmp -s "$T/a.gguf" "$T/c.gguf"; echo $?) "another seed gives other weights"

# tied output, the real tokenizer
"$GENMODEL" -o "$T/tied.gguf" --tied && run "$LONGREAD" inspect --json "$T/tied.gguf"
is "$(jq -r '"\(.tied_output) \(.n_tensors)"' "$T/out")" "true 21" "--tied: no output.weight"
"$GENMODEL" -o "$T/v.gguf" --vocab-from "$GOLDEN/tokenizer/llama3-vocab.gguf" --embd 64 --heads 2 --kv-heads 1 \
	--head-dim 32 --ff 64 --layers 1 --type Q8_0 && run "$LONGREAD" inspect --json "$T/v.gguf"
is "$(jq -r '"\(.n_vocab) \(.tokenizer.n_merges) \(.tokenizer.bos_id) \(.tokenizer.eos_id) \(.tokenizer.chat_template)"' "$T/out")" \
	"128256 280147 128000 128009 true" "--vocab-from copies the Llama 3 tokenizer"

# --vocab-cut: the first N ordinary tokens of a vocabulary, its merges among them, and
# its first 16 control tokens renumbered after them (the trained reader's vocabulary)
"$GENMODEL" -o "$T/cut.gguf" --vocab-from "$GOLDEN/tokenizer/llama3-vocab.gguf" --vocab-cut 1000 \
	--embd 64 --heads 2 --kv-heads 1 --head-dim 32 --ff 64 --layers 1 && run "$LONGREAD" inspect --json "$T/cut.gguf"
is "$(jq -r '"\(.n_vocab) \(.tokenizer.bos_id) \(.tokenizer.eos_id) \(.tokenizer.n_merges > 700) \(.tokenizer.chat_template)"' "$T/out")" \
	"1016 1000 1009 true true" "--vocab-cut 1000: 1,016 tokens, BOS and EOT renumbered, the merges among them kept"
printf 'The access code of Falcon is 4821.\n' >"$T/cut.txt"
"$LONGREAD" tokenize -m "$T/cut.gguf" "$T/cut.txt" >"$T/cut.ids"
"$LONGREAD" tokenize --vocab "$GOLDEN/tokenizer/llama3-vocab.gguf" "$T/cut.txt" >"$T/full.ids"
ok $([ "$(wc -l <"$T/cut.ids")" -gt "$(wc -l <"$T/full.ids")" ] && awk '$1 >= 1000 { bad++ } END { exit bad }' "$T/cut.ids"; echo $?) \
	"the cut vocabulary tokenizes with its own tokens only, in more pieces than the whole one"
is "$(printf '<|eot_id|>' | "$LONGREAD" tokenize -m "$T/cut.gguf" --special -)" "1009" "its control tokens parse"

# --weights: trained float32 tensors by name (tests/reader/train.py's export), written as
# the type asked; the file must hold exactly the planned tensors
shape="--vocab 300 --embd 32 --heads 1 --kv-heads 1 --head-dim 32 --ff 32 --layers 1 --tied"
"$GENMODEL" -o "$T/w0.gguf" $shape --describe >"$T/wplan"
python3 - "$T/wplan" "$T/w.lrwt" <<'PY'
import struct, sys
plan = [l.split() for l in open(sys.argv[1]) if l.startswith("tensor ")]
with open(sys.argv[2], "wb") as f:
    ts = [(n, int(a), int(b)) for _, n, _, a, b in plan if n != "rope_freqs.weight"]
    f.write(b"LRWT" + struct.pack("<II", 1, len(ts)))
    for k, (n, a, b) in enumerate(ts):
        dims = [a] if b == 1 and "norm" in n else [a, b]
        f.write(struct.pack("<I", len(n)) + n.encode() + struct.pack("<I", len(dims)))
        f.write(struct.pack("<%dQ" % len(dims), *dims))
        f.write(struct.pack("<%df" % (a * b), *[(k + 1) + i / 1024.0 for i in range(a * b)]))
        if n == "blk.0.attn_k.weight":
            print(" ".join("%.9g" % ((k + 1) + i / 1024.0) for i in range(4)), file=open(sys.argv[2] + ".k", "w"))
PY
run "$GENMODEL" -o "$T/w.gguf" $shape --weights "$T/w.lrwt"
ok $rc "--weights: a model from given weights"
"$LONGREAD" inspect --metadata --json "$T/w.gguf" >"$T/meta.json"
off=$(jq -r '.data_offset + (.tensors[] | select(.name == "blk.0.attn_k.weight") | .offset)' "$T/meta.json")
od -A n -t f4 -v -j "$off" -N 16 "$T/w.gguf" | tr -s ' ' '\n' | grep -v '^$' >"$T/w.got"
tr ' ' '\n' <"$T/w.lrwt.k" | paste "$T/w.got" - >"$T/w.cmp"
ok $(awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6 || NF != 2) bad++ } END { exit (NR != 4 || bad) }' "$T/w.cmp"; echo $?) \
	"the weights are written as given (blk.0.attn_k.weight, F32)"
head -c 200 "$T/w.lrwt" >"$T/short.lrwt"
run "$GENMODEL" -o "$T/x.gguf" $shape --weights "$T/short.lrwt"
ok $([ "$rc" -eq 1 ] && [ ! -e "$T/x.gguf" ] && grep -q 'not a weights file' "$T/err"; echo $?) \
	"a truncated weights file is refused, nothing written"
run "$GENMODEL" -o "$T/x.gguf" $shape --untied --weights "$T/w.lrwt"
ok $([ "$rc" -eq 1 ] && [ ! -e "$T/x.gguf" ] && grep -q "no tensor 'output.weight'" "$T/err"; echo $?) \
	"weights without a planned tensor are refused"

# bad arguments
run "$GENMODEL" -o "$T/x.gguf" --type IQ2_XXS
ok $([ "$rc" -eq 2 ] && [ ! -e "$T/x.gguf" ]; echo $?) "an unsupported type is refused, nothing written"
run "$GENMODEL" -o "$T/x.gguf" --type Q4_K --embd 96 --heads 2 --kv-heads 1 --head-dim 48
ok $([ "$rc" -eq 2 ] && grep -q 'not a multiple' "$T/err"; echo $?) "rows that do not fit the blocks are refused"
run "$GENMODEL" -o /nonexistent/dir/x.gguf
ok $([ "$rc" -eq 1 ] && grep -q 'cannot create' "$T/err"; echo $?) "an unwritable path is an error"

done_testing
