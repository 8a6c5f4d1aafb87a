/* Private to engine/eval: WordNet look-ups into a set of words, for the SynCtx labels. */
#ifndef PLUME_EVAL_WORDNET_H
#define PLUME_EVAL_WORDNET_H

#include "plume/eval.h"
#include "plume/text.h"

/* Adds to set every word (lower case) of every synset of every base form of word, in all four
 * parts of speech. 0, or -1 with err set (out of memory, damaged database). */
int ev_wordnet_collect(plume_wordnet *wn, const char *word, plume_vocab *set, plume_error *err);
/* 1 when word or one of its base forms (any part of speech) is in set. */
int ev_wordnet_in_set(plume_wordnet *wn, const char *word, plume_vocab *set);
#endif
