/* ROUGE-1, ROUGE-2 and ROUGE-L with the conventions of Google's rouge-score package:
 *   text.lower(); re.sub("[^a-z0-9]+", " "); split on white space; Porter-stem tokens longer
 *   than 3 characters; keep tokens matching ^[a-z0-9]+$.
 * Python's lower() maps two non-ASCII characters into [a-z0-9]: U+0130 (İ → "i" + U+0307) and
 * U+212A (Kelvin sign → "k"); they are honoured so Unicode input scores as rouge-score scores it.
 * Every other non-ASCII character, and every malformed byte, separates tokens.
 * This tokenizer, not text.h's words, because scores must equal rouge-score's to the digit; it
 * interns its tokens in a plume_vocab like everything else. */
#include <stdlib.h>
#include <string.h>
#include "plume/eval.h"
#include "ngram.h"

/* Calls emit() on each rouge-score token of text (stemmed when stem). */
static int rouge_tokens(const char *text, size_t len, int stem, plume_vocab *tab, ev_tokens *out) {
    /* Pass 1: map to "[a-z0-9 ]*"; never longer than the input. */
    char *flat = malloc(len + 1);
    if (!flat) return -1;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z') flat[n++] = (char)(c + 32);
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) flat[n++] = (char)c;
            else flat[n++] = ' ';
            i++;
            continue;
        }
        uint32_t cp = plume_utf8_next(text, len, &i);
        if (cp == 0x0130) {          /* İ.lower() == "i\u0307" */
            flat[n++] = 'i';
            flat[n++] = ' ';
        } else if (cp == 0x212A) {   /* KELVIN SIGN.lower() == "k" */
            flat[n++] = 'k';
        } else {
            flat[n++] = ' ';
        }
    }
    flat[n] = '\0';
    /* Pass 2: tokens, stemmed. A stem never outgrows its word by more than one byte. */
    char *buf = malloc(n + 2);
    if (!buf) {
        free(flat);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        if (flat[i] == ' ') {
            i++;
            continue;
        }
        size_t b = i;
        while (i < n && flat[i] != ' ') i++;
        size_t k = i - b;
        const char *tok = flat + b;
        if (stem && k > 3) {
            k = plume_porter_stem(tok, k, buf);
            tok = buf;
        }
        if (k) rc = ev_tokens_push(out, tab, tok, k);
    }
    free(buf);
    free(flat);
    return rc;
}

char *plume_rouge_tokenize(const char *text, size_t len, int stem) {
    plume_vocab *tab = plume_vocab_new();
    ev_tokens t = { 0 };
    char *s = NULL;
    if (tab && rouge_tokens(text, len, stem, tab, &t) == 0) {
        size_t total = 1;
        for (size_t i = 0; i < t.n; i++) total += strlen(plume_vocab_word(tab, t.ids[i])) + 1;
        s = malloc(total);
        if (s) {
            size_t k = 0;
            for (size_t i = 0; i < t.n; i++) {
                const char *word = plume_vocab_word(tab, t.ids[i]);
                size_t w = strlen(word);
                if (i) s[k++] = ' ';
                memcpy(s + k, word, w);
                k += w;
            }
            s[k] = '\0';
        }
    }
    ev_tokens_free(&t);
    plume_vocab_free(tab);
    return s;
}

static double fmeasure(double p, double r) {
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

/* rouge-score's _score_ngrams: precision = overlap / max(#pred n-grams, 1), recall likewise. */
static int score_ngrams(const ev_tokens *pred, const ev_tokens *ref, size_t n, plume_rouge_score *out) {
    long overlap = ev_ngram_overlap(pred, ref, n);
    if (overlap < 0) return -1;
    double np = pred->n >= n ? (double)(pred->n - n + 1) : 0, nr = ref->n >= n ? (double)(ref->n - n + 1) : 0;
    out->precision = (double)overlap / (np > 1 ? np : 1);
    out->recall = (double)overlap / (nr > 1 ? nr : 1);
    out->f = fmeasure(out->precision, out->recall);
    return 0;
}

/* Length of the longest common subsequence, two DP rows. */
static long lcs_length(const ev_tokens *a, const ev_tokens *b) {
    size_t *prev = calloc(b->n + 1, sizeof *prev), *cur = calloc(b->n + 1, sizeof *cur);
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return -1;
    }
    for (size_t i = 1; i <= a->n; i++) {
        for (size_t j = 1; j <= b->n; j++) {
            if (a->ids[i - 1] == b->ids[j - 1]) cur[j] = prev[j - 1] + 1;
            else cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    long r = (long)prev[b->n];
    free(prev);
    free(cur);
    return r;
}

int plume_rouge_compute(const char *prediction, size_t pred_len, const char *reference, size_t ref_len,
                        int stem, plume_rouge *out) {
    memset(out, 0, sizeof *out);
    plume_vocab *tab = plume_vocab_new();
    ev_tokens pred = { 0 }, ref = { 0 };
    int rc = -1;
    if (!tab) goto done;
    if (rouge_tokens(prediction, pred_len, stem, tab, &pred)) goto done;
    if (rouge_tokens(reference, ref_len, stem, tab, &ref)) goto done;
    if (score_ngrams(&pred, &ref, 1, &out->rouge1)) goto done;
    if (score_ngrams(&pred, &ref, 2, &out->rouge2)) goto done;
    if (pred.n && ref.n) {   /* rouge-score: an empty side scores 0 */
        long lcs = lcs_length(&ref, &pred);
        if (lcs < 0) goto done;
        out->rougeL.precision = (double)lcs / (double)pred.n;
        out->rougeL.recall = (double)lcs / (double)ref.n;
        out->rougeL.f = fmeasure(out->rougeL.precision, out->rougeL.recall);
    }
    rc = 0;
done:
    ev_tokens_free(&pred);
    ev_tokens_free(&ref);
    plume_vocab_free(tab);
    return rc;
}
