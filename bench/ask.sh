#!/bin/sh
# bench/ask.sh — time to the first answer token of `longread ask` for a corpus filling
# windows of 8k and 32k tokens (and, with BENCH_FULL=1, the whole 131,072-token
# window), on a small generated model (Llama 3 vocabulary, 2 layers, 256 wide, 4 heads,
# Q8_0), with the share of each stage: extraction, tokenizing and packing, the
# document prefill, the question's prefill, and the rest (loading the model and the
# tokenizer, the fingerprint, sampling).  The corpus (corpora/text, corpora/html and
# corpora/pdf/debian-faq.pdf, about 700k tokens) is packed with --fit, so each window is
# full.  Figures only, best of RUNS runs (default 1): the machine is shared.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$PWD}
dir=${LONGREAD_BENCH_DIR:-/tmp/longread-bench}
threads=${THREADS:-2}
runs=${RUNS:-1}
windows=${WINDOWS:-8192 32768}
[ "${BENCH_FULL:-0}" = 1 ] && windows="$windows 131072"
mkdir -p "$dir"
model="$dir/ask-nano-Q8_0.gguf"
[ -f "$model" ] || "$build/tests/lr-genmodel" --vocab-from "$top/../shared/golden/tokenizer/llama3-vocab.gguf" \
	--embd 256 --heads 4 --kv-heads 2 --ff 768 --layers 2 --type Q8_0 -o "$model"
export LONGREAD_CACHE_DIR="$dir/cache"

echo "== longread ask: time to first answer token, nano model (2 layers, 256 wide), Q8_0, $threads threads"
printf '%8s %8s %9s | %16s %16s %16s %16s %16s\n' window tokens "1st token" extract "tokenize+pack" prefill question other
for w in $windows; do
	best=""
	for r in $(seq "$runs"); do
		out=$("$build/longread" ask -m "$model" -c "$w" --fit -n 8 --temp 0 -t "$threads" --json \
			-q "Which package manager does Debian use?" \
			"$top/corpora/text" "$top/corpora/html" "$top/corpora/pdf/debian-faq.pdf" 2>/dev/null) || true
		t=$(printf '%s\n' "$out" | jq -r '.timings.first_token')
		if [ -z "$best" ] || awk -v a="$t" -v b="$(printf '%s\n' "$best" | jq -r '.timings.first_token')" 'BEGIN { exit !(a < b) }'; then
			best=$out
		fi
	done
	printf '%s\n' "$best" | jq -r --arg w "$w" '
		def cell(x; t): "\(x * 100 | round / 100) s \((x / t * 100) | round)%" ;
		.timings as $s | ($s.first_token) as $t |
		($t - $s.extract - $s.tokenize - $s.prefill - $s.question) as $o |
		[$w, (.tokens.documents + .tokens.instructions + .tokens.question | tostring),
		 "\($t * 100 | round / 100) s", cell($s.extract; $t), cell($s.tokenize; $t), cell($s.prefill; $t),
		 cell($s.question; $t), cell($o; $t)] | @tsv' |
	awk -F '\t' '{ printf "%8s %8s %9s | %16s %16s %16s %16s %16s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
done
