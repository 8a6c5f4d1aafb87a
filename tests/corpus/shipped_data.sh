#!/bin/sh
# The shipped datasets are what the shipped code makes from the shipped corpora, with the commands
# data/README.md gives (so a change to an importer or to the builder cannot leave data/ stale),
# and the command line reports and refuses as documented.
set -eu
plume="$PLUME_BUILD_DIR/bin/plume"
src="$PLUME_SOURCE_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "shipped_data: $*" >&2; exit 1; }

"$plume" import mbox "$src/data/email/ham.mbox" -o "$tmp/email.jsonl" 2>"$tmp/report"
grep -q "^mbox: 893 records read, 893 documents written, 0 skipped" "$tmp/report" || fail "email import report: $(cat "$tmp/report")"
# the list footers: FoRK's listinfo line (12 senders), two SourceForge sponsor blocks (4 and 3
# senders) and four more under the same dashed rule that heads both
grep -q "footers    196  list footers removed: 7 distinct blocks" "$tmp/report" || fail "email footer report: $(cat "$tmp/report")"
grep -q "138  (12 senders) http://xent.com/mailman/listinfo/fork" "$tmp/report" || fail "the FoRK footer: $(cat "$tmp/report")"
grep -qF -e "9  (2 senders) ------------------------------------------------------- / This sf.net email is sponsored by: Jabber" "$tmp/report" ||
  fail "the Jabber sponsor block: $(cat "$tmp/report")"
mkdir "$tmp/email"
"$plume" dataset build "$tmp/email.jsonl" -o "$tmp/email" --max-examples 20 --max-profile 10 --train 0.7 --val 0.1 --seed 1 >"$tmp/table"
for s in train val test; do
  cmp -s "$tmp/email/$s.jsonl" "$src/data/email/dataset/$s.jsonl" || fail "data/email/dataset/$s.jsonl is stale: rebuild it (data/README.md)"
done
grep -q "^| test | 5 | 84 |" "$tmp/table" || fail "email Table 1: $(cat "$tmp/table")"
grep -q "^| train | 20 | 316 |" "$tmp/table" || fail "email Table 1: $(cat "$tmp/table")"
# no target and no profile document of the shipped email requests holds a mailing-list footer
if grep -l "mailman/listinfo" "$src"/data/email/dataset/*.jsonl; then fail "a shipped email request holds mailman/listinfo"; fi

"$plume" import stackexchange "$src/data/stackexchange-beer/Posts.xml" -o "$tmp/se.jsonl" 2>"$tmp/report"
grep -q "skipped    119  not a question or an answer" "$tmp/report" || fail "stackexchange import report: $(cat "$tmp/report")"
mkdir "$tmp/se"
"$plume" dataset build "$tmp/se.jsonl" -o "$tmp/se" --max-examples 20 --max-profile 10 --train 0.7 --val 0.1 --seed 1 >/dev/null
for s in train val test; do
  cmp -s "$tmp/se/$s.jsonl" "$src/data/stackexchange-beer/dataset/$s.jsonl" || fail "data/stackexchange-beer/dataset/$s.jsonl is stale"
done

# usage errors exit 2; an input with nothing to import exits 1
set +e
"$plume" import nosuchformat x -o "$tmp/x" 2>/dev/null; [ $? -eq 2 ] || fail "unknown format should exit 2"
"$plume" import git "$src/data/email/ham.mbox" -o "$tmp/x" 2>/dev/null; [ $? -eq 1 ] || fail "an mbox read as git log should exit 1"
"$plume" dataset build "$tmp/se.jsonl" -o "$tmp/se" --train 2 2>/dev/null; [ $? -eq 2 ] || fail "--train 2 should exit 2"
"$plume" import git "$src/data/email/ham.mbox" --footer-senders 3 -o "$tmp/x" 2>"$tmp/err"; [ $? -eq 2 ] || fail "--footer-senders with git should exit 2"
grep -q "apply to mbox only" "$tmp/err" || fail "--footer-senders with git: $(cat "$tmp/err")"
"$plume" import mbox "$src/data/email/ham.mbox" --footer-senders x -o "$tmp/x" 2>"$tmp/err"; [ $? -eq 2 ] || fail "--footer-senders x should exit 2"
grep -q "^plume import: --footer-senders x: expected a whole number" "$tmp/err" || fail "--footer-senders x: $(cat "$tmp/err")"
"$plume" import mbox "$src/data/email/ham.mbox" --footer-senders 0 -o "$tmp/x" 2>/dev/null || fail "--footer-senders 0 should import"
grep -q "mailman/listinfo/fork" "$tmp/x" || fail "--footer-senders 0 should keep the footers"
exit 0
