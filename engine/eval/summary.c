/* Extractive summaries: SumCtxInd (TextRank over the ranked entries) and the SumCtx weak label
 * (for each snippet of the real document, the most similar unused snippet of the entries).
 * Both compare texts as term-frequency vectors of Snowball stems of non-stopword words, by
 * cosine similarity. Sentences and snippets follow PLUME_SENTENCES_PLAIN, words are split with
 * '_' as a separator and the extended stopword list is dropped (text.h): the rules these
 * summaries were built and tested with. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "plume/eval.h"
#include "plume/text.h"

/* More sentences than this are not ranked (the similarity matrix is n² doubles: 8 MiB here);
 * the paper's ranked entries are cut to 2,500 characters, some 30 sentences. */
#define SUMMARY_MAX_SENTENCES 1024
#define TEXTRANK_DAMPING 0.85
#define TEXTRANK_MAX_ITER 200
#define TEXTRANK_EPS 1e-12

/* ---- term-frequency vectors over interned stems of non-stopword words ---- */
typedef struct term_vector { uint32_t *ids; double *counts; size_t n; double norm; } term_vector;

static void term_vector_free(term_vector *tf) {
    free(tf->ids);
    free(tf->counts);
    memset(tf, 0, sizeof *tf);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The vector of s[0..len): ids sorted, so that a cosine is one merge. 0, or -1 out of memory. */
static int term_vector_build(const char *s, size_t len, plume_stemmer *st, plume_vocab *vocab, term_vector *out) {
    memset(out, 0, sizeof *out);
    plume_words w = { 0 };
    uint32_t *ids = NULL;
    if (plume_text_words_with(s, len, PLUME_WORDS_SPLIT_CONNECTORS, &w)) goto fail;
    if (!(ids = malloc((w.count ? w.count : 1) * sizeof *ids))) goto fail;
    size_t n = 0;
    for (size_t i = 0; i < w.count; i++) {
        const char *word = plume_word(&w, i);
        size_t wl = plume_word_len(&w, i), sl;
        if (plume_is_stopword_in(word, wl, PLUME_STOPWORDS_EXTENDED)) continue;
        const char *stem = plume_stem(st, word, wl, &sl);
        if (!stem) goto fail;
        long id = plume_vocab_id(vocab, stem, sl, 1);
        if (id < 0) goto fail;
        ids[n++] = (uint32_t)id;
    }
    qsort(ids, n, sizeof *ids, cmp_u32);
    out->ids = ids;
    ids = NULL;
    if (!(out->counts = malloc((n ? n : 1) * sizeof *out->counts))) goto fail;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {   /* equal ids are adjacent: count each run */
        if (k && out->ids[k - 1] == out->ids[i]) {
            out->counts[k - 1] += 1;
        } else {
            out->ids[k] = out->ids[i];
            out->counts[k++] = 1;
        }
    }
    out->n = k;
    double sq = 0;
    for (size_t i = 0; i < k; i++) sq += out->counts[i] * out->counts[i];
    out->norm = sqrt(sq);
    plume_words_free(&w);
    return 0;
fail:
    free(ids);
    term_vector_free(out);
    plume_words_free(&w);
    return -1;
}

static double term_vector_cosine(const term_vector *a, const term_vector *b) {
    if (a->norm == 0 || b->norm == 0) return 0;
    double dot = 0;
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        if (a->ids[i] < b->ids[j]) i++;
        else if (a->ids[i] > b->ids[j]) j++;
        else dot += a->counts[i++] * b->counts[j++];
    }
    return dot / (a->norm * b->norm);
}

/* ---- pieces: sentences or snippets with their vectors ---- */
typedef struct piece { const char *s; size_t len; size_t chars; term_vector tf; } piece;

typedef struct pieces { piece *items; size_t count, cap; } pieces;

static int pieces_push(pieces *p, const char *s, size_t len) {
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        piece *items = realloc(p->items, cap * sizeof *items);
        if (!items) return -1;
        p->items = items;
        p->cap = cap;
    }
    p->items[p->count++] = (piece){ s, len, plume_utf8_length(s, len), { 0 } };
    return 0;
}

static void pieces_free(pieces *p) {
    for (size_t i = 0; i < p->count; i++) term_vector_free(&p->items[i].tf);
    free(p->items);
    memset(p, 0, sizeof *p);
}

/* Splits text into sentences (snippet_chars 0) or snippets, appending pieces with vectors. */
static int split_text(const char *text, size_t snippet_chars, plume_stemmer *st, plume_vocab *vocab, pieces *out,
                      size_t max) {
    plume_spans sp = { 0 };
    size_t len = strlen(text);
    int rc = snippet_chars ? plume_text_snippets_with(text, len, snippet_chars, PLUME_SENTENCES_PLAIN, &sp)
                           : plume_text_sentences_with(text, len, PLUME_SENTENCES_PLAIN, &sp);
    for (size_t i = 0; rc == 0 && i < sp.count && out->count < max; i++) {
        rc = pieces_push(out, text + sp.items[i].start, sp.items[i].len);
        if (rc == 0) rc = term_vector_build(out->items[out->count - 1].s, sp.items[i].len, st, vocab,
                                            &out->items[out->count - 1].tf);
    }
    plume_spans_free(&sp);
    return rc;
}

/* Joins the chosen pieces (in index order) with single spaces into out. */
static int join_pieces(const pieces *p, const unsigned char *chosen, const size_t *order, size_t n_order,
                       plume_value *out) {
    size_t total = 1;
    for (size_t k = 0; k < n_order; k++)
        if (!chosen || chosen[order[k]]) total += p->items[order[k]].len + 1;
    char *buf = malloc(total), *q = buf;
    if (!buf) return -1;
    for (size_t k = 0; k < n_order; k++) {
        const piece *x = &p->items[order[k]];
        if (chosen && !chosen[order[k]]) continue;
        if (q != buf) *q++ = ' ';
        memcpy(q, x->s, x->len);
        q += x->len;
    }
    int rc = plume_value_set_text(out, buf, (size_t)(q - buf));
    free(buf);
    return rc;
}

typedef struct ranked { double score; size_t index; } ranked;
static int cmp_ranked(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* TextRank scores of the pieces: s_i = (1-d)/n + d · Σ_j w_ji / W_j · s_j, W_j = Σ_k w_jk;
 * a piece similar to none (W_j = 0) passes nothing on. */
static int textrank(const pieces *p, double *score) {
    size_t n = p->count;
    double *w = calloc(n * n, sizeof *w), *rowsum = calloc(n, sizeof *rowsum), *next = calloc(n, sizeof *next);
    if (!w || !rowsum || !next) {
        free(w);
        free(rowsum);
        free(next);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double c = term_vector_cosine(&p->items[i].tf, &p->items[j].tf);
            w[i * n + j] = w[j * n + i] = c;
            rowsum[i] += c;
            rowsum[j] += c;
        }
    for (size_t i = 0; i < n; i++) score[i] = 1.0 / (double)n;
    for (int it = 0; it < TEXTRANK_MAX_ITER; it++) {
        double delta = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++)
                if (rowsum[j] > 0) s += w[j * n + i] / rowsum[j] * score[j];
            next[i] = (1 - TEXTRANK_DAMPING) / (double)n + TEXTRANK_DAMPING * s;
            delta = fmax(delta, fabs(next[i] - score[i]));
        }
        memcpy(score, next, n * sizeof *score);
        if (delta < TEXTRANK_EPS) break;
    }
    free(w);
    free(rowsum);
    free(next);
    return 0;
}

int plume_summary_extract(const plume_doc *docs, size_t n, size_t budget_chars, plume_value *out, plume_error *err) {
    plume_stemmer *st = plume_stemmer_new(NULL);
    plume_vocab *vocab = plume_vocab_new();
    pieces p = { 0 };
    double *score = NULL;
    ranked *order = NULL;
    size_t *orig = NULL;
    unsigned char *chosen = NULL;
    int rc = -1;
    if (!st || !vocab) goto oom;
    for (size_t d = 0; d < n; d++)
        if (split_text(docs[d].text ? docs[d].text : "", 0, st, vocab, &p, SUMMARY_MAX_SENTENCES)) goto oom;
    size_t m = p.count;
    score = calloc(m ? m : 1, sizeof *score);
    order = calloc(m ? m : 1, sizeof *order);
    orig = calloc(m ? m : 1, sizeof *orig);
    chosen = calloc(m ? m : 1, 1);
    if (!score || !order || !orig || !chosen) goto oom;
    if (m && textrank(&p, score)) goto oom;
    for (size_t i = 0; i < m; i++) {
        order[i] = (ranked){ score[i], i };
        orig[i] = i;
    }
    qsort(order, m, sizeof *order, cmp_ranked);
    /* Greedy by rank: a sentence that does not fit is skipped and a shorter one may still fit. */
    size_t used = 0;
    for (size_t k = 0; k < m; k++) {
        size_t cost = p.items[order[k].index].chars + (used ? 1 : 0);
        if (used + cost > budget_chars) continue;
        chosen[order[k].index] = 1;
        used += cost;
    }
    if (join_pieces(&p, chosen, orig, m, out)) goto oom;
    rc = 0;
    goto done;
oom:
    plume_fail(err, "summary: out of memory");
done:
    free(score);
    free(order);
    free(orig);
    free(chosen);
    pieces_free(&p);
    plume_vocab_free(vocab);
    plume_stemmer_free(st);
    return rc;
}

int plume_sumctx_label(const plume_doc *entries, size_t n_entries, const char *target, size_t snippet_chars,
                       plume_value *out, plume_error *err) {
    if (snippet_chars == 0) return plume_fail(err, "sumctx label: snippet_chars must be at least 1");
    plume_stemmer *st = plume_stemmer_new(NULL);
    plume_vocab *vocab = plume_vocab_new();
    pieces ent = { 0 }, tgt = { 0 };
    unsigned char *used = NULL;
    size_t *picks = NULL, n_picks = 0;
    int rc = -1;
    if (!st || !vocab) goto oom;
    for (size_t d = 0; d < n_entries; d++)
        if (split_text(entries[d].text ? entries[d].text : "", snippet_chars, st, vocab, &ent, SIZE_MAX)) goto oom;
    if (split_text(target ? target : "", snippet_chars, st, vocab, &tgt, SIZE_MAX)) goto oom;
    used = calloc(ent.count ? ent.count : 1, 1);
    picks = calloc(tgt.count ? tgt.count : 1, sizeof *picks);
    if (!used || !picks) goto oom;
    for (size_t t = 0; t < tgt.count; t++) {
        size_t best = SIZE_MAX;
        double best_sim = 0;
        for (size_t e = 0; e < ent.count; e++) {
            if (used[e]) continue;
            double sim = term_vector_cosine(&tgt.items[t].tf, &ent.items[e].tf);
            if (sim > best_sim) {   /* strict: ties keep the earlier snippet */
                best_sim = sim;
                best = e;
            }
        }
        if (best == SIZE_MAX) continue;   /* nothing similar left */
        used[best] = 1;
        picks[n_picks++] = best;
    }
    if (join_pieces(&ent, NULL, picks, n_picks, out)) goto oom;
    rc = 0;
    goto done;
oom:
    plume_fail(err, "sumctx label: out of memory");
done:
    free(used);
    free(picks);
    pieces_free(&ent);
    pieces_free(&tgt);
    plume_vocab_free(vocab);
    plume_stemmer_free(st);
    return rc;
}
