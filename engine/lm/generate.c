/* Generation: prompts in, continuations out.
 *
 * Sampling (and greedy) runs all prompts as one batch: each prompt is prefilled into its
 * own sequence, then every step decodes one token for every unfinished sequence in a
 * single submit, the greedy choice read back from the device's argmax, a top-k draw from
 * the device's sampler, other draws made here over the logits read back. Beam search
 * keeps one sequence per beam and runs the beams of several prompts in lockstep; a fork
 * copies the parent's KV cache on the device. Both stop at EOS, at a stop string (cut
 * from the text) or at the token limit. A caller's mixture (params->mix) is set on each
 * sequence before every step, and the device mixes it into that step's logits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "beam.h"
#include "lm_internal.h"

void plume_gen_params_default(plume_gen_params *p) {
    memset(p, 0, sizeof *p);
    p->max_tokens = 256;
    p->sampling.temperature = 0;
    p->sampling.top_k = 0;
    p->sampling.top_p = 1.0f;
    p->beams = 1;
    p->length_penalty = 1.0f;
    p->add_bos = -1;
}

void plume_gen_result_free(plume_gen_result *r) {
    if (!r) return;
    free(r->text);
    free(r->tokens);
    memset(r, 0, sizeof *r);
}

/* The first occurrence of any stop string in s[from..], or NULL. */
static char *find_stop(const plume_gen_params *p, char *s, size_t from) {
    char *best = NULL;
    for (int i = 0; i < p->n_stop; i++) {
        if (!p->stop[i] || !p->stop[i][0]) continue;
        char *at = strstr(s + from, p->stop[i]);
        if (at && (!best || at < best)) best = at;
    }
    return best;
}

static size_t longest_stop(const plume_gen_params *p) {
    size_t m = 0;
    for (int i = 0; i < p->n_stop; i++)
        if (p->stop[i] && strlen(p->stop[i]) > m) m = strlen(p->stop[i]);
    return m;
}

/* Prompt i's limit on new tokens: max_tokens, its own limit where given, and the room its
 * sequence has. */
static int token_limit(const plume_gen_params *p, int i, int max_len, int n_prompt) {
    int limit = p->max_tokens;
    if (p->max_tokens_each && p->max_tokens_each[i] > 0 && p->max_tokens_each[i] < limit)
        limit = p->max_tokens_each[i];
    return limit < max_len - n_prompt ? limit : max_len - n_prompt;
}

/* One prompt's progress in a sampling run. */
typedef struct gen_seq {
    int32_t *prompt;
    int n_prompt;
    int32_t *tokens;      /* [max_tokens] */
    int n;
    lm_strbuf text;
    size_t emitted;       /* bytes of text already given to on_text */
    int done;
    const char *reason;
} gen_seq;

/* Takes token t for sequence s: appends it, checks EOS, stop strings and the limit,
 * streams what is safe to show. Returns -1 on out of memory, 1 if on_text asked to stop. */
static int take_token(plume_lm *lm, const plume_gen_params *p, int idx, gen_seq *s, int32_t t, int limit) {
    if (!p->ignore_eos && plume_lm_is_eog(lm, t)) {
        s->done = 1;
        s->reason = "eos";
    } else {
        int32_t prev = s->n ? s->tokens[s->n - 1] : s->n_prompt ? s->prompt[s->n_prompt - 1] : -1;
        s->tokens[s->n++] = t;
        size_t old = s->text.len, keep = longest_stop(p);
        if (lm_append_pieces(lm, &s->text, prev, &t, 1)) return -1;
        char *stop = find_stop(p, s->text.s, old > keep ? old - keep : 0);
        if (stop) {
            s->text.len = (size_t)(stop - s->text.s);
            s->text.s[s->text.len] = 0;
            s->done = 1;
            s->reason = "stop";
        } else if (s->n >= limit) {
            s->done = 1;
            s->reason = "length";
        }
    }
    if (p->on_text) {
        /* hold back what could still become a stop string */
        size_t keep = s->done ? 0 : longest_stop(p), end = s->text.len > keep ? s->text.len - keep : 0;
        if (end > s->emitted) {
            char save = s->text.s[end];
            s->text.s[end] = 0;
            int stop = p->on_text(p->user, idx, s->text.s + s->emitted);
            s->text.s[end] = save;
            s->emitted = end;
            if (stop) return 1;
        }
    }
    return 0;
}

/* Sets sequence seq's mixture for its next step from the caller's callback, if any. */
static int set_step_mix(plume_lm *lm, plume_lm_batch *b, const plume_gen_params *p, int i, int seq,
                        const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen, plume_error *err) {
    if (!p->mix) return 0;
    plume_mix m = { 0 };
    if (p->mix(p->mix_user, i, prompt, n_prompt, gen, n_gen, &m))
        return plume_fail(err, "%s: the mixture of prompt %d failed", lm->path, i);
    return plume_lm_batch_set_mix(b, seq, &m, err);
}

static int generate_sampling(plume_lm *lm, const char *const *prompts, int n, const plume_gen_params *p,
                             plume_gen_result *out, plume_error *err) {
    const int V = lm->info.vocab_size, greedy = p->sampling.temperature <= 0;
    int rc = -1, max_prompt = 0;
    gen_seq *seqs = calloc((size_t)n, sizeof *seqs);
    float *logits = malloc((size_t)n * V * sizeof *logits);
    int32_t *next = malloc((size_t)n * sizeof *next), *tok = malloc((size_t)n * sizeof *tok);
    int *ids = malloc((size_t)n * sizeof *ids);
    plume_sampler **samplers = calloc((size_t)n, sizeof *samplers);
    plume_draw *draws = malloc((size_t)n * sizeof *draws);
    plume_lm_batch *b = NULL;
    if (!seqs || !logits || !next || !tok || !ids || !samplers || !draws) goto oom;
    for (int i = 0; i < n; i++) {
        if (!(seqs[i].prompt = lm_tokenize_alloc(lm, prompts[i], p->add_bos, p->parse_special, &seqs[i].n_prompt, err))) goto out;
        if (seqs[i].n_prompt == 0) {
            plume_fail(err, "%s: prompt %d is empty and the model has no BOS token to start from", lm->path, i);
            goto out;
        }
        if (seqs[i].n_prompt > max_prompt) max_prompt = seqs[i].n_prompt;
        if (!(seqs[i].tokens = malloc((size_t)p->max_tokens * sizeof(int32_t)))) goto oom;
        /* each prompt its own stream: seed + i, so a batch gives what each alone would */
        plume_sampling sp = p->sampling;
        sp.seed += (uint64_t)i;
        if (!(samplers[i] = plume_sampler_create(&sp, V, err))) goto out;
    }
    int max_len = max_prompt + p->max_tokens;
    if (max_len > lm->info.ctx_len) max_len = lm->info.ctx_len;
    if (max_prompt >= max_len) {
        plume_fail(err, "%s: a prompt of %d tokens leaves no room in the context of %d", lm->path, max_prompt,
                   lm->info.ctx_len);
        goto out;
    }
    if (!(b = plume_lm_batch_create(lm, n, max_len, err))) goto out;

    for (int i = 0; i < n; i++) {
        if (set_step_mix(lm, b, p, i, i, seqs[i].prompt, seqs[i].n_prompt, NULL, 0, err) ||
            plume_lm_prefill(b, i, seqs[i].prompt, seqs[i].n_prompt, logits + (size_t)i * V, err))
            goto out;
        int limit = token_limit(p, i, max_len, seqs[i].n_prompt);
        int r = take_token(lm, p, i, &seqs[i], plume_sampler_sample(samplers[i], logits + (size_t)i * V), limit);
        if (r < 0) goto oom;
        if (r > 0) goto stopped;
    }
    for (;;) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (!seqs[i].done) {
                if (set_step_mix(lm, b, p, i, i, seqs[i].prompt, seqs[i].n_prompt, seqs[i].tokens, seqs[i].n, err))
                    goto out;
                ids[m] = i;
                tok[m++] = seqs[i].tokens[seqs[i].n - 1];
            }
        if (m == 0) break;
        /* top-k draws on the device (4 bytes back per sequence); others over the logits
         * here. The samplers share their parameters: where the first draws, all do. */
        int drawn = !greedy && plume_sampler_draw(samplers[ids[0]], &draws[0]);
        for (int j = 1; drawn && j < m; j++) plume_sampler_draw(samplers[ids[j]], &draws[j]);
        int on_host = !greedy && !drawn;
        if (drawn ? plume_lm_decode_draw(b, m, ids, tok, draws, next, err)
                  : plume_lm_decode(b, m, ids, tok, on_host ? logits : NULL, on_host ? NULL : next, err))
            goto out;
        for (int j = 0; j < m; j++) {
            gen_seq *s = &seqs[ids[j]];
            int limit = token_limit(p, ids[j], max_len, s->n_prompt);
            int32_t t = on_host ? plume_sampler_sample(samplers[ids[j]], logits + (size_t)j * V) : next[j];
            int r = take_token(lm, p, ids[j], s, t, limit);
            if (r < 0) goto oom;
            if (r > 0) goto stopped;
        }
    }
    goto fill;
stopped:
    for (int i = 0; i < n; i++)
        if (!seqs[i].done) {
            seqs[i].done = 1;
            seqs[i].reason = "stop";
        }
fill:
    for (int i = 0; i < n; i++) {
        gen_seq *s = &seqs[i];
        out[i] = (plume_gen_result){ s->text.s ? s->text.s : strdup(""), s->tokens, s->n, s->n_prompt,
                                     s->reason, 0 };
        s->text.s = NULL;
        s->tokens = NULL;
        if (!out[i].text) goto oom;
    }
    rc = 0;
    goto out;
oom:
    plume_fail(err, "%s: out of memory generating for %d prompts", lm->path, n);
    if (out)
        for (int i = 0; i < n; i++) plume_gen_result_free(&out[i]);
out:
    plume_lm_batch_free(b);
    for (int i = 0; seqs && i < n; i++) {
        free(seqs[i].prompt);
        free(seqs[i].tokens);
        free(seqs[i].text.s);
    }
    for (int i = 0; samplers && i < n; i++) plume_sampler_free(samplers[i]);
    free(samplers);
    free(draws);
    free(seqs);
    free(logits);
    free(next);
    free(tok);
    free(ids);
    return rc;
}

/* Beam search for several prompts in lockstep: prompt k owns sequences
 * k*B .. k*B+B-1 of one batch (its beams' KV caches), and every step decodes the live
 * hypotheses of all prompts in one call. */
#define BEAM_CACHE_BYTES (512ull << 20)

typedef struct beam_job {
    plume_lm *lm;
    plume_lm_batch *b;
    const plume_gen_params *p;
    lm_beam *s;
    int32_t *prompt;
    int n_prompt;
    int index;             /* the prompt's index in the call */
    int base;              /* its first sequence in the batch */
    float *first;          /* the prompt's logits [vocab] */
    int n_pending, first_step;
    int *fork_dst, *fork_src, *n_forks, cap_forks;  /* the group's pending copies */
    int slots[BEAM_MAX];
    int32_t last[BEAM_MAX];
} beam_job;

static void log_softmax(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > mx) mx = x[i];
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)x[i] - mx);
    float lz = mx + (float)log(sum);
    for (int i = 0; i < n; i++) x[i] -= lz;
}

/* Forks are collected, then copied all in one submit before the next decode. */
static int beam_copy(void *user, int dst, int src, plume_error *err) {
    beam_job *j = user;
    if (*j->n_forks >= j->cap_forks) return plume_fail(err, "%s: too many forks in one step", j->lm->path);
    j->fork_dst[*j->n_forks] = j->base + dst;
    j->fork_src[(*j->n_forks)++] = j->base + src;
    return 0;
}

static int beam_finished(void *user, const int32_t *tokens, int n) {
    beam_job *j = user;
    if (!j->p->n_stop) return 0;
    lm_strbuf s = { 0 };
    if (lm_append_pieces(j->lm, &s, j->prompt[j->n_prompt - 1], tokens, n)) {
        free(s.s);
        return 0;
    }
    int hit = find_stop(j->p, s.s, 0) != NULL;
    free(s.s);
    return hit;
}

/* Runs the jobs (prompts) of one group to the end and fills their results. */
static int run_beam_group(plume_lm *lm, beam_job *jobs, int G, const plume_gen_params *p, int max_len,
                          plume_gen_result *out, plume_error *err) {
    const int V = lm->info.vocab_size, B = p->beams;
    int rc = -1;
    plume_lm_batch *b = plume_lm_batch_create(lm, G * B, max_len, err);
    float *logits = malloc((size_t)G * B * V * sizeof *logits);
    int *seqs = malloc((size_t)G * B * sizeof *seqs);
    int32_t *toks = malloc((size_t)G * B * sizeof *toks);
    int *fork_dst = malloc((size_t)G * B * sizeof *fork_dst), *fork_src = malloc((size_t)G * B * sizeof *fork_src);
    int n_forks = 0;
    if (!b) goto out;
    if (!logits || !seqs || !toks || !fork_dst || !fork_src) {
        plume_fail(err, "%s: out of memory for beam search", lm->path);
        goto out;
    }
    for (int k = 0; k < G; k++) {
        beam_job *j = &jobs[k];
        j->b = b;
        j->base = k * B;
        j->fork_dst = fork_dst;
        j->fork_src = fork_src;
        j->n_forks = &n_forks;
        j->cap_forks = G * B;
        int limit = token_limit(p, j->index, max_len, j->n_prompt);
        plume_beam_params bp = { B, V, limit, p->ignore_eos ? -1 : lm->info.eos, p->length_penalty, NULL, 0 };
        if (lm->tok && !p->ignore_eos) {
            const int32_t *eog;
            bp.n_more_eos = (int)plume_tokenizer_eog(lm->tok, &eog);
            bp.more_eos = eog;
        }
        if (!(j->s = lm_beam_create(&bp, err))) goto out;
        if (set_step_mix(lm, b, p, j->index, j->base, j->prompt, j->n_prompt, NULL, 0, err) ||
            plume_lm_prefill(b, j->base, j->prompt, j->n_prompt, j->first, err))
            goto out;
    }
    for (;;) {
        int rows = 0, any = 0;
        for (int k = 0; k < G; k++) {
            beam_job *j = &jobs[k];
            j->n_pending = lm_beam_pending(j->s, j->slots, j->last);
            j->first_step = j->n_pending > 0 && j->last[0] < 0;
            any |= j->n_pending > 0;
            if (j->n_pending == 0 || j->first_step) continue;
            for (int i = 0; i < j->n_pending; i++) {
                int n_gen;
                const int32_t *gen = lm_beam_pending_tokens(j->s, i, &n_gen);
                if (set_step_mix(lm, b, p, j->index, j->base + j->slots[i], j->prompt, j->n_prompt, gen, n_gen, err))
                    goto out;
                seqs[rows] = j->base + j->slots[i];
                toks[rows++] = j->last[i];
            }
        }
        if (!any) break;
        if (rows && plume_lm_decode(b, rows, seqs, toks, logits, NULL, err)) goto out;
        int r = 0;
        for (int k = 0; k < G; k++) {
            beam_job *j = &jobs[k];
            if (j->n_pending == 0) continue;
            float *lp = lm_beam_logprobs(j->s);
            if (j->first_step) {
                memcpy(lp, j->first, (size_t)V * sizeof *lp);
            } else {
                memcpy(lp, logits + (size_t)r * V, (size_t)j->n_pending * V * sizeof *lp);
                r += j->n_pending;
            }
            for (int i = 0; i < j->n_pending; i++) log_softmax(lp + (size_t)i * V, V);
            if (lm_beam_advance(j->s, beam_copy, beam_finished, j, err)) goto out;
        }
        if (n_forks && lm_batch_copy_many(b, n_forks, fork_dst, fork_src, err)) goto out;
        n_forks = 0;
    }
    for (int k = 0; k < G; k++) {
        beam_job *j = &jobs[k];
        plume_beam_result best;
        lm_strbuf text = { 0 };
        if (lm_beam_result(j->s, &best, err)) goto out;
        if (lm_append_pieces(lm, &text, j->prompt[j->n_prompt - 1], best.tokens, best.n_tokens)) {
            free(best.tokens);
            free(text.s);
            plume_fail(err, "%s: out of memory in beam search", lm->path);
            goto out;
        }
        const char *reason = best.finished ? "eos" : "length";
        char *stop = find_stop(p, text.s, 0);
        if (stop) {
            text.len = (size_t)(stop - text.s);
            text.s[text.len] = 0;
            reason = "stop";
        }
        out[k] = (plume_gen_result){ text.s, best.tokens, best.n_tokens, j->n_prompt, reason, best.logprob };
    }
    rc = 0;
out:
    for (int k = 0; k < G; k++) {
        lm_beam_free(jobs[k].s);
        jobs[k].s = NULL;
    }
    plume_lm_batch_free(b);
    free(logits);
    free(seqs);
    free(toks);
    free(fork_dst);
    free(fork_src);
    return rc;
}

static int generate_beams(plume_lm *lm, const char *const *prompts, int n, const plume_gen_params *p,
                          plume_gen_result *out, plume_error *err) {
    const int V = lm->info.vocab_size, B = p->beams;
    int rc = -1, longest = 0;
    if (B > BEAM_MAX) return plume_fail(err, "%s: %d beams; at most %d", lm->path, B, BEAM_MAX);
    beam_job *jobs = calloc((size_t)n, sizeof *jobs);
    if (!jobs) return plume_fail(err, "%s: out of memory for %d prompts", lm->path, n);
    for (int i = 0; i < n; i++) {
        jobs[i] = (beam_job){ .lm = lm, .p = p, .index = i };
        if (!(jobs[i].prompt = lm_tokenize_alloc(lm, prompts[i], p->add_bos, p->parse_special, &jobs[i].n_prompt, err))) goto out;
        if (jobs[i].n_prompt == 0) {
            plume_fail(err, "%s: prompt %d is empty and the model has no BOS token to start from", lm->path, i);
            goto out;
        }
        if (jobs[i].n_prompt >= lm->info.ctx_len) {
            plume_fail(err, "%s: prompt %d has %d tokens, which leaves no room in the context of %d", lm->path, i,
                       jobs[i].n_prompt, lm->info.ctx_len);
            goto out;
        }
        if (!(jobs[i].first = malloc((size_t)V * sizeof(float)))) {
            plume_fail(err, "%s: out of memory", lm->path);
            goto out;
        }
        if (jobs[i].n_prompt > longest) longest = jobs[i].n_prompt;
    }
    int max_len = longest + p->max_tokens < lm->info.ctx_len ? longest + p->max_tokens : lm->info.ctx_len;
    /* as many prompts per group as keep their beams' KV caches within BEAM_CACHE_BYTES */
    const uint64_t per_prompt = (uint64_t)B * max_len * lm->info.head_dim * lm->info.n_kv_heads * 4 * 2 *
                                (uint64_t)lm->info.n_layers;
    int group = n;
    while (group > 1 && per_prompt * (uint64_t)group > BEAM_CACHE_BYTES) group--;
    for (int first = 0; first < n; first += group) {
        int G = n - first < group ? n - first : group;
        if (run_beam_group(lm, jobs + first, G, p, max_len, out + first, err)) goto out;
        for (int k = 0; p->on_text && k < G; k++)
            if (out[first + k].text[0] && p->on_text(p->user, first + k, out[first + k].text)) {
                out[first + k].stop_reason = "stop";
                break;
            }
    }
    rc = 0;
out:
    if (rc)
        for (int i = 0; i < n; i++) plume_gen_result_free(&out[i]);
    for (int i = 0; i < n; i++) {
        free(jobs[i].prompt);
        free(jobs[i].first);
    }
    free(jobs);
    return rc;
}

int plume_lm_generate(plume_lm *lm, const char *const *prompts, int n, const plume_gen_params *params,
                      plume_gen_result *out, plume_error *err) {
    plume_gen_params p;
    if (params) p = *params;
    else plume_gen_params_default(&p);
    if (n < 1) return plume_fail(err, "%s: generate needs at least one prompt", lm->path);
    if (p.max_tokens < 1 || p.max_tokens > lm->info.ctx_len)
        return plume_fail(err, "%s: max_tokens %d is out of range (1..the context length %d)", lm->path,
                          p.max_tokens, lm->info.ctx_len);
    if (!lm->tok) return lm_no_tokenizer(lm, err);
    memset(out, 0, (size_t)n * sizeof *out);
    if (p.beams <= 1) return generate_sampling(lm, prompts, n, &p, out, err);
    return generate_beams(lm, prompts, n, &p, out, err);
}

