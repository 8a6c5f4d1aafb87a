/* What every model-calling stage shares (generate.lm, summarize.ctx, synthesize.ctx): the
 * generation parameters, the model handle, and one call that generates for every live record of
 * a batch at once, so the device decodes the whole batch together.
 *
 * A prompt longer than the model's context fails its record alone, with the hint to budget the
 * prompt in tokens; the batch's other records go on. */
#ifndef PLUME_GEN_COMMON_H
#define PLUME_GEN_COMMON_H

#include "plume/lm.h"
#include "plume/stage.h"

/* The parameter rows every generating stage declares (after its own). */
#define GEN_PARAM_ROWS(max_tokens_, beams_, stop_)                                                               \
    { "model", PLUME_MODEL, NULL, "the language model (an entry of the graph's models:)", PLUME_NO_RANGE }, \
    { "max_tokens", PLUME_INT, max_tokens_, "new tokens per record, at most (less than the model's "   \
                                            "context)", PLUME_RANGE(1, 1 << 20) },                    \
    { "beams", PLUME_INT, beams_, "beam search width (the paper: 4); 1: sampling / greedy",              \
      PLUME_RANGE(1, 64) },                                                                              \
    { "temperature", PLUME_FLOAT, "0", "sampling only (beams 1): 0 is greedy", PLUME_AT_LEAST(0) },     \
    { "top_k", PLUME_INT, "0", "sampling only: keep the k most likely tokens (0: all)",                 \
      PLUME_AT_LEAST(0) },                                                                               \
    { "top_p", PLUME_FLOAT, "1", "sampling only: nucleus mass, more than 0 (1: all)", PLUME_RANGE(0, 1) }, \
    { "seed", PLUME_INT, "0", "sampling only: the same seed gives the same text", PLUME_AT_LEAST(0) },  \
    { "length_penalty", PLUME_FLOAT, "1", "beam search: score = log-prob / length^this",                \
      PLUME_RANGE(0, 10) },                                                                              \
    { "stop", PLUME_STRING, stop_, "stop strings separated by '|' (write \\| for a literal bar); the "     \
                                "text ends before the first one found (\"\": none)", PLUME_NO_RANGE }

typedef struct gen_config {
    plume_lm *lm;
    plume_gen_params params;
    char **stops;          /* the parsed stop strings */
    int n_stops;
    int ctx_len;
    const char *stage;     /* the stage kind, for messages */
} gen_config;

/* Reads the GEN_PARAM_ROWS parameters and acquires the model. 0, or -1 with err set. */
int gen_config_create(gen_config *g, const plume_args *args, plume_host *host, const char *stage,
                      plume_error *err);
void gen_config_free(gen_config *g);

/* Generates a continuation of prompts[r] for every record r < n with a non-NULL prompt, all in
 * one plume_lm_generate call. texts[r] becomes a malloc'd string (NULL for records skipped or
 * failed). memories (NULL: none) gives record r's personal memory, mixed into every step of its
 * decoding (NULL for a record without one); limits (NULL: none) gives record r's own limit on new
 * tokens (<= 0: max_tokens; never more). A record whose prompt does not fit the model's
 * context fails alone (plume_batch_fail). Returns 0, or -1 with err set when the model call
 * itself fails. */
int gen_batch(gen_config *g, plume_batch *batch, const char *const *prompts, plume_memory *const *memories,
              const int *limits, size_t n, char **texts, plume_error *err);

/* The prompt of the model-based aids (summarize.ctx, synthesize.ctx):
 *     INSTRUCTION
 *     passage start: CONTEXT
 *     past passages: TITLE: TEXT | TEXT | ...
 *     CUE
 * with the past passages cut (at a word boundary, lowest-ranked text first) so that the prompt
 * plus max_tokens new tokens fit the model's context. malloc'd; NULL with err set. */
char *gen_entries_prompt(gen_config *g, const char *instruction, const char *context, const plume_value *entries,
                         const char *cue, plume_error *err);

/* Stores what the model wrote for record r into the stage's outputs. 0, or -1 when out of memory. */
typedef int (*gen_aid_store)(plume_batch *batch, size_t r, const char *text, void *user);

/* The run() of a model-based aid: inputs 0 (context, text) and 1 (entries, docs); for every live
 * record, the gen_entries_prompt() with `cue`, written to output port `prompt_port`; one
 * gen_batch() for all of them; then store() for each record that got text. */
int gen_aid_run(gen_config *g, const char *instruction, const char *cue, size_t prompt_port, plume_batch *batch,
                gen_aid_store store, void *user, plume_error *err);

/* Splits "a|b\|c" into {"a", "b|c"}. 0, or -1 when out of memory. */
int gen_split_stops(const char *spec, char ***out, int *n);

#endif
