/* plume bpe: learns a GPT-2 byte-level BPE tokenizer from text files and writes it as a
 * tokenizer-only GGUF (name it as `tokenizer:` in a training config).
 *
 *   plume bpe -o OUT.gguf [--vocab N] [--min-frequency F] [--control TOKEN]... FILE... */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plume/train.h"

#define BPE_MAX_FILE (1ull << 30)
#define BPE_MAX_FILES 4096
#define BPE_MAX_CONTROL_ARGS 256

static void usage(FILE *f) {
    fprintf(f, "usage: plume bpe -o OUT.gguf [--vocab N] [--min-frequency F] [--control TOKEN]... FILE...\n"
               "  -o FILE              the tokenizer GGUF to write\n"
               "  --vocab N            tokens at most, 257..1048576 (default 4096)\n"
               "  --min-frequency F    stop when the best pair occurs fewer than F times (default 2)\n"
               "  --control TOKEN      add TOKEN as a control token (repeatable): an id that no text tokenizes\n"
               "                       to, which training examples name with \"target_token\" (for a task's\n"
               "                       answers) and which generated text never shows\n");
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "plume bpe: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *b = cap <= BPE_MAX_FILE ? realloc(buf, cap) : NULL;
            if (!b) {
                fprintf(stderr, "plume bpe: %s: larger than %llu bytes or out of memory\n", path,
                        (unsigned long long)BPE_MAX_FILE);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "plume bpe: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int cmd_bpe(int argc, char **argv) {
    const char *out = NULL;
    long vocab = 4096, minf = 2;
    const char **files = calloc((size_t)argc, sizeof *files);
    const char *control[BPE_MAX_CONTROL_ARGS];
    int n_files = 0, n_control = 0;
    if (!files) return 1;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            free(files);
            return 0;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--vocab") && i + 1 < argc) {
            vocab = strtol(argv[++i], &end, 10);
            if (*end || vocab < 257 || vocab > (1 << 20)) {
                fprintf(stderr, "plume bpe: --vocab wants 257..1048576, got '%s'\n", argv[i]);
                free(files);
                return 2;
            }
        } else if (!strcmp(argv[i], "--control") && i + 1 < argc) {
            if (n_control == BPE_MAX_CONTROL_ARGS) {
                fprintf(stderr, "plume bpe: at most %d --control tokens\n", BPE_MAX_CONTROL_ARGS);
                free(files);
                return 2;
            }
            control[n_control++] = argv[++i];
        } else if (!strcmp(argv[i], "--min-frequency") && i + 1 < argc) {
            minf = strtol(argv[++i], &end, 10);
            if (*end || minf < 1 || minf > 1000000000) {
                fprintf(stderr, "plume bpe: --min-frequency wants a positive number, got '%s'\n", argv[i]);
                free(files);
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "plume bpe: unknown option '%s'\n", argv[i]);
            usage(stderr);
            free(files);
            return 2;
        } else if (n_files < BPE_MAX_FILES) {
            files[n_files++] = argv[i];
        }
    }
    if (!out || n_files == 0) {
        usage(stderr);
        free(files);
        return 2;
    }
    char **texts = calloc((size_t)n_files, sizeof *texts);
    size_t *lens = calloc((size_t)n_files, sizeof *lens);
    int rc = !texts || !lens;
    for (int i = 0; !rc && i < n_files; i++)
        if (!(texts[i] = read_all(files[i], &lens[i]))) rc = 1;
    if (!rc) {
        plume_error err;
        plume_bpe_stats st;
        if (plume_bpe_train((const char *const *)texts, lens, n_files, (int)vocab, (int)minf, control, n_control, out,
                            &st, &err)) {
            fprintf(stderr, "plume bpe: %s\n", err.msg);
            rc = 1;
        } else {
            fprintf(stderr, "wrote %s: %d tokens (%d merges) from %d distinct words\n", out, st.vocab_size,
                    st.n_merges, st.n_words);
        }
    }
    for (int i = 0; texts && i < n_files; i++) free(texts[i]);
    free(texts);
    free(lens);
    free(files);
    return rc;
}
