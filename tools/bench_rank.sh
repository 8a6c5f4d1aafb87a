#!/bin/sh
# Measures the ranking stages on one request whose profile holds 100 to 20,000 real documents.
# Usage: tools/bench_rank.sh [BUILD_DIR] [CORPUS: stackexchange | email]  (defaults: build, stackexchange)
# The profile is built from the shipped corpus, imported on the fly; each size is timed best of 3.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
corpus=${2:-stackexchange}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$corpus" in
  stackexchange) "$build/bin/plume" import stackexchange data/stackexchange-beer/Posts.xml -o "$tmp/c.jsonl" 2>/dev/null ;;
  email)         "$build/bin/plume" import mbox data/email/ham.mbox -o "$tmp/c.jsonl" 2>/dev/null ;;
  *) echo "unknown corpus $corpus (stackexchange or email)" >&2; exit 2 ;;
esac
"$build/bin/bench_rank" "$tmp/c.jsonl" 100 1000 5000 20000
