/* The persistent embedding cache: a model's cache saved to a file the user names, so that a
 * later run over the same texts embeds nothing again.
 *
 * The file (all integers and floats little-endian):
 *   header, 64 bytes:
 *     0  "PLUMEEMB"          magic
 *     8  u32 version         EMBED_FILE_VERSION; bumped whenever what an embedding is
 *                            (pooling, normalisation, truncation) or this layout changes
 *    12  u32 dim             the vectors' width
 *    16  u64 model id        lm_hash64 of the whole GGUF file: its metadata and its tensors
 *    24  u64 model bytes     the GGUF file's size
 *    32  u64 entries
 *    40  u64 payload bytes   what follows the header, exactly
 *    48  u64 payload hash    lm_hash64 of it
 *    56  u64 header hash     lm_hash64 of bytes 0..55
 *   then each entry: u32 text length, the text's bytes, dim f32.
 * Entries are written least recently used first, so reading them back in order restores the
 * order of use. A file that is not one of these, is cut short or fails a checksum is refused
 * (it may be something else the user meant to keep: it is never overwritten); a valid file
 * of another model, width or version is ignored with a warning and replaced at the end. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "embed_cache.h"
#include "lm_internal.h"
#include "plume/file.h"

#define EMBED_FILE_MAGIC "PLUMEEMB"
#define EMBED_FILE_VERSION 1u
#define HEADER_BYTES 64
#define REFUSED_HINT "hint: name another file, or delete this one if it is an embedding cache to rebuild"

/* Attach and detach come from stage create and destroy, one graph at a time, but nothing
 * forbids two graphs in two threads: the binding has a lock of its own. */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static void put_f32(unsigned char *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}
static float get_f32(const unsigned char *p) {
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The model's identity: the hash and size of its whole GGUF file, computed once. */
static int model_identity(plume_lm *lm, plume_error *err) {
    if (lm->model_bytes) return 0;
    FILE *f = fopen(lm->path, "rb");
    if (!f) return plume_fail(err, "%s: cannot read the model file to identify it: %s", lm->path, strerror(errno));
    enum { CHUNK = 1 << 20 };   /* a multiple of 8: lm_hash64 chains over it */
    unsigned char *buf = malloc(CHUNK);
    uint64_t h = LM_HASH64_SEED, total = 0;
    size_t got;
    if (!buf) {
        fclose(f);
        return plume_fail(err, "%s: out of memory", lm->path);
    }
    while ((got = fread(buf, 1, CHUNK, f)) > 0) {
        h = lm_hash64(h, buf, got);
        total += got;
        if (got < CHUNK) break;
    }
    int bad = ferror(f);
    free(buf);
    fclose(f);
    if (bad || total == 0) return plume_fail(err, "%s: cannot read the model file to identify it", lm->path);
    lm->model_id = h;
    lm->model_bytes = total;
    return 0;
}

/* Reads path into a malloc'd buffer. 0; 1 when the file does not exist; -1 with err. */
static int read_whole(const char *path, unsigned char **data, size_t *size, plume_error *err) {
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 1;
        return plume_fail(err, "%s: cannot read the embedding cache: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        return plume_fail(err, "%s: the embedding cache is not a regular file (%s)", path, REFUSED_HINT);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *p = malloc(n ? n : 1);
    if (!p) {
        fclose(f);
        return plume_fail(err, "%s: out of memory reading the embedding cache (%zu bytes)", path, n);
    }
    size_t got = fread(p, 1, n, f);
    int bad = ferror(f) || got != n;
    fclose(f);
    if (bad) {
        free(p);
        return plume_fail(err, "%s: cannot read the embedding cache", path);
    }
    *data = p;
    *size = n;
    return 0;
}

/* Checks the entries of a payload without storing them: 0, or -1 with err naming the entry. */
static int check_entries(const char *path, const unsigned char *p, size_t bytes, uint64_t count, int dim,
                         plume_error *err) {
    size_t at = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (bytes - at < 4)
            return plume_fail(err, "%s: entry %llu of %llu is cut short (%s)", path, (unsigned long long)i + 1,
                              (unsigned long long)count, REFUSED_HINT);
        uint32_t len = get_u32(p + at);
        at += 4;
        if (len > bytes - at || (uint64_t)dim * 4 > bytes - at - len)
            return plume_fail(err, "%s: entry %llu of %llu runs past the end of the file (%s)", path,
                              (unsigned long long)i + 1, (unsigned long long)count, REFUSED_HINT);
        if (memchr(p + at, 0, len))
            return plume_fail(err, "%s: entry %llu's text holds a NUL byte (%s)", path, (unsigned long long)i + 1,
                              REFUSED_HINT);
        at += len;
        for (int d = 0; d < dim; d++)
            if (!isfinite(get_f32(p + at + 4 * (size_t)d)))
                return plume_fail(err, "%s: entry %llu's vector holds a NaN or infinity (%s)", path,
                                  (unsigned long long)i + 1, REFUSED_HINT);
        at += (size_t)dim * 4;
    }
    if (at != bytes)
        return plume_fail(err, "%s: %zu bytes follow the %llu entries the header announces (%s)", path, bytes - at,
                          (unsigned long long)count, REFUSED_HINT);
    return 0;
}

/* Reads the file into lm's cache. 0 (also when it does not exist), 1 (ignored: err says why),
 * -1 (refused: err says why). */
static int load_file(plume_lm *lm, const char *path, plume_error *err) {
    unsigned char *data = NULL;
    size_t size = 0;
    int rc = read_whole(path, &data, &size, err);
    if (rc) return rc > 0 ? 0 : -1;
    const int dim = lm->info.dim;
    if (size < 8 || memcmp(data, EMBED_FILE_MAGIC, 8)) {
        plume_fail(err, "%s: not a plume embedding cache (it does not start with \"%s\"; %s)", path, EMBED_FILE_MAGIC,
                   REFUSED_HINT);
        goto refused;
    }
    if (size < HEADER_BYTES) {
        plume_fail(err, "%s: truncated: %zu bytes, less than the %d of the header (%s)", path, size, HEADER_BYTES,
                   REFUSED_HINT);
        goto refused;
    }
    if (get_u64(data + 56) != lm_hash64(LM_HASH64_SEED, data, 56)) {
        plume_fail(err, "%s: the header's checksum does not match: the file is damaged (%s)", path, REFUSED_HINT);
        goto refused;
    }
    uint32_t version = get_u32(data + 8), file_dim = get_u32(data + 12);
    uint64_t model_id = get_u64(data + 16), model_bytes = get_u64(data + 24), count = get_u64(data + 32),
             payload = get_u64(data + 40), payload_hash = get_u64(data + 48);
    if (version != EMBED_FILE_VERSION) {
        plume_fail(err, "%s: an embedding cache of format version %u (this plume writes %u): ignored, and replaced "
                        "at the end of the run", path, version, EMBED_FILE_VERSION);
        free(data);
        return 1;
    }
    if (model_id != lm->model_id || model_bytes != lm->model_bytes || file_dim != (uint32_t)dim) {
        plume_fail(err, "%s: embeddings of another model (id %016llx, %llu bytes, width %u; %s is %016llx, %llu "
                        "bytes, width %d): ignored, and replaced at the end of the run", path,
                   (unsigned long long)model_id, (unsigned long long)model_bytes, file_dim, lm->path,
                   (unsigned long long)lm->model_id, (unsigned long long)lm->model_bytes, dim);
        free(data);
        return 1;
    }
    if (payload != size - HEADER_BYTES) {
        plume_fail(err, "%s: %s: %zu bytes of entries where the header announces %llu (%s)", path,
                   payload > size - HEADER_BYTES ? "truncated" : "bytes appended", size - HEADER_BYTES,
                   (unsigned long long)payload, REFUSED_HINT);
        goto refused;
    }
    const unsigned char *p = data + HEADER_BYTES;
    if (lm_hash64(LM_HASH64_SEED, p, (size_t)payload) != payload_hash) {
        plume_fail(err, "%s: the entries' checksum does not match: the file is damaged (%s)", path, REFUSED_HINT);
        goto refused;
    }
    if (check_entries(path, p, (size_t)payload, count, dim, err)) goto refused;
    float *v = malloc((size_t)dim * sizeof *v);
    if (!v) {
        plume_fail(err, "%s: out of memory", path);
        goto refused;
    }
    size_t at = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t len = get_u32(p + at);
        const char *text = (const char *)p + at + 4;
        at += 4 + len;
        for (int d = 0; d < dim; d++) v[d] = get_f32(p + at + 4 * (size_t)d);
        at += (size_t)dim * 4;
        if (lm_embed_cache_put(lm->embed_cache, text, len, v) < 0) {
            free(v);
            plume_fail(err, "%s: out of memory reading entry %llu", path, (unsigned long long)i + 1);
            goto refused;
        }
    }
    free(v);
    atomic_fetch_add(&lm_embed_count_loaded, (unsigned long long)count);
    free(data);
    return 0;
refused:
    free(data);
    return -1;
}

int plume_lm_embed_cache_attach(plume_lm *lm, const char *path, plume_error *err) {
    if (!path || !*path || !strcmp(path, "-"))
        return plume_fail(err, "%s: the embedding cache needs a file name (got \"%s\")", lm->path, path ? path : "");
    pthread_mutex_lock(&file_lock);
    int rc = 0;
    if (lm->embed_file) {
        if (strcmp(lm->embed_file, path))
            rc = plume_fail(err, "%s: its embeddings are cached in %s already; one model keeps one cache file (hint: "
                                 "name the same file in every stage that uses this model)",
                            lm->path, lm->embed_file);
        else lm->embed_file_users++;
        goto done;
    }
    if (model_identity(lm, err)) {
        rc = -1;
        goto done;
    }
    int had = lm_embed_cache_count(lm->embed_cache) > 0;
    rc = load_file(lm, path, err);
    if (rc < 0) goto done;
    if (!(lm->embed_file = strdup(path))) {
        rc = plume_fail(err, "%s: out of memory", path);
        goto done;
    }
    lm->embed_file_users = 1;
    /* entries the process had before are not in the file yet */
    atomic_store(&lm->embed_added, had ? 1 : 0);
done:
    pthread_mutex_unlock(&file_lock);
    return rc;
}

typedef struct writer {
    unsigned char *p;
    size_t len, cap;
    uint64_t count;
    int dim;
} writer;

static int add_entry(void *user, const char *text, size_t len, const float *vec) {
    writer *w = user;
    if (len > UINT32_MAX) return 0;   /* no text this long is ever embedded whole; skip it */
    size_t need = 4 + len + (size_t)w->dim * 4;
    if (w->len + need > w->cap) {
        size_t cap = w->cap ? w->cap : 1 << 16;
        while (cap < w->len + need) cap *= 2;
        unsigned char *p = realloc(w->p, cap);
        if (!p) return -1;
        w->p = p;
        w->cap = cap;
    }
    put_u32(w->p + w->len, (uint32_t)len);
    memcpy(w->p + w->len + 4, text, len);
    for (int d = 0; d < w->dim; d++) put_f32(w->p + w->len + 4 + len + 4 * (size_t)d, vec[d]);
    w->len += need;
    w->count++;
    return 0;
}

/* Writes lm's cache to path whole or not at all (plume_output_file). 0, or -1 with err and
 * path as it was. */
static int save_file(plume_lm *lm, const char *path, plume_error *err) {
    writer w = { .p = NULL, .dim = lm->info.dim };
    w.cap = HEADER_BYTES;
    if (!(w.p = calloc(1, w.cap))) return plume_fail(err, "%s: out of memory writing the embedding cache", path);
    w.len = HEADER_BYTES;
    if (lm_embed_cache_each(lm->embed_cache, add_entry, &w)) {
        free(w.p);
        return plume_fail(err, "%s: out of memory writing the embedding cache", path);
    }
    unsigned char *h = w.p;
    memcpy(h, EMBED_FILE_MAGIC, 8);
    put_u32(h + 8, EMBED_FILE_VERSION);
    put_u32(h + 12, (uint32_t)w.dim);
    put_u64(h + 16, lm->model_id);
    put_u64(h + 24, lm->model_bytes);
    put_u64(h + 32, w.count);
    put_u64(h + 40, w.len - HEADER_BYTES);
    put_u64(h + 48, lm_hash64(LM_HASH64_SEED, w.p + HEADER_BYTES, w.len - HEADER_BYTES));
    put_u64(h + 56, lm_hash64(LM_HASH64_SEED, h, 56));

    plume_output_file out;
    int rc = plume_output_open(&out, path, err);
    if (rc == 0) {
        if (fwrite(w.p, 1, w.len, out.f) != w.len) {
            plume_output_abort(&out);
            rc = plume_fail(err, "%s: cannot write the embedding cache: %s (the file is as it was)", path,
                            strerror(errno));
        } else {
            rc = plume_output_commit(&out, err);
        }
    }
    if (rc) plume_fail_prefix(err, "embedding cache: ");
    free(w.p);
    return rc ? -1 : 0;
}

int plume_lm_embed_cache_detach(plume_lm *lm, plume_error *err) {
    pthread_mutex_lock(&file_lock);
    int rc = 0;
    if (lm->embed_file && --lm->embed_file_users == 0) {
        if (atomic_load(&lm->embed_added) > 0) rc = save_file(lm, lm->embed_file, err);
        if (rc == 0) atomic_store(&lm->embed_added, 0);
        free(lm->embed_file);
        lm->embed_file = NULL;
    }
    pthread_mutex_unlock(&file_lock);
    return rc;
}
