/* Arbitrary bytes through every entry point of eval.h: no crash, no leak (ASan/LSan builds),
 * sane results. Deterministic: a fixed linear congruential generator makes the inputs. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/eval.h"

static unsigned long long rng = 88172645463325252ull;
static unsigned next_byte(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng >> 56);
}

/* Random text of up to max bytes, biased towards letters, spaces and sentence ends. */
static char *random_text(size_t max) {
    static const char common[] = "aeiou tnsrl. !?,'-\n\xc3\xa9\xe2\x80\x99";
    size_t n = next_byte() % (max + 1);
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned b = next_byte();
        s[i] = b < 200 ? common[b % (sizeof common - 1)] : (char)(b == 0 ? 1 : next_byte() | 1);
    }
    s[n] = '\0';
    return s;
}

int main(void) {
    plume_error err;
    for (int round = 0; round < 300; round++) {
        char *a = random_text(200), *b = random_text(200);
        plume_rouge r;
        CHECK(plume_rouge_compute(a, strlen(a), b, strlen(b), 1, &r) == 0);
        CHECK(r.rouge1.f >= 0 && r.rouge1.f <= 1 && r.rougeL.f <= r.rouge1.f + 1e-12);
        double bl = plume_bleu_sentence(a, strlen(a), b, strlen(b));
        CHECK(bl >= 0 && bl <= 100);
        /* A text scored against itself: 100 whenever it has a token. */
        char *tok = plume_bleu_tokenize(a, strlen(a));
        if (tok && tok[0]) CHECK_NEAR(plume_bleu_sentence(a, strlen(a), a, strlen(a)), 100.0, 1e-9);
        free(tok);

        plume_doc docs[6];
        char *texts[6];
        for (int i = 0; i < 6; i++) {
            texts[i] = random_text(300);
            docs[i] = (plume_doc){ "d", "", texts[i], 0, 0 };
        }
        plume_value v = { 0 };
        plume_keyword_opts o = { 20, 1, 0.0 };
        CHECK(plume_keywords_profile(docs, 6, &o, &v, &err) == 0);
        CHECK(v.type == PLUME_TERMS && v.as.terms.count <= 20);
        CHECK(plume_synctx_labels(docs, 3, a, docs, 6, NULL, &o, &v, &err) == 0);
        CHECK(v.type == PLUME_TERMS);
        CHECK(plume_summary_extract(docs, 6, 120, &v, &err) == 0);
        CHECK(v.type == PLUME_TEXT);
        CHECK(plume_sumctx_label(docs, 6, b, 40, &v, &err) == 0);
        CHECK(v.type == PLUME_TEXT);
        plume_value_clear(&v);
        for (int i = 0; i < 6; i++) free(texts[i]);
        free(a);
        free(b);
    }
    return check_finish("test_robust");
}
