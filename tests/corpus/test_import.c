/* The importers on small real fixtures cut from /work/shared/data (tests/data/corpus/<format>/,
 * compared with expected.jsonl, reviewed by hand against the sources) and on hand-made bad
 * inputs whose documents and skip counts are spelled out here. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <jansson.h>
#include "check.h"
#include "plume/corpus.h"
#include "plume/text.h"

typedef struct { const char *id, *author; long long time; const char *title, *text; } doc;

static char path_buf[4096];
static const char *fixture(const char *rel) {
    const char *root = getenv("PLUME_TEST_DATA");
    snprintf(path_buf, sizeof path_buf, "%s/corpus/%s", root ? root : "tests/data", rel);
    return path_buf;
}

typedef int (*importer)(const char *, FILE *, plume_import_stats *, plume_error *);

/* Runs an importer into memory; returns the lines as a JSON array (NULL on failure). */
static json_t *run_import(importer fn, const char *rel, plume_import_stats *st) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    plume_error err = { { 0 } };
    memset(st, 0, sizeof *st);
    int rc = fn(fixture(rel), out, st, &err);
    fclose(out);
    CHECK_MSG(rc == 0, "%s: %s", rel, err.msg);
    json_t *arr = json_array();
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        CHECK_MSG(o != NULL, "%s: output line is not JSON: %s", rel, jerr.text);
        if (o) json_array_append_new(arr, o);
    }
    free(buf);
    return arr;
}

static const char *sfield(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "(missing)";
}

static void check_docs(json_t *got, const doc *want, size_t n, const char *what) {
    CHECK_MSG(json_array_size(got) == n, "%s: %zu documents, expected %zu", what, json_array_size(got), n);
    for (size_t i = 0; i < n && i < json_array_size(got); i++) {
        json_t *o = json_array_get(got, i);
        CHECK_STR(sfield(o, "id"), want[i].id);
        CHECK_STR(sfield(o, "author"), want[i].author);
        CHECK_MSG(json_integer_value(json_object_get(o, "time")) == want[i].time, "%s %s: time %lld, expected %lld", what,
                  want[i].id, (long long)json_integer_value(json_object_get(o, "time")), want[i].time);
        CHECK_STR(sfield(o, "title"), want[i].title);
        CHECK_STR(sfield(o, "text"), want[i].text);
    }
}

/* The importer's output equals expected.jsonl line for line. */
static void check_expected(json_t *got, const char *rel) {
    json_error_t jerr;
    FILE *f = fopen(fixture(rel), "r");
    CHECK_MSG(f != NULL, "cannot open %s", rel);
    if (!f) return;
    size_t i = 0;
    char line[65536];
    while (fgets(line, sizeof line, f)) {
        json_t *want = json_loads(line, 0, &jerr);
        json_t *have = json_array_get(got, i);
        CHECK_MSG(want && have && json_equal(want, have), "%s: line %zu differs", rel, i + 1);
        json_decref(want);
        i++;
    }
    fclose(f);
    CHECK_MSG(i == json_array_size(got), "%s: %zu lines expected, %zu written", rel, i, json_array_size(got));
}

static void test_stackexchange(void) {
    plume_import_stats st;
    json_t *got = run_import(plume_import_stackexchange, "stackexchange/Posts.xml", &st);
    check_expected(got, "stackexchange/expected.jsonl");
    /* 12 rows: 7 written; a tag wiki, an empty body, no author, a bad date, a Community bot post skipped */
    CHECK(st.read == 12 && st.written == 7);
    CHECK(plume_import_skipped_total(&st) == 5);
    CHECK(plume_import_skipped(&st, "not a question or an answer (tag wiki, nomination, ...)") == 1);
    CHECK(plume_import_skipped(&st, "empty body") == 1);
    CHECK(plume_import_skipped(&st, "no author (neither OwnerUserId nor OwnerDisplayName)") == 1);
    CHECK(plume_import_skipped(&st, "missing or malformed CreationDate") == 1);
    CHECK(plume_import_skipped(&st, "written by the Community bot (OwnerUserId -1)") == 1);
    /* worked by hand from the XML: row 1 (2014-01-21T20:26:05.383 = 1390262400 + 73565), its answer
     * row 4 takes its title; row 432 has only OwnerDisplayName; row 9005 (hand-made) has entities,
     * a code block, a list, a <br>, and a question that is not in the file */
    const doc want[] = {
        { "1", "7", 1390335965, "What is a citra hop, and how does it differ from other hops?",
          "I was offered a beer the other day that was reportedly made with citra hops. What are citra hops? "
          "Why should I care that my beer is made with them?" },
        { "4", "12", 1390336278, "What is a citra hop, and how does it differ from other hops?",
          "Citra is a registered trademark since 2007. Citra Brand hops have fairly high alpha acids and total oil "
          "contents with a low percentage of cohumulone content and imparts interesting citrus and tropical fruit "
          "characters to beer.\n\nFor more information, you can read the Wikipedia article on the Citra brand." },
    };
    json_t *first2 = json_array();
    for (size_t i = 0; i < 2 && i < json_array_size(got); i++) json_array_append(first2, json_array_get(got, i));
    check_docs(first2, want, 2, "stackexchange");
    json_decref(first2);
    json_t *last = json_array_get(got, json_array_size(got) - 1), *a432 = json_array_get(got, 5);
    CHECK_STR(sfield(a432, "author"), "name:user150");
    CHECK_STR(sfield(a432, "title"), "What is the German Beer Purity Law?");
    CHECK_STR(sfield(last, "id"), "9005");
    CHECK_STR(sfield(last, "title"), "");
    CHECK_STR(sfield(last, "text"), "Try this & that:\n\nif (a < b && c)\n    brew();\n\n- Caf\xC3\xA9 au lait\n- \"Stout\"\nsecond line");
    CHECK(json_integer_value(json_object_get(last, "time")) == 1422876600);   /* 2015-02-02T11:30:00.250 */
    json_decref(got);

    /* broken XML: the bad row alone is lost, the rows around it are kept */
    got = run_import(plume_import_stackexchange, "stackexchange/broken.xml", &st);
    CHECK(json_array_size(got) == 2);
    CHECK_STR(sfield(json_array_get(got, 0), "id"), "1");
    CHECK_STR(sfield(json_array_get(got, 1), "id"), "4");
    CHECK_STR(sfield(json_array_get(got, 1), "title"), "What is a citra hop, and how does it differ from other hops?");
    CHECK(st.read == 3 && st.written == 2);
    CHECK(plume_import_skipped(&st, "malformed XML row") == 1);
    CHECK(plume_import_skipped_total(&st) == 1);
    CHECK_MSG(strstr(st.first_error, "broken.xml:4:") != NULL, "%s", st.first_error);
    json_decref(got);

    plume_error err = { { 0 } };
    CHECK(plume_import_stackexchange("/nonexistent/Posts.xml", stdout, &st, &err) == -1);
    CHECK(strstr(err.msg, "/nonexistent/Posts.xml") != NULL);
}

/* Hostile Stack Exchange files (tests/data/corpus/stackexchange/hostile, see its SOURCE.md). */
static int contains_secret(json_t *docs) {
    for (size_t i = 0; i < json_array_size(docs); i++) {
        json_t *o = json_array_get(docs, i);
        if (strstr(sfield(o, "title"), "SECRET") || strstr(sfield(o, "text"), "SECRET")) return 1;
    }
    return 0;
}

static void test_stackexchange_hostile(void) {
    /* billion laughs: refused at the first entity declaration (line 3), at once, in little memory */
    plume_import_stats st = { 0 };
    plume_error err = { { 0 } };
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct timespec t0, t1;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = plume_import_stackexchange(fixture("stackexchange/hostile/billion_laughs.xml"), out, &st, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &ru1);
    fclose(out);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    CHECK(rc == -1);
    CHECK_MSG(strstr(err.msg, "billion_laughs.xml:3: the document type declares entities (<!ENTITY lol ...>)") != NULL,
              "%s", err.msg);
    CHECK_MSG(len == 0 && st.read == 0 && st.written == 0, "%zu bytes written, %zu rows read", len, st.read);
    CHECK_MSG(secs < 1.0, "the refusal took %.2f s", secs);
    /* the peak resident size of this whole test process grew by less than 64 MiB (ru_maxrss: KiB) */
    CHECK_MSG(ru1.ru_maxrss - ru0.ru_maxrss < 64 * 1024, "peak memory grew by %ld KiB", ru1.ru_maxrss - ru0.ru_maxrss);
    free(buf);

    /* an external entity: refused at its declaration, so its target is never opened */
    memset(&st, 0, sizeof st);
    err.msg[0] = '\0';
    CHECK(plume_import_stackexchange(fixture("stackexchange/hostile/external_entity.xml"), stdout, &st, &err) == -1);
    CHECK_MSG(strstr(err.msg, "external_entity.xml:3: the document type declares entities (<!ENTITY secret ...>)"),
              "%s", err.msg);
    CHECK(st.written == 0);

    /* an external DTD that declares the entity a row uses: the DTD is not read, so the row that
     * uses it is malformed (skipped), and the other row is imported; no secret in the output */
    json_t *got = run_import(plume_import_stackexchange, "stackexchange/hostile/external_dtd.xml", &st);
    CHECK(st.read == 2 && st.written == 1);
    CHECK(plume_import_skipped(&st, "malformed XML row") == 1);
    CHECK(json_array_size(got) == 1);
    CHECK_STR(sfield(json_array_get(got, 0), "text"), "no entity here");
    CHECK(!contains_secret(got));
    json_decref(got);

    /* 300 nested elements (past libxml2's 256 without XML_PARSE_HUGE): read row by row, kept */
    got = run_import(plume_import_stackexchange, "stackexchange/hostile/deep_xml.xml", &st);
    CHECK(st.read == 1 && st.written == 1);
    CHECK(plume_import_skipped(&st, "file not well-formed XML: read row by row") == 1);
    CHECK_STR(sfield(json_array_get(got, 0), "text"), "kept");
    json_decref(got);

    /* a body of 300 nested <div>s loses its text past level 256: skipped and counted; 200 are fine */
    got = run_import(plume_import_stackexchange, "stackexchange/hostile/deep_html.xml", &st);
    CHECK(st.read == 2 && st.written == 1);
    CHECK(plume_import_skipped(&st, "HTML body nested deeper than 256 elements") == 1);
    CHECK(json_array_size(got) == 1);
    CHECK_STR(sfield(json_array_get(got, 0), "title"), "shallow");
    CHECK_STR(sfield(json_array_get(got, 0), "text"), "kept");
    json_decref(got);
}

/* The document cap: title + text cut together, at a character boundary, counted. */
static void test_document_cap(void) {
    const char *note = "document cut to the --max-doc-bytes cap (title + text)";
    /* by hand: "ab" + "d\xC3\xA9j\xC3\xA0" (déjà, 6 bytes); cap 5 leaves 3 bytes of text = "dé",
     * cap 4 leaves 2 = "d" (the é would be cut in half), cap 1 cuts the title to "a" */
    static const struct { size_t cap; const char *title, *text; } want[] = {
        { 5, "ab", "d\xC3\xA9" }, { 4, "ab", "d" }, { 1, "a", "" }, { 8, "ab", "d\xC3\xA9j\xC3\xA0" } };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        plume_import_stats st = { .max_doc_bytes = want[i].cap };
        plume_error err = { { 0 } };
        plume_corpus_doc d = { "1", "u", "ab", "d\xC3\xA9j\xC3\xA0", 0 };
        CHECK(plume_corpus_write(out, &d, &st, &err) == 0);
        fclose(out);
        json_t *o = json_loads(buf, 0, NULL);
        CHECK_MSG(o != NULL, "cap %zu: %s", want[i].cap, buf);
        CHECK_STR(sfield(o, "title"), want[i].title);
        CHECK_STR(sfield(o, "text"), want[i].text);
        CHECK(plume_import_skipped(&st, note) == (want[i].cap < 8 ? 1u : 0u));
        CHECK(plume_import_skipped_total(&st) == 0);   /* a note: the document is still written */
        json_decref(o);
        free(buf);
    }
    /* the whole fixture at 100 bytes: every document fits, and the count is the number of
     * expected documents longer than that */
    json_error_t jerr;
    FILE *f = fopen(fixture("stackexchange/expected.jsonl"), "r");
    char line[65536];
    size_t longer = 0;
    while (f && fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, &jerr);
        if (strlen(sfield(o, "title")) + strlen(sfield(o, "text")) > 100) longer++;
        json_decref(o);
    }
    if (f) fclose(f);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    plume_import_stats st = { .max_doc_bytes = 100 };
    plume_error err = { { 0 } };
    CHECK(plume_import_stackexchange(fixture("stackexchange/Posts.xml"), out, &st, &err) == 0);
    fclose(out);
    CHECK(st.written == 7 && longer > 0);
    CHECK_MSG(plume_import_skipped(&st, note) == longer, "%zu cut, %zu expected", plume_import_skipped(&st, note), longer);
    char *save = NULL;
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(l, 0, &jerr);
        CHECK(o && strlen(sfield(o, "title")) + strlen(sfield(o, "text")) <= 100);
        json_decref(o);
    }
    free(buf);
}

static void test_git(void) {
    plume_import_stats st;
    json_t *got = run_import(plume_import_git, "git/log.txt", &st);
    check_expected(got, "git/expected.jsonl");
    /* 8 real commits (6 newest, the one quoting other log entries, one with only trailers) */
    CHECK(st.read == 8 && st.written == 8 && plume_import_skipped_total(&st) == 0);
    if (json_array_size(got) == 8) {
        /* 2026-05-14T16:44:28-03:00 = 2026-05-14T19:44:28Z = 1778716800 + 71068 */
        json_t *o = json_array_get(got, 1);
        CHECK(json_integer_value(json_object_get(o, "time")) == 1778787868);
        CHECK_STR(sfield(o, "text"), "Replace `UV_HANDLE_READING` flag checks with `stream->read_cb != NULL`\non the Unix side, "
                                     "removing redundant state management.");   /* "Refs: ..." dropped */
        CHECK_STR(sfield(json_array_get(got, 3), "text"), "Fixes one of the regressions listed in #2076");   /* Co-authored-by dropped */
        /* the quoted `git log` entries (git's default date format) stay inside cda7a28's message */
        CHECK(strstr(sfield(json_array_get(got, 6), "text"), "commit 8cbbfbe4c6489868470a7e410f80d4729f4091bf\nAuthor: Igor") != NULL);
        CHECK_STR(sfield(json_array_get(got, 7), "text"), "");   /* Fixes: + Signed-off-by: only */
    }
    json_decref(got);

    got = run_import(plume_import_git, "git/bad_log.txt", &st);
    const doc want[] = {
        /* 2020-02-29T23:59:59-01:30 = 2020-03-01T01:29:59Z = 1583020800 + 5399; CRLF and a Latin-1 byte */
        { "3333333333333333333333333333333333333333", "crlf@example.org", 1583026199, "fix: caf\xEF\xBF\xBD handling",
          "Body line one.\nSecond line." },
        /* 2021-06-01T12:00:00+02:00 = 1622505600 + 36000; a two-line subject; a quoted log entry kept;
         * a "Note:" line followed by prose is not a trailer block; the two trailer paragraphs are dropped */
        { "4444444444444444444444444444444444444444", "dq@example.org", 1622541600, "Subject spans two lines",
          "The body quotes a log entry:\n\ncommit 5555555555555555555555555555555555555555\nAuthor: Someone <s@example.org>\n"
          "Date:   Fri Mar 9 17:04:03 2012 +0100\n\n    quoted message\n\nNote: this paragraph is prose.\nIt stays." },
    };
    check_docs(got, want, 2, "bad_log");
    CHECK(st.read == 4 && st.written == 2);
    CHECK(plume_import_skipped(&st, "Author line without an <e-mail>") == 1);
    CHECK(plume_import_skipped(&st, "empty commit message") == 1);
    CHECK(plume_import_skipped(&st, "lines before the first commit header") == 1);
    CHECK(plume_import_skipped_total(&st) == 3);
    CHECK(plume_import_skipped(&st, "bytes that were not UTF-8 replaced by U+FFFD") == 1);
    CHECK(strstr(st.first_error, "bad_log.txt:1:") != NULL);
    json_decref(got);
}

static void test_mbox(void) {
    plume_import_stats st;
    json_t *got = run_import(plume_import_mbox, "mbox/ham.mbox", &st);
    check_expected(got, "mbox/expected.jsonl");
    CHECK(st.read == 5 && st.written == 5 && plume_import_skipped_total(&st) == 0);
    if (json_array_size(got) == 5) {
        /* quoted-printable ISO-8859-1: "=A3" is the pound sign */
        CHECK(strstr(sfield(json_array_get(got, 3), "text"), "250,000\n (\xC2\xA3" "160,000)") != NULL);
        /* quotes, the attribution and the signature of a reply are gone */
        const char *t = sfield(json_array_get(got, 4), "text");
        CHECK(strstr(t, "\n>") == NULL && strncmp(t, ">", 1) != 0);
        CHECK(strlen(t) >= 9 && !strcmp(t + strlen(t) - 9, "- Matthew"));
        /* multipart: the text/plain part, not the attached patch */
        CHECK(strstr(sfield(json_array_get(got, 2), "text"), "+++") == NULL);
    }
    json_decref(got);

    got = run_import(plume_import_mbox, "mbox/bad.mbox", &st);
    const doc want[] = {
        /* declared us-ascii, holds a Latin-1 byte; RFC 2047 subject; 11:00 -0400 = 15:00Z */
        { "wrong@example.org", "b@example.org", 1030924800 + 15 * 3600, "caf\xC3\xA9", "The caf\xC3\xA9 is open." },
        /* multipart/alternative: the base64 UTF-8 plain part wins; no Message-ID: the index stands in */
        { "mbox-4", "e@example.org", 1031011200 + 7 * 3600 + 1800, "Greetings", "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln, in base64 and UTF-8." },
        /* HTML only, unknown charset (the bytes are UTF-8); the two-line attribution and the quote removed */
        { "html@example.org", "f@example.org", 1031011200 + 10 * 3600, "Re: html", "First & only\nparagraph \xC3\xA9." },
        /* Supercite quotes ("Tim>"), a "said:" attribution and "--]" quotes go; "x->y" and "2>1" stay */
        { "sc@example.org", "h@example.org", 1031097600 + 8 * 3600, "Re: styles", "My answer x->y stays.\n2>1 stays too." },
    };
    check_docs(got, want, 4, "bad.mbox");
    CHECK(st.read == 8 && st.written == 4);
    CHECK(plume_import_skipped(&st, "no text part (only attachments or other types)") == 1);
    CHECK(plume_import_skipped(&st, "empty body once quotes and signature are removed") == 1);
    CHECK(plume_import_skipped(&st, "no From: address") == 1);
    CHECK(plume_import_skipped(&st, "no usable Date: header") == 1);
    CHECK(plume_import_skipped_total(&st) == 4);
    json_decref(got);
}

/* Runs the mbox importer with options into memory, like run_import. */
static json_t *run_mbox(const char *rel, const plume_mbox_options *opt, plume_import_stats *st) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    plume_error err = { { 0 } };
    memset(st, 0, sizeof *st);
    int rc = plume_import_mbox_with(fixture(rel), opt, out, st, &err);
    fclose(out);
    CHECK_MSG(rc == 0, "%s: %s", rel, err.msg);
    json_t *arr = json_array();
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        if (o) json_array_append_new(arr, o);
    }
    free(buf);
    return arr;
}

/* The text written for the message with this id, or NULL when it was not written. */
static const char *text_of(json_t *docs, const char *id) {
    for (size_t i = 0; i < json_array_size(docs); i++)
        if (!strcmp(sfield(json_array_get(docs, i), "id"), id)) return sfield(json_array_get(docs, i), "text");
    return NULL;
}

/* footers.mbox, hand-made: 20 messages, each <mN@example.org> from the sender named in the comments.
 * FOOTER (a dashed rule, "Widgets-list: ...", a mailman/listinfo URL) ends the messages of alice
 * (trailing white space on its lines), bob (after his "- Bob" sign-off), carol (runs of spaces
 * inside a line), judy (under SPONSOR) and oscar (nothing else in it): 5 senders. SPONSOR ends
 * the messages of ken, leo and mallory: 3 senders. dave ends 3 messages with the same two-line
 * sign-off; erin and frank share a "Sent from ..." line; grace, heidi and ivan end with
 * "Thanks!" (7 characters). peggy's message is PGP-signed; trent's pastes a header block. FOOTER
 * and SPONSOR both start with the same 44-dash rule, which makes it a footer head: quinn's own
 * sponsor block under it (3 lines, as long as the longest footer it heads) is cut, rita's 4 lines
 * of her own under it are not. */
static void test_mbox_footers(void) {
    plume_import_stats st;
    plume_mbox_options opt = plume_mbox_defaults();
    CHECK(opt.footer_senders == 3 && opt.footer_lines == 15 && opt.footer_chars == 20);
    json_t *got = run_mbox("mbox/footers.mbox", &opt, &st);
    CHECK(st.read == 20 && st.written == 19);
    CHECK(plume_import_skipped(&st, "empty body once list footers are removed") == 1);   /* oscar's */
    CHECK(text_of(got, "m16@example.org") == NULL);
    /* FOOTER from 5 senders is cut 5 times, SPONSOR 4 times (judy's twice-nested tail counts for
     * both), quinn's block once */
    CHECK(st.footers_removed == 10 && st.footer_blocks == 3 && st.footer_senders == 3);
    CHECK(st.n_footers == 3);
    if (st.n_footers == 3) {
        CHECK(st.footers[0].removed == 5 && st.footers[0].senders == 5);
        CHECK_STR(st.footers[0].block, "-------------------------------------------- / Widgets-list: the friendly widget community / "
                                       "http://lists.example.org/mailman/listinfo/widgets");
        CHECK(st.footers[1].removed == 4 && st.footers[1].senders == 3);
        CHECK(st.footers[2].removed == 1 && st.footers[2].senders == 1);
    }
    CHECK_STR(text_of(got, "m1@example.org"), "Alice thinks the new widget release is solid.");
    CHECK_STR(text_of(got, "m2@example.org"), "Bob found a bug in the widget parser.\n\n- Bob");
    CHECK_STR(text_of(got, "m3@example.org"), "Carol agrees with Bob.");
    /* one sender's repeated sign-off is his own writing */
    CHECK_STR(text_of(got, "m5@example.org"), "Another note from Dave.\n\nBest wishes from the widget lab,\nDave Example, Chief Tester");
    /* a block that only 2 senders share stays, and so does a short one that 3 share */
    CHECK_STR(text_of(got, "m8@example.org"), "Frank's message.\n\nSent from the shared terminal at the library");
    CHECK_STR(text_of(got, "m11@example.org"), "Ivan's follow-up.\n\nThanks!");
    /* a footer under a sponsor block: both go, one after the other */
    CHECK_STR(text_of(got, "m12@example.org"), "Judy's news.");
    CHECK_STR(text_of(got, "m14@example.org"), "Leo's hosting story.");
    CHECK_STR(text_of(got, "m17@example.org"), "Peggy signs her words.");
    CHECK_STR(text_of(got, "m19@example.org"), "Quinn reads a lot.");
    CHECK_STR(text_of(got, "m20@example.org"), "Rita's first part.\n\n--------------------------------------------\n"
                                               "Rita's second part, under her own rule,\nwhich runs on for\nfour lines\nof her own.");
    /* the pasted header block goes (with its mailman URL); a "Note:" and a "To:" line of prose stay */
    CHECK_STR(text_of(got, "m18@example.org"), "Look at the headers of the spam I got:\n\nIt came through the list.\n\n"
                                               "Note: this is not a header block.\nTo: whom it may concern");
    for (size_t i = 0; i < json_array_size(got); i++)
        CHECK_MSG(!strstr(sfield(json_array_get(got, i), "text"), "mailman/listinfo"), "%s keeps a footer",
                  sfield(json_array_get(got, i), "id"));
    json_decref(got);

    /* the threshold is the user's: at 2 senders erin's and frank's shared line is a footer too */
    opt.footer_senders = 2;
    got = run_mbox("mbox/footers.mbox", &opt, &st);
    CHECK_STR(text_of(got, "m8@example.org"), "Frank's message.");
    CHECK_STR(text_of(got, "m4@example.org"), "Dave here, testing.\n\nBest wishes from the widget lab,\nDave Example, Chief Tester");
    CHECK(st.footers_removed == 12 && st.footer_blocks == 4);
    json_decref(got);
    /* above 5 senders, or with footers off, nothing is cut and oscar's footer-only message is written */
    opt.footer_senders = 6;
    got = run_mbox("mbox/footers.mbox", &opt, &st);
    CHECK(st.written == 20 && st.footers_removed == 0 && st.footer_blocks == 0);
    CHECK(strstr(text_of(got, "m1@example.org") ? text_of(got, "m1@example.org") : "", "mailman/listinfo/widgets") != NULL);
    json_decref(got);
    opt.footer_senders = 0;
    got = run_mbox("mbox/footers.mbox", &opt, &st);
    CHECK(st.written == 20 && st.footers_removed == 0);
    json_decref(got);
    /* footer_chars: "Thanks!" (7 characters) becomes a footer at 7, not at 8 */
    opt = plume_mbox_defaults();
    opt.footer_chars = 8;
    got = run_mbox("mbox/footers.mbox", &opt, &st);
    CHECK_STR(text_of(got, "m11@example.org"), "Ivan's follow-up.\n\nThanks!");
    json_decref(got);
    opt.footer_chars = 7;
    got = run_mbox("mbox/footers.mbox", &opt, &st);
    CHECK_STR(text_of(got, "m11@example.org"), "Ivan's follow-up.");
    json_decref(got);
    /* footer_lines: SPONSOR is 3 lines; with 2 only its last 2 lines can match, and they do; the
     * rule then heads no footer, so quinn's block stays */
    opt = plume_mbox_defaults();
    opt.footer_lines = 2;
    got = run_mbox("mbox/footers.mbox", &opt, &st);
    CHECK_STR(text_of(got, "m13@example.org"), "Ken's hosting story.\n\n--------------------------------------------");
    CHECK(strstr(text_of(got, "m19@example.org") ? text_of(got, "m19@example.org") : "", "Example Books") != NULL);

    /* options out of range are refused, naming them */
    plume_error err = { { 0 } };
    opt = plume_mbox_defaults();
    opt.footer_lines = 0;
    CHECK(plume_import_mbox_with(fixture("mbox/footers.mbox"), &opt, stdout, &st, &err) == -1);
    CHECK(strstr(err.msg, "footer_lines") != NULL);
    json_decref(got);
}

static void test_iso8601(void) {
    double t;
    CHECK(plume_parse_iso8601("1970-01-01T00:00:00", &t) == 0 && t == 0);
    CHECK(plume_parse_iso8601("2000-03-01T00:00:00Z", &t) == 0 && t == 951868800);   /* after a leap day */
    CHECK(plume_parse_iso8601("2014-01-21T20:26:05.5", &t) == 0 && t == 1390335965.5);
    CHECK(plume_parse_iso8601("2026-05-15T20:09:05+05:30", &t) == 0 && t == 1778855945);
    CHECK(plume_parse_iso8601("2026-05-15 14:39:05-0000", &t) == 0 && t == 1778855945);
    CHECK(plume_parse_iso8601("2026-13-01T00:00:00", &t) == -1);
    CHECK(plume_parse_iso8601("Fri Mar 9 17:04:03 2012 +0100", &t) == -1);
    CHECK(plume_parse_iso8601("2026-05-15T20:09:05+05:30 junk", &t) == -1);
}

static void test_html(void) {
    /* by hand: entities, <pre> verbatim, a list, <br>, collapsed white space, broken markup mended */
    const char *h = "<p>A &amp; B&nbsp;&lt;c&gt;\n   d</p><pre><code>x  =  1;\n  y();\n</code></pre><ol><li>one</li><li>t<br>wo</li></ol>"
                    "<script>var x;</script><p>un<b>closed";
    char *t = plume_html_to_text(h, strlen(h));
    CHECK_STR(t, "A & B\xC2\xA0<c> d\n\nx  =  1;\n  y();\n\n- one\n- t\nwo\n\nunclosed");
    free(t);
    t = plume_html_to_text("", 0);
    CHECK_STR(t, "");
    free(t);
    /* random bytes: no crash, valid UTF-8 out */
    unsigned long long x = 99;
    char buf[400];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            static const char pool[] = "<p></p><pre>&amp;&#xA;&#0;<li>\xC3\xA9\xFF x";
            buf[i] = (x >> 33) % 3 ? pool[(x >> 40) % (sizeof pool - 1)] : (char)(x >> 48);
        }
        t = plume_html_to_text(buf, (size_t)round * 2);
        CHECK(t != NULL);
        size_t n = t ? strlen(t) : 0, cl;
        char *c = t ? plume_utf8_clean(t, n, &cl, NULL) : NULL;
        CHECK(c && cl == n && !memcmp(c, t, n));
        free(c);
        free(t);
    }
}

int main(void) {
    test_html();
    test_iso8601();
    test_stackexchange();
    test_stackexchange_hostile();
    test_document_cap();
    test_git();
    test_mbox();
    test_mbox_footers();
    return check_finish("test_import");
}
