#!/bin/sh
# tests/cli_api.sh — `longread ask --api` over real HTTP on 127.0.0.1, against
# tests/api_server.py playing a well-behaved OpenAI-compatible server and each faulty
# one: the request the server receives (the packed window as chat messages, the same
# text the local engine reads; stream true; the model; the key only in the
# Authorization header), the streamed answer and its citation check, the budget counted
# by a local tokenizer, the server's /tokenize or an estimate, the window from
# /v1/models, several questions resending one prefix, and for every fault one error
# line, its exit code, and a partial answer marked as cut off.  Every command runs
# under timeout: a hang fails the test instead of stopping the suite.
. "${SRCDIR:-.}/tests/lib.sh"
need_golden tokenizer/llama3-vocab.gguf

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset LONGREAD_API_URL LONGREAD_API_KEY OPENAI_API_KEY
export LONGREAD_CACHE_DIR="$T/cache"
KEY=sk-test-9f8e7d6c5b4a
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
cd "$T" || exit 1
small_corpus c

# serve NAME [ARGS...] — start tests/api_server.py logging to NAME.log; sets URL
serve() {
	_name=$1
	shift
	rm -f "$_name.log"
	python3 "$SRCDIR/tests/api_server.py" --log "$T/$_name.log" --lifetime 180 "$@" >"$_name.port" 2>"$_name.stderr" &
	pids="$pids $!"
	_i=0
	while [ ! -s "$_name.port" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	URL="http://127.0.0.1:$(cat "$_name.port")"
}

# ask ARGS... — longread ask, bounded in time, output in $T/out and $T/err
ask() {
	run timeout 60 "$LONGREAD" ask "$@"
}

# chats NAME — the chat requests NAME's server received, one JSON body per line
chats() {
	jq -c 'select(.path == "/v1/chat/completions") | .body | fromjson' "$1.log"
}

# fails_with RC LAST_LINE_NEEDLE DESCRIPTION — after ask: exit RC, the last line of
# stderr is the error (starting "longread: ", containing the needle) and is the only
# line that says so
fails_with() {
	_last=$(tail -n 1 "$T/err")
	if [ "$rc" -eq "$1" ] && case "$_last" in "longread: "*) true ;; *) false ;; esac &&
	   printf '%s' "$_last" | grep -qF -- "$2" && [ "$(grep -cF -- "$2" "$T/err")" -eq 1 ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "  exit $rc (want $1); stderr: $(cat "$T/err")"
	fi
}

# py EXPR — print a Python expression over the JSON in $T/out (first line) as j and
# the last chat request of good.log as req
py() {
	python3 -c "
import json, sys
j = json.loads(open('$T/out').readline() or 'null')
reqs = [json.loads(json.loads(l)['body']) for l in open('$T/' + sys.argv[1] + '.log') if json.loads(l)['path'] == '/v1/chat/completions']
req = reqs[-1] if reqs else None
def ntok(s, per): return (len(s.encode()) + per - 1) // per
def docs(user): return [d + '</document>\n' for d in user.split('<documents>\n', 1)[1].split('</documents>')[0].split('</document>\n') if d]
print($2)" "$1"
}

# ---------------------------------------------------------------- a well-behaved server
serve good
LONGREAD_API_KEY=$KEY ask --api "$URL" c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && [ "$(head -n 1 "$T/out")" = 'The second line says "beta" [a.txt:2].' ] &&
	grep -q '^citations: 1 of 1 verified$' "$T/out" && grep -q '^  verified  *\[a.txt:2\] quote found at line 2$' "$T/out";
	echo $?) "the streamed answer on stdout, then its citations checked against the local documents"
ok $(grep -q "^longread: API '$URL/v1', model 'test-model', window 8,192 tokens (the server's); tokens counted by the server's /tokenize$" "$T/err" &&
	grep -q '^longread: answer 6 tokens in [0-9.]* s (end), first token after [0-9.]* s; prompt [0-9,]* tokens, 0 from the server.s cache$' "$T/err";
	echo $?) "stderr names the server, the model (the only one listed), its window and how tokens were counted"
chats good >req.json
ok $(jq -e '.model == "test-model" and .stream == true and .stream_options.include_usage == true and
	.max_tokens == 1024 and (.messages | length) == 2 and .messages[0].role == "system" and
	(.messages[0].content | test("cite where it comes from")) and .messages[1].role == "user" and
	(.messages[1].content | startswith("<documents>\n<document id=\"1\" name=\"c/\" kind=\"tree\">")) and
	(.messages[1].content | contains("<document id=\"2\" name=\"a.txt\" kind=\"text\" lines=\"3\">\n1\talpha\nbeta\ngamma\n</document>\n")) and
	(.messages[1].content | endswith("</documents>\n\nQuestion: What is beta?")) and
	(has("temperature") or has("top_p") or has("seed") | not)' req.json >/dev/null; echo $?) \
	"the request: model, stream, the packed documents with their anchors and the question as chat messages, no sampling not asked for"
ok $([ "$(jq -r 'select(.headers.Authorization != "Bearer '$KEY'") | .path' good.log | wc -l)" -eq 0 ] &&
	[ "$(grep -c "$KEY" good.log)" -eq "$(wc -l <good.log)" ] &&
	[ "$(jq -r '.path, .body' good.log | grep -c "$KEY")" -eq 0 ] && ! grep -q "$KEY" "$T/out" "$T/err"; echo $?) \
	"the key from LONGREAD_API_KEY goes in every request's Authorization header and nowhere else"

LONGREAD_API_KEY=$KEY ask --api "$URL" c -q "What is beta?" --json
cp "$T/out" good.json
ok $([ "$rc" -eq 0 ] && [ "$(wc -l <good.json)" -eq 1 ] && jq -e '
	.answer == "The second line says \"beta\" [a.txt:2]." and .stop == "end" and .cut_off == false and .error == null
	and .citations_verified == 1 and .citations[0].status == "verified"
	and (.tokens | .documents > 0 and .instructions > 0 and .question > 0 and .answer == 6 and .window == 8192
	     and .counted == "server" and .estimate == false)
	and (.timings | (.extract, .tokenize, .first_token, .decode, .total) | type == "number" and . >= 0)
	and .model == null
	and (.api | .url == $u and .model == "test-model" and .window_from == "server" and .server_window == 8192
	     and .tokenizer == "server" and .estimate == false and .finish_reason == "stop"
	     and .prompt_tokens > 0 and .completion_tokens == 6 and (.cached_tokens | type) == "number" and .retries == 0)
	and (.budget | .fits and .window == 8192 and .prefix_digest == null)
	and (.corpus | length == 3)' --arg u "$URL/v1" good.json >/dev/null && ! grep -q "$KEY" good.json; echo $?) \
	"--json: answer, stop, cut_off, citations, token counts, time to first token, the api record; no key"
ok $([ "$(py good "j['tokens']['documents'] == sum(ntok(d, 3) for d in docs(req['messages'][1]['content']))")" = True ]; echo $?) \
	"the budget counts each document as the server's /tokenize does (3 bytes a token here)"

: >good.log
ask --api "$URL" c -q "What is beta?" --temp 0 --seed 7 --top-k 5 -n 64
ok $([ "$rc" -eq 0 ] && chats good | jq -e '.temperature == 0 and .seed == 7 and .top_k == 5 and
	.max_tokens == 64 and (has("top_p") or has("min_p") | not)' >/dev/null &&
	[ "$(jq -r 'select(.headers.Authorization) | .path' good.log | wc -l)" -eq 0 ]; echo $?) \
	"sampling options given are sent (-n as max_tokens); without a key, no Authorization header"
OPENAI_API_KEY=$KEY ask --api "$URL" c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && tail -n 1 good.log | jq -e '.headers.Authorization == "Bearer '$KEY'"' >/dev/null; echo $?) \
	"OPENAI_API_KEY is used when LONGREAD_API_KEY is not set"
LONGREAD_API_URL=$URL ask c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && grep -q "^longread: API '$URL/v1'" "$T/err"; echo $?) "LONGREAD_API_URL stands for --api"
ask --api "$URL/v1" c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && grep -q "^longread: API '$URL/v1'," "$T/err"; echo $?) "a URL with a path is the API's base as is"

# ---------------------------------------------------------------- several questions, one prefix
serve cache --prefill-delay 0.6
printf 'What is alpha?\nWhat is gamma?\n' >q.txt
ask --api "$URL" c --questions q.txt --json
ok $([ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 2 ] && [ "$(chats cache | wc -l)" -eq 2 ] &&
	[ "$(chats cache | jq -c '.messages[0].content' | sort -u | wc -l)" -eq 1 ] &&
	[ "$(chats cache | jq -c '.messages[1].content | split("Question: ")[0]' | sort -u | wc -l)" -eq 1 ]; echo $?) \
	"two questions: two requests resending the identical system message and document prefix"
ok $(jq -s -e '.[0].api.cached_tokens == 0 and .[1].api.cached_tokens > 0 and
	.[1].timings.first_token < .[0].timings.first_token and .[0].timings.first_token >= 0.5' "$T/out" >/dev/null; echo $?) \
	"the server's prefix cache answers the second question sooner: time to first token per question in --json"
ok $([ "$(grep -c '^longread: answer .* first token after [0-9.]* s' "$T/err")" -eq 2 ]; echo $?) \
	"the stderr report gives each question's time to first token"
run sh -c "printf 'What is alpha?\n\nWhat is gamma?\n' | timeout 60 '$LONGREAD' ask --api '$URL' c"
ok $([ "$rc" -eq 0 ] && [ "$(grep -c '^> What is ' "$T/out")" -eq 2 ] && [ "$(grep -c '^citations: ' "$T/out")" -eq 2 ]; echo $?) \
	"questions from a pipe: each echoed, answered and checked"

# ---------------------------------------------------------------- exact counting: the same window as the local engine
M="$T/m.gguf"
genmodel_llama3 "$M" --ctx 65536
ok $? "generate a small model with the Llama 3 vocabulary"
"$LONGREAD" plan -m "$M" -c 8192 c -q "What is beta?" --show-prompt >prompt.txt
"$LONGREAD" plan -m "$M" -c 8192 c -q "What is beta?" --json >plan.json
serve exact
ask --api "$URL" -m "$M" c -q "What is beta?" --json
ok $([ "$rc" -eq 0 ] && grep -q "; tokens counted by the model's tokenizer$" "$T/err" &&
	[ "$(jq -c 'select(.path == "/tokenize")' exact.log | wc -l)" -eq 0 ]; echo $?) \
	"-m: tokens counted by the model's own tokenizer, no /tokenize request"
chats exact | jq -j '"<|begin_of_text|>" + ([.messages[] | "<|start_header_id|>" + .role + "<|end_header_id|>\n\n" + .content + "<|eot_id|>"] | join("")) + "<|start_header_id|>assistant<|end_header_id|>\n\n"' >sent.txt
ok $(cmp -s sent.txt prompt.txt; echo $?) \
	"the messages, put through the Llama 3 chat template, are exactly the prompt the local engine reads (plan --show-prompt)"
ok $(jq -e --slurpfile p plan.json '.tokens.documents == $p[0].budget.documents and .tokens.instructions == $p[0].budget.instructions
	and .tokens.counted == "local" and .model.fingerprint == ($p[0].model.fingerprint)' "$T/out" >/dev/null; echo $?) \
	"-m: the budget is the local one, token for token"
ask --api "$URL" --vocab "$GOLDEN/tokenizer/llama3-vocab.gguf" c -q "What is beta?" --json
ok $([ "$rc" -eq 0 ] && grep -q "; tokens counted by the vocabulary's tokenizer$" "$T/err" &&
	[ "$(chats exact | sort -u | wc -l)" -eq 1 ] && jq -e '.model == null and .tokens.counted == "local"' "$T/out" >/dev/null; echo $?) \
	"--vocab: the same request and budget as with the model"

# ---------------------------------------------------------------- other tokenizers and windows
serve est --tokenizer none
ask --api "$URL" c -q "What is beta?" --json
ok $([ "$rc" -eq 0 ] && grep -q "; token counts are estimates (4 bytes a token): the server has no /tokenize$" "$T/err" &&
	jq -e '.tokens.counted == "estimate" and .tokens.estimate and .api.tokenizer == "estimate" and .api.estimate' "$T/out" >/dev/null &&
	[ "$(py est "j['tokens']['documents'] == sum(ntok(d, 4) for d in docs(req['messages'][1]['content']))")" = True ]; echo $?) \
	"a server without /tokenize: the counts are estimates (4 bytes a token), and say so on stderr and in --json"
serve llama --tokenizer llama --models llama --window 4096
ask --api "$URL" c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && grep -q "window 4,096 tokens (the server's); tokens counted by the server's /tokenize$" "$T/err" &&
	jq -s -e '[.[] | select(.path == "/tokenize") | .body | fromjson] | length > 2 and all(has("content"))' llama.log >/dev/null;
	echo $?) \
	"llama-server: its /tokenize form, and the window its /props gives (not n_ctx_train)"
serve nolist --models none
ask --api "$URL" --api-model x c -q "What is beta?"
expect_usage "the window is unknown" ask "no model list: the window must be given with -c"
ask --api "$URL" --api-model x -c 3000 c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && grep -q "model 'x', window 3,000 tokens (-c)" "$T/err" && chats nolist | jq -e '.model == "x"' >/dev/null; echo $?) \
	"--api-model and -c: no list needed"
ask --api "$URL" c -q "What is beta?"
expect_usage "lists no models (HTTP 404): name the model with --api-model" ask "no list and no --api-model: a usage error"
serve many --models many
ask --api "$URL" c -q "What is beta?"
expect_usage "lists 2 models ('test-model', ...): choose one with --api-model" ask "several models and no --api-model: a usage error"
ask --api "$URL" --api-model other-model c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && chats many | jq -e '.model == "other-model"' >/dev/null; echo $?) "--api-model chooses among them"
ask --api "$URL" --api-model test-model -c 9000 c -q "What is beta?"
expect_usage "-c 9000 exceeds the server's 8192-token context" ask "-c beyond the server's window: a usage error"

# ---------------------------------------------------------------- the budget against the server's window
cp "$SRCDIR/corpora/text/GPL-3.txt" c/gpl.txt
serve small --window 1500
ask --api "$URL" c -q "What is beta?" -n 100
ok $([ "$rc" -eq 6 ] && [ ! -s "$T/out" ] && grep -q "^ *id  *tokens  *in window  *document$" "$T/err" &&
	tail -n 1 "$T/err" | grep -q "^longread: the documents do not fit: .* the window holds 1500" &&
	[ "$(chats small | wc -l)" -eq 0 ]; echo $?) "too large for the server's window: exit 6, the table, nothing sent"
ask --api "$URL" c -q "What is beta?" -n 100 --fit --json
ok $([ "$rc" -eq 0 ] && jq -e '.budget.fits and .budget.total <= 1500 and .budget.shortened + .budget.dropped > 0 and
	.api.prompt_tokens + 100 <= 1500' "$T/out" >/dev/null; echo $?) \
	"--fit shortens to the server's window by the server's count, and the server accepts the prompt"
serve tight --models none --window 1500
ask --api "$URL" --api-model x -c 3000 c -q "What is beta?" -n 100 --fit
fails_with 12 "the server answered HTTP 400 to '$URL/v1/chat/completions': This model's maximum context length is 1500 tokens." \
	"a window (-c) larger than the server's: its HTTP 400 with vLLM's message shape, exit 12"
rm c/gpl.txt

# ---------------------------------------------------------------- faults: reaching the server
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ask --api "http://127.0.0.1:$P" c -q "What is beta?"
expect_fail 11 "cannot reach 'http://127.0.0.1:$P/v1/models':" "connection refused: exit 11, one line"
ask --api "http://no-such-host.invalid:8000" --api-timeout 5 c -q "What is beta?"
expect_fail 11 "'http://no-such-host.invalid:8000/v1/models'" "a name that does not resolve: exit 11, one line"
ask --api "https://127.0.0.1:$(cat good.port)" c -q "What is beta?"
expect_fail 11 "TLS error with 'https://127.0.0.1:" "TLS to a server that does not speak it: exit 11, one line"
serve hole --blackhole
t0=$(date +%s)
ask --api "$URL" --api-timeout 1 c -q "What is beta?"
expect_fail 11 "within 1 s (connect timeout)" "a server that never accepts: exit 11 after --api-timeout"
ok $([ $(($(date +%s) - t0)) -lt 10 ]; echo $?) "the connect timeout does not hang"
serve badlist --models bad
ask --api "$URL" c -q "What is beta?"
expect_fail 13 "the reply to GET '$URL/v1/models' is not valid JSON:" "a model list that is not JSON: exit 13, one line"

# ---------------------------------------------------------------- faults: the answer
serve e500 --chat 500
ask --api "$URL" c -q "What is beta?"
fails_with 12 "longread: the server answered HTTP 500 to '$URL/v1/chat/completions': model exploded" \
	"HTTP 500: exit 12 with the server's own message"
ok $([ ! -s "$T/out" ]; echo $?) "HTTP 500: nothing on stdout"
serve r429 --chat 429-then-ok
ask --api "$URL" c -q "What is beta?" --json
ok $([ "$rc" -eq 0 ] && [ "$(chats r429 | wc -l)" -eq 2 ] && jq -e '.api.retries == 1 and .cut_off == false' "$T/out" >/dev/null &&
	[ "$(grep -c '^longread: warning: the server answered HTTP 429: rate limited: retry 1 of 4 in 0 s$' "$T/err")" -eq 1 ]; echo $?) \
	"429 with Retry-After, then success: retried once (a warning), answered"
serve r429f --chat 429
ask --api "$URL" --api-retries 2 c -q "What is beta?"
fails_with 12 "the server answered HTTP 429 to '$URL/v1/chat/completions' (after 2 retries): rate limited" \
	"429 every time: --api-retries 2 bounds it, exit 12"
ok $([ "$(chats r429f | wc -l)" -eq 3 ]; echo $?) "429 every time: three requests in all"
serve r429l --chat 429-long
t0=$(date +%s)
ask --api "$URL" c -q "What is beta?"
fails_with 12 "asks to retry after 3600 s (longread waits at most 60 s): slow down" \
	"a Retry-After longer than longread waits: exit 12 at once"
ok $([ $(($(date +%s) - t0)) -lt 10 ] && [ "$(chats r429l | wc -l)" -eq 1 ]; echo $?) "a long Retry-After is not waited for"

serve cut --chat cut
ask --api "$URL" c -q "What is beta?"
fails_with 13 "the reply from '$URL/v1/chat/completions' broke off:" "a stream cut off midway: exit 13"
ok $([ "$(head -n 1 "$T/out")" = "The second lin" ] && grep -q '^\[answer cut off\]$' "$T/out" && grep -q '^(no citations)$' "$T/out" &&
	grep -q '(cut_off)' "$T/err"; echo $?) "a stream cut off midway: the partial answer printed and marked, then checked"
ask --api "$URL" c -q "What is beta?" --json
ok $([ "$rc" -eq 13 ] && jq -e '.answer == "The second lin" and .cut_off == true and .stop == "cut_off" and
	(.error | test("broke off")) and .api.finish_reason == null' "$T/out" >/dev/null; echo $?) \
	"a stream cut off midway: --json says cut_off, with the partial answer and the error"
serve cutc --chat cut-clean
ask --api "$URL" c -q "What is beta?" --json
fails_with 13 "the answer stream from '$URL/v1/chat/completions' ended before the answer did (no finish reason, no [DONE])" \
	"a stream that ends early but cleanly: exit 13"
ok $(jq -e '.cut_off and .answer == "The second lin"' "$T/out" >/dev/null; echo $?) "... its partial answer is marked cut off"
serve mal --chat malformed
ask --api "$URL" c -q "What is beta?"
fails_with 13 "event 4 of the answer stream from '$URL/v1/chat/completions' is not valid JSON:" "an event that is not JSON: exit 13"
ok $([ "$(head -n 1 "$T/out")" = "The second lin" ] && grep -q '^\[answer cut off\]$' "$T/out"; echo $?) \
	"an event that is not JSON: the answer so far is printed and marked"
serve wrong --chat wrong-json
ask --api "$URL" c -q "What is beta?"
fails_with 13 "is malformed: \"choices\" is not a list" "JSON of the wrong shape: exit 13"
serve evt --chat error-event
ask --api "$URL" c -q "What is beta?"
fails_with 12 "the server reported an error during the answer: slot crashed" "an error event mid-stream (llama-server's): exit 12"
serve stall --chat stall
t0=$(date +%s)
ask --api "$URL" --api-idle-timeout 1 c -q "What is beta?"
fails_with 13 "the reply from '$URL/v1/chat/completions' stalled: nothing for 1 s (idle timeout)" \
	"a stream that stalls: exit 13 after --api-idle-timeout"
ok $([ $(($(date +%s) - t0)) -lt 10 ] && [ "$(head -n 1 "$T/out")" = "The second lin" ]; echo $?) \
	"a stall does not hang; the answer so far is printed"
serve stall1 --chat stall-first
ask --api "$URL" --api-idle-timeout 1 c -q "What is beta?"
fails_with 13 "no reply from '$URL/v1/chat/completions' within 1 s (idle timeout)" "no reply at all: exit 13"
rm -f "$T/out" "$T/err"
"$LONGREAD" ask --api "$URL" --api-idle-timeout 20 c -q "What is beta?" >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ "$(chats stall1 | wc -l)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
ok $([ "$rc" -eq 130 ]; echo $?) "Ctrl-C while waiting for the server: exit 130"
serve whole --chat whole
ask --api "$URL" c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && grep -q '^citations: 1 of 1 verified$' "$T/out"; echo $?) \
	"a server that ignores \"stream\" and sends one JSON reply: answered"

# ---------------------------------------------------------------- plan --api: the budget against the server
serve plan
run timeout 60 "$LONGREAD" plan --api "$URL" c --json
ok $([ "$rc" -eq 0 ] && jq -e --slurpfile g good.json '.model == null and .api.model == "test-model" and
	.api.window_from == "server" and .api.tokenizer == "server" and .budget.window == 8192 and .budget.fits and
	.budget.documents == $g[0].tokens.documents and .budget.instructions == $g[0].tokens.instructions and
	(.documents | length) == 3' "$T/out" >/dev/null; echo $?) \
	"plan --api: the server's window, tokens counted by its /tokenize, the same budget ask --api used"
run timeout 60 "$LONGREAD" plan --api "$URL" c
ok $([ "$rc" -eq 0 ] && grep -q '^total  *[0-9,]* of a 8,192-token window ([0-9]*%): fits$' "$T/out" &&
	! grep -q '^KV cache\|^prefill' "$T/out" && grep -q "^longread: API '$URL/v1', model 'test-model'" "$T/err"; echo $?) \
	"plan --api: the table against the server's window, no local cache or prefill lines"
run timeout 60 "$LONGREAD" plan --api "$URL" -m "$M" -c 8192 c -q "What is beta?" --json
ok $([ "$rc" -eq 0 ] && jq -e --slurpfile p plan.json '.api.tokenizer == "local" and .budget.documents == $p[0].budget.documents
	and .budget.instructions == $p[0].budget.instructions and .model.fingerprint == $p[0].model.fingerprint' "$T/out" >/dev/null
	echo $?) "plan --api -m: the local tokenizer's exact budget"
run timeout 60 "$LONGREAD" plan --api "$URL" c --measure
expect_usage "it means nothing with --api" plan "plan --api --measure"
run timeout 60 "$LONGREAD" plan --api "$URL" c --show-prompt
expect_usage "need the tokenizer: give -m or --vocab" plan "plan --api --show-prompt without a tokenizer"
run timeout 60 "$LONGREAD" plan --escalate-api "$URL" c
expect_usage "--escalate-api is for ask" plan "plan --escalate-api"

# ---------------------------------------------------------------- --escalate-api: local first, the server when it fails
# the generated model's answers cite nothing, so each question goes on to the server
serve esc
ask -m "$M" -c 4096 -n 6 --temp 0 c -q "What is beta?" --escalate-api "$URL"
ok $([ "$rc" -eq 0 ] && grep -q '^longread: prefill ' "$T/err" &&
	grep -q "^longread: escalation API '$URL/v1', model 'test-model': asked when a local answer cites nothing or a citation does not verify$" "$T/err" &&
	grep -q "^longread: escalating to 'test-model' at '$URL/v1': the local answer cites nothing$" "$T/err"; echo $?) \
	"--escalate-api: prefilled and answered locally, then escalated because the answer cites nothing"
ok $(grep -q '^(no citations)$' "$T/out" &&
	grep -q "^\[escalated: the local answer cites nothing; the answer of 'test-model':\]$" "$T/out" &&
	grep -q '^The second line says "beta" \[a.txt:2\].$' "$T/out" && grep -q '^citations: 1 of 1 verified$' "$T/out" &&
	[ "$(grep -n '^(no citations)$' "$T/out" | cut -d: -f1)" -lt "$(grep -n '^\[escalated' "$T/out" | cut -d: -f1)" ]
	echo $?) "... both answers printed, the local one and its check first, the server's marked, with its own check"
ok $([ "$(chats esc | wc -l)" -eq 1 ] && chats esc | jq -e '.max_tokens == 6 and .temperature == 0 and
	(.messages[1].content | endswith("</documents>\n\nQuestion: What is beta?"))' >/dev/null; echo $?) \
	"... the server got the same window and question, with the options given"
printf 'What is alpha?\nWhat is gamma?\n' >q2.txt
ask -m "$M" -c 4096 -n 6 --temp 0 c --questions q2.txt --escalate-api "$URL" --json
ok $([ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 2 ] && [ "$(grep -c '^longread: prefill ' "$T/err")" -eq 1 ] &&
	jq -s -e 'all(.[]; (.answer | type) == "string" and .citations_verified == 0 and .tokens.prefilled >= 0
	and (.escalation | .reason == "the local answer cites nothing" and .stop == "end" and .error == null
	     and .answer == "The second line says \"beta\" [a.txt:2]." and .citations_verified == 1
	     and .api.model == "test-model" and (.timings.total | type) == "number"))' "$T/out" >/dev/null; echo $?) \
	"--json: one record a question, the local answer and the escalation (reason, answer, citations, api)"
ask -m "$M" -c 4096 -n 6 c -q "What is beta?" --escalate-api "http://127.0.0.1:$P"
expect_fail 11 "cannot reach 'http://127.0.0.1:$P/v1/models':" "--escalate-api to no server: exit 11 before any work"
ask -m "$M" c -q "What is beta?" --api "$URL" --escalate-api "$URL"
expect_usage "--api and --escalate-api: give one" ask "--api with --escalate-api"
ask -m "$M" -c 4096 -n 6 --kv f16 -t 1 c -q "What is beta?" --escalate-api "$URL"
ok $([ "$rc" -eq 0 ] && grep -q '^longread: KV cache f16: ' "$T/err"; echo $?) "--escalate-api keeps -t and --kv for the local engine"

# ---------------------------------------------------------------- usage
ask --api-model x c -q "What is beta?"
expect_usage "--api-model needs --api URL" ask "--api-model without --api"
ask --api "$URL" -t 2 c -q "What is beta?"
expect_usage "mean nothing with --api" ask "-t with --api"
ask --vocab "$GOLDEN/tokenizer/llama3-vocab.gguf" c -q "What is beta?"
expect_usage "--vocab counts tokens for --api" ask "--vocab without --api"
ask --api "ftp://127.0.0.1/" c -q "What is beta?"
expect_usage "must start with http:// or https://" ask "--api with another scheme"
"$LONGREAD" pack -m "$M" -c 4096 c -o c.lrc 2>/dev/null
ask --api "$URL" c.lrc -q "What is beta?"
expect_usage "a saved context (.lrc) holds a local cache" ask "a .lrc file with --api"

done_testing
