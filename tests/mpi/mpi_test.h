/* Shared by the tests of tests/mpi: running `plume` (alone or under mpirun) with a time limit,
 * files as text, a scratch folder. */
#ifndef PLUME_MPI_TEST_H
#define PLUME_MPI_TEST_H
#include <stddef.h>

/* A fresh folder under /tmp for this test (removed by mt_cleanup). */
const char *mt_dir(const char *test);
void mt_cleanup(void);
/* dir/name in one of 16 rotating buffers. */
const char *mt_path(const char *name);
/* build/bin/plume (PLUME_BUILD_DIR). */
const char *mt_plume(void);
/* Sets Open MPI's environment for `mpirun -n 2` on one machine in CI: as root, in a container
 * (no ssh, no cross-memory attach), two ranks on fewer cores, no binding to cores. */
void mt_mpi_env(void);
/* Runs argv (NULL-terminated) with stdout and stderr to *output (caller frees; may be NULL);
 * kills its process group after limit_s. Returns the exit status, 128+signal when killed by
 * one, or -1 when it had to be stopped. */
int mt_run(int limit_s, char **output, const char *const *argv);
/* The whole file (NUL-terminated, caller frees), or NULL. */
char *mt_read(const char *path);
int mt_write(const char *path, const char *text);
/* Lines in text. */
size_t mt_lines(const char *text);
/* Entries in the test folder. */
int mt_entries(void);
#endif
