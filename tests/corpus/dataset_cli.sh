#!/bin/sh
# `plume dataset build` on generated corpora too small for the recipe: it names the rule that left
# the authors out, exits 1 and writes nothing when the test split would be empty, warns about a
# split of very few users, and prints its help.
set -eu
plume="$PLUME_BUILD_DIR/bin/plume"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "dataset_cli: $*" >&2; exit 1; }
# plume dataset build ARGS..., expected to fail: its output in $tmp/stdout and $tmp/stderr, its
# exit status in $rc.
build_failing() {
  set +e
  "$plume" dataset build "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  set -e
}

"$plume" dataset build --help >"$tmp/help" || fail "--help should exit 0"
grep -q "^usage: plume dataset build CORPUS.jsonl -o DIR" "$tmp/help" || fail "--help: $(cat "$tmp/help")"

# 3 authors with 5 e-mails each, every one long enough: each author has only 3 examples (the
# first 2 messages have fewer than 2 earlier ones), so none reaches --min-examples 5. Each body
# names its author and number: a text every sender ends with would be cut as a list footer.
body="This message is long enough to be an example on its own: it goes on about the weather, the"
body="$body garden, the neighbours and the new bicycle, and then it goes on some more, so that with"
body="$body its subject it is well over three hundred characters, which is what the paper's recipe"
body="$body asks of an example before it looks at anything else about it."
for a in ann bob cat; do
  for d in 1 2 3 4 5; do
    printf 'From %s@example.org Mon Mar  %s 10:00:00 2003\nFrom: %s <%s@example.org>\nDate: Mon, %s Mar 2003 10:00:00 +0000\nSubject: note %s from %s\nMessage-ID: <%s%s@example.org>\n\n%s (%s, %s)\n\n' \
      "$a" "$d" "$a" "$a" "$d" "$d" "$a" "$a" "$d" "$body" "$a" "$d"
  done
done >"$tmp/three.mbox"
"$plume" import mbox "$tmp/three.mbox" -o "$tmp/three.jsonl" 2>/dev/null
[ "$(wc -l <"$tmp/three.jsonl")" -eq 15 ] || fail "the generated mbox should import as 15 documents"
mkdir "$tmp/out"
build_failing "$tmp/three.jsonl" -o "$tmp/out"
[ $rc -eq 1 ] || fail "3 authors x 5 e-mails: exit $rc, expected 1"
grep -q "authors left out: 3 of 3: 3 with fewer than 7 documents (--min-examples 5 examples, each with --min-profile 2 earlier documents), 0 with enough documents but fewer than 5 examples" "$tmp/stderr" ||
  fail "3 authors x 5 e-mails, the rule: $(cat "$tmp/stderr")"
grep -q "documents that are not examples: 0 not longer than --min-chars 300 characters, 6 with fewer than --min-profile 2 earlier documents" "$tmp/stderr" ||
  fail "3 authors x 5 e-mails, the documents: $(cat "$tmp/stderr")"
grep -q "^plume dataset: $tmp/three.jsonl: the test split is empty: no author has 5 examples" "$tmp/stderr" ||
  fail "3 authors x 5 e-mails, the error: $(cat "$tmp/stderr")"
[ -z "$(ls "$tmp/out")" ] || fail "an empty test split should leave no file: $(ls "$tmp/out")"
# the same corpus with --min-examples 3 gives 3 examples to each author: a dataset, with warnings
"$plume" dataset build "$tmp/three.jsonl" -o "$tmp/out" --min-examples 3 --train 0.34 --val 0.33 >"$tmp/stdout" 2>"$tmp/stderr" ||
  fail "--min-examples 3 should build: $(cat "$tmp/stderr")"
grep -q "^| test | 1 | 3 |" "$tmp/stdout" || fail "--min-examples 3: $(cat "$tmp/stdout")"
grep -q "^plume dataset: warning: the test split has 1 user (" "$tmp/stderr" || fail "the tiny test split: $(cat "$tmp/stderr")"

# 10 authors with 5 examples each: the paper's 85/5/10 rounds to 9 train and 1 val authors, none for test
for a in 0 1 2 3 4 5 6 7 8 9; do
  for d in 1 2 3 4 5 6 7; do
    printf '{"id":"%s-%s","author":"a%s","time":%s,"title":"t","text":"%s (%s, %s)"}\n' "$a" "$d" "$a" "$d" "$body" "$a" "$d"
  done
done >"$tmp/ten.jsonl"
mkdir "$tmp/ten"
build_failing "$tmp/ten.jsonl" -o "$tmp/ten"
[ $rc -eq 1 ] || fail "10 authors at 85/5/10: exit $rc, expected 1"
grep -q "the test split is empty: 10 authors have 5 examples, and --train 0.85 and --val 0.05 of them leave none for test" "$tmp/stderr" ||
  fail "10 authors at 85/5/10: $(cat "$tmp/stderr")"
grep -q "authors left out: 0 of 10" "$tmp/stderr" || fail "10 authors at 85/5/10, left out: $(cat "$tmp/stderr")"
[ -z "$(ls "$tmp/ten")" ] || fail "an empty test split should leave no file"
"$plume" dataset build "$tmp/ten.jsonl" -o "$tmp/ten" --train 0.7 --val 0.1 >"$tmp/stdout" 2>"$tmp/stderr" || fail "70/10/20 should build"
grep -q "^| test | 2 | 10 |" "$tmp/stdout" || fail "10 authors at 70/10/20: $(cat "$tmp/stdout")"
grep -q "warning: the val split has 1 user (0.10 of 10 authors" "$tmp/stderr" || fail "the tiny val split: $(cat "$tmp/stderr")"
exit 0
