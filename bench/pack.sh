#!/bin/sh
# bench/pack.sh — saved contexts (.lrc): file size per token per KV type, raw and with
# zstd; save and load times; time to the first answer token from a loaded file versus
# a fresh prefill — for a 32k-token corpus (and the full 131,072-token window with
# BENCH_FULL=1) on a small generated model (2 layers, 256 wide, Q8_0, 2 threads).
# Windows: $WINDOWS (default 32768); KV types: $PACK_KV (default "f16 q8 q4").  The
# zstd file is made by packing onto a copy of the raw one, so it reuses the whole
# prefill (and shows that reuse costs no prefill).
# Figures, not tests: the machine is shared, so compare numbers from one run only.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$PWD}
lr="$build/longread"
dir=${LONGREAD_BENCH_DIR:-/tmp/longread-bench}
mkdir -p "$dir"
model="$dir/pack-model.gguf"
[ -f "$model" ] || "$build/tests/lr-genmodel" -o "$model" --vocab-from "$top/../shared/golden/tokenizer/llama3-vocab.gguf" \
	--embd 256 --heads 4 --kv-heads 2 --ff 768 --layers 2 --type Q8_0
corpus="$top/corpora/text"
q="What does the licence say about warranties?"

windows=${WINDOWS:-32768}
[ "${BENCH_FULL:-0}" = 1 ] && windows="$windows 131072"
for w in $windows; do
	echo "== a corpus filling a $w-token window (--fit), 2 threads"
	printf '%-5s %-5s %12s %10s %9s %9s %11s %11s\n' kv codec bytes bytes/tok save_s load_s ttft_file ttft_fresh
	for kv in ${PACK_KV:-f16 q8 q4}; do
		for codec in raw zstd; do
			out="$dir/bench-$w-$kv-$codec.lrc"
			extra="--fresh"
			if [ "$codec" = zstd ]; then
				cp "$dir/bench-$w-$kv-raw.lrc" "$out"
				extra="--zstd-kv"
			fi
			"$lr" pack -m "$model" "$corpus" -c "$w" --fit --kv "$kv" -t 2 -o "$out" $extra 2>"$dir/pack.err"
			tokens=$(sed -n 's/^longread: packed [0-9]* documents, \([0-9,]*\) tokens.*/\1/p' "$dir/pack.err" | tr -d ,)
			save=$(sed -n 's/.*written in \([0-9.]*\) s.*/\1/p' "$dir/pack.err")
			bytes=$(wc -c <"$out")
			"$lr" ask "$out" -q "$q" -n 1 --temp 0 -t 2 >/dev/null 2>"$dir/ask.err"
			load=$(sed -n 's/^longread: loaded .* in \([0-9.]*\) s.*/\1/p' "$dir/ask.err")
			ttft=$(sed -n 's/.*first token after \([0-9.]*\) s.*/\1/p' "$dir/ask.err")
			fresh="-"
			if [ "$codec" = raw ]; then
				"$lr" ask -m "$model" "$corpus" -c "$w" --fit --kv "$kv" -q "$q" -n 1 --temp 0 -t 2 >/dev/null 2>"$dir/ask.err"
				fresh=$(sed -n 's/.*first token after \([0-9.]*\) s.*/\1/p' "$dir/ask.err")
			fi
			printf '%-5s %-5s %12s %10.1f %9s %9s %11s %11s\n' "$kv" "$codec" "$bytes" \
				"$(echo "$bytes $tokens" | awk '{ printf "%.1f", $1 / $2 }')" "$save" "$load" "$ttft" "$fresh"
		done
	done
done
