/* Sentences and the paper's snippets.
 *
 * A sentence ends at a run of . ! ? (with closing quotes or brackets after it) that is
 * followed by white space or the end of the text, unless the period closes a known
 * abbreviation ("e.g.", "Mr.") or a single-letter initial, or the next word starts with a
 * lower-case letter (so "approx. three" stays whole). A blank line ends a sentence too:
 * emails and posts are hard-wrapped, so a single newline does not.
 *
 * PLUME_SENTENCES_PLAIN is the older, stricter variant the extractive summaries (SumCtxInd and
 * the SumCtx weak labels) were built and tested with, kept so that their output does not change:
 * a shorter abbreviation list, capital initials only, and no look at the next word. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "plume/text.h"

void plume_spans_free(plume_spans *sp) {
    free(sp->items);
    memset(sp, 0, sizeof *sp);
}

static int spans_push(plume_spans *sp, size_t start, size_t len) {
    if (sp->count == sp->cap) {
        size_t ncap = sp->cap ? sp->cap * 2 : 32;
        plume_span *p = realloc(sp->items, ncap * sizeof *p);
        if (!p) return -1;
        sp->items = p;
        sp->cap = ncap;
    }
    sp->items[sp->count++] = (plume_span){ start, len };
    return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Trims [a, b) and appends it when something is left. */
static int push_trimmed(plume_spans *out, const char *s, size_t a, size_t b) {
    while (a < b && is_space(s[a])) a++;
    while (b > a && is_space(s[b - 1])) b--;
    return b > a ? spans_push(out, a, b - a) : 0;
}

/* Abbreviations a period does not end a sentence after; `plain` marks the short list that
 * PLUME_SENTENCES_PLAIN keeps. */
typedef struct abbreviation { const char *word; int plain; } abbreviation;
static const abbreviation abbreviations[] = {
    { "al", 0 }, { "approx", 0 }, { "cf", 0 }, { "co", 1 }, { "corp", 0 }, { "dept", 0 }, { "dr", 1 },
    { "e.g", 1 }, { "eg", 0 }, { "etc", 1 }, { "fig", 1 }, { "i.e", 1 }, { "ie", 0 }, { "inc", 1 },
    { "jr", 1 }, { "ltd", 1 }, { "mr", 1 }, { "mrs", 1 }, { "ms", 1 }, { "no", 1 }, { "prof", 1 },
    { "sr", 1 }, { "st", 1 }, { "vol", 0 }, { "vs", 1 },
};

/* Is the word that ends right before s[dot] an abbreviation or an initial? The plain rules take
 * only a capital letter as an initial. */
static int before_is_abbrev(const char *s, size_t start, size_t dot, int plain) {
    size_t a = dot;
    while (a > start && !is_space(s[a - 1]) && s[a - 1] != '(' && s[a - 1] != '"') a--;
    size_t n = dot - a;
    if (n == 0 || n > 8) return 0;
    if (n == 1 && (plain ? s[a] >= 'A' && s[a] <= 'Z' : isalpha((unsigned char)s[a]))) return 1;   /* "J. Smith" */
    char w[9];
    for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)s[a + i]);
    w[n] = '\0';
    for (size_t i = 0; i < sizeof abbreviations / sizeof abbreviations[0]; i++)
        if ((abbreviations[i].plain || !plain) && !strcmp(w, abbreviations[i].word)) return 1;
    return 0;
}

int plume_text_sentences(const char *s, size_t len, plume_spans *out) {
    return plume_text_sentences_with(s, len, PLUME_SENTENCES_DEFAULT, out);
}

int plume_text_sentences_with(const char *s, size_t len, plume_sentence_rules rules, plume_spans *out) {
    int plain = rules == PLUME_SENTENCES_PLAIN;
    size_t start = 0, i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '\n') {
            /* a blank line (only white space between two newlines) ends the sentence */
            size_t j = i + 1;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) j++;
            if (j < len && s[j] == '\n') {
                if (push_trimmed(out, s, start, i)) return -1;
                start = j;
                i = j;
                continue;
            }
            i++;
            continue;
        }
        if (c != '.' && c != '!' && c != '?') {
            i++;
            continue;
        }
        size_t run = i;
        while (i < len && (s[i] == '.' || s[i] == '!' || s[i] == '?')) i++;
        size_t run_len = i - run;
        while (i < len && (s[i] == '"' || s[i] == '\'' || s[i] == ')' || s[i] == ']')) i++;
        /* closing quotes as UTF-8: ’ ” (E2 80 99 / E2 80 9D) */
        while (i + 2 < len && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
               ((unsigned char)s[i + 2] == 0x99 || (unsigned char)s[i + 2] == 0x9D))
            i += 3;
        if (i < len && !is_space(s[i])) continue;   /* "3.14", "a.b", "?!x" */
        /* A single period may close an abbreviation. The plain rules count a period followed by
         * ! or ? as single too ("No.!"), and do not look at the next word. */
        int single = plain ? s[run] == '.' && (run + 1 >= len || s[run + 1] != '.') : run_len == 1 && s[run] == '.';
        if (single) {
            if (before_is_abbrev(s, start, run, plain)) continue;
            size_t j = i;
            while (j < len && is_space(s[j])) j++;
            if (!plain && j < len && islower((unsigned char)s[j])) continue;
        }
        if (push_trimmed(out, s, start, i)) return -1;
        start = i;
    }
    return push_trimmed(out, s, start, len);
}

int plume_text_snippets(const char *s, size_t len, size_t min_chars, plume_spans *out) {
    return plume_text_snippets_with(s, len, min_chars, PLUME_SENTENCES_DEFAULT, out);
}

int plume_text_snippets_with(const char *s, size_t len, size_t min_chars, plume_sentence_rules rules,
                             plume_spans *out) {
    plume_spans sent = { 0 };
    if (plume_text_sentences_with(s, len, rules, &sent)) {
        plume_spans_free(&sent);
        return -1;
    }
    int rc = 0;
    size_t i = 0;
    while (i < sent.count && rc == 0) {
        size_t a = sent.items[i].start, b = a;
        /* append sentences until the snippet holds min_chars characters or the text ends */
        while (i < sent.count) {
            b = sent.items[i].start + sent.items[i].len;
            i++;
            if (plume_utf8_length(s + a, b - a) >= min_chars) break;
        }
        rc = spans_push(out, a, b - a);
    }
    plume_spans_free(&sent);
    return rc;
}
