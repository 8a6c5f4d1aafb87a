/* Packing training examples into full rows (plume_train_pack, plume/train.h).
 *
 * Unpacked, every example is one row of seq_len tokens padded with loss-free positions:
 * with documents of ~300 tokens and rows of 1,024, three quarters of every step would be
 * padding. Plain text is joined end to end (each document keeps its BOS, and its EOS when
 * the reader added one) and the stream is cut into rows of seq_len + 1 tokens that overlap
 * by one, so that every token but the stream's first is a target exactly once. Examples
 * with prompts are never cut (a target without its prompt teaches nothing): each goes whole
 * into the first row with room, and the row lists which of its tokens are targets. A row's
 * examples see each other through attention, as in the usual pre-training recipe: the BOS
 * in the middle of a row is what tells the model a new one starts. */
#include <stdlib.h>
#include <string.h>
#include "plume/train.h"

static uint64_t next_random(uint64_t *s) {   /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* order[0..n): a permutation drawn from seed (Fisher-Yates over splitmix64). */
static void seeded_order(int *order, int n, uint64_t seed) {
    uint64_t s = seed ^ 0x70616b6564ull;
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(next_random(&s) % (uint64_t)(i + 1)), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
}

/* Plain text: one stream, cut into rows that overlap by one token. */
static int pack_text(const plume_train_example *ex, int n, size_t total, int seq_len, uint64_t seed,
                     plume_train_example **out, int *n_out, plume_error *err) {
    if (total < 2) return plume_fail(err, "train: nothing to pack (%zu tokens)", total);
    /* the documents in a seeded order, so that rows mix documents of different users */
    int *order = malloc((size_t)n * sizeof *order);
    int32_t *stream = malloc(total * sizeof *stream);
    size_t rows = (total - 1 + (size_t)seq_len - 1) / (size_t)seq_len;
    plume_train_example *packed = rows <= (size_t)INT32_MAX ? calloc(rows, sizeof *packed) : NULL;
    if (!order || !stream || !packed) {
        free(order);
        free(stream);
        free(packed);
        return plume_fail(err, "train: out of memory packing %zu tokens", total);
    }
    seeded_order(order, n, seed);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        memcpy(stream + at, ex[order[i]].tokens, (size_t)ex[order[i]].n_tokens * sizeof *stream);
        at += (size_t)ex[order[i]].n_tokens;
    }
    free(order);
    int rc = 0;
    for (size_t r = 0; r < rows; r++) {
        size_t start = r * (size_t)seq_len, len = total - start < (size_t)seq_len + 1 ? total - start : (size_t)seq_len + 1;
        int32_t *row = malloc(len * sizeof *row);
        if (!row) {
            rc = plume_fail(err, "train: out of memory packing %zu tokens", total);
            break;
        }
        memcpy(row, stream + start, len * sizeof *row);
        /* the row's first token is context only: it was the previous row's last target */
        packed[r] = (plume_train_example){row, (int)len, 1, NULL};
    }
    free(stream);
    if (rc) {
        plume_train_examples_free(packed, (int)rows);
        return -1;
    }
    *out = packed;
    *n_out = (int)rows;
    return 0;
}

/* A row under construction: tokens and, right after them in the same block (so that
 * plume_train_examples_free's one free releases both), which are targets. A row holding one
 * example too long for any row keeps that example as it is (targets NULL, its own prompt). */
typedef struct open_row {
    int32_t *tokens;
    uint8_t *targets;
    int len, prompt;
} open_row;

/* Examples with prompts: each whole, in the seeded order, into the first row with room
 * (first fit). */
static int pack_examples(const plume_train_example *ex, int n, int seq_len, uint64_t seed, plume_train_example **out,
                         int *n_out, plume_error *err) {
    const int cap = seq_len + 1;
    int *order = malloc((size_t)n * sizeof *order);
    open_row *rows = calloc((size_t)n, sizeof *rows);   /* at most one row per example */
    plume_train_example *packed = NULL;
    int n_rows = 0, rc = 0;
    if (!order || !rows) rc = plume_fail(err, "train: out of memory packing %d examples", n);
    if (!rc) seeded_order(order, n, seed);
    for (int k = 0; !rc && k < n; k++) {
        const plume_train_example *e = &ex[order[k]];
        int alone = e->n_tokens > cap, r = n_rows;
        for (int i = 0; !alone && i < n_rows; i++)
            if (rows[i].targets && rows[i].len + e->n_tokens <= cap) {
                r = i;
                break;
            }
        if (r == n_rows) {
            int room = alone ? e->n_tokens : cap;
            if (!(rows[r].tokens = malloc((size_t)room * (sizeof(int32_t) + 1)))) {
                rc = plume_fail(err, "train: out of memory packing %d examples", n);
                break;
            }
            rows[r].targets = alone ? NULL : (uint8_t *)(rows[r].tokens + room);
            rows[r].prompt = alone ? e->n_prompt : 1;
            n_rows++;
        }
        open_row *w = &rows[r];
        memcpy(w->tokens + w->len, e->tokens, (size_t)e->n_tokens * sizeof *w->tokens);
        for (int j = 0; w->targets && j < e->n_tokens; j++)
            w->targets[w->len + j] = (uint8_t)(j >= e->n_prompt);
        w->len += e->n_tokens;
    }
    if (!rc && !(packed = calloc((size_t)(n_rows > 0 ? n_rows : 1), sizeof *packed)))
        rc = plume_fail(err, "train: out of memory packing %d examples", n);
    for (int r = 0; !rc && r < n_rows; r++) {
        packed[r] = (plume_train_example){rows[r].tokens, rows[r].len, rows[r].prompt, rows[r].targets};
        rows[r].tokens = NULL;
    }
    for (int r = 0; r < n_rows; r++) free(rows[r].tokens);
    free(rows);
    free(order);
    if (rc) {
        free(packed);
        return -1;
    }
    *out = packed;
    *n_out = n_rows;
    return 0;
}

int plume_train_pack(const plume_train_example *ex, int n, int seq_len, uint64_t seed, plume_train_example **out,
                     int *n_out, plume_error *err) {
    *out = NULL;
    *n_out = 0;
    if (seq_len < 1) return plume_fail(err, "train: packing needs seq_len >= 1, got %d", seq_len);
    if (n < 1) return plume_fail(err, "train: nothing to pack (no examples)");
    size_t total = 0;
    int prompted = 0;
    for (int i = 0; i < n; i++) {
        if (ex[i].targets || ex[i].n_prompt < 1 || ex[i].n_tokens <= ex[i].n_prompt)
            return plume_fail(err, "example %d: %d tokens with a prompt of %d%s cannot be packed", i + 1,
                              ex[i].n_tokens, ex[i].n_prompt, ex[i].targets ? " (already packed)" : "");
        total += (size_t)ex[i].n_tokens;
        prompted += ex[i].n_prompt > 1;
    }
    return prompted ? pack_examples(ex, n, seq_len, seed, out, n_out, err)
                    : pack_text(ex, n, total, seq_len, seed, out, n_out, err);
}
