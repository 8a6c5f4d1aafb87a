/* Helpers for the pipeline tests: run a graph given as YAML text over a request file with the real
 * engine and modules, and read the result lines back. */
#ifndef PLUME_TEST_PIPE_H
#define PLUME_TEST_PIPE_H
#include <jansson.h>
#include "plume/lm.h"

/* The shipped default model (stories260K, F32): $PLUME_SOURCE_DIR/models/stories260K.gguf. */
const char *pipe_model_path(void);
/* A scratch path in a private temporary folder: pipe_tmp("x.jsonl"). Static storage, 8 slots. */
const char *pipe_tmp(const char *name);
/* Writes text to path; 0 or -1. */
int pipe_write(const char *path, const char *text);
/* Runs the YAML graph (its ${MODEL} replaced by the default model's path) over requests with
 * `batch` records per batch. Returns the result lines as a JSON array (NULL on a run error, with
 * the message printed). */
json_t *pipe_run(const char *yaml, const char *requests, size_t batch);
/* The first n lines of the email test split, as a file in the scratch folder. */
const char *pipe_email_requests(size_t n);
/* The model, acquired once (released by pipe_done). */
plume_lm *pipe_lm(void);
void pipe_done(void);
/* prompt generated alone with plume_lm_generate on the model (default parameters but for
 * max_tokens and beams): the reference a stage's output is compared with. The text (caller
 * frees), or NULL when generation fails. */
char *pipe_generate_alone(const char *prompt, int max_tokens, int beams);
#endif
