#!/bin/sh
# tests/cli_tty.sh — `ask` at a terminal (issue 16), run under script(1) for a real pty:
# line editing by libedit, a conversation kept after the documents (cut back, oldest
# turns first, when it would crowd the window; /reset forgets it), the commands /help,
# /exit and an unknown one, and the time to the first token counted from the question,
# not from when the prompt appeared.
. "${SRCDIR:-.}/tests/lib.sh"
command -v script >/dev/null || { echo "1..0 # SKIP script(1) is not installed (util-linux)"; exit 0; }
M="$SRCDIR/tests/models/reader.gguf"
cd "$T" || exit 1
printf 'The access code of Project Kalivo is 4821.\nThe renewal term is twelve months.\n' >facts.txt
Q="What is the access code of Project Kalivo?"

# at_tty INPUT ARGS... — ask at a pseudo-terminal, typing the file INPUT; everything it
# shows into $T/out
at_tty() {
	_in=$1
	shift
	timeout 60 script -qec "'$LONGREAD' ask -m '$M' facts.txt --temp 0 -n 40 $*" /dev/null <"$_in" >"$T/raw" 2>&1
	rc=$?
	tr -d '\r' <"$T/raw" >"$T/out"
}

printf '%s\nAnd the renewal term?\n/reset\n%s\n/foo\n/help\n/exit\n' "$Q" "$Q" >in1
at_tty in1 -c 2048
ok $([ "$rc" -eq 0 ] && grep -q '^longread: ask away; questions may refer to earlier answers' "$T/out" &&
	[ "$(grep -c '^question> ' "$T/out")" -eq 7 ] && [ "$(grep -c '^longread: answer ' "$T/out")" -eq 3 ]; echo $?) \
	"a terminal session: the banner, a prompt per line, three answers, exit 0 at /exit"
ok $(grep -q '^longread: the conversation is forgotten; the next question starts afresh$' "$T/out"; echo $?) \
	"/reset forgets the conversation"
ok $(grep -q "^longread: unknown command '/foo' (/reset, /exit, /help)$" "$T/out" &&
	grep -q '^  /reset   forget the conversation' "$T/out"; echo $?) "/help lists the commands; /foo is unknown"
# (the quote, not the line it cites: which line the reader names is its own weakness,
# measured by cli_reader.sh and bench/needle.sh, not here)
ok $([ "$(grep -c '^"The access code of Project Kalivo is 4821." \[facts.txt:[0-9]*\]$' "$T/out")" -ge 2 ]; echo $?) \
	"the answers are printed: the reader's to both questions about the code"

# the conversation grows the cache, then is cut back to fit a small window
{ for i in 1 2 3 4 5 6 7 8 9; do echo "$Q"; done; echo /exit; } >in2
at_tty in2 -c 700
ok $([ "$rc" -eq 0 ] && grep -q '^longread: the cache grows to 700 tokens' "$T/out" &&
	grep -q '^longread: the conversation is cut to its last [0-9]* turns to fit the window' "$T/out" &&
	[ "$(grep -c '^longread: answer ' "$T/out")" -eq 9 ]; echo $?) \
	"nine turns in a 700-token window: the cache grows, then the oldest turns are dropped; every question answered"

# the first answer's clock starts at the question: 3 s of "typing" are not counted
mkfifo in3
{ sleep 3; echo "$Q"; echo /exit; } >in3 &
at_tty in3 -c 2048
wait
t=$(sed -n 's/^longread: answer .* first token after \([0-9.]*\) s.*/\1/p' "$T/out")
ok $([ "$rc" -eq 0 ] && [ -n "$t" ] && awk -v t="$t" 'BEGIN { exit !(t < 2.5) }'; echo $?) \
	"time to the first token counted from the question ($t s after 3 s at the prompt)"
done_testing
