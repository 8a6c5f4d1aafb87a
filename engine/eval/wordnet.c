/* WordNet 3.0 synonyms straight from the database files Debian's `wordnet` package installs
 * (/usr/share/wordnet), read as wndb(5) and morphy(7) describe them:
 *   index.POS  "lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt offset..."
 *              sorted bytewise; lines starting with two spaces are the licence;
 *   data.POS   a synset per line at the byte offset the index gives:
 *              "offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id...] ...";
 *              adjectives may carry a marker "(a)", "(p)" or "(ip)" after the word;
 *   POS.exc    "inflected base [base...]", the irregular forms (mice → mouse).
 * Base forms follow morphy: the word itself, its exceptions, and the detachment rules below,
 * each kept only when the index of that part of speech holds it. Index and exception files are
 * read into memory (about 6 MiB) and searched by bisection; synsets are read from the data files
 * on demand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/eval.h"
#include "plume/read_line.h"
#include "wordnet.h"

#define WN_POS 4
#define WN_MAX_FILE ((size_t)64 << 20)   /* WordNet 3.0's largest index is 4.6 MiB */
#define WN_MAX_BASES 16
#define WORDNET_LINE_MAX ((size_t)1 << 20)   /* a synset line: WordNet 3.0's longest is under 16 KiB */

static const char *const pos_name[WN_POS] = { "noun", "verb", "adj", "adv" };

typedef struct wn_lines {
    char *buf;          /* the file, each line NUL-terminated in place */
    char **lines;       /* non-licence lines, in file order (sorted) */
    size_t count;
} wn_lines;

struct plume_wordnet {
    wn_lines index[WN_POS], exc[WN_POS];
    FILE *data[WN_POS];
    char path[WN_POS][1024];   /* data file paths, for messages */
    char *line;                /* the data line last read */
    size_t line_cap;
};

static int load_lines(const char *path, wn_lines *out, plume_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return plume_fail(err, "%s: %s (hint: install Debian's `wordnet` package)", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return plume_fail(err, "%s: cannot seek: %s", path, strerror(errno));
    }
    long size = ftell(f);
    if (size < 0 || (size_t)size > WN_MAX_FILE) {
        fclose(f);
        return plume_fail(err, "%s: size %ld is not that of a WordNet file (limit %zu MiB)", path, size,
                          WN_MAX_FILE >> 20);
    }
    rewind(f);
    out->buf = malloc((size_t)size + 1);
    if (!out->buf) {
        fclose(f);
        return plume_fail(err, "%s: out of memory", path);
    }
    size_t got = fread(out->buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) return plume_fail(err, "%s: short read (%zu of %ld bytes)", path, got, size);
    out->buf[size] = '\0';
    size_t n = 0;
    for (long i = 0; i < size; i++) n += out->buf[i] == '\n';
    out->lines = malloc((n + 1) * sizeof *out->lines);
    if (!out->lines) return plume_fail(err, "%s: out of memory", path);
    char *p = out->buf, *end = out->buf + size;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        *nl = '\0';
        if (p[0] != ' ' && p[0] != '\0') out->lines[out->count++] = p;
        p = nl + 1;
    }
    return 0;
}

static void free_lines(wn_lines *l) {
    free(l->buf);
    free(l->lines);
    memset(l, 0, sizeof *l);
}

void plume_wordnet_close(plume_wordnet *wn) {
    if (!wn) return;
    for (int p = 0; p < WN_POS; p++) {
        free_lines(&wn->index[p]);
        free_lines(&wn->exc[p]);
        if (wn->data[p]) fclose(wn->data[p]);
    }
    free(wn->line);
    free(wn);
}

plume_wordnet *plume_wordnet_open(const char *dir, plume_error *err) {
    if (!dir) dir = "/usr/share/wordnet";
    plume_wordnet *wn = calloc(1, sizeof *wn);
    if (!wn) {
        plume_fail(err, "wordnet: out of memory");
        return NULL;
    }
    char path[1024];
    for (int p = 0; p < WN_POS; p++) {
        snprintf(path, sizeof path, "%s/index.%s", dir, pos_name[p]);
        if (load_lines(path, &wn->index[p], err)) goto fail;
        snprintf(path, sizeof path, "%s/%s.exc", dir, pos_name[p]);
        if (load_lines(path, &wn->exc[p], err)) goto fail;
        snprintf(wn->path[p], sizeof wn->path[p], "%s/data.%s", dir, pos_name[p]);
        wn->data[p] = fopen(wn->path[p], "rb");
        if (!wn->data[p]) {
            plume_fail(err, "%s: %s (hint: install Debian's `wordnet` package)", wn->path[p], strerror(errno));
            goto fail;
        }
    }
    return wn;
fail:
    plume_wordnet_close(wn);
    return NULL;
}

/* The line of l whose first field is key, or NULL. */
static const char *find_line(const wn_lines *l, const char *key) {
    size_t lo = 0, hi = l->count, k = strlen(key);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = l->lines[mid];
        int c = strncmp(s, key, k);
        if (c == 0) c = (s[k] == ' ' || s[k] == '\0') ? 0 : 1;   /* s is longer: it sorts after */
        if (c == 0) return s;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* Detachment rules (morphy(7)): suffix → ending. */
typedef struct wn_rule { const char *suffix, *ending; } wn_rule;
static const wn_rule noun_rules[] = { { "s", "" }, { "ses", "s" }, { "xes", "x" }, { "zes", "z" },
                                      { "ches", "ch" }, { "shes", "sh" }, { "men", "man" }, { "ies", "y" } };
static const wn_rule verb_rules[] = { { "s", "" }, { "ies", "y" }, { "es", "e" }, { "es", "" },
                                      { "ed", "e" }, { "ed", "" }, { "ing", "e" }, { "ing", "" } };
static const wn_rule adj_rules[] = { { "er", "" }, { "est", "" }, { "er", "e" }, { "est", "e" } };

typedef struct wn_bases { char w[WN_MAX_BASES][128]; int n; } wn_bases;

static void add_base(wn_bases *b, const plume_wordnet *wn, int pos, const char *cand) {
    if (b->n >= WN_MAX_BASES || strlen(cand) >= sizeof b->w[0]) return;
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->w[i], cand)) return;
    if (!find_line(&wn->index[pos], cand)) return;
    strcpy(b->w[b->n++], cand);
}

/* Base forms of a lower-case word in one part of speech (those present in the index). */
static void base_forms(const plume_wordnet *wn, int pos, const char *word, wn_bases *b) {
    b->n = 0;
    size_t len = strlen(word);
    if (len == 0 || len >= 128) return;
    add_base(b, wn, pos, word);
    const char *exc = find_line(&wn->exc[pos], word);
    if (exc) {
        const char *p = strchr(exc, ' ');
        while (p && *p) {
            while (*p == ' ') p++;
            const char *e = strchr(p, ' ');
            size_t k = e ? (size_t)(e - p) : strlen(p);
            char cand[128];
            if (k > 0 && k < sizeof cand) {
                memcpy(cand, p, k);
                cand[k] = '\0';
                add_base(b, wn, pos, cand);
            }
            p = e;
        }
    }
    const wn_rule *rules = pos == 0 ? noun_rules : pos == 1 ? verb_rules : pos == 2 ? adj_rules : NULL;
    size_t n_rules = pos == 0 ? sizeof noun_rules / sizeof noun_rules[0]
                   : pos == 1 ? sizeof verb_rules / sizeof verb_rules[0]
                   : pos == 2 ? sizeof adj_rules / sizeof adj_rules[0] : 0;
    if (pos == 0 && (len <= 2 || (len >= 2 && !strcmp(word + len - 2, "ss")))) n_rules = 0;   /* glass, not glas */
    for (size_t r = 0; r < n_rules; r++) {
        size_t sl = strlen(rules[r].suffix), el = strlen(rules[r].ending);
        if (len <= sl || strcmp(word + len - sl, rules[r].suffix)) continue;
        char cand[128];
        memcpy(cand, word, len - sl);
        memcpy(cand + len - sl, rules[r].ending, el + 1);
        add_base(b, wn, pos, cand);
    }
}

/* Adds the words of the synset at offset of data.POS to set. */
static int add_synset(plume_wordnet *wn, int pos, unsigned long offset, plume_vocab *set, plume_error *err) {
    int too_long = 0;
    if (fseek(wn->data[pos], (long)offset, SEEK_SET) != 0 ||
        plume_read_line(wn->data[pos], &wn->line, &wn->line_cap, WORDNET_LINE_MAX, &too_long) < 0)
        return plume_fail(err, "%s: no synset at byte offset %lu (the index names it): damaged database?",
                          wn->path[pos], offset);
    if (too_long)
        return plume_fail(err, "%s: the synset at byte offset %lu is a line longer than %zu bytes: damaged database?",
                          wn->path[pos], offset, (size_t)WORDNET_LINE_MAX);
    char *save = NULL;
    char *tok = strtok_r(wn->line, " ", &save);
    if (!tok || strtoul(tok, NULL, 10) != offset)
        return plume_fail(err, "%s: byte offset %lu does not start a synset: damaged database?", wn->path[pos], offset);
    strtok_r(NULL, " ", &save);                 /* lex_filenum */
    strtok_r(NULL, " ", &save);                 /* ss_type */
    tok = strtok_r(NULL, " ", &save);           /* w_cnt, hexadecimal */
    unsigned long w_cnt = tok ? strtoul(tok, NULL, 16) : 0;
    if (!tok || w_cnt == 0 || w_cnt > 255)
        return plume_fail(err, "%s: synset at byte offset %lu has a bad word count: damaged database?",
                          wn->path[pos], offset);
    for (unsigned long i = 0; i < w_cnt; i++) {
        char *word = strtok_r(NULL, " ", &save);
        if (!word || !strtok_r(NULL, " ", &save))
            return plume_fail(err, "%s: synset at byte offset %lu ends early", wn->path[pos], offset);
        char *paren = strchr(word, '(');   /* adjective marker: "outback(a)" */
        if (paren) *paren = '\0';
        for (char *c = word; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
        if (plume_vocab_id(set, word, strlen(word), 1) < 0) return plume_fail(err, "wordnet: out of memory");
    }
    return 0;
}

int ev_wordnet_collect(plume_wordnet *wn, const char *word, plume_vocab *set, plume_error *err) {
    for (int pos = 0; pos < WN_POS; pos++) {
        wn_bases b;
        base_forms(wn, pos, word, &b);
        for (int i = 0; i < b.n; i++) {
            /* Copy the index line's fields: add_synset reuses no index memory, but stay safe. */
            const char *line = find_line(&wn->index[pos], b.w[i]);
            if (!line) continue;
            char *copy = strdup(line), *save = NULL;
            if (!copy) return plume_fail(err, "wordnet: out of memory");
            strtok_r(copy, " ", &save);                          /* lemma */
            strtok_r(NULL, " ", &save);                          /* pos */
            char *t = strtok_r(NULL, " ", &save);
            unsigned long synset_cnt = t ? strtoul(t, NULL, 10) : 0;
            t = strtok_r(NULL, " ", &save);
            unsigned long p_cnt = t ? strtoul(t, NULL, 10) : 0;
            int bad = !t || synset_cnt > 10000 || p_cnt > 1000;
            for (unsigned long k = 0; !bad && k < p_cnt; k++) bad = !strtok_r(NULL, " ", &save);
            if (!bad) bad = !strtok_r(NULL, " ", &save) || !strtok_r(NULL, " ", &save);   /* sense_cnt, tagsense_cnt */
            for (unsigned long k = 0; !bad && k < synset_cnt; k++) {
                t = strtok_r(NULL, " ", &save);
                if (!t) {
                    bad = 1;
                    break;
                }
                if (add_synset(wn, pos, strtoul(t, NULL, 10), set, err)) {
                    free(copy);
                    return -1;
                }
            }
            free(copy);
            if (bad)
                return plume_fail(err, "index.%s: malformed entry for \"%s\": damaged database?", pos_name[pos], b.w[i]);
        }
    }
    return 0;
}

int ev_wordnet_in_set(plume_wordnet *wn, const char *word, plume_vocab *set) {
    if (plume_vocab_id(set, word, strlen(word), 0) >= 0) return 1;
    for (int pos = 0; pos < WN_POS; pos++) {
        wn_bases b;
        base_forms(wn, pos, word, &b);
        for (int i = 0; i < b.n; i++)
            if (plume_vocab_id(set, b.w[i], strlen(b.w[i]), 0) >= 0) return 1;
    }
    return 0;
}

int plume_wordnet_synonyms(plume_wordnet *wn, const char *a, const char *b, plume_error *err) {
    plume_vocab *set = plume_vocab_new();
    if (!set) return plume_fail(err, "wordnet: out of memory");
    int r = ev_wordnet_collect(wn, a, set, err);
    if (r == 0) r = ev_wordnet_in_set(wn, b, set);
    plume_vocab_free(set);
    return r;
}
