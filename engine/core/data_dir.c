#define _GNU_SOURCE  /* dladdr */
/* plume's shared data (the shipped graphs and default model): <prefix>/share/plume once
 * installed. Found from libplume's own file, as the built-in modules are, so an installed tree
 * can be moved (or installed with `cmake --install --prefix`) and still find its data. */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "engine.h"

static char data_dir[PATH_MAX];
static pthread_once_t data_once = PTHREAD_ONCE_INIT;

static void find_data_dir(void) {
    Dl_info info;
    if (!dladdr((void *)plume_data_dir, &info) || !info.dli_fname) return;
    char lib[PATH_MAX], joined[PATH_MAX + 64];
    if (!realpath(info.dli_fname, lib)) return;
    char *slash = strrchr(lib, '/');
    if (!slash) return;
    *slash = '\0';
    int n = snprintf(joined, sizeof joined, "%s/%s", lib, PLUME_DATA_RELDIR);
    struct stat st;
    /* in the build tree there is no share/plume: the sources' graphs/ and models/ are used from there */
    if (n < 0 || (size_t)n >= sizeof joined || !realpath(joined, data_dir) || stat(data_dir, &st) ||
        !S_ISDIR(st.st_mode))
        data_dir[0] = '\0';
}

const char *plume_data_dir(void) {
    pthread_once(&data_once, find_data_dir);
    return data_dir[0] ? data_dir : NULL;
}
