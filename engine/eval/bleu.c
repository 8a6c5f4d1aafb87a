/* BLEU with sacrebleu's defaults: the 13a tokenizer (mteval-v13a's), case kept, n-grams up to 4,
 * one reference, 'exp' smoothing (NIST: the k-th order with no match gets precision
 * 1 / (2^k · total)). Corpus BLEU adds up the segments' statistics; sentence BLEU turns on
 * sacrebleu's effective order, as sacrebleu.sentence_bleu() does.
 *
 * 13a, step by step as sacrebleu applies it to a segment:
 *   line.rstrip(); remove "<skipped>"; remove "-\n"; "\n" → " "; if '&' in line: &quot; &amp;
 *   &lt; &gt; unescaped in that order; pad with spaces; then four regular expressions, each a
 *   left-to-right pass of non-overlapping matches:
 *     ([\{-\~\[-\` -\&\(-\+\:-\@\/])  → " \1 "   (ASCII punctuation except ' - . ,)
 *     ([^0-9])([\.,])                → "\1 \2 " (period/comma not after a digit)
 *     ([\.,])([^0-9])                → " \1 \2" (period/comma not before a digit)
 *     ([0-9])(-)                     → "\1 \2 " (dash after a digit)
 *   and tokens are the result split on Unicode white space (str.split()).
 * The passes run on bytes: [^0-9] matching a multi-byte character matches its last byte (before
 * "." ",") or its first byte (after them), which gives the same output as matching code points.
 * This tokenizer, not text.h's words, because scores must equal sacrebleu's to the digit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plume/eval.h"
#include "ngram.h"

/* Python's str.isspace(), which rstrip() and split() use: part of the tokenizer sacrebleu defines. */
static int is_python_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

typedef struct sbuf { char *s; size_t n, cap; int oom; } sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (b->n + n + 1 > cap) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}
static void sb_ch(sbuf *b, char c) { sb_put(b, &c, 1); }

/* Python's str.replace(from, to): one left-to-right pass. Frees in. */
static sbuf replace_all(sbuf in, const char *from, const char *to) {
    sbuf out = { 0 };
    size_t fl = strlen(from), tl = strlen(to);
    sb_put(&out, "", 0);
    for (size_t i = 0; i < in.n;) {
        if (i + fl <= in.n && memcmp(in.s + i, from, fl) == 0) {
            sb_put(&out, to, tl);
            i += fl;
        } else {
            sb_ch(&out, in.s[i++]);
        }
    }
    out.oom |= in.oom;
    free(in.s);
    return out;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_punct13a(unsigned char c) {
    return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
           (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

/* The 13a-tokenized segment as one string, tokens separated by single spaces. */
static char *tokenize13a(const char *text, size_t len) {
    /* rstrip(): drop trailing Unicode white space. */
    size_t end = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c = plume_utf8_next(text, len, &i);
        if (!is_python_space(c)) end = i;
    }
    sbuf b = { 0 };
    sb_put(&b, text, end);
    b = replace_all(b, "<skipped>", "");
    b = replace_all(b, "-\n", "");
    b = replace_all(b, "\n", " ");
    if (memchr(b.s, '&', b.n)) {
        b = replace_all(b, "&quot;", "\"");
        b = replace_all(b, "&amp;", "&");
        b = replace_all(b, "&lt;", "<");
        b = replace_all(b, "&gt;", ">");
    }
    sbuf p = { 0 };
    sb_ch(&p, ' ');
    for (size_t i = 0; i < b.n; i++) {
        if (is_punct13a((unsigned char)b.s[i])) {
            sb_ch(&p, ' ');
            sb_ch(&p, b.s[i]);
            sb_ch(&p, ' ');
        } else {
            sb_ch(&p, b.s[i]);
        }
    }
    sb_ch(&p, ' ');
    p.oom |= b.oom;
    free(b.s);
    /* ([^0-9])([\.,]) → "\1 \2 " */
    sbuf q = { 0 };
    for (size_t i = 0; i < p.n;) {
        if (i + 1 < p.n && !is_digit(p.s[i]) && (p.s[i + 1] == '.' || p.s[i + 1] == ',')) {
            sb_ch(&q, p.s[i]);
            sb_ch(&q, ' ');
            sb_ch(&q, p.s[i + 1]);
            sb_ch(&q, ' ');
            i += 2;
        } else {
            sb_ch(&q, p.s[i++]);
        }
    }
    q.oom |= p.oom;
    free(p.s);
    /* ([\.,])([^0-9]) → " \1 \2" */
    sbuf r = { 0 };
    for (size_t i = 0; i < q.n;) {
        if (i + 1 < q.n && (q.s[i] == '.' || q.s[i] == ',') && !is_digit(q.s[i + 1])) {
            sb_ch(&r, ' ');
            sb_ch(&r, q.s[i]);
            sb_ch(&r, ' ');
            sb_ch(&r, q.s[i + 1]);
            i += 2;
        } else {
            sb_ch(&r, q.s[i++]);
        }
    }
    r.oom |= q.oom;
    free(q.s);
    /* ([0-9])(-) → "\1 \2 " */
    sbuf t = { 0 };
    for (size_t i = 0; i < r.n;) {
        if (i + 1 < r.n && is_digit(r.s[i]) && r.s[i + 1] == '-') {
            sb_ch(&t, r.s[i]);
            sb_ch(&t, ' ');
            sb_ch(&t, '-');
            sb_ch(&t, ' ');
            i += 2;
        } else {
            sb_ch(&t, r.s[i++]);
        }
    }
    t.oom |= r.oom;
    free(r.s);
    /* ' '.join(line.split()) */
    sbuf o = { 0 };
    sb_put(&o, "", 0);
    int need_space = 0;
    for (size_t i = 0; i < t.n;) {
        size_t at = i;
        uint32_t c = plume_utf8_next(t.s, t.n, &i);
        if (is_python_space(c)) {
            need_space = o.n > 0;
            continue;
        }
        if (need_space) sb_ch(&o, ' ');
        need_space = 0;
        sb_put(&o, t.s + at, i - at);
    }
    o.oom |= t.oom;
    free(t.s);
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

char *plume_bleu_tokenize(const char *text, size_t len) {
    return tokenize13a(text, len);
}

static int split_tokens(const char *s, plume_vocab *tab, ev_tokens *out) {
    const char *p = s;
    while (*p) {
        const char *q = strchr(p, ' ');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n && ev_tokens_push(out, tab, p, n)) return -1;
        p += n;
        if (*p) p++;
    }
    return 0;
}

int plume_bleu_add(plume_bleu_stats *acc, const char *hyp, size_t hyp_len, const char *ref, size_t ref_len) {
    char *th = tokenize13a(hyp, hyp_len), *tr = tokenize13a(ref, ref_len);
    plume_vocab *tab = plume_vocab_new();
    ev_tokens h = { 0 }, r = { 0 };
    int rc = -1;
    if (!th || !tr || !tab) goto done;
    if (split_tokens(th, tab, &h) || split_tokens(tr, tab, &r)) goto done;
    plume_bleu_stats s = { (double)h.n, (double)r.n, { 0 }, { 0 } };
    for (size_t n = 1; n <= PLUME_BLEU_ORDER; n++) {
        long m = ev_ngram_overlap(&h, &r, n);
        if (m < 0) goto done;
        s.correct[n - 1] = (double)m;
        s.total[n - 1] = h.n >= n ? (double)(h.n - n + 1) : 0;
    }
    acc->sys_len += s.sys_len;
    acc->ref_len += s.ref_len;
    for (int n = 0; n < PLUME_BLEU_ORDER; n++) {
        acc->correct[n] += s.correct[n];
        acc->total[n] += s.total[n];
    }
    rc = 0;
done:
    free(th);
    free(tr);
    ev_tokens_free(&h);
    ev_tokens_free(&r);
    plume_vocab_free(tab);
    return rc;
}

/* sacrebleu's my_log: log(0) is a large negative number rather than -inf. */
static double my_log(double x) { return x == 0.0 ? -9999999999.0 : log(x); }

plume_bleu plume_bleu_score(const plume_bleu_stats *st, int effective_order) {
    plume_bleu b = { 0 };
    b.sys_len = st->sys_len;
    b.ref_len = st->ref_len;
    if (st->sys_len < st->ref_len) b.bp = st->sys_len > 0 ? exp(1.0 - st->ref_len / st->sys_len) : 0.0;
    else b.bp = 1.0;
    int any = 0;
    for (int n = 0; n < PLUME_BLEU_ORDER; n++) any |= st->correct[n] != 0;
    if (!any) return b;   /* sacrebleu's early stop: no match at all scores 0 */
    double smooth = 1.0;
    int eff = PLUME_BLEU_ORDER;
    for (int n = 1; n <= PLUME_BLEU_ORDER; n++) {
        if (st->total[n - 1] == 0) break;
        if (effective_order) eff = n;
        if (st->correct[n - 1] == 0) {
            smooth *= 2;
            b.precisions[n - 1] = 100.0 / (smooth * st->total[n - 1]);
        } else {
            b.precisions[n - 1] = 100.0 * st->correct[n - 1] / st->total[n - 1];
        }
    }
    double sum = 0;
    for (int n = 0; n < eff; n++) sum += my_log(b.precisions[n]);
    b.score = b.bp * exp(sum / eff);
    return b;
}

double plume_bleu_sentence(const char *hyp, size_t hyp_len, const char *ref, size_t ref_len) {
    plume_bleu_stats s = { 0 };
    if (plume_bleu_add(&s, hyp, hyp_len, ref, ref_len)) return -1;
    return plume_bleu_score(&s, 1).score;
}
