/* Documents from JSON Lines: {"id", "title", "text", "time"} per line, as in a request's profile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "engine.h"
#include "plume/read_line.h"

#define DOCS_FILE_MAX ((size_t)1 << 30)

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
    plume_line_reader lines;
    if (plume_line_open(&lines, path, PLUME_LINE_MAX, err)) return -1;
    plume_value tmp = { 0 };
    plume_value_set_docs(&tmp);
    char *line;
    size_t len, total = 0;
    int rc = 0, got;
    while (rc == 0 && (got = plume_line_next(&lines, &line, &len, err)) != 0) {
        if (got < 0) {
            rc = -1;
            break;
        }
        size_t lineno = lines.line_no;
        total += len;
        if (total > DOCS_FILE_MAX) {
            rc = plume_fail(err, "%s:%zu: more than %zu bytes of documents; split the file", path, lineno,
                            DOCS_FILE_MAX);
            break;
        }
        if (plume_line_is_blank(line, len)) continue;
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
    plume_line_close(&lines);
    if (rc) {
        plume_value_clear(&tmp);
        return -1;
    }
    plume_value_clear(docs);
    *docs = tmp;
    return 0;
}
