/* The paper's dataset recipe: from a corpus (one document per line) to train/val/test requests.
 *
 * Per author, documents in time order, exact duplicates (same title and text) removed. A document
 * is an example when its title + text is longer than min_chars characters and the author has at
 * least min_profile documents strictly earlier in time: those form its profile. Authors need
 * min_examples examples and keep at most max_examples (the most recent ones, which have the
 * fullest profiles). Authors, not examples, are split train/val/test by a seeded shuffle, so test
 * users are unseen in training. max_profile (not in the paper; 0 by default) keeps only the most
 * recent earlier documents in each request, to bound the size of shipped datasets. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "plume/corpus.h"
#include "corpus_internal.h"
#include "plume/read_line.h"
#include "plume/plume.h"
#include "plume/text.h"

plume_dataset_options plume_dataset_defaults(void) {
    plume_dataset_options o = { 300, 2, 5, 50, 150, 0, 0.85, 0.05, 1 };
    return o;
}

char *plume_dataset_join(const char *title, const char *text) {
    size_t tl = title ? strlen(title) : 0, xl = strlen(text);
    char *s = malloc(tl + xl + 2);
    if (!s) return NULL;
    if (tl) {
        memcpy(s, title, tl);
        s[tl++] = '\n';
    }
    memcpy(s + tl, text, xl + 1);
    return s;
}

char *plume_dataset_context(const char *title, const char *text, size_t n) {
    char *s = plume_dataset_join(title, text);
    if (s) s[plume_utf8_prefix(s, strlen(s), n)] = '\0';
    return s;
}

typedef struct ds_doc {
    char *id, *author, *title, *text, *joined;
    double time;
    size_t chars;    /* characters of joined */
    size_t n_earlier;  /* its author's non-duplicate documents strictly earlier in time */
    int duplicate;
} ds_doc;

typedef struct ds_author {
    size_t first, count;      /* its documents: docs[first .. first + count), time order */
    size_t *examples;         /* indices into docs */
    size_t n_examples;
    int split;                /* 0 train, 1 val, 2 test, -1 dropped */
} ds_author;

static int cmp_doc(const void *pa, const void *pb) {
    const ds_doc *a = pa, *b = pb;
    int c = strcmp(a->author, b->author);
    if (c) return c;
    if (a->time != b->time) return a->time < b->time ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void free_docs(ds_doc *d, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(d[i].id); free(d[i].author); free(d[i].title); free(d[i].text); free(d[i].joined);
    }
    free(d);
}

/* A JSON string field, or NULL. */
static const char *str_field(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int read_corpus(const char *path, ds_doc **out, size_t *n_out, plume_dataset_stats *st, plume_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return plume_fail(err, "%s: cannot open: %s (hint: make it with `plume import`)", path, strerror(errno));
    ds_doc *docs = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    plume_line_reader lines;
    plume_line_attach(&lines, f, path, CORPUS_MAX_LINE);
    char *line;
    size_t got;
    int rc = 0, more;
    /* A line over the cap stops the build: it is no document, and skipping it would hide the damage. */
    while ((more = plume_line_next(&lines, &line, &got, err)) > 0) {
        lineno = lines.line_no;
        json_error_t jerr;
        json_t *o = json_loadb(line, got, 0, &jerr);
        const char *id = o ? str_field(o, "id") : NULL, *author = o ? str_field(o, "author") : NULL,
                   *title = o ? str_field(o, "title") : NULL, *text = o ? str_field(o, "text") : NULL;
        json_t *tv = o ? json_object_get(o, "time") : NULL;
        if (!id || !author || !text || !json_is_number(tv)) {
            if (st->lines_bad++ == 0)
                fprintf(stderr, "%s:%zu: skipped: %s (hint: a corpus line needs id, author, time, text)\n", path, lineno,
                        o ? "a field is missing or of the wrong type" : jerr.text);
            json_decref(o);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            ds_doc *p = realloc(docs, nc * sizeof *p);
            if (!p) {
                json_decref(o);
                rc = plume_fail(err, "%s:%zu: out of memory", path, lineno);
                break;
            }
            docs = p;
            cap = nc;
        }
        ds_doc *d = &docs[n];
        memset(d, 0, sizeof *d);
        d->id = strdup(id);
        d->author = strdup(author);
        d->title = strdup(title ? title : "");
        d->text = strdup(text);
        d->time = json_number_value(tv);
        d->joined = plume_dataset_join(d->title ? d->title : "", text);
        json_decref(o);
        n++;
        if (!d->id || !d->author || !d->title || !d->text || !d->joined) {
            rc = plume_fail(err, "%s:%zu: out of memory", path, lineno);
            break;
        }
        d->chars = plume_utf8_length(d->joined, strlen(d->joined));
    }
    if (rc == 0 && more < 0) rc = -1;
    plume_line_close(&lines);
    fclose(f);
    if (rc) {
        free_docs(docs, n);
        return -1;
    }
    *out = docs;
    *n_out = n;
    st->docs_read = n;
    return 0;
}

/* splitmix64: a small, well-mixed generator, so a seed gives the same split everywhere. */
static uint64_t next_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The profile an example has: earlier, non-duplicate documents of its author. */
static size_t profile_size(const ds_doc *docs, const ds_author *a, size_t ex) {
    (void)a;
    return docs[ex].n_earlier;
}

/* How many of the oldest profile documents max_profile leaves out. */
static size_t profile_skip(const ds_doc *docs, const ds_author *a, size_t ex, const plume_dataset_options *opt) {
    size_t n = profile_size(docs, a, ex);
    return opt->max_profile > 0 && n > (size_t)opt->max_profile ? n - (size_t)opt->max_profile : 0;
}

static int write_request(FILE *f, const ds_doc *docs, const ds_author *a, size_t ex, const plume_dataset_options *opt) {
    const ds_doc *t = &docs[ex];
    json_t *o = json_object(), *profile = json_array();
    char *context = plume_dataset_context(t->title, t->text, (size_t)opt->context_chars);
    int bad = !o || !profile || !context;
    bad = bad || json_object_set_new(o, "id", json_string(t->id)) || json_object_set_new(o, "user", json_string(t->author)) ||
          json_object_set_new(o, "context", json_string(context));
    size_t skip = profile_skip(docs, a, ex, opt);
    for (size_t i = a->first; !bad && i < ex; i++) {
        const ds_doc *p = &docs[i];
        if (p->duplicate || p->time >= t->time) continue;
        if (skip) {
            skip--;   /* older than the max_profile most recent */
            continue;
        }
        json_t *e = json_object();
        if (!e || json_object_set_new(e, "id", json_string(p->id)) || json_object_set_new(e, "title", json_string(p->title)) ||
            json_object_set_new(e, "text", json_string(p->text)) || json_object_set_new(e, "time", json_integer((json_int_t)p->time))) {
            json_decref(e);
            bad = 1;
        } else {
            bad = json_array_append_new(profile, e) != 0;   /* jansson frees e when this fails */
        }
    }
    bad = bad || json_object_set(o, "profile", profile) || json_object_set_new(o, "target", json_string(t->joined));
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    json_decref(profile);
    free(context);
    if (!s) return -1;
    int rc = (fputs(s, f) < 0 || fputc('\n', f) == EOF) ? -1 : 0;
    free(s);
    return rc;
}


static int cmp_str_ptr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int plume_dataset_build(const char *corpus_path, const char *dir, const plume_dataset_options *opt,
                        plume_dataset_stats *st, plume_error *err) {
    memset(st, 0, sizeof *st);
    if (opt->min_chars < 0 || opt->min_profile < 0 || opt->min_examples < 1 || opt->max_examples < opt->min_examples ||
        opt->context_chars < 1 || opt->max_profile < 0 || !(opt->train >= 0) || !(opt->val >= 0) || opt->train + opt->val > 1.0 + 1e-9)
        return plume_fail(err, "dataset options out of range (hint: min_examples >= 1, max_examples >= min_examples, "
                               "context_chars >= 1, train + val <= 1)");
    ds_doc *docs = NULL;
    size_t n = 0;
    if (read_corpus(corpus_path, &docs, &n, st, err)) return -1;
    qsort(docs, n, sizeof *docs, cmp_doc);

    /* authors, duplicates, examples */
    ds_author *authors = calloc(n ? n : 1, sizeof *authors);
    size_t na = 0;
    int rc = authors ? 0 : plume_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t j = i;
        while (j < n && !strcmp(docs[j].author, docs[i].author)) j++;
        ds_author *a = &authors[na++];
        a->first = i;
        a->count = j - i;
        /* exact duplicates of an earlier document of the same author go away (a hash set of the
         * author's title + text strings, so an author with thousands of documents stays fast) */
        plume_vocab *seen = plume_vocab_new();
        if (!seen) {
            rc = plume_fail(err, "out of memory");
            break;
        }
        for (size_t k = i; k < j && rc == 0; k++) {
            size_t len = strlen(docs[k].joined);
            if (plume_vocab_id(seen, docs[k].joined, len, 0) >= 0) {
                docs[k].duplicate = 1;
                st->duplicates++;
            } else if (plume_vocab_id(seen, docs[k].joined, len, 1) < 0) {
                rc = plume_fail(err, "out of memory");
            }
        }
        plume_vocab_free(seen);
        if (rc) break;
        /* documents strictly earlier, counted in one pass: a run of equal times shares its count */
        size_t kept = 0, at_time_start = 0;
        for (size_t k = i; k < j; k++) {
            if (k == i || docs[k].time != docs[k - 1].time) at_time_start = kept;
            docs[k].n_earlier = at_time_start;
            kept += !docs[k].duplicate;
        }
        if (!(a->examples = malloc((j - i) * sizeof *a->examples))) {
            rc = plume_fail(err, "out of memory");
            break;
        }
        for (size_t k = i; k < j; k++) {
            if (docs[k].duplicate) continue;
            if (docs[k].chars <= (size_t)opt->min_chars) st->docs_short++;
            else if (profile_size(docs, a, k) < (size_t)opt->min_profile) st->docs_few_earlier++;
            else a->examples[a->n_examples++] = k;
        }
        a->split = a->n_examples >= (size_t)opt->min_examples ? 0 : -1;
        if (a->split < 0) {
            if (kept < (size_t)opt->min_examples + (size_t)opt->min_profile) st->authors_few_docs++;
            else st->authors_few_examples++;
        }
        if (a->n_examples > (size_t)opt->max_examples) {
            size_t drop = a->n_examples - (size_t)opt->max_examples;
            st->examples_dropped_cap += drop;
            memmove(a->examples, a->examples + drop, (size_t)opt->max_examples * sizeof *a->examples);
            a->n_examples = (size_t)opt->max_examples;
        }
        i = j;
    }
    st->authors = na;

    /* the split: kept authors in name order, shuffled by the seed, cut 85/5/10 */
    char **names = NULL;
    size_t nk = 0;
    if (rc == 0 && !(names = malloc((na ? na : 1) * sizeof *names))) rc = plume_fail(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < na; i++)
        if (authors[i].split == 0) names[nk++] = docs[authors[i].first].author;
    if (rc == 0) {
        qsort(names, nk, sizeof *names, cmp_str_ptr);   /* a fixed start, so the seed alone decides */
        uint64_t s = opt->seed;
        for (size_t i = nk; i > 1; i--) {
            size_t j = (size_t)(next_rand(&s) % i);
            char *t = names[i - 1];
            names[i - 1] = names[j];
            names[j] = t;
        }
        size_t n_train = (size_t)(opt->train * (double)nk + 0.5), n_val = (size_t)(opt->val * (double)nk + 0.5);
        if (n_train > nk) n_train = nk;
        if (n_val > nk - n_train) n_val = nk - n_train;
        st->authors_kept = nk;
        for (size_t i = 0; i < na; i++) {
            if (authors[i].split < 0) continue;
            const char *name = docs[authors[i].first].author;
            for (size_t k = 0; k < nk; k++)
                if (names[k] == name) authors[i].split = k < n_train ? 0 : k < n_train + n_val ? 1 : 2;
        }
    }

    /* an empty test split is refused before any file is written: a table without test users
     * would look like a result */
    size_t test_users = 0;
    for (size_t i = 0; rc == 0 && i < na; i++) test_users += authors[i].split == 2;
    if (rc == 0 && test_users == 0) {
        if (nk == 0)
            rc = plume_fail(err, "%s: the test split is empty: no author has %ld examples. Of %zu authors, %zu have fewer than "
                                 "%ld documents (an author needs --min-examples %ld examples, each with --min-profile %ld "
                                 "earlier documents) and %zu have enough documents but fewer than %ld examples (%zu documents "
                                 "are not longer than --min-chars %ld characters) (hint: a larger corpus, or lower "
                                 "--min-examples or --min-chars)",
                            corpus_path, opt->min_examples, na, st->authors_few_docs, opt->min_examples + opt->min_profile,
                            opt->min_examples, opt->min_profile, st->authors_few_examples, opt->min_examples, st->docs_short,
                            opt->min_chars);
        else
            rc = plume_fail(err, "%s: the test split is empty: %zu authors have %ld examples, and --train %.2f and --val %.2f "
                                 "of them leave none for test (hint: lower --train or --val so that 1 - train - val of %zu "
                                 "authors is at least one author)",
                            corpus_path, nk, opt->min_examples, opt->train, opt->val, nk);
    }

    /* the files, and Table 1 */
    /* the three files are written whole and renamed together at the end: a build that fails or is
     * killed leaves the folder as it was */
    static const char *const split_names[3] = { "train", "val", "test" };
    plume_output_file outs[3] = { { 0 } };
    char paths[3][4096];
    for (int sp = 0; rc == 0 && sp < 3; sp++) {
        snprintf(paths[sp], sizeof paths[sp], "%s/%s.jsonl", dir, split_names[sp]);
        rc = plume_output_open(&outs[sp], paths[sp], err);
    }
    for (int sp = 0; rc == 0 && sp < 3; sp++) {
        const char *path = paths[sp];
        FILE *f = outs[sp].f;
        plume_dataset_split_stats *ss = &st->split[sp];
        double chars = 0, prof = 0;
        for (size_t i = 0; rc == 0 && i < na; i++) {
            ds_author *a = &authors[i];
            if (a->split != sp) continue;
            ss->users++;
            for (size_t k = 0; rc == 0 && k < a->n_examples; k++) {
                size_t ex = a->examples[k];
                if (write_request(f, docs, a, ex, opt))
                    rc = plume_fail(err, "%s: cannot write request %s (disk full or out of memory)", path, docs[ex].id);
                ss->examples++;
                chars += (double)docs[ex].chars;
                prof += (double)(profile_size(docs, a, ex) - profile_skip(docs, a, ex, opt));
            }
        }
        ss->avg_target_chars = ss->examples ? chars / (double)ss->examples : 0;
        ss->avg_profile = ss->examples ? prof / (double)ss->examples : 0;
    }
    for (int sp = 0; sp < 3; sp++) {
        if (rc == 0) rc = plume_output_commit(&outs[sp], err);
        else plume_output_abort(&outs[sp]);
    }
    for (size_t i = 0; authors && i < na; i++) free(authors[i].examples);
    free(authors);
    free(names);
    free_docs(docs, n);
    return rc;
}
