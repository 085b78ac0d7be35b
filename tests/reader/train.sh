#!/bin/sh
# tests/reader/train.sh — `make reader`: retrain the reader from scratch (or resume) and
# write tests/models/reader.gguf (F16) and tests/models/reader-q8_0.gguf.  Needs Debian's
# python3-torch and python3-numpy; the build and `make check` never run this.
# Steps: a vocabulary model (the reader's shape, random weights) for longread to lay out
# and tokenize the data with; the training and held-out sequences; training in three
# stages (resumable: run it again after an interruption); export through tests/lr-genmodel; a check that
# longread's logits equal PyTorch's.  Env: READER_WORK (default tests/reader-work under
# the build directory), PYTHON (default /usr/bin/python3), STEPS, SEED, N_TRAIN, BUDGET (stage 1);
# STEPS2, N_TRAIN2, BUDGET2 (stage 2); STEPS3 (stage 3, 0 to leave it out); FILLER_BIAS (default 0; 1 weighs each kept filler
# token as the window tokens it stands for: the fourth attempt of tests/reader/README.md);
# PREV_PAIRS (default 3: the committed recipe; 8 widens layer 0's previous-token heads from
# the start, so stage 3 only trains the gains); NGRAM (default 4: the committed recipe; 8
# starts from model.init_ngram8_induction, a copy head in layer 2 that matches 8 tokens,
# with 8 pairs in layer 0 from the start; measured at initialisation and for 500 steps:
# tests/reader/README.md); FREEZE (default 0; 1 holds the compiled circuit fixed through
# stages 1 and 2: train.py --freeze-circuit, model.py Reader.circuit; 2 also scales its
# held norm weights with the residual's growth, train.py --track-rms: measured worse than 1,
# tests/reader/README.md).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILDDIR:-$PWD}
work=${READER_WORK:-$build/tests/reader-work}
py=${PYTHON:-/usr/bin/python3}
seed=${SEED:-1}
steps=${STEPS:-1500}
n_train=${N_TRAIN:-12000}
budget=${BUDGET:-512}      # prefix tokens kept per training sequence, stage 1
budget2=${BUDGET2:-2048}   # and stage 2
steps2=${STEPS2:-120}
steps3=${STEPS3:-100}
n_train2=${N_TRAIN2:-1800}
filler_bias=${FILLER_BIAS:-0}
prev_pairs=${PREV_PAIRS:-3}
ngram=${NGRAM:-4}
freeze=""
case ${FREEZE:-0} in
0) ;;
1) freeze=--freeze-circuit ;;
2) freeze="--freeze-circuit --track-rms" ;;
*) echo "reader: FREEZE is 0, 1 or 2" >&2; exit 2 ;;
esac
widen1="" widen3="--widen-prev 8" init=ngram
[ "$prev_pairs" -le 3 ] || widen1="--widen-prev $prev_pairs"
[ "$prev_pairs" -lt 8 ] || widen3=""
case $ngram in
4) ;;
8) init=ngram8 widen1="" widen3="" ;;
*) echo "reader: NGRAM is 4 or 8" >&2; exit 2 ;;
esac
weights=""
[ "$filler_bias" = 0 ] || weights=--filler-weights
# the shape (tests/reader/model.py's Config and tests/lr-genmodel's flags must agree)
layers=4 embd=256 heads=4 kv_heads=2 head_dim=64 ff=768 vocab_cut=4080
config="{\"n_layer\":$layers,\"n_embd\":$embd,\"n_head\":$heads,\"n_head_kv\":$kv_heads,\"head_dim\":$head_dim,\"n_ff\":$ff,\"n_vocab\":$((vocab_cut + 16))}"
config3="${config%\}},\"q_gain\":true}"   # stage 3: a gain per query head
shape="--layers $layers --embd $embd --heads $heads --kv-heads $kv_heads --head-dim $head_dim --ff $ff --tied --rope-factor 8"
vocab="--vocab-from $top/../shared/golden/tokenizer/llama3-vocab.gguf --vocab-cut $vocab_cut"

"$py" -c 'import torch, numpy' 2>/dev/null || {
	echo "reader: needs PyTorch and NumPy: apt-get install python3-torch python3-numpy" >&2; exit 1; }
mkdir -p "$work" "$top/tests/models"
"$build/tests/lr-genmodel" -o "$work/vocab.gguf" $shape $vocab --name "reader vocabulary"
# stage 1: sparse long windows (PoSE, $budget prefix tokens a sequence), copy exercises first
if [ ! -f "$work/data/done" ]; then
	"$py" "$top/tests/reader/make_data.py" --longread "$build/longread" --vocab-model "$work/vocab.gguf" \
		--split eval --n 256 --seed $((seed + 1000)) --budget "$budget" $weights -o "$work/data"
	"$py" "$top/tests/reader/make_data.py" --longread "$build/longread" --vocab-model "$work/vocab.gguf" \
		--split train --n "$n_train" --seed "$seed" --budget "$budget" $weights -o "$work/data"
	touch "$work/data/done"
fi
# a compiled n-gram induction head to start from (model.init_ngram_induction), so the
# copy exercises alone are short and their position gaps reach 131,072 by step 140
"$py" -u "$top/tests/reader/train.py" --data "$work/data" --out "$work/run" --seed "$seed" \
	--steps "$steps" --lr 2e-3 --copy-steps 150 --gap-from 50 --gap-doubling 8 --init "$init" \
	--filler-bias "$filler_bias" --config "$config" $widen1 $freeze --resume
# stage 2: dense windows ($budget2 prefix tokens: a third of the sets whole, the rest
# with 4 times the filler of stage 1), from stage 1's weights; stage 1 alone read a
# dense window of a few thousand tokens badly (tests/reader/README.md)
if [ ! -f "$work/data2/done" ]; then
	"$py" "$top/tests/reader/make_data.py" --longread "$build/longread" --vocab-model "$work/vocab.gguf" \
		--split eval --n 64 --seed $((seed + 1001)) --budget "$budget2" $weights -o "$work/data2"
	"$py" "$top/tests/reader/make_data.py" --longread "$build/longread" --vocab-model "$work/vocab.gguf" \
		--split train --n "$n_train2" --seed $((seed + 1)) --budget "$budget2" $weights -o "$work/data2"
	touch "$work/data2/done"
fi
"$py" -u "$top/tests/reader/train.py" --data "$work/data2" --out "$work/run2" --seed $((seed + 1)) \
	--steps "$steps2" --lr 1e-3 --warmup 20 --copy-steps 0 --gap-from 0 --eval-every 40 \
	--filler-bias "$filler_bias" --config "$config" --init "$init" $freeze --init-from "$work/run/ckpt.pt" --resume
# stage 3, for long windows: layer 0's previous-token heads widened from 3 rotary pairs
# to 8 (three alias: far positions outscore the offset in a long window; model.py
# widen_previous_token_heads), then each query head's sharpness calibrated: stages 1
# and 2 see at most 2,048 keys, and a head that wins among those by a few nats loses
# among tens of thousands.  A gain per query head (folded into attn_q on export) is
# trained alone, every weight frozen, on sparse windows whose kept filler weighs the
# window tokens it stands for (make_data.py --filler-weights, train.py --filler-bias).
final=$work/run2
if [ "$steps3" -gt 0 ]; then
	if [ ! -f "$work/data3/done" ]; then
		"$py" "$top/tests/reader/make_data.py" --longread "$build/longread" --vocab-model "$work/vocab.gguf" \
			--split eval --n 128 --seed $((seed + 3000)) --budget "$budget" --filler-weights -o "$work/data3"
		"$py" "$top/tests/reader/make_data.py" --longread "$build/longread" --vocab-model "$work/vocab.gguf" \
			--split train --n 4000 --seed $((seed + 2)) --budget "$budget" --filler-weights -o "$work/data3"
		touch "$work/data3/done"
	fi
	"$py" -u "$top/tests/reader/train.py" --data "$work/data3" --out "$work/run3" --seed $((seed + 2)) \
		--steps "$steps3" --lr 5e-4 --gain-lr-mult 80 --warmup 5 --copy-steps 0 --gap-from 0 --eval-every 50 \
		--filler-bias 1 --only-gains $widen3 --config "$config3" --init-from "$work/run2/ckpt.pt" --resume
	final=$work/run3
fi
"$build/tests/lr-genmodel" -o "$top/tests/models/reader.gguf" $shape $vocab --type F16 \
	--weights "$final/reader.lrwt" --name "longread reader (tests/reader, seed $seed)"
"$build/tests/lr-genmodel" -o "$top/tests/models/reader-q8_0.gguf" $shape $vocab --type Q8_0 \
	--weights "$final/reader.lrwt" --name "longread reader (tests/reader, seed $seed), Q8_0"
"$py" "$top/tests/reader/check_export.py" --ckpt "$final/ckpt.pt" --gguf "$top/tests/models/reader.gguf" \
	--longread "$build/longread" --data "$work/data"
