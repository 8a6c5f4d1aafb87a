/* plume devices: the Vulkan devices, the one plume would pick, and the limits that shape
 * its kernels (subgroup size, binding ranges, memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>
#include "commands.h"
#include "plume/gpu.h"

int cmd_devices(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: plume devices\n\nLists the Vulkan devices with their memory, subgroup size and limits.\n"
               "PLUME_DEVICE=index or PLUME_DEVICE=name-substring picks one; otherwise plume prefers\n"
               "discrete, then integrated, then virtual, then CPU devices.\n");
        return 0;
    }
    plume_error err;
    int n = plume_gpu_list(NULL, 0, &err);
    if (n < 0) {
        fprintf(stderr, "plume devices: %s\n", err.msg);
        return 1;
    }
    plume_gpu_info *info = calloc((size_t)n, sizeof *info);
    if (!info || plume_gpu_list(info, n, &err) < 0) {
        fprintf(stderr, "plume devices: %s\n", info ? err.msg : "out of memory");
        free(info);
        return 1;
    }
    /* Which one plume_gpu_open would take: open it (validation off, it only lists). */
    int chosen = -1;
    const char *validate = getenv("PLUME_VALIDATE");
    char *saved = validate ? strdup(validate) : NULL;
    unsetenv("PLUME_VALIDATE");
    plume_gpu *gpu = plume_gpu_open(&err);
    if (gpu) {
        chosen = plume_gpu_device_info(gpu)->index;
        plume_gpu_close(gpu);
    }
    if (saved) {
        setenv("PLUME_VALIDATE", saved, 1);
        free(saved);
    }
    for (int i = 0; i < n; i++) {
        const plume_gpu_info *d = &info[i];
        printf("%s%d: %s (%s, Vulkan %u.%u.%u, vendor 0x%04x device 0x%04x)%s\n", i == chosen ? "* " : "  ", d->index,
               d->name, d->kind_name, VK_API_VERSION_MAJOR(d->api_version), VK_API_VERSION_MINOR(d->api_version),
               VK_API_VERSION_PATCH(d->api_version), d->vendor_id, d->device_id,
               d->usable ? "" : "  [not usable: needs Vulkan 1.2, a compute queue and subgroup arithmetic]");
        printf("     device-local memory %.1f GiB, max allocation %.1f GiB\n", d->device_local_bytes / 1073741824.0,
               d->max_allocation_bytes / 1073741824.0);
        printf("     subgroup size %u, max workgroup %u invocations, shared memory %u KiB, push constants %u B\n",
               d->subgroup_size, d->max_workgroup_invocations, d->max_shared_memory / 1024, d->max_push_constants);
        printf("     max storage binding %llu MiB, max texel buffer %llu texels, workgroup count %u x %u x %u\n",
               (unsigned long long)(d->max_storage_buffer_range >> 20),
               (unsigned long long)d->max_texel_buffer_elements, d->max_workgroup_count[0],
               d->max_workgroup_count[1], d->max_workgroup_count[2]);
        if (d->timestamp_period_ns > 0) printf("     timestamps: %.3g ns per tick\n", d->timestamp_period_ns);
        else printf("     timestamps: none (PLUME_PROFILE has no effect)\n");
    }
    if (chosen < 0) fprintf(stderr, "plume devices: no device would be chosen: %s\n", err.msg);
    else printf("(* = the device plume uses; PLUME_DEVICE=index|name overrides)\n");
    free(info);
    return chosen < 0 ? 1 : 0;
}
