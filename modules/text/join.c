/* text.join: two to four text slots, joined with a separator (e.g. a prompt from its parts). */
#include <stdlib.h>
#include <string.h>
#include "plume/stage.h"

typedef struct join {
    const char *sep;
    size_t sep_len;
    int skip_empty;
} join;

static const plume_port inputs[] = {
    { "a", PLUME_TEXT, "first piece", 0 },
    { "b", PLUME_TEXT, "second piece", 0 },
    { "c", PLUME_TEXT, "third piece", PLUME_PORT_OPTIONAL },
    { "d", PLUME_TEXT, "fourth piece", PLUME_PORT_OPTIONAL },
    { 0 }
};

static const plume_port outputs[] = {
    { "text", PLUME_TEXT, "the pieces in order a, b, c, d, separated by sep", 0 },
    { 0 }
};

static const plume_param params[] = {
    { "sep", PLUME_STRING, "\n", "put between two pieces", PLUME_NO_RANGE },
    { "skip_empty", PLUME_BOOL, "true", "leave out empty pieces (and their separator)", PLUME_NO_RANGE },
    { 0 }
};

static int join_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    join *s = state;
    s->sep = plume_args_string(args, "sep");
    s->sep_len = strlen(s->sep);
    s->skip_empty = plume_args_bool(args, "skip_empty");
    return 0;
}

static int join_run(void *state, plume_batch *b, plume_error *err) {
    const join *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        size_t total = 0;
        for (size_t p = 0; p < 4; p++) {
            const plume_value *v = plume_batch_in(b, r, p);
            if (v->type == PLUME_TEXT) total += v->as.text.len + s->sep_len;
        }
        char *buf = malloc(total + 1);
        if (!buf) {
            plume_batch_fail(b, r, "out of memory joining %zu bytes", total);
            continue;
        }
        size_t len = 0;
        int first = 1;
        for (size_t p = 0; p < 4; p++) {
            const plume_value *v = plume_batch_in(b, r, p);
            if (v->type != PLUME_TEXT) continue;  /* an unwired optional piece */
            if (s->skip_empty && v->as.text.len == 0) continue;
            if (!first) memcpy(buf + len, s->sep, s->sep_len), len += s->sep_len;
            memcpy(buf + len, v->as.text.str, v->as.text.len);
            len += v->as.text.len;
            first = 0;
        }
        if (plume_value_set_text(plume_batch_out(b, r, 0), buf, len)) plume_batch_fail(b, r, "out of memory");
        free(buf);
    }
    return 0;
}

const plume_stage text_join = {
    .name = "text.join",
    .doc = "Joins two to four text slots into one, in port order, with a separator between them.",
    .inputs = inputs,
    .outputs = outputs,
    .params = params,
    .state_size = sizeof(join),
    .create = join_create,
    .run = join_run,
};
