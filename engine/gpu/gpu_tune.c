/* Autotune: the matmul kernel's shape (workgroup size x rows per invocation, and whether
 * x is shared through subgroup shuffles: specialization constants) chosen per device by a
 * short timing at first use, and cached on disk per device and driver build.
 *
 * Why: what suits lavapipe (8-lane subgroups, 2 workgroups of 16 per core, 4-8 rows each
 * to share every x fetch) would leave a real GPU's compute units idle (it wants 64-256
 * invocations per workgroup, 1-2 rows each), and the best shape differs between drivers,
 * weight types, batch sizes, and plain against SwiGLU products (on lavapipe 8 rows with
 * shared x win a plain Q8_0 product of one token and lose a SwiGLU one to 8 rows without).
 *
 * The candidates only spread the work differently: each row is still accumulated by one
 * invocation over the texels in order, so every candidate gives bit-identical results
 * (test_gpu_matmul checks each one against the default, bit for bit, and all against the
 * plain-C reference).
 *
 * First use of a (kind, weight type, batch class) times each candidate on a 2048 x 1024
 * matrix of that type (two for SwiGLU; best of 5 rounds that each submit every
 * candidate's 6 products, 2 for prompts, once; after a warm-up) and keeps the fastest; the
 * default stays unless another is 5% faster, so timing noise does not flip between
 * near-equal shapes. The classes: 1 token (decoding one sequence), 2-8 (a decoding batch,
 * one register tile of tokens; timed at 8) and more (a prompt, many tiles; timed at 64).
 * On lavapipe a class costs 2-5 s, mostly pipeline compilation. Matrices under
 * TUNE_MIN_WEIGHTS (a model like stories260K) take what the cache holds or the default,
 * and never start a timing: their products cost little, and what does cost (the
 * dispatches) does not depend on the shape.
 *
 * The cache file: $XDG_CACHE_HOME/plume (else $HOME/.cache/plume) /tune2-V-D-DRIVER-UUID-K.txt
 * (vendor, device, driver version, the pipeline-cache UUID, which Mesa derives from its
 * build, and a hash K of the matmul kernel's SPIR-V, so that a changed kernel is timed
 * again), one line per tuned class: "matmul.q8_0.n1 WG TR XSHARE". It is rewritten whole
 * through a temporary file and rename(). A missing, unreadable or malformed file, or one
 * that cannot be written, only means tuning again; nothing fails because of it.
 * PLUME_TUNE=0 turns the timing off (the defaults are used; the test suite sets it).
 * PLUME_TUNE_DIR overrides the cache folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "gpu_internal.h"
#include "plume/file.h"
#include "gpu_shaders.h"

#define TUNE_ROWS 2048
#define TUNE_COLS 1024
#define TUNE_REPS 6
#define TUNE_ROUNDS 5
#define TUNE_MIN_WEIGHTS (256u * 1024u)

static const char *type_name(plume_gpu_type t) {
    return t == PLUME_GPU_F32 ? "f32" : t == PLUME_GPU_F16 ? "f16" : t == PLUME_GPU_Q8_0 ? "q8_0" : "q4_0";
}

int plume_gpu_matmul_variants(const plume_gpu *gpu, plume_gpu_type type, uint32_t tb, plume_gpu_mm_shape *out,
                              int max) {
    uint32_t sg = gpu->info.subgroup_size ? gpu->info.subgroup_size : 1;
    if (sg > 32) sg = 32;
    uint32_t base = sg * 2 < 16 ? 16 : sg * 2;
    /* x shared through shuffles: subgroups of exactly 8 (the shader's chunk of 8 texels),
     * lavapipe's on 256-bit hosts. */
    uint32_t xs = gpu->info.subgroup_size == 8 && gpu->info.subgroup_shuffle;
    /* The default first: base x 4 rows (16 x 4 on lavapipe). 8 rows share each x fetch
     * between twice the rows (+15-20% for tiles of 8 tokens on lavapipe), but LLVM takes
     * long to compile Q4_0's 8-row x 8-token SwiGLU tile (about 12 s, against 4 for the 4-row
     * one): not a candidate there. */
    const plume_gpu_mm_shape cand[7] = {{base, 4, 0},     {base, 8, 0},     {base, 2, 0}, {base * 2, 2, 0},
                                        {base * 4, 1, 0}, {base, 4, 1}, {base, 8, 1}};
    int n = 0;
    for (int i = 0; i < 7 && n < max; i++) {
        if (cand[i].wg > gpu->info.max_workgroup_invocations) continue;
        if (cand[i].tr == 8 && type == PLUME_GPU_Q4_0 && tb > 1) continue;
        if (cand[i].xshare && !xs) continue;
        out[n++] = cand[i];
    }
    return n;
}

/* The weight type and batch class a cache key names ("matmul.q4_0.n8"). */
static plume_gpu_type key_type(const char *key) {
    return strstr(key, ".f32.") ? PLUME_GPU_F32 : strstr(key, ".f16.") ? PLUME_GPU_F16 : strstr(key, ".q8_0.") ? PLUME_GPU_Q8_0
                                                                                                              : PLUME_GPU_Q4_0;
}

static uint32_t key_tb(const char *key) {
    const char *n = strrchr(key, 'n');
    return n && n[1] == '1' && n[2] == 0 ? 1 : 8;
}

/* The batch class of n tokens, and the n it is timed at. */
static uint32_t batch_class(uint32_t n) { return n <= 1 ? 1 : n <= 8 ? 8 : 64; }

static const char *cache_dir(char *buf, size_t size) {
    const char *d = getenv("PLUME_TUNE_DIR");
    if (d && *d) {
        snprintf(buf, size, "%s", d);
        return buf;
    }
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (x && *x) snprintf(buf, size, "%s/plume", x);
    else if (h && *h) snprintf(buf, size, "%s/.cache/plume", h);
    else return NULL;
    return buf;
}

/* FNV-1a of the matmul kernel's SPIR-V: a plume whose kernel changed times its shapes
 * again instead of trusting choices made for another kernel. */
static uint32_t matmul_hash(void) {
    uint32_t h = 2166136261u;
    for (const plume_shader_blob *b = plume_shader_blobs; b->name; b++) {
        if (strcmp(b->name, "matmul")) continue;
        const uint8_t *p = (const uint8_t *)b->code;
        for (size_t i = 0; i < b->size; i++) h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

int plume_gpu_tune_file(const plume_gpu *gpu, char *buf, size_t size) {
    char dir[4096];
    if (!cache_dir(dir, sizeof dir)) return -1;
    int n = snprintf(buf, size, "%s/tune2-%04x-%04x-%08x-%s-%08x.txt", dir, gpu->info.vendor_id, gpu->info.device_id,
                     gpu->driver_version, gpu->cache_uuid, matmul_hash());
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Reads the cache file once (entries the file has, that this gpu does not). */
static void load_cache(plume_gpu *gpu) {
    gpu->tune_loaded = 1;
    char path[4200];
    if (plume_gpu_tune_file(gpu, path, sizeof path)) return;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[256];
    while (gpu->n_tune < GPU_TUNE_MAX && fgets(line, sizeof line, f)) {
        gpu_tune_entry e;
        char key[sizeof e.key];
        unsigned wg, tr, xs;
        if (sscanf(line, "%39s %u %u %u", key, &wg, &tr, &xs) != 4) continue;
        /* Only shapes this build would try itself: a hand-edited file cannot ask for more. */
        plume_gpu_mm_shape c[8];
        int nc = plume_gpu_matmul_variants(gpu, key_type(key), key_tb(key), c, 8), ok = 0;
        for (int i = 0; i < nc; i++) ok |= c[i].wg == wg && c[i].tr == tr && c[i].xshare == xs;
        if (!ok) continue;
        snprintf(e.key, sizeof e.key, "%s", key);
        e.shape = (plume_gpu_mm_shape){wg, tr, xs};
        gpu->tune[gpu->n_tune++] = e;
    }
    fclose(f);
}

static void save_cache(const plume_gpu *gpu) {
    char path[4200], dir[4096];
    if (plume_gpu_tune_file(gpu, path, sizeof path) || !cache_dir(dir, sizeof dir) || plume_make_dirs(dir)) return;
    plume_output_file out;   /* whole or not at all: another process may be reading the cache */
    if (plume_output_open(&out, path, NULL)) return;
    FILE *f = out.f;
    fprintf(f, "# plume autotune for %s (engine/gpu/gpu_tune.c); delete to re-tune\n", gpu->info.name);
    for (int i = 0; i < gpu->n_tune; i++)
        fprintf(f, "%s %u %u %u\n", gpu->tune[i].key, gpu->tune[i].shape.wg, gpu->tune[i].shape.tr,
                gpu->tune[i].shape.xshare);
    plume_output_commit(&out, NULL);   /* a cache that cannot be written is only re-tuned next time */
}

/* A recording of TUNE_REPS products (2 for prompt-sized n) with this shape (SwiGLU where
 * w3 is given), submitted once to warm it up; NULL on error. */
static plume_gpu_rec *record_shape(plume_gpu *gpu, plume_gpu_weight *w, plume_gpu_weight *w3, plume_gpu_buffer *x,
                                   plume_gpu_buffer *y, uint32_t n, plume_gpu_mm_shape shape) {
    plume_error err;
    plume_gpu_mm_shape forced = gpu->force;
    gpu->force = shape;
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    int rc = !rec, reps = n > 8 ? 2 : TUNE_REPS;
    for (int i = 0; i < reps && !rc; i++)
        rc = (w3 ? plume_gpu_matmul_swiglu(rec, w, w3, x, y, n, &err) : plume_gpu_matmul(rec, w, x, y, n, &err)) != 0;
    gpu->force = forced;
    rc = rc || plume_gpu_rec_end(rec, &err) || plume_gpu_rec_submit(rec, &err);
    if (rc) {
        plume_gpu_rec_free(rec);
        return NULL;
    }
    return rec;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A finite, small weight of every type (the F32/F16 bit patterns of these bytes). */
static plume_gpu_weight *tune_weight(plume_gpu *gpu, plume_gpu_type type, unsigned mul) {
    plume_error err;
    uint64_t bytes = plume_gpu_type_bytes(type, TUNE_ROWS, TUNE_COLS);
    uint8_t *data = malloc(bytes);
    if (!data) return NULL;
    for (uint64_t i = 0; i < bytes; i++) data[i] = (uint8_t)((i * mul) & 0x3b);
    plume_gpu_weight *w = plume_gpu_weight_create(gpu, type, TUNE_ROWS, TUNE_COLS, data, &err);
    free(data);
    return w;
}

static void tune_matmul(plume_gpu *gpu, plume_gpu_type type, uint32_t n, int swiglu, gpu_tune_entry *e) {
    plume_error err;
    plume_gpu_mm_shape c[8];
    int nc = plume_gpu_matmul_variants(gpu, type, n < 8 ? n : 8, c, 8);
    e->shape = c[0];
    plume_gpu_weight *w = tune_weight(gpu, type, 7), *w3 = swiglu && w ? tune_weight(gpu, type, 5) : NULL;
    plume_gpu_buffer *x = w && (w3 || !swiglu)
                              ? plume_gpu_buffer_create(gpu, (uint64_t)n * TUNE_COLS * 4, PLUME_GPU_BUFFER_DEVICE, &err)
                              : NULL;
    plume_gpu_buffer *y = x ? plume_gpu_buffer_create(gpu, (uint64_t)n * TUNE_ROWS * 4, PLUME_GPU_BUFFER_DEVICE, &err)
                            : NULL;
    plume_gpu_rec *rec[8] = {NULL};
    double best[8];
    int ok = y && plume_gpu_fill(x, 0, (uint64_t)n * TUNE_COLS * 4, 0x3c000000u, &err) == 0;
    for (int i = 0; i < nc && ok; i++) {
        best[i] = -1;
        ok = (rec[i] = record_shape(gpu, w, w3, x, y, n, c[i])) != NULL || i > 0;
    }
    /* Rounds visit every candidate in turn, so a change in the machine's load during the
     * timing touches all of them alike; each keeps its best round. */
    for (int r = 0; r < TUNE_ROUNDS && ok; r++)
        for (int i = 0; i < nc; i++) {
            if (!rec[i]) continue;
            double t0 = now_s();
            if (plume_gpu_rec_submit(rec[i], &err)) {
                plume_gpu_rec_free(rec[i]);
                rec[i] = NULL;
                continue;
            }
            double dt = now_s() - t0;
            if (best[i] < 0 || dt < best[i]) best[i] = dt;
        }
    if (ok && rec[0]) {
        double t = best[0];
        for (int i = 1; i < nc; i++)
            if (rec[i] && best[i] > 0 && best[i] < t && best[i] < 0.95 * best[0]) {
                t = best[i];
                e->shape = c[i];
            }
    }
    for (int i = 0; i < nc; i++) plume_gpu_rec_free(rec[i]);
    plume_gpu_buffer_free(x);
    plume_gpu_buffer_free(y);
    plume_gpu_weight_free(w);
    plume_gpu_weight_free(w3);
}

plume_gpu_mm_shape gpu_matmul_shape(plume_gpu *gpu, plume_gpu_type type, uint64_t weights, uint32_t n_tokens,
                                    int swiglu) {
    plume_gpu_mm_shape c[8];
    uint32_t n = batch_class(n_tokens);
    plume_gpu_matmul_variants(gpu, type, n < 8 ? n : 8, c, 8);
    if (gpu->force.wg && gpu->force.tr) return gpu->force;   /* tests, and the timing itself */
    const char *env = getenv("PLUME_TUNE");
    if (env && !strcmp(env, "0")) return c[0];
    char key[40];
    snprintf(key, sizeof key, "%s.%s.n%u", swiglu ? "swiglu" : "matmul", type_name(type), n);
    if (!gpu->tune_loaded) load_cache(gpu);
    for (int i = 0; i < gpu->n_tune; i++)
        if (!strcmp(gpu->tune[i].key, key)) return gpu->tune[i].shape;
    if (gpu->n_tune == GPU_TUNE_MAX || weights < TUNE_MIN_WEIGHTS) return c[0];
    gpu_tune_entry e;
    snprintf(e.key, sizeof e.key, "%s", key);
    tune_matmul(gpu, type, n, swiglu, &e);
    gpu->tune[gpu->n_tune++] = e;
    gpu->tune_runs++;
    save_cache(gpu);
    return e.shape;
}

void plume_gpu_set_matmul_shape(plume_gpu *gpu, const plume_gpu_mm_shape *shape) {
    gpu->force = shape ? *shape : (plume_gpu_mm_shape){0, 0, 0};
}

int plume_gpu_tune_runs(const plume_gpu *gpu) { return gpu->tune_runs; }
