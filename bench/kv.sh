#!/bin/sh
# bench/kv.sh — the KV cache and attention figures of the README (issue 5):
#   1. cache bytes at 131,072 tokens for the 1B, 8B and 70B shapes, per type;
#   2. attention alone (one layer of the 1B shape) at 4k and 32k keys, per type;
#   3. a 1B-shape model (Q8_0 weights): prefill of 4,096 and 32,768 tokens and decode
#      after them, per type (the 32k runs take tens of minutes each on 2 cores);
#   4. a full 131,072-token prefill of a 4-layer model, per type, with peak memory.
# Models are generated once into $LONGREAD_BENCH_DIR (default /tmp/longread-bench).
# KV_BENCH_QUICK=1 skips the 32k and 131k runs.  Figures only: the machine is shared,
# so compare types within one run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$PWD}
dir=${LONGREAD_BENCH_DIR:-/tmp/longread-bench}
threads=${THREADS:-2}
quick=${KV_BENCH_QUICK:-0}
mkdir -p "$dir"
vocab="$top/../shared/golden/tokenizer/llama3-vocab.gguf"

echo "== 1. KV cache sizes"
"$build/bench/bench_kv"

echo "== 2. attention alone, Llama-3.2-1B layer, $threads threads"
"$build/bench/bench_attention" -t "$threads" -c 4096 -b 256 -r 3 | tail -n +1
[ "$quick" = 1 ] || "$build/bench/bench_attention" -t "$threads" -c 32768 -b 256 -r 2

model="$dir/1b-Q8_0.gguf"
[ -f "$model" ] || "$build/tests/lr-genmodel" --shape 1b --type Q8_0 --vocab-from "$vocab" -o "$model"
echo "== 3. Llama-3.2-1B shape, Q8_0 weights, $threads threads"
for n in 4096 32768; do
	[ "$quick" = 1 ] && [ $n -gt 4096 ] && continue
	for kv in f32 f16 q8 q4; do
		"$build/bench/bench_forward" "$model" -t "$threads" -p $n -n 16 -r 1 --kv $kv | grep -v '^peak'
	done
done

[ "$quick" = 1 ] && exit 0
small="$dir/micro-Q8_0.gguf"
[ -f "$small" ] || "$build/tests/lr-genmodel" --shape micro --type Q8_0 -o "$small"
echo "== 4. 131072-token prefill, 4 layers (micro shape: 8 heads, 2 KV heads, head dim 64), $threads threads"
for kv in f32 f16 q8 q4; do
	"$build/bench/bench_forward" "$small" -t "$threads" -p 131072 -n 0 -r 1 --kv $kv
done
