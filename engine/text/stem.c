/* Snowball English stemming (libstemmer) and the English stopword list. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libstemmer.h>
#include "plume/text.h"

/* Stems are cached per stemmer: a request's profile repeats its vocabulary many times over, and
 * a table look-up is far cheaper than running the Snowball algorithm again. */
#define STEM_CACHE_MAX 200000   /* words; past this the cache starts again, so memory stays bounded */

struct plume_stemmer {
    struct sb_stemmer *sb;
    plume_vocab *cache;     /* word → id */
    plume_words stems;      /* id → stem */
};

plume_stemmer *plume_stemmer_new(plume_error *err) {
    plume_stemmer *st = calloc(1, sizeof *st);
    if (!st) {
        plume_fail(err, "stemmer: out of memory");
        return NULL;
    }
    st->sb = sb_stemmer_new("english", "UTF_8");
    if (!st->sb) {
        free(st);
        plume_fail(err, "stemmer: libstemmer has no English UTF-8 stemmer (hint: check the libstemmer0d package)");
        return NULL;
    }
    return st;
}

const char *plume_stem(plume_stemmer *st, const char *word, size_t len, size_t *out_len) {
    if (st->cache) {
        long id = plume_vocab_id(st->cache, word, len, 0);
        if (id >= 0) {
            const char *stem = plume_word(&st->stems, (size_t)id);
            *out_len = strlen(stem);
            return stem;
        }
    }
    if (len > INT_MAX) return NULL;
    const sb_symbol *s = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)len);
    if (!s) return NULL;
    *out_len = (size_t)sb_stemmer_length(st->sb);
    if (!st->cache || plume_vocab_size(st->cache) >= STEM_CACHE_MAX) {
        plume_vocab_free(st->cache);
        plume_words_reset(&st->stems);
        st->cache = plume_vocab_new();
    }
    /* a failed cache insert only costs speed; the vocabulary and the stems stay in step */
    if (st->cache && plume_words_push(&st->stems, (const char *)s, *out_len) == 0 &&
        plume_vocab_id(st->cache, word, len, 1) != (long)st->stems.count - 1) {
        plume_vocab_free(st->cache);
        plume_words_reset(&st->stems);
        st->cache = NULL;
    }
    return (const char *)s;
}

void plume_stemmer_free(plume_stemmer *st) {
    if (!st) return;
    plume_vocab_free(st->cache);
    plume_words_free(&st->stems);
    sb_stemmer_delete(st->sb);
    free(st);
}

/* One English stopword list, byte-sorted for bsearch (test_text looks every entry up, which fails if
 * unsorted). W: function words (pronouns, determiners, auxiliaries, prepositions, conjunctions)
 * and their contractions, the list every stage drops. X: only in the extended list, which also
 * drops what a tokenizer that splits "don't" into "don" + "t" leaves (NLTK's English list has
 * them), modal verbs and "also", "just", "now", "us"; the metrics' keyword and summary code use it. */
typedef struct stopword { const char *s; size_t len; int extended_only; } stopword;
#define W(s) { s, sizeof(s) - 1, 0 }
#define X(s) { s, sizeof(s) - 1, 1 }
static const stopword stopwords[] = {
    W("a"), W("about"), W("above"), W("after"), W("again"), W("against"), X("ain"), W("all"), X("also"),
    W("am"), W("an"), W("and"), W("any"), W("are"), X("aren"), W("aren't"), W("as"), W("at"), W("be"),
    W("because"), W("been"), W("before"), W("being"), W("below"), W("between"), W("both"), W("but"),
    W("by"), W("can"), W("can't"), W("cannot"), W("could"), X("couldn"), W("couldn't"), X("d"),
    W("did"), X("didn"), W("didn't"), W("do"), W("does"), X("doesn"), W("doesn't"), W("doing"),
    X("don"), W("don't"), W("down"), W("during"), W("each"), W("few"), W("for"), W("from"),
    W("further"), W("had"), X("hadn"), W("hadn't"), W("has"), X("hasn"), W("hasn't"), W("have"),
    X("haven"), W("haven't"), W("having"), W("he"), W("he'd"), W("he'll"), W("he's"), W("her"),
    W("here"), W("here's"), W("hers"), W("herself"), W("him"), W("himself"), W("his"), W("how"),
    W("how's"), W("i"), W("i'd"), W("i'll"), W("i'm"), W("i've"), W("if"), W("in"), W("into"), W("is"),
    X("isn"), W("isn't"), W("it"), W("it's"), W("its"), W("itself"), X("just"), W("let's"), X("ll"),
    X("m"), X("ma"), X("may"), W("me"), X("might"), X("mightn"), X("mightn't"), W("more"), W("most"),
    X("must"), X("mustn"), W("mustn't"), W("my"), W("myself"), X("needn"), X("needn't"), W("no"),
    W("nor"), W("not"), X("now"), X("o"), W("of"), W("off"), W("on"), W("once"), W("only"), W("or"),
    W("other"), W("ought"), W("our"), W("ours"), W("ourselves"), W("out"), W("over"), W("own"), X("re"),
    X("s"), W("same"), X("shall"), X("shan"), W("shan't"), W("she"), W("she'd"), W("she'll"),
    W("she's"), W("should"), X("should've"), X("shouldn"), W("shouldn't"), W("so"), W("some"),
    W("such"), X("t"), W("than"), W("that"), X("that'll"), W("that's"), W("the"), W("their"),
    W("theirs"), W("them"), W("themselves"), W("then"), W("there"), W("there's"), W("these"), W("they"),
    W("they'd"), W("they'll"), W("they're"), W("they've"), W("this"), W("those"), W("through"), W("to"),
    W("too"), W("under"), W("until"), W("up"), X("us"), X("ve"), W("very"), W("was"), X("wasn"),
    W("wasn't"), W("we"), W("we'd"), W("we'll"), W("we're"), W("we've"), W("were"), X("weren"),
    W("weren't"), W("what"), W("what's"), W("when"), W("when's"), W("where"), W("where's"), W("which"),
    W("while"), W("who"), W("who's"), W("whom"), W("why"), W("why's"), W("will"), W("with"), X("won"),
    W("won't"), W("would"), X("wouldn"), W("wouldn't"), X("y"), W("you"), W("you'd"), W("you'll"),
    W("you're"), W("you've"), W("your"), W("yours"), W("yourself"), W("yourselves"),
};
#undef W
#undef X
#define STOPWORD_MAX_LEN 10   /* "yourselves" */

static int cmp_stop(const void *a, const void *b) {
    const stopword *k = a, *w = b;
    int c = memcmp(k->s, w->s, k->len < w->len ? k->len : w->len);
    if (c) return c;
    return (k->len > w->len) - (k->len < w->len);
}

int plume_is_stopword_in(const char *word, size_t len, plume_stopword_list list) {
    if (len == 0 || len > STOPWORD_MAX_LEN) return 0;
    stopword k = { word, len, 0 };
    const stopword *hit = bsearch(&k, stopwords, sizeof stopwords / sizeof stopwords[0], sizeof stopwords[0], cmp_stop);
    return hit && (list == PLUME_STOPWORDS_EXTENDED || !hit->extended_only);
}

int plume_is_stopword(const char *word, size_t len) {
    return plume_is_stopword_in(word, len, PLUME_STOPWORDS);
}

int plume_text_terms(const char *s, size_t len, plume_stemmer *st, int drop_stopwords, plume_words *out) {
    plume_words words = { 0 };
    int rc = plume_text_words(s, len, &words);
    for (size_t i = 0; rc == 0 && i < words.count; i++) {
        const char *w = plume_word(&words, i);
        size_t wl = plume_word_len(&words, i);
        if (drop_stopwords && plume_is_stopword(w, wl)) continue;
        if (st) {
            size_t sl;
            const char *stem = plume_stem(st, w, wl, &sl);
            if (!stem) rc = -1;
            else rc = plume_words_push(out, stem, sl);
        } else {
            rc = plume_words_push(out, w, wl);
        }
    }
    plume_words_free(&words);
    return rc;
}
