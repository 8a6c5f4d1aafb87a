/* docs.take: the first N documents of a list (after a ranking stage: the top N). */
#include "plume/stage.h"

typedef struct take {
    long long n;
} take;

static const plume_port inputs[] = {
    { "docs", PLUME_DOCS, "documents, in the order to keep", 0 },
    { 0 }
};

static const plume_port outputs[] = {
    { "docs", PLUME_DOCS, "the first n of them (all when fewer)", 0 },
    { 0 }
};

static const plume_param params[] = {
    { "n", PLUME_INT, "5", "how many documents to keep", PLUME_AT_LEAST(0) },
    { 0 }
};

static int take_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    take *s = state;
    s->n = plume_args_int(args, "n");
    return 0;
}

static int take_run(void *state, plume_batch *b, plume_error *err) {
    const take *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const plume_value *in = plume_batch_in(b, r, 0);
        plume_value *out = plume_batch_out(b, r, 0);
        plume_value_set_docs(out);
        for (size_t i = 0; i < in->as.docs.count && (long long)i < s->n; i++)
            if (plume_docs_push(out, &in->as.docs.items[i])) {
                plume_batch_fail(b, r, "out of memory");
                break;
            }
    }
    return 0;
}

const plume_stage docs_take = {
    .name = "docs.take",
    .doc = "Keeps the first n documents of a list, with their scores; the order is kept.",
    .inputs = inputs,
    .outputs = outputs,
    .params = params,
    .state_size = sizeof(take),
    .create = take_create,
    .run = take_run,
};
