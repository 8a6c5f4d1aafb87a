/* A followed personal memory (engine/lm/memory.c, follow = 1) with the stories260K tokenizer: it
 * keeps to one place in the texts and proposes the one token there. Checked on a text with a
 * title, whose tokens are known: without an anchor it starts at the body, not the title, on a line
 * of its own after a prompt that ends inside a word; a prompt
 * whose end occurs in the text starts it there, and one cut inside a word (or after a space) goes
 * on with the rest of that word; each token proposed and written moves it one on; a word of the
 * model's own leaves it where it was; a match ahead moves it there, one behind never; a repeated
 * token written once more than the text has leaves it at the row's end; at the text's end it
 * proposes end-of-sequence; beam hypotheses asked in any order each get their own cursor.
 * Histories are cut from the text's own tokens, so the answers follow from the text. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "lm_test_util.h"
#include "plume/lm.h"

static plume_lm *lm;

static int tokens(const char *text, int32_t *out) {
    plume_error err;
    return plume_lm_tokenize(lm, text, 0, out, 256, &err);
}

static const char title[] = "A story\n";
static const char body[] = "The dog ran to the park. The cat sat on the mat. Then the dog ran home.";

/* A followed memory of one text whose body starts after its first title_len bytes. */
static plume_memory *followed_text(const char *text, size_t title_len, int anchor_match) {
    const char *texts[1] = { text };
    size_t lens[1] = { strlen(text) }, bodies[1] = { title_len };
    plume_memory_params p;
    plume_memory_params_default(&p);
    p.weight = 0.5f;
    p.min_match = 2;
    p.follow = 1;
    p.anchor_match = anchor_match;
    plume_error err;
    plume_memory *m = plume_memory_create(lm, texts, lens, bodies, 1, &p, &err);
    if (!m) fprintf(stderr, "%s\n", err.msg);
    return m;
}

static plume_memory *followed(int anchor_match) {
    char text[256];
    snprintf(text, sizeof text, "%s%s", title, body);
    return followed_text(text, strlen(title), anchor_match);
}

/* The one token proposed after prompt + gen, or -2 when nothing is. */
static int32_t proposed(plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen) {
    plume_mix mix;
    int r = plume_memory_next(m, prompt, n_prompt, gen, n_gen, &mix);
    if (r == 0 || mix.n == 0) return -2;
    return mix.n == 1 && mix.probs[0] > 0 && mix.weight == 0.5f ? mix.tokens[0] : -3;
}

/* The text a followed memory writes after prompt + gen when every token it proposes is taken, up
 * to end-of-sequence or `most` tokens. */
static void write_out(plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen, int most,
                      char *out, size_t cap) {
    int32_t all[512], eos = plume_lm_get_info(lm)->eos;
    if (n_gen) memcpy(all, gen, (size_t)n_gen * sizeof *all);
    int n = n_gen;
    while (n < n_gen + most && n < 512) {
        int32_t t = proposed(m, prompt, n_prompt, all, n);
        if (t < 0 || t == eos) break;
        all[n++] = t;
    }
    /* the pieces after the history's last token, so that an SPM space prefix is not dropped */
    int32_t tail[513];
    tail[0] = n_gen ? gen[n_gen - 1] : prompt[n_prompt - 1];
    memcpy(tail + 1, all + n_gen, (size_t)(n - n_gen) * sizeof *tail);
    char *text = plume_lm_detokenize(lm, tail, n - n_gen + 1, 0, NULL);
    char *first = plume_lm_detokenize(lm, tail, 1, 0, NULL);
    snprintf(out, cap, "%s", text && first ? text + strlen(first) : "?");
    free(text);
    free(first);
}

/* Where the n tokens of needle first occur in hay at or after from; -1 when they do not. */
static int find(const int32_t *hay, int n_hay, const int32_t *needle, int n, int from) {
    for (int i = from; i + n <= n_hay; i++)
        if (!memcmp(hay + i, needle, (size_t)n * sizeof *needle)) return i;
    return -1;
}

int main(void) {
    if (!(lm = acquire_stories260k())) return 1;
    int32_t b[256], t[64], w[64], g[300];
    int nb = tokens(body, b);
    int32_t eos = plume_lm_get_info(lm)->eos;
    CHECK(nb > 20 && eos >= 0);
    plume_memory *m = followed(3);
    CHECK(m != NULL);
    if (!m) return check_finish("test_memory_follow");
    /* the memory holds the title and the body, the body on tokens of its own */
    CHECK(plume_memory_tokens(m) == (size_t)(tokens(title, t) + nb));

    /* a prompt that occurs nowhere: the body's first token, not the title's; after a prompt that
     * ends inside a word (a byte token here), a line break before it */
    int32_t none[3] = { 5, 6, 7 };
    int n_nl = tokens("\n", t), n_spaced = tokens("x ", w);   /* SPM: a space prefix, then "\n" */
    CHECK(n_nl >= 1 && n_spaced >= 2);
    int32_t line_break = t[n_nl - 1];
    CHECK(proposed(m, none, 3, NULL, 0) == line_break);
    CHECK(proposed(m, none, 3, &line_break, 1) == b[0]);
    CHECK(proposed(m, w, n_spaced, NULL, 0) == b[0]);
    /* writing the body (the line break or not) walks the whole of it, then end-of-sequence */
    int ok = 1;
    for (int k = 1; k < nb; k++) ok &= proposed(m, none, 3, b, k) == b[k];
    CHECK(ok);
    CHECK(proposed(m, none, 3, b, nb) == eos);

    /* a prompt ending in the body's first 5 tokens: it goes on after them */
    CHECK(proposed(m, b, 5, NULL, 0) == b[5]);
    /* ... unless fewer than anchor_match of them match: 2 tokens start at the body (after a line
     * break: " r" "an" ends inside a word) */
    int32_t two[4] = { 5, 6, b[3], b[4] };
    CHECK(proposed(m, two, 4, NULL, 0) == line_break);

    /* a word of the model's own (a token the body lacks) leaves the cursor: the text resumes */
    int32_t own = 0;
    while (find(b, nb, &own, 1, 0) >= 0 || own == eos) own++;
    memcpy(g, b, 4 * sizeof *g);
    g[4] = own;
    CHECK(proposed(m, none, 3, g, 5) == b[4]);
    g[5] = b[4];
    CHECK(proposed(m, none, 3, g, 6) == b[5]);

    /* a match ahead moves it there: after the body's first token and a word of the model's own,
     * " the mat" (3 tokens) matches only near the end, so the "." after it comes next */
    int nw = tokens("The dog ran to the park. The cat sat on the", w);
    int32_t mat[3];   /* " the", " m", "at": the body's own tokens */
    memcpy(mat, b + nw - 1, sizeof mat);
    CHECK(find(b, nb, mat, 3, 0) == nw - 1 && find(b, nb, mat, 3, nw) < 0 && mat[0] != b[1]);
    g[0] = b[0];
    g[1] = own;
    memcpy(g + 2, mat, sizeof mat);
    CHECK(proposed(m, none, 3, g, 5) == b[nw + 2]);

    /* never back: past the first sentence, " to the p" again (3 tokens that occur only behind)
     * leaves the cursor where it was, on " The cat" */
    int nt = tokens("The dog ran to the park.", t);
    int32_t again[3] = { b[5], b[6], b[7] };
    CHECK(nt == 11 && find(b, nb, again, 3, 6) < 0);
    memcpy(g, b, 11 * sizeof *g);
    memcpy(g + 11, again, sizeof again);
    CHECK(proposed(m, none, 3, g, 14) == b[11]);

    /* beam hypotheses, asked in turn: each gets its own cursor, as a fresh memory would say */
    int32_t h1[8] = { b[0], b[1], b[2] }, h2[8] = { b[0], own, own };
    int ok_beams = 1;
    for (int step = 0; step < 3; step++) {
        ok_beams &= proposed(m, none, 3, h1, 3 + step) == b[3 + step];
        ok_beams &= proposed(m, none, 3, h2, 3 + step) == b[1];
        h1[3 + step] = b[3 + step];
        h2[3 + step] = own;
    }
    CHECK(ok_beams);

    /* a prompt cut inside a word ends in tokens the body lacks (" p" "a" where it has " p" "ar"
     * "k"): the rest of its tokens match, its last word's text begins the body there, so it goes
     * on with the rest of that word and the text after it */
    char out[512];
    int32_t cut[64];
    int n_cut = tokens("The dog ran to the pa", cut);
    CHECK(n_cut >= 3 && find(b, nb, cut + n_cut - 3, 3, 0) < 0);
    write_out(m, cut, n_cut, NULL, 0, 64, out, sizeof out);
    CHECK(!strcmp(out, "rk. The cat sat on the mat. Then the dog ran home."));
    /* ... and a prompt that ends in a space (a token of its own; the body's next word carries it) */
    n_cut = tokens("The dog ran to the park. The ", cut);
    CHECK(n_cut >= 3 && find(b, nb, cut + n_cut - 3, 3, 0) < 0);
    write_out(m, cut, n_cut, NULL, 0, 64, out, sizeof out);
    CHECK(!strcmp(out, "cat sat on the mat. Then the dog ran home."));
    /* ... but a word the body does not go on with there is no anchor: the body from its start */
    n_cut = tokens("The dog ran to the pz", cut);
    CHECK(proposed(m, cut, n_cut, NULL, 0) == line_break);
    plume_memory_free(m);

    /* a row of a repeated token written longer than the text's: the cursor stays at the row's
     * end, not at the next, longer row's, so the text between the rows is not skipped */
    const char rows[] = "Rows\nThe dog ran.\n--------\nThe cat sat.\n----------------\nThe end.";
    CHECK((m = followed_text(rows, 5, 3)) != NULL);
    int32_t r[64], dash[8], row_end[64];
    int nr = tokens(rows + 5, r), n_dash = tokens("-", dash), n_row = tokens("The dog ran.\n--------", row_end);
    CHECK(nr > 0 && n_row > 8 && n_dash >= 1 && row_end[n_row - 1] == dash[n_dash - 1]);
    if (m && nr > 0 && n_row > 8) {
        memcpy(g, r, (size_t)n_row * sizeof *g);
        g[n_row] = dash[n_dash - 1];   /* a ninth dash */
        CHECK(proposed(m, none, 3, g, n_row + 1) == r[n_row]);
        write_out(m, none, 3, g, n_row + 1, 64, out, sizeof out);
        CHECK(!strncmp(out, "\nThe cat sat.", 13));
    }
    plume_memory_free(m);

    /* anchor_match outside min_match..max_match is refused, naming it */
    char text[] = "x";
    const char *texts[1] = { text };
    size_t len = 1;
    plume_memory_params p;
    plume_memory_params_default(&p);
    p.follow = 1;
    p.anchor_match = 1;
    plume_error err;
    CHECK(plume_memory_create(lm, texts, &len, NULL, 1, &p, &err) == NULL && strstr(err.msg, "anchor_match"));
    plume_lm_release(lm);
    return check_finish("test_memory_follow");
}
