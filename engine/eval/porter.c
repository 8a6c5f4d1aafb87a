/* The Porter stemmer exactly as NLTK's PorterStemmer() runs it (mode NLTK_EXTENSIONS), because
 * that is the stemmer Google's rouge-score applies and ROUGE numbers must match it.
 *
 * NLTK departs from Porter's 1980 paper (and from libstemmer's "porter", which follows the paper)
 * in these places, each marked NLTK below:
 *   - a table of irregular forms bypasses the algorithm (skies→sky, dying→die, news→news, ...);
 *   - words of one or two letters are returned as they are;
 *   - step 1a: "ies" → "ie" in four-letter words (ties→tie, not ti);
 *   - step 1b: "ied" → "ie" in four-letter words, else "i" (died→die, spied→spi);
 *   - step 1c: y → i only after a consonant that is not the first letter (enjoy stays, happy→happi);
 *   - step 2: "alli" → "al" is tried first and the result goes through step 2 again; "bli" → "ble"
 *     (the paper has "abli" → "able"); "fulli" → "ful"; "logi" → "log" with the measure taken
 *     over the stem plus its "l";
 *   - *o (ends consonant-vowel-consonant) is also true of a two-letter vowel-consonant stem.
 * Rule lists follow NLTK's: the first rule whose suffix matches decides, and when its condition
 * fails no later rule of the list is tried. Input: lower-case ASCII letters and digits. */
#include <string.h>
#include "plume/eval.h"

static int is_cons(const char *w, size_t i) {
    switch (w[i]) {
    case 'a': case 'e': case 'i': case 'o': case 'u':
        return 0;
    case 'y':
        return i == 0 ? 1 : !is_cons(w, i - 1);
    default:
        return 1;
    }
}

/* m of w[0..n): the number of vowel→consonant transitions. */
static int measure(const char *w, size_t n) {
    int m = 0;
    for (size_t i = 1; i < n; i++)
        if (!is_cons(w, i - 1) && is_cons(w, i)) m++;
    return m;
}

static int contains_vowel(const char *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_cons(w, i)) return 1;
    return 0;
}

static int ends_double_cons(const char *w, size_t n) {
    return n >= 2 && w[n - 1] == w[n - 2] && is_cons(w, n - 1);
}

static int ends_cvc(const char *w, size_t n) {
    if (n >= 3 && is_cons(w, n - 3) && !is_cons(w, n - 2) && is_cons(w, n - 1) &&
        w[n - 1] != 'w' && w[n - 1] != 'x' && w[n - 1] != 'y')
        return 1;
    return n == 2 && !is_cons(w, 0) && is_cons(w, 1);   /* NLTK */
}

static int ends_with(const char *w, size_t n, const char *suffix) {
    size_t k = strlen(suffix);
    return k <= n && memcmp(w + n - k, suffix, k) == 0;
}

/* Conditions on the stem w[0..stem) of a word w[0..n). */
typedef enum { C_NONE, C_M0, C_M1, C_ION, C_LOGI, C_Y } cond_t;

typedef struct rule { const char *suffix, *repl; cond_t cond; } rule;

static int cond_ok(cond_t c, const char *w, size_t stem, size_t n) {
    switch (c) {
    case C_NONE: return 1;
    case C_M0:   return measure(w, stem) > 0;
    case C_M1:   return measure(w, stem) > 1;
    case C_ION:  return measure(w, stem) > 1 && stem > 0 && (w[stem - 1] == 's' || w[stem - 1] == 't');
    case C_LOGI: return measure(w, n - 3) > 0;                 /* NLTK: the "l" counts with the stem */
    case C_Y:    return stem > 1 && is_cons(w, stem - 1);      /* NLTK step 1c */
    }
    return 0;
}

/* Applies the first rule whose suffix matches, if its condition holds. w has room for the
 * longest replacement (callers size it len + 2). Returns the new length. */
static size_t apply_rules(char *w, size_t n, const rule *rules, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (!ends_with(w, n, rules[i].suffix)) continue;
        size_t stem = n - strlen(rules[i].suffix);
        if (!cond_ok(rules[i].cond, w, stem, n)) return n;
        size_t r = strlen(rules[i].repl);
        memcpy(w + stem, rules[i].repl, r);
        return stem + r;
    }
    return n;
}
#define APPLY(w, n, list) apply_rules(w, n, list, sizeof(list) / sizeof(list[0]))

static size_t step1a(char *w, size_t n) {
    static const rule rules[] = { { "sses", "ss", C_NONE }, { "ies", "i", C_NONE },
                                  { "ss", "ss", C_NONE }, { "s", "", C_NONE } };
    if (n == 4 && ends_with(w, n, "ies")) return 3;   /* NLTK: ties → tie */
    return APPLY(w, n, rules);
}

static size_t step1b(char *w, size_t n) {
    if (ends_with(w, n, "ied")) return n == 4 ? 3 : 2 + (n - 4);   /* NLTK: "ie" or "i" */
    if (ends_with(w, n, "eed")) return measure(w, n - 3) > 0 ? n - 1 : n;
    size_t stem;
    if (ends_with(w, n, "ed") && contains_vowel(w, n - 2)) stem = n - 2;
    else if (ends_with(w, n, "ing") && contains_vowel(w, n - 3)) stem = n - 3;
    else return n;
    n = stem;
    if (ends_with(w, n, "at") || ends_with(w, n, "bl") || ends_with(w, n, "iz")) {
        w[n] = 'e';
        return n + 1;
    }
    if (ends_double_cons(w, n)) {
        char last = w[n - 1];
        return (last == 'l' || last == 's' || last == 'z') ? n : n - 1;
    }
    if (measure(w, n) == 1 && ends_cvc(w, n)) {
        w[n] = 'e';
        return n + 1;
    }
    return n;
}

static size_t step1c(char *w, size_t n) {
    static const rule rules[] = { { "y", "i", C_Y } };
    return APPLY(w, n, rules);
}

static size_t step2(char *w, size_t n) {
    static const rule rules[] = {
        { "ational", "ate", C_M0 }, { "tional", "tion", C_M0 }, { "enci", "ence", C_M0 },
        { "anci", "ance", C_M0 },   { "izer", "ize", C_M0 },    { "bli", "ble", C_M0 },    /* NLTK: bli */
        { "alli", "al", C_M0 },     { "entli", "ent", C_M0 },   { "eli", "e", C_M0 },
        { "ousli", "ous", C_M0 },   { "ization", "ize", C_M0 }, { "ation", "ate", C_M0 },
        { "ator", "ate", C_M0 },    { "alism", "al", C_M0 },    { "iveness", "ive", C_M0 },
        { "fulness", "ful", C_M0 }, { "ousness", "ous", C_M0 }, { "aliti", "al", C_M0 },
        { "iviti", "ive", C_M0 },   { "biliti", "ble", C_M0 },
        { "fulli", "ful", C_M0 },   { "logi", "log", C_LOGI },                           /* NLTK */
    };
    if (ends_with(w, n, "alli") && measure(w, n - 4) > 0) return step2(w, n - 2);   /* NLTK */
    return APPLY(w, n, rules);
}

static size_t step3(char *w, size_t n) {
    static const rule rules[] = {
        { "icate", "ic", C_M0 }, { "ative", "", C_M0 }, { "alize", "al", C_M0 }, { "iciti", "ic", C_M0 },
        { "ical", "ic", C_M0 },  { "ful", "", C_M0 },   { "ness", "", C_M0 },
    };
    return APPLY(w, n, rules);
}

static size_t step4(char *w, size_t n) {
    static const rule rules[] = {
        { "al", "", C_M1 },   { "ance", "", C_M1 }, { "ence", "", C_M1 }, { "er", "", C_M1 },
        { "ic", "", C_M1 },   { "able", "", C_M1 }, { "ible", "", C_M1 }, { "ant", "", C_M1 },
        { "ement", "", C_M1 }, { "ment", "", C_M1 }, { "ent", "", C_M1 }, { "ion", "", C_ION },
        { "ou", "", C_M1 },   { "ism", "", C_M1 },  { "ate", "", C_M1 },  { "iti", "", C_M1 },
        { "ous", "", C_M1 },  { "ive", "", C_M1 },  { "ize", "", C_M1 },
    };
    return APPLY(w, n, rules);
}

static size_t step5(char *w, size_t n) {
    /* 5a: both conditions are tried (not a first-match list). */
    if (ends_with(w, n, "e")) {
        int m = measure(w, n - 1);
        if (m > 1 || (m == 1 && !ends_cvc(w, n - 1))) n--;
    }
    /* 5b: (m > 1 and *d and *L) → single letter, m taken over the word less one "l". */
    if (ends_with(w, n, "ll") && measure(w, n - 1) > 1) n--;
    return n;
}

/* NLTK's irregular forms: the algorithm is bypassed for these words. */
static const char *const irregular[][2] = {
    { "skies", "sky" }, { "sky", "sky" }, { "dying", "die" }, { "lying", "lie" }, { "tying", "tie" },
    { "news", "news" }, { "innings", "inning" }, { "inning", "inning" }, { "outings", "outing" },
    { "outing", "outing" }, { "cannings", "canning" }, { "canning", "canning" }, { "howe", "howe" },
    { "proceed", "proceed" }, { "exceed", "exceed" }, { "succeed", "succeed" },
};

size_t plume_porter_stem(const char *word, size_t len, char *out) {
    for (size_t i = 0; i < sizeof irregular / sizeof irregular[0]; i++) {
        if (strlen(irregular[i][0]) == len && memcmp(irregular[i][0], word, len) == 0) {
            size_t k = strlen(irregular[i][1]);
            memcpy(out, irregular[i][1], k + 1);
            return k;
        }
    }
    memcpy(out, word, len);
    out[len] = '\0';
    if (len <= 2) return len;   /* NLTK */
    size_t n = len;
    n = step1a(out, n);
    n = step1b(out, n);
    n = step1c(out, n);
    n = step2(out, n);
    n = step3(out, n);
    n = step4(out, n);
    n = step5(out, n);
    out[n] = '\0';
    return n;
}
