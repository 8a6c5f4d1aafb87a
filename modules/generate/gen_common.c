/* The generation parameters and the batched call shared by the model-calling stages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen_common.h"

int gen_split_stops(const char *spec, char ***out, int *n) {
    *out = NULL;
    *n = 0;
    size_t len = strlen(spec);
    if (len == 0) return 0;
    /* at most one string per bar, plus one */
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += spec[i] == '|';
    char **list = calloc(cap, sizeof *list);
    char *cur = malloc(len + 1);
    if (!list || !cur) goto oom;
    size_t k = 0;
    int count = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && spec[i] == '\\' && i + 1 < len && spec[i + 1] == '|') {
            cur[k++] = '|';
            i++;
        } else if (i == len || spec[i] == '|') {
            if (k > 0) {   /* an empty stop string would stop at once: skip it */
                cur[k] = '\0';
                if (!(list[count] = strdup(cur))) goto oom;
                count++;
            }
            k = 0;
        } else {
            cur[k++] = spec[i];
        }
    }
    free(cur);
    *out = list;
    *n = count;
    return 0;
oom:
    if (list)
        for (size_t i = 0; i < cap; i++) free(list[i]);
    free(list);
    free(cur);
    return -1;
}

int gen_config_create(gen_config *g, const plume_args *args, plume_host *host, const char *stage,
                      plume_error *err) {
    g->stage = stage;
    plume_gen_params_default(&g->params);
    long long max_tokens = plume_args_int(args, "max_tokens"), beams = plume_args_int(args, "beams");
    long long top_k = plume_args_int(args, "top_k"), seed = plume_args_int(args, "seed");
    double temperature = plume_args_float(args, "temperature"), top_p = plume_args_float(args, "top_p");
    double length_penalty = plume_args_float(args, "length_penalty");
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
        gen_config_free(g);
        return -1;
    }
    if (gen_split_stops(plume_args_string(args, "stop"), &g->stops, &g->n_stops)) {
        gen_config_free(g);
        return plume_fail(err, "%s: out of memory", stage);
    }
    g->params.max_tokens = (int)max_tokens;
    g->params.beams = (int)beams;
    g->params.length_penalty = (float)length_penalty;
    g->params.sampling.temperature = (float)temperature;
    g->params.sampling.top_k = (int)top_k;
    g->params.sampling.top_p = (float)top_p;
    g->params.sampling.seed = (uint64_t)seed;
    g->params.stop = (const char *const *)g->stops;
    g->params.n_stop = g->n_stops;
    return 0;
}

void gen_config_free(gen_config *g) {
    for (int i = 0; i < g->n_stops; i++) free(g->stops[i]);
    free(g->stops);
    g->stops = NULL;
    g->n_stops = 0;
    plume_lm_release(g->lm);
    g->lm = NULL;
}

/* plume_gen_params.mix over the records' memories: prompt i of the call is record rec[i]. */
typedef struct batch_memories {
    plume_memory *const *memories;
    const size_t *rec;
} batch_memories;

static int mix_memory(void *user, int i, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                      plume_mix *mix) {
    const batch_memories *b = user;
    plume_memory *m = b->memories[b->rec[i]];
    *mix = (plume_mix){ 0 };
    if (m) plume_memory_next(m, prompt, n_prompt, gen, n_gen, mix);
    return 0;
}

int gen_batch(gen_config *g, plume_batch *batch, const char *const *prompts, plume_memory *const *memories,
              const int *limits, size_t n, char **texts, plume_error *err) {
    const char **live = calloc(n ? n : 1, sizeof *live);
    size_t *rec = calloc(n ? n : 1, sizeof *rec);
    int *live_limits = calloc(n ? n : 1, sizeof *live_limits);
    plume_gen_result *res = NULL;
    int m = 0, rc = -1;
    if (!live || !rec || !live_limits) {
        plume_fail(err, "%s: out of memory", g->stage);
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        texts[r] = NULL;
        if (!prompts[r] || plume_batch_failed(batch, r)) continue;
        /* the model refuses a prompt that fills its context, for the whole call: check each here so
         * that only the record at fault fails */
        plume_error e = { { 0 } };
        int nt = plume_lm_tokenize_special(g->lm, prompts[r], g->params.add_bos, g->params.parse_special, NULL, 0, &e);
        if (nt < 0) {
            plume_batch_fail(batch, r, "%s: %s", g->stage, e.msg);
            continue;
        }
        if (nt >= g->ctx_len) {
            plume_batch_fail(batch, r,
                             "%s: the prompt is %d tokens but the model's context holds %d (hint: give prompt.compose "
                             "budget_unit: tokens and budget: %d, the context minus max_tokens)",
                             g->stage, nt, g->ctx_len, g->ctx_len - g->params.max_tokens);
            continue;
        }
        live[m] = prompts[r];
        live_limits[m] = limits ? limits[r] : 0;
        rec[m++] = r;
    }
    rc = 0;
    if (m == 0) goto done;
    if (!(res = calloc((size_t)m, sizeof *res))) {
        rc = plume_fail(err, "%s: out of memory", g->stage);
        goto done;
    }
    plume_gen_params params = g->params;
    batch_memories bm = { memories, rec };
    if (memories) {
        params.mix = mix_memory;
        params.mix_user = &bm;
    }
    if (limits) params.max_tokens_each = live_limits;
    if (plume_lm_generate(g->lm, live, m, &params, res, err)) {
        rc = -1;
        goto done;
    }
    for (int i = 0; i < m; i++) {
        texts[rec[i]] = res[i].text;
        res[i].text = NULL;
        plume_gen_result_free(&res[i]);
    }
done:
    free(res);
    free(live);
    free(rec);
    free(live_limits);
    return rc;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* head + passages[0..keep) + tail as one malloc'd string; NULL when out of memory. */
static char *assemble(const char *head, const char *passages, size_t keep, const char *tail) {
    size_t hl = strlen(head), tl = strlen(tail);
    char *s = malloc(hl + keep + tl + 1);
    if (!s) return NULL;
    memcpy(s, head, hl);
    memcpy(s + hl, passages, keep);
    memcpy(s + hl + keep, tail, tl + 1);
    return s;
}

char *gen_entries_prompt(gen_config *g, const char *instruction, const char *context, const plume_value *entries,
                         const char *cue, plume_error *err) {
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
    /* the longest prefix of the passages that fits: tokens grow with the prefix, so a binary
     * search over its length in bytes finds it in a few tokenizations */
    const int room = g->ctx_len - g->params.max_tokens;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        while (mid > lo && ((unsigned char)pass[mid] & 0xC0) == 0x80) mid--;   /* whole characters */
        if (mid == lo) {
            /* no character boundary above lo: step over the character at lo instead */
            mid = lo + 1;
            while (mid < hi && ((unsigned char)pass[mid] & 0xC0) == 0x80) mid++;
        }
        char *p = assemble(head, pass, mid, tail);
        if (!p) {
            plume_fail(err, "%s: out of memory", g->stage);
            goto done;
        }
        int nt = plume_lm_tokenize_special(g->lm, p, g->params.add_bos, g->params.parse_special, NULL, 0, err);
        free(p);
        if (nt < 0) goto done;
        if (nt <= room) lo = mid;
        else hi = mid - 1;
    }
    size_t keep = lo;
    if (keep < n) {   /* cut inside the passages: back off to a word boundary */
        size_t k = keep;
        while (k > 0 && !is_space(pass[k])) k--;
        while (k > 0 && is_space(pass[k - 1])) k--;
        keep = k;
    }
    if (!(out = assemble(head, pass, keep, tail))) plume_fail(err, "%s: out of memory", g->stage);
done:
    free(head);
    free(pass);
    free(tail);
    return out;
}

int gen_aid_run(gen_config *g, const char *instruction, const char *cue, size_t prompt_port, plume_batch *batch,
                gen_aid_store store, void *user, plume_error *err) {
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
        if (!(prompts[r] = gen_entries_prompt(g, instruction, c->as.text.str, e, cue, &pe)))
            plume_batch_fail(batch, r, "%s", pe.msg);
        else if (plume_value_set_text(plume_batch_out(batch, r, prompt_port), prompts[r], strlen(prompts[r])))
            plume_batch_fail(batch, r, "%s: out of memory", g->stage);
    }
    if (gen_batch(g, batch, (const char *const *)prompts, NULL, NULL, n, texts, err)) {
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
