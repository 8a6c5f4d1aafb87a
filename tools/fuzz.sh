#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan+UBSan) in build-fuzz/ and runs
# each for SECONDS (default 15), starting from the seeds in tests/fuzz/corpus/TARGET.
#   tools/fuzz.sh [SECONDS] [TARGET...]        targets: graph gguf request tokenizer ...
# A crash stops with its input saved as build-fuzz/fuzz-crashes/TARGET/crash-*; once fixed, copy
# that file into tests/fuzz/regressions/TARGET/ so the ordinary suite replays it forever
# (ctest -R fuzz_replay). The corpus libFuzzer grows stays in build-fuzz/fuzz-corpus/.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-15}
[ $# -gt 0 ] && shift
targets=${*:-$(sed -n 's/^set(PLUME_FUZZ_TARGETS \([a-z_ ]*\))$/\1/p' tests/fuzz/CMakeLists.txt)}
cc=${PLUME_FUZZ_CC:-clang-14}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$cc" -DPLUME_FUZZ=ON -DPLUME_WERROR=ON -DPLUME_TESTS=ON >/dev/null
for t in $targets; do
  cmake --build build-fuzz -j"${PLUME_JOBS:-2}" --target "fuzz_$t" >/dev/null
done
status=0
for t in $targets; do
  mkdir -p "build-fuzz/fuzz-corpus/$t" "build-fuzz/fuzz-crashes/$t"
  log="build-fuzz/fuzz-$t.log"
  echo "fuzz_$t: ${seconds}s"
  # -seed fixes the mutation sequence; -timeout/-rss_limit_mb turn a hang or a runaway
  # allocation into a failure; leaks are checked (suppressions: tests/lsan.supp).
  dict=""
  [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
  if LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
     UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
     "build-fuzz/bin/fuzz_$t" $dict -max_total_time="$seconds" -seed=1 -max_len=8192 -timeout=10 \
       -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
       -artifact_prefix="build-fuzz/fuzz-crashes/$t/" \
       "build-fuzz/fuzz-corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" | tr '\n' ' '; echo
  else
    status=1
    echo "fuzz_$t FAILED; the end of $log:"
    tail -40 "$log"
    ls "build-fuzz/fuzz-crashes/$t"
  fi
done
exit $status
