/* Words: Unicode-aware tokenization and case folding with utf8proc.
 *
 * The whole text is case folded and NFC-composed in one utf8proc_map() call (one
 * allocation per text, not per word), then scanned for runs of word characters:
 * letters, combining marks, digits and connector punctuation ('_', so identifiers
 * like uv_ip6_addr stay whole; PLUME_WORDS_SPLIT_CONNECTORS makes them separators). An
 * apostrophe (' or U+2019) between two word characters stays inside the word as ', so "don't"
 * is one word. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "plume/text.h"

int plume_words_push(plume_words *w, const char *word, size_t len) {
    if (w->count == w->off_cap) {
        size_t ncap = w->off_cap ? w->off_cap * 2 : 64;
        size_t *p = realloc(w->off, ncap * sizeof *p);
        if (!p) return -1;
        w->off = p;
        w->off_cap = ncap;
    }
    if (len + 1 > w->buf_cap - w->buf_len) {
        size_t ncap = w->buf_cap ? w->buf_cap : 512;
        while (len + 1 > ncap - w->buf_len) {
            if (ncap > SIZE_MAX / 2) return -1;
            ncap *= 2;
        }
        char *p = realloc(w->buf, ncap);
        if (!p) return -1;
        w->buf = p;
        w->buf_cap = ncap;
    }
    memcpy(w->buf + w->buf_len, word, len);
    w->buf[w->buf_len + len] = '\0';
    w->off[w->count++] = w->buf_len;
    w->buf_len += len + 1;
    return 0;
}

void plume_words_reset(plume_words *w) {
    w->count = 0;
    w->buf_len = 0;
}

void plume_words_free(plume_words *w) {
    free(w->buf);
    free(w->off);
    memset(w, 0, sizeof *w);
}

/* Letters, marks and digits; connector punctuation too unless split_connectors. */
static int is_word_cp(utf8proc_int32_t cp, int split_connectors) {
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               (cp == '_' && !split_connectors);
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    case UTF8PROC_CATEGORY_PC:
        return !split_connectors;
    default:
        return 0;
    }
}

/* Decodes one character at t[i]; a malformed byte reads as U+FFFD (not a word character). */
static size_t next_cp(const uint8_t *t, size_t len, size_t i, utf8proc_int32_t *cp) {
    if (t[i] < 0x80) {
        *cp = t[i];
        return 1;
    }
    utf8proc_ssize_t n = utf8proc_iterate(t + i, (utf8proc_ssize_t)(len - i), cp);
    if (n <= 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return (size_t)n;
}

/* Scans already-folded text for words. */
static int scan_words(const uint8_t *t, size_t len, int split, plume_words *out) {
    char *word = NULL;
    size_t wlen = 0, wcap = 0;
    size_t i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        utf8proc_int32_t cp;
        size_t n = next_cp(t, len, i, &cp);
        if (!is_word_cp(cp, split)) {
            i += n;
            continue;
        }
        /* a word starts at i */
        wlen = 0;
        while (i < len) {
            n = next_cp(t, len, i, &cp);
            const uint8_t *piece = t + i;
            size_t plen = n;
            if (!is_word_cp(cp, split)) {
                if (cp != '\'' && cp != 0x2019) break;
                /* an apostrophe stays only between two word characters */
                if (i + n >= len) break;
                utf8proc_int32_t next;
                next_cp(t, len, i + n, &next);
                if (!is_word_cp(next, split)) break;
                piece = (const uint8_t *)"'";
                plen = 1;
            }
            if (wlen + plen > wcap) {
                size_t ncap = wcap ? wcap * 2 : 64;
                while (ncap < wlen + plen) ncap *= 2;
                char *p = realloc(word, ncap);
                if (!p) {
                    rc = -1;
                    break;
                }
                word = p;
                wcap = ncap;
            }
            memcpy(word + wlen, piece, plen);
            wlen += plen;
            i += n;
        }
        if (rc == 0 && wlen > 0 && plume_words_push(out, word, wlen)) rc = -1;
    }
    free(word);
    return rc;
}

/* ASCII text (most of it, in practice) folds by plain lower-casing, which is what full case
 * folding and NFC give for ASCII; utf8proc_map()'s decompose/recompose is 10x slower. */
static int is_ascii(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) return 0;
    return 1;
}

int plume_text_words(const char *s, size_t len, plume_words *out) {
    return plume_text_words_with(s, len, PLUME_WORDS_DEFAULT, out);
}

int plume_text_words_with(const char *s, size_t len, unsigned flags, plume_words *out) {
    int split = (flags & PLUME_WORDS_SPLIT_CONNECTORS) != 0;
    if (len == 0) return 0;
    if (is_ascii(s, len)) {
        uint8_t *low = malloc(len);
        if (!low) return -1;
        for (size_t i = 0; i < len; i++) low[i] = (uint8_t)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
        int rc = scan_words(low, len, split, out);
        free(low);
        return rc;
    }
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &folded,
                                      UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (n == UTF8PROC_ERROR_INVALIDUTF8) {
        /* Malformed input still gets its words: clean it (U+FFFD for bad bytes) and fold that. */
        size_t clen;
        char *clean = plume_utf8_clean(s, len, &clen, NULL);
        if (!clean) return -1;
        n = clen ? utf8proc_map((const utf8proc_uint8_t *)clean, (utf8proc_ssize_t)clen, &folded,
                                UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE)
                 : 0;
        free(clean);
        if (n == 0) return 0;
    }
    if (n < 0) return -1;
    int rc = scan_words(folded, (size_t)n, split, out);
    free(folded);
    return rc;
}

int plume_word_has_letter(const char *word, size_t len) {
    for (size_t i = 0; i < len;) {
        uint32_t c = plume_utf8_next(word, len, &i);
        if (c < 0x80 ? ((c | 32) >= 'a' && (c | 32) <= 'z')
                     : utf8proc_category((utf8proc_int32_t)c) >= UTF8PROC_CATEGORY_LU &&
                           utf8proc_category((utf8proc_int32_t)c) <= UTF8PROC_CATEGORY_LO)
            return 1;
    }
    return 0;
}
