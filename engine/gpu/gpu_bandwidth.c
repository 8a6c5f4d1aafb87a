/* Read bandwidth: one kernel that streams a buffer through a texel view, timed with
 * timestamps (or the wall clock where the queue has none). For `plume bench`. */
#include <time.h>
#include "gpu_internal.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int plume_gpu_measure_bandwidth(plume_gpu *gpu, uint64_t bytes, int repeat, double *gbps, plume_error *err) {
    uint64_t max = gpu->info.max_texel_buffer_elements * 16;
    if (max > gpu->info.max_allocation_bytes) max = gpu->info.max_allocation_bytes;
    if (bytes > max) bytes = max;
    bytes -= bytes % 16;
    if (bytes == 0 || repeat < 1) return plume_fail(err, "bandwidth: need a size of at least 16 bytes and repeat >= 1");
    const uint32_t wg = 64, groups = 256;
    uint32_t texels = (uint32_t)(bytes / 16);
    plume_gpu_buffer *src = plume_gpu_buffer_create(gpu, bytes, PLUME_GPU_BUFFER_DEVICE, err);
    plume_gpu_buffer *dst = src ? plume_gpu_buffer_create(gpu, (uint64_t)wg * groups * 4, PLUME_GPU_BUFFER_DEVICE, err)
                                : NULL;
    plume_gpu_rec *rec = NULL;
    int rc = -1;
    if (!dst || plume_gpu_fill(src, 0, bytes, 0x3c003c00u, err)) goto done;
    uint32_t spec[1] = {wg};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "bandwidth", "ts", 4, spec, 1, err);
    if (!k || !(rec = plume_gpu_rec_begin(gpu, err))) goto done;
    plume_gpu_binding b[2] = {{src, 0, 0}, {dst, 0, 0}};
    for (int i = 0; i < repeat; i++) {
        if (plume_gpu_rec_dispatch(rec, k, b, 2, &texels, groups, 1, 1, err)) goto done;
        plume_gpu_rec_barrier(rec);
    }
    if (plume_gpu_rec_end(rec, err)) goto done;
    double t0 = now_ns();
    if (plume_gpu_rec_submit(rec, err)) goto done;
    double ns = now_ns() - t0;
    *gbps = (double)bytes * repeat / ns;
    rc = 0;
done:
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(dst);
    plume_gpu_buffer_free(src);
    return rc;
}
