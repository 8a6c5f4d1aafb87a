/* plume — what a stage that generates with the language model shares with the others.
 *
 * The bridge between the stage ABI (plume/stage.h) and the model (plume/lm.h): the generation
 * parameters a generating stage declares, read into plume_gen_params with its model, and one
 * call that generates for every live record of a batch. generate.lm, summarize.ctx and
 * synthesize.ctx use it; a plugin stage can too (link plume-lm). It lives apart from lm.h so
 * that the model itself knows no graph. */
#ifndef PLUME_LM_STAGE_H
#define PLUME_LM_STAGE_H

#include "lm.h"
#include "stage.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The parameter rows of a generating stage, after its own: model, max_tokens, beams, temperature,
 * top_k, top_p, seed, length_penalty, stop; the defaults of max_tokens, beams and stop as given. */
#define PLUME_GEN_PARAM_ROWS(max_tokens_, beams_, stop_)                                                      \
    { "model", PLUME_MODEL, NULL, "the language model (an entry of the graph's models:)", PLUME_NO_RANGE }, \
    { "max_tokens", PLUME_INT, max_tokens_, "new tokens per record, at most (less than the model's "        \
                                            "context)", PLUME_RANGE(1, 1 << 20) },                         \
    { "beams", PLUME_INT, beams_, "beam search width (the paper: 4); 1: sampling / greedy",                   \
      PLUME_RANGE(1, 64) },                                                                                   \
    { "temperature", PLUME_FLOAT, "0", "sampling only (beams 1): 0 is greedy", PLUME_AT_LEAST(0) },          \
    { "top_k", PLUME_INT, "0", "sampling only: keep the k most likely tokens (0: all)", PLUME_AT_LEAST(0) }, \
    { "top_p", PLUME_FLOAT, "1", "sampling only: nucleus mass, more than 0 (1: all)", PLUME_RANGE(0, 1) },   \
    { "seed", PLUME_INT, "0", "sampling only: the same seed gives the same text", PLUME_AT_LEAST(0) },       \
    { "length_penalty", PLUME_FLOAT, "1", "beam search: score = log-prob / length^this",                     \
      PLUME_RANGE(0, 10) },                                                                                   \
    { "stop", PLUME_STRING, stop_, "stop strings separated by '|' (write \\| for a literal bar); the "         \
                                "text ends before the first one found (\"\": none)", PLUME_NO_RANGE }

typedef struct plume_generator {
    plume_lm *lm;
    plume_gen_params params;   /* as the stage's parameters say */
    char **stops;              /* the parsed stop strings (params.stop) */
    int n_stops;
    int ctx_len;
    const char *stage;         /* the stage kind, which starts every message */
} plume_generator;

/* Reads the PLUME_GEN_PARAM_ROWS parameters (their ranges already checked by the engine) and
 * acquires the model; refuses top_p 0, an undeclared model, and max_tokens that leave no room for
 * a prompt in the model's context. 0, or -1 with err set (nothing held). */
PLUME_API int plume_generator_create(plume_generator *g, const plume_args *args, plume_host *host,
                                     const char *stage, plume_error *err);
PLUME_API void plume_generator_free(plume_generator *g);

/* Generates a continuation of prompts[r] for every record r < n with a non-NULL prompt that has
 * not failed, all in one plume_lm_generate_each call. texts[r] becomes a malloc'd string (NULL for
 * records skipped or failed). memories (NULL: none) gives record r's personal memory (NULL for a
 * record without one); limits (NULL: none) gives record r's own limit on new tokens (<= 0:
 * max_tokens; never more). The texts are valid UTF-8 (a malformed byte becomes U+FFFD, as
 * plume_utf8_clean does). A record whose prompt does not fit the model's context fails alone
 * (plume_batch_fail, with the hint to budget the prompt in tokens). Returns 0, or -1 with err set
 * when the model call itself fails. */
PLUME_API int plume_generator_run(plume_generator *g, plume_batch *batch, const char *const *prompts,
                                  plume_memory *const *memories, const int *limits, size_t n, char **texts,
                                  plume_error *err);

/* The prompt of the model-based aids (summarize.ctx, synthesize.ctx):
 *     INSTRUCTION
 *     passage start: CONTEXT
 *     past passages: TITLE: TEXT | TEXT | ...
 *     CUE
 * with the past passages cut (plume_lm_fit_prompt: at a word boundary, lowest-ranked text first)
 * so that the prompt plus max_tokens new tokens fit the model's context. malloc'd; NULL with err. */
PLUME_API char *plume_generator_entries_prompt(plume_generator *g, const char *instruction, const char *context,
                                               const plume_value *entries, const char *cue, plume_error *err);

/* Stores what the model wrote for record r into the stage's outputs. 0, or -1 when out of memory. */
typedef int (*plume_generator_store)(plume_batch *batch, size_t r, const char *text, void *user);

/* The run() of a model-based aid: inputs 0 (context, text) and 1 (entries, docs); for every live
 * record, the plume_generator_entries_prompt() with `cue`, written to output port `prompt_port`;
 * one plume_generator_run() for all of them; then store() for each record that got text. */
PLUME_API int plume_generator_aid_run(plume_generator *g, const char *instruction, const char *cue,
                                      size_t prompt_port, plume_batch *batch, plume_generator_store store,
                                      void *user, plume_error *err);

#ifdef __cplusplus
}
#endif
#endif
