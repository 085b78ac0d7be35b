#!/bin/sh
# tests/cli_serve.sh — `longread serve` over real HTTP on 127.0.0.1, with a small
# generated model: every endpoint (chat whole and streamed, completions, models,
# health, tokenize, detokenize), errors in OpenAI's shape with their status (400, 401,
# 404, 413, 503 with Retry-After), the client `ask --api` answering exactly as local
# `ask` does (greedy), the prompt cache seen in usage on the second question, a saved
# corpus answered without its documents (and with the trained reader, the same answers
# and citation checks as `ask CORPUS.lrc`), stop strings, a full queue, SIGTERM and
# SIGINT, the official `openai` npm client, and a load of 8 clients x 25 requests (each
# answered or refused with 503, none lost, memory flat).  Every command is bounded by
# timeout: a hang fails the test instead of stopping the suite.
. "${SRCDIR:-.}/tests/lib.sh"
need_golden tokenizer/llama3-vocab.gguf

for tool in curl jq; do
	command -v $tool >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is not installed (./bootstrap installs it)"; exit 0; }
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset LONGREAD_API_URL LONGREAD_API_KEY OPENAI_API_KEY LONGREAD_SERVE_API_KEY
export LONGREAD_CACHE_DIR="$T/cache"
pids=""
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
cd "$T" || exit 1

genmodel_llama3 m.gguf --ctx 16384 >/dev/null 2>&1 || { echo "Bail out! cannot generate the test model"; exit 1; }
small_corpus c
"$LONGREAD" pack -m m.gguf c -c 4096 -o c.lrc 2>/dev/null || { echo "Bail out! cannot pack the corpus"; exit 1; }

# start NAME ARGS... — longread serve -m $SM (default m.gguf) --port 0 ARGS in the
# background, stderr in NAME.err; waits until it listens; sets PID, URL
start() {
	_name=$1
	shift
	"$LONGREAD" serve -m "${SM:-m.gguf}" --port 0 "$@" 2>"$_name.err" &
	PID=$!
	pids="$pids $PID"
	_i=0
	while ! grep -q 'listening on' "$_name.err" 2>/dev/null && kill -0 $PID 2>/dev/null && [ $_i -lt 300 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	URL=$(sed -n 's/^longread: listening on \(http:[^ ]*\)$/\1/p' "$_name.err")
	[ -n "$URL" ] || diag "the server did not start: $(cat "$_name.err")"
}

# stop SIGNAL — signal the server and wait for it (at most 20 s); its status in $src
stop() {
	kill -"$1" $PID 2>/dev/null
	_i=0
	while kill -0 $PID 2>/dev/null && [ $_i -lt 200 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -9 $PID 2>/dev/null
	wait $PID
	src=$?
}

# post PATH JSON [CURL ARGS...] — POST JSON to the server; body in $T/body, status in $code
post() {
	_p=$1
	_d=$2
	shift 2
	code=$(timeout 60 curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$_d" "$@" "$URL$_p")
}

# get PATH [CURL ARGS...]
get() {
	_p=$1
	shift
	code=$(timeout 60 curl -s -o "$T/body" -w '%{http_code}' "$@" "$URL$_p")
}

# jb FILTER — jq -e over the last body, quietly
jb() { jq -e "$1" "$T/body" >/dev/null 2>&1; }

# is_error STATUS TYPE NEEDLE DESCRIPTION — after post/get: that status and an error in
# OpenAI's shape {"error": {"message", "type", "code"}} whose message has NEEDLE
is_error() {
	if [ "$code" = "$1" ] && jb ".error.type == \"$2\" and .error.code == $1" &&
	   jq -r .error.message "$T/body" | grep -qF -- "$3"; then
		ok 0 "$4"
	else
		ok 1 "$4"
		diag "  HTTP $code: $(head -c 400 "$T/body")"
	fi
}

CHAT='{"messages":[{"role":"user","content":"What is beta?"}],"max_tokens":12,"temperature":0}'

# ---------------------------------------------------------------- the command line
run "$LONGREAD" serve --help
ok $([ "$rc" -eq 0 ] && grep -q -- '--corpus NAME=FILE' "$T/out" && grep -q -- '--api-key' "$T/out" &&
	grep -q 'Exit status' "$T/out"; echo $?) "serve --help lists the options and the exit codes"
run "$LONGREAD" serve --port 8080
expect_usage "missing model" serve "no model: a usage error"
run "$LONGREAD" serve -m m.gguf --port 70000
expect_usage "--port" serve "a port beyond 65535: a usage error"
run "$LONGREAD" serve -m m.gguf --corpus c.lrc
expect_usage "give NAME=FILE.lrc" serve "--corpus without a name: a usage error"
run timeout 20 "$LONGREAD" serve -m m.gguf --port 0 --corpus x=missing.lrc
expect_fail 3 "missing.lrc" "a corpus file that is not there: exit 3, one line"
run timeout 20 "$LONGREAD" serve -m m.gguf --port 0 --corpus x=c/a.txt
expect_fail 4 "c/a.txt" "a corpus file that is not a .lrc: exit 4, one line"

# ---------------------------------------------------------------- every endpoint
start main -c 16384 --corpus docs=c.lrc
port=${URL##*:}
run timeout 20 "$LONGREAD" serve -m m.gguf --port "$port"
expect_fail 14 "Address already in use" "a port in use: exit 14, one line that says so"

get /health
ok $([ "$code" = 200 ] && jb '.status == "ok" and .queued == 0'; echo $?) "GET /health: ok, nothing queued"
get /v1/models
corpus_tokens=$(jq '.data[1].longread.tokens' "$T/body")
ok $([ "$code" = 200 ] && jb '.object == "list" and ([.data[].id] == ["m.gguf", "docs"]) and
	.data[0].max_model_len == 16384 and .data[1].longread.documents > 0'; echo $?) \
	"GET /v1/models: the model (with its window) and the corpus"
"$LONGREAD" tokenize -m m.gguf - <c/a.txt >ids.txt 2>/dev/null
post /tokenize "$(jq -n --rawfile t c/a.txt '{content: $t}')"
ok $([ "$code" = 200 ] && [ "$(jq -c .tokens "$T/body")" = "$(jq -s -c . ids.txt)" ]; echo $?) \
	"POST /tokenize (llama-server's form): the ids of longread tokenize"
post /tokenize "$(jq -n --rawfile t c/a.txt '{prompt: $t, add_special_tokens: false}')"
ok $([ "$code" = 200 ] && jb ".count == $(wc -l <ids.txt) and .max_model_len == 16384"; echo $?) \
	"POST /tokenize (vLLM's form): the count and the window"
post /detokenize "$(jq -s -c '{tokens: .}' ids.txt)"
ok $([ "$code" = 200 ] && [ "$(jq -j .content "$T/body"; printf x)" = "$(cat c/a.txt; printf x)" ]; echo $?) \
	"POST /detokenize: the text back"

post /v1/chat/completions "$CHAT"
cp "$T/body" whole.json
ok $([ "$code" = 200 ] && jb '(.id | startswith("chatcmpl-")) and .object == "chat.completion" and .model == "m.gguf" and
	(.created | type) == "number" and .choices[0].message.role == "assistant" and
	.choices[0].finish_reason == "length" and .usage.completion_tokens == 12 and .usage.prompt_tokens > 10 and
	.usage.total_tokens == .usage.prompt_tokens + 12 and (.usage.prompt_tokens_details.cached_tokens | type) == "number"';
	echo $?) "POST /v1/chat/completions: OpenAI's shape, 12 tokens, finish_reason length, usage"
post /v1/chat/completions "$(echo "$CHAT" | jq -c '.stream = true | .stream_options = {include_usage: true}')" -N
sed -n 's/^data: //p' "$T/body" >events
ok $([ "$code" = 200 ] && [ "$(tail -n 1 events)" = "[DONE]" ] &&
	[ "$(grep -v DONE events | jq -s -j '[.[] | .choices[0].delta.content // empty] | join("")')" = \
	  "$(jq -j '.choices[0].message.content' whole.json)" ] &&
	grep -v DONE events | jq -s -e '(.[0].choices[0].delta.role == "assistant") and
	  ([.[] | .object] | unique == ["chat.completion.chunk"]) and
	  (.[-2].choices[0].finish_reason == "length") and (.[-1].choices == []) and (.[-1].usage.completion_tokens == 12) and
	  (.[-1].usage.prompt_tokens_details.cached_tokens == .[-1].usage.prompt_tokens - 1)' >/dev/null; echo $?) \
	"streamed: role, the same text as whole, finish_reason, usage with the cache, [DONE]"
# a stop string taken from the middle of the greedy answer ends it there
stopstr=$(jq -j '.choices[0].message.content | .[5:8]' whole.json)
want=$(jq -j --arg s "$stopstr" '.choices[0].message.content | split($s)[0]' whole.json; printf x)
post /v1/chat/completions "$(echo "$CHAT" | jq -c --arg s "$stopstr" '.stop = ["zzzq", $s]')"
ok $([ "$code" = 200 ] && jb '.choices[0].finish_reason == "stop"' &&
	[ "$(jq -j '.choices[0].message.content' "$T/body"; printf x)" = "$want" ]; echo $?) \
	"a stop string ends the answer before it, finish_reason stop"
post /v1/chat/completions "$(echo "$CHAT" | jq -c --arg s "$stopstr" '.stop = ["zzzq", $s] | .stream = true')" -N
ok $([ "$code" = 200 ] &&
	[ "$(sed -n 's/^data: //p' "$T/body" | grep -v DONE | jq -s -j '[.[] | .choices[0].delta.content // empty] | join("")'; printf x)" = "$want" ] &&
	sed -n 's/^data: //p' "$T/body" | grep -v DONE | jq -s -e '.[-1].choices[0].finish_reason == "stop"' >/dev/null; echo $?) \
	"streamed, the stop string is held back and never sent"
post /v1/completions '{"prompt":"The agreement renews","max_tokens":5,"temperature":0}'
cp "$T/body" cmpl.json
ok $([ "$code" = 200 ] && jb '(.id | startswith("cmpl-")) and .object == "text_completion" and
	(.choices[0].text | length) > 0 and .choices[0].finish_reason == "length" and .usage.completion_tokens == 5'; echo $?) \
	"POST /v1/completions: a text completion"
post /v1/completions '{"prompt":"The agreement renews","max_tokens":5,"temperature":0,"stream":true}' -N
ok $([ "$code" = 200 ] && [ "$(sed -n 's/^data: //p' "$T/body" | grep -v DONE | jq -s -j '[.[] | .choices[0].text] | join("")')" = \
	"$(jq -j '.choices[0].text' cmpl.json)" ] && grep -q '^data: \[DONE\]' "$T/body"; echo $?) \
	"streamed completions: the same text"

# errors
post /v1/chat/completions '{"messages": [oops'
is_error 400 invalid_request_error "not valid JSON" "a body that is not JSON: 400, with the parser's words"
post /v1/chat/completions '{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}'
is_error 404 not_found_error "'gpt-4' does not exist" "an unknown model: 404 (not answered without the documents it may mean)"
post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"max_tokens":20000}'
is_error 400 invalid_request_error "window of 16384 tokens" "prompt + max_tokens beyond the window: 400"
post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}'
is_error 400 invalid_request_error '"temperature" must be a number' "a bad sampling field: 400 naming it"
get /v1/nothing
is_error 404 not_found_error "no such endpoint" "an unknown path: 404"
get /v1/chat/completions
is_error 405 invalid_request_error "use POST" "GET where POST is needed: 405"

# ---------------------------------------------------------------- ask --api == ask
ask_local() { run timeout 60 "$LONGREAD" ask -m m.gguf --temp 0 -n 24 -c 16384 "$@"; }
ask_api() { run timeout 60 "$LONGREAD" ask --api "$URL" --api-model m.gguf -m m.gguf --temp 0 -n 24 "$@"; }
ask_local c -q "What is beta?"
cp "$T/out" local.out
ask_api c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && [ -s local.out ] && cmp -s local.out "$T/out"; echo $?) \
	"ask --api against serve prints exactly what local ask prints (greedy)"
ask_local c --questions /dev/stdin --json <<EOF
What is beta?
Which file has main?
EOF
jq -c '{answer, citations}' "$T/out" >local.jsonl
ask_api c --questions /dev/stdin --json <<EOF
What is beta?
Which file has main?
EOF
jq -c '{answer, citations}' "$T/out" >api.jsonl
ok $([ "$rc" -eq 0 ] && [ "$(wc -l <api.jsonl)" -eq 2 ] && cmp -s local.jsonl api.jsonl; echo $?) \
	"two questions over one prefix: the same answers and citation checks as local ask"
ok $(jq -s -e '.[1].api.cached_tokens > .[1].api.prompt_tokens - 20' "$T/out" >/dev/null; echo $?) \
	"the second question's usage shows the documents from the prompt cache: $(jq -s -c '[.[].api.cached_tokens]' "$T/out")"

# the prompt cache, timed: a larger document (GPL-3, about 7,600 tokens)
cp "$SRCDIR/corpora/text/GPL-3.txt" gpl.txt
run timeout 60 "$LONGREAD" ask --api "$URL" --api-model m.gguf -m m.gguf --temp 0 -n 4 --json gpl.txt \
	--questions /dev/stdin <<EOF
What does the license say about warranties?
Who may convey copies?
EOF
ok $([ "$rc" -eq 0 ] && jq -s -e 'length == 2 and .[0].api.cached_tokens < 1000 and
	.[1].api.cached_tokens > .[1].api.prompt_tokens - 20 and .[1].api.prompt_tokens > 7000' "$T/out" >/dev/null; echo $?) \
	"a 7,600-token window: the second question reuses it (cached tokens in usage)"
diag "prompt cache: first token after $(jq -s -r '[.[] | "\(.timings.first_token * 1000 | floor) ms (\(.api.cached_tokens) of \(.api.prompt_tokens) cached)"] | join(", then ")' "$T/out")"

# ---------------------------------------------------------------- a saved corpus
run timeout 60 "$LONGREAD" ask c.lrc -q "What is beta?" --temp 0 --json
cp "$T/out" lrc.json
post /v1/chat/completions '{"model":"docs","messages":[{"role":"system","content":"ignored"},{"role":"user","content":"What is beta?"}],"temperature":0}'
cp "$T/body" corpus.json
ok $([ "$code" = 200 ] && [ "$(jq -j '.choices[0].message.content' corpus.json)" = "$(jq -j .answer lrc.json)" ] &&
	jb ".model == \"docs\" and .longread.corpus == \"docs\" and .longread.prefilled < 20 and
	    .longread.from_corpus_file == $corpus_tokens and .usage.prompt_tokens_details.cached_tokens >= $corpus_tokens" &&
	[ "$(jq -c .longread.citations corpus.json)" = "$(jq -c .citations lrc.json)" ]; echo $?) \
	"model = a corpus: the answer of ask CORPUS.lrc, its documents loaded not prefilled, the citation check in longread.citations"
post /v1/chat/completions '{"model":"m.gguf","corpus":"docs","messages":[{"role":"user","content":"What is beta?"}],"temperature":0,"stream":true}' -N
ok $([ "$code" = 200 ] &&
	[ "$(sed -n 's/^data: //p' "$T/body" | grep -v DONE | jq -s -j '[.[] | .choices[0].delta.content // empty] | join("")')" = \
	  "$(jq -j .answer lrc.json)" ] &&
	sed -n 's/^data: //p' "$T/body" | grep -v DONE | jq -s -e '.[-1].longread.corpus == "docs" and (.[-1].longread.citations | type) == "array"' >/dev/null;
	echo $?) "\"corpus\": \"docs\", streamed: the same answer, the citation check in the last chunk"
post /v1/chat/completions '{"corpus":"nope","messages":[{"role":"user","content":"x"}]}'
is_error 404 not_found_error "no corpus 'nope'" "an unknown corpus: 404"
post /v1/completions '{"model":"docs","prompt":"x"}'
is_error 400 invalid_request_error "chat requests" "a corpus with /v1/completions: 400"
stop TERM
ok $([ "$src" -eq 0 ] && grep -q '^longread: stopped after' main.err; echo $?) "SIGTERM when idle: exit 0"

# a shutdown during a long prefill (two copies of GPL-3: about 15,500 tokens) cuts it
# between two chunks instead of waiting for it
start prefill --grace 0
cat gpl.txt gpl.txt >gpl2.txt
timeout 60 curl -s -o p.body -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$(jq -n -c --rawfile t gpl2.txt '{messages: [{role: "user", content: $t}], max_tokens: 8}')" \
	"$URL/v1/chat/completions" >p.code &
pa=$!
_i=0; while ! curl -s "$URL/health" | jq -e '.running == 1' >/dev/null && [ $_i -lt 200 ]; do sleep 0.02; _i=$((_i + 1)); done
stop TERM
wait $pa
ok $([ "$src" -eq 0 ] && [ "$(cat p.code)" = 503 ] && jq -e '.error.message | contains("cut off after 0 tokens")' p.body >/dev/null &&
	grep -q 'stopped during the prefill\|cut off after 0 tokens' prefill.err; echo $?) \
	"SIGTERM with --grace 0 during a 15,500-token prefill: cut between two chunks, 503; exit 0"
[ "$(cat p.code)" = 503 ] || diag "HTTP $(cat p.code): $(head -c 300 p.body); $(tail -n 3 prefill.err)"

# ---------------------------------------------------------------- the trained reader
# A model that reads and cites (tests/models/reader.gguf) over a generated corpus,
# packed: the server's answers and citation checks are those of ask CORPUS.lrc
R="$SRCDIR/tests/models/reader.gguf"
if ! command -v python3 >/dev/null 2>&1 || [ ! -f "$R" ]; then
	ok 0 "the reader over a saved corpus # SKIP python3 or tests/models/reader.gguf is missing"
else
	# 10 facts and an absent one: enough answers that some carry a citation to check
	# (the reader cites in few of them)
	python3 "$SRCDIR/tests/reader/needle.py" gen --longread "$LONGREAD" -m "$R" -c 2048 --seed 12 \
		--depths 0,10,20,30,40,50,60,70,80,90 --absent 1 -o rc >/dev/null 2>&1 &&
	(cd rc && "$LONGREAD" pack -m "$R" docs -c 2048 -n 80 --kv f16 -o ../r.lrc 2>/dev/null)
	run timeout 20 "$LONGREAD" serve -m m.gguf --port 0 --corpus facts=r.lrc
	expect_fail 8 "r.lrc" "a corpus packed with another model: exit 8, one line"
	run timeout 60 "$LONGREAD" ask r.lrc -n 80 --temp 0 --json --questions rc/questions.txt
	jq -c '{answer, citations}' "$T/out" >reader.local
	SM=$R start reader --corpus facts=r.lrc
	while IFS= read -r q; do
		post /v1/chat/completions "$(jq -n -c --arg q "$q" '{model: "facts", messages: [{role: "user", content: $q}],
			temperature: 0, max_tokens: 80}')"
		jq -c '{answer: .choices[0].message.content, citations: .longread.citations}' "$T/body"
	done <rc/questions.txt >reader.served
	ok $([ "$(wc -l <reader.served)" -eq 11 ] && cmp -s reader.local reader.served &&
		[ "$(jq -s '[.[].citations | length] | add' reader.served)" -gt 0 ]; echo $?) \
		"the reader over a saved corpus: 11 answers and their citation checks as ask CORPUS.lrc gives them ($(jq -s '[.[].citations | length] | add' reader.served) citations)"
	cmp -s reader.local reader.served || diag "$(diff reader.local reader.served | head -c 600)"
	stop TERM
fi

# ---------------------------------------------------------------- the key, the body limit
LONGREAD_SERVE_API_KEY=sk-serve-test start key --max-body 4096
get /v1/models
is_error 401 authentication_error "API key is required" "a key is set: no Authorization header gets 401"
get /v1/models -H "Authorization: Bearer sk-serve-tesT"
is_error 401 authentication_error "invalid API key" "a wrong key gets 401"
get /v1/models -H "Authorization: Bearer sk-serve-test"
ok $([ "$code" = 200 ]; echo $?) "the right key (from \$LONGREAD_SERVE_API_KEY) is let in"
get /health
ok $([ "$code" = 200 ]; echo $?) "/health needs no key"
LONGREAD_API_KEY=sk-serve-test run timeout 60 "$LONGREAD" ask --api "$URL" --api-model m.gguf -m m.gguf --temp 0 -n 24 c -q "What is beta?"
ok $([ "$rc" -eq 0 ] && cmp -s local.out "$T/out"; echo $?) "ask --api sends the key (LONGREAD_API_KEY) and gets the answer"
head -c 5000 /dev/zero | tr '\0' a >big.txt
post /v1/chat/completions "$(jq -n --rawfile t big.txt '{messages: [{role: "user", content: $t}]}')" \
	-H "Authorization: Bearer sk-serve-test"
is_error 413 invalid_request_error "limit of 4096 bytes" "a body over --max-body: 413"
stop INT
ok $([ "$src" -eq 130 ]; echo $?) "SIGINT: exit 130"

# ---------------------------------------------------------------- a full queue, shutdown
LONG='{"messages":[{"role":"user","content":"Say a lot."}],"max_tokens":8000,"temperature":0,"stream":true}'
start queue -c 8192 --queue 1 --grace 1
timeout 60 curl -sN -H 'Content-Type: application/json' --data-binary "$LONG" "$URL/v1/chat/completions" >a.events &
pa=$!
_i=0; while ! grep -q content a.events 2>/dev/null && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
timeout 60 curl -s -o b.body -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$CHAT" "$URL/v1/chat/completions" >b.code &
pb=$!
_i=0; while ! curl -s "$URL/health" | jq -e '.queued == 1' >/dev/null && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
code=$(timeout 60 curl -s -D c.headers -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "$CHAT" "$URL/v1/chat/completions")
is_error 503 unavailable_error "--queue" "one answering, one waiting, --queue 1: the third gets 503"
ok $(grep -qi '^Retry-After: 1' c.headers; echo $?) "... with Retry-After"
stop TERM
wait $pa $pb
ok $([ "$src" -eq 0 ] && sed -n 's/^data: //p' a.events | tail -n 1 | jq -e '.error.code == 503 and
	(.error.message | contains("cut off"))' >/dev/null && ! grep -q DONE a.events; echo $?) \
	"SIGTERM: the answer in progress is cut after --grace 1 with an error event; exit 0"
ok $([ "$(cat b.code)" = 503 ] && jq -e '.error.message | contains("shutting down")' b.body >/dev/null; echo $?) \
	"... and the waiting request gets 503: shutting down"
ask_api c -q "What is beta?"
ok $([ "$rc" -eq 11 ]; echo $?) "after shutdown nothing listens (ask --api: exit 11)"

start finish -c 8192 --grace 60
timeout 60 curl -sN -H 'Content-Type: application/json' --data-binary "$(echo "$LONG" | jq -c '.max_tokens = 600')" \
	"$URL/v1/chat/completions" >f.events &
pa=$!
_i=0; while ! grep -q content f.events 2>/dev/null && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
stop TERM
wait $pa
ok $([ "$src" -eq 0 ] && tail -n 2 f.events | grep -q '^data: \[DONE\]' &&
	sed -n 's/^data: //p' f.events | grep -v DONE | jq -s -e '.[-1].choices[0].finish_reason == "length" and
	  ([.[] | .choices[0].delta.content // empty] | length) > 300' >/dev/null; echo $?) \
	"SIGTERM within --grace: the answer in progress finishes (600 tokens, finish_reason length, [DONE]); exit 0"
[ "$src" -eq 0 ] && tail -n 2 f.events | grep -q DONE || diag "exit $src; $(tail -c 300 f.events); $(cat finish.err)"

# ---------------------------------------------------------------- the official openai client
start js -c 8192
# first, a client that goes away mid-answer: the engine stops that answer
timeout 60 curl -sN --max-time 1 -o /dev/null -H 'Content-Type: application/json' --data-binary "$LONG" \
	"$URL/v1/chat/completions"
_i=0; while ! curl -s "$URL/health" | jq -e '.running == 0' >/dev/null && [ $_i -lt 40 ]; do sleep 0.1; _i=$((_i + 1)); done
ok $(curl -s "$URL/health" | jq -e '.running == 0' >/dev/null && grep -q 'the client went away after [0-9]* tokens' js.err; echo $?) \
	"a client that goes away mid-stream: its answer (of 8,000 tokens) is stopped, the engine is free again"
# the same, not streamed: one answering, one waiting, both clients leave
WHOLE=$(echo "$LONG" | jq -c '.stream = false')
# (the waiting one leaves first, a second before the other: else the engine could take
# it up before its connection's thread noticed)
timeout 60 curl -s --max-time 2 -o /dev/null -H 'Content-Type: application/json' --data-binary "$WHOLE" "$URL/v1/chat/completions" &
pa=$!
sleep 0.5
timeout 60 curl -s --max-time 0.5 -o /dev/null -H 'Content-Type: application/json' --data-binary "$WHOLE" "$URL/v1/chat/completions"
wait $pa
_i=0; while ! curl -s "$URL/health" | jq -e '.running == 0 and .queued == 0' >/dev/null && [ $_i -lt 40 ]; do sleep 0.1; _i=$((_i + 1)); done
ok $(curl -s "$URL/health" | jq -e '.running == 0 and .queued == 0' >/dev/null &&
	[ "$(grep -c 'the client went away after [0-9]* tokens' js.err)" -eq 2 ] &&
	grep -q 'the client went away before its turn' js.err; echo $?) \
	"clients of whole answers that go away: the answer in progress is stopped, the waiting one never started"
grep -q 'before its turn' js.err || diag "$(curl -s "$URL/health"); $(grep chatcmpl js.err)"
JS="${JSDIR:-$SRCDIR/tests/js}"
if ! command -v node >/dev/null 2>&1 || [ ! -f "$JS/node_modules/openai/package.json" ]; then
	ok 0 "the openai npm client # SKIP node or the npm package openai is missing (./bootstrap: npm ci --prefix tests/js)"
else
	run timeout 60 node "$JS/serve_openai.mjs" "$URL" m.gguf ""
	cp "$T/out" js.json
	ok $([ "$rc" -eq 0 ] && jq -e '.models == ["m.gguf"] and .whole.object == "chat.completion" and
		.whole.finish == "length" and .whole.usage.completion_tokens == 12 and (.whole.text | length) > 0' js.json >/dev/null; echo $?) \
		"the openai npm client: models.list and a whole chat answer"
	ok $(jq -e '.stream.text == .whole.text and .stream.finish == "length" and .stream.chunks >= 13 and
		.stream.usage.completion_tokens == 12 and .stream.usage.prompt_tokens_details.cached_tokens > 0' js.json >/dev/null; echo $?) \
		"the openai npm client: streamed, the same text, usage with cached tokens"
	ok $(jq -e '.completion.object == "text_completion" and .completion.usage.completion_tokens == 5' js.json >/dev/null; echo $?) \
		"the openai npm client: completions"
	[ "$rc" -eq 0 ] || diag "$(cat "$T/err")"
fi
stop TERM

# ---------------------------------------------------------------- load: 8 clients x 25
# client N — 25 requests, streamed and whole in turn; one line per request: the HTTP
# status and whether the reply came whole (an answer: a JSON reply with choices, or
# events up to [DONE]; a refusal: a JSON error with code 503) or not ("-")
client() {
	for r in $(seq 1 25); do
		_f="load.$1.$r"
		_s=$([ $((r % 2)) -eq 0 ] && echo true || echo false)
		_c=$(curl -sN -o "$_f" -w '%{http_code}' -H 'Content-Type: application/json' --max-time 60 \
			--data-binary '{"messages":[{"role":"user","content":"Client '"$1"' asks '"$r"'."}],"max_tokens":8,"stream":'$_s'}' \
			"$URL/v1/chat/completions")
		if [ "$_c" = 503 ] && jq -e '.error.code == 503' "$_f" >/dev/null 2>&1; then
			echo "503 whole"
		elif [ "$_c" = 200 ] && [ $_s = true ] && tail -n 2 "$_f" | grep -q '^data: \[DONE\]'; then
			echo "200 whole"
		elif [ "$_c" = 200 ] && [ $_s = false ] && jq -e '.choices[0].message.content | type == "string"' "$_f" >/dev/null 2>&1; then
			echo "200 whole"
		else
			echo "$_c -"
		fi
		rm -f "$_f"
	done
}
rss() { awk '/^VmRSS/ { print $2 }' /proc/$PID/status; }
# two rounds to warm up: the allocator's arenas and glibc's cache of thread stacks (one
# thread per connection) grow for the first few hundred requests, then stay
# (Not under AddressSanitizer: its quarantine keeps freed memory on purpose; leaks are
# its own check there, when the server exits.)
asan=$(ldd "$LONGREAD" 2>/dev/null | grep -c libasan)
start load -c 4096 --queue 6
for w in $([ "$asan" -eq 0 ] && echo 1 2); do
	cl=""
	for n in 1 2 3 4 5 6 7 8; do client w$n >warm.$n & cl="$cl $!"; done
	wait $cl
done
before=$(rss)
t0=$(date +%s)
cl=""
for n in 1 2 3 4 5 6 7 8; do client $n >load.$n & cl="$cl $!"; done
wait $cl
t1=$(date +%s)
after=$(rss)
cat load.[1-8] >load.all
n200=$(grep -c '^200 whole$' load.all)
n503=$(grep -c '^503 whole$' load.all)
ok $([ "$(wc -l <load.all)" -eq 200 ] && [ $((n200 + n503)) -eq 200 ] && [ "$n200" -gt 0 ]; echo $?) \
	"8 clients x 25 requests: every one answered whole ($n200) or refused with 503 ($n503), none lost"
[ $((n200 + n503)) -eq 200 ] || diag "other outcomes: $(grep -v ' whole$' load.all | sort | uniq -c | tr '\n' ' ')"
get /health
ok $(jb ".served >= $n200 and .queued == 0 and .running == 0"; echo $?) "afterwards nothing is queued or running"
if [ "$asan" -ne 0 ]; then
	ok 0 "memory flat # SKIP built with AddressSanitizer (RSS ${before} then ${after} KiB: its quarantine holds freed memory)"
else
	ok $([ -n "$before" ] && [ -n "$after" ] && [ "$after" -le $((before + 4096)) ]; echo $?) \
		"memory flat: RSS ${before} KiB after 400 requests, ${after} KiB after 200 more (at most 4 MiB more)"
fi
diag "load: 200 requests in $((t1 - t0)) s, $n200 answered, $n503 refused with 503"
stop TERM
ok $([ "$src" -eq 0 ]; echo $?) "the loaded server stops cleanly on SIGTERM"

done_testing
