/* The environment ctest gives a test (the ENVIRONMENT property in tests/CMakeLists.txt): the build
 * folder, the source folder, the test data. */
#ifndef PLUME_TEST_ENV_H
#define PLUME_TEST_ENV_H
#include <stdio.h>
#include <stdlib.h>

/* The value of the variable NAME; a test started without it (not through ctest) stops here,
 * saying which one it needs. */
static inline const char *ctest_env(const char *name) {
    const char *v = getenv(name);
    if (!v) {
        fprintf(stderr, "%s must be set: run the test through ctest, which sets it\n", name);
        exit(1);
    }
    return v;
}
#endif
