/* What importers share: skip counting and reporting, the corpus line writer, ISO 8601 dates. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "plume/corpus.h"

void plume_import_count(plume_import_stats *st, const char *reason, int note) {
    for (size_t i = 0; i < st->n_reasons; i++)
        if (!strcmp(st->reasons[i].reason, reason)) {
            st->reasons[i].count++;
            return;
        }
    if (st->n_reasons < PLUME_IMPORT_MAX_REASONS) {
        st->reasons[st->n_reasons].reason = reason;
        st->reasons[st->n_reasons].note = note;
        st->reasons[st->n_reasons++].count = 1;
    }
}

size_t plume_import_skipped(const plume_import_stats *st, const char *reason) {
    for (size_t i = 0; i < st->n_reasons; i++)
        if (!strcmp(st->reasons[i].reason, reason)) return st->reasons[i].count;
    return 0;
}

size_t plume_import_skipped_total(const plume_import_stats *st) {
    size_t n = 0;
    for (size_t i = 0; i < st->n_reasons; i++)
        if (!st->reasons[i].note) n += st->reasons[i].count;
    return n;
}

void plume_import_report(const plume_import_stats *st, const char *format, FILE *out) {
    fprintf(out, "%s: %zu records read, %zu documents written, %zu skipped\n", format, st->read, st->written,
            plume_import_skipped_total(st));
    for (size_t i = 0; i < st->n_reasons; i++)
        if (!st->reasons[i].note) fprintf(out, "  skipped %6zu  %s\n", st->reasons[i].count, st->reasons[i].reason);
    for (size_t i = 0; i < st->n_reasons; i++)
        if (st->reasons[i].note) fprintf(out, "  note    %6zu  %s\n", st->reasons[i].count, st->reasons[i].reason);
    if (st->footer_senders > 0) {
        fprintf(out, "  footers %6zu  list footers removed: %zu distinct blocks (a block that ends the messages of >= %ld senders, "
                     "or one under a line that heads 2 such blocks); each with the senders whose messages it ends:\n",
                st->footers_removed, st->footer_blocks, st->footer_senders);
        for (size_t i = 0; i < st->n_footers; i++)
            fprintf(out, "          %6zu  (%zu sender%s) %s\n", st->footers[i].removed, st->footers[i].senders,
                    st->footers[i].senders == 1 ? "" : "s", st->footers[i].block);
        if (st->footer_blocks > st->n_footers)
            fprintf(out, "                  ... and %zu more blocks\n", st->footer_blocks - st->n_footers);
    }
    if (st->first_error[0]) fprintf(out, "  first problem: %s\n", st->first_error);
}

/* How many of the first `cap` bytes of s (clean UTF-8) make whole characters. */
static size_t utf8_prefix(const char *s, size_t len, size_t cap) {
    if (len <= cap) return len;
    while (cap > 0 && ((unsigned char)s[cap] & 0xC0) == 0x80) cap--;   /* not inside a character */
    return cap;
}

int plume_corpus_write(FILE *out, const plume_corpus_doc *doc, plume_import_stats *st, plume_error *err) {
    size_t cap = st->max_doc_bytes ? st->max_doc_bytes : PLUME_IMPORT_MAX_DOC_BYTES;
    const char *title = doc->title ? doc->title : "";
    size_t title_len = strlen(title), text_len = strlen(doc->text);
    if (title_len + text_len > cap) {
        title_len = utf8_prefix(title, title_len, cap);
        text_len = utf8_prefix(doc->text, text_len, cap - title_len);
        plume_import_count(st, "document cut to the --max-doc-bytes cap (title + text)", 1);
    }
    json_t *o = json_object();
    if (!o) return plume_fail(err, "out of memory writing document %s", doc->id);
    /* json_string() refuses invalid UTF-8: importers clean their strings first, so a refusal is a bug */
    int bad = json_object_set_new(o, "id", json_string(doc->id)) ||
              json_object_set_new(o, "author", json_string(doc->author)) ||
              json_object_set_new(o, "time", json_integer((json_int_t)doc->time)) ||
              json_object_set_new(o, "title", json_stringn(title, title_len)) ||
              json_object_set_new(o, "text", json_stringn(doc->text, text_len));
    char *line = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!line) return plume_fail(err, "document %s: a field is not valid UTF-8 or memory ran out", doc->id);
    int rc = fputs(line, out) < 0 || fputc('\n', out) == EOF;
    free(line);
    if (rc) return plume_fail(err, "writing document %s: the output could not be written (disk full?)", doc->id);
    return 0;
}

static int digits(const char *s, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm: it is not in POSIX). */
static long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int plume_parse_iso8601(const char *s, double *t) {
    int Y, M, D, h, m, sec;
    if (strlen(s) < 19 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return -1;
    const char *p = s + 19;
    double frac = 0, scale = 0.1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) {
            frac += (*p++ - '0') * scale;
            scale /= 10;
        }
    }
    long offset = 0;
    if (*p == 'Z') p++;
    else if (*p == '+' || *p == '-') {
        int oh, om;
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(p, 2, &oh)) return -1;
        p += 2;
        if (*p == ':') p++;
        if (digits(p, 2, &om)) return -1;
        p += 2;
        if (oh > 23 || om > 59) return -1;
        offset = sign * (oh * 3600L + om * 60L);
    }
    if (*p) return -1;
    *t = (double)(days_from_civil(Y, M, D) * 86400LL + h * 3600LL + m * 60LL + sec - offset) + frac;
    return 0;
}
