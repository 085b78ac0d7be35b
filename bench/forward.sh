#!/bin/sh
# bench/forward.sh — prefill and decode speed on generated models of the Llama-3.2-1B
# shape (Q8_0, Q4_0, Q4_K_M, and the low-bit Q3_K_M, Q2_K, IQ4_NL, IQ4_XS), 2 threads.
# Models are generated once into $LONGREAD_BENCH_DIR (default /tmp/longread-bench;
# about 6 GB).  TYPES="Q4_K_M Q2_K" runs some of them.  Decode reads every
# weight once per token, so bench_membw's figure comes first: the bound decode is held
# to.  Figures only: the machine is shared, so each figure is the best of a few runs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$PWD}
dir=${LONGREAD_BENCH_DIR:-/tmp/longread-bench}
threads=${THREADS:-2}
mkdir -p "$dir"

echo "== the bound on decode: memory read speed, $threads threads"
"$build/bench/bench_membw" -t "$threads"

for type in ${TYPES:-Q8_0 Q4_0 Q4_K_M Q3_K_M Q2_K IQ4_NL IQ4_XS}; do
	model="$dir/1b-$type.gguf"
	[ -f "$model" ] || "$build/tests/lr-genmodel" --shape 1b --type "$type" \
		--vocab-from "$top/../shared/golden/tokenizer/llama3-vocab.gguf" -o "$model"
	echo "== Llama-3.2-1B shape, $type, $threads threads"
	"$build/bench/bench_forward" "$model" -t "$threads" -p 512 -n 32 -r 3 | grep -E '^(prefill|decode)'
	"$build/bench/bench_forward" "$model" -t "$threads" -p 4096 -n 0 -r 1 | grep '^prefill'
done
