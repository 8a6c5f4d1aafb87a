/* The training loop: data order, micro-batches, the optimizer step, evaluation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plume/dist.h"
#include "trainer.h"

/* ---- the schedule --------------------------------------------------------------- */

void plume_train_params_default(plume_train_params *p) {
    memset(p, 0, sizeof *p);
    p->lr = 1e-3;
    p->decay = PLUME_DECAY_CONSTANT;
    p->steps = 1000;
    p->batch = 4;
    p->accum = 1;
    p->seq_len = 128;
    p->weight_decay = 0.1;
    p->clip = 1.0;
    p->beta1 = 0.9;
    p->beta2 = 0.95;
    p->eps = 1e-8;
    p->seed = 1;
}

static const char *decay_names[] = {"constant", "linear", "cosine", "sqrt"};

const char *plume_decay_name(plume_decay d) {
    return (unsigned)d < 4 ? decay_names[d] : "?";
}

int plume_decay_parse(const char *s, plume_decay *out) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, decay_names[i])) {
            *out = (plume_decay)i;
            return 0;
        }
    return -1;
}

double plume_train_lr(const plume_train_params *p, int step) {
    if (p->warmup > 0 && step < p->warmup) return p->lr * (step + 1) / p->warmup;
    double span = p->steps - p->warmup, f = span > 0 ? (step - p->warmup) / span : 1.0;
    if (f > 1) f = 1;
    if (f < 0) f = 0;
    switch (p->decay) {
    case PLUME_DECAY_LINEAR: return p->min_lr + (p->lr - p->min_lr) * (1 - f);
    case PLUME_DECAY_COSINE: return p->min_lr + (p->lr - p->min_lr) * 0.5 * (1 + cos(M_PI * f));
    case PLUME_DECAY_SQRT: {
        double lr = p->lr * sqrt((double)(p->warmup > 0 ? p->warmup : 1) / (step + 1));
        return lr > p->min_lr ? lr : p->min_lr;
    }
    default: return p->lr;
    }
}

/* ---- random numbers (splitmix64: the init and the data order) ---------------------- */

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) {
    return ((mix(s) >> 11) + 0.5) / 9007199254740992.0;  /* (0, 1) */
}

static double normal(uint64_t *s) {
    double u = uniform(s), v = uniform(s);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static int init_random(plume_trainer *t, plume_error *err) {
    uint64_t s = t->p.seed * 0x2545f4914f6cdd1dull + 1;
    for (int i = 0; i < t->n_params; i++) {
        tparam *p = &t->params[i];
        float *f = malloc((size_t)p->count * 4);
        if (!f) return plume_fail(err, "train: out of memory initialising %s", p->name);
        double sd = 0.02;
        if (strstr(p->name, "attn_output") || strstr(p->name, "ffn_down")) sd /= sqrt(2.0 * t->shape.n_layers);
        for (uint32_t j = 0; j < p->count; j++) f[j] = p->rows == 1 ? 1.0f : (float)(normal(&s) * sd);
        int rc = plume_gpu_upload(p->w, 0, f, (uint64_t)p->count * 4, err);
        free(f);
        if (rc) return -1;
    }
    return 0;
}

/* ---- creation -------------------------------------------------------------------- */

int trainer_check_shape(const plume_train_shape *s, plume_error *err) {
    if (s->dim < 2 || s->dim > 65536 || s->hidden_dim < 1 || s->hidden_dim > 262144 || s->n_layers < 1 ||
        s->n_layers > 1024 || s->n_heads < 1 || s->n_kv_heads < 1 || s->n_heads % s->n_kv_heads ||
        s->dim % s->n_heads || (s->dim / s->n_heads) % 2 || s->dim / s->n_heads > 256 || s->vocab_size < 2 ||
        s->vocab_size > (1 << 22) || s->ctx_len < 2)
        return plume_fail(err, "train: model shape dim %d, hidden %d, layers %d, heads %d/%d kv, vocab %d, ctx %d is "
                               "not usable; hint: dim a multiple of heads with an even head size <= 256, heads a "
                               "multiple of kv heads",
                          s->dim, s->hidden_dim, s->n_layers, s->n_heads, s->n_kv_heads, s->vocab_size, s->ctx_len);
    /* every tensor's element count must fit the kernels' 32-bit indices (with room) */
    if ((uint64_t)s->vocab_size * (uint64_t)s->dim > (1ull << 30) ||
        (uint64_t)s->hidden_dim * (uint64_t)s->dim > (1ull << 30))
        return plume_fail(err, "train: a %d x %d or %d x %d matrix exceeds 2^30 elements; hint: a smaller model",
                          s->vocab_size, s->dim, s->hidden_dim, s->dim);
    return 0;
}

static int check_params(const plume_train_params *p, const plume_train_shape *s, plume_error *err) {
    if (!(p->lr > 0) || p->min_lr < 0 || p->warmup < 0 || p->steps < 1 || p->batch < 1 || p->accum < 1 ||
        p->seq_len < 1 || p->seq_len > s->ctx_len || p->weight_decay < 0 || !(p->beta1 >= 0 && p->beta1 < 1) ||
        !(p->beta2 >= 0 && p->beta2 < 1) || !(p->eps > 0) || (uint32_t)p->decay > PLUME_DECAY_SQRT)
        return plume_fail(err, "train: hyper-parameters out of range (lr %g > 0, warmup %d >= 0, steps %d >= 1, "
                               "batch %d >= 1, accumulation %d >= 1, seq_len %d in 1..ctx %d, betas in [0, 1))",
                          p->lr, p->warmup, p->steps, p->batch, p->accum, p->seq_len, s->ctx_len);
    if ((uint64_t)p->batch * (uint64_t)p->seq_len > 65535)
        return plume_fail(err, "train: batch %d x seq_len %d exceeds 65535 rows per micro-batch; hint: use "
                               "accumulation instead", p->batch, p->seq_len);
    uint64_t rows = (uint64_t)p->batch * (uint64_t)p->seq_len;
    uint64_t widest = (uint64_t)(s->vocab_size > s->hidden_dim ? s->vocab_size : s->hidden_dim);
    if (rows * widest > (1ull << 30))
        return plume_fail(err, "train: %llu rows x %llu logits per micro-batch exceed 2^30 values; hint: a smaller "
                               "batch or seq_len with more accumulation", (unsigned long long)rows,
                          (unsigned long long)widest);
    return 0;
}

plume_trainer *plume_trainer_create(const plume_train_shape *shape, const char *init, const plume_train_params *p,
                                    plume_error *err) {
    plume_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        plume_fail(err, "train: out of memory");
        return NULL;
    }
    t->p = *p;
    t->perm_epoch = -1;
    if (!(t->gpu = plume_gpu_open(err))) goto fail;
    if (shape) {
        t->shape = *shape;
        if (t->shape.rope_base <= 0) t->shape.rope_base = 10000.0f;
        if (t->shape.norm_eps <= 0) t->shape.norm_eps = 1e-5f;
        if (trainer_check_shape(&t->shape, err) || check_params(p, &t->shape, err) || trainer_alloc_params(t, err) ||
            init_random(t, err))
            goto fail;
    } else {
        if (!init) {
            plume_fail(err, "train: neither a model shape nor a starting GGUF");
            goto fail;
        }
        if (!(t->init_path = strdup(init))) {
            plume_fail(err, "train: out of memory");
            goto fail;
        }
        /* reads the shape, allocates the parameters and uploads the file's weights */
        if (trainer_load_gguf(t, init, err) || check_params(p, &t->shape, err)) goto fail;
    }
    t->n = (uint32_t)(p->batch * p->seq_len);
    if (trainer_alloc_acts(t, err) || trainer_record(t, err)) goto fail;
    return t;
fail:
    plume_trainer_free(t);
    return NULL;
}

void plume_trainer_free(plume_trainer *t) {
    if (!t) return;
    trainer_free_device(t);
    plume_gpu_close(t->gpu);
    free(t->init_path);
    free(t->tok);
    free(t->ex_off);
    free(t->ex_len);
    free(t->ex_prompt);
    free(t->mask);
    free(t->ex_targets);
    free(t->perm);
    free(t);
}

const plume_train_shape *plume_trainer_shape(const plume_trainer *t) { return &t->shape; }
const plume_train_params *plume_trainer_params(const plume_trainer *t) { return &t->p; }
int plume_trainer_step_count(const plume_trainer *t) { return t->step; }
int plume_trainer_n_params(const plume_trainer *t) { return t->n_params; }

const char *plume_trainer_param(const plume_trainer *t, int i, uint32_t *rows, uint32_t *cols) {
    if (i < 0 || i >= t->n_params) return NULL;
    if (rows) *rows = t->params[i].rows;
    if (cols) *cols = t->params[i].cols;
    return t->params[i].name;
}

int plume_trainer_read(plume_trainer *t, int i, int which, float *out, plume_error *err) {
    if (i < 0 || i >= t->n_params) return plume_fail(err, "train: no parameter %d", i);
    tparam *p = &t->params[i];
    return plume_gpu_download(which ? p->g : p->w, 0, out, (uint64_t)p->count * 4, err);
}

int plume_trainer_write(plume_trainer *t, int i, const float *in, plume_error *err) {
    if (i < 0 || i >= t->n_params) return plume_fail(err, "train: no parameter %d", i);
    tparam *p = &t->params[i];
    return plume_gpu_upload(p->w, 0, in, (uint64_t)p->count * 4, err);
}

/* ---- data ------------------------------------------------------------------------- */

static int check_example(const plume_trainer *t, const plume_train_example *e, int i, plume_error *err) {
    if (!e->tokens || e->n_tokens < 2 || e->n_prompt < 1 || e->n_prompt >= e->n_tokens)
        return plume_fail(err, "train: example %d has %d tokens with a prompt of %d; it needs at least one prompt "
                               "token (BOS) and one target token", i, e->n_tokens, e->n_prompt);
    for (int j = 0; j < e->n_tokens; j++)
        if (e->tokens[j] < 0 || e->tokens[j] >= t->shape.vocab_size)
            return plume_fail(err, "train: example %d: token %d (at %d) is outside the vocabulary of %d", i,
                              e->tokens[j], j, t->shape.vocab_size);
    return 0;
}

/* What of example E one sequence of seq_len tokens holds (seq_len + 1 with the last target):
 * everything when it fits; else the start of the prompt and as much of the target as fits,
 * at least one prompt token (BOS): the end of a long prompt is dropped first (as an
 * encoder truncates its input's end), so the target and the prompt's beginning (the
 * immediate context) stay. Writes the tokens to dst; returns the length, *prompt the
 * prompt tokens kept. */
static int view_example(const plume_train_example *e, int seq_len, int32_t *dst, int *prompt) {
    int keep = seq_len + 1;
    if (e->targets) {   /* a packed row names its targets: its start is kept, as many tokens as fit */
        if (keep > e->n_tokens) keep = e->n_tokens;
        memcpy(dst, e->tokens, (size_t)keep * sizeof *dst);
        *prompt = 1;
        return keep;
    }
    if (e->n_tokens <= keep) {
        memcpy(dst, e->tokens, (size_t)e->n_tokens * sizeof *dst);
        *prompt = e->n_prompt;
        return e->n_tokens;
    }
    int target = e->n_tokens - e->n_prompt;
    int head = keep - target;
    if (head < 1) head = 1;
    if (head > e->n_prompt) head = e->n_prompt;
    memcpy(dst, e->tokens, (size_t)head * sizeof *dst);
    memcpy(dst + head, e->tokens + e->n_prompt, (size_t)(keep - head) * sizeof *dst);
    *prompt = head;
    return keep;
}

/* Target tokens a viewed example (view_example) contributes. */
static long example_targets(int len, int n_prompt) {
    long n = len - (n_prompt > 1 ? n_prompt : 1);
    return n > 0 ? n : 0;
}

/* Whether token i of a viewed example of `prompt` prompt tokens is a target: the rule
 * fill_batch applies to examples that do not name their targets. */
static int rule_target(int i, int prompt) { return i >= 1 && i >= (prompt > 1 ? prompt : 1); }

/* The target tokens of example E as view_example keeps it (len tokens, prompt of them). */
static long kept_targets(const plume_train_example *e, int len, int prompt) {
    if (!e->targets) return example_targets(len, prompt);
    long n = 0;
    for (int i = 1; i < len; i++) n += e->targets[i] != 0;
    return n;
}

int plume_trainer_set_data(plume_trainer *t, const plume_train_example *ex, int n, plume_error *err) {
    if (n < 1) return plume_fail(err, "train: no training examples");
    size_t total = 0;
    int named = 0;   /* examples that name their targets */
    for (int i = 0; i < n; i++) {
        if (check_example(t, &ex[i], i, err)) return -1;
        total += (size_t)(ex[i].n_tokens < t->p.seq_len + 1 ? ex[i].n_tokens : t->p.seq_len + 1);
        named += ex[i].targets != NULL;
    }
    int32_t *tok = malloc(total * sizeof *tok);
    uint8_t *mask = named ? malloc(total) : NULL;
    int *off = malloc((size_t)n * sizeof *off), *len = malloc((size_t)n * sizeof *len);
    int *pr = malloc((size_t)n * sizeof *pr), *perm = malloc((size_t)n * sizeof *perm);
    long *targets = malloc((size_t)n * sizeof *targets);
    if (!tok || (named && !mask) || !off || !len || !pr || !perm || !targets) {
        free(tok); free(mask); free(off); free(len); free(pr); free(perm); free(targets);
        return plume_fail(err, "train: out of memory for %d examples", n);
    }
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        off[i] = (int)at;
        len[i] = view_example(&ex[i], t->p.seq_len, tok + at, &pr[i]);
        targets[i] = kept_targets(&ex[i], len[i], pr[i]);
        for (int j = 0; mask && j < len[i]; j++)
            mask[at + (size_t)j] = ex[i].targets ? (j >= 1 && ex[i].targets[j]) : (uint8_t)rule_target(j, pr[i]);
        at += (size_t)len[i];
    }
    free(t->tok); free(t->mask); free(t->ex_off); free(t->ex_len); free(t->ex_prompt); free(t->perm);
    free(t->ex_targets);
    t->tok = tok; t->mask = mask; t->ex_off = off; t->ex_len = len; t->ex_prompt = pr; t->perm = perm;
    t->ex_targets = targets;
    t->n_ex = n;
    t->perm_epoch = -1;
    return 0;
}

/* The example at position k of the endless stream: epoch k / n in a seeded order. */
static int stream_example(plume_trainer *t, uint64_t k) {
    int epoch = (int)(k / (uint64_t)t->n_ex);
    if (epoch != t->perm_epoch) {
        uint64_t s = t->p.seed ^ (0x5851f42d4c957f2dull * (uint64_t)(epoch + 1));
        for (int i = 0; i < t->n_ex; i++) t->perm[i] = i;
        for (int i = t->n_ex - 1; i > 0; i--) {
            int j = (int)(mix(&s) % (uint64_t)(i + 1));
            int x = t->perm[i];
            t->perm[i] = t->perm[j];
            t->perm[j] = x;
        }
        t->perm_epoch = epoch;
    }
    return t->perm[k % (uint64_t)t->n_ex];
}

/* Fills the rows and targets of one micro-batch from examples (tok, len, prompt)[0..m);
 * an example with a mask (not NULL) names its targets by it, the others by their prompt. */
static void fill_batch(plume_trainer *t, const int32_t **tok, const int *len, const int *prompt,
                       const uint8_t **mask, int m, double weight) {
    plume_gpu_row *rows = plume_gpu_buffer_map(t->rows);
    plume_train_target *tg = plume_gpu_buffer_map(t->targets);
    const int T = t->p.seq_len;
    for (int b = 0; b < t->p.batch; b++)
        for (int j = 0; j < T; j++) {
            int i = b * T + j;
            int have = b < m ? len[b] : 0;
            uint32_t token = j < have ? (uint32_t)tok[b][j] : 0;
            int target = j + 1 < have && j + 1 <= T ? (int)tok[b][j + 1] : -1;
            int counts = target >= 0 && (b < m && mask[b] ? mask[b][j + 1] != 0
                                                           : j + 1 >= (prompt[b] > 1 ? prompt[b] : 1));
            rows[i] = (plume_gpu_row){token, (uint32_t)j, (uint32_t)b, 0};
            tg[i] = (plume_train_target){target >= 0 ? (uint32_t)target : 0, counts ? (float)weight : 0.0f};
        }
    plume_train_token_index(rows, t->n, (uint32_t)t->shape.vocab_size, plume_gpu_buffer_map(t->tindex));
}

static double batch_loss(plume_trainer *t) {
    const float *l = plume_gpu_buffer_map(t->loss);
    double s = 0;
    for (uint32_t i = 0; i < t->n; i++) s += l[i];
    return s;
}

static int zero_grads(plume_trainer *t, plume_error *err) {
    for (int i = 0; i < t->n_params; i++)
        if (plume_gpu_fill(t->params[i].g, 0, (uint64_t)t->params[i].count * 4, 0, err)) return -1;
    return 0;
}

/* Runs micro-batches over examples given by index list idx[0..m) with weight 1/total. */
static int run_batches(plume_trainer *t, plume_gpu_rec *rec, const plume_train_example *ex, const int *idx, int m,
                       double weight, double *loss, plume_error *err) {
    const int B = t->p.batch, T1 = t->p.seq_len + 1;
    const int32_t **tok = malloc((size_t)B * sizeof *tok);
    const uint8_t **mask = malloc((size_t)B * sizeof *mask);
    int *len = malloc((size_t)B * sizeof *len), *prompt = malloc((size_t)B * sizeof *prompt);
    int32_t *scratch = ex ? malloc((size_t)B * (size_t)T1 * sizeof *scratch) : NULL;
    double sum = 0;
    int rc = tok && mask && len && prompt && (!ex || scratch) ? 0
             : plume_fail(err, "train: out of memory for a batch of %d", B);
    for (int start = 0; !rc && start < m; start += B) {
        int c = m - start < B ? m - start : B;
        for (int b = 0; b < c; b++) {
            if (ex) {
                const plume_train_example *e = &ex[idx ? idx[start + b] : start + b];
                int32_t *dst = scratch + (size_t)b * (size_t)T1;
                len[b] = view_example(e, t->p.seq_len, dst, &prompt[b]);
                tok[b] = dst;
                mask[b] = e->targets;
            } else {
                int k = idx[start + b];
                tok[b] = t->tok + t->ex_off[k];
                len[b] = t->ex_len[k];
                prompt[b] = t->ex_prompt[k];
                mask[b] = t->mask ? t->mask + t->ex_off[k] : NULL;
            }
        }
        fill_batch(t, tok, len, prompt, mask, c, weight);
        rc = plume_gpu_rec_submit(rec, err);
        sum += rc ? 0 : batch_loss(t);
    }
    free(tok);
    free(mask);
    free(len);
    free(prompt);
    free(scratch);
    *loss = sum;
    return rc;
}

/* ---- data parallelism (MPI ranks, plume/dist.h) -------------------------------------- */

/* This rank's part [*lo, *hi) of m examples: contiguous slices, as equal as can be. In a
 * job of one process: all of them. */
static void my_slice(int m, int *lo, int *hi) {
    long r = plume_dist_rank(), n = plume_dist_size();
    *lo = (int)((long)m * r / n);
    *hi = (int)((long)m * (r + 1) / n);
}

/* After work that may fail on some ranks only: all go on, or all fail (so none is left
 * waiting in the next collective). */
static int vote(int rc, const char *what, plume_error *err) {
    int bad;
    if (plume_dist_all_ok(rc == 0, &bad)) return 0;
    if (rc == 0) plume_fail(err, "%s failed on rank %d of %d (its message is above)", what, bad, plume_dist_size());
    return -1;
}

/* Every rank's gradient (each over its slice, already weighted by 1 / the step's global
 * target-token count) summed into every rank's: the full batch's gradient. On host memory
 * (MPI_Allreduce): mapped directly where the device shares memory with the host (lavapipe,
 * integrated GPUs), else through a download and an upload. */
static int reduce_grads(plume_trainer *t, plume_error *err) {
    float *scratch = NULL;
    int rc = 0;
    for (int i = 0; !rc && i < t->n_params; i++) {
        tparam *p = &t->params[i];
        float *g = plume_gpu_buffer_map(p->g);
        if (!g) {
            if (!scratch) {
                uint32_t most = 0;
                for (int k = 0; k < t->n_params; k++)
                    if (t->params[k].count > most) most = t->params[k].count;
                if (!(scratch = malloc((size_t)most * 4))) return plume_fail(err, "train: out of memory");
            }
            rc = plume_gpu_download(p->g, 0, scratch, (uint64_t)p->count * 4, err);
        }
        rc = rc || plume_dist_sum_f32(g ? g : scratch, p->count, err);
        if (!rc && !g) rc = plume_gpu_upload(p->g, 0, scratch, (uint64_t)p->count * 4, err);
    }
    free(scratch);
    return rc;
}

/* FNV-1a over every weight's bytes: equal on every rank, or the replicas diverged. */
static int weights_hash(plume_trainer *t, uint64_t *h, plume_error *err) {
    *h = 1469598103934665603ull;
    for (int i = 0; i < t->n_params; i++) {
        tparam *p = &t->params[i];
        const unsigned char *w = plume_gpu_buffer_map(p->w);
        unsigned char *copy = NULL;
        if (!w) {
            if (!(copy = malloc((size_t)p->count * 4))) return plume_fail(err, "train: out of memory");
            if (plume_gpu_download(p->w, 0, copy, (uint64_t)p->count * 4, err)) return free(copy), -1;
            w = copy;
        }
        for (size_t k = 0; k < (size_t)p->count * 4; k++) *h = (*h ^ w[k]) * 1099511628211ull;
        free(copy);
    }
    return 0;
}

int plume_trainer_check_replicas(plume_trainer *t, plume_error *err) {
    if (plume_dist_size() == 1) return 0;
    uint64_t h = 0;
    int rc = vote(weights_hash(t, &h, err), "hashing the weights", err);
    if (rc) return rc;
    /* the hash's halves are exact in doubles: the largest equals the smallest on every rank */
    double v[4] = {(double)(h >> 32), (double)(h & 0xffffffffu), -(double)(h >> 32), -(double)(h & 0xffffffffu)};
    if (plume_dist_max_f64(v, 4, err)) return -1;
    if (v[0] != -v[2] || v[1] != -v[3])
        return plume_fail(err, "train step %d: the ranks' weights differ (rank %d's hash %016llx); the replicas "
                          "diverged, which is a bug: please report it", t->step, plume_dist_rank(),
                          (unsigned long long)h);
    return 0;
}

static int global_norm(plume_trainer *t, double *norm, plume_error *err) {
    if (plume_gpu_rec_submit(t->rec_norm, err)) return -1;
    double s = 0;
    for (int i = 0; i < t->n_params; i++) {
        const float *sq = plume_gpu_buffer_map(t->params[i].sq);
        uint32_t chunks = (t->params[i].count + PLUME_TRAIN_SUMSQ_CHUNK - 1) / PLUME_TRAIN_SUMSQ_CHUNK;
        for (uint32_t k = 0; k < chunks; k++) s += sq[k];
    }
    *norm = sqrt(s);
    return 0;
}

static int apply_adamw(plume_trainer *t, double lr, double gscale, plume_error *err) {
    const int step = t->step + 1;
    plume_gpu_rec *rec = plume_gpu_rec_begin(t->gpu, err);
    if (!rec) return -1;
    int rc = 0;
    for (int i = 0; !rc && i < t->n_params; i++) {
        tparam *p = &t->params[i];
        plume_adamw_step s = {(float)lr, (float)t->p.beta1, (float)t->p.beta2, (float)t->p.eps,
                              p->decay ? (float)t->p.weight_decay : 0.0f, (float)gscale,
                              (float)(1 - pow(t->p.beta1, step)), (float)(1 - pow(t->p.beta2, step))};
        rc = plume_train_adamw(rec, p->w, p->g, p->m, p->v, p->count, &s, err);
    }
    rc = rc || plume_gpu_rec_end(rec, err) || plume_gpu_rec_submit(rec, err);
    plume_gpu_rec_free(rec);
    return rc;
}

int plume_trainer_step(plume_trainer *t, plume_train_stats *stats, plume_error *err) {
    if (t->n_ex < 1) return plume_fail(err, "train: no training data (plume_trainer_set_data)");
    const int m = t->p.batch * t->p.accum;
    int *idx = malloc((size_t)m * sizeof *idx);
    if (!idx) return plume_fail(err, "train: out of memory");
    long total = 0;
    uint64_t k0 = (uint64_t)t->step * (uint64_t)m;
    for (int i = 0; i < m; i++) {
        idx[i] = stream_example(t, k0 + (uint64_t)i);
        total += t->ex_targets[idx[i]];
    }
    double loss = 0, norm = 0;
    /* In a job of N ranks each computes the gradient of its slice of the step's examples with
     * the weight of the whole step (1 / all its target tokens), and the sum over the ranks is
     * then the gradient of the whole batch: the same step as one process, up to the order of
     * the float additions. Every rank then clips by the same global norm and applies the same
     * update, so the replicas stay identical. */
    int lo, hi;
    my_slice(m, &lo, &hi);
    int rc = zero_grads(t, err) ||
             run_batches(t, t->rec_train, NULL, idx + lo, hi - lo, total ? 1.0 / (double)total : 0.0, &loss, err);
    if (plume_dist_size() > 1)
        rc = vote(rc, "the gradient", err) || reduce_grads(t, err) || plume_dist_sum_f64(&loss, 1, err);
    rc = rc || global_norm(t, &norm, err);
    free(idx);
    if (rc) return plume_fail_prefix(err, "train step %d: ", t->step + 1);
    if (!isfinite(norm))
        return plume_fail(err, "train step %d: the gradient is not finite (norm %g); hint: a lower learning rate",
                          t->step + 1, norm);
    double lr = plume_train_lr(&t->p, t->step);
    double gscale = t->p.clip > 0 && norm > t->p.clip ? t->p.clip / norm : 1.0;
    if (apply_adamw(t, lr, gscale, err)) return plume_fail_prefix(err, "train step %d: ", t->step + 1);
    t->step++;
    if (stats) *stats = (plume_train_stats){t->step, loss, lr, norm, total};
    return 0;
}

static int check_set(plume_trainer *t, const plume_train_example *ex, int n, long *total, plume_error *err) {
    *total = 0;
    for (int i = 0; i < n; i++) {
        if (check_example(t, &ex[i], i, err)) return -1;
        int keep = ex[i].n_tokens < t->p.seq_len + 1 ? ex[i].n_tokens : t->p.seq_len + 1;
        int target = ex[i].n_tokens - ex[i].n_prompt, head = keep - target;
        if (head < 1) head = 1;
        if (head > ex[i].n_prompt) head = ex[i].n_prompt;
        *total += kept_targets(&ex[i], keep, ex[i].targets ? 1 : head);   /* as view_example keeps it */
    }
    return 0;
}

int plume_trainer_eval(plume_trainer *t, const plume_train_example *ex, int n, double *loss, plume_error *err) {
    long total;
    if (n < 1) return plume_fail(err, "train: evaluation on no examples");
    if (check_set(t, ex, n, &total, err)) return -1;
    if (total == 0) return plume_fail(err, "train: the evaluation examples have no target tokens");
    /* over several ranks: each its slice, weighted by the whole set's target count, summed */
    int lo, hi;
    my_slice(n, &lo, &hi);
    int rc = run_batches(t, t->rec_eval, ex + lo, NULL, hi - lo, 1.0 / (double)total, loss, err);
    if (plume_dist_size() > 1) rc = vote(rc, "the evaluation", err) || plume_dist_sum_f64(loss, 1, err);
    return rc;
}

int plume_trainer_gradients(plume_trainer *t, const plume_train_example *ex, int n, double *loss, plume_error *err) {
    long total;
    double l;
    if (n < 1 || n > t->p.batch) return plume_fail(err, "train: gradients of %d examples (1..batch %d)", n, t->p.batch);
    if (check_set(t, ex, n, &total, err)) return -1;
    if (zero_grads(t, err) || run_batches(t, t->rec_train, ex, NULL, n, total ? 1.0 / (double)total : 0.0, &l, err))
        return -1;
    if (loss) *loss = l;
    return 0;
}
