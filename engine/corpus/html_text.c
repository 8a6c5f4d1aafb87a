/* HTML to plain text with libxml2's HTML parser (it decodes entities and mends broken markup).
 *
 * The walk keeps the text a reader sees: block elements end paragraphs (a blank line), <br> ends a
 * line, <li> starts "- ", <pre> (code blocks) is copied verbatim, and elsewhere runs of white
 * space become one space, as a browser shows them. <script> and <style> are dropped. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include "plume/corpus.h"
#include "plume/text.h"

typedef struct out_buf {
    char *s;
    size_t len, cap;
    int oom;
    int pending_space;   /* a collapsed white-space run waits to be written before the next word */
} out_buf;

static void put(out_buf *o, const char *s, size_t n) {
    if (o->oom || n == 0) return;
    if (n + 1 > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : 256;
        while (n + 1 > cap - o->len) cap *= 2;
        char *p = realloc(o->s, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->s = p;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

/* Ends the current line or paragraph: at most `n` newlines in a row, none at the start. */
static void breaks(out_buf *o, int n) {
    o->pending_space = 0;
    while (o->len > 0 && o->s[o->len - 1] == ' ') o->len--;   /* no trailing spaces on a line */
    if (o->len == 0) return;
    int have = 0;
    while (have < (int)o->len && o->s[o->len - 1 - have] == '\n') have++;
    for (; have < n; have++) put(o, "\n", 1);
}

static void inline_text(out_buf *o, const char *t) {
    for (const char *p = t; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            o->pending_space = 1;
            continue;
        }
        if (o->pending_space && o->len > 0 && o->s[o->len - 1] != '\n') put(o, " ", 1);
        o->pending_space = 0;
        put(o, &c, 1);
    }
}

static int is_named(const xmlNode *n, const char *const *names) {
    for (; *names; names++)
        if (!xmlStrcasecmp(n->name, (const xmlChar *)*names)) return 1;
    return 0;
}

static const char *const block_tags[] = { "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol",
                                          "table", "tr", "hr", "dl", "dt", "dd", "section", "article", "header",
                                          "footer", "form", "body", "html", NULL };
static const char *const skip_tags[] = { "script", "style", "head", "title", NULL };

static void walk(out_buf *o, const xmlNode *n);

static void pre_text(out_buf *o, const xmlNode *n) {
    for (const xmlNode *c = n; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content) put(o, (const char *)c->content, strlen((const char *)c->content));
        } else if (c->type == XML_ELEMENT_NODE && !xmlStrcasecmp(c->name, (const xmlChar *)"br")) {
            put(o, "\n", 1);
        } else if (c->children) {
            pre_text(o, c->children);
        }
    }
}

static void element(out_buf *o, const xmlNode *n) {
    if (is_named(n, skip_tags)) return;
    if (!xmlStrcasecmp(n->name, (const xmlChar *)"br")) {
        o->pending_space = 0;
        while (o->len > 0 && o->s[o->len - 1] == ' ') o->len--;
        put(o, "\n", 1);
        return;
    }
    if (!xmlStrcasecmp(n->name, (const xmlChar *)"pre")) {
        breaks(o, 2);
        pre_text(o, n->children);
        while (o->len > 0 && o->s[o->len - 1] == '\n') o->len--;   /* the code's own last newline */
        breaks(o, 2);
        return;
    }
    if (!xmlStrcasecmp(n->name, (const xmlChar *)"li")) {
        breaks(o, 1);
        put(o, "- ", 2);
        walk(o, n->children);
        breaks(o, 1);
        return;
    }
    if (!xmlStrcasecmp(n->name, (const xmlChar *)"td") || !xmlStrcasecmp(n->name, (const xmlChar *)"th")) {
        o->pending_space = 1;
        walk(o, n->children);
        o->pending_space = 1;
        return;
    }
    int block = is_named(n, block_tags);
    if (block) breaks(o, 2);
    walk(o, n->children);
    if (block) breaks(o, 2);
}

static void walk(out_buf *o, const xmlNode *n) {
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content) inline_text(o, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE) {
            element(o, n);
        }
    }
}

/* libxml2's HTML parser stops at its depth limit (256 open elements without HTML_PARSE_HUGE,
 * which is not used); the tree it leaves, and so the recursion of walk(), is no deeper. */
char *plume_html_body_to_text(const char *html, size_t len, int *too_deep) {
    out_buf o = { 0 };
    *too_deep = 0;
    if (len > 0 && len < (size_t)INT_MAX) {
        htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
        if (!ctxt) return NULL;
        /* no HTML_PARSE_HUGE; HTML has no entity declarations to expand, only its named characters */
        htmlDocPtr doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8",
                                            HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                                HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED);
        *too_deep = ctxt->errNo == XML_ERR_INTERNAL_ERROR;   /* "Excessive depth in document" */
        htmlFreeParserCtxt(ctxt);
        if (doc) {
            walk(&o, doc->children);
            xmlFreeDoc(doc);
        }
    }
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    if (!o.s) return strdup("");
    /* trim, and make sure the result is clean UTF-8 whatever the markup held */
    size_t a = 0, b = o.len;
    while (a < b && (o.s[a] == ' ' || o.s[a] == '\n')) a++;
    while (b > a && (o.s[b - 1] == ' ' || o.s[b - 1] == '\n')) b--;
    char *clean = plume_utf8_clean(o.s + a, b - a, NULL, NULL);
    free(o.s);
    return clean;
}

char *plume_html_to_text(const char *html, size_t len) {
    int too_deep;
    return plume_html_body_to_text(html, len, &too_deep);
}
