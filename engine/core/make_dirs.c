/* mkdir -p, for the tools and the engine's own output folders (training runs, the
 * autotune's cache, experiments). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "plume/file.h"

int plume_make_dirs(const char *path) {
    if (!path || !*path) {
        errno = ENOENT;
        return -1;
    }
    char *p = strdup(path);
    if (!p) return -1;
    int rc = 0;
    /* Every prefix that ends before a '/', then the whole path; a folder already there is
     * fine (anything else already there fails the mkdir of what lies under it). */
    for (char *s = p + 1; !rc; s++) {
        if (*s != '/' && *s) continue;
        char keep = *s;
        *s = 0;
        if (mkdir(p, 0777) && errno != EEXIST) rc = -1;
        *s = keep;
        if (!keep) break;
    }
    int saved = errno;
    free(p);
    errno = saved;
    return rc;
}
