/* plume tokenize: the tokens a model's tokenizer makes of a text, to inspect what the model sees.
 *
 *   plume tokenize -m MODEL [--special] [--no-bos] [--ids] TEXT|-f FILE
 *
 * Only the GGUF's tokenizer metadata is read (no weights, no device). One token a line:
 * the id, a tab, the token as a quoted string (bytes that are not printable UTF-8 escaped as
 * \xNN, so a partial character shows as what it is). With --ids, the ids alone on one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "plume/gguf.h"
#include "plume/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: plume tokenize -m MODEL [options] TEXT\n"
            "  -m, --model FILE  a GGUF file with a tokenizer (tokenizer.ggml.*)\n"
            "  -f, --file FILE   tokenize FILE's text instead of TEXT (\"-\": standard input)\n"
            "  --special         parse control tokens written in the text (<|im_start|>, <s>)\n"
            "                    as those tokens; without it they are plain characters\n"
            "  --no-bos          do not add the BOS (or EOS) the tokenizer would add\n"
            "  --ids             print the ids alone, space-separated on one line\n");
}

/* S[0..n) as a double-quoted string: quotes, backslashes and control characters escaped, invalid
 * UTF-8 shown byte by byte as \xNN. */
static void print_quoted(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool whole = k > 0 && i + k <= n;
        for (size_t j = 1; whole && j < k; j++) whole = ((unsigned char)s[i + j] >> 6) == 2;
        if (!whole) {
            printf("\\x%02X", c);
            i++;
        } else if (c == '"' || c == '\\') {
            printf("\\%c", c);
            i++;
        } else if (c == '\n') {
            fputs("\\n", stdout), i++;
        } else if (c == '\t') {
            fputs("\\t", stdout), i++;
        } else if (c == '\r') {
            fputs("\\r", stdout), i++;
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\x%02X", c);
            i++;
        } else {
            fwrite(s + i, 1, k, stdout);
            i += k;
        }
    }
    putchar('"');
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *file = NULL;
    unsigned flags = PLUME_TOKENIZE_ADD_SPECIAL;
    bool ids_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && v) {
            model = v, i++;
        } else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && v) {
            file = v, i++;
        } else if (!strcmp(a, "--special")) {
            flags |= PLUME_TOKENIZE_PARSE_SPECIAL;
        } else if (!strcmp(a, "--no-bos")) {
            flags &= ~(unsigned)PLUME_TOKENIZE_ADD_SPECIAL;
        } else if (!strcmp(a, "--ids")) {
            ids_only = true;
        } else if (a[0] == '-' && a[1] && !text) {
            fprintf(stderr, "plume tokenize: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!text) {
            text = a;
        } else {
            fprintf(stderr, "plume tokenize: one TEXT only (quote it), got also '%s'\n", a);
            return 2;
        }
    }
    if (!model || (!text && !file) || (text && file)) {
        if (text && file) fprintf(stderr, "plume tokenize: give TEXT or -f FILE, not both\n");
        usage(stderr);
        return 2;
    }
    size_t len = text ? strlen(text) : 0;
    char *owned = NULL;
    if (file && !(owned = cli_read_whole("plume tokenize", "", file, 64u << 20, &len))) return 1;
    if (file) text = owned;

    plume_error err;
    plume_gguf *g = NULL;
    plume_tokenizer *t = NULL;
    if (plume_gguf_open(&g, model, &err) || plume_tokenizer_from_gguf(&t, g, &err)) {
        fprintf(stderr, "plume tokenize: %s\n", err.msg);
        plume_gguf_close(g);
        free(owned);
        return 1;
    }
    plume_gguf_close(g);
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 1;
    if (plume_tokenize_with(t, text, len, flags, &ids, &n, &err)) {
        fprintf(stderr, "plume tokenize: %s\n", err.msg);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (ids_only) {
            printf(i ? " %d" : "%d", ids[i]);
            continue;
        }
        /* Control tokens decode to nothing; show what they are written as. */
        plume_token_type ty = plume_tokenizer_token_type(t, ids[i]);
        size_t k;
        const char *piece = plume_token_piece(t, i ? ids[i - 1] : -1, ids[i], &k);
        if (ty == PLUME_TOKEN_CONTROL || ty == PLUME_TOKEN_UNUSED || !piece) {
            piece = plume_tokenizer_token_text(t, ids[i]);
            k = piece ? strlen(piece) : 0;
        }
        printf("%d\t", ids[i]);
        print_quoted(piece ? piece : "", k);
        putchar('\n');
    }
    if (ids_only) putchar('\n');
    rc = fflush(stdout) ? 1 : 0;
done:
    free(ids);
    plume_tokenizer_free(t);
    free(owned);
    return rc;
}
