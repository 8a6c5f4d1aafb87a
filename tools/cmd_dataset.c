/* plume dataset build CORPUS.jsonl -o DIR: the paper's recipe, every threshold a flag. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "commands.h"
#include "plume/corpus.h"

/* A split with fewer users than this gets a warning: its scores rest on a handful of people. */
#define DATASET_FEW_USERS 3

static void dataset_usage(FILE *f) {
    plume_dataset_options d = plume_dataset_defaults();
    fprintf(f,
            "usage: plume dataset build CORPUS.jsonl -o DIR [options]\n\n"
            "Builds DIR/{train,val,test}.jsonl requests {\"id\",\"user\",\"context\",\"profile\",\"target\"} with the\n"
            "paper's recipe and prints its Table-1 statistics. Options (defaults are the paper's):\n"
            "  --min-chars N      an example's title + text is longer than N characters (%ld)\n"
            "  --min-profile N    an example needs N earlier documents of its author (%ld)\n"
            "  --min-examples N   authors need N examples (%ld)\n"
            "  --max-examples N   at most N examples per author, the most recent (%ld)\n"
            "  --context-chars N  the immediate context is the first N characters of title + text (%ld)\n"
            "  --max-profile N    keep only the N most recent earlier documents per request; 0: all (%ld)\n"
            "  --train F --val F  fractions of authors for train and val; test gets the rest (%.2f, %.2f)\n"
            "  --seed N           the seed of the author shuffle (%llu)\n\n"
            "It says how many authors each rule left out, warns when a split has fewer than %d users, and\n"
            "exits 1, writing nothing, when the test split would be empty (docs/corpora.md).\n",
            d.min_chars, d.min_profile, d.min_examples, d.max_examples, d.context_chars, d.max_profile, d.train, d.val, d.seed,
            DATASET_FEW_USERS);
}

/* Why the authors who are not in any split were left out, and why documents are not examples. */
static void print_left_out(const plume_dataset_stats *st, const plume_dataset_options *o, FILE *f) {
    size_t out = st->authors - st->authors_kept;
    fprintf(f, "authors left out: %zu of %zu", out, st->authors);
    if (out)
        fprintf(f, ": %zu with fewer than %ld documents (--min-examples %ld examples, each with --min-profile %ld earlier "
                   "documents), %zu with enough documents but fewer than %ld examples",
                st->authors_few_docs, o->min_examples + o->min_profile, o->min_examples, o->min_profile,
                st->authors_few_examples, o->min_examples);
    fprintf(f, "\ndocuments that are not examples: %zu not longer than --min-chars %ld characters, %zu with fewer than "
               "--min-profile %ld earlier documents\n",
            st->docs_short, o->min_chars, st->docs_few_earlier, o->min_profile);
}

static int parse_num(const char *flag, const char *s, double lo, double hi, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || end == s || *end || *v < lo || *v > hi) {
        fprintf(stderr, "plume dataset: %s %s: expected a number from %g to %g\n", flag, s, lo, hi);
        return -1;
    }
    return 0;
}

int cmd_dataset(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        dataset_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "build")) {
        fprintf(stderr, "plume dataset: unknown action '%s' (hint: plume dataset build CORPUS.jsonl -o DIR)\n", argv[1]);
        return 2;
    }
    plume_dataset_options o = plume_dataset_defaults();
    const char *corpus = NULL, *dir = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            dataset_usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(a, "--min-chars") && i + 1 < argc) { if (parse_num(a, argv[++i], 0, 1e9, &v)) return 2; o.min_chars = (long)v; }
        else if (!strcmp(a, "--min-profile") && i + 1 < argc) { if (parse_num(a, argv[++i], 0, 1e9, &v)) return 2; o.min_profile = (long)v; }
        else if (!strcmp(a, "--min-examples") && i + 1 < argc) { if (parse_num(a, argv[++i], 1, 1e9, &v)) return 2; o.min_examples = (long)v; }
        else if (!strcmp(a, "--max-examples") && i + 1 < argc) { if (parse_num(a, argv[++i], 1, 1e9, &v)) return 2; o.max_examples = (long)v; }
        else if (!strcmp(a, "--context-chars") && i + 1 < argc) { if (parse_num(a, argv[++i], 1, 1e9, &v)) return 2; o.context_chars = (long)v; }
        else if (!strcmp(a, "--max-profile") && i + 1 < argc) { if (parse_num(a, argv[++i], 0, 1e9, &v)) return 2; o.max_profile = (long)v; }
        else if (!strcmp(a, "--train") && i + 1 < argc) { if (parse_num(a, argv[++i], 0, 1, &o.train)) return 2; }
        else if (!strcmp(a, "--val") && i + 1 < argc) { if (parse_num(a, argv[++i], 0, 1, &o.val)) return 2; }
        else if (!strcmp(a, "--seed") && i + 1 < argc) { if (parse_num(a, argv[++i], 0, 1e18, &v)) return 2; o.seed = (unsigned long long)v; }
        else if (a[0] != '-' && !corpus) corpus = a;
        else {
            fprintf(stderr, "plume dataset: unexpected argument '%s'\n", a);
            dataset_usage(stderr);
            return 2;
        }
    }
    if (!corpus || !dir) {
        dataset_usage(stderr);
        return 2;
    }
    if (mkdir(dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "plume dataset: %s: cannot create the folder: %s\n", dir, strerror(errno));
        return 1;
    }
    plume_dataset_stats st;
    plume_error err = { { 0 } };
    if (plume_dataset_build(corpus, dir, &o, &st, &err)) {
        if (st.docs_read) print_left_out(&st, &o, stderr);
        fprintf(stderr, "plume dataset: %s\n", err.msg);
        return 1;
    }
    printf("%s: %zu documents (%zu bad lines skipped, %zu duplicates removed), %zu authors, %zu with >= %ld examples",
           corpus, st.docs_read, st.lines_bad, st.duplicates, st.authors, st.authors_kept, o.min_examples);
    printf(" (%zu examples over the cap of %ld left out)\n", st.examples_dropped_cap, o.max_examples);
    print_left_out(&st, &o, stdout);
    printf("\n| split | users | examples | avg chars of target | avg profile size |\n|---|---|---|---|---|\n");
    static const char *const names[3] = { "train", "val", "test" };
    for (int s = 0; s < 3; s++)
        printf("| %s | %zu | %zu | %.0f | %.1f |\n", names[s], st.split[s].users, st.split[s].examples,
               st.split[s].avg_target_chars, st.split[s].avg_profile);
    const double fraction[3] = { o.train, o.val, 1.0 - o.train - o.val };
    for (int s = 0; s < 3; s++)
        if (st.split[s].users < DATASET_FEW_USERS)
            fprintf(stderr, "plume dataset: warning: the %s split has %zu user%s (%.2f of %zu authors with >= %ld examples): "
                            "its scores rest on very few people (hint: a larger corpus, or other --train/--val)\n",
                    names[s], st.split[s].users, st.split[s].users == 1 ? "" : "s", fraction[s], st.authors_kept, o.min_examples);
    return 0;
}
