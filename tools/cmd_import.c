/* plume import FORMAT INPUT -o corpus.jsonl: real corpora to corpus JSON Lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plume/plume.h"
#include "plume/corpus.h"

static void import_usage(FILE *f) {
    plume_mbox_options d = plume_mbox_defaults();
    fprintf(f, "usage: plume import FORMAT INPUT -o CORPUS.jsonl [--max-doc-bytes N] [mbox options]\n\n"
               "FORMAT is one of:\n"
               "  stackexchange   a Stack Exchange dump's Posts.xml (questions and answers)\n"
               "  git             `git log --no-merges --date=iso-strict --format='commit %%H%%nAuthor: %%an <%%ae>%%nDate:   %%ad%%n%%n%%B%%n'`\n"
               "  mbox            a Unix mbox file\n\n"
               "Writes one document per line: {\"id\",\"author\",\"time\",\"title\",\"text\"}, and reports on\n"
               "standard error how many records were skipped, and why. Use -o - for standard output.\n"
               "The output file is replaced only once complete: an interrupted import leaves the old one.\n"
               "A Posts.xml whose document type declares entities is refused (docs/reliability.md).\n\n"
               "  --max-doc-bytes N   cut a document's title + text to N bytes (%zu = 1 MiB); the report\n"
               "                      counts the documents cut\n\n"
               "mbox only: a mailing-list footer is a trailing block of lines that ends the messages of several\n"
               "different senders, or a block under a line that starts two such footers (a rotating sponsor);\n"
               "it is cut from every message that ends with it (docs/corpora.md).\n"
               "  --footer-senders N  distinct senders a block must end messages of (%ld; 0: keep footers)\n"
               "  --footer-lines N    the longest block considered, in non-blank lines (%ld)\n"
               "  --footer-chars N    the shortest block, in characters (%ld)\n",
            PLUME_IMPORT_MAX_DOC_BYTES, d.footer_senders, d.footer_lines, d.footer_chars);
}

/* A whole number from lo to hi for flag, or -1 with a message. */
static int parse_long(const char *flag, const char *s, long lo, long hi, long *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) {
        fprintf(stderr, "plume import: %s %s: expected a whole number from %ld to %ld\n", flag, s, lo, hi);
        return -1;
    }
    *v = x;
    return 0;
}

int cmd_import(int argc, char **argv) {
    const char *format = NULL, *input = NULL, *output = NULL;
    plume_mbox_options mbox = plume_mbox_defaults();
    int mbox_flags = 0;
    long max_doc = (long)PLUME_IMPORT_MAX_DOC_BYTES;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            import_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            output = argv[++i];
        } else if (!strcmp(argv[i], "--max-doc-bytes") && i + 1 < argc) {
            if (parse_long(argv[i], argv[i + 1], 1, 1L << 30, &max_doc)) return 2;
            i++;
        } else if (!strcmp(argv[i], "--footer-senders") && i + 1 < argc) {
            if (parse_long(argv[i], argv[i + 1], 0, 1000000, &mbox.footer_senders)) return 2;
            i++, mbox_flags = 1;
        } else if (!strcmp(argv[i], "--footer-lines") && i + 1 < argc) {
            if (parse_long(argv[i], argv[i + 1], 1, 64, &mbox.footer_lines)) return 2;
            i++, mbox_flags = 1;
        } else if (!strcmp(argv[i], "--footer-chars") && i + 1 < argc) {
            if (parse_long(argv[i], argv[i + 1], 0, 1000000, &mbox.footer_chars)) return 2;
            i++, mbox_flags = 1;
        } else if (!format) {
            format = argv[i];
        } else if (!input) {
            input = argv[i];
        } else {
            fprintf(stderr, "plume import: unexpected argument '%s'\n", argv[i]);
            import_usage(stderr);
            return 2;
        }
    }
    if (!format || !input || !output) {
        import_usage(stderr);
        return 2;
    }
    int (*importer)(const char *, FILE *, plume_import_stats *, plume_error *) = NULL;
    if (!strcmp(format, "stackexchange")) importer = plume_import_stackexchange;
    else if (!strcmp(format, "git")) importer = plume_import_git;
    else if (!strcmp(format, "mbox")) importer = plume_import_mbox;
    else {
        fprintf(stderr, "plume import: unknown format '%s' (hint: stackexchange, git or mbox)\n", format);
        return 2;
    }
    if (mbox_flags && importer != plume_import_mbox) {
        fprintf(stderr, "plume import: the --footer-* options apply to mbox only, not to %s\n", format);
        return 2;
    }
    plume_output_file out;
    plume_error err = { { 0 } };
    if (plume_output_open(&out, output, &err)) {
        fprintf(stderr, "plume import: %s\n", err.msg);
        return 1;
    }
    plume_import_stats st = { .max_doc_bytes = (size_t)max_doc };
    int rc = importer == plume_import_mbox ? plume_import_mbox_with(input, &mbox, out.f, &st, &err) : importer(input, out.f, &st, &err);
    if (rc == 0 && st.written == 0) plume_output_abort(&out);   /* nothing to replace the old file with */
    else if (rc == 0) rc = plume_output_commit(&out, &err);
    else plume_output_abort(&out);
    if (rc) {
        fprintf(stderr, "plume import: %s\n", err.msg);
        return 1;
    }
    plume_import_report(&st, format, stderr);
    if (st.written == 0) {
        fprintf(stderr, "plume import: no documents in %s (hint: is it a %s file?)\n", input, format);
        return 1;
    }
    return 0;
}
