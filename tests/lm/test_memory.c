/* The personal memory (engine/lm/memory.c) with the stories260K tokenizer, on texts whose token
 * sequences are known: the longest suffix match wins, its next tokens are counted over every
 * occurrence, matches never cross from one text into the next, min_match and max_match bound
 * the search, and weight 0 turns it off. Histories are cut from the texts' own tokens, so the
 * expected answers follow from the texts alone. */
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

static plume_memory *memory(const char *const *texts, int n, int min_match, int max_match, float weight) {
    size_t lens[8];
    for (int i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    plume_memory_params p = { weight, min_match, max_match, 0, min_match };
    plume_error err;
    plume_memory *m = plume_memory_create(lm, texts, lens, NULL, n, &p, &err);
    if (!m) fprintf(stderr, "%s\n", err.msg);
    return m;
}

/* The probability the mix gives token t (0 when absent), normalized. */
static double prob(const plume_mix *m, int32_t t) {
    double total = 0, p = 0;
    for (int i = 0; i < m->n; i++) {
        total += m->probs[i];
        if (m->tokens[i] == t) p = m->probs[i];
    }
    return total > 0 ? p / total : 0;
}

int main(void) {
    if (!(lm = acquire_stories260k())) return 1;
    plume_error err;
    const char *texts[3] = { "The dog ran to the park and played with a red ball.",
                             "The dog ran to the park and sat under a big tree.",
                             "The dog ran to the park and played with a red ball." };
    int32_t a[256], b[256];
    int na = tokens(texts[0], a), nb = tokens(texts[1], b);
    /* where the two texts part: after "The dog ran to the park and" */
    int split = 0;
    while (split < na && split < nb && a[split] == b[split]) split++;
    CHECK(split >= 6 && split < na && split < nb);

    plume_memory *m = memory(texts, 3, 2, 16, 0.5f);
    CHECK(m != NULL);
    if (!m) return check_finish("test_memory");
    CHECK(plume_memory_tokens(m) == (size_t)(2 * na + nb));
    plume_mix mix;
    /* the shared start: text 1 and 3 continue with a[split], text 2 with b[split]: 2/3 and 1/3 */
    int L = plume_memory_next(m, a, split, NULL, 0, &mix);
    CHECK(L == (split < 16 ? split : 16));
    CHECK(mix.n == 2 && mix.weight == 0.5f);
    CHECK_NEAR(prob(&mix, a[split]), 2.0 / 3, 1e-6);
    CHECK_NEAR(prob(&mix, b[split]), 1.0 / 3, 1e-6);
    /* the same history split between prompt and generated tokens */
    CHECK(plume_memory_next(m, a, 3, a + 3, split - 3, &mix) == L && mix.n == 2);
    /* one token into text 2's own ending: only text 2 continues it */
    CHECK(plume_memory_next(m, b, split + 1, NULL, 0, &mix) > 0);
    CHECK(mix.n == 1 && mix.tokens[0] == b[split + 1]);
    /* the end of text 1 followed by the start of text 2 is no match across the boundary: only the
     * start of a text ("The dog") matches, which is followed by the same token in all three */
    int32_t across[256];
    int nc = 0;
    for (int i = na - 2; i < na; i++) across[nc++] = a[i];
    across[nc++] = b[0];
    across[nc++] = b[1];
    L = plume_memory_next(m, across, nc, NULL, 0, &mix);
    CHECK(L == 2 && mix.n == 1 && mix.tokens[0] == b[2]);
    /* nothing shared: no mix */
    int32_t none[3] = { 5, 6, 7 };
    CHECK(plume_memory_next(m, none, 3, NULL, 0, &mix) == 0 && mix.n == 0);
    plume_memory_free(m);

    /* min_match: a history sharing only its last 2 tokens with the texts matches at 2, not at 3 */
    int32_t two[4] = { 5, 6, a[1], a[2] };
    m = memory(texts, 1, 2, 8, 0.5f);
    CHECK(m && plume_memory_next(m, two, 4, NULL, 0, &mix) == 2 && mix.n == 1 && mix.tokens[0] == a[3]);
    plume_memory_free(m);
    m = memory(texts, 1, 3, 8, 0.5f);
    CHECK(m && plume_memory_next(m, two, 4, NULL, 0, &mix) == 0);
    /* max_match bounds the suffix looked at */
    CHECK(m && plume_memory_next(m, a, na - 1, NULL, 0, &mix) == 8);
    plume_memory_free(m);
    /* weight 0: off */
    m = memory(texts, 1, 2, 8, 0.0f);
    CHECK(m && plume_memory_next(m, a, split, NULL, 0, &mix) == 0 && mix.n == 0);
    plume_memory_free(m);
    /* bad parameters are refused, naming them */
    CHECK(memory(texts, 1, 0, 8, 0.5f) == NULL && memory(texts, 1, 4, 3, 0.5f) == NULL &&
          memory(texts, 1, 2, 65, 0.5f) == NULL && memory(texts, 1, 2, 8, 1.0f) == NULL);
    plume_memory_params p = { 1.0f, 2, 8, 0, 2 };
    size_t len = 3;
    CHECK(plume_memory_create(lm, texts, &len, NULL, 1, &p, &err) == NULL && strstr(err.msg, "weight"));
    plume_lm_release(lm);
    return check_finish("test_memory");
}
