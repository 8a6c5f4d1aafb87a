/* The hyperparameters every llama-family GGUF states under its architecture's name
 * (ARCH.context_length ...), for the tests that write small models of their own. */
#ifndef PLUME_TEST_ARCH_HPARAMS_H
#define PLUME_TEST_ARCH_HPARAMS_H
#include <stdint.h>
#include <stdio.h>
#include "plume/gguf.h"

typedef struct arch_hparams {
    uint32_t context, embedding, feed_forward, blocks, heads, kv_heads, vocab;
    float rope_base;   /* RMS norm epsilon is 1e-6 in all of them */
} arch_hparams;

/* Sets ARCH.KEY for each: 0, or -1 when one could not be set (the message in err). */
static inline int write_arch_hparams(plume_gguf_writer *w, const char *arch, const arch_hparams *h, plume_error *err) {
    static const char *const names[] = { "context_length", "embedding_length", "feed_forward_length", "block_count",
                                         "attention.head_count", "attention.head_count_kv", "vocab_size" };
    const uint32_t values[] = { h->context, h->embedding, h->feed_forward, h->blocks, h->heads, h->kv_heads, h->vocab };
    char key[128];
    int bad = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(key, sizeof key, "%s.%s", arch, names[i]);
        bad |= plume_gguf_writer_set_u32(w, key, values[i], err);
    }
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    bad |= plume_gguf_writer_set_f32(w, key, 1e-6f, err);
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    bad |= plume_gguf_writer_set_f32(w, key, h->rope_base, err);
    return bad ? -1 : 0;
}
#endif
