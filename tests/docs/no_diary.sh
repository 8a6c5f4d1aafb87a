#!/bin/sh
# The project's files describe the software as it is; its history belongs in git log. This fails
# when a file of README.md, docs/, engine/, modules/, tools/, include/, shaders/, graphs/ or
# configs/ refers to past work periods or issue numbers: "session 3", "issue 12", "#12", logs of
# what was "tried and not kept", work "sittings", clock times of work ("21:09 UTC").
# The patterns are first checked against sample lines, so that they cannot silently match nothing.
# usage: no_diary.sh SOURCE_DIR
set -eu
src=$1
scratch=$(mktemp -d /tmp/plume-diary-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "no_diary: $*" >&2; exit 1; }

cat > "$scratch/patterns" <<'PATTERNS'
\bsessions? +[0-9]+
\bissues? +#?[0-9]+
(^|[[:space:](,;])#[0-9]+\b
\btried and (not kept|dropped|reverted)
\bwhat was tried\b
\bsittings?\b
\bwork periods?\b
\b([01]?[0-9]|2[0-3]):[0-5][0-9]( *[-–] *([01]?[0-9]|2[0-3]):[0-5][0-9])? *(UTC|GMT|CET|CEST)\b
PATTERNS

# every line here must be found ...
cat > "$scratch/diary" <<'LINES'
Measured in session 4, after the rewrite.
This closes issue 18.
the speed target of issue #7
as asked in #12, the reader is capped
What was tried and measured:
A subgroup kernel (tried and not kept).
the script can span several sittings
measured 2026-11-25 21:09–21:12 UTC
(after the merge, 22:09 UTC, load average 1.4)
sections numbered by work period
LINES
# ... and none of these
cat > "$scratch/clean" <<'LINES'
#include <stdio.h>
#version 450
<text fill="#555">0</text>
each entry's id is `DOC#K`, the K-th snippet
requests.jsonl:7:25: malformed request
the stage issues a warning naming both files
a session of the REPL keeps its model
LINES
if grep -vnIEi -f "$scratch/patterns" "$scratch/diary" > "$scratch/missed"; then
    cat "$scratch/missed" >&2
    fail "the patterns miss the diary lines above"
fi
if grep -nIEi -f "$scratch/patterns" "$scratch/clean" > "$scratch/wrong"; then
    cat "$scratch/wrong" >&2
    fail "the patterns match the plain lines above"
fi

cd "$src"
for top in README.md docs engine modules tools include shaders graphs configs; do
    [ -e "$top" ] || fail "$src/$top does not exist: is SOURCE_DIR the source tree?"
done
if grep -rnIEi -f "$scratch/patterns" README.md docs engine modules tools include shaders graphs configs \
        > "$scratch/hits"; then
    cat "$scratch/hits" >&2
    fail "the lines above read as a development diary: describe the software as it is (history belongs in git log)"
fi
echo "no_diary: ok"
