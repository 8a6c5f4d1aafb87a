/* Documents from JSON Lines: {"id", "title", "text", "time"} per line, as in a request's profile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "engine.h"
#include "plume/read_line.h"

#define DOCS_FILE_MAX ((size_t)1 << 30)
#define DOCS_LINE_MAX ((size_t)PL_LINE_MAX)   /* one document, as a request line */

/* A string field, or a number written as its text (ids are often numbers). */
static int field_text(json_t *o, const char *key, char *buf, size_t size, const char **out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return *out = "", 0;
    if (json_is_string(v)) return *out = json_string_value(v), 0;
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return *out = buf, 0;
    }
    return -1;
}

int plume_docs_read_jsonl(const char *path, plume_value *docs, plume_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return plume_fail(err, "%s: cannot open: %s", path, strerror(errno));
    plume_value tmp = { 0 };
    plume_value_set_docs(&tmp);
    char *line = NULL;
    size_t cap = 0, lineno = 0, total = 0;
    ssize_t len;
    int rc = 0;
    int too_long = 0;
    while (rc == 0 && (len = plume_read_line(f, &line, &cap, DOCS_LINE_MAX, &too_long)) >= 0) {
        lineno++;
        if (too_long) {
            rc = plume_fail(err, "%s:%zu: a line longer than %zu bytes; is this a documents file?", path, lineno,
                            DOCS_LINE_MAX);
            break;
        }
        total += (size_t)len;
        if (total > DOCS_FILE_MAX) {
            rc = plume_fail(err, "%s:%zu: more than %zu bytes of documents; split the file", path, lineno,
                            DOCS_FILE_MAX);
            break;
        }
        size_t k = 0;
        while (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n') k++;
        if (!line[k]) continue;
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o || !json_is_object(o)) {
            rc = o ? plume_fail(err, "%s:%zu: expected a JSON object {\"id\",\"title\",\"text\",\"time\"}", path, lineno)
                   : je.column > 0 ? plume_fail(err, "%s:%zu:%d: malformed JSON: %s", path, lineno, je.column, je.text)
                                   : plume_fail(err, "%s:%zu: malformed JSON: %s", path, lineno, je.text);
            json_decref(o);
            break;
        }
        char idbuf[32], tbuf[32], xbuf[32];
        const char *id, *title, *text;
        json_t *t = json_object_get(o, "time");
        plume_doc d = { 0 };
        if (field_text(o, "id", idbuf, sizeof idbuf, &id) || field_text(o, "title", tbuf, sizeof tbuf, &title) ||
            field_text(o, "text", xbuf, sizeof xbuf, &text) || (t && !json_is_null(t) && !json_is_number(t))) {
            rc = plume_fail(err, "%s:%zu: a document's id, title and text must be strings and its time a number "
                            "(seconds since 1970)", path, lineno);
        } else {
            d.id = (char *)id;
            d.title = (char *)title;
            d.text = (char *)text;
            d.time = t && json_is_number(t) ? json_number_value(t) : 0;
            if (plume_docs_push(&tmp, &d)) rc = plume_fail(err, "out of memory");
        }
        json_decref(o);
    }
    if (rc == 0 && len == -2) rc = plume_fail(err, "%s:%zu: out of memory", path, lineno + 1);
    if (rc == 0 && ferror(f)) rc = plume_fail(err, "%s: read error: %s", path, strerror(errno));
    free(line);
    fclose(f);
    if (rc) {
        plume_value_clear(&tmp);
        return -1;
    }
    plume_value_clear(docs);
    *docs = tmp;
    return 0;
}
