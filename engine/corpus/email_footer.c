/* Mailing-list footers found from the data (email_footer.h).
 *
 * A trailing block is the last k non-blank lines of a body, normalized and joined by '\n'. Every
 * body contributes its blocks for k = 1 .. max_lines; a block whose distinct senders reach
 * min_senders and that holds at least min_chars characters is a footer. Counting senders, not
 * messages, is what tells a list's trailer from a sign-off that one prolific author repeats.
 *
 * Some lists rotate their sponsor's text under a fixed first line (SourceForge's dashed rule and
 * "This sf.net email is sponsored by: ..."): each week's block reaches few senders on its own.
 * So a line that heads two or more different footers, and is itself at least min_chars long, is
 * a footer head: a trailing block that starts with it, no longer than the longest footer it
 * heads, is a footer too. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "email_footer.h"
#include "plume/text.h"

/* Blocks longer than this (bytes, normalized) are not tracked: no footer is that long, and a
 * body whose last lines are huge would otherwise cost memory for nothing. */
#define FOOTER_MAX_BYTES 4096

typedef struct block_count {
    size_t senders;   /* distinct senders whose bodies end with this block */
    size_t cut;       /* times email_footers_strip removed it */
} block_count;

typedef struct head_count {
    size_t footers;    /* distinct footers of 2 or more lines that start with this line */
    size_t max_lines;  /* the longest of them, in lines */
} head_count;

struct email_footers {
    size_t min_senders, max_lines, min_chars;
    plume_vocab *blocks;        /* block text → id */
    plume_vocab *sender_ids;    /* sender → id */
    plume_vocab *pairs;         /* "block sender" → id: each pair counts once */
    block_count *counts;        /* by block id */
    size_t counts_cap;
    struct cut_entry *order;    /* cut blocks, most cut first (built lazily by email_footers_cut) */
    size_t n_order;
    int order_stale;
    plume_vocab *heads;         /* first lines of footers → id (built by the first strip) */
    head_count *head_counts;    /* by head id */
    int heads_ready;
};

email_footers *email_footers_new(size_t min_senders, size_t max_lines, size_t min_chars) {
    email_footers *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->min_senders = min_senders;
    f->max_lines = max_lines;
    f->min_chars = min_chars;
    f->blocks = plume_vocab_new();
    f->sender_ids = plume_vocab_new();
    f->pairs = plume_vocab_new();
    if (!f->blocks || !f->sender_ids || !f->pairs) {
        email_footers_free(f);
        return NULL;
    }
    return f;
}

void email_footers_free(email_footers *f) {
    if (!f) return;
    plume_vocab_free(f->blocks);
    plume_vocab_free(f->sender_ids);
    plume_vocab_free(f->pairs);
    plume_vocab_free(f->heads);
    free(f->head_counts);
    free(f->counts);
    free(f->order);
    free(f);
}

/* The tail of a body: its last non-blank lines (at most max), each normalized, and where each
 * starts in the original text so that a match can be cut there. */
typedef struct tail {
    char *joined;          /* normalized lines, oldest first, joined by '\n' */
    size_t *line_at;       /* line_at[j]: offset in joined where the j-th of the n lines starts */
    size_t *source_at;     /* source_at[j]: offset in the original text where it starts */
    size_t n;
} tail;

static void free_tail(tail *t) {
    free(t->joined);
    free(t->line_at);
    free(t->source_at);
}

/* Writes the normalized form of s[0..len): runs of white space, the no-break space (U+00A0,
 * which HTML newsletters use between words) included, become one space; ends are trimmed. */
static size_t normalize_line(const char *s, size_t len, char *out) {
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        int nbsp = (unsigned char)s[i] == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0;
        if (isspace((unsigned char)s[i]) || nbsp) {
            i += (size_t)nbsp;
            space = o > 0;
            continue;
        }
        if (space) out[o++] = ' ';
        space = 0;
        out[o++] = s[i];
    }
    return o;
}

static int read_tail(const char *text, size_t max, tail *t) {
    memset(t, 0, sizeof *t);
    size_t len = strlen(text);
    size_t starts[64], ends[64];   /* the lines found walking back, newest first */
    if (max > 64) max = 64;
    size_t n = 0, bytes = 0, e = len;
    while (n < max && e > 0) {
        size_t b = e;
        while (b > 0 && text[b - 1] != '\n') b--;
        size_t i = b;
        while (i < e && isspace((unsigned char)text[i])) i++;
        if (i < e) {
            if (bytes + (e - b) + 1 > FOOTER_MAX_BYTES) break;
            starts[n] = b;
            ends[n] = e;
            bytes += e - b + 1;
            n++;
        }
        e = b > 0 ? b - 1 : 0;
        if (b == 0) break;
    }
    t->joined = malloc(bytes + 1);
    t->line_at = malloc((n ? n : 1) * sizeof *t->line_at);
    t->source_at = malloc((n ? n : 1) * sizeof *t->source_at);
    if (!t->joined || !t->line_at || !t->source_at) {
        free_tail(t);
        return -1;
    }
    size_t o = 0;
    for (size_t j = 0; j < n; j++) {   /* oldest first */
        size_t k = n - 1 - j;
        if (j > 0) t->joined[o++] = '\n';
        t->line_at[j] = o;
        t->source_at[j] = starts[k];
        o += normalize_line(text + starts[k], ends[k] - starts[k], t->joined + o);
    }
    t->joined[o] = '\0';
    t->n = n;
    return 0;
}

static int grow_counts(email_footers *f, size_t id) {
    if (id < f->counts_cap) return 0;
    size_t cap = f->counts_cap ? f->counts_cap : 1024;
    while (cap <= id) cap *= 2;
    block_count *p = realloc(f->counts, cap * sizeof *p);
    if (!p) return -1;
    memset(p + f->counts_cap, 0, (cap - f->counts_cap) * sizeof *p);
    f->counts = p;
    f->counts_cap = cap;
    return 0;
}

int email_footers_observe(email_footers *f, const char *sender, const char *text) {
    tail t;
    if (read_tail(text, f->max_lines, &t)) return -1;
    long sid = plume_vocab_id(f->sender_ids, sender, strlen(sender), 1);
    int rc = sid < 0 ? -1 : 0;
    size_t total = strlen(t.joined);
    for (size_t k = 1; rc == 0 && k <= t.n; k++) {   /* the last k lines */
        size_t at = t.line_at[t.n - k];
        long bid = plume_vocab_id(f->blocks, t.joined + at, total - at, 1);
        if (bid < 0 || grow_counts(f, (size_t)bid)) {
            rc = -1;
            break;
        }
        char pair[64];
        int pl = snprintf(pair, sizeof pair, "%ld %ld", bid, sid);
        size_t before = plume_vocab_size(f->pairs);
        if (plume_vocab_id(f->pairs, pair, (size_t)pl, 1) < 0) rc = -1;
        else if (plume_vocab_size(f->pairs) > before) f->counts[bid].senders++;
    }
    free_tail(&t);
    return rc;
}

static int qualifies(const email_footers *f, long bid, const char *block, size_t len) {
    return f->min_senders > 0 && f->counts[bid].senders >= f->min_senders && plume_utf8_length(block, len) >= f->min_chars;
}

static int is_footer(const email_footers *f, const char *block, size_t len, long *id) {
    long bid = plume_vocab_id(f->blocks, block, len, 0);
    if (bid < 0 || !qualifies(f, bid, block, len)) return 0;
    *id = bid;
    return 1;
}

/* The footer heads, from every footer of 2 or more lines that pass 1 found. 0, or -1 when out of memory. */
static int find_heads(email_footers *f) {
    size_t n = plume_vocab_size(f->blocks);
    if (!(f->heads = plume_vocab_new())) return -1;
    f->head_counts = calloc(n ? n : 1, sizeof *f->head_counts);   /* at most one head per block */
    if (!f->head_counts) return -1;
    for (size_t id = 0; id < n; id++) {
        const char *b = plume_vocab_word(f->blocks, id);
        size_t len = strlen(b);
        const char *nl = memchr(b, '\n', len);
        if (!nl || !qualifies(f, (long)id, b, len)) continue;
        if (plume_utf8_length(b, (size_t)(nl - b)) < f->min_chars) continue;   /* "Thanks," heads nothing */
        long hid = plume_vocab_id(f->heads, b, (size_t)(nl - b), 1);
        if (hid < 0) return -1;
        size_t lines = 1;
        for (const char *p = b; (p = memchr(p, '\n', len - (size_t)(p - b))); p++) lines++;
        f->head_counts[hid].footers++;
        if (lines > f->head_counts[hid].max_lines) f->head_counts[hid].max_lines = lines;
    }
    f->heads_ready = 1;
    return 0;
}

/* Where a trailing block headed by a footer head starts (the nearest to the end), or -1. */
static long headed_block(const email_footers *f, const tail *t) {
    for (size_t k = 2; k <= t->n; k++) {
        size_t at = t->line_at[t->n - k], end = t->line_at[t->n - k + 1] - 1;   /* k >= 2: a line follows */
        long hid = plume_vocab_id(f->heads, t->joined + at, end - at, 0);
        if (hid >= 0 && f->head_counts[hid].footers >= 2 && k <= f->head_counts[hid].max_lines) return (long)(t->n - k);
    }
    return -1;
}

size_t email_footers_strip(email_footers *f, char *text) {
    if (!f->heads_ready && f->min_senders > 0 && find_heads(f)) return 0;   /* out of memory: leave the text as it is */
    size_t cut = 0;
    for (;;) {
        tail t;
        if (read_tail(text, f->max_lines, &t)) break;   /* out of memory: leave the text as it is */
        size_t total = strlen(t.joined);
        long from = -1, bid = -1;
        for (size_t k = t.n; k >= 1 && from < 0; k--)   /* the longest footer first */
            if (is_footer(f, t.joined + t.line_at[t.n - k], total - t.line_at[t.n - k], &bid)) from = (long)(t.n - k);
        if (from < 0 && f->heads_ready && (from = headed_block(f, &t)) >= 0) {
            /* a sponsor's block under a known head: count it under its own text */
            size_t at = t.line_at[from];
            bid = plume_vocab_id(f->blocks, t.joined + at, total - at, 1);
            if (bid < 0 || grow_counts(f, (size_t)bid)) from = -1;
        }
        size_t at_source = from >= 0 ? t.source_at[from] : 0;
        free_tail(&t);
        if (from < 0) break;
        f->counts[bid].cut++;
        f->order_stale = 1;
        size_t e = at_source;
        while (e > 0 && isspace((unsigned char)text[e - 1])) e--;
        text[e] = '\0';
        cut++;
    }
    return cut;
}

typedef struct cut_entry { size_t id, cut; } cut_entry;

static int by_cut(const void *pa, const void *pb) {
    const cut_entry *a = pa, *b = pb;
    if (a->cut != b->cut) return a->cut > b->cut ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;   /* ties: first seen first */
}

size_t email_footers_cut(email_footers *f, size_t i, const char **block, size_t *senders, size_t *cut) {
    if (f->order_stale) {
        size_t n = plume_vocab_size(f->blocks), k = 0;
        cut_entry *order = realloc(f->order, (n ? n : 1) * sizeof *order);
        if (!order) return 0;
        f->order = order;
        for (size_t id = 0; id < n; id++)
            if (f->counts[id].cut) order[k++] = (cut_entry){ id, f->counts[id].cut };
        qsort(order, k, sizeof *order, by_cut);
        f->n_order = k;
        f->order_stale = 0;
    }
    if (i < f->n_order) {
        size_t id = f->order[i].id;
        *block = plume_vocab_word(f->blocks, id);
        *senders = f->counts[id].senders;
        *cut = f->counts[id].cut;
    }
    return f->n_order;
}
