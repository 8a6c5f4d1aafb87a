/* Fuzz target: bytes as a requests file (JSON Lines) through `plume run`'s path: the line
 * reader, the io.request stage, the docs.* stages on the profile, the result writer; and the
 * same bytes as a profile file through plume_docs_read_jsonl. The run must finish (0) or fail
 * with a message, and write one result line per non-blank request line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "plume/plume.h"

static plume_registry *reg;
static plume_graph *graph;

static const char graph_yaml[] =
    "plume: 1\n"
    "stages:\n"
    "  recent: { use: docs.take, in: { docs: profile }, out: { docs: recent }, with: { n: 2 } }\n"
    "  joined: { use: docs.join, in: { docs: recent }, out: { text: joined }, with: { max_chars: 300 } }\n"
    "output: [user, context, target, recent, joined]\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    plume_error err;
    if (!(reg = plume_registry_open(&err)) ||
        !(graph = plume_graph_parse(reg, graph_yaml, sizeof graph_yaml - 1, "fuzz.yaml", ".", NULL, 0, &err))) {
        fprintf(stderr, "fuzz_request: %s\n", err.msg);
        abort();
    }
    fuzz_quiet_stdout();   /* results go to stdout */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    const char *path = fuzz_file(data, size);
    if (!path) return 0;
    plume_error err;
    plume_run_options opt = plume_run_defaults();
    opt.data = path;
    opt.batch = 3;
    plume_run_report rep;
    if (plume_run(graph, &opt, &rep, &err) == 0) {
        if (rep.failed > rep.records) abort();
    } else if (!err.msg[0]) {
        abort();
    }
    plume_value docs = { 0 };
    if (plume_docs_read_jsonl(path, &docs, &err) == 0) plume_value_clear(&docs);
    else if (!err.msg[0]) abort();
    fuzz_file_close();
    return 0;
}
