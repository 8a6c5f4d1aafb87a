/* Private: n-gram counting over interned token ids, shared by ROUGE and BLEU. */
#ifndef PLUME_EVAL_NGRAM_H
#define PLUME_EVAL_NGRAM_H
#include <stddef.h>
#include <stdint.h>
#include "plume/text.h"

/* Tokens of a text as ids into a shared table (the metric tokenizers' own tokens, interned in a
 * plume_vocab). */
typedef struct ev_tokens { uint32_t *ids; size_t n, cap; } ev_tokens;
int  ev_tokens_push(ev_tokens *t, plume_vocab *tab, const char *s, size_t len);
void ev_tokens_free(ev_tokens *t);

/* Σ over distinct n-grams g of min(count_a(g), count_b(g)) — the clipped overlap.
 * -1 when out of memory. */
long ev_ngram_overlap(const ev_tokens *a, const ev_tokens *b, size_t n);
#endif
