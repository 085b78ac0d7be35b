#!/bin/sh
# bench/needle.sh — what the KV cache type costs a reader: retrieval accuracy of the
# trained reader (tests/models/reader.gguf) over a grid of window (2k, 8k, 32k, 131,072
# tokens) x depth of the fact (0%, 10%, ..., 100% of the documents) x KV type (f32, f16,
# q8, q4), at least $FACTS facts per cell, on held-out corpora (tests/reader/needle.py:
# filler, names and value formats training never saw; near-duplicate distractors beside
# 30% of the facts; 2 absent facts per corpus).  Each corpus is packed once per KV type
# (one prefill) and all its questions are asked against the .lrc, greedily.  Counts:
# exact answers (the fact's sentence quoted word for word), answers whose citation the
# checker verifies, and absent facts answered as absent.
# Env: WINDOWS (default "2048 8192 32768 131072"), KVS (default "f32 f16 q8 q4"), FACTS
# (default 20), ANSWER (tokens an answer may take, default 48), MODEL, THREADS (default
# 2).  Figures, not tests.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$PWD}
lr="$build/longread"
model=${MODEL:-$top/tests/models/reader.gguf}
needle="$top/tests/reader/needle.py"
dir=${LONGREAD_BENCH_DIR:-/tmp/longread-bench}/needle
threads=${THREADS:-2}
facts=${FACTS:-20}
answer=${ANSWER:-48}      # tokens an answer may take (a right one takes 20-35)
rm -rf "$dir"
mkdir -p "$dir"
echo "model: $model ($(sha256sum "$model" | cut -c1-16)), $threads threads"

for w in ${WINDOWS:-2048 8192 32768 131072}; do
	# facts per depth per corpus: more in longer windows, so fewer prefills (a 131,072-token
	# window holds 11 a depth, one fact line in about 1,100 tokens)
	per=$(( w / 12000 + 1 ))
	n=$(( (facts + per - 1) / per ))
	for s in $(seq 1 "$n"); do
		c="$dir/w$w-s$s"
		python3 "$needle" gen --longread "$lr" -m "$model" -c "$w" --seed "$((w + s))" \
			--per-depth "$per" --answer "$answer" -o "$c" 2>>"$dir/gen.log"
		for kv in ${KVS:-f32 f16 q8 q4}; do
			(cd "$c" && "$lr" pack -m "$model" docs -c "$w" -n "$answer" --kv "$kv" -t "$threads" \
				-o "$c/$kv.lrc" 2>"$c/$kv.pack.err")
			"$lr" ask "$c/$kv.lrc" -n "$answer" --temp 0 -t "$threads" --json \
				--questions "$c/questions.txt" >"$c/$kv.jsonl" 2>"$c/$kv.ask.err"
			python3 "$needle" score --expect "$c/expect.jsonl" --answers "$c/$kv.jsonl" --json \
				>"$c/$kv.score"
			rm -f "$c/$kv.lrc"
		done
		echo "window $w corpus $s/$n: $(for kv in ${KVS:-f32 f16 q8 q4}; do
			printf '%s %s  ' "$kv" "$(jq -c '[.exact, .found]' "$c/$kv.score")"; done)"
	done
done
python3 "$needle" table "$dir"
