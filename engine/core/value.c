/* Slot values: the four types stages exchange, each owning its memory. */
#include <stdlib.h>
#include <string.h>
#include "plume/value.h"
#include "engine.h"

const char *plume_type_name(plume_type type) {
    switch (type) {
    case PLUME_NONE:   return "none";
    case PLUME_TEXT:   return "text";
    case PLUME_DOCS:   return "docs";
    case PLUME_TERMS:  return "terms";
    case PLUME_NUMBER: return "number";
    case PLUME_INT:    return "int";
    case PLUME_FLOAT:  return "float";
    case PLUME_BOOL:   return "bool";
    case PLUME_STRING: return "string";
    case PLUME_MODEL:  return "model";
    }
    return "?";
}

static char *dup_or_empty(const char *s) {
    return strdup(s ? s : "");
}

static void doc_free(plume_doc *d) {
    free(d->id);
    free(d->title);
    free(d->text);
}

void plume_value_clear(plume_value *v) {
    switch (v->type) {
    case PLUME_TEXT:
        free(v->as.text.str);
        break;
    case PLUME_DOCS:
        for (size_t i = 0; i < v->as.docs.count; i++) doc_free(&v->as.docs.items[i]);
        free(v->as.docs.items);
        break;
    case PLUME_TERMS:
        for (size_t i = 0; i < v->as.terms.count; i++) free(v->as.terms.items[i].word);
        free(v->as.terms.items);
        break;
    default:
        break;
    }
    memset(v, 0, sizeof *v);
}

int plume_value_set_text(plume_value *v, const char *s, size_t len) {
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    if (len) memcpy(copy, s, len);
    copy[len] = '\0';
    plume_value_clear(v);
    v->type = PLUME_TEXT;
    v->as.text.str = copy;
    v->as.text.len = len;
    return 0;
}

int plume_value_set_number(plume_value *v, double x) {
    plume_value_clear(v);
    v->type = PLUME_NUMBER;
    v->as.number = x;
    return 0;
}

int plume_value_set_docs(plume_value *v) {
    plume_value_clear(v);
    v->type = PLUME_DOCS;
    return 0;
}

int plume_value_set_terms(plume_value *v) {
    plume_value_clear(v);
    v->type = PLUME_TERMS;
    return 0;
}

int plume_docs_push(plume_value *v, const plume_doc *doc) {
    if (v->type != PLUME_DOCS) plume_value_set_docs(v);
    if (pl_grow((void **)&v->as.docs.items, v->as.docs.count, &v->as.docs.cap, sizeof(plume_doc))) return -1;
    plume_doc d = { dup_or_empty(doc->id), dup_or_empty(doc->title), dup_or_empty(doc->text), doc->time, doc->score };
    if (!d.id || !d.title || !d.text) {
        doc_free(&d);
        return -1;
    }
    v->as.docs.items[v->as.docs.count++] = d;
    return 0;
}

int plume_terms_push(plume_value *v, const char *word, double weight) {
    if (v->type != PLUME_TERMS) plume_value_set_terms(v);
    if (pl_grow((void **)&v->as.terms.items, v->as.terms.count, &v->as.terms.cap, sizeof(plume_term))) return -1;
    char *w = dup_or_empty(word);
    if (!w) return -1;
    v->as.terms.items[v->as.terms.count++] = (plume_term){ w, weight };
    return 0;
}

int plume_value_copy(plume_value *dst, const plume_value *src) {
    plume_value tmp = { 0 };
    int rc = 0;
    switch (src->type) {
    case PLUME_TEXT:
        rc = plume_value_set_text(&tmp, src->as.text.str, src->as.text.len);
        break;
    case PLUME_NUMBER:
        rc = plume_value_set_number(&tmp, src->as.number);
        break;
    case PLUME_DOCS:
        plume_value_set_docs(&tmp);
        for (size_t i = 0; i < src->as.docs.count && rc == 0; i++) rc = plume_docs_push(&tmp, &src->as.docs.items[i]);
        break;
    case PLUME_TERMS:
        plume_value_set_terms(&tmp);
        for (size_t i = 0; i < src->as.terms.count && rc == 0; i++)
            rc = plume_terms_push(&tmp, src->as.terms.items[i].word, src->as.terms.items[i].weight);
        break;
    default:
        break;
    }
    if (rc) {
        plume_value_clear(&tmp);
        return -1;
    }
    plume_value_clear(dst);
    *dst = tmp;
    return 0;
}
