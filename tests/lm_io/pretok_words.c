/* A helper of test_pretokenize_regex: reads NUL-terminated strings from standard input and writes,
 * for each, the words that the pre-tokenizer named by argv[1] cuts it into, each followed by the
 * byte 0x1E, then a NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plume/pretokenize.h"

static int write_word(void *user, const char *word, size_t n) {
    (void)user;
    fwrite(word, 1, n, stdout);
    return fputc(0x1e, stdout) == EOF ? -1 : 0;
}

int main(int argc, char **argv) {
    plume_pretok kind;
    if (argc != 2 || plume_pretok_from_name(argv[1], &kind)) {
        fprintf(stderr, "usage: pretok_words NAME < strings (NAME: %s)\n", plume_pretok_known_names());
        return 2;
    }
    size_t cap = 1 << 20, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) buf = realloc(buf, cap *= 2);
    }
    if (!buf) return 1;
    plume_error err;
    for (size_t i = 0; i < len;) {
        size_t n = strnlen(buf + i, len - i);
        if (plume_pretokenize(kind, buf + i, n, write_word, NULL, &err)) {
            fprintf(stderr, "pretok_words: %s\n", err.msg);
            return 1;
        }
        fputc(0, stdout);
        i += n + 1;
    }
    free(buf);
    return fflush(stdout) ? 1 : 0;
}
