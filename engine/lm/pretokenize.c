/* plume — byte-level BPE pre-tokenizers (see pretokenize.h for the patterns). Each splitter
 * walks the code points once; at each position it tries the pattern's alternatives in order and
 * takes the first that matches, with the length a backtracking regex engine would give it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "plume/error.h"
#include "plume/pretokenize.h"

static const struct { const char *name; plume_pretok kind; } pretok_names[] = {
    { "gpt-2", PLUME_PRETOK_GPT2 },
    { "gpt2", PLUME_PRETOK_GPT2 },
    /* llama.cpp writes Llama 3's pre-tokenizer under these three names. */
    { "llama-bpe", PLUME_PRETOK_LLAMA3 },
    { "llama3", PLUME_PRETOK_LLAMA3 },
    { "llama-v3", PLUME_PRETOK_LLAMA3 },
    { "qwen2", PLUME_PRETOK_QWEN2 },
    { "smollm", PLUME_PRETOK_SMOLLM },
};

int plume_pretok_from_name(const char *name, plume_pretok *out) {
    for (size_t i = 0; i < sizeof pretok_names / sizeof pretok_names[0]; i++)
        if (!strcmp(name, pretok_names[i].name)) {
            *out = pretok_names[i].kind;
            return 0;
        }
    return -1;
}

const char *plume_pretok_name(plume_pretok kind) {
    switch (kind) {
    case PLUME_PRETOK_LLAMA3: return "llama-bpe";
    case PLUME_PRETOK_QWEN2: return "qwen2";
    case PLUME_PRETOK_SMOLLM: return "smollm";
    default: return "gpt-2";
    }
}

const char *plume_pretok_closest(const char *name) {
    /* a near miss ("llama_bpe", "qwen-2") within a third of the name's length */
    size_t limit = strlen(name) / 3 > 1 ? strlen(name) / 3 : 1, best_d = limit + 1;
    const char *best = NULL;
    for (size_t i = 0; i < sizeof pretok_names / sizeof pretok_names[0]; i++) {
        size_t d = plume_edit_distance(name, pretok_names[i].name, best_d);
        if (d < best_d) {
            best_d = d;
            best = pretok_names[i].name;
        }
    }
    return best;
}

const char *plume_pretok_known_names(void) {
    return "gpt-2 (or gpt2), llama-bpe (or llama3, llama-v3), qwen2, smollm";
}

/* ---- code point classes ---- */

/* Regex \s as these patterns see it (Unicode White_Space). */
static bool is_space_cp(int32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

enum { CL_NONE = 0, CL_LETTER = 1, CL_NUMBER = 2, CL_SPACE = 4, CL_OTHER = 8 };

/* The class of code point C (-1: an invalid byte, which counts as "other"). */
static int cp_class(int32_t c) {
    if (c < 0) return CL_OTHER;
    if (is_space_cp(c)) return CL_SPACE;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: return CL_LETTER;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: return CL_NUMBER;
    default: return CL_OTHER;
    }
}

static bool is_newline(int32_t c) { return c == '\r' || c == '\n'; }

/* The end of the run of class K that starts at I. */
static size_t run_end(const int *cls, size_t n, size_t i, int k) {
    while (i < n && cls[i] == k) i++;
    return i;
}

/* The length of a contraction ('s 't 're 've 'm 'll 'd) at POS, 0 if none there. */
static size_t contraction(const int32_t *cp, size_t n, size_t pos, bool any_case) {
    if (cp[pos] != '\'' || pos + 1 >= n) return 0;
    int32_t c1 = cp[pos + 1], c2 = pos + 2 < n ? cp[pos + 2] : 0;
    if (any_case) {
        /* (?i:...) with Unicode case folding: besides ASCII capitals, only U+017F LONG S folds to one
         * of these letters (to 's'), and the reference regex engine matches it so */
        if (c1 >= 'A' && c1 <= 'Z') c1 += 'a' - 'A';
        if (c2 >= 'A' && c2 <= 'Z') c2 += 'a' - 'A';
        if (c1 == 0x17F) c1 = 's';
    }
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

/* ---- gpt-2 ---- */

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ over cp[a..b);
 * EMIT gets absolute indices. */
static int gpt2_split(const int32_t *cp, const int *cls, size_t a, size_t b, pretok_span_fn emit, void *ctx) {
    size_t pos = a;
    int rc;
    while (pos < b) {
        size_t end, k = contraction(cp, b, pos, false);
        if (k) {
            end = pos + k;
        } else {
            size_t q = pos + (cp[pos] == ' ' ? 1 : 0);   /* " ?X+": one optional ' ', then a run of X */
            if (q < b && cls[q] != CL_SPACE) {
                end = run_end(cls, b, q, cls[q]);
            } else {
                /* \s+(?!\S) leaves a run's last space to the word after it; at the end, or a lone
                 * space before a non-space, \s+ takes the whole run. */
                size_t w = run_end(cls, b, pos, CL_SPACE);
                end = (w < b && w - pos > 1) ? w - 1 : w;
            }
        }
        if ((rc = emit(ctx, pos, end))) return rc;
        pos = end;
    }
    return 0;
}

/* ---- llama-bpe and qwen2 ---- */

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,MAX_DIGITS}| ?[^\s\p{L}\p{N}]+[\r\n]*
 * |\s*[\r\n]+|\s+(?!\S)|\s+ */
static int llama3_split(const int32_t *cp, const int *cls, size_t n, size_t max_digits, pretok_span_fn emit,
                        void *ctx) {
    size_t pos = 0;
    int rc;
    while (pos < n) {
        int32_t c = cp[pos];
        size_t end = 0, k = contraction(cp, n, pos, true);
        /* one character that is neither a line break, a letter nor a digit may lead a word... */
        bool leads_word = cls[pos] != CL_LETTER && cls[pos] != CL_NUMBER && !is_newline(c) && pos + 1 < n &&
                          cls[pos + 1] == CL_LETTER;
        /* ...and one space may lead a run of punctuation */
        bool leads_punct = c == ' ' && pos + 1 < n && cls[pos + 1] == CL_OTHER;
        if (k) {
            end = pos + k;
        } else if (leads_word || cls[pos] == CL_LETTER) {
            end = run_end(cls, n, pos + leads_word, CL_LETTER);
        } else if (cls[pos] == CL_NUMBER) {
            end = run_end(cls, n, pos, CL_NUMBER);
            if (end - pos > max_digits) end = pos + max_digits;
        } else if (leads_punct || cls[pos] == CL_OTHER) {
            end = run_end(cls, n, pos + leads_punct, CL_OTHER);   /* with the line breaks after it */
            while (end < n && is_newline(cp[end])) end++;
        } else {
            /* Whitespace: \s*[\r\n]+ ends after the run's last line break when it has one; else
             * \s+(?!\S) leaves the run's last character to the word after it (a run of one before a
             * non-space, or a run at the very end, is taken whole by \s+ / \s+(?!\S)). */
            size_t w = run_end(cls, n, pos, CL_SPACE);
            for (size_t i = w; i > pos; i--)
                if (is_newline(cp[i - 1])) {
                    end = i;
                    break;
                }
            if (!end) end = (w < n && w - pos > 1) ? w - 1 : w;
        }
        if ((rc = emit(ctx, pos, end))) return rc;
        pos = end;
    }
    return 0;
}

/* ---- smollm ---- */

/* Every \p{N} alone; the text between numbers goes through gpt-2's pattern. */
static int smollm_split(const int32_t *cp, const int *cls, size_t n, pretok_span_fn emit, void *ctx) {
    size_t pos = 0;
    int rc;
    while (pos < n) {
        if (cls[pos] == CL_NUMBER) {
            if ((rc = emit(ctx, pos, pos + 1))) return rc;
            pos++;
            continue;
        }
        size_t end = pos;
        while (end < n && cls[end] != CL_NUMBER) end++;
        if ((rc = gpt2_split(cp, cls, pos, end, emit, ctx))) return rc;
        pos = end;
    }
    return 0;
}

int pretok_split(plume_pretok kind, const int32_t *cp, size_t n, pretok_span_fn emit, void *ctx) {
    if (n == 0) return 0;
    int *cls = malloc(n * sizeof *cls);
    if (!cls) return -1;
    for (size_t i = 0; i < n; i++) cls[i] = cp_class(cp[i]);
    int rc;
    switch (kind) {
    case PLUME_PRETOK_LLAMA3: rc = llama3_split(cp, cls, n, 3, emit, ctx); break;
    case PLUME_PRETOK_QWEN2: rc = llama3_split(cp, cls, n, 1, emit, ctx); break;
    case PLUME_PRETOK_SMOLLM: rc = smollm_split(cp, cls, n, emit, ctx); break;
    default: rc = gpt2_split(cp, cls, 0, n, emit, ctx); break;
    }
    free(cls);
    return rc;
}

size_t pretok_decode(const char *text, size_t len, int32_t **out_cp, size_t **out_off) {
    int32_t *cp = malloc((len ? len : 1) * sizeof *cp);
    size_t *off = malloc((len + 1) * sizeof *off);
    if (!cp || !off) {
        free(cp);
        free(off);
        return (size_t)-1;
    }
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) { c = -1; k = 1; }   /* an invalid byte stays one symbol of its own */
        cp[n] = c;
        off[n++] = i;
        i += (size_t)k;
    }
    off[n] = len;
    *out_cp = cp;
    *out_off = off;
    return n;
}

/* ---- pre-tokenizing bytes (for learning merges, and for tests) ---- */

typedef struct bytes_ctx {
    const char *text;
    const size_t *off;
    int (*emit)(void *user, const char *word, size_t n);
    void *user;
} bytes_ctx;

static int emit_bytes(void *vctx, size_t a, size_t b) {
    bytes_ctx *c = vctx;
    return c->emit(c->user, c->text + c->off[a], c->off[b] - c->off[a]) ? 1 : 0;
}

int plume_pretokenize(plume_pretok kind, const char *text, size_t len,
                      int (*emit)(void *user, const char *word, size_t n), void *user, plume_error *err) {
    if (len == 0) return 0;
    int32_t *cp;
    size_t *off, n = pretok_decode(text, len, &cp, &off);
    if (n == (size_t)-1) return plume_fail(err, "pre-tokenizing %zu bytes: out of memory", len);
    bytes_ctx ctx = { text, off, emit, user };
    int rc = pretok_split(kind, cp, n, emit_bytes, &ctx);
    free(cp);
    free(off);
    if (rc < 0) return plume_fail(err, "pre-tokenizing %zu bytes: out of memory", len);
    if (rc > 0) return plume_fail(err, "pre-tokenizing: the word callback failed");
    return 0;
}
