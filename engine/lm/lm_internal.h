/* Helpers shared by lm.c, generate.c and embed.c (not exported). */
#ifndef PLUME_LM_INTERNAL_H
#define PLUME_LM_INTERNAL_H
#include "model.h"

/* A growable NUL-terminated string. */
typedef struct lm_strbuf {
    char *s;
    size_t len, cap;
} lm_strbuf;

/* Appends n bytes of s; 0, or -1 when out of memory. */
int lm_strbuf_add(lm_strbuf *b, const char *s, size_t n);
/* Appends the text of tokens (prev: the token before the first, -1 for none). 0 or -1. */
int lm_append_pieces(plume_lm *lm, lm_strbuf *b, int32_t prev, const int32_t *tokens, int n);
/* The tokens of text as a malloc'd vector (*n of them), BOS as plume_lm_tokenize's add_bos
 * says, control tokens parsed when parse_special; an empty result starts from BOS when the
 * model has one. NULL with err on failure. */
int32_t *lm_tokenize_alloc(plume_lm *lm, const char *text, int add_bos, int parse_special, int *n, plume_error *err);

#endif
