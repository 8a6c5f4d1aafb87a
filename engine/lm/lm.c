/* Models shared by path, and tokens.
 *
 * The registry: a list of loaded models keyed by realpath, each with a reference
 * count, and the one device they all live on (opened with the first model, closed
 * with the last). A second lock serialises use of the device, which the gpu layer
 * allows from one thread at a time. Generation is in generate.c, embeddings in embed.c. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "embed_cache.h"
#include "lm_internal.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t gpu_lock = PTHREAD_MUTEX_INITIALIZER;
static plume_lm *registry;
static plume_gpu *shared_gpu;
static int gpu_users;

void lm_gpu_lock(void) {
    pthread_mutex_lock(&gpu_lock);
}

void lm_gpu_unlock(void) {
    pthread_mutex_unlock(&gpu_lock);
}

/* ---- loading and sharing ------------------------------------------------------ */

/* The bound of each model's embedding cache: PLUME_EMBED_CACHE_MB MiB (256 when unset). */
static int embed_cache_bytes(uint64_t *bytes, plume_error *err) {
    const char *v = getenv("PLUME_EMBED_CACHE_MB");
    *bytes = 256ull << 20;
    if (!v || !*v) return 0;
    char *end = NULL;
    long long mb = strtoll(v, &end, 10);
    if (*end || mb < 1 || mb > (1ll << 30))
        return plume_fail(err, "PLUME_EMBED_CACHE_MB=%s: not a whole number of MiB from 1 to 2^30 (hint: 256, the "
                               "default, holds about 200,000 embeddings of a 256-wide model)", v);
    *bytes = (uint64_t)mb << 20;
    return 0;
}

/* One model fewer on the shared device: the last one closes it. With registry_lock held. */
static void drop_gpu_user(void) {
    if (--gpu_users == 0) {
        plume_gpu_close(shared_gpu);
        shared_gpu = NULL;
    }
}

/* Frees a built model's device state and its share of the device. With registry_lock held. */
static void unload_model(plume_lm *lm) {
    lm_gpu_lock();
    lm_model_free(lm);
    lm_gpu_unlock();
    drop_gpu_user();
}

plume_lm *plume_lm_acquire(const char *path, plume_error *err) {
    char *real = realpath(path, NULL);
    if (!real) {
        plume_fail(err, "%s: cannot open the model file (no such file, or not readable)", path);
        return NULL;
    }
    pthread_mutex_lock(&registry_lock);
    for (plume_lm *m = registry; m; m = m->next)
        if (!strcmp(m->path, real)) {
            m->refs++;
            pthread_mutex_unlock(&registry_lock);
            free(real);
            return m;
        }
    plume_lm *lm = calloc(1, sizeof *lm);
    if (!lm) {
        pthread_mutex_unlock(&registry_lock);
        free(real);
        plume_fail(err, "%s: out of memory", path);
        return NULL;
    }
    lm->path = real;
    uint64_t cache_bytes = 0;
    if (embed_cache_bytes(&cache_bytes, err)) goto fail;
    if (!shared_gpu && !(shared_gpu = plume_gpu_open(err))) {
        plume_fail_prefix(err, "loading %s: ", path);
        goto fail;
    }
    gpu_users++;
    lm->gpu = shared_gpu;
    lm_gpu_lock();
    int rc = lm_model_build(lm, real, err);
    lm_gpu_unlock();
    if (rc) {
        drop_gpu_user();
        goto fail;
    }
    if (!(lm->embed_cache = lm_embed_cache_new(lm->info.dim, cache_bytes))) {
        plume_fail(err, "%s: out of memory", path);
        unload_model(lm);
        goto fail;
    }
    lm->refs = 1;
    lm->next = registry;
    registry = lm;
    pthread_mutex_unlock(&registry_lock);
    return lm;
fail:
    pthread_mutex_unlock(&registry_lock);
    free(lm->path);
    free(lm);
    return NULL;
}

void plume_lm_release(plume_lm *lm) {
    if (!lm) return;
    pthread_mutex_lock(&registry_lock);
    if (--lm->refs > 0) {
        pthread_mutex_unlock(&registry_lock);
        return;
    }
    for (plume_lm **p = &registry; *p; p = &(*p)->next)
        if (*p == lm) {
            *p = lm->next;
            break;
        }
    unload_model(lm);
    pthread_mutex_unlock(&registry_lock);
    lm_embed_cache_free(lm->embed_cache);
    free(lm->embed_file);
    free(lm->path);
    free(lm);
}

/* ---- tokens --------------------------------------------------------------------- */

int lm_no_tokenizer(const plume_lm *lm, plume_error *err) {
    if (lm->tok_error) return plume_fail(err, "%s; hint: token ids still work (plume perplexity --ids)", lm->tok_error);
    return plume_fail(err, "%s: the model file has no tokenizer (tokenizer.ggml.*)", lm->path);
}

int plume_lm_tokenize(plume_lm *lm, const char *text, int add_bos, int32_t *out, int max, plume_error *err) {
    return plume_lm_tokenize_special(lm, text, add_bos, 0, out, max, err);
}

int plume_lm_tokenize_special(plume_lm *lm, const char *text, int add_bos, int parse_special, int32_t *out, int max,
                              plume_error *err) {
    if (!lm->tok) return lm_no_tokenizer(lm, err);
    int32_t *ids = NULL;
    size_t n = 0;
    if (plume_tokenize_with(lm->tok, text, strlen(text), parse_special ? PLUME_TOKENIZE_PARSE_SPECIAL : 0, &ids, &n, err))
        return -1;
    if (add_bos < 0) add_bos = plume_tokenizer_adds_bos(lm->tok);
    /* a text that already starts with the BOS token (a chat template wrote it) gets no second one */
    int bos = add_bos && lm->info.bos >= 0 && !(n > 0 && ids[0] == lm->info.bos);
    if (n + (size_t)bos > (size_t)1 << 30) {
        free(ids);
        return plume_fail(err, "%s: the text is too long to tokenize (%zu tokens)", lm->path, n);
    }
    int total = (int)n + bos, at = 0;
    if (bos && at < max) out[at++] = lm->info.bos;
    for (size_t i = 0; i < n && at < max; i++) out[at++] = ids[i];
    free(ids);
    return total;
}

int32_t *lm_tokenize_alloc(plume_lm *lm, const char *text, int add_bos, int parse_special, int *n, plume_error *err) {
    int need = plume_lm_tokenize_special(lm, text, add_bos, parse_special, NULL, 0, err);
    if (need < 0) return NULL;
    if (need == 0 && lm->info.bos >= 0) {  /* nothing to start from: start from BOS */
        add_bos = 1;
        need = 1;
    }
    int32_t *t = malloc((size_t)(need > 0 ? need : 1) * sizeof *t);
    if (!t) {
        plume_fail(err, "%s: out of memory for %d tokens", lm->path, need);
        return NULL;
    }
    plume_lm_tokenize_special(lm, text, add_bos, parse_special, t, need, err);
    *n = need;
    return t;
}

int plume_lm_is_eog(const plume_lm *lm, int32_t token) {
    if (lm->tok) return plume_tokenizer_is_eog(lm->tok, token);
    return token >= 0 && token == lm->info.eos;
}

int lm_strbuf_add(lm_strbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

int lm_append_pieces(plume_lm *lm, lm_strbuf *b, int32_t prev, const int32_t *tokens, int n) {
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        const char *p = plume_token_piece(lm->tok, prev, tokens[i], &len);
        if (p && len && lm_strbuf_add(b, p, len)) return -1;
        prev = tokens[i];
    }
    if (!b->s && lm_strbuf_add(b, "", 0)) return -1;
    return 0;
}

char *plume_lm_detokenize(plume_lm *lm, const int32_t *tokens, int n, int after_bos, plume_error *err) {
    if (!lm->tok) {
        lm_no_tokenizer(lm, err);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= plume_tokenizer_n_vocab(lm->tok)) {
            plume_fail(err, "%s: token %d (at %d) is not in the tokenizer's vocabulary", lm->path, tokens[i], i);
            return NULL;
        }
    lm_strbuf b = { 0 };
    /* The tokenizer drops the dummy-prefix space after BOS or when prev < 0. Without a
     * BOS before, any other id keeps it; tokens[0] is one (were it BOS, its piece is empty). */
    int32_t prev = after_bos ? lm->info.bos : n ? tokens[0] : -1;
    if (lm_append_pieces(lm, &b, prev, tokens, n)) {
        free(b.s);
        plume_fail(err, "%s: out of memory detokenizing %d tokens", lm->path, n);
        return NULL;
    }
    return b.s;
}

/* ---- the device, for benchmarks ------------------------------------------------------ */

const char *plume_lm_device_name(const plume_lm *lm) {
    return plume_gpu_device_info(lm->gpu)->name;
}

int plume_lm_device_bandwidth(plume_lm *lm, uint64_t bytes, int repeat, double *gbps, plume_error *err) {
    lm_gpu_lock();
    int rc = plume_gpu_measure_bandwidth(lm->gpu, bytes, repeat, gbps, err);
    lm_gpu_unlock();
    return rc;
}

