/* Linked into libplume-lm (the Vulkan layer) only in -DPLUME_SANITIZE=ON builds (see CMakeLists.txt).
 *
 * The Vulkan loader dlclose()s the driver (lavapipe, with LLVM) and the validation layer when
 * the instance is destroyed. Memory they keep for the life of the process (LLVM's and Mesa's
 * caches) then shows up in LeakSanitizer's report at exit with every frame in an "<unknown
 * module>", which no suppression can name. Loading them here first with RTLD_NODELETE keeps them
 * mapped, so their frames are named and tests/lsan.supp can suppress exactly those libraries. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open MPI dlopen()s its components (mca_*.so), PMIx (its launcher's library) and hwloc (its
 * machine topology) their own plugins, and all dlclose() them when the job ends, with the same effect on the memory
 * they keep. Under an MPI launch (tests/mpi), the components beside the libraries this process
 * uses are loaded here first, with RTLD_NODELETE, for the same reason. */
static void keep_beside(const char *symbol, const char *const *patterns, unsigned n) {
    void *at = dlsym(RTLD_DEFAULT, symbol);
    Dl_info info;
    char lib[PATH_MAX], pattern[PATH_MAX + 64];
    if (!at || !dladdr(at, &info) || !info.dli_fname || !realpath(info.dli_fname, lib)) return;
    const char *dir = dirname(lib);   /* of the real file: Debian's /lib/.../libmpi.so.40 is a link */
    for (unsigned k = 0; k < n; k++) {
        snprintf(pattern, sizeof pattern, "%s/%s", dir, patterns[k]);
        glob_t g;
        if (glob(pattern, 0, NULL, &g) != 0) continue;
        for (size_t i = 0; i < g.gl_pathc; i++)
            dlopen(g.gl_pathv[i], RTLD_LAZY | RTLD_GLOBAL | RTLD_NODELETE);   /* one that cannot load: skipped */
        globfree(&g);
    }
}

static void keep_mpi_components(void) {
    if (!getenv("OMPI_COMM_WORLD_SIZE")) return;
    static const char *const ompi[] = { "openmpi/lib/openmpi3/mca_*.so", "openmpi3/mca_*.so", "openmpi/mca_*.so" };
    static const char *const pmix[] = { "pmix/*.so" }, *const hwloc[] = { "hwloc/*.so" };
    keep_beside("MPI_Init", ompi, 3);
    keep_beside("PMIx_Init", pmix, 1);   /* loaded by then, with Open MPI's PMIx component */
    keep_beside("hwloc_topology_init", hwloc, 1);   /* the topology library's plugins */
}

__attribute__((constructor)) static void plume_keep_vulkan_libraries(void) {
    static const char *const libs[] = { "libvulkan_lvp.so", "libVkLayer_khronos_validation.so" };
    for (unsigned i = 0; i < sizeof libs / sizeof libs[0]; i++)
        dlopen(libs[i], RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE);   /* absent: nothing to keep */
    keep_mpi_components();
}
