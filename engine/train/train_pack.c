/* Packing plain-text training examples into full rows (plume_train_pack, plume/train.h).
 *
 * Unpacked, every example is one row of seq_len tokens padded with loss-free positions:
 * with documents of ~300 tokens and rows of 1,024, three quarters of every step would be
 * padding. Packed, the documents are joined end to end (each keeps its BOS, and its EOS
 * when the reader added one) and the stream is cut into rows of seq_len + 1 tokens that
 * overlap by one, so that every token but the stream's first is a target exactly once.
 * A row's documents see each other through attention, as in the usual pre-training
 * recipe: the BOS in the middle of a row is what tells the model a new document starts. */
#include <stdlib.h>
#include <string.h>
#include "plume/train.h"

static uint64_t next_random(uint64_t *s) {   /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int plume_train_pack(const plume_train_example *ex, int n, int seq_len, uint64_t seed, plume_train_example **out,
                     int *n_out, plume_error *err) {
    *out = NULL;
    *n_out = 0;
    if (seq_len < 1) return plume_fail(err, "train: packing needs seq_len >= 1, got %d", seq_len);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (ex[i].n_prompt != 1)
            return plume_fail(err, "example %d has a prompt of %d tokens; hint: data.pack joins plain-text "
                                   "examples only (an empty \"prompt\": the loss on every token)", i + 1,
                              ex[i].n_prompt - 1);
        total += (size_t)ex[i].n_tokens;
    }
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
    uint64_t s = seed ^ 0x70616b6564ull;
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(next_random(&s) % (uint64_t)(i + 1)), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
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
        packed[r] = (plume_train_example){row, (int)len, 1};
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
