/* mbox → corpus with GMime: one document per message.
 *
 * Author = the From: address (lower-cased), time = the Date: header, title = the decoded Subject,
 * text = the message's own words: the first text/plain part that is not an attachment (text/html
 * converted when there is no plain part), transfer encoding and charset decoded, then quoted
 * replies, attributions and signatures removed (email_body.c), then mailing-list footers, which
 * are found from the whole file (email_footer.c): so every message is read before any is written. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include "corpus_internal.h"
#include "email_body.h"
#include "email_footer.h"
#include "plume/text.h"

static void gmime_once(void) {
    static int done;
    if (!done) {
        g_mime_init();
        done = 1;
    }
}

/* The first non-attachment part of type text/<sub> in a MIME tree (attached messages excluded). */
static GMimePart *find_text(GMimeObject *obj, const char *sub) {
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++) {
            GMimePart *p = find_text(g_mime_multipart_get_part(mp, i), sub);
            if (p) return p;
        }
        return NULL;
    }
    if (!GMIME_IS_PART(obj)) return NULL;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (!ct || !g_mime_content_type_is_type(ct, "text", sub)) return NULL;
    if (g_mime_part_is_attachment(GMIME_PART(obj))) return NULL;
    return GMIME_PART(obj);
}

/* The part's bytes with the transfer encoding undone. NULL when it has no content. */
static GByteArray *part_bytes(GMimePart *part, GMimeStream **keep) {
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    if (!dw) return NULL;
    GMimeStream *mem = g_mime_stream_mem_new();
    if (g_mime_data_wrapper_write_to_stream(dw, mem) < 0) {
        g_object_unref(mem);
        return NULL;
    }
    *keep = mem;
    return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
}

/* Bytes in `charset` (may be NULL) to clean UTF-8. A wrong or unknown charset falls back to UTF-8
 * when the bytes are valid UTF-8, else to Windows-1252 / Latin-1, and counts a note. */
static char *to_utf8(const char *data, size_t len, const char *charset, plume_import_stats *st) {
    int ascii_or_none = !charset || !g_ascii_strcasecmp(charset, "us-ascii") || !g_ascii_strcasecmp(charset, "ascii");
    if (!ascii_or_none && g_ascii_strcasecmp(charset, "utf-8") && g_ascii_strcasecmp(charset, "utf8")) {
        const char *name = g_mime_charset_iconv_name(charset);
        gsize written = 0;
        GError *gerr = NULL;
        gchar *conv = g_convert(data, (gssize)len, "UTF-8", name ? name : charset, NULL, &written, &gerr);
        if (conv) {
            char *c = plume_utf8_clean(conv, written, NULL, NULL);
            g_free(conv);
            return c;
        }
        g_clear_error(&gerr);
        plume_import_count(st, "text not in its declared charset (read as UTF-8 or Windows-1252)", 1);
    }
    if (g_utf8_validate(data, (gssize)len, NULL)) return plume_utf8_clean(data, len, NULL, NULL);
    if (ascii_or_none) plume_import_count(st, "8-bit text without a charset or declared ASCII (read as Windows-1252)", 1);
    gsize written = 0;
    gchar *conv = g_convert(data, (gssize)len, "UTF-8", "WINDOWS-1252", NULL, &written, NULL);
    if (!conv) conv = g_convert(data, (gssize)len, "UTF-8", "ISO-8859-1", NULL, &written, NULL);   /* never fails */
    if (!conv) return plume_utf8_clean(data, len, NULL, NULL);
    char *c = plume_utf8_clean(conv, written, NULL, NULL);
    g_free(conv);
    return c;
}

static char *one_line(const char *s) {
    size_t n;
    char *c = plume_utf8_clean(s ? s : "", s ? strlen(s) : 0, &n, NULL);
    if (!c) return NULL;
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == ' ' || c[i] == '\n' || c[i] == '\t') {
            space = o > 0;
            continue;
        }
        if (space) c[o++] = ' ';
        space = 0;
        c[o++] = c[i];
    }
    c[o] = '\0';
    return c;
}

/* A message read and cleaned, waiting for the footer pass. */
typedef struct mbox_doc {
    char *id, *author, *title, *text;
    double time;
} mbox_doc;

typedef struct mbox_docs {
    mbox_doc *v;
    size_t n, cap;
} mbox_docs;

static void free_docs(mbox_docs *d) {
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].id);
        free(d->v[i].author);
        free(d->v[i].title);
        free(d->v[i].text);
    }
    free(d->v);
}

/* One message into docs: 1 kept, 0 skipped, -1 error. */
static int read_message(GMimeMessage *msg, size_t index, mbox_docs *docs, plume_import_stats *st, plume_error *err) {
    InternetAddressList *from = g_mime_message_get_from(msg);
    const char *addr = NULL;
    if (from && internet_address_list_length(from) > 0) {
        InternetAddress *ia = internet_address_list_get_address(from, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    }
    if (!addr || !strchr(addr, '@')) {
        plume_import_count(st, "no From: address", 0);
        return 0;
    }
    GDateTime *dt = g_mime_message_get_date(msg);
    if (!dt) {
        plume_import_count(st, "no usable Date: header", 0);
        return 0;
    }
    double time = (double)g_date_time_to_unix(dt);
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    GMimePart *part = body ? find_text(body, "plain") : NULL;
    int html = 0;
    if (!part && body && (part = find_text(body, "html"))) html = 1;
    if (!part) {
        plume_import_count(st, "no text part (only attachments or other types)", 0);
        return 0;
    }
    GMimeStream *mem = NULL;
    GByteArray *bytes = part_bytes(part, &mem);
    const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    char *text = bytes ? to_utf8((const char *)bytes->data, bytes->len, charset, st) : strdup("");
    if (mem) g_object_unref(mem);
    if (!text) return plume_fail(err, "message %zu: out of memory decoding its body", index);
    if (html) {
        char *t = plume_html_to_text(text, strlen(text));
        free(text);
        if (!(text = t)) return plume_fail(err, "message %zu: out of memory", index);
    }
    char *clean = email_clean_body(text, strlen(text));
    free(text);
    if (!clean) return plume_fail(err, "message %zu: out of memory", index);
    if (!*clean) {
        free(clean);
        plume_import_count(st, "empty body once quotes and signature are removed", 0);
        return 0;
    }
    char idbuf[64];
    const char *mid = g_mime_message_get_message_id(msg);
    if (!mid || !*mid) {
        snprintf(idbuf, sizeof idbuf, "mbox-%zu", index);
        mid = idbuf;
    }
    if (docs->n == docs->cap) {
        size_t nc = docs->cap ? docs->cap * 2 : 256;
        mbox_doc *p = realloc(docs->v, nc * sizeof *p);
        if (!p) {
            free(clean);
            return plume_fail(err, "message %zu: out of memory", index);
        }
        docs->v = p;
        docs->cap = nc;
    }
    mbox_doc *d = &docs->v[docs->n++];
    *d = (mbox_doc){ one_line(mid), one_line(addr), one_line(g_mime_message_get_subject(msg)), clean, time };
    if (!d->author || !d->title || !d->id) return plume_fail(err, "message %zu: out of memory", index);
    for (char *p = d->author; *p; p++) *p = (char)tolower((unsigned char)*p);
    return 1;
}

plume_mbox_options plume_mbox_defaults(void) {
    plume_mbox_options o = { 3, 15, 20 };
    return o;
}

/* The footer pass: count every body's trailing blocks, then cut the footers and write. */
static int strip_and_write(mbox_docs *docs, const plume_mbox_options *opt, FILE *out, plume_import_stats *st,
                           plume_error *err) {
    email_footers *f = email_footers_new((size_t)opt->footer_senders, (size_t)opt->footer_lines, (size_t)opt->footer_chars);
    if (!f) return plume_fail(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < docs->n; i++)
        if (email_footers_observe(f, docs->v[i].author, docs->v[i].text))
            rc = plume_fail(err, "message %s: out of memory counting footers", docs->v[i].id);
    for (size_t i = 0; rc == 0 && i < docs->n; i++) {
        mbox_doc *d = &docs->v[i];
        st->footers_removed += email_footers_strip(f, d->text);
        if (!*d->text) {
            plume_import_count(st, "empty body once list footers are removed", 0);
            continue;
        }
        plume_corpus_doc c = { d->id, d->author, d->title, d->text, d->time };
        rc = plume_corpus_write(out, &c, st, err);
        if (rc == 0) st->written++;
    }
    st->footer_senders = opt->footer_senders;
    const char *block;
    size_t senders, removed;
    st->footer_blocks = email_footers_cut(f, 0, &block, &senders, &removed);
    for (size_t i = 0; i < st->footer_blocks && i < sizeof st->footers / sizeof st->footers[0]; i++) {
        email_footers_cut(f, i, &block, &senders, &removed);
        /* one line for the report: the block's lines joined by " / ", cut on a character boundary */
        char *b = st->footers[i].block;
        size_t cap = sizeof st->footers[i].block, o = 0;
        for (const char *p = block; *p;) {
            unsigned char c = (unsigned char)*p;
            size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;   /* the block is clean UTF-8 */
            if (*p == '\n') {
                if (o + 3 >= cap) break;
                memcpy(b + o, " / ", 3);
                o += 3;
                p++;
                continue;
            }
            if (o + n >= cap) break;
            memcpy(b + o, p, n);
            o += n;
            p += n;
        }
        b[o] = '\0';
        st->footers[i].senders = senders;
        st->footers[i].removed = removed;
        st->n_footers = i + 1;
    }
    email_footers_free(f);
    return rc;
}

int plume_import_mbox(const char *path, FILE *out, plume_import_stats *st, plume_error *err) {
    plume_mbox_options opt = plume_mbox_defaults();
    return plume_import_mbox_with(path, &opt, out, st, err);
}

int plume_import_mbox_with(const char *path, const plume_mbox_options *opt, FILE *out, plume_import_stats *st,
                           plume_error *err) {
    if (opt->footer_senders < 0 || opt->footer_lines < 1 || opt->footer_lines > 64 || opt->footer_chars < 0)
        return plume_fail(err, "mbox options out of range (hint: footer_senders >= 0, footer_lines 1 to 64, footer_chars >= 0)");
    gmime_once();
    GError *gerr = NULL;
    GMimeStream *stream = g_mime_stream_fs_open(path, O_RDONLY, 0, &gerr);
    if (!stream) {
        plume_fail(err, "%s: cannot open: %s (hint: check the path)", path, gerr ? gerr->message : "unknown error");
        g_clear_error(&gerr);
        return -1;
    }
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
    int rc = 0;
    size_t index = 0;
    mbox_docs docs = { 0 };
    while (rc == 0 && !g_mime_parser_eos(parser)) {
        gint64 before = g_mime_parser_tell(parser);
        GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
        gint64 after = g_mime_parser_tell(parser);
        if (!msg) {
            /* nothing more that parses as a message: count it and stop unless the parser moved on */
            st->read++;
            plume_import_count(st, "not a message (no From_ line or unparseable headers)", 0);
            if (!st->first_error[0])
                snprintf(st->first_error, sizeof st->first_error,
                         "%s: byte %lld: no message could be parsed here (hint: an mbox message starts with a \"From \" line)",
                         path, (long long)before);
            if (after <= before) break;
            continue;
        }
        st->read++;
        if (read_message(msg, index++, &docs, st, err) < 0) rc = -1;
        g_object_unref(msg);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    if (rc == 0) rc = strip_and_write(&docs, opt, out, st, err);
    free_docs(&docs);
    return rc;
}
