/* Beam search as a stepper, so one caller can drive several searches in lockstep (one
 * decode call on the device for the hypotheses of many prompts). plume_beam_search()
 * in lm.h is the one-search loop over it:
 *
 *     while ((n = lm_beam_pending(s, slots, last)) > 0) {
 *         fill lm_beam_logprobs(s)[i*vocab ..] for the n pending hypotheses;
 *         lm_beam_advance(s, copy, finished, user, err);   // forks call copy()
 *     }
 *     lm_beam_result(s, &best, err);
 */
#ifndef PLUME_LM_BEAM_H
#define PLUME_LM_BEAM_H
#include "plume/lm.h"

#define BEAM_MAX 64

typedef struct lm_beam lm_beam;

lm_beam *lm_beam_create(const plume_beam_params *params, plume_error *err);
void lm_beam_free(lm_beam *s);
/* The live hypotheses that want scores: their slots and newest tokens (-1 at the first
 * step: the prompt alone, in slot 0). Returns how many; 0 when the search is over. */
int lm_beam_pending(const lm_beam *s, int *slots, int32_t *last);
/* The tokens of pending hypothesis i (as lm_beam_pending lists them), *n of them. */
const int32_t *lm_beam_pending_tokens(const lm_beam *s, int i, int *n);
/* Where to write the pending hypotheses' log-probabilities ([n_beams][vocab_size]). */
float *lm_beam_logprobs(lm_beam *s);
/* Takes the scores, keeps the best extensions, calls copy(user, dst, src) for forks. */
int lm_beam_advance(lm_beam *s, int (*copy)(void *user, int dst, int src, plume_error *err),
                    int (*finished)(void *user, const int32_t *tokens, int n), void *user, plume_error *err);
/* The winner (tokens malloc'd, the caller frees them). */
int lm_beam_result(lm_beam *s, plume_beam_result *best, plume_error *err);

#endif
