/* A personal memory: what followed the current suffix in a user's own texts.
 *
 * The texts are tokenized with the model's tokenizer and laid end to end, each followed by a
 * boundary no match crosses. For every n-gram length L in min_match..max_match an index holds,
 * sorted by hash, every position whose preceding L tokens lie inside one text. A query hashes
 * the last L tokens of the history (prompt, then what was generated), longest L first, and
 * looks the hash up; the candidates are checked token by token (hashes may collide). The first L
 * with a match wins: the next tokens after all its occurrences, counted, are the distribution
 * (the most frequent PLUME_MIX_MAX). This is the "continuous cache" of Grave et al. (2017) and
 * kNN-LM of Khandelwal et al. (2020) with exact suffix matches for neighbours: it needs no
 * embeddings, so it works with any model.
 *
 * A followed memory (params.follow) keeps to one place in the texts, a cursor, as a copying
 * writer does, and proposes the one token there. The cursor starts where the prompt's end matches
 * (at least anchor_match tokens; a context cut inside a word is matched by its text, and the
 * cursor starts inside the document's token for that word), or else at the first text's body (on
 * a line of its own when the prompt ends inside a word). Each token generated moves it one step
 * on when it is the token proposed; else it stays when the history's end still matches just
 * before it (the model wrote once more a token the text repeats); else to the nearest place ahead
 * that the history's longest suffix of anchor_match or more tokens matches; else nowhere (the
 * model wrote a word of its own, and the text resumes after it). Matches behind the cursor are
 * never taken, so no passage is written twice; at a text's end it proposes end-of-sequence. The
 * cursor is a function of the history, as the mix callback's contract asks (beam hypotheses each
 * have their own); a small table keyed by the history's hash keeps each step to one move. */
#include <stdlib.h>
#include <string.h>
#include "lm_internal.h"

typedef struct gram {
    uint64_t hash;
    uint32_t at;   /* the position after the gram: its next token is tokens[at] */
} gram;

/* A followed memory's cursor after a history (key: the history's hash; 0: an empty slot). */
typedef struct cursor_slot {
    uint64_t key;
    int64_t cursor;
} cursor_slot;

enum { CURSOR_SLOTS = 4096 };

struct plume_memory {
    plume_memory_params p;
    int32_t *tokens;    /* the texts, each followed by -1 */
    size_t n;
    size_t body;        /* where the first text's body starts: a followed memory's cursor without an anchor */
    int32_t eos;        /* the model's end-of-sequence token, proposed at a text's end when followed; -1: none */
    int32_t line_break; /* "\n" as one token, put before a body that follows a word; -1: none */
    const plume_tokenizer *tok;   /* the model's, which outlives the memory */
    cursor_slot *cursors;   /* followed only */
    gram **index;       /* [max_match - min_match + 1], each sorted by hash */
    size_t *count;
    int median;         /* the texts' median length in tokens */
    int32_t out_tokens[PLUME_MIX_MAX];
    float out_probs[PLUME_MIX_MAX];
};

static uint64_t hash_step(uint64_t h, int32_t t) { return (h ^ (uint64_t)(uint32_t)t) * 0x100000001b3ull; }

static uint64_t hash_gram(const int32_t *t, int len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < len; i++) h = hash_step(h, t[i]);
    return h;
}

static int by_hash(const void *a, const void *b) {
    const gram *x = a, *y = b;
    return x->hash < y->hash ? -1 : x->hash > y->hash ? 1 : x->at < y->at ? -1 : x->at > y->at;
}

static int by_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void plume_memory_params_default(plume_memory_params *p) {
    *p = (plume_memory_params){ .weight = 0.5f, .min_match = 3, .max_match = 16, .follow = 0, .anchor_match = 4 };
}

void plume_memory_free(plume_memory *m) {
    if (!m) return;
    for (int l = 0; m->index && l <= m->p.max_match - m->p.min_match; l++) free(m->index[l]);
    free(m->index);
    free(m->count);
    free(m->cursors);
    free(m->tokens);
    free(m);
}

plume_memory *plume_memory_create(plume_lm *lm, const char *const *texts, const size_t *lens, const size_t *bodies,
                                  int n_texts, const plume_memory_params *params, plume_error *err) {
    plume_memory_params p;
    if (params) p = *params;
    else plume_memory_params_default(&p);
    if (p.min_match < 1 || p.max_match < p.min_match || p.max_match > 64 || !(p.weight >= 0 && p.weight < 1) ||
        (p.follow && (p.anchor_match < p.min_match || p.anchor_match > p.max_match))) {
        plume_fail(err, "%s: memory: min_match %d, max_match %d, weight %g and anchor_match %d are out of range "
                        "(1 <= min_match <= max_match <= 64, weight in [0, 1), followed: min_match <= anchor_match "
                        "<= max_match)", lm->path, p.min_match, p.max_match, p.weight, p.anchor_match);
        return NULL;
    }
    if (!lm->tok) {
        lm_no_tokenizer(lm, err);
        plume_fail_prefix(err, "memory: ");
        return NULL;
    }
    plume_memory *m = calloc(1, sizeof *m);
    if (!m) goto oom;
    m->p = p;
    m->eos = plume_tokenizer_eos(lm->tok);
    m->tok = lm->tok;
    m->line_break = -1;
    int32_t *nl = NULL;
    size_t n_nl = 0, nl_len = 0;
    if (plume_tokenize(lm->tok, "\n", 1, false, &nl, &n_nl, err)) goto fail;
    /* (an SPM tokenizer may put its space prefix first: the line break is the last token) */
    const char *piece = n_nl ? plume_token_piece(lm->tok, -1, nl[n_nl - 1], &nl_len) : NULL;
    if (piece && nl_len == 1 && *piece == '\n') m->line_break = nl[n_nl - 1];
    free(nl);
    size_t cap = 0;
    int *lengths_of = calloc(n_texts > 0 ? (size_t)n_texts : 1, sizeof *lengths_of);
    if (!lengths_of) goto oom;
    for (int i = 0; i < n_texts; i++) {
        int32_t *ids = NULL, *rest = NULL;
        size_t k = 0, k_rest = 0, body = bodies && bodies[i] <= lens[i] ? bodies[i] : 0;
        /* a title and a body are tokenized apart, so that the body starts on a token */
        if (plume_tokenize(lm->tok, texts[i], body, false, &ids, &k, err) ||
            plume_tokenize(lm->tok, texts[i] + body, lens[i] - body, false, &rest, &k_rest, err)) {
            free(ids);
            plume_fail_prefix(err, "%s: memory text %d: ", lm->path, i);
            free(lengths_of);
            plume_memory_free(m);
            return NULL;
        }
        if (k_rest) {
            int32_t *all = realloc(ids, (k + k_rest) * sizeof *all);
            if (!all) {
                free(ids);
                free(rest);
                free(lengths_of);
                goto oom;
            }
            memcpy(all + k, rest, k_rest * sizeof *rest);
            ids = all;
        }
        free(rest);
        if (i == 0) m->body = m->n + k;
        k += k_rest;
        if (m->n + k + 1 > cap || !m->tokens) {
            size_t nc = (m->n + k + 1) * 2;
            int32_t *nt = realloc(m->tokens, nc * sizeof *nt);
            if (!nt || nc > UINT32_MAX) {
                free(ids);
                free(lengths_of);
                goto oom;
            }
            m->tokens = nt;
            cap = nc;
        }
        memcpy(m->tokens + m->n, ids, k * sizeof *ids);
        m->n += k;
        m->tokens[m->n++] = -1;
        lengths_of[i] = (int)k;
        free(ids);
    }
    qsort(lengths_of, (size_t)n_texts, sizeof *lengths_of, by_int);
    m->median = n_texts ? lengths_of[n_texts / 2] : 0;
    free(lengths_of);
    int lengths = p.max_match - p.min_match + 1;
    if (p.follow && !(m->cursors = calloc(CURSOR_SLOTS, sizeof *m->cursors))) goto oom;
    m->index = calloc((size_t)lengths, sizeof *m->index);
    m->count = calloc((size_t)lengths, sizeof *m->count);
    if (!m->index || !m->count) goto oom;
    for (int l = 0; l < lengths; l++) {
        int L = p.min_match + l;
        if (!(m->index[l] = malloc((m->n ? m->n : 1) * sizeof **m->index))) goto oom;
        /* a gram ends at at - 1, lies inside one text (no -1 in it) and has a next token */
        int run = 0;   /* tokens since the last boundary */
        for (size_t at = 0; at < m->n; at++) {
            if (run >= L && m->tokens[at] >= 0)
                m->index[l][m->count[l]++] = (gram){ hash_gram(m->tokens + at - L, L), (uint32_t)at };
            run = m->tokens[at] < 0 ? 0 : run + 1;
        }
        qsort(m->index[l], m->count[l], sizeof **m->index, by_hash);
    }
    return m;
oom:
    plume_fail(err, "%s: out of memory for a personal memory of %d texts", lm->path, n_texts);
fail:
    plume_memory_free(m);
    return NULL;
}

/* The history's token i (counted from its end: back 1 is the last), across prompt and gen. */
static int32_t back(const int32_t *a, int na, const int32_t *b, int nb, int k) {
    return k <= nb ? b[nb - k] : a[na - (k - nb)];
}

/* The history's last L tokens into q and their hash; the index's first gram with that hash. */
static size_t first_gram(const plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                         int L, int32_t *q, uint64_t *h) {
    for (int i = 0; i < L; i++) q[i] = back(prompt, n_prompt, gen, n_gen, L - i);
    *h = hash_gram(q, L);
    const gram *g = m->index[L - m->p.min_match];
    size_t lo = 0, hi = m->count[L - m->p.min_match];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g[mid].hash < *h) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* A followed cursor is a position in the tokens, or, where the context ends inside one of the
 * document's tokens (a word the context cut, or a space the document's next word carries), that
 * token and how many of its bytes the context already has: a healed cursor. */
#define HEALED ((int64_t)1 << 62)

static int64_t healed(int64_t at, size_t bytes) { return HEALED | (int64_t)bytes << 32 | at; }
static int is_healed(int64_t c) { return c >= 0 && (c & HEALED); }
static int64_t healed_at(int64_t c) { return c & 0xffffffff; }
static size_t healed_bytes(int64_t c) { return (size_t)((c & ~HEALED) >> 32); }

/* The bytes of the document's token at `at` (which some token of its text precedes). */
static const char *doc_piece(const plume_memory *m, int64_t at, size_t *len) {
    const char *piece = plume_token_piece(m->tok, m->tokens[at - 1], m->tokens[at], len);
    if (!piece) *len = 0;
    return piece ? piece : "";
}

/* The cursor after `text` where it begins the document's text at `at`; -1 when it does not. */
static int64_t after_text(const plume_memory *m, int64_t at, const char *text, size_t len) {
    size_t done = 0;
    for (int64_t q = at; q < (int64_t)m->n && m->tokens[q] >= 0; q++) {
        size_t piece_len;
        const char *piece = doc_piece(m, q, &piece_len);
        size_t k = len - done < piece_len ? len - done : piece_len;
        if (memcmp(piece, text + done, k)) return -1;
        done += k;
        if (done == len) return k == piece_len ? q + 1 : healed(q, k);
    }
    return -1;
}

/* The nearest position after `after` (-1: anywhere) that follows an occurrence of the history's
 * longest suffix of at least `shortest` tokens, as a cursor; -1 when there is none. With `tail`,
 * only an occurrence the tail's text follows counts, and the cursor is after that text. */
static int64_t nearest_ahead(const plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen,
                             int n_gen, int shortest, int64_t after, const char *tail, size_t tail_len) {
    int have = n_prompt + n_gen;
    int32_t q[64];
    for (int L = m->p.max_match < have ? m->p.max_match : have; L >= shortest; L--) {
        uint64_t h;
        const gram *g = m->index[L - m->p.min_match];
        int64_t best = -1, best_cursor = -1;
        for (size_t k = first_gram(m, prompt, n_prompt, gen, n_gen, L, q, &h);
             k < m->count[L - m->p.min_match] && g[k].hash == h; k++) {
            int64_t at = g[k].at;
            if (at <= after || (best >= 0 && at >= best) || memcmp(m->tokens + at - L, q, (size_t)L * sizeof *q))
                continue;
            int64_t c = tail ? after_text(m, at, tail, tail_len) : at;
            if (c >= 0) best = at, best_cursor = c;
        }
        if (best >= 0) return best_cursor;
    }
    return -1;
}

enum { HEAL_TOKENS = 8, HEAL_BYTES = 256 };

static int is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* The prompt's end found by its text. A context cut inside a word ends in tokens the document
 * does not have (" won" where it has " wonder" "ing"; a lone " " where it has " see"), so its
 * last tokens, back to the start of that word, are left out of the match and their text must
 * begin the document where the rest of the prompt matches. -1 when it nowhere does. */
static int64_t healed_anchor(const plume_memory *m, const int32_t *prompt, int n_prompt) {
    char tail[HEAL_BYTES];
    size_t tail_len = 0;
    for (int k = 1; k <= HEAL_TOKENS && n_prompt - k >= m->p.anchor_match; k++) {
        size_t len = 0;
        const char *piece = plume_token_piece(m->tok, n_prompt - k > 0 ? prompt[n_prompt - k - 1] : -1,
                                              prompt[n_prompt - k], &len);
        if (!piece || tail_len + len > sizeof tail) return -1;
        memmove(tail + len, tail, tail_len);
        memcpy(tail, piece, len);
        tail_len += len;
        if (!tail_len) continue;   /* a control token: nothing to find */
        int64_t c = nearest_ahead(m, prompt, n_prompt - k, NULL, 0, m->p.anchor_match, -1, tail, tail_len);
        if (c >= 0) return c;
        if (len && is_space(piece[0])) return -1;   /* the word's start: the tokens before it are the document's */
    }
    return -1;
}

/* Where a followed memory's cursor starts: after the prompt's end where it matches (by its tokens,
 * else by its text), else the body. */
static int64_t anchor(const plume_memory *m, const int32_t *prompt, int n_prompt) {
    int64_t at = nearest_ahead(m, prompt, n_prompt, NULL, 0, m->p.anchor_match, -1, NULL, 0);
    if (at < 0) at = healed_anchor(m, prompt, n_prompt);
    return at >= 0 ? at : m->n ? (int64_t)m->body : -1;
}

/* The token a followed memory proposes at cursor c, and its length in bytes; -1 when none. At a
 * healed cursor it is the longest token that begins the rest of the document's token (usually
 * that rest itself: "ing" of " wondering" after " wonder"). */
static int32_t proposal(const plume_memory *m, int64_t c, size_t *len) {
    *len = 0;
    if (c < 0) return -1;
    if (!is_healed(c)) return m->tokens[c] >= 0 ? m->tokens[c] : m->eos;
    int64_t at = healed_at(c);
    size_t piece_len, done = healed_bytes(c);
    const char *rest = doc_piece(m, at, &piece_len) + done;
    int32_t best = -1;
    for (int32_t id = 0, n_vocab = plume_tokenizer_n_vocab(m->tok); id < n_vocab; id++) {
        size_t l = 0;
        const char *piece = plume_token_piece(m->tok, m->tokens[at - 1], id, &l);
        if (piece && l > *len && l <= piece_len - done && !memcmp(piece, rest, l)) best = id, *len = l;
    }
    return best;
}

/* Whether the history's last L tokens are the document's just before position c. */
static int ends_at(const plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                   int64_t c, int L) {
    if (c < L || n_prompt + n_gen < L) return 0;
    for (int i = 1; i <= L; i++)
        if (m->tokens[c - i] < 0 || m->tokens[c - i] != back(prompt, n_prompt, gen, n_gen, i)) return 0;
    return 1;
}

/* The cursor after gen[n_gen - 1] was written at cursor c: one step on when it is the token
 * proposed; where it was when the history's end still matches before it (the model wrote once
 * more a token the document repeats: a row of dashes longer than the document's); else the
 * nearest match ahead of at least anchor_match tokens, else where it was. */
static int64_t move(const plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                    int64_t c) {
    if (c < 0) return c;
    size_t len;
    int32_t written = gen[n_gen - 1];
    if (!is_healed(c)) {
        if (m->tokens[c] >= 0 && m->tokens[c] == written) return c + 1;
    } else if (proposal(m, c, &len) == written) {
        size_t piece_len, done = healed_bytes(c) + len;
        doc_piece(m, healed_at(c), &piece_len);
        return done < piece_len ? healed(healed_at(c), done) : healed_at(c) + 1;
    }
    if (!is_healed(c) && ends_at(m, prompt, n_prompt, gen, n_gen, c, m->p.anchor_match)) return c;
    int64_t ahead = nearest_ahead(m, prompt, n_prompt, gen, n_gen, m->p.anchor_match, is_healed(c) ? healed_at(c) : c,
                                  NULL, 0);
    return ahead >= 0 ? ahead : c;
}

static uint64_t slot_key(uint64_t h, int n_gen) {
    uint64_t k = hash_step(h, n_gen);
    return k ? k : 1;
}

/* A followed memory's cursor after this history. Each history's cursor is kept by its hash, so a
 * step of a hypothesis whose previous history is known costs one move. */
static int64_t cursor(plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen) {
    uint64_t h = hash_gram(prompt, n_prompt), start = h;
    int known = -1;   /* the longest prefix of gen whose cursor is kept */
    int64_t c = -1;
    for (int k = 0; k <= n_gen; k++) {
        uint64_t key = slot_key(h, k);
        const cursor_slot *s = &m->cursors[key % CURSOR_SLOTS];
        if (s->key == key) {
            known = k;
            c = s->cursor;
        }
        if (k < n_gen) h = hash_step(h, gen[k]);
    }
    if (known < 0) c = anchor(m, prompt, n_prompt);
    h = start;
    for (int k = 0; k <= n_gen; k++) {
        if (k > known) {
            if (k > 0) c = move(m, prompt, n_prompt, gen, k, c);
            uint64_t key = slot_key(h, k);
            m->cursors[key % CURSOR_SLOTS] = (cursor_slot){ key, c };
        }
        if (k < n_gen) h = hash_step(h, gen[k]);
    }
    return c;
}

/* Whether the history's last token ends in a space or a line break (or there is none). */
static int ends_in_space(const plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen) {
    int have = n_prompt + n_gen;
    if (have < 1) return 1;
    size_t len = 0;
    const char *piece = plume_token_piece(m->tok, have > 1 ? back(prompt, n_prompt, gen, n_gen, 2) : -1,
                                          back(prompt, n_prompt, gen, n_gen, 1), &len);
    return !piece || !len || is_space(piece[len - 1]);
}

int plume_memory_next(plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                      plume_mix *mix) {
    *mix = (plume_mix){ 0 };
    if (m->p.weight == 0) return 0;
    if (m->p.follow) {
        int64_t c = cursor(m, prompt, n_prompt, gen, n_gen);
        size_t len;
        int32_t next = proposal(m, c, &len);
        /* the first text's body, from its start, after a context that ends in a word: on a line
         * of its own, as a copy would be, not glued to that word */
        if (c == (int64_t)m->body && n_gen == 0 && m->line_break >= 0 && !ends_in_space(m, prompt, n_prompt, gen, n_gen))
            next = m->line_break;
        if (next < 0) return 0;
        m->out_tokens[0] = next;
        m->out_probs[0] = 1;
        *mix = (plume_mix){ 1, m->out_tokens, m->out_probs, m->p.weight };
        return 1;
    }
    int have = n_prompt + n_gen;
    int32_t q[64];
    for (int L = m->p.max_match < have ? m->p.max_match : have; L >= m->p.min_match; L--) {
        uint64_t h;
        const gram *g = m->index[L - m->p.min_match];
        int n = 0;
        float *c = m->out_probs;
        for (size_t k = first_gram(m, prompt, n_prompt, gen, n_gen, L, q, &h);
             k < m->count[L - m->p.min_match] && g[k].hash == h; k++) {
            if (memcmp(m->tokens + g[k].at - L, q, (size_t)L * sizeof *q)) continue;   /* a collision */
            int32_t next = m->tokens[g[k].at];
            int j = 0;
            while (j < n && m->out_tokens[j] != next) j++;
            if (j < n) {
                c[j] += 1;
            } else if (n < PLUME_MIX_MAX) {
                m->out_tokens[n] = next;
                c[n++] = 1;
            }
        }
        if (n) {
            *mix = (plume_mix){ n, m->out_tokens, m->out_probs, m->p.weight };
            return L;
        }
    }
    return 0;
}

int plume_memory_median_tokens(const plume_memory *m) { return m->median; }

size_t plume_memory_tokens(const plume_memory *m) {
    size_t texts = 0;
    for (size_t i = 0; i < m->n; i++) texts += m->tokens[i] < 0;
    return m->n - texts;
}
