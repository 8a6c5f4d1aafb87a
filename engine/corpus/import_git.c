/* `git log` output → corpus: one document per commit.
 *
 * The input is what `git log --no-merges --date=iso-strict --format='commit %H%nAuthor: %an <%ae>
 * %nDate:   %ad%n%n%B%n'` writes (see data/git-libuv/SOURCE.md). A record starts at a line
 * "commit <40 hex>" that follows an empty line (or starts the file) and is followed by "Author: "
 * and a "Date:" line in ISO 8601: messages may quote other `git log` entries, whose dates are in
 * git's default format, so those quoted lines stay part of the message.
 *
 * Title = the subject (the message's first paragraph), text = the rest, without the trailer block
 * (the last paragraphs made only of "Token: value" lines: Signed-off-by, Reviewed-by, PR-URL, ...).
 * Author = the e-mail address, lower-cased: names are spelled in more ways than addresses. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "corpus_internal.h"
#include "plume/text.h"

typedef struct line { const char *s; size_t len; } line;

static int is_commit_line(line l) {
    if (l.len != 47 || memcmp(l.s, "commit ", 7)) return 0;
    for (size_t i = 7; i < 47; i++)
        if (!isdigit((unsigned char)l.s[i]) && !(l.s[i] >= 'a' && l.s[i] <= 'f')) return 0;
    return 1;
}

static int starts(line l, const char *p) {
    size_t n = strlen(p);
    return l.len >= n && !memcmp(l.s, p, n);
}

/* The ISO date of a "Date:" line, or -1. */
static int date_of(line l, double *t) {
    if (!starts(l, "Date:")) return -1;
    size_t a = 5;
    while (a < l.len && l.s[a] == ' ') a++;
    size_t b = l.len;
    while (b > a && l.s[b - 1] == ' ') b--;
    char buf[64];
    if (b - a >= sizeof buf) return -1;
    memcpy(buf, l.s + a, b - a);
    buf[b - a] = '\0';
    return plume_parse_iso8601(buf, t);
}

static int is_header(const line *L, size_t n, size_t i) {
    double t;
    return i + 2 < n && is_commit_line(L[i]) && (i == 0 || L[i - 1].len == 0) && starts(L[i + 1], "Author: ") &&
           date_of(L[i + 2], &t) == 0;
}

static int is_blank(line l) {
    for (size_t i = 0; i < l.len; i++)
        if (!isspace((unsigned char)l.s[i])) return 0;
    return 1;
}

/* "Token: value" with a token of letters, digits and dashes (git's trailer shape), or a
 * continuation line of the one before (it starts with white space). */
static int is_trailer(line l, int first) {
    if (!first && l.len > 0 && (l.s[0] == ' ' || l.s[0] == '\t')) return 1;
    size_t i = 0;
    while (i < l.len && (isalnum((unsigned char)l.s[i]) || l.s[i] == '-')) i++;
    return i > 0 && i < l.len && isalpha((unsigned char)l.s[0]) && l.s[i] == ':' && i + 1 < l.len && l.s[i + 1] == ' ';
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap : 256;
        while (*len + n + 1 > nc) nc *= 2;
        char *p = realloc(*buf, nc);
        if (!p) return -1;
        *buf = p;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* One record: header at L[h], message L[m0..m1). 1 written, 0 skipped, -1 error. */
static int import_record(const line *L, size_t h, size_t m0, size_t m1, FILE *out, plume_import_stats *st,
                         plume_error *err) {
    st->read++;
    char sha[41];
    memcpy(sha, L[h].s + 7, 40);
    sha[40] = '\0';
    line a = L[h + 1];
    const char *lt = memchr(a.s, '<', a.len), *gt = lt ? memchr(lt, '>', a.len - (size_t)(lt - a.s)) : NULL;
    if (!lt || !gt || gt - lt < 2) {
        plume_import_count(st, "Author line without an <e-mail>", 0);
        return 0;
    }
    double t;
    date_of(L[h + 2], &t);
    while (m0 < m1 && is_blank(L[m0])) m0++;
    while (m1 > m0 && is_blank(L[m1 - 1])) m1--;
    if (m0 == m1) {
        plume_import_count(st, "empty commit message", 0);
        return 0;
    }
    /* subject: the first paragraph, its lines joined by spaces */
    size_t s_end = m0;
    while (s_end < m1 && !is_blank(L[s_end])) s_end++;
    /* trailers: the last paragraph when every line of it is one (git's rule), repeated, since
     * messages often put "Fixes:" in one paragraph and "Co-authored-by:" in another */
    size_t b0 = s_end, b1 = m1;
    for (;;) {
        while (b1 > b0 && is_blank(L[b1 - 1])) b1--;
        size_t last = b1;
        while (last > b0 && !is_blank(L[last - 1])) last--;
        if (last <= b0 || last == b1) break;
        int all = 1;
        for (size_t i = last; i < b1 && all; i++) all = is_trailer(L[i], i == last);
        if (!all) break;
        b1 = last;
    }
    while (b0 < b1 && is_blank(L[b0])) b0++;
    while (b1 > b0 && is_blank(L[b1 - 1])) b1--;
    char *title = NULL, *text = NULL, *email = NULL;
    size_t tl = 0, tc = 0, xl = 0, xc = 0;
    int rc = 0;
    for (size_t i = m0; i < s_end && rc == 0; i++) {
        if (i > m0) rc = append(&title, &tl, &tc, " ", 1);
        if (rc == 0) rc = append(&title, &tl, &tc, L[i].s, L[i].len);
    }
    rc = rc ? rc : append(&text, &xl, &xc, "", 0);
    for (size_t i = b0; i < b1 && rc == 0; i++) {
        if (i > b0) rc = append(&text, &xl, &xc, "\n", 1);
        if (rc == 0) rc = append(&text, &xl, &xc, L[i].s, L[i].len);
    }
    if (rc == 0 && (email = malloc((size_t)(gt - lt))) != NULL) {
        size_t n = (size_t)(gt - lt - 1);
        for (size_t i = 0; i < n; i++) email[i] = (char)tolower((unsigned char)lt[1 + i]);
        email[n] = '\0';
    }
    if (rc || !email) {
        rc = plume_fail(err, "commit %s: out of memory", sha);
    } else {
        if (b1 < m1 && b1 >= s_end) {
            /* the trailer block went away (counted so the report says how often) */
            plume_import_count(st, "trailer block dropped (Signed-off-by:, Reviewed-By:, PR-URL:, ...)", 1);
        }
        plume_corpus_doc d = { sha, email, title, text, t };
        rc = plume_corpus_write(out, &d, st, err);
        if (rc == 0) {
            st->written++;
            rc = 1;
        }
    }
    free(title);
    free(text);
    free(email);
    return rc;
}

int plume_import_git(const char *path, FILE *out, plume_import_stats *st, plume_error *err) {
    size_t raw_len, len, bad;
    char *raw = corpus_read_file(path, CORPUS_MAX_FILE, &raw_len, err);
    if (!raw) return -1;
    /* CR and CRLF become LF, malformed UTF-8 becomes U+FFFD: everything after this is clean */
    char *s = plume_utf8_clean(raw, raw_len, &len, &bad);
    free(raw);
    if (!s) return plume_fail(err, "%s: out of memory", path);
    if (bad) plume_import_count(st, "bytes that were not UTF-8 replaced by U+FFFD", 1);
    size_t n = 0, cap = 1024;
    line *L = malloc(cap * sizeof *L);
    int rc = L ? 0 : plume_fail(err, "%s: out of memory", path);
    for (size_t i = 0; rc == 0 && i <= len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len;
        if (!nl && e == i) break;   /* no empty last line after the final newline */
        if (n == cap) {
            line *p = realloc(L, cap * 2 * sizeof *L);
            if (!p) {
                rc = plume_fail(err, "%s: out of memory", path);
                break;
            }
            L = p;
            cap *= 2;
        }
        L[n++] = (line){ s + i, e - i };
        i = e + 1;
    }
    /* records: from one header to the next */
    size_t h = (size_t)-1, junk = 0;
    for (size_t i = 0; rc == 0 && i <= n; i++) {
        if (i < n && !is_header(L, n, i)) {
            if (h == (size_t)-1 && !is_blank(L[i])) junk++;
            continue;
        }
        if (h != (size_t)-1 && import_record(L, h, h + 3, i, out, st, err) < 0) rc = -1;
        h = i;
    }
    if (junk) {
        plume_import_count(st, "lines before the first commit header", 0);
        if (!st->first_error[0])
            snprintf(st->first_error, sizeof st->first_error,
                     "%s:1: text before the first \"commit <sha>\" line (hint: the format is git log --format='commit %%H%%nAuthor: %%an <%%ae>%%nDate:   %%ad%%n%%n%%B%%n' --date=iso-strict)",
                     path);
    }
    free(L);
    free(s);
    return rc;
}
