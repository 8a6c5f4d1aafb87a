/* An e-mail body reduced to what its author wrote: quoted replies, their attributions, forwarded
 * originals, signatures and mailing-list footers removed. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "email_body.h"

typedef struct line { const char *s; size_t len; } line;

static int blank(line l) {
    for (size_t i = 0; i < l.len; i++)
        if (!isspace((unsigned char)l.s[i])) return 0;
    return 1;
}

/* A quoted line: "> text" (any depth), Supercite's "Tim> text" (initials or a first name up to
 * 10 letters or digits, then '>'), or "--]text", a quote mark one of the corpus's regulars uses. */
static int quoted(line l) {
    size_t i = 0;
    while (i < l.len && (l.s[i] == ' ' || l.s[i] == '\t')) i++;
    if (i < l.len && l.s[i] == '>') return 1;
    if (l.len - i >= 3 && !memcmp(l.s + i, "--]", 3)) return 1;
    size_t j = i;
    while (j < l.len && j - i <= 10 && isalnum((unsigned char)l.s[j])) j++;
    return j > i && j - i <= 10 && isalpha((unsigned char)l.s[i]) && j < l.len && l.s[j] == '>';
}

static int ends_with(line l, const char *suffix) {
    size_t b = l.len, n = strlen(suffix);
    while (b > 0 && isspace((unsigned char)l.s[b - 1])) b--;
    return b >= n && !memcmp(l.s + b - n, suffix, n);
}

static int begins(line l, const char *prefix) {
    size_t i = 0, n = strlen(prefix);
    while (i < l.len && (l.s[i] == ' ' || l.s[i] == '\t')) i++;
    return l.len - i >= n && !memcmp(l.s + i, prefix, n);
}

static int is_rule(line l, char c, size_t min) {
    size_t n = 0;
    for (size_t i = 0; i < l.len; i++) {
        if (l.s[i] == c) n++;
        else if (!isspace((unsigned char)l.s[i])) return 0;
    }
    return n >= min;
}

/* An attribution: "On <date>, <name> wrote:" (possibly wrapped onto the next line), or any line
 * ending in "wrote:", "writes:" or "said:" right before quoted text. Returns how many lines it spans (0: none). */
static size_t attribution(const line *L, size_t n, size_t i) {
    int next_quoted = 0;
    for (size_t j = i + 1; j < n && j <= i + 3; j++) {
        if (blank(L[j])) continue;
        if (j == i + 1 && (ends_with(L[j], "wrote:") || ends_with(L[j], "writes:"))) continue;
        next_quoted = quoted(L[j]);
        break;
    }
    if (ends_with(L[i], "wrote:") || ends_with(L[i], "writes:"))
        return (begins(L[i], "On ") || next_quoted) ? 1 : 0;
    if (ends_with(L[i], "said:")) return next_quoted ? 1 : 0;   /* "Bart Schaefer said:" before a quote */
    if (begins(L[i], "On ") && i + 1 < n && (ends_with(L[i + 1], "wrote:") || ends_with(L[i + 1], "writes:")) &&
        !blank(L[i + 1]))
        return 2;
    return 0;
}

char *email_clean_body(const char *s, size_t len) {
    size_t n = 0, cap = 64;
    line *L = malloc(cap * sizeof *L);
    if (!L) return NULL;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len;
        if (n == cap) {
            line *p = realloc(L, cap * 2 * sizeof *L);
            if (!p) {
                free(L);
                return NULL;
            }
            L = p;
            cap *= 2;
        }
        L[n++] = (line){ s + i, e - i };
        i = e + 1;
    }
    /* the end of what the author wrote: a signature separator, a forwarded original, a footer */
    size_t end = n;
    for (size_t i = 0; i < end; i++) {
        line l = L[i];
        if ((l.len == 3 && !memcmp(l.s, "-- ", 3)) || (l.len == 2 && !memcmp(l.s, "--", 2)) ||
            begins(l, "-----Original Message-----") || begins(l, "----- Original Message -----") ||
            begins(l, "-------- Original Message --------")) {
            end = i;
            break;
        }
        if (is_rule(l, '_', 20) || is_rule(l, '=', 20) || begins(l, "------------------------ Yahoo! Groups Sponsor")) {
            size_t rest = 0;
            for (size_t j = i + 1; j < n; j++) rest += !blank(L[j]);
            if (rest <= 8) {
                end = i;
                break;
            }
        }
    }
    char *out = malloc(len + 1);
    if (!out) {
        free(L);
        return NULL;
    }
    size_t o = 0, blanks = 0;
    for (size_t i = 0; i < end; i++) {
        if (quoted(L[i])) continue;
        size_t a = attribution(L, end, i);
        if (a) {
            i += a - 1;
            continue;
        }
        if (blank(L[i])) {
            blanks++;
            continue;
        }
        if (o > 0) {
            out[o++] = '\n';
            if (blanks) out[o++] = '\n';   /* paragraphs stay apart by one blank line */
        }
        blanks = 0;
        /* no trailing white space */
        size_t ll = L[i].len;
        while (ll > 0 && isspace((unsigned char)L[i].s[ll - 1])) ll--;
        memcpy(out + o, L[i].s, ll);
        o += ll;
    }
    out[o] = '\0';
    free(L);
    return out;
}
