/* Device faults: no Vulkan driver at all, and device memory exhausted. Both must end in a clear
 * error (naming the package to install, or the heap and its size) within seconds, never a hang,
 * and leave the process able to go on (the failed allocations are returned). The device runs
 * with the validation layer (PLUME_VALIDATE=1 from ctest); no message may appear. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "run_cmd.h"
#include "test_files.h"
#include "test_env.h"
#include "plume/gpu.h"
#include "plume/lm.h"
#include "plume/gguf.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* `plume generate` with no Vulkan driver: the message names the package that provides one. */
static void test_no_driver(const char *plume, const char *model) {
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "VK_DRIVER_FILES=/nonexistent/icd.json VK_ICD_FILENAMES=/nonexistent/icd.json "
             "timeout 60 '%s' generate -m '%s' -p 'Once upon a time' -n 4 2>&1", plume, model);
    double t0 = now_s();
    int rc = run_cmd_into(cmd, out, sizeof out);
    CHECK_MSG(rc == 1 && strstr(out, "no Vulkan driver found") && strstr(out, "mesa-vulkan-drivers"),
              "status %d: %s", rc, out);
    CHECK(now_s() - t0 < 30.0);
}

/* A KV cache larger than the device's memory heap: refused at once with the heap's size. */
static void test_memory_exhausted(const char *model) {
    plume_error err;
    plume_lm *lm = plume_lm_acquire(model, &err);
    CHECK_MSG(lm != NULL, "%s", err.msg);
    if (!lm) return;
    const plume_lm_info *in = plume_lm_get_info(lm);
    /* 2 caches per layer of 4096 sequences x the whole context */
    double need = 2.0 * in->n_layers * 4096.0 * in->ctx_len * in->head_dim * in->n_kv_heads * 4.0;
    plume_gpu *gpu = plume_gpu_open(&err);
    uint64_t heap = gpu ? plume_gpu_device_info(gpu)->device_local_bytes : 0;
    plume_gpu_close(gpu);
    if (heap == 0 || need <= (double)heap) {
        fprintf(stderr, "test_memory_exhausted: this device's %.1f GiB hold %.1f GiB of cache: skipped\n",
                (double)heap / (1 << 30), need / (1 << 30));
    } else {
        double t0 = now_s();
        plume_lm_batch *b = plume_lm_batch_create(lm, 4096, 0, &err);
        CHECK(b == NULL);
        CHECK_MSG(strstr(err.msg, "a batch of 4096 sequences x ") && strstr(err.msg, "out of device memory on '") &&
                  strstr(err.msg, "-byte memory heap") && strstr(err.msg, "hint:"), "%s", err.msg);
        CHECK_MSG(now_s() - t0 < 10.0, "refusing took %.1f s", now_s() - t0);
        plume_lm_batch_free(b);
    }
    /* what failed was given back: a normal batch still runs */
    plume_lm_batch *small = plume_lm_batch_create(lm, 2, 32, &err);
    CHECK_MSG(small != NULL, "%s", err.msg);
    int32_t toks[3] = { in->bos >= 0 ? in->bos : 1, 100, 200 };
    float *logits = malloc((size_t)in->vocab_size * sizeof *logits);
    CHECK_MSG(small && plume_lm_prefill(small, 0, toks, 3, logits, &err) == 0, "%s", err.msg);
    int finite = 1;
    for (int i = 0; i < in->vocab_size; i++) finite &= logits[i] == logits[i];
    CHECK(finite);
    free(logits);
    plume_lm_batch_free(small);
    plume_lm_release(lm);
}

/* The model file cut after the header, every 499 bytes of the metadata and tensor infos, at the
 * data section, in the middle and at the end of each tensor, and one byte short (every prefix
 * of a GGUF file goes through the reader in tests/lm_io/test_gguf.c):
 * plume_lm_acquire, the model loader, refuses each with "truncated" and the file's name before
 * anything reaches the device. */
static void test_truncated_model(const char *model, const char *dir) {
    plume_error err;
    plume_gguf *g = NULL;
    CHECK_MSG(plume_gguf_open(&g, model, &err) == 0, "%s", err.msg);
    if (!g) return;
    uint64_t cuts[256];
    size_t n = 0;
    cuts[n++] = 24;                                   /* magic, version, counts */
    for (uint64_t at = 24 + 499; at < g->data_offset && n < 64; at += 499) cuts[n++] = at;   /* in the metadata */
    cuts[n++] = g->data_offset;
    for (uint64_t i = 0; i < g->n_tensors && n + 2 < 256; i++) {
        cuts[n++] = g->data_offset + g->tensors[i].offset + g->tensors[i].n_bytes / 2;
        cuts[n++] = g->data_offset + g->tensors[i].offset + g->tensors[i].n_bytes;
    }
    cuts[n++] = g->size - 1;
    char cut_path[256];
    snprintf(cut_path, sizeof cut_path, "%s/cut.gguf", dir);
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        if (cuts[k] >= g->size) continue;
        FILE *f = fopen(cut_path, "wb");
        if (!f || fwrite(g->base, 1, cuts[k], f) != cuts[k] || fclose(f)) {
            CHECK_MSG(0, "cannot write %s", cut_path);
            break;
        }
        plume_lm *lm = plume_lm_acquire(cut_path, &err);
        if (lm || !strstr(err.msg, "truncated") || !strstr(err.msg, cut_path)) {
            if (bad++ < 3) fprintf(stderr, "cut at %llu: %s\n", (unsigned long long)cuts[k], lm ? "loaded" : err.msg);
            plume_lm_release(lm);
        }
    }
    CHECK_MSG(bad == 0, "%d of %zu truncated models not refused as truncated", bad, n);
    CHECK(n > 40);
    remove(cut_path);
    plume_gguf_close(g);
}

int main(void) {
    const char *build = ctest_env("PLUME_BUILD_DIR"), *data = ctest_env("PLUME_TEST_DATA");
    char dir[64], plume[1024], model[128], cmd[4096], out[8192];
    make_test_dir(dir, sizeof dir, "plume-device");
    snprintf(plume, sizeof plume, "%s/bin/plume", build);
    snprintf(model, sizeof model, "%s/s.gguf", dir);
    snprintf(cmd, sizeof cmd, "'%s' convert llama2c '%s/stories260K/stories260K.bin' '%s/stories260K/tok512.bin' "
             "-o '%s' 2>&1", plume, data, data, model);
    CHECK_MSG(run_cmd_into(cmd, out, sizeof out) == 0, "%s", out);
    test_no_driver(plume, model);
    test_memory_exhausted(model);
    test_truncated_model(model, dir);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    remove_tree(dir);
    return check_finish("test_device");
}
