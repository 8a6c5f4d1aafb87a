/* Stack Exchange data dump (Posts.xml) → corpus, with libxml2's streaming reader.
 *
 * Two passes over the file: the first collects question titles (an answer takes its question's
 * title, and nothing promises a question comes before its answers), the second writes the
 * questions and answers. Bodies are HTML: plume_html_to_text() turns them into plain text.
 *
 * Hostile files: entities are never expanded (a document type that declares any is refused
 * before the rows are read, see refuse_entity_declarations), no DTD is loaded, nothing is read
 * from the network, and libxml2 keeps its default limits (no XML_PARSE_HUGE: nesting deeper
 * than 256 elements, or a text or attribute over 10 MB, is malformed XML). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include "corpus_internal.h"
#include "plume/text.h"

typedef struct title_entry { long id; char *title; } title_entry;
typedef struct titles { title_entry *items; size_t count, cap; } titles;

/* Every pass's context starts with this, so stream_rows() knows whether to count bad rows
 * (only the second pass does, so a bad row is counted once). */
typedef struct pass_head { int count_bad; } pass_head;

typedef struct reader_ctx {
    const char *path;
    plume_import_stats *st;
    size_t n_errors;
} reader_ctx;

static void on_xml_error(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr loc) {
    reader_ctx *c = arg;
    if (severity != XML_PARSER_SEVERITY_ERROR && severity != XML_PARSER_SEVERITY_VALIDITY_ERROR) return;
    c->n_errors++;
    if (!c->st->first_error[0]) {
        char m[300];
        snprintf(m, sizeof m, "%s", msg ? msg : "malformed XML");
        size_t n = strlen(m);
        while (n && (m[n - 1] == '\n' || m[n - 1] == ' ')) m[--n] = '\0';
        snprintf(c->st->first_error, sizeof c->st->first_error, "%s:%d: %s (hint: is the file a complete Posts.xml?)",
                 c->path, xmlTextReaderLocatorLineNumber(loc), m);
    }
}

/* No XML_PARSE_NOENT (entities stay references), no XML_PARSE_DTDLOAD or DTDATTR (no external
 * DTD is read), XML_PARSE_NONET, and no XML_PARSE_HUGE (libxml2's size and depth limits hold). */
#define SE_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_COMPACT)

/* ---- the prolog: a document type that declares entities is refused ---- */

typedef struct prolog_check {
    int stop;            /* the root element was met, or an entity declaration */
    int entity_line;     /* where the first entity declaration ends; 0: none */
    char entity[64];     /* its name */
} prolog_check;

static void prolog_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id, const xmlChar *system_id,
                          xmlChar *content) {
    (void)type; (void)public_id; (void)system_id; (void)content;
    xmlParserCtxtPtr ctxt = ctx;
    prolog_check *pc = ctxt->_private;
    if (!pc->entity_line) {
        pc->entity_line = ctxt->input ? ctxt->input->line : 1;
        snprintf(pc->entity, sizeof pc->entity, "%s", name ? (const char *)name : "?");
    }
    pc->stop = 1;
    xmlStopParser(ctxt);
}

static void prolog_root(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                        int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                        const xmlChar **attributes) {
    (void)localname; (void)prefix; (void)uri; (void)nb_namespaces; (void)namespaces; (void)nb_attributes;
    (void)nb_defaulted; (void)attributes;
    xmlParserCtxtPtr ctxt = ctx;
    ((prolog_check *)ctxt->_private)->stop = 1;
    xmlStopParser(ctxt);
}

static void prolog_quiet(void *ctx, xmlErrorPtr e) { (void)ctx; (void)e; }

/* Reads the file up to its root element with a SAX handler that only listens for entity
 * declarations, and refuses the file when there is one: that is how the "billion laughs" file
 * (entities defined by ten of the one before) and external entities (SYSTEM "file:///...")
 * begin, and Stack Exchange dumps never declare any. The parser stops at the first declaration,
 * before any reference to it, so nothing is expanded. 0, or -1 with err naming the file and line. */
static int refuse_entity_declarations(const char *path, plume_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return plume_fail(err, "%s: cannot open or read it as XML (hint: check the path)", path);
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.entityDecl = prolog_entity;
    sax.startElementNs = prolog_root;
    sax.serror = prolog_quiet;   /* malformed XML is the reader's to report, row by row */
    prolog_check pc = { 0 };
    char chunk[4096];
    size_t n = fread(chunk, 1, sizeof chunk, f);
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, NULL, chunk, (int)n, path);
    if (!ctxt) {
        fclose(f);
        return plume_fail(err, "%s: out of memory starting the XML parser", path);
    }
    ctxt->_private = &pc;
    xmlCtxtUseOptions(ctxt, SE_XML_OPTIONS | XML_PARSE_RECOVER);   /* as the reader: it must see what the reader sees */
    int rc = n ? xmlParseChunk(ctxt, NULL, 0, 0) : 0;
    while (!pc.stop && rc == XML_ERR_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = xmlParseChunk(ctxt, chunk, (int)n, 0);
    if (!pc.stop && rc == XML_ERR_OK) xmlParseChunk(ctxt, NULL, 0, 1);
    /* in SAX mode libxml2 still records each entity in a document of its own ("expat
     * compatibility"), which the context does not free */
    if (ctxt->myDoc) xmlFreeDoc(ctxt->myDoc);
    ctxt->myDoc = NULL;
    xmlFreeParserCtxt(ctxt);
    fclose(f);
    if (pc.entity_line)
        return plume_fail(err, "%s:%d: the document type declares entities (<!ENTITY %s ...>): refused, as entity "
                               "expansion can make a small file enormous or read other files (hint: a Stack Exchange "
                               "dump's Posts.xml declares none)",
                          path, pc.entity_line, pc.entity);
    return 0;
}

static xmlTextReaderPtr open_reader(const char *path, reader_ctx *ctx, plume_error *err) {
    xmlTextReaderPtr r = xmlReaderForFile(path, NULL, SE_XML_OPTIONS | XML_PARSE_RECOVER);
    if (!r) {
        plume_fail(err, "%s: cannot open or read it as XML (hint: check the path)", path);
        return NULL;
    }
    xmlTextReaderSetErrorHandler(r, on_xml_error, ctx);
    return r;
}

static char *attr(xmlTextReaderPtr r, const char *name) {
    return (char *)xmlTextReaderGetAttribute(r, (const xmlChar *)name);
}

static int parse_long(const char *s, long *v) {
    if (!s || !*s) return -1;
    char *end;
    *v = strtol(s, &end, 10);
    return *end ? -1 : 0;
}

static int cmp_title(const void *a, const void *b) {
    long x = ((const title_entry *)a)->id, y = ((const title_entry *)b)->id;
    return (x > y) - (x < y);
}

/* A title as one clean line: XML entities are already decoded by the reader. */
static char *clean_title(const char *t) {
    size_t n;
    char *c = plume_utf8_clean(t, strlen(t), &n, NULL);
    if (!c) return NULL;
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (ch == ' ' || ch == '\n' || ch == '\t') {
            space = o > 0;
            continue;
        }
        if (space) c[o++] = ' ';
        space = 0;
        c[o++] = ch;
    }
    c[o] = '\0';
    return c;
}

/* Calls fn on every <row> element of the file. The streaming reader is tried first; when the file
 * is not well-formed (libxml2 stops at the first such error, and may not have delivered the rows
 * before it), every line holding "<row" is parsed by itself instead, as Stack Exchange dumps have
 * one row per line, so one bad row costs one row. Returns 0, 1 when the line-by-line mode was
 * needed, or -1 (err set) when fn failed or the file cannot be read. */
typedef int (*row_fn)(xmlTextReaderPtr r, void *ctx, plume_error *err);

static void on_xml_error_quiet(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr loc) {
    reader_ctx *c = arg;
    if (severity == XML_PARSER_SEVERITY_ERROR || severity == XML_PARSER_SEVERITY_VALIDITY_ERROR) c->n_errors++;
}

/* Where "<row" starts in s[0..n), or NULL (memmem is a GNU extension). */
static const char *find_row(const char *s, size_t n) {
    for (size_t i = 0; i + 4 <= n; i++)
        if (s[i] == '<' && !memcmp(s + i, "<row", 4)) return s + i;
    return NULL;
}

static int stream_rows(const char *path, int line_mode, row_fn fn, void *ctx, plume_import_stats *st, plume_error *err) {
    reader_ctx rc_ctx = { path, st, 0 };
    if (!line_mode) {
        xmlTextReaderPtr r = open_reader(path, &rc_ctx, err);
        if (!r) return -1;
        int more, rc = 0;
        while (rc == 0 && (more = xmlTextReaderRead(r)) == 1) {
            if (xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT &&
                !xmlStrcmp(xmlTextReaderConstName(r), (const xmlChar *)"row"))
                rc = fn(r, ctx, err);
        }
        xmlFreeTextReader(r);
        if (rc) return -1;
        return more < 0 || rc_ctx.n_errors ? 1 : 0;
    }
    size_t len;
    char *buf = corpus_read_file(path, CORPUS_MAX_FILE, &len, err);
    if (!buf) return -1;
    int rc = 0;
    size_t lineno = 0;
    for (size_t i = 0; rc == 0 && i < len;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) : len;
        lineno++;
        const char *row = find_row(buf + i, e - i);
        if (row) {
            size_t n = e - (size_t)(row - buf);
            rc_ctx.n_errors = 0;
            xmlTextReaderPtr r = xmlReaderForMemory(row, (int)(n < INT_MAX ? n : INT_MAX), NULL, "UTF-8",
                                                    SE_XML_OPTIONS);
            int found = 0;
            if (r) {
                xmlTextReaderSetErrorHandler(r, on_xml_error_quiet, &rc_ctx);
                int more;
                while ((more = xmlTextReaderRead(r)) == 1)
                    if (xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT &&
                        !xmlStrcmp(xmlTextReaderConstName(r), (const xmlChar *)"row")) {
                        found = 1;
                        break;
                    }
                if (found && rc_ctx.n_errors == 0) rc = fn(r, ctx, err);
                else found = 0;
                xmlFreeTextReader(r);
            }
            if (!found && ((pass_head *)ctx)->count_bad) {
                st->read++;
                plume_import_count(st, "malformed XML row", 0);
                if (!st->first_error[0])
                    snprintf(st->first_error, sizeof st->first_error,
                             "%s:%zu: a <row> that is not well-formed XML (hint: a quote or a '>' is missing)", path, lineno);
            }
        }
        i = e + 1;
    }
    free(buf);
    return rc ? -1 : 1;
}

/* Pass 1: question id → title. */
typedef struct pass1 { pass_head head; titles *t; } pass1;

static int collect_row(xmlTextReaderPtr r, void *ctx, plume_error *err) {
    titles *t = ((pass1 *)ctx)->t;
    char *type = attr(r, "PostTypeId"), *id = attr(r, "Id"), *title = attr(r, "Title");
    long tid, qid;
    int rc = 0;
    if (!parse_long(type, &tid) && tid == 1 && !parse_long(id, &qid) && title) {
        if (t->count == t->cap) {
            size_t ncap = t->cap ? t->cap * 2 : 256;
            title_entry *p = realloc(t->items, ncap * sizeof *p);
            if (!p) rc = -1;
            else {
                t->items = p;
                t->cap = ncap;
            }
        }
        char *ct = rc ? NULL : clean_title(title);
        if (!ct) rc = plume_fail(err, "out of memory collecting question titles");
        else t->items[t->count++] = (title_entry){ qid, ct };
    }
    xmlFree(type);
    xmlFree(id);
    xmlFree(title);
    return rc;
}

static const char *find_title(const titles *t, long id) {
    title_entry key = { id, NULL };
    title_entry *e = t->count ? bsearch(&key, t->items, t->count, sizeof key, cmp_title) : NULL;
    return e ? e->title : NULL;
}

/* Pass 2: one row: 1 written, 0 skipped, -1 a write error. */
static int import_row(xmlTextReaderPtr r, const titles *t, FILE *out, plume_import_stats *st, plume_error *err) {
    char *id = attr(r, "Id"), *type = attr(r, "PostTypeId"), *parent = attr(r, "ParentId"),
         *date = attr(r, "CreationDate"), *body = attr(r, "Body"), *user = attr(r, "OwnerUserId"),
         *name = attr(r, "OwnerDisplayName"), *title = attr(r, "Title");
    char *text = NULL, *author = NULL, *ctitle = NULL;
    long tid = 0, pid;
    double time;
    int rc = 0;
    st->read++;
    if (parse_long(type, &tid) || (tid != 1 && tid != 2)) {
        plume_import_count(st, "not a question or an answer (tag wiki, nomination, ...)", 0);
        goto done;
    }
    if (!id || !*id) {
        plume_import_count(st, "no Id attribute", 0);
        goto done;
    }
    if (user && !strcmp(user, "-1")) {
        plume_import_count(st, "written by the Community bot (OwnerUserId -1)", 0);
        goto done;
    }
    if ((!user || !*user) && (!name || !*name)) {
        plume_import_count(st, "no author (neither OwnerUserId nor OwnerDisplayName)", 0);
        goto done;
    }
    if (!date || plume_parse_iso8601(date, &time)) {
        plume_import_count(st, "missing or malformed CreationDate", 0);
        goto done;
    }
    int too_deep;
    text = plume_html_body_to_text(body ? body : "", body ? strlen(body) : 0, &too_deep);
    if (!text) {
        rc = plume_fail(err, "post %s: out of memory converting its body", id);
        goto done;
    }
    if (too_deep) {
        plume_import_count(st, "HTML body nested deeper than 256 elements", 0);
        goto done;
    }
    if (!*text) {
        plume_import_count(st, "empty body", 0);
        goto done;
    }
    if (tid == 1) {
        ctitle = clean_title(title ? title : "");
    } else {
        const char *qt = parse_long(parent, &pid) ? NULL : find_title(t, pid);
        if (!qt) plume_import_count(st, "answer whose question is not in the file (written without a title)", 1);
        ctitle = strdup(qt ? qt : "");
    }
    if (user && *user) author = strdup(user);
    else if ((author = malloc(strlen(name) + 6))) sprintf(author, "name:%s", name);
    char *cauthor = author ? clean_title(author) : NULL;
    if (!ctitle || !cauthor) {
        free(cauthor);
        rc = plume_fail(err, "post %s: out of memory", id);
        goto done;
    }
    plume_corpus_doc d = { id, cauthor, ctitle, text, time };
    rc = plume_corpus_write(out, &d, st, err);
    free(cauthor);
    if (rc == 0) {
        st->written++;
        rc = 1;
    }
done:
    xmlFree(id); xmlFree(type); xmlFree(parent); xmlFree(date); xmlFree(body); xmlFree(user); xmlFree(name); xmlFree(title);
    free(text);
    free(author);
    free(ctitle);
    return rc;
}

typedef struct pass2 { pass_head head; const titles *t; FILE *out; plume_import_stats *st; } pass2;

static int import_row_cb(xmlTextReaderPtr r, void *ctx, plume_error *err) {
    pass2 *p = ctx;
    return import_row(r, p->t, p->out, p->st, err) < 0 ? -1 : 0;
}

int plume_import_stackexchange(const char *path, FILE *out, plume_import_stats *st, plume_error *err) {
    titles t = { 0 };
    pass1 p1 = { { 0 }, &t };
    plume_import_stats scratch = { 0 };
    if (refuse_entity_declarations(path, err)) return -1;
    /* pass 1 tells whether the file is well-formed; if not, both passes go line by line */
    int mode = stream_rows(path, 0, collect_row, &p1, &scratch, err);
    if (mode == 1) {
        for (size_t i = 0; i < t.count; i++) free(t.items[i].title);
        t.count = 0;
        mode = stream_rows(path, 1, collect_row, &p1, &scratch, err);
        if (mode >= 0) {
            plume_import_count(st, "file not well-formed XML: read row by row", 1);
            mode = 1;
        }
    }
    int rc = mode < 0 ? -1 : 0;
    if (rc == 0) {
        if (t.count) qsort(t.items, t.count, sizeof *t.items, cmp_title);
        pass2 p2 = { { 1 }, &t, out, st };
        if (stream_rows(path, mode, import_row_cb, &p2, st, err) < 0) rc = -1;
        if (rc == 0 && st->read == 0 && !st->first_error[0])
            snprintf(st->first_error, sizeof st->first_error,
                     "%s: no <row> elements (hint: the importer reads a Stack Exchange dump's Posts.xml)", path);
    }
    for (size_t i = 0; i < t.count; i++) free(t.items[i].title);
    free(t.items);
    return rc;
}
