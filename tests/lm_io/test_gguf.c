/* GGUF reader and writer, and the tensor number formats.
 *   - the writer's bytes for a tiny file against bytes worked out by hand from the GGUF spec;
 *   - write → read of every metadata type (extremes of each integer type, strings with a NUL,
 *     empty arrays) and of F32/F16/BF16/Q8_0/Q4_0 tensors with a 64-byte alignment;
 *   - damaged files: cut at every byte offset, bad magic, version 1, big-endian, absurd counts
 *     and lengths, unknown value and tensor types, nested arrays, data past the end, misaligned
 *     offsets, duplicates — each must give an error naming the problem, never a crash;
 *   - F16/BF16 conversion against hand-worked values and, where the compiler has _Float16,
 *     against the hardware conversion for every half and a sweep of floats;
 *   - Q8_0/Q4_0 against hand-worked blocks and within their stated error bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "plume/gguf.h"

/* ---- a byte builder for hand-made files ---- */

typedef struct bb { uint8_t *p; size_t n, cap; } bb;

static void bb_put(bb *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void bb_u32(bb *b, uint32_t v) { uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) }; bb_put(b, x, 4); }
static void bb_u64(bb *b, uint64_t v) { bb_u32(b, (uint32_t)v); bb_u32(b, (uint32_t)(v >> 32)); }
static void bb_str(bb *b, const char *s) { bb_u64(b, strlen(s)); bb_put(b, s, strlen(s)); }
static void bb_pad(bb *b, size_t a) { while (b->n % a) bb_put(b, "", 1); }

static char tmpdir[256];

static int expect_fail(const bb *b, const char *needle, const char *what) {
    plume_gguf *g = NULL;
    plume_error err = { { 0 } };
    int rc = plume_gguf_open_memory(&g, b->p, b->n, "bad.gguf", &err);
    CHECK_MSG(rc == -1 && g == NULL, "%s: expected an error", what);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, needle);
    CHECK_MSG(strstr(err.msg, "bad.gguf") != NULL, "%s: message '%s' does not name the file", what, err.msg);
    plume_gguf_close(g);
    return rc;
}

/* Header + N_KV key/values built by the caller. */
static void header(bb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b->n = 0;
    bb_put(b, "GGUF", 4);
    bb_u32(b, version);
    bb_u64(b, n_tensors);
    bb_u64(b, n_kv);
}

static void test_writer_bytes(void) {
    /* One UINT32 key "a" = 7 and nothing else, byte by byte:
     * "GGUF", version 3, 0 tensors, 1 kv, key length 1, 'a', type 4 (UINT32), value 7. */
    static const uint8_t want[] = { 'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                                    1, 0, 0, 0, 0, 0, 0, 0, 'a', 4, 0, 0, 0, 7, 0, 0, 0 };
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.gguf", tmpdir);
    plume_error err = { { 0 } };
    plume_gguf_writer *w = plume_gguf_writer_new();
    CHECK(plume_gguf_writer_set_u32(w, "a", 7, &err) == 0);
    CHECK_MSG(plume_gguf_writer_write(w, path, &err) == 0, "%s", err.msg);
    plume_gguf_writer_free(w);
    FILE *f = fopen(path, "rb");
    uint8_t got[128];
    size_t n = f ? fread(got, 1, sizeof got, f) : 0;
    if (f) fclose(f);
    CHECK(n == sizeof want && !memcmp(got, want, sizeof want));

    /* One F32 tensor "t" of shape {2}: info then padding to 32, then 8 data bytes. */
    bb b = { 0 };
    header(&b, 3, 1, 0);
    bb_str(&b, "t");
    bb_u32(&b, 1);
    bb_u64(&b, 2);
    bb_u32(&b, 0);
    bb_u64(&b, 0);
    bb_pad(&b, 32);
    float data[2] = { 1.5f, -2.0f };
    bb_put(&b, data, 8);
    w = plume_gguf_writer_new();
    int64_t ne[1] = { 2 };
    CHECK(plume_gguf_writer_add_tensor(w, "t", PLUME_GGML_F32, 1, ne, data, &err) == 0);
    CHECK_MSG(plume_gguf_writer_write(w, path, &err) == 0, "%s", err.msg);
    plume_gguf_writer_free(w);
    f = fopen(path, "rb");
    n = f ? fread(got, 1, sizeof got, f) : 0;
    if (f) fclose(f);
    CHECK(n == b.n && !memcmp(got, b.p, b.n));
    free(b.p);
    unlink(path);
}

/* ---- write → read of everything ---- */

static float fdata[6] = { 1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-3f };
static float qsrc[128];

static void build_everything(plume_gguf_writer *w, uint16_t *f16, uint16_t *bf16, plume_block_q8_0 *q8, plume_block_q4_0 *q4) {
    plume_error err = { { 0 } };
    plume_gguf_value v;
#define SETV(key, T, field, val) do { memset(&v, 0, sizeof v); v.type = T; v.v.field = val; \
        CHECK_MSG(plume_gguf_writer_set(w, key, &v, &err) == 0, "%s", err.msg); } while (0)
    SETV("t.u8", PLUME_GGUF_UINT8, u64, 255);
    SETV("t.i8", PLUME_GGUF_INT8, i64, -128);
    SETV("t.u16", PLUME_GGUF_UINT16, u64, 65535);
    SETV("t.i16", PLUME_GGUF_INT16, i64, -32768);
    SETV("t.u32", PLUME_GGUF_UINT32, u64, 4294967295u);
    SETV("t.i32", PLUME_GGUF_INT32, i64, INT32_MIN);
    SETV("t.f32", PLUME_GGUF_FLOAT32, f64, 0.1f);
    SETV("t.bool", PLUME_GGUF_BOOL, b, true);
    SETV("t.u64", PLUME_GGUF_UINT64, u64, UINT64_MAX);
    SETV("t.i64", PLUME_GGUF_INT64, i64, INT64_MIN);
    SETV("t.f64", PLUME_GGUF_FLOAT64, f64, 0.1);
    memset(&v, 0, sizeof v);
    v.type = PLUME_GGUF_STRING;
    v.v.str.data = "nul\0inside ünïcode";
    v.v.str.len = 20;
    CHECK(plume_gguf_writer_set(w, "t.str", &v, &err) == 0);
    CHECK(plume_gguf_writer_set_u32(w, "general.alignment", 64, &err) == 0);
    uint8_t a_u8[3] = { 0, 1, 255 };
    int8_t a_i8[3] = { -128, 0, 127 };
    uint16_t a_u16[2] = { 0, 65535 };
    int16_t a_i16[2] = { -32768, 32767 };
    uint32_t a_u32[2] = { 1, 4294967295u };
    int32_t a_i32[3] = { INT32_MIN, -1, INT32_MAX };
    float a_f32[2] = { 1.5f, -0.0f };
    bool a_bool[3] = { true, false, true };
    uint64_t a_u64[1] = { UINT64_MAX };
    int64_t a_i64[2] = { INT64_MIN, INT64_MAX };
    double a_f64[2] = { 1e300, -0.1 };
    const char *a_str[3] = { "", "two", "▁three" };
    CHECK(plume_gguf_writer_set_arr(w, "a.u8", PLUME_GGUF_UINT8, 3, a_u8, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.i8", PLUME_GGUF_INT8, 3, a_i8, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.u16", PLUME_GGUF_UINT16, 2, a_u16, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.i16", PLUME_GGUF_INT16, 2, a_i16, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.u32", PLUME_GGUF_UINT32, 2, a_u32, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.i32", PLUME_GGUF_INT32, 3, a_i32, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.f32", PLUME_GGUF_FLOAT32, 2, a_f32, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.bool", PLUME_GGUF_BOOL, 3, a_bool, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.u64", PLUME_GGUF_UINT64, 1, a_u64, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.i64", PLUME_GGUF_INT64, 2, a_i64, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.f64", PLUME_GGUF_FLOAT64, 2, a_f64, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.str", PLUME_GGUF_STRING, 3, a_str, &err) == 0);
    CHECK(plume_gguf_writer_set_arr(w, "a.empty", PLUME_GGUF_INT32, 0, a_i32, &err) == 0);
    /* Setting a key again replaces its value (and keeps one entry). */
    CHECK(plume_gguf_writer_set_str(w, "t.replaced", "old", &err) == 0);
    CHECK(plume_gguf_writer_set_str(w, "t.replaced", "new", &err) == 0);
    /* Arrays of arrays are refused. */
    memset(&v, 0, sizeof v);
    v.type = PLUME_GGUF_ARRAY;
    v.v.arr.type = PLUME_GGUF_ARRAY;
    CHECK(plume_gguf_writer_set(w, "nested", &v, &err) == -1 && strstr(err.msg, "ARRAY"));
    CHECK(plume_gguf_writer_set_u32(w, "general.alignment", 48, &err) == -1);   /* not a power of two */

    for (int i = 0; i < 128; i++) qsrc[i] = sinf((float)i * 0.37f) * (float)(i % 7 + 1);
    plume_f32_to_f16_row(fdata, f16, 6);
    for (int i = 0; i < 6; i++) bf16[i] = plume_f32_to_bf16(fdata[i]);
    plume_quantize_q8_0(qsrc, q8, 128);
    plume_quantize_q4_0(qsrc, q4, 128);
    int64_t ne23[2] = { 3, 2 }, ne6[1] = { 6 }, ne64x2[2] = { 64, 2 }, ne32x4[4] = { 32, 1, 2, 2 };
    CHECK(plume_gguf_writer_add_tensor(w, "f32", PLUME_GGML_F32, 2, ne23, fdata, &err) == 0);
    CHECK(plume_gguf_writer_add_tensor(w, "f16", PLUME_GGML_F16, 1, ne6, f16, &err) == 0);
    CHECK(plume_gguf_writer_add_tensor(w, "bf16", PLUME_GGML_BF16, 1, ne6, bf16, &err) == 0);
    CHECK(plume_gguf_writer_add_tensor(w, "q8", PLUME_GGML_Q8_0, 2, ne64x2, q8, &err) == 0);
    CHECK(plume_gguf_writer_add_tensor(w, "q4", PLUME_GGML_Q4_0, 4, ne32x4, q4, &err) == 0);
    CHECK(plume_gguf_writer_add_tensor(w, "q8", PLUME_GGML_Q8_0, 2, ne64x2, q8, &err) == -1);  /* twice */
    int64_t ne33[1] = { 33 };
    CHECK(plume_gguf_writer_add_tensor(w, "bad", PLUME_GGML_Q8_0, 1, ne33, q8, &err) == -1 && strstr(err.msg, "32"));
    CHECK(plume_gguf_writer_add_tensor(w, "k", PLUME_GGML_Q4_K, 1, ne6, q8, &err) == -1 && strstr(err.msg, "Q4_K"));
#undef SETV
}

static const plume_gguf_value *val(const plume_gguf *g, const char *key) {
    const plume_gguf_kv *kv = plume_gguf_find(g, key);
    CHECK_MSG(kv != NULL, "key %s missing", key);
    static plume_gguf_value none;
    return kv ? &kv->value : &none;
}

static void test_round_trip(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/all.gguf", tmpdir);
    uint16_t f16[6], bf16[6];
    plume_block_q8_0 q8[4];
    plume_block_q4_0 q4[4];
    plume_gguf_writer *w = plume_gguf_writer_new();
    build_everything(w, f16, bf16, q8, q4);
    plume_error err = { { 0 } };
    CHECK_MSG(plume_gguf_writer_write(w, path, &err) == 0, "%s", err.msg);
    plume_gguf_writer_free(w);
    /* The temporary file is gone after the rename. */
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "ls %s | grep -c tmp > /dev/null", tmpdir);
    CHECK(system(tmpname) != 0);

    plume_gguf *g = NULL;
    CHECK_MSG(plume_gguf_open(&g, path, &err) == 0, "%s", err.msg);
    if (!g) return;
    CHECK(g->version == 3);
    CHECK(g->alignment == 64);
    CHECK(g->data_offset % 64 == 0);
    CHECK(g->n_kv == 27);
    CHECK(val(g, "t.u8")->type == PLUME_GGUF_UINT8 && val(g, "t.u8")->v.u64 == 255);
    CHECK(val(g, "t.i8")->type == PLUME_GGUF_INT8 && val(g, "t.i8")->v.i64 == -128);
    CHECK(val(g, "t.u16")->v.u64 == 65535 && val(g, "t.i16")->v.i64 == -32768);
    CHECK(val(g, "t.u32")->v.u64 == 4294967295u && val(g, "t.i32")->v.i64 == INT32_MIN);
    CHECK(val(g, "t.f32")->type == PLUME_GGUF_FLOAT32 && (float)val(g, "t.f32")->v.f64 == 0.1f);
    CHECK(val(g, "t.bool")->type == PLUME_GGUF_BOOL && val(g, "t.bool")->v.b);
    CHECK(val(g, "t.u64")->v.u64 == UINT64_MAX && val(g, "t.i64")->v.i64 == INT64_MIN);
    CHECK(val(g, "t.f64")->type == PLUME_GGUF_FLOAT64 && val(g, "t.f64")->v.f64 == 0.1);
    CHECK(val(g, "t.str")->v.str.len == 20 && !memcmp(val(g, "t.str")->v.str.data, "nul\0inside ünïcode", 20));
    CHECK_STR(val(g, "t.replaced")->v.str.data, "new");
    const plume_gguf_value *a = val(g, "a.u8");
    CHECK(a->type == PLUME_GGUF_ARRAY && a->v.arr.type == PLUME_GGUF_UINT8 && a->v.arr.n == 3 &&
          ((uint8_t *)a->v.arr.data)[2] == 255);
    a = val(g, "a.i8");
    CHECK(a->v.arr.n == 3 && ((int8_t *)a->v.arr.data)[0] == -128 && ((int8_t *)a->v.arr.data)[2] == 127);
    a = val(g, "a.u16");
    CHECK(a->v.arr.n == 2 && ((uint16_t *)a->v.arr.data)[1] == 65535);
    a = val(g, "a.i16");
    CHECK(a->v.arr.n == 2 && ((int16_t *)a->v.arr.data)[0] == -32768 && ((int16_t *)a->v.arr.data)[1] == 32767);
    a = val(g, "a.u32");
    CHECK(a->v.arr.n == 2 && ((uint32_t *)a->v.arr.data)[1] == 4294967295u);
    a = val(g, "a.i32");
    CHECK(a->v.arr.n == 3 && ((int32_t *)a->v.arr.data)[0] == INT32_MIN && ((int32_t *)a->v.arr.data)[2] == INT32_MAX);
    a = val(g, "a.f32");
    CHECK(a->v.arr.n == 2 && ((float *)a->v.arr.data)[0] == 1.5f && signbit(((float *)a->v.arr.data)[1]));
    a = val(g, "a.bool");
    CHECK(a->v.arr.n == 3 && ((bool *)a->v.arr.data)[0] && !((bool *)a->v.arr.data)[1]);
    a = val(g, "a.u64");
    CHECK(a->v.arr.n == 1 && ((uint64_t *)a->v.arr.data)[0] == UINT64_MAX);
    a = val(g, "a.i64");
    CHECK(a->v.arr.n == 2 && ((int64_t *)a->v.arr.data)[0] == INT64_MIN);
    a = val(g, "a.f64");
    CHECK(a->v.arr.n == 2 && ((double *)a->v.arr.data)[0] == 1e300 && ((double *)a->v.arr.data)[1] == -0.1);
    a = val(g, "a.str");
    CHECK(a->v.arr.type == PLUME_GGUF_STRING && a->v.arr.n == 3);
    if (a->v.arr.n == 3) {
        plume_gguf_str *s = a->v.arr.data;
        CHECK(s[0].len == 0 && !strcmp(s[1].data, "two") && !strcmp(s[2].data, "▁three"));
    }
    CHECK(val(g, "a.empty")->v.arr.n == 0);

    /* Typed getters: widening works, narrowing and wrong types fail with the key's name. */
    uint32_t u32;
    int64_t i64;
    float f;
    const char *s;
    bool bo;
    CHECK(plume_gguf_get_u32(g, "t.u8", &u32, &err) == 0 && u32 == 255);
    CHECK(plume_gguf_get_i64(g, "t.i32", &i64, &err) == 0 && i64 == INT32_MIN);
    CHECK(plume_gguf_get_u32(g, "t.i32", &u32, &err) == -1 && strstr(err.msg, "t.i32"));
    CHECK(plume_gguf_get_u32(g, "t.u64", &u32, &err) == -1);
    CHECK(plume_gguf_get_f32(g, "t.f64", &f, &err) == 0 && f == 0.1f);
    CHECK(plume_gguf_get_f32(g, "t.str", &f, &err) == -1 && strstr(err.msg, "STRING"));
    CHECK(plume_gguf_get_str(g, "nope", &s, &err) == -1 && strstr(err.msg, "'nope' is missing"));
    CHECK(plume_gguf_get_bool(g, "t.bool", &bo, &err) == 0 && bo);
    const void *arr;
    uint64_t n;
    CHECK(plume_gguf_get_arr(g, "a.i32", PLUME_GGUF_INT32, 3, &arr, &n, &err) == 0 && n == 3);
    CHECK(plume_gguf_get_arr(g, "a.i32", PLUME_GGUF_FLOAT32, 0, &arr, &n, &err) == -1 && strstr(err.msg, "INT32"));
    CHECK(plume_gguf_get_arr(g, "a.i32", PLUME_GGUF_INT32, 4, &arr, &n, &err) == -1);

    /* Tensors: shapes, offsets aligned to 64, bytes exactly as given. */
    CHECK(g->n_tensors == 5);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        CHECK(g->tensors[i].offset % 64 == 0);
        CHECK(((uintptr_t)g->tensors[i].data - (uintptr_t)g->base) % 64 == 0);
    }
    const plume_gguf_tensor *t = plume_gguf_find_tensor(g, "f32");
    CHECK(t && t->n_dims == 2 && t->ne[0] == 3 && t->ne[1] == 2 && t->n_bytes == 24 && !memcmp(t->data, fdata, 24));
    t = plume_gguf_find_tensor(g, "f16");
    CHECK(t && t->type == PLUME_GGML_F16 && t->n_bytes == 12 && !memcmp(t->data, f16, 12));
    t = plume_gguf_find_tensor(g, "bf16");
    CHECK(t && t->type == PLUME_GGML_BF16 && !memcmp(t->data, bf16, 12));
    t = plume_gguf_find_tensor(g, "q8");
    CHECK(t && t->n_bytes == 4 * 34 && !memcmp(t->data, q8, 4 * 34));
    t = plume_gguf_find_tensor(g, "q4");
    CHECK(t && t->n_dims == 4 && t->ne[3] == 2 && t->n_elements == 128 && t->n_bytes == 4 * 18 && !memcmp(t->data, q4, 72));
    float back[128];
    CHECK(t && plume_ggml_to_f32(t->type, t->data, back, 128, &err) == 0);
    const int64_t want[2] = { 64, 2 }, wrong[2] = { 2, 64 };
    CHECK(plume_gguf_expect_tensor(g, "q8", 2, want, &t, &err) == 0 && t);
    CHECK(plume_gguf_expect_tensor(g, "q8", 2, wrong, &t, &err) == -1 && strstr(err.msg, "[64, 2]") &&
          strstr(err.msg, "[2, 64]"));
    CHECK(plume_gguf_expect_tensor(g, "nope", 2, want, &t, &err) == -1 && strstr(err.msg, "missing"));
    plume_gguf_close(g);

    /* Writing into a folder that does not exist fails cleanly. */
    w = plume_gguf_writer_new();
    CHECK(plume_gguf_writer_write(w, "/nonexistent-dir/x.gguf", &err) == -1 && strstr(err.msg, "x.gguf"));
    plume_gguf_writer_free(w);
}

/* ---- damaged files ---- */

static void test_truncation(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/all.gguf", tmpdir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    uint8_t *buf = malloc(1 << 16);
    size_t size = fread(buf, 1, 1 << 16, f);
    fclose(f);
    plume_gguf *g = NULL;
    plume_error err = { { 0 } };
    CHECK(plume_gguf_open_memory(&g, buf, size, "whole", &err) == 0);
    uint64_t data_offset = g ? g->data_offset : 0;
    plume_gguf_close(g);
    /* Every shorter prefix is an error saying "truncated" (or, under 4 bytes, also naming the header). */
    int bad = 0, named = 0;
    for (size_t n = 0; n < size; n++) {
        uint8_t *copy = malloc(n ? n : 1);   /* exact size: ASan catches any read past the end */
        memcpy(copy, buf, n);
        g = NULL;
        err.msg[0] = '\0';
        int rc = plume_gguf_open_memory(&g, copy, n, "cut.gguf", &err);
        if (rc != -1 || g || !strstr(err.msg, "truncated")) {
            if (bad++ < 5) fprintf(stderr, "cut at %zu: rc %d, '%s'\n", n, rc, err.msg);
        }
        if (n > 24 && n < data_offset && strstr(err.msg, "byte offset")) named++;
        plume_gguf_close(g);
        free(copy);
    }
    CHECK_MSG(bad == 0, "%d truncated prefixes were not reported as truncated", bad);
    CHECK(named > 0);
    /* Specific sections are named. */
    uint8_t *copy = malloc(30);
    memcpy(copy, buf, 30);
    CHECK(plume_gguf_open_memory(&g, copy, 30, "cut.gguf", &err) == -1 && strstr(err.msg, "metadata"));
    free(copy);
    bb hb = { 0 };
    header(&hb, 3, 0, 1);
    bb_str(&hb, "key");
    bb_u32(&hb, PLUME_GGUF_UINT32);
    bb_put(&hb, "\1\2", 2);   /* a UINT32 needs 4 */
    CHECK(plume_gguf_open_memory(&g, hb.p, hb.n, "cut.gguf", &err) == -1 &&
          strstr(err.msg, "truncated in metadata key/value 0 'key' at byte offset 39"));
    free(hb.p);
    copy = malloc(data_offset - 10);
    memcpy(copy, buf, data_offset - 10);
    CHECK(plume_gguf_open_memory(&g, copy, data_offset - 10, "cut.gguf", &err) == -1 &&
          (strstr(err.msg, "tensor info") || strstr(err.msg, "before the tensor data")));
    free(copy);
    /* And through the file path (mmap): a file cut in the middle of the data. */
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cut.gguf", tmpdir);
    f = fopen(cut, "wb");
    fwrite(buf, 1, size - 7, f);
    fclose(f);
    CHECK(plume_gguf_open(&g, cut, &err) == -1 && strstr(err.msg, "truncated tensor data") && strstr(err.msg, "cut.gguf"));
    f = fopen(cut, "wb");
    fclose(f);
    CHECK(plume_gguf_open(&g, cut, &err) == -1 && strstr(err.msg, "empty"));
    CHECK(plume_gguf_open(&g, "/nonexistent.gguf", &err) == -1 && strstr(err.msg, "/nonexistent.gguf"));
    unlink(cut);

    /* Random damage: 3000 copies with 1–4 bytes changed in the header, metadata and tensor infos.
     * Each must open or fail with a message; never crash or read outside the buffer (ASan). */
    uint32_t s = 99;
    int opened = 0, failed = 0, silent = 0;
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *copy2 = malloc(size);
        memcpy(copy2, buf, size);
        s = s * 1664525u + 1013904223u;
        int flips = 1 + (int)((s >> 8) % 4);
        for (int k = 0; k < flips; k++) {
            s = s * 1664525u + 1013904223u;
            size_t at = (s >> 8) % data_offset;
            s = s * 1664525u + 1013904223u;
            copy2[at] = (iter % 3 == 0) ? 0xff : (uint8_t)(s >> 24);
        }
        err.msg[0] = '\0';
        g = NULL;
        if (plume_gguf_open_memory(&g, copy2, size, "fuzz.gguf", &err) == 0) opened++;
        else if (err.msg[0]) failed++;
        else silent++;
        plume_gguf_close(g);
        free(copy2);
    }
    CHECK_MSG(silent == 0, "%d damaged files failed without a message", silent);
    CHECK(failed > 1000);   /* most damage is caught; some (a changed string byte) is harmless */
    fprintf(stderr, "fuzz: %d opened, %d rejected\n", opened, failed);
    free(buf);
}

static void test_bad_files(void) {
    bb b = { 0 };
    header(&b, 3, 0, 0);
    memcpy(b.p, "GGUX", 4);
    expect_fail(&b, "not a GGUF file", "bad magic");
    header(&b, 1, 0, 0);
    expect_fail(&b, "version 1", "version 1");
    header(&b, 0x03000000, 0, 0);
    expect_fail(&b, "big-endian", "big-endian");
    header(&b, 7, 0, 0);
    expect_fail(&b, "unknown GGUF version 7", "version 7");
    header(&b, 2, 0, 0);   /* version 2, empty: fine */
    plume_gguf *g = NULL;
    plume_error err = { { 0 } };
    CHECK(plume_gguf_open_memory(&g, b.p, b.n, "v2.gguf", &err) == 0 && g && g->version == 2);
    plume_gguf_close(g);

    header(&b, 3, 1ull << 40, 0);
    expect_fail(&b, "tensors", "absurd tensor count");
    header(&b, 3, 0, 1ull << 40);
    expect_fail(&b, "key/values", "absurd kv count");
    header(&b, 3, 0, 60000);   /* under the cap, but the file has no room for them */
    expect_fail(&b, "truncated", "kv count beyond the file");
    header(&b, 3, 1000, 0);
    expect_fail(&b, "truncated", "tensor count beyond the file");

    header(&b, 3, 0, 1);
    bb_u64(&b, 1ull << 60);   /* key length */
    bb_put(&b, "0123456789abcdef", 16);
    expect_fail(&b, "over the cap", "absurd key length");
    header(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, PLUME_GGUF_STRING);
    bb_u64(&b, 1ull << 40);
    expect_fail(&b, "over the cap", "absurd string length");
    header(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, PLUME_GGUF_ARRAY);
    bb_u32(&b, PLUME_GGUF_UINT32);
    bb_u64(&b, 1ull << 40);
    expect_fail(&b, "over the cap", "absurd array length");
    header(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, PLUME_GGUF_ARRAY);
    bb_u32(&b, PLUME_GGUF_STRING);
    bb_u64(&b, 1000000);   /* under the cap; would need 8 MB */
    expect_fail(&b, "truncated", "array beyond the file");
    header(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, 13);
    expect_fail(&b, "unknown metadata value type 13", "unknown value type");
    header(&b, 3, 0, 1);
    bb_str(&b, "k");
    bb_u32(&b, PLUME_GGUF_ARRAY);
    bb_u32(&b, PLUME_GGUF_ARRAY);
    bb_u64(&b, 1);
    expect_fail(&b, "array of arrays", "nested array");
    header(&b, 3, 0, 2);
    bb_str(&b, "k");
    bb_u32(&b, PLUME_GGUF_UINT8);
    bb_put(&b, "\1", 1);
    bb_str(&b, "k");
    bb_u32(&b, PLUME_GGUF_UINT8);
    bb_put(&b, "\2", 1);
    expect_fail(&b, "appears twice", "duplicate key");
    header(&b, 3, 0, 1);
    bb_str(&b, "general.alignment");
    bb_u32(&b, PLUME_GGUF_UINT32);
    bb_u32(&b, 24);
    expect_fail(&b, "power of two", "alignment 24");

    /* Tensor infos: "t" with DIMS, TYPE, OFFSET, then data of DATA bytes. */
#define TENSOR(nd, ne0, ne1, type, off, data) do { header(&b, 3, 1, 0); bb_str(&b, "t"); bb_u32(&b, nd); \
        bb_u64(&b, ne0); if ((nd) > 1) bb_u64(&b, ne1); bb_u32(&b, type); bb_u64(&b, off); bb_pad(&b, 32); \
        for (int z_ = 0; z_ < (data); z_++) bb_put(&b, "", 1); } while (0)
    TENSOR(2, 32, 2, PLUME_GGML_F32, 0, 256);
    CHECK(plume_gguf_open_memory(&g, b.p, b.n, "ok.gguf", &err) == 0);
    plume_gguf_close(g);
    TENSOR(2, 32, 2, PLUME_GGML_Q4_K, 0, 256);
    expect_fail(&b, "Q4_K", "unsupported tensor type");
    TENSOR(2, 32, 2, 99, 0, 256);
    expect_fail(&b, "tensor type ? (99)", "unknown tensor type");
    TENSOR(2, 32, 2, PLUME_GGML_F32, 32, 256);
    expect_fail(&b, "runs past the end", "tensor data past EOF");
    TENSOR(2, 32, 2, PLUME_GGML_F32, 1ull << 62, 256);
    expect_fail(&b, "runs past the end", "offset far past EOF");
    TENSOR(2, 32, 2, PLUME_GGML_F32, 16, 512);
    expect_fail(&b, "not a multiple of the alignment", "misaligned offset");
    TENSOR(2, 33, 1, PLUME_GGML_Q8_0, 0, 256);
    expect_fail(&b, "blocks", "row not a whole number of blocks");
    TENSOR(2, 1ull << 50, 1, PLUME_GGML_F32, 0, 0);
    expect_fail(&b, "absurd", "absurd dimension");
    TENSOR(2, 1ull << 39, 1ull << 39, PLUME_GGML_F32, 0, 0);
    expect_fail(&b, "overflow", "element count overflow");
    TENSOR(5, 1, 1, PLUME_GGML_F32, 0, 0);
    expect_fail(&b, "5 dimensions", "too many dims");
    TENSOR(2, 32, 2, PLUME_GGML_F32, 0, 0);
    expect_fail(&b, "truncated", "no data at all");
    /* general.alignment 2 allows a tensor at an odd-of-4 offset: refused, readers cast to float. */
    header(&b, 3, 1, 1);
    bb_str(&b, "general.alignment");
    bb_u32(&b, PLUME_GGUF_UINT32);
    bb_u32(&b, 2);
    bb_str(&b, "t");
    bb_u32(&b, 1);
    bb_u64(&b, 1);
    bb_u32(&b, PLUME_GGML_F32);
    bb_u64(&b, 0);
    bb_pad(&b, 2);   /* the infos end at byte 90: data at 90, which is even but not a multiple of 4 */
    CHECK(b.n == 90);
    for (int z = 0; z < 8; z++) bb_put(&b, "", 1);
    expect_fail(&b, "not a multiple of 4", "tensor data not 4-byte aligned");
#undef TENSOR
    /* Two tensors of the same name. */
    header(&b, 3, 2, 0);
    for (int i = 0; i < 2; i++) {
        bb_str(&b, "same");
        bb_u32(&b, 1);
        bb_u64(&b, 8);
        bb_u32(&b, PLUME_GGML_F32);
        bb_u64(&b, (uint64_t)i * 32);
    }
    bb_pad(&b, 32);
    for (int z = 0; z < 64; z++) bb_put(&b, "", 1);
    expect_fail(&b, "appears twice", "duplicate tensor");
    free(b.p);
}

/* ---- number formats ---- */

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static void test_f16(void) {
    /* Hand-worked IEEE binary16 encodings. */
    CHECK(plume_f32_to_f16(1.0f) == 0x3c00);
    CHECK(plume_f32_to_f16(-2.0f) == 0xc000);
    CHECK(plume_f32_to_f16(0.1f) == 0x2e66);
    CHECK(plume_f32_to_f16(1.0f / 3.0f) == 0x3555);
    CHECK(plume_f32_to_f16(65504.0f) == 0x7bff);      /* largest half */
    CHECK(plume_f32_to_f16(65519.0f) == 0x7bff);      /* below the midpoint to 65536 */
    CHECK(plume_f32_to_f16(65520.0f) == 0x7c00);      /* the midpoint rounds to even: Inf */
    CHECK(plume_f32_to_f16(1e10f) == 0x7c00);
    CHECK(plume_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK((plume_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (plume_f32_to_f16(NAN) & 0x3ff) != 0);
    CHECK(plume_f32_to_f16(ldexpf(1.0f, -24)) == 0x0001);          /* smallest subnormal */
    CHECK(plume_f32_to_f16(ldexpf(1.0f, -25)) == 0x0000);          /* half of it: tie → even (0) */
    CHECK(plume_f32_to_f16(ldexpf(1.5f, -25)) == 0x0001);
    CHECK(plume_f32_to_f16(ldexpf(3.0f, -25)) == 0x0002);          /* 1.5 × 2^-24: tie → even (2) */
    CHECK(plume_f32_to_f16(ldexpf(1.0f, -14)) == 0x0400);          /* smallest normal */
    CHECK(plume_f32_to_f16(ldexpf(1023.5f, -24)) == 0x0400);       /* rounds up across into the normals */
    CHECK(plume_f32_to_f16(1.0f + ldexpf(1.0f, -11)) == 0x3c00);   /* tie → even */
    CHECK(plume_f32_to_f16(1.0f + ldexpf(3.0f, -11)) == 0x3c02);   /* tie → even (up) */
    CHECK(plume_f32_to_f16(-0.0f) == 0x8000);
    CHECK(plume_f16_to_f32(0x3c00) == 1.0f && plume_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    CHECK(plume_f16_to_f32(0x7bff) == 65504.0f && isinf(plume_f16_to_f32(0x7c00)) && isnan(plume_f16_to_f32(0x7e00)));
    /* Every half survives f16 → f32 → f16 exactly (NaNs stay NaNs). */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = plume_f16_to_f32((uint16_t)h);
        uint16_t back = plume_f32_to_f16(f);
        bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (nan ? !isnan(f) || (back & 0x7c00) != 0x7c00 || !(back & 0x3ff) : back != h) bad++;
    }
    CHECK_MSG(bad == 0, "%d halves do not round-trip", bad);
#ifdef __FLT16_MAX__
    /* The compiler's own conversion as an independent reference. */
    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        _Float16 x;
        uint16_t hh = (uint16_t)h;
        memcpy(&x, &hh, 2);
        float ref = (float)x, got = plume_f16_to_f32(hh);
        if (!(isnan(ref) && isnan(got)) && bits(ref) != bits(got)) bad++;
    }
    CHECK_MSG(bad == 0, "%d halves convert differently from _Float16", bad);
    bad = 0;
    uint32_t state = 12345;
    for (int i = 0; i < 2000000; i++) {
        state = state * 1664525u + 1013904223u;
        /* bias toward the interesting exponents: subnormals to overflow */
        uint32_t u = (state & 0x807fffffu) | ((uint32_t)(96 + (state >> 23) % 48) << 23);
        if (i % 4 == 0) u = state;
        float f = from_bits(u);
        if (isnan(f)) continue;
        _Float16 r = (_Float16)f;
        uint16_t ref;
        memcpy(&ref, &r, 2);
        if (ref != plume_f32_to_f16(f)) {
            if (bad++ < 3) fprintf(stderr, "f32 %08x: got %04x, _Float16 %04x\n", u, plume_f32_to_f16(f), ref);
        }
    }
    CHECK_MSG(bad == 0, "%d floats convert differently from _Float16", bad);
#endif
    /* BF16: the top half of a float, rounded to nearest even. */
    CHECK(plume_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(plume_f32_to_bf16(from_bits(0x40490fdbu)) == 0x4049);   /* pi */
    CHECK(plume_f32_to_bf16(from_bits(0x3f808000u)) == 0x3f80);   /* tie → even */
    CHECK(plume_f32_to_bf16(from_bits(0x3f818000u)) == 0x3f82);   /* tie → even (up) */
    CHECK(plume_f32_to_bf16(from_bits(0x3f808001u)) == 0x3f81);
    CHECK(bits(plume_bf16_to_f32(0xc2f7)) == 0xc2f70000u);
    CHECK(isnan(plume_bf16_to_f32(plume_f32_to_bf16(NAN))));
}

static void test_quant(void) {
    /* Q8_0 by hand: x = j - 16 for j = 0..31. amax 16, d = 16/127, q = round(x·127/16). */
    float x[64], y[64];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16);
    for (int j = 32; j < 64; j++) x[j] = 0.0f;   /* an all-zero block: d = 0 */
    plume_block_q8_0 q[2];
    plume_quantize_q8_0(x, q, 64);
    CHECK(q[0].d == plume_f32_to_f16(16.0f / 127.0f));
    CHECK(q[0].qs[0] == -127);     /* -16 */
    CHECK(q[0].qs[31] == 119);     /* 15 × 7.9375 = 119.06 */
    CHECK(q[0].qs[17] == 8);       /* 1 × 7.9375 → 8 */
    CHECK(q[0].qs[18] == 16);      /* 15.875 → 16 */
    CHECK(q[0].qs[16] == 0);
    CHECK(q[1].d == 0);
    for (int j = 0; j < 32; j++) CHECK(q[1].qs[j] == 0);
    plume_dequantize_q8_0(q, y, 64);
    CHECK_NEAR(y[0], -127.0 * plume_f16_to_f32(q[0].d), 0.0);
    for (int j = 32; j < 64; j++) CHECK(y[j] == 0.0f);

    /* Q4_0 by hand: same block; the largest magnitude is -16, so d = -16 / -8 = 2,
     * q = (int)(x/2 + 8.5) clamped to 15: -16 → 0, 0 → 8, 1 → 9, 15 → 16 → 15. */
    plume_block_q4_0 q4[2];
    plume_quantize_q4_0(x, q4, 64);
    CHECK(plume_f16_to_f32(q4[0].d) == 2.0f);
    CHECK((q4[0].qs[0] & 0xf) == 0);     /* x[0] = -16 */
    CHECK((q4[0].qs[0] >> 4) == 8);      /* x[16] = 0 */
    CHECK((q4[0].qs[1] >> 4) == 9);      /* x[17] = 1 → 9 */
    CHECK((q4[0].qs[15] >> 4) == 15);    /* x[31] = 15 → clamped */
    plume_dequantize_q4_0(q4, y, 64);
    CHECK(y[0] == -16.0f && y[16] == 0.0f && y[17] == 2.0f && y[31] == 14.0f);

    /* Error bounds on varied data: Q8_0 |err| <= 0.57·d (d/2 from rounding q, 127·d·2^-11 from
     * storing d as f16); Q4_0 |err| <= 1.01·|d| (the clamped top step costs one d). */
    enum { N = 4096 };
    float *src = malloc(N * sizeof *src), *dst = malloc(N * sizeof *dst);
    plume_block_q8_0 *b8 = malloc(N / 32 * sizeof *b8);
    plume_block_q4_0 *b4 = malloc(N / 32 * sizeof *b4);
    uint32_t s = 7;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        src[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * (float)(1 + i % 97) * 0.01f;
    }
    plume_error err = { { 0 } };
    CHECK(plume_ggml_from_f32(PLUME_GGML_Q8_0, src, b8, N, &err) == 0);
    CHECK(plume_ggml_to_f32(PLUME_GGML_Q8_0, b8, dst, N, &err) == 0);
    int bad8 = 0, bad4 = 0;
    for (int i = 0; i < N; i++) {
        float amax = 0;
        for (int j = i / 32 * 32; j < i / 32 * 32 + 32; j++) amax = fmaxf(amax, fabsf(src[j]));
        if (fabsf(dst[i] - src[i]) > 0.57f * amax / 127.0f) bad8++;
    }
    CHECK(plume_ggml_from_f32(PLUME_GGML_Q4_0, src, b4, N, &err) == 0);
    CHECK(plume_ggml_to_f32(PLUME_GGML_Q4_0, b4, dst, N, &err) == 0);
    for (int i = 0; i < N; i++)
        if (fabsf(dst[i] - src[i]) > 1.01f * fabsf(plume_f16_to_f32(b4[i / 32].d))) bad4++;
    CHECK_MSG(bad8 == 0, "%d Q8_0 values outside the bound", bad8);
    CHECK_MSG(bad4 == 0, "%d Q4_0 values outside the bound", bad4);
    CHECK(plume_ggml_to_f32(PLUME_GGML_Q8_0, b8, dst, 33, &err) == -1);
    CHECK(plume_ggml_to_f32(PLUME_GGML_Q6_K, b8, dst, 32, &err) == -1 && strstr(err.msg, "Q6_K"));
    free(src);
    free(dst);
    free(b8);
    free(b4);

    CHECK_STR(plume_ggml_type_name(PLUME_GGML_Q8_0), "Q8_0");
    CHECK_STR(plume_ggml_type_name((plume_ggml_type)99), "?");
    CHECK(plume_ggml_block_bytes(PLUME_GGML_Q8_0) == 34 && plume_ggml_block_bytes(PLUME_GGML_Q4_0) == 18);
    uint64_t nb;
    CHECK(plume_ggml_nbytes(PLUME_GGML_Q8_0, 64, 128, &nb) == 0 && nb == 136);
    CHECK(plume_ggml_nbytes(PLUME_GGML_Q8_0, 48, 96, &nb) == -1);
}

int main(void) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/plume-gguf-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_writer_bytes();
    test_round_trip();
    test_truncation();
    test_bad_files();
    test_f16();
    test_quant();
    char path[600];
    snprintf(path, sizeof path, "%s/all.gguf", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return check_finish("test_gguf");
}
