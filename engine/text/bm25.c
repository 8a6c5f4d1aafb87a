/* Okapi BM25 over a small document set: an inverted index built per request.
 *
 * Each document's terms become sorted (term id, tf) pairs; postings list, per term, the
 * documents holding it. Scoring a query walks only the postings of its distinct terms,
 * so a profile of thousands of documents costs the size of those postings, not N × |Q|. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plume/text.h"

typedef struct posting { size_t doc; unsigned tf; } posting;

struct plume_bm25 {
    plume_vocab *vocab;
    size_t n_docs;
    double k1, b, avgdl;
    double *doc_len;        /* |D| per document */
    size_t *post_start;     /* post_start[id] .. post_start[id + 1]: postings of term id */
    posting *post;
};

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

void plume_bm25_free(plume_bm25 *idx) {
    if (!idx) return;
    plume_vocab_free(idx->vocab);
    free(idx->doc_len);
    free(idx->post_start);
    free(idx->post);
    free(idx);
}

plume_bm25 *plume_bm25_build(const plume_words *docs, size_t n, double k1, double b, plume_error *err) {
    if (!(k1 >= 0) || !(b >= 0 && b <= 1)) {
        plume_fail(err, "bm25: k1 = %g and b = %g are out of range (hint: k1 >= 0, 0 <= b <= 1; the usual values are 1.2 and 0.75)", k1, b);
        return NULL;
    }
    plume_bm25 *idx = calloc(1, sizeof *idx);
    long **ids = calloc(n ? n : 1, sizeof *ids);
    size_t total = 0;
    if (!idx || !ids || !(idx->vocab = plume_vocab_new()) ||
        !(idx->doc_len = calloc(n ? n : 1, sizeof *idx->doc_len)))
        goto oom;
    idx->n_docs = n;
    idx->k1 = k1;
    idx->b = b;
    /* pass 1: term ids per document, sorted so equal terms are adjacent */
    for (size_t d = 0; d < n; d++) {
        size_t m = docs[d].count;
        idx->doc_len[d] = (double)m;
        total += m;
        if (!m) continue;
        if (!(ids[d] = malloc(m * sizeof **ids))) goto oom;
        for (size_t i = 0; i < m; i++) {
            if ((ids[d][i] = plume_vocab_id(idx->vocab, plume_word(&docs[d], i), plume_word_len(&docs[d], i), 1)) < 0) goto oom;
        }
        qsort(ids[d], m, sizeof **ids, cmp_long);
    }
    idx->avgdl = n ? (double)total / (double)n : 0.0;
    /* pass 2: count postings per term, then fill them (documents come out in order) */
    size_t V = plume_vocab_size(idx->vocab);
    if (!(idx->post_start = calloc(V + 1, sizeof *idx->post_start))) goto oom;
    size_t n_post = 0;
    for (size_t d = 0; d < n; d++)
        for (size_t i = 0; i < docs[d].count; i++)
            if (i == 0 || ids[d][i] != ids[d][i - 1]) {
                idx->post_start[ids[d][i] + 1]++;
                n_post++;
            }
    for (size_t t = 0; t < V; t++) idx->post_start[t + 1] += idx->post_start[t];
    if (!(idx->post = malloc((n_post ? n_post : 1) * sizeof *idx->post))) goto oom;
    size_t *fill = malloc((V ? V : 1) * sizeof *fill);
    if (!fill) goto oom;
    memcpy(fill, idx->post_start, V * sizeof *fill);
    for (size_t d = 0; d < n; d++) {
        size_t m = docs[d].count;
        for (size_t i = 0; i < m;) {
            size_t j = i;
            while (j < m && ids[d][j] == ids[d][i]) j++;
            idx->post[fill[ids[d][i]]++] = (posting){ d, (unsigned)(j - i) };
            i = j;
        }
    }
    free(fill);
    for (size_t d = 0; d < n; d++) free(ids[d]);
    free(ids);
    return idx;
oom:
    if (ids)
        for (size_t d = 0; d < n; d++) free(ids[d]);
    free(ids);
    plume_bm25_free(idx);
    plume_fail(err, "bm25: out of memory indexing %zu documents", n);
    return NULL;
}

int plume_bm25_score(const plume_bm25 *idx, const plume_words *query, double *scores) {
    for (size_t d = 0; d < idx->n_docs; d++) scores[d] = 0.0;
    if (idx->n_docs == 0 || query->count == 0) return 0;
    long *q = malloc(query->count * sizeof *q);
    if (!q) return -1;
    size_t nq = 0;
    for (size_t i = 0; i < query->count; i++) {
        long id = plume_vocab_id(idx->vocab, plume_word(query, i), plume_word_len(query, i), 0);
        if (id >= 0) q[nq++] = id;
    }
    qsort(q, nq, sizeof *q, cmp_long);
    double k1 = idx->k1, b = idx->b;
    for (size_t i = 0; i < nq; i++) {
        if (i > 0 && q[i] == q[i - 1]) continue;   /* distinct query terms */
        size_t from = idx->post_start[q[i]], to = idx->post_start[q[i] + 1];
        double idf = plume_idf_bm25(idx->n_docs, to - from);
        for (size_t p = from; p < to; p++) {
            double tf = idx->post[p].tf;
            double norm = idx->avgdl > 0 ? idx->doc_len[idx->post[p].doc] / idx->avgdl : 0.0;
            scores[idx->post[p].doc] += idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * norm));
        }
    }
    free(q);
    return 0;
}
