/* The device layer: listing, PLUME_DEVICE, buffers (upload/download/fill, range and size
 * errors), kernels (unknown names, binding mismatches), recording re-use with per-token
 * values in a device buffer, PLUME_PROFILE timestamps, the bandwidth probe, and that the
 * validation counter does count (one deliberate invalid call on a separate instance). */
#include <stdio.h>
#include <stdlib.h>
#include "gpu_internal.h"
#include "gpu_test.h"

static void test_list(void) {
    plume_error err;
    int n = plume_gpu_list(NULL, 0, &err);
    CHECK_MSG(n >= 1, "plume_gpu_list: %d (%s)", n, n < 0 ? err.msg : "");
    if (n < 1) return;
    plume_gpu_info info[8];
    CHECK(plume_gpu_list(info, 8, &err) == n);
    CHECK(info[0].index == 0);
    CHECK(info[0].name[0] != '\0');
    CHECK(info[0].subgroup_size >= 1 && info[0].subgroup_size <= 128);
    CHECK(info[0].max_storage_buffer_range >= 65536);
    CHECK(info[0].max_texel_buffer_elements >= 65536);
    CHECK(info[0].kind_name != NULL);
}

static void test_device_choice(void) {
    plume_error err;
    setenv("PLUME_DEVICE", "99", 1);
    CHECK(plume_gpu_open(&err) == NULL);
    CHECK(strstr(err.msg, "PLUME_DEVICE=99") && strstr(err.msg, "plume devices"));
    setenv("PLUME_DEVICE", "no-such-device-name", 1);
    CHECK(plume_gpu_open(&err) == NULL);
    CHECK(strstr(err.msg, "matches no device") != NULL);
    /* A substring of the first device's name, in another case, picks it. */
    plume_gpu_info info;
    T_OK(plume_gpu_list(&info, 1, &err) < 1);
    char sub[5] = {0};
    for (int i = 0; i < 4 && info.name[i]; i++) sub[i] = (char)(info.name[i] ^ ((info.name[i] >= 'a' && info.name[i] <= 'z') ? 0x20 : 0));
    setenv("PLUME_DEVICE", sub, 1);
    plume_gpu *gpu = plume_gpu_open(&err);
    CHECK_MSG(gpu != NULL, "PLUME_DEVICE=%s: %s", sub, gpu ? "" : err.msg);
    if (gpu) CHECK_STR(plume_gpu_device_info(gpu)->name, info.name);
    plume_gpu_close(gpu);
    setenv("PLUME_DEVICE", "0", 1);
    gpu = plume_gpu_open(&err);
    CHECK(gpu && plume_gpu_device_info(gpu)->index == 0);
    plume_gpu_close(gpu);
    unsetenv("PLUME_DEVICE");
}

static void test_buffers(plume_gpu *gpu) {
    plume_error err;
    uint32_t data[300], back[300];
    for (int i = 0; i < 300; i++) data[i] = rng_u32();
    for (unsigned flags = 0; flags < 2; flags++) {
        plume_gpu_buffer *b = plume_gpu_buffer_create(gpu, sizeof data, flags, &err);
        T_OK(b == NULL);
        CHECK(plume_gpu_buffer_bytes(b) == sizeof data);
        if (gpu->no_map_device) CHECK((plume_gpu_buffer_map(b) == NULL) == (flags == PLUME_GPU_BUFFER_DEVICE));
        T_OK(plume_gpu_upload(b, 0, data, sizeof data, &err));
        T_OK(plume_gpu_fill(b, 16, 32, 0xabcdef01u, &err));
        T_OK(plume_gpu_download(b, 0, back, sizeof back, &err));
        for (int i = 4; i < 12; i++) data[i] = 0xabcdef01u;
        CHECK(!memcmp(data, back, sizeof data));
        CHECK(plume_gpu_upload(b, 1100, data, 104, &err) < 0);
        CHECK(strstr(err.msg, "past the end") != NULL);
        CHECK(plume_gpu_fill(b, 2, 4, 0, &err) < 0);
        plume_gpu_buffer_free(b);
    }
    /* Staged copies larger than the staging buffer (8 MiB) go in chunks. */
    size_t big = (9u << 20) / 4;
    uint32_t *a = malloc(big * 4), *c = malloc(big * 4);
    for (size_t i = 0; i < big; i++) a[i] = (uint32_t)(i * 2654435761u);
    plume_gpu_buffer *b = plume_gpu_buffer_create(gpu, big * 4, PLUME_GPU_BUFFER_DEVICE, &err);
    T_OK(b == NULL);
    T_OK(plume_gpu_upload(b, 0, a, big * 4, &err));
    T_OK(plume_gpu_download(b, 0, c, big * 4, &err));
    CHECK(!memcmp(a, c, big * 4));
    plume_gpu_buffer_free(b);
    free(a), free(c);
    /* Larger than one allocation may be: refused with the limit named. */
    uint64_t too_big = plume_gpu_device_info(gpu)->max_allocation_bytes + 1;
    CHECK(plume_gpu_buffer_create(gpu, too_big, 0, &err) == NULL);
    CHECK(strstr(err.msg, "maxMemoryAllocationSize") != NULL);
}

static void test_kernels(plume_gpu *gpu) {
    plume_error err;
    CHECK(plume_gpu_kernel_get(gpu, "no_such_shader", "s", 0, NULL, 0, &err) == NULL);
    CHECK(strstr(err.msg, "no_such_shader") != NULL);
    uint32_t spec[1] = {64};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "add", "ss", 8, spec, 1, &err);
    CHECK(k != NULL);
    CHECK(plume_gpu_kernel_get(gpu, "add", "ss", 8, spec, 1, &err) == k);   /* cached */
    CHECK(plume_gpu_kernel_get(gpu, "add", "sx", 8, spec, 1, &err) == NULL);
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    T_OK(rec == NULL);
    plume_gpu_buffer *b = plume_gpu_buffer_create(gpu, 64, 0, &err);
    plume_gpu_binding one[1] = {{b, 0, 0}};
    uint32_t count[2] = {16, 16};   /* add's push constants: the count and the bias period */
    CHECK(plume_gpu_rec_dispatch(rec, k, one, 1, count, 1, 1, 1, &err) < 0);   /* add takes 2 bindings */
    CHECK(strstr(err.msg, "takes 2 bindings") != NULL);
    CHECK(plume_gpu_rec_end(rec, &err) < 0);   /* the failure sticks */
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(b);
}

/* The decode-loop pattern: record embed + argmax once, then change the token in the rows
 * buffer and submit the same command buffer again. Row t of the table peaks at column 3t. */
static void test_reuse(plume_gpu *gpu) {
    plume_error err;
    enum { VOCAB = 10, DIM = 32 };
    float table[VOCAB][DIM];
    for (int t = 0; t < VOCAB; t++)
        for (int j = 0; j < DIM; j++) table[t][j] = j == 3 * t ? 1.0f : -(float)j / DIM;
    plume_gpu_weight *w = plume_gpu_weight_create(gpu, PLUME_GPU_F32, VOCAB, DIM, table, &err);
    T_OK(w == NULL);
    plume_gpu_buffer *rows = plume_gpu_buffer_create(gpu, sizeof(plume_gpu_row), PLUME_GPU_BUFFER_HOST, &err);
    plume_gpu_buffer *x = plume_gpu_buffer_create(gpu, DIM * 4, 0, &err);
    plume_gpu_buffer *out = plume_gpu_buffer_create(gpu, 4, PLUME_GPU_BUFFER_HOST, &err);
    T_OK(!rows || !x || !out);
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    T_OK(rec == NULL);
    T_OK(plume_gpu_embed(rec, w, rows, x, 1, &err));
    T_OK(plume_gpu_argmax(rec, x, out, 1, DIM, &err));
    T_OK(plume_gpu_rec_end(rec, &err));
    int tokens[4] = {3, 7, 0, 9};
    for (int i = 0; i < 4; i++) {
        plume_gpu_row r = {(uint32_t)tokens[i], (uint32_t)i, 0, 0};
        T_OK(plume_gpu_upload(rows, 0, &r, sizeof r, &err));
        T_OK(plume_gpu_rec_submit(rec, &err));
        uint32_t id = 99;
        T_OK(plume_gpu_download(out, 0, &id, 4, &err));
        CHECK_MSG(id == 3u * (uint32_t)tokens[i], "re-submit %d: argmax %u, expected %d", i, id, 3 * tokens[i]);
    }
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(rows), plume_gpu_buffer_free(x), plume_gpu_buffer_free(out);
    plume_gpu_weight_free(w);
}

static void test_profile(void) {
    plume_error err;
    setenv("PLUME_PROFILE", "1", 1);
    plume_gpu *gpu = t_open();
    unsetenv("PLUME_PROFILE");
    if (plume_gpu_device_info(gpu)->timestamp_period_ns == 0) {
        CHECK(!plume_gpu_profiling(gpu));
        plume_gpu_close(gpu);
        return;
    }
    CHECK(plume_gpu_profiling(gpu));
    plume_gpu_buffer *a = t_buffer(gpu, NULL, 4096), *b = t_buffer(gpu, NULL, 4096);
    T_OK(plume_gpu_fill(a, 0, 4096, 0, &err));
    T_OK(plume_gpu_fill(b, 0, 4096, 0, &err));
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    T_OK(rec == NULL);
    T_OK(plume_gpu_add(rec, a, b, 1024, &err));
    T_OK(plume_gpu_silu_mul(rec, a, b, a, 1024, &err));   /* out may be gate: element-wise */
    T_OK(plume_gpu_rec_end(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    T_OK(plume_gpu_rec_submit(rec, &err));
    FILE *f = tmpfile();
    plume_gpu_profile_print(gpu, f);
    rewind(f);
    char text[4096] = {0};
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    CHECK(got > 0);
    CHECK_MSG(strstr(text, "add") && strstr(text, "silu_mul"), "profile:\n%s", text);
    CHECK(strstr(text, " 2 ") != NULL);   /* two calls each */
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(a), plume_gpu_buffer_free(b);
    plume_gpu_close(gpu);
}

/* A deliberately invalid Vulkan call must reach the counter; done on the engine's own
 * device after everything else, so it is the only message. */
static void test_validation_counts(plume_gpu *gpu) {
    if (!getenv("PLUME_VALIDATE") || strcmp(getenv("PLUME_VALIDATE"), "1")) return;
    long before = plume_gpu_validation_count();
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 64,
        .usage = 0,   /* invalid: usage must not be 0 */
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buf = VK_NULL_HANDLE;
    fprintf(stderr, "(one validation error is expected next)\n");
    if (vkCreateBuffer(gpu->device, &bci, NULL, &buf) == VK_SUCCESS) vkDestroyBuffer(gpu->device, buf, NULL);
    CHECK_MSG(plume_gpu_validation_count() > before, "the invalid call was not counted");
    /* Synchronization validation: a copy into b, then a dispatch reading b with no barrier. */
    CHECK(gpu->sync_validation);
    if (!gpu->sync_validation) return;
    plume_error err;
    before = plume_gpu_validation_count();
    plume_gpu_buffer *a = t_buffer(gpu, NULL, 4096), *b = t_buffer(gpu, NULL, 4096);
    uint32_t spec[1] = {64}, count[2] = {1024, 1024};
    plume_gpu_kernel *k = plume_gpu_kernel_get(gpu, "add", "ss", 8, spec, 1, &err);
    plume_gpu_rec *rec = plume_gpu_rec_begin(gpu, &err);
    T_OK(!k || !rec);
    plume_gpu_binding bb[2] = {{a, 0, 0}, {b, 0, 0}};
    fprintf(stderr, "(synchronization hazards are expected next)\n");
    T_OK(plume_gpu_rec_copy(rec, a, 0, b, 0, 4096, &err));
    T_OK(plume_gpu_rec_dispatch(rec, k, bb, 2, count, 16, 1, 1, &err));
    T_OK(plume_gpu_rec_end(rec, &err));
    plume_gpu_rec_free(rec);
    CHECK_MSG(plume_gpu_validation_count() > before, "a missing barrier was not reported");
    plume_gpu_buffer_free(a), plume_gpu_buffer_free(b);
}

int main(void) {
    test_list();
    test_device_choice();
    plume_gpu *gpu = t_open();
    test_buffers(gpu);
    /* Again with device buffers unmapped: the staging path of discrete GPUs. */
    plume_gpu_set_no_map(gpu, 1);
    test_buffers(gpu);
    test_reuse(gpu);
    plume_gpu_set_no_map(gpu, 0);
    test_kernels(gpu);
    test_reuse(gpu);
    double gbps = 0;
    plume_error err;
    T_OK(plume_gpu_measure_bandwidth(gpu, 16u << 20, 2, &gbps, &err));
    CHECK_MSG(gbps > 0.01 && gbps < 100000, "bandwidth %g GB/s", gbps);
    printf("read bandwidth on %s: %.2f GB/s\n", plume_gpu_device_info(gpu)->name, gbps);
    test_profile();
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    test_validation_counts(gpu);
    plume_gpu_close(gpu);
    return check_finish("test_gpu_device");
}
