#!/bin/sh
# Every file in graphs/ is a graph that `plume check` accepts (training configurations live in
# configs/), and every training configuration in configs/ is refused by `plume check` with a
# message that says it is not a graph.
set -eu
plume="$PLUME_BUILD_DIR/bin/plume"
cd "$PLUME_SOURCE_DIR"
n=0
for g in graphs/*.yaml; do
  "$plume" check "$g" > /dev/null || { echo "graphs_check: $g does not pass plume check" >&2; exit 1; }
  n=$((n + 1))
done
[ "$n" -ge 15 ] || { echo "graphs_check: only $n graphs found" >&2; exit 1; }
for c in configs/*.yaml; do
  if "$plume" check "$c" > /dev/null 2>"${TMPDIR:-/tmp}/graphs_check.$$"; then echo "graphs_check: $c passes as a graph" >&2; exit 1; fi
  grep -q "^$c:[0-9]*:[0-9]*: this is a training configuration, not a graph; run it with plume train" \
    "${TMPDIR:-/tmp}/graphs_check.$$" || { echo "graphs_check: $c: $(cat "${TMPDIR:-/tmp}/graphs_check.$$")" >&2; exit 1; }
done
rm -f "${TMPDIR:-/tmp}/graphs_check.$$"
echo "graphs_check: $n graphs pass plume check"
