/* The generation parameters and the batched call shared by the stages that generate
 * (plume/lm_stage.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/lm_stage.h"
#include "plume/text.h"

int plume_generator_create(plume_generator *g, const plume_args *args, plume_host *host, const char *stage,
                           plume_error *err) {
    memset(g, 0, sizeof *g);
    g->stage = stage;
    plume_gen_params_default(&g->params);
    long long max_tokens = plume_args_int(args, "max_tokens");
    double top_p = plume_args_float(args, "top_p");
    /* the declared range [0, 1] lets 0 in: a nucleus of no mass would keep no token */
    if (top_p == 0) return plume_fail(err, "%s: top_p must be more than 0 (1 keeps every token)", stage);
    const char *model = plume_args_string(args, "model");
    const char *path = plume_host_model_path(host, model);
    if (!path) return plume_fail(err, "%s: model '%s' is not declared in the graph's models:", stage, model);
    if (!(g->lm = plume_lm_acquire(path, err))) return -1;
    g->ctx_len = plume_lm_get_info(g->lm)->ctx_len;
    if (max_tokens >= g->ctx_len) {
        plume_fail(err, "%s: max_tokens = %lld leaves no room for a prompt in %s, whose context holds %d tokens",
                   stage, max_tokens, path, g->ctx_len);
        plume_generator_free(g);
        return -1;
    }
    if (plume_gen_stops_parse(plume_args_string(args, "stop"), &g->stops, &g->n_stops)) {
        plume_generator_free(g);
        return plume_fail(err, "%s: out of memory", stage);
    }
    g->params.max_tokens = (int)max_tokens;
    g->params.beams = (int)plume_args_int(args, "beams");
    g->params.length_penalty = (float)plume_args_float(args, "length_penalty");
    g->params.sampling.temperature = (float)plume_args_float(args, "temperature");
    g->params.sampling.top_k = (int)plume_args_int(args, "top_k");
    g->params.sampling.top_p = (float)top_p;
    g->params.sampling.seed = (uint64_t)plume_args_int(args, "seed");
    g->params.stop = (const char *const *)g->stops;
    g->params.n_stop = g->n_stops;
    return 0;
}

void plume_generator_free(plume_generator *g) {
    plume_gen_stops_free(g->stops, g->n_stops);
    g->stops = NULL;
    g->n_stops = 0;
    plume_lm_release(g->lm);
    g->lm = NULL;
}

int plume_generator_run(plume_generator *g, plume_batch *batch, const char *const *prompts,
                        plume_memory *const *memories, const int *limits, size_t n, char **texts, plume_error *err) {
    const char **live = calloc(n ? n : 1, sizeof *live);
    plume_gen_result *res = calloc(n ? n : 1, sizeof *res);
    plume_error *failed = calloc(n ? n : 1, sizeof *failed);
    int rc = -1;
    for (size_t r = 0; r < n; r++) texts[r] = NULL;
    if (!live || !res || !failed) {
        plume_fail(err, "%s: out of memory", g->stage);
        goto done;
    }
    for (size_t r = 0; r < n; r++) live[r] = plume_batch_failed(batch, r) ? NULL : prompts[r];
    plume_gen_params params = g->params;
    params.max_tokens_each = limits;
    if (plume_lm_generate_each(g->lm, live, (int)n, &params, memories, res, failed, err)) goto done;
    rc = 0;
    for (size_t r = 0; r < n; r++) {
        if (res[r].n_prompt_tokens >= g->ctx_len)
            plume_batch_fail(batch, r, "%s: %s (hint: give prompt.compose budget_unit: tokens and budget: %d, the "
                             "context minus max_tokens)", g->stage, failed[r].msg, g->ctx_len - g->params.max_tokens);
        else if (failed[r].msg[0])
            plume_batch_fail(batch, r, "%s: %s", g->stage, failed[r].msg);
        /* a stage's text is UTF-8 whatever the model wrote: a character the length limit cut after
         * its first bytes is dropped, other malformed bytes (byte tokens out of order) become U+FFFD */
        if (res[r].text &&
            !(texts[r] = plume_utf8_clean(res[r].text, plume_utf8_whole(res[r].text, strlen(res[r].text)), NULL, NULL)))
            plume_batch_fail(batch, r, "%s: out of memory", g->stage);
        plume_gen_result_free(&res[r]);
    }
done:
    free(live);
    free(res);
    free(failed);
    return rc;
}

char *plume_generator_entries_prompt(plume_generator *g, const char *instruction, const char *context,
                                     const plume_value *entries, const char *cue, plume_error *err) {
    size_t cap = strlen(instruction) + strlen(context) + 64, n = 0;
    if (entries->type == PLUME_DOCS)
        for (size_t i = 0; i < entries->as.docs.count; i++) {
            const plume_doc *d = &entries->as.docs.items[i];
            cap += (d->title ? strlen(d->title) : 0) + (d->text ? strlen(d->text) : 0) + 8;
        }
    char *head = malloc(cap), *pass = malloc(cap), *tail = malloc(strlen(cue) + 2), *out = NULL;
    if (!head || !pass || !tail) {
        plume_fail(err, "%s: out of memory", g->stage);
        goto done;
    }
    snprintf(head, cap, "%s%spassage start: %s\npast passages: ", instruction, instruction[0] ? "\n" : "", context);
    pass[0] = '\0';
    if (entries->type == PLUME_DOCS)
        for (size_t i = 0; i < entries->as.docs.count; i++) {
            const plume_doc *d = &entries->as.docs.items[i];
            /* cap counted every piece written here, so the copies stay inside pass */
            if (i) n += (size_t)sprintf(pass + n, " | ");
            if (d->title && d->title[0]) n += (size_t)sprintf(pass + n, "%s: ", d->title);
            n += (size_t)sprintf(pass + n, "%s", d->text ? d->text : "");
        }
    snprintf(tail, strlen(cue) + 2, "\n%s", cue);
    if (!(out = plume_lm_fit_prompt(g->lm, head, pass, n, tail, g->ctx_len - g->params.max_tokens, g->params.add_bos,
                                    g->params.parse_special, err)))
        plume_fail_prefix(err, "%s: ", g->stage);
done:
    free(head);
    free(pass);
    free(tail);
    return out;
}

int plume_generator_aid_run(plume_generator *g, const char *instruction, const char *cue, size_t prompt_port,
                            plume_batch *batch, plume_generator_store store, void *user, plume_error *err) {
    size_t n = plume_batch_count(batch);
    char **prompts = calloc(n ? n : 1, sizeof *prompts), **texts = calloc(n ? n : 1, sizeof *texts);
    int rc = 0;
    if (!prompts || !texts) {
        free(prompts);
        free(texts);
        return plume_fail(err, "%s: out of memory for a batch of %zu", g->stage, n);
    }
    for (size_t r = 0; r < n; r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *c = plume_batch_in(batch, r, 0), *e = plume_batch_in(batch, r, 1);
        if (c->type != PLUME_TEXT || e->type != PLUME_DOCS) {
            plume_batch_fail(batch, r, "%s: context must be text and entries docs, got %s and %s", g->stage,
                             plume_type_name(c->type), plume_type_name(e->type));
            continue;
        }
        plume_error pe = { { 0 } };
        if (!(prompts[r] = plume_generator_entries_prompt(g, instruction, c->as.text.str, e, cue, &pe)))
            plume_batch_fail(batch, r, "%s", pe.msg);
        else if (plume_value_set_text(plume_batch_out(batch, r, prompt_port), prompts[r], strlen(prompts[r])))
            plume_batch_fail(batch, r, "%s: out of memory", g->stage);
    }
    if (plume_generator_run(g, batch, (const char *const *)prompts, NULL, NULL, n, texts, err)) {
        rc = -1;
    } else {
        for (size_t r = 0; r < n; r++)
            if (texts[r] && store(batch, r, texts[r], user)) plume_batch_fail(batch, r, "%s: out of memory", g->stage);
    }
    for (size_t r = 0; r < n; r++) {
        free(prompts[r]);
        free(texts[r]);
    }
    free(prompts);
    free(texts);
    return rc;
}
