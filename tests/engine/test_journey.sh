#!/bin/sh
# A newcomer's journey, scripted: install plume to a fresh prefix, build plugins outside the tree
# with pkg-config alone, swap them into graphs by path and by PLUME_MODULE_PATH, make the mistakes
# a newcomer makes (a plugin that crashes, one whose create() refuses its parameters, one that
# takes a built-in stage's name, a missing model), and check what plume says and keeps.
# usage: test_journey.sh BUILD_DIR TEST_SOURCE_DIR CC [PROGRAM_FLAGS]
# PROGRAM_FLAGS: what a program linking the libraries needs besides pkg-config's flags (the
# sanitizers' -fsanitize=... in a -DPLUME_SANITIZE=ON build, whose runtime must come first)
set -eu
build=$1 tests=$2 cc=$3 program_flags=${4:-}
prefix=$(mktemp -d /tmp/plume-journey-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
ulimit -c 0   # the crashing plugin below must not leave core files around
fail() { echo "test_journey: $*" >&2; exit 1; }
# expect NAME GOT WANT
expect() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
# contains NAME FILE TEXT: FILE holds TEXT (fixed string)
contains() { grep -qF -- "$3" "$2" || { cat "$2" >&2; fail "$1: no '$3' in the output above"; }; }

cmake --install "$build" --prefix "$prefix" >/dev/null
plume=$prefix/bin/plume
work=$prefix/work     # the user's own folder, outside plume's tree
mkdir -p "$work/plugins" "$work/shadow" "$work/elsewhere"
unset PLUME_MODULE_PATH PLUME_MODEL

# ---- 1. plume.pc is right for the prefix it was installed to, not the configured one ----
pc=$(find "$prefix" -name plume.pc | head -n 1)
test -n "$pc" || fail "no plume.pc installed"
export PKG_CONFIG_PATH="$(dirname "$pc")"
inc=$(pkg-config --variable=includedir plume)
[ "$(cd "$inc" 2>/dev/null && pwd -P)" = "$(cd "$prefix/include" && pwd -P)" ] ||
    fail "pkg-config gives the include folder '$inc', not $prefix/include"
for p in shout crash shadow; do
    $cc -shared -fPIC -Wall -Werror $(pkg-config --cflags plume) "$tests/plugins/$p.c" -o "$work/plugins/$p.so" \
        || fail "cannot build $p.c with pkg-config's flags"
done
mv "$work/plugins/shadow.so" "$work/shadow/"

# ---- 2. everything installed finds its libraries (RPATH), and says its version ----
for f in "$plume" "$prefix"/lib*/libplume*.so "$prefix"/lib*/plume/modules/*.so; do
    ldd "$f" > "$work/ldd.txt" 2>&1 || fail "ldd $f failed"
    ! grep -q "not found" "$work/ldd.txt" || { cat "$work/ldd.txt" >&2; fail "$f: a library is not found"; }
done
# a program that embeds the runtime, the model's library and the importers, linked with the flags
# of their .pc files
cat > "$work/embed.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/corpus.h"
#include "plume/dist.h"
#include "plume/gguf.h"
int main(void) {
    char *text = plume_html_to_text("<p>Hello <b>Ann</b></p>", 23);
    int ok = plume_dist_size() == 1 && !strcmp(plume_ggml_type_name(PLUME_GGML_Q8_0), "Q8_0") && text &&
             strstr(text, "Hello Ann");
    printf("%s\n", text ? text : "(null)");
    free(text);
    return ok ? 0 : 1;
}
C
$cc -Wall -Werror ${program_flags} $(pkg-config --cflags plume-lm plume-corpus) "$work/embed.c" -o "$work/embed" \
    $(pkg-config --libs plume-lm plume-corpus) -Wl,-rpath,"$(pkg-config --variable=libdir plume)" \
    || fail "cannot build a program with pkg-config --libs plume-lm plume-corpus"
"$work/embed" > "$work/embed.txt" || { cat "$work/embed.txt" >&2; fail "the embedding program failed"; }
"$plume" --version > "$work/version.txt"
grep -qE '^plume [0-9]+\.[0-9]+\.[0-9]+ \(module ABI [0-9]+\)$' "$work/version.txt" || fail "plume --version: $(cat "$work/version.txt")"
"$plume" modules | grep -q "^text.join  (module text 1.0, $prefix/" || fail "installed plume does not list its built-in modules from $prefix"

# ---- 3. the installed graphs and default model, from any folder ----
cd "$work/elsewhere"
"$plume" check default.yaml > "$work/check.txt" || fail "plume check default.yaml (the installed graph) failed"
contains "check default.yaml" "$work/check.txt" "default.yaml: ok: "
cp "$prefix/share/plume/graphs/default.yaml" mine.yaml   # a copy, edited by the user: still finds the default model
"$plume" check mine.yaml > /dev/null || fail "a copy of default.yaml does not find the installed default model"
# one request from the command line, without a target: no metrics (they would all read 0)
"$plume" run mine.yaml --context "Hello Bob, about the meeting" > "$work/one.jsonl"
contains "run --context" "$work/one.jsonl" '"output":"Hello Bob, about the meeting'
! grep -q rouge1 "$work/one.jsonl" || fail "run --context without --target printed metrics: $(cat "$work/one.jsonl")"
"$plume" run mine.yaml --context "Hello Bob, about the meeting" --target "Hello Bob, about the meeting" > "$work/one.jsonl"
contains "run --context --target" "$work/one.jsonl" '"rouge1":'
# a model that is not there: the message says which variable the path came from
if PLUME_MODEL=/nowhere/model.gguf "$plume" check mine.yaml 2> "$work/err.txt"; then fail "a missing model passed check"; fi
grep -qE "^mine\.yaml:[0-9]+:[0-9]+: model 'writer': " "$work/err.txt" || { cat "$work/err.txt" >&2; fail "the missing model's place"; }
contains "missing model" "$work/err.txt" "model 'writer': file '/nowhere/model.gguf' does not exist; the path comes from PLUME_MODEL (set to '/nowhere/model.gguf' in the environment)"
if "$plume" check no-such-graph.yaml 2> "$work/err.txt"; then fail "a missing graph passed check"; fi
contains "missing graph" "$work/err.txt" "no-such-graph.yaml: cannot open the graph: no such file here, nor among the installed graphs in $prefix/share/plume/graphs"

# ---- 4. a plugin swapped in by path, then by PLUME_MODULE_PATH ----
cd "$work"
cat > by_path.yaml <<'YAML'
plume: 1
stages:
  cut:  { use: text.truncate, in: { text: context }, out: { text: short }, with: { max_chars: 5 } }
  loud: { use: ./plugins/shout.so:example.shout, in: { text: short }, out: { text: out } }
output: [out]
YAML
expect "plugin by path" "$("$plume" run by_path.yaml --context "hello world" --id i1)" '{"id":"i1","out":"HELLO!"}'
sed 's|./plugins/shout.so:example.shout|example.shout|' by_path.yaml > by_name.yaml
expect "plugin by PLUME_MODULE_PATH" "$(PLUME_MODULE_PATH="$work/plugins" "$plume" run by_name.yaml --context "hello world" --id i1)" \
    '{"id":"i1","out":"HELLO!"}'
if "$plume" run by_name.yaml --context "hello world" 2> "$work/err.txt"; then fail "example.shout found without PLUME_MODULE_PATH"; fi
contains "unknown plugin stage" "$work/err.txt" "uses unknown stage 'example.shout'"
"$plume" modules ./plugins/shout.so > "$work/explain.txt" || fail "plume modules ./plugins/shout.so failed"
contains "modules FILE.so" "$work/explain.txt" "$work/plugins/shout.so: module example 1.0, 1 stage"
contains "modules FILE.so" "$work/explain.txt" "ending       string  default \"!\""
if "$plume" modules ./plugins/none.so 2> "$work/err.txt"; then fail "plume modules explained a missing file"; fi
contains "modules missing FILE.so" "$work/err.txt" "plume: ./plugins/none.so: cannot open: No such file or directory"
if "$plume" modules "$(ls "$prefix"/lib*/libplume.so)" 2> "$work/err.txt"; then fail "libplume.so explained as a module"; fi
contains "modules non-module .so" "$work/err.txt" ": no 'plume_module_v1' symbol; is it a plume module?"

# ---- 5. a plugin that takes a built-in stage's name: it wins, and plume says which file won ----
cat > shadowed.yaml <<'YAML'
plume: 1
stages:
  cut: { use: text.truncate, in: { text: context }, out: { text: out } }
YAML
expect "shadowing stage" "$(PLUME_MODULE_PATH="$work/shadow" "$plume" run shadowed.yaml --context "hello world" 2> "$work/err.txt")" \
    '{"id":"cli","out":"rld"}'
contains "shadow warning" "$work/err.txt" "stage 'cut' uses 'text.truncate' from $work/shadow/shadow.so, which hides the 'text.truncate' of $prefix/"
PLUME_MODULE_PATH="$work/shadow" "$plume" modules > /dev/null 2> "$work/err.txt"
contains "shadow warning in modules" "$work/err.txt" "plume: warning: stage 'text.truncate' of $work/shadow/shadow.so hides the one of $prefix/"

# ---- 6. a stage whose create() refuses its parameters is caught by check, as by run ----
cat > picky.yaml <<'YAML'
plume: 1
stages:
  fussy: { use: ./plugins/crash.so:example.picky, in: { text: context }, out: { text: out }, with: { level: 11 } }
YAML
if "$plume" check picky.yaml 2> "$work/err.txt"; then fail "plume check passed a stage whose create() fails"; fi
contains "check runs create()" "$work/err.txt" "picky.yaml:3:3: stage 'fussy' (example.picky) could not start: level 11 is outside 1..10"
"$plume" check picky.yaml --set fussy.level=10 > /dev/null || fail "check refused level 10"

# ---- 7. a plugin that crashes on record 12 of 20: the first batch's results survive, --resume finishes ----
i=1
: > requests.jsonl
while [ $i -le 20 ]; do
    echo "{\"id\": \"r$i\", \"context\": \"request number $i\"}" >> requests.jsonl
    i=$((i + 1))
done
cat > crashing.yaml <<'YAML'
plume: 1
stages:
  boom: { use: ./plugins/crash.so:example.crash, in: { text: context }, out: { text: out }, with: { at: r12 } }
output: [out]
YAML
echo "an earlier, finished output" > results.jsonl
set +e
"$plume" run crashing.yaml --data requests.jsonl --out results.jsonl --batch 8 2> "$work/err.txt"
status=$?
set -e
[ $status -gt 128 ] || { cat "$work/err.txt" >&2; fail "the crashing run exited $status, not by a signal"; }
contains "crash report" "$work/err.txt" "plume: stage 'boom' (example.crash from $work/plugins/crash.so) crashed in run() with SIGSEGV"
contains "crash report" "$work/err.txt" "on batch 2 (requests requests.jsonl:9 to requests.jsonl:16)"
contains "crash report" "$work/err.txt" "the 8 results of the batches finished before it are in results.jsonl.partial"
expect "output after a crash" "$(cat results.jsonl)" "an earlier, finished output"
# the first batch, whole and in order, exactly as a run without the crash writes it
"$plume" run crashing.yaml --data requests.jsonl --out full.jsonl --set boom.at=none
head -n 8 full.jsonl > first-batch.jsonl
cmp -s results.jsonl.partial first-batch.jsonl || { cat results.jsonl.partial >&2; fail "results.jsonl.partial is not the first batch"; }
"$plume" run crashing.yaml --data requests.jsonl --out results.jsonl --set boom.at=none --resume 2> "$work/err.txt"
contains "resume" "$work/err.txt" "8 earlier results kept"
cmp -s results.jsonl full.jsonl || fail "the resumed results differ from a run without the crash"
[ ! -e results.jsonl.partial ] || fail "results.jsonl.partial is still there after --resume finished"
# a crash in create(): named, and the output left alone
set +e
"$plume" run crashing.yaml --data requests.jsonl --out results.jsonl --set boom.at=create 2> "$work/err.txt"
status=$?
set -e
[ $status -gt 128 ] || { cat "$work/err.txt" >&2; fail "the run crashing in create() exited $status"; }
contains "crash in create()" "$work/err.txt" "plume: stage 'boom' (example.crash from $work/plugins/crash.so) crashed in create() with SIGSEGV"
cmp -s results.jsonl full.jsonl || fail "a crash in create() changed the output"
[ ! -e results.jsonl.partial ] || fail "a crash in create() left results.jsonl.partial"
# ---- 8. the progress bar in a terminal of 40 columns (script(1) gives the run a terminal) ----
if command -v script > /dev/null 2>&1; then
    { echo 'not a request'; sed 1d requests.jsonl; } > tty.jsonl     # line 1 fails: the bar counts it
    rm -f tty-results.jsonl*
    script -qec "stty cols 40; '$plume' run crashing.yaml --data tty.jsonl --out tty-results.jsonl --batch 4" \
        /dev/null > tty.txt 2>&1 || true
    tr '\r' '\n' < tty.txt > tty-lines.txt
    contains "progress bar" tty-lines.txt "8/20 1 failed"
    # every drawing of the bar fits in 39 columns, so it never wraps into a new line per redraw
    ! grep -E '^\[|/20 ' tty-lines.txt | awk 'length > 39 { found = 1 } END { exit !found }' ||
        { cat tty-lines.txt >&2; fail "a progress line is wider than 39 columns"; }
    # the crash report starts a line of its own, not the bar's
    grep -q "^plume: stage 'boom'" tty-lines.txt || { cat tty-lines.txt >&2; fail "the crash report is not on a line of its own"; }
    ! grep -q "/20.*plume:" tty-lines.txt || { cat tty-lines.txt >&2; fail "a message was printed on the bar's line"; }
fi
echo "test_journey: ok ($prefix)"
