/* plume — GGUF reader: maps the file read-only, copies the metadata, checks every tensor.
 *
 * The parser walks the bytes with a cursor that knows which section it is in ("header",
 * "metadata key/value 7 'llama.block_count'", "tensor info 2 'blk.0.attn_q.weight'"), so any
 * shortfall reads "truncated in SECTION at byte offset N". Every count is checked against a cap
 * and against the bytes left before memory is allocated for it: a 100-byte file cannot ask for
 * gigabytes. Tensor data is not copied; tensors point into the mapping. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plume/gguf.h"

typedef struct cursor {
    const uint8_t *p;
    uint64_t size, pos;
    const char *path;
    char where[256];     /* the section being read, for messages */
    plume_error *err;
} cursor;

static int truncated(cursor *c, uint64_t need) {
    return plume_fail(c->err, "%s: truncated in %s at byte offset %" PRIu64 ": needs %" PRIu64
                      " more bytes but the file ends at %" PRIu64 "; the file is incomplete — copy or convert it again",
                      c->path, c->where, c->pos, need, c->size);
}

static int need(cursor *c, uint64_t n) {
    if (n > c->size - c->pos) return truncated(c, n);
    return 0;
}

static int rd_u32(cursor *c, uint32_t *v) {
    if (need(c, 4)) return -1;
    const uint8_t *b = c->p + c->pos;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    c->pos += 4;
    return 0;
}

static int rd_u64(cursor *c, uint64_t *v) {
    uint32_t lo, hi;
    if (need(c, 8) || rd_u32(c, &lo) || rd_u32(c, &hi)) return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/* A string: u64 length (at most CAP) then bytes; the copy gets a NUL. */
static int rd_str(cursor *c, uint64_t cap, plume_gguf_str *s) {
    uint64_t at = c->pos, len;
    if (rd_u64(c, &len)) return -1;
    if (len > cap)
        return plume_fail(c->err, "%s: string in %s at byte offset %" PRIu64 " claims %" PRIu64
                          " bytes, over the cap of %" PRIu64 "; the file is damaged or not GGUF",
                          c->path, c->where, at, len, cap);
    if (need(c, len)) return -1;
    s->data = malloc(len + 1);
    if (!s->data) return plume_fail(c->err, "%s: out of memory reading %s", c->path, c->where);
    memcpy(s->data, c->p + c->pos, len);
    s->data[len] = '\0';
    s->len = len;
    c->pos += len;
    return 0;
}

static size_t scalar_size(plume_gguf_type t) {
    switch (t) {
    case PLUME_GGUF_UINT8: case PLUME_GGUF_INT8: case PLUME_GGUF_BOOL: return 1;
    case PLUME_GGUF_UINT16: case PLUME_GGUF_INT16: return 2;
    case PLUME_GGUF_UINT32: case PLUME_GGUF_INT32: case PLUME_GGUF_FLOAT32: return 4;
    case PLUME_GGUF_UINT64: case PLUME_GGUF_INT64: case PLUME_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static const char *const gguf_type_names[PLUME_GGUF_TYPE_COUNT] = {
    "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY",
    "UINT64", "INT64", "FLOAT64",
};

const char *plume_gguf_type_name(plume_gguf_type t) {
    return (unsigned)t < PLUME_GGUF_TYPE_COUNT ? gguf_type_names[t] : "?";
}

/* One little-endian scalar of type T at P, widened into the value's union. */
static void decode_scalar(plume_gguf_type t, const uint8_t *p, plume_gguf_value *v) {
    uint64_t u = 0;
    size_t n = scalar_size(t);
    for (size_t i = 0; i < n; i++) u |= (uint64_t)p[i] << (8 * i);
    v->type = t;
    switch (t) {
    case PLUME_GGUF_UINT8: case PLUME_GGUF_UINT16: case PLUME_GGUF_UINT32: case PLUME_GGUF_UINT64:
        v->v.u64 = u; break;
    case PLUME_GGUF_INT8: v->v.i64 = (int8_t)u; break;
    case PLUME_GGUF_INT16: v->v.i64 = (int16_t)u; break;
    case PLUME_GGUF_INT32: v->v.i64 = (int32_t)u; break;
    case PLUME_GGUF_INT64: v->v.i64 = (int64_t)u; break;
    case PLUME_GGUF_FLOAT32: { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); v->v.f64 = f; break; }
    case PLUME_GGUF_FLOAT64: { double d; memcpy(&d, &u, 8); v->v.f64 = d; break; }
    case PLUME_GGUF_BOOL: v->v.b = u != 0; break;
    default: break;
    }
}

/* Stores element I of a native array of type T from a decoded scalar. */
static void store_elem(plume_gguf_type t, void *data, uint64_t i, const plume_gguf_value *v) {
    switch (t) {
    case PLUME_GGUF_UINT8: ((uint8_t *)data)[i] = (uint8_t)v->v.u64; break;
    case PLUME_GGUF_INT8: ((int8_t *)data)[i] = (int8_t)v->v.i64; break;
    case PLUME_GGUF_UINT16: ((uint16_t *)data)[i] = (uint16_t)v->v.u64; break;
    case PLUME_GGUF_INT16: ((int16_t *)data)[i] = (int16_t)v->v.i64; break;
    case PLUME_GGUF_UINT32: ((uint32_t *)data)[i] = (uint32_t)v->v.u64; break;
    case PLUME_GGUF_INT32: ((int32_t *)data)[i] = (int32_t)v->v.i64; break;
    case PLUME_GGUF_FLOAT32: ((float *)data)[i] = (float)v->v.f64; break;
    case PLUME_GGUF_BOOL: ((bool *)data)[i] = v->v.b; break;
    case PLUME_GGUF_UINT64: ((uint64_t *)data)[i] = v->v.u64; break;
    case PLUME_GGUF_INT64: ((int64_t *)data)[i] = v->v.i64; break;
    case PLUME_GGUF_FLOAT64: ((double *)data)[i] = v->v.f64; break;
    default: break;
    }
}

static size_t native_size(plume_gguf_type t) {
    switch (t) {
    case PLUME_GGUF_BOOL: return sizeof(bool);
    case PLUME_GGUF_STRING: return sizeof(plume_gguf_str);
    default: return scalar_size(t);
    }
}

void plume_gguf_value_free(plume_gguf_value *v) {
    if (v->type == PLUME_GGUF_STRING) free(v->v.str.data);
    if (v->type == PLUME_GGUF_ARRAY) {
        if (v->v.arr.type == PLUME_GGUF_STRING && v->v.arr.data)
            for (uint64_t i = 0; i < v->v.arr.n; i++) free(((plume_gguf_str *)v->v.arr.data)[i].data);
        free(v->v.arr.data);
    }
    memset(v, 0, sizeof *v);
}

static int rd_value(cursor *c, uint32_t type, plume_gguf_value *v) {
    if (type >= PLUME_GGUF_TYPE_COUNT)
        return plume_fail(c->err, "%s: unknown metadata value type %u in %s at byte offset %" PRIu64
                          " (GGUF types are 0..12); the file is damaged or from a newer GGUF version",
                          c->path, type, c->where, c->pos - 4);
    v->type = (plume_gguf_type)type;
    if (type == PLUME_GGUF_STRING) return rd_str(c, PLUME_GGUF_MAX_STRING_LEN, &v->v.str);
    if (type != PLUME_GGUF_ARRAY) {
        size_t n = scalar_size(v->type);
        if (need(c, n)) return -1;
        decode_scalar(v->type, c->p + c->pos, v);
        c->pos += n;
        return 0;
    }
    uint32_t et;
    uint64_t at = c->pos, n;
    if (rd_u32(c, &et) || rd_u64(c, &n)) return -1;
    if (et == PLUME_GGUF_ARRAY)
        return plume_fail(c->err, "%s: %s at byte offset %" PRIu64 " is an array of arrays, which plume does not read",
                          c->path, c->where, at);
    if (et >= PLUME_GGUF_TYPE_COUNT)
        return plume_fail(c->err, "%s: unknown array element type %u in %s at byte offset %" PRIu64
                          " (GGUF types are 0..12); the file is damaged", c->path, et, c->where, at);
    if (n > PLUME_GGUF_MAX_ARRAY_LEN)
        return plume_fail(c->err, "%s: array in %s at byte offset %" PRIu64 " claims %" PRIu64
                          " elements, over the cap of %llu; the file is damaged", c->path, c->where, at, n,
                          (unsigned long long)PLUME_GGUF_MAX_ARRAY_LEN);
    /* Each element takes at least this many bytes of the file: no allocation beyond the file. */
    uint64_t min_each = et == PLUME_GGUF_STRING ? 8 : scalar_size((plume_gguf_type)et);
    if (n > (c->size - c->pos) / min_each) return truncated(c, n * min_each);
    v->v.arr.type = (plume_gguf_type)et;
    v->v.arr.n = 0;
    v->v.arr.data = calloc(n ? n : 1, native_size((plume_gguf_type)et));
    if (!v->v.arr.data) return plume_fail(c->err, "%s: out of memory reading %s", c->path, c->where);
    for (uint64_t i = 0; i < n; i++) {
        if (et == PLUME_GGUF_STRING) {
            if (rd_str(c, PLUME_GGUF_MAX_STRING_LEN, &((plume_gguf_str *)v->v.arr.data)[i])) return -1;
        } else {
            plume_gguf_value e;
            decode_scalar((plume_gguf_type)et, c->p + c->pos, &e);
            c->pos += min_each;
            store_elem((plume_gguf_type)et, v->v.arr.data, i, &e);
        }
        v->v.arr.n = i + 1;   /* what plume_gguf_value_free must release if a later element fails */
    }
    return 0;
}

void plume_gguf_close(plume_gguf *g) {
    if (!g) return;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key.data);
        plume_gguf_value_free(&g->kv[i].value);
    }
    free(g->kv);
    for (uint64_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->tensors);
    if (g->map) munmap(g->map, (size_t)g->size);
    free(g->path);
    free(g);
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names must be unique: sort pointers to them and compare neighbours (n log n, not n²). */
static const char *first_duplicate(const char **names, uint64_t n) {
    qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
    for (uint64_t i = 1; i < n; i++)
        if (!strcmp(names[i - 1], names[i])) return names[i];
    return NULL;
}

static int parse(plume_gguf *g, plume_error *err) {
    cursor c = { .p = g->base, .size = g->size, .pos = 0, .path = g->path, .err = err };
    snprintf(c.where, sizeof c.where, "the header");
    if (need(&c, 4)) return -1;
    if (memcmp(g->base, PLUME_GGUF_MAGIC, 4) != 0)
        return plume_fail(err, "%s: not a GGUF file: it starts with bytes %02x %02x %02x %02x, not \"GGUF\"",
                          g->path, g->base[0], g->base[1], g->base[2], g->base[3]);
    c.pos = 4;
    if (rd_u32(&c, &g->version)) return -1;
    if (g->version == 1)
        return plume_fail(err, "%s: GGUF version 1 is not supported (plume reads versions 2 and 3); "
                          "convert the model again with a current converter", g->path);
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xffff) == 0 && (g->version >> 24) <= 3)
            return plume_fail(err, "%s: GGUF version field reads %u, which looks byte-swapped: "
                              "a big-endian GGUF file; plume reads little-endian files only", g->path, g->version);
        return plume_fail(err, "%s: unknown GGUF version %u at byte offset 4 (plume reads 2 and 3)",
                          g->path, g->version);
    }
    uint64_t n_tensors, n_kv;
    if (rd_u64(&c, &n_tensors) || rd_u64(&c, &n_kv)) return -1;
    if (n_tensors > PLUME_GGUF_MAX_TENSORS)
        return plume_fail(err, "%s: header claims %" PRIu64 " tensors (byte offset 8), over the cap of %u; "
                          "the file is damaged", g->path, n_tensors, PLUME_GGUF_MAX_TENSORS);
    if (n_kv > PLUME_GGUF_MAX_KV)
        return plume_fail(err, "%s: header claims %" PRIu64 " metadata key/values (byte offset 16), over the cap "
                          "of %u; the file is damaged", g->path, n_kv, PLUME_GGUF_MAX_KV);
    /* A key/value takes at least 8 + 4 + 1 bytes, a tensor info at least 8 + 4 + 8 + 4 + 8. */
    if (n_kv > (c.size - c.pos) / 13) {
        snprintf(c.where, sizeof c.where, "the metadata (%" PRIu64 " key/values)", n_kv);
        return truncated(&c, n_kv * 13);
    }
    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    if (!g->kv) return plume_fail(err, "%s: out of memory", g->path);

    g->alignment = PLUME_GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < n_kv; i++) {
        plume_gguf_kv *kv = &g->kv[i];
        snprintf(c.where, sizeof c.where, "metadata key/value %" PRIu64 " (key)", i);
        g->n_kv = i + 1;
        if (rd_str(&c, PLUME_GGUF_MAX_KEY_LEN, &kv->key)) return -1;
        if (kv->key.len == 0 || strlen(kv->key.data) != kv->key.len)
            return plume_fail(err, "%s: metadata key/value %" PRIu64 " at byte offset %" PRIu64
                              " has an empty key or one holding a NUL byte", g->path, i, c.pos - kv->key.len);
        snprintf(c.where, sizeof c.where, "metadata key/value %" PRIu64 " '%.160s'", i, kv->key.data);
        uint32_t type;
        if (rd_u32(&c, &type) || rd_value(&c, type, &kv->value)) return -1;
        if (!strcmp(kv->key.data, "general.alignment")) {
            if (kv->value.type != PLUME_GGUF_UINT32)
                return plume_fail(err, "%s: general.alignment is %s, expected UINT32", g->path,
                                  plume_gguf_type_name(kv->value.type));
            uint64_t a = kv->value.v.u64;
            if (a == 0 || (a & (a - 1)) || a > PLUME_GGUF_MAX_ALIGNMENT)
                return plume_fail(err, "%s: general.alignment is %" PRIu64 "; it must be a power of two "
                                  "at most %u", g->path, a, PLUME_GGUF_MAX_ALIGNMENT);
            g->alignment = (uint32_t)a;
        }
    }
    if (n_kv) {
        const char **names = malloc(n_kv * sizeof *names);
        if (!names) return plume_fail(err, "%s: out of memory", g->path);
        for (uint64_t i = 0; i < n_kv; i++) names[i] = g->kv[i].key.data;
        const char *dup = first_duplicate(names, n_kv);
        int rc = dup ? plume_fail(err, "%s: metadata key '%s' appears twice; the file is damaged", g->path, dup) : 0;
        free(names);
        if (rc) return rc;
    }

    if (n_tensors > (c.size - c.pos) / 32) {
        snprintf(c.where, sizeof c.where, "the tensor infos (%" PRIu64 " tensors)", n_tensors);
        return truncated(&c, n_tensors * 32);
    }
    g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *g->tensors);
    if (!g->tensors) return plume_fail(err, "%s: out of memory", g->path);
    for (uint64_t i = 0; i < n_tensors; i++) {
        plume_gguf_tensor *t = &g->tensors[i];
        plume_gguf_str name = { 0 };
        snprintf(c.where, sizeof c.where, "tensor info %" PRIu64 " (name)", i);
        g->n_tensors = i + 1;
        if (rd_str(&c, PLUME_GGUF_MAX_KEY_LEN, &name)) return -1;
        t->name = name.data;
        if (name.len == 0 || strlen(name.data) != name.len)
            return plume_fail(err, "%s: tensor info %" PRIu64 " has an empty name or one holding a NUL byte",
                              g->path, i);
        snprintf(c.where, sizeof c.where, "tensor info %" PRIu64 " '%.160s'", i, t->name);
        uint64_t at = c.pos;
        if (rd_u32(&c, &t->n_dims)) return -1;
        if (t->n_dims < 1 || t->n_dims > PLUME_GGUF_MAX_DIMS)
            return plume_fail(err, "%s: %s at byte offset %" PRIu64 " has %u dimensions; GGUF tensors have 1 to %d",
                              g->path, c.where, at, t->n_dims, PLUME_GGUF_MAX_DIMS);
        t->n_elements = 1;
        for (int d = 0; d < PLUME_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            uint64_t ne;
            at = c.pos;
            if (rd_u64(&c, &ne)) return -1;
            if (ne > (uint64_t)PLUME_GGUF_MAX_DIM)
                return plume_fail(err, "%s: %s at byte offset %" PRIu64 ": dimension %u is %" PRIu64
                                  ", an absurd size; the file is damaged", g->path, c.where, at, d, ne);
            t->ne[d] = (int64_t)ne;
            if (__builtin_mul_overflow(t->n_elements, ne, &t->n_elements))
                return plume_fail(err, "%s: %s: the element count overflows 64 bits", g->path, c.where);
        }
        uint32_t type;
        at = c.pos;
        if (rd_u32(&c, &type)) return -1;
        t->type = (plume_ggml_type)type;
        if (!plume_ggml_type_supported(t->type))
            return plume_fail(err, "%s: %s at byte offset %" PRIu64 " has tensor type %s (%u), which plume does "
                              "not support; plume reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and "
                              "Q6_K — requantize the model to one of those", g->path, c.where, at, plume_ggml_type_name(t->type), type);
        if (plume_ggml_nbytes(t->type, t->ne[0], t->n_elements, &t->n_bytes))
            return plume_fail(err, "%s: %s has shape [%" PRId64 ", …] of type %s: its rows of %" PRId64
                              " elements are not a whole number of %zu-element blocks, or its size overflows",
                              g->path, c.where, t->ne[0], plume_ggml_type_name(t->type), t->ne[0],
                              plume_ggml_block_elems(t->type));
        at = c.pos;
        if (rd_u64(&c, &t->offset)) return -1;
        if (t->offset % g->alignment)
            return plume_fail(err, "%s: %s at byte offset %" PRIu64 " has data offset %" PRIu64
                              ", not a multiple of the alignment %u; the file is damaged",
                              g->path, c.where, at, t->offset, g->alignment);
    }
    if (n_tensors) {
        const char **names = malloc(n_tensors * sizeof *names);
        if (!names) return plume_fail(err, "%s: out of memory", g->path);
        for (uint64_t i = 0; i < n_tensors; i++) names[i] = g->tensors[i].name;
        const char *dup = first_duplicate(names, n_tensors);
        int rc = dup ? plume_fail(err, "%s: tensor '%s' appears twice; the file is damaged", g->path, dup) : 0;
        free(names);
        if (rc) return rc;
    }

    /* The data section starts at the next multiple of the alignment. */
    g->data_offset = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
    if (n_tensors && g->data_offset > g->size)
        return plume_fail(err, "%s: truncated before the tensor data: it should start at byte offset %" PRIu64
                          " but the file ends at %" PRIu64 "; the file is incomplete", g->path, g->data_offset, g->size);
    for (uint64_t i = 0; i < n_tensors; i++) {
        plume_gguf_tensor *t = &g->tensors[i];
        uint64_t room = g->size - g->data_offset;
        if (t->offset > room || t->n_bytes > room - t->offset)
            return plume_fail(err, "%s: truncated tensor data: tensor '%s' (%" PRIu64 " bytes of %s at data offset %" PRIu64
                              ", file offset %" PRIu64 ") runs past the end of the file at %" PRIu64
                              "; the file is incomplete", g->path, t->name, t->n_bytes,
                              plume_ggml_type_name(t->type), t->offset, g->data_offset + t->offset, g->size);
        /* Readers cast the data to float/uint16_t/blocks: 4-byte alignment is the least they need
         * (general.alignment 1 or 2 would allow less). */
        if ((g->data_offset + t->offset) % 4)
            return plume_fail(err, "%s: tensor '%s' starts at file offset %" PRIu64 ", not a multiple of 4; "
                              "plume needs general.alignment of at least 4", g->path, t->name, g->data_offset + t->offset);
        t->data = g->base + g->data_offset + t->offset;
    }
    return 0;
}

static int open_common(plume_gguf **out, plume_gguf *g, plume_error *err) {
    if (parse(g, err)) {
        plume_gguf_close(g);
        *out = NULL;
        return -1;
    }
    *out = g;
    return 0;
}

int plume_gguf_open_memory(plume_gguf **out, const void *data, size_t size, const char *name, plume_error *err) {
    *out = NULL;
    plume_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(name ? name : "(memory)"))) {
        free(g);
        return plume_fail(err, "out of memory opening %s", name ? name : "(memory)");
    }
    g->base = data;
    g->size = size;
    return open_common(out, g, err);
}

int plume_gguf_open(plume_gguf **out, const char *path, plume_error *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return plume_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return plume_fail(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return plume_fail(err, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return plume_fail(err, "%s: the file is empty, not a GGUF model", path);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return plume_fail(err, "%s: cannot map %lld bytes: %s", path, (long long)st.st_size, strerror(e));
    plume_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        munmap(map, (size_t)st.st_size);
        return plume_fail(err, "%s: out of memory", path);
    }
    g->map = map;
    g->base = map;
    g->size = (uint64_t)st.st_size;
    return open_common(out, g, err);
}

/* ---- lookups ---- */

const plume_gguf_kv *plume_gguf_find(const plume_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (!strcmp(g->kv[i].key.data, key)) return &g->kv[i];
    return NULL;
}

const plume_gguf_tensor *plume_gguf_find_tensor(const plume_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

static const plume_gguf_kv *find_or_fail(const plume_gguf *g, const char *key, plume_error *err) {
    const plume_gguf_kv *kv = plume_gguf_find(g, key);
    if (!kv) plume_fail(err, "%s: metadata key '%s' is missing", g->path, key);
    return kv;
}

static bool is_unsigned(plume_gguf_type t) {
    return t == PLUME_GGUF_UINT8 || t == PLUME_GGUF_UINT16 || t == PLUME_GGUF_UINT32 || t == PLUME_GGUF_UINT64;
}

static bool is_signed(plume_gguf_type t) {
    return t == PLUME_GGUF_INT8 || t == PLUME_GGUF_INT16 || t == PLUME_GGUF_INT32 || t == PLUME_GGUF_INT64;
}

int plume_gguf_get_i64(const plume_gguf *g, const char *key, int64_t *out, plume_error *err) {
    const plume_gguf_kv *kv = find_or_fail(g, key, err);
    if (!kv) return -1;
    if (is_signed(kv->value.type)) *out = kv->value.v.i64;
    else if (is_unsigned(kv->value.type) && kv->value.v.u64 <= INT64_MAX) *out = (int64_t)kv->value.v.u64;
    else return plume_fail(err, "%s: metadata '%s' is %s, expected an integer", g->path, key,
                           plume_gguf_type_name(kv->value.type));
    return 0;
}

int plume_gguf_get_u32(const plume_gguf *g, const char *key, uint32_t *out, plume_error *err) {
    int64_t v;
    if (plume_gguf_get_i64(g, key, &v, err)) return -1;
    if (v < 0 || v > UINT32_MAX)
        return plume_fail(err, "%s: metadata '%s' is %" PRId64 ", outside 0..4294967295", g->path, key, v);
    *out = (uint32_t)v;
    return 0;
}

int plume_gguf_get_f32(const plume_gguf *g, const char *key, float *out, plume_error *err) {
    const plume_gguf_kv *kv = find_or_fail(g, key, err);
    if (!kv) return -1;
    if (kv->value.type != PLUME_GGUF_FLOAT32 && kv->value.type != PLUME_GGUF_FLOAT64)
        return plume_fail(err, "%s: metadata '%s' is %s, expected FLOAT32", g->path, key,
                          plume_gguf_type_name(kv->value.type));
    *out = (float)kv->value.v.f64;
    return 0;
}

int plume_gguf_get_bool(const plume_gguf *g, const char *key, bool *out, plume_error *err) {
    const plume_gguf_kv *kv = find_or_fail(g, key, err);
    if (!kv) return -1;
    if (kv->value.type != PLUME_GGUF_BOOL)
        return plume_fail(err, "%s: metadata '%s' is %s, expected BOOL", g->path, key,
                          plume_gguf_type_name(kv->value.type));
    *out = kv->value.v.b;
    return 0;
}

int plume_gguf_get_str(const plume_gguf *g, const char *key, const char **out, plume_error *err) {
    const plume_gguf_kv *kv = find_or_fail(g, key, err);
    if (!kv) return -1;
    if (kv->value.type != PLUME_GGUF_STRING)
        return plume_fail(err, "%s: metadata '%s' is %s, expected STRING", g->path, key,
                          plume_gguf_type_name(kv->value.type));
    *out = kv->value.v.str.data;
    return 0;
}

int plume_gguf_get_arr(const plume_gguf *g, const char *key, plume_gguf_type type, uint64_t want_n,
                       const void **data, uint64_t *n, plume_error *err) {
    const plume_gguf_kv *kv = find_or_fail(g, key, err);
    if (!kv) return -1;
    if (kv->value.type != PLUME_GGUF_ARRAY || kv->value.v.arr.type != type)
        return plume_fail(err, "%s: metadata '%s' is %s%s%s, expected an array of %s", g->path, key,
                          plume_gguf_type_name(kv->value.type),
                          kv->value.type == PLUME_GGUF_ARRAY ? " of " : "",
                          kv->value.type == PLUME_GGUF_ARRAY ? plume_gguf_type_name(kv->value.v.arr.type) : "",
                          plume_gguf_type_name(type));
    if (want_n && kv->value.v.arr.n != want_n)
        return plume_fail(err, "%s: metadata '%s' has %" PRIu64 " elements, expected %" PRIu64, g->path, key,
                          kv->value.v.arr.n, want_n);
    *data = kv->value.v.arr.data;
    if (n) *n = kv->value.v.arr.n;
    return 0;
}

static void shape_str(char *buf, size_t size, uint32_t n_dims, const int64_t *ne) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, size - o, "[");
    for (uint32_t d = 0; d < n_dims && o < size; d++)
        o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, d ? ", " : "", ne[d]);
    if (o < size) snprintf(buf + o, size - o, "]");
}

int plume_gguf_expect_tensor(const plume_gguf *g, const char *name, uint32_t n_dims, const int64_t *ne,
                             const plume_gguf_tensor **out, plume_error *err) {
    const plume_gguf_tensor *t = plume_gguf_find_tensor(g, name);
    if (out) *out = t;
    if (!t) return plume_fail(err, "%s: tensor '%s' is missing", g->path, name);
    bool same = t->n_dims == n_dims;
    for (uint32_t d = 0; same && d < n_dims; d++) same = t->ne[d] == ne[d];
    if (!same) {
        char got[128], want[128];
        shape_str(got, sizeof got, t->n_dims, t->ne);
        shape_str(want, sizeof want, n_dims, ne);
        return plume_fail(err, "%s: tensor '%s' has shape %s, expected %s (innermost dimension first)",
                          g->path, name, got, want);
    }
    if (!plume_ggml_type_supported(t->type))
        return plume_fail(err, "%s: tensor '%s' has unsupported type %s", g->path, name, plume_ggml_type_name(t->type));
    return 0;
}

/* ---- llama ---- */

const plume_gguf_tensor *plume_llama_tensor(const plume_gguf *g, int layer, const char *suffix) {
    char name[256];
    if (layer < 0) snprintf(name, sizeof name, "%s", suffix);
    else snprintf(name, sizeof name, "blk.%d.%s", layer, suffix);
    return plume_gguf_find_tensor(g, name);
}

/* Largest hyper-parameter plume accepts: sizes beyond these are a damaged file, not a model. */
#define HP_CAP (1u << 20)

/* The architectures plume runs. llama.cpp writes Mistral and SmolLM files as llama. */
static const struct {
    const char *name;
    plume_lm_arch arch;
} arch_names[] = { { "llama", PLUME_ARCH_LLAMA }, { "qwen2", PLUME_ARCH_QWEN2 }, { "qwen3", PLUME_ARCH_QWEN3 } };

/* ARCH.* keys plume reads, or that do not change the computation. Any other ARCH.* key is
 * refused by name: it may change the computation (a scaling, a soft cap, experts, a sliding
 * window) in a way plume does not implement, and a silent wrong answer is worse than none. */
static const char *const known_keys[] = {
    "context_length", "embedding_length", "block_count", "feed_forward_length", "vocab_size",
    "attention.head_count", "attention.head_count_kv", "attention.layer_norm_rms_epsilon",
    "attention.key_length", "attention.value_length", "rope.freq_base", "rope.dimension_count",
    "rope.scaling.type", "rope.scaling.factor", "rope.scaling.original_context_length", "rope.scaling.finetuned",
    "expert_count", "expert_used_count", "rope.scaling.attn_factor", "logit_scale",
};

/* A key whose presence is fine only at its neutral value (0 experts, factor 1). */
static int check_neutral(const plume_gguf *g, const char *key, const char *suffix, plume_error *err) {
    if (!strcmp(suffix, "expert_count") || !strcmp(suffix, "expert_used_count")) {
        uint32_t v;
        if (plume_gguf_get_u32(g, key, &v, err)) return -1;
        if (v) return plume_fail(err, "%s: %s is %u: mixture-of-experts models are not implemented", g->path, key, v);
    } else if (!strcmp(suffix, "rope.scaling.attn_factor") || !strcmp(suffix, "logit_scale")) {
        float v;
        if (plume_gguf_get_f32(g, key, &v, err)) return -1;
        if (v != 1.0f) return plume_fail(err, "%s: %s is %g: plume does not implement this scaling", g->path, key, v);
    }
    return 0;
}

static int check_arch_keys(const plume_gguf *g, const char *arch, plume_error *err) {
    size_t n = strlen(arch);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const char *key = g->kv[i].key.data;
        if (strncmp(key, arch, n) || key[n] != '.') continue;
        const char *suffix = key + n + 1;
        size_t k = 0;
        while (k < sizeof known_keys / sizeof known_keys[0] && strcmp(known_keys[k], suffix)) k++;
        if (k == sizeof known_keys / sizeof known_keys[0])
            return plume_fail(err, "%s: metadata key '%s' is not implemented by plume; it may change the "
                                   "computation, so the model is refused rather than run wrong",
                              g->path, key);
        if (check_neutral(g, key, suffix, err)) return -1;
    }
    return 0;
}

/* Reads ARCH.SUFFIX as u32 into *out; absent keys leave *out when optional. */
static int arch_u32(const plume_gguf *g, const char *arch, const char *suffix, bool optional, uint32_t *out,
                    plume_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (optional && !plume_gguf_find(g, key)) return 0;
    return plume_gguf_get_u32(g, key, out, err);
}

static int arch_f32(const plume_gguf *g, const char *arch, const char *suffix, bool optional, float *out,
                    plume_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (optional && !plume_gguf_find(g, key)) return 0;
    return plume_gguf_get_f32(g, key, out, err);
}

/* Rope scaling: "none"; "linear" (positions divided by the factor); "llama3", whose
 * per-frequency factors llama.cpp's converter writes as rope_freqs.weight (required then).
 * Any other type (yarn, longrope, ...) is refused by name. */
static int read_rope_scaling(const plume_gguf *g, const char *arch, plume_llama_hparams *hp, plume_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const char *type = "none";
    if (plume_gguf_find(g, key) && plume_gguf_get_str(g, key, &type, err)) return -1;
    float factor = 1.0f;
    if (arch_f32(g, arch, "rope.scaling.factor", true, &factor, err)) return -1;
    hp->rope_freq_scale = 1.0f;
    if (!strcmp(type, "none")) return 0;
    if (!strcmp(type, "linear")) {
        if (!(factor > 0.0f) || !isfinite(factor))
            return plume_fail(err, "%s: %s.rope.scaling.factor %g must be positive for linear scaling", g->path, arch,
                              factor);
        hp->rope_freq_scale = 1.0f / factor;
        return 0;
    }
    if (!strcmp(type, "llama3")) {
        if (!plume_gguf_find_tensor(g, "rope_freqs.weight"))
            return plume_fail(err, "%s: %s is 'llama3' but the file has no tensor 'rope_freqs.weight' holding its "
                                   "frequency factors",
                              g->path, key);
        return 0;
    }
    return plume_fail(err, "%s: %s is '%s'; plume implements rope scaling 'none', 'linear' and 'llama3' "
                           "(with rope_freqs.weight)",
                      g->path, key, type);
}

/* One tensor the architecture uses: its name (after "blk.N." for a layer's), whether the file
 * must hold it, and its shape. */
typedef struct arch_tensor {
    const char *name;
    bool required;
    uint32_t n_dims;
    int64_t ne[2];
} arch_tensor;

/* Every tensor of the file must be one the architecture uses, and every required one present,
 * of the expected shape and a supported type: a tensor plume would ignore is refused by name. */
static int check_tensors(const plume_gguf *g, const plume_llama_hparams *hp, const arch_tensor *top, size_t n_top,
                         const arch_tensor *per_layer, size_t n_layer_t, plume_error *err) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const char *name = g->tensors[i].name, *suffix = name;
        const arch_tensor *set = top;
        size_t n = n_top;
        if (!strncmp(name, "blk.", 4)) {
            char *end;
            unsigned long layer = strtoul(name + 4, &end, 10);
            if (end != name + 4 && *end == '.' && layer < hp->n_layer && name[4] != '+' && name[4] != '-') {
                suffix = end + 1;
                set = per_layer;
                n = n_layer_t;
            }
        }
        size_t k = 0;
        while (k < n && strcmp(set[k].name, suffix)) k++;
        if (k == n)
            return plume_fail(err, "%s: tensor '%s' is not used by the %s architecture as plume implements it; "
                                   "a tensor plume would ignore is refused, since ignoring it computes wrong logits",
                              g->path, name, hp->arch_name);
    }
    for (size_t k = 0; k < n_top; k++)
        if ((top[k].required || plume_gguf_find_tensor(g, top[k].name)) &&
            plume_gguf_expect_tensor(g, top[k].name, top[k].n_dims, top[k].ne, NULL, err))
            return -1;
    for (uint32_t l = 0; l < hp->n_layer; l++)
        for (size_t k = 0; k < n_layer_t; k++) {
            char name[128];
            snprintf(name, sizeof name, "blk.%u.%s", l, per_layer[k].name);
            if ((per_layer[k].required || plume_gguf_find_tensor(g, name)) &&
                plume_gguf_expect_tensor(g, name, per_layer[k].n_dims, per_layer[k].ne, NULL, err))
                return -1;
        }
    return 0;
}

int plume_llama_read_hparams(const plume_gguf *g, plume_llama_hparams *hp, plume_error *err) {
    memset(hp, 0, sizeof *hp);
    const char *arch;
    if (plume_gguf_get_str(g, "general.architecture", &arch, err)) return -1;
    size_t a = 0;
    while (a < sizeof arch_names / sizeof arch_names[0] && strcmp(arch_names[a].name, arch)) a++;
    if (a == sizeof arch_names / sizeof arch_names[0])
        return plume_fail(err, "%s: general.architecture is '%s'; plume runs 'llama' (also Mistral and SmolLM), "
                               "'qwen2' and 'qwen3' models",
                          g->path, arch);
    hp->arch = arch_names[a].arch;
    hp->arch_name = arch_names[a].name;
    if (check_arch_keys(g, arch, err)) return -1;
    if (arch_u32(g, arch, "embedding_length", false, &hp->n_embd, err) ||
        arch_u32(g, arch, "feed_forward_length", false, &hp->n_ff, err) ||
        arch_u32(g, arch, "block_count", false, &hp->n_layer, err) ||
        arch_u32(g, arch, "attention.head_count", false, &hp->n_head, err) ||
        arch_u32(g, arch, "context_length", false, &hp->n_ctx, err) ||
        arch_f32(g, arch, "attention.layer_norm_rms_epsilon", false, &hp->rms_eps, err))
        return -1;
    hp->n_head_kv = hp->n_head;
    hp->rope_freq_base = 10000.0f;
    if (arch_u32(g, arch, "attention.head_count_kv", true, &hp->n_head_kv, err) ||
        arch_f32(g, arch, "rope.freq_base", true, &hp->rope_freq_base, err))
        return -1;
    const struct { const char *key; uint32_t v; } caps[] = {
        { "embedding_length", hp->n_embd }, { "feed_forward_length", hp->n_ff },
        { "block_count", hp->n_layer }, { "attention.head_count", hp->n_head },
        { "attention.head_count_kv", hp->n_head_kv }, { "context_length", hp->n_ctx },
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (caps[i].v == 0 || caps[i].v > HP_CAP)
            return plume_fail(err, "%s: %s.%s is %u; it must be between 1 and %u", g->path, arch, caps[i].key,
                              caps[i].v, HP_CAP);
    if (hp->n_head % hp->n_head_kv)
        return plume_fail(err, "%s: %s.attention.head_count %u is not a multiple of head_count_kv %u", g->path, arch,
                          hp->n_head, hp->n_head_kv);
    /* The head size: key_length where the file gives it (Qwen3: n_head * head_dim != n_embd),
     * else n_embd / n_head. Values must be as long as keys: attention writes them into one
     * width. */
    hp->head_dim = 0;
    uint32_t value_length = 0;
    if (arch_u32(g, arch, "attention.key_length", true, &hp->head_dim, err) ||
        arch_u32(g, arch, "attention.value_length", true, &value_length, err))
        return -1;
    if (hp->head_dim == 0) {
        if (hp->n_embd % hp->n_head)
            return plume_fail(err, "%s: %s.embedding_length %u is not a multiple of %s.attention.head_count %u",
                              g->path, arch, hp->n_embd, arch, hp->n_head);
        hp->head_dim = hp->n_embd / hp->n_head;
    }
    if (hp->head_dim > 1024)
        return plume_fail(err, "%s: the head size %u is out of range (1..1024)", g->path, hp->head_dim);
    if (value_length && value_length != hp->head_dim)
        return plume_fail(err, "%s: %s.attention.value_length %u differs from key_length %u; plume implements "
                               "equal key and value sizes",
                          g->path, arch, value_length, hp->head_dim);
    hp->n_rot = hp->head_dim;
    if (arch_u32(g, arch, "rope.dimension_count", true, &hp->n_rot, err)) return -1;
    if (hp->n_rot != hp->head_dim || hp->n_rot % 2)
        return plume_fail(err, "%s: %s.rope.dimension_count %u differs from the head size %u (or is odd); partial "
                               "rotary embeddings are not implemented",
                          g->path, arch, hp->n_rot, hp->head_dim);
    if (!(hp->rms_eps > 0.0f && hp->rms_eps < 1.0f))
        return plume_fail(err, "%s: %s.attention.layer_norm_rms_epsilon %g is outside (0, 1)", g->path, arch,
                          hp->rms_eps);
    if (!(hp->rope_freq_base > 0.0f) || !isfinite(hp->rope_freq_base))
        return plume_fail(err, "%s: %s.rope.freq_base %g must be positive", g->path, arch, hp->rope_freq_base);
    if (read_rope_scaling(g, arch, hp, err)) return -1;
    /* llama.cpp rotates adjacent pairs for llama and halves (NEOX) for the Qwen models; plume's
     * own trainer may write a llama file in the NEOX style and says so in plume.rope.style. */
    hp->rope_style = hp->arch == PLUME_ARCH_LLAMA ? PLUME_ROPE_NORMAL : PLUME_ROPE_NEOX;
    if (hp->arch == PLUME_ARCH_LLAMA && plume_gguf_find(g, "plume.rope.style")) {
        const char *style;
        if (plume_gguf_get_str(g, "plume.rope.style", &style, err)) return -1;
        if (!strcmp(style, "neox")) hp->rope_style = PLUME_ROPE_NEOX;
        else if (strcmp(style, "normal"))
            return plume_fail(err, "%s: plume.rope.style is '%s'; expected 'normal' or 'neox'", g->path, style);
    }

    /* Vocabulary size: explicit key, else the tokenizer, else the embedding matrix. */
    const plume_gguf_kv *kv;
    char vkey[64];
    snprintf(vkey, sizeof vkey, "%s.vocab_size", arch);
    if (plume_gguf_find(g, vkey)) {
        if (plume_gguf_get_u32(g, vkey, &hp->n_vocab, err)) return -1;
    } else if ((kv = plume_gguf_find(g, "tokenizer.ggml.tokens")) && kv->value.type == PLUME_GGUF_ARRAY) {
        hp->n_vocab = kv->value.v.arr.n > UINT32_MAX ? 0 : (uint32_t)kv->value.v.arr.n;
    } else {
        const plume_gguf_tensor *te = plume_gguf_find_tensor(g, "token_embd.weight");
        if (!te) return plume_fail(err, "%s: tensor 'token_embd.weight' is missing", g->path);
        hp->n_vocab = te->n_dims == 2 && te->ne[1] <= HP_CAP * 16 ? (uint32_t)te->ne[1] : 0;
    }
    if (hp->n_vocab == 0 || hp->n_vocab > HP_CAP * 16)
        return plume_fail(err, "%s: vocabulary size %u is out of range", g->path, hp->n_vocab);

    const int64_t E = hp->n_embd, F = hp->n_ff, V = hp->n_vocab, HD = hp->head_dim;
    const int64_t Q = HD * hp->n_head, KV = HD * hp->n_head_kv;
    hp->tied_output = plume_gguf_find_tensor(g, "output.weight") == NULL;
    hp->rope_freqs = plume_gguf_find_tensor(g, "rope_freqs.weight") != NULL;
    const bool llama = hp->arch == PLUME_ARCH_LLAMA, qwen2 = hp->arch == PLUME_ARCH_QWEN2,
               qwen3 = hp->arch == PLUME_ARCH_QWEN3;
    const arch_tensor top[] = {
        { "token_embd.weight", true, 2, { E, V } },
        { "output_norm.weight", true, 1, { E, 1 } },
        { "output.weight", false, 2, { E, V } },
        /* Llama 3.x's per-frequency rope factors (only llama reads them). */
        { llama ? "rope_freqs.weight" : "", false, 1, { HD / 2, 1 } },
    };
    const arch_tensor layer[] = {
        { "attn_norm.weight", true, 1, { E, 1 } },
        { "attn_q.weight", true, 2, { E, Q } },
        { "attn_k.weight", true, 2, { E, KV } },
        { "attn_v.weight", true, 2, { E, KV } },
        { "attn_output.weight", true, 2, { Q, E } },
        { "ffn_norm.weight", true, 1, { E, 1 } },
        { "ffn_gate.weight", true, 2, { E, F } },
        { "ffn_up.weight", true, 2, { E, F } },
        { "ffn_down.weight", true, 2, { F, E } },
        /* q/k/v biases: qwen2 has them; a llama file may (llama.cpp adds them where present). */
        { qwen3 ? "" : "attn_q.bias", qwen2, 1, { Q, 1 } },
        { qwen3 ? "" : "attn_k.bias", qwen2, 1, { KV, 1 } },
        { qwen3 ? "" : "attn_v.bias", qwen2, 1, { KV, 1 } },
        /* qwen3's per-head RMS norms of q and k */
        { qwen3 ? "attn_q_norm.weight" : "", qwen3, 1, { HD, 1 } },
        { qwen3 ? "attn_k_norm.weight" : "", qwen3, 1, { HD, 1 } },
    };
    if (check_tensors(g, hp, top, sizeof top / sizeof top[0], layer, sizeof layer / sizeof layer[0], err)) return -1;
    /* Biases go with all three projections or none: one alone is a damaged or foreign file. */
    if (!qwen3) {
        int n_bias = 0;
        for (uint32_t l = 0; l < hp->n_layer; l++)
            n_bias += (plume_llama_tensor(g, (int)l, "attn_q.bias") != NULL) +
                      (plume_llama_tensor(g, (int)l, "attn_k.bias") != NULL) +
                      (plume_llama_tensor(g, (int)l, "attn_v.bias") != NULL);
        if (n_bias && n_bias != 3 * (int)hp->n_layer)
            return plume_fail(err, "%s: %d of the %u attn_q/k/v.bias tensors are present; plume needs all of them "
                                   "or none",
                              g->path, n_bias, 3 * hp->n_layer);
        hp->qkv_bias = n_bias != 0;
    }
    hp->qk_norm = qwen3;
    return 0;
}
