/* Linked into libplume only in -DPLUME_SANITIZE=ON builds (see CMakeLists.txt).
 *
 * The Vulkan loader dlclose()s the driver (lavapipe, with LLVM) and the validation layer when
 * the instance is destroyed. Memory they keep for the life of the process (LLVM's and Mesa's
 * caches) then shows up in LeakSanitizer's report at exit with every frame in an "<unknown
 * module>", which no suppression can name. Loading them here first with RTLD_NODELETE keeps them
 * mapped, so their frames are named and tests/lsan.supp can suppress exactly those libraries. */
#define _GNU_SOURCE
#include <dlfcn.h>

__attribute__((constructor)) static void plume_keep_vulkan_libraries(void) {
    static const char *const libs[] = { "libvulkan_lvp.so", "libVkLayer_khronos_validation.so" };
    for (unsigned i = 0; i < sizeof libs / sizeof libs[0]; i++)
        dlopen(libs[i], RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE);   /* absent: nothing to keep */
}
