/* generate.lm — the generator: a continuation of each record's prompt by the language model.
 *
 * All live records of a batch go to plume_lm_generate in one call, so the device decodes them
 * together (the weights are read once per step for every sequence). The paper evaluates the
 * whole document, whose start is the immediate context, so when the optional `context` input is
 * wired the `text` output is context + continuation; `continuation` always holds the new text
 * alone. */
#include <stdlib.h>
#include <string.h>
#include "gen_common.h"

typedef struct genlm_state {
    gen_config gen;
    char *sep;
} genlm_state;

enum { IN_PROMPT, IN_CONTEXT };
enum { OUT_TEXT, OUT_CONTINUATION };

static const plume_port genlm_inputs[] = {
    { "prompt", PLUME_TEXT, "the generator's input (prompt.compose writes it)", 0 },
    { "context", PLUME_TEXT, "the immediate context: when wired, text = context + sep + continuation",
      PLUME_PORT_OPTIONAL },
    { 0 },
};
static const plume_port genlm_outputs[] = {
    { "text", PLUME_TEXT, "the prediction: context + sep + continuation (the continuation alone when "
                          "context is unwired)", 0 },
    { "continuation", PLUME_TEXT, "the generated text alone", 0 },
    { 0 },
};
static const plume_param genlm_params[] = {
    GEN_PARAM_ROWS("128", "4", ""),
    { "sep", PLUME_STRING, "", "put between the context and the continuation (the model's continuation "
                               "usually starts with its own space)" },
    { 0 },
};

static int genlm_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    genlm_state *s = state;
    if (gen_config_create(&s->gen, args, host, "generate.lm", err)) return -1;
    if (!(s->sep = strdup(plume_args_string(args, "sep")))) {
        gen_config_free(&s->gen);
        return plume_fail(err, "generate.lm: out of memory");
    }
    return 0;
}

static void genlm_destroy(void *state) {
    genlm_state *s = state;
    gen_config_free(&s->gen);
    free(s->sep);
    s->sep = NULL;
}

static int genlm_run(void *state, plume_batch *batch, plume_error *err) {
    genlm_state *s = state;
    size_t n = plume_batch_count(batch);
    const char **prompts = calloc(n ? n : 1, sizeof *prompts);
    char **texts = calloc(n ? n : 1, sizeof *texts);
    int rc = 0;
    if (!prompts || !texts) {
        free(prompts);
        free(texts);
        return plume_fail(err, "generate.lm: out of memory for a batch of %zu", n);
    }
    for (size_t r = 0; r < n; r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *p = plume_batch_in(batch, r, IN_PROMPT), *c = plume_batch_in(batch, r, IN_CONTEXT);
        if (p->type != PLUME_TEXT || (c->type != PLUME_TEXT && c->type != PLUME_NONE)) {
            plume_batch_fail(batch, r, "generate.lm: prompt and context must be text, got %s and %s",
                             plume_type_name(p->type), plume_type_name(c->type));
            continue;
        }
        prompts[r] = p->as.text.str;
    }
    if (gen_batch(&s->gen, batch, prompts, n, texts, err)) {
        rc = -1;
        goto done;
    }
    size_t sep_len = strlen(s->sep);
    for (size_t r = 0; r < n; r++) {
        if (!texts[r]) continue;
        const plume_value *c = plume_batch_in(batch, r, IN_CONTEXT);
        size_t cl = c->type == PLUME_TEXT ? c->as.text.len : 0, tl = strlen(texts[r]);
        size_t sl = c->type == PLUME_TEXT ? sep_len : 0;
        char *full = malloc(cl + sl + tl + 1);
        if (!full) {
            plume_batch_fail(batch, r, "generate.lm: out of memory");
            continue;
        }
        if (cl) memcpy(full, c->as.text.str, cl);
        memcpy(full + cl, s->sep, sl);
        memcpy(full + cl + sl, texts[r], tl + 1);
        if (plume_value_set_text(plume_batch_out(batch, r, OUT_TEXT), full, cl + sl + tl) ||
            plume_value_set_text(plume_batch_out(batch, r, OUT_CONTINUATION), texts[r], tl))
            plume_batch_fail(batch, r, "generate.lm: out of memory");
        free(full);
    }
done:
    for (size_t r = 0; r < n; r++) free(texts[r]);
    free(texts);
    free(prompts);
    return rc;
}

const plume_stage generate_lm = {
    .name = "generate.lm",
    .doc = "The generator (the paper's fine-tuned T5, here the llama-architecture model of models:): "
           "continues each record's prompt, by beam search (beams, the paper's 4) or sampling (beams 1; "
           "temperature 0 is greedy), up to max_tokens new tokens or a stop string. The whole batch is "
           "decoded at once. With the immediate context wired, the output text is the whole predicted "
           "document, context + continuation, as the paper evaluates it. A prompt longer than the "
           "model's context fails its record (budget it with prompt.compose budget_unit: tokens).",
    .inputs = genlm_inputs,
    .outputs = genlm_outputs,
    .params = genlm_params,
    .state_size = sizeof(genlm_state),
    .create = genlm_create,
    .run = genlm_run,
    .destroy = genlm_destroy,
};
