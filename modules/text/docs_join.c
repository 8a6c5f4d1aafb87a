/* docs.join: the texts of a document list as one text, cut to a budget — the paper joins
 * the ranked entries and cuts them to 2,500 characters before they go into the prompt. */
#include <stdlib.h>
#include <string.h>
#include "plume/stage.h"
#include "plume/text.h"

typedef struct docs_join {
    const char *sep;
    size_t sep_len;
    long long max_chars;
    int with_title;
} docs_join;

static const plume_port inputs[] = {
    { "docs", PLUME_DOCS, "documents, in the order to join them", 0 },
    { 0 }
};

static const plume_port outputs[] = {
    { "text", PLUME_TEXT, "their texts joined by sep, at most max_chars characters", 0 },
    { 0 }
};

static const plume_param params[] = {
    { "sep", PLUME_STRING, "\n", "put between two documents", PLUME_NO_RANGE },
    { "max_chars", PLUME_INT, "0", "keep at most this many characters (code points); 0: no limit",
      PLUME_AT_LEAST(0) },
    { "with_title", PLUME_BOOL, "false", "start each document with its title and \": \" (when it has one)",
      PLUME_NO_RANGE },
    { 0 }
};

static int docs_join_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    docs_join *s = state;
    s->sep = plume_args_string(args, "sep");
    s->sep_len = strlen(s->sep);
    s->max_chars = plume_args_int(args, "max_chars");
    s->with_title = plume_args_bool(args, "with_title");
    return 0;
}

static int docs_join_run(void *state, plume_batch *b, plume_error *err) {
    const docs_join *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const plume_value *in = plume_batch_in(b, r, 0);
        size_t total = 1;
        for (size_t i = 0; i < in->as.docs.count; i++) {
            const plume_doc *d = &in->as.docs.items[i];
            total += strlen(d->title) + 2 + strlen(d->text) + s->sep_len;
        }
        char *buf = malloc(total);
        if (!buf) {
            plume_batch_fail(b, r, "out of memory joining %zu documents", in->as.docs.count);
            continue;
        }
        size_t len = 0;
        for (size_t i = 0; i < in->as.docs.count; i++) {
            const plume_doc *d = &in->as.docs.items[i];
            if (i) memcpy(buf + len, s->sep, s->sep_len), len += s->sep_len;
            if (s->with_title && *d->title) {
                size_t tl = strlen(d->title);
                memcpy(buf + len, d->title, tl);
                memcpy(buf + len + tl, ": ", 2);
                len += tl + 2;
            }
            size_t xl = strlen(d->text);
            memcpy(buf + len, d->text, xl);
            len += xl;
        }
        if (s->max_chars > 0) len = plume_utf8_prefix(buf, len, (size_t)s->max_chars);
        if (plume_value_set_text(plume_batch_out(b, r, 0), buf, len)) plume_batch_fail(b, r, "out of memory");
        free(buf);
    }
    return 0;
}

const plume_stage docs_join_stage = {
    .name = "docs.join",
    .doc = "Joins the texts of a document list into one text, in list order, and cuts it to max_chars "
           "characters on a UTF-8 boundary (the paper cuts the ranked entries to 2,500).",
    .inputs = inputs,
    .outputs = outputs,
    .params = params,
    .state_size = sizeof(docs_join),
    .create = docs_join_create,
    .run = docs_join_run,
};
