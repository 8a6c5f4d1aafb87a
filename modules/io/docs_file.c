/* io.docs_file: the same documents for every record, read once from a JSON Lines file
 * (e.g. a shared corpus, or a profile kept apart from the requests). */
#include <stdlib.h>
#include "plume/plume.h"

typedef struct docs_file {
    plume_value docs;
} docs_file;

static const plume_port outputs[] = {
    { "docs", PLUME_DOCS, "the file's documents, in file order", 0 },
    { 0 }
};

static const plume_param params[] = {
    { "path", PLUME_STRING, NULL, "JSON Lines file, one {\"id\",\"title\",\"text\",\"time\"} per line",
      PLUME_NO_RANGE },
    { 0 }
};

static int docs_file_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    docs_file *s = state;
    return plume_docs_read_jsonl(plume_args_string(args, "path"), &s->docs, err);
}

static int docs_file_run(void *state, plume_batch *b, plume_error *err) {
    docs_file *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++)
        if (plume_value_copy(plume_batch_out(b, r, 0), &s->docs)) plume_batch_fail(b, r, "out of memory");
    return 0;
}

static void docs_file_destroy(void *state) {
    docs_file *s = state;
    plume_value_clear(&s->docs);
}

const plume_stage io_docs_file = {
    .name = "io.docs_file",
    .doc = "Gives every record the documents of one JSON Lines file, read once when the graph starts.",
    .outputs = outputs,
    .params = params,
    .state_size = sizeof(docs_file),
    .create = docs_file_create,
    .run = docs_file_run,
    .destroy = docs_file_destroy,
};
