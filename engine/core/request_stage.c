/* The request stage: one request line → the record's slots id, user, context, profile, target.
 *
 * The engine owns the request/result boundary: it reads the request lines (run.c, through the
 * capped line reader), turns each into slots with this stage, and writes the result lines
 * (run.c, run_writer.c). The stage is compiled into libplume, not loaded from a module, so no
 * module path or plugin can take it away or replace it; it runs first in every graph, as the
 * node "request". It is listed by `plume modules` like any stage, so its ports are documented
 * where every other stage's are. A line that is not a request fails its record alone, with the
 * file:line it came from. */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "engine.h"
#include "plume/stage.h"

enum { OUT_ID, OUT_USER, OUT_CONTEXT, OUT_PROFILE, OUT_TARGET };

static const plume_port outputs[] = {
    { "id", PLUME_TEXT, "the request's id, copied to its result line", 0 },
    { "user", PLUME_TEXT, "who writes (\"\" when not given)", 0 },
    { "context", PLUME_TEXT, "the immediate context: the start of the document to write", 0 },
    { "profile", PLUME_DOCS, "the user's earlier documents", 0 },
    { "target", PLUME_TEXT, "the real document, in evaluation data (\"\" when not given)", 0 },
    { 0 }
};

/* A string, or a number written as text (ids are often numbers); NULL for anything else. */
static const char *as_text(json_t *v, char *buf, size_t size) {
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

static int set_text(plume_value *v, const char *s) {
    return plume_value_set_text(v, s, strlen(s));
}

/* Fills the record's slots; returns NULL or the problem (written into msg). */
static const char *parse(plume_batch *b, size_t r, json_t *o, char *msg, size_t size) {
    char buf[32];
    json_t *id = json_object_get(o, "id");
    const char *s = id ? as_text(id, buf, sizeof buf) : NULL;
    if (!s || !*s) return "the request has no \"id\" (a string)";
    if (set_text(plume_batch_out(b, r, OUT_ID), s)) return "out of memory";
    static const struct { const char *key; int port; int required; } texts[] = {
        { "user", OUT_USER, 0 }, { "context", OUT_CONTEXT, 1 }, { "target", OUT_TARGET, 0 } };
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(o, texts[i].key);
        if (!v || json_is_null(v)) {
            if (texts[i].required) return snprintf(msg, size, "the request has no \"%s\"", texts[i].key), msg;
            s = "";
        } else if (!(s = as_text(v, buf, sizeof buf))) {
            return snprintf(msg, size, "\"%s\" must be a string", texts[i].key), msg;
        }
        if (set_text(plume_batch_out(b, r, texts[i].port), s)) return "out of memory";
    }
    plume_value *profile = plume_batch_out(b, r, OUT_PROFILE);
    plume_value_set_docs(profile);
    json_t *docs = json_object_get(o, "profile");
    if (!docs || json_is_null(docs)) return NULL;
    if (!json_is_array(docs)) return "\"profile\" must be a list of documents";
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d) {
        char ib[32], tb[32], xb[32];
        json_t *t = json_object_get(d, "time");
        plume_doc doc = { 0 };
        const char *did = json_is_object(d) ? as_text(json_object_get(d, "id"), ib, sizeof ib) : NULL;
        json_t *title = json_object_get(d, "title"), *text = json_object_get(d, "text");
        doc.title = (char *)(title && !json_is_null(title) ? as_text(title, tb, sizeof tb) : "");
        doc.text = (char *)(text && !json_is_null(text) ? as_text(text, xb, sizeof xb) : "");
        if (!did || !doc.title || !doc.text)
            return snprintf(msg, size, "profile[%zu] must be {\"id\": string, \"title\": string, \"text\": string, "
                            "\"time\": number}", i), msg;
        if (t && !json_is_null(t) && !json_is_number(t))
            return snprintf(msg, size, "profile[%zu].time must be a number (seconds since 1970)", i), msg;
        doc.id = (char *)did;
        doc.time = t && json_is_number(t) ? json_number_value(t) : 0;
        if (plume_docs_push(profile, &doc)) return "out of memory";
    }
    return NULL;
}

static int request_run(void *state, plume_batch *b, plume_error *err) {
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const char *origin = NULL;
        const char *line = plume_batch_request(b, r, &origin);
        json_error_t je;
        json_t *o = line ? json_loads(line, JSON_REJECT_DUPLICATES, &je) : NULL;
        if (!o) {
            if (je.column > 0) plume_batch_fail(b, r, "%s:%d: malformed request: %s", origin, je.column, je.text);
            else plume_batch_fail(b, r, "%s: malformed request: %s", origin, je.text);
            continue;
        }
        char msg[256];
        const char *problem = json_is_object(o) ? parse(b, r, o, msg, sizeof msg)
                                                : "a request must be a JSON object {\"id\", \"context\", ...}";
        if (problem) plume_batch_fail(b, r, "%s: %s", origin, problem);
        json_decref(o);
    }
    return 0;
}

const plume_stage pl_request_stage = {
    .name = "io.request",
    .doc = "Reads one request (a JSON object {\"id\", \"user\", \"context\", \"profile\": [{\"id\", \"title\", "
           "\"text\", \"time\"}], \"target\"}) into the record's slots. Built into the engine, which reads the "
           "request lines and writes the result lines; it runs first in every graph, as the stage named 'request'. "
           "A malformed request fails that record alone.",
    .inputs = NULL,
    .outputs = outputs,
    .params = NULL,
    .run = request_run,
};
