#!/bin/sh
# tests/cli_install.sh — what `make install` puts beside the program (issue 16): the
# manual pages, made from the --help texts by help2man, hold every option each command's
# --help lists; the bash completion offers the commands and each command's options.
. "${SRCDIR:-.}/tests/lib.sh"
B=$(dirname "$LONGREAD")

# ---------------------------------------------------------------- manual pages
if [ -f "$B/man/longread.1" ]; then
	ok $(grep -q '^\.TH LONGREAD "1"' "$B/man/longread.1"; echo $?) "longread(1) is a manual page"
	missing=""
	for c in $("$LONGREAD" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p'); do
		p="$B/man/longread-$c.1"
		[ -f "$p" ] || { missing="$missing $c(page)"; continue; }
		for o in $("$LONGREAD" "$c" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
			# roff writes '-' as '\-'
			grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$p" || missing="$missing $c:$o"
		done
	done
	ok $([ -z "$missing" ]; echo $?) "a page for every command, holding every option of its --help${missing:+ (missing:$missing)}"
	ok $(grep -q '^\.TH LONGREAD-ASK "1"' "$B/man/longread-ask.1" && grep -qF 'longread-ask \- answer questions' "$B/man/longread-ask.1"
		echo $?) "longread-ask(1) is named for its command, with the command's summary"
else
	ok 0 "manual pages # SKIP help2man was not found when configured"
fi

# ---------------------------------------------------------------- bash completion
if command -v bash >/dev/null 2>&1; then
	complete_words() {  # complete_words WORD... — what completing the last word offers
		PATH="$B:$PATH" bash -c '. "$1/completion/longread"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			_longread; printf "%s\n" "${COMPREPLY[@]}"' sh "$SRCDIR" "$@"
	}
	ok $([ "$(complete_words longread a | tr '\n' ' ')" = "ask " ]; echo $?) "completion: 'longread a' -> ask"
	ok $(complete_words longread "" | grep -qx serve && complete_words longread "" | grep -qx tokenize; echo $?) \
		"completion: every command"
	ok $(complete_words longread ask --esc | grep -qx -- --escalate-api && complete_words longread plan --js | grep -qx -- --json
		echo $?) "completion: a command's options, from its --help"
	ok $([ "$(complete_words longread ask --kv "" | tr '\n' ' ')" = "f32 f16 q8 q4 " ]; echo $?) "completion: --kv's types"
else
	ok 0 "bash completion # SKIP bash is missing"
fi

done_testing
