#!/bin/bash
# Runs the quick start of README.md as written: every command block of its "## Quick start"
# section, read from the README itself, so that editing the README changes what is tested.
#
# How the README is read:
#   - a fenced block marked `sh` holds commands, one per line (a line ending in '\' goes on);
#     a comment line "# prints TEXT" says what the command above it prints on stdout;
#   - any other fenced block is a file, named by the "`NAME`:" that ends the line before it,
#     and is saved under that name before the commands run;
#   - an indented code block is refused: it would be neither run nor checked.
# What differs from a newcomer's machine, and why:
#   - the commands run in a scratch folder that links to the source tree's files and to the
#     build tree as `build`, so nothing is written into the source tree;
#   - `tools/setup-debian.sh`, `cmake -S`, `cmake --build` and `ctest` are left out of each line
#     (the packages are there, the build is the one under test, and the suite is running);
#     `cmake --install` does run, into a temporary HOME, so `~/plume` is a scratch prefix;
#   - each `--data FILE` is cut to its first 3 requests, to keep the test a few seconds long
#     (the README's main command runs the 84 test requests in about 15 s on lavapipe).
# Each command must exit 0; after the run each `--out FILE` or `-o FILE` must exist, be non-empty
# and, for `plume run --data`, hold one line per request, none an error.
# usage: readme_quickstart.sh SOURCE_DIR BUILD_DIR
set -eu
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd)
readme=$src/README.md
scratch=$(mktemp -d /tmp/plume-quickstart-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "readme_quickstart: $*" >&2; exit 1; }
work=$scratch/work log=$scratch/log
mkdir -p "$work" "$log" "$scratch/home" "$scratch/files"

# ---- read the quick start into a script (commands.sh) and the files it names ----
awk -v files="$scratch/files" -v script="$scratch/commands.sh" -v leftout="$scratch/left-out.txt" \
    -v outputs="$scratch/outputs.txt" -v datafiles="$scratch/data.txt" '
    function bad(msg) { printf "README.md:%d: %s\n", NR, msg > "/dev/stderr"; failed = 1; exit 1 }
    /^## / && !fence { inside = ($0 == "## Quick start"); if (inside) found = 1 }
    !inside { next }
    fence && /^```[ \t]*$/ {
        fence = ""; if (continued != "") bad("a command ends with a backslash at the end of its block"); next }
    fence == "sh" {
        line = continued $0
        if (line ~ /\\$/) { continued = substr(line, 1, length(line) - 1); next }
        continued = ""
        if (line ~ /^# prints /) {
            if (!last) bad("\"# prints\" with no command before it")
            printf "expect_stdout %d <<'"'"'PLUME_EXPECTED'"'"'\n%s\nPLUME_EXPECTED\n", last, substr(line, 10) > script
            next
        }
        if (line ~ /^[ \t]*(#|$)/) next
        n = split(line, part, /[ \t]*&&[ \t]*/); kept = ""
        for (i = 1; i <= n; i++) {
            p = part[i]; sub(/^[ \t]+/, "", p)
            if (p ~ /^tools\/setup-debian\.sh( |$)/ || p ~ /^cmake -S / || p ~ /^cmake --build / || p ~ /^ctest /) {
                printf "README.md:%d: left out: %s\n", NR, p > leftout; continue }
            kept = kept (kept == "" ? "" : " && ") p
        }
        if (kept == "") next
        last = NR; commands++
        m = split(kept, word, /[ \t]+/); data = ""
        for (i = 1; i < m; i++) if (word[i] == "--data") data = word[i + 1]
        if (data != "") printf "%s\n", data > datafiles
        for (i = 1; i < m; i++)
            if (word[i] == "--out" || word[i] == "-o") printf "%d %s %s\n", NR, word[i + 1], data == "" ? "-" : data > outputs
        printf "run_line %d <<'"'"'PLUME_LINE'"'"'\n%s\nPLUME_LINE\n{ %s\n} > \"$log/%d.out\" 2> \"$log/%d.err\" || died %d\n",
            NR, kept, kept, NR, NR, NR > script
        next
    }
    fence { print > (files "/" name); next }
    /^```/ {
        fence = substr($0, 4); sub(/[ \t].*/, "", fence)
        if (fence == "sh") next
        if (fence == "") bad("a fenced block without a language: mark commands `sh`, files by their language")
        if (match(prev, /`[^`]+`:[ \t]*$/) == 0) bad("a " fence " block with no \"`NAME`:\" ending the line before it")
        name = substr(prev, RSTART + 1); sub(/`:[ \t]*$/, "", name)
        if (name ~ /\//) bad("file name with a folder: " name)
        printf "" > (files "/" name)
        next
    }
    /^    [^ ]/ && blank { bad("an indented code block: write it fenced, `sh` for commands") }
    { blank = $0 ~ /^[ \t]*$/; if (!blank) prev = $0 }
    END {
        if (failed) exit 1
        if (!found) { print "README.md has no \"## Quick start\" section" > "/dev/stderr"; exit 1 }
        if (!commands) { print "the quick start has no command" > "/dev/stderr"; exit 1 }
    }' "$readme" 2> "$scratch/read.err" || { cat "$scratch/read.err" >&2; fail "cannot read the quick start"; }
touch "$scratch/outputs.txt" "$scratch/data.txt" "$scratch/left-out.txt"

# ---- the scratch folder: the source tree's files by link, the build tree as `build` ----
for entry in "$src"/* "$src"/.[!.]*; do
    [ -e "$entry" ] || continue
    case ${entry##*/} in build|.git) continue ;; esac
    ln -s "$entry" "$work/${entry##*/}"
done
ln -s "$build" "$work/build"
# own REL: makes the folders on the way to REL real folders of links, so that REL can be replaced
own() {
    local path=$work part
    local IFS=/
    for part in $(dirname "$1"); do
        [ "$part" = . ] && continue
        path=$path/$part
        if [ -L "$path" ]; then
            local target
            target=$(readlink -f "$path")
            rm "$path"
            mkdir "$path"
            for child in "$target"/* "$target"/.[!.]*; do
                if [ -e "$child" ]; then ln -s "$child" "$path/${child##*/}"; fi
            done
        fi
    done
}
while read -r data; do
    [ -f "$src/$data" ] || continue   # a file the quick start makes itself is used as it is
    own "$data"
    rm -f "$work/$data"
    head -n 3 "$src/$data" > "$work/$data"
done < <(sort -u "$scratch/data.txt")
cp "$scratch"/files/* "$work"/ 2> /dev/null || true

# ---- run it, as one shell session (an `export` holds for the lines after it) ----
run_line() { current=$1; cat > "$log/$1.cmd"; echo "+ README.md:$1: $(cat "$log/$1.cmd")"; }
died() {
    echo "--- stdout:" >&2; cat "$log/$1.out" >&2; echo "--- stderr:" >&2; cat "$log/$1.err" >&2
    fail "README.md:$1: exited non-zero: $(cat "$log/$1.cmd")"
}
expect_stdout() {
    cat > "$log/$1.expected"
    cmp -s "$log/$1.expected" "$log/$1.out" ||
        { diff -u "$log/$1.expected" "$log/$1.out" >&2; fail "README.md:$1 does not print what the README says (diff above)"; }
}
cat "$scratch/left-out.txt"
cd "$work"
export HOME=$scratch/home
unset PLUME_MODEL
. "$scratch/commands.sh"

# ---- what the commands should have written ----
while read -r line out data; do
    [ -s "$out" ] || fail "README.md:$line: the output $out is missing or empty"
    if [ "$data" != - ]; then
        [ "$(wc -l < "$out")" = "$(wc -l < "$data")" ] || fail "README.md:$line: $out has not one line per request of $data"
        ! grep -q '"error":' "$out" || { grep '"error":' "$out" >&2; fail "README.md:$line: a request failed"; }
    fi
done < "$scratch/outputs.txt"
echo "readme_quickstart: ok ($(grep -c '^run_line' "$scratch/commands.sh") commands)"
