/* The in-memory embedding cache: a chained hash table over entries that also sit on one
 * list in order of use (most recent at the head), so that the bound in bytes evicts the
 * least recently used. One mutex guards everything: lookups are a hash and a memcmp, far
 * cheaper than the forward pass they save, so finer locking would buy nothing. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "embed_cache.h"

typedef struct entry {
    struct entry *next_in_bucket;
    struct entry *newer, *older;   /* the list of use */
    uint64_t hash;
    size_t len;
    float *vec;                    /* dim floats, inside this allocation */
    char text[];                   /* len bytes and a NUL, then (aligned) the vector */
} entry;

struct lm_embed_cache {
    pthread_mutex_t lock;
    int dim;
    uint64_t max_bytes, bytes;
    entry **buckets;
    size_t n_buckets, count;       /* n_buckets: a power of two */
    entry *newest, *oldest;
};

uint64_t lm_hash64(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = 0;
        for (int k = 7; k >= 0; k--) w = w << 8 | p[i + (size_t)k];
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < len; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

uint64_t lm_hash64_mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static size_t vec_offset(size_t len) {
    size_t at = offsetof(entry, text) + len + 1;
    return (at + sizeof(float) - 1) / sizeof(float) * sizeof(float);
}

static uint64_t entry_bytes(const lm_embed_cache *c, size_t len) {
    return vec_offset(len) + (uint64_t)c->dim * sizeof(float);
}

lm_embed_cache *lm_embed_cache_new(int dim, uint64_t max_bytes) {
    lm_embed_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->dim = dim;
    c->max_bytes = max_bytes;
    c->n_buckets = 1024;
    if (!(c->buckets = calloc(c->n_buckets, sizeof *c->buckets))) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void clear_locked(lm_embed_cache *c) {
    for (entry *e = c->newest, *next; e; e = next) {
        next = e->older;
        free(e);
    }
    memset(c->buckets, 0, c->n_buckets * sizeof *c->buckets);
    c->newest = c->oldest = NULL;
    c->count = 0;
    c->bytes = 0;
}

void lm_embed_cache_free(lm_embed_cache *c) {
    if (!c) return;
    clear_locked(c);
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int lm_embed_cache_dim(const lm_embed_cache *c) {
    return c->dim;
}

static entry **bucket_of(lm_embed_cache *c, uint64_t hash) {
    return &c->buckets[lm_hash64_mix(hash) & (c->n_buckets - 1)];
}

static entry *find_locked(lm_embed_cache *c, uint64_t hash, const char *text, size_t len) {
    for (entry *e = *bucket_of(c, hash); e; e = e->next_in_bucket)
        if (e->hash == hash && e->len == len && !memcmp(e->text, text, len)) return e;
    return NULL;
}

static void unlink_use(lm_embed_cache *c, entry *e) {
    if (e->newer) e->newer->older = e->older;
    else c->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(lm_embed_cache *c, entry *e) {
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest) c->newest->newer = e;
    c->newest = e;
    if (!c->oldest) c->oldest = e;
}

static void evict_locked(lm_embed_cache *c, entry *e) {
    entry **p = bucket_of(c, e->hash);
    while (*p != e) p = &(*p)->next_in_bucket;
    *p = e->next_in_bucket;
    unlink_use(c, e);
    c->bytes -= entry_bytes(c, e->len);
    c->count--;
    free(e);
}

/* Doubles the bucket array once entries outnumber buckets; a failed allocation only leaves
 * the chains longer. */
static void grow_locked(lm_embed_cache *c) {
    if (c->count < c->n_buckets) return;
    size_t n = c->n_buckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (!b) return;
    for (entry *e = c->newest; e; e = e->older) {
        entry **slot = &b[lm_hash64_mix(e->hash) & (n - 1)];
        e->next_in_bucket = *slot;
        *slot = e;
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = n;
}

int lm_embed_cache_get(lm_embed_cache *c, const char *text, size_t len, float *out) {
    uint64_t hash = lm_hash64(LM_HASH64_SEED, text, len);
    pthread_mutex_lock(&c->lock);
    entry *e = find_locked(c, hash, text, len);
    if (e) {
        memcpy(out, e->vec, (size_t)c->dim * sizeof *out);
        unlink_use(c, e);
        push_newest(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    return e != NULL;
}

int lm_embed_cache_put(lm_embed_cache *c, const char *text, size_t len, const float *vec) {
    uint64_t hash = lm_hash64(LM_HASH64_SEED, text, len), need = entry_bytes(c, len);
    if (need > c->max_bytes) return 0;
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    if (find_locked(c, hash, text, len)) goto done;
    while (c->oldest && c->bytes + need > c->max_bytes) evict_locked(c, c->oldest);
    entry *e = malloc(need);
    if (!e) {
        rc = -1;
        goto done;
    }
    e->hash = hash;
    e->len = len;
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    e->vec = (float *)((char *)e + vec_offset(len));
    memcpy(e->vec, vec, (size_t)c->dim * sizeof *vec);
    entry **slot = bucket_of(c, hash);
    e->next_in_bucket = *slot;
    *slot = e;
    push_newest(c, e);
    c->bytes += need;
    c->count++;
    grow_locked(c);
    rc = 1;
done:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void lm_embed_cache_clear(lm_embed_cache *c) {
    pthread_mutex_lock(&c->lock);
    clear_locked(c);
    pthread_mutex_unlock(&c->lock);
}

size_t lm_embed_cache_count(lm_embed_cache *c) {
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

uint64_t lm_embed_cache_bytes(lm_embed_cache *c) {
    pthread_mutex_lock(&c->lock);
    uint64_t n = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return n;
}

int lm_embed_cache_each(lm_embed_cache *c, lm_embed_cache_visit visit, void *user) {
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    for (entry *e = c->oldest; e && !rc; e = e->newer) rc = visit(user, e->text, e->len, e->vec);
    pthread_mutex_unlock(&c->lock);
    return rc;
}
