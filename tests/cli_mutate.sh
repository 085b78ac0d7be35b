#!/bin/sh
# tests/cli_mutate.sh — tests/mutate.py under make check: 300 mutants of every input
# kind (GGUF, PDF, HTML, text, .lrc, tokenizer input, serve's requests), each ending
# with a documented exit code and longread's own one-line message (issue 18).  Under
# the sanitizers a report fails it.  LR_MUTANTS sets the count per kind.
: "${LONGREAD:?}" "${SRCDIR:?}" "${TESTTMP:=tests/tmp}"
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed (./bootstrap installs it)"; exit 0; }
W="$TESTTMP/mutate.$$"
python3 "$SRCDIR/tests/mutate.py" --longread "$LONGREAD" --model "$SRCDIR/tests/models/reader.gguf" \
	--srcdir "$SRCDIR" --work "$W" --per-kind "${LR_MUTANTS:-300}"
rc=$?
[ $rc -eq 0 ] && rm -rf "$W"
exit $rc
