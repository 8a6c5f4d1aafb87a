/* An e-mail body reduced to what its author wrote: quoted replies, their attributions, forwarded
 * originals, pasted header blocks, PGP armour, signatures and rule-led list footers removed.
 * Footers without a rule are found across the whole mailbox instead (email_footer.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* A header field line, "Name: value" or "Name:", with an RFC 5322 field name (no spaces).
 * Returns 2 for the fields only a mail system writes (transport, MIME, list and X- fields), 1 for
 * another field name, 0 for anything else. */
static int header_field(line l) {
    size_t i = 0;
    while (i < l.len && (isalnum((unsigned char)l.s[i]) || l.s[i] == '-')) i++;
    if (i == 0 || i >= l.len || l.s[i] != ':' || !isalpha((unsigned char)l.s[0])) return 0;
    if (i + 1 < l.len && l.s[i + 1] != ' ' && l.s[i + 1] != '\t') return 0;
    static const char *const machine[] = { "Received", "Return-Path", "Message-ID", "MIME-Version", "Content-Type",
                                            "Content-Transfer-Encoding", "Errors-To", "Precedence", "Delivered-To",
                                            "Sender", "References", "In-Reply-To", "Envelope-To" };
    for (size_t k = 0; k < sizeof machine / sizeof *machine; k++)
        if (strlen(machine[k]) == i && !strncasecmp(l.s, machine[k], i)) return 2;
    if (i > 2 && (!strncasecmp(l.s, "X-", 2) || (i > 5 && !strncasecmp(l.s, "List-", 5)))) return 2;
    return 1;
}

/* Marks a message's header block pasted into the body (someone showing the headers of a message
 * they discuss): a run of header fields, their indented continuation lines and at most one
 * unindented wrapped line at a time, holding at least 4 fields, 2 of them fields only a mail
 * system writes. Prose with a "Note:" or two stays. */
static int indented(line l) { return l.len > 0 && (l.s[0] == ' ' || l.s[0] == '\t') && !blank(l); }

static void mark_pasted_headers(const line *L, size_t n, char *drop) {
    for (size_t i = 0; i < n;) {
        if (!header_field(L[i])) {
            i++;
            continue;
        }
        size_t j = i, fields = 0, machine = 0;
        int stray = 0;   /* the line before was an unindented wrapped line */
        while (j < n) {
            int h = header_field(L[j]);
            if (h) {
                fields++;
                machine += h == 2;
                stray = 0;
            } else if (indented(L[j])) {
                stray = 0;
            } else if (!blank(L[j]) && !stray && j + 1 < n && (header_field(L[j + 1]) || indented(L[j + 1]))) {
                stray = 1;
            } else {
                break;
            }
            j++;
        }
        if (fields >= 4 && machine >= 2)
            for (size_t k = i; k < j; k++) drop[k] = 1;
        i = j;
    }
}

/* Marks PGP armour: "-----BEGIN PGP SIGNED MESSAGE-----" with its "Hash:" lines, and every
 * "-----BEGIN PGP ...-----" .. "-----END PGP ...-----" block (signatures, keys). */
static void mark_pgp(const line *L, size_t n, char *drop) {
    for (size_t i = 0; i < n; i++) {
        if (begins(L[i], "-----BEGIN PGP SIGNED MESSAGE-----")) {
            drop[i] = 1;
            while (i + 1 < n && begins(L[i + 1], "Hash:")) drop[++i] = 1;
        } else if (begins(L[i], "-----BEGIN PGP ")) {
            size_t j = i;
            while (j < n && !begins(L[j], "-----END PGP ")) j++;
            if (j == n) continue;   /* no end line: not armour after all */
            for (size_t k = i; k <= j; k++) drop[k] = 1;
            i = j;
        }
    }
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
    char *drop = calloc(end ? end : 1, 1);
    if (!out || !drop) {
        free(out);
        free(drop);
        free(L);
        return NULL;
    }
    mark_pasted_headers(L, end, drop);
    mark_pgp(L, end, drop);
    size_t o = 0, blanks = 0;
    for (size_t i = 0; i < end; i++) {
        if (drop[i] || quoted(L[i])) continue;
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
    free(drop);
    free(L);
    return out;
}
