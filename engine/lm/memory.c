/* A personal memory: what followed the current suffix in a user's own texts.
 *
 * The texts are tokenized with the model's tokenizer and laid end to end, each followed by a
 * boundary no match crosses. For every n-gram length L in min_match..max_match an index holds,
 * sorted by hash, every position whose preceding L tokens lie inside one text. A query hashes
 * the last L tokens of the history (prompt, then what was generated), longest L first, and
 * looks the hash up; the candidates are checked token by token (hashes may collide). The first L
 * with a match wins: the next tokens after all its occurrences, counted, are the distribution
 * (the most frequent PLUME_MIX_MAX). This is the "continuous cache" of Grave et al. (2017) and
 * kNN-LM of Khandelwal et al. (2020) with exact suffix matches for neighbours: it needs no
 * embeddings, so it works with any model. */
#include <stdlib.h>
#include <string.h>
#include "lm_internal.h"

typedef struct gram {
    uint64_t hash;
    uint32_t at;   /* the position after the gram: its next token is tokens[at] */
} gram;

struct plume_memory {
    plume_memory_params p;
    int32_t *tokens;    /* the texts, each followed by -1 */
    size_t n;
    gram **index;       /* [max_match - min_match + 1], each sorted by hash */
    size_t *count;
    int median;         /* the texts' median length in tokens */
    int32_t out_tokens[PLUME_MIX_MAX];
    float out_probs[PLUME_MIX_MAX];
};

static uint64_t hash_step(uint64_t h, int32_t t) { return (h ^ (uint64_t)(uint32_t)t) * 0x100000001b3ull; }

static uint64_t hash_gram(const int32_t *t, int len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < len; i++) h = hash_step(h, t[i]);
    return h;
}

static int by_hash(const void *a, const void *b) {
    const gram *x = a, *y = b;
    return x->hash < y->hash ? -1 : x->hash > y->hash ? 1 : x->at < y->at ? -1 : x->at > y->at;
}

static int by_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void plume_memory_params_default(plume_memory_params *p) {
    *p = (plume_memory_params){ .weight = 0.5f, .min_match = 3, .max_match = 16 };
}

void plume_memory_free(plume_memory *m) {
    if (!m) return;
    for (int l = 0; m->index && l <= m->p.max_match - m->p.min_match; l++) free(m->index[l]);
    free(m->index);
    free(m->count);
    free(m->tokens);
    free(m);
}

plume_memory *plume_memory_create(plume_lm *lm, const char *const *texts, const size_t *lens, int n_texts,
                                  const plume_memory_params *params, plume_error *err) {
    plume_memory_params p;
    if (params) p = *params;
    else plume_memory_params_default(&p);
    if (p.min_match < 1 || p.max_match < p.min_match || p.max_match > 64 || !(p.weight >= 0 && p.weight < 1)) {
        plume_fail(err, "%s: memory: min_match %d, max_match %d and weight %g are out of range (1 <= min_match <= "
                        "max_match <= 64, weight in [0, 1))", lm->path, p.min_match, p.max_match, p.weight);
        return NULL;
    }
    if (!lm->tok) {
        lm_no_tokenizer(lm, err);
        plume_fail_prefix(err, "memory: ");
        return NULL;
    }
    plume_memory *m = calloc(1, sizeof *m);
    if (!m) goto oom;
    m->p = p;
    size_t cap = 0;
    int *lengths_of = calloc(n_texts > 0 ? (size_t)n_texts : 1, sizeof *lengths_of);
    if (!lengths_of) goto oom;
    for (int i = 0; i < n_texts; i++) {
        int32_t *ids = NULL;
        size_t k = 0;
        if (plume_tokenize(lm->tok, texts[i], lens[i], false, &ids, &k, err)) {
            plume_fail_prefix(err, "%s: memory text %d: ", lm->path, i);
            free(lengths_of);
            plume_memory_free(m);
            return NULL;
        }
        if (m->n + k + 1 > cap || !m->tokens) {
            size_t nc = (m->n + k + 1) * 2;
            int32_t *nt = realloc(m->tokens, nc * sizeof *nt);
            if (!nt || nc > UINT32_MAX) {
                free(ids);
                free(lengths_of);
                goto oom;
            }
            m->tokens = nt;
            cap = nc;
        }
        memcpy(m->tokens + m->n, ids, k * sizeof *ids);
        m->n += k;
        m->tokens[m->n++] = -1;
        lengths_of[i] = (int)k;
        free(ids);
    }
    qsort(lengths_of, (size_t)n_texts, sizeof *lengths_of, by_int);
    m->median = n_texts ? lengths_of[n_texts / 2] : 0;
    free(lengths_of);
    int lengths = p.max_match - p.min_match + 1;
    m->index = calloc((size_t)lengths, sizeof *m->index);
    m->count = calloc((size_t)lengths, sizeof *m->count);
    if (!m->index || !m->count) goto oom;
    for (int l = 0; l < lengths; l++) {
        int L = p.min_match + l;
        if (!(m->index[l] = malloc((m->n ? m->n : 1) * sizeof **m->index))) goto oom;
        /* a gram ends at at - 1, lies inside one text (no -1 in it) and has a next token */
        int run = 0;   /* tokens since the last boundary */
        for (size_t at = 0; at < m->n; at++) {
            if (run >= L && m->tokens[at] >= 0)
                m->index[l][m->count[l]++] = (gram){ hash_gram(m->tokens + at - L, L), (uint32_t)at };
            run = m->tokens[at] < 0 ? 0 : run + 1;
        }
        qsort(m->index[l], m->count[l], sizeof **m->index, by_hash);
    }
    return m;
oom:
    plume_memory_free(m);
    plume_fail(err, "%s: out of memory for a personal memory of %d texts", lm->path, n_texts);
    return NULL;
}

/* The history's token i (counted from its end: back 1 is the last), across prompt and gen. */
static int32_t back(const int32_t *a, int na, const int32_t *b, int nb, int k) {
    return k <= nb ? b[nb - k] : a[na - (k - nb)];
}

int plume_memory_next(plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                      plume_mix *mix) {
    *mix = (plume_mix){ 0 };
    if (m->p.weight == 0) return 0;
    int have = n_prompt + n_gen;
    int32_t q[64];
    for (int L = m->p.max_match < have ? m->p.max_match : have; L >= m->p.min_match; L--) {
        for (int i = 0; i < L; i++) q[i] = back(prompt, n_prompt, gen, n_gen, L - i);
        uint64_t h = hash_gram(q, L);
        const gram *g = m->index[L - m->p.min_match];
        size_t lo = 0, hi = m->count[L - m->p.min_match];
        while (lo < hi) {   /* the first gram with this hash */
            size_t mid = lo + (hi - lo) / 2;
            if (g[mid].hash < h) lo = mid + 1;
            else hi = mid;
        }
        int n = 0;
        float *c = m->out_probs;
        for (size_t k = lo; k < m->count[L - m->p.min_match] && g[k].hash == h; k++) {
            if (memcmp(m->tokens + g[k].at - L, q, (size_t)L * sizeof *q)) continue;   /* a collision */
            int32_t next = m->tokens[g[k].at];
            int j = 0;
            while (j < n && m->out_tokens[j] != next) j++;
            if (j < n) {
                c[j] += 1;
            } else if (n < PLUME_MIX_MAX) {
                m->out_tokens[n] = next;
                c[n++] = 1;
            }
        }
        if (n) {
            *mix = (plume_mix){ n, m->out_tokens, m->out_probs, m->p.weight };
            return L;
        }
    }
    return 0;
}

int plume_memory_median_tokens(const plume_memory *m) { return m->median; }

size_t plume_memory_tokens(const plume_memory *m) {
    size_t texts = 0;
    for (size_t i = 0; i < m->n; i++) texts += m->tokens[i] < 0;
    return m->n - texts;
}
