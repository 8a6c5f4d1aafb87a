/* Generation over many prompts of which any may fail alone: a caller with a batch of unrelated
 * requests (a stage, a server) wants one bad prompt to cost that prompt only, while the others
 * still decode together as one batch on the device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"

/* The live prompts of the one plume_lm_generate call, and the caller's callbacks seen through
 * them: prompt k of the call is prompt index[k] of the caller's. */
typedef struct live_set {
    const int *index;
    plume_memory *const *memories;
    const plume_gen_params *caller;
} live_set;

static int live_mix(void *user, int k, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                    plume_mix *mix) {
    const live_set *l = user;
    int i = l->index[k];
    *mix = (plume_mix){ 0 };
    if (l->memories) {
        if (l->memories[i]) plume_memory_next(l->memories[i], prompt, n_prompt, gen, n_gen, mix);
        return 0;
    }
    return l->caller->mix(l->caller->mix_user, i, prompt, n_prompt, gen, n_gen, mix);
}

static int live_text(void *user, int k, const char *piece) {
    const live_set *l = user;
    return l->caller->on_text(l->caller->user, l->index[k], piece);
}

int plume_lm_generate_each(plume_lm *lm, const char *const *prompts, int n, const plume_gen_params *params,
                           plume_memory *const *memories, plume_gen_result *out, plume_error *failed,
                           plume_error *err) {
    plume_gen_params caller;
    if (params) caller = *params;
    else plume_gen_params_default(&caller);
    if (memories && caller.mix)
        return plume_fail(err, "%s: a generation takes a personal memory per prompt or a mix callback, not both",
                          plume_lm_get_info(lm)->path);
    if (n < 0) n = 0;
    memset(out, 0, (size_t)n * sizeof *out);
    for (int i = 0; i < n; i++) failed[i].msg[0] = '\0';
    const char **live = calloc(n ? (size_t)n : 1, sizeof *live);
    int *index = calloc(n ? (size_t)n : 1, sizeof *index);
    int *limits = calloc(n ? (size_t)n : 1, sizeof *limits);
    plume_gen_result *res = NULL;
    int m = 0, rc = -1;
    const int ctx_len = plume_lm_get_info(lm)->ctx_len;
    if (!live || !index || !limits) {
        plume_fail(err, "out of memory for %d prompts", n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!prompts[i]) continue;
        /* plume_lm_generate refuses a prompt that fills the context for the whole call: check each
         * here, so that only the prompt at fault fails */
        int nt = plume_lm_tokenize_special(lm, prompts[i], caller.add_bos, caller.parse_special, NULL, 0,
                                           &failed[i]);
        out[i].n_prompt_tokens = nt;
        if (nt < 0) continue;
        if (nt >= ctx_len) {
            snprintf(failed[i].msg, sizeof failed[i].msg, "the prompt is %d tokens but the model's context holds %d",
                     nt, ctx_len);
            continue;
        }
        live[m] = prompts[i];
        limits[m] = caller.max_tokens_each ? caller.max_tokens_each[i] : 0;
        index[m++] = i;
    }
    rc = 0;
    if (m == 0) goto done;
    if (!(res = calloc((size_t)m, sizeof *res))) {
        rc = plume_fail(err, "out of memory for %d prompts", m);
        goto done;
    }
    live_set set = { index, memories, &caller };
    plume_gen_params p = caller;
    if (memories || caller.mix) {
        p.mix = live_mix;
        p.mix_user = &set;
    }
    if (caller.on_text) {
        p.on_text = live_text;
        p.user = &set;
    }
    if (caller.max_tokens_each) p.max_tokens_each = limits;
    if (plume_lm_generate(lm, live, m, &p, res, err)) {
        for (int i = 0; i < n; i++) plume_gen_result_free(&out[i]);
        rc = -1;
        goto done;
    }
    for (int k = 0; k < m; k++) {
        int prompt_tokens = out[index[k]].n_prompt_tokens;
        out[index[k]] = res[k];
        out[index[k]].n_prompt_tokens = prompt_tokens;
    }
done:
    free(res);
    free(live);
    free(index);
    free(limits);
    return rc;
}
