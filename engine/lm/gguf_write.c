/* plume — GGUF writer: metadata and tensors gathered in memory, then written in one go to a
 * temporary file beside the target, fsync'd and renamed over it, so a reader (or a crash)
 * never sees half a model. Used by `plume convert` and by training when it saves weights. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plume/gguf.h"
#include "plume/file.h"

typedef struct wtensor {
    char *name;
    plume_ggml_type type;
    uint32_t n_dims;
    int64_t ne[PLUME_GGUF_MAX_DIMS];
    uint64_t n_bytes;
    const void *data;       /* borrowed */
} wtensor;

struct plume_gguf_writer {
    plume_gguf_kv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    uint32_t alignment;
};

plume_gguf_writer *plume_gguf_writer_new(void) {
    plume_gguf_writer *w = calloc(1, sizeof *w);
    if (w) w->alignment = PLUME_GGUF_DEFAULT_ALIGNMENT;
    return w;
}

void plume_gguf_writer_free(plume_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key.data);
        plume_gguf_value_free(&w->kv[i].value);
    }
    free(w->kv);
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    free(w);
}

static size_t elem_size(plume_gguf_type t) {
    switch (t) {
    case PLUME_GGUF_UINT8: case PLUME_GGUF_INT8: return 1;
    case PLUME_GGUF_BOOL: return sizeof(bool);
    case PLUME_GGUF_UINT16: case PLUME_GGUF_INT16: return 2;
    case PLUME_GGUF_UINT32: case PLUME_GGUF_INT32: case PLUME_GGUF_FLOAT32: return 4;
    case PLUME_GGUF_UINT64: case PLUME_GGUF_INT64: case PLUME_GGUF_FLOAT64: return 8;
    case PLUME_GGUF_STRING: return sizeof(plume_gguf_str);
    default: return 0;
    }
}

static int copy_str(plume_gguf_str *dst, const char *data, uint64_t len) {
    dst->data = malloc(len + 1);
    if (!dst->data) return -1;
    memcpy(dst->data, data, len);
    dst->data[len] = '\0';
    dst->len = len;
    return 0;
}

/* Deep copy of V (strings and arrays duplicated). */
static int copy_value(plume_gguf_value *dst, const plume_gguf_value *v, const char *key, plume_error *err) {
    memset(dst, 0, sizeof *dst);
    if ((unsigned)v->type >= PLUME_GGUF_TYPE_COUNT)
        return plume_fail(err, "gguf writer: key '%s' has unknown value type %d", key, (int)v->type);
    dst->type = v->type;
    if (v->type == PLUME_GGUF_STRING) {
        if (v->v.str.len > PLUME_GGUF_MAX_STRING_LEN)
            return plume_fail(err, "gguf writer: key '%s': string over the cap of %u bytes", key, PLUME_GGUF_MAX_STRING_LEN);
        if (copy_str(&dst->v.str, v->v.str.data, v->v.str.len)) goto oom;
        return 0;
    }
    if (v->type != PLUME_GGUF_ARRAY) {
        dst->v = v->v;
        return 0;
    }
    plume_gguf_type et = v->v.arr.type;
    if (et == PLUME_GGUF_ARRAY || (unsigned)et >= PLUME_GGUF_TYPE_COUNT)
        return plume_fail(err, "gguf writer: key '%s': arrays of %s are not supported", key, plume_gguf_type_name(et));
    if (v->v.arr.n > PLUME_GGUF_MAX_ARRAY_LEN)
        return plume_fail(err, "gguf writer: key '%s': %" PRIu64 " elements, over the cap", key, v->v.arr.n);
    size_t es = elem_size(et), n = (size_t)v->v.arr.n;
    dst->v.arr.type = et;
    dst->v.arr.data = calloc(n ? n : 1, es);
    if (!dst->v.arr.data) goto oom;
    if (et != PLUME_GGUF_STRING) {
        if (n) memcpy(dst->v.arr.data, v->v.arr.data, n * es);
        if (et == PLUME_GGUF_BOOL)  /* normalise: a bool is stored as exactly 0 or 1 */
            for (size_t i = 0; i < n; i++) ((bool *)dst->v.arr.data)[i] = ((const bool *)v->v.arr.data)[i] ? true : false;
        dst->v.arr.n = n;
        return 0;
    }
    const plume_gguf_str *src = v->v.arr.data;
    plume_gguf_str *out = dst->v.arr.data;
    for (size_t i = 0; i < n; i++) {
        if (copy_str(&out[i], src[i].data, src[i].len)) goto oom;
        dst->v.arr.n = i + 1;
    }
    return 0;
oom:
    plume_gguf_value_free(dst);
    memset(dst, 0, sizeof *dst);
    return plume_fail(err, "gguf writer: out of memory copying key '%s'", key);
}

int plume_gguf_writer_set(plume_gguf_writer *w, const char *key, const plume_gguf_value *v, plume_error *err) {
    size_t klen = strlen(key);
    if (klen == 0 || klen > PLUME_GGUF_MAX_KEY_LEN) return plume_fail(err, "gguf writer: bad key length %zu", klen);
    if (!strcmp(key, "general.alignment")) {
        uint64_t a = v->v.u64;
        if (v->type != PLUME_GGUF_UINT32 || a == 0 || (a & (a - 1)) || a > PLUME_GGUF_MAX_ALIGNMENT)
            return plume_fail(err, "gguf writer: general.alignment must be a UINT32 power of two at most %u",
                              PLUME_GGUF_MAX_ALIGNMENT);
    }
    plume_gguf_value copy;
    if (copy_value(&copy, v, key, err)) return -1;
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key.data, key)) {
            plume_gguf_value_free(&w->kv[i].value);
            w->kv[i].value = copy;
            if (!strcmp(key, "general.alignment")) w->alignment = (uint32_t)copy.v.u64;
            return 0;
        }
    if (w->n_kv == PLUME_GGUF_MAX_KV) {
        plume_gguf_value_free(&copy);
        return plume_fail(err, "gguf writer: more than %u metadata keys", PLUME_GGUF_MAX_KV);
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        plume_gguf_kv *kv = realloc(w->kv, cap * sizeof *kv);
        if (!kv) {
            plume_gguf_value_free(&copy);
            return plume_fail(err, "gguf writer: out of memory");
        }
        w->kv = kv;
        w->cap_kv = cap;
    }
    plume_gguf_kv *kv = &w->kv[w->n_kv];
    if (copy_str(&kv->key, key, klen)) {
        plume_gguf_value_free(&copy);
        return plume_fail(err, "gguf writer: out of memory");
    }
    kv->value = copy;
    w->n_kv++;
    if (!strcmp(key, "general.alignment")) w->alignment = (uint32_t)copy.v.u64;
    return 0;
}

int plume_gguf_writer_set_u32(plume_gguf_writer *w, const char *key, uint32_t v, plume_error *err) {
    plume_gguf_value val = { .type = PLUME_GGUF_UINT32, .v.u64 = v };
    return plume_gguf_writer_set(w, key, &val, err);
}

int plume_gguf_writer_set_i32(plume_gguf_writer *w, const char *key, int32_t v, plume_error *err) {
    plume_gguf_value val = { .type = PLUME_GGUF_INT32, .v.i64 = v };
    return plume_gguf_writer_set(w, key, &val, err);
}

int plume_gguf_writer_set_f32(plume_gguf_writer *w, const char *key, float v, plume_error *err) {
    plume_gguf_value val = { .type = PLUME_GGUF_FLOAT32, .v.f64 = v };
    return plume_gguf_writer_set(w, key, &val, err);
}

int plume_gguf_writer_set_bool(plume_gguf_writer *w, const char *key, bool v, plume_error *err) {
    plume_gguf_value val = { .type = PLUME_GGUF_BOOL, .v.b = v };
    return plume_gguf_writer_set(w, key, &val, err);
}

int plume_gguf_writer_set_str(plume_gguf_writer *w, const char *key, const char *v, plume_error *err) {
    plume_gguf_value val = { .type = PLUME_GGUF_STRING, .v.str = { (char *)v, strlen(v) } };
    return plume_gguf_writer_set(w, key, &val, err);
}

int plume_gguf_writer_set_arr(plume_gguf_writer *w, const char *key, plume_gguf_type type, uint64_t n,
                              const void *data, plume_error *err) {
    plume_gguf_value val = { .type = PLUME_GGUF_ARRAY };
    val.v.arr.type = type;
    val.v.arr.n = n;
    plume_gguf_str *strs = NULL;
    if (type == PLUME_GGUF_STRING) {
        /* The caller gives C strings; the value holds (data, len) pairs. */
        if (n > PLUME_GGUF_MAX_ARRAY_LEN) return plume_fail(err, "gguf writer: key '%s': too many elements", key);
        strs = malloc((n ? n : 1) * sizeof *strs);
        if (!strs) return plume_fail(err, "gguf writer: out of memory");
        for (uint64_t i = 0; i < n; i++) {
            const char *s = ((const char *const *)data)[i];
            strs[i].data = (char *)s;
            strs[i].len = strlen(s);
        }
        val.v.arr.data = strs;
    } else {
        val.v.arr.data = (void *)data;
    }
    int rc = plume_gguf_writer_set(w, key, &val, err);
    free(strs);
    return rc;
}

int plume_gguf_writer_copy_metadata(plume_gguf_writer *w, const plume_gguf *g, plume_error *err) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (plume_gguf_writer_set(w, g->kv[i].key.data, &g->kv[i].value, err)) return -1;
    return 0;
}

int plume_gguf_writer_add_tensor(plume_gguf_writer *w, const char *name, plume_ggml_type type, uint32_t n_dims,
                                 const int64_t *ne, const void *data, plume_error *err) {
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > PLUME_GGUF_MAX_KEY_LEN) return plume_fail(err, "gguf writer: bad tensor name length %zu", nlen);
    if (!plume_ggml_type_supported(type))
        return plume_fail(err, "gguf writer: tensor '%s': type %s is not supported", name, plume_ggml_type_name(type));
    if (n_dims < 1 || n_dims > PLUME_GGUF_MAX_DIMS)
        return plume_fail(err, "gguf writer: tensor '%s': %u dimensions (1 to %d allowed)", name, n_dims, PLUME_GGUF_MAX_DIMS);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return plume_fail(err, "gguf writer: tensor '%s' added twice", name);
    if (w->n_t == PLUME_GGUF_MAX_TENSORS) return plume_fail(err, "gguf writer: more than %u tensors", PLUME_GGUF_MAX_TENSORS);
    wtensor t = { .type = type, .n_dims = n_dims, .data = data };
    uint64_t n_el = 1;
    for (int d = 0; d < PLUME_GGUF_MAX_DIMS; d++) t.ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] < 0 || ne[d] > PLUME_GGUF_MAX_DIM || __builtin_mul_overflow(n_el, (uint64_t)ne[d], &n_el))
            return plume_fail(err, "gguf writer: tensor '%s': bad dimension %u = %" PRId64, name, d, ne[d]);
        t.ne[d] = ne[d];
    }
    if (plume_ggml_nbytes(type, t.ne[0], n_el, &t.n_bytes))
        return plume_fail(err, "gguf writer: tensor '%s': rows of %" PRId64 " elements do not fit %s blocks of %zu",
                          name, t.ne[0], plume_ggml_type_name(type), plume_ggml_block_elems(type));
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) return plume_fail(err, "gguf writer: out of memory");
        w->t = nt;
        w->cap_t = cap;
    }
    if (!(t.name = strdup(name))) return plume_fail(err, "gguf writer: out of memory");
    w->t[w->n_t++] = t;
    return 0;
}

/* ---- serialisation ---- */

static void put_u32(FILE *f, uint32_t v) {
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    fwrite(b, 1, 4, f);
}

static void put_u64(FILE *f, uint64_t v) {
    put_u32(f, (uint32_t)v);
    put_u32(f, (uint32_t)(v >> 32));
}

static void put_str(FILE *f, const plume_gguf_str *s) {
    put_u64(f, s->len);
    fwrite(s->data, 1, (size_t)s->len, f);
}

/* One scalar from its in-memory form at P (element layout of plume_gguf_value arrays). */
static void put_elem(FILE *f, plume_gguf_type t, const void *p) {
    switch (t) {
    case PLUME_GGUF_UINT8: case PLUME_GGUF_INT8: fputc(*(const uint8_t *)p, f); break;
    case PLUME_GGUF_BOOL: fputc(*(const bool *)p ? 1 : 0, f); break;
    case PLUME_GGUF_UINT16: case PLUME_GGUF_INT16: {
        uint16_t v;
        memcpy(&v, p, 2);
        fputc(v & 0xff, f);
        fputc(v >> 8, f);
        break;
    }
    case PLUME_GGUF_UINT32: case PLUME_GGUF_INT32: case PLUME_GGUF_FLOAT32: {
        uint32_t v;
        memcpy(&v, p, 4);
        put_u32(f, v);
        break;
    }
    case PLUME_GGUF_UINT64: case PLUME_GGUF_INT64: case PLUME_GGUF_FLOAT64: {
        uint64_t v;
        memcpy(&v, p, 8);
        put_u64(f, v);
        break;
    }
    case PLUME_GGUF_STRING: put_str(f, p); break;
    default: break;
    }
}

static void put_value(FILE *f, const plume_gguf_value *v) {
    put_u32(f, (uint32_t)v->type);
    switch (v->type) {
    case PLUME_GGUF_UINT8: case PLUME_GGUF_UINT16: case PLUME_GGUF_UINT32: case PLUME_GGUF_UINT64: {
        /* narrow the widened value back to its declared size */
        uint8_t u8 = (uint8_t)v->v.u64; uint16_t u16 = (uint16_t)v->v.u64; uint32_t u32 = (uint32_t)v->v.u64;
        const void *p = v->type == PLUME_GGUF_UINT8 ? (const void *)&u8 : v->type == PLUME_GGUF_UINT16 ? (const void *)&u16
                      : v->type == PLUME_GGUF_UINT32 ? (const void *)&u32 : (const void *)&v->v.u64;
        put_elem(f, v->type, p);
        break;
    }
    case PLUME_GGUF_INT8: case PLUME_GGUF_INT16: case PLUME_GGUF_INT32: case PLUME_GGUF_INT64: {
        int8_t i8 = (int8_t)v->v.i64; int16_t i16 = (int16_t)v->v.i64; int32_t i32 = (int32_t)v->v.i64;
        const void *p = v->type == PLUME_GGUF_INT8 ? (const void *)&i8 : v->type == PLUME_GGUF_INT16 ? (const void *)&i16
                      : v->type == PLUME_GGUF_INT32 ? (const void *)&i32 : (const void *)&v->v.i64;
        put_elem(f, v->type, p);
        break;
    }
    case PLUME_GGUF_FLOAT32: { float x = (float)v->v.f64; put_elem(f, v->type, &x); break; }
    case PLUME_GGUF_FLOAT64: put_elem(f, v->type, &v->v.f64); break;
    case PLUME_GGUF_BOOL: put_elem(f, v->type, &v->v.b); break;
    case PLUME_GGUF_STRING: put_str(f, &v->v.str); break;
    case PLUME_GGUF_ARRAY: {
        size_t es = elem_size(v->v.arr.type);
        put_u32(f, (uint32_t)v->v.arr.type);
        put_u64(f, v->v.arr.n);
        for (uint64_t i = 0; i < v->v.arr.n; i++) put_elem(f, v->v.arr.type, (const char *)v->v.arr.data + i * es);
        break;
    }
    default: break;
    }
}

static void pad_to(FILE *f, uint64_t *pos, uint32_t alignment) {
    while (*pos % alignment) {
        fputc(0, f);
        (*pos)++;
    }
}

int plume_gguf_writer_write(plume_gguf_writer *w, const char *path, plume_error *err) {
    plume_output_file out;   /* written whole or not at all: a model file is never seen half-written */
    if (plume_output_open(&out, path, err)) return -1;
    FILE *f = out.f;

    fwrite(PLUME_GGUF_MAGIC, 1, 4, f);
    put_u32(f, PLUME_GGUF_VERSION);
    put_u64(f, w->n_t);
    put_u64(f, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(f, &w->kv[i].key);
        put_value(f, &w->kv[i].value);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        plume_gguf_str name = { w->t[i].name, strlen(w->t[i].name) };
        put_str(f, &name);
        put_u32(f, w->t[i].n_dims);
        for (uint32_t d = 0; d < w->t[i].n_dims; d++) put_u64(f, (uint64_t)w->t[i].ne[d]);
        put_u32(f, (uint32_t)w->t[i].type);
        put_u64(f, offset);
        offset += (w->t[i].n_bytes + w->alignment - 1) / w->alignment * w->alignment;
    }
    long here = ftell(f);
    uint64_t pos = here < 0 ? 0 : (uint64_t)here;
    if (w->n_t) pad_to(f, &pos, w->alignment);
    for (size_t i = 0; i < w->n_t; i++) {
        if (w->t[i].n_bytes) fwrite(w->t[i].data, 1, (size_t)w->t[i].n_bytes, f);
        pos += w->t[i].n_bytes;
        if (i + 1 < w->n_t) pad_to(f, &pos, w->alignment);
    }

    if (ferror(f)) {
        int e = errno;
        plume_output_abort(&out);
        return plume_fail(err, "%s: writing failed: %s (is the disk full or the folder read-only?)", path, strerror(e));
    }
    return plume_output_commit(&out, err);
}
