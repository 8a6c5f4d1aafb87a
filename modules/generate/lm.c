/* generate.lm — the generator: a continuation of each record's prompt by the language model.
 *
 * All live records of a batch go to plume_lm_generate in one call, so the device decodes them
 * together (the weights are read once per step for every sequence). The paper evaluates the
 * whole document, whose start is the immediate context, so when the optional `context` input is
 * wired the `text` output is context + continuation; `continuation` always holds the new text
 * alone.
 *
 * With the optional `memory` input wired (the user's profile, or the ranked entries), each
 * record's documents become a personal memory (plume_memory in lm.h): at every step the tokens
 * that followed the longest match of the text so far in the user's own documents are mixed into
 * the model's next-token distribution with weight memory_weight, so the generator can continue
 * in the user's own words whatever the model. With memory_follow the memory keeps to one place in
 * the best document, a cursor, and writes it on where the model has nothing better to say. */
#include <stdlib.h>
#include <string.h>
#include "plume/lm_stage.h"

typedef struct genlm_state {
    plume_generator gen;
    char *sep;
    plume_memory_params memory;
    int length_from_memory;   /* length: memory_median */
} genlm_state;

enum { IN_PROMPT, IN_CONTEXT, IN_MEMORY };
enum { OUT_TEXT, OUT_CONTINUATION };

static const plume_port genlm_inputs[] = {
    { "prompt", PLUME_TEXT, "the generator's input (prompt.compose writes it)", 0 },
    { "context", PLUME_TEXT, "the immediate context: when wired, text = context + sep + continuation",
      PLUME_PORT_OPTIONAL },
    { "memory", PLUME_DOCS, "the user's documents (the profile, or ranked entries): when wired, a personal "
                            "memory mixed into every decoding step (memory_weight)", PLUME_PORT_OPTIONAL },
    { 0 },
};
static const plume_port genlm_outputs[] = {
    { "text", PLUME_TEXT, "the prediction: context + sep + continuation (the continuation alone when "
                          "context is unwired)", 0 },
    { "continuation", PLUME_TEXT, "the generated text alone", 0 },
    { 0 },
};
static const plume_param genlm_params[] = {
    PLUME_GEN_PARAM_ROWS("128", "4", ""),
    { "sep", PLUME_STRING, "", "put between the context and the continuation (the model's continuation "
                               "usually starts with its own space)", PLUME_NO_RANGE },
    { "memory_weight", PLUME_FLOAT, "0.5", "with memory wired: the weight of the memory's distribution in each "
                                           "step's mixture, less than 1 (0: off)", PLUME_RANGE(0, 1) },
    { "memory_min_match", PLUME_INT, "3", "with memory wired: the fewest tokens of the text so far that must "
                                          "match the user's documents for the memory to speak", PLUME_RANGE(1, 64) },
    { "memory_max_match", PLUME_INT, "16", "with memory wired: the longest match looked for, at least "
                                           "memory_min_match", PLUME_RANGE(1, 64) },
    { "memory_follow", PLUME_BOOL, "false", "with memory wired: keep to one place in the documents (a cursor "
                                            "that starts after the context where its end occurs in them, else at "
                                            "the first document's text, and never goes back) and propose the "
                                            "token there; at the document's end, end-of-sequence",
      PLUME_NO_RANGE },
    { "memory_anchor_match", PLUME_INT, "4", "with memory_follow: the fewest tokens that must match to place the "
                                             "cursor after the context or move it ahead (memory_min_match to "
                                             "memory_max_match)", PLUME_RANGE(1, 64) },
    { "length", PLUME_STRING, "max_tokens", "how many new tokens: max_tokens (all records), or memory_median: "
                                            "the median length of the record's memory documents less its "
                                            "context, so a document is as long as the user's usually are "
                                            "(never more than max_tokens; max_tokens without a memory)",
                                            PLUME_NO_RANGE },
    { "chat", PLUME_BOOL, "false", "the prompt is written in the model's chat template (prompt.compose "
                                   "chat: true): its control tokens are parsed and no BOS is added", PLUME_NO_RANGE },
    { 0 },
};

static int genlm_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    genlm_state *s = state;
    if (plume_generator_create(&s->gen, args, host, "generate.lm", err)) return -1;
    s->memory = (plume_memory_params){ (float)plume_args_float(args, "memory_weight"),
                                       (int)plume_args_int(args, "memory_min_match"),
                                       (int)plume_args_int(args, "memory_max_match"),
                                       plume_args_bool(args, "memory_follow"),
                                       (int)plume_args_int(args, "memory_anchor_match") };
    const plume_memory_params *m = &s->memory;
    /* beyond the declared ranges: a weight of 1 would drop the model's own distribution */
    if (m->weight >= 1) {
        plume_generator_free(&s->gen);
        return plume_fail(err, "generate.lm: memory_weight must be less than 1 (got %g)", m->weight);
    }
    if (m->max_match < m->min_match) {
        plume_generator_free(&s->gen);
        return plume_fail(err, "generate.lm: memory_max_match (%d) must be at least memory_min_match (%d)",
                          m->max_match, m->min_match);
    }
    if (m->follow && (m->anchor_match < m->min_match || m->anchor_match > m->max_match)) {
        plume_generator_free(&s->gen);
        return plume_fail(err, "generate.lm: memory_anchor_match (%d) must be from memory_min_match (%d) to "
                               "memory_max_match (%d)", m->anchor_match, m->min_match, m->max_match);
    }
    const char *length = plume_args_string(args, "length");
    if (strcmp(length, "max_tokens") && strcmp(length, "memory_median")) {
        plume_generator_free(&s->gen);
        return plume_fail(err, "generate.lm: length '%s' is neither max_tokens nor memory_median", length);
    }
    s->length_from_memory = !strcmp(length, "memory_median");
    if (plume_args_bool(args, "chat")) {
        /* the template wrote the BOS and the turn markers as text; the answer ends with the turn */
        s->gen.params.parse_special = 1;
        s->gen.params.add_bos = 0;
    }
    if (!(s->sep = strdup(plume_args_string(args, "sep")))) {
        plume_generator_free(&s->gen);
        return plume_fail(err, "generate.lm: out of memory");
    }
    return 0;
}

static void genlm_destroy(void *state) {
    genlm_state *s = state;
    plume_generator_free(&s->gen);
    free(s->sep);
    s->sep = NULL;
}

/* Record r's personal memory: its memory documents, each as title and text. NULL with the record
 * failed when something goes wrong; NULL without failing when there is nothing to remember. */
static plume_memory *record_memory(genlm_state *s, plume_batch *batch, size_t r, const plume_value *docs) {
    size_t n = docs->as.docs.count;
    if (n == 0 || (s->memory.weight == 0 && !s->length_from_memory)) return NULL;
    char **texts = calloc(n, sizeof *texts);
    size_t *lens = calloc(n, sizeof *lens), *bodies = calloc(n, sizeof *bodies);
    plume_memory *m = NULL;
    int ok = texts && lens && bodies;
    for (size_t i = 0; ok && i < n; i++) {
        const plume_doc *d = &docs->as.docs.items[i];
        size_t tl = strlen(d->title), xl = strlen(d->text);
        if (!(texts[i] = malloc(tl + 1 + xl + 1))) {
            ok = 0;
            break;
        }
        memcpy(texts[i], d->title, tl);
        size_t at = tl;
        if (tl) texts[i][at++] = '\n';
        memcpy(texts[i] + at, d->text, xl + 1);
        lens[i] = at + xl;
        bodies[i] = at;
    }
    plume_error e = { { 0 } };
    if (!ok) plume_batch_fail(batch, r, "generate.lm: out of memory for the memory");
    else if (!(m = plume_memory_create(s->gen.lm, (const char *const *)texts, lens, bodies, (int)n, &s->memory, &e)))
        plume_batch_fail(batch, r, "generate.lm: %s", e.msg);
    for (size_t i = 0; texts && i < n; i++) free(texts[i]);
    free(texts);
    free(lens);
    free(bodies);
    return m;
}

static int genlm_run(void *state, plume_batch *batch, plume_error *err) {
    genlm_state *s = state;
    size_t n = plume_batch_count(batch);
    const char **prompts = calloc(n ? n : 1, sizeof *prompts);
    char **texts = calloc(n ? n : 1, sizeof *texts);
    plume_memory **memories = calloc(n ? n : 1, sizeof *memories);
    int *limits = calloc(n ? n : 1, sizeof *limits);
    int rc = 0, any_memory = 0;
    if (!prompts || !texts || !memories || !limits) {
        free(prompts);
        free(texts);
        free(memories);
        free(limits);
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
        const plume_value *mem = plume_batch_in(batch, r, IN_MEMORY);
        if (mem->type == PLUME_DOCS) {
            memories[r] = record_memory(s, batch, r, mem);
            any_memory |= memories[r] != NULL;
            if (plume_batch_failed(batch, r)) continue;
            if (s->length_from_memory && memories[r]) {
                /* the continuation: the user's usual document less the context it starts with */
                plume_error e = { { 0 } };
                int ctx = c->type == PLUME_TEXT ? plume_lm_tokenize(s->gen.lm, c->as.text.str, 0, NULL, 0, &e) : 0;
                int want = plume_memory_median_tokens(memories[r]) - (ctx > 0 ? ctx : 0);
                limits[r] = want > 1 ? want : 1;
            }
        }
        prompts[r] = p->as.text.str;
    }
    if (plume_generator_run(&s->gen, batch, prompts, any_memory ? memories : NULL, limits, n, texts, err)) {
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
    for (size_t r = 0; r < n; r++) {
        free(texts[r]);
        plume_memory_free(memories[r]);
    }
    free(texts);
    free(memories);
    free(limits);
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
           "model's context fails its record (budget it with prompt.compose budget_unit: tokens). With `memory` "
           "wired (the user's documents), a personal memory is mixed into every decoding step: the tokens that "
           "followed the longest match of the text so far in those documents, with weight memory_weight.",
    .inputs = genlm_inputs,
    .outputs = genlm_outputs,
    .params = genlm_params,
    .state_size = sizeof(genlm_state),
    .create = genlm_create,
    .run = genlm_run,
    .destroy = genlm_destroy,
};
