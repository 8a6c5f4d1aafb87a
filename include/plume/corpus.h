/* plume — corpora: importers from real formats to corpus JSON Lines, and the dataset builder.
 *
 * A corpus line is one document:
 *     {"id": source id, "author": ..., "time": seconds since the epoch (UTC), "title": ..., "text": ...}
 * with every string clean UTF-8. Importers never stop on one bad record: they skip it and count
 * why (plume_import_stats), and only fail on what stops the whole file (it cannot be opened).
 * They live in libplume-corpus (which links libxml2 and GMime), apart from the runtime. */
#ifndef PLUME_CORPUS_H
#define PLUME_CORPUS_H

#include <stdio.h>
#include "plume/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plume_corpus_doc {
    const char *id, *author, *title, *text;
    double time;
} plume_corpus_doc;

/* Why records were skipped (or, for notes, changed): reason → count, in first-seen order. */
#define PLUME_IMPORT_MAX_REASONS 24
/* The default cap on one document's title + text, in bytes (plume import --max-doc-bytes). */
#define PLUME_IMPORT_MAX_DOC_BYTES ((size_t)1 << 20)
typedef struct plume_import_stats {
    size_t max_doc_bytes;   /* set by the caller: a document's title + text are cut to this; 0: the default */
    size_t read;       /* records met in the input */
    size_t written;    /* documents written */
    size_t n_reasons;
    struct { const char *reason; size_t count; int note; } reasons[PLUME_IMPORT_MAX_REASONS];
    char first_error[512];   /* where the first malformed input was met, with its place */
    /* mbox: mailing-list footers cut from the end of bodies (see plume_mbox_options) */
    size_t footers_removed;  /* blocks cut, over all messages */
    size_t footer_blocks;    /* distinct blocks among them */
    long footer_senders;     /* the threshold they met */
    size_t n_footers;        /* the most often cut blocks, for the report */
    struct { char block[160]; size_t senders, removed; } footers[8];
} plume_import_stats;

/* Counts one skipped record (note = 0) or one repaired one (note = 1); reason is a string literal. */
PLUME_API void   plume_import_count(plume_import_stats *st, const char *reason, int note);
PLUME_API size_t plume_import_skipped(const plume_import_stats *st, const char *reason);   /* by reason */
PLUME_API size_t plume_import_skipped_total(const plume_import_stats *st);
PLUME_API void   plume_import_report(const plume_import_stats *st, const char *format, FILE *out);

/* Writes one document as a corpus line, its title and text cut (at a character boundary) to
 * st->max_doc_bytes together, which st counts. 0, or -1 with err set. */
PLUME_API int plume_corpus_write(FILE *out, const plume_corpus_doc *doc, plume_import_stats *st, plume_error *err);

/* The importers: read `path`, write corpus lines to `out`. -1 (err set) only when the input
 * cannot be read at all or the output cannot be written. */
PLUME_API int plume_import_stackexchange(const char *path, FILE *out, plume_import_stats *st, plume_error *err);
PLUME_API int plume_import_git(const char *path, FILE *out, plume_import_stats *st, plume_error *err);
PLUME_API int plume_import_mbox(const char *path, FILE *out, plume_import_stats *st, plume_error *err);

/* Footer removal in the mbox importer. A trailing block (the last 1 .. footer_lines non-blank
 * lines of a body, compared with white space runs collapsed and ends trimmed) that ends the
 * bodies of messages from footer_senders or more distinct senders, and holds at least
 * footer_chars characters, is a footer and is cut from every body that ends with it. The import
 * reads the whole file once to count blocks, then cuts and writes. */
typedef struct plume_mbox_options {
    long footer_senders;   /* 3; 0 keeps every footer */
    long footer_lines;     /* 15 */
    long footer_chars;     /* 20: shorter blocks ("Thanks,", a first name) are sign-offs, not footers */
} plume_mbox_options;
PLUME_API plume_mbox_options plume_mbox_defaults(void);
/* plume_import_mbox with options other than plume_mbox_defaults(). */
PLUME_API int plume_import_mbox_with(const char *path, const plume_mbox_options *opt, FILE *out, plume_import_stats *st,
                                     plume_error *err);

/* HTML (a fragment or a page) to plain text: paragraphs apart by a blank line, <pre> kept
 * verbatim, <br> a newline, list items as "- ", entities decoded, other white space collapsed.
 * A malloc'd NUL-terminated UTF-8 string, or NULL when out of memory. */
PLUME_API char *plume_html_to_text(const char *html, size_t len);
/* The same, and *too_deep = 1 when the markup nests deeper than the parser's 256-element limit
 * (the text past that point is lost, so an importer skips the document). */
PLUME_API char *plume_html_body_to_text(const char *html, size_t len, int *too_deep);

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM|±HHMM]" (a space may stand for T; no zone is UTC).
 * Returns 0 and sets *t (seconds since the epoch), or -1. */
PLUME_API int plume_parse_iso8601(const char *s, double *t);

/* ---- the dataset builder ---- */
typedef struct plume_dataset_options {
    long min_chars;        /* an example's text (title + text) must be longer than this: 300 */
    long min_profile;      /* earlier documents an example needs: 2 */
    long min_examples;     /* examples an author needs: 5 */
    long max_examples;     /* examples kept per author (the most recent): 50 */
    long context_chars;    /* the immediate context: the first 150 characters of title + text */
    long max_profile;      /* 0: the whole history (the paper); N: only the N most recent earlier documents */
    double train, val;     /* fractions of authors: 0.85, 0.05 (test gets the rest) */
    unsigned long long seed;
} plume_dataset_options;

PLUME_API plume_dataset_options plume_dataset_defaults(void);

typedef struct plume_dataset_split_stats {
    size_t users, examples;
    double avg_target_chars, avg_profile;
} plume_dataset_split_stats;

typedef struct plume_dataset_stats {
    size_t docs_read, lines_bad, duplicates, authors, authors_kept, examples_dropped_cap;
    /* Why documents are not examples (duplicates aside): not longer than min_chars, or (long
     * enough but) fewer than min_profile earlier documents. */
    size_t docs_short, docs_few_earlier;
    /* Authors left out, by the rule that kept them out: fewer than min_examples + min_profile
     * documents (so fewer than min_examples examples whatever their length), or enough documents
     * but fewer than min_examples examples (too many of them not longer than min_chars). */
    size_t authors_few_docs, authors_few_examples;
    plume_dataset_split_stats split[3];   /* train, val, test */
} plume_dataset_stats;

/* Reads corpus lines from corpus_path, writes dir/{train,val,test}.jsonl (dir must exist).
 * 0, or -1 with err set. An empty test split is an error (err says which rule or which fractions
 * left it empty, st is filled in) and then no file is written. */
PLUME_API int plume_dataset_build(const char *corpus_path, const char *dir, const plume_dataset_options *opt,
                                  plume_dataset_stats *st, plume_error *err);
/* A document as the paper's target: title and text joined by a newline ("title\ntext"), or just the
 * text when there is no title. malloc'd, NULL when out of memory. */
PLUME_API char *plume_dataset_join(const char *title, const char *text);
/* The immediate context: the first n characters of plume_dataset_join(title, text). */
PLUME_API char *plume_dataset_context(const char *title, const char *text, size_t n);

#ifdef __cplusplus
}
#endif
#endif
