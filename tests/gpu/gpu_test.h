/* Helpers for the GPU tests: a deterministic generator, half-float conversion (written
 * independently of the engine's), buffers from host arrays, and the validation check. */
#ifndef PLUME_GPU_TEST_H
#define PLUME_GPU_TEST_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/gpu.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline uint32_t rng_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
/* Uniform in [-1, 1). */
static inline float rng_f(void) { return (float)((double)rng_u32() / 2147483648.0 - 1.0); }

/* binary16 -> float by the formula value = (-1)^s * 2^(e-15) * (1 + m/1024), not by bits. */
static inline float t_half_to_float(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp((double)m / 1024.0, -14);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(1.0 + (double)m / 1024.0, e - 15);
    return (float)(s ? -v : v);
}
/* float -> nearest binary16 for values in the normal range (all the tests need). */
static inline uint16_t t_float_to_half(float f) {
    if (f == 0.0f) return 0;
    int s = f < 0, e;
    double m = frexp(fabs((double)f), &e);  /* f = m * 2^e, m in [0.5, 1) */
    int he = e - 1 + 15;
    if (he <= 0) return (uint16_t)(s << 15);
    int mant = (int)lrint((m * 2.0 - 1.0) * 1024.0);
    if (mant == 1024) {
        mant = 0;
        he++;
    }
    return (uint16_t)(s << 15 | he << 10 | mant);
}

static inline plume_gpu_buffer *t_buffer(plume_gpu *gpu, const void *data, uint64_t bytes) {
    plume_error err;
    plume_gpu_buffer *b = plume_gpu_buffer_create(gpu, bytes, PLUME_GPU_BUFFER_DEVICE, &err);
    if (!b) {
        fprintf(stderr, "buffer: %s\n", err.msg);
        exit(1);
    }
    if (data && plume_gpu_upload(b, 0, data, bytes, &err)) {
        fprintf(stderr, "upload: %s\n", err.msg);
        exit(1);
    }
    return b;
}

static inline void t_download(plume_gpu_buffer *b, void *out, uint64_t bytes) {
    plume_error err;
    if (plume_gpu_download(b, 0, out, bytes, &err)) {
        fprintf(stderr, "download: %s\n", err.msg);
        exit(1);
    }
}

static inline plume_gpu *t_open(void) {
    plume_error err;
    plume_gpu *gpu = plume_gpu_open(&err);
    if (!gpu) {
        fprintf(stderr, "cannot open a GPU: %s\n", err.msg);
        exit(1);
    }
    return gpu;
}

/* For calls whose failure makes the rest of a test meaningless; needs `plume_error err` in scope. */
#define T_OK(call) do { if ((call) != 0) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
    err.msg); exit(1); } } while (0)

/* A workgroup of 4 subgroups, as a GPU runs the kernels plume sizes to one subgroup on lavapipe;
 * 0 when the device does not allow it (or it would pass the 256 invocations the kernels assume). */
static inline uint32_t t_four_subgroups(plume_gpu *gpu) {
    const plume_gpu_info *info = plume_gpu_device_info(gpu);
    uint32_t wg = info->subgroup_size * 4;
    return wg > 256 || wg > info->max_workgroup_invocations ? 0 : wg;
}

/* A recording to fill; t_rec_run ends it, runs it to completion and frees it. */
static inline plume_gpu_rec *t_rec_begin(plume_gpu *gpu) {
    plume_error err;
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    T_OK(rec == NULL);
    return rec;
}

static inline void t_rec_run(plume_gpu_rec *rec) {
    plume_error err;
    T_OK(plume_gpu_rec_end(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    plume_gpu_rec_free(rec);
}

/* Records shader NAME dispatched directly over `groups` workgroups, with specialization constants
 * the test chooses (the workgroup size first), then a barrier: how a test runs a kernel with the
 * larger workgroups a GPU would get, where the engine's own call picks lavapipe's. */
static inline void t_dispatch_direct(plume_gpu_rec *rec, const char *name, const char *bindings, uint32_t push_bytes,
                                     const uint32_t *spec, int n_spec, const plume_gpu_binding *b, const void *push,
                                     uint32_t groups) {
    plume_error err;
    plume_gpu_kernel *k = plume_gpu_kernel_get(plume_gpu_rec_gpu(rec), name, bindings, push_bytes, spec, n_spec, &err);
    T_OK(k == NULL);
    T_OK(plume_gpu_rec_dispatch(rec, k, b, (int)strlen(bindings), push, groups, 1, 1, &err));
    plume_gpu_rec_barrier(rec);
}
#endif
