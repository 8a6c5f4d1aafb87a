/* The fuzz targets' shared declarations.
 *
 * Each target file defines LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize where it needs
 * set-up). It is linked two ways: with libFuzzer (-DPLUME_FUZZ=ON, clang, fuzz_NAME), and with
 * replay.c into the ctest test fuzz_replay_NAME, which feeds it every file of
 * tests/fuzz/corpus/NAME and tests/fuzz/regressions/NAME, so a crash once found stays fixed
 * in the ordinary suite (and under PLUME_SANITIZE). A target must not crash, hang, leak or
 * allocate without bound on any input; where a property is defined (a round trip), it
 * abort()s when the property fails, which both drivers report. */
#ifndef PLUME_TESTS_FUZZ_H
#define PLUME_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/data, from PLUME_TEST_DATA or the source tree the target was built from. */
const char *fuzz_test_data(void);

/* An anonymous in-memory file holding DATA, as a path (/proc/self/fd/N) for APIs that take a
 * path; fuzz_file_close() frees it. Returns NULL on failure. */
const char *fuzz_file(const uint8_t *data, size_t size);
void fuzz_file_close(void);

/* Sends stdout to /dev/null (targets whose API prints results). */
void fuzz_quiet_stdout(void);

#endif
